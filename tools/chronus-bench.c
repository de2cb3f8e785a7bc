/* chronus-bench: measures Chronus (docs/benchmarks.md): CPU load through the
   real plugin hosted with lilv, the graph's overhead over its bare kernels,
   commit build time and graph memory.  Prints numbers; asserts nothing. */
#include "../src/build.h"
#include "../src/graph.h"
#include "../src/model.h"
#include "../src/patch.h"
#include "../src/voicing.h"
#include "lib/lv2host.h"
#include "protocol.h"

#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/urid/urid.h>

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
#include <time.h>
#include <unistd.h>

#ifndef CH_BUNDLE_DIR
#  define CH_BUNDLE_DIR ""
#endif
#ifndef CH_SOURCE_DIR
#  define CH_SOURCE_DIR "."
#endif

#define PROG         "chronus-bench"
#define RATE         48000u
#define NOTIFY_SIZE  (64u * 1024u)
#define CONTROL_SIZE (64u * 1024u)
#define MESSAGE_SIZE 4096u
#define MAX_PATCHES  64u
#define PROFILE_REPS 500u

static const uint32_t block_sizes[] = { 64u, 256u };
static const uint32_t graph_sizes[] = { 8u, 64u, 256u };

/* Command line */

typedef struct {
  bool        json;
  bool        quick;
  bool        plugin;  /* run the plugin benchmark */
  bool        engine;  /* run overhead, build time and memory */
  double      seconds; /* of MIDI per timed pass */
  uint32_t    passes;  /* timed passes per patch and block size */
  const char* bundle;
  const char* patches[MAX_PATCHES];
  uint32_t    n_patches;
} Options;

/* Helpers */

#define fail(...) ch_tool_fail(PROG, __VA_ARGS__)

