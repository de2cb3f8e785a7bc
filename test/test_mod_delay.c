/* Tests of the `delay` module: echo timing, feedback, damping, mix. */
#include "check.h"
#include "dsp.h"

#include <stdlib.h>

extern const ChKind ch_kind_delay;

#define RATE 48000.0
#define LEN  (192000u * 5u / 2u) /* 2.5 s at the highest rate */

static float in_sig[LEN];
static float cv_sig[LEN];
static float left[LEN];
static float right[LEN];

/* The parameters of a delay under test; those a test leaves out are 0. */
typedef struct {
  float rate; /* 0: RATE */
  float time, feedback, damp, mix, spread;
} Echo;

static KindHarness*
make(const Echo e)
{
  return harness_with(&ch_kind_delay, e.rate ? e.rate : RATE, "time", e.time,
                      "feedback", e.feedback, "damp", e.damp, "mix", e.mix,
                      "spread", e.spread, NULL);
}

/* harness_run() feeds in_sig/cv_sig and keeps left and right. */
static const HarnessWire ins[]  = { { "in", in_sig },
                                    { "time", cv_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "left", left },
                                    { "right", right },
                                    { NULL, NULL } };

static void
impulse_at(const size_t at, const size_t total)
{
  memset(in_sig, 0, total * sizeof(float));
  memset(cv_sig, 0, total * sizeof(float));
  in_sig[at] = 1.0f;
}

static size_t
peak_index(const float* x, const size_t from, const size_t to)
{
  size_t best = from;
  for (size_t i = from; i < to; ++i) {
    if (fabsf(x[i]) > fabsf(x[best])) {
      best = i;
    }
  }
  return best;
}

static void
test_descriptor(void)
{
  CHECK(ch_kind_delay.flags & CH_KIND_GLOBAL);
  CHECK(ch_kind_delay.capture == NULL);
  CHECK(ch_kind_delay.n_inputs == 2 && ch_kind_delay.n_outputs == 2);
  CHECK(ch_kind_find_output(&ch_kind_delay, "left") == 0);
  CHECK(ch_kind_find_output(&ch_kind_delay, "right") == 1);
  fprintf(stderr, "  state at 48 kHz: %zu bytes\n",
          ch_kind_state_size(&ch_kind_delay, 48000.0f));
}

static void
test_echo_arrives_on_time(void)
{
  static const float rates[] = { 44100.0f, 48000.0f, 192000.0f };
  static const float times[] = { 0.001f, 0.0123f, 0.35f, 1.0f, 2.0f };
  double             worst   = 0.0;
  for (size_t r = 0; r < CH_COUNT(rates); ++r) {
    for (size_t t = 0; t < CH_COUNT(times); ++t) {
      const double expect_l = (double)times[t] * rates[r] + 100.0;
      const double expect_r = expect_l + 0.05 * rates[r];
      const size_t total    = (size_t)expect_r + 1000;
      if (total > LEN) {
        continue;
      }
      KindHarness* h = make((Echo){
        .rate = rates[r], .time = times[t], .mix = 1.0f, .spread = 0.05f });
      impulse_at(100, total);
      harness_run(h, ins, outs, 0, total, 256);
      const size_t il = peak_index(left, 0, total);
      const size_t ir = peak_index(right, 0, total);
      CHECK_MSG(fabs((double)il - expect_l) <= 1.0, "left at %zu, want %.1f",
                il, expect_l);
      CHECK_MSG(fabs((double)ir - expect_r) <= 1.0, "right at %zu, want %.1f",
                ir, expect_r);
      /* interpolation spreads a fractional delay over 4 samples */
      CHECK(left[il] > 0.5f && right[ir] > 0.5f);
      worst = fmax(worst, fabs((double)il - expect_l));
      worst = fmax(worst, fabs((double)ir - expect_r));
      /* nothing else: no dry (mix 1), no repeats (feedback 0) */
      CHECK(dsp_peak(left, il - 2) == 0.0 && dsp_peak(right, ir - 2) == 0.0);
      harness_free(h);
    }
  }
  fprintf(stderr, "  echo timing: worst %.0f samples off\n", worst);
}

static void
test_time_input_adds(void)
{
  KindHarness* h = make((Echo){ .time = 0.2f, .mix = 1.0f });
  impulse_at(100, 24000);
  for (size_t i = 0; i < 24000; ++i) {
    cv_sig[i] = 0.25f;
  }
  harness_run(h, ins, outs, 0, 24000, 64);
  CHECK_NEAR(peak_index(left, 0, 24000), 100 + 0.45 * RATE, 1.0);
  harness_free(h);
}

