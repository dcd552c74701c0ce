/* local_vectors.h — the embedded vector backend's layout and shared helpers (internal).
 *
 * One LMDB environment under DATA/vectors, eight named databases, and one file of dense vectors per collection
 * (local_slabs.c). Each collection has a number; every key of its points starts with that number (u32 big-endian)
 * followed by the 17-byte point key, so a collection's points are one contiguous, id-ordered range:
 *
 *   collections  name -> configuration (JSON: number, dim, distance, sparse, indexes {field: type},
 *                hnsw {m, ef_construct, full_scan_threshold, quantization}; chunk: slots per dense value, format 1)
 *   points       collection | point key -> slot (u32) | payload (compact JSON; empty: none)   the point exists
 *   slots        collection | slot (u32 BE) -> point key                        the slot holds that point's vector
 *   dense        format 1 only (emptied by the migration to format 2): collection | chunk number -> many slots
 *   sparse       collection | point key -> n u32 indices (ascending) | n float32 values
 *   pindex       collection | field length (u8) | field | type (u8) | encoded value | point key -> empty
 *   free_slots   collection | slot (u32 BE) -> u64 id of the transaction that freed it   (reused first, once no
 *                reader older than that transaction remains)
 *   meta         "format" -> u32; "next_collection" -> u64; "count.<n>", "slots.<n>" (slots ever used) -> u64;
 *                "version.<n>" -> u64, bumped by every write that changes the collection's vectors
 *
 * Dense vectors live in DATA/vectors/slabs/<n>.f32, slot after slot: writing a point writes its own bytes, and
 * exact search streams through one long array.
 *
 * Point key: kind (0 number, 1 UUID) | 16 bytes (a number big-endian in the last 8): numbers sort before UUIDs
 * and each kind in its natural order, which is scroll's order.
 *
 * Invariants: a point has a points record naming a slot whose slots record holds its key and whose bytes in the
 * slab hold its vector; a sparse record iff it has a sparse vector; one pindex entry per indexed value of its
 * payload; a slot is in use, free (in free_slots), or beyond slots.<n>; count.<n> is the number of points records.
 * Every operation runs in one LMDB transaction; the slab bytes it names are written and synced before it commits,
 * in slots no snapshot names (local_slabs.c). */
#ifndef ENGRAM_VECTOR_LOCAL_H
#define ENGRAM_VECTOR_LOCAL_H

#include <engram/vectors.h>

#include <lmdb.h>

#define LOCAL_VECTORS_FORMAT 2u
#define POINT_KEY_SIZE 17
#define ROW_KEY_SIZE (4 + POINT_KEY_SIZE)
#define INDEX_ENTRY_MAX (4 + 1 + 255 + 1 + 2 + 200 + POINT_KEY_SIZE) /* a pindex key at its longest (local_index.c) */

typedef struct lv_ann lv_ann;
typedef struct lv_config_cache lv_config_cache;
typedef struct lv_slabs lv_slabs;
typedef struct lv_readers lv_readers;

typedef struct local_vectors {
    eg_vectors base;
    MDB_dbi collections, points, slots, dense, sparse, pindex, free_slots, meta;
    lv_ann *ann;              /* the approximate indexes and the write lock (local_ann.c) */
    lv_config_cache *configs; /* parsed configurations for reads (local_store.c) */
    lv_slabs *slabs;          /* the open vector files (local_slabs.c) */
    lv_readers *readers;      /* the read transactions running (local_store.c) */
} local_vectors;

/* A collection's configuration as stored. */
typedef struct local_collection {
    uint32_t number;
    uint32_t chunk; /* format 1: slots per dense value (0 in collections created since) */
    eg_collection_config config;
    eg_payload_index *indexes;
    size_t index_count;
} local_collection;

static inline local_vectors *local_of(eg_vectors *v) { return (local_vectors *)v; }

eg_status lv_mdb_error(local_vectors *lv, int rc, const char *op, eg_error *err);
/* Every transaction starts with lv_begin; a read one ends with lv_end (which aborts it), a write one with
 * lv_commit or mdb_txn_abort. Read transactions are registered so that writers know which slots a reader may
 * still read. */
