/* qdrant_query.c — Qdrant's search routes: POST /collections/{name}/points/query and /points/query/batch (the
 * universal query API), and the older /points/search and /points/search/batch that existing clients still call.
 *
 * A query is read into a plan — a tree of the request and its prefetches — then run as Qdrant's planner runs it
 * (lib/shard/src/query/planned_query.rs): a leaf is a search (dense, sparse) or, without a query, the points in id
 * order with score 1; a node with prefetches fuses its sources' results (RRF, DBSF: vector/fusion.h) or rescores
 * them with its vector query, searching only among their points. A request's filter is merged into every
 * prefetch below it; a point given by id as a query is searched with its own vector and left out of the
 * results. The root asks for limit + offset points and skips offset; payloads and vectors are read for the page
 * returned only. docs/serve.md ("Qdrant compatibility — search and query") lists what is supported. */
#include "serve/qdrant_shapes.h"

#include "model/json_shapes.h"
#include "vector/fusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 10
#define WHERE_MAX 192         /* the path of a member in messages: "prefetch[0].prefetch[1].limit" */

typedef enum query_kind {
    QUERY_NONE = 0, /* no query: the points in id order */
    QUERY_DENSE,
    QUERY_SPARSE,
    QUERY_RRF,
    QUERY_DBSF
} query_kind;

/* One request or prefetch, read. */
typedef struct plan {
    query_kind kind;
    float *dense;             /* QUERY_DENSE: dim values */
    size_t dim;
    eg_sparse_vector sparse;  /* QUERY_SPARSE */
    size_t rrf_k;
    float *weights;           /* QUERY_RRF: one per prefetch, or NULL */
    size_t weight_count;
    eg_filter *filter;        /* this level's own filter, merged with the ones above when run */
    eg_search_params params;
    bool has_threshold;
    double threshold;
    size_t limit;
    struct plan *prefetch;
    size_t prefetch_count;
} plan;

/* What reading a request needs to know of the collection, and the ids its queries named (left out of results). */
typedef struct reader {
    eg_serve_ctx *ctx;
    const eg_collection_info *info;
    const eg_qdrant_layout *layout;
    unsigned *http_status;
    eg_error *err;
    eg_point_id *referenced;
    size_t referenced_count, referenced_cap;
} reader;

static void plan_clear(plan *p) {
    free(p->dense);
    eg_sparse_vector_clear(&p->sparse);
    free(p->weights);
    eg_filter_free(p->filter);
    for (size_t i = 0; i < p->prefetch_count; i++) plan_clear(&p->prefetch[i]);
    free(p->prefetch);
    *p = (plan){.kind = QUERY_NONE};
}

static eg_status no_memory(eg_error *err) { return eg_error_set(err, EG_INTERNAL, "out of memory"); }

static eg_status bad_request(reader *r, const char *message) {
    *r->http_status = 400;
    return eg_error_set(r->err, EG_INVALID_ARGUMENT, "Bad request: %s", message);
}

/* ---- Reading the numbers ----------------------------------------------------------------------------------- */

/* A usize member (absent or null: *present false). Negative or fractional is a format error, as serde has it. */
static eg_status read_count(reader *r, json_t *object, const char *name, const char *where, size_t *out,
                            bool *present) {
    json_t *value = json_object_get(object, name);
    *present = value && !json_is_null(value);
    if (!*present) return EG_OK;
    if (!json_is_integer(value) || json_integer_value(value) < 0)
        return eg_qdrant_format_error(r->http_status, r->err, "%s%s must be a non-negative integer", where, name);
    *out = (size_t)json_integer_value(value);
    return EG_OK;
}

/* limit (or Qdrant's other name for it, `name`): at least 1 (422 otherwise, as Qdrant's validator answers), and
 * what engram can return at once. */
static eg_status read_limit(reader *r, json_t *object, const char *name, const char *where, size_t offset,
                            size_t *out) {
    bool present;
    *out = DEFAULT_LIMIT;
    eg_status st = read_count(r, object, name, where, out, &present);
    if (st) return st;
    char field[WHERE_MAX];
    snprintf(field, sizeof field, "%s%s", where, name);
    if (present && *out == 0)
        return eg_qdrant_validation_error(r->http_status, r->err, field, "value 0 invalid, must be 1 or larger");
    if (*out > EG_SEARCH_LIMIT_MAX || offset > EG_SEARCH_LIMIT_MAX - *out)
        return eg_qdrant_unsupported(r->http_status, r->err, "%s + offset is %zu; engram returns at most %d points",
                                     field,
                                     *out + offset, EG_SEARCH_LIMIT_MAX);
    return EG_OK;
}

static eg_status read_threshold(reader *r, json_t *object, const char *where, plan *p) {
    json_t *value = json_object_get(object, "score_threshold");
    if (!value || json_is_null(value)) return EG_OK;
    if (!json_is_number(value))
        return eg_qdrant_format_error(r->http_status, r->err, "%sscore_threshold must be a number", where);
    p->has_threshold = true;
    p->threshold = (float)json_number_value(value); /* Qdrant compares float32 scores with a float32 threshold */
    return EG_OK;
}

