/* A peak limiter with instant attack: the gain is ceiling / envelope while
   the envelope is above the ceiling; the envelope jumps up to any louder
   peak and falls back exponentially. */
#include "limiter.h"

#include <math.h>
#include <string.h>

void
ch_limiter_init(ChLimiter* const limiter,
                const float      rate,
                const float      ceiling,
                const float      release_s)
{
  limiter->ceiling = ceiling;
  limiter->release = expf(-1.0f / (release_s * rate));
  limiter->env     = ceiling;
}

CH_REALTIME void
ch_limiter_run(ChLimiter* const limiter,
               float* const     left,
               float* const     right,
               const uint32_t   n)
{
  const float ceiling = limiter->ceiling;
  const float release = limiter->release;
  float       env     = limiter->env;
  for (uint32_t i = 0; i < n; ++i) {
    const float peak = fmaxf(fabsf(left[i]), fabsf(right[i]));
    /* Once the envelope has fallen below the ceiling, the gain is 1. */
    env = fmaxf(peak, env * release);
    if (env > ceiling) {
      const float gain = ceiling / env;
      left[i] *= gain;
      right[i] *= gain;
    }
  }
  limiter->env = env;
}

/* Below the ceiling the envelope's value is never heard: from there, it
   next rises above the ceiling exactly when a peak does, and then equals
   that peak.  So a block that stays below leaves it as it is, unread. */
CH_REALTIME void
ch_limiter_process(ChLimiter* const limiter,
                   float* const     left,
                   float* const     right,
                   const uint32_t   n)
{
  if (limiter->env <= limiter->ceiling &&
      ch_peak(left, right, n) <= limiter->ceiling) {
    return;
  }
  ch_limiter_run(limiter, left, right, n);
}

/* Finite |x| order as their bits do, and NaN and infinity have the
   largest exponent: so one integer maximum over the bits, which the
   compiler vectorises, is both the peak and the finiteness check. */
CH_REALTIME float
ch_peak_loop(const float* const left,
             const float* const right,
             const uint32_t     n)
{
  int32_t top = 0;
  for (uint32_t i = 0; i < n; ++i) {
    int32_t l = 0;
    int32_t r = 0;
    memcpy(&l, left + i, sizeof(l));
    memcpy(&r, right + i, sizeof(r));
    l &= INT32_MAX; /* |x|, a non-negative int */
    r &= INT32_MAX;
    top = l > top ? l : top;
    top = r > top ? r : top;
  }
  float peak = 0.0f;
  memcpy(&peak, &top, sizeof(peak));
  return peak;
}

CH_REALTIME bool
ch_silence_nonfinite(float* const left, float* const right, const uint32_t n)
{
  if (isfinite(ch_peak(left, right, n))) {
    return true;
  }
  memset(left, 0, n * sizeof(float));
  memset(right, 0, n * sizeof(float));
  return false;
}
