/* Building a graph to play (the floating-point mode it runs in is inline
   in build.h). */
#include "build.h"

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
