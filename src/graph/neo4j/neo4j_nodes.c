/* neo4j_nodes.c — node operations of the Neo4j graph backend: idempotent create (single and batch: read, compare,
 * create, in one transaction), reads by id, merge-update, detach-delete, listing by label in id order, counts. */
#include "graph/neo4j/neo4j_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATEMENT_MAX (NJ_FIND_NODE_MAX + 128) /* the longest: a node found by id and a short action */

/* The clauses binding n to node $id: with the label when the operation names one, else nj_find_node's. */
static void match_node(const neo4j_graph *ng, eg_label label, char out[NJ_FIND_NODE_MAX]) {
    if (label == EG_LABEL_ANY) {
        nj_find_node(ng->base.schema, "n", "$id", "", out);
        return;
    }
    char label_clause[NJ_NAME_CLAUSE_MAX];
    nj_label_clause(label, label_clause);
    snprintf(out, NJ_FIND_NODE_MAX, "MATCH (n%s {id: $id})", label_clause);
}

/* A retried create of the same node is a no-op; anything else is a conflict (as the embedded store). */
static eg_status compare_existing(const eg_node *existing, eg_label label, json_t *properties, eg_error *err) {
    json_t *wanted = json_object();
    if (!wanted) return eg_error_set(err, EG_INTERNAL, "out of memory");
    const char *key;
    json_t *value;
    if (properties)
        json_object_foreach(properties, key, value) {
            if (!json_is_null(value)) json_object_set(wanted, key, value);
        }
    bool same = existing->label == label && json_equal(existing->properties, wanted);
    json_decref(wanted);
    if (same) return EG_OK;
    return eg_error_set(err, EG_CONFLICT, "node '%s' already exists (as %s) with different content; use update_node",
                        existing->id, eg_label_name(existing->label));
}

eg_status nj_create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err) {
    eg_node_spec spec = {label, id, properties};
    return nj_batch_create_nodes(g, &spec, 1, err);
}

static int compare_nodes(const void *a, const void *b) {
    return strcmp(((const eg_node *)a)->id, ((const eg_node *)b)->id);
}

/* A node of a list sorted by id (read_node_set), or NULL. */
static const eg_node *find_sorted(const eg_node_list *sorted, const char *id) {
    if (sorted->count == 0) return NULL;
    eg_node key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, sorted->items, sorted->count, sizeof key, compare_nodes);
}

/* Decodes every row's column `n` into out (in row order). */
static eg_status nodes_of_rows(const eg_bolt_result *r, eg_node_list *out, eg_error *err) {
    size_t rows = nj_row_count(r);
    out->items = rows ? calloc(rows, sizeof *out->items) : NULL;
    if (rows && !out->items) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < rows; i++) {
        eg_status st = nj_node_from_ps(nj_column(r, i, "n"), true, &out->items[i], err);
        if (st) {
            eg_node_list_free(out);
            return st;
        }
        out->count++;
    }
    return EG_OK;
}

/* The nodes among ids, read in one statement, sorted by id. */
static eg_status read_node_set(neo4j_graph *ng, const char *const *ids, size_t count, eg_node_list *out,
                               eg_error *err) {
    memset(out, 0, sizeof *out);
    nj_params p;
    nj_params_init(&p);
    eg_ps_value list;
    if (nj_ps_string_list(ids, count, &list))
        nj_param_take(&p, "ids", &list);
    else
        p.failed = true;
    char find[NJ_FIND_NODE_MAX], statement[STATEMENT_MAX];
    nj_find_node(ng->base.schema, "n", "id", "", find);
    snprintf(statement, sizeof statement, "UNWIND $ids AS id %s RETURN n", find);
    eg_bolt_result r;
    eg_status st = nj_params_status(&p, err);
    if (st == EG_OK && (st = nj_run(ng, EG_BOLT_READ, statement, &p.dict, &r, err)) == EG_OK) {
        st = nodes_of_rows(&r, out, err);
        eg_bolt_result_free(&r);
    }
    nj_params_free(&p);
    if (st == EG_OK && out->count > 1) qsort(out->items, out->count, sizeof *out->items, compare_nodes);
    return st;
}

