/* A saturating curve for module kinds that drive a signal into one (the
   ladder's loop, the shaper's tanh): tanh as a cheap rational. */
#ifndef CH_SATURATE_H
#define CH_SATURATE_H

#include <math.h>

/*
   tanh as the [3/2] Pade-like rational x (27 + x^2) / (27 + 9 x^2), with x
   clamped to +-3: there it reaches exactly +-1 with zero slope, so the
   curve is smooth, odd and monotonic (its slope is 9 (x^2 - 9)^2 over a
   square), slope 1 at 0, within 0.025 of tanh.  The clamp also turns a NaN
   into -3 (fmaxf drops NaN), so a NaN input cannot poison the state.
*/
static inline float
ch_fast_tanh(const float x)
{
  const float c  = fminf(fmaxf(x, -3.0f), 3.0f);
  const float c2 = c * c;
  /* float rounding near +-3 can land 1 ulp past +-1 */
  return fminf(fmaxf(c * (27.0f + c2) / (27.0f + 9.0f * c2), -1.0f), 1.0f);
}

#endif /* CH_SATURATE_H */
