/* The `reverb` module: a stereo feedback-delay-network reverb. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

/*
   Each input passes four Schroeder allpasses (diffusion: the attack turns
   into a dense burst), then feeds four of eight delay lines: `left` the
   even ones, `right` the odd ones.  The line outputs are damped (one-pole
   low-pass), attenuated for the decay time and mixed by an 8x8 Hadamard
   matrix (orthogonal, so the loop is lossless but for the gains, and
   stable for any gains below 1) back into the lines.  The outputs take
   the lines with two orthogonal sign patterns, so left and right share
   one tail but are decorrelated.

   Line lengths are distinct primes (31..94 ms at 48 kHz) at `size` 1,
   scaled down to 25 % at `size` 0 and rounded to whole samples.  A size
   change glides (SIZE_SMOOTH), read with linear interpolation; once there,
   the lengths are whole again, so the interpolation costs no highs (its
   low-pass would shorten the tail by some 12 %).  Each line's gain is
   10^(-3 length / (rate RT60)), with RT60 = 0.2 s * 40^decay: 0.2 s at 0,
   1.26 s at 0.5, 8 s at 1 (measured within 10 %, see the test, with
   damp 0; damping shortens the tail of the highs).  All buffers live at
   the end of the state (no pointers: hot swaps copy state), sized for the
   graph's sample rate.
*/

enum { IN_LEFT, IN_RIGHT };
enum { OUT_LEFT, OUT_RIGHT };
enum { P_SIZE, P_DECAY, P_DAMP, P_MIX };

#define N_LINES   8u
#define N_AP      4u
#define BASE_RATE 48000.0
#define MAX_LINE  4507u /* longest of line_base */
#define MAX_AP    419u  /* longest of ap_base */

/* Samples of a buffer holding `longest` samples at BASE_RATE, at `rate`,
   + 8 for interpolation and rounding. */
static uint32_t
buffer_length(const uint32_t longest, const float rate)
{
  return (uint32_t)ceil((double)longest * (double)rate / BASE_RATE) + 8u;
}

#define SIZE_MIN    0.25 /* length scale at size 0 */
#define RT60_MIN    0.2  /* seconds at decay 0 */
#define RT60_RATIO  40.0 /* RT60 at decay 1 over RT60 at decay 0 */
#define AP_GAIN     0.6f
#define DAMP_FC_MAX 16000.0 /* damp just above 0; 0 turns damping off */
#define DAMP_FC_MIN 1000.0  /* damp 1 */
/* Wet level: at the defaults (size 0.5, decay 0.5) the reverb of a unit
   impulse then has the energy of the impulse (measured), so steady sounds
   keep their level; longer decays and smaller rooms are louder. */
#define WET_GAIN 0.19f

/* A size change glides over about this long (bends the tail's pitch a
   little instead of clicking). */
#define SIZE_SMOOTH 0.1
#define MIX_SMOOTH  0.005

/* Inputs are clipped here (non-finite ones zeroed) so the network stays
   finite; values below DENORMAL_FLOOR are flushed in the loops. */
#define LIMIT          1e6f
#define DENORMAL_FLOOR 1e-20f
/* A tail below this (-140 dB) has decayed: see reverb_quiet. */
#define QUIET_LEVEL 1e-7f

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

/* Samples at 48 kHz, size 1: distinct primes, so echoes rarely meet. */
static const double line_base[N_LINES] = {
  1511.0, 1759.0, 2063.0, 2411.0, 2819.0, 3299.0, 3851.0, 4507.0,
};
static const double ap_base[2][N_AP] = {
  { 241.0, 173.0, 401.0, 307.0 },
  { 251.0, 163.0, 419.0, 293.0 },
};
/* Output sign patterns: rows of the Hadamard matrix, orthogonal. */
static const float out_sign[2][N_LINES] = {
  { 1.0f, -1.0f, 1.0f, -1.0f, 1.0f, -1.0f, 1.0f, -1.0f },
  { 1.0f, 1.0f, -1.0f, -1.0f, 1.0f, 1.0f, -1.0f, -1.0f },
};

