/* test_bolt_client.c — engram's Bolt client (src/bolt/client.h) against engram's own Bolt server, started in this
 * process on loopback over a scratch graph with the Cypher engine: auto-commit round trips, parameters of every
 * kind, a result paged over several PULLs, explicit transactions, FAILUREs mapped to statuses with the connection
 * usable after, refused credentials, a server that stops and comes back on its port, an exhausted pool, TLS with a
 * self-signed certificate, bad URIs, IPv6 loopback, many threads at once, and neo4j:// routing — against the
 * server itself (it names itself in ROUTE), and against a fake router in this file naming a writer and two readers
 * (engram listeners behind an engine that counts statements and refuses the first write as NotALeader), with a
 * reader going away and the write's bookmark in the next ROUTE; a router speaking 4.4 (credentials in HELLO, no
 * LOGON); and transient errors retried with backoff within the timeout. */
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
#include <sys/select.h>
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

static size_t row_count(const eg_bolt_result *r) {
    return r->records.kind == EG_PS_LIST ? r->records.as.list.count : 0;
}

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
    for (size_t i = 0; i < 7; i++)
        CHECK(eg_ps_value_equal(&record->as.list.items[i], &parameters->as.dict.entries[i].value));
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

TEST(bad_uris_are_refused_at_open) {
    const char *bad[] = {"http://127.0.0.1:7687", "bolt://", "bolt://[::1:7687", "neo4j+x://host", "127.0.0.1:7687"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eg_bolt_client_options options = {.uri = bad[i]};
        eg_bolt_client *client = NULL;
        eg_error err;
        CHECK_STATUS(eg_bolt_client_open(&options, &client, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(client == NULL);
    }
    /* a server that is down does not stop a client from opening: it connects on first use */
    eg_bolt_client_options options = {.uri = "bolt://127.0.0.1:1", .timeout_ms = 200};
    eg_bolt_client *client = open_client(&options);
    eg_error err;
    CHECK_STATUS(eg_bolt_client_run(client, EG_BOLT_READ, "RETURN 1", NULL, NULL, &err), EG_UNAVAILABLE, &err);
    eg_bolt_client_close(client);
}

TEST(ipv6_loopback) {
    eg_bolt_listener_options listen = {.address = "[::1]:0",
                                       .user = USER,
                                       .password = PASSWORD,
                                       .max_connections = 4,
                                       .idle_timeout_ms = 60000,
                                       .max_message_bytes = EG_PS_MAX_MESSAGE_BYTES,
                                       .routing_ttl_seconds = 300,
                                       .statements = &the_server.engine.statements};
    eg_bolt_listener *listener = NULL;
    eg_error err;
    if (eg_bolt_listener_start(&listen, &listener, &err) != EG_OK) {
        fprintf(stderr, "  skipped: no IPv6 loopback here (%s)\n", err.message);
        return;
    }
    char uri[64];
    snprintf(uri, sizeof uri, "bolt://[::1]:%u", eg_bolt_listener_port(listener));
    eg_bolt_client_options options = options_for("bolt", 0);
    options.uri = uri;
    eg_bolt_client *client = open_client(&options);
    CHECK(client != NULL && single_int(client, "RETURN 6") == 6);
    eg_bolt_client_close(client);
    eg_bolt_listener_stop(listener);
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

/* ---- a routed cluster: a fake router naming a writer and two readers, each an engram listener over the same
 * graph behind a statement engine that counts its statements and can refuse writes as a follower does, or fail
 * with a transient error ---- */

typedef struct member_engine {
    eg_bolt_statements table;
    atomic_int runs;
    atomic_int writes_to_refuse; /* the next this many CREATEs fail with NotALeader */
    atomic_int transient_failures; /* the next this many statements fail with a transient error */
    atomic_int begins_to_refuse;   /* the next this many BEGINs fail: the database is unavailable */
    atomic_int begins;
} member_engine;

static bool member_begin(void *context, void **tx, eg_bolt_failure *failure) {
    member_engine *member = context;
    atomic_fetch_add(&member->begins, 1);
    if (atomic_load(&member->begins_to_refuse) > 0) {
        atomic_fetch_sub(&member->begins_to_refuse, 1);
        snprintf(failure->code, sizeof failure->code, "Neo.TransientError.General.DatabaseUnavailable");
        snprintf(failure->message, sizeof failure->message, "the database is starting");
        return false;
    }
    return the_server.engine.statements.begin(the_server.engine.statements.context, tx, failure);
}

static bool member_run(void *context, void *tx, const char *statement, size_t statement_len,
                       const eg_ps_value *parameters, eg_bolt_result *result, eg_bolt_failure *failure) {
    member_engine *member = context;
    atomic_fetch_add(&member->runs, 1);
    if (atomic_load(&member->transient_failures) > 0) {
        atomic_fetch_sub(&member->transient_failures, 1);
        snprintf(failure->code, sizeof failure->code, "Neo.TransientError.Transaction.DeadlockDetected");
        snprintf(failure->message, sizeof failure->message, "a deadlock, try again");
        return false;
    }
    if (statement_len >= 6 && memcmp(statement, "CREATE", 6) == 0 && atomic_load(&member->writes_to_refuse) > 0) {
        atomic_fetch_sub(&member->writes_to_refuse, 1);
        snprintf(failure->code, sizeof failure->code, "Neo.ClientError.Cluster.NotALeader");
        snprintf(failure->message, sizeof failure->message, "No write operations are allowed on this database.");
        return false;
    }
    return the_server.engine.statements.run(the_server.engine.statements.context, tx, statement, statement_len,
                                            parameters, result, failure);
}

static bool member_commit(void *context, void *tx, eg_bolt_failure *failure) {
    (void)context;
    return the_server.engine.statements.commit(the_server.engine.statements.context, tx, failure);
}

static void member_rollback(void *context, void *tx) {
    (void)context;
    the_server.engine.statements.rollback(the_server.engine.statements.context, tx);
}

static eg_bolt_listener *start_member(member_engine *member) {
    member->table = (eg_bolt_statements){.context = member,
                                         .begin = member_begin,
                                         .run = member_run,
                                         .commit = member_commit,
                                         .rollback = member_rollback};
    eg_bolt_listener_options options = {.address = "127.0.0.1:0",
                                        .user = USER,
                                        .password = PASSWORD,
                                        .max_connections = 16,
                                        .idle_timeout_ms = 60000,
                                        .max_message_bytes = EG_PS_MAX_MESSAGE_BYTES,
                                        .routing_ttl_seconds = 300,
                                        .statements = &member->table};
    eg_bolt_listener *listener = NULL;
    eg_error err;
    CHECK_OK(eg_bolt_listener_start(&options, &listener, &err), &err);
    return listener;
}

typedef struct fake_router {
    int listening;
    uint16_t port;
    char writer[32], readers[2][32];
    uint8_t major, minor; /* the version it answers the handshake with */
    atomic_int routes;    /* ROUTE requests answered */
    atomic_bool stop;
    pthread_t thread;
    pthread_mutex_t seen_lock; /* what it was sent, as the test reads it */
    bool hello_had_password;
    int logons;
    char last_route_bookmark[64];
} fake_router;

static void fake_router_saw(fake_router *router, uint8_t tag, const eg_ps_value *message) {
    pthread_mutex_lock(&router->seen_lock);
    const eg_ps_value *first = message->as.list.count > 0 ? &message->as.list.items[0] : NULL;
    if (tag == 0x01 && first != NULL && first->kind == EG_PS_DICT)
        for (size_t i = 0; i < first->as.dict.count; i++)
            if (strcmp(first->as.dict.entries[i].key, "credentials") == 0 &&
                first->as.dict.entries[i].value.kind == EG_PS_STRING &&
                strcmp(first->as.dict.entries[i].value.as.text.data, PASSWORD) == 0)
                router->hello_had_password = true;
    if (tag == 0x6A) router->logons++;
    if (tag == 0x66 && message->as.list.count == 3) {
        const eg_ps_value *bookmarks = &message->as.list.items[1];
        router->last_route_bookmark[0] = '\0';
        if (bookmarks->kind == EG_PS_LIST && bookmarks->as.list.count == 1 &&
            bookmarks->as.list.items[0].kind == EG_PS_STRING)
            snprintf(router->last_route_bookmark, sizeof router->last_route_bookmark, "%s",
                     bookmarks->as.list.items[0].as.text.data);
    }
    pthread_mutex_unlock(&router->seen_lock);
}

static bool send_all(int fd, const void *data, size_t len) {
    return send(fd, data, len, MSG_NOSIGNAL) == (ssize_t)len;
}

static bool answer(int fd, eg_ps_writer *w) {
    eg_byte_buffer framed = {0};
    bool sent = eg_bolt_chunk_message((const uint8_t *)w->out.data, w->out.len, &framed, SIZE_MAX) &&
                send_all(fd, framed.data, framed.len);
    free(framed.data);
    free(w->out.data);
    *w = (eg_ps_writer){0};
    return sent;
}

/* The routing table: this router routes; the writer writes; the two readers read. */
static void write_table(fake_router *router, eg_ps_writer *w) {
    char self[32];
    snprintf(self, sizeof self, "127.0.0.1:%u", router->port);
    eg_ps_write_struct_header(w, 0x70, 1);
    eg_ps_write_dict_header(w, 1);
    write_text(w, "rt");
    eg_ps_write_dict_header(w, 3);
    write_text(w, "ttl");
    eg_ps_write_int(w, 300);
    write_text(w, "db");
    write_text(w, "neo4j");
    write_text(w, "servers");
    eg_ps_write_list_header(w, 3);
    const char *roles[] = {"WRITE", "READ", "ROUTE"};
    for (int i = 0; i < 3; i++) {
        eg_ps_write_dict_header(w, 2);
        write_text(w, "addresses");
        eg_ps_write_list_header(w, i == 1 ? 2 : 1);
        write_text(w, i == 0 ? router->writer : i == 1 ? router->readers[0] : self);
        if (i == 1) write_text(w, router->readers[1]);
        write_text(w, "role");
        write_text(w, roles[i]);
    }
}

/* One connection: the handshake (the router's version chosen), then SUCCESS to HELLO and LOGON, the table to
 * ROUTE, until GOODBYE or the end; anything else is a FAILURE. */
static void route_connection(fake_router *router, int fd) {
    uint8_t preamble[20];
    if (recv(fd, preamble, sizeof preamble, MSG_WAITALL) != (ssize_t)sizeof preamble) return;
    const uint8_t agreed[4] = {0, 0, router->minor, router->major};
    if (!send_all(fd, agreed, sizeof agreed)) return;
    eg_bolt_dechunker d = {.max_message = 1 << 20};
    uint8_t buffer[4096];
    bool open = true;
    while (open) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        for (size_t at = 0; at < (size_t)n && open;) {
            size_t used;
            eg_error err;
            if (eg_bolt_dechunker_feed(&d, buffer + at, (size_t)n - at, &used, &err) != EG_OK) open = false;
            at += used;
            if (!d.complete) continue;
            eg_ps_value message;
            open = eg_ps_decode((const uint8_t *)d.message.data, d.message.len, EG_PS_BOLT_5, true, &message, &err) ==
                   EG_OK;
            eg_bolt_dechunker_next(&d);
            if (!open) break;
            uint8_t tag = message.as.list.tag;
            fake_router_saw(router, tag, &message);
            eg_ps_value_free(&message);
            eg_ps_writer w = {0};
            if (tag == 0x02) { /* GOODBYE */
                open = false;
            } else if (tag == 0x66) { /* ROUTE */
                atomic_fetch_add(&router->routes, 1);
                write_table(router, &w);
                open = answer(fd, &w);
            } else if (tag == 0x01 || tag == 0x6A) { /* HELLO, LOGON */
                eg_ps_write_struct_header(&w, 0x70, 1);
                eg_ps_write_dict_header(&w, 0);
                open = answer(fd, &w);
            } else {
                eg_ps_write_struct_header(&w, 0x7F, 1);
                eg_ps_write_dict_header(&w, 2);
                write_text(&w, "code");
                write_text(&w, "Neo.ClientError.Request.Invalid");
                write_text(&w, "message");
                write_text(&w, "this server only routes");
                open = answer(fd, &w);
            }
        }
    }
    eg_bolt_dechunker_free(&d);
}

/* Connections one at a time: the client keeps its one router connection in its pool and reuses it. */
static void *route_forever(void *argument) {
    fake_router *router = argument;
    while (!atomic_load(&router->stop)) {
        struct timeval wait = {.tv_usec = 100000};
        fd_set ready;
        FD_ZERO(&ready);
        FD_SET(router->listening, &ready);
        if (select(router->listening + 1, &ready, NULL, NULL, &wait) <= 0) continue;
        int fd = accept(router->listening, NULL, NULL);
        if (fd < 0) continue;
        struct timeval timeout = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        route_connection(router, fd);
        close(fd);
    }
    return NULL;
}

static bool fake_router_start(fake_router *router, uint8_t major, uint8_t minor) {
    router->major = major;
    router->minor = minor;
    pthread_mutex_init(&router->seen_lock, NULL);
    router->listening = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(router->listening, (struct sockaddr *)&a, sizeof a) != 0 || listen(router->listening, 8) != 0 ||
        getsockname(router->listening, (struct sockaddr *)&a, &len) != 0)
        return false;
    router->port = ntohs(a.sin_port);
    return pthread_create(&router->thread, NULL, route_forever, router) == 0;
}

static void fake_router_stop(fake_router *router) {
    atomic_store(&router->stop, true);
    pthread_join(router->thread, NULL);
    close(router->listening);
    pthread_mutex_destroy(&router->seen_lock);
}

/* A writer and two readers behind a fake router answering Bolt 5.4. */
static bool start_cluster(member_engine *writer_engine, member_engine reader_engines[2], fake_router *router,
                          eg_bolt_listener **writer, eg_bolt_listener *readers[2]) {
    *writer = start_member(writer_engine);
    readers[0] = start_member(&reader_engines[0]);
    readers[1] = start_member(&reader_engines[1]);
    if (*writer == NULL || readers[0] == NULL || readers[1] == NULL) return false;
    snprintf(router->writer, sizeof router->writer, "127.0.0.1:%u", eg_bolt_listener_port(*writer));
    for (int i = 0; i < 2; i++)
        snprintf(router->readers[i], sizeof router->readers[i], "127.0.0.1:%u", eg_bolt_listener_port(readers[i]));
    return fake_router_start(router, 5, 4);
}

TEST(routing_follows_the_table_and_retries_a_refused_write) {
    static member_engine writer_engine, reader_engines[2];
    static fake_router router;
    eg_bolt_listener *writer, *readers[2];
    REQUIRE(start_cluster(&writer_engine, reader_engines, &router, &writer, readers));

    eg_bolt_client_options options = options_for("neo4j", router.port);
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    /* the writer refuses the first write as a follower would: the client forgets it, asks for the table again
     * and retries on the writer the new table names */
    atomic_store(&writer_engine.writes_to_refuse, 1);
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_WRITE, "CREATE (n:Entity {id: 'routed-write'})", NULL, NULL, &err),
             &err);
    CHECK(atomic_load(&router.routes) == 2);
    CHECK(atomic_load(&writer_engine.runs) == 2);
    /* reads go to the readers, round-robin */
    for (int i = 0; i < 4; i++)
        CHECK(single_int(client, "MATCH (n:Entity {id: 'routed-write'}) RETURN count(n)") == 1);
    CHECK(atomic_load(&reader_engines[0].runs) == 2 && atomic_load(&reader_engines[1].runs) == 2);
    CHECK(atomic_load(&writer_engine.runs) == 2);
    /* a reader going away: reads carry on on the other */
    eg_bolt_listener_stop(readers[0]);
    for (int i = 0; i < 4; i++) CHECK(single_int(client, "RETURN 5") == 5);
    CHECK(atomic_load(&reader_engines[1].runs) == 6);
    pthread_mutex_lock(&router.seen_lock);
    /* 5.4: credentials in LOGON, not HELLO; the ROUTE after the write carried the write's bookmark */
    CHECK(!router.hello_had_password && router.logons == 1);
    CHECK(strncmp(router.last_route_bookmark, "engram:", 7) == 0);
    pthread_mutex_unlock(&router.seen_lock);
    eg_bolt_client_close(client);
    fake_router_stop(&router);
    eg_bolt_listener_stop(readers[1]);
    eg_bolt_listener_stop(writer);
}

