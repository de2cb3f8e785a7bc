/* Tests of ChKind.process_voices: for every kind that has one, one call for
   several voices leaves every output and state exactly as the kind's
   process called voice by voice, and leaves the voices not asked alone. */
#include "../src/registry.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RATE   48000.0f
#define VOICES 8u

/* Eight instances of one module, as a graph lays them out: nodes side by
   side, parameters shared, each with its buffers and its state (one state
   for all of a lanes kind's instances, each in its own lane). */
typedef struct {
  ChContext    ctx;
  ChHostInputs host;
  float        param[CH_MAX_PARAMS];
  ChNode       nodes[VOICES];
  void*        state[VOICES];
  /* per port, the voices' buffers side by side, as a graph lays out a
     module copied per voice (ChNode.strided_in, strided_out) */
  float        in[CH_MAX_PORTS][VOICES][CH_MAX_BLOCK];
  float        out[CH_MAX_PORTS][VOICES][CH_MAX_BLOCK];
  const float* in_ptr[VOICES][CH_MAX_PORTS];
  float*       out_ptr[VOICES][CH_MAX_PORTS];
  float        left[CH_MAX_BLOCK];
  float        right[CH_MAX_BLOCK];
  size_t       state_size;
  size_t       notes;
  uint32_t     unlinked; /* ChNode.unlinked_in: these inputs read zeros */
  uint32_t     unread;   /* ChNode.unread_out */
  uint32_t     kept;     /* ChNode.kept_out (the buffers are the node's) */
  uint32_t     strided;  /* ChNode.strided_in and _out: all or none */
  int          one;      /* ... laid out for blocks of one sample */
  int          held;     /* inputs hold for 8 blocks, knobs stay moved */
} Voices;

/* A knob's value away from its default (some kinds are silent there). */
static float
param_moved(const ChParamInfo* const info)
{
  return info->min + 0.3f * (info->max - info->min);
}

static Voices*
voices_new(const ChKind* const kind,
           const uint32_t      unlinked,
           const uint32_t      unread,
           const uint32_t      kept,
           const uint32_t      strided,
           const int           held)
{
  Voices* const v = (Voices*)calloc(1, sizeof(Voices));
  v->ctx.rate     = RATE;
  v->ctx.inv_rate = 1.0f / RATE;
  v->ctx.host     = &v->host;
  v->ctx.voices   = VOICES;
  v->ctx.out[0]   = v->left;
  v->ctx.out[1]   = v->right;
  v->state_size   = ch_kind_state_size(kind, RATE);
  v->notes        = kind->notes;
  v->unlinked     = unlinked & ((1u << kind->n_inputs) - 1u);
  v->unread       = unread & ((1u << kind->n_outputs) - 1u);
  v->ctx.id       = 1u;
  v->kept         = kept & ((1u << kind->n_outputs) - 1u);
  v->strided      = strided;
  v->held         = held;
  for (uint32_t p = 0; p < kind->n_params; ++p) {
    v->param[p] = held ? param_moved(&kind->params[p]) : kind->params[p].def;
  }
  for (uint32_t k = 0; k < VOICES; ++k) {
    if (k == 0u || !kind->lanes) {
      v->state[k] = aligned_alloc(64, (v->state_size + 63u) / 64u * 64u);
      memset(v->state[k], 0, v->state_size);
    } else {
      v->state[k] = v->state[0];
    }
    for (uint32_t p = 0; p < CH_MAX_PORTS; ++p) {
      v->in_ptr[k][p]  = v->in[p][k];
      v->out_ptr[k][p] = v->out[p][k];
    }
    const ChNode node = {
      v->state[k], v->in_ptr[k], v->out_ptr[k], v->param, &v->ctx, k,
      v->unlinked, v->unread,    v->kept,       strided,  strided,
    };
    memcpy(&v->nodes[k], &node, sizeof(node));
    if (kind->init) {
      kind->init(&v->nodes[k]);
    }
  }
  return v;
}

