/* Sleep never changes what is heard: every factory program, played the same
   MIDI with sleep on and off, gives the same output within -120 dBFS; and
   sleep does happen (silent voices, an idle graph that writes nothing);
   the graph's short path for blocks that need no sleep bookkeeping gives
   the general path's samples. */
#include "../src/graph_impl.h"
#include "../src/voicing.h"
#include "bank.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define RATE  48000.0f
#define BLOCK 64u

typedef struct {
  uint32_t frame;
  uint8_t  msg[3];
} Event;

/* Chords, releases long enough for voices to fall silent, notes reusing
   silent voices, bend and wheel moves while nothing sounds, more keys
   held than any patch has voices (notes steal voices, which fade out
   first), a last note. */
static const Event script[] = {
  { 0, { 0x90, 48, 100 } },      { 0, { 0x90, 55, 90 } },
  { 0, { 0x90, 64, 80 } },       { 0, { 0x90, 72, 70 } },
  { 9600, { 0x80, 48, 0 } },     { 9600, { 0x80, 55, 0 } },
  { 9600, { 0x80, 64, 0 } },     { 9600, { 0x80, 72, 0 } },
  { 96000, { 0xe0, 0, 80 } },    { 100000, { 0xb0, 1, 64 } },
  { 110016, { 0x90, 60, 100 } }, { 110016, { 0x90, 67, 100 } },
  { 112000, { 0x90, 76, 60 } },  { 120000, { 0x80, 60, 0 } },
  { 125056, { 0x80, 67, 0 } },   { 126000, { 0x80, 76, 0 } },
  { 160000, { 0x90, 40, 100 } }, { 160064, { 0x90, 42, 100 } },
  { 160128, { 0x90, 44, 100 } }, { 160192, { 0x90, 46, 100 } },
  { 160256, { 0x90, 48, 100 } }, { 160320, { 0x90, 50, 100 } },
  { 160384, { 0x90, 52, 100 } }, { 160448, { 0x90, 54, 100 } },
  { 160512, { 0x90, 56, 100 } }, { 160576, { 0x90, 58, 100 } },
  { 160600, { 0x90, 60, 100 } }, { 180000, { 0xb0, 123, 0 } },
  { 220032, { 0x90, 50, 127 } }, { 225024, { 0x80, 50, 0 } },
};

#define FRAMES 672000u

typedef struct {
  float*   left;
  float*   right;
  uint32_t max_silent;  /* most voices silent at once */
  uint32_t idle_blocks; /* blocks in which nothing wrote the output */
} Render;

/* Whether frame `pos` of compare_steady's render is in a block of 1:
   the first chord's attack, the chord that steals every voice. */
static bool
short_block(const uint32_t pos)
{
  return pos < 4800u || (pos >= 160000u && pos < 176000u);
}

/* `frames` of the script in blocks of BLOCK (of 1 where short_block says,
   if `shorts`). */
static void
render_blocks(ChGraph* const graph,
              Render* const  r,
              const uint32_t frames,
              const bool     shorts)
{
  ChHostInputs host;
  ChVoicing    voicing;
  memset(&host, 0, sizeof(host)); /* the macros too (voicing leaves them) */
  ch_voicing_init(&voicing, &host);
  ch_voicing_set_voices(&voicing, ch_graph_polyphony(graph));
  ch_voicing_set_steal(&voicing, (uint32_t)(CH_STEAL_SECONDS * RATE));
  uint32_t e = 0;
  for (uint32_t pos = 0; pos < frames;) {
    for (; e < CH_COUNT(script) && script[e].frame <= pos; ++e) {
      ch_voicing_midi(&voicing, script[e].msg, 3);
    }
    /* blocks end where a stolen voice's fade does, as in the plugin */
    const uint32_t due   = ch_voicing_due(&voicing);
    const uint32_t block = shorts && short_block(pos) ? 1u : BLOCK;
    const uint32_t left =
      block - pos % block < frames - pos ? block - pos % block : frames - pos;
    const uint32_t n = left < due ? left : due;
    const bool     wrote =
      ch_graph_run(graph, &host, r->left + pos, r->right + pos, n);
    ch_voicing_advance(&voicing, n);
    pos += n;
    r->idle_blocks += !wrote;
    uint32_t silent = 0;
    for (uint32_t v = 0; v < graph->polyphony; ++v) {
      silent += graph->silent >> v & 1u;
    }
    r->max_silent = silent > r->max_silent ? silent : r->max_silent;
  }
}

