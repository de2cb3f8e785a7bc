/* The plugin instance, shared by the audio-thread code (plugin.c) and the
   worker and state code (worker.c, state.c). */
#ifndef CH_PLUGIN_H
#define CH_PLUGIN_H

#include "../src/graph.h"
#include "../src/limiter.h"
#include "../src/model.h"
#include "../src/ring.h"
#include "../src/voicing.h"
#include "history.h"
#include "osc.h"
#include "protocol.h"
#include "scope.h"

#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/logger.h>
#include <lv2/worker/worker.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum {
  CH_PORT_CONTROL = 0,
  CH_PORT_NOTIFY  = 1,
  CH_PORT_OUT_L   = 2,
  CH_PORT_OUT_R   = 3,
  CH_PORT_GAIN    = 4,
  CH_PORT_PROGRAM = 5,
  CH_PORT_MACRO   = 6, /* 6 .. 6 + CH_N_MACROS - 1 */
  CH_PORT_LIMITER = 6 + CH_N_MACROS,
  CH_PORT_OSC     = 7 + CH_N_MACROS,
};

/** What a record in the inbox (audio thread to worker) holds. */
typedef enum {
  CH_JOB_MESSAGE = 1, /* a copy of a message atom follows (checked once by
                         run(); the worker decodes it again, checked) */
  CH_JOB_PROGRAM = 2, /* `program` is the program to load */
  CH_JOB_POLL    = 3, /* check whether the patch file changed on disk */
  CH_JOB_OSC     = 4, /* `osc_port` is the OSC port to listen on (0: none) */
  CH_JOB_REVERT  = 5, /* the fail-safe replaced graph `failed` by the graph
                         of `generation` */
} ChJobType;

typedef struct {
  uint32_t type;
  int32_t  program;    /* CH_JOB_PROGRAM */
  uint64_t generation; /* ch:Set/ch:Gate: the graph run() applied it to */
  uint32_t order;      /* ch:Set/ch:Gate: run()'s count of them */
  int32_t  osc_port;   /* CH_JOB_OSC */
  uint64_t failed;     /* CH_JOB_REVERT: the generation that went bad */
} ChJob;

/** What a record in the outbox (worker to audio thread) holds. */
typedef enum {
  CH_REPLY_ACK       = 1,
  CH_REPLY_ERROR     = 2, /* the message text follows */
  CH_REPLY_COMMITTED = 3,
  CH_REPLY_PROPERTY  = 4, /* the value's text follows */
  CH_REPLY_SET       = 5, /* "module\0param\0" follows */
  CH_REPLY_PATCH     = 6,
} ChReplyType;

/** An answer: a header whose payload depends on `type`. */
typedef struct {
  uint32_t type;
  bool     has_seq;
  int32_t  seq;
  uint32_t text_len; /* bytes of text after this record, with the NUL */
  union {
    struct {
      ChGraph* graph; /* the new patch, for run() to swap in */
      float    build_ms;
      uint32_t fade;     /* frames of crossfade; 0 = cut (or seamless) */
      uint32_t quantize; /* CH_QUANTIZE_*: wait for the next beat/bar */
    } committed;
    struct {
      LV2_URID property; /* patch:Set `property` = the text that follows */
      bool     path;     /* the value is an atom:Path, not a string */
    } property;
    struct {
      uint32_t order; /* apply the value (as ch:Set number `order`) to the
                         playing graph: a ch:Set that reached an older graph
                         than the newest one built */
      float value;
    } set;
    struct {
      char* text; /* the active patch as Turtle (malloc'd by the worker;
                     run() hands it back through the trash) */
      uint32_t total;
      int64_t  generation;
    } patch;
  } u;
} ChReply;

/** What a record in the trash (audio thread to worker) holds. */
typedef enum {
  CH_TRASH_GRAPH = 1,
  CH_TRASH_TEXT  = 2,
} ChTrashType;

typedef struct {
  uint32_t type;
  void*    ptr;
} ChTrash;

/** The patch text run() is sending out as ch:Patch pieces. */
typedef struct {
  char*    text; /* NULL when idle */
  uint32_t total;
  uint32_t offset;
  int64_t  generation;
  bool     has_seq;
  int32_t  seq;
} ChExport;

/** A commit waiting for the next beat or bar of the host's transport. */
typedef struct {
  ChGraph* graph; /* NULL when none waits */
  uint32_t fade;
  uint32_t quantize;
  bool     has_seq;
  int32_t  seq;
  float    build_ms;
} ChPending;

/** The host's transport, as last told by time:Position and run since. */
typedef struct {
  bool   known;         /* a time:Position with tempo and bar beat came */
  double bar_beat;      /* beats into the bar, now */
  double beats_per_bar; /* > 0 */
  double bpm;           /* > 0 */
  double speed;         /* 0 = stopped */
} ChTransport;

