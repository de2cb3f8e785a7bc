/* Tests of patch text: exact round trips, hand-written Turtle, error lines. */
#include "../src/file.h"
#include "../src/model.h"
#include "../src/patch.h"
#include "../src/registry.h"
#include "check.h"
#include "graphs.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PRE                                                                    \
  "@prefix ch: <urn:chronus:> .\n"                                             \
  "@prefix param: <urn:chronus:param#> .\n"                                    \
  "@prefix : <urn:chronus:module#> .\n"

static ChStatus
read_str(ChModel* const model, const char* const text, ChError* const err)
{
  return ch_patch_read(model, text, strlen(text), err);
}

/* Write, read back, compare; then write again and compare the bytes. */
static void
check_round_trip(const ChModel* const model)
{
  ChError     err;
  char* const text = ch_patch_write(model, &err);
  CHECK_MSG(text != NULL, "%s", err.msg);
  if (!text) {
    return;
  }
  ChModel* const back = ch_model_new();
  const ChStatus st   = read_str(back, text, &err);
  CHECK_MSG(!st, "%s\n%s", err.msg, text);
  CHECK(ch_model_equal(model, back));
  char* const again = ch_patch_write(back, &err);
  CHECK(again && !strcmp(text, again));
  free(again);
  free(text);
  ch_model_free(back);
}

/* `model` written (the text in `*text`, to free) and read back into a new
   model, both checked. */
static ChModel*
read_back(const ChModel* const model, char** const text)
{
  ChError err;
  *text = ch_patch_write(model, &err);
  CHECK_MSG(*text, "%s", err.msg);
  ChModel* const back = ch_model_new();
  CHECK_MSG(*text && !read_str(back, *text, &err), "%s", err.msg);
  return back;
}

/* A value for a parameter other than its default, picked by `salt` from
   range edges and awkward floats. */
static float
awkward_value(const ChParamInfo* const info, const uint32_t salt)
{
  const float candidates[] = {
    info->max,
    info->min,
    nextafterf(info->max, info->min),
    nextafterf(info->min, info->max),
    0.1f,
    1e-7f,
    -0.0f,
    1.0f / 3.0f,
    (info->min + info->max) * 0.5f + 1e-3f,
  };
  const uint32_t n = (uint32_t)CH_COUNT(candidates);
  for (uint32_t i = 0; i < n; ++i) {
    const float v = candidates[(salt + i) % n];
    if (v >= info->min && v <= info->max && memcmp(&v, &info->def, 4)) {
      return v;
    }
  }
  return info->def;
}

/* Every registered kind, twice, under awkward names, with links. */
static ChModel*
big_patch(void)
{
  static const char* const suffixes[] = { "", ".x-2_", "." };
  ChModel* const           model      = ch_model_new();
  uint32_t                 salt       = 0;
  for (uint32_t copy = 0; copy < 2; ++copy) {
    for (uint32_t k = 0; k < ch_registry_count(); ++k) {
      const ChKind* const kind = ch_registry_at(k);
      char                name[CH_NAME_MAX + 1];
      snprintf(name, sizeof(name), "%s%s%u%s", copy ? "_" : "", kind->name,
               copy, suffixes[(k + copy) % CH_COUNT(suffixes)]);
      CHECK(!ch_model_create(model, name, kind->name, NULL));
      for (uint32_t p = 0; p < kind->n_params; ++p) {
        CHECK(!ch_model_set(model, name, kind->params[p].name,
                            awkward_value(&kind->params[p], salt++), NULL));
      }
    }
  }
  CHECK(!ch_model_create(model, "a-", "output", NULL));
  CHECK(!ch_model_create(model, "b..", "svf", NULL));

  /* Each module's first input from an earlier module's first output. */
  char     from[128];
  char     to[128];
  uint32_t last_source = UINT32_MAX;
  for (uint32_t m = 0; m < ch_model_n_modules(model); ++m) {
    const ChKind* const kind = ch_model_module_kind(model, m);
    if (kind->n_inputs && last_source != UINT32_MAX) {
      const ChKind* const src = ch_model_module_kind(model, last_source);
      snprintf(from, sizeof(from), "%s:%s",
               ch_model_module_name(model, last_source), src->outputs[0].name);
      snprintf(to, sizeof(to), "%s:%s", ch_model_module_name(model, m),
               kind->inputs[0].name);
      CHECK(!ch_model_connect(model, from, to, NULL));
    }
    if (kind->n_outputs) {
      last_source = m;
    }
  }
  /* Fan-in: three links into one input, plus a mid-port one. */
  static const char* const sources[] = { "osc", "noise" };
  for (size_t i = 0; i < CH_COUNT(sources); ++i) {
    const ChKind* const kind = ch_registry_find(sources[i]);
    for (uint32_t m = 0; m < ch_model_n_modules(model); ++m) {
      if (ch_model_module_kind(model, m) == kind) {
        snprintf(from, sizeof(from), "%s:out", ch_model_module_name(model, m));
        CHECK(!ch_model_connect(model, from, "a-:mono", NULL));
        break;
      }
    }
  }
  CHECK(!ch_model_connect(model, "b..:hp", "a-:mono", NULL));
  CHECK(!ch_model_connect(model, "b..:bp", "a-:right", NULL));
  return model;
}

