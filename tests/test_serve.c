/* test_serve.c — the transport of `engram serve` (src/serve/server.c and the router's checks in front of every
 * handler) over real loopback sockets: keep-alive, many concurrent clients, the limits on bodies, headers, JSON,
 * idle time and connections, the API key, the refusal of a public address without a key, TLS with a self-signed
 * certificate, and a stop during a write load that loses nothing acknowledged.
 *
 * Each test starts its own servers on 127.0.0.1 port 0 (the kernel picks a free port) over a scratch data folder,
 * and stops them. Every socket has a receive and send timeout, so no test can hang on a silent server. */
#define _GNU_SOURCE /* popen, setenv */
#include "serve/serve_internal.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 5000 /* the longest any socket call of a test waits */

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms) {
    struct timespec pause = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

/* ---- a small blocking HTTP/1.1 client ------------------------------------------------------------------------ */

typedef struct http_answer {
    unsigned status;     /* 0: no complete answer (the connection failed, closed or timed out) */
    char *body;          /* NUL-terminated */
    size_t body_len;
    bool server_closes;  /* the answer said "Connection: close" */
    char content_type[64];
} http_answer;

static void answer_free(http_answer *a) {
    free(a->body);
    memset(a, 0, sizeof *a);
}

/* A connected socket to 127.0.0.1:port with bounded send and receive, or -1. */
static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval limit = {IO_TIMEOUT_MS / 1000, (IO_TIMEOUT_MS % 1000) * 1000};
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

static bool send_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Sends one request in one write (two small writes would wait on Nagle's algorithm and the peer's delayed ACK);
 * body NULL sends none (and no Content-Length). extra_headers: complete "Name: value\r\n" lines, or NULL. */
static bool send_request(int fd, const char *method, const char *path, const char *extra_headers, const char *body,
                         size_t body_len) {
    const char *extra = extra_headers ? extra_headers : "";
    size_t cap = strlen(method) + strlen(path) + strlen(extra) + body_len + 128;
    char *request = malloc(cap);
    if (!request) return false;
    int n = body ? snprintf(request, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %zu\r\n\r\n",
                            method, path, extra, body_len)
                 : snprintf(request, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path, extra);
    bool ok = n > 0 && (size_t)n + body_len < cap;
    if (ok && body) memcpy(request + n, body, body_len);
    ok = ok && send_all(fd, request, (size_t)n + (body ? body_len : 0));
    free(request);
    return ok;
}

/* The value of header name in the header block head (lines ending in \r\n), copied into out; false if absent. */
static bool header_value(const char *head, const char *name, char *out, size_t out_size) {
    size_t name_len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;
        if (strncasecmp(start, name, name_len) != 0 || start[name_len] != ':') continue;
        const char *value = start + name_len + 1;
        while (*value == ' ') value++;
        size_t len = strcspn(value, "\r");
        if (len >= out_size) len = out_size - 1;
        memcpy(out, value, len);
        out[len] = '\0';
        return true;
    }
    return false;
}

/* Reads one answer (status line, headers, a Content-Length body; every answer of engram serve has one). */
static bool read_answer(int fd, http_answer *a) {
    memset(a, 0, sizeof *a);
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    if (!buf) return false;
    char *end_of_head = NULL;
    while (!end_of_head) {
        if (len + 1 == cap) {
            free(buf);
            return false; /* a header block larger than any engram sends */
        }
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0) {
            free(buf);
            return false;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end_of_head = strstr(buf, "\r\n\r\n");
    }
    end_of_head[2] = '\0'; /* keep the last header's \r\n for header_value */
    char length_text[32] = "", connection[32] = "";
    unsigned status = 0;
    bool ok = sscanf(buf, "HTTP/1.%*d %u", &status) == 1 && header_value(buf, "Content-Length", length_text,
                                                                            sizeof length_text);
    header_value(buf, "Content-Type", a->content_type, sizeof a->content_type);
    a->server_closes = header_value(buf, "Connection", connection, sizeof connection) &&
                       strcasecmp(connection, "close") == 0;
    size_t body_len = ok ? strtoull(length_text, NULL, 10) : 0;
    size_t head_len = (size_t)(end_of_head + 4 - buf), have = len - head_len;
    char *body = ok ? malloc(body_len + 1) : NULL;
    if (body) {
        memcpy(body, buf + head_len, have < body_len ? have : body_len);
        while (have < body_len) {
            ssize_t n = recv(fd, body + have, body_len - have, 0);
            if (n <= 0) break;
            have += (size_t)n;
        }
    }
    free(buf);
    if (!body || have < body_len) {
        free(body);
        return false;
    }
    body[body_len] = '\0';
    a->status = status;
    a->body = body;
    a->body_len = body_len;
    return true;
}

