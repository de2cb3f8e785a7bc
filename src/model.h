/* The model: the editable description of a patch (modules, parameters,
   links).  Plain data for the worker thread; never touched by run(). */
#ifndef CH_MODEL_H
#define CH_MODEL_H

#include "kind.h"
#include "status.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest module name, in bytes without the terminator. */
#define CH_NAME_MAX 47u

/** Size limits that keep a patch's build time and memory bounded. */
#define CH_MAX_MODULES 1024u
#define CH_MAX_LINKS   8192u

/** A patch being edited.  Not thread-safe: one thread at a time. */
typedef struct ChModelImpl ChModel;

/** A link from an output port to an input port, by module index. */
typedef struct {
  uint32_t from_module;
  uint32_t from_port; /**< index into the source kind's outputs */
  uint32_t to_module;
  uint32_t to_port; /**< index into the destination kind's inputs */
} ChLink;

/** A new empty patch, or NULL if out of memory. */
ChModel* ch_model_new(void);

/** Free a patch; NULL is fine. */
void ch_model_free(ChModel* model);

/** A deep copy, or NULL if out of memory. */
ChModel* ch_model_copy(const ChModel* model);

/** Make `dst` an exact copy of `src`; on failure `dst` is unchanged. */
ChStatus ch_model_assign(ChModel* dst, const ChModel* src, ChError* err);

/** True if both describe the same patch, in the same order. */
bool ch_model_equal(const ChModel* a, const ChModel* b);

/** Remove every module and link. */
void ch_model_clear(ChModel* model);

/** Add module `name` of kind `kind` with default parameters. */
ChStatus ch_model_create(ChModel*    model,
                         const char* name,
                         const char* kind,
                         ChError*    err);

/** Remove a module and every link to or from it. */
ChStatus ch_model_delete(ChModel* model, const char* name, ChError* err);

/**
   Call module `name` `to`: its links follow, its identity (uid) stays, so
   a hot swap carries its running state across the new name.
*/
ChStatus ch_model_rename(ChModel*    model,
                         const char* name,
                         const char* to,
                         ChError*    err);

/** Index of the module with identity `uid`, or -1. */
int ch_model_find_uid(const ChModel* model, uint32_t uid);

/** Link `from` ("module:output") to `to` ("module:input"). */
ChStatus ch_model_connect(ChModel*    model,
                          const char* from,
                          const char* to,
                          ChError*    err);

/** Remove the link from `from` to `to`. */
ChStatus ch_model_disconnect(ChModel*    model,
                             const char* from,
                             const char* to,
                             ChError*    err);

/** Set a parameter; a value outside the declared range is an error. */
ChStatus ch_model_set(ChModel*    model,
                      const char* module,
                      const char* param,
                      float       value,
                      ChError*    err);

/** Read a parameter. */
ChStatus ch_model_get(const ChModel* model,
                      const char*    module,
                      const char*    param,
                      float*         value,
                      ChError*       err);

/**
   Set how many notes the patch plays at once (1..CH_MAX_VOICES).  Modules
   fed by a `voice` module are copied per voice when compiled.
*/
ChStatus ch_model_set_polyphony(ChModel* model, uint32_t voices, ChError* err);

/** Voices of the patch (1 for a new one). */
uint32_t ch_model_polyphony(const ChModel* model);

/** Largest |x| or |y| of a module's position on the canvas. */
#define CH_POS_MAX 1000000.0f

/**
   Place module `name` on the UI's canvas at (`x`, `y`), in the UI's
   logical units (top left of its box).  The engine ignores positions; the
   patch text keeps them (ch:x, ch:y).
*/
ChStatus ch_model_set_position(ChModel*    model,
                               const char* name,
                               float       x,
                               float       y,
                               ChError*    err);

/** Position of module `index`: false (and 0, 0) if it has none. */
bool ch_model_module_position(const ChModel* model,
                              uint32_t       index,
                              float*         x,
                              float*         y);

/** Number of modules, in creation order. */
uint32_t ch_model_n_modules(const ChModel* model);

/** Index of the module called `name`, or -1. */
int ch_model_find(const ChModel* model, const char* name);

/** Name of module `index`. */
const char* ch_model_module_name(const ChModel* model, uint32_t index);

/** Kind of module `index`. */
const ChKind* ch_model_module_kind(const ChModel* model, uint32_t index);

/** Parameter values of module `index` (kind->n_params of them). */
const float* ch_model_module_params(const ChModel* model, uint32_t index);

/**
   Identity of module `index`: unique in the model's history, so a module
   deleted and created again under its old name is a new module (its state
   is not carried across a hot swap).
*/
uint32_t ch_model_module_uid(const ChModel* model, uint32_t index);

/**
   Give modules of `model` the identities of same-named, same-kind modules
   of `previous` (and fresh ones to the rest), so that reloading a patch
   keeps oscillators and filters running through the swap.
*/
void ch_model_adopt_uids(ChModel* model, const ChModel* previous);

/**
   Which modules play once per voice: voice sources and everything they
   feed, up to a global kind (an effect, the output), where voices sum.
   Sets `voiced[m]` to 1 or 0 for each of the model's modules.
*/
void ch_model_mark_voiced(const ChModel* model, uint8_t* voiced);

/** Number of links, in creation order. */
uint32_t ch_model_n_links(const ChModel* model);

/**
   Give every module of `model` a new identity, none shared with `previous`
   (a new sound: nothing carries state over from the patch before).
*/
void ch_model_renew_uids(ChModel* model, const ChModel* previous);

/**
   True if `b` has exactly the modules of `a` (same kinds and identities,
   in the same order; a rename keeps both), the same links and polyphony: a
   swap
   from a graph of `a` to one of `b` carries every module's state, so it
   changes nothing that sounds but parameters (no crossfade needed).
*/
bool ch_model_same_wiring(const ChModel* a, const ChModel* b);

/** Link `index`. */
const ChLink* ch_model_link(const ChModel* model, uint32_t index);

/** True if `name` is a valid module name: [A-Za-z_][A-Za-z0-9_.-]*. */
bool ch_name_valid(const char* name);

#ifdef __cplusplus
}
#endif

#endif /* CH_MODEL_H */