static int
compare_doubles(const void* const a, const void* const b)
{
  const double x = *(const double*)a;
  const double y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Sorts `x` in place; then quantile() reads it. */
static void
sort_doubles(double* const x, const size_t n)
{
  qsort(x, n, sizeof(double), compare_doubles);
}

/* Quantile q (0..1) of sorted `x`, nearest rank. */
static double
quantile(const double* const x, const size_t n, const double q)
{
  if (!n) {
    return 0.0;
  }
  const size_t i = (size_t)llround(q * (double)(n - 1u));
  return x[i < n ? i : n - 1u];
}

/* Name of a patch file: its base name without ".ttl". */
static void
patch_name(const char* const path, char* const name, const size_t size)
{
  const char* const slash = strrchr(path, '/');
  snprintf(name, size, "%s", slash ? slash + 1 : path);
  char* const dot = strrchr(name, '.');
  if (dot && !strcmp(dot, ".ttl")) {
    *dot = '\0';
  }
}

/* Results */

typedef struct {
  char     name[64];
  uint32_t voices;
  uint32_t modules;
  uint32_t instances;
  uint32_t block;
  double   cpu_median; /* % of real time, over passes */
  double   cpu_best;
  double   cpu_worst;
  double   cpu_typical;     /* % from the median block: robust to preemption */
  double   block_median_us; /* per run() call, over all blocks */
  double   block_p99_us;
  double   block_worst_us;
  double   commit_ms; /* build time the plugin reported (ch:buildTime) */
  double   peak;      /* of the output, to show it was not silent */
} PluginResult;

typedef struct {
  uint32_t modules;
  uint32_t steps;
  uint32_t sums;
  uint32_t block;
  uint32_t samples;
  double   graph_ns;        /* per block, median */
  double   direct_ns;       /* per block, median: kernels only */
  double   summed_ns;       /* per block, median: kernels and fan-in sums */
  double   overhead_median; /* % (graph / direct - 1), paired samples */
  double   overhead_p10;
  double   overhead_p90;
  double   sums_share;    /* % (summed / direct - 1): what the sums add */
  double   rest_share;    /* % (graph / summed - 1): zeroing, loop, chunks */
  double   overhead_best; /* % (fastest graph / fastest direct - 1) */
} OverheadResult;

typedef struct {
  char     name[64];
  uint32_t modules;
  uint32_t instances;
  uint32_t buffers;
  size_t   memory;
  uint32_t runs;
  double   new_median_us;
  double   new_worst_us;
  double   commit_median_us; /* ch_build: ch_graph_new + ch_graph_prime */
  double   commit_worst_us;
} BuildResult;

typedef struct {
  char     kind[24];
  uint32_t instances;
  double   ns; /* per block, all instances */
} ProfileRow;

typedef struct {
  char       name[64];
  uint32_t   block;
  ProfileRow rows[CH_MAX_PORTS];
  uint32_t   n_rows;
  double     kernels_ns; /* sum of the rows */
  double     graph_ns;   /* ch_graph_run of the same block */
} Profile;

/* The host: one lilv world, one instance at a time.  Its worker is
   synchronous (tools/lib/lv2host.c), so commits land inside run(); we only
   time blocks without them. */

typedef struct {
  ChHost         lv2;
  ChUris         uris;
  ChHostIo       io; /* what the ports are connected to */
  LV2_Atom_Forge forge;
  uint8_t        message[MESSAGE_SIZE];
  uint32_t       n_errors;
  bool           committed;
  double         commit_ms;
} Host;

static bool
host_load(Host* const host, const char* const bundle_dir)
{
  ch_host_init(&host->lv2, PROG);
  ch_uris_map(&host->uris, &host->lv2.map);
  lv2_atom_forge_init(&host->forge, &host->lv2.map);
  if (!ch_host_load(&host->lv2, bundle_dir, " (build it first: ./waf build)")) {
    return false;
  }

  if (!ch_host_io_find_ports(&host->lv2, &host->io) ||
      !ch_host_io_alloc(&host->lv2, &host->io, CH_MAX_BLOCK * 4u, CONTROL_SIZE,
                        NOTIFY_SIZE)) {
    return false;
  }
  return true;
}

static void
host_free(Host* const host)
{
  ch_host_io_free(&host->io);
  ch_host_clear(&host->lv2);
}

/* Reads the answers of the last run(): errors are printed and counted. */
static void
read_answers(Host* const host)
{
  ChHostAnswers answers;
  ChMsg         m;
  int64_t       frame = 0;
  ch_host_answers_begin(&answers, &host->uris, host->io.notify);
  while (ch_host_answers_next(&answers, &m, &frame)) {
    if (m.kind == CH_MSG_ERROR) {
      ++host->n_errors;
      fail("plugin error: %s", m.message ? m.message : "(no message)");
    } else if (m.kind == CH_MSG_COMMITTED) {
      host->committed = true;
      host->commit_ms = m.build_ms;
    }
  }
}

/* Appends `msg` (written by the protocol module) to the control port. */
static bool
control_message(Host* const host, const ChMsg* const msg)
{
  LV2_Atom_Forge* const forge = &host->forge;
  lv2_atom_forge_set_buffer(forge, host->message, sizeof(host->message));
  const LV2_Atom* const atom = (const LV2_Atom*)host->message;
  return ch_msg_write(forge, &host->uris, msg) &&
         ch_host_control_add(&host->lv2, &host->io.control, 0, atom->type,
                             atom + 1, atom->size);
}

/* One run() of `n` frames; returns its duration in nanoseconds. */
static double
run_cycle(Host* const host, const uint32_t n)
{
  const double ns = ch_host_run(&host->lv2, host->io.notify, NOTIFY_SIZE, n);
  /* An empty notify sequence is all we see in steady state. */
  if (host->io.notify->atom.size > sizeof(LV2_Atom_Sequence_Body)) {
    read_answers(host);
  }
  return ns;
}

/* A new instance for blocks of up to `block` frames, playing `path`. */
static bool
instance_start(Host* const host, const uint32_t block, const char* const path)
{
  const ChHostSettings settings = { .rate          = RATE,
                                    .max_block     = block,
                                    .nominal_block = block,
                                    .sequence_size = NOTIFY_SIZE };
  if (!ch_host_instantiate(&host->lv2, &settings)) {
    return false;
  }
  memcpy(host->io.values, host->io.ports.defaults,
         host->io.ports.n * sizeof(float));
  ch_host_io_connect(&host->lv2, &host->io);
  lilv_instance_activate(host->lv2.instance);

  /* ch:Load the file and ch:Commit, in one empty run(); the synchronous
     worker builds the graph inside it, and the next run() swaps it in. */
  ChMsg load      = ch_msg_init(CH_MSG_LOAD);
  load.file       = path;
  const ChMsg cmt = ch_msg_init(CH_MSG_COMMIT);
  ch_host_control_clear(&host->io.control, host->uris.atom_Sequence);
  const bool ok   = control_message(host, &load) && control_message(host, &cmt);
  host->committed = false;
  host->n_errors  = 0;
  run_cycle(host, 0);
  ch_host_control_clear(&host->io.control, host->uris.atom_Sequence);
  run_cycle(host, 0);
  if (!ok || !host->committed || host->n_errors) {
    fail("%s: the plugin did not commit the patch", path);
    return false;
  }
  return true;
}

static void
instance_stop(Host* const host)
{
  if (host->lv2.instance) {
    lilv_instance_deactivate(host->lv2.instance);
    ch_host_drop_instance(&host->lv2);
  }
}

/* The MIDI: 8-note chords (three octaves, root to tenth) changing every
   0.5 s, each released as the next starts, so that with 8 voices every
   voice plays (or releases) all the time. */

typedef struct {
  uint32_t frame;
  uint8_t  msg[3];
} Midi;

static uint32_t
make_sequence(Midi* const midi, const uint32_t max, const uint32_t frames)
{
  static const int roots[]  = { 48, 45, 41, 43 }; /* C Am F G */
  static const int thirds[] = { 4, 3, 4, 4 };
  const uint32_t   every    = RATE / 2u;
  const uint32_t   n_chords = (frames + every - 1u) / every;
  uint32_t         n        = 0;
  int              notes[4][8];
  for (int c = 0; c < 4; ++c) {
    const int r    = roots[c];
    const int t    = thirds[c];
    const int v[8] = { r - 12,     r,      r + 7,  r + 12,
                       r + 12 + t, r + 19, r + 24, r + 24 + t };
    memcpy(notes[c], v, sizeof(v));
  }
  for (uint32_t k = 0; k < n_chords && n + 16u <= max; ++k) {
    const int* const off = notes[(k + 3u) % 4u]; /* the previous chord */
    const int* const on  = notes[k % 4u];
    for (int i = 0; i < 8; ++i) {
      midi[n++] = (Midi){ k * every, { 0x80, (uint8_t)off[i], 0 } };
    }
    for (int i = 0; i < 8; ++i) {
      midi[n++] = (Midi){ k * every, { 0x90, (uint8_t)on[i], 100 } };
    }
  }
  return n;
}

/* The larger of two peaks; NaN, once seen, stays (a broken patch). */
static double
louder(const double peak, const double x)
{
  return x > peak || x != x ? x : peak;
}

/* Plays `frames` of `midi` in blocks of `block`; per-block times (ns) go to
   `times` (if not NULL).  Returns the output's peak. */
static double
play(Host* const       host,
     const Midi* const midi,
     const uint32_t    n_midi,
     const uint32_t    frames,
     const uint32_t    block,
     double* const     times)
{
  double   peak = 0.0;
  uint32_t b    = 0;
  uint32_t e    = 0;
  for (uint32_t pos = 0; pos < frames; pos += block, ++b) {
    const uint32_t n = frames - pos < block ? frames - pos : block;
    ch_host_control_clear(&host->io.control, host->uris.atom_Sequence);
    for (; e < n_midi && midi[e].frame < pos + n; ++e) {
      ch_host_control_add(&host->lv2, &host->io.control, midi[e].frame - pos,
                          host->uris.midi_Event, midi[e].msg, 3);
    }
    const double ns = run_cycle(host, n);
    if (times) {
      times[b] = ns;
    }
    for (uint32_t i = 0; i < n; ++i) {
      peak = louder(peak, fabs((double)host->io.out[0][i]));
    }
  }
  return peak;
}

/* Engine-side facts about a patch file: voices, modules, instances. */
static bool
patch_facts(const char* const path,
            uint32_t* const   voices,
            uint32_t* const   modules,
            uint32_t* const   instances)
{
  ChModel* const model = ch_model_new();
  ChGraph*       graph = NULL;
  ChError        err;
  ch_error_clear(&err);
  const bool ok = model && !ch_patch_read_file(model, path, &err) &&
                  !ch_graph_new(model, NULL, (float)RATE, &graph, &err);
  if (ok) {
    *voices    = ch_graph_polyphony(graph);
    *modules   = ch_graph_n_modules(graph);
    *instances = 0;
    for (uint32_t m = 0; m < *modules; ++m) {
      *instances += ch_graph_n_instances(graph, m);
    }
  } else {
    fail("%s", err.msg[0] ? err.msg : "out of memory");
  }
  ch_graph_free(graph);
  ch_model_free(model);
  return ok;
}

static bool
bench_plugin_patch(Host* const         host,
                   const Options*      opt,
                   const char* const   path,
                   const uint32_t      block,
                   PluginResult* const r)
{
  memset(r, 0, sizeof(*r));
  patch_name(path, r->name, sizeof(r->name));
  r->block = block;
  if (!patch_facts(path, &r->voices, &r->modules, &r->instances)) {
    return false;
  }

  const uint32_t frames   = (uint32_t)llround(opt->seconds * RATE);
  const uint32_t n_blocks = (frames + block - 1u) / block;
  const uint32_t max_midi = (frames / (RATE / 2u) + 2u) * 16u;
  Midi* const    midi     = (Midi*)calloc(max_midi, sizeof(Midi));
  double* const  times =
    (double*)calloc((size_t)n_blocks * opt->passes, sizeof(double));
  double* const cpu = (double*)calloc(opt->passes, sizeof(double));
  if (!midi || !times || !cpu) {
    free(midi);
    free(times);
    free(cpu);
    fail("out of memory");
    return false;
  }
  const uint32_t n_midi = make_sequence(midi, max_midi, frames);

  bool ok = instance_start(host, block, path);
  if (ok) {
    r->commit_ms = host->commit_ms;
    /* Warm-up: the first second, untimed. */
    play(host, midi, n_midi, frames < RATE ? frames : RATE, block, NULL);
    for (uint32_t p = 0; p < opt->passes; ++p) {
      double* const t = times + (size_t)p * n_blocks;
      r->peak    = louder(r->peak, play(host, midi, n_midi, frames, block, t));
      double sum = 0.0;
      for (uint32_t b = 0; b < n_blocks; ++b) {
        sum += t[b];
      }
      cpu[p] = 100.0 * sum / (opt->seconds * 1e9);
    }
    ok = !host->n_errors;
  }
  instance_stop(host);

  if (ok) {
    const size_t n = (size_t)n_blocks * opt->passes;
    sort_doubles(times, n);
    sort_doubles(cpu, opt->passes);
    r->cpu_median      = quantile(cpu, opt->passes, 0.5);
    r->cpu_best        = cpu[0];
    r->cpu_worst       = cpu[opt->passes - 1u];
    r->block_median_us = quantile(times, n, 0.5) / 1e3;
    r->block_p99_us    = quantile(times, n, 0.99) / 1e3;
    r->block_worst_us  = times[n - 1u] / 1e3;
    r->cpu_typical =
      100.0 * r->block_median_us * 1e3 * n_blocks / (opt->seconds * 1e9);
  }
  free(midi);
  free(times);
  free(cpu);
  return ok;
}

/* Generated patches for the engine benchmarks */

static void
must(const ChStatus st, const ChError* const err)
{
  if (st) {
    fail("building a benchmark patch: %s", err->msg);
    exit(1);
  }
}

/*
   `n` modules, polyphony 1, all of them on the way to the output: units of
   osc -> svf -> vca -> mixer, each svf also fed by the previous unit's osc
   (a fan-in sum) and each mixer by the previous mixer (a chain through the
   whole patch).  n - 1 = 4 * units + 3: the last, partial unit is osc ->
   svf -> vca, which the output sums with the last mixer.
*/
static ChModel*
make_patch(const uint32_t n)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ch_error_clear(&err);
  if (!model) {
    fail("out of memory");
    exit(1);
  }
  const uint32_t units = (n - 1u) / 4u; /* whole units, then osc, svf, vca */
  char           a[64];
  char           b[64];
  for (uint32_t u = 0; u <= units; ++u) {
    const bool whole = u < units;
    snprintf(a, sizeof(a), "osc%u", u);
    must(ch_model_create(model, a, "osc", &err), &err);
    must(ch_model_set(model, a, "pitch", (float)(u % 25u) / 12.0f - 1.0f, &err),
         &err);
    snprintf(a, sizeof(a), "svf%u", u);
    must(ch_model_create(model, a, "svf", &err), &err);
    must(ch_model_set(model, a, "cutoff", 400.0f + 150.0f * (float)(u % 32u),
                      &err),
         &err);
    snprintf(a, sizeof(a), "vca%u", u);
    must(ch_model_create(model, a, "vca", &err), &err);
    must(ch_model_set(model, a, "gain", 0.5f, &err), &err);
    if (whole) {
      snprintf(a, sizeof(a), "mix%u", u);
      must(ch_model_create(model, a, "mixer", &err), &err);
    }

    snprintf(a, sizeof(a), "osc%u:out", u);
    snprintf(b, sizeof(b), "svf%u:in", u);
    must(ch_model_connect(model, a, b, &err), &err);
    if (u > 0) {
      snprintf(a, sizeof(a), "osc%u:out", u - 1u);
      must(ch_model_connect(model, a, b, &err), &err);
    }
    snprintf(a, sizeof(a), "svf%u:lp", u);
    snprintf(b, sizeof(b), "vca%u:in", u);
    must(ch_model_connect(model, a, b, &err), &err);
    snprintf(a, sizeof(a), "vca%u:out", u);
    if (whole) {
      snprintf(b, sizeof(b), "mix%u:in1", u);
      must(ch_model_connect(model, a, b, &err), &err);
      if (u > 0) {
        snprintf(a, sizeof(a), "mix%u:out", u - 1u);
        snprintf(b, sizeof(b), "mix%u:in2", u);
        must(ch_model_connect(model, a, b, &err), &err);
      }
    }
  }
  must(ch_model_create(model, "out", "output", &err), &err);
  must(ch_model_set(model, "out", "level", 0.05f, &err), &err);
  snprintf(a, sizeof(a), "vca%u:out", units);
  must(ch_model_connect(model, a, "out:mono", &err), &err);
  if (units) {
    snprintf(a, sizeof(a), "mix%u:out", units - 1u);
    must(ch_model_connect(model, a, "out:mono", &err), &err);
  }
  if (ch_model_n_modules(model) != n) {
    fail("internal error: made %u modules, not %u", ch_model_n_modules(model),
         n);
    exit(1);
  }
  return model;
}

