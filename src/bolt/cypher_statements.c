/* cypher_statements.c — the Bolt statement engine over the graph (see cypher_statements.h): parse, pick the
 * graph the statement runs on (the store, a transaction begun lazily, or an auto-commit transaction), execute,
 * and commit or roll back. */
#include "bolt/cypher_statements.h"

#include "cypher/cypher.h"
#include "cypher/executor_internal.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>

/* One Bolt transaction: its graph transaction once a statement wrote, and whether a statement failed in it. */
typedef struct cypher_tx {
    eg_graph *graph_tx;
    bool failed;
} cypher_tx;

static bool fail_status(eg_bolt_failure *failure, eg_status status, const eg_error *err, const char *doing) {
    snprintf(failure->code, sizeof failure->code, "%s", cy_status_code(status));
    snprintf(failure->message, sizeof failure->message, "%s: %.400s", doing, err->message);
    return false;
}

static bool begin(void *context, void **tx, eg_bolt_failure *failure) {
    (void)context;
    cypher_tx *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(failure->code, sizeof failure->code, "%s", CY_UNKNOWN_ERROR);
        snprintf(failure->message, sizeof failure->message, "out of memory");
        return false;
    }
    *tx = t;
    return true;
}

static bool run(void *context, void *tx, const char *statement, size_t statement_len, const eg_ps_value *parameters,
                eg_bolt_result *result, eg_bolt_failure *failure) {
    eg_bolt_cypher_engine *engine = context;
    cypher_tx *t = tx;
    *result = (eg_bolt_result){0};
    if (t && t->failed) {
        snprintf(failure->code, sizeof failure->code, "Neo.ClientError.Transaction.TransactionMarkedAsFailed");
        snprintf(failure->message, sizeof failure->message,
                 "a statement of this transaction failed: it can only be rolled back");
        return false;
    }
    cy_statement *parsed;
    if (!cy_parse(statement, statement_len, &parsed, failure)) {
        if (t) t->failed = true;
        return false;
    }
    bool writes = cy_statement_writes(parsed);
    eg_error err;
    eg_status st;
    bool ok;
    if (t) {
        if (writes && !t->graph_tx && (st = eg_graph_begin(engine->graph, &t->graph_tx, &err)) != EG_OK) {
            ok = fail_status(failure, st, &err, "beginning a transaction");
        } else {
            ok =
                cy_execute(parsed, t->graph_tx ? t->graph_tx : engine->graph, parameters, eg_now_ms(), result, failure);
        }
        if (!ok) t->failed = true;
    } else if (writes) {
        eg_graph *graph_tx;
        if ((st = eg_graph_begin(engine->graph, &graph_tx, &err)) != EG_OK) {
            ok = fail_status(failure, st, &err, "beginning a transaction");
        } else if (!cy_execute(parsed, graph_tx, parameters, eg_now_ms(), result, failure)) {
            eg_graph_rollback(graph_tx);
            ok = false;
        } else if ((st = eg_graph_commit(graph_tx, &err)) != EG_OK) {
            eg_bolt_result_free(result);
            ok = fail_status(failure, st, &err, "committing");
        } else {
            ok = true;
        }
    } else {
        ok = cy_execute(parsed, engine->graph, parameters, eg_now_ms(), result, failure);
    }
    cy_statement_free(parsed);
    return ok;
}

static bool commit(void *context, void *tx, eg_bolt_failure *failure) {
    (void)context;
    cypher_tx *t = tx;
    bool ok = true;
    if (t->failed) {
        eg_graph_rollback(t->graph_tx);
        snprintf(failure->code, sizeof failure->code, "Neo.ClientError.Transaction.TransactionMarkedAsFailed");
        snprintf(failure->message, sizeof failure->message,
                 "a statement of this transaction failed: it was rolled back");
        ok = false;
    } else if (t->graph_tx) {
        eg_error err;
        eg_status st = eg_graph_commit(t->graph_tx, &err);
        if (st != EG_OK) ok = fail_status(failure, st, &err, "committing");
    }
    free(t);
    return ok;
}

static void rollback(void *context, void *tx) {
    (void)context;
    cypher_tx *t = tx;
    if (!t) return;
    eg_graph_rollback(t->graph_tx);
    free(t);
}

const eg_bolt_statements *eg_bolt_cypher_engine_init(eg_bolt_cypher_engine *engine, eg_graph *graph) {
    *engine = (eg_bolt_cypher_engine){
        .statements = {.begin = begin, .run = run, .commit = commit, .rollback = rollback},
        .graph = graph,
    };
    engine->statements.context = engine;
    return &engine->statements;
}
