/* The `lfo` module: a low-frequency oscillator with six shapes and sync. */
#include "../kind.h"
#include "random.h"
#include "sine.h"
#include "smooth.h"

#include <math.h>
#include <stdint.h>

/*
   The phase runs in double: at 0.01 Hz and 192 kHz a step is 5e-8 of a
   cycle, which a float phase would round to nothing.  The `phase` param is
   folded into the running phase (a change shifts it by the difference), so
   a sync edge or a new instance starts the cycle at that point and the
   knob still turns the phase live.  Not band-limited: it is meant for
   modulation, where the steps of saw, square and random are wanted.
*/

enum { IN_RATE, IN_SYNC };
enum { OUT_OUT, OUT_UNI };
enum { P_SHAPE, P_RATE, P_DEPTH, P_PHASE };
enum { SINE, TRIANGLE, SAW, RAMP, SQUARE, RANDOM, N_SHAPES };

/* Highest frequency, as a fraction of the sample rate, that cv may reach:
   every cycle keeps at least 4 samples, so each random step is heard. */
#define MAX_FREQ_RATIO 0.25

typedef struct {
  double     phase;  /* 0..1, offset by the phase param */
  double     inc;    /* phase step per sample */
  double     depth;  /* smoothed depth param, as the vca gain */
  ChSmoother smooth; /* coefficient of the depth glide */
  float      hz;     /* rate param `inc` was computed for ... */
  float      cv;     /* ... with this rate input ... */
  float      rate;   /* ... at this sample rate */
  float      offset; /* phase param, wrapped to 0..1, already in `phase` */
  float      held;   /* random shape: value of the current cycle */
  uint32_t   rng;    /* xorshift32 state, never 0 once drawn from */
  uint32_t   sync_was;
} LfoState;

static const ChPortInfo inputs[] = {
  { "rate", CH_SIGNAL_CV, "octaves added to the rate param" },
  { "sync", CH_SIGNAL_GATE,
    "a rising edge restarts the cycle at the phase param" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_CV, "bipolar wave, -depth..depth" },
  { "uni", CH_SIGNAL_CV, "unipolar wave, 0..depth" },
};

static const char* const shapes[] = { "sine",   "triangle", "saw", "ramp",
                                      "square", "random",   NULL };

static const ChParamInfo params[] = {
  { "shape", "", 0.0f, 5.0f, 0.0f,
    "sine, triangle, saw (rising), ramp (falling), square, or random "
    "(a new stepped value each cycle)",
    shapes },
  { "rate", "Hz", 0.01f, 50.0f, 2.0f,
    "cycles per second, before the rate input", NULL },
  { "depth", "", 0.0f, 1.0f, 1.0f, "output amplitude (smoothed, 5 ms)", NULL },
  { "phase", "", 0.0f, 1.0f, 0.0f,
    "phase offset in cycles; where sync and a new note start", NULL },
};

/* Uniform in [-1, 1), exactly representable (the top 24 bits). */
static float
draw(LfoState* const s)
{
  s->rng = ch_random_next(s->rng ? s->rng : CH_RANDOM_SEED);
  return ch_random_bipolar(s->rng);
}

/* NaN-safe: fmax/fmin drop a NaN operand, so a NaN cv stops the LFO. */
static double
phase_inc(const float hz, const float cv, const float rate)
{
  const double f = (double)hz * exp2((double)cv);
  return fmin(fmax(f, 0.0), MAX_FREQ_RATIO * (double)rate) / (double)rate;
}

static float
wrap_offset(const float phase)
{
  const float p = phase - floorf(phase);
  return p < 1.0f && p >= 0.0f ? p : 0.0f; /* 1.0 and NaN start at 0 */
}

static void
update_params(LfoState* const s, const float* const param, const float rate)
{
  ch_smoother_coef(&s->smooth, rate);
  if (rate != s->rate || param[P_RATE] != s->hz) {
    s->rate = rate;
    s->hz   = param[P_RATE];
    s->inc  = phase_inc(s->hz, s->cv, rate);
  }
  const float offset = wrap_offset(param[P_PHASE]);
  if (offset != s->offset) {
    s->phase += (double)offset - (double)s->offset;
    s->phase -= floor(s->phase);
    s->offset = offset;
  }
}

static float
wave(const int shape, const double p, const float held)
{
  switch (shape) {
  case SINE:
    return (float)ch_sin2pi(p);
  case TRIANGLE: /* in phase with the sine: 0 rising at p = 0 */
    return (float)(p < 0.25   ? 4.0 * p
                   : p < 0.75 ? 2.0 - 4.0 * p
                              : 4.0 * p - 4.0);
  case SAW:
    return (float)(2.0 * p - 1.0);
  case RAMP:
    return (float)(1.0 - 2.0 * p);
  case SQUARE:
    return p < 0.5 ? 1.0f : -1.0f;
  default:
    return held;
  }
}

static void
lfo_init(const ChNode* const node)
{
  LfoState* const s = (LfoState*)node->state;
  s->rng            = ch_random_mix(node->voice + CH_RANDOM_SEED);
  s->held           = draw(s);
  update_params(s, node->param, node->ctx->rate);
  s->depth = (double)node->param[P_DEPTH]; /* start at the value */
}

static CH_REALTIME void
lfo_process(const ChNode* const node, const uint32_t n)
{
  LfoState* const    s    = (LfoState*)node->state;
  const float* const cv   = node->in[IN_RATE];
  const float* const sync = node->in[IN_SYNC];
  float* const       out  = node->out[OUT_OUT];
  float* const       uni  = node->out[OUT_UNI];
  const float        rate = node->ctx->rate;

  update_params(s, node->param, rate);

  const int shape =
    (int)fmin(fmax(floor((double)node->param[P_SHAPE] + 0.5), 0.0), RANDOM);
  const float  target   = node->param[P_DEPTH];
  const double coef     = s->smooth.coef;
  double       depth    = s->depth;
  double       phase    = s->phase;
  double       inc      = s->inc;
  float        last_cv  = s->cv;
  uint32_t     sync_was = s->sync_was;

  for (uint32_t i = 0; i < n; ++i) {
    if (cv[i] != last_cv) { /* exp2 only when the rate input moves */
      last_cv = cv[i];
      inc     = phase_inc(s->hz, last_cv, rate);
    }
    const uint32_t sync_now = sync[i] > 0.5f;
    if (sync_now && !sync_was) {
      phase   = (double)s->offset;
      s->held = draw(s); /* a restarted cycle is a new cycle */
    }
    sync_was = sync_now;

    depth         = ch_smooth_step(depth, target, coef);
    const float w = wave(shape, phase, s->held);
    out[i]        = (float)depth * w;
    uni[i]        = (float)depth * (0.5f * w + 0.5f);

    phase += inc;
    if (phase >= 1.0) {
      phase -= 1.0;
      s->held = draw(s); /* drawn for every shape: switching keeps the
                            random sequence where it would have been */
    }
  }
  s->depth    = depth;
  s->phase    = phase;
  s->inc      = inc;
  s->cv       = last_cv;
  s->sync_was = sync_was;
}

const ChKind ch_kind_lfo = {
  CH_KIND_USUAL(lfo, LfoState),
  .doc = "low-frequency oscillator: sine, triangle, saw, ramp, square, random",
};
