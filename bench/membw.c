/* membw.c — how close exact vector search comes to this machine's memory bandwidth.
 *
 * usage: membw [--quick]
 *
 * Exact search reads every stored vector once per query, so its ceiling is the rate one thread can stream memory.
 * This measures, single-threaded:
 *   read_gbps     summing a 1 GiB float array (AVX2 when the CPU has it, like the scorer), best of several passes
 *   memcpy_gbps   memcpy of 1 GiB into another 1 GiB buffer, counting the bytes copied once, best of several
 *   scan_gbps     eg_vec_score_block (Dot) over 100,000 x 1024 float32 vectors (400 MB, far beyond any cache):
 *                 bytes of vectors scored per second, best of several full scans; scan_qps is full scans per
 *                 second, i.e. exact-search queries per second on that collection
 *   scan_scalar_* the same with the portable kernels (ENGRAM_SIMD=scalar)
 * and prints one key=value line on stdout. --quick shrinks everything tenfold, for a smoke run. */
#include "vector/distance.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX2 1
#endif

#define READ_PASSES 5
#define COPY_PASSES 3
#define SCAN_PASSES 5
#define SCAN_DIM 1024

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Several independent sums so the loop waits on memory, not on the adder. */
static float sum_portable(const float *v, size_t n) {
    float lane[8] = {0};
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (size_t l = 0; l < 8; l++) lane[l] += v[i + l];
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

#ifdef HAVE_AVX2
__attribute__((target("avx2"))) static float sum_avx2(const float *v, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(v + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(v + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(v + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(v + i + 24));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}
#endif

static float sum_floats(const float *v, size_t n) {
#ifdef HAVE_AVX2
    if (__builtin_cpu_supports("avx2")) return sum_avx2(v, n);
#endif
    return sum_portable(v, n);
}

static void *allocate(size_t bytes) {
    void *p = aligned_alloc(4096, bytes);
    if (!p) {
        fprintf(stderr, "membw: cannot allocate %zu bytes\n", bytes);
        exit(1);
    }
    return p;
}

/* xorshift64*: deterministic data; its values only need to be ordinary floats. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static float random_unit(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (float)((double)((rng_state * 0x2545f4914f6cdd1dULL) >> 40) / (double)(1 << 23) - 1.0);
}

static volatile float sink; /* keeps the sums and scores from being optimised away */

static double best_read_gbps(const float *v, size_t n) {
    double best = 0;
    for (int pass = 0; pass < READ_PASSES; pass++) {
        double t0 = now_s();
        sink = sum_floats(v, n);
        double gbps = (double)(n * sizeof *v) / (now_s() - t0) / 1e9;
        if (gbps > best) best = gbps;
    }
    return best;
}

static double best_memcpy_gbps(void *dst, const void *src, size_t bytes) {
    double best = 0;
    for (int pass = 0; pass < COPY_PASSES; pass++) {
        double t0 = now_s();
        memcpy(dst, src, bytes);
        double gbps = (double)bytes / (now_s() - t0) / 1e9;
        sink = ((volatile float *)dst)[pass];
        if (gbps > best) best = gbps;
    }
    return best;
}

/* The fastest of SCAN_PASSES full scans, in seconds. */
static double best_scan_s(const float *query, const float *rows, size_t n, float *scores) {
    double best = 1e300;
    for (int pass = 0; pass < SCAN_PASSES; pass++) {
        double t0 = now_s();
        eg_vec_score_block(EG_DISTANCE_DOT, query, rows, n, SCAN_DIM, scores);
        double s = now_s() - t0;
        sink = scores[n / 2];
        if (s < best) best = s;
    }
    return best;
}

int main(int argc, char **argv) {
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    size_t array_bytes = (quick ? 1 : 10) * ((size_t)1 << 30) / 10; /* 1 GiB, or a tenth of it */
    size_t scan_rows = quick ? 10000 : 100000;

    size_t floats = array_bytes / sizeof(float);
    float *array = allocate(array_bytes), *copy = allocate(array_bytes);
    for (size_t i = 0; i < floats; i++) array[i] = (float)(i & 1023) * 0.001f; /* also faults every page in */
    memset(copy, 0, array_bytes);
    double read_gbps = best_read_gbps(array, floats);
    double memcpy_gbps = best_memcpy_gbps(copy, array, array_bytes);
    free(copy);
    free(array);

    size_t scan_bytes = scan_rows * SCAN_DIM * sizeof(float);
    float *rows = allocate(scan_bytes), *scores = allocate(scan_rows * sizeof(float) + 4096);
    float query[SCAN_DIM];
    for (size_t i = 0; i < scan_rows * SCAN_DIM; i++) rows[i] = random_unit();
    for (size_t i = 0; i < SCAN_DIM; i++) query[i] = random_unit();
    eg_simd simd = eg_simd_active();
    double scan_s = best_scan_s(query, rows, scan_rows, scores);
    eg_simd_select(EG_SIMD_SCALAR);
    double scan_scalar_s = best_scan_s(query, rows, scan_rows, scores);
    free(rows);
    free(scores);

    double scan_gbps = (double)scan_bytes / scan_s / 1e9;
    printf("membw simd=%s read_gbps=%.2f memcpy_gbps=%.2f scan_gbps=%.2f scan_qps=%.2f scan_fraction_of_read=%.3f "
           "scan_scalar_gbps=%.2f scan_scalar_qps=%.2f rows=%zu dim=%d\n",
           eg_simd_name(simd), read_gbps, memcpy_gbps, scan_gbps, 1 / scan_s, scan_gbps / read_gbps,
           (double)scan_bytes / scan_scalar_s / 1e9, 1 / scan_scalar_s, scan_rows, SCAN_DIM);
    return 0;
}
