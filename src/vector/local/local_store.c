/* local_store.c — the embedded vector backend: its environment, the shared encodings (row keys, counters), and
 * collections: create (idempotent), read, list, delete, payload indexes. Layout in local_vectors.h. */
#include "vector/local/local_vectors.h"
#include "util/lmdb_env.h"
#include "util/json_text.h"

#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAP_SIZE (1ull << 40)

typedef struct local_env {
    local_vectors lv;
    eg_lmdb_env lmdb;
} local_env;

static const eg_vectors_ops local_ops;

static eg_lmdb_env *env_of(local_vectors *lv) { return &((local_env *)lv)->lmdb; }

eg_status lv_mdb_error(local_vectors *lv, int rc, const char *op, eg_error *err) {
    return eg_lmdb_error(env_of(lv), rc, op, err);
}

/* ---- read transactions ------------------------------------------------------------------------------------
 * Each running read transaction has an entry holding its snapshot's transaction id. The entry is taken before
 * the transaction begins, with snapshot 0 (older than any), so that a writer never sees a reader whose snapshot
 * it does not know yet. */

#define READERS_MAX 1024 /* LMDB's own limit (lmdb_env.c) */

typedef struct reader_entry {
    MDB_txn *txn;
    uint64_t snapshot;
    bool used;
} reader_entry;

struct lv_readers {
    pthread_mutex_t lock;
    reader_entry entries[READERS_MAX];
    size_t high;  /* entries at or past this are unused */
    size_t count; /* entries in use */
};

eg_status lv_begin(local_vectors *lv, bool write, MDB_txn **txn, eg_error *err) {
    if (write) return eg_lmdb_begin(env_of(lv), true, txn, err);
    lv_readers *r = lv->readers;
    pthread_mutex_lock(&r->lock);
    size_t i = 0;
    while (i < r->high && r->entries[i].used) i++;
    if (i == READERS_MAX) {
        pthread_mutex_unlock(&r->lock);
        return eg_error_set(err, EG_UNAVAILABLE, "begin transaction: too many concurrent readers (limit %d)",
                            READERS_MAX);
    }
    r->entries[i] = (reader_entry){NULL, 0, true};
    if (i == r->high) r->high++;
    r->count++;
    pthread_mutex_unlock(&r->lock);
    eg_status st = eg_lmdb_begin(env_of(lv), false, txn, err);
    pthread_mutex_lock(&r->lock);
    if (st == EG_OK) {
        r->entries[i].txn = *txn;
        r->entries[i].snapshot = mdb_txn_id(*txn);
    } else {
        r->entries[i].used = false;
        r->count--;
    }
    pthread_mutex_unlock(&r->lock);
    return st;
}

void lv_end(local_vectors *lv, MDB_txn *txn) {
    lv_readers *r = lv->readers;
    mdb_txn_abort(txn);
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->high; i++)
        if (r->entries[i].used && r->entries[i].txn == txn) {
            r->entries[i].used = false;
            r->count--;
            break;
        }
    while (r->high > 0 && !r->entries[r->high - 1].used) r->high--;
    bool idle = r->count == 0;
    pthread_mutex_unlock(&r->lock);
    if (idle) lv_slabs_release_retired(lv, UINT64_MAX);
}

uint64_t lv_oldest_reader(local_vectors *lv) {
    lv_readers *r = lv->readers;
    uint64_t oldest = UINT64_MAX;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->high; i++)
        if (r->entries[i].used && r->entries[i].snapshot < oldest) oldest = r->entries[i].snapshot;
    pthread_mutex_unlock(&r->lock);
    return oldest;
}

eg_status lv_commit(local_vectors *lv, MDB_txn *txn, const char *op, eg_error *err) {
    return eg_lmdb_commit(env_of(lv), txn, op, err);
}

void lv_collection_prefix(uint32_t collection, unsigned char out[4]) {
    uint32_t be = htobe32(collection);
    memcpy(out, &be, 4);
}

void lv_row_key(uint32_t collection, const eg_point_id *id, unsigned char out[ROW_KEY_SIZE]) {
    lv_collection_prefix(collection, out);
    memset(out + 4, 0, POINT_KEY_SIZE);
    out[4] = id->is_uuid;
    if (id->is_uuid) {
        memcpy(out + 5, id->uuid, 16);
    } else {
        uint64_t be = htobe64(id->num);
        memcpy(out + 13, &be, 8);
    }
}

void lv_row_key_id(const unsigned char key[ROW_KEY_SIZE], eg_point_id *id) {
    memset(id, 0, sizeof *id);
    id->is_uuid = key[4] != 0;
    if (id->is_uuid) {
        memcpy(id->uuid, key + 5, 16);
    } else {
        uint64_t be;
        memcpy(&be, key + 13, 8);
        id->num = be64toh(be);
    }
}

