/* The plugin through lilv: sound, edits and commits, swap timing, rejected
   edits, sample accuracy, block sizes, worker modes, leaks, real-time
   safety of run(), state, patch:Get and the control ports. */
#include "check.h"
#include "dsp.h"
#include "history.h" /* CH_HISTORY_MAX */
#include "host.h"

#include <lilv/lilv.h>

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RATE     HOST_RATE
#define C4       261.6255653
#define C5       523.2511306
#define BLOCK    256u
#define MAX_WAIT 20000u /* cycles to wait for an answer */

#define PREFIXES                                                               \
  "@prefix ch: <urn:chronus:> .\n"                                             \
  "@prefix param: <urn:chronus:param#> .\n"                                    \
  "@prefix : <urn:chronus:module#> .\n"                                        \
  "<> a ch:Patch .\n"

/* A free-running sine at `pitch` octaves from C4, peak 0.5. */
#define SINE_PATCH(pitch)                                                      \
  PREFIXES ":osc ch:kind \"osc\" ; param:shape \"sine\" ; param:pitch " pitch  \
           " .\n"                                                              \
           ":out ch:kind \"output\" ; param:level 0.5 .\n"                     \
           "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n"

static const char* const patch_x = SINE_PATCH("0");
static const char* const patch_y = SINE_PATCH("1");

/* A played square voice whose modules share no name with the default. */
static const char* const patch_custom =
  PREFIXES ":v ch:kind \"voice\" .\n"
           ":o ch:kind \"osc\" ; param:shape \"square\" ; param:pw 0.3 .\n"
           ":f ch:kind \"svf\" ; param:cutoff 3000 ; param:res 0.3 .\n"
           ":e ch:kind \"adsr\" ; param:attack 0.01 ; param:release 0.1 .\n"
           ":a ch:kind \"vca\" .\n"
           ":main ch:kind \"output\" ; param:level 0.7 .\n"
           "[] ch:from \"v:pitch\" ; ch:to \"o:pitch\" .\n"
           "[] ch:from \"v:gate\" ; ch:to \"e:gate\" .\n"
           "[] ch:from \"v:trig\" ; ch:to \"e:trig\" .\n"
           "[] ch:from \"o:out\" ; ch:to \"f:in\" .\n"
           "[] ch:from \"f:lp\" ; ch:to \"a:in\" .\n"
           "[] ch:from \"e:out\" ; ch:to \"a:cv\" .\n"
           "[] ch:from \"a:out\" ; ch:to \"main:mono\" .\n";

/* Helpers */

static void
nap_us(long us)
{
  const struct timespec ts = { 0, us * 1000L };
  nanosleep(&ts, NULL);
}

static void
run_pair(Host* a, Host* b, uint32_t n)
{
  host_run(a, n);
  host_run(b, n);
}

/* First frame in [from, to) where the two captures differ (either
   channel, bit for bit), or `to`. */
static size_t
first_diff(const Host* a, const Host* b, size_t from, size_t to)
{
  const float* al = host_left(a);
  const float* ar = host_right(a);
  const float* bl = host_left(b);
  const float* br = host_right(b);
  for (size_t i = from; i < to; ++i) {
    if (memcmp(&al[i], &bl[i], sizeof(float)) ||
        memcmp(&ar[i], &br[i], sizeof(float))) {
      return i;
    }
  }
  return to;
}

/* The answer to `seq`, of any type, or NULL. */
static const HostAnswer*
answer_to(const Host* h, int32_t seq)
{
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    if (a->has_seq && a->seq == seq) {
      return a;
    }
  }
  return NULL;
}

static size_t
answers_to(const Host* h, int32_t seq)
{
  size_t n = 0;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    n += a->has_seq && a->seq == seq;
  }
  return n;
}

/* Run `h` (and `partner` in lock-step, may be NULL) until every seq in
   [first, last] has an answer; false on timeout. */
static bool
run_until_answered(Host*    h,
                   Host*    partner,
                   int32_t  first,
                   int32_t  last,
                   uint32_t block)
{
  for (unsigned c = 0; c < MAX_WAIT; ++c) {
    bool all = true;
    for (int32_t s = first; all && s <= last; ++s) {
      all = answer_to(h, s) != NULL;
    }
    if (all) {
      return true;
    }
    host_run(h, block);
    if (partner) {
      host_run(partner, block);
    }
    nap_us(100);
  }
  return false;
}

static void
check_answer(const Host* h, int32_t seq, HostAnswerType type)
{
  const HostAnswer* a = answer_to(h, seq);
  CHECK_MSG(a && a->type == type, "seq %d: expected %s, got %s%s%s", seq,
            host_answer_type_name(type),
            a ? host_answer_type_name(a->type) : "no answer",
            a && a->text ? ": " : "", a && a->text ? a->text : "");
}

/* Cases */