/* One request and its answer on an open connection; answer->status 0 when it failed. */
static void http_call(int fd, const char *method, const char *path, const char *extra_headers, const char *body,
                      http_answer *answer) {
    if (!send_request(fd, method, path, extra_headers, body, body ? strlen(body) : 0) || !read_answer(fd, answer))
        memset(answer, 0, sizeof *answer);
}

/* One request on a connection of its own. */
static http_answer http_once(uint16_t port, const char *method, const char *path, const char *extra_headers,
                             const char *body) {
    http_answer answer = {0};
    int fd = connect_to(port);
    if (fd < 0) return answer;
    http_call(fd, method, path, extra_headers, body, &answer);
    close(fd);
    return answer;
}

/* Does a JSON answer carry Qdrant's error envelope {"status": {"error": "..."}, "time": n} with a message that
 * contains fragment? */
static bool is_error_envelope(const http_answer *a, const char *fragment) {
    json_error_t jerr;
    json_t *v = a->body ? json_loads(a->body, 0, &jerr) : NULL;
    const char *message = json_string_value(json_object_get(json_object_get(v, "status"), "error"));
    bool ok = message && json_is_number(json_object_get(v, "time")) && (!fragment || strstr(message, fragment));
    if (!ok) fprintf(stderr, "  not an error envelope with '%s': %s\n", fragment ? fragment : "", a->body);
    json_decref(v);
    return ok;
}

/* Waits until the peer closes fd; returns the seconds from start (now_seconds) until then, or a negative number
 * if it stayed open past limit_ms or failed otherwise. */
static double seconds_until_closed(int fd, double start, unsigned limit_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, (int)limit_ms) == 1) {
        char byte;
        ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return now_seconds() - start;
        if (n < 0 && errno != EAGAIN) return -1;
        if (now_seconds() - start > limit_ms / 1000.0) return -1;
    }
    return -1;
}

/* ---- servers ------------------------------------------------------------------------------------------------- */

/* Starts a server on 127.0.0.1 port 0 (unless options name another address); NULL after printing why not. */
static eg_server *start_server(eg_db *db, eg_server_options options) {
    if (!options.http) options.http = "127.0.0.1:0";
    eg_server *server = NULL;
    eg_error err;
    if (eg_server_start(db, &options, &server, &err) != EG_OK) {
        fprintf(stderr, "  eg_server_start(%s): %s\n", options.http, err.message);
        return NULL;
    }
    return server;
}

/* The first route of table whose method is one of the given ones, with every {capture} of its pattern replaced
 * by "test_collection" (written into path); NULL when the table has none. */
static const eg_route *find_route(const eg_route *table, const char *const *methods, char *path, size_t path_size) {
    for (const eg_route *r = table; r->method; r++) {
        bool method_ok = false;
        for (const char *const *m = methods; *m; m++) method_ok |= strcmp(*m, r->method) == 0;
        if (!method_ok) continue;
        size_t out = 0;
        for (const char *p = r->pattern; *p && out + 1 < path_size;) {
            if (*p == '{') {
                out += (size_t)snprintf(path + out, path_size - out, "test_collection");
                p += strcspn(p, "}") + 1;
            } else {
                path[out++] = *p++;
            }
        }
        path[out] = '\0';
        return r;
    }
    return NULL;
}

/* ---- tests --------------------------------------------------------------------------------------------------- */

TEST(keep_alive_serves_many_requests_on_one_connection) {
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){0});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    CHECK(port != 0);
    int fd = connect_to(port);
    CHECK(fd >= 0);
    for (int i = 0; fd >= 0 && i < 40; i++) {
        http_answer a;
        http_call(fd, "GET", i % 2 ? "/healthz" : "/", NULL, NULL, &a);
        CHECK(a.status == 200);
        CHECK(!a.server_closes);
        if (i % 2) {
            CHECK(a.body && strcmp(a.body, "healthz check passed") == 0);
            CHECK(strncmp(a.content_type, "text/plain", 10) == 0);
        } else {
            /* Qdrant's VersionInfo, bare: no envelope around it. */
            CHECK(a.body && strstr(a.body, "\"version\":\"1.19.") && !strstr(a.body, "\"result\""));
            CHECK(strcmp(a.content_type, "application/json") == 0);
        }
        bool failed = a.status != 200;
        answer_free(&a);
        if (failed) break;
    }
    if (fd >= 0) close(fd);
    eg_server_stop(server, 1000);
    eg_close(db);
}

