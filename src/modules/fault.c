/* The `test_fault` module kind, for the fail-safe's tests only: a steady
   0.25 that turns into NaN or a runaway level on demand.  It is hidden
   from the registry's list (docs, TTL, UI) and found by name only after
   ch_registry_enable_test_kinds(), which the plugin calls when the
   environment has CHRONUS_TEST_KINDS set. */
#include "../kind.h"

#include <math.h>
#include <stdint.h>

typedef struct {
  uint64_t frames; /* rendered since init (priming included) */
} ChFaultState;

static const ChPortInfo ch_fault_outputs[] = {
  { "out", CH_SIGNAL_AUDIO,
    "+-0.25 at half the sample rate (the output blocks DC), until the fault" },
};

static const char* const ch_fault_modes[] = { "none", "nan", "runaway", NULL };

static const ChParamInfo ch_fault_params[] = {
  { "fault", "", 0.0f, 2.0f, 0.0f, "what to emit after `after`",
    ch_fault_modes },
  { "after", "s", 0.0f, 60.0f, 0.0f,
    "seconds rendered (priming included) before the fault", NULL },
};

static CH_REALTIME void
ch_fault_process(const ChNode* const node, const uint32_t n)
{
  ChFaultState* const s     = (ChFaultState*)node->state;
  float* const        out   = node->out[0];
  const int           mode  = (int)node->param[0];
  const uint64_t      after = (uint64_t)(node->param[1] * node->ctx->rate);
  const float         bad   = mode == 1 ? NAN : 100.0f;
  for (uint32_t i = 0; i < n; ++i) {
    const float sign = ((s->frames + i) & 1u) ? -1.0f : 1.0f;
    out[i]           = sign * (mode && s->frames + i >= after ? bad : 0.25f);
  }
  s->frames += n;
}

const ChKind ch_kind_test_fault = {
  .name = "test_fault",
  .doc  = "test only: a steady level that turns to NaN or runs away",
  CH_KIND_OUTPUTS(ch_fault_outputs),
  CH_KIND_PARAMS(ch_fault_params),
  .state_size = sizeof(ChFaultState),
  .process    = ch_fault_process,
};
