/* Every factory patch in presets/bank loads, compiles and plays: a note
   makes a finite, audible sound, and the sound stops after release
   (except the drone, which holds its own gate). */
#include "bank.h"
#include "check.h"
#include "dsp.h"

#include <stdio.h>
#include <stdlib.h>

#define RATE 48000.0f

static void
play_patch(const BankFile* const file)
{
  const char* const name = file->name;
  char              expected[8];
  snprintf(expected, sizeof(expected), "%02zu-", file->index);
  CHECK_MSG(!strncmp(name, expected, 3), "%s is not program %zu", name,
            file->index);
  ChGraph* const graph = bank_graph(file->path, RATE);
  if (!graph) {
    return;
  }

  enum { N = 48000 };
  static float left[N];
  static float right[N];
  /* a note at C4 */
  const ChVoiceInputs note = { .gate = 1.0f, .velocity = 0.8f, .trigger = 1 };
  ChHostInputs        host = { .voice[0] = note };
  ch_graph_run(graph, &host, left, right, N / 2);
  const double on = dsp_rms(left, N / 2) + dsp_rms(right, N / 2);
  CHECK_MSG(dsp_finite(left, N / 2) && dsp_finite(right, N / 2),
            "%s: non-finite output", name);
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
}

static void
test_bank_plays(void)
{
  CHECK(bank_each(play_patch) >= 8);
}

int
main(void)
{
  RUN(test_bank_plays);
  return CHECK_EXIT();
}
