/* The OSC server of one instance: a UDP socket on 127.0.0.1 and a thread
   that decodes datagrams into run()'s queue and sends answers back. */
#include "osc.h"

#include "osc_map.h"

#include <lo/lo.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Requests awaiting their answer: one slot per seq modulo this.  A slot
   reused before its answer came only loses that answer. */
#define N_PENDING 1024u

/* How often the thread looks for answers (and for the stop flag), ms:
   run() may not make a system call to wake it. */
#define POLL_MS 5

/* Datagrams taken per wake-up before answers are looked at again. */
#define BURST 256

typedef struct {
  int32_t            seq; /* 0: free (OSC seqs are >= CH_OSC_SEQ_FIRST) */
  struct sockaddr_in to;
  char               address[64]; /* for /chronus/ack, cut if longer */
} Pending;

struct ChOscImpl {
  ChOscCodec  codec;
  ChRing*     in;
  ChRing*     out;
  int         fd;
  atomic_int  port;
  atomic_bool stop;
  bool        running;
  pthread_t   thread;
  uint32_t    next_seq;
  Pending     pending[N_PENDING];
  uint64_t    record[CH_OSC_RECORD_MAX / 8u];
  uint8_t     datagram[65536];
};

/* Sending (OSC thread) */

static void
send_message(ChOsc*                    osc,
             const struct sockaddr_in* to,
             const char*               path,
             lo_message                m)
{
  size_t      size = 0;
  void* const data = lo_message_serialise(m, path, NULL, &size);
  if (data) {
    sendto(osc->fd, data, size, MSG_DONTWAIT, (const struct sockaddr*)to,
           sizeof(*to));
    free(data);
  }
  lo_message_free(m);
}

/* A message of one string to `path`: /chronus/error's text, /chronus/ack's
   address. */
static void
send_string(ChOsc*                    osc,
            const struct sockaddr_in* to,
            const char*               path,
            const char*               text)
{
  const lo_message m = lo_message_new();
  if (m) {
    lo_message_add_string(m, text);
    send_message(osc, to, path, m);
  }
}

static void
send_error(ChOsc* osc, const struct sockaddr_in* to, const char* text)
{
  send_string(osc, to, "/chronus/error", text);
}

static void
send_ack(ChOsc* osc, const struct sockaddr_in* to, const char* address)
{
  send_string(osc, to, "/chronus/ack", address);
}

/* A /patch/get answer: the whole text in one datagram, or an error. */
static void
send_patch(ChOsc*                    osc,
           const struct sockaddr_in* to,
           const char*               text,
           uint32_t                  size)
{
  const lo_message m = text ? lo_message_new() : NULL;
  if (m) {
    lo_message_add_string(m, text);
    if (lo_message_length(m, "/chronus/patch") <= CH_OSC_DATAGRAM_MAX) {
      send_message(osc, to, "/chronus/patch", m);
      return;
    }
    lo_message_free(m);
  }
  char why[200];
  snprintf(why, sizeof(why),
           "/patch/get: the patch is %u bytes of Turtle, more than one OSC "
           "datagram takes (%u bytes); save it from the host instead",
           (unsigned)size, CH_OSC_DATAGRAM_MAX);
  send_error(osc, to, why);
}

/* Answers (OSC thread) */

static void
release(Pending* p)
{
  p->seq = 0;
}

static void
answer(ChOsc* osc, const ChOscAnswer* a, const char* text)
{
  Pending* const p = &osc->pending[(uint32_t)a->seq % N_PENDING];
  if (p->seq != a->seq) {
    return; /* its slot was reused: the client asked faster than we answer */
  }
  if (a->type == CH_OSC_ANSWER_ACK) {
    send_ack(osc, &p->to, p->address);
  } else if (a->type == CH_OSC_ANSWER_ERROR) {
    send_error(osc, &p->to, a->text_len ? text : "error");
  } else if (a->type == CH_OSC_ANSWER_COMMITTED) {
    const lo_message m = lo_message_new();
    if (m) {
      lo_message_add_int32(m, (int32_t)a->generation);
      lo_message_add_float(m, a->build_ms);
      send_message(osc, &p->to, "/chronus/committed", m);
    }
  } else if (a->type == CH_OSC_ANSWER_PATCH) {
    send_patch(osc, &p->to, a->text_len ? text : NULL, a->size);
  }
  release(p);
}

