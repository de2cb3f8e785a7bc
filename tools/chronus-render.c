/* chronus-render: renders Chronus offline to a WAV file, hosting the plugin
   through lilv and playing a patch, a timed script and/or a MIDI file. */
#include "../src/graph.h"
#include "../src/hint.h"
#include "../src/limiter.h"
#include "../src/model.h"
#include "../src/patch.h"
#include "../src/registry.h"
#include "lib/lv2host.h"
#include "lib/midi.h"
#include "lib/wav.h"
#include "protocol.h"

#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/urid/urid.h>
#include <sndfile.h>

#ifdef CH_HAVE_SMF
#  include <smf.h>
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CH_BUNDLE_DIR
#  define CH_BUNDLE_DIR ""
#endif
#ifndef CH_VERSION
#  define CH_VERSION "unknown"
#endif

#define PROG         "chronus-render"
#define NOTIFY_SIZE  (64u * 1024u)
#define MAX_BLOCK    8192u
#define MESSAGE_SIZE (16u * 1024u)
#define SILENCE      1e-6f /* -120 dBFS */

/* Exit codes */
enum { EXIT_PLUGIN_ERROR = 2, EXIT_SILENT = 3 };

/* Command line */

typedef struct {
  const char* patch;
  const char* midi;
  const char* script;
  const char* output;
  const char* bundle;
  bool        lv2_path;
  double      length; /* seconds, < 0: last event + tail */
  uint32_t    block;
  uint32_t    rate;
  double      bpm;           /* > 0: send a rolling transport */
  double      beats_per_bar; /* default 4 */
  float       gain_db;
  bool        pcm24;
  bool        no_limiter;
  bool        keep_going;
  bool        verbose;
  bool        quiet;
} Options;

/* Events to send, in time order */

typedef enum {
  EV_MIDI, /* MIDI bytes */
  EV_ATOM, /* a whole atom (header and body) */
  EV_PORT, /* a new value for a control port */
} EventType;

typedef struct {
  int64_t   frame;
  uint32_t  order; /* index into origins; also the ch:seq of messages */
  EventType type;
  bool      commit; /* swaps the patch: ch:Commit or a program change */
  uint32_t  port;
  float     value;
  uint32_t  size;
  uint8_t*  data;
} Event;

typedef struct {
  Event*   events;
  char**   origins; /* "file:line" of each event, by order */
  uint32_t n;
  uint32_t cap;
} EventList;

/* Module names the script may set choice labels on, and their kinds: from
   the patches it loads, its create lines and the bank. */
typedef struct {
  char          name[CH_NAME_MAX + 1];
  const ChKind* kind;
} Known;

/* What the safety limiter did */
typedef struct {
  int64_t frames; /* frames it turned down */
  float   least;  /* smallest gain it applied, 1 if none */
} LimiterStats;

/* The host */

typedef struct {
  Options        opt;
  ChHost         lv2;
  ChUris         uris;
  ChHostIo       io; /* what the ports are connected to */
  int32_t        port_program;
  int32_t        port_gain;
  int32_t        port_macro[8];
  int32_t        port_limiter;
  ChLimiter      limiter; /* ours, so that we can say what it did */
  LimiterStats   limited;
  ChWav          wav; /* float output */
  SNDFILE*       pcm; /* 24-bit output */
  Known*         known;
  uint32_t       n_known;
  uint32_t       known_cap;
  uint32_t       n_errors;
  EventList      list;
  LV2_Atom_Forge forge;
  uint8_t        message[MESSAGE_SIZE];
} Host;

#define fail(...) ch_tool_fail(PROG, __VA_ARGS__)

/* Building events */

static Event*
add_event(Host* const       host,
          const int64_t     frame,
          const EventType   type,
          const char* const origin)
{
  EventList* const list = &host->list;
  if (list->n == list->cap) {
    const uint32_t cap    = list->cap ? 2u * list->cap : 256u;
    Event* const   events = (Event*)realloc(list->events, cap * sizeof(Event));
    if (events) {
      list->events = events;
    }
    char** const origins = (char**)realloc(list->origins, cap * sizeof(char*));
    if (origins) {
      list->origins = origins;
    }
    if (!events || !origins) {
      return NULL;
    }
    list->cap = cap;
  }
  char* const copy = origin ? (char*)malloc(strlen(origin) + 1u) : NULL;
  if (copy) {
    strcpy(copy, origin);
  }
  Event* const ev = &list->events[list->n];
  memset(ev, 0, sizeof(*ev));
  ev->frame                = frame;
  ev->order                = list->n;
  ev->type                 = type;
  list->origins[list->n++] = copy;
  return ev;
}

/* An event that carries a copy of `size` bytes (MIDI, or an atom). */
static Event*
add_bytes(Host* const          host,
          const int64_t        frame,
          const EventType      type,
          const uint8_t* const bytes,
          const uint32_t       size,
          const char* const    origin)
{
  Event* const ev = add_event(host, frame, type, origin);
  if (!ev || !(ev->data = (uint8_t*)malloc(size))) {
    return NULL;
  }
  memcpy(ev->data, bytes, size);
  ev->size = size;
  return ev;
}

/* A control port's new value; a program change swaps the patch. */
static bool
add_port(Host* const       host,
         const int64_t     frame,
         const int32_t     port,
         const float       value,
         const char* const origin)
{
  Event* const ev = add_event(host, frame, EV_PORT, origin);
  if (!ev) {
    return false;
  }
  ev->port   = (uint32_t)port;
  ev->value  = value;
  ev->commit = port == host->port_program;
  return true;
}

/* Queues `msg` (written by the protocol module) as an event; its ch:seq is
   the order of the event it becomes, so answers name their script line.
   A ch:Commit swaps the patch. */
static bool
add_msg(Host* const       host,
        const int64_t     frame,
        ChMsg* const      msg,
        const char* const origin)
{
  LV2_Atom_Forge* const forge = &host->forge;
  lv2_atom_forge_set_buffer(forge, host->message, sizeof(host->message));
  msg->has_seq = true;
  msg->seq     = (int32_t)host->list.n;
  if (!ch_msg_write(forge, &host->uris, msg)) {
    fail("%s: message too large", origin);
    return false;
  }
  const LV2_Atom* const atom = (const LV2_Atom*)host->message;
  Event* const          ev   = add_bytes(host, frame, EV_ATOM, host->message,
                                         lv2_atom_total_size(atom), origin);
  if (!ev) {
    fail("out of memory");
    return false;
  }
  ev->commit = msg->kind == CH_MSG_COMMIT;
  return true;
}

