/* Tests of the `reverb` module: decay time, damping, stereo, mix, safety. */
#include "check.h"
#include "dsp.h"

#include <stdlib.h>

extern const ChKind ch_kind_reverb;

#define RATE 48000.0
#define LEN  (48000u * 6u)

static float  in_l[LEN];
static float  in_r[LEN];
static float  left[LEN];
static float  right[LEN];
static double energy[LEN];

/* The parameters of a reverb under test; those a test leaves out are 0. */
typedef struct {
  float rate; /* 0: RATE */
  float size, decay, damp, mix;
} Room;

static KindHarness*
make(const Room r)
{
  return harness_with(&ch_kind_reverb, r.rate ? r.rate : RATE, "size", r.size,
                      "decay", r.decay, "damp", r.damp, "mix", r.mix, NULL);
}

/* What harness_run() feeds the module and keeps of it. */
static const HarnessWire ins[]  = { { "left", in_l },
                                    { "right", in_r },
                                    { NULL, NULL } };
static const HarnessWire outs[] = { { "left", left },
                                    { "right", right },
                                    { NULL, NULL } };

static void
impulse(const size_t total, const float l, const float r)
{
  memset(in_l, 0, total * sizeof(float));
  memset(in_r, 0, total * sizeof(float));
  in_l[0] = l;
  in_r[0] = r;
}

/* RT60 from Schroeder's backward integral of x (and y) squared: the time
   from -5 to -35 dB, doubled. */
static double
rt60_of(const float* x, const float* y, const size_t total, const double rate)
{
  double acc = 0.0;
  for (size_t i = total; i-- > 0;) {
    acc += (double)x[i] * x[i] + (y ? (double)y[i] * y[i] : 0.0);
    energy[i] = acc;
  }
  double t5 = -1.0;
  for (size_t i = 0; i < total; ++i) {
    const double db = 10.0 * log10(energy[i] / energy[0] + 1e-300);
    if (t5 < 0.0 && db <= -5.0) {
      t5 = (double)i / rate;
    }
    if (db <= -35.0) {
      return 2.0 * ((double)i / rate - t5);
    }
  }
  return -1.0;
}

static double
correlation(const float* x, const float* y, const size_t from, const size_t to)
{
  double xy = 0.0;
  double xx = 0.0;
  double yy = 0.0;
  for (size_t i = from; i < to; ++i) {
    xy += (double)x[i] * y[i];
    xx += (double)x[i] * x[i];
    yy += (double)y[i] * y[i];
  }
  return xy / sqrt(xx * yy + 1e-300);
}

static void
test_descriptor(void)
{
  CHECK(ch_kind_reverb.flags & CH_KIND_GLOBAL);
  CHECK(ch_kind_reverb.capture == NULL);
  CHECK(ch_kind_find_input(&ch_kind_reverb, "left") == 0);
  CHECK(ch_kind_find_input(&ch_kind_reverb, "right") == 1);
  CHECK(ch_kind_find_output(&ch_kind_reverb, "left") == 0);
  CHECK(ch_kind_find_output(&ch_kind_reverb, "right") == 1);
  fprintf(stderr, "  state at 48 kHz: %zu bytes\n",
          ch_kind_state_size(&ch_kind_reverb, 48000.0f));
}

static void
test_decay_time_matches(void)
{
  static const struct {
    float rate, size, decay;
  } cases[] = {
    { 48000.0f, 0.5f, 0.25f }, { 48000.0f, 0.5f, 0.75f },
    { 44100.0f, 0.0f, 0.5f },  { 96000.0f, 1.0f, 0.4f },
    { 48000.0f, 0.3f, 0.0f },
  };
  for (size_t c = 0; c < CH_COUNT(cases); ++c) {
    const double expect = 0.2 * pow(40.0, cases[c].decay);
    const size_t total =
      (size_t)(fmin(2.0 * expect + 0.5, 6.0 * 48000.0 / cases[c].rate) *
               cases[c].rate);
    KindHarness* h = make((Room){ .rate  = cases[c].rate,
                                  .size  = cases[c].size,
                                  .decay = cases[c].decay,
                                  .mix   = 1.0f });
    impulse(total, 1.0f, 1.0f);
    harness_run(h, ins, outs, 0, total, 256);
    const double rt = rt60_of(left, right, total, cases[c].rate);
    fprintf(stderr, "  %.0f Hz, size %.2f, decay %.2f: RT60 %.3f s (%.3f)\n",
            (double)cases[c].rate, (double)cases[c].size,
            (double)cases[c].decay, rt, expect);
    CHECK_NEAR(rt, expect, 0.1 * expect);
    harness_free(h);
  }
}

