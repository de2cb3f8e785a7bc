/* Output guards: the safety limiter that keeps the plugin's output under a
   ceiling whatever the patch does, and the non-finite check before it. */
#ifndef CH_LIMITER_H
#define CH_LIMITER_H

#include "kind.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The plugin's safety limiter: ceiling (-0.5 dBFS) and release (s). */
#define CH_LIMITER_CEILING 0.944f
#define CH_LIMITER_RELEASE 0.15f

/** State of a stereo peak limiter.  Plain data. */
typedef struct {
  float ceiling; /**< linear peak the output never exceeds */
  float release; /**< per-sample coefficient of the envelope's fall */
  float env;     /**< peak envelope, >= ceiling while limiting */
} ChLimiter;

/** A limiter at `ceiling` (linear) recovering over `release_s` seconds. */
void ch_limiter_init(ChLimiter* limiter,
                     float      rate,
                     float      ceiling,
                     float      release_s);

/**
   Limit `n` frames in place: instant attack (no overshoot, no latency),
   smooth release.  Below the ceiling the signal passes untouched.
   Real-time.
*/
CH_REALTIME void ch_limiter_process(ChLimiter* limiter,
                                    float*     left,
                                    float*     right,
                                    uint32_t   n);

/**
   The largest magnitude among `n` frames of both channels, or NaN or
   infinity if any sample is not finite.  Real-time.
*/
CH_REALTIME float ch_peak(const float* left, const float* right, uint32_t n);

/**
   If any of the `n` frames is NaN or infinite, silence them all and return
   false: a patch that blew up must not reach the speakers.  Real-time.
*/
CH_REALTIME bool ch_silence_nonfinite(float* left, float* right, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* CH_LIMITER_H */