eg_status lv_meta_counter_get(local_vectors *lv, MDB_txn *txn, const char *what, uint32_t collection, uint64_t *out,
                              eg_error *err) {
    char name[32];
    snprintf(name, sizeof name, "%s.%u", what, collection);
    MDB_val k = {strlen(name), name}, v;
    int rc = mdb_get(txn, lv->meta, &k, &v);
    *out = 0;
    if (rc == MDB_NOTFOUND) return EG_OK;
    if (rc) return lv_mdb_error(lv, rc, "read a counter", err);
    if (v.mv_size != sizeof *out) return eg_error_set(err, EG_CORRUPT, "counter %s is damaged", name);
    memcpy(out, v.mv_data, sizeof *out);
    return EG_OK;
}

eg_status lv_meta_counter_add(local_vectors *lv, MDB_txn *txn, const char *what, uint32_t collection, int64_t delta,
                              uint64_t *now, eg_error *err) {
    uint64_t n;
    eg_status st = lv_meta_counter_get(lv, txn, what, collection, &n, err);
    if (st || delta == 0) return st;
    n = (uint64_t)((int64_t)n + delta);
    if (now) *now = n;
    char name[32];
    snprintf(name, sizeof name, "%s.%u", what, collection);
    MDB_val k = {strlen(name), name}, v = {sizeof n, &n};
    int rc = mdb_put(txn, lv->meta, &k, &v, 0);
    return rc ? lv_mdb_error(lv, rc, "update a counter", err) : EG_OK;
}

eg_status lv_meta_counter_forget(local_vectors *lv, MDB_txn *txn, const char *what, uint32_t collection,
                                 eg_error *err) {
    char name[32];
    snprintf(name, sizeof name, "%s.%u", what, collection);
    MDB_val k = {strlen(name), name};
    int rc = mdb_del(txn, lv->meta, &k, NULL);
    return rc == 0 || rc == MDB_NOTFOUND ? EG_OK : lv_mdb_error(lv, rc, "forget a counter", err);
}

eg_status lv_count_get(local_vectors *lv, MDB_txn *txn, uint32_t collection, uint64_t *out, eg_error *err) {
    return lv_meta_counter_get(lv, txn, "count", collection, out, err);
}

eg_status lv_count_add(local_vectors *lv, MDB_txn *txn, uint32_t collection, int64_t delta, eg_error *err) {
    return lv_meta_counter_add(lv, txn, "count", collection, delta, NULL, err);
}

/* ---- collection records ------------------------------------------------------------------------------- */

eg_collection_config lv_config_resolved(const eg_collection_config *config) {
    eg_collection_config c = *config;
    if (!c.hnsw_m) c.hnsw_m = EG_HNSW_M_DEFAULT;
    if (!c.hnsw_ef_construct) c.hnsw_ef_construct = EG_HNSW_EF_CONSTRUCT_DEFAULT;
    if (!c.full_scan_threshold) c.full_scan_threshold = EG_FULL_SCAN_THRESHOLD_DEFAULT;
    return c;
}

/* The "hnsw" object of a configuration record; records written before it existed mean the defaults. */
static bool hnsw_config_load(json_t *hnsw, eg_collection_config *out) {
    out->hnsw_m = out->hnsw_ef_construct = out->full_scan_threshold = 0;
    out->quantization = EG_QUANTIZATION_NONE;
    if (!hnsw) {
        *out = lv_config_resolved(out);
        return true;
    }
    json_t *m = json_object_get(hnsw, "m"), *efc = json_object_get(hnsw, "ef_construct"),
           *threshold = json_object_get(hnsw, "full_scan_threshold");
    const char *quantization = json_string_value(json_object_get(hnsw, "quantization"));
    if (!json_is_integer(m) || !json_is_integer(efc) || !json_is_integer(threshold) || !quantization) return false;
    out->hnsw_m = (uint32_t)json_integer_value(m);
    out->hnsw_ef_construct = (uint32_t)json_integer_value(efc);
    out->full_scan_threshold = (uint32_t)json_integer_value(threshold);
    if (strcmp(quantization, eg_quantization_name(EG_QUANTIZATION_INT8)) == 0) out->quantization = EG_QUANTIZATION_INT8;
    else if (strcmp(quantization, eg_quantization_name(EG_QUANTIZATION_NONE)) != 0) return false;
    return out->hnsw_m >= 2 && out->hnsw_m <= EG_HNSW_M_MAX && out->hnsw_ef_construct >= 1 &&
           out->full_scan_threshold >= 1;
}

