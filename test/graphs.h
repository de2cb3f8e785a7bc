/* Whole graphs in the engine's tests: the block-length invariance check
   that the compiler and polyphony tests share. */
#ifndef CH_TEST_GRAPHS_H
#define CH_TEST_GRAPHS_H

#include "../src/graph.h"
#include "../src/model.h"

#include <stdbool.h>
#include <stdint.h>

/**
   Whether `model` renders the same `total` frames (both channels, bit for
   bit) in blocks of `block` as in one ch_graph_run(), each from its own
   fresh compile at `rate` with the inputs of `host`.  The one run's left
   channel RMS goes to `*rms` (if not NULL), so that a test can tell it
   from silence.  A model that does not compile is a failed check with the
   compiler's message.
*/
bool graph_same_in_blocks(const ChModel*      model,
                          const ChHostInputs* host,
                          float               rate,
                          uint32_t            total,
                          uint32_t            block,
                          double*             rms);

#endif /* CH_TEST_GRAPHS_H */