static void
render(ChGraph* const graph, Render* const r)
{
  render_blocks(graph, r, FRAMES, false);
}

/* Two primed graphs of one patch file with the same module states (noise
   kinds seed per instance), and so the same fresh states; false (and
   none) if either cannot be built. */
static bool
twin_graphs(const BankFile* const file, ChGraph** const a, ChGraph** const b)
{
  *a = bank_graph(file->path, RATE);
  *b = bank_graph(file->path, RATE);
  if (!*a || !*b) {
    ch_graph_free(*a);
    ch_graph_free(*b);
    return false;
  }
  ch_graph_prime(*a, 1024);
  ch_graph_prime(*b, 1024);
  ch_graph_carry(*b, *a);
  ch_graph_rest(*b);
  return true;
}

static void
compare_patch(const BankFile* const file)
{
  const char* const name = file->name;
  ChGraph*          on   = NULL;
  ChGraph*          off  = NULL;
  if (!twin_graphs(file, &on, &off)) {
    return;
  }
  ch_graph_set_sleep(off, false);

  static float l_on[FRAMES], r_on[FRAMES], l_off[FRAMES], r_off[FRAMES];
  Render       a = { l_on, r_on, 0, 0 };
  Render       b = { l_off, r_off, 0, 0 };
  render(on, &a);
  render(off, &b);
  double diff = 0.0;
  double peak = 0.0;
  for (uint32_t i = 0; i < FRAMES; ++i) {
    diff = fmax(diff, fabs((double)l_on[i] - (double)l_off[i]));
    diff = fmax(diff, fabs((double)r_on[i] - (double)r_off[i]));
    peak = fmax(peak, fabs((double)l_off[i]));
  }
  CHECK_MSG(peak > 0.01, "%s: silent (peak %g)", name, peak);
  CHECK_MSG(diff < 1e-6, "%s: sleep changed the output by %.1f dBFS", name,
            20.0 * log10(diff));
  /* The same voices fall silent either way; only "on" skips them. */
  CHECK_MSG(a.max_silent == b.max_silent, "%s: %u vs %u silent voices", name,
            a.max_silent, b.max_silent);
  if (!strstr(name, "drone")) {
    CHECK_MSG(a.max_silent == ch_graph_polyphony(on),
              "%s: only %u of %u voices fell silent", name, a.max_silent,
              ch_graph_polyphony(on));
    /* after the last tail (effects included), nothing ran at all */
    CHECK_MSG(a.idle_blocks > 0, "%s: never idle", name);
  }
  CHECK(b.idle_blocks == 0);
  ch_graph_free(on);
  ch_graph_free(off);
}

static void
test_sleep_is_inaudible(void)
{
  CHECK(bank_each(compare_patch) >= 8);
}

/* Blocks in which every voice is awake and none released take a short
   path (graph.c's run_steady); a graph whose modules are timed always
   takes the general one.  Both must give the same samples, bit for bit,
   in blocks of 64 and of 1 (the fan-in in a register), as the same voices
   fall silent. */
static void
compare_steady(const BankFile* const file)
{
  ChGraph* plain = NULL;
  ChGraph* timed = NULL;
  if (!twin_graphs(file, &plain, &timed)) {
    return;
  }
  static uint64_t times[256];
  ch_graph_time(timed, times, 256u);
  CHECK(timed->times != NULL);
  enum { LENGTH = 240000 }; /* past the last note's start */
  static float l_a[LENGTH], r_a[LENGTH], l_b[LENGTH], r_b[LENGTH];
  Render       a = { l_a, r_a, 0, 0 };
  Render       b = { l_b, r_b, 0, 0 };
  render_blocks(plain, &a, LENGTH, true);
  render_blocks(timed, &b, LENGTH, true);
  size_t i = 0;
  while (i < LENGTH && !memcmp(&l_a[i], &l_b[i], sizeof(float)) &&
         !memcmp(&r_a[i], &r_b[i], sizeof(float))) {
    ++i;
  }
  CHECK_MSG(i == LENGTH, "%s: the steady path differs at frame %zu", file->name,
            i);
  CHECK(a.max_silent == b.max_silent);
  ch_graph_free(plain);
  ch_graph_free(timed);
}

