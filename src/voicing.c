/* MIDI to the played-note signals: monophonic, last-note priority, with
   legato fallback to held keys, sustain pedal, pitch bend and mod wheel. */
#include "voicing.h"

#include <string.h>

#define NOTE_OFF 0x80u
#define NOTE_ON  0x90u
#define CONTROL  0xB0u
#define PRESSURE 0xD0u
#define BEND     0xE0u

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
  voicing->note       = MIDDLE_C;
  voicing->bend_range = 2.0f;
  voicing->out        = out;

  out->pitch      = 0.0f;
  out->gate       = 0.0f;
  out->velocity   = 0.0f;
  out->mod        = 0.0f;
  out->aftertouch = 0.0f;
  out->trigger    = 0u;
}

CH_REALTIME static void
update_pitch(ChVoicing* const voicing)
{
  voicing->out->pitch = ((float)voicing->note - (float)MIDDLE_C) / 12.0f +
                        voicing->bend * voicing->bend_range / 12.0f;
}

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

CH_REALTIME static bool
sounding(const ChVoicing* const voicing)
{
  return voicing->out->gate > 0.5f;
}

CH_REALTIME static void
note_on(ChVoicing* const voicing, const uint8_t key, const uint8_t velocity)
{
  ChHostInputs* const out = voicing->out;

  remove_key(voicing, key);
  voicing->stack[voicing->n_held++] = key;

  /* Mono: whatever the pedal held is cut off by the new note. */
  memset(voicing->sustained, 0, sizeof(voicing->sustained));

  voicing->note = key;
  update_pitch(voicing);
  out->velocity = (float)velocity / 127.0f;
  out->gate     = 1.0f;
  ++out->trigger; /* also on legato: `voice` turns this into a trig pulse */
}

CH_REALTIME static void
note_off(ChVoicing* const voicing, const uint8_t key)
{
  remove_key(voicing, key);
  if (!sounding(voicing) || key != voicing->note) {
    return; /* an older held key, or a stray note-off */
  }

  if (voicing->n_held) {
    /* Legato fallback: no new trigger, velocity of the last note-on. */
    voicing->note = voicing->stack[voicing->n_held - 1u];
    update_pitch(voicing);
  } else if (voicing->pedal) {
    voicing->sustained[key] = true;
  } else {
    voicing->out->gate = 0.0f; /* pitch stays for the release tail */
  }
}

CH_REALTIME static void
release_all(ChVoicing* const voicing)
{
  voicing->n_held = 0u;
  voicing->pedal  = false;
  memset(voicing->sustained, 0, sizeof(voicing->sustained));
  voicing->out->gate = 0.0f;
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
      voicing->pedal = false;
      memset(voicing->sustained, 0, sizeof(voicing->sustained));
      if (!voicing->n_held) {
        voicing->out->gate = 0.0f;
      }
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
  if (type != NOTE_OFF && type != NOTE_ON && type != CONTROL &&
      type != PRESSURE && type != BEND) {
    return false; /* poly pressure, program change, system messages */
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
  case CONTROL:
    return control(voicing, msg[1], msg[2]);
  case PRESSURE:
    voicing->out->aftertouch = (float)msg[1] / 127.0f;
    return true;
  default: { /* BEND */
    const int   value = (int)msg[1] | ((int)msg[2] << 7);
    const float bend  = (float)(value - 8192) / 8192.0f;
    voicing->bend     = bend < -1.0f ? -1.0f : bend > 1.0f ? 1.0f : bend;
    update_pitch(voicing);
    return true;
  }
  }
}
