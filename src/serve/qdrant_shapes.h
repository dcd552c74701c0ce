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
 * {"id", "version", "score", "payload", "vector"} (a ScoredPoint). payload and vector are null when not asked
 * for; the vector is shaped by the layout. */
json_t *eg_qdrant_point_json(const eg_point *point, const eg_qdrant_layout *layout,
                             const eg_payload_selector *payload, bool with_vector, const double *score);

/* A point's "vector" member as Qdrant takes it (an array for an unnamed vector; an object of named dense and
 * sparse vectors) into p->vector / p->sparse (allocated; freed by eg_point_clear). */
eg_status eg_qdrant_vector_from_json(json_t *value, const eg_qdrant_layout *layout, uint32_t dim, eg_point *p,
                                     eg_error *err);

#endif
