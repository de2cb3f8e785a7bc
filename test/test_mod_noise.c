/* Tests of the `noise` module kind: level, spectrum, seeding, determinism. */
#define _POSIX_C_SOURCE 200809L /* popen, to run this program again */

#include "check.h"
#include "dsp.h"

#include <stdint.h>
#include <stdio.h>

extern const ChKind ch_kind_noise;

#define RATE      48000.0f
#define LEN       (10u * 48000u)
#define FIRST_LEN 64u

static float buf[LEN];
static float other[LEN];

/* The output of the first instance this process made, see main(). */
static float       first[FIRST_LEN];
static const char* self_path;

static KindHarness*
make(const float color, const float level)
{
  return harness_with(&ch_kind_noise, RATE, "color", color, "level", level,
                      NULL);
}

static void
test_white_level(void)
{
  KindHarness* h = make(0.0f, 1.0f);
  harness_render(h, "out", buf, LEN, 256, NULL);
  /* uniform in [-1, 1): mean 0, RMS 1/sqrt(3), never reaching 1 */
  CHECK_NEAR(dsp_mean(buf, LEN), 0.0, 0.005);
  CHECK_NEAR(dsp_rms(buf, LEN), 1.0 / sqrt(3.0), 0.002);
  CHECK(dsp_peak(buf, LEN) <= 1.0);
  CHECK(dsp_peak(buf, LEN) > 0.999);
  /* a flat histogram: each quarter of the range holds a quarter */
  size_t quarter[4] = { 0, 0, 0, 0 };
  for (size_t i = 0; i < LEN; ++i) {
    const int q = (int)floor((buf[i] + 1.0f) * 2.0f);
    ++quarter[q < 0 ? 0 : (q > 3 ? 3 : q)];
  }
  for (int q = 0; q < 4; ++q) {
    CHECK_NEAR((double)quarter[q] / LEN, 0.25, 0.005);
  }
  harness_free(h);
}

static void
test_pink_level(void)
{
  KindHarness* h = make(1.0f, 1.0f);
  harness_render(h, "out", buf, LEN, 256, NULL);
  /* documented: the same RMS as white */
  CHECK_NEAR(dsp_rms(buf, LEN), 1.0 / sqrt(3.0), 0.03);
  /* below 5 Hz it is blocked: the mean of 10 s stays near 0 */
  CHECK_NEAR(dsp_mean(buf, LEN), 0.0, 1e-3);
  harness_free(h);
}

static void
test_level_scales(void)
{
  static const float colors[] = { 0.0f, 1.0f };
  for (size_t c = 0; c < CH_COUNT(colors); ++c) {
    KindHarness* a = make(colors[c], 1.0f);
    KindHarness* b = make(colors[c], 0.3f);
    memcpy(b->state, a->state, ch_kind_noise.state_size); /* same stream */
    harness_render(a, "out", buf, 48000, 256, NULL);
    harness_render(b, "out", other, 48000, 256, NULL);
    double err = 0.0;
    for (size_t i = 0; i < 48000; ++i) {
      err = fmax(err, fabs(other[i] - 0.3 * buf[i]));
    }
    CHECK(err < 1e-6);
    CHECK_NEAR(dsp_rms(other, 48000) / dsp_rms(buf, 48000), 0.3, 1e-6);
    harness_free(a);
    harness_free(b);
  }

  KindHarness* h = make(0.0f, 0.0f);
  harness_render(h, "out", buf, 4800, 256, NULL);
  CHECK(dsp_peak(buf, 4800) == 0.0);
  harness_free(h);
}

static void
test_instances_differ(void)
{
  KindHarness* a = make(0.0f, 1.0f);
  KindHarness* b = make(0.0f, 1.0f);
  harness_render(a, "out", buf, 48000, 256, NULL);
  harness_render(b, "out", other, 48000, 256, NULL);
  /* two noise modules are uncorrelated, not copies */
  double ab = 0.0;
  for (size_t i = 0; i < 48000; ++i) {
    ab += (double)buf[i] * other[i];
  }
  const double corr =
    ab / (48000.0 * dsp_rms(buf, 48000) * dsp_rms(other, 48000));
  CHECK(fabs(corr) < 0.02);
  harness_free(a);
  harness_free(b);
}

static void
test_state_copy_continues(void)
{
  /* a hot swap copies the state: the copy must go on with the same stream */
  KindHarness* a = make(1.0f, 1.0f);
  harness_render(a, "out", buf, 1000, 256, NULL);
  KindHarness* b = make(1.0f, 1.0f);
  memcpy(b->state, a->state, ch_kind_noise.state_size);
  harness_render(a, "out", buf, 4096, 256, NULL);
  harness_render(b, "out", other, 4096, 256, NULL);
  CHECK(!memcmp(buf, other, 4096 * sizeof(float)));
  harness_free(a);
  harness_free(b);
}

