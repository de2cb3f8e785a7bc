/* Tests of the `osc` module kind: pitch, level, DC, duty, band-limiting, FM. */
#include "check.h"
#include "dsp.h"

#include <stdbool.h>
#include <stdint.h>

extern const ChKind ch_kind_osc;

#define RATE 48000.0f
#define LEN  48000u
#define C4   261.6255653

enum { SINE, SAW, SQUARE, TRIANGLE };

static const char* const shape_names[] = { "sine", "saw", "square",
                                           "triangle" };

static float buf[LEN];
static float ref[LEN];

/* Pitch (octaves from C4) of a frequency. */
static float
pitch_of(const double hz)
{
  return (float)log2(hz / C4);
}

/* Render `LEN` frames of one shape with the given pitch and level. */
static KindHarness*
render_shape(const int    shape,
             const float  pitch,
             const float  fine,
             float* const dest)
{
  KindHarness* h = harness_new(&ch_kind_osc, RATE);
  harness_set_each(h, "shape", (float)shape, "pitch", pitch, "fine", fine,
                   NULL);
  harness_render(h, "out", dest, LEN, 64, NULL);
  return h;
}

static void
test_frequency(void)
{
  static const struct {
    float  pitch;
    float  fine;
    double hz;
  } cases[] = {
    { 0.0f, 0.0f, 261.6255653 },
    { 1.0f, 0.0f, 523.2511306 },
    { -2.0f, 0.0f, 65.40639133 },
    { 0.0f, 100.0f, 277.1826310 }, /* one semitone up: C#4 */
    { 0.0f, -50.0f, 254.1776933 }, /* a quarter tone down */
    { 2.5f, 0.0f, 1479.977691 },
  };
  for (int shape = 0; shape < 4; ++shape) {
    for (size_t c = 0; c < CH_COUNT(cases); ++c) {
      KindHarness* h = render_shape(shape, cases[c].pitch, cases[c].fine, buf);
      const double f = dsp_zero_cross_freq(buf, LEN, RATE);
      CHECK_MSG(fabs(f / cases[c].hz - 1.0) < 0.001,
                "%s pitch %g fine %g: %g Hz, expected %g", shape_names[shape],
                (double)cases[c].pitch, (double)cases[c].fine, f, cases[c].hz);
      harness_free(h);
    }
  }
}

static void
test_pitch_input_adds(void)
{
  KindHarness* h = harness_new(&ch_kind_osc, RATE);
  harness_set_each(h, "shape", (float)SINE, "pitch", 1.0f, NULL);
  harness_const_input(h, "pitch", -0.5f);
  harness_render(h, "out", buf, LEN, 64, NULL);
  const double expect = C4 * sqrt(2.0);
  CHECK_NEAR(dsp_zero_cross_freq(buf, LEN, RATE), expect, expect * 0.001);
  harness_free(h);
}

static void
test_level_and_dc(void)
{
  /* 240 Hz: exactly 200 frames a period, so the mean covers whole periods */
  const float pitch = pitch_of(240.0);
  for (int shape = 0; shape < 4; ++shape) {
    KindHarness* h = harness_new(&ch_kind_osc, RATE);
    harness_set_each(h, "shape", (float)shape, "pitch", pitch, "level", 0.5f,
                     NULL);
    harness_render(h, "out", buf, LEN, 64, NULL); /* let the level settle */
    harness_render(h, "out", buf, LEN, 64, NULL);
    /* a band-limited step rings: the saw and square overshoot (up to 12 %
       for a square's two steps); the sine and triangle do not */
    const double over = shape == SAW || shape == SQUARE ? 1.12 : 1.0;
    CHECK_MSG(dsp_peak(buf, LEN) > 0.49 &&
                dsp_peak(buf, LEN) < 0.5 * over + 0.01,
              "%s peak %g", shape_names[shape], dsp_peak(buf, LEN));
    CHECK_MSG(fabs(dsp_mean(buf, LEN)) < 1e-3, "%s DC %g", shape_names[shape],
              dsp_mean(buf, LEN));
    harness_free(h);
  }
}

