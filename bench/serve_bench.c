/* serve_bench.c — what `engram serve` costs over calling the library: a keep-alive load generator over loopback
 * against an in-process server (port 0) on a scratch data folder, next to the same work through the C API.
 *
 * Figures, each run for a fixed time by CLIENTS threads (every HTTP client on its own keep-alive connection):
 *   transport  GET / — the floor: parsing, routing and answering with no store work
 *   query      nearest 10 of POINTS random DIM-dimensional vectors (Cosine), by HTTP and by eg_vectors_search
 *   upsert     batches of BATCH new points, by HTTP and by eg_vectors_upsert
 * The HTTP route of a figure is Qdrant's (POST /collections/{c}/points/query, PUT /collections/{c}/points?wait=true)
 * when this build has it, else engram's POST /v1/exec with the same operation (search, upsert), else the figure is
 * left out; each line names the route it measured. Per figure: requests per second, latency p50 / p99 / mean in
 * µs, and for query and upsert the overhead of HTTP per request (mean latency difference, µs) and the ratio of the
 * mean latencies.
 *
 * usage: serve_bench [--points N] [--dim D] [--clients T] [--seconds S] [--batch B] [--server-threads N]
 *                    [--durability none|group|fsync]
 * Defaults: 10000 points, 128 dimensions, 4 clients, 3 s per figure, 100 points per batch, the serve.threads
 * setting, durability none (a sync per write would measure the disk, not the server). Prints key=value lines. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include "serve/serve_internal.h"

#include <engram/serve.h>
#include <engram/vectors.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define COLLECTION "bench"
#define QUERY_VECTORS 256
#define LATENCIES_MAX (4u << 20) /* per thread: more requests than this still count, unsampled */
#define IDS_PER_CLIENT 100000000ull

typedef struct config {
    size_t points, dim, batch;
    unsigned clients, seconds, server_threads;
    eg_durability durability;
} config;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "serve_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* xorshift64*: every thread keeps its own state. */
static float random_unit(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (float)((double)((*state * 0x2545f4914f6cdd1dULL) >> 40) / (double)(1 << 23) - 1.0);
}

static void random_vector(uint64_t *state, float *v, size_t dim) {
    for (size_t i = 0; i < dim; i++) v[i] = random_unit(state);
}

/* ---- one thread's measurements --------------------------------------------------------------------------------- */

typedef struct sampler {
    double *latencies_us;
    size_t count;    /* requests completed */
    size_t failures; /* requests that got no answer or an unexpected status */
} sampler;