/* Creates the nodes of `label` among nodes[] marked in `create`, in one statement. */
static eg_status create_label_group(neo4j_graph *ng, eg_label label, const eg_node_spec *nodes, size_t count,
                                    const bool *create, eg_error *err) {
    size_t n = 0;
    for (size_t i = 0; i < count; i++) n += create[i] && nodes[i].label == label;
    eg_ps_value list;
    if (!nj_ps_list(n, &list)) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = EG_OK;
    for (size_t i = 0, at = 0; i < count && st == EG_OK; i++)
        if (create[i] && nodes[i].label == label) {
            st = nj_properties_to_ps(nodes[i].properties, false, false, nodes[i].id, &list.as.list.items[at++], err);
            if (count > 1) st = eg_error_prefix(err, st, "nodes[%zu]: ", i);
        }
    nj_params p;
    nj_params_init(&p);
    nj_param_take(&p, "nodes", &list);
    char label_clause[NJ_NAME_CLAUSE_MAX], statement[STATEMENT_MAX];
    nj_label_clause(label, label_clause);
    snprintf(statement, sizeof statement,
             "UNWIND $nodes AS properties CREATE (n%s {id: properties.id}) SET n += properties", label_clause);
    eg_bolt_result r;
    if (st == EG_OK) st = nj_params_status(&p, err);
    if (st == EG_OK) st = nj_run(ng, EG_BOLT_WRITE, statement, &p.dict, &r, err);
    if (st == EG_OK) eg_bolt_result_free(&r);
    nj_params_free(&p);
    return st;
}

/* The caller's checks come first: every item's properties must be storable before anything is sent. */
static eg_status check_storable(const eg_node_spec *nodes, size_t count, eg_error *err) {
    for (size_t i = 0; i < count; i++) {
        eg_ps_value v;
        eg_status st = nj_properties_to_ps(nodes[i].properties, false, false, NULL, &v, err);
        if (st) return count > 1 ? eg_error_prefix(err, st, "nodes[%zu]: ", i) : st;
        eg_ps_value_free(&v);
    }
    return EG_OK;
}

typedef struct create_request {
    const eg_node_spec *nodes;
    size_t count;
    bool refused; /* the server refused a create (its unique constraint): another writer came first */
} create_request;

static eg_status create_nodes(neo4j_graph *ng, void *context, eg_error *err) {
    create_request *request = context;
    const eg_node_spec *nodes = request->nodes;
    size_t count = request->count;
    request->refused = false;
    const char **ids = calloc(count, sizeof *ids);
    bool *create = calloc(count, sizeof *create);
    eg_node_list existing = {0};
    eg_status st = ids && create ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; st == EG_OK && i < count; i++) ids[i] = nodes[i].id;
    if (st == EG_OK) st = read_node_set(ng, ids, count, &existing, err);
    for (size_t i = 0; st == EG_OK && i < count; i++) {
        const eg_node *found = find_sorted(&existing, nodes[i].id);
        create[i] = !found;
        if (found && (st = compare_existing(found, nodes[i].label, nodes[i].properties, err)) && count > 1)
            eg_error_prefix(err, st, "nodes[%zu]: ", i);
    }
    /* one statement per label among the new nodes, each label once */
    for (size_t i = 0; st == EG_OK && i < count; i++) {
        bool first = create[i];
        for (size_t j = 0; first && j < i; j++) first = !(create[j] && nodes[j].label == nodes[i].label);
        if (first && (st = create_label_group(ng, nodes[i].label, nodes, count, create, err)) == EG_CONFLICT)
            request->refused = true;
    }
    eg_node_list_free(&existing);
    free(ids);
    free(create);
    return st;
}

/* Another writer may create one of the ids between the read and the create: the server's unique constraint (or
 * engram serve's id rule) then refuses the create as a conflict. Outside a graph transaction the operation runs
 * once more, so that it compares with what that writer made: the same content is then a no-op, as a retry
 * should be. Inside one, the refused statement has ended the Bolt transaction and the conflict stands. */
eg_status nj_batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err) {
    neo4j_graph *ng = neo4j_of(g);
    eg_status st = check_storable(nodes, count, err);
    if (st) return st;
    create_request request = {nodes, count, false};
    st = nj_write(ng, create_nodes, &request, err);
    if (st == EG_CONFLICT && request.refused && !ng->is_tx) st = nj_write(ng, create_nodes, &request, err);
    return st;
}

eg_status nj_get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err) {
    nj_params p;
    nj_params_init(&p);
    nj_param_string(&p, "id", id);
    char match[NJ_FIND_NODE_MAX], statement[STATEMENT_MAX];
    match_node(neo4j_of(g), label, match);
    snprintf(statement, sizeof statement, "%s RETURN n", match);
    eg_bolt_result r;
    eg_status st = nj_params_status(&p, err);
    if (st == EG_OK) st = nj_run(neo4j_of(g), EG_BOLT_READ, statement, &p.dict, &r, err);
    nj_params_free(&p);
    if (st) return st;
    if (nj_row_count(&r) == 0)
        st = label == EG_LABEL_ANY
                 ? eg_error_set(err, EG_NOT_FOUND, "node '%s' does not exist", id)
                 : eg_error_set(err, EG_NOT_FOUND, "node '%s' with label %s does not exist", id, eg_label_name(label));
    else
        st = nj_node_from_ps(nj_column(&r, 0, "n"), true, out, err);
    eg_bolt_result_free(&r);
    return st;
}

