/* test_vector_ann.c — the approximate (HNSW) index behind the vector store's searches, through the public C API.
 *
 * Every collection here has a small full_scan_threshold (200), so a few thousand points are enough to put searches
 * on the index. Quality is measured against the same store's exact search (params.exact): recall@10 is the share of
 * the exact top 10 that the approximate search returns, averaged over queries. Points are clustered random vectors
 * derived from their id (and a "salt" for rewritten vectors), so any process — the test, or a child it forks and
 * kills — can recompute a point's vector.
 *
 * Covered: the index is built by the first search that needs it (and not by exact searches, small collections or
 * selective filters), recall for the four distances, exact (rescored) scores, every point reachable in a graph
 * built on several threads, per-query hnsw_ef, upserts, vector
 * updates and deletes (by ids and by filter) kept in step with the index, filtered searches (indexed and
 * non-indexed fields, selective and broad), int8 quantization with oversampling, the saved index file (loaded when
 * its stamp matches, removed when damaged or stale after a process died without closing), SIGKILL during writes
 * with the index live, concurrent searches while a writer inserts, delete_collection removing the file, and the
 * validation of search params.
 *
 * Measured recalls are printed ("measured: ...") so that a run shows the margins, not just pass or fail. */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIM 32
#define N 3000
#define THRESHOLD 200
#define CLUSTERS 24
#define QUERIES 50
#define K 10
#define MAX_HITS 100
#define MAP_SIZE (512u << 20)
#define QUERY_BASE 1000000000ULL /* ids of query vectors: never stored */

static eg_error err;

/* ---- Random numbers and data ---------------------------------------------------------------------------- */

static uint64_t mix(uint64_t x) { /* splitmix64 */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r) { return mix(r->s++); }
static double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) / 9007199254740992.0; } /* [0, 1) */
static double rng_gauss(rng *r) {
    double u = rng_unit(r), v = rng_unit(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static float centres[CLUSTERS][DIM];

static void init_centres(void) {
    rng r = {12345};
    for (int c = 0; c < CLUSTERS; c++)
        for (int d = 0; d < DIM; d++) centres[c][d] = (float)(rng_unit(&r) * 2.0 - 1.0);
}

/* The vector of point `id` (salt 0: as first written; another salt: a rewritten vector). Clustered: a centre plus
 * Gaussian noise, with the norm varying a little (so Dot differs from Cosine). */
static void point_vector(uint64_t id, uint32_t salt, float out[DIM]) {
    rng r = {mix(id * 0x100000001b3ULL + salt * 0x9e3779b97f4a7c15ULL + 7)};
    const float *c = centres[rng_next(&r) % CLUSTERS];
    double scale = 0.8 + 0.4 * rng_unit(&r);
    for (int d = 0; d < DIM; d++) out[d] = (float)(scale * (c[d] + 0.35 * rng_gauss(&r)));
}

static void query_vector(unsigned q, float out[DIM]) { point_vector(QUERY_BASE + q, 0, out); }

/* A keyword bucket b0..b99 and a non-indexed group 0..4, both independent of the cluster. */
static unsigned bucket_of(uint64_t id) { return (unsigned)(mix(id ^ 0xb0b0b0ULL) % 100); }
static unsigned group_of(uint64_t id) { return (unsigned)(mix(id ^ 0x6a6a6aULL) % 5); }

/* ---- The store ------------------------------------------------------------------------------------------ */

static eg_vectors *open_store_threads(const char *dir, unsigned index_threads) {
    eg_vectors *v = NULL;
    eg_error e;
    eg_vectors_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = true, .index_threads = index_threads};
    if (eg_vectors_open_lmdb(dir, &options, &v, &e) != EG_OK) {
        fprintf(stderr, "cannot open a vector store in %s: %s\n", dir, e.message);
        exit(2);
    }
    return v;
}

/* index_threads 0: one per CPU. */
static eg_vectors *open_store(const char *dir) { return open_store_threads(dir, 0); }

static eg_status create(eg_vectors *v, const char *name, eg_distance distance, uint32_t threshold,
                        eg_quantization quantization) {
    eg_collection_config config = {.dim = DIM, .distance = distance, .full_scan_threshold = threshold,
                                   .quantization = quantization};
    return eg_vectors_create_collection(v, name, &config, &err);
}

/* Upserts ids first..first+count-1 (salt 0) with payload {"bucket":"b<k>","g":<k>,"del":<id % 7 == 3>}. */
static eg_status upsert_range(eg_vectors *v, const char *name, uint64_t first, size_t count) {
    eg_point *points = calloc(count, sizeof *points);
    float *vectors = malloc(count * DIM * sizeof *vectors);
    if (!points || !vectors) exit(2);
    for (size_t i = 0; i < count; i++) {
        uint64_t id = first + i;
        point_vector(id, 0, vectors + i * DIM);
        char bucket[16];
        snprintf(bucket, sizeof bucket, "b%u", bucket_of(id));
        points[i].id = eg_point_id_num(id);
        points[i].vector = vectors + i * DIM;
        points[i].dim = DIM;
        points[i].payload = json_pack("{s:s, s:i, s:b}", "bucket", bucket, "g", (int)group_of(id), "del", id % 7 == 3);
    }
    eg_status st = EG_OK;
    for (size_t done = 0; done < count && st == EG_OK; done += EG_VECTOR_BATCH_MAX) {
        size_t n = count - done < EG_VECTOR_BATCH_MAX ? count - done : EG_VECTOR_BATCH_MAX;
        st = eg_vectors_upsert(v, name, points + done, n, &err);
    }
    for (size_t i = 0; i < count; i++) json_decref(points[i].payload);
    free(points);
    free(vectors);
    return st;
}

static eg_collection_info info_of(eg_vectors *v, const char *name) {
    eg_collection_info info;
    memset(&info, 0, sizeof info);
    eg_error e;
    if (eg_vectors_get_collection(v, name, &info, &e) != EG_OK) {
        fprintf(stderr, "  get_collection %s: %s\n", name, e.message);
        memset(&info, 0, sizeof info);
        info.points_count = info.indexed_vectors_count = UINT64_MAX;
        return info;
    }
    eg_collection_info_clear(&info); /* only the counts are used */
    return info;
}

static uint64_t indexed(eg_vectors *v, const char *name) { return info_of(v, name).indexed_vectors_count; }
static uint64_t points(eg_vectors *v, const char *name) { return info_of(v, name).points_count; }

static eg_filter *filter_of(const char *text) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    eg_filter *f = NULL;
    eg_error e;
    if (!j || eg_filter_parse(j, &f, &e) != EG_OK) {
        fprintf(stderr, "bad test filter %s\n", text);
        exit(2);
    }
    json_decref(j);
    return f;
}

/* ---- Searching ------------------------------------------------------------------------------------------ */

typedef struct hits {
    size_t n;
    uint64_t id[MAX_HITS];
    double score[MAX_HITS];
} hits;

static eg_status search(eg_vectors *v, const char *name, const float *query, size_t limit, eg_search_params params,
                        const eg_filter *filter, hits *out, eg_error *e) {
    eg_search_request request = {.vector = query, .dim = DIM, .limit = limit, .filter = filter, .params = params};
    eg_scored_list list = {0};
    out->n = 0;
    eg_status st = eg_vectors_search(v, name, &request, &list, e);
    if (st) return st;
    for (size_t i = 0; i < list.count && out->n < MAX_HITS; i++) {
        out->id[out->n] = list.items[i].point.id.num;
        out->score[out->n++] = list.items[i].score;
    }
    eg_scored_list_free(&list);
    return EG_OK;
}

static const eg_search_params DEFAULTS = {0};
static const eg_search_params EXACT = {.exact = true};

static bool contains(const hits *h, uint64_t id) {
    for (size_t i = 0; i < h->n; i++)
        if (h->id[i] == id) return true;
    return false;
}

