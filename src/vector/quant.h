/* quant.h — int8 scalar quantization of float vectors for the approximate index: each value is stored as one byte,
 * a quarter of its float, so four times as many vectors fit in memory and cache, and the graph search scores those
 * bytes directly against a float query.
 *
 * The codec is affine per dimension: value[i] ~= lo[i] + step[i] * code[i], code in 0..255, with lo and step learnt
 * from training vectors (each dimension's minimum and maximum: step = (max - min) / 255). A value inside the trained
 * range comes back within step/2 of itself; one outside it clamps to the nearest end. A dimension whose spread is
 * zero (or too small to matter: below 255 * 2^-34 * max(1, |value|), about 1.5e-8 for values near 1) gets that
 * floor as its step, so its codes decode to lo within 1.5e-8 * max(1, |lo|) and the step is never zero or so small
 * that the query's products with it become subnormal floats, which are slow on x86.
 *
 * Scoring does not decode. A query is prepared once per search for one distance (eg_sq8_prepare), folding lo and
 * step into it so that each code row then costs one pass of a multiply-add per byte:
 *   Cosine, Dot:  q . decoded = sum q_i*lo_i + sum (q_i*step_i) * c_i   ->  bias + sum a_i * c_i
 *   Euclid:       |q - decoded| = sqrt(sum (b_i - step_i*c_i)^2), with b_i = q_i - lo_i
 *   Manhattan:    sum |b_i - step_i*c_i|
 * The result equals eg_vec_score(d, query, decoded row, dim) (distance.h) up to float rounding, with the same
 * meaning: higher is better for Cosine and Dot, smaller for Euclid and Manhattan. For Cosine the caller normalises
 * the vectors before training and encoding, and the query before preparing it, as for eg_vec_score.
 *
 * The row kernel comes in the two implementations of distance.h, portable C and AVX2+FMA, and follows its choice
 * (eg_simd_active): ENGRAM_SIMD=scalar and eg_simd_select switch it too. Code rows need no alignment.
 *
 * Threads: a codec is immutable once trained or restored, so any number of threads may encode, decode, prepare and
 * score with it at once; train, restore and clear need it to themselves. A prepared query is likewise read-only
 * while scoring and may be shared; eg_sq8_query_clear needs it to itself. */
#ifndef ENGRAM_VECTOR_QUANT_H
#define ENGRAM_VECTOR_QUANT_H

#include <engram/status.h>
#include <engram/vectors.h>

#include <stddef.h>
#include <stdint.h>

typedef struct eg_sq8 {
    size_t dim;
    float *lo, *step; /* dim each, one allocation (lo owns it); step > 0. All zero for an empty codec. */
} eg_sq8;

/* Learns q from n >= 1 training vectors of dim floats, the first at rows and each next one `stride` floats
 * further (stride >= dim; dim for rows back to back). *q is an output: what it held is overwritten, not freed, so
 * clear a codec before training it again. EG_INVALID_ARGUMENT for dim 0, n 0, stride < dim, a NULL pointer or a
 * non-finite value (naming its row and dimension); EG_INTERNAL when out of memory. On error *q is left as it was. */
eg_status eg_sq8_train(eg_sq8 *q, size_t dim, const float *rows, size_t n, size_t stride, eg_error *err);

/* Rebuilds q from saved lo and step arrays (dim each, copied), for loading a saved index. Every lo must be finite
 * and every step finite and > 0, else EG_INVALID_ARGUMENT naming the first bad dimension; EG_INTERNAL when out of
 * memory. Like eg_sq8_train, *q is an output and is left as it was on error. */
eg_status eg_sq8_restore(eg_sq8 *q, size_t dim, const float *lo, const float *step, eg_error *err);

/* Frees q's arrays and makes it empty; safe on an empty codec and twice. */
void eg_sq8_clear(eg_sq8 *q);

/* codes[i] = round((v[i] - lo[i]) / step[i]) clamped to 0..255, for i < q->dim; a NaN value codes as 0. */
void eg_sq8_encode(const eg_sq8 *q, const float *v, uint8_t *codes);
/* out[i] = lo[i] + step[i] * codes[i], for i < q->dim. */
void eg_sq8_decode(const eg_sq8 *q, const uint8_t *codes, float *out);

/* A float query prepared for one distance. `a` is malloc'd by eg_sq8_prepare and freed by eg_sq8_query_clear;
 * it holds, for Cosine and Dot, a_i = query_i * step_i (dim floats) with bias = sum query_i * lo_i; for Euclid and
 * Manhattan, b_i = query_i - lo_i followed by a copy of step (2 * dim floats: a[i] is b_i, a[dim + i] is step_i),
 * with bias 0. The copy keeps the prepared query independent of the codec's lifetime and its two streams next to
 * each other. */
typedef struct eg_sq8_query {
    eg_distance distance;
    size_t dim;
    float *a;
    float bias;
} eg_sq8_query;

/* Prepares query (q->dim floats) for scoring q's code rows under distance d. *out is an output, overwritten and
 * not freed. EG_INVALID_ARGUMENT for an empty codec, an unknown distance, a NULL pointer or a non-finite query
 * value; EG_INTERNAL when out of memory. On error *out is left as it was. Allocates once; scoring never does. */
eg_status eg_sq8_prepare(const eg_sq8 *q, eg_distance d, const float *query, eg_sq8_query *out, eg_error *err);

/* Frees pq's storage and makes it empty; safe on an empty prepared query and twice. */
void eg_sq8_query_clear(eg_sq8_query *pq);

/* The score of a code row (pq->dim bytes, encoded by the codec pq was prepared from) for the prepared query: what
 * eg_vec_score(pq->distance, query, decoded row, dim) gives, up to float rounding. */
float eg_sq8_score(const eg_sq8_query *pq, const uint8_t *codes);

#endif
