/* utf8.h — one code point to and from UTF-8, for the code that walks text a character at a time (case folding,
 * Cypher's escapes and case functions). */
#ifndef ENGRAM_UTIL_UTF8_H
#define ENGRAM_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Writes cp (below 0x110000) as UTF-8 into out; returns the bytes written, 1 to 4. */
size_t eg_utf8_encode(uint32_t cp, char out[4]);

/* The code point of the well-formed UTF-8 sequence at s (n bytes available) in *cp, and its length; 0 when the
 * bytes there are not one (a stray continuation byte, a sequence cut short). */
size_t eg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
