/* neo4j_path.c — find_path for the Neo4j graph backend: Cypher's shortestPath, undirected, of 1 to max_depth
 * relationships of the allowed types, returned as parallel lists (node ids and labels; relationship ends, types and
 * properties) so that no Neo4j-internal id is needed to read the path back. */
#include "graph/neo4j/neo4j_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ":`A`|`B`" for the allowed types, each once; empty for all. NULL when out of memory; the caller frees. */
static char *type_filter(eg_rel_type_set types) {
    char *out = malloc(types.count * (EG_NAME_MAX + 4) + 1);
    if (!out) return NULL;
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < types.count; i++) {
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; j++) repeated = types.types[j] == types.types[i];
        if (!repeated) len += (size_t)sprintf(out + len, "%s`%s`", len ? "|" : ":", eg_rel_type_name(types.types[i]));
    }
    return out;
}

static const eg_ps_value *list_column(const eg_bolt_result *r, const char *name, size_t count) {
    const eg_ps_value *v = nj_column(r, 0, name);
    return v && v->kind == EG_PS_LIST && v->as.list.count == count ? v : NULL;
}

/* The path's row -> out. */
static eg_status read_path(const eg_bolt_result *r, eg_path *out, eg_error *err) {
    const eg_ps_value *ids = nj_column(r, 0, "ids");
    if (!ids || ids->kind == EG_PS_NULL) return EG_OK; /* no path */
    if (ids->kind != EG_PS_LIST || ids->as.list.count < 2) return nj_bad_answer(err, "a path without nodes");
    size_t n = ids->as.list.count;
    const eg_ps_value *labels = list_column(r, "labels", n), *sources = list_column(r, "sources", n - 1),
                      *types = list_column(r, "types", n - 1), *targets = list_column(r, "targets", n - 1),
                      *props = list_column(r, "properties", n - 1);
    if (!labels || !sources || !types || !targets || !props) return nj_bad_answer(err, "a path of uneven lists");
    out->nodes = calloc(n, sizeof *out->nodes);
    out->relationships = calloc(n - 1, sizeof *out->relationships);
    if (!out->nodes || !out->relationships) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const eg_ps_value *id = &ids->as.list.items[i], *label = &labels->as.list.items[i];
        eg_node *node = &out->nodes[i];
        if (id->kind != EG_PS_STRING || id->as.text.len > EG_ID_MAX || label->kind != EG_PS_STRING)
            return nj_bad_answer(err, "a path node without id or label");
        memcpy(node->id, id->as.text.data, id->as.text.len + 1);
        if (eg_label_parse(label->as.text.data, &node->label, NULL) != EG_OK)
            return eg_error_set(err, EG_INCOMPATIBLE, "node '%s' on the server has a label engram cannot name",
                                node->id);
        out->node_count++;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        eg_status st = nj_relationship_from_ps(&sources->as.list.items[i], &types->as.list.items[i],
                                               &targets->as.list.items[i], &props->as.list.items[i],
                                               &out->relationships[i], err);
        if (st) return st;
        out->relationship_count++;
    }
    return EG_OK;
}

/* The same node at both ends: the path of that one node (as the embedded store; Cypher's shortestPath refuses
 * equal ends). */
static eg_status single_node_path(eg_graph *g, const char *id, eg_path *out, eg_error *err) {
    out->nodes = calloc(1, sizeof *out->nodes);
    if (!out->nodes) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = nj_get_node(g, id, EG_LABEL_ANY, &out->nodes[0], err);
    if (st == EG_NOT_FOUND) return eg_error_set(err, EG_NOT_FOUND, "source node '%s' does not exist", id);
    if (st) return st;
    json_decref(out->nodes[0].properties);
    out->nodes[0].properties = NULL;
    out->node_count = 1;
    return EG_OK;
}

eg_status nj_find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                       eg_rel_type_set types, eg_path *out, eg_error *err) {
    if (strcmp(source_id, target_id) == 0) {
        eg_status st = single_node_path(g, source_id, out, err);
        if (st) eg_path_clear(out);
        return st;
    }
    neo4j_graph *ng = neo4j_of(g);
    char find_s[NJ_FIND_NODE_MAX], find_t[NJ_FIND_NODE_MAX];
    nj_find_node(g->schema, "s", "$source", "", find_s);
    nj_find_node(g->schema, "t", "$target", "s", find_t);
    static const char STATEMENT[] =
        "%s %s "
        "OPTIONAL MATCH p = shortestPath((s)-[%s*..%d]-(t)) "
        "RETURN [x IN nodes(p) | x.id] AS ids, [x IN nodes(p) | labels(x)[0]] AS labels, "
        "[r IN relationships(p) | startNode(r).id] AS sources, [r IN relationships(p) | type(r)] AS types, "
        "[r IN relationships(p) | endNode(r).id] AS targets, [r IN relationships(p) | properties(r)] AS properties";
    char *filter = type_filter(types), *statement = NULL;
    int len = filter ? snprintf(NULL, 0, STATEMENT, find_s, find_t, filter, max_depth) : -1;
    if (len >= 0 && (statement = malloc((size_t)len + 1)))
        snprintf(statement, (size_t)len + 1, STATEMENT, find_s, find_t, filter, max_depth);
    free(filter);
    if (!statement) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st;
    nj_params p;
    nj_params_init(&p);
    nj_param_string(&p, "source", source_id);
    nj_param_string(&p, "target", target_id);
    eg_bolt_result r;
    if ((st = nj_params_status(&p, err)) == EG_OK) st = nj_run(ng, EG_BOLT_READ, statement, &p.dict, &r, err);
    nj_params_free(&p);
    free(statement);
    if (st) return st;
    if (nj_row_count(&r) == 0)
        st = nj_check_ends(ng, source_id, target_id, err);
    else
        st = read_path(&r, out, err);
    eg_bolt_result_free(&r);
    if (st) eg_path_clear(out);
    return st;
}
