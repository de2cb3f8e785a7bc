/* The `adsr` module: a gated attack-decay-sustain-release envelope. */
#include "../kind.h"
#include "lanes.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
   The curve:
   - attack: linear, rising at 1/`attack` per second from wherever the level
     is, so from silence it reaches 1.0 after `attack` seconds (a retrigger
     from 0.4 gets there in 0.6 * `attack`);
   - decay: exponential towards `sustain`; the remaining distance falls by
     60 dB (to 1/1000) in `decay` seconds.  Decay and sustain are one stage,
     so changing `sustain` while a note holds glides instead of jumping;
   - release: exponential towards 0 from the current level (so releasing in
     the middle of any stage does not click); the level falls by 60 dB in
     `release` seconds, and snaps to 0 at -100 dB.
   Gate edges (gate input OR the `gate` param) act on their own sample.  A
   rising `trig` edge restarts the attack even with the gate low: the
   envelope then rises to 1.0 and releases at once (a one-shot AR).
*/

enum { IN_GATE, IN_TRIG };
enum { P_ATTACK, P_DECAY, P_SUSTAIN, P_RELEASE, P_GATE };
enum { STAGE_IDLE, STAGE_ATTACK, STAGE_DECAY, STAGE_RELEASE };
/* A voice's `flags`: its stage in the low bits, then these. */
enum { FLAG_STAGES = 3u, FLAG_GATE = 4u, FLAG_TRIG = 8u };

/* ln(1000): a time constant of T / LN_1000 falls 60 dB in T. */
#define LN_1000 6.907755278982137
/* Release ends here (-100 dB): far below hearing, above denormals. */
#define RELEASE_FLOOR 1e-5
/* Decay snaps onto sustain this close, which also keeps denormals away. */
#define DECAY_SNAP 1e-7

/* The coefficients and the parameters they were derived from. */
typedef struct {
  double attack_step;  /* added per sample while attacking */
  double decay_coef;   /* distance to sustain is multiplied by this */
  double release_coef; /* level is multiplied by this while releasing */
  float  attack;       /* params the coefficients were derived from */
  float  decay;
  float  release;
  float  rate;
} AdsrCoefs;

/* A voice's state, in 8-byte elements so that one size serves every field
   (lanes.h): the current output `level` (0..1); while decaying, `dist` =
   level - dist_of, kept exactly, with `dist_of` the sustain level it is
   measured from; its AdsrCoefs, the four float params two to an element
   (floats_pack: fewer stores where every voice's cache is written); and
   `flags`, the STAGE_* and the gate and trig (0 or 1) of the previous
   sample (FLAG_*), below 16, so that the lanes check all three at once. */
#define ADSR_FIELDS(X)                                                         \
  X(double, level)                                                             \
  X(double, dist)                                                              \
  X(double, dist_of)                                                           \
  X(double, attack_step)                                                       \
  X(double, decay_coef)                                                        \
  X(double, release_coef)                                                      \
  X(uint64_t, attack_decay)                                                    \
  X(uint64_t, release_rate)                                                    \
  X(uint64_t, flags)

/* All voices side by side (ChKind.lanes).  The scalar code reads and
   writes its voice's elements around its loops, which keep locals. */
typedef struct {
  ADSR_FIELDS(CH_LANES_ARRAY)
} AdsrState;

static const ChPortInfo inputs[] = {
  { "gate", CH_SIGNAL_GATE, "holds the envelope open while high" },
  { "trig", CH_SIGNAL_GATE,
    "a rising edge restarts the attack from the current level" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_CV, "the envelope, 0..1" },
};

static const ChParamInfo params[] = {
  { "attack", "s", 0.0005f, 20.0f, 0.005f,
    "time of the linear rise from 0 to 1", NULL },
  { "decay", "s", 0.0005f, 20.0f, 0.2f,
    "time to fall 60 dB of the way to the sustain level", NULL },
  { "sustain", "", 0.0f, 1.0f, 0.7f, "level held while the gate is high",
    NULL },
  { "release", "s", 0.0005f, 20.0f, 0.3f,
    "time to fall 60 dB after the gate closes", NULL },
  { "gate", "", 0.0f, 1.0f, 0.0f,
    "manual gate, OR'ed with the gate input (set by ch:Gate)", NULL },
};

/* The model checks ranges; the floor only keeps a stray 0 from dividing. */
static double
seconds_to_samples(const float seconds, const float rate)
{
  return fmax((double)seconds, 1e-5) * (double)rate;
}

