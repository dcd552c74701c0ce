/* engram/vectors.h — the vector store: collections of points (an id, a dense float32 vector, an optional sparse
 * vector, a JSON payload), Qdrant-shaped filters, exact and hybrid similarity search.
 *
 * eg_vectors is an interface, like eg_graph: a table of operations (eg_vectors_ops) behind the eg_vectors_*
 * functions, which validate every argument once for every backend. The embedded backend
 * (eg_vectors_open_lmdb) and the Qdrant REST backend (eg_vectors_open_qdrant, docs/backends.md) implement it, and so
 * do the resilience decorators. Shapes follow Qdrant's so that both backends answer alike.
 *
 * Model
 * - A collection has a name (1..255 bytes, no '/', no NUL), a dimension (1..65536), a distance and whether its
 *   points may carry a sparse vector. Cosine collections store vectors normalised to unit length.
 * - A point id is an unsigned 64-bit integer or a UUID (written canonically: lower-case, hyphenated). Numeric
 *   ids sort before UUIDs; scroll returns points in that order.
 * - Scores: higher is better for Cosine and Dot; for Euclid and Manhattan the score is the distance and smaller
 *   is better (as in Qdrant). Ties are broken by id, ascending.
 *
 * Search
 * - Dense (eg_vectors_search), sparse (eg_vectors_search_sparse) and hybrid (eg_vectors_search_hybrid: both, fused
 *   by reciprocal rank as Qdrant fuses them).
 * - Exact: every candidate point is scored. Used when the collection holds fewer than its full_scan_threshold
 *   points, when a filter's payload indexes say fewer than that many points can match (the filter is then
 *   evaluated on just those), and when the request asks for `exact`.
 * - Approximate: otherwise the collection's HNSW index (Malkov & Yashunin) finds the candidates. It is built the
 *   first time a search needs it (with index_threads threads), then kept in step with every write, saved when
 *   the store closes and loaded when it opens. A filter is checked while walking the graph, so a filtered search
 *   still returns min(limit, matching) points. hnsw_ef trades speed for recall. Candidates are always scored
 *   again with the stored vectors, so every returned score is exact; with int8 quantization that rescoring is
 *   what restores the ranking (oversampling widens the candidate set it works on).
 * - Searches run while points are written; a search sees every write acknowledged before it started.
 *
 * Ownership: inputs are borrowed. Results are owned by the caller and freed with the matching *_free function.
 * Threads: every function may be called from many threads at once on one eg_vectors. */
#ifndef ENGRAM_VECTORS_H
#define ENGRAM_VECTORS_H

#include <engram/limits.h>
#include <engram/status.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_COLLECTION_NAME_MAX 255
#define EG_VECTOR_DIM_MAX 65536
#define EG_VECTOR_BATCH_MAX 10000     /* points in one upsert / ids in one get, delete, payload update */
#define EG_SEARCH_LIMIT_MAX 10000     /* limit + offset of one search, limit of one scroll */
#define EG_SPARSE_NNZ_MAX 65536       /* non-zero entries of one sparse vector */
#define EG_FILTER_DEPTH_MAX 32        /* nesting of filters within filters */

/* The approximate index (HNSW) of a collection: its defaults and bounds (see "Search" below). */
#define EG_HNSW_M_DEFAULT 16                  /* links per point (2 * m on the bottom layer) */
#define EG_HNSW_M_MAX 128
#define EG_HNSW_EF_CONSTRUCT_DEFAULT 100      /* beam width while inserting */
#define EG_HNSW_EF_CONSTRUCT_MAX 4096
#define EG_HNSW_EF_DEFAULT 64                 /* beam width of a search */
#define EG_FULL_SCAN_THRESHOLD_DEFAULT 10000  /* points: below this, searches scan exactly */
#define EG_OVERSAMPLING_MAX 100.0

typedef enum eg_distance { EG_DISTANCE_COSINE = 0, EG_DISTANCE_DOT, EG_DISTANCE_EUCLID, EG_DISTANCE_MANHATTAN } eg_distance;