static void
test_block_size_invariance(void)
{
  for (size_t b = 0; b < CH_COUNT(harness_blocks); ++b) {
    KindHarness* a = make(1.0f, 0.8f);
    KindHarness* c = make(1.0f, 0.8f);
    memcpy(c->state, a->state, ch_kind_noise.state_size);
    harness_render(a, "out", buf, 5000, 256, NULL);
    harness_render(c, "out", other, 5000, harness_blocks[b], NULL);
    CHECK(!memcmp(buf, other, 5000 * sizeof(float)));
    harness_free(a);
    harness_free(c);
  }
}

static void
test_deterministic_across_runs(void)
{
  /* run this program again: its first instance must sound the same */
  char command[4096];
  snprintf(command, sizeof(command), "'%s' --first", self_path);
  FILE* pipe = popen(command, "r");
  CHECK(pipe != NULL);
  if (!pipe) {
    return;
  }
  size_t same = 0;
  for (size_t i = 0; i < FIRST_LEN; ++i) {
    unsigned long bits = 0;
    uint32_t      mine = 0;
    memcpy(&mine, &first[i], sizeof(mine));
    if (fscanf(pipe, "%lx", &bits) == 1 && bits == mine) {
      ++same;
    }
  }
  CHECK(pclose(pipe) == 0);
  CHECK(same == FIRST_LEN);
  CHECK(dsp_rms(first, FIRST_LEN) > 0.1); /* and it is noise, not silence */
}

/* Mean power at `freq` over segments of the signal: a smoothed spectrum. */
static double
band_power(const float* x, const size_t n, const double freq)
{
  const size_t seg   = 8192;
  double       sum   = 0.0;
  size_t       count = 0;
  for (size_t at = 0; at + seg <= n; at += seg) {
    const double level = dsp_tone_level(x + at, seg, freq, RATE);
    sum += level * level;
    ++count;
  }
  return sum / (double)count;
}

/* Slope of the spectrum in dB per octave, 100 Hz .. 12.8 kHz, by least
   squares over 8 points an octave. */
static double
spectral_slope(const float* x, const size_t n)
{
  double sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0;
  int    m = 0;
  for (int k = 0; k <= 56; ++k) {
    const double oct = k / 8.0;
    const double db  = 10.0 * log10(band_power(x, n, 100.0 * exp2(oct)));
    sx += oct;
    sy += db;
    sxx += oct * oct;
    sxy += oct * db;
    ++m;
  }
  return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

static void
test_spectrum(void)
{
  const size_t n = 32u * 8192u; /* 5.5 s */

  KindHarness* w = make(0.0f, 1.0f);
  harness_render(w, "out", buf, n, 256, NULL);
  const double white = spectral_slope(buf, n);
  harness_free(w);

  KindHarness* p = make(1.0f, 1.0f);
  harness_render(p, "out", buf, n, 256, NULL);
  const double pink = spectral_slope(buf, n);
  /* half-octave band energies four octaves apart: 3 dB per octave */
  double low = 0.0, high = 0.0;
  for (int k = -4; k <= 4; ++k) {
    low += band_power(buf, n, 250.0 * exp2(k / 16.0));
    high += band_power(buf, n, 4000.0 * exp2(k / 16.0));
  }
  const double drop = 10.0 * log10(low / high) / 4.0;
  harness_free(p);

  printf("  slope: white %.2f dB/octave, pink %.2f dB/octave (%.2f from 250 Hz "
         "to 4 kHz)\n",
         white, pink, -drop);
  CHECK_NEAR(white, 0.0, 0.25);
  CHECK_NEAR(pink, -3.01, 0.25);
  CHECK_NEAR(drop, 3.01, 0.3);
}

int
main(int argc, char** argv)
{
  /* the first instance of a process, for test_deterministic_across_runs */
  KindHarness* h = make(0.0f, 1.0f);
  harness_render(h, "out", first, FIRST_LEN, 256, NULL);
  harness_free(h);
  if (argc > 1 && !strcmp(argv[1], "--first")) {
    for (size_t i = 0; i < FIRST_LEN; ++i) {
      uint32_t bits = 0;
      memcpy(&bits, &first[i], sizeof(bits));
      printf("%lx\n", (unsigned long)bits);
    }
    return 0;
  }
  self_path = argv[0];

  RUN(test_white_level);
  RUN(test_pink_level);
  RUN(test_level_scales);
  RUN(test_instances_differ);
  RUN(test_state_copy_continues);
  RUN(test_block_size_invariance);
  RUN(test_deterministic_across_runs);
  RUN(test_spectrum);
  return CHECK_EXIT();
}
