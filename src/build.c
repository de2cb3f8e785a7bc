/* Building a graph to play, and the floating-point mode it runs in. */
#include "build.h"

#if defined(__SSE__) || defined(__x86_64__)
#  include <xmmintrin.h>
#  define CH_HAVE_MXCSR 1
#  define CH_FTZ_DAZ    0x8040u
#endif

ChStatus
ch_build(const ChModel* const model,
         const ChModel* const base,
         const float          rate,
         ChGraph** const      graph,
         ChError* const       err)
{
  const ChStatus st = ch_graph_new(model, base, rate, graph, err);
  if (!st) {
    ch_graph_prime(*graph, CH_PRIME_FRAMES);
  }
  return st;
}

#if CH_HAVE_MXCSR
CH_REALTIME ChFloatMode
ch_float_mode_enter(void)
{
  const ChFloatMode host = _mm_getcsr();
  _mm_setcsr(host | CH_FTZ_DAZ);
  return host;
}

CH_REALTIME void
ch_float_mode_leave(const ChFloatMode mode)
{
  _mm_setcsr(mode);
}
#else
CH_REALTIME ChFloatMode
ch_float_mode_enter(void)
{
  return 0;
}

CH_REALTIME void
ch_float_mode_leave(const ChFloatMode mode)
{
  (void)mode;
}
#endif
