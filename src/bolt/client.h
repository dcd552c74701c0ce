/* client.h — engram as a Bolt client: connections to a Neo4j server or cluster (or `engram serve --bolt`), pooled
 * and routed, running statements in transactions. The Neo4j graph backend (src/graph/neo4j/) stands on it.
 *
 * One eg_bolt_client is one target — `bolt://` (one server) or `neo4j://` (a cluster, through its routing table),
 * with TLS for the `+s` schemes (verified) and `+ssc` (any certificate) — and a pool of connections to it. Every
 * call may come from many threads at once; a transaction (eg_bolt_tx) belongs to the thread that began it.
 *
 * Statements are Cypher texts with PackStream parameters (an EG_PS_DICT, or NULL); results come back whole as an
 * eg_bolt_result (fields, records, stats: bolt/statements.h), pulled in pages of EG_BOLT_FETCH_SIZE records.
 *
 * Errors: the server's FAILURE becomes an eg_status — Neo.ClientError.Schema.ConstraintValidationFailed is
 * EG_CONFLICT, other Neo.ClientError.* are EG_INVALID_ARGUMENT (EG_NOT_FOUND for EntityNotFound), transient errors,
 * timeouts and connection loss are EG_UNAVAILABLE (or EG_TIMEOUT) — with a message naming the Neo4j code and the
 * server's message, sanitised: no credentials, no URI with a password, no server paths. */
#ifndef ENGRAM_BOLT_CLIENT_H
#define ENGRAM_BOLT_CLIENT_H

#include <engram/status.h>

#include "bolt/statements.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records asked for by each PULL. */
#define EG_BOLT_FETCH_SIZE 1000

typedef struct eg_bolt_client_options {
    const char *uri;      /* bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s://, neo4j+ssc:// HOST[:PORT] (7687) */
    const char *user;     /* basic scheme; NULL or "": no authentication */
    const char *password;
    const char *database; /* NULL or "": the server's default (home) database */
    const char *ca_file;  /* PEM certificates to trust for +s; NULL: the system's */
    uint32_t max_connections;       /* pool size; 0: 50 */
    uint32_t acquisition_timeout_ms; /* waiting for a free connection; 0: 30000 */
    uint32_t max_lifetime_ms;        /* a connection older than this is closed, not reused; 0: 3600000 */
    uint32_t timeout_ms;             /* connecting and each request's answer; 0: 30000 */
} eg_bolt_client_options;

typedef struct eg_bolt_client eg_bolt_client;

/* Checks the options and the URI; connects lazily (the first call opens the first connection), so that a store
 * can open while its server is down. */
eg_status eg_bolt_client_open(const eg_bolt_client_options *options, eg_bolt_client **out, eg_error *err);
/* Says GOODBYE on every idle connection and frees the client; every transaction must have ended. NULL ignored. */
void eg_bolt_client_close(eg_bolt_client *client);

typedef enum eg_bolt_access { EG_BOLT_READ, EG_BOLT_WRITE } eg_bolt_access;

/* One statement in a transaction of its own (auto-commit), on a writer or a reader. A transient failure or a
 * lost connection before any record arrived is retried (with bounded backoff, within timeout_ms); a write is sent
 * again only when the server cannot have run it (the connection failed before RUN was sent). *result is owned by
 * the caller (eg_bolt_result_free); result NULL: the records are not wanted (DISCARD), as for a write that returns
 * nothing. Reads after writes see them: the client carries the last bookmark. */
eg_status eg_bolt_client_run(eg_bolt_client *client, eg_bolt_access access, const char *statement,
                             const eg_ps_value *parameters, eg_bolt_result *result, eg_error *err);

/* An explicit transaction on one pooled connection (BEGIN ... COMMIT / ROLLBACK). BEGIN travels with the first
 * statement (or with COMMIT / ROLLBACK), as the official drivers send it: a server's refusal to begin is that
 * statement's failure, and a rollback before any statement sends nothing. */
typedef struct eg_bolt_tx eg_bolt_tx;

eg_status eg_bolt_client_begin(eg_bolt_client *client, eg_bolt_access access, eg_bolt_tx **out, eg_error *err);
/* A failure leaves tx good only for rollback. result NULL: the records are not wanted (DISCARD). */
eg_status eg_bolt_tx_run(eg_bolt_tx *tx, const char *statement, const eg_ps_value *parameters,
                         eg_bolt_result *result, eg_error *err);
/* Commits and frees tx (whatever the outcome). */
eg_status eg_bolt_tx_commit(eg_bolt_tx *tx, eg_error *err);
/* Rolls back and frees tx. NULL ignored. */
void eg_bolt_tx_rollback(eg_bolt_tx *tx);

/* The work of a managed transaction: statements run in tx; its own failure is returned as is. */
typedef eg_status (*eg_bolt_work)(eg_bolt_tx *tx, void *context, eg_error *err);

/* Runs work in a transaction of its own and commits it, as the drivers' managed transactions do: when a statement
 * or the COMMIT fails in a way that means the server cannot have committed — a Neo.TransientError.* (the server
 * rolled back), on a routed target a server that is not the leader, or a connection that ended before COMMIT was
 * written whole (the server rolls back an open transaction whose connection ends) — the transaction is rolled
 * back and work runs again from the start in a new one, after the same backoff as eg_bolt_client_run, while the
 * next attempt starts within timeout_ms of the first. work must therefore set its outputs afresh on every run.
 * A failure of work's own (a status it decided, the server's answer intact) rolls back and is returned; a
 * connection lost after COMMIT was sent is EG_UNAVAILABLE and not retried: the transaction may have committed. */
eg_status eg_bolt_client_transact(eg_bolt_client *client, eg_bolt_access access, eg_bolt_work work, void *context,
                                  eg_error *err);

#endif