/* A graph as the plugin plays it: compiled and primed. */
static ChGraph*
build(const ChModel* const model)
{
  ChGraph* graph = NULL;
  ChError  err;
  ch_error_clear(&err);
  must(ch_build(model, NULL, (float)RATE, &graph, &err), &err);
  return graph;
}

/* Graph overhead: ch_graph_run against the same steps' process functions
   called in the same order on the same nodes (and so the same buffers and
   states), without the graph's fan-in sums, output zeroing and chunking. */

typedef enum { RUN_GRAPH, RUN_DIRECT, RUN_SUMMED } RunMode;

typedef struct {
  ChGraph*          graph;
  ChHostInputs      host;
  float             left[CH_MAX_BLOCK];
  float             right[CH_MAX_BLOCK];
  volatile uint32_t sink;
} Runner;

/* Runs `reps` blocks of `n` frames one way; returns ns per block. */
static double
time_blocks(Runner* const  r,
            const RunMode  mode,
            const uint32_t reps,
            const uint32_t n)
{
  const double start = ch_host_now_ns();
  switch (mode) {
  case RUN_GRAPH:
    for (uint32_t k = 0; k < reps; ++k) {
      ch_graph_run(r->graph, &r->host, r->left, r->right, n);
    }
    break;
  case RUN_DIRECT:
    for (uint32_t k = 0; k < reps; ++k) {
      ch_graph_run_steps(r->graph, CH_STEPS_KERNELS, n);
    }
    break;
  case RUN_SUMMED:
    for (uint32_t k = 0; k < reps; ++k) {
      ch_graph_run_steps(r->graph, CH_STEPS_KERNELS_AND_SUMS, n);
    }
    break;
  }
  const double ns = (ch_host_now_ns() - start) / (double)reps;
  r->sink += (uint32_t)(r->left[0] != 0.0f);
  return ns;
}