static void
test_plays_c4(void)
{
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_run_frames(h, 4800, BLOCK);
  CHECK_NEAR(dsp_peak(host_left(h), 4800), 0.0, 1e-7); /* no note: silent */

  host_note_on(h, 0, 60, 100);
  host_run_frames(h, 48000, BLOCK);
  const float* held = host_left(h) + 4800 + 14400; /* 0.3 s into the note */
  const size_t n    = 33600;
  CHECK(dsp_rms(held, n) > 0.02);
  CHECK_NEAR(dsp_zero_cross_freq(held, n, RATE), C4, 0.5);
  const double at_c4  = dsp_tone_level(held, n, C4, RATE);
  const double at_cs4 = dsp_tone_level(held, n, C4 * 1.059463, RATE);
  const double at_b3  = dsp_tone_level(held, n, C4 / 1.059463, RATE);
  CHECK(at_c4 > 20.0 * at_cs4);
  CHECK(at_c4 > 20.0 * at_b3);
  CHECK(!memcmp(host_left(h), host_right(h),
                host_captured(h) * sizeof(float))); /* mono patch */

  host_note_off(h, 0, 60);
  host_run_frames(h, 48000, BLOCK);
  const float* tail = host_left(h) + 4800 + 48000 + 38400; /* 0.8 s after */
  CHECK(dsp_peak(tail, 9600) < 1e-5);
  host_free(h);
}

static void
test_edit_commit_changes_sound(void)
{
  Host* a = host_new(HOST_WORKER_THREADED);
  Host* b = host_new(HOST_WORKER_THREADED);
  CHECK(a && b);
  if (!a || !b) {
    host_free(a);
    host_free(b);
    return;
  }
  /* A plain commit first, to know the generation. */
  host_commit(b, 0, 100);
  host_note_on(a, 10, 60, 100);
  host_note_on(b, 10, 60, 100);
  CHECK(run_until_answered(b, a, 100, 100, BLOCK));
  const HostAnswer* first = host_find(b, HOST_ANSWER_COMMITTED, 100);
  CHECK(first && first->generation >= 1);
  const int64_t gen0 = first ? first->generation : 0;
  CHECK(first_diff(a, b, 0, host_captured(a)) == host_captured(a));

  host_create(b, 0, 1, "osc2", "osc");
  host_set(b, 0, 2, "osc2", "shape", 0.0f);
  host_set(b, 0, 3, "osc2", "pitch", 0.5f); /* F#4: no harmonic of C4 */
  host_connect(b, 0, 4, "voice:pitch", "osc2:pitch");
  host_connect(b, 0, 5, "osc2:out", "filter:in");
  host_commit(b, 0, 6);

  uint64_t committed_cycle = 0;
  bool     committed       = false;
  size_t   diff_before     = SIZE_MAX;
  for (unsigned c = 0; c < MAX_WAIT && !committed; ++c) {
    const size_t start = host_captured(a);
    run_pair(a, b, BLOCK);
    const HostAnswer* done = host_find(b, HOST_ANSWER_COMMITTED, 6);
    if (done) {
      committed       = true;
      committed_cycle = done->cycle;
    } else if (diff_before == SIZE_MAX &&
               first_diff(a, b, start, start + BLOCK) < start + BLOCK) {
      diff_before = first_diff(a, b, start, start + BLOCK);
    }
    nap_us(100);
  }
  CHECK(committed);
  CHECK_MSG(diff_before == SIZE_MAX,
            "B's output changed at frame %zu, before its Committed",
            diff_before);
  for (int32_t s = 1; s <= 5; ++s) {
    check_answer(b, s, HOST_ANSWER_ACK);
  }
  const HostAnswer* done = host_find(b, HOST_ANSWER_COMMITTED, 6);
  CHECK(done && done->generation == gen0 + 1);
  CHECK(done && done->build_ms > 0.0f);

  /* From the cycle of the answer on, B plays a sine a tritone up too. */
  const size_t at = (size_t)committed_cycle * BLOCK;
  host_run_frames(a, 9600, BLOCK);
  host_run_frames(b, 9600, BLOCK);
  CHECK(first_diff(a, b, at, at + BLOCK) < at + BLOCK);
  const double fs4 = C4 * M_SQRT2;
  const float* la  = host_left(a) + at + 2400;
  const float* lb  = host_left(b) + at + 2400;
  CHECK(dsp_tone_level(lb, 4800, fs4, RATE) >
        10.0 * dsp_tone_level(la, 4800, fs4, RATE) + 1e-3);
  host_free(a);
  host_free(b);
}

static void
test_swap_lands_at_cycle_start(void)
{
  Host* a = host_new(HOST_WORKER_THREADED);
  Host* b = host_new(HOST_WORKER_THREADED);
  CHECK(a && b);
  if (!a || !b) {
    host_free(a);
    host_free(b);
    return;
  }
  /* The output level of the bank's first patch, pinned for the sums. */
  host_set(a, 0, 90, "out", "level", 0.5f);
  host_set(b, 0, 90, "out", "level", 0.5f);
  for (int i = 0; i < 40; ++i) { /* let the level's 5 ms glide settle */
    run_pair(a, b, BLOCK);
  }
  /* Edits first; the commit alone is then one work() call. */
  host_create(b, 0, 1, "dc", "const");
  host_set(b, 0, 2, "dc", "value", 0.5f);
  host_connect(b, 0, 3, "dc:out", "out:mono");
  CHECK(run_until_answered(b, a, 1, 3, BLOCK));
  host_wait_idle(b);
  const uint64_t work_index = host_work_done(b);

  host_commit_with(b, 0, 4, 0.0f, CH_QUANTIZE_NONE); /* a cut */
  const HostAnswer* done = NULL;
  for (unsigned c = 0; c < MAX_WAIT && !done; ++c) {
    run_pair(a, b, BLOCK);
    done = host_find(b, HOST_ANSWER_COMMITTED, 4);
  }
  CHECK(done);
  if (!done) {
    host_free(a);
    host_free(b);
    return;
  }
  const int64_t C = (int64_t)done->cycle;
  const int64_t R = host_work_return_cycle(b, work_index);
  CHECK(done->frame == 0);
  /* The reply is written just before work() returns, so the first cycle
     that starts after it (C = R or R + 1) must swap it in. */
  CHECK_MSG(C >= R - 1 && C <= R + 2,
            "Committed in cycle %lld, its work() returned in cycle %lld",
            (long long)C, (long long)R);

  run_pair(a, b, BLOCK);
  const size_t diff = first_diff(a, b, 0, host_captured(a));
  CHECK_MSG(diff == (size_t)C * BLOCK,
            "first difference at frame %zu, the swap cycle starts at %lld",
            diff, (long long)C * BLOCK);
  CHECK_NEAR(host_left(b)[C * BLOCK] - host_left(a)[C * BLOCK], 0.25, 1e-4);
  host_free(a);
  host_free(b);
}

