/* client_internal.h — the parts of the Bolt client (client.h) that its files share: one connection and the
 * messages it exchanges (client_connection.c), the pool of connections to one server (client_pool.c) and the
 * routing table of a neo4j:// target (client_routing.c). Not for use outside src/bolt/client*.c and the client's
 * fuzz target. */
#ifndef ENGRAM_BOLT_CLIENT_INTERNAL_H
#define ENGRAM_BOLT_CLIENT_INTERNAL_H

#include "bolt/chunking.h"
#include "bolt/client.h"
#include "bolt/handshake.h"
#include "bolt/packstream.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* "host:port" with an IPv6 host in brackets; DNS names are at most 253 bytes. */
#define EG_BOLT_ADDRESS_MAX 272
/* A bookmark as Neo4j writes them is some 50 bytes; a longer one is refused rather than cut. */
#define EG_BOLT_BOOKMARK_MAX 256

/* ---- one connection (client_connection.c) ---- */

/* How a connection is made: the TLS context (NULL: plain TCP) and the credentials its HELLO or LOGON sends. */
typedef struct eg_bolt_connect_config {
    SSL_CTX *tls;     /* NULL: no TLS */
    bool verify_host; /* +s: the certificate must name the host */
    const char *user, *password;
    bool routing;     /* neo4j://: HELLO carries a routing context */
    uint32_t timeout_ms;
} eg_bolt_connect_config;

typedef struct eg_bolt_conn {
    int fd;
    SSL *ssl;
    eg_bolt_version version;
    eg_ps_dialect dialect;
    uint32_t timeout_ms;
    uint64_t opened_ns; /* monotonic, for the pool's max lifetime */
    bool broken;        /* the stream cannot be trusted any more: close it, never reuse it */
    char address[EG_BOLT_ADDRESS_MAX];
    eg_bolt_dechunker dechunker;
    uint8_t input[16384];
    size_t input_at, input_len; /* received bytes not yet given to the dechunker */
    eg_byte_buffer begin_unsent; /* a BEGIN eg_bolt_conn_begin queued, sent with the next request */
    bool begin_unanswered;       /* that BEGIN was sent; its answer comes before the next request's */
} eg_bolt_conn;

/* A FAILURE's Neo4j code (5.6- `code`, 5.7+ `neo4j_code`) and message; code[0] == '\0' when the failure was not
 * the server's (a lost connection, a protocol error). */
typedef struct eg_bolt_server_failure {
    char code[96];
    char message[384];
} eg_bolt_server_failure;

/* What a request's outcome says beyond its status, for the retry and routing decisions of client.c. */
typedef struct eg_bolt_outcome {
    eg_bolt_server_failure failure;
    bool connection_failed; /* the transport failed (refused, dropped, timed out): not the server's answer */
    bool request_written;  /* every byte of the request reached the socket: the server may have run it */
    bool records_received; /* some record arrived */
} eg_bolt_outcome;

/* Connects to address ("host:port", "[v6]:port") within config->timeout_ms, negotiates TLS when config->tls, then
 * the Bolt version and the HELLO (and LOGON). */
eg_status eg_bolt_conn_open(const char *address, const eg_bolt_connect_config *config, eg_bolt_conn **out,
                            eg_bolt_outcome *outcome, eg_error *err);
/* The same over a socket already connected (no TLS): the handshake, HELLO and LOGON. Takes fd in every case. */
eg_status eg_bolt_conn_start(int fd, const char *address, const eg_bolt_connect_config *config, eg_bolt_conn **out,
                             eg_bolt_outcome *outcome, eg_error *err);
/* Says GOODBYE when the connection is sound, and frees it. NULL ignored. */
void eg_bolt_conn_close(eg_bolt_conn *conn);
/* False when an idle connection has been closed by its server (or sent something unasked). */
bool eg_bolt_conn_alive(eg_bolt_conn *conn);

/* What RUN and BEGIN carry in their extra dictionary. */
typedef struct eg_bolt_request_context {
    const char *database; /* NULL: the home database */
    bool read;            /* mode "r" */
    const char *bookmark; /* NULL or "": none */
    uint32_t tx_timeout_ms; /* 0: the server's */
} eg_bolt_request_context;

/* RUN + PULL (paged, EG_BOLT_FETCH_SIZE at a time) until the result is whole. context NULL inside a transaction;
 * otherwise auto-commit, and bookmark_out (EG_BOLT_BOOKMARK_MAX) receives the bookmark it ended with. After a
 * FAILURE the connection is RESET, so it is READY again (its transaction gone). */
