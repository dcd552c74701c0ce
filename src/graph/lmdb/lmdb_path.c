/* lmdb_path.c — find_path for the embedded graph backend: a depth-limited bidirectional breadth-first search over
 * each node's neighbourhood (lmdb_adjacency.c), ignoring direction.
 *
 * Why bidirectional: memory graphs are heavy-tailed, so one BFS to depth d touches ~deg^d nodes while two searches
 * meeting in the middle touch ~2*deg^(d/2). Each round expands, one whole level at a time, the side whose frontier
 * is smaller. The first meeting found while expanding a level gives a shortest path: before that level no node
 * was within reach of both sides, so every path is at least as long as the one just closed.
 *
 * Each side keeps a map nid -> (parent nid, relationship type, direction seen from the parent); the path is read
 * back from the meeting node through both maps. Node numbers fit in 48 bits (see pack_parent). */
#include "graph/lmdb/lmdb_graph.h"
#include "util/u64map.h"

#include <stdlib.h>
#include <string.h>

#define ROOT 0 /* parent of a search's start node (nid 0 is never assigned) */

static uint64_t pack_parent(uint64_t parent, uint8_t type, uint8_t dir) {
    return parent << 16 | (uint64_t)type << 8 | dir;
}

typedef struct frontier {
    uint64_t *items;
    size_t count, cap;
} frontier;

static bool frontier_push(frontier *f, uint64_t nid) {
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        uint64_t *grown = realloc(f->items, cap * sizeof *grown);
        if (!grown) return false;
        f->items = grown;
        f->cap = cap;
    }
    f->items[f->count++] = nid;
    return true;
}

typedef struct side {
    eg_u64map seen;
    frontier now, next;
} side;

/* The relationship types a search may follow, as a set of the store's codes. */
typedef struct type_filter {
    bool all;
    uint8_t allowed[EG_STORE_NAMES_MAX / 8];
} type_filter;

static bool type_allowed(const type_filter *f, uint8_t code) {
    return f->all || (f->allowed[code / 8] >> (code % 8) & 1u);
}

typedef struct expansion {
    side *s;
    const side *other;
    const type_filter *types;
    uint64_t from, meet;
} expansion;

/* Stops a neighbourhood scan once the two searches meet (a status no operation ever returns). */
#define MET ((eg_status)-1)

/* Records a neighbour of x->from that this side has not seen yet; stops with MET when the other side has. */
static eg_status visit_neighbour(void *ctx, const rel_key *key, int dir, const MDB_val *record, eg_error *err) {
    (void)record;
    expansion *x = ctx;
    if (!type_allowed(x->types, key->type)) return EG_OK;
    uint64_t other = dir == LG_OUT ? key->target : key->source;
    int added = eg_u64map_insert(&x->s->seen, other, pack_parent(x->from, key->type, (uint8_t)dir));
    if (added < 0 || (added && !frontier_push(&x->s->next, other)))
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    if (added && eg_u64map_get(&x->other->seen, other, NULL)) {
        x->meet = other;
        return MET;
    }
    return EG_OK;
}

/* Expands one whole level of `s`; stops at the first node already seen by `other` and stores it in *meet. */
static eg_status expand_level(lg_adjacency *adjacency, side *s, const side *other, const type_filter *types,
                              uint64_t *meet, eg_error *err) {
    expansion x = {s, other, types, 0, 0};
    s->next.count = 0;
    for (size_t i = 0; i < s->now.count; i++) {
        x.from = s->now.items[i];
        eg_status st = lg_adjacency_scan(adjacency, x.from, LG_BOTH, visit_neighbour, &x, err);
        if (st == MET) {
            *meet = x.meet;
            return EG_OK;
        }
        if (st) return st;
    }
    frontier swap = s->now;
    s->now = s->next;
    s->next = swap;
    return EG_OK;
}

/* Appends the chain from `from` up to its search root: nids into chain[], hops into hops[]. */
static size_t walk_to_root(const side *s, uint64_t from, uint64_t *chain, uint64_t *hops) {
    size_t n = 0;
    uint64_t at = from, packed;
    while (eg_u64map_get(&s->seen, at, &packed) && (packed >> 16) != ROOT) {
        hops[n] = packed;
        chain[n++] = at;
        at = packed >> 16;
    }
    chain[n] = at;
    return n;
}

