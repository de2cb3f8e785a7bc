/* The `vca` module: a voltage-controlled amplifier. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

enum { IN_IN, IN_CV };
enum { P_GAIN };

typedef struct {
  double     gain;   /* smoothed gain param */
  ChSmoother smooth; /* coefficient of the parameter glides */
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
vca_init(const ChNode* const node)
{
  VcaState* const s = (VcaState*)node->state;
  ch_smoother_coef(&s->smooth, node->ctx->rate);
  s->gain = (double)node->param[P_GAIN]; /* start at the value: no fade-in */
}

/* The process of one instance, inlined into both entry points below. */
CH_VARIANT CH_REALTIME void
vca_one(const ChNode* const node, const uint32_t n)
{
  VcaState* const    s      = (VcaState*)node->state;
  const float* const in     = node->in[IN_IN];
  const float* const cv     = node->in[IN_CV];
  float* const       out    = node->out[0];
  const float        target = node->param[P_GAIN];

  double gain = s->gain;
  if (gain == (double)target) { /* settled: no glide, no coefficient */
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = in[i] * (target + cv[i]);
    }
    return;
  }

  const double coef = ch_smoother_coef(&s->smooth, node->ctx->rate);
  for (uint32_t i = 0; i < n; ++i) {
    /* double: a float smoother stalls short of its target */
    gain   = ch_smooth_step(gain, target, coef);
    out[i] = in[i] * ((float)gain + cv[i]);
  }
  s->gain = gain;
}

static CH_REALTIME void
vca_process(const ChNode* const node, const uint32_t n)
{
  vca_one(node, n);
}

/* One sample of the voices of `bits` whose buffers lie side by side
   (ChNode.strided_in, strided_out): the settled ones in one loop that
   finds their samples from the first voice's buffers, the others as
   vca_one. */
CH_VARIANT CH_REALTIME void
vca_one_sample(const ChNode* const nodes, uint32_t bits)
{
  const float        target  = nodes[0].param[P_GAIN];
  const double       settled = (double)target;
  const float* const in      = nodes[0].in[IN_IN];
  const float* const cv      = nodes[0].in[IN_CV];
  float* const       out     = nodes[0].out[0];
  for (; bits; bits &= bits - 1u) {
    const uint32_t v = (uint32_t)__builtin_ctz(bits);
    const size_t   i = (size_t)v * CH_MAX_BLOCK;
    if (((const VcaState*)nodes[v].state)->gain == settled) {
      out[i] = in[i] * (target + cv[i]);
    } else {
      vca_one(&nodes[v], 1u);
    }
  }
}

static CH_REALTIME void
vca_process_voices(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  const uint32_t both = 1u << IN_IN | 1u << IN_CV;
  if (n == 1u && (nodes[0].strided_in & both) == both &&
      (nodes[0].strided_out & 1u)) {
    vca_one_sample(nodes, bits);
  } else if (n == 1u) {
    CH_EACH_VOICE(nodes, bits, vca_one(node, 1u));
  } else {
    CH_EACH_VOICE(nodes, bits, vca_one(node, n));
  }
}

const ChKind ch_kind_vca = {
  CH_KIND_USUAL(vca, VcaState),
  .doc            = "amplifier: out = in * (gain + cv)",
  .process_voices = vca_process_voices,
};