static const char *const params_members[] = {"hnsw_ef", "exact", "quantization", "indexed_only", "acorn", NULL};
static const char *const quantization_members[] = {"ignore", "rescore", "oversampling", NULL};

/* params: {"hnsw_ef", "exact", "quantization": {"ignore", "rescore", "oversampling"}, "indexed_only", "acorn"}.
 * engram always rescores an index's candidates with the stored vectors and cannot search a quantized
 * collection as if it were not, so rescore false and ignore true are refused rather than ignored; so are
 * indexed_only (every point engram holds is searchable) and acorn. */
static eg_status read_params(reader *r, json_t *object, const char *where, eg_search_params *out) {
    json_t *params = json_object_get(object, "params");
    *out = (eg_search_params){.hnsw_ef = 0};
    if (!params || json_is_null(params)) return EG_OK;
    char here[WHERE_MAX];
    snprintf(here, sizeof here, "%sparams", where);
    eg_status st = eg_qdrant_check_members(params, here, params_members, r->http_status, r->err);
    if (st) return st;
    json_t *ef = json_object_get(params, "hnsw_ef"), *exact = json_object_get(params, "exact");
    json_t *indexed_only = json_object_get(params, "indexed_only"), *acorn = json_object_get(params, "acorn");
    if (ef && !json_is_null(ef)) {
        if (!json_is_integer(ef) || json_integer_value(ef) < 0)
            return eg_qdrant_format_error(r->http_status, r->err, "%s.hnsw_ef must be a non-negative integer", here);
        if (json_integer_value(ef) < 1 || json_integer_value(ef) > EG_SEARCH_LIMIT_MAX)
            return eg_qdrant_unsupported(r->http_status, r->err, "%s.hnsw_ef must be from 1 to %d in engram", here,
                                         EG_SEARCH_LIMIT_MAX);
        out->hnsw_ef = (size_t)json_integer_value(ef);
    }
    if (exact && !json_is_null(exact)) {
        if (!json_is_boolean(exact))
            return eg_qdrant_format_error(r->http_status, r->err, "%s.exact must be true or false", here);
        out->exact = json_is_true(exact);
    }
    if (indexed_only && !json_is_null(indexed_only) && !json_is_false(indexed_only))
        return eg_qdrant_unsupported(r->http_status, r->err,
                                     "%s.indexed_only is not supported by engram: every point it holds is searchable",
                                     here);
    if (acorn && !json_is_null(acorn))
        return eg_qdrant_unsupported(r->http_status, r->err, "%s.acorn is not supported by engram", here);
    json_t *quantization = json_object_get(params, "quantization");
    if (!quantization || json_is_null(quantization)) return EG_OK;
    snprintf(here, sizeof here, "%sparams.quantization", where);
    if ((st = eg_qdrant_check_members(quantization, here, quantization_members, r->http_status, r->err))) return st;
    json_t *ignore = json_object_get(quantization, "ignore"), *rescore = json_object_get(quantization, "rescore");
    json_t *oversampling = json_object_get(quantization, "oversampling");
    if (json_is_true(ignore))
        return eg_qdrant_unsupported(r->http_status, r->err,
                                     "%s.ignore true is not supported by engram (\"exact\": true searches without the "
                                     "index)",
                                     here);
    if (json_is_false(rescore))
        return eg_qdrant_unsupported(r->http_status, r->err,
                                     "%s.rescore false is not supported by engram: it always rescores the candidates "
                                     "with the stored vectors",
                                     here);
    if (oversampling && !json_is_null(oversampling)) {
        if (!json_is_number(oversampling))
            return eg_qdrant_format_error(r->http_status, r->err, "%s.oversampling must be a number", here);
        double value = json_number_value(oversampling);
        char field[WHERE_MAX + 16];
        snprintf(field, sizeof field, "%s.oversampling", here);
        if (value < 1.0)
            return eg_qdrant_validation_error(r->http_status, r->err, field, "value %g invalid, must be 1.0 or larger",
                                              value);
        if (value > EG_OVERSAMPLING_MAX)
            return eg_qdrant_unsupported(r->http_status, r->err, "%s is %g; engram takes at most %g", field, value,
                                         EG_OVERSAMPLING_MAX);
        out->oversampling = value;
    }
    return EG_OK;
}

/* ---- Reading the query --------------------------------------------------------------------------------------- */

/* Which of the collection's vectors `using` names (absent: the unnamed default, ""). */
static eg_status vector_named(reader *r, const char *name, bool *sparse) {
    *sparse = false;
    if (strcmp(name, r->layout->dense) == 0) return EG_OK;
    if (r->layout->sparse[0] && strcmp(name, r->layout->sparse) == 0) {
        *sparse = true;
        return EG_OK;
    }
    return eg_qdrant_unsupported(r->http_status, r->err, "Not existing vector name error: %.64s", name);
}

static eg_status mismatched_vector(reader *r) {
    return eg_qdrant_unsupported(r->http_status, r->err, "Conversion between sparse and regular vectors failed");
}