static void
bench_overhead(const uint32_t        modules,
               const uint32_t        block,
               const uint32_t        samples,
               OverheadResult* const res)
{
  ChModel* const model = make_patch(modules);
  Runner* const  r     = (Runner*)calloc(1, sizeof(Runner));
  if (!r) {
    fail("out of memory");
    exit(1);
  }
  r->graph = build(model);
  /* Points the context at our host inputs and output buffers, which the
     direct calls then use as they are. */
  ch_graph_run(r->graph, &r->host, r->left, r->right, block);

  /* Blocks per sample: about 100 us of work each, so that the three
     variants of one sample run close together in time and few samples
     are hit by preemption (which we do not try to avoid: nothing pinned) */
  uint32_t reps = 1;
  while (time_blocks(r, RUN_GRAPH, reps, block) * reps < 1e5 &&
         reps < (1u << 24)) {
    reps *= 2u;
  }
  double* const g     = (double*)calloc(samples, sizeof(double));
  double* const d     = (double*)calloc(samples, sizeof(double));
  double* const s     = (double*)calloc(samples, sizeof(double));
  double* const ratio = (double*)calloc(samples, sizeof(double));
  double* const share = (double*)calloc(samples, sizeof(double));
  double* const rest  = (double*)calloc(samples, sizeof(double));
  if (!g || !d || !s || !ratio || !share || !rest) {
    fail("out of memory");
    exit(1);
  }
  for (uint32_t k = 0; k < samples; ++k) {
    /* Rotate the order, so that drift and cache effects of going first or
       last fall on every variant alike. */
    for (uint32_t v = 0; v < 3u; ++v) {
      const RunMode mode = (RunMode)((v + k) % 3u);
      const double  ns   = time_blocks(r, mode, reps, block);
      *(mode == RUN_GRAPH ? &g[k] : mode == RUN_DIRECT ? &d[k] : &s[k]) = ns;
    }
    ratio[k] = 100.0 * (g[k] / d[k] - 1.0);
    share[k] = 100.0 * (s[k] / d[k] - 1.0);
    rest[k]  = 100.0 * (g[k] / s[k] - 1.0);
  }
  sort_doubles(g, samples);
  sort_doubles(d, samples);
  sort_doubles(s, samples);
  sort_doubles(ratio, samples);
  sort_doubles(share, samples);
  sort_doubles(rest, samples);
  *res = (OverheadResult){ modules,
                           ch_graph_n_steps(r->graph),
                           ch_graph_n_sums(r->graph),
                           block,
                           samples,
                           quantile(g, samples, 0.5),
                           quantile(d, samples, 0.5),
                           quantile(s, samples, 0.5),
                           quantile(ratio, samples, 0.5),
                           quantile(ratio, samples, 0.1),
                           quantile(ratio, samples, 0.9),
                           quantile(share, samples, 0.5),
                           quantile(rest, samples, 0.5),
                           100.0 * (g[0] / d[0] - 1.0) };
  free(g);
  free(d);
  free(s);
  free(ratio);
  free(share);
  free(rest);
  ch_graph_free(r->graph);
  free(r);
  ch_model_free(model);
}

/* Commit build time: what the worker does (ch_build, src/build.h),
   with the model itself as the base, as when re-committing after an edit
   elsewhere; new is ch_graph_new alone, timed apart.  The graphs are
   freed outside the timing. */
