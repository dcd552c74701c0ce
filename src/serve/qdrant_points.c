/* qdrant_points.c — Qdrant's point routes: upsert (list and batch forms), retrieve (by ids, one by path), delete,
 * set / overwrite / delete / clear payload, update and delete vectors, the batch update endpoint, scroll and
 * count.
 *
 * Every write is read whole into a point_op before anything changes, so that a malformed request, or a malformed
 * operation anywhere in a batch, changes nothing; each op is then applied with the store's own all-or-nothing
 * calls (docs/serve.md says where an op spans several of them). Selectors by filter are resolved into the ids
 * that match when the op runs. */
#include "serve/qdrant_shapes.h"

#include "vector/filter_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_SCROLL_LIMIT 10

/* The collection a request works on. */
typedef struct target {
    eg_vectors *v;
    eg_collection_info info;
    eg_qdrant_layout layout;
} target;

/* The points an op applies to: ids, or those matching a filter. */
typedef struct point_selector {
    eg_point_id *ids;
    size_t count;
    eg_filter *filter; /* when not NULL, ids is unused */
} point_selector;

typedef enum point_op_kind {
    OP_UPSERT = 0,
    OP_DELETE,
    OP_SET_PAYLOAD,
    OP_OVERWRITE_PAYLOAD,
    OP_DELETE_PAYLOAD,
    OP_CLEAR_PAYLOAD,
    OP_UPDATE_VECTORS,
    OP_DELETE_VECTORS
} point_op_kind;

/* One write, read whole. */
typedef struct point_op {
    point_op_kind kind;
    eg_point *points;       /* upsert, update_vectors */
    size_t point_count;
    bool *dense_given;      /* update_vectors: per point */
    bool *sparse_given;
    point_selector selector; /* every kind but upsert and update_vectors */
    json_t *payload;        /* set and overwrite: a reference */
    char **keys;            /* delete_payload: top-level keys */
    size_t key_count;
} point_op;

static void op_clear(point_op *op) {
    for (size_t i = 0; i < op->point_count; i++) eg_point_clear(&op->points[i]);
    free(op->points);
    free(op->dense_given);
    free(op->sparse_given);
    free(op->selector.ids);
    eg_filter_free(op->selector.filter);
    json_decref(op->payload);
    for (size_t i = 0; i < op->key_count; i++) free(op->keys[i]);
    free(op->keys);
    *op = (point_op){.kind = op->kind};
}

/* ---- Reading ops ------------------------------------------------------------------------------------------- */

static eg_status read_selector(json_t *object, const char *where, point_selector *out, unsigned *http_status,
                               eg_error *err) {
    json_t *points = json_object_get(object, "points"), *filter = json_object_get(object, "filter");
    bool has_points = points && !json_is_null(points), has_filter = filter && !json_is_null(filter);
    if (has_points && has_filter)
        return eg_qdrant_unsupported(http_status, err, "%s: give either `points` or `filter`, not both", where);
    if (has_points) return eg_qdrant_point_ids(points, "points", &out->ids, &out->count, http_status, err);
    if (has_filter) return eg_qdrant_filter(filter, &out->filter, http_status, err);
    return eg_qdrant_format_error(http_status, err, "%s: `points` (a list of ids) or `filter` is required", where);
}

static const char *const point_members[] = {"id", "vector", "payload", NULL};

static eg_status read_payload_member(json_t *value, const char *where, json_t **out, unsigned *http_status,
                                     eg_error *err) {
    *out = NULL;
    if (!value || json_is_null(value)) return EG_OK;
    if (!json_is_object(value)) return eg_qdrant_format_error(http_status, err, "%s must be a JSON object", where);
    *out = json_incref(value);
    return EG_OK;
}

/* One point: its id, its vectors by the collection's layout, its payload. */
static eg_status read_point(json_t *item, size_t i, const target *t, eg_point *p, unsigned *http_status,
                            eg_error *err) {
    char where[48];
    snprintf(where, sizeof where, "points[%zu]", i);
    eg_status st = eg_qdrant_check_members(item, where, point_members, http_status, err);
    if (st) return st;
    json_t *id = json_object_get(item, "id"), *vector = json_object_get(item, "vector");
    if (!id) return eg_qdrant_format_error(http_status, err, "missing field `id` in %s", where);
    if (!vector) return eg_qdrant_format_error(http_status, err, "missing field `vector` in %s", where);
    eg_error inner;
    if (eg_point_id_from_json(id, &p->id, &inner) != EG_OK)
        return eg_qdrant_format_error(http_status, err, "%s.id: %s", where, inner.message);
    if (eg_qdrant_vector_from_json(vector, &t->layout, t->info.config.dim, p, &inner) != EG_OK) {
        *http_status = 400;
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s", inner.message);
    }
    return read_payload_member(json_object_get(item, "payload"), "payload", &p->payload, http_status, err);
}

