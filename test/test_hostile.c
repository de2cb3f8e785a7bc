/* Hostile messages through the real plugin: malformed sizes, strings and
   types are refused with a ch:Error that says what was wrong, and nothing
   else happens (the sound is bit-identical to a plugin never sent them). */
#include "check.h"
#include "dsp.h"
#include "host.h"
#include "plugin_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CYCLES 40u

static const char* const sine =
  PREFIXES ":osc ch:kind \"osc\" ; param:shape \"sine\" .\n"
           ":out ch:kind \"output\" ; param:level 0.5 .\n"
           "[] ch:from \"osc:out\" ; ch:to \"out:mono\" .\n";

/* `h` plays the sine, its load answered and forgotten. */
static void
play_sine(Host* const h)
{
  host_load(h, 0, 1, sine);
  host_commit(h, 0, 2);
  host_run_frames(h, 4u * BLOCK, BLOCK);
  CHECK(host_find(h, HOST_ANSWER_COMMITTED, 2));
  host_capture_clear(h);
  host_clear_answers(h);
}

/* The value atom of property `key` in the object `obj` we encoded. */
static LV2_Atom*
prop_value(uint8_t* obj, LV2_URID key)
{
  const LV2_Atom* const atom = (const LV2_Atom*)obj;
  uint8_t*              p    = obj + sizeof(LV2_Atom_Object);
  uint8_t* const        end  = obj + sizeof(LV2_Atom) + atom->size;
  while (p < end) {
    LV2_Atom_Property_Body* const prop = (LV2_Atom_Property_Body*)p;
    if (prop->key == key) {
      return &prop->value;
    }
    p += lv2_atom_pad_size(sizeof(*prop) + prop->value.size);
  }
  return NULL;
}

/* Send `bytes` to A only; both play on; A must answer seq with an error
   containing `want` (and `want2`, may be NULL) and sound exactly as B. */
static void
check_refused(const char* what,
              const void* bytes,
              uint32_t    size,
              int32_t     seq,
              const char* want,
              const char* want2)
{
  Host* a = NULL;
  Host* b = NULL;
  if (!open_pair(&a, &b, HOST_WORKER_SYNC, HOST_WORKER_SYNC)) {
    return;
  }
  play_sine(a);
  play_sine(b);
  host_raw(a, 100, bytes, size);
  for (unsigned c = 0; c < CYCLES; ++c) {
    host_run(a, BLOCK);
    host_run(b, BLOCK);
  }
  const HostAnswer* const e = host_find(a, HOST_ANSWER_ERROR, seq);
  CHECK_MSG(e && e->text, "%s: no ch:Error for seq %d", what, seq);
  CHECK_STR_CONTAINS(e ? e->text : NULL, want);
  if (want2) {
    CHECK_STR_CONTAINS(e ? e->text : NULL, want2);
  }
  CHECK_MSG(host_n_answers(a) == 1, "%s: %zu answers, not one error", what,
            host_n_answers(a));
  const size_t n = host_captured(a);
  CHECK(n == CYCLES * BLOCK && host_captured(b) == n);
  CHECK_MSG(dsp_peak(host_left(a), n) > 0.3, "%s: A went silent", what);
  CHECK_MSG(!memcmp(host_left(a), host_left(b), n * sizeof(float)) &&
              !memcmp(host_right(a), host_right(b), n * sizeof(float)),
            "%s: the sound changed", what);

  /* And A still obeys: a good message is acknowledged. */
  host_set(a, 0, seq + 1, "osc", "pitch", 1.0f);
  host_run_frames(a, 2u * BLOCK, BLOCK); /* answered at the next cycle */
  CHECK_MSG(host_find(a, HOST_ANSWER_ACK, seq + 1), "%s: later ch:Set lost",
            what);
  host_free(a);
  host_free(b);
}

/* Encode `msg` into `buf` with the protocol module, via a scratch host. */
static uint32_t
encode(const ChMsg* msg, uint8_t* buf, uint32_t size)
{
  Host* const h = host_new(HOST_WORKER_NONE);
  CHECK(h);
  const uint32_t n = h ? host_encode(h, msg, buf, size) : 0u;
  CHECK(n > 0);
  host_free(h);
  return n;
}

