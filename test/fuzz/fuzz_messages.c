/* libFuzzer target for the plugin's message path: the input drives a
   generator of every ch:/patch: message (valid, then mutated in sizes,
   types and lengths), MIDI, control ports and block lengths, played
   through the real plugin (lv2_descriptor, a synchronous worker).  Fails on
   a crash, hang, leak, non-finite output or a notify buffer overrun. */
#include "../../plugin/protocol.h"
#include "../../src/kind.h"
#include "../../src/registry.h"
#include "../../tools/lib/lv2host.h"

#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/worker/worker.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CH_SOURCE_DIR
#  define CH_SOURCE_DIR "."
#endif

#define MAX_BLOCK    4096u
#define CONTROL_SIZE (64u * 1024u)
#define NOTIFY_MAX   (64u * 1024u)
#define CANARY       64u
#define MAX_OPS      96u
#define N_PORTS      15u

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* The input, read front to back; zeros once it runs out. */
typedef struct {
  const uint8_t* data;
  size_t         size;
  size_t         at;
} Input;

static uint8_t
take8(Input* in)
{
  return in->at < in->size ? in->data[in->at++] : 0u;
}

static uint32_t
take32(Input* in)
{
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v = (v << 8) | take8(in);
  }
  return v;
}

static bool
more(const Input* in)
{
  return in->at < in->size;
}

/* URID map: the process's own. */
static ChHostUrids urids = CH_HOST_URIDS_INIT;

static int
log_vprintf(LV2_Log_Handle h, LV2_URID type, const char* fmt, va_list ap)
{
  (void)h;
  (void)type;
  (void)fmt;
  (void)ap;
  return 0; /* the plugin's log is not what we test */
}

static int
log_printf(LV2_Log_Handle h, LV2_URID type, const char* fmt, ...)
{
  (void)h;
  (void)type;
  (void)fmt;
  return 0;
}

/* One instance with its buffers and a synchronous worker. */
typedef struct {
  const LV2_Descriptor*       desc;
  LV2_Handle                  handle;
  const LV2_Worker_Interface* worker;
  ChUris                      uris;
  LV2_Atom_Forge              forge;
  _Alignas(8) uint8_t control[CONTROL_SIZE];
  _Alignas(8) uint8_t notify[NOTIFY_MAX + CANARY];
  uint32_t notify_size;
  uint32_t control_used; /* bytes of events queued in control */
  float    out[2][MAX_BLOCK];
  float    ports[N_PORTS];
  _Alignas(8) uint8_t msg[8192];
} Fuzz;

static LV2_Worker_Status
respond(LV2_Worker_Respond_Handle handle, uint32_t size, const void* data)
{
  Fuzz* const f = (Fuzz*)handle;
  return f->worker->work_response(f->handle, size, data);
}

static LV2_Worker_Status
schedule(LV2_Worker_Schedule_Handle handle, uint32_t size, const void* data)
{
  Fuzz* const f = (Fuzz*)handle;
  return f->worker->work(f->handle, respond, f, size, data);
}

/* Generating messages */

static const char* const module_names[] = { "osc", "filter", "env", "amp",
                                            "out", "voice",  "m0",  "m1" };
#define N_NAMES (sizeof(module_names) / sizeof(module_names[0]))

/* Files the fuzzer may name: only regular files of the tree, or none (a
   FIFO or /dev/zero is the file reader's business, fuzzed elsewhere). */
static const char* const files[] = {
  CH_SOURCE_DIR "/presets/bank/00-init.ttl",
  CH_SOURCE_DIR "/presets/bank/01-bass.ttl",
  CH_SOURCE_DIR "/tools/demo/demo.ttl",
  CH_SOURCE_DIR "/no/such/file.ttl",
  "",
};
#define N_FILES (sizeof(files) / sizeof(files[0]))