typedef struct {
  float    lp[N_LINES];   /* damping low-pass states */
  float    gain[N_LINES]; /* per-pass gain of each line */
  uint32_t ap_delay[2][N_AP];
  double   delay[N_LINES];  /* smoothed line lengths, samples */
  double   target[N_LINES]; /* whole lengths `delay` glides to */
  double   mix;             /* smoothed mix param */
  double   size_coef;       /* one-pole coefficients for `rate` */
  double   mix_coef;        /* ... */
  double   line_unit;       /* rate / BASE_RATE */
  float    damp_a;          /* low-pass coefficient; 1 = off */
  float    size;            /* params the cached values are for */
  float    decay;
  float    damp;
  float    rate;
  uint32_t line_pos; /* next slot to write, lines */
  uint32_t ap_pos;   /* ... allpasses */
  uint32_t line_len; /* samples per line */
  uint32_t ap_len;   /* samples per allpass */
  uint32_t zeros;    /* samples in a row that wrote only zeros */
  float    buf[];    /* N_LINES lines, then 2 x N_AP allpasses */
} ReverbState;

static size_t
reverb_state_size(const float rate)
{
  return sizeof(ReverbState) +
         ((size_t)N_LINES * buffer_length(MAX_LINE, rate) +
          2u * N_AP * buffer_length(MAX_AP, rate)) *
           sizeof(float);
}

static inline float*
line_of(ReverbState* const s, const uint32_t k)
{
  return s->buf + (size_t)k * s->line_len;
}

/* The N_AP allpasses of channel `c`, one after the other. */
static inline float*
allpasses_of(ReverbState* const s, const uint32_t c)
{
  return s->buf + (size_t)N_LINES * s->line_len + (size_t)c * N_AP * s->ap_len;
}

static const ChPortInfo inputs[] = {
  { "left", CH_SIGNAL_AUDIO, "left (or mono: patch it into both) input" },
  { "right", CH_SIGNAL_AUDIO, "right input" },
};

static const ChPortInfo outputs[] = {
  { "left", CH_SIGNAL_AUDIO, "left dry and reverb" },
  { "right", CH_SIGNAL_AUDIO, "right dry and reverb" },
};

static const ChParamInfo params[] = {
  { "size", "", 0.0f, 1.0f, 0.5f,
    "room size: line lengths from 25 % (0) to 100 % (1); glides", NULL },
  { "decay", "", 0.0f, 1.0f, 0.5f,
    "decay time RT60 = 0.2 s * 40^decay: 0.2 s, 1.3 s (0.5), 8 s (1)", NULL },
  { "damp", "", 0.0f, 1.0f, 0.4f,
    "high-frequency damping in the tail: 0 off, 1 strongest", NULL },
  { "mix", "", 0.0f, 1.0f, 0.25f, "0 dry only, 1 reverb only (smoothed, 5 ms)",
    NULL },
};

/* Whole length of a line in samples for `size`, kept inside its buffer
   (the linear interpolation reads one sample older). */
static double
line_delay(const double   base,
           const double   unit,
           const float    size,
           const uint32_t length)
{
  const double s     = fmin(fmax((double)size, 0.0), 1.0); /* NaN -> 0 */
  const double scale = SIZE_MIN + (1.0 - SIZE_MIN) * s;
  return fmin(fmax(floor(base * unit * scale + 0.5), 2.0),
              (double)length - 2.0);
}

static void
update_params(ReverbState* const s, const float* const p, const float rate)
{
  const int new_rate = rate != s->rate; /* also true for zeroed state */
  if (new_rate) {
    s->rate      = rate;
    s->size_coef = ch_one_pole_coef(SIZE_SMOOTH, rate);
    s->mix_coef  = ch_one_pole_coef(MIX_SMOOTH, rate);
    s->line_unit = (double)rate / BASE_RATE;
    s->line_len  = buffer_length(MAX_LINE, rate);
    s->ap_len    = buffer_length(MAX_AP, rate);
    for (uint32_t c = 0; c < 2; ++c) {
      for (uint32_t j = 0; j < N_AP; ++j) {
        const double d    = floor(ap_base[c][j] * s->line_unit + 0.5);
        s->ap_delay[c][j] = (uint32_t)fmin(fmax(d, 1.0), s->ap_len - 1.0);
      }
    }
  }
  if (new_rate || p[P_DAMP] != s->damp) {
    s->damp = p[P_DAMP];
    if (!(s->damp > 0.0f)) {
      s->damp_a = 1.0f;
    } else {
      const double d  = fmin((double)s->damp, 1.0);
      const double fc = DAMP_FC_MAX * pow(DAMP_FC_MIN / DAMP_FC_MAX, d);
      s->damp_a       = (float)(1.0 - exp(-2.0 * M_PI * fc / (double)rate));
    }
  }
  if (new_rate || p[P_SIZE] != s->size || p[P_DECAY] != s->decay) {
    /* gains for the lengths the size glides to */
    s->size            = p[P_SIZE];
    s->decay           = p[P_DECAY];
    const double decay = fmin(fmax((double)s->decay, 0.0), 1.0);
    const double rt60  = RT60_MIN * pow(RT60_RATIO, decay);
    for (uint32_t i = 0; i < N_LINES; ++i) {
      const double len =
        line_delay(line_base[i], s->line_unit, s->size, s->line_len);
      s->target[i] = len;
      s->gain[i]   = (float)pow(10.0, -3.0 * len / ((double)rate * rt60));
    }
  }
}