/* ---- parsed configurations for reads ---------------------------------------------------------------------- *
 * Configurations change only in write transactions that call lv_collection_store or lv_collection_forget, which
 * first record that transaction's id in `changed`. A configuration parsed in a read snapshot taken at or after the
 * last change is the one every such snapshot sees; snapshots older than the last change parse their own. */

#define CONFIG_CACHE_MAX 64

typedef struct config_entry {
    char name[EG_COLLECTION_NAME_MAX + 1];
    local_collection c;
    uint64_t snapshot; /* the transaction id it was parsed in */
} config_entry;

struct lv_config_cache {
    pthread_mutex_t lock;
    _Atomic uint64_t changed;
    config_entry entries[CONFIG_CACHE_MAX];
    size_t count;
};

/* A deep copy (the indexes' field names are owned); false when out of memory. */
static bool collection_copy(const local_collection *from, local_collection *to) {
    *to = *from;
    to->indexes = calloc(from->index_count + 1, sizeof *to->indexes);
    to->index_count = 0;
    for (size_t i = 0; to->indexes && i < from->index_count; i++, to->index_count++)
        if (!(to->indexes[i].field = strdup(from->indexes[i].field))) break;
        else to->indexes[i].type = from->indexes[i].type;
    if (to->indexes && to->index_count == from->index_count) return true;
    lv_collection_clear(to);
    return false;
}

static void cache_drop_all(lv_config_cache *cache) {
    for (size_t i = 0; i < cache->count; i++) lv_collection_clear(&cache->entries[i].c);
    cache->count = 0;
}

void lv_collection_forget(local_vectors *lv, MDB_txn *txn) { atomic_store(&lv->configs->changed, mdb_txn_id(txn)); }

eg_status lv_collection_load_for_read(local_vectors *lv, MDB_txn *txn, const char *name, local_collection *out,
                                      eg_error *err) {
    lv_config_cache *cache = lv->configs;
    uint64_t snapshot = mdb_txn_id(txn), changed = atomic_load(&cache->changed);
    bool cacheable = snapshot >= changed && strlen(name) <= EG_COLLECTION_NAME_MAX;
    if (cacheable) {
        pthread_mutex_lock(&cache->lock);
        for (size_t i = 0; i < cache->count; i++) {
            config_entry *e = &cache->entries[i];
            if (e->snapshot >= changed && strcmp(e->name, name) == 0) {
                bool copied = collection_copy(&e->c, out);
                pthread_mutex_unlock(&cache->lock);
                return copied ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
            }
        }
        pthread_mutex_unlock(&cache->lock);
    }
    eg_status st = lv_collection_load(lv, txn, name, out, err);
    if (st != EG_OK || !cacheable) return st;
    pthread_mutex_lock(&cache->lock);
    size_t kept = 0; /* entries from before the last change are of no use any more */
    for (size_t i = 0; i < cache->count; i++) {
        if (cache->entries[i].snapshot >= changed && strcmp(cache->entries[i].name, name) != 0)
            cache->entries[kept++] = cache->entries[i];
        else lv_collection_clear(&cache->entries[i].c);
    }
    cache->count = kept;
    if (cache->count == CONFIG_CACHE_MAX) cache_drop_all(cache);
    config_entry *e = &cache->entries[cache->count];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->snapshot = snapshot;
    if (collection_copy(out, &e->c)) cache->count++;
    pthread_mutex_unlock(&cache->lock);
    return EG_OK;
}

void lv_collection_clear(local_collection *c) {
    for (size_t i = 0; i < c->index_count; i++) free(c->indexes[i].field);
    free(c->indexes);
    memset(c, 0, sizeof *c);
}

eg_status lv_collection_load(local_vectors *lv, MDB_txn *txn, const char *name, local_collection *out,
                             eg_error *err) {
    memset(out, 0, sizeof *out);
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, lv->collections, &k, &v);
    if (rc == MDB_NOTFOUND) return eg_error_set(err, EG_NOT_FOUND, "collection '%.255s' does not exist", name);
    if (rc) return lv_mdb_error(lv, rc, "read collection", err);
    json_error_t jerr;
    json_t *j = json_loadb(v.mv_data, v.mv_size, 0, &jerr);
    json_t *indexes = json_object_get(j, "indexes");
    const char *distance = json_string_value(json_object_get(j, "distance"));
    eg_status st = EG_OK;
    if (!j || !json_is_integer(json_object_get(j, "number")) || !json_is_integer(json_object_get(j, "dim")) ||
        !distance || eg_distance_parse(distance, &out->config.distance, NULL) != EG_OK || !json_is_object(indexes))
        st = eg_error_set(err, EG_CORRUPT, "the configuration of collection '%.255s' is damaged", name);
    if (st == EG_OK) {
        out->number = (uint32_t)json_integer_value(json_object_get(j, "number"));
        out->config.dim = (uint32_t)json_integer_value(json_object_get(j, "dim"));
        out->chunk = (uint32_t)json_integer_value(json_object_get(j, "chunk")); /* format 1 only */
    }
    if (st == EG_OK && !hnsw_config_load(json_object_get(j, "hnsw"), &out->config))
        st = eg_error_set(err, EG_CORRUPT, "the index configuration of collection '%.255s' is damaged", name);
    if (st == EG_OK) {
        out->config.sparse = json_is_true(json_object_get(j, "sparse"));
        out->indexes = calloc(json_object_size(indexes) + 1, sizeof *out->indexes);
        const char *field;
        json_t *type;
        json_object_foreach(indexes, field, type) {
            eg_payload_index *ix = &out->indexes[out->index_count];
            if (!(ix->field = strdup(field)) ||
                eg_payload_type_parse(json_string_value(type), &ix->type, NULL) != EG_OK) {
                free(ix->field);
                st = eg_error_set(err, EG_CORRUPT, "an index of collection '%.255s' is damaged", name);
                break;
            }
            out->index_count++;
        }
    }
    json_decref(j);
    if (st) lv_collection_clear(out);
    return st;
}

