/* A lock-free single-producer, single-consumer ring of variable-size
   records, each stored contiguously behind an 8-byte header. */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

/* The header of a record: payload bytes, then 4 bytes of padding so the
   payload stays 8-byte aligned. */
#define HEADER_SIZE 8u

/* A header with this size means "the rest of the buffer is unused, the next
   record is at offset 0". */
#define WRAP_MARKER UINT32_MAX

/* Largest ring: head - tail must stay meaningful modulo 2^32. */
#define MAX_SIZE 0x80000000u

static inline uint32_t
pad8(const uint32_t n)
{
  return (n + 7u) & ~7u;
}

/* Bytes one record of `payload` bytes occupies, header included. */
static inline uint32_t
footprint(const uint32_t payload)
{
  return HEADER_SIZE + pad8(payload);
}

static inline uint32_t
max_payload(const ChRing* const ring)
{
  return ring->size / 2u - HEADER_SIZE;
}

static inline uint32_t
read_header(const ChRing* const ring, const uint32_t offset)
{
  uint32_t value = 0u;
  memcpy(&value, ring->buf + offset, sizeof(value));
  return value;
}

static inline void
write_header(ChRing* const ring, const uint32_t offset, const uint32_t value)
{
  const uint32_t header[2] = { value, 0u };
  memcpy(ring->buf + offset, header, sizeof(header));
}

/* The largest footprint one record may have right now, given `free_bytes`
   free from `offset`: either it fits before the end, or the bytes up to the
   end are spent on a wrap marker and it starts at 0. */
static inline uint32_t
writable(const ChRing* const ring,
         const uint32_t      offset,
         const uint32_t      free_bytes)
{
  const uint32_t to_end = ring->size - offset;
  if (free_bytes <= to_end) {
    return free_bytes;
  }
  const uint32_t after_wrap = free_bytes - to_end;
  return to_end > after_wrap ? to_end : after_wrap;
}

ChStatus
ch_ring_init(ChRing* const ring, const uint32_t size)
{
  memset(ring, 0, sizeof(*ring));
  atomic_init(&ring->head, 0u);
  atomic_init(&ring->tail, 0u);
  if (size > MAX_SIZE) {
    return CH_ERR_TOO_LARGE;
  }

  uint32_t rounded = 64u;
  while (rounded < size) {
    rounded <<= 1u;
  }

  /* 64 keeps payloads aligned beyond the promised 8; memset touches every
     page now, so the audio thread never takes the first page fault. */
  uint8_t* const buf = (uint8_t*)aligned_alloc(64u, rounded);
  if (!buf) {
    return CH_ERR_NO_MEMORY;
  }
  memset(buf, 0, rounded);
  ring->buf  = buf;
  ring->size = rounded;
  return CH_SUCCESS;
}

void
ch_ring_destroy(ChRing* const ring)
{
  free(ring->buf);
  ring->buf  = NULL;
  ring->size = 0u;
  atomic_store_explicit(&ring->head, 0u, memory_order_relaxed);
  atomic_store_explicit(&ring->tail, 0u, memory_order_relaxed);
}

CH_REALTIME bool
ch_ring_write(ChRing* const     ring,
              const void* const a,
              const uint32_t    a_size,
              const void* const b,
              const uint32_t    b_size)
{
  if (!ring->buf || a_size > max_payload(ring) ||
      b_size > max_payload(ring) - a_size || (a_size && !a) || (b_size && !b)) {
    return false;
  }

  const uint32_t payload = a_size + b_size;
  const uint32_t need    = footprint(payload);
  const uint32_t mask    = ring->size - 1u;

  /* Only this thread moves head; acquire on tail so the consumer is done
     reading the bytes we are about to reuse. */
  const uint32_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
  const uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
  const uint32_t free_bytes = ring->size - (head - tail);
  const uint32_t offset     = head & mask;
  if (need > writable(ring, offset, free_bytes)) {
    return false;
  }

  uint32_t start = offset;
  uint32_t skip  = 0u;
  if (need > ring->size - offset) {
    write_header(ring, offset, WRAP_MARKER);
    skip  = ring->size - offset;
    start = 0u;
  }

  write_header(ring, start, payload);
  if (a_size) {
    memcpy(ring->buf + start + HEADER_SIZE, a, a_size);
  }
  if (b_size) {
    memcpy(ring->buf + start + HEADER_SIZE + a_size, b, b_size);
  }

  /* Publish marker and record together: the consumer never sees a marker
     without the record behind it. */
  atomic_store_explicit(&ring->head, head + skip + need, memory_order_release);
  return true;
}

CH_REALTIME const void*
ch_ring_peek(ChRing* const ring, uint32_t* const size)
{
  if (!ring->buf) {
    return NULL;
  }

  const uint32_t mask = ring->size - 1u;
  const uint32_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
  uint32_t       tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
  if (head == tail) {
    return NULL;
  }

  uint32_t offset = tail & mask;
  uint32_t length = read_header(ring, offset);
  if (length == WRAP_MARKER) {
    /* Give the marker's bytes back at once; the record follows at 0. */
    tail += ring->size - offset;
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
    if (head == tail) {
      return NULL; /* unreachable: a marker is published with its record */
    }
    offset = 0u;
    length = read_header(ring, 0u);
  }

  if (size) {
    *size = length;
  }
  return ring->buf + offset + HEADER_SIZE;
}

CH_REALTIME void
ch_ring_pop(ChRing* const ring)
{
  /* Peeking again finds the same record (skipping a marker if the caller
     did not peek first), so pop is safe either way. */
  uint32_t length = 0u;
  if (!ch_ring_peek(ring, &length)) {
    return;
  }

  const uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
  atomic_store_explicit(&ring->tail, tail + footprint(length),
                        memory_order_release);
}

CH_REALTIME uint32_t
ch_ring_space(const ChRing* const ring)
{
  if (!ring->buf) {
    return 0u;
  }

  /* The footprint of the largest record a write would accept now (the
     consumer can only make it larger), not the raw free byte count, which
     overstates it by the bytes a wrap would waste. */
  const uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
  const uint32_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
  const uint32_t used = head - tail;
  if (used >= ring->size) {
    return 0u; /* full (or a snapshot from a third thread, out of date) */
  }
  const uint32_t space =
    writable(ring, head & (ring->size - 1u), ring->size - used);
  const uint32_t limit = footprint(max_payload(ring));
  return space < limit ? space : limit;
}
