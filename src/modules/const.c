/* The `const` module kind: a constant control voltage set by a parameter. */
#include "../kind.h"

#include <stdint.h>

static const ChPortInfo ch_const_outputs[] = {
  { "out", CH_SIGNAL_CV, "the value, every frame" },
};

static const ChParamInfo ch_const_params[] = {
  { "value", "", -10.0f, 10.0f, 0.0f,
    "the output value; changes take effect at once (no smoothing)", NULL },
};

static CH_REALTIME void
ch_const_process(const ChNode* const node, const uint32_t n)
{
  float* const out   = node->out[0];
  const float  value = node->param[0];

  for (uint32_t i = 0; i < n; ++i) {
    out[i] = value;
  }
}

const ChKind ch_kind_const = {
  .name       = "const",
  .doc        = "constant control voltage",
  .inputs     = NULL,
  .n_inputs   = 0u,
  .outputs    = ch_const_outputs,
  .n_outputs  = (uint32_t)CH_COUNT(ch_const_outputs),
  .params     = ch_const_params,
  .n_params   = (uint32_t)CH_COUNT(ch_const_params),
  .state_size = 0u,
  .process    = ch_const_process,
};