/* The concurrent load: each client thread cycles through this table on one keep-alive connection, so that reads
 * and writes of the same collection run at once. A row's status is what its route answers whatever the others have
 * done (the collection LOAD_COLLECTION exists; writes upsert the same points), so rows for new routes can be added
 * as they are written. */
typedef struct load_row {
    const char *method, *path, *body;
    unsigned status;
} load_row;

#define LOAD_COLLECTION "load_test" /* created before the load starts, with 4 dimensions */

static const load_row load_table[] = {
    {"GET", "/", NULL, 200},
    {"GET", "/healthz", NULL, 200},
    {"GET", "/livez", NULL, 200},
    {"GET", "/readyz", NULL, 200},
    {"POST", "/no/such/route", "{\"query\":[0.1,0.2,0.3],\"limit\":10,\"with_payload\":true}", 404},
    {"PUT", "/healthz", "{\"points\":[{\"id\":1,\"vector\":[0.5,0.5]}]}", 405},
    {"DELETE", "/collections/x/y/z/w/v", NULL, 404},
    {"GET", "/collections", NULL, 200},
    {"GET", "/collections/no_such_collection", NULL, 404},
    {"PUT", "/collections/" LOAD_COLLECTION "/points?wait=true",
     "{\"points\":[{\"id\":1,\"vector\":[0.1,0.2,0.3,0.4],\"payload\":{\"n\":1}},"
     "{\"id\":2,\"vector\":[0.4,0.3,0.2,0.1],\"payload\":{\"n\":2}}]}",
     200},
    {"POST", "/collections/" LOAD_COLLECTION "/points/scroll", "{\"limit\":5,\"with_payload\":true}", 200},
    {"POST", "/collections/" LOAD_COLLECTION "/points/count", "{\"exact\":true}", 200},
    {"POST", "/v1/exec", "{\"op\":\"search\",\"collection\":\"" LOAD_COLLECTION "\",\"vector\":[0.1,0.2,0.3,0.4],\"limit\":3}",
     200},
    {"POST", "/v1/exec", "{\"op\":\"stats\"}", 200},
};

#define LOAD_THREADS 8
#define LOAD_REQUESTS_PER_THREAD (1000 / TEST_WORK_DIVISOR)

typedef struct load_client {
    uint16_t port;
    unsigned index;
    unsigned answered, wrong_status, failed; /* written by the thread, read after join */
} load_client;

static void *load_client_run(void *arg) {
    load_client *c = arg;
    const size_t rows = sizeof load_table / sizeof load_table[0];
    int fd = -1;
    for (unsigned i = 0; i < LOAD_REQUESTS_PER_THREAD; i++) {
        if (fd < 0 && (fd = connect_to(c->port)) < 0) {
            c->failed++;
            continue;
        }
        const load_row *row = &load_table[(c->index + i) % rows];
        http_answer a;
        http_call(fd, row->method, row->path, NULL, row->body, &a);
        if (a.status == 0) {
            c->failed++;
        } else {
            c->answered++;
            if (a.status != row->status) {
                c->wrong_status++;
                fprintf(stderr, "  %s %s: %u, expected %u\n", row->method, row->path, a.status, row->status);
            }
        }
        if (a.status == 0 || a.server_closes) {
            close(fd);
            fd = -1;
        }
        answer_free(&a);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

TEST(concurrent_clients_each_get_their_own_answers) {
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){.threads = 4});
    REQUIRE(server);
    http_answer created = http_once(eg_server_port(server), "PUT", "/collections/" LOAD_COLLECTION, NULL,
                                    "{\"vectors\":{\"size\":4,\"distance\":\"Cosine\"}}");
    CHECK(created.status == 200);
    answer_free(&created);
    load_client clients[LOAD_THREADS];
    pthread_t threads[LOAD_THREADS];
    double start = now_seconds();
    for (unsigned t = 0; t < LOAD_THREADS; t++) {
        clients[t] = (load_client){.port = eg_server_port(server), .index = t};
        REQUIRE(pthread_create(&threads[t], NULL, load_client_run, &clients[t]) == 0);
    }
    unsigned answered = 0, wrong = 0, failed = 0;
    for (unsigned t = 0; t < LOAD_THREADS; t++) {
        pthread_join(threads[t], NULL);
        answered += clients[t].answered;
        wrong += clients[t].wrong_status;
        failed += clients[t].failed;
    }
    printf("     %u requests from %d clients in %.2f s\n", answered, LOAD_THREADS, now_seconds() - start);
    CHECK(answered == LOAD_THREADS * LOAD_REQUESTS_PER_THREAD);
    CHECK(wrong == 0);
    CHECK(failed == 0);
    eg_server_stop(server, 1000);
    eg_close(db);
}

