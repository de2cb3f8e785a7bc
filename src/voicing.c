/* MIDI to the played-note signals: mono with last-note priority and legato
   fallback, or poly with voice allocation and stealing; sustain pedal,
   pitch bend, mod wheel and pressure. */
#include "voicing.h"

#include <string.h>

#define NOTE_OFF     0x80u
#define NOTE_ON      0x90u
#define KEY_PRESSURE 0xA0u
#define CONTROL      0xB0u
#define PRESSURE     0xD0u
#define BEND         0xE0u

#define CC_MOD_WHEEL     1u
#define CC_SUSTAIN       64u
#define CC_ALL_SOUND_OFF 120u
#define CC_ALL_NOTES_OFF 123u

/* The note whose pitch a new voicing reports (C4, pitch 0). */
#define MIDDLE_C 60u

void
ch_voicing_init(ChVoicing* const voicing, ChHostInputs* const out)
{
  memset(voicing, 0, sizeof(*voicing));
  voicing->out      = out;
  voicing->n_voices = 1u;
  memset(out->voice, 0, sizeof(out->voice));
  out->changes = 1u;
  out->bend    = 0.0f;
  out->mod     = 0.0f;
  for (uint32_t v = 0; v < CH_MAX_VOICES; ++v) {
    voicing->slot[v].note = MIDDLE_C;
  }
}

/* Voice v's inputs, to be written: ChHostInputs.changes moves, so that a
   graph knows to look. */
CH_REALTIME static ChVoiceInputs*
voice_out(const ChVoicing* const voicing, const uint32_t v)
{
  ChHostInputs* const out = voicing->out;
  out->changes            = out->changes + 1u ? out->changes + 1u : 1u;
  return &out->voice[v];
}

CH_REALTIME static bool
gate_on(const ChVoicing* const voicing, const uint32_t v)
{
  return voicing->out->voice[v].gate > 0.5f;
}

/* Voice `v` plays `key` from now on. */
CH_REALTIME static void
start(ChVoicing* const voicing,
      const uint32_t   v,
      const uint8_t    key,
      const uint8_t    velocity)
{
  ChVoiceSlot* const   slot = &voicing->slot[v];
  ChVoiceInputs* const out  = voice_out(voicing, v);
  slot->note                = key;
  slot->held                = true;
  slot->sustained           = false;
  slot->started             = ++voicing->clock;
  slot->next                = CH_NEXT_NONE;
  slot->wait                = 0u;
  slot->lag                 = 0u;
  out->pitch                = ((float)key - (float)MIDDLE_C) / 12.0f;
  out->velocity             = (float)velocity / 127.0f;
  out->gate                 = 1.0f;
  ++out->trigger; /* the `voice` module turns this into a trig pulse */
}

/* Never called on a voice being stolen: its gate stays up under the fade. */
CH_REALTIME static void
release(ChVoicing* const voicing, const uint32_t v)
{
  voicing->slot[v].held       = false;
  voicing->slot[v].sustained  = false;
  voicing->slot[v].released   = ++voicing->clock;
  voicing->slot[v].next       = CH_NEXT_NONE;
  voicing->slot[v].wait       = 0u;
  voice_out(voicing, v)->gate = 0.0f; /* pitch stays for the release tail */
  /* counted, so that a note-off and a note-on at the same frame still
     retrigger */
  ++voice_out(voicing, v)->release;
}

/* The key of voice v's note rose (and the pedal does not hold it): a note
   that started late (it stole its voice) is released as late. */
CH_REALTIME static void
key_up(ChVoicing* const voicing, const uint32_t v)
{
  ChVoiceSlot* const slot = &voicing->slot[v];
  if (!slot->lag) {
    release(voicing, v);
    return;
  }
  slot->held      = false;
  slot->sustained = false;
  slot->next      = CH_NEXT_UP;
  slot->wait      = slot->lag;
  voicing->timed  = true;
}

/* Stealing */

/* `key` waits for voice v, whose note fades out first (a fade under way
   goes on: the note that waited before is dropped). */
CH_REALTIME static void
steal(ChVoicing* const voicing,
      const uint32_t   v,
      const uint8_t    key,
      const uint8_t    velocity)
{
  ChVoiceSlot* const slot = &voicing->slot[v];
  if (!slot->stealing) {
    ChVoiceInputs* const out = voice_out(voicing, v);
    slot->stealing           = true;
    slot->wait               = voicing->steal;
    voicing->timed           = true;
    out->fade                = voicing->steal;
    out->fade_len            = voicing->steal;
    slot->held               = false; /* its key no longer owns the voice */
    slot->sustained          = false;
  }
  slot->next          = CH_NEXT_HELD;
  slot->next_note     = key;
  slot->next_velocity = velocity;
  slot->lag           = slot->wait;
}

