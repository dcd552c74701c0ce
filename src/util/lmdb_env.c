/* lmdb_env.c — see lmdb_env.h. */
#include "util/lmdb_env.h"
#include "util/files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_READERS 1024
#define MAX_TABLES 16

/* Free space below which a failed write is put down to a full file system: more than one commit of engram's
 * writes (a vector chunk is 256 KiB) but far less than a disk in normal use has free. */
#define NEARLY_FULL_BYTES (64ull << 20)

/* LMDB turns a short write, which is how a full disk or the file size limit shows, into EIO, which reads like a
 * failing disk. Why it failed, when the store's file system or file size limit tells: a static text, or NULL. */
static const char *full_file_system(const eg_lmdb_env *e) {
    int fd;
    if (!e->env || mdb_env_get_fd(e->env, &fd) != 0) return NULL;
    struct statvfs fs;
    if (fstatvfs(fd, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < NEARLY_FULL_BYTES)
        return "no space left on device (its file system is full)";
    struct rlimit limit;
    struct stat file;
    if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && fstat(fd, &file) == 0 &&
        (uint64_t)file.st_size + NEARLY_FULL_BYTES > (uint64_t)limit.rlim_cur)
        return "file too large (the process's file size limit, ulimit -f, is reached)";
    return NULL;
}

eg_status eg_lmdb_error(const eg_lmdb_env *e, int rc, const char *op, eg_error *err) {
    const char *store = e->store;
    switch (rc) {
    case MDB_MAP_FULL:
        return eg_error_set(err, EG_IO, "%s: the %s store is full (its map size is reached)", op, store);
    case MDB_READERS_FULL:
        return eg_error_set(err, EG_UNAVAILABLE, "%s: too many concurrent readers (limit %d)", op, MAX_READERS);
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
        return eg_error_set(err, EG_CORRUPT, "%s: the %s store is damaged: %s", op, store, mdb_strerror(rc));
    case MDB_VERSION_MISMATCH:
        return eg_error_set(err, EG_INCOMPATIBLE, "%s: the %s store was written by another LMDB version", op, store);
    case EIO: {
        const char *cause = full_file_system(e);
        return eg_error_set(err, EG_IO, "%s: the %s store cannot write: %s", op, store, cause ? cause : mdb_strerror(rc));
    }
    default:
        return eg_error_set(err, rc > 0 ? EG_IO : EG_INTERNAL, "%s: %s", op, mdb_strerror(rc));
    }
}

eg_status eg_lmdb_begin(const eg_lmdb_env *e, bool write, MDB_txn **txn, eg_error *err) {
    int rc = mdb_txn_begin(e->env, NULL, write ? 0 : MDB_RDONLY, txn);
    return rc ? eg_lmdb_error(e, rc, "begin transaction", err) : EG_OK;
}

eg_status eg_lmdb_commit(const eg_lmdb_env *e, MDB_txn *txn, const char *op, eg_error *err) {
    int rc = mdb_txn_commit(txn);
    return rc ? eg_lmdb_error(e, rc, op, err) : EG_OK;
}

static eg_status check_format(const eg_lmdb_env *e, MDB_txn *txn, MDB_dbi meta, uint32_t format, eg_error *err) {
    MDB_val k = {6, "format"}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        MDB_val nv = {sizeof format, &format};
        rc = mdb_put(txn, meta, &k, &nv, 0);
        return rc ? eg_lmdb_error(e, rc, "write format", err) : EG_OK;
    }
    if (rc) return eg_lmdb_error(e, rc, "read format", err);
    uint32_t stored;
    if (v.mv_size != sizeof stored) return eg_error_set(err, EG_CORRUPT, "%s store format record is damaged", e->store);
    memcpy(&stored, v.mv_data, sizeof stored);
    if (stored > format)
        return eg_error_set(err, EG_INCOMPATIBLE,
                            "%s store has format %u; this engram reads format %u or older: upgrade engram", e->store,
                            stored, format);
    return EG_OK;
}

static eg_status open_tables(const eg_lmdb_env *e, const eg_lmdb_table *tables, size_t count, uint32_t format,
                             eg_error *err) {
    MDB_txn *txn;
    eg_status st = eg_lmdb_begin(e, true, &txn, err);
    for (size_t i = 0; i < count && st == EG_OK; i++) {
        int rc = mdb_dbi_open(txn, tables[i].name, tables[i].flags | MDB_CREATE, tables[i].dbi);
        if (rc) st = eg_lmdb_error(e, rc, "open tables", err);
        if (st == EG_OK && i == 0) st = check_format(e, txn, *tables[0].dbi, format, err);
    }
    if (st) {
        if (txn) mdb_txn_abort(txn);
        return st;
    }
    return eg_lmdb_commit(e, txn, "open tables", err);
}

