/* Whole graphs in the engine's tests (see graphs.h). */
#include "graphs.h"

#include "check.h"
#include "dsp.h"

#include <stdlib.h>
#include <string.h>

static ChGraph*
compile(const ChModel* const model, const float rate)
{
  ChGraph* graph = NULL;
  ChError  err;
  CHECK_MSG(!ch_graph_new(model, NULL, rate, &graph, &err), "%s", err.msg);
  return graph;
}

bool
graph_same_in_blocks(const ChModel* const      model,
                     const ChHostInputs* const host,
                     const float               rate,
                     const uint32_t            total,
                     const uint32_t            block,
                     double* const             rms)
{
  float* const   buf   = (float*)calloc(4u * (size_t)total, sizeof(float));
  ChGraph* const whole = compile(model, rate);
  ChGraph* const parts = compile(model, rate);
  bool           same  = buf && whole && parts;
  if (same) {
    float* const l = buf + 2u * (size_t)total; /* in blocks */
    float* const r = l + total;
    ch_graph_run(whole, host, buf, buf + total, total);
    for (uint32_t done = 0; done < total; done += block) {
      const uint32_t n = total - done < block ? total - done : block;
      ch_graph_run(parts, host, l + done, r + done, n);
    }
    same = !memcmp(buf, l, 2u * total * sizeof(float));
    if (rms) {
      *rms = dsp_rms(buf, total);
    }
  }
  ch_graph_free(parts);
  ch_graph_free(whole);
  free(buf);
  return same;
}