static void
test_round_trip_every_kind(void)
{
  ChModel* const model = big_patch();
  CHECK(ch_model_n_modules(model) == 2u * ch_registry_count() + 2u);
  CHECK(ch_model_n_links(model) > ch_registry_count());
  check_round_trip(model);

  /* The awkward values survive bit for bit, -0 included. */
  char*          text = NULL;
  ChModel* const back = read_back(model, &text);
  CHECK(ch_model_n_modules(back) == ch_model_n_modules(model));
  for (uint32_t m = 0; m < ch_model_n_modules(model) &&
                       ch_model_n_modules(back) == ch_model_n_modules(model);
       ++m) {
    const ChKind* const kind = ch_model_module_kind(model, m);
    CHECK(!memcmp(ch_model_module_params(model, m),
                  ch_model_module_params(back, m),
                  kind->n_params * sizeof(float)));
  }
  free(text);
  ch_model_free(back);
  ch_model_free(model);
}

static void
test_floats_exact(void)
{
  /* Many random floats across a wide range, and signed zeros. */
  ChModel* const model = model_from("create f svf\n"
                                    "create o osc\n"
                                    "create c const\n");
  uint32_t       seed  = 12345u;
  for (int i = 0; i < 3000; ++i) {
    seed            = seed * 1664525u + 1013904223u;
    const float u   = (float)(seed >> 8) / 16777216.0f;
    const float cut = 20.0f * powf(1000.0f, u);
    const float val = (u - 0.5f) * 20.0f * powf(10.0f, -(float)(i % 12));
    if (cut < 20.0f || cut > 20000.0f) {
      continue;
    }
    CHECK(!ch_model_set(model, "f", "cutoff", cut, NULL));
    CHECK(!ch_model_set(model, "c", "value", val, NULL));
    CHECK(!ch_model_set(model, "o", "pitch", i % 2 ? -0.0f : 0.0f, NULL));
    CHECK(!ch_model_set(model, "o", "shape",
                        i % 3 ? (i % 2 ? -0.0f : 2.0f) : 0.5f, NULL));

    char*          text = NULL;
    ChModel* const back = read_back(model, &text);
    if (!ch_model_equal(model, back)) {
      CHECK_MSG(false, "cutoff %.9g value %.9g:\n%s", (double)cut, (double)val,
                text);
      free(text);
      ch_model_free(back);
      break;
    }
    free(text);
    ch_model_free(back);
  }
  float pitch = 1.0f;
  CHECK(!ch_model_set(model, "o", "pitch", -0.0f, NULL));
  char*          text = NULL;
  ChModel* const back = read_back(model, &text);
  CHECK(!ch_model_get(back, "o", "pitch", &pitch, NULL));
  CHECK(pitch == 0.0f && signbit(pitch));
  free(text);
  ch_model_free(back);
  ch_model_free(model);
}

static void
test_written_text(void)
{
  ChModel* const model = model_from("create osc osc\n"
                                    "create f. svf\n"
                                    "set osc shape 2\n"
                                    "set osc pitch -1\n"
                                    "set osc fine 1e-7\n"
                                    "set osc pw 0.1\n"
                                    "set f. cutoff 20000\n"
                                    "connect osc:out f.:in\n");

  char* const text = ch_patch_write(model, NULL);
  CHECK_STR_CONTAINS(text, "@prefix ch: <urn:chronus:> .\n");
  CHECK_STR_CONTAINS(text, "@prefix : <urn:chronus:module#> .\n");
  CHECK_STR_CONTAINS(text, "<>\n\ta ch:Patch .\n");
  CHECK_STR_CONTAINS(text,
                     ":osc\n\tch:kind \"osc\" ;\n\tparam:shape \"square\" ;");
  CHECK_STR_CONTAINS(text, "param:pitch -1 ;");
  CHECK_STR_CONTAINS(text, "param:fine 0.0000001 ;");
  CHECK_STR_CONTAINS(text, "param:pw 0.1 ;");
  CHECK_STR_CONTAINS(text, "param:level 1 ;");
  CHECK_STR_CONTAINS(text, "param:reset \"off\" .");
  CHECK_STR_CONTAINS(text,
                     ":f\\.\n\tch:kind \"svf\" ;\n\tparam:cutoff 20000 ;");
  CHECK_STR_CONTAINS(text,
                     "[]\n\tch:from \"osc:out\" ;\n\tch:to \"f.:in\" .\n");
  CHECK(!strstr(text, "polyphony"));
  free(text);
  ch_model_free(model);
}

