/* Lanes states and the small vectors that run several voices at once. */
#ifndef CH_LANES_H
#define CH_LANES_H

#include "../kind.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#  include <emmintrin.h>
#endif

/*
   A lanes kind (ChKind.lanes) lists its state's fields once, as
   `#define NAME_FIELDS(X) X(float, ic1) X(float, ic2) ...` (one element
   size for all), and makes from the list both its state, an array of
   CH_LANES per field, and the view of one voice that its scalar code
   works on:

     typedef struct { NAME_FIELDS(CH_LANES_ARRAY) } NameState;
     typedef struct { NAME_FIELDS(CH_LANES_ONE) } NameVoice;

   CH_LANES_GET and CH_LANES_PUT, expanded inside a function with `one`
   (a NameVoice*), `lanes` (a NameState*) and `v` (the voice), move one
   voice's elements between the two.
*/
#define CH_LANES_ARRAY(type, field) type field[CH_LANES];
#define CH_LANES_ONE(type, field)   type field;
#define CH_LANES_GET(type, field)   one->field = lanes->field[v];
#define CH_LANES_PUT(type, field)   lanes->field[v] = one->field;

/*
   Four lanes of floats, or two of doubles, in GCC's (and clang's) generic
   vectors: SSE2 registers on x86-64, plain code where a target has none.
   Arithmetic on them is elementwise and rounds exactly as the scalar code
   does, operation for operation, so a voice run in a lane gives the same
   bits as the voice run alone.
*/
typedef float   ChF4 __attribute__((vector_size(16)));
typedef int32_t ChI4 __attribute__((vector_size(16)));

/** Lanes 4g .. 4g + 3 of a lanes array (64-aligned, CH_LANES long). */
static inline ChF4
ch_f4_at(const float* const array, const uint32_t g)
{
  ChF4 v;
  memcpy(&v, array + 4u * g, sizeof(v));
  return v;
}

static inline void
ch_f4_put(float* const array, const uint32_t g, const ChF4 v)
{
  memcpy(array + 4u * g, &v, sizeof(v));
}

/** All ones in the lanes whose bit is set in the low 4 bits of `bits`. */
static inline ChI4
ch_i4_mask(const uint32_t bits)
{
  static const ChI4 masks[16] = {
#define CH_I4_MASK(b)                                                          \
  { -((b)&1), -((b) >> 1 & 1), -((b) >> 2 & 1), -((b) >> 3 & 1) }
    CH_I4_MASK(0),  CH_I4_MASK(1),  CH_I4_MASK(2),  CH_I4_MASK(3),
    CH_I4_MASK(4),  CH_I4_MASK(5),  CH_I4_MASK(6),  CH_I4_MASK(7),
    CH_I4_MASK(8),  CH_I4_MASK(9),  CH_I4_MASK(10), CH_I4_MASK(11),
    CH_I4_MASK(12), CH_I4_MASK(13), CH_I4_MASK(14), CH_I4_MASK(15),
#undef CH_I4_MASK
  };
  return masks[bits & 15u];
}

/** The lanes set in `mask` (a comparison's result) as bits 0 to 3. */
static inline uint32_t
ch_i4_bits(const ChI4 mask)
{
#if defined(__SSE2__) && defined(__GNUC__)
  return (uint32_t)__builtin_ia32_movmskps((ChF4)mask);
#else
  return (uint32_t)((mask[0] & 1) | (mask[1] & 2) | (mask[2] & 4) |
                    (mask[3] & 8));
#endif
}

/** `a` in the lanes of `mask`, `b` in the others. */
static inline ChF4
ch_f4_pick(const ChI4 mask, const ChF4 a, const ChF4 b)
{
  return (ChF4)((mask & (ChI4)a) | (~mask & (ChI4)b));
}

