/* The plugin through lilv, what it plays: sound, edits and commits, swap
   timing, rejected edits, sample accuracy, block sizes, polyphony, the
   limiter, the gain and macro ports. */
#include "check.h"
#include "dsp.h"
#include "host.h"
#include "plugin_fixture.h"

#include <string.h>

static void
test_plays_c4(Host* h)
{
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
}

static void
test_edit_commit_changes_sound(Host* a, Host* b)
{
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
}

static void
test_swap_lands_at_cycle_start(Host* a, Host* b)
{
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
}

static void
test_abort_and_rejections_keep_sound(Host* a, Host* b)
{
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
}

/* A commit refuses a patch with no modules or no output, says so, and
   leaves the refused patch in standby to be fixed. */
static void
test_rejected_commit_keeps_standby(Host* h)
{
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
}

/* ch:Set of `param` on `module` at `frame` of a block changes the output
   there and not a frame earlier. */
static void
check_set_at(const char* module, const char* param, float value, uint32_t frame)
{
  Host* a = NULL;
  Host* b = NULL;
  if (!open_pair(&a, &b, HOST_WORKER_THREADED, HOST_WORKER_THREADED)) {
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

/* The same timeline of MIDI, Set and Gate rendered in blocks of `block`,
   or (0) of lengths that keep changing between one frame and more: the
   graph lays its buffers out anew each time (ChNode.strided_in). */
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
  static const uint32_t mixed[] = { 1, 1, 1, 3, 1, 64, 1, 1, 17, 2, 1, 256 };
  for (size_t done = 0, i = 0; !block && done < total; ++i) {
    const size_t n = mixed[i % CH_COUNT(mixed)];
    host_run(h, (uint32_t)(n < total - done ? n : total - done));
    done += n < total - done ? n : total - done;
  }
  host_run_frames(h, block ? total : 0u, block ? block : 1u);
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
  static const uint32_t blocks[] = { 1, 17, 64, 4096, 0 };
  for (size_t i = 0; i < CH_COUNT(blocks); ++i) {
    Host* h = render_timeline(blocks[i], total);
    CHECK(h);
    if (h) {
      const size_t diff = first_diff(ref, h, 0, total);
      CHECK_MSG(diff == total,
                "block %u (0: mixed) differs from block 256 at frame %zu "
                "(%g vs %g)",
                blocks[i], diff, diff < total ? host_left(h)[diff] : 0.0,
                diff < total ? host_left(ref)[diff] : 0.0);
    }
    host_free(h);
  }
  host_free(ref);
}

/* A three-voice sine patch: a chord sounds all its notes. */
static void
test_polyphonic_chord(Host* h)
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
  CHECK(load_commit(h, poly, 1));
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
}

/* The safety limiter holds a far too loud patch under -0.5 dBFS, is off
   when its port is, and run() leaves the host's float mode as it was. */
static void
test_safety_limiter_and_float_mode(Host* h)
{
  static const char loud[] =
    PREFIXES ":osc ch:kind \"osc\" ; param:shape \"sine\" .\n"
             ":boost ch:kind \"vca\" ; param:gain 2 .\n"
             ":out ch:kind \"output\" ; param:level 2 .\n"
             "[] ch:from \"osc:out\" ; ch:to \"boost:in\" .\n"
             "[] ch:from \"boost:out\" ; ch:to \"out:mono\" .\n";
  CHECK(load_commit(h, loud, 1));
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

  host_set_port(h, "limiter", 0.0f);
  host_run_frames(h, 24000, BLOCK);
  tail = host_left(h) + host_captured(h) - 12000;
  CHECK_NEAR(dsp_peak(tail, 12000), 4.0, 0.01);
}

/* A ch:Set that lands between a commit's build and its swap is not lost:
   the new graph plays it, for a changed parameter and for a new module. */
static void
test_set_right_after_commit(Host* h)
{
  static const char low[] = SINE_PATCH("-1");
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
}

static void
test_gain_port(Host* a, Host* b)
{
  host_note_on(a, 0, 60, 100);
  host_note_on(b, 0, 60, 100);
  for (int c = 0; c < 20; ++c) {
    run_pair(a, b, BLOCK);
  }
  CHECK(first_diff(a, b, 0, host_captured(a)) == host_captured(a));
  const size_t change = host_captured(a);
  host_set_port(b, "gain", -6.0f);
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
}

/* Each macro port moves its knob in the block where the host sets it,
   clamped to 0..1, and a value the port had before takes effect again:
   run() skips a port that holds its last value, and only that one. */
