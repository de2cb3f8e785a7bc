/* The factory bank's patch files, for the tests that play every program. */
#ifndef CH_TEST_BANK_H
#define CH_TEST_BANK_H

#include <stddef.h>

#define BANK_DIR CH_SOURCE_DIR "/presets/bank"
#define BANK_MAX 128u

/** The names (NN-name.ttl) of the Turtle files in BANK_DIR, sorted, into
    `names` (each to free()); their number.  A folder that cannot be read
    fails a check and gives 0. */
size_t bank_files(char* names[BANK_MAX]);

#endif /* CH_TEST_BANK_H */
