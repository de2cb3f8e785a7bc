/* Building a graph to play: validate, compile, instantiate and prime in one
   call, and the floating-point mode the engine runs in. */
#ifndef CH_BUILD_H
#define CH_BUILD_H

#include "graph.h"
#include "kind.h"
#include "model.h"
#include "status.h"

#include <stdint.h>

#if defined(__SSE__) || defined(__x86_64__)
#  include <xmmintrin.h>
#  define CH_HAVE_MXCSR 1
#  define CH_FTZ_DAZ    0x8040u /* MXCSR's flush-to-zero and denormals-are-zero \
                                 */
#else
#  define CH_HAVE_MXCSR 0
#endif

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
   Inline: the plugin's run() calls it every cycle, and the call was half
   of it.  Real-time.
*/
static inline CH_REALTIME ChFloatMode
ch_float_mode_enter(void)
{
#if CH_HAVE_MXCSR
  const ChFloatMode host = _mm_getcsr();
  _mm_setcsr(host | CH_FTZ_DAZ);
  return host;
#else
  return 0;
#endif
}

/** Put back the mode that ch_float_mode_enter() returned.  Real-time. */
static inline CH_REALTIME void
ch_float_mode_leave(const ChFloatMode mode)
{
#if CH_HAVE_MXCSR
  _mm_setcsr(mode);
#else
  (void)mode;
#endif
}

#ifdef __cplusplus
}
#endif

#endif /* CH_BUILD_H */
