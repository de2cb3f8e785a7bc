/* lv2host: the lilv/LV2 hosting the offline tools share (see lv2host.h). */
#include "lv2host.h"

#include "protocol.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/parameters/parameters.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
ch_tool_fail(const char* const prog, const char* const fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
}

#define fail(host, ...) ch_tool_fail((host)->prog, __VA_ARGS__)

/* URID map */

LV2_URID
ch_urids_map(LV2_URID_Map_Handle handle, const char* const uri)
{
  ChHostUrids* const map = (ChHostUrids*)handle;
  pthread_mutex_lock(&map->lock);
  for (uint32_t i = 0; i < map->n; ++i) {
    if (!strcmp(map->uris[i], uri)) {
      pthread_mutex_unlock(&map->lock);
      return i + 1u;
    }
  }
  LV2_URID id = 0; /* out of memory: LV2 says 0 is "no URID" */
  if (map->n == map->cap) {
    const uint32_t cap  = map->cap ? map->cap * 2u : 64u;
    char** const   uris = (char**)realloc(map->uris, cap * sizeof(char*));
    if (uris) {
      map->uris = uris;
      map->cap  = cap;
    }
  }
  char* const copy = map->n < map->cap ? strdup(uri) : NULL;
  if (copy) {
    map->uris[map->n] = copy;
    id                = ++map->n;
  }
  pthread_mutex_unlock(&map->lock);
  return id;
}

const char*
ch_urids_unmap(LV2_URID_Unmap_Handle handle, const LV2_URID urid)
{
  ChHostUrids* const map = (ChHostUrids*)handle;
  pthread_mutex_lock(&map->lock);
  const char* const uri =
    urid >= 1u && urid <= map->n ? map->uris[urid - 1u] : NULL;
  pthread_mutex_unlock(&map->lock);
  return uri;
}

void
ch_urids_clear(ChHostUrids* const map)
{
  for (uint32_t i = 0; i < map->n; ++i) {
    free(map->uris[i]);
  }
  free(map->uris);
  map->uris = NULL;
  map->n    = 0;
  map->cap  = 0;
}

LV2_URID
ch_host_map(ChHost* const host, const char* const uri)
{
  return host->map.map(host->map.handle, uri);
}

const char*
ch_host_unmap(const ChHost* const host, const LV2_URID urid)
{
  return host->unmap.unmap(host->unmap.handle, urid);
}

/* Log: the type is compared by URI, so that the host maps no URIDs of its
   own before the tool's. */

static bool
is_type(const ChHost* const host, const LV2_URID type, const char* const uri)
{
  const char* const name = ch_host_unmap(host, type);
  return name && !strcmp(name, uri);
}

