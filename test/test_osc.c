/* Tests of the OSC decoder (datagrams made with liblo -> protocol messages
   or MIDI events) and of the audio thread's side of OSC answers. */
#include "../plugin/osc.h"
#include "../plugin/osc_map.h"
#include "check.h"
#include "host.h"
#include "rtcheck.h"

#include <lo/lo.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEQ (CH_OSC_SEQ_FIRST + 7)

static ChOscCodec codec;

/* The last decoding. */
static uint64_t     event_buf[CH_OSC_RECORD_MAX / 8u];
static char         address[256];
static char         why[512];
static ChMsg        msg;
static ChOscDecoded got;

static LV2_URID
map_uri(LV2_URID_Map_Handle handle, const char* uri)
{
  (void)handle;
  return host_map(uri);
}

static const LV2_Atom_Event*
event(void)
{
  return (const LV2_Atom_Event*)event_buf;
}

/* Decode raw bytes; a request is read back with the protocol's decoder. */
static ChOscDecoded
decode_bytes(const void* data, size_t size)
{
  memset(event_buf, 0xA5, sizeof(event_buf));
  memset(&msg, 0, sizeof(msg));
  why[0] = '\0';
  got    = ch_osc_decode(&codec, data, size, SEQ, (LV2_Atom_Event*)event_buf,
                         sizeof(event_buf), address, sizeof(address), why,
                         sizeof(why));
  if (got == CH_OSC_REQUEST) {
    ChMsgFault          fault;
    const ChProtoStatus st = ch_msg_read(
      &codec.uris, &event()->body,
      (uint32_t)(sizeof(event_buf) - sizeof(int64_t)), &msg, &fault);
    CHECK_MSG(st == CH_PROTO_OK, "%s", fault.reason ? fault.reason : "?");
    CHECK(event()->time.frames == 0);
  }
  return got;
}

/* Adds one argument of OSC type `t` to `m`: `number` for i, f and d,
   `text` for s; T, F and N take neither. */
static void
add_arg(lo_message m, char t, double number, const char* text)
{
  switch (t) {
  case 'i':
    lo_message_add_int32(m, (int32_t)number);
    break;
  case 'f':
    lo_message_add_float(m, (float)number);
    break;
  case 'd':
    lo_message_add_double(m, number);
    break;
  case 's':
    lo_message_add_string(m, text);
    break;
  case 'T':
    lo_message_add_true(m);
    break;
  case 'F':
    lo_message_add_false(m);
    break;
  case 'N':
    lo_message_add_nil(m);
    break;
  default:
    break;
  }
}

/* Serialise `m` (freed) to `path` and decode it. */
static ChOscDecoded
decode_message(lo_message m, const char* path)
{
  size_t      size = 0;
  void* const data = lo_message_serialise(m, path, NULL, &size);
  lo_message_free(m);
  decode_bytes(data, size);
  free(data);
  return got;
}

/* Build a message with liblo ("types", then the values: an int32_t for i,
   a double for f and d, a string for s), serialise it and decode it. */
static ChOscDecoded
decode(const char* path, const char* types, ...)
{
  lo_message m = lo_message_new();
  va_list    ap;
  va_start(ap, types);
  for (const char* t = types; *t; ++t) {
    double      number = 0.0;
    const char* text   = NULL;
    if (*t == 'i') {
      number = va_arg(ap, int32_t);
    } else if (*t == 'f' || *t == 'd') {
      number = va_arg(ap, double);
    } else if (*t == 's') {
      text = va_arg(ap, const char*);
    }
    add_arg(m, *t, number, text);
  }
  va_end(ap);
  return decode_message(m, path);
}

/* The same with the values written out in `words`, one a type that takes
   one (numbers as strtod() reads them, "nan" too), for tables of cases. */
