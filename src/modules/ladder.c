/* The `ladder` module: a 4-pole transistor-ladder low-pass, 24 dB/octave. */
#include "../kind.h"
#include "dcblock.h"
#include "oversample.h"
#include "saturate.h"

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
   without; at 4x, drive 0.8 with res 0.5 still left them at -76 dB).  An
   input gain past GAIN_16X (drive 0.75 at res 1, full drive from res 0.46)
   squares the wave in a ringing loop whose partials outrun 8x (-67 to -81
   dB at full drive and res 0.8..1): the loop then runs at sixteen times
   the rate, crossfading when the factor changes.  On notes up to C7 the
   aliases stay 90 dB down at every drive and res.  The cutoff stays
   clamped to 0.49 of the base rate.  A 5 Hz DC blocker (dcblock.h) takes off
   the offset that saturating an asymmetric wave makes.
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

/* Input gain (drive times the passband compensation) from which the loop
   runs at 16x.  At 8x a full-scale C7 kept its aliases 90 dB down up to
   gain 34 (drive 0.8 at res 1) and 32 (full drive at res 0.5), only 74 at
   45 (full drive at res 0.8); 30 leaves a margin for louder input. */
#define GAIN_16X 30.0f
/* Base-rate samples a change of factor crossfades over (1.3 ms at 48 kHz). */
#define FADE_LEN 64u
/* Stage D's half-band delays by 4 8x samples going up, 3 coming down: the
   8x loop's input and output take as much, so both loops line up. */
#define D_UP   4u
#define D_DOWN 3u

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

/* One copy of the loop at one rate: its states and coefficients. */
typedef struct {
  float    s[4];   /* trapezoidal integrator states */
  float    fc;     /* clamped cutoff the coefficients below are for */
  float    G;      /* g / (1 + g), g = tan(pi fc / (factor rate)) */
  float    H;      /* 1 / (1 + g) = 1 - G */
  float    inv;    /* 1 / (1 + k G^4), the solved loop */
  float    cv;     /* the cutoff input fc was computed for */
  uint32_t factor; /* 8 or 16 */
} LadderLoop;

typedef struct {
  ChOversampler8 os;                  /* base rate <-> 8x */
  ChOsStage      d;                   /* 8x <-> 16x, for the 16x loop */
  float          hist[2u * CH_OS_MD]; /* the last 8x input, oldest first */
  float          post[D_DOWN];        /* the 8x loop's last output */
  ChDcBlock      dc;      /* what saturating an asymmetric wave shifts */
  LadderLoop     loop[2]; /* at 8x and at 16x */
  uint32_t       active;  /* the loop that plays: 0 (8x) or 1 (16x) */
  uint32_t       fade;    /* 8x samples left of a crossfade to it */
  float          k;       /* feedback */
  float          gain;   /* input gain: drive times the passband compensation */
  float          cutoff; /* params the cached values come from */
  float          res;
  float          drive;
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
    "8x oversampled, 16x at high drive and res (aliases 90 dB down), "
    "DC-blocked at 5 Hz",
    NULL },
};

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

/* `rate` is the base rate; the loop runs at its factor times it. */
static void
set_fc(LadderLoop* const l, const float k, const float fc, const float rate)
{
  const double g = tan(M_PI * (double)fc / ((double)rate * l->factor));
  const float  G = (float)(g / (1.0 + g));
  l->fc          = fc;
  l->G           = G;
  l->H           = (float)(1.0 / (1.0 + g));
  l->inv         = 1.0f / (1.0f + k * G * G * G * G);
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
    for (uint32_t i = 0; i < 2u; ++i) {
      LadderLoop* const l = &s->loop[i];
      set_fc(l, s->k, clamp_fc(s->cutoff * exp2f(l->cv), rate), rate);
    }
  }
}

static void
ladder_init(const ChNode* const node)
{
  LadderState* const s = (LadderState*)node->state;
  ch_os8_init(&s->os);
  ch_os_stage_init(&s->d);
  s->loop[0].factor = CH_OS8_FACTOR;
  s->loop[1].factor = 2u * CH_OS8_FACTOR;
  ch_dc_setup(&s->dc, (float)CH_DC_CORNER, node->ctx->rate);
  update_params(s, node->param, node->ctx->rate);
  s->active = s->gain > GAIN_16X;
}

/* The loop l over factor n oversampled samples of x, in place; cv per
   base sample. */
