/* Tests of the `sh` module: exact edge sampling, holding, and the glide. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_sh;

#define RATE 48000.0f
#define LEN  48000u

static float in_sig[LEN];
static float trig_sig[LEN];
static float out_sig[LEN];

static KindHarness*
make(const float glide)
{
  return harness_with(&ch_kind_sh, RATE, "glide", glide, NULL);
}

/* What harness_run() feeds the module and keeps of it. */
static const HarnessWire ins[]  = { { "in", in_sig },
                                    { "trig", trig_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "out", out_sig }, { NULL, NULL } };

/* in = the sample index, so the output names the sample it came from */
static void
ramp_input(void)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)i;
  }
  memset(trig_sig, 0, sizeof(trig_sig));
}

static void
test_samples_on_the_edge_sample(void)
{
  ramp_input();
  trig_sig[100] = 1.0f; /* one-sample trigger */
  for (size_t i = 357; i < 2000; ++i) {
    trig_sig[i] = 0.8f; /* long gate: one edge only */
  }
  trig_sig[2500] = 0.5f; /* not above 0.5: no edge */
  trig_sig[3000] = 0.51f;
  KindHarness* h = make(0.0f);
  harness_run(h, ins, outs, 0, 4000, 64);
  int ok = 1;
  for (size_t i = 0; i < 4000; ++i) {
    const float expect = i < 100    ? 0.0f
                         : i < 357  ? 100.0f
                         : i < 3000 ? 357.0f
                                    : 3000.0f;
    if (out_sig[i] != expect) {
      fprintf(stderr, "  sample %zu: %g, expected %g\n", i, (double)out_sig[i],
              (double)expect);
      ok = 0;
      break;
    }
  }
  CHECK(ok);
  harness_free(h);
}

static void
test_holds_any_value_exactly(void)
{
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i]   = (float)sin((double)i * 0.37) * 1e3f + 1e-3f * (float)i;
    trig_sig[i] = (i % 300) < 150 ? 1.0f : 0.0f;
  }
  KindHarness* h = make(0.0f);
  harness_run(h, ins, outs, 0, LEN, 256);
  int ok = 1;
  for (size_t i = 0; i < LEN; ++i) {
    ok &= out_sig[i] == in_sig[i - i % 300];
  }
  CHECK(ok);
  harness_free(h);
}

static void
test_glide_time_constant(void)
{
  memset(trig_sig, 0, sizeof(trig_sig));
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = 2.0f;
  }
  trig_sig[0]    = 1.0f;
  KindHarness* h = make(0.01f); /* 480 samples */
  harness_run(h, ins, outs, 0, LEN, 256);
  fprintf(stderr, "  glide 10 ms to 2: %.4f after 480 samples, %.4f at 1440\n",
          (double)out_sig[479], (double)out_sig[1439]);
  CHECK_NEAR(out_sig[479], 2.0 * (1.0 - exp(-1.0)), 1e-3);
  CHECK_NEAR(out_sig[1439], 2.0 * (1.0 - exp(-3.0)), 1e-3);
  CHECK(out_sig[0] > 0.0f && out_sig[0] < 0.01f); /* moves on the edge */
  CHECK(out_sig[LEN - 1] == 2.0f);                /* and lands exactly */
  /* monotonic approach, no overshoot */
  int mono = 1;
  for (size_t i = 1; i < LEN; ++i) {
    mono &= out_sig[i] >= out_sig[i - 1] && out_sig[i] <= 2.0f;
  }
  CHECK(mono);
  harness_free(h);
}

static void
test_bad_input_keeps_the_old_value(void)
{
  ramp_input();
  trig_sig[10]   = 1.0f;
  trig_sig[20]   = 1.0f;
  trig_sig[30]   = 1.0f;
  in_sig[20]     = NAN;
  in_sig[30]     = INFINITY;
  KindHarness* h = make(0.5f);
  harness_run(h, ins, outs, 0, 1000, 256);
  CHECK(dsp_finite(out_sig, 1000));
  harness_free(h);
  h = make(0.0f);
  harness_run(h, ins, outs, 0, 1000, 256);
  CHECK(out_sig[999] == 10.0f);
  harness_free(h);
}

/* A slow sine sampled at three-sample blips, gliding. */
static void
sample_blips(const int variant, const uint32_t block)
{
  (void)variant;
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i]   = (float)sin((double)i * 0.011);
    trig_sig[i] = (i % 1234) < 3 ? 1.0f : 0.0f;
  }
  KindHarness* h = make(0.003f);
  harness_run(h, ins, outs, 0, LEN, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  CHECK(harness_same_for_any_block(sample_blips, 0, outs, LEN));
}

int
main(void)
{
  RUN(test_samples_on_the_edge_sample);
  RUN(test_holds_any_value_exactly);
  RUN(test_glide_time_constant);
  RUN(test_bad_input_keeps_the_old_value);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