static eg_status alloc_points(size_t n, point_op *op, eg_error *err) {
    if (!(op->points = calloc(n ? n : 1, sizeof *op->points))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    op->point_count = n;
    return EG_OK;
}

static eg_status check_point_count(size_t n, unsigned *http_status, eg_error *err) {
    if (n > EG_VECTOR_BATCH_MAX)
        return eg_qdrant_unsupported(http_status, err, "%zu points in one request; engram takes at most %d", n,
                                     EG_VECTOR_BATCH_MAX);
    return EG_OK;
}

static eg_status read_points_list(json_t *points, const target *t, point_op *op, unsigned *http_status,
                                  eg_error *err) {
    if (!json_is_array(points)) return eg_qdrant_format_error(http_status, err, "points must be a list");
    size_t n = json_array_size(points);
    eg_status st;
    if ((st = check_point_count(n, http_status, err)) || (st = alloc_points(n, op, err))) return st;
    for (size_t i = 0; i < n && st == EG_OK; i++) st = read_point(json_array_get(points, i), i, t, &op->points[i], http_status, err);
    return st;
}

static const char *const batch_members[] = {"ids", "vectors", "payloads", NULL};

/* The vector of point i in a batch's "vectors": a list of vectors, or a map of names to lists. A new value. */
static json_t *batch_vector(json_t *vectors, size_t i) {
    if (json_is_array(vectors)) return json_incref(json_array_get(vectors, i));
    json_t *named = json_object();
    const char *name;
    json_t *list;
    json_object_foreach(vectors, name, list) {
        if (named && json_object_set(named, name, json_array_get(list, i)) != 0) {
            json_decref(named);
            named = NULL;
        }
    }
    return named;
}

static eg_status read_batch(json_t *batch, const target *t, point_op *op, unsigned *http_status, eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(batch, "batch", batch_members, http_status, err))) return st;
    json_t *ids = json_object_get(batch, "ids"), *vectors = json_object_get(batch, "vectors"),
           *payloads = json_object_get(batch, "payloads");
    if (!ids) return eg_qdrant_format_error(http_status, err, "missing field `ids` in batch");
    if (!vectors) return eg_qdrant_format_error(http_status, err, "missing field `vectors` in batch");
    eg_point_id *id_list;
    size_t n;
    if ((st = eg_qdrant_point_ids(ids, "batch.ids", &id_list, &n, http_status, err))) return st;
    free(id_list); /* read again point by point below; this pass checked their shape and count */
    bool lengths_match = json_is_array(vectors) ? json_array_size(vectors) == n : json_is_object(vectors);
    const char *name;
    json_t *list;
    json_object_foreach(vectors, name, list) lengths_match = lengths_match && json_array_size(list) == n;
    if (!json_is_array(vectors) && !json_is_object(vectors))
        return eg_qdrant_format_error(http_status, err, "batch.vectors must be a list or a map of lists");
    if (!lengths_match || (payloads && !json_is_null(payloads) && json_array_size(payloads) != n))
        return eg_qdrant_validation_error(http_status, err, "batch",
                                          "ids, vectors and payloads must have the same number of entries");
    if (payloads && !json_is_null(payloads) && !json_is_array(payloads))
        return eg_qdrant_format_error(http_status, err, "batch.payloads must be a list");
    if ((st = alloc_points(n, op, err))) return st;
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        json_t *item = json_pack("{s:O, s:o}", "id", json_array_get(ids, i), "vector", batch_vector(vectors, i));
        json_t *payload = json_array_get(payloads, i);
        if (item && payload && !json_is_null(payload)) json_object_set(item, "payload", payload);
        st = item ? read_point(item, i, t, &op->points[i], http_status, err)
                  : eg_error_set(err, EG_INTERNAL, "out of memory");
        json_decref(item);
    }
    return st;
}

static const char *const upsert_members[] = {"points", "batch", "shard_key", "update_filter", "update_mode", NULL};
static const char *const refused_upsert_members[] = {"shard_key", "update_filter", NULL};

static eg_status read_upsert(json_t *body, const target *t, point_op *op, unsigned *http_status, eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(body, "upsert", upsert_members, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_upsert_members, http_status, err)))
        return st;
    const char *mode = json_string_value(json_object_get(body, "update_mode"));
    if (mode && strcmp(mode, "upsert") != 0)
        return eg_qdrant_unsupported(http_status, err, "update_mode %.16s is not supported by engram (only upsert)", mode);
    json_t *points = json_object_get(body, "points"), *batch = json_object_get(body, "batch");
    if (points && batch) return eg_qdrant_format_error(http_status, err, "give either `points` or `batch`, not both");
    if (points) return read_points_list(points, t, op, http_status, err);
    if (batch && json_is_object(batch)) return read_batch(batch, t, op, http_status, err);
    return eg_qdrant_format_error(http_status, err,
                                  "data did not match any variant of untagged enum PointInsertOperations: `points` "
                                  "(a list) or `batch` (an object) is required");
}

static const char *const selector_members[] = {"points", "filter", "shard_key", NULL};
static const char *const refused_shard_key[] = {"shard_key", NULL};

static eg_status read_delete(json_t *body, point_op *op, unsigned *http_status, eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(body, "the selector", selector_members, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_shard_key, http_status, err)))
        return st;
    return read_selector(body, "the selector", &op->selector, http_status, err);
}

static const char *const set_payload_members[] = {"payload", "points", "filter", "shard_key", "key", NULL};
static const char *const refused_set_payload[] = {"shard_key", NULL};

static eg_status read_set_payload(json_t *body, point_op *op, unsigned *http_status, eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(body, "set_payload", set_payload_members, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_set_payload, http_status, err)))
        return st;
    json_t *key = json_object_get(body, "key");
    if (key && !json_is_null(key))
        return eg_qdrant_unsupported(http_status, err,
                                     "`key` (setting the payload under a nested path) is not supported by engram: "
                                     "set the top-level keys");
    json_t *payload = json_object_get(body, "payload");
    if (!payload) return eg_qdrant_format_error(http_status, err, "missing field `payload`");
    if (!json_is_object(payload)) return eg_qdrant_format_error(http_status, err, "payload must be a JSON object");
    op->payload = json_incref(payload);
    return read_selector(body, "set_payload", &op->selector, http_status, err);
}

