/* lv2host: the lilv/LV2 hosting that the tools (render, bench) and the
   plugin tests (test/host.c) share. */
#ifndef CH_TOOLS_LV2HOST_H
#define CH_TOOLS_LV2HOST_H

#include "protocol.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* URID map: a list, fine for the few dozen URIs a process uses; its lock
   makes it safe from any thread (a plugin may map on its worker). */
typedef struct {
  char**          uris;
  uint32_t        n;
  uint32_t        cap;
  pthread_mutex_t lock;
} ChHostUrids;

#define CH_HOST_URIDS_INIT                                                     \
  {                                                                            \
    NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER                                      \
  }

/* LV2_URID_Map's map and LV2_URID_Unmap's unmap over a ChHostUrids. */
LV2_URID    ch_urids_map(LV2_URID_Map_Handle urids, const char* uri);
const char* ch_urids_unmap(LV2_URID_Unmap_Handle urids, LV2_URID urid);

/* Frees the URIs (the map is empty and usable again). */
void ch_urids_clear(ChHostUrids* urids);

/* One lilv world and at most one plugin instance.  Every function runs on
   the tool's one thread: the worker is synchronous (work and its responses
   run at once, inside schedule_work, like Ardour's export), so the plugin
   calls back on the thread that called run() or instantiate; a caller may
   give its own worker (ChHostSettings), as the tests do.  Callers may read
   the fields; only `verbose`, `typed_log`, `in_run` and the map/unmap
   features (to share one URID table) are theirs to set. */
#define CH_HOST_MAX_FEATURES 8u

typedef struct {
  const char*       prog;      /* prefix of messages on stderr */
  bool              verbose;   /* print log:Trace, and log:Error in run() */
  bool              typed_log; /* "plugin error: ", not "plugin: " */
  bool              in_run;    /* set around run(): errors come on notify */
  ChHostUrids       urids;
  LV2_URID_Map      map;
  LV2_URID_Unmap    unmap;
  LV2_URID          atom_Chunk; /* notify's type before run(), once mapped */
  LilvWorld*        world;
  const LilvPlugin* plugin;
  bool              owns_world; /* ch_host_load() made it */
  LilvInstance*     instance;
  const LV2_Worker_Interface* worker;
  /* What the instance was given: plugins may keep these pointers */
  LV2_Worker_Schedule schedule;
  LV2_Log_Log         log;
  char                last_log[1024]; /* its last message, printed or not */
  float               rate;
  int32_t             block_lengths[3]; /* min, max, nominal */
  int32_t             sequence_size;
  LV2_Options_Option  options[6];
  LV2_Feature         feature_list[CH_HOST_MAX_FEATURES];
  const LV2_Feature*  features[CH_HOST_MAX_FEATURES + 1u];
} ChHost;

/* What the instance is told in its options */
typedef struct {
  uint32_t rate;
  uint32_t max_block;
  uint32_t nominal_block; /* 0: not given */
  uint32_t sequence_size;
  bool check_features; /* fail first if the plugin needs more than we give */
  bool no_worker;      /* offer no work:schedule at all */
  const LV2_Worker_Schedule* schedule; /* NULL: the synchronous worker */
  /* URIs of more features without data to offer (NULL-ended, at most two),
     e.g. for another plugin that a benchmark plays */
  const char* const* more_features;
} ChHostSettings;

/* Sets up an empty host (map and unmap ready, nothing loaded). */
void ch_host_init(ChHost* host, const char* prog);

/* Maps a URI with the host's map feature (0 when out of memory). */
LV2_URID
ch_host_map(ChHost* host, const char* uri);

/* The URI of a URID, or NULL. */
const char* ch_host_unmap(const ChHost* host, LV2_URID urid);

/* Uses `world` and `plugin`, which the caller keeps (ch_host_clear() leaves
   them alone). */
void ch_host_use_world(ChHost*           host,
                       LilvWorld*        world,
                       const LilvPlugin* plugin);

/* Creates the world and finds the Chronus plugin in `bundle` (NULL: all of
   LV2_PATH); `hint` is appended when the bundle cannot be opened.  Prints
   what failed. */
bool ch_host_load(ChHost* host, const char* bundle, const char* hint);

/* Instantiates the plugin with our features and options, and finds its
   worker interface.  Prints what failed. */
bool ch_host_instantiate(ChHost* host, const ChHostSettings* settings);

/* Frees the instance, if any (deactivate it first if it is active). */
void ch_host_drop_instance(ChHost* host);

/* Frees the instance, the world (if it made it) and its own URIDs, in any
   state of setup. */
void ch_host_clear(ChHost* host);

/* The plugin's ports: which is which, and the control defaults. */
typedef struct {
  uint32_t n;
  float*   defaults;   /* per port: a control's default (0 where none) */
  bool*    is_control; /* per port */
  uint32_t control;    /* the first atom input */
  uint32_t notify;     /* the first atom output */
  uint32_t out[2];     /* the first two audio outputs */
} ChHostPorts;

