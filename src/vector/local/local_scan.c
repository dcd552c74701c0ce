/* local_scan.c — walking the points of a collection that match a filter, in id order: from the candidates of a
 * payload index when one applies (so an indexed filter never scans the collection), otherwise along the points
 * table. count, scroll, delete-by-filter and filtered search all go through lv_for_each_match. */
#include "vector/local/local_vectors.h"

#include <stdlib.h>
#include <string.h>

eg_status lv_key_list_push(lv_key_list *l, const unsigned char key[ROW_KEY_SIZE], eg_error *err) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        void *grown = realloc(l->keys, cap * sizeof *l->keys);
        if (!grown) return eg_error_set(err, EG_INTERNAL, "out of memory");
        l->keys = grown;
        l->cap = cap;
    }
    memcpy(l->keys[l->count++], key, ROW_KEY_SIZE);
    return EG_OK;
}

void lv_key_list_free(lv_key_list *l) {
    free(l->keys);
    memset(l, 0, sizeof *l);
}

/* Evaluates the filter on one point (payload parsed from its record) and calls visit when it matches. */
static eg_status visit_if_match(const eg_filter *filter, const unsigned char key[ROW_KEY_SIZE], const MDB_val *record,
                                lv_point_visitor visit, void *ctx, eg_error *err) {
    if (!filter) return visit(ctx, key, err);
    lv_record r;
    eg_status decoded = lv_record_decode(record, &r, err);
    if (decoded) return decoded;
    json_t *payload = lv_record_payload(&r);
    if (!payload) return eg_error_set(err, EG_CORRUPT, "a point's payload is damaged");
    eg_point_id id;
    lv_row_key_id(key, &id);
    bool match = eg_filter_matches(filter, &id, payload);
    json_decref(payload);
    return match ? visit(ctx, key, err) : EG_OK;
}

/* The candidates of an index, from `start`: exact ones are visited as they are (the index and the points are one
 * snapshot, so each names a point that exists and matches); others are read and tested. */
static eg_status scan_candidates(local_vectors *lv, MDB_txn *txn, const eg_filter *filter, const lv_key_list *keys,
                                 const unsigned char *start, lv_point_visitor visit, void *ctx, eg_error *err) {
    for (size_t i = 0; i < keys->count; i++) {
        if (start && memcmp(keys->keys[i], start, ROW_KEY_SIZE) < 0) continue;
        eg_status st;
        if (keys->exact) {
            st = visit(ctx, keys->keys[i], err);
        } else {
            MDB_val k = {ROW_KEY_SIZE, keys->keys[i]}, v;
            int rc = mdb_get(txn, lv->points, &k, &v);
            if (rc == MDB_NOTFOUND) continue;
            if (rc) return lv_mdb_error(lv, rc, "read point", err);
            st = visit_if_match(filter, keys->keys[i], &v, visit, ctx, err);
        }
        if (st) return st;
    }
    return EG_OK;
}

static eg_status scan_points(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_filter *filter,
                             const unsigned char *start, lv_point_visitor visit, void *ctx, eg_error *err) {
    unsigned char prefix[4], first[ROW_KEY_SIZE];
    lv_collection_prefix(c->number, prefix);
    memset(first, 0, sizeof first);
    memcpy(first, start ? start : prefix, start ? ROW_KEY_SIZE : 4);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lv->points, &cur);
    if (rc) return lv_mdb_error(lv, rc, "scan points", err);
    eg_status st = EG_OK;
    MDB_val k = {start ? ROW_KEY_SIZE : 4, first}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && st == EG_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != ROW_KEY_SIZE || memcmp(k.mv_data, prefix, 4) != 0) break;
        st = visit_if_match(filter, k.mv_data, &v, visit, ctx, err);
    }
    mdb_cursor_close(cur);
    if (st == EG_OK && rc != 0 && rc != MDB_NOTFOUND) st = lv_mdb_error(lv, rc, "scan points", err);
    return st;
}

