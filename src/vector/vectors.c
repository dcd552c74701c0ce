/* vectors.c — the eg_vectors_* entry points: validate every argument once, for every backend, then dispatch
 * through the operation table. Dimension checks against a collection's configuration are the backend's (only
 * it knows the collection); everything knowable from the request alone is checked here. session_id is turned
 * into a filter condition here, so backends only ever see filters. */
#include <engram/vectors.h>

#include "util/json_check.h"
#include "vector/filter_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAYLOAD_FIELD_MAX 255

static eg_status check_store(eg_vectors *v, eg_error *err) {
    if (!v || !v->ops) return eg_error_set(err, EG_INVALID_ARGUMENT, "vector store handle is NULL");
    return EG_OK;
}

static eg_status check_collection_name(const char *name, eg_error *err) {
    if (!name || !*name) return eg_error_set(err, EG_INVALID_ARGUMENT, "collection name is empty: 1 to %d bytes",
                                             EG_COLLECTION_NAME_MAX);
    size_t n = strlen(name);
    if (n > EG_COLLECTION_NAME_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "collection name is too long: %zu bytes (max %d)", n,
                            EG_COLLECTION_NAME_MAX);
    if (strchr(name, '/')) return eg_error_set(err, EG_INVALID_ARGUMENT, "collection name '%.64s' contains '/'", name);
    return EG_OK;
}

static eg_status check_dense(const float *vector, size_t dim, eg_error *err) {
    if (!vector) return eg_error_set(err, EG_INVALID_ARGUMENT, "vector is missing");
    if (dim < 1 || dim > EG_VECTOR_DIM_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "vector has %zu values: 1 to %d allowed", dim, EG_VECTOR_DIM_MAX);
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(vector[i]))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "vector[%zu] is not a finite number", i);
    return EG_OK;
}

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static eg_status check_sparse(const eg_sparse_vector *s, eg_error *err) {
    if (s->count == 0) return EG_OK;
    if (s->count > EG_SPARSE_NNZ_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "sparse vector has %zu entries (max %d)", s->count,
                            EG_SPARSE_NNZ_MAX);
    if (!s->indices || !s->values) return eg_error_set(err, EG_INVALID_ARGUMENT, "sparse vector arrays are missing");
    for (size_t i = 0; i < s->count; i++)
        if (!isfinite(s->values[i]))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "sparse_vector.values[%zu] is not a finite number", i);
    uint32_t *sorted = malloc(s->count * sizeof *sorted);
    if (!sorted) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(sorted, s->indices, s->count * sizeof *sorted);
    qsort(sorted, s->count, sizeof *sorted, compare_u32);
    eg_status st = EG_OK;
    for (size_t i = 1; i < s->count && st == EG_OK; i++)
        if (sorted[i] == sorted[i - 1])
            st = eg_error_set(err, EG_INVALID_ARGUMENT, "sparse_vector.indices holds %u twice", sorted[i]);
    free(sorted);
    return st;
}

static eg_status check_payload(json_t *payload, const char *what, eg_error *err) {
    if (!payload) return EG_OK;
    if (!json_is_object(payload)) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s must be a JSON object", what);
    return eg_json_check_document(payload, &eg_json_user_limits, what, err);
}

static int compare_ids(const void *a, const void *b) { return eg_point_id_compare(a, b); }

/* Rejects an id that appears twice: in one batch, the second would silently win. */
static eg_status check_unique_ids(const eg_point_id *ids, size_t count, eg_error *err) {
    if (count < 2) return EG_OK;
    eg_point_id *sorted = malloc(count * sizeof *sorted);
    if (!sorted) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(sorted, ids, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_ids);
    eg_status st = EG_OK;
    for (size_t i = 1; i < count && st == EG_OK; i++)
        if (eg_point_id_compare(&sorted[i], &sorted[i - 1]) == 0) {
            char text[EG_POINT_ID_TEXT];
            eg_point_id_format(&sorted[i], text);
            st = eg_error_set(err, EG_INVALID_ARGUMENT, "point id %s appears more than once in the batch", text);
        }
    free(sorted);
    return st;
}

