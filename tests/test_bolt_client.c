/* test_bolt_client.c — engram's Bolt client (src/bolt/client.h) against engram's own Bolt server, started in this
 * process on loopback over a scratch graph with the Cypher engine: auto-commit round trips, parameters of every
 * kind, a result paged over several PULLs, explicit transactions, FAILUREs mapped to statuses with the connection
 * usable after, refused credentials, a server that stops and comes back on its port, an exhausted pool, TLS with a
 * self-signed certificate, many threads at once, and neo4j:// routing — against the server itself (it names itself
 * in ROUTE) and against a small fake cluster member in this file that refuses the first write as NotALeader. */
#include "bolt/client.h"
#include "bolt/chunking.h"
#include "bolt/cypher_statements.h"
#include "bolt/listener.h"
#include "bolt/packstream.h"
#include "test.h"

#include <engram/graph.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define USER "neo4j"
#define PASSWORD "s3cret-Pa55word"

/* ---- the server ---- */

typedef struct server {
    eg_graph *graph;
    eg_bolt_cypher_engine engine;
    eg_bolt_listener *listener;
    uint16_t port;
} server;

static server the_server;

/* (Re)starts the listener on port (0: a free one), over TLS when cert_dir holds cert.pem and key.pem. */
static eg_bolt_listener *listen_on(uint16_t port, const char *cert_dir) {
    char address[32], cert[600], key[600];
    snprintf(address, sizeof address, "127.0.0.1:%u", port);
    eg_bolt_listener_options options = {.address = address,
                                        .user = USER,
                                        .password = PASSWORD,
                                        .max_connections = 64,
                                        .idle_timeout_ms = 60000,
                                        .max_message_bytes = EG_PS_MAX_MESSAGE_BYTES,
                                        .routing_ttl_seconds = 300,
                                        .statements = &the_server.engine.statements};
    if (cert_dir != NULL) {
        snprintf(cert, sizeof cert, "%s/cert.pem", cert_dir);
        snprintf(key, sizeof key, "%s/key.pem", cert_dir);
        options.tls_cert_file = cert;
        options.tls_key_file = key;
    }
    eg_bolt_listener *listener = NULL;
    eg_error err;
    CHECK_OK(eg_bolt_listener_start(&options, &listener, &err), &err);
    return listener;
}

static void server_start(void) {
    eg_error err;
    eg_graph_lmdb_options lmdb = {.no_sync = true};
    CHECK_OK(eg_graph_open_lmdb(test_scratch_dir(), &lmdb, &the_server.graph, &err), &err);
    eg_bolt_cypher_engine_init(&the_server.engine, the_server.graph);
    the_server.listener = listen_on(0, NULL);
    the_server.port = eg_bolt_listener_port(the_server.listener);
}

/* ---- the client ---- */

static eg_bolt_client_options options_for(const char *scheme, uint16_t port) {
    static char uri[64];
    snprintf(uri, sizeof uri, "%s://127.0.0.1:%u", scheme, port);
    return (eg_bolt_client_options){.uri = uri, .user = USER, .password = PASSWORD, .timeout_ms = 3000};
}

static eg_bolt_client *open_client(const eg_bolt_client_options *options) {
    eg_bolt_client *client = NULL;
    eg_error err;
    CHECK_OK(eg_bolt_client_open(options, &client, &err), &err);
    return client;
}

/* A parameter dictionary, built by the PackStream writer and read back by the decoder. */
typedef struct params {
    eg_ps_writer w;
    eg_ps_value value;
} params;

static void write_text(eg_ps_writer *w, const char *text) { eg_ps_write_string(w, text, strlen(text)); }

static const eg_ps_value *params_done(params *p) {
    eg_error err;
    CHECK_OK(eg_ps_decode((const uint8_t *)p->w.out.data, p->w.out.len, EG_PS_BOLT_5, false, &p->value, &err), &err);
    free(p->w.out.data);
    p->w.out = (eg_byte_buffer){0};
    return &p->value;
}

