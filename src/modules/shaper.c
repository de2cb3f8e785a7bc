/* The `shaper` module: drive into a tanh, soft, fold or hard curve. */
#include "../kind.h"
#include "dcblock.h"
#include "oversample.h"
#include "saturate.h"
#include "sine.h"
#include "smooth.h"

#include <math.h>

/*
   out = level (mix curve(gain in) + (1 - mix) in), gain = 50^drive, where
   drive is the param plus the drive input, clamped to 0..1.  Every curve is
   odd (no DC from a symmetric input), has slope 1 at 0 (a quiet signal
   passes at drive 0 unchanged) and stays within -1..1:
     tanh  a rational tanh, exactly +-1 from |x| = 3 on
     soft  the cubic x - 4/27 x^3, reaching +-1 with zero slope at 1.5
     fold  a sine wavefolder, sin(x): past +-pi/2 the wave folds back,
           again and again, so drive adds ever higher partials
     hard  a clip at +-1
   The curve runs at eight times the rate (oversample.h): the harmonics it
   makes up to 7.5 times the rate are filtered off before they could fold
   back, so a C7 sine at full drive keeps its aliases more than 80 dB under
   the fundamental (tanh -85, hard -84, soft -94, fold -89).  Soft and hard have
   corners, whose partials fall slowly, and add first-order antiderivative
   anti-aliasing for that.  The fold is a sine because a sine of a sine, sin(a
   sin t), has no partials to speak of past the a-th (Bessel functions die off
   past their order): the triangle folder it replaces had corners whose partials
   outran any oversampling (-74 dB at drive 0.6, -42 at 1).  The dry share is
   delayed by as much, so mixing does not comb.  An odd curve makes no DC from a
   symmetric wave, but an asymmetric one (two beating saws) can shift: a 5 Hz DC
   blocker (dcblock.h) follows.  Drive, mix and level are smoothed (5 ms) so
   that turning them does not click.
*/

enum { IN_IN, IN_DRIVE };
enum { P_DRIVE, P_SHAPE, P_MIX, P_LEVEL };
enum { TANH, SOFT, FOLD, HARD };

#define LN_GAIN_MAX 3.912023005428146 /* ln 50 */
/* Band-limited, a clipped wave rings past +-1 (9 % for a square, more for
   wild input); the output is held within this, times level. */
#define OUT_BOUND 1.5f
/* Input beyond this is taken as this; NaN as 0. */
#define IN_LIMIT 1e6f

typedef struct {
  ChOversampler8 os;
  ChOsRing       dry; /* the dry input, delayed by CH_OS8_LATENCY */
  ChDcBlock      dc;
  double         drive; /* smoothed params */
  double         mix;
  double         level;
  ChSmoother     smooth;     /* coefficient of the parameter glides */
  float          d;          /* total drive the gain was computed for */
  float          gain;       /* 50^d */
  double         u1;         /* the previous driven, oversampled input ... */
  double         big1;       /* ... and the curve's integral there (ADAA) */
  int            adaa_shape; /* the curve big1 is of */
} ShaperState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to shape" },
  { "drive", CH_SIGNAL_CV, "added to the drive param (total clamped 0..1)" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_AUDIO,
    "shaped signal, about -level..level at mix 1 (band-limited edges ring "
    "past it a little; never beyond 1.5 level)" },
};

static const char* const shapes[] = { "tanh", "soft", "fold", "hard", NULL };

static const ChParamInfo params[] = {
  { "drive", "", 0.0f, 1.0f, 0.3f,
    "gain into the curve, 1 (0) to 50 (1), exponentially (smoothed)", NULL },
  { "shape", "", 0.0f, 3.0f, 0.0f,
    "curve: tanh, soft (cubic), fold (sine wavefolder), hard (clip); "
    "8x oversampled, then DC-blocked at 5 Hz",
    shapes },
  { "mix", "", 0.0f, 1.0f, 1.0f, "shaped share of the output (smoothed)",
    NULL },
  { "level", "", 0.0f, 2.0f, 1.0f, "output gain (smoothed)", NULL },
};

static inline float
soft_clip(const float x)
{
  const float c = fminf(fmaxf(x, -1.5f), 1.5f);
  return c - (4.0f / 27.0f) * c * c * c;
}

/* sin x: rises 1:1 through 0, turns at +-pi/2.  In double, so that the
   phase stays exact for the 5e7 a driven wild input can reach; by
   polynomial (sine.h, within 1e-9), not libm, at eight times the rate. */
static inline float
fold(const float x)
{
  return (float)ch_sin((double)x);
}

static inline float
hard_clip(const float x)
{
  return fminf(fmaxf(x, -1.0f), 1.0f);
}

static inline float
safe_input(const float x)
{
  return fabsf(x) <= IN_LIMIT ? x
         : x > 0.0f           ? IN_LIMIT
         : x < 0.0f           ? -IN_LIMIT
                              : 0.0f;
}

static void
shaper_init(const ChNode* const node)
{
  ShaperState* const s = (ShaperState*)node->state;
  ch_smoother_coef(&s->smooth, node->ctx->rate);
  /* start at the values: no fade-in */
  s->drive = (double)node->param[P_DRIVE];
  s->mix   = (double)node->param[P_MIX];
  s->level = (double)node->param[P_LEVEL];
  s->d     = 0.0f;
  s->gain  = 1.0f;
  ch_os8_init(&s->os);
  ch_dc_setup(&s->dc, (float)CH_DC_CORNER, node->ctx->rate);
}

/* The smoothed controls of each base-rate sample: gain into the curve,
   shaped share, output level. */
