/* The module kind descriptor: what one DSP unit declares about itself. */
#ifndef CH_KIND_H
#define CH_KIND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
   Marks a function that runs on the audio thread: it never allocates, locks,
   waits or calls the system, and its loops are bounded by the block length.
*/
#if defined(__clang__) && __clang_major__ >= 20
#  define CH_REALTIME __attribute__((nonblocking))
#else
#  define CH_REALTIME
#endif

/**
   Brackets a deliberate non-real-time call inside a CH_REALTIME function,
   made only when the host said it runs us off the real-time path (no
   worker: edits are done inside run()).  Under RealtimeSanitizer this
   suspends its checks; otherwise it is nothing.
*/
#if defined(__has_feature)
#  if __has_feature(realtime_sanitizer)
#    include <sanitizer/rtsan_interface.h>
#    define CH_NOT_REALTIME_BEGIN() __rtsan_disable()
#    define CH_NOT_REALTIME_END()   __rtsan_enable()
#  endif
#endif
#ifndef CH_NOT_REALTIME_BEGIN
#  define CH_NOT_REALTIME_BEGIN()
#  define CH_NOT_REALTIME_END()
#endif

/**
   For a sample loop written once and called with constant arguments that
   select its variant: each call then compiles to a loop of its own.
*/
#if defined(__GNUC__)
#  define CH_VARIANT static inline __attribute__((always_inline))
#else
#  define CH_VARIANT static inline
#endif

/** The longest block a graph processes in one go; longer ones are split. */
#define CH_MAX_BLOCK 256u

/** Most inputs, outputs or parameters one kind may declare. */
#define CH_MAX_PORTS  16u
#define CH_MAX_PARAMS 16u

/** Number of macro knobs the host exposes to patches. */
#define CH_N_MACROS 8u

/** Number of elements of a static array. */
#define CH_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/** What a port carries.  All signals are float streams; this is a hint. */
typedef enum {
  CH_SIGNAL_AUDIO, /**< audio, nominally -1..1 */
  CH_SIGNAL_CV,    /**< control voltage; pitch is 1.0 per octave, 0 = C4 */
  CH_SIGNAL_GATE,  /**< gate or trigger: high above 0.5 */
} ChSignal;

/** One input or output port of a module kind. */
typedef struct {
  const char* name; /**< "in", "pitch", ...: [a-z0-9_]+ */
  ChSignal    signal;
  const char* doc; /**< one line for humans */
} ChPortInfo;

/** One parameter of a module kind. */
typedef struct {
  const char*        name;    /**< "cutoff", ...: [a-z0-9_]+ */
  const char*        unit;    /**< "Hz", "s", "dB", "oct", "" */
  float              min;     /**< lowest accepted value */
  float              max;     /**< highest accepted value */
  float              def;     /**< value of a new module */
  const char*        doc;     /**< one line for humans */
  const char* const* choices; /**< NULL, or labels of an enumeration (value =
                                 index), NULL-terminated */
} ChParamInfo;

/** Most voices a patch may play at once. */
#define CH_MAX_VOICES 16u

/** Elements of each array of a lanes state (ChKind.lanes): one per voice. */
#define CH_LANES CH_MAX_VOICES

/** One voice of the played notes, as the `voice` module reads it. */
typedef struct {
  float    pitch;      /**< the note, 1.0/octave, 0 = C4 (no bend) */
  float    gate;       /**< 1 while the note (or sustain) holds, else 0 */
  float    velocity;   /**< of the note, 0..1 */
  float    aftertouch; /**< key or channel pressure, 0..1 */
  uint32_t trigger;    /**< counts note starts, so envelopes can retrigger */
  uint32_t release;    /**< counts gate drops, so a note-off and a note-on
                          at one frame still read as a new note */
  uint32_t fade;       /**< a stolen note's fade-out: frames of it left at
                          the first frame of the call (0: none); what the
                          voice sends out is scaled down to 0 over them */
  uint32_t fade_len;   /**< frames of that whole fade */
  uint32_t fresh;      /**< non-zero: the voice's modules restart from their
                          fresh state at the first frame of the call (the
                          note that stole the voice starts) */
} ChVoiceInputs;

