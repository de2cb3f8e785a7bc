/* The plugin through lilv, its state and ports: save and restore (also
   while running and before a queued commit), patch:Get and the program
   port. */
#include "check.h"
#include "dsp.h"
#include "host.h"
#include "plugin_fixture.h"

#include <lilv/lilv.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A state restored while a commit is being built wins over it. */
static void
test_restore_beats_queued_commit(Host* a, Host* b)
{
  static const char high[] = SINE_PATCH("1");
  host_patch_set(a, 0, 1, high);
  CHECK(run_until_answered(a, NULL, 1, 1, BLOCK));
  LilvState* const state = host_state_save(a);
  host_patch_set(b, 0, 1, patch_x);
  CHECK(run_until_answered(b, NULL, 1, 1, BLOCK));
  host_commit(b, 0, 2);
  host_run(b, BLOCK); /* queued: the slow worker starts 30 ms later */
  host_state_restore_from_thread(b, state);
  nap_us(100000);
  host_run_frames(b, 48000, BLOCK);
  CHECK_NEAR(tail_freq(b), C5, 0.5);
  lilv_state_free(state);
}

static void
test_state_round_trip(Host* a)
{
  CHECK(load_commit(a, patch_custom, 1));
  check_answer(a, 1, HOST_ANSWER_ACK);

  /* Through text and back, as a session file would go. */
  LilvState* saved = host_state_save(a);
  CHECK(saved);
  if (!saved) {
    return;
  }
  char* const text = host_state_to_string(saved);
  CHECK(text);
  CHECK_STR_CONTAINS(text, ":main");
  LilvState* const loaded = text ? host_state_from_string(text) : NULL;
  CHECK(loaded);

  /* Into a threaded host, and into one with no worker (as Ardour
     restores a session). */
  Host* b = host_new(HOST_WORKER_THREADED);
  Host* c = host_new(HOST_WORKER_NONE);
  CHECK(b && c);
  if (b && c && loaded) {
    /* A restore is a new sound (no state carried from what played), so
       `a` takes its own state back too: all three start alike. */
    CHECK(!host_state_restore(a, saved));
    CHECK(!host_state_restore(b, loaded));
    CHECK(!host_state_restore(c, loaded));
    /* The restored graph plays from here, crossfaded in (a new sound):
       past the fade, all three graphs have played silent cycles only. */
    for (int k = 0; k < 8; ++k) {
      host_run(a, BLOCK);
      host_run(b, BLOCK);
      host_run(c, BLOCK);
    }
    Host* const hosts[] = { a, b, c };
    for (int i = 0; i < 3; ++i) {
      host_capture_clear(hosts[i]);
      host_clear_answers(hosts[i]);
      host_patch_get(hosts[i], 0, 3);
      host_note_on(hosts[i], 10, 62, 100);
      host_note_off(hosts[i], 24000, 62);
    }
    for (int k = 0; k < 150; ++k) {
      for (int i = 0; i < 3; ++i) {
        host_run(hosts[i], BLOCK);
      }
    }
    const size_t n = 150 * BLOCK;
    CHECK(dsp_peak(host_left(a), n) > 0.05);
    for (int i = 0; i < 3; ++i) {
      CHECK(run_until_answered(hosts[i], NULL, 3, 3, BLOCK));
    }
    const HostAnswer* pa = host_find(a, HOST_ANSWER_PATCH, 3);
    CHECK(pa && pa->text);
    CHECK_STR_CONTAINS(pa ? pa->text : NULL, ":main");
    CHECK_STR_CONTAINS(pa ? pa->text : NULL, "\"square\"");
    for (int i = 1; i < 3; ++i) {
      const HostAnswer* pb = host_find(hosts[i], HOST_ANSWER_PATCH, 3);
      CHECK(pb && pb->text);
      if (pa && pb && pa->text && pb->text) {
        CHECK_MSG(!strcmp(pa->text, pb->text), "saved:\n%s\nrestored:\n%s",
                  pa->text, pb->text);
      }
      const size_t diff = first_diff(a, hosts[i], 0, n);
      CHECK_MSG(diff == n, "restored instance %d differs at frame %zu", i,
                diff);
    }
  }
  host_free(c);
  host_free(b);
  lilv_state_free(loaded);
  lilv_state_free(saved);
  lilv_free(text);
}

