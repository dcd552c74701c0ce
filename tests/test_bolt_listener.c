/* test_bolt_listener.c — the Bolt transport on loopback: a whole conversation over a real socket, in the clear and
 * over TLS (a GnuTLS client that verifies the certificate), refused certificate files, the bound on connections (a
 * FAILURE at HELLO past it), the idle timeout, a silent client's transaction rolled back at its deadline on the
 * connection's thread, and a stop with connections (and a transaction) still open. Every read has a 5 s timeout. */
#include "bolt/chunking.h"
#include "bolt/listener.h"
#include "bolt/packstream.h"
#include "test.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- the statement engine of these tests: it answers 1 to everything, and records, with the thread, how its
 * transactions begin and end ---- */

typedef struct transaction_log {
    pthread_mutex_t lock;
    int begun, rolled_back;
    bool same_thread; /* every rollback on the thread of its begin */
    pthread_t began_on;
} transaction_log;

static transaction_log tx_log = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void reset_tx_log(void) {
    pthread_mutex_lock(&tx_log.lock);
    tx_log.begun = tx_log.rolled_back = 0;
    tx_log.same_thread = true;
    pthread_mutex_unlock(&tx_log.lock);
}

static bool begin_logged(void *context, void **tx, eg_bolt_failure *failure) {
    (void)context;
    (void)failure;
    pthread_mutex_lock(&tx_log.lock);
    tx_log.begun++;
    tx_log.began_on = pthread_self();
    *tx = &tx_log;
    pthread_mutex_unlock(&tx_log.lock);
    return true;
}

/* Every statement answers one record: 1, in a column "n" (what `RETURN 1 AS n` answers). */
static bool run_logged(void *context, void *tx, const char *statement, size_t statement_len,
                       const eg_ps_value *parameters, eg_bolt_result *result, eg_bolt_failure *failure) {
    (void)context, (void)tx, (void)statement, (void)statement_len, (void)parameters;
    eg_ps_value *field = calloc(1, sizeof *field), *record = calloc(1, sizeof *record),
                *value = calloc(1, sizeof *value);
    char *name = strdup("n");
    if (!field || !record || !value || !name) {
        free(field), free(record), free(value), free(name);
        snprintf(failure->code, sizeof failure->code, "Neo.DatabaseError.General.OutOfMemoryError");
        snprintf(failure->message, sizeof failure->message, "out of memory");
        return false;
    }
    *field = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = name, .len = 1}};
    *value = (eg_ps_value){.kind = EG_PS_INT, .as.integer = 1};
    *record = (eg_ps_value){.kind = EG_PS_LIST, .as.list = {.items = value, .count = 1}};
    *result = (eg_bolt_result){.fields = {.kind = EG_PS_LIST, .as.list = {.items = field, .count = 1}},
                               .records = {.kind = EG_PS_LIST, .as.list = {.items = record, .count = 1}},
                               .type = "r"};
    return true;
}

static bool commit_logged(void *context, void *tx, eg_bolt_failure *failure) {
    (void)context;
    (void)tx;
    (void)failure;
    return true;
}

static void rollback_logged(void *context, void *tx) {
    (void)context;
    (void)tx;
    pthread_mutex_lock(&tx_log.lock);
    tx_log.rolled_back++;
    if (!pthread_equal(tx_log.began_on, pthread_self())) tx_log.same_thread = false;
    pthread_mutex_unlock(&tx_log.lock);
}

static const eg_bolt_statements LOGGED_ENGINE = {
    .begin = begin_logged, .run = run_logged, .commit = commit_logged, .rollback = rollback_logged};

