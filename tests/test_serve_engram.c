/* test_serve_engram.c — engram's own HTTP API over a real server on a loopback port: POST /v1/exec (one op, an
 * array, and every refusal), each memory resource route with its HTTP codes, GET /metrics parsed as Prometheus
 * text, the API key on /v1 and /metrics but not on the probes, many clients at once, and the metrics table's
 * bounds. Every refused request is shown to leave both stores as they were.
 *
 * Requests go through a small blocking HTTP/1.1 client written here (one connection per request, "Connection:
 * close"), so that the test depends on nothing but the server it tests. */
#define _GNU_SOURCE /* strcasestr */
#include "serve/serve_internal.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static eg_db *db;
static eg_server *server;
static uint16_t port;

/* ---- A tiny HTTP client ------------------------------------------------------------------------------------- */

typedef struct http_answer {
    int status;          /* 0: no answer */
    char *content_type;  /* malloc'd, or NULL */
    char *body;          /* malloc'd, NUL-terminated */
    json_t *json;        /* the body parsed, or NULL */
} http_answer;

static void answer_free(http_answer *a) {
    free(a->content_type);
    free(a->body);
    json_decref(a->json);
    memset(a, 0, sizeof *a);
}

static bool send_all(int fd, const char *bytes, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, bytes, len, MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes += n;
        len -= (size_t)n;
    }
    return true;
}

/* One request on a new connection. header is one extra header line without its CRLF, or NULL. */
static http_answer http_on(uint16_t to_port, const char *method, const char *path, const char *header,
                           const char *body) {
    http_answer a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(to_port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval timeout = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0) close(fd);
        return a;
    }
    size_t body_len = body ? strlen(body) : 0;
    char head[1024];
    int head_len = snprintf(head, sizeof head,
                            "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: %zu\r\n%s%s\r\n",
                            method, path, body_len, header ? header : "", header ? "\r\n" : "");
    bool sent = send_all(fd, head, (size_t)head_len) && (!body || send_all(fd, body, body_len));
    size_t len = 0, cap = 65536;
    char *raw = malloc(cap);
    ssize_t n;
    while (sent && raw && (n = recv(fd, raw + len, cap - len - 1, 0)) > 0) {
        len += (size_t)n;
        if (cap - len < 4096) raw = realloc(raw, cap *= 2);
    }
    close(fd);
    if (!raw) return a;
    raw[len] = '\0';
    char *end_of_head = strstr(raw, "\r\n\r\n");
    if (end_of_head && sscanf(raw, "HTTP/1.%*d %d", &a.status) == 1) {
        *end_of_head = '\0';
        const char *ct = strcasestr(raw, "\r\nContent-Type: ");
        if (ct) a.content_type = strndup(ct + 16, strcspn(ct + 16, "\r"));
        a.body = strdup(end_of_head + 4);
        a.json = json_loads(a.body, JSON_DECODE_ANY, NULL);
    }
    free(raw);
    return a;
}

static http_answer http(const char *method, const char *path, const char *body) {
    return http_on(port, method, path, NULL, body);
}

/* The error code of an exec-shaped answer, or "ok". */
static const char *code_of(const http_answer *a) {
    return a->json ? test_response_code(a->json) : "(no JSON)";
}

/* A request that must be refused with status and code, changing nothing. */
static void check_refused(const char *method, const char *path, const char *body, int status, const char *code) {
    char *before = test_memory_snapshot(db);
    http_answer a = http(method, path, body);
    if (a.status != status || strcmp(code_of(&a), code) != 0)
        fprintf(stderr, "  %s %s %.80s -> %d %s, expected %d %s\n", method, path, body ? body : "", a.status,
                a.body ? a.body : "", status, code);
    CHECK(a.status == status);
    CHECK(strcmp(code_of(&a), code) == 0);
    const char *message = json_string_value(json_object_get(json_object_get(a.json, "error"), "message"));
    CHECK(message && *message);
    char *after = test_memory_snapshot(db);
    CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    answer_free(&a);
}

/* ---- POST /v1/exec ------------------------------------------------------------------------------------------ */

