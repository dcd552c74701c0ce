/* test_quant.c — the int8 codec (vector/quant.h): encode/decode round trips within half a step, clamping outside
 * the trained range, dimensions without spread, restoring a saved codec; the prepared-query scorer against
 * eg_vec_score on the decoded vector for every distance at dimensions that meet every kernel path (1, 7, 8, 31,
 * 128, 1024), the scalar and AVX2 kernels against each other at every tail length and code alignment; ranking
 * quality (top-10 overlap with exact search on random data); and refused arguments, which leave the codec and the
 * prepared query as they were. */
#include "test.h"

#include "vector/distance.h"
#include "vector/quant.h"

#include <float.h>
#include <math.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state = 0x853c49e6748fea9bULL; /* test_random's state (test.h): a fixed seed */

static void fill_random(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = test_random_unit(&rng_state);
}

static const eg_simd implementations[] = {EG_SIMD_SCALAR, EG_SIMD_AVX2, EG_SIMD_AVX512};
static const eg_distance distances[] = {EG_DISTANCE_COSINE, EG_DISTANCE_DOT, EG_DISTANCE_EUCLID,
                                        EG_DISTANCE_MANHATTAN};

/* Selects s; false (with a note) when this CPU cannot run it, so the caller skips it. */
static bool use(eg_simd s) {
    if (eg_simd_select(s)) return true;
    fprintf(stderr, "  note: %s not supported here, not tested\n", eg_simd_name(s));
    return false;
}

static bool codec_is_empty(const eg_sq8 *q) { return q->dim == 0 && !q->lo && !q->step; }

/* Each dimension with its own offset and spread (0.01 .. 20), as real embeddings have. */
static void fill_skewed(float *rows, size_t n, size_t dim) {
    for (size_t i = 0; i < dim; i++) {
        float offset = 10 * test_random_unit(&rng_state), spread = 0.01f + 10 * (test_random_unit(&rng_state) + 1);
        for (size_t r = 0; r < n; r++) rows[r * dim + i] = offset + spread * test_random_unit(&rng_state);
    }
}

TEST(round_trip_is_within_half_a_step) {
    enum { N = 500, DIM = 37 };
    static float rows[N * DIM];
    fill_skewed(rows, N, DIM);
    eg_error err;
    eg_sq8 q = {0};
    CHECK_OK(eg_sq8_train(&q, DIM, rows, N, DIM, &err), &err);
    REQUIRE(q.dim == DIM);
    uint8_t codes[DIM];
    float decoded[DIM];
    uint8_t seen_min[DIM] = {0}, seen_max[DIM] = {0}; /* did some row code as 0 / 255 in this dimension? */
    for (size_t r = 0; r < N; r++) {
        const float *v = rows + r * DIM;
        eg_sq8_encode(&q, v, codes);
        eg_sq8_decode(&q, codes, decoded);
        for (size_t i = 0; i < DIM; i++) {
            CHECK(q.step[i] > 0);
            /* half a step, plus the rounding of (v - lo) / step and of lo + step * code */
            double limit = 0.5 * q.step[i] * (1 + 1e-4) + 2 * FLT_EPSILON * (fabs(v[i]) + fabs(q.lo[i]));
            CHECK(fabs((double)v[i] - decoded[i]) <= limit);
            seen_min[i] |= codes[i] == 0;
            seen_max[i] |= codes[i] == 255;
        }
    }
    /* the trained range is exactly the data's: its minimum codes as 0 and its maximum as 255 */
    for (size_t i = 0; i < DIM; i++) CHECK(seen_min[i] && seen_max[i]);
    eg_sq8_clear(&q);
    CHECK(codec_is_empty(&q));
    eg_sq8_clear(&q);
}

