/* local_points.c — point writes and reads of the embedded vector backend: upsert (all or nothing), get, payload
 * merge / overwrite / key removal, in-place vector updates, deletes by ids or filter. Each keeps the payload
 * indexes and the collection's count in step within the same transaction. */
#include "vector/distance.h"
#include "vector/local/local_vectors.h"
#include "util/json_text.h"

#include <stdlib.h>
#include <string.h>

/* Prepares a dense vector for storage: copied, and normalised for Cosine collections (a zero vector stays zero,
 * as in Qdrant). */
static void prepare_vector(const local_collection *c, const float *vector, float *out) {
    memcpy(out, vector, (size_t)c->config.dim * sizeof(float));
    if (c->config.distance == EG_DISTANCE_COSINE) eg_vec_normalize(out, c->config.dim);
}

/* Sparse records are prepared in aligned memory and copied in: LMDB places values at 2-byte alignment only. */
/* Writes (or, for an empty one, removes) a point's sparse vector: its indices ascending, then its values. */
static eg_status put_sparse(local_vectors *lv, MDB_txn *txn, MDB_val *key, const eg_sparse_vector *s,
                            eg_error *err) {
    int rc;
    if (s->count == 0) {
        rc = mdb_del(txn, lv->sparse, key, NULL);
        return rc == 0 || rc == MDB_NOTFOUND ? EG_OK : lv_mdb_error(lv, rc, "write sparse vector", err);
    }
    uint32_t *record = malloc(s->count * 8);
    if (!record) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_sparse_vector sorted = {record, (float *)(record + s->count), s->count};
    memcpy(sorted.indices, s->indices, s->count * 4);
    memcpy(sorted.values, s->values, s->count * 4);
    eg_status st = eg_sparse_sort(&sorted, err);
    MDB_val v = {s->count * 8, record};
    if (st == EG_OK && (rc = mdb_put(txn, lv->sparse, key, &v, 0))) st = lv_mdb_error(lv, rc, "write sparse vector", err);
    free(record);
    return st;
}

/* Writes a point's record: its slot, then its payload. */
static eg_status put_record(local_vectors *lv, MDB_txn *txn, MDB_val *key, uint32_t slot, json_t *payload,
                            eg_error *err) {
    char *text = payload && json_object_size(payload) ? eg_json_text(payload, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0;
    MDB_val v = {4 + len, NULL};
    int rc = mdb_put(txn, lv->points, key, &v, MDB_RESERVE);
    if (rc == 0) {
        memcpy(v.mv_data, &slot, 4);
        if (len) memcpy((char *)v.mv_data + 4, text, len);
    }
    free(text);
    return rc ? lv_mdb_error(lv, rc, "write point", err) : EG_OK;
}

/* Reads an existing point's slot and payload and removes its index entries; *existed false when there is none. */
static eg_status unindex_existing(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                                  const unsigned char key[ROW_KEY_SIZE], bool *existed, uint32_t *slot,
                                  eg_error *err) {
    lv_record r;
    eg_status st = lv_read_record(lv, txn, key, &r, err);
    *existed = st == EG_OK;
    if (st == EG_NOT_FOUND) return EG_OK;
    if (st) return st;
    *slot = r.slot;
    json_t *old = lv_record_payload(&r);
    if (!old) return eg_error_set(err, EG_CORRUPT, "a point's payload is damaged");
    st = lv_index_point(lv, txn, c, key, old, false, err);
    json_decref(old);
    return st;
}

static eg_status check_dim(const local_collection *c, const char *name, size_t dim, eg_error *err) {
    if (dim == c->config.dim) return EG_OK;
    return eg_error_set(err, EG_INVALID_ARGUMENT, "vector has %zu values; collection '%.255s' has dim %u", dim, name,
                        c->config.dim);
}

/* A point's vector goes to a new slot, and the slot it had (if any) is given up: a slot a snapshot names never
 * changes (local_slabs.c). edits receives one or two edits; *edit_count is advanced past them. */
static eg_status move_to_new_slot(local_vectors *lv, MDB_txn *txn, const local_collection *c, bool had_slot,
                                  uint32_t old_slot, const unsigned char kb[ROW_KEY_SIZE], const float *prepared,
                                  uint32_t *slot, lv_slot_edit *edits, size_t *edit_count, eg_error *err) {
    eg_status st;
    if (had_slot) {
        if ((st = lv_slot_release(lv, txn, c, old_slot, err))) return st;
        edits[(*edit_count)++] = (lv_slot_edit){.slot = old_slot};
    }
    if ((st = lv_slot_allocate(lv, txn, c, slot, err))) return st;
    lv_slot_edit *e = &edits[(*edit_count)++];
    *e = (lv_slot_edit){.slot = *slot, .vector = prepared};
    memcpy(e->point_key, kb + 4, POINT_KEY_SIZE);
    return EG_OK;
}

static eg_status upsert_one(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name,
                            const eg_point *p, lv_slot_edit *edits, size_t *edit_count, float *prepared,
                            int64_t *added, eg_error *err) {
    eg_status st;
    if ((st = check_dim(c, name, p->dim, err))) return st;
    if (p->sparse.count && !c->config.sparse)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "collection '%.255s' was created without sparse vectors", name);
    unsigned char kb[ROW_KEY_SIZE];
    lv_row_key(c->number, &p->id, kb);
    MDB_val key = {ROW_KEY_SIZE, kb};
    bool existed;
    uint32_t old_slot = 0, slot;
    if ((st = unindex_existing(lv, txn, c, kb, &existed, &old_slot, err))) return st;
    if (!existed) (*added)++;
    prepare_vector(c, p->vector, prepared);
    if ((st = move_to_new_slot(lv, txn, c, existed, old_slot, kb, prepared, &slot, edits, edit_count, err)) ||
        (st = put_record(lv, txn, &key, slot, p->payload, err)) || (st = put_sparse(lv, txn, &key, &p->sparse, err)))
        return st;
    return lv_index_point(lv, txn, c, kb, p->payload, true, err);
}

