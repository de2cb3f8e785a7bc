/* The `svf` module: a 12 dB/octave state-variable filter (LP, BP, HP). */
#include "../kind.h"
#include "lanes.h"

#include <math.h>
#include <stdbool.h>

/*
   A trapezoidal (TPT, zero-delay-feedback) state-variable filter after
   Zavalishin and Simper: the bilinear transform of the analog SVF with the
   cutoff prewarped, so the response at `cutoff` matches the analog one
   exactly and the state stays stable however fast the cutoff moves.

   Analog prototype, s normalised to the cutoff, k = 1/Q:
     LP = 1 / (s^2 + k s + 1)     (at cutoff: Q, -3 dB for res 0)
     BP = k s / (s^2 + k s + 1)   (normalised: 0 dB peak at cutoff)
     HP = s^2 / (s^2 + k s + 1)
   so lp + bp + hp equals the input.  `res` maps exponentially onto
   Q = 0.7071 * (25 / 0.7071)^res: 0 is Butterworth (maximally flat),
   0.5 gives Q 4.2, 1 gives Q 25 (+28 dB peak for LP/HP, no
   self-oscillation).
*/

enum { IN_IN, IN_CUTOFF };
enum { OUT_LP, OUT_BP, OUT_HP };
enum { P_CUTOFF, P_RES };

#define Q_MIN 0.70710678118654752
#define Q_MAX 25.0
/* tan() blows up at Nyquist; cv may also push the cutoff very low. */
#define FC_MAX_RATIO 0.49f
#define FC_MIN       1.0f
/* No flush of tiny state: run() sets flush-to-zero and denormals-are-zero
   (docs/engine.md, "Output guards"), so a decaying tail ends in exact
   zeros without a test per sample, whatever the block length. */

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

/* A voice's state: the trapezoidal integrators ic1, ic2; the clamped
   cutoff fc the coefficients are for; k = 1/Q, g = tan(pi fc / rate),
   a1 = 1 / (1 + g (g + k)), a2 = g a1, a3 = g a2; and the params and
   input they were worked out from (cutoff, res, cv, rate). */
#define SVF_FIELDS(X)                                                          \
  X(float, ic1)                                                                \
  X(float, ic2)                                                                \
  X(float, fc)                                                                 \
  X(float, k)                                                                  \
  X(float, g)                                                                  \
  X(float, a1)                                                                 \
  X(float, a2)                                                                 \
  X(float, a3)                                                                 \
  X(float, cutoff)                                                             \
  X(float, res)                                                                \
  X(float, cv)                                                                 \
  X(float, rate)

/* All voices side by side (ChKind.lanes), and one voice as the scalar code
   works on it. */
typedef struct {
  SVF_FIELDS(CH_LANES_ARRAY)
} SvfState;
typedef struct {
  SVF_FIELDS(CH_LANES_ONE)
} SvfVoice;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to filter" },
  { "cutoff", CH_SIGNAL_CV, "octaves added to the cutoff param" },
};

static const ChPortInfo outputs[] = {
  { "lp", CH_SIGNAL_AUDIO, "low-pass, 12 dB/octave" },
  { "bp", CH_SIGNAL_AUDIO, "band-pass, 0 dB at the cutoff" },
  { "hp", CH_SIGNAL_AUDIO, "high-pass, 12 dB/octave" },
};

static const ChParamInfo params[] = {
  { "cutoff", "Hz", 20.0f, 20000.0f, 1000.0f,
    "corner frequency, before the cutoff input", NULL },
  { "res", "", 0.0f, 1.0f, 0.1f,
    "resonance: Q from 0.707 (0) to 25 (1), exponentially", NULL },
};

/* tan(x) for 0 <= x <= 0.49 pi, as sin / cos of Taylor series to x^15
   and x^16 on [0, pi/2], whose absolute errors are below 7e-11; near pi/2
   (cos = 0.031 at 0.49 pi) the relative error of the quotient stays below
   3e-9, far under float resolution.  It runs per sample while a cutoff
   input moves, where a libm tan() would cost several times more. */
static double
tan_approx(const double x)
{
  const double x2 = x * x;
  const double sn =
    x *
    (1.0 +
     x2 * (-1.0 / 6 +
           x2 * (1.0 / 120 +
                 x2 * (-1.0 / 5040 +
                       x2 * (1.0 / 362880 +
                             x2 * (-1.0 / 39916800 +
                                   x2 * (1.0 / 6227020800.0 +
                                         x2 * (-1.0 / 1307674368000.0))))))));
  const double cs =
    1.0 +
    x2 *
      (-1.0 / 2 +
       x2 * (1.0 / 24 +
             x2 * (-1.0 / 720 +
                   x2 * (1.0 / 40320 +
                         x2 * (-1.0 / 3628800 +
                               x2 * (1.0 / 479001600.0 +
                                     x2 * (-1.0 / 87178291200.0 +
                                           x2 * (1.0 / 20922789888000.0))))))));
  return sn / cs;
}