/* The key of the note waiting for voice v rose (the pedal down: held). */
CH_REALTIME static void
waiting_key_up(ChVoicing* const voicing, const uint32_t v)
{
  ChVoiceSlot* const slot = &voicing->slot[v];
  slot->next              = voicing->pedal ? CH_NEXT_SUSTAINED : CH_NEXT_UP;
  slot->held_for          = slot->lag - slot->wait;
}

/* The fade is over: the waiting note starts on a voice restarted fresh,
   in the state its key is in by now. */
CH_REALTIME static void
finish_steal(ChVoicing* const voicing, const uint32_t v)
{
  ChVoiceSlot* const   slot     = &voicing->slot[v];
  ChVoiceInputs* const out      = voice_out(voicing, v);
  const uint8_t        next     = slot->next;
  const uint32_t       lag      = slot->lag;
  const uint32_t       held_for = slot->held_for;
  slot->stealing                = false;
  out->fade                     = 0u;
  out->fade_len                 = 0u;
  out->fresh                    = 1u;
  voicing->timed                = true;
  if (next == CH_NEXT_NONE) {
    release(voicing, v);
    return;
  }
  start(voicing, v, slot->next_note, slot->next_velocity);
  slot->lag = lag;
  if (next == CH_NEXT_SUSTAINED) {
    slot->held      = false;
    slot->sustained = true;
  } else if (next == CH_NEXT_UP && !held_for) {
    release(voicing, v); /* a note-on and note-off at one frame */
  } else if (next == CH_NEXT_UP) {
    slot->held     = false;
    slot->next     = CH_NEXT_UP;
    slot->wait     = held_for;
    voicing->timed = true;
  }
}

/* Mono */

CH_REALTIME static void
remove_key(ChVoicing* const voicing, const uint8_t key)
{
  for (uint32_t i = 0u; i < voicing->n_held; ++i) {
    if (voicing->stack[i] == key) {
      memmove(&voicing->stack[i], &voicing->stack[i + 1u],
              voicing->n_held - i - 1u);
      --voicing->n_held;
      return; /* a key is never on the stack twice */
    }
  }
}

CH_REALTIME static void
mono_note_on(ChVoicing* const voicing,
             const uint8_t    key,
             const uint8_t    velocity)
{
  remove_key(voicing, key);
  voicing->stack[voicing->n_held++] = key;
  if (voicing->slot[0].stealing) {
    steal(voicing, 0, key, velocity); /* a fade begun while poly */
    return;
  }
  start(voicing, 0, key, velocity); /* cuts whatever the pedal held */
}

CH_REALTIME static void
mono_note_off(ChVoicing* const voicing, const uint8_t key)
{
  ChVoiceSlot* const slot = &voicing->slot[0];
  remove_key(voicing, key);
  if (slot->stealing) { /* a fade begun while poly */
    if (slot->next == CH_NEXT_HELD && key == slot->next_note) {
      if (voicing->n_held) {
        slot->next_note = voicing->stack[voicing->n_held - 1u];
      } else {
        waiting_key_up(voicing, 0);
      }
    }
    return;
  }
  if (!gate_on(voicing, 0) || key != slot->note || !slot->held) {
    return; /* an older held key, or a stray note-off */
  }
  if (voicing->n_held) {
    /* Legato fallback: no new trigger, velocity of the last note-on. */
    slot->note = voicing->stack[voicing->n_held - 1u];
    voice_out(voicing, 0)->pitch =
      ((float)slot->note - (float)MIDDLE_C) / 12.0f;
  } else if (voicing->pedal) {
    slot->held      = false;
    slot->sustained = true;
  } else {
    key_up(voicing, 0);
  }
}

/* Poly */

/* The voice for a new note: the same note if it still sounds (or waits
   for its voice), else the free voice released longest ago, else the
   oldest note (`*stolen` set), else, when every voice is being stolen
   already, the one whose fade ends first: the note waiting there is the
   oldest. */
