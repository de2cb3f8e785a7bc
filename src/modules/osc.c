/* The `osc` module kind: a band-limited sine/saw/square/triangle oscillator. */
#include "../kind.h"
#include "lanes.h"
#include "sine.h"
#include "smooth.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CH_OSC_C4_HZ 261.6255653

/* Fundamental limit as a fraction of the rate: 0.45 * Nyquist.  It keeps
   a period longer than 4.4 samples, so a sample is within reach of at
   most one step either side (the step corrections reach 4 samples, the
   triangle's 2), and leaves the second harmonic of a saw below Nyquist. */
#define CH_OSC_MAX_DT 0.225

enum { CH_OSC_IN_PITCH, CH_OSC_IN_FM, CH_OSC_IN_PW };

enum {
  CH_OSC_P_SHAPE,
  CH_OSC_P_PITCH,
  CH_OSC_P_FINE,
  CH_OSC_P_PW,
  CH_OSC_P_LEVEL,
  CH_OSC_P_RESET,
};

enum { CH_OSC_SINE, CH_OSC_SAW, CH_OSC_SQUARE, CH_OSC_TRIANGLE };

/* A voice's state, 8 bytes a field (ChKind.lanes; a float is exact in a
   double): phase, 0..1, the position in the period; last_pitch, the
   total pitch of the last exp2(), and last_freq, its result, reused
   while the pitch holds; level, the smoothed output level (in double, so
   that it settles); smooth, the one-pole coefficient for `rate`, and
   inv_rate; trigger, its voice's note counter when last seen (an integer
   still, so that it compares as one).  The saw's dt, inv_dt, near and
   far (ChOscSaw) are kept for saw_freq, so that a call at a held pitch
   works nothing out (0: none, as after a new rate); ready_pitch is
   last_pitch while they are kept for last_freq, else a NaN (equal to
   nothing), so that the lanes test both at once (ch_osc_keep_ready). */
#define CH_OSC_FIELDS(X)                                                       \
  X(double, phase)                                                             \
  X(double, last_pitch)                                                        \
  X(double, last_freq)                                                         \
  X(double, level)                                                             \
  X(double, smooth)                                                            \
  X(double, inv_rate)                                                          \
  X(double, rate)                                                              \
  X(uint64_t, trigger)                                                         \
  X(double, saw_freq)                                                          \
  X(double, dt)                                                                \
  X(double, inv_dt)                                                            \
  X(double, near)                                                              \
  X(double, far)                                                               \
  X(double, ready_pitch)

/* All voices side by side.  The scalar code reads and writes its voice's
   elements `L->field[v]` where it used a state's fields, so that a call
   touches only those it needs (a view of all of them, 13 then, cost a block of
   64 samples more than its loop saved). */
typedef struct {
  CH_OSC_FIELDS(CH_LANES_ARRAY)
} ChOscState;

static const ChPortInfo ch_osc_inputs[] = {
  { "pitch", CH_SIGNAL_CV,
    "pitch offset in octaves, added to the pitch param" },
  { "fm", CH_SIGNAL_CV,
    "linear FM: frequency times (1 + fm); below -1 the phase runs backwards" },
  { "pw", CH_SIGNAL_CV, "pulse width offset, added to the pw param" },
};

static const ChPortInfo ch_osc_outputs[] = {
  { "out", CH_SIGNAL_AUDIO,
    "the waveform, peak = level (the band-limited steps of a saw or square "
    "ring past it, up to 1.12 level)" },
};

static const char* const ch_osc_shapes[] = { "sine", "saw", "square",
                                             "triangle", NULL };

static const char* const ch_osc_resets[] = { "off", "on", NULL };

static const ChParamInfo ch_osc_params[] = {
  { "shape", "", 0.0f, 3.0f, 1.0f, "waveform", ch_osc_shapes },
  { "pitch", "oct", -6.0f, 6.0f, 0.0f, "pitch in octaves, 0 = C4 (261.63 Hz)",
    NULL },
  { "fine", "ct", -100.0f, 100.0f, 0.0f, "fine tuning in cents", NULL },
  { "pw", "", 0.05f, 0.95f, 0.5f,
    "pulse width of the square (fraction of the period spent high)", NULL },
  { "level", "", 0.0f, 1.0f, 1.0f, "output peak level (smoothed, 5 ms)", NULL },
  { "reset", "", 0.0f, 1.0f, 0.0f,
    "on: every note of its voice starts the wave at phase 0, so each hit "
    "sounds alike (best with sine or triangle: a saw or square starts on "
    "its step)",
    ch_osc_resets },
};

