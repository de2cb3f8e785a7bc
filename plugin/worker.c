/* The worker thread: applies edits to the standby patch, builds and primes
   new graphs on commit, answers, and frees retired graphs. */
#include "chronus.h"

#include "../src/patch.h"

#include <lv2/atom/util.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Blocks a new graph runs before it may play: fills filter and envelope
   state, faults in every page, warms the caches. */
#define PRIME_FRAMES (4u * CH_MAX_BLOCK)

static double
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

ChStatus
ch_build(Chronus* const       self,
         const ChModel* const model,
         const ChModel* const base,
         ChGraph** const      graph,
         float* const         build_ms,
         ChError*             err)
{
  const double   start = now_ms();
  const ChStatus st    = ch_graph_new(model, base, self->rate, graph, err);
  if (!st) {
    ch_graph_prime(*graph, PRIME_FRAMES);
    ch_graph_set_generation(*graph, ++self->generation);
  }
  if (build_ms) {
    *build_ms = (float)(now_ms() - start);
  }
  return st;
}

/* Answers */

/* The header of an answer to the message carrying `seq` (may be NULL). */
static ChReply
reply_to(const Chronus* const self, const uint32_t type, const LV2_Atom* seq)
{
  ChReply header;
  memset(&header, 0, sizeof(header));
  header.type    = type;
  header.has_seq = seq && seq->type == self->uris.atom_Int;
  header.seq     = header.has_seq ? ((const LV2_Atom_Int*)seq)->body : 0;
  return header;
}

/* Queue an answer for run(); `text` (may be NULL) follows the header. */
static void
push(Chronus* const self, ChReply header, const char* const text)
{
  header.text_len = text ? (uint32_t)strlen(text) + 1u : 0u;
  if (!ch_ring_write(&self->outbox, &header, sizeof(header), text,
                     header.text_len)) {
    lv2_log_error(&self->logger, "chronus: answer queue full, dropped: %s\n",
                  text ? text : "(no text)");
    ch_graph_free(header.graph);
  }
}

static void
reply(Chronus* const    self,
      const uint32_t    type,
      const LV2_Atom*   seq,
      ChGraph* const    graph,
      const float       build_ms,
      const char* const text)
{
  ChReply header  = reply_to(self, type, seq);
  header.graph    = graph;
  header.build_ms = build_ms;
  push(self, header, text);
}

/* Ask run() to apply module:param = value, as ch:Set number `order`. */
static void
replay_set(Chronus* const    self,
           const char* const module,
           const char* const param,
           const float       value,
           const uint32_t    order)
{
  char         names[2u * (CH_NAME_MAX + 1u) + 64u];
  const size_t m_len = strlen(module) + 1u;
  const size_t p_len = strlen(param) + 1u;
  if (m_len + p_len > sizeof(names)) {
    return; /* not names the model accepted */
  }
  memcpy(names, module, m_len);
  memcpy(names + m_len, param, p_len);
  ChReply header  = reply_to(self, CH_REPLY_SET, NULL);
  header.order    = order;
  header.value    = value;
  header.text_len = (uint32_t)(m_len + p_len);
  if (!ch_ring_write(&self->outbox, &header, sizeof(header), names,
                     header.text_len)) {
    lv2_log_error(&self->logger, "chronus: answer queue full, dropped a set\n");
  }
}