TEST(exec_one_operation_answers_what_exec_answers) {
    http_answer a = http("POST", "/v1/exec", "{\"op\":\"create_entity\",\"id\":1,\"text\":\"Alice writes the log\"}");
    CHECK(a.status == 200);
    CHECK(a.content_type && strcmp(a.content_type, "application/json") == 0);
    CHECK(strcmp(code_of(&a), "ok") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(a.json, "result"), "id")), "1") == 0);
    answer_free(&a);
    /* The same bytes as eg_exec_json, byte for byte. */
    const char *line = "{\"op\":\"get_node\",\"id\":\"1\"}";
    char *local = eg_exec_json(db, line, strlen(line));
    a = http("POST", "/v1/exec", line);
    CHECK(a.status == 200 && local && a.body && strcmp(a.body, local) == 0);
    free(local);
    answer_free(&a);
    /* An operation that fails is still a well-formed request: 200, the result says why. */
    a = http("POST", "/v1/exec", "{\"op\":\"get_node\",\"id\":\"missing\"}");
    CHECK(a.status == 200);
    CHECK(strcmp(code_of(&a), "not_found") == 0);
    answer_free(&a);
}

TEST(exec_array_answers_an_array_in_order) {
    http_answer a = http("POST", "/v1/exec",
                         "[{\"op\":\"create_entity\",\"id\":2,\"text\":\"Bob\"},{\"op\":\"no_such_op\"},"
                         "[\"not an object\"],{\"op\":\"get_node\",\"id\":\"2\"}]");
    CHECK(a.status == 200);
    REQUIRE(json_is_array(a.json) && json_array_size(a.json) == 4);
    CHECK(strcmp(test_response_code(json_array_get(a.json, 0)), "ok") == 0);
    CHECK(strcmp(test_response_code(json_array_get(a.json, 1)), "invalid_argument") == 0);
    CHECK(strcmp(test_response_code(json_array_get(a.json, 2)), "invalid_argument") == 0);
    CHECK(strcmp(test_response_code(json_array_get(a.json, 3)), "ok") == 0);
    answer_free(&a);
    a = http("POST", "/v1/exec", "[]");
    CHECK(a.status == 200 && json_is_array(a.json) && json_array_size(a.json) == 0);
    answer_free(&a);
}

TEST(exec_refuses_bad_bodies_and_changes_nothing) {
    check_refused("POST", "/v1/exec", "{\"op\":\"create_entity\",\"id\":3,", 400, "invalid_argument");
    check_refused("POST", "/v1/exec", "", 400, "invalid_argument");
    check_refused("POST", "/v1/exec", "42", 400, "invalid_argument");
    check_refused("POST", "/v1/exec", "{\"op\":\"create_entity\",\"op\":\"stats\",\"id\":3,\"text\":\"x\"}", 400,
                  "invalid_argument");
    /* Nested one level past the bound, inside a create that would otherwise succeed. */
    char deep[512] = "{\"op\":\"create_entity\",\"id\":3,\"text\":\"x\",\"properties\":{\"p\":";
    for (int i = 0; i < EG_SERVE_JSON_DEPTH_MAX; i++) strcat(deep, "[");
    for (int i = 0; i < EG_SERVE_JSON_DEPTH_MAX; i++) strcat(deep, "]");
    strcat(deep, "}}");
    check_refused("POST", "/v1/exec", deep, 400, "invalid_argument");
    /* 1001 creates: refused as a whole, none run. */
    size_t cap = 1001 * 64 + 16, len = 0;
    char *many = malloc(cap);
    REQUIRE(many);
    len += (size_t)snprintf(many + len, cap - len, "[");
    for (int i = 0; i < 1001; i++)
        len += (size_t)snprintf(many + len, cap - len, "%s{\"op\":\"create_entity\",\"id\":%d,\"text\":\"n\"}",
                                i ? "," : "", 100000 + i);
    snprintf(many + len, cap - len, "]");
    check_refused("POST", "/v1/exec", many, 400, "invalid_argument");
    free(many);
}

/* ---- The memory routes -------------------------------------------------------------------------------------- */

