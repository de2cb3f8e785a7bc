/* The `voice` module: one played note as signals, with bend range, glide
   (portamento), legato and a per-voice stereo place. */
#include "../kind.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum {
  OUT_PITCH,
  OUT_GATE,
  OUT_VELOCITY,
  OUT_TRIG,
  OUT_MOD,
  OUT_AFTERTOUCH,
  OUT_SPREAD,
  OUT_INDEX,
};
enum { P_GATE, P_TRANSPOSE, P_BEND, P_GLIDE, P_LEGATO };

typedef struct {
  uint32_t trigger; /* host trigger counter when last seen */
  uint32_t release; /* host release counter when last seen */
  float    pitch;   /* gliding pitch, without bend and transpose */
  float    glide;   /* cached P_GLIDE */
  float    coeff;   /* one-pole glide coefficient per sample */
  int      gate;    /* the host gate of the previous call */
  int      playing; /* a note has sounded: glide from it */
  /* What the outputs show, for voice_changed: words 0-2 the host inputs the
     last call showed (pitch, gate, velocity, aftertouch, trigger,
     release: all the outputs depend on), word 3 the graph whose buffers
     it wrote (ChContext.id; 0 while the next sample differs: the trig
     pulse or gate cut of a note's start to clear, a glide), words 4-5
     what it showed of the shared values (voice_key). */
  uint64_t seen[6];
  /* The module's (ChKind.notes), in its first instance's state: the graph
     block (ChContext.block) of its last call, the graph and layout
     (ChContext.id) it wrote, the voices that call may have left with a
     next sample that differs (seen[3] 0), so that voice_changed looks at
     only those of the voices still since, and the shared inputs it saw
     (voice_raw): when they and every voice are as they were, nothing
     can show anything new. */
  struct {
    uint64_t block;
    uint64_t id;
    uint32_t moving;
    uint32_t raw[8];
  } notes;
} VoiceState;

_Static_assert(sizeof(VoiceState) ==
                 offsetof(VoiceState, notes) + sizeof(((VoiceState*)0)->notes),
               "VoiceState's notes end it (ChKind.notes)");

static const ChPortInfo outputs[] = {
  { "pitch", CH_SIGNAL_CV,
    "note pitch + bend + transpose, gliding, 1.0/octave, 0 = C4" },
  { "gate", CH_SIGNAL_GATE,
    "1 while a note is held or the gate param is on; 0 for one sample when "
    "a new note cuts the one before, so envelopes restart" },
  { "velocity", CH_SIGNAL_CV, "velocity of the voice's note, 0..1" },
  { "trig", CH_SIGNAL_GATE, "1 for one sample when a note starts" },
  { "mod", CH_SIGNAL_CV, "mod wheel, 0..1" },
  { "aftertouch", CH_SIGNAL_CV, "key or channel pressure, 0..1" },
  { "spread", CH_SIGNAL_CV,
    "this voice's stereo place, -1..1 (for pan): successive voices "
    "alternate left and right, from the edges in; 0 when mono" },
  { "index", CH_SIGNAL_CV, "this voice's number, 0 .. voices - 1" },
};

static const char* const legato_choices[] = { "off", "on", NULL };

static const ChParamInfo params[] = {
  { "gate", "", 0.0f, 1.0f, 0.0f,
    "manual gate, OR'ed with the host's (set by ch:Gate)", NULL },
  { "transpose", "oct", -4.0f, 4.0f, 0.0f, "added to the pitch", NULL },
  { "bend", "st", 0.0f, 24.0f, 2.0f, "pitch bend range in semitones", NULL },
  { "glide", "s", 0.0f, 5.0f, 0.0f,
    "portamento: time constant of the slide to a new note", NULL },
  { "legato", "", 0.0f, 1.0f, 0.0f,
    "on: a note played while another is held does not retrigger",
    legato_choices },
};

/* The first sample stored on its own: a short block (one sample, at a
   host's event or in a host that runs one frame at a time) then costs a
   store, not a loop or a call to memset. */
