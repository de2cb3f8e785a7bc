/* Parameter smoothing shared by module kinds: a 5 ms one-pole glide, in
   double (a float one stalls short of its target), landing exactly on its
   target per sample, so that block lengths never change the output. */
#ifndef CH_SMOOTH_H
#define CH_SMOOTH_H

#include <math.h>

/* Short enough to follow a knob, long enough that a step does not click. */
#define CH_SMOOTH_SECONDS 0.005
/* Once this close, a glide lands on its target (no denormal tail). */
#define CH_SMOOTH_SNAP 1e-6

/** The coefficient of a one-pole lag with time constant `seconds`. */
static inline double
ch_one_pole_coef(const double seconds, const float rate)
{
  return 1.0 - exp(-1.0 / (seconds * (double)rate));
}

/** The per-sample coefficient, recomputed only when the rate changes. */
typedef struct {
  double coef;
  float  rate;
} ChSmoother;

static inline double
ch_smoother_coef(ChSmoother* const s, const float rate)
{
  if (rate != s->rate) {
    s->rate = rate;
    s->coef = ch_one_pole_coef(CH_SMOOTH_SECONDS, rate);
  }
  return s->coef;
}

/**
   One sample of a glide from `value` towards `target` with `coef` (a
   parameter's ch_smoother_coef, or a kind's own lag such as a delay
   time's), landing on `target` once within CH_SMOOTH_SNAP.
*/
static inline double
ch_smooth_step(const double value, const double target, const double coef)
{
  if (value == target) {
    return value;
  }
  const double next = value + coef * (target - value);
  return fabs(target - next) < CH_SMOOTH_SNAP ? target : next;
}

#endif /* CH_SMOOTH_H */