static void
test_empty_patch(void)
{
  ChModel* const model = ch_model_new();
  check_round_trip(model);

  /* Reading an empty patch (or no text at all) empties a model. */
  ChModel* const full = big_patch();
  char* const    text = ch_patch_write(model, NULL);
  CHECK(text && !read_str(full, text, NULL));
  CHECK(ch_model_n_modules(full) == 0 && ch_model_n_links(full) == 0);
  ch_model_free(full);
  free(text);

  ChModel* const other = big_patch();
  CHECK(!ch_patch_read(other, "", 0, NULL));
  CHECK(ch_model_n_modules(other) == 0);
  CHECK(!read_str(other, "# nothing\n<> a <urn:chronus:Patch> .\n", NULL));
  CHECK(ch_model_n_modules(other) == 0);
  ch_model_free(other);
  ch_model_free(model);
}

static void
test_hand_written(void)
{
  static const char* const text =
    PRE "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<> a ch:Patch ; ch:polyphony 4 ; rdfs:label \"test\" .\n"
        "# links first, in a different shape\n"
        "[ ch:to \"out:mono\" ] ch:from \"filter:lp\" .\n"
        "_:l2 ch:from \"osc:out\" .\n"
        "_:l2 ch:to \"filter:in\" .\n"
        ":filter param:cutoff 8e2 ; param:res 0.25 .  # before its kind\n"
        ":osc\n"
        "  param:shape \"square\" ;\n"
        "  param:pitch -1 ;\n"
        "  param:pw \"0.25\" ;\n"
        "  rdfs:comment \"ignored\" ;\n"
        "  ch:kind \"osc\" .\n"
        "<urn:chronus:module#filter> ch:kind \"svf\" .\n"
        ":out ch:kind \"output\" ; param:level 0.5 .\n";
  ChModel* const model = ch_model_new();
  ChError        err;
  CHECK_MSG(!read_str(model, text, &err), "%s", err.msg);
  CHECK(ch_model_n_modules(model) == 3);
  CHECK(ch_model_find(model, "osc") == 0);
  CHECK(ch_model_find(model, "filter") == 1);
  CHECK(ch_model_find(model, "out") == 2);

  float v = 0.0f;
  CHECK(!ch_model_get(model, "osc", "shape", &v, NULL) && v == 2.0f);
  CHECK(!ch_model_get(model, "osc", "pitch", &v, NULL) && v == -1.0f);
  CHECK(!ch_model_get(model, "osc", "pw", &v, NULL) && v == 0.25f);
  CHECK(!ch_model_get(model, "osc", "level", &v, NULL) && v == 1.0f);
  CHECK(!ch_model_get(model, "filter", "cutoff", &v, NULL) && v == 800.0f);
  CHECK(!ch_model_get(model, "filter", "res", &v, NULL) && v == 0.25f);
  CHECK(!ch_model_get(model, "out", "level", &v, NULL) && v == 0.5f);

  /* Links in order of appearance. */
  CHECK(ch_model_n_links(model) == 2);
  const ChLink* const first = ch_model_link(model, 0);
  CHECK(first->from_module == 1 && first->to_module == 2);
  const ChLink* const second = ch_model_link(model, 1);
  CHECK(second->from_module == 0 && second->to_module == 1);
  check_round_trip(model);
  ch_model_free(model);
}

typedef struct {
  const char* text;
  ChStatus    status;
  const char* needle1;
  const char* needle2;
} BadPatch;

/* Reading `c` into `model` is refused with its status and words. */
static void
check_refused(ChModel* const model, const BadPatch* const c)
{
  ChError err;
  ch_error_clear(&err);
  const ChStatus st = read_str(model, c->text, &err);
  CHECK_MSG(st == c->status, "status %d, not %d (%s) for:\n%s", (int)st,
            (int)c->status, err.msg, c->text);
  CHECK_STR_CONTAINS(err.msg, c->needle1);
  CHECK_STR_CONTAINS(err.msg, c->needle2);
}

