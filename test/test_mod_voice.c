/* Tests of the `voice` module: host note inputs as signals. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_voice;

#define RATE 48000.0f

static float out[CH_MAX_BLOCK];

static int
all_equal(const float* x, const uint32_t n, const float v)
{
  for (uint32_t i = 0; i < n; ++i) {
    if (x[i] != v) {
      return 0;
    }
  }
  return 1;
}

/* Whether `n` frames of output `port`, rendered in one block, all equal v. */
static int
renders(KindHarness* h, const char* port, const uint32_t n, const float v)
{
  harness_render(h, port, out, n, n, NULL);
  return all_equal(out, n, v);
}

/* Number of samples of the `trig` output above 0.5 over one block. */
static int
trig_count(KindHarness* h, const uint32_t n)
{
  harness_render(h, "trig", out, n, n, NULL);
  int count = 0;
  for (uint32_t i = 0; i < n; ++i) {
    count += out[i] > 0.5f;
  }
  if (count == 1) {
    CHECK(out[0] == 1.0f); /* on the first sample */
  }
  return count;
}

static void
test_outputs_follow_host(void)
{
  KindHarness* h              = harness_new(&ch_kind_voice, RATE);
  h->host.voice[0].pitch      = 0.75f;
  h->host.voice[0].gate       = 1.0f;
  h->host.voice[0].velocity   = 0.5f;
  h->host.mod                 = 0.25f;
  h->host.voice[0].aftertouch = 0.125f;
  static const struct {
    const char* port;
    float       value;
  } expect[] = { { "pitch", 0.75f },
                 { "gate", 1.0f },
                 { "velocity", 0.5f },
                 { "mod", 0.25f },
                 { "aftertouch", 0.125f } };
  for (size_t i = 0; i < CH_COUNT(expect); ++i) {
    CHECK_MSG(renders(h, expect[i].port, 100, expect[i].value), "%s",
              expect[i].port);
  }
  h->host.voice[0].pitch = -2.0f;
  h->host.voice[0].gate  = 0.0f;
  CHECK(renders(h, "pitch", 37, -2.0f));
  CHECK(renders(h, "gate", 37, 0.0f));
  harness_free(h);
}

static void
test_gate_param_ors_with_host(void)
{
  KindHarness* h = harness_new(&ch_kind_voice, RATE);
  harness_set(h, "gate", 1.0f);
  CHECK(renders(h, "gate", 64, 1.0f));
  h->host.voice[0].gate = 1.0f;
  CHECK(renders(h, "gate", 64, 1.0f));
  harness_set(h, "gate", 0.0f);
  CHECK(renders(h, "gate", 64, 1.0f));
  h->host.voice[0].gate = 0.0f;
  CHECK(renders(h, "gate", 64, 0.0f));
  harness_free(h);
}

static void
test_trig_once_per_note(void)
{
  KindHarness* h = harness_new(&ch_kind_voice, RATE);
  CHECK(trig_count(h, 64) == 0);
  h->host.voice[0].gate    = 1.0f;
  h->host.voice[0].trigger = 1u;
  CHECK(trig_count(h, 64) == 1);
  CHECK(trig_count(h, 64) == 0); /* once, not every block */
  CHECK(trig_count(h, 1) == 0);
  h->host.voice[0].trigger = 3u; /* skipped a count: still one pulse */
  CHECK(trig_count(h, 1) == 1);
  CHECK(trig_count(h, 1) == 0);
  h->host.voice[0].trigger = 0xFFFFFFFFu;
  CHECK(trig_count(h, 256) == 1);
  h->host.voice[0].trigger = 0u; /* wraps */
  CHECK(trig_count(h, 256) == 1);
  harness_free(h);
}

static void
test_no_trig_without_note(void)
{
  /* a counter that moved while no note holds is one this module missed
     (e.g. it was swapped in after priming): no phantom note */
  KindHarness* h           = harness_new(&ch_kind_voice, RATE);
  h->host.voice[0].trigger = 57u;
  CHECK(trig_count(h, 64) == 0);
  h->host.voice[0].gate = 1.0f;
  CHECK(trig_count(h, 64) == 0); /* already seen */
  h->host.voice[0].trigger = 58u;
  CHECK(trig_count(h, 64) == 1);
  harness_free(h);
}

static void
test_transpose(void)
{
  KindHarness* h         = harness_new(&ch_kind_voice, RATE);
  h->host.voice[0].pitch = 0.5f;
  harness_set(h, "transpose", -1.0f);
  CHECK(renders(h, "pitch", 64, -0.5f));
  harness_set(h, "transpose", 4.0f);
  CHECK(renders(h, "pitch", 64, 4.5f));
  harness_free(h);
}

static void
test_reads_its_own_voice(void)
{
  KindHarness* h = harness_new(&ch_kind_voice, 48000.0f);
  float        pitch[64];
  h->node.voice          = 3;
  h->host.voice[0].pitch = 0.5f;
  h->host.voice[3].pitch = -1.25f;
  h->host.voice[3].gate  = 1.0f;
  harness_render(h, "pitch", pitch, 64, 64, NULL);
  CHECK(pitch[0] == -1.25f && pitch[63] == -1.25f);
  harness_free(h);
}

static void
test_cut_drops_gate_one_sample(void)
{
  KindHarness* h = harness_new(&ch_kind_voice, RATE);
  harness_set(h, "legato", 1.0f);
  h->host.voice[0].gate    = 1.0f;
  h->host.voice[0].trigger = 1u;
  CHECK(renders(h, "gate", 64, 1.0f)); /* a note from silence: no gap */
  /* note-off and note-on at one frame: release and trigger both moved */
  h->host.voice[0].release = 1u;
  h->host.voice[0].trigger = 2u;
  harness_render(h, "gate", out, 64, 64, NULL);
  CHECK(out[0] == 0.0f && all_equal(out + 1, 63, 1.0f));
  /* a legato overlap (trigger only) keeps the gate high */
  h->host.voice[0].trigger = 3u;
  CHECK(renders(h, "gate", 64, 1.0f));
  /* without legato every new note cuts */
  harness_set(h, "legato", 0.0f);
  h->host.voice[0].trigger = 4u;
  harness_render(h, "gate", out, 64, 64, NULL);
  CHECK(out[0] == 0.0f && out[1] == 1.0f);
  harness_free(h);
}

static void
test_spread_alternates(void)
{
  KindHarness*       h         = harness_new(&ch_kind_voice, RATE);
  static const float expect[4] = { -1.0f, 1.0f, -1.0f / 3.0f, 1.0f / 3.0f };
  h->ctx.voices                = 4u;
  for (uint32_t v = 0; v < 4u; ++v) {
    h->node.voice = v;
    harness_render(h, "spread", out, 16, 16, NULL);
    CHECK_NEAR(out[0], expect[v], 1e-6);
    harness_render(h, "index", out, 16, 16, NULL);
    CHECK(out[15] == (float)v);
  }
  h->ctx.voices = 1u;
  h->node.voice = 0u;
  CHECK(renders(h, "spread", 16, 0.0f)); /* mono sits in the middle */
  harness_free(h);
}

int
main(void)
{
  RUN(test_cut_drops_gate_one_sample);
  RUN(test_spread_alternates);
  RUN(test_reads_its_own_voice);
  RUN(test_outputs_follow_host);
  RUN(test_gate_param_ors_with_host);
  RUN(test_trig_once_per_note);
  RUN(test_no_trig_without_note);
  RUN(test_transpose);
  return CHECK_EXIT();
}