static inline void
fill(float* const out, const float value, const uint32_t n)
{
  if (n) {
    out[0] = value;
  }
  for (uint32_t i = 1; i < n; ++i) {
    out[i] = value;
  }
}

static void
voice_init(const ChNode* const node)
{
  VoiceState* const s = (VoiceState*)node->state;
  s->glide            = -1.0f; /* computed on first use */
}

/* Voice v of `voices` in the stereo field: the places are spread evenly
   over -1..1 and dealt from the edges inwards, alternating sides, so that
   notes played one after another (which take successive free voices)
   land left, right, left... */
static float
voice_spread(const uint32_t v, const uint32_t voices)
{
  if (voices <= 1u || v >= voices) {
    return 0.0f;
  }
  const uint32_t place = v % 2u ? voices - 1u - v / 2u : v / 2u;
  return -1.0f + 2.0f * (float)place / (float)(voices - 1u);
}

/* What note_start says the first sample of a call must show. */
enum { NOTE_TRIG = 1, NOTE_CUT = 2 };

/*
   The host writes its inputs between sub-blocks, at event frames, so each
   is constant over one call.  A trigger counter that moved since the last
   call starts a note: one pulse on the first sample.  A change seen with
   no note held is only remembered: that is a counter this module missed
   (a fresh module swapped in after priming on no-note input), and pulsing
   it would fire envelopes with no note.  Returns what the first sample
   must show: NOTE_TRIG, the pulse, and NOTE_CUT, the gate dropped: a note
   that cuts a sounding one (a note-off and note-on at one frame, a stolen
   or repeated voice) would otherwise leave the gate high throughout, and
   envelopes on the gate alone would not restart.  Legato suppresses both
   only while a key stayed held.
*/
static CH_REALTIME int
note_start(VoiceState* const          s,
           const ChVoiceInputs* const host,
           const int                  host_gate,
           const int                  legato)
{
  const int dropped = host->release != s->release;
  int       start   = 0;
  if (host->trigger != s->trigger) {
    s->trigger = host->trigger;
    if (host_gate && !(legato && s->gate && !dropped)) {
      /* the gate drops only if it was up: else it fell on its own */
      start = NOTE_TRIG | (s->gate ? NOTE_CUT : 0);
    }
  }
  s->release = host->release;
  s->gate    = host_gate;
  return start;
}

/* What the parameters and the shared host inputs give, the same for every
   voice of a module: worked out once per call.  The glide coefficient
   comes from the first voice's cache, checked once; each voice's cache is
   then written as its own check would leave it. */
typedef struct {
  int   manual; /* the manual gate */
  int   legato;
  float offset; /* bend and transpose */
  float glide;  /* P_GLIDE ... */
  float coeff;  /* ... and its coefficient */
} VoiceShared;

CH_VARIANT VoiceShared
voice_shared(const ChNode* const node)
{
  const float* const        param  = node->param;
  const ChHostInputs* const inputs = node->ctx->host;
  VoiceState* const         s      = (VoiceState*)node->state;
  if (param[P_GLIDE] != s->glide) {
    s->glide = param[P_GLIDE];
    s->coeff =
      s->glide > 0.0f ? 1.0f - expf(-node->ctx->inv_rate / s->glide) : 1.0f;
  }
  const VoiceShared q = {
    param[P_GATE] > 0.5f,
    param[P_LEGATO] > 0.5f,
    inputs->bend * param[P_BEND] / 12.0f + param[P_TRANSPOSE],
    s->glide,
    s->coeff,
  };
  return q;
}

/* Words 3-5 of VoiceState.seen for a call of graph `id` that showed `q`
   (and the mod wheel, a shared host input). */
