/* The fixture the plugin tests share (see plugin_fixture.h): cases run on
   fresh hosts, waiting for answers, comparing two hosts, files on disk. */
#include "plugin_fixture.h"

#include "check.h"
#include "dsp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char* const patch_x = SINE_PATCH("0");
const char* const patch_y = SINE_PATCH("1");

const char* const patch_custom =
  PREFIXES ":v ch:kind \"voice\" .\n"
           ":o ch:kind \"osc\" ; param:shape \"square\" ; param:pw 0.3 .\n"
           ":f ch:kind \"svf\" ; param:cutoff 3000 ; param:res 0.3 .\n"
           ":e ch:kind \"adsr\" ; param:attack 0.01 ; param:release 0.1 .\n"
           ":a ch:kind \"vca\" .\n"
           ":main ch:kind \"output\" ; param:level 0.7 .\n"
           "[] ch:from \"v:pitch\" ; ch:to \"o:pitch\" .\n"
           "[] ch:from \"v:gate\" ; ch:to \"e:gate\" .\n"
           "[] ch:from \"v:trig\" ; ch:to \"e:trig\" .\n"
           "[] ch:from \"o:out\" ; ch:to \"f:in\" .\n"
           "[] ch:from \"f:lp\" ; ch:to \"a:in\" .\n"
           "[] ch:from \"e:out\" ; ch:to \"a:cv\" .\n"
           "[] ch:from \"a:out\" ; ch:to \"main:mono\" .\n";

bool
open_pair(Host** a, Host** b, HostWorkerMode worker_a, HostWorkerMode worker_b)
{
  *a = host_new(worker_a);
  *b = host_new(worker_b);
  CHECK(*a && *b);
  if (!*a || !*b) {
    host_free(*a);
    host_free(*b);
    return false;
  }
  return true;
}

Host*
open_host(void)
{
  Host* const h = host_new(HOST_WORKER_THREADED);
  CHECK(h);
  return h;
}

void
report_case(const char* name)
{
  if (check_failed_now) {
    ++check_cases_failed;
    printf("FAIL %s\n", name);
  } else {
    ++check_cases_passed;
    printf("PASS %s\n", name);
  }
  fflush(stdout);
}

void
run_host_case(const char*    name,
              HostCase       test_fn,
              HostWorkerMode worker,
              const char*    patch)
{
  check_failed_now = 0;
  Host* const h    = patch ? open_playing(worker, patch) : host_new(worker);
  CHECK(h);
  if (h) {
    test_fn(h);
    host_free(h);
  }
  report_case(name);
}

void
run_pair_case(const char*    name,
              PairCase       test_fn,
              HostWorkerMode worker_a,
              HostWorkerMode worker_b)
{
  check_failed_now = 0;
  Host* a          = NULL;
  Host* b          = NULL;
  if (open_pair(&a, &b, worker_a, worker_b)) {
    test_fn(a, b);
    host_free(a);
    host_free(b);
  }
  report_case(name);
}

Host*
open_playing(HostWorkerMode worker, const char* patch)
{
  Host* const h = host_new(worker);
  CHECK(h && load_commit(h, patch, 1));
  return h;
}

const HostAnswer*
load_commit(Host* h, const char* turtle, int32_t seq)
{
  host_load(h, 0, seq, turtle);
  host_commit(h, 0, seq + 1);
  return host_run_until(h, BLOCK, HOST_ANSWER_COMMITTED, seq + 1, MAX_WAIT);
}

void
nap_us(long us)
{
  const struct timespec ts = { 0, us * 1000L };
  nanosleep(&ts, NULL);
}

void
run_pair(Host* a, Host* b, uint32_t n)
{
  host_run(a, n);
  host_run(b, n);
}

/* First frame in [from, to) where the two captures differ (either
   channel, bit for bit), or `to`. */
size_t
first_diff(const Host* a, const Host* b, size_t from, size_t to)
{
  const float* al = host_left(a);
  const float* ar = host_right(a);
  const float* bl = host_left(b);
  const float* br = host_right(b);
  for (size_t i = from; i < to; ++i) {
    if (memcmp(&al[i], &bl[i], sizeof(float)) ||
        memcmp(&ar[i], &br[i], sizeof(float))) {
      return i;
    }
  }
  return to;
}

/* The answer to `seq`, of any type, or NULL. */
const HostAnswer*
answer_to(const Host* h, int32_t seq)
{
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    if (a->has_seq && a->seq == seq) {
      return a;
    }
  }
  return NULL;
}

size_t
answers_to(const Host* h, int32_t seq)
{
  size_t n = 0;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* a = host_answer(h, i);
    n += a->has_seq && a->seq == seq;
  }
  return n;
}

/* Run `h` (and `partner` in lock-step, may be NULL) until every seq in
   [first, last] has an answer; false on timeout. */
bool
run_until_answered(Host*    h,
                   Host*    partner,
                   int32_t  first,
                   int32_t  last,
                   uint32_t block)
{
  for (unsigned c = 0; c < MAX_WAIT; ++c) {
    bool all = true;
    for (int32_t s = first; all && s <= last; ++s) {
      all = answer_to(h, s) != NULL;
    }
    if (all) {
      return true;
    }
    host_run(h, block);
    if (partner) {
      host_run(partner, block);
    }
    nap_us(100);
  }
  return false;
}

void
check_answer(const Host* h, int32_t seq, HostAnswerType type)
{
  const HostAnswer* a = answer_to(h, seq);
  CHECK_MSG(a && a->type == type, "seq %d: expected %s, got %s%s%s", seq,
            host_answer_type_name(type),
            a ? host_answer_type_name(a->type) : "no answer",
            a && a->text ? ": " : "", a && a->text ? a->text : "");
}

bool
temp_path(char* dir, char* path, size_t size, const char* name)
{
  if (!mkdtemp(dir)) {
    return false;
  }
  const int n = snprintf(path, size, "%s/%s", dir, name);
  return n > 0 && (size_t)n < size;
}

bool
write_text(const char* path, const char* text)
{
  /* Write beside and rename over, as editors do, so a poll never reads a
     half-written file. */
  char tmp[512];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (!f) {
    return false;
  }
  fputs(text, f);
  fclose(f);
  return !rename(tmp, path);
}

/* The frequency of the last 0.4 s of `h`'s capture. */
double
tail_freq(const Host* h)
{
  const float* tail = host_left(h) + host_captured(h) - 19200;
  return dsp_zero_cross_freq(tail, 19200, RATE);
}
