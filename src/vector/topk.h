/* topk.h — ranking for vector search: bounded top-k selection over a stream of scored candidates (fusing
 * rankings is fusion.h's).
 *
 * "Better" follows engram/vectors.h: a higher score for Cosine and Dot, a lower one (a distance) for Euclid and
 * Manhattan; equal scores rank by point id ascending (eg_point_id_compare), so results never depend on the
 * order candidates arrive in. A NaN score ranks below every number. Not thread-safe: one eg_topk per search. */
#ifndef ENGRAM_VECTOR_TOPK_H
#define ENGRAM_VECTOR_TOPK_H

#include <engram/vectors.h>

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct eg_topk_entry {
    float score;
    uint64_t slot;  /* the caller's handle on the candidate (a row number, a storage key), carried through */
    eg_point_id id;
} eg_topk_entry;

typedef struct eg_topk {
    eg_topk_entry *items; /* a heap with the worst kept entry first; best first once eg_topk_sort has run */
    size_t count;         /* entries kept, at most k */
    size_t k;
    bool higher_is_better;
} eg_topk;

/* Prepares t to keep the best k candidates under distance d. Returns false when out of memory. */
bool eg_topk_init(eg_topk *t, size_t k, eg_distance d);
void eg_topk_free(eg_topk *t);

/* False when a candidate with this score cannot enter, whatever its id: the scan's cheap pre-check, made before
 * looking up the candidate's id. A score equal to the worst kept one may still enter on its id. */
static inline bool eg_topk_may_accept(const eg_topk *t, float score) {
    if (t->count < t->k) return true;
    if (t->k == 0) return false;
    float worst = t->items[0].score;
    if (isnan(worst)) return true; /* any number beats it; a NaN may, on its id */
    return t->higher_is_better ? score >= worst : score <= worst; /* false for a NaN score */
}

/* Offers a candidate; it is kept if fewer than k are, or if it is better than the worst kept one (which leaves). */
void eg_topk_push(eg_topk *t, float score, const eg_point_id *id, uint64_t slot);

/* Orders the kept entries best first in t->items[0..count). Ends the selection: push no more after it. */
void eg_topk_sort(eg_topk *t);

#endif