CH_VARIANT void
voice_key(uint64_t                 key[3],
          const uint64_t           id,
          const VoiceShared* const q,
          const float              mod)
{
  uint32_t words[4];
  memcpy(&words[0], &q->offset, sizeof(float));
  memcpy(&words[1], &mod, sizeof(float));
  memcpy(&words[2], &q->glide, sizeof(float));
  words[3] = (uint32_t)q->manual;
  key[0]   = id;
  memcpy(&key[1], words, 2u * sizeof(uint64_t));
}

/* Remembers what a call shows (VoiceState.seen): the voice's host inputs
   and `key` (voice_key). */
CH_VARIANT void
voice_remember(VoiceState* const          s,
               const ChVoiceInputs* const host,
               const uint64_t             key[3])
{
  /* pitch, gate, velocity, aftertouch, trigger and release: the first
     three words */
  _Static_assert(offsetof(ChVoiceInputs, fade) == 3u * sizeof(uint64_t),
                 "VoiceState.seen holds ChVoiceInputs up to its fade");
  memcpy(s->seen, host, 3u * sizeof(uint64_t));
  memcpy(s->seen + 3, key, 3u * sizeof(uint64_t));
}

/* The process of one instance, inlined into voice_process(_voices). */
CH_VARIANT CH_REALTIME void
voice_run(const ChNode* const      node,
          const VoiceShared* const q,
          const uint32_t           n)
{
  VoiceState* const          s         = (VoiceState*)node->state;
  const ChHostInputs* const  inputs    = node->ctx->host;
  const ChVoiceInputs* const host      = &inputs->voice[node->voice];
  float* const* const        out       = node->out;
  const int                  host_gate = host->gate > 0.5f;
  const int                  manual    = q->manual;
  /* outputs nobody reads are left alone: their buffers may be others' */
  const uint32_t read = ~node->unread_out;
  fill(out[OUT_GATE], (float)(host_gate | manual),
       read >> OUT_GATE & 1u ? n : 0u);
  fill(out[OUT_VELOCITY], host->velocity, read >> OUT_VELOCITY & 1u ? n : 0u);
  fill(out[OUT_TRIG], 0.0f, read >> OUT_TRIG & 1u ? n : 0u);
  fill(out[OUT_MOD], inputs->mod, read >> OUT_MOD & 1u ? n : 0u);
  fill(out[OUT_AFTERTOUCH], host->aftertouch,
       read >> OUT_AFTERTOUCH & 1u ? n : 0u);
  if (read >> OUT_SPREAD & 1u) { /* a division: only if read */
    fill(out[OUT_SPREAD], voice_spread(node->voice, node->ctx->voices), n);
  }
  fill(out[OUT_INDEX], (float)node->voice, read >> OUT_INDEX & 1u ? n : 0u);

  const int start = note_start(s, host, host_gate, q->legato);
  /* the next sample shows the same unless a note starts (or a glide
     moves, below) */
  uint64_t key[3];
  voice_key(key, start ? 0u : node->ctx->id, q, inputs->mod);
  voice_remember(s, host, key);
  if ((start & NOTE_TRIG) && (read >> OUT_TRIG & 1u)) {
    out[OUT_TRIG][0] = 1.0f;
  }
  if ((start & NOTE_CUT) && !manual && (read >> OUT_GATE & 1u)) {
    out[OUT_GATE][0] = 0.0f;
  }

  s->glide            = q->glide;
  s->coeff            = q->coeff;
  const float  coeff  = q->coeff;
  const float  offset = q->offset;
  const float  target = host->pitch;
  float* const shown  = read >> OUT_PITCH & 1u ? out[OUT_PITCH] : NULL;
  if (!s->playing || coeff >= 1.0f) {
    s->playing = host_gate;
    s->pitch   = target;
    fill(shown, target + offset, shown ? n : 0u);
    return;
  }
  float pitch = s->pitch;
  for (uint32_t i = 0; i < n; ++i) {
    pitch += coeff * (target - pitch);
    if (shown) {
      shown[i] = pitch + offset;
    }
  }
  s->pitch = fabsf(target - pitch) < 1e-6f ? target : pitch;
  /* the next sample shows another pitch than the first of this call,
     which is what its buffer's first frame holds */
  if (pitch != target || n > 1u) {
    s->seen[3] = 0u;
  }
}

