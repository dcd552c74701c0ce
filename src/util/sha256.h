/* sha256.h — SHA-256 (FIPS 180-4), the checksum the cold archive records for each entry's JSON text.
 *
 * One-shot only: archive records are hashed whole, in memory. Thread-safe (no state between calls). */
#ifndef ENGRAM_UTIL_SHA256_H
#define ENGRAM_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define EG_SHA256_BYTES 32
#define EG_SHA256_HEX_BYTES 65 /* 64 lower-case hex digits and the NUL */

/* The digest of the len bytes at data (data may be NULL when len is 0). */
void eg_sha256(const void *data, size_t len, uint8_t out[EG_SHA256_BYTES]);

/* The digest as 64 lower-case hex digits, NUL-terminated. */
void eg_sha256_hex(const uint8_t digest[EG_SHA256_BYTES], char out[EG_SHA256_HEX_BYTES]);

#endif
