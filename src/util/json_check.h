/* json_check.h — checks on JSON values that arrive through the C API, shared by the stores. */
#ifndef ENGRAM_UTIL_JSON_CHECK_H
#define ENGRAM_UTIL_JSON_CHECK_H

#include <jansson.h>
#include <stdbool.h>

/* True when a string or object key, built through the C API (json_stringn, json_object_setn), hides a NUL byte.
 * JSON text cannot carry one through engram (the JSON interface rejects \u0000), so the stores never hold one
 * either, and they read their records back without JSON_ALLOW_NUL. */
bool eg_json_has_hidden_nul(json_t *value);

#endif
