/* json_check.h — checks on JSON values that arrive through the C API, shared by the stores: the limits of
 * include/engram/limits.h, and no hidden NUL. */
#ifndef ENGRAM_UTIL_JSON_CHECK_H
#define ENGRAM_UTIL_JSON_CHECK_H

#include <engram/limits.h>
#include <engram/status.h>
#include <jansson.h>
#include <stddef.h>

typedef struct eg_json_limits {
    size_t depth;   /* nesting of objects and arrays, the document itself being level 1 */
    size_t bytes;   /* its compact JSON text */
    size_t members; /* keys of the top-level object (0: not checked) */
} eg_json_limits;

/* EG_JSON_DEPTH_MAX, EG_JSON_DOCUMENT_MAX, EG_PROPERTY_COUNT_MAX: a caller's payload or properties. */
extern const eg_json_limits eg_json_user_limits;

/* EG_OK, or EG_INVALID_ARGUMENT naming `what` and the limit passed, when doc is nested deeper, encodes longer or
 * has more top-level keys than limits allow, or when a string or object key, built through the C API
 * (json_stringn, json_object_setn), hides a NUL byte. JSON text cannot carry one through engram (the JSON
 * interface rejects \u0000), so the stores never hold one either, and they read their records back without
 * JSON_ALLOW_NUL. The walk never recurses deeper than limits->depth + 1, whatever the caller built. */
eg_status eg_json_check_document(json_t *doc, const eg_json_limits *limits, const char *what, eg_error *err);

#endif