/**
   What the host feeds into a graph besides parameters: the played voices,
   the mod wheel and the macro knobs.  Written by the plugin between
   sub-blocks, read by source modules (`voice`, `macro`).
*/
typedef struct {
  ChVoiceInputs voice[CH_MAX_VOICES];
  uint32_t      changes;    /**< 0, or a count that whoever writes `voice`
                               moves on every write (never back to 0): a
                               graph then compares it instead of the
                               voices (the plugin's voicing keeps one).
                               Sound only while a graph is always run
                               with the same ChHostInputs, as the plugin
                               runs its graphs */
  float         bend;       /**< pitch bend, -1..1 (the `voice`
                               module scales it to semitones) */
  float         mod;        /**< mod wheel, 0..1 */
  float         macro[CH_N_MACROS]; /**< macro knobs, 0..1 */
} ChHostInputs;

/** Shared, read-only context of one graph while it runs. */
typedef struct {
  float               rate;     /**< sample rate in Hz */
  float               inv_rate; /**< 1 / rate */
  const ChHostInputs* host;     /**< never NULL while processing */
  uint32_t            voices;   /**< voices the graph plays (0 reads as 1) */
  float*              out[2];   /**< stereo output of the current sub-block */
  uint64_t            id;       /**< this graph and the present layout of its
                                   buffers, among all graphs built in the
                                   process (never 0 for a built one; a new
                                   one each time the graph lays its runs
                                   out anew, see ChNode.strided_in): a
                                   state can tell whether it was these
                                   buffers it last wrote */
  uint32_t            still;    /**< bit v: voice v's host inputs are bit for
                                   bit those of the graph's last call, in
                                   which voice v ran (0: not known) */
  uint64_t            block;    /**< counts the graph's blocks, this one
                                   included: a module can tell whether
                                   what it noted came from the last one */
} ChContext;

/**
   One module instance as its process function sees it.  Every input points
   at a valid buffer (a shared zero buffer when unconnected, a sum when
   several links meet); every output points at a buffer of its own for the
   block.  Inputs and outputs may never alias each other.
*/
typedef struct ChNode {
  void* state;               /**< ch_kind_state_size() bytes, zeroed,
                                64-aligned; for a lanes kind (ChKind.lanes)
                                one state shared by the module's
                                instances */
  const float* const* in;    /**< kind->n_inputs buffers */
  float* const*       out;   /**< kind->n_outputs buffers */
  const float*        param; /**< kind->n_params current values */
  const ChContext*    ctx;
  uint32_t            voice; /**< which voice this instance plays (0..15);
                                0 for a module shared by all voices */
  uint32_t unlinked_in;      /**< bit p: input p has no link (reads zeros) */
  uint32_t unread_out;       /**< bit o: nothing reads output o, so a kind may
                                leave it unwritten */
  uint32_t kept_out;         /**< bit o: output o's buffer is this node's own
                                for the graph's life and nothing else writes
                                it, so what the node's last call in this
                                graph (ChContext.id) left there is still there
                                (the voice module's outputs) */
  uint32_t strided_in;       /**< bit p: the module's voices read input p from
                                buffers side by side, as a module copied per
                                voice reads another one's output: voice k's
                                is voice 0's + k * CH_MAX_BLOCK, and in a
                                block of one sample voice 0's + k (the
                                graph moves the pointers when the block
                                length changes kind), so that four voices'
                                frames are one vector; the same in every
                                instance */
  uint32_t strided_out;      /**< bit o: likewise output o */
} ChNode;

/** Prepare state (already zeroed) before the first block. Not real-time. */
typedef void (*ChInitFunc)(const ChNode* node);

/** Render `n` frames (1..CH_MAX_BLOCK).  Real-time. */
typedef void (*ChProcessFunc)(const ChNode* node, uint32_t n);

/**
   Several instances of one module at once: for each bit k of `voices`, in
   ascending order, `nodes[k]` exactly as the kind's `process(&nodes[k], n)`
   would.  See ChKind.process_voices.
*/
typedef void (*ChProcessVoicesFunc)(const ChNode* nodes,
                                    uint32_t      voices,
                                    uint32_t      n);

