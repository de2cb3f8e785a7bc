/* midi: the MIDI lines of Chronus scripts (note-on, cc, ...) as bytes. */
#ifndef CH_TOOLS_MIDI_H
#define CH_TOOLS_MIDI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A MIDI note: 0..127 or a name such as C4 (60), A4 (69), F#3, Bb2. */
bool ch_note_parse(const char* text, long* note);

/* True if `word` is a MIDI command: note-on, note-off, cc, bend, program. */
bool ch_midi_is_command(const char* word);

/*
   The MIDI message (channel 1) of a command and its arguments (argv[0] is
   the command).  Returns its size (2 or 3 bytes), or 0 with a message in
   `why` (e.g. "bad note 'H4' (0..127 or a name like A4)").
*/
uint32_t ch_midi_parse(char* const* argv,
                       int          argc,
                       uint8_t      msg[3],
                       char*        why,
                       size_t       why_size);

#endif /* CH_TOOLS_MIDI_H */