/* "Cosine", "Dot", "Euclid", "Manhattan" (Qdrant's spelling). */
const char *eg_distance_name(eg_distance d);
eg_status eg_distance_parse(const char *name, eg_distance *out, eg_error *err);

/* ---- Point ids ------------------------------------------------------------------------------------------ */

typedef struct eg_point_id {
    bool is_uuid;
    uint64_t num;     /* when !is_uuid */
    uint8_t uuid[16]; /* when is_uuid */
} eg_point_id;

#define EG_POINT_ID_TEXT 37 /* a canonical UUID plus NUL; also fits any u64 */

static inline eg_point_id eg_point_id_num(uint64_t n) {
    eg_point_id id = {false, n, {0}};
    return id;
}

/* From JSON: a non-negative integer, or a string holding a UUID (hyphenated or 32 hex digits, any case).
 * jansson's JSON integers stop at 2^63-1, so a larger numeric id travels as its decimal string, which is accepted
 * too (and only above 2^63-1). Anything else — another string, a negative or fractional number — is
 * EG_INVALID_ARGUMENT. */
eg_status eg_point_id_from_json(json_t *value, eg_point_id *out, eg_error *err);
/* Parses a UUID or a decimal u64 from text. */
eg_status eg_point_id_parse(const char *text, eg_point_id *out, eg_error *err);
/* A new JSON value: an integer, the canonical UUID string, or for a number above 2^63-1 its decimal string. */
json_t *eg_point_id_to_json(const eg_point_id *id);
/* Writes the canonical text form into out (EG_POINT_ID_TEXT bytes). */
void eg_point_id_format(const eg_point_id *id, char out[EG_POINT_ID_TEXT]);
/* Total order: numbers ascending, then UUIDs by their bytes. */
int eg_point_id_compare(const eg_point_id *a, const eg_point_id *b);
/* A new random UUID (version 4, RFC 4122 variant) from the system's random source (getrandom); EG_IO if that
 * source fails. The one UUID generator of engram: saga ids and the ids `engram remember` chooses come from it. */
eg_status eg_point_id_random(eg_point_id *out, eg_error *err);

/* ---- Points --------------------------------------------------------------------------------------------- */

typedef struct eg_sparse_vector {
    uint32_t *indices; /* unique */
    float *values;     /* finite */
    size_t count;      /* 0: no sparse vector */
} eg_sparse_vector;

typedef struct eg_point {
    eg_point_id id;
    float *vector;           /* dim finite values; NULL in results fetched without vectors */
    size_t dim;
    eg_sparse_vector sparse; /* count 0: none */
    json_t *payload;         /* a JSON object, or NULL (empty) */
} eg_point;

typedef struct eg_point_list {
    eg_point *items;
    size_t count;
} eg_point_list;

typedef struct eg_scored_point {
    eg_point point;
    double score;
} eg_scored_point;

typedef struct eg_scored_list {
    eg_scored_point *items;
    size_t count;
} eg_scored_list;

void eg_point_clear(eg_point *p);
void eg_point_list_free(eg_point_list *list);
void eg_scored_list_free(eg_scored_list *list);

/* ---- Filters -------------------------------------------------------------------------------------------- */

/* A compiled Qdrant filter:
 *   {"must":[...], "should":[...], "must_not":[...], "min_should":{"conditions":[...], "min_count":n >= 1}}
 * (a clause may also be a single condition object, as Qdrant allows; an empty should is no constraint).
 * Conditions: {"key":K,"match":{"value":v}} (string, integer, bool), {"key":K,"match":{"any":[...]}},
 * {"key":K,"match":{"except":[...]}}, {"key":K,"range":{"gt"|"gte"|"lt"|"lte": number, ...}},
 * {"is_empty":{"key":K}}, {"is_null":{"key":K}}, {"has_id":[ids]}, and a nested filter object (at most
 * EG_FILTER_DEPTH_MAX filters deep, the outermost counting as 1).
 * Keys are Qdrant JSON paths into the payload: "a.b" walks objects, "a[]" every element of array a, "a[2]" one
 * element, "\"odd.key\"" a key with dots in it. A condition on a field holding an array matches if any element
 * matches. Qdrant's other kinds (nested, geo, values_count, full text) and any other shape are
 * EG_INVALID_ARGUMENT naming them. Semantics follow Qdrant's: e.g. except does not match a missing field, is_null
 * matches null (or an array holding null), is_empty a missing key, null or []. */
