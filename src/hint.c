/* Names in tables: finding one, and which known name an unknown one
   probably meant. */
#include "hint.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define WORD_MAX 64u

/* Element `i`'s name: a pointer at its start, or (stride < 0) the
   characters at its start. */
static CH_REALTIME const char*
name_at(const void* const names, const size_t i, const ptrdiff_t stride)
{
  if (stride < 0) {
    return (const char*)names + i * (size_t)-stride;
  }
  const char* name = NULL;
  memcpy(&name, (const char*)names + i * (size_t)stride, sizeof(name));
  return name;
}

static CH_REALTIME int
find(const char* const word,
     const void* const names,
     const size_t      count,
     const ptrdiff_t   stride)
{
  for (size_t i = 0; i < count; ++i) {
    if (!strcmp(name_at(names, i, stride), word)) {
      return (int)i;
    }
  }
  return -1;
}

CH_REALTIME int
ch_names_find(const char* const word,
              const void* const names,
              const size_t      count,
              const size_t      stride)
{
  return find(word, names, count, (ptrdiff_t)stride);
}

CH_REALTIME int
ch_names_find_inline(const char* const word,
                     const void* const names,
                     const size_t      count,
                     const size_t      stride)
{
  return find(word, names, count, -(ptrdiff_t)stride);
}

/* Levenshtein distance of two short words (longer ones count as far). */
static size_t
distance(const char* const a, const char* const b)
{
  const size_t n = strlen(a);
  const size_t m = strlen(b);
  if (n > WORD_MAX || m > WORD_MAX) {
    return (size_t)-1;
  }
  size_t row[WORD_MAX + 1u];
  for (size_t j = 0; j <= m; ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= n; ++i) {
    size_t diag = row[0];
    row[0]      = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t up   = row[j];
      size_t       best = diag + (a[i - 1u] != b[j - 1u]);
      best              = up + 1u < best ? up + 1u : best;
      best              = row[j - 1u] + 1u < best ? row[j - 1u] + 1u : best;
      row[j]            = best;
      diag              = up;
    }
  }
  return row[m];
}

/* True if the shorter of two words (at least 2 letters) begins the other. */
static bool
prefix_of(const char* const a, const char* const b)
{
  const size_t n   = strlen(a);
  const size_t m   = strlen(b);
  const size_t len = n < m ? n : m;
  return len >= 2u && !strncmp(a, b, len);
}

/* True if `abbrev` (2 letters or more) could abbreviate `word`: the same
   first letter and its letters in order in `word` (`lp` for `lowpass`). */
static bool
abbreviates(const char* const abbrev, const char* word)
{
  if (strlen(abbrev) < 2u || abbrev[0] != word[0]) {
    return false;
  }
  for (const char* a = abbrev; *a; ++a, ++word) {
    if (!(word = strchr(word, *a))) {
      return false;
    }
  }
  return true;
}

static const char*
closest(const char* const word,
        const void* const names,
        const size_t      count,
        const ptrdiff_t   stride)
{
  if (!word || !word[0]) {
    return NULL;
  }
  const char* best      = NULL;
  size_t      best_dist = (size_t)-1;
  for (size_t i = 0; i < count; ++i) {
    const char* const name = name_at(names, i, stride);
    if (prefix_of(word, name) || abbreviates(name, word)) {
      return name;
    }
    const size_t d = distance(word, name);
    if (d < best_dist) {
      best      = name;
      best_dist = d;
    }
  }
  const size_t len = strlen(word);
  return best_dist * 3u <= (len > 3u ? len : 3u) ? best : NULL;
}

const char*
ch_hint_closest(const char* const word,
                const void* const names,
                const size_t      count,
                const size_t      stride)
{
  return closest(word, names, count, (ptrdiff_t)stride);
}

const char*
ch_hint_closest_inline(const char* const word,
                       const void* const names,
                       const size_t      count,
                       const size_t      stride)
{
  return closest(word, names, count, -(ptrdiff_t)stride);
}

void
ch_hint(char* const       buf,
        const size_t      size,
        const char* const word,
        const char* const label,
        const void* const names,
        const size_t      count,
        const size_t      stride)
{
  if (!size) {
    return;
  }
  const char* const close = closest(word, names, count, (ptrdiff_t)stride);
  size_t            used  = 0;
  int n = close ? snprintf(buf, size, " (did you mean '%s'? %s: ", close, label)
                : snprintf(buf, size, " (%s: ", label);
  used  = n > 0 ? (size_t)n : 0u;
  for (size_t i = 0; i < count && used < size; ++i) {
    n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                 name_at(names, i, stride));
    used += n > 0 ? (size_t)n : 0u;
  }
  if (used < size) {
    snprintf(buf + used, size - used, "%s", count ? ")" : "none)");
  }
}