static bool same_hits(const hits *a, const hits *b) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->id[i] != b->id[i] || a->score[i] != b->score[i]) return false;
    return true;
}

/* Are h's scores the exact scores of its points? Each is compared with an exact search restricted to the returned
 * ids (has_id), so the same store scores them; relative 1e-5. Returns the number of mismatches. */
static int inexact_scores(eg_vectors *v, const char *name, const float *query, const hits *h) {
    if (h->n == 0) return 0;
    json_t *ids = json_array();
    for (size_t i = 0; i < h->n; i++) json_array_append_new(ids, json_integer((json_int_t)h->id[i]));
    json_t *fj = json_pack("{s:[{s:o}]}", "must", "has_id", ids);
    eg_filter *f = NULL;
    eg_error e;
    if (eg_filter_parse(fj, &f, &e) != EG_OK) exit(2);
    json_decref(fj);
    hits exact;
    int bad = 0;
    if (search(v, name, query, h->n, EXACT, f, &exact, &e) != EG_OK || exact.n != h->n) bad++;
    for (size_t i = 0; i < h->n && !bad; i++) {
        bool found = false;
        for (size_t j = 0; j < exact.n; j++)
            if (exact.id[j] == h->id[i]) {
                found = true;
                double want = exact.score[j];
                if (fabs(h->score[i] - want) > 1e-5 * fmax(1.0, fabs(want))) {
                    if (bad < 3)
                        fprintf(stderr, "  id %llu: score %.9g, exact %.9g\n", (unsigned long long)h->id[i],
                                h->score[i], want);
                    bad++;
                }
            }
        if (!found) bad++;
    }
    eg_filter_free(f);
    return bad;
}

typedef struct quality {
    double recall;       /* mean recall@limit against exact search */
    int count_mismatch;  /* queries whose approximate result count differed from min(limit, matching) */
    int errors;          /* failed searches */
    int inexact;         /* returned scores that are not the exact scores of their points */
} quality;

/* Measures `nq` queries (query_vector(first_query + i)) against exact search; with check_scores, also that every
 * returned score is exact. */
static quality measure(eg_vectors *v, const char *name, unsigned first_query, int nq, size_t limit,
                       eg_search_params params, const eg_filter *filter, bool check_scores) {
    quality q = {0};
    double sum = 0;
    for (int i = 0; i < nq; i++) {
        float query[DIM];
        query_vector(first_query + (unsigned)i, query);
        hits approx, exact;
        eg_error e;
        if (search(v, name, query, limit, params, filter, &approx, &e) != EG_OK ||
            search(v, name, query, limit, EXACT, filter, &exact, &e) != EG_OK) {
            if (q.errors++ == 0) fprintf(stderr, "  search failed: %s\n", e.message);
            continue;
        }
        if (approx.n != exact.n) q.count_mismatch++;
        size_t common = 0;
        for (size_t j = 0; j < exact.n; j++) common += contains(&approx, exact.id[j]);
        sum += exact.n ? (double)common / (double)exact.n : 1.0;
        if (check_scores) q.inexact += inexact_scores(v, name, query, &approx);
    }
    q.recall = sum / nq;
    return q;
}

/* The first hit of a query equal to point id's vector (salt). */
static bool finds_first(eg_vectors *v, const char *name, uint64_t id, uint32_t salt, eg_search_params params) {
    float query[DIM];
    point_vector(id, salt, query);
    hits h;
    eg_error e;
    return search(v, name, query, K, params, NULL, &h, &e) == EG_OK && h.n > 0 && h.id[0] == id;
}

/* finds_first with the defaults; when it fails, says whether the exact search and a very wide beam find it. */
static bool finds_first_or_explain(eg_vectors *v, const char *name, uint64_t id) {
    if (finds_first(v, name, id, 0, DEFAULTS)) return true;
    float query[DIM];
    point_vector(id, 0, query);
    hits wide, exact;
    eg_error e;
    bool w = search(v, name, query, K, (eg_search_params){.hnsw_ef = 1000}, NULL, &wide, &e) == EG_OK;
    bool x = search(v, name, query, K, EXACT, NULL, &exact, &e) == EG_OK;
    fprintf(stderr, "  point %llu is not found first by its own vector: exact search %s; hnsw_ef 1000 %s\n",
            (unsigned long long)id, x && exact.n && exact.id[0] == id ? "has it first" : "misses it too",
            w && contains(&wide, id) ? "finds it" : "misses it too (unreachable in the graph)");
    return false;
}

/* Files in DIR/ann; the name of the only one (if exactly one) into only. */
static int ann_files(const char *dir, char *only, size_t cap) {
    char path[600];
    snprintf(path, sizeof path, "%s/ann", dir);
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        if (n++ == 0 && only) snprintf(only, cap, "%s", de->d_name);
    }
    closedir(d);
    return n;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A fresh store with collection `name` of N points, its index not built yet. */
static eg_vectors *fresh_collection(const char **dir_out, const char *name, eg_distance distance,
                                    eg_quantization quantization) {
    const char *dir = test_scratch_dir();
    eg_vectors *v = open_store(dir);
    if (create(v, name, distance, THRESHOLD, quantization) != EG_OK || upsert_range(v, name, 0, N) != EG_OK) {
        fprintf(stderr, "cannot fill %s: %s\n", name, err.message);
        exit(2);
    }
    if (dir_out) *dir_out = dir;
    return v;
}

/* ---- 1. The index serves searches ----------------------------------------------------------------------- */

/* A double-precision brute force over ids 0..n-1 (salt 0): the best `limit` scores, best first. */
static void reference_scores(eg_distance distance, const float *query, size_t n, size_t limit, double *best) {
    double *all = malloc(n * sizeof *all);
    double qn = 0;
    for (int d = 0; d < DIM; d++) qn += (double)query[d] * query[d];
    for (size_t i = 0; i < n; i++) {
        float p[DIM];
        point_vector(i, 0, p);
        double dot = 0, pn = 0, l2 = 0, l1 = 0;
        for (int d = 0; d < DIM; d++) {
            dot += (double)query[d] * p[d];
            pn += (double)p[d] * p[d];
            l2 += ((double)query[d] - p[d]) * ((double)query[d] - p[d]);
            l1 += fabs((double)query[d] - p[d]);
        }
        all[i] = distance == EG_DISTANCE_COSINE ? -dot / sqrt(qn * pn)
                 : distance == EG_DISTANCE_DOT  ? -dot
                 : distance == EG_DISTANCE_EUCLID ? sqrt(l2)
                                                  : l1; /* smaller first */
    }
    for (size_t k = 0; k < limit; k++) { /* selection: limit is small */
        size_t m = k;
        for (size_t i = k + 1; i < n; i++)
            if (all[i] < all[m]) m = i;
        double t = all[k];
        all[k] = all[m];
        all[m] = t;
        best[k] = distance == EG_DISTANCE_COSINE || distance == EG_DISTANCE_DOT ? -all[k] : all[k];
    }
    free(all);
}

