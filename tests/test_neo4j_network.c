/* test_neo4j_network.c — the memory layer over the Neo4j graph backend (vectors embedded) when the Bolt server or
 * the network misbehaves. Each test runs its own `engram serve --http '' --bolt` ($ENGRAM_BIN, set by ctest) as a
 * child process on a loopback port, behind a Bolt-aware fault proxy (fault_proxy.c for the sockets and threads, the
 * Bolt handler here) that forwards the handshake verbatim and then acts per message: it holds or delays a request,
 * answers FAILURE in the server's place, or cuts a RECORD stream. Every test ends the way an operator would: the
 * folder reopened by a healthy client, `check` consistent (repairing only where the fault leaves an orphan, and
 * saying why), and every memory acknowledged before or during the fault whole.
 *   - the server killed (SIGKILL) while the COMMIT of a create's node is held: EG_UNAVAILABLE, and after a restart
 *     on the same folder and port the memory is in both stores or in neither;
 *   - the server restarted (SIGTERM) between calls: the pool drops its stale connections, the next calls succeed;
 *   - the server slow (graph.timeout_ms shorter than its delay): timeout / unavailable, the breaker opens after
 *     breaker.failure_threshold failures and then fails fast, sending nothing;
 *   - the connection dropped in the middle of a RECORD stream (recall's graph expansion, check's node listing): a
 *     clear EG_UNAVAILABLE, nothing applied (check's repair removes nothing on a half-read list), the next call
 *     works;
 *   - FAILURE in the server's place: a transient error is retried by the client and counted by the breaker, a
 *     syntax error is the caller's and leaves the breaker alone; the saga is undone either way;
 *   - the pool exhausted (graph.max_connections = 1, held by a graph transaction): a create fails naming the pool
 *     within the acquisition timeout, nothing written, and succeeds once the transaction ends.
 * The client killed with -9 mid-saga over Neo4j is the crash suites' work (ctest test_memory_crash_over_neo4j). */
#define _GNU_SOURCE
#include "test.h"

#include <engram/engram.h>

#include "fault_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIM TEST_PATTERN_DIM
#define START_LIMIT_MS 20000 /* for a server to print its port */
#define STOP_LIMIT_MS 15000  /* for a server to exit after SIGTERM */
#define IO_LIMIT_MS 5000     /* for the proxy to drain a server's answers before it answers in its place */

static eg_error err;

/* ---- engram serve --bolt as a child process --------------------------------------------------------------- */

typedef struct server {
    pid_t pid;
    uint16_t port;
    char data[512];
    char log[600];
} server;

/* The port of the "Bolt on bolt://..., port N" line of log, or 0 while there is none. */
static uint16_t port_in_log(const char *log) {
    FILE *f = fopen(log, "r");
    if (!f) return 0;
    char line[1024];
    unsigned port = 0;
    while (!port && fgets(line, sizeof line, f)) {
        const char *at = strstr(line, "Bolt on bolt://");
        if (at && (at = strstr(at, ", port "))) port = (unsigned)strtoul(at + 7, NULL, 10);
    }
    fclose(f);
    return (uint16_t)port;
}

/* Starts engram serve with Bolt only over s->data on 127.0.0.1:port (0: one it picks); waits for its port. False,
 * the log shown, when it does not start. */
static bool server_start(server *s, uint16_t port) {
    const char *engram = getenv("ENGRAM_BIN");
    if (!engram) {
        fprintf(stderr, "  ENGRAM_BIN is not set: run this test through ctest\n");
        return false;
    }
    char address[64];
    snprintf(address, sizeof address, "127.0.0.1:%u", (unsigned)port);
    int log_fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) return false;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(log_fd, STDERR_FILENO);
        execl(engram, engram, "--data", s->data, "--no-sync", "serve", "--http", "", "--bolt", address, (char *)NULL);
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

/* A server over a new data folder on a port of its choosing. Its graph takes any label (graph.schema = open): the
 * schema is the client's to enforce, as in the suites over Neo4j. */