static CH_REALTIME void
shaper_controls(ShaperState* const s,
                const float* const p,
                const float* const cv,
                float* const       gain_of,
                float* const       mix_of,
                float* const       level_of,
                const uint32_t     n)
{
  const double coef  = s->smooth.coef;
  double       drive = s->drive;
  double       mix   = s->mix;
  double       level = s->level;
  for (uint32_t i = 0; i < n; ++i) {
    drive = ch_smooth_step(drive, p[P_DRIVE], coef);
    mix   = ch_smooth_step(mix, p[P_MIX], coef);
    level = ch_smooth_step(level, p[P_LEVEL], coef);
    /* NaN-safe: fmaxf drops a NaN cv, leaving 0 */
    const float total = fminf(fmaxf((float)drive + cv[i], 0.0f), 1.0f);
    if (total != s->d) { /* exp only when the drive moves */
      s->d    = total;
      s->gain = (float)exp((double)total * LN_GAIN_MAX);
    }
    gain_of[i]  = s->gain;
    mix_of[i]   = (float)mix;
    level_of[i] = (float)level;
  }
  s->drive = drive;
  s->mix   = mix;
  s->level = level;
}

/* The integrals of the curves with corners: soft (whose curvature jumps
   where it meets +-1) and hard; beyond the corner both are +-1, so the
   integral grows as |x| there. */
static inline double
corner_integral(const int shape, const double x)
{
  if (shape == SOFT) {
    const double c  = fmin(fmax(x, -1.5), 1.5);
    const double c2 = c * c;
    return 0.5 * c2 - c2 * c2 / 27.0 + (fabs(x) - fabs(c));
  }
  const double c = fmin(fmax(x, -1.0), 1.0);
  return 0.5 * c * c + (fabs(x) - fabs(c));
}

/*
   Soft and hard have corners, whose partials fall only as 1/n^3 and 1/n^2:
   even at 8x they fold back audibly at full drive (soft -68 dB on a C7).
   First-order antiderivative anti-aliasing (Parker, Zavalishin, Le Bivic
   2016) takes, instead of the curve at each sample, its mean between this
   sample's input and the last one's: the difference of its integral over
   the difference of the inputs.  That smooths each corner over one 8x
   sample, a further 1/n; the mean stays within -1..1.  Where the inputs
   are too close for the division, the curve at their midpoint is the same
   mean.  (tanh and the sine fold are smooth: oversampling alone keeps them
   clean.)
*/
static CH_REALTIME float
corner_adaa(ShaperState* const s, const int shape, const float g)
{
  const double u   = (double)g;
  const double big = corner_integral(shape, u);
  const double du  = u - s->u1;
  float        w   = 0.0f;
  if (fabs(du) > 1e-6) {
    w = (float)((big - s->big1) / du);
  } else {
    const float mid = (float)(0.5 * (u + s->u1));
    w               = shape == SOFT ? soft_clip(mid) : hard_clip(mid);
  }
  s->u1   = u;
  s->big1 = big;
  return fminf(fmaxf(w, -1.0f), 1.0f); /* rounding at huge inputs */
}

/* The curve on 8 n oversampled samples. */
static CH_REALTIME void
shaper_curve(ShaperState* const s,
             float* const       x,
             const int          shape,
             const float* const gain_of,
             const uint32_t     n)
{
  if (shape != s->adaa_shape) { /* the integral of the new curve */
    s->adaa_shape = shape;
    s->big1 =
      shape == SOFT || shape == HARD ? corner_integral(shape, s->u1) : 0.0;
  }
  for (uint32_t j = 0; j < CH_OS8_FACTOR * n; ++j) {
    const float g = gain_of[j / CH_OS8_FACTOR] * x[j];
    x[j]          = shape == TANH   ? ch_fast_tanh(g)
                    : shape == FOLD ? fold(g)
                                    : corner_adaa(s, shape, g);
  }
}

static CH_REALTIME void
shaper_process(const ChNode* const node, const uint32_t n)
{
  ShaperState* const s   = (ShaperState*)node->state;
  const float* const in  = node->in[IN_IN];
  float* const       out = node->out[0];
  const float* const p   = node->param;
  float              gain_of[CH_MAX_BLOCK];
  float              mix_of[CH_MAX_BLOCK];
  float              level_of[CH_MAX_BLOCK];
  float              x[CH_MAX_BLOCK];
  float              os[CH_OS8_FACTOR * CH_MAX_BLOCK];

  ch_smoother_coef(&s->smooth, node->ctx->rate);
  ch_dc_setup(&s->dc, (float)CH_DC_CORNER, node->ctx->rate);
  const int shape =
    (int)fmin(fmax(floor((double)p[P_SHAPE] + 0.5), 0.0), (double)HARD);

  shaper_controls(s, p, node->in[IN_DRIVE], gain_of, mix_of, level_of, n);
  for (uint32_t i = 0; i < n; ++i) {
    x[i] = safe_input(in[i]);
  }
  ch_os8_up(&s->os, x, os, n);
  shaper_curve(s, os, shape, gain_of, n);
  ch_os8_down(&s->os, os, out, n);
  for (uint32_t i = 0; i < n; ++i) {
    /* the dry share, delayed as the shaped one was */
    const float dry   = ch_os_push(&s->dry, CH_OS8_LATENCY + 1u, x[i])[0];
    const float m     = mix_of[i];
    const float y     = ch_dc_step(&s->dc, m * out[i] + (1.0f - m) * dry);
    const float bound = OUT_BOUND + (1.0f - m) * IN_LIMIT;
    out[i]            = level_of[i] * fminf(fmaxf(y, -bound), bound);
  }
}

const ChKind ch_kind_shaper = {
  CH_KIND_USUAL(shaper, ShaperState),
  .doc =
    "wave shaper: drive into tanh, soft-clip, wavefold or hard-clip curves",
};
