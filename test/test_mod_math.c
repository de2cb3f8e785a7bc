/* Tests of the `math` module: each operation, scale, offset, smoothing. */
#include "check.h"
#include "dsp.h"

#include <stdlib.h>

extern const ChKind ch_kind_math;

#define RATE 48000.0f
#define LEN  8192u

enum { OP_ADD, OP_SUBTRACT, OP_MULTIPLY, OP_MIN, OP_MAX, OP_ABS };

static float a_sig[LEN];
static float b_sig[LEN];
static float out[LEN];

static KindHarness*
make(const float op, const float scale, const float offset)
{
  return harness_with(&ch_kind_math, RATE, "op", op, "scale", scale, "offset",
                      offset, NULL);
}

static void
fill_random(const unsigned seed)
{
  srand(seed);
  for (size_t i = 0; i < LEN; ++i) {
    a_sig[i] = (float)(rand() % 20001 - 10000) / 1000.0f;
    b_sig[i] = (float)(rand() % 20001 - 10000) / 1000.0f;
  }
}

/* What harness_run() feeds the module and keeps of it. */
static const HarnessWire ins[]  = { { "a", a_sig },
                                    { "b", b_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "out", out }, { NULL, NULL } };

static float
expect_op(const int op, const float a, const float b)
{
  switch (op) {
  case OP_ADD:
    return a + b;
  case OP_SUBTRACT:
    return a - b;
  case OP_MULTIPLY:
    return a * b;
  case OP_MIN:
    return a < b ? a : b;
  case OP_MAX:
    return a > b ? a : b;
  default:
    return a < 0.0f ? -a : a;
  }
}

/* Worst error of one op with given scale and offset over random inputs. */
static double
op_error(const int op, const float scale, const float offset)
{
  KindHarness* h = make((float)op, scale, offset);
  fill_random(7u + (unsigned)op);
  harness_run(h, ins, outs, 0, LEN, 64);
  double err = 0.0;
  for (size_t i = 0; i < LEN; ++i) {
    const float want = expect_op(op, a_sig[i], b_sig[i]) * scale + offset;
    err              = fmax(err, fabs((double)out[i] - want));
  }
  harness_free(h);
  return err;
}

static void
test_each_op(void)
{
  for (int op = OP_ADD; op <= OP_ABS; ++op) {
    const double err = op_error(op, 1.0f, 0.0f);
    CHECK_MSG(err == 0.0, "op %d off by %g", op, err);
  }
  /* spot values, independent of expect_op */
  static const float want[] = { 1.0f, -5.0f, -6.0f, -2.0f, 3.0f, 2.0f };
  for (int op = OP_ADD; op <= OP_ABS; ++op) {
    KindHarness* h = make((float)op, 1.0f, 0.0f);
    harness_const_input(h, "a", -2.0f);
    harness_const_input(h, "b", 3.0f);
    harness_render(h, "out", out, 8, 8, NULL);
    CHECK_MSG(out[7] == want[op], "op %d gives %g", op, (double)out[7]);
    harness_free(h);
  }
}

static void
test_scale_and_offset(void)
{
  for (int op = OP_ADD; op <= OP_ABS; ++op) {
    const double err = op_error(op, -2.5f, 0.75f);
    /* one rounding of the product plus one of the sum, at |x| <= 250 */
    CHECK_MSG(err < 1e-4, "op %d with scale/offset off by %g", op, err);
  }
  KindHarness* h = make(OP_MULTIPLY, 10.0f, -10.0f);
  harness_const_input(h, "a", 0.5f);
  harness_const_input(h, "b", 0.25f);
  harness_render(h, "out", out, 16, 16, NULL);
  CHECK_NEAR(out[15], 0.125 * 10.0 - 10.0, 1e-6);
  harness_free(h);
}

