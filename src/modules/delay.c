/* The `delay` module: a stereo feedback delay with damping and spread. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

/*
   One delay line, read by two taps: `left` at the delay time, `right` at
   the time plus `spread` (a Haas offset for width).  The left tap, passed
   through a one-pole low-pass (`damp`), is fed back into the line, so each
   repeat is `feedback` times the last and a little duller.

   The delay time (param plus the `time` input, per sample) is smoothed by
   a one-pole of TIME_SMOOTH seconds, so knob moves glide like tape instead
   of clicking, and read with 4-point Catmull-Rom interpolation.  The line
   lives at the end of the state (no pointers: hot swaps copy state), sized
   for MAX_TIME + MAX_SPREAD seconds at the graph's sample rate.
*/

enum { IN_IN, IN_TIME };
enum { OUT_LEFT, OUT_RIGHT };
enum { P_TIME, P_FEEDBACK, P_DAMP, P_MIX, P_SPREAD };

#define MIN_TIME   0.001
#define MAX_TIME   2.0
#define MAX_SPREAD 0.05
/* Samples the line holds at `rate`: MAX_TIME + MAX_SPREAD seconds, + 8 for
   the interpolator's neighbours and rounding. */
static uint32_t
line_length(const float rate)
{
  return (uint32_t)ceil((MAX_TIME + MAX_SPREAD) * (double)rate) + 8u;
}
/* the interpolator reads 1 sample newer than the tap: keep 2 in hand */
#define MIN_DELAY 4.0

/* Glide time of delay time changes: short enough to follow a slow LFO
   (-3 dB near 5 Hz), long enough that a jump is a smooth pitch bend. */
#define TIME_SMOOTH 0.03
/* Mix smoothing, as in the vca's gain. */
#define MIX_SMOOTH 0.005

/* `damp` moves the feedback low-pass from DAMP_FC_MAX (just above 0) down
   to DAMP_FC_MIN (1) exponentially; 0 turns it off. */
#define DAMP_FC_MAX 18000.0
#define DAMP_FC_MIN 500.0

/* Samples written into the line are clipped here and non-finite ones
   zeroed, so a wild input cannot poison the line for good. */
#define LIMIT 1e6f
/* Smaller written samples are flushed: decaying repeats end in zeros, not
   in a long stretch of slow denormals. */
#define DENORMAL_FLOOR 1e-20f
/* A tail below this (-140 dB) has decayed: see delay_quiet. */
#define QUIET_LEVEL 1e-7f

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

typedef struct {
  double   delay_l;   /* smoothed delay of the left tap, samples */
  double   delay_r;   /* ... of the right tap */
  double   mix;       /* smoothed mix param */
  double   time_coef; /* one-pole coefficients for `rate` */
  double   mix_coef;  /* ... */
  float    lp;        /* feedback low-pass state */
  float    damp_a;    /* its coefficient; 1 = no damping */
  float    damp;      /* param `damp_a` was computed for */
  float    rate;      /* rate the cached values are for */
  uint32_t pos;       /* next slot to write */
  uint32_t zeros;     /* zeros written in a row (capped at len) */
  uint32_t len;       /* samples in `line` */
  float    line[];    /* line_length(rate) samples */
} DelayState;

static size_t
delay_state_size(const float rate)
{
  return sizeof(DelayState) + (size_t)line_length(rate) * sizeof(float);
}

/* The longest delay the line holds (up to 2 older samples are read). */
static double
max_delay(const DelayState* const s)
{
  return (double)s->len - MIN_DELAY;
}

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to delay (mono)" },
  { "time", CH_SIGNAL_CV, "seconds added to the time param (smoothed)" },
};

static const ChPortInfo outputs[] = {
  { "left", CH_SIGNAL_AUDIO, "dry and echoes at `time`" },
  { "right", CH_SIGNAL_AUDIO, "dry and echoes at `time` + `spread`" },
};