/* As the graph lays side-by-side buffers out for a block of `n` frames
   (ChNode.strided_in: voice k's frame k floats after voice 0's in a
   block of one sample): the pointers when the length's kind changes, with
   a new ChContext.id (kept outputs write theirs again), and the frame
   each voice reads where its pointer now points. */
static void
voices_lay_out(Voices* const v, const uint32_t n)
{
  if (!v->strided) {
    return;
  }
  const int one = n == 1u;
  for (uint32_t k = 0; k < VOICES && one != v->one; ++k) {
    for (uint32_t p = 0; p < CH_MAX_PORTS; ++p) {
      v->in_ptr[k][p]  = one ? v->in[p][0] + k : v->in[p][k];
      v->out_ptr[k][p] = one ? v->out[p][0] + k : v->out[p][k];
    }
  }
  v->ctx.id += one != v->one;
  v->one = one;
  for (uint32_t k = 1; k < VOICES && one; ++k) {
    for (uint32_t p = 0; p < CH_MAX_PORTS; ++p) {
      v->in[p][0][k] = v->in[p][k][0];
    }
  }
}

static void
voices_free(Voices* const v)
{
  for (uint32_t k = 0; k < VOICES; ++k) {
    if (k == 0u || v->state[k] != v->state[0]) {
      free(v->state[k]);
    }
  }
  free(v);
}

/* Block `b` of what each voice reads: notes that start, hold and stop
   (counters and gates moving at the block's first frame, as the host does),
   inputs that differ per voice, with gate edges inside the block, and
   parameters that change every 6 blocks; or, `held`, inputs that hold
   for 8 blocks at a time and parameters that stay where they started (a
   voice's pitch as a chord holds: the call a kind's lanes take). */
static void
voices_feed(Voices* const v, const ChKind* const kind, const uint32_t b)
{
  for (uint32_t k = 0; k < VOICES; ++k) {
    ChVoiceInputs* const h = &v->host.voice[k];
    h->pitch               = (float)k * 0.25f - 0.5f + (float)(b % 3u) / 12.0f;
    h->gate                = (b + k) % 5u < 3u ? 1.0f : 0.0f;
    h->velocity            = 0.5f + 0.1f * (float)k;
    h->trigger += (b + k) % 4u == 0u;
    h->release += (b + k) % 5u == 3u;
    for (uint32_t p = 0; p < kind->n_inputs; ++p) {
      for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
        const uint32_t t =
          v->held ? 100u * (b / 8u + 1u) : b * CH_MAX_BLOCK + i;
        v->in[p][k][i] =
          v->unlinked >> p & 1u ? 0.0f
          : kind->inputs[p].signal == CH_SIGNAL_GATE
            ? (float)((t / (7u + k) + p) % 3u == 0u)
            : (float)(0.3 * sin(0.01 * (double)((k + 1u) * (p + 1u) * t)));
      }
    }
  }
  /* the knobs move now and then, each at its own time, so that cached
     coefficients must follow each (in every voice, also those not asked
     when they moved) */
  for (uint32_t p = 0; p < kind->n_params; ++p) {
    const ChParamInfo* const info = &kind->params[p];
    v->param[p] =
      (b / (6u + p)) % 2u || v->held ? param_moved(info) : info->def;
  }
  v->host.bend = 0.1f * (float)(b % 2u);
  v->host.mod  = 0.2f;
}

/* Outputs nobody reads may be left unwritten: they are not compared. */
static int
voices_same(const Voices* const a, const Voices* const b)
{
  int same = !memcmp(a->left, b->left, sizeof(a->left)) &&
             !memcmp(a->right, b->right, sizeof(a->right));
  for (uint32_t k = 0; k < VOICES; ++k) {
    for (uint32_t o = 0; o < CH_MAX_PORTS; ++o) {
      same =
        same && ((a->unread >> o & 1u) ||
                 !memcmp(a->out[o][k], b->out[o][k], sizeof(a->out[o][k])));
    }
  }
  for (uint32_t k = 0; k < VOICES; ++k) {
    /* but for the module's notes (ChKind.notes) */
    same = same && !memcmp(a->state[k], b->state[k], a->state_size - a->notes);
  }
  return same;
}