static void
bench_build(const char* const    name,
            const ChModel* const model,
            const uint32_t       runs,
            BuildResult* const   res)
{
  memset(res, 0, sizeof(*res));
  snprintf(res->name, sizeof(res->name), "%s", name);
  ChModel* const base  = ch_model_copy(model);
  double* const  t_new = (double*)calloc(runs, sizeof(double));
  double* const  t_all = (double*)calloc(runs, sizeof(double));
  if (!base || !t_new || !t_all) {
    fail("out of memory");
    exit(1);
  }
  for (uint32_t k = 0; k < runs + 3u; ++k) {
    ChError err;
    ch_error_clear(&err);
    ChGraph*     graph = NULL;
    const double t0    = ch_host_now_ns();
    must(ch_graph_new(model, base, (float)RATE, &graph, &err), &err);
    const double t1 = ch_host_now_ns();
    ch_graph_free(graph);
    const double t2 = ch_host_now_ns();
    must(ch_build(model, base, (float)RATE, &graph, &err), &err);
    const double t3 = ch_host_now_ns();
    if (k >= 3u) { /* the first few warm the allocator and caches */
      t_new[k - 3u] = t1 - t0;
      t_all[k - 3u] = t3 - t2;
    } else {
      res->modules   = ch_graph_n_modules(graph);
      res->instances = 0;
      for (uint32_t m = 0; m < res->modules; ++m) {
        res->instances += ch_graph_n_instances(graph, m);
      }
      res->buffers = ch_graph_n_buffers(graph);
      res->memory  = ch_graph_memory(graph);
    }
    ch_graph_free(graph);
  }
  sort_doubles(t_new, runs);
  sort_doubles(t_all, runs);
  res->runs             = runs;
  res->new_median_us    = quantile(t_new, runs, 0.5) / 1e3;
  res->new_worst_us     = t_new[runs - 1u] / 1e3;
  res->commit_median_us = quantile(t_all, runs, 0.5) / 1e3;
  res->commit_worst_us  = t_all[runs - 1u] / 1e3;
  free(t_new);
  free(t_all);
  ch_model_free(base);
}

/* Where the time of one patch goes: each step's process timed on its own
   (many blocks in a row), summed per kind, with 8 notes held. */
static bool
bench_profile(const char* const path, const uint32_t block, Profile* const p)
{
  memset(p, 0, sizeof(*p));
  patch_name(path, p->name, sizeof(p->name));
  p->block             = block;
  ChModel* const model = ch_model_new();
  ChError        err;
  ch_error_clear(&err);
  if (!model || ch_patch_read_file(model, path, &err)) {
    fail("%s", err.msg[0] ? err.msg : "out of memory");
    ch_model_free(model);
    return false;
  }
  ChGraph* const      graph   = build(model);
  ChHostInputs* const host    = (ChHostInputs*)calloc(1, sizeof(ChHostInputs));
  ChVoicing* const    voicing = (ChVoicing*)calloc(1, sizeof(ChVoicing));
  float* const        out = (float*)calloc(2u * CH_MAX_BLOCK, sizeof(float));
  if (!host || !voicing || !out) {
    fail("out of memory");
    exit(1);
  }
  ch_voicing_init(voicing, host);
  ch_voicing_set_voices(voicing, ch_graph_polyphony(graph));
  static const uint8_t chord[8] = { 36, 48, 55, 60, 64, 67, 72, 76 };
  for (int i = 0; i < 8; ++i) {
    const uint8_t on[3] = { 0x90, chord[i], 100 };
    ch_voicing_midi(voicing, on, 3);
  }
  /* Into the sustain, then measure */
  for (uint32_t k = 0; k < RATE / 2u / block; ++k) {
    ch_graph_run(graph, host, out, out + CH_MAX_BLOCK, block);
  }
  const uint32_t reps   = PROFILE_REPS;
  double         best_g = INFINITY;
  for (int trial = 0; trial < 5; ++trial) {
    const double t0 = ch_host_now_ns();
    for (uint32_t k = 0; k < reps; ++k) {
      ch_graph_run(graph, host, out, out + CH_MAX_BLOCK, block);
    }
    const double ns = (ch_host_now_ns() - t0) / reps;
    best_g          = ns < best_g ? ns : best_g;
  }
  p->graph_ns = best_g;
  for (uint32_t t = 0; t < ch_graph_n_steps(graph); ++t) {
    double best = INFINITY;
    for (int trial = 0; trial < 5; ++trial) {
      const double t0 = ch_host_now_ns();
      for (uint32_t k = 0; k < reps; ++k) {
        ch_graph_run_step(graph, t, block);
      }
      const double ns = (ch_host_now_ns() - t0) / reps;
      best            = ns < best ? ns : best;
    }
    const char* const kind =
      ch_graph_module_kind(graph, ch_graph_step_module(graph, t))->name;
    uint32_t row = 0;
    while (row < p->n_rows && strcmp(p->rows[row].kind, kind)) {
      ++row;
    }
    if (row == p->n_rows) {
      if (p->n_rows == CH_COUNT(p->rows)) {
        continue;
      }
      snprintf(p->rows[p->n_rows++].kind, sizeof(p->rows[0].kind), "%s", kind);
    }
    p->rows[row].instances += 1u;
    p->rows[row].ns += best;
    p->kernels_ns += best;
  }
  free(host);
  free(voicing);
  free(out);
  ch_graph_free(graph);
  ch_model_free(model);
  return true;
}

/* Output */

/* Everything measured, for printing. */
typedef struct {
  PluginResult*  plugin;
  uint32_t       n_plugin;
  OverheadResult over[CH_COUNT(graph_sizes) * CH_COUNT(block_sizes)];
  uint32_t       n_over;
  BuildResult    build[CH_COUNT(graph_sizes) + MAX_PATCHES];
  uint32_t       n_build;
  Profile        prof[CH_COUNT(block_sizes)];
  uint32_t       n_prof;
} Results;

