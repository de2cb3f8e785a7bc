/* Tests of the `slew` module: linear and exponential timings, pass-through. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_slew;

#define RATE 48000.0f
#define LEN  96000u

enum { LINEAR, EXPONENTIAL };

static float in_sig[LEN];
static float out_sig[LEN];

static KindHarness*
make(const float rise, const float fall, const int mode)
{
  return harness_with(&ch_kind_slew, RATE, "rise", rise, "fall", fall, "mode",
                      (double)mode, NULL);
}

/* What harness_run() feeds the module and keeps of it. */
static const HarnessWire ins[]  = { { "in", in_sig }, { NULL, NULL } };
static const HarnessWire outs[] = { { "out", out_sig }, { NULL, NULL } };

/* 0 -> 2 at sample 0, 2 -> -1 at sample 48000 */
static void
steps_input(void)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = i < 48000 ? 2.0f : -1.0f;
  }
}

/* First sample at or after `from` where the output equals `value`. */
static size_t
arrival(const size_t from, const float value)
{
  for (size_t i = from; i < LEN; ++i) {
    if (out_sig[i] == value) {
      return i;
    }
  }
  return LEN;
}

static void
test_linear_rise_and_fall_times(void)
{
  steps_input();
  KindHarness* h = make(0.1f, 0.05f, LINEAR);
  harness_run(h, ins, outs, 0, LEN, 256);
  /* up 2 units at 0.1 s each: 9600 steps, the first on sample 0 */
  const size_t up = arrival(0, 2.0f);
  /* down 3 units at 0.05 s each: 7200 steps */
  const size_t down = arrival(48000, -1.0f) - 48000;
  fprintf(stderr, "  linear: up 2 in %zu samples, down 3 in %zu\n", up + 1,
          down + 1);
  /* exact but for the float params: 0.05f is 0.05 + 7e-10 */
  CHECK(up + 1 == 9600);
  CHECK(down + 1 >= 7200 && down + 1 <= 7201);
  CHECK_NEAR(out_sig[0], 1.0 / 4800.0, 1e-9);
  CHECK_NEAR(out_sig[4799], 1.0, 1e-6); /* a straight line */
  CHECK_NEAR(out_sig[48000 + 2399], 2.0 - 1.0, 1e-6);
  harness_free(h);
}

static void
test_exponential_time_constants(void)
{
  steps_input();
  KindHarness* h = make(0.02f, 0.1f, EXPONENTIAL);
  harness_run(h, ins, outs, 0, LEN, 256);
  /* after tau: 63.2 % of the jump; after 3 tau: 95 % */
  fprintf(stderr,
          "  exponential: %.4f after 20 ms up, %.4f after 100 ms down\n",
          (double)out_sig[959], (double)out_sig[48000 + 4799]);
  CHECK_NEAR(out_sig[959], 2.0 * (1.0 - exp(-1.0)), 1e-4);
  CHECK_NEAR(out_sig[2879], 2.0 * (1.0 - exp(-3.0)), 1e-4);
  CHECK_NEAR(out_sig[48000 + 4799], 2.0 - 3.0 * (1.0 - exp(-1.0)), 1e-4);
  CHECK(out_sig[47999] == 2.0f); /* lands exactly */
  CHECK_NEAR(out_sig[LEN - 1], -1.0 + 3.0 * exp(-10.0), 1e-5);
  harness_free(h);
}

static void
test_zero_time_and_slow_input_pass_through(void)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)sin((double)i * 0.3) * 5.0f;
  }
  for (int mode = LINEAR; mode <= EXPONENTIAL; ++mode) {
    KindHarness* h = make(0.0f, 0.0f, mode);
    harness_run(h, ins, outs, 0, LEN, 256);
    CHECK(!memcmp(in_sig, out_sig, sizeof(out_sig)));
    harness_free(h);
  }
  /* a 1 Hz sine of amplitude 0.1 moves at most 0.63 units/s: under the
     2 units/s of rise 0.5, so the linear limiter leaves it untouched */
  dsp_sine(in_sig, LEN, 0.1, 1.0, RATE);
  KindHarness* h = make(0.5f, 0.5f, LINEAR);
  harness_run(h, ins, outs, 0, LEN, 256);
  CHECK(!memcmp(in_sig, out_sig, sizeof(out_sig)));
  harness_free(h);
  /* a faster one is turned into a triangle of slope 2 units/s */
  dsp_sine(in_sig, LEN, 10.0, 1.0, RATE);
  h = make(0.5f, 0.5f, LINEAR);
  harness_run(h, ins, outs, 0, LEN, 256);
  double max_slope = 0.0;
  for (size_t i = 1; i < LEN; ++i) {
    max_slope = fmax(max_slope, fabs((double)out_sig[i] - out_sig[i - 1]));
  }
  CHECK_NEAR(max_slope * RATE, 2.0, 5e-3); /* the float output's rounding */
  harness_free(h);
}

static void
test_wild_input_stays_finite(void)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
  }
  int finite = 1;
  for (int mode = LINEAR; mode <= EXPONENTIAL; ++mode) {
    KindHarness* h = make(0.01f, 0.0f, mode);
    harness_run(h, ins, outs, 0, 10000, 256);
    finite &= dsp_finite(out_sig, 10000);
    harness_free(h);
  }
  CHECK(finite);
}

/* Steps with a wobble on them, slewed in `mode`. */
static void
slew_steps(const int mode, const uint32_t block)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)((i / 777) % 5) - 2.0f + (float)sin((double)i * 0.01);
  }
  KindHarness* h = make(0.01f, 0.03f, mode);
  harness_run(h, ins, outs, 0, LEN, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  for (int mode = LINEAR; mode <= EXPONENTIAL; ++mode) {
    CHECK_MSG(harness_same_for_any_block(slew_steps, mode, outs, LEN),
              "mode %d", mode);
  }
}

int
main(void)
{
  RUN(test_linear_rise_and_fall_times);
  RUN(test_exponential_time_constants);
  RUN(test_zero_time_and_slow_input_pass_through);
  RUN(test_wild_input_stays_finite);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