static const char *const delete_payload_members[] = {"keys", "points", "filter", "shard_key", NULL};

/* Qdrant's keys are JSON paths; engram deletes top-level keys, so a path of one key (quoted or not) is taken and
 * a deeper one refused. */
static eg_status read_delete_payload(json_t *body, point_op *op, unsigned *http_status, eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(body, "delete_payload", delete_payload_members, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_shard_key, http_status, err)))
        return st;
    json_t *keys = json_object_get(body, "keys");
    if (!keys) return eg_qdrant_format_error(http_status, err, "missing field `keys`");
    if (!json_is_array(keys)) return eg_qdrant_format_error(http_status, err, "keys must be a list of strings");
    size_t n = json_array_size(keys);
    if (n > EG_VECTOR_BATCH_MAX)
        return eg_qdrant_unsupported(http_status, err, "%zu keys in one request; engram takes at most %d", n,
                                     EG_VECTOR_BATCH_MAX);
    if (!(op->keys = calloc(n ? n : 1, sizeof *op->keys))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *key = json_array_get(keys, i);
        if (!json_is_string(key)) return eg_qdrant_format_error(http_status, err, "keys[%zu] must be a string", i);
        eg_key_path path;
        eg_error inner;
        if (eg_key_path_parse(json_string_value(key), json_string_length(key), "key", &path, &inner) != EG_OK)
            return eg_qdrant_format_error(http_status, err, "keys[%zu]: %s", i, inner.message);
        bool top_level = path.count == 1 && strlen(path.steps[0].key) == path.steps[0].key_len;
        char *copy = top_level ? strdup(path.steps[0].key) : NULL;
        eg_key_path_clear(&path);
        if (!top_level)
            return eg_qdrant_unsupported(http_status, err,
                                         "keys[%zu] %.64s: deleting a nested payload path is not supported by engram "
                                         "(top-level keys only)",
                                         i, json_string_value(key));
        if (!copy) return eg_error_set(err, EG_INTERNAL, "out of memory");
        op->keys[op->key_count++] = copy;
    }
    return read_selector(body, "delete_payload", &op->selector, http_status, err);
}

static const char *const update_vectors_members[] = {"points", "shard_key", "update_filter", NULL};
static const char *const refused_update_vectors[] = {"shard_key", "update_filter", NULL};
static const char *const point_vectors_members[] = {"id", "vector", NULL};

static eg_status read_update_vectors(json_t *body, const target *t, point_op *op, unsigned *http_status,
                                     eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(body, "update_vectors", update_vectors_members, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_update_vectors, http_status, err)))
        return st;
    json_t *points = json_object_get(body, "points");
    if (!points) return eg_qdrant_format_error(http_status, err, "missing field `points`");
    if (!json_is_array(points)) return eg_qdrant_format_error(http_status, err, "points must be a list");
    size_t n = json_array_size(points);
    if (n == 0) return eg_qdrant_validation_error(http_status, err, "points", "must not be empty");
    if ((st = check_point_count(n, http_status, err)) || (st = alloc_points(n, op, err))) return st;
    op->dense_given = calloc(n, sizeof *op->dense_given);
    op->sparse_given = calloc(n, sizeof *op->sparse_given);
    if (!op->dense_given || !op->sparse_given) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(points, i);
        char where[48];
        snprintf(where, sizeof where, "points[%zu]", i);
        if ((st = eg_qdrant_check_members(item, where, point_vectors_members, http_status, err))) return st;
        json_t *id = json_object_get(item, "id"), *vector = json_object_get(item, "vector");
        if (!id) return eg_qdrant_format_error(http_status, err, "missing field `id` in %s", where);
        if (!vector) return eg_qdrant_format_error(http_status, err, "missing field `vector` in %s", where);
        eg_error inner;
        if (eg_point_id_from_json(id, &op->points[i].id, &inner) != EG_OK)
            return eg_qdrant_format_error(http_status, err, "%s.id: %s", where, inner.message);
        if (eg_qdrant_vector_update_from_json(vector, &t->layout, t->info.config.dim, &op->points[i],
                                              &op->dense_given[i], &op->sparse_given[i], &inner) != EG_OK) {
            *http_status = 400;
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s", inner.message);
        }
    }
    return EG_OK;
}

static const char *const delete_vectors_members[] = {"points", "filter", "vector", "shard_key", NULL};

/* Only the sparse vector can go: every engram point keeps its dense vector. */
static eg_status read_delete_vectors(json_t *body, const target *t, point_op *op, unsigned *http_status,
                                     eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(body, "delete_vectors", delete_vectors_members, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_shard_key, http_status, err)))
        return st;
    json_t *names = json_object_get(body, "vector");
    if (!names) return eg_qdrant_format_error(http_status, err, "missing field `vector`");
    if (!json_is_array(names)) return eg_qdrant_format_error(http_status, err, "vector must be a list of names");
    if (json_array_size(names) == 0) return eg_qdrant_validation_error(http_status, err, "vector", "must not be empty");
    size_t i;
    json_t *name;
    json_array_foreach(names, i, name) {
        const char *text = json_string_value(name);
        if (!text) return eg_qdrant_format_error(http_status, err, "vector[%zu] must be a string", i);
        if (strcmp(text, t->layout.dense) == 0)
            return eg_qdrant_unsupported(http_status, err,
                                         "deleting the dense vector `%.64s` is not supported by engram: every point "
                                         "keeps its dense vector (delete the point, or delete its sparse vector)",
                                         text);
        if (!t->layout.sparse[0] || strcmp(text, t->layout.sparse) != 0)
            return eg_qdrant_unsupported(http_status, err, "Not existing vector name error: %.64s", text);
    }
    return read_selector(body, "delete_vectors", &op->selector, http_status, err);
}

