/* neo4j_tx.c — graph transactions of the Neo4j backend (eg_graph_begin / commit / rollback) as Bolt explicit
 * transactions: the transaction is a copy of the store's neo4j_graph holding the Bolt transaction, so every
 * operation runs on it unchanged and sends its statements inside it (nj_run).
 *
 * Isolation is the server's: Neo4j's read-committed transactions with write locks taken as statements run (engram
 * serve: its one writer from the first write). A write that fails inside the transaction — refused by the server,
 * or found wrong by the backend (a missing node, a conflicting create) — marks it failed: later operations still
 * run, as in the embedded store, but commit rolls back and answers EG_CONFLICT. Unlike the embedded store, a
 * statement the server refuses breaks a Bolt transaction whatever it was (tx_broken): every later operation is
 * EG_CONFLICT, so a failed read that reached the server also leaves it good only for rollback.
 *
 * The store keeps a list of open transactions so that closing it can roll back the calling thread's (its view then
 * answers EG_CONFLICT until freed) and wait for the others', as graph.h asks. */
#include "graph/neo4j/neo4j_graph.h"

#include <stdlib.h>

static eg_status tx_commit(eg_graph *tx, eg_error *err);
static void tx_rollback(eg_graph *tx);

static const eg_graph_ops tx_ops = {NJ_OPERATIONS, .commit = tx_commit, .rollback = tx_rollback,
                                    .close = tx_rollback};

eg_status nj_tx_begin(eg_graph *g, eg_graph **tx, eg_error *err) {
    neo4j_graph *store = neo4j_of(g);
    eg_status st = nj_ensure_schema(store->shared, err); /* schema statements cannot run inside a write */
    if (st) return eg_error_prefix(err, st, "begin: ");
    neo4j_graph *view = malloc(sizeof *view);
    if (!view) return eg_error_set(err, EG_INTERNAL, "out of memory");
    *view = *store;
    view->base.ops = &tx_ops;
    view->is_tx = true;
    view->tx_failed = false;
    view->tx_broken = false;
    view->owner = pthread_self();
    if ((st = eg_bolt_client_begin(store->shared->client, EG_BOLT_WRITE, &view->tx, err))) {
        free(view);
        return eg_error_prefix(err, st, "begin: ");
    }
    nj_shared *shared = store->shared;
    pthread_mutex_lock(&shared->lock);
    view->next_open = shared->open;
    shared->open = view;
    pthread_mutex_unlock(&shared->lock);
    *tx = &view->base;
    return EG_OK;
}

/* Takes an ended transaction off the store's list, after its Bolt transaction ended: a close waiting for it may
 * free the client as soon as it is off. Only the owner's thread clears view->tx (at its end, or closing the store
 * under it), so the owner reads it unlocked; after such a close the shared state is gone and is not touched. */
static void unlink_tx(neo4j_graph *view) {
    nj_shared *shared = view->shared;
    pthread_mutex_lock(&shared->lock);
    for (neo4j_graph **at = &shared->open; *at; at = &(*at)->next_open)
        if (*at == view) {
            *at = view->next_open;
            break;
        }
    view->tx = NULL;
    pthread_cond_broadcast(&shared->tx_ended);
    pthread_mutex_unlock(&shared->lock);
}

static eg_status tx_commit(eg_graph *g, eg_error *err) {
    neo4j_graph *view = neo4j_of(g);
    eg_status st;
    if (!view->tx) {
        st = eg_error_set(err, EG_CONFLICT, "commit: the graph store was closed under this transaction");
    } else if (view->tx_failed || view->tx_broken) {
        eg_bolt_tx_rollback(view->tx);
        unlink_tx(view);
        st = eg_error_set(err, EG_CONFLICT,
                          "commit: a write failed inside this transaction; everything in it was rolled back");
    } else {
        st = eg_error_prefix(err, eg_bolt_tx_commit(view->tx, err), "commit: ");
        unlink_tx(view);
    }
    free(view);
    return st;
}

static void tx_rollback(eg_graph *g) {
    neo4j_graph *view = neo4j_of(g);
    if (view->tx) {
        eg_bolt_tx_rollback(view->tx);
        unlink_tx(view);
    }
    free(view);
}

void nj_transactions_end_all(nj_shared *shared) {
    pthread_mutex_lock(&shared->lock);
    for (;;) {
        neo4j_graph *mine = NULL;
        bool others = false;
        for (neo4j_graph *v = shared->open; v; v = v->next_open) {
            if (pthread_equal(v->owner, pthread_self()))
                mine = v;
            else
                others = true;
        }
        if (mine) { /* the calling thread's own: roll it back here; its view answers EG_CONFLICT until freed */
            for (neo4j_graph **at = &shared->open; *at; at = &(*at)->next_open)
                if (*at == mine) {
                    *at = mine->next_open;
                    break;
                }
            eg_bolt_tx_rollback(mine->tx);
            mine->tx = NULL;
            continue;
        }
        if (!others) break;
        pthread_cond_wait(&shared->tx_ended, &shared->lock);
    }
    pthread_mutex_unlock(&shared->lock);
}