TEST(bodies_over_the_limit_are_refused_and_the_server_goes_on) {
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){.max_body_bytes = 1024});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);

    /* A Content-Length over the limit is refused from the headers alone: the body is never sent. */
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    const char *head = "POST /no/such/route HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: 4096\r\n\r\n";
    CHECK(send_all(fd, head, strlen(head)));
    http_answer a;
    CHECK(read_answer(fd, &a));
    CHECK(a.status == 413);
    CHECK(is_error_envelope(&a, "max_body_bytes"));
    answer_free(&a);
    close(fd);

    /* The server still serves, and a body exactly at the limit passes (to the route's own answer). */
    a = http_once(port, "GET", "/", NULL, NULL);
    CHECK(a.status == 200);
    answer_free(&a);
    char *at_limit = malloc(1025);
    REQUIRE(at_limit);
    memset(at_limit, ' ', 1024);
    at_limit[0] = '{', at_limit[1022] = '}', at_limit[1023] = '\n', at_limit[1024] = '\0';
    a = http_once(port, "POST", "/no/such/route", NULL, at_limit);
    CHECK(a.status == 404);
    answer_free(&a);

    /* A chunked body has no length up front: it is refused once it grows past the limit, and the connection can
     * go on, since the server read the whole body. */
    fd = connect_to(port);
    REQUIRE(fd >= 0);
    const char *chunked_head = "POST /no/such/route HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    bool sent = send_all(fd, chunked_head, strlen(chunked_head));
    for (int chunk = 0; sent && chunk < 3; chunk++)
        sent = send_all(fd, "400\r\n", 5) && send_all(fd, at_limit, 1024) && send_all(fd, "\r\n", 2);
    sent = sent && send_all(fd, "0\r\n\r\n", 5);
    CHECK(sent);
    CHECK(read_answer(fd, &a));
    CHECK(a.status == 413);
    CHECK(is_error_envelope(&a, "max_body_bytes"));
    bool closes = a.server_closes;
    answer_free(&a);
    if (!closes) {
        http_call(fd, "GET", "/healthz", NULL, NULL, &a);
        CHECK(a.status == 200);
        answer_free(&a);
    }
    close(fd);
    free(at_limit);
    eg_server_stop(server, 1000);
    eg_close(db);
}

TEST(headers_too_large_are_refused_and_the_server_goes_on) {
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){0});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    size_t filler_len = 80 * 1024; /* past the 64 KiB the server keeps for a request line and its headers */
    char *headers = malloc(filler_len + 16);
    REQUIRE(headers);
    memcpy(headers, "X-Filler: ", 10);
    memset(headers + 10, 'a', filler_len);
    memcpy(headers + 10 + filler_len, "\r\n", 3);
    int fd = connect_to(port);
    REQUIRE(fd >= 0);
    char line[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    /* The server answers 4xx as soon as its buffer is full and closes, so the end of the request may fail to
     * send: only the answer counts. */
    if (send_all(fd, line, strlen(line)) && send_all(fd, headers, strlen(headers))) send_all(fd, "\r\n", 2);
    http_answer a;
    bool answered = read_answer(fd, &a);
    CHECK(answered && a.status >= 400 && a.status < 500);
    printf("     %zu bytes of headers: %u\n", filler_len, a.status);
    answer_free(&a);
    close(fd);
    free(headers);
    a = http_once(port, "GET", "/healthz", NULL, NULL);
    CHECK(a.status == 200);
    answer_free(&a);
    eg_server_stop(server, 1000);
    eg_close(db);
}

/* The router bounds and parses every body before a Qdrant-family handler runs, so any such route that takes a
 * body shows it; this build's tables decide which one. */