/* Band-limited corrections.  A step's residual (what a band-limited step
   adds to the naive one) comes from a Kaiser-windowed sinc (cutoff 0.36
   of the rate, beta 6, 8 samples wide), integrated and fitted per sample
   by a degree-5 polynomial (error under 1e-5): its response is within
   0.5 dB to 10 kHz and -3.3 dB at 15 kHz (at 48 kHz), and it takes 48 dB
   and more off everything from 28 kHz up, so that a saw or square up to
   C7 keeps what folds back below 20 kHz 75 dB under its fundamental, and
   94 dB below the fundamental (test_mod_osc; the 4-sample B-spline it
   replaces managed -46 dB in the top octave).  The slope change of the
   triangle, whose partials fall faster, keeps a 4-sample cubic B-spline
   ramp residual (Valimaki, Pekonen and Nam 2012): -72 dB there already.
   `d` is the distance in samples from the discontinuity; both kernels are
   symmetric in time, so they serve a phase that runs backwards too.  The
   coefficients come from tools/design/blep.c. */

/* Reach of the step residual either side, samples. */
#define CH_OSC_BLEP_REACH 4.0

/* The step residual for d in [j, j + 1), j = 0..3, in powers of d - j;
   the row of zeros catches a distance rounded up to the reach. */
static const double ch_osc_blep_poly[5][6] = {
  { -4.9999152826e-01, 7.2006842774e-01, 7.0744322187e-03, -2.7487083271e-01,
    5.1108566468e-02, 1.8602267933e-02 },
  { 2.1978407418e-02, 2.0663875899e-01, -3.3534284459e-01, 9.2443733787e-02,
    6.7878098688e-02, -3.2143116510e-02 },
  { 2.1457668487e-02, -7.5564712877e-02, 3.1664993335e-02, 6.3386738437e-02,
    -6.3839989467e-02, 1.7173097055e-02 },
  { -5.7223740076e-03, 8.3262554885e-03, 1.0286710124e-02, -2.7596673615e-02,
    1.9194146241e-02, -4.4878570024e-03 },
  { 0.0, 0.0, 0.0, 0.0, 0.0, 0.0 },
};

/* The step residual at distance `a` after the step, 0 <= a <= reach. */
static inline double
ch_osc_blep_after(const double a)
{
  const int           j = (int)a;
  const double        x = a - (double)j;
  const double* const c = ch_osc_blep_poly[j];
  return c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * (c[4] + x * c[5]))));
}

/* Residual of a unit step at d = 0 (odd in d). */
static inline double
ch_osc_blep(const double d)
{
  const double a = fabs(d);
  if (!(a < CH_OSC_BLEP_REACH)) {
    return 0.0;
  }
  const double v = ch_osc_blep_after(a);
  return d < 0.0 ? -v : v;
}

/* The residuals of the steps at phase 0 just before and just after phase
   `t` (0..1), for |phase increment| `adt`: a period is over 4.4 samples
   (CH_OSC_MAX_DT), so no other step is within reach. */
static inline double
ch_osc_blep_at(const double t, const double adt)
{
  if (!(adt > 0.0)) {
    return 0.0; /* a stopped phase meets no discontinuity */
  }
  const double inv = 1.0 / adt;
  return ch_osc_blep(t * inv) + ch_osc_blep((t - 1.0) * inv);
}

/* Residual of a unit slope change (per sample) at d = 0 (even in d). */
static inline double
ch_osc_blamp(const double d)
{
  const double a = fabs(d);
  if (a < 1.0) {
    const double a2 = a * a;
    return 1.0 / 120.0 + (1.0 - a) / 24.0 +
           (1.1 - 2.75 * a + 2.0 * a2 - 0.5 * a2 * a2 + 0.15 * a2 * a2 * a) /
             6.0;
  }
  if (a < 2.0) {
    const double u = 2.0 - a;
    return u * u * u * u * u / 120.0;
  }
  return 0.0;
}

/* Distance in samples from phase `t` (0..1) to the discontinuity at phase 0,
   for |phase increment| `adt`: positive after it, negative before.  The
   result is only used within 2 samples (the ramp residual), which `adt` <
   0.25 keeps apart. */
static inline double
ch_osc_dist(const double t, const double adt)
{
  if (!(adt > 0.0)) {
    return 4.0; /* a stopped phase meets no discontinuity */
  }
  return (t < 0.5 ? t : t - 1.0) / adt;
}

static inline double
ch_osc_wrap(const double t)
{
  if (t >= 1.0) {
    return t - 1.0;
  }
  if (t < 0.0) {
    /* -1e-20 + 1 rounds to 1, the far side of the step: keep 0..1 open */
    const double u = t + 1.0;
    return u < 1.0 ? u : 0.0;
  }
  return t;
}

