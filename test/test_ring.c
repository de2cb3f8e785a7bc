/* Tests of the SPSC record ring: round trips, wrap-around, full ring,
   limits, alignment, space accounting, a two-thread stress and RT safety. */
#include "../src/ring.h"
#include "check.h"
#include "rtcheck.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Byte `i` of the pattern of record `seed`. */
static uint8_t
pattern(const uint32_t seed, const uint32_t i)
{
  return (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* Fills `buf` with the pattern of `seed`. */
static void
fill(uint8_t* const buf, const uint32_t n, const uint32_t seed)
{
  for (uint32_t i = 0; i < n; ++i) {
    buf[i] = pattern(seed, i);
  }
}

static int
matches(const uint8_t* const buf, const uint32_t n, const uint32_t seed)
{
  for (uint32_t i = 0; i < n; ++i) {
    if (buf[i] != pattern(seed, i)) {
      return 0;
    }
  }
  return 1;
}

/* Every record was read: nothing is left to peek; then destroys it. */
static void
destroy_empty(ChRing* const ring)
{
  uint32_t size = 0;
  CHECK(!ch_ring_peek(ring, &size));
  ch_ring_destroy(ring);
}

static uint32_t
footprint(const uint32_t n)
{
  return 8u + ((n + 7u) & ~7u);
}

static void
test_init_and_destroy(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 0));
  CHECK(ring.size == 64u);
  ch_ring_destroy(&ring);
  CHECK(!ring.buf);
  ch_ring_destroy(&ring); /* twice is fine */

  CHECK(!ch_ring_init(&ring, 1000));
  CHECK(ring.size == 1024u);
  ch_ring_destroy(&ring);
  CHECK(!ch_ring_init(&ring, 4096));
  CHECK(ring.size == 4096u);
  ch_ring_destroy(&ring);

  ChRing zeroed;
  memset(&zeroed, 0, sizeof(zeroed));
  ch_ring_destroy(&zeroed); /* a zeroed ring is fine too */
  uint32_t size = 1u;
  CHECK(!ch_ring_peek(&zeroed, &size));
  CHECK(!ch_ring_write(&zeroed, "x", 1, NULL, 0));
  CHECK(ch_ring_space(&zeroed) == 0u);

  CHECK(ch_ring_init(&ring, 0xFFFFFFFFu) != CH_SUCCESS);
  CHECK(!ring.buf);
  ch_ring_destroy(&ring);
}

static void
test_round_trip(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 4096));
  uint32_t size = 99u;
  CHECK(!ch_ring_peek(&ring, &size));

  static const uint32_t sizes[] = { 0, 1, 7, 8, 9, 15, 16, 17, 100, 1000 };
  uint8_t               data[1024];
  for (uint32_t k = 0; k < CH_COUNT(sizes); ++k) {
    fill(data, sizes[k], k);
    CHECK(ch_ring_write(&ring, data, sizes[k], NULL, 0));
  }
  for (uint32_t k = 0; k < CH_COUNT(sizes); ++k) {
    const uint8_t* const p = (const uint8_t*)ch_ring_peek(&ring, &size);
    CHECK(p != NULL);
    if (!p) {
      break;
    }
    CHECK(size == sizes[k]);
    CHECK(matches(p, size, k));
    /* Peeking again gives the same record until it is popped. */
    uint32_t again = 0;
    CHECK(ch_ring_peek(&ring, &again) == p && again == size);
    ch_ring_pop(&ring);
  }
  CHECK(!ch_ring_peek(&ring, &size));
  ch_ring_pop(&ring); /* popping an empty ring does nothing */
  CHECK(!ch_ring_peek(&ring, &size));

  /* Two parts are joined into one record. */
  const char head[] = "head:";
  const char tail[] = "tail";
  CHECK(ch_ring_write(&ring, head, 5, tail, 5));
  const char* const joined = (const char*)ch_ring_peek(&ring, &size);
  CHECK(joined && size == 10u && !strcmp(joined, "head:tail"));
  ch_ring_pop(&ring);
  CHECK(ch_ring_write(&ring, NULL, 0, tail, 5));
  const char* const only_b = (const char*)ch_ring_peek(&ring, &size);
  CHECK(only_b && size == 5u && !strcmp(only_b, "tail"));
  ch_ring_pop(&ring);
  CHECK(!ch_ring_write(&ring, NULL, 3, NULL, 0)); /* data missing */
  destroy_empty(&ring);
}