TEST(json_too_deep_or_unparseable_is_400_with_the_error_envelope) {
    static const char *const body_methods[] = {"POST", "PUT", NULL};
    char path[256];
    const eg_route *route = NULL;
    const eg_route *const tables[] = {eg_qdrant_query_routes, eg_qdrant_point_routes, eg_qdrant_collection_routes};
    for (size_t t = 0; !route && t < sizeof tables / sizeof tables[0]; t++)
        route = find_route(tables[t], body_methods, path, sizeof path);
    if (!route) {
        printf("     SKIPPED: no Qdrant-family route takes a body in this build, so the router's JSON checks "
               "cannot be reached over HTTP\n");
        return;
    }
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){0});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    char deep[2 * (EG_SERVE_JSON_DEPTH_MAX + 1) + 1];
    for (int depth = EG_SERVE_JSON_DEPTH_MAX; depth <= EG_SERVE_JSON_DEPTH_MAX + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++) deep[n++] = '[';
        for (int i = 0; i < depth; i++) deep[n++] = ']';
        deep[n] = '\0';
        http_answer a = http_once(port, route->method, path, NULL, deep);
        bool refused_for_depth = a.status == 400 && a.body && strstr(a.body, "nested deeper");
        if (depth > EG_SERVE_JSON_DEPTH_MAX) CHECK(refused_for_depth && is_error_envelope(&a, "nested deeper"));
        else CHECK(a.status != 0 && !refused_for_depth);
        answer_free(&a);
    }
    http_answer a = http_once(port, route->method, path, NULL, "{\"limit\": 10, \"query\": [0.1,");
    CHECK(a.status == 400);
    CHECK(is_error_envelope(&a, "Format error in JSON body"));
    answer_free(&a);
    printf("     through %s %s\n", route->method, path);
    eg_server_stop(server, 1000);
    eg_close(db);
}

/* An error message that quotes a query parameter with bytes that are not UTF-8 (libmicrohttpd percent-decodes
 * them) must still be a JSON answer: the router replaces them (found by fuzz_router). */
TEST(error_messages_quoting_bytes_that_are_not_utf8_stay_json) {
    static const char *const put[] = {"PUT", NULL};
    char path[256];
    const eg_route *route = find_route(eg_qdrant_point_routes, put, path, sizeof path);
    if (!route) {
        printf("     SKIPPED: no Qdrant point route takes PUT in this build\n");
        return;
    }
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){0});
    REQUIRE(server);
    char target[300];
    snprintf(target, sizeof target, "%s?ordering=%%FE%%E2%%82&wait=true", path);
    http_answer a = http_once(eg_server_port(server), "PUT", target, NULL, "{\"points\":[]}");
    CHECK(a.status == 400);
    CHECK(is_error_envelope(&a, "unknown variant `??"));
    answer_free(&a);
    eg_server_stop(server, 1000);
    eg_close(db);
}

TEST(idle_connections_are_closed) {
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){.idle_timeout_ms = 1000});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    /* A connection that asked something and went quiet, and one that never said anything. */
    int used = connect_to(port), silent = connect_to(port);
    REQUIRE(used >= 0 && silent >= 0);
    http_answer a;
    http_call(used, "GET", "/healthz", NULL, NULL, &a);
    CHECK(a.status == 200);
    answer_free(&a);
    double start = now_seconds();
    double used_after = seconds_until_closed(used, start, 4000), silent_after = seconds_until_closed(silent, start, 4000);
    printf("     closed after %.2f s and %.2f s idle (limit 1 s)\n", used_after, silent_after);
    CHECK(used_after >= 0 && used_after < 3.0);
    CHECK(silent_after >= 0 && silent_after < 3.0);
    close(used);
    close(silent);
    a = http_once(port, "GET", "/healthz", NULL, NULL);
    CHECK(a.status == 200);
    answer_free(&a);
    eg_server_stop(server, 1000);
    eg_close(db);
}

TEST(connections_past_the_limit_are_refused_until_one_closes) {
    eg_db *db = test_open_fresh();
    /* One thread, so that the limit is not divided among a pool's threads. */
    eg_server *server = start_server(db, (eg_server_options){.threads = 1, .max_connections = 3});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    int held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = connect_to(port);
        REQUIRE(held[i] >= 0);
        http_answer a;
        http_call(held[i], "GET", "/healthz", NULL, NULL, &a);
        CHECK(a.status == 200);
        answer_free(&a);
    }
    http_answer a = http_once(port, "GET", "/healthz", NULL, NULL);
    CHECK(a.status == 0); /* accepted by the kernel, then closed by the server unanswered */
    answer_free(&a);
    close(held[0]);
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; attempt++) { /* the server notices the close within ~1 s */
        a = http_once(port, "GET", "/healthz", NULL, NULL);
        served = a.status == 200;
        answer_free(&a);
        if (!served) sleep_ms(50);
    }
    CHECK(served);
    close(held[1]);
    close(held[2]);
    eg_server_stop(server, 1000);
    eg_close(db);
}

