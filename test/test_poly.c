/* Polyphony in the compiler: what is copied per voice, how voices meet
   shared modules, and that each voice plays its own note. */
#include "../src/graph.h"
#include "../src/model.h"
#include "check.h"
#include "dsp.h"
#include "graphs.h"

#define RATE 48000.0f

static ChGraph*
compile(const ChModel* const model)
{
  ChGraph* graph = NULL;
  ChError  err;
  CHECK_MSG(!ch_graph_new(model, NULL, RATE, &graph, &err), "%s", err.msg);
  return graph;
}

static uint32_t
instances(const ChGraph* graph, const char* name)
{
  const int m = ch_graph_find(graph, name);
  return m < 0 ? 0u : ch_graph_n_instances(graph, (uint32_t)m);
}

/* voice -> osc -> vca <- adsr <- voice; a shared LFO into every voice's
   pitch; vca -> output (shared: voices sum). */
static ChModel*
poly_patch(uint32_t voices)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  CHECK(!ch_model_set_polyphony(model, voices, &err));
  /* the output's lowcut 0: it sums DC */
  model_edit(model, "create voice voice\n"
                    "create lfo osc\n"
                    "create depth vca\n"
                    "create osc osc\n"
                    "create env adsr\n"
                    "create amp vca\n"
                    "create out output\n"
                    "set out lowcut 0\n"
                    "set osc shape 0\n"
                    "set lfo pitch -6\n"
                    "set env attack 0.001\n"
                    "set env sustain 1\n"
                    "connect voice:pitch osc:pitch\n"
                    "connect lfo:out depth:in\n"
                    "connect depth:out osc:pitch\n"
                    "connect voice:gate env:gate\n"
                    "connect osc:out amp:in\n"
                    "connect env:out amp:cv\n"
                    "connect amp:out out:mono\n");
  return model;
}

static void
test_what_is_per_voice(void)
{
  ChModel* const model = poly_patch(4);
  ChGraph* const graph = compile(model);
  CHECK(ch_graph_polyphony(graph) == 4u);
  CHECK(instances(graph, "voice") == 4u);
  CHECK(instances(graph, "osc") == 4u);
  CHECK(instances(graph, "env") == 4u);
  CHECK(instances(graph, "amp") == 4u);
  CHECK(instances(graph, "lfo") == 1u); /* fed by no voice */
  CHECK(instances(graph, "depth") == 1u);
  CHECK(instances(graph, "out") == 1u); /* global: voices sum into it */
  ch_graph_free(graph);

  /* Polyphony 1 copies nothing. */
  CHECK(!ch_model_set_polyphony(model, 1, NULL));
  ChGraph* const mono = compile(model);
  CHECK(instances(mono, "osc") == 1u && ch_graph_polyphony(mono) == 1u);
  ch_graph_free(mono);

  ChError err;
  CHECK(ch_model_set_polyphony(model, 17, &err) == CH_ERR_RANGE);
  CHECK_STR_CONTAINS(err.msg, "polyphony 17 is out of range [1, 16]");
  CHECK(ch_model_set_polyphony(model, 0, &err) == CH_ERR_RANGE);
  ch_model_free(model);
}

