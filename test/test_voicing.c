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
  return a->voice[0].pitch == b->voice[0].pitch &&
         a->voice[0].gate == b->voice[0].gate &&
         a->voice[0].velocity == b->voice[0].velocity && a->mod == b->mod &&
         a->voice[0].aftertouch == b->voice[0].aftertouch &&
         a->voice[0].trigger == b->voice[0].trigger;
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
  CHECK(out.voice[0].pitch == 0.0f && out.voice[0].gate == 0.0f &&
        out.voice[0].velocity == 0.0f);
  CHECK(out.mod == 0.0f && out.voice[0].aftertouch == 0.0f &&
        out.voice[0].trigger == 0u);
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    CHECK(out.macro[i] == 0.25f * (float)i); /* left alone */
  }
  CHECK(voicing.out == &out && voicing.n_held == 0u && !voicing.pedal);
  CHECK(out.bend == 0.0f && voicing.n_voices == 1u);
}

static void
test_note_on_off(void)
{
  start();
  CHECK(on(60, 127));
  CHECK_NEAR(out.voice[0].pitch, 0.0, TOL);
  CHECK(out.voice[0].gate == 1.0f && out.voice[0].trigger == 1u);
  CHECK_NEAR(out.voice[0].velocity, 1.0, TOL);
  CHECK(off(60));
  CHECK(out.voice[0].gate == 0.0f);
  CHECK_NEAR(out.voice[0].pitch, 0.0, TOL); /* the release keeps its pitch */
  CHECK_NEAR(out.voice[0].velocity, 1.0, TOL);

  CHECK(on(72, 64));
  CHECK_NEAR(out.voice[0].pitch, 1.0, TOL);
  CHECK_NEAR(out.voice[0].velocity, 64.0 / 127.0, TOL);
  CHECK(out.voice[0].gate == 1.0f && out.voice[0].trigger == 2u);
  CHECK(off(72));
  CHECK(out.voice[0].gate == 0.0f);
  CHECK_NEAR(out.voice[0].pitch, 1.0, TOL);

  CHECK(on(21, 1)); /* A0 */
  CHECK_NEAR(out.voice[0].pitch, pitch_of(21), TOL);
  CHECK(on(127, 100));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(127), TOL);
  CHECK(on(0, 100));
  CHECK_NEAR(out.voice[0].pitch, -5.0, TOL);

  /* Any channel. */
  start();
  CHECK(send3(0x9F, 69, 100));
  CHECK_NEAR(out.voice[0].pitch, 0.75, TOL);
  CHECK(out.voice[0].gate == 1.0f);
  CHECK(send3(0x83, 69, 0));
  CHECK(out.voice[0].gate == 0.0f);
}

static void
test_velocity_zero_is_note_off(void)
{
  start();
  CHECK(on(64, 90));
  CHECK(on(64, 0));
  CHECK(out.voice[0].gate == 0.0f && out.voice[0].trigger == 1u);
  CHECK_NEAR(out.voice[0].velocity, 90.0 / 127.0, TOL);
  CHECK(voicing.n_held == 0u);
}

