/* The probe's oscilloscope: one output of the playing graph, decimated
   into fixed frames of CH_SCOPE_POINTS points for ch:Scope (audio thread). */
#ifndef CH_SCOPE_H
#define CH_SCOPE_H

#include "../src/graph.h"
#include "../src/model.h"
#include "protocol.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Seconds a ch:Probe lasts unless renewed. */
#define CH_SCOPE_TIMEOUT 3.0f

/** Seconds from the start of one frame to the next (at least). */
#define CH_SCOPE_PERIOD 0.03f

typedef struct {
  char       module[CH_NAME_MAX + 1u];
  char       port[CH_NAME_MAX + 1u];
  ChGraphTap tap;
  uint64_t   generation;  /* of the graph `tap` was found in */
  bool       found;       /* the playing graph has module:port */
  uint32_t   frames_left; /* until it stops unless renewed; 0 = off */
  uint32_t   step;        /* samples per point */
  uint32_t   phase;       /* samples to the next point */
  uint32_t   holdoff;     /* samples until the next frame may start */
  uint32_t   n;           /* points of the frame being captured */
  uint32_t   waited;      /* points seen while waiting for a trigger */
  bool       capturing;
  bool       ready;  /* a whole frame waits to be written */
  float      last;   /* the previous point, for the trigger */
  float      period; /* samples per frame period */
  float      points[CH_SCOPE_POINTS];
} ChScope;

/** Start (or renew) probing module:port at `rate` Hz; a NULL or empty
    module stops.  Real-time (bounded copies). */
CH_REALTIME void ch_scope_ask(ChScope*    scope,
                              const char* module,
                              const char* port,
                              float       rate);

/** Find the tap again if `graph` is not the one it was found in.  Returns
    false if the playing graph has no such output.  Real-time. */
CH_REALTIME bool ch_scope_follow(ChScope* scope, const ChGraph* graph);

/** Take `n` (at most CH_MAX_BLOCK) samples just rendered by `graph`. */
CH_REALTIME void ch_scope_feed(ChScope*       scope,
                               const ChGraph* graph,
                               uint32_t       n);

/** Count a cycle of `n` frames against the timeout. */
CH_REALTIME void ch_scope_tick(ChScope* scope, uint32_t n);

/** The ready frame as a ch:Scope answer (call ch_scope_sent() once it is
    written).  False if no frame is ready. */
CH_REALTIME bool ch_scope_answer(const ChScope* scope, float rate, ChMsg* msg);

/** The frame was written: capture the next one. */
CH_REALTIME void ch_scope_sent(ChScope* scope);

/** "ch:Probe: the playing patch has no output 'module:port'" in `buf`.
    Real-time (no printf). */
CH_REALTIME const char* ch_scope_missing(const ChScope* scope,
                                         char*          buf,
                                         size_t         size);

#endif /* CH_SCOPE_H */