static eg_status read_op(point_op_kind kind, json_t *body, const target *t, point_op *op, unsigned *http_status,
                         eg_error *err) {
    *op = (point_op){.kind = kind};
    if (!json_is_object(body)) return eg_qdrant_format_error(http_status, err, "a JSON object is required");
    switch (kind) {
    case OP_UPSERT: return read_upsert(body, t, op, http_status, err);
    case OP_DELETE:
    case OP_CLEAR_PAYLOAD: return read_delete(body, op, http_status, err);
    case OP_SET_PAYLOAD:
    case OP_OVERWRITE_PAYLOAD: return read_set_payload(body, op, http_status, err);
    case OP_DELETE_PAYLOAD: return read_delete_payload(body, op, http_status, err);
    case OP_UPDATE_VECTORS: return read_update_vectors(body, t, op, http_status, err);
    case OP_DELETE_VECTORS: return read_delete_vectors(body, t, op, http_status, err);
    }
    return eg_error_set(err, EG_INTERNAL, "unknown point operation %d", (int)kind);
}

/* ---- Applying ops ------------------------------------------------------------------------------------------ */

static int by_id(const void *a, const void *b) { return eg_point_id_compare(a, b); }

/* The ids a selector stands for now: its own, or every point its filter matches (a new array). */
static eg_status selected_ids(const target *t, const point_selector *s, eg_point_id **ids, size_t *count,
                              eg_error *err) {
    *ids = NULL;
    *count = 0;
    if (!s->filter) {
        if (!(*ids = malloc((s->count ? s->count : 1) * sizeof **ids))) return eg_error_set(err, EG_INTERNAL, "out of memory");
        memcpy(*ids, s->ids, s->count * sizeof **ids);
        *count = s->count;
        return EG_OK;
    }
    size_t cap = 0;
    eg_point_id next;
    bool has_next = true, started = false;
    eg_status st = EG_OK;
    while (st == EG_OK && has_next) {
        eg_scroll_request request = {.filter = s->filter, .limit = EG_SEARCH_LIMIT_MAX, .offset = started ? &next : NULL};
        eg_point_list page;
        if ((st = eg_vectors_scroll(t->v, t->info.name, &request, &page, &next, &has_next, err))) break;
        started = true;
        if (*count + page.count > cap) {
            cap = (*count + page.count) * 2;
            eg_point_id *grown = realloc(*ids, cap * sizeof *grown);
            if (!grown) st = eg_error_set(err, EG_INTERNAL, "out of memory");
            else *ids = grown;
        }
        for (size_t i = 0; st == EG_OK && i < page.count; i++) (*ids)[(*count)++] = page.items[i].id;
        eg_point_list_free(&page);
    }
    if (st) {
        free(*ids);
        *ids = NULL;
        *count = 0;
    }
    return st;
}

/* Qdrant's 404 for a write naming a point that does not exist: "No point with id N found". */
static eg_status require_points(const target *t, const eg_point_id *ids, size_t count, unsigned *http_status,
                                eg_error *err) {
    eg_point_list found;
    eg_status st = eg_vectors_get(t->v, t->info.name, ids, count, false, false, &found, err);
    if (st) return st;
    eg_point_id *sorted = malloc((found.count ? found.count : 1) * sizeof *sorted);
    if (!sorted) {
        eg_point_list_free(&found);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < found.count; i++) sorted[i] = found.items[i].id;
    qsort(sorted, found.count, sizeof *sorted, by_id);
    for (size_t i = 0; i < count && st == EG_OK; i++)
        if (!bsearch(&ids[i], sorted, found.count, sizeof *sorted, by_id)) {
            char text[EG_POINT_ID_TEXT];
            eg_point_id_format(&ids[i], text);
            *http_status = 404;
            st = eg_error_set(err, EG_NOT_FOUND, "Not found: No point with id %s found", text);
        }
    free(sorted);
    eg_point_list_free(&found);
    return st;
}

/* Runs fn over ids in chunks the store takes in one call. */
typedef eg_status (*chunk_fn)(const target *t, const point_op *op, const eg_point_id *ids, size_t count,
                              eg_error *err);

static eg_status over_chunks(const target *t, const point_op *op, const eg_point_id *ids, size_t count, chunk_fn fn,
                             unsigned *http_status, eg_error *err) {
    for (size_t done = 0; done < count; done += EG_VECTOR_BATCH_MAX) {
        size_t n = count - done < EG_VECTOR_BATCH_MAX ? count - done : EG_VECTOR_BATCH_MAX;
        eg_error inner;
        eg_status st = fn(t, op, ids + done, n, &inner);
        if (st) return eg_qdrant_store_failure(st, &inner, http_status, err);
    }
    return EG_OK;
}

static eg_status set_chunk(const target *t, const point_op *op, const eg_point_id *ids, size_t count, eg_error *err) {
    return eg_vectors_set_payload(t->v, t->info.name, ids, count, op->payload,
                                  op->kind == OP_SET_PAYLOAD ? EG_PAYLOAD_MERGE : EG_PAYLOAD_OVERWRITE, err);
}

static eg_status delete_keys_chunk(const target *t, const point_op *op, const eg_point_id *ids, size_t count,
                                   eg_error *err) {
    return eg_vectors_delete_payload_keys(t->v, t->info.name, ids, count, (const char *const *)op->keys, op->key_count,
                                          err);
}

