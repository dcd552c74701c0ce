/* quant.c — int8 scalar quantization (see quant.h).
 *
 * The row kernel is one loop, reduce(), specialised like distance.c's by the operation folded into its
 * accumulators: a*c for the dot product, (b - s*c)^2 and |b - s*c| for the distances, c being a code converted to
 * float. It keeps several independent accumulators for the same reason distance.c does (float additions may not be
 * reordered, so one running sum would wait on the adder's latency at every step). The implementation is the one
 * distance.c has chosen, asked for on every call so that eg_simd_select takes effect at once. */
#include "vector/quant.h"

#include "vector/distance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_AVX2_KERNELS 1
#include <immintrin.h>
#endif

#define CODE_MAX 255
/* The smallest step, relative to max(1, |value|): 255 of them stay below half a float ulp of values >= 1, so a
 * dimension without spread decodes to lo, and the 1 keeps the step (and a query's products with it) far from the
 * subnormal floats that x86 handles in slow microcode. */
#define STEP_FLOOR 0x1p-34f

/* ---- Codec ---------------------------------------------------------------------------------------------- */

/* lo followed by step, in one block: one allocation to fail or free, and encode reads them side by side. */
static float *new_arrays(size_t dim) { return calloc(dim, 2 * sizeof(float)); }

static float step_for(float lo, float hi) {
    /* in double: hi - lo overflows float for ranges wider than FLT_MAX */
    float step = (float)(((double)hi - lo) / CODE_MAX);
    float floor = fmaxf(1.0f, fmaxf(fabsf(lo), fabsf(hi))) * STEP_FLOOR;
    return fmaxf(step, floor);
}

eg_status eg_sq8_train(eg_sq8 *q, size_t dim, const float *rows, size_t n, size_t stride, eg_error *err) {
    if (!q || !rows) return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 train: codec and rows are required");
    if (dim == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 train: dimension must be >= 1");
    if (n == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 train: at least one training vector is required");
    if (stride < dim)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 train: stride %zu is less than the dimension %zu", stride,
                            dim);
    float *lo = new_arrays(dim);
    if (!lo) return eg_error_set(err, EG_INTERNAL, "sq8 train: out of memory");
    float *hi = lo + dim; /* becomes step once the maxima are known */
    memcpy(lo, rows, dim * sizeof(float));
    memcpy(hi, rows, dim * sizeof(float));
    for (size_t r = 0; r < n; r++) {
        const float *row = rows + r * stride;
        for (size_t i = 0; i < dim; i++) {
            if (!isfinite(row[i])) {
                free(lo);
                return eg_error_set(err, EG_INVALID_ARGUMENT,
                                    "sq8 train: training vector %zu has a non-finite value in dimension %zu", r, i);
            }
            lo[i] = row[i] < lo[i] ? row[i] : lo[i];
            hi[i] = row[i] > hi[i] ? row[i] : hi[i];
        }
    }
    for (size_t i = 0; i < dim; i++) hi[i] = step_for(lo[i], hi[i]);
    *q = (eg_sq8){.dim = dim, .lo = lo, .step = hi};
    return EG_OK;
}

eg_status eg_sq8_restore(eg_sq8 *q, size_t dim, const float *lo, const float *step, eg_error *err) {
    if (!q || !lo || !step)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 restore: codec, lo and step are required");
    if (dim == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 restore: dimension must be >= 1");
    for (size_t i = 0; i < dim; i++) {
        if (!isfinite(lo[i]))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 restore: lo of dimension %zu is not finite", i);
        if (!(step[i] > 0) || !isfinite(step[i]))
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "sq8 restore: step of dimension %zu is %g, must be finite and > 0", i, step[i]);
    }
    float *arrays = new_arrays(dim);
    if (!arrays) return eg_error_set(err, EG_INTERNAL, "sq8 restore: out of memory");
    memcpy(arrays, lo, dim * sizeof(float));
    memcpy(arrays + dim, step, dim * sizeof(float));
    *q = (eg_sq8){.dim = dim, .lo = arrays, .step = arrays + dim};
    return EG_OK;
}

void eg_sq8_clear(eg_sq8 *q) {
    free(q->lo);
    *q = (eg_sq8){0};
}

void eg_sq8_encode(const eg_sq8 *q, const float *v, uint8_t *codes) {
    for (size_t i = 0; i < q->dim; i++) {
        /* fmaxf before fminf: a NaN quotient becomes 0; the clamp keeps the conversion below in range */
        float x = fminf(fmaxf((v[i] - q->lo[i]) / q->step[i], 0.0f), (float)CODE_MAX);
        codes[i] = (uint8_t)(x + 0.5f);
    }
}

void eg_sq8_decode(const eg_sq8 *q, const uint8_t *codes, float *out) {
    for (size_t i = 0; i < q->dim; i++) out[i] = q->lo[i] + q->step[i] * (float)codes[i];
}

/* ---- Prepared queries ----------------------------------------------------------------------------------- */

static bool folds_into_dot(eg_distance d) { return d == EG_DISTANCE_COSINE || d == EG_DISTANCE_DOT; }

eg_status eg_sq8_prepare(const eg_sq8 *q, eg_distance d, const float *query, eg_sq8_query *out, eg_error *err) {
    if (!q || !query || !out)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 prepare: codec, query and output are required");
    if (q->dim == 0 || !q->lo) return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 prepare: the codec is not trained");
    if (!folds_into_dot(d) && d != EG_DISTANCE_EUCLID && d != EG_DISTANCE_MANHATTAN)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 prepare: unknown distance %d", (int)d);
    size_t dim = q->dim;
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(query[i]))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "sq8 prepare: query has a non-finite value in dimension %zu",
                                i);
    float *a = folds_into_dot(d) ? malloc(dim * sizeof(float)) : new_arrays(dim);
    if (!a) return eg_error_set(err, EG_INTERNAL, "sq8 prepare: out of memory");
    double bias = 0; /* in double: computed once per search, so its accuracy is free */
    if (folds_into_dot(d)) {
        for (size_t i = 0; i < dim; i++) {
            a[i] = query[i] * q->step[i];
            bias += (double)query[i] * q->lo[i];
        }
    } else {
        for (size_t i = 0; i < dim; i++) a[i] = query[i] - q->lo[i];
        memcpy(a + dim, q->step, dim * sizeof(float));
    }
    *out = (eg_sq8_query){.distance = d, .dim = dim, .a = a, .bias = (float)bias};
    return EG_OK;
}

