/* The runtime: runs a compiled graph, sets parameters and carries module
   state across a hot swap, all without allocating. */
#include "graph_impl.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* The buffer a pointer points at: voice k of a run laid out for blocks
   of one sample (lay_out_voice_buffers) is k floats into the run's first. */
static inline uint32_t
buf_index(const ChGraph* const graph, const float* const buffer)
{
  const size_t at = (size_t)(buffer - graph->buffers);
  return (uint32_t)(at / CH_MAX_BLOCK + at % CH_MAX_BLOCK);
}

/* `n` zeros at `x`: one store for a block of one sample, rather than
   memset's dispatch on its length. */
CH_REALTIME static inline void
zero_frames(float* const x, const uint32_t n)
{
  if (n == 1u) {
    x[0] = 0.0f;
  } else {
    memset(x, 0, n * sizeof(float));
  }
}

/* Whether source `k` of a shared step's sum holds data: not the output of
   a sleeping voice, nor a buffer known to hold zeros. */
static inline bool
source_live(const ChGraph* const graph,
            const ChSum* const   sum,
            const uint32_t       k,
            const uint32_t       asleep)
{
  const uint32_t v = sum->src_voice[k];
  return v == CH_NO_VOICE
           ? graph->buf_state[buf_index(graph, sum->src[k])] == CH_BUF_DATA
           : !(asleep >> v & 1u);
}

/* Whether every source of a sum is the output of a voice asleep (a sum
   of nothing, as its loops would find looking at each). */
static inline bool
sum_asleep(const ChSum* const sum, const uint32_t asleep)
{
  return sum->voices && (asleep & sum->voices) == sum->voices;
}

/* A fan-in of a shared step over the sources that hold data (silent ones
   add nothing), the first two in one pass.  The buffers never alias (the
   compiler gives each its own), which lets the loops vectorise.  Skipping
   an exact zero leaves the sum bit-identical. */
CH_REALTIME static void
sum_into(ChGraph* const     graph,
         const ChSum* const sum,
         const uint32_t     n,
         const uint32_t     asleep)
{
  float* const restrict dst = sum->dst;
  const float* first        = NULL;
  uint32_t     k            = sum_asleep(sum, asleep) ? sum->n_src : 0u;
  for (; k < sum->n_src && !first; ++k) {
    first = source_live(graph, sum, k, asleep) ? sum->src[k] : NULL;
  }
  if (!first) {
    graph->buf_state[buf_index(graph, dst)] = CH_BUF_STALE;
    graph->dirty                            = 1;
    return;
  }
  graph->buf_state[buf_index(graph, dst)] = CH_BUF_DATA;
  const float* second                     = NULL;
  for (; k < sum->n_src && !second; ++k) {
    second = source_live(graph, sum, k, asleep) ? sum->src[k] : NULL;
  }
  if (!second) {
    memcpy(dst, first, n * sizeof(float));
    return;
  }
  const float* const restrict a = first;
  const float* const restrict b = second;
  for (uint32_t i = 0; i < n; ++i) {
    dst[i] = a[i] + b[i];
  }
  for (; k < sum->n_src; ++k) {
    if (source_live(graph, sum, k, asleep)) {
      const float* const restrict src = sum->src[k];
      for (uint32_t i = 0; i < n; ++i) {
        dst[i] += src[i];
      }
    }
  }
}

/* A fan-in of one sample whose sources all hold data: sum_all's additions
   in the same order, in a register. */
CH_REALTIME static inline void
sum_one_all(const ChSum* const sum)
{
  const float* const*       src = sum->src;
  const float* const* const end = src + sum->n_src;
  float                     acc = *src[0];
  /* two sources a turn (the loop's test and step are most of a source),
     added one after the other */
  for (++src; src + 1 < end; src += 2) {
    acc += *src[0];
    acc += *src[1];
  }
  if (src < end) {
    acc += *src[0];
  }
  sum->dst[0] = acc;
}

/* sum_into for a block of one sample: the same additions in the same
   order, in a register, without the two-source start. */
CH_REALTIME static void
sum_one(ChGraph* const graph, const ChSum* const sum, const uint32_t asleep)
{
  const uint32_t n_src = sum->n_src;
  uint32_t       k     = 0;
  if (!graph->dirty && !asleep) {
    /* the usual block: every source holds data (see inputs_silent) */
    sum_one_all(sum);
    return;
  }
  k = sum_asleep(sum, asleep) ? n_src : 0u;
  while (k < n_src && !source_live(graph, sum, k, asleep)) {
    ++k;
  }
  const uint32_t b = buf_index(graph, sum->dst);
  if (k == n_src) {
    graph->buf_state[b] = CH_BUF_STALE;
    graph->dirty        = 1;
    return;
  }
  float acc = sum->src[k][0];
  for (++k; k < n_src; ++k) {
    if (source_live(graph, sum, k, asleep)) {
      acc += sum->src[k][0];
    }
  }
  sum->dst[0]         = acc;
  graph->buf_state[b] = CH_BUF_DATA;
}