/* Answer with patch:Set `property` = `text` (a path if `path`). */
static void
reply_property(Chronus* const    self,
               const LV2_Atom*   seq,
               const LV2_URID    property,
               const bool        path,
               const char* const text)
{
  ChReply header  = reply_to(self, CH_REPLY_PROPERTY, seq);
  header.property = property;
  header.path     = path;
  push(self, header, text);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
reply_error(Chronus* const self, const LV2_Atom* seq, const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  vsnprintf(self->text, sizeof(self->text), fmt, args);
  va_end(args);
  lv2_log_error(&self->logger, "chronus: %s\n", self->text);
  reply(self, CH_REPLY_ERROR, seq, NULL, 0.0f, self->text);
}

/* Acknowledge success, or pass the error on. */
static void
answer(Chronus* const       self,
       const LV2_Atom*      seq,
       const ChStatus       st,
       const ChError* const err)
{
  if (st) {
    reply_error(self, seq, "%s", err->msg);
  } else if (seq) {
    reply(self, CH_REPLY_ACK, seq, NULL, 0.0f, NULL);
  }
}

/* Messages */

static const char*
uri_of(const Chronus* const self, const LV2_URID urid)
{
  const char* const uri =
    self->unmap ? self->unmap->unmap(self->unmap->handle, urid) : NULL;
  return uri ? uri : "(unknown URI)";
}

static void
commit(Chronus* const self, const LV2_Atom* const seq)
{
  ChError  err;
  ChGraph* graph    = NULL;
  float    build_ms = 0.0f;
  ch_error_clear(&err);
  const ChStatus st =
    ch_build(self, self->standby, self->committed, &graph, &build_ms, &err);
  if (st) {
    reply_error(self, seq, "commit rejected: %s", err.msg);
    return;
  }
  if (ch_model_assign(self->committed, self->standby, &err)) {
    ch_graph_free(graph);
    reply_error(self, seq, "commit rejected: %s", err.msg);
    return;
  }
  reply(self, CH_REPLY_COMMITTED, seq, graph, build_ms, NULL);
}

/* Replace standby with `model`, keeping identities of modules that stay. */
static void
adopt(Chronus* const self, ChModel* const model)
{
  ch_model_adopt_uids(model, self->standby);
  ChModel* const old = self->standby;
  self->standby      = model;
  ch_model_free(old);
}

/* Make a freshly read `model` the standby patch, or drop it on error. */
static ChStatus
adopt_read(Chronus* const self, ChModel* const model, const ChStatus st)
{
  if (st) {
    ch_model_free(model);
  } else {
    adopt(self, model);
  }
  return st;
}

/* Replace standby with a patch read from Turtle text or from a file. */
static ChStatus
load_text(Chronus* const self, const char* const text, ChError* const err)
{
  ChModel* const model = ch_model_new();
  return model ? adopt_read(self, model,
                            ch_patch_read(model, text, strlen(text), err))
               : ch_error(err, CH_ERR_NO_MEMORY, "out of memory");
}

static ChStatus
load_file(Chronus* const self, const char* const path, ChError* const err)
{
  ChModel* const model = ch_model_new();
  return model ? adopt_read(self, model, ch_patch_read_file(model, path, err))
               : ch_error(err, CH_ERR_NO_MEMORY, "out of memory");
}

/* Path of program `number` of the bank: <bundle>/bank/NN-name.ttl. */
static bool
find_program(const Chronus* const self,
             const int32_t        number,
             char* const          path,
             const size_t         size)
{
  char prefix[8];
  snprintf(prefix, sizeof(prefix), "%02d-", number);
  snprintf(path, size, "%sbank", self->bundle_path);
  DIR* const dir = opendir(path);
  if (!dir) {
    return false;
  }
  bool           found = false;
  struct dirent* entry;
  while (!found && (entry = readdir(dir))) {
    const size_t len = strlen(entry->d_name);
    found            = !strncmp(entry->d_name, prefix, 3) && len > 7 &&
            !strcmp(entry->d_name + len - 4, ".ttl");
    if (found) {
      snprintf(path, size, "%sbank/%s", self->bundle_path, entry->d_name);
    }
  }
  closedir(dir);
  return found;
}

ChStatus
ch_bank_read(const Chronus* const self,
             const int32_t        number,
             ChModel* const       model,
             ChError* const       err)
{
  char path[4096];
  if (!find_program(self, number, path, sizeof(path))) {
    return ch_error(err, CH_ERR_IO, "program %d is not in the bank (%sbank/)",
                    number, self->bundle_path);
  }
  return ch_patch_read_file(model, path, err);
}

static void
program(Chronus* const self, const int32_t number)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ch_error_clear(&err);
  if (!model) {
    reply_error(self, NULL, "program %d: out of memory", number);
  } else if (adopt_read(self, model, ch_bank_read(self, number, model, &err))) {
    reply_error(self, NULL, "%s", err.msg);
  } else {
    commit(self, NULL);
  }
}