static void
test_last_note_priority(void)
{
  start();
  CHECK(on(60, 100));
  CHECK(on(64, 80));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(64), TOL);
  CHECK(out.voice[0].trigger == 2u); /* legato note-on still triggers */
  CHECK(on(67, 60));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(67), TOL);
  CHECK(out.voice[0].trigger == 3u);

  /* Releasing the sounding key falls back to the latest held one, legato. */
  CHECK(off(67));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(64), TOL);
  CHECK(out.voice[0].gate == 1.0f && out.voice[0].trigger == 3u);
  CHECK_NEAR(out.voice[0].velocity, 60.0 / 127.0, TOL);

  /* Releasing a key that is not sounding changes nothing. */
  CHECK(off(60));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(64), TOL);
  CHECK(out.voice[0].gate == 1.0f && out.voice[0].trigger == 3u);
  CHECK(off(64));
  CHECK(out.voice[0].gate == 0.0f && out.voice[0].trigger == 3u);
  CHECK_NEAR(out.voice[0].pitch, pitch_of(64), TOL);

  /* Fallback skips keys released in between. */
  CHECK(on(48, 100));
  CHECK(on(50, 100));
  CHECK(on(52, 100));
  CHECK(off(50));
  CHECK(off(52));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(48), TOL);
  CHECK(out.voice[0].gate == 1.0f && out.voice[0].trigger == 6u);

  /* Pressing a held key again moves it to the top, once. */
  CHECK(on(55, 100));
  CHECK(on(48, 100));
  CHECK(voicing.n_held == 2u);
  CHECK_NEAR(out.voice[0].pitch, pitch_of(48), TOL);
  CHECK(off(48));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(55), TOL);
  CHECK(off(55));
  CHECK(out.voice[0].gate == 0.0f && voicing.n_held == 0u);

  /* A stray note-off is harmless. */
  CHECK(off(90));
  CHECK(out.voice[0].gate == 0.0f && out.voice[0].trigger == 8u);

  /* All 128 keys held and released in reverse fall back one by one. */
  for (int k = 0; k < 128; ++k) {
    CHECK(on((uint8_t)k, 100));
  }
  CHECK(voicing.n_held == 128u);
  for (int k = 127; k > 0; --k) {
    CHECK(off((uint8_t)k));
    CHECK_NEAR(out.voice[0].pitch, pitch_of(k - 1), TOL);
  }
  CHECK(off(0));
  CHECK(out.voice[0].gate == 0.0f);
}

static void
test_sustain_pedal(void)
{
  start();
  CHECK(pedal(127));
  CHECK(on(60, 100));
  CHECK(off(60));
  CHECK(out.voice[0].gate == 1.0f); /* held by the pedal */
  CHECK(voicing.slot[0].sustained);
  CHECK(pedal(0));
  CHECK(out.voice[0].gate == 0.0f);
  CHECK(!voicing.slot[0].sustained);
  CHECK_NEAR(out.voice[0].pitch, 0.0, TOL);

  /* A new note while the pedal holds one plays normally. */
  CHECK(pedal(64));
  CHECK(on(60, 100));
  CHECK(off(60));
  CHECK(on(67, 90));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(67), TOL);
  CHECK(out.voice[0].gate == 1.0f && out.voice[0].trigger == 3u);
  CHECK_NEAR(out.voice[0].velocity, 90.0 / 127.0, TOL);
  CHECK(off(67));
  CHECK(out.voice[0].gate == 1.0f);
  CHECK_NEAR(out.voice[0].pitch, pitch_of(67), TOL);
  CHECK(pedal(63)); /* below 64 is up */
  CHECK(out.voice[0].gate == 0.0f);

  /* Pedal up while a key is still down: the key keeps sounding. */
  CHECK(pedal(100));
  CHECK(on(62, 100));
  CHECK(pedal(0));
  CHECK(out.voice[0].gate == 1.0f);
  CHECK(off(62));
  CHECK(out.voice[0].gate == 0.0f);

  /* With keys held, pedal or not, note-off falls back. */
  CHECK(pedal(127));
  CHECK(on(60, 100));
  CHECK(on(64, 100));
  CHECK(off(64));
  CHECK_NEAR(out.voice[0].pitch, pitch_of(60), TOL);
  CHECK(off(60));
  CHECK(out.voice[0].gate == 1.0f);
  CHECK(pedal(127)); /* pedal down twice: still down */
  CHECK(out.voice[0].gate == 1.0f);
  CHECK(pedal(0));
  CHECK(out.voice[0].gate == 0.0f);
  CHECK(pedal(0)); /* up twice: nothing */
  CHECK(out.voice[0].gate == 0.0f);
}

static void
test_pitch_bend(void)
{
  /* Bend is reported raw (-1..1); the `voice` module scales it by its
     range and adds it to every voice's note pitch. */
  start();
  CHECK(on(60, 100));
  CHECK(bend(16383));
  CHECK_NEAR(out.bend, 1.0, 1e-3);
  CHECK(bend(0));
  CHECK_NEAR(out.bend, -1.0, TOL);
  CHECK(bend(8192));
  CHECK(out.bend == 0.0f);
  CHECK(bend(8192 + 4096));
  CHECK_NEAR(out.bend, 0.5, TOL);
  CHECK_NEAR(out.voice[0].pitch, 0.0, TOL); /* the note pitch stays */

  /* Any channel. */
  start();
  CHECK(send3(0xE5, 0, 0));
  CHECK_NEAR(out.bend, -1.0, TOL);
}