TEST(index_serves_searches) {
    const eg_distance distances[] = {EG_DISTANCE_COSINE, EG_DISTANCE_DOT, EG_DISTANCE_EUCLID, EG_DISTANCE_MANHATTAN};
    for (size_t di = 0; di < 4; di++) {
        const char *name = eg_distance_name(distances[di]);
        eg_vectors *v = fresh_collection(NULL, name, distances[di], EG_QUANTIZATION_NONE);
        CHECK(indexed(v, name) == 0);
        /* exact searches never build the index, and match a brute force of this file's own */
        int exact_bad = 0;
        for (unsigned i = 0; i < 5; i++) {
            float query[DIM];
            double want[K];
            query_vector(900 + i, query);
            hits h;
            CHECK_OK(search(v, name, query, K, EXACT, NULL, &h, &err), &err);
            reference_scores(distances[di], query, N, K, want);
            exact_bad += h.n != K;
            for (size_t j = 0; j < h.n && j < K; j++)
                exact_bad += fabs(h.score[j] - want[j]) > 1e-4 * fmax(1.0, fabs(want[j]));
        }
        CHECK(exact_bad == 0);
        CHECK(indexed(v, name) == 0);
        /* the first default search builds it over every point */
        float query[DIM];
        query_vector(0, query);
        hits h;
        CHECK_OK(search(v, name, query, K, DEFAULTS, NULL, &h, &err), &err);
        CHECK(h.n == K);
        CHECK(indexed(v, name) == N);
        quality q = measure(v, name, 0, QUERIES, K, DEFAULTS, NULL, true);
        printf("    measured: %s recall@10 %.4f (hnsw_ef default)\n", name, q.recall);
        CHECK(q.errors == 0 && q.count_mismatch == 0 && q.inexact == 0);
        CHECK(q.recall >= 0.95);
        eg_vectors_close(v);
    }

    /* below the threshold every search is exact and no index is built */
    const char *dir = test_scratch_dir();
    eg_vectors *v = open_store(dir);
    CHECK_OK(create(v, "small", EG_DISTANCE_EUCLID, THRESHOLD, EG_QUANTIZATION_NONE), &err);
    CHECK_OK(upsert_range(v, "small", 0, 150), &err);
    int differ = 0;
    for (unsigned i = 0; i < 20; i++) {
        float query[DIM];
        query_vector(i, query);
        hits a, b;
        CHECK_OK(search(v, "small", query, K, DEFAULTS, NULL, &a, &err), &err);
        CHECK_OK(search(v, "small", query, K, EXACT, NULL, &b, &err), &err);
        differ += !same_hits(&a, &b);
    }
    CHECK(differ == 0);
    CHECK(indexed(v, "small") == 0);
    eg_vectors_close(v);
}

/* Every point must be reachable in a graph built on several threads: each is looked for with its own vector
 * (distance 0). Built twice with index_threads 4, whatever the machine's CPU count. */
TEST(threaded_build_reaches_every_point) {
    int unreachable = 0;
    for (int round = 0; round < 2; round++) {
        const char *dir = test_scratch_dir(), *name = "t";
        eg_vectors *v = open_store_threads(dir, 4);
        REQUIRE(create(v, name, EG_DISTANCE_EUCLID, THRESHOLD, EG_QUANTIZATION_NONE) == EG_OK);
        REQUIRE(upsert_range(v, name, (uint64_t)round * N, N) == EG_OK);
        int missed = 0;
        for (uint64_t id = (uint64_t)round * N; id < (uint64_t)(round + 1) * N; id++) {
            float query[DIM];
            point_vector(id, 0, query);
            hits h;
            eg_error e;
            if (search(v, name, query, K, (eg_search_params){.hnsw_ef = 100}, NULL, &h, &e) != EG_OK || h.n == 0 ||
                h.id[0] != id) {
                if (missed++ < 3) finds_first_or_explain(v, name, id);
            }
        }
        CHECK(indexed(v, name) == N);
        printf("    measured: build %d: %d of %d points not found by their own vector (hnsw_ef 100)\n", round, missed, N);
        unreachable += missed;
        eg_vectors_close(v);
    }
    CHECK(unreachable == 0);
}

/* ---- 2. Per-query hnsw_ef ------------------------------------------------------------------------------- */

TEST(hnsw_ef_per_query) {
    eg_vectors *v = fresh_collection(NULL, "ef", EG_DISTANCE_EUCLID, EG_QUANTIZATION_NONE);
    quality lo = measure(v, "ef", 0, QUERIES, K, (eg_search_params){.hnsw_ef = 10}, NULL, false);
    quality mid = measure(v, "ef", 0, QUERIES, K, DEFAULTS, NULL, false);
    quality hi = measure(v, "ef", 0, QUERIES, K, (eg_search_params){.hnsw_ef = 200}, NULL, false);
    printf("    measured: recall@10 at hnsw_ef 10 %.4f, default %.4f, 200 %.4f\n", lo.recall, mid.recall, hi.recall);
    CHECK(lo.errors + mid.errors + hi.errors == 0);
    CHECK(lo.count_mismatch + mid.count_mismatch + hi.count_mismatch == 0);
    CHECK(hi.recall >= lo.recall);
    CHECK(hi.recall >= mid.recall);
    CHECK(hi.recall >= 0.98);
    eg_vectors_close(v);
}

/* ---- 3. Writes after the index exists ------------------------------------------------------------------- */

static eg_status update_vectors(eg_vectors *v, const char *name, uint64_t first, size_t count, uint32_t salt,
                                float shift) {
    eg_point *pts = calloc(count, sizeof *pts);
    float *vectors = malloc(count * DIM * sizeof *vectors);
    for (size_t i = 0; i < count; i++) {
        point_vector(first + i, salt, vectors + i * DIM);
        for (int d = 0; d < DIM; d++) vectors[i * DIM + d] += shift;
        pts[i] = (eg_point){.id = eg_point_id_num(first + i), .vector = vectors + i * DIM, .dim = DIM};
    }
    eg_status st = eg_vectors_update_vectors(v, name, pts, count, &err);
    free(pts);
    free(vectors);
    return st;
}

TEST(writes_after_the_index_exists) {
    const char *name = "w";
    eg_vectors *v = fresh_collection(NULL, name, EG_DISTANCE_EUCLID, EG_QUANTIZATION_NONE);
    CHECK(finds_first(v, name, 17, 0, DEFAULTS));
    REQUIRE(indexed(v, name) == N);

    /* 500 new points: in the index without another build, each found first by its own vector */
    CHECK_OK(upsert_range(v, name, N, 500), &err);
    CHECK(indexed(v, name) == N + 500);
    int missed = 0;
    for (uint64_t id = N; id < N + 500; id++) missed += !finds_first_or_explain(v, name, id);
    CHECK(missed == 0);

    /* 100 points moved far away (every value + 3): found at the new place, gone from the old */
    CHECK_OK(update_vectors(v, name, 100, 100, 1, 3.0f), &err);
    CHECK(indexed(v, name) == N + 500);
    int moved_missing = 0, still_at_old = 0;
    for (uint64_t id = 100; id < 200; id++) {
        float query[DIM];
        point_vector(id, 1, query);
        for (int d = 0; d < DIM; d++) query[d] += 3.0f;
        hits h;
        CHECK_OK(search(v, name, query, K, DEFAULTS, NULL, &h, &err), &err);
        moved_missing += !(h.n > 0 && h.id[0] == id && h.score[0] < 1e-3);
        point_vector(id, 0, query);
        CHECK_OK(search(v, name, query, K, DEFAULTS, NULL, &h, &err), &err);
        still_at_old += contains(&h, id);
    }
    CHECK(moved_missing == 0);
    CHECK(still_at_old == 0);

    /* delete 30%: 700 ids chosen at random, then by filter every point with "del": true (id % 7 == 3) */
    bool *deleted = calloc(N + 500, sizeof *deleted);
    eg_point_id *ids = malloc(700 * sizeof *ids);
    rng r = {99};
    size_t n_ids = 0;
    while (n_ids < 700) {
        uint64_t id = rng_next(&r) % (N + 500);
        if (deleted[id] || id % 7 == 3) continue;
        deleted[id] = true;
        ids[n_ids++] = eg_point_id_num(id);
    }
    uint64_t removed = 0, removed_by_filter = 0;
    CHECK_OK(eg_vectors_delete(v, name, ids, n_ids, NULL, &removed, &err), &err);
    CHECK(removed == 700);
    eg_filter *del = filter_of("{\"must\":[{\"key\":\"del\",\"match\":{\"value\":true}}]}");
    CHECK_OK(eg_vectors_delete(v, name, NULL, 0, del, &removed_by_filter, &err), &err);
    eg_filter_free(del);
    uint64_t expected_filter = 0;
    for (uint64_t id = 0; id < N + 500; id++)
        if (id % 7 == 3) deleted[id] = true, expected_filter++;
    CHECK(removed_by_filter == expected_filter);
    uint64_t remaining = N + 500 - 700 - expected_filter;
    printf("    measured: %llu of %d points deleted\n", (unsigned long long)(700 + expected_filter), N + 500);
    CHECK(points(v, name) == remaining);
    CHECK(indexed(v, name) == remaining);

    /* no deleted point is ever returned: 50 random queries with limit 100, and a query at each deleted vector */
    int returned_deleted = 0, short_results = 0;
    for (unsigned i = 0; i < 50; i++) {
        float query[DIM];
        query_vector(i, query);
        hits h;
        CHECK_OK(search(v, name, query, MAX_HITS, DEFAULTS, NULL, &h, &err), &err);
        short_results += h.n != MAX_HITS;
        for (size_t j = 0; j < h.n; j++) returned_deleted += deleted[h.id[j]];
    }
    for (uint64_t id = 0; id < N + 500; id += 3) {
        if (!deleted[id]) continue;
        float query[DIM];
        point_vector(id, id >= 100 && id < 200 ? 1 : 0, query);
        if (id >= 100 && id < 200)
            for (int d = 0; d < DIM; d++) query[d] += 3.0f;
        hits h;
        CHECK_OK(search(v, name, query, K, DEFAULTS, NULL, &h, &err), &err);
        for (size_t j = 0; j < h.n; j++) returned_deleted += deleted[h.id[j]];
    }
    CHECK(returned_deleted == 0);
    CHECK(short_results == 0);
    quality q = measure(v, name, 0, QUERIES, K, DEFAULTS, NULL, true);
    printf("    measured: recall@10 after the deletes %.4f\n", q.recall);
    CHECK(q.errors == 0 && q.count_mismatch == 0 && q.inexact == 0);
    CHECK(q.recall >= 0.95);
    free(ids);
    free(deleted);
    eg_vectors_close(v);
}

