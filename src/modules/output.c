/* The `output` module: adds its inputs to the graph's stereo output. */
#include "../kind.h"
#include "dcblock.h"
#include "lanes.h"
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
static CH_REALTIME __attribute__((noinline)) void
output_block(const ChNode* const node, const uint32_t n)
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

/* What output_sample's coefficients follow, out of its line: the calls
   to exp() would make it save registers every sample. */
static CH_REALTIME __attribute__((noinline)) void
output_setup(OutputState* const s, const float lowcut, const float rate)
{
  ch_smoother_coef(&s->smooth, rate);
  ch_dc_setup(&s->dc[0], lowcut, rate);
  ch_dc_setup(&s->dc[1], lowcut, rate);
}

/* One sample through the DC blockers (a host running a frame at a time):
   both channels as one pair of doubles, operation for operation as
   output_block's loop, so the bits are the loop's. */
static CH_REALTIME void
output_sample(const ChNode* const node)
{
  OutputState* const s      = (OutputState*)node->state;
  const float        lowcut = node->param[P_LOWCUT];
  const float        rate   = node->ctx->rate;
  const float        mono   = node->in[IN_MONO][0];
  if (rate != s->smooth.rate || rate != s->dc[0].rate ||
      rate != s->dc[1].rate || lowcut != s->dc[0].corner ||
      lowcut != s->dc[1].corner) {
    output_setup(s, lowcut, rate);
  }
  s->level =
    ch_smooth_step(s->level, (double)node->param[P_LEVEL], s->smooth.coef);
  const ChD2 x  = { (double)(node->in[IN_LEFT][0] + mono),
                    (double)(node->in[IN_RIGHT][0] + mono) };
  const ChD2 x1 = { s->dc[0].x1, s->dc[1].x1 };
  const ChD2 y1 = { s->dc[0].y1, s->dc[1].y1 };
  const ChD2 r  = { s->dc[0].r, s->dc[1].r };
  const ChD2 y  = x - x1 + r * y1;
  /* ch_dc_step's end of the tail */
  const ChD2 ay   = (ChD2)((ChL2)y & INT64_MAX);
  const ChD2 tail = (ChD2)(~(ChL2)(ay < (ChD2){ 1e-10, 1e-10 }) & (ChL2)y);
  s->dc[0].x1     = x[0];
  s->dc[1].x1     = x[1];
  s->dc[0].y1     = tail[0];
  s->dc[1].y1     = tail[1];
  const float l   = (float)s->level;
  node->ctx->out[0][0] += (float)y[0] * l;
  node->ctx->out[1][0] += (float)y[1] * l;
}

static CH_REALTIME void
output_process(const ChNode* const node, const uint32_t n)
{
  if (n == 1u && node->param[P_LOWCUT] > 0.0f) {
    output_sample(node);
  } else {
    output_block(node, n);
  }
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
