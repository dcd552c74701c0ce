/* local_chunks.c — dense vectors stored by slot, many slots to a chunk (see local_vectors.h).
 *
 * A chunk is one LMDB value: `chunk` point keys (17 bytes each, kind 0xFF marking an empty slot), padded to a
 * multiple of 16 bytes, then `chunk` vectors of dim floats. Large values live on their own contiguous pages,
 * 16-byte aligned, so exact search reads each chunk as one stream and scores it with the block scorer. A chunk
 * is rewritten whole when any of its slots changes; edits are grouped so that a batch rewrites each chunk once. */
#include "vector/distance.h"
#include "vector/local/local_vectors.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES_TARGET 262144u
#define CHUNK_SLOTS_MAX 4096u

uint32_t lv_chunk_slots(uint32_t dim) {
    uint32_t slots = CHUNK_BYTES_TARGET / (dim * (uint32_t)sizeof(float));
    return slots < 1 ? 1 : slots > CHUNK_SLOTS_MAX ? CHUNK_SLOTS_MAX : slots;
}

static size_t ids_bytes(const local_collection *c) { return ((size_t)c->chunk * POINT_KEY_SIZE + 15) & ~(size_t)15; }
static size_t chunk_bytes(const local_collection *c) {
    return ids_bytes(c) + (size_t)c->chunk * c->config.dim * sizeof(float);
}

static void chunk_key(uint32_t collection, uint32_t chunk, unsigned char out[8]) {
    uint32_t be = htobe32(chunk);
    lv_collection_prefix(collection, out);
    memcpy(out + 4, &be, 4);
}

static int compare_edits(const void *pa, const void *pb) {
    const lv_slot_edit *a = pa, *b = pb;
    return (a->slot > b->slot) - (a->slot < b->slot);
}

/* Rewrites one chunk with the edits [first, last) that fall in it. */
static eg_status rewrite_chunk(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t chunk,
                               const lv_slot_edit *edits, size_t count, unsigned char *buffer, eg_error *err) {
    unsigned char key[8];
    chunk_key(c->number, chunk, key);
    MDB_val k = {8, key}, v;
    size_t size = chunk_bytes(c), dim_bytes = (size_t)c->config.dim * sizeof(float);
    int rc = mdb_get(txn, lv->dense, &k, &v);
    if (rc == 0 && v.mv_size == size) {
        memcpy(buffer, v.mv_data, size);
    } else if (rc == MDB_NOTFOUND) {
        memset(buffer, 0, size);
        for (uint32_t s = 0; s < c->chunk; s++) buffer[s * POINT_KEY_SIZE] = LV_EMPTY_SLOT;
    } else {
        return rc ? lv_mdb_error(lv, rc, "read vectors", err) : eg_error_set(err, EG_CORRUPT, "a vector chunk is damaged");
    }
    float *vectors = (float *)(buffer + ids_bytes(c));
    for (size_t i = 0; i < count; i++) {
        uint32_t s = edits[i].slot % c->chunk;
        if (edits[i].vector) {
            memcpy(buffer + (size_t)s * POINT_KEY_SIZE, edits[i].point_key, POINT_KEY_SIZE);
            memcpy(vectors + (size_t)s * c->config.dim, edits[i].vector, dim_bytes);
        } else {
            buffer[(size_t)s * POINT_KEY_SIZE] = LV_EMPTY_SLOT;
            memset(vectors + (size_t)s * c->config.dim, 0, dim_bytes);
        }
    }
    MDB_val nv = {size, buffer};
    rc = mdb_put(txn, lv->dense, &k, &nv, 0);
    return rc ? lv_mdb_error(lv, rc, "write vectors", err) : EG_OK;
}

eg_status lv_chunks_apply(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_slot_edit *edits,
                          size_t count, eg_error *err) {
    if (count == 0) return EG_OK;
    /* Within one call a slot appears once, or repeats the same edit (an id deleted twice): order is free. */
    qsort(edits, count, sizeof *edits, compare_edits);
    unsigned char *buffer = malloc(chunk_bytes(c));
    if (!buffer) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = EG_OK;
    for (size_t first = 0; first < count && st == EG_OK;) {
        uint32_t chunk = edits[first].slot / c->chunk;
        size_t last = first;
        while (last < count && edits[last].slot / c->chunk == chunk) last++;
        st = rewrite_chunk(lv, txn, c, chunk, edits + first, last - first, buffer, err);
        first = last;
    }
    free(buffer);
    return st;
}

