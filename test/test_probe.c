/* The probe through lilv: ch:Probe of a module output answers ch:Scope
   frames of the playing signal (right period, trigger-aligned, whatever the
   block size), follows a swap, stops when asked or unrenewed, and refuses
   what is not there; run() stays real-time safe throughout. */
#include "check.h"
#include "host.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RATE     HOST_RATE
#define C4       261.6255653
#define MAX_WAIT 20000u

#define SINE_PATCH(pitch)                                                      \
  "@prefix ch: <urn:chronus:> .\n"                                             \
  "@prefix param: <urn:chronus:param#> .\n"                                    \
  "@prefix : <urn:chronus:module#> .\n"                                        \
  "<> a ch:Patch .\n"                                                          \
  ":osc ch:kind \"osc\" ; param:shape \"sine\" ; param:pitch " pitch " .\n"    \
  ":out ch:kind \"output\" ; param:level 0.5 .\n"                              \
  "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n"

/* Seconds per period in a frame: the mean spacing of its rising zero
   crossings (interpolated), or 0 if it has fewer than two. */
static double
frame_period(const HostAnswer* const a)
{
  double first = -1.0;
  double last  = -1.0;
  int    n     = 0;
  for (uint32_t i = 1; i < a->n_points; ++i) {
    const float x0 = a->points[i - 1];
    const float x1 = a->points[i];
    if (x0 <= 0.0f && x1 > 0.0f) {
      const double at = (double)(i - 1) + (double)(-x0 / (x1 - x0));
      first           = n ? first : at;
      last            = at;
      ++n;
    }
  }
  return n < 2 ? 0.0 : (last - first) / (n - 1) * (double)a->value;
}

/* A host playing `patch`, committed; NULL after a failed check. */
static Host*
sine_host(const char* const patch, const bool rtcheck)
{
  const HostOptions opt = { .worker  = HOST_WORKER_THREADED,
                            .rtcheck = rtcheck };
  Host* const       h   = host_new_with(&opt);
  CHECK(h);
  if (h) {
    host_load(h, 0, 1, patch);
    host_commit(h, 0, 2);
    CHECK(host_run_until(h, 256, HOST_ANSWER_COMMITTED, 2, MAX_WAIT));
  }
  return h;
}

/* Every ch:Scope answer since `from` shows `period` seconds (within 0.5%),
   starts at a rising zero crossing, and there are at least `min` of them. */
static void
check_frames(const Host* const h,
             const size_t      from,
             const double      period,
             const size_t      min)
{
  size_t frames = 0;
  for (size_t i = from; i < host_n_answers(h); ++i) {
    const HostAnswer* const a = host_answer(h, i);
    if (a->type != HOST_ANSWER_SCOPE) {
      continue;
    }
    ++frames;
    CHECK(a->text && !strcmp(a->text, "osc:out"));
    CHECK(a->n_points == CH_SCOPE_POINTS);
    CHECK_NEAR(frame_period(a), period, period * 0.005);
    /* Trigger: the first point is the first above zero after a crossing
       (a point advances the phase by 2 pi step / period). */
    const double rise = sin(2.0 * M_PI * (double)a->value / period);
    CHECK(a->points[0] > 0.0f && a->points[0] <= rise + 1e-3);
  }
  CHECK_MSG(frames >= min, "%zu frames, expected at least %zu", frames, min);
}

/* Counts ch:Scope answers since answer `from`. */
static size_t
scopes_since(const Host* const h, const size_t from)
{
  size_t n = 0;
  for (size_t i = from; i < host_n_answers(h); ++i) {
    n += host_answer(h, i)->type == HOST_ANSWER_SCOPE;
  }
  return n;
}

