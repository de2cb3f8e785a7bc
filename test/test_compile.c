/* Tests of the compiler and runtime: cycles, schedule order, fan-in,
   buffer planning and block lengths. */
#include "../src/graph.h"
#include "../src/model.h"
#include "check.h"
#include "dsp.h"
#include "graphs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000.0f

static const ChHostInputs no_host;

/* An output module "out" whose DC blocker is off, so that constants pass
   and sums come out exact. */
static void
create_dc_output(ChModel* const model)
{
  CHECK(!ch_model_create(model, "out", "output", NULL));
  CHECK(!ch_model_set(model, "out", "lowcut", 0.0f, NULL));
}

static ChModel*
ring(const char* const* names, uint32_t n)
{
  ChModel* const model = ch_model_new();
  char           from[64];
  char           to[64];
  for (uint32_t i = 0; i < n; ++i) {
    CHECK(!ch_model_create(model, names[i], "mixer", NULL));
  }
  for (uint32_t i = 0; i < n; ++i) {
    snprintf(from, sizeof(from), "%s:out", names[i]);
    snprintf(to, sizeof(to), "%s:in1", names[(i + 1) % n]);
    CHECK(!ch_model_connect(model, from, to, NULL));
  }
  return model;
}

static void
test_cycle_named(void)
{
  static const char* const names[] = { "m1", "m2", "m3" };
  ChModel* const           model   = ring(names, 3);
  ChGraph*                 graph   = NULL;
  ChError                  err;
  CHECK(ch_graph_new(model, NULL, RATE, &graph, &err) == CH_ERR_CYCLE);
  CHECK(!graph);
  CHECK_STR_CONTAINS(err.msg, "cycle");
  /* The cycle is named in signal order, whichever member it starts at. */
  CHECK_MSG(strstr(err.msg, "m1 -> m2 -> m3 -> m1") ||
              strstr(err.msg, "m2 -> m3 -> m1 -> m2") ||
              strstr(err.msg, "m3 -> m1 -> m2 -> m3"),
            "message: %s", err.msg);
  /* It names the link that closes it, and the way to make a loop legal. */
  CHECK_MSG(strstr(err.msg, "(closed by the link m3:out -> m1:in1)") ||
              strstr(err.msg, "(closed by the link m1:out -> m2:in1)") ||
              strstr(err.msg, "(closed by the link m2:out -> m3:in1)"),
            "message: %s", err.msg);
  CHECK_STR_CONTAINS(err.msg, "put a 'feedback' module in the loop");
  uint32_t link = 99;
  CHECK(ch_graph_find_cycle(model, &link, &err) == CH_ERR_CYCLE);
  CHECK(link < 3);

  /* However long the cycle, the advice is not cut off. */
  static const char* const long_names[] = {
    "a_rather_long_module_name_number_one_xxxxxxxxx",
    "a_rather_long_module_name_number_two_xxxxxxxxx",
    "a_rather_long_module_name_number_three_xxxxxxx",
    "a_rather_long_module_name_number_four_xxxxxxxx",
    "a_rather_long_module_name_number_five_xxxxxxxx",
    "a_rather_long_module_name_number_six_xxxxxxxxx",
  };
  ChModel* const long_ring = ring(long_names, 6);
  CHECK(ch_graph_new(long_ring, NULL, RATE, &graph, &err) == CH_ERR_CYCLE);
  CHECK_STR_CONTAINS(err.msg, "(it delays by 256 samples)");
  ch_model_free(long_ring);

  /* Breaking one link makes it compile. */
  CHECK(!ch_model_disconnect(model, "m3:out", "m1:in1", NULL));
  CHECK(!ch_graph_new(model, NULL, RATE, &graph, &err));
  ch_graph_free(graph);
  ch_model_free(model);
}

/* A commit refuses what could not be heard: no modules, no output. */
static void
test_check_refuses_unplayable(void)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ChGraph*       graph = NULL;
  CHECK(ch_graph_check(model, &err) == CH_ERR_BAD_PATCH);
  CHECK_STR_CONTAINS(err.msg, "the patch is empty: it has no modules");
  CHECK(!ch_graph_new(model, NULL, RATE, &graph, &err)); /* still compiles */
  ch_graph_free(graph);
  CHECK(!ch_model_create(model, "osc", "osc", NULL));
  CHECK(ch_graph_check(model, &err) == CH_ERR_BAD_PATCH);
  CHECK_STR_CONTAINS(err.msg, "the patch has no 'output' module");
  CHECK(!ch_model_create(model, "out", "output", NULL));
  CHECK(!ch_model_connect(model, "osc:out", "out:mono", NULL));
  CHECK(!ch_graph_check(model, &err));
  CHECK(!ch_model_connect(model, "osc:out", "osc:fm", NULL));
  CHECK(ch_graph_check(model, &err) == CH_ERR_CYCLE);
  CHECK_STR_CONTAINS(err.msg, "osc -> osc (closed by the link osc:out -> "
                              "osc:fm)");
  ch_model_free(model);
}

