/* Measuring helpers for tests of sound: levels, pitch, spectra, and a
   harness that runs one module kind on its own, without a graph. */
#ifndef CH_TEST_DSP_H
#define CH_TEST_DSP_H

#include "../src/kind.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#  define M_PI 3.14159265358979323846
#endif

static inline double
dsp_rms(const float* x, size_t n)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += (double)x[i] * x[i];
  }
  return n ? sqrt(sum / (double)n) : 0.0;
}

static inline double
dsp_peak(const float* x, size_t n)
{
  double peak = 0.0;
  for (size_t i = 0; i < n; ++i) {
    peak = fmax(peak, fabs((double)x[i]));
  }
  return peak;
}

static inline double
dsp_mean(const float* x, size_t n)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += x[i];
  }
  return n ? sum / (double)n : 0.0;
}

/** n samples of a sine of amplitude `amp` at `freq` Hz into x. */
static inline void
dsp_sine(float* x, size_t n, double amp, double freq, double rate)
{
  for (size_t i = 0; i < n; ++i) {
    x[i] = (float)(amp * sin(2.0 * M_PI * freq * (double)i / rate));
  }
}

/** Whether every sample of x is finite (no NaN, no infinity). */
static inline int
dsp_finite(const float* x, size_t n)
{
  int finite = 1;
  for (size_t i = 0; i < n; ++i) {
    finite &= isfinite(x[i]) != 0;
  }
  return finite;
}

/** Whether every sample of x lies in [lo, hi] (and so is finite). */
static inline int
dsp_within(const float* x, size_t n, float lo, float hi)
{
  int within = 1;
  for (size_t i = 0; i < n; ++i) {
    within &= x[i] >= lo && x[i] <= hi;
  }
  return within;
}

/** What a test that pushes a kind hard watches of its outputs: whether
    every sample stayed finite, and the largest magnitude. */
typedef struct {
  int    finite;
  double peak;
} DspBound;

/** Nothing watched yet. */
static inline DspBound
dsp_bound_start(void)
{
  const DspBound bound = { 1, 0.0 };
  return bound;
}

/** Watch n more samples of x. */
static inline void
dsp_bound_add(DspBound* bound, const float* x, size_t n)
{
  bound->finite &= dsp_finite(x, n);
  bound->peak = fmax(bound->peak, dsp_peak(x, n));
}

/** What the filter tests push a filter with, n samples of each: into `in`
    a +-100 square (7 samples a half-cycle); into its cutoff's `cv` +2
    octaves for the first half, then a jump to anywhere in +-10 octaves
    every sample (rand(), seeded with `seed`). */
static inline void
dsp_pushing_signals(float* in, float* cv, size_t n, unsigned seed)
{
  srand(seed);
  for (size_t i = 0; i < n; ++i) {
    in[i] = (i / 7) % 2 ? 100.0f : -100.0f;
    cv[i] = i < n / 2 ? 2.0f : (float)(rand() % 2001 - 1000) / 100.0f;
  }
}

/** Frequency from rising zero crossings, interpolated; 0 if fewer than 2. */
static inline double
dsp_zero_cross_freq(const float* x, size_t n, double rate)
{
  double first = -1.0;
  double last  = -1.0;
  int    count = 0;
  for (size_t i = 1; i < n; ++i) {
    if (x[i - 1] < 0.0f && x[i] >= 0.0f) {
      const double t = (double)(i - 1) + x[i - 1] / (double)(x[i - 1] - x[i]);
      if (first < 0.0) {
        first = t;
      } else {
        ++count;
      }
      last = t;
    }
  }
  return count ? rate * count / (last - first) : 0.0;
}

/** Amplitude of the component at `freq` (Goertzel, Hann-windowed). */
static inline double
dsp_tone_level(const float* x, size_t n, double freq, double rate)
{
  const double w     = 2.0 * M_PI * freq / rate;
  const double coeff = 2.0 * cos(w);
  double       s1    = 0.0;
  double       s2    = 0.0;
  double       wsum  = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double win = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n);
    const double s0  = x[i] * win + coeff * s1 - s2;
    s2               = s1;
    s1               = s0;
    wsum += win;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return 2.0 * sqrt(fmax(power, 0.0)) / wsum;
}