static inline double
ch_osc_clamp(const double x, const double lo, const double hi)
{
  /* Written out, not fmin/fmax, which stay library calls without
     -ffinite-math-only; a NaN input still lands on `lo`. */
  return x > lo ? (x < hi ? x : hi) : lo;
}

/* ready_pitch after a change of last_pitch, last_freq or saw_freq (see
   CH_OSC_FIELDS): ch_osc_init and ch_osc_one, all that change them, end
   here. */
CH_VARIANT void
ch_osc_keep_ready(ChOscState* const L, const uint32_t v)
{
  L->ready_pitch[v] =
    L->saw_freq[v] == L->last_freq[v] ? L->last_pitch[v] : (double)NAN;
}

CH_VARIANT void
ch_osc_update_rate(ChOscState* const L, const uint32_t v, const double rate)
{
  if (L->rate[v] != rate) { /* `rate` is a float's: (float)rate is exact */
    L->rate[v]     = rate;
    L->smooth[v]   = ch_one_pole_coef(CH_SMOOTH_SECONDS, (float)rate);
    L->inv_rate[v] = 1.0 / rate;
    L->saw_freq[v] = 0.0; /* the saw's dt was for the old rate */
  }
}

static void
ch_osc_init(const ChNode* const node)
{
  ChOscState* const L = (ChOscState*)node->state;
  const uint32_t    v = node->voice;

  L->phase[v]      = 0.0;
  L->last_pitch[v] = 0.0;
  L->last_freq[v]  = CH_OSC_C4_HZ;
  L->level[v]      = (double)node->param[CH_OSC_P_LEVEL];
  ch_osc_update_rate(L, v, (double)node->ctx->rate);
  ch_osc_keep_ready(L, v);
}

/* A note starts at the first frame of a call (the host splits blocks at
   its events), so a moved note counter is checked once per call. */
CH_VARIANT CH_REALTIME void
ch_osc_note_reset(ChOscState* const L, const ChNode* const node)
{
  const uint32_t             v    = node->voice;
  const ChVoiceInputs* const note = &node->ctx->host->voice[v];
  if (note->trigger != L->trigger[v]) {
    L->trigger[v] = note->trigger;
    if (node->param[CH_OSC_P_RESET] > 0.5f && note->gate > 0.5f) {
      L->phase[v] = 0.0;
    }
  }
}

/* One sample of `shape` at `phase`, without the level. */
static inline double
ch_osc_shape(const int    shape,
             const double phase,
             const double adt,
             const double pw)
{
  switch (shape) {
  case CH_OSC_SINE:
    return ch_sin2pi(phase);
  case CH_OSC_SAW:
    /* a falling step of 2 at phase 0 */
    return 2.0 * phase - 1.0 - 2.0 * ch_osc_blep_at(phase, adt);
  case CH_OSC_SQUARE: {
    double y = phase < pw ? 1.0 : -1.0;
    y += 2.0 * ch_osc_blep_at(phase, adt);
    y -= 2.0 * ch_osc_blep_at(ch_osc_wrap(phase - pw + 1.0), adt);
    return y;
  }
  default: {
    /* corners at t = 0 (minimum) and t = 0.5 (maximum), shifted a quarter
       period so the wave starts at 0 rising, like the sine */
    const double t = ch_osc_wrap(phase + 0.25);
    double       y = 1.0 - 4.0 * fabs(t - 0.5);
    /* slope changes by +-8 per period, i.e. 8 * |dt| per sample */
    y += 8.0 * adt * ch_osc_blamp(ch_osc_dist(t, adt));
    y -= 8.0 * adt * ch_osc_blamp(ch_osc_dist(ch_osc_wrap(t + 0.5), adt));
    return y;
  }
  }
}

/* What one block works with: parameters and the running state. */
typedef struct {
  double base_pitch;
  double inv_rate;
  double level_target;
  double smooth;
  double phase;
  double last_pitch;
  double last_freq;
  double level;
} ChOscRun;

/* Hz for a total pitch; +-20 octaves is far past audible either way and
   keeps exp2 finite.  Called only when the pitch moves. */
static inline double
ch_osc_freq(const double pitch)
{
  return CH_OSC_C4_HZ * exp2(ch_osc_clamp(pitch, -20.0, 20.0));
}

/* The general loop: FM, pulse-width input, a moving level.  `shape` is a
   constant in each call of the switch below, so each case compiles to a
   loop of its own. */