eg_status lv_collection_store(local_vectors *lv, MDB_txn *txn, const char *name, const local_collection *c,
                              eg_error *err) {
    lv_collection_forget(lv, txn);
    json_t *indexes = json_object();
    for (size_t i = 0; i < c->index_count; i++)
        json_object_set_new(indexes, c->indexes[i].field, json_string(eg_payload_type_name(c->indexes[i].type)));
    eg_collection_config hnsw = lv_config_resolved(&c->config);
    json_t *j = json_pack("{s:I, s:I, s:s, s:b, s:o, s:{s:I, s:I, s:I, s:s}}", "number", (json_int_t)c->number,
                          "dim", (json_int_t)c->config.dim, "distance",
                          eg_distance_name(c->config.distance), "sparse", c->config.sparse, "indexes", indexes, "hnsw",
                          "m", (json_int_t)hnsw.hnsw_m, "ef_construct", (json_int_t)hnsw.hnsw_ef_construct,
                          "full_scan_threshold", (json_int_t)hnsw.full_scan_threshold, "quantization",
                          eg_quantization_name(hnsw.quantization));
    if (j && c->chunk) json_object_set_new(j, "chunk", json_integer(c->chunk));
    char *text = j ? eg_json_text(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text) return eg_error_set(err, EG_INTERNAL, "out of memory");
    MDB_val k = {strlen(name), (void *)name}, v = {strlen(text), text};
    int rc = mdb_put(txn, lv->collections, &k, &v, 0);
    free(text);
    return rc ? lv_mdb_error(lv, rc, "write collection", err) : EG_OK;
}

/* ---- point reads shared by get, scroll and search ------------------------------------------------------- */

eg_status lv_record_decode(const MDB_val *value, lv_record *out, eg_error *err) {
    if (value->mv_size < 4) return eg_error_set(err, EG_CORRUPT, "a point record is damaged");
    memcpy(&out->slot, value->mv_data, 4);
    out->payload = (const char *)value->mv_data + 4;
    out->payload_len = value->mv_size - 4;
    return EG_OK;
}

eg_status lv_read_record(local_vectors *lv, MDB_txn *txn, const unsigned char key[ROW_KEY_SIZE], lv_record *out,
                         eg_error *err) {
    MDB_val k = {ROW_KEY_SIZE, (void *)key}, v;
    int rc = mdb_get(txn, lv->points, &k, &v);
    if (rc) return rc == MDB_NOTFOUND ? eg_error_set(err, EG_NOT_FOUND, "point does not exist")
                                      : lv_mdb_error(lv, rc, "read point", err);
    return lv_record_decode(&v, out, err);
}

json_t *lv_record_payload(const lv_record *r) {
    json_error_t jerr;
    return r->payload_len ? json_loadb(r->payload, r->payload_len, 0, &jerr) : json_object();
}

eg_status lv_read_payload(local_vectors *lv, MDB_txn *txn, const unsigned char key[ROW_KEY_SIZE], json_t **out,
                          eg_error *err) {
    lv_record r;
    eg_status st = lv_read_record(lv, txn, key, &r, err);
    if (st) return st;
    *out = lv_record_payload(&r);
    return *out ? EG_OK : eg_error_set(err, EG_CORRUPT, "a point's payload is damaged");
}

