/* The sound of every factory program, measured: loudness (BS.1770, via
   libebur128) within +-2 LU of the bank's target, headroom for a full
   chord, no DC, no aliases on a held top note, notes at one frame that
   retrigger, and stereo that stays mono-compatible.  Short snippets
   through the engine itself (no limiter), so the whole bank takes a few
   seconds.  Prints one table row per program (docs/presets.md). */
#include "../src/voicing.h"
#include "bank.h"
#include "check.h"
#include "dsp.h"

#include <ebur128.h>
#include <stdio.h>
#include <stdlib.h>

#define RATE 48000u

/* The bank's loudness: a four-note phrase at velocity 100. */
#define TARGET_LUFS  (-22.0)
#define TOLERANCE_LU 2.0
/* A full chord peaks below -1 dBFS with the limiter off. */
#define PEAK_MAX 0.891
/* DC at most -60 dB re the RMS. */
#define DC_MAX_DB (-60.0)
/* Aliases of a held C7 (what a 48 kHz take has beyond a 96 kHz one), re
   the loudest partial.  The oscillators' images set the floor (-63 to
   -81 dB for the saw and square programs); the nonlinear stages run 8x
   oversampled and add nothing above it. */
#define ALIAS_MAX_DB (-60.0)

enum { SECONDS = 4, LEN = SECONDS * RATE, FFT_N = 16384 };

typedef struct {
  ChGraph*     graph;
  ChVoicing    voicing;
  ChHostInputs host;
  float        left[LEN];
  float        right[LEN];
  uint32_t     at; /* frames rendered */
} Player;

static Player player;

static void
midi(const uint8_t status, const uint8_t key, const uint8_t velocity)
{
  const uint8_t msg[3] = { status, key, velocity };
  CHECK(ch_voicing_midi(&player.voicing, msg, 3));
}

/* Render up to second `t` of the take. */
static void
until(const double t)
{
  const uint32_t end = (uint32_t)(t * RATE);
  if (end > player.at && end <= LEN) {
    ch_graph_run(player.graph, &player.host, player.left + player.at,
                 player.right + player.at, end - player.at);
    player.at = end;
  }
}

static bool
start(const char* const path)
{
  player.graph = bank_graph(path, (float)RATE);
  player.at    = 0;
  if (!player.graph) {
    return false;
  }
  ch_voicing_init(&player.voicing, &player.host);
  ch_voicing_set_voices(&player.voicing, ch_graph_polyphony(player.graph));
  memset(player.left, 0, sizeof(player.left));
  memset(player.right, 0, sizeof(player.right));
  return true;
}

static void
stop(void)
{
  ch_graph_free(player.graph);
  player.graph = NULL;
}

/* Integrated loudness of the take, LUFS. */
static double
loudness(const uint32_t frames)
{
  ebur128_state* const st = ebur128_init(2u, RATE, EBUR128_MODE_I);
  static float         inter[2u * LEN];
  for (uint32_t i = 0; i < frames; ++i) {
    inter[2u * i]      = player.left[i];
    inter[2u * i + 1u] = player.right[i];
  }
  ebur128_add_frames_float(st, inter, frames);
  double lufs = -HUGE_VAL;
  ebur128_loudness_global(st, &lufs);
  ebur128_state* s = st;
  ebur128_destroy(&s);
  return lufs;
}

static double
correlation(const uint32_t frames)
{
  double lr = 0.0;
  double ll = 0.0;
  double rr = 0.0;
  for (uint32_t i = 0; i < frames; ++i) {
    lr += (double)player.left[i] * player.right[i];
    ll += (double)player.left[i] * player.left[i];
    rr += (double)player.right[i] * player.right[i];
  }
  return ll > 0.0 && rr > 0.0 ? lr / sqrt(ll * rr) : 1.0;
}

/* DC of x: its mean under a Blackman-Harris window (the DC bin of its
   spectrum, so a low note's partial periods do not leak in: under -92 dB
   beyond 4 / duration Hz), re its RMS, in dB. */
static double
dc_of(const float* const x, const uint32_t frames)
{
  double sum  = 0.0;
  double wsum = 0.0;
  for (uint32_t i = 0; i < frames; ++i) {
    const double w = dsp_blackman_harris(i, frames);
    sum += w * x[i];
    wsum += w;
  }
  return dsp_db(fabs(sum / wsum) / fmax(dsp_rms(x, frames), 1e-12));
}