TEST(memory_routes_create_get_update_delete) {
    http_answer a = http("POST", "/v1/memories",
                         "{\"type\":\"episode\",\"id\":10,\"text\":\"Alice fixed the WAL\",\"session_id\":\"s1\","
                         "\"relationships\":[{\"target_id\":\"1\",\"type\":\"RELATES_TO\"}]}");
    CHECK(a.status == 200 && strcmp(code_of(&a), "ok") == 0);
    answer_free(&a);
    CHECK(test_has_point(db, "episodes", "10") && test_has_node(db, "10"));

    a = http("GET", "/v1/memories/10", NULL);
    CHECK(a.status == 200);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(a.json, "result"), "label")), "Episode") == 0);
    answer_free(&a);
    a = http("GET", "/v1/memories/10?type=episode", NULL);
    CHECK(a.status == 200);
    answer_free(&a);
    a = http("GET", "/v1/memories/010", NULL); /* any spelling of the id, as the memory operations take it */
    CHECK(a.status == 200);
    answer_free(&a);
    a = http("GET", "/v1/memories/10?type=entity", NULL); /* a node of that id, but not an entity */
    CHECK(a.status == 404 && strcmp(code_of(&a), "not_found") == 0);
    answer_free(&a);

    a = http("PATCH", "/v1/memories/10", "{\"type\":\"episode\",\"properties\":{\"mood\":\"glad\"}}");
    CHECK(a.status == 200 && strcmp(code_of(&a), "ok") == 0);
    answer_free(&a);
    a = http("GET", "/v1/memories/10", NULL);
    json_t *props = json_object_get(json_object_get(a.json, "result"), "properties");
    CHECK(json_is_string(json_object_get(props, "mood")) &&
          strcmp(json_string_value(json_object_get(props, "mood")), "glad") == 0);
    answer_free(&a);

    a = http("POST", "/v1/recall", "{\"type\":\"episode\",\"text\":\"WAL\",\"expand\":1}");
    CHECK(a.status == 200);
    json_t *memories = json_object_get(json_object_get(a.json, "result"), "memories");
    CHECK(json_array_size(memories) == 1);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(memories, 0), "id")), "10") == 0);
    answer_free(&a);

    a = http("DELETE", "/v1/memories/10?type=episode", NULL);
    CHECK(a.status == 200 && strcmp(code_of(&a), "ok") == 0);
    answer_free(&a);
    CHECK(!test_has_point(db, "episodes", "10") && !test_has_node(db, "10"));
    a = http("GET", "/v1/memories/10", NULL);
    CHECK(a.status == 404);
    answer_free(&a);
    check_refused("DELETE", "/v1/memories/10?type=episode", NULL, 404, "not_found");
    check_refused("PATCH", "/v1/memories/10", "{\"type\":\"episode\",\"payload\":{\"a\":1}}", 404, "not_found");
}

TEST(memory_routes_batch_check_and_admin) {
    http_answer a = http("POST", "/v1/memories/batch",
                         "{\"memories\":[{\"type\":\"entity\",\"id\":20,\"text\":\"Carol\"},"
                         "{\"type\":\"episode\",\"id\":21,\"text\":\"Carol met Bob\","
                         "\"relationships\":[{\"target_id\":\"20\",\"type\":\"RELATES_TO\"}]}]}");
    CHECK(a.status == 200);
    CHECK(json_array_size(json_object_get(json_object_get(a.json, "result"), "ids")) == 2);
    answer_free(&a);
    a = http("POST", "/v1/check", NULL);
    CHECK(a.status == 200 && json_is_true(json_object_get(json_object_get(a.json, "result"), "consistent")));
    answer_free(&a);
    a = http("POST", "/v1/check", "{\"repair\":true}");
    CHECK(a.status == 200);
    answer_free(&a);
    const char *reads[] = {"/v1/health", "/v1/config", "/v1/stats"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        a = http("GET", reads[i], NULL);
        CHECK(a.status == 200 && strcmp(code_of(&a), "ok") == 0);
        answer_free(&a);
    }
    /* The same create twice is fine; other content under the id is a conflict. */
    a = http("POST", "/v1/memories", "{\"type\":\"entity\",\"id\":20,\"text\":\"Carol\"}");
    CHECK(a.status == 200);
    answer_free(&a);
    check_refused("POST", "/v1/memories", "{\"type\":\"entity\",\"id\":20,\"text\":\"Dave\"}", 409, "conflict");
}

