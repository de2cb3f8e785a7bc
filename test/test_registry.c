/* Every registered module kind declares itself consistently: the registry
   feeds validation, docs, TTL and the UI, so a slip here spreads. */
#include "../src/model.h"
#include "../src/registry.h"
#include "check.h"

static bool
unique(const char* const* names, uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = i + 1; j < n; ++j) {
      if (!strcmp(names[i], names[j])) {
        return false;
      }
    }
  }
  return true;
}

static void
test_kinds_are_consistent(void)
{
  CHECK(ch_registry_count() >= 10);
  const char* kind_names[64];
  for (uint32_t k = 0; k < ch_registry_count(); ++k) {
    const ChKind* const kind = ch_registry_at(k);
    kind_names[k]            = kind->name;
    CHECK_MSG(ch_name_valid(kind->name), "%s", kind->name);
    CHECK_MSG(ch_registry_find(kind->name) == kind, "%s", kind->name);
    CHECK_MSG(kind->doc && kind->doc[0], "%s has no doc", kind->name);
    CHECK_MSG(kind->process, "%s has no process", kind->name);
    CHECK(kind->n_inputs <= CH_MAX_PORTS && kind->n_outputs <= CH_MAX_PORTS);
    CHECK(kind->n_params <= CH_MAX_PARAMS);

    const char* names[CH_MAX_PORTS * 2 + CH_MAX_PARAMS];
    uint32_t    n = 0;
    for (uint32_t i = 0; i < kind->n_inputs; ++i) {
      names[n++] = kind->inputs[i].name;
      CHECK(kind->inputs[i].doc && ch_name_valid(kind->inputs[i].name));
    }
    CHECK_MSG(unique(names, n), "%s: input names repeat", kind->name);
    n = 0;
    for (uint32_t i = 0; i < kind->n_outputs; ++i) {
      names[n++] = kind->outputs[i].name;
      CHECK(kind->outputs[i].doc && ch_name_valid(kind->outputs[i].name));
    }
    CHECK_MSG(unique(names, n), "%s: output names repeat", kind->name);
    n = 0;
    for (uint32_t i = 0; i < kind->n_params; ++i) {
      const ChParamInfo* const p = &kind->params[i];
      names[n++]                 = p->name;
      CHECK_MSG(p->min <= p->def && p->def <= p->max, "%s:%s", kind->name,
                p->name);
      CHECK(p->doc && p->unit && ch_name_valid(p->name));
      if (p->choices) {
        int count = 0;
        while (p->choices[count]) {
          ++count;
        }
        CHECK_MSG(p->min == 0.0f && p->max == (float)(count - 1),
                  "%s:%s: range does not match its %d choices", kind->name,
                  p->name, count);
      }
    }
    CHECK_MSG(unique(names, n), "%s: parameter names repeat", kind->name);
  }
  CHECK(unique(kind_names, ch_registry_count()));
  CHECK(!ch_registry_find("nope") && !ch_registry_at(ch_registry_count()));
}

int
main(void)
{
  RUN(test_kinds_are_consistent);
  return CHECK_EXIT();
}
