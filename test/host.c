/* A small lilv host for plugin tests (see host.h): features, worker modes,
   a timeline of control events, audio capture and notify parsing. */
#include "host.h"

#include "../src/ring.h"
#include "lib/lv2host.h"
#include "protocol.h"
#include "rtcheck.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PLUGIN_URI "urn:chronus:synth"
#define NS_CH      "urn:chronus:"

#define CONTROL_SIZE    (1024u * 1024u)      /* control port buffer, bytes */
#define NOTIFY_SIZE     (64u * 1024u)        /* notify port buffer, bytes */
#define POOL_SIZE       (4u * 1024u * 1024u) /* queued control events */
#define SCRATCH_SIZE    (512u * 1024u)       /* one message being forged */
#define MAX_PENDING     65536u
#define WORK_RING_SIZE  (1u << 20)
#define WORK_LOG_SIZE   (1u << 16)
#define WORK_MAX_MSG    4096u
#define SLOW_DELAY_NS   30000000L
#define POLL_NS         500000L
#define DEFAULT_CAPTURE (20u * 48000u)

/* URID map: one table for the whole process (lv2host's, which is safe
   from any thread), so that hosts and saved states share URIDs. */

static ChHostUrids    urids         = CH_HOST_URIDS_INIT;
static LV2_URID_Map   map_feature   = { &urids, ch_urids_map };
static LV2_URID_Unmap unmap_feature = { &urids, ch_urids_unmap };

LV2_URID
host_map(const char* uri)
{
  return ch_urids_map(&urids, uri);
}

/* The world, loaded once. */

static LilvWorld*        world;
static const LilvPlugin* plugin;
static pthread_once_t    world_once = PTHREAD_ONCE_INIT;

static void
load_world(void)
{
  world = lilv_world_new();
  lilv_world_load_specifications(world);
  lilv_world_load_plugin_classes(world);
  /* CH_TEST_BUNDLE (a directory, with its trailing slash) tests another
     build of the bundle, e.g. a deliberately broken one. */
  const char* const dir = getenv("CH_TEST_BUNDLE");
  LilvNode* const   bundle =
    lilv_new_file_uri(world, NULL, dir ? dir : CH_BUNDLE_DIR "/");
  lilv_world_load_bundle(world, bundle);
  lilv_node_free(bundle);
  LilvNode* const uri = lilv_new_uri(world, PLUGIN_URI);
  plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), uri);
  lilv_node_free(uri);
  if (!plugin) {
    fprintf(stderr, "host: %s not found in %s\n", PLUGIN_URI, CH_BUNDLE_DIR);
  }
}

LilvWorld*
host_world(void)
{
  pthread_once(&world_once, load_world);
  return world;
}

const LilvPlugin*
host_plugin(void)
{
  pthread_once(&world_once, load_world);
  return plugin;
}

/* The worker's queues are the engine's lock-free rings (src/ring.h). */

/* Copy the next record (at most `cap` bytes kept) out and drop it; its
   size, or -1 if there is none.  Consumer only. */
static int64_t
ring_take(ChRing* r, void* data, uint32_t cap)
{
  uint32_t          n   = 0;
  const void* const rec = ch_ring_peek(r, &n);
  if (!rec) {
    return -1;
  }
  memcpy(data, rec, n < cap ? n : cap);
  ch_ring_pop(r);
  return n;
}

/* Nothing written that is not read yet: from either side. */
static bool
ring_empty(const ChRing* r)
{
  return atomic_load_explicit(&r->head, memory_order_acquire) ==
         atomic_load_explicit(&r->tail, memory_order_acquire);
}

/* The host */

typedef struct {
  int64_t  frame; /* absolute */
  uint32_t order;
  uint32_t offset; /* into the pool */
  uint32_t size;   /* of the atom, header included */
} Pending;

struct HostImpl {
  HostWorkerMode mode;
  ChUris         uris;
  ChHost         lv2; /* the instance, its features and options */

  /* Our worker, which lv2 offers the plugin */
  LV2_Worker_Schedule schedule;

  /* Ports, as lv2host sorts and connects them */
  ChHostPorts        ports;
  float*             values; /* per port: a control port's value */
  float*             dummy;  /* for any port we do not know */
  ChHostControl      control_port;
  LV2_Atom_Sequence* control;
  LV2_Atom_Sequence* notify;
  uint32_t           notify_size;
  float*             scratch_l;
  float*             scratch_r;

  /* Capture */
  float* cap_l;
  float* cap_r;
  size_t cap_size;
  size_t captured;

  /* Timeline */
  LV2_Atom_Forge forge;
  uint8_t*       scratch;
  uint8_t*       pool;
  uint32_t       pool_used;
  Pending*       pending;
  uint32_t       n_pending;
  uint32_t       order;
  Pending*       batch;

  /* Counters */
  _Atomic uint64_t cycles_started;
  uint64_t         cycles;
  uint64_t         frames;

  const void* raw_control; /* host_run_raw(): the control port as given */
  uint32_t    raw_size;

  /* Answers */
  char*       patch_text; /* ch:Patch pieces so far */
  uint32_t    patch_have;
  uint32_t    patch_pieces;
  unsigned    patch_errors;
  unsigned    notify_faults;
  HostAnswer* answers;
  size_t      n_answers;
  size_t      cap_answers;