static bool server_new(server *s) {
    const char *dir = test_scratch_dir();
    snprintf(s->data, sizeof s->data, "%s/server-data", dir);
    snprintf(s->log, sizeof s->log, "%s/server.log", dir);
    char conf[600];
    snprintf(conf, sizeof conf, "%s/engram.conf", s->data);
    FILE *f = mkdir(s->data, 0755) == 0 ? fopen(conf, "w") : NULL;
    if (!f || fputs("graph.schema = open\n", f) == EOF || fclose(f) != 0) return false;
    return server_start(s, 0);
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

/* ---- The Bolt fault proxy ---------------------------------------------------------------------------------- */

enum {
    BOLT_GOODBYE = 0x02,
    BOLT_RESET = 0x0F,
    BOLT_SUCCESS = 0x70,
    BOLT_RECORD = 0x71,
    BOLT_IGNORED = 0x7E,
    BOLT_FAILURE = 0x7F,
};

/* The bytes read from one side and not yet passed on. */
typedef struct stream {
    int fd;
    uint8_t *data;
    size_t len, cap;
    bool handshake_done;
} stream;

static bool stream_read(stream *s) {
    if (s->cap - s->len < 65536) {
        size_t cap = s->cap ? s->cap * 2 : 1 << 17;
        uint8_t *data = realloc(s->data, cap);
        if (!data) return false;
        s->data = data, s->cap = cap;
    }
    ssize_t n = recv(s->fd, s->data + s->len, s->cap - s->len, 0);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    s->len += (size_t)n;
    return true;
}

static void stream_consume(stream *s, size_t n) {
    memmove(s->data, s->data + n, s->len - n);
    s->len -= n;
}

/* The end of the base-128 varint at data[at], or 0 while it is incomplete. */
static size_t varint_end(const uint8_t *data, size_t len, size_t at, uint64_t *value) {
    *value = 0;
    for (unsigned shift = 0; at < len && shift < 64; shift += 7) {
        uint8_t byte = data[at++];
        *value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return at;
    }
    return 0;
}

/* The length of the server's handshake answer at the start of s (src/bolt/handshake.c), or 0 while it is
 * incomplete: a 4-byte version, or the 5.7+ manifest's marker 255.1 followed by a count of versions, those
 * versions and a capabilities varint. */
static size_t server_handshake_length(const stream *s) {
    static const uint8_t marker[4] = {0x00, 0x00, 0x01, 0xFF};
    if (s->len < 4) return 0;
    if (memcmp(s->data, marker, 4) != 0) return 4;
    uint64_t value;
    size_t at = varint_end(s->data, s->len, 4, &value);
    if (!at || s->len < at + 4 * value) return 0;
    return varint_end(s->data, s->len, at + 4 * (size_t)value, &value);
}

/* The length of the chunked message at the start of s, or 0 while it is incomplete; its first payload bytes (up to
 * cap) go to head. A lone end marker is a NOOP: a message of no payload. */
static size_t message_length(const stream *s, uint8_t *head, size_t cap, size_t *head_len) {
    size_t at = 0;
    *head_len = 0;
    for (;;) {
        if (s->len < at + 2) return 0;
        size_t size = (size_t)s->data[at] << 8 | s->data[at + 1];
        at += 2;
        if (size == 0) return at;
        if (s->len < at + size) return 0;
        size_t take = size < cap - *head_len ? size : cap - *head_len;
        memcpy(head + *head_len, s->data + at, take);
        *head_len += take;
        at += size;
    }
}

/* A request as the rules see it: "RUN <statement>", or the message's name. */
static void describe(const uint8_t *head, size_t len, char *out, size_t cap) {
    static const struct {
        uint8_t tag;
        const char *name;
    } names[] = {{0x01, "HELLO"},    {0x02, "GOODBYE"}, {0x0F, "RESET"},     {0x10, "RUN"},
                 {0x11, "BEGIN"},    {0x12, "COMMIT"},  {0x13, "ROLLBACK"},  {0x2F, "DISCARD"},
                 {0x3F, "PULL"},     {0x54, "TELEMETRY"}, {0x66, "ROUTE"}, {0x6A, "LOGON"}, {0x6B, "LOGOFF"}};
    snprintf(out, cap, "?");
    for (size_t i = 0; len >= 2 && i < sizeof names / sizeof names[0]; i++)
        if (names[i].tag == head[1]) snprintf(out, cap, "%s", names[i].name);
    if (len < 3 || head[1] != 0x10) return;
    /* RUN's first field, the statement: a PackStream string (tiny, or with an 8- or 16-bit size) */
    size_t at = 3, size = 0;
    if ((head[2] & 0xF0) == 0x80) {
        size = head[2] & 0x0F;
    } else if (head[2] == 0xD0 && len > 3) {
        size = head[3], at = 4;
    } else if (head[2] == 0xD1 && len > 4) {
        size = (size_t)head[3] << 8 | head[4], at = 5;
    }
    if (at + size > len) size = len - at;
    snprintf(out, cap, "RUN %.*s", (int)size, (const char *)head + at);
}

static void put_string(uint8_t *out, size_t *at, const char *s) {
    size_t len = strlen(s);
    if (len < 16) {
        out[(*at)++] = (uint8_t)(0x80 | len);
    } else {
        out[(*at)++] = 0xD0;
        out[(*at)++] = (uint8_t)len;
    }
    memcpy(out + *at, s, len);
    *at += len;
}

/* Sends the client one answer of its own: IGNORED, or FAILURE {code, message}. */
static bool answer_in_place(int fd, uint8_t tag, const char *code) {
    uint8_t message[600];
    size_t at = 2;
    message[at++] = tag == BOLT_FAILURE ? 0xB1 : 0xB0;
    message[at++] = tag;
    if (tag == BOLT_FAILURE) {
        message[at++] = 0xA2;
        put_string(message, &at, "code");
        put_string(message, &at, code);
        put_string(message, &at, "message");
        put_string(message, &at, "injected by the test's proxy");
    }
    message[0] = (uint8_t)((at - 2) >> 8), message[1] = (uint8_t)(at - 2);
    message[at++] = 0, message[at++] = 0;
    return send_all(fd, message, at);
}

/* One Bolt connection through the proxy: its own connection to the server, both directions parsed in one thread.
 * `pending` counts the requests the server has yet to answer (each answer ends with one SUCCESS, FAILURE or
 * IGNORED; GOODBYE has none), so that an answer made in the server's place comes after the server's own. After a
 * FAILURE made here, the client's requests are IGNORED here up to its RESET, which goes on to the server (a server
 * in a transaction then rolls it back), as a Bolt server in its FAILED state does. */
typedef struct bolt_link {
    fault_proxy *p;
    stream client, server;
    bool manifest, preamble_seen;
    int pending;
    bool failed;    /* a FAILURE was answered here: IGNORED up to RESET */
    int cut_after;  /* >= 0: the RECORDs still passed on before the link is cut */
} bolt_link;

/* Passes the server's complete answers on; false when the link is to end. */
static bool from_server(bolt_link *l) {
    for (;;) {
        stream *s = &l->server;
        size_t n;
        if (!s->handshake_done) {
            if (!(n = server_handshake_length(s))) return true;
            l->manifest = n > 4;
            s->handshake_done = true;
        } else {
            uint8_t head[2];
            size_t head_len;
            if (!(n = message_length(s, head, sizeof head, &head_len))) return true;
            if (head_len == 2 && head[1] == BOLT_RECORD && l->cut_after >= 0 && l->cut_after-- == 0) return false;
            if (head_len == 2 && (head[1] == BOLT_SUCCESS || head[1] == BOLT_FAILURE || head[1] == BOLT_IGNORED))
                l->pending--;
        }
        if (!send_all(l->client.fd, s->data, n)) return false;
        stream_consume(s, n);
    }
}

/* Reads and passes on the server's answers until none is pending (at most IO_LIMIT_MS). */
static bool drain_server(bolt_link *l) {
    for (uint64_t deadline = now_ms() + IO_LIMIT_MS; l->pending > 0;) {
        struct pollfd w = {l->server.fd, POLLIN, 0};
        if (now_ms() >= deadline || poll(&w, 1, 50) < 0) return false;
        if ((w.revents & (POLLIN | POLLHUP | POLLERR)) && (!stream_read(&l->server) || !from_server(l))) return false;
    }
    return true;
}

/* One request from the client, as the rule says; false when the link is to end. */
static bool request(bolt_link *l, const uint8_t *message, size_t n, const uint8_t *head, size_t head_len) {
    if (head_len < 2) return send_all(l->server.fd, message, n); /* a NOOP */
    if (l->failed && head[1] != BOLT_RESET) return answer_in_place(l->client.fd, BOLT_IGNORED, NULL);
    l->failed = false;
    char description[256];
    describe(head, head_len, description, sizeof description);
    int arg;
    proxy_action action = proxy_decide(l->p, description, &arg);
    bool good;
    if (action == PROXY_FAIL) {
        char code[128];
        pthread_mutex_lock(&l->p->lock);
        snprintf(code, sizeof code, "%s", l->p->fail_code);
        pthread_mutex_unlock(&l->p->lock);
        good = drain_server(l) && answer_in_place(l->client.fd, BOLT_FAILURE, code);
        l->failed = true;
    } else {
        proxy_wait_as_told(l->p, action, arg);
        if (action == PROXY_CUT) l->cut_after = arg;
        good = send_all(l->server.fd, message, n);
        if (head[1] != BOLT_GOODBYE) l->pending++;
    }
    proxy_done(l->p);
    return good;
}

/* Handles the client's complete requests; false when the link is to end. */
static bool from_client(bolt_link *l) {
    for (;;) {
        stream *s = &l->client;
        size_t n;
        if (!s->handshake_done) {
            /* The 20-byte preamble; then, when the server answered with the manifest, the client's choice (a
             * version and a capabilities varint). The client sends nothing more before the server's answer, which
             * is parsed before it is passed on. */
            uint64_t value;
            if (!l->preamble_seen)
                n = s->len >= 20 ? 20 : 0;
            else if (!l->server.handshake_done)
                return true;
            else if (!l->manifest)
                n = 0, s->handshake_done = true;
            else
                n = s->len > 4 ? varint_end(s->data, s->len, 4, &value) : 0;
            if (s->handshake_done) continue;
            if (!n) return true;
            s->handshake_done = l->preamble_seen;
            l->preamble_seen = true;
            if (!send_all(l->server.fd, s->data, n)) return false;
            stream_consume(s, n);
            continue;
        }
        uint8_t head[256];
        size_t head_len;
        if (!(n = message_length(s, head, sizeof head, &head_len))) return true;
        if (!request(l, s->data, n, head, head_len)) return false;
        stream_consume(s, n);
    }
}

/* The handler (fault_proxy.h). A server that is down: the client sees its connection closed, as without a proxy. */
static void serve_bolt(fault_proxy *p, int fd) {
    bolt_link l = {.p = p, .client = {.fd = fd}, .server = {.fd = connect_loopback(p->upstream_port)}, .cut_after = -1};
    /* Messages are passed on one by one: without this, Nagle's algorithm holds each small one until the previous
     * one's ACK, which the peer delays (40 ms a message), as the client and the server themselves avoid. */
    int one = 1;
    setsockopt(l.client.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (l.server.fd >= 0) setsockopt(l.server.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (l.server.fd >= 0 && !proxy_stopping(p)) {
        struct pollfd w[2] = {{l.client.fd, POLLIN, 0}, {l.server.fd, POLLIN, 0}};
        if (poll(w, 2, 100) < 0 && errno != EINTR) break;
        if ((w[0].revents & (POLLIN | POLLHUP | POLLERR)) && (!stream_read(&l.client) || !from_client(&l))) break;
        if ((w[1].revents & (POLLIN | POLLHUP | POLLERR)) && (!stream_read(&l.server) || !from_server(&l))) break;
    }
    if (l.server.fd >= 0) close(l.server.fd);
    free(l.client.data);
    free(l.server.data);
}

/* ---- The client folder ------------------------------------------------------------------------------------- */

#define SETTINGS_MAX 12

/* Opens dir with its graph on bolt://127.0.0.1:port plus the given settings (NULL-terminated, may be NULL). */
static eg_db *open_client(const char *dir, uint16_t port, const char *const *extra) {
    char uri[64];
    snprintf(uri, sizeof uri, "graph.uri=bolt://127.0.0.1:%u", (unsigned)port);
    const char *settings[SETTINGS_MAX] = {"graph.backend=neo4j", uri};
    size_t count = 2;
    for (size_t i = 0; extra && extra[i] && count < SETTINGS_MAX; i++) settings[count++] = extra[i];
    eg_options options = {EG_DURABILITY_NONE, settings, count};
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    if (st != EG_OK) fprintf(stderr, "  eg_open: %s: %s\n", eg_status_name(st), err.message);
    return db;
}

typedef struct create_call {
    eg_db *db;
    int n;
    eg_status status;
    eg_error error;
    uint64_t took_ms;
} create_call;

/* Creates memory n (a thread's body). */
static void *run_create(void *arg) {
    create_call *call = arg;
    float v[DIM];
    test_pattern_vector(call->n, v);
    char id[32];
    snprintf(id, sizeof id, "%d", call->n);
    eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = id, .vector = v, .dim = DIM};
    uint64_t start = now_ms();
    call->status = eg_memory_create(call->db, &spec, NULL, &call->error);
    call->took_ms = now_ms() - start;
    return NULL;
}

static eg_status create_memory(eg_db *db, int n) {
    create_call call = {.db = db, .n = n};
    run_create(&call);
    err = call.error;
    return call.status;
}




/* The graph breaker's state ("closed", "open", "half_open") from `health`. */
static const char *graph_breaker(eg_db *db, char *out, size_t cap) {
    json_t *r = test_exec(db, "{\"op\":\"health\"}");
    json_t *breaker = json_object_get(json_object_get(json_object_get(json_object_get(r, "result"), "stores"), "graph"),
                                      "breaker");
    snprintf(out, cap, "%s", json_string_value(json_object_get(breaker, "state")));
    json_decref(r);
    return out;
}

static bool breaker_is(eg_db *db, const char *state) {
    char got[32];
    graph_breaker(db, got, sizeof got);
    if (strcmp(got, state) == 0) return true;
    fprintf(stderr, "  the graph breaker is %s, expected %s\n", got, state);
    return false;
}

/* A server behind a proxy, and a client folder on the proxy. */
typedef struct setup {
    server s;
    fault_proxy p;
    const char *dir;
} setup;

static bool set_up(setup *t) {
    if (!server_new(&t->s)) return false;
    if (!proxy_start(&t->p, t->s.port, serve_bolt)) return false;
    t->dir = test_data_dir();
    return true;
}

/* The proxy stopped and the server stopped with SIGTERM (it must exit 0). */
static void tear_down(setup *t) {
    proxy_stop(&t->p);
    CHECK(server_stop(&t->s));
}

/* The end of every test: the folder reopened by a healthy client (no rule), check consistent (after a repair when
 * `repair`), memories first..last whole. */
static void reopened_whole(setup *t, bool repair, int first, int last) {
    proxy_rule(&t->p, "", PROXY_FORWARD, 0, 0, 0);
    CHECK(proxy_wait_idle(&t->p, 10000));
    eg_db *db = open_client(t->dir, t->p.port, NULL);
    CHECK(db != NULL);
    if (!db) return;
    CHECK(test_consistent_after(db, repair));
    for (int n = first; n <= last; n++) CHECK(test_memory_whole(db, "entities", n));
    eg_close(db);
}

/* ---- The tests --------------------------------------------------------------------------------------------- */

#define BEFORE 10 /* memories acknowledged before each fault */

TEST(the_server_killed_mid_transaction_leaves_the_memory_whole_or_absent) {
    setup t;
    REQUIRE(set_up(&t));
    /* graph.timeout_ms bounds the undo's retries against the dead server */
    static const char *const settings[] = {"graph.timeout_ms=1000", "breaker.failure_threshold=100", NULL};
    eg_db *db = open_client(t.dir, t.p.port, settings);
    REQUIRE(db);
    for (int n = 1; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    /* The COMMIT of the create's node transaction is held while the server is killed, then goes to a dead server.
     * The create fails; its undo (delete the node: a graph write) cannot reach the server either. */
    proxy_rule(&t.p, "COMMIT", PROXY_HOLD, 0, 1, 0);
    create_call call = {.db = db, .n = 100};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, run_create, &call) == 0);
    CHECK(proxy_wait_held(&t.p, 10000));
    server_kill(&t.s);
    proxy_release(&t.p);
    pthread_join(thread, NULL);
    CHECK(call.status == EG_UNAVAILABLE);
    printf("  the create failed: %s: %s\n", eg_status_name(call.status), call.error.message);
    eg_close(db);

    REQUIRE(server_start(&t.s, t.s.port));
    /* In both stores or in neither — neither here: the COMMIT never reached a live server, which lost the
     * uncommitted node with its process, and the undo deleted the vector (embedded). */
    db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    CHECK(test_memory_absent(db, "entities", 100));
    eg_close(db);
    /* Repair: the undo's delete of the node could not reach the graph, so the saga is a dead letter, which check
     * reports until its repair finds the memory consistent (in neither store) and resolves it. */
    reopened_whole(&t, true, 1, BEFORE);
    db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    CHECK_OK(create_memory(db, 100), &err); /* the id is free again */
    CHECK(test_memory_whole(db, "entities", 100));
    eg_close(db);
    tear_down(&t);
}

TEST(a_server_restarted_between_calls_costs_no_call) {
    setup t;
    REQUIRE(set_up(&t));
    eg_db *db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    /* two threads at once, so that the pool keeps more than one idle connection */
    create_call calls[2] = {{.db = db, .n = 1}, {.db = db, .n = 2}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) REQUIRE(pthread_create(&threads[i], NULL, run_create, &calls[i]) == 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        CHECK_OK(calls[i].status, &calls[i].error);
    }
    for (int n = 3; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    /* The server stops (SIGTERM: it closes its connections, the proxy passes the close on) and starts again on the
     * same folder and port. The pool's idle connections are stale: before reusing one, the client polls it (an
     * idle connection has nothing to read; a readable one was closed by the server) and opens a new one in its
     * place (client_pool.c, eg_bolt_conn_alive). So no request is sent on a dead connection — which matters for
     * writes, never sent again once written — and every call after the restart succeeds at the first try. */
    CHECK(server_stop(&t.s));
    REQUIRE(server_start(&t.s, t.s.port));
    char state[32];
    for (int n = 100; n < 110; n++) CHECK_OK(create_memory(db, n), &err);
    float v[DIM];
    test_pattern_vector(100, v);
    eg_recall_request recall = {.type = EG_MEMORY_ENTITY, .vector = v, .dim = DIM, .limit = 3, .expand = 1};
    json_t *out = NULL;
    CHECK_OK(eg_memory_recall(db, &recall, &out, &err), &err);
    json_decref(out);
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_ENTITY, "109", &err), &err);
    CHECK(strcmp(graph_breaker(db, state, sizeof state), "closed") == 0);
    eg_close(db);
    reopened_whole(&t, false, 1, BEFORE);
    db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    for (int n = 100; n < 109; n++) CHECK(test_memory_whole(db, "entities", n));
    CHECK(test_memory_absent(db, "entities", 109));
    eg_close(db);
    tear_down(&t);
}