/* A state holding only ch:patchFile (as one written by hand for `jalv -l`
   would) loads that file; one naming a missing file says why not and
   changes nothing. */
static void
test_restore_patch_file_only(void)
{
  char dir[] = "/tmp/chronus-state-XXXXXX";
  CHECK(mkdtemp(dir));
  char path[256];
  char text[1024];
  snprintf(path, sizeof(path), "%s/live.ttl", dir);
  CHECK(write_text(path, patch_y));
  static const char* const state_fmt =
    "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
    "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
    "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
    "<urn:chronus:test#state> a pset:Preset ;\n"
    "  lv2:appliesTo <urn:chronus:synth> ;\n"
    "  state:state [ <urn:chronus:patchFile> <file://%s> ] .\n";
  Host* const h = open_host();
  if (!h) {
    return;
  }
  host_run(h, BLOCK);
  snprintf(text, sizeof(text), state_fmt, path);
  LilvState* const state = host_state_from_string(text);
  CHECK(state);
  if (state) {
    CHECK(!host_state_restore(h, state));
    host_run_frames(h, 24000, BLOCK);
    CHECK_NEAR(tail_freq(h), C5, 0.5);
    host_patch_get(h, 0, 1);
    /* Wait for the patch itself: the watched file's name is answered
       first, and the pieces of the patch follow over later cycles. */
    const HostAnswer* const patch =
      host_run_until(h, BLOCK, HOST_ANSWER_PATCH, 1, MAX_WAIT);
    CHECK_STR_CONTAINS(patch ? patch->text : NULL, "param:pitch 1 ;");
  }
  lilv_state_free(state);

  snprintf(path, sizeof(path), "%s/missing.ttl", dir);
  snprintf(text, sizeof(text), state_fmt, path);
  LilvState* const missing = host_state_from_string(text);
  CHECK(missing);
  if (missing) {
    CHECK(!host_state_restore(h, missing));
    CHECK_STR_CONTAINS(host_last_log(h),
                       "restore: the state has no ch:patch, and its "
                       "ch:patchFile cannot be loaded: ");
    CHECK_STR_CONTAINS(host_last_log(h), "missing.ttl: No such file");
    host_run_frames(h, 24000, BLOCK);
    CHECK_NEAR(tail_freq(h), C5, 0.5); /* still the file restored before */
  }
  lilv_state_free(missing);
  snprintf(path, sizeof(path), "%s/live.ttl", dir);
  remove(path);
  rmdir(dir);
  host_free(h);
}

typedef struct {
  Host*            host;
  const LilvState* state;
  _Atomic int      done;
} Restorer;

static void*
restore_repeatedly(void* arg)
{
  Restorer* const r = (Restorer*)arg;
  for (int i = 0; i < 20; ++i) {
    host_state_restore_from_thread(r->host, r->state);
    nap_us(2000);
  }
  atomic_store(&r->done, 1);
  return NULL;
}

/* state:threadSafeRestore: restores from another thread while run() plays
   stay glitch-free for run() and end with the restored patch. */
