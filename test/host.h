/* A small lilv host for plugin tests, on the LV2 host library the tools
   use (tools/lib/lv2host.h): instantiates urn:chronus:synth, feeds it MIDI
   and Chronus messages at chosen frames, records its audio and parses its
   answers, with a choice of worker. */
#ifndef CH_TEST_HOST_H
#define CH_TEST_HOST_H

#include "protocol.h"

#include <lilv/lilv.h>
#include <lv2/urid/urid.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_RATE      48000.0
#define HOST_MAX_BLOCK 4096u

/** `seq` value meaning "send no ch:seq" (and, in searches, "any seq"). */
#define HOST_NO_SEQ INT32_MIN

/** How the host runs the plugin's worker. */
typedef enum {
  HOST_WORKER_THREADED, /**< a worker thread; schedule_work is lock-free */
  HOST_WORKER_SYNC,     /**< work() runs inside schedule_work (Ardour export) */
  HOST_WORKER_SLOW,     /**< threaded, each work() call starts 30 ms late */
  HOST_WORKER_NONE,     /**< no work:schedule feature at all */
} HostWorkerMode;

typedef enum {
  HOST_ANSWER_ACK,
  HOST_ANSWER_COMMITTED,
  HOST_ANSWER_ERROR,
  HOST_ANSWER_PATCH,    /**< the ch:Patch pieces of an answer to patch:Get,
                             put together */
  HOST_ANSWER_PROPERTY, /**< patch:Set of a property (ch:patchFile) */
  HOST_ANSWER_PARAM,    /**< a ch:Set echoed: text "module:param", value */
  HOST_ANSWER_ACTIVITY, /**< ch:Activity: points from `offset` of `total`,
                             generation */
  HOST_ANSWER_SCOPE,    /**< ch:Scope: text "module:port", value = seconds
                             between points, points */
  HOST_ANSWER_LEVEL,    /**< ch:Level: value = the output's peak since the
                             last one */
  HOST_ANSWER_OTHER,
} HostAnswerType;

/** One answer read from the notify port. */
typedef struct {
  HostAnswerType type;
  bool           has_seq;
  int32_t        seq;
  int64_t        generation; /**< ch:Committed only, else -1 */
  float          build_ms;   /**< ch:Committed only, else -1 */
  char*          text;       /**< ch:message, the patch, patch:value, or
                                  "module:param" of an echo, else NULL */
  float    value;            /**< ch:Set echo: the value */
  uint32_t pieces;           /**< ch:Patch: how many pieces it came in */
  uint64_t cycle;            /**< index of the run() call it came out of */
  uint32_t frame;            /**< its event frame in that cycle */
  float*   points;           /**< ch:Scope, ch:Activity: values, else NULL */
  uint32_t n_points;
  float*   cpu;    /**< ch:Activity: ch:cpu, n_points shares, else NULL */
  uint32_t offset; /**< ch:Activity */
  uint32_t total;
} HostAnswer;

typedef struct HostImpl Host;

/** Options of host_new_with(); zero-initialised means defaults. */
typedef struct {
  HostWorkerMode worker;
  size_t         capture_frames; /**< audio recorded; default 20 s */
  bool           rtcheck;        /**< watch every run() with rtcheck */
  uint32_t       notify_size;    /**< notify buffer bytes; default 64 KiB */
} HostOptions;

/** A running instance with the given worker, or NULL (reason on stderr). */
Host* host_new(HostWorkerMode worker);

Host* host_new_with(const HostOptions* options);

/** Deactivate, stop the worker, free everything.  NULL is fine. */
void host_free(Host* host);

/** The shared world (loaded once per process) and the plugin. */
LilvWorld*        host_world(void);
const LilvPlugin* host_plugin(void);

/** The host's URID map (thread-safe). */
LV2_URID host_map(const char* uri);

/* Control input.  `frame` counts from the start of the next host_run();
   events further ahead wait for the cycle that contains them, so a whole
   timeline can be queued up front and rendered with any block size.  Events
   at the same frame keep their order. */

void host_note_on(Host* host, int64_t frame, uint8_t note, uint8_t velocity);
void host_note_off(Host* host, int64_t frame, uint8_t note);
void host_midi(Host* host, int64_t frame, const uint8_t* msg, uint32_t size);

/** Messages; `seq` is HOST_NO_SEQ for none; NULL strings are left out. */
void host_create(Host*       host,
                 int64_t     frame,
                 int32_t     seq,
                 const char* module,
                 const char* kind);
void host_delete(Host* host, int64_t frame, int32_t seq, const char* module);
void host_connect(Host*       host,
                  int64_t     frame,
                  int32_t     seq,
                  const char* from,
                  const char* to);
void host_disconnect(Host*       host,
                     int64_t     frame,
                     int32_t     seq,
                     const char* from,
                     const char* to);
void host_set(Host*       host,
              int64_t     frame,
              int32_t     seq,
              const char* module,
              const char* param,
              float       value);
void host_gate(Host*       host,
               int64_t     frame,
               int32_t     seq,
               const char* module,
               bool        on);
void host_commit(Host* host, int64_t frame, int32_t seq);
/** ch:Commit with ch:fade (seconds; < 0: none) and ch:quantize. */
void host_commit_with(Host*    host,
                      int64_t  frame,
                      int32_t  seq,
                      float    fade,
                      uint32_t quantize);
