/* The compiled graph: what run() executes.  Built from a model in one go
   off the audio thread, then run, edited and retired without allocating. */
#ifndef CH_GRAPH_H
#define CH_GRAPH_H

#include "kind.h"
#include "model.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An immutable schedule over pre-allocated buffers and module states. */
typedef struct ChGraphImpl ChGraph;

/**
   Validate and compile `model` for `rate` Hz and instantiate every module.
   `base` (may be NULL) is the model of the graph playing now: parameters
   that `model` changed relative to it are kept at a hot swap, the rest are
   carried over from the playing graph (see ch_graph_carry()).  Errors name
   the module, port or cycle.  Not real-time (allocates once).
*/
ChStatus ch_graph_new(const ChModel* model,
                      const ChModel* base,
                      float          rate,
                      ChGraph**      graph,
                      ChError*       err);

/**
   CH_ERR_CYCLE if the links of `model` form a cycle (the message names it
   and the link that closes it, whose index goes to `link` if not NULL).
   Not real-time.
*/
ChStatus ch_graph_find_cycle(const ChModel* model,
                             uint32_t*      link,
                             ChError*       err);

/**
   What a commit checks before it builds: the patch has modules, an
   `output` module (else nothing could be heard), and no cycle.  An empty
   patch still compiles (a plugin with no bank starts with one); only a
   commit refuses it.  Not real-time.
*/
ChStatus ch_graph_check(const ChModel* model, ChError* err);

/** Free a graph; NULL is fine.  Not real-time. */
void ch_graph_free(ChGraph* graph);

/**
   Run `frames` frames of silence-in, no-note input through the graph, so
   that the first real block finds caches, filters and envelopes warm (its
   memory is resident from the start: ch_graph_new writes all of it).
   Not real-time (worker thread).
*/
void ch_graph_prime(ChGraph* graph, uint32_t frames);

/**
   Render `n` frames (any length; split internally at CH_MAX_BLOCK) into
   `left` and `right`, overwriting them.  Returns false when nothing ran
   that writes the output, so both are zeros.  Real-time.

   Sleep: a voice whose note was released and whose output into the shared
   modules was all zeros for a whole block is silent; it is not computed
   until its next note (or a write to a per-voice module's parameter),
   which restarts its modules from their fresh state (its voice sources
   keep theirs).  A shared module whose kind says it is at rest and whose
   inputs are all silent is skipped, its outputs zeroed.

   Stealing: a voice whose host inputs carry a `fade` sends out what it
   plays scaled down to 0 over it (a raised cosine over `fade_len`), and 0
   after; one whose `fresh` is set restarts from the fresh state at the
   first frame (ch_voicing_set_steal).
*/
CH_REALTIME bool ch_graph_run(ChGraph*            graph,
                              const ChHostInputs* host,
                              float*              left,
                              float*              right,
                              uint32_t            n);

/** Index of module `name`, or -1.  Real-time (binary search). */
CH_REALTIME int ch_graph_find(const ChGraph* graph, const char* name);

/** Index of parameter `name` of module `module`, or -1.  Real-time. */
CH_REALTIME int ch_graph_find_param(const ChGraph* graph,
                                    uint32_t       module,
                                    const char*    name);

/**
   Set a parameter from the next frame rendered; CH_ERR_RANGE (and no
   change) for a value outside its range.  Real-time.
*/
CH_REALTIME ChStatus ch_graph_set(ChGraph* graph,
                                  uint32_t module,
                                  uint32_t param,
                                  float    value);

/**
   Set a parameter as write number `order` (orders only grow).  A write
   whose order is below the last one applied to that parameter is ignored
   (returns CH_SUCCESS): a late replay never undoes a newer value.  The
   orders travel with the parameters through ch_graph_carry().  Real-time.
*/
CH_REALTIME ChStatus ch_graph_set_ordered(ChGraph* graph,
                                          uint32_t module,
                                          uint32_t param,
                                          float    value,
                                          uint32_t order);

/** Current value of a parameter.  Real-time. */
CH_REALTIME float ch_graph_get(const ChGraph* graph,
                               uint32_t       module,
                               uint32_t       param);

/**
   Hand the running state of every module that `prev` shares with `next`
   (same kind and model identity, and same name unless the model renamed
   it) across to `next`, so oscillators,
   filters and envelopes carry on through a hot swap.  Parameters that the
   new model did not change are carried too: a ch:Set that reached the
   playing graph while `next` was being built is newer than `next`'s model.
   Returns how many of `next`'s modules it carried.  Real-time:
   O(modules), and a walk of them per renamed module; no allocation.
*/
CH_REALTIME uint32_t ch_graph_carry(ChGraph* next, const ChGraph* prev);

/**
   Put every module instance back to its initial state (zeroed, then its
   kind's `init`), parameters untouched: what a graph that went bad needs
   to play again.  Real-time: O(state bytes), no allocation.
*/
CH_REALTIME void ch_graph_reset(ChGraph* graph);

/** One output of one module of a compiled graph, to read after a block. */
typedef struct {
  const float* buffer; /**< NULL: nothing */
  uint32_t     voice;  /**< the instance's voice; UINT32_MAX if shared */
} ChGraphTap;