typedef struct eg_filter eg_filter;

eg_status eg_filter_parse(json_t *json, eg_filter **out, eg_error *err);
void eg_filter_free(eg_filter *f);
/* Does the point (its id, or NULL: then has_id matches nothing; its payload, or NULL) satisfy the filter? */
bool eg_filter_matches(const eg_filter *f, const eg_point_id *id, json_t *payload);
/* The filter as given (borrowed), for backends that send it on. */
json_t *eg_filter_json(const eg_filter *f);

/* ---- Collections ---------------------------------------------------------------------------------------- */

typedef enum eg_quantization {
    EG_QUANTIZATION_NONE = 0, /* the index keeps float32 vectors */
    EG_QUANTIZATION_INT8      /* the index keeps one byte per value; results are rescored with the stored floats */
} eg_quantization;

/* "none", "int8". */
const char *eg_quantization_name(eg_quantization q);

typedef struct eg_collection_config {
    uint32_t dim;
    eg_distance distance;
    bool sparse; /* points may carry a sparse vector (hybrid search) */
    /* The approximate index; 0 means the default (get_collection reports the values in force). */
    uint32_t hnsw_m;              /* 2..EG_HNSW_M_MAX; default EG_HNSW_M_DEFAULT */
    uint32_t hnsw_ef_construct;   /* 4..EG_HNSW_EF_CONSTRUCT_MAX; default EG_HNSW_EF_CONSTRUCT_DEFAULT */
    uint32_t full_scan_threshold; /* points; default EG_FULL_SCAN_THRESHOLD_DEFAULT; 1 uses the index always */
    eg_quantization quantization;
} eg_collection_config;

typedef enum eg_payload_type {
    EG_PAYLOAD_KEYWORD = 0, /* strings */
    EG_PAYLOAD_INTEGER,
    EG_PAYLOAD_FLOAT,
    EG_PAYLOAD_BOOL
} eg_payload_type;

const char *eg_payload_type_name(eg_payload_type t); /* "keyword", "integer", "float", "bool" */
eg_status eg_payload_type_parse(const char *name, eg_payload_type *out, eg_error *err);

typedef struct eg_payload_index {
    char *field;
    eg_payload_type type;
} eg_payload_index;

typedef struct eg_collection_info {
    char name[EG_COLLECTION_NAME_MAX + 1];
    eg_collection_config config;
    uint64_t points_count;          /* exact */
    uint64_t indexed_vectors_count; /* points in the approximate index (0 until a search first needs it) */
    eg_payload_index *indexes;
    size_t index_count;
} eg_collection_info;

void eg_collection_info_clear(eg_collection_info *info);

typedef struct eg_string_list {
    char **items;
    size_t count;
} eg_string_list;

void eg_string_list_free(eg_string_list *list);

/* ---- Requests ------------------------------------------------------------------------------------------- */

typedef enum eg_payload_mode {
    EG_PAYLOAD_MERGE = 0, /* set the given keys, keep the others */
    EG_PAYLOAD_OVERWRITE  /* replace the whole payload */
} eg_payload_mode;

typedef struct eg_scroll_request {
    const eg_filter *filter;   /* NULL: all points */
    size_t limit;              /* 1..EG_SEARCH_LIMIT_MAX; default 100 */
    const eg_point_id *offset; /* NULL: from the first point; else the first id returned */
    bool with_payload, with_vectors;
} eg_scroll_request;

