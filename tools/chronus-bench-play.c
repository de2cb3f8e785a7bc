/* chronus-bench-play: plays one LV2 instrument (any URI) an 8-note chord
   and then silence, and reports the cost of run() per sample: wall-clock,
   and instruction counts when run under callgrind (bench/count.sh). */
#include "lib/lv2host.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/midi/midi.h>
#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__has_include)
#  if __has_include(<valgrind/callgrind.h>)
#    include <valgrind/callgrind.h>
#  endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#  define CALLGRIND_START_INSTRUMENTATION
#  define CALLGRIND_STOP_INSTRUMENTATION
#  define CALLGRIND_DUMP_STATS_AT(label) ((void)(label))
#  define CALLGRIND_ZERO_STATS
#  define CALLGRIND_TOGGLE_COLLECT
#endif

#if defined(__SSE__) || defined(__x86_64__)
#  include <xmmintrin.h>
#endif

#define PROG      "chronus-bench-play"
#define RATE      48000u
#define SEQ_SIZE  8192u
#define MAX_FRAME 4096u

/* Timeline, in seconds: the chord starts at 0, is measured while held,
   released, and the silence after its tail is measured. */
#define WARM_S    0.25
#define MEASURE_S 0.5
#define TAIL_S    8.0

typedef struct {
  ChHost             lv2; /* its log, options and synchronous worker */
  LV2_URID           midi_Event;
  LV2_URID           atom_Sequence;
  LV2_URID           atom_Chunk;
  uint32_t           block;
  LV2_Atom_Sequence* in;
  LV2_Atom_Sequence* notify;
  float*             out[2];
  double             peak;
  bool               counting; /* in a measured segment */
} Player;

static void
seq_midi(Player* const p, const uint8_t status, const uint8_t note)
{
  const uint8_t msg[3] = { status, note, status == 0x90 ? 100 : 0 };
  ch_host_seq_append(p->in, 0, p->midi_Event, msg, 3u);
}

/* The chord of chronus-bench: C over three octaves, root to tenth. */
static void
chord(Player* const p, const uint8_t status)
{
  static const uint8_t notes[8] = { 36, 48, 55, 60, 64, 67, 72, 76 };
  for (uint32_t i = 0; i < 8u; ++i) {
    seq_midi(p, status, notes[i]);
  }
}

/* Runs `frames` in blocks; the events in `p->in` go with the first. */
static void
play(Player* const p, const uint32_t frames)
{
  for (uint32_t pos = 0; pos < frames; pos += p->block) {
    const uint32_t n     = frames - pos < p->block ? frames - pos : p->block;
    p->notify->atom.type = p->atom_Chunk; /* empty room for answers */
    p->notify->atom.size = SEQ_SIZE - (uint32_t)sizeof(LV2_Atom);
    if (p->counting) {
      CALLGRIND_TOGGLE_COLLECT; /* count run() only */
    }
    lilv_instance_run(p->lv2.instance, n);
    if (p->counting) {
      CALLGRIND_TOGGLE_COLLECT;
    }
    const LV2_Worker_Interface* const worker = p->lv2.worker;
    if (worker && worker->end_run) {
      worker->end_run(lilv_instance_get_handle(p->lv2.instance));
    }
    ch_host_seq_clear(p->in, p->atom_Sequence);
    for (uint32_t i = 0; i < n; ++i) {
      const double x = fabs((double)p->out[0][i]);
      p->peak        = x > p->peak || x != x ? x : p->peak;
    }
  }
}

/* One measured segment: instructions (under callgrind) and wall-clock. */
static double
measure(Player* const p, const uint32_t frames, const char* const label)
{
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
  p->counting        = true;
  const double start = ch_host_now_ns();
  play(p, frames);
  const double ns = ch_host_now_ns() - start;
  p->counting     = false;
  CALLGRIND_STOP_INSTRUMENTATION;
  CALLGRIND_DUMP_STATS_AT(label);
  return ns / frames;
}

static void
usage(void)
{
  fprintf(stderr,
          "usage: %s URI BLOCK [PORT=VALUE ...]\n"
          "Plays URI (found in LV2_PATH) an 8-note chord at 48 kHz in blocks "
          "of BLOCK frames,\nthen silence; prints ns per sample of run() "
          "while playing and idle.\nUnder callgrind (bench/count.sh) each "
          "segment is dumped as 'playing' or 'idle'.\n",
          PROG);
}

/* Connects every port: control inputs to their defaults (or PORT=VALUE),
   the first atom input and output, the first two audio outputs. */