static int rolled_back_count(void) {
    pthread_mutex_lock(&tx_log.lock);
    int n = tx_log.same_thread ? tx_log.rolled_back : -1;
    pthread_mutex_unlock(&tx_log.lock);
    return n;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* ---- the client: a socket, with a GnuTLS session over it for TLS ---- */

typedef struct peer {
    int fd;
    gnutls_session_t tls; /* NULL: plain */
    gnutls_certificate_credentials_t trust;
} peer;

static ssize_t peer_send(const peer *p, const void *data, size_t len) {
    return p->tls ? gnutls_record_send(p->tls, data, len) : send(p->fd, data, len, MSG_NOSIGNAL);
}

/* Up to len bytes (exactly len when all), as recv does; <= 0 at the end of the stream or on a timeout. */
static ssize_t peer_recv(const peer *p, void *data, size_t len, bool all) {
    if (!p->tls) return recv(p->fd, data, len, all ? MSG_WAITALL : 0);
    size_t have = 0;
    do {
        ssize_t n = gnutls_record_recv(p->tls, (char *)data + have, len - have);
        if (n <= 0) return have > 0 ? (ssize_t)have : (n == 0 ? 0 : -1);
        have += (size_t)n;
    } while (all && have < len);
    return (ssize_t)have;
}

static void peer_close(peer *p) {
    if (p->tls) gnutls_deinit(p->tls);
    if (p->trust) gnutls_certificate_free_credentials(p->trust);
    close(p->fd);
}

static eg_bolt_listener *start_with(const eg_bolt_listener_options *options) {
    eg_bolt_listener *l = NULL;
    eg_error err;
    CHECK_OK(eg_bolt_listener_start(options, &l, &err), &err);
    return l;
}

static eg_bolt_listener_options options_of(unsigned max_connections, unsigned idle_timeout_ms) {
    return (eg_bolt_listener_options){.address = "127.0.0.1:0",
                                        .user = "neo4j",
                                        .password = "secret",
                                        .max_connections = max_connections,
                                        .idle_timeout_ms = idle_timeout_ms,
                                        .max_message_bytes = 1 << 20,
                                        .routing_ttl_seconds = 300,
                                        .statements = &LOGGED_ENGINE};
}

static eg_bolt_listener *start(unsigned max_connections, unsigned idle_timeout_ms) {
    eg_bolt_listener_options options = options_of(max_connections, idle_timeout_ms);
    return start_with(&options);
}

static peer connect_to(uint16_t port) {
    peer p = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(p.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(p.fd, (struct sockaddr *)&a, sizeof a) == 0);
    return p;
}

/* A TLS connection that trusts only ca_file and checks that the certificate names `host`; false when the
 * handshake or the verification fails. */
static bool connect_tls(uint16_t port, const char *ca_file, const char *host, peer *p) {
    *p = connect_to(port);
    if (gnutls_certificate_allocate_credentials(&p->trust) != GNUTLS_E_SUCCESS) return false;
    if (gnutls_certificate_set_x509_trust_file(p->trust, ca_file, GNUTLS_X509_FMT_PEM) <= 0) return false;
    if (gnutls_init(&p->tls, GNUTLS_CLIENT) != GNUTLS_E_SUCCESS) return false;
    gnutls_set_default_priority(p->tls);
    gnutls_credentials_set(p->tls, GNUTLS_CRD_CERTIFICATE, p->trust);
    gnutls_session_set_verify_cert(p->tls, host, 0);
    gnutls_transport_set_int(p->tls, p->fd);
    int done;
    do done = gnutls_handshake(p->tls);
    while (done == GNUTLS_E_INTERRUPTED || done == GNUTLS_E_AGAIN);
    return done == GNUTLS_E_SUCCESS;
}

static void send_message(const peer *p, eg_ps_writer *w) {
    eg_byte_buffer framed = {0};
    CHECK(eg_bolt_chunk_message((const uint8_t *)w->out.data, w->out.len, &framed, SIZE_MAX));
    CHECK(peer_send(p, framed.data, framed.len) == (ssize_t)framed.len);
    free(framed.data);
    free(w->out.data);
}

static void write_text(eg_ps_writer *w, const char *text) { eg_ps_write_string(w, text, strlen(text)); }

/* Reads answers until `count` messages have come; returns the tag of each (0 if it did not come) in tags, and the
 * code of the last FAILURE in failure_code when it is not NULL. */
static void read_answers_and_failure(const peer *p, size_t count, uint8_t *tags, int64_t *first_record_value,
                                     char *failure_code, size_t failure_code_size) {
    eg_bolt_dechunker d = {.max_message = 1 << 20};
    uint8_t buffer[4096];
    size_t have = 0;
    memset(tags, 0, count);
    while (have < count) {
        ssize_t n = peer_recv(p, buffer, sizeof buffer, false);
        if (n <= 0) break;
        for (size_t at = 0; at < (size_t)n && have < count;) {
            size_t used;
            eg_error err;
            if (eg_bolt_dechunker_feed(&d, buffer + at, (size_t)n - at, &used, &err) != EG_OK) break;
            at += used;
            if (!d.complete) continue;
            eg_ps_value v;
            if (eg_ps_decode((const uint8_t *)d.message.data, d.message.len, EG_PS_BOLT_5, true, &v, &err) == EG_OK) {
                tags[have] = v.as.list.tag;
                if (v.as.list.tag == 0x71 && first_record_value != NULL)
                    *first_record_value = v.as.list.items[0].as.list.items[0].as.integer;
                const eg_ps_value *meta = &v.as.list.items[0];
                if (v.as.list.tag == 0x7F && failure_code != NULL && meta->kind == EG_PS_DICT &&
                    meta->as.dict.count > 0 && meta->as.dict.entries[0].value.kind == EG_PS_STRING)
                    snprintf(failure_code, failure_code_size, "%s", meta->as.dict.entries[0].value.as.text.data);
                eg_ps_value_free(&v);
            }
            have++;
            eg_bolt_dechunker_next(&d);
        }
    }
    eg_bolt_dechunker_free(&d);
}

static void read_answers(const peer *p, size_t count, uint8_t *tags, int64_t *first_record_value) {
    read_answers_and_failure(p, count, tags, first_record_value, NULL, 0);
}

static void handshake_5_4(const peer *p) {
    const uint8_t opening[20] = {0x60, 0x60, 0xB0, 0x17, 0, 0, 4, 5};
    CHECK(peer_send(p, opening, 20) == 20);
    uint8_t agreed[4] = {0};
    CHECK(peer_recv(p, agreed, 4, true) == 4);
    CHECK(agreed[2] == 4 && agreed[3] == 5);
}

static void hello_and_logon(const peer *p, const char *password) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, 0x01, 1);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "user_agent");
    write_text(&w, "test/1");
    send_message(p, &w);
    w = (eg_ps_writer){0};
    eg_ps_write_struct_header(&w, 0x6A, 1);
    eg_ps_write_dict_header(&w, 3);
    write_text(&w, "scheme");
    write_text(&w, "basic");
    write_text(&w, "principal");
    write_text(&w, "neo4j");
    write_text(&w, "credentials");
    write_text(&w, password);
    send_message(p, &w);
}

