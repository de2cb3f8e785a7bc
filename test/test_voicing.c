/* Tests of MIDI voicing: monophonic last-note priority, legato fallback,
   sustain pedal, bend, controllers and malformed input. */
#include "../src/voicing.h"
#include "check.h"
#include "rtcheck.h"

#include <stdint.h>
#include <string.h>

#define TOL 1e-6

static ChVoicing    voicing;
static ChHostInputs out;

static void
start(void)
{
  memset(&out, 0x55, sizeof(out)); /* init must overwrite the note fields */
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    out.macro[i] = 0.25f * (float)i;
  }
  ch_voicing_init(&voicing, &out);
}

static bool
send3(const uint8_t status, const uint8_t a, const uint8_t b)
{
  const uint8_t msg[3] = { status, a, b };
  return ch_voicing_midi(&voicing, msg, 3);
}

static bool
on(const uint8_t note, const uint8_t velocity)
{
  return send3(0x90, note, velocity);
}

static bool
off(const uint8_t note)
{
  return send3(0x80, note, 64);
}

static bool
pedal(const uint8_t value)
{
  return send3(0xB0, 64, value);
}

static bool
bend(const uint32_t value)
{
  return send3(0xE0, (uint8_t)(value & 0x7Fu), (uint8_t)(value >> 7));
}

/* Field by field: floats have no unique object representation. */
static int
same_inputs(const ChHostInputs* const a, const ChHostInputs* const b)
{
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    if (a->macro[i] != b->macro[i]) {
      return 0;
    }
  }
  return a->pitch == b->pitch && a->gate == b->gate &&
         a->velocity == b->velocity && a->mod == b->mod &&
         a->aftertouch == b->aftertouch && a->trigger == b->trigger;
}

static float
pitch_of(const int note)
{
  return (float)(note - 60) / 12.0f;
}

static void
test_init(void)
{
  start();
  CHECK(out.pitch == 0.0f && out.gate == 0.0f && out.velocity == 0.0f);
  CHECK(out.mod == 0.0f && out.aftertouch == 0.0f && out.trigger == 0u);
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    CHECK(out.macro[i] == 0.25f * (float)i); /* left alone */
  }
  CHECK(voicing.out == &out && voicing.n_held == 0u && !voicing.pedal);
  CHECK(voicing.bend == 0.0f && voicing.bend_range == 2.0f);
}

static void
test_note_on_off(void)
{
  start();
  CHECK(on(60, 127));
  CHECK_NEAR(out.pitch, 0.0, TOL);
  CHECK(out.gate == 1.0f && out.trigger == 1u);
  CHECK_NEAR(out.velocity, 1.0, TOL);
  CHECK(off(60));
  CHECK(out.gate == 0.0f);
  CHECK_NEAR(out.pitch, 0.0, TOL); /* the release keeps its pitch */
  CHECK_NEAR(out.velocity, 1.0, TOL);

  CHECK(on(72, 64));
  CHECK_NEAR(out.pitch, 1.0, TOL);
  CHECK_NEAR(out.velocity, 64.0 / 127.0, TOL);
  CHECK(out.gate == 1.0f && out.trigger == 2u);
  CHECK(off(72));
  CHECK(out.gate == 0.0f);
  CHECK_NEAR(out.pitch, 1.0, TOL);

  CHECK(on(21, 1)); /* A0 */
  CHECK_NEAR(out.pitch, pitch_of(21), TOL);
  CHECK(on(127, 100));
  CHECK_NEAR(out.pitch, pitch_of(127), TOL);
  CHECK(on(0, 100));
  CHECK_NEAR(out.pitch, -5.0, TOL);

  /* Any channel. */
  start();
  CHECK(send3(0x9F, 69, 100));
  CHECK_NEAR(out.pitch, 0.75, TOL);
  CHECK(out.gate == 1.0f);
  CHECK(send3(0x83, 69, 0));
  CHECK(out.gate == 0.0f);
}

