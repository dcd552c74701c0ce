/* lmdb_relationships.c — relationship operations of the embedded graph backend: create-or-merge (single and
 * batch), delete, reads by node, counts, and Hebbian strengthen / weaken / decay on the typed header. */
#include "graph/lmdb/lmdb_graph.h"
#include "util/clock.h"
#include "util/json_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Applies the typed keys of props to h; returns a new reference to the remaining properties. */
static json_t *apply_typed(json_t *props, rel_header *h) {
    json_t *other = json_object();
    const char *key;
    json_t *value;
    if (!other || !props) return other;
    json_object_foreach(props, key, value) {
        if (strcmp(key, EG_PROP_WEIGHT) == 0)
            h->weight = json_is_null(value) ? NAN : json_number_value(value);
        else if (strcmp(key, EG_PROP_CO_ACCESS) == 0)
            h->co_access_count = json_is_null(value) ? -1 : (int64_t)json_integer_value(value);
        else if (strcmp(key, EG_PROP_LAST_ACCESSED) == 0)
            h->last_accessed = (int64_t)json_integer_value(value);
        else
            json_object_set(other, key, value);
    }
    return other;
}

static eg_status put_rel_value(lmdb_graph *lg, MDB_txn *txn, MDB_val *key, const rel_header *h, json_t *other,
                               eg_error *err) {
    char *text = json_object_size(other) ? eg_json_text(other, JSON_COMPACT) : NULL;
    size_t text_len = text ? strlen(text) : 0;
    MDB_val v = {REL_HEADER_SIZE + text_len, NULL};
    int rc = mdb_put(txn, lg->rels, key, &v, MDB_RESERVE);
    if (rc == 0) {
        lg_encode_rel_header(h, v.mv_data);
        if (text_len) memcpy((char *)v.mv_data + REL_HEADER_SIZE, text, text_len);
    }
    free(text);
    return rc ? lg_mdb_error(lg, rc, "write relationship", err) : EG_OK;
}

/* Merges props into the existing record `old` (nulls remove). */
static eg_status merge_relationship(lmdb_graph *lg, MDB_txn *txn, MDB_val *key, const MDB_val *old, json_t *props,
                                    eg_error *err) {
    if (old->mv_size < REL_HEADER_SIZE) return eg_error_set(err, EG_CORRUPT, "a relationship record is damaged");
    rel_header h;
    lg_decode_rel_header(old->mv_data, &h);
    size_t json_len = old->mv_size - REL_HEADER_SIZE;
    json_error_t jerr;
    json_t *stored = json_len ? json_loadb((const char *)old->mv_data + REL_HEADER_SIZE, json_len, 0, &jerr)
                              : json_object();
    if (!stored) return eg_error_set(err, EG_CORRUPT, "a relationship has damaged properties");
    json_t *other = apply_typed(props, &h);
    const char *k;
    json_t *value;
    json_object_foreach(other, k, value) {
        if (json_is_null(value))
            json_object_del(stored, k);
        else
            json_object_set(stored, k, value);
    }
    eg_status st = put_rel_value(lg, txn, key, &h, stored, err);
    json_decref(other);
    json_decref(stored);
    return st;
}

