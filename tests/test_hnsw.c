/* test_hnsw.c — the HNSW index against brute force (eg_vec_score over every point): recall@10 for Cosine, Dot
 * and Euclid on random vectors, result order and uniqueness, removal of 30% with recall kept, re-adding removed
 * labels, filtered search at 1% and 20% selectivity, concurrent searches, searches during inserts, threaded
 * batches, edge cases (empty index, k above the count) and refused arguments. The Euclid build runs on the scalar
 * kernels, then the AVX2 and AVX-512 ones (when the CPU has them), since the kernel is chosen at run time
 * (ENGRAM_SIMD, eg_simd_select). Data is small so the suite stays fast under ASan. */
#include "test.h"

#include "vector/distance.h"
#include "vector/hnsw.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define N (5000 / TEST_WORK_DIVISOR)
#define DIM 32
#define QUERIES 100
#define K 10
#define EF 64

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL; /* test_random's state (test.h): a fixed seed */

static float base[N * DIM], queries[QUERIES * DIM];

/* Fresh random data; normalised for Cosine, as the index expects. */
static void make_data(eg_distance d) {
    for (size_t i = 0; i < N * DIM; i++) base[i] = test_random_unit(&rng_state);
    for (size_t i = 0; i < QUERIES * DIM; i++) queries[i] = test_random_unit(&rng_state);
    if (d != EG_DISTANCE_COSINE) return;
    for (size_t i = 0; i < N; i++) eg_vec_normalize(base + i * DIM, DIM);
    for (size_t i = 0; i < QUERIES; i++) eg_vec_normalize(queries + i * DIM, DIM);
}

static eg_hnsw *build(eg_distance d) {
    eg_error err;
    eg_hnsw *h = NULL;
    eg_hnsw_params p = eg_hnsw_params_default();
    p.ef_construct = 64;
    if (eg_hnsw_new(DIM, d, &p, &h, &err) != EG_OK) return NULL;
    for (uint32_t i = 0; i < N; i++) {
        if (eg_hnsw_add(h, i, base + (size_t)i * DIM, &err) != EG_OK) {
            eg_hnsw_free(h);
            return NULL;
        }
    }
    return h;
}

typedef struct label_set {
    const bool *in; /* in[label]: accepted */
} label_set;

static bool accept_in(void *ctx, uint32_t label) { return ((const label_set *)ctx)->in[label]; }

static bool better(eg_distance d, eg_hnsw_hit a, eg_hnsw_hit b) {
    if (a.score != b.score) return eg_distance_higher_is_better(d) ? a.score > b.score : a.score < b.score;
    return a.label < b.label;
}

/* The exact top k among labels with in[label] (NULL: all), best first; returns the count. */
static size_t brute_force(eg_distance d, const float *q, const bool *in, size_t k, eg_hnsw_hit *out) {
    size_t n = 0;
    for (uint32_t i = 0; i < N; i++) {
        if (in && !in[i]) continue;
        eg_hnsw_hit c = {i, eg_vec_score(d, q, base + (size_t)i * DIM, DIM)};
        if (n == k && !better(d, c, out[n - 1])) continue;
        size_t at = n < k ? n++ : n - 1;
        while (at > 0 && better(d, c, out[at - 1])) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = c;
    }
    return n;
}

/* Checks order, uniqueness and that every label is accepted; returns the hits that are in the exact answer. */
static size_t check_hits(eg_distance d, const eg_hnsw_hit *got, size_t n, const eg_hnsw_hit *want, size_t wn,
                         const bool *in) {
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) CHECK(better(d, got[i - 1], got[i]));
        if (in) CHECK(in[got[i].label]);
        for (size_t j = 0; j < wn; j++) hits += got[i].label == want[j].label;
    }
    return hits;
}

/* recall@K over all queries, restricted to in (NULL: all); checks that every search returns min(K, matching). */
static double recall(eg_hnsw *h, eg_distance d, const bool *in) {
    eg_error err;
    size_t hits = 0, wanted = 0;
    label_set set = {in};
    for (size_t q = 0; q < QUERIES; q++) {
        eg_hnsw_hit got[K], want[K];
        size_t found = 0;
        CHECK_OK(eg_hnsw_search(h, queries + q * DIM, K, EF, in ? accept_in : NULL, &set, got, &found, &err), &err);
        size_t wn = brute_force(d, queries + q * DIM, in, K, want);
        CHECK(found == wn);
        hits += check_hits(d, got, found, want, wn, in);
        wanted += wn;
    }
    return wanted ? (double)hits / (double)wanted : 1.0;
}

static void recall_for(eg_distance d, double floor) {
    make_data(d);
    eg_hnsw *h = build(d);
    REQUIRE(h);
    CHECK(eg_hnsw_count(h) == N);
    double r = recall(h, d, NULL);
    fprintf(stderr, "  %s (%s): recall@10 %.4f\n", eg_distance_name(d), eg_simd_name(eg_simd_active()), r);
    CHECK(r >= floor);
    eg_hnsw_free(h);
}