eg_status lv_read_point(local_vectors *lv, MDB_txn *txn, const local_collection *c,
                        const unsigned char key[ROW_KEY_SIZE], bool with_payload, bool with_vectors, eg_point *p,
                        eg_error *err) {
    lv_record r;
    eg_status st = lv_read_record(lv, txn, key, &r, err);
    if (st) return st;
    if (with_payload && !(p->payload = lv_record_payload(&r)))
        return eg_error_set(err, EG_CORRUPT, "a point's payload is damaged");
    if (!with_vectors) return EG_OK;
    const float *stored;
    if ((st = lv_slot_vector(lv, txn, c, r.slot, &stored, err))) return st;
    p->dim = c->config.dim;
    if (!(p->vector = malloc(p->dim * sizeof(float)))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(p->vector, stored, p->dim * sizeof(float));
    MDB_val k = {ROW_KEY_SIZE, (void *)key}, v;
    int rc = mdb_get(txn, lv->sparse, &k, &v);
    if (rc == MDB_NOTFOUND) return EG_OK;
    if (rc) return lv_mdb_error(lv, rc, "read sparse vector", err);
    size_t n = v.mv_size / 8;
    p->sparse.indices = malloc(n * sizeof(uint32_t) + 1);
    p->sparse.values = malloc(n * sizeof(float) + 1);
    if (!p->sparse.indices || !p->sparse.values) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(p->sparse.indices, v.mv_data, n * 4);
    memcpy(p->sparse.values, (const char *)v.mv_data + n * 4, n * 4);
    p->sparse.count = n;
    return EG_OK;
}

/* ---- collections ---------------------------------------------------------------------------------------- */

/* The collection operations below run their write transactions under the store's write lock, as every write
 * does (local_ann.c). */
static eg_status create_collection_locked(local_vectors *lv, const char *name, const eg_collection_config *config,
                                          eg_error *err) {
    MDB_txn *txn;
    local_collection existing;
    eg_status st = lv_begin(lv, true, &txn, err);
    if (st) return st;
    st = lv_collection_load(lv, txn, name, &existing, err);
    if (st == EG_OK) {
        eg_collection_config wanted = lv_config_resolved(config);
        bool same = existing.config.dim == wanted.dim && existing.config.distance == wanted.distance &&
                    existing.config.sparse == wanted.sparse && existing.config.hnsw_m == wanted.hnsw_m &&
                    existing.config.hnsw_ef_construct == wanted.hnsw_ef_construct &&
                    existing.config.full_scan_threshold == wanted.full_scan_threshold &&
                    existing.config.quantization == wanted.quantization;
        lv_collection_clear(&existing);
        mdb_txn_abort(txn);
        return same ? EG_OK
                    : eg_error_set(err, EG_CONFLICT,
                                   "collection '%.255s' exists with another configuration (dim, distance, sparse or "
                                   "index parameters)",
                                   name);
    }
    if (st != EG_NOT_FOUND) {
        mdb_txn_abort(txn);
        return st;
    }
    uint64_t next;
    MDB_val k = {15, "next_collection"}, val;
    int rc = mdb_get(txn, lv->meta, &k, &val);
    next = 1;
    if (rc == 0) memcpy(&next, val.mv_data, sizeof next);
    local_collection c = {(uint32_t)next, 0, lv_config_resolved(config), NULL, 0};
    uint64_t after = next + 1;
    MDB_val nv = {sizeof after, &after};
    if ((rc = mdb_put(txn, lv->meta, &k, &nv, 0))) st = lv_mdb_error(lv, rc, "create_collection", err);
    else st = lv_collection_store(lv, txn, name, &c, err);
    if (st) {
        mdb_txn_abort(txn);
        return st;
    }
    return lv_commit(lv, txn, "create_collection", err);
}

eg_status lv_create_collection(eg_vectors *v, const char *name, const eg_collection_config *config, eg_error *err) {
    local_vectors *lv = local_of(v);
    lv_write_lock(lv);
    eg_status st = create_collection_locked(lv, name, config, err);
    lv_write_unlock(lv);
    return st;
}

eg_status lv_get_collection(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err) {
    local_vectors *lv = local_of(v);
    MDB_txn *txn;
    local_collection c;
    eg_status st = lv_begin(lv, false, &txn, err);
    if (st) return st;
    if ((st = lv_collection_load(lv, txn, name, &c, err)) == EG_OK) {
        snprintf(out->name, sizeof out->name, "%s", name);
        out->config = c.config;
        out->indexes = c.indexes;
        out->index_count = c.index_count;
        c.indexes = NULL, c.index_count = 0;
        st = lv_count_get(lv, txn, c.number, &out->points_count, err);
        out->indexed_vectors_count = lv_ann_indexed(lv, c.number);
        lv_collection_clear(&c);
    }
    lv_end(lv, txn);
    if (st) eg_collection_info_clear(out);
    return st;
}

eg_status lv_list_collections(eg_vectors *v, eg_string_list *out, eg_error *err) {
    local_vectors *lv = local_of(v);
    MDB_txn *txn;
    MDB_cursor *cur;
    eg_status st = lv_begin(lv, false, &txn, err);
    if (st) return st;
    int rc = mdb_cursor_open(txn, lv->collections, &cur);
    MDB_val k, val;
    size_t cap = 0;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0 && st == EG_OK;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        if (out->count == cap) {
            cap = cap ? cap * 2 : 8;
            char **grown = realloc(out->items, cap * sizeof *grown);
            if (!grown) {
                st = eg_error_set(err, EG_INTERNAL, "out of memory");
                break;
            }
            out->items = grown;
        }
        if (!(out->items[out->count] = strndup(k.mv_data, k.mv_size)))
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
        else
            out->count++;
    }
    if (st == EG_OK && rc != MDB_NOTFOUND) st = lv_mdb_error(lv, rc, "list_collections", err);
    mdb_cursor_close(cur);
    lv_end(lv, txn);
    if (st) eg_string_list_free(out);
    return st;
}

