/* The output safety limiter: transparent below the ceiling, never above
   it, and it lets go smoothly. */
#include "../src/limiter.h"
#include "check.h"
#include "dsp.h"

#define RATE 48000.0f

/* A fresh limiter of `ceiling` and `release` seconds over n frames. */
static void
limit(const float    ceiling,
      const float    release,
      float* const   left,
      float* const   right,
      const uint32_t n)
{
  ChLimiter limiter;
  ch_limiter_init(&limiter, RATE, ceiling, release);
  ch_limiter_process(&limiter, left, right, n);
}

static void
test_transparent_below_ceiling(void)
{
  float left[4800];
  float right[4800];
  for (int i = 0; i < 4800; ++i) {
    left[i]  = 0.85f * sinf(2.0f * (float)M_PI * 440.0f * (float)i / RATE);
    right[i] = -left[i];
  }
  float copy[4800];
  memcpy(copy, left, sizeof(copy));
  limit(0.9f, 0.1f, left, right, 4800);
  CHECK(!memcmp(copy, left, sizeof(copy)));
}

static void
test_never_above_ceiling(void)
{
  ChLimiter limiter;
  ch_limiter_init(&limiter, RATE, 0.9f, 0.1f);
  enum { N = 48000 };
  static float left[N];
  static float right[N];
  for (int i = 0; i < N; ++i) {
    const float t = (float)i / RATE;
    left[i]       = 8.0f * sinf(2.0f * (float)M_PI * 110.0f * t);
    right[i]      = 0.5f * left[i];
  }
  ch_limiter_process(&limiter, left, right, N);
  CHECK(dsp_peak(left, N) <= 0.9f + 1e-6f);
  CHECK(dsp_peak(right, N) <= 0.9f + 1e-6f);
  CHECK_NEAR(dsp_rms(left + N / 2, N / 2), 0.9 / sqrt(2.0), 0.02);

  /* A huge spike is held to the ceiling too. */
  left[0]  = 1e30f;
  right[0] = -1e30f;
  ch_limiter_process(&limiter, left, right, 1);
  CHECK(fabsf(left[0]) <= 0.9f + 1e-6f && fabsf(right[0]) <= 0.9f + 1e-6f);
}

static void
test_releases_smoothly(void)
{
  float left[9600];
  float right[9600];
  for (int i = 0; i < 9600; ++i) {
    left[i] = right[i] = i < 100 ? 2.0f : 0.25f;
  }
  limit(0.5f, 0.05f, left, right, 9600);
  CHECK_NEAR(left[50], 0.5, 1e-6);
  /* Right after the burst the quiet part is still turned down, then it
     comes back up without a step. */
  CHECK(left[101] < 0.25f * 0.5f);
  CHECK(left[9599] == 0.25f); /* fully back: the envelope fell below */
  double biggest = 0.0;
  for (int i = 102; i < 9600; ++i) {
    biggest = fmax(biggest, fabs((double)left[i] - left[i - 1]));
  }
  CHECK_MSG(biggest < 1e-3, "step %g", biggest);
}

static void
test_nonfinite_blocks_are_silenced(void)
{
  float left[64];
  float right[64];
  for (int i = 0; i < 64; ++i) {
    left[i] = right[i] = 0.5f;
  }
  CHECK(ch_silence_nonfinite(left, right, 64));
  CHECK(left[10] == 0.5f && right[63] == 0.5f);
  right[40] = NAN;
  CHECK(!ch_silence_nonfinite(left, right, 64));
  CHECK(dsp_peak(left, 64) == 0.0 && dsp_peak(right, 64) == 0.0);
  left[3] = -INFINITY;
  CHECK(!ch_silence_nonfinite(left, right, 64));
  CHECK(left[3] == 0.0f);
}

/* The limiter as one plain per-sample loop: what ch_limiter_process must
   equal bit for bit, whatever blocks it skips. */