/* `a` voice by voice, `b` in one call; whether they agree after it. */
static int
voices_run(const ChKind* const kind,
           Voices* const       a,
           Voices* const       b,
           const uint32_t      mask,
           const uint32_t      n)
{
  voices_lay_out(a, n);
  voices_lay_out(b, n);
  for (uint32_t k = 0; k < VOICES; ++k) {
    if (mask >> k & 1u) {
      kind->process(&a->nodes[k], n);
    }
  }
  kind->process_voices(b->nodes, mask, n);
  return voices_same(a, b);
}

/* How a module's instances are wired (ChNode's bits, the same for all). */
typedef struct {
  const char* name;
  uint32_t    unlinked; /* these inputs read zeros */
  uint32_t    unread;   /* nobody reads these outputs */
  uint32_t    kept;     /* these outputs keep their buffers */
  uint32_t    strided;  /* the voices' buffers are side by side, and told */
  int         held;     /* inputs hold for 8 blocks, knobs stay moved */
} Wiring;

/* Blocks of 1, 17 and 64 frames, the voices asked changing (in one group
   of four lanes, the other, or both), wired as `w` says. */
static int
check_kind(const ChKind* const kind, const Wiring* const w)
{
  static const uint32_t blocks[] = { 1, 17, 64, 1, 1, 64, 17, 1 };
  static const uint32_t masks[]  = { 0xff, 0xb5, 0x50, 0x0f,
                                     0x08, 0xe3, 0xff, 0x01 };
  Voices* const         a =
    voices_new(kind, w->unlinked, w->unread, w->kept, w->strided, w->held);
  Voices* const b =
    voices_new(kind, w->unlinked, w->unread, w->kept, w->strided, w->held);
  int same = voices_same(a, b);
  for (uint32_t r = 0; r < 40u && same; ++r) {
    const uint32_t n    = blocks[r % 8u];
    const uint32_t mask = masks[(r / 8u + r) % 8u];
    voices_feed(a, kind, r);
    voices_feed(b, kind, r);
    same = voices_run(kind, a, b, mask, n);
  }
  /* and they made sound, so that the comparison says something */
  int sound = 0;
  for (uint32_t i = 0; i < sizeof(a->out) / sizeof(float); ++i) {
    sound |= (&a->out[0][0][0])[i] != 0.0f;
  }
  CHECK_MSG(sound, "%s wrote only zeros (%s)", kind->name, w->name);
  voices_free(a);
  voices_free(b);
  return same;
}

static void
test_same_as_voice_by_voice(void)
{
  /* all wired; the first input and output alone (a kind's usual call),
     with buffers side by side or not; every input linked, only the first
     output read; everything kept and side by side */
  static const Wiring wirings[] = {
    { "all wired", 0u, 0u, 0u, 0u, 0 },
    { "first ports", ~1u, ~1u, 0u, 0u, 0 },
    { "first ports, side by side", ~1u, ~1u, 0u, ~0u, 0 },
    { "first output", 0u, ~1u, 0u, 0u, 0 },
    { "kept, side by side", 0u, 0u, ~0u, ~0u, 0 },
    /* the first ports, inputs and knobs holding still: a kind's lanes */
    { "held, side by side", ~1u, ~1u, 0u, ~0u, 1 },
  };
  uint32_t with = 0;
  for (uint32_t i = 0; i < ch_registry_count(); ++i) {
    const ChKind* const kind = ch_registry_at(i);
    if (kind->process_voices) {
      ++with;
      for (size_t w = 0; w < CH_COUNT(wirings); ++w) {
        CHECK_MSG(check_kind(kind, &wirings[w]), "%s, %s", kind->name,
                  wirings[w].name);
      }
    }
  }
  /* the voice path of the factory patches: voice, osc, svf, adsr, vca */
  CHECK(with >= 5u);
  CHECK(ch_registry_find("osc")->process_voices != NULL);
  CHECK(ch_registry_find("adsr")->process_voices != NULL);
}

