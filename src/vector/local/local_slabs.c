/* local_slabs.c — dense vectors in one file per collection, one slot after another (see local_vectors.h).
 *
 * DATA/vectors/slabs/<collection number>.f32 holds slot s's dim float32 values at byte s * dim * 4 and nothing
 * else, so writing one point writes its own bytes, and an unfiltered scan streams through one long array. The file
 * is mapped for reading in extents that double in size (extent k holds SLAB_BASE_SLOTS << k slots): a small
 * collection maps little, a large one a few extents. A mapped extent stays mapped until the store closes (or its
 * collection is deleted and no reader remains), so a reader's pointers never move; the file is grown, sparsely, to
 * the end of an extent before any slot in it is written, so no byte a snapshot can reach lies past its end.
 *
 * Which slot holds which point is in LMDB (table slots: collection | slot -> point key), so every snapshot names
 * exactly the slots it may read. Writes never touch a slot a snapshot may read:
 *   - a new or changed vector goes to a free slot (copy on write), written and synced before the commit that
 *     names it: a committed slot's bytes are on disk whenever its commit is, and a write that never commits
 *     changed only a slot nothing names;
 *   - a slot given up (a delete, a replaced vector) is free from the commit that gives it up, recorded with that
 *     commit's transaction id, and reused only once every reader that began before that commit has ended
 *     (lv_oldest_reader).
 * An unfiltered scan scores every slot below the snapshot's count of slots used, free ones included, and names a
 * slot through the snapshot's slots table only when its score could enter the results. */
#include "vector/local/local_vectors.h"
#include "util/files.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SLAB_BASE_SLOTS 1024u
#define SLAB_EXTENTS 23        /* SLAB_BASE_SLOTS * (2^23 - 1) >= 2^32: every u32 slot has an extent */
#define IOVECS_MAX 1024        /* buffers per pwritev: Linux's IOV_MAX */
#define FREE_SLOTS_TRIED 64    /* free slots still held by readers skipped before a new slot is taken instead */

typedef struct lv_slab {
    uint32_t number;
    size_t stride; /* bytes per slot */
    int fd;
    _Atomic uint64_t file_bytes; /* the file's size: grown by the writer (under the write lock) before a commit */
    _Atomic(const unsigned char *) extents[SLAB_EXTENTS];
    pthread_mutex_t map_lock; /* one mapping per extent */
    uint64_t retired_at;      /* the transaction that deleted the collection (0: live) */
    struct lv_slab *next;
} lv_slab;

struct lv_slabs {
    pthread_mutex_t lock;
    char dir[4096];
    bool no_sync;
    lv_slab *live, *retired;
};

/* ---- extents --------------------------------------------------------------------------------------------- */

static unsigned extent_of(uint32_t slot) {
    uint64_t q = (uint64_t)slot / SLAB_BASE_SLOTS + 1;
    return 63u - (unsigned)__builtin_clzll(q);
}
static uint64_t extent_first(unsigned k) { return (uint64_t)SLAB_BASE_SLOTS * ((1ull << k) - 1); }
static uint64_t extent_slots(unsigned k) { return (uint64_t)SLAB_BASE_SLOTS << k; }

/* Extent k, mapped on first use; NULL when it cannot be mapped. */
static const unsigned char *extent(lv_slab *s, unsigned k) {
    const unsigned char *base = atomic_load_explicit(&s->extents[k], memory_order_acquire);
    if (base) return base;
    pthread_mutex_lock(&s->map_lock);
    base = atomic_load_explicit(&s->extents[k], memory_order_relaxed);
    if (!base) {
        void *m = mmap(NULL, extent_slots(k) * s->stride, PROT_READ, MAP_SHARED, s->fd,
                       (off_t)(extent_first(k) * s->stride));
        if (m != MAP_FAILED) {
            base = m;
            atomic_store_explicit(&s->extents[k], base, memory_order_release);
        }
    }
    pthread_mutex_unlock(&s->map_lock);
    return base;
}

static void slab_free(lv_slab *s) {
    for (unsigned k = 0; k < SLAB_EXTENTS; k++) {
        const unsigned char *base = atomic_load(&s->extents[k]);
        if (base) munmap((void *)base, extent_slots(k) * s->stride);
    }
    if (s->fd >= 0) close(s->fd);
    pthread_mutex_destroy(&s->map_lock);
    free(s);
}

/* ---- the registry -------------------------------------------------------------------------------------------- */

static void slab_path(const lv_slabs *r, uint32_t number, char *out, size_t cap) {
    snprintf(out, cap, "%s/%u.f32", r->dir, number);
}

