/* Voice stealing: a stolen note fades out over CH_STEAL_SECONDS before the
   note that stole its voice starts, so a chord change on a full voice pool
   does not click; the fade's exact shape and frame, a note released during
   the fade keeping its length, block-size independence, and the same
   through the plugin. */
#include "../src/build.h"
#include "../src/graph.h"
#include "../src/model.h"
#include "../src/patch.h"
#include "../src/voicing.h"
#include "check.h"
#include "dsp.h"
#include "host.h"
#include "plugin_fixture.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define STEAL 144u /* CH_STEAL_SECONDS at 48 kHz */

/* Velocity-sensitive keys whose notes all start alike (sine from phase 0):
   a note that takes a sounding voice over at once jumps both in phase and
   in level. */
static const char* const patch_keys = PREFIXES
  "<> ch:polyphony 3 .\n"
  ":voice ch:kind \"voice\" .\n"
  ":osc ch:kind \"osc\" ; param:shape \"sine\" ; param:reset \"on\" .\n"
  ":env ch:kind \"adsr\" ; param:attack 0.005 ; param:decay 0.3 ;\n"
  "  param:sustain 0.8 ; param:release 0.3 .\n"
  ":amp ch:kind \"vca\" .\n"
  ":vel ch:kind \"vca\" .\n"
  ":out ch:kind \"output\" ; param:level 0.3 .\n"
  "[] ch:from \"voice:pitch\" ; ch:to \"osc:pitch\" .\n"
  "[] ch:from \"voice:gate\" ; ch:to \"env:gate\" .\n"
  "[] ch:from \"voice:trig\" ; ch:to \"env:trig\" .\n"
  "[] ch:from \"osc:out\" ; ch:to \"amp:in\" .\n"
  "[] ch:from \"env:out\" ; ch:to \"amp:cv\" .\n"
  "[] ch:from \"amp:out\" ; ch:to \"vel:in\" .\n"
  "[] ch:from \"voice:velocity\" ; ch:to \"vel:cv\" .\n"
  "[] ch:from \"vel:out\" ; ch:to \"out:mono\" .\n";

/* Two voices whose output is their velocity (or gate): the sum shows
   each voice's fade and start to the frame. */
#define SIGNAL_PATCH(port)                                                     \
  PREFIXES "<> ch:polyphony 2 .\n"                                             \
           ":voice ch:kind \"voice\" .\n"                                      \
           ":out ch:kind \"output\" ; param:lowcut 0 .\n"                      \
           "[] ch:from \"voice:" port "\" ; ch:to \"out:mono\" .\n"

static const char* const patch_velocity = SIGNAL_PATCH("velocity");
static const char* const patch_gate     = SIGNAL_PATCH("gate");

/* Two voices whose output is an envelope (10 ms attack, sustain 0.5). */
static const char* const patch_envelope =
  PREFIXES "<> ch:polyphony 2 .\n"
           ":voice ch:kind \"voice\" .\n"
           ":env ch:kind \"adsr\" ; param:attack 0.01 ; param:decay 0.01 ;\n"
           "  param:sustain 0.5 .\n"
           ":out ch:kind \"output\" ; param:lowcut 0 .\n"
           "[] ch:from \"voice:gate\" ; ch:to \"env:gate\" .\n"
           "[] ch:from \"env:out\" ; ch:to \"out:mono\" .\n";

/* The held chord, and the one that steals all its voices. */
static const uint8_t chord1[3] = { 60, 64, 67 };
static const uint8_t chord2[3] = { 53, 57, 62 };

#define HOLD   14400u /* 0.3 s of the first chord */
#define WINDOW 4800u  /* 0.1 s: the steady window, and the one after */
#define AFTER  14400u

static double
hz(const uint8_t note)
{
  return 440.0 * pow(2.0, ((double)note - 69.0) / 12.0);
}

static ChGraph*
build(const char* const turtle)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ChGraph*       graph = NULL;
  CHECK_MSG(!ch_patch_read(model, turtle, strlen(turtle), &err), "%s", err.msg);
  CHECK_MSG(!ch_build(model, NULL, RATE, &graph, &err), "%s", err.msg);
  ch_model_free(model);
  return graph;
}

