/* hnsw.c — the HNSW graph of hnsw.h: storage, the layer search, insert with the neighbour-selection heuristic,
 * removal with repair, and the scratch pool that lets searches run side by side.
 *
 * Invariants
 * - Slot i (i < slots) owns row i of `vectors` (stride floats, 64-byte aligned), block i of `links0` (a count then
 *   m0 labels) and nodes[i]; nodes[i].upper holds `level` blocks of (count, m labels) for layers 1..level.
 * - Internally every comparison uses a distance where smaller is better: the score for Euclid and Manhattan, its
 *   negation for Cosine and Dot, so that -dist gives the score back exactly. Equal distances order by label.
 * - A link may point to a tombstone (SLOT_REMOVED) or, after a slot was re-added with a lower level, to a slot
 *   that no longer lives on that layer: walks skip the latter, and only SLOT_LIVE points enter results or links.
 * - When live > 0, entry is a live point of the highest level among live points, and top_level is its level. */
#include "vector/hnsw.h"

#include "vector/distance.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LEVEL_MAX 32           /* levels above log_M(2^32) never occur; a cap keeps a freak draw harmless */
#define ROW_ALIGN 64           /* a cache line: rows start on one, and AVX2 loads never straddle two needlessly */
#define GROWTH_MIN 1024        /* first allocation in slots, so small indexes do not reallocate per insert */
#define DEFAULT_SEED 0x9e3779b97f4a7c15ULL

enum { SLOT_EMPTY = 0, SLOT_LIVE, SLOT_REMOVED };

typedef struct node {
    uint32_t *upper; /* layers 1..level, (1 + m) words each; NULL when level is 0 */
    uint8_t level;
    uint8_t state;
} node;

typedef struct cand {
    float dist;
    uint32_t id;
} cand;

/* One search's (or one write's) working memory. visited[i] == stamp marks slot i seen by the current walk, so
 * starting a walk is one increment, not a clear. */
typedef struct scratch {
    uint32_t *visited;
    size_t visited_cap;
    uint32_t stamp;
    cand *frontier; /* min-heap: the nearest unexpanded candidate on top */
    size_t frontier_n, frontier_cap;
    cand *best; /* max-heap of at most ef eligible points: the worst kept on top */
    size_t best_n, best_cap;
    cand *work; /* candidate lists for link selection */
    size_t work_cap;
    uint32_t *chosen; /* the heuristic's output */
    struct scratch *next;
} scratch;

struct eg_hnsw {
    size_t dim, stride; /* stride: floats per row, dim rounded up to ROW_ALIGN bytes */
    eg_distance distance;
    bool higher_is_better;
    uint32_t m, m0, ef_construct;
    double level_mult; /* 1 / ln(m) */
    uint64_t rng;
    size_t capacity, slots, live, removed; /* removed: tombstones */
    float *vectors;
    uint32_t *links0;
    node *nodes;
    uint32_t entry;
    int top_level;
    size_t upper_bytes;
    pthread_mutex_t pool_lock; /* guards pool */
    scratch *pool;
    _Atomic size_t scratch_bytes; /* held by pooled scratches; atomic so memory_bytes needs no lock */
};

typedef struct filter {
    bool (*accept)(void *ctx, uint32_t label);
    void *ctx;
    uint32_t exclude; /* a slot never eligible (the point being inserted), or UINT32_MAX */
    bool tombstones;  /* the graph has removed points: check each state (a cache miss the common case skips) */
} filter;

/* ---- Storage -------------------------------------------------------------------------------------------- */

static inline const float *row(const eg_hnsw *h, uint32_t id) { return h->vectors + (size_t)id * h->stride; }

static inline uint32_t *links_at(const eg_hnsw *h, uint32_t id, int level) {
    if (level == 0) return h->links0 + (size_t)id * (1 + h->m0);
    return h->nodes[id].upper + (size_t)(level - 1) * (1 + h->m);
}

