/* Tests of the `const` module kind: the output is the value, every frame. */
#include "check.h"
#include "dsp.h"

extern const ChKind ch_kind_const;

static float buf[1024];

static void
test_default_is_zero(void)
{
  KindHarness* h = harness_new(&ch_kind_const, 48000.0f);
  harness_render(h, "out", buf, 1024, 256, NULL);
  CHECK(dsp_peak(buf, 1024) == 0.0);
  harness_free(h);
}

static void
test_value(void)
{
  static const float values[] = { -10.0f, -1.0f, 0.25f, 1.0f, 3.14159f, 10.0f };
  for (size_t v = 0; v < CH_COUNT(values); ++v) {
    KindHarness* h = harness_new(&ch_kind_const, 48000.0f);
    harness_set(h, "value", values[v]);
    harness_render(h, "out", buf, 1000, 17, NULL);
    size_t same = 0;
    for (size_t i = 0; i < 1000; ++i) {
      same += buf[i] == values[v];
    }
    CHECK_MSG(same == 1000, "value %g: %zu of 1000 frames", (double)values[v],
              same);
    harness_free(h);
  }
}

static void
test_change_is_immediate(void)
{
  /* a CV source steps at once: it may drive gates and pitches */
  KindHarness* h = harness_new(&ch_kind_const, 48000.0f);
  harness_set(h, "value", 2.0f);
  harness_render(h, "out", buf, 64, 64, NULL);
  harness_set(h, "value", -0.5f);
  harness_render(h, "out", buf + 64, 64, 64, NULL);
  CHECK(buf[63] == 2.0f);
  CHECK(buf[64] == -0.5f);
  CHECK(buf[127] == -0.5f);
  harness_free(h);
}

static void
test_descriptor(void)
{
  CHECK(!strcmp(ch_kind_const.name, "const"));
  CHECK(ch_kind_const.n_inputs == 0);
  CHECK(ch_kind_find_output(&ch_kind_const, "out") == 0);
  const int p = ch_kind_find_param(&ch_kind_const, "value");
  CHECK(p == 0);
  CHECK(ch_kind_const.params[0].min == -10.0f);
  CHECK(ch_kind_const.params[0].max == 10.0f);
  CHECK(ch_kind_const.params[0].def == 0.0f);
}

int
main(void)
{
  RUN(test_default_is_zero);
  RUN(test_value);
  RUN(test_change_is_immediate);
  RUN(test_descriptor);
  return CHECK_EXIT();
}
