/* json_shapes.c — the JSON shapes of store values (see json_shapes.h). */
#include "model/json_shapes.h"
#include "util/json_text.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *eg_node_json(const eg_node *n) {
    if (n->properties)
        return json_pack("{s:s, s:s, s:O}", "id", n->id, "label", eg_label_name(n->label), "properties",
                         n->properties);
    return json_pack("{s:s, s:s}", "id", n->id, "label", eg_label_name(n->label));
}

json_t *eg_relationship_json(const eg_relationship *r) {
    return json_pack("{s:s, s:s, s:s, s:O}", "source_id", r->source_id, "target_id", r->target_id, "type",
                     eg_rel_type_name(r->type), "properties", r->properties);
}

json_t *eg_relationship_list_json(const eg_relationship_list *list) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < list->count; i++)
        if (json_array_append_new(a, eg_relationship_json(&list->items[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* One element of a vector as a float. A JSON number can be finite as a double yet beyond the float range (1e39),
 * where the conversion would give infinity (formally, undefined behaviour): such values are refused by name. */
eg_status eg_float_from_json(json_t *value, const char *what, size_t i, float *out, eg_error *err) {
    if (!json_is_number(value)) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s[%zu] must be a number", what, i);
    double d = json_number_value(value);
    if (fabs(d) > FLT_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s[%zu] = %g is not finite as a 32-bit float (max %g)", what,
                            i, d, (double)FLT_MAX);
    *out = (float)d;
    return EG_OK;
}

/* A JSON array of numbers (integers allowed) as new float values (free()); *values is NULL on failure. */
eg_status eg_floats_from_json(json_t *array, const char *what, float **values, size_t *count, eg_error *err) {
    size_t n = json_array_size(array);
    float *out = malloc((n ? n : 1) * sizeof *out);
    eg_status st = out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n && st == EG_OK; i++) st = eg_float_from_json(json_array_get(array, i), what, i, &out[i], err);
    if (st) {
        free(out);
        out = NULL;
    }
    *values = out;
    *count = n;
    return st;
}

void eg_sparse_vector_clear(eg_sparse_vector *s) {
    free(s->indices);
    free(s->values);
    *s = (eg_sparse_vector){.count = 0};
}

eg_status eg_sparse_from_json(json_t *object, const char *what, eg_sparse_vector *out, eg_error *err) {
    *out = (eg_sparse_vector){.count = 0};
    const char *key;
    json_t *member;
    if (!json_is_object(object)) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s must be a JSON object", what);
    json_object_foreach(object, key, member) {
        if (strcmp(key, "indices") != 0 && strcmp(key, "values") != 0)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: unknown field '%.64s'", what, key);
    }
    json_t *indices = json_object_get(object, "indices"), *values = json_object_get(object, "values");
    const char *const names[] = {"indices", "values"};
    json_t *const members[] = {indices, values};
    for (size_t m = 0; m < 2; m++) {
        if (!members[m] || json_is_null(members[m]))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: argument '%s' is required", what, names[m]);
        if (!json_is_array(members[m]))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: argument '%s' must be an array", what, names[m]);
    }
    size_t n = json_array_size(indices), value_count;
    if (json_array_size(values) != n)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: indices has %zu entries and values %zu: they must pair up",
                            what, n, json_array_size(values));
    char values_what[96];
    snprintf(values_what, sizeof values_what, "%.80s.values", what);
    eg_status st = eg_floats_from_json(values, values_what, &out->values, &value_count, err);
    if (st) return st;
    if (!(out->indices = malloc((n ? n : 1) * sizeof *out->indices))) {
        eg_sparse_vector_clear(out);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *index = json_array_get(indices, i);
        if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > UINT32_MAX) {
            eg_sparse_vector_clear(out);
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.indices[%zu] must be an integer from 0 to %u", what, i,
                                UINT32_MAX);
        }
        out->indices[i] = (uint32_t)json_integer_value(index);
    }
    out->count = n;
    return EG_OK;
}

json_t *eg_floats_json(const float *values, size_t count) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < count; i++)
        if (json_array_append_new(a, eg_json_float(values[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *eg_sparse_json(const eg_sparse_vector *s) {
    json_t *indices = json_array();
    for (size_t i = 0; indices && i < s->count; i++)
        if (json_array_append_new(indices, json_integer(s->indices[i])) != 0) {
            json_decref(indices);
            indices = NULL;
        }
    return json_pack("{s:o, s:o}", "indices", indices, "values", eg_floats_json(s->values, s->count));
}

/* A point as Qdrant's Record (with a score, its ScoredPoint): the payload when it was asked for ({} for none),
 * the vectors when they were fetched. */
json_t *eg_point_json(const eg_point *p, json_t *score, bool with_payload) {
    json_t *j = json_object();
    if (!j || json_object_set_new(j, "id", eg_point_id_to_json(&p->id))) {
        json_decref(score);
        json_decref(j);
        return NULL;
    }
    if ((score && json_object_set_new(j, "score", score)) ||
        (with_payload && json_object_set_new(j, "payload", p->payload ? json_incref(p->payload) : json_object())) ||
        (p->vector && json_object_set_new(j, "vector", eg_floats_json(p->vector, p->dim))) ||
        (p->sparse.count && json_object_set_new(j, "sparse_vector", eg_sparse_json(&p->sparse)))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

