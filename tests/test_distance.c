/* test_distance.c — the vector arithmetic against plain references: every dense kernel and the block scorer, in
 * both implementations, against double-precision sums on random data of every dimension from 1 to 1100 (so
 * every tail length and alignment is met); normalisation; the sparse dot product and sort; top-k selection
 * against a full sort, with ties, in both orders; Qdrant's fusions (RRF, DBSF) against its own pinned example
 * and hand-computed ones. */
#include "test.h"

#include "vector/distance.h"
#include "vector/fusion.h"
#include "vector/topk.h"

#include <math.h>

#define DIM_LIMIT 1100
#define MISALIGN_MAX 7 /* start vectors at every float offset within a 32-byte register */

/* Float sums in a different order than the reference drift by a few ulps of the sum of |terms|. */
#define RELATIVE_TOLERANCE 2e-5

static uint64_t rng_state = 0x2545f4914f6cdd1dULL; /* test_random's state (test.h): a fixed seed */

static void fill_random(float *v, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) v[i] = scale * test_random_unit(&rng_state);
}

typedef struct reference_sums {
    double dot, dot_magnitude; /* sum a*b, and sum |a*b|: the scale of dot's rounding error */
    double l2_squared, l1;
} reference_sums;

static reference_sums reference(const float *a, const float *b, size_t dim) {
    reference_sums r = {0, 0, 0, 0};
    for (size_t i = 0; i < dim; i++) {
        double x = a[i], y = b[i];
        r.dot += x * y;
        r.dot_magnitude += fabs(x * y);
        r.l2_squared += (x - y) * (x - y);
        r.l1 += fabs(x - y);
    }
    return r;
}

static bool close_to(double got, double want, double scale) {
    return fabs(got - want) <= RELATIVE_TOLERANCE * scale + 1e-30;
}

static bool score_matches(eg_distance d, float got, const reference_sums *r) {
    switch (d) {
    case EG_DISTANCE_COSINE:
    case EG_DISTANCE_DOT: return close_to(got, r->dot, r->dot_magnitude);
    case EG_DISTANCE_EUCLID: return close_to(got, sqrt(r->l2_squared), sqrt(r->l2_squared));
    case EG_DISTANCE_MANHATTAN: return close_to(got, r->l1, r->l1);
    }
    return false;
}

static const eg_simd implementations[] = {EG_SIMD_SCALAR, EG_SIMD_AVX2, EG_SIMD_AVX512};
static const eg_distance distances[] = {EG_DISTANCE_COSINE, EG_DISTANCE_DOT, EG_DISTANCE_EUCLID,
                                        EG_DISTANCE_MANHATTAN};
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Selects s; false (with a note) when this CPU cannot run it, so the caller skips it. */
static bool use(eg_simd s) {
    if (eg_simd_select(s)) return true;
    fprintf(stderr, "  note: %s not supported here, not tested\n", eg_simd_name(s));
    return false;
}

/* Runs first, before anything else has picked an implementation. */
TEST(environment_forces_scalar) {
    setenv("ENGRAM_SIMD", "scalar", 1);
    CHECK(eg_simd_active() == EG_SIMD_SCALAR);
    CHECK(strcmp(eg_simd_name(eg_simd_active()), "scalar") == 0);
    unsetenv("ENGRAM_SIMD");
    CHECK(eg_simd_active() == EG_SIMD_SCALAR); /* chosen once */
    CHECK(eg_simd_select(EG_SIMD_SCALAR));
}

TEST(dense_kernels_match_reference) {
    static float a_buf[DIM_LIMIT + MISALIGN_MAX], b_buf[DIM_LIMIT + MISALIGN_MAX];
    for (size_t s = 0; s < COUNT_OF(implementations); s++) {
        if (!use(implementations[s])) continue;
        int failures = 0;
        for (size_t dim = 1; dim <= DIM_LIMIT; dim++) {
            const float *a = a_buf + dim % (MISALIGN_MAX + 1), *b = b_buf + (dim / 3) % (MISALIGN_MAX + 1);
            float scale = dim % 5 == 0 ? 1e3f : dim % 5 == 1 ? 1e-3f : 1.0f;
            fill_random(a_buf, COUNT_OF(a_buf), scale);
            fill_random(b_buf, COUNT_OF(b_buf), scale);
            reference_sums r = reference(a, b, dim);
            bool ok = close_to(eg_vec_dot(a, b, dim), r.dot, r.dot_magnitude) &&
                      close_to(eg_vec_l2_squared(a, b, dim), r.l2_squared, r.l2_squared) &&
                      close_to(eg_vec_manhattan(a, b, dim), r.l1, r.l1);
            for (size_t d = 0; d < COUNT_OF(distances); d++)
                ok = ok && score_matches(distances[d], eg_vec_score(distances[d], a, b, dim), &r);
            if (!ok && failures++ < 5) fprintf(stderr, "  %s: dim %zu off\n", eg_simd_name(implementations[s]), dim);
        }
        CHECK(failures == 0);
    }
}

