/* The LV2 descriptor and the audio thread: run() swaps graphs at cycle
   starts, renders between events and writes answers to notify. */
#include "chronus.h"

#include "../src/build.h"
#include "../src/registry.h"

#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/options/options.h>
#include <lv2/state/state.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Queue sizes: a Load message may carry a whole patch as text. */
#define INBOX_SIZE  (512u * 1024u)
#define OUTBOX_SIZE (512u * 1024u)
#define TRASH_SIZE  (64u * 1024u)
/* OSC: a flood of small requests; answers up to a /patch/get's text. */
#define OSC_IN_SIZE   (64u * 1024u)
#define OSC_OUT_SIZE  (256u * 1024u)
#define OSC_PER_CYCLE 64u /* requests run() takes per cycle, at most */

static void cleanup(LV2_Handle instance);

/* The host's features we use; false (and logged) without urid:map. */
static bool
take_features(Chronus* const self, const LV2_Feature* const* const features)
{
  for (int i = 0; features && features[i]; ++i) {
    const char* const uri = features[i]->URI;
    if (!strcmp(uri, LV2_URID__map)) {
      self->map = (LV2_URID_Map*)features[i]->data;
    } else if (!strcmp(uri, LV2_URID__unmap)) {
      self->unmap = (LV2_URID_Unmap*)features[i]->data;
    } else if (!strcmp(uri, LV2_WORKER__schedule)) {
      self->schedule = (LV2_Worker_Schedule*)features[i]->data;
    } else if (!strcmp(uri, LV2_LOG__log)) {
      self->logger.log = (LV2_Log_Log*)features[i]->data;
    }
  }
  lv2_log_logger_set_map(&self->logger, self->map);
  if (getenv("CHRONUS_TEST_KINDS")) {
    ch_registry_enable_test_kinds(); /* the fail-safe's tests */
  }
  if (!self->map) {
    lv2_log_error(&self->logger, "chronus: the host gives no urid:map\n");
    return false;
  }
  return true;
}

/* The bundle path with a final '/', or NULL if out of memory. */
static char*
copy_bundle_path(const char* const bundle_path)
{
  const size_t path_len = strlen(bundle_path);
  char* const  copy     = (char*)calloc(1, path_len + 2u);
  if (copy) {
    memcpy(copy, bundle_path, path_len);
    if (!path_len || bundle_path[path_len - 1u] != '/') {
      copy[path_len] = '/';
    }
  }
  return copy;
}

/* Everything that starts at a fixed value: gain, voicing, limiter, flags. */
static void
init_audio_state(Chronus* const self, const double rate)
{
  self->rate        = (float)rate;
  self->program_now = 0;   /* what a new instance plays */
  self->gain_db     = NAN; /* the first port reading sets the gain at once */
  self->gain_target = 1.0f;
  self->gain_now    = 1.0f;
  self->gain_coeff  = 1.0f - expf(-1.0f / (0.01f * self->rate)); /* 10 ms */
  /* At least a frame: a span below the level never fails the graph. */
  self->runaway_limit = (uint32_t)(CH_RUNAWAY_SECONDS * self->rate);
  self->runaway_limit = self->runaway_limit ? self->runaway_limit : 1u;
  ch_voicing_init(&self->voicing, &self->host);
  ch_voicing_set_steal(&self->voicing,
                       (uint32_t)lrint(CH_STEAL_SECONDS * rate));
  /* -0.5 dBFS: close to full scale, with room for inter-sample peaks. */
  ch_limiter_init(&self->limiter, self->rate, CH_LIMITER_CEILING,
                  CH_LIMITER_RELEASE);
  atomic_init(&self->restored, NULL);
  atomic_init(&self->watching, false);
  atomic_init(&self->port_taken, false);
  atomic_init(&self->program_restored, -1);
  atomic_init(&self->program_shown, 0);
  self->program_late    = -1;
  self->activity_next   = UINT32_MAX;
  self->program_started = false;
  self->fade_time       = CH_FADE_DEFAULT;
  self->transport       = (ChTransport){ .beats_per_bar = 4.0, .bpm = 120.0 };
}

/* Macro port `i` reads `data`; without one (never connected, or NULL),
   a copy of the bits it was last acted on, which never moves. */
static void
hold_macro(Chronus* const self, const uint32_t i, const float* const data)
{
  memcpy(&self->macro_held[i], &self->macro_bits[i], sizeof(float));
  self->macro[i] = data ? data : &self->macro_held[i];
}

/* Program 0 (without a bank, an empty, silent patch) built and playing. */
static bool
start_playing(Chronus* const self)
{
  ChError err;
  ch_error_clear(&err);
  if (ch_bank_read(self, 0, self->standby, &err)) {
    lv2_log_error(&self->logger, "chronus: %s\n", err.msg);
  }
  if (ch_model_assign(self->committed, self->standby, &err) ||
      ch_plugin_build(self, self->standby, NULL, &self->active, NULL, &err)) {
    lv2_log_error(&self->logger, "chronus: cannot start: %s\n", err.msg);
    return false;
  }
  self->committed_gen = self->generation;
  ch_voicing_set_voices(&self->voicing, ch_graph_polyphony(self->active));
  return true;
}

static LV2_Handle
instantiate(const LV2_Descriptor* const     descriptor,
            const double                    rate,
            const char* const               bundle_path,
            const LV2_Feature* const* const features)
{
  (void)descriptor;

  Chronus* const self = (Chronus*)calloc(1, sizeof(Chronus));
  if (!self) {
    return NULL;
  }
  pthread_mutex_init(&self->lock, NULL);
  if (!take_features(self, features)) {
    free(self);
    return NULL;
  }
  self->bundle_path = copy_bundle_path(bundle_path);
  ch_uris_map(&self->uris, self->map);
  lv2_atom_forge_init(&self->forge, self->map);
  init_audio_state(self, rate);
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    hold_macro(self, i, NULL); /* until the host connects it */
  }

  self->standby   = ch_model_new();
  self->committed = ch_model_new();
  self->previous  = ch_model_new();
  if (!self->bundle_path || !self->standby || !self->committed ||
      !self->previous || ch_ring_init(&self->inbox, INBOX_SIZE) ||
      ch_ring_init(&self->outbox, OUTBOX_SIZE) ||
      ch_ring_init(&self->trash, TRASH_SIZE) ||
      ch_ring_init(&self->osc_in, OSC_IN_SIZE) ||
      ch_ring_init(&self->osc_out, OSC_OUT_SIZE) ||
      !(self->osc = ch_osc_new(self->map, &self->osc_in, &self->osc_out))) {
    lv2_log_error(&self->logger, "chronus: out of memory\n");
    cleanup(self);
    return NULL;
  }
  if (!start_playing(self)) {
    cleanup(self);
    return NULL;
  }
  return self;
}

static void
connect_port(LV2_Handle instance, const uint32_t port, void* const data)
{
  Chronus* const self = (Chronus*)instance;
  switch (port) {
  case CH_PORT_CONTROL:
    self->control = (const LV2_Atom_Sequence*)data;
    break;
  case CH_PORT_NOTIFY:
    self->notify = (LV2_Atom_Sequence*)data;
    break;
  case CH_PORT_OUT_L:
  case CH_PORT_OUT_R:
    self->out[port - CH_PORT_OUT_L] = (float*)data;
    break;
  case CH_PORT_GAIN:
    self->gain = (const float*)data;
    break;
  case CH_PORT_PROGRAM:
    self->program = (const float*)data;
    break;
  case CH_PORT_LIMITER:
    self->limiter_on = (const float*)data;
    break;
  case CH_PORT_OSC:
    self->osc_port = (const float*)data;
    break;
  default:
    if (port >= CH_PORT_MACRO && port < CH_PORT_MACRO + CH_N_MACROS) {
      hold_macro(self, port - CH_PORT_MACRO, (const float*)data);
    }
    break;
  }
}