static void
test_velocity_zero_is_note_off(void)
{
  start();
  CHECK(on(64, 90));
  CHECK(on(64, 0));
  CHECK(out.gate == 0.0f && out.trigger == 1u);
  CHECK_NEAR(out.velocity, 90.0 / 127.0, TOL);
  CHECK(voicing.n_held == 0u);
}

static void
test_last_note_priority(void)
{
  start();
  CHECK(on(60, 100));
  CHECK(on(64, 80));
  CHECK_NEAR(out.pitch, pitch_of(64), TOL);
  CHECK(out.trigger == 2u); /* legato note-on still triggers */
  CHECK(on(67, 60));
  CHECK_NEAR(out.pitch, pitch_of(67), TOL);
  CHECK(out.trigger == 3u);

  /* Releasing the sounding key falls back to the latest held one, legato. */
  CHECK(off(67));
  CHECK_NEAR(out.pitch, pitch_of(64), TOL);
  CHECK(out.gate == 1.0f && out.trigger == 3u);
  CHECK_NEAR(out.velocity, 60.0 / 127.0, TOL);

  /* Releasing a key that is not sounding changes nothing. */
  CHECK(off(60));
  CHECK_NEAR(out.pitch, pitch_of(64), TOL);
  CHECK(out.gate == 1.0f && out.trigger == 3u);
  CHECK(off(64));
  CHECK(out.gate == 0.0f && out.trigger == 3u);
  CHECK_NEAR(out.pitch, pitch_of(64), TOL);

  /* Fallback skips keys released in between. */
  CHECK(on(48, 100));
  CHECK(on(50, 100));
  CHECK(on(52, 100));
  CHECK(off(50));
  CHECK(off(52));
  CHECK_NEAR(out.pitch, pitch_of(48), TOL);
  CHECK(out.gate == 1.0f && out.trigger == 6u);

  /* Pressing a held key again moves it to the top, once. */
  CHECK(on(55, 100));
  CHECK(on(48, 100));
  CHECK(voicing.n_held == 2u);
  CHECK_NEAR(out.pitch, pitch_of(48), TOL);
  CHECK(off(48));
  CHECK_NEAR(out.pitch, pitch_of(55), TOL);
  CHECK(off(55));
  CHECK(out.gate == 0.0f && voicing.n_held == 0u);

  /* A stray note-off is harmless. */
  CHECK(off(90));
  CHECK(out.gate == 0.0f && out.trigger == 8u);

  /* All 128 keys held and released in reverse fall back one by one. */
  for (int k = 0; k < 128; ++k) {
    CHECK(on((uint8_t)k, 100));
  }
  CHECK(voicing.n_held == 128u);
  for (int k = 127; k > 0; --k) {
    CHECK(off((uint8_t)k));
    CHECK_NEAR(out.pitch, pitch_of(k - 1), TOL);
  }
  CHECK(off(0));
  CHECK(out.gate == 0.0f);
}

static void
test_sustain_pedal(void)
{
  start();
  CHECK(pedal(127));
  CHECK(on(60, 100));
  CHECK(off(60));
  CHECK(out.gate == 1.0f); /* held by the pedal */
  CHECK(voicing.sustained[60]);
  CHECK(pedal(0));
  CHECK(out.gate == 0.0f);
  CHECK(!voicing.sustained[60]);
  CHECK_NEAR(out.pitch, 0.0, TOL);

  /* A new note while the pedal holds one plays normally. */
  CHECK(pedal(64));
  CHECK(on(60, 100));
  CHECK(off(60));
  CHECK(on(67, 90));
  CHECK_NEAR(out.pitch, pitch_of(67), TOL);
  CHECK(out.gate == 1.0f && out.trigger == 3u);
  CHECK_NEAR(out.velocity, 90.0 / 127.0, TOL);
  CHECK(off(67));
  CHECK(out.gate == 1.0f);
  CHECK_NEAR(out.pitch, pitch_of(67), TOL);
  CHECK(pedal(63)); /* below 64 is up */
  CHECK(out.gate == 0.0f);

  /* Pedal up while a key is still down: the key keeps sounding. */
  CHECK(pedal(100));
  CHECK(on(62, 100));
  CHECK(pedal(0));
  CHECK(out.gate == 1.0f);
  CHECK(off(62));
  CHECK(out.gate == 0.0f);

  /* With keys held, pedal or not, note-off falls back. */
  CHECK(pedal(127));
  CHECK(on(60, 100));
  CHECK(on(64, 100));
  CHECK(off(64));
  CHECK_NEAR(out.pitch, pitch_of(60), TOL);
  CHECK(off(60));
  CHECK(out.gate == 1.0f);
  CHECK(pedal(127)); /* pedal down twice: still down */
  CHECK(out.gate == 1.0f);
  CHECK(pedal(0));
  CHECK(out.gate == 0.0f);
  CHECK(pedal(0)); /* up twice: nothing */
  CHECK(out.gate == 0.0f);
}