static int
print_log(LV2_Log_Handle handle, LV2_URID type, const char* fmt, va_list args)
{
  ChHost* const host = (ChHost*)handle;
  va_list       copy;
  va_copy(copy, args);
  vsnprintf(host->last_log, sizeof(host->last_log), fmt, copy);
  va_end(copy);
  /* Errors during run() also arrive on notify, which the tools print with
     their time; the log would only repeat them. */
  if (is_type(host, type, LV2_LOG__Trace) && !host->verbose) {
    return 0;
  }
  if (host->in_run && is_type(host, type, LV2_LOG__Error) && !host->verbose) {
    return 0;
  }
  const char* label = "plugin: ";
  if (host->typed_log && is_type(host, type, LV2_LOG__Error)) {
    label = "plugin error: ";
  } else if (host->typed_log && is_type(host, type, LV2_LOG__Warning)) {
    label = "plugin warning: ";
  }
  fprintf(stderr, "%s: %s", host->prog, label);
  return vfprintf(stderr, fmt, args);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
printf_log(LV2_Log_Handle handle, LV2_URID type, const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  const int ret = print_log(handle, type, fmt, args);
  va_end(args);
  return ret;
}

/* The synchronous worker: work and its responses run at once, inside
   schedule_work, like Ardour's export (docs/protocol.md, "Threads").
   Commits therefore land inside run(). */

static LV2_Worker_Status
respond(LV2_Worker_Respond_Handle handle,
        const uint32_t            size,
        const void* const         data)
{
  ChHost* const host = (ChHost*)handle;
  return host->worker->work_response(lilv_instance_get_handle(host->instance),
                                     size, data);
}

static LV2_Worker_Status
schedule_work(LV2_Worker_Schedule_Handle handle,
              const uint32_t             size,
              const void* const          data)
{
  ChHost* const host = (ChHost*)handle;
  if (!host->worker) {
    return LV2_WORKER_ERR_UNKNOWN;
  }
  return host->worker->work(lilv_instance_get_handle(host->instance), respond,
                            host, size, data);
}

/* Setup */

void
ch_host_init(ChHost* const host, const char* const prog)
{
  memset(host, 0, sizeof(*host));
  host->urids = (ChHostUrids)CH_HOST_URIDS_INIT;
  host->prog  = prog;
  host->map   = (LV2_URID_Map){ &host->urids, ch_urids_map };
  host->unmap = (LV2_URID_Unmap){ &host->urids, ch_urids_unmap };
}

void
ch_host_use_world(ChHost* const           host,
                  LilvWorld* const        world,
                  const LilvPlugin* const plugin)
{
  host->world      = world;
  host->plugin     = plugin;
  host->owns_world = false;
}

bool
ch_host_load(ChHost* const host, const char* const bundle, const char* hint)
{
  LilvWorld* const world = host->world = lilv_world_new();
  if (!world) {
    return false;
  }
  host->owns_world = true;
  if (bundle) {
    char* const dir = realpath(bundle, NULL);
    if (!dir) {
      fail(host, "cannot open bundle '%s': %s%s", bundle, strerror(errno),
           hint ? hint : "");
      return false;
    }
    char* const slashed = (char*)malloc(strlen(dir) + 2u);
    if (!slashed) {
      free(dir);
      return false;
    }
    strcpy(slashed, dir);
    strcat(slashed, "/"); /* lilv wants bundle URIs to end with a slash */
    LilvNode* const uri = lilv_new_file_uri(world, NULL, slashed);
    lilv_world_load_bundle(world, uri);
    lilv_node_free(uri);
    free(slashed);
    free(dir);
  } else {
    lilv_world_load_all(world); /* LV2_PATH, or lilv's default path */
  }

  LilvNode* const uri = lilv_new_uri(world, CH_PLUGIN_URI);
  host->plugin =
    lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), uri);
  lilv_node_free(uri);
  if (!host->plugin) {
    fail(host, "plugin <%s> not found in %s", CH_PLUGIN_URI,
         bundle ? bundle : "LV2_PATH");
    return false;
  }
  return true;
}

static bool
check_features(const ChHost* const host, const LV2_Feature* const* features)
{
  LilvNodes* const required = lilv_plugin_get_required_features(host->plugin);
  bool             ok       = true;
  LILV_FOREACH(nodes, i, required)
  {
    const char* const uri   = lilv_node_as_uri(lilv_nodes_get(required, i));
    bool              found = false;
    for (int f = 0; features[f]; ++f) {
      found = found || !strcmp(features[f]->URI, uri);
    }
    if (!found) {
      fail(host, "the plugin requires <%s>, which this host does not provide",
           uri);
      ok = false;
    }
  }
  lilv_nodes_free(required);
  return ok;
}

/* Sets one instance option; returns where the next one goes. */
static LV2_Options_Option*
add_option(LV2_Options_Option* const opt,
           const LV2_URID            key,
           const uint32_t            size,
           const LV2_URID            type,
           const void* const         value)
{
  *opt =
    (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0, key, size, type, value };
  return opt + 1;
}

/* Fills host->features: ours, the caller's more_features, the worker.
   False if more_features holds more than there is room for. */
static bool
offer_features(ChHost* const host, const ChHostSettings* const settings)
{
  host->schedule = (LV2_Worker_Schedule){ host, schedule_work };
  host->log      = (LV2_Log_Log){ host, printf_log, print_log };
  const LV2_Worker_Schedule* const schedule =
    settings->schedule ? settings->schedule : &host->schedule;
  LV2_Feature* const f = host->feature_list;
  uint32_t           n = 0;
  f[n++]               = (LV2_Feature){ LV2_URID__map, &host->map };
  f[n++]               = (LV2_Feature){ LV2_URID__unmap, &host->unmap };
  f[n++]               = (LV2_Feature){ LV2_LOG__log, &host->log };
  f[n++]               = (LV2_Feature){ LV2_OPTIONS__options, host->options };
  f[n++] = (LV2_Feature){ LV2_BUF_SIZE__boundedBlockLength, NULL };
  for (const char* const* more = settings->more_features; more && *more;
       ++more) {
    if (n + 1u >= CH_HOST_MAX_FEATURES) { /* and the worker's place */
      fail(host, "more than %u features to offer", CH_HOST_MAX_FEATURES);
      return false;
    }
    f[n++] = (LV2_Feature){ *more, NULL };
  }
  if (!settings->no_worker) {
    f[n++] = (LV2_Feature){ LV2_WORKER__schedule, (void*)schedule };
  }
  for (uint32_t i = 0; i < n; ++i) {
    host->features[i] = &f[i];
  }
  host->features[n] = NULL;
  return true;
}