CH_REALTIME static uint32_t
choose_voice(const ChVoicing* const voicing,
             const uint8_t          key,
             bool* const            stolen)
{
  uint32_t same = UINT32_MAX;
  uint32_t free = UINT32_MAX;
  uint32_t old  = UINT32_MAX;
  uint32_t soon = UINT32_MAX;
  for (uint32_t v = 0; v < voicing->n_voices; ++v) {
    const ChVoiceSlot* const slot = &voicing->slot[v];
    if (slot->stealing) {
      same = slot->next != CH_NEXT_NONE && slot->next_note == key ? v : same;
      soon =
        soon == UINT32_MAX || slot->wait < voicing->slot[soon].wait ? v : soon;
      continue;
    }
    if (slot->note == key && (slot->held || slot->sustained || slot->released ||
                              slot->next == CH_NEXT_UP)) {
      same = v;
    }
    if (!gate_on(voicing, v)) {
      if (free == UINT32_MAX || slot->released < voicing->slot[free].released) {
        free = v;
      }
    } else if (old == UINT32_MAX ||
               slot->started < voicing->slot[old].started) {
      old = v;
    }
  }
  *stolen = same == UINT32_MAX && free == UINT32_MAX && old != UINT32_MAX;
  return same != UINT32_MAX   ? same
         : free != UINT32_MAX ? free
         : old != UINT32_MAX  ? old
                              : soon;
}

CH_REALTIME static void
poly_note_on(ChVoicing* const voicing,
             const uint8_t    key,
             const uint8_t    velocity)
{
  bool           stolen = false;
  const uint32_t v      = choose_voice(voicing, key, &stolen);
  if (voicing->slot[v].stealing || (stolen && voicing->steal)) {
    steal(voicing, v, key, velocity);
  } else {
    start(voicing, v, key, velocity);
  }
}

CH_REALTIME static void
poly_note_off(ChVoicing* const voicing, const uint8_t key)
{
  for (uint32_t v = 0; v < voicing->n_voices; ++v) {
    ChVoiceSlot* const slot = &voicing->slot[v];
    if (slot->stealing) {
      if (slot->next == CH_NEXT_HELD && slot->next_note == key) {
        waiting_key_up(voicing, v);
      }
    } else if (slot->held && slot->note == key) {
      if (voicing->pedal) {
        slot->held      = false;
        slot->sustained = true;
      } else {
        key_up(voicing, v);
      }
    }
  }
}

/* Both */

CH_REALTIME static void
note_on(ChVoicing* const voicing, const uint8_t key, const uint8_t velocity)
{
  if (voicing->n_voices == 1u) {
    mono_note_on(voicing, key, velocity);
  } else {
    poly_note_on(voicing, key, velocity);
  }
}

CH_REALTIME static void
note_off(ChVoicing* const voicing, const uint8_t key)
{
  if (voicing->n_voices == 1u) {
    mono_note_off(voicing, key);
  } else {
    poly_note_off(voicing, key);
  }
}

CH_REALTIME static void
pedal_up(ChVoicing* const voicing)
{
  voicing->pedal = false;
  for (uint32_t v = 0; v < CH_MAX_VOICES; ++v) {
    if (voicing->slot[v].stealing &&
        voicing->slot[v].next == CH_NEXT_SUSTAINED) {
      waiting_key_up(voicing, v);
    } else if (voicing->slot[v].sustained) {
      key_up(voicing, v);
    }
  }
}

/* Voice v lets its key go, held or sustained; a voice being stolen fades
   on but forgets the note that waited for it. */
CH_REALTIME static void
drop_voice(ChVoicing* const voicing, const uint32_t v)
{
  if (voicing->slot[v].stealing) {
    voicing->slot[v].next = CH_NEXT_NONE; /* the fade goes on */
    return;
  }
  if (gate_on(voicing, v)) {
    release(voicing, v);
  }
  voicing->slot[v].held      = false;
  voicing->slot[v].sustained = false;
}

CH_REALTIME static void
release_all(ChVoicing* const voicing)
{
  voicing->n_held = 0u;
  voicing->pedal  = false;
  for (uint32_t v = 0; v < CH_MAX_VOICES; ++v) {
    drop_voice(voicing, v);
  }
}

CH_REALTIME void
ch_voicing_set_voices(ChVoicing* const voicing, const uint32_t voices)
{
  const uint32_t n = voices < 1u              ? 1u
                     : voices > CH_MAX_VOICES ? CH_MAX_VOICES
                                              : voices;
  /* Notes in voices that remain play on (a swap must not cut a held note);
     the others are released. */
  for (uint32_t v = n; v < CH_MAX_VOICES; ++v) {
    drop_voice(voicing, v);
  }
  if (n == 1u && voicing->n_voices != 1u) {
    /* Mono keeps a stack of held keys: start it with voice 0's note (or
       the one waiting for it). */
    const ChVoiceSlot* const slot = &voicing->slot[0];
    voicing->n_held               = 0u;
    if (slot->stealing ? slot->next == CH_NEXT_HELD : slot->held) {
      voicing->stack[voicing->n_held++] =
        slot->stealing ? slot->next_note : slot->note;
    }
  }
  voicing->n_voices = n;
}

