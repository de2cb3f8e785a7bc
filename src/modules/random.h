/* Random numbers for module kinds: seeds spread from small counters and a
   xorshift32 stream, the same in every run, so renders are reproducible. */
#ifndef CH_RANDOM_H
#define CH_RANDOM_H

#include <stdint.h>

/* A non-zero seed (2^32 / golden ratio): xorshift never leaves 0. */
#define CH_RANDOM_SEED 0x9E3779B9u

/** The murmur3 finaliser: spreads consecutive numbers (instances, voices)
    over the whole state space, so their streams are unrelated. */
static inline uint32_t
ch_random_mix(uint32_t x)
{
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

/** The next state of a xorshift32 stream (`x` non-zero). */
static inline uint32_t
ch_random_next(uint32_t x)
{
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

/** A state's top 24 bits as a signed fraction: uniform in [-1, 1), exact. */
static inline float
ch_random_bipolar(const uint32_t x)
{
  return (float)((int32_t)x >> 8) * (1.0f / 8388608.0f);
}

#endif /* CH_RANDOM_H */
