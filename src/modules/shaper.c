/* The `shaper` module: drive into a tanh, soft, fold or hard curve. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

/*
   out = level (mix curve(gain in) + (1 - mix) in), gain = 50^drive, where
   drive is the param plus the drive input, clamped to 0..1.  Every curve is
   odd (no DC from a symmetric input), has slope 1 at 0 (a quiet signal
   passes at drive 0 unchanged) and stays within -1..1:
     tanh  a rational tanh, exactly +-1 from |x| = 3 on
     soft  the cubic x - 4/27 x^3, reaching +-1 with zero slope at 1.5
     fold  a triangle wavefolder: past +-1 the wave folds back, again and
           again, so drive adds ever higher partials
     hard  a clip at +-1
   No oversampling: the harmonics a curve makes above Nyquist alias back,
   harshly for hard and fold at high drive on high notes.  Drive, mix and
   level are smoothed (5 ms) so that turning them does not click.
*/

enum { IN_IN, IN_DRIVE };
enum { P_DRIVE, P_SHAPE, P_MIX, P_LEVEL };
enum { TANH, SOFT, FOLD, HARD };

#define LN_GAIN_MAX 3.912023005428146 /* ln 50 */
/* Input beyond this is taken as this; NaN as 0. */
#define IN_LIMIT 1e6f

typedef struct {
  double     drive; /* smoothed params */
  double     mix;
  double     level;
  ChSmoother smooth; /* coefficient of the parameter glides */
  float      d;      /* total drive the gain was computed for */
  float      gain;   /* 50^d */
} ShaperState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to shape" },
  { "drive", CH_SIGNAL_CV, "added to the drive param (total clamped 0..1)" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_AUDIO, "shaped signal, within -level..level at mix 1" },
};

static const char* const shapes[] = { "tanh", "soft", "fold", "hard", NULL };

static const ChParamInfo params[] = {
  { "drive", "", 0.0f, 1.0f, 0.3f,
    "gain into the curve, 1 (0) to 50 (1), exponentially (smoothed)", NULL },
  { "shape", "", 0.0f, 3.0f, 0.0f,
    "curve: tanh, soft (cubic), fold (triangle wavefolder), hard (clip); "
    "not oversampled, so high drive aliases",
    shapes },
  { "mix", "", 0.0f, 1.0f, 1.0f, "shaped share of the output (smoothed)",
    NULL },
  { "level", "", 0.0f, 2.0f, 1.0f, "output gain (smoothed)", NULL },
};

/* x (27 + x^2) / (27 + 9 x^2) on |x| <= 3: odd, monotonic (its slope is
   9 (x^2 - 9)^2 over a square), slope 1 at 0, +-1 with zero slope at +-3,
   within 0.025 of tanh. */
static inline float
fast_tanh(const float x)
{
  const float c  = fminf(fmaxf(x, -3.0f), 3.0f);
  const float c2 = c * c;
  /* float rounding near +-3 can land 1 ulp past +-1 */
  return fminf(fmaxf(c * (27.0f + c2) / (27.0f + 9.0f * c2), -1.0f), 1.0f);
}

static inline float
soft_clip(const float x)
{
  const float c = fminf(fmaxf(x, -1.5f), 1.5f);
  return c - (4.0f / 27.0f) * c * c * c;
}

/* Period 4: rises 1:1 through 0, turns at +-1.  In double, so that the
   fraction stays exact for the 5e7 a driven wild input can reach. */
static inline float
fold(const float x)
{
  const double t = ((double)x + 1.0) * 0.25;
  return (float)(1.0 - 4.0 * fabs(t - floor(t) - 0.5));
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
}

static CH_REALTIME void
shaper_process(const ChNode* const node, const uint32_t n)
{
  ShaperState* const s   = (ShaperState*)node->state;
  const float* const in  = node->in[IN_IN];
  const float* const cv  = node->in[IN_DRIVE];
  float* const       out = node->out[0];
  const float* const p   = node->param;

  ch_smoother_coef(&s->smooth, node->ctx->rate);

  const int shape =
    (int)fmin(fmax(floor((double)p[P_SHAPE] + 0.5), 0.0), (double)HARD);
  const double coef  = s->smooth.coef;
  double       drive = s->drive;
  double       mix   = s->mix;
  double       level = s->level;
  float        d     = s->d;
  float        gain  = s->gain;
  for (uint32_t i = 0; i < n; ++i) {
    drive = ch_smooth_step(drive, p[P_DRIVE], coef);
    mix   = ch_smooth_step(mix, p[P_MIX], coef);
    level = ch_smooth_step(level, p[P_LEVEL], coef);

    /* NaN-safe: fmaxf drops a NaN cv, leaving 0 */
    const float total = fminf(fmaxf((float)drive + cv[i], 0.0f), 1.0f);
    if (total != d) { /* exp only when the drive moves */
      d    = total;
      gain = (float)exp((double)d * LN_GAIN_MAX);
    }
    const float x = safe_input(in[i]);
    const float g = gain * x;
    float       w = 0.0f;
    switch (shape) {
    case TANH:
      w = fast_tanh(g);
      break;
    case SOFT:
      w = soft_clip(g);
      break;
    case FOLD:
      w = fold(g);
      break;
    default:
      w = hard_clip(g);
      break;
    }
    const float m = (float)mix;
    out[i]        = (float)level * (m * w + (1.0f - m) * x);
  }
  s->drive = drive;
  s->mix   = mix;
  s->level = level;
  s->d     = d;
  s->gain  = gain;
}

const ChKind ch_kind_shaper = {
  "shaper",
  "wave shaper: drive into tanh, soft-clip, wavefold or hard-clip curves",
  inputs,
  CH_COUNT(inputs),
  outputs,
  CH_COUNT(outputs),
  params,
  CH_COUNT(params),
  sizeof(ShaperState),
  shaper_init,
  shaper_process,
  0,
  NULL,
  NULL,
  NULL,
};
