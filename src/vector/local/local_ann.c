/* local_ann.c — the approximate (HNSW) index of each collection of the embedded backend: built the first time a
 * search needs it, kept in step with every committed write, saved when the store closes, loaded when it opens.
 *
 * Consistency. Every write transaction of the backend runs under the store's write lock (lv_write_lock), and a
 * write that changes vectors bumps its collection's version (meta "version.<n>") in the same transaction, then,
 * once committed and before the lock is released, applies the same slot edits to the collection's index. A build
 * holds the write lock too, reading the points and the version from one snapshot. So an index always reflects
 * exactly the committed points, in commit order, and knows which version it holds. Searches do not take the lock:
 * one whose snapshot is not the version the index held throughout its walk (a write landed in between) walks
 * again checking each point against its snapshot (local_search.c).
 *
 * Files. DIR/ann/<collection number>.hnsw holds a saved index and, as its stamp, the version it reflects. At open,
 * a file whose stamp equals its collection's version is loaded; any other (the process died after changing the
 * points, the collection was deleted, the file is damaged) is removed, and the index is rebuilt when next needed.
 * At close, every index whose file is missing or older is saved. If a change of an index fails after its commit
 * (out of memory), the index is dropped the same way: correct results never depend on it.
 *
 * Threads: the registry of indexes is guarded by a read-write lock: searches and writes hold it for reading while
 * they use an index (eg_hnsw does its own locking inside), and only adding or dropping an index takes it for
 * writing. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: a write setting keys must not starve behind searches */
#include "vector/hnsw.h"
#include "vector/local/local_vectors.h"
#include "util/files.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUILD_PIECE 65536 /* points copied out of the store per add_batch while building */
#define NO_FILE UINT64_MAX

/* An index and the point key of each of its labels (slots), so that a search names its results without reading
 * the store's chunks: keys[slot][0] is LV_EMPTY_SLOT when the slot holds no point. A key is set before its label
 * enters the index and cleared after it leaves, so a search never meets a label it cannot name. */
typedef struct ann_entry {
    uint32_t collection;
    eg_hnsw *hnsw;
    uint64_t file_stamp;       /* the version its saved file reflects, or NO_FILE */
    _Atomic uint64_t applied;  /* the collection version the index holds (changes as a write is applied) */
    pthread_rwlock_t keys_lock; /* searches read keys (at every point a filtered walk meets), writes set them */
    unsigned char (*keys)[POINT_KEY_SIZE];
    size_t keys_cap;
    struct ann_entry *next;
} ann_entry;

struct lv_ann {
    char dir[4096];
    unsigned threads;
    pthread_mutex_t write_lock;
    pthread_rwlock_t registry_lock;
    ann_entry *entries;
};

void lv_write_lock(local_vectors *lv) { pthread_mutex_lock(&lv->ann->write_lock); }
void lv_write_unlock(local_vectors *lv) { pthread_mutex_unlock(&lv->ann->write_lock); }

/* ---- Versions ------------------------------------------------------------------------------------------- */

eg_status lv_version_get(local_vectors *lv, MDB_txn *txn, uint32_t collection, uint64_t *out, eg_error *err) {
    return lv_meta_counter_get(lv, txn, "version", collection, out, err);
}

eg_status lv_version_bump(local_vectors *lv, MDB_txn *txn, uint32_t collection, uint64_t *bumped, eg_error *err) {
    return lv_meta_counter_add(lv, txn, "version", collection, 1, bumped, err);
}

/* ---- Registry ------------------------------------------------------------------------------------------- */

static void file_path(const lv_ann *a, uint32_t collection, char *out, size_t cap) {
    snprintf(out, cap, "%s/%u.hnsw", a->dir, collection);
}

/* The entry of a collection; the caller holds registry_lock. */
static ann_entry *find(const lv_ann *a, uint32_t collection) {
    for (ann_entry *e = a->entries; e; e = e->next)
        if (e->collection == collection) return e;
    return NULL;
}

