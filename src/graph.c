/* The runtime: runs a compiled graph, sets parameters and carries module
   state across a hot swap, all without allocating. */
#include "graph_impl.h"

#include <string.h>

/* A fan-in: the first two sources in one pass, the rest added on.  The
   buffers never alias (the compiler gives each its own), which lets the
   loops vectorise. */
CH_REALTIME static void
sum_into(const ChSum* const sum, const uint32_t n)
{
  float* const restrict dst     = sum->dst;
  const float* const restrict a = sum->src[0];
  const float* const restrict b = sum->src[1];
  for (uint32_t i = 0; i < n; ++i) {
    dst[i] = a[i] + b[i];
  }
  for (uint32_t k = 2; k < sum->n_src; ++k) {
    const float* const restrict src = sum->src[k];
    for (uint32_t i = 0; i < n; ++i) {
      dst[i] += src[i];
    }
  }
}

CH_REALTIME static void
run_block(ChGraph* const graph, const uint32_t n)
{
  const ChStep* const steps = graph->steps;
  for (uint32_t t = 0; t < graph->n_steps; ++t) {
    const ChStep* const step = &steps[t];
    for (uint32_t s = 0; s < step->n_sums; ++s) {
      sum_into(&step->sums[s], n);
    }
    step->process(step->node, n);
  }
}

CH_REALTIME void
ch_graph_run(ChGraph* const            graph,
             const ChHostInputs* const host,
             float* const              left,
             float* const              right,
             const uint32_t            n)
{
  graph->ctx.host = host;
  for (uint32_t done = 0; done < n;) {
    const uint32_t chunk = n - done < CH_MAX_BLOCK ? n - done : CH_MAX_BLOCK;
    graph->ctx.out[0]    = left + done;
    graph->ctx.out[1]    = right + done;
    memset(graph->ctx.out[0], 0, chunk * sizeof(float));
    memset(graph->ctx.out[1], 0, chunk * sizeof(float));
    run_block(graph, chunk);
    done += chunk;
  }
}

void
ch_graph_prime(ChGraph* const graph, const uint32_t frames)
{
  /* Every page is resident already (ch_graph_new clears the whole block),
     so running it is what warms caches, filters and envelopes. */
  for (uint32_t done = 0; done < frames; done += CH_MAX_BLOCK) {
    const uint32_t n =
      frames - done < CH_MAX_BLOCK ? frames - done : CH_MAX_BLOCK;
    ch_graph_run(graph, &graph->silent, graph->scratch,
                 graph->scratch + CH_MAX_BLOCK, n);
  }
}

CH_REALTIME int
ch_graph_find(const ChGraph* const graph, const char* const name)
{
  uint32_t lo = 0;
  uint32_t hi = graph->n_modules;
  while (lo < hi) {
    const uint32_t mid   = lo + (hi - lo) / 2u;
    const uint32_t index = graph->by_name[mid];
    const int      cmp   = strcmp(name, graph->modules[index].name);
    if (!cmp) {
      return (int)index;
    }
    if (cmp < 0) {
      hi = mid;
    } else {
      lo = mid + 1u;
    }
  }
  return -1;
}

CH_REALTIME int
ch_graph_find_param(const ChGraph* const graph,
                    const uint32_t       module,
                    const char* const    name)
{
  return module < graph->n_modules
           ? ch_kind_find_param(graph->modules[module].kind, name)
           : -1;
}

CH_REALTIME ChStatus
ch_graph_set(ChGraph* const graph,
             const uint32_t module,
             const uint32_t param,
             const float    value)
{
  if (module >= graph->n_modules ||
      param >= graph->modules[module].kind->n_params) {
    return CH_ERR_UNKNOWN_PARAM;
  }
  const ChParamInfo* const info = &graph->modules[module].kind->params[param];
  if (!(value >= info->min && value <= info->max)) {
    return CH_ERR_RANGE;
  }
  graph->modules[module].param[param] = value;
  return CH_SUCCESS;
}

CH_REALTIME ChStatus
ch_graph_set_ordered(ChGraph* const graph,
                     const uint32_t module,
                     const uint32_t param,
                     const float    value,
                     const uint32_t order)
{
  if (module < graph->n_modules &&
      param < graph->modules[module].kind->n_params &&
      order < graph->modules[module].order[param]) {
    return CH_SUCCESS; /* a newer write is in place */
  }
  const ChStatus st = ch_graph_set(graph, module, param, value);
  if (!st) {
    graph->modules[module].order[param] = order;
  }
  return st;
}

CH_REALTIME float
ch_graph_get(const ChGraph* const graph,
             const uint32_t       module,
             const uint32_t       param)
{
  return graph->modules[module].param[param];
}

CH_REALTIME void
ch_graph_carry(ChGraph* const next, const ChGraph* const prev)
{
  /* Both name indexes are sorted, so one merge walk pairs the survivors. */
  uint32_t i = 0;
  uint32_t j = 0;
  while (i < next->n_modules && j < prev->n_modules) {
    ChGraphModule* const       to   = &next->modules[next->by_name[i]];
    const ChGraphModule* const from = &prev->modules[prev->by_name[j]];
    const int                  cmp  = strcmp(to->name, from->name);
    if (cmp < 0) {
      ++i;
    } else if (cmp > 0) {
      ++j;
    } else {
      if (to->uid == from->uid && to->kind == from->kind) {
        /* Voices beyond the old count start from their primed state. */
        const uint32_t shared =
          to->n_nodes < from->n_nodes ? to->n_nodes : from->n_nodes;
        /* Both graphs run at one rate (the instance's), so their states
           have one size. */
        const size_t size = ch_kind_state_size(to->kind, next->ctx.rate);
        for (uint32_t k = 0; k < shared; ++k) {
          memcpy(to->nodes[k].state, from->nodes[k].state, size);
        }
        for (uint32_t p = 0; p < to->kind->n_params; ++p) {
          if (!(to->fresh & (1u << p))) {
            to->param[p] = from->param[p];
            to->order[p] = from->order[p];
          }
        }
      }
      ++i;
      ++j;
    }
  }
}

void
ch_graph_set_generation(ChGraph* const graph, const uint64_t generation)
{
  graph->generation = generation;
}

CH_REALTIME uint64_t
ch_graph_generation(const ChGraph* const graph)
{
  return graph->generation;
}

uint32_t
ch_graph_polyphony(const ChGraph* const graph)
{
  return graph->polyphony;
}

uint32_t
ch_graph_n_instances(const ChGraph* const graph, const uint32_t index)
{
  return graph->modules[index].n_nodes;
}

uint32_t
ch_graph_n_modules(const ChGraph* const graph)
{
  return graph->n_modules;
}

const char*
ch_graph_module_name(const ChGraph* const graph, const uint32_t index)
{
  return graph->modules[index].name;
}

const ChKind*
ch_graph_module_kind(const ChGraph* const graph, const uint32_t index)
{
  return graph->modules[index].kind;
}

uint32_t
ch_graph_n_buffers(const ChGraph* const graph)
{
  return graph->n_buffers;
}

size_t
ch_graph_memory(const ChGraph* const graph)
{
  return graph->size;
}