TEST(identical_vectors_are_at_distance_zero) {
    float v[37];
    fill_random(v, 37, 1);
    for (size_t s = 0; s < COUNT_OF(implementations); s++) {
        if (!use(implementations[s])) continue;
        CHECK(eg_vec_l2_squared(v, v, 37) == 0);
        CHECK(eg_vec_manhattan(v, v, 37) == 0);
        CHECK(eg_vec_score(EG_DISTANCE_EUCLID, v, v, 37) == 0);
    }
}

TEST(block_scorer_matches_reference) {
    static const size_t dims[] = {1, 3, 7, 8, 9, 31, 32, 33, 100, 384, 1023, 1024, 1100};
    static const size_t counts[] = {0, 1, 2, 37};
    for (size_t s = 0; s < COUNT_OF(implementations); s++) {
        if (!use(implementations[s])) continue;
        for (size_t di = 0; di < COUNT_OF(dims); di++)
            for (size_t ci = 0; ci < COUNT_OF(counts); ci++)
                for (size_t d = 0; d < COUNT_OF(distances); d++) {
                    size_t dim = dims[di], n = counts[ci];
                    float *query = malloc(dim * sizeof *query), *rows = malloc((n * dim + 1) * sizeof *rows);
                    float *scores = malloc((n + 1) * sizeof *scores);
                    REQUIRE(query && rows && scores);
                    fill_random(query, dim, 1);
                    fill_random(rows, n * dim, 1);
                    scores[n] = 12345; /* a sentinel: nothing past n is written */
                    eg_vec_score_block(distances[d], query, rows, n, dim, scores);
                    for (size_t i = 0; i < n; i++) {
                        reference_sums r = reference(query, rows + i * dim, dim);
                        CHECK(score_matches(distances[d], scores[i], &r));
                    }
                    CHECK(scores[n] == 12345);
                    free(query);
                    free(rows);
                    free(scores);
                }
    }
}

static double norm_of(const float *v, size_t dim) {
    double sum = 0;
    for (size_t i = 0; i < dim; i++) sum += (double)v[i] * v[i];
    return sqrt(sum);
}

TEST(normalize_gives_unit_vectors_in_the_same_direction) {
    static float v[DIM_LIMIT], original[DIM_LIMIT], again[DIM_LIMIT];
    for (size_t dim = 1; dim <= DIM_LIMIT; dim += 7) {
        fill_random(original, dim, dim % 2 ? 100.0f : 0.01f);
        memcpy(v, original, dim * sizeof *v);
        double norm = norm_of(original, dim);
        REQUIRE(eg_vec_normalize(v, dim));
        CHECK(fabs(norm_of(v, dim) - 1) < 1e-6);
        for (size_t i = 0; i < dim; i++) CHECK(fabs(v[i] - original[i] / norm) <= 1e-6 * fabs(original[i] / norm));
        memcpy(again, v, dim * sizeof *v);
        CHECK(eg_vec_normalize(again, dim));
        CHECK(memcmp(again, v, dim * sizeof *v) == 0); /* idempotent to the bit */
    }
}

TEST(normalize_extremes) {
    float tiny[3] = {1e-40f, 0, -1e-40f}; /* subnormal: float arithmetic alone would underflow to zero */
    CHECK(eg_vec_normalize(tiny, 3));
    CHECK(fabs(norm_of(tiny, 3) - 1) < 1e-6);
    CHECK(tiny[0] > 0.7f && tiny[2] < -0.7f && tiny[1] == 0);
    float huge[2] = {3e38f, 3e38f}; /* float arithmetic alone would overflow */
    CHECK(eg_vec_normalize(huge, 2));
    CHECK(fabs(huge[0] - sqrt(0.5)) < 1e-6 && huge[0] == huge[1]);
    float one[1] = {-5};
    CHECK(eg_vec_normalize(one, 1));
    CHECK(one[0] == -1);
}