static ChHostInputs poly_out;
static ChVoicing    poly;

static bool
poly_on(uint8_t note)
{
  const uint8_t msg[3] = { 0x90, note, 100 };
  return ch_voicing_midi(&poly, msg, 3);
}

static bool
poly_off(uint8_t note)
{
  const uint8_t msg[3] = { 0x80, note, 0 };
  return ch_voicing_midi(&poly, msg, 3);
}

/* The voice playing `note` with its gate on, or -1. */
static int
voice_of(uint8_t note)
{
  for (uint32_t v = 0; v < poly.n_voices; ++v) {
    if (poly_out.voice[v].gate > 0.5f &&
        poly_out.voice[v].pitch == pitch_of(note)) {
      return (int)v;
    }
  }
  return -1;
}

static void
test_poly_allocation(void)
{
  ch_voicing_init(&poly, &poly_out);
  ch_voicing_set_voices(&poly, 4);
  CHECK(poly.n_voices == 4u);
  /* A chord takes four different voices. */
  CHECK(poly_on(60) && poly_on(64) && poly_on(67) && poly_on(71));
  int used = 0;
  for (uint8_t note = 60; note < 72; ++note) {
    used |= voice_of(note) >= 0 ? 1 << voice_of(note) : 0;
  }
  CHECK(used == 0xF);
  /* A fifth note steals the oldest (60). */
  const int oldest = voice_of(60);
  CHECK(poly_on(72));
  CHECK(voice_of(60) < 0 && voice_of(72) == oldest);
  CHECK(poly_out.voice[oldest].trigger == 2u);

  /* A free voice is the one released longest ago. */
  const int v64 = voice_of(64);
  const int v67 = voice_of(67);
  CHECK(poly_off(64));
  CHECK(poly_off(67));
  CHECK(poly_on(50));
  CHECK(voice_of(50) == v64);
  CHECK(poly_on(52));
  CHECK(voice_of(52) == v67);
  /* Releasing keeps the others sounding. */
  CHECK(poly_off(50));
  CHECK(voice_of(72) >= 0 && voice_of(71) >= 0 && voice_of(52) >= 0);
}

static void
test_poly_same_note_and_pedal(void)
{
  ch_voicing_init(&poly, &poly_out);
  ch_voicing_set_voices(&poly, 3);
  CHECK(poly_on(60));
  const int v = voice_of(60);
  CHECK(poly_off(60));
  CHECK(poly_on(62));
  CHECK(poly_on(60)); /* the same note goes back to its voice */
  CHECK(voice_of(60) == v);

  const uint8_t down[3] = { 0xB0, 64, 127 };
  const uint8_t up[3]   = { 0xB0, 64, 0 };
  CHECK(ch_voicing_midi(&poly, down, 3));
  CHECK(poly_off(60) && poly_off(62));
  CHECK(voice_of(60) >= 0 && voice_of(62) >= 0); /* held by the pedal */
  CHECK(ch_voicing_midi(&poly, up, 3));
  CHECK(voice_of(60) < 0 && voice_of(62) < 0);

  /* Fewer voices: the voices that remain play on, the others stop. */
  ch_voicing_init(&poly, &poly_out);
  ch_voicing_set_voices(&poly, 3);
  CHECK(poly_on(60) && poly_on(64));
  CHECK(voice_of(60) == 0 && voice_of(64) == 1);
  ch_voicing_set_voices(&poly, 1);
  CHECK(voice_of(60) == 0 && poly_out.voice[1].gate == 0.0f);
  /* ...and mono carries on from the note it kept. */
  CHECK(poly_on(67) && voice_of(67) == 0);
  CHECK(poly_off(67));
  CHECK(voice_of(60) == 0); /* falls back to the key still held */
  CHECK(poly_off(60));
  CHECK(poly_out.voice[0].gate == 0.0f);
}

/* Poly with a steal fade of 144 frames, the plugin's at 48 kHz. */
static void
steal_start(const uint32_t voices)
{
  ch_voicing_init(&poly, &poly_out);
  ch_voicing_set_voices(&poly, voices);
  ch_voicing_set_steal(&poly, 144u);
}