/* Rewrites whole points (get, change, upsert): for the changes engram has no narrower call for, the sparse
 * vector's. A write to the same points in between would be overwritten (docs/serve.md). */
static eg_status rewrite_sparse(const target *t, const eg_point_id *ids, size_t count, const point_op *op,
                                unsigned *http_status, eg_error *err) {
    eg_point_list list;
    eg_error inner;
    eg_status st = eg_vectors_get(t->v, t->info.name, ids, count, true, true, &list, &inner);
    if (st) return eg_qdrant_store_failure(st, &inner, http_status, err);
    for (size_t i = 0; i < list.count; i++) {
        eg_point *p = &list.items[i];
        free(p->sparse.indices);
        free(p->sparse.values);
        p->sparse = (eg_sparse_vector){.count = 0};
        if (op->kind != OP_UPDATE_VECTORS) continue;
        for (size_t j = op->point_count; j-- > 0;) /* the last given for an id wins */
            if (eg_point_id_compare(&op->points[j].id, &p->id) == 0 && op->sparse_given[j]) {
                eg_sparse_vector *given = &op->points[j].sparse;
                p->sparse.indices = malloc((given->count ? given->count : 1) * sizeof *p->sparse.indices);
                p->sparse.values = malloc((given->count ? given->count : 1) * sizeof *p->sparse.values);
                if (!p->sparse.indices || !p->sparse.values) st = eg_error_set(err, EG_INTERNAL, "out of memory");
                else {
                    memcpy(p->sparse.indices, given->indices, given->count * sizeof *given->indices);
                    memcpy(p->sparse.values, given->values, given->count * sizeof *given->values);
                    p->sparse.count = given->count;
                }
                break;
            }
    }
    if (st == EG_OK && (st = eg_vectors_upsert(t->v, t->info.name, list.items, list.count, &inner)))
        st = eg_qdrant_store_failure(st, &inner, http_status, err);
    eg_point_list_free(&list);
    return st;
}

/* Qdrant applies a batch's points in order, so of two with one id the last is kept; engram refuses duplicates
 * in one upsert, so the earlier ones are dropped first. */
static size_t keep_last_of_each_id(eg_point *points, size_t count) {
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        bool later = false;
        for (size_t j = i + 1; j < count && !later; j++) later = eg_point_id_compare(&points[i].id, &points[j].id) == 0;
        if (later) {
            eg_point_clear(&points[i]);
            continue;
        }
        points[kept++] = points[i];
    }
    return kept;
}

static bool has_duplicate_ids(const eg_point *points, size_t count) {
    eg_point_id *ids = malloc((count ? count : 1) * sizeof *ids);
    if (!ids) return true; /* the quadratic pass below is then the safe answer */
    for (size_t i = 0; i < count; i++) ids[i] = points[i].id;
    qsort(ids, count, sizeof *ids, by_id);
    bool dup = false;
    for (size_t i = 1; i < count && !dup; i++) dup = eg_point_id_compare(&ids[i - 1], &ids[i]) == 0;
    free(ids);
    return dup;
}

static eg_status apply_upsert(const target *t, point_op *op, unsigned *http_status, eg_error *err) {
    if (has_duplicate_ids(op->points, op->point_count)) op->point_count = keep_last_of_each_id(op->points, op->point_count);
    eg_error inner;
    eg_status st = eg_vectors_upsert(t->v, t->info.name, op->points, op->point_count, &inner);
    return st ? eg_qdrant_store_failure(st, &inner, http_status, err) : EG_OK;
}

static eg_status apply_update_vectors(const target *t, point_op *op, unsigned *http_status, eg_error *err) {
    eg_point_id *ids = malloc(op->point_count * sizeof *ids);
    if (!ids) return eg_error_set(err, EG_INTERNAL, "out of memory");
    bool any_sparse = false;
    for (size_t i = 0; i < op->point_count; i++) {
        ids[i] = op->points[i].id;
        any_sparse = any_sparse || op->sparse_given[i];
    }
    eg_status st = require_points(t, ids, op->point_count, http_status, err);
    /* Dense vectors first, in the store's own call, then the sparse ones by rewriting those points. */
    size_t dense = 0;
    eg_point *dense_points = st == EG_OK ? calloc(op->point_count, sizeof *dense_points) : NULL;
    if (st == EG_OK && !dense_points) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; st == EG_OK && i < op->point_count; i++)
        if (op->dense_given[i]) dense_points[dense++] = op->points[i];
    if (st == EG_OK && dense > 0) {
        eg_error inner;
        if ((st = eg_vectors_update_vectors(t->v, t->info.name, dense_points, dense, &inner)))
            st = eg_qdrant_store_failure(st, &inner, http_status, err);
    }
    free(dense_points);
    if (st == EG_OK && any_sparse) {
        size_t n = 0;
        for (size_t i = 0; i < op->point_count; i++)
            if (op->sparse_given[i]) ids[n++] = op->points[i].id;
        st = rewrite_sparse(t, ids, n, op, http_status, err);
    }
    free(ids);
    return st;
}