static void
test_pitch_bend(void)
{
  start();
  CHECK(on(60, 100));
  CHECK(bend(16383));
  CHECK_NEAR(out.pitch, 2.0 / 12.0, 1e-3);
  CHECK(bend(0));
  CHECK_NEAR(out.pitch, -2.0 / 12.0, TOL);
  CHECK_NEAR(voicing.bend, -1.0, TOL);
  CHECK(bend(8192));
  CHECK_NEAR(out.pitch, 0.0, TOL);
  CHECK(bend(8192 + 4096));
  CHECK_NEAR(out.pitch, 1.0 / 12.0, TOL);

  /* Bend carries over to new notes and fallbacks. */
  CHECK(on(72, 100));
  CHECK_NEAR(out.pitch, 1.0 + 1.0 / 12.0, TOL);
  CHECK(off(72));
  CHECK_NEAR(out.pitch, 1.0 / 12.0, TOL);

  /* And moves the pitch of a releasing note too. */
  CHECK(off(60));
  CHECK(out.gate == 0.0f);
  CHECK(bend(0));
  CHECK_NEAR(out.pitch, -2.0 / 12.0, TOL);

  /* Range is a field. */
  voicing.bend_range = 12.0f;
  CHECK(bend(0));
  CHECK_NEAR(out.pitch, -1.0, TOL);

  /* Any channel; bend before any note bends around C4. */
  start();
  CHECK(send3(0xE5, 0, 0));
  CHECK_NEAR(out.pitch, -2.0 / 12.0, TOL);
}

static void
test_controllers(void)
{
  start();
  CHECK(send3(0xB0, 1, 127));
  CHECK_NEAR(out.mod, 1.0, TOL);
  CHECK(send3(0xB7, 1, 64));
  CHECK_NEAR(out.mod, 64.0 / 127.0, TOL);
  CHECK(send3(0xB0, 1, 0));
  CHECK(out.mod == 0.0f);

  const uint8_t pressure[2] = { 0xD0, 100 };
  CHECK(ch_voicing_midi(&voicing, pressure, 2));
  CHECK_NEAR(out.aftertouch, 100.0 / 127.0, TOL);
  const uint8_t pressure_ch9[2] = { 0xD9, 127 };
  CHECK(ch_voicing_midi(&voicing, pressure_ch9, 2));
  CHECK_NEAR(out.aftertouch, 1.0, TOL);

  /* Controllers we do not handle are not used and change nothing. */
  const ChHostInputs before = out;
  CHECK(!send3(0xB0, 7, 100));  /* volume */
  CHECK(!send3(0xB0, 121, 0));  /* reset all controllers */
  CHECK(!send3(0xA0, 60, 100)); /* poly pressure */
  const uint8_t program[2] = { 0xC0, 5 };
  CHECK(!ch_voicing_midi(&voicing, program, 2));
  const uint8_t clock[1] = { 0xF8 };
  CHECK(!ch_voicing_midi(&voicing, clock, 1));
  const uint8_t sysex[4] = { 0xF0, 0x7E, 0x01, 0xF7 };
  CHECK(!ch_voicing_midi(&voicing, sysex, 4));
  CHECK(same_inputs(&before, &out));
}