eg_status nj_get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err) {
    eg_node_list found;
    eg_status st = read_node_set(neo4j_of(g), ids, count, &found, err);
    if (st) return st;
    out->items = count ? calloc(count, sizeof *out->items) : NULL;
    if (count && !out->items) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; st == EG_OK && i < count; i++) { /* the order asked; repeated ids repeat */
        const eg_node *n = find_sorted(&found, ids[i]);
        if (!n) continue;
        eg_node *copy = &out->items[out->count];
        *copy = *n;
        if (!(copy->properties = json_deep_copy(n->properties))) st = eg_error_set(err, EG_INTERNAL, "out of memory");
        else out->count++;
    }
    eg_node_list_free(&found);
    if (st) eg_node_list_free(out);
    return st;
}

/* One statement writing the node of an id (and label), returning a row when there was one. */
typedef struct node_write {
    const char *statement;
    const eg_ps_value *parameters;
    const char *id;
    eg_label label;
} node_write;

static eg_status run_node_write(neo4j_graph *ng, void *context, eg_error *err) {
    node_write *w = context;
    eg_bolt_result r;
    eg_status st = nj_run(ng, EG_BOLT_WRITE, w->statement, w->parameters, &r, err);
    if (st) return st;
    if (nj_row_count(&r) == 0)
        st = eg_error_set(err, EG_NOT_FOUND, "node '%s'%s%s does not exist", w->id,
                          w->label == EG_LABEL_ANY ? "" : " with label ",
                          w->label == EG_LABEL_ANY ? "" : eg_label_name(w->label));
    eg_bolt_result_free(&r);
    return st;
}

/* Runs `<node $id> action` as a write, p holding its parameters; no row back: the node is not there (with that
 * label), EG_NOT_FOUND. */
static eg_status write_node(neo4j_graph *ng, const char *id, eg_label label, const char *action, const nj_params *p,
                            eg_error *err) {
    char match[NJ_FIND_NODE_MAX], statement[STATEMENT_MAX];
    match_node(ng, label, match);
    snprintf(statement, sizeof statement, "%s %s", match, action);
    node_write w = {statement, &p->dict, id, label};
    eg_status st = nj_params_status(p, err);
    return st == EG_OK ? nj_write(ng, run_node_write, &w, err) : st;
}

eg_status nj_update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err) {
    eg_ps_value props;
    eg_status st = nj_properties_to_ps(properties, true, false, NULL, &props, err);
    if (st) return eg_error_prefix(err, st, "update_node: ");
    nj_params p;
    nj_params_init(&p);
    nj_param_string(&p, "id", id);
    nj_param_take(&p, "properties", &props);
    st = write_node(neo4j_of(g), id, label, "SET n += $properties RETURN n.id AS id", &p, err);
    nj_params_free(&p);
    return st;
}

eg_status nj_delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err) {
    nj_params p;
    nj_params_init(&p);
    nj_param_string(&p, "id", id);
    eg_status st = write_node(neo4j_of(g), id, label, "WITH n, n.id AS id DETACH DELETE n RETURN id", &p, err);
    nj_params_free(&p);
    return st;
}

eg_status nj_list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                        eg_error *err) {
    nj_params p;
    nj_params_init(&p);
    if (after_id) nj_param_string(&p, "after", after_id);
    nj_param_int(&p, "limit", (int64_t)limit);
    char label_clause[NJ_NAME_CLAUSE_MAX], statement[STATEMENT_MAX];
    nj_label_clause(label, label_clause);
    snprintf(statement, sizeof statement, "MATCH (n%s)%s RETURN n ORDER BY n.id LIMIT $limit", label_clause,
             after_id ? " WHERE n.id > $after" : "");
    eg_bolt_result r;
    eg_status st = nj_params_status(&p, err);
    if (st == EG_OK) st = nj_run(neo4j_of(g), EG_BOLT_READ, statement, &p.dict, &r, err);
    nj_params_free(&p);
    if (st) return st;
    st = nodes_of_rows(&r, out, err);
    eg_bolt_result_free(&r);
    return st;
}

eg_status nj_count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err) {
    char label_clause[NJ_NAME_CLAUSE_MAX], statement[STATEMENT_MAX];
    nj_label_clause(label, label_clause);
    snprintf(statement, sizeof statement, "MATCH (n%s) RETURN count(n) AS count", label_clause);
    eg_bolt_result r;
    eg_status st = nj_run(neo4j_of(g), EG_BOLT_READ, statement, NULL, &r, err);
    if (st) return st;
    st = nj_count_of(&r, "count", out, err);
    eg_bolt_result_free(&r);
    return st;
}
