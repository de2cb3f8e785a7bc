/* The compiler: validates a model, orders it, plans its buffers and lays
   the whole graph out in a single allocation. */
#include "graph_impl.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scratch tables of one compilation; freed before it returns. */
typedef struct {
  const ChModel* model;
  uint32_t       n;        /* modules */
  uint32_t*      in_start; /* n+1: incoming links of module m are */
  uint32_t*      in_links; /* in_links[in_start[m] .. in_start[m+1]) */
  uint32_t*      order;    /* schedule: model indices */
  uint32_t*      pos;      /* position of each model index in order */
  uint8_t*       color;    /* DFS: 0 new, 1 on the path, 2 done */
  uint32_t*      path;     /* DFS path, for naming a cycle */
  uint32_t       n_order;
  uint32_t*      out_base; /* first output slot of each module */
  uint32_t*      in_base;  /* first input slot of each module */
  int32_t*       out_buf;  /* buffer of each output slot */
  int32_t*       sum_buf;  /* buffer of each input slot, if it sums */
  uint32_t       n_buffers;
} Plan;

static void
plan_free(Plan* const plan)
{
  free(plan->in_start);
  free(plan->in_links);
  free(plan->order);
  free(plan->pos);
  free(plan->color);
  free(plan->path);
  free(plan->out_base);
  free(plan->in_base);
  free(plan->out_buf);
  free(plan->sum_buf);
}

/* Index incoming links per module (counting sort keeps link order). */
static void
index_links(Plan* const plan)
{
  const ChModel* const model   = plan->model;
  const uint32_t       n_links = ch_model_n_links(model);
  for (uint32_t l = 0; l < n_links; ++l) {
    ++plan->in_start[ch_model_link(model, l)->to_module + 1u];
  }
  for (uint32_t m = 0; m < plan->n; ++m) {
    plan->in_start[m + 1u] += plan->in_start[m];
  }
  uint32_t* const fill = plan->path; /* borrowed as a cursor per module */
  memcpy(fill, plan->in_start, plan->n * sizeof(uint32_t));
  for (uint32_t l = 0; l < n_links; ++l) {
    plan->in_links[fill[ch_model_link(model, l)->to_module]++] = l;
  }
}

/* Describe the cycle path[from..depth) closed by an edge back to it. */
static ChStatus
report_cycle(const Plan* const plan,
             const uint32_t    from,
             const uint32_t    depth,
             ChError*          err)
{
  /* The path runs against the signal (each step goes to a source), so
     print it backwards to follow the signal. */
  char   text[400];
  size_t len = 0;
  for (uint32_t k = depth; k-- > from && len < sizeof(text);) {
    len += (size_t)snprintf(text + len, sizeof(text) - len, "%s -> ",
                            ch_model_module_name(plan->model, plan->path[k]));
  }
  if (len < sizeof(text)) {
    snprintf(text + len, sizeof(text) - len, "%s",
             ch_model_module_name(plan->model, plan->path[depth - 1u]));
  }
  return ch_error(err, CH_ERR_CYCLE,
                  "the links form a cycle: %s (a signal may not feed itself "
                  "within one block)",
                  text);
}

/* Depth-first over sources: a module is scheduled after all it reads. */
static ChStatus
visit(Plan* const plan, const uint32_t m, const uint32_t depth, ChError* err)
{
  plan->color[m]    = 1;
  plan->path[depth] = m;
  for (uint32_t k = plan->in_start[m]; k < plan->in_start[m + 1u]; ++k) {
    const uint32_t src =
      ch_model_link(plan->model, plan->in_links[k])->from_module;
    if (plan->color[src] == 1) {
      uint32_t from = depth;
      while (plan->path[from] != src) {
        --from;
      }
      return report_cycle(plan, from, depth + 1u, err);
    }
    if (plan->color[src] == 0) {
      const ChStatus st = visit(plan, src, depth + 1u, err);
      if (st) {
        return st;
      }
    }
  }
  plan->color[m]               = 2;
  plan->pos[m]                 = plan->n_order;
  plan->order[plan->n_order++] = m;
  return CH_SUCCESS;
}

/* Hands out buffer numbers, reusing released ones first. */
typedef struct {
  int32_t* free_list;
  uint32_t n_free;
  uint32_t n_buffers;
} BufferPool;

static int32_t
pool_take(BufferPool* const pool)
{
  return pool->n_free ? pool->free_list[--pool->n_free]
                      : (int32_t)pool->n_buffers++;
}

static void
pool_give(BufferPool* const pool, const int32_t buffer)
{
  pool->free_list[pool->n_free++] = buffer;
}

