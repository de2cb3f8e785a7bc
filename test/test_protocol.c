/* The protocol module alone: every message kind survives ch_msg_write then
   ch_msg_read, and the checked reader refuses what does not add up. */
#include "check.h"
#include "lib/lv2host.h"
#include "protocol.h"

#include <lv2/atom/util.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ChHostUrids    urids = CH_HOST_URIDS_INIT;
static LV2_URID_Map   map   = { &urids, ch_urids_map };
static ChUris         uris;
static LV2_Atom_Forge forge;
static _Alignas(8) uint8_t buf[8192];

static uint32_t
write_msg(const ChMsg* msg)
{
  lv2_atom_forge_set_buffer(&forge, buf, sizeof(buf));
  CHECK(ch_msg_write(&forge, &uris, msg));
  const uint32_t size = (uint32_t)sizeof(LV2_Atom) + ((LV2_Atom*)buf)->size;
  CHECK_MSG(size <= ch_msg_size(msg), "wrote %u, ch_msg_size said %u", size,
            ch_msg_size(msg));
  return size;
}

static bool
same_str(const char* a, const char* b)
{
  return (!a && !b) || (a && b && !strcmp(a, b));
}

/* What the reader gives back equals what was written. */
static void
check_round_trip(const ChMsg* in, ChMsgKind read_as)
{
  const uint32_t size = write_msg(in);
  ChMsg          out;
  ChMsgFault     fault;
  CHECK(ch_msg_read(&uris, (const LV2_Atom*)buf, size, &out, &fault) ==
        CH_PROTO_OK);
  CHECK_MSG(out.kind == read_as, "kind %d read as %d", in->kind, out.kind);
  CHECK(out.has_seq == in->has_seq && out.seq == in->seq);
  CHECK(same_str(out.module, in->module));
  CHECK(same_str(out.module_kind, in->module_kind));
  CHECK(same_str(out.from, in->from) && same_str(out.to, in->to));
  CHECK(same_str(out.param, in->kind == CH_MSG_GATE ? "gate" : in->param));
  CHECK(same_str(out.file, in->file) && same_str(out.message, in->message));
  CHECK(out.text_len == in->text_len);
  CHECK(!in->text || (out.text && !memcmp(out.text, in->text, in->text_len)));
  CHECK(out.value == in->value && out.property == in->property);
  CHECK(out.fade == in->fade && out.quantize == in->quantize);
  CHECK(out.generation == in->generation && out.build_ms == in->build_ms);
  CHECK(out.offset == in->offset && out.total == in->total);
  CHECK(out.value_is_path == in->value_is_path);
}

static void
test_round_trip_every_kind(void)
{
  ChMsg m   = ch_msg_init(CH_MSG_CREATE);
  m.has_seq = true, m.seq = -7, m.module = "osc1", m.module_kind = "osc";
  check_round_trip(&m, CH_MSG_CREATE);
  m = ch_msg_init(CH_MSG_DELETE), m.module = "osc1";
  check_round_trip(&m, CH_MSG_DELETE);
  m = ch_msg_init(CH_MSG_CONNECT), m.from = "a:out", m.to = "b:in";
  check_round_trip(&m, CH_MSG_CONNECT);
  m.kind = CH_MSG_DISCONNECT;
  check_round_trip(&m, CH_MSG_DISCONNECT);
  m = ch_msg_init(CH_MSG_SET), m.module = "f", m.param = "cutoff";
  m.value = 1234.5f, m.has_seq = true, m.seq = 3;
  check_round_trip(&m, CH_MSG_SET);
  m.kind = CH_MSG_PARAM; /* the echo is a ch:Set */
  check_round_trip(&m, CH_MSG_SET);
  m = ch_msg_init(CH_MSG_POLYPHONY), m.value = 8.0f;
  check_round_trip(&m, CH_MSG_POLYPHONY);
  m = ch_msg_init(CH_MSG_GATE), m.module = "env", m.value = 1.0f;
  check_round_trip(&m, CH_MSG_GATE);
  m = ch_msg_init(CH_MSG_COMMIT);
  check_round_trip(&m, CH_MSG_COMMIT);
  m.fade = 0.25f, m.quantize = CH_QUANTIZE_BAR;
  check_round_trip(&m, CH_MSG_COMMIT);
  static const ChMsgKind plain[] = { CH_MSG_ABORT, CH_MSG_UNDO, CH_MSG_REDO,
                                     CH_MSG_GET, CH_MSG_ACK };
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); ++i) {
    m = ch_msg_init(plain[i]), m.has_seq = true, m.seq = (int32_t)i;
    check_round_trip(&m, plain[i]);
  }
  m = ch_msg_init(CH_MSG_GET), m.property = uris.ch_patchFile;
  check_round_trip(&m, CH_MSG_GET);
  m = ch_msg_init(CH_MSG_LOAD), m.text = "<> a ch:Patch .", m.text_len = 15;
  check_round_trip(&m, CH_MSG_LOAD);
  m = ch_msg_init(CH_MSG_LOAD), m.file = "/tmp/p.ttl";
  check_round_trip(&m, CH_MSG_LOAD);
  m = ch_msg_init(CH_MSG_PUT), m.property = uris.ch_fadeTime, m.fade = 0.05f;
  check_round_trip(&m, CH_MSG_PUT);
  m = ch_msg_init(CH_MSG_PUT), m.property = uris.ch_patch;
  m.text = "<> a ch:Patch .", m.text_len = 15;
  check_round_trip(&m, CH_MSG_PUT);
  m = ch_msg_init(CH_MSG_PROPERTY), m.property = uris.ch_patchFile;
  m.file = "/tmp/p.ttl", m.value_is_path = true;
  check_round_trip(&m, CH_MSG_PUT); /* an answer is a patch:Set too */
  m = ch_msg_init(CH_MSG_COMMITTED), m.generation = 1LL << 40;
  m.build_ms = 1.5f;
  check_round_trip(&m, CH_MSG_COMMITTED);
  m = ch_msg_init(CH_MSG_ERROR), m.message = "osc 'x' has no output 'y'";
  check_round_trip(&m, CH_MSG_ERROR);
  m = ch_msg_init(CH_MSG_PATCH), m.generation = 9, m.offset = 3072;
  m.total = 5000, m.text = "piece of a patch", m.text_len = 5;
  check_round_trip(&m, CH_MSG_PATCH);
  m         = ch_msg_init(CH_MSG_UNKNOWN),
  m.otype   = ch_urids_map(&urids, "urn:x:Thing");
  m.has_seq = true, m.seq = 1;
  check_round_trip(&m, CH_MSG_UNKNOWN);
}