TEST(archive_routes) {
    http_answer a = http("POST", "/v1/memories/21/archive?type=episode", NULL);
    CHECK(a.status == 200 && strcmp(code_of(&a), "ok") == 0);
    answer_free(&a);
    CHECK(!test_has_node(db, "21"));
    a = http("GET", "/v1/archive?type=episode&limit=10", NULL);
    CHECK(a.status == 200);
    CHECK(json_array_size(json_object_get(json_object_get(a.json, "result"), "entries")) == 1);
    answer_free(&a);
    a = http("GET", "/v1/archive/21", NULL);
    CHECK(a.status == 200 && json_object_get(json_object_get(a.json, "result"), "record"));
    answer_free(&a);
    a = http("POST", "/v1/archive/verify", NULL);
    CHECK(a.status == 200 && json_integer_value(json_object_get(json_object_get(a.json, "result"), "ok")) == 1);
    answer_free(&a);
    a = http("POST", "/v1/archive/21/restore", NULL);
    CHECK(a.status == 200);
    answer_free(&a);
    CHECK(test_has_node(db, "21") && test_has_point(db, "episodes", "21"));
    check_refused("GET", "/v1/archive/21", NULL, 404, "not_found");
    check_refused("DELETE", "/v1/archive/21", NULL, 404, "not_found");
    a = http("POST", "/v1/archive/run", "{\"type\":\"episode\",\"days\":36500}");
    CHECK(a.status == 200);
    CHECK(json_integer_value(json_object_get(json_object_get(a.json, "result"), "archived")) == 0);
    answer_free(&a);
    a = http("POST", "/v1/archive/cleanup", "{\"retention_days\":3650}");
    CHECK(a.status == 200);
    answer_free(&a);
}

TEST(resource_routes_refuse_bad_requests_and_change_nothing) {
    check_refused("POST", "/v1/memories", "{\"id\":30,\"text\":\"no type\"}", 400, "invalid_argument");
    check_refused("POST", "/v1/memories", "{\"type\":\"feeling\",\"id\":30,\"text\":\"x\"}", 400, "invalid_argument");
    check_refused("POST", "/v1/memories", "{\"type\":\"entity\",\"op\":\"stats\",\"id\":30,\"text\":\"x\"}", 400,
                  "invalid_argument");
    check_refused("POST", "/v1/memories", "{\"type\":\"entity\",\"id\":30,\"text\":\"x\",\"colour\":1}", 400,
                  "invalid_argument");
    check_refused("POST", "/v1/memories", "[{\"type\":\"entity\",\"id\":30,\"text\":\"x\"}]", 400, "invalid_argument");
    check_refused("POST", "/v1/memories", "{\"type\":\"entity\",", 400, "invalid_argument");
    check_refused("POST", "/v1/memories", "{\"type\":\"entity\",\"id\":30,\"text\":\"x\",\"relationships\":"
                                          "[{\"target_id\":\"nobody\",\"type\":\"RELATES_TO\"}]}",
                  404, "not_found");
    check_refused("PATCH", "/v1/memories/20", "{\"id\":\"21\",\"type\":\"entity\",\"payload\":{\"a\":1}}", 400,
                  "invalid_argument");
    check_refused("PATCH", "/v1/memories/20?type=entity", "{\"type\":\"entity\",\"payload\":{\"a\":1}}", 400,
                  "invalid_argument");
    check_refused("DELETE", "/v1/memories/20?type=entity&force=true", NULL, 400, "invalid_argument");
    check_refused("DELETE", "/v1/memories/20?type=entity&type=episode", NULL, 400, "invalid_argument");
    check_refused("DELETE", "/v1/memories/20", NULL, 400, "invalid_argument"); /* no type */
    check_refused("GET", "/v1/memories/20?type=mood", NULL, 400, "invalid_argument");
    check_refused("GET", "/v1/memories/not-a-memory-id", NULL, 400, "invalid_argument");
    check_refused("GET", "/v1/memories/20", "{\"type\":\"entity\"}", 400, "invalid_argument");
    check_refused("GET", "/v1/archive?limit=ten", NULL, 400, "invalid_argument");
    check_refused("GET", "/v1/archive?limit=0", NULL, 400, "invalid_argument");
    check_refused("POST", "/v1/recall", "{\"type\":\"episode\"}", 400, "invalid_argument");
    check_refused("POST", "/v1/archive/run", "{\"type\":\"episode\",\"days\":-1}", 400, "invalid_argument");
}

/* ---- GET /metrics ------------------------------------------------------------------------------------------- */

