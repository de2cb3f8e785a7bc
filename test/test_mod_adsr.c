/* Tests of the `adsr` module: stage timing, edges, retrigger, blocks. */
#include "check.h"
#include "dsp.h"

#include <stdlib.h>

extern const ChKind ch_kind_adsr;

#define RATE 48000.0f
#define LONG 96000u

/* Gate and trig signals as long as the render, fed block by block. */
static float gate_sig[LONG];
static float trig_sig[LONG];
static float env[LONG];

static KindHarness*
make(const float attack,
     const float decay,
     const float sustain,
     const float release)
{
  KindHarness* h =
    harness_with(&ch_kind_adsr, RATE, "attack", attack, "decay", decay,
                 "sustain", sustain, "release", release, NULL);
  memset(gate_sig, 0, sizeof(gate_sig));
  memset(trig_sig, 0, sizeof(trig_sig));
  memset(env, 0, sizeof(env));
  return h;
}

/* harness_run() feeds gate_sig/trig_sig and keeps env. */
static const HarnessWire ins[]  = { { "gate", gate_sig },
                                    { "trig", trig_sig },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "out", env }, { NULL, NULL } };

static void
set_gate(const size_t from, const size_t to, const float value)
{
  for (size_t i = from; i < to && i < LONG; ++i) {
    gate_sig[i] = value;
  }
}

/* First index >= from where env reaches `level` (rising), or LONG. */
static size_t
first_at_or_above(const size_t from, const double level)
{
  for (size_t i = from; i < LONG; ++i) {
    if (env[i] >= level) {
      return i;
    }
  }
  return LONG;
}

static double
max_step(const size_t from, const size_t to)
{
  double m = 0.0;
  for (size_t i = from + 1; i < to; ++i) {
    m = fmax(m, fabs((double)env[i] - env[i - 1]));
  }
  return m;
}

static void
test_attack_reaches_peak_on_time(void)
{
  KindHarness* h = make(0.01f, 0.2f, 0.7f, 0.3f); /* 480-sample attack */
  set_gate(0, LONG, 1.0f);
  harness_run(h, ins, outs, 0, 4800, 64);
  const size_t peak = first_at_or_above(0, 1.0);
  CHECK_MSG(peak >= 477 && peak <= 481, "peak at %zu, want ~479", peak);
  CHECK_NEAR(env[peak], 1.0, 0.0);
  CHECK_NEAR(env[239], 0.5, 0.003); /* linear: half way at half time */
  CHECK_NEAR(env[119], 0.25, 0.003);
  CHECK(env[0] > 0.0f && env[0] < 0.01f);
  harness_free(h);
}

static void
test_decays_to_sustain(void)
{
  KindHarness* h = make(0.001f, 0.1f, 0.5f, 0.3f);
  set_gate(0, LONG, 1.0f);
  harness_run(h, ins, outs, 0, 48000, 256);
  const size_t peak = first_at_or_above(0, 1.0);
  /* -60 dB of the distance after `decay`: 0.5 + 0.5 / 1000 */
  const size_t t = peak + 4800;
  CHECK_NEAR(env[t], 0.5005, 0.0002);
  /* -30 dB after half of it */
  CHECK_NEAR(env[peak + 2400], 0.5 + 0.5 / sqrt(1000.0), 0.001);
  CHECK_NEAR(env[47999], 0.5, 1e-6);
  int monotonic = 1;
  for (size_t i = peak + 1; i < 48000; ++i) {
    monotonic &= env[i] <= env[i - 1];
  }
  CHECK(monotonic);
  harness_free(h);
}

static void
test_release_timing(void)
{
  KindHarness* h   = make(0.001f, 0.05f, 0.7f, 0.2f);
  const size_t off = 24000;
  set_gate(0, off, 1.0f);
  harness_run(h, ins, outs, 0, LONG, 100);
  CHECK_NEAR(env[off - 1], 0.7, 1e-5);
  CHECK_NEAR(env[off + 9600], 0.7 / 1000.0, 0.7 / 1000.0 * 0.01); /* -60 dB */
  CHECK_NEAR(env[off + 4800], 0.7 / sqrt(1000.0), 0.0003);        /* -30 dB */
  CHECK(env[off] < env[off - 1]);
  CHECK(max_step(off - 10, off + 10) <
        0.7 * (1.0 - exp(-6.9078 / 9600.0)) + 1e-6);
  /* reaches silence exactly, and stays there */
  CHECK(env[off + 24000] == 0.0f);
  CHECK(env[LONG - 1] == 0.0f);
  harness_free(h);
}

static void
test_manual_gate_param(void)
{
  KindHarness* h = make(0.002f, 0.05f, 0.6f, 0.05f);
  harness_set(h, "gate", 1.0f);
  harness_run(h, ins, outs, 0, 9600, 64);
  CHECK_NEAR(env[95], 1.0, 0.02);
  CHECK_NEAR(env[9599], 0.6, 1e-4);
  harness_set(h, "gate", 0.0f);
  harness_run(h, ins, outs, 9600, 9600, 64);
  CHECK(env[9600] < env[9599]);
  CHECK_NEAR(env[9600 + 2400], 0.6 / 1000.0, 0.6 / 1000.0 * 0.01);
  /* the param is OR'ed: input high with param low still holds */
  set_gate(19200, 28800, 1.0f);
  harness_run(h, ins, outs, 19200, 9600, 64);
  CHECK_NEAR(env[28799], 0.6, 1e-4);
  harness_free(h);
}