static void
test_errors(void)
{
  static const BadPatch cases[] = {
    { PRE ":osc ch:kind \"osc\" ;\n  param:shape 1 ;;\n  ! .\n", CH_ERR_SYNTAX,
      "line 6, column ", "syntax error" },
    { PRE ":osc ch:kind \"osc\" .\n:t ch:kind \"theremin\" .\n",
      CH_ERR_UNKNOWN_KIND, "line 5: ", "unknown module kind 'theremin'" },
    { PRE "\n:filter ch:kind \"svf\" ;\n  param:res 0.5 ;\n"
          "  param:cutoff 90000 .\n",
      CH_ERR_RANGE,
      "line 7: ", "filter:cutoff = 90000 is out of range [20, 20000]" },
    /* Values right before a line break, and a statement that ends on a
       later line than its value. */
    { PRE ":f ch:kind \"svf\" ;\n  param:res 0.5\n  ; param:cutoff 90000\n"
          "  .\n",
      CH_ERR_RANGE, "line 6: ", "f:cutoff = 90000 is out of range" },
    { PRE ":f\n  ch:kind\n  \"theremin\"\n.\n", CH_ERR_UNKNOWN_KIND,
      "line 6: ", "unknown module kind 'theremin'" },
    { PRE ":osc ch:kind \"osc\" .\n:f ch:kind \"svf\" .\n"
          "[] ch:to \"f:in\" ;\n   ch:from \"osc:nope\" .\n",
      CH_ERR_UNKNOWN_PORT, "line 7: ", "osc 'osc' has no output named 'nope'" },
    { PRE ":osc ch:kind \"osc\" .\n:f ch:kind \"svf\" .\n"
          "[] ch:from \"osc:out\" ;\n   ch:to \"f:nope\" .\n",
      CH_ERR_UNKNOWN_PORT, "line 7: ", "svf 'f' has no input named 'nope'" },
    { PRE
      ":osc ch:kind \"osc\" .\n[] ch:from \"osc:out\" ; ch:to \"zz:in\" .\n",
      CH_ERR_UNKNOWN_MODULE, "line 5: ", "no module named 'zz'" },
    { PRE ":osc ch:kind \"osc\" .\n:x param:level 1 .\n", CH_ERR_BAD_PATCH,
      "module 'x' (line 5) has no ch:kind", "" },
    { PRE ":osc ch:kind \"osc\" ;\n  param:colour 1 .\n", CH_ERR_UNKNOWN_PARAM,
      "line 5: ", "has no parameter named 'colour'" },
    { PRE ":osc ch:kind \"osc\" ;\n  param:level 1 ;\n  param:level 0.5 .\n",
      CH_ERR_BAD_PATCH, "line 6: osc:level is given twice",
      "first is on line 5" },
    { PRE ":osc ch:kind \"osc\" .\n:osc ch:kind \"svf\" .\n", CH_ERR_BAD_PATCH,
      "line 5: module 'osc' has a second ch:kind", "line 4" },
    { PRE ":osc ch:kind \"osc\" ;\n  ch:knd \"x\" .\n", CH_ERR_BAD_PATCH,
      "line 5: unknown property ch:knd", "" },
    { PRE ":osc ch:kind \"osc\" ;\n  nope:x 1 .\n", CH_ERR_SYNTAX,
      "line 5: undefined prefix in 'nope:x'", "" },
    { PRE ":osc ch:kind \"osc\" ;\n  param:level \"loud\" .\n",
      CH_ERR_BAD_PATCH, "line 5: osc:level = \"loud\" is not a number", "" },
    { PRE ":osc ch:kind \"osc\" ;\n  param:shape \"sawtooth\" .\n",
      CH_ERR_BAD_PATCH, "line 5: ", "one of: sine, saw, square, triangle" },
    { PRE ":osc ch:kind \"osc\" ;\n  param:level true .\n", CH_ERR_BAD_PATCH,
      "line 5: osc:level must be a number", "" },
    { PRE "\n<urn:x:osc> ch:kind \"osc\" .\n", CH_ERR_BAD_PATCH,
      "line 5: <urn:x:osc> is not a module", "" },
    { PRE "<> ch:polyphony 0 .\n", CH_ERR_BAD_PATCH,
      "line 4: ch:polyphony must be", "" },
    { PRE "<urn:chronus:module#9lives> ch:kind \"osc\" .\n", CH_ERR_BAD_NAME,
      "line 4: bad module name '9lives'", "" },
    { PRE ":osc ch:kind \"osc\" .\n[] ch:from \"osc:out\" .\n",
      CH_ERR_BAD_PATCH, "link (line 5) has no ch:to", "" },
    { PRE "[] ch:kind \"osc\" .\n", CH_ERR_BAD_PATCH,
      "line 4: ch:kind on a blank node", "" },
    { PRE ":osc ch:kind :svf .\n", CH_ERR_BAD_PATCH,
      "line 4: ch:kind of module 'osc' must be a string", "" },
    { PRE ":o ch:kind \"osc\" .\n:v ch:kind \"vca\" .\n"
          "[] ch:from \"o:out\" ; ch:to \"v:in\" .\n"
          "[] ch:from \"o:out\" ; ch:to \"v:in\" .\n",
      CH_ERR_EXISTS, "line 7: ", "o:out is already connected to v:in" },
    { PRE ":osc ch:kind \"osc\" .\n:osc ch:from \"a:b\" .\n", CH_ERR_BAD_PATCH,
      "line 5: ch:from is not a property of a module", "" },
    { PRE ":osc ch:kind \"osc\" .\n\n\"oops\n", CH_ERR_SYNTAX, "line 6, column",
      "" },
    /* serd's wording, in plain words with the fix */
    { PRE ":osc ch:kind \"osc ;\n  param:level 1 .\n", CH_ERR_SYNTAX,
      "line 4, column ",
      ": syntax error: a string is not closed before the end of the line "
      "(missing \")" },
    { PRE ":osc ch:kind \"osc\" ;\n  param:level 1\n:f ch:kind \"svf\" .\n",
      CH_ERR_SYNTAX, "line 6, column ",
      "missing ';' or '.' (';' separates the properties of one module" },
    { "<urn:chronus:module#osc> <urn:chronus:kind> \"osc\" ;\n"
      "  param:level 1 .\n",
      CH_ERR_SYNTAX,
      "line 2: undefined prefix in 'param:level' (start the file with "
      "'@prefix param: <urn:chronus:param#> .')",
      "" },
    { PRE ":f ch:kind \"svf\" ;\n  param:resonance 0.5 .\n",
      CH_ERR_UNKNOWN_PARAM,
      "line 5: ", "has no parameter named 'resonance' (did you mean 'res'?" },
    /* A cycle is refused with the line of the link that closes it. */
    { PRE ":a ch:kind \"mixer\" .\n:b ch:kind \"vca\" .\n"
          "[] ch:from \"a:out\" ;\n   ch:to \"b:in\" .\n"
          "[] ch:from \"b:out\" ;\n   ch:to \"a:in1\" .\n",
      CH_ERR_CYCLE, "line ", "put a 'feedback' module in the loop" },
  };

  for (size_t i = 0; i < CH_COUNT(cases); ++i) {
    ChModel* const model = ch_model_new();
    check_refused(model, &cases[i]);
    CHECK(ch_model_n_modules(model) == 0);
    ch_model_free(model);
  }

  /* The line named is that of the closing link's ch:from. */
  ChModel* const cyclic = ch_model_new();
  ChError        cerr;
  CHECK(read_str(cyclic,
                 PRE ":a ch:kind \"mixer\" .\n:b ch:kind \"vca\" .\n"
                     "[] ch:from \"a:out\" ;\n   ch:to \"b:in\" .\n"
                     "[] ch:from \"b:out\" ;\n   ch:to \"a:in1\" .\n",
                 &cerr) == CH_ERR_CYCLE);
  CHECK_MSG((strstr(cerr.msg, "line 6: ") &&
             strstr(cerr.msg, "(closed by the link a:out -> b:in)")) ||
              (strstr(cerr.msg, "line 8: ") &&
               strstr(cerr.msg, "(closed by the link b:out -> a:in1)")),
            "%s", cerr.msg);
  /* Through a feedback module, the same loop is fine. */
  CHECK(!read_str(cyclic,
                  PRE ":a ch:kind \"mixer\" .\n:b ch:kind \"feedback\" .\n"
                      "[] ch:from \"a:out\" ; ch:to \"b:in\" .\n"
                      "[] ch:from \"b:out\" ; ch:to \"a:in1\" .\n",
                  &cerr));
  ch_model_free(cyclic);

  /* A NUL byte cannot hide the rest of the text. */
  ChModel* const    model = ch_model_new();
  ChError           err;
  static const char with_nul[] = PRE ":osc ch:kind \"osc\" .\n\0junk";
  CHECK(ch_patch_read(model, with_nul, sizeof(with_nul) - 1u, &err) ==
        CH_ERR_SYNTAX);
  CHECK_STR_CONTAINS(err.msg, "line 5: syntax error: a NUL byte");
  ch_model_free(model);
}