static void
patch_set(Chronus* const               self,
          const LV2_Atom_Object* const obj,
          const LV2_Atom* const        seq)
{
  const ChUris* const uris     = &self->uris;
  const LV2_Atom*     property = NULL;
  const LV2_Atom*     value    = NULL;
  lv2_atom_object_get(obj, uris->patch_property, &property, uris->patch_value,
                      &value, 0);
  if (!property || property->type != uris->atom_URID) {
    reply_error(self, seq, "patch:Set without a patch:property");
    return;
  }
  const LV2_URID key = ((const LV2_Atom_URID*)property)->body;
  if (key == uris->ch_patchFile) {
    const char* const path = ch_atom_string(&self->uris, value);
    if (!path) {
      reply_error(self, seq, "patch:Set ch:patchFile needs an atom:Path");
    } else {
      ch_worker_set_patch_file(self, path, seq);
    }
    return;
  }
  if (key != uris->ch_patch) {
    reply_error(self, seq, "patch:Set: unknown property <%s>",
                uri_of(self, key));
    return;
  }
  const char* const text = ch_atom_string(&self->uris, value);
  ChError           err;
  ch_error_clear(&err);
  if (!text) {
    reply_error(self, seq, "patch:Set ch:patch needs a string of Turtle");
  } else if (load_text(self, text, &err)) {
    reply_error(self, seq, "load failed: %s", err.msg);
  } else {
    commit(self, seq);
  }
}

/* Patch file watching */

static ChFileStamp
stamp_of(const char* const path)
{
  struct stat st;
  ChFileStamp stamp;
  memset(&stamp, 0, sizeof(stamp));
  if (!stat(path, &st)) {
    stamp.mtime_ns =
      (int64_t)st.st_mtim.tv_sec * 1000000000 + (int64_t)st.st_mtim.tv_nsec;
    stamp.size   = (int64_t)st.st_size;
    stamp.inode  = (uint64_t)st.st_ino;
    stamp.exists = true;
  }
  return stamp;
}

static bool
same_stamp(const ChFileStamp* const a, const ChFileStamp* const b)
{
  return a->exists == b->exists && a->mtime_ns == b->mtime_ns &&
         a->size == b->size && a->inode == b->inode;
}

/* Load the watched patch file and commit it; on error report it and keep
   playing what plays (the next change on disk tries again).  A file with
   no module in it is refused too: a half-saved file that is still valid
   Turtle (only its prefixes, say) must not silence the instrument. */
static void
reload_patch_file(Chronus* const self, const LV2_Atom* const seq)
{
  ChError err;
  ch_error_clear(&err);
  self->file_stamp = self->file_seen = stamp_of(self->patch_file);
  ChModel* const model               = ch_model_new();
  ChStatus       st = model ? ch_patch_read_file(model, self->patch_file, &err)
                            : ch_error(&err, CH_ERR_NO_MEMORY, "out of memory");
  if (!st && !ch_model_n_modules(model)) {
    st =
      ch_error(&err, CH_ERR_BAD_PATCH, "%s: holds no module", self->patch_file);
  }
  if (adopt_read(self, model, st)) {
    reply_error(self, seq,
                "patch file: %s; still playing the last patch loaded", err.msg);
  } else {
    commit(self, seq);
  }
}

void
ch_worker_set_patch_file(Chronus* const        self,
                         const char* const     path,
                         const LV2_Atom* const seq)
{
  if (strlen(path) >= sizeof(self->patch_file)) {
    reply_error(self, seq, "patch file path too long (%zu bytes)",
                strlen(path));
    return;
  }
  /* Hosts may send the property again and again: the same unchanged file
     is no new commit. */
  const ChFileStamp now = stamp_of(path);
  if (!strcmp(path, self->patch_file) && same_stamp(&now, &self->file_stamp)) {
    if (seq) {
      reply(self, CH_REPLY_ACK, seq, NULL, 0.0f, NULL);
    }
    return;
  }
  snprintf(self->patch_file, sizeof(self->patch_file), "%s", path);
  atomic_store(&self->watching, path[0] != '\0');
  if (path[0]) {
    reload_patch_file(self, seq);
  } else if (seq) {
    reply(self, CH_REPLY_ACK, seq, NULL, 0.0f, NULL); /* stop watching */
  }
}