static CH_REALTIME void
ladder_loop(const LadderState* const s,
            LadderLoop* const        l,
            float* const             x,
            const float* const       cv,
            const uint32_t           n,
            const float              rate)
{
  /* locals, so the stores to the output cannot force reloads */
  const uint32_t f       = l->factor;
  const float    k       = s->k;
  const float    gain    = s->gain;
  float          G       = l->G;
  float          H       = l->H;
  float          inv     = l->inv;
  float          last_cv = l->cv;
  float          s0      = l->s[0];
  float          s1      = l->s[1];
  float          s2      = l->s[2];
  float          s3      = l->s[3];
  for (uint32_t i = 0; i < f * n; ++i) {
    /* tan only when the modulated cutoff actually moves */
    if (cv[i / f] != last_cv) {
      last_cv        = cv[i / f];
      const float fc = clamp_fc(s->cutoff * exp2f(last_cv), rate);
      if (fc != l->fc) {
        set_fc(l, k, fc, rate);
        G   = l->G;
        H   = l->H;
        inv = l->inv;
      }
    }
    /* what y4 would be for a zero loop input: the states' share */
    const float S = ((s0 * H * G + s1 * H) * G + s2 * H) * G + s3 * H;
    const float u = ch_fast_tanh((gain * x[i] - k * S) * inv);

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
    x[i]           = y4;
  }
  l->cv   = last_cv;
  l->s[0] = s0;
  l->s[1] = s1;
  l->s[2] = s2;
  l->s[3] = s3;
}

/* One loop over 8 n samples at 8x, in place: the 8x one delayed to line
   up with the 16x one between stage D's filters (`prev`: the 8x input
   before this block). */
static CH_REALTIME void
run_loop(LadderState* const s,
         const uint32_t     which,
         float* const       x8,
         const float* const prev,
         const float* const cv,
         const uint32_t     n,
         const float        rate)
{
  const uint32_t m = CH_OS8_FACTOR * n; /* >= 8 > D_UP, D_DOWN */
  if (which == 1u) {
    float x16[2u * CH_OS8_FACTOR * CH_MAX_BLOCK];
    ch_os_stage_up(&s->d, x8, x16, m);
    ladder_loop(s, &s->loop[1], x16, cv, n, rate);
    ch_os_stage_down(&s->d, x16, x8, m);
    return;
  }
  float y[D_UP + CH_OS8_FACTOR * CH_MAX_BLOCK];
  memcpy(y, prev + 2u * CH_OS_MD - D_UP, D_UP * sizeof(float));
  memcpy(y + D_UP, x8, m * sizeof(float));
  ladder_loop(s, &s->loop[0], y, cv, n, rate);
  memcpy(x8, s->post, D_DOWN * sizeof(float));
  memcpy(x8 + D_DOWN, y, (m - D_DOWN) * sizeof(float));
  memcpy(s->post, y + m - D_DOWN, D_DOWN * sizeof(float));
}

/*
   The loop runs at 16x only while the input gain needs it (twice the cost).
   A change of factor, at a block's start, starts the other loop from the
   playing one's states and crossfades to it over FADE_LEN samples; both
   run meanwhile.  Stage D's input history is primed from the 8x input's
   last samples; what the idle loop's output stages still hold is stale for
   a few 8x samples, where the fade has barely begun.
*/
static CH_REALTIME void
ladder_switch(LadderState* const s, const float rate)
{
  const uint32_t want = s->gain > GAIN_16X;
  if (want == s->active || s->fade > 0u) {
    return;
  }
  LadderLoop* const from = &s->loop[s->active];
  LadderLoop* const to   = &s->loop[want];
  memcpy(to->s, from->s, sizeof(to->s));
  to->cv = from->cv;
  set_fc(to, s->k, from->fc, rate);
  if (want == 1u) {
    ch_os_feed(&s->d.up, 2u * CH_OS_MD, s->hist, 2u * CH_OS_MD);
  }
  s->active = want;
  s->fade   = CH_OS8_FACTOR * FADE_LEN;
}

static CH_REALTIME void
ladder_process(const ChNode* const node, const uint32_t n)
{
  LadderState* const s    = (LadderState*)node->state;
  float* const       out  = node->out[0];
  const float* const cv   = node->in[IN_CUTOFF];
  const float        rate = node->ctx->rate;
  const uint32_t     m    = CH_OS8_FACTOR * n;
  float              x8[CH_OS8_FACTOR * CH_MAX_BLOCK];
  float              old[CH_OS8_FACTOR * CH_MAX_BLOCK];
  float              prev[2u * CH_OS_MD];

  update_params(s, node->param, rate);
  ch_dc_setup(&s->dc, (float)CH_DC_CORNER, rate);
  ladder_switch(s, rate);
  ch_os8_up(&s->os, node->in[IN_IN], x8, n);
  memcpy(prev, s->hist, sizeof(prev));
  memcpy(s->hist, x8 + m - 2u * CH_OS_MD, sizeof(prev));
  if (s->fade > 0u) { /* the loop faded out, on a copy of the input */
    memcpy(old, x8, m * sizeof(float));
    run_loop(s, 1u - s->active, old, prev, cv, n, rate);
  }
  run_loop(s, s->active, x8, prev, cv, n, rate);
  for (uint32_t j = 0; s->fade > 0u && j < m; ++j) {
    const float w = (float)--s->fade / (float)(CH_OS8_FACTOR * FADE_LEN);
    x8[j] += w * (old[j] - x8[j]);
  }
  ch_os8_down(&s->os, x8, out, n);
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = ch_dc_step(&s->dc, out[i]);
  }
}

const ChKind ch_kind_ladder = {
  CH_KIND_USUAL(ladder, LadderState),
  .doc = "transistor-ladder low-pass, 24 dB/octave, resonant and saturating",
};
