/* qdrant_codec.c — the JSON shapes the Qdrant backend sends and reads: point ids, dense and sparse vectors (plain
 * for a collection's unnamed vector, under their names otherwise), points, records and scored points. */
#include "vector/qdrant/qdrant_internal.h"

#include <stdlib.h>
#include <string.h>

eg_status qdrant_id_json(const eg_point_id *id, json_t **out, eg_error *err) {
    if (!id->is_uuid && id->num > (uint64_t)INT64_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "point id %llu is above 2^63-1, which the Qdrant backend cannot send",
                            (unsigned long long)id->num);
    *out = eg_point_id_to_json(id);
    return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

eg_status qdrant_ids_json(const eg_point_id *ids, size_t count, json_t **out, eg_error *err) {
    json_t *list = json_array();
    if (!list) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count; i++) {
        json_t *one;
        eg_status st = qdrant_id_json(&ids[i], &one, err);
        if (st == EG_OK && json_array_append_new(list, one) != 0) st = eg_error_set(err, EG_INTERNAL, "out of memory");
        if (st) {
            json_decref(list);
            return st;
        }
    }
    *out = list;
    return EG_OK;
}

json_t *qdrant_dense_json(const float *vector, size_t dim) {
    json_t *list = json_array();
    for (size_t i = 0; list && i < dim; i++)
        if (json_array_append_new(list, json_real(vector[i])) != 0) {
            json_decref(list);
            return NULL;
        }
    return list;
}

json_t *qdrant_sparse_json(const eg_sparse_vector *sparse) {
    json_t *indices = json_array(), *values = json_array();
    for (size_t i = 0; indices && values && i < sparse->count; i++)
        if (json_array_append_new(indices, json_integer(sparse->indices[i])) != 0 ||
            json_array_append_new(values, json_real(sparse->values[i])) != 0)
            break;
    if (!indices || !values || json_array_size(values) != sparse->count) {
        json_decref(indices);
        json_decref(values);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "indices", indices, "values", values);
}

json_t *qdrant_point_vector_json(const qdrant_layout *layout, const float *vector, size_t dim,
                                 const eg_sparse_vector *sparse) {
    json_t *dense = qdrant_dense_json(vector, dim);
    bool with_sparse = sparse && sparse->count > 0 && layout->sparse[0];
    if (!dense || (!layout->dense[0] && !with_sparse)) return dense;
    json_t *named = json_object();
    if (!named || json_object_set_new(named, layout->dense, dense) != 0 ||
        (with_sparse && json_object_set_new(named, layout->sparse, qdrant_sparse_json(sparse)) != 0)) {
        json_decref(named);
        return NULL;
    }
    return named;
}

eg_status qdrant_point_json(const qdrant_layout *layout, const eg_point *p, json_t **out, eg_error *err) {
    if (p->sparse.count > 0 && !layout->sparse[0])
        return eg_error_set(err, EG_INVALID_ARGUMENT, "the collection was created without sparse vectors");
    json_t *id;
    eg_status st = qdrant_id_json(&p->id, &id, err);
    if (st) return st;
    json_t *payload = p->payload ? json_incref(p->payload) : json_object();
    *out = json_pack("{s:o, s:o, s:o}", "id", id, "vector",
                     qdrant_point_vector_json(layout, p->vector, p->dim, &p->sparse), "payload", payload);
    return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

static eg_status malformed(eg_error *err, const char *what) {
    return eg_error_set(err, EG_UNAVAILABLE, "qdrant answered a malformed %s", what);
}

static eg_status dense_from_json(json_t *list, eg_point *p, eg_error *err) {
    if (!json_is_array(list) || json_array_size(list) == 0) return malformed(err, "dense vector");
    p->dim = json_array_size(list);
    if (!(p->vector = malloc(p->dim * sizeof *p->vector))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < p->dim; i++) {
        json_t *x = json_array_get(list, i);
        if (!json_is_number(x)) return malformed(err, "dense vector");
        p->vector[i] = (float)json_number_value(x);
    }
    return EG_OK;
}

static eg_status sparse_from_json(json_t *object, eg_sparse_vector *out, eg_error *err) {
    json_t *indices = json_object_get(object, "indices"), *values = json_object_get(object, "values");
    size_t n = json_array_size(indices);
    if (!json_is_array(indices) || !json_is_array(values) || json_array_size(values) != n)
        return malformed(err, "sparse vector");
    if (n == 0) return EG_OK;
    out->indices = malloc(n * sizeof *out->indices);
    out->values = malloc(n * sizeof *out->values);
    if (!out->indices || !out->values) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *index = json_array_get(indices, i), *value = json_array_get(values, i);
        if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > UINT32_MAX ||
            !json_is_number(value))
            return malformed(err, "sparse vector");
        out->indices[i] = (uint32_t)json_integer_value(index);
        out->values[i] = (float)json_number_value(value);
        out->count = i + 1;
    }
    return EG_OK;
}