/* ---- 4. Filtered search --------------------------------------------------------------------------------- */

TEST(filtered_search) {
    const char *name = "f";
    const char *dir = test_scratch_dir();
    eg_vectors *v = open_store(dir);
    REQUIRE(create(v, name, EG_DISTANCE_COSINE, THRESHOLD, EG_QUANTIZATION_NONE) == EG_OK);
    CHECK_OK(eg_vectors_create_payload_index(v, name, "bucket", EG_PAYLOAD_KEYWORD, &err), &err);
    REQUIRE(upsert_range(v, name, 0, N) == EG_OK);

    struct {
        const char *what, *json;
        bool builds; /* is the index expected after it? */
    } cases[] = {
        {"indexed 1%", "{\"must\":[{\"key\":\"bucket\",\"match\":{\"value\":\"b7\"}}]}", false},
        {"indexed 20%",
         "{\"must\":[{\"key\":\"bucket\",\"match\":{\"any\":[\"b0\",\"b1\",\"b2\",\"b3\",\"b4\",\"b5\",\"b6\",\"b7\","
         "\"b8\",\"b9\",\"b10\",\"b11\",\"b12\",\"b13\",\"b14\",\"b15\",\"b16\",\"b17\",\"b18\",\"b19\"]}}]}",
         true},
        {"non-indexed 20%", "{\"must\":[{\"key\":\"g\",\"match\":{\"value\":2}}]}", true},
        {"non-indexed 1% (must_not)",
         "{\"must\":[{\"key\":\"g\",\"match\":{\"value\":2}}],\"must_not\":[{\"key\":\"bucket\",\"match\":{\"except\":"
         "[\"b7\",\"b8\",\"b9\",\"b10\",\"b11\"]}}]}",
         true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        eg_filter *f = filter_of(cases[c].json);
        uint64_t matching = 0;
        CHECK_OK(eg_vectors_count(v, name, f, &matching, &err), &err);
        /* every result matches, and there are min(limit, matching) of them */
        int mismatched = 0, wrong_count = 0;
        for (unsigned i = 0; i < 20; i++) {
            float query[DIM];
            query_vector(i, query);
            hits h;
            CHECK_OK(search(v, name, query, 50, DEFAULTS, f, &h, &err), &err);
            wrong_count += h.n != (matching < 50 ? matching : 50);
            for (size_t j = 0; j < h.n; j++) {
                uint64_t id = h.id[j];
                unsigned b = bucket_of(id), g = group_of(id);
                bool ok = c == 0   ? b == 7
                          : c == 1 ? b < 20
                          : c == 2 ? g == 2
                                   : g == 2 && b >= 7 && b <= 11;
                mismatched += !ok;
            }
        }
        quality q = measure(v, name, 0, QUERIES, K, DEFAULTS, f, true);
        printf("    measured: filter %s: %llu matching, recall@10 %.4f, index %s\n", cases[c].what,
               (unsigned long long)matching, q.recall, indexed(v, name) ? "built" : "not built");
        CHECK(mismatched == 0);
        CHECK(wrong_count == 0);
        CHECK(q.errors == 0 && q.count_mismatch == 0 && q.inexact == 0);
        CHECK(q.recall >= 0.95);
        if (c == 0) {
            CHECK(matching < THRESHOLD);
            CHECK(q.recall == 1.0);         /* served exactly from the payload index */
            CHECK(indexed(v, name) == 0);   /* ... without building the HNSW index */
        } else {
            CHECK(indexed(v, name) == N);
        }
        eg_filter_free(f);
    }
    eg_vectors_close(v);
}

/* The graph walk tests an exactly indexed filter through the index (one lookup per value, no payload read): on
 * payloads whose field is a keyword, a list of them (duplicates too), another type, null, empty or missing, every
 * result of a walk must match as a plain evaluation of its payload says, and a search must find min(limit,
 * matching) results, before and after reopening. */
TEST(walks_test_exactly_indexed_filters_through_the_index) {
    const char *name = "probe";
    const char *dir = test_scratch_dir();
    eg_vectors *v = open_store(dir);
    REQUIRE(create(v, name, EG_DISTANCE_COSINE, THRESHOLD, EG_QUANTIZATION_NONE) == EG_OK);
    CHECK_OK(eg_vectors_create_payload_index(v, name, "tag", EG_PAYLOAD_KEYWORD, &err), &err);
    CHECK_OK(eg_vectors_create_payload_index(v, name, "flag", EG_PAYLOAD_BOOL, &err), &err);
    static const char *const TAGS[] = {"a", "b", "c", "A", "\"q\"", ""};
    enum { POINTS = 3000 };
    json_t *payloads[POINTS];
    uint64_t state = 20261208;
    for (size_t i = 0; i < POINTS; i++) {
        json_t *p = json_object(), *tag;
        switch (test_random(&state) % 7) {
        case 0: tag = NULL; break;
        case 1: tag = json_null(); break;
        case 2: tag = json_integer((json_int_t)(test_random(&state) % 3)); break;
        case 3: tag = json_array(); break;
        case 4:
            tag = json_array();
            for (int k = 0; k < 3; k++) json_array_append_new(tag, json_string(TAGS[test_random(&state) % 6]));
            json_array_append_new(tag, json_true());
            break;
        default: tag = json_string(TAGS[test_random(&state) % 6]);
        }
        if (tag) json_object_set_new(p, "tag", tag);
        if (test_random(&state) % 4) json_object_set_new(p, "flag", json_boolean(test_random(&state) % 2));
        payloads[i] = p;
        float vector[DIM];
        point_vector(i, 0, vector);
        eg_point point = {eg_point_id_num(i), vector, DIM, {NULL, NULL, 0}, p};
        CHECK_OK(eg_vectors_upsert(v, name, &point, 1, &err), &err);
    }
    static const char *const filters[] = {
        "{\"must\":[{\"key\":\"tag\",\"match\":{\"value\":\"a\"}}]}",
        "{\"must\":[{\"key\":\"tag\",\"match\":{\"any\":[\"b\",\"\\\"q\\\"\",\"\"]}}]}",
        "{\"must\":[{\"key\":\"tag\",\"match\":{\"value\":\"A\"}}]}",
        "{\"must\":[{\"key\":\"flag\",\"match\":{\"value\":true}}]}",
        "{\"must\":[{\"key\":\"flag\",\"match\":{\"value\":false}}]}",
    };
    for (int round = 0; round < 2; round++) {
        if (round == 1) { /* again on the folder reopened */
            eg_vectors_close(v);
            v = open_store(dir);
        }
        for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++) {
            eg_filter *filter = filter_of(filters[f]);
            size_t matching = 0;
            for (size_t i = 0; i < POINTS; i++) {
                eg_point_id id = eg_point_id_num(i);
                matching += eg_filter_matches(filter, &id, payloads[i]);
            }
            uint64_t counted = 0;
            CHECK_OK(eg_vectors_count(v, name, filter, &counted, &err), &err);
            CHECK(counted == matching);
            CHECK(matching >= THRESHOLD); /* enough that the search walks the graph */
            for (unsigned q = 0; q < 10; q++) {
                float query[DIM];
                query_vector(q, query);
                hits h;
                CHECK_OK(search(v, name, query, 30, DEFAULTS, filter, &h, &err), &err);
                CHECK(h.n == 30);
                for (size_t j = 0; j < h.n; j++) {
                    eg_point_id id = eg_point_id_num(h.id[j]);
                    if (!eg_filter_matches(filter, &id, payloads[h.id[j]])) {
                        fprintf(stderr, "  filter %s: point %llu does not match\n", filters[f],
                                (unsigned long long)h.id[j]);
                        CHECK(false);
                    }
                }
            }
            eg_filter_free(filter);
        }
    }
    CHECK(indexed(v, name) == POINTS);
    for (size_t i = 0; i < POINTS; i++) json_decref(payloads[i]);
    eg_vectors_close(v);
}

