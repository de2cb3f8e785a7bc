/* The engine's audio path never allocates, frees, locks or calls the
   system: checked with the interposer of rtcheck.c. */
#include "../src/build.h"
#include "../src/graph.h"
#include "../src/model.h"
#include "../src/registry.h"
#include "check.h"
#include "rtcheck.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void
test_interposer_catches(void)
{
  /* The check itself must be able to fail (unless a sanitizer build has
     it step aside: then the sanitizer checks, and this would abort). */
  if (rtcheck_rtsan()) {
    /* RTSan aborts the process on a violation: try it in a child. */
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 2); /* its report is expected: keep it out of the log */
      rtcheck_begin();
      void* volatile p = malloc(16);
      free(p);
      rtcheck_end();
      _exit(0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(!WIFEXITED(status) || WEXITSTATUS(status) != 0);
    printf("  RealtimeSanitizer stopped a malloc in a marked region\n");
    return;
  }
  if (!rtcheck_active()) {
    printf("  interposer inactive: a sanitizer owns malloc\n");
    return;
  }
  rtcheck_begin();
  void* volatile p = malloc(16);
  free(p);
  CHECK(rtcheck_end() == 2);
  CHECK(!strcmp(rtcheck_first(), "malloc"));
}

/* One module of every kind, wired in a line through whatever ports fit. */
static ChModel*
every_kind(void)
{
  ChModel* const model = ch_model_new();
  char           name[32];
  char           from[64] = "";
  char           to[64];
  for (uint32_t k = 0; k < ch_registry_count(); ++k) {
    const ChKind* const kind = ch_registry_at(k);
    snprintf(name, sizeof(name), "m%u", k);
    CHECK(!ch_model_create(model, name, kind->name, NULL));
    if (from[0] && kind->n_inputs) {
      snprintf(to, sizeof(to), "%s:%s", name, kind->inputs[0].name);
      CHECK(!ch_model_connect(model, from, to, NULL));
    }
    if (kind->n_outputs) {
      snprintf(from, sizeof(from), "%s:%s", name, kind->outputs[0].name);
    }
  }
  CHECK(!ch_model_create(model, "final", "output", NULL));
  CHECK(!ch_model_connect(model, from, "final:mono", NULL));
  return model;
}

static void
test_run_does_not_allocate(void)
{
  ChModel* const model = every_kind();
  ChGraph*       graph = NULL;
  ChGraph*       next  = NULL;
  ChError        err;
  CHECK_MSG(!ch_build(model, NULL, 48000.0f, &graph, &err), "%s", err.msg);
  CHECK_MSG(!ch_build(model, NULL, 48000.0f, &next, &err), "%s", err.msg);

  static float left[8192];
  static float right[8192];
  ChHostInputs host;
  memset(&host, 0, sizeof(host));
  host.voice[0] = (ChVoiceInputs){ 0.5f, 1.0f, 0.8f, 0.1f, 1, 0, 0, 0, 0 };
  host.mod      = 0.2f;
  host.macro[0] = 0.5f;
  static const uint32_t lengths[] = { 1, 17, 64, 256, 257, 4096, 8192 };

  rtcheck_begin();
  for (size_t i = 0; i < CH_COUNT(lengths); ++i) {
    host.voice[0].trigger += 1;
    ch_graph_run(graph, &host, left, right, lengths[i]);
    const int m = ch_graph_find(graph, "m0");
    const int p = ch_graph_find_param(graph, (uint32_t)m, "pitch");
    ch_graph_set(graph, (uint32_t)m, (uint32_t)p, 0.25f * (float)i);
  }
  ch_graph_carry(next, graph);
  ch_graph_run(next, &host, left, right, 512);
  const unsigned violations = rtcheck_end();
  CHECK_MSG(!violations, "%u forbidden calls, first: %s", violations,
            rtcheck_first());

  ch_graph_free(graph);
  ch_graph_free(next);
  ch_model_free(model);
}

int
main(void)
{
  RUN(test_interposer_catches);
  RUN(test_run_does_not_allocate);
  return CHECK_EXIT();
}