static void
test_abort_and_rejections_keep_sound(void)
{
  Host* a = host_new(HOST_WORKER_THREADED);
  Host* b = host_new(HOST_WORKER_THREADED);
  CHECK(a && b);
  if (!a || !b) {
    host_free(a);
    host_free(b);
    return;
  }
  host_note_on(a, 0, 57, 90);
  host_note_on(b, 0, 57, 90);
  run_pair(a, b, BLOCK);

  /* Edits, then abort, then commit: the commit must build the old patch. */
  host_create(b, 0, 1, "x", "osc");
  host_connect(b, 0, 2, "x:out", "out:mono");
  host_abort(b, 0, 3);
  CHECK(run_until_answered(b, a, 1, 3, BLOCK));
  for (int32_t s = 1; s <= 3; ++s) {
    check_answer(b, s, HOST_ANSWER_ACK);
  }
  host_commit(b, 0, 4);
  CHECK(run_until_answered(b, a, 4, 4, BLOCK));
  check_answer(b, 4, HOST_ANSWER_COMMITTED);

  /* A cycle: rejected, and named. */
  host_create(b, 0, 5, "a1", "vca");
  host_create(b, 0, 6, "a2", "vca");
  host_connect(b, 0, 7, "a1:out", "a2:in");
  host_connect(b, 0, 8, "a2:out", "a1:in");
  host_connect(b, 0, 9, "a2:out", "out:mono");
  host_commit(b, 0, 10);
  CHECK(run_until_answered(b, a, 5, 10, BLOCK));
  check_answer(b, 10, HOST_ANSWER_ERROR);
  const HostAnswer* e = answer_to(b, 10);
  if (e && e->text) {
    CHECK_STR_CONTAINS(e->text, "cycle");
    CHECK_STR_CONTAINS(e->text, "a1");
    CHECK_STR_CONTAINS(e->text, "a2");
  }
  host_abort(b, 0, 11);

  /* Unknown kind, out of range, malformed, unknown message. */
  host_create(b, 0, 12, "t", "theremin");
  host_set(b, 0, 13, "osc", "pitch", 100.0f);
  host_create(b, 0, 14, "nokind", NULL);
  host_message(b, 0, 15, "urn:chronus:Frobnicate");
  CHECK(run_until_answered(b, a, 11, 15, BLOCK));
  check_answer(b, 11, HOST_ANSWER_ACK);
  for (int32_t s = 12; s <= 15; ++s) {
    check_answer(b, s, HOST_ANSWER_ERROR);
  }
  e = answer_to(b, 12);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "theremin");
  e = answer_to(b, 13);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "[-6, 6]");
  CHECK_STR_CONTAINS(e ? e->text : NULL, "pitch");
  e = answer_to(b, 14);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "kind");
  e = answer_to(b, 15);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "Frobnicate");
  for (int32_t s = 1; s <= 15; ++s) {
    CHECK_MSG(answers_to(b, s) == 1, "seq %d answered %zu times", s,
              answers_to(b, s));
  }

  /* And a commit now plays the old patch still (abort undid the cycle). */
  host_commit(b, 0, 16);
  CHECK(run_until_answered(b, a, 16, 16, BLOCK));
  check_answer(b, 16, HOST_ANSWER_COMMITTED);
  for (int c = 0; c < 100; ++c) {
    run_pair(a, b, BLOCK);
  }
  const size_t n = host_captured(a);
  CHECK(dsp_peak(host_left(a), n) > 0.05);
  const size_t diff = first_diff(a, b, 0, n);
  CHECK_MSG(diff == n, "B differs from A at frame %zu (cycle %zu) of %zu", diff,
            diff / BLOCK, n);
  host_free(a);
  host_free(b);
}

/* A commit refuses a patch with no modules or no output, says so, and
   leaves the refused patch in standby to be fixed. */