static void
derive_coefs(AdsrCoefs* const s, const float* const param, const float rate)
{
  if (param[P_ATTACK] != s->attack || rate != s->rate) {
    s->attack      = param[P_ATTACK];
    s->attack_step = 1.0 / seconds_to_samples(s->attack, rate);
  }
  if (param[P_DECAY] != s->decay || rate != s->rate) {
    s->decay      = param[P_DECAY];
    s->decay_coef = exp(-LN_1000 / seconds_to_samples(s->decay, rate));
  }
  if (param[P_RELEASE] != s->release || rate != s->rate) {
    s->release      = param[P_RELEASE];
    s->release_coef = exp(-LN_1000 / seconds_to_samples(s->release, rate));
  }
  s->rate = rate;
}

/* The usual call: nothing moved, four compares. */
static inline void
update_coefs(AdsrCoefs* const s, const float* const param, const float rate)
{
  if (param[P_ATTACK] != s->attack || param[P_DECAY] != s->decay ||
      param[P_RELEASE] != s->release || rate != s->rate) {
    derive_coefs(s, param, rate);
  }
}

/* Two floats in one element of the state, bit for bit. */
static inline uint64_t
floats_pack(const float lo, const float hi)
{
  const float two[2] = { lo, hi };
  uint64_t    u      = 0;
  memcpy(&u, two, sizeof(u));
  return u;
}

static inline float
floats_at(const uint64_t u, const uint32_t k)
{
  float two[2];
  memcpy(two, &u, sizeof(two));
  return two[k];
}

/* A voice's AdsrCoefs out of its state and back. */
static inline AdsrCoefs
coefs_get(const AdsrState* const L, const uint32_t v)
{
  return (AdsrCoefs){
    L->attack_step[v],
    L->decay_coef[v],
    L->release_coef[v],
    floats_at(L->attack_decay[v], 0u),
    floats_at(L->attack_decay[v], 1u),
    floats_at(L->release_rate[v], 0u),
    floats_at(L->release_rate[v], 1u),
  };
}

static inline void
coefs_put(AdsrState* const L, const uint32_t v, const AdsrCoefs* const c)
{
  L->attack_step[v]  = c->attack_step;
  L->decay_coef[v]   = c->decay_coef;
  L->release_coef[v] = c->release_coef;
  L->attack_decay[v] = floats_pack(c->attack, c->decay);
  L->release_rate[v] = floats_pack(c->release, c->rate);
}

static void
adsr_init(const ChNode* const node)
{
  AdsrState* const L = (AdsrState*)node->state;
  AdsrCoefs        c = coefs_get(L, node->voice);
  update_coefs(&c, node->param, node->ctx->rate);
  coefs_put(L, node->voice, &c);
}

/* What one block works with. */
typedef struct {
  double   sustain;
  double   step;
  double   dcoef;
  double   rcoef;
  double   level;
  double   dist; /* decaying: level - sustain, what the decay multiplies */
  uint32_t stage;
  uint32_t gate; /* the gate over the current run of samples */
} AdsrRun;

/* Longest stretch the decay and release compute in one go (stack). */
#define CHAIN_MAX 64u
/* Runs shorter than this are one plain loop: same arithmetic, less setup
   (blocks of a few samples). */
#define SHORT_RUN 8u

/* The geometric chain x * coef, x * coef^2, ... into t[0..n): the
   multiplies depend on each other, so they run alone, four per loop
   pass; the conversions to float that follow are independent and the
   compiler vectorises them.  Returns the last value.  Inlined: the call
   and its arguments, once per CHAIN_MAX samples, cost more than the copy
   of the loop. */
CH_VARIANT double
adsr_chain(double x, const double coef, double* const t, const uint32_t n)
{
  uint32_t j = 0;
  for (; j + 4u <= n; j += 4u) {
    t[j]      = x *= coef;
    t[j + 1u] = x *= coef;
    t[j + 2u] = x *= coef;
    t[j + 3u] = x *= coef;
  }
  for (; j < n; ++j) {
    t[j] = x *= coef;
  }
  return x;
}

/* out[0..n) = base + x * coef^k for k = 1..n, unchecked: a short run
   sample by sample, a longer one through adsr_chain so that the
   conversions vectorise.  Returns x * coef^n.  The decay falls to its
   sustain (base), the release to 0. */
CH_VARIANT double
adsr_fall(double         x,
          const double   coef,
          const double   base,
          float* const   out,
          const uint32_t n)
{
  if (n < SHORT_RUN) {
    for (uint32_t k = 0; k < n; ++k) {
      x *= coef;
      out[k] = (float)(base + x);
    }
    return x;
  }
  double t[CHAIN_MAX];
  for (uint32_t j = 0; j < n; j += CHAIN_MAX) {
    const uint32_t m = n - j < CHAIN_MAX ? n - j : CHAIN_MAX;
    float* const   o = out + j;
    x                = adsr_chain(x, coef, t, m);
    for (size_t k = 0; k < m; ++k) {
      o[k] = (float)(base + t[k]);
    }
  }
  return x;
}

