/* qdrant_points.c — the point operations of the Qdrant backend (get, payload changes, vector updates, delete,
 * count, scroll); every write is sent with wait=true. Where the embedded backend checks that every id exists
 * before changing anything (payloads, vectors), the same check is a read before the write here. The chunked
 * upsert is in qdrant_upsert.c. */
#include "vector/qdrant/qdrant_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* POST /points: the points among ids (in the server's order). */
eg_status qdrant_retrieve(qdrant_vectors *q, const char *collection, const qdrant_layout *layout,
                          const eg_point_id *ids, size_t count, bool with_payload, bool with_vectors,
                          eg_point_list *out, eg_error *err) {
    json_t *id_list, *result;
    eg_status st = qdrant_ids_json(ids, count, &id_list, err);
    if (st) return st;
    json_t *body = json_pack("{s:o, s:b, s:b}", "ids", id_list, "with_payload", with_payload, "with_vector",
                             with_vectors);
    if (!body) return eg_error_set(err, EG_INTERNAL, "out of memory");
    st = qdrant_call(q, "POST", collection, "/points", body, &result, err);
    json_decref(body);
    if (st == EG_OK) st = qdrant_points_from_json(layout, result, with_payload, with_vectors, out, err);
    json_decref(result);
    return st;
}

/* The index in list of the point with this id, or list->count. */
size_t qdrant_find(const eg_point_list *list, const eg_point_id *id) {
    for (size_t i = 0; i < list->count; i++)
        if (eg_point_id_compare(&list->items[i].id, id) == 0) return i;
    return list->count;
}

static bool copy_point(const eg_point *from, eg_point *to) {
    *to = (eg_point){.id = from->id, .dim = from->dim};
    size_t n = from->sparse.count;
    if (from->vector && !(to->vector = malloc(from->dim * sizeof *to->vector))) return false;
    if (from->vector) memcpy(to->vector, from->vector, from->dim * sizeof *to->vector);
    if (n && (!(to->sparse.indices = malloc(n * sizeof(uint32_t))) || !(to->sparse.values = malloc(n * sizeof(float)))))
        return false;
    if (n) {
        memcpy(to->sparse.indices, from->sparse.indices, n * sizeof(uint32_t));
        memcpy(to->sparse.values, from->sparse.values, n * sizeof(float));
        to->sparse.count = n;
    }
    return !from->payload || (to->payload = json_deep_copy(from->payload));
}

eg_status qdrant_get(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count, bool with_payload,
                     bool with_vectors, eg_point_list *out, eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    eg_point_list found;
    eg_status st = qdrant_layout_get(q, collection, &layout, err);
    if (st || (st = qdrant_retrieve(q, collection, &layout, ids, count, with_payload, with_vectors, &found, err)))
        return st;
    /* In the order asked, as the embedded backend answers; an id asked twice is answered twice. */
    out->items = calloc(count ? count : 1, sizeof *out->items);
    if (!out->items) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        size_t at = qdrant_find(&found, &ids[i]);
        if (at == found.count) continue;
        if (!copy_point(&found.items[at], &out->items[out->count++]))
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    eg_point_list_free(&found);
    if (st) eg_point_list_free(out);
    return st;
}

/* Every id must name an existing point, or the call changes nothing: EG_NOT_FOUND naming the first missing, whose
 * position goes to *missing. */
static eg_status require_points(qdrant_vectors *q, const char *collection, const qdrant_layout *layout,
                                const eg_point_id *ids, size_t count, size_t *missing, eg_error *err) {
    eg_point_list found;
    eg_status st = qdrant_retrieve(q, collection, layout, ids, count, false, false, &found, err);
    if (st) return st;
    for (size_t i = 0; i < count && st == EG_OK; i++)
        if (qdrant_find(&found, &ids[i]) == found.count) {
            char text[EG_POINT_ID_TEXT];
            eg_point_id_format(&ids[i], text);
            *missing = i;
            st = eg_error_set(err, EG_NOT_FOUND, "point %s does not exist in collection '%.255s'", text, collection);
        }
    eg_point_list_free(&found);
    return st;
}