void eg_sq8_query_clear(eg_sq8_query *pq) {
    free(pq->a);
    *pq = (eg_sq8_query){0};
}

/* ---- Row kernels ---------------------------------------------------------------------------------------- */

typedef enum reduce_op { OP_DOT, OP_L2_SQUARED, OP_L1 } reduce_op;

/* Portable C. x is a_i (dot) or b_i, s is step_i (unused by the dot product), c the code. */

#define SCALAR_LANES 8

static inline float scalar_term(reduce_op op, float x, float s, float c) {
    switch (op) {
    case OP_DOT: return x * c;
    case OP_L2_SQUARED: return (x - s * c) * (x - s * c);
    case OP_L1: return fabsf(x - s * c);
    }
    return 0;
}

/* s may be NULL for OP_DOT: the specialised loop never reads it. */
static inline float scalar_reduce(reduce_op op, const float *x, const float *s, const uint8_t *codes, size_t dim) {
    float lane[SCALAR_LANES] = {0};
    size_t i = 0;
    for (; i + SCALAR_LANES <= dim; i += SCALAR_LANES)
        for (size_t l = 0; l < SCALAR_LANES; l++)
            lane[l] += scalar_term(op, x[i + l], op == OP_DOT ? 0 : s[i + l], (float)codes[i + l]);
    float tail = 0;
    for (; i < dim; i++) tail += scalar_term(op, x[i], op == OP_DOT ? 0 : s[i], (float)codes[i]);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
}

static float scalar_score(const eg_sq8_query *pq, const uint8_t *codes) {
    const float *a = pq->a;
    size_t dim = pq->dim;
    if (pq->distance == EG_DISTANCE_EUCLID) return sqrtf(scalar_reduce(OP_L2_SQUARED, a, a + dim, codes, dim));
    if (pq->distance == EG_DISTANCE_MANHATTAN) return scalar_reduce(OP_L1, a, a + dim, codes, dim);
    return pq->bias + scalar_reduce(OP_DOT, a, NULL, codes, dim);
}