/* Checks that every line is a comment (# HELP / # TYPE) or a sample `name{label="value",...} number`, as the text
 * format 0.0.4 has them; returns the number of samples, or -1 at the first bad line (printed). */
static int prometheus_samples(const char *text) {
    int samples = 0;
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        char *copy = strndup(line, len);
        const char *p = copy;
        bool ok;
        if (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0) {
            ok = true;
        } else {
            size_t name = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789");
            ok = name > 0 && !(p[0] >= '0' && p[0] <= '9');
            p += name;
            if (ok && *p == '{') {
                p++;
                while (ok && *p != '}') {
                    size_t label = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
                    ok = label > 0 && p[label] == '=' && p[label + 1] == '"';
                    p += label + 2;
                    while (ok && *p != '"') {
                        if (!*p) ok = false;
                        else p += *p == '\\' ? 2 : 1;
                    }
                    if (ok) p++;
                    if (ok && *p == ',') p++;
                    else ok = ok && *p == '}';
                }
                if (ok) p++;
            }
            char *end;
            ok = ok && *p == ' ' && (strtod(p + 1, &end), end != p + 1 && *end == '\0');
            samples++;
        }
        if (!ok) {
            fprintf(stderr, "  not a Prometheus line: %s\n", copy);
            free(copy);
            return -1;
        }
        free(copy);
        line += len + (line[len] == '\n');
    }
    return samples;
}

/* The value of the sample whose name and labels are exactly `series`, or -1. */
static double sample(const char *text, const char *series) {
    size_t n = strlen(series);
    for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n'))
        if (strncmp(line, series, n) == 0 && line[n] == ' ') return strtod(line + n + 1, NULL);
    return -1;
}

TEST(metrics_count_requests_and_show_the_engine) {
    for (int i = 0; i < 3; i++) {
        http_answer a = http("GET", "/v1/memories/999999", NULL);
        answer_free(&a);
    }
    http_answer a = http("GET", "/metrics", NULL);
    CHECK(a.status == 200);
    CHECK(a.content_type && strncmp(a.content_type, "text/plain; version=0.0.4", 25) == 0);
    REQUIRE(a.body);
    CHECK(prometheus_samples(a.body) > 20);
    const char *not_found = "engram_http_requests_total{route=\"/v1/memories/{id}\",method=\"GET\",status=\"404\"}";
    CHECK(sample(a.body, not_found) >= 3);
    CHECK(sample(a.body, "engram_http_request_duration_seconds_bucket{route=\"/v1/memories/{id}\",method=\"GET\","
                         "status=\"404\",le=\"+Inf\"}") == sample(a.body, not_found));
    CHECK(sample(a.body, "engram_http_request_duration_seconds_count{route=\"/v1/memories/{id}\",method=\"GET\","
                         "status=\"404\"}") == sample(a.body, not_found));
    CHECK(sample(a.body, "engram_http_requests_total{route=\"/v1/exec\",method=\"POST\",status=\"400\"}") >= 1);
    CHECK(sample(a.body, "engram_health_status{status=\"ok\"}") == 1);
    CHECK(sample(a.body, "engram_breaker_state{store=\"graph\",state=\"closed\"}") == 1);
    CHECK(sample(a.body, "engram_breaker_state{store=\"vectors\",state=\"open\"}") == 0);
    CHECK(sample(a.body, "engram_write_queue_depth{store=\"graph\"}") == 0);
    CHECK(sample(a.body, "engram_sagas_total{outcome=\"committed\"}") >= 5);
    CHECK(sample(a.body, "engram_wal_appends_total") > 0);
    CHECK(sample(a.body, "engram_wal_syncs_total") >= 0);
    /* Entities 1, 2 and 20 remain, and episode 21 (restored). */
    CHECK(sample(a.body, "engram_memories{type=\"entity\"}") == 3);
    CHECK(sample(a.body, "engram_memories{type=\"episode\"}") == 1);
    CHECK(sample(a.body, "engram_memories{type=\"procedure\"}") == 0);
    answer_free(&a);
    a = http("GET", "/metrics?format=json", NULL);
    CHECK(a.status == 400);
    answer_free(&a);
}

