/* The `math` module: arithmetic on two signals, then scale and offset. */
#include "../kind.h"
#include "smooth.h"

#include <math.h>

enum { IN_A, IN_B };
enum { P_OP, P_SCALE, P_OFFSET };
enum { OP_ADD, OP_SUBTRACT, OP_MULTIPLY, OP_MIN, OP_MAX, OP_ABS, N_OPS };

typedef struct {
  double     scale;  /* smoothed params */
  double     offset; /* ... */
  ChSmoother smooth; /* coefficient of the parameter glides */
} MathState;

static const ChPortInfo inputs[] = {
  { "a", CH_SIGNAL_CV, "first operand" },
  { "b", CH_SIGNAL_CV, "second operand (unused by abs)" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_CV, "op(a, b) * scale + offset" },
};

static const char* const op_names[] = {
  "add", "subtract", "multiply", "min", "max", "abs", NULL,
};

static const ChParamInfo params[] = {
  { "op", "", 0.0f, (float)(N_OPS - 1), 0.0f,
    "a + b, a - b, a * b (ring modulation), min(a, b), max(a, b) or |a|",
    op_names },
  { "scale", "", -10.0f, 10.0f, 1.0f, "multiplies the result (smoothed, 5 ms)",
    NULL },
  { "offset", "", -10.0f, 10.0f, 0.0f, "added after scaling (smoothed, 5 ms)",
    NULL },
};

static void
math_init(const ChNode* const node)
{
  MathState* const s = (MathState*)node->state;
  ch_smoother_coef(&s->smooth, node->ctx->rate);
  s->scale  = (double)node->param[P_SCALE]; /* start at the values */
  s->offset = (double)node->param[P_OFFSET];
}

/* One operation over a block; the switch stays outside the loop. */
static void
apply_op(const int          op,
         const float* const a,
         const float* const b,
         float* const       out,
         const uint32_t     n)
{
  switch (op) {
  case OP_ADD:
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = a[i] + b[i];
    }
    break;
  case OP_SUBTRACT:
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = a[i] - b[i];
    }
    break;
  case OP_MULTIPLY:
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = a[i] * b[i];
    }
    break;
  case OP_MIN:
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = fminf(a[i], b[i]);
    }
    break;
  case OP_MAX:
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = fmaxf(a[i], b[i]);
    }
    break;
  default:
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = fabsf(a[i]);
    }
    break;
  }
}

static CH_REALTIME void
math_process(const ChNode* const node, const uint32_t n)
{
  MathState* const s      = (MathState*)node->state;
  float* const     out    = node->out[0];
  const float      scale  = node->param[P_SCALE];
  const float      offset = node->param[P_OFFSET];

  ch_smoother_coef(&s->smooth, node->ctx->rate);

  /* round and clamp: an enum param is a float on the wire */
  const float op_f = node->param[P_OP];
  const int   op   = op_f >= (float)(N_OPS - 1) ? N_OPS - 1
                     : op_f > 0.0f              ? (int)lrintf(op_f)
                                                : 0;
  apply_op(op, node->in[IN_A], node->in[IN_B], out, n);

  if (s->scale == (double)scale && s->offset == (double)offset) {
    /* no shortcut for scale 1, offset 0: -0 + 0 is +0, and the smoothed
       path below must give the same bits */
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = out[i] * scale + offset;
    }
    return;
  }

  const double coef = s->smooth.coef;
  double       sc   = s->scale;
  double       of   = s->offset;
  for (uint32_t i = 0; i < n; ++i) {
    /* per sample, so the result does not depend on the block size */
    sc     = ch_smooth_step(sc, scale, coef);
    of     = ch_smooth_step(of, offset, coef);
    out[i] = out[i] * (float)sc + (float)of;
  }
  s->scale  = sc;
  s->offset = of;
}

const ChKind ch_kind_math = {
  CH_KIND_USUAL(math, MathState),
  .doc = "arithmetic: out = op(a, b) * scale + offset",
};