  /* Worker */
  ChRing           work_ring;  /* run() -> worker */
  ChRing           reply_ring; /* worker -> after run() */
  pthread_t        thread;
  bool             thread_started;
  _Atomic bool     stop;
  _Atomic bool     busy;
  _Atomic uint64_t work_done;
  int64_t*         work_log; /* return cycle of each work() call */
  uint8_t*         work_msg;
  uint8_t*         reply_msg;

  /* Real-time checking */
  bool     rtcheck;
  bool     rt_watching;
  unsigned rt_violations;
  char     rt_first[64];
  uint64_t rt_checked;
};

/* Real-time watching, paused around work done synchronously in run(). */

static void
rt_collect(Host* h)
{
  const unsigned v = rtcheck_end();
  if (v && !h->rt_violations) {
    strncpy(h->rt_first, rtcheck_first(), sizeof(h->rt_first) - 1u);
  }
  h->rt_violations += v;
}

/* Worker */

static void
sleep_ns(long ns)
{
  const struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
  nanosleep(&ts, NULL);
}

static void
note_work_done(Host* h)
{
  const uint64_t started             = atomic_load(&h->cycles_started);
  const uint64_t index               = atomic_load(&h->work_done);
  h->work_log[index % WORK_LOG_SIZE] = (int64_t)started - 1;
  atomic_store(&h->work_done, index + 1u);
}

static LV2_Worker_Status
respond_threaded(LV2_Worker_Respond_Handle handle,
                 uint32_t                  size,
                 const void*               data)
{
  Host* const h = (Host*)handle;
  return ch_ring_write(&h->reply_ring, data, size, NULL, 0)
           ? LV2_WORKER_SUCCESS
           : LV2_WORKER_ERR_NO_SPACE;
}

static LV2_Worker_Status
respond_sync(LV2_Worker_Respond_Handle handle, uint32_t size, const void* data)
{
  Host* const h = (Host*)handle;
  return h->lv2.worker->work_response(lilv_instance_get_handle(h->lv2.instance),
                                      size, data);
}

static void*
worker_main(void* arg)
{
  Host* const h = (Host*)arg;
  while (!atomic_load(&h->stop)) {
    if (ring_empty(&h->work_ring)) {
      sleep_ns(POLL_NS);
      continue;
    }
    atomic_store(&h->busy, true); /* before the ring looks empty */
    const uint32_t n =
      (uint32_t)ring_take(&h->work_ring, h->work_msg, WORK_MAX_MSG);
    if (h->mode == HOST_WORKER_SLOW) {
      sleep_ns(SLOW_DELAY_NS);
    }
    h->lv2.worker->work(lilv_instance_get_handle(h->lv2.instance),
                        respond_threaded, h,
                        n < WORK_MAX_MSG ? n : WORK_MAX_MSG, h->work_msg);
    note_work_done(h);
    atomic_store(&h->busy, false);
  }
  return NULL;
}

static LV2_Worker_Status
schedule_work(LV2_Worker_Schedule_Handle handle,
              uint32_t                   size,
              const void*                data)
{
  Host* const h = (Host*)handle;
  if (h->mode == HOST_WORKER_SYNC) {
    if (h->rt_watching) {
      rt_collect(h);
    }
    rtcheck_pause(); /* run() is real-time; this host's work is not */
    const LV2_Worker_Status st = h->lv2.worker->work(
      lilv_instance_get_handle(h->lv2.instance), respond_sync, h, size, data);
    rtcheck_resume();
    note_work_done(h);
    if (h->rt_watching) {
      rtcheck_begin();
    }
    return st;
  }
  if (size > WORK_MAX_MSG) {
    return LV2_WORKER_ERR_NO_SPACE;
  }
  return ch_ring_write(&h->work_ring, data, size, NULL, 0)
           ? LV2_WORKER_SUCCESS
           : LV2_WORKER_ERR_NO_SPACE;
}

/* Creation */

/* The value of the control port `symbol`, or NULL if there is none. */
static float*
control_value(const Host* h, const char* symbol)
{
  const int32_t i = ch_host_port_by_symbol(&h->lv2, symbol);
  return i >= 0 && h->ports.is_control[i] ? &h->values[i] : NULL;
}

/* The plugin's ports, sorted by lv2host, each control port at its default;
   checked by symbol too, so that the TTL is.  False (said) if one of those
   the tests use is missing or not what its symbol says. */
static bool
find_ports(Host* h)
{
  static const char* const controls[] = {
    "gain",   "program", "limiter", "osc_port", "macro1", "macro2",
    "macro3", "macro4",  "macro5",  "macro6",   "macro7", "macro8",
  };
  if (!ch_host_find_ports(&h->lv2, &h->ports)) {
    return false;
  }
  h->values = (float*)calloc(h->ports.n + 1u, sizeof(float));
  memcpy(h->values, h->ports.defaults, (h->ports.n + 1u) * sizeof(float));
  bool ok =
    ch_host_port_by_symbol(&h->lv2, "control") == (int32_t)h->ports.control &&
    ch_host_port_by_symbol(&h->lv2, "notify") == (int32_t)h->ports.notify &&
    ch_host_port_by_symbol(&h->lv2, "out_l") == (int32_t)h->ports.out[0] &&
    ch_host_port_by_symbol(&h->lv2, "out_r") == (int32_t)h->ports.out[1];
  for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); ++i) {
    if (!control_value(h, controls[i])) {
      fprintf(stderr, "host: the plugin has no control port '%s'\n",
              controls[i]);
      ok = false;
    }
  }
  if (!ok) {
    fprintf(stderr, "host: the plugin's ports are not as the tests expect\n");
  }
  return ok;
}