static void
test_failed_read_changes_nothing(void)
{
  ChModel* const model  = big_patch();
  ChModel* const before = ch_model_copy(model);
  ChError        err;
  CHECK(read_str(model, PRE ":a ch:kind \"osc\" .\n:b ch:kind \"nope\" .\n",
                 &err) == CH_ERR_UNKNOWN_KIND);
  CHECK(ch_model_equal(model, before));
  CHECK(read_str(model, PRE ":a ch:kind \"osc\" .\n:a ch:", &err) ==
        CH_ERR_SYNTAX);
  CHECK(ch_model_equal(model, before));

  /* A successful read keeps module identities unique in the model. */
  const uint32_t old_uid = ch_model_module_uid(model, 0);
  CHECK(!read_str(model, PRE ":a ch:kind \"osc\" .\n", &err));
  CHECK(ch_model_module_uid(model, 0) > old_uid);
  ch_model_free(before);
  ch_model_free(model);
}

static void
test_files(void)
{
  char      path[] = "/tmp/chronus_patch_XXXXXX";
  const int fd     = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) {
    return;
  }
  close(fd);

  ChModel* const model = big_patch();
  ChError        err;
  CHECK_MSG(!ch_patch_write_file(model, path, &err), "%s", err.msg);
  ChModel* const back = ch_model_new();
  CHECK_MSG(!ch_patch_read_file(back, path, &err), "%s", err.msg);
  CHECK(ch_model_equal(model, back));

  /* The file holds exactly what ch_patch_write gives. */
  char* const text = ch_patch_write(model, NULL);
  FILE* const file = fopen(path, "rb");
  char*       data = (char*)calloc(1, strlen(text) + 16u);
  CHECK(file && data);
  if (file && data) {
    CHECK(fread(data, 1, strlen(text) + 15u, file) == strlen(text));
    CHECK(!strcmp(data, text));
    fclose(file);
  }
  free(data);
  free(text);

  /* An error in a file names the file and the line. */
  FILE* const bad = fopen(path, "wb");
  CHECK(bad != NULL);
  if (bad) {
    fputs(PRE "\n:x ch:kind \"theremin\" .\n", bad);
    fclose(bad);
  }
  CHECK(ch_patch_read_file(back, path, &err) == CH_ERR_UNKNOWN_KIND);
  CHECK_STR_CONTAINS(err.msg, path);
  CHECK_STR_CONTAINS(err.msg, ": line 5: ");
  CHECK(ch_model_equal(model, back));
  remove(path);

  /* A missing file. */
  CHECK(ch_patch_read_file(back, "/nonexistent/dir/p.ttl", &err) == CH_ERR_IO);
  CHECK_STR_CONTAINS(err.msg, "/nonexistent/dir/p.ttl");
  CHECK_STR_CONTAINS(err.msg, strerror(ENOENT));
  CHECK(ch_patch_write_file(model, "/nonexistent/dir/p.ttl", &err) ==
        CH_ERR_IO);
  CHECK_STR_CONTAINS(err.msg, "/nonexistent/dir/p.ttl");
  ch_model_free(back);
  ch_model_free(model);
}