static ann_entry *entry_new(uint32_t collection) {
    ann_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->collection = collection;
    e->file_stamp = NO_FILE;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->keys_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return e;
}

static void entry_free(ann_entry *e) {
    if (!e) return;
    eg_hnsw_free(e->hnsw);
    pthread_rwlock_destroy(&e->keys_lock);
    free(e->keys);
    free(e);
}

/* Sets (point_key) or clears (NULL) the key of slot; false when out of memory. */
static bool set_key(ann_entry *e, uint32_t slot, const unsigned char *point_key) {
    pthread_rwlock_wrlock(&e->keys_lock);
    bool ok = true;
    if (slot >= e->keys_cap) {
        size_t cap = e->keys_cap ? e->keys_cap : 1024;
        while (cap <= slot) cap *= 2;
        unsigned char(*grown)[POINT_KEY_SIZE] = realloc(e->keys, cap * POINT_KEY_SIZE);
        if ((ok = grown != NULL)) {
            for (size_t i = e->keys_cap; i < cap; i++) grown[i][0] = LV_EMPTY_SLOT;
            e->keys = grown;
            e->keys_cap = cap;
        }
    }
    if (ok && point_key) memcpy(e->keys[slot], point_key, POINT_KEY_SIZE);
    else if (ok) e->keys[slot][0] = LV_EMPTY_SLOT;
    pthread_rwlock_unlock(&e->keys_lock);
    return ok;
}

static void add_entry(lv_ann *a, ann_entry *e) {
    pthread_rwlock_wrlock(&a->registry_lock);
    e->next = a->entries;
    a->entries = e;
    pthread_rwlock_unlock(&a->registry_lock);
}

void lv_ann_drop(local_vectors *lv, uint32_t collection) {
    lv_ann *a = lv->ann;
    pthread_rwlock_wrlock(&a->registry_lock);
    ann_entry **link = &a->entries;
    while (*link && (*link)->collection != collection) link = &(*link)->next;
    ann_entry *e = *link;
    if (e) *link = e->next;
    pthread_rwlock_unlock(&a->registry_lock);
    entry_free(e);
    char path[4400];
    file_path(a, collection, path, sizeof path);
    unlink(path);
}

uint64_t lv_ann_indexed(local_vectors *lv, uint32_t collection) {
    pthread_rwlock_rdlock(&lv->ann->registry_lock);
    ann_entry *e = find(lv->ann, collection);
    uint64_t n = e ? eg_hnsw_count(e->hnsw) : 0;
    pthread_rwlock_unlock(&lv->ann->registry_lock);
    return n;
}

static eg_hnsw_params params_for(const local_collection *c) {
    eg_hnsw_params p = eg_hnsw_params_default();
    p.m = c->config.hnsw_m;
    p.ef_construct = c->config.hnsw_ef_construct;
    p.int8 = c->config.quantization == EG_QUANTIZATION_INT8;
    return p;
}

/* ---- Keeping indexes in step ---------------------------------------------------------------------------- */

static eg_status apply_edits(lv_ann *a, ann_entry *e, const local_collection *c, const lv_slot_edit *edits,
                             size_t count, eg_error *err) {
    uint32_t *labels = malloc((count ? count : 1) * sizeof *labels);
    float *vectors = malloc((count ? count : 1) * (size_t)c->config.dim * sizeof(float));
    eg_status st = labels && vectors ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        if (i > 0 && edits[i].slot == edits[i - 1].slot) continue; /* the same edit repeated (an id deleted twice) */
        if (eg_hnsw_contains(e->hnsw, edits[i].slot)) st = eg_hnsw_remove(e->hnsw, edits[i].slot, err);
        if (st == EG_OK && !set_key(e, edits[i].slot, edits[i].vector ? edits[i].point_key : NULL))
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
        if (st == EG_OK && edits[i].vector) {
            labels[n] = edits[i].slot;
            memcpy(vectors + n * c->config.dim, edits[i].vector, (size_t)c->config.dim * sizeof(float));
            n++;
        }
    }
    if (st == EG_OK) st = eg_hnsw_add_batch(e->hnsw, labels, vectors, n, a->threads, err);
    free(labels);
    free(vectors);
    return st;
}

