/* bench_data.h — the deterministic data the memory benchmarks write: a splitmix64 stream per seed, so every run
 * writes the same vectors (and ids), and vectors drawn from it. */
#ifndef ENGRAM_BENCH_DATA_H
#define ENGRAM_BENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Components uniform in [-1, 1), drawn from the stream of seed. */
static inline void random_vector(uint64_t seed, float *out, size_t dim) {
    uint64_t state = seed;
    for (size_t i = 0; i < dim; i++) out[i] = (float)((double)(next_random(&state) >> 11) * 0x1p-52 - 1.0);
}

#endif
