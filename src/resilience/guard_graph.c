/* guard_graph.c — the guarded graph store (see guard.h): every operation of eg_graph_ops asks the guard, calls
 * the inner store, and shows the guard the result.
 *
 * Transactions: begin goes through the guard like any operation, and the transaction it returns is wrapped in a
 * guarded transaction with the same guard, so that the operations, commit and rollback of a transaction reach
 * the guard too: faults can be injected inside a transaction, a circuit breaker sees its work (and refuses it
 * while open), and a write observer sees the commit that makes its writes visible. A write that fails inside the
 * transaction, whether the inner store or the guard refused it, marks the wrapper failed: an inner store cannot
 * know of a write the guard refused, and committing what came before it would keep half of what the caller meant.
 * Commit then refuses with EG_CONFLICT without reaching the guard (it is the caller's mistake, not the store's)
 * and rolls the inner transaction back. Commit refused by the guard also rolls it back: a commit ends its
 * transaction whatever the outcome. Rollback is shown to the guard, but cannot be refused: it is what releases
 * the store's one writer. */
#include "resilience/guard.h"

#include <stdlib.h>

const char *const eg_graph_op_names[] = {
    "create_node", "get_node", "get_nodes", "update_node", "delete_node", "batch_create_nodes", "list_nodes",
    "count_nodes", "find_nodes", "create_relationship", "batch_create_relationships", "delete_relationship", "get_relationships",
    "get_relationships_batch", "count_relationships", "reweight_relationship", "batch_decay_relationships",
    "count_stale_relationships", "find_path", "begin", "commit", "rollback", NULL,
};

/* An operation added to the table without a name here (or a forwarder below) fails the build: the NULL stands
 * for close. */
_Static_assert(sizeof eg_graph_op_names / sizeof eg_graph_op_names[0] == sizeof(eg_graph_ops) / sizeof(void (*)(void)),
               "eg_graph_op_names must name every operation of eg_graph_ops but close");

typedef struct guarded_graph {
    eg_graph base; /* first: an eg_graph * of the wrapper is a guarded_graph * */
    eg_graph *inner;
    eg_guard guard;
    bool in_transaction; /* a guarded transaction (used by one thread): failed below means something */
    bool failed;         /* a write failed inside the transaction */
} guarded_graph;

/* The body of every forwarder: the operation's name is its table field's, so the two cannot drift apart. */
#define FORWARD_AS(is_write, op, ...)                                                                                \
    guarded_graph *w = (guarded_graph *)g;                                                                           \
    eg_status st = eg_guard_before(&w->guard, "graph", #op, err);                                                    \
    if (st == EG_OK) {                                                                                               \
        st = w->inner->ops->op(w->inner, __VA_ARGS__, err);                                                          \
        eg_guard_after(&w->guard, "graph", #op, st, err);                                                            \
    }                                                                                                                \
    if (st != EG_OK && (is_write) && w->in_transaction) w->failed = true;                                            \
    return st
#define FORWARD(op, ...) FORWARD_AS(false, op, __VA_ARGS__)
#define FORWARD_WRITE(op, ...) FORWARD_AS(true, op, __VA_ARGS__)

static eg_status create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err) {
    FORWARD_WRITE(create_node, label, id, properties);
}

static eg_status get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err) {
    FORWARD(get_node, id, label, out);
}

static eg_status get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err) {
    FORWARD(get_nodes, ids, count, out);
}

static eg_status update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err) {
    FORWARD_WRITE(update_node, id, properties, label);
}

static eg_status delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err) {
    FORWARD_WRITE(delete_node, id, label);
}

static eg_status batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err) {
    FORWARD_WRITE(batch_create_nodes, nodes, count);
}

static eg_status list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                            eg_error *err) {
    FORWARD(list_nodes, label, after_id, limit, out);
}

static eg_status find_nodes(eg_graph *g, eg_label label, const eg_node_search *search, const char *after_id,
                            size_t limit, eg_node_list *out, eg_error *err) {
    FORWARD(find_nodes, label, search, after_id, limit, out);
}

static eg_status count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err) {
    FORWARD(count_nodes, label, out);
}

static eg_status create_relationship(eg_graph *g, const eg_relationship_spec *rel, eg_error *err) {
    FORWARD_WRITE(create_relationship, rel);
}

static eg_status batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count,
                                            eg_error *err) {
    FORWARD_WRITE(batch_create_relationships, rels, count);
}

static eg_status delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                     eg_error *err) {
    FORWARD_WRITE(delete_relationship, source_id, target_id, type);
}

static eg_status get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                                   eg_relationship_list *out, eg_error *err) {
    FORWARD(get_relationships, id, type, dir, out);
}

static eg_status get_relationships_batch(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                         eg_direction dir, eg_relationship_list *out, eg_error *err) {
    FORWARD(get_relationships_batch, ids, count, type, dir, out);
}

