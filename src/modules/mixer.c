/* The `mixer` module kind: four audio inputs summed with smoothed gains. */
#include "../kind.h"
#include "smooth.h"

#include <stdint.h>

#define CH_MIXER_N 4u

enum { CH_MIXER_P_LEVEL = CH_MIXER_N };

typedef struct {
  double gain[CH_MIXER_N]; /* smoothed gain * level of each input; double,
                              so tiny steps still move it to the target */
  ChSmoother smooth;       /* the 5 ms glide of smooth.h: a gain step is within
                              1 % after 25 ms, so automation does not zipper */
} ChMixerState;

static const ChPortInfo ch_mixer_inputs[] = {
  { "in1", CH_SIGNAL_AUDIO, "input 1" },
  { "in2", CH_SIGNAL_AUDIO, "input 2" },
  { "in3", CH_SIGNAL_AUDIO, "input 3" },
  { "in4", CH_SIGNAL_AUDIO, "input 4" },
};

static const ChPortInfo ch_mixer_outputs[] = {
  { "out", CH_SIGNAL_AUDIO, "sum of the inputs times their gains and level" },
};

static const ChParamInfo ch_mixer_params[] = {
  { "gain1", "", 0.0f, 2.0f, 1.0f, "gain of input 1 (smoothed, 5 ms)", NULL },
  { "gain2", "", 0.0f, 2.0f, 1.0f, "gain of input 2 (smoothed, 5 ms)", NULL },
  { "gain3", "", 0.0f, 2.0f, 1.0f, "gain of input 3 (smoothed, 5 ms)", NULL },
  { "gain4", "", 0.0f, 2.0f, 1.0f, "gain of input 4 (smoothed, 5 ms)", NULL },
  { "level", "", 0.0f, 2.0f, 1.0f, "output level (smoothed, 5 ms)", NULL },
};

static void
ch_mixer_init(const ChNode* const node)
{
  ChMixerState* const s = (ChMixerState*)node->state;

  /* start at the set gains: a new mixer must not fade in from silence */
  for (uint32_t c = 0; c < CH_MIXER_N; ++c) {
    s->gain[c] = (double)(node->param[c] * node->param[CH_MIXER_P_LEVEL]);
  }
  ch_smoother_coef(&s->smooth, node->ctx->rate);
}

static CH_REALTIME void
ch_mixer_process(const ChNode* const node, const uint32_t n)
{
  ChMixerState* const s   = (ChMixerState*)node->state;
  float* const        out = node->out[0];
  const float* const  p   = node->param;

  ch_smoother_coef(&s->smooth, node->ctx->rate);

  const double k = s->smooth.coef;
  float        target[CH_MIXER_N];
  double       g[CH_MIXER_N];
  int          settled = 1;
  for (uint32_t c = 0; c < CH_MIXER_N; ++c) {
    target[c] = p[c] * p[CH_MIXER_P_LEVEL];
    g[c]      = s->gain[c];
    settled &= g[c] == (double)target[c];
  }

  const float* const a = node->in[0];
  const float* const b = node->in[1];
  const float* const c = node->in[2];
  const float* const d = node->in[3];

  if (settled) {
    const float g0 = (float)g[0], g1 = (float)g[1];
    const float g2 = (float)g[2], g3 = (float)g[3];
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = a[i] * g0 + b[i] * g1 + c[i] * g2 + d[i] * g3;
    }
    return;
  }

  for (uint32_t i = 0; i < n; ++i) {
    float gf[CH_MIXER_N];
    for (uint32_t j = 0; j < CH_MIXER_N; ++j) {
      g[j]  = ch_smooth_step(g[j], target[j], k);
      gf[j] = (float)g[j];
    }
    out[i] = a[i] * gf[0] + b[i] * gf[1] + c[i] * gf[2] + d[i] * gf[3];
  }

  for (uint32_t j = 0; j < CH_MIXER_N; ++j) {
    s->gain[j] = g[j];
  }
}

const ChKind ch_kind_mixer = {
  .name = "mixer",
  .doc  = "four-input mixer with smoothed gains and an output level",
  CH_KIND_TABLES(ch_mixer_inputs, ch_mixer_outputs, ch_mixer_params),
  .state_size = sizeof(ChMixerState),
  .init       = ch_mixer_init,
  .process    = ch_mixer_process,
};
