/* error.c — status names and the filling of eg_error reports (see engram/status.h). */
#include <engram/status.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    [EG_OK] = "ok",
    [EG_INVALID_ARGUMENT] = "invalid_argument",
    [EG_NOT_FOUND] = "not_found",
    [EG_CONFLICT] = "conflict",
    [EG_UNAVAILABLE] = "unavailable",
    [EG_TIMEOUT] = "timeout",
    [EG_IO] = "io_error",
    [EG_LOCKED] = "locked",
    [EG_INCOMPATIBLE] = "incompatible_format",
    [EG_CORRUPT] = "corrupt",
    [EG_INTERNAL] = "internal",
};

const char *eg_status_name(eg_status code) {
    if ((unsigned)code < sizeof status_names / sizeof status_names[0] && status_names[code])
        return status_names[code];
    return "internal";
}

bool eg_status_is_caller_error(eg_status code) {
    return code == EG_INVALID_ARGUMENT || code == EG_NOT_FOUND || code == EG_CONFLICT;
}

bool eg_status_is_store_failure(eg_status code) {
    return code == EG_UNAVAILABLE || code == EG_TIMEOUT || code == EG_IO;
}

/* The length of the well-formed UTF-8 sequence at text (RFC 3629: no overlong form, no surrogate, nothing past
 * U+10FFFF), or 0 when the bytes there begin none. */
static size_t utf8_sequence(const unsigned char *text) {
    unsigned char c = text[0];
    if (c < 0x80) return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < len; i++)
        if ((text[i] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && text[1] < 0xa0) || (c == 0xed && text[1] >= 0xa0) || (c == 0xf0 && text[1] < 0x90) ||
        (c == 0xf4 && text[1] >= 0x90))
        return 0;
    return len;
}

eg_status eg_error_set(eg_error *err, eg_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        /* A message may quote what a caller sent (a name, a parser's view of bad JSON) and be cut inside a
         * character; every message must be valid UTF-8 to travel in JSON, so each byte that begins no
         * well-formed sequence becomes '?'. */
        for (unsigned char *p = (unsigned char *)err->message; *p;) {
            size_t len = utf8_sequence(p);
            if (len) {
                p += len;
            } else {
                *p++ = '?';
            }
        }
    }
    return code;
}

void eg_error_clear(eg_error *err) {
    if (err) {
        err->code = EG_OK;
        err->message[0] = '\0';
    }
}

eg_status eg_error_prefix(eg_error *err, eg_status code, const char *fmt, ...) {
    if (code == EG_OK || !err) return code;
    char prefix[EG_ERROR_MESSAGE_MAX], message[EG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(message, err->message, sizeof message);
    return eg_error_set(err, code, "%s%s", prefix, message);
}
