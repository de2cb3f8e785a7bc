/* Patch text: a model read from and written to Turtle (docs/patches.md). */
#ifndef CH_PATCH_H
#define CH_PATCH_H

#include "model.h"
#include "status.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
   Parse the whole patch `text` (`len` bytes of UTF-8 Turtle, no terminator
   needed) and, on success, replace the contents of `model` with it.

   On failure `model` is unchanged and `err` holds a message that names the
   line (and column, for syntax errors) and the problem.  Returns
   CH_ERR_SYNTAX for text that is not Turtle, CH_ERR_BAD_PATCH for Turtle
   that does not describe a patch, or the model's own status (unknown kind,
   out of range, ...) for a rejected module, parameter or link.

   Non-real-time: call it from the worker (or any thread that owns `model`).
*/
ChStatus ch_patch_read(ChModel*    model,
                       const char* text,
                       size_t      len,
                       ChError*    err);

/**
   Read the patch file at `path` into `model`, as ch_patch_read() does.
   Error messages start with the path; a file that cannot be read is
   CH_ERR_IO.  Non-real-time.
*/
ChStatus ch_patch_read_file(ChModel* model, const char* path, ChError* err);

/**
   Write `model` as Turtle: every module with all its parameters, then every
   link, in model order.  Reading the result gives an equal model, and
   writing that gives the same bytes again.

   Returns a NUL-terminated string to release with free(), or NULL with an
   error in `err`.  Non-real-time.
*/
char* ch_patch_write(const ChModel* model, ChError* err);

/**
   Write `model` to the file at `path`, replacing it only once the whole
   patch is written (through a temporary file next to it).  Non-real-time.
*/
ChStatus ch_patch_write_file(const ChModel* model,
                             const char*    path,
                             ChError*       err);

#ifdef __cplusplus
}
#endif

#endif /* CH_PATCH_H */
