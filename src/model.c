/* The editable patch: modules, parameters and links, with checked edits. */
#include "model.h"

#include "hint.h"
#include "registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char          name[CH_NAME_MAX + 1];
  uint32_t      uid; /* identity across edits; never reused in a model */
  const ChKind* kind;
  float         params[CH_MAX_PARAMS];
  bool          has_pos; /* placed on the UI's canvas (ch:x, ch:y) */
  float         x;
  float         y;
} Module;

struct ChModelImpl {
  Module*  modules;
  uint32_t n_modules;
  uint32_t modules_cap;
  ChLink*  links;
  uint32_t n_links;
  uint32_t links_cap;
  uint32_t next_uid;
  uint32_t polyphony;
};

/* Grow an array to hold at least `need` elements; false if out of memory. */
static bool
reserve(void** array, uint32_t* cap, const uint32_t need, const size_t size)
{
  if (need <= *cap) {
    return true;
  }
  uint32_t new_cap = *cap ? *cap * 2u : 16u;
  while (new_cap < need) {
    new_cap *= 2u;
  }
  void* const grown = realloc(*array, (size_t)new_cap * size);
  if (!grown) {
    return false;
  }
  *array = grown;
  *cap   = new_cap;
  return true;
}

ChModel*
ch_model_new(void)
{
  ChModel* const model = (ChModel*)calloc(1, sizeof(ChModel));
  if (model) {
    model->polyphony = 1u;
  }
  return model;
}

void
ch_model_free(ChModel* const model)
{
  if (model) {
    free(model->modules);
    free(model->links);
    free(model);
  }
}

ChStatus
ch_model_assign(ChModel* const dst, const ChModel* const src, ChError* err)
{
  if (dst == src) {
    return CH_SUCCESS;
  }
  if (!reserve((void**)&dst->modules, &dst->modules_cap, src->n_modules,
               sizeof(Module)) ||
      !reserve((void**)&dst->links, &dst->links_cap, src->n_links,
               sizeof(ChLink))) {
    return ch_error(err, CH_ERR_NO_MEMORY, "out of memory copying the patch");
  }
  if (src->n_modules) {
    memcpy(dst->modules, src->modules, src->n_modules * sizeof(Module));
  }
  if (src->n_links) {
    memcpy(dst->links, src->links, src->n_links * sizeof(ChLink));
  }
  dst->n_modules = src->n_modules;
  dst->n_links   = src->n_links;
  dst->next_uid  = src->next_uid;
  dst->polyphony = src->polyphony;
  return CH_SUCCESS;
}

ChModel*
ch_model_copy(const ChModel* const model)
{
  ChModel* const copy = ch_model_new();
  if (copy && ch_model_assign(copy, model, NULL)) {
    ch_model_free(copy);
    return NULL;
  }
  return copy;
}

/* True if two models have the same polyphony and links, and `same` holds
   for each pair of modules at one index. */
static bool
alike(const ChModel* const a,
      const ChModel* const b,
      bool (*const same)(const Module*, const Module*))
{
  if (a->n_modules != b->n_modules || a->n_links != b->n_links ||
      a->polyphony != b->polyphony) {
    return false;
  }
  for (uint32_t i = 0; i < a->n_modules; ++i) {
    if (!same(&a->modules[i], &b->modules[i])) {
      return false;
    }
  }
  return !a->n_links ||
         !memcmp(a->links, b->links, a->n_links * sizeof(ChLink));
}

static bool
same_module(const Module* const ma, const Module* const mb)
{
  return ma->kind == mb->kind && !strcmp(ma->name, mb->name) &&
         !memcmp(ma->params, mb->params, ma->kind->n_params * sizeof(float)) &&
         ma->has_pos == mb->has_pos &&
         !(ma->has_pos && (memcmp(&ma->x, &mb->x, sizeof(float)) ||
                           memcmp(&ma->y, &mb->y, sizeof(float))));
}

bool
ch_model_equal(const ChModel* const a, const ChModel* const b)
{
  return alike(a, b, same_module);
}

void
ch_model_clear(ChModel* const model)
{
  model->n_modules = 0;
  model->n_links   = 0;
  model->polyphony = 1u;
}

