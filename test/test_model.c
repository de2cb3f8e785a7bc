/* Tests of the model: edits, queries and the error text of bad edits. */
#include "../src/model.h"
#include "check.h"
#include "graphs.h"

#include <stdio.h>

static ChModel*
sample_patch(void)
{
  ChModel* const model = model_from("create osc1 osc\n"
                                    "create amp vca\n"
                                    "create out output\n"
                                    "connect osc1:out amp:in\n"
                                    "connect amp:out out:mono\n");
  return model;
}

static void
test_create_and_query(void)
{
  ChModel* const model = sample_patch();
  CHECK(ch_model_n_modules(model) == 3);
  CHECK(ch_model_find(model, "amp") == 1);
  CHECK(ch_model_find(model, "nope") == -1);
  CHECK(!strcmp(ch_model_module_kind(model, 0)->name, "osc"));
  CHECK(ch_model_n_links(model) == 2);
  const ChLink* const link = ch_model_link(model, 1);
  CHECK(link->from_module == 1 && link->to_module == 2);

  /* New modules start at the kind's defaults. */
  const ChKind* const vca  = ch_model_module_kind(model, 1);
  float               gain = -1.0f;
  CHECK(!ch_model_get(model, "amp", "gain", &gain, NULL));
  CHECK(gain == vca->params[ch_kind_find_param(vca, "gain")].def);
  ch_model_free(model);
}

static void
test_set_and_get(void)
{
  ChModel* const model = sample_patch();
  ChError        err;
  float          value = 0.0f;
  CHECK(!ch_model_set(model, "osc1", "pitch", 1.5f, &err));
  CHECK(!ch_model_get(model, "osc1", "pitch", &value, &err));
  CHECK(value == 1.5f);

  CHECK(ch_model_set(model, "osc1", "pitch", 100.0f, &err) == CH_ERR_RANGE);
  CHECK_STR_CONTAINS(err.msg, "osc1:pitch = 100 is out of range");
  CHECK(!ch_model_get(model, "osc1", "pitch", &value, &err));
  CHECK(value == 1.5f); /* unchanged by the rejected edit */

  CHECK(ch_model_set(model, "osc1", "pitch", NAN, &err) == CH_ERR_RANGE);
  CHECK(ch_model_set(model, "osc1", "colour", 1.0f, &err) ==
        CH_ERR_UNKNOWN_PARAM);
  CHECK_STR_CONTAINS(err.msg, "osc 'osc1' has no parameter named 'colour'");
  CHECK_STR_CONTAINS(err.msg,
                     "its parameters: shape, pitch, fine, pw, level, reset)");
  CHECK(!strstr(err.msg, "did you mean"));
  CHECK(ch_model_set(model, "ghost", "pitch", 1.0f, &err) ==
        CH_ERR_UNKNOWN_MODULE);
  CHECK_STR_CONTAINS(err.msg, "no module named 'ghost'");
  CHECK(!strstr(err.msg, "did you mean"));
  CHECK(ch_model_set(model, "osc", "pitch", 1.0f, &err) ==
        CH_ERR_UNKNOWN_MODULE);
  CHECK_STR_CONTAINS(err.msg, "no module named 'osc' (did you mean 'osc1'?)");
  ch_model_free(model);
}