static void
test_energy_falls(void)
{
  KindHarness* h =
    make((Room){ .size = 0.5f, .decay = 0.5f, .damp = 0.4f, .mix = 1.0f });
  impulse(LEN, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, 2 * 48000, 64);
  /* 100 ms windows from 100 ms on: each quieter than the one before */
  double prev  = dsp_rms(left + 4800, 4800) + dsp_rms(right + 4800, 4800);
  int    falls = 1;
  for (size_t w = 2; w < 20; ++w) {
    const double e =
      dsp_rms(left + w * 4800, 4800) + dsp_rms(right + w * 4800, 4800);
    falls &= e < prev;
    prev = e;
  }
  CHECK(falls);
  CHECK(prev > 0.0);
  CHECK(dsp_db(prev) < -40.0);
  harness_free(h);
}

/* Decay rate in dB/s of the first difference (highs) or of a 16-sample
   moving average (lows) of the left output, between 0.1..0.3 s and
   0.5..0.7 s. */
static double
band_decay(const int highs)
{
  static float band[LEN];
  double       acc = 0.0;
  for (size_t i = 0; i < 48000; ++i) {
    if (highs) {
      band[i] = left[i] - (i ? left[i - 1] : 0.0f);
    } else {
      acc += left[i] - (i >= 16 ? left[i - 16] : 0.0f);
      band[i] = (float)(acc / 16.0);
    }
  }
  const double early = dsp_db(dsp_rms(band + 4800, 9600));
  const double late  = dsp_db(dsp_rms(band + 24000, 9600));
  return (late - early) / 0.4;
}

static void
test_damping_shortens_highs(void)
{
  double diff[2];
  for (int damped = 0; damped < 2; ++damped) {
    KindHarness* h = make((Room){
      .size = 0.5f, .decay = 0.6f, .damp = damped ? 0.6f : 0.0f, .mix = 1.0f });
    impulse(48000, 1.0f, 1.0f);
    harness_run(h, ins, outs, 0, 48000, 256);
    const double hi = band_decay(1);
    const double lo = band_decay(0);
    diff[damped]    = hi - lo;
    fprintf(stderr, "  damp %.1f: highs %.1f dB/s, lows %.1f dB/s\n",
            damped ? 0.6 : 0.0, hi, lo);
    if (!damped) {
      /* undamped: both near 60 dB per RT60 (0.2 s * 40^0.6 = 1.83 s) */
      CHECK_NEAR(lo, -60.0 / 1.826, 6.0);
    }
    harness_free(h);
  }
  CHECK(fabs(diff[0]) < 5.0);
  CHECK(diff[1] < -20.0);
}

static void
test_stereo_decorrelated(void)
{
  static const float sizes[] = { 0.0f, 0.5f, 1.0f };
  for (size_t s = 0; s < CH_COUNT(sizes); ++s) {
    KindHarness* h = make(
      (Room){ .size = sizes[s], .decay = 0.6f, .damp = 0.4f, .mix = 1.0f });
    impulse(48000, 1.0f, 1.0f); /* mono in */
    harness_run(h, ins, outs, 0, 48000, 256);
    const double corr = correlation(left, right, 4800, 48000);
    fprintf(stderr, "  size %.1f: L/R correlation of the tail %.3f\n",
            (double)sizes[s], corr);
    CHECK(fabs(corr) < 0.2);
    harness_free(h);
  }
  /* one side in: both sides ring */
  KindHarness* h =
    make((Room){ .size = 0.5f, .decay = 0.5f, .damp = 0.4f, .mix = 1.0f });
  impulse(48000, 1.0f, 0.0f);
  harness_run(h, ins, outs, 0, 48000, 256);
  const double l = dsp_rms(left + 4800, 19200);
  const double r = dsp_rms(right + 4800, 19200);
  CHECK(r > 0.5 * l && l > 0.5 * r);
  harness_free(h);
}

static void
test_size_sets_first_echo(void)
{
  /* the shortest line, 1511 samples at 48 kHz and size 1, 25 % at 0 */
  static const struct {
    float  rate, size;
    size_t first;
  } cases[] = {
    { 48000.0f, 1.0f, 1511 },
    { 48000.0f, 0.0f, 378 },
    { 96000.0f, 1.0f, 3022 },
    { 48000.0f, 0.5f, 944 }, /* 1511 * 0.625 = 944.4 */
  };
  for (size_t c = 0; c < CH_COUNT(cases); ++c) {
    KindHarness* h = make((Room){ .rate  = cases[c].rate,
                                  .size  = cases[c].size,
                                  .decay = 0.5f,
                                  .mix   = 1.0f });
    impulse(8000, 1.0f, 0.0f);
    harness_run(h, ins, outs, 0, 8000, 64);
    size_t first = 0;
    while (first < 8000 && left[first] == 0.0f && right[first] == 0.0f) {
      ++first;
    }
    CHECK_MSG(first == cases[c].first, "first at %zu, want %zu", first,
              cases[c].first);
    harness_free(h);
  }
}