TEST(bolt_4_4_sends_credentials_in_hello_and_routes) {
    static member_engine reader_engine;
    eg_bolt_listener *reader = start_member(&reader_engine);
    REQUIRE(reader != NULL);
    static fake_router router;
    snprintf(router.writer, sizeof router.writer, "127.0.0.1:%u", eg_bolt_listener_port(reader));
    for (int i = 0; i < 2; i++) memcpy(router.readers[i], router.writer, sizeof router.writer);
    REQUIRE(fake_router_start(&router, 4, 4));
    eg_bolt_client_options options = options_for("neo4j", router.port);
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    CHECK(single_int(client, "RETURN 44") == 44);
    CHECK(atomic_load(&router.routes) == 1 && atomic_load(&reader_engine.runs) == 1);
    pthread_mutex_lock(&router.seen_lock);
    CHECK(router.hello_had_password && router.logons == 0);
    pthread_mutex_unlock(&router.seen_lock);
    eg_bolt_client_close(client);
    fake_router_stop(&router);
    eg_bolt_listener_stop(reader);
}

TEST(transient_errors_are_retried_with_backoff_within_the_timeout) {
    static member_engine member;
    eg_bolt_listener *listener = start_member(&member);
    REQUIRE(listener != NULL);
    eg_bolt_client_options options = options_for("bolt", eg_bolt_listener_port(listener));
    options.timeout_ms = 300;
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;
    atomic_store(&member.transient_failures, 2);
    CHECK_OK(eg_bolt_client_run(client, EG_BOLT_WRITE, "CREATE (n:Entity {id: 'after-deadlocks'})", NULL, NULL, &err),
             &err);
    CHECK(atomic_load(&member.runs) == 3);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'after-deadlocks'}) RETURN count(n)") == 1);
    /* a transient error that lasts: given up once the next attempt would start past timeout_ms (10 + 20 + 40 +
     * 80 ms of backoff fit in 300 ms, 160 more do not) */
    atomic_store(&member.transient_failures, 1000);
    atomic_store(&member.runs, 0);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_STATUS(eg_bolt_client_run(client, EG_BOLT_READ, "RETURN 1", NULL, NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "Neo.TransientError.Transaction.DeadlockDetected") != NULL);
    CHECK(ms_since(&start) < 1000);
    int attempts = atomic_load(&member.runs); /* 5, fewer on a slow machine */
    CHECK(attempts >= 3 && attempts <= 5);
    atomic_store(&member.transient_failures, 0);
    eg_bolt_client_close(client);
    eg_bolt_listener_stop(listener);
}