/* A string: a name from the lists, or raw bytes from the input. */
static const char*
take_string(Input* in, char* buf, size_t size, int what)
{
  const uint8_t pick = take8(in);
  const ChKind* kind = ch_registry_at(pick % ch_registry_count());
  if (pick < 200u) {
    switch (what) {
    case 0:
      return module_names[pick % N_NAMES];
    case 1:
      return kind->name;
    case 2:
      return kind->n_params ? kind->params[take8(in) % kind->n_params].name
                            : "level";
    default: {
      const ChPortInfo* ports = what == 3 ? kind->outputs : kind->inputs;
      const uint32_t    n     = what == 3 ? kind->n_outputs : kind->n_inputs;
      snprintf(buf, size, "%s:%s", module_names[take8(in) % N_NAMES],
               n ? ports[take8(in) % n].name : "x");
      return buf;
    }
    }
  }
  size_t len = take8(in) % (size - 1u);
  for (size_t i = 0; i < len; ++i) {
    buf[i] = (char)take8(in);
  }
  buf[len] = '\0';
  return buf;
}

static float
take_float(Input* in)
{
  const uint32_t bits = take32(in);
  float          v;
  if (bits >> 28 == 0xFu) {
    memcpy(&v, &bits, sizeof(v)); /* any bit pattern: NaN, Inf, denormal */
  } else {
    v = (float)(int32_t)bits / 16777216.0f; /* about -128..128 */
  }
  return v;
}

/* A small patch as Turtle: modules and links from the input. */
static const char*
take_turtle(Input* in, char* buf, size_t size)
{
  size_t         len = (size_t)snprintf(buf, size,
                                        "@prefix ch: <urn:chronus:> .\n"
                                                "@prefix param: <urn:chronus:param#> .\n"
                                                "@prefix : <urn:chronus:module#> .\n"
                                                "<> a ch:Patch .\n");
  const unsigned n   = take8(in) % 8u;
  char           a[64];
  char           b[64];
  for (unsigned i = 0; i < n && len < size; ++i) {
    if (take8(in) & 1u) {
      len += (size_t)snprintf(buf + len, size - len, ":%s ch:kind \"%s\" .\n",
                              module_names[take8(in) % N_NAMES],
                              take_string(in, a, sizeof(a), 1));
    } else {
      const char* from = take_string(in, a, sizeof(a), 3);
      len += (size_t)snprintf(buf + len, size - len,
                              "[] ch:from \"%s\" ; ch:to \"%s\" .\n", from,
                              take_string(in, b, sizeof(b), 4));
    }
  }
  return buf;
}

typedef struct {
  char s[6][64];
  char turtle[2048];
} Strings;

/* A message of any kind, its fields from the input. */
static ChMsg
take_msg(Fuzz* f, Input* in, Strings* st)
{
  static const ChMsgKind kinds[] = {
    CH_MSG_CREATE,  CH_MSG_DELETE,    CH_MSG_CONNECT, CH_MSG_DISCONNECT,
    CH_MSG_SET,     CH_MSG_GATE,      CH_MSG_COMMIT,  CH_MSG_ABORT,
    CH_MSG_LOAD,    CH_MSG_UNDO,      CH_MSG_REDO,    CH_MSG_GET,
    CH_MSG_PUT,     CH_MSG_ACK,       CH_MSG_ERROR,   CH_MSG_PATCH,
    CH_MSG_UNKNOWN, CH_MSG_COMMITTED,
  };
  ChMsg m = ch_msg_init(kinds[take8(in) % (sizeof(kinds) / sizeof(kinds[0]))]);
  const uint8_t flags = take8(in);
  m.has_seq           = flags & 1u;
  m.seq               = (int32_t)take8(in);
  m.module            = take_string(in, st->s[0], sizeof(st->s[0]), 0);
  m.module_kind       = take_string(in, st->s[1], sizeof(st->s[1]), 1);
  m.param             = take_string(in, st->s[2], sizeof(st->s[2]), 2);
  m.from              = take_string(in, st->s[3], sizeof(st->s[3]), 3);
  m.to                = take_string(in, st->s[4], sizeof(st->s[4]), 4);
  m.value             = take_float(in);
  m.message           = "fuzz";
  m.fade              = flags & 2u ? take_float(in) : -1.0f;
  m.quantize          = flags & 4u ? take8(in) % 3u : 0u;
  m.otype =
    flags & 8u ? f->uris.time_Position : ch_urids_map(&urids, "urn:chronus:X");
  if (m.kind == CH_MSG_LOAD || m.kind == CH_MSG_PUT) {
    if (flags & 16u) {
      m.file     = files[take8(in) % N_FILES];
      m.property = f->uris.ch_patchFile;
    } else {
      m.text     = take_turtle(in, st->turtle, sizeof(st->turtle));
      m.text_len = (uint32_t)strlen(m.text);
      m.property = flags & 32u ? f->uris.ch_patch : f->uris.ch_seq;
    }
  } else if (m.kind == CH_MSG_PATCH) {
    m.text     = st->s[5];
    m.text_len = 0;
    m.total    = take8(in);
  }
  return m;
}

