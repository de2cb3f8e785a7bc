/* The `adsr` module: a gated attack-decay-sustain-release envelope. */
#include "../kind.h"

#include <math.h>
#include <stdbool.h>
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

typedef struct {
  double    level;   /* current output, 0..1 */
  double    dist;    /* decaying: level - dist_of, kept exactly */
  double    dist_of; /* the sustain level `dist` is measured from */
  AdsrCoefs coefs;
  uint32_t  stage;
  uint32_t  gate_was; /* gate and trig of the previous sample */
  uint32_t  trig_was;
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

static void
adsr_init(const ChNode* const node)
{
  AdsrState* const s = (AdsrState*)node->state;
  update_coefs(&s->coefs, node->param, node->ctx->rate);
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
   compiler vectorises them.  Returns the last value. */
static double
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
} AdsrShared;

CH_VARIANT AdsrShared
adsr_shared(const ChNode* const node)
{
  const float* const param = node->param;
  AdsrCoefs* const   c     = &((AdsrState*)node->state)->coefs;
  update_coefs(c, param, node->ctx->rate);
  return (AdsrShared){
    param[P_GATE] > 0.5f,
    adsr_unit((double)param[P_SUSTAIN]),
    *c,
  };
}

/* The process of one instance, inlined into both entry points below. */
CH_VARIANT CH_REALTIME void
adsr_one(const ChNode* const node, const AdsrShared* const q, const uint32_t n)
{
  AdsrState* const   s    = (AdsrState*)node->state;
  const float* const gate = node->in[IN_GATE];
  const float* const trig = node->in[IN_TRIG];
  float* const       out  = node->out[0];

  s->coefs = q->coefs;

  const uint32_t manual = q->manual;
  AdsrRun        r      = {
                q->sustain,
                q->coefs.attack_step,
                q->coefs.decay_coef,
                q->coefs.release_coef,
                s->level,
                0.0,
                s->stage,
                0,
  };
  /* The decay carries its distance exactly from block to block, unless
     sustain moved: then it glides from the level to the new sustain. */
  r.dist            = s->dist_of == r.sustain ? s->dist : r.level - r.sustain;
  uint32_t gate_was = s->gate_was;
  uint32_t trig_was = s->trig_was;

  /* Edges act on their own sample; between them, a stage loop runs. */
  for (uint32_t i = 0; i < n;) {
    const uint32_t g = manual || gate[i] > 0.5f;
    const uint32_t t = trig[i] > 0.5f;
    if ((g && !gate_was) || (t && !trig_was)) {
      r.stage = STAGE_ATTACK;
    } else if (!g && gate_was) {
      r.stage = STAGE_RELEASE;
    }
    gate_was   = g;
    trig_was   = t;
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

  s->level    = r.level;
  s->dist     = r.dist;
  s->dist_of  = r.sustain;
  s->stage    = r.stage;
  s->gate_was = gate_was;
  s->trig_was = trig_was;
}

CH_PROCESS_SHARED(adsr_process,
                  adsr_process_voices,
                  AdsrShared,
                  adsr_shared,
                  adsr_one)

const ChKind ch_kind_adsr = {
  CH_KIND_USUAL(adsr, AdsrState),
  .doc            = "envelope: linear attack, exponential decay and release",
  .process_voices = adsr_process_voices,
};