static const ChParamInfo params[] = {
  { "time", "s", (float)MIN_TIME, (float)MAX_TIME, 0.35f,
    "delay time; changes glide over about 30 ms", NULL },
  { "feedback", "", 0.0f, 0.98f, 0.4f,
    "level of each repeat relative to the one before", NULL },
  { "damp", "", 0.0f, 1.0f, 0.3f,
    "low-pass in the feedback path: 0 off, up to 1 (500 Hz)", NULL },
  { "mix", "", 0.0f, 1.0f, 0.3f, "0 dry only, 1 echoes only (smoothed, 5 ms)",
    NULL },
  { "spread", "s", 0.0f, (float)MAX_SPREAD, 0.01f,
    "extra delay of the right output, for width", NULL },
};

static void
update_coefs(DelayState* const s, const float damp, const float rate)
{
  if (rate != s->rate) {
    s->rate      = rate;
    s->time_coef = ch_one_pole_coef(TIME_SMOOTH, rate);
    s->mix_coef  = ch_one_pole_coef(MIX_SMOOTH, rate);
    s->damp      = -1.0f; /* recompute below */
  }
  if (damp != s->damp) {
    s->damp = damp;
    if (damp <= 0.0f) {
      s->damp_a = 1.0f;
    } else {
      const double d  = fmin((double)damp, 1.0);
      const double fc = DAMP_FC_MAX * pow(DAMP_FC_MIN / DAMP_FC_MAX, d);
      s->damp_a       = (float)(1.0 - exp(-2.0 * M_PI * fc / (double)rate));
    }
  }
}

/* Delay of the left tap in samples for `seconds`; NaN-safe. */
static double
target_delay(const DelayState* const s, const float seconds, const float rate)
{
  const float  t = fminf(fmaxf(seconds, (float)MIN_TIME), (float)MAX_TIME);
  const double d = (double)t * (double)rate;
  return fmin(fmax(d, MIN_DELAY), max_delay(s));
}

static void
delay_init(const ChNode* const node)
{
  DelayState* const  s    = (DelayState*)node->state;
  const float* const p    = node->param;
  const float        rate = node->ctx->rate;
  s->len                  = line_length(rate);
  update_coefs(s, p[P_DAMP], rate);
  /* start at the set values: no glide or fade-in on load */
  s->delay_l = target_delay(s, p[P_TIME], rate);
  s->delay_r =
    fmin(s->delay_l + (double)p[P_SPREAD] * (double)rate, max_delay(s));
  s->mix = (double)p[P_MIX];
}

/* Catmull-Rom read `delay` samples back from `pos` (the next write). */
static inline float
read_tap(const float* const line,
         const uint32_t     len,
         const uint32_t     pos,
         const double       delay)
{
  const double   fl = floor(delay);
  const float    t  = (float)(delay - fl);
  const uint32_t k  = (uint32_t)fl; /* 2 <= k < len - 2 */
  /* index of the sample k back, then its neighbours k - 1 .. k + 2 */
  uint32_t    i0  = pos >= k ? pos - k : pos + len - k;
  uint32_t    i_n = i0 + 1u == len ? 0u : i0 + 1u; /* newer */
  uint32_t    i1  = i0 ? i0 - 1u : len - 1u;       /* older */
  uint32_t    i2  = i1 ? i1 - 1u : len - 1u;
  const float ym  = line[i_n];
  const float y0  = line[i0];
  const float y1  = line[i1];
  const float y2  = line[i2];
  const float c1  = 0.5f * (y1 - ym);
  const float c2  = ym - 2.5f * y0 + 2.0f * y1 - 0.5f * y2;
  const float c3  = 0.5f * (y2 - ym) + 1.5f * (y0 - y1);
  return ((c3 * t + c2) * t + c1) * t + y0;
}

