/* qdrant_codec.c — the JSON shapes the Qdrant backend sends and reads: point ids, dense and sparse vectors (plain
 * for a collection's unnamed vector, under their names otherwise), points, records and scored points. */
#include "vector/qdrant/qdrant_internal.h"

#include "model/json_shapes.h"

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

json_t *qdrant_point_vector_json(const qdrant_layout *layout, const float *vector, size_t dim,
                                 const eg_sparse_vector *sparse) {
    json_t *dense = eg_floats_json(vector, dim);
    bool with_sparse = sparse && sparse->count > 0 && layout->sparse[0];
    if (!dense || (!layout->dense[0] && !with_sparse)) return dense;
    json_t *named = json_object();
    if (!named || json_object_set_new(named, layout->dense, dense) != 0 ||
        (with_sparse && json_object_set_new(named, layout->sparse, eg_sparse_json(sparse)) != 0)) {
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
    eg_error inner;
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        eg_floats_from_json(list, "vector", &p->vector, &p->dim, &inner) != EG_OK)
        return malformed(err, "dense vector");
    return EG_OK;
}

static eg_status sparse_from_json(json_t *object, eg_sparse_vector *out, eg_error *err) {
    eg_error inner;
    return eg_sparse_from_json(object, "sparse vector", out, &inner) == EG_OK ? EG_OK : malformed(err, "sparse vector");
}

/* The "vector" member of a record: an array for an unnamed vector, else an object keyed by the layout's names. */
static eg_status vectors_from_json(const qdrant_layout *layout, json_t *vector, eg_point *p, eg_error *err) {
    if (json_is_array(vector))
        return layout->dense[0] ? malformed(err, "point vector") : dense_from_json(vector, p, err);
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