/* ---- managed transactions ---- */

typedef struct counted_work {
    const char *statement;
    eg_status own_status; /* what the work answers after its statement succeeded */
    int runs;
} counted_work;

static eg_status run_counted_work(eg_bolt_tx *tx, void *context, eg_error *err) {
    counted_work *work = context;
    work->runs++;
    eg_status st = eg_bolt_tx_run(tx, work->statement, NULL, NULL, err);
    if (st == EG_OK && work->own_status != EG_OK) st = eg_error_set(err, work->own_status, "the work's own failure");
    return st;
}

TEST(managed_transactions_run_again_what_the_server_cannot_have_committed) {
    static member_engine writer_engine, reader_engines[2];
    static fake_router router;
    eg_bolt_listener *writer, *readers[2];
    REQUIRE(start_cluster(&writer_engine, reader_engines, &router, &writer, readers));
    eg_bolt_client_options options = options_for("neo4j", router.port);
    eg_bolt_client *client = open_client(&options);
    REQUIRE(client != NULL);
    eg_error err;

    /* NotALeader inside a transaction: rolled back, the table asked for again, the work run once more */
    atomic_store(&writer_engine.writes_to_refuse, 1);
    counted_work refused = {"CREATE (n:Entity {id: 'managed-refused'})", EG_OK, 0};
    CHECK_OK(eg_bolt_client_transact(client, EG_BOLT_WRITE, run_counted_work, &refused, &err), &err);
    CHECK(refused.runs == 2);
    CHECK(atomic_load(&router.routes) == 2);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'managed-refused'}) RETURN count(n)") == 1);

    /* a transient error inside a transaction: run again, committed once */
    atomic_store(&writer_engine.transient_failures, 1);
    counted_work transient = {"CREATE (n:Entity {id: 'managed-transient'})", EG_OK, 0};
    CHECK_OK(eg_bolt_client_transact(client, EG_BOLT_WRITE, run_counted_work, &transient, &err), &err);
    CHECK(transient.runs == 2);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'managed-transient'}) RETURN count(n)") == 1);

    /* BEGIN travels with the first statement: a refused BEGIN is that statement's failure (the statement itself
     * IGNORED, not run), and a transient one runs the work again */
    atomic_store(&writer_engine.begins_to_refuse, 1);
    atomic_store(&writer_engine.runs, 0);
    counted_work refused_begin = {"CREATE (n:Entity {id: 'managed-begin'})", EG_OK, 0};
    CHECK_OK(eg_bolt_client_transact(client, EG_BOLT_WRITE, run_counted_work, &refused_begin, &err), &err);
    CHECK(refused_begin.runs == 2 && atomic_load(&writer_engine.runs) == 1);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'managed-begin'}) RETURN count(n)") == 1);

    /* a rollback before any statement sends nothing: the server never sees the transaction */
    int begins = atomic_load(&writer_engine.begins);
    eg_bolt_tx *unused;
    CHECK_OK(eg_bolt_client_begin(client, EG_BOLT_WRITE, &unused, &err), &err);
    eg_bolt_tx_rollback(unused);
    CHECK(atomic_load(&writer_engine.begins) == begins);

    /* the work's own failure: rolled back, not run again */
    counted_work own = {"CREATE (n:Entity {id: 'managed-own-failure'})", EG_NOT_FOUND, 0};
    CHECK_STATUS(eg_bolt_client_transact(client, EG_BOLT_WRITE, run_counted_work, &own, &err), EG_NOT_FOUND, &err);
    CHECK(own.runs == 1);
    CHECK(strstr(err.message, "the work's own failure") != NULL);
    CHECK(single_int(client, "MATCH (n:Entity {id: 'managed-own-failure'}) RETURN count(n)") == 0);

    /* a client error from the server: not run again */
    counted_work syntax = {"CREATE (n:Entity {id: 'managed-syntax'", EG_OK, 0};
    CHECK_STATUS(eg_bolt_client_transact(client, EG_BOLT_WRITE, run_counted_work, &syntax, &err),
                 EG_INVALID_ARGUMENT, &err);
    CHECK(syntax.runs == 1);

    /* the writer gone: no transaction can begin, and the attempts end within the timeout as unavailable */
    eg_bolt_listener_stop(writer);
    counted_work lost = {"CREATE (n:Entity {id: 'managed-lost'})", EG_OK, 0};
    CHECK_STATUS(eg_bolt_client_transact(client, EG_BOLT_WRITE, run_counted_work, &lost, &err), EG_UNAVAILABLE,
                 &err);
    eg_bolt_client_close(client);
    fake_router_stop(&router);
    for (int i = 0; i < 2; i++) eg_bolt_listener_stop(readers[i]);
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
    RUN(bad_uris_are_refused_at_open);
    RUN(ipv6_loopback);
    RUN(eight_threads_share_the_pool);
    RUN(neo4j_scheme_routes_through_the_server_itself);
    RUN(routing_follows_the_table_and_retries_a_refused_write);
    RUN(bolt_4_4_sends_credentials_in_hello_and_routes);
    RUN(transient_errors_are_retried_with_backoff_within_the_timeout);
    RUN(managed_transactions_run_again_what_the_server_cannot_have_committed);
    eg_bolt_listener_stop(the_server.listener);
    eg_graph_close(the_server.graph);
    return test_summary();
}
