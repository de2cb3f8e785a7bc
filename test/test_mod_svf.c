/* Tests of the `svf` module: responses against the analog prototype. */
#include "check.h"
#include "dsp.h"

#include <stdlib.h>

extern const ChKind ch_kind_svf;

#define RATE    48000.0
#define LEN     48000u /* one second per measurement */
#define MEASURE 16384u /* the tail, after the filter settled */

static float in_sig[LEN];
static float cv_sig[LEN];
static float lp[LEN];
static float bp[LEN];
static float hp[LEN];

enum { LP, BP, HP };

static KindHarness*
make(const float cutoff, const float res, const float rate)
{
  return harness_with(&ch_kind_svf, rate, "cutoff", cutoff, "res", res, NULL);
}

/* harness_run() feeds in_sig/cv_sig and keeps lp, bp, hp. */
static const HarnessWire ins[]  = { { "in", in_sig },
                                    { "cutoff", cv_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "lp", lp },
                                    { "bp", bp },
                                    { "hp", hp },
                                    { NULL, NULL } };

/* Gain in dB of output `port` for a unit sine at `freq`. */
static double
gain_db(const float  cutoff,
        const float  res,
        const float  cv,
        const double freq,
        const int    port)
{
  KindHarness* h = make(cutoff, res, (float)RATE);
  dsp_sine(in_sig, LEN, 1.0, freq, RATE);
  for (size_t i = 0; i < LEN; ++i) {
    cv_sig[i] = cv;
  }
  harness_run(h, ins, outs, 0, LEN, 256);
  harness_free(h);
  const float* const o = port == LP ? lp : port == BP ? bp : hp;
  return dsp_db(dsp_tone_level(o + LEN - MEASURE, MEASURE, freq, RATE));
}

static double
q_of(const double res)
{
  return sqrt(0.5) * pow(25.0 / sqrt(0.5), res);
}

/* The analog prototype at frequency ratio w = f / fc. */
static double
analog_db(const double w, const double res, const int port)
{
  const double k   = 1.0 / q_of(res);
  const double den = sqrt((1.0 - w * w) * (1.0 - w * w) + k * k * w * w);
  const double num = port == LP ? 1.0 : port == BP ? k * w : w * w;
  return 20.0 * log10(num / den);
}

/* The trapezoidal filter is the prototype at the prewarped frequency. */
static double
expect_db(const double freq, const double fc, const double res, const int port)
{
  const double w = tan(M_PI * freq / RATE) / tan(M_PI * fc / RATE);
  return analog_db(w, res, port);
}

static void
test_lowpass_response(void)
{
  const double pass   = gain_db(1000.0f, 0.0f, 0.0f, 100.0, LP);
  const double corner = gain_db(1000.0f, 0.0f, 0.0f, 1000.0, LP);
  const double stop   = gain_db(1000.0f, 0.0f, 0.0f, 4000.0, LP);
  const double stop2  = gain_db(1000.0f, 0.0f, 0.0f, 8000.0, LP);
  fprintf(stderr,
          "  lp res 0: %.3f dB @100, %.3f dB @1k, %.2f dB @4k, %.2f dB @8k\n",
          pass, corner, stop, stop2);
  CHECK_NEAR(pass, 0.0, 0.05);
  CHECK_NEAR(corner, -3.0103, 0.05); /* Butterworth at res 0 */
  CHECK_NEAR(stop, expect_db(4000.0, 1000.0, 0.0, LP), 0.1);
  CHECK_NEAR(stop, analog_db(4.0, 0.0, LP), 1.0); /* -24.1 dB */
  CHECK_NEAR(stop2, expect_db(8000.0, 1000.0, 0.0, LP), 0.1);
  CHECK(stop2 - stop < -11.0); /* 12 dB/octave or steeper (prewarp) */
}

static void
test_highpass_mirrors(void)
{
  const double stop   = gain_db(1000.0f, 0.0f, 0.0f, 250.0, HP);
  const double corner = gain_db(1000.0f, 0.0f, 0.0f, 1000.0, HP);
  const double pass   = gain_db(1000.0f, 0.0f, 0.0f, 10000.0, HP);
  fprintf(stderr, "  hp res 0: %.2f dB @250, %.3f dB @1k, %.3f dB @10k\n", stop,
          corner, pass);
  CHECK_NEAR(stop, expect_db(250.0, 1000.0, 0.0, HP), 0.1);
  CHECK_NEAR(stop, analog_db(0.25, 0.0, HP), 0.5); /* -24.1 dB */
  CHECK_NEAR(corner, -3.0103, 0.05);
  CHECK_NEAR(pass, 0.0, 0.05);
}