static void
test_all_notes_off(void)
{
  static const uint8_t ccs[] = { 120, 123 };
  for (uint32_t i = 0; i < CH_COUNT(ccs); ++i) {
    start();
    CHECK(pedal(127));
    CHECK(on(60, 100));
    CHECK(on(64, 100));
    CHECK(send3(0xB3, ccs[i], 0));
    CHECK(out.gate == 0.0f);
    CHECK(voicing.n_held == 0u && !voicing.pedal);
    CHECK_NEAR(out.pitch, pitch_of(64), TOL);

    /* Nothing held any more: the next note plays and releases alone. */
    CHECK(on(67, 100));
    CHECK(out.gate == 1.0f && out.trigger == 3u);
    CHECK(off(67));
    CHECK(out.gate == 0.0f); /* the pedal was cleared */
    CHECK(off(60));          /* stale note-offs change nothing */
    CHECK(off(64));
    CHECK(out.gate == 0.0f);
    CHECK_NEAR(out.pitch, pitch_of(67), TOL);
  }
}

static void
test_malformed(void)
{
  start();
  CHECK(on(60, 100));
  const ChHostInputs before = out;

  const uint8_t short_on[2] = { 0x90, 62 };
  CHECK(!ch_voicing_midi(&voicing, short_on, 2));
  const uint8_t long_on[4] = { 0x90, 62, 100, 0 };
  CHECK(!ch_voicing_midi(&voicing, long_on, 4));
  const uint8_t short_off[2] = { 0x80, 60 };
  CHECK(!ch_voicing_midi(&voicing, short_off, 2));
  const uint8_t short_cc[2] = { 0xB0, 123 };
  CHECK(!ch_voicing_midi(&voicing, short_cc, 2));
  const uint8_t short_bend[2] = { 0xE0, 0 };
  CHECK(!ch_voicing_midi(&voicing, short_bend, 2));
  const uint8_t long_pressure[3] = { 0xD0, 1, 2 };
  CHECK(!ch_voicing_midi(&voicing, long_pressure, 3));
  const uint8_t running[2] = { 62, 100 }; /* running status */
  CHECK(!ch_voicing_midi(&voicing, running, 2));
  CHECK(!send3(0x90, 0x80 | 62, 100)); /* data bytes are 7-bit */
  CHECK(!send3(0x80, 60, 0xFF));
  CHECK(!send3(0xB0, 123, 0x80));
  CHECK(!ch_voicing_midi(&voicing, NULL, 3));
  CHECK(!ch_voicing_midi(&voicing, short_on, 0));

  CHECK(same_inputs(&before, &out));
  CHECK(voicing.n_held == 1u && voicing.stack[0] == 60);
}

static void
test_realtime_safe(void)
{
  start();
  uint32_t used = 0;
  rtcheck_begin();
  for (uint32_t k = 0; k < 2000; ++k) {
    const uint8_t note = (uint8_t)((k * 7u) % 128u);
    used += on(note, (uint8_t)(1u + k % 127u));
    used += bend((k * 131u) % 16384u);
    used += send3(0xB0, 1, (uint8_t)(k % 128u));
    used += pedal((uint8_t)((k % 5u) * 32u));
    if (k % 3u) {
      used += off((uint8_t)((k * 5u) % 128u));
    }
    if (k % 500u == 499u) {
      used += send3(0xB0, 123, 0);
    }
  }
  const unsigned violations = rtcheck_end();
  CHECK_MSG(!violations, "%u forbidden calls, first %s", violations,
            rtcheck_first());
  CHECK(used > 8000u);
}

int
main(void)
{
  RUN(test_init);
  RUN(test_note_on_off);
  RUN(test_velocity_zero_is_note_off);
  RUN(test_last_note_priority);
  RUN(test_sustain_pedal);
  RUN(test_pitch_bend);
  RUN(test_controllers);
  RUN(test_all_notes_off);
  RUN(test_malformed);
  RUN(test_realtime_safe);
  return CHECK_EXIT();
}