/* A good ch:Set: osc:pitch = 1. */
static ChMsg
good_set(void)
{
  return ch_msg_set("osc", "pitch", 1.0f);
}

/* `msg` with ch:seq `seq`, encoded into `buf`; its size. */
static uint32_t
encode_seq(ChMsg msg, int32_t seq, uint8_t* buf, uint32_t size)
{
  msg.has_seq = true;
  msg.seq     = seq;
  return encode(&msg, buf, size);
}

/* A good ch:Set with ch:seq `seq`, encoded into `buf`; its size. */
static uint32_t
encode_set(int32_t seq, uint8_t* buf, uint32_t size)
{
  return encode_seq(good_set(), seq, buf, size);
}

static const ChUris*
uris(void)
{
  static ChUris u;
  static bool   mapped;
  if (!mapped) {
    Host* const h = host_new(HOST_WORKER_NONE);
    if (h) {
      u = *host_uris(h);
    }
    host_free(h);
    mapped = true;
  }
  return &u;
}

/* `msg` with ch:seq `seq`, the size of its property `key` made `size` and
   the last `cut` bytes of the object dropped: check_refused(). */
static void
check_bad_size(const char* what,
               ChMsg       msg,
               int32_t     seq,
               LV2_URID    key,
               uint32_t    size,
               uint32_t    cut,
               const char* want,
               const char* want2)
{
  static uint8_t buf[4096];
  const uint32_t n           = encode_seq(msg, seq, buf, sizeof(buf));
  prop_value(buf, key)->size = size;
  ((LV2_Atom*)buf)->size -= cut;
  check_refused(what, buf, n - cut, seq, want, want2);
}

/* issue 8: a string size of 0xFFFFFFF0 in a ch:Set with consistent object
   and sequence sizes hung run() (an offset wrapped). */
static void
test_set_huge_string_size(void)
{
  check_bad_size("ch:Set 0xFFFFFFF0", good_set(), 10, uris()->ch_module,
                 0xFFFFFFF0u, 0u,
                 "malformed ch:Set: property ch:module has size 4294967280 "
                 "past the end of its object",
                 NULL);
}

/* The same as ch:Create hung the worker with its lock held. */
static void
test_create_huge_string_size(void)
{
  ChMsg msg       = ch_msg_init(CH_MSG_CREATE);
  msg.module      = "x";
  msg.module_kind = "noise";
  check_bad_size("ch:Create 0xFFFFFFF0", msg, 20, uris()->ch_kind, 0xFFFFFFF0u,
                 0u, "malformed ch:Create", "ch:kind has size 4294967280");
}

/* A string whose size runs 1 MiB past its object was read out of bounds. */
static void
test_string_past_object(void)
{
  check_bad_size("1 MiB string", good_set(), 30, uris()->ch_param, 1u << 20, 0u,
                 "ch:param has size 1048576", "past the end of its object");
}

/* An object cut inside its last property. */
static void
test_truncated_object(void)
{
  static uint8_t buf[4096];
  const uint32_t n = encode_set(40, buf, sizeof(buf));
  ((LV2_Atom*)buf)->size -= 12u; /* ch:value: 24 bytes, 12 left */
  check_refused("truncated", buf, n - 12u, 40, "malformed ch:Set",
                "cut short (12 bytes)");
}

/* A number property of size 0 (the last: its body dropped). */
static void
test_zero_size_number(void)
{
  check_bad_size("zero-size value", good_set(), 50, uris()->ch_value, 0u, 8u,
                 "property ch:value has size 0, too small", NULL);
}

/* A string without its terminator inside its size. */
static void
test_unterminated_string(void)
{
  static uint8_t  buf[4096];
  const uint32_t  n                      = encode_set(60, buf, sizeof(buf));
  LV2_Atom* const param                  = prop_value(buf, uris()->ch_param);
  ((char*)(param + 1))[param->size - 1u] = 'x';
  check_refused("unterminated", buf, n, 60,
                "property ch:param is a string of 6 bytes with no terminator",
                NULL);
}