/* Notify writing (audio thread) */

/* The notify port's forge, set up on the cycle's first answer: most
   cycles send none, and run() writes their empty sequence itself, for a
   fraction of what setting the forge up costs. */
CH_REALTIME static LV2_Atom_Forge*
notify_forge(Chronus* const self)
{
  if (!self->notify_open) {
    self->notify_open = true;
    lv2_atom_forge_set_buffer(&self->forge, (uint8_t*)self->notify,
                              self->notify_capacity);
    lv2_atom_forge_sequence_head(&self->forge, &self->notify_frame, 0);
  }
  return &self->forge;
}

CH_REALTIME static uint32_t
forge_space(Chronus* const self)
{
  const LV2_Atom_Forge* const forge = notify_forge(self);
  return (uint32_t)(forge->size - forge->offset);
}

/* Write `msg` as an event at frame 0, if it fits whole. */
CH_REALTIME static bool
write_msg(Chronus* const self, const ChMsg* const msg)
{
  if ((uint64_t)ch_msg_size(msg) + sizeof(LV2_Atom_Event) > forge_space(self)) {
    return false;
  }
  return lv2_atom_forge_frame_time(&self->forge, 0) &&
         ch_msg_write(&self->forge, &self->uris, msg);
}

CH_REALTIME static void
write_error(Chronus* const    self,
            const bool        has_seq,
            const int32_t     seq,
            const char* const text)
{
  ChMsg msg   = ch_msg_init(CH_MSG_ERROR);
  msg.has_seq = has_seq;
  msg.seq     = seq;
  msg.message = text;
  if (!write_msg(self, &msg)) {
    ++self->dropped_notify;
    self->owed = true;
  }
}

/* The answer `reply` (with `text` after it) as a message. */
CH_REALTIME static ChMsg
answer_of(const Chronus* const self,
          const ChReply* const reply,
          const char* const    text)
{
  ChMsg msg   = ch_msg_init(CH_MSG_ACK);
  msg.has_seq = reply->has_seq;
  msg.seq     = reply->seq;
  switch ((ChReplyType)reply->type) {
  case CH_REPLY_COMMITTED:
    msg.kind       = CH_MSG_COMMITTED;
    msg.generation = (int64_t)ch_graph_generation(self->active);
    msg.build_ms   = reply->u.committed.build_ms;
    break;
  case CH_REPLY_ERROR:
    msg.kind    = CH_MSG_ERROR;
    msg.message = text;
    break;
  case CH_REPLY_PROPERTY:
    msg.kind          = CH_MSG_PROPERTY;
    msg.property      = reply->u.property.property;
    msg.value_is_path = reply->u.property.path;
    msg.text          = text;
    break;
  default:
    break;
  }
  return msg;
}

/* An answer to a message with or without ch:seq, for ch_osc_answer. */
CH_REALTIME static inline ChOscAnswer
osc_answer(const ChOscAnswerType type, const bool has_seq, const int32_t seq)
{
  return (ChOscAnswer){ .type = (uint32_t)type, .seq = has_seq ? seq : 0 };
}

/* Pass an answer to the OSC client that asked, if one did: `error`, if
   not NULL, replaces the answer. */
CH_REALTIME static void
tell_osc(Chronus* const    self,
         const ChReply*    reply,
         const char* const text,
         const char* const error)
{
  ChOscAnswer a = osc_answer(CH_OSC_ANSWER_ERROR, reply->has_seq, reply->seq);
  a.generation  = (int64_t)ch_graph_generation(self->active);
  const char* words = error ? error : reply->text_len ? text : NULL;
  if (error) {
    a.type = CH_OSC_ANSWER_ERROR;
  } else if (reply->type == CH_REPLY_ACK) {
    a.type = CH_OSC_ANSWER_ACK;
  } else if (reply->type == CH_REPLY_COMMITTED) {
    a.type     = CH_OSC_ANSWER_COMMITTED;
    a.build_ms = reply->u.committed.build_ms;
  } else if (reply->type == CH_REPLY_PATCH) {
    a.type = CH_OSC_ANSWER_PATCH;
    words  = reply->u.patch.text;
    a.size = reply->u.patch.total; /* known: a large patch is not read */
  } else if (reply->type != CH_REPLY_ERROR) {
    return;
  }
  if (words && a.type != CH_OSC_ANSWER_PATCH) {
    a.size = (uint32_t)strlen(words); /* the worker's texts are short */
  }
  ch_osc_answer(&self->osc_out, a, words);
}

/* Graph swaps (audio thread) */

CH_REALTIME static void
retire(Chronus* const self, const ChTrashType type, void* const ptr)
{
  /* The trash holds thousands of pointers and the worker empties it every
     time it runs, which it must do to build each graph we retire. */
  const ChTrash item = { type, ptr };
  if (ch_ring_write(&self->trash, &item, sizeof(item), NULL, 0)) {
    self->work_owed = true;
  }
}

/* Keep `graph` to fall back to for CH_FALLBACK_SECONDS (the fail-safe);
   the one kept before is retired. */
CH_REALTIME static void
keep_fallback(Chronus* const self, ChGraph* const graph)
{
  if (self->fallback) {
    retire(self, CH_TRASH_GRAPH, self->fallback);
  }
  self->fallback      = graph;
  self->fallback_left = (uint32_t)(CH_FALLBACK_SECONDS * self->rate);
}

/* Swap `graph` in now, crossfading over `fade` frames (0 = cut).  A fade
   still running goes on under a cut (or a swap that carries everything);
   under a new fade it is cut short (two graphs at most run at once). */
CH_REALTIME static bool
swap_in(Chronus* const self, ChGraph* const graph, const uint32_t fade)
{
  if (ch_graph_generation(graph) < ch_graph_generation(self->active)) {
    retire(self, CH_TRASH_GRAPH, graph); /* overtaken by a restore */
    return false;
  }
  const uint32_t carried = ch_graph_carry(graph, self->active);
  if (self->fading && fade) {
    keep_fallback(self, self->fading);
    self->fading = NULL;
  }
  if (fade) {
    self->fading   = self->active;
    self->fade_pos = 0;
    self->fade_len = fade;
    /* One graph is the other plus modules (an edit added or removed some,
       or changed links): what they share runs in both with one state, so
       their outputs are alike and equal-power gains would swell them by up
       to 3 dB.  Else (a module replaced, a new sound) they are unrelated. */
    self->fade_sum = carried == ch_graph_n_modules(graph) ||
                     carried == ch_graph_n_modules(self->active);
  } else {
    keep_fallback(self, self->active);
  }
  self->active  = graph;
  self->runaway = 0;
  ch_voicing_set_voices(&self->voicing, ch_graph_polyphony(graph));
  return true;
}

/* Room ch:Patch pieces leave in notify for what run() may still have to
   say this cycle (an error, echoes; a quarter of a small buffer), and the
   least text worth a piece. */
#define PIECE_RESERVE 256u
#define PIECE_MIN     64u

/* Bytes of text the next piece may carry in `space` bytes of notify. */
CH_REALTIME static uint32_t
piece_room(const ChMsg* const piece, const uint32_t space)
{
  ChMsg empty    = *piece;
  empty.text_len = 0;
  const uint64_t fixed =
    (uint64_t)ch_msg_size(&empty) + sizeof(LV2_Atom_Event) - 8u;
  if (space < fixed + PIECE_MIN + 8u) {
    return 0;
  }
  return (uint32_t)((space - fixed) & ~(uint64_t)7u) - 1u; /* + its NUL */
}

