/* The compiler: validates a model, orders it, plans its buffers and lays
   the whole graph out in a single allocation. */
#include "graph_impl.h"
#include "registry.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scratch tables of one compilation; freed before it returns. */
typedef struct {
  const ChModel* model;
  uint32_t       n;        /* modules */
  uint32_t       voices;   /* instances of a per-voice module */
  uint32_t*      in_start; /* n+1: incoming links of module m are */
  uint32_t*      in_links; /* in_links[in_start[m] .. in_start[m+1]) */
  uint32_t*      order;    /* schedule: model indices */
  uint8_t*       color;    /* DFS: 0 new, 1 on the path, 2 done */
  uint32_t*      path;     /* DFS path, for naming a cycle */
  uint32_t       n_order;
  uint32_t       cycle_link;  /* the link that closes a cycle found */
  uint8_t*       voiced;      /* per module: copied per voice */
  uint32_t*      inst_first;  /* per module: its first instance */
  uint32_t       n_inst;      /* instances, numbered in schedule order */
  uint32_t*      inst_module; /* per instance: its module */
  uint32_t*      out_first;   /* per instance: its first output slot */
  uint32_t*      in_first;    /* per instance: its first input slot */
  uint32_t*      read_step;   /* per instance: the step that reads its inputs */
  uint32_t*      steps;       /* per step: instance, | CAPTURE for a capture */
  uint32_t       n_steps;
  uint32_t*      sources;   /* scratch: source output slots of one input */
  int32_t*       out_buf;   /* buffer of each output slot */
  int32_t*       sum_buf;   /* buffer of each input slot, if it sums */
  uint32_t*      n_sources; /* sources of each input slot */
  uint32_t       n_out_slots;
  uint32_t       n_in_slots;
  uint32_t       n_buffers;
  uint8_t* buffer_voice; /* per buffer: its voice in a run (0: first, none) */
  uint8_t* exported;     /* per output slot: read outside its voice */
  uint8_t* read;         /* per output slot: read at all */
  bool     may_sleep;    /* voices may sleep (plan_sleep) */
} Plan;

#define CAPTURE 0x80000000u

static void
plan_free(Plan* const plan)
{
  free(plan->in_start);
  free(plan->in_links);
  free(plan->order);
  free(plan->color);
  free(plan->path);
  free(plan->voiced);
  free(plan->inst_first);
  free(plan->inst_module);
  free(plan->out_first);
  free(plan->in_first);
  free(plan->read_step);
  free(plan->steps);
  free(plan->sources);
  free(plan->out_buf);
  free(plan->sum_buf);
  free(plan->n_sources);
  free(plan->exported);
  free(plan->buffer_voice);
  free(plan->read);
}