/* The decay over out[0..n): the distance to sustain falls geometrically;
   the level is derived.  It only shrinks, so if it ends the run above the
   snap, no sample of the run snapped; else the run is done again,
   snapping.  On sustain (distance 0) it is a fill.  Returns the distance
   at the end. */
CH_VARIANT double
adsr_decay(const AdsrRun* const r, float* const out, const uint32_t n)
{
  const double sustain = r->sustain;
  const double dcoef   = r->dcoef;
  double       dist    = r->dist;
  if (dist == 0.0) {
    const float level = (float)sustain;
    for (uint32_t k = 0; k < n; ++k) {
      out[k] = level;
    }
    return dist;
  }
  dist = adsr_fall(dist, dcoef, sustain, out, n);
  if (!(fabs(dist) >= DECAY_SNAP)) {
    dist = r->dist;
    for (uint32_t k = 0; k < n; ++k) {
      dist *= dcoef;
      if (fabs(dist) < DECAY_SNAP) {
        dist = 0.0;
      }
      out[k] = (float)(sustain + dist);
    }
  }
  return dist;
}

/* The release over out[0..n) from `level`: it only falls, so if the run
   ends at or above the floor, it never crossed it; else the run is done
   again, checking, and ends idle at the floor.  Returns how many samples
   it rendered (all, or up to and including the one that reached 0). */
CH_VARIANT uint32_t
adsr_release(AdsrRun* const r, float* const out, const uint32_t n)
{
  const double rcoef = r->rcoef;
  double       fall  = r->level;
  fall               = adsr_fall(fall, rcoef, 0.0, out, n);
  if (fall >= RELEASE_FLOOR) {
    r->level = fall;
    return n;
  }
  uint32_t k = 0;
  for (; k < n && r->stage == STAGE_RELEASE; ++k) {
    r->level *= rcoef;
    if (r->level < RELEASE_FLOOR) {
      r->level = 0.0;
      r->stage = STAGE_IDLE;
    }
    out[k] = (float)r->level;
  }
  return k;
}

/* Renders `n` samples with no gate or trigger edge among them: one loop
   per stage, left when the stage ends. */
CH_VARIANT void
adsr_run(AdsrRun* const r, float* const out, const uint32_t n)
{
  uint32_t k = 0;
  while (k < n) {
    switch (r->stage) {
    case STAGE_ATTACK: {
      double level = r->level; /* a local: stores to `out` force no reload */
      for (; k < n && r->stage == STAGE_ATTACK; ++k) {
        level += r->step;
        if (level >= 1.0) {
          level    = 1.0;
          r->stage = r->gate ? STAGE_DECAY : STAGE_RELEASE;
          r->dist  = level - r->sustain;
        }
        out[k] = (float)level;
      }
      r->level = level;
      break;
    }
    case STAGE_DECAY:
      r->dist  = adsr_decay(r, out + k, n - k);
      r->level = r->sustain + r->dist;
      k        = n;
      break;
    case STAGE_RELEASE:
      k += adsr_release(r, out + k, n - k);
      break;
    default:
      r->level = 0.0;
      for (; k < n; ++k) {
        out[k] = 0.0f;
      }
      break;
    }
  }
}

/* Clamped to 0..1 by comparisons (fmin/fmax stay library calls without
   -ffinite-math-only); a NaN lands on 0. */
static inline double
adsr_unit(const double x)
{
  return x > 0.0 ? (x < 1.0 ? x : 1.0) : 0.0;
}

/* Whether gate and trig hold the bits of their first sample to the end
   of the block: one pass without an early exit over the bits, which the
   compiler vectorises. */
static bool
same_to_end(const float* const gate, const float* const trig, const uint32_t n)
{
  uint32_t g0 = 0;
  uint32_t t0 = 0;
  memcpy(&g0, gate, sizeof(g0));
  memcpy(&t0, trig, sizeof(t0));
  uint32_t diff = 0;
  for (uint32_t i = 0; i < n; ++i) { /* from 0: no odd tail to finish */
    uint32_t g = 0;
    uint32_t t = 0;
    memcpy(&g, gate + i, sizeof(g));
    memcpy(&t, trig + i, sizeof(t));
    diff |= (g ^ g0) | (t ^ t0);
  }
  return !diff;
}

