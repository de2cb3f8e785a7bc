/* Tests of the `macro` module: knob selection, scaling, smoothing. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_macro;

#define RATE 48000.0f
#define N    4800u

static float out[N];

static KindHarness*
make(void)
{
  KindHarness* h = harness_new(&ch_kind_macro, RATE);
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    h->host.macro[i] = 0.1f * (float)(i + 1u); /* knob i reads (i+1)/10 */
  }
  return h;
}

/* The value after one block (a fresh module starts at its value). */
static float
first_value(const float index, const float scale, const float offset)
{
  KindHarness* h = make();
  harness_set_each(h, "index", index, "scale", scale, "offset", offset, NULL);
  harness_render(h, "out", out, 64, 64, NULL);
  const float v = out[0];
  CHECK(out[63] == v);
  harness_free(h);
  return v;
}

static void
test_index_scale_offset(void)
{
  CHECK_NEAR(first_value(0.0f, 1.0f, 0.0f), 0.1, 1e-6);
  CHECK_NEAR(first_value(3.0f, 2.0f, -1.0f), 0.8 - 1.0, 1e-6);
  CHECK_NEAR(first_value(7.0f, -10.0f, 10.0f), 10.0 - 8.0, 1e-5);
  CHECK_NEAR(first_value(5.0f, 0.0f, 0.25f), 0.25, 1e-7);
}

static void
test_index_clamped(void)
{
  CHECK_NEAR(first_value(-3.0f, 1.0f, 0.0f), 0.1, 1e-6);
  CHECK_NEAR(first_value(42.0f, 1.0f, 0.0f), 0.8, 1e-6);
  CHECK_NEAR(first_value(1e30f, 1.0f, 0.0f), 0.8, 1e-6);
  CHECK_NEAR(first_value(-INFINITY, 1.0f, 0.0f), 0.1, 1e-6);
  CHECK_NEAR(first_value(NAN, 1.0f, 0.0f), 0.1, 1e-6);
  CHECK_NEAR(first_value(2.4f, 1.0f, 0.0f), 0.3, 1e-6); /* nearest */
  CHECK_NEAR(first_value(2.6f, 1.0f, 0.0f), 0.4, 1e-6);
  CHECK_NEAR(first_value(6.9f, 1.0f, 0.0f), 0.8, 1e-6);
}

static void
test_knob_moves_are_smoothed(void)
{
  KindHarness* h = make();
  harness_render(h, "out", out, 256, 256, NULL);
  CHECK_NEAR(out[255], 0.1, 1e-6);
  h->host.macro[0] = 0.9f; /* a jump of 0.8 from one host block to the next */
  harness_render(h, "out", out, N, 64, NULL);
  double step = fabs((double)out[0] - 0.1);
  for (size_t i = 1; i < N; ++i) {
    step = fmax(step, fabs((double)out[i] - out[i - 1]));
  }
  CHECK_MSG(step <= 0.8 / 240.0, "max step %g", step);
  CHECK_NEAR(out[239], 0.9 - 0.8 * exp(-1.0), 0.01);
  CHECK(out[N - 1] == 0.9f);
  harness_free(h);
}

int
main(void)
{
  RUN(test_index_scale_offset);
  RUN(test_index_clamped);
  RUN(test_knob_moves_are_smoothed);
  return CHECK_EXIT();
}