static void
test_repeats_decay_by_feedback(void)
{
  static const float fbs[] = { 0.5f, 0.9f, 0.98f };
  for (size_t f = 0; f < CH_COUNT(fbs); ++f) {
    const size_t d     = 4800; /* 0.1 s */
    const size_t total = 100 + 8 * d + 100;
    KindHarness* h =
      make((Echo){ .time = 0.1f, .feedback = fbs[f], .mix = 1.0f });
    impulse_at(100, total);
    harness_run(h, ins, outs, 0, total, 17);
    double prev = 0.0;
    for (size_t k = 1; k <= 8; ++k) {
      const size_t i    = peak_index(left, 100 + k * d - 10, 100 + k * d + 10);
      const double peak = left[i];
      CHECK_MSG(i == 100 + k * d, "repeat %zu at %zu", k, i);
      if (k == 1) {
        CHECK_NEAR(peak, 1.0, 1e-4);
      } else {
        CHECK_NEAR(peak / prev, fbs[f], 1e-3);
      }
      prev = peak;
    }
    harness_free(h);
  }
}

/* |H|^2 of the one-pole low-pass y += a (x - y) at `freq`. */
static double
one_pole_power(const double a, const double freq)
{
  const double w  = 2.0 * M_PI * freq / RATE;
  const double b  = 1.0 - a;
  const double re = 1.0 - b * cos(w);
  const double im = b * sin(w);
  return a * a / (re * re + im * im);
}

static void
test_damping_dulls_repeats(void)
{
  /* high/low band ratio of the 1st and 3rd echo, in dB */
  double change[2];
  for (int damped = 0; damped < 2; ++damped) {
    const size_t d     = 9600; /* 0.2 s */
    const size_t total = 100 + 4 * d;
    KindHarness* h     = make((Echo){ .time     = 0.2f,
                                      .feedback = 0.9f,
                                      .damp     = damped ? 0.5f : 0.0f,
                                      .mix      = 1.0f });
    impulse_at(100, total);
    harness_run(h, ins, outs, 0, total, 64);
    double tilt[2];
    for (int e = 0; e < 2; ++e) {
      const size_t       k  = e ? 3 : 1;
      const float* const w  = left + 100 + k * d - 1024;
      const double       lo = dsp_tone_level(w, 2048, 187.5, RATE);
      const double       hi = dsp_tone_level(w, 2048, 8000.0, RATE);
      tilt[e]               = dsp_db(hi) - dsp_db(lo);
    }
    change[damped] = tilt[1] - tilt[0];
    harness_free(h);
  }
  /* damp 0.5: fc = 18 kHz * (500 / 18000)^0.5 = 3 kHz; 3rd echo = 2 passes */
  const double fc = 18000.0 * sqrt(500.0 / 18000.0);
  const double a  = 1.0 - exp(-2.0 * M_PI * fc / RATE);
  const double expect =
    2.0 * 10.0 * log10(one_pole_power(a, 8000.0) / one_pole_power(a, 187.5));
  fprintf(stderr,
          "  8 kHz vs 187 Hz, echo 3 vs 1: %.2f dB undamped, %.2f dB damped "
          "(%.2f dB expected)\n",
          change[0], change[1], expect);
  CHECK_NEAR(change[0], 0.0, 0.1);
  CHECK(change[1] < -6.0);
  CHECK_NEAR(change[1], expect, 0.5);
}