static ChOscDecoded
decode_words(const char* path, const char* types, const char* words)
{
  lo_message m = lo_message_new();
  char       copy[256];
  snprintf(copy, sizeof(copy), "%s", words);
  char* rest = copy;
  for (const char* t = types; *t; ++t) {
    const char* const word = strchr("ifds", *t) ? strsep(&rest, " ") : NULL;
    add_arg(m, *t, word ? strtod(word, NULL) : 0.0, word);
  }
  return decode_message(m, path);
}

static bool
is_request(const ChMsgKind kind)
{
  CHECK_MSG(got == CH_OSC_REQUEST, "refused: %s", why);
  CHECK_MSG(msg.kind == kind, "kind %d, want %d", (int)msg.kind, (int)kind);
  CHECK(msg.has_seq && msg.seq == SEQ);
  return got == CH_OSC_REQUEST && msg.kind == kind;
}

static bool
same(const char* a, const char* b)
{
  return a && b && !strcmp(a, b);
}

static void
test_edits(void)
{
  decode("/patch/create", "ss", "lfo1", "lfo");
  CHECK(is_request(CH_MSG_CREATE));
  CHECK(same(msg.module, "lfo1") && same(msg.module_kind, "lfo"));
  CHECK(same(address, "/patch/create"));

  decode("/patch/delete", "s", "lfo1");
  CHECK(is_request(CH_MSG_DELETE) && same(msg.module, "lfo1"));

  decode("/patch/connect", "ss", "lfo1:out", "osc:pitch");
  CHECK(is_request(CH_MSG_CONNECT));
  CHECK(same(msg.from, "lfo1:out") && same(msg.to, "osc:pitch"));

  decode("/patch/disconnect", "ss", "lfo1:out", "osc:pitch");
  CHECK(is_request(CH_MSG_DISCONNECT));
  CHECK(same(msg.from, "lfo1:out") && same(msg.to, "osc:pitch"));

  decode("/patch/load", "s", "/tmp/some patch.ttl");
  CHECK(is_request(CH_MSG_LOAD) && same(msg.file, "/tmp/some patch.ttl"));
  CHECK(!msg.text);
}

static void
test_commit_and_friends(void)
{
  decode("/patch/commit", "");
  CHECK(is_request(CH_MSG_COMMIT) && msg.quantize == CH_QUANTIZE_NONE);
  decode("/patch/commit", "s", "beat");
  CHECK(is_request(CH_MSG_COMMIT) && msg.quantize == CH_QUANTIZE_BEAT);
  decode("/patch/commit", "s", "bar");
  CHECK(is_request(CH_MSG_COMMIT) && msg.quantize == CH_QUANTIZE_BAR);
  decode("/patch/abort", "");
  CHECK(is_request(CH_MSG_ABORT));
  decode("/patch/undo", "");
  CHECK(is_request(CH_MSG_UNDO));
  decode("/patch/redo", "");
  CHECK(is_request(CH_MSG_REDO));
  decode("/patch/get", "");
  CHECK(is_request(CH_MSG_GET));
  decode("/patch/polyphony", "i", 4);
  CHECK(is_request(CH_MSG_POLYPHONY) && msg.has_value && msg.value == 4.0f);
}

static void
test_set_and_gate(void)
{
  decode("/mod/osc1/cutoff", "f", 1234.5);
  CHECK(is_request(CH_MSG_SET));
  CHECK(same(msg.module, "osc1") && same(msg.param, "cutoff"));
  CHECK(msg.has_value && msg.value == 1234.5f);
  decode("/mod/filter/res", "i", 1);
  CHECK(is_request(CH_MSG_SET) && msg.value == 1.0f);
  decode("/mod/filter/res", "d", 0.25);
  CHECK(is_request(CH_MSG_SET) && msg.value == 0.25f);
  CHECK(same(address, "/mod/filter/res"));

  static const struct {
    const char* types;
    const char* words; /* the value (decode_words) */
    float       want;
  } gates[] = { { "i", "1", 1 },   { "i", "0", 0 },  { "f", "0.7", 1 },
                { "f", "0.2", 0 }, { "s", "on", 1 }, { "s", "off", 0 },
                { "T", "", 1 },    { "F", "", 0 } };
  for (size_t i = 0; i < sizeof(gates) / sizeof(gates[0]); ++i) {
    decode_words("/gate/env", gates[i].types, gates[i].words);
    CHECK_MSG(is_request(CH_MSG_GATE) && same(msg.module, "env") &&
                msg.value == gates[i].want,
              "gate case %zu", i);
  }
}