CH_REALTIME static void
end_export(Chronus* const self)
{
  retire(self, CH_TRASH_TEXT, self->export.text);
  self->export.text = NULL;
}

/* Send as many ch:Patch pieces as fit (at most CH_PATCH_PIECE bytes of
   text each, fewer in a small buffer); the rest goes next cycle. */
CH_REALTIME static void
export_pieces(Chronus* const self)
{
  ChExport* const ex = &self->export;
  while (ex->text) {
    ChMsg msg      = ch_msg_init(CH_MSG_PATCH);
    msg.has_seq    = ex->has_seq;
    msg.seq        = ex->seq;
    msg.generation = ex->generation;
    msg.offset     = ex->offset;
    msg.total      = ex->total;
    msg.text       = ex->text + ex->offset;
    /* A quarter of a small buffer, PIECE_RESERVE of a large one. */
    const uint32_t size = self->notify_capacity;
    const uint32_t reserve =
      size / 4u < PIECE_RESERVE ? size / 4u : PIECE_RESERVE;
    const uint32_t space = forge_space(self);
    const uint32_t room =
      piece_room(&msg, space > reserve ? space - reserve : 0u);
    const uint32_t empty = (uint32_t)sizeof(LV2_Atom_Sequence) + reserve;
    if (!room && (size <= empty || !piece_room(&msg, size - empty))) {
      end_export(self); /* not even an empty buffer would take a piece */
      write_error(self, ex->has_seq, ex->seq,
                  "patch:Get: the notify buffer is too small for ch:Patch "
                  "pieces");
      return;
    }
    const uint32_t left = ex->total - ex->offset;
    msg.text_len        = left < CH_PATCH_PIECE ? left : CH_PATCH_PIECE;
    msg.text_len        = msg.text_len < room ? msg.text_len : room;
    if (!room || !write_msg(self, &msg)) {
      return; /* next cycle */
    }
    ex->offset += msg.text_len;
    if (ex->offset >= ex->total) {
      end_export(self);
    }
  }
}

/* Transport (audio thread) */

CH_REALTIME static void swap_pending(Chronus* self);

CH_REALTIME static bool
transport_rolling(const Chronus* const self)
{
  return self->transport.known && self->transport.speed > 0.0;
}

/* Frames from now to the first frame of the next beat or bar (0 if now
   is one), or UINT32_MAX if it is beyond `limit` or never comes. */
CH_REALTIME static uint32_t
frames_to_boundary(const Chronus* const self,
                   const uint32_t       quantize,
                   const uint32_t       limit)
{
  const ChTransport* const t = &self->transport;
  const double per_frame     = t->speed * t->bpm / (60.0 * (double)self->rate);
  const double beat          = t->bar_beat;
  const double left =
    quantize == CH_QUANTIZE_BAR ? t->beats_per_bar - beat : ceil(beat) - beat;
  /* Hosts send barBeat as a float: a boundary within a tenth of a frame
     of a frame is on that frame. */
  double       frames = ceil(left / per_frame - 0.1);
  const double since  = quantize == CH_QUANTIZE_BAR ? beat : beat - floor(beat);
  if (since / per_frame < 0.1) {
    frames = 0.0; /* on the boundary now */
  }
  frames = frames > 0.0 ? frames : 0.0;
  return frames < (double)limit ? (uint32_t)frames : UINT32_MAX;
}

CH_REALTIME static void
advance_transport(Chronus* const self, const uint32_t n)
{
  ChTransport* const t = &self->transport;
  if (!transport_rolling(self)) {
    return;
  }
  t->bar_beat += (double)n * t->speed * t->bpm / (60.0 * (double)self->rate);
  if (t->bar_beat >= t->beats_per_bar) {
    t->bar_beat = fmod(t->bar_beat, t->beats_per_bar);
  }
}

/* time:Position at this frame: what it says replaces what we ran to. */
CH_REALTIME static void
take_position(Chronus* const self, const ChPosition* const pos)
{
  ChTransport* const t = &self->transport;
  if (pos->has_speed) {
    t->speed = pos->speed;
  }
  if (pos->has_bpm && pos->bpm > 0.0f) {
    t->bpm = pos->bpm;
  }
  if (pos->has_beats_per_bar && pos->beats_per_bar > 0.0f) {
    t->beats_per_bar = pos->beats_per_bar;
  }
  if (pos->has_bar_beat && pos->bar_beat >= 0.0f) {
    t->bar_beat = pos->bar_beat;
  }
  t->known = t->known || (pos->has_bpm && pos->has_bar_beat);
  if (t->beats_per_bar <= 0.0) {
    t->beats_per_bar = 4.0;
  }
  if (t->bar_beat >= t->beats_per_bar) {
    t->bar_beat = fmod(t->bar_beat, t->beats_per_bar);
  }
  if (!transport_rolling(self) && self->pending.graph) {
    swap_pending(self); /* stopped: a waiting commit lands at once */
  }
}

/* Swap in the commit that waited (for its beat, or for nothing). */
CH_REALTIME static void
swap_pending(Chronus* const self)
{
  ChPending* const p = &self->pending;
  ChGraph* const   g = p->graph;
  p->graph           = NULL;
  if (!g) {
    return;
  }
  ChMsg msg                    = ch_msg_init(CH_MSG_COMMITTED);
  msg.has_seq                  = p->has_seq;
  msg.seq                      = p->seq;
  msg.build_ms                 = p->build_ms;
  msg.generation               = (int64_t)ch_graph_generation(g);
  const char* const superseded = "commit superseded by a restored state";
  const bool        newer      = swap_in(self, g, p->fade);

  const ChOscAnswerType type =
    newer ? CH_OSC_ANSWER_COMMITTED : CH_OSC_ANSWER_ERROR;
  ChOscAnswer a = osc_answer(type, p->has_seq, p->seq);
  a.generation  = (int64_t)ch_graph_generation(self->active);
  a.build_ms    = newer ? p->build_ms : 0.0f;
  a.size        = newer ? 0u : (uint32_t)strlen(superseded);
  ch_osc_answer(&self->osc_out, a, newer ? NULL : superseded);
  if (!newer) {
    write_error(self, p->has_seq, p->seq, superseded);
  } else if (!write_msg(self, &msg)) {
    ++self->dropped_notify;
    self->owed = true;
  }
}

/* Apply module:param = value (text is "module\0param\0") as Set `order`. */
CH_REALTIME static void
replay_set(Chronus* const self, const ChReply* const reply, const char* text)
{
  const char* const param = text + strlen(text) + 1u;
  const int         m     = ch_graph_find(self->active, text);
  const int         p =
    m < 0 ? -1 : ch_graph_find_param(self->active, (uint32_t)m, param);
  if (p >= 0) {
    ch_graph_set_ordered(self->active, (uint32_t)m, (uint32_t)p,
                         reply->u.set.value, reply->u.set.order);
  }
}

