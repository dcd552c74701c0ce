/* json_check.c — see json_check.h. */
#include "util/json_check.h"
#include "util/json_text.h"

#include <stdlib.h>
#include <string.h>

const eg_json_limits eg_json_user_limits = {EG_JSON_DEPTH_MAX, EG_JSON_DOCUMENT_MAX, EG_PROPERTY_COUNT_MAX};

/* What a walk found. `bound` is at least the length of the compact JSON text: every byte of a string or key
 * counted as an escape could write it (\u00XX: 6), every number at its longest; it decides, without encoding,
 * the common case of a document far below the byte limit. */
typedef struct walk {
    size_t max_depth;
    size_t bound;
    bool hidden_nul;
} walk;

#define NUMBER_TEXT_MAX 32 /* "%.17g" of a double, or a 64-bit integer, with its sign */

static size_t escaped_bound(size_t length) { return 2 + 6 * length; }

/* Returns false to stop: too deep, or a hidden NUL. */
static bool walk_value(json_t *v, size_t level, walk *w) {
    if (json_is_string(v)) {
        size_t length = json_string_length(v);
        w->bound += escaped_bound(length);
        if (strlen(json_string_value(v)) != length) w->hidden_nul = true;
        return !w->hidden_nul;
    }
    if (json_is_array(v) || json_is_object(v)) {
        if (level > w->max_depth) return false;
        w->bound += 2;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            w->bound += 1;
            if (!walk_value(item, level + 1, w)) return false;
        }
        return true;
    }
    if (json_is_object(v)) {
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
            size_t length = json_object_iter_key_len(it);
            w->bound += escaped_bound(length) + 2;
            if (strlen(json_object_iter_key(it)) != length) {
                w->hidden_nul = true;
                return false;
            }
            if (!walk_value(json_object_iter_value(it), level + 1, w)) return false;
        }
        return true;
    }
    w->bound += NUMBER_TEXT_MAX; /* number, true, false, null */
    return true;
}

eg_status eg_json_check_document(json_t *doc, const eg_json_limits *limits, const char *what, eg_error *err) {
    if (!doc) return EG_OK;
    if (limits->members && json_is_object(doc) && json_object_size(doc) > limits->members)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s has %zu keys: at most %zu", what, json_object_size(doc),
                            limits->members);
    walk w = {.max_depth = limits->depth};
    if (!walk_value(doc, 1, &w)) {
        if (w.hidden_nul) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s holds a string with a NUL character", what);
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s is nested more than %zu levels deep", what, limits->depth);
    }
    if (w.bound > limits->bytes) {
        /* Only a document near the limit gets here: encoding it once says exactly. */
        char *text = eg_json_text(doc, JSON_COMPACT);
        if (!text) return eg_error_set(err, EG_INTERNAL, "out of memory");
        size_t bytes = strlen(text);
        free(text);
        if (bytes > limits->bytes)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s is too large: %zu bytes of JSON, at most %zu", what,
                                bytes, limits->bytes);
    }
    return EG_OK;
}
