/* The worker thread: applies edits to the standby patch, builds and primes
   new graphs on commit, answers, and frees retired graphs. */
#include "chronus.h"

#include "../src/build.h"
#include "../src/patch.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Blocks a primed graph (ch_build) then runs warm and timed (thread CPU time,
   which other processes on a busy machine do not inflate) to estimate the load:
   enough audio (about 20 ms) that the clock's granularity (nanoseconds) and a
   stray cache miss do not matter, little enough that a thousand commits of a
   patch at the size limits stay quick. */
#define LOAD_FRAMES (4u * CH_MAX_BLOCK)

/* A patch whose priming takes this many times the audio it primed cannot
   play in real time on this machine (the audio thread also has the
   host's own work): refused.  Twice real time leaves a margin for a
   loaded CI machine; a patch of 1000 reverbs measures 7 to 10x.  An
   ASan/UBSan build runs its code several times slower than what ships,
   so its limit is as many times higher (RTSan's runs at full speed). */
#ifdef CH_SANITIZED
#  define LOAD_LIMIT 8.0
#else
#  define LOAD_LIMIT 2.0
#endif

static double
clock_ms(const clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double
now_ms(void)
{
  return clock_ms(CLOCK_MONOTONIC);
}

/* Prime `graph`, then time LOAD_FRAMES more of it: its load as a
   fraction of real time (1.0 = all of a core). */
static double
measure_load(ChGraph* const graph, const float rate)
{
  const double start = clock_ms(CLOCK_THREAD_CPUTIME_ID);
  ch_graph_prime(graph, LOAD_FRAMES);
  const double cpu_ms = clock_ms(CLOCK_THREAD_CPUTIME_ID) - start;
  return cpu_ms / (1e3 * (double)LOAD_FRAMES / (double)rate);
}

ChStatus
ch_plugin_build(Chronus* const       self,
                const ChModel* const model,
                const ChModel* const base,
                ChGraph** const      graph,
                float* const         build_ms,
                ChError*             err)
{
  const double start = now_ms();
  ChStatus     st    = ch_build(model, base, self->rate, graph, err);
  const double load  = st ? 0.0 : measure_load(*graph, self->rate);
  if (!st && self->generation && load > LOAD_LIMIT) {
    /* Something plays on (not the first build of an instance). */
    ch_graph_free(*graph);
    *graph = NULL;
    st     = ch_error(err, CH_ERR_TOO_LARGE,
                      "the patch cannot play in real time: priming it took "
                          "%.0f%% of real time (estimated load; the limit is "
                          "%.0f%%)",
                      100.0 * load, 100.0 * LOAD_LIMIT);
  }
  if (!st) {
    ch_graph_set_generation(*graph, ++self->generation);
  }
  if (build_ms) {
    *build_ms = (float)(now_ms() - start);
  }
  return st;
}

/* Answers */

/* The header of an answer to `req` (may be NULL: no seq). */
static ChReply
reply_to(const uint32_t type, const ChMsg* const req)
{
  ChReply header;
  memset(&header, 0, sizeof(header));
  header.type    = type;
  header.has_seq = req && req->has_seq;
  header.seq     = header.has_seq ? req->seq : 0;
  return header;
}

void
ch_reply_free(const ChReply* const reply)
{
  if (reply->type == CH_REPLY_COMMITTED) {
    ch_graph_free(reply->u.committed.graph);
  } else if (reply->type == CH_REPLY_PATCH) {
    free(reply->u.patch.text);
  }
}

/* Queue an answer for run(); `text` (may be NULL) follows the header.  What
   the header owns is freed if it cannot be queued. */
static void
push(Chronus* const self, ChReply header, const char* const text)
{
  header.text_len = text ? (uint32_t)strlen(text) + 1u : 0u;
  if (!ch_ring_write(&self->outbox, &header, sizeof(header), text,
                     header.text_len)) {
    lv2_log_error(&self->logger, "chronus: answer queue full, dropped: %s\n",
                  text ? text : "(no text)");
    ch_reply_free(&header);
  }
}

static void
reply_ack(Chronus* const self, const ChMsg* const req)
{
  if (req && req->has_seq) {
    push(self, reply_to(CH_REPLY_ACK, req), NULL);
  }
}

static void
reply_committed(Chronus* const     self,
                const ChMsg* const req,
                ChGraph* const     graph,
                const float        build_ms,
                const uint32_t     fade)
{
  ChReply header              = reply_to(CH_REPLY_COMMITTED, req);
  header.u.committed.graph    = graph;
  header.u.committed.build_ms = build_ms;
  header.u.committed.fade     = fade;
  header.u.committed.quantize =
    req && req->kind == CH_MSG_COMMIT ? req->quantize : 0u;
  push(self, header, NULL);
}

/* Frames of crossfade for a swap from the committed model to standby:
   none if every module carries over with its links (only parameters can
   have changed: they step, as a ch:Set does); else the commit's ch:fade,
   or the ch:fadeTime setting. */
static uint32_t
fade_frames(const Chronus* const self, const ChMsg* const req)
{
  if (ch_model_same_wiring(self->committed, self->standby)) {
    return 0;
  }
  float seconds = req && req->kind == CH_MSG_COMMIT && req->fade >= 0.0f
                    ? req->fade
                    : self->fade_time;
  seconds       = seconds < CH_FADE_MAX ? seconds : CH_FADE_MAX;
  return (uint32_t)(seconds * self->rate + 0.5f);
}

/* Ask run() to apply the ch:Set (or ch:Gate) `set` again, as the message
   number `order`. */
static void
replay_set(Chronus* const self, const ChMsg* const set, const uint32_t order)
{
  char         names[2u * (CH_NAME_MAX + 1u) + 64u];
  const size_t m_len = strlen(set->module) + 1u;
  const size_t p_len = strlen(set->param) + 1u;
  if (m_len + p_len > sizeof(names)) {
    return; /* not names the model accepted */
  }
  memcpy(names, set->module, m_len);
  memcpy(names + m_len, set->param, p_len);
  ChReply header     = reply_to(CH_REPLY_SET, NULL);
  header.u.set.order = order;
  header.u.set.value = set->value;
  header.text_len    = (uint32_t)(m_len + p_len);
  if (!ch_ring_write(&self->outbox, &header, sizeof(header), names,
                     header.text_len)) {
    lv2_log_error(&self->logger, "chronus: answer queue full, dropped a set\n");
  }
}

/* Answer with patch:Set ch:patchFile = the watched file (an atom:Path). */
static void
reply_patch_file(Chronus* const self, const ChMsg* const req)
{
  ChReply header             = reply_to(CH_REPLY_PROPERTY, req);
  header.u.property.property = self->uris.ch_patchFile;
  header.u.property.path     = true;
  push(self, header, self->patch_file);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
reply_error(Chronus* const self, const ChMsg* const req, const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  vsnprintf(self->text, sizeof(self->text), fmt, args);
  va_end(args);
  lv2_log_error(&self->logger, "chronus: %s\n", self->text);
  push(self, reply_to(CH_REPLY_ERROR, req), self->text);
}

/* Acknowledge success, or pass the error on. */
static void
answer(Chronus* const       self,
       const ChMsg* const   req,
       const ChStatus       st,
       const ChError* const err)
{
  if (st) {
    reply_error(self, req, "%s", err->msg);
  } else {
    reply_ack(self, req);
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

/* Build and swap in the standby patch; `record` keeps the patch it
   replaces for undo.  False (answered with an error) if refused. */
static bool
commit_as(Chronus* const self, const ChMsg* const req, const bool record)
{
  ChError  err;
  ChGraph* graph    = NULL;
  float    build_ms = 0.0f;
  ch_error_clear(&err);
  ChStatus st = ch_graph_check(self->standby, &err);
  if (!st) {
    st = ch_plugin_build(self, self->standby, self->committed, &graph,
                         &build_ms, &err);
  }
  if (st) {
    /* Standby keeps what was refused, so that a fix can follow. */
    reply_error(self, req,
                "commit rejected: %s (standby keeps this patch: fix it and "
                "commit again, or abort)",
                err.msg);
    return false;
  }
  if (record) {
    ch_history_record(&self->history, self->committed); /* else unrecorded */
  }
  const uint32_t fade = fade_frames(self, req);
  /* Kept for the fail-safe, which may bring its graph back. */
  const bool kept = !ch_model_assign(self->previous, self->committed, NULL);
  if (ch_model_assign(self->committed, self->standby, &err)) {
    self->previous_gen = 0u; /* `previous` may hold the committed patch */
    ch_graph_free(graph);
    reply_error(self, req, "commit rejected: %s", err.msg);
    return false;
  }
  self->previous_gen  = kept ? self->committed_gen : 0u;
  self->committed_gen = self->generation;
  reply_committed(self, req, graph, build_ms, fade);
  return true;
}

static void
commit(Chronus* const self, const ChMsg* const req)
{
  commit_as(self, req, true);
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
load_text(Chronus* const    self,
          const char* const text,
          const size_t      len,
          ChError* const    err)
{
  ChModel* const model = ch_model_new();
  return model ? adopt_read(self, model, ch_patch_read(model, text, len, err))
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
  } else if (ch_bank_read(self, number, model, &err)) {
    ch_model_free(model);
    reply_error(self, NULL, "%s", err.msg);
  } else {
    /* A new sound: no module carries the old patch's state because its
       name happens to match (a pad's release would sound under a bass). */
    ch_model_renew_uids(model, self->committed);
    ChModel* const old = self->standby;
    self->standby      = model;
    ch_model_free(old);
    commit(self, NULL);
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
reload_patch_file(Chronus* const self, const ChMsg* const req)
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
    reply_error(self, req,
                "patch file: %s; still playing the last patch loaded", err.msg);
  } else {
    commit(self, req);
  }
}

void
ch_worker_set_patch_file(Chronus* const     self,
                         const char* const  path,
                         const ChMsg* const req)
{
  if (strlen(path) >= sizeof(self->patch_file)) {
    reply_error(self, req, "patch file path too long (%zu bytes)",
                strlen(path));
    return;
  }
  /* Hosts may send the property again and again: the same unchanged file
     is no new commit. */
  const ChFileStamp now = stamp_of(path);
  if (!strcmp(path, self->patch_file) && same_stamp(&now, &self->file_stamp)) {
    reply_ack(self, req);
    return;
  }
  snprintf(self->patch_file, sizeof(self->patch_file), "%s", path);
  atomic_store(&self->watching, path[0] != '\0');
  if (path[0]) {
    reload_patch_file(self, req);
  } else {
    reply_ack(self, req); /* stop watching */
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

/* Messages: one handler each */

typedef void (*ChHandler)(Chronus* self, const ChMsg* msg, const ChJob* job);

static void
on_create(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  ChError err;
  ch_error_clear(&err);
  if (!msg->module || !msg->module_kind) {
    reply_error(self, msg, "ch:Create needs ch:module and ch:kind strings");
    return;
  }
  ChStatus st =
    ch_model_create(self->standby, msg->module, msg->module_kind, &err);
  if (!st && msg->has_pos &&
      (st = ch_model_set_position(self->standby, msg->module, msg->x, msg->y,
                                  &err))) {
    ch_model_delete(self->standby, msg->module, NULL); /* all or nothing */
  }
  answer(self, msg, st, &err);
}

static void
on_delete(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  ChError err;
  ch_error_clear(&err);
  if (!msg->module) {
    reply_error(self, msg, "ch:Delete needs a ch:module string");
    return;
  }
  answer(self, msg, ch_model_delete(self->standby, msg->module, &err), &err);
}

static void
on_rename(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  ChError err;
  ch_error_clear(&err);
  if (!msg->module || !msg->to) {
    reply_error(self, msg, "ch:Rename needs ch:module and ch:to strings");
    return;
  }
  answer(self, msg, ch_model_rename(self->standby, msg->module, msg->to, &err),
         &err);
}

static void
on_polyphony(Chronus* const     self,
             const ChMsg* const msg,
             const ChJob* const job)
{
  (void)job;
  ChError err;
  ch_error_clear(&err);
  const float v = msg->value;
  /* Whole and positive; ch_model_set_polyphony() checks the range. */
  if (!msg->has_value || !(v >= 1.0f && v <= 1000.0f) ||
      v != (float)(uint32_t)v) {
    reply_error(self, msg, "ch:Polyphony needs a whole ch:value (voices)");
    return;
  }
  answer(self, msg, ch_model_set_polyphony(self->standby, (uint32_t)v, &err),
         &err);
}

static void
on_link(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  const bool connect = msg->kind == CH_MSG_CONNECT;
  ChError    err;
  ch_error_clear(&err);
  if (!msg->from || !msg->to) {
    reply_error(self, msg, "%s needs ch:from and ch:to strings",
                connect ? "ch:Connect" : "ch:Disconnect");
    return;
  }
  answer(self, msg,
         connect ? ch_model_connect(self->standby, msg->from, msg->to, &err)
                 : ch_model_disconnect(self->standby, msg->from, msg->to, &err),
         &err);
}

/* ch:Set and ch:Gate: the playing patch has it already (run() set it);
   keep both models in step with it.  Fine if only one has the module. */
static void
on_set(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  const bool gate = msg->kind == CH_MSG_GATE;
  if (!msg->module || !msg->param || !msg->has_value) {
    reply_error(self, msg, "%s needs ch:module%s and a numeric ch:value",
                gate ? "ch:Gate" : "ch:Set", gate ? "" : ", ch:param");
    return;
  }
  ChError err;
  ChError other;
  ch_error_clear(&err);
  const ChStatus st_standby =
    ch_model_set(self->standby, msg->module, msg->param, msg->value, &err);
  const ChStatus st_committed =
    ch_model_set(self->committed, msg->module, msg->param, msg->value, &other);
  const bool ok = !st_standby || !st_committed;
  answer(self, msg, ok ? CH_SUCCESS : st_standby, &err);
  if (ok && job->generation < self->generation) {
    /* A graph newer than the one run() set it on was built without it:
       have run() set it there too (unless newer Sets came since). */
    replay_set(self, msg, job->order);
  }
}

/* A module's place on the UI canvas: in the standby patch and in the
   playing one (patch:Get shows it at once), with no commit, since the
   sound does not depend on it. */
static void
on_move(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  if (!msg->module || !msg->has_pos) {
    reply_error(self, msg, "ch:Move needs ch:module and numeric ch:x, ch:y");
    return;
  }
  ChError err;
  ch_error_clear(&err);
  const ChStatus st =
    ch_model_set_position(self->standby, msg->module, msg->x, msg->y, &err);
  if (!st && ch_model_find(self->committed, msg->module) >= 0) {
    ch_model_set_position(self->committed, msg->module, msg->x, msg->y, NULL);
  }
  answer(self, msg, st, &err);
}

static void
on_commit(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  commit(self, msg);
}

static void
on_abort(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  ChError err;
  ch_error_clear(&err);
  answer(self, msg, ch_model_assign(self->standby, self->committed, &err),
         &err);
}

static void
on_load(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  ChError err;
  ch_error_clear(&err);
  if (!msg->text && !msg->file) {
    reply_error(self, msg, "ch:Load needs ch:text (Turtle) or ch:file");
    return;
  }
  const ChStatus st = msg->text
                        ? load_text(self, msg->text, msg->text_len, &err)
                        : load_file(self, msg->file, &err);
  if (st) {
    reply_error(self, msg, "load failed: %s", err.msg);
  } else {
    reply_ack(self, msg);
  }
}

/* The committed patch as ch:Patch pieces (run() sends the text piece by
   piece as notify has room): the answer to `msg`, or unasked if NULL. */
static void
send_patch(Chronus* const self, const ChMsg* const msg)
{
  ChError err;
  ch_error_clear(&err);
  char* const text = ch_patch_write(self->committed, &err);
  if (!text) {
    reply_error(self, msg, "patch:Get: %s", err.msg);
    return;
  }
  ChReply header            = reply_to(CH_REPLY_PATCH, msg);
  header.u.patch.text       = text;
  header.u.patch.total      = (uint32_t)strlen(text);
  header.u.patch.generation = (int64_t)self->committed_gen;
  push(self, header, NULL); /* run() owns the text from here */
}

/* patch:Get: the watched file, then the active patch as ch:Patch pieces
   (run() sends the text piece by piece as notify has room). */
static void
on_get(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  ChError err;
  ch_error_clear(&err);
  if (self->patch_file[0]) {
    reply_patch_file(self, msg);
  }
  send_patch(self, msg);
}

/* patch:Set of ch:patch (Turtle) or ch:patchFile (a path to watch). */
static void
on_put(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  const ChUris* const uris = &self->uris;
  ChError             err;
  ch_error_clear(&err);
  if (!msg->property) {
    reply_error(self, msg, "patch:Set without a patch:property");
  } else if (msg->property == uris->ch_patchFile) {
    if (!msg->file) {
      reply_error(self, msg, "patch:Set ch:patchFile needs an atom:Path");
    } else {
      ch_worker_set_patch_file(self, msg->file, msg);
    }
  } else if (msg->property == uris->ch_fadeTime) {
    if (!(msg->fade >= 0.0f && msg->fade <= CH_FADE_MAX)) {
      reply_error(self, msg,
                  "patch:Set ch:fadeTime needs a number of seconds in "
                  "[0, %g]",
                  (double)CH_FADE_MAX);
    } else {
      self->fade_time = msg->fade;
      reply_ack(self, msg);
    }
  } else if (msg->property != uris->ch_patch) {
    reply_error(self, msg, "patch:Set: unknown property <%s>",
                uri_of(self, msg->property));
  } else if (!msg->text) {
    reply_error(self, msg, "patch:Set ch:patch needs a string of Turtle");
  } else if (load_text(self, msg->text, msg->text_len, &err)) {
    reply_error(self, msg, "load failed: %s", err.msg);
  } else {
    commit(self, msg);
  }
}

/* Undo (or redo) a commit: the patch that played before (or after) it is
   loaded and committed like any other, glitch-free; edits not yet
   committed are dropped with the standby patch. */
static void
step(Chronus* const self, const ChMsg* const msg, const bool undo)
{
  ChModel* const target  = ch_history_take(&self->history, undo);
  ChModel* const current = target ? ch_model_copy(self->committed) : NULL;
  if (!target || !current) {
    ch_model_free(current);
    if (target) {
      ch_history_put_back(&self->history, target, undo);
    }
    reply_error(self, msg, target ? "out of memory" : "nothing to %s",
                undo ? "undo" : "redo");
    return;
  }
  ChModel* const keep = ch_model_copy(target);
  adopt(self, target); /* standby = target; module state carried over */
  if (commit_as(self, msg, false)) {
    ch_history_keep(&self->history, current, undo);
    ch_model_free(keep);
  } else { /* refused: standby is the playing patch again */
    ch_model_free(current);
    ch_model_assign(self->standby, self->committed, NULL);
    if (keep) {
      ch_history_put_back(&self->history, keep, undo);
    }
  }
}

static void
on_undo(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  step(self, msg, msg->kind == CH_MSG_UNDO);
}

/* An object of an unknown type: answered if it is ours or expects it. */
static void
on_unknown(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  const char* const uri = uri_of(self, msg->otype);
  if (!strncmp(uri, CH_URI, strlen(CH_URI))) {
    reply_error(self, msg, "unknown message type <%s>", uri);
  } else if (msg->has_seq) {
    reply_error(self, msg, "message type <%s> is not for Chronus", uri);
  } /* else: another vocabulary's object, not meant for us: ignore it */
}

/* Answers sent to the plugin are someone's mistake: say so if asked. */
static void
on_answer(Chronus* const self, const ChMsg* const msg, const ChJob* const job)
{
  (void)job;
  if (msg->has_seq) {
    reply_error(self, msg, "%s is an answer, not a request",
                ch_uri_name(&self->uris, msg->otype));
  }
}

/* The fail-safe brought the graph before back (run() said so with a
   ch:Error): the models follow, so the patch shown and the next edit start
   from what plays, and the failed patch is one undo away.  Pending edits
   (standby differs) are kept.  Nothing to do when a newer commit is on its
   way or the patch before is not known (a state restore came between). */
static void
reverted(Chronus* const self, const ChJob* const job)
{
  if (job->failed != self->committed_gen || !self->previous_gen ||
      job->generation != self->previous_gen) {
    return;
  }
  const bool pending = !ch_model_equal(self->standby, self->committed);
  ch_history_record(&self->history, self->committed);
  if (ch_model_assign(self->committed, self->previous, NULL) ||
      (!pending && ch_model_assign(self->standby, self->previous, NULL))) {
    return; /* out of memory: the models keep the failed patch */
  }
  self->committed_gen = self->previous_gen;
  self->previous_gen  = 0u;
  send_patch(self, NULL);
}

static const ChHandler handlers[CH_MSG_N_KINDS] = {
  [CH_MSG_CREATE]     = on_create,
  [CH_MSG_DELETE]     = on_delete,
  [CH_MSG_CONNECT]    = on_link,
  [CH_MSG_DISCONNECT] = on_link,
  [CH_MSG_SET]        = on_set,
  [CH_MSG_GATE]       = on_set,
  [CH_MSG_COMMIT]     = on_commit,
  [CH_MSG_ABORT]      = on_abort,
  [CH_MSG_LOAD]       = on_load,
  [CH_MSG_UNDO]       = on_undo,
  [CH_MSG_REDO]       = on_undo,
  [CH_MSG_GET]        = on_get,
  [CH_MSG_PUT]        = on_put,
  [CH_MSG_ACK]        = on_answer,
  [CH_MSG_COMMITTED]  = on_answer,
  [CH_MSG_ERROR]      = on_answer,
  [CH_MSG_PATCH]      = on_answer,
  [CH_MSG_LEVEL]      = on_answer,
  [CH_MSG_MOVE]       = on_move,
  [CH_MSG_UNKNOWN]    = on_unknown,
  [CH_MSG_SCOPE]      = on_answer,
  [CH_MSG_RENAME]     = on_rename,
  [CH_MSG_POLYPHONY]  = on_polyphony,
};

/* A queued message atom of `size` bytes: decoded again (checked), then
   handed to its handler. */
static void
message(Chronus* const        self,
        const ChJob* const    job,
        const LV2_Atom* const atom,
        const uint32_t        size)
{
  ChMsg      msg;
  ChMsgFault fault;
  if (ch_msg_read(&self->uris, atom, size, &msg, &fault)) {
    char text[256];
    ch_msg_fault_text(&self->uris, &fault, text, sizeof(text));
    ChMsg req   = ch_msg_init(CH_MSG_NONE);
    req.has_seq = fault.has_seq;
    req.seq     = fault.seq;
    reply_error(self, &req, "%s", text);
    return;
  }
  if (msg.kind != CH_MSG_NONE && handlers[msg.kind]) {
    handlers[msg.kind](self, &msg, job);
  }
}

/* Start, move or stop the OSC server as the osc_port port asks. */
static void
osc_listen(Chronus* const self, const int32_t port)
{
  char why[sizeof(self->text)];
  if (!ch_osc_listen(self->osc, port, why, sizeof(why))) {
    reply_error(self, NULL, "%s", why);
  } else if (port) {
    lv2_log_note(&self->logger, "chronus: OSC: listening on UDP 127.0.0.1:%d\n",
                 (int)port);
  }
}

void
ch_worker_empty_trash(Chronus* const self)
{
  uint32_t    size = 0;
  const void* record;
  while ((record = ch_ring_peek(&self->trash, &size))) {
    ChTrash item;
    memcpy(&item, record, sizeof(item));
    if (item.type == CH_TRASH_GRAPH) {
      ch_graph_free((ChGraph*)item.ptr);
    } else {
      free(item.ptr);
    }
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
    const ChJob* const job = (const ChJob*)record;
    if (job->type == CH_JOB_MESSAGE) {
      message(self, job, (const LV2_Atom*)(job + 1),
              size - (uint32_t)sizeof(*job));
    } else if (job->type == CH_JOB_PROGRAM) {
      program(self, job->program);
    } else if (job->type == CH_JOB_POLL) {
      poll_patch_file(self);
    } else if (job->type == CH_JOB_OSC) {
      osc_listen(self, job->osc_port);
    } else if (job->type == CH_JOB_REVERT) {
      reverted(self, job);
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