static inline double
dsp_db(double amplitude)
{
  return 20.0 * log10(fmax(amplitude, 1e-20));
}

/** The 4-term Blackman-Harris window (sidelobes under -92 dB) at sample
    i of n. */
static inline double
dsp_blackman_harris(size_t i, size_t n)
{
  const double t = 2.0 * M_PI * (double)i / (double)n;
  return 0.35875 - 0.48829 * cos(t) + 0.14128 * cos(2.0 * t) -
         0.01168 * cos(3.0 * t);
}

/** Amplitude of the component at `freq` under the Blackman-Harris window
    (sidelobes under -92 dB, so neighbours cannot mask a -100 dB image;
    dsp_tone_level's Hann window stops at -31 dB). */
static inline double
dsp_tone_level_bh(const float* x, size_t n, double freq, double rate)
{
  double re   = 0.0;
  double im   = 0.0;
  double wsum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double w = dsp_blackman_harris(i, n);
    re += x[i] * w * cos(2.0 * M_PI * freq * (double)i / rate);
    im += x[i] * w * sin(2.0 * M_PI * freq * (double)i / rate);
    wsum += w;
  }
  return 2.0 * sqrt(re * re + im * im) / wsum;
}

/** In-place radix-2 FFT of n (a power of 2) complex values. */
static inline void
dsp_fft(double* re, double* im, size_t n)
{
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) {
      j ^= bit;
    }
    j ^= bit;
    if (i < j) {
      double t = re[i];
      re[i]    = re[j];
      re[j]    = t;
      t        = im[i];
      im[i]    = im[j];
      im[j]    = t;
    }
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2.0 * M_PI / (double)len;
    for (size_t i = 0; i < n; i += len) {
      for (size_t k = 0; k < len / 2; ++k) {
        const double wr = cos(ang * (double)k);
        const double wi = sin(ang * (double)k);
        const double ur = re[i + k];
        const double ui = im[i + k];
        const double vr = re[i + k + len / 2] * wr - im[i + k + len / 2] * wi;
        const double vi = re[i + k + len / 2] * wi + im[i + k + len / 2] * wr;
        re[i + k]       = ur + vr;
        im[i + k]       = ui + vi;
        re[i + k + len / 2] = ur - vr;
        im[i + k + len / 2] = ui - vi;
      }
    }
  }
}

/**
   The loudest component of x (n = 2^k samples, Blackman-Harris window:
   sidelobes under -92 dB) that is not a harmonic of f0, between 20 Hz and
   `top` Hz, in dB relative to the loudest harmonic (the fundamental, but
   for curves such as a wavefolder that can bury it).  Bins within 8 of a
   harmonic (its main lobe) are skipped.
*/
static inline double
dsp_alias_db(const float* x, size_t n, double f0, double rate, double top)
{
  double* re = (double*)calloc(n, sizeof(double));
  double* im = (double*)calloc(n, sizeof(double));
  for (size_t i = 0; i < n; ++i) {
    re[i] = x[i] * dsp_blackman_harris(i, n);
  }
  dsp_fft(re, im, n);
  const double bin   = rate / (double)n;
  double       fund  = 0.0;
  double       worst = 0.0;
  for (size_t k = 1; k < n / 2; ++k) {
    const double f   = (double)k * bin;
    const double mag = sqrt(re[k] * re[k] + im[k] * im[k]);
    const double h   = floor(f / f0 + 0.5);
    if (h >= 1.0 && fabs(f - h * f0) <= 8.0 * bin) {
      fund = fmax(fund, mag); /* a harmonic */
      continue;
    }
    if (f >= 20.0 && f <= top) {
      worst = fmax(worst, mag);
    }
  }
  free(re);
  free(im);
  return dsp_db(worst) - dsp_db(fund);
}

