/* guard_graph.c — the guarded graph store (see guard.h): every operation of eg_graph_ops asks the guard, calls
 * the inner store, and shows the guard the result. */
#include "resilience/guard.h"

#include <stdlib.h>

const char *const eg_graph_op_names[] = {
    "create_node", "get_node", "get_nodes", "update_node", "delete_node", "batch_create_nodes", "list_nodes",
    "count_nodes", "create_relationship", "batch_create_relationships", "delete_relationship", "get_relationships",
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
} guarded_graph;

/* The body of every forwarder: the operation's name is its table field's, so the two cannot drift apart. */
#define FORWARD(op, ...)                                                                                             \
    guarded_graph *w = (guarded_graph *)g;                                                                           \
    eg_status st = eg_guard_before(&w->guard, "graph", #op, err);                                                    \
    if (st != EG_OK) return st;                                                                                      \
    st = w->inner->ops->op(w->inner, __VA_ARGS__, err);                                                              \
    eg_guard_after(&w->guard, "graph", #op, st, err);                                                                \
    return st

static eg_status create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err) {
    FORWARD(create_node, label, id, properties);
}

static eg_status get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err) {
    FORWARD(get_node, id, label, out);
}

static eg_status get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err) {
    FORWARD(get_nodes, ids, count, out);
}

static eg_status update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err) {
    FORWARD(update_node, id, properties, label);
}

static eg_status delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err) {
    FORWARD(delete_node, id, label);
}

static eg_status batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err) {
    FORWARD(batch_create_nodes, nodes, count);
}

static eg_status list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                            eg_error *err) {
    FORWARD(list_nodes, label, after_id, limit, out);
}

static eg_status count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err) {
    FORWARD(count_nodes, label, out);
}

static eg_status create_relationship(eg_graph *g, const eg_relationship_spec *rel, eg_error *err) {
    FORWARD(create_relationship, rel);
}

static eg_status batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count,
                                            eg_error *err) {
    FORWARD(batch_create_relationships, rels, count);
}

static eg_status delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                     eg_error *err) {
    FORWARD(delete_relationship, source_id, target_id, type);
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
    FORWARD(reweight_relationship, source_id, target_id, type, rate, strengthen, new_weight);
}

static eg_status batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                           const char *session_id, eg_decay_result *out, eg_error *err) {
    FORWARD(batch_decay_relationships, stale_days, decay_rate, min_weight, session_id, out);
}

static eg_status count_stale_relationships(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                           eg_error *err) {
    FORWARD(count_stale_relationships, stale_days, session_id, out);
}

static eg_status find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                           eg_rel_type_set types, eg_path *out, eg_error *err) {
    FORWARD(find_path, source_id, target_id, max_depth, types, out);
}

static void close_guarded(eg_graph *g) {
    guarded_graph *w = (guarded_graph *)g;
    w->inner->ops->close(w->inner);
    free(w);
}

static const eg_graph_ops guarded_ops = {
    .create_node = create_node,
    .get_node = get_node,
    .get_nodes = get_nodes,
    .update_node = update_node,
    .delete_node = delete_node,
    .batch_create_nodes = batch_create_nodes,
    .list_nodes = list_nodes,
    .count_nodes = count_nodes,
    .create_relationship = create_relationship,
    .batch_create_relationships = batch_create_relationships,
    .delete_relationship = delete_relationship,
    .get_relationships = get_relationships,
    .get_relationships_batch = get_relationships_batch,
    .count_relationships = count_relationships,
    .reweight_relationship = reweight_relationship,
    .batch_decay_relationships = batch_decay_relationships,
    .count_stale_relationships = count_stale_relationships,
    .find_path = find_path,
    .close = close_guarded,
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
