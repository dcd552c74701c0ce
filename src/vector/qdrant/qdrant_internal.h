/* qdrant_internal.h — the Qdrant REST backend of eg_vectors, shared by its files: the store object, the HTTP
 * client (qdrant_http.c), the collection layouts (qdrant_collections.c), and the JSON shapes of points, ids and
 * vectors (qdrant_codec.c). docs/backends.md maps every operation to its REST calls. */
#ifndef ENGRAM_VECTOR_QDRANT_INTERNAL_H
#define ENGRAM_VECTOR_QDRANT_INTERNAL_H

#include <engram/vectors.h>

#include <pthread.h>
#include <stdbool.h>

#define QDRANT_VECTOR_NAME_MAX 64
#define QDRANT_URL_MAX 1024

/* ---- The HTTP client --------------------------------------------------------------------------------------- */

typedef struct qdrant_http qdrant_http;

typedef struct qdrant_http_config {
    const char *url;     /* base URL, no trailing slash */
    const char *api_key; /* "" or NULL: none */
    const char *ca_file; /* "" or NULL: the system's trust store */
    unsigned timeout_ms;
    unsigned max_handles; /* connections kept, and requests in flight at most */
} qdrant_http_config;

eg_status qdrant_http_new(const qdrant_http_config *config, qdrant_http **out, eg_error *err);
void qdrant_http_free(qdrant_http *http);
/* The base URL with any user information replaced, for messages and `engram health`. */
const char *qdrant_http_public_url(const qdrant_http *http);

/* Sends METHOD base+path (path already escaped) with body (NULL: none) and reads the answer. On 2xx, *result
 * (may be NULL) gets a new reference to the envelope's "result". Otherwise the status maps as docs/backends.md
 * says: 400/422 EG_INVALID_ARGUMENT, 401/403 EG_INVALID_ARGUMENT naming the key (never showing it), 404
 * EG_NOT_FOUND, 409 EG_CONFLICT, 5xx, connection failures and timeouts EG_UNAVAILABLE; the message is Qdrant's own
 * error text, sanitised. *http_status (may be NULL) gets the status, 0 when there was no answer. */
eg_status qdrant_http_call(qdrant_http *http, const char *method, const char *path, json_t *body, json_t **result,
                           long *http_status, eg_error *err);
/* One path segment (a collection name, a field), percent-encoded into out; EG_INVALID_ARGUMENT when it does not
 * fit. */
eg_status qdrant_http_escape(const char *segment, char *out, size_t cap, eg_error *err);

/* ---- The store --------------------------------------------------------------------------------------------- */

/* How a collection's vectors are named on the server: "" for the unnamed dense vector, else its name; the sparse
 * vector's name, "" when the collection has none. */
typedef struct qdrant_layout {
    char dense[QDRANT_VECTOR_NAME_MAX + 1];
    char sparse[QDRANT_VECTOR_NAME_MAX + 1];
    uint32_t dim;
    eg_distance distance;
} qdrant_layout;

#define QDRANT_LAYOUT_CACHE_MAX 64

typedef struct qdrant_cached_layout {
    char name[EG_COLLECTION_NAME_MAX + 1];
    qdrant_layout layout;
} qdrant_cached_layout;

typedef struct qdrant_vectors {
    eg_vectors base; /* first: an eg_vectors * is a qdrant_vectors * */
    qdrant_http *http;
    /* Layouts read from the server, so that a point operation costs one request; an entry goes when a call on
     * its collection fails (the collection may have been dropped or remade by another client). */
    pthread_mutex_t layouts_lock;
    qdrant_cached_layout layouts[QDRANT_LAYOUT_CACHE_MAX];
    size_t layout_count;
    char prefix[EG_COLLECTION_NAME_MAX + 1];
    unsigned batch_size, max_concurrency;
    unsigned shard_number, replication_factor, write_consistency_factor;
} qdrant_vectors;

static inline qdrant_vectors *qdrant_of(eg_vectors *v) { return (qdrant_vectors *)v; }

/* The path of a collection-level route: the prefix is applied here, so callers name collections as engram does. */
eg_status qdrant_path(qdrant_vectors *q, const char *collection, const char *suffix, char *out, size_t cap,
                      eg_error *err);
/* Calls a route; a 404 about the collection becomes the embedded backend's "collection 'NAME' does not exist". */
eg_status qdrant_call(qdrant_vectors *q, const char *method, const char *collection, const char *suffix, json_t *body,
                      json_t **result, eg_error *err);