/* The voices of `bits` whose one sample would not show what their outputs
   show already, or not leave their state as it is: that do not hold
   what their last call saw, which wrote this graph's buffers, left no
   pulse to clear and no glide moving: the same host inputs (bit for bit)
   and shared values (`key`, from voice_key). */
CH_VARIANT uint32_t
voice_changed(const ChNode* const nodes,
              uint32_t            bits,
              const uint64_t      key[3],
              const uint32_t      moving)
{
  const ChVoiceInputs* const host    = nodes[0].ctx->host->voice;
  uint32_t                   changed = 0;
  /* voices whose host inputs are still those of the last call, in which
     they ran (so what they saw then, or held on to): the rest of the
     compare alone.  That call showed them all one key's words 1-2, so
     the first one's tell for all; word 0 (the graph, or 0 for a sample
     to come that differs) is each voice's own. */
  uint32_t still = bits & nodes[0].ctx->still;
  if (still) {
    const VoiceState* const first =
      (const VoiceState*)nodes[__builtin_ctz(still)].state;
    if ((first->seen[4] ^ key[1]) | (first->seen[5] ^ key[2])) {
      changed = still;
      still   = 0;
    }
  }
  for (still &= moving; still; still &= still - 1u) {
    const uint32_t          v = (uint32_t)__builtin_ctz(still);
    const VoiceState* const s = (const VoiceState*)nodes[v].state;
    changed |= (uint32_t)(s->seen[3] != key[0]) << v;
  }
  for (bits &= ~nodes[0].ctx->still; bits; bits &= bits - 1u) {
    const uint32_t          v = (uint32_t)__builtin_ctz(bits);
    const VoiceState* const s = (const VoiceState*)nodes[v].state;
    uint64_t                h[3];
    memcpy(h, &host[v], sizeof(h));
    const uint64_t diff = (s->seen[0] ^ h[0]) | (s->seen[1] ^ h[1]) |
                          (s->seen[2] ^ h[2]) | (s->seen[3] ^ key[0]) |
                          (s->seen[4] ^ key[1]) | (s->seen[5] ^ key[2]);
    changed |= (uint32_t)(diff != 0u) << v;
  }
  return changed;
}

/* The shared inputs of a call (the params, bend and mod wheel: all that
   voice_shared and voice_key read besides the state), as bits. */
CH_VARIANT void
voice_raw(const ChNode* const node, uint32_t raw[8])
{
  _Static_assert(CH_COUNT(params) == 5u, "voice_raw holds the params");
  memcpy(raw, node->param, 5u * sizeof(float));
  memcpy(raw + 5, &node->ctx->host->bend, sizeof(float));
  memcpy(raw + 6, &node->ctx->host->mod, sizeof(float));
  raw[7] = 0u;
}

/* Whether the module's notes are its last block's, in this graph and
   layout of its buffers: not older (a block in which it did not run, its
   voices all asleep), nor carried from another graph, nor zeroed by a
   reset, nor from before the graph laid its buffers out anew. */
CH_VARIANT bool
voice_notes_current(const VoiceState* const head, const ChContext* const ctx)
{
  return head->notes.block + 1u == ctx->block && head->notes.id == ctx->id;
}

/* Whether a call of one sample can show nothing new: the last block's
   call left no voice asked moving, every voice asked is still
   (ChContext.still) and the shared inputs are as it saw them.  The usual
   call of a held chord.  A call whose outputs the module could not skip
   (no graph id, outputs not kept, a longer block) leaves every voice
   moving (voice_voices), so none of those passes here. */
