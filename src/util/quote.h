/* quote.h — showing untrusted text inside an error message. */
#ifndef ENGRAM_UTIL_QUOTE_H
#define ENGRAM_UTIL_QUOTE_H

#include <stddef.h>

/* Copies s into out for an error message: printable ASCII kept, the rest \xNN-escaped, long strings cut. */
void eg_quote_for_message(const char *s, char *out, size_t cap);

#endif