/* A write on the points among ids, once each is known to exist: body gets "points" and is sent with wait=true. */
static eg_status write_existing(qdrant_vectors *q, const char *collection, const eg_point_id *ids, size_t count,
                                const char *method, const char *suffix, json_t *body, eg_error *err) {
    qdrant_layout layout;
    json_t *id_list;
    size_t missing;
    eg_status st;
    if ((st = qdrant_layout_get(q, collection, &layout, err)) ||
        (st = require_points(q, collection, &layout, ids, count, &missing, err)) || count == 0 ||
        (st = qdrant_ids_json(ids, count, &id_list, err)))
        return st;
    json_object_set_new(body, "points", id_list);
    return qdrant_call(q, method, collection, suffix, body, NULL, err);
}

eg_status qdrant_set_payload(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                             json_t *payload, eg_payload_mode mode, eg_error *err) {
    json_t *body = json_pack("{s:O}", "payload", payload);
    if (!body) return eg_error_set(err, EG_INTERNAL, "out of memory");
    /* POST merges the keys into the payload, PUT replaces it. */
    eg_status st = write_existing(qdrant_of(v), collection, ids, count, mode == EG_PAYLOAD_MERGE ? "POST" : "PUT",
                                  "/points/payload?wait=true", body, err);
    json_decref(body);
    return st;
}

/* A top-level key as a Qdrant key path: quoted when a '.' or '[' would otherwise make it a path. */
static json_t *key_path(const char *key) {
    if (!strpbrk(key, ".[]")) return json_string(key);
    size_t n = strlen(key) + 3;
    char *quoted = malloc(n);
    if (!quoted) return NULL;
    snprintf(quoted, n, "\"%s\"", key);
    json_t *path = json_string(quoted);
    free(quoted);
    return path;
}

eg_status qdrant_delete_payload_keys(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                     const char *const *keys, size_t key_count, eg_error *err) {
    json_t *key_list = json_array();
    for (size_t i = 0; key_list && i < key_count; i++)
        if (json_array_append_new(key_list, key_path(keys[i])) != 0) {
            json_decref(key_list);
            key_list = NULL;
        }
    json_t *body = key_list ? json_pack("{s:o}", "keys", key_list) : NULL;
    if (!body) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = write_existing(qdrant_of(v), collection, ids, key_count ? count : 0, "POST",
                                  "/points/payload/delete?wait=true", body, err);
    json_decref(body);
    return st;
}

/* {"points": [{"id", "vector"}...]}: the dense vector under the layout's name, so a sparse vector is kept. */
static eg_status vectors_body(const qdrant_layout *layout, const eg_point *points, size_t count, json_t **out,
                              eg_error *err) {
    json_t *list = json_array();
    eg_status st = list ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        json_t *id;
        if ((st = qdrant_id_json(&points[i].id, &id, err))) break;
        json_t *item = json_pack("{s:o, s:o}", "id", id, "vector",
                                 qdrant_point_vector_json(layout, points[i].vector, points[i].dim, NULL));
        if (!item || json_array_append_new(list, item) != 0) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    *out = st == EG_OK ? json_pack("{s:o}", "points", list) : NULL;
    if (st) json_decref(list);
    return st == EG_OK && !*out ? eg_error_set(err, EG_INTERNAL, "out of memory") : st;
}

eg_status qdrant_update_vectors(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                                eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    eg_status st = qdrant_layout_get(q, collection, &layout, err);
    for (size_t i = 0; i < count && st == EG_OK; i++)
        if (points[i].dim != layout.dim)
            st = eg_error_set(err, EG_INVALID_ARGUMENT,
                              "points[%zu]: vector has %zu values; collection '%.255s' has dim %u", i, points[i].dim,
                              collection, layout.dim);
    if (st || count == 0) return st;
    eg_point_id *ids = malloc(count * sizeof *ids);
    if (!ids) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count; i++) ids[i] = points[i].id;
    size_t missing = 0;
    json_t *body = NULL;
    if ((st = require_points(q, collection, &layout, ids, count, &missing, err)) == EG_NOT_FOUND)
        eg_error_prefix(err, st, "points[%zu]: ", missing);
    if (st == EG_OK && (st = vectors_body(&layout, points, count, &body, err)) == EG_OK)
        st = qdrant_call(q, "PUT", collection, "/points/vectors?wait=true", body, NULL, err);
    json_decref(body);
    free(ids);
    return st;
}

