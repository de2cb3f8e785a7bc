/* A tiny test harness: each test program runs named cases and prints one
   PASS/FAIL line per case, which test/run-tests counts. */
#ifndef CH_CHECK_H
#define CH_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Counters of the test program (test/check.c), shared by its helpers. */
extern int check_failed_now; /* failures in the running case */
extern int check_cases_failed;
extern int check_cases_passed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++check_failed_now;                                                      \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__,       \
              #cond);                                                          \
    }                                                                          \
  } while (0)

#define CHECK_MSG(cond, ...)                                                   \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++check_failed_now;                                                      \
      fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__,       \
              #cond);                                                          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                  \
  do {                                                                         \
    const double check_a_ = (double)(a);                                       \
    const double check_b_ = (double)(b);                                       \
    if (!(fabs(check_a_ - check_b_) <= (double)(tol))) {                       \
      ++check_failed_now;                                                      \
      fprintf(stderr, "  %s:%d: %s = %g, expected %s = %g (tolerance %g)\n",   \
              __FILE__, __LINE__, #a, check_a_, #b, check_b_, (double)(tol));  \
    }                                                                          \
  } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                   \
  do {                                                                         \
    const char* check_h_ = (haystack);                                         \
    if (!check_h_ || !strstr(check_h_, (needle))) {                            \
      ++check_failed_now;                                                      \
      fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,   \
              __LINE__, check_h_ ? check_h_ : "(null)", (needle));             \
    }                                                                          \
  } while (0)

/** Run one case and report it. */
#define RUN(test_fn)                                                           \
  do {                                                                         \
    check_failed_now = 0;                                                      \
    test_fn();                                                                 \
    if (check_failed_now) {                                                    \
      ++check_cases_failed;                                                    \
      printf("FAIL %s\n", #test_fn);                                           \
    } else {                                                                   \
      ++check_cases_passed;                                                    \
      printf("PASS %s\n", #test_fn);                                           \
    }                                                                          \
    fflush(stdout);                                                            \
  } while (0)

/** Exit status of a test program: 0 only if every case passed. */
#define CHECK_EXIT() (check_cases_failed ? 1 : 0)

#endif /* CH_CHECK_H */