bool
ch_host_instantiate(ChHost* const host, const ChHostSettings* const settings)
{
  const LV2_URID atom_Float = ch_host_map(host, LV2_ATOM__Float);
  const LV2_URID atom_Int   = ch_host_map(host, LV2_ATOM__Int);
  host->rate                = (float)settings->rate;
  host->block_lengths[0]    = 1;
  host->block_lengths[1]    = (int32_t)settings->max_block;
  host->block_lengths[2]    = (int32_t)settings->nominal_block;
  host->sequence_size       = (int32_t)settings->sequence_size;

  /* Keys are mapped in the order the options are listed */
  LV2_Options_Option* opt = host->options;
  opt = add_option(opt, ch_host_map(host, LV2_PARAMETERS__sampleRate),
                   sizeof(float), atom_Float, &host->rate);
  opt = add_option(opt, ch_host_map(host, LV2_BUF_SIZE__minBlockLength),
                   sizeof(int32_t), atom_Int, &host->block_lengths[0]);
  opt = add_option(opt, ch_host_map(host, LV2_BUF_SIZE__maxBlockLength),
                   sizeof(int32_t), atom_Int, &host->block_lengths[1]);
  if (settings->nominal_block) {
    opt = add_option(opt, ch_host_map(host, LV2_BUF_SIZE__nominalBlockLength),
                     sizeof(int32_t), atom_Int, &host->block_lengths[2]);
  }
  opt = add_option(opt, ch_host_map(host, LV2_BUF_SIZE__sequenceSize),
                   sizeof(int32_t), atom_Int, &host->sequence_size);
  add_option(opt, 0, 0, 0, NULL); /* the end of the list */

  if (!offer_features(host, settings) ||
      (settings->check_features && !check_features(host, host->features))) {
    return false;
  }

  host->instance =
    lilv_plugin_instantiate(host->plugin, settings->rate, host->features);
  if (!host->instance) {
    fail(host, "cannot instantiate <%s>",
         lilv_node_as_uri(lilv_plugin_get_uri(host->plugin)));
    return false;
  }
  host->worker = (const LV2_Worker_Interface*)lilv_instance_get_extension_data(
    host->instance, LV2_WORKER__interface);
  return true;
}

void
ch_host_drop_instance(ChHost* const host)
{
  if (host->instance) {
    lilv_instance_free(host->instance);
    host->instance = NULL;
    host->worker   = NULL;
  }
}

void
ch_host_clear(ChHost* const host)
{
  ch_host_drop_instance(host);
  if (host->world && host->owns_world) {
    lilv_world_free(host->world);
  }
  host->world  = NULL;
  host->plugin = NULL;
  ch_urids_clear(&host->urids);
}

/* Ports */

/* Files port `i` under what it is; false for a type we do not know. */
static bool
sort_port(const ChHost* const host,
          ChHostPorts* const  ports,
          const uint32_t      i,
          LilvNode* const     types[5])
{
  const LilvPlugin* const plugin = host->plugin;
  const LilvPort* const   port   = lilv_plugin_get_port_by_index(plugin, i);
  const bool              in     = lilv_port_is_a(plugin, port, types[0]);
  if (lilv_port_is_a(plugin, port, types[3])) {
    ports->is_control[i] = true;
    ports->defaults[i] = isnan(ports->defaults[i]) ? 0.0f : ports->defaults[i];
  } else if (lilv_port_is_a(plugin, port, types[4])) {
    uint32_t* const which = in ? &ports->control : &ports->notify;
    *which                = *which == UINT32_MAX ? i : *which;
  } else if (lilv_port_is_a(plugin, port, types[2]) && !in) {
    uint32_t* const which =
      ports->out[0] == UINT32_MAX ? &ports->out[0] : &ports->out[1];
    *which = *which == UINT32_MAX ? i : *which;
  } else if (!lilv_port_is_a(plugin, port, types[1]) &&
             !lilv_port_is_a(plugin, port, types[2])) {
    fail(host, "port %u of the plugin has a type this host does not know", i);
    return false;
  }
  return true;
}

