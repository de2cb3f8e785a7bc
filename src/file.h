/* Reading a user's file safely: regular files only, bounded in size. */
#ifndef CH_FILE_H
#define CH_FILE_H

#include "status.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
   Read the whole regular file at `path`, at most `max` bytes.

   The file is opened non-blocking and checked with fstat before a byte is
   read, so a FIFO, a device (/dev/zero), a directory or a socket is refused
   at once (CH_ERR_IO, naming the path and what it is) instead of blocking or
   growing without end.  A file larger than `max`, or one that grows past it
   while being read, is CH_ERR_TOO_LARGE.

   On success `*text` holds `*len` bytes plus a NUL terminator, to release
   with free().  Non-real-time: it calls the system and allocates.
*/
ChStatus ch_file_read(const char* path,
                      size_t      max,
                      char**      text,
                      size_t*     len,
                      ChError*    err);

#ifdef __cplusplus
}
#endif

#endif /* CH_FILE_H */
