/* Models and whole graphs in the engine's tests: patches written as edit
   lines, and the block-length invariance check. */
#ifndef CH_TEST_GRAPHS_H
#define CH_TEST_GRAPHS_H

#include "../src/graph.h"
#include "../src/model.h"

#include <stdbool.h>
#include <stdint.h>

/**
   Applies `edits` to `model`, one a line, as in chronus-render's scripts
   without the time: "create NAME KIND", "set MODULE PARAM VALUE" and
   "connect FROM TO".  An edit the model refuses (or cannot read) is a
   failed check that names the line and gives the model's error.
*/
void model_edit(ChModel* model, const char* edits);

/** A new model made by model_edit(). */
ChModel* model_from(const char* edits);

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