static const ChKind*
kind_of(const Plan* const plan, const uint32_t m)
{
  return ch_model_module_kind(plan->model, m);
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

/* "osc:out -> f:in" for link `l`. */
static void
link_text(const ChModel* const model,
          const uint32_t       l,
          char* const          buf,
          const size_t         size)
{
  const ChLink* const link = ch_model_link(model, l);
  snprintf(
    buf, size, "%s:%s -> %s:%s", ch_model_module_name(model, link->from_module),
    ch_model_module_kind(model, link->from_module)
      ->outputs[link->from_port]
      .name,
    ch_model_module_name(model, link->to_module),
    ch_model_module_kind(model, link->to_module)->inputs[link->to_port].name);
}

/* Describe the cycle path[from..depth) closed by link `closing` back to
   it, and say how to make such a loop legal. */
static ChStatus
report_cycle(Plan* const    plan,
             const uint32_t from,
             const uint32_t depth,
             const uint32_t closing,
             ChError*       err)
{
  /* The path runs against the signal (each step goes to a source), so
     print it backwards to follow the signal. */
  char   text[200]; /* leaves room for the advice in a ChError */
  size_t len = 0;
  for (uint32_t k = depth; k-- > from && len < sizeof(text);) {
    len += (size_t)snprintf(text + len, sizeof(text) - len, "%s -> ",
                            ch_model_module_name(plan->model, plan->path[k]));
  }
  if (len < sizeof(text)) {
    snprintf(text + len, sizeof(text) - len, "%s",
             ch_model_module_name(plan->model, plan->path[depth - 1u]));
  }
  char link[2u * (2u * CH_NAME_MAX + 2u) + 8u];
  link_text(plan->model, closing, link, sizeof(link));
  plan->cycle_link = closing;
  return ch_error(err, CH_ERR_CYCLE,
                  "the links form a cycle: %s (closed by the link %s); a "
                  "signal may not feed itself within one block: put a "
                  "'feedback' module in the loop (it delays by %u samples)",
                  text, link, CH_MAX_BLOCK);
}

/* Depth-first over sources: a module is scheduled after all it reads. */
static ChStatus
visit(Plan* const plan, const uint32_t m, const uint32_t depth, ChError* err)
{
  plan->color[m]    = 1;
  plan->path[depth] = m;
  /* A feedback kind reads its inputs after everything else has run: they
     do not order it, and a loop through them is no cycle. */
  const uint32_t n_sources =
    kind_of(plan, m)->capture ? 0u : plan->in_start[m + 1u] - plan->in_start[m];
  for (uint32_t k = plan->in_start[m]; k < plan->in_start[m] + n_sources; ++k) {
    const uint32_t src =
      ch_model_link(plan->model, plan->in_links[k])->from_module;
    if (plan->color[src] == 1) {
      uint32_t from = depth;
      while (plan->path[from] != src) {
        --from;
      }
      return report_cycle(plan, from, depth + 1u, plan->in_links[k], err);
    }
    if (plan->color[src] == 0) {
      const ChStatus st = visit(plan, src, depth + 1u, err);
      if (st) {
        return st;
      }
    }
  }
  plan->color[m]               = 2;
  plan->order[plan->n_order++] = m;
  return CH_SUCCESS;
}

/* Number instances in schedule order, give each its port slots, and list
   the steps: every instance's process, then every capture. */
static ChStatus
plan_instances(Plan* const plan)
{
  const uint32_t n         = plan->n;
  uint32_t       n_inst    = 0;
  uint32_t       n_capture = 0;
  for (uint32_t p = 0; p < n; ++p) {
    const uint32_t m    = plan->order[p];
    const uint32_t k    = plan->voiced[m] ? plan->voices : 1u;
    plan->inst_first[m] = n_inst;
    n_inst += k;
    n_capture += kind_of(plan, m)->capture ? k : 0u;
  }
  plan->inst_first[n] = n_inst;
  plan->n_inst        = n_inst;
  plan->n_steps       = n_inst + n_capture;

  plan->inst_module = (uint32_t*)calloc(n_inst + 1u, sizeof(uint32_t));
  plan->out_first   = (uint32_t*)calloc(n_inst + 1u, sizeof(uint32_t));
  plan->in_first    = (uint32_t*)calloc(n_inst + 1u, sizeof(uint32_t));
  plan->read_step   = (uint32_t*)calloc(n_inst + 1u, sizeof(uint32_t));
  plan->steps       = (uint32_t*)calloc(plan->n_steps + 1u, sizeof(uint32_t));
  plan->sources =
    (uint32_t*)calloc((size_t)ch_model_n_links(plan->model) * plan->voices + 1u,
                      sizeof(uint32_t));
  if (!plan->inst_module || !plan->out_first || !plan->in_first ||
      !plan->read_step || !plan->steps || !plan->sources) {
    return CH_ERR_NO_MEMORY;
  }

  uint32_t outs = 0;
  uint32_t ins  = 0;
  uint32_t step = 0;
  for (uint32_t p = 0; p < n; ++p) {
    const uint32_t      m    = plan->order[p];
    const ChKind* const kind = kind_of(plan, m);
    for (uint32_t i = plan->inst_first[m];
         i < plan->inst_first[m] + (plan->voiced[m] ? plan->voices : 1u); ++i) {
      plan->inst_module[i] = m;
      plan->out_first[i]   = outs;
      plan->in_first[i]    = ins;
      plan->read_step[i]   = step;
      plan->steps[step++]  = i;
      outs += kind->n_outputs;
      ins += kind->n_inputs;
    }
  }
  for (uint32_t i = 0; i < n_inst; ++i) {
    if (kind_of(plan, plan->inst_module[i])->capture) {
      plan->read_step[i]  = step;
      plan->steps[step++] = i | CAPTURE;
    }
  }
  plan->n_out_slots = outs;
  plan->n_in_slots  = ins;
  return CH_SUCCESS;
}

/* The output slots that input `port` of instance `i` reads, into
   plan->sources; returns how many.  Voice k reads voice k of a per-voice
   source; a shared module reads (and so sums) every voice of it. */
static uint32_t
input_sources(const Plan* const plan, const uint32_t i, const uint32_t port)
{
  const uint32_t m     = plan->inst_module[i];
  const uint32_t voice = i - plan->inst_first[m];
  uint32_t       count = 0;
  for (uint32_t k = plan->in_start[m]; k < plan->in_start[m + 1u]; ++k) {
    const ChLink* const link = ch_model_link(plan->model, plan->in_links[k]);
    if (link->to_port != port) {
      continue;
    }
    const uint32_t s     = link->from_module;
    const uint32_t first = plan->inst_first[s];
    const uint32_t n_s   = plan->voiced[s] ? plan->voices : 1u;
    if (plan->voiced[s] && plan->voiced[m]) {
      plan->sources[count++] = plan->out_first[first + voice] + link->from_port;
    } else {
      for (uint32_t v = 0; v < n_s; ++v) {
        plan->sources[count++] = plan->out_first[first + v] + link->from_port;
      }
    }
  }
  return count;
}

/* Hands out buffer numbers, reusing released ones first: single buffers,
   and runs of `run` side by side for the voices of a module copied per
   voice.  A run's buffers come back one by one (each voice's readers end
   in their own steps); it is reused once all have. */
typedef struct {
  int32_t* free_list; /* single buffers given back */
  uint32_t n_free;
  int32_t* free_runs; /* first buffers of runs given back */
  uint32_t n_free_runs;
  int32_t* run_of; /* per buffer: its run's first buffer, or -1 */
  int32_t* back;   /* per run's first buffer: how many came back */
  uint32_t run;    /* buffers in a run: the voices */
  uint32_t n_buffers;
} BufferPool;

static int32_t
pool_take(BufferPool* const pool)
{
  if (pool->n_free) {
    return pool->free_list[--pool->n_free];
  }
  pool->run_of[pool->n_buffers] = -1;
  return (int32_t)pool->n_buffers++;
}

static int32_t
pool_take_run(BufferPool* const pool)
{
  if (pool->n_free_runs) {
    return pool->free_runs[--pool->n_free_runs];
  }
  const int32_t first = (int32_t)pool->n_buffers;
  for (uint32_t v = 0; v < pool->run; ++v) {
    pool->run_of[pool->n_buffers++] = first;
  }
  pool->back[first] = 0;
  return first;
}

static void
pool_give(BufferPool* const pool, const int32_t buffer)
{
  const int32_t first = pool->run_of[buffer];
  if (first < 0) {
    pool->free_list[pool->n_free++] = buffer;
  } else if ((uint32_t)++pool->back[first] == pool->run) {
    pool->back[first]                    = 0;
    pool->free_runs[pool->n_free_runs++] = first;
  }
}

/* Last step that reads each output slot (its own step, if none), and the
   sources of each input slot; no input sums yet. */
static void
find_last_use(Plan* const plan, uint32_t* const last_use)
{
  /* Process steps come first, one per instance in instance order, so
     instance i's outputs are written by step i. */
  for (uint32_t i = 0; i < plan->n_inst; ++i) {
    const ChKind* const kind = kind_of(plan, plan->inst_module[i]);
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      last_use[plan->out_first[i] + o] = i;
    }
  }
  for (uint32_t i = 0; i < plan->n_inst; ++i) {
    const ChKind* const kind = kind_of(plan, plan->inst_module[i]);
    for (uint32_t p = 0; p < kind->n_inputs; ++p) {
      const uint32_t count                   = input_sources(plan, i, p);
      plan->n_sources[plan->in_first[i] + p] = count;
      for (uint32_t c = 0; c < count; ++c) {
        uint32_t* const last = &last_use[plan->sources[c]];
        *last = plan->read_step[i] > *last ? plan->read_step[i] : *last;
      }
    }
  }
  /* What a voice source's outputs are read from is theirs alone
     (ChNode.kept_out): never given back. */
  for (uint32_t i = 0; i < plan->n_inst; ++i) {
    const ChKind* const kind = kind_of(plan, plan->inst_module[i]);
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      uint32_t* const last = &last_use[plan->out_first[i] + o];
      if ((kind->flags & CH_KIND_PER_VOICE) && *last != i) {
        *last = UINT32_MAX;
      }
    }
  }
  for (uint32_t slot = 0; slot < plan->n_in_slots; ++slot) {
    plan->sum_buf[slot] = -1;
  }
}