/* A module's instances with every output kept and every buffer side by
   side, as a graph lays out the voice module. */
static Voices*
voices_kept(const ChKind* const kind)
{
  return voices_new(kind, 0u, 0u, ~0u, ~0u, 0);
}

/* The voice module skips a voice at block 1 whose outputs would show what
   they show already.  After a longer block, its buffers' first frame holds
   that block's first sample: a glide that landed inside the block must
   not be taken for what they show (nor must a note's start). */
static void
test_voice_after_a_landed_glide(void)
{
  const ChKind* const   kind    = ch_registry_find("voice");
  Voices* const         a       = voices_kept(kind);
  Voices* const         b       = voices_kept(kind);
  static const uint32_t steps[] = { 1, 1, 64, 1, 1, 1 };
  a->param[3] = b->param[3] = 0.00002f; /* glide: lands within 30 frames */
  int same                  = 1;
  for (uint32_t r = 0; r < CH_COUNT(steps); ++r) {
    for (uint32_t k = 0; k < 2u; ++k) {
      Voices* const v          = k ? b : a;
      v->host.voice[0].gate    = 1.0f;
      v->host.voice[0].trigger = 1u;
      v->host.voice[0].pitch   = r < 2u ? 0.0f : 1.0f; /* up an octave */
    }
    voices_lay_out(a, steps[r]);
    voices_lay_out(b, steps[r]);
    kind->process(&a->nodes[0], steps[r]);
    kind->process_voices(b->nodes, 1u, steps[r]);
    same = same && voices_same(a, b);
  }
  CHECK_MSG(same, "a voice skipped after a glide landed in a long block");
  CHECK(a->out[0][0][0] == 1.0f); /* pitch: landed */
  voices_free(a);
  voices_free(b);
}

/* ChContext.still, the graph's word that a voice's host inputs are bit for
   bit those of its last call, in which it ran: the voice module then
   compares the rest alone, and osc leaves its note counter and rate
   untested; each must still show every note, gate cut and glide exactly
   as a call of its own would.  `a` and `b` are `kind`'s voices; for osc,
   the pitch input moves too (voices apart), so that some of a group's
   lanes are ready and others not. */
static int
check_still(const ChKind* const kind, Voices* const a, Voices* const b)
{
  const int     osc = !strcmp(kind->name, "osc");
  ChVoiceInputs last[VOICES];
  memset(last, 0, sizeof(last));
  uint32_t ran  = 0;
  int      same = 1;
  for (uint32_t r = 0; r < 80u && same; ++r) {
    const uint32_t n    = r % 7u == 3u ? 17u : 1u;
    const uint32_t mask = r % 11u == 5u ? 0x3cu : 0xffu;
    const uint32_t hold = r / 4u; /* the inputs move every fourth block */
    for (uint32_t i = 0; i < 2u; ++i) {
      Voices* const v = i ? b : a;
      for (uint32_t k = 0; k < VOICES; ++k) {
        ChVoiceInputs* const h = &v->host.voice[k];
        h->pitch               = (float)((hold + k) % 3u) / 12.0f;
        h->gate                = (hold + k) % 5u < 3u ? 1.0f : 0.0f;
        /* osc's notes start apart from the other inputs' moves, so that
           voices still and not meet in a group, and for half the time
           not at all, so that all are still (the usual call) */
        h->trigger += osc ? r % 12u < 6u && (r + k) % 6u == 0u
                          : r % 4u == 0u && (hold + k) % 4u == 0u;
        v->in[0][k][0] = osc ? (float)((hold + k / 2u) % 3u) / 12.0f : 0.0f;
      }
      if (osc) {
        v->param[ch_kind_find_param(kind, "reset")] = 1.0f;
      } else {
        v->param[3] = r >= 40u ? 0.00002f : 0.0f; /* glide, from block 40 */
      }
      /* shared inputs that move while the voices' own stay still */
      v->host.bend = r % 8u == 2u ? 0.5f : 0.0f;
      v->host.mod  = (float)(r / 6u % 2u);
    }
    uint32_t still = 0;
    for (uint32_t k = 0; k < VOICES; ++k) {
      still |= (uint32_t)!memcmp(&last[k], &b->host.voice[k], sizeof(last[k]))
               << k;
    }
    a->ctx.still = b->ctx.still = still & ran;
    ++a->ctx.block; /* as the graph counts its blocks */
    ++b->ctx.block;
    same = voices_run(kind, a, b, mask, n);
    memcpy(last, b->host.voice, sizeof(last));
    ran = mask;
  }
  voices_free(a);
  voices_free(b);
  return same;
}

