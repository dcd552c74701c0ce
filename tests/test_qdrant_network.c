/* test_qdrant_network.c — the memory layer over the Qdrant backend when the network or the server misbehaves. Each
 * test runs its own `engram serve` ($ENGRAM_BIN, set by ctest) as a child process on a loopback port, most of them
 * behind a fault proxy (fault_proxy.c: plain sockets, a thread per connection; its HTTP handler is here) that
 * forwards requests and, by rule, holds one, delays them, or answers 500 in the server's place. Every test ends the
 * way an operator would: the folder reopened, `check` (with repair where the fault left an orphan) consistent, and
 * every memory acknowledged before or during the fault whole, vector bit for bit.
 *   - the server killed (SIGKILL) while a batch create is in flight: the call fails with EG_UNAVAILABLE, and after a
 *     restart on the same folder and port, check with repair leaves nothing of the batch half-written;
 *   - the server slow (vectors.timeout_ms shorter than its delay): EG_UNAVAILABLE, the breaker opens after
 *     breaker.failure_threshold failures in a row and then fails fast without sending anything;
 *   - 500s: EG_UNAVAILABLE with Qdrant's error text, the saga undone; the breaker opens when nothing succeeds;
 *   - connection refused at open: eg_open opens (the backend sends nothing at open), a write fails with
 *     EG_UNAVAILABLE under degrade.write_policy=fail and is queued under =queue;
 *   - the server killed and restarted while the client queues writes: the queue drains once it is back and the
 *     breaker closes.
 * test_vectors_qdrant.c has the backend's own fault tests (a failed chunk undone, a server that never answers, 503s
 * from the server's store, a graceful restart, TLS with a self-signed certificate); the client killed with -9
 * mid-saga is the crash suites' work over Qdrant (ctest test_memory_crash_over_qdrant, test_archive_crash_...). */
#define _GNU_SOURCE
#include "test.h"

#include <engram/engram.h>

#include "fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIM TEST_PATTERN_DIM
#define START_LIMIT_MS 20000 /* for a server to print its port */
#define STOP_LIMIT_MS 15000  /* for a server to exit after SIGTERM */

static eg_error err;

/* ---- engram serve as a child process ---------------------------------------------------------------------- */

typedef struct server {
    pid_t pid;
    uint16_t port;
    char data[512];
    char log[600];
} server;

/* The port of the "listening on ... (port N)" line of log, or 0 while there is none. */
static uint16_t port_in_log(const char *log) {
    FILE *f = fopen(log, "r");
    if (!f) return 0;
    char line[1024];
    unsigned port = 0;
    while (!port && fgets(line, sizeof line, f)) {
        const char *mark = strstr(line, "(port ");
        if (strstr(line, "listening on") && mark) port = (unsigned)strtoul(mark + 6, NULL, 10);
    }
    fclose(f);
    return (uint16_t)port;
}

/* Starts engram serve over s->data on 127.0.0.1:port (0: one it picks), with extra arguments (NULL-terminated, may
 * be NULL); waits for its port. False, the log shown, when it does not start. */
static bool server_start(server *s, uint16_t port, const char *const *extra) {
    const char *engram = getenv("ENGRAM_BIN");
    if (!engram) {
        fprintf(stderr, "  ENGRAM_BIN is not set: run this test through ctest\n");
        return false;
    }
    char address[64];
    snprintf(address, sizeof address, "127.0.0.1:%u", (unsigned)port);
    const char *argv[16] = {engram, "--data", s->data, "--no-sync", "serve", "--http", address};
    size_t argc = 7;
    for (size_t i = 0; extra && extra[i] && argc < 15; i++) argv[argc++] = extra[i];
    argv[argc] = NULL;
    int log_fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) return false;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(log_fd, STDERR_FILENO);
        execv(engram, (char *const *)argv);
        _exit(127);
    }
    close(log_fd);
    for (uint64_t deadline = now_ms() + START_LIMIT_MS; now_ms() < deadline; sleep_ms(20)) {
        if ((s->port = port_in_log(s->log))) return true;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) break;
    }
    fprintf(stderr, "  engram serve did not start; its log:\n");
    FILE *f = fopen(s->log, "r");
    for (char line[1024]; f && fgets(line, sizeof line, f);) fprintf(stderr, "    | %s", line);
    if (f) fclose(f);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    return false;
}