static void
test_wrap_around(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 256));
  uint8_t  data[128];
  uint32_t seq     = 0; /* records written */
  uint32_t checked = 0; /* records read back */
  /* Sizes that do not divide the ring force markers at many offsets; the
     ring holds a few records at a time so writer and reader interleave. */
  while (seq < 5000u && check_failed_now < 10) {
    const uint32_t n = (seq * 37u) % 121u; /* 0..120 = the maximum */
    fill(data, n, seq);
    if (ch_ring_write(&ring, data, n, NULL, 0)) {
      ++seq;
      continue;
    }
    /* Full: read one back, then try again. */
    uint32_t             size = 0;
    const uint8_t* const p    = (const uint8_t*)ch_ring_peek(&ring, &size);
    CHECK(p != NULL);
    if (!p) {
      break;
    }
    CHECK(size == (checked * 37u) % 121u && matches(p, size, checked));
    ch_ring_pop(&ring);
    ++checked;
  }
  uint32_t       size = 0;
  const uint8_t* p    = NULL;
  while (checked < seq && (p = (const uint8_t*)ch_ring_peek(&ring, &size))) {
    CHECK(size == (checked * 37u) % 121u && matches(p, size, checked));
    ch_ring_pop(&ring);
    ++checked;
  }
  CHECK(checked == seq && seq == 5000u);
  CHECK(!ch_ring_peek(&ring, &size));
  /* Head went round the buffer many times. */
  CHECK(atomic_load(&ring.head) > 100u * ring.size);
  CHECK(ch_ring_space(&ring) == ring.size / 2u);
  ch_ring_destroy(&ring);
}

static void
test_full_ring_refuses(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 256));
  uint8_t  data[128];
  uint32_t n = 0;
  fill(data, 24, 0);
  while (ch_ring_write(&ring, data, 24, NULL, 0)) {
    fill(data, 24, ++n);
  }
  CHECK(n == 256u / footprint(24)); /* 8 records of 32 bytes */
  CHECK(ch_ring_space(&ring) == 0u);
  const uint32_t head = atomic_load(&ring.head);
  CHECK(!ch_ring_write(&ring, data, 0, NULL, 0)); /* not even an empty one */
  CHECK(atomic_load(&ring.head) == head);

  /* Everything written is intact, in order. */
  for (uint32_t k = 0; k < n; ++k) {
    uint32_t             size = 0;
    const uint8_t* const p    = (const uint8_t*)ch_ring_peek(&ring, &size);
    CHECK(p && size == 24u && matches(p, size, k));
    if (!p) {
      break;
    }
    ch_ring_pop(&ring);
  }
  uint32_t size = 0;
  CHECK(!ch_ring_peek(&ring, &size));

  /* Wrap waste counts: a record that does not fit before the end costs
     the bytes up to the end as well. */
  ch_ring_destroy(&ring);
  CHECK(!ch_ring_init(&ring, 256));
  for (uint32_t k = 0; k < 7; ++k) {
    CHECK(ch_ring_write(&ring, data, 24, NULL, 0));
  }
  for (uint32_t k = 0; k < 4; ++k) { /* tail at 128 */
    CHECK(ch_ring_peek(&ring, &size));
    ch_ring_pop(&ring);
  }
  /* Used 96 of 256, 160 free: 32 before the end, 128 after wrapping. */
  CHECK(ch_ring_space(&ring) == 128u);
  CHECK(!ch_ring_write(&ring, data, 121, NULL, 0)); /* 136 > 128 */
  CHECK(ch_ring_write(&ring, data, 120, NULL, 0));  /* 128: wraps */
  CHECK(ch_ring_space(&ring) == 0u);
  for (uint32_t k = 4; k < 7; ++k) {
    const uint8_t* const p = (const uint8_t*)ch_ring_peek(&ring, &size);
    CHECK(p && size == 24u);
    ch_ring_pop(&ring);
  }
  const uint8_t* const p = (const uint8_t*)ch_ring_peek(&ring, &size);
  CHECK(p == ring.buf + 8 && size == 120u); /* after the marker, at 0 */
  ch_ring_pop(&ring);
  destroy_empty(&ring);
}

