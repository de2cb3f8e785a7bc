/* Tests of the `feedback` module: a 256-sample delay that closes loops. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_feedback;

#define RATE 48000.0f
#define LEN  4096u
#define LAG  256u

static float in_sig[LEN];
static float out[LEN];

static KindHarness*
make(const float gain)
{
  return harness_with(&ch_kind_feedback, RATE, "gain", gain, NULL);
}

/*
   What the graph compiler does each sub-block: `process` first (its input
   is not computed yet), then the rest of the patch, then `capture`.  The
   rest of the patch here adds `loop` times the output back onto in_sig.
*/
static void
render(KindHarness* h, const size_t total, const uint32_t block, float loop)
{
  float* const in = harness_input(h, "in");
  for (size_t done = 0; done < total;) {
    const uint32_t n = (uint32_t)(total - done < block ? total - done : block);
    /* poison `in`: process must not read it */
    for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
      in[i] = NAN;
    }
    ch_kind_feedback.process(&h->node, n);
    memcpy(out + done, h->out_buf[0], n * sizeof(float));
    for (uint32_t i = 0; i < n; ++i) {
      in[i] = in_sig[done + i] + loop * out[done + i];
    }
    ch_kind_feedback.capture(&h->node, n);
    done += n;
  }
}

static void
test_descriptor(void)
{
  CHECK(ch_kind_feedback.capture != NULL);
  CHECK(!(ch_kind_feedback.flags & CH_KIND_GLOBAL));
  CHECK(ch_kind_feedback.n_inputs == 1 && ch_kind_feedback.n_outputs == 1);
}

static void
test_impulse_comes_out_256_later(void)
{
  static const uint32_t blocks[] = { 1, 17, 64, 100, 256 };
  for (size_t b = 0; b < CH_COUNT(blocks); ++b) {
    KindHarness* h = make(1.0f);
    memset(in_sig, 0, sizeof(in_sig));
    in_sig[10]  = 1.0f;
    in_sig[700] = -0.5f;
    render(h, LEN, blocks[b], 0.0f);
    int only_there = 1;
    for (size_t i = 0; i < LEN; ++i) {
      const float want = i == 10 + LAG ? 1.0f : i == 700 + LAG ? -0.5f : 0.0f;
      only_there &= out[i] == want;
    }
    CHECK_MSG(only_there, "block %u", blocks[b]);
    harness_free(h);
  }
}

/* A sine and a click around a loop, with the gain stepped half way. */
static void
loop_stepped(const int variant, const uint32_t block)
{
  (void)variant;
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)sin((double)i * 0.01) + (i == 300 ? 1.0f : 0.0f);
  }
  KindHarness* h = make(0.8f);
  render(h, LEN / 2, block, 0.3f);
  harness_set(h, "gain", -0.6f); /* a smoothed step, mid-run */
  render(h, LEN / 2, block, 0.3f);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  static const HarnessWire outs[] = { { "out", out }, { NULL, NULL } };
  CHECK(harness_same_for_any_block(loop_stepped, 0, outs, LEN / 2));
}

static void
test_gain_applies(void)
{
  KindHarness* h = make(-0.25f);
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = (float)i;
  }
  render(h, LEN, 64, 0.0f);
  int exact = 1;
  for (size_t i = 0; i < LEN; ++i) {
    exact &= out[i] == (i < LAG ? 0.0f : -0.25f * (float)(i - LAG));
  }
  CHECK(exact);
  harness_free(h);
}

static void
test_loop_decays_geometrically(void)
{
  /* out -> in with gain 0.5: an impulse returns every 256 samples, halved */
  KindHarness* h = make(0.5f);
  memset(in_sig, 0, sizeof(in_sig));
  in_sig[5] = 1.0f;
  render(h, LEN, 17, 1.0f);
  int   exact = 1;
  float want  = 1.0f;
  for (size_t i = 0; i < LEN; ++i) {
    if (i >= 5 + LAG && (i - 5) % LAG == 0) {
      want *= 0.5f;
      exact &= out[i] == want;
    } else {
      exact &= out[i] == 0.0f;
    }
  }
  CHECK(exact);
  CHECK(out[5 + 4 * LAG] == 0.0625f);
  harness_free(h);
}

static void
test_wild_input_stays_finite(void)
{
  /* a runaway loop (gain 1, loop gain 4) and NaN/inf inputs */
  KindHarness* h = make(1.0f);
  for (size_t i = 0; i < LEN; ++i) {
    in_sig[i] = i == 3 ? NAN : i == 4 ? INFINITY : i == 5 ? 1.0f : 0.0f;
  }
  render(h, LEN, 256, 4.0f);
  CHECK(dsp_finite(out, LEN));
  CHECK(out[3 + LAG] == 0.0f); /* NaN captured as silence */
  CHECK(dsp_peak(out, LEN) <= 1e6);
  harness_free(h);
}

int
main(void)
{
  RUN(test_descriptor);
  RUN(test_impulse_comes_out_256_later);
  RUN(test_same_output_for_any_block_size);
  RUN(test_gain_applies);
  RUN(test_loop_decays_geometrically);
  RUN(test_wild_input_stays_finite);
  return CHECK_EXIT();
}