/* One outbox record; false if it must wait for next cycle. */
CH_REALTIME static bool
take_reply(Chronus* const self, const ChReply* const reply, const char* text)
{
  const uint32_t room = (uint32_t)sizeof(LV2_Atom_Event);
  switch ((ChReplyType)reply->type) {
  case CH_REPLY_COMMITTED:
    /* A swap never waits for room to announce it. */
    if (self->pending.graph) {
      retire(self, CH_TRASH_GRAPH, self->pending.graph); /* overtaken */
    }
    self->pending = (ChPending){
      .graph    = reply->u.committed.graph,
      .fade     = reply->u.committed.fade,
      .quantize = reply->u.committed.quantize,
      .has_seq  = reply->has_seq,
      .seq      = reply->seq,
      .build_ms = reply->u.committed.build_ms,
    };
    if (!self->pending.quantize || !transport_rolling(self)) {
      swap_pending(self);
    }
    return true;
  case CH_REPLY_SET:
    replay_set(self, reply, text);
    return true;
  case CH_REPLY_PATCH:
    if (self->export.text) {
      return false; /* one export at a time, in order */
    }
    tell_osc(self, reply, text, NULL); /* whole: OSC has its own limits */
    self->owed = true;
    self->export =
      (ChExport){ reply->u.patch.text,       reply->u.patch.total, 0,
                  reply->u.patch.generation, reply->has_seq,       reply->seq };
    export_pieces(self);
    return true;
  default:
    break;
  }
  const ChMsg msg = answer_of(self, reply, text);
  if (ch_msg_size(&msg) + room > self->notify_capacity) {
    /* It would never fit: waiting would block every answer behind it. */
    write_error(self, reply->has_seq, reply->seq,
                "an answer was too large for the notify buffer and was "
                "dropped (the host's atom buffer is too small)");
    tell_osc(self, reply, text, NULL);
    return true;
  }
  if (!write_msg(self, &msg)) {
    return false; /* it and the rest wait for next cycle */
  }
  tell_osc(self, reply, text, NULL);
  return true;
}

/* Cycle start: swap in what the worker or a restore finished, and pass the
   worker's answers on.  What does not fit in notify waits for next cycle. */
CH_REALTIME static void
begin_cycle(Chronus* const self)
{
  /* A restored state first: graphs the worker built before the restore are
     older and get dropped; those built after it carry from it. */
  ChGraph* const restored =
    atomic_load_explicit(&self->restored, memory_order_relaxed)
      ? atomic_exchange(&self->restored, NULL)
      : NULL; /* a locked exchange only when there is something to take */
  if (restored) {
    swap_in(self, restored, (uint32_t)(CH_FADE_DEFAULT * self->rate));
  }

  uint32_t    size   = 0;
  const void* record = NULL;
  while (!ch_ring_empty(&self->outbox) && /* inline: empty nearly always */
         (record = ch_ring_peek(&self->outbox, &size))) {
    const ChReply* const reply = (const ChReply*)record;
    if (!take_reply(self, reply, (const char*)(reply + 1))) {
      break;
    }
    ch_ring_pop(&self->outbox);
  }
  /* Patch pieces take the room the other answers left, so a ch:Committed
     is never crowded out by them. */
  if (!self->owed) {
    return; /* no export under way, no answer lost */
  }
  if (self->export.text) {
    export_pieces(self);
  }
  if (self->dropped_notify && forge_space(self) > 256u) {
    self->dropped_notify = 0;
    write_error(self, false, 0,
                "the notify buffer was full: some answers were lost");
  }
}

/* ch:Set echoes (audio thread) */

/* Remember module:param = value for the echo at the cycle's end. */
CH_REALTIME static void
echo_set(Chronus* const    self,
         const char* const module,
         const char* const param,
         const float       value)
{
  uint32_t i = 0;
  while (i < self->n_echo && (strcmp(self->echo[i].module, module) ||
                              strcmp(self->echo[i].param, param))) {
    ++i;
  }
  if (i == self->n_echo) {
    if (i == CH_ECHO_MAX || strlen(module) > CH_NAME_MAX ||
        strlen(param) > CH_NAME_MAX) {
      return; /* a UI asks patch:Get after a burst this large */
    }
    memcpy(self->echo[i].module, module, strlen(module) + 1u);
    memcpy(self->echo[i].param, param, strlen(param) + 1u);
    ++self->n_echo;
    self->owed = true;
  }
  self->echo[i].value = value;
}

/* Write the cycle's echoes; those that do not fit wait for next cycle. */
CH_REALTIME static void
write_echoes(Chronus* const self)
{
  if (!self->n_echo) {
    return;
  }
  uint32_t done = 0;
  for (; done < self->n_echo; ++done) {
    ChMsg msg  = ch_msg_init(CH_MSG_PARAM);
    msg.module = self->echo[done].module;
    msg.param  = self->echo[done].param;
    msg.value  = self->echo[done].value;
    if (!write_msg(self, &msg)) {
      break;
    }
  }
  memmove(self->echo, self->echo + done,
          (self->n_echo - done) * sizeof(self->echo[0]));
  self->n_echo -= done;
}

/* Messages (audio thread) */

CH_REALTIME static void
tell_worker(Chronus* const self)
{
  if (!self->schedule) {
    CH_NOT_REALTIME_BEGIN();
    ch_worker_drain(self); /* no worker: the host accepts non-RT edits */
    CH_NOT_REALTIME_END();
    self->work_owed = false;
    return;
  }
  const uint32_t token = 0;
  self->work_owed =
    self->schedule->schedule_work(self->schedule->handle, sizeof(token),
                                  &token) != LV2_WORKER_SUCCESS;
}

/* ch:Set and ch:Gate act on the playing graph at once (and are echoed);
   the worker then applies them to the models and answers. */
CH_REALTIME static void
apply_now(Chronus* const self, const ChMsg* const msg, const uint32_t order)
{
  if (!msg->module || !msg->param || !msg->has_value) {
    return; /* the worker answers what is missing */
  }
  const int m = ch_graph_find(self->active, msg->module);
  const int p =
    m < 0 ? -1 : ch_graph_find_param(self->active, (uint32_t)m, msg->param);
  if (p >= 0 && !ch_graph_set_ordered(self->active, (uint32_t)m, (uint32_t)p,
                                      msg->value, order)) {
    echo_set(self, msg->module, msg->param,
             ch_graph_get(self->active, (uint32_t)m, (uint32_t)p));
  }
}

CH_REALTIME static void
forward(Chronus* const        self,
        const LV2_Atom* const atom,
        const ChMsg* const    msg,
        const ChJob* const    job)
{
  /* run() checked the atom: its size is inside its event. */
  if (!ch_ring_write(&self->inbox, job, sizeof(*job), atom,
                     (uint32_t)sizeof(LV2_Atom) + atom->size)) {
    static const char why[] = "message dropped: the queue to the worker is "
                              "full or the message is too large";
    write_error(self, msg->has_seq, msg->seq, why);
    ChOscAnswer a = osc_answer(CH_OSC_ANSWER_ERROR, msg->has_seq, msg->seq);
    a.size        = (uint32_t)sizeof(why) - 1u;
    ch_osc_answer(&self->osc_out, a, why);
    return;
  }
  tell_worker(self);
}

/* Ask the worker to load and commit program `number` of the bank. */
CH_REALTIME static void
request_program(Chronus* const self, const int32_t number)
{
  const ChJob job = { .type = CH_JOB_PROGRAM, .program = number };
  if (ch_ring_write(&self->inbox, &job, sizeof(job), NULL, 0)) {
    tell_worker(self);
  } else {
    write_error(self, false, 0,
                "program change dropped: the queue to the worker is full");
  }
}

/* The output's peak since the last ch:Level (after gain and limiter). */
CH_REALTIME static void
write_level(Chronus* const self)
{
  ChMsg msg     = ch_msg_init(CH_MSG_LEVEL);
  msg.value     = self->level_peak;
  msg.has_value = true;
  if (write_msg(self, &msg)) {
    self->level_peak = 0.0f;
  }
}

/* ch:Probe: a UI looks at module:port (or stops).  Answered here: the
   names are found in the playing graph by a binary search. */
CH_REALTIME static void
probe(Chronus* const self, const ChMsg* const msg)
{
  ch_scope_ask(&self->scope, msg->module, msg->port, self->rate);
  self->owed = true;
  if (msg->module && msg->module[0] &&
      !ch_scope_follow(&self->scope, self->active)) {
    write_error(self, msg->has_seq, msg->seq,
                ch_scope_missing(&self->scope, self->fault_text,
                                 sizeof(self->fault_text)));
  }
}