/* What the parameters give, the same for every voice of a module: worked
   out once per call.  The coefficients come from the first voice's cache,
   checked against the parameters once; each voice's cache is then written
   as its own check would leave it (one copy is cheaper than four compares
   and their branches). */
typedef struct {
  uint32_t  manual;  /* the manual gate */
  double    sustain; /* clamped */
  AdsrCoefs coefs;
  uint64_t  attack_decay; /* coefs' params as the state holds them */
  uint64_t  release_rate;
} AdsrShared;

CH_VARIANT AdsrShared
adsr_shared(const ChNode* const node)
{
  const AdsrState* const L     = (const AdsrState*)node->state;
  const uint32_t         v     = node->voice;
  const float* const     param = node->param;
  AdsrCoefs              c     = coefs_get(L, v);
  update_coefs(&c, param, node->ctx->rate);
  AdsrShared q = {
    .manual  = param[P_GATE] > 0.5f,
    .sustain = adsr_unit((double)param[P_SUSTAIN]),
    .coefs   = c,
  };
  q.attack_decay = floats_pack(c.attack, c.decay);
  q.release_rate = floats_pack(c.release, c.rate);
  return q;
}

/* The process of one instance, inlined into both entry points below. */
CH_VARIANT CH_REALTIME void
adsr_one(const ChNode* const node, const AdsrShared* const q, const uint32_t n)
{
  AdsrState* const   L    = (AdsrState*)node->state;
  const uint32_t     v    = node->voice;
  const float* const gate = node->in[IN_GATE];
  const float* const trig = node->in[IN_TRIG];
  float* const       out  = node->out[0];

  /* the cache as this voice's own check would leave it */
  L->attack_step[v]  = q->coefs.attack_step;
  L->decay_coef[v]   = q->coefs.decay_coef;
  L->release_coef[v] = q->coefs.release_coef;
  L->attack_decay[v] = q->attack_decay;
  L->release_rate[v] = q->release_rate;

  const uint32_t manual = q->manual;
  const uint32_t flags  = (uint32_t)L->flags[v];
  AdsrRun        r      = {
                q->sustain,          q->coefs.attack_step,
                q->coefs.decay_coef, q->coefs.release_coef,
                L->level[v],         0.0,
                flags & FLAG_STAGES, 0,
  };
  /* The decay carries its distance exactly from block to block, unless
     sustain moved: then it glides from the level to the new sustain. */
  r.dist       = L->dist_of[v] == r.sustain ? L->dist[v] : r.level - r.sustain;
  uint32_t was = flags & (FLAG_GATE | FLAG_TRIG); /* the previous sample's */

  /* Edges act on their own sample; between them, a stage loop runs. */
  for (uint32_t i = 0; i < n;) {
    const uint32_t g   = manual || gate[i] > 0.5f;
    const uint32_t t   = trig[i] > 0.5f;
    const uint32_t now = (g ? FLAG_GATE : 0u) | (t ? FLAG_TRIG : 0u);
    if (now & ~was) { /* a rising gate or trig */
      r.stage = STAGE_ATTACK;
    } else if (was & ~now & FLAG_GATE) {
      r.stage = STAGE_RELEASE;
    }
    was        = now;
    r.gate     = g;
    uint32_t j = n; /* a block of one sample has no more to look at */
    if (n > 1u) {
      j = i + 1u;
      if (i == 0 && same_to_end(gate, trig, n)) {
        j = n; /* the usual block: no edge after its first sample */
      }
      while (j < n && (manual || gate[j] > 0.5f) == g &&
             (trig[j] > 0.5f) == t) {
        ++j;
      }
    }
    adsr_run(&r, out + i, j - i);
    i = j;
  }

  L->level[v]   = r.level;
  L->dist[v]    = r.dist;
  L->dist_of[v] = r.sustain;
  L->flags[v]   = r.stage | was;
}

static CH_REALTIME void
adsr_process(const ChNode* const node, const uint32_t n)
{
  const AdsrShared q = adsr_shared(node);
  adsr_one(node, &q, n);
}

static inline ChD2
d2_of(const double x)
{
  return (ChD2){ x, x };
}

/* What a call's one-sample lanes share, in both lanes: AdsrShared's
   sustain, manual gate (a mask) and the coefficient cache. */
typedef struct {
  ChD2 sustain;
  ChI4 manual;
  ChD2 attack_step;
  ChD2 decay_coef;
  ChD2 release_coef;
  ChL2 attack_decay;
  ChL2 release_rate;
} AdsrPairs;

