/* Notes that meet at one frame: a note-off and a note-on on the same frame
   (as any quantised DAW part sends them) must retrigger, at the frame
   level: the envelope sees its gate drop and restarts its attack. */
#include "../src/graph.h"
#include "../src/model.h"
#include "../src/voicing.h"
#include "check.h"
#include "dsp.h"

#define RATE 48000.0f

enum { HOLD = 4800, AFTER = 960 };

/* voice:gate -> adsr (gate only, sustain 0.5, 10 ms attack) -> out:mono,
   so the output is the envelope itself. */
static ChGraph*
envelope_patch(const uint32_t voices, const int legato)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ChGraph*       graph = NULL;
  CHECK(!ch_model_set_polyphony(model, voices, &err));
  CHECK(!ch_model_create(model, "voice", "voice", &err));
  CHECK(!ch_model_create(model, "env", "adsr", &err));
  CHECK(!ch_model_create(model, "out", "output", &err));
  CHECK(!ch_model_set(model, "voice", "legato", (float)legato, &err));
  CHECK(!ch_model_set(model, "out", "lowcut", 0.0f, &err)); /* pass the CV */
  CHECK(!ch_model_set(model, "env", "attack", 0.01f, &err));
  CHECK(!ch_model_set(model, "env", "decay", 0.01f, &err));
  CHECK(!ch_model_set(model, "env", "sustain", 0.5f, &err));
  CHECK(!ch_model_connect(model, "voice:gate", "env:gate", &err));
  CHECK(!ch_model_connect(model, "env:out", "out:mono", &err));
  CHECK_MSG(!ch_graph_new(model, NULL, RATE, &graph, &err), "%s", err.msg);
  ch_model_free(model);
  return graph;
}

/* What the tests play through: the voices, the MIDI voicing and the
   output (static: too large for the stack). */
static ChHostInputs host;
static ChVoicing    voicing;
static float        left[HOLD];
static float        right[HOLD];

static void
midi(const uint8_t status, const uint8_t key)
{
  const uint8_t msg[3] = { status, key, status == 0x90u ? 100u : 0u };
  CHECK(ch_voicing_midi(&voicing, msg, 3));
}

/* Plays `first`, holds it to the sustain, then sends note-off `first` and
   note-on `second` at one frame and renders what follows into `after`. */
static void
play_pair(const uint32_t voices,
          const int      legato,
          const uint8_t  first,
          const uint8_t  second,
          float* const   after)
{
  ChGraph* const graph = envelope_patch(voices, legato);
  if (!graph) {
    return;
  }
  ch_voicing_init(&voicing, &host);
  ch_voicing_set_voices(&voicing, voices);
  midi(0x90u, first);
  ch_graph_run(graph, &host, left, right, HOLD);
  CHECK_NEAR(left[HOLD - 1], 0.5, 1e-3); /* at the sustain */
  midi(0x80u, first);
  midi(0x90u, second); /* the same frame: no render between */
  ch_graph_run(graph, &host, after, right, AFTER);
  ch_graph_free(graph);
}

static void
check_restarts(const float* const after, const char* const what)
{
  /* The gate fell for one frame: the release starts (just below the
     sustain), then the attack climbs from there to the peak. */
  CHECK_MSG(after[0] < 0.5f, "%s: no release frame (%g)", what, after[0]);
  CHECK_MSG(after[1] > after[0], "%s: no attack after the drop", what);
  CHECK_MSG(dsp_peak(after, AFTER) > 0.99, "%s: attack never peaked (%g)", what,
            dsp_peak(after, AFTER));
}

static void
test_mono_same_frame_retriggers(void)
{
  static float after[AFTER];
  play_pair(1u, 0, 60u, 62u, after);
  check_restarts(after, "mono");
  /* legato means "while a key stays held"; here none did */
  play_pair(1u, 1, 60u, 62u, after);
  check_restarts(after, "mono legato");
  play_pair(1u, 1, 60u, 60u, after);
  check_restarts(after, "mono legato, same key");
}

static void
test_poly_same_key_retriggers(void)
{
  static float after[AFTER];
  play_pair(4u, 0, 60u, 60u, after); /* the same voice takes it again */
  check_restarts(after, "poly");
}

/* The control: a real legato overlap (the new key before the old one's
   note-off) does not restart the envelope. */
static void
test_legato_overlap_glides_on(void)
{
  ChGraph* const graph = envelope_patch(1u, 1);
  if (!graph) {
    return;
  }
  ch_voicing_init(&voicing, &host);
  midi(0x90u, 60u);
  ch_graph_run(graph, &host, left, right, HOLD);
  midi(0x90u, 62u);
  midi(0x80u, 60u);
  ch_graph_run(graph, &host, left, right, AFTER);
  CHECK_NEAR(dsp_peak(left, AFTER), 0.5, 1e-3);
  ch_graph_free(graph);
}

int
main(void)
{
  RUN(test_mono_same_frame_retriggers);
  RUN(test_poly_same_key_retriggers);
  RUN(test_legato_overlap_glides_on);
  return CHECK_EXIT();
}