/* A server over a new data folder on a port of its choosing. */
static bool server_new(server *s, const char *const *extra) {
    const char *dir = test_scratch_dir();
    snprintf(s->data, sizeof s->data, "%s/server-data", dir);
    snprintf(s->log, sizeof s->log, "%s/server.log", dir);
    return server_start(s, 0, extra);
}

static void server_kill(server *s) {
    if (!s->pid) return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

/* SIGTERM; the server must exit 0 within STOP_LIMIT_MS. */
static bool server_stop(server *s) {
    if (!s->pid) return true;
    kill(s->pid, SIGTERM);
    int status = 0;
    for (uint64_t deadline = now_ms() + STOP_LIMIT_MS; now_ms() < deadline; sleep_ms(20)) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
            fprintf(stderr, "  engram serve did not exit 0 after SIGTERM (status %d)\n", status);
            return false;
        }
    }
    fprintf(stderr, "  engram serve still running %d ms after SIGTERM\n", STOP_LIMIT_MS);
    server_kill(s);
    return false;
}

/* ---- The fault proxy --------------------------------------------------------------------------------------- */

/* Reads one HTTP message (head, then Content-Length bytes of body) from fd into buf (cap bytes), *have bytes of
 * which are already there; returns the message's length, 0 on EOF, error or a message that does not fit. Bytes
 * past the message stay in buf after it. */
static size_t read_message(int fd, char *buf, size_t cap, size_t *have) {
    size_t head = 0;
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end) {
            head = (size_t)(end - buf) + 4;
            break;
        }
        if (*have == cap) return 0;
        ssize_t n = recv(fd, buf + *have, cap - *have, 0);
        if (n <= 0) return 0;
        *have += (size_t)n;
    }
    size_t body = 0;
    for (char *p = buf; p < buf + head; p = strstr(p, "\r\n") + 2)
        if (strncasecmp(p, "content-length:", 15) == 0) body = strtoul(p + 15, NULL, 10);
    if (head + body > cap) return 0;
    while (*have < head + body) {
        ssize_t n = recv(fd, buf + *have, cap - *have, 0);
        if (n <= 0) return 0;
        *have += (size_t)n;
    }
    return head + body;
}

/* Sends the request to the server and writes its answer into answer (cap bytes); returns its length, 0 when the
 * server is gone. One connection per request: the server's keep-alive is not what these tests are about. */
static size_t forward(uint16_t port, const char *request, size_t len, char *answer, size_t cap) {
    int fd = connect_loopback(port);
    if (fd < 0) return 0;
    size_t have = 0, got = send_all(fd, request, len) ? read_message(fd, answer, cap, &have) : 0;
    close(fd);
    return got;
}

/* The HTTP proxy's handler (fault_proxy.h): one request at a time, each forwarded on a connection of its own. */
static void serve_http(fault_proxy *p, int fd) {
    enum { BUFFER = 8 << 20 }; /* a chunk of upserted points, or an answer of them, fits */
    char *in = malloc(BUFFER), *out = malloc(BUFFER);
    size_t have = 0;
    for (size_t len; in && out && (len = read_message(fd, in, BUFFER, &have));) {
        char line[256];
        size_t line_len = strcspn(in, "\r");
        snprintf(line, sizeof line, "%.*s", (int)(line_len < 255 ? line_len : 255), in);
        int arg;
        proxy_action action = proxy_decide(p, line, &arg);
        proxy_wait_as_told(p, action, arg);
        static const char injected[] = "{\"status\":{\"error\":\"Service internal error: injected by the test\"},"
                                       "\"time\":0.0}";
        size_t answer = 0;
        if (action == PROXY_FAIL)
            answer = (size_t)snprintf(out, BUFFER,
                                      "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                                      "Content-Length: %zu\r\n\r\n%s",
                                      sizeof injected - 1, injected);
        else
            answer = forward(p->upstream_port, in, len, out, BUFFER);
        proxy_done(p);
        /* The server gone: the client sees its connection closed, as it would with no proxy. */
        if (!answer || !send_all(fd, out, answer)) break;
        memmove(in, in + len, have - len);
        have -= len;
    }
    free(in);
    free(out);
}

/* ---- The client folder ------------------------------------------------------------------------------------- */

#define SETTINGS_MAX 12