void lv_ann_apply(local_vectors *lv, const local_collection *c, const lv_slot_edit *edits, size_t count,
                  uint64_t version) {
    lv_ann *a = lv->ann;
    pthread_rwlock_rdlock(&a->registry_lock);
    ann_entry *e = find(a, c->number);
    if (e) atomic_store(&e->applied, UINT64_MAX); /* in between two versions until the edits are all in */
    eg_status st = e ? apply_edits(a, e, c, edits, count, NULL) : EG_OK;
    if (e) atomic_store(&e->applied, version);
    pthread_rwlock_unlock(&a->registry_lock);
    if (st != EG_OK) lv_ann_drop(lv, c->number);
}

/* ---- Building ------------------------------------------------------------------------------------------- */

typedef struct build_ctx {
    const local_collection *c;
    ann_entry *e;
    unsigned threads;
    uint32_t *labels;
    float *vectors;
    size_t n;
    eg_status st;
    eg_error *err;
} build_ctx;

static void flush(build_ctx *b) {
    if (b->st == EG_OK && b->n > 0)
        b->st = eg_hnsw_add_batch(b->e->hnsw, b->labels, b->vectors, b->n, b->threads, b->err);
    b->n = 0;
}

static void collect_slot(void *ctx, uint32_t slot, const unsigned char *point_key, const float *vector) {
    build_ctx *b = ctx;
    uint32_t dim = b->c->config.dim;
    if (b->st == EG_OK && !set_key(b->e, slot, point_key)) b->st = eg_error_set(b->err, EG_INTERNAL, "out of memory");
    b->labels[b->n] = slot;
    memcpy(b->vectors + b->n * dim, vector, dim * sizeof(float));
    if (++b->n == BUILD_PIECE) flush(b);
}

/* Builds c's index from the store (the caller holds the write lock) and registers it. */
static eg_status build(local_vectors *lv, const local_collection *c, eg_error *err) {
    lv_ann *a = lv->ann;
    MDB_txn *txn;
    eg_status st = lv_begin(lv, false, &txn, err);
    if (st) return st;
    eg_hnsw_params p = params_for(c);
    build_ctx b = {c, entry_new(c->number), a->threads, malloc(BUILD_PIECE * sizeof(uint32_t)),
                   malloc((size_t)BUILD_PIECE * c->config.dim * sizeof(float)), 0, EG_OK, err};
    if (!b.e || !b.labels || !b.vectors) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    uint64_t count = 0, version = 0;
    if (st == EG_OK && (st = lv_count_get(lv, txn, c->number, &count, err)) == EG_OK)
        st = lv_version_get(lv, txn, c->number, &version, err);
    if (st == EG_OK) atomic_store(&b.e->applied, version);
    p.capacity = (uint32_t)(count < UINT32_MAX ? count : UINT32_MAX);
    if (st == EG_OK) st = eg_hnsw_new(c->config.dim, c->config.distance, &p, &b.e->hnsw, err);
    if (st == EG_OK) st = lv_slots_each(lv, txn, c, collect_slot, &b, err);
    flush(&b);
    if (st == EG_OK) st = b.st;
    lv_end(lv, txn);
    free(b.labels);
    free(b.vectors);
    if (st == EG_OK) add_entry(a, b.e);
    else entry_free(b.e);
    return st;
}

/* The caller's accept, given the point key the index holds for each label. */
typedef struct keyed_accept {
    ann_entry *e;
    lv_ann_accept accept;
    void *ctx;
} keyed_accept;