eg_status lv_slabs_open(local_vectors *lv, const char *vectors_dir, bool no_sync, eg_error *err) {
    lv_slabs *r = calloc(1, sizeof *r);
    if (!r) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = eg_path_join(r->dir, sizeof r->dir, vectors_dir, "slabs", err);
    if (st == EG_OK) st = eg_mkdir(r->dir, "vectors/slabs folder", err);
    if (st) {
        free(r);
        return st;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->no_sync = no_sync;
    lv->slabs = r;
    return EG_OK;
}

void lv_slabs_close(local_vectors *lv) {
    lv_slabs *r = lv->slabs;
    if (!r) return;
    for (lv_slab *lists[] = {r->live, r->retired}, **l = lists; l < lists + 2; l++)
        for (lv_slab *s = *l, *next; s; s = next) {
            next = s->next;
            slab_free(s);
        }
    pthread_mutex_destroy(&r->lock);
    free(r);
    lv->slabs = NULL;
}

/* Opens (creating it, durably, when missing) the slab of collection c. Called with the registry locked. */
static eg_status slab_open(lv_slabs *r, const local_collection *c, lv_slab **out, eg_error *err) {
    char path[4200];
    slab_path(r, c->number, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        eg_status st = fd >= 0 ? eg_sync_folder(r->dir, "vectors/slabs folder", err) : EG_OK;
        if (st) {
            close(fd);
            return st;
        }
    }
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return eg_error_set(err, EG_IO, "open the vectors of collection %u: %s", c->number, strerror(e));
    }
    lv_slab *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    s->number = c->number;
    s->stride = (size_t)c->config.dim * sizeof(float);
    s->fd = fd;
    s->file_bytes = (uint64_t)info.st_size;
    pthread_mutex_init(&s->map_lock, NULL);
    *out = s;
    return EG_OK;
}

/* The slab of collection c, opened on first use. */
static eg_status slab_get(local_vectors *lv, const local_collection *c, lv_slab **out, eg_error *err) {
    lv_slabs *r = lv->slabs;
    pthread_mutex_lock(&r->lock);
    lv_slab *s = r->live;
    while (s && s->number != c->number) s = s->next;
    eg_status st = EG_OK;
    if (!s && (st = slab_open(r, c, &s, err)) == EG_OK) {
        s->next = r->live;
        r->live = s;
    }
    pthread_mutex_unlock(&r->lock);
    *out = s;
    return st;
}

void lv_slab_retire(local_vectors *lv, uint32_t number, uint64_t txn_id) {
    lv_slabs *r = lv->slabs;
    char path[4200];
    pthread_mutex_lock(&r->lock);
    for (lv_slab **p = &r->live; *p; p = &(*p)->next)
        if ((*p)->number == number) {
            lv_slab *s = *p;
            *p = s->next;
            s->retired_at = txn_id;
            s->next = r->retired;
            r->retired = s;
            break;
        }
    slab_path(r, number, path, sizeof path);
    unlink(path); /* a file left by a crash here belongs to no collection: lv_slabs_remove_orphans */
    pthread_mutex_unlock(&r->lock);
}