TEST(values_outside_the_range_clamp) {
    enum { N = 3, DIM = 4 };
    const float rows[N * DIM] = {-1, 0, 2, 5, 1, 0.5f, 4, 6, 0, 1, 3, 7};
    eg_error err;
    eg_sq8 q = {0};
    CHECK_OK(eg_sq8_train(&q, DIM, rows, N, DIM, &err), &err);
    REQUIRE(q.dim == DIM);
    uint8_t codes[DIM];
    float decoded[DIM];

    eg_sq8_encode(&q, (const float[]){-5, -1e30f, -INFINITY, 4.999f}, codes);
    for (size_t i = 0; i < DIM; i++) CHECK(codes[i] == 0);
    eg_sq8_decode(&q, codes, decoded);
    const float lows[DIM] = {-1, 0, 2, 5};
    for (size_t i = 0; i < DIM; i++) CHECK(decoded[i] == lows[i]);

    eg_sq8_encode(&q, (const float[]){5, 1e30f, INFINITY, 7.001f}, codes);
    for (size_t i = 0; i < DIM; i++) CHECK(codes[i] == 255);
    eg_sq8_decode(&q, codes, decoded);
    const float highs[DIM] = {1, 1, 4, 7};
    for (size_t i = 0; i < DIM; i++) CHECK(fabsf(decoded[i] - highs[i]) <= 4 * FLT_EPSILON * fabsf(highs[i]));

    eg_sq8_encode(&q, (const float[]){NAN, 0.25f, 2.5f, 5.5f}, codes);
    CHECK(codes[0] == 0);                                      /* documented: a NaN codes as 0 */
    CHECK(codes[1] == 64 && codes[2] == 64 && codes[3] == 64); /* a quarter of the range: round(63.75) */
    eg_sq8_clear(&q);
}

TEST(dimensions_without_spread) {
    enum { N = 50, DIM = 5 };
    static const float constants[] = {3.25f, 0, -1e6f, 1e-20f}; /* dimensions 0..3 constant; 4 varies */
    float rows[N * DIM];
    for (size_t r = 0; r < N; r++) {
        for (size_t i = 0; i < 4; i++) rows[r * DIM + i] = constants[i];
        rows[r * DIM + 4] = test_random_unit(&rng_state);
    }
    eg_error err;
    eg_sq8 q = {0};
    CHECK_OK(eg_sq8_train(&q, DIM, rows, N, DIM, &err), &err);
    REQUIRE(q.dim == DIM);
    uint8_t codes[DIM];
    float decoded[DIM];
    for (size_t i = 0; i < 4; i++) CHECK(q.lo[i] == constants[i] && q.step[i] > 0 && isfinite(q.step[i]));

    /* the trained value codes as 0 and comes back exactly */
    eg_sq8_encode(&q, rows, codes);
    eg_sq8_decode(&q, codes, decoded);
    for (size_t i = 0; i < 4; i++) CHECK(codes[i] == 0 && decoded[i] == constants[i]);
    CHECK(fabsf(decoded[4] - rows[4]) <= 0.5f * q.step[4] * 1.001f);

    /* anything else clamps, and every code still decodes to the constant: exactly when |lo| >= 1, within the
     * documented 1.5e-8 otherwise */
    eg_sq8_encode(&q, (const float[]){1000, 1000, 1000, 1000, 0}, codes);
    for (size_t i = 0; i < 4; i++) CHECK(codes[i] == 255);
    eg_sq8_decode(&q, codes, decoded);
    CHECK(decoded[0] == 3.25f);
    CHECK(decoded[2] == -1e6f);
    CHECK(decoded[1] >= 0 && decoded[1] <= 1.5e-8f);
    CHECK(decoded[3] >= 1e-20f && decoded[3] <= 1.5e-8f);
    eg_sq8_clear(&q);

    /* a single training vector makes every dimension constant */
    CHECK_OK(eg_sq8_train(&q, DIM, rows, 1, DIM, &err), &err);
    eg_sq8_encode(&q, rows, codes);
    eg_sq8_decode(&q, codes, decoded);
    for (size_t i = 0; i < DIM; i++) CHECK(decoded[i] == rows[i]);
    eg_sq8_clear(&q);
}

TEST(restore_reproduces_the_trained_codec) {
    enum { N = 100, DIM = 19, STRIDE = 24 }; /* rows with padding between them */
    float rows[N * STRIDE];
    fill_random(rows, N * STRIDE);
    for (size_t r = 0; r < N; r++)
        for (size_t i = DIM; i < STRIDE; i++) rows[r * STRIDE + i] = NAN; /* padding must not be read */
    eg_error err;
    eg_sq8 trained = {0}, restored = {0};
    CHECK_OK(eg_sq8_train(&trained, DIM, rows, N, STRIDE, &err), &err);
    REQUIRE(trained.dim == DIM);
    float lo[DIM], step[DIM];
    memcpy(lo, trained.lo, sizeof lo);
    memcpy(step, trained.step, sizeof step);
    CHECK_OK(eg_sq8_restore(&restored, DIM, lo, step, &err), &err);
    REQUIRE(restored.dim == DIM);
    for (size_t i = 0; i < DIM; i++) lo[i] = step[i] = -1; /* restored copied them */
    uint8_t a[DIM], b[DIM];
    for (size_t r = 0; r < N; r++) {
        eg_sq8_encode(&trained, rows + r * STRIDE, a);
        eg_sq8_encode(&restored, rows + r * STRIDE, b);
        CHECK(memcmp(a, b, DIM) == 0);
    }
    eg_sq8_clear(&trained);
    eg_sq8_clear(&restored);
}

