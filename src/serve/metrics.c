/* metrics.c — what GET /metrics shows, in Prometheus' text format 0.0.4 (docs/serve.md, "Metrics"): every answered
 * request counted, with its latency in a histogram, by route, method and status; and, read from the folder at each
 * scrape, the health verdict, each store's circuit breaker and write queue, the sagas run by outcome, the log's
 * appends and syncs, and the memories of each type.
 *
 * Requests are observed by every server thread at once: the counts live in one table under a mutex, held only to
 * find a series and add to it (and, at a scrape, to copy the table out). Labels come from bounded sets — route
 * names are the route tables' own strings, methods outside the usual few fold into "other", statuses are three
 * digits — and the table has a fixed size; an observation that finds it full is counted apart rather than lost. */
#include "db/db_internal.h"
#include "serve/serve_internal.h"

#include <engram/exec.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_MAX 1024   /* route x method x status combinations kept */
#define ROUTE_NAME_MAX 96 /* bytes of a route name kept (route patterns are far shorter) */

/* Upper bounds of the latency buckets, in seconds: from a cached read (well under a millisecond) to a batch import
 * or an archive run (seconds). */
static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define BUCKET_COUNT (sizeof bucket_bounds / sizeof bucket_bounds[0])

static const char *const known_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

typedef struct series {
    char route[ROUTE_NAME_MAX];
    const char *method; /* one of known_methods, or "other" */
    unsigned status;
    uint64_t count;
    double seconds_sum;
    uint64_t buckets[BUCKET_COUNT]; /* observations at or under each bound (not cumulative; summed when shown) */
} series;

struct eg_serve_metrics {
    pthread_mutex_t mutex;
    series table[SERIES_MAX];
    size_t used;
    uint64_t unlabelled; /* observations that found the table full */
};

eg_status eg_serve_metrics_new(eg_serve_metrics **out, eg_error *err) {
    eg_serve_metrics *m = calloc(1, sizeof *m);
    if (!m) return eg_error_set(err, EG_INTERNAL, "out of memory");
    pthread_mutex_init(&m->mutex, NULL);
    *out = m;
    return EG_OK;
}

void eg_serve_metrics_free(eg_serve_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mutex);
    free(m);
}

static const char *method_label(const char *method) {
    for (size_t i = 0; i < sizeof known_methods / sizeof known_methods[0]; i++)
        if (method && strcmp(method, known_methods[i]) == 0) return known_methods[i];
    return "other";
}

void eg_serve_metrics_observe(eg_serve_metrics *m, const char *route, const char *method, unsigned status,
                              double seconds) {
    if (!m) return;
    const char *method_name = method_label(method);
    if (status > 999) status = 999;
    if (!route) route = "unmatched";
    pthread_mutex_lock(&m->mutex);
    series *s = NULL;
    for (size_t i = 0; i < m->used && !s; i++) {
        series *t = &m->table[i];
        if (t->status == status && t->method == method_name && strncmp(t->route, route, ROUTE_NAME_MAX - 1) == 0)
            s = t;
    }
    if (!s && m->used < SERIES_MAX) {
        s = &m->table[m->used++];
        snprintf(s->route, sizeof s->route, "%s", route);
        s->method = method_name;
        s->status = status;
    }
    if (s) {
        s->count++;
        s->seconds_sum += seconds;
        size_t b = 0;
        while (b < BUCKET_COUNT && seconds > bucket_bounds[b]) b++;
        if (b < BUCKET_COUNT) s->buckets[b]++;
    } else {
        m->unlabelled++;
    }
    pthread_mutex_unlock(&m->mutex);
}

/* ---- The exposition ----------------------------------------------------------------------------------------- */

/* A label value with backslash, double quote and newline escaped, as the format requires. */
static void put_label_value(FILE *out, const char *value) {
    for (const char *c = value; *c; c++) {
        if (*c == '\\') fputs("\\\\", out);
        else if (*c == '"') fputs("\\\"", out);
        else if (*c == '\n') fputs("\\n", out);
        else fputc(*c, out);
    }
}