/* The Markdown table of CPU through the plugin. */
static void
markdown_plugin(const Options* const      opt,
                const PluginResult* const plugin,
                const uint32_t            n_plugin)
{
  printf("### CPU through the plugin (lilv, %u Hz, %.0f s of 8-note chords, "
         "%u timed passes)\n\n",
         RATE, opt->seconds, opt->passes);
  printf("CPU %% = wall-clock time in run() / audio time, on one core: "
         "median, best and worst of the passes; it includes any time the "
         "thread was preempted.  typical = median block time / block "
         "duration, which preemption hardly moves.  Block times are per "
         "run() call, over every block of every pass; a block's budget is "
         "1333 us at 64 frames, 5333 us at 256.\n\n");
  printf("| patch | voices | modules (instances) | block | CPU %% median | "
         "best | worst | typical | block median us | p99 us | worst us (%% "
         "of budget) |\n");
  printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
         "---: | ---: |\n");
  for (uint32_t i = 0; i < n_plugin; ++i) {
    const PluginResult* const r      = &plugin[i];
    const double              budget = 1e6 * r->block / RATE;
    printf("| %s | %u | %u (%u) | %u | %.2f | %.2f | %.2f | %.2f | %.1f | "
           "%.1f | %.0f (%.1f %%) |\n",
           r->name, r->voices, r->modules, r->instances, r->block,
           r->cpu_median, r->cpu_best, r->cpu_worst, r->cpu_typical,
           r->block_median_us, r->block_p99_us, r->block_worst_us,
           100.0 * r->block_worst_us / budget);
  }
  printf("\n");
}

/* The Markdown table of where the time of each profiled patch goes. */
static void
markdown_profile(const Profile* const prof, const uint32_t n_prof)
{
  for (uint32_t i = 0; i < n_prof; ++i) {
    const Profile* const p = &prof[i];
    printf("### Where the time goes: %s, %u frames, 8 notes held "
           "(engine only)\n\n",
           p->name, p->block);
    printf("Each step's process timed on its own (best of 5 runs of %u "
           "blocks), summed per kind; share of the sum of kernels.\n\n",
           PROFILE_REPS);
    printf("| kind | instances | ns per block | ns per instance | share "
           "|\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    for (uint32_t k = 0; k < p->n_rows; ++k) {
      printf("| %s | %u | %.0f | %.0f | %.1f %% |\n", p->rows[k].kind,
             p->rows[k].instances, p->rows[k].ns,
             p->rows[k].ns / p->rows[k].instances,
             100.0 * p->rows[k].ns / p->kernels_ns);
    }
    const double budget = 1e9 * p->block / RATE;
    printf("| sum of kernels | | %.0f | | %.2f %% CPU |\n", p->kernels_ns,
           100.0 * p->kernels_ns / budget);
    printf("| ch_graph_run, whole graph | | %.0f | | %.2f %% CPU |\n\n",
           p->graph_ns, 100.0 * p->graph_ns / budget);
  }
}

/* The Markdown table of graph overhead. */
static void
markdown_overhead(const OverheadResult* const over, const uint32_t n_over)
{
  printf("### Graph overhead (generated patches, polyphony 1)\n\n");
  printf("direct = the same steps' process functions called in schedule "
         "order on the same nodes and buffers; +sums = direct plus the "
         "fan-in sums, written out as the graph does them; graph = "
         "ch_graph_run.  Overhead = graph / direct - 1: median (10th .. 90th "
         "percentile) of %u paired samples; then its two parts, sums = "
         "+sums / direct - 1 and rest (output zeroing, loops) = graph / "
         "+sums - 1, medians.\n\n",
         over[0].samples);
  printf("| modules | steps | sums | block | direct ns | +sums ns | graph ns "
         "| overhead | sums | rest | fastest vs fastest |\n");
  printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
         "---: | ---: |\n");
  for (uint32_t i = 0; i < n_over; ++i) {
    const OverheadResult* const r = &over[i];
    printf("| %u | %u | %u | %u | %.0f | %.0f | %.0f | %+.2f %% (%+.1f .. "
           "%+.1f) | %+.2f %% | %+.2f %% | %+.2f %% |\n",
           r->modules, r->steps, r->sums, r->block, r->direct_ns, r->summed_ns,
           r->graph_ns, r->overhead_median, r->overhead_p10, r->overhead_p90,
           r->sums_share, r->rest_share, r->overhead_best);
  }
  printf("\n");
}

/* The Markdown table of commit build time and memory. */
static void
markdown_build(const BuildResult* const build, const uint32_t n_build)
{
  printf("### Commit build time and memory\n\n");
  printf("new = ch_graph_new; commit = ch_graph_new + ch_graph_prime(%u "
         "frames), what the worker does on ch:Commit.\n\n",
         CH_PRIME_FRAMES);
  printf("| patch | modules (instances) | buffers | memory bytes | runs | "
         "new median us | new worst us | commit median us | commit worst "
         "us |\n");
  printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
         "|\n");
  for (uint32_t i = 0; i < n_build; ++i) {
    const BuildResult* const r = &build[i];
    printf("| %s | %u (%u) | %u | %zu | %u | %.1f | %.1f | %.1f | %.1f |\n",
           r->name, r->modules, r->instances, r->buffers, r->memory, r->runs,
           r->new_median_us, r->new_worst_us, r->commit_median_us,
           r->commit_worst_us);
  }
  printf("\n");
}

static void
print_markdown(const Options* const opt, const Results* const res)
{
  if (res->n_plugin) {
    markdown_plugin(opt, res->plugin, res->n_plugin);
  }
  if (res->n_prof) {
    markdown_profile(res->prof, res->n_prof);
  }
  if (res->n_over) {
    markdown_overhead(res->over, res->n_over);
  }
  if (res->n_build) {
    markdown_build(res->build, res->n_build);
  }
}