/* {id: <id>} */
static const eg_ps_value *id_param(params *p, const char *id) {
    *p = (params){0};
    eg_ps_write_dict_header(&p->w, 1);
    write_text(&p->w, "id");
    write_text(&p->w, id);
    return params_done(p);
}

static const eg_ps_value *cell(const eg_bolt_result *r, size_t row, size_t column) {
    if (r->records.kind != EG_PS_LIST || row >= r->records.as.list.count) return NULL;
    const eg_ps_value *record = &r->records.as.list.items[row];
    return column < record->as.list.count ? &record->as.list.items[column] : NULL;
}

static bool cell_is_text(const eg_bolt_result *r, size_t row, size_t column, const char *text) {
    const eg_ps_value *v = cell(r, row, column);
    return v != NULL && v->kind == EG_PS_STRING && strcmp(v->as.text.data, text) == 0;
}

static bool cell_is_int(const eg_bolt_result *r, size_t row, size_t column, int64_t n) {
    const eg_ps_value *v = cell(r, row, column);
    return v != NULL && v->kind == EG_PS_INT && v->as.integer == n;
}

static size_t row_count(const eg_bolt_result *r) { return r->records.kind == EG_PS_LIST ? r->records.as.list.count : 0; }

/* The one integer a statement returns (-1 when it fails). */
static int64_t single_int(eg_bolt_client *client, const char *statement) {
    eg_bolt_result r;
    eg_error err;
    if (eg_bolt_client_run(client, EG_BOLT_READ, statement, NULL, &r, &err) != EG_OK) {
        fprintf(stderr, "  %s: %s\n", statement, err.message);
        return -1;
    }
    const eg_ps_value *v = cell(&r, 0, 0);
    int64_t n = v != NULL && v->kind == EG_PS_INT ? v->as.integer : -1;
    eg_bolt_result_free(&r);
    return n;
}

static double ms_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* ---- the tests ---- */

TEST(auto_commit_create_and_match) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    eg_bolt_result r;
    params p;
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_WRITE, "CREATE (n:Entity {id: $id, name: 'Ada'}) RETURN n.id AS id",
                                id_param(&p, "rt-1"), &r, &err),
             &err);
    CHECK(row_count(&r) == 1 && cell_is_text(&r, 0, 0, "rt-1"));
    CHECK(r.fields.kind == EG_PS_LIST && r.fields.as.list.count == 1 &&
          strcmp(r.fields.as.list.items[0].as.text.data, "id") == 0);
    CHECK(r.stats.kind == EG_PS_DICT);
    CHECK(r.type != NULL && strcmp(r.type, "rw") == 0);
    eg_bolt_result_free(&r);
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_READ, "MATCH (n:Entity {id: $id}) RETURN n.name", &p.value, &r, &err),
             &err);
    CHECK(row_count(&r) == 1 && cell_is_text(&r, 0, 0, "Ada"));
    eg_bolt_result_free(&r);
    /* records not wanted: DISCARD */
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_WRITE, "MATCH (n:Entity {id: $id}) SET n.name = 'Bo' RETURN n",
                                &p.value, NULL, &err),
             &err);
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_READ, "MATCH (n:Entity {id: $id}) RETURN n.name", &p.value, &r, &err),
             &err);
    CHECK(cell_is_text(&r, 0, 0, "Bo"));
    eg_bolt_result_free(&r);
    eg_ps_value_free(&p.value);
    eg_bolt_client_close(client);
}