static bool
is_midi(uint8_t a, uint8_t b, uint8_t c, uint32_t len)
{
  const uint8_t* const bytes = (const uint8_t*)(event() + 1);
  CHECK_MSG(got == CH_OSC_MIDI, "refused: %s", why);
  return got == CH_OSC_MIDI && event()->time.frames == 0 &&
         event()->body.type == codec.uris.midi_Event &&
         event()->body.size == len && bytes[0] == a && bytes[1] == b &&
         (len < 3 || bytes[2] == c);
}

static void
test_notes_and_program(void)
{
  decode("/note/on", "ii", 57, 100);
  CHECK(is_midi(0x90, 57, 100, 3));
  decode("/note/on", "ff", 60.0, 127.0);
  CHECK(is_midi(0x90, 60, 127, 3));
  decode("/note/off", "i", 57);
  CHECK(is_midi(0x80, 57, 0, 3));
  decode("/program", "i", 3);
  CHECK(is_midi(0xC0, 3, 0, 2));
}

/* Refused, with a sentence containing `text`, and the event untouched. */
static void
refused(const char* text)
{
  CHECK_MSG(got == CH_OSC_REFUSED, "accepted (kind %d), want \"%s\"",
            (int)msg.kind, text);
  CHECK_STR_CONTAINS(why, text);
  const uint8_t* const bytes = (const uint8_t*)event_buf;
  bool                 clean = true;
  for (size_t i = 0; i < sizeof(event_buf); ++i) {
    clean = clean && bytes[i] == 0xA5;
  }
  CHECK_MSG(clean, "a refused datagram wrote an event (%s)", text);
}

static void
test_wrong_arguments(void)
{
  static const struct {
    const char* path;
    const char* types;
    const char* words; /* the values (decode_words) */
    const char* says;
  } cases[] = {
    { "/patch/create", "s", "x",
      "/patch/create: expects s:name s:kind, got 1 argument" },
    { "/patch/create", "si", "x 3",
      "/patch/create: argument 2 must be a string (s), not 'i'" },
    { "/patch/connect", "sss", "a:out b:in c",
      "/patch/connect: expects s:from s:to" },
    { "/patch/abort", "i", "1",
      "/patch/abort: expects no arguments, got 1 argument (\"i\")" },
    { "/patch/commit", "s", "soon",
      "quantize \"soon\": want \"beat\" or \"bar\"" },
    { "/mod/osc/pitch", "s", "high",
      "/mod/osc/pitch: argument 1 must be a number (i or f), not 's'" },
    { "/mod/osc/pitch", "N", "", "not 'N'" },
    { "/mod/osc/pitch", "f", "nan", "argument 1 is not a finite number" },
    { "/mod/osc/pitch", "d", "1e300", "argument 1 is not a finite number" },
    { "/mod/osc", "f", "1", "/mod/osc: want /mod/<module>/<param>" },
    { "/mod/a/b/c", "f", "1", "want /mod/<module>/<param>" },
    { "/mod//pitch", "f", "1", "want /mod/<module>/<param>" },
    { "/gate/env", "s", "maybe", "/gate/env: gate \"maybe\": want on or off" },
    { "/gate/", "i", "1", "want /gate/<module>" },
    { "/note/on", "ii", "128 100",
      "/note/on: argument 1 is 128: want a whole number 0..127" },
    { "/note/on", "fi", "60.5 100", "argument 1 is 60.5" },
    { "/note/on", "ii", "60 -1", "argument 2 is -1" },
    { "/program", "i", "200", "/program: argument 1 is 200" },
    { "/patch/polyphony", "i", "17",
      "/patch/polyphony: argument 1 is 17: want a whole number 1..16" },
    { "/patch/polyphony", "i", "0", "argument 1 is 0" },
    { "/patch/frobnicate", "", "",
      "/patch/frobnicate: unknown address (see docs/osc.md)" },
    { "/", "", "", "unknown address" },
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    decode_words(cases[i].path, cases[i].types, cases[i].words);
    refused(cases[i].says);
  }
}