bool
ch_host_find_ports(const ChHost* const host, ChHostPorts* const ports)
{
  const uint32_t n  = lilv_plugin_get_num_ports(host->plugin);
  *ports            = (ChHostPorts){ n,          NULL,       NULL,
                                     UINT32_MAX, UINT32_MAX, { UINT32_MAX, UINT32_MAX } };
  ports->defaults   = (float*)calloc(n + 1u, sizeof(float));
  ports->is_control = (bool*)calloc(n + 1u, sizeof(bool));
  if (!ports->defaults || !ports->is_control) {
    fail(host, "out of memory");
    return false;
  }
  lilv_plugin_get_port_ranges_float(host->plugin, NULL, NULL, ports->defaults);
  LilvWorld* const world    = host->world;
  LilvNode* const  types[5] = {
     lilv_new_uri(world, LV2_CORE__InputPort),
     lilv_new_uri(world, LV2_CORE__OutputPort),
     lilv_new_uri(world, LV2_CORE__AudioPort),
     lilv_new_uri(world, LV2_CORE__ControlPort),
     lilv_new_uri(world, LV2_ATOM__AtomPort),
  };
  bool ok = true;
  for (uint32_t i = 0; i < n; ++i) {
    ok = sort_port(host, ports, i, types) && ok;
  }
  for (int t = 0; t < 5; ++t) {
    lilv_node_free(types[t]);
  }
  if (ports->control == UINT32_MAX || ports->notify == UINT32_MAX ||
      ports->out[1] == UINT32_MAX) {
    fail(host, "the plugin lacks an atom input, an atom output or two audio "
               "outputs");
    ok = false;
  }
  return ok;
}

void
ch_host_ports_free(ChHostPorts* const ports)
{
  free(ports->defaults);
  free(ports->is_control);
  ports->defaults   = NULL;
  ports->is_control = NULL;
}

int32_t
ch_host_port_by_symbol(const ChHost* const host, const char* const symbol)
{
  LilvNode* const       node = lilv_new_string(host->world, symbol);
  const LilvPort* const port =
    lilv_plugin_get_port_by_symbol(host->plugin, node);
  lilv_node_free(node);
  return port ? (int32_t)lilv_port_get_index(host->plugin, port) : -1;
}

bool
ch_host_io_find_ports(ChHost* const host, ChHostIo* const io)
{
  if (!ch_host_find_ports(host, &io->ports)) {
    return false;
  }
  io->values = (float*)calloc(io->ports.n + 1u, sizeof(float));
  if (!io->values) {
    fail(host, "out of memory");
    return false;
  }
  memcpy(io->values, io->ports.defaults, io->ports.n * sizeof(float));
  return true;
}

bool
ch_host_io_alloc(ChHost* const   host,
                 ChHostIo* const io,
                 const uint32_t  block,
                 const uint32_t  control_size,
                 const uint32_t  notify_size)
{
  io->notify = (LV2_Atom_Sequence*)calloc(1, notify_size);
  io->out[0] = (float*)calloc(block, sizeof(float));
  io->out[1] = (float*)calloc(block, sizeof(float));
  io->dummy  = (float*)calloc(block, sizeof(float));
  if (!ch_host_control_init(&io->control, control_size,
                            ch_host_map(host, LV2_ATOM__Sequence)) ||
      !io->notify || !io->out[0] || !io->out[1] || !io->dummy) {
    fail(host, "out of memory");
    return false;
  }
  return true;
}

void
ch_host_connect_ports(ChHost* const            host,
                      const ChHostPorts* const ports,
                      ChHostControl* const     control,
                      void* const              notify,
                      float* const             out[2],
                      float* const             values,
                      float* const             dummy)
{
  control->port = ports->control;
  for (uint32_t i = 0; i < ports->n; ++i) {
    void* buffer = dummy;
    if (i == ports->control) {
      buffer = control->seq;
    } else if (i == ports->notify) {
      buffer = notify;
    } else if (i == ports->out[0] || i == ports->out[1]) {
      buffer = out[i == ports->out[1]];
    } else if (ports->is_control[i]) {
      buffer = &values[i];
    }
    lilv_instance_connect_port(host->instance, i, buffer);
  }
}

void
ch_host_io_connect(ChHost* const host, ChHostIo* const io)
{
  ch_host_connect_ports(host, &io->ports, &io->control, io->notify, io->out,
                        io->values, io->dummy);
}

void
ch_host_io_free(ChHostIo* const io)
{
  ch_host_ports_free(&io->ports);
  free(io->values);
  ch_host_control_free(&io->control);
  free(io->notify);
  free(io->out[0]);
  free(io->out[1]);
  free(io->dummy);
}

