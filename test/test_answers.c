/* What UIs follow on notify: patch:Get answered with the patch in ch:Patch
   pieces that fit a small buffer, and ch:Set echoed once per cycle. */
#include "../src/model.h"
#include "../src/patch.h"
#include "check.h"
#include "host.h"
#include "plugin_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `n_modules` - 1 oscillators and an output, `n_links` links in all: each
   oscillator frequency-modulates the next few (no cycles), and the first
   ones feed the output. */
static char*
big_patch(unsigned n_modules, unsigned n_links)
{
  const unsigned n_osc = n_modules - 1u;
  const size_t   size  = 256u + 64u * (size_t)n_modules + 64u * n_links;
  char* const    text  = (char*)malloc(size);
  size_t         len   = (size_t)snprintf(text, size, "%s", PREFIXES);
  len += (size_t)snprintf(text + len, size - len,
                          ":out ch:kind \"output\" ; param:level 0.1 .\n");
  for (unsigned i = 0; i < n_osc; ++i) {
    len += (size_t)snprintf(text + len, size - len,
                            ":osc%u ch:kind \"osc\" ; param:pitch %g .\n", i,
                            (double)(i % 13u) / 4.0);
  }
  unsigned links = 0;
  for (unsigned i = 0; links < n_links && i < n_osc; ++i) {
    len +=
      (size_t)snprintf(text + len, size - len,
                       "[] ch:from \"osc%u:out\" ; ch:to \"out:mono\" .\n", i);
    ++links;
    for (unsigned d = 1; d <= 8u && links < n_links && i + d < n_osc; ++d) {
      len += (size_t)snprintf(text + len, size - len,
                              "[] ch:from \"osc%u:out\" ; ch:to \"osc%u:fm\" "
                              ".\n",
                              i, i + d);
      ++links;
    }
  }
  CHECK_MSG(links == n_links, "only %u links of %u", links, n_links);
  return text;
}

/* The text ch_patch_write() makes of `text`: what the plugin must send. */
static char*
normalised(const char* text)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ch_error_clear(&err);
  CHECK_MSG(!ch_patch_read(model, text, strlen(text), &err), "%s", err.msg);
  char* const out = ch_patch_write(model, &err);
  ch_model_free(model);
  return out;
}

static const HostAnswer*
wait_for(Host* h, HostAnswerType type, int32_t seq)
{
  return host_run_until(h, BLOCK, type, seq, MAX_WAIT);
}

/* Load `text`, ask for it back through a notify buffer of `notify` bytes
   (4 KiB or more: pieces of up to CH_PATCH_PIECE bytes; a smaller buffer
   gets many smaller ones). */
static void
check_patch_comes_back(const char* what, const char* text, uint32_t notify)
{
  const HostOptions options = { HOST_WORKER_SYNC, 48000u, false, notify };
  Host* const       h       = host_new_with(&options);
  CHECK(h);
  if (!h) {
    return;
  }
  /* From a file: a patch this large is more than one message may carry. */
  char        path[] = "/tmp/chronus-answers-XXXXXX";
  const int   fd     = mkstemp(path);
  FILE* const file   = fd >= 0 ? fdopen(fd, "w") : NULL;
  CHECK(file && fputs(text, file) >= 0);
  if (file) {
    fclose(file);
  }
  host_load_file(h, 0, 1, path);
  host_commit(h, 0, 2);
  const HostAnswer* c = wait_for(h, HOST_ANSWER_COMMITTED, 2);
  unlink(path);
  CHECK_MSG(c, "%s: not committed", what);
  host_patch_get(h, 0, 3);
  const HostAnswer* p    = wait_for(h, HOST_ANSWER_PATCH, 3);
  char* const       want = normalised(text);
  CHECK_MSG(p && p->text, "%s: no patch came back", what);
  if (!p) {
    host_dump_answers(h);
  }
  if (p && p->text && want) {
    const size_t len = strlen(want);
    CHECK_MSG(!strcmp(p->text, want), "%s: %zu bytes came back, %zu sent", what,
              strlen(p->text), len);
    const size_t full = (len + CH_PATCH_PIECE - 1u) / CH_PATCH_PIECE;
    CHECK_MSG(notify >= 4096u ? p->pieces >= full : p->pieces > 4u * full,
              "%s: %u pieces for %zu bytes", what, p->pieces, len);
    CHECK(c && p->generation == c->generation);
  }
  CHECK(!host_count(h, HOST_ANSWER_ERROR));
  CHECK(!host_notify_faults(h));
  free(want);
  host_free(h);
}

