/* Private layout of a compiled graph, shared by the compiler and runtime. */
#ifndef CH_GRAPH_IMPL_H
#define CH_GRAPH_IMPL_H

#include "graph.h"

/** Fan-in: several links into one input, summed before the module runs. */
typedef struct {
  float*              dst;
  const float* const* src;
  uint32_t            n_src;
  const uint8_t*      src_voice; /**< per source: its voice, or CH_NO_VOICE */
  uint32_t voices; /**< bit v: a source is voice v's, when all sources are
                        voices' (else 0): all asleep, the sum is silent */
} ChSum;

/** Buffers before the planned ones (ChGraph.buffers): zeros for
    unconnected inputs, then two of priming output. */
#define CH_FIXED_BUFFERS 3u

/** ChSum.src_voice and ChStep.in_voice of a source in no voice. */
#define CH_NO_VOICE 0xffu

/** ChStep.voice of a step that belongs to no voice. */
#define CH_STEP_SHARED UINT32_MAX

/** One call in the schedule: the fan-in sums it needs, then the function. */
typedef struct {
  ChProcessFunc process; /**< the kind's process, or its capture */
  const ChNode* node;
  const ChSum*  sums;
  uint32_t      n_sums;
  uint32_t      voice; /**< CH_STEP_SHARED, or the voice it plays in */
  uint32_t export;     /**< bit o: output o is read outside its voice */
  uint16_t n_in;       /**< inputs and outputs of the node */
  uint16_t n_out;
  uint32_t reads_voices;            /**< shared step reading a voice's output */
  int (*quiet)(const ChNode* node); /**< the kind's, or NULL */
  const uint8_t* in_voice; /**< shared steps: per input, the voice whose
                               output it reads directly, or CH_NO_VOICE */
  void* fresh;             /**< voice steps: the state a woken voice starts from
                                (NULL for voice sources, which keep theirs) */
  size_t              state_size;     /**< bytes of the node's state */
  uint32_t            lanes;          /**< the kind's ChKind.lanes */
  uint32_t            module;         /**< its module's index in the model */
  ChProcessVoicesFunc process_voices; /**< the kind's, for voice steps */
  uint32_t            group; /**< first of a module's voice steps run by one
                                process_voices call: how many steps that call covers
                                (voices 0 ..), the next group - 1 steps included */
} ChStep;

/** One call of the steady schedule (graph.c's run_steady): a group's
    process_voices for all its voices, or one step after its sums. */
typedef struct {
  ChProcessVoicesFunc voices; /**< a group's, or NULL: `step` runs alone */
  const ChNode*       node;   /**< the group's first node */
  const ChStep*       step;
  uint32_t            mask; /**< a group's voices */
} ChCall;

/** What a buffer holds this block, for sleeping modules. */
enum {
  CH_BUF_DATA,  /**< written by a module that ran */
  CH_BUF_STALE, /**< silence, not written: a sleeping voice's output */
  CH_BUF_ZERO,  /**< zeros */
};

/** One module of the patch: one instance, or one per voice. */
typedef struct {
  const ChKind* kind;
  const char*   name;
  uint32_t      uid;     /**< the model's identity of the module */
  uint32_t      fresh;   /**< bit p: param p was edited since the base model,
                            so a hot swap keeps it instead of carrying it */
  bool renamed;          /**< the base model had it under another name: a hot
                            swap finds it by uid */
  uint32_t  model_index; /**< its index in the model it was compiled from */
  float*    param;       /**< shared by all instances */
  uint32_t* order;       /**< per param: order of the last ordered write */
  ChNode*   nodes;       /**< the instances */
  uint32_t  n_nodes;
  uint32_t  voiced; /**< copied per voice */
} ChGraphModule;

struct ChGraphImpl {
  size_t          size; /**< bytes of the single allocation */
  ChContext       ctx;
  ChHostInputs    silent_host; /**< host input used while priming */
  uint64_t        generation;  /**< set by the owner, e.g. the commit count */
  uint32_t        polyphony;
  uint32_t        n_modules;
  uint32_t        n_steps;
  uint32_t        n_buffers;
  ChGraphModule*  modules; /**< in schedule order */
  ChStep*         steps;
  const uint32_t* by_name;     /**< module indices sorted by name */
  float*          scratch;     /**< 2 * CH_MAX_BLOCK frames for priming */
  float*          buffers;     /**< all signal buffers; [0] holds zeros */
  uint8_t*        buf_state;   /**< CH_BUF_* per buffer; all CH_BUF_DATA
                                    (but [0]) between blocks */
  const uint8_t* buffer_voice; /**< per planned buffer (buffers[3] on): the
                                 voice it holds in a run of a module
                                 copied per voice, 0 for a run's first
                                 or a buffer of no run */
  uint32_t one_frame_layout;   /**< the runs are laid out for blocks of one
                            sample (ChNode.strided_in) */
  uint32_t dirty;              /**< some buffer's state is not CH_BUF_DATA */
  /* Sleep (graph.c): bit v = voice v */
  uint32_t silent;        /**< fell silent after its note: reset when woken */
  uint32_t sounded;       /**< sent a non-zero sample out this block */
  uint32_t wake_all;      /**< a voice module's parameter changed */
  uint32_t no_sleep;      /**< compute silent voices and quiet modules anyway */
  uint32_t may_sleep;     /**< voices may sleep at all (see compile.c) */
  uint32_t all_voices;    /**< bits of every voice */
  uint32_t n_shared;      /**< steps of no voice ... */
  const uint32_t* shared; /**< ... in schedule order: all that runs while
                             every voice sleeps */
  /* The steady block (graph.c's run_steady): every voice awake, none
     fading out or released, so every step runs and nothing is looked at */
  const ChCall* calls; /**< the steps in order, a group as one call */
  uint32_t      n_calls;
  uint32_t      steady;   /**< no shared step may rest in a steady block (one
                               of all-unlinked inputs with a `quiet`): the
                               calls may run (or sleep is off) */
  uint32_t steady_output; /**< a shared step without outputs runs: what
                             such a block returns */
  uint32_t quiet_for[CH_MAX_VOICES]; /**< frames of zeros sent out */
  uint32_t counting;                 /**< bit v: quiet_for[v] is not 0 */
  uint32_t gate_up;      /**< bit v: voice v's host gate is up, this call */
  uint32_t gate_down;    /**< bit v: it is down (neither, for a NaN) */
  uint32_t fresh_bits;   /**< bit v: voice v restarts fresh, this call */
  uint32_t bits_valid;   /**< these bits and `stealing` are those of the
                            voices' inputs in `last` (voices_moved) */
  ChHostInputs last;     /**< the host inputs of the last block: a silent voice
                            wakes when its own or the shared ones change */
  uint32_t last_changes; /**< the host's ChHostInputs.changes when `last`'s
                            voices were last found the host's (0: never) */
  /* Stealing (graph.c): */
  uint32_t stealing; /**< bit v: voice v's note fades out in this call */
  uint32_t steal_at; /**< frames of this call rendered before the block */
  /* Timing (graph.c): */
  uint64_t* times;    /**< per model module: ns in its steps, or NULL */
  uint64_t  timed_to; /**< clock at the end of the last timed step */
};

/** A number for ChContext.id that no graph had: a lock-free atomic add,
    real-time safe.  (compile.c) */
CH_REALTIME uint64_t ch_graph_next_id(void);

/** Every voice silent, its modules' present state the fresh one (end of
    building and priming).  Not real-time. */
void ch_graph_rest(ChGraph* graph);

#endif /* CH_GRAPH_IMPL_H */