static inline uint32_t layer_cap(const eg_hnsw *h, int level) { return level == 0 ? h->m0 : h->m; }

static inline float dist_to(const eg_hnsw *h, const float *q, uint32_t id) {
    float s = eg_vec_score(h->distance, q, row(h, id), h->dim);
    return h->higher_is_better ? -s : s;
}

static inline bool on_layer(const eg_hnsw *h, uint32_t id, int level) {
    return level == 0 || (h->nodes[id].state != SLOT_EMPTY && h->nodes[id].level >= level);
}

/* Only live points may be eligible; empty slots are never linked, and the point being inserted is excluded. */
static inline bool eligible(const eg_hnsw *h, const filter *f, uint32_t id) {
    if (id == f->exclude || (f->tombstones && h->nodes[id].state != SLOT_LIVE)) return false;
    return !f->accept || f->accept(f->ctx, id);
}

/* Makes room for slots [0, need); new slots are empty. Everything or nothing is reallocated. */
static bool reserve(eg_hnsw *h, size_t need) {
    if (need <= h->capacity) return true;
    size_t cap = h->capacity ? h->capacity : GROWTH_MIN;
    while (cap < need) cap *= 2;
    float *v = aligned_alloc(ROW_ALIGN, cap * h->stride * sizeof(float));
    uint32_t *l0 = realloc(h->links0, cap * (1 + h->m0) * sizeof(uint32_t));
    if (l0) h->links0 = l0;
    node *n = realloc(h->nodes, cap * sizeof(node));
    if (n) h->nodes = n;
    if (!v || !l0 || !n) {
        free(v);
        return false;
    }
    if (h->vectors) memcpy(v, h->vectors, h->slots * h->stride * sizeof(float));
    free(h->vectors);
    h->vectors = v;
    memset(h->nodes + h->capacity, 0, (cap - h->capacity) * sizeof(node));
    h->capacity = cap;
    return true;
}

/* ---- Scratch pool --------------------------------------------------------------------------------------- */

static bool grow_cands(cand **a, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap * 2 : 256;
    while (c < need) c *= 2;
    cand *n = realloc(*a, c * sizeof(cand));
    if (!n) return false;
    *a = n;
    *cap = c;
    return true;
}

static void scratch_free(scratch *s) {
    free(s->visited);
    free(s->frontier);
    free(s->best);
    free(s->work);
    free(s->chosen);
    free(s);
}

static size_t scratch_size(const scratch *s) {
    return sizeof(*s) + s->visited_cap * sizeof(uint32_t) +
           (s->frontier_cap + s->best_cap + s->work_cap) * sizeof(cand);
}

/* A scratch with visited marks for every slot; NULL when out of memory. */
static scratch *scratch_take(eg_hnsw *h) {
    pthread_mutex_lock(&h->pool_lock);
    scratch *s = h->pool;
    if (s) {
        h->pool = s->next;
        h->scratch_bytes -= scratch_size(s);
    }
    pthread_mutex_unlock(&h->pool_lock);
    if (!s) {
        s = calloc(1, sizeof(*s));
        s->chosen = s ? malloc(h->m0 * sizeof(uint32_t)) : NULL;
        if (!s || !s->chosen || !grow_cands(&s->work, &s->work_cap, (size_t)h->ef_construct + 2 * h->m0 + 1)) {
            if (s) scratch_free(s);
            return NULL;
        }
    }
    if (s->visited_cap < h->capacity) {
        free(s->visited);
        s->visited = calloc(h->capacity, sizeof(uint32_t));
        s->visited_cap = s->visited ? h->capacity : 0;
        s->stamp = 0;
        if (!s->visited) {
            scratch_free(s);
            return NULL;
        }
    }
    return s;
}

static void scratch_give(eg_hnsw *h, scratch *s) {
    pthread_mutex_lock(&h->pool_lock);
    s->next = h->pool;
    h->pool = s;
    h->scratch_bytes += scratch_size(s);
    pthread_mutex_unlock(&h->pool_lock);
}