static void
send_answers(ChOsc* osc)
{
  uint32_t    size = 0;
  const void* record;
  while ((record = ch_ring_peek(osc->out, &size))) {
    const ChOscAnswer* const a = (const ChOscAnswer*)record;
    if (size >= sizeof(*a) && a->text_len <= size - sizeof(*a)) {
      answer(osc, a, (const char*)(a + 1));
    }
    ch_ring_pop(osc->out);
  }
}

/* Requests (OSC thread) */

static int32_t
take_seq(ChOsc* osc)
{
  const uint32_t span = (uint32_t)INT32_MAX - (uint32_t)CH_OSC_SEQ_FIRST + 1u;
  const int32_t  seq  = (int32_t)((uint32_t)CH_OSC_SEQ_FIRST + osc->next_seq);
  osc->next_seq       = (osc->next_seq + 1u) % span;
  return seq;
}

static void
handle(ChOsc*                    osc,
       const uint8_t*            data,
       size_t                    size,
       const struct sockaddr_in* from)
{
  char                  address[256];
  char                  why[512];
  const int32_t         seq   = take_seq(osc);
  LV2_Atom_Event* const event = (LV2_Atom_Event*)osc->record;
  const ChOscDecoded    got =
    ch_osc_decode(&osc->codec, data, size, seq, event, sizeof(osc->record),
                  address, sizeof(address), why, sizeof(why));
  if (got == CH_OSC_REFUSED) {
    send_error(osc, from, why);
    return;
  }
  Pending* const p = &osc->pending[(uint32_t)seq % N_PENDING];
  if (got == CH_OSC_REQUEST) {
    release(p);
    p->seq           = seq;
    p->to            = *from;
    const size_t len = strnlen(address, sizeof(p->address) - 1u);
    memcpy(p->address, address, len); /* cut: only the ack shows it */
    p->address[len] = '\0';
  }
  const uint32_t bytes = (uint32_t)sizeof(LV2_Atom_Event) + event->body.size;
  if (!ch_ring_write(osc->in, event, bytes, NULL, 0)) {
    if (got == CH_OSC_REQUEST) {
      release(p);
    }
    snprintf(why, sizeof(why),
             "%s: dropped: the queue to the plugin is full (too many "
             "messages at once, or the plugin is not running)",
             address);
    send_error(osc, from, why);
  } else if (got == CH_OSC_MIDI) {
    send_ack(osc, from, address); /* nothing else will answer it */
  }
}

static void
receive(ChOsc* osc)
{
  for (int i = 0; i < BURST; ++i) {
    struct sockaddr_in from;
    socklen_t          from_len = sizeof(from);
    const ssize_t      n =
      recvfrom(osc->fd, osc->datagram, sizeof(osc->datagram), MSG_DONTWAIT,
               (struct sockaddr*)&from, &from_len);
    if (n < 0) {
      return;
    }
    if (from_len == sizeof(from) && from.sin_family == AF_INET) {
      handle(osc, osc->datagram, (size_t)n, &from);
    }
  }
}

static void*
serve(void* arg)
{
  ChOsc* const osc = (ChOsc*)arg;
  while (!atomic_load(&osc->stop)) {
    struct pollfd p = { osc->fd, POLLIN, 0 };
    if (poll(&p, 1, POLL_MS) > 0 && (p.revents & POLLIN)) {
      receive(osc);
    }
    send_answers(osc);
  }
  return NULL;
}