/* Mutating encoded messages */

/* The property value atoms of the object being mutated (sizes checked:
   an earlier mutation may have broken them). */
static uint32_t
find_values(uint8_t* obj, uint32_t size, LV2_Atom** values, uint32_t max)
{
  uint32_t n  = 0;
  uint64_t at = sizeof(LV2_Atom_Object);
  while (at + sizeof(LV2_Atom_Property_Body) <= size && n < max) {
    LV2_Atom_Property_Body* const prop = (LV2_Atom_Property_Body*)(obj + at);
    values[n++]                        = &prop->value;
    at += lv2_atom_pad_size(sizeof(*prop)) + (uint64_t)prop->value.size;
    at = (at + 7u) & ~(uint64_t)7u;
  }
  return n;
}

static uint32_t
take_size(Input* in, uint32_t now)
{
  static const uint32_t sizes[] = {
    0u, 1u, 3u, 4u, 7u, 8u, 0xFFFFFFF0u, 0xFFFFFFFFu, 0x7FFFFFFFu, 1u << 20
  };
  const uint8_t pick = take8(in);
  if (pick < 128u) {
    return now + (uint32_t)(int8_t)take8(in); /* off by a little */
  }
  return sizes[pick % (sizeof(sizes) / sizeof(sizes[0]))];
}

static LV2_URID
take_type(Fuzz* f, Input* in)
{
  const ChUris* const u       = &f->uris;
  const LV2_URID      types[] = {
         u->atom_String, u->atom_Path,     u->atom_Int,  u->atom_Long,
         u->atom_Float,  u->atom_Double,   u->atom_Bool, u->atom_URID,
         u->atom_Object, u->atom_Sequence, 0u,           9999u
  };
  return types[take8(in) % (sizeof(types) / sizeof(types[0]))];
}

/* Break the encoded atom of `*size` bytes in one of several ways. */
static void
mutate(Fuzz* f, Input* in, uint8_t* atom, uint32_t* size)
{
  LV2_Atom*      values[16];
  const uint32_t n  = find_values(atom, *size, values, 16u);
  LV2_Atom*      v  = n ? values[take8(in) % n] : NULL;
  const uint8_t  op = take8(in);
  switch (op % 8u) {
  case 0:
    ((LV2_Atom*)atom)->size = take_size(in, ((LV2_Atom*)atom)->size);
    break;
  case 1:
    if (v) {
      v->size = take_size(in, v->size);
    }
    break;
  case 2:
    if (v) {
      v->type = take_type(f, in);
    }
    break;
  case 3:
    if (v && v->size &&
        (uint64_t)((uint8_t*)(v + 1) - atom) + v->size <=
          *size) { /* a string loses its terminator */
      ((uint8_t*)(v + 1))[v->size - 1u] = take8(in) | 1u;
    }
    break;
  case 4: { /* truncated, consistently */
    const uint32_t cut = take8(in) % (*size > 8u ? *size - 8u : 1u);
    *size -= cut;
    ((LV2_Atom*)atom)->size = *size - 8u;
    break;
  }
  case 5:
    atom[take8(in) % *size] = take8(in);
    break;
  case 6:
    ((LV2_Atom_Object*)atom)->body.otype = take8(in);
    break;
  default:
    ((LV2_Atom*)atom)->type = take_type(f, in);
    break;
  }
}

/* Building the control port */

