/* Status strings and the error record used by every engine call. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>

const char*
ch_strerror(const ChStatus status)
{
  switch (status) {
  case CH_SUCCESS:
    return "success";
  case CH_ERR_UNKNOWN_KIND:
    return "unknown module kind";
  case CH_ERR_UNKNOWN_MODULE:
    return "unknown module";
  case CH_ERR_UNKNOWN_PORT:
    return "unknown port";
  case CH_ERR_UNKNOWN_PARAM:
    return "unknown parameter";
  case CH_ERR_EXISTS:
    return "already exists";
  case CH_ERR_NO_LINK:
    return "no such link";
  case CH_ERR_BAD_NAME:
    return "bad name";
  case CH_ERR_BAD_LINK:
    return "bad link";
  case CH_ERR_RANGE:
    return "value out of range";
  case CH_ERR_CYCLE:
    return "cycle";
  case CH_ERR_TOO_LARGE:
    return "too large";
  case CH_ERR_NO_MEMORY:
    return "out of memory";
  case CH_ERR_SYNTAX:
    return "syntax error";
  case CH_ERR_BAD_PATCH:
    return "bad patch";
  case CH_ERR_IO:
    return "input/output error";
  }
  return "unknown status";
}

ChStatus
ch_error(ChError* const err, const ChStatus status, const char* const fmt, ...)
{
  if (err) {
    va_list args;
    va_start(args, fmt);
    err->status = status;
    vsnprintf(err->msg, sizeof(err->msg), fmt, args);
    va_end(args);
  }
  return status;
}

void
ch_error_clear(ChError* const err)
{
  if (err) {
    err->status = CH_SUCCESS;
    err->msg[0] = '\0';
  }
}
