/* A DC blocker for module kinds: a one-pole high-pass at CH_DC_CORNER Hz,
   for stages that can make DC or subsonic content (drive, pulse width,
   the output), so it never reaches a speaker or eats headroom. */
#ifndef CH_DCBLOCK_H
#define CH_DCBLOCK_H

#include <math.h>

/* Low enough to leave the lowest note (C0, 16 Hz) nearly whole (-0.4 dB),
   high enough that an offset dies away in a few tenths of a second (time
   constant 32 ms). */
#define CH_DC_CORNER 5.0f

/**
   y[n] = x[n] - x[n-1] + r y[n-1], r = exp(-2 pi fc / rate): a zero at DC
   and a pole just inside it; -3 dB at fc, flat above.  State in double, so
   that the pole's 1 - r (6.5e-4 at 48 kHz) keeps its precision.
*/
typedef struct {
  double x1;
  double y1;
  double r;
  float  rate;
  float  corner;
} ChDcBlock;

/** The pole for a corner and rate, recomputed only when they change. */
static inline void
ch_dc_setup(ChDcBlock* const s, const float corner, const float rate)
{
  if (rate != s->rate || corner != s->corner) {
    s->rate   = rate;
    s->corner = corner;
    s->r = exp(-2.0 * 3.14159265358979323846 * (double)corner / (double)rate);
  }
}

/** One sample.  Real-time. */
static inline float
ch_dc_step(ChDcBlock* const s, const float x)
{
  const double y = (double)x - s->x1 + s->r * s->y1;
  s->x1          = (double)x;
  /* the tail ends at -200 dB: no denormals, and a module may rest */
  s->y1 = fabs(y) < 1e-10 ? 0.0 : y;
  return (float)y;
}

/** Whether silence in gives exact silence out, the state unchanged. */
static inline int
ch_dc_at_rest(const ChDcBlock* const s)
{
  return s->x1 == 0.0 && s->y1 == 0.0;
}

#endif /* CH_DCBLOCK_H */