static void
test_level_smoothing(void)
{
  KindHarness* h = harness_new(&ch_kind_osc, RATE);
  harness_set(h, "shape", SQUARE);
  harness_render(h, "out", buf, 4800, 64, NULL);
  /* no fade-in at creation (a band-limited square rings up to 1.12) */
  CHECK(dsp_peak(buf, 4800) > 0.99 && dsp_peak(buf, 4800) < 1.12);
  harness_set(h, "level", 0.0f);
  harness_render(h, "out", buf, 4800, 64, NULL);
  /* a step, not a click: the first frames still carry almost full level */
  CHECK(fabs(buf[0]) > 0.99);
  /* 5 ms time constant: 37 % left after 5 ms, below 1 % after 23 ms */
  CHECK_NEAR(fabs(buf[240]), exp(-1.0), 0.01);
  CHECK(dsp_peak(buf + 1110, 4800 - 1110) < 0.01);
  /* and it settles exactly, no endless denormal tail */
  harness_render(h, "out", buf, 4800, 64, NULL);
  CHECK(dsp_peak(buf, 4800) == 0.0);
  harness_free(h);
}

static void
test_duty_cycle(void)
{
  static const struct {
    float pw_param;
    float pw_input;
    float expect;
  } cases[] = {
    { 0.5f, 0.0f, 0.5f },   { 0.25f, 0.0f, 0.25f }, { 0.1f, 0.0f, 0.1f },
    { 0.25f, 0.5f, 0.75f }, /* the input adds to the param */
    { 0.5f, 2.0f, 0.95f },  /* and the sum is held inside 0.05..0.95 */
    { 0.5f, -2.0f, 0.05f },
  };
  for (size_t c = 0; c < CH_COUNT(cases); ++c) {
    KindHarness* h = harness_new(&ch_kind_osc, RATE);
    harness_set_each(h, "shape", (float)SQUARE, "pitch", pitch_of(240.0), "pw",
                     cases[c].pw_param, NULL);
    harness_const_input(h, "pw", cases[c].pw_input);
    harness_render(h, "out", buf, LEN, 64, NULL);
    size_t high = 0;
    for (size_t i = 0; i < LEN; ++i) {
      high += buf[i] > 0.0f;
    }
    const double duty = (double)high / LEN;
    CHECK_MSG(fabs(duty - cases[c].expect) < 0.01, "pw %g + %g: duty %g",
              (double)cases[c].pw_param, (double)cases[c].pw_input, duty);
    /* a pulse keeps its DC: 2 * duty - 1 */
    CHECK_NEAR(dsp_mean(buf, LEN), 2.0 * cases[c].expect - 1.0, 0.01);
    harness_free(h);
  }
}

/* Harmonic k's expected amplitude for a unit-peak waveform. */
static double
harmonic(const int shape, const int k)
{
  switch (shape) {
  case SAW:
    return 2.0 / (M_PI * k);
  case SQUARE:
    return (k % 2) ? 4.0 / (M_PI * k) : 0.0;
  case TRIANGLE:
    return (k % 2) ? 8.0 / (M_PI * M_PI * k * k) : 0.0;
  default:
    return k == 1 ? 1.0 : 0.0;
  }
}

static void
test_harmonics(void)
{
  const double f0 = 220.0;
  for (int shape = 0; shape < 4; ++shape) {
    KindHarness* h = render_shape(shape, pitch_of(f0), 0.0f, buf);
    for (int k = 1; k <= 8; ++k) {
      const double level  = dsp_tone_level(buf, LEN, f0 * k, RATE);
      const double expect = harmonic(shape, k);
      if (expect > 0.0) {
        /* within 0.2 dB of the Fourier series */
        CHECK_MSG(fabs(dsp_db(level / expect)) < 0.2,
                  "%s harmonic %d: %g, expected %g", shape_names[shape], k,
                  level, expect);
      } else {
        CHECK_MSG(dsp_db(level) < -80.0, "%s harmonic %d: %g dB",
                  shape_names[shape], k, dsp_db(level));
      }
    }
    harness_free(h);
  }
}