static void put_family(FILE *out, const char *name, const char *type, const char *help) {
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_request_labels(FILE *out, const series *s) {
    fputs("route=\"", out);
    put_label_value(out, s->route);
    fprintf(out, "\",method=\"%s\",status=\"%u\"", s->method, s->status);
}

static void put_requests(FILE *out, const series *table, size_t used, uint64_t unlabelled) {
    put_family(out, "engram_http_requests_total", "counter", "HTTP requests answered, by route, method and status.");
    for (size_t i = 0; i < used; i++) {
        fputs("engram_http_requests_total{", out);
        put_request_labels(out, &table[i]);
        fprintf(out, "} %llu\n", (unsigned long long)table[i].count);
    }
    put_family(out, "engram_http_requests_unlabelled_total", "counter",
               "HTTP requests answered once the label table was full (1024 route, method and status combinations).");
    fprintf(out, "engram_http_requests_unlabelled_total %llu\n", (unsigned long long)unlabelled);
    put_family(out, "engram_http_request_duration_seconds", "histogram",
               "Time from routing a request to its answer being ready, by route, method and status.");
    for (size_t i = 0; i < used; i++) {
        const series *s = &table[i];
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= BUCKET_COUNT; b++) {
            cumulative += b < BUCKET_COUNT ? s->buckets[b] : 0;
            fputs("engram_http_request_duration_seconds_bucket{", out);
            put_request_labels(out, s);
            if (b < BUCKET_COUNT) fprintf(out, ",le=\"%g\"} %llu\n", bucket_bounds[b], (unsigned long long)cumulative);
            else fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->count);
        }
        fputs("engram_http_request_duration_seconds_sum{", out);
        put_request_labels(out, s);
        fprintf(out, "} %.9g\n", s->seconds_sum);
        fputs("engram_http_request_duration_seconds_count{", out);
        put_request_labels(out, s);
        fprintf(out, "} %llu\n", (unsigned long long)s->count);
    }
}

static long long integer_at(json_t *object, const char *key) {
    return (long long)json_integer_value(json_object_get(object, key));
}

/* The `health` operation's report, as gauges: the verdict, and per store its breaker and its write queue. A
 * health that cannot be read shows nothing rather than a guess. */
static void put_health(FILE *out, eg_db *db) {
    json_t *request = json_pack("{s:s}", "op", "health");
    json_t *response = request ? eg_exec(db, request) : NULL;
    json_decref(request);
    json_t *health = json_object_get(response, "result");
    const char *verdict = json_string_value(json_object_get(health, "status"));
    if (!json_is_true(json_object_get(response, "ok")) || !verdict) {
        json_decref(response);
        return;
    }
    static const char *const verdicts[] = {"ok", "degraded", "down"};
    put_family(out, "engram_health_status", "gauge",
               "1 for the folder's health verdict (ok, degraded or down, as engram health says), 0 for the others.");
    for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++)
        fprintf(out, "engram_health_status{status=\"%s\"} %d\n", verdicts[i], strcmp(verdict, verdicts[i]) == 0);
    put_family(out, "engram_dead_letters", "gauge", "Sagas that could not be undone, waiting for check --repair.");
    fprintf(out, "engram_dead_letters %lld\n", integer_at(health, "dead_letters"));

    static const char *const states[] = {"closed", "half_open", "open"};
    json_t *stores = json_object_get(health, "stores");
    const char *name;
    json_t *store;
    put_family(out, "engram_breaker_state", "gauge", "1 for each store's circuit breaker state, 0 for the others.");
    json_object_foreach(stores, name, store) {
        const char *state = json_string_value(json_object_get(json_object_get(store, "breaker"), "state"));
        for (size_t i = 0; state && i < sizeof states / sizeof states[0]; i++)
            fprintf(out, "engram_breaker_state{store=\"%s\",state=\"%s\"} %d\n", name, states[i],
                    strcmp(state, states[i]) == 0);
    }
    put_family(out, "engram_breaker_rejected_total", "counter",
               "Calls each store's breaker failed fast, without reaching the store, since the folder was opened.");
    json_object_foreach(stores, name, store)
        fprintf(out, "engram_breaker_rejected_total{store=\"%s\"} %lld\n", name,
                integer_at(json_object_get(store, "breaker"), "rejected"));
    put_family(out, "engram_write_queue_depth", "gauge", "Memory writes queued for each store while it was down.");
    json_object_foreach(stores, name, store)
        fprintf(out, "engram_write_queue_depth{store=\"%s\"} %lld\n", name,
                integer_at(json_object_get(store, "queue"), "depth"));
    put_family(out, "engram_write_queue_stalled", "gauge",
               "1 when a store's write queue is stalled on a write the store refused (see engram health).");
    json_object_foreach(stores, name, store)
        fprintf(out, "engram_write_queue_stalled{store=\"%s\"} %d\n", name,
                json_is_true(json_object_get(json_object_get(store, "queue"), "stalled")));
    put_family(out, "engram_degraded_seconds", "gauge",
               "How long each store has been degraded (breaker not closed or writes queued); 0 when it is not.");
    json_object_foreach(stores, name, store)
        fprintf(out, "engram_degraded_seconds{store=\"%s\"} %.3f\n", name,
                (double)integer_at(store, "degraded_ms") / 1000.0);
    json_decref(response);
}