/* A fan-in inside a voice: its sources are the voice's own outputs and
   shared ones, which hold data or real zeros, never a stale buffer. */
CH_REALTIME static void
sum_all(const ChSum* const sum, const uint32_t n)
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

/* A shared step's inputs: sleeping voices' outputs (and sums of nothing
   but them) are made real zeros.  Returns whether every input is silent. */
CH_REALTIME static bool
inputs_silent(ChGraph* const      graph,
              const ChStep* const step,
              const uint32_t      n,
              const uint32_t      asleep)
{
  if (!graph->dirty && !asleep) {
    /* the usual block: every buffer but the zero one (buffers[0], what an
       unlinked input reads) holds data, and no voice's output is stale */
    return step->node->unlinked_in == (1u << step->n_in) - 1u;
  }
  bool silent = true;
  for (uint32_t p = 0; p < step->n_in; ++p) {
    float* const   buffer = (float*)step->node->in[p];
    const uint32_t b      = buf_index(graph, buffer);
    const uint32_t v      = step->in_voice[p];
    if (v != CH_NO_VOICE) {
      graph->buf_state[b] = asleep >> v & 1u ? CH_BUF_STALE : CH_BUF_DATA;
    }
    if (graph->buf_state[b] == CH_BUF_STALE) {
      memset(buffer, 0, n * sizeof(float));
      graph->buf_state[b] = CH_BUF_ZERO;
      graph->dirty        = 1;
    }
    silent = silent && graph->buf_state[b] != CH_BUF_DATA;
  }
  return silent;
}

/* Whether any output read outside the voice holds a non-zero sample. */
CH_REALTIME static bool
exports_sound(const ChStep* const step, const uint32_t n)
{
  uint32_t any = 0;
  for (uint32_t o = 0; o < step->n_out; ++o) {
    if (step->export & (1u << o)) {
      const float* const x = step->node->out[o];
      for (uint32_t i = 0; i < n; ++i) {
        any |= x[i] != 0.0f;
      }
    }
  }
  return any != 0;
}

CH_REALTIME uint64_t
ch_clock_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A step's process call; timed while asked (`timed` is a constant in each
   of run_block's two copies: untimed runs read no clock).  One read per
   step: the time since the previous timed step ended (its fan-in sums and
   this call) goes to its module. */
CH_REALTIME static inline __attribute__((always_inline)) void
process_step(ChGraph* const      graph,
             const ChStep* const step,
             const uint32_t      n,
             const bool          timed)
{
  step->process(step->node, n);
  if (timed) {
    const uint64_t now = ch_clock_ns();
    graph->times[step->module] += now - graph->timed_to;
    graph->timed_to = now;
  }
}

/* One step of no voice: skipped, outputs zeroed, when its inputs are
   silent and its kind says it is at rest.  Returns whether it ran. */
CH_REALTIME static inline __attribute__((always_inline)) bool
run_shared(ChGraph* const      graph,
           const ChStep* const step,
           const uint32_t      n,
           const uint32_t      asleep,
           const bool          timed)
{
  for (uint32_t s = 0; s < step->n_sums; ++s) {
    if (n == 1u) {
      sum_one(graph, &step->sums[s], asleep);
    } else {
      sum_into(graph, &step->sums[s], n, asleep);
    }
  }
  /* Only inputs from voices or sums can be stale; a kind that cannot
     rest needs no more. */
  const bool check = step->quiet || step->n_sums || step->reads_voices;
  const bool skip  = check && inputs_silent(graph, step, n, asleep) &&
                    step->quiet && !graph->no_sleep && step->quiet(step->node);
  if (skip) {
    for (uint32_t o = 0; o < step->n_out; ++o) {
      memset(step->node->out[o], 0, n * sizeof(float));
      graph->buf_state[buf_index(graph, step->node->out[o])] = CH_BUF_ZERO;
    }
    graph->dirty = 1;
    return false;
  }
  /* While every buffer holds data (the usual block), nothing to mark. */
  for (uint32_t o = 0; o < step->n_out && graph->dirty; ++o) {
    graph->buf_state[buf_index(graph, step->node->out[o])] = CH_BUF_DATA;
  }
  process_step(graph, step, n, timed);
  return true;
}

/* After a block: every buffer back to holding data (its next writer will
   not mark it), the zero buffer excepted. */
CH_REALTIME static void
clean_states(ChGraph* const graph)
{
  if (graph->dirty) {
    memset(graph->buf_state + 1, CH_BUF_DATA,
           graph->n_buffers + CH_FIXED_BUFFERS - 1u);
    graph->dirty = 0;
  }
}