static void
test_probe_shows_the_sine(void)
{
  Host* const h = sine_host(SINE_PATCH("1"), true);
  if (!h) {
    return;
  }
  /* Nothing is sent before a UI asks. */
  host_run_frames(h, 24000, 256);
  CHECK(host_count(h, HOST_ANSWER_SCOPE) == 0);

  host_probe(h, 0, 3, "osc", "out");
  size_t from = host_n_answers(h);
  host_run_frames(h, 24000, 256); /* 0.5 s: a frame every 30 ms or so */
  check_frames(h, from, 1.0 / (2.0 * C4), 14);
  const HostAnswer* const a = host_find(h, HOST_ANSWER_SCOPE, HOST_NO_SEQ);
  CHECK(a && a->value > 0.0f && a->value * CH_SCOPE_POINTS < 0.031f &&
        a->value * CH_SCOPE_POINTS > 0.02f);

  /* Longer cycles than the engine's sub-block: the same picture, one
     frame a cycle (frames are written at a cycle's end). */
  from = host_n_answers(h);
  host_run_frames(h, 24576, 4096);
  check_frames(h, from, 1.0 / (2.0 * C4), 6);

  /* A swap: the probe follows the new graph with no new ch:Probe. */
  host_load(h, 0, 4, SINE_PATCH("0"));
  host_commit(h, 0, 5);
  CHECK(host_run_until(h, 256, HOST_ANSWER_COMMITTED, 5, MAX_WAIT));
  host_run_frames(h, 2048, 256);
  from = host_n_answers(h);
  host_run_frames(h, 24000, 256);
  check_frames(h, from, 1.0 / C4, 14);

  /* Stop: nothing more after the next cycle. */
  host_probe(h, 0, HOST_NO_SEQ, NULL, NULL);
  host_run(h, 256);
  from = host_n_answers(h);
  host_run_frames(h, 24000, 256);
  const size_t after = scopes_since(h, from);
  CHECK_MSG(after == 0, "%zu frames after the probe was stopped", after);
  CHECK_MSG(host_rt_violations(h) == 0, "run() not real-time safe: %s",
            host_rt_first(h));
  host_free(h);
}

static void
test_probe_times_out_and_refuses(void)
{
  Host* const h = sine_host(SINE_PATCH("0"), false);
  if (!h) {
    return;
  }
  /* Unrenewed, a probe ends after CH_SCOPE_TIMEOUT seconds. */
  host_probe(h, 0, 3, "osc", "out");
  host_run_frames(h, (size_t)(RATE * 2.5), 512);
  size_t from = host_n_answers(h);
  host_run_frames(h, (size_t)(RATE * 0.4), 512);
  CHECK(scopes_since(h, from) > 5); /* still on before the timeout */
  host_run_frames(h, (size_t)(RATE * 0.2), 512);
  from = host_n_answers(h);
  host_run_frames(h, (size_t)(RATE * 0.5), 512);
  CHECK_MSG(scopes_since(h, from) == 0, "%zu frames after the timeout",
            scopes_since(h, from));

  /* What is not there is refused by name; nothing is sent. */
  host_probe(h, 0, 6, "nosuch", "out");
  host_probe(h, 0, 7, "osc", "wobble");
  from = host_n_answers(h);
  host_run_frames(h, 4800, 256);
  const HostAnswer* e = host_find(h, HOST_ANSWER_ERROR, 6);
  CHECK(e && e->text && strstr(e->text, "'nosuch:out'"));
  e = host_find(h, HOST_ANSWER_ERROR, 7);
  CHECK(e && e->text && strstr(e->text, "'osc:wobble'"));
  CHECK(scopes_since(h, from) == 0);
  host_free(h);
}

/* The last ch:Activity answer from answer `from` on, or NULL. */
static const HostAnswer*
last_activity(const Host* const h, const size_t from)
{
  const HostAnswer* a = NULL;
  for (size_t i = from; i < host_n_answers(h); ++i) {
    a = host_answer(h, i)->type == HOST_ANSWER_ACTIVITY ? host_answer(h, i) : a;
  }
  return a;
}

/* Ask for ch:Activity and run a block: the answer, or NULL. */
static const HostAnswer*
ask_activity(Host* const h)
{
  host_get(h, 0, HOST_NO_SEQ, "urn:chronus:activity");
  const size_t from = host_n_answers(h);
  host_run_frames(h, 256, 256);
  return last_activity(h, from);
}

/* A host playing `patch` for 0.1 s, which must send no ch:Activity
   unasked; NULL after a failed check. */
static Host*
activity_host(const char* const patch)
{
  Host* const h = sine_host(patch, true);
  if (h) {
    host_run_frames(h, 4800, 256);
    CHECK(host_count(h, HOST_ANSWER_ACTIVITY) == 0); /* none unasked */
  }
  return h;
}

/* Module peaks while asked: the sounding osc near its level, a module
   nothing reads and the output (no outputs of its own) at zero. */