static void
test_mix(void)
{
  srand(5);
  const size_t total = 20000;
  for (size_t i = 0; i < total; ++i) {
    in_sig[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
    cv_sig[i] = 0.0f;
  }
  /* mix 0: dry exactly, on both sides */
  KindHarness* h = make(
    (Echo){ .time = 0.01f, .feedback = 0.7f, .damp = 0.3f, .spread = 0.01f });
  harness_run(h, ins, outs, 0, total, 64);
  CHECK(!memcmp(left, in_sig, total * sizeof(float)));
  CHECK(!memcmp(right, in_sig, total * sizeof(float)));
  harness_free(h);

  /* mix 1: no dry; mix 0.5: half of each */
  for (int k = 0; k < 2; ++k) {
    const float mix = k ? 0.5f : 1.0f;
    h               = make((Echo){ .time = 0.01f, .mix = mix });
    impulse_at(100, 2000);
    harness_run(h, ins, outs, 0, 2000, 64);
    CHECK(left[100] == 1.0f - mix && right[100] == 1.0f - mix);
    CHECK_NEAR(left[580], mix, 1e-5);
    harness_free(h);
  }
}

static void
test_time_change_glides(void)
{
  /* 100 Hz sine; the time jumps by half a period.  A hard jump would
     flip the sign of the output (a step near 2); the glide bends it. */
  KindHarness* h = make((Echo){ .time = 0.1f, .mix = 1.0f });
  for (size_t i = 0; i < 48000; ++i) {
    /* a cosine: the jump comes at a peak, where a hard one would show */
    in_sig[i] = (float)cos(2.0 * M_PI * 100.0 * (double)i / RATE);
    cv_sig[i] = 0.0f;
  }
  harness_run(h, ins, outs, 0, 24000,
              256); /* 50 periods: the second render continues it */
  const float before = left[23999];
  harness_set(h, "time", 0.105f);
  harness_run(h, ins, outs, 0, 24000, 256);
  double max_step = fabs((double)left[0] - before);
  for (size_t i = 1; i < 24000; ++i) {
    max_step = fmax(max_step, fabs((double)left[i] - left[i - 1]));
  }
  const double sine_step = 2.0 * M_PI * 100.0 / RATE;
  fprintf(stderr, "  time jump: largest step %.4f (sine alone %.4f)\n",
          max_step, sine_step);
  CHECK(max_step < 1.3 * sine_step);
  /* and it lands: 0.5 s later the output is the input 0.105 s back */
  double err = 0.0;
  for (size_t i = 23000; i < 24000; ++i) {
    err = fmax(err, fabs((double)left[i] - in_sig[i - 5040]));
  }
  CHECK(err < 1e-4);
  harness_free(h);
}

static void
test_bounded_when_pushed(void)
{
  static const float rates[] = { 44100.0f, 192000.0f };
  DspBound           bound   = dsp_bound_start();
  for (size_t r = 0; r < CH_COUNT(rates); ++r) {
    /* loud noise at the highest feedback, short time, wobbling cv */
    KindHarness* h = make((Echo){ .rate     = rates[r],
                                  .time     = 0.0137f,
                                  .feedback = 0.98f,
                                  .mix      = 1.0f,
                                  .spread   = 0.05f });
    srand(17);
    const size_t total = (size_t)rates[r] * 2;
    for (size_t i = 0; i < total; ++i) {
      in_sig[i] = (float)rand() / (float)RAND_MAX * 20.0f - 10.0f;
      cv_sig[i] = 0.005f * (float)sin((double)i * 0.0003);
    }
    harness_run(h, ins, outs, 0, total, 256);
    dsp_bound_add(&bound, left, total);
    dsp_bound_add(&bound, right, total);

    /* wild input and cv: huge, infinite, NaN, jumping */
    for (size_t i = 0; i < 20000; ++i) {
      in_sig[i] = i % 1000 == 0 ? 1e30f : (i % 1000 == 1 ? -INFINITY : 0.0f);
      cv_sig[i] = i % 3 ? (float)(rand() % 2001 - 1000) : NAN;
    }
    harness_run(h, ins, outs, 0, 20000, 100);
    for (size_t i = 0; i < 20000; ++i) {
      const int dry = i % 1000 <= 1; /* the dry path passes these on */
      bound.finite &= dry || (isfinite(left[i]) && isfinite(right[i]));
    }
    for (size_t i = 0; i < 20000; ++i) {
      in_sig[i] = 0.0f;
    }
    harness_run(h, ins, outs, 0, 20000, 100);
    bound.finite &= dsp_finite(left, 20000) & dsp_finite(right, 20000);
    harness_free(h);
  }
  fprintf(stderr, "  feedback 0.98, +-10 noise: peak %.1f\n", bound.peak);
  CHECK(bound.finite);
  CHECK(bound.peak < 10.0 / (1.0 - 0.98) * 1.5);
}

/* Echoes of a sine burst under a wobbling time, with time, mix and
   damping turned half way. */
static void
echo_turned(const int variant, const uint32_t block)
{
  (void)variant;
  for (size_t i = 0; i < 48000; ++i) {
    in_sig[i] = (float)sin((double)i * 0.03) * (i < 10000 ? 1.0f : 0.0f);
    cv_sig[i] = 0.01f * (float)sin((double)i * 0.0005);
  }
  KindHarness* h = make((Echo){ .time     = 0.05f,
                                .feedback = 0.8f,
                                .damp     = 0.6f,
                                .mix      = 0.7f,
                                .spread   = 0.02f });
  harness_run(h, ins, outs, 0, 24000, block);
  harness_set_each(h, "time", 0.02f, "mix", 0.2f, "damp", 0.1f, NULL);
  harness_run(h, ins, outs, 0, 24000, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  CHECK(harness_same_for_any_block(echo_turned, 0, outs, 24000));
}

int
main(void)
{
  RUN(test_descriptor);
  RUN(test_echo_arrives_on_time);
  RUN(test_time_input_adds);
  RUN(test_repeats_decay_by_feedback);
  RUN(test_damping_dulls_repeats);
  RUN(test_mix);
  RUN(test_time_change_glides);
  RUN(test_bounded_when_pushed);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