/* How a search ranks the dense vectors (zero: the defaults). See "Search" below. */
typedef struct eg_search_params {
    size_t hnsw_ef;      /* beam width of the index, 1..EG_SEARCH_LIMIT_MAX; 0: EG_HNSW_EF_DEFAULT; always raised to
                            the number of candidates wanted */
    bool exact;          /* score every candidate: no index */
    double oversampling; /* int8 collections: ceil(oversampling * (limit + offset)) candidates are rescored with
                            the stored float vectors; 0: 1.0; else 1..EG_OVERSAMPLING_MAX */
} eg_search_params;

typedef struct eg_search_request {
    const float *vector; /* dim values */
    size_t dim;
    size_t limit;              /* 1..EG_SEARCH_LIMIT_MAX; default 10 */
    size_t offset;             /* results skipped before the first returned; default 0 */
    const eg_filter *filter;   /* NULL: all points */
    const char *session_id;    /* NULL, or shorthand for must-match payload "session_id" */
    bool has_score_threshold;
    double score_threshold;    /* a floor for Cosine/Dot, a ceiling for Euclid/Manhattan; for hybrid: on the fused
                                  score */
    bool with_payload, with_vectors;
    eg_search_params params;
} eg_search_request;

/* A search of the sparse vectors alone: candidates are the points whose sparse vector shares at least one index
 * with the query, scored by the dot product over the shared indices (as Qdrant scores sparse vectors); higher is
 * better. */
typedef struct eg_sparse_request {
    eg_sparse_vector vector;   /* the query; indices unique, values finite; empty: no results */
    size_t limit;              /* 1..EG_SEARCH_LIMIT_MAX; default 10 */
    size_t offset;             /* results skipped before the first returned; default 0 */
    const eg_filter *filter;   /* NULL: all points */
    const char *session_id;    /* NULL, or shorthand for must-match payload "session_id" */
    bool has_score_threshold;
    double score_threshold;    /* a floor on the score (inclusive) */
    bool with_payload, with_vectors;
} eg_sparse_request;

typedef struct eg_hybrid_request {
    const float *vector;       /* dense query, dim values */
    size_t dim;
    eg_sparse_vector sparse;   /* sparse query */
    size_t limit;              /* 1..EG_SEARCH_LIMIT_MAX; default 10 */
    const eg_filter *filter;
    const char *session_id;
    bool has_score_threshold;
    double score_threshold;    /* a floor on the fused reciprocal-rank score (inclusive) */
    bool with_payload, with_vectors;
    eg_search_params params;   /* for the dense candidates */
} eg_hybrid_request;

/* ---- The interface -------------------------------------------------------------------------------------- */

typedef struct eg_vectors eg_vectors;

typedef struct eg_vectors_ops {
    eg_status (*create_collection)(eg_vectors *v, const char *name, const eg_collection_config *config,
                                   eg_error *err);
    eg_status (*get_collection)(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err);
    eg_status (*list_collections)(eg_vectors *v, eg_string_list *out, eg_error *err);
    eg_status (*delete_collection)(eg_vectors *v, const char *name, eg_error *err);
    eg_status (*create_payload_index)(eg_vectors *v, const char *collection, const char *field, eg_payload_type type,
                                      eg_error *err);
    eg_status (*delete_payload_index)(eg_vectors *v, const char *collection, const char *field, eg_error *err);
    eg_status (*upsert)(eg_vectors *v, const char *collection, const eg_point *points, size_t count, eg_error *err);
    eg_status (*get)(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count, bool with_payload,
                     bool with_vectors, eg_point_list *out, eg_error *err);
    eg_status (*set_payload)(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                             json_t *payload, eg_payload_mode mode, eg_error *err);
    eg_status (*delete_payload_keys)(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                     const char *const *keys, size_t key_count, eg_error *err);
    eg_status (*update_vectors)(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                                eg_error *err);
    eg_status (*delete_points)(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                               const eg_filter *filter, uint64_t *deleted, eg_error *err);
    eg_status (*count)(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out, eg_error *err);
    eg_status (*scroll)(eg_vectors *v, const char *collection, const eg_scroll_request *request, eg_point_list *out,
                        eg_point_id *next_offset, bool *has_next, eg_error *err);
    eg_status (*search)(eg_vectors *v, const char *collection, const eg_search_request *request, eg_scored_list *out,
                        eg_error *err);
    eg_status (*search_hybrid)(eg_vectors *v, const char *collection, const eg_hybrid_request *request,
                               eg_scored_list *out, eg_error *err);
    eg_status (*search_sparse)(eg_vectors *v, const char *collection, const eg_sparse_request *request,
                               eg_scored_list *out, eg_error *err);
    void (*close)(eg_vectors *v);
} eg_vectors_ops;