static void
test_restore_while_running(Host* a)
{
  CHECK(load_commit(a, patch_custom, 1));
  LilvState* const saved = host_state_save(a);
  CHECK(saved);
  host_patch_get(a, 0, 3);
  CHECK(host_run_until(a, BLOCK, HOST_ANSWER_PATCH, 3, MAX_WAIT));
  const HostAnswer* want = host_find(a, HOST_ANSWER_PATCH, 3);

  const HostOptions options = { HOST_WORKER_THREADED, 0, true, 0 };
  Host* const       b       = host_new_with(&options);
  CHECK(b);
  if (b && saved && want) {
    host_note_on(b, 0, 60, 100);
    Restorer  r = { b, saved, 0 };
    pthread_t thread;
    CHECK(!pthread_create(&thread, NULL, restore_repeatedly, &r));
    unsigned cycles = 0;
    while (!atomic_load(&r.done) && cycles < 100000u) {
      host_run(b, 64);
      ++cycles;
      nap_us(50);
    }
    pthread_join(thread, NULL);
    /* A restore is a new sound: its envelope starts again on the held
       note, so compare where both have settled. */
    host_run_frames(b, 24000, BLOCK);
    CHECK_MSG(host_rt_violations(b) == 0, "%u violations in run(), first %s",
              host_rt_violations(b), host_rt_first(b));
    host_patch_get(b, 0, 4);
    const HostAnswer* got =
      host_run_until(b, BLOCK, HOST_ANSWER_PATCH, 4, MAX_WAIT);
    CHECK(got && got->text && want->text && !strcmp(got->text, want->text));
    CHECK(host_count(b, HOST_ANSWER_ERROR) == 0);
    /* The restored patch plays the note that was held all along, as the
       same patch loaded the usual way does. */
    const size_t end = host_captured(b);
    const double rms = dsp_rms(host_left(b) + end - 4096, 4096);
    host_note_on(a, 0, 60, 100);
    host_run_frames(a, 24000, BLOCK);
    const size_t end_a   = host_captured(a);
    const double rms_ref = dsp_rms(host_left(a) + end_a - 4096, 4096);
    CHECK(rms_ref > 0.05);
    CHECK_MSG(fabs(rms / rms_ref - 1.0) < 0.05,
              "RMS %g after the restores, %g with the patch loaded", rms,
              rms_ref);
  }
  host_free(b);
  lilv_state_free(saved);
}

static void
test_patch_get(Host* h)
{
  host_patch_get(h, 0, 5);
  const HostAnswer* p =
    host_run_until(h, BLOCK, HOST_ANSWER_PATCH, 5, MAX_WAIT);
  CHECK(p && p->text);
  if (p && p->text) {
    static const char* const names[] = { ":voice",  ":osc",       ":filter",
                                         ":env",    ":amp",       ":out",
                                         "\"svf\"", "\"osc:out\"" };
    for (size_t i = 0; i < CH_COUNT(names); ++i) {
      CHECK_STR_CONTAINS(p->text, names[i]);
    }
    CHECK(!strstr(p->text, ":extra"));
  }
  /* An uncommitted module is not in the answer; a committed one is. */
  host_create(h, 0, 6, "extra", "noise");
  host_patch_get(h, 0, 7);
  CHECK(run_until_answered(h, NULL, 6, 7, BLOCK));
  p = host_find(h, HOST_ANSWER_PATCH, 7);
  CHECK(p && p->text && !strstr(p->text, ":extra"));
  host_commit(h, 0, 8);
  host_patch_get(h, 0, 9);
  CHECK(run_until_answered(h, NULL, 8, 9, BLOCK));
  check_answer(h, 8, HOST_ANSWER_COMMITTED);
  p = host_find(h, HOST_ANSWER_PATCH, 9);
  CHECK_STR_CONTAINS(p ? p->text : NULL, ":extra");
}

static void
test_program_port(Host* h)
{
  host_set_port(h, "program", 0.0f);
  host_run_frames(h, 4 * BLOCK, BLOCK);
  host_wait_idle(h);
  host_run(h, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == 0); /* nothing changed */

  /* 99: a program the bank does not have. */
  host_set_port(h, "program", 99.0f);
  const HostAnswer* e =
    host_run_until(h, BLOCK, HOST_ANSWER_ERROR, HOST_NO_SEQ, MAX_WAIT);
  CHECK(e);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "program 99");
  host_wait_idle(h);
  host_run(h, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == 0);

  /* Back to program 0, which the bank has: a commit. */
  host_set_port(h, "program", 0.0f);
  const HostAnswer* c =
    host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT);
  CHECK(c);
  CHECK(c && !c->has_seq && c->generation >= 2);
  CHECK(host_count(h, HOST_ANSWER_ERROR) == 1);
}