static void
control_clear(Fuzz* f)
{
  LV2_Atom_Sequence* const seq = (LV2_Atom_Sequence*)f->control;
  memset(f->control, 0, sizeof(LV2_Atom_Sequence));
  seq->atom.type  = f->uris.atom_Sequence;
  f->control_used = (uint32_t)sizeof(LV2_Atom_Sequence);
}

/* Append an event: the atom's own header says its size (maybe a lie);
   `bytes` of it are really there. */
static void
control_add(Fuzz* f, int64_t frames, const uint8_t* atom, uint32_t bytes)
{
  const uint32_t need = (uint32_t)lv2_atom_pad_size(8u + bytes);
  if (f->control_used + need > CONTROL_SIZE) {
    return;
  }
  uint8_t* const at = f->control + f->control_used;
  memcpy(at, &frames, sizeof(frames));
  memcpy(at + 8, atom, bytes);
  f->control_used += need;
}

static void
add_message(Fuzz* f, Input* in, int64_t frames)
{
  Strings st;
  ChMsg   m = take_msg(f, in, &st);
  lv2_atom_forge_set_buffer(&f->forge, f->msg, sizeof(f->msg));
  if (!ch_msg_write(&f->forge, &f->uris, &m)) {
    return;
  }
  uint32_t size = (uint32_t)sizeof(LV2_Atom) + ((LV2_Atom*)f->msg)->size;
  for (uint8_t k = take8(in) % 4u; k > 0u && size > 8u; --k) {
    mutate(f, in, f->msg, &size);
  }
  control_add(f, frames, f->msg, size);
}

static void
add_midi(Fuzz* f, Input* in, int64_t frames)
{
  _Alignas(8) uint8_t atom[16] = { 0 };
  const uint32_t      n        = 1u + take8(in) % 3u;
  LV2_Atom* const     head     = (LV2_Atom*)atom;
  head->size                   = n;
  head->type                   = f->uris.midi_Event;
  for (uint32_t i = 0; i < n; ++i) {
    atom[8u + i] = take8(in);
  }
  control_add(f, frames, atom, 8u + n);
}

/* Running and checking */

/* What the plugin wrote must be a well-formed sequence of well-formed
   answers inside the buffer it was given, and the audio finite. */
static void
check_cycle(Fuzz* f, uint32_t n)
{
  for (uint32_t i = 0; i < CANARY; ++i) {
    if (f->notify[f->notify_size + i] != 0xA5u) {
      fprintf(stderr, "notify overrun: byte %u past its %u\n", i,
              f->notify_size);
      abort();
    }
  }
  const LV2_Atom_Sequence* const seq = (const LV2_Atom_Sequence*)f->notify;
  ChSeqIter                      it;
  if (ch_seq_begin(&f->uris, seq, f->notify_size, &it)) {
    uint32_t              room = 0;
    const LV2_Atom_Event* ev;
    while ((ev = ch_seq_next(&it, &room))) {
      ChMsg      m;
      ChMsgFault fault;
      char       text[256];
      if (ch_msg_read(&f->uris, &ev->body, room, &m, &fault)) {
        fprintf(stderr, "malformed answer: %s\n",
                ch_msg_fault_text(&f->uris, &fault, text, sizeof(text)));
        abort();
      }
    }
  }
  if (it.fault) {
    fprintf(stderr, "notify: %s\n", it.fault);
    abort();
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!isfinite(f->out[0][i]) || !isfinite(f->out[1][i])) {
      fprintf(stderr, "non-finite output at frame %u\n", i);
      abort();
    }
  }
}

static void
run_cycle(Fuzz* f, Input* in)
{
  /* Mostly short blocks (cheap to run), any length up to 4096 at times. */
  const uint8_t  pick = take8(in);
  const uint32_t n =
    pick < 224u ? 1u + pick
                : 1u + ((uint32_t)take8(in) << 8 | take8(in)) % MAX_BLOCK;
  LV2_Atom_Sequence* const seq = (LV2_Atom_Sequence*)f->control;
  seq->atom.size               = f->control_used - (uint32_t)sizeof(LV2_Atom);
  if (take8(in) == 0xFFu) { /* a sequence size that lies, in the buffer */
    seq->atom.size = take32(in) % (CONTROL_SIZE - (uint32_t)sizeof(LV2_Atom));
  }
  LV2_Atom_Sequence* const notify = (LV2_Atom_Sequence*)f->notify;
  notify->atom.type               = 0;
  notify->atom.size               = f->notify_size - (uint32_t)sizeof(LV2_Atom);
  memset(f->notify + f->notify_size, 0xA5, CANARY);
  f->desc->connect_port(f->handle, 2, f->out[0]);
  f->desc->connect_port(f->handle, 3, f->out[1]);
  f->desc->run(f->handle, n);
  check_cycle(f, n);
  control_clear(f);
}