/* patch:Get of ch:activity: module peaks are measured for a second more,
   and those since the last answer are sent at this cycle's end. */
CH_REALTIME static void
ask_activity(Chronus* const self)
{
  self->activity_frames = (uint32_t)self->rate;
  self->owed            = true;
  if (self->activity_next == UINT32_MAX) {
    self->activity_next = 0;
  }
}

/* The ch:Activity pieces still to send, as room allows, each module's
   peak with its share of the graph's time. */
CH_REALTIME static void
write_activity(Chronus* const self, const uint32_t n_frames)
{
  self->activity_frames =
    self->activity_frames > n_frames ? self->activity_frames - n_frames : 0u;
  if (self->activity_next == UINT32_MAX) {
    return; /* nothing asked */
  }
  const uint32_t total = ch_graph_n_modules(self->active);
  float          cpu[CH_ACTIVITY_PIECE];
  while (self->activity_next < total) {
    const uint32_t at  = self->activity_next;
    ChMsg          msg = ch_msg_init(CH_MSG_ACTIVITY);
    msg.generation     = (int64_t)ch_graph_generation(self->active);
    msg.offset         = at;
    msg.total          = total;
    msg.points         = &self->activity[at];
    msg.n_points =
      total - at < CH_ACTIVITY_PIECE ? total - at : CH_ACTIVITY_PIECE;
    for (uint32_t i = 0; i < msg.n_points && self->cpu_total; ++i) {
      const double share =
        (double)self->cpu_ns[at + i] / (double)self->cpu_total;
      cpu[i]  = share < 1.0 ? (float)share : 1.0f;
      msg.cpu = cpu;
    }
    if (!write_msg(self, &msg)) {
      break; /* the rest goes next cycle */
    }
    memset(&self->activity[at], 0, msg.n_points * sizeof(float));
    memset(&self->cpu_ns[at], 0, msg.n_points * sizeof(uint64_t));
    self->activity_next = at + msg.n_points;
    if (self->activity_next >= total) {
      self->cpu_total = 0; /* every share sent: the next are new */
    }
  }
  if (self->activity_next >= total) {
    self->activity_next = UINT32_MAX;
  }
}

/* One sub-block of a measured run: the modules' peaks, and, one block in
   CH_CPU_EVERY, their times (each step's and the whole run's): a sample
   of blocks gives the same shares at a fraction of the clock reads. */
CH_REALTIME static bool
run_measured(Chronus* const self,
             float* const   left,
             float* const   right,
             const uint32_t k)
{
  if (self->activity_gen != ch_graph_generation(self->active)) {
    /* A swap: the indices are another model's now. */
    self->activity_gen = ch_graph_generation(self->active);
    memset(self->activity, 0, sizeof(self->activity));
    memset(self->cpu_ns, 0, sizeof(self->cpu_ns));
    self->cpu_total = 0;
  }
  const bool timed    = self->cpu_countdown == 0;
  self->cpu_countdown = timed ? CH_CPU_EVERY - 1u : self->cpu_countdown - 1u;
  ch_graph_time(self->active, timed ? self->cpu_ns : NULL, CH_MAX_MODULES);
  const uint64_t start = timed ? ch_clock_ns() : 0u;
  const bool wrote = ch_graph_run(self->active, &self->host, left, right, k);
  self->cpu_total += timed ? ch_clock_ns() - start : 0u;
  ch_graph_time(self->active, NULL, 0);
  ch_graph_peaks(self->active, self->activity, CH_MAX_MODULES, k);
  return wrote;
}

/* The probed output's samples and the modules' peaks, sub-block by
   sub-block (a ch_graph_run longer than CH_MAX_BLOCK keeps only its last
   one in the buffers). */
CH_REALTIME static bool
run_graph(Chronus* const self,
          float* const   left,
          float* const   right,
          const uint32_t n)
{
  const bool scope =
    self->scope.frames_left && ch_scope_follow(&self->scope, self->active);
  if (!scope && !self->activity_frames) {
    return ch_graph_run(self->active, &self->host, left, right, n);
  }
  bool wrote = false;
  for (uint32_t done = 0; done < n; done += CH_MAX_BLOCK) {
    const uint32_t k = n - done < CH_MAX_BLOCK ? n - done : CH_MAX_BLOCK;
    wrote =
      (self->activity_frames ? run_measured(self, left + done, right + done, k)
                             : ch_graph_run(self->active, &self->host,
                                            left + done, right + done, k)) ||
      wrote;
    if (scope) {
      ch_scope_feed(&self->scope, self->active, k);
    }
  }
  return wrote;
}

/* A captured frame as ch:Scope, if one is ready and fits. */
CH_REALTIME static void
write_scope(Chronus* const self, const uint32_t n_frames)
{
  if (!self->scope.ready && !self->scope.frames_left) {
    return; /* no probe asked, no frame waiting */
  }
  ChMsg msg;
  if (ch_scope_answer(&self->scope, self->rate, &msg) &&
      write_msg(self, &msg)) {
    ch_scope_sent(&self->scope);
  }
  ch_scope_tick(&self->scope, n_frames);
}

CH_REALTIME static void
handle_message(Chronus* const        self,
               const LV2_Atom* const atom,
               const uint32_t        capacity)
{
  ChMsg      msg;
  ChMsgFault fault;
  if (ch_msg_read(&self->uris, atom, capacity, &msg, &fault)) {
    write_error(self, fault.has_seq, fault.seq,
                ch_msg_fault_text(&self->uris, &fault, self->fault_text,
                                  sizeof(self->fault_text)));
    return; /* nothing else happens */
  }
  if (msg.kind == CH_MSG_NONE) {
    return; /* not ours */
  }
  if (msg.kind == CH_MSG_POSITION) {
    take_position(self, &msg.position); /* every cycle: never queued */
    return;
  }
  if (msg.kind == CH_MSG_GET && msg.property == self->uris.ch_level) {
    write_level(self); /* a UI's meter: answered here, at once */
    return;
  }
  if (msg.kind == CH_MSG_GET && msg.property == self->uris.ch_activity) {
    ask_activity(self); /* a UI's activity dots: answered here */
    return;
  }
  if (msg.kind == CH_MSG_PROBE) {
    probe(self, &msg);
    return;
  }
  ChJob job = { .type = CH_JOB_MESSAGE };
  if (msg.kind == CH_MSG_SET || msg.kind == CH_MSG_GATE) {
    /* Stamped, so the worker can replay it on a graph built without it. */
    job.generation = ch_graph_generation(self->active);
    job.order      = ++self->set_count;
    apply_now(self, &msg, job.order);
  }
  forward(self, atom, &msg, &job);
}

CH_REALTIME static void
handle_event(Chronus* const              self,
             const LV2_Atom_Event* const ev,
             const uint32_t              capacity)
{
  if (ev->body.type == self->uris.midi_Event) {
    const uint8_t* const midi = (const uint8_t*)(ev + 1);
    if (ev->body.size == 2 && (midi[0] & 0xF0) == 0xC0 && midi[1] < 0x80) {
      request_program(self, midi[1]);
    } else {
      ch_voicing_midi(&self->voicing, midi, ev->body.size);
    }
  } else if (ev->body.type == self->uris.atom_Object) {
    handle_message(self, &ev->body, capacity);
  }
}

/* Rendering (audio thread) */

/* Fail-safe (audio thread) */