static eg_status remember_reference(reader *r, const eg_point_id *id) {
    if (r->referenced_count == r->referenced_cap) {
        size_t cap = r->referenced_cap ? 2 * r->referenced_cap : 4;
        eg_point_id *grown = realloc(r->referenced, cap * sizeof *grown);
        if (!grown) return no_memory(r->err);
        r->referenced = grown, r->referenced_cap = cap;
    }
    r->referenced[r->referenced_count++] = *id;
    return EG_OK;
}

/* A point id as the query: the point's own vector (the one `using` names) becomes the query, and the point is
 * left out of the results, as Qdrant does. */
static eg_status query_by_id(reader *r, json_t *value, const char *vector_name, bool sparse, plan *p) {
    eg_point_id id;
    eg_error inner;
    if (eg_point_id_from_json(value, &id, &inner) != EG_OK)
        return eg_qdrant_format_error(r->http_status, r->err, "Expected some form of vector, id, or a type of query");
    eg_point_list found = {0};
    eg_status st = eg_vectors_get(eg_db_vectors(r->ctx->db), r->info->name, &id, 1, false, true, &found, r->err);
    if (st) return st;
    eg_point *point = found.count ? &found.items[0] : NULL;
    if (!point || (sparse && point->sparse.count == 0)) {
        eg_point_list_free(&found);
        *r->http_status = 404;
        return eg_error_set(r->err, EG_NOT_FOUND, "Not found: Vector with name \"%.64s\" for point not found",
                            vector_name);
    }
    if (sparse) {
        p->kind = QUERY_SPARSE;
        p->sparse = point->sparse;
        point->sparse = (eg_sparse_vector){.count = 0};
    } else {
        p->kind = QUERY_DENSE;
        p->dense = point->vector;
        p->dim = point->dim;
        point->vector = NULL;
    }
    eg_point_list_free(&found);
    return remember_reference(r, &id);
}

/* A VectorInput: a dense vector, a sparse vector, or a point id. */
static eg_status read_vector_input(reader *r, json_t *value, const char *vector_name, plan *p) {
    bool sparse;
    eg_status st = vector_named(r, vector_name, &sparse);
    if (st) return st;
    if (json_is_integer(value) || json_is_string(value)) return query_by_id(r, value, vector_name, sparse, p);
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) {
            if (json_is_array(item))
                return eg_qdrant_unsupported(r->http_status, r->err, "multivectors are not supported by engram");
        }
        if (sparse) return mismatched_vector(r);
        if (json_array_size(value) != r->info->config.dim)
            return eg_qdrant_unsupported(r->http_status, r->err, "Vector dimension error: expected dim: %u, got %zu",
                                         r->info->config.dim, json_array_size(value));
        eg_error inner;
        if (eg_floats_from_json(value, "query", &p->dense, &p->dim, &inner) != EG_OK)
            return eg_qdrant_format_error(r->http_status, r->err, "%s", inner.message);
        p->kind = QUERY_DENSE;
        return EG_OK;
    }
    if (json_is_object(value) && (json_object_get(value, "indices") || json_object_get(value, "values"))) {
        if (!sparse) return mismatched_vector(r);
        eg_error inner;
        if (eg_sparse_from_json(value, "query", &p->sparse, &inner) != EG_OK)
            return eg_qdrant_format_error(r->http_status, r->err, "%s", inner.message);
        p->kind = QUERY_SPARSE;
        return EG_OK;
    }
    if (json_is_object(value) && (json_object_get(value, "text") || json_object_get(value, "image") ||
                                  json_object_get(value, "object")))
        return eg_qdrant_unsupported(r->http_status, r->err,
                                     "inference (documents, images, objects as queries) is not supported by engram");
    return eg_qdrant_format_error(r->http_status, r->err, "Expected some form of vector, id, or a type of query");
}

static const char *const rrf_members[] = {"k", "weights", NULL};

static eg_status read_rrf(reader *r, json_t *rrf, const char *where, plan *p) {
    char here[WHERE_MAX];
    snprintf(here, sizeof here, "%squery.rrf", where);
    eg_status st = eg_qdrant_check_members(rrf, here, rrf_members, r->http_status, r->err);
    if (st) return st;
    json_t *k = json_object_get(rrf, "k"), *weights = json_object_get(rrf, "weights");
    p->kind = QUERY_RRF;
    p->rrf_k = EG_RRF_K_DEFAULT;
    if (k && !json_is_null(k)) {
        if (!json_is_integer(k) || json_integer_value(k) < 0)
            return eg_qdrant_format_error(r->http_status, r->err, "%s.k must be a non-negative integer", here);
        char field[WHERE_MAX + 4];
        snprintf(field, sizeof field, "%s.k", here);
        if (json_integer_value(k) == 0)
            return eg_qdrant_validation_error(r->http_status, r->err, field, "value 0 invalid, must be 1 or larger");
        p->rrf_k = (size_t)json_integer_value(k);
    }
    if (!weights || json_is_null(weights)) return EG_OK;
    if (!json_is_array(weights))
        return eg_qdrant_format_error(r->http_status, r->err, "%s.weights must be a list of numbers", here);
    eg_error inner;
    if (eg_floats_from_json(weights, "weights", &p->weights, &p->weight_count, &inner) != EG_OK)
        return eg_qdrant_format_error(r->http_status, r->err, "%s.%s", here, inner.message);
    return EG_OK;
}

