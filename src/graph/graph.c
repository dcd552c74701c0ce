/* graph.c — the eg_graph_* entry points: validate every argument once, for every backend, then dispatch through
 * the operation table. Nothing reaches a backend (or a decorator such as a circuit breaker) unless it is well
 * formed, so caller errors are reported here and never count as store failures. */
#include "graph/graph_internal.h"
#include "util/json_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST_LIMIT 10000

static eg_status check_graph(eg_graph *g, eg_error *err) {
    if (!g || !g->ops) return eg_error_set(err, EG_INVALID_ARGUMENT, "graph store handle is NULL");
    return EG_OK;
}

/* A label or type must be a code handed out by eg_label_parse / eg_rel_type_parse, within the graph's schema;
 * "any" only where the operation filters. In the t4dm schema an open name is refused even in a read, so a
 * misspelt label is an error rather than an empty answer. */
static eg_status check_label(const eg_graph *g, eg_label label, bool any_allowed, eg_error *err) {
    if (label == EG_LABEL_ANY && any_allowed) return EG_OK;
    if (!eg_label_is_known(label))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid node label %d: not a label code (see eg_label_parse)",
                            (int)label);
    if (label < EG_LABEL_COUNT || g->schema == EG_SCHEMA_OPEN) return EG_OK;
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "invalid node label '%s': must be one of Episode, Entity, Procedure (the graph's schema is "
                        "t4dm; graph.schema=open allows any name)",
                        eg_label_name(label));
}

static eg_status check_rel_type(const eg_graph *g, eg_rel_type type, bool any_allowed, eg_error *err) {
    if (type == EG_REL_ANY && any_allowed) return EG_OK;
    if (!eg_rel_type_is_known(type))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "invalid relationship type %d: not a type code (see eg_rel_type_parse)", (int)type);
    if (type < EG_REL_TYPE_COUNT || g->schema == EG_SCHEMA_OPEN) return EG_OK;
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "invalid relationship type '%s': must be one of %s (the graph's schema is t4dm; "
                        "graph.schema=open allows any name)",
                        eg_rel_type_name(type), EG_REL_TYPE_LIST);
}

static eg_status check_id(const char *id, const char *role, eg_error *err) {
    return eg_error_prefix(err, eg_validate_node_id(id, err), "%s: ", role);
}

static eg_status check_rate(double rate, const char *what, eg_error *err) {
    if (!isfinite(rate) || rate < 0.0 || rate > 1.0)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s must be a number from 0 to 1, got %g", what, rate);
    return EG_OK;
}

/* Property objects: NULL is empty; otherwise an object whose keys are valid property names, within the limits
 * of engram/limits.h and holding no NUL characters. */
static eg_status check_properties(json_t *props, const char *where, eg_error *err) {
    if (!props) return EG_OK;
    if (!json_is_object(props)) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: properties must be a JSON object", where);
    eg_status st = eg_json_check_document(props, &eg_json_user_limits, "properties", err);
    for (void *it = json_object_iter(props); it && st == EG_OK; it = json_object_iter_next(props, it))
        st = eg_validate_property_name(json_object_iter_key(it), err);
    return eg_error_prefix(err, st, "%s: ", where);
}

/* Node properties may repeat the node's own id (dropped) but never another: changing an id is not a rename.
 * Returns a new reference to properties without "id" (or NULL for none). */
static eg_status node_properties(json_t *props, const char *id, const char *where, json_t **out, eg_error *err) {
    *out = NULL;
    eg_status st = check_properties(props, where, err);
    if (st != EG_OK || !props) return st;
    json_t *given = json_object_get(props, "id");
    if (!given) {
        *out = json_incref(props);
        return EG_OK;
    }
    if (!json_is_string(given) || strcmp(json_string_value(given), id) != 0)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "%s: property 'id' differs from the node's id; a node's id cannot be changed", where);
    json_t *copy = json_copy(props);
    if (!copy) return eg_error_set(err, EG_INTERNAL, "out of memory");
    json_object_del(copy, "id");
    *out = copy;
    return EG_OK;
}

/* The typed relationship properties: weight a finite number (or null to remove), coAccessCount an integer >= 0
 * (or null), lastAccessed an integer >= 0. */
static eg_status relationship_properties(json_t *props, const char *where, eg_error *err) {
    eg_status st = check_properties(props, where, err);
    if (st != EG_OK || !props) return st;
    json_t *v = json_object_get(props, EG_PROP_WEIGHT);
    if (v && !json_is_null(v) && !json_is_number(v))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: property 'weight' must be a number", where);
    v = json_object_get(props, EG_PROP_CO_ACCESS);
    if (v && !json_is_null(v) && !(json_is_integer(v) && json_integer_value(v) >= 0))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: property 'coAccessCount' must be an integer >= 0", where);
    v = json_object_get(props, EG_PROP_LAST_ACCESSED);
    if (v && !(json_is_integer(v) && json_integer_value(v) >= 0))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "%s: property 'lastAccessed' must be an integer >= 0 (epoch milliseconds)", where);
    return EG_OK;
}

