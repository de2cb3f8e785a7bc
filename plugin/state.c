/* LV2 state: the active patch saved as Turtle text, restored by building
   its graph right there (restore runs off the audio thread). */
#include "chronus.h"

#include "../src/patch.h"

#include <lv2/state/state.h>

#include <stdlib.h>
#include <string.h>

static LV2_State_Status
save(LV2_Handle                instance,
     LV2_State_Store_Function  store,
     LV2_State_Handle          handle,
     uint32_t                  flags,
     const LV2_Feature* const* features)
{
  (void)flags;
  (void)features;
  Chronus* const self = (Chronus*)instance;
  ChError        err;
  ch_error_clear(&err);
  pthread_mutex_lock(&self->lock);
  char* const text = ch_patch_write(self->committed, &err);
  pthread_mutex_unlock(&self->lock);
  if (!text) {
    lv2_log_error(&self->logger, "chronus: cannot save state: %s\n", err.msg);
    return LV2_STATE_ERR_UNKNOWN;
  }
  const LV2_State_Status st =
    store(handle, self->uris.ch_patch, text, strlen(text) + 1u,
          self->uris.atom_String, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
  free(text);
  return st;
}

static LV2_State_Status
restore(LV2_Handle                  instance,
        LV2_State_Retrieve_Function retrieve,
        LV2_State_Handle            handle,
        uint32_t                    flags,
        const LV2_Feature* const*   features)
{
  (void)flags;
  (void)features;
  Chronus* const    self  = (Chronus*)instance;
  size_t            size  = 0;
  uint32_t          type  = 0;
  uint32_t          vflag = 0;
  const char* const text =
    (const char*)retrieve(handle, self->uris.ch_patch, &size, &type, &vflag);
  if (!text) {
    return LV2_STATE_SUCCESS; /* nothing of ours saved: keep playing */
  }
  if (type != self->uris.atom_String || !size || text[size - 1u]) {
    lv2_log_error(&self->logger,
                  "chronus: restore: ch:patch is not a string\n");
    return LV2_STATE_ERR_BAD_TYPE;
  }

  ChError        err;
  ChModel* const model = ch_model_new();
  ch_error_clear(&err);
  if (!model || ch_patch_read(model, text, size - 1u, &err)) {
    lv2_log_error(&self->logger, "chronus: restore: %s\n", err.msg);
    ch_model_free(model);
    return LV2_STATE_ERR_UNKNOWN;
  }

  /* Build here, under the worker's lock, so no edit or commit interleaves;
     run() picks the graph up at its next cycle start. */
  pthread_mutex_lock(&self->lock);
  ch_model_adopt_uids(model, self->committed);
  ChGraph*   graph  = NULL;
  const bool failed = ch_build(self, model, NULL, &graph, NULL, &err) ||
                      ch_model_assign(self->committed, model, &err) ||
                      ch_model_assign(self->standby, model, &err);
  pthread_mutex_unlock(&self->lock);
  ch_model_free(model);
  if (failed) {
    ch_graph_free(graph);
    lv2_log_error(&self->logger, "chronus: restore: %s\n", err.msg);
    return LV2_STATE_ERR_UNKNOWN;
  }
  /* A restored graph run() has not taken yet never played: free it. */
  ch_graph_free(atomic_exchange(&self->restored, graph));
  return LV2_STATE_SUCCESS;
}

const void*
ch_state_interface(void)
{
  static const LV2_State_Interface state = { save, restore };
  return &state;
}
