/* The plugin through lilv, its worker: worker modes, commits while a
   build runs, a thousand commits without a leak, the real-time safety of
   run() and answers too big for one cycle. */
#include "check.h"
#include "dsp.h"
#include "history.h" /* CH_HISTORY_MAX */
#include "host.h"
#include "plugin_fixture.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

static void
check_worker_mode(HostWorkerMode mode, const char* name)
{
  Host* h = host_new(mode);
  CHECK_MSG(h, "%s", name);
  if (!h) {
    return;
  }
  host_run(h, BLOCK);
  host_set(h, 0, 90, "out", "level", 0.5f);  /* pinned for the sums below */
  host_set(h, 0, 91, "out", "lowcut", 0.0f); /* the sums are DC */
  host_run_frames(h, 40 * BLOCK, BLOCK);     /* past its 5 ms glide */
  host_create(h, 0, 1, "dc", "const");
  host_set(h, 0, 2, "dc", "value", 0.25f);
  host_connect(h, 0, 3, "dc:out", "out:mono");
  host_commit_with(h, 0, 4, 0.0f, CH_QUANTIZE_NONE); /* a cut */
  const HostAnswer* done =
    host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, 4, MAX_WAIT);
  CHECK_MSG(done, "%s: no Committed", name);
  for (int32_t s = 1; s <= 3; ++s) {
    check_answer(h, s, HOST_ANSWER_ACK);
  }
  if (done) {
    const size_t swap = (size_t)done->cycle * BLOCK;
    CHECK_MSG(dsp_peak(host_left(h), swap) < 1e-7, "%s: sound before commit",
              name);
    host_run_frames(h, 2 * BLOCK, BLOCK);
    CHECK_NEAR(dsp_mean(host_left(h) + swap, 3 * BLOCK), 0.125, 1e-4);
    CHECK_NEAR(dsp_mean(host_right(h) + swap, 3 * BLOCK), 0.125, 1e-4);
  }
  host_free(h);
}

static void
test_worker_modes(void)
{
  check_worker_mode(HOST_WORKER_THREADED, "threaded");
  check_worker_mode(HOST_WORKER_SYNC, "sync");
  check_worker_mode(HOST_WORKER_SLOW, "slow");
  check_worker_mode(HOST_WORKER_NONE, "none");
}

static void
test_commit_while_building(Host* h)
{
  host_run(h, BLOCK);
  host_load(h, 0, 1, patch_x);
  host_commit(h, 0, 2);
  host_run(h, BLOCK); /* the worker sleeps 30 ms before it starts */
  host_load(h, 0, 3, patch_y);
  host_commit(h, 0, 4);
  CHECK(run_until_answered(h, NULL, 1, 4, BLOCK));
  check_answer(h, 1, HOST_ANSWER_ACK);
  check_answer(h, 3, HOST_ANSWER_ACK);
  check_answer(h, 4, HOST_ANSWER_COMMITTED);
  /* The first commit either played or was superseded, with an answer. */
  const HostAnswer* x = answer_to(h, 2);
  CHECK(x && (x->type == HOST_ANSWER_COMMITTED ||
              (x->type == HOST_ANSWER_ERROR && x->text &&
               strstr(x->text, "supersede"))));
  const HostAnswer* y = answer_to(h, 4);
  if (x && y && x->type == HOST_ANSWER_COMMITTED) {
    CHECK(y->generation == x->generation + 1);
    CHECK(y->cycle >= x->cycle);
  }
  for (int32_t s = 1; s <= 4; ++s) {
    CHECK(answers_to(h, s) == 1);
  }
  CHECK(host_count(h, HOST_ANSWER_ERROR) == 0 ||
        (x && x->type == HOST_ANSWER_ERROR));

  host_run_frames(h, 24000, BLOCK);
  const float* tail = host_left(h) + host_captured(h) - 19200;
  CHECK_NEAR(dsp_zero_cross_freq(tail, 19200, RATE), C5, 0.5);
  CHECK_NEAR(dsp_peak(tail, 19200), 0.5, 0.01);
}

static void
test_thousand_commits_leak_nothing(Host* h)
{
  int64_t last_gen = -1;
  bool    in_order = true;
  size_t  n_done   = 0;
  size_t  before   = 0;
  /* The undo history keeps the last CH_HISTORY_MAX patches (bounded by
     design): measure once it is full. */
  const int warm = 20 + (int)CH_HISTORY_MAX;
  for (int i = 0; i < 1000 + warm; ++i) {
    if (i == warm) {
      host_run(h, 64); /* let the worker free the last retired graph */
      host_clear_answers(h);
      before = mallinfo2().uordblks;
    }
    if (i % 2 == 0) {
      host_create(h, 0, HOST_NO_SEQ, "tmp", "const");
      host_connect(h, 0, HOST_NO_SEQ, "tmp:out", "out:left");
    } else {
      host_delete(h, 0, HOST_NO_SEQ, "tmp");
    }
    host_commit(h, 0, i);
    host_run(h, 64); /* work() runs inside: builds */
    host_run(h, 64); /* swap; the answer comes out */
    const HostAnswer* c = host_find(h, HOST_ANSWER_COMMITTED, i);
    if (i >= warm) {
      n_done += c != NULL;
      if (c && c->generation <= last_gen) {
        in_order = false;
      }
    }
    if (c) {
      last_gen = c->generation;
    }
    CHECK_MSG(host_count(h, HOST_ANSWER_ERROR) == 0, "commit %d failed", i);
    host_clear_answers(h);
  }
  host_run(h, 64);
  host_clear_answers(h);
  const size_t after = mallinfo2().uordblks;
  CHECK_MSG(n_done == 1000, "%zu Committed answers of 1000", n_done);
  CHECK(in_order);
  CHECK_MSG(after < before + 64 * 1024,
            "heap in use grew by %zd bytes over 1000 commits",
            (ssize_t)(after - before));
}