struct eg_vectors {
    const eg_vectors_ops *ops;
    const char *name; /* "vectors": names the store in messages */
};

/* ---- The embedded backend ------------------------------------------------------------------------------ */

typedef struct eg_vectors_lmdb_options {
    uint64_t map_size_bytes; /* 0: 1 TiB of address space (the file grows only as data does), halved at open
                                while the process cannot reserve it (ulimit -v), down to 1 GiB */
    bool no_sync;            /* as eg_graph_lmdb_options.no_sync */
    unsigned index_threads;  /* threads that build an approximate index; 0: one per CPU */
} eg_vectors_lmdb_options;

/* Opens (creating if needed) the vector store in folder `dir`; exclusive like the graph store. Approximate
 * indexes saved by the last close are loaded (DIR/ann/); one that does not match the stored points (the process
 * died after changing them) is dropped and rebuilt when a search next needs it. */
eg_status eg_vectors_open_lmdb(const char *dir, const eg_vectors_lmdb_options *options, eg_vectors **out,
                               eg_error *err);

/* ---- The Qdrant backend ------------------------------------------------------------------------------- */

#define EG_QDRANT_URL_DEFAULT "http://localhost:6333"
#define EG_QDRANT_TIMEOUT_MS_DEFAULT 30000
#define EG_QDRANT_BATCH_SIZE_DEFAULT 100
#define EG_QDRANT_MAX_CONCURRENCY_DEFAULT 10

/* A zero or NULL field takes its default (the settings vectors.* of docs/settings.md say the same). */
typedef struct eg_vectors_qdrant_options {
    const char *url;               /* http:// or https://, user:password@ allowed; default EG_QDRANT_URL_DEFAULT */
    const char *api_key;           /* sent as the `api-key` header; NULL or "": $ENGRAM_QDRANT_API_KEY, else none */
    const char *ca_file;           /* PEM file of certificates to trust for https, besides the system's */
    const char *collection_prefix; /* prepended to every collection name on the server ("ww_": the original's) */
    unsigned timeout_ms;           /* per request, connecting included */
    unsigned batch_size;           /* points per upsert request, 1..EG_VECTOR_BATCH_MAX */
    unsigned max_concurrency;      /* requests in flight at most (and connections kept) */
    unsigned shard_number, replication_factor, write_consistency_factor; /* sent when creating a collection; 1 */
} eg_vectors_qdrant_options;

/* A vector store kept by a Qdrant server (or cluster) over its REST API: every operation answers as the embedded
 * backend's does (docs/backends.md maps each to its REST calls and says where a remote store differs). Nothing is
 * sent at open: a server that is down fails the first operation with EG_UNAVAILABLE. EG_INVALID_ARGUMENT for a
 * URL that is not http(s), a prefix with '/', a batch size above EG_VECTOR_BATCH_MAX. */
eg_status eg_vectors_open_qdrant(const eg_vectors_qdrant_options *options, eg_vectors **out, eg_error *err);

/* ---- Operations (validate, then call the table) -------------------------------------------------------- */

/* Creating an existing collection with the same configuration is a no-op; with another, EG_CONFLICT. */
eg_status eg_vectors_create_collection(eg_vectors *v, const char *name, const eg_collection_config *config,
                                       eg_error *err);
