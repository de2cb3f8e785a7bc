/* chronus-midi-send: plays the MIDI lines of a timed script into a JACK
   MIDI port (e.g. Chronus in jalv), so a headless setup needs no keyboard. */
#include "lib/midi.h"

#include <jack/jack.h>
#include <jack/midiport.h>

#include <errno.h>
#include <math.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "chronus-midi-send"

typedef struct {
  double   seconds;
  int64_t  frame;
  uint32_t line; /* keeps equal times in file order */
  uint32_t size;
  uint8_t  msg[3];
} Event;

typedef struct {
  jack_client_t* client;
  jack_port_t*   port;
  Event*         events;
  uint32_t       n;
  uint32_t       cap;
  uint32_t       next;    /* first event not sent; the process thread's */
  int64_t        pos;     /* frames played since activation */
  atomic_bool    started; /* connected: time runs from the next cycle */
  atomic_bool    done;    /* all sent and delivered */
  sem_t          finished;
} Sender;

static int
compare_events(const void* const a, const void* const b)
{
  const Event* const x = (const Event*)a;
  const Event* const y = (const Event*)b;
  if (x->seconds != y->seconds) {
    return x->seconds < y->seconds ? -1 : 1;
  }
  return x->line < y->line ? -1 : x->line > y->line;
}

/* JACK's process callback: the events due in this cycle, at their frame.
   The cycle after the last one, the main thread is told to finish. */
static int
process(const jack_nframes_t nframes, void* const arg)
{
  Sender* const s      = (Sender*)arg;
  void* const   buffer = jack_port_get_buffer(s->port, nframes);
  jack_midi_clear_buffer(buffer);
  if (!atomic_load(&s->started)) {
    return 0; /* what is sent before the connection is lost */
  }
  if (s->next == s->n && !atomic_load(&s->done)) {
    atomic_store(&s->done, true);
    sem_post(&s->finished);
  }
  while (s->next < s->n && s->events[s->next].frame < s->pos + nframes) {
    const Event* const ev     = &s->events[s->next++];
    const int64_t      offset = ev->frame > s->pos ? ev->frame - s->pos : 0;
    jack_midi_event_write(buffer, (jack_nframes_t)offset, ev->msg, ev->size);
  }
  s->pos += nframes;
  return 0;
}

/* One line: "SECONDS COMMAND ARGS"; '#' at a word's start comments. */
static bool
read_line(Sender* const s, char* const line, const char* const origin)
{
  for (char* c = line; *c; ++c) {
    if (*c == '#' && (c == line || c[-1] == ' ' || c[-1] == '\t')) {
      *c = '\0';
      break;
    }
  }
  char* argv[8];
  int   argc = 0;
  for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && argc < 8;
       t = strtok_r(NULL, " \t\r\n", &save)) {
    argv[argc++] = t;
  }
  if (!argc) {
    return true;
  }
  char*        end     = NULL;
  const double seconds = strtod(argv[0], &end);
  if (end == argv[0] || *end || !(seconds >= 0.0 && seconds <= 86400.0) ||
      argc < 2) {
    fprintf(stderr, "%s: expected SECONDS COMMAND ARGUMENTS...\n", origin);
    return false;
  }
  if (s->n == s->cap) {
    s->cap             = s->cap ? 2u * s->cap : 256u;
    Event* const grown = (Event*)realloc(s->events, s->cap * sizeof(Event));
    if (!grown) {
      fprintf(stderr, "%s: out of memory\n", PROG);
      return false;
    }
    s->events = grown;
  }
  Event* const ev = &s->events[s->n];
  char         why[256];
  ev->seconds = seconds;
  ev->line    = s->n;
  ev->size    = ch_midi_parse(argv + 1, argc - 1, ev->msg, why, sizeof(why));
  if (!ev->size) {
    fprintf(stderr, "%s: %s\n", origin, why);
    return false;
  }
  ++s->n;
  return true;
}