TEST(normalize_reports_the_zero_vector_and_keeps_it) {
    float zero[5] = {0, 0, -0.0f, 0, 0};
    CHECK(!eg_vec_normalize(zero, 5));
    for (int i = 0; i < 5; i++) CHECK(zero[i] == 0);
    float query[5] = {1, 2, 3, 4, 5};
    CHECK(eg_vec_score(EG_DISTANCE_COSINE, query, zero, 5) == 0); /* scores 0 against anything, as in Qdrant */
}

static float sparse_reference(const eg_sparse_vector *a, const eg_sparse_vector *b) {
    double sum = 0;
    for (size_t i = 0; i < a->count; i++)
        for (size_t j = 0; j < b->count; j++)
            if (a->indices[i] == b->indices[j]) sum += (double)a->values[i] * b->values[j];
    return (float)sum;
}

TEST(sparse_dot_small_cases) {
    uint32_t ia[] = {1, 5, 9}, ib[] = {2, 5, 9, 40}, ic[] = {0, 3, 100};
    float va[] = {1, 2, 3}, vb[] = {10, 20, 30, 40}, vc[] = {7, 7, 7};
    eg_sparse_vector a = {ia, va, 3}, b = {ib, vb, 4}, c = {ic, vc, 3}, empty = {NULL, NULL, 0};
    CHECK(eg_sparse_dot(&empty, &empty) == 0);
    CHECK(eg_sparse_dot(&a, &empty) == 0);
    CHECK(eg_sparse_dot(&empty, &a) == 0);
    CHECK(eg_sparse_dot(&a, &c) == 0);              /* disjoint */
    CHECK(eg_sparse_dot(&a, &b) == 2 * 20 + 3 * 30); /* overlapping in 5 and 9 */
    CHECK(eg_sparse_dot(&b, &a) == 2 * 20 + 3 * 30);
    CHECK(eg_sparse_dot(&a, &a) == 1 + 4 + 9);
}

/* A sorted random sparse vector over indices [0, universe), each present with probability 1/every. */
static void random_sparse(eg_sparse_vector *v, uint32_t *indices, float *values, uint32_t universe, unsigned every) {
    v->indices = indices;
    v->values = values;
    v->count = 0;
    for (uint32_t i = 0; i < universe; i++)
        if (test_random(&rng_state) % every == 0) {
            indices[v->count] = i;
            values[v->count++] = test_random_unit(&rng_state);
        }
}

TEST(sparse_dot_matches_reference) {
    static uint32_t ia[500], ib[500];
    static float va[500], vb[500];
    for (int round = 0; round < 200; round++) {
        eg_sparse_vector a, b;
        random_sparse(&a, ia, va, 500, 1 + round % 7);
        random_sparse(&b, ib, vb, 500, 1 + round % 11);
        float want = sparse_reference(&a, &b);
        CHECK(fabsf(eg_sparse_dot(&a, &b) - want) <= 1e-5f * (1 + fabsf(want)));
    }
}

TEST(sparse_sort_keeps_values_with_their_indices) {
    enum { N = 1000 };
    static uint32_t indices[N];
    static float values[N];
    for (uint32_t i = 0; i < N; i++) indices[i] = i * 3;
    for (size_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = test_random(&rng_state) % (i + 1);
        uint32_t t = indices[i];
        indices[i] = indices[j];
        indices[j] = t;
    }
    for (size_t i = 0; i < N; i++) values[i] = (float)indices[i] + 0.5f;
    eg_sparse_vector v = {indices, values, N};
    eg_error err;
    CHECK_OK(eg_sparse_sort(&v, &err), &err);
    for (size_t i = 0; i < N; i++) CHECK(indices[i] == i * 3 && values[i] == (float)(i * 3) + 0.5f);
    CHECK_OK(eg_sparse_sort(&v, &err), &err); /* already sorted */
    for (size_t i = 0; i < N; i++) CHECK(indices[i] == i * 3);

    eg_sparse_vector empty = {NULL, NULL, 0};
    CHECK_OK(eg_sparse_sort(&empty, &err), &err);
    uint32_t one_index[] = {7};
    float one_value[] = {1};
    eg_sparse_vector one = {one_index, one_value, 1};
    CHECK_OK(eg_sparse_sort(&one, &err), &err);
}

