/* hnsw.h — an in-memory HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor
 * search using Hierarchical Navigable Small World graphs") over float32 vectors: approximate k-nearest-neighbour
 * search with an optional filter, inserts, and removals that repair the graph.
 *
 * Points are named by labels: the caller's slot numbers, dense unsigned 32-bit integers (0, 1, 2, ...). The index
 * sizes its arrays by the largest label seen, so sparse or huge labels waste memory: map ids to slots first. The
 * index keeps its own copy of every vector, one 64-byte aligned row per slot, back to back: that is what searches
 * read. Scores are those of distance.h (eg_vec_score): higher is better for Cosine and Dot, smaller for Euclid and
 * Manhattan; for Cosine the caller passes vectors and queries already normalised (eg_vec_normalize), the index
 * scores them by their dot product.
 *
 * The graph: every point lives on layer 0 and, with probability 1/M per further layer, on higher layers (level
 * drawn as floor(-ln(U) / ln(M))). A point links to at most 2*M others on layer 0 and M on each upper layer,
 * chosen by the paper's neighbour-selection heuristic (a candidate is kept only if it is closer to the point than
 * to every neighbour already kept), which keeps links spread across directions. Links are one-way; an insert adds
 * the reverse links too and prunes a neighbour's list with the same heuristic when it overflows.
 *
 * Removal leaves a tombstone: the removed point is never returned again, but its links stay so that searches can
 * still pass through it (paths do not break). Every neighbour that linked to it gets its list rebuilt from its own
 * links and the removed point's links by the heuristic, so the graph around the hole stays connected; stale links
 * to tombstones that remain elsewhere are dropped first when those lists are next pruned. Adding a removed label
 * again reuses its slot as a fresh point.
 *
 * Threads: one writer at a time (add, remove, free) and no search while a write runs — the caller serialises them
 * (a read-write lock). Any number of searches may run at once: each borrows its own scratch space (visited marks,
 * heaps) from a pool under a mutex. */
#ifndef ENGRAM_VECTOR_HNSW_H
#define ENGRAM_VECTOR_HNSW_H

#include <engram/status.h>
#include <engram/vectors.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EG_HNSW_LABEL_MAX (UINT32_MAX - 1)

typedef struct eg_hnsw eg_hnsw;

typedef struct eg_hnsw_params {
    uint32_t m;            /* links per point on upper layers (2..EG_HNSW_M_MAX); 2*m on layer 0 */
    uint32_t ef_construct; /* beam width while inserting (>= 1): larger builds slower and a better graph */
    uint64_t seed;         /* of the level draws: the same seed and inserts give the same graph */
    uint32_t capacity;     /* slots to allocate up front (0: grow on demand); a bulk load passes its size */
} eg_hnsw_params;

/* m 16, ef_construct 100, a fixed seed, capacity 0. */
eg_hnsw_params eg_hnsw_params_default(void);

typedef struct eg_hnsw_hit {
    uint32_t label;
    float score; /* eg_vec_score(distance, query, vector of label) */
} eg_hnsw_hit;

/* A new empty index of dim-dimensional vectors (1..EG_VECTOR_DIM_MAX) under distance; p NULL means the defaults.
 * EG_INVALID_ARGUMENT for a bad dimension, distance or parameter; EG_INTERNAL when out of memory. */
eg_status eg_hnsw_new(size_t dim, eg_distance distance, const eg_hnsw_params *p, eg_hnsw **out, eg_error *err);
void eg_hnsw_free(eg_hnsw *h);

/* Inserts vector (dim floats, copied) as label. EG_INVALID_ARGUMENT for a NULL vector, a label above
 * EG_HNSW_LABEL_MAX or a non-finite value; EG_CONFLICT when label is present (remove it first); EG_INTERNAL when
 * out of memory (label is then absent, as if added and removed). */
eg_status eg_hnsw_add(eg_hnsw *h, uint32_t label, const float *vector, eg_error *err);

/* Removes label (see the top of this file). EG_NOT_FOUND when it is not present. */
eg_status eg_hnsw_remove(eg_hnsw *h, uint32_t label, eg_error *err);

/* The k points nearest to query (dim floats), best first, equal scores by label ascending, into out[0..*found).
 * ef is the beam width on layer 0 (raised to k when smaller): larger is slower and finds more of the true
 * neighbours. accept, when not NULL, is called with ctx and the label of every present point the search meets;
 * points it refuses are still walked through (they keep the graph connected) but never returned, and the beam
 * goes on until it holds ef accepted points or has exhausted the reachable graph — so a filtered search returns
 * min(k, accepted reachable points) even when few match, at the price of visiting much of the graph then (the
 * vector store searches very selective filters exactly instead). *found < k only when fewer points qualify.
 * EG_INVALID_ARGUMENT for a NULL query, found, or out with k > 0; EG_INTERNAL when out of memory. */
eg_status eg_hnsw_search(eg_hnsw *h, const float *query, size_t k, size_t ef,
                         bool (*accept)(void *ctx, uint32_t label), void *ctx, eg_hnsw_hit *out, size_t *found,
                         eg_error *err);

/* Points present (added and not removed). */
size_t eg_hnsw_count(const eg_hnsw *h);
/* True when label is present. */
bool eg_hnsw_contains(const eg_hnsw *h, uint32_t label);

/* Bytes of memory the index holds in use: vector rows, layer-0 link lists and per-slot headers for every slot up
 * to the largest label, upper-layer link lists, and the search scratch space — what the process's resident size
 * grows by when the index is built, as the peer benchmark measures hnswlib (unused reserved capacity is not
 * touched, so it is not counted). */
size_t eg_hnsw_memory_bytes(const eg_hnsw *h);

#endif
