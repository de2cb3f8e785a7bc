/* Prints the step-residual polynomials of src/modules/osc.c (not built by waf:
 * cc -O2 blep.c -lm). */
#include "../../src/modules/oversample.h" /* its Kaiser window's I0 */

#include <math.h>
#include <stdio.h>

/*
   The kernel: a sinc with cutoff FC (fraction of the rate) under a Kaiser
   window of half-width REACH samples and shape BETA, normalised to unit
   area.  The residual of a unit step at distance a > 0 after it is minus
   the kernel's area beyond a; it is odd in a.  Each sample segment
   [j, j + 1) gets the least-squares polynomial of degree DEGREE in a - j
   over Chebyshev nodes.  FC, BETA and REACH were chosen by rendering saws
   and squares C6..C7 against dsp_alias_db (test/dsp.h): a lower BETA
   trades sidelobes for a steeper transition, which the top octave wants,
   but the sidelobe near the rate folds partials to just under the note;
   4 samples either side at BETA 6 keeps both down (-75 and -94 dB).
*/
#define FC     0.36
#define BETA   6.0
#define REACH  4
#define DEGREE 5
#define NODES  200

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

static double
kernel(const double t)
{
  if (fabs(t) >= REACH) {
    return 0.0;
  }
  const double r = t / REACH;
  const double win =
    ch_os_bessel_i0(BETA * sqrt(1.0 - r * r)) / ch_os_bessel_i0(BETA);
  const double x = 2.0 * FC * t;
  const double s = fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x);
  return 2.0 * FC * s * win;
}

/* The kernel's area from a to the reach (Simpson). */
static double
area_from(const double a)
{
  const int    n = 2000;
  const double h = (REACH - a) / n;
  double       s = kernel(a) + kernel(REACH);
  for (int i = 1; i < n; ++i) {
    s += kernel(a + i * h) * (i % 2 ? 4.0 : 2.0);
  }
  return s * h / 3.0;
}

/* Least squares by the normal equations, solved with partial pivoting. */
static void
fit_segment(const int j, const double total, double* const coef)
{
  enum { M = DEGREE + 1 };
  double a[M][M + 1] = { { 0.0 } };
  for (int q = 0; q < NODES; ++q) {
    const double x = 0.5 - 0.5 * cos(M_PI * (q + 0.5) / NODES);
    const double y = -area_from(j + x) / total;
    double       p[M];
    p[0] = 1.0;
    for (int k = 1; k < M; ++k) {
      p[k] = p[k - 1] * x;
    }
    for (int r = 0; r < M; ++r) {
      for (int c = 0; c < M; ++c) {
        a[r][c] += p[r] * p[c];
      }
      a[r][M] += p[r] * y;
    }
  }
  for (int c = 0; c < M; ++c) {
    int piv = c;
    for (int r = c + 1; r < M; ++r) {
      piv = fabs(a[r][c]) > fabs(a[piv][c]) ? r : piv;
    }
    for (int k = 0; k <= M; ++k) {
      const double t = a[c][k];
      a[c][k]        = a[piv][k];
      a[piv][k]      = t;
    }
    for (int r = 0; r < M; ++r) {
      const double f = r == c ? 0.0 : a[r][c] / a[c][c];
      for (int k = 0; k <= M; ++k) {
        a[r][k] -= f * a[c][k];
      }
    }
  }
  for (int k = 0; k < M; ++k) {
    coef[k] = a[k][M] / a[k][k];
  }
}

int
main(void)
{
  const double total = area_from(-REACH);
  double       worst = 0.0;
  for (int j = 0; j < REACH; ++j) {
    double c[DEGREE + 1];
    fit_segment(j, total, c);
    printf("  {");
    for (int k = 0; k <= DEGREE; ++k) {
      printf(" %.10e%s", c[k], k < DEGREE ? "," : " },\n");
    }
    for (double x = 0.0; x < 1.0; x += 1.0 / 1024.0) {
      double v = 0.0;
      for (int k = DEGREE; k >= 0; --k) {
        v = v * x + c[k];
      }
      worst = fmax(worst, fabs(v + area_from(j + x) / total));
    }
  }
  printf("largest fitting error %.2g\n", worst);
  return 0;
}