static void
test_cycle_names_only_members(void)
{
  ChModel* const model = model_from("create src osc\n"
                                    "create a mixer\n"
                                    "create b vca\n"
                                    "create out output\n"
                                    "set out lowcut 0\n"
                                    "connect src:out a:in1\n"
                                    "connect a:out b:in\n"
                                    "connect b:out a:in2\n"
                                    "connect b:out out:mono\n");
  ChError        err;
  ChGraph*       graph = NULL;
  CHECK(ch_graph_new(model, NULL, RATE, &graph, &err) == CH_ERR_CYCLE);
  CHECK_MSG(strstr(err.msg, "a -> b -> a") || strstr(err.msg, "b -> a -> b"),
            "message: %s", err.msg);
  /* The cycle itself, before the closing link is named */
  char* const closed = strstr(err.msg, " (closed by");
  CHECK(closed);
  if (closed) {
    *closed = '\0';
  }
  CHECK(!strstr(err.msg, "src") && !strstr(err.msg, "out ->"));

  ChModel* const self = ch_model_new();
  CHECK(!ch_model_create(self, "loop", "mixer", NULL));
  CHECK(!ch_model_connect(self, "loop:out", "loop:in3", NULL));
  CHECK(ch_graph_new(self, NULL, RATE, &graph, &err) == CH_ERR_CYCLE);
  CHECK_STR_CONTAINS(err.msg, "loop -> loop");
  ch_model_free(self);
  ch_model_free(model);
}

/* Every link must run from an earlier module to a later one. */
static void
check_order(const ChModel* const model, const ChGraph* const graph)
{
  for (uint32_t l = 0; l < ch_model_n_links(model); ++l) {
    const ChLink* const link = ch_model_link(model, l);
    const int           from =
      ch_graph_find(graph, ch_model_module_name(model, link->from_module));
    const int to =
      ch_graph_find(graph, ch_model_module_name(model, link->to_module));
    CHECK(from >= 0 && to >= 0 && from < to);
  }
}

static void
test_schedule_order(void)
{
  /* Created in reverse signal order, with a diamond in the middle. */
  ChModel* const model = model_from("create out output\n"
                                    "set out lowcut 0\n"
                                    "create mix mixer\n"
                                    "create left vca\n"
                                    "create right vca\n"
                                    "create osc osc\n"
                                    "create pitch const\n"
                                    "connect mix:out out:mono\n"
                                    "connect left:out mix:in1\n"
                                    "connect right:out mix:in2\n"
                                    "connect osc:out left:in\n"
                                    "connect osc:out right:in\n"
                                    "connect pitch:out osc:pitch\n");
  ChGraph*       graph = NULL;
  ChError        err;
  CHECK(!ch_graph_new(model, NULL, RATE, &graph, &err));
  CHECK(ch_graph_n_modules(graph) == 6);
  check_order(model, graph);
  CHECK(!strcmp(ch_graph_module_name(graph, 0), "pitch"));
  CHECK(!strcmp(ch_graph_module_name(graph, 5), "out"));
  ch_graph_free(graph);

  /* A random acyclic patch: links only go from lower to higher numbers. */
  srand(1234);
  ChModel* const random = ch_model_new();
  char           name[32];
  char           from[48];
  char           to[48];
  for (int i = 0; i < 60; ++i) {
    snprintf(name, sizeof(name), "n%d", 59 - i); /* reverse creation */
    CHECK(!ch_model_create(random, name, "mixer", NULL));
  }
  for (int k = 0; k < 150; ++k) {
    const int a = rand() % 59;
    const int b = a + 1 + rand() % (59 - a);
    snprintf(from, sizeof(from), "n%d:out", a);
    snprintf(to, sizeof(to), "n%d:in%d", b, 1 + rand() % 4);
    ch_model_connect(random, from, to, NULL); /* duplicates are refused */
  }
  CHECK(!ch_graph_new(random, NULL, RATE, &graph, &err));
  check_order(random, graph);
  ch_graph_free(graph);
  ch_model_free(random);
  ch_model_free(model);
}