typedef struct {
  ChGraph*     graph;
  ChVoicing    voicing;
  ChHostInputs host;
} Player;

static bool
player_start(Player* const p, const char* const turtle, const uint32_t steal)
{
  memset(p, 0, sizeof(*p));
  p->graph = build(turtle);
  ch_voicing_init(&p->voicing, &p->host);
  ch_voicing_set_voices(&p->voicing,
                        p->graph ? ch_graph_polyphony(p->graph) : 1u);
  ch_voicing_set_steal(&p->voicing, steal);
  return p->graph != NULL;
}

/* A case with a player of a patch, its voices stealing over STEAL frames. */
typedef void (*PlayerCase)(Player* p);

/* Run `test_fn` on a new player of `turtle`, then free it; a patch that
   does not build fails the case. */
static void
run_player_case(const char* name, PlayerCase test_fn, const char* turtle)
{
  check_failed_now = 0;
  Player p;
  if (player_start(&p, turtle, STEAL)) {
    test_fn(&p);
  }
  ch_graph_free(p.graph);
  report_case(name);
}

#define RUN_PLAYER(test_fn, turtle) run_player_case(#test_fn, test_fn, turtle)

static void
note(Player* const p, const uint8_t key, const uint8_t velocity)
{
  const uint8_t msg[3] = { 0x90, key, velocity };
  CHECK(ch_voicing_midi(&p->voicing, msg, 3));
}

static void
note_off(Player* const p, const uint8_t key)
{
  const uint8_t msg[3] = { 0x80, key, 0 };
  CHECK(ch_voicing_midi(&p->voicing, msg, 3));
}

/* Renders `n` frames in blocks of at most `block`, split where the
   voicing has a step due, as the plugin does. */
static void
play(Player* const p, float* const left, const uint32_t n, const uint32_t block)
{
  static float right[4096];
  for (uint32_t done = 0; done < n;) {
    const uint32_t due = ch_voicing_due(&p->voicing);
    uint32_t       k   = n - done < block ? n - done : block;
    k                  = k < due ? k : due;
    ch_graph_run(p->graph, &p->host, left + done, right, k);
    ch_voicing_advance(&p->voicing, k);
    done += k;
  }
}

/* Notes 60 and 64 (velocity 100) on the two voices: the pool is full;
   their first `n` frames into `x`, in blocks of 64. */
static void
hold_two(Player* const p, float* const x, const uint32_t n)
{
  note(p, 60, 100);
  note(p, 64, 100);
  play(p, x, n, 64);
}

/* The largest step between neighbouring samples of x[from, to). */
static double
max_jump(const float* const x, const size_t from, const size_t to)
{
  double most = 0.0;
  for (size_t i = from + 1u; i < to; ++i) {
    most = fmax(most, fabs((double)x[i] - (double)x[i - 1u]));
  }
  return most;
}

/* Around the steal at `at` in x: the largest jump over the steady one
   before it. */
static double
jump_ratio(const float* const x, const size_t at)
{
  const double steady = max_jump(x, at - WINDOW, at);
  CHECK(steady > 0.001);
  return max_jump(x, at - 1u, at + WINDOW) / steady;
}

/* The keys chord, then the chord that steals its voices, with `steal`
   frames of fade; the jump ratio around the steal. */
static double
keys_steal_ratio(const uint32_t steal, float* const x)
{
  Player p;
  if (!player_start(&p, patch_keys, steal)) {
    return 0.0;
  }
  for (int i = 0; i < 3; ++i) {
    note(&p, chord1[i], 100);
  }
  play(&p, x, HOLD, 256);
  for (int i = 0; i < 3; ++i) {
    note(&p, chord2[i], 60); /* no voice free: each steals one */
  }
  play(&p, x + HOLD, AFTER, 256);
  ch_graph_free(p.graph);
  return jump_ratio(x, HOLD);
}

