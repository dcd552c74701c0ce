/* topk.c — bounded top-k selection and reciprocal rank fusion (see topk.h).
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

/* ---- Reciprocal rank fusion ----------------------------------------------------------------------------- */

static int compare_by_id(const void *x, const void *y) {
    const eg_rrf_item *a = x, *b = y;
    return eg_point_id_compare(&a->id, &b->id);
}

static int compare_fused(const void *x, const void *y) {
    const eg_rrf_item *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return eg_point_id_compare(&a->id, &b->id);
}

/* The better (smaller, non-zero) of two ranks, 0 meaning absent. */
static size_t best_rank(size_t r, size_t s) { return r == 0 ? s : s == 0 ? r : r < s ? r : s; }

static double rank_share(size_t rank) { return rank ? 1.0 / (double)(EG_RRF_K + rank) : 0; }

bool eg_rrf_fuse(const eg_point_id *a, size_t a_count, const eg_point_id *b, size_t b_count, eg_rrf_item **out,
                 size_t *out_count) {
    *out = NULL;
    *out_count = 0;
    size_t total = a_count + b_count;
    if (total == 0) return true;
    eg_rrf_item *items = malloc(total * sizeof *items);
    if (!items) return false;
    /* every listing becomes one item; sorting by id brings an id's listings together to be merged */
    for (size_t i = 0; i < a_count; i++) items[i] = (eg_rrf_item){a[i], 0, i + 1, 0};
    for (size_t j = 0; j < b_count; j++) items[a_count + j] = (eg_rrf_item){b[j], 0, 0, j + 1};
    qsort(items, total, sizeof *items, compare_by_id);
    size_t merged = 0;
    for (size_t i = 0; i < total; i++) {
        if (merged > 0 && eg_point_id_compare(&items[merged - 1].id, &items[i].id) == 0) {
            eg_rrf_item *same = &items[merged - 1];
            same->rank_a = best_rank(same->rank_a, items[i].rank_a);
            same->rank_b = best_rank(same->rank_b, items[i].rank_b);
        } else {
            items[merged++] = items[i];
        }
    }
    for (size_t i = 0; i < merged; i++) items[i].score = rank_share(items[i].rank_a) + rank_share(items[i].rank_b);
    qsort(items, merged, sizeof *items, compare_fused);
    *out = items;
    *out_count = merged;
    return true;
}