/* Opens dir with its vectors on http://127.0.0.1:port plus the given settings (NULL-terminated, may be NULL). */
static eg_db *open_client(const char *dir, const char *url, const char *const *extra) {
    static char url_setting[600];
    snprintf(url_setting, sizeof url_setting, "vectors.url=%s", url);
    const char *settings[SETTINGS_MAX] = {"vectors.backend=qdrant", url_setting};
    size_t count = 2;
    for (size_t i = 0; extra && extra[i] && count < SETTINGS_MAX; i++) settings[count++] = extra[i];
    eg_options options = {EG_DURABILITY_NONE, settings, count};
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    if (st != EG_OK) fprintf(stderr, "  eg_open: %s: %s\n", eg_status_name(st), err.message);
    return db;
}

static const char *loopback_url(uint16_t port) {
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)port);
    return url;
}

static eg_status create_memory(eg_db *db, int n) {
    float v[DIM];
    test_pattern_vector(n, v);
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = id, .vector = v, .dim = DIM};
    return eg_memory_create(db, &spec, NULL, &err);
}

typedef struct batch_call {
    eg_db *db;
    int first, count;
    eg_status status;
    eg_error error;
} batch_call;

/* Creates memories first..first+count-1 in one eg_memory_batch_create (a thread's body). */
static void *run_batch(void *arg) {
    batch_call *call = arg;
    eg_memory_spec *specs = calloc((size_t)call->count, sizeof *specs);
    float(*vectors)[DIM] = calloc((size_t)call->count, sizeof *vectors);
    char(*ids)[32] = calloc((size_t)call->count, sizeof *ids);
    for (int i = 0; i < call->count; i++) {
        test_pattern_vector(call->first + i, vectors[i]);
        snprintf(ids[i], sizeof ids[i], "%d", call->first + i);
        specs[i] = (eg_memory_spec){.type = EG_MEMORY_ENTITY, .id = ids[i], .vector = vectors[i], .dim = DIM};
    }
    call->status = eg_memory_batch_create(call->db, specs, (size_t)call->count, NULL, &call->error);
    free(specs);
    free(vectors);
    free(ids);
    return NULL;
}

static eg_status create_batch(eg_db *db, int first, int count) {
    batch_call call = {db, first, count, EG_OK, {0}};
    run_batch(&call);
    err = call.error;
    return call.status;
}




static json_t *health(eg_db *db) {
    json_t *r = test_exec(db, "{\"op\":\"health\"}");
    json_t *h = json_incref(json_object_get(r, "result"));
    json_decref(r);
    return h;
}

static json_t *vectors_health(json_t *h) {
    return json_object_get(json_object_get(h, "stores"), "vectors");
}

static const char *vectors_breaker(eg_db *db, char *out, size_t cap) {
    json_t *h = health(db);
    snprintf(out, cap, "%s",
             json_string_value(json_object_get(json_object_get(vectors_health(h), "breaker"), "state")));
    json_decref(h);
    return out;
}

static json_int_t vectors_queue_depth(eg_db *db) {
    json_t *h = health(db);
    json_int_t depth = json_integer_value(json_object_get(json_object_get(vectors_health(h), "queue"), "depth"));
    json_decref(h);
    return depth;
}

/* ---- The tests --------------------------------------------------------------------------------------------- */

#define BEFORE 20     /* memories acknowledged before each fault */
#define BATCH 200     /* memories of the batch the server dies under */
#define CHUNK "25"    /* vectors.batch_size: the batch's upsert is 8 requests */