static void
reverb_init(const ChNode* const node)
{
  ReverbState* const s = (ReverbState*)node->state;
  update_params(s, node->param, node->ctx->rate);
  /* start at the set values: no glide or fade-in on load */
  for (uint32_t i = 0; i < N_LINES; ++i) {
    s->delay[i] = s->target[i];
  }
  s->mix = (double)node->param[P_MIX];
}

static inline float
flush(const float x)
{
  return fabsf(x) < DENORMAL_FLOOR ? 0.0f : x;
}

static inline float
sanitize(const float x)
{
  return isfinite(x) ? fminf(fmaxf(x, -LIMIT), LIMIT) : 0.0f;
}

/* Four Schroeder allpasses in series: w = x + g w[-D], y = w[-D] - g w. */
static inline float
diffuse(float* const          aps,
        const uint32_t        len,
        const uint32_t* const delay,
        const uint32_t        pos,
        float                 x,
        uint32_t* const       wrote)
{
  for (uint32_t j = 0; j < N_AP; ++j) {
    float* const   ap  = aps + (size_t)j * len;
    const uint32_t d   = delay[j];
    const float    old = ap[pos >= d ? pos - d : pos + len - d];
    const float    w   = flush(x + AP_GAIN * old);
    ap[pos]            = w;
    *wrote |= fabsf(w) > QUIET_LEVEL;
    x = old - AP_GAIN * w;
  }
  return x;
}

/* 8-point fast Walsh-Hadamard transform, scaled to be orthonormal. */
static inline void
hadamard(float* const v)
{
  for (uint32_t h = 1; h < N_LINES; h *= 2) {
    for (uint32_t i = 0; i < N_LINES; i += 2 * h) {
      for (uint32_t j = i; j < i + h; ++j) {
        const float a = v[j];
        const float b = v[j + h];
        v[j]          = a + b;
        v[j + h]      = a - b;
      }
    }
  }
  const float norm = 0.35355339059327376f; /* 1 / sqrt(8) */
  for (uint32_t i = 0; i < N_LINES; ++i) {
    v[i] *= norm;
  }
}

/* Read every line `delay[k]` samples behind `lpos` (smoothing the delays
   towards their targets), into `y`; the damped, scaled feedback into `v`. */
static CH_REALTIME inline void
read_lines(ReverbState* const s,
           const uint32_t     lpos,
           const double       sc,
           const float        damp_a,
           float* const       y,
           float* const       v)
{
  const uint32_t llen = s->line_len;
  for (uint32_t k = 0; k < N_LINES; ++k) {
    /* landing on the target makes it whole again: no interpolation loss */
    const double d    = ch_smooth_step(s->delay[k], s->target[k], sc);
    s->delay[k]       = d;
    const double   fl = floor(d);
    const float    t  = (float)(d - fl);
    const uint32_t dk = (uint32_t)fl;
    const uint32_t i0 = lpos >= dk ? lpos - dk : lpos + llen - dk;
    const uint32_t i1 = i0 ? i0 - 1u : llen - 1u;
    const float*   ln = line_of(s, k);
    y[k]              = ln[i0] + t * (ln[i1] - ln[i0]);
    s->lp[k]          = flush(s->lp[k] + damp_a * (y[k] - s->lp[k]));
    v[k]              = s->gain[k] * s->lp[k];
  }
}

/* Write the feedback plus the diffused input (left into even lines, right
   into odd) at `lpos`; nonzero if anything audible was written. */