static eg_status check_batch(size_t count, const void *items, const char *what, eg_error *err) {
    if (count > EG_VECTOR_BATCH_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: batch of %zu exceeds the maximum of %d", what, count,
                            EG_VECTOR_BATCH_MAX);
    if (count > 0 && !items) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: items are NULL", what);
    return EG_OK;
}

/* Points of an upsert (with_sparse_and_payload) or of update_vectors (id and vector only). */
static eg_status check_points(const eg_point *points, size_t count, bool full, const char *what, eg_error *err) {
    eg_status st = check_batch(count, points, what, err);
    if (st) return st;
    eg_point_id *ids = malloc((count ? count : 1) * sizeof *ids);
    if (!ids) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count && st == EG_OK; i++) { /* the item is named only on failure */
        const eg_point *p = &points[i];
        ids[i] = p->id;
        if ((st = check_dense(p->vector, p->dim, err)) ||
            (full && ((st = check_sparse(&p->sparse, err)) || (st = check_payload(p->payload, "payload", err)))))
            eg_error_prefix(err, st, "points[%zu].", i);
    }
    if (st == EG_OK) st = check_unique_ids(ids, count, err);
    free(ids);
    return st;
}

static eg_status check_ids(const eg_point_id *ids, size_t count, const char *what, eg_error *err) {
    return check_batch(count, ids, what, err);
}

/* session_id is shorthand for a must-match on the payload field "session_id": a new filter, the caller's with
 * that condition added to its `must` (at the same depth, so the nesting limit means the same with or without a
 * session_id). NULL when there is no session_id. */
static eg_status session_filter(const eg_filter *filter, const char *session_id, eg_filter **out, eg_error *err) {
    *out = NULL;
    if (!session_id) return EG_OK;
    if (!*session_id) return eg_error_set(err, EG_INVALID_ARGUMENT, "session_id is empty");
    json_t *combined = filter ? json_deep_copy(eg_filter_json(filter)) : json_object();
    json_t *condition = json_pack("{s:s, s:{s:s}}", "key", "session_id", "match", "value", session_id);
    json_t *must = json_object_get(combined, "must");
    if (must && !json_is_array(must)) { /* Qdrant's single-condition form */
        json_t *one = json_incref(must);
        json_object_set_new(combined, "must", must = json_array());
        json_array_append_new(must, one);
    }
    if (!must) json_object_set_new(combined, "must", must = json_array());
    eg_status st = combined && condition && must && json_array_append(must, condition) == 0
                       ? eg_filter_parse(combined, out, err)
                       : eg_error_set(err, EG_INTERNAL, "out of memory");
    json_decref(condition);
    json_decref(combined);
    return st;
}

static eg_status check_limit(size_t limit, size_t offset, eg_error *err) {
    if (limit < 1 || limit > EG_SEARCH_LIMIT_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "limit must be from 1 to %d, got %zu", EG_SEARCH_LIMIT_MAX, limit);
    if (offset > EG_SEARCH_LIMIT_MAX - limit)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "limit + offset must be at most %d", EG_SEARCH_LIMIT_MAX);
    return EG_OK;
}

static eg_status check_threshold(bool has, double threshold, eg_error *err) {
    if (has && !isfinite(threshold))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "score_threshold must be a finite number");
    return EG_OK;
}

/* The index parameters of a collection (0: the default); full_scan_threshold takes any value. */
static eg_status check_index_config(const eg_collection_config *config, eg_error *err) {
    if (config->hnsw_m != 0 && (config->hnsw_m < 2 || config->hnsw_m > EG_HNSW_M_MAX))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw_m must be from 2 to %d (0: the default, %d), got %u",
                            EG_HNSW_M_MAX, EG_HNSW_M_DEFAULT, config->hnsw_m);
    if (config->hnsw_ef_construct != 0 &&
        (config->hnsw_ef_construct < 4 || config->hnsw_ef_construct > EG_HNSW_EF_CONSTRUCT_MAX))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "hnsw_ef_construct must be from 4 to %d (0: the default, %d), got %u",
                            EG_HNSW_EF_CONSTRUCT_MAX, EG_HNSW_EF_CONSTRUCT_DEFAULT, config->hnsw_ef_construct);
    if ((unsigned)config->quantization > EG_QUANTIZATION_INT8)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid quantization %d: none (0) or int8 (1)",
                            (int)config->quantization);
    return EG_OK;
}