/* Append `s`, then the number `v` (if `with_number`), to fault_text. */
CH_REALTIME static void
say(Chronus* const    self,
    const char* const s,
    const bool        with_number,
    uint64_t          v)
{
  char* const  buf = self->fault_text;
  const size_t cap = sizeof(self->fault_text);
  size_t       len = strlen(buf);
  for (size_t i = 0; s[i] && len + 1u < cap; ++i) {
    buf[len++] = s[i];
  }
  char digits[24];
  int  n = 0;
  do {
    digits[n++] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v && n < 24);
  while (with_number && n > 0 && len + 1u < cap) {
    buf[len++] = digits[--n];
  }
  buf[len] = '\0';
}

/* The playing graph went bad (`cause`).  Within CH_FALLBACK_SECONDS of its
   swap the graph it replaced comes back (its state as it was then);
   later, its state is reset.  Either way the span is silenced. */
CH_REALTIME static void
graph_failed(Chronus* const self, const char* const cause)
{
  ChGraph* const bad = self->active;
  /* The graph just before it: fading out, or kept (after a cut). */
  ChGraph* back = self->fading;
  if (!back || (self->fallback && ch_graph_generation(self->fallback) >
                                    ch_graph_generation(back))) {
    back = self->fallback;
  }
  self->fault_text[0] = '\0';
  say(self, "generation ", true, ch_graph_generation(bad));
  say(self, ": ", false, 0);
  say(self, cause, false, 0);
  self->runaway = 0;
  if (back) {
    ChGraph* const other = back == self->fading ? self->fallback : self->fading;
    if (other) {
      retire(self, CH_TRASH_GRAPH, other);
    }
    self->fading   = NULL;
    self->fallback = NULL;
    self->active   = back;
    retire(self, CH_TRASH_GRAPH, bad);
    ch_voicing_set_voices(&self->voicing, ch_graph_polyphony(back));
    say(self, " within seconds of its commit; reverted to generation ", true,
        ch_graph_generation(back));
    write_error(self, false, 0, self->fault_text);
    /* The worker's models follow the sound back. */
    const ChJob job = { .type       = CH_JOB_REVERT,
                        .generation = ch_graph_generation(back),
                        .failed     = ch_graph_generation(bad) };
    if (ch_ring_write(&self->inbox, &job, sizeof(job), NULL, 0)) {
      tell_worker(self);
    }
    return;
  }
  ch_graph_reset(bad);
  if (!self->muted_reports) {
    self->muted_reports = (uint32_t)self->rate;
    self->owed          = true;
    say(self, "; silenced it and reset its state", false, 0);
    write_error(self, false, 0, self->fault_text);
  }
}

/* guard() for a span above CH_RUNAWAY_LEVEL, or not finite: out of line,
   so that the usual span's guard is a compare. */
CH_REALTIME static float
guard_loud(Chronus* const self,
           float* const   left,
           float* const   right,
           const uint32_t n,
           const float    peak)
{
  if (!isfinite(peak)) {
    memset(left, 0, n * sizeof(float));
    memset(right, 0, n * sizeof(float));
    graph_failed(self, "the patch produced non-finite output (NaN or "
                       "infinity)");
    return 0.0f;
  }
  self->runaway += n;
  if (self->runaway >= self->runaway_limit) {
    memset(left, 0, n * sizeof(float));
    memset(right, 0, n * sizeof(float));
    graph_failed(self, "the patch's output ran away (above +24 dBFS for "
                       "50 ms)");
    return 0.0f;
  }
  return peak;
}

/* Watch a span before gain and limiter: non-finite output, or output far
   above full scale for CH_RUNAWAY_SECONDS, fails the graph.  Returns the
   span's peak as it leaves it (0 once silenced), for the limiter and the
   meter. */
CH_REALTIME static inline float
guard(Chronus* const self,
      float* const   left,
      float* const   right,
      const uint32_t n)
{
  const float peak = ch_peak(left, right, n);
  if (peak <= CH_RUNAWAY_LEVEL) { /* false for a NaN too */
    self->runaway = 0;
    return peak;
  }
  return guard_loud(self, left, right, n, peak);
}

/* Rendering (audio thread) */

/* Mix the fading graph's `n` frames under the new one's: equal power
   (sin/cos), so that unrelated sounds keep their loudness through it; or,
   for graphs that share their state (fade_sum), linear gains, whose sum is
   1, so that what sounds alike in both keeps its level. */
CH_REALTIME static bool
crossfade(Chronus* const self,
          float* const   left,
          float* const   right,
          const uint32_t n)
{
  const bool  wrote = ch_graph_run(self->fading, &self->host, self->fade_buf[0],
                                   self->fade_buf[1], n);
  const float step  = 1.0f / (float)self->fade_len;
  uint32_t    i     = 0;
  for (; i < n && self->fade_pos < self->fade_len; ++i, ++self->fade_pos) {
    const float t   = step * ((float)self->fade_pos + 0.5f);
    const float in  = self->fade_sum ? t : sinf(1.5707963f * t);
    const float out = self->fade_sum ? 1.0f - t : cosf(1.5707963f * t);
    left[i]         = in * left[i] + out * self->fade_buf[0][i];
    right[i]        = in * right[i] + out * self->fade_buf[1][i];
  }
  if (self->fade_pos >= self->fade_len) {
    keep_fallback(self, self->fading);
    self->fading = NULL;
  }
  return wrote;
}

/* Render [from, to) of the playing graph(s), at most a block at a time
   and split where a stolen voice's fade ends; false if they wrote only
   zeros (nothing to check).  Raises `peak` to the largest magnitude
   rendered (zeros add nothing). */
CH_REALTIME static bool
render_graphs(Chronus* const self,
              const uint32_t from,
              const uint32_t to,
              float* const   peak)
{
  bool any = false;
  for (uint32_t at = from; at < to;) {
    const uint32_t due = ch_voicing_due(&self->voicing);
    uint32_t       n   = to - at < CH_MAX_BLOCK ? to - at : CH_MAX_BLOCK;
    n                  = n < due ? n : due;
    float* const left  = self->out[0] + at;
    float* const right = self->out[1] + at;
    bool         wrote = run_graph(self, left, right, n); /* probe, activity */
    if (self->fading) {
      wrote = crossfade(self, left, right, n) || wrote;
    }
    if (wrote) {
      const float top = guard(self, left, right, n);
      *peak           = top > *peak ? top : *peak;
    } else {
      self->runaway = 0;
    }
    any = any || wrote;
    ch_voicing_advance(&self->voicing, n);
    advance_transport(self, n);
    if (self->fallback) {
      self->fallback_left =
        self->fallback_left > n ? self->fallback_left - n : 0u;
      if (!self->fallback_left) {
        retire(self, CH_TRASH_GRAPH, self->fallback);
        self->fallback = NULL;
      }
    }
    at += n;
  }
  return any;
}

/* Whether the gain scales: anything but settled at 0 dB (a flag, where
   the two compares were the dearest part of the usual call's test). */
CH_REALTIME static void
note_gain(Chronus* const self)
{
  self->gain_scales = self->gain_now != 1.0f || self->gain_target != 1.0f;
}

/* apply_gain() of a gain that is not settled at 0 dB. */
CH_REALTIME static bool
scale_gain(Chronus* const self,
           float* const   left,
           float* const   right,
           const uint32_t n)
{
  float       gain   = self->gain_now;
  const float target = self->gain_target;
  const float coeff  = self->gain_coeff;
  if (gain == target) {
    for (uint32_t i = 0; i < n; ++i) {
      left[i] *= gain;
      right[i] *= gain;
    }
    return true;
  }
  for (uint32_t i = 0; i < n; ++i) {
    gain += coeff * (target - gain);
    left[i] *= gain;
    right[i] *= gain;
  }
  self->gain_now = fabsf(gain - target) < 1e-6f ? target : gain;
  note_gain(self);
  return true;
}

