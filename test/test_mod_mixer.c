/* Tests of the `mixer` module kind: gains, level, smoothing, no fade-in. */
#include "check.h"
#include "dsp.h"

#include <stdint.h>

extern const ChKind ch_kind_mixer;

#define RATE 48000.0f

static float buf[48000];

static const char* const gain_names[]  = { "gain1", "gain2", "gain3", "gain4" };
static const char* const input_names[] = { "in1", "in2", "in3", "in4" };

/* A mixer created with these params, as the engine does: params first,
   then init. */
static KindHarness*
make(const float g1,
     const float g2,
     const float g3,
     const float g4,
     const float level)
{
  return harness_with(&ch_kind_mixer, RATE, "gain1", g1, "gain2", g2, "gain3",
                      g3, "gain4", g4, "level", level, NULL);
}

/* Distinct signals on each input, varying per frame. */
static void
fill_inputs(KindHarness* h)
{
  for (int c = 0; c < 4; ++c) {
    float* in = harness_input(h, input_names[c]);
    for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
      in[i] = (float)sin(0.05 * (c + 1) * i + c) * (0.2f + 0.1f * (float)c);
    }
  }
}

static void
test_sum_with_gains(void)
{
  static const float gains[][5] = {
    { 1.0f, 1.0f, 1.0f, 1.0f, 1.0f },  { 1.0f, 0.5f, 2.0f, 0.0f, 1.0f },
    { 0.25f, 0.0f, 1.5f, 2.0f, 0.5f }, { 2.0f, 2.0f, 2.0f, 2.0f, 2.0f },
    { 1.0f, 1.0f, 1.0f, 1.0f, 0.0f },
  };
  for (size_t g = 0; g < CH_COUNT(gains); ++g) {
    const float* p = gains[g];
    KindHarness* h = make(p[0], p[1], p[2], p[3], p[4]);
    fill_inputs(h);
    harness_render(h, "out", buf, CH_MAX_BLOCK, CH_MAX_BLOCK, NULL);
    double err = 0.0;
    for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
      double expect = 0.0;
      for (int c = 0; c < 4; ++c) {
        expect += (double)h->in_buf[c][i] * p[c] * p[4];
      }
      err = fmax(err, fabs(buf[i] - expect));
    }
    CHECK_MSG(err < 1e-6, "gains %zu: error %g", g, err);
    harness_free(h);
  }
}

static void
test_no_fade_in(void)
{
  /* a new mixer plays at its gains from the first frame */
  KindHarness* h = make(0.5f, 1.0f, 1.0f, 1.0f, 2.0f);
  harness_const_input(h, "in1", 0.5f);
  harness_render(h, "out", buf, 64, 64, NULL);
  CHECK(buf[0] == 0.5f);
  CHECK(buf[63] == 0.5f);
  harness_free(h);
}

static void
test_smoothing(void)
{
  KindHarness* h = make(1.0f, 1.0f, 1.0f, 1.0f, 1.0f);
  harness_const_input(h, "in1", 1.0f);
  harness_render(h, "out", buf, 480, 64, NULL);
  CHECK(buf[479] == 1.0f);

  harness_set(h, "gain1", 0.0f);
  harness_render(h, "out", buf, 9600, 64, NULL);
  /* no jump: the first frame moves by a 240th of the step */
  CHECK(buf[0] > 0.99f);
  /* time constant 5 ms: 1/e left after 240 frames */
  CHECK_NEAR(buf[239], exp(-1.0), 0.005);
  /* within 1 % after 25 ms, as documented */
  CHECK(buf[1199] < 0.01f);
  /* settled exactly within 100 ms */
  CHECK(buf[4799] == 0.0f);
  CHECK(dsp_peak(buf + 4800, 4800) == 0.0);

  /* the level smooths the same way, upwards too */
  harness_set(h, "gain1", 1.0f);
  harness_render(h, "out", buf, 4800, 64, NULL);
  harness_set(h, "level", 2.0f);
  harness_render(h, "out", buf, 4800, 64, NULL);
  CHECK(buf[0] < 1.01f);
  CHECK_NEAR(buf[239], 2.0 - exp(-1.0), 0.01);
  CHECK(buf[4799] == 2.0f);
  harness_free(h);
}

/* Four constant inputs, with every gain and the level turned at frame
   1020 whatever the block length. */
static void
mix_turned(const int variant, const uint32_t block)
{
  (void)variant;
  KindHarness* h = make(1.0f, 0.5f, 0.25f, 2.0f, 1.0f);
  for (int c = 0; c < 4; ++c) {
    harness_const_input(h, input_names[c], 0.1f * (float)(c + 1));
  }
  harness_render(h, "out", buf, 1000, block, NULL);
  for (int c = 0; c < 4; ++c) {
    harness_set(h, gain_names[c], 0.3f * (float)c);
  }
  harness_set(h, "level", 1.5f);
  harness_render(h, "out", buf + 1000, 20, block < 20 ? 1 : 20, NULL);
  harness_render(h, "out", buf + 1020, 8000, block, NULL);
  harness_free(h);
}

static void
test_block_size_invariance(void)
{
  static const HarnessWire out[] = { { "out", buf }, { NULL, NULL } };
  CHECK(harness_same_for_any_block(mix_turned, 0, out, 9020));
}

static void
test_descriptor(void)
{
  CHECK(ch_kind_mixer.n_inputs == 4);
  CHECK(ch_kind_mixer.n_outputs == 1);
  CHECK(ch_kind_mixer.n_params == 5);
  for (int c = 0; c < 4; ++c) {
    CHECK(ch_kind_find_input(&ch_kind_mixer, input_names[c]) == c);
    const int p = ch_kind_find_param(&ch_kind_mixer, gain_names[c]);
    CHECK(p >= 0 && ch_kind_mixer.params[p].def == 1.0f &&
          ch_kind_mixer.params[p].max == 2.0f);
  }
  CHECK(ch_kind_find_param(&ch_kind_mixer, "level") >= 0);
}

int
main(void)
{
  RUN(test_sum_with_gains);
  RUN(test_no_fade_in);
  RUN(test_smoothing);
  RUN(test_block_size_invariance);
  RUN(test_descriptor);
  return CHECK_EXIT();
}