/* A naive (aliasing) saw or square at `f0`, for comparison. */
static void
naive(const int shape, const double f0, float* const dest)
{
  double phase = 0.0;
  for (size_t i = 0; i < LEN; ++i) {
    dest[i] =
      shape == SAW ? (float)(2.0 * phase - 1.0) : (phase < 0.5 ? 1.0f : -1.0f);
    phase += f0 / RATE;
    phase -= floor(phase);
  }
}

static void
test_band_limited(void)
{
  /* 4.5 kHz at 48 kHz: harmonics 6..14 fold back to these frequencies,
     none of which is a harmonic. */
  const double f0        = 4500.0;
  const double aliases[] = { 21000, 16500, 12000, 7500, 3000,
                             1500,  6000,  10500, 15000 };
  /* limits in dB below the fundamental: worst alias, worst alias below
     15 kHz; and how much less alias energy than a naive waveform */
  static const double worst_max[]   = { 0, -52.0, -75.0, -60.0 };
  static const double audible_max[] = { 0, -85.0, -90.0, -95.0 };
  static const double gain_min[]    = { 0, 44.0, 65.0, 0 };
  for (int shape = SAW; shape <= TRIANGLE; ++shape) {
    KindHarness* h       = render_shape(shape, pitch_of(f0), 0.0f, buf);
    const double fund    = dsp_tone_level(buf, LEN, f0, RATE);
    double       worst   = -300.0;
    double       audible = -300.0;
    double       sum_b   = 0.0;
    double       sum_n   = 0.0;
    if (shape != TRIANGLE) {
      naive(shape, f0, ref);
    }
    for (size_t a = 0; a < CH_COUNT(aliases); ++a) {
      const double b  = dsp_tone_level(buf, LEN, aliases[a], RATE);
      const double db = dsp_db(b / fund);
      worst           = fmax(worst, db);
      if (aliases[a] < 15000.0) {
        audible = fmax(audible, db);
      }
      sum_b += b * b;
      if (shape != TRIANGLE) {
        sum_n += pow(dsp_tone_level(ref, LEN, aliases[a], RATE), 2.0);
      }
    }
    printf("  %s at %g Hz: worst alias %.1f dB, below 15 kHz %.1f dB",
           shape_names[shape], f0, worst, audible);
    CHECK_MSG(worst < worst_max[shape], "%s: alias at %g dB",
              shape_names[shape], worst);
    CHECK_MSG(audible < audible_max[shape], "%s: alias at %g dB",
              shape_names[shape], audible);
    if (shape != TRIANGLE) {
      const double gain = 10.0 * log10(sum_n / sum_b);
      printf(", alias energy %.1f dB below naive", gain);
      CHECK_MSG(gain > gain_min[shape], "%s: only %g dB less alias than naive",
                shape_names[shape], gain);
    }
    printf("\n");
    harness_free(h);
  }
}

/* Issue 17's floor: on held notes of the top octave (C6..C7, the top of
   the bank's range), what folds back below 20 kHz stays more than 60 dB
   under the loudest partial.  The saw runs twice: through the general
   loop (FM linked, as the harness leaves it) and through its own loop
   (every input unlinked, as the compiler marks it). */