Host*
host_new(HostWorkerMode worker)
{
  const HostOptions options = { worker, 0, false, 0 };
  return host_new_with(&options);
}

Host*
host_new_with(const HostOptions* o)
{
  if (!host_plugin()) {
    return NULL;
  }
  Host* const h = (Host*)calloc(1, sizeof(Host));
  h->mode       = o->worker;
  h->rtcheck    = o->rtcheck;
  ch_uris_map(&h->uris, &map_feature);

  /* Features: lv2host's (its log prints everything), with our URID table
     and worker */
  ch_host_init(&h->lv2, "host");
  h->lv2.map       = map_feature;
  h->lv2.unmap     = unmap_feature;
  h->lv2.verbose   = true;
  h->lv2.typed_log = true;
  ch_host_use_world(&h->lv2, host_world(), host_plugin());
  h->schedule.handle        = h;
  h->schedule.schedule_work = schedule_work;

  /* Buffers */
  h->cap_size    = o->capture_frames ? o->capture_frames : DEFAULT_CAPTURE;
  h->cap_l       = (float*)calloc(h->cap_size, sizeof(float));
  h->cap_r       = (float*)calloc(h->cap_size, sizeof(float));
  h->scratch_l   = (float*)calloc(HOST_MAX_BLOCK, sizeof(float));
  h->scratch_r   = (float*)calloc(HOST_MAX_BLOCK, sizeof(float));
  h->dummy       = (float*)calloc(HOST_MAX_BLOCK, sizeof(float));
  h->control     = (LV2_Atom_Sequence*)calloc(1, CONTROL_SIZE);
  h->notify_size = o->notify_size ? o->notify_size : NOTIFY_SIZE;
  h->notify      = (LV2_Atom_Sequence*)calloc(1, h->notify_size);
  h->scratch     = (uint8_t*)calloc(1, SCRATCH_SIZE);
  h->pool        = (uint8_t*)calloc(1, POOL_SIZE);
  h->pending     = (Pending*)calloc(MAX_PENDING, sizeof(Pending));
  h->batch       = (Pending*)calloc(MAX_PENDING, sizeof(Pending));
  h->cap_answers = 16384u;
  h->answers     = (HostAnswer*)calloc(h->cap_answers, sizeof(HostAnswer));
  h->work_log    = (int64_t*)calloc(WORK_LOG_SIZE, sizeof(int64_t));
  h->work_msg    = (uint8_t*)calloc(1, WORK_MAX_MSG);
  h->reply_msg   = (uint8_t*)calloc(1, WORK_MAX_MSG);
  ch_ring_init(&h->work_ring, WORK_RING_SIZE);
  ch_ring_init(&h->reply_ring, WORK_RING_SIZE);
  lv2_atom_forge_init(&h->forge, &map_feature);
  atomic_init(&h->cycles_started, 0u);
  atomic_init(&h->stop, false);
  atomic_init(&h->busy, false);
  atomic_init(&h->work_done, 0u);

  const bool           ok       = find_ports(h);
  const ChHostSettings settings = {
    .rate          = (uint32_t)HOST_RATE,
    .max_block     = HOST_MAX_BLOCK,
    .sequence_size = CONTROL_SIZE,
    .no_worker     = h->mode == HOST_WORKER_NONE,
    .schedule      = &h->schedule,
  };
  if (!ok || !ch_host_instantiate(&h->lv2, &settings)) {
    host_free(h);
    return NULL;
  }
  if (h->mode != HOST_WORKER_NONE && !h->lv2.worker) {
    fprintf(stderr, "host: the plugin has no worker interface\n");
    host_free(h);
    return NULL;
  }

  h->control_port     = (ChHostControl){ h->control, CONTROL_SIZE, 0 };
  float* const out[2] = { h->scratch_l, h->scratch_r };
  ch_host_connect_ports(&h->lv2, &h->ports, &h->control_port, h->notify, out,
                        h->values, h->dummy);
  lilv_instance_activate(h->lv2.instance);

  if (h->mode == HOST_WORKER_THREADED || h->mode == HOST_WORKER_SLOW) {
    h->thread_started = !pthread_create(&h->thread, NULL, worker_main, h);
  }
  return h;
}

void
host_free(Host* h)
{
  if (!h) {
    return;
  }
  if (h->thread_started) {
    host_wait_idle(h);
    atomic_store(&h->stop, true);
    pthread_join(h->thread, NULL);
  }
  if (h->lv2.instance) {
    lilv_instance_deactivate(h->lv2.instance);
  }
  ch_host_clear(&h->lv2);
  ch_host_ports_free(&h->ports);
  free(h->values);
  free(h->dummy);
  host_clear_answers(h);
  free(h->answers);
  free(h->patch_text);
  free(h->cap_l);
  free(h->cap_r);
  free(h->scratch_l);
  free(h->scratch_r);
  free(h->control);
  free(h->notify);
  free(h->scratch);
  free(h->pool);
  free(h->pending);
  free(h->batch);
  free(h->work_log);
  free(h->work_msg);
  free(h->reply_msg);
  ch_ring_destroy(&h->work_ring);
  ch_ring_destroy(&h->reply_ring);
  free(h);
}

