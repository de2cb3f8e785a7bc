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
ch_limiter_process(ChLimiter* const limiter,
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

CH_REALTIME bool
ch_silence_nonfinite(float* const left, float* const right, const uint32_t n)
{
  bool finite = true;
  for (uint32_t i = 0; i < n; ++i) {
    finite = finite && isfinite(left[i]) && isfinite(right[i]);
  }
  if (!finite) {
    memset(left, 0, n * sizeof(float));
    memset(right, 0, n * sizeof(float));
  }
  return finite;
}