/* The nearest name, both ways round and by edit distance. */
static void
test_hints(void)
{
  ChModel* const model = model_from("create f svf\n"
                                    "create l ladder\n");
  ChError        err;
  CHECK(ch_model_set(model, "f", "resonance", 0.5f, &err) ==
        CH_ERR_UNKNOWN_PARAM);
  CHECK_STR_CONTAINS(err.msg, "svf 'f' has no parameter named 'resonance' "
                              "(did you mean 'res'? its parameters: cutoff, "
                              "res)");
  CHECK(ch_model_set(model, "f", "cutof", 500.0f, &err));
  CHECK_STR_CONTAINS(err.msg, "did you mean 'cutoff'?");
  CHECK(ch_model_set(model, "f", "cuttoff", 500.0f, &err));
  CHECK_STR_CONTAINS(err.msg, "did you mean 'cutoff'?");
  CHECK(ch_model_set(model, "l", "drve", 0.5f, &err));
  CHECK_STR_CONTAINS(err.msg, "did you mean 'drive'?");
  CHECK(ch_model_connect(model, "f:lowpass", "l:in", &err) ==
        CH_ERR_UNKNOWN_PORT);
  CHECK_STR_CONTAINS(err.msg, "(did you mean 'lp'? its outputs: lp, bp, hp)");
  CHECK(ch_model_set(model, "l", "q", 0.5f, &err));
  CHECK(!strstr(err.msg, "did you mean"));
  ch_model_free(model);
}

static void
test_create_errors(void)
{
  ChModel* const model = sample_patch();
  ChError        err;
  CHECK(ch_model_create(model, "x", "theremin", &err) == CH_ERR_UNKNOWN_KIND);
  CHECK_STR_CONTAINS(err.msg, "unknown module kind 'theremin'");
  CHECK_STR_CONTAINS(err.msg, "(kinds: voice, macro, osc,");
  CHECK_STR_CONTAINS(err.msg, ", output)");
  CHECK(!strstr(err.msg, "did you mean"));
  CHECK(ch_model_create(model, "x", "oscilator", &err) == CH_ERR_UNKNOWN_KIND);
  CHECK_STR_CONTAINS(err.msg, "(did you mean 'osc'? kinds: voice,");
  CHECK(ch_model_create(model, "x", "revreb", &err) == CH_ERR_UNKNOWN_KIND);
  CHECK_STR_CONTAINS(err.msg, "did you mean 'reverb'?");
  CHECK(ch_model_create(model, "osc1", "osc", &err) == CH_ERR_EXISTS);
  CHECK_STR_CONTAINS(err.msg, "'osc1' exists already");
  CHECK(ch_model_create(model, "9lives", "osc", &err) == CH_ERR_BAD_NAME);
  CHECK(ch_model_create(model, "a:b", "osc", &err) == CH_ERR_BAD_NAME);
  CHECK(ch_model_create(model, "", "osc", &err) == CH_ERR_BAD_NAME);
  char long_name[CH_NAME_MAX + 2];
  memset(long_name, 'a', sizeof(long_name) - 1u);
  long_name[sizeof(long_name) - 1u] = '\0';
  CHECK(ch_model_create(model, long_name, "osc", &err) == CH_ERR_BAD_NAME);
  long_name[CH_NAME_MAX] = '\0';
  CHECK(!ch_model_create(model, long_name, "osc", &err));
  CHECK(ch_model_n_modules(model) == 4); /* only the good one was added */
  ch_model_free(model);
}