static bool
add_simple(Host* const       host,
           const int64_t     frame,
           const ChMsgKind   kind,
           const char* const origin)
{
  ChMsg msg = ch_msg_init(kind);
  return add_msg(host, frame, &msg, origin);
}

static bool
add_load(Host* const       host,
         const int64_t     frame,
         const char* const path,
         const char* const origin)
{
  ChMsg msg = ch_msg_init(CH_MSG_LOAD);
  msg.file  = path;
  return add_msg(host, frame, &msg, origin);
}

/* Number parsing: the whole token, or an error */

static bool
parse_double(const char* const text, double* const value)
{
  char* end = NULL;
  errno     = 0;
  *value    = strtod(text, &end);
  return end != text && !*end && !errno && isfinite(*value);
}

static bool
parse_long(const char* const text, long* const value)
{
  char* end = NULL;
  errno     = 0;
  *value    = strtol(text, &end, 10);
  return end != text && !*end && !errno;
}

/* The script */

/* An absolute path for `path`, relative to the directory of `base`. */
static char*
resolve_path(const char* const path, const char* const base)
{
  char* joined = NULL;
  if (path[0] != '/' && base && strchr(base, '/')) {
    const size_t dir_len = (size_t)(strrchr(base, '/') - base);
    joined               = (char*)malloc(dir_len + strlen(path) + 2u);
    if (!joined) {
      return NULL;
    }
    memcpy(joined, base, dir_len);
    joined[dir_len] = '/';
    strcpy(joined + dir_len + 1u, path);
  }
  char* const resolved = realpath(joined ? joined : path, NULL);
  free(joined);
  return resolved;
}

/* Notes that module `name` is of kind `kind`, for choice labels. */
static void
know(Host* const host, const char* const name, const ChKind* const kind)
{
  if (!kind || strlen(name) > CH_NAME_MAX) {
    return;
  }
  if (host->n_known == host->known_cap) {
    const uint32_t cap   = host->known_cap ? 2u * host->known_cap : 64u;
    Known* const   grown = (Known*)realloc(host->known, cap * sizeof(Known));
    if (!grown) {
      return; /* then a label may go unresolved: an error, not a crash */
    }
    host->known     = grown;
    host->known_cap = cap;
  }
  Known* const k = &host->known[host->n_known++];
  snprintf(k->name, sizeof(k->name), "%s", name);
  k->kind = kind;
}

static void
know_model(Host* const host, const ChModel* const model)
{
  for (uint32_t m = 0; m < ch_model_n_modules(model); ++m) {
    know(host, ch_model_module_name(model, m), ch_model_module_kind(model, m));
  }
}

/* Reads a patch file with the engine the plugin is built from, and checks
   what a commit checks, so that a patch that cannot play stops the render
   before it starts, with a message naming the line, rather than as a
   ch:Error in the middle of it while something else plays. */
static bool
check_patch(Host* const       host,
            const char* const path,
            const char* const shown,
            const char* const origin)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ch_error_clear(&err);
  ChStatus st =
    model ? ch_patch_read_file(model, path, &err) : CH_ERR_NO_MEMORY;
  /* The reader names the file by `path`; the user knows it as `shown`. */
  const size_t len  = strlen(path);
  const char*  text = err.msg;
  if (!strncmp(text, path, len) && !strncmp(text + len, ": ", 2)) {
    text += len + 2u;
  }
  if (!st && (st = ch_graph_check(model, &err))) {
    fprintf(stderr, "%s: %s: cannot be committed: %s\n", origin, shown,
            err.msg);
  } else if (st) {
    fprintf(stderr, "%s: %s: %s\n", origin, shown,
            text[0] ? text : "out of memory");
  } else {
    know_model(host, model);
  }
  ch_model_free(model);
  return !st;
}

/* Notes the modules of every program of the bank (the initial patch is
   program 0), ignoring what cannot be read. */
static void
know_bank(Host* const host)
{
  const LilvNode* const uri = lilv_plugin_get_bundle_uri(host->lv2.plugin);
  char* const           dir = lilv_file_uri_parse(lilv_node_as_uri(uri), NULL);
  char                  path[PATH_MAX];
  snprintf(path, sizeof(path), "%sbank", dir ? dir : "");
  DIR* const bank = dir ? opendir(path) : NULL;
  for (struct dirent* e = NULL; bank && (e = readdir(bank));) {
    const size_t len = strlen(e->d_name);
    if (len > 4 && !strcmp(e->d_name + len - 4, ".ttl")) {
      snprintf(path, sizeof(path), "%sbank/%s", dir, e->d_name);
      ChModel* const model = ch_model_new();
      if (model && !ch_patch_read_file(model, path, NULL)) {
        know_model(host, model);
      }
      ch_model_free(model);
    }
  }
  if (bank) {
    closedir(bank);
  }
  lilv_free(dir);
}

/* Prints "ORIGIN: message" (ORIGIN is a script's FILE:LINE) and is false,
   for `return line_error(...)`. */
#define line_error(origin, ...) (ch_tool_fail((origin), __VA_ARGS__), false)

/* A choice label resolved against the kinds a module may have */
typedef struct {
  const char*        label;
  int                index; /* -1 until found */
  bool               clash; /* kinds disagree on the index */
  const ChParamInfo* info;  /* a kind's parameter with choices, for help */
} Choice;

static void
consider(Choice* const c, const ChKind* const kind, const char* const param)
{
  const int p = ch_kind_find_param(kind, param);
  if (p < 0 || !kind->params[p].choices) {
    return;
  }
  c->info = &kind->params[p];
  for (int i = 0; c->info->choices[i]; ++i) {
    if (!strcmp(c->info->choices[i], c->label)) {
      c->clash = c->clash || (c->index >= 0 && c->index != i);
      c->index = i;
    }
  }
}

/* The number of choice `label` of MODULE's `param`, as patch files accept
   it: looked up in the kinds MODULE has in the patches and create lines
   seen, else in every kind with such a parameter. */
