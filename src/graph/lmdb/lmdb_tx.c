/* lmdb_tx.c — graph transactions of the embedded backend (eg_graph_begin / commit / rollback): the view of the
 * store a transaction works through, its end, and the store's record of the thread that has one open.
 *
 * A view is a copy of the store's lmdb_graph (same environment, same tables, so every operation runs on it
 * unchanged) holding one LMDB write transaction, which lg_begin hands to each operation and lg_commit keeps open.
 * LMDB allows one write transaction at a time and ties it to the thread that began it (its writer lock is a
 * mutex of that thread): that is what makes the view the store's one writer — other writers and other begins wait
 * in mdb_txn_begin — and why it belongs to its thread. Readers read their own snapshots and never wait. LMDB
 * writes nothing a reader or a reopen can see before commit, so a process killed with a transaction open leaves
 * the store as it was at begin.
 *
 * No nested LMDB transaction per operation: it would make a failed write undo itself, but costs a page list of
 * megabytes per call; a failed write marks the view failed instead (lg_abort), as the contract allows. */
#include "graph/lmdb/lmdb_graph.h"

#include <pthread.h>
#include <stdlib.h>

struct lg_transactions {
    pthread_mutex_t mutex;
    pthread_cond_t ended; /* broadcast when the open transaction ends */
    lmdb_graph *open;     /* the open transaction's view, or NULL */
    pthread_t owner;      /* the thread that began it (meaningful while open is set) */
};

static const eg_graph_ops view_ops;

eg_status lg_transactions_new(lmdb_graph *store, eg_error *err) {
    lg_transactions *t = calloc(1, sizeof *t);
    if (!t) return eg_error_set(err, EG_INTERNAL, "out of memory");
    pthread_mutex_init(&t->mutex, NULL);
    pthread_cond_init(&t->ended, NULL);
    store->transactions = t;
    return EG_OK;
}

/* Closing under another thread's transaction waits for it, like any writer; closing under the calling thread's
 * own cannot wait, so it rolls that one back (on its own thread, as LMDB requires) and leaves the view answering
 * EG_CONFLICT until its owner commits or rolls it back, which frees it. */
void lg_transactions_free(lmdb_graph *store) {
    lg_transactions *t = store->transactions;
    pthread_mutex_lock(&t->mutex);
    while (t->open && !pthread_equal(t->owner, pthread_self())) pthread_cond_wait(&t->ended, &t->mutex);
    if (t->open) {
        mdb_txn_abort(t->open->tx_txn);
        t->open->tx_txn = NULL;
        t->open = NULL;
    }
    pthread_mutex_unlock(&t->mutex);
    pthread_cond_destroy(&t->ended);
    pthread_mutex_destroy(&t->mutex);
    free(t);
}

bool lg_in_transaction(lmdb_graph *store) {
    lg_transactions *t = store->transactions;
    pthread_mutex_lock(&t->mutex);
    bool mine = t->open && pthread_equal(t->owner, pthread_self());
    pthread_mutex_unlock(&t->mutex);
    return mine;
}

eg_status lg_tx_begin(eg_graph *g, eg_graph **tx, eg_error *err) {
    lmdb_graph *store = lmdb_of(g);
    if (lg_in_transaction(store))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "begin: this thread already has a transaction open on the graph store (transactions "
                            "do not nest)");
    lmdb_graph *view = malloc(sizeof *view);
    if (!view) return eg_error_set(err, EG_INTERNAL, "out of memory");
    *view = *store;
    view->base.ops = &view_ops;
    view->is_view = true;
    view->tx_failed = false;
    eg_status st = eg_lmdb_begin(&store->lmdb, true, &view->tx_txn, err); /* waits while another writer works */
    if (st) {
        free(view);
        return st;
    }
    lg_transactions *t = store->transactions;
    pthread_mutex_lock(&t->mutex);
    t->open = view;
    t->owner = pthread_self();
    pthread_mutex_unlock(&t->mutex);
    *tx = &view->base;
    return EG_OK;
}

/* After the view's LMDB transaction ended: the store no longer has a transaction open (a close waiting for it
 * may go on, so the store is not touched after this), and the view is freed. */
static void end_view(lmdb_graph *view) {
    lg_transactions *t = view->transactions;
    pthread_mutex_lock(&t->mutex);
    t->open = NULL;
    pthread_cond_broadcast(&t->ended);
    pthread_mutex_unlock(&t->mutex);
    free(view);
}

static eg_status closed_under(eg_error *err) {
    return eg_error_set(err, EG_CONFLICT,
                        "commit: the graph store was closed while this transaction was open: its writes were dropped");
}

static eg_status view_commit(eg_graph *tx, eg_error *err) {
    lmdb_graph *view = lmdb_of(tx);
    if (!view->tx_txn) { /* orphaned by a close: the store and its bookkeeping are gone */
        free(view);
        return closed_under(err);
    }
    eg_status st;
    if (view->tx_failed) {
        mdb_txn_abort(view->tx_txn);
        st = eg_error_set(err, EG_CONFLICT,
                          "commit: an operation failed inside this transaction, so none of its writes were kept");
    } else {
        st = eg_lmdb_commit(&view->lmdb, view->tx_txn, "commit", err); /* ends the LMDB transaction either way */
    }
    end_view(view);
    return st;
}

static void view_rollback(eg_graph *tx) {
    lmdb_graph *view = lmdb_of(tx);
    if (!view->tx_txn) {
        free(view);
        return;
    }
    mdb_txn_abort(view->tx_txn);
    end_view(view);
}

/* begin is NULL: transactions do not nest (eg_graph_begin says so). Closing a transaction rolls it back. */
static const eg_graph_ops view_ops = {
    LG_OPERATIONS,
    .commit = view_commit,
    .rollback = view_rollback,
    .close = view_rollback,
};
