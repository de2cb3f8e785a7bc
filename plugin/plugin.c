/* The LV2 descriptor and the audio thread: run() swaps graphs at cycle
   starts, renders between events and writes answers to notify. */
#include "chronus.h"

#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/options/options.h>
#include <lv2/state/state.h>

#include <math.h>
#if defined(__SSE__) || defined(__x86_64__)
#  include <xmmintrin.h>
#  define CH_HAVE_MXCSR 1
#endif
#include <stdlib.h>
#include <string.h>

/* Queue sizes: a Load message may carry a whole patch as text. */
#define INBOX_SIZE  (512u * 1024u)
#define OUTBOX_SIZE (512u * 1024u)
#define TRASH_SIZE  (64u * 1024u)

static void cleanup(LV2_Handle instance);

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
  if (!self->map) {
    lv2_log_error(&self->logger, "chronus: the host gives no urid:map\n");
    free(self);
    return NULL;
  }

  const size_t path_len = strlen(bundle_path);
  self->bundle_path     = (char*)calloc(1, path_len + 2u);
  if (self->bundle_path) {
    memcpy(self->bundle_path, bundle_path, path_len);
    if (!path_len || bundle_path[path_len - 1u] != '/') {
      self->bundle_path[path_len] = '/';
    }
  }
  ch_uris_map(&self->uris, self->map);
  lv2_atom_forge_init(&self->forge, self->map);
  self->rate        = (float)rate;
  self->program_now = 0;   /* what a new instance plays */
  self->gain_db     = NAN; /* the first port reading sets the gain at once */
  self->gain_target = 1.0f;
  self->gain_now    = 1.0f;
  self->gain_coeff  = 1.0f - expf(-1.0f / (0.01f * self->rate)); /* 10 ms */
  ch_voicing_init(&self->voicing, &self->host);
  /* -0.5 dBFS: close to full scale, with room for inter-sample peaks. */
  ch_limiter_init(&self->limiter, self->rate, 0.944f, 0.15f);
  atomic_init(&self->restored, NULL);
  atomic_init(&self->watching, false);
  atomic_init(&self->port_taken, false);
  atomic_init(&self->program_restored, -1);
  atomic_init(&self->program_shown, 0);
  self->program_late    = -1;
  self->program_started = false;

  ChError err;
  ch_error_clear(&err);
  self->standby   = ch_model_new();
  self->committed = ch_model_new();
  if (!self->bundle_path || !self->standby || !self->committed ||
      ch_ring_init(&self->inbox, INBOX_SIZE) ||
      ch_ring_init(&self->outbox, OUTBOX_SIZE) ||
      ch_ring_init(&self->trash, TRASH_SIZE)) {
    lv2_log_error(&self->logger, "chronus: out of memory\n");
    cleanup(self);
    return NULL;
  }

  /* Start with program 0; without a bank, with an empty (silent) patch. */
  if (ch_bank_read(self, 0, self->standby, &err)) {
    lv2_log_error(&self->logger, "chronus: %s\n", err.msg);
  }
  if (ch_model_assign(self->committed, self->standby, &err) ||
      ch_build(self, self->standby, NULL, &self->active, NULL, &err)) {
    lv2_log_error(&self->logger, "chronus: cannot start: %s\n", err.msg);
    cleanup(self);
    return NULL;
  }
  ch_voicing_set_voices(&self->voicing, ch_graph_polyphony(self->active));
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
  default:
    if (port >= CH_PORT_MACRO && port < CH_PORT_MACRO + CH_N_MACROS) {
      self->macro[port - CH_PORT_MACRO] = (const float*)data;
    }
    break;
  }
}

/* Notify writing (audio thread) */

CH_REALTIME static bool
write_answer(Chronus* const    self,
             const LV2_URID    type,
             const ChReply*    reply,
             const char* const text)
{
  LV2_Atom_Forge* const forge = &self->forge;
  const ChUris* const   uris  = &self->uris;
  LV2_Atom_Forge_Frame  frame;
  if (!lv2_atom_forge_frame_time(forge, 0) ||
      !lv2_atom_forge_object(forge, &frame, 0, type)) {
    return false;
  }
  if (reply->has_seq) {
    lv2_atom_forge_key(forge, uris->ch_seq);
    lv2_atom_forge_int(forge, reply->seq);
  }
  if (type == uris->ch_Committed) {
    lv2_atom_forge_key(forge, uris->ch_generation);
    lv2_atom_forge_long(forge, (int64_t)ch_graph_generation(self->active));
    lv2_atom_forge_key(forge, uris->ch_buildTime);
    lv2_atom_forge_float(forge, reply->build_ms);
  } else if (type == uris->ch_Error) {
    lv2_atom_forge_key(forge, uris->ch_message);
    lv2_atom_forge_string(forge, text, (uint32_t)strlen(text));
  } else if (type == uris->patch_Set) {
    lv2_atom_forge_key(forge, uris->patch_property);
    lv2_atom_forge_urid(forge, reply->property);
    lv2_atom_forge_key(forge, uris->patch_value);
    if (reply->path) {
      lv2_atom_forge_path(forge, text, (uint32_t)strlen(text));
    } else {
      lv2_atom_forge_string(forge, text, (uint32_t)strlen(text));
    }
  }
  lv2_atom_forge_pop(forge, &frame);
  /* The forge returns 0 from then on once out of space; the frame may be
     left half-written, which is why callers check space first. */
  return forge->offset <= forge->size;
}

