/* Private layout of a compiled graph, shared by the compiler and runtime. */
#ifndef CH_GRAPH_IMPL_H
#define CH_GRAPH_IMPL_H

#include "graph.h"

/** Fan-in: several links into one input, summed before the module runs. */
typedef struct {
  float*              dst;
  const float* const* src;
  uint32_t            n_src;
} ChSum;

/** One call in the schedule: the fan-in sums it needs, then the function. */
typedef struct {
  ChProcessFunc process; /**< the kind's process, or its capture */
  const ChNode* node;
  const ChSum*  sums;
  uint32_t      n_sums;
} ChStep;

/** One module of the patch: one instance, or one per voice. */
typedef struct {
  const ChKind* kind;
  const char*   name;
  uint32_t      uid;   /**< the model's identity of the module */
  uint32_t      fresh; /**< bit p: param p was edited since the base model,
                          so a hot swap keeps it instead of carrying it */
  float*    param;     /**< shared by all instances */
  uint32_t* order;     /**< per param: order of the last ordered write */
  ChNode*   nodes;     /**< the instances */
  uint32_t  n_nodes;
} ChGraphModule;

struct ChGraphImpl {
  size_t          size; /**< bytes of the single allocation */
  ChContext       ctx;
  ChHostInputs    silent;     /**< host input used while priming */
  uint64_t        generation; /**< set by the owner, e.g. the commit count */
  uint32_t        polyphony;
  uint32_t        n_modules;
  uint32_t        n_steps;
  uint32_t        n_buffers;
  ChGraphModule*  modules; /**< in schedule order */
  ChStep*         steps;
  const uint32_t* by_name; /**< module indices sorted by name */
  float*          scratch; /**< 2 * CH_MAX_BLOCK frames for priming */
};

#endif /* CH_GRAPH_IMPL_H */
