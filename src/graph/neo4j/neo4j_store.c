/* neo4j_store.c — the Neo4j graph backend's store: opening (a Bolt client, connected lazily), the schema
 * statements run once before the first operation, how an operation's statements are sent (alone, in an
 * operation's own transaction or in the caller's graph transaction), and closing. */
#include "graph/neo4j/neo4j_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C1-C7 of the original system: unique ids per label, the session indexes and Episode's timestamp index. */
static const char *const SCHEMA_STATEMENTS[] = {
    "CREATE CONSTRAINT episode_id IF NOT EXISTS FOR (e:Episode) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT procedure_id IF NOT EXISTS FOR (p:Procedure) REQUIRE p.id IS UNIQUE",
    "CREATE INDEX episode_session IF NOT EXISTS FOR (e:Episode) ON (e.sessionId)",
    "CREATE INDEX entity_session IF NOT EXISTS FOR (e:Entity) ON (e.sessionId)",
    "CREATE INDEX procedure_session IF NOT EXISTS FOR (p:Procedure) ON (p.sessionId)",
    "CREATE INDEX episode_timestamp IF NOT EXISTS FOR (e:Episode) ON (e.timestamp)",
};

eg_status nj_ensure_schema(nj_shared *shared, eg_error *err) {
    pthread_mutex_lock(&shared->lock);
    eg_status st = EG_OK;
    for (size_t i = 0; !shared->schema_ready && i < sizeof SCHEMA_STATEMENTS / sizeof *SCHEMA_STATEMENTS; i++) {
        eg_bolt_result result = {0};
        st = eg_bolt_client_run(shared->client, EG_BOLT_WRITE, SCHEMA_STATEMENTS[i], NULL, &result, err);
        eg_bolt_result_free(&result);
        if (st) break;
    }
    if (st == EG_OK) shared->schema_ready = true;
    pthread_mutex_unlock(&shared->lock);
    return eg_error_prefix(err, st, "graph schema: ");
}

eg_status nj_run(neo4j_graph *ng, eg_bolt_access access, const char *statement, const eg_ps_value *parameters,
                 eg_bolt_result *result, eg_error *err) {
    memset(result, 0, sizeof *result);
    if (ng->is_tx) {
        if (!ng->tx)
            return eg_error_set(err, EG_CONFLICT, "the graph store was closed under this transaction; roll it back");
        if (ng->tx_broken)
            return eg_error_set(err, EG_CONFLICT, "the server refused an earlier statement of this transaction; roll "
                                                  "it back");
        eg_status st = eg_bolt_tx_run(ng->tx, statement, parameters, result, err);
        if (st) ng->tx_broken = true; /* Bolt: a failed statement leaves its transaction good only for rollback */
        return st;
    }
    eg_status st = nj_ensure_schema(ng->shared, err);
    if (st) return st;
    return eg_bolt_client_run(ng->shared->client, access, statement, parameters, result, err);
}

typedef struct own_write {
    neo4j_graph *store;
    nj_write_fn work;
    void *context;
} own_write;

/* Runs the operation on a view of the store holding the managed transaction, as a graph transaction's would. */
static eg_status run_own_write(eg_bolt_tx *tx, void *context, eg_error *err) {
    own_write *w = context;
    neo4j_graph view = *w->store;
    view.is_tx = true;
    view.tx = tx;
    view.tx_failed = false;
    view.tx_broken = false;
    return w->work(&view, w->context, err);
}

eg_status nj_write(neo4j_graph *ng, nj_write_fn work, void *context, eg_error *err) {
    if (ng->is_tx) {
        eg_status st = work(ng, context, err);
        if (st != EG_OK) ng->tx_failed = true;
        return st;
    }
    eg_status st = nj_ensure_schema(ng->shared, err);
    if (st) return st;
    own_write w = {ng, work, context};
    return eg_bolt_client_transact(ng->shared->client, EG_BOLT_WRITE, run_own_write, &w, err);
}

eg_status nj_node_exists(neo4j_graph *ng, const char *id, bool *exists, eg_error *err) {
    nj_params p;
    nj_params_init(&p);
    nj_param_string(&p, "id", id);
    char find[NJ_FIND_NODE_MAX], statement[NJ_FIND_NODE_MAX + 32];
    nj_find_node(ng->base.schema, "n", "$id", "", find);
    snprintf(statement, sizeof statement, "%s RETURN n.id AS id", find);
    eg_bolt_result r;
    eg_status st = nj_params_status(&p, err);
    if (st == EG_OK) st = nj_run(ng, EG_BOLT_READ, statement, &p.dict, &r, err);
    nj_params_free(&p);
    if (st == EG_OK) *exists = nj_row_count(&r) > 0;
    eg_bolt_result_free(&r);
    return st;
}

eg_status nj_check_ends(neo4j_graph *ng, const char *source_id, const char *target_id, eg_error *err) {
    const char *ids[2] = {source_id, target_id}, *roles[2] = {"source node", "target node"};
    for (int i = 0; i < 2; i++) {
        bool exists;
        eg_status st = nj_node_exists(ng, ids[i], &exists, err);
        if (st) return st;
        if (!exists) return eg_error_set(err, EG_NOT_FOUND, "%s '%s' does not exist", roles[i], ids[i]);
    }
    return EG_OK;
}

static void nj_close(eg_graph *g) {
    neo4j_graph *ng = neo4j_of(g);
    nj_shared *shared = ng->shared;
    nj_transactions_end_all(shared);
    eg_bolt_client_close(shared->client);
    pthread_cond_destroy(&shared->tx_ended);
    pthread_mutex_destroy(&shared->lock);
    free(shared);
    free(ng);
}

static const eg_graph_ops store_ops = {NJ_OPERATIONS, .begin = nj_tx_begin, .close = nj_close};

eg_status eg_graph_open_neo4j(const eg_graph_neo4j_options *options, eg_graph **out, eg_error *err) {
    if (!options || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "graph options or out is NULL");
    *out = NULL;
    eg_bolt_client_options client_options = {
        .uri = options->uri,
        .user = options->user,
        .password = options->password,
        .database = options->database,
        .ca_file = options->ca_file,
        .max_connections = options->max_connections,
        .acquisition_timeout_ms = options->acquisition_timeout_ms,
        .max_lifetime_ms = options->max_lifetime_ms,
        .timeout_ms = options->timeout_ms,
    };
    neo4j_graph *ng = calloc(1, sizeof *ng);
    nj_shared *shared = calloc(1, sizeof *shared);
    if (!ng || !shared) {
        free(ng);
        free(shared);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    eg_status st = eg_bolt_client_open(&client_options, &shared->client, err);
    if (st) {
        free(ng);
        free(shared);
        return eg_error_prefix(err, st, "graph: ");
    }
    pthread_mutex_init(&shared->lock, NULL);
    pthread_cond_init(&shared->tx_ended, NULL);
    ng->base = (eg_graph){.ops = &store_ops, .name = "graph", .schema = EG_SCHEMA_T4DM};
    ng->shared = shared;
    *out = &ng->base;
    return EG_OK;
}