/**
   One module kind running alone: inputs and params set by the test,
   outputs read back.  Allocation here is fine: tests are not real-time.
*/
typedef struct {
  const ChKind* kind;
  ChContext     ctx;
  ChHostInputs  host;
  float         left[CH_MAX_BLOCK];
  float         right[CH_MAX_BLOCK];
  void*         state;
  float         params[32];
  float         in_buf[16][CH_MAX_BLOCK];
  float         out_buf[16][CH_MAX_BLOCK];
  const float*  in[16];
  float*        out[16];
  ChNode        node;
} KindHarness;

/** Set a parameter by name; aborts the test program on a wrong name. */
static inline void
harness_set(KindHarness* h, const char* name, float value)
{
  const int i = ch_kind_find_param(h->kind, name);
  if (i < 0) {
    abort();
  }
  h->params[i] = value;
}

/* Set the parameters of a list of pairs of a name and a value (a double),
   ended by NULL. */
static inline void
harness_set_list(KindHarness* h, va_list args)
{
  for (const char* name; (name = va_arg(args, const char*));) {
    harness_set(h, name, (float)va_arg(args, double));
  }
}

/** Set parameters by name, as a patch turns knobs on a running module:
    pairs of a name and a value (a double, as any float passed here is),
    ended by NULL: harness_set_each(h, "cutoff", 800.0, "res", 0.2, NULL). */
static inline void
harness_set_each(KindHarness* h, ...)
{
  va_list args;
  va_start(args, h);
  harness_set_list(h, args);
  va_end(args);
}

/**
   A harness whose parameters are set by name before `init` runs: the
   arguments after `rate` (a double: va_start needs an unpromoted type) are
   pairs of a name and a value (a double, as any float passed here is),
   ended by NULL:
   harness_with(&ch_kind_svf, RATE, "cutoff", 500.0, "res", 0.5, NULL).
*/
static inline KindHarness*
harness_with(const ChKind* kind, double rate, ...)
{
  KindHarness* h          = (KindHarness*)calloc(1, sizeof(KindHarness));
  h->kind                 = kind;
  h->ctx.rate             = (float)rate;
  h->ctx.inv_rate         = 1.0f / h->ctx.rate;
  h->ctx.host             = &h->host;
  h->ctx.out[0]           = h->left;
  h->ctx.out[1]           = h->right;
  const size_t state_size = ch_kind_state_size(kind, h->ctx.rate);
  h->state                = aligned_alloc(64, (state_size + 63) / 64 * 64 + 64);
  memset(h->state, 0, state_size);
  for (uint32_t i = 0; i < kind->n_params; ++i) {
    h->params[i] = kind->params[i].def;
  }
  va_list args;
  va_start(args, rate);
  harness_set_list(h, args);
  va_end(args);
  for (int i = 0; i < 16; ++i) {
    h->in[i]  = h->in_buf[i];
    h->out[i] = h->out_buf[i];
  }
  h->node.state = h->state;
  h->node.in    = h->in;
  h->node.out   = h->out;
  h->node.param = h->params;
  h->node.ctx   = &h->ctx;
  if (kind->init) {
    kind->init(&h->node);
  }
  return h;
}

/** A harness with the kind's default parameters. */
static inline KindHarness*
harness_new(const ChKind* kind, float rate)
{
  return harness_with(kind, rate, (const char*)NULL);
}

/** Fill an input (by name) with a constant for the following blocks. */
static inline float*
harness_input(KindHarness* h, const char* name)
{
  const int i = ch_kind_find_input(h->kind, name);
  if (i < 0) {
    abort();
  }
  return h->in_buf[i];
}

static inline void
harness_const_input(KindHarness* h, const char* name, float value)
{
  float* buf = harness_input(h, name);
  for (uint32_t i = 0; i < CH_MAX_BLOCK; ++i) {
    buf[i] = value;
  }
}