static void sample(sampler *s, double us) {
    if (s->count < LATENCIES_MAX) s->latencies_us[s->count] = us;
    s->count++;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct figure {
    double per_second, p50_us, p99_us, mean_us;
    size_t requests, failures;
} figure;

static figure summarize(sampler *samplers, unsigned threads, double seconds) {
    figure f = {0};
    size_t sampled = 0;
    for (unsigned t = 0; t < threads; t++) {
        f.requests += samplers[t].count;
        f.failures += samplers[t].failures;
        sampled += samplers[t].count < LATENCIES_MAX ? samplers[t].count : LATENCIES_MAX;
    }
    double *all = malloc((sampled ? sampled : 1) * sizeof *all);
    if (!all) die("out of memory", NULL);
    size_t n = 0;
    double sum = 0;
    for (unsigned t = 0; t < threads; t++) {
        size_t k = samplers[t].count < LATENCIES_MAX ? samplers[t].count : LATENCIES_MAX;
        for (size_t i = 0; i < k; i++) sum += (all[n++] = samplers[t].latencies_us[i]);
    }
    qsort(all, n, sizeof *all, compare_doubles);
    f.per_second = (double)f.requests / seconds;
    if (n > 0) {
        f.p50_us = all[n / 2];
        f.p99_us = all[(size_t)((double)n * 0.99)];
        f.mean_us = sum / (double)n;
    }
    free(all);
    return f;
}

static void print_figure(const char *name, const char *via, const char *route, const figure *f) {
    printf("serve-bench figure=%s via=%s route=\"%s\" requests=%zu failures=%zu per_s=%.0f p50_us=%.1f p99_us=%.1f "
           "mean_us=%.1f\n",
           name, via, route, f->requests, f->failures, f->per_second, f->p50_us, f->p99_us, f->mean_us);
}

static void print_overhead(const char *name, const figure *http, const figure *c_api) {
    printf("serve-bench figure=%s overhead_us_per_request=%.1f latency_ratio=%.2f throughput_ratio=%.2f\n", name,
           http->mean_us - c_api->mean_us, c_api->mean_us > 0 ? http->mean_us / c_api->mean_us : 0.0,
           http->per_second > 0 ? c_api->per_second / http->per_second : 0.0);
}

/* ---- the HTTP load ------------------------------------------------------------------------------------------------ */

typedef struct http_work {
    uint16_t port;
    const char *method, *path;
    char **bodies; /* NULL: no body; else body_count bodies, sent in turn */
    size_t body_count;
    /* Makes the body of request k of client t (malloc'd; for writes that need fresh ids); NULL: use bodies. */
    char *(*make_body)(const struct http_work *work, unsigned client, size_t k);
    const config *cfg;
    double deadline;
} http_work;

/* One load thread: its work (an http_work or a c_work), its number, and what it measured. */
typedef struct bench_client {
    const void *work;
    unsigned index;
    sampler s;
} bench_client;

static int connect_loopback(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval limit = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one answer into buf (grown as needed); returns its status, or 0 if the connection failed. */
static unsigned read_status(int fd, char **buf, size_t *cap) {
    size_t len = 0;
    char *head_end = NULL;
    for (;;) {
        if (len + 1 >= *cap) {
            char *grown = realloc(*buf, *cap * 2);
            if (!grown) return 0;
            *buf = grown;
            *cap *= 2;
        }
        ssize_t n = recv(fd, *buf + len, *cap - 1 - len, 0);
        if (n <= 0) return 0;
        len += (size_t)n;
        (*buf)[len] = '\0';
        if (!head_end && (head_end = strstr(*buf, "\r\n\r\n"))) {
            const char *length = strcasestr(*buf, "\r\nContent-Length:");
            if (!length || length > head_end) return 0;
            size_t total = (size_t)(head_end + 4 - *buf) + strtoull(length + 17, NULL, 10);
            while (*cap <= total) {
                size_t offset = (size_t)(head_end - *buf);
                char *grown = realloc(*buf, *cap * 2);
                if (!grown) return 0;
                *buf = grown;
                *cap *= 2;
                head_end = *buf + offset;
            }
            while (len < total) {
                n = recv(fd, *buf + len, total - len, 0);
                if (n <= 0) return 0;
                len += (size_t)n;
            }
            unsigned status = 0;
            return sscanf(*buf, "HTTP/1.%*d %u", &status) == 1 ? status : 0;
        }
    }
}

static void *http_client_run(void *arg) {
    bench_client *c = arg;
    const http_work *w = c->work;
    size_t cap = 1 << 16, req_cap = 1 << 16;
    char *buf = malloc(cap), *request = malloc(req_cap);
    if (!buf || !request) die("out of memory", NULL);
    int fd = connect_loopback(w->port);
    for (size_t k = 0; fd >= 0 && now_seconds() < w->deadline; k++) {
        char *made = w->make_body ? w->make_body(w, c->index, k) : NULL;
        const char *body = made ? made : w->bodies ? w->bodies[(c->index * 7919 + k) % w->body_count] : NULL;
        size_t body_len = body ? strlen(body) : 0;
        if (body_len + 256 > req_cap) {
            req_cap = body_len + 256;
            if (!(request = realloc(request, req_cap))) die("out of memory", NULL);
        }
        int n = body ? snprintf(request, req_cap,
                                "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                "Content-Length: %zu\r\n\r\n",
                                w->method, w->path, body_len)
                     : snprintf(request, req_cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", w->method, w->path);
        if (body) memcpy(request + n, body, body_len);
        size_t total = (size_t)n + body_len, sent = 0;
        double start = now_seconds();
        while (sent < total) {
            ssize_t m = send(fd, request + sent, total - sent, MSG_NOSIGNAL);
            if (m <= 0) break;
            sent += (size_t)m;
        }
        unsigned status = sent == total ? read_status(fd, &buf, &cap) : 0;
        free(made);
        if (status == 200) {
            sample(&c->s, (now_seconds() - start) * 1e6);
        } else {
            c->s.failures++;
            if (status == 0) {
                close(fd);
                fd = connect_loopback(w->port);
            }
        }
    }
    if (fd >= 0) close(fd);
    free(buf);
    free(request);
    return NULL;
}

/* Runs clients threads of run over work until *deadline (set here, seconds from now), and sums up what they
 * measured. */
static figure run_clients(const void *work, unsigned clients, double seconds, double *deadline,
                          void *(*run)(void *)) {
    bench_client states[64];
    pthread_t threads[64];
    double start = now_seconds();
    *deadline = start + seconds;
    for (unsigned t = 0; t < clients; t++) {
        states[t] = (bench_client){.work = work, .index = t};
        if (!(states[t].s.latencies_us = malloc(LATENCIES_MAX * sizeof(double)))) die("out of memory", NULL);
        if (pthread_create(&threads[t], NULL, run, &states[t]) != 0) die("pthread_create", NULL);
    }
    sampler samplers[64];
    for (unsigned t = 0; t < clients; t++) {
        pthread_join(threads[t], NULL);
        samplers[t] = states[t].s;
    }
    figure f = summarize(samplers, clients, now_seconds() - start);
    for (unsigned t = 0; t < clients; t++) free(samplers[t].latencies_us);
    return f;
}

static figure run_http(http_work *work) {
    return run_clients(work, work->cfg->clients, work->cfg->seconds, &work->deadline, http_client_run);
}

/* ---- the same work through the C API -------------------------------------------------------------------------- */

typedef struct c_work {
    eg_vectors *vectors;
    const config *cfg;
    const float *queries; /* QUERY_VECTORS × dim */
    bool upsert;
    uint64_t first_id; /* upserts: client t writes ids from first_id + t × IDS_PER_CLIENT */
    double deadline;
} c_work;

static void *c_client_run(void *arg) {
    bench_client *c = arg;
    const c_work *w = c->work;
    size_t dim = w->cfg->dim, batch = w->cfg->batch;
    eg_point *points = calloc(batch, sizeof *points);
    float *values = malloc(batch * dim * sizeof *values);
    if (!points || !values) die("out of memory", NULL);
    uint64_t next_id = w->first_id + c->index * IDS_PER_CLIENT, random_state = next_id | 1;
    for (size_t k = 0; now_seconds() < w->deadline; k++) {
        eg_error err;
        eg_status st;
        double start;
        if (w->upsert) {
            for (size_t i = 0; i < batch; i++) {
                random_vector(&random_state, values + i * dim, dim);
                points[i] = (eg_point){.id = eg_point_id_num(next_id++), .vector = values + i * dim, .dim = dim};
            }
            start = now_seconds();
            st = eg_vectors_upsert(w->vectors, COLLECTION, points, batch, &err);
        } else {
            eg_search_request request = {.vector = w->queries + ((c->index * 7919 + k) % QUERY_VECTORS) * dim,
                                         .dim = dim,
                                         .limit = 10};
            eg_scored_list found;
            start = now_seconds();
            st = eg_vectors_search(w->vectors, COLLECTION, &request, &found, &err);
            if (st == EG_OK) eg_scored_list_free(&found);
        }
        if (st == EG_OK) sample(&c->s, (now_seconds() - start) * 1e6);
        else c->s.failures++;
    }
    free(points);
    free(values);
    return NULL;
}

static figure run_c(c_work *work) {
    return run_clients(work, work->cfg->clients, work->cfg->seconds, &work->deadline, c_client_run);
}

/* ---- request bodies ---------------------------------------------------------------------------------------------- */

/* Does this build have a route for method on path (a concrete path: a {capture} of a pattern matches any one
 * segment)? */
static bool has_route(const char *method, const char *path) {
    const eg_route *const tables[] = {eg_qdrant_service_routes, eg_qdrant_collection_routes, eg_qdrant_point_routes,
                                      eg_qdrant_query_routes, eg_engram_routes};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const eg_route *r = tables[t]; r->method; r++) {
            if (strcmp(r->method, method) != 0) continue;
            const char *p = r->pattern, *q = path;
            while (*p && *q) {
                size_t p_len = strcspn(p, "/"), q_len = strcspn(q, "/");
                if (!(*p == '{' && q_len > 0) && (p_len != q_len || memcmp(p, q, p_len) != 0)) break;
                p += p_len, q += q_len;
                if (*p != *q) break;
                if (*p) p++, q++;
            }
            if (!*p && !*q) return true;
        }
    }
    return false;
}

static json_t *vector_json(const float *v, size_t dim) {
    json_t *array = json_array();
    for (size_t i = 0; i < dim; i++) json_array_append_new(array, json_real(v[i]));
    return array;
}

static char *dump_or_die(json_t *value) {
    char *text = json_dumps(value, JSON_COMPACT);
    json_decref(value);
    if (!text) die("out of memory", NULL);
    return text;
}

/* Upsert bodies are made per request, with ids no other request uses: client t, request k writes ids from
 * first_id + t × IDS_PER_CLIENT + k × batch. */
static uint64_t http_upsert_first_id;
static bool http_upsert_via_exec;

static char *make_upsert_body(const http_work *work, unsigned client, size_t k) {
    size_t dim = work->cfg->dim, batch = work->cfg->batch;
    uint64_t id = http_upsert_first_id + client * IDS_PER_CLIENT + k * batch;
    json_t *points = json_array();
    float *v = malloc(dim * sizeof *v);
    if (!v) die("out of memory", NULL);
    uint64_t random_state = id | 1;
    for (size_t i = 0; i < batch; i++) {
        random_vector(&random_state, v, dim);
        json_array_append_new(points, json_pack("{s:I, s:o}", "id", (json_int_t)(id + i), "vector", vector_json(v, dim)));
    }
    free(v);
    json_t *body = http_upsert_via_exec
                       ? json_pack("{s:s, s:s, s:o}", "op", "upsert", "collection", COLLECTION, "points", points)
                       : json_pack("{s:o}", "points", points);
    return dump_or_die(body);
}

/* ---- main ------------------------------------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void parse_args(int argc, char **argv, config *cfg) {
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) die("a value is missing after", name);
        char *end;
        unsigned long long number = strtoull(value, &end, 10);
        bool numeric = *value && !*end;
        i++;
        if (strcmp(name, "--points") == 0 && numeric && number >= 100) cfg->points = number;
        else if (strcmp(name, "--dim") == 0 && numeric && number >= 1 && number <= 4096) cfg->dim = number;
        else if (strcmp(name, "--clients") == 0 && numeric && number >= 1 && number <= 64) cfg->clients = (unsigned)number;
        else if (strcmp(name, "--seconds") == 0 && numeric && number >= 1 && number <= 600) cfg->seconds = (unsigned)number;
        else if (strcmp(name, "--batch") == 0 && numeric && number >= 1 && number <= 10000) cfg->batch = number;
        else if (strcmp(name, "--server-threads") == 0 && numeric && number <= 256) cfg->server_threads = (unsigned)number;
        else if (strcmp(name, "--durability") == 0) {
            eg_error err;
            if (eg_durability_parse(value, &cfg->durability, &err) != EG_OK) die("--durability", err.message);
        } else {
            fprintf(stderr, "usage: serve_bench [--points N>=100] [--dim 1..4096] [--clients 1..64] [--seconds 1..600] "
                            "[--batch 1..10000] [--server-threads N] [--durability none|group|fsync]\n");
            exit(2);
        }
    }
}

int main(int argc, char **argv) {
    config cfg = {.points = 10000, .dim = 128, .batch = 100, .clients = 4, .seconds = 3,
                  .durability = EG_DURABILITY_NONE};
    parse_args(argc, argv, &cfg);
    signal(SIGPIPE, SIG_IGN);

    char scratch[] = "/tmp/engram-serve-bench-XXXXXX";
    if (!mkdtemp(scratch)) die("mkdtemp", NULL);
    char data[sizeof scratch + 8];
    snprintf(data, sizeof data, "%s/data", scratch);
    eg_options options = {.durability = cfg.durability};
    eg_db *db;
    eg_error err;
    if (eg_open(data, &options, &db, &err) != EG_OK) die("eg_open", err.message);
    eg_vectors *vectors = eg_db_vectors(db);
    eg_collection_config collection = {.dim = (uint32_t)cfg.dim, .distance = EG_DISTANCE_COSINE};
    if (eg_vectors_create_collection(vectors, COLLECTION, &collection, &err) != EG_OK)
        die("create_collection", err.message);

    /* The collection: POINTS random vectors, loaded through the C API. */
    double load_start = now_seconds();
    uint64_t random_state = 0x9e3779b97f4a7c15ull;
    enum { LOAD_BATCH = 1000 };
    eg_point *points = calloc(LOAD_BATCH, sizeof *points);
    float *values = malloc(LOAD_BATCH * cfg.dim * sizeof *values);
    if (!points || !values) die("out of memory", NULL);
    for (size_t first = 0; first < cfg.points; first += LOAD_BATCH) {
        size_t n = cfg.points - first < LOAD_BATCH ? cfg.points - first : LOAD_BATCH;
        for (size_t i = 0; i < n; i++) {
            random_vector(&random_state, values + i * cfg.dim, cfg.dim);
            points[i] = (eg_point){.id = eg_point_id_num(first + i), .vector = values + i * cfg.dim, .dim = cfg.dim};
        }
        if (eg_vectors_upsert(vectors, COLLECTION, points, n, &err) != EG_OK) die("upsert", err.message);
    }
    free(points);
    free(values);
    float *queries = malloc(QUERY_VECTORS * cfg.dim * sizeof *queries);
    if (!queries) die("out of memory", NULL);
    for (size_t q = 0; q < QUERY_VECTORS; q++) random_vector(&random_state, queries + q * cfg.dim, cfg.dim);

    /* One search first: from full_scan_threshold points on, the first search builds the collection's index
     * (docs/ann.md), which would otherwise land in whichever figure runs first. */
    double index_start = now_seconds();
    eg_search_request warm_up = {.vector = queries, .dim = cfg.dim, .limit = 10};
    eg_scored_list found;
    if (eg_vectors_search(vectors, COLLECTION, &warm_up, &found, &err) != EG_OK) die("search", err.message);
    eg_scored_list_free(&found);
    double index_s = now_seconds() - index_start;

    eg_server_options server_options = {.http = "127.0.0.1:0", .threads = cfg.server_threads};
    eg_server *server;
    if (eg_server_start(db, &server_options, &server, &err) != EG_OK) die("eg_server_start", err.message);
    uint16_t port = eg_server_port(server);
    /* server_threads=0: the serve.threads setting. */
    printf("serve-bench points=%zu dim=%zu clients=%u seconds=%u batch=%zu server_threads=%u durability=%s "
           "load_s=%.1f first_search_s=%.1f cores=%ld\n",
           cfg.points, cfg.dim, cfg.clients, cfg.seconds, cfg.batch, cfg.server_threads,
           eg_durability_name(cfg.durability), index_start - load_start, index_s, sysconf(_SC_NPROCESSORS_ONLN));

    /* The transport floor. */
    http_work root = {.port = port, .method = "GET", .path = "/", .cfg = &cfg};
    figure f = run_http(&root);
    print_figure("transport", "http", "GET /", &f);

    /* Query. */
    bool qdrant_query = has_route("POST", "/collections/" COLLECTION "/points/query");
    bool exec = has_route("POST", "/v1/exec");
    if (qdrant_query || exec) {
        char **bodies = malloc(QUERY_VECTORS * sizeof *bodies);
        if (!bodies) die("out of memory", NULL);
        for (size_t q = 0; q < QUERY_VECTORS; q++) {
            json_t *v = vector_json(queries + q * cfg.dim, cfg.dim);
            bodies[q] = dump_or_die(qdrant_query ? json_pack("{s:o, s:i}", "query", v, "limit", 10)
                                                 : json_pack("{s:s, s:s, s:o, s:i}", "op", "search", "collection",
                                                             COLLECTION, "vector", v, "limit", 10));
        }
        http_work query = {.port = port, .method = "POST",
                           .path = qdrant_query ? "/collections/" COLLECTION "/points/query" : "/v1/exec",
                           .bodies = bodies, .body_count = QUERY_VECTORS, .cfg = &cfg};
        figure http = run_http(&query);
        print_figure("query", "http", qdrant_query ? "POST /collections/{c}/points/query" : "POST /v1/exec search",
                     &http);
        c_work c_query = {.vectors = vectors, .cfg = &cfg, .queries = queries};
        figure c = run_c(&c_query);
        print_figure("query", "c-api", "eg_vectors_search", &c);
        print_overhead("query", &http, &c);
        for (size_t q = 0; q < QUERY_VECTORS; q++) free(bodies[q]);
        free(bodies);
    } else {
        printf("serve-bench figure=query skipped: this build has neither POST /collections/{c}/points/query nor "
               "POST /v1/exec\n");
    }

    /* Upsert: new ids every batch, the HTTP clients' above the C API's. */
    bool qdrant_upsert = has_route("PUT", "/collections/" COLLECTION "/points");
    if (qdrant_upsert || exec) {
        http_upsert_via_exec = !qdrant_upsert;
        http_upsert_first_id = 1ull << 40;
        http_work upsert = {.port = port, .method = qdrant_upsert ? "PUT" : "POST",
                            .path = qdrant_upsert ? "/collections/" COLLECTION "/points?wait=true" : "/v1/exec",
                            .make_body = make_upsert_body, .cfg = &cfg};
        figure http = run_http(&upsert);
        print_figure("upsert", "http", qdrant_upsert ? "PUT /collections/{c}/points?wait=true" : "POST /v1/exec upsert",
                     &http);
        c_work c_upsert = {.vectors = vectors, .cfg = &cfg, .upsert = true, .first_id = 1ull << 50};
        figure c = run_c(&c_upsert);
        print_figure("upsert", "c-api", "eg_vectors_upsert", &c);
        print_overhead("upsert", &http, &c);
    } else {
        printf("serve-bench figure=upsert skipped: this build has neither PUT /collections/{c}/points nor "
               "POST /v1/exec\n");
    }

    eg_server_stop(server, 5000);
    free(queries);
    eg_close(db);
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
