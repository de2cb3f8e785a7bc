/* Tests of OSC through the plugin (lilv): a client socket talks to an
   instance's server; answers, a taken port, a flood, a large patch, state. */
#include "../plugin/osc.h"
#include "check.h"
#include "host.h"
#include "plugin_fixture.h"

#include <lo/lo.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int   fd;
  char  address[64];
  char  text[70000];
  int   i;
  float f;
} Client;

/* A free UDP port of 15000-15099 (this test's range), or 0. */
static int
free_port(void)
{
  for (int port = 15000 + (int)(getpid() % 100), n = 0; n < 100; ++n) {
    const int          fd   = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_port   = htons((uint16_t)port) };
    addr.sin_addr.s_addr    = htonl(INADDR_LOOPBACK);
    const int taken         = bind(fd, (struct sockaddr*)&addr, sizeof(addr));
    close(fd);
    if (!taken) {
      return port;
    }
    port = 15000 + (port - 15000 + 1) % 100;
  }
  return 0;
}

static int
udp_socket(int port)
{
  const int          fd   = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_port   = htons((uint16_t)port) };
  addr.sin_addr.s_addr    = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&addr, sizeof(addr))) {
    close(fd);
    return -1;
  }
  return fd;
}

static void
client_send(Client* c, int port, const char* path, const char* types, ...)
{
  lo_message m = lo_message_new();
  va_list    ap;
  va_start(ap, types);
  for (const char* t = types; *t; ++t) {
    if (*t == 's') {
      lo_message_add_string(m, va_arg(ap, const char*));
    } else if (*t == 'f') {
      lo_message_add_float(m, (float)va_arg(ap, double));
    } else if (*t == 'i') {
      lo_message_add_int32(m, va_arg(ap, int32_t));
    }
  }
  va_end(ap);
  size_t                   size = 0;
  void* const              data = lo_message_serialise(m, path, NULL, &size);
  const struct sockaddr_in to   = { .sin_family      = AF_INET,
                                    .sin_port        = htons((uint16_t)port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  sendto(c->fd, data, size, 0, (const struct sockaddr*)&to, sizeof(to));
  free(data);
  lo_message_free(m);
}

/* One answer, if one is waiting: its address and first argument. */
static bool
client_poll(Client* c)
{
  static uint8_t buf[70000];
  const ssize_t  n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
  if (n <= 0) {
    return false;
  }
  int              result = 0;
  const lo_message m      = lo_message_deserialise(buf, (size_t)n, &result);
  if (!m) {
    return false;
  }
  snprintf(c->address, sizeof(c->address), "%.63s", (const char*)buf);
  const char* const types = lo_message_get_types(m);
  /* liblo's argument vector and arguments may be only 4-byte aligned:
     both are copied out, never loaded in place. */
  const char* const argv   = (const char*)lo_message_get_argv(m);
  const void*       arg[2] = { NULL, NULL };
  if (types[0]) {
    memcpy(arg, argv, (types[1] ? 2 : 1) * sizeof(void*));
  }
  c->text[0] = '\0';
  if (types[0] == 's') {
    snprintf(c->text, sizeof(c->text), "%s", (const char*)arg[0]);
  } else if (types[0] == 'i') {
    memcpy(&c->i, arg[0], sizeof(c->i));
    c->f = 0.0f;
    if (types[1] == 'f') {
      memcpy(&c->f, arg[1], sizeof(c->f));
    }
  }
  lo_message_free(m);
  return true;
}

/* Run the plugin until an answer comes (at most ~10 s: a loaded machine). */
static bool
client_wait(Client* c, Host* h)
{
  for (int i = 0; i < 10000; ++i) {
    if (client_poll(c)) {
      return true;
    }
    host_run(h, 256);
    nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
  }
  c->address[0] = '\0';
  return false;
}

/* Ask /patch/get until the server answers (it starts on the worker).
   Asks sent before it listened are lost; those sent since are answered
   within a few cycles: taken here, so none is left over. */
static bool
client_connect(Client* c, Host* h, int port)
{
  bool got = false;
  for (int asked = 0; asked < 50 && !got; ++asked) {
    client_send(c, port, "/patch/get", "");
    for (int k = 0; k < 100 && !got; ++k) {
      host_run(h, 256);
      nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
      got = client_poll(c);
    }
  }
  if (!got || strcmp(c->address, "/chronus/patch")) {
    return false;
  }
  Client* const late = (Client*)malloc(sizeof(Client));
  late->fd           = c->fd;
  for (int i = 0; i < 100; ++i) {
    host_run(h, 256);
    nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
    while (client_poll(late)) {
    }
  }
  free(late);
  return true;
}

static Host*
osc_host(int* port, Client* c)
{
  const HostOptions options = { .worker  = HOST_WORKER_THREADED,
                                .rtcheck = true };
  Host* const       h       = host_new_with(&options);
  c->fd                     = udp_socket(0);
  *port                     = free_port();
  CHECK(h && c->fd >= 0 && *port);
  if (!h || c->fd < 0 || !*port) {
    host_free(h);
    return NULL;
  }
  host_set_port(h, "osc_port", (float)*port);
  return h;
}

/* A case with a host whose OSC server listens on `port` and a client `c`
   (its reply socket), real-time checked throughout. */
typedef void (*OscCase)(Host* h, Client* c, int port);

/* Run `test_fn` on a new OSC host, first connected to when `connect` (so
   the server is known to listen); run() must stay real-time safe. */
static void
run_osc_case(const char* name, OscCase test_fn, bool connect)
{
  check_failed_now = 0;
  static Client c;
  int           port = 0;
  Host* const   h    = osc_host(&port, &c);
  if (h && (!connect || client_connect(&c, h, port))) {
    test_fn(h, &c, port);
    CHECK_MSG(!host_rt_violations(h), "%s", host_rt_first(h));
  } else {
    CHECK(!"no server");
  }
  host_free(h);
  if (c.fd >= 0) {
    close(c.fd);
  }
  report_case(name);
}

#define RUN_OSC(test_fn, connect) run_osc_case(#test_fn, test_fn, connect)

/* An edit, a bad edit (the same text as on notify), a commit. */
static void
test_plugin_round_trip(Host* h, Client* c, int port)
{
  CHECK_MSG(client_connect(c, h, port), "no /patch/get answer on %d", port);
  CHECK_STR_CONTAINS(c->text, "ch:Patch");

  client_send(c, port, "/patch/create", "ss", "lfo9", "lfo");
  CHECK(client_wait(c, h) && !strcmp(c->address, "/chronus/ack"));
  CHECK(!strcmp(c->text, "/patch/create"));

  client_send(c, port, "/patch/connect", "ss", "nope:out", "lfo9:rate");
  CHECK(client_wait(c, h) && !strcmp(c->address, "/chronus/error"));
  CHECK_STR_CONTAINS(c->text, "nope");
  const HostAnswer* const e = host_find(h, HOST_ANSWER_ERROR, HOST_NO_SEQ);
  CHECK(e && e->has_seq && e->seq >= CH_OSC_SEQ_FIRST);
  CHECK_MSG(e && e->text && !strcmp(e->text, c->text),
            "notify says \"%s\", OSC \"%s\"", e ? e->text : "", c->text);

  client_send(c, port, "/patch/commit", "");
  CHECK(client_wait(c, h) && !strcmp(c->address, "/chronus/committed"));
  const HostAnswer* const done = host_last_committed(h);
  CHECK(done && done->generation == c->i && c->f >= 0.0f);
}

/* A taken port: an error on notify naming it; free again, it listens. */
static void
test_plugin_port_taken(Host* h, Client* c, int port)
{
  const int squatter = udp_socket(port);
  CHECK(squatter >= 0);
  char want[128];
  snprintf(want, sizeof(want),
           "OSC: cannot listen on UDP 127.0.0.1:%d: Address already in use",
           port);
  const HostAnswer* const e =
    host_run_until(h, 256, HOST_ANSWER_ERROR, HOST_NO_SEQ, 2000);
  CHECK(e);
  CHECK_STR_CONTAINS(e ? e->text : NULL, want);
  close(squatter);

  host_set_port(h, "osc_port", 0.0f);
  host_run(h, 256);
  host_set_port(h, "osc_port", (float)port);
  CHECK_MSG(client_connect(c, h, port), "port %d freed, still no server", port);
}

/* Answers waiting: acks counted into `acks`; returns the queue-full
   refusals among them. */
static int
count_answers(Client* c, int* acks)
{
  int full = 0;
  while (client_poll(c)) {
    *acks += !strcmp(c->address, "/chronus/ack");
    full += !strcmp(c->address, "/chronus/error") &&
            strstr(c->text, "/mod/out/level: dropped: the queue to the "
                            "plugin is full");
  }
  return full;
}

/* A flood: what does not fit in the queue is refused at once; the rest is
   played, answered, and run() neither allocates nor locks. */
static void
test_plugin_flood(Host* h, Client* c, int port)
{
  host_clear_answers(h);
  int sent = 0;
  int full = 0;
  int acks = 0;
  for (; sent < 2000 && !full; ++sent) {
    client_send(c, port, "/mod/out/level", "f", 0.1);
    if (sent % 50 == 49) {
      nanosleep(&(struct timespec){ 0, 2000000L }, NULL); /* no UDP loss */
    }
    full += count_answers(c, &acks);
  }
  CHECK_MSG(full, "2000 requests and the queue was never full");
  /* Every queued request is answered on notify; a burst of answers can
     overflow this client's socket buffer (UDP drops them there), so of
     those only some need to arrive. */
  int on_notify = 0;
  for (int i = 0; i < 10000 && on_notify < sent - full; ++i) {
    host_run(h, 256);
    nanosleep(&(struct timespec){ 0, 1000000L }, NULL); /* the worker's turn */
    full += count_answers(c, &acks);
    on_notify = (int)host_count(h, HOST_ANSWER_ACK);
  }
  /* The OSC thread sends what run() passed on within a few ms. */
  for (int quiet = 0, i = 0; quiet < 50 && i < 2000; ++i) {
    nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
    const int before = acks;
    full += count_answers(c, &acks);
    quiet = acks == before ? quiet + 1 : 0;
  }
  CHECK_MSG(on_notify == sent - full, "%d sent, %d refused, %d acks on notify",
            sent, full, on_notify);
  CHECK_MSG(acks > 100, "%d of %d requests acknowledged", acks, sent);
  fprintf(stderr,
          "  flood: %d sent, %d refused at once (queue full), %d acked on "
          "notify, %d acks received\n",
          sent, full, on_notify, acks);
  client_send(c, port, "/patch/get", "");
  CHECK(client_wait(c, h) && !strcmp(c->address, "/chronus/patch"));
}

/* A patch larger than a datagram: /patch/get says so, with its size. */
static void
test_plugin_patch_too_large(Host* h, Client* c, int port)
{
  static char turtle[200000];
  size_t      n = (size_t)snprintf(turtle, sizeof(turtle),
                                   "@prefix ch: <urn:chronus:> .\n"
                                        "@prefix : <urn:chronus:module#> .\n"
                                        "<> a ch:Patch .\n"
                                        ":out ch:kind \"output\" .\n");
  for (int i = 0; i < 900; ++i) {
    n += (size_t)snprintf(turtle + n, sizeof(turtle) - n,
                          ":a_rather_long_module_name_to_fill_it_%04d "
                          "ch:kind \"const\" .\n",
                          i);
  }
  host_load(h, 0, 1, turtle);
  host_commit(h, 0, 2);
  CHECK(host_run_until(h, 256, HOST_ANSWER_COMMITTED, 2, 4000));
  client_send(c, port, "/patch/get", "");
  CHECK(client_wait(c, h) && !strcmp(c->address, "/chronus/error"));
  CHECK_STR_CONTAINS(c->text, "/patch/get: the patch is ");
  CHECK_STR_CONTAINS(c->text, "bytes of Turtle, more than one OSC datagram "
                              "takes (65000 bytes)");
}

/* Hosts save control ports with the state: osc_port is one. */
static void
test_plugin_port_saved(Host* h)
{
  host_set_port(h, "osc_port", 15099.0f);
  LilvState* const state = host_state_save(h);
  char* const      text  = host_state_to_string(state);
  CHECK_STR_CONTAINS(text, "osc_port");
  CHECK_STR_CONTAINS(text, "15099");
  free(text);
  lilv_state_free(state);
}

int
main(void)
{
  RUN_OSC(test_plugin_round_trip, false);
  RUN_OSC(test_plugin_port_taken, false);
  RUN_OSC(test_plugin_flood, true);
  RUN_OSC(test_plugin_patch_too_large, true);
  RUN_HOST(test_plugin_port_saved, HOST_WORKER_SYNC);
  return CHECK_EXIT();
}
