/* Patch text writer: a model written as canonical Turtle with serd. */
#include "patch_impl.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SerdNode
uri(const char* const s)
{
  return serd_node_from_string(SERD_URI, (const uint8_t*)s);
}

static SerdNode
curie(const char* const s)
{
  return serd_node_from_string(SERD_CURIE, (const uint8_t*)s);
}

static SerdNode
literal(const char* const s)
{
  return serd_node_from_string(SERD_LITERAL, (const uint8_t*)s);
}

/* ":name", escaping a final '.', which would otherwise end the statement. */
static SerdNode
module_curie(const char* const name, char buf[CH_NAME_MAX + 4])
{
  const size_t len = strlen(name);
  buf[0]           = ':';
  memcpy(buf + 1, name, len + 1u);
  if (name[len - 1] == '.') {
    memcpy(buf + len, "\\.", 3);
  }
  return curie(buf);
}

typedef struct {
  SerdWriter* writer;
  SerdStatus  st;
} Writer;

static void
emit(Writer* const            w,
     const SerdStatementFlags flags,
     const SerdNode* const    subject,
     const SerdNode* const    predicate,
     const SerdNode* const    object,
     const SerdNode* const    datatype)
{
  if (!w->st) {
    w->st = serd_writer_write_statement(w->writer, flags, NULL, subject,
                                        predicate, object, datatype, NULL);
  }
}

static void
write_prefix(Writer* const w, const char* const name, const char* const ns)
{
  const SerdNode name_node = literal(name);
  const SerdNode ns_node   = uri(ns);
  if (!w->st) {
    w->st = serd_writer_set_prefix(w->writer, &name_node, &ns_node);
  }
}

/* A choice label for `value`, if it is exactly one of the choices (not -0,
   which would read back as 0). */
static const char*
choice_label(const ChParamInfo* const info, const float value)
{
  if (!info->choices) {
    return NULL;
  }
  for (uint32_t i = 0; info->choices[i]; ++i) {
    if (ch_patch_same_float(value, (float)i)) {
      return info->choices[i];
    }
  }
  return NULL;
}

/* ch:x and ch:y of a placed module, as exact as its parameters. */
static void
write_position(Writer* const         w,
               const ChModel* const  model,
               const uint32_t        m,
               const SerdNode* const subject)
{
  float xy[2];
  if (!ch_model_module_position(model, m, &xy[0], &xy[1])) {
    return;
  }
  const SerdNode t_int    = uri(NS_XSD "integer");
  const SerdNode t_dec    = uri(NS_XSD "decimal");
  const char*    names[2] = { "ch:x", "ch:y" };
  for (int i = 0; i < 2; ++i) {
    char           number[NUMBER_MAX];
    const bool     integer = ch_patch_format_float(xy[i], number);
    const SerdNode pred    = curie(names[i]);
    const SerdNode object  = literal(number);
    emit(w, 0, subject, &pred, &object, integer ? &t_int : &t_dec);
  }
}

static ChStatus
write_module(Writer* const        w,
             const ChModel* const model,
             const uint32_t       m,
             ChError*             err)
{
  const char* const   name   = ch_model_module_name(model, m);
  const ChKind* const kind   = ch_model_module_kind(model, m);
  const float* const  params = ch_model_module_params(model, m);
  const SerdNode      p_kind = curie("ch:kind");
  const SerdNode      t_int  = uri(NS_XSD "integer");
  const SerdNode      t_dec  = uri(NS_XSD "decimal");
  const SerdNode      o_kind = literal(kind->name);
  char                subject_buf[CH_NAME_MAX + 4];
  const SerdNode      subject = module_curie(name, subject_buf);

  emit(w, 0, &subject, &p_kind, &o_kind, NULL);
  write_position(w, model, m, &subject);
  for (uint32_t i = 0; i < kind->n_params; ++i) {
    const ChParamInfo* const info = &kind->params[i];
    if (!isfinite(params[i])) {
      return ch_error(err, CH_ERR_RANGE, "cannot write %s:%s = %g", name,
                      info->name, (double)params[i]);
    }
    char pred_buf[96];
    snprintf(pred_buf, sizeof(pred_buf), "param:%s", info->name);
    const SerdNode    pred  = curie(pred_buf);
    const char* const label = choice_label(info, params[i]);
    if (label) {
      const SerdNode object = literal(label);
      emit(w, 0, &subject, &pred, &object, NULL);
    } else {
      char           number[NUMBER_MAX];
      const bool     integer = ch_patch_format_float(params[i], number);
      const SerdNode object  = literal(number);
      emit(w, 0, &subject, &pred, &object, integer ? &t_int : &t_dec);
    }
  }
  return CH_SUCCESS;
}

