/* lmdb_env.h — what every LMDB-backed store of engram does the same way: open its environment in its own folder
 * under an exclusive lock, open its tables, check the layout version recorded in its "meta" table, map LMDB
 * result codes to eg_status, and begin and commit transactions. */
#ifndef ENGRAM_UTIL_LMDB_ENV_H
#define ENGRAM_UTIL_LMDB_ENV_H

#include <engram/status.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct eg_lmdb_table {
    const char *name;
    unsigned flags; /* MDB_INTEGERKEY, ... (MDB_CREATE is added) */
    MDB_dbi *dbi;
} eg_lmdb_table;

typedef struct eg_lmdb_env {
    MDB_env *env;
    int lock_fd;
    const char *store; /* "graph", "vectors": names the store in messages */
} eg_lmdb_env;

/* The smallest reservation a shrinking map size is halved down to. */
#define EG_LMDB_MAP_SIZE_FLOOR (1ull << 30)

typedef struct eg_lmdb_options {
    const char *store;
    uint64_t map_size;         /* the caller's; 0: default_map_size, which is only an upper bound: when the
                                  process cannot reserve that much address space, open halves it until it can
                                  (not below EG_LMDB_MAP_SIZE_FLOOR) */
    uint64_t default_map_size;
    bool no_sync; /* MDB_NOSYNC: kill-safe, not power-cut-safe (never MDB_WRITEMAP: a full disk would be SIGBUS) */
    uint32_t format; /* the layout version this code writes; a newer stored one is EG_INCOMPATIBLE */
} eg_lmdb_options;

/* Creates folder dir if needed, locks it (EG_LOCKED when another opener holds it), opens the environment and
 * the tables; tables[0] must be "meta", where the format version is recorded or checked. */
eg_status eg_lmdb_open(const char *dir, const eg_lmdb_options *options, const eg_lmdb_table *tables,
                       size_t table_count, eg_lmdb_env *out, eg_error *err);
void eg_lmdb_close(eg_lmdb_env *e);

eg_status eg_lmdb_error(const eg_lmdb_env *e, int rc, const char *op, eg_error *err);
eg_status eg_lmdb_begin(const eg_lmdb_env *e, bool write, MDB_txn **txn, eg_error *err);
eg_status eg_lmdb_commit(const eg_lmdb_env *e, MDB_txn *txn, const char *op, eg_error *err);

#endif