CH_VARIANT void
ch_osc_loop(const ChNode* const node,
            ChOscRun* const     r,
            const int           shape,
            const uint32_t      n)
{
  const float* const pitch_in = node->in[CH_OSC_IN_PITCH];
  const float* const fm_in    = node->in[CH_OSC_IN_FM];
  const float* const pw_in    = node->in[CH_OSC_IN_PW];
  float* const       out      = node->out[0];
  const double       pw0      = (double)node->param[CH_OSC_P_PW];
  double             phase    = r->phase;
  double             level    = r->level;
  for (uint32_t i = 0; i < n; ++i) {
    const double pitch = r->base_pitch + (double)pitch_in[i];
    if (pitch != r->last_pitch) {
      r->last_pitch = pitch;
      r->last_freq  = ch_osc_freq(pitch);
    }
    const double fm = ch_osc_clamp((double)fm_in[i], -1e6, 1e6);
    const double dt = ch_osc_clamp(r->last_freq * (1.0 + fm) * r->inv_rate,
                                   -CH_OSC_MAX_DT, CH_OSC_MAX_DT);
    const double pw = shape == CH_OSC_SQUARE
                        ? ch_osc_clamp(pw0 + (double)pw_in[i], 0.05, 0.95)
                        : 0.5;
    const double y  = ch_osc_shape(shape, phase, fabs(dt), pw);
    level += r->smooth * (r->level_target - level);
    if (fabs(r->level_target - level) < 1e-6) {
      level = r->level_target; /* settle exactly; no denormal tail */
    }
    out[i] = (float)(y * level);
    phase  = ch_osc_wrap(phase + dt);
  }
  r->phase = phase;
  r->level = level;
}

/* The pitch of the saw loop (ch_osc_saw_plain) and what follows from it. */
typedef struct {
  double dt;     /* phase increment */
  double inv_dt; /* its inverse: distances in samples by a multiply */
  double near;   /* the correction's reach before the step ... */
  double far;    /* ... and after it */
} ChOscSaw;

static inline void
ch_osc_saw_at(ChOscSaw* const w, const double freq, const double inv_rate)
{
  w->dt     = ch_osc_clamp(freq * inv_rate, 0.0, CH_OSC_MAX_DT);
  w->inv_dt = w->dt > 0.0 ? 1.0 / w->dt : 0.0;
  w->near   = CH_OSC_BLEP_REACH * w->dt;
  w->far    = 1.0 - CH_OSC_BLEP_REACH * w->dt;
}

/* Adds to the saw's sample `y` (2 phase - 1, the level folded in) the
   step's residuals, for a phase within their reach. */
CH_VARIANT void
ch_osc_saw_blep(double* const         y,
                const double          phase,
                const ChOscSaw* const w,
                const double          level2)
{
  /* the residual is odd: before the step it is minus the one after */
  if (phase < w->near) {
    *y -= level2 * ch_osc_blep_after(phase * w->inv_dt);
    if (phase > w->far) { /* above 6 kHz both steps are within reach */
      *y += level2 * ch_osc_blep_after((1.0 - phase) * w->inv_dt);
    }
  } else if (phase > w->far) {
    *y += level2 * ch_osc_blep_after((1.0 - phase) * w->inv_dt);
  }
}

/* `L` holds the voice's cached ChOscSaw (see CH_OSC_FIELDS), which this
   leaves for the last pitch. */
/* The common case: a saw at a settled level, no FM.  The phase only runs
   forwards, and the correction is computed only within 4 samples of the
   step, with a multiply instead of a division. */
CH_VARIANT void
ch_osc_saw_plain(const ChNode* const node,
                 ChOscRun* const     r,
                 ChOscState* const   L,
                 const uint32_t      n)
{
  const uint32_t     v          = node->voice;
  const float* const pitch_in   = node->in[CH_OSC_IN_PITCH];
  float* const       out        = node->out[0];
  const double       level      = r->level;
  const double       level2     = 2.0 * r->level;
  const double       base_pitch = r->base_pitch;
  const double       inv_rate   = r->inv_rate;
  double             last_pitch = r->last_pitch;
  double             last_freq  = r->last_freq;
  double             phase      = r->phase;
  ChOscSaw           w = { L->dt[v], L->inv_dt[v], L->near[v], L->far[v] };
  /* the input usually holds still: compare it before converting it (a
     NaN never equals itself, so then every sample looks at it) */
  float last_in = pitch_in[0];
  if (base_pitch + (double)last_in != last_pitch) {
    last_pitch = base_pitch + (double)last_in;
    last_freq  = ch_osc_freq(last_pitch);
  }
  bool fresh = last_freq != L->saw_freq[v];
  if (fresh) {
    ch_osc_saw_at(&w, last_freq, inv_rate);
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (pitch_in[i] != last_in) {
      last_in            = pitch_in[i];
      const double pitch = base_pitch + (double)last_in;
      if (pitch != last_pitch) {
        last_pitch = pitch;
        last_freq  = ch_osc_freq(pitch);
        ch_osc_saw_at(&w, last_freq, inv_rate);
        fresh = true;
      }
    }
    /* (2 phase - 1 - 2 blep) * level, with the level folded in */
    double y = level2 * phase - level;
    ch_osc_saw_blep(&y, phase, &w, level2);
    out[i] = (float)y;
    phase += w.dt;
    phase = phase >= 1.0 ? phase - 1.0 : phase;
  }
  r->phase      = phase;
  r->last_pitch = last_pitch;
  r->last_freq  = last_freq;
  if (fresh) {
    L->saw_freq[v] = last_freq;
    L->dt[v]       = w.dt;
    L->inv_dt[v]   = w.inv_dt;
    L->near[v]     = w.near;
    L->far[v]      = w.far;
  }
}