static bool
connect(Player* const           p,
        const LilvPlugin* const plugin,
        LilvWorld* const        world,
        float* const            values,
        float* const            dummy,
        int                     argc,
        char** const            argv)
{
  LilvNode* const input   = lilv_new_uri(world, LV2_CORE__InputPort);
  LilvNode* const audio   = lilv_new_uri(world, LV2_CORE__AudioPort);
  LilvNode* const control = lilv_new_uri(world, LV2_CORE__ControlPort);
  LilvNode* const atom    = lilv_new_uri(world, LV2_ATOM__AtomPort);
  const uint32_t  n_ports = lilv_plugin_get_num_ports(plugin);
  uint32_t        n_out = 0, n_atom_in = 0, n_atom_out = 0;
  lilv_plugin_get_port_ranges_float(plugin, NULL, NULL, values);
  for (uint32_t i = 0; i < n_ports; ++i) {
    const LilvPort* const port = lilv_plugin_get_port_by_index(plugin, i);
    const bool            in   = lilv_port_is_a(plugin, port, input);
    const char* const     sym =
      lilv_node_as_string(lilv_port_get_symbol(plugin, port));
    void* buffer = dummy;
    if (lilv_port_is_a(plugin, port, control)) {
      values[i] = isnan(values[i]) ? 0.0f : values[i];
      for (int a = 3; a < argc; ++a) {
        const size_t len = strlen(sym);
        if (!strncmp(argv[a], sym, len) && argv[a][len] == '=') {
          values[i] = strtof(argv[a] + len + 1, NULL);
        }
      }
      buffer = &values[i];
    } else if (lilv_port_is_a(plugin, port, atom)) {
      buffer = in ? (n_atom_in++ ? dummy : (void*)p->in)
                  : (n_atom_out++ ? dummy : (void*)p->notify);
    } else if (lilv_port_is_a(plugin, port, audio) && !in && n_out < 2u) {
      buffer = p->out[n_out++];
    }
    lilv_instance_connect_port(p->lv2.instance, i, buffer);
  }
  lilv_node_free(input);
  lilv_node_free(audio);
  lilv_node_free(control);
  lilv_node_free(atom);
  return n_atom_in && n_out;
}

/* Instantiates the plugin with lv2host's features and the two a DAW
   playing in fixed blocks adds. */
static bool
instantiate(Player* const p, LilvWorld* const world, const LilvPlugin* plugin)
{
  static const char* const more[]   = { LV2_BUF_SIZE__fixedBlockLength,
                                        LV2_STATE__loadDefaultState, NULL };
  const ChHostSettings     settings = {
        .rate          = RATE,
        .max_block     = p->block,
        .nominal_block = p->block,
        .sequence_size = SEQ_SIZE,
        .more_features = more,
  };
  ch_host_use_world(&p->lv2, world, plugin);
  return ch_host_instantiate(&p->lv2, &settings);
}

static int
run_plugin(Player* const           p,
           const LilvPlugin* const plugin,
           LilvWorld*              world,
           int                     argc,
           char**                  argv)
{
  const uint32_t n_ports = lilv_plugin_get_num_ports(plugin);
  float* const   values  = (float*)calloc(n_ports, sizeof(float));
  float* const   dummy   = (float*)calloc(MAX_FRAME, sizeof(float));
  if (!values || !dummy) {
    fprintf(stderr, "%s: out of memory\n", PROG);
    return 1;
  }
  if (!instantiate(p, world, plugin)) {
    return 1; /* lv2host said why */
  }
  ch_host_seq_clear(p->in, p->atom_Sequence);
  if (!connect(p, plugin, world, values, dummy, argc, argv)) {
    fprintf(stderr, "%s: %s lacks a MIDI input or audio output\n", PROG,
            argv[1]);
    return 1;
  }
  lilv_instance_activate(p->lv2.instance);
  play(p, RATE / 2u); /* program changes and commits land here */
  chord(p, 0x90);
  play(p, (uint32_t)(WARM_S * RATE));
  const double playing = measure(p, (uint32_t)(MEASURE_S * RATE), "playing");
  const double peak    = p->peak;
  chord(p, 0x80);
  play(p, (uint32_t)(TAIL_S * RATE));
  p->peak           = 0.0;
  const double idle = measure(p, (uint32_t)(MEASURE_S * RATE), "idle");
  printf("%s block %u playing %.2f ns/sample (peak %.3f) idle %.2f "
         "ns/sample (peak %.2g)\n",
         argv[1], p->block, playing, peak, idle, p->peak);
  lilv_instance_deactivate(p->lv2.instance);
  ch_host_drop_instance(&p->lv2);
  free(values);
  free(dummy);
  return peak > 0.0 ? 0 : 1;
}

int
main(int argc, char** argv)
{
  if (argc < 3 || atoi(argv[2]) < 1 || atoi(argv[2]) > (int)MAX_FRAME) {
    usage();
    return 2;
  }
#if defined(__SSE__) || defined(__x86_64__)
  _mm_setcsr(_mm_getcsr() | 0x8040u); /* as a DAW's audio thread */
#endif
  static Player   p;
  static float    out[2][MAX_FRAME];
  static uint64_t in[SEQ_SIZE / 8u];
  static uint64_t notify[SEQ_SIZE / 8u];
  ch_host_init(&p.lv2, PROG);
  p.lv2.verbose   = true; /* the plugin's every log message */
  p.block         = (uint32_t)atoi(argv[2]);
  p.in            = (LV2_Atom_Sequence*)in;
  p.notify        = (LV2_Atom_Sequence*)notify;
  p.out[0]        = out[0];
  p.out[1]        = out[1];
  p.midi_Event    = ch_host_map(&p.lv2, LV2_MIDI__MidiEvent);
  p.atom_Sequence = ch_host_map(&p.lv2, LV2_ATOM__Sequence);
  p.atom_Chunk    = ch_host_map(&p.lv2, LV2_ATOM__Chunk);

  LilvWorld* const world = lilv_world_new();
  lilv_world_load_all(world);
  LilvNode* const         uri = lilv_new_uri(world, argv[1]);
  const LilvPlugin* const plugin =
    lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), uri);
  int status = 2;
  if (!plugin) {
    fprintf(stderr, "%s: no plugin <%s> in LV2_PATH\n", PROG, argv[1]);
  } else {
    status = run_plugin(&p, plugin, world, argc, argv);
  }
  lilv_node_free(uri);
  ch_host_clear(&p.lv2);
  lilv_world_free(world);
  return status;
}