static void
test_macro_ports(void)
{
  char   patch[2048];
  size_t len = (size_t)snprintf(patch, sizeof(patch), "%s",
                                PREFIXES ":out ch:kind \"output\" ; "
                                         "param:level 1 ; param:lowcut 0 .\n");
  for (unsigned k = 0; k < CH_N_MACROS; ++k) {
    len += (size_t)snprintf(patch + len, sizeof(patch) - len,
                            ":m%u ch:kind \"macro\" ; param:index %u ; "
                            "param:scale %g .\n"
                            "[] ch:from \"m%u:out\" ; ch:to \"out:mono\" .\n",
                            k, k, 0.02 * (k + 1u), k);
  }
  Host* const h = open_playing(HOST_WORKER_THREADED, patch);
  if (!h) {
    return;
  }
  float       knob[CH_N_MACROS] = { 0 };
  const float values[]          = { 0.5f, 2.0f, 0.5f, 0.0f };
  for (unsigned k = 0; k < CH_N_MACROS; ++k) {
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); ++v) {
      char symbol[16];
      snprintf(symbol, sizeof(symbol), "macro%u", k + 1u);
      const float before = host_left(h)[host_captured(h) - 1u];
      host_set_port(h, symbol, values[v]);
      host_run(h, 64);
      CHECK_MSG(fabsf(host_left(h)[host_captured(h) - 1u] - before) > 1e-6f,
                "%s = %g: no change in its block", symbol, (double)values[v]);
      host_run_frames(h, 9600, 64);
      knob[k]     = values[v] < 1.0f ? values[v] : 1.0f;
      double want = 0.0;
      for (unsigned j = 0; j < CH_N_MACROS; ++j) {
        want += 0.02 * (j + 1u) * knob[j];
      }
      CHECK_NEAR(host_left(h)[host_captured(h) - 1u], want, 1e-4);
    }
  }
  /* A port connected to NULL keeps the value it last had, and the others
     still move. */
  host_set_port(h, "macro2", 0.75f);
  host_run_frames(h, 9600, 64);
  const float held = host_left(h)[host_captured(h) - 1u];
  host_unplug_port(h, "macro2");
  host_run_frames(h, 9600, 64);
  CHECK_NEAR(host_left(h)[host_captured(h) - 1u], held, 1e-6);
  host_set_port(h, "macro3", 0.5f);
  host_run_frames(h, 9600, 64);
  CHECK_NEAR(host_left(h)[host_captured(h) - 1u] - held, 0.06 * 0.5, 1e-4);
  host_free(h);
}

/* The peak ch:Level reports: exactly the largest magnitude the host
   received since the last ask (`*mark`, where that one was answered at
   frame 0 of a block), after the gain and the limiter. */
static float
level_since(Host* h, size_t* const mark)
{
  host_clear_answers(h);
  const size_t end = host_captured(h);
  host_get(h, 0, HOST_NO_SEQ, "urn:chronus:level");
  host_run(h, BLOCK);
  const HostAnswer* const a = host_find(h, HOST_ANSWER_LEVEL, HOST_NO_SEQ);
  CHECK(a);
  float want = 0.0f;
  for (size_t i = *mark; i < end; ++i) {
    want = fmaxf(want, fmaxf(fabsf(host_left(h)[i]), fabsf(host_right(h)[i])));
  }
  CHECK_MSG(a && a->value == want, "ch:Level %g, the output's peak %g",
            a ? (double)a->value : -1.0, (double)want);
  *mark = end;
  return want;
}

/* The meter follows the output through a settled 0 dB (where run() reuses
   the guards' peak), a gain glide, a settled -6 dB and the limiter. */
static void
test_level_meter(Host* h)
{
  host_run_frames(h, 40u * BLOCK, BLOCK);
  size_t mark = 0;
  level_since(h, &mark);
  host_run_frames(h, 4u * BLOCK, BLOCK);
  CHECK_NEAR(level_since(h, &mark), 0.5, 1e-3);
  host_set_port(h, "gain", -6.0f);
  host_run_frames(h, 2u * BLOCK, BLOCK); /* gliding */
  CHECK(level_since(h, &mark) > 0.4);
  host_run_frames(h, 40u * BLOCK, BLOCK);
  level_since(h, &mark);
  host_run_frames(h, 4u * BLOCK, BLOCK); /* settled */
  CHECK_NEAR(level_since(h, &mark), 0.5 * pow(10.0, -6.0 / 20.0), 1e-3);
  host_set_port(h, "gain", 12.0f);
  host_run_frames(h, 40u * BLOCK, BLOCK);
  level_since(h, &mark);
  host_run_frames(h, 4u * BLOCK, BLOCK);          /* limited */
  CHECK_NEAR(level_since(h, &mark), 0.944, 1e-4); /* CH_LIMITER_CEILING */
}

int
main(void)
{
  RUN_HOST(test_plays_c4, HOST_WORKER_THREADED);
  RUN_PAIR(test_edit_commit_changes_sound, HOST_WORKER_THREADED,
           HOST_WORKER_THREADED);
  RUN_PAIR(test_swap_lands_at_cycle_start, HOST_WORKER_THREADED,
           HOST_WORKER_THREADED);
  RUN_PAIR(test_abort_and_rejections_keep_sound, HOST_WORKER_THREADED,
           HOST_WORKER_THREADED);
  RUN_HOST(test_rejected_commit_keeps_standby, HOST_WORKER_THREADED);
  RUN(test_set_is_sample_accurate);
  RUN(test_block_sizes_render_identically);
  RUN_HOST(test_polyphonic_chord, HOST_WORKER_THREADED);
  RUN_HOST(test_safety_limiter_and_float_mode, HOST_WORKER_THREADED);
  RUN_HOST(test_set_right_after_commit, HOST_WORKER_SYNC);
  RUN_PAIR(test_gain_port, HOST_WORKER_THREADED, HOST_WORKER_THREADED);
  RUN(test_macro_ports);
  RUN_PLAYING(test_level_meter, HOST_WORKER_THREADED, SINE_PATCH("0"));
  return CHECK_EXIT();
}
