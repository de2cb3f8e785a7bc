/* The `sh` module: sample & hold, with an optional glide to each new value. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

/*
   A rising edge on `trig` (crossing 0.5) takes `in` of that very sample;
   the value is held until the next edge.  With glide, the output follows
   the held value through a one-pole lag (time constant `glide`), so a
   stepped random pitch turns into portamento.  The lag runs in double: a
   float one would stall short of its target.
*/

enum { IN_IN, IN_TRIG };
enum { P_GLIDE };

/* Once this close, the glide lands on its target (no denormal tail). */
#define GLIDE_SNAP 1e-7

typedef struct {
  double   out;   /* output, gliding towards `held` */
  double   coef;  /* one-pole coefficient, 1 for no glide */
  float    held;  /* the sampled value */
  float    glide; /* param and rate `coef` was computed for */
  float    rate;
  uint32_t trig_was;
} ShState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_CV, "signal to sample" },
  { "trig", CH_SIGNAL_GATE, "a rising edge samples `in` on that sample" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_CV, "the held value (gliding to it with glide > 0)" },
};

static const ChParamInfo params[] = {
  { "glide", "s", 0.0f, 2.0f, 0.0f,
    "time constant of the glide to a new value (63 % of the way); 0 jumps",
    NULL },
};

static void
update_coef(ShState* const s, const float glide, const float rate)
{
  if (glide != s->glide || rate != s->rate || s->coef == 0.0) {
    s->glide = glide;
    s->rate  = rate;
    /* !(x > 0) also catches NaN: no glide rather than a stuck output */
    s->coef = !(glide > 0.0f) ? 1.0 : ch_one_pole_coef((double)glide, rate);
  }
}

static void
sh_init(const ChNode* const node)
{
  update_coef((ShState*)node->state, node->param[P_GLIDE], node->ctx->rate);
}

static CH_REALTIME void
sh_process(const ChNode* const node, const uint32_t n)
{
  ShState* const     s    = (ShState*)node->state;
  const float* const in   = node->in[IN_IN];
  const float* const trig = node->in[IN_TRIG];
  float* const       out  = node->out[0];

  update_coef(s, node->param[P_GLIDE], node->ctx->rate);

  const double coef     = s->coef;
  double       y        = s->out;
  float        held     = s->held;
  uint32_t     trig_was = s->trig_was;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t t = trig[i] > 0.5f;
    if (t && !trig_was && isfinite(in[i])) { /* a NaN or inf keeps the old */
      held = in[i];
    }
    trig_was = t;
    if (coef >= 1.0) {
      y = (double)held;
    } else if (y != (double)held) {
      y += coef * ((double)held - y);
      if (fabs((double)held - y) < GLIDE_SNAP) {
        y = (double)held;
      }
    }
    out[i] = (float)y;
  }
  s->out      = y;
  s->held     = held;
  s->trig_was = trig_was;
}

const ChKind ch_kind_sh = {
  CH_KIND_USUAL(sh, ShState),
  .doc = "sample & hold: takes the input on each rising trigger edge",
};