static bool
resolve_label(const Host* const host,
              const char* const origin,
              char** const      argv,
              double* const     value)
{
  Choice c     = { argv[3], -1, false, NULL };
  bool   named = false;
  for (uint32_t k = 0; k < host->n_known; ++k) {
    if (!strcmp(host->known[k].name, argv[1])) {
      named = true;
      consider(&c, host->known[k].kind, argv[2]);
    }
  }
  for (uint32_t k = 0; !named && k < ch_registry_count(); ++k) {
    consider(&c, ch_registry_at(k), argv[2]);
  }
  if (c.index >= 0 && !c.clash) {
    *value = (double)c.index;
    return true;
  }
  if (c.clash) {
    return line_error(origin,
                      "'%s' is a different number for different kinds with "
                      "a '%s' parameter: give the number (docs/modules.md)",
                      argv[3], argv[2]);
  }
  char   labels[256] = "";
  size_t used        = 0;
  for (int i = 0; c.info && c.info->choices[i] && used < sizeof(labels); ++i) {
    used += (size_t)snprintf(labels + used, sizeof(labels) - used, "%s%s",
                             i ? ", " : "", c.info->choices[i]);
  }
  return line_error(origin, "bad value '%s' (a number%s%s)", argv[3],
                    c.info ? " or one of: " : "", labels);
}

/* One line of the script: its command and arguments in `argv`. */
typedef struct {
  const char* file;   /* the script, for relative paths */
  const char* origin; /* "file:line", for messages */
  int64_t     frame;  /* when it plays */
  char**      argv;
  int         argc;
} ScriptLine;

/* note-on, note-off, cc, bend: MIDI on channel 1 (tools/lib/midi.c) */
static bool
script_midi(Host* const host, const ScriptLine* const line)
{
  uint8_t        midi[3];
  char           why[256];
  const uint32_t size =
    ch_midi_parse(line->argv, line->argc, midi, why, sizeof(why));
  return size ? add_bytes(host, line->frame, EV_MIDI, midi, size,
                          line->origin) != NULL
              : line_error(line->origin, "%s", why);
}

/* program, macro, gain: control ports */
static bool
script_port(Host* const host, const ScriptLine* const line)
{
  char** const      argv   = line->argv;
  const char* const origin = line->origin;
  const char* const name   = argv[0];
  long              a      = 0;
  double            x      = 0.0;
  if (!strcmp(name, "program")) {
    if (host->port_program < 0) {
      return line_error(origin, "the plugin has no program port");
    }
    if (!parse_long(argv[1], &a) || a < 0 || a > 127) {
      return line_error(origin, "bad program '%s' (0..127)", argv[1]);
    }
    return add_port(host, line->frame, host->port_program, (float)a, origin);
  }
  if (!strcmp(name, "macro")) {
    if (!parse_long(argv[1], &a) || a < 1 || a > 8) {
      return line_error(origin, "bad macro number '%s' (1..8)", argv[1]);
    }
    if (!parse_double(argv[2], &x) || x < 0.0 || x > 1.0) {
      return line_error(origin, "bad macro value '%s' (0..1)", argv[2]);
    }
    if (host->port_macro[a - 1] < 0) {
      return line_error(origin, "the plugin has no port macro%ld", a);
    }
    return add_port(host, line->frame, host->port_macro[a - 1], (float)x,
                    origin);
  }
  /* gain */
  if (!parse_double(argv[1], &x) || x < -60.0 || x > 12.0) {
    return line_error(origin, "bad gain '%s' (-60..12 dB)", argv[1]);
  }
  if (host->port_gain < 0) {
    return line_error(origin, "the plugin has no gain port");
  }
  return add_port(host, line->frame, host->port_gain, (float)x, origin);
}

/* load, abort: whole-patch messages */
static bool
script_patch(Host* const host, const ScriptLine* const line)
{
  char** const      argv   = line->argv;
  const char* const origin = line->origin;
  if (!strcmp(argv[0], "load")) {
    char* const path = resolve_path(argv[1], line->file);
    if (!path) {
      return line_error(origin, "cannot open '%s': %s", argv[1],
                        strerror(errno));
    }
    const bool ok = check_patch(host, path, argv[1], origin) &&
                    add_load(host, line->frame, path, origin);
    free(path);
    return ok;
  }
  return add_simple(host, line->frame, CH_MSG_ABORT, origin);
}

/* commit, or commit beat|bar: ch:Commit with ch:quantize */
static bool
script_commit(Host* const host, const ScriptLine* const line)
{
  char** const      argv   = line->argv;
  const char* const origin = line->origin;
  ChMsg             msg    = ch_msg_init(CH_MSG_COMMIT);
  if (line->argc > 2) {
    return line_error(origin, "commit takes at most one word (beat or bar)");
  }
  if (line->argc == 2) {
    if (strcmp(argv[1], "beat") && strcmp(argv[1], "bar")) {
      return line_error(origin, "bad quantize '%s' (beat or bar)", argv[1]);
    }
    msg.quantize = argv[1][1] == 'e' ? CH_QUANTIZE_BEAT : CH_QUANTIZE_BAR;
  }
  return add_msg(host, line->frame, &msg, origin);
}

/* create, delete, connect, disconnect, set, gate: messages with module
   names, which the plugin checks */
static bool
script_edit(Host* const host, const ScriptLine* const line)
{
  char** const      argv = line->argv;
  const char* const name = argv[0];
  double            x    = 0.0;
  if (!strcmp(name, "set") && !parse_double(argv[3], &x) &&
      !resolve_label(host, line->origin, argv, &x)) {
    return false;
  }
  ChMsg msg = ch_msg_init(CH_MSG_CREATE);
  if (!strcmp(name, "create")) {
    msg.module      = argv[1];
    msg.module_kind = argv[2];
    know(host, argv[1], ch_registry_find(argv[2]));
  } else if (!strcmp(name, "delete")) {
    msg        = ch_msg_init(CH_MSG_DELETE);
    msg.module = argv[1];
  } else if (!strcmp(name, "connect") || !strcmp(name, "disconnect")) {
    msg      = ch_msg_init(name[0] == 'c' ? CH_MSG_CONNECT : CH_MSG_DISCONNECT);
    msg.from = argv[1];
    msg.to   = argv[2];
  } else if (!strcmp(name, "set")) {
    msg = ch_msg_set(argv[1], argv[2], (float)x);
  } else { /* gate */
    const bool on = !strcmp(argv[2], "on") || !strcmp(argv[2], "1");
    if (!on && strcmp(argv[2], "off") && strcmp(argv[2], "0")) {
      return line_error(line->origin, "bad gate '%s' (on or off)", argv[2]);
    }
    msg        = ch_msg_init(CH_MSG_GATE);
    msg.module = argv[1];
    msg.value  = on ? 1.0f : 0.0f;
  }
  return add_msg(host, line->frame, &msg, line->origin);
}