/* A stolen note fades out before the note that stole its voice starts:
   what the voice sends out (its outputs that shared modules read) is
   scaled by a raised cosine from 1 down to 0 over the host's `fade_len`
   frames, and by 0 after them, until the host restarts the voice. */
CH_REALTIME static void
fade_exports(const ChGraph* const graph, const ChStep* const step, uint32_t n)
{
  const ChVoiceInputs* const host  = &graph->ctx.host->voice[step->voice];
  const float                angle = 3.14159265f / (float)(host->fade_len + 1);
  float                      gain[CH_MAX_BLOCK];
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t at   = graph->steal_at + i; /* from the call's start */
    const uint32_t left = at < host->fade ? host->fade - at : 0u;
    gain[i]             = 0.5f - 0.5f * cosf(angle * (float)left);
  }
  for (uint32_t o = 0; o < step->n_out; ++o) {
    if (step->export & (1u << o)) {
      float* const x = step->node->out[o];
      for (uint32_t i = 0; i < n; ++i) {
        x[i] *= gain[i];
      }
    }
  }
}

/* What a voice step's exports need after it ran: a stolen note's fade,
   and whether a voice that may fall silent sent sound. */
CH_REALTIME static inline __attribute__((always_inline)) void
after_export(ChGraph* const      graph,
             const ChStep* const step,
             const uint32_t      n,
             uint32_t* const     candidates)
{
  const uint32_t voice = step->voice;
  if (graph->stealing >> voice & 1u) {
    fade_exports(graph, step, n);
  }
  if ((*candidates >> voice & 1u) && exports_sound(step, n)) {
    *candidates &= ~(1u << voice);
    graph->sounded |= 1u << voice;
  }
}

/* A group of one module's voice steps (ChStep.group) in one call for the
   voices awake.  Voices never read each other's buffers, so their exports
   may be looked at after the call.  Returns the group's last step. */
CH_REALTIME static inline __attribute__((always_inline)) const ChStep*
run_voices(ChGraph* const      graph,
           const ChStep* const step,
           const uint32_t      n,
           const uint32_t      asleep,
           uint32_t* const     candidates,
           const bool          timed)
{
  /* read before the call, which the compiler must assume writes memory */
  const ChStep* const last = step + step->group - 1u;
  const uint32_t      all  = ~0u >> (32u - step->group); /* group is 1..32 */
  const uint32_t      run  = ~asleep & all;
  /* only the voices that fade out or may fall silent need a look */
  const uint32_t look =
    step->export ? run & (graph->stealing | *candidates) : 0u;
  if (run) {
    step->process_voices(step->node, run, n);
    if (timed) {
      const uint64_t now = ch_clock_ns();
      graph->times[step->module] += now - graph->timed_to;
      graph->timed_to = now;
    }
  }
  for (uint32_t r = look; r; r &= r - 1u) {
    after_export(graph, step + __builtin_ctz(r), n, candidates);
  }
  return last;
}

/* Whether the graph may run its steady list (ChGraph.calls) at all: no
   shared step may rest (or nothing sleeps anyway), and it is not timed. */
static inline bool
may_run_steady(const ChGraph* const graph)
{
  return !graph->times && (graph->steady || graph->no_sleep);
}

/* The steady block (ChGraph.calls): no voice asleep, none fading out or
   released (none may fall silent), no buffer marked (so every source of a
   sum holds data, as sum_one's and inputs_silent's usual block say) and
   no shared step that may rest: every step runs and nothing is looked at
   after it, so the loop is the calls alone.  The same sums and calls in
   the same order as run_steps'.  Returns whether a step writing the
   stereo output ran. */
CH_REALTIME static inline __attribute__((always_inline)) bool
run_steady(ChGraph* const graph, const uint32_t n)
{
  const ChCall* const end = graph->calls + graph->n_calls;
  for (const ChCall* call = graph->calls; call < end; ++call) {
    if (call->voices) {
      call->voices(call->node, call->mask, n);
      continue;
    }
    const ChStep* const step = call->step;
    for (uint32_t s = 0; s < step->n_sums; ++s) {
      if (n == 1u) {
        sum_one_all(&step->sums[s]);
      } else {
        sum_all(&step->sums[s], n);
      }
    }
    step->process(step->node, n);
  }
  graph->sounded = ~0u;
  return graph->steady_output != 0;
}

/* Returns whether a step writing the stereo output ran.  Inlined into
   run_block twice, timed and not, so the choice is made once a block. */