/* Vectors prepared for a batch, and one slot edit per changed slot: a body fills them, in_write writes them to
 * the chunks, commits, then hands the same edits to the collection's approximate index. */
typedef struct batch_vectors {
    lv_slot_edit *edits;
    float *prepared;
    size_t count;
} batch_vectors;

/* Runs `body` in a write transaction on a loaded collection; commits when it succeeds. */
typedef eg_status (*write_body)(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name,
                                void *ctx, batch_vectors *b, eg_error *err);

static eg_status in_write(local_vectors *lv, const char *name, const char *op, write_body body, void *ctx,
                          eg_error *err) {
    MDB_txn *txn;
    local_collection c;
    batch_vectors b = {0};
    lv_write_lock(lv);
    eg_status st = lv_begin(lv, true, &txn, err);
    if (st == EG_OK) {
        if ((st = lv_collection_load(lv, txn, name, &c, err)) == EG_OK) st = body(lv, txn, &c, name, ctx, &b, err);
        uint64_t version = 0;
        if (st == EG_OK && b.count > 0 && (st = lv_slots_apply(lv, txn, &c, b.edits, &b.count, err)) == EG_OK)
            st = lv_version_bump(lv, txn, c.number, &version, err);
        if (st) mdb_txn_abort(txn);
        else st = lv_commit(lv, txn, op, err);
        if (st == EG_OK && b.count > 0) lv_ann_apply(lv, &c, b.edits, b.count, version); /* sorted by slots_apply */
        lv_collection_clear(&c);
    }
    lv_write_unlock(lv);
    free(b.edits);
    free(b.prepared);
    return st;
}

typedef struct points_ctx {
    const eg_point *points;
    const eg_point_id *ids;
    size_t count;
    json_t *payload;
    eg_payload_mode mode;
    const char *const *keys;
    size_t key_count;
    const eg_filter *filter;
    uint64_t deleted;
} points_ctx;

/* Room for count points' vectors and their edits: two per point, its new slot and the one it gives up. */
static eg_status batch_alloc(const local_collection *c, size_t count, batch_vectors *b, eg_error *err) {
    b->edits = calloc(count ? 2 * count : 1, sizeof *b->edits);
    b->prepared = malloc((count ? count : 1) * (size_t)c->config.dim * sizeof(float));
    return b->edits && b->prepared ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

static eg_status upsert_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name, void *ctx,
                             batch_vectors *b, eg_error *err) {
    points_ctx *x = ctx;
    int64_t added = 0;
    eg_status st = batch_alloc(c, x->count, b, err);
    size_t edits = 0;
    for (size_t i = 0; i < x->count && st == EG_OK; i++) {
        st = upsert_one(lv, txn, c, name, &x->points[i], b->edits, &edits, b->prepared + i * (size_t)c->config.dim,
                        &added, err);
        eg_error_prefix(err, st, "points[%zu]: ", i);
    }
    if (st == EG_OK) b->count = edits;
    return st ? st : lv_count_add(lv, txn, c->number, added, err);
}

eg_status lv_upsert(eg_vectors *v, const char *collection, const eg_point *points, size_t count, eg_error *err) {
    points_ctx x = {.points = points, .count = count};
    return in_write(local_of(v), collection, "upsert", upsert_body, &x, err);
}

