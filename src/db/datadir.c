/* datadir.c — the data folder (see engram/engram.h): creation, the FORMAT record that guards against reading a
 * newer layout, the process lock, and what it holds, composed at open: each store (behind the fault guard when
 * faults are allowed), then the write-ahead log and the saga engine, whose recovery finishes interrupted sagas
 * before eg_open returns. */
#include "db/db_internal.h"
#include "util/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const durability_names[] = {"default", "group", "fsync", "none"};

const char *eg_durability_name(eg_durability d) {
    return (unsigned)d < sizeof durability_names / sizeof durability_names[0] ? durability_names[d] : "?";
}

eg_status eg_durability_parse(const char *name, eg_durability *out, eg_error *err) {
    for (size_t i = 1; name && i < sizeof durability_names / sizeof durability_names[0]; i++)
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

/* ---- Composing the stores ---------------------------------------------------------------------------------- */

/* The write observer: a guard that tells the fallback read cache of every acknowledged write, whichever path it
 * took (a request, a saga, a compensation, the write queue's drainer), so that no cached read outlives the data
 * it showed; and tells the memory layer when a collection or a payload index may be gone, so that it asks the
 * store again before its next create. The writes of a graph transaction become visible at its commit, after
 * each of them was noted: a read between the two still sees the old data and may cache it, so the commit is a
 * write too. */
static const char *const graph_writes[] = {"create_node", "update_node", "delete_node", "batch_create_nodes",
                                           "create_relationship", "batch_create_relationships",
                                           "delete_relationship", "reweight_relationship",
                                           "batch_decay_relationships", "commit", NULL};
static const char *const vector_writes[] = {"create_collection", "delete_collection", "create_payload_index",
                                            "delete_payload_index", "upsert", "set_payload", "delete_payload_keys", "update_vectors",
                                            "delete_points", NULL};

static void observe_write(void *self, const char *store, const char *op, eg_status status, const eg_error *err) {
    (void)err;
    eg_db *db = self;
    bool graph = strcmp(store, "graph") == 0;
    bool gone = status == EG_OK && (strcmp(op, "delete_collection") == 0 || strcmp(op, "delete_payload_index") == 0);
    bool missing = status == EG_NOT_FOUND && strcmp(op, "upsert") == 0;
    if (!graph && (gone || missing)) eg_memory_forget_collections(db);
    if (status != EG_OK) return;
    for (const char *const *w = graph ? graph_writes : vector_writes; *w; w++)
        if (strcmp(*w, op) == 0) {
            eg_read_cache_note_write(db->cache, graph ? EG_READ_CACHE_GRAPH : EG_READ_CACHE_VECTORS);
            return;
        }
}

/* Wraps both stores in guard (the wrappers take ownership of what they wrap). */
static eg_status wrap(eg_db *db, const eg_guard *guard, eg_error *err) {
    eg_graph *graph;
    eg_vectors *vectors;
    eg_status st = eg_graph_guard(db->graph, guard, &graph, err);
    if (st != EG_OK) return st;
    db->graph = graph;
    if ((st = eg_vectors_guard(db->vectors, guard, &vectors, err))) return st;
    db->vectors = vectors;
    return EG_OK;
}

/* The vector backend the setting vectors.backend names: the embedded one in DATA/vectors, or a Qdrant server (then
 * DATA/vectors is not used). */
static eg_status open_vector_backend(eg_db *db, const char *dir, bool no_sync, eg_error *err) {
    const eg_settings *s = db->settings;
    if (strcmp(eg_settings_word(s, "vectors.backend"), "qdrant") == 0) {
        eg_vectors_qdrant_options options = {
            .url = eg_settings_text(s, "vectors.url"),
            .api_key = eg_settings_text(s, "vectors.api_key"),
            .ca_file = eg_settings_text(s, "vectors.ca_file"),
            .collection_prefix = eg_settings_text(s, "vectors.collection_prefix"),
            .timeout_ms = (unsigned)eg_settings_int(s, "vectors.timeout_ms"),
            .batch_size = (unsigned)eg_settings_int(s, "vectors.batch_size"),
            .max_concurrency = (unsigned)eg_settings_int(s, "vectors.max_concurrency"),
            .shard_number = (unsigned)eg_settings_int(s, "vectors.shard_number"),
            .replication_factor = (unsigned)eg_settings_int(s, "vectors.replication_factor"),
            .write_consistency_factor = (unsigned)eg_settings_int(s, "vectors.write_consistency_factor"),
        };
        return eg_vectors_open_qdrant(&options, &db->vectors, err);
    }
    char path[4096];
    eg_vectors_lmdb_options options = {0, no_sync, (unsigned)eg_settings_int(s, "vectors.index_threads")};
    eg_status st = eg_path_join(path, sizeof path, dir, "vectors", err);
    return st ? st : eg_vectors_open_lmdb(path, &options, &db->vectors, err);
}

/* The graph backend the setting graph.backend names: the embedded one in DATA/graph, or a Neo4j server over Bolt
 * (then DATA/graph is not used). An empty graph.password is $ENGRAM_NEO4J_PASSWORD's. */
static eg_status open_graph_backend(eg_db *db, const char *dir, bool no_sync, eg_error *err) {
    const eg_settings *s = db->settings;
    if (strcmp(eg_settings_word(s, "graph.backend"), "neo4j") == 0) {
        const char *password = eg_settings_text(s, "graph.password");
        if (!*password) password = getenv("ENGRAM_NEO4J_PASSWORD");
        const char *ca_file = eg_settings_text(s, "graph.ca_file");
        eg_graph_neo4j_options options = {
            .uri = eg_settings_text(s, "graph.uri"),
            .user = eg_settings_text(s, "graph.user"),
            .password = password ? password : "",
            .database = eg_settings_text(s, "graph.database"),
            .ca_file = *ca_file ? ca_file : NULL,
            .max_connections = (uint32_t)eg_settings_int(s, "graph.max_connections"),
            .acquisition_timeout_ms = (uint32_t)eg_settings_int(s, "graph.acquisition_timeout_ms"),
            .max_lifetime_ms = (uint32_t)eg_settings_int(s, "graph.max_lifetime_ms"),
            .timeout_ms = (uint32_t)eg_settings_int(s, "graph.timeout_ms"),
        };
        return eg_graph_open_neo4j(&options, &db->graph, err);
    }
    char path[4096];
    eg_graph_lmdb_options options = {0, no_sync};
    eg_status st = eg_path_join(path, sizeof path, dir, "graph", err);
    return st ? st : eg_graph_open_lmdb(path, &options, &db->graph, err);
}

/* backend -> fault guard (ENGRAM_ALLOW_FAULTS=1 only) -> write observer = direct -> circuit breaker. */
static eg_status open_stores(eg_db *db, const char *dir, bool no_sync, eg_error *err) {
    eg_graph_schema schema;
    eg_status st;
    if ((st = open_graph_backend(db, dir, no_sync, err)) ||
        (st = eg_graph_schema_parse(eg_settings_word(db->settings, "graph.schema"), &schema, err)) ||
        (st = open_vector_backend(db, dir, no_sync, err)))
        return st;
    eg_graph_set_schema(db->graph, schema); /* before wrapping: every decorator copies it */
    if (eg_faults_allowed()) {
        const char *rules = getenv("ENGRAM_FAULTS");
        if ((st = eg_faults_new(rules ? rules : "", &db->faults, err))) return eg_error_prefix(err, st, "ENGRAM_FAULTS: ");
        eg_guard faults = eg_faults_guard(db->faults);
        if ((st = wrap(db, &faults, err))) return st;
    }
    size_t entries = (size_t)eg_settings_int(db->settings, "degrade.cache_entries");
    eg_guard observer = {NULL, observe_write, NULL};
    if ((st = eg_read_cache_new(entries, &db->cache, err))) return st;
    observer.self = db;
    if ((st = wrap(db, &observer, err))) return st;
    db->graph_direct = db->graph;
    db->vectors_direct = db->vectors;
    eg_breaker_config config = {
        .failure_threshold = (uint32_t)eg_settings_int(db->settings, "breaker.failure_threshold"),
        .success_threshold = (uint32_t)eg_settings_int(db->settings, "breaker.success_threshold"),
        .reset_timeout_ms = (uint64_t)eg_settings_int(db->settings, "breaker.reset_timeout_ms"),
        .half_open_max_calls = (uint32_t)eg_settings_int(db->settings, "breaker.half_open_max_calls"),
    }; /* no log callback: transitions go to stderr as "engram: ..." */
    if ((st = eg_breaker_new("graph", &config, &db->breakers[EG_STORE_GRAPH], err)) ||
        (st = eg_breaker_new("vectors", &config, &db->breakers[EG_STORE_VECTORS], err)))
        return st;
    eg_graph *graph;
    eg_vectors *vectors;
    eg_guard graph_breaker = eg_breaker_guard(db->breakers[EG_STORE_GRAPH]);
    eg_guard vector_breaker = eg_breaker_guard(db->breakers[EG_STORE_VECTORS]);
    if ((st = eg_graph_guard(db->graph, &graph_breaker, &graph, err))) return st;
    db->graph = graph;
    if ((st = eg_vectors_guard(db->vectors, &vector_breaker, &vectors, err))) return st;
    db->vectors = vectors;
    return EG_OK;
}

/* ---- The log, the sagas and the queue ------------------------------------------------------------------------ */

static eg_status apply_queued(void *ctx, int store, eg_memory_type type, const char *id, eg_queued_kind kind,
                              json_t *data, eg_error *err) {
    return eg_memory_apply(ctx, false, store, type, id, kind, data, err);
}

static void queued_changed(void *ctx, int store) {
    eg_db *db = ctx;
    eg_read_cache_note_write(db->cache, store == EG_STORE_GRAPH ? EG_READ_CACHE_GRAPH : EG_READ_CACHE_VECTORS);
}

/* The log; the write queue rebuilt from it; then the saga engine, whose opening recovers every saga a crash left
 * unfinished (its compensations see the queue, so they never overtake a queued write); then the drainer. */
static eg_status open_sagas(eg_db *db, const char *dir, eg_durability durability, eg_error *err) {
    static const eg_wal_sync sync_of[] = {EG_WAL_SYNC_GROUP, EG_WAL_SYNC_GROUP, EG_WAL_SYNC_FSYNC, EG_WAL_SYNC_NONE};
    char path[4096];
    eg_wal_options wal_options = {sync_of[durability], 0};
    eg_wal_open_report wal_report;
    eg_saga_recovery_report saga_report;
    eg_saga_options saga_options = {(uint64_t)eg_settings_int(db->settings, "saga.step_timeout_ms"),
                                    (unsigned)eg_settings_int(db->settings, "saga.compensation_attempts")};
    eg_status st;
    if ((st = eg_memory_state_init(&db->memory, err)) || (st = eg_path_join(path, sizeof path, dir, "wal", err)) ||
        (st = eg_wal_open(path, &wal_options, &db->wal, &wal_report, err)))
        return st;
    db->recovery.wal_records = wal_report.records;
    db->recovery.wal_torn_bytes = wal_report.torn_bytes;
    size_t queue_max = (size_t)eg_settings_int(db->settings, "degrade.queue_max");
    if ((st = eg_queue_open(db->wal, queue_max, apply_queued, queued_changed, db, &db->queue, err)) ||
        (st = eg_queue_rebuild(db->queue, err)) || (st = eg_path_join(path, sizeof path, dir, "dead-letters", err)) ||
        (st = eg_saga_engine_open(db->wal, path, db, eg_memory_sagas, eg_memory_saga_count, &saga_options,
                                  &saga_report, &db->sagas, err)))
        return eg_error_prefix(err, st, "recovering: ");
    db->recovery.sagas_unfinished = saga_report.unfinished;
    db->recovery.sagas_compensated = saga_report.compensated;
    db->recovery.sagas_rolled_forward = saga_report.rolled_forward;
    db->recovery.sagas_failed = saga_report.failed;
    /* The sagas recovery finished no longer pin the log. */
    if ((st = eg_memory_checkpoint(db, err)) || (st = eg_memory_load_frozen(db, err))) return st;
    return eg_queue_start(db->queue, err);
}

eg_status eg_open(const char *dir, const eg_options *options, eg_db **out, eg_error *err) {
    if (!dir || !*dir || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "data folder or out is missing");
    *out = NULL;
    eg_durability durability = options ? options->durability : EG_DURABILITY_DEFAULT;
    if ((unsigned)durability > EG_DURABILITY_NONE)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid durability %d", (int)durability);
    if (options && options->setting_count && !options->settings)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "setting overrides are NULL");
    char path[4096];
    eg_status st;
    if ((st = eg_mkdir(dir, "data folder", err)) || (st = eg_path_join(path, sizeof path, dir, "engram.lock", err)))
        return st;
    eg_db *db = calloc(1, sizeof *db);
    if (!db) return eg_error_set(err, EG_INTERNAL, "out of memory");
    db->lock_fd = -1;
    if (!(db->dir = strdup(dir))) {
        free(db);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    if ((st = eg_lock_file(path, "data folder", &db->lock_fd, err))) {
        free(db->dir);
        free(db);
        return st;
    }
    if ((st = check_format_file(dir, err)) ||
        (st = eg_settings_load(dir, options ? options->settings : NULL, options ? options->setting_count : 0,
                               &db->settings, err))) {
        eg_close(db);
        return st;
    }
    if (durability == EG_DURABILITY_DEFAULT)
        eg_durability_parse(eg_settings_word(db->settings, "durability"), &durability, err);
    db->write_policy =
        strcmp(eg_settings_word(db->settings, "degrade.write_policy"), "queue") == 0 ? EG_WRITE_QUEUE : EG_WRITE_FAIL;
    const char *archive_path = eg_settings_text(db->settings, "archive.path");
    if (archive_path[0] == '/') snprintf(path, sizeof path, "%s", archive_path);
    else st = eg_path_join(path, sizeof path, dir, archive_path, err);
    if (st || (st = eg_archive_open(path, &db->archive, err)) ||
        (st = open_stores(db, dir, durability == EG_DURABILITY_NONE, err)) ||
        (st = open_sagas(db, dir, durability, err))) {
        eg_close(db);
        return st;
    }
    *out = db;
    return EG_OK;
}

const eg_settings *eg_db_settings(eg_db *db) { return db ? db->settings : NULL; }

void eg_db_recovery(eg_db *db, eg_recovery_report *out) {
    if (out) *out = db ? db->recovery : (eg_recovery_report){0};
}

eg_graph *eg_db_graph(eg_db *db) { return db ? db->graph : NULL; }

eg_vectors *eg_db_vectors(eg_db *db) { return db ? db->vectors : NULL; }

void eg_close(eg_db *db) {
    if (!db) return;
    eg_queue_stop(db->queue); /* first: its drainer writes to the stores and the log */
    if (db->sagas) { /* a clean close leaves a log with nothing to replay but the queued writes */
        eg_error ignored;
        eg_memory_checkpoint(db, &ignored);
    }
    eg_queue_close(db->queue);
    eg_saga_engine_close(db->sagas);
    eg_wal_close(db->wal);
    if (db->memory.frozen) eg_memory_state_destroy(&db->memory);
    eg_vectors_close(db->vectors);
    eg_graph_close(db->graph);
    for (int s = 0; s < EG_STORE_COUNT; s++) eg_breaker_free(db->breakers[s]);
    eg_read_cache_free(db->cache);
    eg_faults_free(db->faults);
    eg_archive_close(db->archive);
    eg_settings_free(db->settings);
    eg_unlock_file(db->lock_fd);
    free(db->dir);
    free(db);
}