static float
reference_limit(float        env,
                const float  ceiling,
                const float  release,
                float* const left,
                float* const right,
                const int    n)
{
  for (int i = 0; i < n; ++i) {
    env = fmaxf(fmaxf(fabsf(left[i]), fabsf(right[i])), env * release);
    if (env > ceiling) {
      left[i] *= ceiling / env;
      right[i] *= ceiling / env;
    }
  }
  return env;
}

static void
test_skipped_blocks_change_nothing(void)
{
  enum { N = 24000 };
  static float left[N];
  static float right[N];
  static float ref_l[N];
  static float ref_r[N];
  for (int i = 0; i < N; ++i) {
    /* bursts above the ceiling, quiet stretches, and in between */
    const float burst = (i / 3000) % 2 ? 1.6f : 0.3f;
    left[i]           = burst * sinf(0.013f * (float)i);
    right[i]          = -0.7f * left[i];
  }
  memcpy(ref_l, left, sizeof(left));
  memcpy(ref_r, right, sizeof(right));
  ChLimiter limiter;
  ch_limiter_init(&limiter, RATE, 0.9f, 0.02f);
  reference_limit(limiter.env, limiter.ceiling, limiter.release, ref_l, ref_r,
                  N);
  const int sizes[] = { 1, 7, 64, 256, 13 };
  for (int at = 0, k = 0; at < N; ++k) {
    const int n = N - at < sizes[k % 5] ? N - at : sizes[k % 5];
    ch_limiter_process(&limiter, left + at, right + at, (uint32_t)n);
    at += n;
  }
  CHECK(!memcmp(left, ref_l, sizeof(left)));
  CHECK(!memcmp(right, ref_r, sizeof(right)));
}

static void
test_peak_is_the_largest_magnitude(void)
{
  float left[37];
  float right[37];
  for (int i = 0; i < 37; ++i) {
    left[i]  = 0.01f * (float)i;
    right[i] = -0.02f * (float)i;
  }
  CHECK(ch_peak(left, right, 37) == -right[36]);
  right[36] = 0.0f;
  left[36]  = -0.75f;
  CHECK(ch_peak(left, right, 37) == 0.75f);
  CHECK(ch_peak(left, right, 1) == 0.0f);
  left[20] = INFINITY;
  CHECK(!isfinite(ch_peak(left, right, 37)));
  left[20] = 0.2f;
  right[5] = -NAN;
  CHECK(!isfinite(ch_peak(left, right, 37)));
  CHECK(ch_peak(left, right, 5) == -right[4]);
}

/* One frame has a path of its own (inline): it must give what the loop
   gives, the larger magnitude or the non-finite value's bits. */
static void
test_peak_of_one_frame_is_the_loops(void)
{
  const float  values[] = { 0.0f,     -0.0f, 0.5f, -0.75f, 1e-40f,  -INFINITY,
                            INFINITY, NAN,   -NAN, 3.0f,   -1e-30f, 16.5f };
  const size_t n        = sizeof(values) / sizeof(values[0]);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const float one  = ch_peak(&values[i], &values[j], 1);
      const float loop = ch_peak_loop(&values[i], &values[j], 1);
      CHECK_MSG(!memcmp(&one, &loop, sizeof(one)), "%g and %g: %g, not %g",
                (double)values[i], (double)values[j], (double)one,
                (double)loop);
    }
  }
  CHECK(ch_peak(&values[3], &values[2], 1) == 0.75f);
  CHECK(!isfinite(ch_peak(&values[2], &values[8], 1)));
}

int
main(void)
{
  RUN(test_skipped_blocks_change_nothing);
  RUN(test_peak_is_the_largest_magnitude);
  RUN(test_peak_of_one_frame_is_the_loops);
  RUN(test_nonfinite_blocks_are_silenced);
  RUN(test_transparent_below_ceiling);
  RUN(test_never_above_ceiling);
  RUN(test_releases_smoothly);
  return CHECK_EXIT();
}