CH_REALTIME static inline __attribute__((always_inline)) bool
run_steps(ChGraph* const graph, const uint32_t n, const bool timed)
{
  const ChStep* const steps  = graph->steps;
  const uint32_t      asleep = graph->no_sleep ? 0u : graph->silent;
  bool                output = false;
  if (timed) {
    graph->timed_to = ch_clock_ns();
  }
  if (asleep && asleep == graph->all_voices) {
    /* every voice sleeps: only the shared steps are left */
    for (uint32_t k = 0; k < graph->n_shared; ++k) {
      const ChStep* const step = &steps[graph->shared[k]];
      output =
        (run_shared(graph, step, n, asleep, timed) && !step->n_out) || output;
    }
    graph->sounded = graph->all_voices;
    clean_states(graph);
    return output;
  }
  /* Voices that may fall silent after this block: awake, released. */
  uint32_t candidates = graph->may_sleep ? graph->gate_down : 0u;
  candidates &= ~graph->silent;
  graph->sounded = ~candidates;
  /* in a local: the process calls could change it, as far as the
     compiler knows, and this loop is most of a short block's overhead */
  const ChStep* const end = steps + graph->n_steps;
  for (const ChStep* step = steps; step < end; ++step) {
    const uint32_t voice = step->voice;
    if (voice == CH_STEP_SHARED) {
      output =
        (run_shared(graph, step, n, asleep, timed) && !step->n_out) || output;
      continue;
    }
    if (step->group) {
      step = run_voices(graph, step, n, asleep, &candidates, timed);
      continue;
    }
    if (asleep >> voice & 1u) {
      continue;
    }
    if (!(step->n_sums | step->export)) { /* most voice steps */
      process_step(graph, step, n, timed);
      continue;
    }
    for (uint32_t s = 0; s < step->n_sums; ++s) {
      sum_all(&step->sums[s], n);
    }
    process_step(graph, step, n, timed);
    if (step->export) {
      after_export(graph, step, n, &candidates);
    }
  }
  clean_states(graph);
  return output;
}

/* Returns whether a step writing the stereo output ran. */
CH_REALTIME static inline bool
run_block(ChGraph* const graph, const uint32_t n)
{
  /* no voice asleep (an idle graph leaves here), none fading out or
     released (run_steps' candidates: a drone leaves here) */
  if (!(graph->no_sleep ? 0u : graph->silent) &&
      !(((graph->may_sleep ? graph->gate_down : 0u) & ~graph->silent) |
        graph->stealing) &&
      may_run_steady(graph)) {
    return run_steady(graph, n);
  }
  return graph->times ? run_steps(graph, n, true) : run_steps(graph, n, false);
}

CH_REALTIME void
ch_graph_time(ChGraph* const  graph,
              uint64_t* const times,
              const uint32_t  n_times)
{
  graph->times = n_times >= graph->n_modules ? times : NULL;
}

/* Restarts voice v from the fresh state of its modules. */
CH_REALTIME static void
wake(ChGraph* const graph, const uint32_t v)
{
  graph->silent &= ~(1u << v);
  graph->quiet_for[v] = 0;
  graph->counting &= ~(1u << v);
  for (uint32_t t = 0; t < graph->n_steps; ++t) {
    const ChStep* const step = &graph->steps[t];
    if (step->voice == v && step->fresh) {
      ch_state_copy(step->node->state, step->fresh, step->state_size,
                    step->lanes, v);
    }
  }
}

/* A silent voice wakes when anything it reads from the host changes (a
   note, a gate, bend, wheel, macros) or a voice module's parameter is
   written. */
CH_REALTIME static void
wake_voices(ChGraph* const            graph,
            const ChHostInputs* const host,
            const bool                moved)
{
  ChHostInputs* const last = &graph->last;
  const size_t shared = sizeof(ChHostInputs) - offsetof(ChHostInputs, bend);
  if (!graph->silent) {
    /* none to wake: `last`'s shared inputs are taken when one falls
       silent (find_silent), as this compare would have left them */
    graph->wake_all = 0;
  } else if (graph->wake_all || memcmp(&last->bend, &host->bend, shared)) {
    graph->wake_all = 0;
    memcpy(&last->bend, &host->bend, shared);
    for (uint32_t v = 0; v < graph->polyphony; ++v) {
      if (graph->silent >> v & 1u) {
        wake(graph, v);
      }
    }
  }
  /* the usual block: no voice's inputs moved (ch_graph_run compared) */
  if (!moved) {
    return;
  }
  for (uint32_t v = 0; v < graph->polyphony; ++v) {
    if (memcmp(&last->voice[v], &host->voice[v], sizeof(ChVoiceInputs))) {
      last->voice[v] = host->voice[v];
      if (graph->silent >> v & 1u) {
        wake(graph, v);
      }
    }
  }
  graph->last_changes = host->changes; /* `last`'s voices are the host's */
}

/* After a block: a released voice that has sent out only zeros for a
   whole CH_MAX_BLOCK frames, and whose sources are settled, falls silent.
   Until something it reads changes, it would go on sending zeros.  Works
   on bit masks, so that voices that hold notes cost nothing per block. */
