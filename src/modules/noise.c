/* The `noise` module kind: white and pink noise, same RMS in both colours. */
#include "../kind.h"
#include "dcblock.h"
#include "random.h"

#include <stdatomic.h>
#include <stdint.h>

/* 1 / RMS gain of Paul Kellet's refined pink filter for white input
   (3.0525275, the root of the energy of its impulse response), 2.880284
   with the 5 Hz DC blocker after it (measured at 48 kHz over ten minutes;
   2.5 % more at 96 kHz), so pink has the same RMS as white:
   1/sqrt(3) = 0.577 * level. */
#define CH_NOISE_PINK_NORM (1.0f / 2.880284f)

enum { CH_NOISE_P_COLOR, CH_NOISE_P_LEVEL };

enum { CH_NOISE_WHITE, CH_NOISE_PINK };

typedef struct {
  uint32_t  rng;  /* xorshift32 state, never 0 */
  float     b[7]; /* Kellet's filter states */
  ChDcBlock dc;   /* pink's subsonic end (its filter flattens below 9 Hz) */
} ChNoiseState;

static const ChPortInfo ch_noise_outputs[] = {
  { "out", CH_SIGNAL_AUDIO, "noise, RMS 0.577 * level in both colours" },
};

static const char* const ch_noise_colors[] = { "white", "pink", NULL };

static const ChParamInfo ch_noise_params[] = {
  { "color", "", 0.0f, 1.0f, 0.0f,
    "white: uniform in [-level, level); pink: -3 dB/octave, same RMS, "
    "nothing below 5 Hz",
    ch_noise_colors },
  { "level", "", 0.0f, 1.0f, 1.0f, "output level", NULL },
};

/* Instances created in the same order get the same seeds in every run, so
   renders are reproducible, while two noise modules in one patch differ. */
static atomic_uint ch_noise_instances;

static void
ch_noise_init(const ChNode* const node)
{
  ChNoiseState* const s = (ChNoiseState*)node->state;

  const uint32_t count = (uint32_t)atomic_fetch_add(&ch_noise_instances, 1u);
  s->rng               = ch_random_mix(count + CH_RANDOM_SEED);
  if (!s->rng) {
    s->rng = CH_RANDOM_SEED; /* xorshift never leaves 0 */
  }
}

static CH_REALTIME void
ch_noise_process(const ChNode* const node, const uint32_t n)
{
  ChNoiseState* const s     = (ChNoiseState*)node->state;
  float* const        out   = node->out[0];
  const float         level = node->param[CH_NOISE_P_LEVEL];
  const int           pink  = node->param[CH_NOISE_P_COLOR] >= 0.5f;

  uint32_t x = s->rng ? s->rng : CH_RANDOM_SEED; /* zeroed, no init yet */
  ch_dc_setup(&s->dc, CH_DC_CORNER, node->ctx->rate);
  float b0 = s->b[0], b1 = s->b[1], b2 = s->b[2], b3 = s->b[3];
  float b4 = s->b[4], b5 = s->b[5], b6 = s->b[6];

  for (uint32_t i = 0; i < n; ++i) {
    x                 = ch_random_next(x);
    const float white = ch_random_bipolar(x);

    /* Run the pink filter in both colours, so switching colour does not
       restart it from silence with a thump. */
    b0             = 0.99886f * b0 + white * 0.0555179f;
    b1             = 0.99332f * b1 + white * 0.0750759f;
    b2             = 0.96900f * b2 + white * 0.1538520f;
    b3             = 0.86650f * b3 + white * 0.3104856f;
    b4             = 0.55000f * b4 + white * 0.5329522f;
    b5             = -0.7616f * b5 - white * 0.0168980f;
    const float pk = b0 + b1 + b2 + b3 + b4 + b5 + b6 + white * 0.5362f;
    b6             = white * 0.115926f;

    /* blocked in both colours too, so a switch does not step */
    const float sub = ch_dc_step(&s->dc, pk) * CH_NOISE_PINK_NORM;
    out[i]          = (pink ? sub : white) * level;
  }

  s->rng  = x;
  s->b[0] = b0;
  s->b[1] = b1;
  s->b[2] = b2;
  s->b[3] = b3;
  s->b[4] = b4;
  s->b[5] = b5;
  s->b[6] = b6;
}

const ChKind ch_kind_noise = {
  .name = "noise",
  .doc  = "noise source: white (uniform) or pink (Kellet filter), equal RMS",
  CH_KIND_OUTPUTS(ch_noise_outputs),
  CH_KIND_PARAMS(ch_noise_params),
  .state_size = sizeof(ChNoiseState),
  .init       = ch_noise_init,
  .process    = ch_noise_process,
};
