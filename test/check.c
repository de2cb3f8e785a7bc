/* The counters of test/check.h: one set per test program, so that a
   helper linked into it (test/plugin_fixture.c) counts its checks too. */
#include "check.h"

int check_failed_now;
int check_cases_failed;
int check_cases_passed;
