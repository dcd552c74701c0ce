/* hnsw.c — the HNSW graph of hnsw.h: storage, the layer search, insert with the neighbour-selection heuristic,
 * threaded batch inserts, removal with repair, and the scratch pool that lets searches run side by side.
 * Memory layout and locking words: hnsw_internal.h.
 *
 * Invariants
 * - Internally every comparison uses a distance where smaller is better: the negated dot product for Cosine and
 *   Dot, the squared distance for Euclid (float rows; int8 scoring yields the distance itself), the distance for
 *   Manhattan. Equal distances order by label.
 * - A link may point to a tombstone (SLOT_REMOVED) or, after a slot was re-added with a lower level, to a slot
 *   that no longer lives on that layer: walks skip the latter; only present points (joining or live) enter links,
 *   and only those enter results.
 * - When live > 0, entry names a present point whose level is the highest among present points. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writers must not starve behind a stream of searches */
#include "vector/hnsw_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GROWTH_MIN 1024 /* first allocation in slots, so small indexes do not reallocate per insert */
#define DEFAULT_SEED 0x9e3779b97f4a7c15ULL
#define BATCH_PER_THREAD 64 /* fewer points than this per thread are not worth a thread */

typedef struct cand {
    float dist;
    uint32_t id;
} cand;

/* One walk's (a search's or an insert's) working memory. visited[i] == stamp marks slot i seen by the current
 * walk, so starting a walk is one increment, not a clear; 16-bit marks keep the array small enough to stay in
 * cache. */
struct hnsw_scratch {
    uint16_t *visited;
    size_t visited_cap;
    uint16_t stamp;
    cand *frontier; /* min-heap: the nearest unexpanded candidate on top */
    size_t frontier_n, frontier_cap;
    cand *best; /* max-heap of at most ef eligible points: the worst kept on top */
    size_t best_n, best_cap;
    cand *work; /* candidate lists for link selection */
    size_t work_cap;
    uint32_t *chosen;  /* the heuristic's output */
    float *decoded[3]; /* int8: rows decoded for pairwise distances (candidate, other, base) */
    hnsw_scratch *next;
};
typedef hnsw_scratch scratch;

/* What a walk measures distances from: a float vector, scored against rows by the float kernel or, for int8
 * rows, through the codec's prepared query. */
typedef struct probe {
    const float *q;
    eg_vec_kernel kernel;
    eg_sq8_query sq;
    bool prepared;
} probe;

typedef struct filter {
    bool (*accept)(void *ctx, uint32_t label);
    void *ctx;
    uint32_t exclude; /* a slot never eligible (the point being inserted), or UINT32_MAX */
    bool tombstones;  /* the graph has removed points: check each state (a cache miss the common case skips) */
} filter;

/* ---- Distances ------------------------------------------------------------------------------------------ */

/* A kernel result (dot, squared L2 or L1 of float vectors) as an internal distance. */
static inline float from_kernel(const eg_hnsw *h, float k) {
    if (h->higher_is_better) return -k;
    return h->int8 && h->distance == EG_DISTANCE_EUCLID ? sqrtf(k) : k;
}

static eg_status probe_init(const eg_hnsw *h, const float *q, probe *p, eg_error *err) {
    *p = (probe){q, eg_vec_kernel_for(h->distance), {0}, false};
    if (!h->int8) return EG_OK;
    eg_status st = eg_sq8_prepare(&h->codec, h->distance, q, &p->sq, err);
    p->prepared = st == EG_OK;
    return st;
}

static void probe_clear(probe *p) {
    if (p->prepared) eg_sq8_query_clear(&p->sq);
    p->prepared = false;
}

static inline float probe_dist(const eg_hnsw *h, const probe *p, uint32_t id) {
    if (!h->int8) return from_kernel(h, p->kernel(p->q, (const float *)hnsw_row(h, id), h->dim));
    float s = eg_sq8_score(&p->sq, hnsw_row(h, id));
    return h->higher_is_better ? -s : s;
}

/* The float vector of a row: the row itself, or its codes decoded into buf. */
static inline const float *row_floats(const eg_hnsw *h, uint32_t id, float *buf) {
    if (!h->int8) return (const float *)hnsw_row(h, id);
    eg_sq8_decode(&h->codec, hnsw_row(h, id), buf);
    return buf;
}

/* Distance between a float vector v and row id (pairwise, for link selection). */
static inline float pair_dist(const eg_hnsw *h, scratch *s, eg_vec_kernel kernel, const float *v, uint32_t id) {
    return from_kernel(h, kernel(v, row_floats(h, id, s->decoded[1]), h->dim));
}

/* Internal distance back to a score. */
static inline float dist_to_score(const eg_hnsw *h, float dist) {
    if (h->higher_is_better) return -dist;
    return !h->int8 && h->distance == EG_DISTANCE_EUCLID ? sqrtf(dist) : dist;
}

/* ---- Reading links ---------------------------------------------------------------------------------------- */

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Copies id's list on level into out (room for m0 labels) and returns its length: between two reads of id's
 * sequence counter that are equal and even, so the copy is a list some writer left whole. */