static bool accept_with_key(void *ctx, uint32_t label) {
    keyed_accept *k = ctx;
    unsigned char key[POINT_KEY_SIZE];
    pthread_rwlock_rdlock(&k->e->keys_lock);
    if (label < k->e->keys_cap) memcpy(key, k->e->keys[label], POINT_KEY_SIZE);
    else key[0] = LV_EMPTY_SLOT;
    pthread_rwlock_unlock(&k->e->keys_lock);
    return k->accept(k->ctx, label, key);
}

eg_status lv_ann_search(local_vectors *lv, const local_collection *c, uint64_t snapshot_version, const float *query,
                        size_t k, size_t ef, lv_ann_accept accept, void *ctx, eg_hnsw_hit *out,
                        unsigned char (*keys)[POINT_KEY_SIZE], size_t *found, bool *in_step, eg_error *err) {
    lv_ann *a = lv->ann;
    for (int attempt = 0;; attempt++) {
        pthread_rwlock_rdlock(&a->registry_lock);
        ann_entry *e = find(a, c->number);
        eg_status st = EG_OK;
        if (e) {
            uint64_t before = atomic_load(&e->applied);
            keyed_accept keyed = {e, accept, ctx};
            st = eg_hnsw_search(e->hnsw, query, k, ef, accept ? accept_with_key : NULL, &keyed, out, found, err);
            *in_step = before == snapshot_version && atomic_load(&e->applied) == snapshot_version;
        }
        if (e && st == EG_OK) {
            pthread_rwlock_rdlock(&e->keys_lock);
            for (size_t i = 0; i < *found; i++) {
                if (out[i].label < e->keys_cap) memcpy(keys[i], e->keys[out[i].label], POINT_KEY_SIZE);
                else keys[i][0] = LV_EMPTY_SLOT;
            }
            pthread_rwlock_unlock(&e->keys_lock);
        }
        pthread_rwlock_unlock(&a->registry_lock);
        if (e || attempt > 0) return e ? st : eg_error_set(err, EG_INTERNAL, "the index could not be kept");
        lv_write_lock(lv);
        pthread_rwlock_rdlock(&a->registry_lock);
        bool built = find(a, c->number) != NULL; /* by another search meanwhile */
        pthread_rwlock_unlock(&a->registry_lock);
        st = built ? EG_OK : build(lv, c, err);
        lv_write_unlock(lv);
        if (st) return st;
    }
}

/* ---- Opening and closing -------------------------------------------------------------------------------- */

/* Fills e's keys from the store's slots, checking that they name exactly the index's points. */
typedef struct keys_ctx {
    ann_entry *e;
    size_t count;
    bool ok;
} keys_ctx;

static void collect_keys(void *ctx, uint32_t slot, const unsigned char *point_key, const float *vector) {
    (void)vector; /* not read: only the slots table is walked */
    keys_ctx *k = ctx;
    if (!k->ok) return;
    k->ok = eg_hnsw_contains(k->e->hnsw, slot) && set_key(k->e, slot, point_key);
    k->count++;
}

static bool keys_from_store(local_vectors *lv, MDB_txn *txn, const local_collection *c, ann_entry *e) {
    keys_ctx k = {e, 0, true};
    return lv_slots_each(lv, txn, c, collect_keys, &k, NULL) == EG_OK && k.ok && k.count == eg_hnsw_count(e->hnsw);
}