/* Buffers for what step `t` writes: the sums of the inputs it reads, and
   its outputs. */
static void
take_step_buffers(Plan* const plan, BufferPool* const pool, const uint32_t t)
{
  const uint32_t      i    = plan->steps[t] & ~CAPTURE;
  const ChKind* const kind = kind_of(plan, plan->inst_module[i]);
  const uint32_t      in0  = plan->in_first[i];
  if (plan->read_step[i] == t) {
    for (uint32_t p = 0; p < kind->n_inputs; ++p) {
      if (plan->n_sources[in0 + p] > 1u) {
        plan->sum_buf[in0 + p] = pool_take(pool);
      }
    }
  }
  if (plan->steps[t] & CAPTURE) {
    return;
  }
  const uint32_t m     = plan->inst_module[i];
  const uint32_t first = plan->inst_first[m];
  if (!plan->voiced[m] || plan->voices == 1u) {
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      plan->out_buf[plan->out_first[i] + o] = pool_take(pool);
    }
  } else if (i == first) {
    /* A module copied per voice takes each output's buffers for all its
       voices at once, side by side (ChNode.strided_in). */
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      const int32_t run = pool_take_run(pool);
      for (uint32_t v = 0; v < plan->voices; ++v) {
        plan->out_buf[plan->out_first[first + v] + o] = run + (int32_t)v;
      }
    }
  }
}

/* Give back what step `t` was the last to read, and its outputs that
   nobody reads. */
static void
give_step_buffers(Plan* const       plan,
                  BufferPool* const pool,
                  uint32_t* const   last_use,
                  const uint32_t    t)
{
  const uint32_t      i    = plan->steps[t] & ~CAPTURE;
  const ChKind* const kind = kind_of(plan, plan->inst_module[i]);
  const uint32_t      in0  = plan->in_first[i];
  const uint32_t      out0 = plan->out_first[i];
  if (plan->read_step[i] == t) {
    for (uint32_t p = 0; p < kind->n_inputs; ++p) {
      if (plan->sum_buf[in0 + p] >= 0) {
        pool_give(pool, plan->sum_buf[in0 + p]);
      }
      const uint32_t count = input_sources(plan, i, p);
      for (uint32_t c = 0; c < count; ++c) {
        const uint32_t slot = plan->sources[c];
        if (last_use[slot] == t) {
          last_use[slot] = UINT32_MAX; /* once, however many links */
          pool_give(pool, plan->out_buf[slot]);
        }
      }
    }
  }
  if (!(plan->steps[t] & CAPTURE)) {
    for (uint32_t o = 0; o < kind->n_outputs; ++o) {
      if (last_use[out0 + o] == t) { /* nobody reads it */
        last_use[out0 + o] = UINT32_MAX;
        pool_give(pool, plan->out_buf[out0 + o]);
      }
    }
  }
}

