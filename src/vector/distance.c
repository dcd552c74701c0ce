/* distance.c — dense and sparse vector arithmetic (see distance.h).
 *
 * Each dense kernel is one loop, reduce(), specialised by the operation folded into its accumulators (a*b,
 * (a-b)^2, |a-b|). Both implementations keep several independent accumulators: without -ffast-math the compiler
 * may not reorder float additions, so a single running sum would serialise every step on the adder's latency.
 * The implementation in use is a pointer to a table of functions, set on first use (or by eg_simd_select) and
 * read atomically, so threads racing through the first use all store the same answer. */
#include "vector/distance.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_AVX2_KERNELS 1
#include <immintrin.h>
#endif

typedef enum reduce_op { OP_DOT, OP_L2_SQUARED, OP_L1 } reduce_op;

typedef struct kernel_table {
    eg_simd simd;
    float (*dot)(const float *a, const float *b, size_t dim);
    float (*l2_squared)(const float *a, const float *b, size_t dim);
    float (*manhattan)(const float *a, const float *b, size_t dim);
    void (*score_block)(eg_distance d, const float *query, const float *rows, size_t n, size_t dim, float *scores);
} kernel_table;

/* ---- Portable C ----------------------------------------------------------------------------------------- */

#define SCALAR_LANES 8 /* enough independent sums to hide the adder's latency; a multiple of common SIMD widths */

static inline float scalar_term(reduce_op op, float x, float y) {
    switch (op) {
    case OP_DOT: return x * y;
    case OP_L2_SQUARED: return (x - y) * (x - y);
    case OP_L1: return fabsf(x - y);
    }
    return 0;
}

static inline float scalar_reduce(reduce_op op, const float *a, const float *b, size_t dim) {
    float lane[SCALAR_LANES] = {0};
    size_t i = 0;
    for (; i + SCALAR_LANES <= dim; i += SCALAR_LANES)
        for (size_t l = 0; l < SCALAR_LANES; l++) lane[l] += scalar_term(op, a[i + l], b[i + l]);
    float tail = 0;
    for (; i < dim; i++) tail += scalar_term(op, a[i], b[i]);
    /* pairwise, so each partial sum meets others of its own size */
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
}

static float scalar_dot(const float *a, const float *b, size_t dim) { return scalar_reduce(OP_DOT, a, b, dim); }
static float scalar_l2_squared(const float *a, const float *b, size_t dim) {
    return scalar_reduce(OP_L2_SQUARED, a, b, dim);
}
static float scalar_manhattan(const float *a, const float *b, size_t dim) { return scalar_reduce(OP_L1, a, b, dim); }

static void scalar_score_block(eg_distance d, const float *query, const float *rows, size_t n, size_t dim,
                               float *scores) {
    if (d == EG_DISTANCE_EUCLID)
        for (size_t i = 0; i < n; i++) scores[i] = sqrtf(scalar_reduce(OP_L2_SQUARED, query, rows + i * dim, dim));
    else if (d == EG_DISTANCE_MANHATTAN)
        for (size_t i = 0; i < n; i++) scores[i] = scalar_reduce(OP_L1, query, rows + i * dim, dim);
    else
        for (size_t i = 0; i < n; i++) scores[i] = scalar_reduce(OP_DOT, query, rows + i * dim, dim);
}

static const kernel_table scalar_kernels = {EG_SIMD_SCALAR, scalar_dot, scalar_l2_squared, scalar_manhattan,
                                            scalar_score_block};

/* ---- AVX2 + FMA ----------------------------------------------------------------------------------------- */

#ifdef HAVE_AVX2_KERNELS
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_LANES 8
#define AVX2_STEP (4 * AVX2_LANES) /* four registers in flight: FMA latency 4 at two loads per FMA */

/* tail_mask_source + 8 - r selects the first r lanes: the masked load reads a tail shorter than a register
 * without touching memory past the vector's end, and the unselected lanes read as 0. */
static const int32_t tail_mask_source[2 * AVX2_LANES] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