CH_VARIANT bool
voice_calm(const ChNode* const nodes, const uint32_t bits)
{
  const ChContext* const  ctx  = nodes[0].ctx;
  const VoiceState* const head = (const VoiceState*)nodes[0].state;
  if (!voice_notes_current(head, ctx) || (head->notes.moving & bits) ||
      (bits & ~ctx->still)) {
    return false;
  }
  uint32_t raw[8];
  voice_raw(nodes, raw);
  uint32_t diff = 0;
  for (uint32_t i = 0; i < 8u; ++i) {
    diff |= raw[i] ^ head->notes.raw[i];
  }
  return !diff;
}

static CH_REALTIME void
voice_process(const ChNode* const node, const uint32_t n)
{
  const VoiceShared q = voice_shared(node);
  voice_run(node, &q, n);
}

/* All voices at once.  In a block of one sample of a built graph
   (ChContext.id), a voice whose outputs all keep their buffers
   (ChNode.kept_out) and would show what they show already is skipped: a
   held note costs a compare, not eight stores. */
static CH_REALTIME __attribute__((noinline)) void
voice_voices(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  VoiceState* const      head  = (VoiceState*)nodes[0].state;
  const VoiceShared      q     = voice_shared(nodes + __builtin_ctz(bits));
  const uint32_t         all   = (1u << CH_COUNT(outputs)) - 1u;
  const uint32_t         shown = ~nodes[0].unread_out & all;
  const ChContext* const ctx   = nodes[0].ctx;
  if (n == 1u && ctx->id && !(shown & ~nodes[0].kept_out)) {
    uint64_t key[3];
    voice_key(key, ctx->id, &q, ctx->host->mod);
    /* what the last block left moving, if the notes are its */
    const uint32_t moving =
      voice_notes_current(head, ctx) ? head->notes.moving : ~0u;
    bits          = voice_changed(nodes, bits, key, moving);
    uint32_t left = 0;
    for (uint32_t run = bits; run; run &= run - 1u) {
      const uint32_t v = (uint32_t)__builtin_ctz(run);
      voice_run(&nodes[v], &q, 1u);
      left |= (uint32_t)(((const VoiceState*)nodes[v].state)->seen[3] == 0u)
              << v;
    }
    head->notes.moving = left;
  } else {
    if (n == 1u) {
      CH_EACH_VOICE(nodes, bits, voice_run(node, &q, 1u));
    } else {
      CH_EACH_VOICE(nodes, bits, voice_run(node, &q, n));
    }
    head->notes.moving = ~0u; /* not looked at: any may */
  }
  head->notes.block = ctx->block;
  head->notes.id    = ctx->id;
  voice_raw(nodes, head->notes.raw);
}

/* The calm call (voice_calm) without the registers of the others. */
static CH_REALTIME void
voice_process_voices(const ChNode* const nodes, uint32_t bits, const uint32_t n)
{
  if (!bits) {
    return;
  }
  if (n == 1u && voice_calm(nodes, bits)) {
    ((VoiceState*)nodes[0].state)->notes.block = nodes[0].ctx->block;
    return;
  }
  voice_voices(nodes, bits, n);
}

/* Settled once a glide no longer moves (landed, or stalled where a float
   step rounds to nothing): a silent voice may then sleep. */
static CH_REALTIME int
voice_quiet(const ChNode* const node)
{
  const VoiceState* const s      = (const VoiceState*)node->state;
  const float             target = node->ctx->host->voice[node->voice].pitch;
  return !s->playing || s->coeff >= 1.0f ||
         s->pitch + s->coeff * (target - s->pitch) == s->pitch;
}

const ChKind ch_kind_voice = {
  .name = "voice",
  .doc =
    "the played note: pitch, gate, velocity, trigger, mod wheel, aftertouch",
  CH_KIND_OUTPUTS(outputs),
  CH_KIND_PARAMS(params),
  .state_size     = sizeof(VoiceState),
  .init           = voice_init,
  .process        = voice_process,
  .process_voices = voice_process_voices,
  .flags          = CH_KIND_PER_VOICE,
  .quiet          = voice_quiet,
  .notes          = sizeof(((VoiceState*)0)->notes),
};