static void
test_locale_independent(void)
{
  /* A host may run with a locale whose decimal point is ','. */
  if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
    setlocale(LC_NUMERIC, "fr_FR.UTF-8");
  }
  ChModel* const model = ch_model_new();
  CHECK(!ch_model_create(model, "o", "osc", NULL));
  CHECK(!ch_model_set(model, "o", "pw", 0.1f, NULL));
  char* const text = ch_patch_write(model, NULL);
  CHECK_STR_CONTAINS(text, "param:pw 0.1 ;");
  check_round_trip(model);
  free(text);
  ch_model_free(model);
  setlocale(LC_NUMERIC, "C");
}

static void
test_polyphony_round_trip(void)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  CHECK(!ch_model_create(model, "v", "voice", &err));
  CHECK(!ch_model_set_polyphony(model, 6, &err));
  char*          text = NULL;
  ChModel* const back = read_back(model, &text);
  CHECK_STR_CONTAINS(text, "ch:polyphony 6");
  CHECK(ch_model_polyphony(back) == 6u && ch_model_equal(model, back));
  free(text);

  static const char bad[] = "@prefix ch: <urn:chronus:> .\n\n"
                            "<> ch:polyphony 40 .\n";
  CHECK(ch_patch_read(back, bad, strlen(bad), &err) == CH_ERR_RANGE);
  CHECK_STR_CONTAINS(err.msg, "line 3: polyphony 40 is out of range [1, 16]");
  CHECK(ch_model_polyphony(back) == 6u);
  ch_model_free(back);
  ch_model_free(model);
}