eg_status eg_vectors_get_collection(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err);
eg_status eg_vectors_list_collections(eg_vectors *v, eg_string_list *out, eg_error *err);
eg_status eg_vectors_delete_collection(eg_vectors *v, const char *name, eg_error *err);
/* Indexes a payload field ("a.b" paths allowed) so filters on it do not scan. Idempotent for the same type. */
eg_status eg_vectors_create_payload_index(eg_vectors *v, const char *collection, const char *field,
                                          eg_payload_type type, eg_error *err);
/* Drops the payload index on field (its entries and its record at once); filters on the field then scan, with
 * the same answers. Deleting an index that does not exist succeeds and changes nothing, as in Qdrant; a missing
 * collection is EG_NOT_FOUND. */
eg_status eg_vectors_delete_payload_index(eg_vectors *v, const char *collection, const char *field, eg_error *err);

/* Inserts or replaces up to EG_VECTOR_BATCH_MAX points, all or nothing. An id twice in the batch is
 * EG_INVALID_ARGUMENT. */
eg_status eg_vectors_upsert(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                            eg_error *err);
/* The points that exist among ids, in the order asked (missing ids are left out). */
eg_status eg_vectors_get(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                         bool with_payload, bool with_vectors, eg_point_list *out, eg_error *err);
/* Merges payload into (or, with EG_PAYLOAD_OVERWRITE, replaces) the payload of existing points; all or
 * nothing: a missing id is EG_NOT_FOUND naming it. */
eg_status eg_vectors_set_payload(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                 json_t *payload, eg_payload_mode mode, eg_error *err);
eg_status eg_vectors_delete_payload_keys(eg_vectors *v, const char *collection, const eg_point_id *ids,
                                         size_t count, const char *const *keys, size_t key_count, eg_error *err);
/* Replaces the dense vectors of existing points in place; payloads and sparse vectors are kept. */
eg_status eg_vectors_update_vectors(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                                    eg_error *err);
/* Deletes the points among ids (count > 0) or those matching filter (ids NULL); *deleted (may be NULL) gets how
 * many existed. */
eg_status eg_vectors_delete(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                            const eg_filter *filter, uint64_t *deleted, eg_error *err);
/* Exact count of the points matching filter (NULL: all). */
eg_status eg_vectors_count(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out,
                           eg_error *err);
/* Points in id order from request->offset; *has_next and *next_offset tell where the next page starts. */
eg_status eg_vectors_scroll(eg_vectors *v, const char *collection, const eg_scroll_request *request,
                            eg_point_list *out, eg_point_id *next_offset, bool *has_next, eg_error *err);
/* The best min(limit, matching - offset) points, best first (approximately, above the full-scan threshold; see
 * "Search" at the top). The filter is applied during the search, never to a global top-k afterwards. */
eg_status eg_vectors_search(eg_vectors *v, const char *collection, const eg_search_request *request,
                            eg_scored_list *out, eg_error *err);
/* Dense and sparse candidate lists (max(limit, ceil(1.5 * limit)) each, the dense one as eg_vectors_search ranks
 * it, the sparse one as eg_vectors_search_sparse does) fused by reciprocal rank fusion exactly as Qdrant fuses a
 * query's prefetches with {"fusion": "rrf"}: score = sum over the lists holding the point of 1 / (position + 2),
 * position from 0, computed in float32 (so 0.5 for the head of one list, 1.0 for the head of both). Equal scores
 * rank by id. The collection must have sparse vectors; the sparse query must not be empty. */
eg_status eg_vectors_search_hybrid(eg_vectors *v, const char *collection, const eg_hybrid_request *request,
                                   eg_scored_list *out, eg_error *err);
/* The best min(limit, candidates - offset) points by their sparse vectors alone (see eg_sparse_request), best
 * first, equal scores by id; exact (every candidate is scored). The collection must have sparse vectors. */
eg_status eg_vectors_search_sparse(eg_vectors *v, const char *collection, const eg_sparse_request *request,
                                   eg_scored_list *out, eg_error *err);
void eg_vectors_close(eg_vectors *v);

#ifdef __cplusplus
}
#endif
#endif
