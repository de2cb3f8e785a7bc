/* The `feedback` module: a fixed CH_MAX_BLOCK-sample delay that may close a
   cycle in a patch. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

/*
   The graph compiler runs `process` early in each sub-block, before the
   modules that feed `in` have run, and `capture` after all of them.  So
   `process` may only emit samples captured in earlier sub-blocks: with a
   ring of exactly CH_MAX_BLOCK samples and n <= CH_MAX_BLOCK, reading slot
   `pos + i` before `capture` overwrites it yields the input from exactly
   CH_MAX_BLOCK samples ago, whatever the host's block sizes are.
*/

enum { IN_IN };
enum { P_GAIN };

#define RING CH_MAX_BLOCK

/* Captured samples beyond this are clipped and non-finite ones zeroed: a
   runaway loop elsewhere in the patch then stays finite and recovers. */
#define LIMIT 1e6f
/* Captured samples below this are flushed: a decaying loop must not
   circulate denormals forever. */
#define DENORMAL_FLOOR 1e-30f

typedef struct {
  float      ring[RING]; /* the last RING inputs, oldest at `pos` */
  double     gain;       /* smoothed gain param */
  ChSmoother smooth;     /* coefficient of the parameter glides */
  uint32_t   pos;        /* next slot to emit, then to overwrite */
} FeedbackState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to delay; may come from later modules" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_AUDIO, "in from 256 samples ago, times gain" },
};

static const ChParamInfo params[] = {
  { "gain", "", -1.0f, 1.0f, 1.0f,
    "gain of the delayed signal; negative inverts (smoothed, 5 ms)", NULL },
};

static void
feedback_init(const ChNode* const node)
{
  FeedbackState* const s = (FeedbackState*)node->state;
  ch_smoother_coef(&s->smooth, node->ctx->rate);
  s->gain = (double)node->param[P_GAIN];
}

/* Emits this sub-block; does not read `in` (it is not computed yet). */
static CH_REALTIME void
feedback_process(const ChNode* const node, const uint32_t n)
{
  FeedbackState* const s      = (FeedbackState*)node->state;
  float* const         out    = node->out[0];
  const float          target = node->param[P_GAIN];
  uint32_t             pos    = s->pos;

  ch_smoother_coef(&s->smooth, node->ctx->rate);

  double gain = s->gain;
  if (gain == (double)target) {
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = target * s->ring[pos];
      pos    = (pos + 1u) % RING;
    }
    return;
  }

  const double coef = s->smooth.coef;
  for (uint32_t i = 0; i < n; ++i) {
    gain   = ch_smooth_step(gain, target, coef);
    out[i] = (float)gain * s->ring[pos];
    pos    = (pos + 1u) % RING;
  }
  s->gain = gain;
}

/* Stores this sub-block's `in`, after every other module has run. */
static CH_REALTIME void
feedback_capture(const ChNode* const node, const uint32_t n)
{
  FeedbackState* const s   = (FeedbackState*)node->state;
  const float* const   in  = node->in[IN_IN];
  uint32_t             pos = s->pos;
  for (uint32_t i = 0; i < n; ++i) {
    float x      = in[i];
    x            = isfinite(x) ? fminf(fmaxf(x, -LIMIT), LIMIT) : 0.0f;
    s->ring[pos] = fabsf(x) < DENORMAL_FLOOR ? 0.0f : x;
    pos          = (pos + 1u) % RING;
  }
  s->pos = pos;
}

const ChKind ch_kind_feedback = {
  CH_KIND_USUAL(feedback, FeedbackState),
  .doc = "delays by 256 samples so a patch may loop back: out = gain * old in",
  .capture = feedback_capture,
};