/* ch:x and ch:y: kept exactly, written after ch:kind, optional, checked. */
static void
test_positions(void)
{
  ChModel* const model = model_from("create osc osc\n"
                                    "create out output\n");
  ChError        err;
  CHECK(!ch_model_set_position(model, "osc", 12.0f, -0.1f, &err));
  CHECK(!ch_model_set_position(model, "out", 1e-7f, 333.25f, &err));
  check_round_trip(model);
  char* const text = ch_patch_write(model, &err);
  CHECK_STR_CONTAINS(text, "ch:kind \"osc\" ;\n\tch:x 12 ;\n\tch:y -0.1 ;");
  free(text);
  float x = 1.0f;
  float y = 1.0f;
  CHECK(ch_model_module_position(model, 1, &x, &y) && y == 333.25f);

  /* Unplaced modules stay unplaced; a position alone is a difference. */
  ChModel* const other = ch_model_new();
  CHECK(!ch_model_create(other, "osc", "osc", &err));
  CHECK(!ch_model_create(other, "out", "output", &err));
  CHECK(!ch_model_module_position(other, 0, &x, &y) && x == 0.0f);
  CHECK(!ch_model_equal(model, other));
  check_round_trip(other);

  static const BadPatch cases[] = {
    { PRE ":osc ch:kind \"osc\" ; ch:x 3 .\n", CH_ERR_BAD_PATCH,
      "line 4: ", "module 'osc' has ch:x but no ch:y" },
    { PRE ":osc ch:kind \"osc\" ;\n ch:x 3 ; ch:y \"up\" .\n", CH_ERR_BAD_PATCH,
      "line 5: ", "ch:y of module 'osc' must be a number" },
    { PRE ":osc ch:kind \"osc\" ; ch:x 3 ; ch:y 1 ;\n ch:x 4 .\n",
      CH_ERR_BAD_PATCH,
      "line 5: ", "has a second ch:x (the first is on line 4)" },
    { PRE ":osc ch:kind \"osc\" ; ch:x 3e9 ; ch:y 1 .\n", CH_ERR_RANGE,
      "line 4: ", "out of range" },
    { PRE "[] ch:x 1 .\n", CH_ERR_BAD_PATCH, "line 4: ", "on a blank node" },
  };
  for (size_t i = 0; i < CH_COUNT(cases); ++i) {
    check_refused(other, &cases[i]);
  }
  CHECK(!ch_model_module_position(other, 0, &x, &y));
  ch_model_free(other);
  ch_model_free(model);
}

/* A growable text for generated patches. */
typedef struct {
  char*  buf;
  size_t len;
  size_t cap;
} Text;

static void
text_add(Text* const t, const char* const s)
{
  const size_t n = strlen(s);
  if (t->len + n + 1u > t->cap) {
    t->cap           = (t->len + n + 1u) * 2u;
    char* const more = (char*)realloc(t->buf, t->cap);
    if (!more) {
      abort();
    }
    t->buf = more;
  }
  memcpy(t->buf + t->len, s, n + 1u);
  t->len += n;
}

static bool
write_file(const char* const path, const char* const data, const size_t len)
{
  FILE* const f = fopen(path, "wb");
  if (!f) {
    return false;
  }
  const bool ok = fwrite(data, 1, len, f) == len;
  return !fclose(f) && ok;
}

/* FIFOs, devices and directories are refused at once, never read: a FIFO
   with no writer would block, /dev/zero would never end. */
static void
test_file_kinds_refused(void)
{
  char dir[] = "/tmp/chronus_kinds_XXXXXX";
  CHECK(mkdtemp(dir));
  char fifo[64];
  snprintf(fifo, sizeof(fifo), "%s/fifo.ttl", dir);
  CHECK(!mkfifo(fifo, 0600));

  ChModel* const model = ch_model_new();
  ChError        err;
  CHECK(ch_patch_read_file(model, fifo, &err) == CH_ERR_IO);
  CHECK_STR_CONTAINS(err.msg, fifo);
  CHECK_STR_CONTAINS(err.msg, "a FIFO (named pipe), not a regular file");
  CHECK(ch_patch_read_file(model, "/dev/zero", &err) == CH_ERR_IO);
  CHECK_STR_CONTAINS(err.msg, "/dev/zero: a character device");
  CHECK(ch_patch_read_file(model, dir, &err) == CH_ERR_IO);
  CHECK_STR_CONTAINS(err.msg, "a directory, not a regular file");

  char*  text = NULL;
  size_t len  = 0;
  CHECK(ch_file_read("/dev/zero", 1u << 20, &text, &len, &err) == CH_ERR_IO);
  CHECK(!text && !len);

  /* An empty file is an error, not an empty patch. */
  char empty[64];
  snprintf(empty, sizeof(empty), "%s/empty.ttl", dir);
  CHECK(write_file(empty, "", 0));
  CHECK(ch_patch_read_file(model, empty, &err) == CH_ERR_BAD_PATCH);
  CHECK_STR_CONTAINS(err.msg, "empty.ttl: the file is empty (0 bytes)");
  CHECK(ch_model_n_modules(model) == 0);

  /* 50 MB on disk (sparse): refused from its size, nothing allocated. */
  char big[64];
  snprintf(big, sizeof(big), "%s/big.ttl", dir);
  CHECK(write_file(big, "", 0));
  CHECK(!truncate(big, 50l * 1000 * 1000));
  CHECK(ch_patch_read_file(model, big, &err) == CH_ERR_TOO_LARGE);
  CHECK_STR_CONTAINS(err.msg, "big.ttl: 50000000 bytes, larger than the "
                              "limit of 4194304 bytes");
  remove(big);
  remove(empty);
  remove(fifo);
  rmdir(dir);
  ch_model_free(model);
}

