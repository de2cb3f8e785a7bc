/* The `vca` module: a voltage-controlled amplifier. */
#include "../kind.h"

#include <math.h>

enum { IN_IN, IN_CV };
enum { P_GAIN };

/* Smoothing time constant of the gain param: short enough to follow a
   knob, long enough that a step does not click. */
#define SMOOTH_SECONDS 0.005
/* Once this close, the smoother lands on its target (no denormal tail). */
#define SMOOTH_SNAP 1e-6

typedef struct {
  double gain; /* smoothed gain param */
  double coef; /* one-pole coefficient for `rate` */
  float  rate;
} VcaState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to amplify" },
  { "cv", CH_SIGNAL_CV, "added to the gain, per sample" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_AUDIO, "in * (gain + cv)" },
};

static const ChParamInfo params[] = {
  { "gain", "", 0.0f, 2.0f, 0.0f, "gain before cv is added (smoothed)", NULL },
};

static void
update_coef(VcaState* const s, const float rate)
{
  if (rate != s->rate) {
    s->rate = rate;
    s->coef = 1.0 - exp(-1.0 / (SMOOTH_SECONDS * (double)rate));
  }
}

static void
vca_init(const ChNode* const node)
{
  VcaState* const s = (VcaState*)node->state;
  update_coef(s, node->ctx->rate);
  s->gain = (double)node->param[P_GAIN]; /* start at the value: no fade-in */
}

static CH_REALTIME void
vca_process(const ChNode* const node, const uint32_t n)
{
  VcaState* const    s      = (VcaState*)node->state;
  const float* const in     = node->in[IN_IN];
  const float* const cv     = node->in[IN_CV];
  float* const       out    = node->out[0];
  const float        target = node->param[P_GAIN];

  update_coef(s, node->ctx->rate);

  double gain = s->gain;
  if (gain == (double)target) {
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = in[i] * (target + cv[i]);
    }
    return;
  }

  const double coef = s->coef;
  for (uint32_t i = 0; i < n; ++i) {
    /* double: a float smoother stalls short of its target */
    gain += coef * ((double)target - gain);
    if (fabs((double)target - gain) < SMOOTH_SNAP) {
      gain = (double)target; /* per sample: blocks do not matter */
    }
    out[i] = in[i] * ((float)gain + cv[i]);
  }
  s->gain = gain;
}

const ChKind ch_kind_vca = {
  "vca",
  "amplifier: out = in * (gain + cv)",
  inputs,
  CH_COUNT(inputs),
  outputs,
  CH_COUNT(outputs),
  params,
  CH_COUNT(params),
  sizeof(VcaState),
  vca_init,
  vca_process,
  0,
  NULL,
};