/* Wrong types: the worker names what the message needs. */
static void
test_wrong_types(void)
{
  static uint8_t buf[4096];
  const uint32_t n                         = encode_set(70, buf, sizeof(buf));
  prop_value(buf, uris()->ch_module)->type = uris()->atom_Int;
  check_refused("module as Int", buf, n, 70,
                "ch:Set needs ch:module, ch:param and a numeric ch:value",
                NULL);
  const uint32_t m                        = encode_set(80, buf, sizeof(buf));
  prop_value(buf, uris()->ch_value)->type = uris()->atom_String;
  check_refused("value as String", buf, m, 80, "a numeric ch:value", NULL);
}

/* A control sequence whose event claims more bytes than the sequence has:
   refused with an error, the events before it still act. */
static void
test_event_overruns_sequence(Host* const a)
{
  play_sine(a);
  static uint8_t     seq[8192];
  LV2_Atom_Sequence* s = (LV2_Atom_Sequence*)seq;
  s->atom.type         = uris()->atom_Sequence;
  s->body.unit         = 0;
  s->body.pad          = 0;
  uint8_t* p           = (uint8_t*)(s + 1);
  /* A good ch:Set first, then an event claiming 1 MiB. */
  LV2_Atom_Event* ev = (LV2_Atom_Event*)p;
  ev->time.frames    = 0;
  const uint32_t n   = encode_set(90, (uint8_t*)&ev->body, 4096);
  p += lv2_atom_pad_size(sizeof(ev->time) + n);
  ev              = (LV2_Atom_Event*)p;
  ev->time.frames = 10;
  ev->body.type   = uris()->atom_Object;
  ev->body.size   = 1u << 20;
  p += sizeof(*ev) + 8u;
  s->atom.size = (uint32_t)(p - seq - sizeof(LV2_Atom));
  host_run_raw(a, seq, (uint32_t)(p - seq), BLOCK);
  const HostAnswer* e = host_find(a, HOST_ANSWER_ERROR, HOST_NO_SEQ);
  CHECK_STR_CONTAINS(e ? e->text : NULL,
                     "event's size runs past the end of its sequence");
  host_run_frames(a, 10u * BLOCK, BLOCK);
  CHECK(host_find(a, HOST_ANSWER_ACK, 90));
  CHECK(dsp_peak(host_left(a), host_captured(a)) > 0.3);
}

/* Errors that do not fit in a small notify buffer are lost, and the
   loss is reported once, in a later cycle that has room, although that
   cycle brings nothing else to answer. */
static void
test_lost_answers_are_reported(void)
{
  static uint8_t buf[4096];
  Host* const    h = host_new_with(
       &(HostOptions){ .worker = HOST_WORKER_SYNC, .notify_size = 1024u });
  CHECK(h);
  for (int32_t seq = 100; seq < 120 && h; ++seq) {
    const uint32_t n = encode_set(seq, buf, sizeof(buf));
    ((LV2_Atom*)buf)->size -= 12u; /* truncated: refused at once */
    host_raw(h, 10, buf, n - 12u);
  }
  if (!h) {
    return;
  }
  host_run(h, BLOCK);
  const size_t at_once = host_count(h, HOST_ANSWER_ERROR);
  CHECK(at_once > 0u && at_once < 20u);
  for (unsigned c = 0; c < 4u; ++c) {
    host_run(h, BLOCK);
  }
  size_t lost = 0;
  for (size_t i = 0; i < host_n_answers(h); ++i) {
    const HostAnswer* const a = host_answer(h, i);
    if (a->type == HOST_ANSWER_ERROR && a->text &&
        strstr(a->text, "some answers were lost")) {
      ++lost;
      CHECK(a->cycle == 1u); /* the next cycle */
    }
  }
  CHECK(lost == 1u);
  CHECK(host_n_answers(h) == at_once + 1u);
  host_free(h);
}

int
main(void)
{
  RUN(test_set_huge_string_size);
  RUN(test_create_huge_string_size);
  RUN(test_string_past_object);
  RUN(test_truncated_object);
  RUN(test_zero_size_number);
  RUN(test_unterminated_string);
  RUN(test_wrong_types);
  RUN_HOST(test_event_overruns_sequence, HOST_WORKER_SYNC);
  RUN(test_lost_answers_are_reported);
  return CHECK_EXIT();
}
