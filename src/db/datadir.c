/* datadir.c — the data folder (see engram/engram.h): creation, the FORMAT record that guards against reading a
 * newer layout, the process lock, and what it holds, composed at open: each store (behind the fault guard when
 * faults are allowed), then the write-ahead log and the saga engine, whose recovery finishes interrupted sagas
 * before eg_open returns. */
#include "db/db_internal.h"
#include "util/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const durability_names[] = {"group", "fsync", "none"};

const char *eg_durability_name(eg_durability d) {
    return (unsigned)d < sizeof durability_names / sizeof durability_names[0] ? durability_names[d] : "?";
}

eg_status eg_durability_parse(const char *name, eg_durability *out, eg_error *err) {
    for (size_t i = 0; name && i < sizeof durability_names / sizeof durability_names[0]; i++)
        if (strcmp(name, durability_names[i]) == 0) {
            *out = (eg_durability)i;
            return EG_OK;
        }
    return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid durability: must be group, fsync or none");
}

/* FORMAT holds two lines: a banner naming the file's purpose and "format N". */
static eg_status check_format_file(const char *dir, eg_error *err) {
    char path[4096], text[256];
    eg_status st = eg_path_join(path, sizeof path, dir, "FORMAT", err);
    if (st) return st;
    st = eg_read_small_file(path, "FORMAT", text, sizeof text, err);
    if (st == EG_NOT_FOUND) {
        char fresh[64];
        int n = snprintf(fresh, sizeof fresh, "engram data folder\nformat %d\n", EG_FORMAT_VERSION);
        return eg_write_file_atomic(path, "FORMAT", fresh, (size_t)n, err);
    }
    if (st) return st;
    const char *line = strstr(text, "format ");
    char *end;
    long version = line ? strtol(line + 7, &end, 10) : -1;
    if (!line || end == line + 7 || version < 1)
        return eg_error_set(err, EG_CORRUPT, "FORMAT of the data folder is unreadable: not an engram data folder?");
    if (version > EG_FORMAT_VERSION)
        return eg_error_set(err, EG_INCOMPATIBLE,
                            "the data folder has format %ld, newer than this engram (format %d): upgrade engram",
                            version, EG_FORMAT_VERSION);
    return EG_OK;
}

/* Puts both stores behind the fault guard, with the rules of ENGRAM_FAULTS, when ENGRAM_ALLOW_FAULTS=1. */
static eg_status guard_stores(eg_db *db, eg_error *err) {
    if (!eg_faults_allowed()) return EG_OK;
    const char *rules = getenv("ENGRAM_FAULTS");
    eg_status st = eg_faults_new(rules ? rules : "", &db->faults, err);
    if (st != EG_OK) return eg_error_prefix(err, st, "ENGRAM_FAULTS: ");
    eg_guard guard = eg_faults_guard(db->faults);
    eg_graph *graph;
    eg_vectors *vectors;
    if ((st = eg_graph_guard(db->graph, &guard, &graph, err))) return st;
    db->graph = graph;
    if ((st = eg_vectors_guard(db->vectors, &guard, &vectors, err))) return st;
    db->vectors = vectors;
    return EG_OK;
}

static eg_status open_stores(eg_db *db, const char *dir, eg_durability durability, eg_error *err) {
    char path[4096];
    bool no_sync = durability == EG_DURABILITY_NONE;
    eg_graph_lmdb_options graph_options = {0, no_sync};
    eg_vectors_lmdb_options vector_options = {0, no_sync};
    eg_status st;
    if ((st = eg_path_join(path, sizeof path, dir, "graph", err)) ||
        (st = eg_graph_open_lmdb(path, &graph_options, &db->graph, err)) ||
        (st = eg_path_join(path, sizeof path, dir, "vectors", err)) ||
        (st = eg_vectors_open_lmdb(path, &vector_options, &db->vectors, err)))
        return st;
    return guard_stores(db, err);
}

/* The log, then the saga engine: opening it recovers every saga a crash left unfinished. */
static eg_status open_sagas(eg_db *db, const char *dir, eg_durability durability, eg_error *err) {
    static const eg_wal_sync sync_of[] = {EG_WAL_SYNC_GROUP, EG_WAL_SYNC_FSYNC, EG_WAL_SYNC_NONE};
    char path[4096];
    eg_wal_options wal_options = {sync_of[durability], 0};
    eg_wal_open_report wal_report;
    eg_saga_recovery_report saga_report;
    eg_status st;
    if ((st = eg_memory_state_init(&db->memory, err)) || (st = eg_path_join(path, sizeof path, dir, "wal", err)) ||
        (st = eg_wal_open(path, &wal_options, &db->wal, &wal_report, err)))
        return st;
    db->recovery.wal_records = wal_report.records;
    db->recovery.wal_torn_bytes = wal_report.torn_bytes;
    if ((st = eg_path_join(path, sizeof path, dir, "dead-letters", err)) ||
        (st = eg_saga_engine_open(db->wal, path, db, eg_memory_sagas, eg_memory_saga_count, NULL, &saga_report,
                                  &db->sagas, err)))
        return eg_error_prefix(err, st, "recovering interrupted sagas: ");
    db->recovery.sagas_unfinished = saga_report.unfinished;
    db->recovery.sagas_compensated = saga_report.compensated;
    db->recovery.sagas_rolled_forward = saga_report.rolled_forward;
    db->recovery.sagas_failed = saga_report.failed;
    /* The sagas recovery finished no longer pin the log. */
    if ((st = eg_saga_checkpoint(db->sagas, err))) return st;
    return eg_memory_load_frozen(db, err);
}

eg_status eg_open(const char *dir, const eg_options *options, eg_db **out, eg_error *err) {
    if (!dir || !*dir || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "data folder or out is missing");
    *out = NULL;
    eg_durability durability = options ? options->durability : EG_DURABILITY_GROUP;
    if ((unsigned)durability > EG_DURABILITY_NONE)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid durability %d", (int)durability);
    char path[4096];
    eg_status st;
    if ((st = eg_mkdir(dir, "data folder", err)) || (st = eg_path_join(path, sizeof path, dir, "engram.lock", err)))
        return st;
    eg_db *db = calloc(1, sizeof *db);
    if (!db) return eg_error_set(err, EG_INTERNAL, "out of memory");
    db->lock_fd = -1;
    if ((st = eg_lock_file(path, "data folder", &db->lock_fd, err))) {
        free(db);
        return st;
    }
    if ((st = check_format_file(dir, err)) || (st = open_stores(db, dir, durability, err)) ||
        (st = open_sagas(db, dir, durability, err))) {
        eg_close(db);
        return st;
    }
    *out = db;
    return EG_OK;
}

void eg_db_recovery(eg_db *db, eg_recovery_report *out) {
    if (out) *out = db ? db->recovery : (eg_recovery_report){0};
}

eg_graph *eg_db_graph(eg_db *db) { return db ? db->graph : NULL; }

eg_vectors *eg_db_vectors(eg_db *db) { return db ? db->vectors : NULL; }

void eg_close(eg_db *db) {
    if (!db) return;
    if (db->sagas) { /* a clean close leaves a log with nothing to replay */
        eg_error ignored;
        eg_saga_checkpoint(db->sagas, &ignored);
    }
    eg_saga_engine_close(db->sagas);
    eg_wal_close(db->wal);
    if (db->memory.frozen) eg_memory_state_destroy(&db->memory);
    eg_vectors_close(db->vectors);
    eg_graph_close(db->graph);
    eg_faults_free(db->faults);
    eg_unlock_file(db->lock_fd);
    free(db);
}