eg_status eg_graph_create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err) {
    eg_status st;
    json_t *props;
    if ((st = check_graph(g, err)) || (st = check_label(g, label, false, err)) || (st = check_id(id, "id", err)) ||
        (st = node_properties(properties, id, "create_node", &props, err)))
        return st;
    st = g->ops->create_node(g, label, id, props, err);
    json_decref(props);
    return st;
}

eg_status eg_graph_get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_label(g, label, true, err)) || (st = check_id(id, "id", err)))
        return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "get_node: out is NULL");
    memset(out, 0, sizeof *out);
    return g->ops->get_node(g, id, label, out, err);
}

static eg_status check_batch_size(size_t count, const void *items, const char *what, eg_error *err) {
    if (count > EG_GRAPH_BATCH_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: batch of %zu exceeds the maximum of %d", what, count,
                            EG_GRAPH_BATCH_MAX);
    if (count > 0 && !items) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: items are NULL", what);
    return EG_OK;
}

eg_status eg_graph_get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_batch_size(count, ids, "get_nodes", err))) return st;
    for (size_t i = 0; i < count; i++)
        if ((st = check_id(ids[i], "id", err))) return eg_error_prefix(err, st, "ids[%zu].", i);
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "get_nodes: out is NULL");
    memset(out, 0, sizeof *out);
    return g->ops->get_nodes(g, ids, count, out, err);
}

static eg_status update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, const char *op,
                             eg_error *err) {
    eg_status st;
    json_t *props;
    if ((st = check_graph(g, err)) || (st = check_label(g, label, true, err)) || (st = check_id(id, "id", err)))
        return st;
    if (!properties) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: properties are missing", op);
    if ((st = node_properties(properties, id, op, &props, err))) return st;
    st = g->ops->update_node(g, id, props, label, err);
    json_decref(props);
    return st;
}

eg_status eg_graph_update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err) {
    return update_node(g, id, properties, label, "update_node", err);
}

eg_status eg_graph_update_property(eg_graph *g, const char *id, const char *name, json_t *value, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_id(id, "id", err))) return st;
    if ((st = eg_validate_property_name(name, err))) return eg_error_prefix(err, st, "update_property: ");
    if (!value) return eg_error_set(err, EG_INVALID_ARGUMENT, "update_property: value is missing");
    json_t *one = json_object();
    if (!one || json_object_set(one, name, value) != 0) {
        json_decref(one);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    st = update_node(g, id, one, EG_LABEL_ANY, "update_property", err);
    json_decref(one);
    return st;
}

eg_status eg_graph_delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_label(g, label, true, err)) || (st = check_id(id, "id", err)))
        return st;
    return g->ops->delete_node(g, id, label, err);
}

static int compare_id_pointers(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

eg_status eg_graph_batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_batch_size(count, nodes, "batch_create_nodes", err))) return st;
    if (count == 0) return EG_OK;
    eg_node_spec *clean = calloc(count, sizeof *clean);
    const char **ids = calloc(count, sizeof *ids);
    if (!clean || !ids) {
        free(clean);
        free(ids);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < count; i++) { /* the item is named only on failure: formatting is not free */
        const eg_node_spec *n = &nodes[i];
        clean[i] = *n;
        clean[i].properties = NULL;
        if ((st = eg_error_prefix(err, check_label(g, n->label, false, err), "label: ")) ||
            (st = check_id(n->id, "id", err)) ||
            (st = node_properties(n->properties, n->id, "properties", &clean[i].properties, err))) {
            eg_error_prefix(err, st, "nodes[%zu].", i);
            break;
        }
        ids[i] = n->id;
    }
    if (st == EG_OK) {
        qsort(ids, count, sizeof *ids, compare_id_pointers);
        for (size_t i = 1; i < count && st == EG_OK; i++)
            if (strcmp(ids[i - 1], ids[i]) == 0)
                st = eg_error_set(err, EG_INVALID_ARGUMENT, "batch_create_nodes: id '%s' appears more than once",
                                  ids[i]);
    }
    if (st == EG_OK) st = g->ops->batch_create_nodes(g, clean, count, err);
    for (size_t i = 0; i < count; i++) json_decref(clean[i].properties);
    free(clean);
    free(ids);
    return st;
}