/* AVX2 + FMA: eight codes at a time, widened byte -> int32 -> float in two instructions (the first one loading
 * straight from memory), so the bytes cost a quarter of the floats' load bandwidth. */

#ifdef HAVE_AVX2_KERNELS
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_LANES 8
#define AVX2_STEP (4 * AVX2_LANES) /* four accumulators in flight, as in distance.c */

/* tail_mask_source + 8 - r selects the first r lanes, as in distance.c. */
static const int32_t tail_mask_source[2 * AVX2_LANES] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

static inline AVX2 __m256 avx2_codes(const uint8_t *codes) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)codes)));
}

static inline AVX2 __m256 avx2_accumulate(reduce_op op, __m256 acc, __m256 x, __m256 s, __m256 c) {
    switch (op) {
    case OP_DOT: return _mm256_fmadd_ps(x, c, acc);
    case OP_L2_SQUARED: {
        __m256 diff = _mm256_fnmadd_ps(s, c, x);
        return _mm256_fmadd_ps(diff, diff, acc);
    }
    case OP_L1: return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_fnmadd_ps(s, c, x)));
    }
    return acc;
}

static inline AVX2 float avx2_horizontal_sum(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

/* Adds the terms of the eight values from i on to acc. */
static inline AVX2 __m256 avx2_group(reduce_op op, __m256 acc, const float *x, const float *s, const uint8_t *codes,
                                     size_t i) {
    __m256 step = op == OP_DOT ? _mm256_setzero_ps() : _mm256_loadu_ps(s + i);
    return avx2_accumulate(op, acc, _mm256_loadu_ps(x + i), step, avx2_codes(codes + i));
}

static inline AVX2 float avx2_reduce(reduce_op op, const float *x, const float *s, const uint8_t *codes, size_t dim) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t i = 0;
    for (; i + AVX2_STEP <= dim; i += AVX2_STEP) {
        acc0 = avx2_group(op, acc0, x, s, codes, i);
        acc1 = avx2_group(op, acc1, x, s, codes, i + 8);
        acc2 = avx2_group(op, acc2, x, s, codes, i + 16);
        acc3 = avx2_group(op, acc3, x, s, codes, i + 24);
    }
    for (; i + AVX2_LANES <= dim; i += AVX2_LANES) acc0 = avx2_group(op, acc0, x, s, codes, i);
    if (i < dim) {
        /* masked float lanes read as 0 and the copied codes are padded with 0, so the unused lanes add 0 */
        size_t r = dim - i;
        __m256i mask = _mm256_loadu_si256((const __m256i *)(tail_mask_source + AVX2_LANES - r));
        uint8_t tail[AVX2_LANES] = {0};
        memcpy(tail, codes + i, r);
        __m256 step = op == OP_DOT ? _mm256_setzero_ps() : _mm256_maskload_ps(s + i, mask);
        acc1 = avx2_accumulate(op, acc1, _mm256_maskload_ps(x + i, mask), step, avx2_codes(tail));
    }
    return avx2_horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

static AVX2 float avx2_score(const eg_sq8_query *pq, const uint8_t *codes) {
    const float *a = pq->a;
    size_t dim = pq->dim;
    if (pq->distance == EG_DISTANCE_EUCLID) return sqrtf(avx2_reduce(OP_L2_SQUARED, a, a + dim, codes, dim));
    if (pq->distance == EG_DISTANCE_MANHATTAN) return avx2_reduce(OP_L1, a, a + dim, codes, dim);
    return pq->bias + avx2_reduce(OP_DOT, a, NULL, codes, dim);
}
#endif

float eg_sq8_score(const eg_sq8_query *pq, const uint8_t *codes) {
#ifdef HAVE_AVX2_KERNELS
    if (eg_simd_active() != EG_SIMD_SCALAR) return avx2_score(pq, codes); /* AVX-512 CPUs have AVX2 */
#endif
    return scalar_score(pq, codes);
}