/**
   Runs `call` with `node` set to &nodes[k] for each bit k of `bits`, in
   ascending order; `bits`, a variable, is shifted down to 0 on the way.
   The process_voices functions below run this loop twice, for a block of
   one sample and for any other: with the length a constant, the inlined
   body of a one-sample block loses its loops' set-up, which is most of
   what a voice costs there.
*/
#define CH_EACH_VOICE(nodes, bits, call)                                       \
  for (const ChNode* node = (nodes); (bits); (bits) >>= 1u, ++node) {          \
    if ((bits) & 1u) {                                                         \
      call;                                                                    \
    }                                                                          \
  }

/**
   Defines `name`, a ChProcessVoicesFunc that runs `run(node, n)` (a
   CH_VARIANT function holding the kind's process) for each voice asked:
   the body is inlined into the loop, so a voice costs no call.
*/
#define CH_PROCESS_VOICES(name, run)                                           \
  static CH_REALTIME void name(const ChNode* const nodes, uint32_t voices,     \
                               const uint32_t n)                               \
  {                                                                            \
    if (n == 1u) {                                                             \
      CH_EACH_VOICE(nodes, voices, run(node, 1u));                             \
    } else {                                                                   \
      CH_EACH_VOICE(nodes, voices, run(node, n));                              \
    }                                                                          \
  }

/**
   For a kind that first works out what all its voices share (`Shared
   shared_of(const ChNode*)`, from the parameters, which every voice of a
   module has alike) and then runs `run(node, &shared, n)`: defines
   `process`, a ChProcessFunc, and `voices`, a ChProcessVoicesFunc that
   works the shared part out once a call instead of once a voice, from the
   first voice asked (whose state it may use as a cache: `run` then leaves
   every voice's state as its own `process` would).
*/
#define CH_PROCESS_SHARED(process, voices, Shared, shared_of, run)             \
  static CH_REALTIME void process(const ChNode* const node, const uint32_t n)  \
  {                                                                            \
    const Shared q = shared_of(node);                                          \
    run(node, &q, n);                                                          \
  }                                                                            \
  static CH_REALTIME void voices(const ChNode* const nodes, uint32_t bits,     \
                                 const uint32_t n)                             \
  {                                                                            \
    if (!bits) {                                                               \
      return;                                                                  \
    }                                                                          \
    const Shared q = shared_of(nodes + __builtin_ctz(bits));                   \
    if (n == 1u) {                                                             \
      CH_EACH_VOICE(nodes, bits, run(node, &q, 1u));                           \
    } else {                                                                   \
      CH_EACH_VOICE(nodes, bits, run(node, &q, n));                            \
    }                                                                          \
  }

/** Flags of a module kind. */
enum {
  /**
     Never copied per voice: signals from voices are summed into its inputs
     (effects and the output, which want one instance after the voices).
  */
  CH_KIND_GLOBAL = 1u << 0,
  /** A voice source: one instance per voice, and so is all it feeds. */
  CH_KIND_PER_VOICE = 1u << 1,
};