/*
   Assign a buffer to every output and every summing input, so that a buffer
   is reused as soon as its last reader has run.  Outputs are taken before
   the step's dead buffers are given back, so they never alias its inputs.
*/
static ChStatus
plan_buffers(Plan* const plan)
{
  const ChModel* const model     = plan->model;
  const uint32_t       n         = plan->n;
  uint32_t             n_outputs = 0;
  uint32_t             n_inputs  = 0;
  for (uint32_t m = 0; m < n; ++m) {
    const ChKind* const kind = ch_model_module_kind(model, m);
    plan->out_base[m]        = n_outputs;
    plan->in_base[m]         = n_inputs;
    n_outputs += kind->n_outputs;
    n_inputs += kind->n_inputs;
  }

  /* Last schedule position that reads each output (or its own, if none). */
  uint32_t* const last_use =
    (uint32_t*)calloc(n_outputs + 1u, sizeof(uint32_t));
  uint32_t* const in_count = (uint32_t*)calloc(n_inputs + 1u, sizeof(uint32_t));
  BufferPool      pool     = {
             (int32_t*)calloc(n_outputs + n_inputs + 1u, sizeof(int32_t)), 0, 0
  };
  plan->out_buf = (int32_t*)malloc((n_outputs + 1u) * sizeof(int32_t));
  plan->sum_buf = (int32_t*)malloc((n_inputs + 1u) * sizeof(int32_t));
  if (!last_use || !in_count || !pool.free_list || !plan->out_buf ||
      !plan->sum_buf) {
    free(last_use);
    free(in_count);
    free(pool.free_list);
    return CH_ERR_NO_MEMORY;
  }

  for (uint32_t m = 0; m < n; ++m) {
    const ChKind* const kind = ch_model_module_kind(model, m);
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      last_use[plan->out_base[m] + o] = plan->pos[m];
    }
  }
  for (uint32_t l = 0; l < ch_model_n_links(model); ++l) {
    const ChLink* const link = ch_model_link(model, l);
    uint32_t* const     last =
      &last_use[plan->out_base[link->from_module] + link->from_port];
    if (plan->pos[link->to_module] > *last) {
      *last = plan->pos[link->to_module];
    }
    ++in_count[plan->in_base[link->to_module] + link->to_port];
  }

  for (uint32_t p = 0; p < n; ++p) {
    const uint32_t      m    = plan->order[p];
    const ChKind* const kind = ch_model_module_kind(model, m);
    for (uint32_t i = 0; i < kind->n_inputs; ++i) {
      const uint32_t slot = plan->in_base[m] + i;
      plan->sum_buf[slot] = in_count[slot] > 1u ? pool_take(&pool) : -1;
    }
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      plan->out_buf[plan->out_base[m] + o] = pool_take(&pool);
    }
    /* Give back what this step was the last to read. */
    for (uint32_t i = 0; i < kind->n_inputs; ++i) {
      if (plan->sum_buf[plan->in_base[m] + i] >= 0) {
        pool_give(&pool, plan->sum_buf[plan->in_base[m] + i]);
      }
    }
    for (uint32_t k = plan->in_start[m]; k < plan->in_start[m + 1u]; ++k) {
      const ChLink* const link = ch_model_link(model, plan->in_links[k]);
      const uint32_t slot = plan->out_base[link->from_module] + link->from_port;
      if (last_use[slot] == p) {
        last_use[slot] = UINT32_MAX; /* once, however many links */
        pool_give(&pool, plan->out_buf[slot]);
      }
    }
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      const uint32_t slot = plan->out_base[m] + o;
      if (last_use[slot] == p) { /* nobody reads it */
        last_use[slot] = UINT32_MAX;
        pool_give(&pool, plan->out_buf[slot]);
      }
    }
  }

  plan->n_buffers = pool.n_buffers;
  free(last_use);
  free(in_count);
  free(pool.free_list);
  return CH_SUCCESS;
}

/* A bump allocator run twice: once to measure (base NULL), once to carve. */
typedef struct {
  char*  base;
  size_t used;
} Arena;

static void*
arena_take(Arena* const arena, const size_t size, const size_t align)
{
  arena->used     = (arena->used + align - 1u) / align * align;
  void* const ptr = arena->base ? arena->base + arena->used : NULL;
  arena->used += size;
  return ptr;
}

typedef struct {
  const char* name;
  uint32_t    index;
} NameEntry;

static int
compare_names(const void* const a, const void* const b)
{
  return strcmp(((const NameEntry*)a)->name, ((const NameEntry*)b)->name);
}

