/* qdrant_shapes.h — what the Qdrant routes share: the catalog that gives engram collections their Qdrant face
 * (aliases, vector names), and the JSON shapes of points, selectors and ids as Qdrant writes and reads them.
 *
 * Vector names. An engram collection has one dense vector and, optionally, one sparse vector per point. Qdrant
 * names them: a collection created with an unnamed vector ("vectors": {"size": ..}) answers with plain arrays;
 * one created with a named dense vector ("vectors": {"dense": {...}}) and optionally a named sparse vector
 * ("sparse_vectors": {"sparse": {}}) answers with {"dense": [...], "sparse": {"indices": [...], "values": [...]}}.
 * The catalog remembers the names given at creation; a collection it has no record of (made through `exec` or
 * the C API) reads as unnamed when it has no sparse vectors and as the original system's layout, "dense" +
 * "sparse", when it has. */
#ifndef ENGRAM_SERVE_QDRANT_SHAPES_H
#define ENGRAM_SERVE_QDRANT_SHAPES_H

#include "serve/serve_internal.h"

#define EG_QDRANT_VECTOR_NAME_MAX 63

typedef struct eg_qdrant_layout {
    char dense[EG_QDRANT_VECTOR_NAME_MAX + 1];  /* "": unnamed */
    char sparse[EG_QDRANT_VECTOR_NAME_MAX + 1]; /* "": the collection has no sparse vectors */
} eg_qdrant_layout;

/* ---- The catalog (catalog.c): aliases and layouts, kept durably in DATA/serve/qdrant.json ---------------- */

/* The catalog of the folder behind db (the `eg_catalog` of serve_internal.h). */
eg_status eg_catalog_layout(eg_catalog *catalog, const eg_collection_info *info, eg_qdrant_layout *out);
eg_status eg_catalog_set_layout(eg_catalog *catalog, const char *collection, const eg_qdrant_layout *layout,
                                eg_error *err);
/* Forgets a deleted collection: its layout and every alias naming it. */
eg_status eg_catalog_forget(eg_catalog *catalog, const char *collection, eg_error *err);
/* Does an alias of this name exist? (Qdrant refuses to create a collection named like an alias.) */
bool eg_catalog_is_alias(eg_catalog *catalog, const char *name);

/* One action of POST /collections/aliases. */
typedef enum eg_alias_action_kind { EG_ALIAS_CREATE = 0, EG_ALIAS_DELETE, EG_ALIAS_RENAME } eg_alias_action_kind;
typedef struct eg_alias_action {
    eg_alias_action_kind kind;
    const char *alias;      /* create, delete: the alias; rename: the old name */
    const char *collection; /* create: the collection it names */
    const char *new_alias;  /* rename */
} eg_alias_action;

/* Applies the actions in order, all or nothing, and saves the catalog once. As in Qdrant: create needs the
 * collection to exist (404) and the alias not to be a collection's name (409), and repoints an existing alias;
 * delete of a missing alias does nothing; rename of a missing alias is a 404. On failure *http_status and err
 * carry Qdrant's answer and the catalog is unchanged. */
eg_status eg_catalog_update_aliases(eg_catalog *catalog, eg_vectors *vectors, const eg_alias_action *actions,
                                    size_t count, unsigned *http_status, eg_error *err);
/* [{"alias_name", "collection_name"}, ...] sorted by alias: all of them, or those of one collection (not NULL). */
json_t *eg_catalog_aliases_json(eg_catalog *catalog, const char *collection);

/* ---- Resolving a collection ------------------------------------------------------------------------------ */

/* The collection a path's {collection_name} stands for (an alias resolved), with its info and layout: Qdrant's
 * 404 "Collection `NAME` doesn't exist!" when there is none. info is cleared by the caller
 * (eg_collection_info_clear). */
eg_status eg_qdrant_collection(eg_serve_ctx *ctx, const char *name, eg_collection_info *info,
                               eg_qdrant_layout *layout, unsigned *http_status, eg_error *err);

/* ---- Selectors ----------------------------------------------------------------------------------------- */

/* with_payload: true / false / ["key", "a.b"] / {"include": [...]} / {"exclude": [...]}. Missing: the route's
 * default. */
typedef struct eg_payload_selector {
    bool any;          /* false: no payload */
    bool exclude;      /* keys are excluded rather than included */
    json_t *keys;      /* a borrowed array of key paths, or NULL for the whole payload */
} eg_payload_selector;
eg_status eg_qdrant_payload_selector(json_t *value, bool default_any, eg_payload_selector *out, eg_error *err);
/* A new payload object holding what the selector picks from payload (which may be NULL: {}). */
json_t *eg_qdrant_payload_pick(const eg_payload_selector *selector, json_t *payload);

/* with_vector (or with_vectors): true / false / ["name", ...] (names of the layout). */
eg_status eg_qdrant_vector_selector(json_t *value, const eg_qdrant_layout *layout, bool *out, eg_error *err);