eg_status lv_begin(local_vectors *lv, bool write, MDB_txn **txn, eg_error *err);
void lv_end(local_vectors *lv, MDB_txn *txn);
eg_status lv_commit(local_vectors *lv, MDB_txn *txn, const char *op, eg_error *err);
/* The snapshot (transaction id) of the oldest read transaction running; UINT64_MAX when none is. */
uint64_t lv_oldest_reader(local_vectors *lv);

/* config with every 0 (default) index parameter replaced by its value. */
eg_collection_config lv_config_resolved(const eg_collection_config *config);

/* Reads a collection's configuration; EG_NOT_FOUND names it. Free with lv_collection_clear. In a read
 * transaction, lv_collection_load_for_read answers the same from a cache of parsed configurations (a search
 * otherwise spends a third of its fixed cost parsing JSON). */
eg_status lv_collection_load(local_vectors *lv, MDB_txn *txn, const char *name, local_collection *out,
                             eg_error *err);
eg_status lv_collection_load_for_read(local_vectors *lv, MDB_txn *txn, const char *name, local_collection *out,
                                      eg_error *err);
/* Writes a configuration; lv_collection_forget after deleting one. Both in the write transaction. */
eg_status lv_collection_store(local_vectors *lv, MDB_txn *txn, const char *name, const local_collection *c,
                              eg_error *err);
void lv_collection_forget(local_vectors *lv, MDB_txn *txn);
void lv_collection_clear(local_collection *c);

void lv_row_key(uint32_t collection, const eg_point_id *id, unsigned char out[ROW_KEY_SIZE]);
void lv_row_key_id(const unsigned char key[ROW_KEY_SIZE], eg_point_id *id);
void lv_collection_prefix(uint32_t collection, unsigned char out[4]);
/* Deletes every key of dbi that starts with the len bytes of prefix; `what` names the operation in errors. */
eg_status lv_drop_prefix(local_vectors *lv, MDB_txn *txn, MDB_dbi dbi, const unsigned char *prefix, size_t len,
                         const char *what, eg_error *err);

eg_status lv_count_add(local_vectors *lv, MDB_txn *txn, uint32_t collection, int64_t delta, eg_error *err);
/* The u64 counter "<what>.<collection>" of the meta table ("count", "slots", "version"; 0 when absent); add stores
 * it plus delta (*now, when not NULL, gets the new value); forget removes it (delete_collection). */
eg_status lv_meta_counter_get(local_vectors *lv, MDB_txn *txn, const char *what, uint32_t collection, uint64_t *out,
                              eg_error *err);
eg_status lv_meta_counter_add(local_vectors *lv, MDB_txn *txn, const char *what, uint32_t collection, int64_t delta,
                              uint64_t *now, eg_error *err);
eg_status lv_meta_counter_forget(local_vectors *lv, MDB_txn *txn, const char *what, uint32_t collection,
                                 eg_error *err);
eg_status lv_count_get(local_vectors *lv, MDB_txn *txn, uint32_t collection, uint64_t *out, eg_error *err);

/* A points record: the point's slot and its payload text. */
typedef struct lv_record {
    uint32_t slot;
    const char *payload; /* compact JSON, payload_len bytes (0: none) */
    size_t payload_len;
} lv_record;

eg_status lv_record_decode(const MDB_val *value, lv_record *out, eg_error *err);
/* Reads a point's record; EG_NOT_FOUND when the point does not exist. */
eg_status lv_read_record(local_vectors *lv, MDB_txn *txn, const unsigned char key[ROW_KEY_SIZE], lv_record *out,
                         eg_error *err);
/* Parses a record's payload (a new object; an empty one when there is none). */
json_t *lv_record_payload(const lv_record *r);

/* ---- Dense vectors (local_slabs.c) ---- */