/* QueryInterface: a VectorInput, or an object naming the kind of query. */
static eg_status read_query(reader *r, json_t *query, const char *vector_name, const char *where, plan *p) {
    if (!query || json_is_null(query)) return EG_OK;
    if (!json_is_object(query) || json_object_get(query, "indices") || json_object_get(query, "values"))
        return read_vector_input(r, query, vector_name, p);
    static const char *const unsupported[] = {"recommend", "discover", "context", "order_by", "formula", "sample",
                                              "relevance_feedback", NULL};
    for (const char *const *kind = unsupported; *kind; kind++)
        if (json_object_get(query, *kind))
            return eg_qdrant_unsupported(r->http_status, r->err, "`%s` queries are not supported by engram", *kind);
    json_t *nearest = json_object_get(query, "nearest"), *fusion = json_object_get(query, "fusion");
    json_t *rrf = json_object_get(query, "rrf");
    if (nearest) {
        static const char *const nearest_members[] = {"nearest", "mmr", NULL};
        static const char *const mmr[] = {"mmr", NULL};
        eg_status st;
        if ((st = eg_qdrant_check_members(query, "query", nearest_members, r->http_status, r->err)) ||
            (st = eg_qdrant_refuse_members(query, mmr, r->http_status, r->err)))
            return st;
        return read_vector_input(r, nearest, vector_name, p);
    }
    if (fusion && json_object_size(query) == 1) {
        const char *method = json_string_value(fusion);
        if (method && strcmp(method, "rrf") == 0) p->kind = QUERY_RRF, p->rrf_k = EG_RRF_K_DEFAULT;
        else if (method && strcmp(method, "dbsf") == 0) p->kind = QUERY_DBSF;
        else
            return eg_qdrant_format_error(r->http_status, r->err,
                                          "%squery.fusion: unknown variant, expected `rrf` or `dbsf`", where);
        return EG_OK;
    }
    if (rrf && json_object_size(query) == 1) {
        if (!json_is_object(rrf))
            return eg_qdrant_format_error(r->http_status, r->err, "%squery.rrf must be an object", where);
        return read_rrf(r, rrf, where, p);
    }
    return read_vector_input(r, query, vector_name, p);
}

/* ---- Reading a request or prefetch --------------------------------------------------------------------------- */

static const char *const query_members[] = {"prefetch", "query", "using", "filter", "params", "score_threshold",
                                            "limit", "offset", "with_vector", "with_vectors", "with_payload",
                                            "lookup_from", "shard_key", NULL};
static const char *const prefetch_members[] = {"prefetch", "query", "using", "filter", "params", "score_threshold",
                                               "limit", "lookup_from", NULL};
static const char *const lookup_members[] = {"lookup_from", "shard_key", NULL};

static eg_status read_plan(reader *r, json_t *object, const char *where, size_t depth, size_t offset, plan *p);

/* Prefetches nest as deep as the body does: the router's bound on JSON nesting (EG_SERVE_JSON_DEPTH_MAX, 64) bounds
 * this recursion, and matches Qdrant's own bound on prefetch depth (64). */
static eg_status read_prefetches(reader *r, json_t *prefetch, const char *where, size_t depth, plan *p) {
    if (!prefetch || json_is_null(prefetch)) return EG_OK;
    bool many = json_is_array(prefetch);
    size_t n = many ? json_array_size(prefetch) : 1;
    if (!many && !json_is_object(prefetch))
        return eg_qdrant_format_error(r->http_status, r->err, "%sprefetch must be a prefetch object or a list of them",
                                      where);
    if (n == 0) return EG_OK;
    if (!(p->prefetch = calloc(n, sizeof *p->prefetch))) return no_memory(r->err);
    p->prefetch_count = n;
    for (size_t i = 0; i < n; i++) {
        char inner[WHERE_MAX];
        snprintf(inner, sizeof inner, "%sprefetch[%zu].", where, i);
        json_t *one = many ? json_array_get(prefetch, i) : prefetch;
        if (!json_is_object(one))
            return eg_qdrant_format_error(r->http_status, r->err, "%sprefetch[%zu] must be an object", where, i);
        eg_status st = read_plan(r, one, inner, depth + 1, 0, &p->prefetch[i]);
        if (st) return st;
    }
    return EG_OK;
}

/* The checks Qdrant makes of a request and of each prefetch once read (collection_query.rs, planned_query.rs). */
static eg_status check_plan(reader *r, const plan *p, bool has_using) {
    bool fusion = p->kind == QUERY_RRF || p->kind == QUERY_DBSF;
    if (p->prefetch_count > 0 && p->kind == QUERY_NONE)
        return bad_request(r, "A query is needed to merge the prefetches. Can't have prefetches without defining a "
                              "query.");
    if (p->has_threshold && p->kind == QUERY_NONE)
        return bad_request(r, "A query is needed to use the score_threshold. Can't have score_threshold without "
                              "defining a query.");
    if (fusion && has_using) return bad_request(r, "Fusion queries cannot be combined with the 'using' field.");
    if (fusion && p->prefetch_count == 0)
        return eg_qdrant_unsupported(r->http_status, r->err,
                                     "Validation failed: cannot apply Fusion without prefetches");
    if (p->weights && p->weight_count != p->prefetch_count)
        return eg_qdrant_unsupported(r->http_status, r->err,
                                     "Validation failed: Number of weights in RRF should match number of pre-fetches: "
                                     "got %zu, expected %zu",
                                     p->weight_count, p->prefetch_count);
    return EG_OK;
}