/* Timeline */

/* Queue the atom just forged in the scratch buffer. */
static void
enqueue(Host* h, int64_t frame)
{
  const LV2_Atom* const atom = (const LV2_Atom*)h->scratch;
  const uint32_t        size = (uint32_t)sizeof(LV2_Atom) + atom->size;
  const uint32_t        need = lv2_atom_pad_size(size);
  if (h->pool_used + need > POOL_SIZE) {
    /* Compact: move what is still pending to the front. */
    uint32_t used = 0;
    for (uint32_t i = 0; i < h->n_pending; ++i) {
      memmove(h->pool + used, h->pool + h->pending[i].offset,
              h->pending[i].size);
      h->pending[i].offset = used;
      used += lv2_atom_pad_size(h->pending[i].size);
    }
    h->pool_used = used;
  }
  if (h->pool_used + need > POOL_SIZE || h->n_pending == MAX_PENDING) {
    fprintf(stderr, "host: too many queued events\n");
    abort();
  }
  memcpy(h->pool + h->pool_used, atom, size);
  h->pending[h->n_pending++] =
    (Pending){ (int64_t)h->frames + frame, h->order++, h->pool_used, size };
  h->pool_used += need;
}

static void
forge_start(Host* h)
{
  lv2_atom_forge_set_buffer(&h->forge, h->scratch, SCRATCH_SIZE);
}

void
host_midi(Host* h, int64_t frame, const uint8_t* msg, uint32_t size)
{
  forge_start(h);
  lv2_atom_forge_atom(&h->forge, size, h->uris.midi_Event);
  lv2_atom_forge_write(&h->forge, msg, size);
  enqueue(h, frame);
}

void
host_note_on(Host* h, int64_t frame, uint8_t note, uint8_t velocity)
{
  const uint8_t msg[3] = { 0x90, note, velocity };
  host_midi(h, frame, msg, 3u);
}

void
host_note_off(Host* h, int64_t frame, uint8_t note)
{
  const uint8_t msg[3] = { 0x80, note, 0 };
  host_midi(h, frame, msg, 3u);
}

/* Queue `msg`, written by the protocol module's one encoder. */
static void
send_msg(Host* h, int64_t frame, int32_t seq, ChMsg* msg)
{
  msg->has_seq = seq != HOST_NO_SEQ;
  msg->seq     = msg->has_seq ? seq : 0;
  forge_start(h);
  if (!ch_msg_write(&h->forge, &h->uris, msg)) {
    fprintf(stderr, "host: message too large for the scratch buffer\n");
    abort();
  }
  enqueue(h, frame);
}

void
host_raw(Host* h, int64_t frame, const void* atom, uint32_t size)
{
  if (size > SCRATCH_SIZE || size < sizeof(LV2_Atom)) {
    fprintf(stderr, "host: bad raw atom size %u\n", size);
    abort();
  }
  memcpy(h->scratch, atom, size);
  enqueue(h, frame);
}

uint32_t
host_encode(Host* h, const ChMsg* msg, void* buf, uint32_t size)
{
  LV2_Atom_Forge forge = h->forge;
  lv2_atom_forge_set_buffer(&forge, (uint8_t*)buf, size);
  return ch_msg_write(&forge, &h->uris, msg)
           ? (uint32_t)sizeof(LV2_Atom) + ((const LV2_Atom*)buf)->size
           : 0u;
}

const ChUris*
host_uris(const Host* h)
{
  return &h->uris;
}

void
host_create(Host*       h,
            int64_t     frame,
            int32_t     seq,
            const char* module,
            const char* kind)
{
  ChMsg msg       = ch_msg_init(CH_MSG_CREATE);
  msg.module      = module;
  msg.module_kind = kind;
  send_msg(h, frame, seq, &msg);
}

void
host_delete(Host* h, int64_t frame, int32_t seq, const char* module)
{
  ChMsg msg  = ch_msg_init(CH_MSG_DELETE);
  msg.module = module;
  send_msg(h, frame, seq, &msg);
}

static void
link_message(Host*       h,
             ChMsgKind   kind,
             int64_t     frame,
             int32_t     seq,
             const char* from,
             const char* to)
{
  ChMsg msg = ch_msg_init(kind);
  msg.from  = from;
  msg.to    = to;
  send_msg(h, frame, seq, &msg);
}

void
host_connect(Host*       h,
             int64_t     frame,
             int32_t     seq,
             const char* from,
             const char* to)
{
  link_message(h, CH_MSG_CONNECT, frame, seq, from, to);
}

void
host_disconnect(Host*       h,
                int64_t     frame,
                int32_t     seq,
                const char* from,
                const char* to)
{
  link_message(h, CH_MSG_DISCONNECT, frame, seq, from, to);
}

void
host_set(Host*       h,
         int64_t     frame,
         int32_t     seq,
         const char* module,
         const char* param,
         float       value)
{
  ChMsg msg = ch_msg_set(module, param, value);
  send_msg(h, frame, seq, &msg);
}

