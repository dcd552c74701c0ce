/* local_search.c — exact and approximate similarity search, sparse search and hybrid (dense + sparse, fused by
 * fusion.h's RRF) search of the embedded backend.
 *
 * Exact search scores every candidate against the query: without a filter, a cursor walks the collection's dense
 * vectors straight from the memory map (no copy); with one, lv_for_each_match yields only matching points (from
 * a payload index when one applies) and their vectors are looked up. Either way the filter is applied while
 * searching, so a filtered search returns min(limit, matching) results. A bounded top-k keeps the best
 * limit + offset; ties go to the smaller id.
 *
 * Approximate search (above the collection's full-scan threshold, unless the request is exact or a payload index
 * shows the filter to be selective) asks the collection's HNSW index (local_ann.c) for candidates, checking the
 * filter on every point the walk meets (against this snapshot). The index may be a write ahead of the snapshot:
 * candidates the snapshot does not hold are left out when their payload or vector is read; a search that asks for
 * neither may name a point written while it ran. */
#include "vector/distance.h"
#include "vector/fusion.h"
#include "vector/hnsw.h"
#include "vector/local/local_vectors.h"
#include "vector/topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct scorer {
    local_vectors *lv;
    MDB_txn *txn;
    const local_collection *c;
    const float *query;
    float *aligned; /* dim floats: where a stored vector is copied when LMDB placed it at an odd address */
    float *scores;  /* a run's scores, in the unfiltered scan */
    eg_status st;   /* the first error of the unfiltered scan's visits */
    eg_error *err;
    eg_topk top;
    bool has_threshold;
    double threshold;
} scorer;

static bool passes_threshold(const scorer *s, float score) {
    if (!s->has_threshold) return true;
    return eg_distance_higher_is_better(s->c->config.distance) ? score >= s->threshold : score <= s->threshold;
}

/* Stored values are read in place from the map when 4-byte aligned (large vectors always are: they live on
 * their own pages), else copied: LMDB only promises 2-byte alignment. */
static const float *aligned_vector(scorer *s, const void *stored) {
    if (((uintptr_t)stored & (sizeof(float) - 1)) == 0) return stored;
    memcpy(s->aligned, stored, (size_t)s->c->config.dim * sizeof(float));
    return s->aligned;
}

static void offer_scored(scorer *s, const unsigned char key[ROW_KEY_SIZE], float score) {
    if (!eg_topk_may_accept(&s->top, score) || !passes_threshold(s, score)) return;
    eg_point_id id;
    lv_row_key_id(key, &id);
    eg_topk_push(&s->top, score, &id, 0);
}

static void offer(scorer *s, const unsigned char key[ROW_KEY_SIZE], const void *stored) {
    const float *vector = aligned_vector(s, stored);
    offer_scored(s, key, eg_vec_score(s->c->config.distance, s->query, vector, s->c->config.dim));
}

static eg_status score_match(void *ctx, const unsigned char key[ROW_KEY_SIZE], eg_error *err) {
    scorer *s = ctx;
    lv_record r;
    const float *vector;
    eg_status st = lv_read_record(s->lv, s->txn, key, &r, err);
    if (st == EG_OK && (st = lv_slot_vector(s->lv, s->txn, s->c, r.slot, &vector, err)) == EG_OK) offer(s, key, vector);
    return st;
}

/* Scores a run of slots with the block scorer (one contiguous stream), then names, through the snapshot, the
 * slots whose score could enter the results: free slots hold anything, so they are dropped only there. */
static void score_run(void *ctx, uint32_t first_slot, uint32_t count, const float *vectors) {
    scorer *s = ctx;
    if (s->st != EG_OK) return;
    eg_vec_score_block(s->c->config.distance, s->query, vectors, count, s->c->config.dim, s->scores);
    for (uint32_t i = 0; i < count; i++) {
        float score = s->scores[i];
        if (!eg_topk_may_accept(&s->top, score) || !passes_threshold(s, score)) continue;
        const unsigned char *point_key;
        const float *stored;
        if ((s->st = lv_slot_read(s->lv, s->txn, s->c, first_slot + i, &point_key, &stored, s->err)) != EG_OK) return;
        if (point_key[0] == LV_EMPTY_SLOT) continue;
        unsigned char key[ROW_KEY_SIZE];
        eg_point_id id;
        lv_collection_prefix(s->c->number, key);
        memcpy(key + 4, point_key, POINT_KEY_SIZE);
        lv_row_key_id(key, &id);
        eg_topk_push(&s->top, score, &id, 0);
    }
}

