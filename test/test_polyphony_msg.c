/* ch:Polyphony through lilv: an edit of standby like any other (heard
   after the commit, undone by ch:Undo), and a bad count refused with
   nothing changed. */
#include "check.h"
#include "host.h"
#include "plugin_fixture.h"

#include <stdio.h>
#include <string.h>

#define PATCH                                                                  \
  "@prefix ch: <urn:chronus:> .\n"                                             \
  "@prefix : <urn:chronus:module#> .\n"                                        \
  "<> a ch:Patch .\n"                                                          \
  ":voice ch:kind \"voice\" .\n"                                               \
  ":osc ch:kind \"osc\" .\n"                                                   \
  ":out ch:kind \"output\" .\n"                                                \
  "[] ch:from \"voice:pitch\" ; ch:to \"osc:pitch\" .\n"                       \
  "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n"

/* The playing patch's text (asked with ch:seq `seq`). */
static const char*
playing(Host* const h, const int32_t seq)
{
  host_patch_get(h, 0, seq);
  const HostAnswer* const p =
    host_run_until(h, 256, HOST_ANSWER_PATCH, seq, MAX_WAIT);
  return p && p->text ? p->text : "";
}

static void
send_voices(Host* const h, const float voices, const bool has, const int seq)
{
  ChMsg msg     = ch_msg_init(CH_MSG_POLYPHONY);
  msg.value     = voices;
  msg.has_value = has;
  host_send(h, 0, seq, &msg);
}

static void
test_polyphony_is_an_edit(Host* const h)
{
  send_voices(h, 4.0f, true, 3);
  CHECK(host_run_until(h, 256, HOST_ANSWER_ACK, 3, MAX_WAIT));
  CHECK(!strstr(playing(h, 4), "ch:polyphony")); /* not before the commit */
  host_commit(h, 0, 5);
  CHECK(host_run_until(h, 256, HOST_ANSWER_COMMITTED, 5, MAX_WAIT));
  CHECK(strstr(playing(h, 6), "ch:polyphony 4"));
  const ChMsg undo = ch_msg_init(CH_MSG_UNDO);
  host_send(h, 0, HOST_NO_SEQ, &undo);
  host_run_frames(h, 4096, 256);
  CHECK(!strstr(playing(h, 7), "ch:polyphony"));
}

static void
test_bad_polyphony_is_refused(Host* const h)
{
  static const struct {
    float       voices;
    bool        has;
    const char* says;
  } bad[] = {
    { 0.0f, true, "ch:Polyphony needs a whole ch:value" },
    { 2.5f, true, "ch:Polyphony needs a whole ch:value" },
    { 0.0f, false, "ch:Polyphony needs a whole ch:value" },
    { 17.0f, true, "polyphony 17 is out of range [1, 16]" },
  };
  for (int i = 0; i < 4; ++i) {
    send_voices(h, bad[i].voices, bad[i].has, 10 + i);
    const HostAnswer* const e =
      host_run_until(h, 256, HOST_ANSWER_ERROR, 10 + i, MAX_WAIT);
    CHECK_MSG(e && e->text && strstr(e->text, bad[i].says), "%g: %s",
              (double)bad[i].voices, e && e->text ? e->text : "no error");
  }
  host_commit(h, 0, 20);
  CHECK(host_run_until(h, 256, HOST_ANSWER_COMMITTED, 20, MAX_WAIT));
  CHECK(!strstr(playing(h, 21), "ch:polyphony"));
}

int
main(void)
{
  RUN_PLAYING(test_polyphony_is_an_edit, HOST_WORKER_SYNC, PATCH);
  RUN_PLAYING(test_bad_polyphony_is_refused, HOST_WORKER_SYNC, PATCH);
  return CHECK_EXIT();
}