static CH_REALTIME void
delay_process(const ChNode* const node, const uint32_t n)
{
  DelayState* const  s     = (DelayState*)node->state;
  const float* const p     = node->param;
  const float* const in    = node->in[IN_IN];
  const float* const cv    = node->in[IN_TIME];
  float* const       left  = node->out[OUT_LEFT];
  float* const       right = node->out[OUT_RIGHT];
  const float        rate  = node->ctx->rate;

  update_coefs(s, p[P_DAMP], rate);

  const float    time    = p[P_TIME];
  const float    fb      = fminf(fmaxf(p[P_FEEDBACK], 0.0f), 0.98f);
  const double   spread  = fmax((double)p[P_SPREAD], 0.0) * (double)rate;
  const double   mix_to  = (double)p[P_MIX];
  const double   tc      = s->time_coef;
  const double   mc      = s->mix_coef;
  const float    damp_a  = s->damp_a;
  float* const   line    = s->line;
  const uint32_t len     = s->len;
  double         delay_l = s->delay_l;
  double         delay_r = s->delay_r;
  double         mix     = s->mix;
  float          lp      = s->lp;
  uint32_t       pos     = s->pos;
  uint32_t       zeros   = s->zeros;

  for (uint32_t i = 0; i < n; ++i) {
    /* smoothers run per sample, so blocks do not matter */
    const double to_l = target_delay(s, time + cv[i], rate);
    const double to_r = fmin(to_l + spread, max_delay(s));
    delay_l           = ch_smooth_step(delay_l, to_l, tc);
    delay_r           = ch_smooth_step(delay_r, to_r, tc);
    mix               = ch_smooth_step(mix, mix_to, mc);

    const float wet_l = read_tap(line, len, pos, delay_l);
    const float wet_r = read_tap(line, len, pos, delay_r);
    lp += damp_a * (wet_l - lp);
    lp = fabsf(lp) < DENORMAL_FLOOR ? 0.0f : lp; /* per sample: blocks */

    const float x = in[i];
    float       w = x + fb * lp;
    w             = isfinite(w) ? fminf(fmaxf(w, -LIMIT), LIMIT) : 0.0f;
    line[pos]     = fabsf(w) < DENORMAL_FLOOR ? 0.0f : w;
    zeros = fabsf(line[pos]) <= QUIET_LEVEL ? zeros + (zeros < len) : 0u;
    pos   = pos + 1u == len ? 0u : pos + 1u;

    const float m = (float)mix;
    left[i]       = x * (1.0f - m) + wet_l * m;
    right[i]      = x * (1.0f - m) + wet_r * m;
  }

  s->delay_l = delay_l;
  s->delay_r = delay_r;
  s->mix     = mix;
  s->lp      = lp;
  s->pos     = pos;
  s->zeros   = zeros;
}

/* At rest once the whole line holds only what is below QUIET_LEVEL, so
   does the feedback filter, and the glides have landed: silence in then
   gives out less than -140 dBFS, which sleeping drops; what stays in the
   line is heard, if ever, under the next sound. */
static CH_REALTIME int
delay_quiet(const ChNode* const node)
{
  const DelayState* const s    = (const DelayState*)node->state;
  const float* const      p    = node->param;
  const float             rate = node->ctx->rate;
  const double            to_l = target_delay(s, p[P_TIME], rate);
  const double            to_r =
    fmin(to_l + fmax((double)p[P_SPREAD], 0.0) * (double)rate, max_delay(s));
  return s->zeros >= s->len && fabsf(s->lp) <= QUIET_LEVEL &&
         s->delay_l == to_l && s->delay_r == to_r && s->mix == (double)p[P_MIX];
}

const ChKind ch_kind_delay = {
  CH_KIND_USUAL(delay, DelayState),
  .doc   = "stereo feedback delay with damping: echoes of `in` up to 2 s apart",
  .flags = CH_KIND_GLOBAL,
  .state_size_at = delay_state_size,
  .quiet         = delay_quiet,
};
