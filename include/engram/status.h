/* engram/status.h — status codes and error reports shared by every engram API.
 *
 * Every fallible function returns an eg_status and, when it is not EG_OK, fills the caller's eg_error (if the
 * pointer is not NULL) with the same code and a one-line message naming the problem. Messages never contain
 * absolute file paths, URIs or credentials.
 *
 * Codes are stable: their names (eg_status_name) are the `code` strings of `engram exec` results.
 * Caller errors (EG_INVALID_ARGUMENT, EG_NOT_FOUND, EG_CONFLICT) mean the request was wrong and nothing changed;
 * the others are infrastructure failures that a retry or an operator may cure. */
#ifndef ENGRAM_STATUS_H
#define ENGRAM_STATUS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eg_status {
    EG_OK = 0,
    EG_INVALID_ARGUMENT, /* "invalid_argument": bad name, id, type, shape or value */
    EG_NOT_FOUND,        /* "not_found": the node, relationship or thing named does not exist */
    EG_CONFLICT,         /* "conflict": it exists already with other content, or a rule forbids the change */
    EG_UNAVAILABLE,      /* "unavailable": the store cannot serve now (closed, down, circuit open) */
    EG_TIMEOUT,          /* "timeout": the operation took longer than allowed; it may have taken effect */
    EG_IO,               /* "io_error": the file system failed (disk full, permissions, read error) */
    EG_LOCKED,           /* "locked": another process holds the data folder for writing */
    EG_INCOMPATIBLE,     /* "incompatible_format": the data folder was written by an unknown, newer format */
    EG_CORRUPT,          /* "corrupt": stored data failed a consistency check */
    EG_INTERNAL          /* "internal": a bug or an out-of-memory condition */
} eg_status;

#define EG_ERROR_MESSAGE_MAX 512

typedef struct eg_error {
    eg_status code;
    char message[EG_ERROR_MESSAGE_MAX]; /* NUL-terminated, valid UTF-8: a byte of quoted input that is not becomes '?' */
} eg_error;

/* The stable lower-case name of a code ("invalid_argument", ...). */
const char *eg_status_name(eg_status code);

/* True for the codes that describe a wrong request rather than a failing store. */
bool eg_status_is_caller_error(eg_status code);

/* True for the codes that say a store cannot serve now (unavailable, timeout, io_error): what trips a circuit
 * breaker, what reads fall back on and what the write queue waits out. */
bool eg_status_is_store_failure(eg_status code);

/* Fills err (when not NULL) and returns code. printf-style message. */
eg_status eg_error_set(eg_error *err, eg_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends a printf-style prefix ("nodes[3]: ") to err's message when code is not EG_OK; returns code. */
eg_status eg_error_prefix(eg_error *err, eg_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Resets err to EG_OK with an empty message. */
void eg_error_clear(eg_error *err);

#ifdef __cplusplus
}
#endif
#endif