/* sum |x_i * y_i|: the scale of a dot product's rounding error. */
static double dot_magnitude(const float *x, const float *y, size_t dim) {
    double sum = 0;
    for (size_t i = 0; i < dim; i++) sum += fabs((double)x[i] * y[i]);
    return sum;
}

/* The scale a score's rounding error is measured against: the sum of |terms| for a dot product (which may
 * cancel to near 0), the score itself for a distance. */
static double score_scale(eg_distance d, const float *query, const float *row, size_t dim, float reference) {
    if (d == EG_DISTANCE_COSINE || d == EG_DISTANCE_DOT) return dot_magnitude(query, row, dim);
    return fabs(reference);
}

#define TRAIN_ROWS 64
#define SCORED_ROWS 16
#define DIM_MAX 1024

TEST(score_equals_scoring_the_decoded_vector) {
    static const size_t dims[] = {1, 7, 8, 31, 128, 1024};
    static float rows[TRAIN_ROWS * DIM_MAX], query[DIM_MAX], decoded[DIM_MAX];
    static uint8_t codes[SCORED_ROWS * DIM_MAX];
    eg_error err;
    for (size_t si = 0; si < COUNT_OF(implementations); si++) {
        if (!use(implementations[si])) continue;
        for (size_t di = 0; di < COUNT_OF(dims); di++) {
            size_t dim = dims[di];
            for (size_t k = 0; k < COUNT_OF(distances); k++) {
                eg_distance d = distances[k];
                fill_random(rows, TRAIN_ROWS * dim);
                fill_random(query, dim);
                if (d == EG_DISTANCE_COSINE) {
                    for (size_t r = 0; r < TRAIN_ROWS; r++) eg_vec_normalize(rows + r * dim, dim);
                    eg_vec_normalize(query, dim);
                }
                eg_sq8 q = {0};
                CHECK_OK(eg_sq8_train(&q, dim, rows, TRAIN_ROWS, dim, &err), &err);
                eg_sq8_query pq = {0};
                CHECK_OK(eg_sq8_prepare(&q, d, query, &pq, &err), &err);
                if (!pq.a) {
                    eg_sq8_clear(&q);
                    continue;
                }
                for (size_t r = 0; r < SCORED_ROWS; r++) {
                    float *v = rows + r * dim;
                    if (r % 4 == 3) v[0] = 3; /* outside the range: scored as the clamped value */
                    eg_sq8_encode(&q, v, codes + r * dim);
                    eg_sq8_decode(&q, codes + r * dim, decoded);
                    float want = eg_vec_score(d, query, decoded, dim);
                    float got = eg_sq8_score(&pq, codes + r * dim);
                    double scale = score_scale(d, query, decoded, dim, want);
                    if (!(fabs((double)got - want) <= 1e-4 * scale + 1e-30)) {
                        fprintf(stderr, "  %s %s dim %zu row %zu: %.9g, decoded scores %.9g\n",
                                eg_simd_name(implementations[si]), eg_distance_name(d), dim, r, got, want);
                        test_failures_in_current++;
                    }
                }
                eg_sq8_query_clear(&pq);
                eg_sq8_clear(&q);
            }
        }
    }
    eg_simd_select(EG_SIMD_AVX2);
}

/* Every dimension from 1 to 80 (every tail length, after zero to two full 32-code blocks) and every start offset
 * of the code row within 8 bytes: the two kernels give the same score within float rounding. */
