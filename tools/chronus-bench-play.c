/* chronus-bench-play: plays one LV2 instrument (any URI) an 8-note chord
   and then silence, and reports the cost of run() per sample: wall-clock,
   and instruction counts when run under callgrind (bench/count.sh). */
#include "lib/lv2host.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <math.h>
#include <stdarg.h>
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
  ChHostUrids                 urids;
  LV2_URID_Map                map;
  LV2_URID_Unmap              unmap;
  LilvInstance*               instance;
  const LV2_Worker_Interface* worker;
  LV2_URID                    midi_Event;
  LV2_URID                    atom_Sequence;
  LV2_URID                    atom_Chunk;
  uint32_t                    block;
  LV2_Atom_Sequence*          in;
  LV2_Atom_Sequence*          notify;
  float*                      out[2];
  double                      peak;
  bool                        counting; /* in a measured segment */
} Player;

static int
log_vprintf(LV2_Log_Handle h, LV2_URID type, const char* fmt, va_list args)
{
  (void)h;
  (void)type;
  fprintf(stderr, "%s: plugin: ", PROG);
  return vfprintf(stderr, fmt, args);
}

static int
log_printf(LV2_Log_Handle h, LV2_URID type, const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  const int r = log_vprintf(h, type, fmt, args);
  va_end(args);
  return r;
}

/* A synchronous worker, as in tools/lib/lv2host.c */
static LV2_Worker_Status
respond(LV2_Worker_Respond_Handle handle, uint32_t size, const void* data)
{
  Player* const p = (Player*)handle;
  return p->worker->work_response(lilv_instance_get_handle(p->instance), size,
                                  data);
}

static LV2_Worker_Status
schedule(LV2_Worker_Schedule_Handle handle, uint32_t size, const void* data)
{
  Player* const p = (Player*)handle;
  if (!p->worker) {
    return LV2_WORKER_ERR_UNKNOWN;
  }
  return p->worker->work(lilv_instance_get_handle(p->instance), respond, p,
                         size, data);
}

static void
seq_clear(Player* const p, LV2_Atom_Sequence* const seq, const bool out)
{
  seq->atom.type = out ? p->atom_Chunk : p->atom_Sequence;
  seq->atom.size = out ? SEQ_SIZE - (uint32_t)sizeof(LV2_Atom)
                       : sizeof(LV2_Atom_Sequence_Body);
  seq->body.unit = 0;
  seq->body.pad  = 0;
}

static void
seq_midi(Player* const p, const uint8_t status, const uint8_t note)
{
  LV2_Atom_Sequence* const seq = p->in;
  LV2_Atom_Event* const    ev =
    (LV2_Atom_Event*)((uint8_t*)seq + sizeof(LV2_Atom) + seq->atom.size);
  ev->time.frames    = 0;
  ev->body.type      = p->midi_Event;
  ev->body.size      = 3;
  uint8_t* const msg = (uint8_t*)(ev + 1);
  msg[0]             = status;
  msg[1]             = note;
  msg[2]             = status == 0x90 ? 100 : 0;
  seq->atom.size += lv2_atom_pad_size((uint32_t)sizeof(LV2_Atom_Event) + 3u);
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
    const uint32_t n = frames - pos < p->block ? frames - pos : p->block;
    seq_clear(p, p->notify, true);
    if (p->counting) {
      CALLGRIND_TOGGLE_COLLECT; /* count run() only */
    }
    lilv_instance_run(p->instance, n);
    if (p->counting) {
      CALLGRIND_TOGGLE_COLLECT;
    }
    if (p->worker && p->worker->end_run) {
      p->worker->end_run(lilv_instance_get_handle(p->instance));
    }
    seq_clear(p, p->in, false);
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
    lilv_instance_connect_port(p->instance, i, buffer);
  }
  lilv_node_free(input);
  lilv_node_free(audio);
  lilv_node_free(control);
  lilv_node_free(atom);
  return n_atom_in && n_out;
}

/* One instance option of the host's, for the plugin to read. */
static LV2_Options_Option
option(Player* const     p,
       const char* const key,
       const uint32_t    size,
       const LV2_URID    type,
       const void* const value)
{
  return (LV2_Options_Option){
    LV2_OPTIONS_INSTANCE, 0, ch_urids_map(&p->urids, key), size, type, value
  };
}