/* The name of the object at `where` ("prefetch[0]." names prefetch[0]) in messages. */
static void object_name(const char *where, char out[WHERE_MAX]) {
    if (!where[0]) snprintf(out, WHERE_MAX, "the request body");
    else snprintf(out, WHERE_MAX, "%.*s", (int)strlen(where) - 1, where);
}

static eg_status read_plan(reader *r, json_t *object, const char *where, size_t depth, size_t offset, plan *p) {
    char here[WHERE_MAX];
    object_name(where, here);
    eg_status st = eg_qdrant_check_members(object, here, depth ? prefetch_members : query_members, r->http_status,
                                           r->err);
    if (st || (st = eg_qdrant_refuse_members(object, lookup_members, r->http_status, r->err))) return st;
    json_t *using = json_object_get(object, "using");
    bool has_using = using && !json_is_null(using);
    if (has_using && !json_is_string(using))
        return eg_qdrant_format_error(r->http_status, r->err, "%susing must be a vector name", where);
    if ((st = read_limit(r, object, "limit", where, offset, &p->limit)) || (st = read_threshold(r, object, where, p)) ||
        (st = read_params(r, object, where, &p->params)) ||
        (st = eg_qdrant_filter(json_object_get(object, "filter"), &p->filter, r->http_status, r->err)) ||
        (st = read_query(r, json_object_get(object, "query"), has_using ? json_string_value(using) : "", where, p)) ||
        (st = read_prefetches(r, json_object_get(object, "prefetch"), where, depth, p)))
        return st;
    return check_plan(r, p, has_using && json_string_value(using)[0]); /* "" is the default vector's name */
}

/* ---- Running a plan ------------------------------------------------------------------------------------------ */

/* A filter matching both a and b (either may be NULL); *out NULL when both are. */
static eg_status both_filters(const eg_filter *a, const eg_filter *b, eg_filter **out, eg_error *err) {
    *out = NULL;
    if (!a && !b) return EG_OK;
    json_t *must = json_array();
    if (a) json_array_append(must, eg_filter_json(a));
    if (b) json_array_append(must, eg_filter_json(b));
    json_t *combined = json_pack("{s:o}", "must", must);
    if (!combined) return no_memory(err);
    eg_status st = eg_filter_parse(combined, out, err);
    json_decref(combined);
    return st;
}