void
host_gate(Host* h, int64_t frame, int32_t seq, const char* module, bool on)
{
  ChMsg msg  = ch_msg_init(CH_MSG_GATE);
  msg.module = module;
  msg.value  = on ? 1.0f : 0.0f;
  send_msg(h, frame, seq, &msg);
}

void
host_commit(Host* h, int64_t frame, int32_t seq)
{
  host_commit_with(h, frame, seq, -1.0f, CH_QUANTIZE_NONE); /* the defaults */
}

void
host_commit_with(Host*    h,
                 int64_t  frame,
                 int32_t  seq,
                 float    fade,
                 uint32_t quantize)
{
  ChMsg msg    = ch_msg_init(CH_MSG_COMMIT);
  msg.fade     = fade;
  msg.quantize = quantize;
  send_msg(h, frame, seq, &msg);
}

void
host_send(Host* h, int64_t frame, int32_t seq, const ChMsg* msg)
{
  ChMsg copy = *msg;
  send_msg(h, frame, seq, &copy);
}

void
host_abort(Host* h, int64_t frame, int32_t seq)
{
  ChMsg msg = ch_msg_init(CH_MSG_ABORT);
  send_msg(h, frame, seq, &msg);
}

/* A patch as Turtle `text` or in the file at `path` (the other NULL): a
   message of `kind` (ch:Load, or patch:Set of `property`). */
static void
patch_message(Host*       h,
              ChMsgKind   kind,
              int64_t     frame,
              int32_t     seq,
              LV2_URID    property,
              const char* text,
              const char* path)
{
  ChMsg msg    = ch_msg_init(kind);
  msg.property = property;
  msg.text     = text;
  msg.file     = path;
  send_msg(h, frame, seq, &msg);
}

void
host_load(Host* h, int64_t frame, int32_t seq, const char* turtle)
{
  patch_message(h, CH_MSG_LOAD, frame, seq, 0, turtle, NULL);
}

void
host_load_file(Host* h, int64_t frame, int32_t seq, const char* path)
{
  patch_message(h, CH_MSG_LOAD, frame, seq, 0, NULL, path);
}

void
host_patch_set(Host* h, int64_t frame, int32_t seq, const char* turtle)
{
  patch_message(h, CH_MSG_PUT, frame, seq, h->uris.ch_patch, turtle, NULL);
}

void
host_patch_set_file(Host* h, int64_t frame, int32_t seq, const char* path)
{
  patch_message(h, CH_MSG_PUT, frame, seq, h->uris.ch_patchFile, NULL, path);
}

/* patch:Get of `property` (0: the whole patch). */
static void
get_message(Host* h, int64_t frame, int32_t seq, LV2_URID property)
{
  ChMsg msg    = ch_msg_init(CH_MSG_GET);
  msg.property = property;
  send_msg(h, frame, seq, &msg);
}

void
host_patch_get(Host* h, int64_t frame, int32_t seq)
{
  get_message(h, frame, seq, 0);
}

void
host_get(Host* h, int64_t frame, int32_t seq, const char* uri)
{
  get_message(h, frame, seq, host_map(uri));
}

void
host_probe(Host*       h,
           int64_t     frame,
           int32_t     seq,
           const char* module,
           const char* port)
{
  ChMsg msg  = ch_msg_init(CH_MSG_PROBE);
  msg.module = module;
  msg.port   = port;
  send_msg(h, frame, seq, &msg);
}

void
host_message(Host* h, int64_t frame, int32_t seq, const char* otype_uri)
{
  ChMsg msg = ch_msg_init(CH_MSG_UNKNOWN);
  msg.otype = host_map(otype_uri);
  send_msg(h, frame, seq, &msg);
}

void
host_set_port(Host* h, const char* symbol, float value)
{
  float* const port = control_value(h, symbol);
  if (!port) {
    fprintf(stderr, "host: no control port '%s'\n", symbol);
    abort();
  }
  *port = value;
}

void
host_unplug_port(Host* h, const char* symbol)
{
  if (!control_value(h, symbol)) {
    fprintf(stderr, "host: no control port '%s'\n", symbol);
    abort();
  }
  lilv_instance_connect_port(
    h->lv2.instance, (uint32_t)ch_host_port_by_symbol(&h->lv2, symbol), NULL);
}