static void
test_release_mid_attack_no_jump(void)
{
  KindHarness* h = make(0.1f, 0.2f, 0.7f, 0.1f); /* 4800-sample attack */
  set_gate(0, 2400, 1.0f);
  harness_run(h, ins, outs, 0, 9600, 256);
  CHECK_NEAR(env[2399], 0.5, 0.001);
  /* the first released sample moves by at most one release step */
  CHECK(env[2400] < env[2399]);
  CHECK(env[2399] - env[2400] < 0.5 * (1.0 - exp(-6.9078 / 4800.0)) + 1e-6);
  CHECK_NEAR(env[2400 + 4800], 0.5 / 1000.0, 0.5 / 1000.0 * 0.01);
  harness_free(h);
}

static void
test_release_mid_decay_no_jump(void)
{
  KindHarness* h = make(0.001f, 0.5f, 0.2f, 0.1f);
  set_gate(0, 4800, 1.0f);
  harness_run(h, ins, outs, 0, 9600, 256);
  CHECK(env[4799] > 0.3f); /* still decaying */
  CHECK(env[4800] < env[4799]);
  CHECK(max_step(4790, 4810) < 0.01);
  harness_free(h);
}

static void
test_retrigger_from_current_level(void)
{
  KindHarness* h = make(0.01f, 0.02f, 0.3f, 0.3f);
  set_gate(0, LONG, 1.0f);
  trig_sig[0]    = 1.0f; /* arrives with the gate, as from `voice` */
  const size_t t = 24000;
  trig_sig[t]    = 1.0f;
  harness_run(h, ins, outs, 0, 48000, 17);
  CHECK_NEAR(env[t - 1], 0.3, 1e-5);
  /* rises from where it was: one attack step, no reset to zero */
  CHECK(env[t] > env[t - 1]);
  CHECK(env[t] - env[t - 1] < 1.0 / 480.0 + 1e-6);
  /* constant slope: 0.7 of the way takes 0.7 of the attack time */
  const size_t peak = first_at_or_above(t, 1.0);
  CHECK_MSG(peak >= t + 334 && peak <= t + 338, "peak %zu after trig",
            peak - t);
  CHECK_NEAR(env[47999], 0.3, 1e-5);
  /* the first trig (with the gate's edge) caused one attack, not two */
  CHECK_NEAR(env[239], 0.5, 0.003);
  harness_free(h);
}

static void
test_trig_with_gate_low_is_one_shot(void)
{
  KindHarness* h = make(0.005f, 0.2f, 0.7f, 0.05f);
  trig_sig[1000] = 1.0f;
  trig_sig[1001] = 1.0f;
  harness_run(h, ins, outs, 0, 9600, 64);
  CHECK(env[999] == 0.0f);
  const size_t peak = first_at_or_above(1000, 1.0);
  CHECK_MSG(peak >= 1237 && peak <= 1241, "peak at %zu", peak);
  CHECK(env[peak + 1] < 1.0f);
  CHECK_NEAR(env[peak + 2400], 1.0 / 1000.0, 1e-5); /* released at once */
  harness_free(h);
}

static void
test_sample_accurate_edges(void)
{
  KindHarness* h = make(0.001f, 0.2f, 0.7f, 0.001f);
  set_gate(100, 200, 1.0f);
  harness_run(h, ins, outs, 0, 256, 256);
  CHECK(env[99] == 0.0f);
  CHECK(env[100] > 0.0f);
  CHECK(env[199] == 1.0f || env[199] > 0.9f);
  CHECK(env[200] < env[199]);
  harness_free(h);
}

/* Gates long and one sample short, trigs with the gate high and low. */
static void
gates_and_trigs(const int variant, const uint32_t block)
{
  (void)variant;
  KindHarness* h = make(0.003f, 0.05f, 0.4f, 0.02f);
  set_gate(33, 3000, 1.0f);
  set_gate(3001, 3002, 1.0f); /* one-sample gate blip */
  set_gate(5000, 9000, 1.0f);
  trig_sig[1234]  = 1.0f;
  trig_sig[7777]  = 1.0f;
  trig_sig[12000] = 1.0f; /* gate low: one-shot */
  harness_run(h, ins, outs, 0, 20000, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  CHECK(harness_same_for_any_block(gates_and_trigs, 0, outs, 20000));
}

static void
test_bounded_for_extreme_params(void)
{
  static const float times[] = { 0.0005f, 20.0f };
  int                ok      = 1;
  for (int a = 0; a < 2; ++a) {
    for (int d = 0; d < 2; ++d) {
      for (int r = 0; r < 2; ++r) {
        KindHarness* h = make(times[a], times[d], d ? 1.0f : 0.0f, times[r]);
        srand(7);
        for (size_t i = 0; i < LONG; ++i) {
          gate_sig[i] = (float)(rand() % 2000 < 1999 ? (i / 5000) % 2 : 1);
          trig_sig[i] = (float)(rand() % 3000 == 0);
        }
        harness_run(h, ins, outs, 0, LONG, 256);
        ok &= dsp_within(env, LONG, 0.0f, 1.0f);
        harness_free(h);
      }
    }
  }
  CHECK(ok);
}

int
main(void)
{
  RUN(test_attack_reaches_peak_on_time);
  RUN(test_decays_to_sustain);
  RUN(test_release_timing);
  RUN(test_manual_gate_param);
  RUN(test_release_mid_attack_no_jump);
  RUN(test_release_mid_decay_no_jump);
  RUN(test_retrigger_from_current_level);
  RUN(test_trig_with_gate_low_is_one_shot);
  RUN(test_sample_accurate_edges);
  RUN(test_same_output_for_any_block_size);
  RUN(test_bounded_for_extreme_params);
  return CHECK_EXIT();
}
