/* qdrant_request.c — reading a Qdrant request as Qdrant does (qdrant_shapes.h, "Request bodies"): its error
 * answers (400 for a body that does not deserialise, 422 for one that breaks a validation rule, 400 "Wrong input"
 * for what engram does not support), body members, query parameters, point ids and filters, and the operation
 * ids of UpdateResult. */
#include "serve/qdrant_shapes.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static eg_status prefixed(unsigned *http_status, unsigned status, eg_error *err, const char *prefix,
                          const char *suffix, const char *fmt, va_list ap) {
    char detail[EG_ERROR_MESSAGE_MAX];
    vsnprintf(detail, sizeof detail, fmt, ap);
    *http_status = status;
    return eg_error_set(err, EG_INVALID_ARGUMENT, "%s%s%s", prefix, detail, suffix);
}

eg_status eg_qdrant_format_error(unsigned *http_status, eg_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    eg_status st = prefixed(http_status, 400, err, "Format error in JSON body: ", "", fmt, ap);
    va_end(ap);
    return st;
}

eg_status eg_qdrant_validation_error(unsigned *http_status, eg_error *err, const char *field, const char *fmt, ...) {
    char prefix[160];
    snprintf(prefix, sizeof prefix, "Validation error in JSON body: [%.100s: ", field);
    va_list ap;
    va_start(ap, fmt);
    eg_status st = prefixed(http_status, 422, err, prefix, "]", fmt, ap);
    va_end(ap);
    return st;
}

eg_status eg_qdrant_unsupported(unsigned *http_status, eg_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    eg_status st = prefixed(http_status, 400, err, "Wrong input: ", "", fmt, ap);
    va_end(ap);
    return st;
}

eg_status eg_qdrant_store_failure(eg_status st, const eg_error *inner, unsigned *http_status, eg_error *err) {
    if (st == EG_INVALID_ARGUMENT) return eg_qdrant_unsupported(http_status, err, "%s", inner->message);
    if (err) *err = *inner;
    return st;
}

static bool allowed_name(const char *const *allowed, const char *name) {
    for (; *allowed; allowed++)
        if (strcmp(*allowed, name) == 0) return true;
    return false;
}

eg_status eg_qdrant_check_members(json_t *object, const char *where, const char *const *allowed,
                                  unsigned *http_status, eg_error *err) {
    if (!json_is_object(object)) return eg_qdrant_format_error(http_status, err, "%s must be a JSON object", where);
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        if (!allowed_name(allowed, key))
            return eg_qdrant_format_error(http_status, err, "unknown field `%.64s` in %s", key, where);
    }
    return EG_OK;
}

eg_status eg_qdrant_body(json_t *body, const char *const *allowed, json_t **out, unsigned *http_status,
                         eg_error *err) {
    *out = body;
    return body ? eg_qdrant_check_members(body, "the request body", allowed, http_status, err) : EG_OK;
}

eg_status eg_qdrant_refuse_members(json_t *object, const char *const *names, unsigned *http_status, eg_error *err) {
    for (; *names; names++) {
        json_t *value = json_object_get(object, *names);
        if (value && !json_is_null(value))
            return eg_qdrant_unsupported(http_status, err, "`%s` is not supported by engram", *names);
    }
    return EG_OK;
}

static eg_status timeout_param(const eg_http_request *req, unsigned *http_status, eg_error *err) {
    const char *timeout = eg_http_param_get(req, "timeout");
    if (!timeout) return EG_OK;
    char *end;
    unsigned long long seconds = strtoull(timeout, &end, 10);
    if (!*timeout || *end || timeout[0] == '-' || seconds == 0) {
        *http_status = 400;
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "Deserialize error in query parameters: timeout must be a whole number of seconds, at "
                            "least 1 (got '%.32s')",
                            timeout);
    }
    return EG_OK;
}

eg_status eg_qdrant_write_params(const eg_http_request *req, unsigned *http_status, eg_error *err) {
    bool wait = false;
    eg_error inner;
    if (eg_http_param_bool(req, "wait", &wait, &inner) != EG_OK) {
        *http_status = 400;
        return eg_error_set(err, EG_INVALID_ARGUMENT, "Deserialize error in query parameters: %s", inner.message);
    }
    const char *ordering = eg_http_param_get(req, "ordering");
    if (ordering && strcmp(ordering, "weak") != 0 && strcmp(ordering, "medium") != 0 && strcmp(ordering, "strong") != 0) {
        *http_status = 400;
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "Deserialize error in query parameters: unknown variant `%.32s`, expected one of `weak`, "
                            "`medium`, `strong`",
                            ordering);
    }
    return timeout_param(req, http_status, err);
}

eg_status eg_qdrant_read_params(const eg_http_request *req, unsigned *http_status, eg_error *err) {
    const char *consistency = eg_http_param_get(req, "consistency");
    if (consistency && strcmp(consistency, "majority") != 0 && strcmp(consistency, "quorum") != 0 &&
        strcmp(consistency, "all") != 0) {
        char *end;
        unsigned long long n = strtoull(consistency, &end, 10);
        if (!*consistency || *end || consistency[0] == '-' || n == 0) {
            *http_status = 400;
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "Deserialize error in query parameters: consistency must be a number of replicas "
                                "(at least 1), majority, quorum or all (got '%.32s')",
                                consistency);
        }
    }
    return timeout_param(req, http_status, err);
}

eg_status eg_qdrant_point_ids(json_t *value, const char *what, eg_point_id **ids, size_t *count,
                              unsigned *http_status, eg_error *err) {
    *ids = NULL;
    *count = 0;
    if (!json_is_array(value)) return eg_qdrant_format_error(http_status, err, "%s must be a list of point ids", what);
    size_t n = json_array_size(value);
    if (n > EG_VECTOR_BATCH_MAX)
        return eg_qdrant_unsupported(http_status, err, "%s holds %zu ids; engram takes at most %d in one request", what,
                                     n, EG_VECTOR_BATCH_MAX);
    eg_point_id *out = calloc(n ? n : 1, sizeof *out);
    if (!out) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        eg_error inner;
        if (eg_point_id_from_json(json_array_get(value, i), &out[i], &inner) != EG_OK) {
            free(out);
            return eg_qdrant_format_error(http_status, err, "%s[%zu]: %s", what, i, inner.message);
        }
    }
    *ids = out;
    *count = n;
    return EG_OK;
}

eg_status eg_qdrant_filter(json_t *value, eg_filter **out, unsigned *http_status, eg_error *err) {
    *out = NULL;
    if (!value || json_is_null(value)) return EG_OK;
    eg_error inner;
    if (eg_filter_parse(value, out, &inner) != EG_OK)
        return eg_qdrant_format_error(http_status, err, "filter: %s", inner.message);
    return EG_OK;
}

json_t *eg_qdrant_update_result(void) {
    static atomic_ullong next_operation_id;
    unsigned long long id = atomic_fetch_add(&next_operation_id, 1);
    return json_pack("{s:I, s:s}", "operation_id", (json_int_t)id, "status", "completed");
}
