/* The `ladder` module: a 4-pole transistor-ladder low-pass, 24 dB/octave. */
#include "../kind.h"
#include "dcblock.h"
#include "oversample.h"

#include <math.h>

/*
   A zero-delay-feedback ladder after Zavalishin ("The Art of VA Filter
   Design", ch. 5): four trapezoidal one-pole stages with the cutoff
   prewarped, so the linear response at the cutoff matches the analog
   ladder exactly and the self-oscillation threshold stays at k = 4 for
   every cutoff.  Each stage is y = G x + S with G = g / (1 + g), so the
   loop y4 = G^4 u + S4 can be solved for its input u = x - k y4 without a
   unit delay; the saturator then acts on that solved u (the "cheap"
   nonlinear ZDF: no iteration, and the stages after it are linear and
   passive, which bounds the output by about 1 whatever goes in).

   A ladder loses passband gain as k rises (DC gain 1 / (1 + k)).  It is
   made up at the input, x = (1 + k) drive in, so small signals pass at
   0 dB at every res; loud input at high res saturates more, the way a
   compensated hardware ladder does.  With gain 1 at drive 0, a full-scale
   input already saturates gently (tanh(1) = 0.76).

   The output is bounded: |u| <= 1, and a trapezoidal one-pole's impulse
   response sums to 1 in magnitude while g <= 1 (cutoff up to a quarter of
   the rate), so |out| <= 1 there; above, its pole turns negative and the
   bound loosens towards 2 per stage (16 in all; about 5 measured with a
   loud square at 0.49 of the rate).

   The loop runs at eight times the rate between half-band filters
   (oversample.h), so the saturator's harmonics are filtered off instead of
   folding back (a driven E7 kept its aliases 2 dB under the fundamental
   without; at 4x, drive 0.8 with res 0.5 still left them at -76 dB): on
   notes up to C7 they stay 80 dB down up to drive 0.8 at any res, and at
   any drive up to res 0.5.  Full drive with res 0.8 and more (an input
   gain of 45 to 54) squares the wave in a ringing loop, and aliases rise
   to -66 to -81 dB there.  The cutoff stays clamped to 0.49 of the base
   rate.  A 5 Hz
   DC blocker (dcblock.h) takes off the offset that saturating an
   asymmetric wave makes.
*/

enum { IN_IN, IN_CUTOFF };
enum { P_CUTOFF, P_RES, P_DRIVE };

/* res 1 gives k = 4.4, 10 % past the threshold: it self-oscillates from
   res 0.91 up.  The saturator bounds the loop at |u| <= 1, and the four
   stages take 12 dB off at the cutoff, so the sine it sings is quiet:
   about 0.15 peak at res 1. */
#define K_MAX 4.4f
/* Input gain at drive 1: 20 dB into the saturator. */
#define DRIVE_MAX 10.0f
/* tan() blows up at Nyquist; cv may also push the cutoff very low. */
#define FC_MAX_RATIO 0.49f
#define FC_MIN       1.0f
/* Filter state below this is flushed, per sample so that block sizes do not
   matter: no denormal tails after the input stops. */
#define DENORMAL_FLOOR 1e-15f

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

typedef struct {
  ChOversampler8 os;     /* the loop runs at 8x: its saturator does not alias */
  ChDcBlock      dc;     /* what saturating an asymmetric wave shifts */
  float          s[4];   /* trapezoidal integrator states */
  float          fc;     /* clamped cutoff the coefficients below are for */
  float          G;      /* g / (1 + g), g = tan(pi fc / rate) */
  float          H;      /* 1 / (1 + g) = 1 - G */
  float          k;      /* feedback */
  float          gain;   /* input gain: drive times the passband compensation */
  float          inv;    /* 1 / (1 + k G^4), the solved loop */
  float          cutoff; /* params and inputs the cached values come from */
  float          res;
  float          drive;
  float          cv;
  float          rate;
} LadderState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to filter" },
  { "cutoff", CH_SIGNAL_CV, "octaves added to the cutoff param" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_AUDIO, "low-pass, 24 dB/octave, 0 dB passband" },
};

static const ChParamInfo params[] = {
  { "cutoff", "Hz", 20.0f, 20000.0f, 1000.0f,
    "corner frequency, before the cutoff input", NULL },
  { "res", "", 0.0f, 1.0f, 0.2f,
    "resonance: feedback 0..4.4, self-oscillates above 0.91", NULL },
  { "drive", "", 0.0f, 1.0f, 0.0f,
    "input gain into the saturator, 1 (0 dB) to 10 (+20 dB), exponentially; "
    "8x oversampled (aliases 80 dB down up to drive 0.8, or res 0.5), "
    "DC-blocked at 5 Hz",
    NULL },
};

/*
   tanh as the [3/2] Pade-like rational x (27 + x^2) / (27 + 9 x^2), with x
   clamped to +-3: there it reaches exactly +-1 with zero slope, so the
   curve is smooth, odd and monotonic (its slope is 9 (x^2 - 9)^2 over a
   square), slope 1 at 0, within 0.025 of tanh.  The clamp also turns a NaN
   into -3 (fmaxf drops NaN), so a NaN input cannot poison the state.
*/
static inline float
fast_tanh(const float x)
{
  const float c  = fminf(fmaxf(x, -3.0f), 3.0f);
  const float c2 = c * c;
  /* float rounding near +-3 can land 1 ulp past +-1 */
  return fminf(fmaxf(c * (27.0f + c2) / (27.0f + 9.0f * c2), -1.0f), 1.0f);
}

