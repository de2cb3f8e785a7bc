/* LV2 state: the active patch saved as Turtle text, restored by building
   its graph right there (restore runs off the audio thread). */
#include "chronus.h"

#include "../src/patch.h"

#include <lv2/state/state.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const LV2_State_Map_Path*
map_path_feature(const LV2_Feature* const* const features)
{
  for (int i = 0; features && features[i]; ++i) {
    if (!strcmp(features[i]->URI, LV2_STATE__mapPath)) {
      return (const LV2_State_Map_Path*)features[i]->data;
    }
  }
  return NULL;
}

/* Free a path the host made, with its own free if it gives one. */
static void
free_host_path(const LV2_Feature* const* const features, char* const path)
{
  for (int i = 0; features && features[i]; ++i) {
    if (!strcmp(features[i]->URI, LV2_STATE__freePath)) {
      const LV2_State_Free_Path* const f =
        (const LV2_State_Free_Path*)features[i]->data;
      f->free_path(f->handle, path);
      return;
    }
  }
  free(path);
}

/* Save the watched patch file's path, abstract if the host maps paths. */
static LV2_State_Status
save_patch_file(const Chronus* const            self,
                const char* const               path,
                const LV2_State_Store_Function  store,
                const LV2_State_Handle          handle,
                const LV2_Feature* const* const features)
{
  const LV2_State_Map_Path* const map = map_path_feature(features);
  char* const abstract = map ? map->abstract_path(map->handle, path) : NULL;
  const char* const      value = abstract ? abstract : path;
  const LV2_State_Status st =
    store(handle, self->uris.ch_patchFile, value, strlen(value) + 1u,
          self->uris.atom_Path, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  if (abstract) {
    free_host_path(features, abstract);
  }
  return st;
}

static LV2_State_Status
save(LV2_Handle                instance,
     LV2_State_Store_Function  store,
     LV2_State_Handle          handle,
     uint32_t                  flags,
     const LV2_Feature* const* features)
{
  (void)flags;
  Chronus* const self = (Chronus*)instance;
  ChError        err;
  char           patch_file[sizeof(self->patch_file)];
  ch_error_clear(&err);
  pthread_mutex_lock(&self->lock);
  char* const text = ch_patch_write(self->committed, &err);
  memcpy(patch_file, self->patch_file, sizeof(patch_file));
  const float fade_time = self->fade_time;
  pthread_mutex_unlock(&self->lock);
  if (!text) {
    lv2_log_error(&self->logger, "chronus: cannot save state: %s\n", err.msg);
    return LV2_STATE_ERR_UNKNOWN;
  }
  LV2_State_Status st =
    store(handle, self->uris.ch_patch, text, strlen(text) + 1u,
          self->uris.atom_String, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  free(text);
  /* The program port's value this patch goes with (the last program
     chosen; the patch may have been edited since), so that a restore can
     tell the host setting the port back to it from a program change. */
  const int32_t program = atomic_load(&self->program_shown);
  if (!st) {
    st = store(handle, self->uris.ch_program, &program, sizeof(program),
               self->uris.atom_Int, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  }
  if (!st) {
    st = store(handle, self->uris.ch_fadeTime, &fade_time, sizeof(fade_time),
               self->uris.atom_Float, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  }
  if (!st && patch_file[0]) {
    return save_patch_file(self, patch_file, store, handle, features);
  }
  return st;
}

/* One property of the state being restored: its value (NULL if the state
   has none), size in bytes and type. */
typedef struct {
  const void* value;
  size_t      size;
  uint32_t    type;
} Property;

static Property
property(const LV2_State_Retrieve_Function retrieve,
         const LV2_State_Handle            handle,
         const LV2_URID                    key)
{
  Property p     = { NULL, 0u, 0u };
  uint32_t flags = 0u;
  p.value        = retrieve(handle, key, &p.size, &p.type, &flags);
  return p;
}

/* The saved patch file's path, made absolute if the host maps paths,
   into `path` ("" if none was saved). */
static void
saved_patch_file(const Chronus* const              self,
                 const LV2_State_Retrieve_Function retrieve,
                 const LV2_State_Handle            handle,
                 const LV2_Feature* const* const   features,
                 char* const                       path,
                 const size_t                      size)
{
  const Property    p     = property(retrieve, handle, self->uris.ch_patchFile);
  const char* const saved = (const char*)p.value;
  const bool        ok    = saved && p.size && !saved[p.size - 1u];
  const LV2_State_Map_Path* const map = map_path_feature(features);
  char* const                     absolute =
    ok && map ? map->absolute_path(map->handle, saved) : NULL;
  snprintf(path, size, "%s", absolute ? absolute : ok ? saved : "");
  if (absolute) {
    free_host_path(features, absolute);
  }
}

/* Watch the saved patch file again.  Its stamp starts blank, so the first
   poll reads the file: what is on disk now wins over the saved text. */
static void
watch_patch_file(Chronus* const self, const char* const path)
{
  pthread_mutex_lock(&self->lock);
  snprintf(self->patch_file, sizeof(self->patch_file), "%s", path);
  memset(&self->file_stamp, 0, sizeof(self->file_stamp));
  atomic_store(&self->watching, self->patch_file[0] != '\0');
  pthread_mutex_unlock(&self->lock);
}

/* Reads the patch the state holds into `model`: its ch:patch text, or
   else, for a state that names only a ch:patchFile (one written by hand
   for `jalv -l`, say), that file.  CH_ERR_NO_LINK if it holds neither;
   CH_ERR_RANGE if ch:patch is not a string. */
static ChStatus
read_saved_patch(const Chronus* const              self,
                 const LV2_State_Retrieve_Function retrieve,
                 const LV2_State_Handle            handle,
                 const char* const                 file,
                 ChModel* const                    model,
                 ChError* const                    err)
{
  const Property    p    = property(retrieve, handle, self->uris.ch_patch);
  const char* const text = (const char*)p.value;
  if (text &&
      (p.type != self->uris.atom_String || !p.size || text[p.size - 1u])) {
    return ch_error(err, CH_ERR_RANGE, "ch:patch is not a string");
  }
  if (text) {
    return ch_patch_read(model, text, p.size - 1u, err);
  }
  if (file[0]) {
    ChError        inner;
    const ChStatus st = ch_patch_read_file(model, file, &inner);
    return st ? ch_error(err, st,
                         "the state has no ch:patch, and its "
                         "ch:patchFile cannot be loaded: %s",
                         inner.msg)
              : CH_SUCCESS;
  }
  return CH_ERR_NO_LINK;
}

/* The saved ch:fadeTime (seconds), if any. */
static void
restore_fade_time(Chronus* const                    self,
                  const LV2_State_Retrieve_Function retrieve,
                  const LV2_State_Handle            handle)
{
  const Property p       = property(retrieve, handle, self->uris.ch_fadeTime);
  float          seconds = -1.0f;
  if (p.value && p.type == self->uris.atom_Float && p.size == sizeof(float)) {
    memcpy(&seconds, p.value, sizeof(seconds));
  } else if (p.value && p.type == self->uris.atom_Double &&
             p.size == sizeof(double)) {
    double d = 0.0;
    memcpy(&d, p.value, sizeof(d));
    seconds = (float)d;
  }
  if (seconds >= 0.0f && seconds <= CH_FADE_MAX) {
    self->fade_time = seconds; /* lock held */
  }
}

/* The saved ch:program (an Int, or a Long as Turtle integers may be read),
   or -1. */
static int32_t
restored_program(const Chronus* const              self,
                 const LV2_State_Retrieve_Function retrieve,
                 const LV2_State_Handle            handle)
{
  const Property p       = property(retrieve, handle, self->uris.ch_program);
  int64_t        program = -1;
  if (p.value && p.type == self->uris.atom_Int && p.size == sizeof(int32_t)) {
    int32_t i = 0;
    memcpy(&i, p.value, sizeof(i));
    program = i;
  } else if (p.value && p.type == self->uris.atom_Long &&
             p.size == sizeof(int64_t)) {
    memcpy(&program, p.value, sizeof(program));
  }
  return program >= 0 && program < 128 ? (int32_t)program : -1;
}

static LV2_State_Status
restore(LV2_Handle                  instance,
        LV2_State_Retrieve_Function retrieve,
        LV2_State_Handle            handle,
        uint32_t                    flags,
        const LV2_Feature* const*   features)
{
  (void)flags;
  Chronus* const self = (Chronus*)instance;
  char           file[sizeof(self->patch_file)];
  ChError        err;
  ch_error_clear(&err);
  saved_patch_file(self, retrieve, handle, features, file, sizeof(file));
  ChModel* const model = ch_model_new();
  const ChStatus st =
    model ? read_saved_patch(self, retrieve, handle, file, model, &err)
          : ch_error(&err, CH_ERR_NO_MEMORY, "out of memory");
  if (st == CH_ERR_NO_LINK) {
    ch_model_free(model);
    return LV2_STATE_SUCCESS; /* nothing of ours saved: keep playing */
  }
  if (st) {
    lv2_log_error(&self->logger, "chronus: restore: %s\n", err.msg);
    ch_model_free(model);
    return st == CH_ERR_RANGE ? LV2_STATE_ERR_BAD_TYPE : LV2_STATE_ERR_UNKNOWN;
  }

  /* Build and publish under the worker's lock, so no edit or commit
     interleaves and no graph built from the restored patch can reach run()
     before this one; run() takes it at its next cycle start.  The program
     port is marked first, so run() never loads a program over it. */
  pthread_mutex_lock(&self->lock);
  /* A restored state (a preset, a session) is a new sound: it carries no
     module's state from what played (names may match by chance); the
     swap crossfades instead. */
  ch_model_renew_uids(model, self->committed);
  restore_fade_time(self, retrieve, handle);
  ChGraph*   graph  = NULL;
  const bool failed = ch_plugin_build(self, model, NULL, &graph, NULL, &err) ||
                      ch_model_assign(self->committed, model, &err) ||
                      ch_model_assign(self->standby, model, &err);
  ChGraph* unplayed = graph;
  if (!failed) {
    self->committed_gen = ch_graph_generation(graph);
    self->previous_gen  = 0u; /* the fail-safe has nothing to follow */
    atomic_store(&self->program_restored,
                 restored_program(self, retrieve, handle));
    atomic_store(&self->port_taken, true);
    /* A restored graph run() has not taken yet never played: free it. */
    unplayed = atomic_exchange(&self->restored, graph);
  }
  pthread_mutex_unlock(&self->lock);
  ch_model_free(model);
  ch_graph_free(unplayed);
  if (failed) {
    lv2_log_error(&self->logger, "chronus: restore: %s\n", err.msg);
    return LV2_STATE_ERR_UNKNOWN;
  }
  watch_patch_file(self, file);
  return LV2_STATE_SUCCESS;
}

const void*
ch_state_interface(void)
{
  static const LV2_State_Interface state = { save, restore };
  return &state;
}
