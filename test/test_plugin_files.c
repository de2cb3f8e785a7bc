/* The plugin through lilv, its patch file: a watched file is played on
   every save, never empty or half-written, and hostile files are refused. */
#include "check.h"
#include "dsp.h"
#include "host.h"
#include "plugin_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* `patch_x` written to a new file `path` in the temp directory `dir`, set
   as `h`'s ch:patchFile (seq 1) and committed. */
static void
watch_new_file(Host* h, char* dir, char* path, size_t size)
{
  CHECK(temp_path(dir, path, size, "live.ttl") && write_text(path, patch_x));
  host_patch_set_file(h, 0, 1, path);
  CHECK(run_until_answered(h, NULL, 1, 1, BLOCK));
  check_answer(h, 1, HOST_ANSWER_COMMITTED);
}

static void
test_patch_file_is_watched(Host* h)
{
  char dir[] = "/tmp/chronus-watch-XXXXXX";
  char path[256];
  host_run(h, BLOCK);
  watch_new_file(h, dir, path, sizeof(path));
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C4, 0.5);

  /* Setting the same unchanged file again is no new commit. */
  host_patch_set_file(h, 0, 2, path);
  CHECK(run_until_answered(h, NULL, 2, 2, BLOCK));
  check_answer(h, 2, HOST_ANSWER_ACK);

  /* An edit on disk is picked up and committed within a second. */
  const size_t committed = host_count(h, HOST_ANSWER_COMMITTED);
  CHECK(write_text(path, patch_y));
  for (unsigned c = 0;
       c < 2000 && host_count(h, HOST_ANSWER_COMMITTED) == committed; ++c) {
    host_run(h, BLOCK);
    nap_us(200);
  }
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == committed + 1);
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);

  /* A broken edit is reported with its line and changes nothing heard:
     no commit, the same tone, and no jump in the waveform anywhere. */
  const size_t errors  = host_count(h, HOST_ANSWER_ERROR);
  const size_t commits = host_count(h, HOST_ANSWER_COMMITTED);
  const size_t from    = host_captured(h);
  CHECK(write_text(path, PREFIXES ":osc ch:kind \"osc\" ;\n"
                                  "  param:pitch 99 .\n"));
  for (unsigned c = 0; c < 2000 && host_count(h, HOST_ANSWER_ERROR) == errors;
       ++c) {
    host_run(h, BLOCK);
    nap_us(200);
  }
  CHECK(host_count(h, HOST_ANSWER_ERROR) == errors + 1);
  const HostAnswer* e = host_answer(h, host_n_answers(h) - 1);
  CHECK(e && e->type == HOST_ANSWER_ERROR);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "line 6");
  CHECK_STR_CONTAINS(e ? e->text : NULL, "out of range");
  host_run_frames(h, 24000, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == commits);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  /* A 0.5-peak sine at C5 moves at most 2 pi f A / rate per sample. */
  const float* const left    = host_left(h);
  double             biggest = 0.0;
  for (size_t i = from + 1; i < host_captured(h); ++i) {
    biggest = fmax(biggest, fabs((double)left[i] - left[i - 1]));
  }
  CHECK_MSG(biggest < 2.0 * M_PI * C5 * 0.5 / RATE * 1.01, "largest step %g",
            biggest);

  /* patch:Get reports the watched file too. */
  host_patch_get(h, 0, 20);
  CHECK(run_until_answered(h, NULL, 20, 20, BLOCK));
  bool file_reported = false;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    file_reported |=
      a->has_seq && a->seq == 20 && a->text && !strcmp(a->text, path);
  }
  CHECK(file_reported);

  remove(path);
  rmdir(dir);
}

/* Write `text` in place, as an editor that truncates and writes does. */
static bool
write_in_place(const char* path, const char* text, size_t len)
{
  FILE* f = fopen(path, "w");
  if (!f) {
    return false;
  }
  const bool ok = fwrite(text, 1, len, f) == len;
  return !fclose(f) && ok;
}

/* Run until `h` has `n` error answers; the last one, or NULL on timeout. */
static const HostAnswer*
run_until_errors(Host* h, size_t n)
{
  for (unsigned c = 0; c < MAX_WAIT && host_count(h, HOST_ANSWER_ERROR) < n;
       ++c) {
    host_run(h, BLOCK);
    nap_us(100);
  }
  const HostAnswer* last = NULL;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    last                = a->type == HOST_ANSWER_ERROR ? a : last;
  }
  return host_count(h, HOST_ANSWER_ERROR) >= n ? last : NULL;
}

/* The smallest peak of any 10 ms window of the capture from `from` on. */
static double
quietest_window(const Host* h, size_t from)
{
  const float* left  = host_left(h);
  double       least = 1.0;
  for (size_t w = from; w + 480 <= host_captured(h); w += 480) {
    least = fmin(least, dsp_peak(left + w, 480));
  }
  return least;
}

