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
  .name = "const",
  .doc  = "constant control voltage",
  CH_KIND_OUTPUTS(ch_const_outputs),
  CH_KIND_PARAMS(ch_const_params),
  .process = ch_const_process,
};
