/* fusion.c — RRF and DBSF over several rankings (see fusion.h).
 *
 * Every listing of a point becomes one contribution; sorting the contributions by id, then ranking, then position
 * brings a point's contributions together in the order Qdrant adds them, so each sum is the same float32 sum. */
#include "vector/fusion.h"

#include <math.h>
#include <stdlib.h>

typedef struct contribution {
    eg_point_id id;
    size_t ranking, position;
    float score;
} contribution;

static int compare_listing(const void *x, const void *y) {
    const contribution *a = x, *b = y;
    int c = eg_point_id_compare(&a->id, &b->id);
    if (c) return c;
    if (a->ranking != b->ranking) return a->ranking < b->ranking ? -1 : 1;
    return a->position < b->position ? -1 : a->position > b->position;
}

static int compare_fused(const void *x, const void *y) {
    const eg_fused *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return eg_point_id_compare(&a->id, &b->id);
}

static size_t total_listings(const eg_ranking *rankings, size_t n) {
    size_t total = 0;
    for (size_t r = 0; r < n; r++) total += rankings[r].count;
    return total;
}

/* Sums the contributions of each point (items holds count of them, scored) and ranks the points. */
static bool merge(contribution *items, size_t count, eg_fused **out, size_t *out_count) {
    qsort(items, count, sizeof *items, compare_listing);
    eg_fused *fused = malloc(count * sizeof *fused);
    if (!fused) return false;
    size_t merged = 0;
    for (size_t i = 0; i < count; i++) {
        if (merged > 0 && eg_point_id_compare(&fused[merged - 1].id, &items[i].id) == 0)
            fused[merged - 1].score += items[i].score;
        else
            fused[merged++] = (eg_fused){items[i].id, items[i].score};
    }
    qsort(fused, merged, sizeof *fused, compare_fused);
    *out = fused;
    *out_count = merged;
    return true;
}

static float rrf_share(size_t position, size_t k, float weight) {
    if (weight <= 0.0f) return 0.0f;
    return 1.0f / ((float)(position + 1) / weight + (float)k - 1.0f);
}

bool eg_fuse_rrf(const eg_ranking *rankings, size_t n, size_t k, const float *weights, eg_fused **out,
                 size_t *out_count) {
    *out = NULL;
    *out_count = 0;
    size_t total = total_listings(rankings, n), at = 0;
    if (total == 0) return true;
    contribution *items = malloc(total * sizeof *items);
    if (!items) return false;
    for (size_t r = 0; r < n; r++)
        for (size_t p = 0; p < rankings[r].count; p++)
            items[at++] = (contribution){rankings[r].ids[p], r, p, rrf_share(p, k, weights ? weights[r] : 1.0f)};
    bool ok = merge(items, total, out, out_count);
    free(items);
    return ok;
}

/* The DBSF scores of one ranking into items (its count entries), as Qdrant's distr_norm computes them: Welford's
 * running mean and sample variance, in float32. */
static void dbsf_normalise(const eg_ranking *ranking, size_t r, contribution *items) {
    size_t n = ranking->count;
    for (size_t p = 0; p < n; p++) items[p] = (contribution){ranking->ids[p], r, p, 0.5f};
    if (n < 2) return;
    float mean = 0.0f, aggregate = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float old_delta = ranking->scores[i] - mean;
        mean += old_delta / (float)(i + 1);
        aggregate += old_delta * (ranking->scores[i] - mean);
    }
    float deviation = sqrtf(aggregate / ((float)n - 1.0f));
    float low = mean - 3.0f * deviation, high = mean + 3.0f * deviation;
    if (low == high) return;
    for (size_t p = 0; p < n; p++) items[p].score = (ranking->scores[p] - low) / (high - low);
}

bool eg_fuse_dbsf(const eg_ranking *rankings, size_t n, eg_fused **out, size_t *out_count) {
    *out = NULL;
    *out_count = 0;
    size_t total = total_listings(rankings, n), at = 0;
    if (total == 0) return true;
    contribution *items = malloc(total * sizeof *items);
    if (!items) return false;
    for (size_t r = 0; r < n; r++) {
        dbsf_normalise(&rankings[r], r, items + at);
        at += rankings[r].count;
    }
    bool ok = merge(items, total, out, out_count);
    free(items);
    return ok;
}
