/* Output guards: the safety limiter that keeps the plugin's output under a
   ceiling whatever the patch does, and the non-finite check before it. */
#ifndef CH_LIMITER_H
#define CH_LIMITER_H

#include "kind.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
   The limiter's per-sample loop over `n` frames, whatever their peak (what
   ch_limiter_process runs unless the block and the envelope stay below the
   ceiling).  Real-time.
*/
CH_REALTIME void ch_limiter_run(ChLimiter* limiter,
                                float*     left,
                                float*     right,
                                uint32_t   n);

/**
   As ch_limiter_process, for a block whose ch_peak() the caller already
   has (the plugin takes it once for its guards, the limiter and the
   meter).  Returns false when it left the block as it was.  Inline: the
   plugin calls it every cycle, and it mostly returns at once.  Real-time.
*/
static inline CH_REALTIME bool
ch_limiter_process_peak(ChLimiter* const limiter,
                        float* const     left,
                        float* const     right,
                        const uint32_t   n,
                        const float      peak)
{
  if (limiter->env <= limiter->ceiling && peak <= limiter->ceiling) {
    return false;
  }
  ch_limiter_run(limiter, left, right, n);
  return true;
}

/** ch_peak() of any number of frames, by a loop the compiler vectorises. */
CH_REALTIME float ch_peak_loop(const float* left,
                               const float* right,
                               uint32_t     n);

/**
   The largest magnitude among `n` frames of both channels, or NaN or
   infinity if any sample is not finite.  Inline for one frame: the plugin
   takes the peak of every span it renders, and at block 1 the loop's
   call and set-up were most of it.  Real-time.
*/
static inline CH_REALTIME float
ch_peak(const float* const left, const float* const right, const uint32_t n)
{
  if (n != 1) {
    return ch_peak_loop(left, right, n);
  }
  int32_t l = 0; /* as ch_peak_loop: the bits of |x| in integer order */
  int32_t r = 0;
  memcpy(&l, left, sizeof(l));
  memcpy(&r, right, sizeof(r));
  l &= INT32_MAX;
  r &= INT32_MAX;
  const int32_t top  = l > r ? l : r;
  float         peak = 0.0f;
  memcpy(&peak, &top, sizeof(peak));
  return peak;
}

/**
   If any of the `n` frames is NaN or infinite, silence them all and return
   false: a patch that blew up must not reach the speakers.  Real-time.
*/
CH_REALTIME bool ch_silence_nonfinite(float* left, float* right, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* CH_LIMITER_H */
