/* Swaps through the plugin (lilv): crossfades that do not click, commits
   quantised to the host's beat and bar, the fail-safe, program changes as
   new sounds, and commits refused because they cannot play in real time. */
#include "check.h"
#include "dsp.h"
#include "plugin_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A free-running sine of 155 Hz (log2(155 / 261.63) octaves from C4). */
#define PITCH_155 "-0.755"

static const char* const patch_sine = PREFIXES
  ":osc ch:kind \"osc\" ; param:shape \"sine\" ; param:pitch " PITCH_155 " .\n"
  ":out ch:kind \"output\" ; param:level 0.5 .\n"
  "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n";

static const char* const patch_silent = PREFIXES ":out ch:kind \"output\" .\n";

/* The largest step between neighbouring samples of the left channel in
   [from, to). */
static double
max_jump(const Host* h, size_t from, size_t to)
{
  const float* x    = host_left(h);
  double       most = 0.0;
  for (size_t i = from + 1u; i < to; ++i) {
    most = fmax(most, fabs((double)x[i] - (double)x[i - 1u]));
  }
  return most;
}

/* Replace the playing sine by a new module of the same tone, committed
   with `fade` seconds; the largest jump around the swap over the steady
   signal's largest. */
static double
replace_sine(float fade)
{
  Host* const h = open_playing(HOST_WORKER_SYNC, patch_sine);
  if (!h) {
    return 0.0;
  }
  host_run_frames(h, (size_t)(0.3 * RATE), BLOCK);
  const size_t asked = host_captured(h); /* the swap comes after this */
  host_delete(h, 0, 10, "osc");
  host_create(h, 0, 11, "osc2", "osc");
  host_set(h, 0, 12, "osc2", "shape", 0.0f);
  host_set(h, 0, 13, "osc2", "pitch", strtof(PITCH_155, NULL));
  host_connect(h, 0, 14, "osc2:out", "out:mono");
  host_commit_with(h, 0, 15, fade, CH_QUANTIZE_NONE);
  const HostAnswer* done =
    host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, 15, MAX_WAIT);
  CHECK(done);
  double ratio = 0.0;
  if (done) {
    host_run_frames(h, (size_t)(0.1 * RATE), BLOCK);
    const double steady = max_jump(h, asked - 4800u, asked);
    ratio               = max_jump(h, asked, asked + 4800u) / steady;
    CHECK(steady > 0.005);
  }
  host_free(h);
  return ratio;
}

static void
test_crossfade_does_not_click(void)
{
  const double cut  = replace_sine(0.0f);
  const double fade = replace_sine(-1.0f); /* the default, 20 ms */
  printf("  largest jump over the steady one: cut %.1f, crossfade %.2f\n", cut,
         fade);
  /* A cut's jump depends on the two sines' phases (16x to 70x here as
     priming changed); a fade's stays at the steady step (sin+cos <= 1.42). */
  CHECK_MSG(cut > 5.0, "a hard cut jumps only %.2f times the steady slope",
            cut);
  CHECK_MSG(fade < 1.6, "the crossfade jumps %.2f times the steady slope",
            fade);
}

/* The largest |sample| of the left channel in [from, to). */
static double
peak_of(const Host* h, size_t from, size_t to)
{
  return dsp_peak(host_left(h) + from, to - from);
}

/* An edit that inserts a vca of gain 0.5 after the playing sine: one graph
   is the other plus a module, their outputs alike, so the fade's gains
   are linear (sum 1) and the level glides from the sine's to half of it.
   Equal power would swell it to 1.118 times the sine's. */
