/* The `voice` module: the note the host plays, as signals. */
#include "../kind.h"

enum { OUT_PITCH, OUT_GATE, OUT_VELOCITY, OUT_TRIG, OUT_MOD, OUT_AFTERTOUCH };
enum { P_GATE, P_TRANSPOSE };

typedef struct {
  uint32_t trigger; /* host->trigger when last seen */
} VoiceState;

static const ChPortInfo outputs[] = {
  { "pitch", CH_SIGNAL_CV,
    "note pitch + bend + transpose, 1.0/octave, 0 = C4" },
  { "gate", CH_SIGNAL_GATE, "1 while a note is held or the gate param is on" },
  { "velocity", CH_SIGNAL_CV, "velocity of the latest note, 0..1" },
  { "trig", CH_SIGNAL_GATE, "1 for one sample when a note starts" },
  { "mod", CH_SIGNAL_CV, "mod wheel, 0..1" },
  { "aftertouch", CH_SIGNAL_CV, "channel pressure, 0..1" },
};

static const ChParamInfo params[] = {
  { "gate", "", 0.0f, 1.0f, 0.0f,
    "manual gate, OR'ed with the host's (set by ch:Gate)", NULL },
  { "transpose", "oct", -4.0f, 4.0f, 0.0f, "added to the pitch", NULL },
};

static void
fill(float* const out, const float value, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = value;
  }
}

/*
   The host writes its inputs between sub-blocks, at event frames, so each
   is constant over one call.  A trigger counter that moved since the last
   call starts a note: one pulse on the first sample.  A change seen with
   no note held is only remembered: that is a counter this module missed
   (a fresh module swapped in after priming on no-note input), and pulsing
   it would fire envelopes with no note.
*/
static CH_REALTIME void
voice_process(const ChNode* const node, const uint32_t n)
{
  VoiceState* const         s         = (VoiceState*)node->state;
  const ChHostInputs* const host      = node->ctx->host;
  const float* const        param     = node->param;
  float* const* const       out       = node->out;
  const int                 host_gate = host->gate > 0.5f;
  const int                 gate      = host_gate || param[P_GATE] > 0.5f;

  fill(out[OUT_PITCH], host->pitch + param[P_TRANSPOSE], n);
  fill(out[OUT_GATE], gate ? 1.0f : 0.0f, n);
  fill(out[OUT_VELOCITY], host->velocity, n);
  fill(out[OUT_TRIG], 0.0f, n);
  fill(out[OUT_MOD], host->mod, n);
  fill(out[OUT_AFTERTOUCH], host->aftertouch, n);

  if (host->trigger != s->trigger) {
    s->trigger = host->trigger;
    if (host_gate) {
      out[OUT_TRIG][0] = 1.0f;
    }
  }
}

const ChKind ch_kind_voice = {
  "voice",
  "the played note: pitch, gate, velocity, trigger, mod wheel, aftertouch",
  NULL,
  0,
  outputs,
  CH_COUNT(outputs),
  params,
  CH_COUNT(params),
  sizeof(VoiceState),
  NULL,
  voice_process,
};