/* The unfiltered scan: every vector of the collection, in slot order, read in place. */
static eg_status score_all(scorer *s, eg_error *err) {
    s->scores = malloc(LV_SCAN_BLOCK * sizeof *s->scores);
    if (!s->scores) return eg_error_set(err, EG_INTERNAL, "out of memory");
    s->st = EG_OK;
    s->err = err;
    eg_status st = lv_slab_scan(s->lv, s->txn, s->c, score_run, s, err);
    free(s->scores);
    return st ? st : s->st;
}

/* Fills out with the ranked points from `first` on, reading payloads and vectors as asked. */
static eg_status build_results(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_point_id *ids,
                               const double *scores, size_t count, bool with_payload, bool with_vectors,
                               eg_scored_list *out, eg_error *err) {
    out->items = calloc(count ? count : 1, sizeof *out->items);
    if (!out->items) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count; i++) {
        eg_scored_point *r = &out->items[out->count++];
        r->point.id = ids[i];
        r->score = scores[i];
        if (!with_payload && !with_vectors) continue; /* the id and score are all that was asked for */
        unsigned char key[ROW_KEY_SIZE];
        lv_row_key(c->number, &ids[i], key);
        eg_status st = lv_read_point(lv, txn, c, key, with_payload, with_vectors, &r->point, err);
        if (st == EG_NOT_FOUND) { /* an approximate candidate newer than this snapshot */
            eg_point_clear(&r->point);
            out->count--;
            continue;
        }
        if (st) return st;
    }
    return EG_OK;
}

/* ---- approximate ranking ---------------------------------------------------------------------------------- */

/* Should this search walk the index? Not below the collection's full-scan threshold, and not when the payload
 * indexes show that fewer points than that can match the filter: then *candidates receives them all (used set),
 * and scoring just those is cheaper and exact. */
static eg_status use_index(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_filter *filter,
                           bool *out, lv_key_list *candidates, bool *used, eg_error *err) {
    uint64_t count;
    eg_status st = lv_count_get(lv, txn, c->number, &count, err);
    *out = st == EG_OK && count >= c->config.full_scan_threshold;
    *used = false;
    if (st || !*out || !filter) return st;
    candidates->limit = c->config.full_scan_threshold; /* enough to decide */
    st = lv_index_candidates(lv, txn, c, filter, used, candidates, err);
    if (st == EG_OK && *used && !candidates->truncated && candidates->count < c->config.full_scan_threshold)
        *out = false;
    else
        *used = false;
    return st;
}

/* What a graph walk checks on each point it meets: with a filter, that the point matches it; and in the walk
 * that validates, that this search's snapshot holds a point in that slot. The first walk trusts the point key the
 * index holds for the slot (its results count only if the index turns out to have held the snapshot's version
 * throughout), so an indexed filter is tested without reading the point at all. */
typedef struct walk_check {
    scorer *s;
    const eg_filter *filter;
    const lv_index_probe *probe; /* the filter tested through its index, when it answers it exactly; else NULL */
    bool validate;
    eg_status st; /* the first read error, which ends the search with it */
    eg_error *err;
} walk_check;