/* Parameters of model module `m` that differ from the same module (same
   identity) in `base`: all of them for a module new to it. */
static uint32_t
fresh_params(const ChModel* const model,
             const ChModel* const base,
             const uint32_t       m)
{
  const ChKind* const kind = ch_model_module_kind(model, m);
  const uint32_t      all  = (uint32_t)((1ull << kind->n_params) - 1u);
  const int           old =
    base ? ch_model_find(base, ch_model_module_name(model, m)) : -1;
  if (old < 0 || ch_model_module_uid(base, (uint32_t)old) !=
                   ch_model_module_uid(model, m)) {
    return all;
  }
  const float* const now    = ch_model_module_params(model, m);
  const float* const before = ch_model_module_params(base, (uint32_t)old);
  uint32_t           fresh  = 0;
  for (uint32_t p = 0; p < kind->n_params; ++p) {
    fresh |= (uint32_t)(now[p] != before[p]) << p;
  }
  return fresh;
}

/* Lay the graph out in `arena`; with a NULL base this only measures. */
static ChGraph*
layout(const Plan* const    plan,
       Arena* const         arena,
       const ChModel* const base,
       const float          rate)
{
  const ChModel* const model = plan->model;
  const uint32_t       n     = plan->n;

  ChGraph* const       graph = (ChGraph*)arena_take(arena, sizeof(ChGraph), 64);
  ChGraphModule* const modules =
    (ChGraphModule*)arena_take(arena, n * sizeof(ChGraphModule), 64);
  uint32_t* const by_name =
    (uint32_t*)arena_take(arena, n * sizeof(uint32_t), alignof(uint32_t));
  float* const buffers = (float*)arena_take(
    arena, (plan->n_buffers + 3u) * CH_MAX_BLOCK * sizeof(float), 64);

  if (graph) {
    graph->ctx.rate     = rate;
    graph->ctx.inv_rate = 1.0f / rate;
    graph->ctx.host     = &graph->silent;
    graph->n_modules    = n;
    graph->n_buffers    = plan->n_buffers;
    graph->modules      = modules;
    graph->by_name      = by_name;
    graph->scratch      = buffers + CH_MAX_BLOCK; /* after the zero buffer */
  }
  /* Buffer 0 holds zeros for unconnected inputs, 1-2 are priming output,
     the planned ones follow. */
  float* const planned = buffers ? buffers + 3u * CH_MAX_BLOCK : NULL;

  for (uint32_t p = 0; p < n; ++p) {
    const uint32_t      m    = plan->order[p];
    const ChKind* const kind = ch_model_module_kind(model, m);
    const char* const   name = ch_model_module_name(model, m);

    char* const name_copy  = (char*)arena_take(arena, strlen(name) + 1u, 1);
    const float** const in = (const float**)arena_take(
      arena, kind->n_inputs * sizeof(float*), alignof(float*));
    float** const out = (float**)arena_take(
      arena, kind->n_outputs * sizeof(float*), alignof(float*));
    float* const params =
      (float*)arena_take(arena, kind->n_params * sizeof(float), 64);
    void* const state = arena_take(arena, kind->state_size, 64);

    uint32_t n_sums = 0;
    uint32_t n_src  = 0;
    for (uint32_t k = plan->in_start[m]; k < plan->in_start[m + 1u]; ++k) {
      ++n_src;
    }
    for (uint32_t i = 0; i < kind->n_inputs; ++i) {
      n_sums += plan->sum_buf[plan->in_base[m] + i] >= 0;
    }
    ChSum* const sums =
      (ChSum*)arena_take(arena, n_sums * sizeof(ChSum), alignof(ChSum));
    const float** const srcs =
      (const float**)arena_take(arena, n_src * sizeof(float*), alignof(float*));

    if (!graph) {
      continue;
    }

    memcpy(name_copy, name, strlen(name) + 1u);
    memcpy(params, ch_model_module_params(model, m),
           kind->n_params * sizeof(float));
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      out[o] =
        planned + (size_t)plan->out_buf[plan->out_base[m] + o] * CH_MAX_BLOCK;
    }

    /* Each input reads its one source directly, a sum, or zeros. */
    uint32_t s_used   = 0;
    uint32_t src_used = 0;
    for (uint32_t i = 0; i < kind->n_inputs; ++i) {
      const int32_t sum_buffer = plan->sum_buf[plan->in_base[m] + i];
      in[i]                    = buffers; /* zeros */
      ChSum* const sum         = sum_buffer >= 0 ? &sums[s_used++] : NULL;
      if (sum) {
        sum->dst   = planned + (size_t)sum_buffer * CH_MAX_BLOCK;
        sum->src   = srcs + src_used;
        sum->n_src = 0;
        in[i]      = sum->dst;
      }
      for (uint32_t k = plan->in_start[m]; k < plan->in_start[m + 1u]; ++k) {
        const ChLink* const link = ch_model_link(model, plan->in_links[k]);
        if (link->to_port != i) {
          continue;
        }
        const float* const src =
          planned +
          (size_t)plan
              ->out_buf[plan->out_base[link->from_module] + link->from_port] *
            CH_MAX_BLOCK;
        if (sum) {
          srcs[src_used++] = src;
          ++sum->n_src;
        } else {
          in[i] = src;
        }
      }
    }

    ChGraphModule* const module = &modules[p];
    module->kind                = kind;
    module->name                = name_copy;
    module->uid                 = ch_model_module_uid(model, m);
    module->fresh               = fresh_params(model, base, m);
    module->param               = params;
    module->sums                = sums;
    module->n_sums              = n_sums;
    module->node.state          = state;
    module->node.in             = in;
    module->node.out            = out;
    module->node.param          = params;
    module->node.ctx            = &graph->ctx;
  }
  return graph;
}

