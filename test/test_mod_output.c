/* Tests of the `output` module: routing, summing into the mix, level. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_output;

#define RATE 48000.0f
#define N    4800u

static float left[N];
static float right[N];

/* Like harness_render, but keeps what is already in ctx.out: the graph
   clears the stereo output once per block, then every output module adds. */
static void
render_onto(KindHarness*   h,
            const float    existing,
            const size_t   total,
            const uint32_t block)
{
  for (size_t done = 0; done < total;) {
    const uint32_t n = (uint32_t)(total - done < block ? total - done : block);
    for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
      h->left[i]  = existing;
      h->right[i] = -existing;
    }
    ch_kind_output.process(&h->node, n);
    memcpy(left + done, h->left, n * sizeof(float));
    memcpy(right + done, h->right, n * sizeof(float));
    done += n;
  }
}

/* An output without its DC blocker, so that sums of constants are exact
   (its init reads only the level). */
static KindHarness*
make_exact(void)
{
  return harness_with(&ch_kind_output, RATE, "lowcut", 0.0, NULL);
}

static void
test_stereo_routing(void)
{
  CHECK(ch_kind_output.n_outputs == 0);
  KindHarness* h = make_exact();
  harness_const_input(h, "left", 0.25f);
  harness_render(h, NULL, left, N, 64, right);
  CHECK(left[0] == 0.25f && left[N - 1] == 0.25f);
  CHECK(dsp_peak(right, N) == 0.0);

  harness_const_input(h, "left", 0.0f);
  harness_const_input(h, "right", -0.5f);
  harness_render(h, NULL, left, N, 64, right);
  CHECK(dsp_peak(left, N) == 0.0);
  CHECK(right[0] == -0.5f && right[N - 1] == -0.5f);
  harness_free(h);
}

static void
test_mono_to_both(void)
{
  KindHarness* h = make_exact();
  harness_const_input(h, "mono", 0.5f);
  harness_const_input(h, "left", 0.125f);
  harness_render(h, NULL, left, N, 17, right);
  CHECK(left[0] == 0.625f && left[N - 1] == 0.625f);
  CHECK(right[0] == 0.5f && right[N - 1] == 0.5f);
  harness_free(h);
}

static void
test_sums_into_existing_output(void)
{
  KindHarness* h = make_exact();
  harness_const_input(h, "left", 0.25f);
  harness_const_input(h, "right", 0.125f);
  render_onto(h, 0.5f, N, 64);
  CHECK(left[0] == 0.75f && left[N - 1] == 0.75f);
  CHECK(right[0] == -0.375f && right[N - 1] == -0.375f);

  /* two output modules on one mix add up */
  KindHarness* g = make_exact();
  harness_const_input(g, "mono", 0.25f);
  for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
    h->left[i] = h->right[i] = 0.0f;
  }
  g->ctx.out[0] = h->left;
  g->ctx.out[1] = h->right;
  ch_kind_output.process(&h->node, CH_MAX_BLOCK);
  ch_kind_output.process(&g->node, CH_MAX_BLOCK);
  CHECK(h->left[0] == 0.5f && h->right[CH_MAX_BLOCK - 1] == 0.375f);
  harness_free(g);
  harness_free(h);
}

static void
test_level(void)
{
  /* a level set before init applies from the first sample */
  KindHarness* h = make_exact();
  harness_set(h, "level", 0.5f);
  ch_kind_output.init(&h->node);
  harness_const_input(h, "mono", 1.0f);
  harness_render(h, NULL, left, N, 64, right);
  CHECK(left[0] == 0.5f && right[0] == 0.5f && left[N - 1] == 0.5f);

  /* a change glides: a 5 ms one-pole, no step over 1/240 of the jump */
  harness_set(h, "level", 2.0f);
  harness_render(h, NULL, left, N, 64, right);
  double step = fabs((double)left[0] - 0.5);
  for (size_t i = 1; i < N; ++i) {
    step = fmax(step, fabs((double)left[i] - left[i - 1]));
  }
  CHECK_MSG(step <= 1.5 / 240.0, "max step %g", step);
  CHECK_NEAR(left[239], 2.0 - 1.5 * exp(-1.0), 0.01);
  CHECK(left[N - 1] == 2.0f && right[N - 1] == 2.0f);

  harness_set(h, "level", 0.0f);
  harness_render(h, NULL, left, N, 256, right);
  CHECK(left[0] > 1.9f);
  CHECK(left[N - 1] == 0.0f && right[N - 1] == 0.0f);
  harness_free(h);
}