/* A message with one dictionary field holding nothing but n: -1 when has_n (PULL), empty otherwise. */
static void send_simple(const peer *p, uint8_t tag, bool has_n) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, tag, 1);
    eg_ps_write_dict_header(&w, has_n);
    if (has_n) {
        write_text(&w, "n");
        eg_ps_write_int(&w, -1);
    }
    send_message(p, &w);
}

static void send_run(const peer *p, const char *statement) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, 0x10, 3);
    write_text(&w, statement);
    eg_ps_write_dict_header(&w, 0);
    eg_ps_write_dict_header(&w, 0);
    send_message(p, &w);
}

/* True when the server closed the connection (a read returns end of stream, not a timeout). */
static bool closed_by_server(const peer *p) {
    uint8_t byte;
    return peer_recv(p, &byte, 1, false) == 0;
}

/* RETURN 1 AS n after the handshake: what a driver's connectivity check does. */
static void return_1(const peer *p) {
    handshake_5_4(p);
    hello_and_logon(p, "secret");
    send_run(p, "RETURN 1 AS n");
    send_simple(p, 0x3F, true);
    uint8_t tags[5];
    int64_t value = 0;
    read_answers(p, 5, tags, &value);
    CHECK(tags[0] == 0x70 && tags[1] == 0x70 && tags[2] == 0x70 && tags[3] == 0x71 && tags[4] == 0x70);
    CHECK(value == 1);
}

