/* midi: parses the MIDI commands that renderer scripts and
   chronus-midi-send share, so both read notes the same way. */
#include "midi.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char* name;
  int         n_args;
  const char* usage;
} MidiCommand;

static const MidiCommand commands[] = {
  { "note-on", 2, "note-on NOTE VELOCITY" },
  { "note-off", 1, "note-off NOTE" },
  { "cc", 2, "cc NUMBER VALUE" },
  { "bend", 1, "bend VALUE (-8192..8191)" },
  { "program", 1, "program N" },
};

static bool
parse_int(const char* const text, long* const value, long min, long max)
{
  char* end = NULL;
  errno     = 0;
  *value    = strtol(text, &end, 10);
  return end != text && !*end && !errno && *value >= min && *value <= max;
}

bool
ch_note_parse(const char* const text, long* const note)
{
  if (parse_int(text, note, 0, 127)) {
    return true;
  }
  static const int steps[] = { 9, 11, 0, 2, 4, 5, 7 }; /* A B C D E F G */
  const char       letter  = (char)toupper((unsigned char)text[0]);
  if (letter < 'A' || letter > 'G') {
    return false;
  }
  long        semitone = steps[letter - 'A'];
  const char* rest     = text + 1;
  if (*rest == '#') {
    ++semitone;
    ++rest;
  } else if (*rest == 'b') {
    --semitone;
    ++rest;
  }
  long octave = 0;
  if (!parse_int(rest, &octave, -1, 9)) {
    return false;
  }
  *note = 12 * (octave + 1) + semitone;
  return *note >= 0 && *note <= 127;
}

static const MidiCommand*
find(const char* const word)
{
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); ++i) {
    if (!strcmp(word, commands[i].name)) {
      return &commands[i];
    }
  }
  return NULL;
}

bool
ch_midi_is_command(const char* const word)
{
  return find(word) != NULL;
}

uint32_t
ch_midi_parse(char* const* const argv,
              const int          argc,
              uint8_t            msg[3],
              char* const        why,
              const size_t       why_size)
{
  const MidiCommand* const cmd = find(argv[0]);
  long                     a   = 0;
  long                     b   = 0;
  if (!cmd) {
    snprintf(why, why_size, "unknown command '%s'", argv[0]);
    return 0;
  }
  if (argc - 1 != cmd->n_args) {
    snprintf(why, why_size, "'%s' takes %d argument%s, not %d: %s", cmd->name,
             cmd->n_args, cmd->n_args == 1 ? "" : "s", argc - 1, cmd->usage);
    return 0;
  }
  const char c = cmd->name[0];
  if (c == 'n') { /* note-on, note-off */
    const bool on = !strcmp(cmd->name, "note-on");
    if (!ch_note_parse(argv[1], &a)) {
      snprintf(why, why_size, "bad note '%s' (0..127 or a name like A4)",
               argv[1]);
      return 0;
    }
    if (on && !parse_int(argv[2], &b, 0, 127)) {
      snprintf(why, why_size, "bad velocity '%s' (0..127)", argv[2]);
      return 0;
    }
    msg[0] = on ? 0x90 : 0x80;
  } else if (c == 'c') {
    if (!parse_int(argv[1], &a, 0, 127) || !parse_int(argv[2], &b, 0, 127)) {
      snprintf(why, why_size, "bad controller '%s %s' (0..127 0..127)", argv[1],
               argv[2]);
      return 0;
    }
    msg[0] = 0xB0;
  } else if (c == 'b') {
    if (!parse_int(argv[1], &a, -8192, 8191)) {
      snprintf(why, why_size, "bad bend '%s' (-8192..8191)", argv[1]);
      return 0;
    }
    msg[0] = 0xE0;
    b      = ((a + 8192) >> 7) & 0x7F;
    a      = (a + 8192) & 0x7F;
  } else { /* program */
    if (!parse_int(argv[1], &a, 0, 127)) {
      snprintf(why, why_size, "bad program '%s' (0..127)", argv[1]);
      return 0;
    }
    msg[0] = 0xC0;
    msg[1] = (uint8_t)a;
    return 2;
  }
  msg[1] = (uint8_t)a;
  msg[2] = (uint8_t)b;
  return 3;
}