static void put_engine(FILE *out, eg_db *db) {
    static const char *const outcomes[EG_SAGA_OUTCOME_COUNT] = {"committed", "compensated", "failed", "unfinished"};
    uint64_t counts[EG_SAGA_OUTCOME_COUNT];
    eg_saga_outcome_counts(db->sagas, counts);
    put_family(out, "engram_sagas_total", "counter",
               "Memory writes run as sagas since the folder was opened, by outcome (failed and unfinished ones "
               "left a dead letter or an unfinished saga for the next open).");
    for (int i = 0; i < EG_SAGA_OUTCOME_COUNT; i++)
        fprintf(out, "engram_sagas_total{outcome=\"%s\"} %llu\n", outcomes[i], (unsigned long long)counts[i]);

    eg_wal_stats wal;
    eg_wal_stats_get(db->wal, &wal);
    put_family(out, "engram_wal_appends_total", "counter", "Records appended to the write-ahead log since open.");
    fprintf(out, "engram_wal_appends_total %llu\n", (unsigned long long)wal.appends);
    put_family(out, "engram_wal_syncs_total", "counter",
               "fsyncs of write-ahead log segments since open (group commit shares one among concurrent writers).");
    fprintf(out, "engram_wal_syncs_total %llu\n", (unsigned long long)wal.syncs);
    put_family(out, "engram_wal_segments", "gauge", "Write-ahead log segment files now.");
    fprintf(out, "engram_wal_segments %llu\n", (unsigned long long)wal.segments);

    /* Counted on the store under the breaker: a scrape is not traffic and must not open or close a breaker. A type
     * whose count fails (its store is down) is left out for this scrape. */
    put_family(out, "engram_memories", "gauge", "Memories of each type: the points of its collection.");
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) {
        uint64_t n = 0;
        eg_error err;
        eg_status st = eg_vectors_count(db->vectors_direct, eg_memory_collection((eg_memory_type)t), NULL, &n, &err);
        if (st == EG_OK || st == EG_NOT_FOUND)
            fprintf(out, "engram_memories{type=\"%s\"} %llu\n", eg_memory_type_name((eg_memory_type)t),
                    (unsigned long long)(st == EG_OK ? n : 0));
    }
}

char *eg_serve_metrics_text(eg_serve_metrics *m, eg_db *db) {
    series *copy = malloc(sizeof m->table);
    if (!copy) return NULL;
    pthread_mutex_lock(&m->mutex);
    size_t used = m->used;
    uint64_t unlabelled = m->unlabelled;
    memcpy(copy, m->table, used * sizeof *copy);
    pthread_mutex_unlock(&m->mutex);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        free(copy);
        return NULL;
    }
    put_requests(out, copy, used, unlabelled);
    put_health(out, db);
    put_engine(out, db);
    free(copy);
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed) {
        free(text);
        return NULL;
    }
    return text;
}
