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
  out->bend = 0.0f;
  out->mod  = 0.0f;
  for (uint32_t v = 0; v < CH_MAX_VOICES; ++v) {
    voicing->slot[v].note = MIDDLE_C;
  }
}

CH_REALTIME static ChVoiceInputs*
voice_out(const ChVoicing* const voicing, const uint32_t v)
{
  return &voicing->out->voice[v];
}

CH_REALTIME static bool
gate_on(const ChVoicing* const voicing, const uint32_t v)
{
  return voice_out(voicing, v)->gate > 0.5f;
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
  out->pitch                = ((float)key - (float)MIDDLE_C) / 12.0f;
  out->velocity             = (float)velocity / 127.0f;
  out->gate                 = 1.0f;
  ++out->trigger; /* the `voice` module turns this into a trig pulse */
}

CH_REALTIME static void
release(ChVoicing* const voicing, const uint32_t v)
{
  voicing->slot[v].held       = false;
  voicing->slot[v].sustained  = false;
  voicing->slot[v].released   = ++voicing->clock;
  voice_out(voicing, v)->gate = 0.0f; /* pitch stays for the release tail */
  /* counted, so that a note-on at the same frame still retriggers */
  ++voice_out(voicing, v)->release;
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
  start(voicing, 0, key, velocity); /* cuts whatever the pedal held */
}

CH_REALTIME static void
mono_note_off(ChVoicing* const voicing, const uint8_t key)
{
  ChVoiceSlot* const slot = &voicing->slot[0];
  remove_key(voicing, key);
  if (!gate_on(voicing, 0) || key != slot->note || slot->sustained) {
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
    release(voicing, 0);
  }
}

/* Poly */

/* The voice for a new note: the same note if it still sounds, else the
   free voice released longest ago, else the oldest note (stolen). */
CH_REALTIME static uint32_t
choose_voice(const ChVoicing* const voicing, const uint8_t key)
{
  uint32_t same = UINT32_MAX;
  uint32_t free = UINT32_MAX;
  uint32_t old  = 0;
  for (uint32_t v = 0; v < voicing->n_voices; ++v) {
    const ChVoiceSlot* const slot = &voicing->slot[v];
    if (slot->note == key &&
        (slot->held || slot->sustained || slot->released)) {
      same = v;
    }
    if (!gate_on(voicing, v)) {
      if (free == UINT32_MAX || slot->released < voicing->slot[free].released) {
        free = v;
      }
    } else if (slot->started < voicing->slot[old].started ||
               !gate_on(voicing, old)) {
      old = v;
    }
  }
  return same != UINT32_MAX ? same : free != UINT32_MAX ? free : old;
}

CH_REALTIME static void
poly_note_off(ChVoicing* const voicing, const uint8_t key)
{
  for (uint32_t v = 0; v < voicing->n_voices; ++v) {
    ChVoiceSlot* const slot = &voicing->slot[v];
    if (slot->held && slot->note == key) {
      if (voicing->pedal) {
        slot->held      = false;
        slot->sustained = true;
      } else {
        release(voicing, v);
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
    start(voicing, choose_voice(voicing, key), key, velocity);
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
    if (voicing->slot[v].sustained) {
      release(voicing, v);
    }
  }
}

CH_REALTIME static void
release_all(ChVoicing* const voicing)
{
  voicing->n_held = 0u;
  voicing->pedal  = false;
  for (uint32_t v = 0; v < CH_MAX_VOICES; ++v) {
    if (gate_on(voicing, v)) {
      release(voicing, v);
    }
    voicing->slot[v].held      = false;
    voicing->slot[v].sustained = false;
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
    if (gate_on(voicing, v)) {
      release(voicing, v);
    }
    voicing->slot[v].held      = false;
    voicing->slot[v].sustained = false;
  }
  if (n == 1u && voicing->n_voices != 1u) {
    /* Mono keeps a stack of held keys: start it with voice 0's note. */
    voicing->n_held = 0u;
    if (voicing->slot[0].held) {
      voicing->stack[voicing->n_held++] = voicing->slot[0].note;
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