static void
test_edit_fade_does_not_swell(Host* h)
{
  host_run_frames(h, (size_t)(0.3 * RATE), BLOCK);
  const size_t asked = host_captured(h);
  host_create(h, 0, 10, "half", "vca");
  host_set(h, 0, 11, "half", "gain", 0.5f);
  host_disconnect(h, 0, 12, "osc:out", "out:mono");
  host_connect(h, 0, 13, "osc:out", "half:in");
  host_connect(h, 0, 14, "half:out", "out:mono");
  host_commit(h, 0, 15);
  CHECK(host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, 15, MAX_WAIT));
  host_run_frames(h, (size_t)(0.2 * RATE), BLOCK);
  const double steady = peak_of(h, asked - 4800u, asked);
  const double during = peak_of(h, asked, asked + 4800u) / steady;
  const double after  = peak_of(h, asked + 4800u, asked + 9600u) / steady;
  const double jump =
    max_jump(h, asked, asked + 4800u) / max_jump(h, asked - 4800u, asked);
  printf("  an inserted module: peak %.3f of the sine's through the fade, "
         "%.3f after, jump %.2f\n",
         during, after, jump);
  CHECK_MSG(during < 1.005, "the fade swelled to %.3f", during);
  CHECK_NEAR(after, 0.5, 0.01);
  CHECK_MSG(jump < 1.6, "jumped %.2f times the steady step", jump);
}

/* White noise replaced by another noise module: unrelated sounds, an
   equal-power fade (200 ms here), so the loudness holds through it, where
   linear gains (sum 1) would dip 3 dB half way. */
static const char* const noise1 =
  PREFIXES ":noise1 ch:kind \"noise\" .\n"
           ":out ch:kind \"output\" ; param:level 0.5 .\n"
           "[] ch:from \"noise1:out\" ; ch:to \"out:mono\" .\n";

static void
test_new_sound_fade_keeps_power(Host* h)
{
  static const char* const noise2 =
    PREFIXES ":noise2 ch:kind \"noise\" .\n"
             ":out ch:kind \"output\" ; param:level 0.5 .\n"
             "[] ch:from \"noise2:out\" ; ch:to \"out:mono\" .\n";
  host_run_frames(h, (size_t)(0.3 * RATE), BLOCK);
  const size_t asked = host_captured(h);
  host_load(h, 0, 10, noise2);
  host_commit_with(h, 0, 11, 0.2f, CH_QUANTIZE_NONE);
  CHECK(host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, 11, MAX_WAIT));
  host_run_frames(h, (size_t)(0.4 * RATE), BLOCK);
  const float* x      = host_left(h);
  const double steady = dsp_rms(x + asked - 9600u, 9600u);
  double       least  = INFINITY;
  for (size_t at = asked; at + 1200u <= asked + 14400u; at += 600u) {
    least = fmin(least, dsp_rms(x + at, 1200u) / steady);
  }
  printf("  a replaced module: quietest 25 ms of the fade %.2f dB\n",
         dsp_db(least));
  CHECK_MSG(dsp_db(least) > -1.0, "the fade dipped %.2f dB", dsp_db(least));
}

/* A commit that changes nothing but what it carries does not fade: the
   output is bit-identical to an instance that did not commit. */
static void
test_seamless_commit_does_not_fade(Host* a, Host* b)
{
  CHECK(load_commit(a, patch_sine, 1) && load_commit(b, patch_sine, 1));
  host_run(a, BLOCK), host_run(b, BLOCK);
  host_set(b, 0, 5, "out", "level", 0.5f); /* the value it has */
  host_commit(b, 0, 6);
  for (int k = 0; k < 40; ++k) {
    host_run(a, BLOCK), host_run(b, BLOCK);
  }
  CHECK(host_find(b, HOST_ANSWER_COMMITTED, 6));
  const size_t n = host_captured(a);
  CHECK(n == host_captured(b));
  size_t diff = 0;
  while (diff < n && host_left(a)[diff] == host_left(b)[diff]) {
    ++diff;
  }
  CHECK_MSG(diff == n, "differs from frame %zu of %zu", diff, n);
}

/* Send the transport at the start of each cycle: rolling at `bpm` in 4/4
   from time 0 (or stopped), then run `n` frames. */
static void
run_transport(Host* h, uint32_t n, double bpm, bool rolling)
{
  const double beats = (double)host_frames(h) / RATE * bpm / 60.0;
  ChMsg        pos   = ch_msg_init(CH_MSG_POSITION);
  pos.position       = (ChPosition){ true,
                                     true,
                                     true,
                                     true,
                                     true,
                                     (int64_t)floor(beats / 4.0),
                                     (float)fmod(beats, 4.0),
                                     4.0f,
                                     (float)bpm,
                               rolling ? 1.0f : 0.0f };
  host_send(h, 0, HOST_NO_SEQ, &pos);
  host_run(h, n);
}