/* Writes the record of one relationship: a new one (*created) or a merge into the existing one. */
static eg_status write_record(lmdb_graph *lg, MDB_txn *txn, const rel_key *k, json_t *properties, bool *created,
                              eg_error *err) {
    unsigned char kb[REL_KEY_SIZE];
    lg_encode_rel_key(k, kb);
    MDB_val key = {REL_KEY_SIZE, kb};
    rel_header h = {eg_now_ms(), NAN, -1, 0};
    bool plain = !properties || json_object_size(properties) == 0;
    json_t *other = plain ? NULL : apply_typed(properties, &h);
    char *text = other && json_object_size(other) ? eg_json_text(other, JSON_COMPACT) : NULL;
    json_decref(other);
    size_t text_len = text ? strlen(text) : 0;
    unsigned char small[REL_HEADER_SIZE + 256];
    unsigned char *buf = text_len <= 256 ? small : malloc(REL_HEADER_SIZE + text_len);
    if (!buf) {
        free(text);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    lg_encode_rel_header(&h, buf);
    if (text_len) memcpy(buf + REL_HEADER_SIZE, text, text_len);
    free(text);
    MDB_val v = {REL_HEADER_SIZE + text_len, buf};
    int rc = mdb_put(txn, lg->rels, &key, &v, MDB_NOOVERWRITE);
    if (buf != small) free(buf);
    *created = rc == 0;
    if (rc == MDB_KEYEXIST) return merge_relationship(lg, txn, &key, &v, properties, err);
    return rc ? lg_mdb_error(lg, rc, "create relationship", err) : EG_OK;
}

/* A batch is written tree by tree, each in key order: random inserts into a B-tree dirty a page each, while
 * sorted ones share the pages (and the cache lines) of their neighbours. Items with the same key keep their
 * batch order, so a later item merges into an earlier one exactly as two calls would. */
typedef struct pending_rel {
    rel_key key;
    size_t index;
} pending_rel;

typedef struct pending_mirror {
    unsigned char key[REL_KEY_SIZE];
} pending_mirror;

static int compare_pending_rel(const void *pa, const void *pb) {
    const pending_rel *a = pa, *b = pb;
    if (a->key.source != b->key.source) return a->key.source < b->key.source ? -1 : 1;
    if (a->key.type != b->key.type) return a->key.type < b->key.type ? -1 : 1;
    if (a->key.target != b->key.target) return a->key.target < b->key.target ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static int compare_pending_mirror(const void *a, const void *b) { return memcmp(a, b, REL_KEY_SIZE); }

static eg_status write_relationships(lmdb_graph *lg, MDB_txn *txn, const eg_relationship_spec *rels, size_t count,
                                     pending_rel *pending, pending_mirror *mirrors, eg_error *err) {
    eg_status st;
    for (size_t i = 0; i < count; i++) {
        const eg_relationship_spec *r = &rels[i];
        pending[i] = (pending_rel){{0, 0, 0}, i};
        if ((st = lg_vocab_code(lg, txn, LG_VOCAB_TYPE, (int)r->type, true, &pending[i].key.type, err)) ||
            (st = lg_lookup_nid(lg, txn, r->source_id, "source node", &pending[i].key.source, err)) ||
            (st = lg_lookup_nid(lg, txn, r->target_id, "target node", &pending[i].key.target, err)))
            return count > 1 ? eg_error_prefix(err, st, "relationships[%zu]: ", i) : st;
    }
    qsort(pending, count, sizeof *pending, compare_pending_rel);
    size_t created_count = 0;
    for (size_t i = 0; i < count; i++) {
        bool created = false;
        if ((st = write_record(lg, txn, &pending[i].key, rels[pending[i].index].properties, &created, err)))
            return count > 1 ? eg_error_prefix(err, st, "relationships[%zu]: ", pending[i].index) : st;
        if (created) lg_encode_mirror_key(&pending[i].key, mirrors[created_count++].key);
    }
    qsort(mirrors, created_count, sizeof *mirrors, compare_pending_mirror);
    for (size_t i = 0; i < created_count; i++) {
        MDB_val key = {REL_KEY_SIZE, mirrors[i].key}, empty = {0, NULL};
        int rc = mdb_put(txn, lg->rels_in, &key, &empty, 0);
        if (rc) return lg_mdb_error(lg, rc, "index relationship", err);
    }
    return created_count ? lg_count_add(lg, txn, "count.rels", (int64_t)created_count, err) : EG_OK;
}

static eg_status create_relationships(lmdb_graph *lg, const eg_relationship_spec *rels, size_t count,
                                      const char *op, eg_error *err) {
    pending_rel *pending = malloc(count * sizeof *pending);
    pending_mirror *mirrors = malloc(count * sizeof *mirrors);
    MDB_txn *txn = NULL;
    eg_status st =
        pending && mirrors ? lg_begin(lg, true, &txn, err) : eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st == EG_OK) st = write_relationships(lg, txn, rels, count, pending, mirrors, err);
    free(pending);
    free(mirrors);
    if (st) {
        if (txn) lg_abort(lg, txn);
        return st;
    }
    return lg_commit(lg, txn, op, err);
}

eg_status lg_create_relationship(eg_graph *g, const eg_relationship_spec *rel, eg_error *err) {
    return create_relationships(lmdb_of(g), rel, 1, "create_relationship", err);
}

eg_status lg_batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count, eg_error *err) {
    return create_relationships(lmdb_of(g), rels, count, "batch_create_relationships", err);
}

