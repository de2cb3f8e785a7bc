/* The `pan` module: an equal-power (sine/cosine law) mono-to-stereo panner. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

/*
   p = pan param + pan input, clamped to -1..1, sets the angle
   a = (p + 1) pi / 4, and left = cos a, right = sin a: the power
   left^2 + right^2 stays 1 everywhere, so a sound keeps its loudness as
   it moves, and the centre gives -3 dB on each side.  The pan and level
   params are smoothed (5 ms) like the vca gain; cos and sin are only
   recomputed when the total pan moves.
*/

enum { IN_IN, IN_PAN };
enum { OUT_LEFT, OUT_RIGHT };
enum { P_PAN, P_LEVEL };

#define QUARTER_PI 0.78539816339744831

typedef struct {
  double     pan; /* smoothed params */
  double     level;
  ChSmoother smooth; /* coefficient of the parameter glides */
  float      p;      /* total pan the gains are for */
  float      left;   /* cos a */
  float      right;  /* sin a */
} PanState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_AUDIO, "signal to place" },
  { "pan", CH_SIGNAL_CV, "added to the pan param (total clamped -1..1)" },
};

static const ChPortInfo outputs[] = {
  { "left", CH_SIGNAL_AUDIO, "in * level * cos((pan + 1) pi / 4)" },
  { "right", CH_SIGNAL_AUDIO, "in * level * sin((pan + 1) pi / 4)" },
};

static const ChParamInfo params[] = {
  { "pan", "", -1.0f, 1.0f, 0.0f,
    "position: -1 left, 0 centre (-3 dB each side), 1 right (smoothed)", NULL },
  { "level", "", 0.0f, 2.0f, 1.0f, "gain (smoothed, 5 ms)", NULL },
};

static void
set_pan(PanState* const s, const float p)
{
  const double a = ((double)p + 1.0) * QUARTER_PI;
  s->p           = p;
  s->left        = (float)cos(a);
  s->right       = (float)sin(a);
}

static void
pan_init(const ChNode* const node)
{
  PanState* const s = (PanState*)node->state;
  ch_smoother_coef(&s->smooth, node->ctx->rate);
  s->pan   = (double)node->param[P_PAN]; /* start at the values */
  s->level = (double)node->param[P_LEVEL];
  set_pan(s, 0.0f);
}

static CH_REALTIME void
pan_process(const ChNode* const node, const uint32_t n)
{
  PanState* const    s     = (PanState*)node->state;
  const float* const in    = node->in[IN_IN];
  const float* const cv    = node->in[IN_PAN];
  float* const       left  = node->out[OUT_LEFT];
  float* const       right = node->out[OUT_RIGHT];
  const float* const param = node->param;

  ch_smoother_coef(&s->smooth, node->ctx->rate);

  const double coef  = s->smooth.coef;
  double       pan   = s->pan;
  double       level = s->level;
  for (uint32_t i = 0; i < n; ++i) {
    pan           = ch_smooth_step(pan, param[P_PAN], coef);
    level         = ch_smooth_step(level, param[P_LEVEL], coef);
    const float c = cv[i] == cv[i] ? cv[i] : 0.0f; /* NaN: no offset */
    const float p = fminf(fmaxf((float)pan + c, -1.0f), 1.0f);
    if (p != s->p) {
      set_pan(s, p);
    }
    const float x = in[i] * (float)level;
    left[i]       = x * s->left;
    right[i]      = x * s->right;
  }
  s->pan   = pan;
  s->level = level;
}

const ChKind ch_kind_pan = {
  CH_KIND_USUAL(pan, PanState),
  .doc = "equal-power panner: mono in, left and right out",
};
