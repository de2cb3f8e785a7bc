/* 4x, 8x and 16x oversampling for nonlinear stages: cascaded half-band FIR
   stages up and down, polyphase, so a curve's harmonics above Nyquist are
   filtered away instead of folding back into the audible band. */
#ifndef CH_OVERSAMPLE_H
#define CH_OVERSAMPLE_H

#include "../kind.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

/*
   A half-band low-pass h has h(0) = 1/2 and h(n) = 0 at every other even
   n, so half its taps are free: going up, the even outputs are the input
   (delayed) and only the odd ones are filtered; going down, only every
   second output is computed.  Each odd tap pairs two samples by symmetry,
   so a stage of M pairs costs M multiplies per output.

   The taps are a windowed sinc: h(n) = sin(pi n / 2) / (pi n) times a
   Kaiser window of half-width 2M, normalised so the DC gain is exactly 1.
   Stage A (1x <-> 2x, M = 24, beta 10) passes 0..0.417 of the base rate
   (20 kHz at 48 kHz) within 0.001 dB and stops from 0.583 of it (28 kHz)
   by more than 95 dB, so everything that could fold into 0..20 kHz is
   gone.  Stage B (2x <-> 4x, M = 8, beta 10) has the whole 20..76 kHz
   for its transition, and stops its images by more than 95 dB too.
   Harmonics folding at the 4x rate land in 0..20 kHz only from 172 kHz
   up (past the 82nd harmonic of C7).  Latency: CH_OS_LATENCY = 55 base
   samples, 1.1 ms at 48 kHz; the dry signal takes the same path.
*/

#define CH_OS_FACTOR 4u
#define CH_OS_MA     24u /* pairs of taps, stage A */
#define CH_OS_MB     8u  /* pairs of taps, stage B */
/** Base-rate samples a signal is delayed by going up and down again. */
#define CH_OS_LATENCY 55u

/** Taps of both stages (computed by ch_os_design, not real-time). */
typedef struct {
  float a[CH_OS_MA];
  float b[CH_OS_MB];
} ChOsTaps;

/** Base-rate samples the 8x round trip delays by (below). */
#define CH_OS8_LATENCY 59u

/** Longest ring: the filters' 2 M_A, or a delay of the 8x latency. */
#define CH_OS_RING                                                             \
  (CH_OS8_LATENCY + 1u > 2u * CH_OS_MA ? CH_OS8_LATENCY + 1u : 2u * CH_OS_MA)

/** A history ring of up to CH_OS_RING samples, stored twice so a window
    is contiguous: the last `len` samples start at hist + pos. */
typedef struct {
  float    hist[2u * CH_OS_RING];
  uint32_t pos;
} ChOsRing;

/** The state of one 4x up/down pair: plain data, copyable. */
typedef struct {
  ChOsTaps taps;
  ChOsRing up_a;   /* base-rate input */
  ChOsRing up_b;   /* 2x input */
  ChOsRing down_b; /* 4x odd samples, paired by the taps */
  ChOsRing down_a; /* 2x even samples, paired by the taps */
  ChOsRing even_b; /* 4x even samples (the centres, delayed) */
  ChOsRing even_a; /* 2x odd samples (the centres, delayed) */
} ChOversampler;

/* Modified Bessel function I0 by its power series (converges fast for
   the betas used here). */
static inline double
ch_os_bessel_i0(const double x)
{
  double sum  = 1.0;
  double term = 1.0;
  for (int k = 1; k < 40; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
  }
  return sum;
}

static inline void
ch_os_design_stage(float* const taps, const uint32_t m, const double beta)
{
  double sum = 0.0;
  double h[CH_OS_MA];
  for (uint32_t i = 0; i < m; ++i) {
    const double n = 2.0 * i + 1.0;
    const double r = n / (2.0 * m);
    const double win =
      ch_os_bessel_i0(beta * sqrt(1.0 - r * r)) / ch_os_bessel_i0(beta);
    h[i] = sin(M_PI * n / 2.0) / (M_PI * n) * win;
    sum += h[i];
  }
  for (uint32_t i = 0; i < m; ++i) {
    taps[i] = (float)(h[i] * 0.25 / sum); /* odd taps of one side sum to 1/4 */
  }
}

/** Clear the state and compute the taps.  Not real-time. */
static inline void
ch_os_init(ChOversampler* const os)
{
  memset(os, 0, sizeof(*os));
  ch_os_design_stage(os->taps.a, CH_OS_MA, 10.0);
  ch_os_design_stage(os->taps.b, CH_OS_MB, 10.0);
}