static AdsrPairs
adsr_pairs(const AdsrShared* const q)
{
  const int32_t m  = -(int32_t)q->manual;
  const int64_t ad = (int64_t)q->attack_decay;
  const int64_t rr = (int64_t)q->release_rate;
  return (AdsrPairs){
    d2_of(q->sustain),
    (ChI4){ m, m, m, m },
    d2_of(q->coefs.attack_step),
    d2_of(q->coefs.decay_coef),
    d2_of(q->coefs.release_coef),
    (ChL2){ ad, ad },
    (ChL2){ rr, rr },
  };
}

/* Lanes `at`, `at` + 1 of a lanes array of any 8-byte element. */
static inline ChD2
d2_at(const void* const array, const uint32_t at)
{
  return ch_d2_at((const double*)array, at);
}

/* Stores `v` into lanes `at`, `at` + 1 of `array`: both if `all`, else
   those of `w`. */
static inline void
d2_put(void* const    array,
       const uint32_t at,
       const ChL2     w,
       const bool     all,
       const ChD2     v)
{
  ch_d2_put((double*)array, at, all ? v : ch_d2_pick(w, v, d2_at(array, at)));
}

/* One sample of the decay (or sustain) of lanes `at`, `at` + 1 (group[j],
   group[j + 1]) in the lanes of `w`: adsr_one's start (the distance
   carried, or a glide to a sustain that moved), adsr_decay's step with its
   snap or, on sustain (distance 0), its fill, and adsr_run's level,
   operation for operation, so the bits are the same.  Stage, gate and
   trig stay. */
CH_VARIANT void
adsr_pair_decay(AdsrState* const       L,
                const ChNode* const    group,
                const AdsrPairs* const k,
                const uint32_t         at,
                const uint32_t         j,
                const uint32_t         bits)
{
  const bool all     = bits == 3u;
  const ChL2 w       = { -(int64_t)(bits & 1u), -(int64_t)(bits >> 1u) };
  const ChD2 sustain = k->sustain;
  const ChD2 zero    = { 0.0, 0.0 };
  const ChD2 snap    = { DECAY_SNAP, DECAY_SNAP };
  const ChD2 level   = d2_at(L->level, at);
  const ChL2 same    = (ChL2)(d2_at(L->dist_of, at) == sustain);
  const ChD2 d0      = (ChD2)((same & (ChL2)d2_at(L->dist, at)) |
                         (~same & (ChL2)(level - sustain)));
  const ChD2 x       = d0 * k->decay_coef;
  const ChD2 ax      = (ChD2)((ChL2)x & INT64_MAX);
  /* snapped: 0 where |x| is under the snap (x's bits there are not 0) */
  const ChD2 xs   = (ChD2)(~(ChL2)(ax < snap) & (ChL2)x);
  const ChL2 fill = (ChL2)(d0 == zero);
  const ChD2 d1   = (ChD2)((fill & (ChL2)d0) | (~fill & (ChL2)xs));
  const ChD2 y    = sustain + d1;
  d2_put(L->level, at, w, all, y);
  d2_put(L->dist, at, w, all, d1);
  d2_put(L->dist_of, at, w, all, sustain);
  /* the cache, as adsr_one leaves it */
  d2_put(L->attack_step, at, w, all, k->attack_step);
  d2_put(L->decay_coef, at, w, all, k->decay_coef);
  d2_put(L->release_coef, at, w, all, k->release_coef);
  d2_put(L->attack_decay, at, w, all, (ChD2)k->attack_decay);
  d2_put(L->release_rate, at, w, all, (ChD2)k->release_rate);
  if (bits & 1u) {
    group[j].out[0][0] = (float)y[0];
  }
  if (bits & 2u) {
    group[j + 1u].out[0][0] = (float)y[1];
  }
}

/* One sample of the voices `bits4` in lanes 4g .. 4g + 3.  Those whose
   gate and trig hold and that are decaying run two by two; the others (an
   edge, another stage) go through adsr_one.  The flags are compared in
   their low halves: they are below 16. */
