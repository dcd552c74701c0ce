/* fuzz_bolt_client.c — the Bolt client's reading of what a server sends (src/bolt/client_connection.c), for a
 * server is not trusted either: the handshake answer (a version or the manifest), then any messages.
 *
 * Input: byte 0 chooses the client's settings (bit 0: credentials, so basic auth instead of none; bit 1: a
 * routing context in HELLO); the rest is everything the server says, from its first handshake byte on. It reaches
 * the client through a socketpair, written by a thread that then ends the stream and reads whatever the client
 * sends until the client closes, so that nothing blocks. The client opens the connection and, while it stays
 * sound, runs the requests the pool and transactions use: RUN + PULL (paged), RUN + DISCARD, BEGIN, RUN in the
 * transaction, COMMIT, BEGIN + ROLLBACK, ROUTE. Checked: each ends with a status and an error message that is
 * valid UTF-8, a successful result is well formed (a list of field names, records as long), and the end of the
 * input is a clean error, never a hang or crash (sanitizers catch the rest). */
#include "bolt/client_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Above this the fuzzer learns nothing new, and the pipe could fill both ways. */
#define MAX_SERVER_BYTES (64u << 10)

typedef struct server_side {
    int fd;
    const uint8_t *bytes;
    size_t len;
} server_side;

static void *serve(void *argument) {
    server_side *server = argument;
    for (size_t at = 0; at < server->len;) {
        ssize_t n = send(server->fd, server->bytes + at, server->len - at, MSG_NOSIGNAL);
        if (n <= 0) break;
        at += (size_t)n;
    }
    shutdown(server->fd, SHUT_WR);
    uint8_t sink[4096];
    while (recv(server->fd, sink, sizeof sink, 0) > 0) {
    }
    return NULL;
}

static void check_error(eg_status s, const eg_error *err) {
    if (s == EG_OK) return;
    if (!eg_ps_utf8_valid(err->message, strlen(err->message))) abort();
}

static void check_result(eg_status s, const eg_bolt_result *result) {
    if (s != EG_OK) return;
    if (result->fields.kind != EG_PS_LIST || result->records.kind != EG_PS_LIST) abort();
    for (size_t i = 0; i < result->fields.as.list.count; i++)
        if (result->fields.as.list.items[i].kind != EG_PS_STRING) abort();
    for (size_t i = 0; i < result->records.as.list.count; i++) {
        const eg_ps_value *record = &result->records.as.list.items[i];
        if (record->kind != EG_PS_LIST || record->as.list.count != result->fields.as.list.count) abort();
    }
}

static void converse(eg_bolt_conn *conn) {
    eg_bolt_request_context context = {.database = "neo4j", .read = true, .bookmark = "bm:1"};
    eg_bolt_outcome outcome = {{{0}}};
    eg_bolt_result result;
    char bookmark[EG_BOLT_BOOKMARK_MAX] = "";
    eg_error err;
    eg_status s = eg_bolt_conn_run(conn, "RETURN 1 AS n", NULL, &context, &result, bookmark, &outcome, &err);
    check_error(s, &err);
    check_result(s, &result);
    eg_bolt_result_free(&result);
    if (conn->broken) return;
    s = eg_bolt_conn_run_discard(conn, "CREATE (n)", NULL, &context, bookmark, &outcome, &err);
    check_error(s, &err);
    if (conn->broken) return;
    s = eg_bolt_conn_begin(conn, &context, &err);
    check_error(s, &err);
    if (conn->broken) return;
    s = eg_bolt_conn_run(conn, "MATCH (n) RETURN n", NULL, NULL, &result, NULL, &outcome, &err);
    check_error(s, &err);
    check_result(s, &result);
    eg_bolt_result_free(&result);
    if (conn->broken) return;
    s = eg_bolt_conn_commit(conn, bookmark, &outcome, &err);
    check_error(s, &err);
    if (conn->broken) return;
    s = eg_bolt_conn_begin(conn, &context, &err);
    check_error(s, &err);
    if (conn->broken) return;
    s = eg_bolt_conn_commit(conn, bookmark, &outcome, &err); /* BEGIN and COMMIT travel together */
    check_error(s, &err);
    if (conn->broken) return;
    s = eg_bolt_conn_begin(conn, &context, &err);
    check_error(s, &err);
    if (conn->broken) return;
    s = eg_bolt_conn_run_discard(conn, "CREATE (n)", NULL, NULL, NULL, &outcome, &err);
    check_error(s, &err);
    if (conn->broken) return;
    s = eg_bolt_conn_rollback(conn, &outcome, &err);
    check_error(s, &err);
    if (conn->broken) return;
    eg_ps_value table;
    s = eg_bolt_conn_route(conn, "neo4j", bookmark, &table, &outcome, &err);
    check_error(s, &err);
    if (s == EG_OK && table.kind != EG_PS_DICT) abort();
    eg_ps_value_free(&table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > MAX_SERVER_BYTES) return 0;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return 0;
    server_side server = {.fd = pair[1], .bytes = data + 1, .len = size - 1};
    pthread_t thread;
    if (pthread_create(&thread, NULL, serve, &server) != 0) {
        close(pair[0]);
        close(pair[1]);
        return 0;
    }
    eg_bolt_connect_config config = {.user = (data[0] & 1) ? "neo4j" : NULL,
                                     .password = "secret",
                                     .routing = (data[0] & 2) != 0,
                                     .timeout_ms = 5000};
    eg_bolt_conn *conn = NULL;
    eg_bolt_outcome outcome = {{{0}}};
    eg_error err;
    eg_status s = eg_bolt_conn_start(pair[0], "fuzz.example:7687", &config, &conn, &outcome, &err);
    check_error(s, &err);
    if (s == EG_OK) {
        converse(conn);
        eg_bolt_conn_close(conn);
    }
    pthread_join(thread, NULL);
    close(pair[1]);
    return 0;
}