static void
write_link(Writer* const w, const ChModel* const model, const uint32_t index)
{
  const ChLink* const link   = ch_model_link(model, index);
  const ChKind* const from_k = ch_model_module_kind(model, link->from_module);
  const ChKind* const to_k   = ch_model_module_kind(model, link->to_module);
  char                from[128];
  char                to[128];
  char                id[16];
  snprintf(from, sizeof(from), "%s:%s",
           ch_model_module_name(model, link->from_module),
           from_k->outputs[link->from_port].name);
  snprintf(to, sizeof(to), "%s:%s",
           ch_model_module_name(model, link->to_module),
           to_k->inputs[link->to_port].name);
  snprintf(id, sizeof(id), "l%u", index + 1u);

  const SerdNode subject =
    serd_node_from_string(SERD_BLANK, (const uint8_t*)id);
  const SerdNode p_from = curie("ch:from");
  const SerdNode p_to   = curie("ch:to");
  const SerdNode o_from = literal(from);
  const SerdNode o_to   = literal(to);
  emit(w, SERD_EMPTY_S, &subject, &p_from, &o_from, NULL); /* "[] ch:from" */
  emit(w, 0, &subject, &p_to, &o_to, NULL);
}

char*
ch_patch_write(const ChModel* const model, ChError* err)
{
  SerdEnv* const env   = serd_env_new(NULL);
  SerdChunk      chunk = { NULL, 0 };
  Writer         w     = { NULL, SERD_SUCCESS };
  if (env) {
    w.writer = serd_writer_new(
      SERD_TURTLE, (SerdStyle)(SERD_STYLE_ABBREVIATED | SERD_STYLE_CURIED), env,
      NULL, serd_chunk_sink, &chunk);
  }
  if (!w.writer) {
    serd_env_free(env);
    ch_error(err, CH_ERR_NO_MEMORY, "out of memory writing the patch");
    return NULL;
  }

  const ChCLocale loc = ch_patch_c_locale_begin();
  write_prefix(&w, "ch", NS_CH);
  write_prefix(&w, "param", NS_PARAM);
  write_prefix(&w, "", NS_MODULE);

  const SerdNode doc    = uri("");
  const SerdNode a      = uri(RDF_TYPE);
  const SerdNode patch  = curie("ch:Patch");
  ChStatus       status = CH_SUCCESS;
  emit(&w, 0, &doc, &a, &patch, NULL);
  if (ch_model_polyphony(model) != 1u) {
    char           voices[16];
    const SerdNode p_poly = curie("ch:polyphony");
    const SerdNode t_int  = uri(NS_XSD "integer");
    snprintf(voices, sizeof(voices), "%u", ch_model_polyphony(model));
    const SerdNode o_poly = literal(voices);
    emit(&w, 0, &doc, &p_poly, &o_poly, &t_int);
  }
  for (uint32_t m = 0; m < ch_model_n_modules(model) && !status; ++m) {
    status = write_module(&w, model, m, err);
  }
  for (uint32_t l = 0; l < ch_model_n_links(model) && !status; ++l) {
    write_link(&w, model, l);
  }
  if (!w.st) {
    w.st = serd_writer_finish(w.writer);
  }
  ch_patch_c_locale_end(loc);
  serd_writer_free(w.writer);
  serd_env_free(env);

  char* const text = (char*)serd_chunk_sink_finish(&chunk);
  if (!status && (w.st || !text)) {
    status = ch_error(err, CH_ERR_NO_MEMORY, "cannot write the patch: %s",
                      (const char*)serd_strerror(w.st));
  }
  if (status) {
    free(text);
    return NULL;
  }
  return text;
}

ChStatus
ch_patch_write_file(const ChModel* const model,
                    const char* const    path,
                    ChError*             err)
{
  ChError     inner;
  char* const text = ch_patch_write(model, &inner);
  if (!text) {
    return ch_error(err, inner.status, "%s: %s", path, inner.msg);
  }

  const size_t path_len = strlen(path);
  char* const  tmp_path = (char*)malloc(path_len + 5u);
  if (!tmp_path) {
    free(text);
    return ch_error(err, CH_ERR_NO_MEMORY, "%s: out of memory", path);
  }
  memcpy(tmp_path, path, path_len);
  memcpy(tmp_path + path_len, ".tmp", 5);

  ChStatus    st   = CH_SUCCESS;
  FILE* const file = fopen(tmp_path, "wb");
  if (!file) {
    st = ch_error(err, CH_ERR_IO, "%s: %s", tmp_path, strerror(errno));
  } else {
    const size_t len     = strlen(text);
    const bool   written = fwrite(text, 1, len, file) == len;
    const int    w_errno = errno;
    if (fclose(file) || !written) {
      st = ch_error(err, CH_ERR_IO, "%s: %s", tmp_path,
                    strerror(written ? errno : w_errno));
      remove(tmp_path);
    } else if (rename(tmp_path, path)) {
      st = ch_error(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
      remove(tmp_path);
    }
  }
  free(tmp_path);
  free(text);
  return st;
}
