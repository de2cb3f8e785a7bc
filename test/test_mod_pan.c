/* Tests of the `pan` module: the equal-power law, cv, smoothing. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_pan;

#define RATE 48000.0f
#define LEN  9600u

static float in_sig[LEN];
static float cv_sig[LEN];
static float left_sig[LEN];
static float right_sig[LEN];

static KindHarness*
make(const float pan, const float level)
{
  return harness_with(&ch_kind_pan, RATE, "pan", pan, "level", level, NULL);
}

/* What harness_run() feeds the module and keeps of it. */
static const HarnessWire ins[]  = { { "in", in_sig },
                                    { "pan", cv_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "left", left_sig },
                                    { "right", right_sig },
                                    { NULL, NULL } };

static void
const_inputs(const float in, const float cv)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = in;
    cv_sig[i] = cv;
  }
}

typedef struct {
  double l, r;
} Gains;

/* Gains for a unit input once settled: the last sample. */
static Gains
gains(const float pan, const float cv)
{
  const_inputs(1.0f, cv);
  KindHarness* h = make(pan, 1.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  const Gains g = { left_sig[LEN - 1], right_sig[LEN - 1] };
  /* no smoothing needed at a constant pan: the first sample is settled */
  CHECK(left_sig[0] == left_sig[LEN - 1] && right_sig[0] == right_sig[LEN - 1]);
  harness_free(h);
  return g;
}

static void
test_equal_power_law(void)
{
  for (float pan = -1.0f; pan <= 1.0f; pan += 0.125f) {
    const double a = ((double)pan + 1.0) * M_PI / 4.0;
    const Gains  g = gains(pan, 0.0f);
    CHECK_NEAR(g.l, cos(a), 1e-7);
    CHECK_NEAR(g.r, sin(a), 1e-7);
    CHECK_NEAR(g.l * g.l + g.r * g.r, 1.0, 1e-6); /* constant power */
  }
  const Gains centre = gains(0.0f, 0.0f);
  fprintf(stderr, "  centre: %.4f dB left, %.4f dB right\n", dsp_db(centre.l),
          dsp_db(centre.r));
  CHECK_NEAR(dsp_db(centre.l), -3.0103, 1e-3);
  CHECK_NEAR(dsp_db(centre.r), -3.0103, 1e-3);
  const Gains hard_left = gains(-1.0f, 0.0f);
  CHECK(hard_left.l == 1.0 && fabs(hard_left.r) < 1e-7);
  const Gains hard_right = gains(1.0f, 0.0f);
  CHECK(hard_right.r == 1.0 && fabs(hard_right.l) < 1e-7);
}

static void
test_cv_adds_and_clamps(void)
{
  const Gains by_param = gains(0.5f, 0.0f);
  const Gains by_cv    = gains(0.0f, 0.5f);
  CHECK(by_param.l == by_cv.l && by_param.r == by_cv.r);
  CHECK_NEAR(gains(-0.25f, -0.5f).l, cos(0.25 * M_PI / 4.0), 1e-7);
  const Gains over = gains(0.5f, 3.0f); /* clamped: hard right */
  CHECK(over.r == 1.0 && fabs(over.l) < 1e-7);
  const Gains under = gains(-0.5f, -3.0f);
  CHECK(under.l == 1.0 && fabs(under.r) < 1e-7);
  const Gains nan_cv = gains(0.0f, NAN); /* a NaN cv adds nothing */
  CHECK_NEAR(nan_cv.l, sqrt(0.5), 1e-7);
  CHECK_NEAR(nan_cv.r, sqrt(0.5), 1e-7);
}

static void
test_level_and_pan_are_smoothed(void)
{
  const_inputs(1.0f, 0.0f);
  KindHarness* h = make(-1.0f, 2.0f);
  harness_run(h, ins, outs, 0, 100, 64);
  CHECK(left_sig[0] == 2.0f);
  harness_set_each(h, "level", 0.0f, "pan", 1.0f, NULL);
  harness_run(h, ins, outs, 0, LEN, 64);
  double jump    = 0.0;
  double pow_err = 0.0;
  for (size_t i = 1; i < LEN; ++i) {
    jump = fmax(jump, fabs((double)left_sig[i] - left_sig[i - 1]));
    jump = fmax(jump, fabs((double)right_sig[i] - right_sig[i - 1]));
  }
  /* while both glide, power follows the level: l^2 + r^2 = level^2 */
  const double level = 2.0 * exp(-240.0 / (0.005 * RATE));
  pow_err            = fabs(hypot(left_sig[239], right_sig[239]) - level);
  fprintf(stderr, "  level 2 -> 0: %.4f after 5 ms (expected %.4f)\n",
          hypot(left_sig[239], right_sig[239]), level);
  CHECK(jump < 0.02);
  CHECK(pow_err < 1e-4);
  CHECK(left_sig[LEN - 1] == 0.0f && right_sig[LEN - 1] == 0.0f);
  harness_free(h);
}

/* A tone under a slow pan cv, with pan and level turned half way (and
   so while the smoothers glide). */
static void
pan_turned(const int variant, const uint32_t block)
{
  (void)variant;
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)sin((double)i * 0.07);
    cv_sig[i] = (float)sin((double)i * 0.001) * 0.8f;
  }
  KindHarness* h = make(0.3f, 0.7f);
  harness_run(h, ins, outs, 0, LEN / 2, block);
  harness_set_each(h, "pan", -0.6f, "level", 1.4f, NULL);
  harness_run(h, ins, outs, LEN / 2, LEN / 2, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  CHECK(harness_same_for_any_block(pan_turned, 0, outs, LEN));
}

int
main(void)
{
  RUN(test_equal_power_law);
  RUN(test_cv_adds_and_clamps);
  RUN(test_level_and_pan_are_smoothed);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
