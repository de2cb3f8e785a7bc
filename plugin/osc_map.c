/* The OSC decoder: maps the prototype's OSC addresses onto protocol
   messages (or MIDI events), refusing anything malformed with a sentence. */
#include "osc_map.h"

#include <lo/lo.h>

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The arguments of one decoded OSC message. */
typedef struct {
  const char* address;
  const char* types;
  const void* argv; /* liblo's lo_arg* vector: read with arg() only */
  int         argc;
} Args;

/* What a handler produces. */
typedef struct {
  ChOscDecoded decoded;
  ChMsg        msg;     /* CH_OSC_REQUEST */
  uint8_t      midi[3]; /* CH_OSC_MIDI */
  uint32_t     midi_len;
} Request;

/* One address's handler: reads the arguments into the request. */
typedef bool (*Handler)(const Args* args, Request* req, char* why, size_t n);

/* Argument i's bytes.  liblo may place its argument vector, like the
   arguments, on a 4-byte boundary: the pointer is copied out, never loaded
   through lo_arg**. */
static const void*
arg(const Args* args, int i)
{
  const void* p = NULL;
  memcpy(&p, (const char*)args->argv + (size_t)i * sizeof(p), sizeof(p));
  return p;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static bool
refuse(const Args* args, char* why, size_t n, const char* fmt, ...)
{
  const int used = snprintf(why, n, "%s: ", args->address);
  if (used >= 0 && (size_t)used < n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + used, n - (size_t)used, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* Argument i as a string of at most `max` bytes, or NULL (with `why`). */
static const char*
string_arg(const Args* args, int i, size_t max, char* why, size_t n)
{
  if (args->types[i] != LO_STRING && args->types[i] != LO_SYMBOL) {
    refuse(args, why, n, "argument %d must be a string (s), not '%c'", i + 1,
           args->types[i]);
    return NULL;
  }
  const char* const s   = (const char*)arg(args, i);
  const size_t      len = strlen(s);
  if (len > max) {
    refuse(args, why, n, "argument %d is %zu bytes long, at most %zu", i + 1,
           len, max);
    return NULL;
  }
  return s;
}

/* Argument i as a finite number (i, h, f or d), or false (with `why`). */
static bool
number_arg(const Args* args, int i, float* value, char* why, size_t n)
{
  /* liblo's arguments are only 4-byte aligned inside its message, so
     they are copied out rather than read through the lo_arg union. */
  const void* const a = arg(args, i);
  double            v = 0.0;
  switch (args->types[i]) {
  case LO_INT32: {
    int32_t x = 0;
    memcpy(&x, a, sizeof(x));
    v = x;
    break;
  }
  case LO_INT64: {
    int64_t x = 0;
    memcpy(&x, a, sizeof(x));
    v = (double)x;
    break;
  }
  case LO_FLOAT: {
    float x = 0.0f;
    memcpy(&x, a, sizeof(x));
    v = x;
    break;
  }
  case LO_DOUBLE:
    memcpy(&v, a, sizeof(v));
    break;
  default:
    return refuse(args, why, n,
                  "argument %d must be a number (i or f), not '%c'", i + 1,
                  args->types[i]);
  }
  if (!isfinite(v) || fabs(v) > 3.0e38) {
    return refuse(args, why, n, "argument %d is not a finite number", i + 1);
  }
  *value = (float)v;
  return true;
}

/* Argument i as a whole number in [lo, hi], or false (with `why`). */
static bool
int_arg(const Args* args,
        int         i,
        int         lo,
        int         hi,
        int*        value,
        char*       why,
        size_t      n)
{
  float v = 0.0f;
  if (!number_arg(args, i, &v, why, n)) {
    return false;
  }
  if (v != floorf(v) || v < (float)lo || v > (float)hi) {
    return refuse(args, why, n, "argument %d is %g: want a whole number %d..%d",
                  i + 1, (double)v, lo, hi);
  }
  *value = (int)v;
  return true;
}

static bool
count(const Args* args, int lo, int hi, const char* usage, char* why, size_t n)
{
  if (args->argc < lo || args->argc > hi) {
    return refuse(args, why, n, "expects %s, got %d argument%s (\"%s\")", usage,
                  args->argc, args->argc == 1 ? "" : "s", args->types);
  }
  return true;
}

static void
request(Request* req, const ChMsgKind kind)
{
  req->decoded = CH_OSC_REQUEST;
  req->msg     = ch_msg_init(kind);
}

/* The addresses that make a message; map() has counted the arguments and
   begun the request. */

static bool
on_create(const Args* args, Request* req, char* why, size_t n)
{
  req->msg.module = string_arg(args, 0, CH_OSC_NAME_MAX, why, n);
  req->msg.module_kind =
    req->msg.module ? string_arg(args, 1, CH_OSC_NAME_MAX, why, n) : NULL;
  return req->msg.module_kind != NULL;
}

static bool
on_delete(const Args* args, Request* req, char* why, size_t n)
{
  req->msg.module = string_arg(args, 0, CH_OSC_NAME_MAX, why, n);
  return req->msg.module != NULL;
}

static bool
link_args(const Args* args, Request* req, char* why, size_t n)
{
  req->msg.from = string_arg(args, 0, 2u * CH_OSC_NAME_MAX + 1u, why, n);
  req->msg.to   = req->msg.from
                    ? string_arg(args, 1, 2u * CH_OSC_NAME_MAX + 1u, why, n)
                    : NULL;
  return req->msg.to != NULL;
}

static bool
on_commit(const Args* args, Request* req, char* why, size_t n)
{
  if (args->argc == 1) {
    const char* const q = string_arg(args, 0, 8, why, n);
    if (!q) {
      return false;
    }
    if (strcmp(q, "beat") && strcmp(q, "bar")) {
      return refuse(args, why, n, "quantize \"%s\": want \"beat\" or \"bar\"",
                    q);
    }
    req->msg.quantize = q[1] == 'e' ? CH_QUANTIZE_BEAT : CH_QUANTIZE_BAR;
  }
  return true;
}

static bool
on_load(const Args* args, Request* req, char* why, size_t n)
{
  req->msg.file = string_arg(args, 0, CH_OSC_PATH_MAX, why, n);
  return req->msg.file != NULL;
}

/* /patch/polyphony n: the standby patch's voices (ch:Polyphony), heard
   after the next commit.  1..16 is what the engine has (CH_MAX_VOICES). */
static bool
on_polyphony(const Args* args, Request* req, char* why, size_t n)
{
  int voices = 0;
  if (!int_arg(args, 0, 1, 16, &voices, why, n)) {
    return false;
  }
  req->msg.value     = (float)voices;
  req->msg.has_value = true;
  return true;
}

/* Each address: the message it makes, its arguments (how many, and how
   the refusal names them) and the handler that reads them. */
typedef struct {
  const char* address;
  ChMsgKind   kind;
  int         min_args;
  int         max_args;
  const char* usage;
  Handler     handler; /* NULL: no arguments to read */
} Address;

static const Address addresses[] = {
  { "/patch/create", CH_MSG_CREATE, 2, 2, "s:name s:kind", on_create },
  { "/patch/delete", CH_MSG_DELETE, 1, 1, "s:name", on_delete },
  { "/patch/connect", CH_MSG_CONNECT, 2, 2, "s:from s:to (module:port each)",
    link_args },
  { "/patch/disconnect", CH_MSG_DISCONNECT, 2, 2,
    "s:from s:to (module:port each)", link_args },
  { "/patch/commit", CH_MSG_COMMIT, 0, 1, "nothing, or s:beat or s:bar",
    on_commit },
  { "/patch/abort", CH_MSG_ABORT, 0, 0, "no arguments", NULL },
  { "/patch/load", CH_MSG_LOAD, 1, 1, "s:path (a patch file)", on_load },
  { "/patch/undo", CH_MSG_UNDO, 0, 0, "no arguments", NULL },
  { "/patch/redo", CH_MSG_REDO, 0, 0, "no arguments", NULL },
  { "/patch/get", CH_MSG_GET, 0, 0, "no arguments", NULL },
  { "/patch/polyphony", CH_MSG_POLYPHONY, 1, 1, "i:voices (1..16)",
    on_polyphony },
};

static void
midi(Request* req, uint8_t status, uint8_t a, uint8_t b, uint32_t len)
{
  req->decoded  = CH_OSC_MIDI;
  req->midi[0]  = status;
  req->midi[1]  = a;
  req->midi[2]  = b;
  req->midi_len = len;
}

/* The addresses that make a MIDI event: status byte, arguments (each
   0..127, the event's data bytes), length of the event. */
typedef struct {
  const char* address;
  const char* usage;
  uint8_t     status;
  int         n_args;
  uint32_t    len;
} MidiAddress;

static const MidiAddress midi_addresses[] = {
  { "/note/on", "i:note i:velocity", 0x90, 2, 3 }, /* velocity 0: off */
  { "/note/off", "i:note", 0x80, 1, 3 },
  { "/program", "i:n (0..127)", 0xC0, 1, 2 }, /* run() loads it from the bank */
};

static bool
on_midi(const Args*        args,
        Request*           req,
        const MidiAddress* m,
        char*              why,
        size_t             n)
{
  int data[2] = { 0, 0 }; /* a MIDI message has two data bytes at most */
  if (m->n_args > (int)CH_COUNT(data) ||
      !count(args, m->n_args, m->n_args, m->usage, why, n)) {
    return false;
  }
  for (int i = 0; i < m->n_args; ++i) {
    if (!int_arg(args, i, 0, 127, &data[i], why, n)) {
      return false;
    }
  }
  midi(req, m->status, (uint8_t)data[0], (uint8_t)data[1], m->len);
  return true;
}

/* /mod/<name>/<param> value: `name` and `param` point into `names`. */
static bool
on_mod(const Args* args, Request* req, char* names, char* why, size_t n)
{
  char* const slash = strchr(names, '/');
  if (!slash || slash == names || !slash[1] || strchr(slash + 1, '/')) {
    return refuse(args, why, n, "want /mod/<module>/<param>");
  }
  *slash = '\0';
  if (!count(args, 1, 1, "f:value", why, n)) {
    return false;
  }
  request(req, CH_MSG_SET);
  req->msg.module    = names;
  req->msg.param     = slash + 1;
  req->msg.has_value = true;
  return number_arg(args, 0, &req->msg.value, why, n);
}

/* Gate: a number (> 0.5 is on), T/F, or the prototype's "on"/"off". */
static bool
gate_value(const Args* args, float* value, char* why, size_t n)
{
  const char type = args->types[0];
  if (type == LO_TRUE || type == LO_FALSE) {
    *value = type == LO_TRUE ? 1.0f : 0.0f;
    return true;
  }
  if (type == LO_STRING || type == LO_SYMBOL) {
    const char* const s = (const char*)arg(args, 0);
    if (strcmp(s, "on") && strcmp(s, "off")) {
      return refuse(args, why, n, "gate \"%.32s\": want on or off, 1 or 0", s);
    }
    *value = s[1] == 'n' ? 1.0f : 0.0f;
    return true;
  }
  if (!number_arg(args, 0, value, why, n)) {
    return false;
  }
  *value = *value > 0.5f ? 1.0f : 0.0f;
  return true;
}

static bool
on_gate(const Args* args, Request* req, char* name, char* why, size_t n)
{
  if (!name[0] || strchr(name, '/')) {
    return refuse(args, why, n, "want /gate/<module>");
  }
  if (!count(args, 1, 1, "i or f: 1/0, or s: on/off", why, n)) {
    return false;
  }
  request(req, CH_MSG_GATE);
  req->msg.module    = name;
  req->msg.param     = "gate";
  req->msg.has_value = true;
  return gate_value(args, &req->msg.value, why, n);
}

/* Map one checked message; `scratch` (>= strlen(address) + 1 bytes) holds
   the names cut out of /mod/ and /gate/ addresses. */
static bool
map(const Args* args, Request* req, char* scratch, char* why, size_t n)
{
  for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); ++i) {
    if (!strcmp(args->address, addresses[i].address)) {
      const Address* const a = &addresses[i];
      if (!count(args, a->min_args, a->max_args, a->usage, why, n)) {
        return false;
      }
      request(req, a->kind);
      return !a->handler || a->handler(args, req, why, n);
    }
  }
  for (size_t i = 0; i < sizeof(midi_addresses) / sizeof(midi_addresses[0]);
       ++i) {
    if (!strcmp(args->address, midi_addresses[i].address)) {
      return on_midi(args, req, &midi_addresses[i], why, n);
    }
  }
  const size_t len = strlen(args->address);
  if (!strncmp(args->address, "/mod/", 5)) {
    memcpy(scratch, args->address + 5, len - 4);
    return on_mod(args, req, scratch, why, n);
  }
  if (!strncmp(args->address, "/gate/", 6)) {
    memcpy(scratch, args->address + 6, len - 5);
    return on_gate(args, req, scratch, why, n);
  }
  return refuse(args, why, n, "unknown address (see docs/osc.md)");
}

/* Write the request as an event at frame 0 into `event`. */
static bool
encode(ChOscCodec*     codec,
       Request*        req,
       int32_t         seq,
       LV2_Atom_Event* event,
       uint32_t        capacity)
{
  LV2_Atom_Forge* const forge = &codec->forge;
  if (capacity < sizeof(LV2_Atom_Event)) {
    return false;
  }
  event->time.frames = 0;
  lv2_atom_forge_set_buffer(forge, (uint8_t*)&event->body,
                            capacity - sizeof(event->time));
  if (req->decoded == CH_OSC_MIDI) {
    return lv2_atom_forge_atom(forge, req->midi_len, codec->uris.midi_Event) &&
           lv2_atom_forge_write(forge, req->midi, req->midi_len);
  }
  req->msg.has_seq = true;
  req->msg.seq     = seq;
  return ch_msg_write(forge, &codec->uris, &req->msg);
}

void
ch_osc_codec_init(ChOscCodec* const codec, LV2_URID_Map* const map)
{
  ch_uris_map(&codec->uris, map);
  lv2_atom_forge_init(&codec->forge, map);
}

ChOscDecoded
ch_osc_decode(ChOscCodec* const     codec,
              const void* const     data,
              const size_t          size,
              const int32_t         seq,
              LV2_Atom_Event* const event,
              const uint32_t        capacity,
              char* const           address,
              const size_t          address_size,
              char* const           why,
              const size_t          why_size)
{
  Args args  = { "datagram", "", NULL, 0 };
  address[0] = '\0';
  if (size >= 8 && !memcmp(data, "#bundle", 8)) {
    refuse(&args, why, why_size,
           "OSC bundles are not supported: send "
           "plain messages");
    return CH_OSC_REFUSED;
  }
  int              result = 0;
  const lo_message m      = lo_message_deserialise((void*)data, size, &result);
  if (!m) {
    refuse(&args, why, why_size, "not an OSC message (liblo error %d)", result);
    return CH_OSC_REFUSED;
  }
  /* A valid message starts with its address, NUL-terminated inside it. */
  const char* const path = (const char*)data;
  const size_t      len  = strlen(path);
  Request           req;
  memset(&req, 0, sizeof(req));
  bool ok = false;
  char scratch[512];
  args.address = path;
  if (len >= sizeof(scratch) || len >= address_size) {
    args.address = "(address)";
    refuse(&args, why, why_size, "address is %zu bytes long, at most %zu", len,
           (address_size < sizeof(scratch) ? address_size : sizeof(scratch)) -
             1u);
  } else {
    memcpy(address, path, len + 1u);
    args.types = lo_message_get_types(m);
    args.argv  = (const void*)lo_message_get_argv(m);
    args.argc  = lo_message_get_argc(m);
    ok         = map(&args, &req, scratch, why, why_size);
    if (ok && !encode(codec, &req, seq, event, capacity)) {
      ok = refuse(&args, why, why_size, "message too large (at most %u bytes)",
                  capacity);
    }
  }
  lo_message_free(m);
  return ok ? req.decoded : CH_OSC_REFUSED;
}