eg_status eg_graph_list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                              eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_label(g, label, true, err))) return st;
    if (after_id && (st = check_id(after_id, "cursor", err))) return st;
    if (limit < 1 || limit > MAX_LIST_LIMIT)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "limit must be from 1 to %d, got %zu", MAX_LIST_LIMIT, limit);
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "list_nodes: out is NULL");
    memset(out, 0, sizeof *out);
    return g->ops->list_nodes(g, label, after_id, limit, out, err);
}

eg_status eg_graph_find_nodes(eg_graph *g, eg_label label, const eg_node_text_filter *filter, const char *after_id,
                              size_t limit, eg_node_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_label(g, label, true, err))) return st;
    if (after_id && (st = check_id(after_id, "cursor", err))) return st;
    if (limit < 1 || limit > MAX_LIST_LIMIT)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "limit must be from 1 to %d, got %zu", MAX_LIST_LIMIT, limit);
    if (!out || !filter || (!filter->text && filter->text_length) || (!filter->properties && filter->property_count))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "find_nodes: out, filter, text or properties is NULL");
    eg_node_text_filter clean = *filter;
    if (!clean.text) clean.text = "";
    if (clean.id_prefix && !clean.id_prefix[0]) clean.id_prefix = NULL;
    if (clean.id_prefix && (st = check_id(clean.id_prefix, "id_prefix", err))) return st;
    for (size_t i = 0; i < clean.property_count; i++)
        if ((st = eg_validate_property_name(clean.properties[i], err))) return eg_error_prefix(err, st, "properties: ");
    memset(out, 0, sizeof *out);
    eg_node_search search;
    if ((st = eg_node_search_init(&search, &clean, err))) return st;
    st = g->ops->find_nodes(g, label, &search, after_id, limit, out, err);
    eg_node_search_free(&search);
    return st;
}

eg_status eg_graph_count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_label(g, label, true, err))) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "count_nodes: out is NULL");
    return g->ops->count_nodes(g, label, out, err);
}

static eg_status check_relationship_spec(const eg_graph *g, const eg_relationship_spec *r, eg_error *err) {
    eg_status st;
    if ((st = check_id(r->source_id, "source_id", err)) || (st = check_id(r->target_id, "target_id", err)) ||
        (st = eg_error_prefix(err, check_rel_type(g, r->type, false, err), "type: ")))
        return st;
    return relationship_properties(r->properties, "properties", err);
}

eg_status eg_graph_create_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       json_t *properties, eg_error *err) {
    eg_status st;
    eg_relationship_spec spec = {source_id, target_id, type, properties};
    if ((st = check_graph(g, err))) return st;
    if ((st = check_relationship_spec(g, &spec, err))) return eg_error_prefix(err, st, "create_relationship: ");
    return g->ops->create_relationship(g, &spec, err);
}

eg_status eg_graph_batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count,
                                              eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_batch_size(count, rels, "batch_create_relationships", err)))
        return st;
    for (size_t i = 0; i < count; i++)
        if ((st = check_relationship_spec(g, &rels[i], err))) return eg_error_prefix(err, st, "relationships[%zu].", i);
    if (count == 0) return EG_OK;
    return g->ops->batch_create_relationships(g, rels, count, err);
}

eg_status eg_graph_delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_id(source_id, "source_id", err)) ||
        (st = check_id(target_id, "target_id", err)) || (st = check_rel_type(g, type, false, err)))
        return st;
    return g->ops->delete_relationship(g, source_id, target_id, type, err);
}

static eg_status check_direction(eg_direction dir, eg_error *err) {
    if (dir >= EG_DIR_OUT && dir <= EG_DIR_BOTH) return EG_OK;
    return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid direction %d: must be out, in or both", (int)dir);
}

eg_status eg_graph_get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                                     eg_relationship_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_id(id, "id", err)) || (st = check_rel_type(g, type, true, err)) ||
        (st = check_direction(dir, err)))
        return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "get_relationships: out is NULL");
    memset(out, 0, sizeof *out);
    return g->ops->get_relationships(g, id, type, dir, out, err);
}

eg_status eg_graph_get_relationships_batch(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                           eg_direction dir, eg_relationship_list *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_batch_size(count, ids, "get_relationships_batch", err)) ||
        (st = check_rel_type(g, type, true, err)) || (st = check_direction(dir, err)))
        return st;
    for (size_t i = 0; i < count; i++)
        if ((st = check_id(ids[i], "id", err))) return eg_error_prefix(err, st, "ids[%zu].", i);
    if (count > 0 && !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "get_relationships_batch: out is NULL");
    memset(out, 0, count * sizeof *out);
    return g->ops->get_relationships_batch(g, ids, count, type, dir, out, err);
}

eg_status eg_graph_count_relationships(eg_graph *g, uint64_t *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err))) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "count_relationships: out is NULL");
    return g->ops->count_relationships(g, out, err);
}