CH_REALTIME static void
find_silent(ChGraph* const graph, const uint32_t n)
{
  const uint32_t was   = graph->silent;
  const uint32_t awake = graph->all_voices & ~graph->silent;
  const uint32_t reset = awake & (graph->sounded | graph->gate_up);
  for (uint32_t r = reset & graph->counting; r; r &= r - 1u) {
    graph->quiet_for[__builtin_ctz(r)] = 0;
  }
  graph->counting &= ~reset;
  /* the voices awake, quiet and released, in order */
  for (uint32_t quiet = awake & ~reset; quiet; quiet &= quiet - 1u) {
    const uint32_t v   = (uint32_t)__builtin_ctz(quiet);
    const uint32_t bit = 1u << v;
    graph->quiet_for[v] += n;
    graph->counting |= bit;
    bool settled = graph->quiet_for[v] >= CH_MAX_BLOCK;
    for (uint32_t t = 0; t < graph->n_steps && settled; ++t) {
      const ChStep* const step = &graph->steps[t];
      if (step->voice == v && !step->fresh && step->quiet) {
        settled = step->quiet(step->node) != 0;
      }
    }
    graph->silent |= settled ? bit : 0u;
  }
  if (!was && graph->silent) { /* see wake_voices */
    const size_t at = offsetof(ChHostInputs, bend);
    memcpy((char*)&graph->last + at, (const char*)graph->ctx.host + at,
           sizeof(ChHostInputs) - at);
  }
}

/* What the voices' host inputs say for a call, as bits (bit v = voice v):
   restarted fresh at its first frame (the note that stole the voice
   starts), fading out (ChGraph.stealing), gate up, gate down (neither,
   for a NaN). */
CH_REALTIME static void
voice_bits(ChGraph* const graph, const ChHostInputs* const host)
{
  uint32_t fresh  = 0;
  uint32_t fading = 0;
  uint32_t up     = 0;
  uint32_t down   = 0;
  for (uint32_t v = 0; v < graph->polyphony; ++v) {
    const ChVoiceInputs* const voice = &host->voice[v];
    fresh |= (uint32_t)(voice->fresh != 0u) << v;
    fading |= (uint32_t)(voice->fade_len != 0u) << v;
    up |= (uint32_t)(voice->gate > 0.5f) << v;
    down |= (uint32_t)(voice->gate <= 0.5f) << v;
  }
  graph->fresh_bits = fresh;
  graph->stealing   = fading;
  graph->gate_up    = up;
  graph->gate_down  = down;
}

/* Whether the voices' host inputs moved since the last call.  While
   voices may sleep, `last` holds them as the last call left them (see
   wake_voices), so one compare tells; the bits of voice_bits are kept
   with them, except while a voice restarts fresh (which must happen once,
   and the host clears the flag after the call). */
/* Whether a host that counts its writes to the voices' inputs
   (ChHostInputs.changes) wrote none since the graph found them as `last`
   has them: the compare then need not run. */
CH_REALTIME static inline bool
voices_counted_still(const ChGraph* const graph, const ChHostInputs* const host)
{
  return graph->bits_valid && host->changes &&
         host->changes == graph->last_changes;
}

CH_REALTIME static bool
voices_moved(ChGraph* const graph, const ChHostInputs* const host)
{
  if (voices_counted_still(graph, host)) {
    return false;
  }
  const bool moved =
    !graph->bits_valid || memcmp(graph->last.voice, host->voice,
                                 graph->polyphony * sizeof(ChVoiceInputs));
  if (moved) {
    voice_bits(graph, host);
  } else {
    graph->last_changes = host->changes;
  }
  return moved;
}

/* Where pointer `p` points once the runs are laid out for blocks of one
   sample (`one`) or any: voice k of a run at its first buffer + k, or
   + k * CH_MAX_BLOCK.  Others stay. */
CH_REALTIME static inline const float*
laid_out_pointer(const ChGraph* const graph,
                 const float* const   p,
                 const bool           one)
{
  const float* const planned = graph->buffers + CH_FIXED_BUFFERS * CH_MAX_BLOCK;
  if (p < planned || p >= planned + (size_t)graph->n_buffers * CH_MAX_BLOCK) {
    return p;
  }
  const size_t at = (size_t)(p - planned);
  const size_t k =
    one ? graph->buffer_voice[at / CH_MAX_BLOCK] : at % CH_MAX_BLOCK;
  return one ? p - k * CH_MAX_BLOCK + k : p - k + k * CH_MAX_BLOCK;
}

