/* sin(2 pi t) by polynomial, for kernels that must not call libm per sample. */
#ifndef CH_MODULES_SINE_H
#define CH_MODULES_SINE_H

#include <stdint.h>

#define CH_TWO_PI 6.283185307179586

/* sin(2 pi t) for t in [0, 1): folded onto a quarter period either side
   of 0 (|x| <= pi/2), then the Taylor series to x^13, whose error there is
   below (pi/2)^15 / 15! = 7e-10, far under float resolution. */
static inline double
ch_sin2pi(const double t)
{
  const double s  = t < 0.25 ? t : (t < 0.75 ? 0.5 - t : t - 1.0);
  const double x  = CH_TWO_PI * s;
  const double x2 = x * x;
  return x *
         (1.0 + x2 * (-1.0 / 6 +
                      x2 * (1.0 / 120 +
                            x2 * (-1.0 / 5040 +
                                  x2 * (1.0 / 362880 +
                                        x2 * (-1.0 / 39916800 +
                                              x2 * (1.0 / 6227020800.0)))))));
}

/* sin(x) for any finite x within +-2^52: x in turns, wrapped to [0, 1)
   without a libm call, then ch_sin2pi. */
static inline double
ch_sin(const double x)
{
  const double t = x * (1.0 / CH_TWO_PI);
  double       w = t - (double)(int64_t)t; /* in (-1, 1) */
  w += w < 0.0 ? 1.0 : 0.0;
  return ch_sin2pi(w < 1.0 ? w : 0.0);
}

#endif /* CH_MODULES_SINE_H */