static void record_queries(eg_vectors *v, const char *name, hits out[20]);

/* ---- 5. int8 quantization ------------------------------------------------------------------------------- */

TEST(int8_quantization) {
    const eg_distance distances[] = {EG_DISTANCE_COSINE, EG_DISTANCE_EUCLID};
    for (size_t di = 0; di < 2; di++) {
        const char *name = eg_distance_name(distances[di]), *dir;
        eg_vectors *v = fresh_collection(&dir, name, distances[di], EG_QUANTIZATION_INT8);
        quality q1 = measure(v, name, 0, QUERIES, K, DEFAULTS, NULL, true);
        CHECK(indexed(v, name) == N);
        quality q3 = measure(v, name, 0, QUERIES, K, (eg_search_params){.oversampling = 3}, NULL, true);
        printf("    measured: int8 %s recall@10 %.4f (oversampling 1), %.4f (oversampling 3)\n", name, q1.recall,
               q3.recall);
        CHECK(q1.errors + q3.errors == 0);
        CHECK(q1.count_mismatch + q3.count_mismatch == 0);
        CHECK(q1.inexact + q3.inexact == 0);
        CHECK(q1.recall >= 0.90);
        CHECK(q3.recall >= 0.95);
        CHECK(q3.recall >= q1.recall);
        /* the int8 index (codes and codec) is saved and loaded like any other */
        static hits before[20], after[20];
        record_queries(v, name, before);
        eg_vectors_close(v);
        CHECK(ann_files(dir, NULL, 0) == 1);
        v = open_store(dir);
        CHECK(indexed(v, name) == N);
        record_queries(v, name, after);
        int differ = 0;
        for (int i = 0; i < 20; i++) differ += before[i].n != K || !same_hits(&before[i], &after[i]);
        CHECK(differ == 0);
        eg_vectors_close(v);
    }
}

/* ---- 6. Persistence ------------------------------------------------------------------------------------- */

static void record_queries(eg_vectors *v, const char *name, hits out[20]) {
    for (unsigned i = 0; i < 20; i++) {
        float query[DIM];
        query_vector(i, query);
        if (search(v, name, query, K, DEFAULTS, NULL, &out[i], &err) != EG_OK) out[i].n = 0;
    }
}

static void flip_middle_byte(const char *path) {
    int fd = open(path, O_RDWR);
    struct stat s;
    if (fd < 0 || fstat(fd, &s) != 0) exit(2);
    unsigned char b;
    off_t at = s.st_size / 2;
    if (pread(fd, &b, 1, at) != 1) exit(2);
    b ^= 0x5a;
    if (pwrite(fd, &b, 1, at) != 1) exit(2);
    close(fd);
}

/* A child that opens dir, upserts ids first..first+count-1 and ends without closing: by _exit, or by SIGKILL. */
static void child_writes_and_dies(const char *dir, const char *name, uint64_t first, size_t count, bool sigkill) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        eg_vectors *v = open_store(dir);
        eg_collection_info info;
        eg_error e;
        if (eg_vectors_get_collection(v, name, &info, &e) != EG_OK) _exit(3);
        bool loaded = info.indexed_vectors_count > 0;
        eg_collection_info_clear(&info);
        if (!loaded) _exit(4); /* the saved index should have been loaded */
        if (count && upsert_range(v, name, first, count) != EG_OK) _exit(5);
        if (sigkill) kill(getpid(), SIGKILL);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (sigkill) CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    else CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(persistence) {
    const char *name = "p", *dir;
    eg_vectors *v = fresh_collection(&dir, name, EG_DISTANCE_EUCLID, EG_QUANTIZATION_NONE);
    static hits before[20], after[20];
    record_queries(v, name, before);
    CHECK(indexed(v, name) == N);
    CHECK(ann_files(dir, NULL, 0) == 0); /* saved at close, not before */
    eg_vectors_close(v);

    char file[256], path[900];
    REQUIRE(ann_files(dir, file, sizeof file) == 1);
    unsigned number = 0;
    char tail[16] = "";
    CHECK(sscanf(file, "%u.%15s", &number, tail) == 2 && strcmp(tail, "hnsw") == 0);
    snprintf(path, sizeof path, "%s/ann/%s", dir, file);

    /* reopened: the index is there at once, and answers as before */
    v = open_store(dir);
    CHECK(indexed(v, name) == N);
    record_queries(v, name, after);
    int differ = 0;
    for (int i = 0; i < 20; i++) differ += before[i].n != K || !same_hits(&before[i], &after[i]);
    CHECK(differ == 0);
    eg_vectors_close(v);
    CHECK(ann_files(dir, NULL, 0) == 1);

    /* damaged: dropped at open, rebuilt by the next search */
    flip_middle_byte(path);
    v = open_store(dir);
    CHECK(ann_files(dir, NULL, 0) == 0);
    CHECK(indexed(v, name) == 0);
    quality q = measure(v, name, 0, QUERIES, K, DEFAULTS, NULL, false);
    printf("    measured: recall@10 after rebuilding a damaged file %.4f\n", q.recall);
    CHECK(indexed(v, name) == N);
    CHECK(q.errors == 0 && q.count_mismatch == 0 && q.recall >= 0.95);
    eg_vectors_close(v);
    CHECK(ann_files(dir, NULL, 0) == 1);

    /* a process that only read leaves the file valid */
    child_writes_and_dies(dir, name, 0, 0, false);
    CHECK(ann_files(dir, NULL, 0) == 1);
    v = open_store(dir);
    CHECK(indexed(v, name) == N);
    eg_vectors_close(v);

    /* stale: a process loaded the file, wrote, and died without closing (_exit, then SIGKILL) */
    uint64_t total = N;
    for (int round = 0; round < 2; round++) {
        uint64_t first = 50000 + (uint64_t)round * 1000;
        child_writes_and_dies(dir, name, first, 50, round == 1);
        total += 50;
        CHECK(ann_files(dir, NULL, 0) == 1); /* the old file is still there ... */
        v = open_store(dir);
        CHECK(ann_files(dir, NULL, 0) == 0); /* ... until an open finds it stale */
        CHECK(indexed(v, name) == 0);
        CHECK(points(v, name) == total);
        int missed = 0;
        for (uint64_t id = first; id < first + 50; id += 7) missed += !finds_first_or_explain(v, name, id);
        CHECK(missed == 0);
        CHECK(indexed(v, name) == total);
        eg_vectors_close(v);
        CHECK(ann_files(dir, NULL, 0) == 1);
    }
    v = open_store(dir);
    CHECK(indexed(v, name) == total);
    CHECK(finds_first(v, name, 51000, 0, DEFAULTS));
    eg_vectors_close(v);
}