eg_status lg_delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                 eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    rel_key k = {0, 0, 0};
    eg_status st = lg_begin(lg, true, &txn, err);
    if (st) return st;
    if ((st = lg_lookup_nid(lg, txn, source_id, "source node", &k.source, err)) ||
        (st = lg_lookup_nid(lg, txn, target_id, "target node", &k.target, err))) {
        lg_abort(lg, txn);
        return st;
    }
    /* a type the store has never held: no such relationship */
    st = lg_vocab_code(lg, txn, LG_VOCAB_TYPE, (int)type, false, &k.type, err);
    int rc = MDB_NOTFOUND;
    if (st == EG_OK) {
        unsigned char kb[REL_KEY_SIZE];
        lg_encode_rel_key(&k, kb);
        MDB_val key = {REL_KEY_SIZE, kb}, v;
        rc = mdb_get(txn, lg->rels, &key, &v);
    }
    if (st == EG_NOT_FOUND || (st == EG_OK && rc == MDB_NOTFOUND))
        st = eg_error_set(err, EG_NOT_FOUND, "relationship '%s' -[%s]-> '%s' does not exist", source_id,
                          eg_rel_type_name(type), target_id);
    else if (st == EG_OK && rc)
        st = lg_mdb_error(lg, rc, "delete_relationship", err);
    else if (st == EG_OK)
        st = lg_remove_relationship(lg, txn, &k, err);
    if (st) {
        lg_abort(lg, txn);
        return st;
    }
    return lg_commit(lg, txn, "delete_relationship", err);
}

typedef struct relationship_reader {
    lmdb_graph *lg;
    MDB_txn *txn;
    lg_known_node node; /* the node whose relationships are read */
    int type_code;      /* the store's code of the type asked; -1: any */
    int dirs;
    eg_relationship_list *out;
    size_t cap;
} relationship_reader;

static eg_status append_relationship(void *ctx, const rel_key *key, int dir, const MDB_val *record, eg_error *err) {
    relationship_reader *r = ctx;
    if (r->type_code >= 0 && key->type != (uint8_t)r->type_code) return EG_OK;
    if (dir == LG_IN && r->dirs == LG_BOTH && key->source == key->target) return EG_OK; /* self-loop listed once */
    MDB_val stored;
    if (!record) { /* incoming: the record lives under the forward key */
        unsigned char kb[REL_KEY_SIZE];
        lg_encode_rel_key(key, kb);
        MDB_val k = {REL_KEY_SIZE, kb};
        int rc = mdb_get(r->txn, r->lg->rels, &k, &stored);
        if (rc) return rc == MDB_NOTFOUND ? eg_error_set(err, EG_CORRUPT, "a mirrored relationship has no record")
                                          : lg_mdb_error(r->lg, rc, "read relationship", err);
        record = &stored;
    }
    eg_relationship_list *out = r->out;
    if (out->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        eg_relationship *grown = realloc(out->items, r->cap * sizeof *grown);
        if (!grown) return eg_error_set(err, EG_INTERNAL, "out of memory");
        out->items = grown;
    }
    eg_status st = lg_make_relationship(r->lg, r->txn, key, record, &r->node, &out->items[out->count], err);
    if (st == EG_OK) out->count++;
    return st;
}