static void
test_connect_errors(void)
{
  /* Each link refused with its status and words (`also`: "" for none). */
  static const struct {
    const char* from;
    const char* to;
    ChStatus    status;
    const char* says;
    const char* also;
  } bad[] = {
    { "osc1:out", "amp:in", CH_ERR_EXISTS,
      "osc1:out is already connected to amp:in", "" },
    { "osc1:wobble", "amp:in", CH_ERR_UNKNOWN_PORT,
      "osc 'osc1' has no output named 'wobble'", "(its outputs: out)" },
    { "osc1:out", "osc1:pit", CH_ERR_UNKNOWN_PORT,
      "(did you mean 'pitch'? its inputs: pitch, fm, pw)", "" },
    { "amp:in", "osc1:pitch", CH_ERR_BAD_LINK, "'amp:in' is an input", "" },
    { "osc1:out", "amp:out", CH_ERR_BAD_LINK, "'amp:out' is an output", "" },
    { "nobody:out", "amp:in", CH_ERR_UNKNOWN_MODULE, "no module named 'nobody'",
      "" },
    { "osc1", "amp:in", CH_ERR_BAD_LINK, "expected 'module:port'", "" },
  };
  ChModel* const model = sample_patch();
  ChError        err;
  for (size_t i = 0; i < CH_COUNT(bad); ++i) {
    const ChStatus st = ch_model_connect(model, bad[i].from, bad[i].to, &err);
    CHECK_MSG(st == bad[i].status, "%s -> %s: status %d (%s)", bad[i].from,
              bad[i].to, (int)st, err.msg);
    CHECK_STR_CONTAINS(err.msg, bad[i].says);
    CHECK_STR_CONTAINS(err.msg, bad[i].also);
  }
  CHECK(ch_model_disconnect(model, "osc1:out", "out:mono", &err) ==
        CH_ERR_NO_LINK);
  CHECK_STR_CONTAINS(err.msg, "osc1:out is not connected to out:mono");
  CHECK(ch_model_n_links(model) == 2);
  ch_model_free(model);
}

static void
test_delete_removes_links(void)
{
  ChModel* const model = sample_patch();
  ChError        err;
  model_edit(model, "create lfo osc\n"
                    "connect lfo:out amp:cv\n");
  CHECK(!ch_model_delete(model, "osc1", &err));
  CHECK(ch_model_n_modules(model) == 3);
  CHECK(ch_model_n_links(model) == 2);
  /* Indices of the survivors were renumbered with the modules. */
  const ChLink* const first = ch_model_link(model, 0);
  CHECK(!strcmp(ch_model_module_name(model, first->from_module), "amp"));
  CHECK(!strcmp(ch_model_module_name(model, first->to_module), "out"));
  const ChLink* const second = ch_model_link(model, 1);
  CHECK(!strcmp(ch_model_module_name(model, second->from_module), "lfo"));
  CHECK(ch_model_delete(model, "osc1", &err) == CH_ERR_UNKNOWN_MODULE);
  CHECK_STR_CONTAINS(err.msg, "cannot delete 'osc1'");
  CHECK(!ch_model_disconnect(model, "lfo:out", "amp:cv", &err));
  CHECK(ch_model_n_links(model) == 1);
  ch_model_free(model);
}

static void
test_copy_and_equal(void)
{
  ChModel* const model = sample_patch();
  ChModel* const copy  = ch_model_copy(model);
  CHECK(copy && ch_model_equal(model, copy));
  CHECK(!ch_model_set(copy, "amp", "gain", 0.5f, NULL));
  CHECK(!ch_model_equal(model, copy));
  CHECK(!ch_model_assign(copy, model, NULL));
  CHECK(ch_model_equal(model, copy));
  CHECK(!ch_model_delete(copy, "out", NULL));
  CHECK(!ch_model_equal(model, copy));
  ch_model_clear(copy);
  CHECK(ch_model_n_modules(copy) == 0 && ch_model_n_links(copy) == 0);
  ch_model_free(copy);
  ch_model_free(model);
  ch_model_free(NULL);
}

static void
test_size_limits(void)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  char           name[32];
  for (uint32_t i = 0; i < CH_MAX_MODULES; ++i) {
    snprintf(name, sizeof(name), "c%u", i);
    CHECK(!ch_model_create(model, name, "const", &err));
  }
  CHECK(ch_model_create(model, "onemore", "const", &err) == CH_ERR_TOO_LARGE);
  CHECK_STR_CONTAINS(err.msg, "at most 1024 modules");
  ch_model_free(model);
}

int
main(void)
{
  RUN(test_create_and_query);
  RUN(test_set_and_get);
  RUN(test_create_errors);
  RUN(test_hints);
  RUN(test_connect_errors);
  RUN(test_delete_removes_links);
  RUN(test_copy_and_equal);
  RUN(test_size_limits);
  return CHECK_EXIT();
}
