/* libFuzzer target for the patch text reader: read, compile, run a few
   blocks, write, read again; the two reads must agree and the guarded
   output stay finite.  Built and run by test/e2e-fuzz.sh (docs/fuzzing.md). */
#include "../../src/graph.h"
#include "../../src/limiter.h"
#include "../../src/model.h"
#include "../../src/patch.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE   48000.0f
#define FRAMES 256u

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* Stop with a message: libFuzzer saves the input that got here. */
static void
fuzz_fail(const char* const what, const char* const detail)
{
  fprintf(stderr, "fuzz_patch: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  abort();
}

/* Compile and play a few blocks with a note held, through the same guards
   the plugin puts between the graph and the host. */
static void
play(const ChModel* const model)
{
  ChGraph* graph = NULL;
  ChError  err;
  if (ch_graph_new(model, NULL, RATE, &graph, &err)) {
    return; /* a cycle, say: refused with a message, fine */
  }
  static float left[FRAMES];
  static float right[FRAMES];
  ChHostInputs host;
  memset(&host, 0, sizeof(host));
  host.voice[0] = (ChVoiceInputs){ 0.25f, 1.0f, 0.8f, 0.1f, 1u };
  host.mod      = 0.5f;
  ChLimiter limiter;
  ch_limiter_init(&limiter, RATE, 0.944f, 0.15f);
  for (uint32_t block = 0; block < 4u; ++block) {
    const uint32_t n   = block == 1u ? 1u : FRAMES; /* odd lengths too */
    host.voice[0].gate = block < 3u ? 1.0f : 0.0f;
    ch_graph_run(graph, &host, left, right, n);
    ch_silence_nonfinite(left, right, n);
    ch_limiter_process(&limiter, left, right, n);
    for (uint32_t i = 0; i < n; ++i) {
      if (!isfinite(left[i]) || !isfinite(right[i]) || fabsf(left[i]) > 1.0f ||
          fabsf(right[i]) > 1.0f) {
        fuzz_fail("non-finite or unlimited output", NULL);
      }
    }
  }
  ch_graph_free(graph);
}

int
LLVMFuzzerTestOneInput(const uint8_t* const data, const size_t size)
{
  ChModel* const model = ch_model_new();
  ChModel* const back  = ch_model_new();
  ChError        err;
  if (!model || !back) {
    fuzz_fail("out of memory", NULL);
  }
  if (!ch_patch_read(model, (const char*)data, size, &err)) {
    play(model);
    char* const text = ch_patch_write(model, &err);
    if (!text) {
      fuzz_fail("cannot write a patch that was read", err.msg);
    }
    if (ch_patch_read(back, text, strlen(text), &err)) {
      fuzz_fail("cannot read what was written", err.msg);
    }
    if (!ch_model_equal(model, back)) {
      fuzz_fail("round trip changed the patch", text);
    }
    char* const again = ch_patch_write(back, &err);
    if (!again || strcmp(text, again)) {
      fuzz_fail("writing the read-back patch gave other text", text);
    }
    free(again);
    free(text);
  } else if (!err.msg[0]) {
    fuzz_fail("an error without a message", NULL);
  }
  ch_model_free(back);
  ch_model_free(model);
  return 0;
}
