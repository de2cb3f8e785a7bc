/* The `slew` module: a slew limiter (glide) with separate rise and fall. */
#include "../kind.h"

#include <math.h>

/*
   linear: the output moves towards the input at most 1 / rise units per
   second going up and 1 / fall going down, so a jump of 2 takes 2 * rise
   seconds.  exponential: a one-pole lag whose time constant is rise going
   up and fall going down (63 % of any jump in that time, 95 % in three).
   0 passes the input through.  The output runs in double: steps of 1e-6
   per sample would stall a float.
*/

enum { P_RISE, P_FALL, P_MODE };
enum { LINEAR, EXPONENTIAL };

/* Once this close, the exponential lag lands on its target. */
#define SNAP 1e-7
/* Input beyond this is taken as this: an infinite target would make the
   exponential lag infinite and then NaN. */
#define IN_LIMIT 1e9f

typedef struct {
  double out;
  double up;   /* linear: largest step up per sample; exponential: coef */
  double down; /* the same, going down */
  float  rise; /* params and rate the steps were computed for */
  float  fall;
  float  mode;
  float  rate;
  float  target; /* last finite input: a NaN input holds it */
} SlewState;

static const ChPortInfo inputs[] = {
  { "in", CH_SIGNAL_CV, "signal to follow" },
};

static const ChPortInfo outputs[] = {
  { "out", CH_SIGNAL_CV, "the input, its rises and falls slowed" },
};

static const char* const modes[] = { "linear", "exponential", NULL };

static const ChParamInfo params[] = {
  { "rise", "s", 0.0f, 10.0f, 0.05f,
    "going up: seconds per unit (linear) or time constant (exponential)",
    NULL },
  { "fall", "s", 0.0f, 10.0f, 0.05f,
    "going down: seconds per unit (linear) or time constant (exponential)",
    NULL },
  { "mode", "", 0.0f, 1.0f, 0.0f,
    "linear: constant speed; exponential: slows as it nears the input", modes },
};

/* One time param as a per-sample step (linear) or coefficient; INFINITY or
   1 for a time of 0 (or NaN): the output follows at once. */
static double
step_for(const float seconds, const int exponential, const double rate)
{
  if (!(seconds > 0.0f)) {
    return exponential ? 1.0 : INFINITY;
  }
  const double samples = (double)seconds * rate;
  return exponential ? 1.0 - exp(-1.0 / samples) : 1.0 / samples;
}

static void
update_steps(SlewState* const s, const float* const param, const float rate)
{
  if (param[P_RISE] != s->rise || param[P_FALL] != s->fall ||
      param[P_MODE] != s->mode || rate != s->rate) {
    s->rise        = param[P_RISE];
    s->fall        = param[P_FALL];
    s->mode        = param[P_MODE];
    s->rate        = rate;
    const int expo = s->mode >= 0.5f;
    s->up          = step_for(s->rise, expo, (double)rate);
    s->down        = step_for(s->fall, expo, (double)rate);
  }
}

static void
slew_init(const ChNode* const node)
{
  SlewState* const s = (SlewState*)node->state;
  s->rate            = -1.0f; /* computes the steps even for zero params */
  update_steps(s, node->param, node->ctx->rate);
}

static CH_REALTIME void
slew_process(const ChNode* const node, const uint32_t n)
{
  SlewState* const   s   = (SlewState*)node->state;
  const float* const in  = node->in[0];
  float* const       out = node->out[0];

  update_steps(s, node->param, node->ctx->rate);

  const double up     = s->up;
  const double down   = s->down;
  double       y      = s->out;
  float        target = s->target;
  if (s->mode >= 0.5f) {
    for (uint32_t i = 0; i < n; ++i) {
      if (in[i] == in[i]) { /* not NaN */
        target = fminf(fmaxf(in[i], -IN_LIMIT), IN_LIMIT);
      }
      const double d = (double)target - y;
      y += (d > 0.0 ? up : down) * d;
      if (fabs((double)target - y) < SNAP) {
        y = (double)target;
      }
      out[i] = (float)y;
    }
  } else {
    for (uint32_t i = 0; i < n; ++i) {
      if (in[i] == in[i]) {
        target = fminf(fmaxf(in[i], -IN_LIMIT), IN_LIMIT);
      }
      const double d = (double)target - y;
      y              = d > up ? y + up : d < -down ? y - down : (double)target;
      out[i]         = (float)y;
    }
  }
  s->out    = y;
  s->target = target;
}

const ChKind ch_kind_slew = {
  CH_KIND_USUAL(slew, SlewState),
  .doc = "slew limiter: glides to the input at set rise and fall speeds",
};