ChStatus
ch_model_set_polyphony(ChModel* const model,
                       const uint32_t voices,
                       ChError*       err)
{
  if (voices < 1u || voices > CH_MAX_VOICES) {
    return ch_error(err, CH_ERR_RANGE, "polyphony %u is out of range [1, %u]",
                    voices, CH_MAX_VOICES);
  }
  model->polyphony = voices;
  return CH_SUCCESS;
}

uint32_t
ch_model_polyphony(const ChModel* const model)
{
  return model->polyphony;
}

bool
ch_name_valid(const char* const name)
{
  const size_t len = name ? strlen(name) : 0;
  if (!len || len > CH_NAME_MAX ||
      !((name[0] >= 'A' && name[0] <= 'Z') ||
        (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) {
    return false;
  }
  for (size_t i = 1; i < len; ++i) {
    const char c = name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

int
ch_model_find(const ChModel* const model, const char* const name)
{
  return ch_names_find_inline(name, model->modules, model->n_modules,
                              sizeof(Module));
}

/* " (did you mean 'filter'?)" for a module name close to `name`; the
   patch's names are not listed, as there may be a thousand. */
static void
module_hint(const ChModel* const model,
            const char* const    name,
            char* const          buf,
            const size_t         size)
{
  const char* const close = ch_hint_closest_inline(
    name, model->modules, model->n_modules, sizeof(Module));
  snprintf(buf, size, close ? " (did you mean '%s'?)" : "%s",
           close ? close : "");
}

/* The module called `name`, or NULL with an error naming it. */
static Module*
find_module(const ChModel* const model, const char* const name, ChError* err)
{
  const int index = ch_model_find(model, name);
  if (index < 0) {
    char hint[96];
    module_hint(model, name, hint, sizeof(hint));
    ch_error(err, CH_ERR_UNKNOWN_MODULE, "no module named '%s'%s", name, hint);
    return NULL;
  }
  return &model->modules[index];
}

/* " (did you mean 'osc'? kinds: voice, ...)" for an unknown kind. */
static void
kind_hint(char* const buf, const size_t size, const char* const word)
{
  const char* names[64];
  uint32_t    n = 0;
  for (; n < ch_registry_count() && n < 64u; ++n) {
    names[n] = ch_registry_at(n)->name;
  }
  ch_hint(buf, size, word, "kinds", names, n, sizeof(names[0]));
}

ChStatus
ch_model_create(ChModel* const    model,
                const char* const name,
                const char* const kind_name,
                ChError*          err)
{
  if (!ch_name_valid(name)) {
    return ch_error(err, CH_ERR_BAD_NAME,
                    "bad module name '%.64s': use 1 to %u letters, digits, "
                    "'_', '.' or '-', starting with a letter or '_'",
                    name ? name : "", CH_NAME_MAX);
  }
  const ChKind* const kind = ch_registry_find(kind_name);
  if (!kind) {
    char hint[320];
    kind_hint(hint, sizeof(hint), kind_name);
    return ch_error(err, CH_ERR_UNKNOWN_KIND,
                    "cannot create '%s': unknown module kind '%.64s'%s", name,
                    kind_name ? kind_name : "", hint);
  }
  if (ch_model_find(model, name) >= 0) {
    return ch_error(err, CH_ERR_EXISTS, "a module named '%s' exists already",
                    name);
  }
  if (model->n_modules >= CH_MAX_MODULES) {
    return ch_error(err, CH_ERR_TOO_LARGE,
                    "cannot create '%s': a patch holds at most %u modules",
                    name, CH_MAX_MODULES);
  }
  if (!reserve((void**)&model->modules, &model->modules_cap,
               model->n_modules + 1u, sizeof(Module))) {
    return ch_error(err, CH_ERR_NO_MEMORY, "out of memory creating '%s'", name);
  }

  Module* const module = &model->modules[model->n_modules++];
  memset(module, 0, sizeof(*module));
  memcpy(module->name, name, strlen(name) + 1u);
  module->uid  = ++model->next_uid;
  module->kind = kind;
  for (uint32_t i = 0; i < kind->n_params; ++i) {
    module->params[i] = kind->params[i].def;
  }
  return CH_SUCCESS;
}

ChStatus
ch_model_rename(ChModel* const    model,
                const char* const name,
                const char* const to,
                ChError*          err)
{
  Module* const module = find_module(model, name, err);
  if (!module) {
    return err ? err->status : CH_ERR_UNKNOWN_MODULE;
  }
  if (!ch_name_valid(to)) {
    return ch_error(err, CH_ERR_BAD_NAME,
                    "cannot rename '%s' to '%.64s': use 1 to %u letters, "
                    "digits, '_', '.' or '-', starting with a letter or '_'",
                    name, to ? to : "", CH_NAME_MAX);
  }
  if (strcmp(name, to) && ch_model_find(model, to) >= 0) {
    return ch_error(err, CH_ERR_EXISTS,
                    "cannot rename '%s': a module named '%s' exists already",
                    name, to);
  }
  memcpy(module->name, to, strlen(to) + 1u); /* links are by index */
  return CH_SUCCESS;
}

int
ch_model_find_uid(const ChModel* const model, const uint32_t uid)
{
  for (uint32_t i = 0; i < model->n_modules; ++i) {
    if (model->modules[i].uid == uid) {
      return (int)i;
    }
  }
  return -1;
}

ChStatus
ch_model_delete(ChModel* const model, const char* const name, ChError* err)
{
  const int found = ch_model_find(model, name);
  if (found < 0) {
    char hint[96];
    module_hint(model, name, hint, sizeof(hint));
    return ch_error(err, CH_ERR_UNKNOWN_MODULE,
                    "cannot delete '%s': no module of that name%s", name, hint);
  }

  const uint32_t index = (uint32_t)found;
  uint32_t       kept  = 0;
  for (uint32_t i = 0; i < model->n_links; ++i) {
    ChLink link = model->links[i];
    if (link.from_module == index || link.to_module == index) {
      continue;
    }
    link.from_module -= link.from_module > index;
    link.to_module -= link.to_module > index;
    model->links[kept++] = link;
  }
  model->n_links = kept;

  memmove(&model->modules[index], &model->modules[index + 1],
          (model->n_modules - index - 1u) * sizeof(Module));
  --model->n_modules;
  return CH_SUCCESS;
}

/* Split "module:port" and resolve both; `output` picks the port list. */
static ChStatus
parse_endpoint(const ChModel* const model,
               const char* const    text,
               const bool           output,
               uint32_t* const      module_index,
               uint32_t* const      port_index,
               ChError*             err)
{
  const char* const colon = text ? strchr(text, ':') : NULL;
  if (!colon || colon == text || !colon[1] ||
      (size_t)(colon - text) > CH_NAME_MAX) {
    return ch_error(err, CH_ERR_BAD_LINK,
                    "bad endpoint '%.64s': expected 'module:port'",
                    text ? text : "");
  }

  char name[CH_NAME_MAX + 1];
  memcpy(name, text, (size_t)(colon - text));
  name[colon - text] = '\0';

  const int m = ch_model_find(model, name);
  if (m < 0) {
    char hint[96];
    module_hint(model, name, hint, sizeof(hint));
    return ch_error(err, CH_ERR_UNKNOWN_MODULE,
                    "bad endpoint '%.64s': no module named '%s'%s", text, name,
                    hint);
  }

  const ChKind* const kind = model->modules[m].kind;
  const char* const   port = colon + 1;
  const int           p =
    output ? ch_kind_find_output(kind, port) : ch_kind_find_input(kind, port);
  if (p < 0) {
    const bool other = output ? ch_kind_find_input(kind, port) >= 0
                              : ch_kind_find_output(kind, port) >= 0;
    if (other) {
      return ch_error(err, CH_ERR_BAD_LINK,
                      "'%.64s' is an %s, but a link goes from an output to an "
                      "input",
                      text, output ? "input" : "output");
    }
    char hint[256];
    ch_hint(hint, sizeof(hint), port, output ? "its outputs" : "its inputs",
            output ? kind->outputs : kind->inputs,
            output ? kind->n_outputs : kind->n_inputs, sizeof(ChPortInfo));
    return ch_error(err, CH_ERR_UNKNOWN_PORT,
                    "bad endpoint '%.64s': %s '%s' has no %s named '%.47s'%s",
                    text, kind->name, name, output ? "output" : "input", port,
                    hint);
  }

  *module_index = (uint32_t)m;
  *port_index   = (uint32_t)p;
  return CH_SUCCESS;
}

static int
find_link(const ChModel* const model, const ChLink* const link)
{
  for (uint32_t i = 0; i < model->n_links; ++i) {
    const ChLink* const l = &model->links[i];
    if (l->from_module == link->from_module &&
        l->from_port == link->from_port && l->to_module == link->to_module &&
        l->to_port == link->to_port) {
      return (int)i;
    }
  }
  return -1;
}

static ChStatus
parse_link(const ChModel* const model,
           const char* const    from,
           const char* const    to,
           ChLink* const        link,
           ChError*             err)
{
  ChStatus st = parse_endpoint(model, from, true, &link->from_module,
                               &link->from_port, err);
  if (!st) {
    st =
      parse_endpoint(model, to, false, &link->to_module, &link->to_port, err);
  }
  return st;
}

ChStatus
ch_model_connect(ChModel* const    model,
                 const char* const from,
                 const char* const to,
                 ChError*          err)
{
  ChLink         link = { 0, 0, 0, 0 };
  const ChStatus st   = parse_link(model, from, to, &link, err);
  if (st) {
    return st;
  }
  if (find_link(model, &link) >= 0) {
    return ch_error(err, CH_ERR_EXISTS, "%s is already connected to %s", from,
                    to);
  }
  if (model->n_links >= CH_MAX_LINKS) {
    return ch_error(err, CH_ERR_TOO_LARGE,
                    "cannot connect %s to %s: a patch holds at most %u links",
                    from, to, CH_MAX_LINKS);
  }
  if (!reserve((void**)&model->links, &model->links_cap, model->n_links + 1u,
               sizeof(ChLink))) {
    return ch_error(err, CH_ERR_NO_MEMORY, "out of memory connecting %s", from);
  }
  model->links[model->n_links++] = link;
  return CH_SUCCESS;
}

ChStatus
ch_model_disconnect(ChModel* const    model,
                    const char* const from,
                    const char* const to,
                    ChError*          err)
{
  ChLink         link = { 0, 0, 0, 0 };
  const ChStatus st   = parse_link(model, from, to, &link, err);
  if (st) {
    return st;
  }
  const int index = find_link(model, &link);
  if (index < 0) {
    return ch_error(err, CH_ERR_NO_LINK, "%s is not connected to %s", from, to);
  }
  memmove(&model->links[index], &model->links[index + 1],
          (model->n_links - (uint32_t)index - 1u) * sizeof(ChLink));
  --model->n_links;
  return CH_SUCCESS;
}

/* Resolve module and parameter names for set and get. */
static ChStatus
find_param(const ChModel* const model,
           const char* const    module_name,
           const char* const    param_name,
           Module** const       module,
           uint32_t* const      param,
           ChError*             err)
{
  if (!(*module = find_module(model, module_name, err))) {
    return CH_ERR_UNKNOWN_MODULE;
  }
  const int p = ch_kind_find_param((*module)->kind, param_name);
  if (p < 0) {
    const ChKind* const kind = (*module)->kind;
    char                hint[256];
    ch_hint(hint, sizeof(hint), param_name, "its parameters", kind->params,
            kind->n_params, sizeof(ChParamInfo));
    return ch_error(err, CH_ERR_UNKNOWN_PARAM,
                    "%s '%s' has no parameter named '%.47s'%s", kind->name,
                    module_name, param_name, hint);
  }
  *param = (uint32_t)p;
  return CH_SUCCESS;
}

ChStatus
ch_model_set(ChModel* const    model,
             const char* const module_name,
             const char* const param_name,
             const float       value,
             ChError*          err)
{
  Module*        module = NULL;
  uint32_t       p      = 0;
  const ChStatus st =
    find_param(model, module_name, param_name, &module, &p, err);
  if (st) {
    return st;
  }
  const ChParamInfo* const info = &module->kind->params[p];
  if (!(value >= info->min && value <= info->max)) {
    return ch_error(err, CH_ERR_RANGE, "%s:%s = %g is out of range [%g, %g]",
                    module_name, param_name, (double)value, (double)info->min,
                    (double)info->max);
  }
  module->params[p] = value;
  return CH_SUCCESS;
}

ChStatus
ch_model_get(const ChModel* const model,
             const char* const    module_name,
             const char* const    param_name,
             float* const         value,
             ChError*             err)
{
  Module*        module = NULL;
  uint32_t       p      = 0;
  const ChStatus st =
    find_param(model, module_name, param_name, &module, &p, err);
  if (!st) {
    *value = module->params[p];
  }
  return st;
}

uint32_t
ch_model_n_modules(const ChModel* const model)
{
  return model->n_modules;
}

const char*
ch_model_module_name(const ChModel* const model, const uint32_t index)
{
  return model->modules[index].name;
}

const ChKind*
ch_model_module_kind(const ChModel* const model, const uint32_t index)
{
  return model->modules[index].kind;
}

const float*
ch_model_module_params(const ChModel* const model, const uint32_t index)
{
  return model->modules[index].params;
}

uint32_t
ch_model_module_uid(const ChModel* const model, const uint32_t index)
{
  return model->modules[index].uid;
}

void
ch_model_adopt_uids(ChModel* const model, const ChModel* const previous)
{
  uint32_t next =
    previous->next_uid > model->next_uid ? previous->next_uid : model->next_uid;
  for (uint32_t i = 0; i < model->n_modules; ++i) {
    Module* const module = &model->modules[i];
    const int     old    = ch_model_find(previous, module->name);
    module->uid = old >= 0 && previous->modules[old].kind == module->kind
                    ? previous->modules[old].uid
                    : ++next;
  }
  model->next_uid = next;
}

void
ch_model_renew_uids(ChModel* const model, const ChModel* const previous)
{
  uint32_t next =
    previous->next_uid > model->next_uid ? previous->next_uid : model->next_uid;
  for (uint32_t i = 0; i < model->n_modules; ++i) {
    model->modules[i].uid = ++next;
  }
  model->next_uid = next;
}

/* A rename keeps a module's identity and its state: not a new sound. */
static bool
same_identity(const Module* const ma, const Module* const mb)
{
  return ma->kind == mb->kind && ma->uid == mb->uid;
}

bool
ch_model_same_wiring(const ChModel* const a, const ChModel* const b)
{
  return alike(a, b, same_identity);
}

uint32_t
ch_model_n_links(const ChModel* const model)
{
  return model->n_links;
}

const ChLink*
ch_model_link(const ChModel* const model, const uint32_t index)
{
  return &model->links[index];
}

ChStatus
ch_model_set_position(ChModel* const    model,
                      const char* const name,
                      const float       x,
                      const float       y,
                      ChError*          err)
{
  Module* const module = find_module(model, name, err);
  if (!module) {
    return CH_ERR_UNKNOWN_MODULE;
  }
  if (!isfinite(x) || !isfinite(y) || fabsf(x) > CH_POS_MAX ||
      fabsf(y) > CH_POS_MAX) {
    return ch_error(
      err, CH_ERR_RANGE, "%s: position (%g, %g) is out of range [-%g, %g]",
      name, (double)x, (double)y, (double)CH_POS_MAX, (double)CH_POS_MAX);
  }
  module->has_pos = true;
  module->x       = x;
  module->y       = y;
  return CH_SUCCESS;
}

bool
ch_model_module_position(const ChModel* const model,
                         const uint32_t       index,
                         float* const         x,
                         float* const         y)
{
  const Module* const module = &model->modules[index];
  *x                         = module->has_pos ? module->x : 0.0f;
  *y                         = module->has_pos ? module->y : 0.0f;
  return module->has_pos;
}

void
ch_model_mark_voiced(const ChModel* const model, uint8_t* const voiced)
{
  for (uint32_t m = 0; m < model->n_modules; ++m) {
    voiced[m] = (model->modules[m].kind->flags & CH_KIND_PER_VOICE) != 0;
  }
  /* Links may run against the schedule (into feedback kinds), so spread
     until nothing changes: at most once per module. */
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t l = 0; l < model->n_links; ++l) {
      const ChLink* const link = &model->links[l];
      if (voiced[link->from_module] && !voiced[link->to_module] &&
          !(model->modules[link->to_module].kind->flags & CH_KIND_GLOBAL)) {
        voiced[link->to_module] = 1;
        changed                 = true;
      }
    }
  }
}
