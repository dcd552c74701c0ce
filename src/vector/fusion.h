/* fusion.h — fusing several rankings of points into one, exactly as Qdrant fuses the results of a query's
 * prefetches: reciprocal rank fusion (RRF) and distribution-based score fusion (DBSF). engram's own hybrid search
 * fuses with the same RRF, because the system it replaces ranked its hybrid results through Qdrant's.
 *
 * The arithmetic is Qdrant's, in float32 and in the same order, so fused scores match Qdrant's to the bit:
 * - RRF: a point at position p (from 0) of a ranking with weight w earns 1 / ((p + 1) / w + k - 1), which is
 *   1 / (p + k) at weight 1; a weight of 0 or less earns 0. Its score is the sum over the rankings listing it,
 *   added in ranking order. The rankings' own scores are not used.
 * - DBSF: each ranking's scores are mapped to (s - (mean - 3 sd)) / (6 sd), mean and sd its sample mean and sample
 *   standard deviation (n - 1), with no clamping (a score beyond 3 sd falls outside [0, 1]); a ranking of one
 *   point, or whose scores are all equal, gives each point 0.5. A point's score is the sum over the rankings.
 *   Scores are taken as higher-is-better whatever the distance (as Qdrant does: a Euclid ranking's larger
 *   distances normalise higher).
 * The result is best first by fused score; Qdrant leaves equal scores in no particular order, engram orders them
 * by id ascending so that answers are reproducible. */
#ifndef ENGRAM_VECTOR_FUSION_H
#define ENGRAM_VECTOR_FUSION_H

#include <engram/vectors.h>

#include <stdbool.h>
#include <stddef.h>

#define EG_RRF_K_DEFAULT 2 /* Qdrant's DEFAULT_RRF_K */

/* One ranking, best first. scores (count values) is read by DBSF only and may be NULL for RRF. */
typedef struct eg_ranking {
    const eg_point_id *ids;
    const float *scores;
    size_t count;
} eg_ranking;

typedef struct eg_fused {
    eg_point_id id;
    float score;
} eg_fused;

/* RRF of n rankings with constant k (>= 1) and one weight per ranking (NULL: all 1). *out (NULL when every
 * ranking is empty) is the caller's to free(); *out_count gets its length. False when out of memory. */
bool eg_fuse_rrf(const eg_ranking *rankings, size_t n, size_t k, const float *weights, eg_fused **out,
                 size_t *out_count);

/* DBSF of n rankings (scores required); as eg_fuse_rrf otherwise. */
bool eg_fuse_dbsf(const eg_ranking *rankings, size_t n, eg_fused **out, size_t *out_count);

#endif