TEST(a_slow_server_times_out_and_opens_the_breaker_which_then_fails_fast) {
    setup t;
    REQUIRE(set_up(&t));
    static const char *const settings[] = {"graph.timeout_ms=200", "breaker.failure_threshold=2",
                                           "breaker.reset_timeout_ms=600000", NULL};
    eg_db *db = open_client(t.dir, t.p.port, settings);
    REQUIRE(db);
    for (int n = 1; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    /* every statement reaches the server, and so its answer the client, 1 s late */
    proxy_rule(&t.p, "RUN ", PROXY_DELAY, 0, -1, 1000);
    for (int n = 100; n <= 101; n++) {
        CHECK(breaker_is(db, "closed"));
        uint64_t start = now_ms();
        eg_status st = create_memory(db, n);
        CHECK(st == EG_TIMEOUT || st == EG_UNAVAILABLE);
        CHECK(now_ms() - start < 900); /* the timeout ended it, not the delay */
        printf("  create %d: %s: %s\n", n, eg_status_name(st), err.message);
    }
    CHECK(breaker_is(db, "open"));
    /* open: fails at once, sending nothing */
    int sent = proxy_requests(&t.p);
    uint64_t start = now_ms();
    CHECK_STATUS(create_memory(db, 102), EG_UNAVAILABLE, &err);
    CHECK(now_ms() - start < 150 && proxy_requests(&t.p) == sent);
    CHECK(strstr(err.message, "graph store unavailable: circuit open") != NULL);
    eg_close(db);

    /* Every create failed at its first read of the graph, before writing anything: no repair. */
    reopened_whole(&t, false, 1, BEFORE);
    db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    for (int n = 100; n <= 102; n++) CHECK(test_memory_absent(db, "entities", n));
    eg_close(db);
    tear_down(&t);
}

#define SPOKES 150 /* memories related to one hub: a RECORD stream of 150 relationships */
#define HUB 500

TEST(a_connection_dropped_mid_result_is_unavailable_and_applies_nothing) {
    setup t;
    REQUIRE(set_up(&t));
    static const char *const settings[] = {"breaker.failure_threshold=100", NULL};
    eg_db *db = open_client(t.dir, t.p.port, settings);
    REQUIRE(db);
    CHECK_OK(create_memory(db, HUB), &err);
    eg_memory_spec specs[SPOKES];
    float vectors[SPOKES][DIM];
    char ids[SPOKES][32];
    eg_memory_relationship to_hub = {"500", EG_REL_RELATES_TO, NULL};
    for (int i = 0; i < SPOKES; i++) {
        test_pattern_vector(1 + i, vectors[i]);
        snprintf(ids[i], sizeof ids[i], "%d", 1 + i);
        specs[i] = (eg_memory_spec){.type = EG_MEMORY_ENTITY, .id = ids[i], .vector = vectors[i], .dim = DIM,
                                    .relationships = &to_hub, .relationship_count = 1};
    }
    CHECK_OK(eg_memory_batch_create(db, specs, SPOKES, NULL, &err), &err);

    /* Recall of the hub with one hop of graph context: its relationships come as one RECORD per row, and the link
     * is cut after 20 of them. A read that already received records is not sent again (it could have been a
     * write's answer), so the call fails. */
    float v[DIM];
    test_pattern_vector(HUB, v);
    eg_recall_request recall = {.type = EG_MEMORY_ENTITY, .vector = v, .dim = DIM, .limit = 1, .expand = 1};
    proxy_rule(&t.p, "OPTIONAL MATCH (n)-[r]-(m)", PROXY_CUT, 0, 1, 20);
    json_t *out = NULL;
    CHECK_STATUS(eg_memory_recall(db, &recall, &out, &err), EG_UNAVAILABLE, &err);
    CHECK(out == NULL);
    printf("  recall cut: %s\n", err.message);
    /* the next call works, with the whole expansion */
    CHECK_OK(eg_memory_recall(db, &recall, &out, &err), &err);
    json_t *hit = json_array_get(json_object_get(out, "memories"), 0);
    CHECK(strcmp(json_string_value(json_object_get(hit, "id")), "500") == 0);
    CHECK(json_array_size(json_object_get(hit, "relationships")) == SPOKES);
    json_decref(out);

    /* check's listing of the Entity nodes cut after 20: a repair must not take the unread nodes for missing and
     * remove their vectors */
    proxy_rule(&t.p, "MATCH (n:`Entity`) RETURN n", PROXY_CUT, 0, 1, 20);
    json_t *report = NULL;
    CHECK_STATUS(eg_memory_check(db, true, &report, &err), EG_UNAVAILABLE, &err);
    json_decref(report);
    CHECK_OK(create_memory(db, 1000), &err);
    eg_close(db);

    reopened_whole(&t, false, 1, SPOKES);
    db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    CHECK(test_memory_whole(db, "entities", HUB) && test_memory_whole(db, "entities", 1000));
    eg_close(db);
    tear_down(&t);
}

/* The statement that creates a memory's node (neo4j_nodes.c). */
#define CREATE_NODE "CREATE (n:`Entity`"

TEST(failures_answered_in_the_servers_place_undo_the_saga_and_count_as_their_class_says) {
    setup t;
    REQUIRE(set_up(&t));
    /* graph.timeout_ms bounds the client's retries of a transient failure */
    static const char *const settings[] = {"graph.timeout_ms=300", "breaker.failure_threshold=3",
                                           "breaker.reset_timeout_ms=600000", NULL};
    eg_db *db = open_client(t.dir, t.p.port, settings);
    REQUIRE(db);
    for (int n = 1; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    /* A transient failure of a read is retried by the client: the create's first read refused once, then
     * answered. */
    proxy_fail_code(&t.p, "Neo.TransientError.General.DatabaseUnavailable");
    proxy_rule(&t.p, "RUN OPTIONAL MATCH (n_0:`Episode` {id: $id})", PROXY_FAIL, 0, 1, 0);
    CHECK_OK(create_memory(db, 100), &err);
    CHECK(proxy_matched(&t.p) >= 2); /* the refused read was sent again */
    CHECK(breaker_is(db, "closed"));

    /* A syntax error is the caller's (EG_INVALID_ARGUMENT), not the store's: it is not retried, the saga is undone,
     * and however many there are (more than the threshold here), the breaker stays closed. */
    proxy_fail_code(&t.p, "Neo.ClientError.Statement.SyntaxError");
    proxy_rule(&t.p, CREATE_NODE, PROXY_FAIL, 0, -1, 0);
    for (int n = 101; n <= 104; n++) {
        CHECK_STATUS(create_memory(db, n), EG_INVALID_ARGUMENT, &err);
        CHECK(test_memory_absent(db, "entities", n));
    }
    CHECK(strstr(err.message, "Neo.ClientError.Statement.SyntaxError") != NULL);
    CHECK(proxy_matched(&t.p) == 4); /* one try each */
    CHECK(breaker_is(db, "closed"));

    /* Store failures from here on. The undo of a create whose node was never made deletes nothing (not_found, a
     * caller error), which neither counts nor ends a run of failures: each failed create is one failure in a row. */
    /* A transient failure of the node's creation, every time: EG_UNAVAILABLE, the saga undone. */
    proxy_fail_code(&t.p, "Neo.TransientError.General.DatabaseUnavailable");
    proxy_rule(&t.p, CREATE_NODE, PROXY_FAIL, 0, -1, 0);
    CHECK_STATUS(create_memory(db, 105), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "Neo.TransientError.General.DatabaseUnavailable") != NULL);
    CHECK(test_memory_absent(db, "entities", 105));
    CHECK(breaker_is(db, "closed"));
    /* A transient failure of the node transaction's COMMIT, once: the server rolled the transaction back (the
     * client's RESET reaches it), so the client runs the whole transaction again (a managed transaction) and the
     * create succeeds, whole. */
    proxy_rule(&t.p, "COMMIT", PROXY_FAIL, 0, 1, 0);
    CHECK_OK(create_memory(db, 106), &err);
    CHECK(test_memory_whole(db, "entities", 106));
    CHECK(proxy_matched(&t.p) >= 2); /* the refused COMMIT, and that of the transaction run again */
    CHECK(breaker_is(db, "closed"));
    /* Every statement refused as transient: the creates fail at their first read, each read retried until
     * graph.timeout_ms; the breaker opens at the third failure in a row (106's success ended the run of 105). */
    proxy_rule(&t.p, "RUN ", PROXY_FAIL, 0, -1, 0);
    CHECK_STATUS(create_memory(db, 107), EG_UNAVAILABLE, &err);
    CHECK(proxy_matched(&t.p) >= 2);
    CHECK_STATUS(create_memory(db, 108), EG_UNAVAILABLE, &err);
    CHECK(breaker_is(db, "closed"));
    CHECK_STATUS(create_memory(db, 109), EG_UNAVAILABLE, &err);
    CHECK(breaker_is(db, "open"));
    eg_close(db);

    reopened_whole(&t, false, 1, BEFORE);
    db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    CHECK(test_memory_whole(db, "entities", 100));
    for (int n = 101; n <= 109; n++) CHECK(n == 106 ? test_memory_whole(db, "entities", n) : test_memory_absent(db, "entities", n));
    eg_close(db);
    tear_down(&t);
}

TEST(an_exhausted_pool_fails_the_create_within_the_acquisition_timeout) {
    setup t;
    REQUIRE(set_up(&t));
    static const char *const settings[] = {"graph.max_connections=1", "graph.acquisition_timeout_ms=300", NULL};
    eg_db *db = open_client(t.dir, t.p.port, settings);
    REQUIRE(db);
    for (int n = 1; n <= BEFORE; n++) CHECK_OK(create_memory(db, n), &err);

    /* The one connection is held by a graph transaction of the test's */
    eg_graph *tx = NULL;
    CHECK_OK(eg_graph_begin(eg_db_graph(db), &tx, &err), &err);
    REQUIRE(tx);
    eg_node node = {0};
    CHECK_OK(eg_graph_get_node(tx, "1", EG_LABEL_ANY, &node, &err), &err);
    eg_node_clear(&node);
    create_call call = {.db = db, .n = 100};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, run_create, &call) == 0);
    pthread_join(thread, NULL);
    CHECK_STATUS(call.status, EG_UNAVAILABLE, &call.error);
    CHECK(strstr(call.error.message, "no connection free within 300 ms (pool of 1)") != NULL);
    CHECK(call.took_ms >= 300 && call.took_ms < 3000);
    printf("  the create failed after %llu ms: %s\n", (unsigned long long)call.took_ms, call.error.message);
    eg_graph_rollback(tx);
    CHECK(test_memory_absent(db, "entities", 100));

    CHECK_OK(create_memory(db, 100), &err);
    eg_close(db);
    reopened_whole(&t, false, 1, BEFORE);
    db = open_client(t.dir, t.p.port, NULL);
    REQUIRE(db);
    CHECK(test_memory_whole(db, "entities", 100));
    eg_close(db);
    tear_down(&t);
}

int main(void) {
    RUN(the_server_killed_mid_transaction_leaves_the_memory_whole_or_absent);
    RUN(a_server_restarted_between_calls_costs_no_call);
    RUN(a_slow_server_times_out_and_opens_the_breaker_which_then_fails_fast);
    RUN(a_connection_dropped_mid_result_is_unavailable_and_applies_nothing);
    RUN(failures_answered_in_the_servers_place_undo_the_saga_and_count_as_their_class_says);
    RUN(an_exhausted_pool_fails_the_create_within_the_acquisition_timeout);
    return test_summary();
}