/* The gain port's level over `n` frames, gliding to a new value.  A
   settled gain adds 0 per sample: the glide would multiply by the same
   value throughout, and by 1 it changes nothing (the usual case, tested
   inline).  Returns whether it scaled the frames. */
CH_REALTIME static inline bool
apply_gain(Chronus* const self,
           float* const   left,
           float* const   right,
           const uint32_t n)
{
  if (!self->gain_scales) {
    return false;
  }
  return scale_gain(self, left, right, n);
}

/* The usual span: one graph playing, no swap waiting, no fade (of a
   graph or a stolen voice) or late release timed, nothing owed (so no
   probe or activity measured), at most a block.  render_graphs() would
   run it as one sub-block doing only this, at three times the
   instructions.  Returns whether the graph wrote; `*peak` as there. */
CH_REALTIME static inline bool
plain_span(Chronus* const self,
           float* const   left,
           float* const   right,
           const uint32_t n,
           float* const   peak)
{
  const bool wrote = ch_graph_run(self->active, &self->host, left, right, n);
  if (wrote) {
    *peak = guard(self, left, right, n);
  } else {
    self->runaway = 0;
  }
  advance_transport(self, n);
  return wrote;
}

/* Gain, limiter and meter over the `n` frames from `start` once rendered:
   `wrote` and `peak` as render_graphs() gives them. */
CH_REALTIME static inline __attribute__((always_inline)) void
finish_render(Chronus* const self,
              const uint32_t start,
              const uint32_t n,
              const bool     wrote,
              float          peak)
{
  float* const left  = self->out[0] + start;
  float* const right = self->out[1] + start;
  /* Nothing sounding (the graphs wrote zeros): nothing to scale or limit,
     unless a gain glide or a limiter release is under way (below its
     ceiling the limiter's envelope no longer matters). */
  if (!wrote && self->gain_now == self->gain_target &&
      self->limiter.env <= self->limiter.ceiling) {
    return;
  }
  /* The guards' peak holds for as long as nothing changes the frames: at
     0 dB and below the limiter's ceiling, one pass over them in all (and
     the limiter port is not even looked at: on or off, it would leave
     them as they are). */
  bool changed = apply_gain(self, left, right, n);
  if (changed || self->limiter.env > self->limiter.ceiling ||
      peak > self->limiter.ceiling) {
    if (!self->limiter_on || *self->limiter_on > 0.5f) {
      const float now = changed ? ch_peak(left, right, n) : peak;
      changed =
        ch_limiter_process_peak(&self->limiter, left, right, n, now) || changed;
    }
    if (changed) {
      peak = ch_peak(left, right, n); /* finite: guarded above */
    }
  }
  if (peak > self->level_peak) {
    self->level_peak = peak;
  }
}

/* render() of any span: swaps a waiting commit in at its beat or bar. */
CH_REALTIME static void
render_spans(Chronus* const self, uint32_t from, const uint32_t to)
{
  const uint32_t start = from;
  bool           wrote = false;
  float          peak  = 0.0f; /* of the frames as the guards left them */
  while (self->pending.graph && from < to) {
    const uint32_t wait =
      frames_to_boundary(self, self->pending.quantize, to - from);
    if (wait == UINT32_MAX) {
      break;
    }
    wrote = render_graphs(self, from, from + wait, &peak) || wrote;
    from += wait;
    swap_pending(self);
  }
  wrote = render_graphs(self, from, to, &peak) || wrote;
  finish_render(self, start, to - start, wrote, peak);
}

/* Render [from, to).  Inline, with the usual span's way (plain_span) in
   it: at block 1 the calls' own set-up was a good part of it. */
CH_REALTIME static inline __attribute__((always_inline)) void
render(Chronus* const self, const uint32_t from, const uint32_t to)
{
  if (to <= from) {
    return;
  }
  /* One test of all the conditions, not a branch for each. */
  if (to - from > CH_MAX_BLOCK ||
      ((uintptr_t)self->pending.graph | (uintptr_t)self->fading |
       (uintptr_t)self->fallback | self->voicing.timed | self->owed)) {
    render_spans(self, from, to);
    return;
  }
  float      peak  = 0.0f;
  const bool wrote = plain_span(self, self->out[0] + from, self->out[1] + from,
                                to - from, &peak);
  finish_render(self, from, to - from, wrote, peak);
}

/* x within lo..hi, a NaN on lo, as fminf(fmaxf(x, lo), hi) but by
   comparisons: those two are library calls without -ffinite-math-only,
   and run() clamps a port whenever it moves. */
static inline float
clampf(const float x, const float lo, const float hi)
{
  return x > lo ? (x < hi ? x : hi) : lo;
}

/* A port value's bits: equal bits give equal results, where == would
   call -0 and 0 the same and a NaN never equal. */
static inline uint32_t
ch_bits(const float x)
{
  uint32_t bits = 0;
  memcpy(&bits, &x, sizeof(bits));
  return bits;
}

/* The program port acts on changes.  After a state restore the restored
   patch plays, and the state names the program it goes with (ch:program,
   -1 if it does not).  A port that reads that program, now or later (lilv
   sets port values after restore(), hosts pass them on a cycle later), or
   that has not moved (a host that applies no port values), loads nothing.
   A port the host has set elsewhere (automation from the start of an
   export; a restore before the first run with another value) loads its
   program, so the port shows what plays. */
CH_REALTIME static void
read_program_port(Chronus* const self)
{
  /* A port that holds the bits it had gives the program it gave, which
     program_now and program_shown already are. */
  const uint32_t bits = ch_bits(*self->program);
  if (self->program_started && bits == self->program_bits &&
      !atomic_load_explicit(&self->port_taken, memory_order_relaxed)) {
    return;
  }
  self->program_bits    = bits;
  const int32_t program = (int32_t)lrintf(clampf(*self->program, 0.0f, 127.0f));
  if (atomic_load_explicit(&self->port_taken, memory_order_relaxed) &&
      atomic_exchange(&self->port_taken, false)) {
    const int32_t saved = atomic_load(&self->program_restored);
    const bool    moved = saved >= 0 && program != saved &&
                       (!self->program_started || program != self->program_now);
    self->program_now  = program;
    self->program_late = moved ? -1 : saved;
    if (moved) {
      request_program(self, program); /* reports it if it cannot queue */
    }
  } else if (program != self->program_now) {
    self->program_now = program;
    if (program != self->program_late) {
      request_program(self, program);
    }
    self->program_late = -1;
  }
  self->program_started = true;
  atomic_store_explicit(&self->program_shown, self->program_now,
                        memory_order_relaxed);
}

CH_REALTIME static void
read_control_ports(Chronus* const self)
{
  if (self->gain && *self->gain != self->gain_db) {
    const bool  first = isnan(self->gain_db);
    const float db    = clampf(*self->gain, -60.0f, 12.0f);
    self->gain_db     = *self->gain;
    self->gain_target = db <= -60.0f ? 0.0f : powf(10.0f, db / 20.0f);
    if (first) {
      self->gain_now = self->gain_target; /* no fade from 0 dB at start */
    }
    note_gain(self);
  }
  /* All the macro ports' bits against those last acted on in one pass
     (unrolled, without a branch per port), each port looked at again
     only when one moved. */
  uint32_t moved = 0;
#pragma GCC unroll 8
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    moved |= ch_bits(*self->macro[i]) ^ self->macro_bits[i];
  }
  for (uint32_t i = 0; i < CH_N_MACROS && moved; ++i) {
    const uint32_t bits = ch_bits(*self->macro[i]);
    if (bits != self->macro_bits[i]) {
      self->macro_bits[i] = bits;
      self->host.macro[i] = clampf(*self->macro[i], 0.0f, 1.0f);
    }
  }
  if (self->program) {
    read_program_port(self);
  }
}