/* Fills out with the nodes and relationships along nids[0..count-1]; hop i joins nids[i] and nids[i+1]. */
static eg_status build_path(lmdb_graph *lg, MDB_txn *txn, const uint64_t *nids, const rel_key *hops, size_t count,
                            eg_path *out, eg_error *err) {
    out->nodes = calloc(count, sizeof *out->nodes);
    out->relationships = count > 1 ? calloc(count - 1, sizeof *out->relationships) : NULL;
    if (!out->nodes || (count > 1 && !out->relationships)) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = EG_OK;
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        st = lg_read_node(lg, txn, nids[i], &out->nodes[i], false, err);
        if (st == EG_OK) out->node_count++;
    }
    for (size_t i = 0; i + 1 < count && st == EG_OK; i++) {
        unsigned char kb[REL_KEY_SIZE];
        lg_encode_rel_key(&hops[i], kb);
        MDB_val key = {REL_KEY_SIZE, kb}, v;
        int rc = mdb_get(txn, lg->rels, &key, &v);
        if (rc) return lg_mdb_error(lg, rc, "find_path", err);
        st = lg_make_relationship(lg, txn, &hops[i], &v, NULL, &out->relationships[i], err);
        if (st == EG_OK) out->relationship_count++;
    }
    return st;
}

/* The relationship stored for a hop recorded at `parent` towards `child`. */
static rel_key hop_key(uint64_t packed, uint64_t child) {
    uint64_t parent = packed >> 16;
    uint8_t type = (uint8_t)(packed >> 8), dir = (uint8_t)packed;
    return dir == LG_OUT ? (rel_key){parent, type, child} : (rel_key){child, type, parent};
}

static eg_status assemble(lmdb_graph *lg, MDB_txn *txn, const side *from_source, const side *from_target,
                          uint64_t meet, eg_path *out, eg_error *err) {
    uint64_t left[EG_PATH_DEPTH_MAX + 2], left_hops[EG_PATH_DEPTH_MAX + 1];
    uint64_t right[EG_PATH_DEPTH_MAX + 2], right_hops[EG_PATH_DEPTH_MAX + 1];
    size_t nl = walk_to_root(from_source, meet, left, left_hops);   /* meet .. source */
    size_t nr = walk_to_root(from_target, meet, right, right_hops); /* meet .. target */
    uint64_t nids[2 * EG_PATH_DEPTH_MAX + 2];
    rel_key hops[2 * EG_PATH_DEPTH_MAX + 1];
    size_t count = 0;
    for (size_t i = nl + 1; i-- > 0;) nids[count++] = left[i]; /* source .. meet */
    for (size_t i = 0; i < nl; i++) hops[nl - 1 - i] = hop_key(left_hops[i], left[i]);
    for (size_t i = 0; i < nr; i++) {
        nids[count++] = right[i + 1];
        hops[nl + i] = hop_key(right_hops[i], right[i]);
    }
    return build_path(lg, txn, nids, hops, count, out, err);
}

eg_status lg_find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                       eg_rel_type_set types, eg_path *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    lg_adjacency adjacency = {0};
    uint64_t s, t, meet = 0;
    side sides[2] = {0};
    type_filter filter = {.all = types.count == 0};
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    for (size_t i = 0; i < types.count && st == EG_OK; i++) {
        uint8_t code;
        st = lg_vocab_code(lg, txn, LG_VOCAB_TYPE, (int)types.types[i], false, &code, err);
        if (st == EG_OK) filter.allowed[code / 8] |= (uint8_t)(1u << (code % 8));
        if (st == EG_NOT_FOUND) st = EG_OK; /* a type the store has never held: nothing to follow */
    }
    if (st || (st = lg_lookup_nid(lg, txn, source_id, "source node", &s, err)) ||
        (st = lg_lookup_nid(lg, txn, target_id, "target node", &t, err)))
        goto done;
    if (s == t) {
        st = build_path(lg, txn, &s, NULL, 1, out, err);
        goto done;
    }
    if ((st = lg_adjacency_open(lg, txn, &adjacency, err))) goto done;
    uint64_t roots[2] = {s, t};
    for (int i = 0; i < 2; i++)
        if (!eg_u64map_init(&sides[i].seen, 1024) || eg_u64map_insert(&sides[i].seen, roots[i], ROOT) < 0 ||
            !frontier_push(&sides[i].now, roots[i])) {
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
            goto done;
        }
    for (int depth = 0; depth < max_depth && !meet; depth++) {
        int i = sides[0].now.count <= sides[1].now.count ? 0 : 1;
        if (sides[i].now.count == 0) break;
        if ((st = expand_level(&adjacency, &sides[i], &sides[1 - i], &filter, &meet, err))) goto done;
    }
    if (meet) st = assemble(lg, txn, &sides[0], &sides[1], meet, out, err);
done:
    for (int i = 0; i < 2; i++) {
        eg_u64map_free(&sides[i].seen);
        free(sides[i].now.items);
        free(sides[i].next.items);
    }
    lg_adjacency_close(&adjacency);
    lg_end(lg, txn);
    if (st) eg_path_clear(out);
    return st;
}
