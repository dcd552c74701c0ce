/* lmdb_store.c — the embedded graph backend: opening the LMDB environment, its layout version, the folder lock,
 * and the record encodings every other lmdb_*.c file shares (see lmdb_graph.h for the layout). */
#include "graph/lmdb/lmdb_graph.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAP_SIZE (64ull << 30)

static const eg_graph_ops lmdb_ops;

eg_status lg_mdb_error(lmdb_graph *lg, int rc, const char *op, eg_error *err) {
    return eg_lmdb_error(&lg->lmdb, rc, op, err);
}

eg_status lg_begin(lmdb_graph *lg, bool write, MDB_txn **txn, eg_error *err) {
    if (lg->is_view) {
        *txn = lg->tx_txn;
        return *txn ? EG_OK
                    : eg_error_set(err, EG_CONFLICT,
                                   "the graph store was closed while this transaction was open: its writes were "
                                   "dropped; roll it back");
    }
    if (write && lg_in_transaction(lg))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "this thread has a transaction open on the graph store: write through the transaction, "
                            "or end it first");
    return eg_lmdb_begin(&lg->lmdb, write, txn, err);
}

eg_status lg_commit(lmdb_graph *lg, MDB_txn *txn, const char *op, eg_error *err) {
    return lg->is_view ? EG_OK : eg_lmdb_commit(&lg->lmdb, txn, op, err);
}

void lg_end(lmdb_graph *lg, MDB_txn *txn) {
    if (!lg->is_view) mdb_txn_abort(txn);
}

void lg_abort(lmdb_graph *lg, MDB_txn *txn) {
    if (lg->is_view)
        lg->tx_failed = true;
    else
        mdb_txn_abort(txn);
}

eg_status lg_lookup_nid(lmdb_graph *lg, MDB_txn *txn, const char *id, const char *role, uint64_t *nid,
                        eg_error *err) {
    MDB_val k = {strlen(id), (void *)id}, v;
    int rc = mdb_get(txn, lg->ids, &k, &v);
    if (rc == MDB_NOTFOUND) return eg_error_set(err, EG_NOT_FOUND, "%s '%s' does not exist", role, id);
    if (rc) return lg_mdb_error(lg, rc, "lookup", err);
    memcpy(nid, v.mv_data, sizeof *nid);
    return EG_OK;
}

eg_status lg_read_node(lmdb_graph *lg, MDB_txn *txn, uint64_t nid, eg_node *out, bool with_properties,
                       eg_error *err) {
    MDB_val k = {sizeof nid, &nid}, v;
    int rc = mdb_get(txn, lg->nodes, &k, &v);
    if (rc) return rc == MDB_NOTFOUND ? eg_error_set(err, EG_CORRUPT, "node #%llu is indexed but missing",
                                                     (unsigned long long)nid)
                                      : lg_mdb_error(lg, rc, "read node", err);
    const unsigned char *p = v.mv_data;
    if (v.mv_size < 2 || (size_t)p[1] + 2 > v.mv_size)
        return eg_error_set(err, EG_CORRUPT, "node #%llu has a damaged record", (unsigned long long)nid);
    int label;
    eg_status st = lg_vocab_global(lg, txn, LG_VOCAB_LABEL, p[0], &label, err);
    if (st) return st;
    out->label = (eg_label)label;
    memcpy(out->id, p + 2, p[1]);
    out->id[p[1]] = '\0';
    out->properties = NULL;
    if (!with_properties) return EG_OK;
    size_t off = 2 + (size_t)p[1];
    json_error_t jerr;
    out->properties = json_loadb((const char *)p + off, v.mv_size - off, 0, &jerr);
    if (!out->properties) return eg_error_set(err, EG_CORRUPT, "node '%s' has damaged properties", out->id);
    return EG_OK;
}

void lg_label_counter(eg_label label, char out[LG_COUNTER_MAX]) {
    snprintf(out, LG_COUNTER_MAX, "count.%s", eg_label_name(label));
}

eg_status lg_count_get(lmdb_graph *lg, MDB_txn *txn, const char *name, uint64_t *out, eg_error *err) {
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, lg->meta, &k, &v);
    *out = 0;
    if (rc == MDB_NOTFOUND) return EG_OK;
    if (rc) return lg_mdb_error(lg, rc, "read counter", err);
    memcpy(out, v.mv_data, sizeof *out);
    return EG_OK;
}

eg_status lg_count_add(lmdb_graph *lg, MDB_txn *txn, const char *name, int64_t delta, eg_error *err) {
    uint64_t n;
    eg_status st = lg_count_get(lg, txn, name, &n, err);
    if (st) return st;
    n = (uint64_t)((int64_t)n + delta);
    MDB_val k = {strlen(name), (void *)name}, v = {sizeof n, &n};
    int rc = mdb_put(txn, lg->meta, &k, &v, 0);
    return rc ? lg_mdb_error(lg, rc, "update counter", err) : EG_OK;
}

/* Big-endian nids so that a source's relationships are adjacent and ordered in the rels tree. */
void lg_encode_rel_key(const rel_key *k, unsigned char out[REL_KEY_SIZE]) {
    uint64_t s = htobe64(k->source), t = htobe64(k->target);
    memcpy(out, &s, 8);
    out[8] = k->type;
    memcpy(out + 9, &t, 8);
}

void lg_decode_rel_key(const unsigned char in[REL_KEY_SIZE], rel_key *k) {
    uint64_t s, t;
    memcpy(&s, in, 8);
    memcpy(&t, in + 9, 8);
    k->source = be64toh(s);
    k->type = in[8];
    k->target = be64toh(t);
}

