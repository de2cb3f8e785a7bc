/* The foundation's acceptance test: saw -> filter -> VCA (ADSR) -> output
   renders the expected sound. */
#include "../src/graph.h"
#include "../src/model.h"
#include "check.h"
#include "dsp.h"

#define RATE 48000.0f
#define C4   261.6255653

static const ChHostInputs no_host;

/* saw -> svf (lp) -> vca <- adsr, vca -> output. */
static ChModel*
subtractive_voice(float cutoff)
{
  static const char* const modules[][2] = {
    { "osc", "osc" }, { "filter", "svf" }, { "env", "adsr" },
    { "amp", "vca" }, { "out", "output" },
  };
  static const struct {
    const char* module;
    const char* param;
    float       value;
  } params[] = {
    { "osc", "shape", 1.0f }, /* saw */
    { "filter", "res", 0.0f },   { "env", "attack", 0.01f },
    { "env", "decay", 0.1f },    { "env", "sustain", 0.5f },
    { "env", "release", 0.05f },
  };
  static const char* const wires[][2] = {
    { "osc:out", "filter:in" },
    { "filter:lp", "amp:in" },
    { "env:out", "amp:cv" },
    { "amp:out", "out:mono" },
  };
  ChModel* const model = ch_model_new();
  ChError        err;
  for (size_t i = 0; i < CH_COUNT(modules); ++i) {
    CHECK_MSG(!ch_model_create(model, modules[i][0], modules[i][1], &err), "%s",
              err.msg);
  }
  for (size_t i = 0; i < CH_COUNT(params); ++i) {
    CHECK_MSG(!ch_model_set(model, params[i].module, params[i].param,
                            params[i].value, &err),
              "%s", err.msg);
  }
  CHECK(!ch_model_set(model, "filter", "cutoff", cutoff, &err));
  for (size_t i = 0; i < CH_COUNT(wires); ++i) {
    CHECK_MSG(!ch_model_connect(model, wires[i][0], wires[i][1], &err), "%s",
              err.msg);
  }
  return model;
}

enum { SECOND = 48000 };

typedef struct {
  float before[SECOND / 10];  /* gate off */
  float attack[SECOND / 100]; /* the first 10 ms of the note */
  float held[SECOND];         /* after the decay */
  float after[SECOND / 5];    /* well after release */
  float right[SECOND];
} Take;

/* Render silence, then a gated note, then the release. */
static void
play(float cutoff, Take* const take)
{
  ChModel* const model = subtractive_voice(cutoff);
  ChGraph*       graph = NULL;
  ChError        err;
  CHECK_MSG(!ch_graph_new(model, NULL, RATE, &graph, &err), "%s", err.msg);
  const uint32_t env  = (uint32_t)ch_graph_find(graph, "env");
  const uint32_t gate = (uint32_t)ch_graph_find_param(graph, env, "gate");
  static float   skip[SECOND];

  ch_graph_run(graph, &no_host, take->before, take->right, SECOND / 10);
  CHECK(!ch_graph_set(graph, env, gate, 1.0f));
  ch_graph_run(graph, &no_host, take->attack, take->right, SECOND / 100);
  ch_graph_run(graph, &no_host, skip, take->right, SECOND / 2);
  ch_graph_run(graph, &no_host, take->held, take->right, SECOND);
  CHECK(!ch_graph_set(graph, env, gate, 0.0f));
  ch_graph_run(graph, &no_host, skip, take->right, SECOND / 2);
  ch_graph_run(graph, &no_host, take->after, take->right, SECOND / 5);
  ch_graph_free(graph);
  ch_model_free(model);
}

static void
test_filtered_saw_note(void)
{
  static Take dark;
  static Take bright;
  play(500.0f, &dark);
  play(20000.0f, &bright);

  /* Silent until the gate, silent again after the release. */
  CHECK(dsp_peak(dark.before, CH_COUNT(dark.before)) < 1e-6);
  CHECK(dsp_peak(dark.after, CH_COUNT(dark.after)) < 1e-3);

  /* The attack rises: the first millisecond is quieter than the tenth. */
  CHECK(dsp_peak(dark.attack, 48) < dsp_peak(dark.attack + 432, 48));

  /* The held note is C4 at the sustain level. */
  const size_t n = CH_COUNT(dark.held);
  CHECK_NEAR(dsp_zero_cross_freq(bright.held, n, RATE), C4, 0.5);
  const double fundamental = dsp_tone_level(bright.held, n, C4, RATE);
  /* A saw's fundamental is 2/pi of its peak; sustain 0.5. */
  CHECK_NEAR(fundamental, 0.5 * 2.0 / M_PI, 0.03);

  /* The 8th harmonic of an open saw is 1/8 of the fundamental (-18 dB);
     a 12 dB/octave low-pass at 500 Hz takes about 24 dB more off it. */
  const double open_h8 =
    dsp_db(dsp_tone_level(bright.held, n, 8 * C4, RATE) / fundamental);
  CHECK_NEAR(open_h8, -18.06, 1.5);
  const double dark_fund = dsp_tone_level(dark.held, n, C4, RATE);
  const double dark_h8 =
    dsp_db(dsp_tone_level(dark.held, n, 8 * C4, RATE) / dark_fund);
  CHECK_MSG(dark_h8 < open_h8 - 20.0, "dark h8 %.1f dB, open %.1f dB", dark_h8,
            open_h8);
}

int
main(void)
{
  RUN(test_filtered_saw_note);
  return CHECK_EXIT();
}