/* Worst of both channels over `frames` from `from`. */
static double
dc_db_over(const uint32_t from, const uint32_t frames)
{
  return fmax(dc_of(player.left + from, frames),
              dc_of(player.right + from, frames));
}

static double
dc_db(const uint32_t frames)
{
  return dc_db_over(0u, frames);
}

typedef struct {
  double lufs, peak_db, dc_db, corr, alias_db, retrig_db;
} Measures;

/* C3, G3, C4, E4, half a second each, then a second of tail. */
static void
phrase(Measures* const m)
{
  static const uint8_t keys[] = { 48u, 55u, 60u, 64u };
  for (size_t k = 0; k < CH_COUNT(keys); ++k) {
    until(0.6 * (double)k);
    midi(0x90u, keys[k], 100u);
    until(0.6 * (double)k + 0.5);
    midi(0x80u, keys[k], 0u);
  }
  until(3.4);
  m->lufs  = loudness(player.at);
  m->dc_db = dc_db(player.at);
  m->corr  = correlation(player.at);
}

/* A six-note chord held for 1.5 s at velocity 100. */
static void
chord(Measures* const m)
{
  static const uint8_t keys[] = { 48u, 55u, 60u, 64u, 67u, 72u };
  for (size_t k = 0; k < CH_COUNT(keys); ++k) {
    midi(0x90u, keys[k], 100u);
  }
  until(1.5);
  for (size_t k = 0; k < CH_COUNT(keys); ++k) {
    midi(0x80u, keys[k], 0u);
  }
  until(2.5);
  m->peak_db = dsp_db(
    fmax(dsp_peak(player.left, player.at), dsp_peak(player.right, player.at)));
  /* held: a standing offset shows here, not averaged away by the tail */
  const uint32_t held = RATE / 2u;
  m->dc_db            = fmax(m->dc_db, dc_db_over(held, RATE));
}

/* Magnitudes (dB re the loudest) of FFT_N * scale samples of `x` from
   0.2 s on, Blackman-Harris windowed; bins of rate / FFT_N Hz. */
static void
spectrum(const float* const x, const uint32_t scale, double* const db)
{
  const size_t  n  = (size_t)FFT_N * scale;
  double* const re = (double*)calloc(n, sizeof(double));
  double* const im = (double*)calloc(n, sizeof(double));
  for (size_t i = 0; i < n; ++i) {
    re[i] = x[i] * dsp_blackman_harris(i, n);
  }
  dsp_fft(re, im, n);
  double top = 1e-30;
  for (size_t k = 0; k < FFT_N / 2; ++k) {
    db[k] = sqrt(re[k] * re[k] + im[k] * im[k]) / (double)scale;
    top   = fmax(top, db[k]);
  }
  for (size_t k = 0; k < FFT_N / 2; ++k) {
    db[k] = dsp_db(db[k] / top);
  }
  free(re);
  free(im);
}

/* A held C7 rendered at 48 and at 96 kHz: below 20 kHz both should hold
   the same partials; what the 48 kHz take has more of (re its loudest
   partial) is aliasing. */
static void
top_note(const char* const path, Measures* const m)
{
  static double at48[FFT_N / 2];
  static double at96[FFT_N / 2];
  for (uint32_t scale = 1u; scale <= 2u; ++scale) {
    ChGraph* const graph = bank_graph(path, (float)(RATE * scale));
    if (!graph) {
      return;
    }
    ch_voicing_init(&player.voicing, &player.host);
    ch_voicing_set_voices(&player.voicing, ch_graph_polyphony(graph));
    midi(0x90u, 96u, 100u);
    const uint32_t frames = (RATE / 5u + FFT_N) * scale;
    for (uint32_t at = 0; at < frames; at += 4096u) {
      const uint32_t n = frames - at < 4096u ? frames - at : 4096u;
      ch_graph_run(graph, &player.host, player.left + at, player.right + at, n);
    }
    spectrum(player.left + RATE / 5u * scale, scale, scale == 1u ? at48 : at96);
    ch_graph_free(graph);
  }
  m->alias_db = -HUGE_VAL;
  for (size_t k = 7; k < (size_t)(20000.0 * FFT_N / RATE); ++k) {
    if (at48[k] > at96[k] + 6.0) { /* clearly more than the partials */
      m->alias_db = fmax(m->alias_db, at48[k]);
    }
  }
}

/* Energy of the first 35 ms of a note, differentiated (its attack), after
   a note-off at the same frame, re the same after a 10 ms gap. */