/* The commands: words after the name (-1: checked by the command). */
typedef struct {
  const char* name;
  int         n_args;
  const char* usage;
  bool (*run)(Host* host, const ScriptLine* line);
} Command;

static const Command commands[] = {
  { "note-on", 2, "note-on NOTE VELOCITY", script_midi },
  { "note-off", 1, "note-off NOTE", script_midi },
  { "cc", 2, "cc NUMBER VALUE", script_midi },
  { "bend", 1, "bend VALUE (-8192..8191)", script_midi },
  { "create", 2, "create NAME KIND", script_edit },
  { "delete", 1, "delete NAME", script_edit },
  { "connect", 2, "connect FROM TO", script_edit },
  { "disconnect", 2, "disconnect FROM TO", script_edit },
  { "set", 3, "set MODULE PARAM VALUE|LABEL", script_edit },
  { "gate", 2, "gate MODULE on|off", script_edit },
  { "commit", -1, "commit [beat|bar]", script_commit },
  { "abort", 0, "abort", script_patch },
  { "load", 1, "load FILE", script_patch },
  { "program", 1, "program N", script_port },
  { "macro", 2, "macro I VALUE (I = 1..8, VALUE = 0..1)", script_port },
  { "gain", 1, "gain DB", script_port },
};

/* Parses and queues the command of `line`. */
static bool
script_command(Host* const host, const ScriptLine* const line)
{
  char** const   argv = line->argv;
  const Command* cmd  = NULL;
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); ++i) {
    if (!strcmp(argv[0], commands[i].name)) {
      cmd = &commands[i];
    }
  }
  if (!cmd) {
    char hint[320];
    ch_hint(hint, sizeof(hint), argv[0], "commands", commands,
            sizeof(commands) / sizeof(commands[0]), sizeof(Command));
    return line_error(line->origin, "unknown command '%s'%s", argv[0], hint);
  }
  if (cmd->n_args >= 0 && line->argc - 1 != cmd->n_args) {
    return line_error(line->origin, "'%s' takes %d argument%s, not %d: %s",
                      cmd->name, cmd->n_args, cmd->n_args == 1 ? "" : "s",
                      line->argc - 1, cmd->usage);
  }
  return cmd->run(host, line);
}

/* Reads the script; reports every bad line, and fails if there was one. */
static bool
read_script(Host* const host, const char* const path)
{
  FILE* const file = fopen(path, "r");
  if (!file) {
    fail("cannot open script '%s': %s", path, strerror(errno));
    return false;
  }
  char line[4096];
  char origin[PATH_MAX + 32];
  bool ok     = true;
  long number = 0;
  while (fgets(line, sizeof(line), file)) {
    ++number;
    snprintf(origin, sizeof(origin), "%s:%ld", path, number);
    if (!strchr(line, '\n') && !feof(file)) {
      ok    = line_error(origin, "line too long (at most %zu characters)",
                         sizeof(line) - 2u);
      int c = 0;
      while ((c = fgetc(file)) != EOF && c != '\n') {
      }
      continue;
    }
    /* '#' starts a comment at the start of a word only: F#3 is a note. */
    for (char* c = line; *c; ++c) {
      if (*c == '#' && (c == line || isspace((unsigned char)c[-1]))) {
        *c = '\0';
        break;
      }
    }
    char* argv[8];
    int   argc = 0;
    for (char *save = NULL, *token = strtok_r(line, " \t\r\n", &save); token;
         token = strtok_r(NULL, " \t\r\n", &save)) {
      if (argc == (int)(sizeof(argv) / sizeof(argv[0]))) {
        argc = -1;
        break;
      }
      argv[argc++] = token;
    }
    if (argc == 0) {
      continue;
    }
    if (argc < 0) {
      ok = line_error(origin, "too many words");
      continue;
    }
    double seconds = 0.0;
    if (!parse_double(argv[0], &seconds) || seconds < 0.0 ||
        seconds > 86400.0) {
      ok = line_error(origin,
                      "expected a time in seconds first, not '%s' "
                      "(lines are: SECONDS COMMAND ARGUMENTS...)",
                      argv[0]);
      continue;
    }
    if (argc < 2) {
      ok = line_error(origin, "a command must follow the time");
      continue;
    }
    const int64_t    frame  = (int64_t)llround(seconds * host->opt.rate);
    const ScriptLine script = { path, origin, frame, argv + 1, argc - 1 };
    if (!script_command(host, &script)) {
      ok = false;
    }
  }
  if (ferror(file)) {
    fail("cannot read script '%s': %s", path, strerror(errno));
    ok = false;
  }
  fclose(file);
  return ok;
}

/* The MIDI file */

static bool
read_midi(Host* const host, const char* const path)
{
#ifdef CH_HAVE_SMF
  smf_t* const smf = smf_load(path);
  if (!smf) {
    fail("cannot read MIDI file '%s'", path);
    return false;
  }
  char         origin[PATH_MAX + 32];
  smf_event_t* event = NULL;
  bool         ok    = true;
  while (ok && (event = smf_get_next_event(smf))) {
    if (smf_event_is_metadata(event) || smf_event_is_sysex(event) ||
        event->midi_buffer_length < 2) {
      continue;
    }
    const uint8_t status = event->midi_buffer[0] & 0xF0;
    /* Note off/on, CC, program change, channel pressure, pitch bend */
    if (status == 0x80 || status == 0x90 || status == 0xB0 || status == 0xC0 ||
        status == 0xD0 || status == 0xE0) {
      snprintf(origin, sizeof(origin), "%s: event at %.3f s", path,
               event->time_seconds);
      ok =
        add_bytes(host, (int64_t)llround(event->time_seconds * host->opt.rate),
                  EV_MIDI, event->midi_buffer,
                  (uint32_t)event->midi_buffer_length, origin) != NULL;
    }
  }
  smf_delete(smf);
  if (!ok) {
    fail("out of memory");
  }
  return ok;
#else
  (void)host;
  fail("cannot read '%s': built without libsmf (install libsmf-dev and "
       "reconfigure)",
       path);
  return false;
#endif
}