/*
   Lays the runs of buffers out for blocks of one sample (`one`) or any
   (ChNode.strided_in): a lane then finds four voices' samples in one
   vector.  Every pointer into a run moves (nodes' inputs and outputs,
   sums' sources); nothing lives in a buffer between blocks but a voice
   source's kept outputs, and a new ChContext.id tells those to write
   theirs again.  Only when the length's kind changes: a host that runs
   one frame at a time pays it once.
*/
CH_REALTIME static void
lay_out_voice_buffers(ChGraph* const graph, const bool one)
{
  graph->one_frame_layout = one;
  graph->ctx.id           = ch_graph_next_id();
  for (uint32_t m = 0; m < graph->n_modules; ++m) {
    const ChGraphModule* const module = &graph->modules[m];
    for (uint32_t k = 0; k < module->n_nodes; ++k) {
      const ChNode* const node = &module->nodes[k];
      const float**       in   = (const float**)node->in;
      float**             out  = (float**)node->out;
      for (uint32_t p = 0; p < module->kind->n_inputs; ++p) {
        in[p] = laid_out_pointer(graph, in[p], one);
      }
      for (uint32_t o = 0; o < module->kind->n_outputs; ++o) {
        out[o] = (float*)laid_out_pointer(graph, out[o], one);
      }
    }
  }
  for (uint32_t t = 0; t < graph->n_steps; ++t) {
    const ChStep* const step = &graph->steps[t];
    for (uint32_t s = 0; s < step->n_sums; ++s) {
      const float** src = (const float**)step->sums[s].src;
      for (uint32_t c = 0; c < step->sums[s].n_src; ++c) {
        src[c] = laid_out_pointer(graph, src[c], one);
      }
    }
  }
}

/* A block's stereo output, cleared for the output modules to add into;
   the runs laid out for its length. */
CH_REALTIME static inline void
start_block(ChGraph* const graph,
            float* const   left,
            float* const   right,
            const uint32_t n)
{
  if ((n == 1u) != graph->one_frame_layout) {
    lay_out_voice_buffers(graph, n == 1u);
  }
  graph->ctx.out[0] = left;
  graph->ctx.out[1] = right;
  ++graph->ctx.block;
  zero_frames(left, n);
  zero_frames(right, n);
}

/* Whether a call whose voices' inputs have not moved is one steady block
   (see run_block) with nothing around it: no voice asleep, restarting,
   fading out, released or counting its quiet frames (so wake_voices and
   find_silent would do nothing but clear `wake_all`), and `last` and the
   voices' bits as the last call left them (bits_valid, which only a graph
   whose voices may sleep keeps). */
CH_REALTIME static inline bool
calm(const ChGraph* const graph, const uint32_t n)
{
  /* `silent` first: an idle graph's voices all sleep */
  return !graph->silent && n - 1u < CH_MAX_BLOCK && graph->bits_valid &&
         !(graph->counting | graph->fresh_bits | graph->stealing |
           graph->gate_down) &&
         may_run_steady(graph);
}

/* A calm call (calm(), the voices' inputs unmoved): what the general
   path would do. */
CH_REALTIME static inline __attribute__((always_inline)) bool
run_calm(ChGraph* const graph,
         float* const   left,
         float* const   right,
         const uint32_t n)
{
  /* no voice slept in the last call (none does now, and voices only wake
     at a call's start) */
  graph->ctx.still = graph->all_voices;
  graph->steal_at  = 0;
  start_block(graph, left, right, n);
  graph->wake_all = 0;
  /* a constant length where it is the usual one (block 1) */
  return n == 1u ? run_steady(graph, 1u) : run_steady(graph, n);
}

/* Everything but a calm call whose host counts its writes: a function of
   its own, so that such a call pays for none of its registers. */
CH_REALTIME static __attribute__((noinline)) bool
run_general(ChGraph* const            graph,
            const ChHostInputs* const host,
            float* const              left,
            float* const              right,
            const uint32_t            n)
{
  bool moved       = voices_moved(graph, host);
  graph->ctx.still = 0;
  if (!moved && calm(graph, n)) {
    return run_calm(graph, left, right, n);
  }
  for (uint32_t fresh = graph->fresh_bits; fresh; fresh &= fresh - 1u) {
    wake(graph, (uint32_t)__builtin_ctz(fresh));
  }
  /* `last` is what this call leaves only if a block runs wake_voices */
  graph->bits_valid = graph->may_sleep && n && !graph->fresh_bits;
  bool output       = false;
  for (uint32_t done = 0; done < n;) {
    const uint32_t chunk = n - done < CH_MAX_BLOCK ? n - done : CH_MAX_BLOCK;
    graph->steal_at      = done;
    start_block(graph, left + done, right + done, chunk);
    if (graph->may_sleep) {
      wake_voices(graph, host, moved);
      moved = false; /* `last` is the host's now */
    }
    output = run_block(graph, chunk) || output;
    if (graph->may_sleep) {
      find_silent(graph, chunk);
    }
    done += chunk;
  }
  return output;
}

