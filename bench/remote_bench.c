/* qdrant_bench.c — the Qdrant vector backend against the embedded one, in the same run: memory creates and
 * recalls (expand=1) through the memory API, once with the vectors in the folder (LMDB) and once on an in-process
 * `engram serve` over loopback (vectors.backend=qdrant), and where the remote run's time goes.
 *
 * usage: qdrant_bench [--memories N] [--dim D] [--queries Q]
 * Defaults: 2000 episodes of 128 dimensions (each related to 2 of 100 entities, made first and not timed), 500
 * recalls of limit 10. One caller thread, so that latencies are the calls' own. Every folder, the server's included,
 * runs with durability none: a sync per write would measure the disk, not the backends.
 *
 * Per backend and operation it prints one line: ops per second, p50 / p99 / mean latency in µs. For the Qdrant run
 * it adds where the mean goes:
 *   requests_per_op  HTTP requests the backend sent per operation (the server's request count)
 *   server_us        time inside the server's handlers per operation: its engram_http_request_duration_seconds
 *                    histogram (/metrics), routing to answer ready, so the server's JSON and its store work
 *   network_us       requests_per_op times a bare loopback round trip (GET / on a kept-alive libcurl handle: the
 *                    transport floor, as the backend's own libcurl pays it)
 *   client_us        the rest: the backend's JSON encoding and decoding, libcurl's work beyond the floor, and the
 *                    memory layer's own (its log, the graph) — compare the embedded mean, which has the last
 *                    without the rest
 * and one line per route the server answered (route, method, status): its requests and time per operation.
 * The figures print as key=value lines; nothing is asserted (not a test). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include "bench_data.h"

#include <engram/engram.h>
#include <engram/serve.h>

#include <curl/curl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENTITIES 100
#define RECALL_LIMIT 10
#define FLOOR_REQUESTS 2000

typedef struct config {
    size_t memories, dim, queries;
} config;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, const char *message) {
    fprintf(stderr, "qdrant_bench: %s: %s\n", what, message);
    exit(1);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- The server's own account, from /metrics ------------------------------------------------------------- */

#define ROUTES_MAX 64 /* route+method+status label sets kept; the server answers far fewer in this run */

/* One label set of engram_http_request_duration_seconds: its route, method and status, and its totals. */
typedef struct route_totals {
    char labels[160];
    double seconds, requests;
} route_totals;

typedef struct server_totals {
    double seconds, requests; /* summed over every route but /metrics itself */
    route_totals routes[ROUTES_MAX];
    size_t route_count;
} server_totals;

/* The entry of t for labels (the text between the braces of a metrics line), added if new; NULL when full. */
static route_totals *route_of(server_totals *t, const char *labels, size_t len) {
    for (size_t i = 0; i < t->route_count; i++)
        if (strlen(t->routes[i].labels) == len && strncmp(t->routes[i].labels, labels, len) == 0) return &t->routes[i];
    if (t->route_count == ROUTES_MAX || len >= sizeof t->routes[0].labels) return NULL;
    route_totals *r = &t->routes[t->route_count++];
    snprintf(r->labels, sizeof r->labels, "%.*s", (int)len, labels);
    return r;
}

#define ANSWER_MAX (4u << 20) /* bytes of a /metrics answer kept; the rest is dropped */

typedef struct answer {
    size_t used;
    char text[ANSWER_MAX];
} answer;

static size_t append_text(char *data, size_t size, size_t count, void *context) {
    answer *a = context;
    size_t len = size * count, room = ANSWER_MAX - 1 - a->used, take = len < room ? len : room;
    memcpy(a->text + a->used, data, take);
    a->used += take;
    a->text[a->used] = '\0';
    return len;
}

/* GET url on handle (its connection kept alive between calls); returns the answer's text. */
static char *http_get(CURL *handle, const char *url, answer *a) {
    a->used = 0;
    a->text[0] = '\0';
    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_text);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, a);
    CURLcode rc = curl_easy_perform(handle);
    if (rc != CURLE_OK) die(url, curl_easy_strerror(rc));
    return a->text;
}

static server_totals *read_metrics(CURL *handle, const char *base, answer *buffer) {
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", base);
    server_totals *t = calloc(1, sizeof *t);
    if (!t) die("read_metrics", "out of memory");
    static const char sum_name[] = "engram_http_request_duration_seconds_sum{",
                      count_name[] = "engram_http_request_duration_seconds_count{";
    for (char *line = http_get(handle, url, buffer); line && *line;) { /* line by line, in place */
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        bool is_sum = strncmp(line, sum_name, sizeof sum_name - 1) == 0;
        bool is_count = strncmp(line, count_name, sizeof count_name - 1) == 0;
        const char *labels = is_sum ? line + sizeof sum_name - 1 : line + sizeof count_name - 1;
        const char *close = strrchr(line, '}'); /* the last: route templates have braces of their own */
        if ((is_sum || is_count) && close && !strstr(line, "route=\"/metrics\"")) {
            double value = strtod(close + 1, NULL);
            route_totals *r = route_of(t, labels, (size_t)(close - labels));
            *(is_sum ? &t->seconds : &t->requests) += value;
            if (r) *(is_sum ? &r->seconds : &r->requests) += value;
        }
        line = end ? end + 1 : NULL;
    }
    return t;
}