static bool accept_point(void *ctx, uint32_t slot, const unsigned char index_key[POINT_KEY_SIZE]) {
    walk_check *w = ctx;
    const unsigned char *point_key = index_key;
    const float *vector;
    if (w->st != EG_OK) return false;
    if (w->validate && lv_slot_read(w->s->lv, w->s->txn, w->s->c, slot, &point_key, &vector, NULL) != EG_OK)
        return false;
    if (point_key[0] == LV_EMPTY_SLOT) return false; /* not in this snapshot: a write the index has seen first */
    if (!w->filter) return true;
    if (w->probe) {
        bool match;
        eg_status st = lv_index_probe_matches(w->s->lv, w->s->txn, w->probe, point_key, &match, w->err);
        if (st) w->st = st;
        return st == EG_OK && match;
    }
    unsigned char key[ROW_KEY_SIZE];
    lv_collection_prefix(w->s->c->number, key);
    memcpy(key + 4, point_key, POINT_KEY_SIZE);
    json_t *payload = NULL;
    eg_status st = lv_read_payload(w->s->lv, w->s->txn, key, &payload, w->err);
    if (st == EG_NOT_FOUND) return false;
    if (st) {
        w->st = st;
        return false;
    }
    eg_point_id id;
    lv_row_key_id(key, &id);
    bool match = eg_filter_matches(w->filter, &id, payload);
    json_decref(payload);
    return match;
}

/* One walk of the index for the best `want` candidates. Without `validate`, points are checked against the
 * snapshot only for the filter, and the walk counts only if the index held the snapshot's version throughout
 * (*in_step); with it, every point is checked, and results are named and scored from the snapshot. A float
 * index scores with the very vectors the store holds, so its scores are exact; an int8 index's candidates are
 * always scored again from the snapshot's stored floats (the rescoring). */