eg_status lv_get(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count, bool with_payload,
                 bool with_vectors, eg_point_list *out, eg_error *err) {
    local_vectors *lv = local_of(v);
    MDB_txn *txn;
    local_collection c;
    eg_status st = lv_begin(lv, false, &txn, err);
    if (st) return st;
    if ((st = lv_collection_load_for_read(lv, txn, collection, &c, err))) {
        lv_end(lv, txn);
        return st;
    }
    out->items = calloc(count ? count : 1, sizeof *out->items);
    if (!out->items) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        unsigned char kb[ROW_KEY_SIZE];
        lv_row_key(c.number, &ids[i], kb);
        MDB_val key = {ROW_KEY_SIZE, kb}, val;
        int rc = mdb_get(txn, lv->points, &key, &val);
        if (rc == MDB_NOTFOUND) continue;
        if (rc) {
            st = lv_mdb_error(lv, rc, "get", err);
            break;
        }
        eg_point *p = &out->items[out->count++];
        p->id = ids[i];
        st = lv_read_point(lv, txn, &c, kb, with_payload, with_vectors, p, err);
    }
    lv_collection_clear(&c);
    lv_end(lv, txn);
    if (st) eg_point_list_free(out);
    return st;
}

/* Every id must name an existing point: a payload update of a missing point is an error, not a silent no-op. */
static eg_status require_point(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name,
                               const eg_point_id *id, unsigned char kb[ROW_KEY_SIZE], uint32_t *slot, json_t **payload,
                               eg_error *err) {
    lv_row_key(c->number, id, kb);
    lv_record r;
    eg_status st = lv_read_record(lv, txn, kb, &r, err);
    if (st == EG_NOT_FOUND) {
        char text[EG_POINT_ID_TEXT];
        eg_point_id_format(id, text);
        return eg_error_set(err, EG_NOT_FOUND, "point %s does not exist in collection '%.255s'", text, name);
    }
    if (st) return st;
    *slot = r.slot;
    *payload = lv_record_payload(&r);
    return *payload ? EG_OK : eg_error_set(err, EG_CORRUPT, "a point's payload is damaged");
}

/* Replaces a point's payload, keeping its index entries in step. */
static eg_status replace_payload(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                                 const unsigned char kb[ROW_KEY_SIZE], uint32_t slot, json_t *old, json_t *payload,
                                 eg_error *err) {
    MDB_val key = {ROW_KEY_SIZE, (void *)kb};
    eg_status st;
    if ((st = lv_index_point(lv, txn, c, kb, old, false, err)) || (st = put_record(lv, txn, &key, slot, payload, err)))
        return st;
    return lv_index_point(lv, txn, c, kb, payload, true, err);
}

/* A payload change: the new payload (a new reference, NULL when out of memory) from the old one. */
typedef json_t *(*payload_change)(const points_ctx *x, json_t *old);

/* Applies a payload change to every id, each of which must exist. */
static eg_status change_payloads(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name,
                                 const points_ctx *x, payload_change change, eg_error *err) {
    eg_status st = EG_OK;
    for (size_t i = 0; i < x->count && st == EG_OK; i++) {
        unsigned char kb[ROW_KEY_SIZE];
        uint32_t slot = 0;
        json_t *old;
        if ((st = require_point(lv, txn, c, name, &x->ids[i], kb, &slot, &old, err))) break;
        json_t *updated = change(x, old);
        st = updated ? replace_payload(lv, txn, c, kb, slot, old, updated, err)
                     : eg_error_set(err, EG_INTERNAL, "out of memory");
        json_decref(updated);
        json_decref(old);
    }
    return st;
}

static json_t *merge_or_overwrite(const points_ctx *x, json_t *old) {
    json_t *updated = json_copy(x->mode == EG_PAYLOAD_OVERWRITE ? x->payload : old);
    if (updated && x->mode == EG_PAYLOAD_MERGE && json_object_update(updated, x->payload) != 0) {
        json_decref(updated);
        return NULL;
    }
    return updated;
}

static json_t *without_keys(const points_ctx *x, json_t *old) {
    json_t *updated = json_copy(old);
    for (size_t k = 0; updated && k < x->key_count; k++) json_object_del(updated, x->keys[k]);
    return updated;
}

static eg_status set_payload_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name,
                                  void *ctx, batch_vectors *b, eg_error *err) {
    (void)b;
    return change_payloads(lv, txn, c, name, ctx, merge_or_overwrite, err);
}

static eg_status delete_keys_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name,
                                  void *ctx, batch_vectors *b, eg_error *err) {
    (void)b;
    return change_payloads(lv, txn, c, name, ctx, without_keys, err);
}