/** Seconds a replaced graph is kept to fall back to (the fail-safe). */
#define CH_FALLBACK_SECONDS 4.0f

/** Output above this (+24 dBFS) before gain and limiter is runaway... */
#define CH_RUNAWAY_LEVEL 16.0f
/** ...once it lasts this long. */
#define CH_RUNAWAY_SECONDS 0.05f

/** Default crossfade of a commit that changes what sounds (ch:fadeTime). */
#define CH_FADE_DEFAULT 0.02f
/** Longest crossfade accepted. */
#define CH_FADE_MAX 2.0f

/** ch:Set echoes of one cycle: the last value per parameter. */
#define CH_ECHO_MAX 32u

/* While activity is measured, one block in this many is timed per module
   (a clock read per step costs about 35 ns: sampling keeps that below 1 %
   of a light patch at block 256; the shares come out the same). */
#define CH_CPU_EVERY 8u

typedef struct {
  char  module[CH_NAME_MAX + 1u];
  char  param[CH_NAME_MAX + 1u];
  float value;
} ChEcho;

/** What tells a file's versions apart: a change of any field is an edit. */
typedef struct {
  int64_t  mtime_ns;
  int64_t  size;
  uint64_t inode;
  bool     exists;
} ChFileStamp;

typedef struct {
  /* Host features and URIDs */
  LV2_URID_Map*        map;
  LV2_URID_Unmap*      unmap;    /* may be NULL */
  LV2_Worker_Schedule* schedule; /* may be NULL: work then runs in run() */
  LV2_Log_Logger       logger;
  ChUris               uris;
  LV2_Atom_Forge       forge; /* on notify once notify_open this cycle */
  LV2_Atom_Forge_Frame notify_frame;
  uint32_t             notify_capacity; /* notify's size as run() found it */
  bool                 notify_open;
  float                rate;
  char*                bundle_path; /* ends in '/': the bank is in bank/ */

  /* Ports */
  const LV2_Atom_Sequence* control;
  LV2_Atom_Sequence*       notify;
  float*                   out[2];
  const float*             gain;
  const float*             program;
  const float*             macro[CH_N_MACROS];
  const float*             limiter_on;
  const float*             osc_port;

  /* Audio thread only */
  ChGraph*     active;
  ChVoicing    voicing;
  ChHostInputs host;
  float        gain_db;     /* port value the target was computed from */
  float        gain_target; /* linear */
  float        gain_now;    /* linear, smoothed */
  float        gain_coeff;  /* one-pole smoothing per sample */
  bool         gain_scales; /* gain_now or gain_target is not 1 */
  ChLimiter    limiter;
  int32_t      program_now;     /* the program port's value last acted on */
  int32_t      program_late;    /* a restored state's program, or -1 */
  bool         program_started; /* run() has read the program port */
  bool         work_owed; /* the inbox has records the worker wasn't told of */
  uint32_t     muted_reports;  /* frames until another non-finite report */
  uint32_t     dropped_notify; /* answers that did not fit, to report */
  bool         owed;          /* set where a cycle's start or end may have work:
                                 export pieces, dropped answers, echoes, a probe,
                                 activity, muted reports; cleared by end_cycle when
                                 none has any left */
  uint32_t poll_countdown;    /* frames until the patch file is checked */
  uint32_t set_count;         /* ch:Set/ch:Gate messages applied so far */
  int32_t  osc_port_now;      /* the osc_port value last asked for */
  ChExport export;            /* the patch being sent as ch:Patch pieces */
  ChEcho   echo[CH_ECHO_MAX]; /* ch:Set to echo at the cycle's end */
  uint32_t n_echo;
  float    level_peak;               /* output peak since the last ch:Level */
  ChScope  scope;                    /* ch:Probe: the output a UI looks at */
  float    activity[CH_MAX_MODULES]; /* peak per model module since sent */
  uint32_t activity_frames; /* frames left to measure them (renewed by each
                               patch:Get of ch:activity) */
  uint64_t activity_gen;    /* the graph `activity` was measured in */
  uint32_t activity_next;   /* next ch:Activity piece's offset, or
                               UINT32_MAX when none is to be sent */
  uint64_t cpu_ns[CH_MAX_MODULES]; /* ns in each module's process calls
                                      while measured, since sent */
  uint64_t cpu_total;              /* ns in ch_graph_run meanwhile */
  uint32_t cpu_countdown;          /* measured blocks until one is timed */
  char     fault_text[256];        /* a malformed message's ch:Error */

  /* The control ports' raw bits as last acted on: a port that holds them
     is skipped.  calloc's zeros are the bits of 0.0, which the fresh state
     matches (knobs at 0, OSC off); the program's count once it is read. */
  uint32_t program_bits;
  uint32_t macro_bits[CH_N_MACROS]; /* host.macro[i] is their clamp */
  float    macro_held[CH_N_MACROS]; /* what an unconnected macro[i] reads */
  uint32_t osc_port_bits;           /* they give osc_port_now */

  /* Swaps (audio thread): crossfade, quantised commits, fail-safe */
  ChGraph*    fading;   /* the graph fading out under `active`, or NULL */
  uint32_t    fade_pos; /* frames of the fade done */
  uint32_t    fade_len;
  bool        fade_sum;      /* gains sum to 1, not equal power (swap_in) */
  ChGraph*    fallback;      /* the graph before the last swap, or NULL */
  uint32_t    fallback_left; /* frames it is kept for */
  ChPending   pending;
  ChTransport transport;
  uint32_t    runaway;                   /* frames of runaway output in a row */
  uint32_t    runaway_limit;             /* CH_RUNAWAY_SECONDS in frames */
  float       fade_buf[2][CH_MAX_BLOCK]; /* the fading graph's output */

  /* Lock-free queues between the threads */
  ChRing            inbox;    /* audio -> worker: messages */
  ChRing            outbox;   /* worker -> audio: answers and new graphs */
  ChRing            trash;    /* audio -> worker: graphs to free */
  ChRing            osc_in;   /* OSC thread -> audio: events at frame 0 */
  ChRing            osc_out;  /* audio -> OSC thread: answers */
  _Atomic(ChGraph*) restored; /* state restore -> audio: a new graph */
  atomic_bool       watching; /* worker -> audio: a patch file is set */
  atomic_int        program_restored; /* restore -> audio: ch:program, -1 */
  atomic_int        program_shown;    /* audio -> save: program_now */
  atomic_bool       port_taken;       /* restore -> audio: adopt the program
                                         port's value without loading it */

  /* Worker side, guarded by `lock` (never taken by the audio thread) */
  pthread_mutex_t lock;
  ChModel*        standby;          /* what edits change */
  ChModel*        committed;        /* the patch of the newest graph to play */
  uint64_t        committed_gen;    /* of `committed`'s graph */
  ChModel*        previous;         /* the model committed before it */
  uint64_t        previous_gen;     /* of `previous`; 0: none */
  ChHistory       history;          /* committed patches to undo and redo */
  uint64_t        generation;       /* of the newest built graph */
  char            patch_file[4096]; /* the ch:patchFile property, or "" */
  ChFileStamp     file_stamp;       /* of patch_file when last read */
  ChFileStamp     file_seen;        /* of patch_file at the last poll */
  char            text[1024];       /* scratch for answers */
  ChOsc*          osc;              /* the OSC server (stopped: port 0) */
  float           fade_time;        /* ch:fadeTime: default crossfade, s */
} Chronus;