/* Reload the watched file once it has changed and then stayed unchanged
   (mtime, size, inode) from one poll to the next, a quarter second: an
   editor that truncates and then writes in place is never read mid-save. */
static void
poll_patch_file(Chronus* const self)
{
  if (!self->patch_file[0]) {
    return;
  }
  const ChFileStamp now    = stamp_of(self->patch_file);
  const bool        stable = same_stamp(&now, &self->file_seen);
  self->file_seen          = now;
  if (same_stamp(&now, &self->file_stamp) || !stable) {
    return;
  }
  if (now.exists) {
    reload_patch_file(self, NULL);
  } else {
    self->file_stamp = now;
    reply_error(self, NULL,
                "patch file %s has gone; still playing the "
                "last patch loaded",
                self->patch_file);
  }
}

static void
patch_get(Chronus* const self, const LV2_Atom* const seq)
{
  ChError err;
  ch_error_clear(&err);
  char* const text = ch_patch_write(self->committed, &err);
  if (!text) {
    reply_error(self, seq, "patch:Get: %s", err.msg);
    return;
  }
  reply_property(self, seq, self->uris.ch_patch, false, text);
  free(text);
  if (self->patch_file[0]) {
    reply_property(self, seq, self->uris.ch_patchFile, true, self->patch_file);
  }
}

static void
message(Chronus* const self, const ChMsg* const msg, const LV2_Atom* const atom)
{
  const ChUris* const uris = &self->uris;
  if (atom->type != uris->atom_Object) {
    return;
  }
  const LV2_Atom_Object* const obj    = (const LV2_Atom_Object*)atom;
  const LV2_URID               type   = obj->body.otype;
  const LV2_Atom*              seq    = NULL;
  const LV2_Atom*              module = NULL;
  const LV2_Atom*              kind   = NULL;
  const LV2_Atom*              from   = NULL;
  const LV2_Atom*              to     = NULL;
  const LV2_Atom*              param  = NULL;
  const LV2_Atom*              value  = NULL;
  const LV2_Atom*              text   = NULL;
  const LV2_Atom*              file   = NULL;
  lv2_atom_object_get(obj, uris->ch_seq, &seq, uris->ch_module, &module,
                      uris->ch_kind, &kind, uris->ch_from, &from, uris->ch_to,
                      &to, uris->ch_param, &param, uris->ch_value, &value,
                      uris->ch_text, &text, uris->ch_file, &file, 0);
  if (!seq) {
    lv2_atom_object_get(obj, uris->patch_sequenceNumber, &seq, 0);
  }

  ChError err;
  ch_error_clear(&err);
  const char* const module_name = ch_atom_string(&self->uris, module);
  float             number      = 0.0f;

  if (type == uris->ch_Create) {
    if (!module_name || !ch_atom_string(&self->uris, kind)) {
      reply_error(self, seq, "ch:Create needs ch:module and ch:kind strings");
      return;
    }
    answer(self, seq,
           ch_model_create(self->standby, module_name,
                           ch_atom_string(&self->uris, kind), &err),
           &err);
  } else if (type == uris->ch_Delete) {
    if (!module_name) {
      reply_error(self, seq, "ch:Delete needs a ch:module string");
      return;
    }
    answer(self, seq, ch_model_delete(self->standby, module_name, &err), &err);
  } else if (type == uris->ch_Connect || type == uris->ch_Disconnect) {
    const char* const a = ch_atom_string(&self->uris, from);
    const char* const b = ch_atom_string(&self->uris, to);
    if (!a || !b) {
      reply_error(self, seq, "%s needs ch:from and ch:to strings",
                  type == uris->ch_Connect ? "ch:Connect" : "ch:Disconnect");
      return;
    }
    answer(self, seq,
           type == uris->ch_Connect
             ? ch_model_connect(self->standby, a, b, &err)
             : ch_model_disconnect(self->standby, a, b, &err),
           &err);
  } else if (type == uris->ch_Set || type == uris->ch_Gate) {
    const bool        gate = type == uris->ch_Gate;
    const char* const param_name =
      gate ? "gate" : ch_atom_string(&self->uris, param);
    if (!module_name || !param_name ||
        !ch_atom_number(&self->uris, value, &number)) {
      reply_error(self, seq, "%s needs ch:module%s and a numeric ch:value",
                  gate ? "ch:Gate" : "ch:Set", gate ? "" : ", ch:param");
      return;
    }
    if (gate) {
      number = number > 0.5f ? 1.0f : 0.0f;
    }
    /* The playing patch has it already (run() set it); keep both models in
       step with it.  Fine if only one of them has the module. */
    ChError        other;
    const ChStatus st_standby =
      ch_model_set(self->standby, module_name, param_name, number, &err);
    const ChStatus st_committed =
      ch_model_set(self->committed, module_name, param_name, number, &other);
    const bool ok = !st_standby || !st_committed;
    answer(self, seq, ok ? CH_SUCCESS : st_standby, &err);
    if (ok && msg->generation < self->generation) {
      /* A graph newer than the one run() set it on was built without it:
         have run() set it there too (unless newer Sets came since). */
      replay_set(self, module_name, param_name, number, msg->order);
    }
  } else if (type == uris->ch_Commit) {
    commit(self, seq);
  } else if (type == uris->ch_Abort) {
    answer(self, seq, ch_model_assign(self->standby, self->committed, &err),
           &err);
  } else if (type == uris->ch_Load) {
    const char* const turtle = ch_atom_string(&self->uris, text);
    const char* const path   = ch_atom_string(&self->uris, file);
    if (!turtle && !path) {
      reply_error(self, seq, "ch:Load needs ch:text (Turtle) or ch:file");
      return;
    }
    const ChStatus st =
      turtle ? load_text(self, turtle, &err) : load_file(self, path, &err);
    if (st) {
      reply_error(self, seq, "load failed: %s", err.msg);
    } else {
      answer(self, seq, st, &err);
    }
  } else if (type == uris->patch_Get) {
    patch_get(self, seq);
  } else if (type == uris->patch_Set) {
    patch_set(self, obj, seq);
  } else if (!strncmp(uri_of(self, type), CH_URI, strlen(CH_URI))) {
    reply_error(self, seq, "unknown message type <%s>", uri_of(self, type));
  } else if (seq) {
    reply_error(self, seq, "message type <%s> is not for Chronus",
                uri_of(self, type));
  } /* else: another vocabulary's object, not meant for us: ignore it */
}

