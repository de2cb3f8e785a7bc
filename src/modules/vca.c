/* The `vca` module: a voltage-controlled amplifier. */
#include "../kind.h"
#include "lanes.h"
#include "smooth.h"

#include <math.h>

enum { IN_IN, IN_CV };
enum { P_GAIN };

/* Each voice's smoothed gain param and its smoother (coef, and the rate
   it was worked out for, held in a double), side by side (ChKind.lanes):
   a group of four voices finds whether all are settled in two compares. */
#define VCA_FIELDS(X) X(double, gain) X(double, coef) X(double, rate)

typedef struct {
  VCA_FIELDS(CH_LANES_ARRAY)
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
  VcaState* const L = (VcaState*)node->state;
  const uint32_t  v = node->voice;
  L->coef[v]        = ch_one_pole_coef(CH_SMOOTH_SECONDS, node->ctx->rate);
  L->rate[v]        = (double)node->ctx->rate;
  L->gain[v] = (double)node->param[P_GAIN]; /* start at the value: no fade-in */
}

/* The process of one instance, inlined into both entry points below. */
CH_VARIANT CH_REALTIME void
vca_one(const ChNode* const node, const uint32_t n)
{
  VcaState* const    L      = (VcaState*)node->state;
  const uint32_t     v      = node->voice;
  const float* const in     = node->in[IN_IN];
  const float* const cv     = node->in[IN_CV];
  float* const       out    = node->out[0];
  const float        target = node->param[P_GAIN];

  double gain = L->gain[v];
  if (gain == (double)target) { /* settled: no glide, no coefficient */
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = in[i] * (target + cv[i]);
    }
    return;
  }

  ChSmoother   smooth = { L->coef[v], (float)L->rate[v] };
  const double coef   = ch_smoother_coef(&smooth, node->ctx->rate);
  for (uint32_t i = 0; i < n; ++i) {
    /* double: a float smoother stalls short of its target */
    gain   = ch_smooth_step(gain, target, coef);
    out[i] = in[i] * ((float)gain + cv[i]);
  }
  L->gain[v] = gain;
  L->coef[v] = smooth.coef;
  L->rate[v] = (double)smooth.rate;
}

static CH_REALTIME void
vca_process(const ChNode* const node, const uint32_t n)
{
  vca_one(node, n);
}

/* A group's voices one by one, out of line: a glide's coefficient may
   call exp(), which would make the usual group save registers. */
static CH_REALTIME __attribute__((noinline)) void
vca_group_one_by_one(const ChNode* const group, const uint32_t bits4)
{
  for (uint32_t rest = bits4; rest; rest &= rest - 1u) {
    vca_one(&group[__builtin_ctz(rest)], 1u);
  }
}

/* One sample of the four voices of group `g`: when all are settled, one
   vector operation (the same float operations as vca_one, so the same
   bits); else each as vca_one. */
CH_VARIANT CH_REALTIME void
vca_group(const ChNode* const nodes,
          const ChF4          target,
          const ChD2          settled_at,
          const uint32_t      bits4,
          const uint32_t      g)
{
  const VcaState* const L     = (const VcaState*)nodes[0].state;
  const ChNode* const   group = nodes + 4u * g;
  const uint32_t        settled =
    ch_l2_bits(ch_d2_at(L->gain, 4u * g) == settled_at) |
    ch_l2_bits(ch_d2_at(L->gain, 4u * g + 2u) == settled_at) << 2u;
  if (bits4 == 15u && settled == 15u) {
    const ChF4 in = ch_f4_input(group, 15u, IN_IN);
    const ChF4 cv = ch_f4_input(group, 15u, IN_CV);
    ch_f4_output(group, 15u, 0u, in * (target + cv));
    return;
  }
  vca_group_one_by_one(group, bits4);
}

/* One sample, voice by voice, out of line (see vca_process_voices). */
static CH_REALTIME __attribute__((noinline)) void
vca_voices_one(const ChNode* const nodes, uint32_t bits)
{
  CH_EACH_VOICE(nodes, bits, vca_one(node, 1u));
}

static CH_REALTIME void
vca_process_voices(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  if (n == 1u && !ch_first_group_full(bits)) { /* voice by voice */
    vca_voices_one(nodes, bits);
  } else if (n == 1u) {
    /* the gain param in four lanes, and as a settled gain in two */
    const float t = nodes[0].param[P_GAIN];
    CH_EACH_GROUP(bits, vca_group(nodes, (ChF4){ t, t, t, t },
                                  (ChD2){ (double)t, (double)t }, bits4, g));
  } else {
    CH_EACH_VOICE(nodes, bits, vca_one(node, n));
  }
}

const ChKind ch_kind_vca = {
  CH_KIND_USUAL(vca, VcaState),
  .doc            = "amplifier: out = in * (gain + cv)",
  .process_voices = vca_process_voices,
  .lanes          = sizeof(double),
};