TEST(parameters_of_several_types) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    params p = {0};
    eg_ps_write_dict_header(&p.w, 7);
    write_text(&p.w, "i");
    eg_ps_write_int(&p.w, -1234567890123);
    write_text(&p.w, "f");
    eg_ps_write_float(&p.w, 2.5);
    write_text(&p.w, "s");
    write_text(&p.w, "héllo ✓");
    write_text(&p.w, "b");
    eg_ps_write_bool(&p.w, true);
    write_text(&p.w, "n");
    eg_ps_write_null(&p.w);
    write_text(&p.w, "l");
    eg_ps_write_list_header(&p.w, 2);
    eg_ps_write_int(&p.w, 1);
    write_text(&p.w, "two");
    write_text(&p.w, "m");
    eg_ps_write_dict_header(&p.w, 1);
    write_text(&p.w, "k");
    eg_ps_write_float(&p.w, -0.25);
    const eg_ps_value *parameters = params_done(&p);
    eg_bolt_result r;
    eg_error err;
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_READ, "RETURN $i, $f, $s, $b, $n, $l, $m", parameters, &r, &err),
             &err);
    REQUIRE(row_count(&r) == 1);
    const eg_ps_value *record = &r.records.as.list.items[0];
    REQUIRE(record->as.list.count == 7);
    for (size_t i = 0; i < 7; i++) CHECK(eg_ps_value_equal(&record->as.list.items[i], &parameters->as.dict.entries[i].value));
    eg_bolt_result_free(&r);
    eg_ps_value_free(&p.value);
    eg_bolt_client_close(client);
}

TEST(large_result_is_paged_whole_and_in_order) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_bolt_result r;
    eg_error err;
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_READ, "UNWIND range(0, 4999) AS i RETURN i", NULL, &r, &err), &err);
    CHECK(row_count(&r) == 5000);
    bool in_order = true;
    for (size_t i = 0; i < row_count(&r); i++) in_order = in_order && cell_is_int(&r, i, 0, (int64_t)i);
    CHECK(in_order);
    eg_bolt_result_free(&r);
    eg_bolt_client_close(client);
}

TEST(explicit_transactions_commit_and_roll_back) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    eg_bolt_tx *tx = NULL;
    CHECK_OK(eg_bolt_client_begin(client, EG_BOLT_WRITE, &tx, &err), &err);
    REQUIRE(tx != NULL);
    params p;
    eg_bolt_result r;
    CHECK_OK(eg_bolt_tx_run(tx, "CREATE (n:Entity {id: $id}) RETURN n.id", id_param(&p, "tx-kept"), &r, &err), &err);
    CHECK(cell_is_text(&r, 0, 0, "tx-kept"));
    eg_bolt_result_free(&r);
    eg_ps_value_free(&p.value);
    CHECK_OK(eg_bolt_tx_run(tx, "CREATE (n:Entity {id: 'tx-kept-2'})", NULL, NULL, &err), &err);
    CHECK_OK(eg_bolt_tx_commit(tx, &err), &err);
    CHECK(single_int(client, "MATCH (n:Entity) WHERE n.id STARTS WITH 'tx-kept' RETURN count(n)") == 2);

    CHECK_OK(eg_bolt_client_begin(client, EG_BOLT_WRITE, &tx, &err), &err);
    REQUIRE(tx != NULL);
    CHECK_OK(eg_bolt_tx_run(tx, "CREATE (n:Entity {id: 'tx-gone'})", NULL, NULL, &err), &err);
    eg_bolt_tx_rollback(tx);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'tx-gone'}) RETURN count(n)") == 0);

    /* a failed statement leaves the transaction only for rollback, and nothing of it is kept */
    CHECK_OK(eg_bolt_client_begin(client, EG_BOLT_WRITE, &tx, &err), &err);
    REQUIRE(tx != NULL);
    CHECK_OK(eg_bolt_tx_run(tx, "CREATE (n:Entity {id: 'tx-failed'})", NULL, NULL, &err), &err);
    CHECK_STATUS(eg_bolt_tx_run(tx, "RETURN RETURN", NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_bolt_tx_commit(tx, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'tx-failed'}) RETURN count(n)") == 0);
    eg_bolt_client_close(client);
}

TEST(failures_are_mapped_and_the_connection_stays_usable) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    options.max_connections = 1; /* every statement on the same connection: RESET made it usable again */
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    eg_bolt_result r;
    CHECK_STATUS(eg_bolt_client_run(client, EG_BOLT_READ, "RETURN RETURN", NULL, &r, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "Neo.ClientError.Statement.SyntaxError") != NULL);
    CHECK(single_int(client, "RETURN 7") == 7);
    params p;
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_WRITE, "CREATE (n:Entity {id: $id})", id_param(&p, "dup-1"), NULL,
                                &err),
             &err);
    CHECK_STATUS(eg_bolt_client_run(client, EG_BOLT_WRITE, "CREATE (n:Entity {id: $id})", &p.value, NULL, &err),
                 EG_CONFLICT, &err);
    CHECK(strstr(err.message, "Neo.ClientError.Schema.ConstraintValidationFailed") != NULL);
    eg_ps_value_free(&p.value);
    CHECK(single_int(client, "RETURN 8") == 8);
    eg_bolt_client_close(client);
}