static void
test_rejected_commit_keeps_standby(void)
{
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_load(h, 0, 1, PREFIXES);
  host_commit(h, 0, 2);
  host_load(h, 0, 3, PREFIXES ":osc ch:kind \"osc\" .\n");
  host_commit(h, 0, 4);
  CHECK(run_until_answered(h, NULL, 1, 4, BLOCK));
  check_answer(h, 2, HOST_ANSWER_ERROR);
  check_answer(h, 4, HOST_ANSWER_ERROR);
  const HostAnswer* e = answer_to(h, 2);
  CHECK_STR_CONTAINS(e ? e->text : NULL,
                     "commit rejected: the patch is empty: it has no modules");
  e = answer_to(h, 4);
  CHECK_STR_CONTAINS(e ? e->text : NULL,
                     "commit rejected: the patch has no 'output' module");
  CHECK_STR_CONTAINS(e ? e->text : NULL,
                     "(standby keeps this patch: fix it and commit again, or "
                     "abort)");
  /* Fixed in standby: the osc is still there to connect. */
  host_create(h, 0, 5, "out", "output");
  host_connect(h, 0, 6, "osc:out", "out:mono");
  host_commit(h, 0, 7);
  CHECK(run_until_answered(h, NULL, 5, 7, BLOCK));
  check_answer(h, 7, HOST_ANSWER_COMMITTED);
  host_free(h);
}

/* ch:Set of `param` on `module` at `frame` of a block changes the output
   there and not a frame earlier. */
static void
check_set_at(const char* module, const char* param, float value, uint32_t frame)
{
  Host* a = host_new(HOST_WORKER_THREADED);
  Host* b = host_new(HOST_WORKER_THREADED);
  CHECK(a && b);
  if (!a || !b) {
    host_free(a);
    host_free(b);
    return;
  }
  host_note_on(a, 0, 60, 100);
  host_note_on(b, 0, 60, 100);
  for (int c = 0; c < 40; ++c) { /* into the sustain */
    run_pair(a, b, BLOCK);
  }
  const size_t start = host_captured(a);
  host_set(b, frame, 1, module, param, value);
  run_pair(a, b, BLOCK);
  const size_t diff = first_diff(a, b, 0, host_captured(a));
  CHECK_MSG(diff == start + frame,
            "%s:%s: first change at frame %zd of the "
            "block, expected %u",
            module, param, (ssize_t)(diff - start), frame);
  CHECK(fabs(host_left(a)[start + frame]) > 1e-3); /* a real signal there */
  host_free(a);
  host_free(b);
}

static void
test_set_is_sample_accurate(void)
{
  check_set_at("out", "level", 1.0f, 100);
  check_set_at("amp", "gain", 0.5f, 100);
  check_set_at("out", "level", 0.1f, 37);
}

/* The same timeline of MIDI, Set and Gate rendered in blocks of `block`. */
static Host*
render_timeline(uint32_t block, size_t total)
{
  Host* h = host_new(HOST_WORKER_THREADED);
  if (!h) {
    return NULL;
  }
  host_note_on(h, 1000, 60, 100);
  host_set(h, 5000, HOST_NO_SEQ, "filter", "cutoff", 800.0f);
  host_set(h, 9001, HOST_NO_SEQ, "out", "level", 0.8f);
  host_note_off(h, 15000, 60);
  host_note_on(h, 17001, 67, 64);
  host_gate(h, 20000, HOST_NO_SEQ, "env", true);
  host_set(h, 21000, HOST_NO_SEQ, "osc", "shape", 2.0f);
  host_set(h, 23333, HOST_NO_SEQ, "amp", "gain", 0.3f);
  host_note_off(h, 25000, 67);
  host_gate(h, 26000, HOST_NO_SEQ, "env", false);
  host_run_frames(h, total, block);
  return h;
}

static void
test_block_sizes_render_identically(void)
{
  const size_t total = 36000;
  Host*        ref   = render_timeline(BLOCK, total);
  CHECK(ref);
  if (!ref) {
    return;
  }
  CHECK(dsp_peak(host_left(ref), total) > 0.05);
  static const uint32_t blocks[] = { 1, 17, 64, 4096 };
  for (size_t i = 0; i < CH_COUNT(blocks); ++i) {
    Host* h = render_timeline(blocks[i], total);
    CHECK(h);
    if (h) {
      const size_t diff = first_diff(ref, h, 0, total);
      CHECK_MSG(diff == total,
                "block %u differs from block 256 at frame %zu (%g vs %g)",
                blocks[i], diff, diff < total ? host_left(h)[diff] : 0.0,
                diff < total ? host_left(ref)[diff] : 0.0);
    }
    host_free(h);
  }
  host_free(ref);
}

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
test_commit_while_building(void)
{
  Host* h = host_new(HOST_WORKER_SLOW);
  CHECK(h);
  if (!h) {
    return;
  }
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
  host_free(h);
}

static bool
write_text(const char* path, const char* text)
{
  /* Write beside and rename over, as editors do, so a poll never reads a
     half-written file. */
  char tmp[512];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (!f) {
    return false;
  }
  fputs(text, f);
  fclose(f);
  return !rename(tmp, path);
}

/* The frequency of the last 0.4 s of `h`'s capture. */
static double
tail_freq(const Host* h)
{
  const float* tail = host_left(h) + host_captured(h) - 19200;
  return dsp_zero_cross_freq(tail, 19200, RATE);
}