/**
   Find output `port` of module `name`: for a per-voice module, voice 0's.
   The tap is valid for this graph only (find it again after every swap).
   Errors name the module or port.  Real-time with `err` NULL (a binary
   search and the kind's few outputs); `err` formats a message.
*/
CH_REALTIME ChStatus ch_graph_find_output(const ChGraph* graph,
                                          const char*    name,
                                          const char*    port,
                                          ChGraphTap*    tap,
                                          ChError*       err);

/**
   The tapped output's samples of the last block rendered (the last
   CH_MAX_BLOCK sub-block of a longer ch_graph_run), or NULL when it was
   not computed: a sleeping voice, a resting module (then it is silent).
   Real-time.
*/
CH_REALTIME const float* ch_graph_tap_read(const ChGraph*   graph,
                                           const ChGraphTap tap);

/** A number the owner attaches to the graph (0 until set). */
/**
   Tests only: with `on` false, silent voices and resting modules are
   computed anyway (voices still fall silent and restart fresh, so the
   output must be the same).  Not real-time.
*/
void ch_graph_set_sleep(ChGraph* graph, bool on);

/**
   While `times` is not NULL, ch_graph_run() adds each module's time (all
   its voices together; nanoseconds of CLOCK_MONOTONIC) to `times[i]`, i
   its index in the model, below `n_times`: a step's time runs from the end
   of the step before it that ran, so it holds its fan-in sums and its
   process call, and one clock read per step is enough.  NULL, or fewer
   than the graph's modules, stops timing; untimed runs pay one branch per
   block.  Real-time.
*/
CH_REALTIME void ch_graph_time(ChGraph*  graph,
                               uint64_t* times,
                               uint32_t  n_times);

/** Nanoseconds of CLOCK_MONOTONIC (read from the vDSO: no system call
    on Linux).  Real-time. */
CH_REALTIME uint64_t ch_clock_ns(void);

/**
   Raise `peaks[i]` to the peak of model module i's outputs over the last
   `n` frames rendered (at most CH_MAX_BLOCK; i below `n_peaks`, indexed as
   in the model the graph was compiled from).  Sleeping voices, and outputs
   nothing reads (which a kind may leave unwritten), add nothing.
   Real-time: O(outputs x n).
*/
CH_REALTIME void ch_graph_peaks(const ChGraph* graph,
                                float*         peaks,
                                uint32_t       n_peaks,
                                uint32_t       n);

/** A number the owner attaches to the graph (0 until set). */
void ch_graph_set_generation(ChGraph* graph, uint64_t generation);

/** The number set with ch_graph_set_generation().  Real-time. */
CH_REALTIME uint64_t ch_graph_generation(const ChGraph* graph);

/** Voices the graph plays (the model's polyphony). */
CH_REALTIME uint32_t ch_graph_polyphony(const ChGraph* graph);

/** Instances of module `index`: 1, or one per voice. */
uint32_t ch_graph_n_instances(const ChGraph* graph, uint32_t index);

/** Number of modules.  Real-time. */
CH_REALTIME uint32_t ch_graph_n_modules(const ChGraph* graph);

/** Name of module `index` (modules are indexed in schedule order). */
const char* ch_graph_module_name(const ChGraph* graph, uint32_t index);

/** Kind of module `index`. */
const ChKind* ch_graph_module_kind(const ChGraph* graph, uint32_t index);

/** Number of signal buffers the schedule needs (excluding the zero one). */
uint32_t ch_graph_n_buffers(const ChGraph* graph);

/** Bytes allocated for the graph, all in one block. */
size_t ch_graph_memory(const ChGraph* graph);

/*
   The schedule step by step, for benchmarks and profilers: what
   ch_graph_run() does, in parts.
*/

/** Steps of the schedule: one per module instance, then one per capture. */
uint32_t ch_graph_n_steps(const ChGraph* graph);

/** Fan-in sums of the whole schedule. */
uint32_t ch_graph_n_sums(const ChGraph* graph);

/** Index of the module that step `step` runs (an instance or a capture). */
uint32_t ch_graph_step_module(const ChGraph* graph, uint32_t step);

/** What ch_graph_run_steps() runs of each step. */
typedef enum {
  CH_STEPS_KERNELS,          /**< the process functions only */
  CH_STEPS_KERNELS_AND_SUMS, /**< their fan-in sums first, as in a run */
} ChStepParts;

/**
   Run one block of `n` (at most CH_MAX_BLOCK) frames through every step,
   in schedule order, reading the host inputs and writing into the output
   buffers of the last ch_graph_run(), without clearing them: a run without
   its chunking, zeroing and sleeping voices.  The voices' buffers are
   laid out as that call left them (for a block of one sample, or any:
   ChNode.strided_in), so `n` must be of the same kind as its length.
   Real-time.
*/
CH_REALTIME void ch_graph_run_steps(ChGraph*    graph,
                                    ChStepParts parts,
                                    uint32_t    n);

/** Run only the process function of step `step` over `n` frames, as
    ch_graph_run_steps() does.  Real-time. */
CH_REALTIME void ch_graph_run_step(ChGraph* graph, uint32_t step, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* CH_GRAPH_H */