/* Foreign atoms are not messages; time:Position is the transport. */
static void
test_foreign_atoms(void)
{
  ChMsg      out;
  ChMsgFault fault;
  LV2_Atom   midi = { 3, ch_urids_map(&urids, LV2_MIDI__MidiEvent) };
  uint8_t    raw[16];
  memcpy(raw, &midi, sizeof(midi));
  CHECK(!ch_msg_read(&uris, (const LV2_Atom*)raw, sizeof(raw), &out, &fault));
  CHECK(out.kind == CH_MSG_NONE);
  lv2_atom_forge_set_buffer(&forge, buf, sizeof(buf));
  LV2_Atom_Forge_Frame frame;
  lv2_atom_forge_object(&forge, &frame, 0, uris.time_Position);
  lv2_atom_forge_pop(&forge, &frame);
  CHECK(!ch_msg_read(&uris, (const LV2_Atom*)buf, 16, &out, &fault));
  CHECK(out.kind == CH_MSG_POSITION && !out.position.has_bpm);
}

/* time:Position: every field travels; an Int quantize still reads. */
static void
test_position(void)
{
  ChMsg in            = ch_msg_init(CH_MSG_POSITION);
  in.position.has_bar = true, in.position.bar = 70000000;
  in.position.has_bar_beat = true, in.position.bar_beat = 2.5f;
  in.position.has_beats_per_bar = true, in.position.beats_per_bar = 3.0f;
  in.position.has_bpm = true, in.position.bpm = 132.0f;
  in.position.has_speed = true, in.position.speed = 1.0f;
  const uint32_t size = write_msg(&in);
  ChMsg          out;
  ChMsgFault     fault;
  CHECK(!ch_msg_read(&uris, (const LV2_Atom*)buf, size, &out, &fault));
  CHECK(out.kind == CH_MSG_POSITION);
  CHECK(!memcmp(&out.position, &in.position, sizeof(in.position)));
  ChMsg c    = ch_msg_init(CH_MSG_COMMIT);
  c.quantize = CH_QUANTIZE_BEAT;
  CHECK(!ch_msg_read(&uris, (const LV2_Atom*)buf, write_msg(&c), &out, &fault));
  CHECK(out.quantize == CH_QUANTIZE_BEAT);
}

/* Decode `size` bytes of buf, expecting a fault whose text has `want`. */
static void
check_fault(uint32_t size, const char* want)
{
  ChMsg      out;
  ChMsgFault fault;
  char       text[256];
  CHECK(ch_msg_read(&uris, (const LV2_Atom*)buf, size, &out, &fault) ==
        CH_PROTO_MALFORMED);
  CHECK_STR_CONTAINS(ch_msg_fault_text(&uris, &fault, text, sizeof(text)),
                     want);
}