static void
test_still(void)
{
  const ChKind* const voice = ch_registry_find("voice");
  CHECK_MSG(check_still(voice, voices_kept(voice), voices_kept(voice)),
            "the voice module with ChContext.still differs");
  /* osc's usual call at block 1: only the pitch linked and read, the
     voices' buffers side by side */
  const ChKind* const osc = ch_registry_find("osc");
  CHECK_MSG(check_still(osc, voices_new(osc, ~1u, ~1u, 0u, ~0u, 0),
                        voices_new(osc, ~1u, ~1u, 0u, ~0u, 0)),
            "osc with ChContext.still differs");
}

/* osc's one-sample lanes take a shape knob for the saw exactly where its
   own code does (ch_osc_shared rounds it): at the edges, -0, a NaN and
   the infinities too.  The voices play a saw first, so that their lanes
   are ready when the knob turns. */
static void
test_osc_shape_edges(void)
{
  const ChKind* const kind     = ch_registry_find("osc");
  const uint32_t      shape    = ch_kind_find_param(kind, "shape");
  const float         values[] = {
            0.5f,     nextafterf(0.5f, 0.0f),
            1.5f,     nextafterf(1.5f, 0.0f),
            -0.0f,    NAN,
            INFINITY, -INFINITY,
            1.0f,     0.0f,
  };
  for (size_t i = 0; i < CH_COUNT(values); ++i) {
    Voices* const a    = voices_new(kind, ~1u, ~1u, 0u, ~0u, 1);
    Voices* const b    = voices_new(kind, ~1u, ~1u, 0u, ~0u, 1);
    int           same = 1;
    for (uint32_t r = 0; r < 8u && same; ++r) {
      a->param[shape] = b->param[shape] = r < 4u ? 1.0f : values[i];
      same                              = voices_run(kind, a, b, 0xffu, 1u);
    }
    CHECK_MSG(same, "osc with shape %g differs in lanes", (double)values[i]);
    voices_free(a);
    voices_free(b);
  }
}

/* Sample `t` of an adsr's inputs and params: with short times (24
   samples' attack), each voice attacks, decays, holds sustain (which then
   moves, a glide), releases and starts again, voices apart, so that
   one-sample blocks run several of them decaying at once in lanes while
   others meet an edge. */
static void
adsr_feed(Voices* const v, const uint32_t t)
{
  for (uint32_t k = 0; k < VOICES; ++k) {
    const uint32_t on = 3u * k;
    const uint32_t at = t < 300u ? t : t - 300u; /* a second note */
    v->in[0][k][0]    = at >= on && at < 200u + 9u * k ? 1.0f : 0.0f;
    /* and a retrigger as the gate holds, while the others decay on and
       all of each group are asked (the masks below) */
    v->in[1][k][0] = at == on || at == on + 132u ? 1.0f : 0.0f;
  }
  const ChKind* const kind = ch_registry_find("adsr");
  /* attack and decay move alone too: they share a word of the cache */
  v->param[ch_kind_find_param(kind, "attack")]  = t < 400u ? 0.0005f : 0.0004f;
  v->param[ch_kind_find_param(kind, "decay")]   = t < 150u ? 0.0005f : 0.0007f;
  v->param[ch_kind_find_param(kind, "sustain")] = t < 120u ? 0.6f : 0.4f;
  v->param[ch_kind_find_param(kind, "release")] = 0.001f;
  v->param[ch_kind_find_param(kind, "gate")]    = t >= 250u && t < 260u;
}

