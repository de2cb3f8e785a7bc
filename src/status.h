/* Status codes and error messages shared by the whole engine. */
#ifndef CH_STATUS_H
#define CH_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of an engine call: 0 is success, everything else an error. */
typedef enum {
  CH_SUCCESS = 0,
  CH_ERR_UNKNOWN_KIND,   /**< no module kind of that name */
  CH_ERR_UNKNOWN_MODULE, /**< no module of that name in the patch */
  CH_ERR_UNKNOWN_PORT,   /**< the module has no such port */
  CH_ERR_UNKNOWN_PARAM,  /**< the module has no such parameter */
  CH_ERR_EXISTS,         /**< a module or link of that name exists already */
  CH_ERR_NO_LINK,        /**< no such link to remove */
  CH_ERR_BAD_NAME,       /**< a name that is empty, too long or malformed */
  CH_ERR_BAD_LINK,  /**< a link that does not go from an output to an input */
  CH_ERR_RANGE,     /**< a value outside its declared range */
  CH_ERR_CYCLE,     /**< the links form a cycle with no delay in it */
  CH_ERR_TOO_LARGE, /**< over a documented size limit */
  CH_ERR_NO_MEMORY, /**< an allocation failed (never on the audio thread) */
  CH_ERR_SYNTAX,    /**< patch text that does not parse */
  CH_ERR_BAD_PATCH, /**< patch text that parses but does not describe a patch */
  CH_ERR_IO,        /**< a file could not be read or written */
} ChStatus;

/** A short, constant description of a status ("unknown module"). */
const char* ch_strerror(ChStatus status);

/** Room for a human-readable message that names the module, port or cycle. */
typedef struct {
  ChStatus status;
  char     msg[512];
} ChError;

/**
   Record an error and return its status, printf-style.
   `err` may be NULL when the caller only wants the status.
*/
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
ChStatus
ch_error(ChError* err, ChStatus status, const char* fmt, ...);

/** Reset an error record to success with an empty message. */
void ch_error_clear(ChError* err);

#ifdef __cplusplus
}
#endif

#endif /* CH_STATUS_H */
