/* The factory bank's patch files, for the tests that play every program. */
#ifndef CH_TEST_BANK_H
#define CH_TEST_BANK_H

#include "../src/graph.h"

#include <stddef.h>

#define BANK_DIR CH_SOURCE_DIR "/presets/bank"
#define BANK_MAX 128u

/** One Turtle file of BANK_DIR, as bank_each() hands it to a test. */
typedef struct {
  size_t      index; /* its place in the sorted listing, from 0 */
  const char* name;  /* NN-name.ttl */
  const char* path;  /* BANK_DIR/NN-name.ttl */
} BankFile;

/** Call `fn` on every Turtle file in BANK_DIR, sorted by name; their
    number.  A folder that cannot be read fails a check and gives 0. */
size_t bank_each(void (*fn)(const BankFile* file));

/** The graph of the patch file at `path` at `rate`, or NULL after a
    failed check that names the file and the error. */
ChGraph* bank_graph(const char* path, float rate);

#endif /* CH_TEST_BANK_H */