/* Plugin setup */

static bool
load_plugin(Host* const host)
{
  const char* bundle = host->opt.bundle;
  if (!bundle && !host->opt.lv2_path && CH_BUNDLE_DIR[0] != '\0') {
    char manifest[PATH_MAX];
    snprintf(manifest, sizeof(manifest), "%s/manifest.ttl", CH_BUNDLE_DIR);
    if (!access(manifest, R_OK)) {
      bundle = CH_BUNDLE_DIR;
    }
  }
  return ch_host_load(&host->lv2, bundle, NULL);
}

/* The plugin's ports, their starting values, and the ports the script
   drives by symbol. */
static bool
find_ports(Host* const host)
{
  if (!ch_host_io_find_ports(&host->lv2, &host->io)) {
    return false;
  }
  host->port_gain    = ch_host_port_by_symbol(&host->lv2, "gain");
  host->port_program = ch_host_port_by_symbol(&host->lv2, "program");
  for (int m = 0; m < 8; ++m) {
    char symbol[16];
    snprintf(symbol, sizeof(symbol), "macro%d", m + 1);
    host->port_macro[m] = ch_host_port_by_symbol(&host->lv2, symbol);
  }
  if (host->port_gain >= 0) {
    host->io.values[host->port_gain] = host->opt.gain_db;
  }
  /* The plugin's limiter is off: ours (the same) runs after it, so that
     it can report what it did. */
  host->port_limiter = ch_host_port_by_symbol(&host->lv2, "limiter");
  if (host->port_limiter >= 0) {
    host->io.values[host->port_limiter] = 0.0f;
  }
  return true;
}

static bool
control_add(Host* const host, const Event* const ev, const int64_t frames)
{
  if (ev->type == EV_MIDI) {
    return ch_host_control_add(&host->lv2, &host->io.control, frames,
                               host->uris.midi_Event, ev->data, ev->size);
  }
  const LV2_Atom* const atom = (const LV2_Atom*)ev->data;
  return ch_host_control_add(&host->lv2, &host->io.control, frames, atom->type,
                             atom + 1, atom->size);
}

/* Running */

/* The script line of the event an answer's ch:seq names, or NULL. */
static const char*
origin_of(const Host* const host, const ChMsg* const answer)
{
  const int32_t order = answer->seq;
  return answer->has_seq && order >= 0 && (uint32_t)order < host->list.n
           ? host->list.origins[order]
           : NULL;
}

static void
print_answer(Host* const host, const ChMsg* const m, const double at)
{
  const char* const origin = origin_of(host, m);
  if (m->kind == CH_MSG_ERROR) {
    ++host->n_errors;
    fprintf(stderr, "%9.3f s  error: %s%s%s\n", at, origin ? origin : "",
            origin ? ": " : "", m->message ? m->message : "(no message)");
  } else if (m->kind == CH_MSG_COMMITTED && !host->opt.quiet) {
    fprintf(stderr, "%9.3f s  committed: generation %lld, built in %.2f ms", at,
            (long long)m->generation, (double)m->build_ms);
    fprintf(stderr, "%s%s%s\n", origin ? " (" : "", origin ? origin : "",
            origin ? ")" : "");
  } else if (host->opt.verbose) {
    const char* const type = ch_host_unmap(&host->lv2, m->otype);
    fprintf(stderr, "%9.3f s  %s%s%s\n", at, type ? type : "answer",
            origin ? ": " : "", origin ? origin : "");
  }
}

static void
print_answers(Host* const host, const double seconds)
{
  ChHostAnswers answers;
  ChMsg         m;
  int64_t       frame = 0;
  ch_host_answers_begin(&answers, &host->uris, host->io.notify);
  while (ch_host_answers_next(&answers, &m, &frame)) {
    if (m.kind != CH_MSG_NONE) {
      print_answer(host, &m, seconds + (double)frame / (double)host->opt.rate);
    }
  }
}

/* With --bpm: the transport at frame `pos`, rolling from time 0, as a
   time:Position at the start of the block (as hosts send it). */
static bool
control_add_position(Host* const host, const int64_t pos)
{
  const Options* const opt   = &host->opt;
  const double         beats = (double)pos / opt->rate * opt->bpm / 60.0;
  const double         bar   = floor(beats / opt->beats_per_bar);
  ChMsg                msg   = ch_msg_init(CH_MSG_POSITION);
  msg.position =
    (ChPosition){ .has_bar           = true,
                  .has_bar_beat      = true,
                  .has_beats_per_bar = true,
                  .has_bpm           = true,
                  .has_speed         = true,
                  .bar               = (int64_t)bar,
                  .bar_beat      = (float)(beats - bar * opt->beats_per_bar),
                  .beats_per_bar = (float)opt->beats_per_bar,
                  .bpm           = (float)opt->bpm,
                  .speed         = 1.0f };
  LV2_Atom_Forge* const forge = &host->forge;
  lv2_atom_forge_set_buffer(forge, host->message, sizeof(host->message));
  if (!ch_msg_write(forge, &host->uris, &msg)) {
    return false;
  }
  const LV2_Atom* const atom = (const LV2_Atom*)host->message;
  return ch_host_control_add(&host->lv2, &host->io.control, 0, atom->type,
                             atom + 1, atom->size);
}

/* One run() of `n` frames (0: deliver messages only) at `pos`. */
static void
run_cycle(Host* const host, const int64_t pos, const uint32_t n)
{
  (void)ch_host_run(&host->lv2, host->io.notify, NOTIFY_SIZE, n);
  print_answers(host, (double)pos / (double)host->opt.rate);
}

typedef struct {
  double peak;
  double sum_squares;
  bool   non_finite;
} Stats;

