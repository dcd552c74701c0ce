/* datadir.c — the data folder (see engram/engram.h): creation, the FORMAT record that guards against reading a
 * newer layout, the process lock, and the stores it holds. */
#include <engram/engram.h>

#include "util/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eg_db {
    int lock_fd;
    eg_graph *graph;
    eg_vectors *vectors;
};

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

eg_status eg_open(const char *dir, const eg_options *options, eg_db **out, eg_error *err) {
    if (!dir || !*dir || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "data folder or out is missing");
    *out = NULL;
    char path[4096];
    eg_status st;
    if ((st = eg_mkdir(dir, "data folder", err)) || (st = eg_path_join(path, sizeof path, dir, "engram.lock", err)))
        return st;
    eg_db *db = calloc(1, sizeof *db);
    if (!db) return eg_error_set(err, EG_INTERNAL, "out of memory");
    if ((st = eg_lock_file(path, "data folder", &db->lock_fd, err))) {
        free(db);
        return st;
    }
    eg_graph_lmdb_options graph_options = {0, options && options->no_sync};
    eg_vectors_lmdb_options vector_options = {0, options && options->no_sync};
    if ((st = check_format_file(dir, err)) || (st = eg_path_join(path, sizeof path, dir, "graph", err)) ||
        (st = eg_graph_open_lmdb(path, &graph_options, &db->graph, err)) ||
        (st = eg_path_join(path, sizeof path, dir, "vectors", err)) ||
        (st = eg_vectors_open_lmdb(path, &vector_options, &db->vectors, err))) {
        eg_close(db);
        return st;
    }
    *out = db;
    return EG_OK;
}

eg_graph *eg_db_graph(eg_db *db) { return db ? db->graph : NULL; }

eg_vectors *eg_db_vectors(eg_db *db) { return db ? db->vectors : NULL; }

void eg_close(eg_db *db) {
    if (!db) return;
    eg_vectors_close(db->vectors);
    eg_graph_close(db->graph);
    eg_unlock_file(db->lock_fd);
    free(db);
}