static void
print_json(const Options* const opt, const Results* const res)
{
  printf("{\n  \"rate\": %u,\n  \"seconds\": %g,\n  \"passes\": %u,\n", RATE,
         opt->seconds, opt->passes);
  printf("  \"plugin\": [");
  for (uint32_t i = 0; i < res->n_plugin; ++i) {
    const PluginResult* const r = &res->plugin[i];
    printf("%s\n    {\"patch\": \"%s\", \"voices\": %u, \"modules\": %u, "
           "\"instances\": %u, \"block\": %u, \"cpu_median\": %.4f, "
           "\"cpu_best\": %.4f, \"cpu_worst\": %.4f, "
           "\"cpu_typical\": %.4f, \"block_median_us\": %.2f, "
           "\"block_p99_us\": %.2f, \"block_worst_us\": %.2f, "
           "\"commit_ms\": %.3f, \"peak\": %.4f}",
           i ? "," : "", r->name, r->voices, r->modules, r->instances, r->block,
           r->cpu_median, r->cpu_best, r->cpu_worst, r->cpu_typical,
           r->block_median_us, r->block_p99_us, r->block_worst_us, r->commit_ms,
           r->peak);
  }
  printf("\n  ],\n  \"profile\": [");
  for (uint32_t i = 0; i < res->n_prof; ++i) {
    const Profile* const p = &res->prof[i];
    printf("%s\n    {\"patch\": \"%s\", \"block\": %u, \"graph_ns\": %.1f, "
           "\"kinds\": {",
           i ? "," : "", p->name, p->block, p->graph_ns);
    for (uint32_t k = 0; k < p->n_rows; ++k) {
      printf("%s\"%s\": %.1f", k ? ", " : "", p->rows[k].kind, p->rows[k].ns);
    }
    printf("}}");
  }
  printf("\n  ],\n  \"overhead\": [");
  for (uint32_t i = 0; i < res->n_over; ++i) {
    const OverheadResult* const r = &res->over[i];
    printf("%s\n    {\"modules\": %u, \"steps\": %u, \"sums\": %u, "
           "\"block\": %u, \"graph_ns\": %.1f, \"direct_ns\": %.1f, "
           "\"summed_ns\": %.1f, \"overhead_median\": %.3f, "
           "\"overhead_p10\": %.3f, \"overhead_p90\": %.3f, "
           "\"sums_share\": %.3f, \"rest_share\": %.3f, "
           "\"overhead_best\": %.3f}",
           i ? "," : "", r->modules, r->steps, r->sums, r->block, r->graph_ns,
           r->direct_ns, r->summed_ns, r->overhead_median, r->overhead_p10,
           r->overhead_p90, r->sums_share, r->rest_share, r->overhead_best);
  }
  printf("\n  ],\n  \"build\": [");
  for (uint32_t i = 0; i < res->n_build; ++i) {
    const BuildResult* const r = &res->build[i];
    printf("%s\n    {\"patch\": \"%s\", \"modules\": %u, \"instances\": %u, "
           "\"buffers\": %u, \"memory\": %zu, \"runs\": %u, "
           "\"new_median_us\": %.2f, \"new_worst_us\": %.2f, "
           "\"commit_median_us\": %.2f, \"commit_worst_us\": %.2f}",
           i ? "," : "", r->name, r->modules, r->instances, r->buffers,
           r->memory, r->runs, r->new_median_us, r->new_worst_us,
           r->commit_median_us, r->commit_worst_us);
  }
  printf("\n  ]\n}\n");
}

/* Command line */

static void
usage(FILE* const out)
{
  fprintf(out,
          "Usage: %s [OPTION]... [PATCH.ttl]...\n"
          "Benchmark Chronus: CPU through the plugin, graph overhead, commit\n"
          "build time, memory.  Prints Markdown tables (docs/benchmarks.md).\n"
          "\n"
          "Patches default to bench/poly8.ttl and the factory bank.\n"
          "\n"
          "  --json           print JSON instead of Markdown\n"
          "  --seconds S      seconds of MIDI per timed pass (default 20)\n"
          "  --passes N       timed passes per patch and block (default 5)\n"
          "  --quick          a smoke run: 2 s, 1 pass, fewer samples\n"
          "  --plugin-only    only the plugin benchmark\n"
          "  --engine-only    only overhead, build time and memory\n"
          "  --bundle DIR     the plugin bundle (default: %s)\n"
          "  -h, --help       print this help\n",
          PROG, CH_BUNDLE_DIR);
}

static bool
parse_args(Options* const opt, const int argc, char** const argv)
{
  *opt = (Options){ .seconds = 20.0,
                    .passes  = 5u,
                    .plugin  = true,
                    .engine  = true,
                    .bundle  = CH_BUNDLE_DIR };
  for (int i = 1; i < argc; ++i) {
    const char* const arg  = argv[i];
    const bool        more = i + 1 < argc;
    char*             end  = NULL;
    if (!strcmp(arg, "--json")) {
      opt->json = true;
    } else if (!strcmp(arg, "--quick")) {
      opt->quick   = true;
      opt->seconds = 2.0;
      opt->passes  = 1u;
    } else if (!strcmp(arg, "--plugin-only")) {
      opt->engine = false;
    } else if (!strcmp(arg, "--engine-only")) {
      opt->plugin = false;
    } else if (!strcmp(arg, "--seconds") && more) {
      opt->seconds = strtod(argv[++i], &end);
      if (*end || !(opt->seconds >= 1.0 && opt->seconds <= 3600.0)) {
        fail("bad --seconds '%s' (1..3600)", argv[i]);
        return false;
      }
    } else if (!strcmp(arg, "--passes") && more) {
      const long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 1000) {
        fail("bad --passes '%s' (1..1000)", argv[i]);
        return false;
      }
      opt->passes = (uint32_t)n;
    } else if (!strcmp(arg, "--bundle") && more) {
      opt->bundle = argv[++i];
    } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      usage(stdout);
      exit(0);
    } else if (arg[0] == '-') {
      fail("unknown option or missing value '%s' (try --help)", arg);
      return false;
    } else if (opt->n_patches < MAX_PATCHES) {
      opt->patches[opt->n_patches++] = arg;
    } else {
      fail("too many patches (at most %u)", MAX_PATCHES);
      return false;
    }
  }
  if (!opt->plugin && !opt->engine) {
    fail("--plugin-only and --engine-only exclude each other");
    return false;
  }
  return true;
}

static int
compare_strings(const void* const a, const void* const b)
{
  return strcmp(*(char* const*)a, *(char* const*)b);
}