CH_REALTIME bool
ch_graph_run(ChGraph* const            graph,
             const ChHostInputs* const host,
             float* const              left,
             float* const              right,
             const uint32_t            n)
{
  graph->ctx.host = host;
  /* the counted host's usual call: voices_moved without the compare */
  if (voices_counted_still(graph, host) && calm(graph, n)) {
    return run_calm(graph, left, right, n);
  }
  return run_general(graph, host, left, right, n);
}

/* The state a woken voice starts from: what its modules hold now. */
static void
snapshot_fresh(ChGraph* const graph)
{
  for (uint32_t t = 0; t < graph->n_steps; ++t) {
    const ChStep* const step = &graph->steps[t];
    if (step->fresh) {
      ch_state_copy(step->fresh, step->node->state, step->state_size,
                    step->lanes, step->node->voice);
    }
  }
}

void
ch_graph_prime(ChGraph* const graph, const uint32_t frames)
{
  /* Every page is resident already (ch_graph_new clears the whole block),
     so running it is what warms caches, filters and envelopes.  Everything
     runs, so that every voice is warm; then all of them are silent. */
  const uint32_t no_sleep = graph->no_sleep;
  graph->no_sleep         = 1;
  for (uint32_t done = 0; done < frames; done += CH_MAX_BLOCK) {
    const uint32_t n =
      frames - done < CH_MAX_BLOCK ? frames - done : CH_MAX_BLOCK;
    ch_graph_run(graph, &graph->silent_host, graph->scratch,
                 graph->scratch + CH_MAX_BLOCK, n);
  }
  graph->no_sleep = no_sleep;
  ch_graph_rest(graph);
}

void
ch_graph_rest(ChGraph* const graph)
{
  snapshot_fresh(graph);
  graph->silent = graph->may_sleep && graph->polyphony < 32u
                    ? (uint32_t)((1ull << graph->polyphony) - 1u)
                    : 0u;
  memset(graph->quiet_for, 0, sizeof(graph->quiet_for));
  graph->counting   = 0;
  graph->last       = graph->silent_host;
  graph->bits_valid = 0;
}

void
ch_graph_set_sleep(ChGraph* const graph, const bool on)
{
  graph->no_sleep = !on;
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
  graph->wake_all |= graph->modules[module].voiced;
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

/* Module `from`'s running state and unchanged parameters, into `to`. */
CH_REALTIME static void
carry_module(const ChGraph* const       next,
             ChGraphModule* const       to,
             const ChGraphModule* const from)
{
  /* Voices beyond the old count start from their primed state. */
  const uint32_t shared =
    to->n_nodes < from->n_nodes ? to->n_nodes : from->n_nodes;
  /* Both graphs run at one rate (the instance's), so their states have
     one size. */
  const size_t size = ch_kind_state_size(to->kind, next->ctx.rate);
  for (uint32_t k = 0; k < shared; ++k) {
    ch_state_copy(to->nodes[k].state, from->nodes[k].state, size,
                  to->kind->lanes, k);
  }
  for (uint32_t p = 0; p < to->kind->n_params; ++p) {
    if (!(to->fresh & (1u << p))) {
      to->param[p] = from->param[p];
      to->order[p] = from->order[p];
    }
  }
}

/* Renamed modules: found in `prev` by identity (a rename is rare, so a
   walk per renamed module).  Returns how many it carried. */
CH_REALTIME static uint32_t
carry_renamed(ChGraph* const next, const ChGraph* const prev)
{
  uint32_t carried = 0;
  for (uint32_t i = 0; i < next->n_modules; ++i) {
    ChGraphModule* const to = &next->modules[i];
    for (uint32_t j = 0; to->renamed && j < prev->n_modules; ++j) {
      const ChGraphModule* const from = &prev->modules[j];
      if (from->uid == to->uid && from->kind == to->kind) {
        carry_module(next, to, from);
        ++carried;
        break;
      }
    }
  }
  return carried;
}

CH_REALTIME uint32_t
ch_graph_carry(ChGraph* const next, const ChGraph* const prev)
{
  /* Both name indexes are sorted, so one merge walk pairs the survivors. */
  uint32_t carried = 0;
  uint32_t i       = 0;
  uint32_t j       = 0;
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
        carry_module(next, to, from);
        ++carried;
      }
      ++i;
      ++j;
    }
  }
  carried += carry_renamed(next, prev);
  /* Carried voices may be sounding: all of them play until they fall
     silent again. */
  next->silent = 0;
  memset(next->quiet_for, 0, sizeof(next->quiet_for));
  next->counting   = 0;
  next->last       = prev->last;
  next->bits_valid = 0;
  return carried;
}