TEST(api_key_is_required_except_on_the_open_routes) {
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){.api_key = "s3cret-key"});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    static const struct {
        const char *method, *path, *headers;
        unsigned status;
    } cases[] = {
        /* Qdrant's open routes. */
        {"GET", "/", NULL, 200},
        {"GET", "/healthz", NULL, 200},
        {"GET", "/livez", NULL, 200},
        {"GET", "/readyz", NULL, 200},
        /* Every other route, known or not, is 401 without the right key: checked before the route is looked up. */
        {"GET", "/collections", NULL, 401},
        {"POST", "/v1/exec", NULL, 401},
        {"GET", "/no/such/route", NULL, 401},
        {"GET", "/no/such/route", "api-key: wrong-key\r\n", 401},
        {"GET", "/no/such/route", "api-key: s3cret-ke\r\n", 401},
        {"GET", "/no/such/route", "api-key: s3cret-key2\r\n", 401},
        {"GET", "/no/such/route", "Authorization: Bearer wrong-key\r\n", 401},
        {"GET", "/no/such/route", "Authorization: Basic czNjcmV0LWtleQ==\r\n", 401},
        /* The right key in either header reaches the route (here: none, so 404). */
        {"GET", "/no/such/route", "api-key: s3cret-key\r\n", 404},
        {"GET", "/no/such/route", "Authorization: Bearer s3cret-key\r\n", 404},
        {"GET", "/no/such/route", "authorization: bearer s3cret-key\r\n", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_answer a = http_once(port, cases[i].method, cases[i].path, cases[i].headers, NULL);
        if (a.status != cases[i].status)
            fprintf(stderr, "  %s %s with %s: %u, expected %u\n", cases[i].method, cases[i].path,
                    cases[i].headers ? cases[i].headers : "no key", a.status, cases[i].status);
        CHECK(a.status == cases[i].status);
        if (cases[i].status == 401) CHECK(is_error_envelope(&a, "API key"));
        answer_free(&a);
    }
    eg_server_stop(server, 1000);

    /* With no key in the options or the settings, $ENGRAM_API_KEY is the key. */
    setenv("ENGRAM_API_KEY", "from-the-environment", 1);
    server = start_server(db, (eg_server_options){0});
    unsetenv("ENGRAM_API_KEY");
    REQUIRE(server);
    port = eg_server_port(server);
    http_answer a = http_once(port, "GET", "/no/such/route", NULL, NULL);
    CHECK(a.status == 401);
    answer_free(&a);
    a = http_once(port, "GET", "/no/such/route", "api-key: from-the-environment\r\n", NULL);
    CHECK(a.status == 404);
    answer_free(&a);
    eg_server_stop(server, 1000);
    eg_close(db);
}