/** A module kind: one DSP unit, its ports, parameters and functions. */
typedef struct ChKind {
  const char*        name; /**< "osc", "svf", ...: [a-z0-9_]+ */
  const char*        doc;  /**< one line for humans */
  const ChPortInfo*  inputs;
  uint32_t           n_inputs;
  const ChPortInfo*  outputs;
  uint32_t           n_outputs;
  const ChParamInfo* params;
  uint32_t           n_params;
  size_t             state_size; /**< bytes of plain data; no pointers, so a
                                    hot swap may copy it to a new graph */
  ChInitFunc    init;            /**< may be NULL */
  ChProcessFunc process;
  uint32_t      flags; /**< CH_KIND_* */
  /**
     NULL, or a feedback kind's second half: `process` runs first and must
     not read the inputs; `capture` runs after every other module and reads
     them.  The inputs then do not order the schedule, so a link into them
     may close a cycle: such a kind delays by whole blocks.
  */
  ChProcessFunc capture;
  /**
     NULL, or the state's size at a sample rate, for kinds whose state
     holds rate-long buffers (delay lines); `state_size` is then the fixed
     part.  Use ch_kind_state_size().
  */
  size_t (*state_size_at)(float rate);
  /**
     NULL, or whether the instance is at rest: fed silence, it would output
     silence and leave its state as it is, so the graph may skip it (a
     sleeping effect or output).  For a voice source (CH_KIND_PER_VOICE):
     whether its own state is settled, so its voice may sleep.  Real-time.
  */
  int (*quiet)(const ChNode* node);
  /**
     NULL, or `process` for several voices of a module in one call (see
     ChProcessVoicesFunc; CH_PROCESS_VOICES defines one).  The graph uses
     it for a module copied per voice whose voices' steps have no fan-in
     sums: one call per module instead of one per voice, which is most of
     what a short block (one sample) costs.  Real-time.
  */
  ChProcessVoicesFunc process_voices;
  /**
     0, or the bytes of one element of a "lanes" state: the state is
     arrays of CH_LANES elements of that size (`state_size` bytes, a
     multiple of CH_LANES * lanes), and all instances of a module share
     one state, instance `voice` keeping element `voice` of every array.
     Its voices' states then lie side by side, so that process_voices can
     run several voices at once in SIMD lanes; the graph copies a voice's
     state (waking it, carrying it across a swap) element by element
     (ch_state_copy).  Such a kind's `init` and `process` touch only their
     voice's elements.
  */
  uint32_t lanes;
  /**
     0, or the bytes at the end of the state (of a kind copied per voice,
     not a lanes one) that process_voices keeps in its first instance's
     state about the whole module: a note of its last call, which it
     checks against ChContext.block before it trusts it.  They are not
     part of what a voice is: `process` leaves them alone, and a process
     of the voices one by one is the same as process_voices but for them.
  */
  uint32_t notes;
} ChKind;

/**
   The port and parameter fields of a ChKind from the kind's static tables:
   CH_KIND_INPUTS(inputs) is `.inputs = inputs, .n_inputs = CH_COUNT(inputs)`.
   A kind without inputs (or outputs) leaves that macro out.
*/
#define CH_KIND_INPUTS(array)                                                  \
  .inputs = (array), .n_inputs = (uint32_t)CH_COUNT(array)
#define CH_KIND_OUTPUTS(array)                                                 \
  .outputs = (array), .n_outputs = (uint32_t)CH_COUNT(array)
#define CH_KIND_PARAMS(array)                                                  \
  .params = (array), .n_params = (uint32_t)CH_COUNT(array)
#define CH_KIND_TABLES(inputs, outputs, params)                                \
  CH_KIND_INPUTS(inputs), CH_KIND_OUTPUTS(outputs), CH_KIND_PARAMS(params)

/**
   The fields of a ChKind that follow from the names a kind's file uses by
   convention: tables `inputs`, `outputs` and `params`, a state struct, and
   functions `NAME_init` and `NAME_process`.  CH_KIND_USUAL(vca, VcaState)
   is

     .name = "vca", CH_KIND_TABLES(inputs, outputs, params),
     .state_size = sizeof(VcaState), .init = vca_init, .process = vca_process

   so that a descriptor states only what is particular to its kind (.doc,
   .flags, .capture, ...).  A kind that leaves the convention (no inputs, no
   init) writes all its fields out instead.
*/
#define CH_KIND_USUAL(name_, State)                                            \
  CH_KIND_TABLES(inputs, outputs, params),                                     \
    .name = #name_, .state_size = sizeof(State), .init = name_##_init,         \
    .process = name_##_process

/** Bytes of state one instance of `kind` needs at `rate`. */
size_t ch_kind_state_size(const ChKind* kind, float rate);

/**
   Copies voice `voice`'s part of a state of `size` bytes: all of it for
   `lanes` 0, else its element of each array (see ChKind.lanes).  With
   `src` NULL, sets that part to zeros.  Real-time.
*/
CH_REALTIME void ch_state_copy(void*       dst,
                               const void* src,
                               size_t      size,
                               uint32_t    lanes,
                               uint32_t    voice);

/** Index of the named input, output or parameter, or -1.  Real-time. */
CH_REALTIME int ch_kind_find_input(const ChKind* kind, const char* name);
CH_REALTIME int ch_kind_find_output(const ChKind* kind, const char* name);
CH_REALTIME int ch_kind_find_param(const ChKind* kind, const char* name);

#ifdef __cplusplus
}
#endif

#endif /* CH_KIND_H */