/* Atom sequences */

void
ch_host_seq_clear(LV2_Atom_Sequence* const seq, const LV2_URID sequence)
{
  seq->atom.type = sequence;
  seq->atom.size = sizeof(LV2_Atom_Sequence_Body);
  seq->body.unit = 0;
  seq->body.pad  = 0;
}

uint32_t
ch_host_seq_need(const LV2_Atom_Sequence* const seq, const uint32_t size)
{
  return (uint32_t)sizeof(LV2_Atom) + seq->atom.size +
         lv2_atom_pad_size((uint32_t)sizeof(LV2_Atom_Event) + size);
}

void
ch_host_seq_append(LV2_Atom_Sequence* const seq,
                   const int64_t            frames,
                   const LV2_URID           type,
                   const void* const        body,
                   const uint32_t           size)
{
  LV2_Atom_Event* const ev =
    (LV2_Atom_Event*)((uint8_t*)seq + sizeof(LV2_Atom) + seq->atom.size);
  ev->time.frames = frames;
  ev->body.type   = type;
  ev->body.size   = size;
  memcpy(ev + 1, body, size);
  seq->atom.size += lv2_atom_pad_size((uint32_t)sizeof(LV2_Atom_Event) + size);
}

void
ch_host_answers_begin(ChHostAnswers* const           answers,
                      const ChUris* const            uris,
                      const LV2_Atom_Sequence* const notify)
{
  const uint64_t size = sizeof(LV2_Atom) + (uint64_t)notify->atom.size;
  answers->uris       = uris;
  answers->ok         = ch_seq_begin(uris, notify, size, &answers->it);
}

bool
ch_host_answers_next(ChHostAnswers* const answers,
                     ChMsg* const         msg,
                     int64_t* const       frame)
{
  uint32_t              room = 0;
  const LV2_Atom_Event* ev   = NULL;
  while (answers->ok && (ev = ch_seq_next(&answers->it, &room))) {
    ChMsgFault fault;
    if (!ch_msg_read(answers->uris, &ev->body, room, msg, &fault)) {
      *frame = ev->time.frames;
      return true;
    }
  }
  return false;
}

bool
ch_host_control_init(ChHostControl* const control,
                     const uint32_t       cap,
                     const LV2_URID       sequence)
{
  control->seq  = (LV2_Atom_Sequence*)calloc(1, cap);
  control->cap  = control->seq ? cap : 0u;
  control->port = 0u;
  if (control->seq) {
    ch_host_control_clear(control, sequence);
  }
  return control->seq != NULL;
}

void
ch_host_control_clear(ChHostControl* const control, const LV2_URID sequence)
{
  ch_host_seq_clear(control->seq, sequence);
}

bool
ch_host_control_add(ChHost* const        host,
                    ChHostControl* const control,
                    const int64_t        frames,
                    const LV2_URID       type,
                    const void* const    body,
                    const uint32_t       size)
{
  const uint32_t need = ch_host_seq_need(control->seq, size);
  if (need > control->cap) {
    uint32_t cap = control->cap;
    while (cap < need) {
      cap *= 2u;
    }
    void* const grown = realloc(control->seq, cap);
    if (!grown) {
      return false;
    }
    control->seq = (LV2_Atom_Sequence*)grown;
    control->cap = cap;
    lilv_instance_connect_port(host->instance, control->port, grown);
  }
  ch_host_seq_append(control->seq, frames, type, body, size);
  return true;
}

void
ch_host_control_free(ChHostControl* const control)
{
  free(control->seq);
  control->seq = NULL;
  control->cap = 0u;
}

/* Running */

double
ch_host_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double
ch_host_run(ChHost* const            host,
            LV2_Atom_Sequence* const notify,
            const uint32_t           notify_size,
            const uint32_t           n)
{
  if (!host->atom_Chunk) { /* mapped late: the tool's URIDs come first */
    host->atom_Chunk = ch_host_map(host, LV2_ATOM__Chunk);
  }
  notify->atom.type  = host->atom_Chunk;
  notify->atom.size  = notify_size - (uint32_t)sizeof(LV2_Atom);
  host->in_run       = true;
  const double start = ch_host_now_ns();
  lilv_instance_run(host->instance, n);
  const double ns = ch_host_now_ns() - start;
  if (host->worker && host->worker->end_run) {
    host->worker->end_run(lilv_instance_get_handle(host->instance));
  }
  host->in_run = false;
  return ns;
}
