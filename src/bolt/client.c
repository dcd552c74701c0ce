/* client.c — the public functions of the Bolt client (client.h): the URI and options, the TLS context, and
 * statements run in auto-commit or explicit transactions on connections from the pool (bolt://) or the router
 * (neo4j://), with bounded retry and the bookmark that makes a read see the writes before it.
 *
 * Retry: an attempt is made again — after 10 ms, 20 ms, 40 ms ... while the next attempt still starts within
 * timeout_ms of the first — when the server cannot have applied it: a Neo.TransientError.* (the server rolled the
 * statement back), a connection that failed before the request was written whole, for reads also a connection
 * lost before any record arrived, and on a routed target a server that is not the leader (it refused the write).
 * Any other failure is returned at once: a write whose connection dropped after it was sent may have committed.
 * A managed transaction (eg_bolt_client_transact) is retried whole on the same grounds, where a connection lost
 * anywhere before COMMIT was written counts as not applied: the server rolls back what it had begun. */
#include "bolt/client_internal.h"

#include "util/clock.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_PORT "7687"
#define FIRST_BACKOFF_MS 10

struct eg_bolt_client {
    char *user, *password, *database, *ca_file;
    char address[EG_BOLT_ADDRESS_MAX];
    uint32_t timeout_ms;
    SSL_CTX *tls;
    eg_bolt_connect_config config;
    eg_bolt_pool *pool;     /* bolt:// */
    eg_bolt_router *router; /* neo4j:// */
    pthread_mutex_t bookmark_lock;
    char bookmark[EG_BOLT_BOOKMARK_MAX]; /* of the last transaction committed through this client */
};

struct eg_bolt_tx {
    eg_bolt_client *client;
    eg_bolt_access access;
    eg_bolt_pool *pool;
    eg_bolt_conn *conn;
    bool failed;    /* a statement failed: the server has dropped the transaction (RESET) */
    bool retryable; /* ... in a way that means it cannot have committed (eg_bolt_client_transact) */
};

/* ---- opening ---- */

typedef enum tls_mode { TLS_NONE, TLS_VERIFIED, TLS_ANY_CERTIFICATE } tls_mode;

/* scheme://host[:port][/][?routing context]: the scheme's routing and TLS, and "host:port" in address. Userinfo
 * is refused (credentials belong in user and password, where they are never printed). */
static eg_status parse_uri(const char *uri, bool *routing, tls_mode *tls, char *address, eg_error *err) {
    static const struct {
        const char *scheme;
        bool routing;
        tls_mode tls;
    } schemes[] = {{"bolt://", false, TLS_NONE},          {"bolt+s://", false, TLS_VERIFIED},
                   {"bolt+ssc://", false, TLS_ANY_CERTIFICATE}, {"neo4j://", true, TLS_NONE},
                   {"neo4j+s://", true, TLS_VERIFIED},     {"neo4j+ssc://", true, TLS_ANY_CERTIFICATE}};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && rest == NULL; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncmp(uri, schemes[i].scheme, n) == 0) {
            rest = uri + n;
            *routing = schemes[i].routing;
            *tls = schemes[i].tls;
        }
    }
    if (rest == NULL)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "bolt: the URI must start with bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s:// or "
                            "neo4j+ssc://");
    size_t len = strcspn(rest, "/?");
    if (memchr(rest, '@', len) != NULL)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "bolt: the URI must not hold credentials: give them as the user and password");
    char hostport[EG_BOLT_ADDRESS_MAX - sizeof DEFAULT_PORT - 1];
    if (len == 0 || len >= sizeof hostport)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: the URI names no host, or too long a one");
    memcpy(hostport, rest, len);
    hostport[len] = '\0';
    const char *close_bracket = strchr(hostport, ']');
    bool has_port = hostport[0] == '['
                        ? close_bracket != NULL && close_bracket[1] == ':'
                        : strchr(hostport, ':') != NULL;
    if (hostport[0] == '[' && close_bracket == NULL)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: an IPv6 host in the URI lacks its ']'");
    snprintf(address, EG_BOLT_ADDRESS_MAX, "%s%s%s", hostport, has_port ? "" : ":", has_port ? "" : DEFAULT_PORT);
    return EG_OK;
}

static eg_status make_tls_context(tls_mode mode, const char *ca_file, SSL_CTX **out, eg_error *err) {
    *out = NULL;
    if (mode == TLS_NONE) return EG_OK;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: cannot make a TLS context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (mode == TLS_ANY_CERTIFICATE) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int loaded = ca_file != NULL && ca_file[0] != '\0' ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                                                           : SSL_CTX_set_default_verify_paths(ctx);
        if (loaded != 1) {
            ERR_clear_error();
            SSL_CTX_free(ctx);
            return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: cannot read the CA certificates%s",
                                ca_file != NULL && ca_file[0] != '\0' ? " of ca_file" : " of the system");
        }
    }
    *out = ctx;
    return EG_OK;
}

