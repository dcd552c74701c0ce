/* exec.c — the JSON operation interface (see engram/exec.h): parse, find the operation, reject unknown
 * arguments, run it, and shape the {"ok": ...} response. */
#include "db/db_internal.h"
#include "exec/exec_internal.h"
#include "util/json_text.h"

#include <stdlib.h>
#include <string.h>

static const eg_exec_op *const op_tables[] = {eg_exec_graph_ops, eg_exec_vector_ops, eg_exec_memory_ops,
                                              eg_exec_archive_ops, eg_exec_admin_ops, eg_exec_cypher_ops};

/* This thread's graph transaction (eg_exec_begin_graph_transaction): the requests that run in it come from this
 * thread alone, so nothing else needs to see it. */
static _Thread_local struct {
    eg_db *db;
    eg_graph *tx;
} thread_tx;

eg_graph *eg_exec_graph(eg_db *db) { return thread_tx.tx && thread_tx.db == db ? thread_tx.tx : eg_db_graph(db); }

eg_status eg_exec_begin_graph_transaction(eg_db *db, eg_error *err) {
    if (!db) return eg_error_set(err, EG_INVALID_ARGUMENT, "db is NULL");
    if (thread_tx.tx) return eg_error_set(err, EG_CONFLICT, "this thread's graph transaction is still open");
    eg_status st = eg_graph_begin(eg_db_graph(db), &thread_tx.tx, err);
    if (st == EG_OK) thread_tx.db = db;
    return st;
}

eg_status eg_exec_commit_graph_transaction(eg_db *db, eg_error *err) {
    if (!thread_tx.tx || thread_tx.db != db)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "this thread has no graph transaction open on this folder");
    eg_graph *tx = thread_tx.tx;
    thread_tx.tx = NULL;
    thread_tx.db = NULL;
    return eg_graph_commit(tx, err);
}

void eg_exec_rollback_graph_transaction(eg_db *db) {
    if (!thread_tx.tx || thread_tx.db != db) return;
    eg_graph_rollback(thread_tx.tx);
    thread_tx.tx = NULL;
    thread_tx.db = NULL;
}

static bool is_graph_op(const eg_exec_op *op) {
    for (const eg_exec_op *g = eg_exec_graph_ops; g->name; g++)
        if (g == op) return true;
    return false;
}

static const eg_exec_op *find_op(const char *name) {
    for (size_t t = 0; t < sizeof op_tables / sizeof op_tables[0]; t++)
        for (const eg_exec_op *op = op_tables[t]; op->name; op++)
            if (strcmp(op->name, name) == 0) return op;
    return NULL;
}

static eg_status check_arguments(const eg_exec_op *op, json_t *request, eg_error *err) {
    const char *key;
    json_t *value;
    json_object_foreach(request, key, value) {
        if (strcmp(key, "op") == 0) continue;
        if (!eg_name_in(op->arguments, key)) {
            char allowed[EG_ERROR_MESSAGE_MAX / 2] = "";
            for (const char *const *a = op->arguments; *a; a++) {
                if (a != op->arguments) strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
                strncat(allowed, *a, sizeof allowed - strlen(allowed) - 1);
            }
            return eg_error_set(err, EG_INVALID_ARGUMENT, "unknown argument '%.64s' for %s (allowed: %s)", key,
                                op->name, allowed[0] ? allowed : "none");
        }
    }
    return EG_OK;
}

static json_t *error_response(const eg_error *err) {
    return json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", eg_status_name(err->code), "message",
                     err->message);
}

/* Runs a read, keeping its result for the fallback cache; when a store is unavailable, answers from the cache
 * (*fallback) if an identical earlier read's result is there and no acknowledged write has changed its stores
 * since. */
static eg_status run_read(eg_db *db, const eg_exec_op *op, json_t *request, json_t **result, bool *fallback,
                          eg_error *err) {
    eg_read_cache *cache = db ? db->cache : NULL;
    uint64_t generations[EG_READ_CACHE_STORES];
    for (int i = 0; i < EG_READ_CACHE_STORES; i++) generations[i] = eg_read_cache_generation(cache, i);
    eg_status st = op->handler(db, request, result, err);
    if (!cache || (st != EG_OK && !eg_status_is_store_failure(st))) return st;
    char *key = eg_read_cache_key(request);
    if (st == EG_OK) {
        eg_read_cache_put(cache, key, *result, op->reads, generations);
    } else if ((*result = eg_read_cache_get(cache, key))) {
        *fallback = true;
        st = EG_OK;
    }
    free(key);
    return st;
}

json_t *eg_exec(eg_db *db, json_t *request) {
    eg_error err;
    eg_error_clear(&err);
    const eg_exec_op *op = NULL;
    json_t *result = NULL;
    json_t *name = json_object_get(request, "op");
    if (!json_is_object(request))
        eg_error_set(&err, EG_INVALID_ARGUMENT, "a request must be a JSON object");
    else if (!json_is_string(name))
        eg_error_set(&err, EG_INVALID_ARGUMENT, "a request needs \"op\": the operation name, a string");
    else if (!(op = find_op(json_string_value(name))))
        eg_error_set(&err, EG_INVALID_ARGUMENT, "unknown operation '%.64s' (see docs/operations.md)",
                     json_string_value(name));
    else if (thread_tx.tx && thread_tx.db == db && !is_graph_op(op))
        eg_error_set(&err, EG_INVALID_ARGUMENT, "%s cannot run inside a graph transaction: only graph operations can",
                     op->name);
    else if (check_arguments(op, request, &err) == EG_OK) {
        bool fallback = false, in_transaction = thread_tx.tx && thread_tx.db == db;
        eg_status st = op->reads && !in_transaction ? run_read(db, op, request, &result, &fallback, &err)
                                                    : op->handler(db, request, &result, &err);
        if (st == EG_OK && fallback)
            return json_pack("{s:b, s:o, s:b}", "ok", 1, "result", result ? result : json_null(), "fallback", 1);
        if (st == EG_OK) return json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_null());
    }
    json_decref(result);
    if (err.code == EG_OK) eg_error_set(&err, EG_INTERNAL, "operation failed without a report");
    return error_response(&err);
}

char *eg_exec_json(eg_db *db, const char *request, size_t length) {
    json_error_t jerr;
    json_t *response;
    if (length > EG_EXEC_LINE_MAX) {
        eg_error err;
        eg_error_set(&err, EG_INVALID_ARGUMENT, "request is longer than the limit of %u bytes (64 MiB)",
                     EG_EXEC_LINE_MAX);
        response = error_response(&err);
    } else {
        json_t *parsed = json_loadb(request, length, JSON_REJECT_DUPLICATES, &jerr);
        if (parsed) {
            response = eg_exec(db, parsed);
            json_decref(parsed);
        } else {
            eg_error err;
            eg_error_set(&err, EG_INVALID_ARGUMENT, "malformed JSON at column %d: %s", jerr.column, jerr.text);
            response = error_response(&err);
        }
    }
    if (!response) return NULL;
    char *text = eg_json_text(response, JSON_COMPACT);
    json_decref(response);
    return text;
}