static void
test_images_at_top_notes(void)
{
  static const struct {
    int  shape;
    bool plain;
  } cases[] = {
    { SAW, false }, { SAW, true }, { SQUARE, false }, { TRIANGLE, false }
  };
  for (size_t c = 0; c < CH_COUNT(cases); ++c) {
    double worst = -300.0;
    double below = -300.0; /* what lands under the fundamental */
    double at    = 0.0;
    for (int semi = -12; semi <= 0; ++semi) {
      const double f0 = C4 * 8.0 * pow(2.0, semi / 12.0);
      KindHarness* h  = harness_new(&ch_kind_osc, RATE);
      harness_set_each(h, "shape", (float)cases[c].shape, "pitch", pitch_of(f0),
                       NULL);
      h->node.unlinked_in = cases[c].plain ? ~0u : 0u;
      harness_render(h, "out", buf, LEN, 64, NULL);
      const double db = dsp_alias_db(buf + 16384, 16384, f0, RATE, 20000.0);
      below = fmax(below, dsp_alias_db(buf + 16384, 16384, f0, RATE, f0));
      if (db > worst) {
        worst = db;
        at    = f0;
      }
      harness_free(h);
    }
    printf("  %s%s C6..C7: worst image %.1f dB (at %.0f Hz), below the "
           "fundamental %.1f dB\n",
           shape_names[cases[c].shape], cases[c].plain ? " (own loop)" : "",
           worst, at, below);
    CHECK_MSG(worst < -60.0, "%s: image at %.1f dB",
              shape_names[cases[c].shape], worst);
    /* and under the note, where a beat would be heard, far less */
    CHECK_MSG(below < -85.0, "%s: below the fundamental %.1f dB",
              shape_names[cases[c].shape], below);
  }
}

static int
compare_floats(const void* a, const void* b)
{
  const float x = *(const float*)a;
  const float y = *(const float*)b;
  return (x > y) - (x < y);
}

static void
test_fm(void)
{
  static const struct {
    float  fm;
    double ratio;
  } cases[] = { { 1.0f, 2.0 },
                { -0.5f, 0.5 },
                { 0.25f, 1.25 },
                { -2.0f, 1.0 },
                { -3.0f, 2.0 } };
  for (size_t c = 0; c < CH_COUNT(cases); ++c) {
    KindHarness* h = harness_new(&ch_kind_osc, RATE);
    harness_set(h, "shape", SAW);
    harness_const_input(h, "fm", cases[c].fm);
    harness_render(h, "out", buf, LEN, 64, NULL);
    const double expect = C4 * cases[c].ratio;
    CHECK_MSG(fabs(dsp_zero_cross_freq(buf, LEN, RATE) / expect - 1.0) < 0.001,
              "fm %g: %g Hz, expected %g", (double)cases[c].fm,
              dsp_zero_cross_freq(buf, LEN, RATE), expect);
    /* below -1 the phase runs backwards: the ramps fall */
    for (size_t i = 1; i < LEN; ++i) {
      ref[i - 1] = buf[i] - buf[i - 1];
    }
    qsort(ref, LEN - 1, sizeof(float), compare_floats);
    const double slope = ref[(LEN - 1) / 2]; /* the median skips the steps */
    const double expect_slope = 2.0 * C4 * (1.0 + cases[c].fm) / RATE;
    CHECK_NEAR(slope, expect_slope, fabs(expect_slope) * 0.01);
    harness_free(h);
  }

  /* fm = -1 stops the oscillator where it is */
  KindHarness* h = harness_new(&ch_kind_osc, RATE);
  harness_set(h, "shape", SINE);
  harness_render(h, "out", buf, 100, 64, NULL);
  harness_const_input(h, "fm", -1.0f);
  harness_render(h, "out", buf, 1000, 64, NULL);
  CHECK(buf[0] == buf[999]);
  CHECK(fabs(buf[0]) > 0.0f);
  harness_free(h);
}

/* A `shape` with its inputs and params off their defaults, and the level
   changed half way: smoothed per frame, not per block. */
static void
level_turned(const int shape, const uint32_t block)
{
  KindHarness* h = harness_new(&ch_kind_osc, RATE);
  harness_set_each(h, "shape", (float)shape, "pitch", 2.3f, "fine", 13.0f,
                   "level", 0.7f, NULL);
  harness_const_input(h, "pitch", 0.37f);
  harness_const_input(h, "fm", -0.3f);
  harness_const_input(h, "pw", -0.2f);
  harness_render(h, "out", buf, 4096, block, NULL);
  harness_set(h, "level", 0.2f);
  harness_render(h, "out", buf + 4096, 4096, block, NULL);
  harness_free(h);
}

