/* hnsw.h — an in-memory HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor
 * search using Hierarchical Navigable Small World graphs") over float32 vectors: approximate k-nearest-neighbour
 * search with an optional filter, inserts, and removals that repair the graph.
 *
 * Points are named by labels: the caller's slot numbers, dense unsigned 32-bit integers (0, 1, 2, ...). The index
 * sizes its arrays by the largest label seen, so sparse or huge labels waste memory: map ids to slots first. The
 * index keeps its own copy of every vector, beside the point's bottom-layer links in one block per slot, blocks
 * back to back: that is what searches read. Scores are those of distance.h (eg_vec_score): higher is better for
 * Cosine and Dot, smaller for Euclid and Manhattan; for Cosine the caller passes vectors and queries already
 * normalised (eg_vec_normalize), the index scores them by their dot product.
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
 * int8 (params.int8): rows hold one byte per value (quant.h: a per-dimension affine code learned from the first
 * batch added, or from the first point when it comes alone); queries stay float and are scored against the codes.
 * Scores are then approximate: callers that need exact ones rescore the best candidates with their own floats.
 *
 * Threads
 * - Searches run concurrently with each other and with adds and removes: link lists are read optimistically
 *   under a per-point sequence counter (retried when a writer changed the list meanwhile), so a search never
 *   waits for an insert, and an insert waits only for the few neighbour lists it edits. A point being added or
 *   removed while a search runs may or may not be in that search's results.
 * - Writes (add, add_batch, remove) are serialised among themselves; add_batch spreads one batch over threads.
 * - Two rare writes stop searches for their duration: growing the arrays past their capacity, and adding a
 *   label that was removed (its slot's row and layers are rewritten in place).
 * - eg_hnsw_free and eg_hnsw_save need no other call running. */
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
    bool int8;             /* rows as int8 codes (see the top of this file) */
} eg_hnsw_params;

/* m 16, ef_construct 100, a fixed seed, capacity 0, float rows. */
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

/* Inserts n points: labels[i] (distinct, none present) with the dim floats at vectors + i * dim, using up to
 * `threads` threads (0 or 1: this one). With one thread the graph is the one n calls of eg_hnsw_add would build;
 * with more it is as good but depends on timing. Errors as eg_hnsw_add, checked for every point before any is
 * inserted (nothing is inserted then), except out of memory midway: the points not yet linked stay absent. */
eg_status eg_hnsw_add_batch(eg_hnsw *h, const uint32_t *labels, const float *vectors, size_t n, unsigned threads,
                            eg_error *err);

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

/* The index's parameters (capacity: the slots allocated now). */
eg_hnsw_params eg_hnsw_params_of(const eg_hnsw *h);

/* ---- Files (hnsw_file.c) ----------------------------------------------------------------------------------
 * A saved index is one file: a header (format, parameters, counts, the caller's stamp), the int8 codec, then every
 * slot's state, level, row and links, and a CRC32C of all of it. Saving writes a temporary file beside path,
 * syncs it, renames it over path and syncs the folder, so path holds the old index or the new one, whole. The
 * stamp is the caller's: the vector store records which version of its points the index reflects. */
eg_status eg_hnsw_save(eg_hnsw *h, const char *path, uint64_t stamp, eg_error *err);
/* Loads path. EG_NOT_FOUND when there is no file; EG_CORRUPT when it is damaged, truncated or of another
 * format (a caller rebuilds then). */
eg_status eg_hnsw_load(const char *path, eg_hnsw **out, uint64_t *stamp, eg_error *err);

#endif
