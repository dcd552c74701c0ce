/* args.c — typed, strict readers for operation arguments (see exec_internal.h). */
#include "exec/exec_internal.h"

#include <string.h>

static eg_status missing(const char *name, eg_error *err) {
    return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' is required", name);
}

static json_t *present(json_t *args, const char *name) {
    json_t *v = json_object_get(args, name);
    return json_is_null(v) ? NULL : v;
}

eg_status eg_arg_string(json_t *args, const char *name, bool required, const char **out, eg_error *err) {
    json_t *v = present(args, name);
    if (!v) return required ? missing(name, err) : EG_OK;
    if (!json_is_string(v)) return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' must be a string", name);
    *out = json_string_value(v);
    return EG_OK;
}

eg_status eg_arg_int(json_t *args, const char *name, bool required, long long min, long long max, long long *out,
                     eg_error *err) {
    json_t *v = present(args, name);
    if (!v) return required ? missing(name, err) : EG_OK;
    if (!json_is_integer(v))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' must be an integer", name);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' must be from %lld to %lld, got %lld", name, min,
                            max, (long long)n);
    *out = n;
    return EG_OK;
}

eg_status eg_arg_number(json_t *args, const char *name, bool required, double *out, eg_error *err) {
    json_t *v = present(args, name);
    if (!v) return required ? missing(name, err) : EG_OK;
    if (!json_is_number(v)) return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' must be a number", name);
    *out = json_number_value(v);
    return EG_OK;
}

eg_status eg_arg_object(json_t *args, const char *name, bool required, json_t **out, eg_error *err) {
    json_t *v = present(args, name);
    if (!v) return required ? missing(name, err) : EG_OK;
    if (!json_is_object(v))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' must be a JSON object", name);
    *out = v;
    return EG_OK;
}

eg_status eg_arg_array(json_t *args, const char *name, bool required, json_t **out, eg_error *err) {
    json_t *v = present(args, name);
    if (!v) return required ? missing(name, err) : EG_OK;
    if (!json_is_array(v)) return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' must be an array", name);
    *out = v;
    return EG_OK;
}

eg_status eg_arg_value(json_t *args, const char *name, json_t **out, eg_error *err) {
    json_t *v = json_object_get(args, name);
    if (!v) return missing(name, err);
    *out = v;
    return EG_OK;
}

bool eg_name_in(const char *const *names, const char *name) {
    for (const char *const *n = names; *n; n++)
        if (strcmp(*n, name) == 0) return true;
    return false;
}

eg_status eg_check_fields(json_t *object, const char *const *allowed, eg_error *err) {
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) if (!eg_name_in(allowed, key))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "unknown field '%.64s'", key);
    return EG_OK;
}

eg_status eg_check_batch(json_t *items, size_t max, const char *what, eg_error *err) {
    if (json_array_size(items) > max)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: batch of %zu exceeds the maximum of %zu", what,
                            json_array_size(items), max);
    return EG_OK;
}

eg_status eg_exec_no_memory(eg_error *err) { return eg_error_set(err, EG_INTERNAL, "out of memory"); }

eg_status eg_exec_result(json_t *value, json_t **result, eg_error *err) {
    if (!value) return eg_exec_no_memory(err);
    *result = value;
    return EG_OK;
}

/* A boolean flag; a missing (or null) one keeps the caller's default in *out. */
eg_status eg_arg_bool(json_t *args, const char *name, bool *out, eg_error *err) {
    json_t *v = json_object_get(args, name);
    if (!v || json_is_null(v)) return EG_OK;
    if (!json_is_boolean(v)) return eg_error_set(err, EG_INVALID_ARGUMENT, "argument '%s' must be true or false", name);
    *out = json_is_true(v);
    return EG_OK;
}

/* The `filter` argument compiled (NULL when absent or null); eg_filter_parse names the place of any error. */
eg_status eg_arg_filter(json_t *args, eg_filter **out, eg_error *err) {
    json_t *v = json_object_get(args, "filter");
    *out = NULL;
    return !v || json_is_null(v) ? EG_OK : eg_filter_parse(v, out, err);
}