/* A session of everything, with run() watched at block size `block`. */
static void
check_realtime_session(uint32_t block)
{
  const HostOptions options = { HOST_WORKER_THREADED, 0, true, 0 };
  Host*             h       = host_new_with(&options);
  CHECK(h);
  if (!h) {
    return;
  }
  host_note_on(h, 0, 60, 100);
  host_set(h, 100, 1, "filter", "cutoff", 1200.0f);
  host_gate(h, 200, 2, "env", true);
  host_create(h, 300, 3, "dc", "const");
  host_connect(h, 300, 4, "dc:out", "out:mono");
  host_commit(h, 301, 5);
  host_create(h, 4000, 6, "y", "osc");
  host_abort(h, 4001, 7);
  host_load(h, 6000, 8, patch_y);
  host_commit(h, 6000, 9);
  host_patch_get(h, 9000, 10);
  host_create(h, 10000, 11, "bad", "theremin");
  host_set(h, 10001, 12, "osc", "pitch", 100.0f);
  host_note_off(h, 12000, 60);
  host_note_on(h, 13000, 64, 80);
  host_message(h, 15000, 13, "urn:chronus:Frobnicate");
  host_patch_set(h, 16000, 14, patch_custom);
  host_set(h, 18000, 15, "o", "pw", 0.6f);
  host_gate(h, 20000, 16, "e", false);
  host_note_off(h, 22000, 64);
  host_run_frames(h, 24000, block);
  CHECK_MSG(run_until_answered(h, NULL, 1, 16, block),
            "block %u: not every message was answered", block);
  check_answer(h, 5, HOST_ANSWER_COMMITTED);
  check_answer(h, 9, HOST_ANSWER_COMMITTED);
  check_answer(h, 10, HOST_ANSWER_PATCH);
  check_answer(h, 11, HOST_ANSWER_ERROR);
  check_answer(h, 12, HOST_ANSWER_ERROR);
  check_answer(h, 13, HOST_ANSWER_ERROR);
  check_answer(h, 14, HOST_ANSWER_COMMITTED);
  CHECK(host_rt_checked(h) >= 24000 / block);
  CHECK_MSG(host_rt_violations(h) == 0,
            "block %u: %u real-time violations in run(), the first: %s", block,
            host_rt_violations(h), host_rt_first(h));
  host_free(h);
}

static void
test_run_is_realtime_safe(void)
{
  check_realtime_session(1);
  check_realtime_session(17);
  check_realtime_session(64);
  check_realtime_session(4096);
}

/* An answer too big for the host's notify buffer (jalv's default is 4 KiB)
   must not hold up the answers and commits queued behind it; the patch a
   patch:Get asks for still arrives whole, in pieces. */
static void
test_big_answer_does_not_block(void)
{
  const HostOptions options = { HOST_WORKER_THREADED, 0, false, 4096 };
  Host*             h       = host_new_with(&options);
  CHECK(h);
  if (!h) {
    return;
  }
  static char text[32768];
  size_t      len = (size_t)snprintf(text, sizeof(text), "%s", PREFIXES);
  for (int i = 0; i < 60; ++i) {
    len += (size_t)snprintf(text + len, sizeof(text) - len,
                            ":osc%d ch:kind \"osc\" .\n", i);
  }
  /* A commit needs an output module. */
  snprintf(text + len, sizeof(text) - len, ":out ch:kind \"output\" .\n");
  host_load(h, 0, 1, text);
  host_commit(h, 0, 2);
  CHECK(run_until_answered(h, NULL, 1, 2, BLOCK));
  check_answer(h, 2, HOST_ANSWER_COMMITTED);
  host_patch_get(h, 0, 3); /* about 6 KB of Turtle */
  host_create(h, 0, 4, "dc", "const");
  host_connect(h, 0, 5, "dc:out", "osc0:fm");
  host_commit(h, 0, 6);
  CHECK_MSG(run_until_answered(h, NULL, 4, 6, BLOCK),
            "the answers behind a too-big one never came");
  check_answer(h, 6, HOST_ANSWER_COMMITTED);
  /* The patch itself comes in ch:Patch pieces that fit the small buffer. */
  CHECK(run_until_answered(h, NULL, 3, 3, BLOCK));
  CHECK_MSG(answer_to(h, 3), "patch:Get got no answer (nor an error)");
  const HostAnswer* p = host_find(h, HOST_ANSWER_PATCH, 3);
  CHECK_MSG(p && p->pieces >= 2, "patch:Get: %s in %u pieces",
            p ? "answered" : "not answered", p ? p->pieces : 0u);
  CHECK_STR_CONTAINS(p ? p->text : NULL, ":osc59");
  host_free(h);
}

int
main(void)
{
  RUN(test_worker_modes);
  RUN_HOST(test_commit_while_building, HOST_WORKER_SLOW);
  RUN_HOST(test_thousand_commits_leak_nothing, HOST_WORKER_SYNC);
  RUN(test_run_is_realtime_safe);
  RUN(test_big_answer_does_not_block);
  return CHECK_EXIT();
}