static inline AVX2 __m256 avx2_accumulate(reduce_op op, __m256 acc, __m256 x, __m256 y) {
    switch (op) {
    case OP_DOT: return _mm256_fmadd_ps(x, y, acc);
    case OP_L2_SQUARED: {
        __m256 diff = _mm256_sub_ps(x, y);
        return _mm256_fmadd_ps(diff, diff, acc);
    }
    case OP_L1: return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(x, y)));
    }
    return acc;
}

static inline AVX2 float avx2_horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline AVX2 float avx2_reduce(reduce_op op, const float *a, const float *b, size_t dim) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t i = 0;
    for (; i + AVX2_STEP <= dim; i += AVX2_STEP) {
        acc0 = avx2_accumulate(op, acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        acc1 = avx2_accumulate(op, acc1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        acc2 = avx2_accumulate(op, acc2, _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        acc3 = avx2_accumulate(op, acc3, _mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    }
    for (; i + AVX2_LANES <= dim; i += AVX2_LANES)
        acc0 = avx2_accumulate(op, acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    if (i < dim) {
        __m256i mask = _mm256_loadu_si256((const __m256i *)(tail_mask_source + AVX2_LANES - (dim - i)));
        acc1 = avx2_accumulate(op, acc1, _mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask));
    }
    return avx2_horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

static AVX2 float avx2_dot(const float *a, const float *b, size_t dim) { return avx2_reduce(OP_DOT, a, b, dim); }
static AVX2 float avx2_l2_squared(const float *a, const float *b, size_t dim) {
    return avx2_reduce(OP_L2_SQUARED, a, b, dim);
}
static AVX2 float avx2_manhattan(const float *a, const float *b, size_t dim) { return avx2_reduce(OP_L1, a, b, dim); }

/* Row after row, without software prefetching: the rows are one sequential stream, which the hardware
 * prefetcher already follows. Measured on 100,000 x 1024 (AMD EPYC): prefetching 512 B to 4 KiB ahead made the
 * scan 5-15% slower, and interleaving two rows (to share the query's loads) 40% slower. */
static AVX2 void avx2_score_block(eg_distance d, const float *query, const float *rows, size_t n, size_t dim,
                                  float *scores) {
    if (d == EG_DISTANCE_EUCLID)
        for (size_t i = 0; i < n; i++) scores[i] = sqrtf(avx2_reduce(OP_L2_SQUARED, query, rows + i * dim, dim));
    else if (d == EG_DISTANCE_MANHATTAN)
        for (size_t i = 0; i < n; i++) scores[i] = avx2_reduce(OP_L1, query, rows + i * dim, dim);
    else
        for (size_t i = 0; i < n; i++) scores[i] = avx2_reduce(OP_DOT, query, rows + i * dim, dim);
}

static const kernel_table avx2_kernels = {EG_SIMD_AVX2, avx2_dot, avx2_l2_squared, avx2_manhattan, avx2_score_block};
#endif

/* ---- AVX-512 -------------------------------------------------------------------------------------------- */

#ifdef HAVE_AVX2_KERNELS
#define AVX512 __attribute__((target("avx512f")))
#define AVX512_LANES 16
#define AVX512_STEP (4 * AVX512_LANES)

static inline AVX512 __m512 avx512_accumulate(reduce_op op, __m512 acc, __m512 x, __m512 y) {
    switch (op) {
    case OP_DOT: return _mm512_fmadd_ps(x, y, acc);
    case OP_L2_SQUARED: {
        __m512 diff = _mm512_sub_ps(x, y);
        return _mm512_fmadd_ps(diff, diff, acc);
    }
    case OP_L1: return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
    }
    return acc;
}

/* The AVX2 loop at twice the width; the tail is one masked load, which reads nothing past the vector's end. */
static inline AVX512 float avx512_reduce(reduce_op op, const float *a, const float *b, size_t dim) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t i = 0;
    for (; i + AVX512_STEP <= dim; i += AVX512_STEP) {
        acc0 = avx512_accumulate(op, acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        acc1 = avx512_accumulate(op, acc1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        acc2 = avx512_accumulate(op, acc2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        acc3 = avx512_accumulate(op, acc3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    }
    for (; i + AVX512_LANES <= dim; i += AVX512_LANES)
        acc0 = avx512_accumulate(op, acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    if (i < dim) {
        __mmask16 mask = (__mmask16)((1u << (dim - i)) - 1);
        acc1 = avx512_accumulate(op, acc1, _mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

static AVX512 float avx512_dot(const float *a, const float *b, size_t dim) { return avx512_reduce(OP_DOT, a, b, dim); }
static AVX512 float avx512_l2_squared(const float *a, const float *b, size_t dim) {
    return avx512_reduce(OP_L2_SQUARED, a, b, dim);
}
static AVX512 float avx512_manhattan(const float *a, const float *b, size_t dim) {
    return avx512_reduce(OP_L1, a, b, dim);
}

static AVX512 void avx512_score_block(eg_distance d, const float *query, const float *rows, size_t n, size_t dim,
                                      float *scores) {
    if (d == EG_DISTANCE_EUCLID)
        for (size_t i = 0; i < n; i++) scores[i] = sqrtf(avx512_reduce(OP_L2_SQUARED, query, rows + i * dim, dim));
    else if (d == EG_DISTANCE_MANHATTAN)
        for (size_t i = 0; i < n; i++) scores[i] = avx512_reduce(OP_L1, query, rows + i * dim, dim);
    else
        for (size_t i = 0; i < n; i++) scores[i] = avx512_reduce(OP_DOT, query, rows + i * dim, dim);
}

static const kernel_table avx512_kernels = {EG_SIMD_AVX512, avx512_dot, avx512_l2_squared, avx512_manhattan,
                                            avx512_score_block};
#endif

/* ---- Choosing ------------------------------------------------------------------------------------------- */

static _Atomic(const kernel_table *) active_kernels; /* NULL until first use */

/* The table for s, or NULL when this CPU (or this build's architecture) cannot run it. */
static const kernel_table *kernels_for(eg_simd s) {
    if (s == EG_SIMD_SCALAR) return &scalar_kernels;
#ifdef HAVE_AVX2_KERNELS
    if (s == EG_SIMD_AVX2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2_kernels;
    if (s == EG_SIMD_AVX512 && __builtin_cpu_supports("avx512f") && kernels_for(EG_SIMD_AVX2)) return &avx512_kernels;
#endif
    return NULL;
}

static const kernel_table *kernels(void) {
    const kernel_table *k = atomic_load(&active_kernels);
    if (k) return k;
    const char *forced = getenv("ENGRAM_SIMD");
    if (forced && strcmp(forced, "scalar") == 0) k = &scalar_kernels;
    else if (forced && strcmp(forced, "avx2") == 0 && (k = kernels_for(EG_SIMD_AVX2))) {
    } else if (!(k = kernels_for(EG_SIMD_AVX512)) && !(k = kernels_for(EG_SIMD_AVX2))) k = &scalar_kernels;
    atomic_store(&active_kernels, k);
    return k;
}

const char *eg_simd_name(eg_simd s) {
    return s == EG_SIMD_AVX512 ? "avx512" : s == EG_SIMD_AVX2 ? "avx2+fma" : "scalar";
}

eg_simd eg_simd_active(void) { return kernels()->simd; }

bool eg_simd_select(eg_simd s) {
    const kernel_table *k = kernels_for(s);
    if (!k) return false;
    atomic_store(&active_kernels, k);
    return true;
}

/* ---- Dense entry points --------------------------------------------------------------------------------- */

float eg_vec_dot(const float *a, const float *b, size_t dim) { return kernels()->dot(a, b, dim); }

float eg_vec_l2_squared(const float *a, const float *b, size_t dim) { return kernels()->l2_squared(a, b, dim); }

float eg_vec_manhattan(const float *a, const float *b, size_t dim) { return kernels()->manhattan(a, b, dim); }

eg_vec_kernel eg_vec_kernel_for(eg_distance d) {
    const kernel_table *k = kernels();
    if (d == EG_DISTANCE_EUCLID) return k->l2_squared;
    if (d == EG_DISTANCE_MANHATTAN) return k->manhattan;
    return k->dot;
}

float eg_vec_score(eg_distance d, const float *a, const float *b, size_t dim) {
    const kernel_table *k = kernels();
    if (d == EG_DISTANCE_EUCLID) return sqrtf(k->l2_squared(a, b, dim));
    if (d == EG_DISTANCE_MANHATTAN) return k->manhattan(a, b, dim);
    return k->dot(a, b, dim);
}

void eg_vec_score_block(eg_distance d, const float *query, const float *rows, size_t n, size_t dim, float *scores) {
    kernels()->score_block(d, query, rows, n, dim, scores);
}

/* Close enough to 1 that rescaling would only shuffle the last bits: a float vector normalised in double lands
 * within about 1.2e-7 of it, so a second normalisation is always a no-op. */
#define UNIT_NORM_SQUARED_TOLERANCE 1e-6

bool eg_vec_normalize(float *v, size_t dim) {
    double lane[4] = {0}; /* double: no overflow or underflow for any float input, and an exact enough scale */
    size_t i = 0;
    for (; i + 4 <= dim; i += 4)
        for (size_t l = 0; l < 4; l++) lane[l] += (double)v[i + l] * v[i + l];
    for (; i < dim; i++) lane[0] += (double)v[i] * v[i];
    double norm_squared = (lane[0] + lane[1]) + (lane[2] + lane[3]);
    if (norm_squared == 0) return false;
    if (fabs(norm_squared - 1) <= UNIT_NORM_SQUARED_TOLERANCE) return true;
    double scale = 1 / sqrt(norm_squared);
    for (i = 0; i < dim; i++) v[i] = (float)(v[i] * scale);
    return true;
}

/* ---- Sparse vectors ------------------------------------------------------------------------------------- */

float eg_sparse_dot(const eg_sparse_vector *a, const eg_sparse_vector *b) {
    double sum = 0;
    size_t i = 0, j = 0;
    while (i < a->count && j < b->count) {
        uint32_t x = a->indices[i], y = b->indices[j];
        if (x == y) sum += (double)a->values[i] * b->values[j];
        /* both advance on a match; otherwise the smaller one does, decided without a branch to mispredict */
        i += x <= y;
        j += y <= x;
    }
    return (float)sum;
}

static void swap_entries(eg_sparse_vector *v, size_t i, size_t j) {
    uint32_t index = v->indices[i];
    v->indices[i] = v->indices[j];
    v->indices[j] = index;
    float value = v->values[i];
    v->values[i] = v->values[j];
    v->values[j] = value;
}

/* Moves entry `root` down until the first `end` entries are a max-heap by index again. */
static void sift_down(eg_sparse_vector *v, size_t root, size_t end) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= end) return;
        if (child + 1 < end && v->indices[child + 1] > v->indices[child]) child++;
        if (v->indices[root] >= v->indices[child]) return;
        swap_entries(v, root, child);
        root = child;
    }
}

eg_status eg_sparse_sort(eg_sparse_vector *v, eg_error *err) {
    size_t n = v->count;
    bool strictly_increasing = true; /* the usual input: then there is nothing to sort and no duplicate */
    for (size_t i = 1; i < n && strictly_increasing; i++) strictly_increasing = v->indices[i - 1] < v->indices[i];
    if (strictly_increasing) return EG_OK;
    /* heapsort: in place over the two parallel arrays, O(n log n) whatever the input order */
    for (size_t i = n / 2; i-- > 0;) sift_down(v, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        swap_entries(v, 0, end);
        sift_down(v, 0, end);
    }
    for (size_t i = 1; i < n; i++)
        if (v->indices[i - 1] == v->indices[i])
            return eg_error_set(err, EG_INVALID_ARGUMENT, "sparse vector holds index %u twice", v->indices[i]);
    return EG_OK;
}