/* The mean µs of a bare round trip: GET / on one kept-alive connection. */
static double loopback_floor_us(CURL *handle, const char *base, answer *buffer) {
    char url[128];
    snprintf(url, sizeof url, "%s/", base);
    http_get(handle, url, buffer); /* connects */
    double start = now_s();
    for (int i = 0; i < FLOOR_REQUESTS; i++) http_get(handle, url, buffer);
    return (now_s() - start) * 1e6 / FLOOR_REQUESTS;
}

/* ---- The work ---------------------------------------------------------------------------------------------- */

typedef struct figures {
    double per_s, p50_us, p99_us, mean_us;
} figures;

static figures summarise(double *latencies_us, size_t n, double wall_s) {
    qsort(latencies_us, n, sizeof *latencies_us, compare_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += latencies_us[i];
    return (figures){(double)n / wall_s, latencies_us[n / 2], latencies_us[n * 99 / 100], sum / (double)n};
}

static eg_db *open_folder(const char *dir, const char *const *settings, size_t count) {
    eg_options options = {EG_DURABILITY_NONE, settings, count};
    eg_db *db;
    eg_error err;
    if (eg_open(dir, &options, &db, &err) != EG_OK) die(dir, err.message);
    return db;
}

static void make_entities(eg_db *db, size_t dim) {
    float *v = malloc(dim * sizeof *v);
    eg_error err;
    for (unsigned i = 1; i <= ENTITIES; i++) {
        char id[16];
        snprintf(id, sizeof id, "%u", i);
        random_vector(i, v, dim);
        eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = id, .vector = v, .dim = dim};
        if (eg_memory_create(db, &spec, NULL, &err) != EG_OK) die("entity", err.message);
    }
    free(v);
}

/* Episode i: a random vector, a small payload and session, related to two entities. */
static figures create_episodes(eg_db *db, const config *cfg) {
    double *latencies = malloc(cfg->memories * sizeof *latencies);
    float *v = malloc(cfg->dim * sizeof *v);
    eg_error err;
    double start = now_s();
    for (size_t i = 0; i < cfg->memories; i++) {
        char id[24], target_a[16], target_b[16];
        snprintf(id, sizeof id, "%zu", 1000000 + i);
        snprintf(target_a, sizeof target_a, "%zu", 1 + i % ENTITIES);
        snprintf(target_b, sizeof target_b, "%zu", 1 + (i * 7 + 3) % ENTITIES);
        random_vector(1000000 + i, v, cfg->dim);
        json_t *payload = json_pack("{s:s, s:i}", "text", "a benchmark episode", "n", (json_int_t)i);
        eg_memory_relationship rels[2] = {{target_a, EG_REL_RELATES_TO, NULL}, {target_b, EG_REL_RELATES_TO, NULL}};
        eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = id, .vector = v, .dim = cfg->dim,
                               .payload = payload, .session_id = "bench", .relationships = rels,
                               .relationship_count = 2};
        double t = now_s();
        if (eg_memory_create(db, &spec, NULL, &err) != EG_OK) die("create", err.message);
        latencies[i] = (now_s() - t) * 1e6;
        json_decref(payload);
    }
    figures f = summarise(latencies, cfg->memories, now_s() - start);
    free(latencies);
    free(v);
    return f;
}

static figures recall_episodes(eg_db *db, const config *cfg) {
    double *latencies = malloc(cfg->queries * sizeof *latencies);
    float *v = malloc(cfg->dim * sizeof *v);
    eg_error err;
    double start = now_s();
    for (size_t q = 0; q < cfg->queries; q++) {
        random_vector(7000000 + q, v, cfg->dim);
        eg_recall_request request = {.type = EG_MEMORY_EPISODE, .vector = v, .dim = cfg->dim, .limit = RECALL_LIMIT,
                                     .expand = 1};
        json_t *found;
        double t = now_s();
        if (eg_memory_recall(db, &request, &found, &err) != EG_OK) die("recall", err.message);
        latencies[q] = (now_s() - t) * 1e6;
        if (json_array_size(json_object_get(found, "memories")) != RECALL_LIMIT) die("recall", "too few memories");
        json_decref(found);
    }
    figures f = summarise(latencies, cfg->queries, now_s() - start);
    free(latencies);
    free(v);
    return f;
}

static void print_figures(const char *backend, const char *op, const config *cfg, figures f) {
    printf("qdrant-bench backend=%s op=%s n=%zu dim=%zu per_s=%.0f p50_us=%.0f p99_us=%.0f mean_us=%.0f\n", backend,
           op, strcmp(op, "create") == 0 ? cfg->memories : cfg->queries, cfg->dim, f.per_s, f.p50_us, f.p99_us,
           f.mean_us);
}