CH_VARIANT void
adsr_group(const ChNode* const     nodes,
           const AdsrShared* const q,
           const AdsrPairs* const  k,
           const uint32_t          bits4,
           const uint32_t          g)
{
  AdsrState* const    L     = (AdsrState*)nodes[0].state;
  const ChNode* const group = nodes + 4u * g;
  const ChF4          half  = { 0.5f, 0.5f, 0.5f, 0.5f };
  const ChI4 decay = { STAGE_DECAY, STAGE_DECAY, STAGE_DECAY, STAGE_DECAY };
  const ChI4 gate  = { FLAG_GATE, FLAG_GATE, FLAG_GATE, FLAG_GATE };
  const ChI4 trig  = { FLAG_TRIG, FLAG_TRIG, FLAG_TRIG, FLAG_TRIG };
  const ChI4 gm    = (ch_f4_input(group, bits4, IN_GATE) > half) | k->manual;
  const ChI4 tm    = ch_f4_input(group, bits4, IN_TRIG) > half;
  /* the flags of a decay whose gate and trig are as they were */
  const ChI4      flags = decay + (gm & gate) + (tm & trig);
  const uint64_t* was   = L->flags + 4u * g;
  const ChI4      low   = { (int32_t)was[0], (int32_t)was[1], (int32_t)was[2],
                            (int32_t)was[3] };
  const uint32_t  ok    = ch_i4_bits(low == flags) & bits4;
  if ((ok & 3u) == 3u) {
    adsr_pair_decay(L, group, k, 4u * g, 0u, 3u);
  } else if (ok & 3u) {
    adsr_pair_decay(L, group, k, 4u * g, 0u, ok & 3u);
  }
  if ((ok & 12u) == 12u) {
    adsr_pair_decay(L, group, k, 4u * g + 2u, 2u, 3u);
  } else if (ok & 12u) {
    adsr_pair_decay(L, group, k, 4u * g + 2u, 2u, ok >> 2u);
  }
  for (uint32_t rest = bits4 & ~ok; rest; rest &= rest - 1u) {
    adsr_one(&group[__builtin_ctz(rest)], q, 1u);
  }
}

/* A whole group, the usual case, compiles without the tests of bits4. */
CH_VARIANT CH_REALTIME void
adsr_lanes_one(const ChNode* const     nodes,
               const AdsrShared* const q,
               const AdsrPairs* const  k,
               const uint32_t          bits4,
               const uint32_t          g)
{
  if (bits4 == 15u) {
    adsr_group(nodes, q, k, 15u, g);
  } else {
    adsr_group(nodes, q, k, bits4, g);
  }
}

/* The parameters' part of a one-sample call, in both lanes.  Usually
   the first voice's cache holds the parameters and the rate bit for bit:
   then update_coefs keeps it as it is (or, for a NaN, derives again what
   it holds: each coefficient is stored with the parameter and rate it was
   derived from), so it is read as it is, two compares of words instead
   of four of floats.  Otherwise adsr_shared does the work. */
CH_VARIANT AdsrPairs
adsr_pairs_lanes(const ChNode* const node)
{
  _Static_assert(P_DECAY == P_ATTACK + 1, "attack, decay: one word");
  const AdsrState* const L     = (const AdsrState*)node->state;
  const uint32_t         v     = node->voice;
  const float* const     param = node->param;
  uint64_t               ad    = 0;
  memcpy(&ad, param + P_ATTACK, sizeof(ad));
  const uint64_t rr = floats_pack(param[P_RELEASE], node->ctx->rate);
  if (ad != L->attack_decay[v] || rr != L->release_rate[v]) {
    const AdsrShared q = adsr_shared(node);
    return adsr_pairs(&q);
  }
  const int32_t m = -(int32_t)(param[P_GATE] > 0.5f);
  return (AdsrPairs){
    d2_of(adsr_unit((double)param[P_SUSTAIN])),
    (ChI4){ m, m, m, m },
    d2_of(L->attack_step[v]),
    d2_of(L->decay_coef[v]),
    d2_of(L->release_coef[v]),
    (ChL2){ (int64_t)ad, (int64_t)ad },
    (ChL2){ (int64_t)rr, (int64_t)rr },
  };
}

/* A group that adsr_group_fast did not take, out of line (the usual call
   has none), its shared part worked out again (the fast groups keep only
   its lanes).  From the first voice's cache as this call may have left
   it already: update_coefs keeps what it derived, so the same. */
static CH_REALTIME __attribute__((noinline)) void
adsr_group_slow(const ChNode* const nodes,
                const uint32_t      bits,
                const uint32_t      bits4,
                const uint32_t      g)
{
  const AdsrShared q = adsr_shared(nodes + __builtin_ctz(bits));
  const AdsrPairs  k = adsr_pairs(&q);
  adsr_lanes_one(nodes, &q, &k, bits4, g);
}

/* A group's lanes are read and written from `p`, the state's address
   advanced to its first lane (a moving pointer: each field is then a
   constant offset from it, where an index costs an address computation
   per field). */
static inline ChD2
adsr_get(const char* const p, const size_t field, const uint32_t j)
{
  return ch_d2_at((const double*)(p + field), j);
}

static inline void
adsr_put(char* const p, const size_t field, const uint32_t j, const ChD2 v)
{
  ch_d2_put((double*)(p + field), j, v);
}

#define ADSR_FIELD(field) offsetof(AdsrState, field)