static void
test_steal_waits_for_the_fade(void)
{
  steal_start(2);
  CHECK(poly_on(60) && poly_on(64)); /* voices 0 and 1, no fade */
  CHECK(ch_voicing_due(&poly) == UINT32_MAX && poly_out.voice[0].fade == 0u);
  CHECK(poly_on(67)); /* steals 60's voice: it fades first */
  const ChVoiceInputs* const v0 = &poly_out.voice[0];
  CHECK(v0->fade == 144u && v0->fade_len == 144u && v0->gate == 1.0f);
  CHECK(v0->pitch == pitch_of(60) && v0->trigger == 1u);
  CHECK(ch_voicing_due(&poly) == 144u);
  CHECK(poly_off(60)); /* its old key no longer owns the voice */
  CHECK(v0->gate == 1.0f);
  ch_voicing_advance(&poly, 100);
  CHECK(v0->fade == 44u && ch_voicing_due(&poly) == 44u);
  ch_voicing_advance(&poly, 44);
  CHECK(v0->pitch == pitch_of(67) && v0->trigger == 2u && v0->fresh);
  CHECK(v0->fade == 0u && v0->fade_len == 0u);
  CHECK(ch_voicing_due(&poly) == UINT32_MAX);
  ch_voicing_advance(&poly, 1);
  CHECK(!v0->fresh); /* for one block only */
  /* Its release comes as late as its start: the note keeps its length. */
  CHECK(poly_off(67) && v0->gate == 1.0f && ch_voicing_due(&poly) == 144u);
  ch_voicing_advance(&poly, 144);
  CHECK(v0->gate == 0.0f && voice_of(64) == 1);
}

static void
test_steal_more_notes_than_voices(void)
{
  steal_start(2);
  CHECK(poly_on(60) && poly_on(64));
  CHECK(poly_on(67) && poly_on(69)); /* both voices fade */
  CHECK(poly_on(71)); /* takes over the note that waited longest: 67 */
  CHECK(poly_on(69)); /* already waiting: stays where it is */
  ch_voicing_advance(&poly, 144);
  CHECK(voice_of(71) == 0 && voice_of(69) == 1 && voice_of(67) < 0);
  CHECK(poly_out.voice[0].trigger == 2u && poly_out.voice[1].trigger == 2u);
}

static void
test_steal_pedal_and_all_notes_off(void)
{
  const uint8_t down[3] = { 0xB0, 64, 127 };
  const uint8_t up[3]   = { 0xB0, 64, 0 };
  steal_start(2);
  CHECK(ch_voicing_midi(&poly, down, 3));
  CHECK(poly_on(60) && poly_on(64) && poly_on(67));
  ch_voicing_advance(&poly, 50);
  CHECK(poly_off(67) && poly_off(64)); /* during the fade, the pedal down */
  ch_voicing_advance(&poly, 94);
  CHECK(voice_of(67) == 0 && poly.slot[0].sustained);
  CHECK(ch_voicing_midi(&poly, up, 3)); /* released 144 frames late */
  CHECK(voice_of(67) == 0 && ch_voicing_due(&poly) == 144u);
  CHECK(voice_of(64) < 0); /* a note that did not wait goes at once */
  ch_voicing_advance(&poly, 143);
  CHECK(voice_of(67) == 0);
  ch_voicing_advance(&poly, 1);
  CHECK(voice_of(67) < 0);

  /* All notes off: the fade goes on, then the voice restarts, silent. */
  steal_start(2);
  CHECK(poly_on(60) && poly_on(64) && poly_on(67));
  const uint8_t all_off[3] = { 0xB0, 123, 0 };
  CHECK(ch_voicing_midi(&poly, all_off, 3));
  CHECK(poly_out.voice[0].gate == 1.0f && poly_out.voice[0].fade == 144u);
  CHECK(poly_out.voice[1].gate == 0.0f);
  ch_voicing_advance(&poly, 144);
  CHECK(poly_out.voice[0].gate == 0.0f && poly_out.voice[0].fresh);
  CHECK(poly_out.voice[0].trigger == 1u && poly_out.voice[0].fade == 0u);
}