void lv_slabs_release_retired(local_vectors *lv, uint64_t oldest_reader) {
    lv_slabs *r = lv->slabs;
    pthread_mutex_lock(&r->lock);
    for (lv_slab **p = &r->retired; *p;) {
        lv_slab *s = *p;
        if (s->retired_at <= oldest_reader) {
            *p = s->next;
            slab_free(s);
        } else {
            p = &s->next;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- reading --------------------------------------------------------------------------------------------- */

static void slot_key(uint32_t collection, uint32_t slot, unsigned char out[8]) {
    uint32_t be = htobe32(slot);
    lv_collection_prefix(collection, out);
    memcpy(out + 4, &be, 4);
}

/* Slot's vector in slab s, read in place. */
static eg_status slab_vector(lv_slab *s, const local_collection *c, uint32_t slot, const float **out, eg_error *err) {
    if (((uint64_t)slot + 1) * s->stride > atomic_load(&s->file_bytes))
        return eg_error_set(err, EG_CORRUPT, "the vectors file of collection %u is shorter than its points", c->number);
    unsigned k = extent_of(slot);
    const unsigned char *base = extent(s, k);
    if (!base) return eg_error_set(err, EG_IO, "map the vectors of collection %u: %s", c->number, strerror(errno));
    *out = (const float *)(base + (slot - extent_first(k)) * s->stride);
    return EG_OK;
}

static eg_status vector_at(local_vectors *lv, const local_collection *c, uint32_t slot, const float **out,
                           eg_error *err) {
    lv_slab *s;
    eg_status st = slab_get(lv, c, &s, err);
    return st ? st : slab_vector(s, c, slot, out, err);
}

static const unsigned char empty_key[POINT_KEY_SIZE] = {LV_EMPTY_SLOT};

eg_status lv_slot_read(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot,
                       const unsigned char **point_key, const float **vector, eg_error *err) {
    unsigned char key[8];
    slot_key(c->number, slot, key);
    MDB_val k = {8, key}, v;
    int rc = mdb_get(txn, lv->slots, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *point_key = empty_key;
        *vector = NULL;
        return EG_OK;
    }
    if (rc) return lv_mdb_error(lv, rc, "read a slot", err);
    if (v.mv_size != POINT_KEY_SIZE) return eg_error_set(err, EG_CORRUPT, "a slot record is damaged");
    *point_key = v.mv_data;
    return vector_at(lv, c, slot, vector, err);
}

eg_status lv_slot_vector(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t slot,
                         const float **out, eg_error *err) {
    (void)txn; /* the slot is named by a record of the snapshot, so its bytes are those the snapshot committed */
    return vector_at(lv, c, slot, out, err);
}

eg_status lv_slab_scan(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_slab_visit visit, void *ctx,
                       eg_error *err) {
    uint64_t used;
    eg_status st = lv_meta_counter_get(lv, txn, "slots", c->number, &used, err);
    if (st || used == 0) return st;
    lv_slab *s;
    if ((st = slab_get(lv, c, &s, err))) return st;
    if (used * s->stride > atomic_load(&s->file_bytes))
        return eg_error_set(err, EG_CORRUPT, "the vectors file of collection %u is shorter than its points", c->number);
    for (unsigned k = 0; extent_first(k) < used; k++) {
        const unsigned char *base = extent(s, k);
        if (!base) return eg_error_set(err, EG_IO, "map the vectors of collection %u: %s", c->number, strerror(errno));
        uint64_t first = extent_first(k), n = extent_slots(k);
        if (first + n > used) n = used - first;
        for (uint64_t done = 0; done < n; done += LV_SCAN_BLOCK) {
            uint32_t count = (uint32_t)(n - done < LV_SCAN_BLOCK ? n - done : LV_SCAN_BLOCK);
            visit(ctx, (uint32_t)(first + done), count, (const float *)(base + done * s->stride));
        }
    }
    return EG_OK;
}

eg_status lv_slots_each(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_slot_visit visit, void *ctx,
                        eg_error *err) {
    unsigned char prefix[4];
    lv_collection_prefix(c->number, prefix);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lv->slots, &cur);
    if (rc) return lv_mdb_error(lv, rc, "scan vectors", err);
    eg_status st = EG_OK;
    lv_slab *s = NULL; /* looked up at the first slot, once for the walk */
    MDB_val k = {4, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && st == EG_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || memcmp(k.mv_data, prefix, 4) != 0) break;
        if (v.mv_size != POINT_KEY_SIZE) {
            st = eg_error_set(err, EG_CORRUPT, "a slot record is damaged");
            break;
        }
        uint32_t be;
        memcpy(&be, (const unsigned char *)k.mv_data + 4, 4);
        const float *vector;
        if (!s && (st = slab_get(lv, c, &s, err))) break;
        if ((st = slab_vector(s, c, be32toh(be), &vector, err)) == EG_OK) visit(ctx, be32toh(be), v.mv_data, vector);
    }
    mdb_cursor_close(cur);
    if (st == EG_OK && rc != 0 && rc != MDB_NOTFOUND) st = lv_mdb_error(lv, rc, "scan vectors", err);
    return st;
}

/* ---- writing ----------------------------------------------------------------------------------------------- */

static eg_status write_error(const local_collection *c, int e, eg_error *err) {
    return eg_error_set(err, EG_IO, "write the vectors of collection %u: %s", c->number, strerror(e));
}

/* Writes vectors to `count` consecutive slots from `first` (one system call per IOVECS_MAX of them), growing the file
 * to the end of the last slot's extent first. */
static eg_status write_slots(lv_slab *s, const local_collection *c, uint32_t first, const void *const *vectors,
                             size_t count, eg_error *err) {
    unsigned k = extent_of((uint32_t)(first + count - 1));
    uint64_t end = (extent_first(k) + extent_slots(k)) * s->stride;
    if (end > atomic_load(&s->file_bytes)) {
        if (ftruncate(s->fd, (off_t)end) != 0) return write_error(c, errno, err);
        atomic_store(&s->file_bytes, end);
    }
    struct iovec iov[IOVECS_MAX];
    off_t at = (off_t)((uint64_t)first * s->stride);
    for (size_t done = 0; done < count;) {
        int n = 0;
        for (; n < IOVECS_MAX && done + (size_t)n < count; n++)
            iov[n] = (struct iovec){(void *)vectors[done + (size_t)n], s->stride};
        size_t left = (size_t)n * s->stride;
        struct iovec *v = iov;
        while (left > 0) { /* a short write continues where it stopped */
            ssize_t w = pwritev(s->fd, v, n, at);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return write_error(c, w < 0 ? errno : ENOSPC, err);
            at += w, left -= (size_t)w;
            while (n > 0 && (size_t)w >= v->iov_len) w -= (ssize_t)v->iov_len, v++, n--;
            if (n > 0) v->iov_base = (char *)v->iov_base + w, v->iov_len -= (size_t)w;
        }
        done += (size_t)(v - iov);
    }
    return EG_OK;
}

static int compare_edits(const void *pa, const void *pb) {
    const lv_slot_edit *a = pa, *b = pb;
    if (a->slot != b->slot) return (a->slot > b->slot) - (a->slot < b->slot);
    return (a->order > b->order) - (a->order < b->order);
}

eg_status lv_slots_apply(local_vectors *lv, MDB_txn *txn, const local_collection *c, lv_slot_edit *edits,
                         size_t *count, eg_error *err) {
    if (*count == 0) return EG_OK;
    /* A slot may be edited twice in one batch (a point upserted twice: its first slot is given up again): the
     * last edit is what the transaction leaves. */
    for (size_t i = 0; i < *count; i++) edits[i].order = (uint32_t)i;
    qsort(edits, *count, sizeof *edits, compare_edits);
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++) {
        if (kept > 0 && edits[kept - 1].slot == edits[i].slot) kept--;
        edits[kept++] = edits[i];
    }
    *count = kept;
    lv_slab *s = NULL;
    eg_status st = EG_OK;
    const void **run = malloc(kept * sizeof *run); /* the vectors of consecutive slots, written in one call */
    if (!run) return eg_error_set(err, EG_INTERNAL, "out of memory");
    size_t run_length = 0;
    bool wrote = false;
    for (size_t i = 0; i < kept && st == EG_OK; i++) {
        unsigned char key[8];
        slot_key(c->number, edits[i].slot, key);
        MDB_val k = {8, key};
        int rc;
        if (edits[i].vector) {
            MDB_val v = {POINT_KEY_SIZE, edits[i].point_key};
            if ((rc = mdb_put(txn, lv->slots, &k, &v, 0))) st = lv_mdb_error(lv, rc, "write a slot", err);
            run[run_length++] = edits[i].vector;
        } else if ((rc = mdb_del(txn, lv->slots, &k, NULL)) && rc != MDB_NOTFOUND) {
            st = lv_mdb_error(lv, rc, "free a slot", err);
        }
        bool run_ends = i + 1 == kept || !edits[i + 1].vector || edits[i + 1].slot != edits[i].slot + 1;
        if (st == EG_OK && run_length > 0 && run_ends) {
            if (!s) st = slab_get(lv, c, &s, err);
            if (st == EG_OK) st = write_slots(s, c, edits[i].slot - (uint32_t)(run_length - 1), run, run_length, err);
            run_length = 0;
            wrote = true;
        }
    }
    free(run);
    if (st == EG_OK && wrote && !lv->slabs->no_sync && fdatasync(s->fd) != 0) st = write_error(c, errno, err);
    return st;
}

