/* The factory bank's patch files, listed in program order. */
#include "bank.h"

#include "check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int
compare_names(const void* a, const void* b)
{
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

size_t
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