static CH_REALTIME inline uint32_t
write_lines(ReverbState* const s,
            const uint32_t     lpos,
            const float* const v,
            const float        d_l,
            const float        d_r)
{
  uint32_t wrote = 0;
  for (uint32_t k = 0; k < N_LINES; ++k) {
    const float w       = flush(v[k] + ((k & 1u) ? d_r : d_l));
    line_of(s, k)[lpos] = w;
    wrote |= fabsf(w) > QUIET_LEVEL;
  }
  return wrote;
}

/* The wet signal of channel `c`: the lines summed with its signs. */
static CH_REALTIME inline float
wet(const float* const y, const uint32_t c)
{
  float sum = 0.0f;
  for (uint32_t k = 0; k < N_LINES; ++k) {
    sum += out_sign[c][k] * y[k];
  }
  return sum;
}

static CH_REALTIME void
reverb_process(const ChNode* const node, const uint32_t n)
{
  ReverbState* const s     = (ReverbState*)node->state;
  const float* const p     = node->param;
  const float* const in_l  = node->in[IN_LEFT];
  const float* const in_r  = node->in[IN_RIGHT];
  float* const       out_l = node->out[OUT_LEFT];
  float* const       out_r = node->out[OUT_RIGHT];
  const float        rate  = node->ctx->rate;

  update_params(s, p, rate);

  const double   mix_to = (double)p[P_MIX];
  const double   sc     = s->size_coef;
  const double   mc     = s->mix_coef;
  const float    damp_a = s->damp_a;
  double         mix    = s->mix;
  uint32_t       lpos   = s->line_pos;
  uint32_t       apos   = s->ap_pos;
  const uint32_t llen   = s->line_len;
  const uint32_t alen   = s->ap_len;
  uint32_t       zeros  = s->zeros;

  for (uint32_t i = 0; i < n; ++i) {
    /* smoothers run per sample, so blocks do not matter */
    mix = ch_smooth_step(mix, mix_to, mc);

    /* read the lines (before this sample's write) */
    float y[N_LINES];
    float v[N_LINES];
    read_lines(s, lpos, sc, damp_a, y, v);
    hadamard(v);

    const float x_l   = in_l[i];
    const float x_r   = in_r[i];
    uint32_t    wrote = 0;
    const float d_l   = diffuse(allpasses_of(s, 0), alen, s->ap_delay[0], apos,
                                sanitize(x_l), &wrote);
    const float d_r   = diffuse(allpasses_of(s, 1), alen, s->ap_delay[1], apos,
                                sanitize(x_r), &wrote);
    wrote |= write_lines(s, lpos, v, d_l, d_r);
    zeros = wrote ? 0u : zeros + (zeros < llen);
    lpos  = lpos + 1u == llen ? 0u : lpos + 1u;
    apos  = apos + 1u == alen ? 0u : apos + 1u;

    const float m = (float)mix;
    out_l[i]      = x_l * (1.0f - m) + WET_GAIN * wet(y, 0) * m;
    out_r[i]      = x_r * (1.0f - m) + WET_GAIN * wet(y, 1) * m;
  }

  s->mix      = mix;
  s->line_pos = lpos;
  s->ap_pos   = apos;
  s->zeros    = zeros;
}

/* At rest once every line and allpass holds only what is below
   QUIET_LEVEL (a full line length of samples wrote nothing louder, and
   the allpasses are shorter), so do the damping filters, and the glides
   have landed for the present params: silence in then gives out less
   than -130 dBFS, which sleeping drops, and what stays in the buffers
   (below -140 dB) is heard, if ever, under the next sound. */
static CH_REALTIME int
reverb_quiet(const ChNode* const node)
{
  const ReverbState* const s = (const ReverbState*)node->state;
  const float* const       p = node->param;
  if (s->zeros < s->line_len || s->rate != node->ctx->rate ||
      p[P_SIZE] != s->size || p[P_DECAY] != s->decay || p[P_DAMP] != s->damp ||
      s->mix != (double)p[P_MIX]) {
    return 0;
  }
  for (uint32_t k = 0; k < N_LINES; ++k) {
    if (fabsf(s->lp[k]) > QUIET_LEVEL || s->delay[k] != s->target[k]) {
      return 0;
    }
  }
  return 1;
}

const ChKind ch_kind_reverb = {
  CH_KIND_USUAL(reverb, ReverbState),
  .doc   = "stereo reverb: eight-line feedback delay network with damping",
  .flags = CH_KIND_GLOBAL,
  .state_size_at = reverb_state_size,
  .quiet         = reverb_quiet,
};