/* Push x into a ring of 2 m; returns the window of the last 2 m samples,
   oldest first. */
static inline const float*
ch_os_push(ChOsRing* const r, const uint32_t len, const float x)
{
  r->hist[r->pos]       = x;
  r->hist[r->pos + len] = x;
  r->pos                = r->pos + 1u == len ? 0u : r->pos + 1u;
  return r->hist + r->pos;
}

/* The filtered half-way sample of a window of 2 m: sum of pairs
   symmetric about its middle. */
static inline float
ch_os_pairs(const float* const w, const float* const taps, const uint32_t m)
{
  float acc = 0.0f;
  for (uint32_t i = 0; i < m; ++i) {
    acc += taps[i] * (w[m - 1u - i] + w[m + i]);
  }
  return acc;
}

/* One input sample to two at twice the rate (gain 1). */
static inline void
ch_os_up2(ChOsRing* const    r,
          const float* const taps,
          const uint32_t     m,
          const float        x,
          float* const       y)
{
  const float* const w = ch_os_push(r, 2u * m, x);
  y[0]                 = w[m - 1u];
  y[1]                 = 2.0f * ch_os_pairs(w, taps, m);
}

/* Two samples at twice the rate to one (gain 1): `centre` is the sample
   the output is centred on (its ring delays it by `delay` - 1), `side`
   the one of the other phase, which the taps pair around it. */
static inline float
ch_os_down2(ChOsRing* const    centre_ring,
            const uint32_t     delay,
            ChOsRing* const    side_ring,
            const float* const taps,
            const uint32_t     m,
            const float        centre,
            const float        side)
{
  const float* const c = ch_os_push(centre_ring, delay, centre);
  const float* const w = ch_os_push(side_ring, 2u * m, side);
  return 0.5f * c[0] + ch_os_pairs(w, taps, m);
}

/** n base-rate samples to 4 n at four times the rate.  Real-time. */
static inline CH_REALTIME void
ch_os_up(ChOversampler* const os,
         const float* const   in,
         float* const         out,
         const uint32_t       n)
{
  for (uint32_t i = 0; i < n; ++i) {
    float twice[2];
    ch_os_up2(&os->up_a, os->taps.a, CH_OS_MA, in[i], twice);
    ch_os_up2(&os->up_b, os->taps.b, CH_OS_MB, twice[0], out + 4u * i);
    ch_os_up2(&os->up_b, os->taps.b, CH_OS_MB, twice[1], out + 4u * i + 2u);
  }
}

/**
   4 n samples at four times the rate back to n.  Stage B centres on the
   even samples, stage A on the odd ones: that way the whole round trip
   delays by a whole number of base samples (CH_OS_LATENCY).  Real-time.
*/
static inline CH_REALTIME void
ch_os_down(ChOversampler* const os,
           const float* const   in,
           float* const         out,
           const uint32_t       n)
{
  for (uint32_t i = 0; i < n; ++i) {
    const float* const x    = in + 4u * i;
    const float        even = ch_os_down2(&os->even_b, CH_OS_MB, &os->down_b,
                                          os->taps.b, CH_OS_MB, x[0], x[1]);
    const float        odd  = ch_os_down2(&os->even_b, CH_OS_MB, &os->down_b,
                                          os->taps.b, CH_OS_MB, x[2], x[3]);
    out[i] = ch_os_down2(&os->even_a, CH_OS_MA + 1u, &os->down_a, os->taps.a,
                         CH_OS_MA, odd, even);
  }
}

/*
   8x for the ladder, whose resonant loop driven hard squares the wave at
   up to 50 times its gain (at 4x its partials folding over 96 kHz are
   only 40 to 60 dB down), and for the shaper, whose clipped corners
   fold back at 4x even smoothed.  A third half-band stage C (4x <-> 8x,
   M = 8, beta 10) goes around the 4x pair; its whole 20..172 kHz is
   transition, and it stops what would fold into 0..20 kHz by more than
   95 dB.  Its round trip takes 30 samples at 8x; 2 more of plain delay
   make the whole CH_OS8_LATENCY = 59 base samples (1.2 ms at 48 kHz),
   so a dry path can be lined up with it.
*/

#define CH_OS8_FACTOR 8u
#define CH_OS_MC      8u /* pairs of taps, stage C */