/* Reads one node's relationships inside txn; a missing node is EG_NOT_FOUND. */
static eg_status read_relationships(lmdb_graph *lg, MDB_txn *txn, const char *id, eg_rel_type type,
                                    eg_direction dir, eg_relationship_list *out, eg_error *err) {
    uint64_t nid;
    lg_adjacency adjacency = {0};
    int dirs = dir == EG_DIR_OUT ? LG_OUT : dir == EG_DIR_IN ? LG_IN : LG_BOTH;
    relationship_reader reader = {.lg = lg, .txn = txn, .type_code = -1, .dirs = dirs, .out = out};
    eg_status st = lg_lookup_nid(lg, txn, id, "node", &nid, err);
    uint8_t code;
    if (st == EG_OK && type != EG_REL_ANY) {
        st = lg_vocab_code(lg, txn, LG_VOCAB_TYPE, (int)type, false, &code, err);
        if (st == EG_NOT_FOUND) return EG_OK; /* a type the store has never held: none */
        reader.type_code = code;
    }
    if (st == EG_OK) {
        reader.node.nid = nid;
        snprintf(reader.node.id, sizeof reader.node.id, "%s", id);
        if ((st = lg_adjacency_open(lg, txn, &adjacency, err)) == EG_OK)
            st = lg_adjacency_scan(&adjacency, nid, dirs, append_relationship, &reader, err);
    }
    lg_adjacency_close(&adjacency);
    if (st) eg_relationship_list_free(out);
    return st;
}

eg_status lg_get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                               eg_relationship_list *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    st = read_relationships(lg, txn, id, type, dir, out, err);
    lg_end(lg, txn);
    return st;
}

/* One read transaction for the whole batch: every list comes from the same snapshot. */
eg_status lg_get_relationships_batch(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                     eg_direction dir, eg_relationship_list *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        st = read_relationships(lg, txn, ids[i], type, dir, &out[i], err);
        if (st == EG_NOT_FOUND) st = EG_OK;
        if (st != EG_OK)
            for (size_t j = 0; j < i; j++) eg_relationship_list_free(&out[j]);
    }
    lg_end(lg, txn);
    return st;
}

eg_status lg_count_relationships(eg_graph *g, uint64_t *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    st = lg_count_get(lg, txn, "count.rels", out, err);
    lg_end(lg, txn);
    return st;
}

/* Strengthens or weakens the relationships between two nodes in one direction; counts how many it changed. */
/* The store codes [first, end) of the types a reweight acts on: one type, or every type the store holds. */
typedef struct code_range {
    unsigned first, end;
} code_range;

static eg_status reweight_direction(lmdb_graph *lg, MDB_txn *txn, uint64_t from, uint64_t to, code_range types,
                                    double rate, bool strengthen, int64_t now, size_t *changed, double *best,
                                    eg_error *err) {
    for (unsigned t = types.first; t < types.end; t++) {
        rel_key k = {from, (uint8_t)t, to};
        unsigned char kb[REL_KEY_SIZE];
        lg_encode_rel_key(&k, kb);
        MDB_val key = {REL_KEY_SIZE, kb}, v;
        int rc = mdb_get(txn, lg->rels, &key, &v);
        if (rc == MDB_NOTFOUND) continue;
        if (rc) return lg_mdb_error(lg, rc, "read relationship", err);
        if (v.mv_size < REL_HEADER_SIZE) return eg_error_set(err, EG_CORRUPT, "a relationship record is damaged");
        unsigned char *copy = malloc(v.mv_size);
        if (!copy) return eg_error_set(err, EG_INTERNAL, "out of memory");
        memcpy(copy, v.mv_data, v.mv_size);
        rel_header h;
        lg_decode_rel_header(copy, &h);
        double w = isnan(h.weight) ? EG_DEFAULT_WEIGHT : h.weight;
        if (strengthen) {
            w += rate * (1.0 - w);
            h.co_access_count = (h.co_access_count < 0 ? 0 : h.co_access_count) + 1;
            h.last_accessed = now;
        } else {
            w *= 1.0 - rate;
        }
        h.weight = w;
        lg_encode_rel_header(&h, copy);
        MDB_val nv = {v.mv_size, copy};
        rc = mdb_put(txn, lg->rels, &key, &nv, 0);
        free(copy);
        if (rc) return lg_mdb_error(lg, rc, "write relationship", err);
        if (*changed == 0 || w > *best) *best = w;
        (*changed)++;
    }
    return EG_OK;
}