static void
test_mix(void)
{
  srand(9);
  for (size_t i = 0; i < 48000; ++i) {
    in_l[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
    in_r[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
  }
  KindHarness* h = make((Room){ .size = 0.5f, .decay = 0.8f, .damp = 0.2f });
  harness_run(h, ins, outs, 0, 48000, 100);
  CHECK(!memcmp(left, in_l, 48000 * sizeof(float)));
  CHECK(!memcmp(right, in_r, 48000 * sizeof(float)));
  harness_free(h);

  for (int k = 0; k < 2; ++k) {
    const float mix = k ? 0.5f : 1.0f;
    h               = make((Room){ .size = 0.5f, .decay = 0.5f, .mix = mix });
    impulse(4000, 1.0f, -1.0f);
    harness_run(h, ins, outs, 0, 4000, 64);
    CHECK(left[0] == 1.0f - mix && right[0] == mix - 1.0f);
    harness_free(h);
  }
}

static void
test_bounded_and_finite(void)
{
  static const float rates[] = { 22050.0f, 48000.0f, 192000.0f };
  DspBound           bound   = dsp_bound_start();
  for (size_t r = 0; r < CH_COUNT(rates); ++r) {
    const size_t total = (size_t)rates[r]; /* 1 s */
    KindHarness* h     = make(
          (Room){ .rate = rates[r], .size = 1.0f, .decay = 1.0f, .mix = 1.0f });
    srand(21);
    for (size_t i = 0; i < total; ++i) {
      in_l[i] = (float)rand() / (float)RAND_MAX * 20.0f - 10.0f;
      in_r[i] = in_l[i]; /* correlated: the worst case for build-up */
    }
    /* size jumps every 0.1 s while the tail is full */
    for (int part = 0; part < 10; ++part) {
      harness_set(h, "size", part % 2 ? 0.0f : 1.0f);
      harness_run(h, ins, outs, 0, total / 10, 256);
      dsp_bound_add(&bound, left, total / 10);
      dsp_bound_add(&bound, right, total / 10);
    }
    /* wild input: the dry path passes it, the tail stays finite */
    for (size_t i = 0; i < 10000; ++i) {
      in_l[i] = i % 1000 ? 0.0f : NAN;
      in_r[i] = i % 1000 ? 0.0f : (i % 2000 ? INFINITY : 1e30f);
    }
    harness_set(h, "mix", 0.5f);
    harness_run(h, ins, outs, 0, 10000, 256);
    for (size_t i = 0; i < 10000; ++i) {
      bound.finite &=
        (i % 1000 == 0) || (isfinite(left[i]) && isfinite(right[i]));
    }
    harness_free(h);
  }
  fprintf(stderr, "  decay 1, +-10 noise, size jumping: peak %.1f\n",
          bound.peak);
  CHECK(bound.finite);
  CHECK(bound.peak < 300.0);
}

static void
test_tail_ends_in_zeros(void)
{
  /* no denormal tail: after the decay the state is flushed to zero */
  KindHarness* h = make((Room){ .size = 0.5f, .damp = 0.5f, .mix = 1.0f });
  impulse(LEN, 1.0f, 1.0f);
  harness_run(h, ins, outs, 0, 3 * 48000, 256);
  CHECK(dsp_peak(left + 2 * 48000, 48000) == 0.0);
  CHECK(dsp_peak(right + 2 * 48000, 48000) == 0.0);
  harness_free(h);
}

/* Two sine bursts into the room, with every parameter turned half way. */
static void
room_turned(const int variant, const uint32_t block)
{
  (void)variant;
  for (size_t i = 0; i < 48000; ++i) {
    in_l[i] = (float)sin((double)i * 0.02) * (i < 8000 ? 1.0f : 0.0f);
    in_r[i] = (float)sin((double)i * 0.031) * (i < 3000 ? 1.0f : 0.0f);
  }
  KindHarness* h =
    make((Room){ .size = 0.3f, .decay = 0.6f, .damp = 0.5f, .mix = 0.4f });
  harness_run(h, ins, outs, 0, 24000, block);
  harness_set_each(h, "size", 0.8f, "decay", 0.3f, "damp", 0.1f, "mix", 0.9f,
                   NULL);
  harness_run(h, ins, outs, 0, 24000, block);
  harness_free(h);
}

static void
test_same_output_for_any_block_size(void)
{
  CHECK(harness_same_for_any_block(room_turned, 0, outs, 24000));
}

int
main(void)
{
  RUN(test_descriptor);
  RUN(test_decay_time_matches);
  RUN(test_energy_falls);
  RUN(test_damping_shortens_highs);
  RUN(test_stereo_decorrelated);
  RUN(test_size_sets_first_echo);
  RUN(test_mix);
  RUN(test_bounded_and_finite);
  RUN(test_tail_ends_in_zeros);
  RUN(test_same_output_for_any_block_size);
  return CHECK_EXIT();
}