static ChGraph*
compile(const ChModel* const model)
{
  ChGraph*       graph = NULL;
  ChError        err;
  const ChStatus st = ch_graph_new(model, NULL, RATE, &graph, &err);
  CHECK_MSG(!st, "%s", err.msg);
  return graph;
}

/* `model`, compiled afresh, run once for `n` frames from its start. */
static void
render(const ChModel* const model, float* left, float* right, uint32_t n)
{
  ChGraph* const graph = compile(model);
  if (graph) {
    ch_graph_run(graph, &no_host, left, right, n);
  }
  ch_graph_free(graph);
}

static void
test_fan_in_sums(void)
{
  ChModel* const model = model_from("create a const\n"
                                    "create b const\n"
                                    "create c const\n"
                                    "create out output\n"
                                    "set out lowcut 0\n"
                                    "set a value 0.125\n"
                                    "set b value 0.25\n"
                                    "set c value -0.5\n"
                                    "connect a:out out:left\n"
                                    "connect b:out out:left\n"
                                    "connect a:out out:right\n"
                                    "connect b:out out:right\n"
                                    "connect c:out out:right\n");
  float          left[100];
  float          right[100];
  render(model, left, right, 100);
  CHECK_NEAR(left[0], 0.375, 1e-6);
  CHECK_NEAR(left[99], 0.375, 1e-6);
  CHECK_NEAR(right[50], -0.125, 1e-6);
  ch_model_free(model);
}

static void
test_unconnected_inputs_are_zero(void)
{
  ChModel* const model = model_from("create k const\n"
                                    "create amp vca\n"
                                    "create out output\n"
                                    "set out lowcut 0\n"
                                    "set k value 0.5\n"
                                    "set amp gain 1\n"
                                    "connect k:out amp:in\n"
                                    "connect amp:out out:left\n");
  float          left[64];
  float          right[64];
  render(model, left, right, 64);
  CHECK_NEAR(left[63], 0.5, 1e-6); /* cv unconnected: gain alone */
  CHECK_NEAR(right[63], 0.0, 0.0); /* nothing into the right channel */
  ch_model_free(model);
}

/* A chain of `n` VCAs after one constant. */
static ChModel*
chain(uint32_t n)
{
  ChModel* const model = ch_model_new();
  char           name[32];
  char           from[48];
  char           to[48];
  CHECK(!ch_model_create(model, "src", "const", NULL));
  CHECK(!ch_model_set(model, "src", "value", 0.5f, NULL));
  snprintf(from, sizeof(from), "src:out");
  for (uint32_t i = 0; i < n; ++i) {
    snprintf(name, sizeof(name), "v%u", i);
    CHECK(!ch_model_create(model, name, "vca", NULL));
    CHECK(!ch_model_set(model, name, "gain", 1.0f, NULL));
    snprintf(to, sizeof(to), "%s:in", name);
    CHECK(!ch_model_connect(model, from, to, NULL));
    snprintf(from, sizeof(from), "%s:out", name);
  }
  create_dc_output(model);
  CHECK(!ch_model_connect(model, from, "out:mono", NULL));
  return model;
}

static void
test_buffers_reused(void)
{
  ChModel* const short_model = chain(10);
  ChModel* const long_model  = chain(500);
  ChGraph* const short_graph = compile(short_model);
  ChGraph* const long_graph  = compile(long_model);
  /* A chain needs two buffers however long it is (each vca's outputs are
     taken while its input is still live). */
  CHECK(ch_graph_n_buffers(short_graph) == 2);
  CHECK(ch_graph_n_buffers(long_graph) == 2);
  float left[CH_MAX_BLOCK];
  float right[CH_MAX_BLOCK];
  ch_graph_run(long_graph, &no_host, left, right, CH_MAX_BLOCK);
  CHECK_NEAR(left[CH_MAX_BLOCK - 1], 0.5, 1e-5);
  CHECK_NEAR(right[0], 0.5, 1e-5);
  /* Memory grows with module state, not with a buffer per module. */
  const double per_module =
    (double)(ch_graph_memory(long_graph) - ch_graph_memory(short_graph)) /
    490.0;
  CHECK_MSG(per_module < (double)(CH_MAX_BLOCK * sizeof(float)),
            "%.0f bytes per added module", per_module);

  /* A wide fan needs as many buffers as signals live at once. */
  ChModel* const wide = ch_model_new();
  char           name[32];
  char           from[48];
  char           to[48];
  CHECK(!ch_model_create(wide, "mix", "mixer", NULL));
  for (int i = 0; i < 4; ++i) {
    snprintf(name, sizeof(name), "k%d", i);
    CHECK(!ch_model_create(wide, name, "const", NULL));
    snprintf(from, sizeof(from), "k%d:out", i);
    snprintf(to, sizeof(to), "mix:in%d", i + 1);
    CHECK(!ch_model_connect(wide, from, to, NULL));
  }
  ChGraph* const wide_graph = compile(wide);
  CHECK(ch_graph_n_buffers(wide_graph) == 5);
  ch_graph_free(wide_graph);
  ch_model_free(wide);
  ch_graph_free(short_graph);
  ch_graph_free(long_graph);
  ch_model_free(short_model);
  ch_model_free(long_model);
}