eg_status lg_reweight_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                   double rate, bool strengthen, double *new_weight, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    uint64_t s, t;
    size_t changed = 0;
    int64_t now = eg_now_ms();
    code_range types = {0, 0};
    uint8_t code;
    eg_status st = lg_begin(lg, true, &txn, err);
    if (st) return st;
    if (type == EG_REL_ANY)
        st = lg_vocab_size(lg, txn, LG_VOCAB_TYPE, &types.end, err);
    else if ((st = lg_vocab_code(lg, txn, LG_VOCAB_TYPE, (int)type, false, &code, err)) == EG_OK)
        types = (code_range){code, code + 1u};
    else if (st == EG_NOT_FOUND) /* a type the store has never held: nothing to reweight */
        st = EG_OK;
    if (st || (st = lg_lookup_nid(lg, txn, source_id, "source node", &s, err)) ||
        (st = lg_lookup_nid(lg, txn, target_id, "target node", &t, err)) ||
        (st = reweight_direction(lg, txn, s, t, types, rate, strengthen, now, &changed, new_weight, err)) ||
        (changed == 0 && (st = reweight_direction(lg, txn, t, s, types, rate, strengthen, now, &changed, new_weight,
                                                  err)))) {
        lg_abort(lg, txn);
        return st;
    }
    if (changed == 0) {
        lg_abort(lg, txn);
        return eg_error_set(err, EG_NOT_FOUND, "no %s relationship between '%s' and '%s'",
                            type == EG_REL_ANY ? "" : eg_rel_type_name(type), source_id, target_id);
    }
    return lg_commit(lg, txn, strengthen ? "strengthen_relationship" : "weaken_relationship", err);
}

/* Does the source node carry sessionId == session_id? Relationships are keyed by source, so consecutive records
 * share a source and one cached answer serves them all. */
typedef struct session_filter {
    const char *session_id;
    uint64_t cached_nid;
    bool cached_match;
} session_filter;

static eg_status in_session(lmdb_graph *lg, MDB_txn *txn, session_filter *f, uint64_t source, bool *match,
                            eg_error *err) {
    if (!f->session_id) {
        *match = true;
        return EG_OK;
    }
    if (source != f->cached_nid) {
        eg_node n;
        eg_status st = lg_read_node(lg, txn, source, &n, true, err);
        if (st) return st;
        json_t *sid = json_object_get(n.properties, "sessionId");
        f->cached_match = json_is_string(sid) && strcmp(json_string_value(sid), f->session_id) == 0;
        f->cached_nid = source;
        eg_node_clear(&n);
    }
    *match = f->cached_match;
    return EG_OK;
}

/* Walks every relationship, calling `visit` on the stale ones in scope. */
typedef eg_status (*stale_visitor)(lmdb_graph *lg, MDB_cursor *cur, const MDB_val *key, const MDB_val *value,
                                   void *ctx, eg_error *err);

static eg_status for_each_stale(lmdb_graph *lg, MDB_txn *txn, double stale_days, const char *session_id,
                                stale_visitor visit, void *ctx, eg_error *err) {
    int64_t cutoff = eg_now_ms() - (int64_t)(stale_days * EG_MS_PER_DAY);
    session_filter filter = {session_id, 0, false};
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lg->rels, &cur);
    if (rc) return lg_mdb_error(lg, rc, "scan relationships", err);
    MDB_val k, v;
    eg_status st = EG_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && st == EG_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != REL_KEY_SIZE || v.mv_size < REL_HEADER_SIZE) {
            st = eg_error_set(err, EG_CORRUPT, "a relationship record is damaged");
            break;
        }
        rel_header h;
        lg_decode_rel_header(v.mv_data, &h);
        if (h.last_accessed >= cutoff) continue;
        rel_key rk;
        bool match;
        lg_decode_rel_key(k.mv_data, &rk);
        if ((st = in_session(lg, txn, &filter, rk.source, &match, err)) || !match) continue;
        st = visit(lg, cur, &k, &v, ctx, err);
    }
    mdb_cursor_close(cur);
    if (st == EG_OK && rc != 0 && rc != MDB_NOTFOUND) st = lg_mdb_error(lg, rc, "scan relationships", err);
    return st;
}