static void
test_huge_and_malformed(void)
{
  char* const big = (char*)malloc(9000);
  memset(big, 'x', 8999);
  big[8999]                 = '\0';
  big[CH_OSC_NAME_MAX + 1u] = '\0';
  decode("/patch/create", "ss", big, "osc");
  refused("/patch/create: argument 1 is 256 bytes long, at most 255");
  big[CH_OSC_NAME_MAX + 1u] = 'x';
  decode("/patch/load", "s", big);
  refused("/patch/load: argument 1 is 8999 bytes long, at most 4095");
  big[600] = '\0';
  big[0]   = '/';
  decode(big, "");
  refused("address is 600 bytes long");
  free(big);

  static const uint8_t bundle[] = "#bundle\0\0\0\0\0\0\0\0\1";
  decode_bytes(bundle, sizeof(bundle));
  refused("OSC bundles are not supported");
  static const uint8_t garbage[] = { 0xff, 0x00, 0x13, 0x37, 1, 2, 3, 4 };
  decode_bytes(garbage, sizeof(garbage));
  refused("datagram: not an OSC message");
  decode_bytes("", 0);
  refused("not an OSC message");
  /* A string whose NUL is missing: liblo refuses it. */
  static const uint8_t unterminated[] = "/patch/delete\0\0\0,s\0\0abcd";
  decode_bytes(unterminated, sizeof(unterminated) - 1u);
  refused("not an OSC message");
  /* Cut short: the type tags promise an int that is not there. */
  static const uint8_t short_int[] = "/program\0\0\0\0,i\0\0\0\0";
  decode_bytes(short_int, sizeof(short_int) - 3u);
  refused("not an OSC message");
}

static void
test_event_too_large(void)
{
  lo_message m = lo_message_new();
  lo_message_add_string(m, "/a/path/of/some/length.ttl");
  size_t      size = 0;
  void* const data = lo_message_serialise(m, "/patch/load", NULL, &size);
  lo_message_free(m);
  memset(event_buf, 0, sizeof(event_buf));
  got = ch_osc_decode(&codec, data, size, SEQ, (LV2_Atom_Event*)event_buf, 40,
                      address, sizeof(address), why, sizeof(why));
  free(data);
  CHECK(got == CH_OSC_REFUSED);
  CHECK_STR_CONTAINS(why, "/patch/load: message too large (at most 40 bytes)");
}

/* Every address docs/osc.md lists is one the decoder knows. */
static void
test_docs_addresses(void)
{
  FILE* const f = fopen(CH_SOURCE_DIR "/docs/osc.md", "r");
  CHECK(f);
  char line[512];
  int  listed = 0;
  while (f && fgets(line, sizeof(line), f) && strncmp(line, "## Answers", 10)) {
    if (strncmp(line, "| `/", 4)) {
      continue;
    }
    line[strcspn(line + 1, "|") + 1] = '\0'; /* the first cell */
    for (char* at = strstr(line, "`/"); at; at = strstr(at, "`/")) {
      char         path[128];
      const size_t len = strcspn(at + 1, "`");
      snprintf(path, sizeof(path), "%.*s", (int)len, at + 1);
      at += len + 2;
      char* hole;
      while ((hole = strchr(path, '<'))) { /* /mod/<name>/<param> */
        const size_t end = strcspn(hole, ">") + 1u;
        memmove(hole + 1, hole + end, strlen(hole + end) + 1u);
        *hole = 'x';
      }
      decode(path, "");
      CHECK_MSG(!strstr(why, "unknown address"), "docs list %s: %s", path, why);
      ++listed;
    }
  }
  if (f) {
    fclose(f);
  }
  CHECK_MSG(listed == 16, "%d addresses in docs/osc.md's table", listed);
}