static void
test_max_record(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 1024));
  static uint8_t data[1024];
  const uint32_t max = 1024u / 2u - 8u;
  CHECK(!ch_ring_write(&ring, data, max + 1u, NULL, 0));
  CHECK(!ch_ring_write(&ring, data, max, data, 1));
  CHECK(!ch_ring_write(&ring, data, 0xFFFFFFF0u, data, 0x20u)); /* overflow */
  uint32_t size = 0;
  CHECK(!ch_ring_peek(&ring, &size));

  /* A maximal record fits into an empty ring wherever head is. */
  for (uint32_t k = 0; k < 200; ++k) {
    const uint32_t small = (k * 13u) % 40u;
    CHECK(ch_ring_write(&ring, data, small, NULL, 0));
    CHECK(ch_ring_peek(&ring, &size) && size == small);
    ch_ring_pop(&ring);
    CHECK(ch_ring_space(&ring) == footprint(max));
    fill(data, max, k);
    CHECK(ch_ring_write(&ring, data, max - 8u, data + max - 8u, 8u));
    const uint8_t* const p = (const uint8_t*)ch_ring_peek(&ring, &size);
    CHECK(p && size == max && matches(p, max, k));
    ch_ring_pop(&ring);
  }
  ch_ring_destroy(&ring);
}

static void
test_alignment(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 512));
  uint8_t data[64] = { 0 };
  for (uint32_t k = 0; k < 1000; ++k) {
    const uint32_t n = 1u + (k * 5u) % 60u;
    CHECK(ch_ring_write(&ring, data, n, NULL, 0));
    uint32_t          size = 0;
    const void* const p    = ch_ring_peek(&ring, &size);
    CHECK(p && size == n && ((uintptr_t)p % 8u) == 0u);
    ch_ring_pop(&ring);
  }
  ch_ring_destroy(&ring);
}

static void
test_space_is_honest(void)
{
  /* Whatever state the ring is in, a record fits exactly when its
     footprint is at most ch_ring_space(). */
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 256));
  uint8_t  data[128] = { 0 };
  uint32_t state     = 12345u;
  for (uint32_t k = 0; k < 20000; ++k) {
    state              = state * 1103515245u + 12345u;
    const uint32_t r   = state >> 16;
    const uint32_t n   = r % 121u;
    const uint32_t had = ch_ring_space(&ring);
    if ((r >> 8) % 2u) {
      const bool ok = ch_ring_write(&ring, data, n, NULL, 0);
      CHECK_MSG(ok == (footprint(n) <= had), "n %u, space %u", n, had);
      const uint32_t used = atomic_load(&ring.head) - atomic_load(&ring.tail);
      CHECK(used <= ring.size);
      if (ok) {
        CHECK(ch_ring_space(&ring) <= had);
      }
    } else {
      uint32_t size = 0;
      if (ch_ring_peek(&ring, &size)) {
        ch_ring_pop(&ring);
        CHECK(ch_ring_space(&ring) >= had);
      }
    }
    if (check_failed_now > 10) {
      break;
    }
  }
  ch_ring_destroy(&ring);
}