eg_status lv_drop_prefix(local_vectors *lv, MDB_txn *txn, MDB_dbi dbi, const unsigned char *prefix, size_t len,
                         const char *what, eg_error *err) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc) return lv_mdb_error(lv, rc, what, err);
    MDB_val k, v;
    for (;;) { /* seek again after each delete rather than trust the cursor's position after mdb_cursor_del */
        k = (MDB_val){len, (void *)prefix};
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE))) break;
        if (k.mv_size < len || memcmp(k.mv_data, prefix, len) != 0) break;
        if ((rc = mdb_cursor_del(cur, 0))) break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? EG_OK : lv_mdb_error(lv, rc, what, err);
}

/* Deletes every key of `dbi` that belongs to the collection. */
static eg_status drop_range(local_vectors *lv, MDB_txn *txn, MDB_dbi dbi, uint32_t collection, eg_error *err) {
    unsigned char prefix[4];
    lv_collection_prefix(collection, prefix);
    return lv_drop_prefix(lv, txn, dbi, prefix, sizeof prefix, "delete_collection", err);
}

static eg_status delete_collection_locked(local_vectors *lv, const char *name, eg_error *err) {
    MDB_txn *txn;
    local_collection c;
    uint32_t number = 0;
    eg_status st = lv_begin(lv, true, &txn, err);
    if (st) return st;
    if ((st = lv_collection_load(lv, txn, name, &c, err)) == EG_OK) {
        MDB_dbi tables[] = {lv->points, lv->slots, lv->sparse, lv->pindex, lv->free_slots};
        for (size_t i = 0; i < sizeof tables / sizeof tables[0] && st == EG_OK; i++)
            st = drop_range(lv, txn, tables[i], c.number, err);
        const char *const counters[] = {"count", "slots", "version"};
        for (size_t i = 0; i < sizeof counters / sizeof counters[0] && st == EG_OK; i++)
            st = lv_meta_counter_forget(lv, txn, counters[i], c.number, err);
        MDB_val k = {strlen(name), (void *)name};
        if (st == EG_OK) lv_collection_forget(lv, txn);
        int rc = st == EG_OK ? mdb_del(txn, lv->collections, &k, NULL) : 0;
        if (rc) st = lv_mdb_error(lv, rc, "delete_collection", err);
        number = c.number;
        lv_collection_clear(&c);
    }
    if (st) {
        mdb_txn_abort(txn);
        return st;
    }
    uint64_t deleted_by = mdb_txn_id(txn);
    if ((st = lv_commit(lv, txn, "delete_collection", err)) == EG_OK) {
        lv_ann_drop(lv, number);
        lv_slab_retire(lv, number, deleted_by);
        lv_slabs_release_retired(lv, lv_oldest_reader(lv));
    }
    return st;
}

eg_status lv_delete_collection(eg_vectors *v, const char *name, eg_error *err) {
    local_vectors *lv = local_of(v);
    lv_write_lock(lv);
    eg_status st = delete_collection_locked(lv, name, err);
    lv_write_unlock(lv);
    return st;
}