TEST(recall_cosine) { recall_for(EG_DISTANCE_COSINE, 0.95); }
TEST(recall_dot) { recall_for(EG_DISTANCE_DOT, 0.95); }

TEST(recall_euclid_every_kernel) {
    eg_simd was = eg_simd_active();
    const eg_simd kernels[] = {EG_SIMD_SCALAR, EG_SIMD_AVX2, EG_SIMD_AVX512};
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        if (eg_simd_select(kernels[k])) recall_for(EG_DISTANCE_EUCLID, 0.95);
        else fprintf(stderr, "  note: %s not supported here, not tested\n", eg_simd_name(kernels[k]));
    }
    eg_simd_select(was);
}

TEST(remove_thirty_percent_then_readd) {
    eg_error err;
    make_data(EG_DISTANCE_COSINE);
    eg_hnsw *h = build(EG_DISTANCE_COSINE);
    REQUIRE(h);
    static bool in[N];
    for (uint32_t i = 0; i < N; i++) in[i] = test_random(&rng_state) % 10 >= 3;
    for (uint32_t i = 0; i < N; i++)
        if (!in[i]) CHECK_OK(eg_hnsw_remove(h, i, &err), &err);
    /* Unfiltered searches; check_hits verifies every hit is in `in`: removed labels never come back. */
    size_t hits = 0, wanted = 0;
    for (size_t q = 0; q < QUERIES; q++) {
        eg_hnsw_hit got[K], want[K];
        size_t found = 0;
        CHECK_OK(eg_hnsw_search(h, queries + q * DIM, K, EF, NULL, NULL, got, &found, &err), &err);
        size_t wn = brute_force(EG_DISTANCE_COSINE, queries + q * DIM, in, K, want);
        CHECK(found == K);
        hits += check_hits(EG_DISTANCE_COSINE, got, found, want, wn, in);
        wanted += wn;
    }
    double r = (double)hits / (double)wanted;
    fprintf(stderr, "  after removing 30%%: recall@10 %.4f\n", r);
    CHECK(r >= 0.93);
    uint32_t gone = 0;
    while (in[gone]) gone++;
    CHECK_STATUS(eg_hnsw_remove(h, gone, &err), EG_NOT_FOUND, &err);

    for (uint32_t i = 0; i < N; i++) {
        if (in[i]) continue;
        CHECK_OK(eg_hnsw_add(h, i, base + (size_t)i * DIM, &err), &err);
        in[i] = true;
    }
    CHECK(eg_hnsw_count(h) == N);
    r = recall(h, EG_DISTANCE_COSINE, NULL);
    fprintf(stderr, "  after re-adding them: recall@10 %.4f\n", r);
    CHECK(r >= 0.93);
    eg_hnsw_free(h);
}

/* A point re-added with another vector is found at its new place. */
TEST(readd_moves_point) {
    eg_error err;
    make_data(EG_DISTANCE_EUCLID);
    eg_hnsw *h = build(EG_DISTANCE_EUCLID);
    REQUIRE(h);
    CHECK_STATUS(eg_hnsw_add(h, 7, base, &err), EG_CONFLICT, &err);
    CHECK_OK(eg_hnsw_remove(h, 7, &err), &err);
    CHECK(!eg_hnsw_contains(h, 7));
    CHECK_OK(eg_hnsw_add(h, 7, queries, &err), &err);
    eg_hnsw_hit hit;
    size_t found = 0;
    CHECK_OK(eg_hnsw_search(h, queries, 1, EF, NULL, NULL, &hit, &found, &err), &err);
    CHECK(found == 1 && hit.label == 7 && hit.score == 0.0f);
    eg_hnsw_free(h);
}

static void filtered(eg_hnsw *h, unsigned percent) {
    static bool in[N];
    size_t matching = 0;
    for (uint32_t i = 0; i < N; i++) matching += in[i] = test_random(&rng_state) % 100 < percent;
    double r = recall(h, EG_DISTANCE_COSINE, in);
    fprintf(stderr, "  filter %u%% (%zu points): recall@10 %.4f\n", percent, matching, r);
    CHECK(r >= 0.95);
}

TEST(filtered_search) {
    make_data(EG_DISTANCE_COSINE);
    eg_hnsw *h = build(EG_DISTANCE_COSINE);
    REQUIRE(h);
    filtered(h, 1);
    filtered(h, 20);
    eg_hnsw_free(h);
}

#define THREADS 4

typedef struct searcher {
    eg_hnsw *h;
    eg_hnsw_hit got[QUERIES][K];
    size_t found[QUERIES];
} searcher;