eg_status lv_slot_allocate(local_vectors *lv, MDB_txn *txn, const local_collection *c, uint32_t *slot,
                           eg_error *err) {
    unsigned char prefix[4];
    lv_collection_prefix(c->number, prefix);
    /* Reusable: freed by a commit before this transaction (until it commits, the durable state still names the
     * slot) that every running reader's snapshot includes. The readers are asked only when a freed slot exists. */
    uint64_t oldest = 0, this_txn = mdb_txn_id(txn);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lv->free_slots, &cur);
    if (rc) return lv_mdb_error(lv, rc, "allocate slot", err);
    MDB_val k = {4, prefix}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (int tried = 0; rc == 0 && tried < FREE_SLOTS_TRIED; tried++, rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || memcmp(k.mv_data, prefix, 4) != 0) break;
        if (tried == 0) oldest = lv_oldest_reader(lv);
        uint64_t freed_by = 0; /* records of format 1 carry none: free before this process began */
        if (v.mv_size == sizeof freed_by) memcpy(&freed_by, v.mv_data, sizeof freed_by);
        if (freed_by > oldest || freed_by >= this_txn) continue;
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
    slot_key(c->number, slot, key);
    uint64_t freed_by = mdb_txn_id(txn);
    MDB_val k = {8, key}, v = {sizeof freed_by, &freed_by};
    int rc = mdb_put(txn, lv->free_slots, &k, &v, 0);
    return rc ? lv_mdb_error(lv, rc, "free slot", err) : EG_OK;
}