/* The cache of a group's four lanes (`p`), as adsr_one leaves it. */
static inline void
adsr_cache_put(char* const p, const AdsrPairs* const k)
{
  for (uint32_t j = 0; j < 4u; j += 2u) {
    adsr_put(p, ADSR_FIELD(attack_step), j, k->attack_step);
    adsr_put(p, ADSR_FIELD(decay_coef), j, k->decay_coef);
    adsr_put(p, ADSR_FIELD(release_coef), j, k->release_coef);
    adsr_put(p, ADSR_FIELD(attack_decay), j, (ChD2)k->attack_decay);
    adsr_put(p, ADSR_FIELD(release_rate), j, (ChD2)k->release_rate);
  }
}

/* Whether all three masks are set in every lane (their layouts may
   differ: only all lanes together are asked about). */
static inline bool
all4(const ChI4 a, const ChI4 b, const ChI4 c)
{
  return ch_i4_bits(a & b & c) == 15u;
}

/* The usual sample of a group of four voices, all asked, their lanes at
   `p` and `gate` and `trig` their inputs: each decays on, or holds
   sustain, with gate and trig as they were and its distance measured from
   this sustain (the same bits).  Then adsr_pair_decay's work needs
   neither the level nor the glide, dist_of stays, and its snap and fill
   are whole-group cases: every new distance at or beyond the snap (so not
   0, nor a NaN), or every distance 0 (a fill; +0: -0 goes the exact way).
   Returns false, having written nothing, when the group is otherwise. */
CH_VARIANT bool
adsr_group_fast(char* const            p,
                const AdsrPairs* const k,
                const ChF4             gate,
                const ChF4             trig,
                ChF4* const            out)
{
  const ChF4 half  = { 0.5f, 0.5f, 0.5f, 0.5f };
  const ChD2 snap  = { DECAY_SNAP, DECAY_SNAP };
  const ChL2 abs   = { INT64_MAX, INT64_MAX };
  const ChI4 decay = { STAGE_DECAY, STAGE_DECAY, STAGE_DECAY, STAGE_DECAY };
  const ChI4 gf    = { FLAG_GATE, FLAG_GATE, FLAG_GATE, FLAG_GATE };
  const ChI4 tf    = { FLAG_TRIG, FLAG_TRIG, FLAG_TRIG, FLAG_TRIG };
  const ChI4 zero  = { 0, 0, 0, 0 };
  const ChI4 flags =
    decay + (((gate > half) | k->manual) & gf) + ((trig > half) & tf);
  const ChI4 f01 = (ChI4)adsr_get(p, ADSR_FIELD(flags), 0u);
  const ChI4 f23 = (ChI4)adsr_get(p, ADSR_FIELD(flags), 2u);
  const ChI4 low = __builtin_shufflevector(f01, f23, 0, 2, 4, 6);
  const ChI4 s   = (ChI4)k->sustain;
  const ChI4 as  = (low == flags) &
                  ((ChI4)adsr_get(p, ADSR_FIELD(dist_of), 0u) == s) &
                  ((ChI4)adsr_get(p, ADSR_FIELD(dist_of), 2u) == s);
  ChD2       d0 = adsr_get(p, ADSR_FIELD(dist), 0u);
  ChD2       d1 = adsr_get(p, ADSR_FIELD(dist), 2u);
  const ChD2 x0 = d0 * k->decay_coef;
  const ChD2 x1 = d1 * k->decay_coef;
  if (all4(as, (ChI4)((ChD2)((ChL2)x0 & abs) >= snap),
           (ChI4)((ChD2)((ChL2)x1 & abs) >= snap))) {
    d0 = x0;
    d1 = x1;
    adsr_put(p, ADSR_FIELD(dist), 0u, d0);
    adsr_put(p, ADSR_FIELD(dist), 2u, d1);
  } else if (!all4(as, (ChI4)d0 == zero, (ChI4)d1 == zero)) {
    return false;
  }
  const ChD2 y0 = k->sustain + d0;
  const ChD2 y1 = k->sustain + d1;
  adsr_put(p, ADSR_FIELD(level), 0u, y0);
  adsr_put(p, ADSR_FIELD(level), 2u, y1);
  adsr_cache_put(p, k);
  *out = ch_f4_of_d2(y0, y1);
  return true;
}

/* Where a one-sample call with the inputs and the output side by side
   (ChNode.strided_in, strided_out: voice k's frame k floats after voice
   0's), as a graph lays out a voice module's gate and trig and the
   output's reader, finds its groups: loaded once a call. */
typedef struct {
  char*        state;
  const float* gate;
  const float* trig;
  float*       out;
} AdsrStrided;