/* ---- 7. SIGKILL during writes with the index live ------------------------------------------------------- */

/* REC_DELETING goes out before a delete is asked for and REC_DELETED after it returned: a kill in between leaves
 * the parent unsure whether that delete committed, so it checks neither outcome for those ids. */
enum { REC_READY = 1, REC_UPSERTED, REC_DELETING, REC_DELETED };

typedef struct record {
    uint32_t op, pad;
    uint64_t id;
} record;

static void report(int fd, uint32_t op, uint64_t id) {
    record r = {op, 0, id};
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(9);
}

/* The child: open, make sure the index is live (search), then upsert new points, rewrite and delete existing ones
 * until killed, reporting each acknowledged change. alive[0..*n_alive) are ids it may rewrite or delete. */
static void crash_child(const char *dir, const char *name, int fd, uint64_t *alive, size_t n_alive, uint64_t next_id) {
    eg_vectors *v = open_store(dir);
    float query[DIM];
    query_vector(0, query);
    hits h;
    eg_error e;
    if (search(v, name, query, K, DEFAULTS, NULL, &h, &e) != EG_OK || h.n != K) _exit(2); /* builds or uses it */
    eg_collection_info info;
    if (eg_vectors_get_collection(v, name, &info, &e) != EG_OK) _exit(3);
    bool live = info.indexed_vectors_count == info.points_count;
    eg_collection_info_clear(&info);
    if (!live) _exit(4);
    report(fd, REC_READY, 0);
    rng r = {next_id};
    for (int round = 0; round < 1000000; round++) {
        if (upsert_range(v, name, next_id, 10) != EG_OK) _exit(5);
        for (int i = 0; i < 10; i++) report(fd, REC_UPSERTED, next_id + (uint64_t)i);
        for (int i = 0; i < 10; i++) alive[n_alive++] = next_id + (uint64_t)i;
        next_id += 10;
        /* rewrite 3 vectors (salt 1) */
        eg_point pts[3];
        float vectors[3][DIM];
        for (int i = 0; i < 3; i++) {
            uint64_t id;
            bool dup;
            do {
                id = alive[rng_next(&r) % n_alive];
                dup = false;
                for (int j = 0; j < i; j++) dup |= pts[j].id.num == id;
            } while (dup);
            point_vector(id, 1, vectors[i]);
            pts[i] = (eg_point){.id = eg_point_id_num(id), .vector = vectors[i], .dim = DIM};
        }
        eg_status st = eg_vectors_update_vectors(v, name, pts, 3, &e);
        if (st != EG_OK && st != EG_NOT_FOUND) _exit(6);
        /* delete 6 */
        eg_point_id ids[6];
        for (int i = 0; i < 6; i++) {
            size_t at = rng_next(&r) % n_alive;
            ids[i] = eg_point_id_num(alive[at]);
            alive[at] = alive[--n_alive];
        }
        for (int i = 0; i < 6; i++) report(fd, REC_DELETING, ids[i].num);
        if (eg_vectors_delete(v, name, ids, 6, NULL, NULL, &e) != EG_OK) _exit(7);
        for (int i = 0; i < 6; i++) report(fd, REC_DELETED, ids[i].num);
    }
    _exit(0);
}

TEST(sigkill_during_writes) {
    const char *name = "k", *dir;
    eg_vectors *v = fresh_collection(&dir, name, EG_DISTANCE_EUCLID, EG_QUANTIZATION_NONE);
    CHECK(finds_first(v, name, 5, 0, DEFAULTS)); /* build, so that close saves it */
    eg_vectors_close(v);
    REQUIRE(ann_files(dir, NULL, 0) == 1);

    size_t cap = N + 400000;
    uint64_t *alive = malloc(cap * sizeof *alive);
    uint8_t *state = calloc(4000000, 1); /* by id: 1 reported upserted, 2 reported deleted, 3 deleting */
    size_t n_alive = N;
    for (size_t i = 0; i < N; i++) alive[i] = i;

    for (int round = 0; round < 2; round++) {
        if (round == 1) { /* no saved index this time: the child builds it with its first search */
            char file[256], path[900];
            if (ann_files(dir, file, sizeof file) == 1) {
                snprintf(path, sizeof path, "%s/ann/%s", dir, file);
                unlink(path);
            }
        }
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        uint64_t next_id = 1000000 + (uint64_t)round * 1000000;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            crash_child(dir, name, fds[1], alive, n_alive, next_id);
        }
        close(fds[1]);
        record rec;
        bool ready = read(fds[0], &rec, sizeof rec) == (ssize_t)sizeof rec && rec.op == REC_READY;
        CHECK(ready);
        if (ready) usleep(200 * 1000);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        size_t upserts = 0, deletes = 0;
        while (read(fds[0], &rec, sizeof rec) == (ssize_t)sizeof rec) {
            if (rec.id >= 4000000) continue;
            if (rec.op == REC_UPSERTED) state[rec.id] = 1, upserts++;
            if (rec.op == REC_DELETING) state[rec.id] = 3;
            if (rec.op == REC_DELETED) state[rec.id] = 2, deletes++;
        }
        close(fds[0]);
        printf("    measured: round %d: the child acknowledged %zu upserts and %zu deletes before SIGKILL\n", round,
               upserts, deletes);
        CHECK(upserts > 0 && deletes > 0);
        /* the parent's list of deletable ids: every id not reported deleted that it knows of */
        n_alive = 0;
        for (uint64_t id = 0; id < 4000000; id++)
            if ((id < N || state[id] == 1) && state[id] != 2 && state[id] != 3) alive[n_alive++] = id;

        v = open_store(dir);
        if (round == 0) CHECK(ann_files(dir, NULL, 0) == 0); /* the stale file was dropped */
        CHECK(indexed(v, name) == 0);
        /* what was acknowledged is there */
        int lost = 0, resurrected = 0;
        for (uint64_t id = 0; id < 4000000; id++) {
            if (!state[id] || state[id] == 3) continue; /* unknown, or maybe deleted: either is right */
            eg_point_id pid_ = eg_point_id_num(id);
            eg_point_list got = {0};
            CHECK_OK(eg_vectors_get(v, name, &pid_, 1, false, false, &got, &err), &err);
            if (state[id] == 1) lost += got.count != 1;
            else resurrected += got.count != 0;
            eg_point_list_free(&got);
        }
        CHECK(lost == 0 && resurrected == 0);
        /* searches on the rebuilt index: good recall, only existing points, no deleted one */
        eg_search_params wide = {.hnsw_ef = 400};
        quality q = measure(v, name, 100, 30, K, wide, NULL, true);
        printf("    measured: round %d: recall@10 at hnsw_ef 400 after the crash %.4f\n", round, q.recall);
        CHECK(q.errors == 0 && q.count_mismatch == 0 && q.inexact == 0);
        CHECK(q.recall >= 0.95);
        int missing = 0, deleted_returned = 0;
        for (unsigned i = 0; i < 30; i++) {
            float query[DIM];
            query_vector(100 + i, query);
            hits h;
            CHECK_OK(search(v, name, query, 50, wide, NULL, &h, &err), &err);
            eg_point_id ids[MAX_HITS];
            for (size_t j = 0; j < h.n; j++) {
                ids[j] = eg_point_id_num(h.id[j]);
                deleted_returned += h.id[j] < 4000000 && state[h.id[j]] == 2;
            }
            eg_point_list got = {0};
            CHECK_OK(eg_vectors_get(v, name, ids, h.n, false, false, &got, &err), &err);
            missing += (int)(h.n - got.count);
            eg_point_list_free(&got);
        }
        CHECK(missing == 0 && deleted_returned == 0);
        CHECK(indexed(v, name) == points(v, name));
        eg_vectors_close(v);
    }
    free(alive);
    free(state);
}

