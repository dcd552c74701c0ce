/* ops_admin.c — the operations on the engine itself rather than its data: health (breakers, write queues,
 * degraded time, an overall verdict), config (the settings in force) and set_faults (fault rules at run time,
 * tests only). Shapes in docs/operations.md. */
#include "db/db_internal.h"
#include "exec/exec_internal.h"
#include "util/clock.h"
#include "util/sanitize.h"

#include <string.h>

/* One store's part of health; *degraded and *down say what it adds to the verdict. */
static json_t *store_health(eg_db *db, int store, int64_t now, bool *degraded, bool *down) {
    eg_breaker_stats b;
    eg_queue_stats q;
    eg_breaker_stats_get(db->breakers[store], &b);
    eg_queue_stats_get(db->queue, store, &q);
    char stall[sizeof q.stall_error];
    eg_sanitize_message(q.stall_error, stall, sizeof stall);
    /* Degraded since the breaker left "closed" or the oldest queued write, whichever came first. */
    int64_t since = 0;
    if (b.state != EG_BREAKER_CLOSED) since = b.opened_at_ms ? b.opened_at_ms : b.last_transition_ms;
    if (q.depth && (!since || q.oldest_ms < since)) since = q.oldest_ms;
    if (since || q.stalled) *degraded = true;
    if (q.stalled || (b.state != EG_BREAKER_CLOSED && db->write_policy == EG_WRITE_FAIL)) *down = true;
    return json_pack("{s:{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}, s:{s:I, s:I, s:I, s:I, s:I, s:b, s:s?},"
                     " s:I}",
                     "breaker", "state", eg_breaker_state_name(b.state), "consecutive_failures",
                     (json_int_t)b.consecutive_failures, "successes", (json_int_t)b.successes, "failures",
                     (json_int_t)b.failures, "rejected", (json_int_t)b.rejected, "last_failure_ms",
                     (json_int_t)b.last_failure_ms, "last_transition_ms", (json_int_t)b.last_transition_ms,
                     "opened_at_ms", (json_int_t)b.opened_at_ms, "retry_in_ms", (json_int_t)b.retry_in_ms,
                     "last_error", b.last_error, "queue", "depth", (json_int_t)q.depth, "oldest_age_ms",
                     (json_int_t)(q.depth ? now - q.oldest_ms : 0), "queued", (json_int_t)q.queued, "applied",
                     (json_int_t)q.applied, "collapsed", (json_int_t)q.collapsed, "stalled", q.stalled,
                     "stall_error", q.stalled ? stall : NULL, "degraded_ms", (json_int_t)(since ? now - since : 0));
}

/* Which backend keeps a store, and for a remote one where (its URL without credentials). */
static void describe_backend(eg_db *db, int store, json_t *health) {
    bool graph = store == EG_STORE_GRAPH;
    const char *backend = eg_settings_word(db->settings, graph ? "graph.backend" : "vectors.backend");
    json_object_set_new(health, "backend", json_string(backend));
    if (strcmp(backend, "lmdb") == 0) return;
    char url[1024];
    eg_sanitize_message(eg_settings_text(db->settings, graph ? "graph.uri" : "vectors.url"), url, sizeof url);
    json_object_set_new(health, "url", json_string(url));
}

static eg_status op_health(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    (void)args;
    int64_t now = eg_now_ms();
    bool degraded = false, down = false;
    json_t *stores = json_object();
    for (int s = 0; stores && s < EG_STORE_COUNT; s++) {
        json_t *health = store_health(db, s, now, &degraded, &down);
        if (health) describe_backend(db, s, health);
        json_object_set_new(stores, eg_store_name(s), health);
    }
    json_t *letters = NULL;
    eg_status st = eg_saga_dead_letters(db->sagas, &letters, err);
    if (st != EG_OK) {
        json_decref(stores);
        return st;
    }
    eg_read_cache_stats c;
    eg_read_cache_stats_get(db->cache, &c);
    json_t *health = json_pack("{s:s, s:o, s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I}}", "status",
                               down ? "down" : degraded ? "degraded" : "ok", "stores", stores, "write_policy",
                               db->write_policy == EG_WRITE_QUEUE ? "queue" : "fail", "dead_letters",
                               (json_int_t)json_array_size(letters), "cache", "entries", (json_int_t)c.entries,
                               "max_entries", (json_int_t)c.max_entries, "hits", (json_int_t)c.hits, "misses",
                               (json_int_t)c.misses, "stale_dropped", (json_int_t)c.stale_dropped);
    json_decref(letters);
    return eg_exec_result(health, result, err);
}

static eg_status op_config(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    (void)args;
    json_t *list = NULL;
    eg_status st = eg_settings_list(db->settings, &list, err);
    return st ? st : eg_exec_result(list, result, err);
}

static eg_status op_set_faults(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *rules;
    eg_status st = eg_arg_string(args, "rules", true, &rules, err);
    if (st != EG_OK) return st;
    if (!db->faults)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "fault injection is off: it is honoured only when the process starts with "
                            "ENGRAM_ALLOW_FAULTS=1");
    if ((st = eg_faults_set(db->faults, rules, err))) return st;
    return eg_exec_result(json_pack("{s:s}", "rules", rules), result, err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

const eg_exec_op eg_exec_admin_ops[] = {
    {"health", op_health, ARGS(NULL), 0},
    {"config", op_config, ARGS(NULL), 0},
    {"set_faults", op_set_faults, ARGS("rules"), 0},
    {NULL, NULL, NULL, 0},
};