/* The "vector" member of a record: an array for an unnamed vector, else an object keyed by the layout's names. */
static eg_status vectors_from_json(const qdrant_layout *layout, json_t *vector, eg_point *p, eg_error *err) {
    if (json_is_array(vector)) return layout->dense[0] ? malformed(err, "point vector") : dense_from_json(vector, p, err);
    if (!json_is_object(vector)) return malformed(err, "point vector");
    eg_status st = dense_from_json(json_object_get(vector, layout->dense), p, err);
    json_t *sparse = layout->sparse[0] ? json_object_get(vector, layout->sparse) : NULL;
    if (st == EG_OK && sparse) st = sparse_from_json(sparse, &p->sparse, err);
    return st;
}

eg_status qdrant_point_from_json(const qdrant_layout *layout, json_t *record, bool with_payload, bool with_vectors,
                                 eg_point *p, eg_error *err) {
    memset(p, 0, sizeof *p);
    eg_error inner;
    if (!json_is_object(record) || eg_point_id_from_json(json_object_get(record, "id"), &p->id, &inner) != EG_OK)
        return malformed(err, "point id");
    eg_status st = EG_OK;
    if (with_payload) {
        json_t *payload = json_object_get(record, "payload");
        p->payload = json_is_object(payload) ? json_incref(payload) : json_object();
        if (!p->payload) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    if (st == EG_OK && with_vectors) st = vectors_from_json(layout, json_object_get(record, "vector"), p, err);
    if (st) eg_point_clear(p);
    return st;
}

eg_status qdrant_points_from_json(const qdrant_layout *layout, json_t *list, bool with_payload, bool with_vectors,
                                  eg_point_list *out, eg_error *err) {
    memset(out, 0, sizeof *out);
    if (!json_is_array(list)) return malformed(err, "list of points");
    size_t n = json_array_size(list);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        eg_status st = qdrant_point_from_json(layout, json_array_get(list, i), with_payload, with_vectors,
                                              &out->items[i], err);
        if (st) {
            eg_point_list_free(out);
            return st;
        }
        out->count = i + 1;
    }
    return EG_OK;
}

eg_status qdrant_scored_from_json(const qdrant_layout *layout, json_t *list, bool with_payload, bool with_vectors,
                                  eg_scored_list *out, eg_error *err) {
    memset(out, 0, sizeof *out);
    if (!json_is_array(list)) return malformed(err, "list of scored points");
    size_t n = json_array_size(list);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *record = json_array_get(list, i), *score = json_object_get(record, "score");
        eg_status st = json_is_number(score) ? qdrant_point_from_json(layout, record, with_payload, with_vectors,
                                                                      &out->items[i].point, err)
                                             : malformed(err, "scored point");
        if (st) {
            eg_scored_list_free(out);
            return st;
        }
        out->items[i].score = json_number_value(score);
        out->count = i + 1;
    }
    return EG_OK;
}

void qdrant_set_filter(json_t *body, const eg_filter *filter) {
    if (filter) json_object_set(body, "filter", eg_filter_json(filter));
}