TEST(metrics_table_is_bounded_and_escapes_labels) {
    eg_serve_metrics *m;
    eg_error err;
    CHECK_OK(eg_serve_metrics_new(&m, &err), &err);
    REQUIRE(m);
    eg_serve_metrics_observe(m, "/a\"b\\c\nd", "BREW", 200, 0.001);
    char route[32];
    for (int i = 0; i < 1100; i++) {
        snprintf(route, sizeof route, "/r%d", i);
        eg_serve_metrics_observe(m, route, "GET", 200, 0.002);
    }
    char *text = eg_serve_metrics_text(m, db);
    REQUIRE(text);
    CHECK(prometheus_samples(text) > 0);
    CHECK(sample(text, "engram_http_requests_total{route=\"/a\\\"b\\\\c\\nd\",method=\"other\",status=\"200\"}") == 1);
    CHECK(sample(text, "engram_http_requests_unlabelled_total") == 1100 + 1 - 1024);
    int series = 0;
    for (const char *p = text; (p = strstr(p, "\nengram_http_requests_total{")); p++) series++;
    CHECK(series == 1024);
    free(text);
    eg_serve_metrics_free(m);
}

#define OBSERVERS 8
#define OBSERVATIONS 5000

static void *observe_many(void *arg) {
    eg_serve_metrics *m = arg;
    for (int i = 0; i < OBSERVATIONS; i++)
        eg_serve_metrics_observe(m, i % 2 ? "/v1/exec" : "/v1/recall", "POST", i % 3 ? 200 : 404, 0.0001 * i);
    return NULL;
}

TEST(metrics_observed_from_many_threads_add_up) {
    eg_serve_metrics *m;
    eg_error err;
    CHECK_OK(eg_serve_metrics_new(&m, &err), &err);
    REQUIRE(m);
    pthread_t threads[OBSERVERS];
    for (int t = 0; t < OBSERVERS; t++) REQUIRE(pthread_create(&threads[t], NULL, observe_many, m) == 0);
    for (int scrape = 0; scrape < 5; scrape++) { /* scrapes while the observers run: each one well-formed */
        char *during = eg_serve_metrics_text(m, db);
        CHECK(during && prometheus_samples(during) > 0);
        free(during);
    }
    for (int t = 0; t < OBSERVERS; t++) pthread_join(threads[t], NULL);
    char *text = eg_serve_metrics_text(m, db);
    REQUIRE(text);
    double total = 0;
    const char *routes[] = {"/v1/exec", "/v1/recall"}, *statuses[] = {"200", "404"};
    for (int r = 0; r < 2; r++)
        for (int s = 0; s < 2; s++) {
            char series[160];
            snprintf(series, sizeof series, "engram_http_requests_total{route=\"%s\",method=\"POST\",status=\"%s\"}",
                     routes[r], statuses[s]);
            total += sample(text, series);
        }
    CHECK(total == OBSERVERS * OBSERVATIONS);
    free(text);
    eg_serve_metrics_free(m);
}

/* ---- The API key -------------------------------------------------------------------------------------------- */

TEST(api_key_guards_v1_and_metrics_but_not_the_probes) {
    eg_server *guarded;
    eg_error err;
    eg_server_options options = {.http = "127.0.0.1:0", .api_key = "s3cret"};
    CHECK_OK(eg_server_start(db, &options, &guarded, &err), &err);
    REQUIRE(guarded);
    uint16_t guarded_port = eg_server_port(guarded);
    const char *create = "{\"op\":\"create_entity\",\"id\":40,\"text\":\"Eve\"}";
    char *before = test_memory_snapshot(db);
    const char *refused[][2] = {{"POST", "/v1/exec"}, {"GET", "/v1/health"}, {"GET", "/metrics"},
                                {"POST", "/v1/memories"}};
    const char *bad_headers[] = {NULL, "api-key: wrong", "Authorization: Bearer s3cre", "api-key: s3cret2"};
    for (size_t r = 0; r < sizeof refused / sizeof refused[0]; r++)
        for (size_t h = 0; h < sizeof bad_headers / sizeof bad_headers[0]; h++) {
            http_answer a = http_on(guarded_port, refused[r][0], refused[r][1], bad_headers[h], create);
            CHECK(a.status == 401);
            answer_free(&a);
        }
    char *after = test_memory_snapshot(db);
    CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    http_answer a = http_on(guarded_port, "GET", "/healthz", NULL, NULL);
    CHECK(a.status == 200);
    answer_free(&a);
    a = http_on(guarded_port, "GET", "/metrics", "api-key: s3cret", NULL);
    CHECK(a.status == 200);
    answer_free(&a);
    a = http_on(guarded_port, "POST", "/v1/exec", "Authorization: Bearer s3cret", create);
    CHECK(a.status == 200 && strcmp(code_of(&a), "ok") == 0);
    answer_free(&a);
    CHECK(test_has_node(db, "40"));
    eg_server_stop(guarded, 5000);
}

