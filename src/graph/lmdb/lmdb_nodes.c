/* lmdb_nodes.c — node operations of the embedded graph backend: create (idempotent), read, merge, delete with
 * all relationships, batches, listing by label with a cursor, counts. */
#include "graph/lmdb/lmdb_graph.h"
#include "util/json_text.h"

#include <stdlib.h>
#include <string.h>

/* Properties as stored: nulls mean "no such property" and are not kept. Returns a new reference. */
static json_t *without_nulls(json_t *props) {
    if (!props) return json_object();
    const char *key;
    json_t *value;
    bool has_null = false;
    json_object_foreach(props, key, value) has_null |= json_is_null(value);
    if (!has_null) return json_incref(props);
    json_t *copy = json_object();
    json_object_foreach(props, key, value) if (!json_is_null(value)) json_object_set(copy, key, value);
    return copy;
}

/* label_code: the store's code of the node's label (lmdb_vocabulary.c). */
static eg_status put_node_record(lmdb_graph *lg, MDB_txn *txn, uint64_t nid, uint8_t label_code, const char *id,
                                 json_t *props, eg_error *err) {
    char *text = eg_json_text(props, JSON_COMPACT);
    if (!text) return eg_error_set(err, EG_INTERNAL, "out of memory");
    size_t id_len = strlen(id), text_len = strlen(text);
    MDB_val k = {sizeof nid, &nid}, v = {2 + id_len + text_len, NULL};
    int rc = mdb_put(txn, lg->nodes, &k, &v, MDB_RESERVE);
    if (rc == 0) {
        unsigned char *p = v.mv_data;
        p[0] = label_code;
        p[1] = (unsigned char)id_len;
        memcpy(p + 2, id, id_len);
        memcpy(p + 2 + id_len, text, text_len);
    }
    free(text);
    return rc ? lg_mdb_error(lg, rc, "write node", err) : EG_OK;
}

static eg_status allocate_nid(lmdb_graph *lg, MDB_txn *txn, uint64_t *nid, eg_error *err) {
    eg_status st = lg_count_get(lg, txn, "next_nid", nid, err);
    if (st) return st;
    if (*nid == 0) *nid = 1;
    uint64_t next = *nid + 1;
    MDB_val k = {8, "next_nid"}, v = {sizeof next, &next};
    int rc = mdb_put(txn, lg->meta, &k, &v, 0);
    return rc ? lg_mdb_error(lg, rc, "allocate node number", err) : EG_OK;
}

static eg_status insert_node(lmdb_graph *lg, MDB_txn *txn, eg_label label, const char *id, json_t *properties,
                             eg_error *err) {
    uint64_t nid;
    eg_status st = lg_lookup_nid(lg, txn, id, "node", &nid, err);
    if (st != EG_OK && st != EG_NOT_FOUND) return st;
    json_t *props = without_nulls(properties);
    if (!props) return eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st == EG_OK) { /* a retried create of the same node is a no-op; anything else is a conflict */
        eg_node existing;
        st = lg_read_node(lg, txn, nid, &existing, true, err);
        if (st == EG_OK) {
            bool same = existing.label == label && json_equal(existing.properties, props);
            st = same ? EG_OK
                      : eg_error_set(err, EG_CONFLICT,
                                     "node '%s' already exists (as %s) with different content; use update_node", id,
                                     eg_label_name(existing.label));
            eg_node_clear(&existing);
        }
        json_decref(props);
        return st;
    }
    char counter[LG_COUNTER_MAX];
    lg_label_counter(label, counter);
    size_t id_len = strlen(id);
    uint8_t label_code;
    unsigned char label_key[1 + EG_ID_MAX];
    MDB_val ik = {id_len, (void *)id}, nv = {sizeof nid, &nid}, lk = {1 + id_len, label_key};
    int rc;
    if ((st = lg_vocab_code(lg, txn, LG_VOCAB_LABEL, (int)label, true, &label_code, err)) ||
        (st = allocate_nid(lg, txn, &nid, err)) ||
        (st = put_node_record(lg, txn, nid, label_code, id, props, err))) {
        json_decref(props);
        return st;
    }
    json_decref(props);
    label_key[0] = label_code;
    memcpy(label_key + 1, id, id_len);
    if ((rc = mdb_put(txn, lg->ids, &ik, &nv, 0)) || (rc = mdb_put(txn, lg->labels, &lk, &nv, 0)))
        return lg_mdb_error(lg, rc, "index node", err);
    return lg_count_add(lg, txn, counter, 1, err);
}