/* ---- 8. Concurrent searches while a writer inserts ------------------------------------------------------ */

typedef struct conc {
    eg_vectors *v;
    const char *name;
    atomic_bool done;
    atomic_long searches, failures, short_results, writes, write_failures, unseen_writes;
    atomic_long short_by_count[K]; /* short results by how many points they held */
    bool hot;                    /* the writer inserts near HOT and the searchers query there */
    uint64_t first_id, next_id;  /* written by the writer */
} conc;

#define HOT_VALUE 6.0f /* far from every cluster (values within about ±2) */

static void hot_vector(uint64_t id, float out[DIM]) {
    rng r = {id * 31 + 5};
    for (int d = 0; d < DIM; d++) out[d] = HOT_VALUE + (float)(0.05 * rng_gauss(&r));
}

static void *conc_writer(void *arg) {
    conc *c = arg;
    double end = now_seconds() + 1.0;
    uint64_t id = c->first_id;
    while (now_seconds() < end) {
        eg_error e;
        eg_status st;
        if (c->hot) {
            eg_point pts[10];
            float vectors[10][DIM];
            for (int i = 0; i < 10; i++) {
                hot_vector(id + (uint64_t)i, vectors[i]);
                pts[i] = (eg_point){.id = eg_point_id_num(id + (uint64_t)i), .vector = vectors[i], .dim = DIM};
            }
            st = eg_vectors_upsert(c->v, c->name, pts, 10, &e);
        } else {
            st = upsert_range(c->v, c->name, id, 10); /* uses the global err: only this thread writes it */
        }
        if (st != EG_OK) {
            c->write_failures++;
            break;
        }
        /* a write acknowledged is seen by the next search */
        if (!c->hot && !finds_first(c->v, c->name, id + 3, 0, DEFAULTS)) c->unseen_writes++;
        id += 10;
        c->writes++;
    }
    c->next_id = id;
    atomic_store(&c->done, true);
    return NULL;
}

static void *conc_searcher(void *arg) {
    conc *c = arg;
    rng r = {(uint64_t)(uintptr_t)&r};
    while (!atomic_load(&c->done)) {
        float query[DIM];
        if (c->hot) {
            for (int d = 0; d < DIM; d++) query[d] = HOT_VALUE;
        } else {
            query_vector((unsigned)(rng_next(&r) % 1000), query);
        }
        hits h;
        eg_error e;
        eg_status st = search(c->v, c->name, query, K, DEFAULTS, NULL, &h, &e);
        c->searches++;
        if (st != EG_OK) c->failures++;
        else if (h.n != K) {
            c->short_results++;
            c->short_by_count[h.n]++;
        }
    }
    return NULL;
}

static void run_concurrent(bool hot) {
    const char *name = hot ? "hot" : "c";
    eg_vectors *v = fresh_collection(NULL, name, EG_DISTANCE_EUCLID, EG_QUANTIZATION_NONE);
    REQUIRE(finds_first(v, name, 1, 0, DEFAULTS));
    REQUIRE(indexed(v, name) == N);
    conc c = {.v = v, .name = name, .hot = hot, .first_id = 100000};
    atomic_init(&c.done, false);
    pthread_t w, s[3];
    REQUIRE(pthread_create(&w, NULL, conc_writer, &c) == 0);
    for (int i = 0; i < 3; i++) REQUIRE(pthread_create(&s[i], NULL, conc_searcher, &c) == 0);
    pthread_join(w, NULL);
    for (int i = 0; i < 3; i++) pthread_join(s[i], NULL);
    printf("    measured: %s: %ld batches written, %ld searches, %ld failed, %ld short of the limit\n",
           hot ? "writes where the searches look" : "writes and searches", (long)c.writes, (long)c.searches,
           (long)c.failures, (long)c.short_results);
    if (c.short_results) {
        printf("    measured: short results held");
        for (int i = 0; i < K; i++)
            if (c.short_by_count[i]) printf(" %d point%s: %ld times;", i, i == 1 ? "" : "s", (long)c.short_by_count[i]);
        printf("\n");
    }
    CHECK(c.write_failures == 0);
    CHECK(c.writes > 0 && c.searches > 30);
    CHECK(c.failures == 0);
    CHECK(c.short_results == 0);
    CHECK(c.unseen_writes == 0);
    CHECK(indexed(v, name) == points(v, name));
    CHECK(points(v, name) == N + (c.next_id - c.first_id));
    if (!hot) {
        quality q = measure(v, name, 0, QUERIES, K, DEFAULTS, NULL, false);
        printf("    measured: recall@10 after the concurrent writes %.4f\n", q.recall);
        CHECK(q.errors == 0 && q.count_mismatch == 0 && q.recall >= 0.95);
        int missed = 0;
        for (uint64_t id = c.first_id; id < c.next_id; id += (c.next_id - c.first_id) / 20 + 1)
            missed += !finds_first(v, name, id, 0, DEFAULTS);
        CHECK(missed == 0);
    }
    eg_vectors_close(v);
}

TEST(concurrent_searches_and_writes) { run_concurrent(false); }

/* The same, with every search looking where the writer inserts: a search whose snapshot predates a batch but whose
 * walk meets it must still return `limit` points of its snapshot. */
TEST(concurrent_writes_where_searches_look) { run_concurrent(true); }

/* ---- 9. delete_collection ------------------------------------------------------------------------------- */

TEST(delete_collection_removes_the_index) {
    const char *name = "d", *dir;
    eg_vectors *v = fresh_collection(&dir, name, EG_DISTANCE_COSINE, EG_QUANTIZATION_NONE);
    CHECK(finds_first(v, name, 3, 0, DEFAULTS));
    eg_vectors_close(v);
    REQUIRE(ann_files(dir, NULL, 0) == 1);

    v = open_store(dir);
    CHECK(indexed(v, name) == N);
    CHECK_OK(eg_vectors_delete_collection(v, name, &err), &err);
    CHECK(ann_files(dir, NULL, 0) == 0);
    /* the same name again: no index until a search needs one, then one over the new points only */
    CHECK_OK(create(v, name, EG_DISTANCE_COSINE, THRESHOLD, EG_QUANTIZATION_NONE), &err);
    CHECK(indexed(v, name) == 0);
    CHECK_OK(upsert_range(v, name, 10000, 500), &err);
    CHECK(indexed(v, name) == 0);
    CHECK(finds_first(v, name, 10007, 0, DEFAULTS));
    CHECK(indexed(v, name) == 500);
    float query[DIM];
    point_vector(3, 0, query);
    hits h;
    CHECK_OK(search(v, name, query, K, DEFAULTS, NULL, &h, &err), &err);
    int old = 0;
    for (size_t j = 0; j < h.n; j++) old += h.id[j] < 10000;
    CHECK(h.n == K && old == 0);
    /* deleted with its index only in memory: no file is left behind at close */
    CHECK_OK(eg_vectors_delete_collection(v, name, &err), &err);
    eg_vectors_close(v);
    CHECK(ann_files(dir, NULL, 0) == 0);
    v = open_store(dir);
    CHECK_OK(create(v, name, EG_DISTANCE_COSINE, THRESHOLD, EG_QUANTIZATION_NONE), &err);
    CHECK(indexed(v, name) == 0);
    CHECK(points(v, name) == 0);
    eg_vectors_close(v);
}

