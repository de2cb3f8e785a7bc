/* Names in tables (kinds, ports, parameters, modules): finding one by its
   name, and hints for an unknown name: the closest known one and the list. */
#ifndef CH_HINT_H
#define CH_HINT_H

#include "kind.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
   The index of the element named exactly `word`, or -1.  `names` points at
   `count` elements `stride` bytes apart, each starting with a `const char*`
   name (a port or parameter table).  Real-time.
*/
CH_REALTIME int ch_names_find(const char* word,
                              const void* names,
                              size_t      count,
                              size_t      stride);

/** The same for names held in the elements: `char name[N]` first. */
CH_REALTIME int ch_names_find_inline(const char* word,
                                     const void* names,
                                     size_t      count,
                                     size_t      stride);

/**
   The known name most like `word`, or NULL if none is close: a name that
   starts with `word` or that `word` starts with (`res` and `resonance`)
   or that abbreviates it (`lp` for `lowpass`), else the nearest by edit
   distance, if at most a third of the letters differ.  `names` points at
   `count` elements `stride` bytes apart, each starting with a `const char*`
   name (a kind, port or parameter table).
*/
const char* ch_hint_closest(const char* word,
                            const void* names,
                            size_t      count,
                            size_t      stride);

/** The same for names held in the elements: `char name[N]` first. */
const char* ch_hint_closest_inline(const char* word,
                                   const void* names,
                                   size_t      count,
                                   size_t      stride);

/**
   Write " (did you mean 'res'? LABEL: cutoff, res)" into `buf`, the
   suggestion only if one is close.  Never overflows; thread: any.
*/
void ch_hint(char*       buf,
             size_t      size,
             const char* word,
             const char* label,
             const void* names,
             size_t      count,
             size_t      stride);

#ifdef __cplusplus
}
#endif

#endif /* CH_HINT_H */