TEST(the_server_killed_mid_batch_leaves_nothing_half_written) {
    server s;
    REQUIRE(server_new(&s, NULL));
    fault_proxy p;
    REQUIRE(proxy_start(&p, s.port, serve_http));
    const char *dir = test_data_dir();
    static const char *const settings[] = {"vectors.batch_size=" CHUNK, NULL};
    eg_db *db = open_client(dir, loopback_url(p.port), settings);
    REQUIRE(db);
    CHECK_OK(create_batch(db, 1, BEFORE), &err);

    /* The third chunk of the batch's upsert is held while the server is killed; then it goes on to a dead server. */
    proxy_rule(&p, "PUT /collections/", PROXY_HOLD, 2, 1, 0);
    batch_call call = {db, 1000, BATCH, EG_OK, {0}};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, run_batch, &call) == 0);
    CHECK(proxy_wait_held(&p, 10000));
    server_kill(&s);
    proxy_release(&p);
    pthread_join(thread, NULL);
    CHECK(call.status == EG_UNAVAILABLE);
    printf("  the batch failed: %s: %s\n", eg_status_name(call.status), call.error.message);
    eg_close(db);

    REQUIRE(server_start(&s, s.port, NULL));
    db = open_client(dir, loopback_url(p.port), settings);
    REQUIRE(db);
    CHECK(test_consistent_after(db, true));
    for (int n = 1; n <= BEFORE; n++) CHECK(test_memory_whole(db, "entities", n));
    int left = 0;
    for (int n = 1000; n < 1000 + BATCH; n++) left += !test_memory_absent(db, "entities", n);
    CHECK(left == 0);
    /* the ids are free again: the same batch now goes through */
    CHECK_OK(create_batch(db, 1000, BATCH), &err);
    CHECK(test_memory_whole(db, "entities", 1000) && test_memory_whole(db, "entities", 1000 + BATCH - 1) && test_consistent_after(db, false));
    eg_close(db);
    proxy_stop(&p);
    CHECK(server_stop(&s));
}