static void
test_bandpass_peaks_at_cutoff(void)
{
  double best_f  = 0.0;
  double best_db = -1000.0;
  for (double f = 800.0; f <= 1250.0; f += 25.0) {
    const double db = gain_db(1000.0f, 0.5f, 0.0f, f, BP);
    if (db > best_db) {
      best_db = db;
      best_f  = f;
    }
  }
  fprintf(stderr, "  bp res 0.5: peak %.3f dB at %.0f Hz\n", best_db, best_f);
  CHECK_NEAR(best_f, 1000.0, 25.0);
  CHECK_NEAR(best_db, 0.0, 0.05); /* normalised band-pass */
  const double octave_up = gain_db(1000.0f, 0.5f, 0.0f, 2000.0, BP);
  CHECK_NEAR(octave_up, expect_db(2000.0, 1000.0, 0.5, BP), 0.1);
  CHECK(octave_up < -10.0);
}

static void
test_resonance_mapping(void)
{
  const double q1 = gain_db(1000.0f, 1.0f, 0.0f, 1000.0, LP);
  const double q5 = gain_db(1000.0f, 0.5f, 0.0f, 1000.0, LP);
  const double qd = gain_db(1000.0f, 0.1f, 0.0f, 1000.0, HP);
  fprintf(stderr,
          "  peak at fc: %.2f dB (res 1), %.2f dB (res 0.5), %.2f (res 0.1)\n",
          q1, q5, qd);
  CHECK_NEAR(q1, 20.0 * log10(25.0), 0.1);
  CHECK_NEAR(q5, 20.0 * log10(q_of(0.5)), 0.1);
  CHECK_NEAR(qd, 20.0 * log10(q_of(0.1)), 0.05);
}

static void
test_cutoff_cv_moves_corner(void)
{
  const double up    = gain_db(1000.0f, 0.0f, 1.0f, 2000.0, LP);
  const double down  = gain_db(1000.0f, 0.0f, -1.0f, 500.0, LP);
  const double fixed = gain_db(1000.0f, 0.0f, 0.0f, 2000.0, LP);
  fprintf(stderr, "  lp @2k: %.3f dB with cv +1, %.2f dB without\n", up, fixed);
  CHECK_NEAR(up, -3.0103, 0.05);
  CHECK_NEAR(down, -3.0103, 0.05);
  CHECK_NEAR(fixed, expect_db(2000.0, 1000.0, 0.0, LP), 0.1);
  CHECK(fixed < -11.0);
}

static void
test_outputs_sum_to_input(void)
{
  KindHarness* h = make(700.0f, 0.7f, (float)RATE);
  srand(3);
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
    cv_sig[i] = (float)sin((double)i * 0.001) * 3.0f;
  }
  harness_run(h, ins, outs, 0, LEN, 64);
  double err = 0.0;
  for (size_t i = 0; i < LEN; ++i) {
    err = fmax(err, fabs((double)lp[i] + bp[i] + hp[i] - in_sig[i]));
  }
  CHECK_MSG(err < 1e-4, "lp + bp + hp - in up to %g", err);
  harness_free(h);
}

static void
test_stable_when_pushed(void)
{
  static const float rates[] = { 22050.0f, 44100.0f, 192000.0f };
  DspBound           bound   = dsp_bound_start();
  for (size_t r = 0; r < CH_COUNT(rates); ++r) {
    /* near Nyquist, full resonance, loud, cutoff jumping every sample */
    KindHarness* h = make(20000.0f, 1.0f, rates[r]);
    dsp_pushing_signals(in_sig, cv_sig, LEN, 11);
    harness_run(h, ins, outs, 0, LEN, 256);
    dsp_bound_add(&bound, lp, LEN);
    dsp_bound_add(&bound, bp, LEN);
    dsp_bound_add(&bound, hp, LEN);
    /* and a NaN on the cutoff input lands on a finite cutoff */
    for (size_t i = 0; i < 1000; ++i) {
      cv_sig[i] = NAN;
    }
    harness_run(h, ins, outs, 0, 1000, 256);
    bound.finite &=
      dsp_finite(lp, 1000) & dsp_finite(bp, 1000) & dsp_finite(hp, 1000);
    harness_free(h);
  }
  fprintf(stderr, "  pushed: peak %.1f for a +-100 input\n", bound.peak);
  CHECK(bound.finite);
  CHECK(bound.peak < 100.0 * 25.0 * 4.0);
}

/* Sound, then silence, under a stepping cutoff: the decaying tail is
   where state flushing could depend on the block length. */
static void
ring_out(const int variant, const uint32_t block)
{
  (void)variant;
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = i < LEN / 4 ? (float)sin((double)i * 0.05) : 0.0f;
    cv_sig[i] = (float)((i / 100) % 5) - 2.0f;
  }
  KindHarness* h = make(500.0f, 0.8f, (float)RATE);
  harness_run(h, ins, outs, 0, LEN, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  CHECK(harness_same_for_any_block(ring_out, 0, outs, LEN));
}

int
main(void)
{
  RUN(test_lowpass_response);
  RUN(test_highpass_mirrors);
  RUN(test_bandpass_peaks_at_cutoff);
  RUN(test_resonance_mapping);
  RUN(test_cutoff_cv_moves_corner);
  RUN(test_outputs_sum_to_input);
  RUN(test_stable_when_pushed);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