/* The plugin's limiter, applied here (the plugin's own is switched off)
   with the same code and settings, so that the output is what the plugin
   would give and we can say how much it did. */
static void
limit(Host* const host, const uint32_t n)
{
  float* const left  = host->io.out[0];
  float* const right = host->io.out[1];
  for (uint32_t i = 0; i < n; ++i) {
    const float before = fmaxf(fabsf(left[i]), fabsf(right[i]));
    ch_limiter_process(&host->limiter, &left[i], &right[i], 1);
    const float after = fmaxf(fabsf(left[i]), fabsf(right[i]));
    if (after < before) {
      ++host->limited.frames;
      host->limited.least = fminf(host->limited.least, after / before);
    }
  }
}

static bool
write_frames(Host* const    host,
             const uint32_t n,
             float* const   interleaved,
             Stats* const   stats)
{
  if (!host->opt.no_limiter) {
    limit(host, n);
  }
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t c = 0; c < 2; ++c) {
      const float x = host->io.out[c][i];
      if (!isfinite(x)) {
        stats->non_finite = true;
      }
      interleaved[2u * i + c] = x;
      stats->peak             = fmax(stats->peak, fabs((double)x));
      stats->sum_squares += (double)x * (double)x;
    }
  }
  return host->pcm ? sf_writef_float(host->pcm, interleaved, n) == (sf_count_t)n
                   : ch_wav_write(&host->wav, interleaved, n);
}

static int
compare_events(const void* const a, const void* const b)
{
  const Event* const x = (const Event*)a;
  const Event* const y = (const Event*)b;
  if (x->frame != y->frame) {
    return x->frame < y->frame ? -1 : 1;
  }
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Renders `total` frames into `file`.  Events are sent at their frames.
   A commit (or program change) is sent in a run() of 0 frames at its own
   frame, so that the new patch plays from exactly that frame on, whatever
   the block size; control ports change between blocks, so blocks are also
   split where they change. */
static bool
render(Host* const host, const int64_t total, Stats* const stats)
{
  Event* const   events   = host->list.events;
  const uint32_t n_events = host->list.n;
  float* const   interleaved =
    (float*)malloc(2u * host->opt.block * sizeof(float));
  if (!interleaved) {
    return false;
  }
  bool     ok = true;
  uint32_t i  = 0;
  for (int64_t pos = 0; ok && pos < total;) {
    /* Events at `pos` up to the last commit among them: zero-length runs */
    uint32_t last = UINT32_MAX;
    for (uint32_t k = i; k < n_events && events[k].frame == pos; ++k) {
      last = events[k].commit ? k : last;
    }
    if (last != UINT32_MAX) {
      ch_host_control_clear(&host->io.control, host->uris.atom_Sequence);
      for (; ok && i <= last; ++i) {
        if (events[i].type == EV_PORT) {
          host->io.values[events[i].port] = events[i].value;
        } else {
          ok = control_add(host, &events[i], 0);
        }
        if (events[i].commit) {
          run_cycle(host, pos, 0);
          ch_host_control_clear(&host->io.control, host->uris.atom_Sequence);
        }
      }
    }

    /* One block, up to the next port change or commit */
    int64_t end = pos + (int64_t)host->opt.block;
    end         = end < total ? end : total;
    for (uint32_t k = i; k < n_events && events[k].frame < end; ++k) {
      if (events[k].frame > pos &&
          (events[k].type == EV_PORT || events[k].commit)) {
        end = events[k].frame;
        break;
      }
    }
    ch_host_control_clear(&host->io.control, host->uris.atom_Sequence);
    if (host->opt.bpm > 0.0) {
      ok = control_add_position(host, pos);
    }
    for (; ok && i < n_events && events[i].frame < end; ++i) {
      if (events[i].type == EV_PORT) {
        host->io.values[events[i].port] = events[i].value; /* at `pos` */
      } else {
        ok = control_add(host, &events[i], events[i].frame - pos);
      }
    }
    if (!ok) {
      fail("out of memory");
      break;
    }
    const uint32_t n = (uint32_t)(end - pos);
    run_cycle(host, pos, n);
    if (!write_frames(host, n, interleaved, stats)) {
      fail("cannot write %s: %s", host->opt.output,
           host->pcm ? sf_strerror(host->pcm) : strerror(errno));
      ok = false;
    }
    pos = end;
  }
  if (ok && i < n_events && !host->opt.quiet) {
    fprintf(stderr,
            "%s: warning: %u event%s after the end (--length) not sent\n", PROG,
            n_events - i, n_events - i == 1 ? "" : "s");
  }
  free(interleaved);
  return ok;
}

/* Command line */

static void
usage(FILE* const out)
{
  fprintf(
    out,
    "Usage: %s [OPTION]... -o OUT.wav\n"
    "Render the Chronus LV2 synth offline to a stereo WAV file.\n"
    "\n"
    "  --patch FILE      load this Turtle patch and commit it at time 0\n"
    "  --script FILE     timed messages, one per line (docs/render.md)\n"
    "  --midi FILE       a standard MIDI file to play\n"
    "  -o, --output FILE the WAV file to write\n"
    "  --length SECONDS  length of the output (default: last event + "
    "2 s)\n"
    "  --rate HZ         sample rate (default 48000)\n"
    "  --block N         frames per run(), 1..%u (default 256)\n"
    "  --gain DB         output gain port, -60..12 (default 0)\n"
    "  --bpm N           send the host transport (time:Position), rolling\n"
    "                    at N beats a minute from time 0 (for commit bar)\n"
    "  --beats-per-bar N beats in a bar of that transport (default 4)\n"
    "  --format F        'float' (32-bit, default) or '24' (PCM)\n"
    "  --no-limiter      no safety limiter (default: on, at -0.5 dBFS)\n"
    "  --bundle DIR      load the plugin from this bundle (default:\n"
    "                    %s)\n"
    "  --lv2-path        find the plugin in LV2_PATH instead\n"
    "  --keep-going      exit 0 even if the plugin reported errors or\n"
    "                    the output is silent\n"
    "  -q, --quiet       print errors only\n"
    "  -v, --verbose     also print the plugin's log and every answer\n"
    "  -h, --help        print this help\n"
    "  --version         print the version\n"
    "\n"
    "Exit status: 0 ok, 1 bad input or failure, 2 the plugin answered\n"
    "ch:Error, 3 the output is silent.\n",
    PROG, MAX_BLOCK, CH_BUNDLE_DIR[0] ? CH_BUNDLE_DIR : "none");
}

/* An option with a value; false (and a message) if the value is bad. */
static bool
value_option(Options* const opt, const char* const arg, const char* value)
{
  double x = 0.0;
  long   l = 0;
  if (!strcmp(arg, "--patch")) {
    opt->patch = value;
  } else if (!strcmp(arg, "--script")) {
    opt->script = value;
  } else if (!strcmp(arg, "--midi")) {
    opt->midi = value;
  } else if (!strcmp(arg, "-o") || !strcmp(arg, "--output")) {
    opt->output = value;
  } else if (!strcmp(arg, "--bundle")) {
    opt->bundle = value;
  } else if (!strcmp(arg, "--length")) {
    if (!parse_double(value, &x) || x <= 0.0 || x > 86400.0) {
      fail("bad --length '%s' (seconds, more than 0)", value);
      return false;
    }
    opt->length = x;
  } else if (!strcmp(arg, "--rate")) {
    if (!parse_long(value, &l) || l < 8000 || l > 768000) {
      fail("bad --rate '%s' (8000..768000 Hz)", value);
      return false;
    }
    opt->rate = (uint32_t)l;
  } else if (!strcmp(arg, "--block")) {
    if (!parse_long(value, &l) || l < 1 || l > (long)MAX_BLOCK) {
      fail("bad --block '%s' (1..%u frames)", value, MAX_BLOCK);
      return false;
    }
    opt->block = (uint32_t)l;
  } else if (!strcmp(arg, "--gain")) {
    if (!parse_double(value, &x) || x < -60.0 || x > 12.0) {
      fail("bad --gain '%s' (-60..12 dB)", value);
      return false;
    }
    opt->gain_db = (float)x;
  } else if (!strcmp(arg, "--bpm")) {
    if (!parse_double(value, &x) || !(x >= 1.0 && x <= 999.0)) {
      fail("bad --bpm '%s' (1..999 beats a minute)", value);
      return false;
    }
    opt->bpm = x;
  } else if (!strcmp(arg, "--beats-per-bar")) {
    if (!parse_double(value, &x) || !(x >= 1.0 && x <= 64.0)) {
      fail("bad --beats-per-bar '%s' (1..64)", value);
      return false;
    }
    opt->beats_per_bar = x;
  } else { /* --format */
    if (strcmp(value, "float") && strcmp(value, "24")) {
      fail("bad --format '%s' (float or 24)", value);
      return false;
    }
    opt->pcm24 = !strcmp(value, "24");
  }
  return true;
}

/* The flag an option without a value sets; NULL if `arg` sets none. */
static bool*
flag_of(Options* const opt, const char* const arg)
{
  const struct {
    const char* name;
    const char* alias;
    bool*       flag;
  } flags[] = {
    { "--no-limiter", NULL, &opt->no_limiter },
    { "--lv2-path", NULL, &opt->lv2_path },
    { "--keep-going", NULL, &opt->keep_going },
    { "--quiet", "-q", &opt->quiet },
    { "--verbose", "-v", &opt->verbose },
  };
  for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); ++k) {
    if (!strcmp(arg, flags[k].name) ||
        (flags[k].alias && !strcmp(arg, flags[k].alias))) {
      return flags[k].flag;
    }
  }
  return NULL;
}

