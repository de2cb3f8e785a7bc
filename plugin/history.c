/* Undo and redo of commits (history.h). */
#include "history.h"

#include <string.h>

/* Push onto a stack, forgetting its oldest entry when full. */
static void
push(ChModel** const stack, uint32_t* const n, ChModel* const model)
{
  if (*n == CH_HISTORY_MAX) {
    ch_model_free(stack[0]);
    memmove(stack, stack + 1, (CH_HISTORY_MAX - 1u) * sizeof(ChModel*));
    --*n;
  }
  stack[(*n)++] = model;
}

static void
clear_stack(ChModel** const stack, uint32_t* const n)
{
  while (*n) {
    ch_model_free(stack[--*n]);
  }
}

bool
ch_history_record(ChHistory* const history, const ChModel* const before)
{
  ChModel* const copy = ch_model_copy(before);
  clear_stack(history->redo, &history->n_redo);
  if (!copy) {
    return false;
  }
  push(history->undo, &history->n_undo, copy);
  return true;
}

ChModel*
ch_history_take(ChHistory* const history, const bool undo)
{
  ChModel** const stack = undo ? history->undo : history->redo;
  uint32_t* const n     = undo ? &history->n_undo : &history->n_redo;
  return *n ? stack[--*n] : NULL;
}

/* Pushes `model` onto the undo stack (`undo`) or the redo stack. */
static void
push_on(ChHistory* const history, ChModel* const model, const bool undo)
{
  if (undo) {
    push(history->undo, &history->n_undo, model);
  } else {
    push(history->redo, &history->n_redo, model);
  }
}

void
ch_history_keep(ChHistory* const history,
                ChModel* const   current,
                const bool       undo)
{
  push_on(history, current, !undo); /* the other side: it reverses the step */
}

void
ch_history_put_back(ChHistory* const history,
                    ChModel* const   taken,
                    const bool       undo)
{
  push_on(history, taken, undo); /* the side it was taken from */
}

void
ch_history_clear(ChHistory* const history)
{
  clear_stack(history->undo, &history->n_undo);
  clear_stack(history->redo, &history->n_redo);
}