static void
set_port(Fuzz* f, Input* in)
{
  const uint32_t port  = 4u + take8(in) % (N_PORTS - 4u);
  const float    value = take_float(in);
  f->ports[port] = port == 5u && isfinite(value) ? fmodf(value, 12.0f) : value;
}

static void
play(Fuzz* f, Input* in)
{
  control_clear(f);
  for (unsigned op = 0; op < MAX_OPS && more(in); ++op) {
    const uint8_t what   = take8(in);
    const uint8_t t      = take8(in);
    const int64_t frames = t < 250u ? (int64_t)t * 16 : (int64_t)take32(in);
    switch (what % 8u) {
    case 0:
    case 1:
      run_cycle(f, in);
      break;
    case 2:
      add_midi(f, in, frames);
      break;
    case 3:
      set_port(f, in);
      break;
    default:
      add_message(f, in, frames);
      break;
    }
  }
  run_cycle(f, in); /* the last messages' answers */
  run_cycle(f, in);
}

static bool
start(Fuzz* f, uint32_t notify_size)
{
  static LV2_URID_Map        map   = { &urids, ch_urids_map };
  static LV2_URID_Unmap      unmap = { &urids, ch_urids_unmap };
  static LV2_Log_Log         log   = { NULL, log_printf, log_vprintf };
  LV2_Worker_Schedule        sched = { f, schedule };
  static LV2_Worker_Schedule sched_s;
  sched_s                          = sched;
  static const LV2_Feature f_map   = { LV2_URID__map, &map };
  static const LV2_Feature f_unmap = { LV2_URID__unmap, &unmap };
  static const LV2_Feature f_log   = { LV2_LOG__log, &log };
  static LV2_Feature       f_sched = { LV2_WORKER__schedule, &sched_s };
  const LV2_Feature* const feats[] = { &f_map, &f_unmap, &f_log, &f_sched,
                                       NULL };
  ch_uris_map(&f->uris, &map);
  lv2_atom_forge_init(&f->forge, &map);
  f->desc = lv2_descriptor(0);
  f->handle =
    f->desc->instantiate(f->desc, 48000.0, CH_SOURCE_DIR "/presets/", feats);
  if (!f->handle) {
    return false;
  }
  f->worker =
    (const LV2_Worker_Interface*)f->desc->extension_data(LV2_WORKER__interface);
  f->notify_size = notify_size;
  f->desc->connect_port(f->handle, 0, f->control);
  f->desc->connect_port(f->handle, 1, f->notify);
  for (uint32_t i = 4; i < N_PORTS; ++i) {
    f->ports[i] = i == 4u ? 0.0f : i == 14u ? 1.0f : 0.5f;
    f->desc->connect_port(f->handle, i, &f->ports[i]);
  }
  f->ports[5] = 0.0f;
  if (f->desc->activate) {
    f->desc->activate(f->handle);
  }
  return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  static Fuzz           fuzz;
  static const uint32_t notify_sizes[] = { 512u, 1024u, 4096u, 8192u,
                                           NOTIFY_MAX };
  Input                 in             = { data, size, 0 };
  const uint32_t        notify_size    = notify_sizes[take8(&in) % 5u];
  if (!start(&fuzz, notify_size)) {
    abort(); /* the bank is in the tree: instantiation must work */
  }
  play(&fuzz, &in);
  if (fuzz.desc->deactivate) {
    fuzz.desc->deactivate(fuzz.handle);
  }
  fuzz.desc->cleanup(fuzz.handle);
  return 0;
}