/* ---- opening ------------------------------------------------------------------------------------------------ */

/* Format 1 kept a collection's vectors in LMDB, many slots to a value of the dense table: `chunk` point keys
 * (kind 0xFF: empty), padded to a multiple of 16 bytes, then `chunk` vectors. */
static eg_status migrate_collection(local_vectors *lv, MDB_txn *txn, const local_collection *c, eg_error *err) {
    size_t ids = ((size_t)c->chunk * POINT_KEY_SIZE + 15) & ~(size_t)15;
    size_t size = ids + (size_t)c->chunk * c->config.dim * sizeof(float);
    unsigned char prefix[4];
    lv_collection_prefix(c->number, prefix);
    lv_slab *s = NULL;
    eg_status st = slab_get(lv, c, &s, err);
    MDB_cursor *cur;
    int rc = st ? 0 : mdb_cursor_open(txn, lv->dense, &cur);
    if (st || rc) return st ? st : lv_mdb_error(lv, rc, "migrate vectors", err);
    MDB_val k = {4, prefix}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && st == EG_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || memcmp(k.mv_data, prefix, 4) != 0) break;
        if (v.mv_size != size) {
            st = eg_error_set(err, EG_CORRUPT, "a vector chunk is damaged");
            break;
        }
        uint32_t be;
        memcpy(&be, (const unsigned char *)k.mv_data + 4, 4);
        const unsigned char *chunk = v.mv_data;
        for (uint32_t i = 0; i < c->chunk && st == EG_OK; i++) {
            const unsigned char *point_key = chunk + (size_t)i * POINT_KEY_SIZE;
            if (point_key[0] == LV_EMPTY_SLOT) continue;
            uint32_t slot = be32toh(be) * c->chunk + i;
            const unsigned char *vector = chunk + ids + (size_t)i * s->stride;
            unsigned char key[8];
            slot_key(c->number, slot, key);
            MDB_val sk = {8, key}, sv = {POINT_KEY_SIZE, (void *)point_key};
            if ((st = write_slots(s, c, slot, (const void *const *)&vector, 1, err)) == EG_OK &&
                (rc = mdb_put(txn, lv->slots, &sk, &sv, 0)))
                st = lv_mdb_error(lv, rc, "migrate vectors", err);
        }
    }
    mdb_cursor_close(cur);
    if (st == EG_OK && rc != 0 && rc != MDB_NOTFOUND) st = lv_mdb_error(lv, rc, "migrate vectors", err);
    if (st == EG_OK && !lv->slabs->no_sync && fdatasync(s->fd) != 0) st = write_error(c, errno, err);
    return st;
}

eg_status lv_slabs_migrate(local_vectors *lv, MDB_txn *txn, const local_collection *collections, size_t count,
                           eg_error *err) {
    eg_status st = EG_OK;
    for (size_t i = 0; i < count && st == EG_OK; i++) st = migrate_collection(lv, txn, &collections[i], err);
    int rc = st ? 0 : mdb_drop(txn, lv->dense, 0);
    return rc ? lv_mdb_error(lv, rc, "migrate vectors", err) : st;
}

void lv_slabs_remove_orphans(local_vectors *lv, const uint32_t *numbers, size_t count) {
    lv_slabs *r = lv->slabs;
    DIR *d = opendir(r->dir);
    if (!d) return;
    bool removed = false;
    for (struct dirent *de; (de = readdir(d));) {
        char *end;
        unsigned long n = strtoul(de->d_name, &end, 10);
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || strcmp(end, ".f32") != 0) continue;
        bool known = false;
        for (size_t i = 0; i < count && !known; i++) known = numbers[i] == n;
        if (known) continue;
        char path[4200];
        slab_path(r, (uint32_t)n, path, sizeof path);
        removed |= unlink(path) == 0;
    }
    closedir(d);
    if (removed) eg_sync_folder(r->dir, "vectors/slabs folder", NULL);
}
