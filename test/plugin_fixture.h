/* The fixture the plugin tests share (test_plugin_*.c and the other tests
   through test/host.c): cases run on fresh hosts, patches, waiting for
   answers, comparing two hosts, patch files on disk. */
#ifndef CH_TEST_PLUGIN_FIXTURE_H
#define CH_TEST_PLUGIN_FIXTURE_H

#include "host.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE     HOST_RATE
#define C4       261.6255653
#define C5       523.2511306
#define BLOCK    256u
#define MAX_WAIT 20000u /* cycles to wait for an answer */

#define PREFIXES                                                               \
  "@prefix ch: <urn:chronus:> .\n"                                             \
  "@prefix param: <urn:chronus:param#> .\n"                                    \
  "@prefix : <urn:chronus:module#> .\n"                                        \
  "<> a ch:Patch .\n"

/* A free-running sine at `pitch` octaves from C4, peak 0.5. */
#define SINE_PATCH(pitch)                                                      \
  PREFIXES ":osc ch:kind \"osc\" ; param:shape \"sine\" ; param:pitch " pitch  \
           " .\n"                                                              \
           ":out ch:kind \"output\" ; param:level 0.5 .\n"                     \
           "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n"

/** A sine at C4, and one an octave up. */
extern const char* const patch_x;
extern const char* const patch_y;

/** A played square voice whose modules share no name with the default. */
extern const char* const patch_custom;

/** Two hosts with these workers in `*a` and `*b`; false (checked, and
    nothing left open) if either cannot start. */
bool open_pair(Host**         a,
               Host**         b,
               HostWorkerMode worker_a,
               HostWorkerMode worker_b);

/** A host with a threaded worker; NULL (checked) if it cannot start. */
Host* open_host(void);

/** A host with `worker` that has loaded and committed `patch` (seq 1 and
    2); NULL if it cannot start (both checked). */
Host* open_playing(HostWorkerMode worker, const char* patch);

/* Cases that only need a fresh host (or two) get them from the fixture:
   RUN_HOST(test_fn, worker) runs test_fn(h) on a new host with that worker,
   RUN_PLAYING(test_fn, worker, patch) on one that has loaded and committed
   `patch` (seq 1 and 2, checked), RUN_PAIR(test_fn, worker_a, worker_b)
   runs test_fn(a, b) on two; each frees them after, fails the case if they
   cannot start, and reports the case as check.h's RUN does. */
typedef void (*HostCase)(Host* h);
typedef void (*PairCase)(Host* a, Host* b);

void run_host_case(const char*    name,
                   HostCase       test_fn,
                   HostWorkerMode worker,
                   const char*    patch);
void run_pair_case(const char*    name,
                   PairCase       test_fn,
                   HostWorkerMode worker_a,
                   HostWorkerMode worker_b);

/** Report the case `name` that ran as check.h's RUN does (for runners of
    cases with other arguments). */
void report_case(const char* name);

#define RUN_HOST(test_fn, worker) run_host_case(#test_fn, test_fn, worker, NULL)
#define RUN_PLAYING(test_fn, worker, patch)                                    \
  run_host_case(#test_fn, test_fn, worker, patch)
#define RUN_PAIR(test_fn, worker_a, worker_b)                                  \
  run_pair_case(#test_fn, test_fn, worker_a, worker_b)

/** Load `turtle` as `seq` and commit it as `seq` + 1 (default fade); the
    Committed answer, or NULL if none came in MAX_WAIT cycles. */
const HostAnswer* load_commit(Host* h, const char* turtle, int32_t seq);

/** Sleep `us` microseconds (lets a worker thread get on). */
void nap_us(long us);

/** Run `a` and `b` one cycle of `n` frames each. */
void run_pair(Host* a, Host* b, uint32_t n);

/** First frame in [from, to) where the two captures differ (either
    channel, bit for bit), or `to`. */
size_t first_diff(const Host* a, const Host* b, size_t from, size_t to);

/** The answer to `seq`, of any type, or NULL. */
const HostAnswer* answer_to(const Host* h, int32_t seq);

/** Number of answers to `seq`. */
size_t answers_to(const Host* h, int32_t seq);

/** Run `h` (and `partner` in lock-step, may be NULL) until every seq in
    [first, last] has an answer; false on timeout. */
bool run_until_answered(Host*    h,
                        Host*    partner,
                        int32_t  first,
                        int32_t  last,
                        uint32_t block);

/** Check that `seq` was answered with `type`. */
void check_answer(const Host* h, int32_t seq, HostAnswerType type);

/** `name` in a new directory made from the mkdtemp template `dir` (filled
    in), written to `path`; false if the directory cannot be made or the
    path does not fit. */
bool temp_path(char* dir, char* path, size_t size, const char* name);

/** Write `text` to `path` beside and rename over, as editors do. */
bool write_text(const char* path, const char* text);

/** The frequency of the last 0.4 s of `h`'s capture. */
double tail_freq(const Host* h);

#endif /* CH_TEST_PLUGIN_FIXTURE_H */
