/* Every factory patch in presets/bank loads, compiles and plays: a note
   makes a finite, audible sound, and the sound stops after release
   (except the drone, which holds its own gate). */
#include "../src/graph.h"
#include "../src/model.h"
#include "../src/patch.h"
#include "bank.h"
#include "check.h"
#include "dsp.h"

#include <stdio.h>
#include <stdlib.h>

#define RATE 48000.0f

static void
play_patch(const char* const path, const char* const name)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ChGraph*       graph = NULL;
  CHECK_MSG(!ch_patch_read_file(model, path, &err), "%s", err.msg);
  CHECK_MSG(!ch_graph_new(model, NULL, RATE, &graph, &err), "%s: %s", name,
            err.msg);
  if (!graph) {
    ch_model_free(model);
    return;
  }

  enum { N = 48000 };
  static float left[N];
  static float right[N];
  ChHostInputs host;
  memset(&host, 0, sizeof(host));
  host.voice[0].pitch    = 0.0f;
  host.voice[0].gate     = 1.0f;
  host.voice[0].velocity = 0.8f;
  host.voice[0].trigger  = 1;
  ch_graph_run(graph, &host, left, right, N / 2);
  const double on     = dsp_rms(left, N / 2) + dsp_rms(right, N / 2);
  bool         finite = true;
  for (size_t i = 0; i < N / 2; ++i) {
    finite = finite && isfinite(left[i]) && isfinite(right[i]);
  }
  CHECK_MSG(finite, "%s: non-finite output", name);
  CHECK_MSG(on > 0.01, "%s: too quiet while held (rms %g)", name, on);
  CHECK_MSG(dsp_peak(left, N / 2) < 1.5 && dsp_peak(right, N / 2) < 1.5,
            "%s: too loud (peak %g)", name, dsp_peak(left, N / 2));

  host.voice[0].gate = 0.0f;
  for (int i = 0; i < 8; ++i) { /* 4 s of release */
    ch_graph_run(graph, &host, left, right, N / 2);
  }
  const double off = dsp_rms(left, N / 2) + dsp_rms(right, N / 2);
  if (strstr(name, "drone")) {
    CHECK_MSG(off > 0.02, "%s: the drone stopped", name);
  } else {
    CHECK_MSG(off < 1e-3, "%s: still sounds after release (rms %g)", name, off);
  }
  ch_graph_free(graph);
  ch_model_free(model);
}

static void
test_bank_plays(void)
{
  const char* const dir_path = BANK_DIR;
  char*             names[BANK_MAX];
  const size_t      n = bank_files(names);
  CHECK(n >= 8);
  for (size_t i = 0; i < n; ++i) {
    char expected[8];
    snprintf(expected, sizeof(expected), "%02zu-", i);
    CHECK_MSG(!strncmp(names[i], expected, 3), "%s is not program %zu",
              names[i], i);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir_path, names[i]);
    play_patch(path, names[i]);
    free(names[i]);
  }
}

int
main(void)
{
  RUN(test_bank_plays);
  return CHECK_EXIT();
}
