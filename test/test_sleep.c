/* Sleep never changes what is heard: every factory program, played the same
   MIDI with sleep on and off, gives the same output within -120 dBFS; and
   sleep does happen (silent voices, an idle graph that writes nothing). */
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

static void
render(ChGraph* const graph, Render* const r)
{
  ChHostInputs host;
  ChVoicing    voicing;
  memset(&host, 0, sizeof(host)); /* the macros too (voicing leaves them) */
  ch_voicing_init(&voicing, &host);
  ch_voicing_set_voices(&voicing, ch_graph_polyphony(graph));
  ch_voicing_set_steal(&voicing, (uint32_t)(CH_STEAL_SECONDS * RATE));
  uint32_t e = 0;
  for (uint32_t pos = 0; pos < FRAMES;) {
    for (; e < CH_COUNT(script) && script[e].frame <= pos; ++e) {
      ch_voicing_midi(&voicing, script[e].msg, 3);
    }
    /* blocks end where a stolen voice's fade does, as in the plugin */
    const uint32_t due = ch_voicing_due(&voicing);
    const uint32_t n   = BLOCK - pos % BLOCK < due ? BLOCK - pos % BLOCK : due;
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
compare_patch(const BankFile* const file)
{
  const char* const name = file->name;
  ChGraph* const    on   = bank_graph(file->path, RATE);
  ChGraph* const    off  = bank_graph(file->path, RATE);
  if (!on || !off) {
    ch_graph_free(on);
    ch_graph_free(off);
    return;
  }
  ch_graph_prime(on, 1024);
  ch_graph_prime(off, 1024);
  /* The same module states in both (noise kinds seed per instance), and
     so the same fresh states. */
  ch_graph_carry(off, on);
  ch_graph_rest(off);
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

/* The init patch, untouched: nothing runs, nothing is written. */
static void
test_idle_graph_writes_nothing(void)
{
  ChGraph* const graph = bank_graph(BANK_DIR "/00-init.ttl", RATE);
  if (!graph) {
    return;
  }
  ch_graph_prime(graph, 1024);
  ChHostInputs host;
  ChVoicing    voicing;
  memset(&host, 0, sizeof(host)); /* the macros too (voicing leaves them) */
  ch_voicing_init(&voicing, &host);
  float left[BLOCK];
  float right[BLOCK];
  /* The voicing's idle inputs differ from the priming ones: the voices
     wake, send out zeros for CH_MAX_BLOCK frames and fall silent. */
  for (uint32_t i = 0; i <= CH_MAX_BLOCK / BLOCK; ++i) {
    ch_graph_run(graph, &host, left, right, BLOCK);
  }
  left[3] = 1.0f;
  CHECK(!ch_graph_run(graph, &host, left, right, BLOCK));
  CHECK(left[3] == 0.0f);
  /* A note wakes one voice; after its release and tail, it sleeps. */
  const uint8_t on[3]  = { 0x90, 60, 100 };
  const uint8_t off[3] = { 0x80, 60, 0 };
  ch_voicing_midi(&voicing, on, 3);
  CHECK(ch_graph_run(graph, &host, left, right, BLOCK));
  CHECK(graph->silent == 0xfeu);
  ch_voicing_midi(&voicing, off, 3);
  bool wrote = true;
  for (uint32_t i = 0; i < 48000u / BLOCK; ++i) {
    wrote = ch_graph_run(graph, &host, left, right, BLOCK);
  }
  CHECK(!wrote);
  CHECK(graph->silent == 0xffu);
  ch_graph_free(graph);
}

int
main(void)
{
  RUN(test_sleep_is_inaudible);
  RUN(test_idle_graph_writes_nothing);
  return CHECK_EXIT();
}
