/* Turns MIDI into the played-note signals of ChHostInputs: monophonic,
   last-note priority, with sustain pedal, pitch bend and mod wheel. */
#ifndef CH_VOICING_H
#define CH_VOICING_H

#include "kind.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** MIDI state of one channel-less monophonic voice.  Plain data. */
typedef struct {
  uint8_t       stack[128]; /**< held keys, oldest first */
  uint8_t       n_held;
  bool          sustained[128]; /**< released keys the pedal still holds */
  bool          pedal;
  uint8_t       note;       /**< the sounding note (valid while gate is on) */
  float         bend;       /**< -1..1 */
  float         bend_range; /**< semitones for full bend (default 2) */
  ChHostInputs* out;        /**< where results go */
} ChVoicing;

/** Start with no note held, writing into `out` (which it initialises). */
void ch_voicing_init(ChVoicing* voicing, ChHostInputs* out);

/**
   Apply one MIDI message (status byte first; running status is not
   supported, as in LV2 MIDI events).  Note-on with velocity 0 is a
   note-off.  Handles note on/off, pitch bend, CC 1 (mod wheel), CC 64
   (sustain), CC 120/123 (all sound/notes off), channel pressure.  Any
   channel.  Returns true if it used the message.  Real-time.
*/
CH_REALTIME bool ch_voicing_midi(ChVoicing*     voicing,
                                 const uint8_t* msg,
                                 uint32_t       size);

#ifdef __cplusplus
}
#endif

#endif /* CH_VOICING_H */