CH_REALTIME static bool
control(ChVoicing* const voicing, const uint8_t number, const uint8_t value)
{
  switch (number) {
  case CC_MOD_WHEEL:
    voicing->out->mod = (float)value / 127.0f;
    return true;
  case CC_SUSTAIN:
    if (value >= 64u) {
      voicing->pedal = true;
    } else if (voicing->pedal) {
      pedal_up(voicing);
    }
    return true;
  case CC_ALL_SOUND_OFF:
  case CC_ALL_NOTES_OFF:
    release_all(voicing);
    return true;
  default:
    return false;
  }
}

CH_REALTIME static void
key_pressure(ChVoicing* const voicing, const uint8_t key, const uint8_t value)
{
  for (uint32_t v = 0; v < voicing->n_voices; ++v) {
    if (voicing->slot[v].note == key && gate_on(voicing, v)) {
      voice_out(voicing, v)->aftertouch = (float)value / 127.0f;
    }
  }
}

CH_REALTIME bool
ch_voicing_midi(ChVoicing* const     voicing,
                const uint8_t* const msg,
                const uint32_t       size)
{
  if (!msg || size < 1u || !(msg[0] & 0x80u)) {
    return false;
  }

  const uint8_t  type     = msg[0] & 0xF0u;
  const uint32_t expected = type == PRESSURE ? 2u : 3u;
  if (type != NOTE_OFF && type != NOTE_ON && type != KEY_PRESSURE &&
      type != CONTROL && type != PRESSURE && type != BEND) {
    return false; /* program change, system messages */
  }
  if (size != expected) {
    return false;
  }
  for (uint32_t i = 1u; i < size; ++i) {
    if (msg[i] & 0x80u) {
      return false; /* a data byte must be 7-bit */
    }
  }

  switch (type) {
  case NOTE_ON:
    if (msg[2]) {
      note_on(voicing, msg[1], msg[2]);
    } else {
      note_off(voicing, msg[1]);
    }
    return true;
  case NOTE_OFF:
    note_off(voicing, msg[1]);
    return true;
  case KEY_PRESSURE:
    key_pressure(voicing, msg[1], msg[2]);
    return true;
  case CONTROL:
    return control(voicing, msg[1], msg[2]);
  case PRESSURE:
    for (uint32_t v = 0; v < CH_MAX_VOICES; ++v) {
      voice_out(voicing, v)->aftertouch = (float)msg[1] / 127.0f;
    }
    return true;
  default: { /* BEND */
    const int   value  = (int)msg[1] | ((int)msg[2] << 7);
    const float bend   = (float)(value - 8192) / 8192.0f;
    voicing->out->bend = bend < -1.0f ? -1.0f : bend > 1.0f ? 1.0f : bend;
    return true;
  }
  }
}

CH_REALTIME void
ch_voicing_set_steal(ChVoicing* const voicing, const uint32_t frames)
{
  voicing->steal = frames;
}

CH_REALTIME uint32_t
ch_voicing_due(const ChVoicing* const voicing)
{
  uint32_t due = UINT32_MAX;
  for (uint32_t v = 0; v < CH_MAX_VOICES && voicing->timed; ++v) {
    const uint32_t wait = voicing->slot[v].wait;
    due                 = wait && wait < due ? wait : due;
  }
  return due;
}

CH_REALTIME void
ch_voicing_advance(ChVoicing* const voicing, const uint32_t frames)
{
  if (!voicing->timed) { /* the usual call: no fade, no late release */
    return;
  }
  voicing->timed = false;
  for (uint32_t v = 0; v < CH_MAX_VOICES; ++v) {
    ChVoiceSlot* const   slot = &voicing->slot[v];
    ChVoiceInputs* const out  = voice_out(voicing, v);
    out->fresh                = 0u; /* the block that restarted it ran */
    if (!slot->wait) {
      continue;
    }
    if (slot->wait > frames) {
      slot->wait -= frames;
      out->fade      = slot->stealing ? slot->wait : 0u;
      voicing->timed = true;
      continue;
    }
    slot->wait = 0u;
    if (slot->stealing) {
      finish_steal(voicing, v);
    } else if (voicing->pedal) { /* a late release, and the pedal holds it */
      slot->next      = CH_NEXT_NONE;
      slot->sustained = true;
    } else {
      release(voicing, v);
    }
  }
}