eg_status lv_set_payload(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                         json_t *payload, eg_payload_mode mode, eg_error *err) {
    points_ctx x = {.ids = ids, .count = count, .payload = payload, .mode = mode};
    return in_write(local_of(v), collection, "set_payload", set_payload_body, &x, err);
}

eg_status lv_delete_payload_keys(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                 const char *const *keys, size_t key_count, eg_error *err) {
    points_ctx x = {.ids = ids, .count = count, .keys = keys, .key_count = key_count};
    return in_write(local_of(v), collection, "delete_payload_keys", delete_keys_body, &x, err);
}

static eg_status update_vectors_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name,
                                     void *ctx, batch_vectors *b, eg_error *err) {
    points_ctx *x = ctx;
    eg_status st = batch_alloc(c, x->count, b, err);
    size_t edits = 0;
    for (size_t i = 0; i < x->count && st == EG_OK; i++) {
        const eg_point *p = &x->points[i];
        unsigned char kb[ROW_KEY_SIZE];
        uint32_t slot = 0;
        json_t *old = NULL;
        if ((st = check_dim(c, name, p->dim, err)) || (st = require_point(lv, txn, c, name, &p->id, kb, &slot, &old, err))) {
            eg_error_prefix(err, st, "points[%zu]: ", i);
            break;
        }
        float *prepared = b->prepared + i * (size_t)c->config.dim;
        prepare_vector(c, p->vector, prepared);
        uint32_t new_slot;
        MDB_val key = {ROW_KEY_SIZE, kb};
        if ((st = move_to_new_slot(lv, txn, c, true, slot, kb, prepared, &new_slot, b->edits, &edits, err)) == EG_OK)
            st = put_record(lv, txn, &key, new_slot, old, err);
        json_decref(old);
    }
    if (st == EG_OK) b->count = edits;
    return st;
}

eg_status lv_update_vectors(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                            eg_error *err) {
    points_ctx x = {.points = points, .count = count};
    return in_write(local_of(v), collection, "update_vectors", update_vectors_body, &x, err);
}

/* Removes one point entirely (its slot emptied through *edit); *existed tells whether there was one. */
static eg_status remove_point(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                              const unsigned char kb[ROW_KEY_SIZE], lv_slot_edit *edit, bool *existed, eg_error *err) {
    uint32_t slot = 0;
    eg_status st = unindex_existing(lv, txn, c, kb, existed, &slot, err);
    if (st || !*existed) return st;
    MDB_val key = {ROW_KEY_SIZE, (void *)kb};
    MDB_dbi tables[] = {lv->points, lv->sparse};
    for (size_t i = 0; i < 2; i++) {
        int rc = mdb_del(txn, tables[i], &key, NULL);
        if (rc && rc != MDB_NOTFOUND) return lv_mdb_error(lv, rc, "delete point", err);
    }
    *edit = (lv_slot_edit){.slot = slot};
    return lv_slot_release(lv, txn, c, slot, err);
}

static eg_status collect_key(void *ctx, const unsigned char key[ROW_KEY_SIZE], eg_error *err) {
    return lv_key_list_push(ctx, key, err);
}

static eg_status delete_body(local_vectors *lv, MDB_txn *txn, const local_collection *c, const char *name, void *ctx,
                             batch_vectors *b, eg_error *err) {
    (void)name;
    points_ctx *x = ctx;
    lv_key_list keys = {0};
    eg_status st = EG_OK;
    if (x->filter) {
        st = lv_for_each_match(lv, txn, c, x->filter, NULL, collect_key, &keys, err);
    } else {
        for (size_t i = 0; i < x->count && st == EG_OK; i++) {
            unsigned char kb[ROW_KEY_SIZE];
            lv_row_key(c->number, &x->ids[i], kb);
            st = collect_key(&keys, kb, err);
        }
    }
    int64_t removed = 0;
    lv_slot_edit *edits = b->edits = calloc(keys.count ? keys.count : 1, sizeof *edits);
    if (!edits && st == EG_OK) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < keys.count && st == EG_OK; i++) {
        bool existed;
        st = remove_point(lv, txn, c, keys.keys[i], &edits[removed], &existed, err);
        removed += existed;
    }
    if (st == EG_OK) b->count = (size_t)removed;
    lv_key_list_free(&keys);
    x->deleted = (uint64_t)removed;
    return st ? st : lv_count_add(lv, txn, c->number, -removed, err);
}

eg_status lv_delete_points(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                           const eg_filter *filter, uint64_t *deleted, eg_error *err) {
    points_ctx x = {.ids = ids, .count = count, .filter = filter};
    eg_status st = in_write(local_of(v), collection, "delete", delete_body, &x, err);
    *deleted = st == EG_OK ? x.deleted : 0;
    return st;
}