/* A commit asked for at 0.3 s, quantised, with blocks of 333 frames (so
   the boundary falls inside one): the first frame of sound, and the
   cycle of its ch:Committed. */
static size_t
quantised_onset(uint32_t quantize, bool rolling, size_t* asked_at)
{
  const uint32_t block = 333u;
  Host* const    h     = open_playing(HOST_WORKER_SYNC, patch_silent);
  if (!h) {
    return 0;
  }
  host_capture_clear(h);
  const size_t start = host_frames(h);
  while (host_frames(h) < (size_t)(0.3 * RATE)) {
    run_transport(h, block, 120.0, rolling);
  }
  host_create(h, 0, 10, "dc", "const");
  host_set(h, 0, 11, "dc", "value", 0.25f);
  host_connect(h, 0, 12, "dc:out", "out:mono");
  const size_t asked = host_frames(h);
  host_commit_with(h, 0, 13, -1.0f, quantize);
  while (host_frames(h) < (size_t)(2.2 * RATE)) {
    run_transport(h, block, 120.0, rolling);
  }
  const HostAnswer* done = host_find(h, HOST_ANSWER_COMMITTED, 13);
  CHECK(done);
  *asked_at          = asked;
  const float* left  = host_left(h);
  size_t       onset = 0;
  while (onset < host_captured(h) && left[onset] == 0.0f) {
    ++onset;
  }
  host_free(h);
  return onset + start;
}

static void
test_quantised_commit_lands_on_the_bar(void)
{
  size_t       asked = 0;
  const size_t bar   = quantised_onset(CH_QUANTIZE_BAR, true, &asked);
  CHECK(asked >= 14400u && asked < 14400u + 333u); /* at 0.3 s */
  CHECK_MSG(bar == 96000u, "bar-quantised commit heard from frame %zu", bar);
  const size_t beat = quantised_onset(CH_QUANTIZE_BEAT, true, &asked);
  CHECK_MSG(beat == 24000u, "beat-quantised commit heard from frame %zu", beat);
  /* Stopped: at once (the cycle after the one the commit came in). */
  const size_t now = quantised_onset(CH_QUANTIZE_BAR, false, &asked);
  CHECK_MSG(now == asked + 333u,
            "stopped transport: asked at frame %zu, "
            "heard from frame %zu",
            asked, now);
}

/* A test-only kind turns NaN (or runs away) after `after` seconds. */
static const HostAnswer*
commit_fault(Host* h, const char* mode, const char* after, int32_t seq)
{
  char patch[1024];
  snprintf(patch, sizeof(patch),
           PREFIXES ":bad ch:kind \"test_fault\" ; param:fault \"%s\" ; "
                    "param:after %s .\n"
                    ":out ch:kind \"output\" ; param:level 0.5 .\n"
                    "[] ch:from \"bad:out\" ; ch:to \"out:mono\" .\n",
           mode, after);
  return load_commit(h, patch, seq);
}

/* Within seconds of its commit, a graph that goes bad is replaced by the
   one before it; the error names the cause and both generations. */
static void
check_fallback(const char* mode, const char* cause)
{
  Host*             h    = host_new(HOST_WORKER_SYNC);
  const HostAnswer* good = h ? load_commit(h, patch_sine, 1) : NULL;
  CHECK(good);
  const int64_t     g1  = good ? good->generation : -1;
  const HostAnswer* bad = h ? commit_fault(h, mode, "0.3", 3) : NULL;
  CHECK(bad);
  if (!h || !bad) {
    host_free(h);
    return;
  }
  const int64_t g2   = bad->generation;
  const size_t  swap = (size_t)bad->cycle * BLOCK;
  host_run_frames(h, (size_t)RATE, BLOCK);
  char want[256];
  snprintf(want, sizeof(want), "generation %lld: %s", (long long)g2, cause);
  const HostAnswer* err = NULL;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    err = a->type == HOST_ANSWER_ERROR && a->text && strstr(a->text, want)
            ? a
            : err;
  }
  CHECK_MSG(err, "no ch:Error with '%s'", want);
  snprintf(want, sizeof(want), "reverted to generation %lld", (long long)g1);
  CHECK_STR_CONTAINS(err ? err->text : NULL, want);
  /* The sine plays again, and nothing non-finite or loud got out. */
  const float* left = host_left(h);
  const size_t end  = host_captured(h);
  CHECK(dsp_peak(left + end - 4800u, 4800u) > 0.2);
  for (size_t i = swap; i < end; ++i) {
    if (!isfinite(left[i]) || fabsf(left[i]) > 1.0f) {
      CHECK_MSG(false, "frame %zu: %g", i, (double)left[i]);
      break;
    }
  }
  host_free(h);
}