static bool
parse_args(Options* const opt, const int argc, char** const argv)
{
  *opt = (Options){
    .length = -1.0, .block = 256u, .rate = 48000u, .beats_per_bar = 4.0
  };
  for (int i = 1; i < argc; ++i) {
    const char* arg   = argv[i];
    const char* value = NULL;
    char        name[32];
    const char* eq = strchr(arg, '=');
    if (!strncmp(arg, "--", 2) && eq && (size_t)(eq - arg) < sizeof(name)) {
      memcpy(name, arg, (size_t)(eq - arg));
      name[eq - arg] = '\0';
      arg            = name;
      value          = eq + 1;
    }
    static const char* const with_value[] = {
      "--patch",  "--script", "--midi",          "-o",     "--output",
      "--length", "--rate",   "--block",         "--gain", "--format",
      "--bundle", "--bpm",    "--beats-per-bar",
    };
    bool needs_value = false;
    for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); ++k) {
      needs_value = needs_value || !strcmp(arg, with_value[k]);
    }
    if (needs_value && !value) {
      if (i + 1 >= argc) {
        fail("%s needs a value (try --help)", arg);
        return false;
      }
      value = argv[++i];
    } else if (!needs_value && value) {
      fail("%s takes no value", arg);
      return false;
    }

    bool* const flag = flag_of(opt, arg);
    if (needs_value) {
      if (!value_option(opt, arg, value)) {
        return false;
      }
    } else if (flag) {
      *flag = true;
    } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(arg, "--version")) {
      printf("%s %s\n", PROG, CH_VERSION);
      exit(0);
    } else {
      fail("unknown option '%s' (try --help)", argv[i]);
      return false;
    }
  }
  if (!opt->output) {
    fail("no output file: give -o OUT.wav (try --help)");
    return false;
  }
  if (opt->bundle && opt->lv2_path) {
    fail("--bundle and --lv2-path exclude each other");
    return false;
  }
  return true;
}

/* Everything the host allocated, in any state of setup. */
static void
host_free(Host* const host)
{
  for (uint32_t i = 0; i < host->list.n; ++i) {
    free(host->list.events[i].data);
    free(host->list.origins[i]);
  }
  free(host->list.events);
  free(host->list.origins);
  ch_host_io_free(&host->io);
  free(host->known);
  ch_host_clear(&host->lv2);
}