/* worker.c */

/** Process every queued message and free retired graphs.  Worker thread. */
void ch_worker_drain(Chronus* self);

/** Free every graph in the trash.  Worker thread (or cleanup). */
void ch_worker_empty_trash(Chronus* self);

/** Free what an answer owns (a new graph, a patch's text), for an answer
    that run() will never take.  Worker thread (or cleanup). */
void ch_reply_free(const ChReply* reply);

LV2_Worker_Status ch_work(LV2_Handle                  instance,
                          LV2_Worker_Respond_Function respond,
                          LV2_Worker_Respond_Handle   handle,
                          uint32_t                    size,
                          const void*                 data);

LV2_Worker_Status ch_work_response(LV2_Handle  instance,
                                   uint32_t    size,
                                   const void* body);

/** Read program `number` of the bank into `model`.  Not real-time. */
ChStatus ch_bank_read(const Chronus* self,
                      int32_t        number,
                      ChModel*       model,
                      ChError*       err);

/**
   Build `model` for this instance (ch_build()), number the graph with the
   next generation and say how long it took.  Refused (CH_ERR_TOO_LARGE,
   with the estimated load) if a timed run after priming shows it cannot
   play in real time.  Worker or main thread.
*/
ChStatus ch_plugin_build(Chronus*       self,
                         const ChModel* model,
                         const ChModel* base,
                         ChGraph**      graph,
                         float*         build_ms,
                         ChError*       err);

/**
   Set the ch:patchFile property: load the file into standby and commit it,
   then watch it.  `req` (its ch:seq is answered) may be NULL.  Worker thread,
   lock held.
*/
void ch_worker_set_patch_file(Chronus*     self,
                              const char*  path,
                              const ChMsg* req);

/* state.c */

extern const void* ch_state_interface(void);

#endif /* CH_PLUGIN_H */
