/* An allocator, lock and system-call interposer for tests: between
   rtcheck_begin() and rtcheck_end() on one thread, any such call counts as
   a real-time violation. */
#ifndef CH_RTCHECK_H
#define CH_RTCHECK_H

/** Start watching the calling thread. */
void rtcheck_begin(void);

/** Stop watching; returns the number of violations since begin. */
unsigned rtcheck_end(void);

/** Name of the first forbidden call seen since begin, or "". */
const char* rtcheck_first(void);

#endif /* CH_RTCHECK_H */
