/* The list of module kinds; adding a kind means one file and one line here. */
#include "registry.h"

#include "hint.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

extern const ChKind ch_kind_osc;
extern const ChKind ch_kind_noise;
extern const ChKind ch_kind_adsr;
extern const ChKind ch_kind_vca;
extern const ChKind ch_kind_svf;
extern const ChKind ch_kind_mixer;
extern const ChKind ch_kind_const;
extern const ChKind ch_kind_output;
extern const ChKind ch_kind_voice;
extern const ChKind ch_kind_macro;
extern const ChKind ch_kind_math;
extern const ChKind ch_kind_delay;
extern const ChKind ch_kind_reverb;
extern const ChKind ch_kind_feedback;
extern const ChKind ch_kind_lfo;
extern const ChKind ch_kind_ladder;
extern const ChKind ch_kind_sh;
extern const ChKind ch_kind_slew;
extern const ChKind ch_kind_shaper;
extern const ChKind ch_kind_pan;
extern const ChKind ch_kind_test_fault;

/* Kinds only tests use: found by name once enabled, never listed. */
static atomic_bool test_kinds;

/* In documentation order: sources, shapers, filters, effects, plumbing. */
static const ChKind* const kinds[] = {
  // clang-format off
  &ch_kind_voice,
  &ch_kind_macro,
  &ch_kind_osc,
  &ch_kind_noise,
  &ch_kind_lfo,
  &ch_kind_const,
  &ch_kind_adsr,
  &ch_kind_vca,
  &ch_kind_mixer,
  &ch_kind_math,
  &ch_kind_slew,
  &ch_kind_sh,
  &ch_kind_shaper,
  &ch_kind_svf,
  &ch_kind_ladder,
  &ch_kind_delay,
  &ch_kind_pan,
  &ch_kind_reverb,
  &ch_kind_feedback,
  &ch_kind_output,
  // clang-format on
};

uint32_t
ch_registry_count(void)
{
  return (uint32_t)CH_COUNT(kinds);
}

const ChKind*
ch_registry_at(const uint32_t index)
{
  return index < CH_COUNT(kinds) ? kinds[index] : NULL;
}

void
ch_registry_enable_test_kinds(void)
{
  atomic_store(&test_kinds, true);
}

const ChKind*
ch_registry_find(const char* const name)
{
  if (atomic_load_explicit(&test_kinds, memory_order_relaxed) &&
      !strcmp(name, ch_kind_test_fault.name)) {
    return &ch_kind_test_fault;
  }
  for (size_t i = 0; i < CH_COUNT(kinds); ++i) {
    if (!strcmp(kinds[i]->name, name)) {
      return kinds[i];
    }
  }
  return NULL;
}

size_t
ch_kind_state_size(const ChKind* const kind, const float rate)
{
  return kind->state_size_at ? kind->state_size_at(rate) : kind->state_size;
}

CH_REALTIME void
ch_state_copy(void* const       dst,
              const void* const src,
              const size_t      size,
              const uint32_t    lanes,
              const uint32_t    voice)
{
  const size_t step  = lanes ? (size_t)CH_LANES * lanes : size;
  const size_t bytes = lanes ? lanes : size;
  for (size_t at = lanes ? (size_t)voice * lanes : 0u; at < size; at += step) {
    if (src) {
      memcpy((char*)dst + at, (const char*)src + at, bytes);
    } else {
      memset((char*)dst + at, 0, bytes);
    }
  }
}

CH_REALTIME int
ch_kind_find_input(const ChKind* const kind, const char* const name)
{
  return ch_names_find(name, kind->inputs, kind->n_inputs, sizeof(ChPortInfo));
}

CH_REALTIME int
ch_kind_find_output(const ChKind* const kind, const char* const name)
{
  return ch_names_find(name, kind->outputs, kind->n_outputs,
                       sizeof(ChPortInfo));
}

CH_REALTIME int
ch_kind_find_param(const ChKind* const kind, const char* const name)
{
  return ch_names_find(name, kind->params, kind->n_params, sizeof(ChParamInfo));
}