/* How a search ranks (eg_search_params; 0: the default for hnsw_ef and oversampling). */
static eg_status check_search_params(const eg_search_params *p, eg_error *err) {
    if (p->hnsw_ef > EG_SEARCH_LIMIT_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "params.hnsw_ef must be from 1 to %d (0: the default, %d), got %zu", EG_SEARCH_LIMIT_MAX,
                            EG_HNSW_EF_DEFAULT, p->hnsw_ef);
    if (p->oversampling != 0 &&
        !(isfinite(p->oversampling) && p->oversampling >= 1.0 && p->oversampling <= EG_OVERSAMPLING_MAX))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "params.oversampling must be a finite number from 1 to %g (0: the default, 1), got %g",
                            EG_OVERSAMPLING_MAX, p->oversampling);
    return EG_OK;
}

eg_status eg_vectors_create_collection(eg_vectors *v, const char *name, const eg_collection_config *config,
                                       eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(name, err))) return st;
    if (!config) return eg_error_set(err, EG_INVALID_ARGUMENT, "collection configuration is missing");
    if (config->dim < 1 || config->dim > EG_VECTOR_DIM_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "dim must be from 1 to %d, got %u", EG_VECTOR_DIM_MAX,
                            config->dim);
    if ((unsigned)config->distance > EG_DISTANCE_MANHATTAN)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid distance %d", (int)config->distance);
    if ((st = check_index_config(config, err))) return st;
    return v->ops->create_collection(v, name, config, err);
}

eg_status eg_vectors_get_collection(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(name, err))) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "get_collection: out is NULL");
    memset(out, 0, sizeof *out);
    return v->ops->get_collection(v, name, out, err);
}

eg_status eg_vectors_list_collections(eg_vectors *v, eg_string_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err))) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "list_collections: out is NULL");
    memset(out, 0, sizeof *out);
    return v->ops->list_collections(v, out, err);
}

eg_status eg_vectors_delete_collection(eg_vectors *v, const char *name, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(name, err))) return st;
    return v->ops->delete_collection(v, name, err);
}

eg_status eg_vectors_create_payload_index(eg_vectors *v, const char *collection, const char *field,
                                          eg_payload_type type, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err))) return st;
    if (!field || !*field || strlen(field) > PAYLOAD_FIELD_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "field must be a key path of 1 to %d bytes", PAYLOAD_FIELD_MAX);
    eg_key_path path; /* the same syntax as a filter's keys, so that filters find the index */
    if ((st = eg_key_path_parse(field, strlen(field), "field", &path, err))) return st;
    eg_key_path_clear(&path);
    if ((unsigned)type > EG_PAYLOAD_BOOL) return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid payload index type");
    return v->ops->create_payload_index(v, collection, field, type, err);
}

eg_status eg_vectors_delete_payload_index(eg_vectors *v, const char *collection, const char *field, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err))) return st;
    if (!field || !*field || strlen(field) > PAYLOAD_FIELD_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "field must be a key path of 1 to %d bytes", PAYLOAD_FIELD_MAX);
    eg_key_path path; /* a field no index could have been created on is a mistake worth naming */
    if ((st = eg_key_path_parse(field, strlen(field), "field", &path, err))) return st;
    eg_key_path_clear(&path);
    return v->ops->delete_payload_index(v, collection, field, err);
}

eg_status eg_vectors_upsert(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                            eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err)) ||
        (st = check_points(points, count, true, "upsert", err)))
        return st;
    return v->ops->upsert(v, collection, points, count, err); /* even empty: an unknown collection is an error */
}

eg_status eg_vectors_get(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                         bool with_payload, bool with_vectors, eg_point_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err)) ||
        (st = check_ids(ids, count, "get", err)))
        return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "get: out is NULL");
    memset(out, 0, sizeof *out);
    return v->ops->get(v, collection, ids, count, with_payload, with_vectors, out, err);
}

eg_status eg_vectors_set_payload(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                 json_t *payload, eg_payload_mode mode, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err)) ||
        (st = check_ids(ids, count, "set_payload", err)))
        return st;
    if (!payload) return eg_error_set(err, EG_INVALID_ARGUMENT, "payload is missing");
    if ((st = check_payload(payload, "payload", err))) return st;
    if (mode != EG_PAYLOAD_MERGE && mode != EG_PAYLOAD_OVERWRITE)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid payload mode %d", (int)mode);
    return v->ops->set_payload(v, collection, ids, count, payload, mode, err);
}

