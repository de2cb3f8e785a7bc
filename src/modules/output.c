/* The `output` module: adds its inputs to the graph's stereo output. */
#include "../kind.h"
#include "dcblock.h"
#include "smooth.h"

#include <math.h>

enum { IN_LEFT, IN_RIGHT, IN_MONO };
enum { P_LEVEL, P_LOWCUT };

typedef struct {
  double     level;  /* smoothed level param */
  ChSmoother smooth; /* coefficient of the parameter glides */
  ChDcBlock  dc[2];  /* left, right */
} OutputState;

static const ChPortInfo inputs[] = {
  { "left", CH_SIGNAL_AUDIO, "left channel" },
  { "right", CH_SIGNAL_AUDIO, "right channel" },
  { "mono", CH_SIGNAL_AUDIO, "added to both channels" },
};

static const ChParamInfo params[] = {
  { "level", "", 0.0f, 2.0f, 1.0f, "output gain (smoothed)", NULL },
  { "lowcut", "Hz", 0.0f, 40.0f, CH_DC_CORNER,
    "corner of a one-pole high-pass on each channel that keeps DC and "
    "subsonic drift from the speakers; 0 passes DC (for control signals)",
    NULL },
};

static void
output_init(const ChNode* const node)
{
  OutputState* const s = (OutputState*)node->state;
  ch_smoother_coef(&s->smooth, node->ctx->rate);
  s->level = (double)node->param[P_LEVEL]; /* start at the value: no fade-in */
}

/* Adds rather than writes, so that several output modules mix.  Each
   channel passes a DC blocker at `lowcut` first (dcblock.h): the offset
   or subsonic drift a patch can make (pulse widths, drive, the onset of a
   decaying sine) never reaches the speakers or eats the headroom. */
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
  const float        lowcut = node->param[P_LOWCUT];
  const float        rate   = node->ctx->rate;

  ch_smoother_coef(&s->smooth, rate);
  const double coef  = s->smooth.coef;
  double       level = s->level;
  if (!(lowcut > 0.0f)) {
    for (uint32_t i = 0; i < n; ++i) {
      /* double: a float smoother stalls short of its target */
      level         = ch_smooth_step(level, target, coef);
      const float l = (float)level;
      out_l[i] += (left[i] + mono[i]) * l;
      out_r[i] += (right[i] + mono[i]) * l;
    }
    s->level = level;
    return;
  }
  ch_dc_setup(&s->dc[0], lowcut, rate);
  ch_dc_setup(&s->dc[1], lowcut, rate);
  for (uint32_t i = 0; i < n; ++i) {
    level         = ch_smooth_step(level, target, coef);
    const float l = (float)level;
    out_l[i] += ch_dc_step(&s->dc[0], left[i] + mono[i]) * l;
    out_r[i] += ch_dc_step(&s->dc[1], right[i] + mono[i]) * l;
  }
  s->level = level;
}

/* At rest once the level has landed and the DC blockers' tails have
   died (a skipped module would cut them): silence in adds nothing. */
static CH_REALTIME int
output_quiet(const ChNode* const node)
{
  const OutputState* const s = (const OutputState*)node->state;
  return s->level == (double)node->param[P_LEVEL] && ch_dc_at_rest(&s->dc[0]) &&
         ch_dc_at_rest(&s->dc[1]);
}

const ChKind ch_kind_output = {
  .name = "output",
  .doc  = "stereo output: adds (left|right + mono) * level to the plugin's "
          "output, through a DC blocker",
  CH_KIND_INPUTS(inputs),
  CH_KIND_PARAMS(params),
  .state_size = sizeof(OutputState),
  .init       = output_init,
  .process    = output_process,
  .flags      = CH_KIND_GLOBAL,
  .quiet      = output_quiet,
};
