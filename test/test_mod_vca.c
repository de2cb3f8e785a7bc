/* Tests of the `vca` module: gain, cv, and smoothing of the gain param. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_vca;

#define RATE 48000.0f
#define N    4800u

static float out[N];

static void
fill_sine(float* const buf, const float freq, const size_t offset)
{
  for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
    buf[i] = (float)sin(2.0 * M_PI * freq * (double)(offset + i) / RATE);
  }
}

/* A vca at its defaults (gain 0), `in` constant on its input. */
static KindHarness*
vca_on(const float in)
{
  KindHarness* h = harness_new(&ch_kind_vca, RATE);
  harness_const_input(h, "in", in);
  return h;
}

static void
test_gain_from_first_sample(void)
{
  ChParamInfo gain =
    ch_kind_vca.params[ch_kind_find_param(&ch_kind_vca, "gain")];
  CHECK(gain.def == 0.0f && gain.min == 0.0f && gain.max == 2.0f);

  /* a gain set before init applies at once: no fade-in */
  KindHarness* h = harness_new(&ch_kind_vca, RATE);
  harness_set(h, "gain", 0.5f);
  ch_kind_vca.init(&h->node);
  float* const in = harness_input(h, "in");
  fill_sine(in, 440.0f, 0);
  harness_render(h, "out", out, CH_MAX_BLOCK, CH_MAX_BLOCK, NULL);
  int exact = 1;
  for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
    exact &= out[i] == 0.5f * in[i];
  }
  CHECK(exact);
  harness_free(h);
}

static void
test_default_is_silent(void)
{
  KindHarness* h = vca_on(1.0f);
  harness_render(h, "out", out, N, 64, NULL);
  CHECK(dsp_peak(out, N) == 0.0);
  harness_free(h);
}

static void
test_cv_adds_per_sample(void)
{
  KindHarness* h  = harness_new(&ch_kind_vca, RATE);
  float* const in = harness_input(h, "in");
  float* const cv = harness_input(h, "cv");
  fill_sine(in, 1000.0f, 0);
  for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
    cv[i] = (float)i / CH_MAX_BLOCK; /* a ramp: must not be smoothed */
  }
  harness_render(h, "out", out, CH_MAX_BLOCK, CH_MAX_BLOCK, NULL);
  double err = 0.0;
  for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
    err = fmax(err, fabs((double)out[i] - (double)in[i] * cv[i]));
  }
  CHECK(err < 1e-7);

  /* cv adds to the gain param */
  KindHarness* g = harness_new(&ch_kind_vca, RATE);
  harness_set(g, "gain", 0.75f);
  ch_kind_vca.init(&g->node);
  harness_const_input(g, "in", 2.0f);
  harness_const_input(g, "cv", -0.25f);
  harness_render(g, "out", out, CH_MAX_BLOCK, CH_MAX_BLOCK, NULL);
  CHECK_NEAR(out[0], 1.0, 1e-7);
  CHECK_NEAR(out[CH_MAX_BLOCK - 1], 1.0, 1e-7);
  harness_free(g);
  harness_free(h);
}

static void
test_gain_change_is_smoothed(void)
{
  KindHarness* h = vca_on(1.0f);
  harness_render(h, "out", out, 64, 64, NULL);
  CHECK(out[63] == 0.0f);
  harness_set(h, "gain", 1.0f);
  harness_render(h, "out", out, N, 64, NULL);

  /* a 5 ms one-pole: no step above 1/240 of the jump, 63 % after 5 ms */
  double step = out[0];
  for (size_t i = 1; i < N; ++i) {
    step = fmax(step, fabs((double)out[i] - out[i - 1]));
  }
  CHECK_MSG(step <= 1.0 / 240.0, "max step %g", step);
  CHECK_NEAR(out[239], 1.0 - exp(-1.0), 0.01);
  CHECK(out[0] > 0.0f); /* starts moving at once */
  CHECK_NEAR(out[2399], 1.0, 1e-4);
  harness_render(h, "out", out, N, 64, NULL);
  CHECK(out[N - 1] == 1.0f); /* lands exactly */

  /* and back down */
  harness_set(h, "gain", 0.0f);
  harness_render(h, "out", out, N, 1, NULL);
  CHECK(out[0] > 0.99f);
  CHECK(out[N - 1] == 0.0f);
  harness_free(h);
}

static void
test_smoothing_independent_of_block_size(void)
{
  static float a[N];
  static float b[N];
  KindHarness* h1 = vca_on(0.5f);
  KindHarness* h2 = vca_on(0.5f);
  harness_set(h1, "gain", 2.0f);
  harness_set(h2, "gain", 2.0f);
  harness_render(h1, "out", a, N, 1, NULL);
  harness_render(h2, "out", b, N, 256, NULL);
  CHECK(!memcmp(a, b, sizeof(a)));
  harness_free(h1);
  harness_free(h2);
}

int
main(void)
{
  RUN(test_gain_from_first_sample);
  RUN(test_default_is_silent);
  RUN(test_cv_adds_per_sample);
  RUN(test_gain_change_is_smoothed);
  RUN(test_smoothing_independent_of_block_size);
  return CHECK_EXIT();
}
