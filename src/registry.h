/* The registry of module kinds: the one list that validation, docs, TTL and
   the UI all read. */
#ifndef CH_REGISTRY_H
#define CH_REGISTRY_H

#include "kind.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of registered kinds. */
uint32_t ch_registry_count(void);

/** Kind number `index` (0..count-1), in documentation order. */
const ChKind* ch_registry_at(uint32_t index);

/** The kind called `name`, or NULL. */
const ChKind* ch_registry_find(const char* name);

/**
   Make the test-only kinds (`test_fault`: NaN or runaway output on demand)
   findable by name.  They never appear in the list above.  Tests only.
*/
void ch_registry_enable_test_kinds(void);

#ifdef __cplusplus
}
#endif

#endif /* CH_REGISTRY_H */
