/* Private to the patch reader and writer (patch_read.c, patch_write.c):
   namespaces, serd, and numbers in the C locale (patch_number.c). */
#ifndef CH_PATCH_IMPL_H
#define CH_PATCH_IMPL_H

#include "patch.h"

/* serd.h marks pointers with clang's nullability qualifiers, which
   -Wpedantic reports as an extension. */
#if defined(__clang__)
#  pragma clang diagnostic push
#  pragma clang diagnostic ignored "-Wnullability-extension"
#endif
#include <serd/serd.h>
#if defined(__clang__)
#  pragma clang diagnostic pop
#endif

#include <locale.h>
#include <stdbool.h>

#define NS_CH     "urn:chronus:"
#define NS_PARAM  "urn:chronus:param#"
#define NS_MODULE "urn:chronus:module#"
#define NS_XSD    "http://www.w3.org/2001/XMLSchema#"
#define RDF_TYPE  "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

/* Longest number we write: 39 digits of FLT_MAX, or "-0." and 45 zeros
   before the digits of the smallest denormal. */
#define NUMBER_MAX 64u

/* Numbers are always written and read with '.' as the decimal point: hosts
   may set a locale that uses ',' (strtof and printf follow it). */
typedef struct {
  locale_t c;
  locale_t old;
} ChCLocale;

ChCLocale ch_patch_c_locale_begin(void);

void ch_patch_c_locale_end(ChCLocale loc);

/** True if `c` is a decimal digit (in any locale). */
bool ch_patch_is_digit(char c);

/** True if `s` is a Turtle INTEGER, DECIMAL or DOUBLE (strtof alone would
    also take "inf", "0x1p3" and leading spaces). */
bool ch_patch_is_number(const char* s);

/** Same float, bit for bit (so -0 differs from 0). */
bool ch_patch_same_float(float a, float b);

/**
   Write finite `value` in the fewest significant digits that read back as
   the same float, in plain positional notation ("0.0000001", not "1e-07",
   which is easier to read and lets serd write a bare Turtle decimal).
   Returns true if the result is an integer.  Needs the C locale.
*/
bool ch_patch_format_float(float value, char buf[NUMBER_MAX]);

#endif /* CH_PATCH_IMPL_H */