/*
   The one frame of input `port` of the four nodes from `nodes` (a group
   of lanes) in a block of one sample, in the lanes of `bits` (low 4 bits;
   the others read 0), and the other way for an output.  A group's voices
   are usually all asked: that case runs without tests; buffers side by
   side (ChNode.strided_in, strided_out: in a block of one sample, voice
   k's frame is k floats after voice 0's) are one vector load or store.
*/
static inline ChF4
ch_f4_input(const ChNode* const nodes, const uint32_t bits, const uint32_t port)
{
  if (bits == 15u && (nodes[0].strided_in >> port & 1u)) {
    ChF4 v;
    memcpy(&v, nodes[0].in[port], sizeof(v));
    return v;
  }
  if (bits == 15u) {
    return (ChF4){ nodes[0].in[port][0], nodes[1].in[port][0],
                   nodes[2].in[port][0], nodes[3].in[port][0] };
  }
  ChF4 v = { 0.0f, 0.0f, 0.0f, 0.0f };
  for (uint32_t j = 0; j < 4u; ++j) {
    if (bits >> j & 1u) {
      v[j] = nodes[j].in[port][0];
    }
  }
  return v;
}

static inline void
ch_f4_output(const ChNode* const nodes,
             const uint32_t      bits,
             const uint32_t      port,
             const ChF4          v)
{
  if (bits == 15u && (nodes[0].strided_out >> port & 1u)) {
    memcpy(nodes[0].out[port], &v, sizeof(v));
  } else if (bits == 15u) {
    nodes[0].out[port][0] = v[0];
    nodes[1].out[port][0] = v[1];
    nodes[2].out[port][0] = v[2];
    nodes[3].out[port][0] = v[3];
  } else {
    for (uint32_t j = 0; j < 4u; ++j) {
      if (bits >> j & 1u) {
        nodes[j].out[port][0] = v[j];
      }
    }
  }
}

/** Whether the first group's four lanes are all in `bits`: if not (a
    mono patch, a voice or two awake), a whole group is unlikely anywhere,
    and lanes have little to win.  One test, for the usual call's sake. */
static inline bool
ch_first_group_full(const uint32_t bits)
{
  return (bits & 15u) == 15u;
}

/*
   Runs `call` for each group of four lanes that holds a voice of `bits`,
   with `g` the group's index and `bits4` its voices (low 4 bits).
*/
#define CH_EACH_GROUP(bits, call)                                              \
  for (uint32_t g = 0; g < CH_LANES / 4u && ((bits) >> 4u * g); ++g) {         \
    const uint32_t group_bits = (bits) >> 4u * g & 15u;                        \
    if (group_bits == 15u) { /* the usual group, compiled without tests */     \
      const uint32_t bits4 = 15u;                                              \
      call;                                                                    \
    } else if (group_bits) {                                                   \
      const uint32_t bits4 = group_bits;                                       \
      call;                                                                    \
    }                                                                          \
  }

/*
   Two lanes of doubles, what an SSE2 register holds.  A four-lane double
   vector was tried: GCC (12) keeps one on a target without AVX in memory
   whenever it meets another at a branch or call, and compares one lane
   at a time through the integer registers; a ChD2 stays in a register
   and compares in one instruction.  So a kind whose state is doubles runs
   a group of four lanes as two of these (osc, adsr).
*/
typedef double  ChD2 __attribute__((vector_size(16)));
typedef int64_t ChL2 __attribute__((vector_size(16)));
typedef float   ChF2 __attribute__((vector_size(8)));

/** All ones in the lanes whose bit is set in the low 2 bits of `bits`. */
static inline ChL2
ch_l2_mask(const uint32_t bits)
{
  const ChL2 m = { -(int64_t)(bits & 1u), -(int64_t)(bits >> 1 & 1u) };
  return m;
}

/** `a` in the lanes of `mask`, `b` in the others. */
static inline ChD2
ch_d2_pick(const ChL2 mask, const ChD2 a, const ChD2 b)
{
  return (ChD2)((mask & (ChL2)a) | (~mask & (ChL2)b));
}