eg_status eg_bolt_conn_run(eg_bolt_conn *conn, const char *statement, const eg_ps_value *parameters,
                           const eg_bolt_request_context *context, eg_bolt_result *result, char *bookmark_out,
                           eg_bolt_outcome *outcome, eg_error *err);
/* RUN + DISCARD: the statement run, its records dropped; bookmark_out as for eg_bolt_conn_run. */
eg_status eg_bolt_conn_run_discard(eg_bolt_conn *conn, const char *statement, const eg_ps_value *parameters,
                                   const eg_bolt_request_context *context, char *bookmark_out,
                                   eg_bolt_outcome *outcome, eg_error *err);
/* Queues BEGIN without sending it: it travels with the transaction's first request (RUN, or COMMIT / ROLLBACK of
 * an empty one), as the official drivers send it, saving a round trip; its FAILURE is then that request's. A
 * ROLLBACK while it is still unsent sends nothing (the server has no transaction to end). */
eg_status eg_bolt_conn_begin(eg_bolt_conn *conn, const eg_bolt_request_context *context, eg_error *err);
/* COMMIT; bookmark_out (EG_BOLT_BOOKMARK_MAX) receives the transaction's bookmark. */
eg_status eg_bolt_conn_commit(eg_bolt_conn *conn, char *bookmark_out, eg_bolt_outcome *outcome, eg_error *err);
eg_status eg_bolt_conn_rollback(eg_bolt_conn *conn, eg_bolt_outcome *outcome, eg_error *err);
/* ROUTE for database (NULL: the home one) with the bookmark; *table_out owns the "rt" dictionary. */
eg_status eg_bolt_conn_route(eg_bolt_conn *conn, const char *database, const char *bookmark, eg_ps_value *table_out,
                             eg_bolt_outcome *outcome, eg_error *err);

/* The eg_status for a Neo4j code (client.h's mapping). */
eg_status eg_bolt_status_for_code(const char *code);
/* Fills err with status and "neo4j: CODE: message", sanitised. */
eg_status eg_bolt_failure_error(const eg_bolt_server_failure *failure, eg_status status, eg_error *err);

/* ---- the pool of one server (client_pool.c) ---- */

typedef struct eg_bolt_pool eg_bolt_pool;

eg_bolt_pool *eg_bolt_pool_new(const char *address, const eg_bolt_connect_config *config, uint32_t max_connections,
                               uint32_t acquisition_timeout_ms, uint32_t max_lifetime_ms);
/* Closes every idle connection; every acquired one must have been released. NULL ignored. */
void eg_bolt_pool_free(eg_bolt_pool *pool);
const char *eg_bolt_pool_address(const eg_bolt_pool *pool);
/* An idle connection that is alive and young enough, or a new one when fewer than max_connections are out, or
 * one released within the acquisition timeout; else EG_UNAVAILABLE "no connection free within N ms (pool of M)". */
eg_status eg_bolt_pool_acquire(eg_bolt_pool *pool, eg_bolt_conn **out, eg_bolt_outcome *outcome, eg_error *err);
/* Gives conn back: kept when sound and young, closed when broken or too old. */
void eg_bolt_pool_release(eg_bolt_pool *pool, eg_bolt_conn *conn);

/* ---- routing (client_routing.c) ---- */

typedef struct eg_bolt_router eg_bolt_router;

/* The routing of a neo4j:// target reached first through seed_address. Pools are made with the config and the
 * pool settings of options. */
eg_bolt_router *eg_bolt_router_new(const char *seed_address, const eg_bolt_connect_config *config,
                                   const eg_bolt_client_options *options);
void eg_bolt_router_free(eg_bolt_router *router);
/* A connection to a server of the role (writers for EG_BOLT_WRITE, readers round-robin for EG_BOLT_READ), the
 * table refreshed first when it is stale or has none; *pool_out is where to release it. */
eg_status eg_bolt_router_acquire(eg_bolt_router *router, eg_bolt_access access, const char *bookmark,
                                 eg_bolt_pool **pool_out, eg_bolt_conn **out, eg_bolt_outcome *outcome, eg_error *err);
/* Drops address from the role's servers and marks the table stale: the next acquire asks again. */
void eg_bolt_router_forget(eg_bolt_router *router, eg_bolt_access access, const char *address);

#endif