eg_status lg_create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    eg_status st = lg_begin(lg, true, &txn, err);
    if (st) return st;
    if ((st = insert_node(lg, txn, label, id, properties, err))) {
        lg_abort(lg, txn);
        return st;
    }
    return lg_commit(lg, txn, "create_node", err);
}

eg_status lg_batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    eg_status st = lg_begin(lg, true, &txn, err);
    if (st) return st;
    for (size_t i = 0; i < count; i++)
        if ((st = insert_node(lg, txn, nodes[i].label, nodes[i].id, nodes[i].properties, err))) {
            lg_abort(lg, txn);
            return eg_error_prefix(err, st, "nodes[%zu]: ", i);
        }
    return lg_commit(lg, txn, "batch_create_nodes", err);
}

/* Resolves id to nid and checks the label filter; not-found messages name the label when one was asked. */
static eg_status find_node(lmdb_graph *lg, MDB_txn *txn, const char *id, eg_label label, uint64_t *nid,
                           eg_node *out, bool with_properties, eg_error *err) {
    eg_status st = lg_lookup_nid(lg, txn, id, "node", nid, err);
    if (st) return st;
    if ((st = lg_read_node(lg, txn, *nid, out, with_properties, err))) return st;
    if (label != EG_LABEL_ANY && out->label != label) {
        eg_node_clear(out);
        return eg_error_set(err, EG_NOT_FOUND, "node '%s' with label %s does not exist (it is %s)", id,
                            eg_label_name(label), eg_label_name(out->label));
    }
    return EG_OK;
}

eg_status lg_get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    uint64_t nid;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    st = find_node(lg, txn, id, label, &nid, out, true, err);
    lg_end(lg, txn);
    return st;
}

eg_status lg_get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    uint64_t nid;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    out->items = calloc(count ? count : 1, sizeof *out->items);
    if (!out->items) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        st = find_node(lg, txn, ids[i], EG_LABEL_ANY, &nid, &out->items[out->count], true, err);
        if (st == EG_OK) out->count++;
        if (st == EG_NOT_FOUND) st = EG_OK;
    }
    lg_end(lg, txn);
    if (st) eg_node_list_free(out);
    return st;
}

eg_status lg_update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    uint64_t nid;
    eg_node node;
    eg_status st = lg_begin(lg, true, &txn, err);
    if (st) return st;
    if ((st = find_node(lg, txn, id, label, &nid, &node, true, err))) {
        lg_abort(lg, txn);
        return st;
    }
    const char *key;
    json_t *value;
    json_object_foreach(properties, key, value) {
        if (json_is_null(value))
            json_object_del(node.properties, key);
        else
            json_object_set(node.properties, key, value);
    }
    uint8_t label_code;
    if ((st = lg_vocab_code(lg, txn, LG_VOCAB_LABEL, (int)node.label, false, &label_code, err)) == EG_OK)
        st = put_node_record(lg, txn, nid, label_code, id, node.properties, err);
    eg_node_clear(&node);
    if (st) {
        lg_abort(lg, txn);
        return st;
    }
    return lg_commit(lg, txn, "update_node", err);
}

/* Collects the keys of every relationship of a node (a self-loop once), to delete them after the scan. */
typedef struct key_list {
    rel_key *items;
    size_t count, cap;
} key_list;