/**
   The lanes set in `mask` (a comparison's result) as bits, lane j as bit
   j, so that the lanes a vector cannot take go through the kind's scalar
   code one by one.  Combine comparisons as these bits: GCC (12) makes
   the & of two comparisons' masks lane by lane.
*/
static inline uint32_t
ch_l2_bits(const ChL2 mask)
{
#if defined(__SSE2__) && defined(__GNUC__)
  return (uint32_t)__builtin_ia32_movmskpd((ChD2)mask);
#else
  return (uint32_t)((mask[0] & 1) | (mask[1] & 2));
#endif
}

/** Lanes k, k + 1 (k even) of a lanes array of doubles. */
static inline ChD2
ch_d2_at(const double* const array, const uint32_t k)
{
  ChD2 v;
  memcpy(&v, array + k, sizeof(v));
  return v;
}

static inline void
ch_d2_put(double* const array, const uint32_t k, const ChD2 v)
{
  memcpy(array + k, &v, sizeof(v));
}

/** Two pairs of doubles as four floats, each rounded as a cast rounds it. */
static inline ChF4
ch_f4_of_d2(const ChD2 lo, const ChD2 hi)
{
  const ChF2 a = __builtin_convertvector(lo, ChF2);
  const ChF2 b = __builtin_convertvector(hi, ChF2);
  return (ChF4){ a[0], a[1], b[0], b[1] };
}

/**
   `a & b` and `a | b` of two comparisons' masks, for one ch_l2_bits of
   several comparisons: GCC (12) makes `&` and `|` of ChL2 masks lane by
   lane through the integer registers (it keeps each lane's 0 or -1
   exact), where SSE2's andpd and orpd take one instruction.
*/
static inline ChL2
ch_l2_and(const ChL2 a, const ChL2 b)
{
#if defined(__SSE2__) && defined(__GNUC__)
  return (ChL2)_mm_and_pd((__m128d)a, (__m128d)b);
#else
  return a & b;
#endif
}

static inline ChL2
ch_l2_or(const ChL2 a, const ChL2 b)
{
#if defined(__SSE2__) && defined(__GNUC__)
  return (ChL2)_mm_or_pd((__m128d)a, (__m128d)b);
#else
  return a | b;
#endif
}

/**
   Lanes 0, 1 and lanes 2, 3 of `v` as doubles: GCC (12) makes the upper
   half's conversion of generic vectors lane by lane.
*/
static inline ChD2
ch_d2_low(const ChF4 v)
{
#if defined(__SSE2__) && defined(__GNUC__)
  return (ChD2)_mm_cvtps_pd((__m128)v);
#else
  return (ChD2){ (double)v[0], (double)v[1] };
#endif
}

static inline ChD2
ch_d2_high(const ChF4 v)
{
#if defined(__SSE2__) && defined(__GNUC__)
  return (ChD2)_mm_cvtps_pd(_mm_movehl_ps((__m128)v, (__m128)v));
#else
  return (ChD2){ (double)v[2], (double)v[3] };
#endif
}

/** ch_l2_bits of `low` as bits 0, 1 and of `high` as bits 2, 3. */
static inline uint32_t
ch_l2_bits4(const ChL2 low, const ChL2 high)
{
#if defined(__SSE2__) && defined(__GNUC__)
  /* the upper halves of the lanes, which hold their sign bits */
  return (uint32_t)_mm_movemask_ps(
    _mm_shuffle_ps((__m128)low, (__m128)high, _MM_SHUFFLE(3, 1, 3, 1)));
#else
  return ch_l2_bits(low) | ch_l2_bits(high) << 2;
#endif
}

/**
   Lanes k, k + 1 of a lanes array of doubles at `p` (array + k), known
   16-aligned (the array 64-aligned, k even), so that the compiler may
   fold the load into the operation that takes it.
*/
static inline ChD2
ch_d2_load(const double* const p)
{
  ChD2 v;
  memcpy(&v, __builtin_assume_aligned(p, 16), sizeof(v));
  return v;
}

static inline void
ch_d2_store(double* const p, const ChD2 v)
{
  memcpy(__builtin_assume_aligned(p, 16), &v, sizeof(v));
}

#endif /* CH_LANES_H */
