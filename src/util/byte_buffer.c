/* byte_buffer.c — a growing, NUL-terminated buffer with a ceiling (see byte_buffer.h). */
#include "util/byte_buffer.h"

#include <stdlib.h>
#include <string.h>

bool eg_byte_buffer_append(eg_byte_buffer *b, const char *bytes, size_t n, size_t max) {
    if (b->too_large || n > max - b->len) {
        b->too_large = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) { /* doubling keeps the cost of many small appends linear */
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) return false;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}