/* Stress: one producer thread, the consumer on the main thread. */

#define STRESS_RECORDS 200000u

/* Give up rather than hang if records get lost. */
#define STRESS_SECONDS 30.0

typedef struct {
  ChRing*     ring;
  atomic_bool stop;
} Producer;

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint32_t
checksum(const uint8_t* const p, const uint32_t n)
{
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; ++i) {
    h = (h ^ p[i]) * 16777619u;
  }
  return h;
}

/* Record: seq, length of the body, body checksum, body. */
static void*
produce(void* const arg)
{
  Producer* const producer = (Producer*)arg;
  uint8_t         body[200];
  for (uint32_t seq = 0; seq < STRESS_RECORDS; ++seq) {
    const uint32_t n = (seq * 2654435761u >> 24) % 200u;
    fill(body, n, seq);
    const uint32_t header[3] = { seq, n, checksum(body, n) };
    while (!ch_ring_write(producer->ring, header, sizeof(header), body, n)) {
      if (atomic_load(&producer->stop)) {
        return NULL;
      } /* else the consumer will make room */
    }
  }
  return NULL;
}

static void
test_two_threads(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 1024));
  Producer producer;
  producer.ring = &ring;
  atomic_init(&producer.stop, false);
  pthread_t thread;
  CHECK(!pthread_create(&thread, NULL, produce, &producer));

  const double deadline = now() + STRESS_SECONDS;
  uint32_t     expect   = 0;
  uint32_t     bad      = 0;
  uint32_t     idle     = 0;
  while (expect < STRESS_RECORDS && bad < 10) {
    uint32_t             size = 0;
    const uint8_t* const p    = (const uint8_t*)ch_ring_peek(&ring, &size);
    if (!p) {
      if (!(++idle & 0xFFFFu) && now() > deadline) {
        fprintf(stderr, "  timed out after %u records\n", expect);
        ++bad;
        break;
      }
      continue;
    }
    uint32_t header[3];
    memcpy(header, p, sizeof(header));
    const uint32_t n = header[1];
    if (size != sizeof(header) + n || header[0] != expect ||
        n != (expect * 2654435761u >> 24) % 200u ||
        header[2] != checksum(p + sizeof(header), n) ||
        !matches(p + sizeof(header), n, expect)) {
      fprintf(stderr, "  record %u: seq %u, size %u\n", expect, header[0],
              size);
      ++bad;
    }
    ch_ring_pop(&ring);
    ++expect;
  }
  CHECK(!bad);
  atomic_store(&producer.stop, true);
  CHECK(!pthread_join(thread, NULL));
  CHECK(expect == STRESS_RECORDS);
  destroy_empty(&ring);
}

static void
test_realtime_safe(void)
{
  ChRing ring;
  CHECK(!ch_ring_init(&ring, 1024));
  uint8_t  data[200] = { 1, 2, 3 };
  uint32_t total     = 0;
  rtcheck_begin();
  for (uint32_t k = 0; k < 1000; ++k) {
    const uint32_t n = (k * 17u) % 200u;
    (void)ch_ring_write(&ring, data, n, data, 3);
    (void)ch_ring_space(&ring);
    uint32_t size = 0;
    if (k % 3u && ch_ring_peek(&ring, &size)) {
      total += size;
      ch_ring_pop(&ring);
    }
  }
  const unsigned violations = rtcheck_end();
  CHECK_MSG(!violations, "%u forbidden calls, first %s", violations,
            rtcheck_first());
  CHECK(total > 0u);
  ch_ring_destroy(&ring);
}

int
main(void)
{
  RUN(test_init_and_destroy);
  RUN(test_round_trip);
  RUN(test_wrap_around);
  RUN(test_full_ring_refuses);
  RUN(test_max_record);
  RUN(test_alignment);
  RUN(test_space_is_honest);
  RUN(test_two_threads);
  RUN(test_realtime_safe);
  return CHECK_EXIT();
}
