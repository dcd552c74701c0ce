/* distance.h — the float32 arithmetic of vector search: dense kernels (dot, squared L2, L1), the block scorer that
 * is exact search's inner loop, normalisation for Cosine collections, and the sparse dot product of hybrid search.
 *
 * Dense kernels come in three implementations with the same results up to float rounding: portable C, AVX2+FMA,
 * and AVX-512 for x86-64 CPUs that have them (AVX-512 measured 5-7% more HNSW queries/s than AVX2 at 1024
 * dimensions, none at 128). The best one the CPU supports is chosen on first use; ENGRAM_SIMD=scalar (or =avx2)
 * set before the process starts forces the portable (or the AVX2) one — to rule the wider code out when chasing a
 * wrong score, or to compare speeds. Any other value, or none, means "the best available". Code that has only
 * portable and AVX2 variants (quant.c) uses AVX2 when AVX-512 is chosen.
 *
 * Vectors are arrays of dim floats, float-aligned (4 bytes); no stronger alignment is needed. Scores follow
 * engram/vectors.h: Cosine and Dot score the dot product (higher is better; Cosine vectors are stored normalised,
 * so their dot is the cosine), Euclid the distance sqrt(sum (a-b)^2) and Manhattan sum |a-b| (smaller is better).
 * Every function here is thread-safe. */
#ifndef ENGRAM_VECTOR_DISTANCE_H
#define ENGRAM_VECTOR_DISTANCE_H

#include <engram/vectors.h>

#include <stdbool.h>
#include <stddef.h>

static inline bool eg_distance_higher_is_better(eg_distance d) {
    return d == EG_DISTANCE_COSINE || d == EG_DISTANCE_DOT;
}

/* ---- Implementation choice ------------------------------------------------------------------------------ */

typedef enum eg_simd { EG_SIMD_SCALAR = 0, EG_SIMD_AVX2, EG_SIMD_AVX512 } eg_simd;

/* "scalar", "avx2+fma" or "avx512". */
const char *eg_simd_name(eg_simd s);
/* The implementation the kernels use now. */
eg_simd eg_simd_active(void);
/* Switches every kernel to s, as ENGRAM_SIMD does at start-up; for tests and benchmarks, which compare the two.
 * Returns false, changing nothing, when this CPU cannot run s. Calls already running finish on the old one. */
bool eg_simd_select(eg_simd s);

/* ---- Dense kernels -------------------------------------------------------------------------------------- */

float eg_vec_dot(const float *a, const float *b, size_t dim);
/* sum (a-b)^2: orders like the Euclid distance without the square root, for graph traversal. */
float eg_vec_l2_squared(const float *a, const float *b, size_t dim);
float eg_vec_manhattan(const float *a, const float *b, size_t dim);
/* The kernel that orders vectors for distance d, for loops that call it many times (graph walks): the dot
 * product for Cosine and Dot (higher is better), sum (a-b)^2 for Euclid (no square root: same order), sum |a-b|
 * for Manhattan. Taken once, it skips the dispatch of the functions above; it follows eg_simd_select only when
 * taken again. */
typedef float (*eg_vec_kernel)(const float *a, const float *b, size_t dim);
eg_vec_kernel eg_vec_kernel_for(eg_distance d);
/* The score of vector b for query a under distance d (see the top of this file). */
float eg_vec_score(eg_distance d, const float *a, const float *b, size_t dim);

/* scores[i] = eg_vec_score(d, query, rows + i * dim, dim) for i < n: rows holds n vectors back to back. */
void eg_vec_score_block(eg_distance d, const float *query, const float *rows, size_t n, size_t dim, float *scores);

/* Scales v in place to unit length (computed in double precision, so any non-zero finite vector, however small
 * or large its values, comes out with norm 1 within float rounding). A vector already of unit length (squared
 * norm within 1e-6 of 1) is left untouched, so normalising twice changes no bit.
 * Returns false for the zero vector, which has no direction: it is left all zeros. Qdrant stores such a vector
 * as is (it scores 0 against every query) rather than rejecting it, and callers do the same. */
bool eg_vec_normalize(float *v, size_t dim);

/* ---- Sparse vectors ------------------------------------------------------------------------------------- */

/* Dot product of two sparse vectors whose indices are sorted ascending and unique (see eg_sparse_sort);
 * 0 when they share no index or either is empty. Accumulated in double precision. */
float eg_sparse_dot(const eg_sparse_vector *a, const eg_sparse_vector *b);

/* Sorts v's entries by index in place, each value staying with its index. An index given twice is
 * EG_INVALID_ARGUMENT naming it (v is then sorted but still holds the duplicate). Allocates nothing. */
eg_status eg_sparse_sort(eg_sparse_vector *v, eg_error *err);

#endif