/*
   Assign a buffer to every output and every summing input, so that a buffer
   is reused as soon as its last reader has run.  Outputs are taken before
   the step's dead buffers are given back, so they never alias its inputs.
*/
static ChStatus
plan_buffers(Plan* const plan)
{
  const uint32_t n_out = plan->n_out_slots;
  const uint32_t n_in  = plan->n_in_slots;

  uint32_t* const last_use = (uint32_t*)calloc(n_out + 1u, sizeof(uint32_t));
  /* at most a buffer per slot; four tables of that many */
  const size_t   most  = n_out + n_in + 1u;
  int32_t* const table = (int32_t*)calloc(4u * most, sizeof(int32_t));
  BufferPool     pool  = {
         table,        0, table + most, 0, table + 2u * most, table + 3u * most,
         plan->voices, 0,
  };
  plan->out_buf   = (int32_t*)malloc((n_out + 1u) * sizeof(int32_t));
  plan->sum_buf   = (int32_t*)malloc((n_in + 1u) * sizeof(int32_t));
  plan->n_sources = (uint32_t*)calloc(n_in + 1u, sizeof(uint32_t));
  if (!last_use || !table || !plan->out_buf || !plan->sum_buf ||
      !plan->n_sources) {
    free(last_use);
    free(table);
    return CH_ERR_NO_MEMORY;
  }
  find_last_use(plan, last_use);
  for (uint32_t t = 0; t < plan->n_steps; ++t) {
    take_step_buffers(plan, &pool, t);
    give_step_buffers(plan, &pool, last_use, t);
  }
  plan->n_buffers    = pool.n_buffers;
  plan->buffer_voice = (uint8_t*)calloc(pool.n_buffers + 1u, 1);
  for (uint32_t b = 0; plan->buffer_voice && b < pool.n_buffers; ++b) {
    plan->buffer_voice[b] =
      (uint8_t)(pool.run_of[b] < 0 ? 0 : (int32_t)b - pool.run_of[b]);
  }
  free(last_use);
  free(table);
  return plan->buffer_voice ? CH_SUCCESS : CH_ERR_NO_MEMORY;
}

static uint32_t
slot_owner(const Plan* const plan, const uint32_t slot)
{
  uint32_t i = 0;
  while (i + 1u < plan->n_inst && plan->out_first[i + 1u] <= slot) {
    ++i;
  }
  return i;
}

/* The voice whose instance writes output slot `slot`, or CH_NO_VOICE. */
static uint8_t
slot_voice(const Plan* const plan, const uint32_t slot)
{
  const uint32_t i = slot_owner(plan, slot);
  const uint32_t m = plan->inst_module[i];
  return plan->voiced[m] ? (uint8_t)(i - plan->inst_first[m]) : CH_NO_VOICE;
}

/*
   What sleeping needs: which outputs of voice instances are read outside
   their voice (a silent voice is one whose exported outputs are all zero),
   and whether voices may sleep at all: not when a shared module drives a
   gate input in a voice, which could start its sound without a note.
*/
static ChStatus
plan_sleep(Plan* const plan)
{
  plan->exported  = (uint8_t*)calloc(plan->n_out_slots + 1u, 1);
  plan->read      = (uint8_t*)calloc(plan->n_out_slots + 1u, 1);
  plan->may_sleep = plan->voices <= CH_MAX_VOICES;
  if (!plan->exported || !plan->read) {
    return CH_ERR_NO_MEMORY;
  }
  for (uint32_t i = 0; i < plan->n_inst; ++i) {
    const uint32_t      m    = plan->inst_module[i];
    const ChKind* const kind = kind_of(plan, m);
    for (uint32_t p = 0; p < kind->n_inputs; ++p) {
      const uint32_t count = input_sources(plan, i, p);
      for (uint32_t c = 0; c < count; ++c) {
        const uint32_t slot = plan->sources[c];
        plan->read[slot]    = 1;
        const bool voice =
          plan->voiced[plan->inst_module[slot_owner(plan, slot)]];
        if (voice && !plan->voiced[m]) {
          plan->exported[slot] = 1;
        }
        if (!voice && plan->voiced[m] &&
            kind->inputs[p].signal == CH_SIGNAL_GATE) {
          plan->may_sleep = false;
        }
      }
    }
  }
  return CH_SUCCESS;
}

/* A bump allocator run twice: once to measure (mem NULL), once to carve. */
typedef struct {
  char*  mem;
  size_t used;
} Arena;

