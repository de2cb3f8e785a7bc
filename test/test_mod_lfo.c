/* Tests of the `lfo` module: rates, shapes, sync, phase and the random steps.
 */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_lfo;

#define RATE 48000.0f
#define LEN  480000u /* ten seconds */
/* 46.875 Hz at 48 kHz: a phase step of exactly 1/1024, so cycles and their
   quarters land on whole samples without rounding. */
#define EXACT_HZ 46.875f
#define PERIOD   1024u

static float out_sig[LEN];
static float uni_sig[LEN];
static float cv_sig[LEN];
static float sync_sig[LEN];

enum { SINE, TRIANGLE, SAW, RAMP, SQUARE, RANDOM };

static KindHarness*
make(const int shape, const float hz, const float depth, const float phase)
{
  return harness_with(&ch_kind_lfo, RATE, "shape", (double)shape, "rate", hz,
                      "depth", depth, "phase", phase, NULL);
}

/* harness_run() feeds cv_sig/sync_sig and keeps out_sig, uni_sig. */
static const HarnessWire ins[]  = { { "rate", cv_sig },
                                    { "sync", sync_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "out", out_sig },
                                    { "uni", uni_sig },
                                    { NULL, NULL } };

static void
clear_inputs(void)
{
  memset(cv_sig, 0, sizeof(cv_sig));
  memset(sync_sig, 0, sizeof(sync_sig));
}

/* Rising crossings of the mid level between consecutive samples. */
static int
count_rising(const float* x, const size_t n, const float level)
{
  int count = 0;
  for (size_t i = 1; i < n; ++i) {
    count += x[i - 1] < level && x[i] >= level;
  }
  return count;
}