static void
test_nan_reverts_to_previous_generation(void)
{
  check_fallback("nan", "the patch produced non-finite output");
}

static void
test_runaway_reverts_to_previous_generation(void)
{
  check_fallback("runaway", "the patch's output ran away");
}

/* Errors on notify that contain `text`. */
static size_t
count_errors(const Host* h, const char* text)
{
  size_t n = 0;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    n += a->type == HOST_ANSWER_ERROR && a->text && strstr(a->text, text);
  }
  return n;
}

/* After a revert the worker's patch is the one that plays again: it is
   sent out unasked, patch:Get shows it, the next commit builds on it (and
   does not bring the failed module back), and one undo does. */
static void
test_revert_brings_the_patch_back(Host* h)
{
  CHECK(commit_fault(h, "nan", "0.1", 3));
  host_run_frames(h, (size_t)RATE / 2u, BLOCK);
  CHECK(count_errors(h, "reverted to generation") == 1u);
  const HostAnswer* shown = NULL;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    shown = a->type == HOST_ANSWER_PATCH && !a->has_seq ? a : shown;
  }
  CHECK_MSG(shown, "no ch:Patch sent after the revert");
  CHECK_STR_CONTAINS(shown ? shown->text : NULL, "\"osc\"");
  CHECK(shown && shown->text && !strstr(shown->text, "test_fault"));
  host_patch_get(h, 0, 10);
  const HostAnswer* got =
    host_run_until(h, BLOCK, HOST_ANSWER_PATCH, 10, MAX_WAIT);
  CHECK(got && got->text && strstr(got->text, "\"osc\"") &&
        !strstr(got->text, "test_fault"));
  /* A commit now rebuilds the sine: no second fault, the sine plays. */
  host_commit(h, 0, 11);
  CHECK(host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, 11, MAX_WAIT));
  host_run_frames(h, (size_t)RATE / 2u, BLOCK);
  CHECK(count_errors(h, "non-finite") == 1u);
  CHECK(dsp_peak(host_left(h) + host_captured(h) - 4800u, 4800u) > 0.2);
  /* Undo goes back over that commit (the same sine), then to the
     failed patch, which is not lost. */
  for (int32_t seq = 12; seq <= 13; ++seq) {
    const ChMsg undo = ch_msg_init(CH_MSG_UNDO);
    host_send(h, 0, seq, &undo);
    CHECK(host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, seq, MAX_WAIT));
  }
  host_patch_get(h, 0, 14);
  got = host_run_until(h, BLOCK, HOST_ANSWER_PATCH, 14, MAX_WAIT);
  CHECK_STR_CONTAINS(got ? got->text : NULL, "test_fault");
}

/* Long after its commit, a bad graph is silenced and reset, and said so. */
static void
test_late_fault_silences_and_resets(Host* h)
{
  CHECK(commit_fault(h, "none", "0", 3));
  host_run_frames(h, (size_t)(4.5 * RATE), BLOCK);
  CHECK(dsp_peak(host_left(h) + host_captured(h) - 4800u, 4800u) > 0.1);
  host_set(h, 0, 9, "bad", "fault", 1.0f);
  host_run_frames(h, (size_t)(0.2 * RATE), BLOCK);
  const HostAnswer* err = NULL;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    err                 = a->type == HOST_ANSWER_ERROR ? a : err;
  }
  CHECK_STR_CONTAINS(err ? err->text : NULL, "silenced it and reset its state");
  CHECK(!strstr(err && err->text ? err->text : "", "reverted"));
  CHECK(dsp_peak(host_left(h) + host_captured(h) - 4800u, 4800u) == 0.0);
}