/* The collection's vector names and dimension: cached, else read from the server (GET /collections/{name}). */
eg_status qdrant_layout_get(qdrant_vectors *q, const char *collection, qdrant_layout *out, eg_error *err);
void qdrant_layout_forget(qdrant_vectors *q, const char *collection);

/* ---- JSON shapes (qdrant_codec.c) --------------------------------------------------------------------------- */

/* A point id as Qdrant takes it: an integer or a UUID string. Ids above 2^63-1 are refused (EG_INVALID_ARGUMENT):
 * JSON integers that large do not pass through jansson. */
eg_status qdrant_id_json(const eg_point_id *id, json_t **out, eg_error *err);
eg_status qdrant_ids_json(const eg_point_id *ids, size_t count, json_t **out, eg_error *err);
/* The "vector" member of a point for this layout: a plain array, or {dense: [...], sparse: {...}}. */
json_t *qdrant_point_vector_json(const qdrant_layout *layout, const float *vector, size_t dim,
                                 const eg_sparse_vector *sparse);
/* A PointStruct {id, vector, payload}. */
eg_status qdrant_point_json(const qdrant_layout *layout, const eg_point *p, json_t **out, eg_error *err);
/* A Record or ScoredPoint from Qdrant into p (zeroed first); vectors by the layout's names. */
eg_status qdrant_point_from_json(const qdrant_layout *layout, json_t *record, bool with_payload, bool with_vectors,
                                 eg_point *p, eg_error *err);
/* A list of Records or ScoredPoints; scored: each "score" too. */
eg_status qdrant_points_from_json(const qdrant_layout *layout, json_t *list, bool with_payload, bool with_vectors,
                                  eg_point_list *out, eg_error *err);
eg_status qdrant_scored_from_json(const qdrant_layout *layout, json_t *list, bool with_payload, bool with_vectors,
                                  eg_scored_list *out, eg_error *err);
/* Sets "filter" on body when filter is given. */
void qdrant_set_filter(json_t *body, const eg_filter *filter);

/* POST /points: the points among ids, in the server's order (qdrant_points.c). */
eg_status qdrant_retrieve(qdrant_vectors *q, const char *collection, const qdrant_layout *layout,
                          const eg_point_id *ids, size_t count, bool with_payload, bool with_vectors,
                          eg_point_list *out, eg_error *err);
/* The index in list of the point with this id, or list->count. */
size_t qdrant_find(const eg_point_list *list, const eg_point_id *id);

/* ---- The operations, by file ---------------------------------------------------------------------------- */

eg_status qdrant_create_collection(eg_vectors *v, const char *name, const eg_collection_config *config,
                                   eg_error *err);
eg_status qdrant_get_collection(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err);
eg_status qdrant_list_collections(eg_vectors *v, eg_string_list *out, eg_error *err);
eg_status qdrant_delete_collection(eg_vectors *v, const char *name, eg_error *err);
eg_status qdrant_create_payload_index(eg_vectors *v, const char *collection, const char *field, eg_payload_type type,
                                      eg_error *err);
eg_status qdrant_delete_payload_index(eg_vectors *v, const char *collection, const char *field, eg_error *err);

eg_status qdrant_upsert(eg_vectors *v, const char *collection, const eg_point *points, size_t count, eg_error *err);

eg_status qdrant_get(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count, bool with_payload,
                     bool with_vectors, eg_point_list *out, eg_error *err);
eg_status qdrant_set_payload(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                             json_t *payload, eg_payload_mode mode, eg_error *err);
eg_status qdrant_delete_payload_keys(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                     const char *const *keys, size_t key_count, eg_error *err);
eg_status qdrant_update_vectors(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                                eg_error *err);
eg_status qdrant_delete_points(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                               const eg_filter *filter, uint64_t *deleted, eg_error *err);
eg_status qdrant_count(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out, eg_error *err);
eg_status qdrant_scroll(eg_vectors *v, const char *collection, const eg_scroll_request *request, eg_point_list *out,
                        eg_point_id *next_offset, bool *has_next, eg_error *err);

eg_status qdrant_search(eg_vectors *v, const char *collection, const eg_search_request *request, eg_scored_list *out,
                        eg_error *err);
eg_status qdrant_search_hybrid(eg_vectors *v, const char *collection, const eg_hybrid_request *request,
                               eg_scored_list *out, eg_error *err);
eg_status qdrant_search_sparse(eg_vectors *v, const char *collection, const eg_sparse_request *request,
                               eg_scored_list *out, eg_error *err);

#endif