static eg_status create_payload_index_locked(local_vectors *lv, const char *collection, const char *field,
                                             eg_payload_type type, eg_error *err) {
    MDB_txn *txn;
    local_collection c;
    eg_status st = lv_begin(lv, true, &txn, err);
    if (st) return st;
    if ((st = lv_collection_load(lv, txn, collection, &c, err))) {
        mdb_txn_abort(txn);
        return st;
    }
    for (size_t i = 0; i < c.index_count; i++)
        if (strcmp(c.indexes[i].field, field) == 0) {
            bool same = c.indexes[i].type == type;
            st = same ? EG_OK
                      : eg_error_set(err, EG_CONFLICT, "field '%.255s' is already indexed as %s", field,
                                     eg_payload_type_name(c.indexes[i].type));
            lv_collection_clear(&c);
            mdb_txn_abort(txn);
            return st;
        }
    eg_payload_index *grown = realloc(c.indexes, (c.index_count + 1) * sizeof *grown);
    char *copy = strdup(field);
    if (!grown || !copy) {
        free(copy);
        if (grown) c.indexes = grown;
        lv_collection_clear(&c);
        mdb_txn_abort(txn);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    c.indexes = grown;
    c.indexes[c.index_count++] = (eg_payload_index){copy, type};
    if ((st = lv_collection_store(lv, txn, collection, &c, err)) == EG_OK)
        st = lv_index_backfill(lv, txn, &c, &c.indexes[c.index_count - 1], err);
    lv_collection_clear(&c);
    if (st) {
        mdb_txn_abort(txn);
        return st;
    }
    return lv_commit(lv, txn, "create_payload_index", err);
}

eg_status lv_create_payload_index(eg_vectors *v, const char *collection, const char *field, eg_payload_type type,
                                  eg_error *err) {
    local_vectors *lv = local_of(v);
    lv_write_lock(lv);
    eg_status st = create_payload_index_locked(lv, collection, field, type, err);
    lv_write_unlock(lv);
    return st;
}

/* Drops the index's record from the collection's configuration and its entries, in one transaction: a crash
 * leaves the index whole or gone. Filters on the field then scan, with the same answers. */
static eg_status delete_payload_index_locked(local_vectors *lv, const char *collection, const char *field,
                                             eg_error *err) {
    MDB_txn *txn;
    local_collection c;
    eg_status st = lv_begin(lv, true, &txn, err);
    if (st) return st;
    if ((st = lv_collection_load(lv, txn, collection, &c, err))) {
        mdb_txn_abort(txn);
        return st;
    }
    size_t found = c.index_count;
    for (size_t i = 0; i < c.index_count; i++)
        if (strcmp(c.indexes[i].field, field) == 0) found = i;
    if (found == c.index_count) { /* nothing to drop: as Qdrant, deleting a missing index succeeds */
        lv_collection_clear(&c);
        mdb_txn_abort(txn);
        return EG_OK;
    }
    eg_payload_index dropped = c.indexes[found];
    c.indexes[found] = c.indexes[--c.index_count];
    if ((st = lv_collection_store(lv, txn, collection, &c, err)) == EG_OK)
        st = lv_index_drop(lv, txn, c.number, &dropped, err);
    free(dropped.field);
    lv_collection_clear(&c);
    if (st) {
        mdb_txn_abort(txn);
        return st;
    }
    return lv_commit(lv, txn, "delete_payload_index", err);
}

eg_status lv_delete_payload_index(eg_vectors *v, const char *collection, const char *field, eg_error *err) {
    local_vectors *lv = local_of(v);
    lv_write_lock(lv);
    eg_status st = delete_payload_index_locked(lv, collection, field, err);
    lv_write_unlock(lv);
    return st;
}

/* ---- opening -------------------------------------------------------------------------------------------- */

static void configs_free(local_vectors *lv) {
    if (!lv->configs) return;
    cache_drop_all(lv->configs);
    pthread_mutex_destroy(&lv->configs->lock);
    free(lv->configs);
    lv->configs = NULL;
}

static void local_free(local_env *e) {
    configs_free(&e->lv);
    lv_slabs_close(&e->lv);
    if (e->lv.readers) pthread_mutex_destroy(&e->lv.readers->lock);
    free(e->lv.readers);
    eg_lmdb_close(&e->lmdb);
    free(e);
}

/* Every collection's configuration, for the vector files' upkeep at open. */
static eg_status load_all(local_vectors *lv, MDB_txn *txn, local_collection **out, size_t *count, eg_error *err) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lv->collections, &cur);
    if (rc) return lv_mdb_error(lv, rc, "open", err);
    eg_status st = EG_OK;
    size_t cap = 0;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && st == EG_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char name[EG_COLLECTION_NAME_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int)k.mv_size, (const char *)k.mv_data);
        if (*count == cap) {
            local_collection *grown = realloc(*out, (cap = cap ? 2 * cap : 8) * sizeof *grown);
            if (!grown) {
                st = eg_error_set(err, EG_INTERNAL, "out of memory");
                break;
            }
            *out = grown;
        }
        if ((st = lv_collection_load(lv, txn, name, &(*out)[*count], err)) == EG_OK) (*count)++;
    }
    mdb_cursor_close(cur);
    if (st == EG_OK && rc != MDB_NOTFOUND) st = lv_mdb_error(lv, rc, "open", err);
    return st;
}