/* A filter that matches exactly (must) or never (must_not) the ids given. */
static eg_status id_filter(const eg_point_id *ids, size_t count, bool exclude, eg_filter **out, eg_error *err) {
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++)
        if (json_array_append_new(list, eg_point_id_to_json(&ids[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    json_t *filter = list ? json_pack("{s:[{s:o}]}", exclude ? "must_not" : "must", "has_id", list) : NULL;
    if (!filter) return no_memory(err);
    eg_status st = eg_filter_parse(filter, out, err);
    json_decref(filter);
    return st;
}

/* The points in id order (a query without a query), each with score 1 as Qdrant gives them. */
static eg_status scroll_ids(eg_vectors *v, const char *collection, const eg_filter *filter, size_t limit,
                            eg_scored_list *out, eg_error *err) {
    eg_scroll_request request = {.filter = filter, .limit = limit};
    eg_point_list points = {0};
    eg_point_id next;
    bool has_next;
    eg_status st = eg_vectors_scroll(v, collection, &request, &points, &next, &has_next, err);
    if (st) return st;
    out->items = calloc(points.count ? points.count : 1, sizeof *out->items);
    if (!out->items) st = no_memory(err);
    for (size_t i = 0; st == EG_OK && i < points.count; i++)
        out->items[out->count++] = (eg_scored_point){.point = {.id = points.items[i].id}, .score = 1.0};
    eg_point_list_free(&points);
    return st;
}

/* Searches with p's vector query among the points matching filter. */
static eg_status search(eg_vectors *v, const char *collection, const plan *p, const eg_filter *filter,
                        eg_scored_list *out, eg_error *err) {
    if (p->kind == QUERY_DENSE) {
        eg_search_request request = {.vector = p->dense, .dim = p->dim, .limit = p->limit, .filter = filter,
                                     .has_score_threshold = p->has_threshold, .score_threshold = p->threshold,
                                     .params = p->params};
        return eg_vectors_search(v, collection, &request, out, err);
    }
    eg_sparse_request request = {.vector = p->sparse, .limit = p->limit, .filter = filter,
                                 .has_score_threshold = p->has_threshold, .score_threshold = p->threshold};
    return eg_vectors_search_sparse(v, collection, &request, out, err);
}

/* Fuses the sources best first, keeping those at or above the threshold, at most limit of them. */
static eg_status fuse(const plan *p, const eg_scored_list *sources, eg_scored_list *out, eg_error *err) {
    eg_ranking *rankings = calloc(p->prefetch_count, sizeof *rankings);
    eg_point_id *ids = NULL;
    float *scores = NULL;
    size_t total = 0;
    for (size_t i = 0; i < p->prefetch_count; i++) total += sources[i].count;
    eg_status st = EG_OK;
    if (!rankings || !(ids = malloc((total ? total : 1) * sizeof *ids)) ||
        !(scores = malloc((total ? total : 1) * sizeof *scores)))
        st = no_memory(err);
    for (size_t i = 0, at = 0; st == EG_OK && i < p->prefetch_count; i++) {
        rankings[i] = (eg_ranking){ids + at, scores + at, sources[i].count};
        for (size_t j = 0; j < sources[i].count; j++, at++) {
            ids[at] = sources[i].items[j].point.id;
            scores[at] = (float)sources[i].items[j].score;
        }
    }
    eg_fused *fused = NULL;
    size_t fused_count = 0;
    if (st == EG_OK && !(p->kind == QUERY_RRF
                             ? eg_fuse_rrf(rankings, p->prefetch_count, p->rrf_k, p->weights, &fused, &fused_count)
                             : eg_fuse_dbsf(rankings, p->prefetch_count, &fused, &fused_count)))
        st = no_memory(err);
    if (st == EG_OK && !(out->items = calloc(fused_count ? fused_count : 1, sizeof *out->items))) st = no_memory(err);
    for (size_t i = 0; st == EG_OK && i < fused_count && out->count < p->limit; i++) {
        if (p->has_threshold && fused[i].score < (float)p->threshold) break; /* best first: the rest are too */
        out->items[out->count++] = (eg_scored_point){.point = {.id = fused[i].id}, .score = fused[i].score};
    }
    free(fused), free(scores), free(ids), free(rankings);
    return st;
}

/* Runs p among the points matching `inherited` (the filters above it, or NULL). */
static eg_status run_plan(eg_vectors *v, const char *collection, const plan *p, const eg_filter *inherited,
                          eg_scored_list *out, eg_error *err) {
    eg_filter *filter;
    eg_status st = both_filters(inherited, p->filter, &filter, err);
    if (st) return st;
    if (p->prefetch_count == 0) {
        st = p->kind == QUERY_NONE ? scroll_ids(v, collection, filter, p->limit, out, err)
                                   : search(v, collection, p, filter, out, err);
        eg_filter_free(filter);
        return st;
    }
    eg_scored_list *sources = calloc(p->prefetch_count, sizeof *sources);
    if (!sources) st = no_memory(err);
    for (size_t i = 0; st == EG_OK && i < p->prefetch_count; i++)
        st = run_plan(v, collection, &p->prefetch[i], filter, &sources[i], err);
    eg_filter_free(filter);
    if (st == EG_OK && (p->kind == QUERY_RRF || p->kind == QUERY_DBSF)) {
        st = fuse(p, sources, out, err);
    } else if (st == EG_OK) { /* a vector query rescores the sources' points: only they are searched */
        size_t total = 0;
        for (size_t i = 0; i < p->prefetch_count; i++) total += sources[i].count;
        eg_point_id *ids = malloc((total ? total : 1) * sizeof *ids);
        eg_filter *among = NULL;
        if (!ids) st = no_memory(err);
        for (size_t i = 0, at = 0; st == EG_OK && i < p->prefetch_count; i++)
            for (size_t j = 0; j < sources[i].count; j++) ids[at++] = sources[i].items[j].point.id;
        if (st == EG_OK && (st = id_filter(ids, total, false, &among, err)) == EG_OK)
            st = search(v, collection, p, among, out, err);
        eg_filter_free(among);
        free(ids);
    }
    for (size_t i = 0; sources && i < p->prefetch_count; i++) eg_scored_list_free(&sources[i]);
    free(sources);
    return st;
}

/* ---- Answers ------------------------------------------------------------------------------------------------- */

/* The page [offset, offset + limit) of ranked as ScoredPoints, with payloads and vectors read as selected. */
static eg_status page_json(eg_serve_ctx *ctx, const eg_collection_info *info, const eg_qdrant_layout *layout,
                           const eg_scored_list *ranked, size_t offset, const eg_payload_selector *payload,
                           bool with_vector, json_t **out, eg_error *err) {
    size_t first = offset < ranked->count ? offset : ranked->count, count = ranked->count - first;
    eg_point_list read = {0};
    eg_status st = EG_OK;
    if (count && (payload->any || with_vector)) {
        eg_point_id *ids = malloc(count * sizeof *ids);
        if (!ids) return no_memory(err);
        for (size_t i = 0; i < count; i++) ids[i] = ranked->items[first + i].point.id;
        st = eg_vectors_get(eg_db_vectors(ctx->db), info->name, ids, count, payload->any, with_vector, &read, err);
        free(ids);
        if (st) return st;
    }
    json_t *points = json_array();
    for (size_t i = 0, next_read = 0; points && i < count; i++) {
        const eg_scored_point *scored = &ranked->items[first + i];
        const eg_point *point = &scored->point;
        if (payload->any || with_vector) { /* get answers in the order asked, leaving out points deleted since */
            if (next_read == read.count || eg_point_id_compare(&read.items[next_read].id, &point->id) != 0) continue;
            point = &read.items[next_read++];
        }
        json_t *one = eg_qdrant_point_json(point, layout, payload, with_vector, &scored->score);
        if (json_array_append_new(points, one) != 0) {
            json_decref(points);
            points = NULL;
        }
    }
    eg_point_list_free(&read);
    if (!points) return no_memory(err);
    *out = points;
    return EG_OK;
}

/* A request read into a plan, its offset and its ids-as-queries, run, and answered as a list of ScoredPoints. */
static eg_status run_request(reader *r, plan *p, size_t offset, json_t *object, json_t **out) {
    eg_payload_selector payload;
    bool with_vector = false;
    json_t *vector_selector = json_object_get(object, "with_vector");
    if (!vector_selector) vector_selector = json_object_get(object, "with_vectors");
    eg_status st;
    if ((st = eg_qdrant_payload_selector(json_object_get(object, "with_payload"), false, &payload, r->err)) ||
        (st = eg_qdrant_vector_selector(vector_selector, r->layout, &with_vector, r->err)))
        return st;
    if (r->referenced_count) { /* the ids given as queries are left out of everything below the root */
        eg_filter *excluded = NULL, *root = NULL;
        st = id_filter(r->referenced, r->referenced_count, true, &excluded, r->err);
        if (st == EG_OK) st = both_filters(p->filter, excluded, &root, r->err);
        eg_filter_free(excluded);
        if (st) return st;
        eg_filter_free(p->filter);
        p->filter = root;
    }
    p->limit += offset;
    eg_scored_list ranked = {0};
    eg_error inner;
    st = run_plan(eg_db_vectors(r->ctx->db), r->info->name, p, NULL, &ranked, &inner);
    if (st) st = eg_qdrant_store_failure(st, &inner, r->http_status, r->err);
    if (st == EG_OK) st = page_json(r->ctx, r->info, r->layout, &ranked, offset, &payload, with_vector, out, r->err);
    eg_scored_list_free(&ranked);
    return st;
}

/* Reads one request of a route's kind into a plan and its offset. */
typedef eg_status (*request_reader)(reader *r, json_t *object, const char *where, plan *p, size_t *offset);

/* A QueryRequest. */
static eg_status read_query_request(reader *r, json_t *object, const char *where, plan *p, size_t *offset) {
    bool present;
    eg_status st = read_count(r, object, "offset", where, offset, &present);
    return st ? st : read_plan(r, object, where, 0, *offset, p);
}

static const char *const search_members[] = {"vector", "filter", "params", "limit", "top", "offset", "with_payload",
                                             "with_vector", "with_vectors", "score_threshold", "shard_key", NULL};
static const char *const shard_key_member[] = {"shard_key", NULL};

/* SearchRequest's vector: a dense array (the unnamed vector), {"name", "vector": [...]} (a named dense vector) or
 * {"name", "vector": {"indices", "values"}} (a named sparse vector). */
static eg_status read_search_vector(reader *r, json_t *vector, const char *where, plan *p) {
    if (!vector) return eg_qdrant_format_error(r->http_status, r->err, "%smissing field `vector`", where);
    if (json_is_array(vector)) return read_vector_input(r, vector, "", p);
    static const char *const named_members[] = {"name", "vector", NULL};
    eg_status st = eg_qdrant_check_members(vector, "vector", named_members, r->http_status, r->err);
    if (st) return st;
    json_t *name = json_object_get(vector, "name"), *values = json_object_get(vector, "vector");
    if (!json_is_string(name) || !(json_is_array(values) || json_is_object(values)))
        return eg_qdrant_format_error(r->http_status, r->err,
                                      "%svector must be a list of numbers or {\"name\", \"vector\"} with a dense or "
                                      "sparse vector",
                                      where);
    return read_vector_input(r, values, json_string_value(name), p);
}

/* A SearchRequest (the older API), read as the query it is: one search. limit is required; `top` is its alias. */
static eg_status read_search_request(reader *r, json_t *object, const char *where, plan *p, size_t *offset) {
    char here[WHERE_MAX];
    object_name(where, here);
    bool present;
    eg_status st = eg_qdrant_check_members(object, here, search_members, r->http_status, r->err);
    const char *limit_name = json_object_get(object, "limit") ? "limit" : "top";
    json_t *limit = json_object_get(object, limit_name);
    if (st == EG_OK && (!limit || json_is_null(limit)))
        st = eg_qdrant_format_error(r->http_status, r->err, "%smissing field `limit`", where);
    if (st == EG_OK) st = eg_qdrant_refuse_members(object, shard_key_member, r->http_status, r->err);
    if (st == EG_OK) st = read_count(r, object, "offset", where, offset, &present);
    if (st == EG_OK) st = read_limit(r, object, limit_name, where, *offset, &p->limit);
    if (st == EG_OK) st = read_threshold(r, object, where, p);
    if (st == EG_OK) st = read_params(r, object, where, &p->params);
    if (st == EG_OK) st = eg_qdrant_filter(json_object_get(object, "filter"), &p->filter, r->http_status, r->err);
    if (st == EG_OK) st = read_search_vector(r, json_object_get(object, "vector"), where, p);
    return st;
}

/* One request against the collection: its points (a list of ScoredPoints). */
static eg_status answer(eg_serve_ctx *ctx, const eg_collection_info *info, const eg_qdrant_layout *layout,
                        request_reader read, json_t *object, const char *where, json_t **points,
                        unsigned *http_status, eg_error *err) {
    reader r = {ctx, info, layout, http_status, err, NULL, 0, 0};
    plan p = {.kind = QUERY_NONE};
    size_t offset = 0;
    char here[WHERE_MAX];
    object_name(where, here);
    eg_status st = json_is_object(object) ? EG_OK
                                          : eg_qdrant_format_error(http_status, err, "%s must be a JSON object", here);
    if (st == EG_OK) st = read(&r, object, where, &p, &offset);
    if (st == EG_OK) st = run_request(&r, &p, offset, object, points);
    plan_clear(&p);
    free(r.referenced);
    return st;
}

/* The four routes: one request or a batch ({"searches": [...]}), of queries (each answered {"points": [...]}) or
 * of the older searches (each answered with the list itself). A batch fails whole at its first failing request,
 * as Qdrant's does. */
static eg_status serve(eg_serve_ctx *ctx, const eg_http_request *req, const char *collection, json_t *body,
                       bool is_batch, bool legacy, json_t **result, unsigned *http_status, eg_error *err) {
    static const char *const batch_members[] = {"searches", NULL};
    request_reader read = legacy ? read_search_request : read_query_request;
    eg_collection_info info = {0};
    eg_qdrant_layout layout;
    json_t *searches = is_batch ? json_object_get(body, "searches") : NULL, *answers = json_array();
    eg_status st = eg_qdrant_read_params(req, http_status, err);
    if (st == EG_OK) st = eg_qdrant_collection(ctx, collection, &info, &layout, http_status, err);
    if (st == EG_OK && !answers) st = no_memory(err);
    if (st == EG_OK && is_batch && !json_is_array(searches))
        st = eg_qdrant_format_error(http_status, err, "missing field `searches`: a list of %s requests",
                                    legacy ? "search" : "query");
    if (st == EG_OK && is_batch)
        st = eg_qdrant_check_members(body, "the request body", batch_members, http_status, err);
    for (size_t i = 0; st == EG_OK && i < (is_batch ? json_array_size(searches) : 1); i++) {
        char where[WHERE_MAX] = "";
        if (is_batch) snprintf(where, sizeof where, "searches[%zu].", i);
        json_t *points = NULL;
        st = answer(ctx, &info, &layout, read, is_batch ? json_array_get(searches, i) : body, where, &points,
                    http_status, err);
        json_t *one = st || legacy ? points : json_pack("{s:o}", "points", points);
        if (st == EG_OK && json_array_append_new(answers, one) != 0) st = no_memory(err);
    }
    eg_collection_info_clear(&info);
    if (st == EG_OK) *result = is_batch ? json_incref(answers) : json_incref(json_array_get(answers, 0));
    json_decref(answers);
    return st;
}

static eg_status query_points(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                              json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    return serve(ctx, req, captures[0], body, false, false, result, http_status, err);
}

static eg_status query_batch(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures, json_t *body,
                             json_t **result, unsigned *http_status, eg_error *err) {
    return serve(ctx, req, captures[0], body, true, false, result, http_status, err);
}

static eg_status search_points(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                               json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    return serve(ctx, req, captures[0], body, false, true, result, http_status, err);
}

static eg_status search_batch(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                              json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    return serve(ctx, req, captures[0], body, true, true, result, http_status, err);
}

/* Qdrant's other search endpoints (groups, recommend, discover, distance matrices): refused with a
 * message naming the endpoint, rather than the 404 of a path Qdrant does not have. */
static eg_status not_supported(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                               json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)ctx, (void)body, (void)result;
    const char *endpoint = req->path + strlen("/collections/") + strlen(captures[0]) + 1;
    return eg_qdrant_unsupported(http_status, err,
                                 "POST /collections/{collection_name}/%.64s is not supported by engram (docs/serve.md "
                                 "lists what is)",
                                 endpoint);
}

const eg_route eg_qdrant_query_routes[] = {
    {.method = "POST", .pattern = "/collections/{collection_name}/points/query", .qdrant = query_points},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/query/batch", .qdrant = query_batch},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/search", .qdrant = search_points},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/search/batch", .qdrant = search_batch},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/query/groups", .qdrant = not_supported},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/search/groups", .qdrant = not_supported},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/search/matrix/pairs", .qdrant = not_supported},
    {.method = "POST",
     .pattern = "/collections/{collection_name}/points/search/matrix/offsets",
     .qdrant = not_supported},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/recommend", .qdrant = not_supported},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/recommend/batch", .qdrant = not_supported},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/recommend/groups", .qdrant = not_supported},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/discover", .qdrant = not_supported},
    {.method = "POST", .pattern = "/collections/{collection_name}/points/discover/batch", .qdrant = not_supported},
    {0},
};
