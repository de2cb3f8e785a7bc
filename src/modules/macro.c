/* The `macro` module: one of the host's macro knobs, as a signal. */
#include "../kind.h"
#include "smooth.h"

enum { P_INDEX, P_SCALE, P_OFFSET };

/* Knobs and automation move once per host block: the 5 ms glide of
   smooth.h hides the steps (a stepped macro on a vca gain would zipper). */
typedef struct {
  double     value;   /* smoothed output */
  ChSmoother smooth;  /* coefficient of the glide */
  uint32_t   started; /* 0 until the first block, which jumps to the value */
} MacroState;

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_CV, "macro knob * scale + offset (smoothed)" },
};

static const ChParamInfo params[] = {
  { "index", "", 0.0f, (float)(CH_N_MACROS - 1u), 0.0f,
    "which macro knob (0..7)", NULL },
  { "scale", "", -10.0f, 10.0f, 1.0f, "the knob's 0..1 is multiplied by this",
    NULL },
  { "offset", "", -10.0f, 10.0f, 0.0f, "then this is added", NULL },
};

/* Nearest knob; NaN and out-of-range values land on the nearest end. */
static uint32_t
knob_index(const float index)
{
  if (!(index >= 0.5f)) {
    return 0u;
  }
  if (index >= (float)(CH_N_MACROS - 1u)) {
    return CH_N_MACROS - 1u;
  }
  return (uint32_t)(index + 0.5f);
}

static CH_REALTIME void
macro_process(const ChNode* const node, const uint32_t n)
{
  MacroState* const s     = (MacroState*)node->state;
  const float*      param = node->param;
  const float       rate  = node->ctx->rate;
  float* const      out   = node->out[0];
  const float       target =
    node->ctx->host->macro[knob_index(param[P_INDEX])] * param[P_SCALE] +
    param[P_OFFSET];

  ch_smoother_coef(&s->smooth, rate);
  if (!s->started) {
    s->started = 1u;
    s->value   = (double)target;
  }

  double value = s->value;
  if (value == (double)target) {
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = target;
    }
    return;
  }

  const double coef = s->smooth.coef;
  for (uint32_t i = 0; i < n; ++i) { /* per sample: blocks do not matter */
    value  = ch_smooth_step(value, target, coef);
    out[i] = (float)value;
  }
  s->value = value;
}

const ChKind ch_kind_macro = {
  .name = "macro",
  .doc  = "a host macro knob as a signal: knob * scale + offset",
  CH_KIND_OUTPUTS(outputs),
  CH_KIND_PARAMS(params),
  .state_size = sizeof(MacroState),
  .process    = macro_process,
};