static void
test_each_voice_plays_its_note(void)
{
  ChModel* const model = poly_patch(3);
  CHECK(!ch_model_set(model, "depth", "gain", 0.0f, NULL)); /* no vibrato */
  ChGraph* const graph = compile(model);
  ChHostInputs   host;
  memset(&host, 0, sizeof(host));
  static const float pitches[3] = { 0.0f, 7.0f / 12.0f, 1.0f };
  for (int v = 0; v < 3; ++v) {
    host.voice[v].pitch   = pitches[v];
    host.voice[v].gate    = 1.0f;
    host.voice[v].trigger = 1;
  }
  enum { N = 48000 };
  static float left[N];
  static float right[N];
  ch_graph_run(graph, &host, left, right, N);
  const float* const tail = left + N / 2;
  for (int v = 0; v < 3; ++v) {
    const double f = 261.6255653 * pow(2.0, pitches[v]);
    CHECK_NEAR(dsp_tone_level(tail, N / 2, f, RATE), 1.0, 0.02);
  }
  CHECK(dsp_tone_level(tail, N / 2, 261.6255653 * 1.5 * 1.2, RATE) < 0.01);

  /* Releasing voice 1 removes its note only. */
  host.voice[1].gate = 0.0f;
  ch_graph_run(graph, &host, left, right, N);
  CHECK(dsp_tone_level(tail, N / 2, 261.6255653 * pow(2.0, 7.0 / 12.0), RATE) <
        0.01);
  CHECK_NEAR(dsp_tone_level(tail, N / 2, 261.6255653 * 2.0, RATE), 1.0, 0.02);
  ch_graph_free(graph);
  ch_model_free(model);
}

static void
test_voices_sum_into_shared_modules(void)
{
  /* voice:velocity -> vca (gain 1) -> mixer (shared? no: fed by a voice,
     so per voice) -> output (global): the output sums every voice. */
  ChModel* const model = ch_model_new();
  CHECK(!ch_model_set_polyphony(model, 4, NULL));
  model_edit(model, "create voice voice\n"
                    "create amp vca\n"
                    "create out output\n"
                    "set out lowcut 0\n" /* sums DC */
                    "set amp gain 1\n"
                    "connect voice:velocity amp:in\n"
                    "connect amp:out out:left\n"
                    "connect voice:gate out:right\n");
  ChGraph* const graph = compile(model);
  ChHostInputs   host;
  memset(&host, 0, sizeof(host));
  host.voice[0].velocity = 0.125f;
  host.voice[1].velocity = 0.25f;
  host.voice[3].velocity = 0.5f;
  host.voice[0].gate     = 1.0f;
  host.voice[3].gate     = 1.0f;
  float left[64];
  float right[64];
  ch_graph_run(graph, &host, left, right, 64);
  CHECK_NEAR(left[63], 0.875, 1e-6);
  CHECK_NEAR(right[63], 2.0, 1e-6);
  ch_graph_free(graph);
  ch_model_free(model);
}

static void
test_poly_block_lengths_and_carry(void)
{
  ChModel* const model = poly_patch(4);
  ChHostInputs   host;
  memset(&host, 0, sizeof(host));
  for (int v = 0; v < 4; ++v) {
    host.voice[v].pitch = 0.1f * (float)v;
    host.voice[v].gate  = v != 2;
  }
  enum { TOTAL = 5000 };
  CHECK(graph_same_in_blocks(model, &host, RATE, TOTAL, 17, NULL));

  /* A swap to the same patch with more voices carries the four playing
     voices sample for sample. */
  static float   ref_l[TOTAL];
  static float   ref_r[TOTAL];
  float          l[256];
  float          r[256];
  ChGraph* const ref = compile(model);
  ch_graph_run(ref, &host, ref_l, ref_r, TOTAL);
  CHECK(!ch_model_set_polyphony(model, 6, NULL));
  ChGraph* const wider = compile(model);
  ch_graph_carry(wider, ref);
  ch_graph_run(ref, &host, ref_l, ref_r, 256);
  ch_graph_run(wider, &host, l, r, 256);
  CHECK(!memcmp(l, ref_l, 256 * sizeof(float)));
  ch_graph_free(wider);
  ch_graph_free(ref);
  ch_model_free(model);
}

/* Program 0's voice path at 8 voices (two whole groups of four lanes):
   at frame `t`, the notes start one after another, some restart, the bend
   moves, and they are released.  Returns whether `t` moves an input. */
