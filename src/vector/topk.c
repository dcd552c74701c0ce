/* topk.c — bounded top-k selection (see topk.h).
 *
 * The selection is a binary heap of k entries with the worst on top: a candidate is compared with that one
 * entry, and a better one replaces it in O(log k). Sorting the heap in place (heapsort, moving the worst to the
 * end each round) leaves the entries best first without another buffer. */
#include "vector/topk.h"

#include "vector/distance.h"

#include <stdlib.h>

/* The ranking order: true when (sa, ia) ranks strictly before (sb, ib). A total order, NaN scores last. */
static bool ranks_before(bool higher_is_better, float sa, const eg_point_id *ia, float sb, const eg_point_id *ib) {
    bool a_nan = isnan(sa), b_nan = isnan(sb);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && sa != sb) return higher_is_better ? sa > sb : sa < sb;
    return eg_point_id_compare(ia, ib) < 0;
}

static bool entry_before(const eg_topk *t, const eg_topk_entry *a, const eg_topk_entry *b) {
    return ranks_before(t->higher_is_better, a->score, &a->id, b->score, &b->id);
}

bool eg_topk_init(eg_topk *t, size_t k, eg_distance d) {
    t->items = k ? malloc(k * sizeof *t->items) : NULL;
    t->count = 0;
    t->k = k;
    t->higher_is_better = eg_distance_higher_is_better(d);
    return t->items || k == 0;
}

void eg_topk_free(eg_topk *t) {
    free(t->items);
    t->items = NULL;
    t->count = t->k = 0;
}

/* Moves entry i down until the first `end` entries are a heap again (each entry ranks after its children). */
static void sift_down(eg_topk *t, size_t i, size_t end) {
    eg_topk_entry moving = t->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= end) break;
        if (child + 1 < end && entry_before(t, &t->items[child], &t->items[child + 1])) child++; /* the worse */
        if (!entry_before(t, &moving, &t->items[child])) break;
        t->items[i] = t->items[child];
        i = child;
    }
    t->items[i] = moving;
}

void eg_topk_push(eg_topk *t, float score, const eg_point_id *id, uint64_t slot) {
    eg_topk_entry candidate = {score, slot, *id};
    if (t->count < t->k) {
        size_t i = t->count++;
        while (i > 0) { /* sift up past every parent that ranks before the candidate */
            size_t parent = (i - 1) / 2;
            if (!entry_before(t, &t->items[parent], &candidate)) break;
            t->items[i] = t->items[parent];
            i = parent;
        }
        t->items[i] = candidate;
        return;
    }
    if (t->k == 0 || !entry_before(t, &candidate, &t->items[0])) return;
    t->items[0] = candidate;
    sift_down(t, 0, t->count);
}

void eg_topk_sort(eg_topk *t) {
    for (size_t end = t->count; end > 1; end--) {
        eg_topk_entry worst = t->items[0];
        t->items[0] = t->items[end - 1];
        t->items[end - 1] = worst;
        sift_down(t, 0, end - 1);
    }
}

