/* Tests of the `shaper` module: curves, drive gain, symmetry, bounds, mix. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_shaper;

#define RATE 48000.0f
#define LEN  48000u
/* Samples the 8x oversampling delays by (CH_OS8_LATENCY). */
#define OS_LATENCY 59u

enum { TANH, SOFT, FOLD, HARD };

static float in_sig[LEN];
static float cv_sig[LEN];
static float out_sig[LEN];

static KindHarness*
make(const int shape, const float drive, const float mix, const float level)
{
  return harness_with(&ch_kind_shaper, RATE, "shape", (double)shape, "drive",
                      drive, "mix", mix, "level", level, NULL);
}

/* harness_run() feeds in_sig/cv_sig and keeps out_sig. */
static const HarnessWire ins[]  = { { "in", in_sig },
                                    { "drive", cv_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "out", out_sig }, { NULL, NULL } };

static void
sine_input(const double amp, const double freq)
{
  dsp_sine(in_sig, LEN, amp, freq, RATE);
  memset(cv_sig, 0, sizeof(cv_sig));
}

/* The curves as specified, in double. */
static double
curve(const int shape, const double x)
{
  switch (shape) {
  case TANH:
    return tanh(x);
  case SOFT: {
    const double c = fmin(fmax(x, -1.5), 1.5);
    return c - 4.0 / 27.0 * c * c * c;
  }
  case FOLD:
    return sin(x);
  default:
    return fmin(fmax(x, -1.0), 1.0);
  }
}

/* Amplitude of the fundamental of curve(amp sin), in double. */
static double
curve_fundamental(const int shape, const double amp)
{
  enum { STEPS = 1 << 14 };
  double sum = 0.0;
  for (int i = 0; i < STEPS; ++i) {
    const double phase = 2.0 * M_PI * (i + 0.5) / STEPS;
    sum += curve(shape, amp * sin(phase)) * sin(phase);
  }
  return 2.0 * sum / STEPS;
}

/* Oversampled, the curve is band-limited (so its exact samples cannot be
   compared); its fundamental, well inside the passband, can. */
static void
test_curves(void)
{
  static const double amps[] = { 0.5, 1.2, 3.0, 6.0 };
  for (int shape = TANH; shape <= HARD; ++shape) {
    for (size_t a = 0; a < CH_COUNT(amps); ++a) {
      sine_input(amps[a], 750.0); /* 64 samples a cycle */
      KindHarness* h = make(shape, 0.0f, 1.0f, 1.0f);
      harness_run(h, ins, outs, 0, LEN, 256);
      const double got  = dsp_tone_level(out_sig + 8192, 32768, 750.0, RATE);
      const double want = curve_fundamental(shape, amps[a]);
      fprintf(stderr,
              "  shape %d, amplitude %g: fundamental %.4f, curve %.4f\n", shape,
              amps[a], got, want);
      CHECK_NEAR(got, fabs(want), shape == TANH ? 0.025 : 2e-3);
      /* band-limiting lets clipped edges ring a little past the curve */
      CHECK(dsp_peak(out_sig, LEN) <= 1.15);
      harness_free(h);
    }
  }
}

static void
test_quiet_signal_passes_unchanged(void)
{
  sine_input(0.01, 441.0);
  for (int shape = TANH; shape <= HARD; ++shape) {
    KindHarness* h   = make(shape, 0.0f, 1.0f, 1.0f);
    double       err = 0.0;
    harness_run(h, ins, outs, 0, LEN, 256);
    /* delayed by the oversampling; the 5 Hz DC blocker turns a 441 Hz
       phase by 0.011 rad */
    for (size_t i = 4800; i < LEN; ++i) {
      err = fmax(err, fabs((double)out_sig[i] - in_sig[i - OS_LATENCY]));
    }
    CHECK_MSG(err < 2e-4, "shape %d: error %g", shape, err);
    harness_free(h);
  }
}