static void
test_steal_mono(void)
{
  /* Mono never steals: a new note takes the voice at once. */
  steal_start(1);
  CHECK(poly_on(60) && poly_on(64));
  CHECK(voice_of(64) == 0 && ch_voicing_due(&poly) == UINT32_MAX);
  /* A fade begun while poly goes on after a switch to mono; the note
     that waited for it plays, and mono keys act on it. */
  steal_start(2);
  CHECK(poly_on(60) && poly_on(64) && poly_on(67));
  ch_voicing_set_voices(&poly, 1);
  CHECK(poly_out.voice[0].fade == 144u);
  CHECK(poly_on(69));  /* waits in its place */
  CHECK(poly_off(69)); /* back to 67, still held */
  ch_voicing_advance(&poly, 144);
  CHECK(voice_of(67) == 0 && poly_out.voice[0].fresh);
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
  CHECK_NEAR(out.voice[0].aftertouch, 100.0 / 127.0, TOL);
  const uint8_t pressure_ch9[2] = { 0xD9, 127 };
  CHECK(ch_voicing_midi(&voicing, pressure_ch9, 2));
  CHECK_NEAR(out.voice[0].aftertouch, 1.0, TOL);

  /* Controllers we do not handle are not used and change nothing. */
  const ChHostInputs before = out;
  CHECK(!send3(0xB0, 7, 100)); /* volume */
  CHECK(!send3(0xB0, 121, 0)); /* reset all controllers */
  const uint8_t program[2] = { 0xC0, 5 };
  CHECK(!ch_voicing_midi(&voicing, program, 2));
  const uint8_t clock[1] = { 0xF8 };
  CHECK(!ch_voicing_midi(&voicing, clock, 1));
  const uint8_t sysex[4] = { 0xF0, 0x7E, 0x01, 0xF7 };
  CHECK(!ch_voicing_midi(&voicing, sysex, 4));
  CHECK(same_inputs(&before, &out));

  /* Key pressure reaches only the voice playing that key. */
  CHECK(on(60, 100));
  CHECK(send3(0xA0, 61, 10)); /* not sounding: nothing */
  CHECK_NEAR(out.voice[0].aftertouch, 1.0, TOL);
  CHECK(send3(0xA0, 60, 0));
  CHECK(out.voice[0].aftertouch == 0.0f);
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
    CHECK(out.voice[0].gate == 0.0f);
    CHECK(voicing.n_held == 0u && !voicing.pedal);
    CHECK_NEAR(out.voice[0].pitch, pitch_of(64), TOL);

    /* Nothing held any more: the next note plays and releases alone. */
    CHECK(on(67, 100));
    CHECK(out.voice[0].gate == 1.0f && out.voice[0].trigger == 3u);
    CHECK(off(67));
    CHECK(out.voice[0].gate == 0.0f); /* the pedal was cleared */
    CHECK(off(60));                   /* stale note-offs change nothing */
    CHECK(off(64));
    CHECK(out.voice[0].gate == 0.0f);
    CHECK_NEAR(out.voice[0].pitch, pitch_of(67), TOL);
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
  steal_start(4);
  for (uint32_t k = 0; k < 2000; ++k) {
    used += poly_on((uint8_t)((k * 7u) % 128u));
    if (k % 3u) {
      used += poly_off((uint8_t)((k * 5u) % 128u));
    }
    const uint32_t due = ch_voicing_due(&poly);
    ch_voicing_advance(&poly, due < k % 100u ? due : k % 100u);
  }
  const unsigned violations = rtcheck_end();
  CHECK_MSG(!violations, "%u forbidden calls, first %s", violations,
            rtcheck_first());
  CHECK(used > 10000u);
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
  RUN(test_poly_allocation);
  RUN(test_poly_same_note_and_pedal);
  RUN(test_steal_waits_for_the_fade);
  RUN(test_steal_more_notes_than_voices);
  RUN(test_steal_pedal_and_all_notes_off);
  RUN(test_steal_mono);
  RUN(test_controllers);
  RUN(test_all_notes_off);
  RUN(test_malformed);
  RUN(test_realtime_safe);
  return CHECK_EXIT();
}