static eg_status collect_key(void *ctx, const rel_key *key, int dir, const MDB_val *record, eg_error *err) {
    (void)record;
    key_list *l = ctx;
    if (dir == LG_IN && key->source == key->target) return EG_OK; /* a self-loop, already seen going out */
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        rel_key *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) return eg_error_set(err, EG_INTERNAL, "out of memory");
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = *key;
    return EG_OK;
}

eg_status lg_delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    uint64_t nid;
    eg_node node;
    key_list keys = {0};
    lg_adjacency adjacency = {0};
    eg_status st = lg_begin(lg, true, &txn, err);
    if (st) return st;
    if ((st = find_node(lg, txn, id, label, &nid, &node, false, err)) ||
        (st = lg_adjacency_open(lg, txn, &adjacency, err)) ||
        (st = lg_adjacency_scan(&adjacency, nid, LG_BOTH, collect_key, &keys, err))) {
        lg_adjacency_close(&adjacency);
        free(keys.items);
        lg_abort(lg, txn);
        return st;
    }
    lg_adjacency_close(&adjacency);
    for (size_t i = 0; i < keys.count && st == EG_OK; i++) st = lg_remove_relationship(lg, txn, &keys.items[i], err);
    free(keys.items);
    char counter[LG_COUNTER_MAX];
    lg_label_counter(node.label, counter);
    size_t id_len = strlen(id);
    unsigned char label_key[1 + EG_ID_MAX];
    if (st == EG_OK) st = lg_vocab_code(lg, txn, LG_VOCAB_LABEL, (int)node.label, false, &label_key[0], err);
    memcpy(label_key + 1, id, id_len);
    MDB_val nk = {sizeof nid, &nid}, ik = {id_len, (void *)id}, lk = {1 + id_len, label_key};
    int rc = 0;
    if (st == EG_OK && ((rc = mdb_del(txn, lg->nodes, &nk, NULL)) || (rc = mdb_del(txn, lg->ids, &ik, NULL)) ||
                        (rc = mdb_del(txn, lg->labels, &lk, NULL))))
        st = lg_mdb_error(lg, rc, "delete node", err);
    if (st == EG_OK) st = lg_count_add(lg, txn, counter, -1, err);
    if (st) {
        lg_abort(lg, txn);
        return st;
    }
    return lg_commit(lg, txn, "delete_node", err);
}

/* Whether the node nid holds the search's text: its stored JSON text is tested first (text_search.h), and only
 * a node that can hold it is read. *node is the node read when it does (else cleared). */
static eg_status search_node(lmdb_graph *lg, MDB_txn *txn, uint64_t nid, const eg_node_search *search, eg_node *node,
                             bool *hit, eg_error *err) {
    MDB_val k = {sizeof nid, &nid}, v;
    int rc = mdb_get(txn, lg->nodes, &k, &v);
    *hit = false;
    if (rc == 0 && v.mv_size >= 2 && (size_t)((unsigned char *)v.mv_data)[1] + 2 <= v.mv_size) {
        size_t off = 2 + (size_t)((unsigned char *)v.mv_data)[1];
        if (!eg_text_query_may_match_json(&search->query, (const char *)v.mv_data + off, v.mv_size - off))
            return EG_OK;
    }
    eg_status st = lg_read_node(lg, txn, nid, node, true, err); /* reports a missing or damaged record */
    if (st) return st;
    bool nomem = false;
    *hit = eg_node_search_matches(search, node->properties, &nomem);
    if (!*hit) eg_node_clear(node);
    return nomem ? eg_error_set(err, EG_INTERNAL, "out of memory") : EG_OK;
}

/* Walks the id index (any label) or the label index in id order: from just after `after_id`, or from the
 * search's id prefix, reading each node (list_nodes) or each node that holds the search's text (find_nodes). */