static void
test_drive_gain_and_cv(void)
{
  sine_input(1e-4, 441.0);
  KindHarness* h = make(HARD, 1.0f, 1.0f, 1.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  const double full = dsp_peak(out_sig + LEN / 2, LEN / 2) / 1e-4;
  harness_free(h);
  h = make(HARD, 0.5f, 1.0f, 1.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  const double half = dsp_peak(out_sig + LEN / 2, LEN / 2) / 1e-4;
  harness_free(h);
  for (size_t i = 0; i < LEN; ++i) {
    cv_sig[i] = 0.75f; /* 0.5 + 0.75 clamps at 1 */
  }
  h = make(HARD, 0.5f, 1.0f, 1.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  const double cv = dsp_peak(out_sig + LEN / 2, LEN / 2) / 1e-4;
  harness_free(h);
  fprintf(stderr, "  gain %.3f at drive 1, %.3f at 0.5, %.3f with cv\n", full,
          half, cv);
  CHECK_NEAR(full, 50.0, 0.05);
  CHECK_NEAR(half, sqrt(50.0), 0.01);
  CHECK_NEAR(cv, 50.0, 0.05);
}

static void
test_symmetric_input_stays_dc_free(void)
{
  /* 93.75 Hz: whole cycles of 512 samples in the measured stretch */
  sine_input(0.8, 93.75);
  for (int shape = TANH; shape <= HARD; ++shape) {
    KindHarness* h = make(shape, 0.6f, 1.0f, 1.0f);
    harness_run(h, ins, outs, 0, LEN, 256);
    const float* tail = out_sig + LEN - 32768;
    const double mean = dsp_mean(tail, 32768);
    const double h1   = dsp_tone_level(tail, 32768, 93.75, RATE);
    const double h2   = dsp_tone_level(tail, 32768, 187.5, RATE);
    const double h3   = dsp_tone_level(tail, 32768, 281.25, RATE);
    fprintf(stderr, "  shape %d: mean %.1g, h1 %.3f, h2 %.1g, h3 %.3f\n", shape,
            mean, h1, h2, h3);
    CHECK(fabs(mean) < 1e-5);
    CHECK(h2 < 1e-5 * h1);
    CHECK(h3 > 0.01 * h1); /* it does distort */
    harness_free(h);
  }
}

static void
test_bounded_for_wild_input(void)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = i % 5 == 0   ? NAN
                : i % 5 == 1 ? INFINITY
                : i % 5 == 2 ? -1e30f
                             : (float)sin((double)i) * 1e4f;
    cv_sig[i] = i % 7 == 0 ? NAN : (float)(i % 3) - 1.0f;
  }
  for (int shape = TANH; shape <= HARD; ++shape) {
    KindHarness* h = make(shape, 1.0f, 1.0f, 2.0f);
    harness_run(h, ins, outs, 0, LEN, 256);
    CHECK_MSG(dsp_within(out_sig, LEN, -2.0f * 1.5f, 2.0f * 1.5f), "shape %d",
              shape);
    harness_free(h);
  }
}

static void
test_mix_and_level(void)
{
  sine_input(2.0, 441.0);
  KindHarness* h = make(HARD, 0.0f, 0.0f, 0.5f);
  harness_run(h, ins, outs, 0, LEN, 256);
  double err = 0.0;
  for (size_t i = 4800; i < LEN; ++i) {
    err = fmax(err, fabs(out_sig[i] - 0.5 * in_sig[i - OS_LATENCY]));
  }
  CHECK_MSG(err < 0.02, "dry: error %g", err); /* the blocker's phase */

  /* half and half: the fundamental of half the curve and half the sine */
  harness_set_each(h, "mix", 0.5f, "level", 1.0f, NULL);
  harness_run(h, ins, outs, 0, LEN, 256);
  const double got  = dsp_tone_level(out_sig + 8192, 32768, 441.0, RATE);
  const double want = 0.5 * curve_fundamental(HARD, 2.0) + 0.5 * 2.0;
  CHECK_NEAR(got, want, 0.01);
  /* then the level fades instead of stepping */
  harness_set(h, "level", 0.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  double jump = 0.0;
  for (size_t i = 1; i < 480; ++i) {
    jump = fmax(jump, fabs((double)out_sig[i] - out_sig[i - 1]));
  }
  CHECK(jump < 0.2); /* the sine itself moves up to 0.115 a sample */
  CHECK(dsp_peak(out_sig + 24000, 24000) == 0.0);
  harness_free(h);
}

/* A loud sine through `shape` under a slow cv, with drive and level
   turned half way (and so while they are smoothed). */
static void
shape_turned(const int shape, const uint32_t block)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)sin((double)i * 0.03) * 1.3f;
    cv_sig[i] = (float)sin((double)i * 0.0007) * 0.6f;
  }
  KindHarness* h = make(shape, 0.4f, 0.8f, 1.0f);
  harness_run(h, ins, outs, 0, LEN / 2, block);
  harness_set_each(h, "drive", 0.9f, "level", 1.5f, NULL);
  harness_run(h, ins, outs, LEN / 2, LEN / 2, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  for (int shape = TANH; shape <= HARD; ++shape) {
    CHECK_MSG(harness_same_for_any_block(shape_turned, shape, outs, LEN),
              "shape %d", shape);
  }
}

/* A held C7 sine through each curve, up to full drive (a gain of 40 on
   it): whatever folds back over Nyquist lands between the harmonics; it
   must stay 80 dB under the loudest. */
static void
test_no_aliases_at_c7(void)
{
  static const struct {
    int   shape;
    float drive;
  } cases[] = { { TANH, 0.25f }, { TANH, 0.6f }, { TANH, 1.0f },
                { SOFT, 0.4f },  { SOFT, 1.0f }, { HARD, 0.25f },
                { HARD, 0.6f },  { HARD, 1.0f }, { FOLD, 0.3f },
                { FOLD, 0.5f },  { FOLD, 0.6f }, { FOLD, 0.8f },
                { FOLD, 1.0f } };
  sine_input(0.8, 2093.0045);
  for (size_t c = 0; c < CH_COUNT(cases); ++c) {
    KindHarness* h = make(cases[c].shape, cases[c].drive, 1.0f, 1.0f);
    harness_run(h, ins, outs, 0, LEN, 256);
    const double alias =
      dsp_alias_db(out_sig + 16384, 16384, 2093.0045, RATE, 20000.0);
    fprintf(stderr, "  shape %d drive %.2f: worst alias %.1f dB\n",
            cases[c].shape, (double)cases[c].drive, alias);
    CHECK(alias < -80.0);
    harness_free(h);
  }
}

int
main(void)
{
  RUN(test_no_aliases_at_c7);
  RUN(test_curves);
  RUN(test_quiet_signal_passes_unchanged);
  RUN(test_drive_gain_and_cv);
  RUN(test_symmetric_input_stays_dc_free);
  RUN(test_bounded_for_wild_input);
  RUN(test_mix_and_level);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
