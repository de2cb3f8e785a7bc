/* ch:Rename through lilv: a renamed module keeps its running state across
   the commit (the sound is bit for bit that of a patch left alone), its
   links follow, and a bad rename is refused by name with nothing changed. */
#include "check.h"
#include "host.h"
#include "plugin_fixture.h"

#include <stdio.h>
#include <string.h>

#define PATCH                                                                  \
  "@prefix ch: <urn:chronus:> .\n"                                             \
  "@prefix param: <urn:chronus:param#> .\n"                                    \
  "@prefix : <urn:chronus:module#> .\n"                                        \
  "<> a ch:Patch .\n"                                                          \
  ":osc ch:kind \"osc\" ; param:shape \"saw\" ; param:pitch 0.3 .\n"           \
  ":lfo ch:kind \"lfo\" ; param:rate 3 .\n"                                    \
  ":out ch:kind \"output\" ; param:level 0.5 .\n"                              \
  "[] ch:from \"lfo:out\" ; ch:to \"osc:fm\" .\n"                              \
  "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n"

static void
test_rename_keeps_the_sound(Host* const a, Host* const b)
{
  CHECK(load_commit(a, PATCH, 1) && load_commit(b, PATCH, 1));
  host_run_frames(a, 12000, 256);
  host_run_frames(b, 12000, 256);
  /* a renames both modules mid-flight; b commits the same patch as is. */
  ChMsg rename  = ch_msg_init(CH_MSG_RENAME);
  rename.module = "osc";
  rename.to     = "tone";
  host_send(a, 0, HOST_NO_SEQ, &rename);
  rename.module = "lfo";
  rename.to     = "wobble";
  host_send(a, 0, HOST_NO_SEQ, &rename);
  host_commit(a, 0, 3);
  host_commit(b, 0, 3);
  CHECK(host_run_until(a, 256, HOST_ANSWER_COMMITTED, 3, MAX_WAIT));
  CHECK(host_run_until(b, 256, HOST_ANSWER_COMMITTED, 3, MAX_WAIT));
  host_run_frames(a, 12000, 256);
  host_run_frames(b, 12000, 256);
  const size_t n = host_captured(a);
  CHECK(n == host_captured(b) && n > 24000);
  size_t differ = 0;
  for (size_t i = 0; i < n; ++i) {
    differ += host_left(a)[i] != host_left(b)[i];
  }
  CHECK_MSG(differ == 0, "%zu samples differ from the patch left alone",
            differ);
  /* The links followed the names. */
  host_patch_get(a, 0, 4);
  const HostAnswer* const p =
    host_run_until(a, 256, HOST_ANSWER_PATCH, 4, MAX_WAIT);
  CHECK(p && p->text && strstr(p->text, "\"tone:out\"") &&
        strstr(p->text, "\"wobble:out\"") && strstr(p->text, "\"tone:fm\"") &&
        !strstr(p->text, "\"osc:") && !strstr(p->text, ":osc\n"));
}

static void
test_bad_rename_is_refused(Host* const h)
{
  static const struct {
    const char* module;
    const char* to;
    const char* says;
  } bad[] = {
    { "osc", "lfo", "a module named 'lfo' exists already" },
    { "nosuch", "x", "no module named 'nosuch'" },
    { "osc", "9lives", "cannot rename 'osc' to '9lives'" },
    { "osc", NULL, "ch:Rename needs ch:module and ch:to" },
  };
  for (int i = 0; i < 4; ++i) {
    ChMsg msg  = ch_msg_init(CH_MSG_RENAME);
    msg.module = bad[i].module;
    msg.to     = bad[i].to;
    host_send(h, 0, 10 + i, &msg);
    const HostAnswer* const e =
      host_run_until(h, 256, HOST_ANSWER_ERROR, 10 + i, MAX_WAIT);
    CHECK_MSG(e && e->text && strstr(e->text, bad[i].says), "%s -> %s: %s",
              bad[i].module, bad[i].to ? bad[i].to : "(none)",
              e && e->text ? e->text : "no error");
  }
  host_commit(h, 0, 20);
  CHECK(host_run_until(h, 256, HOST_ANSWER_COMMITTED, 20, MAX_WAIT));
  host_patch_get(h, 0, 21);
  const HostAnswer* const p =
    host_run_until(h, 256, HOST_ANSWER_PATCH, 21, MAX_WAIT);
  CHECK(p && p->text && strstr(p->text, "\"osc:out\"") &&
        strstr(p->text, "\"lfo:out\""));
}

int
main(void)
{
  RUN_PAIR(test_rename_keeps_the_sound, HOST_WORKER_SYNC, HOST_WORKER_SYNC);
  RUN_PLAYING(test_bad_rename_is_refused, HOST_WORKER_SYNC, PATCH);
  return CHECK_EXIT();
}
