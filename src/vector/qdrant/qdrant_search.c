/* qdrant_search.c — the searches of the Qdrant backend, all through Qdrant's query API (POST /points/query): dense
 * (`using` the dense vector's name for a named layout), sparse (`using` the sparse vector's name) and hybrid (a
 * dense and a sparse prefetch of max(limit, ceil(1.5 * limit)) candidates each, fused by RRF — the ranking the
 * embedded backend computes, with Qdrant's k = 2). */
#include "vector/qdrant/qdrant_internal.h"

#include "model/json_shapes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* "params": only what differs from the defaults, so that a server without those knobs is not asked for them. */
static void set_params(json_t *query, const eg_search_params *p) {
    json_t *params = json_object();
    if (!params) return;
    if (p->hnsw_ef) json_object_set_new(params, "hnsw_ef", json_integer((json_int_t)p->hnsw_ef));
    if (p->exact) json_object_set_new(params, "exact", json_true());
    if (p->oversampling != 0)
        json_object_set_new(params, "quantization", json_pack("{s:f, s:b}", "oversampling", p->oversampling,
                                                              "rescore", true));
    if (json_object_size(params)) json_object_set_new(query, "params", params);
    else json_decref(params);
}

/* The members every search request has; NULL when out of memory. */
static json_t *query_body(size_t limit, size_t offset, bool has_threshold, double threshold, bool with_payload,
                          bool with_vectors) {
    json_t *body = json_pack("{s:I, s:b, s:b}", "limit", (json_int_t)limit, "with_payload", with_payload,
                             "with_vector", with_vectors);
    if (body && offset) json_object_set_new(body, "offset", json_integer((json_int_t)offset));
    if (body && has_threshold) json_object_set_new(body, "score_threshold", json_real(threshold));
    return body;
}

static void set_using(json_t *query, const char *name) {
    if (*name) json_object_set_new(query, "using", json_string(name));
}

/* Sends the query and reads its points; takes body. */
static eg_status run_query(qdrant_vectors *q, const char *collection, const qdrant_layout *layout, json_t *body,
                           bool with_payload, bool with_vectors, eg_scored_list *out, eg_error *err) {
    if (!body) return eg_error_set(err, EG_INTERNAL, "out of memory");
    json_t *result;
    eg_status st = qdrant_call(q, "POST", collection, "/points/query", body, &result, err);
    json_decref(body);
    if (st == EG_OK)
        st = qdrant_scored_from_json(layout, json_object_get(result, "points"), with_payload, with_vectors, out, err);
    json_decref(result);
    return st;
}

eg_status qdrant_search(eg_vectors *v, const char *collection, const eg_search_request *r, eg_scored_list *out,
                        eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    eg_status st = qdrant_layout_get(q, collection, &layout, err);
    if (st) return st;
    json_t *body = query_body(r->limit, r->offset, r->has_score_threshold, r->score_threshold, r->with_payload,
                              r->with_vectors);
    if (body) {
        json_object_set_new(body, "query", eg_floats_json(r->vector, r->dim));
        set_using(body, layout.dense);
        qdrant_set_filter(body, r->filter);
        set_params(body, &r->params);
    }
    return run_query(q, collection, &layout, body, r->with_payload, r->with_vectors, out, err);
}

/* Sparse and hybrid searches need the collection's sparse vector; the embedded backend's words. */
static eg_status require_sparse(qdrant_vectors *q, const char *collection, const char *what, qdrant_layout *layout,
                                eg_error *err) {
    eg_status st = qdrant_layout_get(q, collection, layout, err);
    if (st == EG_OK && !layout->sparse[0])
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "%s needs a collection created with sparse vectors", what);
    return st;
}

eg_status qdrant_search_sparse(eg_vectors *v, const char *collection, const eg_sparse_request *r, eg_scored_list *out,
                               eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    eg_status st = require_sparse(q, collection, "search_sparse", &layout, err);
    if (st) return st;
    if (r->vector.count == 0) { /* no index shared with anything: no candidates, as in the embedded backend */
        out->items = NULL;
        out->count = 0;
        return EG_OK;
    }
    json_t *body = query_body(r->limit, r->offset, r->has_score_threshold, r->score_threshold, r->with_payload,
                              r->with_vectors);
    if (body) {
        json_object_set_new(body, "query", eg_sparse_json(&r->vector));
        set_using(body, layout.sparse);
        qdrant_set_filter(body, r->filter);
    }
    return run_query(q, collection, &layout, body, r->with_payload, r->with_vectors, out, err);
}

eg_status qdrant_search_hybrid(eg_vectors *v, const char *collection, const eg_hybrid_request *r, eg_scored_list *out,
                               eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    eg_status st = require_sparse(q, collection, "search_hybrid", &layout, err);
    if (st) return st;
    size_t candidates = (size_t)ceil(1.5 * (double)r->limit);
    if (candidates < r->limit) candidates = r->limit;
    json_t *dense = json_pack("{s:o, s:I}", "query", eg_floats_json(r->vector, r->dim), "limit",
                              (json_int_t)candidates);
    json_t *sparse = json_pack("{s:o, s:I}", "query", eg_sparse_json(&r->sparse), "limit", (json_int_t)candidates);
    json_t *body = query_body(r->limit, 0, r->has_score_threshold, r->score_threshold, r->with_payload,
                              r->with_vectors);
    if (dense && sparse && body) {
        set_using(dense, layout.dense);
        set_using(sparse, layout.sparse);
        set_params(dense, &r->params);
        /* The filter goes to both sources (as the original sent it): the fused list holds only their points. */
        qdrant_set_filter(dense, r->filter);
        qdrant_set_filter(sparse, r->filter);
        json_object_set_new(body, "prefetch", json_pack("[O, O]", dense, sparse));
        json_object_set_new(body, "query", json_pack("{s:s}", "fusion", "rrf"));
    } else {
        json_decref(body);
        body = NULL;
    }
    json_decref(dense);
    json_decref(sparse);
    return run_query(q, collection, &layout, body, r->with_payload, r->with_vectors, out, err);
}