/* LMDB's data format 1 (MDB_DATA_VERSION, unchanged since LMDB 0.9), 64-bit: pages 0 and 1 are the meta pages; a
 * meta page holds, after its 16-byte page header, the magic at byte 16 and the transaction id at byte 144. */
#define LMDB_MAGIC 0xBEEFC0DEu
#define LMDB_META_MAGIC_AT 16
#define LMDB_META_TXNID_AT 144
#define LMDB_META_BYTES 152

/* A power cut while LMDB creates an environment can leave data.mdb with a meta page blank (found by
 * tests/test_powercut.c, seed 7, a cut during the first open of a folder): LMDB writes both meta pages of a new
 * file without a sync, and refuses the file (MDB_INVALID) unless both are valid. The first commit's fdatasync makes
 * them durable before it writes the meta page naming it, so a file whose meta pages are each blank or still at
 * transaction 0 never held a committed transaction: nothing is lost by emptying it, and LMDB then initialises it
 * again. Any other damage stays a refusal. True when the file was emptied. */
static bool empty_unborn_data_file(const char *dir) {
    char path[4096];
    long page = sysconf(_SC_PAGESIZE);
    if (page < LMDB_META_BYTES || snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path) return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool unborn = true;
    for (int meta = 0; meta < 2 && unborn; meta++) {
        unsigned char bytes[LMDB_META_BYTES] = {0}; /* past the end of a short file: blank */
        ssize_t got = pread(fd, bytes, sizeof bytes, (off_t)meta * page);
        uint32_t magic;
        uint64_t txnid;
        memcpy(&magic, bytes + LMDB_META_MAGIC_AT, sizeof magic);
        memcpy(&txnid, bytes + LMDB_META_TXNID_AT, sizeof txnid);
        bool blank = true;
        for (size_t i = 0; i < sizeof bytes; i++) blank = blank && bytes[i] == 0;
        unborn = got >= 0 && (blank || (magic == LMDB_MAGIC && txnid == 0));
    }
    close(fd);
    return unborn && truncate(path, 0) == 0;
}

eg_status eg_lmdb_open(const char *dir, const eg_lmdb_options *options, const eg_lmdb_table *tables,
                       size_t table_count, eg_lmdb_env *out, eg_error *err) {
    char lock_path[4096], what[64];
    eg_status st;
    memset(out, 0, sizeof *out);
    out->lock_fd = -1;
    out->store = options->store;
    if (table_count == 0 || table_count > MAX_TABLES || strcmp(tables[0].name, "meta") != 0)
        return eg_error_set(err, EG_INTERNAL, "%s store: tables must start with meta", options->store);
    snprintf(what, sizeof what, "%s folder", options->store);
    if ((st = eg_mkdir(dir, what, err)) || (st = eg_path_join(lock_path, sizeof lock_path, dir, "writer.lock", err)))
        return st;
    snprintf(what, sizeof what, "%s store", options->store);
    if ((st = eg_lock_file(lock_path, what, &out->lock_fd, err))) return st;
    unsigned flags = MDB_NOTLS | (options->no_sync ? MDB_NOSYNC : 0);
    bool shrinks = options->map_size == 0;
    uint64_t map_size = shrinks ? options->default_map_size : options->map_size;
    bool emptied = false;
    int rc;
    for (;;) {
        if ((rc = mdb_env_create(&out->env)) || (rc = mdb_env_set_maxdbs(out->env, MAX_TABLES)) ||
            (rc = mdb_env_set_maxreaders(out->env, MAX_READERS)) || (rc = mdb_env_set_mapsize(out->env, map_size)) ||
            (rc = mdb_env_open(out->env, dir, flags, 0644)) == 0)
            break;
        if (rc == MDB_INVALID && !emptied && (emptied = empty_unborn_data_file(dir))) {
            mdb_env_close(out->env);
            out->env = NULL;
            continue;
        }
        /* The address space cannot hold the reservation (ulimit -v, a sanitizer's layout): a default one is only
         * an upper bound, so try half of it. */
        if (rc != ENOMEM || !shrinks || map_size / 2 < EG_LMDB_MAP_SIZE_FLOOR) break;
        mdb_env_close(out->env);
        out->env = NULL;
        map_size /= 2;
    }
    if (rc == ENOMEM)
        st = eg_error_set(err, EG_IO, "open: the %s store cannot reserve %llu MiB of address space for its map",
                          options->store, (unsigned long long)(map_size >> 20));
    else if (rc)
        st = eg_lmdb_error(out, rc, "open", err);
    if (st == EG_OK) st = open_tables(out, tables, table_count, options->format, err);
    if (st) eg_lmdb_close(out);
    return st;
}

void eg_lmdb_close(eg_lmdb_env *e) {
    if (e->env) mdb_env_close(e->env);
    eg_unlock_file(e->lock_fd);
    e->env = NULL;
    e->lock_fd = -1;
}