/* Opens the registry of vector files (DIR/slabs); no_sync: writes are never synced. */
eg_status lv_slabs_open(local_vectors *lv, const char *vectors_dir, bool no_sync, eg_error *err);
void lv_slabs_close(local_vectors *lv);
/* Removes the files of collections that no longer exist (a delete cut short by a crash): numbers lists those
 * that do. At open only. */
void lv_slabs_remove_orphans(local_vectors *lv, const uint32_t *numbers, size_t count);
/* Moves format 1's dense chunks of every collection into vector files, in the caller's write transaction. */
eg_status lv_slabs_migrate(local_vectors *lv, MDB_txn *txn, const local_collection *collections, size_t count,
                           eg_error *err);
/* After the commit (txn_id) that deleted collection `number`: its file is removed, its mappings kept until no
 * reader older than that commit remains (lv_slabs_release_retired). */
void lv_slab_retire(local_vectors *lv, uint32_t number, uint64_t txn_id);
void lv_slabs_release_retired(local_vectors *lv, uint64_t oldest_reader);

/* One change to a slot: a point's id and vector written to it, or (vector NULL) the slot emptied. */
typedef struct lv_slot_edit {
    uint32_t slot;
    uint32_t order; /* position in the batch (lv_slots_apply) */
    unsigned char point_key[POINT_KEY_SIZE];
    const float *vector; /* dim values, already normalised when the distance asks for it */
} lv_slot_edit;

/* Applies edits: writes the vectors to their (free) slots, records or removes the slots' points, and syncs the
 * file. A slot edited more than once keeps the last edit; *count becomes the number of edits kept, sorted by slot. */
eg_status lv_slots_apply(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_slot_edit *edits,
                         size_t *count, eg_error *err);
/* The vector in a slot the snapshot names, read in place (valid until the transaction ends). */
eg_status lv_slot_vector(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot,
                         const float **out, eg_error *err);
/* Calls visit for every run of up to LV_SCAN_BLOCK slots below the snapshot's slots used, in slot order, with the
 * run's vectors back to back, read in place; free slots included (their bytes are anything). */
#define LV_SCAN_BLOCK 256u
typedef void (*lv_slab_visit)(void *ctx, uint32_t first_slot, uint32_t count, const float *vectors);
eg_status lv_slab_scan(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_slab_visit visit, void *ctx,
                       eg_error *err);
/* Calls visit for every slot holding a point in the snapshot, in slot order. */
typedef void (*lv_slot_visit)(void *ctx, uint32_t slot, const unsigned char *point_key, const float *vector);
eg_status lv_slots_each(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_slot_visit visit, void *ctx,
                        eg_error *err);
/* A slot for a new vector: a freed one no reader may still read first, else a new one / gives a slot up. */
#define LV_EMPTY_SLOT 0xFF
eg_status lv_slot_allocate(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t *slot,
                           eg_error *err);
eg_status lv_slot_release(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot, eg_error *err);

/* Reads a point's payload (a new object; an empty one when it has none). */
eg_status lv_read_payload(local_vectors *lv, MDB_txn *txn, const unsigned char key[ROW_KEY_SIZE], json_t **out,
                          eg_error *err);
/* Fills p (id already set) with what was asked for. */
eg_status lv_read_point(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                        const unsigned char key[ROW_KEY_SIZE], bool with_payload, bool with_vectors, eg_point *p,
                        eg_error *err);

/* Payload indexes (local_index.c): entries for one point's payload, added or removed. */
eg_status lv_index_point(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                         const unsigned char key[ROW_KEY_SIZE], json_t *payload, bool add, eg_error *err);
/* Adds the entries of every existing point for one new index. */
eg_status lv_index_backfill(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_payload_index *index,
                            eg_error *err);
/* Removes every entry of one index. */
eg_status lv_index_drop(local_vectors *lv, MDB_txn *txn, uint32_t collection, const eg_payload_index *index,
                        eg_error *err);

/* Candidates for a filter from the payload indexes: when the filter's top-level `must` has a condition on an
 * indexed field, *used is set and keys receives the row keys of every point that may match (a superset: the
 * caller still evaluates the whole filter), unless `exact` says they are exactly the points that match: the
 * filter is that one condition, and the index answers it without approximation (a keyword match on a keyword
 * index, every keyword short enough to be stored whole; a boolean match on a boolean index). Keys come sorted and
 * unique. */