static void
test_patch_file_is_watched(void)
{
  char dir[] = "/tmp/chronus-watch-XXXXXX";
  CHECK(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof(path), "%s/live.ttl", dir);
  CHECK(write_text(path, patch_x));

  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_run(h, BLOCK);
  host_patch_set_file(h, 0, 1, path);
  CHECK(run_until_answered(h, NULL, 1, 1, BLOCK));
  check_answer(h, 1, HOST_ANSWER_COMMITTED);
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C4, 0.5);

  /* Setting the same unchanged file again is no new commit. */
  host_patch_set_file(h, 0, 2, path);
  CHECK(run_until_answered(h, NULL, 2, 2, BLOCK));
  check_answer(h, 2, HOST_ANSWER_ACK);

  /* An edit on disk is picked up and committed within a second. */
  const size_t committed = host_count(h, HOST_ANSWER_COMMITTED);
  CHECK(write_text(path, patch_y));
  for (unsigned c = 0;
       c < 2000 && host_count(h, HOST_ANSWER_COMMITTED) == committed; ++c) {
    host_run(h, BLOCK);
    nap_us(200);
  }
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == committed + 1);
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);

  /* A broken edit is reported with its line and changes nothing heard:
     no commit, the same tone, and no jump in the waveform anywhere. */
  const size_t errors  = host_count(h, HOST_ANSWER_ERROR);
  const size_t commits = host_count(h, HOST_ANSWER_COMMITTED);
  const size_t from    = host_captured(h);
  CHECK(write_text(path, PREFIXES ":osc ch:kind \"osc\" ;\n"
                                  "  param:pitch 99 .\n"));
  for (unsigned c = 0; c < 2000 && host_count(h, HOST_ANSWER_ERROR) == errors;
       ++c) {
    host_run(h, BLOCK);
    nap_us(200);
  }
  CHECK(host_count(h, HOST_ANSWER_ERROR) == errors + 1);
  const HostAnswer* e = host_answer(h, host_n_answers(h) - 1);
  CHECK(e && e->type == HOST_ANSWER_ERROR);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "line 6");
  CHECK_STR_CONTAINS(e ? e->text : NULL, "out of range");
  host_run_frames(h, 24000, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == commits);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  /* A 0.5-peak sine at C5 moves at most 2 pi f A / rate per sample. */
  const float* const left    = host_left(h);
  double             biggest = 0.0;
  for (size_t i = from + 1; i < host_captured(h); ++i) {
    biggest = fmax(biggest, fabs((double)left[i] - left[i - 1]));
  }
  CHECK_MSG(biggest < 2.0 * M_PI * C5 * 0.5 / RATE * 1.01, "largest step %g",
            biggest);

  /* patch:Get reports the watched file too. */
  host_patch_get(h, 0, 20);
  CHECK(run_until_answered(h, NULL, 20, 20, BLOCK));
  bool file_reported = false;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    file_reported |=
      a->has_seq && a->seq == 20 && a->text && !strcmp(a->text, path);
  }
  CHECK(file_reported);

  host_free(h);
  remove(path);
  rmdir(dir);
}

/* Write `text` in place, as an editor that truncates and writes does. */
static bool
write_in_place(const char* path, const char* text, size_t len)
{
  FILE* f = fopen(path, "w");
  if (!f) {
    return false;
  }
  const bool ok = fwrite(text, 1, len, f) == len;
  return !fclose(f) && ok;
}

/* Run until `h` has `n` error answers; the last one, or NULL on timeout. */
static const HostAnswer*
run_until_errors(Host* h, size_t n)
{
  for (unsigned c = 0; c < MAX_WAIT && host_count(h, HOST_ANSWER_ERROR) < n;
       ++c) {
    host_run(h, BLOCK);
    nap_us(100);
  }
  const HostAnswer* last = NULL;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    last                = a->type == HOST_ANSWER_ERROR ? a : last;
  }
  return host_count(h, HOST_ANSWER_ERROR) >= n ? last : NULL;
}

/* The smallest peak of any 10 ms window of the capture from `from` on. */
static double
quietest_window(const Host* h, size_t from)
{
  const float* left  = host_left(h);
  double       least = 1.0;
  for (size_t w = from; w + 480 <= host_captured(h); w += 480) {
    least = fmin(least, dsp_peak(left + w, 480));
  }
  return least;
}

/* A watched file saved empty, then half-written, then with no module: each
   is reported naming the file, and the last good patch never stops. */
static void
test_watch_never_plays_empty_or_half(void)
{
  char dir[] = "/tmp/chronus-half-XXXXXX";
  CHECK(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof(path), "%s/live.ttl", dir);
  CHECK(write_text(path, patch_x));
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_patch_set_file(h, 0, 1, path);
  CHECK(run_until_answered(h, NULL, 1, 1, BLOCK));
  check_answer(h, 1, HOST_ANSWER_COMMITTED);
  host_run_frames(h, 4800, BLOCK);
  const size_t from    = host_captured(h);
  const size_t commits = host_count(h, HOST_ANSWER_COMMITTED);

  CHECK(write_in_place(path, "", 0));
  const HostAnswer* e = run_until_errors(h, 1);
  CHECK_STR_CONTAINS(e ? e->text : NULL, path);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "the file is empty (0 bytes)");
  CHECK(write_in_place(path, patch_y, strlen(patch_y) / 2));
  e = run_until_errors(h, 2);
  CHECK_STR_CONTAINS(e ? e->text : NULL, path);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "syntax error");
  CHECK(write_in_place(path, PREFIXES, strlen(PREFIXES)));
  e = run_until_errors(h, 3);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "holds no module");
  host_run_frames(h, 24000, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == commits);
  CHECK(host_count(h, HOST_ANSWER_ERROR) == 3); /* each reported once */
  CHECK_NEAR(tail_freq(h), C4, 0.5);

  CHECK(write_in_place(path, patch_y, strlen(patch_y)));
  for (unsigned c = 0;
       c < MAX_WAIT && host_count(h, HOST_ANSWER_COMMITTED) == commits; ++c) {
    host_run(h, BLOCK);
    nap_us(100);
  }
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == commits + 1);
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  /* A 0.5-peak sine: every 10 ms from the empty save on has its peak. */
  CHECK_NEAR(quietest_window(h, from), 0.5, 0.02);
  host_free(h);
  remove(path);
  rmdir(dir);
}