/* Lifecycle (instantiate, worker, cleanup) */

ChOsc*
ch_osc_new(LV2_URID_Map* const map, ChRing* const in, ChRing* const out)
{
  ChOsc* const osc = (ChOsc*)calloc(1, sizeof(ChOsc));
  if (!osc) {
    return NULL;
  }
  ch_osc_codec_init(&osc->codec, map);
  osc->in  = in;
  osc->out = out;
  osc->fd  = -1;
  atomic_init(&osc->port, 0);
  atomic_init(&osc->stop, false);
  return osc;
}

static void
stop(ChOsc* osc)
{
  if (osc->running) {
    atomic_store(&osc->stop, true);
    pthread_join(osc->thread, NULL);
    osc->running = false;
  }
  if (osc->fd >= 0) {
    close(osc->fd);
    osc->fd = -1;
  }
  for (uint32_t i = 0; i < N_PENDING; ++i) {
    release(&osc->pending[i]);
  }
  atomic_store(&osc->port, 0);
}

void
ch_osc_free(ChOsc* const osc)
{
  if (osc) {
    stop(osc);
    free(osc);
  }
}

int32_t
ch_osc_port(const ChOsc* const osc)
{
  return atomic_load(&osc->port);
}

static bool
open_socket(ChOsc* osc, int32_t port, char* why, size_t why_size)
{
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family      = AF_INET;
  addr.sin_port        = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  osc->fd              = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (osc->fd < 0 ||
      bind(osc->fd, (const struct sockaddr*)&addr, sizeof(addr))) {
    const int e = errno;
    snprintf(why, why_size, "OSC: cannot listen on UDP 127.0.0.1:%d: %s%s",
             (int)port, strerror(e),
             e == EADDRINUSE ? " (another program or instance has it: choose "
                               "another osc_port)"
                             : "");
    if (osc->fd >= 0) {
      close(osc->fd);
      osc->fd = -1;
    }
    return false;
  }
  return true;
}

bool
ch_osc_listen(ChOsc* const  osc,
              const int32_t port,
              char* const   why,
              const size_t  why_size)
{
  if (port == ch_osc_port(osc)) {
    return true;
  }
  stop(osc);
  if (port == 0) {
    return true;
  }
  if (port < 1 || port > 65535) {
    snprintf(why, why_size, "OSC: osc_port %d is no UDP port (1..65535)",
             (int)port);
    return false;
  }
  if (!open_socket(osc, port, why, why_size)) {
    return false;
  }
  /* Answers queued while nobody listened are for nobody now. */
  while (ch_ring_peek(osc->out, NULL)) {
    ch_ring_pop(osc->out);
  }
  atomic_store(&osc->stop, false);
  if (pthread_create(&osc->thread, NULL, serve, osc)) {
    snprintf(why, why_size, "OSC: cannot start the server thread");
    stop(osc);
    return false;
  }
  osc->running = true;
  atomic_store(&osc->port, port);
  return true;
}

/* The audio thread's side */

CH_REALTIME void
ch_osc_answer(ChRing* const out, ChOscAnswer answer, const char* const text)
{
  if (answer.seq < CH_OSC_SEQ_FIRST) {
    return;
  }
  answer.text_len = 0u;
  if (text && (answer.type != CH_OSC_ANSWER_PATCH ||
               answer.size <= CH_OSC_DATAGRAM_MAX)) {
    answer.text_len = answer.size + 1u; /* a longer patch: its size alone */
  }
  if (ch_ring_write(out, &answer, sizeof(answer), text, answer.text_len)) {
    return;
  }
  static const char full[] = "the answer did not fit in the queue to the OSC "
                             "server (too large, or too many at once)";
  answer.type              = CH_OSC_ANSWER_ERROR;
  answer.text_len          = sizeof(full);
  ch_ring_write(out, &answer, sizeof(answer), full, answer.text_len);
}