/* The --patch, script and MIDI file as events, sorted; the length. */
static bool
read_inputs(Host* const host, int64_t* const total)
{
  const Options* const opt = &host->opt;
  if (opt->patch) {
    char* const path = realpath(opt->patch, NULL);
    if (!path) {
      fail("cannot open patch '%s': %s", opt->patch, strerror(errno));
      return false;
    }
    char origin[PATH_MAX + 16];
    snprintf(origin, sizeof(origin), "--patch %s", opt->patch);
    const bool ok = check_patch(host, path, opt->patch, PROG) &&
                    add_load(host, 0, path, origin) &&
                    add_simple(host, 0, CH_MSG_COMMIT, origin);
    free(path);
    if (!ok) {
      return false;
    }
  }
  if ((opt->script && !read_script(host, opt->script)) ||
      (opt->midi && !read_midi(host, opt->midi))) {
    return false;
  }
  qsort(host->list.events, host->list.n, sizeof(Event), compare_events);

  int64_t last = 0;
  for (uint32_t i = 0; i < host->list.n; ++i) {
    last =
      host->list.events[i].frame > last ? host->list.events[i].frame : last;
  }
  *total = opt->length > 0.0 ? (int64_t)llround(opt->length * opt->rate)
                             : last + 2 * (int64_t)opt->rate;
  return true;
}

/* Buffers, the instance and the output file. */
static bool
start(Host* const host)
{
  const Options* const opt = &host->opt;
  if (!ch_host_io_alloc(&host->lv2, &host->io, opt->block, 64u * 1024u,
                        NOTIFY_SIZE)) {
    return false;
  }
  const ChHostSettings settings = { .rate           = opt->rate,
                                    .max_block      = opt->block,
                                    .sequence_size  = NOTIFY_SIZE,
                                    .check_features = true };
  if (!ch_host_instantiate(&host->lv2, &settings)) {
    return false;
  }
  ch_host_io_connect(&host->lv2, &host->io);

  if (!opt->pcm24) {
    if (!ch_wav_open(&host->wav, opt->output, opt->rate, 2)) {
      fail("cannot write '%s': %s", opt->output, strerror(errno));
      return false;
    }
    return true;
  }
  SF_INFO info;
  memset(&info, 0, sizeof(info));
  info.samplerate = (int)opt->rate;
  info.channels   = 2;
  info.format     = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
  if (!(host->pcm = sf_open(opt->output, SFM_WRITE, &info))) {
    fail("cannot write '%s': %s", opt->output, sf_strerror(NULL));
    return false;
  }
  /* No PEAK chunk: it holds a time stamp, and equal renders should give
     equal files.  Clip rather than wrap. */
  sf_command(host->pcm, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
  sf_command(host->pcm, SFC_SET_CLIPPING, NULL, SF_TRUE);
  return true;
}

/* What the limiter did: a new user should not wonder why a chord is
   pinned at -0.5 dBFS. */
static void
report_limiter(const Host* const host)
{
  if (host->opt.quiet || host->opt.no_limiter) {
    return;
  }
  if (!host->limited.frames) {
    fprintf(stderr, "%s: limiter: never engaged\n", PROG);
    return;
  }
  fprintf(stderr,
          "%s: limiter: engaged for %.3f s, most gain reduction %.1f dB "
          "(lower the levels or --gain to avoid it; --no-limiter turns "
          "it off)\n",
          PROG, (double)host->limited.frames / host->opt.rate,
          -20.0 * log10((double)host->limited.least));
}

/* The summary and the exit status. */
static int
finish(Host* const host, const int64_t total, const Stats* const stats)
{
  const Options* const opt     = &host->opt;
  const double         seconds = (double)total / opt->rate;
  const double         rms = sqrt(stats->sum_squares / (2.0 * (double)total));
  if (!opt->quiet) {
    fprintf(
      stderr,
      "%s: wrote %s: %.3f s, %u Hz, stereo %s, peak %.1f dBFS, "
      "RMS %.1f dBFS\n",
      PROG, opt->output, seconds, opt->rate, opt->pcm24 ? "24-bit" : "float",
      20.0 * log10(fmax(stats->peak, 1e-12)), 20.0 * log10(fmax(rms, 1e-12)));
  }
  report_limiter(host);
  if (stats->non_finite) {
    fail("warning: the output has non-finite samples");
  }
  if (stats->peak > 1.0) {
    fail("warning: the output exceeds 0 dBFS (peak %.2f)%s", stats->peak,
         opt->pcm24 ? ": clipped" : "");
  }
  if (host->n_errors) {
    fail("the plugin reported %u error%s", host->n_errors,
         host->n_errors == 1 ? "" : "s");
    return opt->keep_going ? 0 : EXIT_PLUGIN_ERROR;
  }
  if (stats->peak < SILENCE) {
    fail("warning: the output is silent");
    return opt->keep_going ? 0 : EXIT_SILENT;
  }
  return 0;
}

static int
run_host(Host* const host)
{
  const Options* const opt = &host->opt;
  ch_host_init(&host->lv2, PROG);
  host->lv2.verbose   = opt->verbose;
  host->lv2.typed_log = true;
  ch_uris_map(&host->uris, &host->lv2.map);
  lv2_atom_forge_init(&host->forge, &host->lv2.map);
  if (!load_plugin(host) || !find_ports(host)) {
    return 1;
  }
  know_bank(host);

  int64_t total = 0;
  if (!read_inputs(host, &total) || !start(host)) {
    return 1;
  }
  /* The same limiter as the plugin's (plugin/plugin.c), run here. */
  ch_limiter_init(&host->limiter, (float)opt->rate, CH_LIMITER_CEILING,
                  CH_LIMITER_RELEASE);
  host->limited.least = 1.0f;

  Stats stats = { 0.0, 0.0, false };
  lilv_instance_activate(host->lv2.instance);
  const bool ok = render(host, total, &stats);
  lilv_instance_deactivate(host->lv2.instance);
  const bool closed =
    host->pcm ? !sf_close(host->pcm) : ch_wav_close(&host->wav);
  host->pcm = NULL;
  if (!closed) {
    fail("cannot finish '%s'", opt->output);
    return 1;
  }
  return ok ? finish(host, total, &stats) : 1;
}

int
main(int argc, char** argv)
{
  Host* const host = (Host*)calloc(1, sizeof(Host));
  if (!host) {
    fail("out of memory");
    return 1;
  }
  if (!parse_args(&host->opt, argc, argv)) {
    free(host);
    return 1;
  }
  const int status = run_host(host);
  host_free(host);
  free(host);
  return status;
}
