/* An allocator, lock and system-call interposer for tests: between
   rtcheck_begin() and rtcheck_end() on one thread, any such call counts as
   a real-time violation. */
#ifndef CH_RTCHECK_H
#define CH_RTCHECK_H

#include <stdbool.h>

/** Start watching the calling thread. */
void rtcheck_begin(void);

/** Stop watching; returns the number of violations since begin. */
unsigned rtcheck_end(void);

/** False in a sanitizer build, where the interposer steps aside (the
    sanitizer owns malloc) and counts nothing; under RealtimeSanitizer
    begin/end then mark a real-time region for RTSan to check. */
bool rtcheck_active(void);

/** True in a RealtimeSanitizer build (a violation then aborts). */
bool rtcheck_rtsan(void);

/** Around work a host runs synchronously inside run() (a sync worker, as
    in an offline export): under RealtimeSanitizer, suspend its checks.
    The interposer's own pause is rtcheck_end()/rtcheck_begin(). */
void rtcheck_pause(void);
void rtcheck_resume(void);

/** Name of the first forbidden call seen since begin, or "". */
const char* rtcheck_first(void);

#endif /* CH_RTCHECK_H */