/* ---- 10. Bad search params ------------------------------------------------------------------------------ */

/* Hybrid search takes its dense candidates from the index too: the fused ranking matches the exact hybrid
 * search's on most of its top 10. */
TEST(hybrid_search_uses_the_index) {
    const char *dir = test_scratch_dir(), *name = "h";
    eg_vectors *v = open_store(dir);
    eg_collection_config config = {.dim = DIM, .distance = EG_DISTANCE_COSINE, .sparse = true,
                                   .full_scan_threshold = THRESHOLD};
    REQUIRE(eg_vectors_create_collection(v, name, &config, &err) == EG_OK);
    enum { POINTS = 2000, TERMS = 40 };
    static float vectors[POINTS][DIM];
    static eg_point batch[POINTS];
    static uint32_t indices[POINTS][2];
    static float values[POINTS][2];
    for (uint32_t i = 0; i < POINTS; i++) {
        point_vector(i, 0, vectors[i]);
        indices[i][0] = i % TERMS, indices[i][1] = TERMS + (i * 7) % TERMS;
        values[i][0] = 1.0f, values[i][1] = 0.5f;
        batch[i] = (eg_point){.id = eg_point_id_num(i), .vector = vectors[i], .dim = DIM,
                              .sparse = {indices[i], values[i], 2}};
    }
    REQUIRE(eg_vectors_upsert(v, name, batch, POINTS, &err) == EG_OK);
    double overlap = 0;
    for (unsigned q = 0; q < 30; q++) {
        float query[DIM];
        query_vector(q, query);
        uint32_t qi[1] = {q % TERMS};
        float qv[1] = {1.0f};
        hits got[2];
        for (int exact = 0; exact < 2; exact++) {
            eg_hybrid_request r = {.vector = query, .dim = DIM, .sparse = {qi, qv, 1}, .limit = 10,
                                   .params = {.exact = exact == 1}};
            eg_scored_list list = {0};
            CHECK_OK(eg_vectors_search_hybrid(v, name, &r, &list, &err), &err);
            got[exact].n = 0;
            for (size_t i = 0; i < list.count && i < MAX_HITS; i++) got[exact].id[got[exact].n++] = list.items[i].point.id.num;
            eg_scored_list_free(&list);
        }
        CHECK(got[0].n == 10 && got[1].n == 10);
        for (size_t i = 0; i < got[1].n; i++) overlap += contains(&got[0], got[1].id[i]);
    }
    overlap /= 30 * 10;
    fprintf(stderr, "    measured: hybrid top-10 overlap with exact hybrid %.3f\n", overlap);
    CHECK(indexed(v, name) == POINTS);
    CHECK(overlap >= 0.9);
    eg_vectors_close(v);
}

/* Reads keep parsed configurations; a collection deleted and made again with another dimension, or given a
 * payload index, is seen as it is now by the very next read. */
TEST(configuration_changes_reach_the_next_read) {
    const char *dir = test_scratch_dir(), *name = "cfg";
    eg_vectors *v = open_store(dir);
    float two[2] = {1, 0}, three[3] = {0, 1, 0};
    eg_point p2 = {.id = eg_point_id_num(1), .vector = two, .dim = 2};
    eg_point p3 = {.id = eg_point_id_num(1), .vector = three, .dim = 3};
    eg_collection_config c2 = {.dim = 2, .distance = EG_DISTANCE_DOT}, c3 = {.dim = 3, .distance = EG_DISTANCE_DOT};
    eg_scored_list out = {0};
    eg_search_request r2 = {.vector = two, .dim = 2, .limit = 1}, r3 = {.vector = three, .dim = 3, .limit = 1};
    for (int round = 0; round < 3; round++) {
        REQUIRE(eg_vectors_create_collection(v, name, &c2, &err) == EG_OK);
        REQUIRE(eg_vectors_upsert(v, name, &p2, 1, &err) == EG_OK);
        CHECK_OK(eg_vectors_search(v, name, &r2, &out, &err), &err);
        CHECK(out.count == 1);
        eg_scored_list_free(&out);
        REQUIRE(eg_vectors_delete_collection(v, name, &err) == EG_OK);
        CHECK(eg_vectors_search(v, name, &r2, &out, &err) == EG_NOT_FOUND);
        REQUIRE(eg_vectors_create_collection(v, name, &c3, &err) == EG_OK);
        CHECK(eg_vectors_search(v, name, &r2, &out, &err) == EG_INVALID_ARGUMENT); /* dim 3 now */
        REQUIRE(eg_vectors_upsert(v, name, &p3, 1, &err) == EG_OK);
        CHECK_OK(eg_vectors_search(v, name, &r3, &out, &err), &err);
        CHECK(out.count == 1 && out.items[0].score == 1.0);
        eg_scored_list_free(&out);
        REQUIRE(eg_vectors_create_payload_index(v, name, "k", EG_PAYLOAD_KEYWORD, &err) == EG_OK);
        eg_collection_info info;
        CHECK_OK(eg_vectors_get_collection(v, name, &info, &err), &err);
        CHECK(info.index_count == 1);
        eg_collection_info_clear(&info);
        REQUIRE(eg_vectors_delete_collection(v, name, &err) == EG_OK);
    }
    eg_vectors_close(v);
}

TEST(bad_search_params) {
    const char *name = "b";
    eg_vectors *v = fresh_collection(NULL, name, EG_DISTANCE_EUCLID, EG_QUANTIZATION_INT8);
    float query[DIM];
    query_vector(1, query);
    hits h;
    /* refused before anything happens: not even the index is built */
    const eg_search_params bad[] = {{.oversampling = 0.5}, {.oversampling = -1},        {.oversampling = NAN},
                                    {.oversampling = 101}, {.hnsw_ef = EG_SEARCH_LIMIT_MAX + 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(search(v, name, query, K, bad[i], NULL, &h, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(h.n == 0);
    }
    CHECK(strstr(err.message, "hnsw_ef") != NULL);
    CHECK(indexed(v, name) == 0);
    CHECK(points(v, name) == N);
    /* hnsw_ef 0 is the default (64); oversampling 0 is 1 */
    hits a, b, c;
    CHECK_OK(search(v, name, query, K, DEFAULTS, NULL, &a, &err), &err);
    CHECK(indexed(v, name) == N);
    CHECK_OK(search(v, name, query, K, (eg_search_params){.hnsw_ef = EG_HNSW_EF_DEFAULT, .oversampling = 1}, NULL, &b,
                    &err),
             &err);
    CHECK(a.n == K && same_hits(&a, &b));
    /* hnsw_ef below the limit is raised to it */
    CHECK_OK(search(v, name, query, 50, (eg_search_params){.hnsw_ef = 1}, NULL, &c, &err), &err);
    CHECK(c.n == 50);
    /* and once the index exists, a refused request still changes nothing */
    CHECK_STATUS(search(v, name, query, K, bad[0], NULL, &h, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "oversampling") != NULL);
    CHECK(indexed(v, name) == N && points(v, name) == N);
    eg_vectors_close(v);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    init_centres();
    RUN(index_serves_searches);
    RUN(threaded_build_reaches_every_point);
    RUN(hnsw_ef_per_query);
    RUN(writes_after_the_index_exists);
    RUN(filtered_search);
    RUN(walks_test_exactly_indexed_filters_through_the_index);
    RUN(int8_quantization);
    RUN(persistence);
    RUN(sigkill_during_writes);
    RUN(concurrent_searches_and_writes);
    RUN(concurrent_writes_where_searches_look);
    RUN(delete_collection_removes_the_index);
    RUN(hybrid_search_uses_the_index);
    RUN(configuration_changes_reach_the_next_read);
    RUN(bad_search_params);
    return test_summary();
}