TEST(refused_credentials_are_a_clear_error_without_the_password) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    options.password = "wrong-Horse-Battery";
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    eg_bolt_result r;
    eg_status s = eg_bolt_client_run(client, EG_BOLT_READ, "RETURN 1", NULL, &r, &err);
    CHECK(s == EG_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "Neo.ClientError.Security.Unauthorized") != NULL);
    CHECK(strstr(err.message, "wrong-Horse-Battery") == NULL);
    eg_bolt_client_close(client);
    /* and a URI with credentials in it is refused without repeating them */
    options.uri = "bolt://neo4j:wrong-Horse-Battery@127.0.0.1:1";
    CHECK_STATUS(eg_bolt_client_open(&options, &client, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "wrong-Horse-Battery") == NULL);
}

TEST(a_stopped_server_is_unavailable_and_a_restarted_one_serves_again) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    options.timeout_ms = 500;
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    CHECK(single_int(client, "RETURN 1") == 1);
    eg_bolt_listener_stop(the_server.listener);
    eg_error err;
    eg_bolt_result r;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_STATUS(eg_bolt_client_run(client, EG_BOLT_READ, "RETURN 1", NULL, &r, &err), EG_UNAVAILABLE, &err);
    CHECK(ms_since(&start) < 2000);
    the_server.listener = listen_on(the_server.port, NULL);
    REQUIRE(the_server.listener != NULL);
    CHECK(single_int(client, "RETURN 2") == 2);
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_WRITE, "CREATE (n:Entity {id: 'after-restart'})", NULL, NULL, &err),
             &err);
    eg_bolt_client_close(client);
}

TEST(an_exhausted_pool_times_out_with_a_clear_error) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    options.max_connections = 1;
    options.acquisition_timeout_ms = 300;
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    eg_bolt_tx *held = NULL, *second = NULL;
    CHECK_OK(eg_bolt_client_begin(client, EG_BOLT_READ, &held, &err), &err);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_STATUS(eg_bolt_client_begin(client, EG_BOLT_READ, &second, &err), EG_UNAVAILABLE, &err);
    double waited = ms_since(&start);
    CHECK(strstr(err.message, "no connection free within 300 ms (pool of 1)") != NULL);
    CHECK(waited >= 290 && waited < 1500);
    CHECK(second == NULL);
    eg_bolt_tx_rollback(held);
    CHECK(single_int(client, "RETURN 3") == 3);
    eg_bolt_client_close(client);
}

TEST(tls_with_a_self_signed_certificate) {
    const char *dir = test_scratch_dir();
    REQUIRE(test_make_certificate(dir));
    eg_bolt_listener *tls_listener = listen_on(0, dir);
    REQUIRE(tls_listener != NULL);
    uint16_t port = eg_bolt_listener_port(tls_listener);
    eg_error err;
    eg_bolt_result r;

    eg_bolt_client_options options = options_for("bolt+ssc", port);
    eg_bolt_client *client = open_client(&options);
    CHECK(client != NULL && single_int(client, "RETURN 11") == 11);
    eg_bolt_client_close(client);

    options = options_for("bolt+s", port);
    client = open_client(&options);
    REQUIRE(client != NULL);
    CHECK_STATUS(eg_bolt_client_run(client, EG_BOLT_READ, "RETURN 1", NULL, &r, &err), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "not trusted") != NULL);
    eg_bolt_client_close(client);

    char ca_file[600];
    snprintf(ca_file, sizeof ca_file, "%s/cert.pem", dir);
    options.ca_file = ca_file;
    client = open_client(&options);
    CHECK(client != NULL && single_int(client, "RETURN 12") == 12);
    eg_bolt_client_close(client);

    /* the certificate names 127.0.0.1 and localhost: neo4j+s through the name verifies too */
    char uri[64];
    snprintf(uri, sizeof uri, "neo4j+s://localhost:%u", port);
    options.uri = uri;
    client = open_client(&options);
    CHECK(client != NULL && single_int(client, "RETURN 13") == 13);
    eg_bolt_client_close(client);
    eg_bolt_listener_stop(tls_listener);
}