TEST(scalar_and_avx2_agree) {
    enum { DIM_LIMIT = 80, MISALIGN_MAX = 7 };
    if (!eg_simd_select(EG_SIMD_AVX2)) {
        fprintf(stderr, "  note: avx2+fma not supported here, not tested\n");
        return;
    }
    static float rows[TRAIN_ROWS * DIM_LIMIT], query[DIM_LIMIT];
    uint8_t buffer[DIM_LIMIT + MISALIGN_MAX];
    eg_error err;
    for (size_t dim = 1; dim <= DIM_LIMIT; dim++) {
        fill_random(rows, TRAIN_ROWS * dim);
        eg_sq8 q = {0};
        CHECK_OK(eg_sq8_train(&q, dim, rows, TRAIN_ROWS, dim, &err), &err);
        for (size_t k = 0; k < COUNT_OF(distances); k++) {
            fill_random(query, dim);
            eg_sq8_query pq = {0};
            CHECK_OK(eg_sq8_prepare(&q, distances[k], query, &pq, &err), &err);
            if (!pq.a) continue;
            for (size_t offset = 0; offset <= MISALIGN_MAX; offset++) {
                uint8_t *codes = buffer + offset;
                eg_sq8_encode(&q, rows + (offset % TRAIN_ROWS) * dim, codes);
                eg_simd_select(EG_SIMD_SCALAR);
                float scalar = eg_sq8_score(&pq, codes);
                eg_simd_select(EG_SIMD_AVX2);
                float avx2 = eg_sq8_score(&pq, codes);
                /* the size of what either kernel rounds: the terms and the bias of a dot product, the values
                 * subtracted for a distance (b_i - step_i * c_i cancels when the query is near the row) */
                float decoded[DIM_LIMIT];
                eg_sq8_decode(&q, codes, decoded);
                double scale = 0;
                if (distances[k] == EG_DISTANCE_COSINE || distances[k] == EG_DISTANCE_DOT)
                    scale = fabs(pq.bias) + dot_magnitude(query, decoded, dim);
                else
                    for (size_t i = 0; i < dim; i++) scale += fabs(query[i]) + fabs(decoded[i]);
                if (!(fabs((double)scalar - avx2) <= 1e-5 * scale + 1e-30)) {
                    fprintf(stderr, "  %s dim %zu offset %zu: scalar %.9g, avx2 %.9g\n", eg_distance_name(distances[k]),
                            dim, offset, scalar, avx2);
                    test_failures_in_current++;
                }
            }
            eg_sq8_query_clear(&pq);
        }
        eg_sq8_clear(&q);
    }
}

/* The indexes of the 10 best of n scores, best first. */
#define TOP 10
static void top_ten(const float *scores, size_t n, bool higher_is_better, size_t *best) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        float s = higher_is_better ? scores[i] : -scores[i];
        if (count == TOP && s <= (higher_is_better ? scores[best[TOP - 1]] : -scores[best[TOP - 1]])) continue;
        size_t j = count < TOP ? count++ : TOP - 1;
        for (; j > 0 && s > (higher_is_better ? scores[best[j - 1]] : -scores[best[j - 1]]); j--) best[j] = best[j - 1];
        best[j] = i;
    }
}

TEST(quantized_ranking_keeps_the_exact_top_ten) {
    enum { N = 2000, DIM = 64, QUERIES = 50 };
    static float rows[N * DIM], queries[QUERIES * DIM], exact[N], quantized[N];
    static uint8_t codes[N * DIM];
    eg_error err;
    for (size_t k = 0; k < COUNT_OF(distances); k++) {
        eg_distance d = distances[k];
        fill_random(rows, N * DIM);
        fill_random(queries, QUERIES * DIM);
        if (d == EG_DISTANCE_COSINE) {
            for (size_t r = 0; r < N; r++) eg_vec_normalize(rows + r * DIM, DIM);
            for (size_t r = 0; r < QUERIES; r++) eg_vec_normalize(queries + r * DIM, DIM);
        }
        eg_sq8 q = {0};
        CHECK_OK(eg_sq8_train(&q, DIM, rows, N, DIM, &err), &err);
        REQUIRE(q.dim == DIM);
        for (size_t r = 0; r < N; r++) eg_sq8_encode(&q, rows + r * DIM, codes + r * DIM);
        size_t overlap = 0;
        for (size_t t = 0; t < QUERIES; t++) {
            const float *query = queries + t * DIM;
            eg_sq8_query pq = {0};
            CHECK_OK(eg_sq8_prepare(&q, d, query, &pq, &err), &err);
            REQUIRE(pq.a);
            for (size_t r = 0; r < N; r++) {
                exact[r] = eg_vec_score(d, query, rows + r * DIM, DIM);
                quantized[r] = eg_sq8_score(&pq, codes + r * DIM);
            }
            eg_sq8_query_clear(&pq);
            size_t want[TOP], got[TOP];
            top_ten(exact, N, eg_distance_higher_is_better(d), want);
            top_ten(quantized, N, eg_distance_higher_is_better(d), got);
            for (size_t i = 0; i < TOP; i++)
                for (size_t j = 0; j < TOP; j++) overlap += want[i] == got[j];
        }
        double average = (double)overlap / QUERIES;
        printf("     %s: top-10 overlap %.2f / 10\n", eg_distance_name(d), average);
        CHECK(average >= 8);
        eg_sq8_clear(&q);
    }
}

static void check_message(const eg_error *err, const char *fragment) {
    if (strstr(err->message, fragment)) return;
    fprintf(stderr, "  message \"%s\" does not mention \"%s\"\n", err->message, fragment);
    test_failures_in_current++;
}

