/* statements.h — the narrow interface through which the Bolt server runs a statement: a table of function
 * pointers that a statement engine fills, so that the protocol layer (session.c) knows nothing of Cypher and the
 * Cypher engine (cypher_statements.h) plugs in without touching it. */
#ifndef ENGRAM_BOLT_STATEMENTS_H
#define ENGRAM_BOLT_STATEMENTS_H

#include "bolt/packstream.h"

#include <stdbool.h>
#include <stddef.h>

/* A refusal the client sees as a Bolt FAILURE: a Neo4j status code ("Neo.ClientError.Statement.SyntaxError") and
 * a message for people. */
typedef struct eg_bolt_failure {
    char code[96];
    char message[512];
} eg_bolt_failure;

/* A statement's whole result, held until the client has pulled or discarded it. */
typedef struct eg_bolt_result {
    eg_ps_value fields;  /* EG_PS_LIST of EG_PS_STRING: the column names */
    eg_ps_value records; /* EG_PS_LIST of EG_PS_LIST, each as long as fields */
    const char *type;    /* the query type Neo4j reports at the end of the stream: "r", "w", "rw" or "s" */
    /* EG_PS_DICT of what the statement changed, in Neo4j's names ("nodes-created", "relationships-deleted",
     * "properties-set", "labels-added", "indexes-added", "constraints-added", ...; only counts above zero, and
     * "contains-updates": true when any is), sent as the "stats" of the last SUCCESS; EG_PS_NULL: nothing. */
    eg_ps_value stats;
} eg_bolt_result;

/* Frees what a result owns and leaves it empty. */
void eg_bolt_result_free(eg_bolt_result *result);

/* How the session runs statements. An explicit transaction (BEGIN ... COMMIT / ROLLBACK) is the engine's handle
 * `tx`; the session calls every function of one transaction from the connection's one thread, and ends every
 * transaction it began, with commit or rollback (also on RESET, on a timeout, and when the connection closes). */
typedef struct eg_bolt_statements {
    void *context;
    /* BEGIN: opens a transaction. Returns true with *tx set, or false with *failure filled. */
    bool (*begin)(void *context, void **tx, eg_bolt_failure *failure);
    /* Runs statement[0..statement_len) (UTF-8) with its parameters (an EG_PS_DICT), inside tx, or on its own
     * (tx NULL: auto-commit, all or nothing). Returns true with *result filled (owned by the caller), or false with
     * *failure filled and *result left empty; a failure inside tx leaves tx only good for rollback. */
    bool (*run)(void *context, void *tx, const char *statement, size_t statement_len, const eg_ps_value *parameters,
                eg_bolt_result *result, eg_bolt_failure *failure);
    /* COMMIT: makes tx's writes durable and visible, and ends it. False with *failure filled when it could not
     * (nothing of tx is then kept); tx is ended either way. */
    bool (*commit)(void *context, void *tx, eg_bolt_failure *failure);
    /* ROLLBACK (and RESET, timeout, disconnect): drops tx's writes and ends it. */
    void (*rollback)(void *context, void *tx);
} eg_bolt_statements;

#endif
