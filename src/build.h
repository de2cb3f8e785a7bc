/* Building a graph to play: validate, compile, instantiate and prime in one
   call, and the floating-point mode the engine runs in. */
#ifndef CH_BUILD_H
#define CH_BUILD_H

#include "graph.h"
#include "kind.h"
#include "model.h"
#include "status.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Frames a new graph runs before it may play (four blocks of silence):
    fills filter and envelope state and warms the caches. */
#define CH_PRIME_FRAMES (4u * CH_MAX_BLOCK)

/**
   Validate and compile `model` for `rate` Hz, instantiate every module and
   prime the graph with CH_PRIME_FRAMES of silence, so that its first real
   block finds warm memory and settled filters.  `base` is as for
   ch_graph_new().  Errors name the module, port or cycle; on error `*graph`
   is NULL.  Not real-time (the worker thread, or a tool).
*/
ChStatus ch_build(const ChModel* model,
                  const ChModel* base,
                  float          rate,
                  ChGraph**      graph,
                  ChError*       err);

/** The caller's floating-point mode, as ch_float_mode_enter() found it. */
typedef unsigned ChFloatMode;

/**
   Flush denormals to zero (FTZ and DAZ on x86: they cost hundreds of
   cycles each in filter tails and feedback) and return the mode found, for
   ch_float_mode_leave().  Does nothing where there is no such mode.
   Real-time.
*/
CH_REALTIME ChFloatMode ch_float_mode_enter(void);

/** Put back the mode that ch_float_mode_enter() returned.  Real-time. */
CH_REALTIME void ch_float_mode_leave(ChFloatMode mode);

#ifdef __cplusplus
}
#endif

#endif /* CH_BUILD_H */