/* A watched file saved empty, then half-written, then with no module: each
   is reported naming the file, and the last good patch never stops. */
static void
test_watch_never_plays_empty_or_half(Host* h)
{
  char dir[] = "/tmp/chronus-half-XXXXXX";
  char path[256];
  watch_new_file(h, dir, path, sizeof(path));
  host_run_frames(h, 4800, BLOCK);
  const size_t from    = host_captured(h);
  const size_t commits = host_count(h, HOST_ANSWER_COMMITTED);

  CHECK(write_in_place(path, "", 0));
  const HostAnswer* e = run_until_errors(h, 1);
  CHECK_STR_CONTAINS(e ? e->text : NULL, path);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "the file is empty (0 bytes)");
  CHECK(write_in_place(path, patch_y, strlen(patch_y) / 2));
  e = run_until_errors(h, 2);
  CHECK_STR_CONTAINS(e ? e->text : NULL, path);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "syntax error");
  CHECK(write_in_place(path, PREFIXES, strlen(PREFIXES)));
  e = run_until_errors(h, 3);
  CHECK_STR_CONTAINS(e ? e->text : NULL, "holds no module");
  host_run_frames(h, 24000, BLOCK);
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == commits);
  CHECK(host_count(h, HOST_ANSWER_ERROR) == 3); /* each reported once */
  CHECK_NEAR(tail_freq(h), C4, 0.5);

  CHECK(write_in_place(path, patch_y, strlen(patch_y)));
  for (unsigned c = 0;
       c < MAX_WAIT && host_count(h, HOST_ANSWER_COMMITTED) == commits; ++c) {
    host_run(h, BLOCK);
    nap_us(100);
  }
  CHECK(host_count(h, HOST_ANSWER_COMMITTED) == commits + 1);
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  /* A 0.5-peak sine: every 10 ms from the empty save on has its peak. */
  CHECK_NEAR(quietest_window(h, from), 0.5, 0.02);
  remove(path);
  rmdir(dir);
}

/* A FIFO as ch:file or ch:patchFile, and /dev/zero, are refused at once:
   the worker never blocks, later edits work and shutdown does not hang. */
static void
test_hostile_files_refused(Host* h)
{
  char dir[] = "/tmp/chronus-fifo-XXXXXX";
  char fifo[256];
  CHECK(temp_path(dir, fifo, sizeof(fifo), "fifo.ttl") && !mkfifo(fifo, 0600));
  host_load_file(h, 0, 1, fifo);
  host_patch_set_file(h, 0, 2, fifo);
  host_load_file(h, 0, 3, "/dev/zero");
  CHECK(run_until_answered(h, NULL, 1, 3, BLOCK));
  for (int32_t s = 1; s <= 3; ++s) {
    const HostAnswer* a = answer_to(h, s);
    CHECK(a && a->type == HOST_ANSWER_ERROR);
    CHECK_STR_CONTAINS(a ? a->text : NULL, "not a regular file: refused");
    CHECK_STR_CONTAINS(a ? a->text : NULL, s < 3 ? fifo : "/dev/zero");
  }
  /* Later edits still work, and the FIFO is not re-read on every poll. */
  host_load(h, 0, 4, patch_y);
  host_commit(h, 0, 5);
  CHECK(run_until_answered(h, NULL, 4, 5, BLOCK));
  check_answer(h, 5, HOST_ANSWER_COMMITTED);
  host_run_frames(h, 48000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  CHECK(host_count(h, HOST_ANSWER_ERROR) == 3);

  /* 50,000 links: refused at the first one over the limit, the worker
     free again for the next message, the sound unchanged. */
  char big[256];
  snprintf(big, sizeof(big), "%s/big.ttl", dir);
  FILE* f = fopen(big, "w");
  CHECK(f);
  if (f) {
    fputs(PREFIXES, f);
    for (unsigned i = 0; i < 50000u; ++i) {
      fprintf(f, "[] ch:from \"m%u:out\" ; ch:to \"out:mono\" .\n", i);
    }
    fclose(f);
  }
  host_load_file(h, 0, 6, big);
  host_patch_get(h, 0, 7);
  CHECK(run_until_answered(h, NULL, 6, 7, BLOCK));
  const HostAnswer* a = answer_to(h, 6);
  CHECK(a && a->type == HOST_ANSWER_ERROR);
  CHECK_STR_CONTAINS(a ? a->text : NULL, "line 8197: more than 8192 links");
  host_run_frames(h, 24000, BLOCK);
  CHECK_NEAR(tail_freq(h), C5, 0.5);
  remove(big);
  remove(fifo);
  rmdir(dir);
}

int
main(void)
{
  RUN_HOST(test_patch_file_is_watched, HOST_WORKER_THREADED);
  RUN_HOST(test_watch_never_plays_empty_or_half, HOST_WORKER_THREADED);
  RUN_HOST(test_hostile_files_refused, HOST_WORKER_THREADED);
  return CHECK_EXIT();
}