static void
test_faults(void)
{
  ChMsg m   = ch_msg_init(CH_MSG_SET);
  m.has_seq = true, m.seq = 5, m.module = "osc", m.param = "pitch";
  uint32_t size = write_msg(&m);
  check_fault(4, "cut short: 4 bytes");
  check_fault(size - 8u, "atom has size");
  ((LV2_Atom*)buf)->size = 4;
  check_fault(size, "has no room for its type");

  /* Every size of the object: each truncation is caught or harmless. */
  for (uint32_t cut = 8; cut < size; ++cut) {
    size                   = write_msg(&m);
    ((LV2_Atom*)buf)->size = cut - 8u;
    ChMsg      out;
    ChMsgFault fault;
    (void)ch_msg_read(&uris, (const LV2_Atom*)buf, cut, &out, &fault);
  }

  /* A NaN value, an offset past total, a bad quantize. */
  m.value = NAN;
  size    = write_msg(&m);
  check_fault(size, "ch:value is not a finite number");
  ChMsg p  = ch_msg_init(CH_MSG_PATCH);
  p.offset = 10, p.total = 5, p.text = "x", p.text_len = 1;
  size = write_msg(&p);
  check_fault(size, "outside its ch:total");
  ChMsg c    = ch_msg_init(CH_MSG_COMMIT);
  c.quantize = 7;
  size       = write_msg(&c);
  check_fault(size, "ch:quantize must be \"beat\", \"bar\" or 0");
}

/* ch:Activity: peaks and CPU shares come back as written, one share per
   peak; without shares, none are read. */
static void
test_activity_shares(void)
{
  static const float peaks[3]  = { 0.5f, 0.0f, 1.25f };
  static const float shares[3] = { 0.125f, 0.0f, 0.75f };
  ChMsg              m         = ch_msg_init(CH_MSG_ACTIVITY);
  m.generation = 7, m.offset = 2, m.total = 5;
  m.points = peaks, m.n_points = 3, m.cpu = shares;
  uint32_t   size = write_msg(&m);
  ChMsg      out;
  ChMsgFault fault;
  CHECK(ch_msg_read(&uris, (const LV2_Atom*)buf, size, &out, &fault) ==
        CH_PROTO_OK);
  CHECK(out.kind == CH_MSG_ACTIVITY && out.generation == 7 && out.offset == 2 &&
        out.total == 5 && out.n_points == 3);
  CHECK(out.points && !memcmp(out.points, peaks, sizeof(peaks)));
  CHECK(out.cpu && !memcmp(out.cpu, shares, sizeof(shares)));
  m.cpu = NULL;
  size  = write_msg(&m);
  CHECK(ch_msg_read(&uris, (const LV2_Atom*)buf, size, &out, &fault) ==
        CH_PROTO_OK);
  CHECK(out.n_points == 3 && out.cpu == NULL);
}

/* A ch:cpu that does not give one share per peak is refused by name. */
static void
test_activity_shares_count(void)
{
  static const float peaks[3]  = { 0.5f, 0.0f, 1.25f };
  static const float shares[3] = { 0.125f, 0.0f, 0.75f };
  ChMsg              m         = ch_msg_init(CH_MSG_ACTIVITY);
  m.points = peaks, m.n_points = 3, m.cpu = shares;
  const uint32_t size = write_msg(&m);
  /* ch:cpu is written last: cut its vector from three floats to one (the
     body goes from 8 + 12 bytes, padded to 24, to 8 + 4, padded to 16) */
  LV2_Atom* const cpu = (LV2_Atom*)(buf + size - 24u - sizeof(LV2_Atom));
  CHECK(cpu->type == uris.atom_Vector && cpu->size == 20u);
  cpu->size = 12u;
  ((LV2_Atom*)buf)->size -= 8u;
  check_fault(size - 8u, "ch:cpu has 1 shares, not one per point");
}

/* The sequence walk stops at an event that claims too much. */
static void
test_sequence_walk(void)
{
  memset(buf, 0, sizeof(buf));
  LV2_Atom_Sequence* seq = (LV2_Atom_Sequence*)buf;
  seq->atom.type         = uris.atom_Sequence;
  seq->atom.size         = 8u + 24u + 16u;
  LV2_Atom_Event* ev     = (LV2_Atom_Event*)(seq + 1);
  ev->body.size          = 8;
  ev->body.type          = uris.atom_Int;
  ev                     = (LV2_Atom_Event*)((uint8_t*)ev + 24);
  ev->body.size          = 0xFFFFFFF0u;
  ChSeqIter it;
  uint32_t  room = 0;
  CHECK(ch_seq_begin(&uris, seq, 8u + seq->atom.size, &it));
  CHECK(ch_seq_next(&it, &room) && room == 24u + 16u - 8u);
  CHECK(!ch_seq_next(&it, &room));
  CHECK_STR_CONTAINS(it.fault, "runs past the end of its sequence");
  CHECK(!ch_seq_begin(&uris, seq, 8u + seq->atom.size - 1u, &it));
  CHECK_STR_CONTAINS(it.fault, "past the end of its buffer");
  seq->atom.size = 0;
  CHECK(!ch_seq_begin(&uris, seq, 8u, &it) && !it.fault);
}

int
main(void)
{
  ch_uris_map(&uris, &map);
  lv2_atom_forge_init(&forge, &map);
  RUN(test_round_trip_every_kind);
  RUN(test_activity_shares);
  RUN(test_activity_shares_count);
  RUN(test_foreign_atoms);
  RUN(test_position);
  RUN(test_faults);
  RUN(test_sequence_walk);
  return CHECK_EXIT();
}