/* A host that starts with the program port at 3 hears program 3; one that
   restores a state with its port values hears the state; one whose port
   stays at another program after the restore (automation) hears that
   program, so the port shows what plays. */
static void
test_program_port_initial_value(Host* h)
{
  host_set_port(h, "program", 3.0f);
  const HostAnswer* done =
    host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT);
  CHECK(done != NULL);

  Host* r = open_host();
  if (r) {
    host_load(h, 0, 1, patch_x);
    host_commit(h, 0, 2);
    CHECK(run_until_answered(h, NULL, 1, 2, BLOCK));
    LilvState* const state = host_state_save(h);
    CHECK(state && !host_state_restore(r, state)); /* port 3, as saved */
    host_run_frames(r, 4 * BLOCK, BLOCK);
    host_wait_idle(r);
    host_run_frames(r, 24000, BLOCK);
    CHECK(host_count(r, HOST_ANSWER_COMMITTED) == 0);
    CHECK_NEAR(tail_freq(r), C4, 0.5); /* patch_x, not program 3 */

    Host* const a = open_host();
    if (a) {
      CHECK(!host_state_restore(a, state));
      host_set_port(a, "program", 5.0f); /* automation's value from the start */
      CHECK(
        host_run_until(a, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT));
      host_free(a);
    }
    lilv_state_free(state);
    host_free(r);
  }
}

/* lilv sets port values after restore(), so a host's port may reach the
   restored state's own program a cycle or more late: that is no program
   change (the restored patch, even edited, plays on); a later change is. */
static void
test_program_port_restored_late(Host* h, Host* r)
{
  host_set_port(h, "program", 3.0f);
  CHECK(host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT));
  host_load(h, 0, 1, patch_x); /* program 3, edited */
  host_commit(h, 0, 2);
  CHECK(run_until_answered(h, NULL, 1, 2, BLOCK));
  LilvState* const state = host_state_save(h);
  char* const      text  = state ? host_state_to_string(state) : NULL;
  CHECK_STR_CONTAINS(text, "<urn:chronus:program> \"3\"");
  lilv_free(text);

  host_run(r, BLOCK);
  host_state_restore_from_thread(r, state); /* port values left alone */
  host_run(r, BLOCK);                       /* run() takes the state */
  host_set_port(r, "program", 3.0f);        /* the host catches up */
  host_run_frames(r, 4 * BLOCK, BLOCK);
  host_wait_idle(r); /* whatever the worker was asked to do is done */
  host_run_frames(r, 24000, BLOCK);
  CHECK(host_count(r, HOST_ANSWER_COMMITTED) == 0);
  CHECK_NEAR(tail_freq(r), C4, 0.5); /* patch_x, not program 3 */

  host_set_port(r, "program", 1.0f); /* a real change */
  CHECK(host_run_until(r, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT));
  lilv_state_free(state);
}

int
main(void)
{
  RUN_PAIR(test_restore_beats_queued_commit, HOST_WORKER_THREADED,
           HOST_WORKER_SLOW);
  RUN_HOST(test_state_round_trip, HOST_WORKER_THREADED);
  RUN(test_restore_patch_file_only);
  RUN_HOST(test_restore_while_running, HOST_WORKER_THREADED);
  RUN_HOST(test_patch_get, HOST_WORKER_THREADED);
  RUN_HOST(test_program_port, HOST_WORKER_THREADED);
  RUN_HOST(test_program_port_initial_value, HOST_WORKER_THREADED);
  RUN_PAIR(test_program_port_restored_late, HOST_WORKER_THREADED,
           HOST_WORKER_THREADED);
  return CHECK_EXIT();
}