eg_status qdrant_count(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out, eg_error *err) {
    json_t *body = json_pack("{s:b}", "exact", true), *result;
    if (!body) return eg_error_set(err, EG_INTERNAL, "out of memory");
    qdrant_set_filter(body, filter);
    eg_status st = qdrant_call(qdrant_of(v), "POST", collection, "/points/count", body, &result, err);
    json_decref(body);
    json_t *count = json_object_get(result, "count");
    if (st == EG_OK && (!json_is_integer(count) || json_integer_value(count) < 0))
        st = eg_error_set(err, EG_UNAVAILABLE, "qdrant answered a malformed count");
    if (st == EG_OK) *out = (uint64_t)json_integer_value(count);
    json_decref(result);
    return st;
}

eg_status qdrant_delete_points(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                               const eg_filter *filter, uint64_t *deleted, eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    json_t *body = json_object(), *id_list = NULL;
    eg_status st =
        body ? qdrant_layout_get(q, collection, &layout, err) : eg_error_set(err, EG_INTERNAL, "out of memory");
    /* How many existed is counted just before the delete: another client's writes in between would skew it. */
    if (st == EG_OK && filter) {
        st = qdrant_count(v, collection, filter, deleted, err);
        qdrant_set_filter(body, filter);
    } else if (st == EG_OK) {
        eg_point_list found;
        if ((st = qdrant_retrieve(q, collection, &layout, ids, count, false, false, &found, err)) == EG_OK) {
            *deleted = found.count;
            eg_point_list_free(&found);
            if ((st = qdrant_ids_json(ids, count, &id_list, err)) == EG_OK)
                json_object_set_new(body, "points", id_list);
        }
    }
    if (st == EG_OK) st = qdrant_call(q, "POST", collection, "/points/delete?wait=true", body, NULL, err);
    if (st) *deleted = 0;
    json_decref(body);
    return st;
}

eg_status qdrant_scroll(eg_vectors *v, const char *collection, const eg_scroll_request *request, eg_point_list *out,
                        eg_point_id *next_offset, bool *has_next, eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    json_t *result = NULL, *offset = NULL;
    eg_status st = qdrant_layout_get(q, collection, &layout, err);
    if (st == EG_OK && request->offset) st = qdrant_id_json(request->offset, &offset, err);
    json_t *body = st == EG_OK ? json_pack("{s:I, s:b, s:b}", "limit", (json_int_t)request->limit, "with_payload",
                                           request->with_payload, "with_vector", request->with_vectors)
                               : NULL;
    if (st == EG_OK && !body) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st == EG_OK) {
        if (offset) json_object_set(body, "offset", offset);
        qdrant_set_filter(body, request->filter);
        st = qdrant_call(q, "POST", collection, "/points/scroll", body, &result, err);
    }
    if (st == EG_OK)
        st = qdrant_points_from_json(&layout, json_object_get(result, "points"), request->with_payload,
                                     request->with_vectors, out, err);
    json_t *next = json_object_get(result, "next_page_offset");
    *has_next = false;
    if (st == EG_OK && next && !json_is_null(next)) {
        eg_error inner;
        if (eg_point_id_from_json(next, next_offset, &inner) != EG_OK) {
            eg_point_list_free(out);
            st = eg_error_set(err, EG_UNAVAILABLE, "qdrant answered a malformed next_page_offset");
        } else {
            *has_next = true;
        }
    }
    json_decref(offset);
    json_decref(body);
    json_decref(result);
    return st;
}