/* At open: a folder of format 1 has its vectors moved into vector files (one transaction, after which it is of
 * format 2), and files of collections deleted by a write cut short are removed. */
static eg_status prepare_slabs(local_vectors *lv, eg_error *err) {
    MDB_txn *txn;
    eg_status st = lv_begin(lv, true, &txn, err);
    if (st) return st;
    local_collection *all = NULL;
    size_t count = 0;
    uint32_t format = LOCAL_VECTORS_FORMAT;
    MDB_val k = {6, "format"}, v;
    int rc = mdb_get(txn, lv->meta, &k, &v);
    if (rc == 0 && v.mv_size == sizeof format) memcpy(&format, v.mv_data, sizeof format);
    st = load_all(lv, txn, &all, &count, err);
    if (st == EG_OK && format < LOCAL_VECTORS_FORMAT) {
        format = LOCAL_VECTORS_FORMAT;
        MDB_val nv = {sizeof format, &format};
        if ((st = lv_slabs_migrate(lv, txn, all, count, err)) == EG_OK && (rc = mdb_put(txn, lv->meta, &k, &nv, 0)))
            st = lv_mdb_error(lv, rc, "migrate vectors", err);
        if (st == EG_OK) st = lv_commit(lv, txn, "migrate vectors", err);
        else mdb_txn_abort(txn);
    } else {
        mdb_txn_abort(txn);
    }
    uint32_t *numbers = st == EG_OK ? calloc(count + 1, sizeof *numbers) : NULL;
    for (size_t i = 0; numbers && i < count; i++) numbers[i] = all[i].number;
    if (numbers) lv_slabs_remove_orphans(lv, numbers, count);
    free(numbers);
    for (size_t i = 0; i < count; i++) lv_collection_clear(&all[i]);
    free(all);
    return st;
}

eg_status eg_vectors_open_lmdb(const char *dir, const eg_vectors_lmdb_options *options, eg_vectors **out,
                               eg_error *err) {
    if (!dir || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "vectors folder or out is NULL");
    *out = NULL;
    local_env *e = calloc(1, sizeof *e);
    if (!e) return eg_error_set(err, EG_INTERNAL, "out of memory");
    local_vectors *lv = &e->lv;
    lv->base.ops = &local_ops;
    lv->base.name = "vectors";
    eg_lmdb_options lmdb_options = {"vectors", options ? options->map_size_bytes : 0, DEFAULT_MAP_SIZE,
                                    options && options->no_sync, LOCAL_VECTORS_FORMAT};
    const eg_lmdb_table tables[] = {
        {"meta", 0, &lv->meta},     {"collections", 0, &lv->collections}, {"points", 0, &lv->points},
        {"slots", 0, &lv->slots},   {"dense", 0, &lv->dense},             {"sparse", 0, &lv->sparse},
        {"pindex", 0, &lv->pindex}, {"free_slots", 0, &lv->free_slots},
    };
    eg_status st = eg_lmdb_open(dir, &lmdb_options, tables, sizeof tables / sizeof tables[0], &e->lmdb, err);
    if (st) {
        free(e);
        return st;
    }
    if (!(lv->configs = calloc(1, sizeof *lv->configs)) || !(lv->readers = calloc(1, sizeof *lv->readers))) {
        st = eg_error_set(err, EG_INTERNAL, "out of memory");
    } else {
        pthread_mutex_init(&lv->configs->lock, NULL);
        pthread_mutex_init(&lv->readers->lock, NULL);
    }
    if (st == EG_OK && (st = lv_slabs_open(lv, dir, options && options->no_sync, err)) == EG_OK)
        st = prepare_slabs(lv, err);
    if (st == EG_OK) st = lv_ann_open(lv, dir, options ? options->index_threads : 0, err);
    if (st) {
        local_free(e);
        return st;
    }
    *out = &lv->base;
    return EG_OK;
}

static void local_close(eg_vectors *v) {
    local_env *e = (local_env *)local_of(v);
    lv_ann_close(&e->lv, true);
    local_free(e);
}

static const eg_vectors_ops local_ops = {
    .create_collection = lv_create_collection,
    .get_collection = lv_get_collection,
    .list_collections = lv_list_collections,
    .delete_collection = lv_delete_collection,
    .create_payload_index = lv_create_payload_index,
    .delete_payload_index = lv_delete_payload_index,
    .upsert = lv_upsert,
    .get = lv_get,
    .set_payload = lv_set_payload,
    .delete_payload_keys = lv_delete_payload_keys,
    .update_vectors = lv_update_vectors,
    .delete_points = lv_delete_points,
    .count = lv_count,
    .scroll = lv_scroll,
    .search = lv_search,
    .search_hybrid = lv_search_hybrid,
    .close = local_close,
};