/**
   Run `total` frames in blocks of `block` and copy output `port` (by name)
   into `dest`.  Stereo output modules write ctx.out: pass port NULL and
   `right` to read left/right instead.
*/
static inline void
harness_render(KindHarness* h,
               const char*  port,
               float*       dest,
               size_t       total,
               uint32_t     block,
               float*       right)
{
  const int o = port ? ch_kind_find_output(h->kind, port) : -1;
  if (port && o < 0) {
    abort();
  }
  for (size_t done = 0; done < total;) {
    const uint32_t n =
      (uint32_t)((total - done) < block ? (total - done) : block);
    memset(h->left, 0, sizeof(h->left));
    memset(h->right, 0, sizeof(h->right));
    h->kind->process(&h->node, n);
    if (port) {
      memcpy(dest + done, h->out_buf[o], n * sizeof(float));
    } else {
      memcpy(dest + done, h->left, n * sizeof(float));
      if (right) {
        memcpy(right + done, h->right, n * sizeof(float));
      }
    }
    done += n;
  }
}

/** The block lengths those tests try: one sample, an odd length, a
    power of two, and the longest block. */
static const uint32_t harness_blocks[] = { 1, 17, 64, CH_MAX_BLOCK };

/** A signal wired to a port by harness_run(): an input fed from it, or an
    output copied into it. */
typedef struct {
  const char* port;
  float*      sig;
} HarnessWire;

/**
   Run `total` frames in blocks of `block`: before each block, every input
   of `ins` is filled from its signal; after it, every output of `outs` is
   copied into its signal; both from frame `at` of the signals.  The lists
   end with a NULL port; `outs` may be NULL.
*/
static inline void
harness_run(KindHarness*       h,
            const HarnessWire* ins,
            const HarnessWire* outs,
            size_t             at,
            size_t             total,
            uint32_t           block)
{
  for (size_t done = 0; done < total;) {
    const uint32_t n =
      (uint32_t)((total - done) < block ? (total - done) : block);
    for (const HarnessWire* w = ins; w && w->port; ++w) {
      memcpy(harness_input(h, w->port), w->sig + at + done, n * sizeof(float));
    }
    h->kind->process(&h->node, n);
    for (const HarnessWire* w = outs; w && w->port; ++w) {
      const int o = ch_kind_find_output(h->kind, w->port);
      if (o < 0) {
        abort();
      }
      memcpy(w->sig + at + done, h->out_buf[o], n * sizeof(float));
    }
    done += n;
  }
}

static inline void
harness_free(KindHarness* h)
{
  free(h->state);
  free(h);
}

/** A render the block-length test repeats: the same frames every time, in
    blocks of `block`, of the `variant` the test gives (a shape, a mode: what
    the test loops over, if anything). */
typedef void (*HarnessScene)(int variant, uint32_t block);

/**
   The test that a kind's output does not depend on the block length: run
   `scene` once per length of harness_blocks; each run must leave the same
   `total` frames in every signal of `outs` (ended by a NULL port) as the
   first run did, bit for bit.  Names each output and length that differ
   on stderr; whether none did.
*/
static inline int
harness_same_for_any_block(const HarnessScene scene,
                           const int          variant,
                           const HarnessWire* outs,
                           const size_t       total)
{
  enum { MAX_OUTS = 16 };
  float* first[MAX_OUTS];
  size_t n_outs = 0;
  for (; n_outs < MAX_OUTS && outs[n_outs].port; ++n_outs) {
    first[n_outs] = (float*)malloc(total * sizeof(float));
  }
  int same = 1;
  for (size_t b = 0; b < CH_COUNT(harness_blocks); ++b) {
    scene(variant, harness_blocks[b]);
    for (size_t o = 0; o < n_outs; ++o) {
      if (b == 0) {
        memcpy(first[o], outs[o].sig, total * sizeof(float));
      } else if (memcmp(first[o], outs[o].sig, total * sizeof(float))) {
        fprintf(stderr, "  %s differs in blocks of %u\n", outs[o].port,
                (unsigned)harness_blocks[b]);
        same = 0;
      }
    }
  }
  for (size_t o = 0; o < n_outs; ++o) {
    free(first[o]);
  }
  return same;
}

#endif /* CH_TEST_DSP_H */