/* Room needed to write `reply`, generously. */
CH_REALTIME static uint32_t
answer_size(const ChReply* const reply)
{
  return 160u + reply->text_len;
}

CH_REALTIME static uint32_t
forge_space(const Chronus* const self)
{
  return (uint32_t)(self->forge.size - self->forge.offset);
}

CH_REALTIME static void
write_error(Chronus* const    self,
            const bool        has_seq,
            const int32_t     seq,
            const char* const text)
{
  ChReply reply;
  memset(&reply, 0, sizeof(reply));
  reply.type     = CH_REPLY_ERROR;
  reply.has_seq  = has_seq;
  reply.seq      = seq;
  reply.text_len = (uint32_t)strlen(text) + 1u;
  if (forge_space(self) >= answer_size(&reply)) {
    write_answer(self, self->uris.ch_Error, &reply, text);
  } else {
    ++self->dropped_notify;
  }
}

/* Graph swaps (audio thread) */

CH_REALTIME static void
retire(Chronus* const self, ChGraph* const graph)
{
  /* The trash holds thousands of pointers and the worker empties it every
     time it runs, which it must do to build each graph we retire. */
  if (ch_ring_write(&self->trash, &graph, sizeof(graph), NULL, 0)) {
    self->work_owed = true;
  }
}

CH_REALTIME static bool
swap_in(Chronus* const self, ChGraph* const graph)
{
  if (ch_graph_generation(graph) < ch_graph_generation(self->active)) {
    retire(self, graph); /* overtaken by a newer one (a state restore) */
    return false;
  }
  ch_graph_carry(graph, self->active);
  retire(self, self->active);
  self->active = graph;
  ch_voicing_set_voices(&self->voicing, ch_graph_polyphony(graph));
  return true;
}

/* Cycle start: swap in what the worker or a restore finished, and pass the
   worker's answers on.  What does not fit in notify waits for next cycle. */