/* What the parameters (and the graph's rate) give, the same for every
   voice of a module: worked out once per call (for all the voices of
   process_voices). */
typedef struct {
  int    shape;
  double base_pitch;
  double level_target;
  double rate;
} ChOscShared;

CH_VARIANT ChOscShared
ch_osc_shared(const ChNode* const node)
{
  const float* const p = node->param;
  return (ChOscShared){
    (int)ch_osc_clamp((double)p[CH_OSC_P_SHAPE] + 0.5, 0.0, 3.0),
    (double)p[CH_OSC_P_PITCH] + (double)p[CH_OSC_P_FINE] / 1200.0,
    (double)p[CH_OSC_P_LEVEL],
    (double)node->ctx->rate,
  };
}

/* The process of one instance, inlined into both entry points below. */
CH_VARIANT CH_REALTIME void
ch_osc_one(const ChNode* const      node,
           const ChOscShared* const q,
           const uint32_t           n)
{
  ChOscState* const L = (ChOscState*)node->state;
  const uint32_t    v = node->voice;

  ch_osc_update_rate(L, v, q->rate);
  ch_osc_note_reset(L, node);

  const int shape = q->shape;
  ChOscRun  r     = {
         q->base_pitch, L->inv_rate[v],   q->level_target, L->smooth[v],
         L->phase[v],   L->last_pitch[v], L->last_freq[v], L->level[v],
  };

  const bool no_fm = (node->unlinked_in >> CH_OSC_IN_FM) & 1u;
  if (shape == CH_OSC_SAW && no_fm && r.level == r.level_target) {
    ch_osc_saw_plain(node, &r, L, n);
  } else {
    switch (shape) {
    case CH_OSC_SINE:
      ch_osc_loop(node, &r, CH_OSC_SINE, n);
      break;
    case CH_OSC_SAW:
      ch_osc_loop(node, &r, CH_OSC_SAW, n);
      break;
    case CH_OSC_SQUARE:
      ch_osc_loop(node, &r, CH_OSC_SQUARE, n);
      break;
    default:
      ch_osc_loop(node, &r, CH_OSC_TRIANGLE, n);
      break;
    }
  }

  L->phase[v]      = r.phase;
  L->last_pitch[v] = r.last_pitch;
  L->last_freq[v]  = r.last_freq;
  L->level[v]      = r.level;
  ch_osc_keep_ready(L, v);
}

static CH_REALTIME void
ch_osc_process(const ChNode* const node, const uint32_t n)
{
  const ChOscShared q = ch_osc_shared(node);
  ch_osc_one(node, &q, n);
}

/* What a call of process_voices shares, for ch_osc_lanes_saw: two lanes
   of each value (see ChD2 in lanes.h), and the host's voices. */
typedef struct {
  ChD2                 rate;       /* the graph's, as a state keeps it */
  ChD2                 base_pitch; /* ChOscShared's */
  ChD2                 level;      /* the level target */
  ChD2                 level2;     /* 2 level, ch_osc_saw_plain's */
  const ChVoiceInputs* host;       /* the voices' note counters */
  uint32_t             still;      /* ChContext.still */
} ChOscLanes;

/* Functions kept out of their callers: a rare path (a voice not ready),
   so that the lanes' usual sample keeps its vectors in registers, or a
   path of its own (one sample of a saw, voice by voice, a longer block),
   so that each saves only the registers it needs. */
#if defined(__GNUC__)
#  define CH_OSC_APART __attribute__((noinline))
#else
#  define CH_OSC_APART
#endif

/* Element j of field `f` in the group of lanes at `at`, the state's bytes
   from the group's first lane on: a group's loads all go from this one
   pointer, with no address arithmetic of their own. */
#define CH_OSC_AT(at, f, j)                                                    \
  ((double*)((char*)(at) + offsetof(ChOscState, f)) + (j))

/* Lanes j, j + 1 (j even) of field `f` there, as a vector (16-aligned). */
#define CH_OSC_D2(at, f, j) ch_d2_load(CH_OSC_AT(at, f, j))