static eg_status walk(scorer *s, uint64_t version, size_t want, size_t ef, const eg_filter *filter,
                      const lv_index_probe *probe, bool validate, bool *in_step, eg_error *err) {
    bool rescore = validate || s->c->config.quantization == EG_QUANTIZATION_INT8;
    eg_hnsw_hit *hits = malloc(want * sizeof *hits);
    unsigned char(*keys)[POINT_KEY_SIZE] = malloc(want * POINT_KEY_SIZE);
    if (!hits || !keys) {
        free(hits), free(keys);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    walk_check w = {s, filter, probe, validate, EG_OK, err};
    size_t found = 0;
    eg_status st = lv_ann_search(s->lv, s->c, version, s->query, want, ef, filter || validate ? accept_point : NULL, &w,
                                 hits, keys, &found, in_step, err);
    if (st == EG_OK) st = w.st;
    for (size_t i = 0; i < found && st == EG_OK && (validate || *in_step); i++) {
        unsigned char key[ROW_KEY_SIZE];
        lv_collection_prefix(s->c->number, key);
        if (!rescore) {
            memcpy(key + 4, keys[i], POINT_KEY_SIZE);
            offer_scored(s, key, hits[i].score);
            continue;
        }
        const unsigned char *point_key;
        const float *vector;
        st = lv_slot_read(s->lv, s->txn, s->c, hits[i].label, &point_key, &vector, err);
        if (st == EG_OK && point_key[0] != LV_EMPTY_SLOT) { /* else a slot first used after this snapshot */
            memcpy(key + 4, point_key, POINT_KEY_SIZE);
            offer(s, key, vector);
        }
    }
    free(hits);
    free(keys);
    return st;
}

/* The index's best k candidates into s->top: a walk trusting the index when it held this snapshot's version
 * throughout, else a second walk checking every point against the snapshot, so that a write landing meanwhile
 * never costs results. */
static eg_status score_approximate(scorer *s, const eg_search_params *params, const eg_filter *filter,
                                   const lv_index_probe *probe, size_t k, eg_error *err) {
    uint64_t version;
    eg_status st = lv_version_get(s->lv, s->txn, s->c->number, &version, err);
    if (st) return st;
    double oversampling = params->oversampling > 0 ? params->oversampling : 1.0;
    size_t want = s->c->config.quantization == EG_QUANTIZATION_INT8 ? (size_t)ceil(oversampling * (double)k) : k;
    size_t ef = params->hnsw_ef ? params->hnsw_ef : EG_HNSW_EF_DEFAULT;
    if (ef < want) ef = want;
    bool in_step = false;
    st = walk(s, version, want, ef, filter, probe, false, &in_step, err);
    return st || in_step ? st : walk(s, version, want, ef, filter, probe, true, &in_step, err);
}

/* ---- ranking -------------------------------------------------------------------------------------------- */

/* Runs the dense ranking of a request: the best `k` matches of filter. */
static eg_status rank_dense(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_search_params *params,
                            const float *vector, size_t dim, size_t k, const eg_filter *filter, bool has_threshold,
                            double threshold, eg_topk *out, eg_error *err) {
    if (dim != c->config.dim)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "query vector has %zu values; the collection has dim %u", dim,
                            c->config.dim);
    float *query = malloc(dim * sizeof *query), *aligned = malloc(dim * sizeof *aligned);
    scorer s = {.lv = lv, .txn = txn, .c = c, .query = query, .aligned = aligned, .has_threshold = has_threshold,
                .threshold = threshold};
    if (!query || !aligned || !eg_topk_init(&s.top, k, c->config.distance)) {
        free(query), free(aligned);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    memcpy(query, vector, dim * sizeof *query);
    if (c->config.distance == EG_DISTANCE_COSINE) eg_vec_normalize(query, dim);
    bool approximate = false, few = false; /* few: the filter's candidates, all in `candidates` */
    lv_key_list candidates = {0};
    eg_status st = params->exact ? EG_OK : use_index(lv, txn, c, filter, &approximate, &candidates, &few, err);
    lv_index_probe probe = {0};
    bool probing = st == EG_OK && approximate && filter && candidates.exact;
    if (probing) st = lv_index_probe_init(c, filter, &probe, err);
    if (st == EG_OK)
        st = approximate ? score_approximate(&s, params, filter, probing ? &probe : NULL, k, err)
             : few       ? lv_for_each_candidate(lv, txn, filter, &candidates, score_match, &s, err)
             : filter    ? lv_for_each_match(lv, txn, c, filter, NULL, score_match, &s, err)
                         : score_all(&s, err);
    lv_key_list_free(&candidates);
    lv_index_probe_free(&probe);
    free(query), free(aligned);
    if (st) {
        eg_topk_free(&s.top);
        return st;
    }
    eg_topk_sort(&s.top);
    *out = s.top;
    return EG_OK;
}

/* What a search body reads: its request (an eg_search_request, eg_hybrid_request or eg_sparse_request) and
 * where its results go. */
typedef struct search_ctx {
    const void *request;
    eg_scored_list *out;
} search_ctx;

/* Runs a search body in one read transaction; on failure out holds nothing. */
static eg_status run_search(eg_vectors *v, const char *collection, lv_read_body body, const void *request,
                            eg_scored_list *out, eg_error *err) {
    search_ctx x = {request, out};
    eg_status st = lv_in_read(local_of(v), collection, body, &x, err);
    if (st) eg_scored_list_free(out);
    return st;
}

/* Fills out with the ranked entries of top from `offset` on. */
static eg_status results_from_top(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_topk *top,
                                  size_t offset, bool with_payload, bool with_vectors, eg_scored_list *out,
                                  eg_error *err) {
    size_t first = offset < top->count ? offset : top->count, count = top->count - first;
    eg_point_id *ids = malloc((count ? count : 1) * sizeof *ids);
    double *scores = malloc((count ? count : 1) * sizeof *scores);
    eg_status st = ids && scores ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; st == EG_OK && i < count; i++) {
        ids[i] = top->items[first + i].id;
        scores[i] = top->items[first + i].score;
    }
    if (st == EG_OK) st = build_results(lv, txn, c, ids, scores, count, with_payload, with_vectors, out, err);
    free(ids);
    free(scores);
    return st;
}

static eg_status search_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, void *ctx, eg_error *err) {
    search_ctx *x = ctx;
    const eg_search_request *r = x->request;
    eg_topk top;
    eg_status st = rank_dense(lv, txn, c, &r->params, r->vector, r->dim, r->limit + r->offset, r->filter,
                              r->has_score_threshold, r->score_threshold, &top, err);
    if (st) return st;
    st = results_from_top(lv, txn, c, &top, r->offset, r->with_payload, r->with_vectors, x->out, err);
    eg_topk_free(&top);
    return st;
}

eg_status lv_search(eg_vectors *v, const char *collection, const eg_search_request *request, eg_scored_list *out,
                    eg_error *err) {
    return run_search(v, collection, search_body, request, out, err);
}