/* OSC: a changed osc_port asks the worker to (re)start or stop the
   server (tried again next cycle if the queue is full). */
CH_REALTIME static void
read_osc_port(Chronus* const self)
{
  if (!self->osc_port || ch_bits(*self->osc_port) == self->osc_port_bits) {
    return; /* the bits that gave osc_port_now */
  }
  const float   value = *self->osc_port;
  const int32_t port  = (int32_t)lrintf(clampf(value, 0.0f, 65535.0f));
  if (port != self->osc_port_now) {
    const ChJob job = { .type = CH_JOB_OSC, .osc_port = port };
    if (ch_ring_write(&self->inbox, &job, sizeof(job), NULL, 0)) {
      self->osc_port_now = port;
      tell_worker(self);
    }
  }
  if (port == self->osc_port_now) { /* else tried again next cycle */
    self->osc_port_bits = ch_bits(value);
  }
}

/* OSC requests, decoded into events by the OSC thread, play at frame 0,
   before the host's events of this cycle. */
CH_REALTIME static void
take_osc_events(Chronus* const self)
{
  if (ch_ring_empty(&self->osc_in)) {
    return;
  }
  for (uint32_t i = 0; i < OSC_PER_CYCLE; ++i) {
    uint32_t          size   = 0;
    const void* const record = ch_ring_peek(&self->osc_in, &size);
    if (!record) {
      return;
    }
    const LV2_Atom_Event* const ev = (const LV2_Atom_Event*)record;
    handle_event(self, ev, size - (uint32_t)sizeof(ev->time));
    ch_ring_pop(&self->osc_in);
  }
}

/* While a patch file is set, ask the worker to look at it 4 times a
   second, so that saving it in an editor re-commits it. */
CH_REALTIME static void
poll_patch_file(Chronus* const self, const uint32_t n_frames)
{
  if (!atomic_load_explicit(&self->watching, memory_order_relaxed)) {
    return;
  }
  if (self->poll_countdown > n_frames) {
    self->poll_countdown -= n_frames;
    return;
  }
  self->poll_countdown = (uint32_t)(self->rate / 4.0f);
  const ChJob job      = { .type = CH_JOB_POLL };
  if (ch_ring_write(&self->inbox, &job, sizeof(job), NULL, 0)) {
    tell_worker(self);
  }
}

/* Render up to each event of the control port and act on it; returns the
   frame rendered up to.  The sequence is walked checked: a broken event
   stops the walk, with a ch:Error. */
CH_REALTIME static uint32_t
play_control(Chronus* const self, const uint32_t n_frames)
{
  /* Most cycles bring no event: an empty sequence (or an empty atom, which
     some hosts give) has nothing to walk and nothing to report. */
  const LV2_Atom_Sequence* const control = self->control;
  if (control && (control->atom.size == sizeof(LV2_Atom_Sequence_Body)
                    ? control->atom.type == self->uris.atom_Sequence
                    : control->atom.size == 0)) {
    return 0; /* the empty sequence tested first: what hosts mostly send */
  }
  uint32_t       done = 0;
  ChSeqIter      it;
  const uint64_t control_size =
    self->control ? sizeof(LV2_Atom) + (uint64_t)self->control->atom.size : 0;
  if (ch_seq_begin(&self->uris, self->control, control_size, &it)) {
    uint32_t              room = 0;
    const LV2_Atom_Event* ev;
    while ((ev = ch_seq_next(&it, &room))) {
      const int64_t  frames = ev->time.frames;
      const uint32_t at     = frames < (int64_t)done       ? done
                              : frames > (int64_t)n_frames ? n_frames
                                                           : (uint32_t)frames;
      render(self, done, at);
      done = at;
      handle_event(self, ev, room);
    }
  }
  if (it.fault) {
    write_error(self, false, 0, it.fault); /* the events after it are lost */
  }
  return done;
}

/* Cycle end, when something is owed: the countdown of error reports,
   echoes, a scope frame, activity; then whether anything still is. */
CH_REALTIME static void
end_cycle(Chronus* const self, const uint32_t n_frames)
{
  self->muted_reports =
    self->muted_reports > n_frames ? self->muted_reports - n_frames : 0;
  write_echoes(self);
  write_scope(self, n_frames);
  if (self->activity_frames || self->activity_next != UINT32_MAX) {
    write_activity(self, n_frames); /* measuring, or answers owed */
  }
  self->owed = self->export.text || self->dropped_notify || self->n_echo ||
               self->scope.ready || self->scope.frames_left ||
               self->activity_frames || self->activity_next != UINT32_MAX ||
               self->muted_reports;
}

CH_REALTIME static void
run(LV2_Handle instance, const uint32_t n_frames)
{
  Chronus* const    self = (Chronus*)instance;
  const ChFloatMode mode = ch_float_mode_enter();

  /* The empty sequence lv2_atom_forge_sequence_head() would write; the
     forge takes over from it on the first answer (notify_forge). */
  LV2_Atom_Sequence* const notify = self->notify;
  self->notify_capacity           = notify->atom.size;
  self->notify_open               = false;
  if (self->notify_capacity >= sizeof(LV2_Atom_Sequence)) {
    notify->atom.size = sizeof(LV2_Atom_Sequence_Body);
    notify->atom.type = self->uris.atom_Sequence;
    notify->body      = (LV2_Atom_Sequence_Body){ 0, 0 };
  }

  begin_cycle(self);
  read_control_ports(self);
  read_osc_port(self);
  if (self->work_owed) {
    tell_worker(self);
  }
  take_osc_events(self);

  render(self, play_control(self, n_frames), n_frames);

  poll_patch_file(self, n_frames);
  if (self->owed) {
    end_cycle(self, n_frames);
  }
  if (self->notify_open) {
    lv2_atom_forge_pop(&self->forge, &self->notify_frame);
  }
  ch_float_mode_leave(mode);
}

static void
cleanup(LV2_Handle instance)
{
  Chronus* const self = (Chronus*)instance;
  ch_osc_free(self->osc); /* its thread uses the rings below */
  ch_worker_empty_trash(self);
  const void* reply;
  while ((reply = ch_ring_peek(&self->outbox, NULL))) {
    ch_reply_free((const ChReply*)reply);
    ch_ring_pop(&self->outbox);
  }
  free(self->export.text);
  ch_graph_free(self->fading);
  ch_graph_free(self->fallback);
  ch_graph_free(self->pending.graph);
  ch_graph_free(atomic_exchange(&self->restored, NULL));
  ch_graph_free(self->active);
  ch_ring_destroy(&self->inbox);
  ch_ring_destroy(&self->outbox);
  ch_ring_destroy(&self->trash);
  ch_ring_destroy(&self->osc_in);
  ch_ring_destroy(&self->osc_out);
  ch_model_free(self->standby);
  ch_model_free(self->committed);
  ch_model_free(self->previous);
  ch_history_clear(&self->history);
  pthread_mutex_destroy(&self->lock);
  free(self->bundle_path);
  free(self);
}

static const void*
extension_data(const char* const uri)
{
  static const LV2_Worker_Interface worker = { ch_work, ch_work_response,
                                               NULL };
  if (!strcmp(uri, LV2_WORKER__interface)) {
    return &worker;
  }
  if (!strcmp(uri, LV2_STATE__interface)) {
    return ch_state_interface();
  }
  return NULL;
}

static const LV2_Descriptor descriptor = {
  CH_PLUGIN_URI, instantiate, connect_port, NULL,
  run,           NULL,        cleanup,      extension_data,
};

LV2_SYMBOL_EXPORT const LV2_Descriptor*
lv2_descriptor(const uint32_t index)
{
  return index == 0 ? &descriptor : NULL;
}
