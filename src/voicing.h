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

/** Seconds a stolen voice's note takes to fade out before the note that
    stole it starts (see ch_voicing_set_steal). */
#define CH_STEAL_SECONDS 0.003

/** What one voice is doing.  Plain data. */
typedef struct {
  uint8_t  note;      /**< the note it plays (or played, while releasing) */
  bool     held;      /**< its key is down */
  bool     sustained; /**< its key is up but the pedal holds it */
  uint32_t started;   /**< event count when the note started */
  uint32_t released;  /**< event count when its gate went off */
  /* Stealing (poly, with ch_voicing_set_steal): */
  bool     stealing; /**< its note fades out; `next_note` starts after */
  uint8_t  next;     /**< what the fade's end starts: CH_NEXT_* */
  uint8_t  next_note;
  uint8_t  next_velocity;
  uint32_t wait;     /**< frames to its next timed step: the fade's end, or
                          the delayed release of a note that started late */
  uint32_t lag;      /**< frames its note sounds behind its key */
  uint32_t held_for; /**< CH_NEXT_UP while stealing: frames the key was
                          down before it rose */
} ChVoiceSlot;

/** ChVoiceSlot.next: the state of the note a steal starts, or of a late
    note's key. */
enum {
  CH_NEXT_NONE,      /**< nothing (all notes off) */
  CH_NEXT_HELD,      /**< its key is down */
  CH_NEXT_SUSTAINED, /**< its key rose while the pedal was down */
  CH_NEXT_UP,        /**< its key rose: release `lag` frames after it */
};

/** MIDI state of one channel-less instrument.  Plain data. */
typedef struct {
  ChHostInputs* out;      /**< where results go */
  uint32_t      n_voices; /**< 1: mono, last-note priority; more: poly */
  uint32_t      clock;    /**< counts note events, to age voices */
  uint32_t      steal;    /**< frames of a stolen note's fade; 0: cut */
  bool          pedal;
  bool          timed; /**< some slot waits, or some voice's `fresh` flag is
                          set: only then have due/advance work to do */
  ChVoiceSlot slot[CH_MAX_VOICES];
  uint8_t     stack[128]; /**< mono: held keys, oldest first */
  uint8_t     n_held;
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
   steals the oldest note (see ch_voicing_set_steal).  A note already
   sounding restarts its voice.  Every gate drop counts in the voice's
   `release`, so that a note-off and a note-on at the same frame still
   read as a new note.  Real-time.
*/
CH_REALTIME bool ch_voicing_midi(ChVoicing*     voicing,
                                 const uint8_t* msg,
                                 uint32_t       size);

/**
   Fade a stolen note out over `frames` frames before the note that stole
   its voice starts (0, the default: the new note takes the voice at once).
   The voice's `fade` and `fade_len` tell the graph to scale what the voice
   sends out down to silence; at the fade's end the new note starts and
   the voice's `fresh` flag makes the graph restart it from the fresh state
   of its modules.  A stolen note therefore starts `frames` late, and so
   does its release: its length is kept.  Real-time.
*/
CH_REALTIME void ch_voicing_set_steal(ChVoicing* voicing, uint32_t frames);

/**
   Frames from now to the next timed step (a fade's end, a late release),
   at least 1, or UINT32_MAX if none is due.  Render no further than this
   before calling ch_voicing_advance(), so that steps land on their frame.
   Real-time.
*/
CH_REALTIME uint32_t ch_voicing_due(const ChVoicing* voicing);

/**
   `frames` frames were rendered: clears the `fresh` flags of the block
   just rendered, runs the fades on and takes the steps that are due.
   Call it after every rendered span, whether or not anything is due.
   Real-time.
*/
CH_REALTIME void ch_voicing_advance(ChVoicing* voicing, uint32_t frames);

#ifdef __cplusplus
}
#endif

#endif /* CH_VOICING_H */
