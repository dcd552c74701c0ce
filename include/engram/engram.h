/* engram/engram.h — an engram data folder: the one handle an application opens.
 *
 * A data folder holds every store of one memory (see docs/architecture.md):
 *   DATA/FORMAT   the on-disk format version, written at creation, checked at every open
 *   DATA/graph/   the embedded graph store (LMDB)
 *   DATA/vectors/ the embedded vector store (LMDB)
 *   DATA/wal/     the write-ahead log of the memory sagas (docs/wal.md)
 *   DATA/dead-letters/  reports of sagas that could not be undone, one JSON file each, until repaired
 *   DATA/engram.conf    settings (optional; docs/settings.md)
 * eg_open creates the folder when it does not exist. It refuses a folder written by a newer format
 * (EG_INCOMPATIBLE) and a folder another process has open (EG_LOCKED), never guessing. Before it returns, it
 * repairs a torn log tail and finishes every saga a crash interrupted (eg_db_recovery tells what it did), so the
 * stores hold every memory whole or not at all before any new work.
 *
 * Fault injection (tests only): when the environment has ENGRAM_ALLOW_FAULTS=1, the rules in ENGRAM_FAULTS
 * (docs/operations.md, "Fault injection") act on every call into the stores. Without ENGRAM_ALLOW_FAULTS=1 they
 * are ignored.
 *
 * Include this header for the whole public API. */
#ifndef ENGRAM_ENGRAM_H
#define ENGRAM_ENGRAM_H

#include <engram/archive.h>
#include <engram/graph.h>
#include <engram/memory.h>
#include <engram/settings.h>
#include <engram/status.h>
#include <engram/vectors.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_VERSION "0.1.0"
#define EG_FORMAT_VERSION 1 /* the data folder layout this library reads and writes */


/* When an acknowledged write is safe. */
typedef enum eg_durability {
    EG_DURABILITY_DEFAULT = 0, /* the folder's `durability` setting (docs/settings.md): group unless configured */
    EG_DURABILITY_GROUP,       /* on disk: every commit synced; concurrent sagas share the log's fsyncs */
    EG_DURABILITY_FSYNC,       /* on disk: every commit and every waited log record synced on its own */
    EG_DURABILITY_NONE         /* in the OS: survives a killed process, not a power cut (tests, bulk loads) */
} eg_durability;

/* "group", "fsync", "none" ("default" for EG_DURABILITY_DEFAULT). */
const char *eg_durability_name(eg_durability d);
/* Parses "group", "fsync" or "none". */
eg_status eg_durability_parse(const char *name, eg_durability *out, eg_error *err);

typedef struct eg_options {
    eg_durability durability;    /* overrides the `durability` setting unless EG_DURABILITY_DEFAULT */
    const char *const *settings; /* setting_count overrides "NAME=VALUE" of DATA/engram.conf (docs/settings.md) */
    size_t setting_count;
} eg_options;

/* What eg_open found and repaired. */
typedef struct eg_recovery_report {
    uint64_t wal_records;          /* log records still needed, read at open */
    uint64_t wal_torn_bytes;       /* bytes of a torn log tail cut off (a crash during an append) */
    uint64_t sagas_unfinished;     /* sagas a crash interrupted */
    uint64_t sagas_compensated;    /* ... undone */
    uint64_t sagas_rolled_forward; /* ... finished, being past their point of no return */
    uint64_t sagas_failed;         /* ... that could be neither: each left a dead letter */
} eg_recovery_report;

/* Opens or creates the data folder `dir`. options may be NULL. */
eg_status eg_open(const char *dir, const eg_options *options, eg_db **out, eg_error *err);

/* The graph store of an open folder; owned by db, valid until eg_close. */
eg_graph *eg_db_graph(eg_db *db);

/* The vector store of an open folder; owned by db, valid until eg_close. */
eg_vectors *eg_db_vectors(eg_db *db);

/* The settings in force: DATA/engram.conf with the options' overrides (owned by db). */
const eg_settings *eg_db_settings(eg_db *db);

/* What opening db recovered. */
void eg_db_recovery(eg_db *db, eg_recovery_report *out);

/* Closes every store and frees db. NULL is ignored. */
void eg_close(eg_db *db);

#ifdef __cplusplus
}
#endif
#endif
