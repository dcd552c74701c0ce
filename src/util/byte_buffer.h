/* byte_buffer.h — a growing buffer of bytes with a ceiling, kept NUL-terminated: what the HTTP clients (the Qdrant
 * backend, the command's client mode) collect an answer into, refusing one larger than they will hold. */
#ifndef ENGRAM_UTIL_BYTE_BUFFER_H
#define ENGRAM_UTIL_BYTE_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct eg_byte_buffer {
    char *data; /* NULL until the first byte; then data[len] is '\0'; free() it */
    size_t len, cap;
    bool too_large; /* an append would have passed the ceiling: nothing more is taken */
} eg_byte_buffer;

/* Appends n bytes unless that makes more than max bytes (too_large is then set); false when it did not append. */
bool eg_byte_buffer_append(eg_byte_buffer *b, const char *bytes, size_t n, size_t max);

#endif