ChStatus
ch_graph_new(const ChModel* const model,
             const ChModel* const base,
             const float          rate,
             ChGraph** const      graph,
             ChError*             err)
{
  *graph = NULL;
  if (!(rate >= 1000.0f && rate <= 768000.0f)) {
    return ch_error(err, CH_ERR_RANGE, "sample rate %g Hz is not supported",
                    (double)rate);
  }

  Plan plan;
  memset(&plan, 0, sizeof(plan));
  plan.model         = model;
  plan.n             = ch_model_n_modules(model);
  const uint32_t n   = plan.n;
  const uint32_t n_l = ch_model_n_links(model);
  plan.in_start      = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan.in_links      = (uint32_t*)calloc(n_l + 1u, sizeof(uint32_t));
  plan.order         = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan.pos           = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan.color         = (uint8_t*)calloc(n + 1u, 1);
  plan.path          = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan.out_base      = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan.in_base       = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  if (!plan.in_start || !plan.in_links || !plan.order || !plan.pos ||
      !plan.color || !plan.path || !plan.out_base || !plan.in_base) {
    plan_free(&plan);
    return ch_error(err, CH_ERR_NO_MEMORY, "out of memory compiling the patch");
  }

  index_links(&plan);
  ChStatus st = CH_SUCCESS;
  for (uint32_t m = 0; m < n && !st; ++m) {
    if (!plan.color[m]) {
      st = visit(&plan, m, 0, err);
    }
  }
  if (!st && plan_buffers(&plan)) {
    st = ch_error(err, CH_ERR_NO_MEMORY, "out of memory planning buffers");
  }
  if (st) {
    plan_free(&plan);
    return st;
  }

  Arena measure = { NULL, 0 };
  layout(&plan, &measure, base, rate);
  const size_t size  = (measure.used + 63u) / 64u * 64u;
  Arena        arena = { (char*)aligned_alloc(64, size), 0 };
  if (!arena.base) {
    plan_free(&plan);
    return ch_error(err, CH_ERR_NO_MEMORY,
                    "out of memory: the patch needs %zu bytes", size);
  }
  memset(arena.base, 0, size);
  ChGraph* const result = layout(&plan, &arena, base, rate);
  result->size          = size;

  NameEntry* const names = (NameEntry*)malloc((n + 1u) * sizeof(NameEntry));
  if (!names) {
    free(arena.base);
    plan_free(&plan);
    return ch_error(err, CH_ERR_NO_MEMORY, "out of memory compiling the patch");
  }
  for (uint32_t p = 0; p < n; ++p) {
    names[p].name  = result->modules[p].name;
    names[p].index = p;
  }
  qsort(names, n, sizeof(NameEntry), compare_names);
  uint32_t* const by_name = (uint32_t*)result->by_name;
  for (uint32_t p = 0; p < n; ++p) {
    by_name[p] = names[p].index;
  }
  free(names);
  plan_free(&plan);

  for (uint32_t p = 0; p < n; ++p) {
    const ChGraphModule* const module = &result->modules[p];
    if (module->kind->init) {
      module->kind->init(&module->node);
    }
  }
  *graph = result;
  return CH_SUCCESS;
}

void
ch_graph_free(ChGraph* const graph)
{
  free(graph);
}