static void
test_patch_in_pieces(void)
{
  char* const text = big_patch(400, 600);
  check_patch_comes_back("400 modules", text, 4096u);
  /* A buffer smaller than a piece gets smaller pieces. */
  check_patch_comes_back("512-byte notify", text, 512u);
  free(text);
}

/* The plugin's limits: 1024 modules and 8192 links still come back. */
static void
test_patch_at_the_limits(void)
{
  char* const text = big_patch(CH_MAX_MODULES, CH_MAX_LINKS);
  check_patch_comes_back("limits", text, 4096u);
  free(text);
}

/* While a patch goes out in pieces, every commit is still announced: the
   pieces take only the room the other answers leave (a ch:Committed once
   got crowded out of a 4 KiB buffer by two pieces and was lost). */
static void
test_pieces_never_crowd_out_commits(void)
{
  const HostOptions options = { HOST_WORKER_SYNC, 48000u, false, 4096u };
  Host* const       h       = host_new_with(&options);
  CHECK(h);
  if (!h) {
    return;
  }
  char* const text = big_patch(200, 300);
  host_load(h, 0, 1, text);
  host_commit(h, 0, 2);
  free(text);
  CHECK(wait_for(h, HOST_ANSWER_COMMITTED, 2));
  host_patch_get(h, 0, 3);
  for (int32_t seq = 10; seq < 40; ++seq) {
    host_commit(h, 0, seq);
    host_run(h, BLOCK);
  }
  host_run_frames(h, 40u * BLOCK, BLOCK);
  CHECK(host_find(h, HOST_ANSWER_PATCH, 3));
  for (int32_t seq = 10; seq < 40; ++seq) {
    CHECK_MSG(host_find(h, HOST_ANSWER_COMMITTED, seq),
              "commit %d was not announced", seq);
  }
  CHECK(!host_count(h, HOST_ANSWER_ERROR));
  host_free(h);
}

/* ch:Set is echoed on notify: the last value per parameter and cycle, as
   the patch plays it (clamped). */
static void
test_set_is_echoed(Host* h)
{
  char* const text = big_patch(3, 2);
  host_load(h, 0, 1, text);
  host_commit(h, 0, 2);
  free(text);
  CHECK(wait_for(h, HOST_ANSWER_COMMITTED, 2));
  host_clear_answers(h);
  host_set(h, 0, 3, "osc0", "pitch", 1.0f);
  host_set(h, 10, 4, "osc0", "pitch", 2.0f);
  host_set(h, 20, 5, "osc1", "pitch", 99.0f); /* refused: out of range */
  host_set(h, 30, 6, "nosuch", "pitch", 1.0f);
  host_run(h, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_PARAM) == 1u);
  const HostAnswer* e = host_find(h, HOST_ANSWER_PARAM, HOST_NO_SEQ);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "osc0:pitch");
  CHECK(e && e->value == 2.0f && !e->has_seq);
  host_run(h, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_PARAM) == 1u);
}

int
main(void)
{
  RUN(test_patch_in_pieces);
  RUN(test_patch_at_the_limits);
  RUN(test_pieces_never_crowd_out_commits);
  RUN_HOST(test_set_is_echoed, HOST_WORKER_SYNC);
  return CHECK_EXIT();
}
