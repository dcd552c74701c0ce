/* engram/engram.h — an engram data folder: the one handle an application opens.
 *
 * A data folder holds every store of one memory (see docs/architecture.md):
 *   DATA/FORMAT   the on-disk format version, written at creation, checked at every open
 *   DATA/graph/   the embedded graph store (LMDB)
 *   DATA/vectors/ the embedded vector store (LMDB)
 * eg_open creates the folder when it does not exist. It refuses a folder written by a newer format
 * (EG_INCOMPATIBLE) and a folder another process has open (EG_LOCKED), never guessing.
 *
 * Include this header for the whole public API. */
#ifndef ENGRAM_ENGRAM_H
#define ENGRAM_ENGRAM_H

#include <engram/graph.h>
#include <engram/status.h>
#include <engram/vectors.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_VERSION "0.1.0"
#define EG_FORMAT_VERSION 1 /* the data folder layout this library reads and writes */

typedef struct eg_db eg_db;

typedef struct eg_options {
    bool no_sync; /* skip fsync at commit: for tests and bulk loads only (see eg_graph_lmdb_options) */
} eg_options;

/* Opens or creates the data folder `dir`. options may be NULL. */
eg_status eg_open(const char *dir, const eg_options *options, eg_db **out, eg_error *err);

/* The graph store of an open folder; owned by db, valid until eg_close. */
eg_graph *eg_db_graph(eg_db *db);

/* The vector store of an open folder; owned by db, valid until eg_close. */
eg_vectors *eg_db_vectors(eg_db *db);

/* Closes every store and frees db. NULL is ignored. */
void eg_close(eg_db *db);

#ifdef __cplusplus
}
#endif
#endif
