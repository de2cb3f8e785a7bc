/* OSC control: a UDP server on 127.0.0.1, in its own thread, that turns
   datagrams into protocol messages queued for run() and sends the plugin's
   answers back to whoever asked. */
#ifndef CH_OSC_H
#define CH_OSC_H

#include "../src/kind.h" /* CH_REALTIME */
#include "../src/ring.h"

#include <lv2/urid/urid.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** ch:seq values from here up are the OSC server's own: an answer that
    carries one goes back to an OSC client (docs/osc.md). */
#define CH_OSC_SEQ_FIRST 0x7F000000

/** Largest record the OSC thread queues for run(): one event at frame 0
    (an LV2_Atom_Event and its body). */
#define CH_OSC_RECORD_MAX 8192u

/** Most bytes of one answer datagram (UDP's limit, with some room). */
#define CH_OSC_DATAGRAM_MAX 65000u

/** What run() passes back to the OSC thread (a ChOscAnswer, then text). */
typedef enum {
  CH_OSC_ANSWER_ACK       = 1,
  CH_OSC_ANSWER_ERROR     = 2, /* text: the message */
  CH_OSC_ANSWER_COMMITTED = 3,
  CH_OSC_ANSWER_PATCH     = 4, /* text: the patch as Turtle */
} ChOscAnswerType;

typedef struct {
  uint32_t type;
  int32_t  seq;
  int64_t  generation; /* COMMITTED */
  float    build_ms;   /* COMMITTED */
  uint32_t text_len;   /* bytes of text after this header, with the NUL */
  uint32_t size;       /* bytes of the text (without its NUL); for PATCH
                          also when too many to be passed on (then there
                          is no text) */
} ChOscAnswer;

/** One OSC server of one plugin instance (stopped or listening). */
typedef struct ChOscImpl ChOsc;

/**
   A stopped server that will queue requests into `in` (for run()) and read
   answers from `out` (written by run()).  Instantiation (not real-time);
   NULL if out of memory.
*/
ChOsc* ch_osc_new(LV2_URID_Map* map, ChRing* in, ChRing* out);

/** Stop the server and free it (NULL is fine).  Not real-time. */
void ch_osc_free(ChOsc* osc);

/**
   Listen on UDP 127.0.0.1:`port`, or stop if `port` is 0; a server on
   another port stops first.  Returns false with a sentence in `why` (e.g.
   the port is taken); the server is then stopped.  Worker thread.
*/
bool ch_osc_listen(ChOsc* osc, int32_t port, char* why, size_t why_size);

/** The port listened on, 0 when stopped.  Any thread. */
int32_t ch_osc_port(const ChOsc* osc);

/**
   Pass an answer the plugin gives (on notify) back to the OSC client if
   `answer.seq` is one of the OSC server's (a message without ch:seq
   passes 0); does nothing otherwise.  The caller fills type, seq and, for
   COMMITTED, generation and build_ms; `text` (may be NULL) has
   `answer.size` bytes and a NUL after them; a patch too large for a
   datagram is not copied.  If it does not fit, the client is told so
   instead.  Audio thread (the producer of `out`).
*/
CH_REALTIME void ch_osc_answer(ChRing*     out,
                               ChOscAnswer answer,
                               const char* text);

#endif /* CH_OSC_H */
