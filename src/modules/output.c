/* The `output` module: adds its inputs to the graph's stereo output. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

enum { IN_LEFT, IN_RIGHT, IN_MONO };
enum { P_LEVEL };

typedef struct {
  double     level;  /* smoothed level param */
  ChSmoother smooth; /* coefficient of the parameter glides */
} OutputState;

static const ChPortInfo inputs[] = {
  { "left", CH_SIGNAL_AUDIO, "left channel" },
  { "right", CH_SIGNAL_AUDIO, "right channel" },
  { "mono", CH_SIGNAL_AUDIO, "added to both channels" },
};

static const ChParamInfo params[] = {
  { "level", "", 0.0f, 2.0f, 1.0f, "output gain (smoothed)", NULL },
};

static void
output_init(const ChNode* const node)
{
  OutputState* const s = (OutputState*)node->state;
  ch_smoother_coef(&s->smooth, node->ctx->rate);
  s->level = (double)node->param[P_LEVEL]; /* start at the value: no fade-in */
}

/* Adds rather than writes, so that several output modules mix. */
static CH_REALTIME void
output_process(const ChNode* const node, const uint32_t n)
{
  OutputState* const s      = (OutputState*)node->state;
  const float* const left   = node->in[IN_LEFT];
  const float* const right  = node->in[IN_RIGHT];
  const float* const mono   = node->in[IN_MONO];
  float* const       out_l  = node->ctx->out[0];
  float* const       out_r  = node->ctx->out[1];
  const float        target = node->param[P_LEVEL];

  ch_smoother_coef(&s->smooth, node->ctx->rate);

  double level = s->level;
  if (level == (double)target) {
    for (uint32_t i = 0; i < n; ++i) {
      out_l[i] += (left[i] + mono[i]) * target;
      out_r[i] += (right[i] + mono[i]) * target;
    }
    return;
  }

  const double coef = s->smooth.coef;
  for (uint32_t i = 0; i < n; ++i) {
    /* double: a float smoother stalls short of its target */
    level         = ch_smooth_step(level, target, coef);
    const float l = (float)level;
    out_l[i] += (left[i] + mono[i]) * l;
    out_r[i] += (right[i] + mono[i]) * l;
  }
  s->level = level;
}

/* At rest once the level has landed: silence in adds nothing. */
static CH_REALTIME int
output_quiet(const ChNode* const node)
{
  const OutputState* const s = (const OutputState*)node->state;
  return s->level == (double)node->param[P_LEVEL];
}

const ChKind ch_kind_output = {
  "output",
  "stereo output: adds (left|right + mono) * level to the plugin's output",
  inputs,
  CH_COUNT(inputs),
  NULL,
  0,
  params,
  CH_COUNT(params),
  sizeof(OutputState),
  output_init,
  output_process,
  CH_KIND_GLOBAL,
  NULL,
  NULL,
  output_quiet,
};