static bool
chord_at(ChHostInputs* const h, const uint32_t t)
{
  bool moved = t == 4000u;
  for (uint32_t v = 0; v < 8u; ++v) {
    ChVoiceInputs* const x = &h->voice[v];
    if (t == 500u + 7u * v) {
      x->pitch = 0.1f * (float)v;
      x->gate  = 1.0f;
      ++x->trigger;
      moved = true;
    }
    if (t == 6000u && v % 3u == 0u) {
      x->pitch += 0.25f;
      ++x->trigger;
      moved = true;
    }
    if (t == 9000u + 11u * v) {
      x->gate = 0.0f;
      ++x->release;
      moved = true;
    }
  }
  h->bend = t >= 4000u ? 0.3f : h->bend;
  return moved;
}

enum { CHORD_FRAMES = 12000 };

/* The chord rendered in blocks whose lengths cycle through `lens`, each
   split where the inputs move (as the plugin splits at events), with the
   writes counted (ChHostInputs.changes) or not. */
static void
chord_render(const ChModel* const model,
             const uint32_t*      lens,
             const size_t         n_lens,
             const bool           counted,
             float* const         out)
{
  static float   right[CHORD_FRAMES];
  ChGraph* const graph = compile(model);
  ChHostInputs   h;
  memset(&h, 0, sizeof(h));
  h.changes     = counted;
  uint32_t from = 0;
  for (uint32_t t = 0, i = 0, end = 0; t < CHORD_FRAMES; ++t) {
    if (t == end) {
      end = t + lens[i++ % n_lens];
    }
    if (chord_at(&h, t) && counted) {
      ++h.changes;
    }
    const uint32_t next = t + 1u;
    ChHostInputs   peek = h;
    if (next == end || next == CHORD_FRAMES || chord_at(&peek, next)) {
      ch_graph_run(graph, &h, out + from, right + from, next - from);
      from = next;
    }
  }
  ch_graph_free(graph);
}

/* Two whole groups of lanes, buffers side by side, whose layout the graph
   changes as blocks turn from one frame to more: the same bits whatever
   the block lengths, whether the host counts its writes or not. */
static void
test_full_groups_in_any_block_length(void)
{
  ChModel* const model = ch_model_new();
  CHECK(!ch_model_set_polyphony(model, 8, NULL));
  model_edit(model, "create voice voice\ncreate osc osc\ncreate f svf\n"
                    "create env adsr\ncreate amp vca\ncreate out output\n"
                    "set env attack 0.01\nset env decay 0.1\n"
                    "set env release 0.05\n"
                    "connect voice:pitch osc:pitch\nconnect osc:out f:in\n"
                    "connect f:lp amp:in\nconnect voice:gate env:gate\n"
                    "connect voice:trig env:trig\nconnect env:out amp:cv\n"
                    "connect amp:out out:mono\n");
  static const uint32_t whole[] = { 256 };
  static const uint32_t one[]   = { 1 };
  static const uint32_t mixed[] = { 1, 1, 1, 3, 1, 64, 1, 1, 17, 2, 1, 256 };
  static float          ref[CHORD_FRAMES];
  static float          got[CHORD_FRAMES];
  for (int counted = 0; counted < 2; ++counted) {
    chord_render(model, whole, 1, counted, ref);
    CHECK(dsp_peak(ref, CHORD_FRAMES) > 0.05);
    chord_render(model, one, 1, counted, got);
    CHECK_MSG(!memcmp(ref, got, sizeof(ref)), "block 1 (counted %d)", counted);
    chord_render(model, mixed, CH_COUNT(mixed), counted, got);
    CHECK_MSG(!memcmp(ref, got, sizeof(ref)), "mixed (counted %d)", counted);
  }
  ch_model_free(model);
}

int
main(void)
{
  RUN(test_what_is_per_voice);
  RUN(test_each_voice_plays_its_note);
  RUN(test_voices_sum_into_shared_modules);
  RUN(test_poly_block_lengths_and_carry);
  RUN(test_full_groups_in_any_block_length);
  return CHECK_EXIT();
}