typedef struct lv_key_list {
    unsigned char (*keys)[ROW_KEY_SIZE];
    size_t count, cap;
    size_t limit;   /* stop collecting once this many are in (0: collect all): for a caller asking "at least N?" */
    bool truncated; /* collecting stopped at limit: keys are not all the candidates */
    bool exact;     /* every key matches the filter: no payload need be read to check it */
} lv_key_list;

eg_status lv_index_candidates(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_filter *filter,
                              bool *used, lv_key_list *out, eg_error *err);
eg_status lv_key_list_push(lv_key_list *l, const unsigned char key[ROW_KEY_SIZE], eg_error *err);

/* A filter the indexes answer exactly (lv_key_list.exact), tested point by point without reading payloads: one
 * lookup of the index entry (value, point) per value the condition accepts. For a graph walk meeting points one at
 * a time, where collecting every candidate first would cost more than the walk. */
typedef struct lv_index_probe {
    unsigned char (*entries)[INDEX_ENTRY_MAX]; /* each value's entry key without the point key */
    size_t *lengths;
    size_t count;
} lv_index_probe;

/* Prepares the probe of a filter lv_index_candidates found exact. */
eg_status lv_index_probe_init(const local_collection *c, const eg_filter *filter, lv_index_probe *probe, eg_error *err);
/* Whether the point (its 17-byte point key) matches, in this transaction's snapshot. */
eg_status lv_index_probe_matches(local_vectors *lv, MDB_txn *txn, const lv_index_probe *probe,
                                 const unsigned char point_key[POINT_KEY_SIZE], bool *match, eg_error *err);
void lv_index_probe_free(lv_index_probe *probe);
void lv_key_list_free(lv_key_list *l);

/* Visits the points of a collection matching filter (NULL: all), in id order, from row key `start` (NULL: the
 * first). Uses a payload index when one applies, and reads no payload when its candidates are exact. visit
 * returns EG_OK to go on, anything else to stop (a stop with LV_STOP is not an error). */
#define LV_STOP ((eg_status)-1)
typedef eg_status (*lv_point_visitor)(void *ctx, const unsigned char key[ROW_KEY_SIZE], eg_error *err);
eg_status lv_for_each_match(local_vectors *lv, MDB_txn *txn, const local_collection *c, const eg_filter *filter,
                            const unsigned char *start, lv_point_visitor visit, void *ctx, eg_error *err);
/* The same over candidates already taken from lv_index_candidates (complete, not truncated). */
eg_status lv_for_each_candidate(local_vectors *lv, MDB_txn *txn, const eg_filter *filter, const lv_key_list *keys,
                                lv_point_visitor visit, void *ctx, eg_error *err);

/* Runs body on the named collection, loaded, in one read transaction (a consistent snapshot). */
typedef eg_status (*lv_read_body)(local_vectors *lv, MDB_txn *txn, const local_collection *c, void *ctx,
                                  eg_error *err);
eg_status lv_in_read(local_vectors *lv, const char *name, lv_read_body body, void *ctx, eg_error *err);

/* ---- Approximate indexes (local_ann.c) ---- */

#include "vector/hnsw.h"

/* Opens the registry (DIR/ann), loading saved indexes that match the store; index_threads 0: one per CPU. */
eg_status lv_ann_open(local_vectors *lv, const char *dir, unsigned index_threads, eg_error *err);
/* Frees every index, saving first (save) those whose file is missing or stale. */
void lv_ann_close(local_vectors *lv, bool save);
/* Serialises every write transaction of the backend with the index update that follows its commit. */
void lv_write_lock(local_vectors *lv);
void lv_write_unlock(local_vectors *lv);
eg_status lv_version_get(local_vectors *lv, MDB_txn *txn, uint32_t collection, uint64_t *out, eg_error *err);
/* Adds 1 to the collection's version; *bumped gets the new one. */
eg_status lv_version_bump(local_vectors *lv, MDB_txn *txn, uint32_t collection, uint64_t *bumped, eg_error *err);
/* After a commit (write lock held): the same slot edits, sorted by slot, applied to c's index if it has one,
 * which then holds `version`. */