TEST(return_1_over_a_socket) {
    eg_bolt_listener *l = start(8, 10000);
    REQUIRE(l != NULL);
    peer p = connect_to(eg_bolt_listener_port(l));
    return_1(&p);
    peer_close(&p);
    eg_bolt_listener_stop(l);
}

TEST(wrong_password_is_a_failure_then_close) {
    eg_bolt_listener *l = start(8, 10000);
    REQUIRE(l != NULL);
    peer p = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(&p);
    hello_and_logon(&p, "guess");
    uint8_t tags[2];
    read_answers(&p, 2, tags, NULL);
    CHECK(tags[0] == 0x70 && tags[1] == 0x7F);
    CHECK(closed_by_server(&p));
    peer_close(&p);
    eg_bolt_listener_stop(l);
}

TEST(connections_past_the_bound_are_refused_at_hello_and_idle_ones_time_out) {
    eg_bolt_listener *l = start(1, 1000);
    REQUIRE(l != NULL);
    peer first = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(&first); /* the first is being served */
    peer second = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(&second);
    hello_and_logon(&second, "secret");
    uint8_t tags[1];
    read_answers(&second, 1, tags, NULL);
    CHECK(tags[0] == 0x7F);
    CHECK(closed_by_server(&second));
    peer_close(&second);
    CHECK(closed_by_server(&first)); /* silent past 1 s */
    peer_close(&first);
    eg_bolt_listener_stop(l);
}

TEST(stop_closes_open_connections_and_rolls_back_their_transactions) {
    reset_tx_log();
    eg_bolt_listener_options options = options_of(8, 60000);
    eg_bolt_listener *l = start_with(&options);
    REQUIRE(l != NULL);
    peer idle = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(&idle);
    peer in_transaction = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(&in_transaction);
    hello_and_logon(&in_transaction, "secret");
    send_simple(&in_transaction, 0x11, false); /* BEGIN */
    uint8_t tags[3];
    read_answers(&in_transaction, 3, tags, NULL);
    CHECK(tags[2] == 0x70 && rolled_back_count() == 0);
    eg_bolt_listener_stop(l);
    CHECK(closed_by_server(&idle) && closed_by_server(&in_transaction));
    CHECK(rolled_back_count() == 1);
    peer_close(&idle);
    peer_close(&in_transaction);
}

TEST(a_silent_clients_transaction_is_rolled_back_at_its_deadline_on_its_thread) {
    reset_tx_log();
    eg_bolt_listener_options options = options_of(8, 60000);
    options.tx_timeout_ms = 150;
    eg_bolt_listener *l = start_with(&options);
    REQUIRE(l != NULL);
    peer p = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(&p);
    hello_and_logon(&p, "secret");
    send_simple(&p, 0x11, false); /* BEGIN */
    uint8_t tags[3];
    read_answers(&p, 3, tags, NULL);
    CHECK(tags[2] == 0x70);
    for (int waited = 0; waited < 5000 && rolled_back_count() == 0; waited += 10) sleep_ms(10);
    CHECK(rolled_back_count() == 1); /* without a word from the client */
    send_run(&p, "RETURN 1 AS n");
    send_simple(&p, 0x0F, false); /* RESET */
    char code[96] = "";
    read_answers_and_failure(&p, 2, tags, NULL, code, sizeof code);
    CHECK(tags[0] == 0x7F && strcmp(code, "Neo.ClientError.Transaction.TransactionTimedOut") == 0);
    CHECK(tags[1] == 0x70);
    peer_close(&p);
    eg_bolt_listener_stop(l);
    CHECK(rolled_back_count() == 1);
}