static bool
read_script(Sender* const s, const char* const path)
{
  FILE* const file = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!file) {
    fprintf(stderr, "%s: cannot open '%s': %s\n", PROG, path, strerror(errno));
    return false;
  }
  char line[1024];
  char origin[1100];
  bool ok = true;
  for (unsigned number = 1; fgets(line, sizeof(line), file); ++number) {
    snprintf(origin, sizeof(origin), "%s:%u", path, number);
    ok = read_line(s, line, origin) && ok;
  }
  if (file != stdin) {
    fclose(file);
  }
  qsort(s->events, s->n, sizeof(Event), compare_events);
  return ok;
}

static void
usage(FILE* const out)
{
  fprintf(
    out,
    "Usage: %s [-s SERVER] [-n NAME] -c PORT SCRIPT\n"
    "Play the MIDI lines of a timed script (SCRIPT, or - for stdin)\n"
    "into the JACK MIDI input PORT, e.g. chronus:control, then quit.\n"
    "Lines are 'SECONDS COMMAND ARGUMENTS' as in chronus-render\n"
    "scripts: note-on NOTE VELOCITY, note-off NOTE, cc NUMBER VALUE,\n"
    "bend VALUE, program N (a MIDI program change); channel 1.\n"
    "\n"
    "  -s SERVER   the JACK server's name (default: $JACK_DEFAULT_SERVER\n"
    "              or 'default')\n"
    "  -n NAME     this client's name (default: %s)\n"
    "  -c PORT     the port to connect to (required)\n",
    PROG, PROG);
}

/* Opens the client, registers and connects the port, plays, waits. */
static int
play(Sender* const s, const char* server, const char* name, const char* dest)
{
  jack_status_t status = 0;
  s->client = jack_client_open(name, server ? JackServerName : JackNullOption,
                               &status, server);
  if (!s->client) {
    fprintf(stderr, "%s: cannot reach the JACK server%s%s (status 0x%x)\n",
            PROG, server ? " " : "", server ? server : "", (unsigned)status);
    return 1;
  }
  /* JACK applies a new connection to its process graph a cycle or so
     after jack_connect() returns: start the clock 50 ms (at least two
     cycles) later, or the first events would go nowhere. */
  const double  rate  = jack_get_sample_rate(s->client);
  const int64_t cycle = (int64_t)jack_get_buffer_size(s->client);
  const int64_t lead  = (int64_t)fmax(0.05 * rate, 2.0 * (double)cycle);
  for (uint32_t i = 0; i < s->n; ++i) {
    s->events[i].frame = lead + (int64_t)llround(s->events[i].seconds * rate);
  }
  s->port = jack_port_register(s->client, "midi_out", JACK_DEFAULT_MIDI_TYPE,
                               JackPortIsOutput, 0);
  if (!s->port || jack_set_process_callback(s->client, process, s) ||
      jack_activate(s->client)) {
    fprintf(stderr, "%s: cannot set up the JACK client\n", PROG);
    return 1;
  }
  if (jack_connect(s->client, jack_port_name(s->port), dest)) {
    fprintf(stderr, "%s: cannot connect to '%s' (see jack_lsp)\n", PROG, dest);
    return 1;
  }
  atomic_store(&s->started, true);
  while (sem_wait(&s->finished) && errno == EINTR) {
  }
  return 0;
}

int
main(int argc, char** argv)
{
  const char* server = getenv("JACK_DEFAULT_SERVER");
  const char* name   = PROG;
  const char* dest   = NULL;
  int         i      = 1;
  for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1]; i += 2) {
    if (!strcmp(argv[i], "-s")) {
      server = argv[i + 1];
    } else if (!strcmp(argv[i], "-n")) {
      name = argv[i + 1];
    } else if (!strcmp(argv[i], "-c")) {
      dest = argv[i + 1];
    } else {
      break;
    }
  }
  if (i + 1 != argc || !dest) {
    usage(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
    return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 1;
  }
  Sender s;
  memset(&s, 0, sizeof(s));
  sem_init(&s.finished, 0, 0);
  int status = read_script(&s, argv[i]) ? play(&s, server, name, dest) : 1;
  if (s.client) {
    jack_deactivate(s.client);
    jack_client_close(s.client);
  }
  sem_destroy(&s.finished);
  free(s.events);
  return status;
}