void lv_ann_apply(local_vectors *lv, const local_collection *c, const lv_slot_edit *edits, size_t count,
                  uint64_t version);
/* Forgets a collection's index and its file (delete_collection). */
void lv_ann_drop(local_vectors *lv, uint32_t collection);
/* Points in c's index (0: none built). */
uint64_t lv_ann_indexed(local_vectors *lv, uint32_t collection);
/* eg_hnsw_search on c's index, building it first (from the latest committed points) when it has none; keys[i]
 * receives the point key of out[i] (first byte LV_EMPTY_SLOT: none, a point removed meanwhile). *in_step tells
 * whether the index held the collection's snapshot_version throughout the walk (no write landed in between).
 * accept, when not NULL, is asked about each point the walk meets, with the point key the index holds for its slot
 * (first byte LV_EMPTY_SLOT: none), which is the snapshot's when the walk turns out in step. */
typedef bool (*lv_ann_accept)(void *ctx, uint32_t label, const unsigned char point_key[POINT_KEY_SIZE]);
eg_status lv_ann_search(local_vectors *lv, const local_collection *c, uint64_t snapshot_version, const float *query,
                        size_t k, size_t ef, lv_ann_accept accept, void *ctx, eg_hnsw_hit *out,
                        unsigned char (*keys)[POINT_KEY_SIZE], size_t *found, bool *in_step, eg_error *err);
/* A slot's point key and vector, read in place from the snapshot; a slot the snapshot does not name gets a key
 * whose first byte is LV_EMPTY_SLOT and no vector. */
eg_status lv_slot_read(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot,
                       const unsigned char **point_key, const float **vector, eg_error *err);

/* Operation table entries. */
eg_status lv_create_collection(eg_vectors *v, const char *name, const eg_collection_config *config, eg_error *err);
eg_status lv_get_collection(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err);
eg_status lv_list_collections(eg_vectors *v, eg_string_list *out, eg_error *err);
eg_status lv_delete_collection(eg_vectors *v, const char *name, eg_error *err);
eg_status lv_create_payload_index(eg_vectors *v, const char *collection, const char *field, eg_payload_type type,
                                  eg_error *err);
eg_status lv_delete_payload_index(eg_vectors *v, const char *collection, const char *field, eg_error *err);
eg_status lv_upsert(eg_vectors *v, const char *collection, const eg_point *points, size_t count, eg_error *err);
eg_status lv_get(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count, bool with_payload,
                 bool with_vectors, eg_point_list *out, eg_error *err);
eg_status lv_set_payload(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                         json_t *payload, eg_payload_mode mode, eg_error *err);
eg_status lv_delete_payload_keys(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                                 const char *const *keys, size_t key_count, eg_error *err);
eg_status lv_update_vectors(eg_vectors *v, const char *collection, const eg_point *points, size_t count,
                            eg_error *err);
eg_status lv_delete_points(eg_vectors *v, const char *collection, const eg_point_id *ids, size_t count,
                           const eg_filter *filter, uint64_t *deleted, eg_error *err);
eg_status lv_count(eg_vectors *v, const char *collection, const eg_filter *filter, uint64_t *out, eg_error *err);
eg_status lv_scroll(eg_vectors *v, const char *collection, const eg_scroll_request *request, eg_point_list *out,
                    eg_point_id *next_offset, bool *has_next, eg_error *err);
eg_status lv_search(eg_vectors *v, const char *collection, const eg_search_request *request, eg_scored_list *out,
                    eg_error *err);
eg_status lv_search_hybrid(eg_vectors *v, const char *collection, const eg_hybrid_request *request,
                           eg_scored_list *out, eg_error *err);
eg_status lv_search_sparse(eg_vectors *v, const char *collection, const eg_sparse_request *request,
                           eg_scored_list *out, eg_error *err);

#endif