/* Group g of such a call: its frames are one vector each. */
CH_VARIANT void
adsr_group_strided(const ChNode* const      nodes,
                   const AdsrStrided* const b,
                   const AdsrPairs* const   k,
                   const uint32_t           bits,
                   const uint32_t           g)
{
  const uint32_t bits4 = bits >> 4u * g & 15u;
  if (bits4 == 15u) {
    ChF4 gate;
    ChF4 trig;
    ChF4 y;
    memcpy(&gate, b->gate + 4u * g, sizeof(gate));
    memcpy(&trig, b->trig + 4u * g, sizeof(trig));
    if (adsr_group_fast(b->state + 4u * g * sizeof(double), k, gate, trig,
                        &y)) {
      memcpy(b->out + 4u * g, &y, sizeof(y));
      return;
    }
  }
  if (bits4) {
    adsr_group_slow(nodes, bits, bits4, g);
  }
}

/* A block of one sample so laid out, four voices at a time; the groups
   unrolled, so that each finds its lanes and buffers at constant offsets. */
CH_VARIANT void
adsr_lanes_strided(const ChNode* const nodes, const uint32_t bits)
{
  const AdsrPairs   k = adsr_pairs_lanes(nodes + __builtin_ctz(bits));
  const AdsrStrided b = { (char*)nodes[0].state, nodes[0].in[IN_GATE],
                          nodes[0].in[IN_TRIG], nodes[0].out[0] };
#pragma GCC unroll 4
  for (uint32_t g = 0; g < CH_LANES / 4u; ++g) {
    if (!(bits >> 4u * g)) {
      break;
    }
    adsr_group_strided(nodes, &b, &k, bits, g);
  }
}

/* The same with the buffers anywhere. */
CH_VARIANT void
adsr_lanes_any(const ChNode* const nodes, const uint32_t bits)
{
  const AdsrPairs k = adsr_pairs_lanes(nodes + __builtin_ctz(bits));
  char* const     L = (char*)nodes[0].state;
  uint32_t        g = 0;
  for (uint32_t b = bits; b; b >>= 4u, ++g) {
    const ChNode* const group = nodes + 4u * g;
    ChF4                y;
    if ((b & 15u) == 15u &&
        adsr_group_fast(L + 4u * g * sizeof(double), &k,
                        ch_f4_input(group, 15u, IN_GATE),
                        ch_f4_input(group, 15u, IN_TRIG), &y)) {
      ch_f4_output(group, 15u, 0u, y);
    } else if (b & 15u) {
      adsr_group_slow(nodes, bits, b & 15u, g);
    }
  }
}

/* A block of one sample with no group all asked (a mono patch, a voice or
   two awake), for which the fast groups have nothing: the shared part
   once for all.  Out of line, so that the usual call keeps its
   registers. */
static CH_REALTIME __attribute__((noinline)) void
adsr_lanes_partial(const ChNode* const nodes, const uint32_t bits)
{
  const AdsrShared q = adsr_shared(nodes + __builtin_ctz(bits));
  const AdsrPairs  k = adsr_pairs(&q);
  CH_EACH_GROUP(bits, adsr_lanes_one(nodes, &q, &k, bits4, g));
}

/* A block of one sample.  A function of its own, so that the longer
   blocks' loop below compiles as if it were alone. */
static CH_REALTIME __attribute__((noinline)) void
adsr_lanes(const ChNode* const nodes, const uint32_t bits)
{
  const uint32_t ins = 1u << IN_GATE | 1u << IN_TRIG;
  if (!ch_first_group_full(bits)) {
    adsr_lanes_partial(nodes, bits);
  } else if ((nodes[0].strided_in & ins) == ins &&
             (nodes[0].strided_out & 1u)) {
    adsr_lanes_strided(nodes, bits);
  } else {
    adsr_lanes_any(nodes, bits);
  }
}

/* Longer blocks run voice by voice.  The parameters' part is worked out
   once a call, from the first voice asked (adsr_one leaves every voice's
   cache as its own call would). */
static CH_REALTIME void
adsr_process_voices(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  if (!bits) {
    return;
  }
  if (n == 1u) {
    adsr_lanes(nodes, bits);
    return;
  }
  const AdsrShared q = adsr_shared(nodes + __builtin_ctz(bits));
  CH_EACH_VOICE(nodes, bits, adsr_one(node, &q, n));
}

const ChKind ch_kind_adsr = {
  CH_KIND_USUAL(adsr, AdsrState),
  .doc            = "envelope: linear attack, exponential decay and release",
  .process_voices = adsr_process_voices,
  .lanes          = sizeof(double),
};
