/* Whole graphs in the engine's tests (see graphs.h). */
#include "graphs.h"

#include "check.h"
#include "dsp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line of model_edit(). */
static void
edit_line(ChModel* const model, const char* const line)
{
  char      op[16];
  char      a[128];
  char      b[128];
  char      value[64];
  ChError   err;
  ChStatus  st = CH_ERR_SYNTAX;
  const int n  = sscanf(line, "%15s %127s %127s %63s", op, a, b, value);
  snprintf(err.msg, sizeof(err.msg), "not an edit");
  if (n == 3 && !strcmp(op, "create")) {
    st = ch_model_create(model, a, b, &err);
  } else if (n == 3 && !strcmp(op, "connect")) {
    st = ch_model_connect(model, a, b, &err);
  } else if (n == 4 && !strcmp(op, "set")) {
    char*       end = NULL;
    const float x   = strtof(value, &end);
    st              = *end ? CH_ERR_SYNTAX : ch_model_set(model, a, b, x, &err);
  }
  CHECK_MSG(!st, "'%s': %s", line, err.msg);
}

void
model_edit(ChModel* const model, const char* const edits)
{
  char* const copy = strdup(edits);
  char*       rest = copy;
  CHECK_MSG(copy, "out of memory copying the edits");
  for (char* line = NULL; (line = strsep(&rest, "\n"));) {
    if (*line) {
      edit_line(model, line);
    }
  }
  free(copy);
}

ChModel*
model_from(const char* const edits)
{
  ChModel* const model = ch_model_new();
  model_edit(model, edits);
  return model;
}

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
