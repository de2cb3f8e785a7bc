/* Patch text: a model read from and written to Turtle (docs/patches.md). */
#ifndef CH_PATCH_H
#define CH_PATCH_H

#include "model.h"
#include "status.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest patch text read (4 MiB, docs/patches.md): a file or string over
    it is refused with CH_ERR_TOO_LARGE before it is parsed. */
#define CH_PATCH_TEXT_MAX (4u * 1024u * 1024u)

/**
   Parse the whole patch `text` (`len` bytes of UTF-8 Turtle, no terminator
   needed) and, on success, replace the contents of `model` with it.

   On failure `model` is unchanged and `err` holds a message that names the
   line (and column, for syntax errors) and the problem.  Returns
   CH_ERR_SYNTAX for text that is not Turtle, CH_ERR_BAD_PATCH for Turtle
   that does not describe a patch, or the model's own status (unknown kind,
   out of range, ...) for a rejected module, parameter or link.
   CH_ERR_TOO_LARGE for text over CH_PATCH_TEXT_MAX, or as soon as the text
   names more than CH_MAX_MODULES modules or CH_MAX_LINKS links: limits are
   checked as the text is read, and reading is linear in its size.

   Non-real-time: call it from the worker (or any thread that owns `model`).
*/
ChStatus ch_patch_read(ChModel*    model,
                       const char* text,
                       size_t      len,
                       ChError*    err);

/**
   Read the patch file at `path` into `model`, as ch_patch_read() does.
   Error messages start with the path.  Only a regular file is read
   (ch_file_read(): a FIFO, device or directory is CH_ERR_IO at once); one
   over CH_PATCH_TEXT_MAX is CH_ERR_TOO_LARGE; an empty one (0 bytes) is
   CH_ERR_BAD_PATCH, never an empty patch.  Non-real-time.
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