eg_status eg_vectors_delete_payload_keys(eg_vectors *v, const char *collection, const eg_point_id *ids,
                                         size_t count, const char *const *keys, size_t key_count, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err)) ||
        (st = check_ids(ids, count, "delete_payload_keys", err)) ||
        (st = check_batch(key_count, keys, "delete_payload_keys: keys", err)))
        return st;
    for (size_t i = 0; i < key_count; i++)
        if (!keys[i] || !*keys[i]) return eg_error_set(err, EG_INVALID_ARGUMENT, "keys[%zu] is empty", i);
    return v->ops->delete_payload_keys(v, collection, ids, count, keys, key_count, err);
}

eg_status eg_vectors_update_vectors(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                                    eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err)) ||
        (st = check_points(points, count, false, "update_vectors", err)))
        return st;
    return v->ops->update_vectors(v, collection, points, count, err);
}

eg_status eg_vectors_delete(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                            const eg_filter *filter, uint64_t *deleted, eg_error *err) {
    eg_status st;
    uint64_t ignored;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err)) ||
        (st = check_ids(ids, count, "delete", err)))
        return st;
    if ((ids != NULL) == (filter != NULL))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "delete takes either ids or a filter, not both or neither");
    return v->ops->delete_points(v, collection, ids, count, filter, deleted ? deleted : &ignored, err);
}

eg_status eg_vectors_count(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out,
                           eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err))) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "count: out is NULL");
    return v->ops->count(v, collection, filter, out, err);
}

eg_status eg_vectors_scroll(eg_vectors *v, const char *collection, const eg_scroll_request *request,
                            eg_point_list *out, eg_point_id *next_offset, bool *has_next, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err))) return st;
    if (!request || !out || !next_offset || !has_next)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "scroll: request or outputs are NULL");
    if ((st = check_limit(request->limit, 0, err))) return st;
    memset(out, 0, sizeof *out);
    *has_next = false;
    return v->ops->scroll(v, collection, request, out, next_offset, has_next, err);
}

eg_status eg_vectors_search(eg_vectors *v, const char *collection, const eg_search_request *request,
                            eg_scored_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err))) return st;
    if (!request || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "search: request or out is NULL");
    if ((st = check_dense(request->vector, request->dim, err)) || (st = check_limit(request->limit, request->offset, err)) ||
        (st = check_threshold(request->has_score_threshold, request->score_threshold, err)) ||
        (st = check_search_params(&request->params, err)))
        return st;
    memset(out, 0, sizeof *out);
    eg_filter *combined;
    if ((st = session_filter(request->filter, request->session_id, &combined, err))) return st;
    eg_search_request effective = *request;
    if (combined) effective.filter = combined, effective.session_id = NULL;
    st = v->ops->search(v, collection, &effective, out, err);
    eg_filter_free(combined);
    return st;
}

eg_status eg_vectors_search_hybrid(eg_vectors *v, const char *collection, const eg_hybrid_request *request,
                                   eg_scored_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_store(v, err)) || (st = check_collection_name(collection, err))) return st;
    if (!request || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "search_hybrid: request or out is NULL");
    if ((st = check_dense(request->vector, request->dim, err)) ||
        (st = eg_error_prefix(err, check_sparse(&request->sparse, err), "sparse query: ")) ||
        (st = check_limit(request->limit, 0, err)) ||
        (st = check_threshold(request->has_score_threshold, request->score_threshold, err)) ||
        (st = check_search_params(&request->params, err)))
        return st;
    if (request->sparse.count == 0)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "search_hybrid needs a non-empty sparse query");
    memset(out, 0, sizeof *out);
    eg_filter *combined;
    if ((st = session_filter(request->filter, request->session_id, &combined, err))) return st;
    eg_hybrid_request effective = *request;
    if (combined) effective.filter = combined, effective.session_id = NULL;
    st = v->ops->search_hybrid(v, collection, &effective, out, err);
    eg_filter_free(combined);
    return st;
}

void eg_vectors_close(eg_vectors *v) {
    if (v && v->ops) v->ops->close(v);
}