static void
test_any_block_length(void)
{
  ChModel* const model = model_from("create osc osc\n"
                                    "create f svf\n"
                                    "create out output\n"
                                    "set out lowcut 0\n"
                                    "set f cutoff 800\n"
                                    "connect osc:out f:in\n"
                                    "connect f:lp out:left\n"
                                    "connect f:hp out:right\n");

  static const uint32_t lengths[] = { 1, 17, 64, 4096 };
  double                rms       = 0.0;
  for (size_t k = 0; k < CH_COUNT(lengths); ++k) {
    CHECK_MSG(
      graph_same_in_blocks(model, &no_host, RATE, 9000, lengths[k], &rms),
      "block length %u differs", lengths[k]);
  }
  CHECK(rms > 0.05);
  ch_model_free(model);
}

static void
test_set_and_find(void)
{
  ChModel* const model = chain(3);
  ChGraph* const graph = compile(model);
  const int      v1    = ch_graph_find(graph, "v1");
  CHECK(v1 >= 0 && !strcmp(ch_graph_module_name(graph, (uint32_t)v1), "v1"));
  CHECK(ch_graph_find(graph, "v9") == -1);
  const int gain = ch_graph_find_param(graph, (uint32_t)v1, "gain");
  CHECK(gain >= 0);
  CHECK(ch_graph_find_param(graph, (uint32_t)v1, "nope") == -1);
  CHECK(ch_graph_set(graph, (uint32_t)v1, (uint32_t)gain, 0.25f) == CH_SUCCESS);
  CHECK(ch_graph_get(graph, (uint32_t)v1, (uint32_t)gain) == 0.25f);
  CHECK(ch_graph_set(graph, (uint32_t)v1, (uint32_t)gain, 7.0f) ==
        CH_ERR_RANGE);
  CHECK(ch_graph_get(graph, (uint32_t)v1, (uint32_t)gain) == 0.25f);
  ch_graph_free(graph);
  ch_model_free(model);
}

static void
test_carry_state(void)
{
  /* Two graphs of one osc: after carrying, the second continues the first
     sample for sample. */
  ChModel* const model = model_from("create osc osc\n"
                                    "create out output\n"
                                    "set out lowcut 0\n"
                                    "connect osc:out out:mono\n");
  ChGraph* const a     = compile(model);
  ChGraph* const b     = compile(model);
  float          l1[300];
  float          r1[300];
  float          l2[300];
  float          r2[300];
  ch_graph_run(a, &no_host, l1, r1, 200);
  ch_graph_prime(b, 1000); /* b's own phase now differs */
  ch_graph_carry(b, a);
  ch_graph_run(a, &no_host, l1 + 200, r1 + 200, 100);
  ch_graph_run(b, &no_host, l2 + 200, r2 + 200, 100);
  CHECK(!memcmp(l1 + 200, l2 + 200, 100 * sizeof(float)));
  ch_graph_free(a);
  ch_graph_free(b);
  ch_model_free(model);
}

static void
test_huge_patch(void)
{
  ChModel* const model = chain(CH_MAX_MODULES - 2);
  ChGraph* const graph = compile(model);
  CHECK(graph && ch_graph_n_modules(graph) == CH_MAX_MODULES);
  float left[64];
  float right[64];
  ch_graph_run(graph, &no_host, left, right, 64);
  CHECK_NEAR(left[10], 0.5, 1e-5);
  ch_graph_free(graph);
  ch_model_free(model);

  ChModel* const empty = ch_model_new();
  left[5]              = 1.0f;
  render(empty, left, right, 64);
  CHECK(left[5] == 0.0f);
  ch_model_free(empty);
}