/* `out`, the samples of the group of lanes at `at`, with those of `reach`
   within reach of the step (see ch_osc_lanes_saw) worked out one by one
   as ch_osc_saw_plain does: a voice is there for 8 of every period's
   samples.  Inlined: as a call, it cost the usual sample the vectors it
   would have kept in registers (none survives a call). */
CH_VARIANT ChF4
ch_osc_lanes_blep(const char* const at,
                  uint32_t          reach,
                  const double      level,
                  ChF4              out)
{
  for (; reach; reach &= reach - 1u) {
    const uint32_t j     = (uint32_t)__builtin_ctz(reach);
    const ChOscSaw w     = { *CH_OSC_AT(at, dt, j), *CH_OSC_AT(at, inv_dt, j),
                             *CH_OSC_AT(at, near, j), *CH_OSC_AT(at, far, j) };
    const double   phase = *CH_OSC_AT(at, phase, j);
    double         y     = 2.0 * level * phase - level;
    ch_osc_saw_blep(&y, phase, &w, 2.0 * level);
    out[j] = (float)y;
  }
  return out;
}

/* The voices `bits` of `group` that ch_osc_lanes_saw leaves, one by one:
   a note's first sample, a moving pitch or level, a new rate. */
static CH_OSC_APART CH_REALTIME void
ch_osc_lanes_rest(const ChNode* const group, uint32_t bits)
{
  const ChOscShared q = ch_osc_shared(group + __builtin_ctz(bits));
  for (; bits; bits &= bits - 1u) {
    ch_osc_one(&group[__builtin_ctz(bits)], &q, 1u);
  }
}

/* Bits 0 to 3: whether the lanes at `at` saw the graph's rate and their
   voices' note counters `h[0 .. 3]`.  The counters are uint32 in 8 bytes:
   their low halves compare as int32 lanes (the high halves are 0). */
static inline uint32_t
ch_osc_lanes_seen(const char* const          at,
                  const ChVoiceInputs* const h,
                  const ChD2                 rate)
{
  /* (int32_t) of a uint32 keeps its bits (GCC, clang): equal stays equal */
  const ChI4 now = { (int32_t)h[0].trigger, (int32_t)h[1].trigger,
                     (int32_t)h[2].trigger, (int32_t)h[3].trigger };
  ChI4       lo;
  ChI4       hi;
  memcpy(&lo, at + offsetof(ChOscState, trigger), sizeof(lo));
  memcpy(&hi, at + offsetof(ChOscState, trigger) + sizeof(lo), sizeof(hi));
  const ChI4 was = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
  return ch_i4_bits(was == now) & ch_l2_bits4(CH_OSC_D2(at, rate, 0) == rate,
                                              CH_OSC_D2(at, rate, 2) == rate);
}

/* Lanes j, j + 1 at `at` whose cache holds, as a mask: their level
   settled at the target, their saw cached for their last pitch, and
   their pitch (`in`, their input) holding. */
static inline ChL2
ch_osc_lanes_ready(const char* const       at,
                   const uint32_t          j,
                   const ChOscLanes* const c,
                   const ChD2              in)
{
  const ChL2 settled = CH_OSC_D2(at, level, j) == c->level;
  const ChL2 holds   = CH_OSC_D2(at, ready_pitch, j) == c->base_pitch + in;
  return ch_l2_and(settled, holds);
}

/* Whether lanes j, j + 1 at `at`, at phase `p`, are within reach of the
   step, before it or after it, as a mask. */
static inline ChL2
ch_osc_lanes_reach(const char* const at, const uint32_t j, const ChD2 p)
{
  const ChL2 before = p < CH_OSC_D2(at, near, j);
  const ChL2 after  = p > CH_OSC_D2(at, far, j);
  return ch_l2_or(before, after);
}

/* The phase of lanes j, j + 1 at `at` after `p`, one sample on. */
static inline ChD2
ch_osc_lanes_next(const char* const at, const uint32_t j, const ChD2 p)
{
  const ChD2 next = p + CH_OSC_D2(at, dt, j);
  /* phase >= 1 ? phase - 1 : phase, as a subtraction of 1 or 0 (x - 0 is
     x, -0 included): one constant and three operations */
  const ChD2 one = { 1.0, 1.0 };
  return next - (ChD2)((next >= one) & (ChL2)one);
}

/* One sample of the voices `on` (low 4 bits) of the lanes at `at`, of
   `group`, whose state is ready (see ch_osc_lanes_saw), operation for
   operation as ch_osc_saw_plain.  `strided`: all four written, side by
   side from `dst`. */