static eg_status count_relationships(eg_graph *g, uint64_t *out, eg_error *err) {
    FORWARD(count_relationships, out);
}

static eg_status reweight_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       double rate, bool strengthen, double *new_weight, eg_error *err) {
    FORWARD_WRITE(reweight_relationship, source_id, target_id, type, rate, strengthen, new_weight);
}

static eg_status batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                           const char *session_id, eg_decay_result *out, eg_error *err) {
    FORWARD_WRITE(batch_decay_relationships, stale_days, decay_rate, min_weight, session_id, out);
}

static eg_status count_stale_relationships(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                           eg_error *err) {
    FORWARD(count_stale_relationships, stale_days, session_id, out);
}

static eg_status find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                           eg_rel_type_set types, eg_path *out, eg_error *err) {
    FORWARD(find_path, source_id, target_id, max_depth, types, out);
}

static const eg_graph_ops guarded_tx_ops;

static eg_status begin(eg_graph *g, eg_graph **tx, eg_error *err) {
    guarded_graph *w = (guarded_graph *)g;
    if (!w->inner->ops->begin) /* a caller error, caught before the guard as validation would */
        return eg_error_set(err, EG_INVALID_ARGUMENT, "begin: the %s store has no transactions", w->base.name);
    guarded_graph *wrapped = calloc(1, sizeof *wrapped);
    if (!wrapped) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_graph *inner_tx = NULL;
    eg_status st = eg_guard_before(&w->guard, "graph", "begin", err);
    if (st == EG_OK) {
        st = w->inner->ops->begin(w->inner, &inner_tx, err);
        eg_guard_after(&w->guard, "graph", "begin", st, err);
    }
    if (st != EG_OK) {
        free(wrapped);
        return st;
    }
    *wrapped = (guarded_graph){{&guarded_tx_ops, w->base.name}, inner_tx, w->guard, true, false};
    *tx = &wrapped->base;
    return EG_OK;
}

static eg_status commit(eg_graph *tx, eg_error *err) {
    guarded_graph *w = (guarded_graph *)tx;
    eg_graph *inner = w->inner;
    eg_guard guard = w->guard;
    bool failed = w->failed;
    free(w);
    if (failed) {
        inner->ops->rollback(inner);
        return eg_error_set(err, EG_CONFLICT,
                            "commit: an operation failed inside this transaction, so none of its writes were kept");
    }
    eg_status st = eg_guard_before(&guard, "graph", "commit", err);
    if (st != EG_OK) {
        inner->ops->rollback(inner);
        return st;
    }
    st = inner->ops->commit(inner, err);
    eg_guard_after(&guard, "graph", "commit", st, err);
    return st;
}

static void rollback(eg_graph *tx) {
    guarded_graph *w = (guarded_graph *)tx;
    bool admitted = eg_guard_before(&w->guard, "graph", "rollback", NULL) == EG_OK;
    w->inner->ops->rollback(w->inner);
    if (admitted) eg_guard_after(&w->guard, "graph", "rollback", EG_OK, NULL);
    free(w);
}

static void close_guarded(eg_graph *g) {
    guarded_graph *w = (guarded_graph *)g;
    w->inner->ops->close(w->inner);
    free(w);
}

#define GUARDED_OPERATIONS                                                                                           \
    .create_node = create_node, .get_node = get_node, .get_nodes = get_nodes, .update_node = update_node,            \
    .delete_node = delete_node, .batch_create_nodes = batch_create_nodes, .list_nodes = list_nodes,                  \
    .count_nodes = count_nodes, .find_nodes = find_nodes, .create_relationship = create_relationship,                \
    .batch_create_relationships = batch_create_relationships, .delete_relationship = delete_relationship,            \
    .get_relationships = get_relationships, .get_relationships_batch = get_relationships_batch,                      \
    .count_relationships = count_relationships, .reweight_relationship = reweight_relationship,                      \
    .batch_decay_relationships = batch_decay_relationships, .count_stale_relationships = count_stale_relationships,  \
    .find_path = find_path

static const eg_graph_ops guarded_ops = {
    GUARDED_OPERATIONS,
    .begin = begin,
    .close = close_guarded,
};

/* A guarded transaction: no begin (they do not nest); closing it rolls it back. */
static const eg_graph_ops guarded_tx_ops = {
    GUARDED_OPERATIONS,
    .commit = commit,
    .rollback = rollback,
    .close = rollback,
};

eg_status eg_graph_guard(eg_graph *inner, const eg_guard *guard, eg_graph **out, eg_error *err) {
    if (!inner || !inner->ops || !guard || !out)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_graph_guard: inner, guard and out must not be NULL");
    guarded_graph *w = calloc(1, sizeof *w);
    if (!w) return eg_error_set(err, EG_INTERNAL, "out of memory");
    w->base.ops = &guarded_ops;
    w->base.name = inner->name;
    w->base.schema = inner->schema;
    w->inner = inner;
    w->guard = *guard;
    *out = &w->base;
    return EG_OK;
}