enum { THREADS = 8, RUNS_PER_THREAD = 200 / TEST_WORK_DIVISOR };

typedef struct worker {
    eg_bolt_client *client;
    int number;
    atomic_int *failures;
} worker;

static void *work(void *argument) {
    worker *w = argument;
    for (int i = 0; i < RUNS_PER_THREAD; i++) {
        char id[32];
        snprintf(id, sizeof id, "th-%d-%d", w->number, i);
        params p;
        eg_error err;
        eg_bolt_result r;
        eg_bolt_access access = i % 2 == 0 ? EG_BOLT_WRITE : EG_BOLT_READ;
        const char *statement = access == EG_BOLT_WRITE ? "CREATE (n:Entity {id: $id}) RETURN n.id"
                                                        : "RETURN $id";
        if (eg_bolt_client_run(w->client, access, statement, id_param(&p, id), &r, &err) != EG_OK ||
            !cell_is_text(&r, 0, 0, id)) {
            fprintf(stderr, "  worker %d run %d: %s\n", w->number, i, err.message);
            atomic_fetch_add(w->failures, 1);
        }
        eg_bolt_result_free(&r);
        eg_ps_value_free(&p.value);
    }
    return NULL;
}

TEST(eight_threads_share_the_pool) {
    eg_bolt_client_options options = options_for("bolt", the_server.port);
    options.max_connections = 4;
    options.timeout_ms = 30000;
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    atomic_int failures = 0;
    worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){client, i, &failures};
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    CHECK(atomic_load(&failures) == 0);
    CHECK(single_int(client, "MATCH (n:Entity) WHERE n.id STARTS WITH 'th-' RETURN count(n)") ==
          THREADS * ((RUNS_PER_THREAD + 1) / 2));
    eg_bolt_client_close(client);
}

TEST(neo4j_scheme_routes_through_the_server_itself) {
    eg_bolt_client_options options = options_for("neo4j", the_server.port);
    options.database = "neo4j";
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_WRITE, "CREATE (n:Entity {id: 'routed-1'})", NULL, NULL, &err), &err);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'routed-1'}) RETURN count(n)") == 1);
    eg_bolt_tx *tx = NULL;
    CHECK_OK(eg_bolt_client_begin(client, EG_BOLT_WRITE, &tx, &err), &err);
    if (tx != NULL) {
        CHECK_OK(eg_bolt_tx_run(tx, "CREATE (n:Entity {id: 'routed-2'})", NULL, NULL, &err), &err);
        CHECK_OK(eg_bolt_tx_commit(tx, &err), &err);
    }
    CHECK(single_int(client, "MATCH (n:Entity {id: 'routed-2'}) RETURN count(n)") == 1);
    eg_bolt_client_close(client);
}

int main(void) {
    server_start();
    RUN(auto_commit_create_and_match);
    RUN(parameters_of_several_types);
    RUN(large_result_is_paged_whole_and_in_order);
    RUN(explicit_transactions_commit_and_roll_back);
    RUN(failures_are_mapped_and_the_connection_stays_usable);
    RUN(refused_credentials_are_a_clear_error_without_the_password);
    RUN(a_stopped_server_is_unavailable_and_a_restarted_one_serves_again);
    RUN(an_exhausted_pool_times_out_with_a_clear_error);
    RUN(tls_with_a_self_signed_certificate);
    RUN(eight_threads_share_the_pool);
    RUN(neo4j_scheme_routes_through_the_server_itself);
    eg_bolt_listener_stop(the_server.listener);
    eg_graph_close(the_server.graph);
    return test_summary();
}
