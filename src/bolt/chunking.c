/* chunking.c — Bolt's chunked message framing, both ways (see chunking.h). */
#include "bolt/chunking.h"

#include <stdlib.h>

bool eg_bolt_chunk_message(const uint8_t *message, size_t len, eg_byte_buffer *out, size_t max) {
    if (len == 0) return false;
    for (size_t at = 0; at < len;) {
        size_t n = len - at < EG_BOLT_MAX_CHUNK ? len - at : EG_BOLT_MAX_CHUNK;
        char header[2] = {(char)(n >> 8), (char)(n & 0xFF)};
        if (!eg_byte_buffer_append(out, header, 2, max)) return false;
        if (!eg_byte_buffer_append(out, (const char *)message + at, n, max)) return false;
        at += n;
    }
    return eg_byte_buffer_append(out, "\0\0", 2, max);
}

eg_status eg_bolt_dechunker_feed(eg_bolt_dechunker *d, const uint8_t *bytes, size_t len, size_t *used, eg_error *err) {
    size_t at = 0;
    *used = 0;
    if (d->failed)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: the stream passed a message larger than %zu bytes before",
                            d->max_message);
    while (at < len && !d->complete) {
        if (d->chunk_left > 0) {
            size_t n = len - at < d->chunk_left ? len - at : d->chunk_left;
            if (!eg_byte_buffer_append(&d->message, (const char *)bytes + at, n, d->max_message)) {
                *used = at;
                if (!d->message.too_large) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a message");
                d->failed = true;
                return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: message larger than %zu bytes", d->max_message);
            }
            at += n;
            d->chunk_left -= n;
            continue;
        }
        d->header[d->header_have++] = bytes[at++];
        if (d->header_have < 2) continue;
        d->header_have = 0;
        size_t size = (size_t)d->header[0] << 8 | d->header[1];
        if (size > 0)
            d->chunk_left = size;
        else if (d->message.len > 0)
            d->complete = true;
        /* else: a NOOP between messages, nothing to keep */
    }
    *used = at;
    return EG_OK;
}

void eg_bolt_dechunker_next(eg_bolt_dechunker *d) {
    d->message.len = 0;
    if (d->message.data) d->message.data[0] = '\0';
    d->complete = false;
}

void eg_bolt_dechunker_free(eg_bolt_dechunker *d) {
    free(d->message.data);
    d->message = (eg_byte_buffer){0};
}
