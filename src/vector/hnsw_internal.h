/* hnsw_internal.h — the memory layout of an HNSW index, shared by the graph code (hnsw.c) and its file format
 * (hnsw_file.c). Nothing outside those two files includes it.
 *
 * Layout
 * - Slot i (i < slots) owns block i of `blocks` (block_bytes apart): its vector (dim floats rounded up to 16
 *   bytes, or dim int8 codes rounded up to 4) at offset 0, then its layer-0 links (a count, then m0 labels) at
 *   offset vector_bytes; and nodes[i], whose upper holds `level` blocks of (count, m labels) for layers 1..level.
 *   A walk reads a point's links right after scoring its vector, so keeping the two side by side makes the links
 *   a cache hit: measured 9-10% more queries/s at 100k x 128 than separate arrays.
 * - seq[i] is slot i's sequence counter: odd while a writer edits any of i's link lists. Writers take it as a lock
 *   (even -> odd by compare-and-swap) and release it with the next even value; readers copy a list between two
 *   reads of an equal, even counter (hnsw.c: read_links).
 * - entry packs the entry point and the top level ((level << 32) | label), so a walk reads both at once;
 *   ENTRY_NONE when the index holds no point.
 * - Link words, node states and levels are read and written with atomic builtins (relaxed: the sequence counters
 *   and entry carry the ordering), so concurrent searches and writers never race in the C11 sense. */
#ifndef ENGRAM_VECTOR_HNSW_INTERNAL_H
#define ENGRAM_VECTOR_HNSW_INTERNAL_H

#include "vector/distance.h"
#include "vector/hnsw.h"
#include "vector/quant.h"

#include <pthread.h>
#include <stdatomic.h>

#define HNSW_LEVEL_MAX 32 /* levels above log_M(2^32) never occur; a cap keeps a freak draw harmless */
#define HNSW_ARRAY_ALIGN 64 /* a cache line: where the block array starts */
#define HNSW_FLOAT_ALIGN 16 /* float blocks: measured as fast as cache-line blocks at 100k x 128, and 7% smaller */
#define HNSW_CODE_ALIGN 4   /* int8 blocks: the links after the codes stay word-aligned */
#define ENTRY_NONE UINT64_MAX

enum { SLOT_EMPTY = 0, SLOT_JOINING, SLOT_LIVE, SLOT_REMOVED };

typedef struct hnsw_node {
    uint32_t *upper; /* layers 1..level, (1 + m) words each; NULL when level is 0 */
    uint8_t level;
    uint8_t state;
} hnsw_node;

typedef struct hnsw_scratch hnsw_scratch;

struct eg_hnsw {
    size_t dim, vector_bytes, block_bytes;
    eg_distance distance;
    bool higher_is_better;
    bool int8;
    bool trained; /* int8: the codec has been learned */
    eg_sq8 codec;
    uint32_t m, m0, ef_construct;
    double level_mult; /* 1 / ln(m) */
    uint64_t seed, rng;
    size_t capacity; /* changes only under grow_lock held for writing */
    _Atomic size_t slots, live, removed;
    unsigned char *blocks;
    hnsw_node *nodes;
    _Atomic uint32_t *seq;
    _Atomic uint64_t entry;
    _Atomic size_t upper_bytes, scratch_bytes;
    pthread_mutex_t write_lock; /* one write (add, add_batch, remove) at a time */
    pthread_mutex_t entry_lock; /* raising the entry point during a threaded batch */
    pthread_rwlock_t grow_lock; /* read: every search and write; write: growing, re-adding a removed label */
    pthread_mutex_t pool_lock;
    hnsw_scratch *pool;
};

static inline uint32_t *hnsw_links(const eg_hnsw *h, uint32_t id, int level) {
    if (level == 0) return (uint32_t *)(h->blocks + (size_t)id * h->block_bytes + h->vector_bytes);
    return h->nodes[id].upper + (size_t)(level - 1) * (1 + h->m);
}

static inline unsigned char *hnsw_row(const eg_hnsw *h, uint32_t id) {
    return h->blocks + (size_t)id * h->block_bytes;
}

static inline uint8_t hnsw_state(const eg_hnsw *h, uint32_t id) {
    return __atomic_load_n(&h->nodes[id].state, __ATOMIC_RELAXED);
}

static inline uint64_t hnsw_pack_entry(uint32_t label, int level) { return (uint64_t)level << 32 | label; }

/* Makes room for slots [0, need) (the caller holds grow_lock for writing, or is alone); new slots are empty. */
bool hnsw_reserve(eg_hnsw *h, size_t need);

/* An empty index with h's parameters already checked (eg_hnsw_new and the loader share it). */
eg_status hnsw_create(size_t dim, eg_distance distance, const eg_hnsw_params *p, eg_hnsw **out, eg_error *err);

#endif