void lg_encode_mirror_key(const rel_key *k, unsigned char out[REL_KEY_SIZE]) {
    rel_key mirrored = {k->target, k->type, k->source};
    lg_encode_rel_key(&mirrored, out);
}

void lg_decode_mirror_key(const unsigned char in[REL_KEY_SIZE], rel_key *k) {
    rel_key mirrored;
    lg_decode_rel_key(in, &mirrored);
    *k = (rel_key){mirrored.target, mirrored.type, mirrored.source};
}

void lg_decode_rel_header(const void *data, rel_header *h) { memcpy(h, data, REL_HEADER_SIZE); }
void lg_encode_rel_header(const rel_header *h, void *out) { memcpy(out, h, REL_HEADER_SIZE); }

eg_status lg_remove_relationship(lmdb_graph *lg, MDB_txn *txn, const rel_key *k, eg_error *err) {
    unsigned char kb[REL_KEY_SIZE], mb[REL_KEY_SIZE];
    lg_encode_rel_key(k, kb);
    lg_encode_mirror_key(k, mb);
    MDB_val key = {REL_KEY_SIZE, kb}, mirror = {REL_KEY_SIZE, mb};
    int rc = mdb_del(txn, lg->rels, &key, NULL);
    if (rc == 0) rc = mdb_del(txn, lg->rels_in, &mirror, NULL);
    if (rc) return lg_mdb_error(lg, rc, "delete relationship", err);
    return lg_count_add(lg, txn, "count.rels", -1, err);
}

/* The id of node nid; `known` (may be NULL) is a node the caller has already read, to skip reading it again. */
static eg_status node_id_of(lmdb_graph *lg, MDB_txn *txn, uint64_t nid, const lg_known_node *known,
                            char out[EG_ID_MAX + 1], eg_error *err) {
    if (known && known->nid == nid) {
        memcpy(out, known->id, EG_ID_MAX + 1);
        return EG_OK;
    }
    eg_node n;
    eg_status st = lg_read_node(lg, txn, nid, &n, false, err);
    if (st == EG_OK) memcpy(out, n.id, sizeof n.id);
    return st;
}

eg_status lg_make_relationship(lmdb_graph *lg, MDB_txn *txn, const rel_key *k, const MDB_val *value,
                               const lg_known_node *known, eg_relationship *out, eg_error *err) {
    eg_status st;
    memset(out, 0, sizeof *out);
    if ((st = node_id_of(lg, txn, k->source, known, out->source_id, err)) ||
        (st = node_id_of(lg, txn, k->target, known, out->target_id, err)))
        return st;
    int type;
    if ((st = lg_vocab_global(lg, txn, LG_VOCAB_TYPE, k->type, &type, err))) return st;
    out->type = (eg_rel_type)type;
    if (value->mv_size < REL_HEADER_SIZE) return eg_error_set(err, EG_CORRUPT, "a relationship record is damaged");
    rel_header h;
    lg_decode_rel_header(value->mv_data, &h);
    size_t json_len = value->mv_size - REL_HEADER_SIZE;
    json_error_t jerr;
    out->properties = json_len ? json_loadb((const char *)value->mv_data + REL_HEADER_SIZE, json_len, 0, &jerr)
                               : json_object();
    if (!out->properties) return eg_error_set(err, EG_CORRUPT, "a relationship of '%s' has damaged properties",
                                              out->source_id);
    if (h.weight == h.weight) json_object_set_new(out->properties, EG_PROP_WEIGHT, json_real(h.weight));
    if (h.co_access_count >= 0)
        json_object_set_new(out->properties, EG_PROP_CO_ACCESS, json_integer(h.co_access_count));
    json_object_set_new(out->properties, EG_PROP_LAST_ACCESSED, json_integer(h.last_accessed));
    return EG_OK;
}

/* ---- opening ------------------------------------------------------------------------------------------- */

eg_status eg_graph_open_lmdb(const char *dir, const eg_graph_lmdb_options *options, eg_graph **out,
                             eg_error *err) {
    if (!dir || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "graph folder or out is NULL");
    *out = NULL;
    lmdb_graph *lg = calloc(1, sizeof *lg);
    if (!lg) return eg_error_set(err, EG_INTERNAL, "out of memory");
    lg->base.ops = &lmdb_ops;
    lg->base.name = "graph";
    eg_lmdb_options lmdb_options = {"graph", options ? options->map_size_bytes : 0, DEFAULT_MAP_SIZE,
                                    options && options->no_sync, LMDB_GRAPH_FORMAT};
    const eg_lmdb_table tables[] = {
        {"meta", 0, &lg->meta},   {"ids", 0, &lg->ids},   {"nodes", MDB_INTEGERKEY, &lg->nodes},
        {"labels", 0, &lg->labels}, {"rels", 0, &lg->rels}, {"rels_in", 0, &lg->rels_in},
    };
    eg_status st = eg_lmdb_open(dir, &lmdb_options, tables, sizeof tables / sizeof tables[0], &lg->lmdb, err);
    if (st == EG_OK && (st = lg_transactions_new(lg, err))) eg_lmdb_close(&lg->lmdb);
    if (st) {
        free(lg);
        return st;
    }
    *out = &lg->base;
    return EG_OK;
}

/* A transaction still open is ended first (see lg_transactions_free): LMDB must not close under one. */
static void lmdb_close(eg_graph *g) {
    lmdb_graph *lg = lmdb_of(g);
    lg_transactions_free(lg);
    eg_lmdb_close(&lg->lmdb);
    free(lg);
}

static const eg_graph_ops lmdb_ops = {
    LG_OPERATIONS,
    .begin = lg_tx_begin,
    .close = lmdb_close,
};