/* ---- Points ------------------------------------------------------------------------------------------- */

/* A point as Qdrant writes it: {"id", "payload", "vector"} (a Record), or with score non-NULL
 * {"id", "version", "score", "payload", "vector"} (a ScoredPoint). As Qdrant does, payload and vector are left
 * out when not asked for; the vector is shaped by the layout. version is always 0: engram keeps no per-point
 * version (docs/serve.md). */
json_t *eg_qdrant_point_json(const eg_point *point, const eg_qdrant_layout *layout,
                             const eg_payload_selector *payload, bool with_vector, const double *score);

/* A point's "vector" member as Qdrant takes it (an array for an unnamed vector; an object of named dense and
 * sparse vectors) into p->vector / p->sparse (allocated; freed by eg_point_clear). */
eg_status eg_qdrant_vector_from_json(json_t *value, const eg_qdrant_layout *layout, uint32_t dim, eg_point *p,
                                     eg_error *err);
/* The same for an update of vectors: a named form may give the dense vector, the sparse one or both, and
 * *has_dense / *has_sparse say which. */
eg_status eg_qdrant_vector_update_from_json(json_t *value, const eg_qdrant_layout *layout, uint32_t dim, eg_point *p,
                                            bool *has_dense, bool *has_sparse, eg_error *err);

/* ---- Request bodies and parameters ------------------------------------------------------------------------
 * Qdrant answers a body that does not deserialise (a missing required member, a wrong type, an unknown variant)
 * with 400 "Format error in JSON body: ...", and one that deserialises but breaks a rule (limit 0, size 0) with
 * 422 "Validation error in JSON body: [field: message]". These helpers give both answers; each sets *http_status
 * and err and returns EG_INVALID_ARGUMENT. */

eg_status eg_qdrant_format_error(unsigned *http_status, eg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
eg_status eg_qdrant_validation_error(unsigned *http_status, eg_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 400 "Wrong input: ...": what engram refuses although Qdrant's shape allows it (an unsupported feature). */
eg_status eg_qdrant_unsupported(unsigned *http_status, eg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A store call's failure (st, with the store's message in inner) as Qdrant words it: a value the store refused
 * is the client's 400 "Wrong input: ..."; any other status keeps its message and HTTP mapping. */
eg_status eg_qdrant_store_failure(eg_status st, const eg_error *inner, unsigned *http_status, eg_error *err);

/* The request body as an object with no member outside allowed (NULL-terminated): an unknown member is refused
 * rather than ignored, so a field that would change the meaning is never dropped. A missing body gives NULL,
 * which reads as {} (jansson's getters answer NULL on it). */
eg_status eg_qdrant_body(json_t *body, const char *const *allowed, json_t **out, unsigned *http_status,
                         eg_error *err);
/* The same check for a nested object; `where` names it ("hnsw_config"). */
eg_status eg_qdrant_check_members(json_t *object, const char *where, const char *const *allowed,
                                  unsigned *http_status, eg_error *err);
/* Defines handler fn for a Qdrant route engram does not have: 400 "Wrong input: FEATURE is not supported by engram",
 * rather than a bare 404 that a client would read as a missing collection or a wrong URL. */
#define UNSUPPORTED_ROUTE(fn, feature)                                                                               \
    static eg_status fn(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures, json_t *body,    \
                        json_t **result, unsigned *http_status, eg_error *err) {                                     \
        (void)ctx, (void)req, (void)captures, (void)body, (void)result;                                              \
        return eg_qdrant_unsupported(http_status, err, "%s", feature " is not supported by engram");                \
    }

/* Members that are present and not null are refused as unsupported, naming the member (shard_key ...). */
eg_status eg_qdrant_refuse_members(json_t *object, const char *const *names, unsigned *http_status, eg_error *err);

/* Query parameters of a write: wait (bool), ordering (weak, medium, strong) and timeout (seconds >= 1). engram
 * acknowledges a write only once it is durable, whatever they say. */
eg_status eg_qdrant_write_params(const eg_http_request *req, unsigned *http_status, eg_error *err);
/* Query parameters of a read: consistency (an integer >= 1, or majority, quorum, all) and timeout. */
eg_status eg_qdrant_read_params(const eg_http_request *req, unsigned *http_status, eg_error *err);

/* A JSON array of point ids (at most EG_VECTOR_BATCH_MAX) as a new array (free()). */
eg_status eg_qdrant_point_ids(json_t *value, const char *what, eg_point_id **ids, size_t *count,
                              unsigned *http_status, eg_error *err);
/* A filter member: absent or null gives NULL; a filter engram cannot read is a 400. */
eg_status eg_qdrant_filter(json_t *value, eg_filter **out, unsigned *http_status, eg_error *err);

/* UpdateResult {"operation_id": n, "status": "completed"}: n from one counter for the whole process, rising. */
json_t *eg_qdrant_update_result(void);

#endif