/* A FIFO as ch:file or ch:patchFile, and /dev/zero, are refused at once:
   the worker never blocks, later edits work and shutdown does not hang. */
static void
test_hostile_files_refused(void)
{
  char dir[] = "/tmp/chronus-fifo-XXXXXX";
  CHECK(mkdtemp(dir));
  char fifo[256];
  snprintf(fifo, sizeof(fifo), "%s/fifo.ttl", dir);
  CHECK(!mkfifo(fifo, 0600));
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_load_file(h, 0, 1, fifo);
  host_patch_set_file(h, 0, 2, fifo);
  host_load_file(h, 0, 3, "/dev/zero");
  CHECK(run_until_answered(h, NULL, 1, 3, BLOCK));
  for (int32_t s = 1; s <= 3; ++s) {
    const HostAnswer* a = answer_to(h, s);
    CHECK(a && a->type == HOST_ANSWER_ERROR);
    CHECK_STR_CONTAINS(a ? a->text : NULL, "not a regular file: refused");
    CHECK_STR_CONTAINS(a ? a->text : NULL, s < 3 ? fifo : "/dev/zero");
  }
  /* Later edits still work, and the FIFO is not re-read on every poll. */
  host_load(h, 0, 4, patch_y);
  host_commit(h, 0, 5);
  CHECK(run_until_answered(h, NULL, 4, 5, BLOCK));
  check_answer(h, 5, HOST_ANSWER_COMMITTED);
  host_run_frames(h, 48000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  CHECK(host_count(h, HOST_ANSWER_ERROR) == 3);

  /* 50,000 links: refused at the first one over the limit, the worker
     free again for the next message, the sound unchanged. */
  char big[256];
  snprintf(big, sizeof(big), "%s/big.ttl", dir);
  FILE* f = fopen(big, "w");
  CHECK(f);
  if (f) {
    fputs(PREFIXES, f);
    for (unsigned i = 0; i < 50000u; ++i) {
      fprintf(f, "[] ch:from \"m%u:out\" ; ch:to \"out:mono\" .\n", i);
    }
    fclose(f);
  }
  host_load_file(h, 0, 6, big);
  host_patch_get(h, 0, 7);
  CHECK(run_until_answered(h, NULL, 6, 7, BLOCK));
  const HostAnswer* a = answer_to(h, 6);
  CHECK(a && a->type == HOST_ANSWER_ERROR);
  CHECK_STR_CONTAINS(a ? a->text : NULL, "line 8197: more than 8192 links");
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  host_free(h);
  remove(big);
  remove(fifo);
  rmdir(dir);
}

/* A three-voice sine patch: a chord sounds all its notes. */
static void
test_polyphonic_chord(void)
{
  static const char poly[] =
    PREFIXES "<> ch:polyphony 3 .\n"
             ":v ch:kind \"voice\" .\n"
             ":o ch:kind \"osc\" ; param:shape \"sine\" .\n"
             ":e ch:kind \"adsr\" ; param:attack 0.001 ; param:sustain 1 .\n"
             ":a ch:kind \"vca\" .\n"
             ":out ch:kind \"output\" ; param:level 0.25 .\n"
             "[] ch:from \"v:pitch\" ; ch:to \"o:pitch\" .\n"
             "[] ch:from \"v:gate\" ; ch:to \"e:gate\" .\n"
             "[] ch:from \"o:out\" ; ch:to \"a:in\" .\n"
             "[] ch:from \"e:out\" ; ch:to \"a:cv\" .\n"
             "[] ch:from \"a:out\" ; ch:to \"out:mono\" .\n";
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_load(h, 0, 1, poly);
  host_commit(h, 0, 2);
  CHECK(run_until_answered(h, NULL, 1, 2, BLOCK));
  check_answer(h, 2, HOST_ANSWER_COMMITTED);
  host_note_on(h, 0, 60, 100);
  host_note_on(h, 0, 64, 100);
  host_note_on(h, 0, 67, 100);
  host_run_frames(h, 48000, BLOCK);
  const float*     tail     = host_left(h) + host_captured(h) - 24000;
  static const int notes[3] = { 60, 64, 67 };
  for (int i = 0; i < 3; ++i) {
    const double f = C4 * pow(2.0, (notes[i] - 60) / 12.0);
    CHECK_NEAR(dsp_tone_level(tail, 24000, f, RATE), 0.25, 0.01);
  }
  /* Releasing the middle note leaves the other two. */
  host_note_off(h, 0, 64);
  host_run_frames(h, 48000, BLOCK);
  tail = host_left(h) + host_captured(h) - 24000;
  CHECK(dsp_tone_level(tail, 24000, C4 * pow(2.0, 4.0 / 12.0), RATE) < 0.01);
  CHECK_NEAR(dsp_tone_level(tail, 24000, C4, RATE), 0.25, 0.01);
  host_free(h);
}

/* The safety limiter holds a far too loud patch under -0.5 dBFS, is off
   when its port is, and run() leaves the host's float mode as it was. */
static void
test_safety_limiter_and_float_mode(void)
{
  static const char loud[] =
    PREFIXES ":osc ch:kind \"osc\" ; param:shape \"sine\" .\n"
             ":boost ch:kind \"vca\" ; param:gain 2 .\n"
             ":out ch:kind \"output\" ; param:level 2 .\n"
             "[] ch:from \"osc:out\" ; ch:to \"boost:in\" .\n"
             "[] ch:from \"boost:out\" ; ch:to \"out:mono\" .\n";
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_load(h, 0, 1, loud);
  host_commit(h, 0, 2);
  CHECK(run_until_answered(h, NULL, 1, 2, BLOCK));
#if defined(__x86_64__)
  const unsigned mode = __builtin_ia32_stmxcsr();
  CHECK(!(mode & 0x8040u)); /* the host runs without FTZ/DAZ */
#endif
  host_run_frames(h, 24000, BLOCK);
#if defined(__x86_64__)
  CHECK(__builtin_ia32_stmxcsr() == mode);
#endif
  const float* tail = host_left(h) + host_captured(h) - 12000;
  CHECK(dsp_peak(tail, 12000) <= 0.944 + 1e-6);
  CHECK(dsp_peak(tail, 12000) > 0.9); /* limited, not muted */

  host_set_limiter(h, false);
  host_run_frames(h, 24000, BLOCK);
  tail = host_left(h) + host_captured(h) - 12000;
  CHECK_NEAR(dsp_peak(tail, 12000), 4.0, 0.01);
  host_free(h);
}

/* A ch:Set that lands between a commit's build and its swap is not lost:
   the new graph plays it, for a changed parameter and for a new module. */
static void
test_set_right_after_commit(void)
{
  static const char low[] = SINE_PATCH("-1");
  Host*             h     = host_new(HOST_WORKER_SYNC);
  CHECK(h);
  if (!h) {
    return;
  }
  host_load(h, 0, 1, patch_x);
  host_commit(h, 0, 2);
  CHECK(run_until_answered(h, NULL, 1, 2, BLOCK));
  /* The sync worker builds the commit inside this cycle; the Set comes
     later in the same cycle, before the swap at the next one. */
  host_load(h, 0, 3, low);
  host_commit(h, 0, 4);
  host_set(h, 100, 5, "osc", "pitch", 1.0f);
  CHECK(run_until_answered(h, NULL, 3, 5, BLOCK));
  check_answer(h, 4, HOST_ANSWER_COMMITTED);
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);

  /* The same for a module the commit creates. */
  host_create(h, 0, 6, "o2", "osc");
  host_set(h, 0, 7, "o2", "shape", 0.0f);
  host_set(h, 0, 8, "osc", "level", 0.0f);
  host_connect(h, 0, 9, "o2:out", "out:mono");
  host_commit(h, 0, 10);
  host_set(h, 100, 11, "o2", "pitch", -1.0f);
  CHECK(run_until_answered(h, NULL, 6, 11, BLOCK));
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C4 / 2.0, 0.5);

  /* A later Set wins over a replay of an earlier one. */
  host_commit(h, 0, 12);
  host_set(h, 10, 13, "o2", "pitch", 0.0f);
  host_set(h, 20, 14, "o2", "pitch", 1.0f);
  CHECK(run_until_answered(h, NULL, 12, 14, BLOCK));
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  host_free(h);
}