static eg_status reweight(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type, double rate,
                          bool strengthen, double *new_weight, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_id(source_id, "source_id", err)) ||
        (st = check_id(target_id, "target_id", err)) || (st = check_rel_type(g, type, true, err)) ||
        (st = check_rate(rate, strengthen ? "learning_rate" : "rate", err)))
        return st;
    double ignored;
    return g->ops->reweight_relationship(g, source_id, target_id, type, rate, strengthen,
                                         new_weight ? new_weight : &ignored, err);
}

eg_status eg_graph_strengthen_relationship(eg_graph *g, const char *source_id, const char *target_id,
                                           eg_rel_type type, double learning_rate, double *new_weight,
                                           eg_error *err) {
    return reweight(g, source_id, target_id, type, learning_rate, true, new_weight, err);
}

eg_status eg_graph_weaken_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       double rate, double *new_weight, eg_error *err) {
    return reweight(g, source_id, target_id, type, rate, false, new_weight, err);
}

static eg_status check_stale_args(double stale_days, const char *session_id, eg_error *err) {
    if (!isfinite(stale_days) || stale_days < 0 || stale_days > 1e6)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "stale_days must be a number from 0 to 1000000, got %g",
                            stale_days);
    if (session_id && (session_id[0] == '\0' || strlen(session_id) > 1024))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "session_id must be 1 to 1024 characters");
    return EG_OK;
}

eg_status eg_graph_batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                             const char *session_id, eg_decay_result *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_stale_args(stale_days, session_id, err)) ||
        (st = check_rate(decay_rate, "decay_rate", err)) || (st = check_rate(min_weight, "min_weight", err)))
        return st;
    eg_decay_result ignored;
    return g->ops->batch_decay_relationships(g, stale_days, decay_rate, min_weight, session_id, out ? out : &ignored,
                                             err);
}

eg_status eg_graph_count_stale_relationships(eg_graph *g, double stale_days, const char *session_id,
                                             uint64_t *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_stale_args(stale_days, session_id, err))) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "count_stale_relationships: out is NULL");
    return g->ops->count_stale_relationships(g, stale_days, session_id, out, err);
}

eg_status eg_graph_find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                             eg_rel_type_set types, eg_path *out, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err)) || (st = check_id(source_id, "source_id", err)) ||
        (st = check_id(target_id, "target_id", err)))
        return st;
    if (max_depth < 1 || max_depth > EG_PATH_DEPTH_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "max_depth must be an integer from 1 to %d, got %d",
                            EG_PATH_DEPTH_MAX, max_depth);
    if (types.count && !types.types) return eg_error_set(err, EG_INVALID_ARGUMENT, "find_path: types is NULL");
    for (size_t i = 0; i < types.count; i++)
        if ((st = check_rel_type(g, types.types[i], false, err))) return eg_error_prefix(err, st, "types[%zu]: ", i);
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "find_path: out is NULL");
    memset(out, 0, sizeof *out);
    return g->ops->find_path(g, source_id, target_id, max_depth, types, out, err);
}

/* A transaction's table has commit and rollback and no begin; a store's (or a decorator's over one) has begin
 * when its backend has transactions, and never commit. */
static bool is_transaction(const eg_graph *g) { return g->ops->commit != NULL; }

eg_status eg_graph_begin(eg_graph *g, eg_graph **tx, eg_error *err) {
    eg_status st;
    if ((st = check_graph(g, err))) return eg_error_prefix(err, st, "begin: ");
    if (!tx) return eg_error_set(err, EG_INVALID_ARGUMENT, "begin: tx (where the transaction goes) is NULL");
    *tx = NULL;
    if (is_transaction(g))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "begin: the handle is a transaction already (transactions do not nest)");
    if (!g->ops->begin)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "begin: the %s store has no transactions", g->name);
    if ((st = g->ops->begin(g, tx, err))) return st;
    (*tx)->schema = g->schema; /* validated against here, like the store */
    return EG_OK;
}

eg_status eg_graph_commit(eg_graph *tx, eg_error *err) {
    if (!tx || !tx->ops) return eg_error_set(err, EG_INVALID_ARGUMENT, "commit: transaction handle is NULL");
    if (!is_transaction(tx))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "commit: the handle is a store, not a transaction from eg_graph_begin");
    return tx->ops->commit(tx, err);
}

void eg_graph_rollback(eg_graph *tx) {
    if (tx && tx->ops && is_transaction(tx)) tx->ops->rollback(tx);
}

void eg_graph_set_schema(eg_graph *g, eg_graph_schema schema) {
    if (g) g->schema = schema == EG_SCHEMA_OPEN ? EG_SCHEMA_OPEN : EG_SCHEMA_T4DM;
}

void eg_graph_close(eg_graph *g) {
    if (g && g->ops) g->ops->close(g);
}