/* The default lowcut blocks DC: a constant offset dies away (32 ms time
   constant), a tone passes, and 5 Hz is 3 dB down. */
static void
test_blocks_dc(void)
{
  KindHarness* h = harness_new(&ch_kind_output, RATE);
  CHECK(h->params[1] == 5.0f); /* the documented default corner */
  harness_const_input(h, "mono", 0.5f);
  harness_render(h, NULL, left, N, 64, right);
  CHECK(left[0] > 0.49f);                   /* a step passes at first */
  CHECK(fabsf(left[N - 1]) < 0.5f * 0.05f); /* 100 ms on: 4.4 % of it */
  harness_free(h);

  static float        tone[N];
  static const double freqs[] = { 5.0, 100.0 };
  static const double gains[] = { 0.7071, 0.9988 };
  for (size_t f = 0; f < 2; ++f) {
    h                 = harness_new(&ch_kind_output, RATE);
    float* const in   = harness_input(h, "left");
    double       peak = 0.0;
    for (uint32_t block = 0; block < 40; ++block) { /* 2 s */
      for (uint32_t i = 0; i < 2400u; i += 240u) {
        for (uint32_t j = 0; j < 240u; ++j) {
          const double t = (double)(block * 2400u + i + j) / RATE;
          in[j]          = (float)sin(2.0 * M_PI * freqs[f] * t);
        }
        memset(h->left, 0, sizeof(float) * 240u);
        ch_kind_output.process(&h->node, 240u);
        memcpy(tone + i, h->left, 240u * sizeof(float));
      }
      if (block >= 30) {
        peak = fmax(peak, dsp_peak(tone, 2400u));
      }
    }
    CHECK_NEAR(peak, gains[f], 0.01);
    harness_free(h);
  }
}

/* One frame at a time takes its own path through the DC blockers (both
   channels as one pair of doubles): the same bits as longer blocks, also
   as the level glides, the corner moves and the tails fall under the
   blockers' snap to 0 (ch_dc_step). */
enum { TAIL = 16384 };

static void
render_decaying(const uint32_t block, float* const out_l, float* const out_r)
{
  KindHarness* const h = harness_new(&ch_kind_output, RATE);
  float* const in[3]   = { harness_input(h, "left"), harness_input(h, "right"),
                           harness_input(h, "mono") };
  for (uint32_t done = 0; done < TAIL;) {
    const uint32_t n = TAIL - done < block ? TAIL - done : block;
    for (uint32_t i = 0; i < n; ++i) {
      const double t   = (double)(done + i);
      const double env = exp(-t / 150.0);
      for (uint32_t c = 0; c < 3u; ++c) {
        in[c][i] = (float)(env * (0.3 + sin(0.01 * t * (c + 1u))));
      }
    }
    /* at frames where every block length starts a block */
    h->params[0] = done < 1280u ? 1.0f : 0.5f;  /* the level glides */
    h->params[1] = done < 2560u ? 5.0f : 20.0f; /* the corner moves */
    memset(h->left, 0, n * sizeof(float));
    memset(h->right, 0, n * sizeof(float));
    ch_kind_output.process(&h->node, n);
    memcpy(out_l + done, h->left, n * sizeof(float));
    memcpy(out_r + done, h->right, n * sizeof(float));
    done += n;
  }
  harness_free(h);
}

static void
test_one_sample_as_any_block(void)
{
  static float l1[TAIL];
  static float r1[TAIL];
  static float l64[TAIL];
  static float r64[TAIL];
  render_decaying(1u, l1, r1);
  render_decaying(64u, l64, r64);
  CHECK(dsp_peak(l64, TAIL) > 0.1);
  CHECK(l64[TAIL - 1u] == 0.0f); /* the tails are under the snap */
  CHECK(!memcmp(l1, l64, sizeof(l1)));
  CHECK(!memcmp(r1, r64, sizeof(r1)));
}

int
main(void)
{
  RUN(test_blocks_dc);
  RUN(test_stereo_routing);
  RUN(test_mono_to_both);
  RUN(test_sums_into_existing_output);
  RUN(test_level);
  RUN(test_one_sample_as_any_block);
  return CHECK_EXIT();
}