/* pad -> bass: the bass does not play a ghost of the pad's release. */
static void
test_program_change_is_a_new_sound(Host* h)
{
  host_set_port(h, "program", 4.0f); /* pad */
  host_run_frames(h, 4u * BLOCK, BLOCK);
  host_note_on(h, 0, 60, 100);
  host_run_frames(h, (size_t)(1.0 * RATE), BLOCK);
  host_note_off(h, 0, 60);
  host_run_frames(h, (size_t)(0.05 * RATE), BLOCK);
  host_clear_answers(h);
  host_set_port(h, "program", 1.0f); /* bass */
  const HostAnswer* done =
    host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, HOST_NO_SEQ, MAX_WAIT);
  CHECK(done);
  if (done) {
    const size_t swap = (size_t)done->cycle * BLOCK;
    host_run_frames(h, (size_t)(0.2 * RATE), BLOCK);
    const float* left   = host_left(h);
    const double before = dsp_peak(left + swap - 2400u, 2400u);
    const double ghost  = dsp_peak(left + swap + 1200u, 6000u);
    printf("  pad release before the change %.3f, after the fade %.6f\n",
           before, ghost);
    CHECK(before > 0.02);
    CHECK_MSG(ghost < 1e-3, "the bass sounds %g after the change", ghost);
  }
}

/* 1000 reverbs cannot play in real time: refused with the load; the sine
   plays on. */
static void
test_commit_too_heavy_is_refused(Host* h)
{
  const size_t size  = 200u * 1024u;
  char* const  patch = (char*)malloc(size);
  size_t       len   = (size_t)snprintf(patch, size, "%s%s", patch_sine,
                                        ":src ch:kind \"osc\" .\n");
  for (int i = 0; i < 1000 && len < size; ++i) {
    len += (size_t)snprintf(patch + len, size - len,
                            ":r%d ch:kind \"reverb\" .\n"
                            "[] ch:from \"src:out\" ; ch:to \"r%d:left\" .\n"
                            "[] ch:from \"r%d:left\" ; ch:to \"out:left\" .\n",
                            i, i, i);
  }
  host_load(h, 0, 5, patch);
  host_commit(h, 0, 6);
  const HostAnswer* err =
    host_run_until(h, BLOCK, HOST_ANSWER_ERROR, 6, MAX_WAIT);
  printf("  %s\n", err && err->text ? err->text : "(no error)");
  CHECK_STR_CONTAINS(err ? err->text : NULL, "cannot play in real time");
  CHECK_STR_CONTAINS(err ? err->text : NULL, "estimated load");
  CHECK(!host_find(h, HOST_ANSWER_COMMITTED, 6));
  host_run_frames(h, 4800u, BLOCK);
  CHECK(dsp_peak(host_left(h) + host_captured(h) - 4800u, 4800u) > 0.2);
  free(patch);
}

int
main(void)
{
  setenv("CHRONUS_TEST_KINDS", "1", 1); /* the test_fault kind */
  RUN(test_crossfade_does_not_click);
  RUN_PLAYING(test_edit_fade_does_not_swell, HOST_WORKER_SYNC, patch_sine);
  RUN_PLAYING(test_new_sound_fade_keeps_power, HOST_WORKER_SYNC, noise1);
  RUN_PAIR(test_seamless_commit_does_not_fade, HOST_WORKER_SYNC,
           HOST_WORKER_SYNC);
  RUN(test_quantised_commit_lands_on_the_bar);
  RUN(test_nan_reverts_to_previous_generation);
  RUN(test_runaway_reverts_to_previous_generation);
  RUN_PLAYING(test_revert_brings_the_patch_back, HOST_WORKER_SYNC, patch_sine);
  RUN_PLAYING(test_late_fault_silences_and_resets, HOST_WORKER_SYNC,
              patch_sine);
  RUN_HOST(test_program_change_is_a_new_sound, HOST_WORKER_SYNC);
  RUN_PLAYING(test_commit_too_heavy_is_refused, HOST_WORKER_SYNC, patch_sine);
  return CHECK_EXIT();
}
