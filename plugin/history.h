/* Undo and redo of commits: the patches that played before, kept by the
   worker (never touched by run()). */
#ifndef CH_HISTORY_H
#define CH_HISTORY_H

#include "../src/model.h"

#include <stdbool.h>
#include <stdint.h>

/** Steps kept: the oldest are forgotten beyond this. */
#define CH_HISTORY_MAX 128u

typedef struct {
  ChModel* undo[CH_HISTORY_MAX]; /* oldest first */
  uint32_t n_undo;
  ChModel* redo[CH_HISTORY_MAX]; /* most recently undone last */
  uint32_t n_redo;
} ChHistory;

/**
   A commit replaced `before`: keep a copy to undo to, and forget what
   could be redone.  False if out of memory (the step is then lost).
*/
bool ch_history_record(ChHistory* history, const ChModel* before);

/**
   Take the patch to go back to (`undo`) or forward to (else), or NULL if
   there is none.  The caller owns it, and gives `current` (the patch it
   replaces) to ch_history_keep() once that step has committed.
*/
ChModel* ch_history_take(ChHistory* history, bool undo);

/** After an undo (`undo` true) or a redo: keep `current` (owned now) on
    the other side, so the step can be reversed. */
void ch_history_keep(ChHistory* history, ChModel* current, bool undo);

/** Put back what ch_history_take() gave when its commit failed. */
void ch_history_put_back(ChHistory* history, ChModel* taken, bool undo);

/** Forget everything (a state restore starts a new history). */
void ch_history_clear(ChHistory* history);

#endif /* CH_HISTORY_H */
