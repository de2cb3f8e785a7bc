/* The factory bank's patch files, listed in program order. */
#include "bank.h"

#include "../src/model.h"
#include "../src/patch.h"
#include "check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int
compare_names(const void* a, const void* b)
{
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

/* The names of the Turtle files in BANK_DIR, sorted, into `names` (each to
   free()); their number. */
static size_t
bank_files(char* names[BANK_MAX])
{
  DIR* const dir = opendir(BANK_DIR);
  CHECK(dir);
  if (!dir) {
    return 0;
  }
  size_t         n = 0;
  struct dirent* entry;
  while ((entry = readdir(dir)) && n < BANK_MAX) {
    if (strstr(entry->d_name, ".ttl")) {
      names[n++] = strdup(entry->d_name);
    }
  }
  closedir(dir);
  qsort(names, n, sizeof(char*), compare_names);
  return n;
}

size_t
bank_each(void (*fn)(const BankFile* file))
{
  char*        names[BANK_MAX];
  const size_t n = bank_files(names);
  for (size_t i = 0; i < n; ++i) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", BANK_DIR, names[i]);
    const BankFile file = { i, names[i], path };
    fn(&file);
    free(names[i]);
  }
  return n;
}

ChGraph*
bank_graph(const char* const path, const float rate)
{
  ChModel* const model = ch_model_new();
  ChError        err;
  ChGraph*       graph = NULL;
  CHECK_MSG(!ch_patch_read_file(model, path, &err), "%s: %s", path, err.msg);
  CHECK_MSG(!ch_graph_new(model, NULL, rate, &graph, &err), "%s: %s", path,
            err.msg);
  ch_model_free(model);
  return graph;
}