static LilvInstance*
instantiate(Player* const p, const LilvPlugin* const plugin)
{
  static float              rate;
  static int32_t            lengths[3];
  static int32_t            seq_size = SEQ_SIZE;
  static LV2_Options_Option opts[6];
  const LV2_URID            f32 = ch_urids_map(&p->urids, LV2_ATOM__Float);
  const LV2_URID            i32 = ch_urids_map(&p->urids, LV2_ATOM__Int);
  rate                          = (float)RATE;
  lengths[0]                    = 1;
  lengths[1] = lengths[2] = (int32_t)p->block;
  opts[0] = option(p, LV2_PARAMETERS__sampleRate, sizeof(float), f32, &rate);
  opts[1] =
    option(p, LV2_BUF_SIZE__minBlockLength, sizeof(int32_t), i32, &lengths[0]);
  opts[2] =
    option(p, LV2_BUF_SIZE__maxBlockLength, sizeof(int32_t), i32, &lengths[1]);
  opts[3] = option(p, LV2_BUF_SIZE__nominalBlockLength, sizeof(int32_t), i32,
                   &lengths[2]);
  opts[4] =
    option(p, LV2_BUF_SIZE__sequenceSize, sizeof(int32_t), i32, &seq_size);
  opts[5] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL };

  static LV2_Worker_Schedule sched;
  static LV2_Log_Log         log;
  sched = (LV2_Worker_Schedule){ p, schedule };
  log   = (LV2_Log_Log){ p, log_printf, log_vprintf };
  static LV2_Feature f[8];
  f[0] = (LV2_Feature){ LV2_URID__map, &p->map };
  f[1] = (LV2_Feature){ LV2_URID__unmap, &p->unmap };
  f[2] = (LV2_Feature){ LV2_WORKER__schedule, &sched };
  f[3] = (LV2_Feature){ LV2_LOG__log, &log };
  f[4] = (LV2_Feature){ LV2_OPTIONS__options, opts };
  f[5] = (LV2_Feature){ LV2_BUF_SIZE__boundedBlockLength, NULL };
  f[6] = (LV2_Feature){ LV2_BUF_SIZE__fixedBlockLength, NULL };
  f[7] = (LV2_Feature){ LV2_STATE__loadDefaultState, NULL };
  static const LV2_Feature* features[9];
  for (uint32_t i = 0; i < 8u; ++i) {
    features[i] = &f[i];
  }
  return lilv_plugin_instantiate(plugin, RATE, features);
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
  p->instance            = instantiate(p, plugin);
  if (!values || !dummy || !p->instance) {
    fprintf(stderr, "%s: cannot instantiate %s\n", PROG, argv[1]);
    return 1;
  }
  p->worker = (const LV2_Worker_Interface*)lilv_instance_get_extension_data(
    p->instance, LV2_WORKER__interface);
  seq_clear(p, p->in, false);
  if (!connect(p, plugin, world, values, dummy, argc, argv)) {
    fprintf(stderr, "%s: %s lacks a MIDI input or audio output\n", PROG,
            argv[1]);
    return 1;
  }
  lilv_instance_activate(p->instance);
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
  lilv_instance_deactivate(p->instance);
  lilv_instance_free(p->instance);
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
  static Player   p = { .urids = CH_HOST_URIDS_INIT };
  static float    out[2][MAX_FRAME];
  static uint64_t in[SEQ_SIZE / 8u];
  static uint64_t notify[SEQ_SIZE / 8u];
  p.map           = (LV2_URID_Map){ &p.urids, ch_urids_map };
  p.unmap         = (LV2_URID_Unmap){ &p.urids, ch_urids_unmap };
  p.block         = (uint32_t)atoi(argv[2]);
  p.in            = (LV2_Atom_Sequence*)in;
  p.notify        = (LV2_Atom_Sequence*)notify;
  p.out[0]        = out[0];
  p.out[1]        = out[1];
  p.midi_Event    = ch_urids_map(&p.urids, LV2_MIDI__MidiEvent);
  p.atom_Sequence = ch_urids_map(&p.urids, LV2_ATOM__Sequence);
  p.atom_Chunk    = ch_urids_map(&p.urids, LV2_ATOM__Chunk);

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
  lilv_world_free(world);
  ch_urids_clear(&p.urids);
  return status;
}