TEST(sparse_sort_rejects_duplicates) {
    uint32_t shuffled[] = {9, 4, 1, 4, 2}, sorted[] = {1, 2, 2, 3};
    float values[] = {1, 2, 3, 4, 5};
    eg_sparse_vector a = {shuffled, values, 5}, b = {sorted, values, 4};
    eg_error err;
    CHECK_STATUS(eg_sparse_sort(&a, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "index 4 twice") != NULL);
    CHECK_STATUS(eg_sparse_sort(&b, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "index 2 twice") != NULL);
}

/* ---- top-k ---------------------------------------------------------------------------------------------- */

typedef struct candidate {
    float score;
    eg_point_id id;
    uint64_t slot;
} candidate;

static bool reference_higher_is_better;

/* The expected order, written out independently of topk.c: better score first, then id ascending. */
static int reference_order(const void *x, const void *y) {
    const candidate *a = x, *b = y;
    if (a->score != b->score)
        return (reference_higher_is_better ? a->score > b->score : a->score < b->score) ? -1 : 1;
    return eg_point_id_compare(&a->id, &b->id);
}

/* n candidates with distinct ids (numbers and UUIDs mixed); scores from `levels` values, so many tie. */
static void make_candidates(candidate *c, size_t n, unsigned levels) {
    for (size_t i = 0; i < n; i++) {
        c[i].slot = i;
        c[i].score = (float)(test_random(&rng_state) % levels) * 0.25f - 1;
        if (i % 3 == 0) {
            c[i].id.is_uuid = true;
            c[i].id.num = 0;
            for (int b = 0; b < 16; b++) c[i].id.uuid[b] = (uint8_t)test_random(&rng_state);
            c[i].id.uuid[0] = (uint8_t)i; /* distinct: no two share the first two bytes */
            c[i].id.uuid[1] = (uint8_t)(i >> 8);
        } else {
            c[i].id = eg_point_id_num(test_random(&rng_state) % 1000 * 10000 + i); /* distinct, not in slot order */
        }
    }
}

TEST(topk_matches_a_full_sort) {
    enum { N = 3000 };
    static candidate stream[N], sorted[N];
    static const size_t ks[] = {1, 2, 10, 257, N - 1, N, N + 10};
    static const unsigned levels[] = {1, 5, 1000000};
    static const eg_distance orders[] = {EG_DISTANCE_DOT, EG_DISTANCE_EUCLID};
    for (size_t li = 0; li < COUNT_OF(levels); li++) {
        make_candidates(stream, N, levels[li]);
        for (size_t oi = 0; oi < COUNT_OF(orders); oi++) {
            reference_higher_is_better = eg_distance_higher_is_better(orders[oi]);
            memcpy(sorted, stream, sizeof sorted);
            qsort(sorted, N, sizeof *sorted, reference_order);
            for (size_t ki = 0; ki < COUNT_OF(ks); ki++)
                for (int precheck = 0; precheck < 2; precheck++) {
                    eg_topk t;
                    REQUIRE(eg_topk_init(&t, ks[ki], orders[oi]));
                    for (size_t i = 0; i < N; i++)
                        if (!precheck || eg_topk_may_accept(&t, stream[i].score))
                            eg_topk_push(&t, stream[i].score, &stream[i].id, stream[i].slot);
                    eg_topk_sort(&t);
                    size_t want = ks[ki] < N ? ks[ki] : N;
                    CHECK(t.count == want);
                    int wrong = 0;
                    for (size_t i = 0; i < t.count && i < want; i++)
                        wrong += t.items[i].slot != sorted[i].slot || t.items[i].score != sorted[i].score ||
                                 eg_point_id_compare(&t.items[i].id, &sorted[i].id) != 0;
                    CHECK(wrong == 0);
                    eg_topk_free(&t);
                }
        }
    }
}

TEST(topk_ranks_nan_last_and_handles_k_zero) {
    eg_point_id ids[4] = {eg_point_id_num(1), eg_point_id_num(2), eg_point_id_num(3), eg_point_id_num(4)};
    eg_topk t;
    REQUIRE(eg_topk_init(&t, 3, EG_DISTANCE_EUCLID));
    eg_topk_push(&t, NAN, &ids[0], 0);
    eg_topk_push(&t, 5, &ids[1], 1);
    CHECK(eg_topk_may_accept(&t, 100));
    eg_topk_push(&t, 2, &ids[2], 2);
    CHECK(eg_topk_may_accept(&t, 100)); /* the worst kept is NaN: any number beats it */
    eg_topk_push(&t, 9, &ids[3], 3);
    eg_topk_sort(&t);
    REQUIRE(t.count == 3);
    CHECK(t.items[0].slot == 2 && t.items[1].slot == 1 && t.items[2].slot == 3);
    eg_topk_free(&t);

    REQUIRE(eg_topk_init(&t, 0, EG_DISTANCE_DOT));
    CHECK(!eg_topk_may_accept(&t, 1));
    eg_topk_push(&t, 1, &ids[0], 0);
    eg_topk_sort(&t);
    CHECK(t.count == 0);
    eg_topk_free(&t);
}