/* Write the events due in the next `n` frames into the control port. */
static void
fill_control(Host* h, uint32_t n)
{
  const int64_t end     = (int64_t)h->frames + n;
  uint32_t      n_batch = 0;
  uint32_t      kept    = 0;
  for (uint32_t i = 0; i < h->n_pending; ++i) {
    if (h->pending[i].frame < end) {
      h->batch[n_batch++] = h->pending[i];
    } else {
      h->pending[kept++] = h->pending[i];
    }
  }
  h->n_pending = kept;

  /* Stable insertion sort by frame (the queue is in insertion order). */
  for (uint32_t i = 1; i < n_batch; ++i) {
    const Pending p = h->batch[i];
    uint32_t      j = i;
    while (j > 0 && h->batch[j - 1u].frame > p.frame) {
      h->batch[j] = h->batch[j - 1u];
      --j;
    }
    h->batch[j] = p;
  }

  h->control->atom.type = h->uris.atom_Sequence;
  h->control->body.unit = 0;
  h->control->body.pad  = 0;
  uint8_t* out          = (uint8_t*)(h->control + 1);
  for (uint32_t i = 0; i < n_batch; ++i) {
    const Pending*  p   = &h->batch[i];
    LV2_Atom_Event* ev  = (LV2_Atom_Event*)out;
    const int64_t   rel = p->frame - (int64_t)h->frames;
    ev->time.frames     = rel < 0 ? 0 : rel;
    memcpy(&ev->body, h->pool + p->offset, p->size);
    out += lv2_atom_pad_size((uint32_t)sizeof(ev->time) + p->size);
    if (out > (uint8_t*)h->control + CONTROL_SIZE - 1024u) {
      fprintf(stderr, "host: control buffer overflow\n");
      abort();
    }
  }
  h->control->atom.size =
    (uint32_t)(out - (uint8_t*)h->control) - (uint32_t)sizeof(LV2_Atom);
  if (!h->n_pending) {
    h->pool_used = 0;
  }
}

/* Answers */

static void
add_answer(Host* h, const HostAnswer* a)
{
  if (h->n_answers == h->cap_answers) {
    h->cap_answers *= 2u;
    h->answers =
      (HostAnswer*)realloc(h->answers, h->cap_answers * sizeof(HostAnswer));
  }
  h->answers[h->n_answers++] = *a;
}

/* ch:Patch pieces, put together: a whole text makes a HOST_ANSWER_PATCH
   answer.  A piece at offset 0 starts again. */
static void
add_piece(Host* h, const ChMsg* m, HostAnswer* a)
{
  if (m->offset == 0) {
    free(h->patch_text);
    h->patch_text   = (char*)calloc(1, (size_t)m->total + 1u);
    h->patch_have   = 0;
    h->patch_pieces = 0;
  }
  if (!h->patch_text || m->offset != h->patch_have) {
    fprintf(stderr, "host: ch:Patch piece at %u, expected %u\n", m->offset,
            h->patch_have);
    ++h->patch_errors;
    return;
  }
  memcpy(h->patch_text + m->offset, m->text, m->text_len);
  h->patch_have += m->text_len;
  ++h->patch_pieces;
  if (h->patch_have == m->total) {
    a->type       = HOST_ANSWER_PATCH;
    a->text       = h->patch_text;
    a->pieces     = h->patch_pieces;
    a->generation = m->generation;
    h->patch_text = NULL;
    add_answer(h, a);
  }
}

/* One decoded answer of the notify port. */
static void
take_answer(Host* h, const ChMsg* m, HostAnswer* a)
{
  a->has_seq = m->has_seq;
  a->seq     = m->seq;
  switch (m->kind) {
  case CH_MSG_ACK:
    a->type = HOST_ANSWER_ACK;
    break;
  case CH_MSG_COMMITTED:
    a->type       = HOST_ANSWER_COMMITTED;
    a->generation = m->generation;
    a->build_ms   = m->build_ms;
    break;
  case CH_MSG_ERROR:
    a->type = HOST_ANSWER_ERROR;
    a->text = m->message ? strdup(m->message) : NULL;
    break;
  case CH_MSG_PATCH:
    add_piece(h, m, a);
    return;
  case CH_MSG_PUT:
    a->type = HOST_ANSWER_PROPERTY;
    a->text = m->file ? strdup(m->file) : m->text ? strdup(m->text) : NULL;
    break;
  case CH_MSG_SET:
    a->type  = HOST_ANSWER_PARAM;
    a->value = m->value;
    if (m->module && m->param) {
      a->text = (char*)malloc(strlen(m->module) + strlen(m->param) + 2u);
      sprintf(a->text, "%s:%s", m->module, m->param);
    }
    break;
  case CH_MSG_ACTIVITY:
    a->type       = HOST_ANSWER_ACTIVITY;
    a->generation = m->generation;
    a->offset     = m->offset;
    a->total      = m->total;
    a->n_points   = m->n_points;
    a->points     = (float*)malloc((m->n_points + 1u) * sizeof(float));
    memcpy(a->points, m->points, m->n_points * sizeof(float));
    if (m->cpu) {
      a->cpu = (float*)malloc((m->n_points + 1u) * sizeof(float));
      memcpy(a->cpu, m->cpu, m->n_points * sizeof(float));
    }
    break;
  case CH_MSG_LEVEL:
    a->type  = HOST_ANSWER_LEVEL;
    a->value = m->value;
    break;
  case CH_MSG_SCOPE:
    a->type     = HOST_ANSWER_SCOPE;
    a->value    = m->step;
    a->n_points = m->n_points;
    a->points   = (float*)malloc((m->n_points + 1u) * sizeof(float));
    memcpy(a->points, m->points, m->n_points * sizeof(float));
    if (m->module && m->port) {
      a->text = (char*)malloc(strlen(m->module) + strlen(m->port) + 2u);
      sprintf(a->text, "%s:%s", m->module, m->port);
    }
    break;
  default:
    break;
  }
  add_answer(h, a);
}