/* Loads the saved index of collection number n if it matches the store; otherwise removes its file. */
static void load_one(local_vectors *lv, MDB_txn *txn, uint32_t n, const char *path) {
    MDB_cursor *cur;
    MDB_val k, v;
    bool loaded = false;
    if (mdb_cursor_open(txn, lv->collections, &cur) == 0) {
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !loaded; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            char name[EG_COLLECTION_NAME_MAX + 1];
            snprintf(name, sizeof name, "%.*s", (int)k.mv_size, (const char *)k.mv_data);
            local_collection c;
            if (lv_collection_load(lv, txn, name, &c, NULL) != EG_OK) continue;
            uint64_t version, stamp;
            eg_hnsw *h = NULL;
            if (c.number == n && lv_version_get(lv, txn, n, &version, NULL) == EG_OK &&
                eg_hnsw_load(path, &h, &stamp, NULL) == EG_OK) {
                eg_hnsw_params p = eg_hnsw_params_of(h), want = params_for(&c);
                ann_entry *e = entry_new(n);
                if (e) e->hnsw = h;
                else eg_hnsw_free(h);
                if (e && stamp == version && p.m == want.m && p.ef_construct == want.ef_construct &&
                    p.int8 == want.int8 && keys_from_store(lv, txn, &c, e)) {
                    e->file_stamp = stamp;
                    atomic_store(&e->applied, stamp);
                    add_entry(lv->ann, e);
                    loaded = true;
                } else {
                    entry_free(e);
                }
            }
            bool mine = c.number == n;
            lv_collection_clear(&c);
            if (mine) break;
        }
        mdb_cursor_close(cur);
    }
    if (!loaded) unlink(path);
}

static eg_status load_saved(local_vectors *lv, eg_error *err) {
    DIR *d = opendir(lv->ann->dir);
    if (!d) return eg_error_set(err, EG_IO, "cannot read the index folder vectors/ann: %s", strerror(errno));
    MDB_txn *txn;
    eg_status st = lv_begin(lv, false, &txn, err);
    for (struct dirent *de; st == EG_OK && (de = readdir(d));) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", lv->ann->dir, de->d_name);
        unsigned n;
        char rest[8];
        int fields = sscanf(de->d_name, "%u.hnsw%7s", &n, rest);
        if (fields == 1 && strstr(de->d_name, ".hnsw")) load_one(lv, txn, n, path);
        else if (strstr(de->d_name, ".hnsw.tmp")) unlink(path); /* a save cut short */
    }
    if (st == EG_OK) lv_end(lv, txn);
    closedir(d);
    return st;
}

eg_status lv_ann_open(local_vectors *lv, const char *dir, unsigned threads, eg_error *err) {
    lv_ann *a = calloc(1, sizeof *a);
    if (!a) return eg_error_set(err, EG_INTERNAL, "out of memory");
    if (snprintf(a->dir, sizeof a->dir, "%s/ann", dir) >= (int)sizeof a->dir) {
        free(a);
        return eg_error_set(err, EG_INVALID_ARGUMENT, "vectors folder path is too long");
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    a->threads = threads ? threads : cpus > 0 ? (unsigned)cpus : 1;
    pthread_mutex_init(&a->write_lock, NULL);
    pthread_rwlock_init(&a->registry_lock, NULL);
    lv->ann = a;
    eg_status st = eg_mkdir(a->dir, "vectors/ann", err);
    if (st == EG_OK) st = load_saved(lv, err);
    if (st) lv_ann_close(lv, false);
    return st;
}

/* Saves an index whose file is missing or older than the store's version. */
static void save_one(local_vectors *lv, ann_entry *e) {
    MDB_txn *txn;
    uint64_t version;
    if (lv_begin(lv, false, &txn, NULL) != EG_OK) return;
    eg_status st = lv_version_get(lv, txn, e->collection, &version, NULL);
    lv_end(lv, txn);
    if (st != EG_OK || version == e->file_stamp) return;
    char path[4400];
    file_path(lv->ann, e->collection, path, sizeof path);
    if (eg_hnsw_save(e->hnsw, path, version, NULL) != EG_OK) unlink(path); /* rebuilt at the next open instead */
}

void lv_ann_close(local_vectors *lv, bool save) {
    lv_ann *a = lv->ann;
    if (!a) return;
    while (a->entries) {
        ann_entry *e = a->entries;
        a->entries = e->next;
        if (save) save_one(lv, e);
        entry_free(e);
    }
    pthread_rwlock_destroy(&a->registry_lock);
    pthread_mutex_destroy(&a->write_lock);
    free(a);
    lv->ann = NULL;
}
