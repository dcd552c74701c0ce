/* lmdb_adjacency.c — a node's neighbourhood in the embedded graph backend: its outgoing relationships are the
 * range of rels keys that start with its nid, its incoming ones the same range of rels_in (see lmdb_graph.h).
 * Traversal (find_path), reads (get_relationships) and node deletion all go through this one scan. */
#include "graph/lmdb/lmdb_graph.h"

#include <endian.h>
#include <string.h>

eg_status lg_adjacency_open(lmdb_graph *lg, MDB_txn *txn, lg_adjacency *a, eg_error *err) {
    a->lg = lg;
    a->out = a->in = NULL;
    int rc = mdb_cursor_open(txn, lg->rels, &a->out);
    if (rc == 0) rc = mdb_cursor_open(txn, lg->rels_in, &a->in);
    if (rc) {
        lg_adjacency_close(a);
        return lg_mdb_error(lg, rc, "read relationships", err);
    }
    return EG_OK;
}

void lg_adjacency_close(lg_adjacency *a) {
    if (a->out) mdb_cursor_close(a->out);
    if (a->in) mdb_cursor_close(a->in);
    a->out = a->in = NULL;
}

/* Visits every key of `cur` that starts with the 8-byte prefix. */
static eg_status scan_range(lmdb_graph *lg, MDB_cursor *cur, const unsigned char prefix[8], int dir,
                            lg_adjacency_visit visit, void *ctx, eg_error *err) {
    MDB_val k = {8, (void *)prefix}, v;
    int rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != REL_KEY_SIZE || memcmp(k.mv_data, prefix, 8) != 0) break;
        rel_key key;
        if (dir == LG_OUT)
            lg_decode_rel_key(k.mv_data, &key);
        else
            lg_decode_mirror_key(k.mv_data, &key);
        eg_status st = visit(ctx, &key, dir, dir == LG_OUT ? &v : NULL, err);
        if (st) return st;
    }
    return rc == 0 || rc == MDB_NOTFOUND ? EG_OK : lg_mdb_error(lg, rc, "read relationships", err);
}

eg_status lg_adjacency_scan(lg_adjacency *a, uint64_t nid, int dirs, lg_adjacency_visit visit, void *ctx,
                            eg_error *err) {
    uint64_t be = htobe64(nid);
    unsigned char prefix[8];
    memcpy(prefix, &be, 8);
    eg_status st = EG_OK;
    if (dirs & LG_OUT) st = scan_range(a->lg, a->out, prefix, LG_OUT, visit, ctx, err);
    if (st == EG_OK && (dirs & LG_IN)) st = scan_range(a->lg, a->in, prefix, LG_IN, visit, ctx, err);
    return st;
}