/* The audio thread's side: only OSC seqs are passed on, without allocating
   or locking; a full queue turns into an error the client still gets. */
static void
test_answers_rt(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 512));
  rtcheck_begin();
  ch_osc_answer(&ring, (ChOscAnswer){ .type = CH_OSC_ANSWER_ACK, .seq = 5 },
                NULL);
  /* the host's own seqs end just below the OSC server's */
  ch_osc_answer(
    &ring,
    (ChOscAnswer){ .type = CH_OSC_ANSWER_ACK, .seq = CH_OSC_SEQ_FIRST - 1 },
    NULL);
  ch_osc_answer(&ring,
                (ChOscAnswer){ .type       = CH_OSC_ANSWER_COMMITTED,
                               .seq        = SEQ,
                               .generation = 4,
                               .build_ms   = 1.5f },
                NULL);
  char text[300];
  memset(text, 'e', sizeof(text) - 1u);
  text[sizeof(text) - 1u] = '\0';
  ch_osc_answer(&ring,
                (ChOscAnswer){ .type = CH_OSC_ANSWER_PATCH,
                               .seq  = SEQ + 1,
                               .size = sizeof(text) - 1u },
                text);
  const unsigned violations = rtcheck_end();
  CHECK_MSG(!violations, "%s", rtcheck_first());

  uint32_t                 size = 0;
  const ChOscAnswer* const a = (const ChOscAnswer*)ch_ring_peek(&ring, &size);
  CHECK(a && a->type == CH_OSC_ANSWER_COMMITTED && a->seq == SEQ &&
        a->generation == 4 && a->build_ms == 1.5f && !a->text_len);
  ch_ring_pop(&ring);
  const ChOscAnswer* const b = (const ChOscAnswer*)ch_ring_peek(&ring, &size);
  CHECK(b && b->type == CH_OSC_ANSWER_ERROR && b->seq == SEQ + 1);
  CHECK_STR_CONTAINS(b ? (const char*)(b + 1) : NULL, "did not fit");
  ch_ring_pop(&ring);
  /* A patch too large for a datagram is not copied, only its size. */
  static char huge[CH_OSC_DATAGRAM_MAX + 2u];
  memset(huge, 't', sizeof(huge) - 1u);
  rtcheck_begin();
  ch_osc_answer(&ring,
                (ChOscAnswer){ .type = CH_OSC_ANSWER_PATCH,
                               .seq  = SEQ + 2,
                               .size = sizeof(huge) - 1u },
                huge);
  CHECK(!rtcheck_end());
  const ChOscAnswer* const d = (const ChOscAnswer*)ch_ring_peek(&ring, &size);
  CHECK(d && d->type == CH_OSC_ANSWER_PATCH && !d->text_len &&
        d->size == sizeof(huge) - 1u && size == sizeof(*d));
  ch_ring_pop(&ring);
  CHECK(!ch_ring_peek(&ring, &size));
  ch_ring_destroy(&ring);
}

int
main(void)
{
  LV2_URID_Map map = { NULL, map_uri };
  ch_osc_codec_init(&codec, &map);
  RUN(test_edits);
  RUN(test_commit_and_friends);
  RUN(test_set_and_gate);
  RUN(test_notes_and_program);
  RUN(test_wrong_arguments);
  RUN(test_huge_and_malformed);
  RUN(test_event_too_large);
  RUN(test_docs_addresses);
  RUN(test_answers_rt);
  return CHECK_EXIT();
}