static void
parse_notify(Host* h)
{
  const uint64_t size = sizeof(LV2_Atom) + (uint64_t)h->notify->atom.size;
  ChSeqIter      it;
  if (!ch_seq_begin(&h->uris, h->notify, size, &it)) {
    if (it.fault) {
      fprintf(stderr, "host: notify: %s\n", it.fault);
      ++h->notify_faults;
    }
    return;
  }
  uint32_t              room = 0;
  const LV2_Atom_Event* ev;
  while ((ev = ch_seq_next(&it, &room))) {
    HostAnswer a;
    memset(&a, 0, sizeof(a));
    a.type       = HOST_ANSWER_OTHER;
    a.generation = -1;
    a.build_ms   = -1.0f;
    a.cycle      = h->cycles;
    a.frame      = (uint32_t)ev->time.frames;
    ChMsg      m;
    ChMsgFault fault;
    if (ch_msg_read(&h->uris, &ev->body, room, &m, &fault)) {
      char text[256];
      fprintf(stderr, "host: notify: %s\n",
              ch_msg_fault_text(&h->uris, &fault, text, sizeof(text)));
      ++h->notify_faults;
      continue;
    }
    take_answer(h, &m, &a);
  }
  if (it.fault) {
    fprintf(stderr, "host: notify: %s\n", it.fault);
    ++h->notify_faults;
  }
}

unsigned
host_notify_faults(const Host* h)
{
  return h->notify_faults;
}

/* Running */

void
host_run(Host* h, uint32_t n)
{
  if (!n || n > HOST_MAX_BLOCK) {
    fprintf(stderr, "host: bad block length %u\n", n);
    abort();
  }
  if (h->raw_control) {
    memcpy(h->control, h->raw_control, h->raw_size);
    h->raw_control = NULL;
  } else {
    fill_control(h, n);
  }
  h->notify->atom.type = 0;
  h->notify->atom.size = h->notify_size - (uint32_t)sizeof(LV2_Atom);
  float* const left =
    h->captured + n <= h->cap_size ? h->cap_l + h->captured : h->scratch_l;
  float* const right =
    h->captured + n <= h->cap_size ? h->cap_r + h->captured : h->scratch_r;
  lilv_instance_connect_port(h->lv2.instance, h->ports.out[0], left);
  lilv_instance_connect_port(h->lv2.instance, h->ports.out[1], right);

  const LV2_Handle handle = lilv_instance_get_handle(h->lv2.instance);
  atomic_fetch_add(&h->cycles_started, 1u);
  if (h->rtcheck) {
    h->rt_watching = true;
    rtcheck_begin();
  }
  lilv_instance_run(h->lv2.instance, n);
  if (h->lv2.worker && h->mode != HOST_WORKER_SYNC) {
    int64_t got;
    while ((got = ring_take(&h->reply_ring, h->reply_msg, WORK_MAX_MSG)) >= 0) {
      h->lv2.worker->work_response(
        handle, got < WORK_MAX_MSG ? (uint32_t)got : WORK_MAX_MSG,
        h->reply_msg);
    }
  }
  if (h->lv2.worker && h->lv2.worker->end_run) {
    h->lv2.worker->end_run(handle);
  }
  if (h->rtcheck) {
    rt_collect(h);
    h->rt_watching = false;
    ++h->rt_checked;
  }

  parse_notify(h);
  ++h->cycles;
  h->frames += n;
  if (h->captured + n <= h->cap_size) {
    h->captured += n;
  }
}

void
host_run_raw(Host* h, const void* control, uint32_t size, uint32_t n)
{
  if (size > CONTROL_SIZE || size < sizeof(LV2_Atom)) {
    fprintf(stderr, "host: bad raw control size %u\n", size);
    abort();
  }
  h->raw_control = control;
  h->raw_size    = size;
  host_run(h, n);
}

void
host_run_frames(Host* h, size_t frames, uint32_t block)
{
  for (size_t done = 0; done < frames;) {
    const uint32_t n =
      (uint32_t)(frames - done < block ? frames - done : block);
    host_run(h, n);
    done += n;
  }
}

const HostAnswer*
host_run_until(Host*          h,
               uint32_t       block,
               HostAnswerType type,
               int32_t        seq,
               unsigned       max_cycles)
{
  const size_t from = h->n_answers;
  for (unsigned c = 0; c < max_cycles; ++c) {
    host_run(h, block);
    for (size_t i = from; i < h->n_answers; ++i) {
      const HostAnswer* a = &h->answers[i];
      if (a->type == type &&
          (seq == HOST_NO_SEQ || (a->has_seq && a->seq == seq))) {
        return a;
      }
    }
    if (h->mode == HOST_WORKER_SLOW || h->mode == HOST_WORKER_THREADED) {
      sleep_ns(100000L); /* give the worker a chance on 2 cores */
    }
  }
  return NULL;
}

uint64_t
host_cycles(const Host* h)
{
  return h->cycles;
}

uint64_t
host_frames(const Host* h)
{
  return h->frames;
}

const float*
host_left(const Host* h)
{
  return h->cap_l;
}

const float*
host_right(const Host* h)
{
  return h->cap_r;
}

size_t
host_captured(const Host* h)
{
  return h->captured;
}

void
host_capture_clear(Host* h)
{
  h->captured = 0;
}

size_t
host_n_answers(const Host* h)
{
  return h->n_answers;
}