static void
set_g(SvfVoice* const s, const float fc, const float rate)
{
  s->fc = fc;
  s->g  = (float)tan_approx(M_PI * (double)fc / (double)rate);
}

static void
set_a(SvfVoice* const s)
{
  s->a1 = 1.0f / (1.0f + s->g * (s->g + s->k));
  s->a2 = s->g * s->a1;
  s->a3 = s->g * s->a2;
}

/* NaN-safe: fmaxf/fminf drop a NaN operand, so a NaN cv lands in range. */
static float
clamp_fc(const float fc, const float rate)
{
  return fminf(fmaxf(fc, FC_MIN), FC_MAX_RATIO * rate);
}

static void
update_params(SvfVoice* const s, const float* const param, const float rate)
{
  const int new_rate = rate != s->rate; /* also true for zeroed state */
  const int new_res  = new_rate || param[P_RES] != s->res;
  const int new_fc   = new_rate || param[P_CUTOFF] != s->cutoff;
  if (new_res) {
    const double res = fmin(fmax((double)param[P_RES], 0.0), 1.0);
    s->res           = param[P_RES];
    s->k             = (float)(1.0 / (Q_MIN * pow(Q_MAX / Q_MIN, res)));
  }
  if (new_fc) {
    s->cutoff = param[P_CUTOFF];
    s->rate   = rate;
    set_g(s, clamp_fc(s->cutoff * exp2f(s->cv), rate), rate);
  }
  if (new_res || new_fc) {
    set_a(s);
  }
}

static inline SvfVoice
svf_get(const SvfState* const lanes, const uint32_t v)
{
  SvfVoice  voice;
  SvfVoice* one = &voice;
  SVF_FIELDS(CH_LANES_GET)
  return voice;
}

static inline void
svf_put(SvfState* const lanes, const uint32_t v, const SvfVoice* const one)
{
  SVF_FIELDS(CH_LANES_PUT)
}

static void
svf_init(const ChNode* const node)
{
  SvfState* const lanes = (SvfState*)node->state;
  SvfVoice        s     = svf_get(lanes, node->voice);
  update_params(&s, node->param, node->ctx->rate);
  svf_put(lanes, node->voice, &s);
}

/* The sample loop.  `outs` (bits OUT_*) and `moving` are constants in
   each call below, so each variant compiles to a loop of its own: outputs
   nobody reads are not computed, an unlinked cutoff input is not
   compared per sample. */
CH_VARIANT void
svf_loop(const ChNode* const node,
         SvfVoice* const     s,
         const uint32_t      n,
         const uint32_t      outs,
         const bool          moving)
{
  const float* const in   = node->in[IN_IN];
  const float* const cv   = node->in[IN_CUTOFF];
  float* const       lp   = node->out[OUT_LP];
  float* const       bp   = node->out[OUT_BP];
  float* const       hp   = node->out[OUT_HP];
  const float        rate = node->ctx->rate;
  /* locals, so the stores to the outputs cannot force reloads */
  const float k       = s->k;
  float       a1      = s->a1;
  float       a2      = s->a2;
  float       a3      = s->a3;
  float       last_cv = s->cv;
  float       ic1     = s->ic1;
  float       ic2     = s->ic2;
  for (uint32_t i = 0; i < n; ++i) {
    /* exp2f and tan only when the modulated cutoff actually moves */
    if (moving && cv[i] != last_cv) {
      last_cv        = cv[i];
      const float fc = clamp_fc(s->cutoff * exp2f(last_cv), rate);
      if (fc != s->fc) {
        set_g(s, fc, rate);
        set_a(s);
        a1 = s->a1;
        a2 = s->a2;
        a3 = s->a3;
      }
    }
    const float v0 = in[i];
    const float v3 = v0 - ic2;
    const float v1 = a1 * ic1 + a2 * v3;
    const float v2 = ic2 + a2 * ic1 + a3 * v3;
    ic1            = 2.0f * v1 - ic1;
    ic2            = 2.0f * v2 - ic2;
    if (outs & (1u << OUT_LP)) {
      lp[i] = v2;
    }
    if (outs & (1u << OUT_BP)) {
      bp[i] = k * v1;
    }
    if (outs & (1u << OUT_HP)) {
      hp[i] = v0 - k * v1 - v2;
    }
  }
  s->cv  = last_cv;
  s->ic1 = ic1;
  s->ic2 = ic2;
}

/* The process of one instance, inlined into both entry points below. */
CH_VARIANT CH_REALTIME void
svf_one(const ChNode* const node, const uint32_t n)
{
  SvfState* const    lanes = (SvfState*)node->state;
  SvfVoice           voice = svf_get(lanes, node->voice);
  SvfVoice* const    s     = &voice;
  const float* const param = node->param;
  const float        rate  = node->ctx->rate;
  /* the usual call changes nothing: three compares, no call */
  if (rate != s->rate || param[P_RES] != s->res ||
      param[P_CUTOFF] != s->cutoff) {
    update_params(s, param, rate);
  }

  /* an unlinked cutoff input reads zeros: the cached cv must be 0 too */
  const bool moving = !((node->unlinked_in >> IN_CUTOFF) & 1u) || s->cv != 0.0f;
  const uint32_t lp = 1u << OUT_LP;
  const uint32_t outs = ~node->unread_out & 7u;
  if (outs == lp && !moving) {
    svf_loop(node, s, n, lp, false);
  } else if (outs == lp) {
    svf_loop(node, s, n, lp, true);
  } else {
    svf_loop(node, s, n, 7u, moving);
  }
  svf_put(lanes, node->voice, s);
}

