/* Patch text reader: Turtle parsed with serd in two passes (collect the
   statements with their lines, then build the model). */
#include "patch_impl.h"

#include "file.h"
#include "graph.h"
#include "registry.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Something statements are about: a module (by name) or a link (by blank
   node id). */
typedef struct {
  char*    id;
  bool     is_link;
  unsigned line; /* of its first statement */
  char*    kind; /* module: value of ch:kind, or NULL */
  unsigned kind_line;
  char*    from; /* link: values of ch:from and ch:to, or NULL */
  unsigned from_line;
  char*    to;
  unsigned to_line;
  unsigned x_line; /* module: line of ch:x and ch:y, 0 if absent */
  unsigned y_line;
  float    x;
  float    y;
} Subject;

/* One `param:name value` statement, resolved once the module exists. */
typedef struct {
  uint32_t subject;
  char*    name;
  char*    value;
  bool     numeric; /* typed as a number, not a plain string */
  unsigned line;
} ParamStmt;

typedef struct {
  const char* text;
  size_t      len;
  size_t      pos;  /* bytes handed to serd */
  unsigned    line; /* line of the last byte serd consumed */

  SerdEnv*   env;
  Subject*   subjects;
  uint32_t   n_subjects;
  uint32_t   subjects_cap;
  uint32_t*  kinds; /* module subjects in the order of their ch:kind */
  uint32_t   n_kinds;
  uint32_t   kinds_cap;
  ParamStmt* params;
  uint32_t   n_params;
  uint32_t   params_cap;
  uint32_t*  index; /* hash of subjects: subject + 1, or 0 for empty */
  uint32_t   n_modules;
  uint32_t   n_links;
  uint32_t   polyphony; /* 0 if the text gives none */
  unsigned   polyphony_line;

  ChError error; /* the first error, if any */
} Reader;

/* Grow an array to hold at least `need` elements; false if out of memory. */
static bool
grow(void** array, uint32_t* cap, const uint32_t need, const size_t size)
{
  if (need <= *cap) {
    return true;
  }
  const uint32_t new_cap = *cap ? *cap * 2u : 16u;
  void* const    grown   = realloc(*array, (size_t)new_cap * size);
  if (!grown) {
    return false;
  }
  *array = grown;
  *cap   = new_cap;
  return true;
}