/* Where a Qdrant run's mean went, from the server's totals before and after it; then the server's time per route. */
static void print_breakdown(const char *op, size_t ops, figures f, const server_totals *before,
                            const server_totals *after, double floor_us, double embedded_mean_us) {
    double requests = (after->requests - before->requests) / (double)ops;
    double server_us = (after->seconds - before->seconds) * 1e6 / (double)ops, network_us = requests * floor_us;
    printf("qdrant-bench backend=qdrant op=%s where: requests_per_op=%.2f server_us=%.0f network_us=%.0f "
           "client_us=%.0f remote_overhead_us=%.0f\n",
           op, requests, server_us, network_us, f.mean_us - server_us - network_us, f.mean_us - embedded_mean_us);
    for (size_t i = 0; i < after->route_count; i++) {
        const route_totals *a = &after->routes[i];
        double seconds = a->seconds, count = a->requests;
        for (size_t j = 0; j < before->route_count; j++)
            if (strcmp(before->routes[j].labels, a->labels) == 0) {
                seconds -= before->routes[j].seconds;
                count -= before->routes[j].requests;
            }
        if (count > 0)
            printf("qdrant-bench backend=qdrant op=%s server_route={%s} requests_per_op=%.2f server_us_per_op=%.0f\n",
                   op, a->labels, count / (double)ops, seconds * 1e6 / (double)ops);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static size_t parse_size(const char *text, const char *name) {
    char *end;
    unsigned long long n = strtoull(text, &end, 10);
    if (!*text || *end || n == 0 || n > 10000000) die(name, "expected a number from 1 to 10000000");
    return (size_t)n;
}

int main(int argc, char **argv) {
    config cfg = {2000, 128, 500};
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--memories") == 0) cfg.memories = parse_size(argv[++i], "--memories");
        else if (i + 1 < argc && strcmp(argv[i], "--dim") == 0) cfg.dim = parse_size(argv[++i], "--dim");
        else if (i + 1 < argc && strcmp(argv[i], "--queries") == 0) cfg.queries = parse_size(argv[++i], "--queries");
        else die(argv[i], "usage: qdrant_bench [--memories N] [--dim D] [--queries Q]");
    }
    if (cfg.memories < RECALL_LIMIT) die("--memories", "at least 10, so that every recall finds 10");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char root[] = "/tmp/engram-qdrant-bench-XXXXXX", path[128];
    if (!mkdtemp(root)) die("mkdtemp", "cannot make a scratch folder");

    /* embedded */
    snprintf(path, sizeof path, "%s/embedded", root);
    eg_db *db = open_folder(path, NULL, 0);
    make_entities(db, cfg.dim);
    figures embedded_create = create_episodes(db, &cfg), embedded_recall = recall_episodes(db, &cfg);
    eg_close(db);
    print_figures("embedded", "create", &cfg, embedded_create);
    print_figures("embedded", "recall", &cfg, embedded_recall);

    /* Qdrant: an in-process engram serve on its own folder */
    snprintf(path, sizeof path, "%s/server", root);
    eg_db *server_db = open_folder(path, NULL, 0);
    eg_server_options server_options = {.http = "127.0.0.1:0"};
    eg_server *server;
    eg_error err;
    if (eg_server_start(server_db, &server_options, &server, &err) != EG_OK) die("eg_server_start", err.message);
    char base[64], url_setting[96];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)eg_server_port(server));
    snprintf(url_setting, sizeof url_setting, "vectors.url=%s", base);
    const char *const settings[] = {"vectors.backend=qdrant", url_setting};
    CURL *scraper = curl_easy_init();
    answer *buffer = malloc(1u << 22);
    if (!scraper || !buffer) die("curl_easy_init", "out of memory");
    double floor_us = loopback_floor_us(scraper, base, buffer);

    snprintf(path, sizeof path, "%s/client", root);
    db = open_folder(path, settings, 2);
    make_entities(db, cfg.dim);
    server_totals *t0 = read_metrics(scraper, base, buffer);
    figures qdrant_create = create_episodes(db, &cfg);
    server_totals *t1 = read_metrics(scraper, base, buffer);
    figures qdrant_recall = recall_episodes(db, &cfg);
    server_totals *t2 = read_metrics(scraper, base, buffer);
    eg_close(db);
    print_figures("qdrant", "create", &cfg, qdrant_create);
    print_breakdown("create", cfg.memories, qdrant_create, t0, t1, floor_us, embedded_create.mean_us);
    print_figures("qdrant", "recall", &cfg, qdrant_recall);
    print_breakdown("recall", cfg.queries, qdrant_recall, t1, t2, floor_us, embedded_recall.mean_us);
    printf("qdrant-bench loopback_round_trip_us=%.1f\n", floor_us);
    free(t0);
    free(t1);
    free(t2);

    curl_easy_cleanup(scraper);
    free(buffer);
    eg_server_stop(server, 5000);
    eg_close(server_db);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