/* ---- sparse ranking and hybrid ------------------------------------------------------------------------------ */

typedef struct sparse_scorer {
    local_vectors *lv;
    MDB_txn *txn;
    const eg_sparse_vector *query;
    eg_topk top;
    uint32_t *scratch; /* indices then values of the stored vector being scored */
    size_t scratch_cap;
    bool failed;       /* out of memory while scoring */
    bool has_threshold;
    double threshold;  /* a floor */
} sparse_scorer;

/* Do two sparse vectors (indices ascending) share an index? */
static bool sparse_overlap(const eg_sparse_vector *a, const eg_sparse_vector *b) {
    for (size_t i = 0, j = 0; i < a->count && j < b->count;) {
        if (a->indices[i] == b->indices[j]) return true;
        if (a->indices[i] < b->indices[j]) i++;
        else j++;
    }
    return false;
}

/* Scores one stored sparse vector (copied out: LMDB values may sit at odd addresses). The candidates are the
 * points sharing at least one index with the query, whatever their product (zero and negative included). */
static void offer_sparse(sparse_scorer *s, const unsigned char key[ROW_KEY_SIZE], const MDB_val *v) {
    size_t n = v->mv_size / 8;
    if (n > s->scratch_cap) {
        uint32_t *grown = realloc(s->scratch, n * 8);
        if (!grown) {
            s->failed = true;
            return;
        }
        s->scratch = grown, s->scratch_cap = n;
    }
    memcpy(s->scratch, v->mv_data, n * 8);
    eg_sparse_vector stored = {s->scratch, (float *)(s->scratch + n), n};
    if (!sparse_overlap(s->query, &stored)) return;
    float score = eg_sparse_dot(s->query, &stored);
    if (!eg_topk_may_accept(&s->top, score) || (s->has_threshold && score < s->threshold)) return;
    eg_point_id id;
    lv_row_key_id(key, &id);
    eg_topk_push(&s->top, score, &id, 0);
}

static eg_status sparse_match(void *ctx, const unsigned char key[ROW_KEY_SIZE], eg_error *err) {
    sparse_scorer *s = ctx;
    MDB_val k = {ROW_KEY_SIZE, (void *)key}, v;
    int rc = mdb_get(s->txn, s->lv->sparse, &k, &v);
    if (rc == MDB_NOTFOUND) return EG_OK;
    if (rc) return lv_mdb_error(s->lv, rc, "read sparse vector", err);
    offer_sparse(s, key, &v);
    return EG_OK;
}

static eg_status sparse_all(sparse_scorer *s, uint32_t collection, eg_error *err) {
    unsigned char prefix[4];
    lv_collection_prefix(collection, prefix);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(s->txn, s->lv->sparse, &cur);
    if (rc) return lv_mdb_error(s->lv, rc, "sparse search", err);
    MDB_val k = {4, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != ROW_KEY_SIZE || memcmp(k.mv_data, prefix, 4) != 0) break;
        offer_sparse(s, k.mv_data, &v);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? EG_OK : lv_mdb_error(s->lv, rc, "sparse search", err);
}

/* The best k points by their sparse vectors (see eg_sparse_request) matching filter. */
static eg_status rank_sparse(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_sparse_vector *q,
                             size_t k, const eg_filter *filter, bool has_threshold, double threshold, eg_topk *out,
                             eg_error *err) {
    eg_sparse_vector query = {malloc((q->count ? q->count : 1) * sizeof(uint32_t)),
                              malloc((q->count ? q->count : 1) * sizeof(float)), q->count};
    sparse_scorer s = {lv, txn, &query, {0}, NULL, 0, false, has_threshold, threshold};
    eg_status st = EG_OK;
    if (!query.indices || !query.values || !eg_topk_init(&s.top, k, EG_DISTANCE_DOT))
        st = eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st == EG_OK && q->count) { /* an empty query's arrays may be NULL: nothing to copy */
        memcpy(query.indices, q->indices, q->count * sizeof(uint32_t));
        memcpy(query.values, q->values, q->count * sizeof(float));
        st = eg_sparse_sort(&query, err);
    }
    if (st == EG_OK)
        st = filter ? lv_for_each_match(lv, txn, c, filter, NULL, sparse_match, &s, err) : sparse_all(&s, c->number, err);
    free(query.indices);
    free(query.values);
    free(s.scratch);
    if (st == EG_OK && s.failed) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st) {
        eg_topk_free(&s.top);
        return st;
    }
    eg_topk_sort(&s.top);
    *out = s.top;
    return EG_OK;
}