TEST(a_slow_server_times_out_and_opens_the_breaker_which_then_fails_fast) {
    server s;
    REQUIRE(server_new(&s, NULL));
    fault_proxy p;
    REQUIRE(proxy_start(&p, s.port, serve_http));
    const char *dir = test_data_dir();
    static const char *const settings[] = {"vectors.timeout_ms=200", "breaker.failure_threshold=2",
                                           "breaker.reset_timeout_ms=600000", NULL};
    eg_db *db = open_client(dir, loopback_url(p.port), settings);
    REQUIRE(db);
    for (int n = 1; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    proxy_rule(&p, "", PROXY_DELAY, 0, -1, 1000);
    char state[32];
    uint64_t start = now_ms();
    CHECK_STATUS(create_memory(db, 100), EG_UNAVAILABLE, &err);
    CHECK(now_ms() - start < 5000); /* the timeout, not the delay, ended it (and the undo's own requests) */
    CHECK(strcmp(vectors_breaker(db, state, sizeof state), "closed") == 0);
    CHECK_STATUS(create_memory(db, 101), EG_UNAVAILABLE, &err);
    CHECK(strcmp(vectors_breaker(db, state, sizeof state), "open") == 0);
    /* open: fails at once, sending nothing */
    int sent = proxy_requests(&p);
    start = now_ms();
    CHECK_STATUS(create_memory(db, 102), EG_UNAVAILABLE, &err);
    CHECK(now_ms() - start < 150 && proxy_requests(&p) == sent);
    CHECK(strstr(err.message, "store unavailable: circuit open") != NULL);
    eg_close(db);

    /* The server was only slow: what the client gave up on may have landed since, which check repairs. */
    proxy_rule(&p, "", PROXY_FORWARD, 0, 0, 0);
    CHECK(proxy_wait_idle(&p, 10000));
    db = open_client(dir, loopback_url(p.port), NULL);
    REQUIRE(db);
    CHECK(test_consistent_after(db, true));
    for (int n = 1; n <= BEFORE; n++) CHECK(test_memory_whole(db, "entities", n));
    for (int n = 100; n <= 102; n++) CHECK(test_memory_absent(db, "entities", n));
    eg_close(db);
    proxy_stop(&p);
    CHECK(server_stop(&s));
}

TEST(answers_of_500_are_unavailable_and_the_writes_are_undone) {
    server s;
    REQUIRE(server_new(&s, NULL));
    fault_proxy p;
    REQUIRE(proxy_start(&p, s.port, serve_http));
    const char *dir = test_data_dir();
    static const char *const settings[] = {"breaker.failure_threshold=3", "breaker.reset_timeout_ms=600000", NULL};
    eg_db *db = open_client(dir, loopback_url(p.port), settings);
    REQUIRE(db);
    for (int n = 1; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    /* every upsert answered 500: the create fails, its saga undone (the undo's deletes go through, and their
     * successes keep the breaker closed: its threshold counts failures in a row) */
    proxy_rule(&p, "PUT /collections/entities/points", PROXY_FAIL, 0, -1, 0);
    for (int n = 100; n <= 103; n++) {
        CHECK_STATUS(create_memory(db, n), EG_UNAVAILABLE, &err);
        CHECK(test_memory_absent(db, "entities", n));
    }
    CHECK(strstr(err.message, "injected by the test") != NULL); /* Qdrant's own error text is kept */
    char state[32];
    CHECK(strcmp(vectors_breaker(db, state, sizeof state), "closed") == 0);
    /* every request answered 500: three failures in a row open the breaker */
    proxy_rule(&p, "", PROXY_FAIL, 0, -1, 0);
    for (int n = 104; n <= 106; n++) CHECK_STATUS(create_memory(db, n), EG_UNAVAILABLE, &err);
    CHECK(strcmp(vectors_breaker(db, state, sizeof state), "open") == 0);
    eg_close(db);

    proxy_rule(&p, "", PROXY_FORWARD, 0, 0, 0);
    db = open_client(dir, loopback_url(p.port), NULL);
    REQUIRE(db);
    CHECK(test_consistent_after(db, false));
    for (int n = 1; n <= BEFORE; n++) CHECK(test_memory_whole(db, "entities", n));
    for (int n = 100; n <= 106; n++) CHECK(test_memory_absent(db, "entities", n));
    eg_close(db);
    proxy_stop(&p);
    CHECK(server_stop(&s));
}

/* A port nothing listens on: bound, read, closed. */
static uint16_t unused_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

TEST(connection_refused_at_open_opens_and_fails_or_queues_writes_as_the_policy_says) {
    uint16_t port = unused_port();
    REQUIRE(port);
    eg_db *db = open_client(test_data_dir(), loopback_url(port), NULL);
    REQUIRE(db); /* the backend sends nothing at open */
    CHECK_STATUS(create_memory(db, 1), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "127.0.0.1") != NULL || strstr(err.message, "connect") != NULL);
    json_t *h = health(db);
    CHECK(strcmp(json_string_value(json_object_get(vectors_health(h), "backend")), "qdrant") == 0);
    json_decref(h);
    eg_close(db);

    static const char *const queue[] = {"degrade.write_policy=queue", "breaker.failure_threshold=1", NULL};
    const char *dir = test_data_dir();
    db = open_client(dir, loopback_url(port), queue);
    REQUIRE(db);
    for (int n = 1; n <= 3; n++) CHECK_OK(create_memory(db, n), &err);
    CHECK(vectors_queue_depth(db) == 3);
    eg_close(db);
}

TEST(writes_queued_while_the_server_restarts_drain_when_it_is_back) {
    server s;
    REQUIRE(server_new(&s, NULL));
    const char *dir = test_data_dir();
    static const char *const settings[] = {"degrade.write_policy=queue", "breaker.failure_threshold=1",
                                           "breaker.success_threshold=1", "breaker.reset_timeout_ms=100", NULL};
    eg_db *db = open_client(dir, loopback_url(s.port), settings);
    REQUIRE(db);
    for (int n = 1; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    server_kill(&s);
    for (int n = 100; n < 110; n++) CHECK_OK(create_memory(db, n), &err); /* acknowledged: queued */
    CHECK(vectors_queue_depth(db) > 0);

    REQUIRE(server_start(&s, s.port, NULL));
    char state[32] = "";
    json_int_t depth = -1;
    for (uint64_t deadline = now_ms() + 15000; now_ms() < deadline; sleep_ms(20)) {
        depth = vectors_queue_depth(db);
        if (depth == 0 && strcmp(vectors_breaker(db, state, sizeof state), "closed") == 0) break;
    }
    CHECK(depth == 0 && strcmp(state, "closed") == 0);
    for (int n = 1; n <= BEFORE; n++) CHECK(test_memory_whole(db, "entities", n));
    for (int n = 100; n < 110; n++) CHECK(test_memory_whole(db, "entities", n));
    CHECK(test_consistent_after(db, false));
    eg_close(db);
    CHECK(server_stop(&s));
}

int main(void) {
    RUN(the_server_killed_mid_batch_leaves_nothing_half_written);
    RUN(a_slow_server_times_out_and_opens_the_breaker_which_then_fails_fast);
    RUN(answers_of_500_are_unavailable_and_the_writes_are_undone);
    RUN(connection_refused_at_open_opens_and_fails_or_queues_writes_as_the_policy_says);
    RUN(writes_queued_while_the_server_restarts_drain_when_it_is_back);
    return test_summary();
}