CH_VARIANT void
ch_osc_lanes_run(char* const             at,
                 const ChOscLanes* const c,
                 const ChNode* const     group,
                 const uint32_t          on,
                 const bool              strided,
                 float* const            dst)
{
  const ChD2 p0 = CH_OSC_D2(at, phase, 0);
  const ChD2 p1 = CH_OSC_D2(at, phase, 2);
  ChF4 out = ch_f4_of_d2(c->level2 * p0 - c->level, c->level2 * p1 - c->level);
  const uint32_t reach = on & ch_l2_bits4(ch_osc_lanes_reach(at, 0, p0),
                                          ch_osc_lanes_reach(at, 2, p1));
  if (reach) {
    out = ch_osc_lanes_blep(at, reach, c->level[0], out);
  }
  if (strided) {
    memcpy(dst, &out, sizeof(out));
  } else {
    ch_f4_output(group, on, 0, out);
  }
  const ChD2 n0 = ch_osc_lanes_next(at, 0, p0);
  const ChD2 n1 = ch_osc_lanes_next(at, 2, p1);
  if (on == 15u) {
    ch_d2_store(CH_OSC_AT(at, phase, 0), n0);
    ch_d2_store(CH_OSC_AT(at, phase, 2), n1);
  } else {
    ch_d2_store(CH_OSC_AT(at, phase, 0), ch_d2_pick(ch_l2_mask(on), n0, p0));
    ch_d2_store(CH_OSC_AT(at, phase, 2),
                ch_d2_pick(ch_l2_mask(on >> 2), n1, p1));
  }
}

/* What a call of process_voices shares, from `first`, a voice asked. */
CH_VARIANT ChOscLanes
ch_osc_lanes_of(const ChNode* const first)
{
  /* its shape goes unused: the compiler leaves it out */
  const ChOscShared q    = ch_osc_shared(first);
  const double      rate = q.rate;
  const double      lt   = q.level_target;
  return (ChOscLanes){
    { rate, rate },         { q.base_pitch, q.base_pitch }, { lt, lt },
    { 2.0 * lt, 2.0 * lt }, first->ctx->host->voice,        first->ctx->still
  };
}

/* The voices `bits4` of the lanes at `at` (`group`) when not all four
   are ready: those of `on` in lanes, the others one by one.  What the
   call shares is worked out again (the usual sample then keeps it in
   registers, not in memory for this call). */
static CH_OSC_APART CH_REALTIME void
ch_osc_lanes_some(char* const         at,
                  const ChNode* const group,
                  const uint32_t      bits4,
                  const uint32_t      on)
{
  if (on) {
    const ChOscLanes c = ch_osc_lanes_of(group + __builtin_ctz(bits4));
    ch_osc_lanes_run(at, &c, group, on, false, NULL);
  }
  if (bits4 != on) {
    ch_osc_lanes_rest(group, bits4 & ~on);
  }
}

/* One sample of the voices `bits4` of lanes k .. k + 3, whose state is
   at `at` and whose nodes are `group`, for the usual call of ch_osc_one
   (a saw, FM unlinked): those whose state is ready (it saw the graph's
   rate and its voice's note counter, its level is settled, its cached
   saw is for its pitch, and the pitch holds) in lanes, the others
   through ch_osc_one.  `still`: every voice asked is one whose host
   inputs the graph tells are those of its last call (ChContext.still),
   which left their rate and note counter seen.  `strided`: all four
   asked, their pitch inputs side by side from `src` and their outputs
   from `dst` (found without loading a pointer). */
CH_VARIANT CH_REALTIME void
ch_osc_lanes_saw(char* const             at,
                 const ChOscLanes* const c,
                 const ChNode* const     group,
                 const uint32_t          k,
                 const uint32_t          bits4,
                 const bool              still,
                 const bool              strided,
                 const float* const      src,
                 float* const            dst)
{
  ChF4 in;
  if (strided) {
    memcpy(&in, src, sizeof(in));
  } else {
    in = ch_f4_input(group, bits4, CH_OSC_IN_PITCH);
  }
  uint32_t on =
    bits4 & ch_l2_bits4(ch_osc_lanes_ready(at, 0, c, ch_d2_low(in)),
                        ch_osc_lanes_ready(at, 2, c, ch_d2_high(in)));
  if (!still) {
    on &= ch_osc_lanes_seen(at, c->host + k, c->rate) | c->still >> k;
  }
  if (on == 15u) {
    ch_osc_lanes_run(at, c, group, 15u, strided, dst);
  } else {
    ch_osc_lanes_some(at, group, bits4, on);
  }
}

/* The groups of four lanes that hold a voice of `bits`; `strided`: their
   pitch inputs and outputs side by side (ChNode.strided_in, strided_out:
   in a block of one sample, voice k's frame k floats after voice 0's), so
   that a group's four frames are one vector from a pointer kept here. */