static void
test_block_size_invariance(void)
{
  static const HarnessWire out[] = { { "out", buf }, { NULL, NULL } };
  for (int shape = 0; shape < 4; ++shape) {
    CHECK_MSG(harness_same_for_any_block(level_turned, shape, out, 8192), "%s",
              shape_names[shape]);
  }
}

static void
test_extremes_finite(void)
{
  static const float pitches[] = { -1000.0f, -10.0f, 0.0f, 10.0f, 1000.0f };
  static const float fms[]     = { -1e9f, -1.0f, 0.0f, 5.0f, 1e9f, NAN };
  for (int shape = 0; shape < 4; ++shape) {
    for (size_t p = 0; p < CH_COUNT(pitches); ++p) {
      for (size_t f = 0; f < CH_COUNT(fms); ++f) {
        KindHarness* h = harness_new(&ch_kind_osc, RATE);
        harness_set_each(h, "shape", (float)shape, "pitch", 6.0f, "fine",
                         100.0f, "pw", 0.95f, NULL);
        harness_const_input(h, "pitch", pitches[p]);
        harness_const_input(h, "fm", fms[f]);
        harness_const_input(h, "pw", 3.0f);
        harness_render(h, "out", buf, 4800, 256, NULL);
        CHECK_MSG(dsp_within(buf, 4800, -1.5f, 1.5f), "%s pitch in %g fm %g",
                  shape_names[shape], (double)pitches[p], (double)fms[f]);
        harness_free(h);
      }
    }
  }

  /* the top is held at 0.45 * Nyquist */
  KindHarness* h = harness_new(&ch_kind_osc, RATE);
  harness_set_each(h, "shape", (float)SINE, "pitch", 6.0f, NULL);
  harness_const_input(h, "pitch", 3.0f);
  harness_render(h, "out", buf, LEN, 64, NULL);
  CHECK_NEAR(dsp_zero_cross_freq(buf, LEN, RATE), 0.225 * RATE,
             0.225 * RATE * 0.001);
  harness_free(h);
}

/* With reset on, each note of the voice starts the wave at phase 0: two
   notes played at different times sound alike from their first sample.
   With it off the phase runs on. */
static void
test_reset_on_note(void)
{
  static float a[480];
  static float b[480];
  for (int reset = 0; reset <= 1; ++reset) {
    KindHarness* h = harness_new(&ch_kind_osc, RATE);
    harness_set_each(h, "shape", (float)SINE, "reset", (float)reset, NULL);
    h->host.voice[0].gate    = 1.0f;
    h->host.voice[0].trigger = 1u;
    harness_render(h, "out", a, 480, 64, NULL);
    harness_render(h, "out", buf, 777, 64, NULL); /* a stretch between */
    h->host.voice[0].trigger = 2u;
    harness_render(h, "out", b, 480, 64, NULL);
    const int same = !memcmp(a, b, sizeof(a));
    CHECK_MSG(same == reset, "reset %d", reset);
    if (reset) {
      CHECK(a[0] == 0.0f); /* a sine from phase 0 */
    }
    /* no note, no reset: a counter that moved with the gate low */
    h->host.voice[0].gate    = 0.0f;
    h->host.voice[0].trigger = 3u;
    harness_render(h, "out", b, 480, 64, NULL);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    harness_free(h);
  }
}

int
main(void)
{
  RUN(test_reset_on_note);
  RUN(test_frequency);
  RUN(test_pitch_input_adds);
  RUN(test_level_and_dc);
  RUN(test_level_smoothing);
  RUN(test_duty_cycle);
  RUN(test_harmonics);
  RUN(test_band_limited);
  RUN(test_images_at_top_notes);
  RUN(test_fm);
  RUN(test_block_size_invariance);
  RUN(test_extremes_finite);
  return CHECK_EXIT();
}