/* A state restored while a commit is being built wins over it. */
static void
test_restore_beats_queued_commit(void)
{
  static const char high[] = SINE_PATCH("1");
  Host*             a      = host_new(HOST_WORKER_THREADED);
  Host*             b      = host_new(HOST_WORKER_SLOW);
  CHECK(a && b);
  if (!a || !b) {
    host_free(a);
    host_free(b);
    return;
  }
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
  host_free(a);
  host_free(b);
}

static void
test_thousand_commits_leak_nothing(void)
{
  Host* h = host_new(HOST_WORKER_SYNC);
  CHECK(h);
  if (!h) {
    return;
  }
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
  host_free(h);
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

static void
test_state_round_trip(void)
{
  Host* a = host_new(HOST_WORKER_THREADED);
  CHECK(a);
  if (!a) {
    return;
  }
  host_load(a, 0, 1, patch_custom);
  host_commit(a, 0, 2);
  CHECK(host_run_until(a, BLOCK, HOST_ANSWER_COMMITTED, 2, MAX_WAIT));
  check_answer(a, 1, HOST_ANSWER_ACK);

  /* Through text and back, as a session file would go. */
  LilvState* saved = host_state_save(a);
  CHECK(saved);
  if (!saved) {
    host_free(a);
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
  host_free(a);
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
  Host* const h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
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
    CHECK(run_until_answered(h, NULL, 1, 1, BLOCK));
    const HostAnswer* const patch = host_find(h, HOST_ANSWER_PATCH, 1);
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
test_restore_while_running(void)
{
  Host* a = host_new(HOST_WORKER_THREADED);
  CHECK(a);
  if (!a) {
    return;
  }
  host_load(a, 0, 1, patch_custom);
  host_commit(a, 0, 2);
  CHECK(host_run_until(a, BLOCK, HOST_ANSWER_COMMITTED, 2, MAX_WAIT));
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
  host_free(a);
}

static void
test_patch_get(void)
{
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
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
  host_free(h);
}

static void
test_program_port(void)
{
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_set_program(h, 0.0f);
  host_run_frames(h, 4 * BLOCK, BLOCK);
  host_wait_idle(h);
  host_run(h, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == 0); /* nothing changed */

  /* 99: a program the bank does not have. */
  host_set_program(h, 99.0f);
  const HostAnswer* e =
    host_run_until(h, BLOCK, HOST_ANSWER_ERROR, HOST_NO_SEQ, MAX_WAIT);
  CHECK(e);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "program 99");
  host_wait_idle(h);
  host_run(h, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == 0);

  /* Back to program 0, which the bank has: a commit. */
  host_set_program(h, 0.0f);
  const HostAnswer* c =
    host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT);
  CHECK(c);
  CHECK(c && !c->has_seq && c->generation >= 2);
  CHECK(host_count(h, HOST_ANSWER_ERROR) == 1);
  host_free(h);
}

/* A host that starts with the program port at 3 hears program 3; one that
   restores a state with its port values hears the state; one whose port
   stays at another program after the restore (automation) hears that
   program, so the port shows what plays. */
static void
test_program_port_initial_value(void)
{
  Host* h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  if (!h) {
    return;
  }
  host_set_program(h, 3.0f);
  const HostAnswer* done =
    host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT);
  CHECK(done != NULL);

  Host* r = host_new(HOST_WORKER_THREADED);
  CHECK(r);
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

    Host* const a = host_new(HOST_WORKER_THREADED);
    CHECK(a);
    if (a) {
      CHECK(!host_state_restore(a, state));
      host_set_program(a, 5.0f); /* automation's value from the start */
      CHECK(
        host_run_until(a, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT));
      host_free(a);
    }
    lilv_state_free(state);
    host_free(r);
  }
  host_free(h);
}