/** Any message (a time:Position, a patch:Set ...), by the encoder. */
void host_send(Host* host, int64_t frame, int32_t seq, const ChMsg* msg);
/** patch:Get of one property (`uri`), e.g. ch:activity. */
void host_get(Host* host, int64_t frame, int32_t seq, const char* uri);
/** ch:Probe module:port; a NULL module stops. */
void host_probe(Host*       host,
                int64_t     frame,
                int32_t     seq,
                const char* module,
                const char* port);
void host_abort(Host* host, int64_t frame, int32_t seq);
void host_load(Host* host, int64_t frame, int32_t seq, const char* turtle);
/** ch:Load ch:file `path` (an atom:Path). */
void host_load_file(Host* host, int64_t frame, int32_t seq, const char* path);
void host_patch_get(Host* host, int64_t frame, int32_t seq);
void host_patch_set(Host* host, int64_t frame, int32_t seq, const char* turtle);
/** patch:Set ch:patchFile to `path` (an atom:Path). */
void host_patch_set_file(Host*       host,
                         int64_t     frame,
                         int32_t     seq,
                         const char* path);
/** Any atom (`size` bytes, header included), sent as it is: for tests of
    malformed messages. */
void host_raw(Host* host, int64_t frame, const void* atom, uint32_t size);
/** `msg` encoded into `buf` by the protocol module; its size or 0. */
uint32_t host_encode(Host* host, const ChMsg* msg, void* buf, uint32_t size);
/** The instance's URIDs (the host's map). */
const ChUris* host_uris(const Host* host);
/** Malformed atoms seen on notify (each also printed). */
unsigned host_notify_faults(const Host* host);
/** An object of type `otype_uri` carrying only ch:seq. */
void host_message(Host*       host,
                  int64_t     frame,
                  int32_t     seq,
                  const char* otype_uri);

/** Set the control port `symbol` (gain in dB, program, limiter 0/1,
    osc_port 0: off, macro1..macro8) for the next cycles; one the plugin
    does not have aborts. */
void host_set_port(Host* host, const char* symbol, float value);

/** Connect the control port `symbol` to NULL (a careless host) for the
    rest of the run; one the plugin does not have aborts. */
void host_unplug_port(Host* host, const char* symbol);

/** Run one cycle of `nframes` (1..HOST_MAX_BLOCK). */
void host_run(Host* host, uint32_t nframes);

/** Run one cycle with the control port's `size` bytes (header included)
    as given, malformed or not; queued events wait. */
void host_run_raw(Host* host, const void* control, uint32_t size, uint32_t n);

/** Run cycles of `block` frames until `frames` frames are done. */
void host_run_frames(Host* host, size_t frames, uint32_t block);

/**
   Run cycles of `block` frames until an answer of `type` with `seq`
   (HOST_NO_SEQ: any) arrives, at most `max_cycles`; the answer or NULL.
   Only answers that arrive during this call count.
*/
const HostAnswer* host_run_until(Host*          host,
                                 uint32_t       block,
                                 HostAnswerType type,
                                 int32_t        seq,
                                 unsigned       max_cycles);

/** Cycles run so far (the index the next run() will get). */
uint64_t host_cycles(const Host* host);

/** Frames run so far. */
uint64_t host_frames(const Host* host);

/* Recorded audio: every frame run since creation or host_capture_clear(),
   up to the capture size (the rest is rendered but not kept). */
const float* host_left(const Host* host);
const float* host_right(const Host* host);
size_t       host_captured(const Host* host);
void         host_capture_clear(Host* host);

/* Answers, in arrival order. */
size_t            host_n_answers(const Host* host);
const HostAnswer* host_answer(const Host* host, size_t index);
/** First answer of `type` with `seq` (HOST_NO_SEQ: any), or NULL. */
const HostAnswer* host_find(const Host* host, HostAnswerType type, int32_t seq);
/** Number of answers of `type`. */
size_t host_count(const Host* host, HostAnswerType type);
/** The newest ch:Committed, or NULL. */
const HostAnswer* host_last_committed(const Host* host);
void              host_clear_answers(Host* host);
const char*       host_answer_type_name(HostAnswerType type);
/** Print every answer to stderr (debugging). */
void host_dump_answers(const Host* host);

/* Worker observation (threaded modes; SYNC counts too). */

/** work() calls that have returned. */
uint64_t host_work_done(const Host* host);
/**
   The cycle during or after which work() call `index` (0-based) returned:
   the index of the newest run() that had started by then, or -1 if none.
*/
int64_t host_work_return_cycle(const Host* host, uint64_t index);
/** Wait (without running cycles) until the worker has nothing to do. */
void host_wait_idle(Host* host);

/* Real-time checking (when HostOptions.rtcheck). */
unsigned    host_rt_violations(const Host* host);
const char* host_rt_first(const Host* host);
/** run() calls checked. */
uint64_t host_rt_checked(const Host* host);

/* State. */

/** Save the instance's state (lilv_state_new_from_instance), or NULL. */
LilvState* host_state_save(Host* host);
/** Restore `state` into the instance (lilv_state_restore); 0 on success. */
int host_state_restore(Host* host, const LilvState* state);

/**
   Restore `state` from another thread while this one keeps calling
   host_run() (state:threadSafeRestore); port values are left alone.
*/
void host_state_restore_from_thread(Host* host, const LilvState* state);

/** The plugin's last log message ("" if none).  Not thread-safe. */
const char* host_last_log(const Host* host);

/** `state` as Turtle (free with lilv_free()), as a session file holds it. */
char* host_state_to_string(const LilvState* state);

/** A state read back from host_state_to_string() text, or NULL. */
LilvState* host_state_from_string(const char* text);

#endif /* CH_TEST_HOST_H */