eg_status lv_for_each_match(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_filter *filter,
                            const unsigned char *start, lv_point_visitor visit, void *ctx, eg_error *err) {
    bool used = false;
    lv_key_list keys = {0};
    eg_status st = filter ? lv_index_candidates(lv, txn, c, filter, &used, &keys, err) : EG_OK;
    if (st == EG_OK)
        st = used ? scan_candidates(lv, txn, filter, &keys, start, visit, ctx, err)
                  : scan_points(lv, txn, c, filter, start, visit, ctx, err);
    lv_key_list_free(&keys);
    return st == LV_STOP ? EG_OK : st;
}

eg_status lv_for_each_candidate(local_vectors *lv, MDB_txn *txn, const eg_filter *filter, const lv_key_list *keys,
                                lv_point_visitor visit, void *ctx, eg_error *err) {
    eg_status st = scan_candidates(lv, txn, filter, keys, NULL, visit, ctx, err);
    return st == LV_STOP ? EG_OK : st;
}

eg_status lv_in_read(local_vectors *lv, const char *name, lv_read_body body, void *ctx, eg_error *err) {
    MDB_txn *txn;
    local_collection c;
    eg_status st = lv_begin(lv, false, &txn, err);
    if (st) return st;
    if ((st = lv_collection_load_for_read(lv, txn, name, &c, err)) == EG_OK) {
        st = body(lv, txn, &c, ctx, err);
        lv_collection_clear(&c);
    }
    lv_end(lv, txn);
    return st;
}

typedef struct count_ctx {
    const eg_filter *filter;
    uint64_t n;
} count_ctx;

static eg_status count_one(void *ctx, const unsigned char key[ROW_KEY_SIZE], eg_error *err) {
    (void)key, (void)err;
    ((count_ctx *)ctx)->n++;
    return EG_OK;
}

static eg_status count_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, void *ctx, eg_error *err) {
    count_ctx *x = ctx;
    if (!x->filter) return lv_count_get(lv, txn, c->number, &x->n, err);
    return lv_for_each_match(lv, txn, c, x->filter, NULL, count_one, x, err);
}

eg_status lv_count(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out, eg_error *err) {
    count_ctx x = {filter, 0};
    eg_status st = lv_in_read(local_of(v), collection, count_body, &x, err);
    *out = x.n;
    return st;
}

typedef struct scroll_ctx {
    local_vectors *lv;
    MDB_txn *txn;
    const local_collection *c;
    const eg_scroll_request *request;
    eg_point_list *out;
    eg_point_id *next_offset;
    bool *has_next;
} scroll_ctx;

static eg_status scroll_one(void *ctx, const unsigned char key[ROW_KEY_SIZE], eg_error *err) {
    scroll_ctx *x = ctx;
    if (x->out->count == x->request->limit) { /* one more than asked: where the next page starts */
        lv_row_key_id(key, x->next_offset);
        *x->has_next = true;
        return LV_STOP;
    }
    eg_point *p = &x->out->items[x->out->count++];
    lv_row_key_id(key, &p->id);
    return lv_read_point(x->lv, x->txn, x->c, key, x->request->with_payload, x->request->with_vectors, p, err);
}

static eg_status scroll_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, void *ctx, eg_error *err) {
    scroll_ctx *x = ctx;
    x->lv = lv, x->txn = txn, x->c = c;
    x->out->items = calloc(x->request->limit, sizeof *x->out->items);
    if (!x->out->items) return eg_error_set(err, EG_INTERNAL, "out of memory");
    unsigned char start[ROW_KEY_SIZE];
    if (x->request->offset) lv_row_key(c->number, x->request->offset, start);
    return lv_for_each_match(lv, txn, c, x->request->filter, x->request->offset ? start : NULL, scroll_one, x, err);
}

eg_status lv_scroll(eg_vectors *v, const char *collection, const eg_scroll_request *request, eg_point_list *out,
                    eg_point_id *next_offset, bool *has_next, eg_error *err) {
    scroll_ctx x = {.request = request, .out = out, .next_offset = next_offset, .has_next = has_next};
    eg_status st = lv_in_read(local_of(v), collection, scroll_body, &x, err);
    if (st) eg_point_list_free(out);
    return st;
}