/* Limits hold as the text is read: the error names the line of the first
   link or module too many, which shows that parsing stopped there. */
static void
test_limits_as_read(void)
{
  Text t = { NULL, 0, 0 };
  text_add(&t, PRE);
  char           line[128];
  const unsigned first = 4; /* lines in PRE, plus one */
  for (unsigned i = 0; i < 50000u; ++i) {
    snprintf(line, sizeof(line), "[] ch:from \"a%u:out\" ; ch:to \"b:in\" .\n",
             i);
    text_add(&t, line);
  }
  ChModel* const model = ch_model_new();
  ChError        err;
  CHECK(ch_patch_read(model, t.buf, t.len, &err) == CH_ERR_TOO_LARGE);
  snprintf(line, sizeof(line), "line %u: more than 8192 links",
           first + CH_MAX_LINKS);
  CHECK_STR_CONTAINS(err.msg, line);

  t.len = 0;
  text_add(&t, PRE);
  for (unsigned i = 0; i < 5000u; ++i) {
    snprintf(line, sizeof(line), ":m%u ch:kind \"const\" .\n", i);
    text_add(&t, line);
  }
  CHECK(ch_patch_read(model, t.buf, t.len, &err) == CH_ERR_TOO_LARGE);
  snprintf(line, sizeof(line), "line %u: more than 1024 modules",
           first + CH_MAX_MODULES);
  CHECK_STR_CONTAINS(err.msg, line);
  CHECK(ch_model_n_modules(model) == 0);

  /* 50 MB of text is refused from its length, before serd sees a byte. */
  char* const huge = (char*)malloc(50u * 1000u * 1000u);
  CHECK(huge);
  if (huge) {
    memset(huge, '#', 50u * 1000u * 1000u);
    CHECK(ch_patch_read(model, huge, 50u * 1000u * 1000u, &err) ==
          CH_ERR_TOO_LARGE);
    CHECK_STR_CONTAINS(err.msg, "patch text of 50000000 bytes is larger "
                                "than the limit of 4194304 bytes (4 MiB)");
  }
  free(huge);
  free(t.buf);
  ch_model_free(model);
}

/* A patch at the limits (192 modules, 8192 links) is read whole.  The
   subject lookup used to be a linear scan (quadratic in all: 3.5 s for
   50,000 links); the CPU-time bound is 20x what the hashed reader takes
   here on a slow shared machine, far below the quadratic cost. */
static void
test_max_links_fast(void)
{
  Text t = { NULL, 0, 0 };
  text_add(&t, PRE);
  char line[128];
  for (unsigned i = 0; i < 64u; ++i) {
    snprintf(line, sizeof(line), ":c%u ch:kind \"const\" .\n", i);
    text_add(&t, line);
  }
  for (unsigned j = 0; j < 128u; ++j) {
    snprintf(line, sizeof(line), ":v%u ch:kind \"vca\" .\n", j);
    text_add(&t, line);
  }
  for (unsigned i = 0; i < 64u; ++i) {
    for (unsigned j = 0; j < 128u; ++j) {
      snprintf(line, sizeof(line),
               "[] ch:from \"c%u:out\" ; ch:to \"v%u:in\" .\n", i, j);
      text_add(&t, line);
    }
  }
  ChModel* const model = ch_model_new();
  ChError        err;
  const clock_t  start = clock();
  CHECK_MSG(!ch_patch_read(model, t.buf, t.len, &err), "%s", err.msg);
  const double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
  printf("  8192 links, %zu bytes: read in %.3f s CPU\n", t.len, seconds);
  CHECK(ch_model_n_modules(model) == 192u);
  CHECK(seconds < 2.0);
  free(t.buf);
  ch_model_free(model);
}

int
main(void)
{
  RUN(test_positions);
  RUN(test_polyphony_round_trip);
  RUN(test_round_trip_every_kind);
  RUN(test_floats_exact);
  RUN(test_written_text);
  RUN(test_empty_patch);
  RUN(test_hand_written);
  RUN(test_errors);
  RUN(test_failed_read_changes_nothing);
  RUN(test_files);
  RUN(test_locale_independent);
  RUN(test_file_kinds_refused);
  RUN(test_limits_as_read);
  RUN(test_max_links_fast);
  return CHECK_EXIT();
}