static double
attack_energy(const char* const path, const double gap)
{
  if (!start(path)) {
    return 0.0;
  }
  midi(0x90u, 48u, 100u);
  until(0.4);
  midi(0x80u, 48u, 0u);
  until(0.4 + gap);
  midi(0x90u, 50u, 100u);
  const uint32_t from = player.at;
  until(0.4 + gap + 0.035);
  double sum = 0.0;
  for (uint32_t i = from + 1u; i < player.at; ++i) {
    const double l = (double)player.left[i] - player.left[i - 1u];
    const double r = (double)player.right[i] - player.right[i - 1u];
    sum += l * l + r * r;
  }
  stop();
  return sum;
}

typedef struct {
  bool noisy;    /* has noise: two takes differ, so no alias check */
  bool sustains; /* sounds without notes: no retrigger to hear */
} Program;

static bool
file_has(const char* const path, const char* const needle)
{
  FILE* const f = fopen(path, "rb");
  char        text[16384];
  size_t      n = f ? fread(text, 1, sizeof(text) - 1u, f) : 0u;
  if (f) {
    fclose(f);
  }
  text[n] = '\0';
  return strstr(text, needle) != NULL;
}

/* Half a second without a note: does it sound? */
static bool
sounds_alone(const char* const path)
{
  bool sounds = false;
  if (start(path)) {
    until(0.5);
    sounds = dsp_rms(player.left, player.at) > 1e-3;
    stop();
  }
  return sounds;
}

/* What the measures can apply to. */
static Program
program_of(const char* const path)
{
  const Program p = { file_has(path, "\"noise\""), sounds_alone(path) };
  return p;
}

static bool
is_stereo(const char* const path)
{
  return file_has(path, "out:left") && file_has(path, "out:right");
}

static void
measure(const char* const path, const Program* const p, Measures* const m)
{
  memset(m, 0, sizeof(*m));
  if (start(path)) {
    phrase(m);
    stop();
  }
  if (start(path)) {
    chord(m);
    stop();
  }
  m->alias_db = -HUGE_VAL;
  if (!p->noisy) {
    top_note(path, m);
  }
  m->retrig_db = 0.0;
  if (!p->sustains) {
    const double joined = attack_energy(path, 0.0);
    const double apart  = attack_energy(path, 0.01);
    m->retrig_db = 10.0 * log10(fmax(joined, 1e-30) / fmax(apart, 1e-30));
  }
}

static void
check_program(const BankFile* const bank_file)
{
  const char* const path = bank_file->path;
  const char* const file = bank_file->name;
  const Program     p    = program_of(path);
  Measures          m;
  measure(path, &p, &m);
  printf("| %-14s | %6.1f | %6.1f | %6.1f | %5.2f | %6.1f | %5.1f |\n", file,
         m.lufs, m.peak_db, m.dc_db, m.corr, m.alias_db, m.retrig_db);
  CHECK_MSG(fabs(m.lufs - TARGET_LUFS) <= TOLERANCE_LU, "%s: %.1f LUFS", file,
            m.lufs);
  CHECK_MSG(m.peak_db < dsp_db(PEAK_MAX), "%s: chord peaks at %.1f dBFS", file,
            m.peak_db);
  CHECK_MSG(m.dc_db < DC_MAX_DB, "%s: DC %.1f dB re RMS", file, m.dc_db);
  CHECK_MSG(m.alias_db < ALIAS_MAX_DB, "%s: aliases at %.1f dB", file,
            m.alias_db);
  /* a note-off and note-on at one frame attack like separate notes (a
     lost attack measures -9 dB; noise takes differ by up to 3) */
  CHECK_MSG(fabs(m.retrig_db) < 5.0, "%s: same-frame attack %.1f dB", file,
            m.retrig_db);
  CHECK_MSG(file_has(path, "rdfs:comment"), "%s: no description", file);
  /* mono-compatible: no channel cancels the other */
  CHECK_MSG(m.corr > 0.0, "%s: correlation %.2f", file, m.corr);
  if (is_stereo(path)) {
    CHECK_MSG(m.corr < 0.98, "%s: wired in stereo, sounds mono (%.3f)", file,
              m.corr);
  }
}

static void
test_every_program(void)
{
  printf("| program        |   LUFS | peak dBFS | DC dB | corr | alias dB | "
         "retrig dB |\n");
  CHECK(bank_each(check_program) >= 16);
}

int
main(void)
{
  RUN(test_every_program);
  return CHECK_EXIT();
}