/* Finds the loaded plugin's ports.  Prints what is wrong and returns false
   if it lacks an atom input, an atom output or two audio outputs, or has a
   port of a type we do not know.  Free with ch_host_ports_free(). */
bool ch_host_find_ports(const ChHost* host, ChHostPorts* ports);

void ch_host_ports_free(ChHostPorts* ports);

/* Index of the port called `symbol`, or -1. */
int32_t ch_host_port_by_symbol(const ChHost* host, const char* symbol);

/* The plugin's control input: an atom:Sequence that grows as events are
   added (reconnecting the port when its buffer moves). */
typedef struct {
  LV2_Atom_Sequence* seq;
  uint32_t           cap;  /* bytes */
  uint32_t           port; /* its index (set by ch_host_connect_ports()) */
} ChHostControl;

/* Connects every port of the instance: the atom ports to `control` and
   `notify`, the audio outputs to `out`, each control port to its float in
   `values`, anything else to `dummy` (a block of floats). */
void ch_host_connect_ports(ChHost*            host,
                           const ChHostPorts* ports,
                           ChHostControl*     control,
                           void*              notify,
                           float* const       out[2],
                           float*             values,
                           float*             dummy);

/* What a tool connects the plugin's ports to. */
typedef struct {
  ChHostPorts        ports;
  float*             values;  /* per port: a control port's value */
  ChHostControl      control; /* the control input */
  LV2_Atom_Sequence* notify;  /* the notify output */
  float*             out[2];  /* the first two audio outputs */
  float*             dummy;   /* a block for every other port */
} ChHostIo;

/* Finds the loaded plugin's ports (ch_host_find_ports()) and gives each
   control port its default in `values`.  Prints what failed. */
bool ch_host_io_find_ports(ChHost* host, ChHostIo* io);

/* Allocates the control input (`control_size` bytes, empty), the notify
   output (`notify_size` bytes) and blocks of `block` floats for `out` and
   `dummy`.  Prints and returns false when out of memory. */
bool ch_host_io_alloc(ChHost*   host,
                      ChHostIo* io,
                      uint32_t  block,
                      uint32_t  control_size,
                      uint32_t  notify_size);

/* ch_host_connect_ports() to the buffers of `io`. */
void ch_host_io_connect(ChHost* host, ChHostIo* io);

/* Frees everything `io` holds, in any state of setup. */
void ch_host_io_free(ChHostIo* io);

/* Prints "prog: " and the message, then a newline, on stderr. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void
ch_tool_fail(const char* prog, const char* fmt, ...);

/* Empties the sequence at `seq` (typed `sequence`, the atom:Sequence URID). */
void ch_host_seq_clear(LV2_Atom_Sequence* seq, LV2_URID sequence);

/* Bytes the sequence will take with one more event of a `size`-byte body. */
uint32_t ch_host_seq_need(const LV2_Atom_Sequence* seq, uint32_t size);

/* Appends an event; the caller made sure it fits (ch_host_seq_need()). */
void ch_host_seq_append(LV2_Atom_Sequence* seq,
                        int64_t            frames,
                        LV2_URID           type,
                        const void*        body,
                        uint32_t           size);

/* An empty sequence of `cap` bytes typed `sequence`; false when out of
   memory. */
bool ch_host_control_init(ChHostControl* control,
                          uint32_t       cap,
                          LV2_URID       sequence);

/* Empties it (typed `sequence`, the atom:Sequence URID). */
void ch_host_control_clear(ChHostControl* control, LV2_URID sequence);

/* Appends an event, growing the buffer and reconnecting the port of
   `host`'s instance to it as needed; false (nothing added) when out of
   memory. */
bool ch_host_control_add(ChHost*        host,
                         ChHostControl* control,
                         int64_t        frames,
                         LV2_URID       type,
                         const void*    body,
                         uint32_t       size);

void ch_host_control_free(ChHostControl* control);

/* A walk over the plugin's answers in a notify sequence. */
typedef struct {
  const ChUris* uris;
  ChSeqIter     it;
  bool          ok; /* the sequence could be walked */
} ChHostAnswers;

/* Begins a walk over `notify`, as the last run() left it. */
void ch_host_answers_begin(ChHostAnswers*           answers,
                           const ChUris*            uris,
                           const LV2_Atom_Sequence* notify);

/* The next answer that reads as a message, into `*msg` (pointing into
   `notify`) and its frame into `*frame`; those that do not read are
   skipped.  False at the end. */
bool ch_host_answers_next(ChHostAnswers* answers, ChMsg* msg, int64_t* frame);

/* A monotonic clock, in nanoseconds (for timing run() and builds). */
double ch_host_now_ns(void);

/* One run() of `n` frames with `notify` (`notify_size` bytes) offered as
   empty room, then the worker's end_run; `in_run` is set meanwhile.
   Returns how long run() itself took, in nanoseconds. */
double ch_host_run(ChHost*            host,
                   LV2_Atom_Sequence* notify,
                   uint32_t           notify_size,
                   uint32_t           n);

#endif /* CH_TOOLS_LV2HOST_H */