static uint32_t read_links(const eg_hnsw *h, uint32_t id, int level, uint32_t *out) {
    const uint32_t *links = hnsw_links(h, id, level);
    uint32_t cap = level == 0 ? h->m0 : h->m;
    for (;;) {
        uint32_t before = atomic_load_explicit(&h->seq[id], memory_order_acquire);
        if (before & 1) {
            cpu_relax();
            continue;
        }
        uint32_t n = __atomic_load_n(&links[0], __ATOMIC_RELAXED);
        if (n > cap) n = cap; /* a torn count is caught below; never let it overrun out */
        for (uint32_t j = 0; j < n; j++) out[j] = __atomic_load_n(&links[1 + j], __ATOMIC_RELAXED);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&h->seq[id], memory_order_relaxed) == before) return n;
    }
}

static void lock_links(const eg_hnsw *h, uint32_t id) {
    for (;;) {
        uint32_t v = atomic_load_explicit(&h->seq[id], memory_order_relaxed);
        if (!(v & 1) && atomic_compare_exchange_weak_explicit(&h->seq[id], &v, v + 1, memory_order_acquire,
                                                              memory_order_relaxed))
            break;
        cpu_relax();
    }
    atomic_thread_fence(memory_order_release); /* the odd counter is visible before any list word changes */
}

static void unlock_links(const eg_hnsw *h, uint32_t id) {
    atomic_fetch_add_explicit(&h->seq[id], 1, memory_order_release);
}

/* Rewrites a list the caller has locked. */
static void write_links(uint32_t *links, const uint32_t *ids, uint32_t n) {
    for (uint32_t j = 0; j < n; j++) __atomic_store_n(&links[1 + j], ids[j], __ATOMIC_RELAXED);
    __atomic_store_n(&links[0], n, __ATOMIC_RELAXED);
}

static inline uint32_t layer_cap(const eg_hnsw *h, int level) { return level == 0 ? h->m0 : h->m; }

static inline bool on_layer(const eg_hnsw *h, uint32_t id, int level) {
    return level == 0 ||
           (hnsw_state(h, id) != SLOT_EMPTY && __atomic_load_n(&h->nodes[id].level, __ATOMIC_RELAXED) >= level);
}

static inline bool present(uint8_t state) { return state == SLOT_LIVE || state == SLOT_JOINING; }

/* Only present points may be eligible; the point being inserted is excluded. */
static inline bool eligible(const eg_hnsw *h, const filter *f, uint32_t id) {
    if (id == f->exclude || (f->tombstones && !present(hnsw_state(h, id)))) return false;
    return !f->accept || f->accept(f->ctx, id);
}

/* ---- Storage -------------------------------------------------------------------------------------------- */

bool hnsw_reserve(eg_hnsw *h, size_t need) {
    if (need <= h->capacity) return true;
    size_t cap = h->capacity ? h->capacity : GROWTH_MIN;
    while (cap < need) cap *= 2;
    unsigned char *blocks = aligned_alloc(HNSW_ARRAY_ALIGN, cap * h->block_bytes);
    hnsw_node *n = realloc(h->nodes, cap * sizeof(hnsw_node));
    if (n) h->nodes = n;
    _Atomic uint32_t *seq = realloc(h->seq, cap * sizeof *seq);
    if (seq) h->seq = seq;
    if (!blocks || !n || !seq) {
        free(blocks);
        return false;
    }
    if (h->blocks) memcpy(blocks, h->blocks, atomic_load(&h->slots) * h->block_bytes);
    free(h->blocks);
    h->blocks = blocks;
    memset(h->nodes + h->capacity, 0, (cap - h->capacity) * sizeof(hnsw_node));
    for (size_t i = h->capacity; i < cap; i++) atomic_init(&h->seq[i], 0);
    h->capacity = cap;
    return true;
}

/* Grows for label (taking grow_lock for writing only when needed). The caller holds write_lock, not grow_lock. */
static bool ensure_capacity(eg_hnsw *h, size_t need) {
    if (need <= h->capacity) return true;
    pthread_rwlock_wrlock(&h->grow_lock);
    bool ok = hnsw_reserve(h, need);
    pthread_rwlock_unlock(&h->grow_lock);
    return ok;
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
    for (int i = 0; i < 3; i++) free(s->decoded[i]);
    free(s);
}

static size_t scratch_size(const eg_hnsw *h, const scratch *s) {
    return sizeof(*s) + s->visited_cap * sizeof(uint16_t) + (s->frontier_cap + s->best_cap + s->work_cap) * sizeof(cand) +
           h->m0 * sizeof(uint32_t) + (s->decoded[0] ? 3 * h->dim * sizeof(float) : 0);
}

/* A scratch with visited marks for every slot; NULL when out of memory. The caller holds grow_lock (either
 * way), so capacity is stable. */