/* ---- Many clients at once ----------------------------------------------------------------------------------- */

#define CLIENTS 6
#define WRITES_PER_CLIENT (24 / TEST_WORK_DIVISOR)

typedef struct client {
    int index;
    int failures;
} client;

static void *run_client(void *arg) {
    client *c = arg;
    for (int i = 0; i < WRITES_PER_CLIENT; i++) {
        char body[256];
        int id = 1000 + c->index * 100 + i;
        snprintf(body, sizeof body, "{\"type\":\"episode\",\"id\":%d,\"text\":\"client %d wrote %d\"}", id, c->index, i);
        http_answer a = http("POST", "/v1/memories", body);
        if (a.status != 200) c->failures++;
        answer_free(&a);
        a = http("POST", "/v1/exec", "[{\"op\":\"recall\",\"type\":\"episode\",\"text\":\"client wrote\",\"limit\":3},"
                                     "{\"op\":\"stats\"}]");
        if (a.status != 200 || json_array_size(a.json) != 2) c->failures++;
        answer_free(&a);
    }
    return NULL;
}

TEST(many_clients_at_once) {
    http_answer a = http("GET", "/metrics", NULL);
    double created_before =
        sample(a.body ? a.body : "", "engram_http_requests_total{route=\"/v1/memories\",method=\"POST\",status=\"200\"}");
    answer_free(&a);
    pthread_t threads[CLIENTS];
    client clients[CLIENTS];
    for (int t = 0; t < CLIENTS; t++) {
        clients[t] = (client){.index = t};
        REQUIRE(pthread_create(&threads[t], NULL, run_client, &clients[t]) == 0);
    }
    for (int t = 0; t < CLIENTS; t++) pthread_join(threads[t], NULL);
    for (int t = 0; t < CLIENTS; t++) CHECK(clients[t].failures == 0);
    for (int t = 0; t < CLIENTS; t++)
        for (int i = 0; i < WRITES_PER_CLIENT; i++) {
            char id[16];
            snprintf(id, sizeof id, "%d", 1000 + t * 100 + i);
            CHECK(test_has_point(db, "episodes", id) && test_has_node(db, id));
        }
    a = http("GET", "/metrics", NULL);
    double created_after =
        sample(a.body ? a.body : "", "engram_http_requests_total{route=\"/v1/memories\",method=\"POST\",status=\"200\"}");
    CHECK(created_after - (created_before < 0 ? 0 : created_before) == CLIENTS * WRITES_PER_CLIENT);
    answer_free(&a);
    a = http("POST", "/v1/check", NULL);
    CHECK(json_is_true(json_object_get(json_object_get(a.json, "result"), "consistent")));
    answer_free(&a);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    unsetenv("ENGRAM_API_KEY");
    db = test_open_fresh();
    eg_error err;
    eg_server_options options = {.http = "127.0.0.1:0"};
    if (eg_server_start(db, &options, &server, &err) != EG_OK) {
        fprintf(stderr, "cannot start the server: %s\n", err.message);
        return 2;
    }
    port = eg_server_port(server);
    RUN(exec_one_operation_answers_what_exec_answers);
    RUN(exec_array_answers_an_array_in_order);
    RUN(exec_refuses_bad_bodies_and_changes_nothing);
    RUN(memory_routes_create_get_update_delete);
    RUN(memory_routes_batch_check_and_admin);
    RUN(archive_routes);
    RUN(resource_routes_refuse_bad_requests_and_change_nothing);
    RUN(metrics_count_requests_and_show_the_engine);
    RUN(metrics_table_is_bounded_and_escapes_labels);
    RUN(metrics_observed_from_many_threads_add_up);
    RUN(api_key_guards_v1_and_metrics_but_not_the_probes);
    RUN(many_clients_at_once);
    eg_server_stop(server, 5000);
    eg_close(db);
    return test_summary();
}