/* The default patches: bench/poly8.ttl, then the bank in the bundle. */
static uint32_t
default_patches(const Options* const opt, char** const paths)
{
  uint32_t n = 0;
  char     path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/bench/poly8.ttl", CH_SOURCE_DIR);
  paths[n++] = realpath(path, NULL);
  snprintf(path, sizeof(path), "%s/bank", opt->bundle);
  DIR* const dir = opendir(path);
  if (!dir) {
    return n;
  }
  const uint32_t first = n;
  for (struct dirent* e = readdir(dir); e && n < MAX_PATCHES;
       e                = readdir(dir)) {
    const size_t len = strlen(e->d_name);
    if (len > 4 && !strcmp(e->d_name + len - 4, ".ttl")) {
      char file[PATH_MAX + 256];
      snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
      paths[n++] = realpath(file, NULL);
    }
  }
  closedir(dir);
  qsort(paths + first, n - first, sizeof(char*), compare_strings);
  return n;
}

/* The patches' absolute paths (the given ones, or the defaults); 0 and a
   message if one cannot be found. */
static uint32_t
find_patches(const Options* const opt, char** const paths)
{
  uint32_t n_paths = 0;
  if (opt->n_patches) {
    for (uint32_t i = 0; i < opt->n_patches; ++i) {
      paths[n_paths++] = realpath(opt->patches[i], NULL);
    }
  } else {
    n_paths = default_patches(opt, paths);
  }
  if (!n_paths) {
    fail("no patches to measure");
  }
  for (uint32_t i = 0; i < n_paths; ++i) {
    if (!paths[i]) {
      fail("cannot find patch %u: %s", i + 1u, strerror(errno));
      return 0;
    }
  }
  return n_paths;
}

/* CPU through the plugin, for every patch and block size; false on error. */
static bool
run_plugin_benchmarks(const Options* const opt,
                      char* const* const   paths,
                      const uint32_t       n_paths,
                      Results* const       res)
{
  Host* const host = (Host*)calloc(1, sizeof(Host));
  res->plugin      = (PluginResult*)calloc(n_paths * CH_COUNT(block_sizes),
                                           sizeof(PluginResult));
  bool ok          = host && res->plugin && host_load(host, opt->bundle);
  for (uint32_t i = 0; ok && i < n_paths; ++i) {
    for (uint32_t b = 0; b < CH_COUNT(block_sizes); ++b) {
      fprintf(stderr, "%s: plugin: %s, %u frames\n", PROG, paths[i],
              block_sizes[b]);
      if (bench_plugin_patch(host, opt, paths[i], block_sizes[b],
                             &res->plugin[res->n_plugin])) {
        ++res->n_plugin;
      } else {
        ok = false;
      }
    }
  }
  if (host) {
    host_free(host);
    free(host);
  }
  return ok;
}

/* Build time of the generated patches and of each patch file. */
static bool
run_build_benchmarks(char* const* const paths,
                     const uint32_t     n_paths,
                     const uint32_t     runs,
                     Results* const     res)
{
  bool ok = true;
  for (uint32_t s = 0; s < CH_COUNT(graph_sizes); ++s) {
    fprintf(stderr, "%s: build: %u modules\n", PROG, graph_sizes[s]);
    ChModel* const model = make_patch(graph_sizes[s]);
    char           name[64];
    snprintf(name, sizeof(name), "generated, %u modules", graph_sizes[s]);
    bench_build(name, model, runs, &res->build[res->n_build++]);
    ch_model_free(model);
  }
  for (uint32_t i = 0; i < n_paths; ++i) {
    ChModel* const model = ch_model_new();
    ChError        err;
    ch_error_clear(&err);
    if (!model || ch_patch_read_file(model, paths[i], &err)) {
      fail("%s", err.msg[0] ? err.msg : "out of memory");
      ch_model_free(model);
      ok = false;
      continue;
    }
    char name[64];
    patch_name(paths[i], name, sizeof(name));
    fprintf(stderr, "%s: build: %s\n", PROG, name);
    bench_build(name, model, runs, &res->build[res->n_build++]);
    ch_model_free(model);
  }
  return ok;
}

/* The engine alone: profile, graph overhead, build time. */
static bool
run_engine_benchmarks(const Options* const opt,
                      char* const* const   paths,
                      const uint32_t       n_paths,
                      Results* const       res)
{
  (void)ch_float_mode_enter(); /* as the plugin's run() does */
  const uint32_t samples = opt->quick ? 101u : 3001u;
  const uint32_t runs    = opt->quick ? 21u : 301u;
  for (uint32_t b = 0; b < CH_COUNT(block_sizes); ++b) {
    fprintf(stderr, "%s: profile: %s, %u frames\n", PROG, paths[0],
            block_sizes[b]);
    res->n_prof +=
      bench_profile(paths[0], block_sizes[b], &res->prof[res->n_prof]);
  }
  for (uint32_t s = 0; s < CH_COUNT(graph_sizes); ++s) {
    for (uint32_t b = 0; b < CH_COUNT(block_sizes); ++b) {
      fprintf(stderr, "%s: overhead: %u modules, %u frames\n", PROG,
              graph_sizes[s], block_sizes[b]);
      bench_overhead(graph_sizes[s], block_sizes[b], samples,
                     &res->over[res->n_over++]);
    }
  }
  return run_build_benchmarks(paths, n_paths, runs, res);
}

int
main(int argc, char** argv)
{
  Options opt;
  if (!parse_args(&opt, argc, argv)) {
    return 1;
  }
  char*          paths[MAX_PATCHES] = { NULL };
  const uint32_t n_paths            = find_patches(&opt, paths);
  if (!n_paths) {
    return 1;
  }
  static Results res;
  int            status = 0;
  if (opt.plugin && !run_plugin_benchmarks(&opt, paths, n_paths, &res)) {
    status = 1;
  }
  if (opt.engine && !status &&
      !run_engine_benchmarks(&opt, paths, n_paths, &res)) {
    status = 1;
  }
  if (opt.json) {
    print_json(&opt, &res);
  } else {
    print_markdown(&opt, &res);
  }
  for (uint32_t i = 0; i < n_paths; ++i) {
    free(paths[i]);
  }
  free(res.plugin);
  return status;
}