eg_status lv_slot_read(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot,
                       const unsigned char **point_key, const float **vector, eg_error *err) {
    unsigned char key[8];
    chunk_key(c->number, slot / c->chunk, key);
    MDB_val k = {8, key}, v;
    int rc = mdb_get(txn, lv->dense, &k, &v);
    if (rc) return rc == MDB_NOTFOUND ? eg_error_set(err, EG_NOT_FOUND, "slot %u has no vector chunk", slot)
                                      : lv_mdb_error(lv, rc, "read vector", err);
    if (v.mv_size != chunk_bytes(c)) return eg_error_set(err, EG_CORRUPT, "a vector chunk is damaged");
    const unsigned char *chunk = v.mv_data;
    *point_key = chunk + (size_t)(slot % c->chunk) * POINT_KEY_SIZE;
    *vector = (const float *)(chunk + ids_bytes(c)) + (size_t)(slot % c->chunk) * c->config.dim;
    return EG_OK;
}

eg_status lv_slot_vector(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot,
                         const float **out, eg_error *err) {
    const unsigned char *point_key;
    eg_status st = lv_slot_read(lv, txn, c, slot, &point_key, out, err);
    return st == EG_NOT_FOUND ? eg_error_set(err, EG_CORRUPT, "a point's vector chunk is missing") : st;
}

eg_status lv_chunks_scan(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_chunk_visit visit, void *ctx,
                         eg_error *err) {
    unsigned char prefix[4];
    lv_collection_prefix(c->number, prefix);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lv->dense, &cur);
    if (rc) return lv_mdb_error(lv, rc, "scan vectors", err);
    eg_status st = EG_OK;
    size_t size = chunk_bytes(c);
    MDB_val k = {4, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || memcmp(k.mv_data, prefix, 4) != 0) break;
        if (v.mv_size != size) {
            st = eg_error_set(err, EG_CORRUPT, "a vector chunk is damaged");
            break;
        }
        const unsigned char *ids = v.mv_data;
        uint32_t be;
        memcpy(&be, (const unsigned char *)k.mv_data + 4, 4);
        visit(ctx, be32toh(be) * c->chunk, ids, (const float *)(ids + ids_bytes(c)));
    }
    mdb_cursor_close(cur);
    if (st == EG_OK && rc != 0 && rc != MDB_NOTFOUND) st = lv_mdb_error(lv, rc, "scan vectors", err);
    return st;
}

eg_status lv_slot_allocate(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t *slot,
                           eg_error *err) {
    unsigned char prefix[4];
    lv_collection_prefix(c->number, prefix);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lv->free_slots, &cur);
    if (rc) return lv_mdb_error(lv, rc, "allocate slot", err);
    MDB_val k = {4, prefix}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == 8 && memcmp(k.mv_data, prefix, 4) == 0) { /* reuse the lowest freed slot */
        uint32_t be;
        memcpy(&be, (const unsigned char *)k.mv_data + 4, 4);
        *slot = be32toh(be);
        rc = mdb_cursor_del(cur, 0);
        mdb_cursor_close(cur);
        return rc ? lv_mdb_error(lv, rc, "allocate slot", err) : EG_OK;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) return lv_mdb_error(lv, rc, "allocate slot", err);
    uint64_t used;
    eg_status st = lv_meta_counter_get(lv, txn, "slots", c->number, &used, err);
    if (st) return st;
    if (used >= UINT32_MAX) return eg_error_set(err, EG_INVALID_ARGUMENT, "collection holds too many points");
    *slot = (uint32_t)used;
    return lv_meta_counter_add(lv, txn, "slots", c->number, 1, NULL, err);
}

eg_status lv_slot_release(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot, eg_error *err) {
    unsigned char key[8];
    chunk_key(c->number, slot, key); /* same shape: collection | u32 */
    MDB_val k = {8, key}, empty = {0, NULL};
    int rc = mdb_put(txn, lv->free_slots, &k, &empty, 0);
    return rc ? lv_mdb_error(lv, rc, "free slot", err) : EG_OK;
}