static void
test_activity(void)
{
  static const char patch[] =
    "@prefix ch: <urn:chronus:> .\n"
    "@prefix param: <urn:chronus:param#> .\n"
    "@prefix : <urn:chronus:module#> .\n"
    "<> a ch:Patch .\n"
    ":osc ch:kind \"osc\" ; param:shape \"sine\" ; param:level 0.8 .\n"
    ":idle ch:kind \"lfo\" .\n"
    ":out ch:kind \"output\" ; param:level 0.5 .\n"
    "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n";
  Host* const h = activity_host(patch);
  if (!h) {
    return;
  }
  ask_activity(h);
  CHECK(host_count(h, HOST_ANSWER_ACTIVITY) == 1);
  host_run_frames(h, 2400, 256); /* 50 ms measured */
  const HostAnswer* const a = ask_activity(h);
  CHECK(a && a->offset == 0 && a->total == 3 && a->n_points == 3);
  if (a && a->n_points == 3) {
    CHECK_NEAR(a->points[0], 0.8, 0.01); /* osc */
    CHECK(a->points[1] == 0.0f);         /* idle: nothing reads it */
    CHECK(a->points[2] == 0.0f);         /* out */
  }
  CHECK_MSG(host_rt_violations(h) == 0, "run() not real-time safe: %s",
            host_rt_first(h));
  host_free(h);
}

/* Each module's share of the graph's time while asked: a reverb far above
   a const and a vca, every share in [0, 1] and all of them at most the
   whole; none before an ask, none once a second has passed unasked. */
static void
test_cpu_share(void)
{
  static const char patch[] =
    "@prefix ch: <urn:chronus:> .\n"
    "@prefix param: <urn:chronus:param#> .\n"
    "@prefix : <urn:chronus:module#> .\n"
    "<> a ch:Patch .\n"
    ":osc ch:kind \"osc\" ; param:shape \"sine\" .\n"
    ":k ch:kind \"const\" ; param:value 0.5 .\n"
    ":amp ch:kind \"vca\" .\n"
    ":room ch:kind \"reverb\" .\n"
    ":out ch:kind \"output\" .\n"
    "[] ch:from \"osc:out\" ; ch:to \"amp:in\" .\n"
    "[] ch:from \"k:out\" ; ch:to \"amp:cv\" .\n"
    "[] ch:from \"amp:out\" ; ch:to \"room:left\" .\n"
    "[] ch:from \"amp:out\" ; ch:to \"room:right\" .\n"
    "[] ch:from \"room:left\" ; ch:to \"out:left\" .\n"
    "[] ch:from \"room:right\" ; ch:to \"out:right\" .\n";
  Host* const h = activity_host(patch);
  if (!h) {
    return;
  }
  ask_activity(h); /* the first answer: nothing timed yet */
  host_run_frames(h, 9600, 256);
  const HostAnswer* const a = ask_activity(h);
  CHECK(a && a->n_points == 5 && a->cpu);
  if (a && a->n_points == 5 && a->cpu) {
    float sum = 0.0f;
    for (uint32_t i = 0; i < 5; ++i) {
      CHECK(a->cpu[i] >= 0.0f && a->cpu[i] <= 1.0f);
      sum += a->cpu[i];
    }
    CHECK_MSG(sum <= 1.001f, "shares sum to %g", (double)sum);
    /* osc k amp room out: the reverb's 8 delay lines and filters cost far
       more than a constant or a multiply, and most of the graph. */
    CHECK_MSG(a->cpu[3] > 0.3f && a->cpu[3] > 5.0f * a->cpu[1] &&
                a->cpu[3] > 5.0f * a->cpu[2],
              "reverb %g, const %g, vca %g", (double)a->cpu[3],
              (double)a->cpu[1], (double)a->cpu[2]);
  }
  host_run_frames(h, 2 * RATE, 256); /* the measured second runs out */
  const size_t quiet = host_n_answers(h);
  host_run_frames(h, 4800, 256);
  CHECK(last_activity(h, quiet) == NULL);
  CHECK_MSG(host_rt_violations(h) == 0, "run() not real-time safe: %s",
            host_rt_first(h));
  host_free(h);
}

int
main(void)
{
  RUN(test_probe_shows_the_sine);
  RUN(test_probe_times_out_and_refuses);
  RUN(test_activity);
  RUN(test_cpu_share);
  return CHECK_EXIT();
}