static char *copy_or_null(const char *s) { return s != NULL && s[0] != '\0' ? strdup(s) : NULL; }

eg_status eg_bolt_client_open(const eg_bolt_client_options *options, eg_bolt_client **out, eg_error *err) {
    *out = NULL;
    if (options == NULL || options->uri == NULL)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: a client needs a URI");
    bool routing = false;
    tls_mode tls = TLS_NONE;
    char address[EG_BOLT_ADDRESS_MAX];
    eg_status s = parse_uri(options->uri, &routing, &tls, address, err);
    if (s != EG_OK) return s;
    eg_bolt_client *client = calloc(1, sizeof *client);
    if (client == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a client");
    pthread_mutex_init(&client->bookmark_lock, NULL);
    memcpy(client->address, address, sizeof address);
    client->user = copy_or_null(options->user);
    client->password = copy_or_null(options->password);
    client->database = copy_or_null(options->database);
    client->ca_file = copy_or_null(options->ca_file);
    client->timeout_ms = options->timeout_ms != 0 ? options->timeout_ms : 30000;
    s = make_tls_context(tls, client->ca_file, &client->tls, err);
    if (s != EG_OK) {
        eg_bolt_client_close(client);
        return s;
    }
    client->config = (eg_bolt_connect_config){.tls = client->tls,
                                              .verify_host = tls == TLS_VERIFIED,
                                              .user = client->user,
                                              .password = client->password,
                                              .routing = routing,
                                              .timeout_ms = client->timeout_ms};
    eg_bolt_client_options pooling = *options;
    if (pooling.max_connections == 0) pooling.max_connections = 50;
    if (pooling.acquisition_timeout_ms == 0) pooling.acquisition_timeout_ms = 30000;
    if (pooling.max_lifetime_ms == 0) pooling.max_lifetime_ms = 3600000;
    if (routing)
        client->router = eg_bolt_router_new(client->address, &client->config, &pooling);
    else
        client->pool = eg_bolt_pool_new(client->address, &client->config, pooling.max_connections,
                                        pooling.acquisition_timeout_ms, pooling.max_lifetime_ms);
    if (client->router == NULL && client->pool == NULL) {
        eg_bolt_client_close(client);
        return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a client");
    }
    *out = client;
    return EG_OK;
}

/* Frees a secret after overwriting it, so that it does not linger in freed memory. */
static void free_secret(char *secret) {
    if (secret == NULL) return;
    volatile char *p = secret;
    while (*p != '\0') *p++ = '\0';
    free(secret);
}

void eg_bolt_client_close(eg_bolt_client *client) {
    if (client == NULL) return;
    eg_bolt_pool_free(client->pool);
    eg_bolt_router_free(client->router);
    SSL_CTX_free(client->tls);
    free(client->user);
    free_secret(client->password);
    free(client->database);
    free(client->ca_file);
    pthread_mutex_destroy(&client->bookmark_lock);
    free(client);
}

/* ---- bookmarks ---- */

static void current_bookmark(eg_bolt_client *client, char *out) {
    pthread_mutex_lock(&client->bookmark_lock);
    memcpy(out, client->bookmark, EG_BOLT_BOOKMARK_MAX);
    pthread_mutex_unlock(&client->bookmark_lock);
}

/* Neo4j's bookmarks of one database only ever move forward, and a newer one implies the older: keeping the last
 * one received is enough for a later read to see every write acknowledged before it. */
static void keep_bookmark(eg_bolt_client *client, const char *bookmark) {
    if (bookmark[0] == '\0') return;
    pthread_mutex_lock(&client->bookmark_lock);
    snprintf(client->bookmark, sizeof client->bookmark, "%s", bookmark);
    pthread_mutex_unlock(&client->bookmark_lock);
}

/* ---- attempts and retries ---- */

static eg_status acquire(eg_bolt_client *client, eg_bolt_access access, const char *bookmark, eg_bolt_pool **pool,
                         eg_bolt_conn **conn, eg_bolt_outcome *outcome, eg_error *err) {
    if (client->router != NULL)
        return eg_bolt_router_acquire(client->router, access, bookmark, pool, conn, outcome, err);
    *pool = client->pool;
    return eg_bolt_pool_acquire(client->pool, conn, outcome, err);
}

static bool code_is(const eg_bolt_outcome *outcome, const char *code) {
    return strcmp(outcome->failure.code, code) == 0;
}

/* The server named cannot serve this role now (a follower asked to write, a member going away). */
static bool server_unfit(const eg_bolt_outcome *outcome) {
    return outcome->connection_failed || code_is(outcome, "Neo.ClientError.Cluster.NotALeader") ||
           code_is(outcome, "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase") ||
           code_is(outcome, "Neo.TransientError.General.DatabaseUnavailable");
}

static bool may_retry(const eg_bolt_client *client, eg_bolt_access access, const eg_bolt_outcome *outcome) {
    if (outcome->failure.code[0] != '\0')
        return strncmp(outcome->failure.code, "Neo.TransientError.", 19) == 0 ||
               (client->router != NULL && server_unfit(outcome));
    if (!outcome->connection_failed) return false;
    return !outcome->request_written || (access == EG_BOLT_READ && !outcome->records_received);
}

static void sleep_ms(uint64_t ms) {
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* One attempt of a request on a connection. */
typedef eg_status (*attempt_fn)(eg_bolt_conn *conn, void *argument, const eg_bolt_request_context *context,
                                eg_bolt_outcome *outcome, eg_error *err);

/* Runs attempt on a connection of the role, retrying as the top comment says. With keep (BEGIN), the connection
 * of the successful attempt is handed out (*pool_out, *conn_out) instead of going back to its pool. Without it (an
 * auto-commit statement), the statement carries timeout_ms as its tx_timeout: the server gives up when the client
 * stops waiting, rather than holding locks for an answer no one reads. A transaction spans requests, each with its
 * own wait, so BEGIN leaves its bound to the server. */
static eg_status with_retries(eg_bolt_client *client, eg_bolt_access access, attempt_fn attempt, void *argument,
                              bool keep, eg_bolt_pool **pool_out, eg_bolt_conn **conn_out, eg_error *err) {
    uint64_t deadline = eg_monotonic_ns() + (uint64_t)client->timeout_ms * 1000000u;
    uint64_t backoff_ms = FIRST_BACKOFF_MS;
    for (;;) {
        char bookmark[EG_BOLT_BOOKMARK_MAX];
        current_bookmark(client, bookmark);
        eg_bolt_request_context context = {.database = client->database,
                                           .read = access == EG_BOLT_READ,
                                           .bookmark = bookmark,
                                           .tx_timeout_ms = keep ? 0 : client->timeout_ms};
        eg_bolt_outcome outcome = {{{0}}};
        eg_bolt_pool *pool = NULL;
        eg_bolt_conn *conn = NULL;
        eg_status s = acquire(client, access, bookmark, &pool, &conn, &outcome, err);
        if (s == EG_OK) {
            s = attempt(conn, argument, &context, &outcome, err);
            if (s == EG_OK && keep) {
                *pool_out = pool;
                *conn_out = conn;
                return EG_OK;
            }
            eg_bolt_pool_release(pool, conn);
            if (s == EG_OK) return EG_OK;
        }
        if (client->router != NULL && pool != NULL && server_unfit(&outcome))
            eg_bolt_router_forget(client->router, access, eg_bolt_pool_address(pool));
        if (!may_retry(client, access, &outcome) || eg_monotonic_ns() + backoff_ms * 1000000u > deadline) return s;
        sleep_ms(backoff_ms);
        backoff_ms *= 2;
    }
}

/* ---- auto-commit ---- */

typedef struct run_argument {
    eg_bolt_client *client;
    const char *statement;
    const eg_ps_value *parameters;
    eg_bolt_result *result;
} run_argument;

static eg_status attempt_run(eg_bolt_conn *conn, void *argument, const eg_bolt_request_context *context,
                             eg_bolt_outcome *outcome, eg_error *err) {
    run_argument *run = argument;
    char bookmark[EG_BOLT_BOOKMARK_MAX] = "";
    eg_status s = run->result != NULL ? eg_bolt_conn_run(conn, run->statement, run->parameters, context, run->result,
                                                         bookmark, outcome, err)
                                      : eg_bolt_conn_run_discard(conn, run->statement, run->parameters, context,
                                                                 bookmark, outcome, err);
    if (s == EG_OK) keep_bookmark(run->client, bookmark);
    return s;
}

eg_status eg_bolt_client_run(eg_bolt_client *client, eg_bolt_access access, const char *statement,
                             const eg_ps_value *parameters, eg_bolt_result *result, eg_error *err) {
    if (result != NULL) *result = (eg_bolt_result){.fields = {.kind = EG_PS_NULL}};
    if (statement == NULL) return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: no statement");
    run_argument run = {client, statement, parameters, result};
    return with_retries(client, access, attempt_run, &run, false, NULL, NULL, err);
}

/* ---- explicit transactions ---- */

static eg_status attempt_begin(eg_bolt_conn *conn, void *argument, const eg_bolt_request_context *context,
                               eg_bolt_outcome *outcome, eg_error *err) {
    (void)argument;
    (void)outcome;
    return eg_bolt_conn_begin(conn, context, err);
}

eg_status eg_bolt_client_begin(eg_bolt_client *client, eg_bolt_access access, eg_bolt_tx **out, eg_error *err) {
    *out = NULL;
    eg_bolt_tx *tx = calloc(1, sizeof *tx);
    if (tx == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a transaction");
    tx->client = client;
    tx->access = access;
    eg_status s = with_retries(client, access, attempt_begin, NULL, true, &tx->pool, &tx->conn, err);
    if (s != EG_OK) {
        free(tx);
        return s;
    }
    *out = tx;
    return EG_OK;
}

/* A failure inside a transaction: whether the server cannot have committed it (client.h, eg_bolt_client_transact)
 * — a COMMIT written whole over a connection that then failed may have — and, for a lost connection or a server
 * unfit for the role, word to the router that the server may be gone. */
static void note_failure(eg_bolt_tx *tx, const eg_bolt_outcome *outcome, bool committing) {
    tx->failed = true;
    eg_bolt_client *client = tx->client;
    if (outcome->failure.code[0] != '\0')
        tx->retryable = strncmp(outcome->failure.code, "Neo.TransientError.", 19) == 0 ||
                        (client->router != NULL && server_unfit(outcome));
    else
        tx->retryable = outcome->connection_failed && (!committing || !outcome->request_written);
    if (client->router != NULL && server_unfit(outcome))
        eg_bolt_router_forget(client->router, tx->access, eg_bolt_pool_address(tx->pool));
}

eg_status eg_bolt_tx_run(eg_bolt_tx *tx, const char *statement, const eg_ps_value *parameters,
                         eg_bolt_result *result, eg_error *err) {
    if (result != NULL) *result = (eg_bolt_result){.fields = {.kind = EG_PS_NULL}};
    if (statement == NULL) return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: no statement");
    if (tx->failed)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: the transaction failed before: only rollback is left");
    eg_bolt_outcome outcome = {{{0}}};
    eg_status s = result != NULL ? eg_bolt_conn_run(tx->conn, statement, parameters, NULL, result, NULL, &outcome, err)
                                 : eg_bolt_conn_run_discard(tx->conn, statement, parameters, NULL, NULL, &outcome, err);
    if (s != EG_OK) note_failure(tx, &outcome, false);
    return s;
}

static void end_tx(eg_bolt_tx *tx) {
    eg_bolt_pool_release(tx->pool, tx->conn);
    free(tx);
}

/* COMMIT, leaving tx to the caller (tx->retryable tells whether a failure may be retried). */
static eg_status commit_tx(eg_bolt_tx *tx, eg_error *err) {
    if (tx->failed)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "bolt: the transaction failed before and was rolled back; nothing was committed");
    eg_bolt_outcome outcome = {{{0}}};
    char bookmark[EG_BOLT_BOOKMARK_MAX] = "";
    eg_status s = eg_bolt_conn_commit(tx->conn, bookmark, &outcome, err);
    if (s == EG_OK)
        keep_bookmark(tx->client, bookmark);
    else
        note_failure(tx, &outcome, true);
    return s;
}

eg_status eg_bolt_tx_commit(eg_bolt_tx *tx, eg_error *err) {
    eg_status s = commit_tx(tx, err);
    end_tx(tx);
    return s;
}

void eg_bolt_tx_rollback(eg_bolt_tx *tx) {
    if (tx == NULL) return;
    if (!tx->failed && !tx->conn->broken) {
        eg_bolt_outcome outcome = {{{0}}};
        eg_bolt_conn_rollback(tx->conn, &outcome, NULL);
    }
    end_tx(tx);
}

/* ---- managed transactions ---- */

eg_status eg_bolt_client_transact(eg_bolt_client *client, eg_bolt_access access, eg_bolt_work work, void *context,
                                  eg_error *err) {
    uint64_t deadline = eg_monotonic_ns() + (uint64_t)client->timeout_ms * 1000000u;
    uint64_t backoff_ms = FIRST_BACKOFF_MS;
    for (;;) {
        eg_bolt_tx *tx;
        eg_status s = eg_bolt_client_begin(client, access, &tx, err);
        if (s != EG_OK) return s;
        s = work(tx, context, err);
        if (s == EG_OK) s = commit_tx(tx, err);
        bool retryable = s != EG_OK && tx->retryable;
        if (s == EG_OK)
            end_tx(tx);
        else
            eg_bolt_tx_rollback(tx);
        if (!retryable || eg_monotonic_ns() + backoff_ms * 1000000u > deadline) return s;
        sleep_ms(backoff_ms);
        backoff_ms *= 2;
    }
}