void
ch_worker_empty_trash(Chronus* const self)
{
  uint32_t    size = 0;
  const void* record;
  while ((record = ch_ring_peek(&self->trash, &size))) {
    ChGraph* graph = NULL;
    memcpy(&graph, record, sizeof(graph));
    ch_graph_free(graph);
    ch_ring_pop(&self->trash);
  }
}

void
ch_worker_drain(Chronus* const self)
{
  pthread_mutex_lock(&self->lock);
  ch_worker_empty_trash(self);
  uint32_t    size = 0;
  const void* record;
  while ((record = ch_ring_peek(&self->inbox, &size))) {
    const ChMsg* const msg = (const ChMsg*)record;
    if (msg->type == CH_MSG_ATOM) {
      message(self, msg, (const LV2_Atom*)(msg + 1));
    } else if (msg->type == CH_MSG_PROGRAM) {
      program(self, msg->value);
    } else if (msg->type == CH_MSG_POLL) {
      poll_patch_file(self);
    }
    ch_ring_pop(&self->inbox);
  }
  pthread_mutex_unlock(&self->lock);
}

LV2_Worker_Status
ch_work(LV2_Handle                  instance,
        LV2_Worker_Respond_Function respond,
        LV2_Worker_Respond_Handle   handle,
        const uint32_t              size,
        const void* const           data)
{
  (void)respond;
  (void)handle;
  (void)size;
  (void)data;
  /* Every call drains all queued messages in order, so a failed or late
     schedule_work never loses or reorders one. */
  ch_worker_drain((Chronus*)instance);
  return LV2_WORKER_SUCCESS;
}

LV2_Worker_Status
ch_work_response(LV2_Handle        instance,
                 const uint32_t    size,
                 const void* const body)
{
  /* Answers travel in our own outbox, which run() reads at cycle start:
     that way a swap always lands at a cycle boundary, even when the host
     runs the worker synchronously inside run(). */
  (void)instance;
  (void)size;
  (void)body;
  return LV2_WORKER_SUCCESS;
}