static SerdStatus fail(Reader* const     r,
                       const ChStatus    status,
                       const char* const fmt,
                       ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* Record the first error and stop the parse. */
static SerdStatus
fail(Reader* const r, const ChStatus status, const char* const fmt, ...)
{
  if (!r->error.status) {
    va_list args;
    va_start(args, fmt);
    r->error.status = status;
    vsnprintf(r->error.msg, sizeof(r->error.msg), fmt, args);
    va_end(args);
  }
  return SERD_ERR_BAD_ARG;
}

/*
   Serd reads one byte per call (page size 1) and keeps exactly one byte of
   lookahead, so when a statement arrives every byte handed out but the last
   has been consumed: its line is the line of the statement's object.
*/
static size_t
read_byte(void* const buf, const size_t size, const size_t n, void* stream)
{
  (void)size;
  (void)n;
  Reader* const r = (Reader*)stream;
  if (r->pos >= r->len) {
    return 0;
  }
  if (r->pos && r->text[r->pos - 1] == '\n') {
    ++r->line;
  }
  *(char*)buf = r->text[r->pos++];
  return 1;
}

static int
read_error(void* const stream)
{
  (void)stream;
  return 0;
}

/* serd's words for common mistakes, in plain words with the fix. */
static const char* const plain_syntax[][2] = {
  { "line end in short string",
    "a string is not closed before the end of the line (missing \")" },
  { "end of file in short string",
    "a string is not closed before the end of the file (missing \")" },
  { "end of file in long string",
    "a \"\"\"long string\"\"\" is not closed before the end of the file" },
  { "missing ';' or '.'",
    "missing ';' or '.' (';' separates the properties of one module, '.' "
    "ends its statement)" },
  { "expected object",
    "a value is missing (a number, a \"string\" or a :name)" },
  { "expected prefixed name",
    "a property or value is missing or malformed (e.g. param:cutoff 800)" },
  { "bad verb", "expected a property (such as ch:kind or param:cutoff)" },
  { "unexpected end of file",
    "the file ends in the middle of a statement (missing '.'?)" },
  { "invalid name start", "a name must start with a letter or '_'" },
  { "expected label or subject",
    "a statement must start with a module (:name), [] (a link) or <>" },
};

/* The plain wording of serd's message `msg`, or `msg` itself. */
static const char*
plain_words(const char* const msg)
{
  for (size_t i = 0; i < sizeof(plain_syntax) / sizeof(plain_syntax[0]); ++i) {
    if (!strcmp(msg, plain_syntax[i][0])) {
      return plain_syntax[i][1];
    }
  }
  return msg;
}

/* How to declare the prefix of `curie`, if it is one of ours. */
static const char*
prefix_hint(const char* const curie)
{
  if (!strncmp(curie, "ch:", 3)) {
    return " (start the file with '@prefix ch: <" NS_CH "> .')";
  }
  if (!strncmp(curie, "param:", 6)) {
    return " (start the file with '@prefix param: <" NS_PARAM "> .')";
  }
  if (curie[0] == ':') {
    return " (start the file with '@prefix : <" NS_MODULE "> .')";
  }
  return "";
}

static SerdStatus
on_error(void* const handle, const SerdError* const error)
{
  Reader* const r = (Reader*)handle;
  char          msg[256];
  va_list       args;
  va_copy(args, *error->args);
  vsnprintf(msg, sizeof(msg), error->fmt, args);
  va_end(args);
  const size_t len = strlen(msg);
  if (len && msg[len - 1] == '\n') {
    msg[len - 1] = '\0';
  }
  fail(r, CH_ERR_SYNTAX, "line %u, column %u: syntax error: %s", error->line,
       error->col, plain_words(msg));
  return SERD_SUCCESS;
}

static SerdStatus
on_base(void* const handle, const SerdNode* const uri)
{
  Reader* const r = (Reader*)handle;
  return serd_env_set_base_uri(r->env, uri);
}

static SerdStatus
on_prefix(void* const           handle,
          const SerdNode* const name,
          const SerdNode* const uri)
{
  Reader* const r = (Reader*)handle;
  return serd_env_set_prefix(r->env, name, uri);
}

static bool
starts_with(const char* const s, const char* const prefix)
{
  return !strncmp(s, prefix, strlen(prefix));
}

/* Slots of the subject hash: a power of two at least twice the most
   subjects a patch may have, so that probes stay short. */
#define INDEX_SIZE 32768u
#if INDEX_SIZE < 2u * (CH_MAX_MODULES + CH_MAX_LINKS + 1u)
#  error "INDEX_SIZE is too small for the limits"
#endif

/* FNV-1a of a subject's kind and id. */
static uint32_t
subject_hash(const char* const id, const bool is_link)
{
  uint32_t h = 2166136261u ^ (uint32_t)is_link;
  for (const char* c = id; *c; ++c) {
    h = (h ^ (uint8_t)*c) * 16777619u;
  }
  return h;
}

/* The subject called `id`, added if new; UINT32_MAX with the error recorded
   if out of memory or over the limit of modules or links.  A hash keeps
   this O(1), so reading stays linear in the text size. */
static uint32_t
find_subject(Reader* const r, const char* const id, const bool is_link)
{
  uint32_t slot = subject_hash(id, is_link) & (INDEX_SIZE - 1u);
  for (; r->index[slot]; slot = (slot + 1u) & (INDEX_SIZE - 1u)) {
    const Subject* const s = &r->subjects[r->index[slot] - 1u];
    if (s->is_link == is_link && !strcmp(s->id, id)) {
      return r->index[slot] - 1u;
    }
  }
  /* Limits as we go: a hostile file is refused at its first subject too
     many, not after the whole text is parsed. */
  if (is_link ? r->n_links >= CH_MAX_LINKS : r->n_modules >= CH_MAX_MODULES) {
    fail(r, CH_ERR_TOO_LARGE,
         "line %u: more than %u %s: a patch holds at most %u", r->line,
         is_link ? CH_MAX_LINKS : CH_MAX_MODULES, is_link ? "links" : "modules",
         is_link ? CH_MAX_LINKS : CH_MAX_MODULES);
    return UINT32_MAX;
  }
  char* const copy = strdup(id);
  if (!copy || !grow((void**)&r->subjects, &r->subjects_cap, r->n_subjects + 1u,
                     sizeof(Subject))) {
    free(copy);
    fail(r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
    return UINT32_MAX;
  }
  Subject* const s = &r->subjects[r->n_subjects];
  memset(s, 0, sizeof(*s));
  s->id      = copy;
  s->is_link = is_link;
  s->line    = r->line;
  *(is_link ? &r->n_links : &r->n_modules) += 1u;
  r->index[slot] = r->n_subjects + 1u;
  return r->n_subjects++;
}

/* Store the string value of a single-valued property. */
static SerdStatus
set_once(Reader* const         r,
         const char* const     what,
         const char* const     prop,
         const SerdNode* const object,
         char** const          value,
         unsigned* const       line)
{
  if (object->type != SERD_LITERAL) {
    return fail(r, CH_ERR_BAD_PATCH,
                "line %u: %s of %s must be a string in quotes", r->line, prop,
                what);
  }
  if (*value) {
    return fail(r, CH_ERR_BAD_PATCH,
                "line %u: %s has a second %s (the first is on line %u)",
                r->line, what, prop, *line);
  }
  if (!(*value = strdup((const char*)object->buf))) {
    return fail(r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
  }
  *line = r->line;
  return SERD_SUCCESS;
}

typedef enum {
  PROP_FOREIGN, /* another vocabulary: ignored */
  PROP_UNKNOWN, /* ours, but not a property we know */
  PROP_KIND,
  PROP_FROM,
  PROP_TO,
  PROP_POLYPHONY,
  PROP_X,
  PROP_Y,
  PROP_PARAM,
} Property;

static Property
classify_property(const char* const uri)
{
  if (!starts_with(uri, NS_CH)) {
    return PROP_FOREIGN;
  }
  if (starts_with(uri, NS_PARAM)) {
    return PROP_PARAM;
  }
  const char* const name = uri + strlen(NS_CH);
  return !strcmp(name, "kind")        ? PROP_KIND
         : !strcmp(name, "from")      ? PROP_FROM
         : !strcmp(name, "to")        ? PROP_TO
         : !strcmp(name, "polyphony") ? PROP_POLYPHONY
         : !strcmp(name, "x")         ? PROP_X
         : !strcmp(name, "y")         ? PROP_Y
                                      : PROP_UNKNOWN;
}

/* Short name of one of our IRIs for messages: "ch:kind", "param:cutoff". */
static const char*
short_name(const char* const uri, char buf[96])
{
  if (starts_with(uri, NS_PARAM)) {
    snprintf(buf, 96, "param:%.80s", uri + strlen(NS_PARAM));
  } else if (starts_with(uri, NS_MODULE)) {
    snprintf(buf, 96, ":%.80s", uri + strlen(NS_MODULE));
  } else if (starts_with(uri, NS_CH)) {
    snprintf(buf, 96, "ch:%.80s", uri + strlen(NS_CH));
  } else {
    snprintf(buf, 96, "<%.80s>", uri);
  }
  return buf;
}

/* ch:x or ch:y of a module: one number each. */
static SerdStatus
on_position(Reader* const         r,
            Subject* const        s,
            const Property        prop,
            const SerdNode* const object)
{
  const char* const name = prop == PROP_X ? "ch:x" : "ch:y";
  unsigned* const   line = prop == PROP_X ? &s->x_line : &s->y_line;
  const char* const text = (const char*)object->buf;
  if (object->type != SERD_LITERAL || !ch_patch_is_number(text)) {
    return fail(r, CH_ERR_BAD_PATCH,
                "line %u: %s of module '%s' must be a number", r->line, name,
                s->id);
  }
  if (*line) {
    return fail(
      r, CH_ERR_BAD_PATCH,
      "line %u: module '%s' has a second %s (the first is on line %u)", r->line,
      s->id, name, *line);
  }
  *(prop == PROP_X ? &s->x : &s->y) = strtof(text, NULL);
  *line                             = r->line;
  return SERD_SUCCESS;
}

/* Keep one `param:name value` statement of module subject `index`. */
static SerdStatus
add_param(Reader* const     r,
          const uint32_t    index,
          const char* const name,
          const char* const value,
          const bool        numeric)
{
  /* More values than all modules have parameters means one is given
     twice: stop here rather than collect them all. */
  if (r->n_params >= CH_MAX_MODULES * CH_MAX_PARAMS) {
    return fail(r, CH_ERR_TOO_LARGE,
                "line %u: more than %u parameter values in one patch", r->line,
                CH_MAX_MODULES * CH_MAX_PARAMS);
  }
  if (!grow((void**)&r->params, &r->params_cap, r->n_params + 1u,
            sizeof(ParamStmt))) {
    return fail(r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
  }
  ParamStmt* const p = &r->params[r->n_params];
  p->subject         = index;
  p->name            = strdup(name);
  p->value           = strdup(value);
  p->numeric         = numeric;
  p->line            = r->line;
  ++r->n_params; /* counted first, so that both strings are freed */
  if (!p->name || !p->value) {
    return fail(r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
  }
  return SERD_SUCCESS;
}

static SerdStatus
on_module_statement(Reader* const         r,
                    const char* const     name,
                    const Property        prop,
                    const char* const     pred,
                    const SerdNode* const object,
                    const SerdNode* const datatype)
{
  char what[96];
  if (!ch_name_valid(name)) {
    return fail(r, CH_ERR_BAD_NAME,
                "line %u: bad module name '%.64s': use 1 to %u letters, "
                "digits, '_', '.' or '-', starting with a letter or '_'",
                r->line, name, CH_NAME_MAX);
  }
  const uint32_t index = find_subject(r, name, false);
  if (index == UINT32_MAX) {
    return SERD_ERR_BAD_ARG;
  }
  Subject* const s = &r->subjects[index];
  snprintf(what, sizeof(what), "module '%s'", name);

  if (prop == PROP_KIND) {
    if (!grow((void**)&r->kinds, &r->kinds_cap, r->n_kinds + 1u,
              sizeof(uint32_t))) {
      return fail(r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
    }
    const SerdStatus st =
      set_once(r, what, "ch:kind", object, &s->kind, &s->kind_line);
    if (!st) {
      r->kinds[r->n_kinds++] = index;
    }
    return st;
  }
  if (prop == PROP_X || prop == PROP_Y) {
    return on_position(r, s, prop, object);
  }

  if (prop != PROP_PARAM) {
    char pred_name[96];
    return fail(r, CH_ERR_BAD_PATCH,
                "line %u: %s is not a property of a module (modules have "
                "ch:kind, ch:x, ch:y and param:...)",
                r->line, short_name(pred, pred_name));
  }
  if (object->type != SERD_LITERAL) {
    return fail(r, CH_ERR_BAD_PATCH, "line %u: %s:%s must be a number", r->line,
                name, pred + strlen(NS_PARAM));
  }
  const char* const type = datatype ? (const char*)datatype->buf : NULL;
  const bool        numeric =
    type &&
    (!strcmp(type, NS_XSD "integer") || !strcmp(type, NS_XSD "decimal") ||
     !strcmp(type, NS_XSD "double") || !strcmp(type, NS_XSD "float"));
  if (type && !numeric) {
    return fail(r, CH_ERR_BAD_PATCH,
                "line %u: %s:%s must be a number, not a "
                "literal of type <%.80s>",
                r->line, name, pred + strlen(NS_PARAM), type);
  }
  return add_param(r, index, pred + strlen(NS_PARAM), (const char*)object->buf,
                   numeric);
}

static SerdStatus
on_link_statement(Reader* const         r,
                  const char* const     id,
                  const Property        prop,
                  const char* const     pred,
                  const SerdNode* const object)
{
  char pred_name[96];
  if (prop == PROP_KIND || prop == PROP_PARAM || prop == PROP_X ||
      prop == PROP_Y) {
    return fail(r, CH_ERR_BAD_PATCH,
                "line %u: %s on a blank node: a module needs a name, as in "
                ":osc ch:kind \"osc\"",
                r->line, short_name(pred, pred_name));
  }
  if (prop != PROP_FROM && prop != PROP_TO) {
    return fail(r, CH_ERR_BAD_PATCH,
                "line %u: %s is not a property of a link (links have ch:from "
                "and ch:to)",
                r->line, short_name(pred, pred_name));
  }
  const uint32_t index = find_subject(r, id, true);
  if (index == UINT32_MAX) {
    return SERD_ERR_BAD_ARG;
  }
  Subject* const s = &r->subjects[index];
  char           what[64];
  snprintf(what, sizeof(what), "the link that starts on line %u", s->line);
  return prop == PROP_FROM
           ? set_once(r, what, "ch:from", object, &s->from, &s->from_line)
           : set_once(r, what, "ch:to", object, &s->to, &s->to_line);
}

static SerdStatus
on_patch_statement(Reader* const         r,
                   const char* const     subject,
                   const Property        prop,
                   const SerdNode* const object)
{
  char subject_name[96];
  if (prop == PROP_POLYPHONY) {
    const char* s = (const char*)object->buf;
    s += *s == '+';
    bool ok = object->type == SERD_LITERAL && ch_patch_is_digit(*s);
    for (; ok && *s; ++s) {
      ok = ch_patch_is_digit(*s);
    }
    const unsigned long voices =
      ok ? strtoul((const char*)object->buf, NULL, 10) : 0ul;
    if (!voices) {
      return fail(r, CH_ERR_BAD_PATCH,
                  "line %u: ch:polyphony must be a whole number of at least 1",
                  r->line);
    }
    r->polyphony      = voices > 1000000ul ? 1000000u : (uint32_t)voices;
    r->polyphony_line = r->line;
    return SERD_SUCCESS;
  }
  return fail(r, CH_ERR_BAD_PATCH,
              "line %u: %s is not a module: module IRIs are :name, with "
              "@prefix : <" NS_MODULE ">",
              r->line, short_name(subject, subject_name));
}

static SerdStatus
on_statement(void* const              handle,
             const SerdStatementFlags flags,
             const SerdNode* const    graph,
             const SerdNode* const    subject,
             const SerdNode* const    predicate,
             const SerdNode* const    object,
             const SerdNode* const    datatype,
             const SerdNode* const    lang)
{
  (void)flags;
  (void)graph;
  (void)lang;
  Reader* const r = (Reader*)handle;
  if (r->error.status) {
    return SERD_ERR_BAD_ARG;
  }

  SerdNode   pred = serd_env_expand_node(r->env, predicate);
  SerdNode   subj = SERD_NODE_NULL;
  SerdStatus st   = SERD_SUCCESS;
  if (!pred.buf) {
    st = fail(r, CH_ERR_SYNTAX, "line %u: undefined prefix in '%s'%s", r->line,
              (const char*)predicate->buf,
              prefix_hint((const char*)predicate->buf));
    goto done;
  }

  const Property prop = classify_property((const char*)pred.buf);
  if (prop == PROP_FOREIGN) {
    goto done; /* rdf:type, rdfs:comment, ...: ignored */
  }
  if (prop == PROP_UNKNOWN) {
    char name[96];
    st = fail(r, CH_ERR_BAD_PATCH, "line %u: unknown property %s", r->line,
              short_name((const char*)pred.buf, name));
    goto done;
  }

  if (subject->type == SERD_BLANK) {
    st = on_link_statement(r, (const char*)subject->buf, prop,
                           (const char*)pred.buf, object);
    goto done;
  }

  subj = serd_env_expand_node(r->env, subject);
  if (!subj.buf) {
    st =
      fail(r, CH_ERR_SYNTAX, "line %u: undefined prefix in '%s'%s", r->line,
           (const char*)subject->buf, prefix_hint((const char*)subject->buf));
  } else if (starts_with((const char*)subj.buf, NS_MODULE)) {
    st = on_module_statement(r, (const char*)subj.buf + strlen(NS_MODULE), prop,
                             (const char*)pred.buf, object, datatype);
  } else {
    st = on_patch_statement(r, (const char*)subj.buf, prop, object);
  }

done:
  serd_node_free(&subj);
  serd_node_free(&pred);
  return st;
}

static void
reader_free(Reader* const r)
{
  for (uint32_t i = 0; i < r->n_subjects; ++i) {
    free(r->subjects[i].id);
    free(r->subjects[i].kind);
    free(r->subjects[i].from);
    free(r->subjects[i].to);
  }
  for (uint32_t i = 0; i < r->n_params; ++i) {
    free(r->params[i].name);
    free(r->params[i].value);
  }
  free(r->subjects);
  free(r->kinds);
  free(r->params);
  free(r->index);
  serd_env_free(r->env);
}

/* Pass 1: collect what the text says, with line numbers. */
static ChStatus
parse(Reader* const r)
{
  const char* const nul = (const char*)memchr(r->text, '\0', r->len);
  if (nul) {
    unsigned line = 1;
    for (const char* c = r->text; c < nul; ++c) {
      line += *c == '\n';
    }
    fail(r, CH_ERR_SYNTAX, "line %u: syntax error: a NUL byte", line);
    return r->error.status;
  }

  SerdReader* const reader = serd_reader_new(SERD_TURTLE, r, NULL, on_base,
                                             on_prefix, on_statement, NULL);
  if (!reader) {
    fail(r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
    return r->error.status;
  }
  serd_reader_set_strict(reader, true);
  serd_reader_set_error_sink(reader, on_error, r);

  SerdStatus st = serd_reader_start_source_stream(
    reader, read_byte, read_error, r, (const uint8_t*)"patch", 1);
  while (!st) {
    st = serd_reader_read_chunk(reader);
  }
  serd_reader_end_stream(reader);
  serd_reader_free(reader);

  if (st != SERD_FAILURE && !r->error.status) { /* FAILURE: the end */
    fail(r, CH_ERR_SYNTAX, "line %u: syntax error: %s", r->line,
         (const char*)serd_strerror(st));
  }
  return r->error.status;
}

/* Report `inner` (from a model edit) at `line`. */
static ChStatus
fail_at(Reader* const r, const unsigned line, const ChError* const inner)
{
  fail(r, inner->status, "line %u: %s", line, inner->msg);
  return r->error.status;
}

/* The value of a param statement: a number, or a choice label. */
static ChStatus
param_value(Reader* const          r,
            const ParamStmt* const p,
            const ChParamInfo*     info,
            float* const           value)
{
  const char* const module = r->subjects[p->subject].id;
  if (!p->numeric && info->choices) {
    for (uint32_t i = 0; info->choices[i]; ++i) {
      if (!strcmp(p->value, info->choices[i])) {
        *value = (float)i;
        return CH_SUCCESS;
      }
    }
  }
  if (ch_patch_is_number(p->value)) {
    *value = strtof(p->value, NULL);
    return CH_SUCCESS;
  }
  if (!info->choices) {
    fail(r, CH_ERR_BAD_PATCH, "line %u: %s:%s = \"%.64s\" is not a number",
         p->line, module, p->name, p->value);
    return r->error.status;
  }
  char   labels[256] = "";
  size_t used        = 0;
  for (uint32_t i = 0; info->choices[i] && used < sizeof(labels); ++i) {
    used += (size_t)snprintf(labels + used, sizeof(labels) - used, "%s%s",
                             i ? ", " : "", info->choices[i]);
  }
  fail(r, CH_ERR_BAD_PATCH,
       "line %u: %s:%s = \"%.64s\" is not a number or one of: %s", p->line,
       module, p->name, p->value, labels);
  return r->error.status;
}

/* True if `endpoint` names an existing module's output. */
static bool
output_exists(const ChModel* const model, const char* const endpoint)
{
  const char* const colon = strchr(endpoint, ':');
  char              name[CH_NAME_MAX + 1];
  if (!colon || (size_t)(colon - endpoint) > CH_NAME_MAX) {
    return false;
  }
  memcpy(name, endpoint, (size_t)(colon - endpoint));
  name[colon - endpoint] = '\0';
  const int m            = ch_model_find(model, name);
  return m >= 0 && ch_kind_find_output(ch_model_module_kind(model, (uint32_t)m),
                                       colon + 1) >= 0;
}

/* Create module subject `s` in `model`, placed if it has ch:x and ch:y. */
static ChStatus
create_module(Reader* const r, const Subject* const s, ChModel* const model)
{
  ChError inner;
  ch_error_clear(&inner);
  if (ch_model_create(model, s->id, s->kind, &inner)) {
    return fail_at(r, s->kind_line, &inner);
  }
  if (!s->x_line != !s->y_line) {
    fail(r, CH_ERR_BAD_PATCH, "line %u: module '%s' has %s but no %s",
         s->x_line ? s->x_line : s->y_line, s->id, s->x_line ? "ch:x" : "ch:y",
         s->x_line ? "ch:y" : "ch:x");
    return r->error.status;
  }
  if (s->x_line && ch_model_set_position(model, s->id, s->x, s->y, &inner)) {
    return fail_at(r, s->x_line, &inner);
  }
  return CH_SUCCESS;
}

/* Pass 2: build the patch in `model` (empty) from what pass 1 collected. */
static ChStatus
build(Reader* const r, ChModel* const model)
{
  ChError inner;
  ch_error_clear(&inner);
  if (r->polyphony && ch_model_set_polyphony(model, r->polyphony, &inner)) {
    fail(r, inner.status, "line %u: %s", r->polyphony_line, inner.msg);
    return r->error.status;
  }

  for (uint32_t i = 0; i < r->n_subjects; ++i) {
    const Subject* const s = &r->subjects[i];
    if (!s->is_link && !s->kind) {
      fail(r, CH_ERR_BAD_PATCH, "module '%s' (line %u) has no ch:kind", s->id,
           s->line);
      return r->error.status;
    }
    if (s->is_link && (!s->from || !s->to)) {
      fail(r, CH_ERR_BAD_PATCH, "link (line %u) has no %s", s->line,
           s->from ? "ch:to" : "ch:from");
      return r->error.status;
    }
  }

  for (uint32_t i = 0; i < r->n_kinds; ++i) {
    const Subject* const s  = &r->subjects[r->kinds[i]];
    const ChStatus       st = create_module(r, s, model);
    if (st) {
      return st;
    }
  }

  /* Line of each parameter's value so far, to catch one given twice. */
  unsigned* const seen = (unsigned*)calloc(
    (size_t)r->n_kinds * CH_MAX_PARAMS + 1u, sizeof(unsigned));
  if (!seen) {
    fail(r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
    return r->error.status;
  }
  ChStatus st = CH_SUCCESS;
  for (uint32_t i = 0; i < r->n_params && !st; ++i) {
    const ParamStmt* const p      = &r->params[i];
    const char* const      module = r->subjects[p->subject].id;
    const int              m      = ch_model_find(model, module);
    const ChKind* const    kind   = ch_model_module_kind(model, (uint32_t)m);
    const int              index  = ch_kind_find_param(kind, p->name);
    float                  value  = 0.0f;
    if (index < 0) {
      ch_model_set(model, module, p->name, 0.0f, &inner); /* for its message */
      st = fail_at(r, p->line, &inner);
    } else if (seen[(size_t)m * CH_MAX_PARAMS + (size_t)index]) {
      fail(r, CH_ERR_BAD_PATCH,
           "line %u: %s:%s is given twice (the first is on line %u)", p->line,
           module, p->name, seen[(size_t)m * CH_MAX_PARAMS + (size_t)index]);
      st = r->error.status;
    } else if (!(st = param_value(r, p, &kind->params[index], &value)) &&
               ch_model_set(model, module, p->name, value, &inner)) {
      st = fail_at(r, p->line, &inner);
    }
    if (index >= 0) {
      seen[(size_t)m * CH_MAX_PARAMS + (size_t)index] = p->line;
    }
  }
  free(seen);
  if (st) {
    return st;
  }

  for (uint32_t i = 0; i < r->n_subjects; ++i) {
    const Subject* const s = &r->subjects[i];
    if (s->is_link && ch_model_connect(model, s->from, s->to, &inner)) {
      /* Point at the endpoint that is wrong. */
      return fail_at(
        r, output_exists(model, s->from) ? s->to_line : s->from_line, &inner);
    }
  }
  return CH_SUCCESS;
}

/* Pass 3: a cycle is refused here already, where the line of the link
   that closes it is known (a commit would name no line). */
static ChStatus
check_cycle(Reader* const r, const ChModel* const model)
{
  ChError  inner;
  uint32_t link = 0;
  ch_error_clear(&inner);
  const ChStatus st = ch_graph_find_cycle(model, &link, &inner);
  if (st != CH_ERR_CYCLE) {
    return st ? fail_at(r, r->line, &inner) : CH_SUCCESS;
  }
  uint32_t seen = 0;
  for (uint32_t i = 0; i < r->n_subjects; ++i) {
    const Subject* const s = &r->subjects[i];
    if (s->is_link && seen++ == link) {
      return fail_at(r, s->from_line, &inner);
    }
  }
  return fail_at(r, r->line, &inner);
}

ChStatus
ch_patch_read(ChModel* const    model,
              const char* const text,
              const size_t      len,
              ChError*          err)
{
  Reader r;
  memset(&r, 0, sizeof(r));
  r.text  = text ? text : "";
  r.len   = text ? len : 0;
  r.line  = 1;
  r.env   = serd_env_new(NULL);
  r.index = (uint32_t*)calloc(INDEX_SIZE, sizeof(uint32_t));
  ch_error_clear(&r.error);
  if (r.len > CH_PATCH_TEXT_MAX) {
    /* Refused before a byte is parsed. */
    ch_error(err, CH_ERR_TOO_LARGE,
             "patch text of %zu bytes is larger than the limit of %u bytes "
             "(%u MiB)",
             r.len, CH_PATCH_TEXT_MAX, CH_PATCH_TEXT_MAX >> 20);
    reader_free(&r);
    return CH_ERR_TOO_LARGE;
  }

  /* Build in a copy emptied of modules, so that a failed read leaves
     `model` as it was, and module identities stay unique in its history. */
  ChModel* const  tmp = ch_model_copy(model);
  const ChCLocale loc = ch_patch_c_locale_begin();
  ChStatus        st  = CH_SUCCESS;
  if (!r.env || !r.index || !tmp) {
    fail(&r, CH_ERR_NO_MEMORY, "out of memory reading the patch");
    st = r.error.status;
  } else {
    ch_model_clear(tmp);
    if (!(st = parse(&r)) && !(st = build(&r, tmp)) &&
        !(st = check_cycle(&r, tmp))) {
      st = ch_model_assign(model, tmp, &r.error);
    }
  }
  ch_patch_c_locale_end(loc);

  if (st) {
    ch_error(err, r.error.status, "%s", r.error.msg);
  }
  ch_model_free(tmp);
  reader_free(&r);
  return st;
}

ChStatus
ch_patch_read_file(ChModel* const model, const char* const path, ChError* err)
{
  char*          text = NULL;
  size_t         len  = 0;
  const ChStatus io   = ch_file_read(path, CH_PATCH_TEXT_MAX, &text, &len, err);
  if (io) {
    return io;
  }
  if (!len) {
    /* An editor that truncates before it writes leaves this for a moment:
       never mistake it for a patch of nothing. */
    free(text);
    return ch_error(err, CH_ERR_BAD_PATCH, "%s: the file is empty (0 bytes)",
                    path);
  }
  ChError        inner;
  const ChStatus st = ch_patch_read(model, text, len, &inner);
  free(text);
  return st ? ch_error(err, st, "%s: %s", path, inner.msg) : CH_SUCCESS;
}