static eg_status apply_op(const target *t, point_op *op, unsigned *http_status, eg_error *err) {
    if (op->kind == OP_UPSERT) return apply_upsert(t, op, http_status, err);
    if (op->kind == OP_UPDATE_VECTORS) return apply_update_vectors(t, op, http_status, err);
    eg_error inner;
    eg_status st;
    if (op->kind == OP_DELETE) {
        st = eg_vectors_delete(t->v, t->info.name, op->selector.filter ? NULL : op->selector.ids,
                               op->selector.filter ? 0 : op->selector.count, op->selector.filter, NULL, &inner);
        return st ? eg_qdrant_store_failure(st, &inner, http_status, err) : EG_OK;
    }
    eg_point_id *ids;
    size_t count;
    if ((st = selected_ids(t, &op->selector, &ids, &count, err))) return st;
    if (!op->selector.filter) st = require_points(t, ids, count, http_status, err);
    if (st == EG_OK && count > 0) {
        switch (op->kind) {
        case OP_SET_PAYLOAD:
        case OP_OVERWRITE_PAYLOAD: st = over_chunks(t, op, ids, count, set_chunk, http_status, err); break;
        case OP_CLEAR_PAYLOAD:
            op->payload = json_object();
            op->kind = OP_OVERWRITE_PAYLOAD;
            st = op->payload ? over_chunks(t, op, ids, count, set_chunk, http_status, err)
                             : eg_error_set(err, EG_INTERNAL, "out of memory");
            break;
        case OP_DELETE_PAYLOAD: st = over_chunks(t, op, ids, count, delete_keys_chunk, http_status, err); break;
        case OP_DELETE_VECTORS:
            for (size_t done = 0; st == EG_OK && done < count; done += EG_VECTOR_BATCH_MAX)
                st = rewrite_sparse(t, ids + done, count - done < EG_VECTOR_BATCH_MAX ? count - done : EG_VECTOR_BATCH_MAX,
                                    op, http_status, err);
            break;
        default: st = eg_error_set(err, EG_INTERNAL, "unexpected point operation %d", (int)op->kind);
        }
    }
    free(ids);
    return st;
}

/* ---- Routes ------------------------------------------------------------------------------------------------ */

static eg_status open_target(eg_serve_ctx *ctx, const char *name, target *t, unsigned *http_status, eg_error *err) {
    t->v = eg_db_vectors(ctx->db);
    return eg_qdrant_collection(ctx, name, &t->info, &t->layout, http_status, err);
}

/* One write route: query parameters, the collection, the op read whole, then applied. */
static eg_status write_route(point_op_kind kind, eg_serve_ctx *ctx, const eg_http_request *req,
                             const char *const *captures, json_t *body, json_t **result, unsigned *http_status,
                             eg_error *err) {
    target t;
    point_op op;
    eg_status st;
    if ((st = eg_qdrant_write_params(req, http_status, err)) || (st = open_target(ctx, captures[0], &t, http_status, err)))
        return st;
    if ((st = read_op(kind, body, &t, &op, http_status, err)) == EG_OK) st = apply_op(&t, &op, http_status, err);
    op_clear(&op);
    eg_collection_info_clear(&t.info);
    if (st) return st;
    *result = eg_qdrant_update_result();
    return *result ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

#define WRITE_ROUTE(fn, kind)                                                                                        \
    static eg_status fn(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures, json_t *body,    \
                        json_t **result, unsigned *http_status, eg_error *err) {                                     \
        return write_route(kind, ctx, req, captures, body, result, http_status, err);                                \
    }

WRITE_ROUTE(upsert_points, OP_UPSERT)
WRITE_ROUTE(delete_points, OP_DELETE)
WRITE_ROUTE(set_payload, OP_SET_PAYLOAD)
WRITE_ROUTE(overwrite_payload, OP_OVERWRITE_PAYLOAD)
WRITE_ROUTE(delete_payload, OP_DELETE_PAYLOAD)
WRITE_ROUTE(clear_payload, OP_CLEAR_PAYLOAD)
WRITE_ROUTE(update_vectors, OP_UPDATE_VECTORS)
WRITE_ROUTE(delete_vectors, OP_DELETE_VECTORS)

/* The members of UpdateOperation, one per kind, in point_op_kind order. */
static const char *const batch_op_names[] = {"upsert",         "delete",         "set_payload",    "overwrite_payload",
                                             "delete_payload", "clear_payload",  "update_vectors", "delete_vectors"};
#define BATCH_OP_KINDS (sizeof batch_op_names / sizeof batch_op_names[0])
static const char *const batch_update_members[] = {"operations", NULL};

/* Every operation is read before the first is applied, so a malformed one changes nothing; they are then applied
 * in order, each all or nothing, and a failing one stops the batch with the ones before it applied (as in
 * Qdrant, where each operation is its own write). */
static eg_status batch_update(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                              json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    target t;
    eg_status st;
    if ((st = eg_qdrant_write_params(req, http_status, err)) ||
        (st = eg_qdrant_body(body, batch_update_members, &body, http_status, err)))
        return st;
    json_t *operations = json_object_get(body, "operations");
    if (!operations) return eg_qdrant_format_error(http_status, err, "missing field `operations`");
    if (!json_is_array(operations)) return eg_qdrant_format_error(http_status, err, "operations must be a list");
    size_t n = json_array_size(operations);
    if (n > EG_VECTOR_BATCH_MAX)
        return eg_qdrant_unsupported(http_status, err, "%zu operations in one batch; engram takes at most %d", n,
                                     EG_VECTOR_BATCH_MAX);
    if ((st = open_target(ctx, captures[0], &t, http_status, err))) return st;
    point_op *ops = calloc(n ? n : 1, sizeof *ops);
    size_t read = 0;
    if (!ops) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (; st == EG_OK && read < n; read++) {
        json_t *item = json_array_get(operations, read);
        size_t kind = BATCH_OP_KINDS;
        for (size_t k = 0; k < BATCH_OP_KINDS; k++)
            if (json_is_object(item) && json_object_size(item) == 1 && json_object_get(item, batch_op_names[k])) kind = k;
        if (kind == BATCH_OP_KINDS) {
            st = eg_qdrant_format_error(http_status, err,
                                        "operations[%zu]: data did not match any variant of untagged enum "
                                        "UpdateOperation (one of upsert, delete, set_payload, overwrite_payload, "
                                        "delete_payload, clear_payload, update_vectors, delete_vectors)",
                                        read);
            break;
        }
        st = eg_error_prefix(err, read_op((point_op_kind)kind, json_object_get(item, batch_op_names[kind]), &t,
                                          &ops[read], http_status, err),
                             "operations[%zu]: ", read);
    }
    json_t *results = st == EG_OK ? json_array() : NULL;
    if (st == EG_OK && !results) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; st == EG_OK && i < n; i++)
        if ((st = apply_op(&t, &ops[i], http_status, err)) == EG_OK &&
            json_array_append_new(results, eg_qdrant_update_result()) != 0)
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; ops && i < n; i++) op_clear(&ops[i]);
    free(ops);
    eg_collection_info_clear(&t.info);
    if (st) {
        json_decref(results);
        return st;
    }
    *result = results;
    return EG_OK;
}