CH_REALTIME static void
begin_cycle(Chronus* const self)
{
  const ChUris* const uris = &self->uris;

  /* A restored state first: graphs the worker built before the restore are
     older and get dropped; those built after it carry from it. */
  ChGraph* const restored = atomic_exchange(&self->restored, NULL);
  if (restored) {
    swap_in(self, restored);
  }

  uint32_t    size = 0;
  const void* record;
  while ((record = ch_ring_peek(&self->outbox, &size))) {
    const ChReply* const reply    = (const ChReply*)record;
    const char* const    text     = (const char*)(reply + 1);
    const bool           fits_now = forge_space(self) >= answer_size(reply);
    if (reply->type == CH_REPLY_COMMITTED) {
      /* A swap never waits for room to announce it. */
      const bool newer = swap_in(self, reply->graph);
      if (!fits_now) {
        ++self->dropped_notify;
      } else if (newer) {
        write_answer(self, uris->ch_Committed, reply, text);
      } else {
        write_answer(self, uris->ch_Error, reply,
                     "commit superseded by a restored state");
      }
    } else if (reply->type == CH_REPLY_SET) {
      const char* const param = text + strlen(text) + 1u;
      const int         m     = ch_graph_find(self->active, text);
      const int         p =
        m < 0 ? -1 : ch_graph_find_param(self->active, (uint32_t)m, param);
      if (p >= 0) {
        ch_graph_set_ordered(self->active, (uint32_t)m, (uint32_t)p,
                             reply->value, reply->order);
      }
    } else if (answer_size(reply) > self->forge.size) {
      /* It would never fit: waiting would block every answer behind it. */
      const bool    has_seq = reply->has_seq;
      const int32_t seq     = reply->seq;
      ch_ring_pop(&self->outbox);
      write_error(self, has_seq, seq,
                  "an answer was too large for the notify buffer and was "
                  "dropped (the host's atom buffer is too small)");
      continue;
    } else if (!fits_now) {
      break; /* the rest waits for next cycle's notify buffer */
    } else {
      const LV2_URID type = reply->type == CH_REPLY_ACK     ? uris->ch_Ack
                            : reply->type == CH_REPLY_ERROR ? uris->ch_Error
                                                            : uris->patch_Set;
      write_answer(self, type, reply, text);
    }
    ch_ring_pop(&self->outbox);
  }

  if (self->dropped_notify && forge_space(self) > 256u) {
    self->dropped_notify = 0;
    write_error(self, false, 0,
                "the notify buffer was full: some answers were lost");
  }
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

/* ch:Set and ch:Gate act on the playing graph at once; the worker then
   applies them to the models and answers. */
CH_REALTIME static void
apply_now(Chronus* const               self,
          const LV2_Atom_Object* const obj,
          const uint32_t               order)
{
  const ChUris* const uris   = &self->uris;
  const LV2_Atom*     module = NULL;
  const LV2_Atom*     param  = NULL;
  const LV2_Atom*     value  = NULL;
  lv2_atom_object_get(obj, uris->ch_module, &module, uris->ch_param, &param,
                      uris->ch_value, &value, 0);
  const char* const module_name = ch_atom_string(uris, module);
  const char* const param_name =
    obj->body.otype == uris->ch_Gate ? "gate" : ch_atom_string(uris, param);
  float number = 0.0f;
  if (!module_name || !param_name || !ch_atom_number(uris, value, &number)) {
    return;
  }
  if (obj->body.otype == uris->ch_Gate) {
    number = number > 0.5f ? 1.0f : 0.0f;
  }
  const int m = ch_graph_find(self->active, module_name);
  const int p =
    m < 0 ? -1 : ch_graph_find_param(self->active, (uint32_t)m, param_name);
  if (p >= 0) {
    ch_graph_set_ordered(self->active, (uint32_t)m, (uint32_t)p, number, order);
  }
}

CH_REALTIME static void
forward(Chronus* const self, const LV2_Atom* const atom, const ChMsg* msg)
{
  if (!ch_ring_write(&self->inbox, msg, sizeof(*msg), atom,
                     (uint32_t)sizeof(LV2_Atom) + atom->size)) {
    const LV2_Atom* seq = NULL;
    if (atom->type == self->uris.atom_Object) {
      lv2_atom_object_get((const LV2_Atom_Object*)atom, self->uris.ch_seq, &seq,
                          0);
    }
    const bool has_seq = seq && seq->type == self->uris.atom_Int;
    write_error(self, has_seq, has_seq ? ((const LV2_Atom_Int*)seq)->body : 0,
                "message dropped: the queue to the worker is full or the "
                "message is too large");
    return;
  }
  tell_worker(self);
}

/* Ask the worker to load and commit program `number` of the bank. */
CH_REALTIME static void
request_program(Chronus* const self, const int32_t number)
{
  const ChMsg msg = { .type = CH_MSG_PROGRAM, .value = number };
  if (ch_ring_write(&self->inbox, &msg, sizeof(msg), NULL, 0)) {
    tell_worker(self);
  } else {
    write_error(self, false, 0,
                "program change dropped: the queue to the worker is full");
  }
}

CH_REALTIME static void
handle_event(Chronus* const self, const LV2_Atom_Event* const ev)
{
  const ChUris* const uris = &self->uris;
  if (ev->body.type == uris->midi_Event) {
    const uint8_t* const midi = (const uint8_t*)(ev + 1);
    if (ev->body.size == 2 && (midi[0] & 0xF0) == 0xC0 && midi[1] < 0x80) {
      request_program(self, midi[1]);
    } else {
      ch_voicing_midi(&self->voicing, midi, ev->body.size);
    }
  } else if (ev->body.type == uris->atom_Object) {
    const LV2_Atom_Object* const obj = (const LV2_Atom_Object*)&ev->body;
    if (obj->body.otype == uris->time_Position) {
      return; /* hosts send the transport every cycle; we have no use yet */
    }
    ChMsg msg = { .type = CH_MSG_ATOM };
    if (obj->body.otype == uris->ch_Set || obj->body.otype == uris->ch_Gate) {
      /* Stamped, so the worker can replay it on a graph built without it. */
      msg.generation = ch_graph_generation(self->active);
      msg.order      = ++self->set_count;
      apply_now(self, obj, msg.order);
    }
    forward(self, &ev->body, &msg);
  }
}

/* Rendering (audio thread) */

CH_REALTIME static void
render(Chronus* const self, const uint32_t from, const uint32_t to)
{
  if (to <= from) {
    return;
  }
  float* const   left  = self->out[0] + from;
  float* const   right = self->out[1] + from;
  const uint32_t n     = to - from;
  const bool  wrote  = ch_graph_run(self->active, &self->host, left, right, n);
  float       gain   = self->gain_now;
  const float target = self->gain_target;
  /* Nothing sounding (the graph wrote zeros): nothing to check, scale or
     limit, unless a gain glide or a limiter release is under way (below
     its ceiling the limiter's envelope no longer matters). */
  if (!wrote && gain == target && self->limiter.env <= self->limiter.ceiling) {
    return;
  }

  /* A patch can blow up (a filter at the edge, a feedback of gains); never
     pass NaN or infinity to the host. */
  if (!ch_silence_nonfinite(left, right, n)) {
    if (!self->muted_reports) {
      self->muted_reports = (uint32_t)self->rate;
      write_error(self, false, 0,
                  "the patch produced non-finite output (NaN or infinity); "
                  "muted it");
    }
  }

  const float coeff = self->gain_coeff;
  for (uint32_t i = 0; i < n; ++i) {
    gain += coeff * (target - gain);
    left[i] *= gain;
    right[i] *= gain;
  }
  self->gain_now = fabsf(gain - target) < 1e-6f ? target : gain;

  if (!self->limiter_on || *self->limiter_on > 0.5f) {
    ch_limiter_process(&self->limiter, left, right, n);
  }
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
  const int32_t program =
    (int32_t)lrintf(fminf(fmaxf(*self->program, 0.0f), 127.0f));
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
    const float db    = fminf(fmaxf(*self->gain, -60.0f), 12.0f);
    self->gain_db     = *self->gain;
    self->gain_target = db <= -60.0f ? 0.0f : powf(10.0f, db / 20.0f);
    if (first) {
      self->gain_now = self->gain_target; /* no fade from 0 dB at start */
    }
  }
  for (uint32_t i = 0; i < CH_N_MACROS; ++i) {
    if (self->macro[i]) {
      self->host.macro[i] = fminf(fmaxf(*self->macro[i], 0.0f), 1.0f);
    }
  }
  if (self->program) {
    read_program_port(self);
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
  const ChMsg msg      = { .type = CH_MSG_POLL };
  if (ch_ring_write(&self->inbox, &msg, sizeof(msg), NULL, 0)) {
    tell_worker(self);
  }
}

/* Denormals flush to zero while we run (they cost hundreds of cycles each
   in filter tails and feedback); the host's own mode is put back after. */
#if CH_HAVE_MXCSR
#  define CH_FTZ_DAZ 0x8040u
typedef unsigned ChFloatMode;
CH_REALTIME static ChFloatMode
enter_float_mode(void)
{
  const ChFloatMode host = _mm_getcsr();
  _mm_setcsr(host | CH_FTZ_DAZ);
  return host;
}
CH_REALTIME static void
leave_float_mode(const ChFloatMode host)
{
  _mm_setcsr(host);
}
#else
typedef int ChFloatMode;
CH_REALTIME static ChFloatMode
enter_float_mode(void)
{
  return 0;
}
CH_REALTIME static void
leave_float_mode(const ChFloatMode host)
{
  (void)host;
}
#endif

CH_REALTIME static void
run(LV2_Handle instance, const uint32_t n_frames)
{
  Chronus* const    self = (Chronus*)instance;
  const ChFloatMode mode = enter_float_mode();

  const uint32_t capacity = self->notify->atom.size;
  lv2_atom_forge_set_buffer(&self->forge, (uint8_t*)self->notify, capacity);
  LV2_Atom_Forge_Frame notify_frame;
  lv2_atom_forge_sequence_head(&self->forge, &notify_frame, 0);

  begin_cycle(self);
  read_control_ports(self);
  if (self->work_owed) {
    tell_worker(self);
  }

  uint32_t done = 0;
  LV2_ATOM_SEQUENCE_FOREACH(self->control, ev)
  {
    const int64_t  frames = ev->time.frames;
    const uint32_t at     = frames < (int64_t)done       ? done
                            : frames > (int64_t)n_frames ? n_frames
                                                         : (uint32_t)frames;
    render(self, done, at);
    done = at;
    handle_event(self, ev);
  }
  render(self, done, n_frames);

  self->muted_reports =
    self->muted_reports > n_frames ? self->muted_reports - n_frames : 0;
  poll_patch_file(self, n_frames);
  lv2_atom_forge_pop(&self->forge, &notify_frame);
  leave_float_mode(mode);
}

static void
cleanup(LV2_Handle instance)
{
  Chronus* const self = (Chronus*)instance;
  ch_worker_empty_trash(self);
  uint32_t    size = 0;
  const void* record;
  while ((record = ch_ring_peek(&self->outbox, &size))) {
    ch_graph_free(((const ChReply*)record)->graph);
    ch_ring_pop(&self->outbox);
  }
  ch_graph_free(atomic_exchange(&self->restored, NULL));
  ch_graph_free(self->active);
  ch_ring_destroy(&self->inbox);
  ch_ring_destroy(&self->outbox);
  ch_ring_destroy(&self->trash);
  ch_model_free(self->standby);
  ch_model_free(self->committed);
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
