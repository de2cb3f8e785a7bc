/* Interposes malloc & co, mutexes, condition variables, semaphores and
   common blocking system calls, counting calls made while a thread is
   marked real-time.  Linked into every test program; inert otherwise. */
#define _GNU_SOURCE
#include "rtcheck.h"

/* A sanitizer that owns malloc (ASan, RTSan, ...) must keep it: our
   malloc would hide allocations from RealtimeSanitizer, and hand ASan's
   blocks to glibc's free.  Then the interposer steps aside, and under
   RTSan the marked regions become RTSan real-time regions instead. */
#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||   \
    __has_feature(thread_sanitizer) || __has_feature(realtime_sanitizer)
#    define RTCHECK_STEP_ASIDE 1
#  endif
#  if __has_feature(realtime_sanitizer)
#    define RTCHECK_RTSAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||           \
  defined(CH_SANITIZER)
#  define RTCHECK_STEP_ASIDE 1
#endif

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifdef RTCHECK_RTSAN
void __rtsan_realtime_enter(void);
void __rtsan_realtime_exit(void);
void __rtsan_disable(void);
void __rtsan_enable(void);
#endif

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t n, size_t size);
extern void* __libc_realloc(void* ptr, size_t size);
extern void* __libc_memalign(size_t align, size_t size);
extern void  __libc_free(void* ptr);

static __thread int      watching;
static __thread unsigned violations;
static __thread char     first[64];

void
rtcheck_begin(void)
{
  violations = 0;
  first[0]   = '\0';
  watching   = 1;
#ifdef RTCHECK_RTSAN
  __rtsan_realtime_enter(); /* RTSan aborts with a report on a violation */
#endif
}

unsigned
rtcheck_end(void)
{
#ifdef RTCHECK_RTSAN
  if (watching) {
    __rtsan_realtime_exit();
  }
#endif
  watching = 0;
  return violations;
}

void
rtcheck_pause(void)
{
#ifdef RTCHECK_RTSAN
  __rtsan_disable();
#endif
}

void
rtcheck_resume(void)
{
#ifdef RTCHECK_RTSAN
  __rtsan_enable();
#endif
}

bool
rtcheck_rtsan(void)
{
#ifdef RTCHECK_RTSAN
  return true;
#else
  return false;
#endif
}

bool
rtcheck_active(void)
{
#ifdef RTCHECK_STEP_ASIDE
  return false;
#else
  return true;
#endif
}

const char*
rtcheck_first(void)
{
  return first;
}

#ifndef RTCHECK_STEP_ASIDE

static void
violation(const char* const what)
{
  if (watching) {
    if (!violations++) {
      strncpy(first, what, sizeof(first) - 1u);
    }
  }
}

void*
malloc(size_t size)
{
  violation("malloc");
  return __libc_malloc(size);
}

void*
calloc(size_t n, size_t size)
{
  violation("calloc");
  return __libc_calloc(n, size);
}

void*
realloc(void* ptr, size_t size)
{
  violation("realloc");
  return __libc_realloc(ptr, size);
}

void
free(void* ptr)
{
  if (ptr) {
    violation("free");
  }
  __libc_free(ptr);
}

void*
aligned_alloc(size_t align, size_t size)
{
  violation("aligned_alloc");
  return __libc_memalign(align, size);
}

void*
memalign(size_t align, size_t size)
{
  violation("memalign");
  return __libc_memalign(align, size);
}

int
posix_memalign(void** ptr, size_t align, size_t size)
{
  violation("posix_memalign");
  *ptr = __libc_memalign(align, size);
  return *ptr ? 0 : ENOMEM;
}

/* The rest forward to the next definition, found once on first use. */
#  define FORWARD(ret, name, params, args)                                     \
    ret name params                                                            \
    {                                                                          \
      static ret(*next) params;                                                \
      violation(#name);                                                        \
      if (!next) {                                                             \
        void* const sym = dlsym(RTLD_NEXT, #name);                             \
        memcpy(&next, &sym, sizeof(next)); /* ISO C: no object-to-function */  \
      }                                                                        \
      return next args;                                                        \
    }

FORWARD(int, pthread_mutex_lock, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_mutex_trylock, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_mutex_unlock, (pthread_mutex_t * m), (m))
FORWARD(int,
        pthread_cond_wait,
        (pthread_cond_t * c, pthread_mutex_t* m),
        (c, m))
FORWARD(int, pthread_cond_signal, (pthread_cond_t * c), (c))
FORWARD(int, pthread_cond_broadcast, (pthread_cond_t * c), (c))
FORWARD(int, sem_wait, (sem_t * s), (s))
FORWARD(int, sem_timedwait, (sem_t * s, const struct timespec* t), (s, t))
FORWARD(int, sem_post, (sem_t * s), (s))
FORWARD(ssize_t, write, (int fd, const void* buf, size_t n), (fd, buf, n))
FORWARD(ssize_t, read, (int fd, void* buf, size_t n), (fd, buf, n))
FORWARD(int, usleep, (useconds_t us), (us))
FORWARD(int, nanosleep, (const struct timespec* t, struct timespec* r), (t, r))
FORWARD(int, sched_yield, (void), ())

#endif /* RTCHECK_STEP_ASIDE */
