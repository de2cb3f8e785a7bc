/* A single-producer, single-consumer ring of variable-size records, for
   passing messages between the audio thread and the worker without locks. */
#ifndef CH_RING_H
#define CH_RING_H

#include "kind.h"
#include "status.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
   A ring of records.  One thread writes, one thread reads (they may be the
   same thread).  Each record is stored contiguously (a record that would
   cross the end starts again at the beginning), so a reader gets a pointer
   to the whole record, 8-byte aligned.
*/
typedef struct {
  uint8_t*         buf;
  uint32_t         size; /**< bytes, a power of two */
  _Atomic uint32_t head; /**< bytes ever written (mod 2^32) */
  _Atomic uint32_t tail; /**< bytes ever consumed (mod 2^32) */
} ChRing;

/**
   Allocate a ring of `size` bytes (rounded up to a power of two, at least
   64).  The largest record it takes is size / 2 - 8 bytes.  Not real-time.
*/
ChStatus ch_ring_init(ChRing* ring, uint32_t size);

/** Free the ring's memory.  Not real-time. */
void ch_ring_destroy(ChRing* ring);

/**
   Write one record made of `a` (`a_size` bytes) followed by `b` (`b_size`
   bytes, `b` may be NULL if 0).  Returns false, writing nothing, if there
   is no room.  Producer only.  Real-time.
*/
CH_REALTIME bool ch_ring_write(ChRing*     ring,
                               const void* a,
                               uint32_t    a_size,
                               const void* b,
                               uint32_t    b_size);

/**
   The next record, or NULL if there is none; its size goes to `*size`.
   The pointer stays valid until ch_ring_pop().  Consumer only.  Real-time.
*/
CH_REALTIME const void* ch_ring_peek(ChRing* ring, uint32_t* size);

/**
   True when there is no record to read: what ch_ring_peek() would say with
   NULL, inline, for queues the audio thread looks at every cycle and
   finds empty nearly always.  Consumer only.  Real-time.
*/
static inline CH_REALTIME bool
ch_ring_empty(ChRing* const ring)
{
  /* A ring without a buffer has head == tail: ch_ring_init() zeroes both
     before it allocates, ch_ring_destroy() after it frees, and a write
     needs the buffer. */
  return atomic_load_explicit(&ring->head, memory_order_acquire) ==
         atomic_load_explicit(&ring->tail, memory_order_relaxed);
}

/** Release the record last returned by ch_ring_peek().  Real-time. */
CH_REALTIME void ch_ring_pop(ChRing* ring);

/**
   Room for writing: a record of `n` bytes fits exactly when
   8 + n rounded up to 8 <= ch_ring_space() (bytes a wrap would waste are
   not counted).  Real-time.
*/
CH_REALTIME uint32_t ch_ring_space(const ChRing* ring);

#ifdef __cplusplus
}
#endif

#endif /* CH_RING_H */