/* const -> mixer -> feedback -> back into the mixer: a loop that is legal
   because the feedback kind delays by one block of CH_MAX_BLOCK samples. */
static ChModel*
feedback_loop(void)
{
  return model_from("create mix mixer\n"
                    "create k const\n"
                    "create fb feedback\n"
                    "create out output\n"
                    "set out lowcut 0\n"
                    "set k value 0.5\n"
                    "set fb gain 0.5\n"
                    "connect k:out mix:in1\n"
                    "connect mix:out fb:in\n"
                    "connect fb:out mix:in2\n"
                    "connect mix:out out:left\n");
}

static void
test_feedback_breaks_a_cycle(void)
{
  ChModel* const model = feedback_loop();
  enum { N = 4 * CH_MAX_BLOCK };
  static float left[N];
  static float right[N];
  render(model, left, right, N);
  /* Each pass adds half of the previous block: 0.5, 0.75, 0.875, ... */
  CHECK_NEAR(left[0], 0.5, 1e-6);
  CHECK_NEAR(left[CH_MAX_BLOCK - 1], 0.5, 1e-6);
  CHECK_NEAR(left[CH_MAX_BLOCK], 0.75, 1e-6);
  CHECK_NEAR(left[2 * CH_MAX_BLOCK + 7], 0.875, 1e-6);

  /* The same with tiny blocks: the delay is a fixed number of samples. */
  CHECK(graph_same_in_blocks(model, &no_host, RATE, N, 17, NULL));

  /* Without the feedback module the same loop is a cycle. */
  CHECK(!ch_model_delete(model, "fb", NULL));
  CHECK(!ch_model_connect(model, "mix:out", "mix:in2", NULL));
  ChGraph* bad = NULL;
  ChError  err;
  CHECK(ch_graph_new(model, NULL, RATE, &bad, &err) == CH_ERR_CYCLE);
  ch_model_free(model);
}

/* The step-by-step run (for benchmarks) is a run's block: the kernels and
   the fan-in sums in schedule order. */
static void
test_run_steps_match_a_run(void)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  model_edit(model, "create a osc\n"
                    "create b osc\n"
                    "create out output\n"
                    "set b pitch 1\n"
                    "connect a:out out:mono\n"
                    "connect b:out out:mono\n");
  ChGraph* run   = NULL;
  ChGraph* steps = NULL;
  CHECK_MSG(!ch_graph_new(model, NULL, 48000.0f, &run, &err), "%s", err.msg);
  CHECK_MSG(!ch_graph_new(model, NULL, 48000.0f, &steps, &err), "%s", err.msg);
  CHECK(ch_graph_n_steps(steps) == 3u && ch_graph_n_sums(steps) == 1u);
  CHECK(
    !strcmp(ch_graph_module_kind(steps, ch_graph_step_module(steps, 2))->name,
            "output"));
  static const ChHostInputs host;
  float                     want[2][64];
  float                     got[2][64];
  ch_graph_run(run, &host, want[0], want[1], 64);
  ch_graph_run(run, &host, want[0], want[1], 64);
  ch_graph_run(steps, &host, got[0], got[1], 64);
  memset(got, 0, sizeof(got));
  ch_graph_run_steps(steps, CH_STEPS_KERNELS_AND_SUMS, 64);
  CHECK(!memcmp(want, got, sizeof(want)));
  /* The next block moves on: a different output. */
  memset(got, 0, sizeof(got));
  ch_graph_run_steps(steps, CH_STEPS_KERNELS_AND_SUMS, 64);
  CHECK(memcmp(want, got, sizeof(want)));
  ch_graph_free(run);
  ch_graph_free(steps);
  ch_model_free(model);
}

int
main(void)
{
  RUN(test_feedback_breaks_a_cycle);
  RUN(test_cycle_named);
  RUN(test_cycle_names_only_members);
  RUN(test_check_refuses_unplayable);
  RUN(test_schedule_order);
  RUN(test_fan_in_sums);
  RUN(test_unconnected_inputs_are_zero);
  RUN(test_buffers_reused);
  RUN(test_any_block_length);
  RUN(test_set_and_find);
  RUN(test_carry_state);
  RUN(test_huge_patch);
  RUN(test_run_steps_match_a_run);
  return CHECK_EXIT();
}