static void
test_rate_and_rate_cv(void)
{
  clear_inputs();
  KindHarness* h = make(SINE, 2.0f, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  const double f = dsp_zero_cross_freq(out_sig, LEN, RATE);
  harness_free(h);

  for (size_t i = 0; i < LEN; ++i) {
    cv_sig[i] = 1.5f;
  }
  h = make(TRIANGLE, 2.0f, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  const double f_cv = dsp_zero_cross_freq(out_sig, LEN, RATE);
  harness_free(h);

  clear_inputs();
  h = make(SQUARE, 0.01f, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, LEN,
              256); /* ten seconds of a 100 s cycle: still high */
  float slow_min = 1.0f;
  for (size_t i = 0; i < LEN; ++i) {
    slow_min = fminf(slow_min, out_sig[i]);
  }
  harness_free(h);

  fprintf(stderr, "  2 Hz: %.6f Hz, +1.5 oct: %.5f Hz\n", f, f_cv);
  CHECK_NEAR(f, 2.0, 1e-4);
  CHECK_NEAR(f_cv, 2.0 * pow(2.0, 1.5), 1e-3);
  CHECK(slow_min == 1.0f);
}

/* Quarter cycles of PERIOD fall on whole samples. */
static void
test_shapes_at_known_phases(void)
{
  static const double expect[6][4] = {
    /* p = 0, 0.25, 0.5, 0.75 */
    { 0.0, 1.0, 0.0, -1.0 },  /* sine */
    { 0.0, 1.0, 0.0, -1.0 },  /* triangle */
    { -1.0, -0.5, 0.0, 0.5 }, /* saw */
    { 1.0, 0.5, 0.0, -0.5 },  /* ramp */
    { 1.0, 1.0, -1.0, -1.0 }, /* square (high in the first half) */
  };
  clear_inputs();
  for (int shape = SINE; shape <= SQUARE; ++shape) {
    KindHarness* h = make(shape, EXACT_HZ, 1.0f, 0.0f);
    harness_run(h, ins, outs, 0, 10 * PERIOD, 64);
    for (int q = 0; q < 4; ++q) {
      for (int cycle = 0; cycle < 10; cycle += 3) {
        const size_t i = (size_t)cycle * PERIOD + (size_t)q * PERIOD / 4;
        CHECK_MSG(fabs(out_sig[i] - expect[shape][q]) < 1e-6,
                  "shape %d sample %zu: %g, expected %g", shape, i,
                  (double)out_sig[i], expect[shape][q]);
      }
    }
    /* the triangle is linear: 4 / PERIOD per sample */
    if (shape == TRIANGLE) {
      CHECK_NEAR(out_sig[PERIOD / 8], 0.5, 1e-6);
      CHECK_NEAR(out_sig[PERIOD * 5 / 8], -0.5, 1e-6);
    }
    const double peak = dsp_peak(out_sig, 10 * PERIOD);
    const double mean = dsp_mean(out_sig, 10 * PERIOD);
    CHECK_MSG(peak <= 1.0 && peak > 0.999, "shape %d peak %g", shape, peak);
    CHECK_MSG(fabs(mean) < 2e-3, "shape %d mean %g", shape, mean);
    harness_free(h);
  }
}

static void
test_depth_and_unipolar(void)
{
  clear_inputs();
  KindHarness* h = make(TRIANGLE, EXACT_HZ, 0.5f, 0.0f);
  harness_run(h, ins, outs, 0, 9600, 256);
  double err = 0.0;
  float  lo  = 1.0f;
  float  hi  = -1.0f;
  /* Two loops: clang 22 at -O2 crashes in instruction selection when one
     loop reduces with fmax (double) and fminf/fmaxf (float) together. */
  for (size_t i = 0; i < 9600; ++i) {
    err = fmax(err, fabs(uni_sig[i] - (0.5 * out_sig[i] + 0.25)));
  }
  for (size_t i = 0; i < 9600; ++i) {
    lo = fminf(lo, uni_sig[i]);
    hi = fmaxf(hi, uni_sig[i]);
  }
  CHECK_NEAR(dsp_peak(out_sig, 9600), 0.5, 1e-6);
  CHECK(err < 1e-6);
  CHECK_NEAR(lo, 0.0, 1e-6);
  CHECK_NEAR(hi, 0.5, 1e-6);

  /* a depth change glides over ~5 ms instead of stepping */
  harness_set_each(h, "depth", 1.0f, "shape", (float)SQUARE, NULL);
  harness_run(h, ins, outs, 0, 4800, 256);
  CHECK(fabsf(out_sig[0]) > 0.5f && fabsf(out_sig[0]) < 0.51f);
  CHECK_NEAR(fabsf(out_sig[239]), 1.0 - 0.5 * exp(-240.0 / (0.005 * RATE)),
             1e-3);
  CHECK(fabsf(out_sig[4000]) == 1.0f); /* settled exactly */
  harness_free(h);
}

static void
test_sync_resets_on_the_edge_sample(void)
{
  clear_inputs();
  for (size_t i = 1000; i < 3000; ++i) {
    sync_sig[i] = 1.0f; /* held high: one edge, not a reset per sample */
  }
  for (size_t i = 5555; i < 5556; ++i) {
    sync_sig[i] = 1.0f; /* a one-sample trigger */
  }
  KindHarness* h = make(SAW, 3.0f, 1.0f, 0.25f);
  harness_run(h, ins, outs, 0, 9600, 64);
  CHECK_NEAR(out_sig[0], -0.5, 1e-6); /* starts at the phase param */
  CHECK(out_sig[999] > -0.4f);        /* ran on from there */
  CHECK_NEAR(out_sig[1000], -0.5, 1e-6);
  CHECK_NEAR(out_sig[2999], -0.5 + 2.0 * 3.0 * 1999.0 / RATE, 1e-5);
  CHECK_NEAR(out_sig[5555], -0.5, 1e-6);
  CHECK_NEAR(out_sig[5556], -0.5 + 2.0 * 3.0 / RATE, 1e-6);
  harness_free(h);
}

static void
test_phase_param_offsets(void)
{
  static float a[9600];
  clear_inputs();
  KindHarness* h = make(SINE, 5.0f, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, 9600, 256);
  memcpy(a, out_sig, sizeof(a));
  harness_free(h);
  h = make(SINE, 5.0f, 1.0f, 0.25f);
  harness_run(h, ins, outs, 0, 9600, 256);
  double err = 0.0;
  for (size_t i = 0; i < 9600; ++i) {
    const double t = 5.0 * (double)i / RATE;
    err            = fmax(err, fabs(a[i] - sin(2.0 * M_PI * t)));
    err            = fmax(err, fabs(out_sig[i] - cos(2.0 * M_PI * t)));
  }
  CHECK_MSG(err < 1e-5, "max error against sin/cos %g", err);

  /* turning the knob while running shifts the phase by the difference */
  harness_set(h, "phase", 0.75f);
  harness_run(h, ins, outs, 0, 1, 1);
  const double t = 5.0 * 9600.0 / RATE + 0.75;
  CHECK_NEAR(out_sig[0], sin(2.0 * M_PI * t), 1e-5);
  harness_free(h);
}

static void
test_random_steps_once_per_cycle(void)
{
  clear_inputs();
  KindHarness* h = make(RANDOM, EXACT_HZ, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  const size_t cycles         = LEN / PERIOD;
  int          changes_inside = 0;
  size_t       steps          = 0;
  double       sum            = 0.0;
  double       sum2           = 0.0;
  for (size_t c = 0; c < cycles; ++c) {
    const float v = out_sig[c * PERIOD];
    for (size_t i = 1; i < PERIOD; ++i) {
      changes_inside += out_sig[c * PERIOD + i] != v;
    }
    if (c) {
      steps += v != out_sig[c * PERIOD - 1];
    }
    sum += v;
    sum2 += (double)v * v;
  }
  const double mean = sum / (double)cycles;
  const double rms  = sqrt(sum2 / (double)cycles);
  fprintf(stderr, "  random: mean %.3f, rms %.3f (uniform: 0, 0.577)\n", mean,
          rms);
  CHECK(changes_inside == 0);
  CHECK(steps >= cycles - 2);
  CHECK(dsp_peak(out_sig, LEN) <= 1.0);
  CHECK(fabs(mean) < 0.1);
  CHECK_NEAR(rms, 1.0 / sqrt(3.0), 0.05);

  /* reproducible per voice, different between voices */
  static float first[LEN];
  memcpy(first, out_sig, sizeof(first));
  KindHarness* same = make(RANDOM, EXACT_HZ, 1.0f, 0.0f);
  harness_run(same, ins, outs, 0, LEN, 17);
  CHECK(!memcmp(first, out_sig, sizeof(first)));
  KindHarness* other = make(RANDOM, EXACT_HZ, 1.0f, 0.0f);
  other->node.voice  = 3;
  memset(other->state, 0, ch_kind_lfo.state_size);
  ch_kind_lfo.init(&other->node);
  harness_run(other, ins, outs, 0, LEN, 256);
  CHECK(memcmp(first, out_sig, sizeof(first)) != 0);
  harness_free(h);
  harness_free(same);
  harness_free(other);
}

static void
test_wild_rate_cv_stays_finite(void)
{
  for (size_t i = 0; i < LEN; ++i) {
    cv_sig[i]   = (i / 100) % 4 == 0   ? NAN
                  : (i / 100) % 4 == 1 ? 1000.0f
                  : (i / 100) % 4 == 2 ? -1000.0f
                                       : INFINITY;
    sync_sig[i] = (float)((i / 7) % 2);
  }
  int finite = 1;
  for (int shape = SINE; shape <= RANDOM; ++shape) {
    KindHarness* h = make(shape, 50.0f, 1.0f, 0.5f);
    harness_run(h, ins, outs, 0, LEN / 10, 256);
    finite &= dsp_within(out_sig, LEN / 10, -1.0f, 1.0f);
    finite &= dsp_within(uni_sig, LEN / 10, 0.0f, 1.0f);
    harness_free(h);
  }
  CHECK(finite);
  /* cv at +1000 octaves is capped at a quarter of the rate: 4 samples */
  clear_inputs();
  for (size_t i = 0; i < 4800; ++i) {
    cv_sig[i] = 1000.0f;
  }
  KindHarness* h = make(SQUARE, 50.0f, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, 4800, 256);
  CHECK(count_rising(out_sig, 4800, 0.0f) == 1199);
  harness_free(h);
}

/* A `shape` under a stepping rate cv and sync pulses. */
static void
stepped_and_synced(const int shape, const uint32_t block)
{
  for (size_t i = 0; i < LEN / 4; ++i) {
    cv_sig[i]   = (float)((i / 500) % 7) - 3.0f + (float)(i % 3) * 0.01f;
    sync_sig[i] = (i % 9001) < 30 ? 1.0f : 0.0f;
  }
  KindHarness* h = make(shape, 7.0f, 0.8f, 0.3f);
  harness_run(h, ins, outs, 0, LEN / 4, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  static const int shapes[] = { SINE, RANDOM };
  for (size_t s = 0; s < CH_COUNT(shapes); ++s) {
    CHECK_MSG(
      harness_same_for_any_block(stepped_and_synced, shapes[s], outs, LEN / 4),
      "shape %d", shapes[s]);
  }
}

int
main(void)
{
  RUN(test_rate_and_rate_cv);
  RUN(test_shapes_at_known_phases);
  RUN(test_depth_and_unipolar);
  RUN(test_sync_resets_on_the_edge_sample);
  RUN(test_phase_param_offsets);
  RUN(test_random_steps_once_per_cycle);
  RUN(test_wild_rate_cv_stays_finite);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