TEST(addresses_that_are_not_loopback_need_a_key_or_insecure) {
    eg_db *db = test_open_fresh();
    static const char *const public_addresses[] = {"0.0.0.0:0", "[::]:0"};
    for (size_t i = 0; i < 2; i++) {
        eg_server *server = NULL;
        eg_error err;
        eg_server_options options = {.http = public_addresses[i]};
        CHECK_STATUS(eg_server_start(db, &options, &server, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(server == NULL);
        CHECK(strstr(err.message, "not loopback") && strstr(err.message, "--insecure"));
    }
    static const char *const bad_addresses[] = {"127.0.0.1", "127.0.0.1:65536", "127.0.0.1:", ":80", "[::1:80",
                                                "no.such.host.invalid:80"};
    for (size_t i = 0; i < sizeof bad_addresses / sizeof bad_addresses[0]; i++) {
        eg_server *server = NULL;
        eg_error err;
        eg_server_options options = {.http = bad_addresses[i]};
        CHECK_STATUS(eg_server_start(db, &options, &server, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(server == NULL);
    }
    /* Loopback in IPv6 needs no key either. */
    eg_server *server = start_server(db, (eg_server_options){.http = "[::1]:0"});
    if (server) {
        eg_server_stop(server, 1000);
    } else {
        printf("     (no IPv6 loopback here: [::1] not checked)\n");
    }
    eg_close(db);
}

/* ---- TLS ------------------------------------------------------------------------------------------------------ */

/* LeakSanitizer's hook (used only in sanitizer builds): when a certificate parses but its key does not,
 * libmicrohttpd's call into GnuTLS (gnutls_certificate_set_x509_key_mem2) keeps the parsed certificate, which no
 * call of ours can free; the failed start is otherwise clean. GnuTLS has no frame pointers, so the stacks end at
 * its allocation functions, which are what the suppressions name. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:gnutls_x509_crt_init\nleak:gnutls_subject_alt_names_init\n";
}

/* curl's exit status for one HTTPS request (0: the answer was had), the HTTP status in *status. */
static int curl_https(uint16_t port, const char *path, const char *cacert, unsigned *status) {
    char command[1024];
    snprintf(command, sizeof command,
             "curl -sS --max-time 5 %s%s%s -o /dev/null -w '%%{http_code}' 'https://127.0.0.1:%u%s' 2>/dev/null",
             cacert ? "--cacert '" : "", cacert ? cacert : "", cacert ? "'" : "", (unsigned)port, path);
    FILE *p = popen(command, "r");
    if (!p) return -1;
    *status = 0;
    if (fscanf(p, "%u", status) != 1) *status = 0;
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(tls_with_a_self_signed_certificate) {
    const char *dir = test_scratch_dir();
    if (!test_make_certificate(dir)) {
        printf("     SKIPPED: neither certtool (gnutls-bin) nor openssl could make a certificate\n");
        return;
    }
    REQUIRE(test_tool_exists("curl"));
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    eg_db *db = test_open_fresh();
    eg_server *server = start_server(db, (eg_server_options){.tls_cert_file = cert, .tls_key_file = key});
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    unsigned status;
    CHECK(curl_https(port, "/healthz", cert, &status) == 0);
    CHECK(status == 200);
    CHECK(curl_https(port, "/", cert, &status) == 0);
    CHECK(status == 200);
    /* Verified, not merely encrypted: without the certificate as the authority, curl refuses the server. */
    CHECK(curl_https(port, "/healthz", NULL, &status) != 0);
    /* Plain HTTP to the TLS port gets no HTTP answer. */
    http_answer a = http_once(port, "GET", "/healthz", NULL, NULL);
    CHECK(a.status == 0);
    answer_free(&a);
    eg_server_stop(server, 1000);

    /* Bad certificate files: each a clear error, and no server. */
    char garbage[512];
    snprintf(garbage, sizeof garbage, "%s/garbage.pem", dir);
    FILE *f = fopen(garbage, "w");
    REQUIRE(f);
    fputs("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    char missing[512];
    snprintf(missing, sizeof missing, "%s/missing.pem", dir);
    static const struct {
        int cert, key; /* 0: the good file, 1: garbage, 2: missing, 3: none */
        eg_status status;
        const char *fragment;
    } bad[] = {
        {2, 0, EG_IO, "TLS: "},
        {0, 2, EG_IO, "TLS: "},
        {1, 0, EG_IO, "certificate"},
        {0, 1, EG_IO, "certificate"},
        {0, 3, EG_INVALID_ARGUMENT, "both a certificate and its key"},
        {3, 0, EG_INVALID_ARGUMENT, "both a certificate and its key"},
    };
    const char *const cert_files[] = {cert, garbage, missing, NULL}, *const key_files[] = {key, garbage, missing, NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eg_server_options options = {.http = "127.0.0.1:0",
                                     .tls_cert_file = cert_files[bad[i].cert],
                                     .tls_key_file = key_files[bad[i].key]};
        eg_server *none = NULL;
        eg_error err;
        CHECK_STATUS(eg_server_start(db, &options, &none, &err), bad[i].status, &err);
        CHECK(none == NULL);
        if (!strstr(err.message, bad[i].fragment)) fprintf(stderr, "  case %zu: %s\n", i, err.message);
        CHECK(strstr(err.message, bad[i].fragment));
    }
    eg_close(db);
}

/* ---- a stop during a write load ------------------------------------------------------------------------------ */

#define WRITERS 4
#define WRITES_PER_WRITER_MAX 20000

typedef struct writer {
    uint16_t port;
    unsigned index;
    atomic_bool *stop;
    unsigned char *acknowledged; /* [n]: node w<index>-<n> was answered 200 with "ok": true */
    unsigned acknowledged_count, refused, attempted;
} writer;

static void *writer_run(void *arg) {
    writer *w = arg;
    int fd = -1;
    double deadline = now_seconds() + 20;
    while (!atomic_load(w->stop) && w->attempted < WRITES_PER_WRITER_MAX && now_seconds() < deadline) {
        if (fd < 0 && (fd = connect_to(w->port)) < 0) {
            sleep_ms(5); /* stopped: wait to be told so */
            continue;
        }
        char body[160];
        unsigned n = w->attempted++;
        snprintf(body, sizeof body, "{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"w%u-%u\",\"properties\":{}}",
                 w->index, n);
        http_answer a;
        http_call(fd, "POST", "/v1/exec", NULL, body, &a);
        /* Only an answered success counts: a request cut off by the stop may or may not have been applied. */
        if (a.status == 200 && a.body && strstr(a.body, "\"ok\":true")) {
            w->acknowledged[n] = 1;
            w->acknowledged_count++;
        } else if (a.status != 0) {
            w->refused++;
        }
        if (a.status == 0 || a.server_closes) {
            close(fd);
            fd = -1;
        }
        answer_free(&a);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

TEST(a_stop_during_writes_loses_nothing_acknowledged) {
    static const char *const post[] = {"POST", NULL};
    char path[256];
    const eg_route *exec_route = find_route(eg_engram_routes, post, path, sizeof path);
    while (exec_route && strcmp(exec_route->pattern, "/v1/exec") != 0)
        exec_route = find_route(exec_route + 1, post, path, sizeof path);
    if (!exec_route) {
        printf("     SKIPPED: this build has no POST /v1/exec to write through\n");
        return;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    eg_options open_options = {.durability = EG_DURABILITY_NONE};
    eg_db *db;
    eg_error err;
    REQUIRE(eg_open(dir, &open_options, &db, &err) == EG_OK);
    eg_server *server = start_server(db, (eg_server_options){.threads = 4});
    REQUIRE(server);
    atomic_bool stop = false;
    writer writers[WRITERS];
    pthread_t threads[WRITERS];
    for (unsigned t = 0; t < WRITERS; t++) {
        writers[t] = (writer){.port = eg_server_port(server), .index = t, .stop = &stop,
                              .acknowledged = calloc(WRITES_PER_WRITER_MAX, 1)};
        REQUIRE(writers[t].acknowledged);
        REQUIRE(pthread_create(&threads[t], NULL, writer_run, &writers[t]) == 0);
    }
    sleep_ms(500);
    double stop_started = now_seconds();
    eg_server_stop(server, 5000);
    double stop_took = now_seconds() - stop_started;
    atomic_store(&stop, true);
    unsigned acknowledged = 0, refused = 0;
    for (unsigned t = 0; t < WRITERS; t++) {
        pthread_join(threads[t], NULL);
        acknowledged += writers[t].acknowledged_count;
        refused += writers[t].refused;
    }
    printf("     %u writes acknowledged, %u refused; the stop took %.2f s\n", acknowledged, refused, stop_took);
    CHECK(acknowledged > 0);
    CHECK(stop_took < 6.0);
    eg_close(db);
    REQUIRE(eg_open(dir, &open_options, &db, &err) == EG_OK);
    unsigned missing = 0;
    for (unsigned t = 0; t < WRITERS; t++) {
        for (unsigned n = 0; n < writers[t].attempted; n++) {
            if (!writers[t].acknowledged[n]) continue;
            char id[32];
            snprintf(id, sizeof id, "w%u-%u", t, n);
            if (!test_has_node(db, id)) {
                if (missing < 10) fprintf(stderr, "  acknowledged node %s is missing after the reopen\n", id);
                missing++;
            }
        }
    }
    CHECK(missing == 0);
    for (unsigned t = 0; t < WRITERS; t++) free(writers[t].acknowledged);
    eg_close(db);
}

int main(void) {
    /* A client writing to a connection the server closed must see an error, not die. */
    signal(SIGPIPE, SIG_IGN);
    RUN(keep_alive_serves_many_requests_on_one_connection);
    RUN(concurrent_clients_each_get_their_own_answers);
    RUN(bodies_over_the_limit_are_refused_and_the_server_goes_on);
    RUN(headers_too_large_are_refused_and_the_server_goes_on);
    RUN(json_too_deep_or_unparseable_is_400_with_the_error_envelope);
    RUN(error_messages_quoting_bytes_that_are_not_utf8_stay_json);
    RUN(idle_connections_are_closed);
    RUN(connections_past_the_limit_are_refused_until_one_closes);
    RUN(api_key_is_required_except_on_the_open_routes);
    RUN(addresses_that_are_not_loopback_need_a_key_or_insecure);
    RUN(tls_with_a_self_signed_certificate);
    RUN(a_stop_during_writes_loses_nothing_acknowledged);
    return test_summary();
}