static eg_status walk_nodes(eg_graph *g, eg_label label, const eg_node_search *search, const char *after_id,
                            size_t limit, eg_node_list *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    MDB_cursor *cur;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    bool by_label = label != EG_LABEL_ANY;
    unsigned char start[1 + EG_ID_MAX];
    if (by_label && (st = lg_vocab_code(lg, txn, LG_VOCAB_LABEL, (int)label, false, &start[0], err))) {
        lg_end(lg, txn);
        return st == EG_NOT_FOUND ? EG_OK : st; /* a label the store has never held: no nodes */
    }
    int rc = mdb_cursor_open(txn, by_label ? lg->labels : lg->ids, &cur);
    if (rc) {
        lg_end(lg, txn);
        return lg_mdb_error(lg, rc, search ? "find_nodes" : "list_nodes", err);
    }
    const char *prefix = search ? search->filter->id_prefix : NULL;
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    if (prefix && after_id && strcmp(after_id, prefix) < 0) after_id = NULL; /* the prefix comes later */
    const char *from = after_id ? after_id : prefix;
    size_t key_prefix = by_label ? 1 : 0, start_len = key_prefix;
    if (from) {
        memcpy(start + key_prefix, from, strlen(from));
        start_len += strlen(from);
    }
    out->items = calloc(limit, sizeof *out->items);
    if (!out->items) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    MDB_val k = {start_len, start}, v;
    rc = start_len ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (st == EG_OK && rc == 0 && out->count < limit) {
        if (by_label && (k.mv_size < 1 || ((unsigned char *)k.mv_data)[0] != start[0])) break;
        const char *id = (const char *)k.mv_data + key_prefix;
        size_t id_len = k.mv_size - key_prefix;
        if (prefix && (id_len < prefix_len || memcmp(id, prefix, prefix_len) != 0)) break;
        bool is_cursor = after_id && k.mv_size == start_len && memcmp(k.mv_data, start, start_len) == 0;
        if (!is_cursor) {
            uint64_t nid;
            bool hit = true;
            memcpy(&nid, v.mv_data, sizeof nid);
            if (search) st = search_node(lg, txn, nid, search, &out->items[out->count], &hit, err);
            else st = lg_read_node(lg, txn, nid, &out->items[out->count], true, err);
            if (st) break;
            if (hit) out->count++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (st == EG_OK && rc != 0 && rc != MDB_NOTFOUND) st = lg_mdb_error(lg, rc, search ? "find_nodes" : "list_nodes", err);
    mdb_cursor_close(cur);
    lg_end(lg, txn);
    if (st) eg_node_list_free(out);
    return st;
}

eg_status lg_list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                        eg_error *err) {
    return walk_nodes(g, label, NULL, after_id, limit, out, err);
}

eg_status lg_find_nodes(eg_graph *g, eg_label label, const eg_node_search *search, const char *after_id,
                        size_t limit, eg_node_list *out, eg_error *err) {
    return walk_nodes(g, label, search, after_id, limit, out, err);
}

eg_status lg_count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err) {
    lmdb_graph *lg = lmdb_of(g);
    MDB_txn *txn;
    eg_status st = lg_begin(lg, false, &txn, err);
    if (st) return st;
    *out = 0;
    char counter[LG_COUNTER_MAX];
    uint64_t n;
    if (label != EG_LABEL_ANY) {
        lg_label_counter(label, counter);
        st = lg_count_get(lg, txn, counter, out, err);
        lg_end(lg, txn);
        return st;
    }
    unsigned codes;
    st = lg_vocab_size(lg, txn, LG_VOCAB_LABEL, &codes, err);
    for (unsigned code = 0; code < codes && st == EG_OK; code++) {
        int global;
        if ((st = lg_vocab_global(lg, txn, LG_VOCAB_LABEL, (uint8_t)code, &global, err))) break;
        lg_label_counter((eg_label)global, counter);
        if ((st = lg_count_get(lg, txn, counter, &n, err)) == EG_OK) *out += n;
    }
    lg_end(lg, txn);
    return st;
}