/* The ids of a ranking, best first, for fusion. */
static eg_point_id *ranked_ids(const eg_topk *t) {
    eg_point_id *ids = malloc((t->count ? t->count : 1) * sizeof *ids);
    for (size_t i = 0; ids && i < t->count; i++) ids[i] = t->items[i].id;
    return ids;
}

static eg_status hybrid_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, void *ctx, eg_error *err) {
    search_ctx *x = ctx;
    const eg_hybrid_request *r = x->request;
    if (!c->config.sparse)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "search_hybrid needs a collection created with sparse vectors");
    size_t prefetch = (size_t)ceil(1.5 * (double)r->limit);
    if (prefetch < r->limit) prefetch = r->limit;
    eg_topk dense = {0}, sparse = {0};
    eg_status st = rank_dense(lv, txn, c, &r->params, r->vector, r->dim, prefetch, r->filter, false, 0, &dense, err);
    if (st == EG_OK) st = rank_sparse(lv, txn, c, &r->sparse, prefetch, r->filter, false, 0, &sparse, err);
    eg_ranking rankings[2] = {{st == EG_OK ? ranked_ids(&dense) : NULL, NULL, dense.count},
                              {st == EG_OK ? ranked_ids(&sparse) : NULL, NULL, sparse.count}};
    eg_fused *fused = NULL;
    size_t fused_count = 0;
    if (st == EG_OK && (!rankings[0].ids || !rankings[1].ids ||
                        !eg_fuse_rrf(rankings, 2, EG_RRF_K_DEFAULT, NULL, &fused, &fused_count)))
        st = eg_error_set(err, EG_INTERNAL, "out of memory");
    size_t kept = 0;
    eg_point_id *ids = malloc((fused_count ? fused_count : 1) * sizeof *ids);
    double *scores = malloc((fused_count ? fused_count : 1) * sizeof *scores);
    if (st == EG_OK && (!ids || !scores)) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; st == EG_OK && i < fused_count && kept < r->limit; i++) {
        if (r->has_score_threshold && fused[i].score < r->score_threshold) break; /* fused scores come best first */
        ids[kept] = fused[i].id;
        scores[kept++] = fused[i].score;
    }
    if (st == EG_OK) st = build_results(lv, txn, c, ids, scores, kept, r->with_payload, r->with_vectors, x->out, err);
    free(ids), free(scores), free(fused), free((void *)rankings[0].ids), free((void *)rankings[1].ids);
    eg_topk_free(&dense);
    eg_topk_free(&sparse);
    return st;
}

eg_status lv_search_hybrid(eg_vectors *v, const char *collection, const eg_hybrid_request *request,
                           eg_scored_list *out, eg_error *err) {
    return run_search(v, collection, hybrid_body, request, out, err);
}

/* ---- sparse search ------------------------------------------------------------------------------------------ */

static eg_status sparse_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, void *ctx, eg_error *err) {
    search_ctx *x = ctx;
    const eg_sparse_request *r = x->request;
    if (!c->config.sparse)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "search_sparse needs a collection created with sparse vectors");
    eg_topk top;
    eg_status st = rank_sparse(lv, txn, c, &r->vector, r->limit + r->offset, r->filter, r->has_score_threshold,
                               r->score_threshold, &top, err);
    if (st) return st;
    st = results_from_top(lv, txn, c, &top, r->offset, r->with_payload, r->with_vectors, x->out, err);
    eg_topk_free(&top);
    return st;
}

eg_status lv_search_sparse(eg_vectors *v, const char *collection, const eg_sparse_request *request,
                           eg_scored_list *out, eg_error *err) {
    return run_search(v, collection, sparse_body, request, out, err);
}
