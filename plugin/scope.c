/* The probe's oscilloscope (scope.h): decimated, trigger-aligned frames of
   one output, captured after every sub-block without allocating. */
#include "scope.h"

#include <math.h>
#include <string.h>

/* Copy at most `size` - 1 bytes of `s`; false if it did not fit. */
CH_REALTIME static bool
copy_name(char* const dst, const char* const s, const size_t size)
{
  size_t i = 0;
  for (; s && s[i] && i + 1u < size; ++i) {
    dst[i] = s[i];
  }
  dst[i] = '\0';
  return !s || !s[i];
}

CH_REALTIME void
ch_scope_ask(ChScope* const    scope,
             const char* const module,
             const char* const port,
             const float       rate)
{
  if (!module || !module[0] || !port) {
    scope->frames_left = 0;
    scope->ready       = false;
    return;
  }
  const bool same = !strcmp(scope->module, module) &&
                    !strcmp(scope->port, port) && scope->frames_left;
  if (!same) {
    const bool fits = copy_name(scope->module, module, sizeof(scope->module)) &&
                      copy_name(scope->port, port, sizeof(scope->port));
    scope->generation = UINT64_MAX; /* find it in the playing graph */
    scope->found      = false;
    scope->capturing  = false;
    scope->ready      = false;
    scope->holdoff    = 0;
    scope->waited     = 0;
    scope->phase      = 0;
    scope->last       = 1.0f; /* a crossing must be seen */
    /* A fixed decimation: a frame spans about CH_SCOPE_PERIOD seconds. */
    const float step = floorf(rate * CH_SCOPE_PERIOD / (float)CH_SCOPE_POINTS);
    scope->step      = step < 1.0f ? 1u : (uint32_t)step;
    scope->period    = rate * CH_SCOPE_PERIOD;
    if (!fits) {
      scope->module[0] = '\0'; /* too long to be a name: never found */
    }
  }
  scope->frames_left = (uint32_t)(rate * CH_SCOPE_TIMEOUT);
}

CH_REALTIME bool
ch_scope_follow(ChScope* const scope, const ChGraph* const graph)
{
  const uint64_t generation = ch_graph_generation(graph);
  if (scope->generation != generation) {
    scope->generation = generation;
    scope->found      = !ch_graph_find_output(graph, scope->module, scope->port,
                                              &scope->tap, NULL);
  }
  return scope->found;
}

/* One decimated point: wait for a rising zero crossing (at most a frame's
   worth of points, then start anyway), then fill the frame. */
CH_REALTIME static void
take_point(ChScope* const scope, const float x)
{
  if (!scope->capturing) {
    const bool rising = scope->last <= 0.0f && x > 0.0f;
    scope->last       = x;
    if (!rising && ++scope->waited < CH_SCOPE_POINTS) {
      return;
    }
    scope->capturing = true;
    scope->n         = 0;
  }
  scope->points[scope->n++] = x;
  if (scope->n == CH_SCOPE_POINTS) {
    scope->capturing = false;
    scope->ready     = true;
  }
}

CH_REALTIME void
ch_scope_feed(ChScope* const       scope,
              const ChGraph* const graph,
              const uint32_t       n)
{
  if (!scope->frames_left || scope->ready || !scope->found) {
    return;
  }
  const float* const x = ch_graph_tap_read(graph, scope->tap);
  uint32_t           i = scope->phase;
  if (scope->holdoff) {
    if (scope->holdoff >= n) {
      scope->holdoff -= n;
      return;
    }
    i              = scope->holdoff;
    scope->holdoff = 0;
  }
  for (; i < n && !scope->ready; i += scope->step) {
    take_point(scope, x ? x[i] : 0.0f); /* no data: a sleeping voice */
  }
  scope->phase = i > n ? i - n : 0u;
}

CH_REALTIME void
ch_scope_tick(ChScope* const scope, const uint32_t n)
{
  scope->frames_left = scope->frames_left > n ? scope->frames_left - n : 0u;
}

CH_REALTIME bool
ch_scope_answer(const ChScope* const scope, const float rate, ChMsg* const msg)
{
  if (!scope->ready) {
    return false;
  }
  *msg          = ch_msg_init(CH_MSG_SCOPE);
  msg->module   = scope->module;
  msg->port     = scope->port;
  msg->points   = scope->points;
  msg->n_points = CH_SCOPE_POINTS;
  msg->step     = (float)scope->step / rate;
  return true;
}

CH_REALTIME void
ch_scope_sent(ChScope* const scope)
{
  scope->ready  = false;
  scope->waited = 0;
  scope->phase  = 0;
  /* The next frame starts a period after this one began, at the least. */
  const float used = (float)(CH_SCOPE_POINTS * scope->step);
  scope->holdoff = scope->period > used ? (uint32_t)(scope->period - used) : 0u;
  scope->last    = 1.0f;
}

/* Append `s` to `buf` (holding `*at` bytes), within `size`. */
CH_REALTIME static void
append(char* const buf, size_t* const at, const size_t size, const char* s)
{
  while (*s && *at + 1u < size) {
    buf[(*at)++] = *s++;
  }
  buf[*at] = '\0';
}

CH_REALTIME const char*
ch_scope_missing(const ChScope* const scope, char* const buf, const size_t size)
{
  size_t at = 0;
  append(buf, &at, size, "ch:Probe: the playing patch has no output '");
  append(buf, &at, size, scope->module);
  append(buf, &at, size, ":");
  append(buf, &at, size, scope->port);
  append(buf, &at, size, "'");
  return buf;
}