TEST(bad_inputs_are_refused_and_change_nothing) {
    enum { N = 4, DIM = 3 };
    float rows[N * DIM] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    eg_error err;
    eg_sq8 empty = {0};

    CHECK_STATUS(eg_sq8_train(&empty, 0, rows, N, DIM, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "dimension must be >= 1");
    CHECK_STATUS(eg_sq8_train(&empty, DIM, rows, 0, DIM, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "training vector");
    CHECK_STATUS(eg_sq8_train(&empty, DIM, NULL, N, DIM, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_sq8_train(&empty, DIM, rows, N, DIM - 1, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "stride");
    CHECK_STATUS(eg_sq8_train(NULL, DIM, rows, N, DIM, &err), EG_INVALID_ARGUMENT, &err);
    rows[3 * DIM + 2] = NAN;
    CHECK_STATUS(eg_sq8_train(&empty, DIM, rows, N, DIM, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "training vector 3 has a non-finite value in dimension 2");
    rows[3 * DIM + 2] = -INFINITY;
    CHECK_STATUS(eg_sq8_train(&empty, DIM, rows, N, DIM, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "non-finite");
    CHECK(codec_is_empty(&empty));

    const float lo[DIM] = {0, 1, 2};
    const float zero_step[DIM] = {1, 0, 1}, negative_step[DIM] = {1, 1, -0.5f}, nan_step[DIM] = {NAN, 1, 1},
                infinite_step[DIM] = {1, INFINITY, 1}, good_step[DIM] = {1, 1, 1};
    CHECK_STATUS(eg_sq8_restore(&empty, DIM, lo, zero_step, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "step of dimension 1 is 0, must be finite and > 0");
    CHECK_STATUS(eg_sq8_restore(&empty, DIM, lo, negative_step, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "step of dimension 2 is -0.5");
    CHECK_STATUS(eg_sq8_restore(&empty, DIM, lo, nan_step, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "step of dimension 0");
    CHECK_STATUS(eg_sq8_restore(&empty, DIM, lo, infinite_step, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "step of dimension 1");
    CHECK_STATUS(eg_sq8_restore(&empty, DIM, (const float[]){0, NAN, 0}, good_step, &err), EG_INVALID_ARGUMENT,
                 &err);
    check_message(&err, "lo of dimension 1 is not finite");
    CHECK_STATUS(eg_sq8_restore(&empty, 0, lo, good_step, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_sq8_restore(&empty, DIM, NULL, good_step, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(codec_is_empty(&empty));

    /* a codec in use is left as it was by a refused train or restore */
    eg_sq8 q = {0};
    CHECK_OK(eg_sq8_restore(&q, DIM, lo, good_step, &err), &err);
    eg_sq8 before = q;
    CHECK_STATUS(eg_sq8_train(&q, DIM, rows, N, DIM, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_sq8_restore(&q, DIM, lo, zero_step, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(q.dim == before.dim && q.lo == before.lo && q.step == before.step);
    CHECK(memcmp(q.lo, lo, sizeof lo) == 0 && memcmp(q.step, good_step, sizeof good_step) == 0);

    /* prepare refuses an empty codec, an unknown distance and a non-finite query, leaving the output alone */
    eg_sq8_query pq = {0};
    const float query[DIM] = {1, 2, 3};
    CHECK_STATUS(eg_sq8_prepare(&empty, EG_DISTANCE_DOT, query, &pq, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "not trained");
    CHECK_STATUS(eg_sq8_prepare(&q, (eg_distance)99, query, &pq, &err), EG_INVALID_ARGUMENT, &err);
    check_message(&err, "unknown distance");
    CHECK_STATUS(eg_sq8_prepare(&q, EG_DISTANCE_EUCLID, (const float[]){1, INFINITY, 3}, &pq, &err),
                 EG_INVALID_ARGUMENT, &err);
    check_message(&err, "non-finite value in dimension 1");
    CHECK(pq.a == NULL && pq.dim == 0);

    eg_sq8_clear(&q);
    eg_sq8_query_clear(&pq);
    eg_sq8_query_clear(&pq);
}

int main(void) {
    RUN(round_trip_is_within_half_a_step);
    RUN(values_outside_the_range_clamp);
    RUN(dimensions_without_spread);
    RUN(restore_reproduces_the_trained_codec);
    RUN(score_equals_scoring_the_decoded_vector);
    RUN(scalar_and_avx2_agree);
    RUN(quantized_ranking_keeps_the_exact_top_ten);
    RUN(bad_inputs_are_refused_and_change_nothing);
    return test_summary();
}