static void *search_all(void *arg) {
    searcher *w = arg;
    eg_error err;
    for (size_t q = 0; q < QUERIES; q++)
        if (eg_hnsw_search(w->h, queries + q * DIM, K, EF, NULL, NULL, w->got[q], &w->found[q], &err) != EG_OK)
            w->found[q] = SIZE_MAX;
    return NULL;
}

/* Searches running at once (each on its own pooled scratch) answer exactly as one alone. */
TEST(concurrent_searches) {
    make_data(EG_DISTANCE_DOT);
    eg_hnsw *h = build(EG_DISTANCE_DOT);
    REQUIRE(h);
    static searcher alone, many[THREADS];
    alone.h = h;
    search_all(&alone);
    pthread_t threads[THREADS];
    for (size_t t = 0; t < THREADS; t++) {
        many[t].h = h;
        REQUIRE(pthread_create(&threads[t], NULL, search_all, &many[t]) == 0);
    }
    for (size_t t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
    for (size_t t = 0; t < THREADS; t++) {
        CHECK(memcmp(many[t].found, alone.found, sizeof(alone.found)) == 0);
        CHECK(memcmp(many[t].got, alone.got, sizeof(alone.got)) == 0);
    }
    eg_hnsw_free(h);
}

/* A batch on two threads builds a graph as good as one thread's, and reaches every point: each is found first by
 * its own vector. (A point linked back before its lower layers were written used to strand a few points.) */
TEST(threaded_batch_reaches_every_point) {
    make_data(EG_DISTANCE_DOT);
    static uint32_t labels[N];
    for (uint32_t i = 0; i < N; i++) labels[i] = i;
    for (int round = 0; round < 3; round++) {
        eg_error err;
        eg_hnsw *h = NULL;
        eg_hnsw_params p = eg_hnsw_params_default();
        p.ef_construct = 64;
        REQUIRE(eg_hnsw_new(DIM, EG_DISTANCE_EUCLID, &p, &h, &err) == EG_OK);
        CHECK_OK(eg_hnsw_add_batch(h, labels, base, N, 2, &err), &err);
        CHECK(eg_hnsw_count(h) == N);
        size_t lost = 0;
        for (uint32_t i = 0; i < N; i++) {
            eg_hnsw_hit hit;
            size_t found = 0;
            CHECK_OK(eg_hnsw_search(h, base + (size_t)i * DIM, 1, 200, NULL, NULL, &hit, &found, &err), &err);
            lost += found != 1 || hit.label != i;
        }
        CHECK(lost == 0);
        if (round == 0) CHECK(recall(h, EG_DISTANCE_EUCLID, NULL) >= 0.95);
        eg_hnsw_free(h);
    }
}

typedef struct inserter {
    eg_hnsw *h;
    _Atomic bool done;
    size_t added;
} inserter;

static void *insert_second_half(void *arg) {
    inserter *in = arg;
    eg_error err;
    for (uint32_t i = N / 2; i < N; i++)
        if (eg_hnsw_add(in->h, i, base + (size_t)i * DIM, &err) == EG_OK) in->added++;
    atomic_store(&in->done, true);
    return NULL;
}

typedef struct prober {
    inserter *in;
    size_t searches, short_results;
} prober;

static void *probe_while_inserting(void *arg) {
    prober *p = arg;
    eg_error err;
    for (size_t q = 0; !atomic_load(&p->in->done); q = (q + 1) % QUERIES) {
        eg_hnsw_hit hits[K];
        size_t found = 0;
        if (eg_hnsw_search(p->in->h, queries + q * DIM, K, EF, NULL, NULL, hits, &found, &err) != EG_OK) found = 0;
        p->searches++;
        p->short_results += found != K;
    }
    return NULL;
}

/* Searches run while points are inserted and never come back short (a walk never starts from a point whose
 * lower layers are not linked yet); afterwards the graph is as good as a sequential build. */
TEST(searches_during_inserts) {
    make_data(EG_DISTANCE_DOT);
    eg_error err;
    eg_hnsw *h = NULL;
    eg_hnsw_params p = eg_hnsw_params_default();
    p.ef_construct = 64;
    REQUIRE(eg_hnsw_new(DIM, EG_DISTANCE_DOT, &p, &h, &err) == EG_OK);
    for (uint32_t i = 0; i < N / 2; i++) REQUIRE(eg_hnsw_add(h, i, base + (size_t)i * DIM, &err) == EG_OK);
    static inserter in;
    static prober probers[3];
    in = (inserter){h, false, 0};
    pthread_t writer, readers[3];
    REQUIRE(pthread_create(&writer, NULL, insert_second_half, &in) == 0);
    for (int t = 0; t < 3; t++) {
        probers[t] = (prober){&in, 0, 0};
        REQUIRE(pthread_create(&readers[t], NULL, probe_while_inserting, &probers[t]) == 0);
    }
    pthread_join(writer, NULL);
    size_t searches = 0, short_results = 0;
    for (int t = 0; t < 3; t++) {
        pthread_join(readers[t], NULL);
        searches += probers[t].searches;
        short_results += probers[t].short_results;
    }
    fprintf(stderr, "  %zu searches during %zu inserts, %zu short\n", searches, in.added, short_results);
    CHECK(in.added == N - N / 2);
    CHECK(searches > 0);
    CHECK(short_results == 0);
    CHECK(recall(h, EG_DISTANCE_DOT, NULL) >= 0.95);
    eg_hnsw_free(h);
}

TEST(small_and_empty) {
    eg_error err;
    eg_hnsw *h = NULL;
    CHECK_OK(eg_hnsw_new(3, EG_DISTANCE_EUCLID, NULL, &h, &err), &err);
    REQUIRE(h);
    float q[3] = {0, 0, 0};
    eg_hnsw_hit hits[20];
    size_t found = 99;
    CHECK_OK(eg_hnsw_search(h, q, 10, 10, NULL, NULL, hits, &found, &err), &err);
    CHECK(found == 0);
    for (uint32_t i = 0; i < 5; i++) {
        float v[3] = {(float)i, 0, 0};
        CHECK_OK(eg_hnsw_add(h, 4 - i, v, &err), &err);
    }
    CHECK_OK(eg_hnsw_search(h, q, 20, 1, NULL, NULL, hits, &found, &err), &err);
    CHECK(found == 5);
    for (size_t i = 0; i < found; i++) CHECK(hits[i].label == 4 - i && hits[i].score == (float)i);
    CHECK_OK(eg_hnsw_search(h, q, 0, 10, NULL, NULL, NULL, &found, &err), &err);
    CHECK(found == 0);
    for (uint32_t i = 0; i < 5; i++) CHECK_OK(eg_hnsw_remove(h, i, &err), &err);
    CHECK_OK(eg_hnsw_search(h, q, 10, 10, NULL, NULL, hits, &found, &err), &err);
    CHECK(found == 0 && eg_hnsw_count(h) == 0);
    CHECK_OK(eg_hnsw_add(h, 2, q, &err), &err);
    CHECK_OK(eg_hnsw_search(h, q, 10, 10, NULL, NULL, hits, &found, &err), &err);
    CHECK(found == 1 && hits[0].label == 2);
    CHECK(eg_hnsw_memory_bytes(h) > 0);
    eg_hnsw_free(h);
}

TEST(bad_arguments) {
    eg_error err;
    eg_hnsw *h = NULL;
    eg_hnsw_params p = eg_hnsw_params_default();
    CHECK_STATUS(eg_hnsw_new(0, EG_DISTANCE_DOT, NULL, &h, &err), EG_INVALID_ARGUMENT, &err);
    p.m = 1;
    CHECK_STATUS(eg_hnsw_new(4, EG_DISTANCE_DOT, &p, &h, &err), EG_INVALID_ARGUMENT, &err);
    p = eg_hnsw_params_default();
    p.ef_construct = 0;
    CHECK_STATUS(eg_hnsw_new(4, EG_DISTANCE_DOT, &p, &h, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(h == NULL);
    CHECK_OK(eg_hnsw_new(4, EG_DISTANCE_DOT, NULL, &h, &err), &err);
    REQUIRE(h);
    float v[4] = {1, 2, 3, 4}, bad[4] = {1, NAN, 0, 0};
    CHECK_STATUS(eg_hnsw_add(h, 0, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_hnsw_add(h, 0, bad, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_hnsw_add(h, UINT32_MAX, v, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_OK(eg_hnsw_add(h, 0, v, &err), &err);
    CHECK_STATUS(eg_hnsw_add(h, 0, v, &err), EG_CONFLICT, &err);
    CHECK_STATUS(eg_hnsw_remove(h, 1, &err), EG_NOT_FOUND, &err);
    size_t found;
    eg_hnsw_hit hit;
    CHECK_STATUS(eg_hnsw_search(h, NULL, 1, 1, NULL, NULL, &hit, &found, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_hnsw_search(h, v, 1, 1, NULL, NULL, NULL, &found, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_hnsw_search(h, v, 1, 1, NULL, NULL, &hit, NULL, &err), EG_INVALID_ARGUMENT, &err);
    eg_hnsw_free(h);
}

int main(void) {
    RUN(recall_cosine);
    RUN(recall_dot);
    RUN(recall_euclid_every_kernel);
    RUN(remove_thirty_percent_then_readd);
    RUN(readd_moves_point);
    RUN(filtered_search);
    RUN(concurrent_searches);
    RUN(threaded_batch_reaches_every_point);
    RUN(searches_during_inserts);
    RUN(small_and_empty);
    RUN(bad_arguments);
    return test_summary();
}
