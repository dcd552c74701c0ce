/* guard_vectors.c — the guarded vector store (see guard.h): every operation of eg_vectors_ops asks the guard,
 * calls the inner store, and shows the guard the result. */
#include "resilience/guard.h"

#include <stdlib.h>

const char *const eg_vectors_op_names[] = {
    "create_collection", "get_collection", "list_collections", "delete_collection", "create_payload_index",
    "delete_payload_index", "upsert", "get", "set_payload", "delete_payload_keys", "update_vectors", "delete_points", "count", "scroll",
    "search", "search_hybrid", NULL,
};

/* An operation added to the table without a name here (or a forwarder below) fails the build: the NULL stands
 * for close. */
_Static_assert(sizeof eg_vectors_op_names / sizeof eg_vectors_op_names[0] ==
                   sizeof(eg_vectors_ops) / sizeof(void (*)(void)),
               "eg_vectors_op_names must name every operation of eg_vectors_ops but close");

typedef struct guarded_vectors {
    eg_vectors base; /* first: an eg_vectors * of the wrapper is a guarded_vectors * */
    eg_vectors *inner;
    eg_guard guard;
} guarded_vectors;

/* The body of every forwarder: the operation's name is its table field's, so the two cannot drift apart. */
#define FORWARD(op, ...)                                                                                             \
    guarded_vectors *w = (guarded_vectors *)v;                                                                       \
    eg_status st = eg_guard_before(&w->guard, "vectors", #op, err);                                                  \
    if (st != EG_OK) return st;                                                                                      \
    st = w->inner->ops->op(w->inner, __VA_ARGS__, err);                                                              \
    eg_guard_after(&w->guard, "vectors", #op, st, err);                                                              \
    return st

static eg_status create_collection(eg_vectors *v, const char *name, const eg_collection_config *config,
                                   eg_error *err) {
    FORWARD(create_collection, name, config);
}

static eg_status get_collection(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err) {
    FORWARD(get_collection, name, out);
}

static eg_status list_collections(eg_vectors *v, eg_string_list *out, eg_error *err) {
    FORWARD(list_collections, out);
}

static eg_status delete_collection(eg_vectors *v, const char *name, eg_error *err) {
    FORWARD(delete_collection, name);
}

static eg_status create_payload_index(eg_vectors *v, const char *collection, const char *field, eg_payload_type type,
                                      eg_error *err) {
    FORWARD(create_payload_index, collection, field, type);
}

static eg_status delete_payload_index(eg_vectors *v, const char *collection, const char *field, eg_error *err) {
    FORWARD(delete_payload_index, collection, field);
}

static eg_status upsert(eg_vectors *v, const char *collection, const eg_point *points, size_t count, eg_error *err) {
    FORWARD(upsert, collection, points, count);
}

static eg_status get(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count, bool with_payload,
                     bool with_vectors, eg_point_list *out, eg_error *err) {
    FORWARD(get, collection, ids, count, with_payload, with_vectors, out);
}

static eg_status set_payload(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                             json_t *payload, eg_payload_mode mode, eg_error *err) {
    FORWARD(set_payload, collection, ids, count, payload, mode);
}

static eg_status delete_payload_keys(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                     const char *const *keys, size_t key_count, eg_error *err) {
    FORWARD(delete_payload_keys, collection, ids, count, keys, key_count);
}

static eg_status update_vectors(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                                eg_error *err) {
    FORWARD(update_vectors, collection, points, count);
}

static eg_status delete_points(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                               const eg_filter *filter, uint64_t *deleted, eg_error *err) {
    FORWARD(delete_points, collection, ids, count, filter, deleted);
}

static eg_status count(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out, eg_error *err) {
    FORWARD(count, collection, filter, out);
}

static eg_status scroll(eg_vectors *v, const char *collection, const eg_scroll_request *request, eg_point_list *out,
                        eg_point_id *next_offset, bool *has_next, eg_error *err) {
    FORWARD(scroll, collection, request, out, next_offset, has_next);
}

static eg_status search(eg_vectors *v, const char *collection, const eg_search_request *request, eg_scored_list *out,
                        eg_error *err) {
    FORWARD(search, collection, request, out);
}

static eg_status search_hybrid(eg_vectors *v, const char *collection, const eg_hybrid_request *request,
                               eg_scored_list *out, eg_error *err) {
    FORWARD(search_hybrid, collection, request, out);
}

static void close_guarded(eg_vectors *v) {
    guarded_vectors *w = (guarded_vectors *)v;
    w->inner->ops->close(w->inner);
    free(w);
}

static const eg_vectors_ops guarded_ops = {
    .create_collection = create_collection,
    .get_collection = get_collection,
    .list_collections = list_collections,
    .delete_collection = delete_collection,
    .create_payload_index = create_payload_index,
    .delete_payload_index = delete_payload_index,
    .upsert = upsert,
    .get = get,
    .set_payload = set_payload,
    .delete_payload_keys = delete_payload_keys,
    .update_vectors = update_vectors,
    .delete_points = delete_points,
    .count = count,
    .scroll = scroll,
    .search = search,
    .search_hybrid = search_hybrid,
    .close = close_guarded,
};

eg_status eg_vectors_guard(eg_vectors *inner, const eg_guard *guard, eg_vectors **out, eg_error *err) {
    if (!inner || !inner->ops || !guard || !out)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_vectors_guard: inner, guard and out must not be NULL");
    guarded_vectors *w = calloc(1, sizeof *w);
    if (!w) return eg_error_set(err, EG_INTERNAL, "out of memory");
    w->base.ops = &guarded_ops;
    w->base.name = inner->name;
    w->inner = inner;
    w->guard = *guard;
    *out = &w->base;
    return EG_OK;
}