static void*
arena_take(Arena* const arena, const size_t size, const size_t align)
{
  arena->used     = (arena->used + align - 1u) / align * align;
  void* const ptr = arena->mem ? arena->mem + arena->used : NULL;
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

/* True if `base` has module `m` (its identity) under another name. */
static bool
renamed(const ChModel* const model, const ChModel* const base, const uint32_t m)
{
  const int old =
    base ? ch_model_find_uid(base, ch_model_module_uid(model, m)) : -1;
  return old >= 0 && strcmp(ch_model_module_name(base, (uint32_t)old),
                            ch_model_module_name(model, m));
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
  /* By identity: a renamed module is the same module. */
  const int old =
    base ? ch_model_find_uid(base, ch_model_module_uid(model, m)) : -1;
  if (old < 0 || ch_model_module_kind(base, (uint32_t)old) != kind) {
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

/* Where one instance's inputs point, carved out by layout(). */
typedef struct {
  const float** in;
  ChSum*        sums;
  const float** srcs;
  uint8_t*      src_voice;
  uint8_t*      in_voice;
} Wiring;

/* Each input of instance `i` reads its one source directly, a sum, or
   the zeros of `buffers`; sleep needs the voice of each source. */
static void
wire_inputs(const Plan* const   plan,
            const uint32_t      i,
            const float* const  buffers,
            float* const        planned,
            const Wiring* const w)
{
  const ChKind* const kind     = kind_of(plan, plan->inst_module[i]);
  uint32_t            s_used   = 0;
  uint32_t            src_used = 0;
  for (uint32_t port = 0; port < kind->n_inputs; ++port) {
    const uint32_t count = input_sources(plan, i, port);
    w->in_voice[port]    = CH_NO_VOICE;
    if (!count) {
      w->in[port] = buffers; /* zeros */
    } else if (count == 1u) {
      w->in[port] =
        planned + (size_t)plan->out_buf[plan->sources[0]] * CH_MAX_BLOCK;
      w->in_voice[port] = slot_voice(plan, plan->sources[0]);
    } else {
      ChSum* const sum = &w->sums[s_used++];
      sum->dst         = planned +
                 (size_t)plan->sum_buf[plan->in_first[i] + port] * CH_MAX_BLOCK;
      sum->src        = w->srcs + src_used;
      sum->src_voice  = w->src_voice + src_used;
      sum->n_src      = count;
      uint32_t voices = 0; /* ChSum.voices */
      bool     shared = false;
      for (uint32_t c = 0; c < count; ++c) {
        const uint32_t v = slot_voice(plan, plan->sources[c]);
        voices |= v == CH_NO_VOICE ? 0u : 1u << v;
        shared                 = shared || v == CH_NO_VOICE;
        w->src_voice[src_used] = (uint8_t)v;
        w->srcs[src_used++] =
          planned + (size_t)plan->out_buf[plan->sources[c]] * CH_MAX_BLOCK;
      }
      sum->voices = shared ? 0u : voices;
      w->in[port] = sum->dst;
    }
  }
}

/* The step that runs instance `i` (voice `voice` of model module `m`), and
   for a feedback kind the step that captures its inputs; that step
   computes the sums. */
static void
place_steps(const Plan* const    plan,
            ChStep* const        steps,
            const ChNode* const  node,
            const uint32_t       m,
            const uint32_t       voice,
            const ChSum* const   sums,
            const uint32_t       n_sums,
            const uint8_t* const in_voice,
            void* const          fresh)
{
  const ChKind* const kind    = kind_of(plan, m);
  const uint32_t      i       = plan->inst_first[m] + voice;
  const bool          capture = kind->capture != NULL;
  uint32_t export             = 0;
  for (uint32_t o = 0; o < kind->n_outputs; ++o) {
    export |= (uint32_t)plan->exported[plan->out_first[i] + o] << o;
  }
  uint32_t reads_voices = 0;
  for (uint32_t port = 0; port < kind->n_inputs; ++port) {
    reads_voices |= in_voice[port] != CH_NO_VOICE;
  }
  const ChStep step = {
    kind->process,
    node,
    capture ? NULL : sums,
    capture ? 0u : n_sums,
    plan->voiced[m] ? voice : CH_STEP_SHARED,
    export,
    (uint16_t)kind->n_inputs,
    (uint16_t)kind->n_outputs,
    !plan->voiced[m] && reads_voices,
    kind->quiet,
    plan->voiced[m] ? NULL : in_voice,
    fresh,
    ch_kind_state_size(kind, node->ctx->rate),
    kind->lanes,
    m,
    plan->voiced[m] && !capture ? kind->process_voices : NULL,
    0, /* group_voices sets the groups */
  };
  steps[i] = step;
  if (capture) {
    ChStep* const take = &steps[plan->read_step[i]];
    *take              = step;
    take->process      = kind->capture;
    take->sums         = sums;
    take->n_sums       = n_sums;
    take->fresh        = NULL; /* reset once */
    take->n_out        = 0;    /* it writes no buffer */
  }
}

/* What sleeping needs in the graph: which steps belong to no voice. */
static void
place_shared(const Plan* const plan, ChGraph* const graph, uint32_t* shared)
{
  graph->shared    = shared;
  graph->may_sleep = plan->may_sleep;
  graph->all_voices =
    plan->voices < 32u ? (uint32_t)((1ull << plan->voices) - 1u) : 0u;
  graph->n_shared = 0;
  for (uint32_t t = 0; t < plan->n_steps; ++t) {
    if (!plan->voiced[plan->inst_module[plan->steps[t] & ~CAPTURE]]) {
      shared[graph->n_shared++] = t;
    }
  }
}

/* The graph's tables, carved out of the arena (all NULL when measuring). */
typedef struct {
  ChGraph*       graph;
  ChGraphModule* modules;
  ChStep*        steps;
  ChNode*        nodes;
  uint32_t*      by_name;
  float*         buffers;
  float*         planned; /* the buffers of the plan, after the fixed ones */
  uint8_t*       buf_state;
  uint8_t*       buffer_voice;
  uint32_t*      shared;
  ChCall*        calls;
} Tables;

static Tables
take_tables(const Plan* const plan, Arena* const arena)
{
  const uint32_t n = plan->n;
  Tables         t;
  t.graph   = (ChGraph*)arena_take(arena, sizeof(ChGraph), 64);
  t.modules = (ChGraphModule*)arena_take(arena, n * sizeof(ChGraphModule), 64);
  t.steps   = (ChStep*)arena_take(arena, plan->n_steps * sizeof(ChStep), 64);
  t.nodes   = (ChNode*)arena_take(arena, plan->n_inst * sizeof(ChNode), 64);
  t.by_name =
    (uint32_t*)arena_take(arena, n * sizeof(uint32_t), alignof(uint32_t));
  t.buffers = (float*)arena_take(
    arena, (plan->n_buffers + CH_FIXED_BUFFERS) * CH_MAX_BLOCK * sizeof(float),
    64);
  t.buf_state =
    (uint8_t*)arena_take(arena, plan->n_buffers + CH_FIXED_BUFFERS, 1);
  t.buffer_voice    = (uint8_t*)arena_take(arena, plan->n_buffers + 1u, 1);
  uint32_t n_shared = 0;
  for (uint32_t s = 0; s < plan->n_steps; ++s) {
    n_shared += !plan->voiced[plan->inst_module[plan->steps[s] & ~CAPTURE]];
  }
  t.shared = (uint32_t*)arena_take(arena, n_shared * sizeof(uint32_t),
                                   alignof(uint32_t));
  t.calls =
    (ChCall*)arena_take(arena, plan->n_steps * sizeof(ChCall), alignof(ChCall));
  /* Buffer 0 holds zeros for unconnected inputs, 1-2 are priming output,
     the planned ones follow. */
  t.planned = t.buffers ? t.buffers + CH_FIXED_BUFFERS * CH_MAX_BLOCK : NULL;
  return t;
}

/* ChContext.id: built graphs, and the layouts of their buffers, are
   numbered from 1 (ch_graph_new may run on several threads, e.g. a worker
   and a UI's preview; graph.c takes a number on the audio thread when it
   lays a graph's runs out anew, which a host splitting its cycles at
   events may do twice a cycle: 64 bits never wrap, a lock-free add). */
CH_REALTIME uint64_t
ch_graph_next_id(void)
{
  static atomic_uint_fast64_t next = 0;
  return (uint64_t)atomic_fetch_add(&next, 1u) + 1u;
}

static void
fill_graph(const Plan* const plan, const Tables* const t, const float rate)
{
  ChGraph* const graph = t->graph;
  graph->ctx.rate      = rate;
  graph->ctx.inv_rate  = 1.0f / rate;
  graph->ctx.host      = &graph->silent_host;
  graph->ctx.voices    = plan->voices;
  graph->ctx.id        = ch_graph_next_id();
  graph->polyphony     = plan->voices;
  graph->n_modules     = plan->n;
  graph->n_steps       = plan->n_steps;
  graph->n_buffers     = plan->n_buffers;
  graph->modules       = t->modules;
  graph->steps         = t->steps;
  graph->by_name       = t->by_name;
  graph->scratch       = t->buffers + CH_MAX_BLOCK; /* after the zeros */
  graph->buffers       = t->buffers;
  graph->buf_state     = t->buf_state;
  graph->buffer_voice  = t->buffer_voice;
  memcpy(t->buffer_voice, plan->buffer_voice, plan->n_buffers);
  t->buf_state[0] = CH_BUF_ZERO; /* the others hold data (0) */
  place_shared(plan, graph, t->shared);
}

/* Instance `i` of model module `m` (its first instance is `first`): its
   pointer tables, state and sums, then its node and steps. */
static void
layout_instance(const Plan* const   plan,
                Arena* const        arena,
                const Tables* const t,
                const uint32_t      m,
                const uint32_t      i,
                float* const        params,
                const float         rate)
{
  const ChKind* const kind  = kind_of(plan, m);
  const uint32_t      first = plan->inst_first[m];
  const float** const in    = (const float**)arena_take(
       arena, kind->n_inputs * sizeof(float*), alignof(float*));
  float** const out = (float**)arena_take(
    arena, kind->n_outputs * sizeof(float*), alignof(float*));
  /* the instances of a lanes kind share the first one's state */
  void* const state  = kind->lanes && i > first
                         ? (t->graph ? t->nodes[first].state : NULL)
                         : arena_take(arena, ch_kind_state_size(kind, rate), 64);
  uint32_t    n_sums = 0;
  uint32_t    n_src  = 0;
  for (uint32_t port = 0; port < kind->n_inputs; ++port) {
    const uint32_t count = plan->n_sources[plan->in_first[i] + port];
    n_sums += count > 1u;
    n_src += count > 1u ? count : 0u;
  }
  ChSum* const sums =
    (ChSum*)arena_take(arena, n_sums * sizeof(ChSum), alignof(ChSum));
  const float** const srcs =
    (const float**)arena_take(arena, n_src * sizeof(float*), alignof(float*));
  uint8_t* const src_voice =
    (uint8_t*)arena_take(arena, n_src * sizeof(uint8_t), 1);
  uint8_t* const in_voice =
    (uint8_t*)arena_take(arena, kind->n_inputs * sizeof(uint8_t), 1);
  /* A voice's modules restart from a copy of their fresh state. */
  const bool   resets = plan->voiced[m] && !(kind->flags & CH_KIND_PER_VOICE);
  const size_t size   = ch_kind_state_size(kind, rate);
  /* a lanes kind's fresh states share one block, as its states do */
  void* const fresh = !resets ? NULL
                      : kind->lanes && i > first
                        ? (t->graph ? t->steps[first].fresh : NULL)
                        : arena_take(arena, size, 64);
  if (!t->graph) {
    return;
  }

  for (uint32_t o = 0; o < kind->n_outputs; ++o) {
    out[o] =
      t->planned + (size_t)plan->out_buf[plan->out_first[i] + o] * CH_MAX_BLOCK;
  }
  const Wiring wiring = { in, sums, srcs, src_voice, in_voice };
  wire_inputs(plan, i, t->buffers, t->planned, &wiring);

  ChNode* const node = &t->nodes[i];
  for (uint32_t port = 0; port < kind->n_inputs; ++port) {
    node->unlinked_in |= (uint32_t)(in[port] == t->buffers) << port;
  }
  for (uint32_t o = 0; o < kind->n_outputs; ++o) {
    const uint32_t slot = plan->out_first[i] + o;
    node->unread_out |= (uint32_t)!plan->read[slot] << o;
    /* an exported buffer is not: the graph zeroes it while its voice
       sleeps, and fades it when its note is stolen */
    node->kept_out |= (uint32_t)((kind->flags & CH_KIND_PER_VOICE) &&
                                 plan->read[slot] && !plan->exported[slot])
                      << o;
  }
  node->state = state;
  node->in    = in;
  node->out   = out;
  node->param = params;
  node->ctx   = &t->graph->ctx;
  node->voice = i - first;

  /* The step that reads the inputs computes their sums first. */
  place_steps(plan, t->steps, node, m, i - first, sums, n_sums, in_voice,
              fresh);
}

/* Whether `at` is voice k's buffer of a run (what the graph lays out
   anew for blocks of one sample, lay_out_voice_buffers). */
static bool
in_run(const Plan* const  plan,
       const float* const planned,
       const float* const at,
       const uint32_t     k)
{
  const size_t b = (size_t)(at - planned) / CH_MAX_BLOCK;
  return at >= planned && b < plan->n_buffers && plan->buffer_voice[b] == k;
}

/* ChNode.strided_in and strided_out of a module's `n` instances: bit p
   where port p's buffers are a run's, CH_MAX_BLOCK floats apart, voice
   0's first. */
static void
mark_strided(const Plan* const   plan,
             const float* const  planned,
             ChNode* const       nodes,
             const uint32_t      n,
             const ChKind* const kind)
{
  uint32_t bits[2] = { 0, 0 }; /* inputs, outputs */
  for (uint32_t side = 0; side < 2u && n > 1u; ++side) {
    const uint32_t n_ports = side ? kind->n_outputs : kind->n_inputs;
    for (uint32_t p = 0; p < n_ports; ++p) {
      const float* const base = side ? nodes[0].out[p] : nodes[0].in[p];
      bool               yes  = true;
      for (uint32_t k = 1; k < n; ++k) {
        const float* const at = side ? nodes[k].out[p] : nodes[k].in[p];
        yes                   = yes && at == base + (size_t)k * CH_MAX_BLOCK &&
              in_run(plan, planned, at, k);
      }
      bits[side] |= (uint32_t)yes << p;
    }
  }
  for (uint32_t k = 0; k < n; ++k) {
    nodes[k].strided_in  = bits[0];
    nodes[k].strided_out = bits[1];
  }
}

/* Module `p` of the schedule: its name, parameters and instances. */
static void
layout_module(const Plan* const    plan,
              Arena* const         arena,
              const Tables* const  t,
              const uint32_t       p,
              const ChModel* const base,
              const float          rate)
{
  const ChModel* const model   = plan->model;
  const uint32_t       m       = plan->order[p];
  const ChKind* const  kind    = kind_of(plan, m);
  const char* const    name    = ch_model_module_name(model, m);
  const uint32_t       first   = plan->inst_first[m];
  const uint32_t       n_nodes = plan->voiced[m] ? plan->voices : 1u;

  char* const  name_copy = (char*)arena_take(arena, strlen(name) + 1u, 1);
  float* const params =
    (float*)arena_take(arena, kind->n_params * sizeof(float), 64);
  uint32_t* const orders = (uint32_t*)arena_take(
    arena, kind->n_params * sizeof(uint32_t), alignof(uint32_t));
  if (t->graph) {
    memcpy(name_copy, name, strlen(name) + 1u);
    memcpy(params, ch_model_module_params(model, m),
           kind->n_params * sizeof(float));
    ChGraphModule* const module = &t->modules[p];
    module->kind                = kind;
    module->name                = name_copy;
    module->uid                 = ch_model_module_uid(model, m);
    module->model_index         = m;
    module->renamed             = renamed(model, base, m);
    module->fresh               = fresh_params(model, base, m);
    module->param               = params;
    module->order               = orders;
    module->nodes               = &t->nodes[first];
    module->n_nodes             = n_nodes;
    module->voiced              = plan->voiced[m];
  }
  for (uint32_t i = first; i < first + n_nodes; ++i) {
    layout_instance(plan, arena, t, m, i, params, rate);
  }
  if (t->graph) {
    mark_strided(plan, t->planned, &t->nodes[first], n_nodes, kind);
  }
}

/* Whether `step` continues, as voice k, the group of voice steps that
   `first` starts: the same module, its next node, the same exports. */
static bool
in_group(const ChStep* const first, const ChStep* const step, const uint32_t k)
{
  return step->process_voices == first->process_voices &&
         step->process == first->process && step->voice == k &&
         step->node == first->node + k && !step->n_sums &&
         step->export == first->export;
}

/* Group each module's voice steps for one process_voices call.  A step
   with fan-in sums stays alone: its sum must be computed just before it,
   as its buffer may be one the previous voice's step has just read. */
static void
group_voices(ChGraph* const graph)
{
  ChStep* const steps = graph->steps;
  for (uint32_t t = 0; t < graph->n_steps;) {
    ChStep* const first = &steps[t];
    uint32_t      k     = 1;
    if (first->process_voices && first->voice == 0 && !first->n_sums) {
      while (t + k < graph->n_steps && k < 32u &&
             in_group(first, &steps[t + k], k)) {
        ++k;
      }
      first->group = k;
    }
    t += k;
  }
}

/* The steady schedule: each group one call, each other step one, and
   whether it may run (no shared step can rest while every input it has is
   unlinked: run_shared's test in a block where nothing is marked). */
static void
place_calls(ChGraph* const graph, ChCall* const calls)
{
  graph->calls         = calls;
  graph->n_calls       = 0;
  graph->steady        = 1;
  graph->steady_output = 0;
  for (uint32_t t = 0; t < graph->n_steps; ++t) {
    const ChStep* const step = &graph->steps[t];
    const bool all  = step->node->unlinked_in == (1u << step->n_in) - 1u;
    ChCall     call = { NULL, step->node, step, 0 };
    if (step->voice == CH_STEP_SHARED) {
      graph->steady &= !(step->quiet && all);
      graph->steady_output |= !step->n_out;
    } else if (step->group) {
      call.voices = step->process_voices;
      call.mask   = ~0u >> (32u - step->group);
      t += step->group - 1u;
    }
    calls[graph->n_calls++] = call;
  }
}

/* Lay the graph out in `arena`; an arena without memory only measures. */
static ChGraph*
layout(Plan* const          plan,
       Arena* const         arena,
       const ChModel* const base,
       const float          rate)
{
  const Tables t = take_tables(plan, arena);
  if (t.graph) {
    fill_graph(plan, &t, rate);
  }
  for (uint32_t p = 0; p < plan->n; ++p) {
    layout_module(plan, arena, &t, p, base, rate);
  }
  if (t.graph) {
    group_voices(t.graph);
    place_calls(t.graph, t.calls);
  }
  return t.graph;
}

/* Fill the graph's index of modules sorted by name. */
static ChStatus
index_names(ChGraph* const graph, ChError* const err)
{
  const uint32_t   n     = graph->n_modules;
  NameEntry* const names = (NameEntry*)malloc((n + 1u) * sizeof(NameEntry));
  if (!names) {
    return ch_error(err, CH_ERR_NO_MEMORY, "out of memory compiling the patch");
  }
  for (uint32_t p = 0; p < n; ++p) {
    names[p].name  = graph->modules[p].name;
    names[p].index = p;
  }
  qsort(names, n, sizeof(NameEntry), compare_names);
  uint32_t* const by_name = (uint32_t*)graph->by_name;
  for (uint32_t p = 0; p < n; ++p) {
    by_name[p] = names[p].index;
  }
  free(names);
  return CH_SUCCESS;
}

static void
init_modules(ChGraph* const graph)
{
  for (uint32_t p = 0; p < graph->n_modules; ++p) {
    const ChGraphModule* const module = &graph->modules[p];
    for (uint32_t k = 0; k < module->n_nodes && module->kind->init; ++k) {
      module->kind->init(&module->nodes[k]);
    }
  }
}

/* Allocates the tables of `plan` for `model` and orders its modules (the
   depth-first walk that finds cycles).  The caller frees the plan. */
static ChStatus
plan_order(Plan* const plan, const ChModel* const model, ChError* err)
{
  memset(plan, 0, sizeof(*plan));
  plan->model        = model;
  plan->n            = ch_model_n_modules(model);
  plan->voices       = ch_model_polyphony(model);
  const uint32_t n   = plan->n;
  const uint32_t n_l = ch_model_n_links(model);
  plan->in_start     = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan->in_links     = (uint32_t*)calloc(n_l + 1u, sizeof(uint32_t));
  plan->order        = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan->color        = (uint8_t*)calloc(n + 1u, 1);
  plan->path         = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan->voiced       = (uint8_t*)calloc(n + 1u, 1);
  plan->inst_first   = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  if (!plan->in_start || !plan->in_links || !plan->order || !plan->color ||
      !plan->path || !plan->voiced || !plan->inst_first) {
    return ch_error(err, CH_ERR_NO_MEMORY, "out of memory compiling the patch");
  }
  index_links(plan);
  ChStatus st = CH_SUCCESS;
  for (uint32_t m = 0; m < n && !st; ++m) {
    if (!plan->color[m]) {
      st = visit(plan, m, 0, err);
    }
  }
  return st;
}

ChStatus
ch_graph_find_cycle(const ChModel* const model,
                    uint32_t* const      link,
                    ChError*             err)
{
  Plan           plan;
  const ChStatus st = plan_order(&plan, model, err);
  if (st == CH_ERR_CYCLE && link) {
    *link = plan.cycle_link;
  }
  plan_free(&plan);
  return st;
}

ChStatus
ch_graph_check(const ChModel* const model, ChError* err)
{
  const uint32_t n = ch_model_n_modules(model);
  if (!n) {
    return ch_error(err, CH_ERR_BAD_PATCH,
                    "the patch is empty: it has no modules (create some, "
                    "and an 'output' module to hear them)");
  }
  const ChKind* const output = ch_registry_find("output");
  bool                heard  = false;
  for (uint32_t m = 0; m < n && !heard; ++m) {
    heard = ch_model_module_kind(model, m) == output;
  }
  if (!heard) {
    return ch_error(err, CH_ERR_BAD_PATCH,
                    "the patch has no 'output' module, so it would be "
                    "silent: create one (e.g. 'out' of kind 'output') and "
                    "connect a signal to out:mono");
  }
  return ch_graph_find_cycle(model, NULL, err);
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

  Plan     plan;
  ChStatus st = plan_order(&plan, model, err);
  if (!st) {
    ch_model_mark_voiced(plan.model, plan.voiced);
    if (plan_instances(&plan) || plan_buffers(&plan) || plan_sleep(&plan)) {
      st = ch_error(err, CH_ERR_NO_MEMORY, "out of memory planning buffers");
    }
  }
  if (st) {
    plan_free(&plan);
    return st;
  }

  Arena measure = { NULL, 0 };
  layout(&plan, &measure, base, rate);
  const size_t size  = (measure.used + 63u) / 64u * 64u;
  Arena        arena = { (char*)aligned_alloc(64, size), 0 };
  if (!arena.mem) {
    plan_free(&plan);
    return ch_error(err, CH_ERR_NO_MEMORY,
                    "out of memory: the patch needs %zu bytes", size);
  }
  memset(arena.mem, 0, size);
  ChGraph* const result = layout(&plan, &arena, base, rate);
  result->size          = size;
  plan_free(&plan);
  st = index_names(result, err);
  if (st) {
    free(arena.mem);
    return st;
  }
  init_modules(result);
  ch_graph_rest(result);
  *graph = result;
  return CH_SUCCESS;
}

void
ch_graph_free(ChGraph* const graph)
{
  free(graph);
}
