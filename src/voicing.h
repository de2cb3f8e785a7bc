/* Turns MIDI into the played-note signals of ChHostInputs: one voice with
   last-note priority, or up to CH_MAX_VOICES with voice allocation and
   stealing; sustain pedal, pitch bend, mod wheel and pressure. */
#ifndef CH_VOICING_H
#define CH_VOICING_H

#include "kind.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What one voice is doing.  Plain data. */
typedef struct {
  uint8_t  note;      /**< the note it plays (or played, while releasing) */
  bool     held;      /**< its key is down */
  bool     sustained; /**< its key is up but the pedal holds it */
  uint32_t started;   /**< event count when the note started */
  uint32_t released;  /**< event count when its gate went off */
} ChVoiceSlot;

/** MIDI state of one channel-less instrument.  Plain data. */
typedef struct {
  ChHostInputs* out;      /**< where results go */
  uint32_t      n_voices; /**< 1: mono, last-note priority; more: poly */
  uint32_t      clock;    /**< counts note events, to age voices */
  bool          pedal;
  ChVoiceSlot   slot[CH_MAX_VOICES];
  uint8_t       stack[128]; /**< mono: held keys, oldest first */
  uint8_t       n_held;
} ChVoicing;

/** Start with no note held, writing into `out` (which it initialises). */
void ch_voicing_init(ChVoicing* voicing, ChHostInputs* out);

/**
   Play with `voices` voices (1..CH_MAX_VOICES, clamped).  Notes in voices
   that remain keep playing; voices beyond the new count are released.
   Real-time.
*/
CH_REALTIME void ch_voicing_set_voices(ChVoicing* voicing, uint32_t voices);

/**
   Apply one MIDI message (status byte first; running status is not
   supported, as in LV2 MIDI events).  Note-on with velocity 0 is a
   note-off.  Handles note on/off, pitch bend (out->bend), CC 1 (mod
   wheel), CC 64 (sustain), CC 120/123 (all sound/notes off), channel and
   key pressure.  Any channel.  Returns true if it used the message.

   Mono: last-note priority; releasing the newest key falls back to the
   most recent key still held (legato: no new trigger).  Poly: a new note
   takes a free voice, the one released longest ago; with none free it
   steals the oldest note.  A note already sounding restarts its voice.
   Every gate drop counts in the voice's `release`, so that a note-off and
   a note-on at the same frame still read as a new note.  Real-time.
*/
CH_REALTIME bool ch_voicing_midi(ChVoicing*     voicing,
                                 const uint8_t* msg,
                                 uint32_t       size);

#ifdef __cplusplus
}
#endif

#endif /* CH_VOICING_H */