static CH_REALTIME void
svf_process(const ChNode* const node, const uint32_t n)
{
  svf_one(node, n);
}

/* A group's voices one by one, out of line: a cutoff to work out calls
   exp2f(), which would make the usual group save registers. */
static CH_REALTIME __attribute__((noinline)) void
svf_group_one_by_one(const ChNode* const group, const uint32_t bits4)
{
  for (uint32_t j = 0; j < 4u; ++j) {
    if (bits4 >> j & 1u) {
      svf_one(&group[j], 1u);
    }
  }
}

/* What a voice's cached coefficients must have been worked out for, in
   all four lanes: built once a call. */
typedef struct {
  ChF4 rate;
  ChF4 res;
  ChF4 cutoff;
} SvfReady;

/* One sample of the voices `bits4` in lanes 4g .. 4g + 3, for the usual
   call: only lp read, the cutoff input unlinked.  Unless the cached
   coefficients of all of them match the params (and their cached cv is 0),
   they go through svf_one instead. */
CH_VARIANT CH_REALTIME void
svf_lanes_one(const ChNode* const   nodes,
              const SvfReady* const key,
              const uint32_t        bits4,
              const uint32_t        g)
{
  SvfState* const     L     = (SvfState*)nodes[0].state;
  const ChNode* const group = nodes + 4u * g;
  const ChI4          asked = ch_i4_mask(bits4);
  const ChF4          zero  = { 0.0f, 0.0f, 0.0f, 0.0f };
  const ChI4          ready =
    (ch_f4_at(L->rate, g) == key->rate) & (ch_f4_at(L->res, g) == key->res) &
    (ch_f4_at(L->cutoff, g) == key->cutoff) & (ch_f4_at(L->cv, g) == zero);
  if ((ch_i4_bits(ready) & bits4) != bits4) {
    svf_group_one_by_one(group, bits4);
    return;
  }
  const ChF4 x   = ch_f4_input(group, bits4, IN_IN);
  const ChF4 a1  = ch_f4_at(L->a1, g);
  const ChF4 a2  = ch_f4_at(L->a2, g);
  const ChF4 a3  = ch_f4_at(L->a3, g);
  const ChF4 ic1 = ch_f4_at(L->ic1, g);
  const ChF4 ic2 = ch_f4_at(L->ic2, g);
  /* svf_loop's sample, operation for operation */
  const ChF4 v3 = x - ic2;
  const ChF4 v1 = a1 * ic1 + a2 * v3;
  const ChF4 v2 = ic2 + a2 * ic1 + a3 * v3;
  ch_f4_put(L->ic1, g, ch_f4_pick(asked, 2.0f * v1 - ic1, ic1));
  ch_f4_put(L->ic2, g, ch_f4_pick(asked, 2.0f * v2 - ic2, ic2));
  ch_f4_output(group, bits4, OUT_LP, v2);
}

/* A block of one sample in the usual call: four voices at a time.  A
   function of its own, so that the longer blocks' loop below compiles as
   if it were alone. */
static CH_REALTIME __attribute__((noinline)) void
svf_lanes(const ChNode* const nodes, const uint32_t bits)
{
  const float    rate = nodes[0].ctx->rate;
  const float    res  = nodes[0].param[P_RES];
  const float    cut  = nodes[0].param[P_CUTOFF];
  const SvfReady key  = { { rate, rate, rate, rate },
                          { res, res, res, res },
                          { cut, cut, cut, cut } };
  CH_EACH_GROUP(bits, svf_lanes_one(nodes, &key, bits4, g));
}

/* Longer blocks, and the unusual call, run voice by voice. */
static CH_REALTIME __attribute__((noinline)) void
svf_voices(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  CH_EACH_VOICE(nodes, bits, svf_one(node, n));
}

/* Two calls of their own, so that neither pays for the other's
   registers. */
static CH_REALTIME void
svf_process_voices(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  const uint32_t usual = (nodes[0].unlinked_in >> IN_CUTOFF & 1u) &&
                         (~nodes[0].unread_out & 7u) == 1u << OUT_LP;
  if (n == 1u && usual) {
    svf_lanes(nodes, bits);
  } else {
    svf_voices(nodes, bits, n);
  }
}

const ChKind ch_kind_svf = {
  CH_KIND_USUAL(svf, SvfState),
  .doc = "state-variable filter: low-, band- and high-pass, 12 dB/octave; the "
         "cutoff's tan() is a series within 3e-9 (relative)",
  .process_voices = svf_process_voices,
  .lanes          = sizeof(float),
};