CH_REALTIME void
ch_graph_reset(ChGraph* const graph)
{
  for (uint32_t m = 0; m < graph->n_modules; ++m) {
    const ChGraphModule* const module = &graph->modules[m];
    const size_t size = ch_kind_state_size(module->kind, graph->ctx.rate);
    for (uint32_t k = 0; k < module->n_nodes; ++k) {
      ch_state_copy(module->nodes[k].state, NULL, size, module->kind->lanes, k);
      if (module->kind->init) {
        module->kind->init(&module->nodes[k]);
      }
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

CH_REALTIME uint32_t
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

CH_REALTIME ChStatus
ch_graph_find_output(const ChGraph* const graph,
                     const char* const    name,
                     const char* const    port,
                     ChGraphTap* const    tap,
                     ChError* const       err)
{
  tap->buffer     = NULL;
  tap->voice      = UINT32_MAX;
  const int index = ch_graph_find(graph, name);
  if (index < 0) {
    return ch_error(err, CH_ERR_UNKNOWN_MODULE, "no module named '%s'", name);
  }
  const ChGraphModule* const module = &graph->modules[index];
  const int                  o      = ch_kind_find_output(module->kind, port);
  if (o < 0) {
    return ch_error(err, CH_ERR_UNKNOWN_PORT,
                    "%s '%s' has no output named '%s'", module->kind->name,
                    name, port);
  }
  /* A per-voice module: voice 0, the one a single note plays. */
  tap->buffer = module->nodes[0].out[o];
  tap->voice  = module->voiced ? 0u : UINT32_MAX;
  return CH_SUCCESS;
}

CH_REALTIME const float*
ch_graph_tap_read(const ChGraph* const graph, const ChGraphTap tap)
{
  if (tap.voice != UINT32_MAX && !graph->no_sleep &&
      (graph->silent >> tap.voice & 1u)) {
    return NULL; /* a sleeping voice: its buffers hold an old block */
  }
  return tap.buffer;
}

/* The peak of `n` samples of `x`, at least `peak`. */
CH_REALTIME static float
peak_of(const float* const x, const uint32_t n, float peak)
{
  for (uint32_t s = 0; s < n; ++s) {
    peak = fmaxf(peak, fabsf(x[s]));
  }
  return peak;
}

CH_REALTIME void
ch_graph_peaks(const ChGraph* const graph,
               float* const         peaks,
               const uint32_t       n_peaks,
               const uint32_t       n)
{
  const uint32_t asleep = graph->no_sleep ? 0u : graph->silent;
  for (uint32_t i = 0; i < graph->n_modules; ++i) {
    const ChGraphModule* const m = &graph->modules[i];
    if (m->model_index >= n_peaks) {
      continue;
    }
    float peak = peaks[m->model_index];
    for (uint32_t k = 0; k < m->n_nodes; ++k) {
      const ChNode* const node = &m->nodes[k];
      if (m->voiced && (asleep >> node->voice & 1u)) {
        continue; /* its buffers hold an old block */
      }
      for (uint32_t o = 0; o < m->kind->n_outputs; ++o) {
        if (!(node->unread_out >> o & 1u)) {
          peak = peak_of(node->out[o], n, peak);
        }
      }
    }
    peaks[m->model_index] = peak;
  }
}

uint32_t
ch_graph_n_steps(const ChGraph* const graph)
{
  return graph->n_steps;
}

uint32_t
ch_graph_n_sums(const ChGraph* const graph)
{
  uint32_t n = 0;
  for (uint32_t t = 0; t < graph->n_steps; ++t) {
    n += graph->steps[t].n_sums;
  }
  return n;
}

uint32_t
ch_graph_step_module(const ChGraph* const graph, const uint32_t step)
{
  const ChNode* const node = graph->steps[step].node;
  for (uint32_t m = 0; m < graph->n_modules; ++m) {
    const ChGraphModule* const mod = &graph->modules[m];
    if (node >= mod->nodes && node < mod->nodes + mod->n_nodes) {
      return m;
    }
  }
  return 0; /* not reached: every step runs a node of a module */
}

CH_REALTIME void
ch_graph_run_steps(ChGraph* const    graph,
                   const ChStepParts parts,
                   const uint32_t    n)
{
  const bool sums = parts == CH_STEPS_KERNELS_AND_SUMS;
  for (uint32_t t = 0; t < graph->n_steps; ++t) {
    const ChStep* const step = &graph->steps[t];
    for (uint32_t s = 0; sums && s < step->n_sums; ++s) {
      sum_all(&step->sums[s], n);
    }
    step->process(step->node, n);
  }
}

CH_REALTIME void
ch_graph_run_step(ChGraph* const graph, const uint32_t step, const uint32_t n)
{
  graph->steps[step].process(graph->steps[step].node, n);
}