static void
test_ring_modulation_sidebands(void)
{
  /* 1 kHz times 300 Hz: energy at 700 and 1300 Hz, none at the inputs */
  static float a[LEN * 4];
  static float y[LEN * 4];
  KindHarness* h = make(OP_MULTIPLY, 1.0f, 0.0f);
  dsp_sine(a, LEN * 4, 1.0, 1000.0, RATE);
  float* const ia = harness_input(h, "a");
  float* const ib = harness_input(h, "b");
  for (size_t done = 0; done < LEN * 4; done += 256) {
    for (size_t i = 0; i < 256; ++i) {
      ia[i] = a[done + i];
      ib[i] = (float)sin(2.0 * M_PI * 300.0 * (double)(done + i) / RATE);
    }
    ch_kind_math.process(&h->node, 256);
    memcpy(y + done, h->out_buf[0], 256 * sizeof(float));
  }
  const double lo   = dsp_tone_level(y, LEN * 4, 700.0, RATE);
  const double hi   = dsp_tone_level(y, LEN * 4, 1300.0, RATE);
  const double carr = dsp_tone_level(y, LEN * 4, 1000.0, RATE);
  fprintf(stderr, "  ring: %.3f @700, %.3f @1300, %.5f @1000\n", lo, hi, carr);
  CHECK_NEAR(lo, 0.5, 0.01);
  CHECK_NEAR(hi, 0.5, 0.01);
  CHECK(carr < 0.005);
  harness_free(h);
}

static void
test_op_param_rounds_and_clamps(void)
{
  static const float values[] = { 0.4f, 1.4f, 1.6f, 7.0f, -3.0f };
  static const float want[]   = { 1.0f, -5.0f, -6.0f, 2.0f, 1.0f };
  for (size_t k = 0; k < CH_COUNT(values); ++k) {
    KindHarness* h = make(values[k], 1.0f, 0.0f);
    harness_const_input(h, "a", -2.0f);
    harness_const_input(h, "b", 3.0f);
    harness_render(h, "out", out, 4, 4, NULL);
    CHECK_MSG(out[3] == want[k], "op %g gives %g", (double)values[k],
              (double)out[3]);
    harness_free(h);
  }
  /* the enum table matches the ops */
  const int p = ch_kind_find_param(&ch_kind_math, "op");
  CHECK(p >= 0);
  const ChParamInfo* info = &ch_kind_math.params[p];
  int                n    = 0;
  while (info->choices && info->choices[n]) {
    ++n;
  }
  CHECK(n == 6);
  CHECK(info->min == 0.0f && info->max == (float)(n - 1));
  CHECK(!strcmp(info->choices[OP_ABS], "abs"));
}

static void
test_scale_step_is_smoothed(void)
{
  KindHarness* h = make(OP_ADD, 1.0f, 0.0f);
  harness_const_input(h, "a", 1.0f);
  harness_render(h, "out", out, 256, 256, NULL);
  CHECK(out[255] == 1.0f);
  harness_set_each(h, "scale", 3.0f, "offset", 1.0f, NULL);
  harness_render(h, "out", out, 4800, 64, NULL);
  double max_step = 0.0;
  for (size_t i = 1; i < 4800; ++i) {
    max_step = fmax(max_step, fabs((double)out[i] - out[i - 1]));
  }
  fprintf(stderr, "  step 1 -> 4: first %.4f, after 5 ms %.3f, end %.6f\n",
          (double)out[0], (double)out[240], (double)out[4799]);
  CHECK(out[0] > 1.0f && out[0] < 1.1f); /* no jump */
  CHECK_NEAR(out[240], 4.0 - 3.0 * exp(-1.0), 0.02);
  CHECK(out[4799] == 4.0f); /* landed exactly after 100 ms */
  CHECK(max_step < 0.02);
  harness_free(h);
}

/* Noise multiplied, with scale and offset turned half way. */
static void
multiply_turned(const int variant, const uint32_t block)
{
  (void)variant;
  KindHarness* h = make(OP_MULTIPLY, 2.0f, -1.0f);
  fill_random(99);
  harness_run(h, ins, outs, 0, LEN / 2, block);
  harness_set_each(h, "scale", -0.5f, "offset", 0.0f, NULL);
  harness_run(h, ins, outs, 0, LEN / 2, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  CHECK(harness_same_for_any_block(multiply_turned, 0, outs, LEN / 2));
}

int
main(void)
{
  RUN(test_each_op);
  RUN(test_scale_and_offset);
  RUN(test_ring_modulation_sidebands);
  RUN(test_op_param_rounds_and_clamps);
  RUN(test_scale_step_is_smoothed);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
