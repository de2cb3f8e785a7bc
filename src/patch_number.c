/* Patch text numbers: read and written with '.' as the decimal point and
   in the fewest digits that keep the float. */
#include "patch_impl.h"

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ChCLocale
ch_patch_c_locale_begin(void)
{
  ChCLocale loc = { newlocale(LC_NUMERIC_MASK, "C", (locale_t)0), (locale_t)0 };
  if (loc.c) {
    loc.old = uselocale(loc.c);
  }
  return loc;
}

void
ch_patch_c_locale_end(const ChCLocale loc)
{
  if (loc.c) {
    uselocale(loc.old);
    freelocale(loc.c);
  }
}

bool
ch_patch_is_digit(const char c)
{
  return c >= '0' && c <= '9';
}

bool
ch_patch_is_number(const char* s)
{
  bool digits = false;
  s += *s == '+' || *s == '-';
  for (; ch_patch_is_digit(*s); ++s) {
    digits = true;
  }
  if (*s == '.') {
    for (++s; ch_patch_is_digit(*s); ++s) {
      digits = true;
    }
  }
  if (!digits) {
    return false;
  }
  if (*s == 'e' || *s == 'E') {
    ++s;
    s += *s == '+' || *s == '-';
    if (!ch_patch_is_digit(*s)) {
      return false;
    }
    while (ch_patch_is_digit(*s)) {
      ++s;
    }
  }
  return !*s;
}

bool
ch_patch_same_float(const float a, const float b)
{
  return !memcmp(&a, &b, sizeof(float));
}

bool
ch_patch_format_float(const float value, char buf[NUMBER_MAX])
{
  char sci[32];
  for (int prec = 1; prec <= 9; ++prec) {
    snprintf(sci, sizeof(sci), "%.*e", prec - 1, (double)value);
    if (ch_patch_same_float(strtof(sci, NULL), value)) {
      break;
    }
  }

  /* Split "-d.ddde-XX" into sign, digits and exponent. */
  const char* s        = sci;
  const bool  negative = *s == '-';
  s += negative;
  char digits[16];
  int  n_digits = 0;
  for (; *s && *s != 'e'; ++s) {
    if (ch_patch_is_digit(*s) && n_digits < (int)sizeof(digits) - 1) {
      digits[n_digits++] = *s;
    }
  }
  const int exponent = *s == 'e' ? atoi(s + 1) : 0;
  while (n_digits > 1 && digits[n_digits - 1] == '0') {
    --n_digits;
  }
  digits[n_digits] = '\0';

  /* Value = d.ddd * 10^exponent; place the point. */
  char* out = buf;
  if (negative) {
    *out++ = '-';
  }
  bool integer = false;
  if (exponent < 0) {
    *out++ = '0';
    *out++ = '.';
    for (int i = 0; i < -exponent - 1; ++i) {
      *out++ = '0';
    }
    memcpy(out, digits, (size_t)n_digits);
    out += n_digits;
  } else if (exponent >= n_digits - 1) {
    memcpy(out, digits, (size_t)n_digits);
    out += n_digits;
    for (int i = 0; i < exponent - (n_digits - 1); ++i) {
      *out++ = '0';
    }
    integer = true;
  } else {
    memcpy(out, digits, (size_t)exponent + 1u);
    out += exponent + 1;
    *out++ = '.';
    memcpy(out, digits + exponent + 1, (size_t)(n_digits - exponent - 1));
    out += n_digits - exponent - 1;
  }
  *out = '\0';
  return integer;
}