static void
test_steal_fade_does_not_click(void)
{
  static float cut[HOLD + AFTER];
  static float fade[HOLD + AFTER];
  const double cut_ratio  = keys_steal_ratio(0u, cut);
  const double fade_ratio = keys_steal_ratio(STEAL, fade);
  printf("  largest jump over the steady one: cut %.1f, fade %.2f\n", cut_ratio,
         fade_ratio);
  CHECK_MSG(cut_ratio > 5.0, "a hard steal jumps only %.2f times", cut_ratio);
  CHECK_MSG(fade_ratio < 1.5, "the steal's fade jumps %.2f times", fade_ratio);
  /* After the fade the new chord sounds and the old one is gone. */
  const float* const after = fade + HOLD + STEAL + 2400u;
  for (int i = 0; i < 3; ++i) {
    const double now = dsp_tone_level(after, 9600u, hz(chord2[i]), RATE);
    const double was = dsp_tone_level(after, 9600u, hz(chord1[i]), RATE);
    CHECK_MSG(now > 0.02 && was < now / 30.0, "note %u: %g, stolen %u: %g",
              chord2[i], now, chord1[i], was);
  }
}

/* Each voice outputs its velocity: the stolen one's falls along a raised
   cosine over exactly STEAL frames, and the new note's is there at frame
   STEAL, whatever the block length. */
static void
test_steal_fade_shape_and_frame(void)
{
  static const uint32_t blocks[] = { 1u, 17u, 64u, 4096u };
  static float          first[1024];
  for (size_t b = 0; b < CH_COUNT(blocks); ++b) {
    Player p;
    if (!player_start(&p, patch_velocity, STEAL)) {
      return;
    }
    static float x[1024];
    note(&p, 60, 127);
    note(&p, 64, 127);
    play(&p, x, 512, blocks[b]);
    CHECK_NEAR(x[511], 2.0, 1e-6);
    note(&p, 67, 64); /* steals 60's voice */
    CHECK(ch_voicing_due(&p.voicing) == STEAL);
    play(&p, x, 1024, blocks[b]);
    for (uint32_t k = 0; k < STEAL; ++k) {
      const double gain =
        0.5 - 0.5 * cos(M_PI * (double)(STEAL - k) / (double)(STEAL + 1u));
      CHECK_NEAR(x[k], 1.0 + gain, 1e-5);
    }
    CHECK_NEAR(x[STEAL], 1.0 + 64.0 / 127.0, 1e-6);
    CHECK_NEAR(x[1023], 1.0 + 64.0 / 127.0, 1e-6);
    if (b == 0) {
      memcpy(first, x, sizeof(first));
    } else {
      CHECK_MSG(!memcmp(first, x, sizeof(first)),
                "blocks of %u differ from blocks of 1", blocks[b]);
    }
    ch_graph_free(p.graph);
  }
}

/* A note whose key rises during the fade sounds as long as it was held,
   starting late; the voice restarts fresh (its gate drops for the frame
   the new note cuts in, as any retrigger). */
static void
test_steal_keeps_note_length(Player* const p)
{
  static float x[1024];
  hold_two(p, x, 512);
  note(p, 67, 100);
  play(p, x, 50, 64);
  note_off(p, 67); /* held 50 frames */
  play(p, x + 50, 974, 64);
  CHECK(x[STEAL - 1u] > 1.0f && x[STEAL - 1u] < 1.001f); /* faded */
  CHECK(x[STEAL] == 1.0f);                               /* the cut frame */
  for (uint32_t k = STEAL + 1u; k < STEAL + 50u; ++k) {
    CHECK_MSG(x[k] == 2.0f, "frame %u: %g", k, x[k]);
  }
  CHECK(x[STEAL + 50u] == 1.0f && x[1023] == 1.0f);
}

/* The voice restarts from the fresh state of its modules: the new note's
   envelope attacks from 0, not from where the stolen note's had got to. */