/* lilv sets port values after restore(), so a host's port may reach the
   restored state's own program a cycle or more late: that is no program
   change (the restored patch, even edited, plays on); a later change is. */
static void
test_program_port_restored_late(void)
{
  Host* h = host_new(HOST_WORKER_THREADED);
  Host* r = host_new(HOST_WORKER_THREADED);
  CHECK(h && r);
  if (!h || !r) {
    host_free(h);
    host_free(r);
    return;
  }
  host_set_program(h, 3.0f);
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
  host_set_program(r, 3.0f);                /* the host catches up */
  host_run_frames(r, 4 * BLOCK, BLOCK);
  host_wait_idle(r); /* whatever the worker was asked to do is done */
  host_run_frames(r, 24000, BLOCK);
  CHECK(host_count(r, HOST_ANSWER_COMMITTED) == 0);
  CHECK_NEAR(tail_freq(r), C4, 0.5); /* patch_x, not program 3 */

  host_set_program(r, 1.0f); /* a real change */
  CHECK(host_run_until(r, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT));
  lilv_state_free(state);
  host_free(r);
  host_free(h);
}

static void
test_gain_port(void)
{
  Host* a = host_new(HOST_WORKER_THREADED);
  Host* b = host_new(HOST_WORKER_THREADED);
  CHECK(a && b);
  if (!a || !b) {
    host_free(a);
    host_free(b);
    return;
  }
  host_note_on(a, 0, 60, 100);
  host_note_on(b, 0, 60, 100);
  for (int c = 0; c < 20; ++c) {
    run_pair(a, b, BLOCK);
  }
  CHECK(first_diff(a, b, 0, host_captured(a)) == host_captured(a));
  const size_t change = host_captured(a);
  host_set_gain(b, -6.0f);
  for (int c = 0; c < 40; ++c) { /* 213 ms: 21 time constants */
    run_pair(a, b, BLOCK);
  }
  CHECK(first_diff(a, b, 0, host_captured(a)) == change);
  const double want  = pow(10.0, -6.0 / 20.0);
  double       worst = 0.0;
  size_t       used  = 0;
  for (size_t i = change + 4800; i < host_captured(a); ++i) {
    const double x = host_left(a)[i];
    if (fabs(x) > 0.01) {
      worst = fmax(worst, fabs(host_left(b)[i] / x - want));
      ++used;
    }
  }
  CHECK(used > 1000);
  CHECK_MSG(worst < 1e-3, "gain ratio off by %g", worst);
  host_free(a);
  host_free(b);
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
  RUN(test_plays_c4);
  RUN(test_edit_commit_changes_sound);
  RUN(test_swap_lands_at_cycle_start);
  RUN(test_abort_and_rejections_keep_sound);
  RUN(test_rejected_commit_keeps_standby);
  RUN(test_set_is_sample_accurate);
  RUN(test_block_sizes_render_identically);
  RUN(test_worker_modes);
  RUN(test_commit_while_building);
  RUN(test_patch_file_is_watched);
  RUN(test_watch_never_plays_empty_or_half);
  RUN(test_hostile_files_refused);
  RUN(test_restore_patch_file_only);
  RUN(test_polyphonic_chord);
  RUN(test_safety_limiter_and_float_mode);
  RUN(test_set_right_after_commit);
  RUN(test_restore_beats_queued_commit);
  RUN(test_thousand_commits_leak_nothing);
  RUN(test_run_is_realtime_safe);
  RUN(test_state_round_trip);
  RUN(test_restore_while_running);
  RUN(test_patch_get);
  RUN(test_program_port);
  RUN(test_program_port_initial_value);
  RUN(test_program_port_restored_late);
  RUN(test_gain_port);
  RUN(test_big_answer_does_not_block);
  return CHECK_EXIT();
}
