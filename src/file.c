/* Reading a user's file safely: regular files only, bounded in size. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a non-regular file is, for the error message. */
static const char*
file_type(const mode_t mode)
{
  return S_ISDIR(mode)    ? "a directory"
         : S_ISFIFO(mode) ? "a FIFO (named pipe)"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
         : S_ISSOCK(mode) ? "a socket"
                          : "an unknown kind of file";
}

/* Read up to `want` bytes of `fd` into `buf`; the count, or -1 on error. */
static ssize_t
read_all(const int fd, char* const buf, const size_t want)
{
  size_t len = 0;
  while (len < want) {
    const ssize_t n = read(fd, buf + len, want - len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return -1;
    }
    if (n == 0) {
      break;
    }
    len += (size_t)n;
  }
  return (ssize_t)len;
}

ChStatus
ch_file_read(const char* const path,
             const size_t      max,
             char** const      text,
             size_t* const     len,
             ChError* const    err)
{
  *text = NULL;
  *len  = 0;
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
  const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return ch_error(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st)) {
    const int e = errno;
    close(fd);
    return ch_error(err, CH_ERR_IO, "%s: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return ch_error(err, CH_ERR_IO, "%s: %s, not a regular file: refused", path,
                    file_type(st.st_mode));
  }
  if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
    close(fd);
    return ch_error(err, CH_ERR_TOO_LARGE,
                    "%s: %lld bytes, larger than the limit of %zu bytes", path,
                    (long long)st.st_size, max);
  }
  /* Room for the size fstat gave plus one byte, to see a file that grows
     while it is read, plus the terminator: never more than the cap + 2. */
  const size_t size = (size_t)st.st_size;
  char* const  data = (char*)malloc(size + 2u);
  if (!data) {
    close(fd);
    return ch_error(err, CH_ERR_NO_MEMORY, "%s: out of memory", path);
  }
  const ssize_t n = read_all(fd, data, size + 1u);
  const int     e = errno;
  close(fd);
  if (n < 0 || (size_t)n > size) {
    free(data);
    return n < 0 ? ch_error(err, CH_ERR_IO, "%s: %s", path, strerror(e))
                 : ch_error(err, CH_ERR_IO,
                            "%s: changed while it was read (still being "
                            "written?)",
                            path);
  }
  data[n] = '\0';
  *len    = (size_t)n;
  *text   = data;
  return CH_SUCCESS;
}