static eg_status count_visit(lmdb_graph *lg, MDB_cursor *cur, const MDB_val *key, const MDB_val *value, void *ctx,
                             eg_error *err) {
    (void)lg, (void)cur, (void)key, (void)value, (void)err;
    (*(uint64_t *)ctx)++;
    return EG_OK;
}

eg_status lg_count_stale_relationships(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                       eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    *out = 0;
    st = for_each_stale(lg, txn, stale_days, session_id, count_visit, out, err);
    lg_end(lg, txn);
    return st;
}

typedef struct decay_ctx {
    int64_t now, stale_ms;
    double rate, min_weight;
    eg_decay_result result;
    rel_key *prune;
    size_t prune_count, prune_cap;
} decay_ctx;

/* Decays one stale relationship by (1 - rate) per whole day spent stale and not yet decayed, and marks it for
 * pruning when it ends below min_weight. */
static eg_status decay_visit(lmdb_graph *lg, MDB_cursor *cur, const MDB_val *key, const MDB_val *value, void *ctx,
                             eg_error *err) {
    (void)lg;
    decay_ctx *d = ctx;
    rel_header h;
    lg_decode_rel_header(value->mv_data, &h);
    int64_t start = h.last_accessed + d->stale_ms;
    if (h.decayed_through > start) start = h.decayed_through;
    int64_t days = d->now > start ? (d->now - start) / (int64_t)EG_MS_PER_DAY : 0;
    double w = isnan(h.weight) ? EG_DEFAULT_WEIGHT : h.weight;
    if (days > 0 && d->rate > 0) {
        w *= pow(1.0 - d->rate, (double)days);
        h.weight = w;
        h.decayed_through = start + days * (int64_t)EG_MS_PER_DAY;
        unsigned char *copy = malloc(value->mv_size);
        if (!copy) return eg_error_set(err, EG_INTERNAL, "out of memory");
        memcpy(copy, value->mv_data, value->mv_size);
        lg_encode_rel_header(&h, copy);
        MDB_val k = *key, nv = {value->mv_size, copy};
        int rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
        free(copy);
        if (rc) return lg_mdb_error(lg, rc, "decay relationship", err);
        d->result.decayed++;
    }
    if (w < d->min_weight) {
        if (d->prune_count == d->prune_cap) {
            d->prune_cap = d->prune_cap ? d->prune_cap * 2 : 256;
            rel_key *grown = realloc(d->prune, d->prune_cap * sizeof *grown);
            if (!grown) return eg_error_set(err, EG_INTERNAL, "out of memory");
            d->prune = grown;
        }
        lg_decode_rel_key(key->mv_data, &d->prune[d->prune_count++]);
    }
    return EG_OK;
}

eg_status lg_batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                       const char *session_id, eg_decay_result *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    decay_ctx d = {.now = eg_now_ms(), .stale_ms = (int64_t)(stale_days * EG_MS_PER_DAY), .rate = decay_rate,
                   .min_weight = min_weight};
    eg_status st = lg_begin(lg, true, &txn, err);
    if (st) return st;
    st = for_each_stale(lg, txn, stale_days, session_id, decay_visit, &d, err);
    for (size_t i = 0; i < d.prune_count && st == EG_OK; i++) {
        st = lg_remove_relationship(lg, txn, &d.prune[i], err);
        d.result.pruned++;
    }
    free(d.prune);
    if (st) {
        lg_abort(lg, txn);
        return st;
    }
    if ((st = lg_commit(lg, txn, "batch_decay_relationships", err))) return st;
    *out = d.result;
    return EG_OK;
}