/* Starts a walk: all slots unvisited. The stamp wraps after 2^32 walks; then the marks are cleared once. */
static void new_walk(scratch *s) {
    if (++s->stamp == 0) {
        memset(s->visited, 0, s->visited_cap * sizeof(uint32_t));
        s->stamp = 1;
    }
    s->frontier_n = s->best_n = 0;
}

/* Marks id visited; false when it already was. */
static inline bool visit(scratch *s, uint32_t id) {
    if (s->visited[id] == s->stamp) return false;
    s->visited[id] = s->stamp;
    return true;
}

/* ---- Heaps ---------------------------------------------------------------------------------------------- */

static inline bool cand_less(cand a, cand b) { return a.dist < b.dist || (a.dist == b.dist && a.id < b.id); }

/* In a max-heap the worse candidate rises; in a min-heap the better one. */
static inline bool rises(bool max_heap, cand a, cand b) { return max_heap ? cand_less(b, a) : cand_less(a, b); }

static inline void heap_push(cand *heap, size_t *n, cand c, bool max_heap) {
    size_t i = (*n)++;
    while (i > 0 && rises(max_heap, c, heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = c;
}

static inline cand heap_pop(cand *heap, size_t *n, bool max_heap) {
    cand top = heap[0], last = heap[--*n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *n) break;
        if (child + 1 < *n && rises(max_heap, heap[child + 1], heap[child])) child++;
        if (!rises(max_heap, heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (*n > 0) heap[i] = last;
    return top;
}

/* Empties the best heap into out (room for best_n), nearest first; returns the count. */
static size_t drain_sorted(scratch *s, cand *out) {
    size_t n = s->best_n;
    for (size_t i = n; i > 0; i--) out[i - 1] = heap_pop(s->best, &s->best_n, true);
    return n;
}

static int cand_compare(const void *a, const void *b) {
    cand x = *(const cand *)a, y = *(const cand *)b;
    return cand_less(x, y) ? -1 : cand_less(y, x) ? 1 : 0;
}

/* ---- Walks ---------------------------------------------------------------------------------------------- */

/* Greedy descent (the paper's search with ef = 1) from layer `from` down to layer `to` + 1: on each layer, moves
 * to the nearest neighbour while that gets closer to q. Tombstones count as stepping stones. */
static uint32_t descend(const eg_hnsw *h, const float *q, uint32_t ep, int from, int to) {
    float best = dist_to(h, q, ep);
    for (int level = from; level > to; level--) {
        for (bool moved = true; moved;) {
            moved = false;
            const uint32_t *links = links_at(h, ep, level);
            for (uint32_t j = 1; j <= links[0]; j++) {
                uint32_t id = links[j];
                if (!on_layer(h, id, level)) continue;
                float d = dist_to(h, q, id);
                if (d < best) {
                    best = d;
                    ep = id;
                    moved = true;
                }
            }
        }
    }
    return ep;
}

/* Fetches the start of a row into cache: rows are scattered, so a walk is bound by memory latency, and asking for
 * all of a candidate's unvisited neighbours before scoring the first lets their loads overlap. */
static inline void prefetch_row(const eg_hnsw *h, uint32_t id) {
    const char *p = (const char *)row(h, id);
    __builtin_prefetch(p);
    __builtin_prefetch(p + ROW_ALIGN);
}

/* Offers neighbour c to the beam. */
static bool offer(const eg_hnsw *h, scratch *s, const filter *f, size_t ef, cand c) {
    if (s->best_n >= ef && !cand_less(c, s->best[0])) return true;
    if (!grow_cands(&s->frontier, &s->frontier_cap, s->frontier_n + 1)) return false;
    heap_push(s->frontier, &s->frontier_n, c, false);
    if (!eligible(h, f, c.id)) return true;
    heap_push(s->best, &s->best_n, c, true);
    if (s->best_n > ef) heap_pop(s->best, &s->best_n, true);
    return true;
}

/* The paper's SEARCH-LAYER, from ep on `level`, leaving up to ef eligible points in s->best. Ineligible points
 * are expanded like any other; the walk stops when the nearest unexpanded candidate is farther than the worst of
 * ef eligible ones, so with a filter it goes on until it has ef matches or runs out of graph. False when out of
 * memory. */
static bool search_layer(const eg_hnsw *h, scratch *s, const float *q, uint32_t ep, size_t ef, int level,
                         const filter *f) {
    new_walk(s);
    if (!grow_cands(&s->best, &s->best_cap, ef + 1)) return false;
    visit(s, ep);
    if (!offer(h, s, f, ef, (cand){dist_to(h, q, ep), ep})) return false;
    while (s->frontier_n > 0) {
        if (s->best_n >= ef && cand_less(s->best[0], s->frontier[0])) break;
        cand c = heap_pop(s->frontier, &s->frontier_n, false);
        if (s->frontier_n > 0) __builtin_prefetch(links_at(h, s->frontier[0].id, level)); /* likely next */
        const uint32_t *links = links_at(h, c.id, level);
        uint32_t fresh[2 * EG_HNSW_M_MAX], n = 0;
        for (uint32_t j = 1; j <= links[0]; j++) {
            uint32_t id = links[j];
            if (!on_layer(h, id, level) || !visit(s, id)) continue;
            prefetch_row(h, id);
            fresh[n++] = id;
        }
        for (uint32_t j = 0; j < n; j++)
            if (!offer(h, s, f, ef, (cand){dist_to(h, q, fresh[j]), fresh[j]})) return false;
    }
    return true;
}

/* ---- Link selection ------------------------------------------------------------------------------------- */

/* The paper's SELECT-NEIGHBORS-HEURISTIC over cands (sorted nearest first by distance to the base point): keeps
 * a candidate only if it is nearer the base than every one kept so far, up to max. Returns the count written to
 * s->chosen. */
static uint32_t select_neighbours(const eg_hnsw *h, scratch *s, const cand *cands, size_t n, uint32_t max) {
    uint32_t kept = 0;
    for (size_t i = 0; i < n && kept < max; i++) {
        const float *v = row(h, cands[i].id);
        bool diverse = true;
        for (uint32_t j = 0; j < kept && diverse; j++) diverse = dist_to(h, v, s->chosen[j]) >= cands[i].dist;
        if (diverse) s->chosen[kept++] = cands[i].id;
    }
    return kept;
}

static void write_links(uint32_t *links, const uint32_t *ids, uint32_t n) {
    memcpy(links + 1, ids, n * sizeof(uint32_t));
    links[0] = n;
}

/* Adds to s->work (of length *n) each live, on-layer id of links that is not `skip` and not yet there (marks in
 * the current walk). */
static void gather(const eg_hnsw *h, scratch *s, const uint32_t *links, uint32_t base, uint32_t skip, int level,
                   size_t *n) {
    for (uint32_t j = 1; j <= links[0]; j++) {
        uint32_t id = links[j];
        if (id == skip || id == base || h->nodes[id].state != SLOT_LIVE || !on_layer(h, id, level)) continue;
        if (!visit(s, id)) continue;
        s->work[(*n)++] = (cand){dist_to(h, row(h, base), id), id};
    }
}

/* Rebuilds base's links on level from its current links, `extra` (another list, or NULL) and `add` (a slot, or
 * UINT32_MAX), dropping `skip` and dead points, by the heuristic. */
static void relink(const eg_hnsw *h, scratch *s, uint32_t base, const uint32_t *extra, uint32_t add, uint32_t skip,
                   int level) {
    uint32_t *links = links_at(h, base, level);
    size_t n = 0;
    new_walk(s);
    gather(h, s, links, base, skip, level, &n);
    if (extra) gather(h, s, extra, base, skip, level, &n);
    if (add != UINT32_MAX && visit(s, add)) s->work[n++] = (cand){dist_to(h, row(h, base), add), add};
    qsort(s->work, n, sizeof(cand), cand_compare);
    write_links(links, s->chosen, select_neighbours(h, s, s->work, n, layer_cap(h, level)));
}

/* Makes id a neighbour of base on level: appended while there is room, else base's list is re-selected. */
static void link_back(const eg_hnsw *h, scratch *s, uint32_t base, uint32_t id, int level) {
    uint32_t *links = links_at(h, base, level);
    for (uint32_t j = 1; j <= links[0]; j++)
        if (links[j] == id) return;
    if (links[0] < layer_cap(h, level)) {
        links[++links[0]] = id;
        return;
    }
    relink(h, s, base, NULL, id, UINT32_MAX, level);
}

/* ---- Insert --------------------------------------------------------------------------------------------- */

static int draw_level(eg_hnsw *h) {
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    uint64_t r = h->rng * 0x2545f4914f6cdd1dULL;
    double u = ((double)(r >> 11) + 1.0) / 9007199254740992.0; /* (0, 1] */
    double level = floor(-log(u) * h->level_mult);
    return level < LEVEL_MAX ? (int)level : LEVEL_MAX;
}

/* Gives slot id a fresh level with empty link lists. */
static bool reset_node(eg_hnsw *h, uint32_t id, int level) {
    node *n = &h->nodes[id];
    uint32_t *upper = NULL;
    if (level > 0 && !(upper = calloc((size_t)level * (1 + h->m), sizeof(uint32_t)))) return false;
    if (n->upper) h->upper_bytes -= (size_t)n->level * (1 + h->m) * sizeof(uint32_t);
    free(n->upper);
    n->upper = upper;
    n->level = (uint8_t)level;
    h->upper_bytes += (size_t)level * (1 + h->m) * sizeof(uint32_t);
    links_at(h, id, 0)[0] = 0;
    return true;
}

/* The paper's INSERT for slot id, whose row and level are set: descend to its level, then on each layer below
 * search ef_construct candidates, link to the heuristic's choice and link them back. */
static bool connect(eg_hnsw *h, scratch *s, uint32_t id) {
    int level = h->nodes[id].level;
    const float *q = row(h, id);
    filter f = {NULL, NULL, id, h->removed > 0};
    uint32_t ep = descend(h, q, h->entry, h->top_level, level);
    for (int lc = level < h->top_level ? level : h->top_level; lc >= 0; lc--) {
        if (!search_layer(h, s, q, ep, h->ef_construct, lc, &f)) return false;
        size_t n = drain_sorted(s, s->work);
        if (n == 0) continue;
        ep = s->work[0].id; /* the next layer starts from the nearest; link_back reuses s->work and s->chosen */
        uint32_t kept = select_neighbours(h, s, s->work, n, h->m);
        write_links(links_at(h, id, lc), s->chosen, kept);
        uint32_t chosen[EG_HNSW_M_MAX];
        memcpy(chosen, s->chosen, kept * sizeof(uint32_t));
        for (uint32_t j = 0; j < kept; j++) link_back(h, s, chosen[j], id, lc);
    }
    return true;
}

static bool all_finite(const float *v, size_t dim) {
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(v[i])) return false;
    return true;
}

eg_status eg_hnsw_add(eg_hnsw *h, uint32_t label, const float *vector, eg_error *err) {
    if (!h || !vector) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add: index and vector are required");
    if (label > EG_HNSW_LABEL_MAX) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add: label out of range");
    if (!all_finite(vector, h->dim))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add: vector of label %u has a non-finite value", label);
    if (label < h->slots && h->nodes[label].state == SLOT_LIVE)
        return eg_error_set(err, EG_CONFLICT, "hnsw add: label %u is present", label);
    if (!reserve(h, (size_t)label + 1)) return eg_error_set(err, EG_INTERNAL, "hnsw add: out of memory");
    scratch *s = scratch_take(h);
    int level = draw_level(h);
    if (!s || !reset_node(h, label, level)) {
        if (s) scratch_give(h, s);
        return eg_error_set(err, EG_INTERNAL, "hnsw add: out of memory");
    }
    if (label >= h->slots) h->slots = (size_t)label + 1;
    float *r = h->vectors + (size_t)label * h->stride;
    memcpy(r, vector, h->dim * sizeof(float));
    memset(r + h->dim, 0, (h->stride - h->dim) * sizeof(float));
    bool ok = h->live == 0 || connect(h, s, label);
    scratch_give(h, s);
    if (h->nodes[label].state == SLOT_REMOVED) h->removed--;
    if (!ok) { /* some points may link to it already: a tombstone keeps it out of results */
        h->nodes[label].state = SLOT_REMOVED;
        h->removed++;
        return eg_error_set(err, EG_INTERNAL, "hnsw add: out of memory");
    }
    h->nodes[label].state = SLOT_LIVE;
    if (h->live++ == 0 || level > h->top_level) {
        h->entry = label;
        h->top_level = level;
    }
    return EG_OK;
}

/* ---- Remove --------------------------------------------------------------------------------------------- */

/* After the entry point was removed: the live point of highest level, lowest label among equals. */
static void choose_entry(eg_hnsw *h) {
    int top = -1;
    for (size_t i = 0; i < h->slots; i++) {
        if (h->nodes[i].state == SLOT_LIVE && h->nodes[i].level > top) {
            top = h->nodes[i].level;
            h->entry = (uint32_t)i;
        }
    }
    h->top_level = top < 0 ? 0 : top;
}

static bool holds(const uint32_t *links, uint32_t id) {
    for (uint32_t j = 1; j <= links[0]; j++)
        if (links[j] == id) return true;
    return false;
}

eg_status eg_hnsw_remove(eg_hnsw *h, uint32_t label, eg_error *err) {
    if (!h) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw remove: index is required");
    if (!eg_hnsw_contains(h, label))
        return eg_error_set(err, EG_NOT_FOUND, "hnsw remove: label %u is not present", label);
    scratch *s = scratch_take(h);
    if (!s) return eg_error_set(err, EG_INTERNAL, "hnsw remove: out of memory");
    h->nodes[label].state = SLOT_REMOVED;
    h->live--;
    h->removed++;
    for (int lc = 0; lc <= h->nodes[label].level; lc++) {
        const uint32_t *links = links_at(h, label, lc);
        for (uint32_t j = 1; j <= links[0]; j++) {
            uint32_t n = links[j];
            if (h->nodes[n].state != SLOT_LIVE || !on_layer(h, n, lc) || !holds(links_at(h, n, lc), label)) continue;
            relink(h, s, n, links, UINT32_MAX, label, lc);
        }
    }
    scratch_give(h, s);
    if (label == h->entry) choose_entry(h);
    return EG_OK;
}

/* ---- Search --------------------------------------------------------------------------------------------- */

eg_status eg_hnsw_search(eg_hnsw *h, const float *query, size_t k, size_t ef,
                         bool (*accept)(void *ctx, uint32_t label), void *ctx, eg_hnsw_hit *out, size_t *found,
                         eg_error *err) {
    if (!h || !query || !found || (k > 0 && !out))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw search: index, query, found and out are required");
    *found = 0;
    if (k == 0 || h->live == 0) return EG_OK;
    if (ef < k) ef = k;
    scratch *s = scratch_take(h);
    filter f = {accept, ctx, UINT32_MAX, h->removed > 0};
    bool ok = s && grow_cands(&s->work, &s->work_cap, ef + 1);
    if (ok) {
        uint32_t ep = descend(h, query, h->entry, h->top_level, 0);
        ok = search_layer(h, s, query, ep, ef, 0, &f);
    }
    if (ok) {
        size_t n = drain_sorted(s, s->work);
        for (size_t i = 0; i < n && i < k; i++)
            out[i] = (eg_hnsw_hit){s->work[i].id, h->higher_is_better ? -s->work[i].dist : s->work[i].dist};
        *found = n < k ? n : k;
    }
    if (s) scratch_give(h, s);
    return ok ? EG_OK : eg_error_set(err, EG_INTERNAL, "hnsw search: out of memory");
}

/* ---- Life cycle ----------------------------------------------------------------------------------------- */

eg_hnsw_params eg_hnsw_params_default(void) {
    return (eg_hnsw_params){EG_HNSW_M_DEFAULT, EG_HNSW_EF_CONSTRUCT_DEFAULT, DEFAULT_SEED, 0};
}

static eg_status check_params(size_t dim, eg_distance distance, const eg_hnsw_params *p, eg_error *err) {
    if (dim == 0 || dim > EG_VECTOR_DIM_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw: dimension must be 1..%d", EG_VECTOR_DIM_MAX);
    if ((unsigned)distance > EG_DISTANCE_MANHATTAN)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw: unknown distance");
    if (p->m < 2 || p->m > EG_HNSW_M_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw: m must be 2..%d", EG_HNSW_M_MAX);
    if (p->ef_construct == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw: ef_construct must be >= 1");
    return EG_OK;
}

eg_status eg_hnsw_new(size_t dim, eg_distance distance, const eg_hnsw_params *p, eg_hnsw **out, eg_error *err) {
    eg_hnsw_params defaults = eg_hnsw_params_default();
    if (!p) p = &defaults;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw: out is required");
    eg_status st = check_params(dim, distance, p, err);
    if (st != EG_OK) return st;
    eg_hnsw *h = calloc(1, sizeof(*h));
    if (!h) return eg_error_set(err, EG_INTERNAL, "hnsw: out of memory");
    size_t per_line = ROW_ALIGN / sizeof(float);
    *h = (eg_hnsw){.dim = dim, .stride = (dim + per_line - 1) / per_line * per_line, .distance = distance,
                   .higher_is_better = eg_distance_higher_is_better(distance), .m = p->m, .m0 = 2 * p->m,
                   .ef_construct = p->ef_construct, .level_mult = 1.0 / log((double)p->m),
                   .rng = p->seed ? p->seed : DEFAULT_SEED};
    if (pthread_mutex_init(&h->pool_lock, NULL) != 0 || !reserve(h, p->capacity)) {
        eg_hnsw_free(h);
        return eg_error_set(err, EG_INTERNAL, "hnsw: out of memory");
    }
    *out = h;
    return EG_OK;
}

void eg_hnsw_free(eg_hnsw *h) {
    if (!h) return;
    for (size_t i = 0; i < h->capacity; i++) free(h->nodes[i].upper);
    while (h->pool) {
        scratch *s = h->pool;
        h->pool = s->next;
        scratch_free(s);
    }
    pthread_mutex_destroy(&h->pool_lock);
    free(h->vectors);
    free(h->links0);
    free(h->nodes);
    free(h);
}

size_t eg_hnsw_count(const eg_hnsw *h) { return h ? h->live : 0; }

bool eg_hnsw_contains(const eg_hnsw *h, uint32_t label) {
    return h && label < h->slots && h->nodes[label].state == SLOT_LIVE;
}

size_t eg_hnsw_memory_bytes(const eg_hnsw *h) {
    if (!h) return 0;
    size_t per_slot = h->stride * sizeof(float) + (1 + h->m0) * sizeof(uint32_t) + sizeof(node);
    return sizeof(*h) + h->slots * per_slot + h->upper_bytes + atomic_load(&h->scratch_bytes);
}