static void
test_steal_restarts_fresh(Player* const p)
{
  static float x[4800];
  hold_two(p, x, 4800);
  CHECK_NEAR(x[4799], 1.0, 1e-4); /* both at the sustain */
  note(p, 67, 100);
  play(p, x, 4800, 64);
  CHECK_NEAR(x[STEAL - 1u], 0.5, 1e-4); /* faded out */
  CHECK_MSG(x[STEAL + 1u] < 0.51f, "the envelope went on from %g",
            x[STEAL + 1u] - 0.5f);
  CHECK_NEAR(x[STEAL + 480u], 1.5, 1e-3); /* the attack's peak, 10 ms on */
}

/* A chord change that releases its keys first finds free voices: nothing
   is stolen, nothing waits (the retrigger of test_retrigger). */
static void
test_released_voice_is_not_stolen(Player* const p)
{
  static float x[512];
  hold_two(p, x, 512);
  note_off(p, 60);
  note(p, 67, 100); /* the same frame */
  CHECK(ch_voicing_due(&p->voicing) == UINT32_MAX);
  play(p, x, 512, 64);
  CHECK(x[0] == 1.0f && x[1] == 2.0f); /* the gate drops for one frame */
}

/* Through the plugin: the steal fades (no click: with the fade off, this
   steal jumps 9 times the steady step, as the engine's above), the new
   chord sounds, and the fade ends on its frame inside a host block. */
static void
test_plugin_steal(void)
{
  const HostOptions options = { .worker  = HOST_WORKER_THREADED,
                                .rtcheck = true };
  Host* const       h       = host_new_with(&options);
  CHECK(h);
  if (!h) {
    return;
  }
  CHECK(load_commit(h, patch_keys, 1));
  host_run_frames(h, 4800, 256); /* past the commit's crossfade */
  size_t at = host_captured(h);
  for (int i = 0; i < 3; ++i) {
    host_note_on(h, 0, chord1[i], 100);
  }
  host_run_frames(h, HOLD, 256); /* 0.3 s: whole blocks */
  const size_t steal = host_captured(h);
  CHECK(steal == at + HOLD);
  for (int i = 0; i < 3; ++i) {
    host_note_on(h, 0, chord2[i], 60); /* as in the engine's test */
  }
  host_run_frames(h, AFTER, 256);
  const double ratio = jump_ratio(host_left(h), steal);
  printf("  through the plugin: largest jump over the steady one %.2f\n",
         ratio);
  CHECK_MSG(ratio < 1.5, "the steal's fade jumps %.2f times", ratio);
  const float* const after = host_left(h) + steal + STEAL + 2400u;
  for (int i = 0; i < 3; ++i) {
    CHECK(dsp_tone_level(after, 9600u, hz(chord2[i]), RATE) > 0.02);
  }

  /* The fade's end, inside a block of 256 frames. */
  CHECK(load_commit(h, patch_velocity, 3));
  host_midi(h, 0, (const uint8_t[]){ 0xB0, 123, 0 }, 3); /* all notes off */
  host_note_on(h, 0, 60, 40);
  host_note_on(h, 0, 64, 40);
  host_run_frames(h, 4800, 256);
  at = host_captured(h) + 100u;
  host_note_on(h, 100, 67, 20);
  host_run_frames(h, 1024, 256);
  const float* const x = host_left(h);
  CHECK_NEAR(x[at - 1u], 80.0 / 127.0, 1e-6);
  CHECK(x[at + STEAL - 1u] > 40.0f / 127.0f &&
        x[at + STEAL - 1u] < 40.0f / 127.0f + 1e-4f);
  CHECK_NEAR(x[at + STEAL], 60.0 / 127.0, 1e-6);
  CHECK(host_rt_checked(h) > 0u);
  CHECK_MSG(!host_rt_violations(h), "%s", host_rt_first(h));
  host_free(h);
}

int
main(void)
{
  RUN(test_steal_fade_does_not_click);
  RUN(test_steal_fade_shape_and_frame);
  RUN_PLAYER(test_steal_keeps_note_length, patch_gate);
  RUN_PLAYER(test_steal_restarts_fresh, patch_envelope);
  RUN_PLAYER(test_released_voice_is_not_stolen, patch_gate);
  RUN(test_plugin_steal);
  return CHECK_EXIT();
}
