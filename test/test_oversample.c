/* Tests of the 4x oversampler (src/modules/oversample.h) the shaper uses
   and the 8x one of the ladder: the flat passband, the images it stops, and the
   whole-sample latency its header promises. */
#include "../src/modules/oversample.h"
#include "check.h"
#include "dsp.h"

#define RATE 48000.0
#define LEN  48000u

static float         in[LEN];
static float         up[CH_OS_FACTOR * LEN];
static float         out[LEN];
static ChOversampler os;

static void
round_trip(const double freq, const uint32_t block)
{
  ch_os_init(&os);
  dsp_sine(in, LEN, 1.0, freq, RATE);
  for (uint32_t i = 0; i < LEN; i += block) {
    const uint32_t n = LEN - i < block ? LEN - i : block;
    ch_os_up(&os, in + i, up + CH_OS_FACTOR * i, n);
    ch_os_down(&os, up + CH_OS_FACTOR * i, out + i, n);
  }
}

static void
test_passband_flat(void)
{
  static const double freqs[] = { 50.0, 1000.0, 10000.0, 18000.0, 20000.0 };
  for (size_t f = 0; f < CH_COUNT(freqs); ++f) {
    round_trip(freqs[f], 256u);
    const double db =
      dsp_db(dsp_tone_level_bh(out + 8192, 16384, freqs[f], RATE));
    fprintf(stderr, "  %5.0f Hz: %+.4f dB\n", freqs[f], db);
    CHECK_NEAR(db, 0.0, 0.001); /* as the header says */
  }
}

/* Going up, a tone's images (at 96 kHz +- f and 192 kHz - f, and 48 kHz
   +- f after the first stage) must be more than 95 dB down. */
static void
test_images_stopped(void)
{
  static const double freqs[] = { 1000.0, 10000.0, 18000.0, 20000.0 };
  const double        rate4   = CH_OS_FACTOR * RATE;
  for (size_t f = 0; f < CH_COUNT(freqs); ++f) {
    round_trip(freqs[f], 256u);
    const double images[] = { RATE - freqs[f], RATE + freqs[f],
                              2.0 * RATE - freqs[f], 2.0 * RATE + freqs[f] };
    double       worst    = 0.0;
    for (size_t k = 0; k < CH_COUNT(images); ++k) {
      worst =
        fmax(worst, dsp_tone_level_bh(up + 32768, 65536, images[k], rate4));
    }
    fprintf(stderr, "  %5.0f Hz: worst image %.1f dB\n", freqs[f],
            dsp_db(worst));
    CHECK(dsp_db(worst) < -95.0);
  }
}

/* An impulse comes back CH_OS_LATENCY samples later, whatever the block
   length, as the dry path of the shaper assumes. */
static void
test_latency_whole_samples(void)
{
  static const uint32_t blocks[] = { 1u, 7u, 256u };
  for (size_t b = 0; b < CH_COUNT(blocks); ++b) {
    ch_os_init(&os);
    memset(in, 0, sizeof(in));
    in[100] = 1.0f;
    for (uint32_t i = 0; i < 1024u; i += blocks[b]) {
      const uint32_t n = 1024u - i < blocks[b] ? 1024u - i : blocks[b];
      ch_os_up(&os, in + i, up + CH_OS_FACTOR * i, n);
      ch_os_down(&os, up + CH_OS_FACTOR * i, out + i, n);
    }
    uint32_t peak = 0;
    for (uint32_t i = 0; i < 1024u; ++i) {
      peak = fabsf(out[i]) > fabsf(out[peak]) ? i : peak;
    }
    CHECK(peak == 100u + CH_OS_LATENCY);
    /* symmetric about its peak: linear phase, no half-sample lean */
    CHECK_NEAR(out[peak - 1u], out[peak + 1u], 1e-6);
  }
}

/* The 8x round trip: as flat, its images (at 192 kHz +- f after the
   third stage) as far down, and its latency whole too. */
static void
test_8x_flat_and_stopped(void)
{
  static ChOversampler8 os8;
  static float          up8[CH_OS8_FACTOR * LEN];
  static const double   freqs[] = { 1000.0, 10000.0, 20000.0 };
  for (size_t f = 0; f < CH_COUNT(freqs); ++f) {
    ch_os8_init(&os8);
    dsp_sine(in, LEN, 1.0, freqs[f], RATE);
    for (uint32_t i = 0; i < LEN; i += 256u) {
      const uint32_t n = LEN - i < 256u ? LEN - i : 256u;
      ch_os8_up(&os8, in + i, up8 + CH_OS8_FACTOR * i, n);
      ch_os8_down(&os8, up8 + CH_OS8_FACTOR * i, out + i, n);
    }
    const double db =
      dsp_db(dsp_tone_level_bh(out + 8192, 16384, freqs[f], RATE));
    const double rate8 = CH_OS8_FACTOR * RATE;
    const double image = fmax(
      dsp_tone_level_bh(up8 + 65536, 131072, 4.0 * RATE - freqs[f], rate8),
      dsp_tone_level_bh(up8 + 65536, 131072, 4.0 * RATE + freqs[f], rate8));
    fprintf(stderr, "  8x %5.0f Hz: %+.4f dB, image %.1f dB\n", freqs[f], db,
            dsp_db(image));
    CHECK_NEAR(db, 0.0, 0.001);
    CHECK(dsp_db(image) < -95.0);
  }
  ch_os8_init(&os8);
  memset(in, 0, sizeof(in));
  in[100] = 1.0f;
  ch_os8_up(&os8, in, up8, 256u);
  ch_os8_down(&os8, up8, out, 256u);
  uint32_t peak = 0;
  for (uint32_t i = 0; i < 256u; ++i) {
    peak = fabsf(out[i]) > fabsf(out[peak]) ? i : peak;
  }
  CHECK(peak == 100u + CH_OS8_LATENCY);
  CHECK_NEAR(out[peak - 1u], out[peak + 1u], 1e-6);
}

int
main(void)
{
  RUN(test_passband_flat);
  RUN(test_images_stopped);
  RUN(test_latency_whole_samples);
  RUN(test_8x_flat_and_stopped);
  return CHECK_EXIT();
}