/* ---- fusion (Qdrant's RRF and DBSF) ----------------------------------------------------------------------- */

static eg_ranking ranking_of(const eg_point_id *ids, const float *scores, size_t count) {
    eg_ranking r = {ids, scores, count};
    return r;
}

/* Qdrant's own example (reciprocal_rank_fusion.rs, test_rrf_scoring), whose float32 scores it pins exactly:
 * lists [2, 1], [1, 2, 3], [5, 3, 1] at k = 2 give 1: 1/3 + 1/2 + 1/4, 2: 1/2 + 1/3, 3: 1/4 + 1/3, 5: 1/2. */
TEST(rrf_matches_qdrant_to_the_bit) {
    eg_point_id a[] = {eg_point_id_num(2), eg_point_id_num(1)};
    eg_point_id b[] = {eg_point_id_num(1), eg_point_id_num(2), eg_point_id_num(3)};
    eg_point_id c[] = {eg_point_id_num(5), eg_point_id_num(3), eg_point_id_num(1)};
    eg_ranking rankings[] = {ranking_of(a, NULL, 2), ranking_of(b, NULL, 3), ranking_of(c, NULL, 3)};
    eg_fused *fused;
    size_t count;
    REQUIRE(eg_fuse_rrf(rankings, 3, EG_RRF_K_DEFAULT, NULL, &fused, &count));
    REQUIRE(count == 4);
    static const uint64_t want_ids[] = {1, 2, 3, 5};
    static const float want_scores[] = {1.0833334f, 0.8333334f, 0.5833334f, 0.5f};
    for (size_t i = 0; i < 4; i++) CHECK(fused[i].id.num == want_ids[i] && fused[i].score == want_scores[i]);
    free(fused);

    /* one list of one point: 1 / (0 + 2); a larger k: 1 / (0 + 60) */
    REQUIRE(eg_fuse_rrf(rankings + 2, 1, EG_RRF_K_DEFAULT, NULL, &fused, &count));
    CHECK(count == 3 && fused[0].id.num == 5 && fused[0].score == 0.5f);
    free(fused);
    REQUIRE(eg_fuse_rrf(rankings + 2, 1, 60, NULL, &fused, &count));
    CHECK(count == 3 && fused[0].score == 1.0f / 60.0f && fused[2].score == 1.0f / 62.0f);
    free(fused);

    REQUIRE(eg_fuse_rrf(rankings, 0, EG_RRF_K_DEFAULT, NULL, &fused, &count));
    CHECK(count == 0 && fused == NULL);
}

/* A weight w turns position p's share into 1 / ((p + 1) / w + k - 1): with [3, 1] over [1, 2] and [2, 1],
 * 1 earns 1 / (1/3 + 1) + 1 / 3 = 1.0833 and 2 earns 1 / (2/3 + 1) + 1 / 2 = 1.1, so 2 wins (Qdrant's
 * test_rrf_scoring_weighted). A weight of 0 earns nothing but keeps the point listed. Equal scores go by id. */
TEST(rrf_weights_and_ties) {
    eg_point_id a[] = {eg_point_id_num(1), eg_point_id_num(2)}, b[] = {eg_point_id_num(2), eg_point_id_num(1)};
    eg_ranking rankings[] = {ranking_of(a, NULL, 2), ranking_of(b, NULL, 2)};
    eg_fused *fused;
    size_t count;
    REQUIRE(eg_fuse_rrf(rankings, 2, EG_RRF_K_DEFAULT, NULL, &fused, &count));
    REQUIRE(count == 2);
    CHECK(fused[0].id.num == 1 && fused[1].id.num == 2 && fused[0].score == fused[1].score);
    free(fused);

    const float weights[] = {3.0f, 1.0f};
    REQUIRE(eg_fuse_rrf(rankings, 2, EG_RRF_K_DEFAULT, weights, &fused, &count));
    REQUIRE(count == 2);
    CHECK(fused[0].id.num == 2 && fabsf(fused[0].score - 1.1f) < 1e-6f);
    CHECK(fused[1].id.num == 1 && fabsf(fused[1].score - (0.75f + 1.0f / 3.0f)) < 1e-6f);
    free(fused);

    eg_point_id one[] = {eg_point_id_num(1)}, two[] = {eg_point_id_num(2)};
    eg_ranking apart[] = {ranking_of(one, NULL, 1), ranking_of(two, NULL, 1)};
    const float muted[] = {1.0f, 0.0f};
    REQUIRE(eg_fuse_rrf(apart, 2, EG_RRF_K_DEFAULT, muted, &fused, &count));
    REQUIRE(count == 2);
    CHECK(fused[0].id.num == 1 && fused[0].score == 0.5f && fused[1].id.num == 2 && fused[1].score == 0.0f);
    free(fused);
}