static inline float
flush(const float x)
{
  return fabsf(x) < DENORMAL_FLOOR ? 0.0f : x;
}

/* NaN-safe: fmaxf/fminf drop a NaN operand, so a NaN cv lands in range. */
static float
clamp_fc(const float fc, const float rate)
{
  return fminf(fmaxf(fc, FC_MIN), FC_MAX_RATIO * rate);
}

/* `rate` is the base rate; the loop runs at CH_OS8_FACTOR times it. */
static void
set_fc(LadderState* const s, const float fc, const float rate)
{
  const double g = tan(M_PI * (double)fc / ((double)rate * CH_OS8_FACTOR));
  const float  G = (float)(g / (1.0 + g));
  s->fc          = fc;
  s->G           = G;
  s->H           = (float)(1.0 / (1.0 + g));
  s->inv         = 1.0f / (1.0f + s->k * G * G * G * G);
}

static void
update_params(LadderState* const s, const float* const param, const float rate)
{
  const int new_rate = rate != s->rate; /* also true for zeroed state */
  const int new_res  = new_rate || param[P_RES] != s->res;
  const int new_gain = new_res || param[P_DRIVE] != s->drive;
  if (new_res) {
    s->res = param[P_RES];
    s->k   = K_MAX * fminf(fmaxf(s->res, 0.0f), 1.0f);
  }
  if (new_gain) {
    s->drive       = param[P_DRIVE];
    const float d  = fminf(fmaxf(s->drive, 0.0f), 1.0f);
    const float dg = (float)pow((double)DRIVE_MAX, (double)d);
    s->gain        = dg * (1.0f + s->k);
  }
  if (new_res || param[P_CUTOFF] != s->cutoff) {
    s->cutoff = param[P_CUTOFF];
    s->rate   = rate;
    set_fc(s, clamp_fc(s->cutoff * exp2f(s->cv), rate), rate);
  }
}

static void
ladder_init(const ChNode* const node)
{
  LadderState* const s = (LadderState*)node->state;
  ch_os8_init(&s->os);
  ch_dc_setup(&s->dc, (float)CH_DC_CORNER, node->ctx->rate);
  update_params(s, node->param, node->ctx->rate);
}

/* The loop over 8 n oversampled samples of `in`; cv per base sample. */
static CH_REALTIME void
ladder_loop(LadderState* const s,
            const float* const in,
            const float* const cv,
            float* const       out,
            const uint32_t     n,
            const float        rate)
{
  /* locals, so the stores to the output cannot force reloads */
  const float k       = s->k;
  const float gain    = s->gain;
  float       G       = s->G;
  float       H       = s->H;
  float       inv     = s->inv;
  float       last_cv = s->cv;
  float       s0      = s->s[0];
  float       s1      = s->s[1];
  float       s2      = s->s[2];
  float       s3      = s->s[3];
  for (uint32_t i = 0; i < CH_OS8_FACTOR * n; ++i) {
    /* tan only when the modulated cutoff actually moves */
    if (cv[i / CH_OS8_FACTOR] != last_cv) {
      last_cv        = cv[i / CH_OS8_FACTOR];
      const float fc = clamp_fc(s->cutoff * exp2f(last_cv), rate);
      if (fc != s->fc) {
        set_fc(s, fc, rate);
        G   = s->G;
        H   = s->H;
        inv = s->inv;
      }
    }
    /* what y4 would be for a zero loop input: the states' share */
    const float S = ((s0 * H * G + s1 * H) * G + s2 * H) * G + s3 * H;
    const float u = fast_tanh((gain * in[i] - k * S) * inv);

    float       v  = (u - s0) * G;
    const float y1 = v + s0;
    s0             = flush(y1 + v);
    v              = (y1 - s1) * G;
    const float y2 = v + s1;
    s1             = flush(y2 + v);
    v              = (y2 - s2) * G;
    const float y3 = v + s2;
    s2             = flush(y3 + v);
    v              = (y3 - s3) * G;
    const float y4 = v + s3;
    s3             = flush(y4 + v);
    out[i]         = y4;
  }
  s->cv   = last_cv;
  s->s[0] = s0;
  s->s[1] = s1;
  s->s[2] = s2;
  s->s[3] = s3;
}

static CH_REALTIME void
ladder_process(const ChNode* const node, const uint32_t n)
{
  LadderState* const s    = (LadderState*)node->state;
  float* const       out  = node->out[0];
  const float        rate = node->ctx->rate;
  float              os[CH_OS8_FACTOR * CH_MAX_BLOCK];

  update_params(s, node->param, rate);
  ch_dc_setup(&s->dc, (float)CH_DC_CORNER, rate);
  ch_os8_up(&s->os, node->in[IN_IN], os, n);
  ladder_loop(s, os, node->in[IN_CUTOFF], os, n, rate);
  ch_os8_down(&s->os, os, out, n);
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = ch_dc_step(&s->dc, out[i]);
  }
}

const ChKind ch_kind_ladder = {
  .name   = "ladder",
  .doc    = "transistor-ladder low-pass, 24 dB/octave, resonant and saturating",
  .inputs = inputs,
  .n_inputs   = CH_COUNT(inputs),
  .outputs    = outputs,
  .n_outputs  = CH_COUNT(outputs),
  .params     = params,
  .n_params   = CH_COUNT(params),
  .state_size = sizeof(LadderState),
  .init       = ladder_init,
  .process    = ladder_process,
};