CH_VARIANT CH_REALTIME void
ch_osc_lanes_all(const ChNode*           group,
                 const ChOscLanes* const c,
                 uint32_t                bits,
                 const bool              still,
                 const bool              strided)
{
  char*        at  = (char*)group[0].state;
  const float* src = group[0].in[CH_OSC_IN_PITCH];
  float*       dst = group[0].out[0];
  for (uint32_t k = 0; bits; bits >>= 4u, k += 4u, group += 4u,
                at += 4u * sizeof(double), src += 4u, dst += 4u) {
    if (strided && (bits & 15u) == 15u) {
      ch_osc_lanes_saw(at, c, group, k, 15u, still, true, src, dst);
    } else if (bits & 15u) {
      ch_osc_lanes_saw(at, c, group, k, bits & 15u, still, false, src, dst);
    }
  }
}

/* A block of one sample of a saw's voices (FM unlinked), four lanes at a
   time: a function of its own, that saves only the registers it needs. */
static CH_OSC_APART CH_REALTIME void
ch_osc_lanes(const ChNode* const nodes,
             const ChNode* const first,
             const uint32_t      bits)
{
  const ChOscLanes c = ch_osc_lanes_of(first);
  const bool       strided =
    (nodes[0].strided_in >> CH_OSC_IN_PITCH) & nodes[0].strided_out & 1u;
  /* the usual call: every voice still, none to test for a note */
  if (!(bits & ~c.still) && strided) {
    ch_osc_lanes_all(nodes, &c, bits, true, true);
  } else if (!(bits & ~c.still)) {
    ch_osc_lanes_all(nodes, &c, bits, true, false);
  } else {
    ch_osc_lanes_all(nodes, &c, bits, false, false);
  }
}

/* Whether a shape parameter `p` is the saw's: ch_osc_shared's shape, 1
   when (double)p + 0.5 is in [1, 2), a sum exact for p in [0.5, 1.5)
   and outside it too far off to land there (a NaN is a sine).  As one
   compare of its bits: those of floats from 0.5 up grow with them, and
   a negative's or a NaN's lie beyond 1.5's. */
static inline bool
ch_osc_is_saw(const float p)
{
  uint32_t bits;
  memcpy(&bits, &p, sizeof(bits));
  return bits - 0x3f000000u < 0x3fc00000u - 0x3f000000u; /* 0.5f, 1.5f */
}

/* A block of one sample voice by voice.  Kept apart from the longer
   blocks' loops, so that neither's registers cost the other. */
static CH_OSC_APART CH_REALTIME void
ch_osc_short(const ChNode* const nodes, uint32_t bits)
{
  const ChOscShared q = ch_osc_shared(nodes + __builtin_ctz(bits));
  CH_EACH_VOICE(nodes, bits, ch_osc_one(node, &q, 1u));
}

/* Longer blocks voice by voice. */
static CH_OSC_APART CH_REALTIME void
ch_osc_long(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  const ChOscShared q = ch_osc_shared(nodes + __builtin_ctz(bits));
  CH_EACH_VOICE(nodes, bits, ch_osc_one(node, &q, n));
}

/* The parameters are worked out once a call, from the first voice asked
   (in each of the three above, each a function of its own: a call of one
   then saves no registers for the others). */
static CH_REALTIME void
ch_osc_process_voices(const ChNode* const nodes,
                      const uint32_t      bits,
                      const uint32_t      n)
{
  if (!bits) {
    return;
  }
  const ChNode* const first = nodes + __builtin_ctz(bits);
  if (n == 1u && ch_osc_is_saw(first->param[CH_OSC_P_SHAPE]) &&
      (nodes[0].unlinked_in >> CH_OSC_IN_FM & 1u)) {
    ch_osc_lanes(nodes, first, bits); /* its usual call */
  } else if (n == 1u) {
    ch_osc_short(nodes, bits);
  } else {
    ch_osc_long(nodes, bits, n);
  }
}

const ChKind ch_kind_osc = {
  .name = "osc",
  .doc = "band-limited oscillator: sine, saw, square (PWM), triangle; the sine "
         "is a polynomial within 1e-9 of sin(); on notes up to C7 what folds "
         "back below 20 kHz stays 72 dB under the fundamental at 48 kHz",
  CH_KIND_TABLES(ch_osc_inputs, ch_osc_outputs, ch_osc_params),
  .state_size     = sizeof(ChOscState),
  .init           = ch_osc_init,
  .process        = ch_osc_process,
  .process_voices = ch_osc_process_voices,
  .lanes          = sizeof(double),
};