/* The adsr's lanes, with the buffers side by side (`strided`) or not. */
static void
check_adsr_lanes(const uint32_t strided)
{
  static const uint32_t masks[] = { 0xff, 0xff, 0xb5, 0xff,
                                    0x0f, 0xf0, 0xff, 0x7e };
  const ChKind* const   kind    = ch_registry_find("adsr");
  Voices* const         a       = voices_new(kind, 0u, 0u, 0u, strided, 0);
  Voices* const         b       = voices_new(kind, 0u, 0u, 0u, strided, 0);
  int                   same    = 1;
  int                   held    = 0; /* a voice sat on sustain */
  for (uint32_t t = 0; t < 600u && same; ++t) {
    adsr_feed(a, t);
    adsr_feed(b, t);
    same = voices_run(kind, a, b, masks[t / 3u % 8u], 1u);
    held |= t == 110u && a->out[0][0][0] == 0.6f;
  }
  CHECK_MSG(same, "adsr in lanes differs from voice by voice (%#x)", strided);
  CHECK(held);
  voices_free(a);
  voices_free(b);
}

/* The voice module's notes (ChKind.notes) of its last block, in voice 0's
   state, are trusted only if they are that block's: older ones (here
   voice 0's whole state put back as it was two blocks ago, as a state
   carried or restored could be) said no voice moves, while voice 3's note
   start has a pulse to clear.  Nor when the graph took a new
   ChContext.id (its buffers laid out anew: what they hold is not what
   the voices wrote). */
static void
test_voice_notes_of_an_old_block(void)
{
  const ChKind* const kind = ch_registry_find("voice");
  Voices* const       a    = voices_kept(kind);
  Voices* const       b    = voices_kept(kind);
  void* const         old  = malloc(a->state_size);
  int                 same = 1;
  for (uint32_t r = 0; r < 8u; ++r) {
    for (uint32_t i = 0; i < 2u; ++i) {
      Voices* const v = i ? b : a;
      if (r == 7u) { /* a new layout's buffers, with someone else's data */
        ++v->ctx.id;
        memset(v->out, 0x7f, sizeof(v->out));
      }
      for (uint32_t k = 0; k < VOICES; ++k) {
        v->host.voice[k].gate = 1.0f;
        v->host.voice[k].trigger += r == 0u || (r == 4u && k == 3u);
      }
      v->ctx.still = r > 1u && r != 4u ? 0xffu : 0u;
      ++v->ctx.block;
      if (r == 5u) { /* voice 0 now holds the block 3 state */
        memcpy(v->state[0], old, v->state_size);
        v->ctx.still = 0xfeu;
      }
    }
    same = same && voices_run(kind, a, b, 0xffu, 1u);
    if (r == 3u) {
      memcpy(old, b->state[0], b->state_size);
    }
  }
  CHECK_MSG(same, "the voice module trusted an old block's notes");
  CHECK(b->out[3][0][3] == 0.0f); /* voice 3's trig pulse cleared */
  free(old);
  voices_free(a);
  voices_free(b);
}

static void
test_adsr_lanes(void)
{
  check_adsr_lanes(0u);
  check_adsr_lanes(~0u);
}

int
main(void)
{
  RUN(test_same_as_voice_by_voice);
  RUN(test_voice_after_a_landed_glide);
  RUN(test_still);
  RUN(test_voice_notes_of_an_old_block);
  RUN(test_osc_shape_edges);
  RUN(test_adsr_lanes);
  return CHECK_EXIT();
}