static scratch *scratch_take(eg_hnsw *h) {
    pthread_mutex_lock(&h->pool_lock);
    scratch *s = h->pool;
    if (s) {
        h->pool = s->next;
        h->scratch_bytes -= scratch_size(h, s);
    }
    pthread_mutex_unlock(&h->pool_lock);
    if (!s) {
        s = calloc(1, sizeof(*s));
        bool ok = s && (s->chosen = malloc(h->m0 * sizeof(uint32_t))) &&
                  grow_cands(&s->work, &s->work_cap, (size_t)h->ef_construct + 2 * h->m0 + 1);
        for (int i = 0; ok && h->int8 && i < 3; i++) ok = (s->decoded[i] = malloc(h->dim * sizeof(float))) != NULL;
        if (!ok) {
            if (s) scratch_free(s);
            return NULL;
        }
    }
    if (s->visited_cap < h->capacity) {
        free(s->visited);
        s->visited = calloc(h->capacity, sizeof(uint16_t));
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
    h->scratch_bytes += scratch_size(h, s);
    pthread_mutex_unlock(&h->pool_lock);
}

/* Starts a walk: all slots unvisited. The stamp wraps after 65535 walks; then the marks are cleared once. */
static void new_walk(scratch *s) {
    if (++s->stamp == 0) {
        memset(s->visited, 0, s->visited_cap * sizeof(uint16_t));
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
 * to the nearest neighbour while that gets closer to the probe. Tombstones count as stepping stones. */
static uint32_t descend(const eg_hnsw *h, const probe *p, uint32_t ep, int from, int to) {
    float best = probe_dist(h, p, ep);
    uint32_t links[EG_HNSW_M_MAX];
    for (int level = from; level > to; level--) {
        for (bool moved = true; moved;) {
            moved = false;
            uint32_t n = read_links(h, ep, level, links);
            for (uint32_t j = 0; j < n; j++) {
                uint32_t id = links[j];
                if (!on_layer(h, id, level)) continue;
                float d = probe_dist(h, p, id);
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
    const char *r = (const char *)hnsw_row(h, id);
    __builtin_prefetch(r);
    if (h->vector_bytes > HNSW_ARRAY_ALIGN) __builtin_prefetch(r + HNSW_ARRAY_ALIGN);
}

/* The rest of a row after the lines prefetch_row asked for, fetched while the row before it is scored (asking
 * for every line of every neighbour at once overflows the CPU's queue of misses; this measured 3-8% faster). */
static inline void prefetch_rest(const eg_hnsw *h, uint32_t id) {
    const char *r = (const char *)hnsw_row(h, id);
    for (size_t off = 2 * HNSW_ARRAY_ALIGN; off < h->vector_bytes; off += HNSW_ARRAY_ALIGN) __builtin_prefetch(r + off);
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
static bool search_layer(const eg_hnsw *h, scratch *s, const probe *p, uint32_t ep, size_t ef, int level,
                         const filter *f) {
    new_walk(s);
    if (!grow_cands(&s->best, &s->best_cap, ef + 1)) return false;
    visit(s, ep);
    if (!offer(h, s, f, ef, (cand){probe_dist(h, p, ep), ep})) return false;
    uint32_t links[2 * EG_HNSW_M_MAX];
    while (s->frontier_n > 0) {
        if (s->best_n >= ef && cand_less(s->best[0], s->frontier[0])) break;
        cand c = heap_pop(s->frontier, &s->frontier_n, false);
        if (s->frontier_n > 0) __builtin_prefetch(hnsw_links(h, s->frontier[0].id, level)); /* likely next */
        uint32_t n = read_links(h, c.id, level, links), fresh = 0;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t id = links[j];
            if (!on_layer(h, id, level) || !visit(s, id)) continue;
            prefetch_row(h, id);
            links[fresh++] = id;
        }
        for (uint32_t j = 0; j < fresh; j++) {
            if (j + 1 < fresh) prefetch_rest(h, links[j + 1]);
            if (!offer(h, s, f, ef, (cand){probe_dist(h, p, links[j]), links[j]})) return false;
        }
    }
    return true;
}

/* ---- Link selection ------------------------------------------------------------------------------------- */

/* The paper's SELECT-NEIGHBORS-HEURISTIC over cands (sorted nearest first by distance to the base point): keeps
 * a candidate only if it is nearer the base than every one kept so far, up to max. Returns the count written to
 * s->chosen. */
static uint32_t select_neighbours(const eg_hnsw *h, scratch *s, eg_vec_kernel kernel, const cand *cands, size_t n,
                                  uint32_t max) {
    uint32_t kept = 0;
    for (size_t i = 0; i < n && kept < max; i++) {
        const float *v = row_floats(h, cands[i].id, s->decoded[0]);
        bool diverse = true;
        for (uint32_t j = 0; j < kept && diverse; j++) diverse = pair_dist(h, s, kernel, v, s->chosen[j]) >= cands[i].dist;
        if (diverse) s->chosen[kept++] = cands[i].id;
    }
    return kept;
}

/* Adds to s->work (of length *n) each present, on-layer id of links[0..count) that is not `skip` and not yet
 * there (marks in the current walk), with its distance from base's vector v. */
static void gather(const eg_hnsw *h, scratch *s, eg_vec_kernel kernel, const float *v, const uint32_t *links,
                   uint32_t count, uint32_t base, uint32_t skip, int level, size_t *n) {
    for (uint32_t j = 0; j < count; j++) {
        uint32_t id = links[j];
        if (id == skip || id == base || !present(hnsw_state(h, id)) || !on_layer(h, id, level)) continue;
        if (!visit(s, id)) continue;
        s->work[(*n)++] = (cand){pair_dist(h, s, kernel, v, id), id};
    }
}

/* Rebuilds base's links on level (the caller holds base's lock) from its current links, `extra` (another list of
 * extra_n labels) and `add` (a slot, or UINT32_MAX), dropping `skip` and points no longer present, by the
 * heuristic. */
static void relink(const eg_hnsw *h, scratch *s, uint32_t base, const uint32_t *extra, uint32_t extra_n, uint32_t add,
                   uint32_t skip, int level) {
    eg_vec_kernel kernel = eg_vec_kernel_for(h->distance);
    const float *v = row_floats(h, base, s->decoded[2]);
    uint32_t *links = hnsw_links(h, base, level);
    size_t n = 0;
    new_walk(s);
    gather(h, s, kernel, v, links + 1, links[0], base, skip, level, &n);
    if (extra) gather(h, s, kernel, v, extra, extra_n, base, skip, level, &n);
    if (add != UINT32_MAX && visit(s, add)) s->work[n++] = (cand){pair_dist(h, s, kernel, v, add), add};
    qsort(s->work, n, sizeof(cand), cand_compare);
    write_links(links, s->chosen, select_neighbours(h, s, kernel, s->work, n, layer_cap(h, level)));
}

/* Makes id a neighbour of base on level: appended while there is room, else base's list is re-selected. */
static void link_back(const eg_hnsw *h, scratch *s, uint32_t base, uint32_t id, int level) {
    lock_links(h, base);
    uint32_t *links = hnsw_links(h, base, level);
    bool known = false;
    for (uint32_t j = 1; j <= links[0] && !known; j++) known = links[j] == id;
    if (!known && links[0] < layer_cap(h, level)) {
        __atomic_store_n(&links[1 + links[0]], id, __ATOMIC_RELAXED);
        __atomic_store_n(&links[0], links[0] + 1, __ATOMIC_RELAXED);
    } else if (!known) {
        relink(h, s, base, NULL, 0, id, UINT32_MAX, level);
    }
    unlock_links(h, base);
}

/* ---- Insert --------------------------------------------------------------------------------------------- */

static int draw_level(eg_hnsw *h) {
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    uint64_t r = h->rng * 0x2545f4914f6cdd1dULL;
    double u = ((double)(r >> 11) + 1.0) / 9007199254740992.0; /* (0, 1] */
    double level = floor(-log(u) * h->level_mult);
    return level < HNSW_LEVEL_MAX ? (int)level : HNSW_LEVEL_MAX;
}

/* Prepares slot id (not reachable by any walk, or the index held exclusively) as a joining point: its row from
 * vector, a fresh level with empty link lists. */
static bool reset_node(eg_hnsw *h, uint32_t id, int level, const float *vector) {
    hnsw_node *n = &h->nodes[id];
    uint32_t *upper = NULL;
    if (level > 0 && !(upper = calloc((size_t)level * (1 + h->m), sizeof(uint32_t)))) return false;
    if (n->upper) h->upper_bytes -= (size_t)n->level * (1 + h->m) * sizeof(uint32_t);
    free(n->upper);
    n->upper = upper;
    __atomic_store_n(&n->level, (uint8_t)level, __ATOMIC_RELAXED);
    h->upper_bytes += (size_t)level * (1 + h->m) * sizeof(uint32_t);
    __atomic_store_n(&hnsw_links(h, id, 0)[0], 0, __ATOMIC_RELAXED);
    unsigned char *r = hnsw_row(h, id);
    size_t used = h->int8 ? h->dim : h->dim * sizeof(float);
    if (h->int8) eg_sq8_encode(&h->codec, vector, r);
    else memcpy(r, vector, used);
    memset(r + used, 0, h->vector_bytes - used);
    if (hnsw_state(h, id) == SLOT_REMOVED) h->removed--;
    __atomic_store_n(&n->state, SLOT_JOINING, __ATOMIC_RELAXED);
    size_t slots = atomic_load(&h->slots);
    while (id >= slots && !atomic_compare_exchange_weak(&h->slots, &slots, (size_t)id + 1)) {
    }
    return true;
}

/* Raises the entry point to id when its level is above the top (threaded batches race here). */
static void maybe_raise_entry(eg_hnsw *h, uint32_t id, int level) {
    pthread_mutex_lock(&h->entry_lock);
    uint64_t e = atomic_load(&h->entry);
    if (e == ENTRY_NONE || level > (int)(e >> 32)) atomic_store(&h->entry, hnsw_pack_entry(id, level));
    pthread_mutex_unlock(&h->entry_lock);
}

/* The paper's INSERT for slot id, joining with row and level set, from its float vector: descend to its level,
 * then on each layer below search ef_construct candidates and link to the heuristic's choice; only then link the
 * chosen neighbours back. Until those back-links exist no walk can reach id, so no walk ever steps onto a point
 * whose lower layers are still empty (a greedy descent would stop there, and a concurrent insert would link to a
 * dead end). False when out of memory. */
static bool connect(eg_hnsw *h, scratch *s, uint32_t id, const float *vector) {
    uint64_t e = atomic_load(&h->entry);
    if (e == ENTRY_NONE) return true; /* the first point: nothing to link to */
    int level = h->nodes[id].level, top = (int)(e >> 32);
    probe p;
    if (probe_init(h, vector, &p, NULL) != EG_OK) return false;
    eg_vec_kernel kernel = p.kernel;
    filter f = {NULL, NULL, id, atomic_load(&h->removed) > 0};
    uint32_t ep = descend(h, &p, (uint32_t)e, top, level);
    int from = level < top ? level : top;
    uint32_t chosen[HNSW_LEVEL_MAX + 1][EG_HNSW_M_MAX], kept[HNSW_LEVEL_MAX + 1] = {0};
    bool ok = true;
    for (int lc = from; lc >= 0 && ok; lc--) {
        if (!(ok = search_layer(h, s, &p, ep, h->ef_construct, lc, &f))) break;
        size_t n = drain_sorted(s, s->work);
        if (n == 0) continue;
        ep = s->work[0].id; /* the next layer starts from the nearest */
        kept[lc] = select_neighbours(h, s, kernel, s->work, n, h->m);
        memcpy(chosen[lc], s->chosen, kept[lc] * sizeof(uint32_t));
        lock_links(h, id);
        write_links(hnsw_links(h, id, lc), chosen[lc], kept[lc]);
        unlock_links(h, id);
    }
    for (int lc = from; lc >= 0 && ok; lc--)
        for (uint32_t j = 0; j < kept[lc]; j++) link_back(h, s, chosen[lc][j], id, lc);
    probe_clear(&p);
    return ok;
}

/* Marks id live after connect (or, when connect failed, a tombstone: some points may link to it already). */
static void finish_insert(eg_hnsw *h, uint32_t id, bool connected) {
    if (!connected) {
        __atomic_store_n(&h->nodes[id].state, SLOT_REMOVED, __ATOMIC_RELAXED);
        h->removed++;
        return;
    }
    __atomic_store_n(&h->nodes[id].state, SLOT_LIVE, __ATOMIC_RELAXED);
    h->live++;
    uint64_t e = atomic_load(&h->entry);
    if (e == ENTRY_NONE || h->nodes[id].level > (int)(e >> 32)) maybe_raise_entry(h, id, h->nodes[id].level);
}

static bool all_finite(const float *v, size_t dim) {
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(v[i])) return false;
    return true;
}

static eg_status check_point(const eg_hnsw *h, uint32_t label, const float *vector, eg_error *err) {
    if (!vector) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add: vector is required");
    if (label > EG_HNSW_LABEL_MAX) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add: label out of range");
    if (!all_finite(vector, h->dim))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add: vector of label %u has a non-finite value", label);
    if (eg_hnsw_contains(h, label)) return eg_error_set(err, EG_CONFLICT, "hnsw add: label %u is present", label);
    return EG_OK;
}

/* Learns the int8 codec from the first vectors the index sees. */
static eg_status train_if_needed(eg_hnsw *h, const float *vectors, size_t n, eg_error *err) {
    if (!h->int8 || h->trained) return EG_OK;
    eg_status st = eg_sq8_train(&h->codec, h->dim, vectors, n, h->dim, err);
    h->trained = st == EG_OK;
    return st;
}

/* Inserts one point; the caller holds write_lock and has checked it. A label that was removed is re-added with
 * searches stopped, since its row and layers are rewritten in place. */
static eg_status insert_one(eg_hnsw *h, uint32_t label, const float *vector, int level, eg_error *err) {
    bool exclusive = label < atomic_load(&h->slots) && hnsw_state(h, label) == SLOT_REMOVED;
    if (exclusive) pthread_rwlock_wrlock(&h->grow_lock);
    else pthread_rwlock_rdlock(&h->grow_lock);
    scratch *s = scratch_take(h);
    bool ok = s && reset_node(h, label, level, vector);
    if (ok) finish_insert(h, label, connect(h, s, label, vector));
    bool connected = ok && hnsw_state(h, label) == SLOT_LIVE;
    if (s) scratch_give(h, s);
    pthread_rwlock_unlock(&h->grow_lock);
    return connected ? EG_OK : eg_error_set(err, EG_INTERNAL, "hnsw add: out of memory");
}

eg_status eg_hnsw_add(eg_hnsw *h, uint32_t label, const float *vector, eg_error *err) {
    if (!h) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add: index is required");
    pthread_mutex_lock(&h->write_lock);
    eg_status st = check_point(h, label, vector, err);
    if (st == EG_OK) st = train_if_needed(h, vector, 1, err);
    if (st == EG_OK && !ensure_capacity(h, (size_t)label + 1)) st = eg_error_set(err, EG_INTERNAL, "hnsw add: out of memory");
    if (st == EG_OK) st = insert_one(h, label, vector, draw_level(h), err);
    pthread_mutex_unlock(&h->write_lock);
    return st;
}

/* ---- Threaded batch ---------------------------------------------------------------------------------------- */

typedef struct batch {
    eg_hnsw *h;
    const uint32_t *labels;
    const float *vectors;
    size_t n;
    _Atomic size_t next; /* the next point to connect */
    _Atomic bool failed;
} batch;

static void *batch_worker(void *arg) {
    batch *b = arg;
    eg_hnsw *h = b->h;
    scratch *s = scratch_take(h);
    if (!s) atomic_store(&b->failed, true);
    for (size_t i; s && (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
        bool ok = connect(h, s, b->labels[i], b->vectors + i * h->dim);
        finish_insert(h, b->labels[i], ok);
        if (!ok) atomic_store(&b->failed, true);
    }
    if (s) scratch_give(h, s);
    return NULL;
}

/* After a threaded batch: two points inserted at once near each other do not see each other, and a neighbour
 * that then has to choose between them may keep only one; now and then a point is left with no link to it on
 * layer 0, which no search can reach. Each such point of the batch is connected again, alone, now that the
 * others are in the graph. */
/* Reconnecting a stranded point links it back from its neighbours, but a neighbour whose list is full re-selects
 * it by the heuristic and may leave it out again (a point much nearer to another of its links is not "diverse").
 * Then the nearest neighbour takes it in place of its last link (the farthest it selected, or the latest it
 * appended): one in-link fewer for that point beats a point no search can reach. The caller holds no link lock. */
static void ensure_linked(eg_hnsw *h, uint32_t id) {
    uint32_t out[1 + EG_HNSW_M_MAX * 2];
    uint32_t n = read_links(h, id, 0, out);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t back[1 + EG_HNSW_M_MAX * 2];
        uint32_t m = read_links(h, out[j], 0, back);
        for (uint32_t k = 0; k < m; k++)
            if (back[k] == id) return;
    }
    if (n == 0) return;
    lock_links(h, out[0]);
    uint32_t *links = hnsw_links(h, out[0], 0);
    if (links[0] < layer_cap(h, 0)) __atomic_store_n(&links[0], links[0] + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&links[links[0]], id, __ATOMIC_RELAXED);
    unlock_links(h, out[0]);
}

static void relink_stranded(batch *b) {
    eg_hnsw *h = b->h;
    size_t slots = atomic_load(&h->slots);
    uint8_t *linked = calloc(slots ? slots : 1, 1);
    scratch *s = linked ? scratch_take(h) : NULL;
    if (!s) { /* out of memory: the graph is still valid, only maybe not as good */
        free(linked);
        return;
    }
    for (size_t i = 0; i < slots; i++) {
        if (!present(hnsw_state(h, (uint32_t)i))) continue;
        const uint32_t *l = hnsw_links(h, (uint32_t)i, 0);
        for (uint32_t j = 1; j <= l[0]; j++) linked[l[j]] = 1;
    }
    for (size_t i = 0; i < b->n; i++) {
        uint32_t id = b->labels[i];
        if (!linked[id] && hnsw_state(h, id) == SLOT_LIVE && atomic_load(&h->live) > 1 &&
            (uint32_t)atomic_load(&h->entry) != id && connect(h, s, id, b->vectors + i * h->dim))
            ensure_linked(h, id);
    }
    scratch_give(h, s);
    free(linked);
}

/* Connects the prepared (joining) points of b on `threads` threads, this one included. */
static void connect_all(batch *b, unsigned threads) {
    size_t useful = b->n / BATCH_PER_THREAD;
    if (threads > useful) threads = useful ? (unsigned)useful : 1;
    pthread_t *ids = threads > 1 ? calloc(threads - 1, sizeof *ids) : NULL;
    unsigned started = 0;
    for (; ids && started < threads - 1; started++)
        if (pthread_create(&ids[started], NULL, batch_worker, b) != 0) break; /* fewer threads: still correct */
    batch_worker(b);
    for (unsigned t = 0; t < started; t++) pthread_join(ids[t], NULL);
    free(ids);
    if (started > 0) relink_stranded(b);
}

static int compare_labels(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static eg_status check_batch(const eg_hnsw *h, const uint32_t *labels, const float *vectors, size_t n, eg_error *err) {
    if (n > 0 && (!labels || !vectors))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add_batch: labels and vectors are required");
    eg_status st = EG_OK;
    for (size_t i = 0; i < n && st == EG_OK; i++) st = check_point(h, labels[i], vectors + i * h->dim, err);
    uint32_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (st == EG_OK && !sorted) st = eg_error_set(err, EG_INTERNAL, "hnsw add_batch: out of memory");
    if (st == EG_OK) {
        memcpy(sorted, labels, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, compare_labels);
        for (size_t i = 1; i < n && st == EG_OK; i++)
            if (sorted[i] == sorted[i - 1])
                st = eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add_batch: label %u given twice", sorted[i]);
    }
    free(sorted);
    return st;
}

eg_status eg_hnsw_add_batch(eg_hnsw *h, const uint32_t *labels, const float *vectors, size_t n, unsigned threads,
                            eg_error *err) {
    if (!h) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw add_batch: index is required");
    pthread_mutex_lock(&h->write_lock);
    eg_status st = check_batch(h, labels, vectors, n, err);
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++) top = labels[i] > top ? labels[i] : top;
    if (st == EG_OK && n > 0) st = train_if_needed(h, vectors, n, err);
    if (st == EG_OK && n > 0 && !ensure_capacity(h, (size_t)top + 1))
        st = eg_error_set(err, EG_INTERNAL, "hnsw add_batch: out of memory");
    /* Removed labels and the very first point go one at a time; the rest become joining points, then connect. */
    uint32_t *fresh = malloc((n ? n : 1) * sizeof *fresh);
    float *fresh_vectors = malloc((n ? n : 1) * h->dim * sizeof(float));
    if (st == EG_OK && (!fresh || !fresh_vectors)) st = eg_error_set(err, EG_INTERNAL, "hnsw add_batch: out of memory");
    size_t fresh_n = 0;
    int *levels = st == EG_OK ? malloc((n ? n : 1) * sizeof *levels) : NULL;
    if (st == EG_OK && !levels) st = eg_error_set(err, EG_INTERNAL, "hnsw add_batch: out of memory");
    for (size_t i = 0; st == EG_OK && i < n; i++) levels[i] = draw_level(h); /* the order one-by-one adds draw in */
    for (size_t i = 0; st == EG_OK && i < n; i++) {
        const float *v = vectors + i * h->dim;
        bool alone = atomic_load(&h->entry) == ENTRY_NONE ||
                     (labels[i] < atomic_load(&h->slots) && hnsw_state(h, labels[i]) == SLOT_REMOVED);
        if (alone && fresh_n == 0) {
            st = insert_one(h, labels[i], v, levels[i], err);
            continue;
        }
        if (alone) { /* keep the one-thread graph identical to sequential adds: connect what is queued first */
            batch b = {h, fresh, fresh_vectors, fresh_n, 0, false};
            pthread_rwlock_rdlock(&h->grow_lock);
            connect_all(&b, threads);
            pthread_rwlock_unlock(&h->grow_lock);
            fresh_n = 0;
            if (atomic_load(&b.failed)) st = eg_error_set(err, EG_INTERNAL, "hnsw add_batch: out of memory");
            if (st == EG_OK) st = insert_one(h, labels[i], v, levels[i], err);
            continue;
        }
        if (!reset_node(h, labels[i], levels[i], v)) {
            st = eg_error_set(err, EG_INTERNAL, "hnsw add_batch: out of memory");
            break;
        }
        fresh[fresh_n] = labels[i];
        memcpy(fresh_vectors + fresh_n * h->dim, v, h->dim * sizeof(float));
        fresh_n++;
    }
    if (fresh_n > 0) { /* joining points left by an error are connected too: they are in the index's arrays */
        batch b = {h, fresh, fresh_vectors, fresh_n, 0, false};
        pthread_rwlock_rdlock(&h->grow_lock);
        connect_all(&b, threads);
        pthread_rwlock_unlock(&h->grow_lock);
        if (st == EG_OK && atomic_load(&b.failed)) st = eg_error_set(err, EG_INTERNAL, "hnsw add_batch: out of memory");
    }
    free(levels);
    free(fresh);
    free(fresh_vectors);
    pthread_mutex_unlock(&h->write_lock);
    return st;
}

/* ---- Remove --------------------------------------------------------------------------------------------- */

/* After the entry point was removed: the present point of highest level, lowest label among equals. */
static void choose_entry(eg_hnsw *h) {
    int top = -1;
    uint32_t entry = 0;
    size_t slots = atomic_load(&h->slots);
    for (size_t i = 0; i < slots; i++) {
        if (present(hnsw_state(h, (uint32_t)i)) && h->nodes[i].level > top) {
            top = h->nodes[i].level;
            entry = (uint32_t)i;
        }
    }
    atomic_store(&h->entry, top < 0 ? ENTRY_NONE : hnsw_pack_entry(entry, top));
}

static bool holds(const uint32_t *links, uint32_t id) {
    for (uint32_t j = 1; j <= links[0]; j++)
        if (links[j] == id) return true;
    return false;
}

eg_status eg_hnsw_remove(eg_hnsw *h, uint32_t label, eg_error *err) {
    if (!h) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw remove: index is required");
    pthread_mutex_lock(&h->write_lock);
    if (!eg_hnsw_contains(h, label)) {
        pthread_mutex_unlock(&h->write_lock);
        return eg_error_set(err, EG_NOT_FOUND, "hnsw remove: label %u is not present", label);
    }
    pthread_rwlock_rdlock(&h->grow_lock);
    scratch *s = scratch_take(h);
    if (!s) {
        pthread_rwlock_unlock(&h->grow_lock);
        pthread_mutex_unlock(&h->write_lock);
        return eg_error_set(err, EG_INTERNAL, "hnsw remove: out of memory");
    }
    __atomic_store_n(&h->nodes[label].state, SLOT_REMOVED, __ATOMIC_RELAXED);
    h->live--;
    h->removed++;
    uint32_t gone[2 * EG_HNSW_M_MAX];
    for (int lc = 0; lc <= h->nodes[label].level; lc++) {
        uint32_t gone_n = read_links(h, label, lc, gone);
        for (uint32_t j = 0; j < gone_n; j++) {
            uint32_t n = gone[j];
            if (!present(hnsw_state(h, n)) || !on_layer(h, n, lc)) continue;
            lock_links(h, n);
            if (holds(hnsw_links(h, n, lc), label)) relink(h, s, n, gone, gone_n, UINT32_MAX, label, lc);
            unlock_links(h, n);
        }
    }
    scratch_give(h, s);
    if ((uint32_t)atomic_load(&h->entry) == label) choose_entry(h);
    pthread_rwlock_unlock(&h->grow_lock);
    pthread_mutex_unlock(&h->write_lock);
    return EG_OK;
}

/* ---- Search --------------------------------------------------------------------------------------------- */

eg_status eg_hnsw_search(eg_hnsw *h, const float *query, size_t k, size_t ef,
                         bool (*accept)(void *ctx, uint32_t label), void *ctx, eg_hnsw_hit *out, size_t *found,
                         eg_error *err) {
    if (!h || !query || !found || (k > 0 && !out))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw search: index, query, found and out are required");
    *found = 0;
    if (ef < k) ef = k;
    pthread_rwlock_rdlock(&h->grow_lock);
    uint64_t e = atomic_load(&h->entry);
    if (k == 0 || e == ENTRY_NONE) {
        pthread_rwlock_unlock(&h->grow_lock);
        return EG_OK;
    }
    scratch *s = scratch_take(h);
    filter f = {accept, ctx, UINT32_MAX, atomic_load(&h->removed) > 0};
    probe p;
    eg_status st = s && grow_cands(&s->work, &s->work_cap, ef + 1) ? probe_init(h, query, &p, err)
                                                                     : eg_error_set(err, EG_INTERNAL, "hnsw search: out of memory");
    if (st == EG_OK) {
        uint32_t ep = descend(h, &p, (uint32_t)e, (int)(e >> 32), 0);
        if (!search_layer(h, s, &p, ep, ef, 0, &f)) st = eg_error_set(err, EG_INTERNAL, "hnsw search: out of memory");
        probe_clear(&p);
    }
    if (st == EG_OK) {
        size_t n = drain_sorted(s, s->work);
        for (size_t i = 0; i < n && i < k; i++) out[i] = (eg_hnsw_hit){s->work[i].id, dist_to_score(h, s->work[i].dist)};
        *found = n < k ? n : k;
    }
    if (s) scratch_give(h, s);
    pthread_rwlock_unlock(&h->grow_lock);
    return st;
}

/* ---- Life cycle ----------------------------------------------------------------------------------------- */

eg_hnsw_params eg_hnsw_params_default(void) {
    return (eg_hnsw_params){EG_HNSW_M_DEFAULT, EG_HNSW_EF_CONSTRUCT_DEFAULT, DEFAULT_SEED, 0, false};
}

eg_hnsw_params eg_hnsw_params_of(const eg_hnsw *h) {
    return (eg_hnsw_params){h->m, h->ef_construct, h->seed, (uint32_t)h->capacity, h->int8};
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

eg_status hnsw_create(size_t dim, eg_distance distance, const eg_hnsw_params *p, eg_hnsw **out, eg_error *err) {
    eg_hnsw *h = calloc(1, sizeof(*h));
    if (!h) return eg_error_set(err, EG_INTERNAL, "hnsw: out of memory");
    size_t links = (1 + 2 * (size_t)p->m) * sizeof(uint32_t);
    size_t align = p->int8 ? HNSW_CODE_ALIGN : HNSW_FLOAT_ALIGN;
    size_t vector_bytes = ((p->int8 ? dim : dim * sizeof(float)) + align - 1) / align * align;
    h->dim = dim;
    h->vector_bytes = vector_bytes;
    h->block_bytes = (vector_bytes + links + align - 1) / align * align;
    h->distance = distance;
    h->higher_is_better = eg_distance_higher_is_better(distance);
    h->int8 = p->int8;
    h->m = p->m;
    h->m0 = 2 * p->m;
    h->ef_construct = p->ef_construct;
    h->level_mult = 1.0 / log((double)p->m);
    h->seed = h->rng = p->seed ? p->seed : DEFAULT_SEED;
    atomic_init(&h->entry, ENTRY_NONE);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    bool ok = pthread_rwlock_init(&h->grow_lock, &attr) == 0;
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&h->write_lock, NULL);
    pthread_mutex_init(&h->entry_lock, NULL);
    pthread_mutex_init(&h->pool_lock, NULL);
    if (!ok || !hnsw_reserve(h, p->capacity)) {
        eg_hnsw_free(h);
        return eg_error_set(err, EG_INTERNAL, "hnsw: out of memory");
    }
    *out = h;
    return EG_OK;
}

eg_status eg_hnsw_new(size_t dim, eg_distance distance, const eg_hnsw_params *p, eg_hnsw **out, eg_error *err) {
    eg_hnsw_params defaults = eg_hnsw_params_default();
    if (!p) p = &defaults;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "hnsw: out is required");
    eg_status st = check_params(dim, distance, p, err);
    return st ? st : hnsw_create(dim, distance, p, out, err);
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
    pthread_mutex_destroy(&h->entry_lock);
    pthread_mutex_destroy(&h->write_lock);
    pthread_rwlock_destroy(&h->grow_lock);
    eg_sq8_clear(&h->codec);
    free(h->blocks);
    free(h->nodes);
    free(h->seq);
    free(h);
}

size_t eg_hnsw_count(const eg_hnsw *h) { return h ? atomic_load(&h->live) : 0; }

bool eg_hnsw_contains(const eg_hnsw *h, uint32_t label) {
    return h && label < atomic_load(&h->slots) && present(hnsw_state(h, label));
}

size_t eg_hnsw_memory_bytes(const eg_hnsw *h) {
    if (!h) return 0;
    size_t per_slot = h->block_bytes + sizeof(hnsw_node) + sizeof(uint32_t);
    size_t codec = h->int8 ? 2 * h->dim * sizeof(float) : 0;
    return sizeof(*h) + atomic_load(&h->slots) * per_slot + atomic_load(&h->upper_bytes) +
           atomic_load(&h->scratch_bytes) + codec;
}