static json_t *records_json(const eg_point_list *list, const target *t, const eg_payload_selector *payload,
                            bool with_vector) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < list->count; i++)
        if (json_array_append_new(a, eg_qdrant_point_json(&list->items[i], &t->layout, payload, with_vector, NULL)) !=
            0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static const char *const retrieve_members[] = {"ids", "with_payload", "with_vector", "shard_key", NULL};

static eg_status retrieve_points(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                 json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    target t;
    eg_payload_selector payload;
    bool with_vector = false;
    eg_point_id *ids = NULL;
    size_t count;
    eg_error inner;
    eg_status st;
    if ((st = eg_qdrant_read_params(req, http_status, err)) ||
        (st = eg_qdrant_body(body, retrieve_members, &body, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_shard_key, http_status, err)))
        return st;
    if (!json_object_get(body, "ids")) return eg_qdrant_format_error(http_status, err, "missing field `ids`");
    if ((st = open_target(ctx, captures[0], &t, http_status, err))) return st;
    if ((st = eg_qdrant_payload_selector(json_object_get(body, "with_payload"), true, &payload, err)) ||
        (st = eg_qdrant_vector_selector(json_object_get(body, "with_vector"), &t.layout, &with_vector, err)) ||
        (st = eg_qdrant_point_ids(json_object_get(body, "ids"), "ids", &ids, &count, http_status, err))) {
        if (!*http_status) *http_status = 400;
    } else {
        eg_point_list list;
        if ((st = eg_vectors_get(t.v, t.info.name, ids, count, payload.any, with_vector, &list, &inner))) {
            st = eg_qdrant_store_failure(st, &inner, http_status, err);
        } else {
            *result = records_json(&list, &t, &payload, with_vector);
            eg_point_list_free(&list);
            if (!*result) st = eg_error_set(err, EG_INTERNAL, "out of memory");
        }
    }
    free(ids);
    eg_collection_info_clear(&t.info);
    return st;
}

static eg_status get_point(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures, json_t *body,
                           json_t **result, unsigned *http_status, eg_error *err) {
    (void)body;
    target t;
    eg_point_id id;
    eg_error inner;
    eg_status st;
    if ((st = eg_qdrant_read_params(req, http_status, err))) return st;
    if (eg_point_id_parse(captures[1], &id, &inner) != EG_OK) {
        *http_status = 400;
        return eg_error_set(err, EG_INVALID_ARGUMENT, "Wrong input: Can't parse point id `%.64s`: %s", captures[1],
                            inner.message);
    }
    if ((st = open_target(ctx, captures[0], &t, http_status, err))) return st;
    eg_point_list list;
    eg_payload_selector payload = {.any = true};
    if ((st = eg_vectors_get(t.v, t.info.name, &id, 1, true, true, &list, &inner))) {
        st = eg_qdrant_store_failure(st, &inner, http_status, err);
    } else {
        if (list.count == 0) {
            *http_status = 404;
            st = eg_error_set(err, EG_NOT_FOUND, "Not found: Point with id %s does not exists!", captures[1]);
        } else if (!(*result = eg_qdrant_point_json(&list.items[0], &t.layout, &payload, true, NULL))) {
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
        }
        eg_point_list_free(&list);
    }
    eg_collection_info_clear(&t.info);
    return st;
}

static const char *const scroll_members[] = {"offset", "limit", "filter", "with_payload", "with_vector", "order_by",
                                             "shard_key", NULL};
static const char *const refused_scroll[] = {"order_by", "shard_key", NULL};

/* A page as Qdrant answers it: up to limit points from offset, and where the next page starts (null at the end).
 * A limit above the store's page is served by several store pages. */
static eg_status scroll_points(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                               json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    target t;
    eg_payload_selector payload;
    bool with_vector = false;
    eg_filter *filter = NULL;
    eg_point_id offset;
    eg_error inner;
    eg_status st;
    if ((st = eg_qdrant_read_params(req, http_status, err)) ||
        (st = eg_qdrant_body(body, scroll_members, &body, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_scroll, http_status, err)))
        return st;
    json_t *limit_json = json_object_get(body, "limit"), *offset_json = json_object_get(body, "offset");
    long long limit = DEFAULT_SCROLL_LIMIT;
    if (limit_json && !json_is_null(limit_json)) {
        if (!json_is_integer(limit_json) || json_integer_value(limit_json) < 0)
            return eg_qdrant_format_error(http_status, err, "limit must be a non-negative integer");
        limit = json_integer_value(limit_json);
        if (limit == 0) return eg_qdrant_validation_error(http_status, err, "limit", "value 0 invalid, must be 1 or larger");
    }
    bool has_offset = offset_json && !json_is_null(offset_json);
    if (has_offset && eg_point_id_from_json(offset_json, &offset, &inner) != EG_OK)
        return eg_qdrant_format_error(http_status, err, "offset: %s", inner.message);
    if ((st = open_target(ctx, captures[0], &t, http_status, err))) return st;
    if ((st = eg_qdrant_payload_selector(json_object_get(body, "with_payload"), true, &payload, err)) ||
        (st = eg_qdrant_vector_selector(json_object_get(body, "with_vector"), &t.layout, &with_vector, err))) {
        *http_status = 400;
        eg_collection_info_clear(&t.info);
        return st;
    }
    if ((st = eg_qdrant_filter(json_object_get(body, "filter"), &filter, http_status, err))) {
        eg_collection_info_clear(&t.info);
        return st;
    }
    json_t *points = json_array();
    bool has_next = true;
    size_t served = 0;
    if (!points) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    while (st == EG_OK && has_next && served < (size_t)limit) {
        size_t want = (size_t)limit - served;
        eg_scroll_request request = {.filter = filter,
                                     .limit = want < EG_SEARCH_LIMIT_MAX ? want : EG_SEARCH_LIMIT_MAX,
                                     .offset = has_offset ? &offset : NULL,
                                     .with_payload = payload.any,
                                     .with_vectors = with_vector};
        eg_point_list page;
        eg_point_id next;
        if ((st = eg_vectors_scroll(t.v, t.info.name, &request, &page, &next, &has_next, &inner))) {
            st = eg_qdrant_store_failure(st, &inner, http_status, err);
            break;
        }
        json_t *records = records_json(&page, &t, &payload, with_vector);
        served += page.count;
        eg_point_list_free(&page);
        if (!records || json_array_extend(points, records) != 0) st = eg_error_set(err, EG_INTERNAL, "out of memory");
        json_decref(records);
        offset = next;
        has_offset = true;
    }
    eg_filter_free(filter);
    eg_collection_info_clear(&t.info);
    if (st == EG_OK)
        *result = json_pack("{s:o, s:o}", "points", points, "next_page_offset",
                            has_next ? eg_point_id_to_json(&offset) : json_null());
    else
        json_decref(points);
    return st == EG_OK && !*result ? eg_error_set(err, EG_INTERNAL, "out of memory") : st;
}

static const char *const count_members[] = {"filter", "exact", "shard_key", NULL};

/* Always exact: engram counts the matching points whatever `exact` says. */
static eg_status count_points(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                              json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    target t;
    eg_filter *filter = NULL;
    eg_error inner;
    eg_status st;
    if ((st = eg_qdrant_read_params(req, http_status, err)) ||
        (st = eg_qdrant_body(body, count_members, &body, http_status, err)) ||
        (st = eg_qdrant_refuse_members(body, refused_shard_key, http_status, err)))
        return st;
    json_t *exact = json_object_get(body, "exact");
    if (exact && !json_is_null(exact) && !json_is_boolean(exact))
        return eg_qdrant_format_error(http_status, err, "exact must be true or false");
    if ((st = open_target(ctx, captures[0], &t, http_status, err))) return st;
    uint64_t n = 0;
    if ((st = eg_qdrant_filter(json_object_get(body, "filter"), &filter, http_status, err)) == EG_OK &&
        (st = eg_vectors_count(t.v, t.info.name, filter, &n, &inner)))
        st = eg_qdrant_store_failure(st, &inner, http_status, err);
    eg_filter_free(filter);
    eg_collection_info_clear(&t.info);
    if (st) return st;
    *result = json_pack("{s:I}", "count", (json_int_t)n);
    return *result ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

/* Facets (value counts of a payload field) answer 400 naming the feature rather than a bare 404. */
static eg_status facet(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures, json_t *body,
                       json_t **result, unsigned *http_status, eg_error *err) {
    (void)ctx, (void)req, (void)captures, (void)body, (void)result;
    return eg_qdrant_unsupported(http_status, err, "facets (counts of payload values) are not supported by engram");
}

const eg_route eg_qdrant_point_routes[] = {
    {.method = "PUT", .pattern = "/collections/{collection_name}/points", .qdrant = upsert_points},
    {.method = "POST", .pattern = "/collections/{collection_name}/points", .qdrant = retrieve_points},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/delete", .qdrant = delete_points},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/payload", .qdrant = set_payload},
    {.method = "PUT", .pattern = "/collections/{collection_name}/points/payload", .qdrant = overwrite_payload},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/payload/delete", .qdrant = delete_payload},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/payload/clear", .qdrant = clear_payload},
    {.method = "PUT", .pattern = "/collections/{collection_name}/points/vectors", .qdrant = update_vectors},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/vectors/delete", .qdrant = delete_vectors},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/batch", .qdrant = batch_update},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/scroll", .qdrant = scroll_points},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/count", .qdrant = count_points},
    {.method = "GET", .pattern = "/collections/{collection_name}/points/{id}", .qdrant = get_point},
    {.method = "POST", .pattern = "/collections/{collection_name}/facet", .qdrant = facet},
    {0},
};