static void
test_steady_blocks_are_general_ones(void)
{
  CHECK(bank_each(compare_steady) >= 8);
  /* the short path is there to take: the init patch has it */
  ChGraph* const graph = bank_graph(BANK_DIR "/00-init.ttl", RATE);
  CHECK(graph && graph->steady && graph->n_calls == 6u);
  ch_graph_free(graph);
}

/* The init patch, primed, played through a voicing (one voice, until
   told otherwise) from idle host inputs. */
typedef struct {
  ChGraph*     graph;
  ChHostInputs host;
  ChVoicing    voicing;
  float        left[BLOCK];
  float        right[BLOCK];
} InitPatch;

static bool
init_patch(InitPatch* const t)
{
  t->graph = bank_graph(BANK_DIR "/00-init.ttl", RATE);
  if (t->graph) {
    ch_graph_prime(t->graph, 1024);
  }
  /* the macros too (voicing leaves them) */
  memset(&t->host, 0, sizeof(t->host));
  ch_voicing_init(&t->voicing, &t->host);
  return t->graph != NULL;
}

/* A block of the init patch; whether it wrote the output. */
static bool
play(InitPatch* const t)
{
  return ch_graph_run(t->graph, &t->host, t->left, t->right, BLOCK);
}

/* The init patch, untouched: nothing runs, nothing is written. */
static void
test_idle_graph_writes_nothing(void)
{
  static InitPatch t;
  if (!init_patch(&t)) {
    return;
  }
  /* The voicing's idle inputs differ from the priming ones: the voices
     wake, send out zeros for CH_MAX_BLOCK frames and fall silent. */
  for (uint32_t i = 0; i <= CH_MAX_BLOCK / BLOCK; ++i) {
    play(&t);
  }
  t.left[3] = 1.0f;
  CHECK(!play(&t));
  CHECK(t.left[3] == 0.0f);
  /* A note wakes one voice; after its release and tail, it sleeps. */
  const uint8_t on[3]  = { 0x90, 60, 100 };
  const uint8_t off[3] = { 0x80, 60, 0 };
  ch_voicing_midi(&t.voicing, on, 3);
  CHECK(play(&t));
  CHECK(t.graph->silent == 0xfeu);
  ch_voicing_midi(&t.voicing, off, 3);
  bool wrote = true;
  for (uint32_t i = 0; i < 48000u / BLOCK; ++i) {
    wrote = play(&t);
  }
  CHECK(!wrote);
  CHECK(t.graph->silent == 0xffu);
  ch_graph_free(t.graph);
}

/* The shared host inputs (bend, wheel, macros) wake silent voices when
   they move, and only then: moved while no voice sleeps, they wake none
   of the voices that fall silent later. */
static void
test_shared_inputs_wake(void)
{
  static InitPatch t;
  if (!init_patch(&t)) {
    return;
  }
  ch_voicing_set_voices(&t.voicing, ch_graph_polyphony(t.graph));
  for (uint8_t k = 0; k < 8u; ++k) { /* every voice */
    const uint8_t on[3] = { 0x90, (uint8_t)(60u + k), 100 };
    ch_voicing_midi(&t.voicing, on, 3);
  }
  play(&t);
  CHECK(t.graph->silent == 0u);
  t.host.bend = 0.5f; /* nothing to wake */
  play(&t);
  const uint8_t all_off[3] = { 0xb0, 123, 0 };
  ch_voicing_midi(&t.voicing, all_off, 3);
  for (uint32_t i = 0; i < 48000u / BLOCK && t.graph->silent != 0xffu; ++i) {
    play(&t);
  }
  CHECK(t.graph->silent == 0xffu);
  play(&t);
  CHECK(t.graph->silent == 0xffu);
  t.host.macro[3] = 0.25f;
  play(&t);
  CHECK(t.graph->silent == 0u);
  ch_graph_free(t.graph);
}

int
main(void)
{
  RUN(test_sleep_is_inaudible);
  RUN(test_idle_graph_writes_nothing);
  RUN(test_steady_blocks_are_general_ones);
  RUN(test_shared_inputs_wake);
  return CHECK_EXIT();
}