/** The state of one 8x up/down pair: plain data, copyable. */
typedef struct {
  ChOversampler os;
  float         c[CH_OS_MC];
  ChOsRing      up_c;   /* 4x input */
  ChOsRing      down_c; /* 8x odd samples, paired by the taps */
  ChOsRing      even_c; /* 8x even samples (the centres, delayed) */
  float         pad[2]; /* the 2 samples of plain delay at 8x */
} ChOversampler8;

/** Clear the state and compute the taps.  Not real-time. */
static inline void
ch_os8_init(ChOversampler8* const os)
{
  memset(os, 0, sizeof(*os));
  ch_os_init(&os->os);
  ch_os_design_stage(os->c, CH_OS_MC, 10.0);
}

/** n base-rate samples (n <= CH_MAX_BLOCK) to 8 n.  Real-time. */
static inline CH_REALTIME void
ch_os8_up(ChOversampler8* const os,
          const float* const    in,
          float* const          out,
          const uint32_t        n)
{
  float x4[CH_OS_FACTOR * CH_MAX_BLOCK];
  ch_os_up(&os->os, in, x4, n);
  for (uint32_t j = 0; j < CH_OS_FACTOR * n; ++j) {
    ch_os_up2(&os->up_c, os->c, CH_OS_MC, x4[j], out + 2u * j);
  }
}

/** 8 n samples at eight times the rate back to n.  Real-time. */
static inline CH_REALTIME void
ch_os8_down(ChOversampler8* const os,
            const float* const    in,
            float* const          out,
            const uint32_t        n)
{
  float x4[CH_OS_FACTOR * CH_MAX_BLOCK];
  for (uint32_t j = 0; j < CH_OS_FACTOR * n; ++j) {
    const float even = os->pad[0];
    const float odd  = os->pad[1];
    os->pad[0]       = in[2u * j];
    os->pad[1]       = in[2u * j + 1u];
    x4[j] = ch_os_down2(&os->even_c, CH_OS_MC, &os->down_c, os->c, CH_OS_MC,
                        even, odd);
  }
  ch_os_down(&os->os, x4, out, n);
}

/*
   One more half-band stage D (8x <-> 16x), for a loop that must run at 16x
   only while its drive needs it (ladder.c).  Its passband is the signal's
   0..20 kHz and what it must stop is what lies within 20 kHz of the 8x
   rate (364..404 kHz): a transition of 18 of the 20 parts of its band, so
   CH_OS_MD = 4 pairs (beta 10) stop it by 100 dB (and pass 0..20 kHz
   within 0.0001 dB).  Round trip:
   4 M_D - 2 = 14 samples at 16x, 7 at 8x, half of it each way.
*/

#define CH_OS_MD 4u /* pairs of taps, stage D */

/** One 2x stage up and down: plain data, copyable. */
typedef struct {
  float    taps[CH_OS_MD];
  ChOsRing up;   /* 8x input */
  ChOsRing down; /* 16x odd samples, paired by the taps */
  ChOsRing even; /* 16x even samples (the centres, delayed) */
} ChOsStage;

/** Clear the state and compute the taps.  Not real-time. */
static inline void
ch_os_stage_init(ChOsStage* const st)
{
  memset(st, 0, sizeof(*st));
  ch_os_design_stage(st->taps, CH_OS_MD, 10.0);
}

/** Push n samples into a ring of len without filtering: primes a stage's
    history before its output is needed.  Real-time. */
static inline CH_REALTIME void
ch_os_feed(ChOsRing* const    r,
           const uint32_t     len,
           const float* const in,
           const uint32_t     n)
{
  for (uint32_t j = 0; j < n; ++j) {
    (void)ch_os_push(r, len, in[j]);
  }
}

/** n samples to 2 n at twice the rate.  Real-time. */
static inline CH_REALTIME void
ch_os_stage_up(ChOsStage* const   st,
               const float* const in,
               float* const       out,
               const uint32_t     n)
{
  for (uint32_t j = 0; j < n; ++j) {
    ch_os_up2(&st->up, st->taps, CH_OS_MD, in[j], out + 2u * j);
  }
}

/** 2 n samples at twice the rate back to n.  Real-time. */
static inline CH_REALTIME void
ch_os_stage_down(ChOsStage* const   st,
                 const float* const in,
                 float* const       out,
                 const uint32_t     n)
{
  for (uint32_t j = 0; j < n; ++j) {
    out[j] = ch_os_down2(&st->even, CH_OS_MD, &st->down, st->taps, CH_OS_MD,
                         in[2u * j], in[2u * j + 1u]);
  }
}

#endif /* CH_OVERSAMPLE_H */