TEST(bolt_over_tls_with_a_verified_certificate) {
    const char *dir = test_scratch_dir();
    if (!test_make_certificate(dir)) {
        printf("     SKIPPED: neither certtool (gnutls-bin) nor openssl could make a certificate\n");
        return;
    }
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    eg_bolt_listener_options options = options_of(8, 10000);
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    eg_bolt_listener *l = start_with(&options);
    REQUIRE(l != NULL);
    peer p;
    CHECK(connect_tls(eg_bolt_listener_port(l), cert, "localhost", &p));
    return_1(&p);
    peer_close(&p);
    /* a certificate that does not name the host the client asked for fails the client's verification */
    CHECK(!connect_tls(eg_bolt_listener_port(l), cert, "elsewhere.example", &p));
    peer_close(&p);
    /* a client speaking plain Bolt to the TLS port gets no answer and a closed connection */
    p = connect_to(eg_bolt_listener_port(l));
    const uint8_t opening[20] = {0x60, 0x60, 0xB0, 0x17, 0, 0, 4, 5};
    CHECK(peer_send(&p, opening, 20) == 20);
    uint8_t answer[4];
    CHECK(recv(p.fd, answer, 4, MSG_WAITALL) <= 0);
    peer_close(&p);
    eg_bolt_listener_stop(l);
}

TEST(tls_files_that_cannot_serve_are_refused) {
    const char *dir = test_scratch_dir(), *other = test_scratch_dir();
    if (!test_make_certificate(dir) || !test_make_certificate(other)) {
        printf("     SKIPPED: neither certtool (gnutls-bin) nor openssl could make a certificate\n");
        return;
    }
    char cert[512], key[512], other_key[512], missing[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/key.pem", other);
    snprintf(missing, sizeof missing, "%s/none.pem", dir);
    const char *pairs[4][2] = {{cert, NULL}, {NULL, key}, {missing, key}, {cert, other_key}};
    const char *messages[4] = {"both a certificate and its key", "both a certificate and its key", "none.pem",
                               "cannot use the TLS certificate"};
    for (size_t i = 0; i < 4; i++) {
        eg_bolt_listener_options options = options_of(8, 1000);
        options.tls_cert_file = pairs[i][0];
        options.tls_key_file = pairs[i][1];
        eg_bolt_listener *l = NULL;
        eg_error err;
        CHECK(eg_bolt_listener_start(&options, &l, &err) == EG_INVALID_ARGUMENT);
        CHECK(l == NULL && strstr(err.message, messages[i]) != NULL);
    }
}

TEST(bad_addresses_are_refused) {
    const char *addresses[] = {"127.0.0.1", "127.0.0.1:99999", "[::1:7687", ":7687"};
    for (size_t i = 0; i < 4; i++) {
        eg_bolt_listener_options options = {.address = addresses[i],
                                            .max_connections = 1,
                                            .idle_timeout_ms = 1000,
                                            .max_message_bytes = 1024,
                                            .statements = &LOGGED_ENGINE};
        eg_bolt_listener *l = NULL;
        eg_error err;
        CHECK(eg_bolt_listener_start(&options, &l, &err) == EG_INVALID_ARGUMENT);
        CHECK(l == NULL);
    }
}

int main(void) {
    RUN(return_1_over_a_socket);
    RUN(wrong_password_is_a_failure_then_close);
    RUN(connections_past_the_bound_are_refused_at_hello_and_idle_ones_time_out);
    RUN(stop_closes_open_connections_and_rolls_back_their_transactions);
    RUN(a_silent_clients_transaction_is_rolled_back_at_its_deadline_on_its_thread);
    RUN(bolt_over_tls_with_a_verified_certificate);
    RUN(tls_files_that_cannot_serve_are_refused);
    RUN(bad_addresses_are_refused);
    return test_summary();
}