const HostAnswer*
host_answer(const Host* h, size_t index)
{
  return index < h->n_answers ? &h->answers[index] : NULL;
}

const HostAnswer*
host_find(const Host* h, HostAnswerType type, int32_t seq)
{
  for (size_t i = 0; i < h->n_answers; ++i) {
    const HostAnswer* a = &h->answers[i];
    if (a->type == type &&
        (seq == HOST_NO_SEQ || (a->has_seq && a->seq == seq))) {
      return a;
    }
  }
  return NULL;
}

size_t
host_count(const Host* h, HostAnswerType type)
{
  size_t n = 0;
  for (size_t i = 0; i < h->n_answers; ++i) {
    n += h->answers[i].type == type;
  }
  return n;
}

const HostAnswer*
host_last_committed(const Host* h)
{
  for (size_t i = h->n_answers; i-- > 0;) {
    if (h->answers[i].type == HOST_ANSWER_COMMITTED) {
      return &h->answers[i];
    }
  }
  return NULL;
}

void
host_clear_answers(Host* h)
{
  for (size_t i = 0; i < h->n_answers; ++i) {
    free(h->answers[i].text);
    free(h->answers[i].points);
    free(h->answers[i].cpu);
  }
  h->n_answers = 0;
}

const char*
host_answer_type_name(HostAnswerType type)
{
  switch (type) {
  case HOST_ANSWER_ACK:
    return "Ack";
  case HOST_ANSWER_COMMITTED:
    return "Committed";
  case HOST_ANSWER_ERROR:
    return "Error";
  case HOST_ANSWER_PATCH:
    return "ch:Patch";
  case HOST_ANSWER_PROPERTY:
    return "patch:Set";
  case HOST_ANSWER_PARAM:
    return "ch:Set";
  case HOST_ANSWER_SCOPE:
    return "ch:Scope";
  case HOST_ANSWER_ACTIVITY:
    return "ch:Activity";
  case HOST_ANSWER_LEVEL:
    return "ch:Level";
  default:
    return "other";
  }
}

void
host_dump_answers(const Host* h)
{
  for (size_t i = 0; i < h->n_answers; ++i) {
    const HostAnswer* a = &h->answers[i];
    fprintf(stderr,
            "  answer %zu: %s seq=%s%d gen=%lld build=%g cycle=%llu "
            "frame=%u text=%.200s\n",
            i, host_answer_type_name(a->type), a->has_seq ? "" : "(none)",
            a->seq, (long long)a->generation, (double)a->build_ms,
            (unsigned long long)a->cycle, a->frame, a->text ? a->text : "");
  }
}

/* Worker observation */

uint64_t
host_work_done(const Host* h)
{
  return atomic_load(&((Host*)h)->work_done);
}

int64_t
host_work_return_cycle(const Host* h, uint64_t index)
{
  return index < host_work_done(h) ? h->work_log[index % WORK_LOG_SIZE] : -1;
}

void
host_wait_idle(Host* h)
{
  if (h->mode != HOST_WORKER_THREADED && h->mode != HOST_WORKER_SLOW) {
    return;
  }
  while (!ring_empty(&h->work_ring) || atomic_load(&h->busy)) {
    sleep_ns(200000L);
  }
}

unsigned
host_rt_violations(const Host* h)
{
  return h->rt_violations;
}

const char*
host_rt_first(const Host* h)
{
  return h->rt_first;
}

uint64_t
host_rt_checked(const Host* h)
{
  return h->rt_checked;
}

/* State */

static const void*
get_port_value(const char* symbol,
               void*       user_data,
               uint32_t*   size,
               uint32_t*   type)
{
  const Host* const  h    = (const Host*)user_data;
  const float* const port = control_value(h, symbol);
  *size                   = port ? sizeof(float) : 0u;
  *type                   = port ? h->uris.atom_Float : 0u;
  return port;
}

static void
set_port_value(const char* symbol,
               void*       user_data,
               const void* value,
               uint32_t    size,
               uint32_t    type)
{
  Host* const h = (Host*)user_data;
  if (size != sizeof(float) || type != h->uris.atom_Float) {
    return;
  }
  float* const port = control_value(h, symbol);
  if (port) {
    memcpy(port, value, sizeof(float));
  }
}

LilvState*
host_state_save(Host* h)
{
  host_wait_idle(h);
  return lilv_state_new_from_instance(
    host_plugin(), h->lv2.instance, &map_feature, NULL, NULL, NULL, NULL,
    get_port_value, h, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE,
    h->lv2.features);
}

int
host_state_restore(Host* h, const LilvState* state)
{
  host_wait_idle(h);
  lilv_state_restore(state, h->lv2.instance, set_port_value, h, 0,
                     h->lv2.features);
  return 0;
}

void
host_state_restore_from_thread(Host* h, const LilvState* state)
{
  lilv_state_restore(state, h->lv2.instance, NULL, NULL, 0, h->lv2.features);
}

const char*
host_last_log(const Host* h)
{
  return h->lv2.last_log;
}

char*
host_state_to_string(const LilvState* state)
{
  return lilv_state_to_string(host_world(), &map_feature, &unmap_feature, state,
                              "urn:chronus:test#state", NULL);
}

LilvState*
host_state_from_string(const char* text)
{
  return lilv_state_new_from_string(host_world(), &map_feature, text);
}