/* DBSF by hand. A: scores 0.9, 0.5, 0.1 (mean 0.5, sample sd 0.4: the range is -0.7..1.7) give 2/3, 1/2, 1/3;
 * B: two equal scores give 0.5 each; C: a single point gives 0.5. Sums: 3: 1/3 + 1/2, 1: 2/3, then 2, 4 and 5
 * at 0.5, by id. */
TEST(dbsf_hand_computed) {
    eg_point_id a[] = {eg_point_id_num(1), eg_point_id_num(2), eg_point_id_num(3)};
    eg_point_id b[] = {eg_point_id_num(3), eg_point_id_num(4)}, c[] = {eg_point_id_num(5)};
    const float a_scores[] = {0.9f, 0.5f, 0.1f}, b_scores[] = {2.0f, 2.0f}, c_scores[] = {7.0f};
    eg_ranking rankings[] = {ranking_of(a, a_scores, 3), ranking_of(b, b_scores, 2), ranking_of(c, c_scores, 1)};
    eg_fused *fused;
    size_t count;
    REQUIRE(eg_fuse_dbsf(rankings, 3, &fused, &count));
    REQUIRE(count == 5);
    static const uint64_t want_ids[] = {3, 1, 2, 4, 5};
    static const double want_scores[] = {1.0 / 3 + 0.5, 2.0 / 3, 0.5, 0.5, 0.5};
    for (size_t i = 0; i < 5; i++)
        CHECK(fused[i].id.num == want_ids[i] && fabs(fused[i].score - want_scores[i]) < 1e-6);
    free(fused);
}

/* Nothing is clamped: with ten zeros and a one, the one lies 3.015 sample deviations above the mean, so it
 * normalises above 1 (and the zeros stay above 0). */
TEST(dbsf_does_not_clamp_outliers) {
    eg_point_id ids[11];
    float scores[11];
    for (size_t i = 0; i < 11; i++) ids[i] = eg_point_id_num(i), scores[i] = i == 0 ? 1.0f : 0.0f;
    eg_ranking ranking = ranking_of(ids, scores, 11);
    eg_fused *fused;
    size_t count;
    REQUIRE(eg_fuse_dbsf(&ranking, 1, &fused, &count));
    REQUIRE(count == 11);
    double mean = 1.0 / 11, deviation = sqrt(1.0 / 11), low = mean - 3 * deviation;
    CHECK(fused[0].id.num == 0 && fused[0].score > 1.0f);
    CHECK(fabs(fused[0].score - (1.0 - low) / (6 * deviation)) < 1e-5);
    CHECK(fabs(fused[1].score - (0.0 - low) / (6 * deviation)) < 1e-5 && fused[1].score > 0.0f);
    free(fused);
}

int main(void) {
    RUN(environment_forces_scalar);
    RUN(dense_kernels_match_reference);
    RUN(identical_vectors_are_at_distance_zero);
    RUN(block_scorer_matches_reference);
    RUN(normalize_gives_unit_vectors_in_the_same_direction);
    RUN(normalize_extremes);
    RUN(normalize_reports_the_zero_vector_and_keeps_it);
    RUN(sparse_dot_small_cases);
    RUN(sparse_dot_matches_reference);
    RUN(sparse_sort_keeps_values_with_their_indices);
    RUN(sparse_sort_rejects_duplicates);
    RUN(topk_matches_a_full_sort);
    RUN(topk_ranks_nan_last_and_handles_k_zero);
    RUN(rrf_matches_qdrant_to_the_bit);
    RUN(rrf_weights_and_ties);
    RUN(dbsf_hand_computed);
    RUN(dbsf_does_not_clamp_outliers);
    return test_summary();
}
