/* ops_graph.c — the graph operations of the JSON interface: argument decoding, calls into eg_graph_*, and the
 * JSON shapes of nodes, relationships and paths (documented in docs/operations.md). */
#include "exec/exec_internal.h"
#include "model/json_shapes.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIST_LIMIT 100
#define DEFAULT_MAX_DEPTH 5

static eg_status optional_label(json_t *args, eg_label *label, eg_error *err) {
    const char *name = NULL;
    eg_status st = eg_arg_string(args, "label", false, &name, err);
    *label = EG_LABEL_ANY;
    return st || !name ? st : eg_label_parse(name, label, err);
}

static eg_status optional_type(json_t *args, eg_rel_type *type, eg_error *err) {
    const char *name = NULL;
    eg_status st = eg_arg_string(args, "type", false, &name, err);
    *type = EG_REL_ANY;
    return st || !name ? st : eg_rel_type_parse(name, type, err);
}

static eg_status required_type(json_t *args, eg_rel_type *type, eg_error *err) {
    const char *name;
    eg_status st = eg_arg_string(args, "type", true, &name, err);
    return st ? st : eg_rel_type_parse(name, type, err);
}

static eg_status optional_direction(json_t *args, eg_direction *dir, eg_error *err) {
    const char *name = NULL;
    eg_status st = eg_arg_string(args, "direction", false, &name, err);
    *dir = EG_DIR_BOTH;
    return st || !name ? st : eg_direction_parse(name, dir, err);
}

static eg_status op_create_node(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *label_name, *id;
    json_t *props = NULL;
    eg_label label;
    eg_status st;
    if ((st = eg_arg_string(args, "label", true, &label_name, err)) || (st = eg_label_parse(label_name, &label, err)) ||
        (st = eg_arg_string(args, "id", true, &id, err)) || (st = eg_arg_object(args, "properties", false, &props, err)) ||
        (st = eg_graph_create_node(eg_exec_graph(db), label, id, props, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_get_node(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *id;
    eg_label label;
    eg_node node;
    eg_status st;
    if ((st = eg_arg_string(args, "id", true, &id, err)) || (st = optional_label(args, &label, err)) ||
        (st = eg_graph_get_node(eg_exec_graph(db), id, label, &node, err)))
        return st;
    json_t *j = eg_node_json(&node);
    eg_node_clear(&node);
    return eg_exec_result(j, result, err);
}

static eg_status op_update_node(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *id;
    json_t *props;
    eg_label label;
    eg_status st;
    if ((st = eg_arg_string(args, "id", true, &id, err)) || (st = eg_arg_object(args, "properties", true, &props, err)) ||
        (st = optional_label(args, &label, err)) || (st = eg_graph_update_node(eg_exec_graph(db), id, props, label, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_update_property(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *id, *name;
    json_t *value;
    eg_status st;
    if ((st = eg_arg_string(args, "id", true, &id, err)) || (st = eg_arg_string(args, "property_name", true, &name, err)) ||
        (st = eg_arg_value(args, "property_value", &value, err)) ||
        (st = eg_graph_update_property(eg_exec_graph(db), id, name, value, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_delete_node(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *id;
    eg_label label;
    eg_status st;
    if ((st = eg_arg_string(args, "id", true, &id, err)) || (st = optional_label(args, &label, err)) ||
        (st = eg_graph_delete_node(eg_exec_graph(db), id, label, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

/* Reads batch item i of `items` as an object, naming it in errors. */
static eg_status batch_item(json_t *items, size_t i, const char *what, json_t **out, eg_error *err) {
    *out = json_array_get(items, i);
    if (!json_is_object(*out)) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s[%zu] must be a JSON object", what, i);
    return EG_OK;
}

static const char *const node_item_args[] = {"label", "id", "properties", NULL};
static const char *const rel_item_args[] = {"source_id", "target_id", "type", "properties", NULL};

static eg_status check_item_keys(json_t *item, const char *const *allowed, const char *what, size_t i,
                                 eg_error *err) {
    return eg_error_prefix(err, eg_check_fields(item, allowed, err), "%s[%zu]: ", what, i);
}

static eg_status op_batch_create_nodes(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    json_t *items;
    eg_status st;
    if ((st = eg_arg_array(args, "nodes", true, &items, err)) || (st = eg_check_batch(items, EG_GRAPH_BATCH_MAX, "nodes", err)))
        return st;
    size_t n = json_array_size(items);
    eg_node_spec *specs = calloc(n ? n : 1, sizeof *specs);
    if (!specs) return eg_exec_no_memory(err);
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        json_t *item;
        const char *label_name;
        if ((st = batch_item(items, i, "nodes", &item, err)) || (st = check_item_keys(item, node_item_args, "nodes", i, err)))
            break;
        specs[i].properties = NULL;
        st = eg_arg_string(item, "label", true, &label_name, err);
        if (!st) st = eg_label_parse(label_name, &specs[i].label, err);
        if (!st) st = eg_arg_string(item, "id", true, &specs[i].id, err);
        if (!st) st = eg_arg_object(item, "properties", false, &specs[i].properties, err);
        eg_error_prefix(err, st, "nodes[%zu]: ", i);
    }
    if (st == EG_OK) st = eg_graph_batch_create_nodes(eg_exec_graph(db), specs, n, err);
    free(specs);
    return st ? st : eg_exec_result(json_pack("{s:I}", "created", (json_int_t)n), result, err);
}

/* A page of list_nodes or find_nodes (list freed): {"nodes", "next_cursor"}, the cursor null after the last. */
static eg_status node_page(eg_node_list *list, size_t limit, json_t **result, eg_error *err) {
    json_t *nodes = json_array();
    for (size_t i = 0; nodes && i < list->count; i++) json_array_append_new(nodes, eg_node_json(&list->items[i]));
    json_t *next = list->count == limit ? json_string(list->items[list->count - 1].id) : json_null();
    eg_node_list_free(list);
    return eg_exec_result(json_pack("{s:o, s:o}", "nodes", nodes, "next_cursor", next), result, err);
}

static eg_status op_list_nodes(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    eg_label label;
    const char *cursor = NULL;
    long long limit = DEFAULT_LIST_LIMIT;
    eg_node_list list;
    eg_status st;
    if ((st = optional_label(args, &label, err)) || (st = eg_arg_string(args, "cursor", false, &cursor, err)) ||
        (st = eg_arg_int(args, "limit", false, 1, 10000, &limit, err)) ||
        (st = eg_graph_list_nodes(eg_exec_graph(db), label, cursor, (size_t)limit, &list, err)))
        return st;
    return node_page(&list, (size_t)limit, result, err);
}

/* The property names of `properties` (borrowed from args) in a new array; NULL and 0 when absent. */
static eg_status property_names(json_t *args, const char ***names, size_t *count, eg_error *err) {
    json_t *list = NULL;
    eg_status st = eg_arg_array(args, "properties", false, &list, err);
    *names = NULL;
    *count = 0;
    if (st || !list || json_array_size(list) == 0) return st;
    if (!(*names = calloc(json_array_size(list), sizeof **names))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *name = json_array_get(list, i);
        if (!json_is_string(name)) {
            free(*names);
            *names = NULL;
            return eg_error_set(err, EG_INVALID_ARGUMENT, "properties[%zu] must be a string", i);
        }
        (*names)[(*count)++] = json_string_value(name);
    }
    return EG_OK;
}

static eg_status op_find_nodes(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    eg_label label;
    const char *cursor = NULL, *prefix = NULL, *text;
    long long limit = DEFAULT_LIST_LIMIT;
    eg_node_list list;
    eg_node_text_filter filter = {0};
    eg_status st;
    if ((st = optional_label(args, &label, err)) || (st = eg_arg_string(args, "text", true, &text, err)) ||
        (st = eg_arg_string(args, "id_prefix", false, &prefix, err)) ||
        (st = eg_arg_string(args, "cursor", false, &cursor, err)) ||
        (st = eg_arg_int(args, "limit", false, 1, 10000, &limit, err)) ||
        (st = property_names(args, (const char ***)&filter.properties, &filter.property_count, err)))
        return st;
    filter.text = text;
    filter.text_length = json_string_length(json_object_get(args, "text"));
    filter.id_prefix = prefix;
    st = eg_graph_find_nodes(eg_exec_graph(db), label, &filter, cursor, (size_t)limit, &list, err);
    free((void *)filter.properties);
    if (st) return st;
    return node_page(&list, (size_t)limit, result, err);
}

static eg_status op_count_nodes(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    eg_label label;
    uint64_t n;
    eg_status st;
    if ((st = optional_label(args, &label, err)) || (st = eg_graph_count_nodes(eg_exec_graph(db), label, &n, err)))
        return st;
    return eg_exec_result(json_integer((json_int_t)n), result, err);
}

static eg_status op_create_relationship(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *src, *tgt;
    eg_rel_type type;
    json_t *props = NULL;
    eg_status st;
    if ((st = eg_arg_string(args, "source_id", true, &src, err)) ||
        (st = eg_arg_string(args, "target_id", true, &tgt, err)) || (st = required_type(args, &type, err)) ||
        (st = eg_arg_object(args, "properties", false, &props, err)) ||
        (st = eg_graph_create_relationship(eg_exec_graph(db), src, tgt, type, props, err)))
        return st;
    return eg_exec_result(json_pack("{s:s, s:s, s:s}", "source_id", src, "target_id", tgt, "type", eg_rel_type_name(type)),
                result, err);
}

static eg_status op_batch_create_relationships(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    json_t *items;
    eg_status st;
    if ((st = eg_arg_array(args, "relationships", true, &items, err)) ||
        (st = eg_check_batch(items, EG_GRAPH_BATCH_MAX, "relationships", err)))
        return st;
    size_t n = json_array_size(items);
    eg_relationship_spec *specs = calloc(n ? n : 1, sizeof *specs);
    if (!specs) return eg_exec_no_memory(err);
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        json_t *item;
        if ((st = batch_item(items, i, "relationships", &item, err)) ||
            (st = check_item_keys(item, rel_item_args, "relationships", i, err)))
            break;
        st = eg_arg_string(item, "source_id", true, &specs[i].source_id, err);
        if (!st) st = eg_arg_string(item, "target_id", true, &specs[i].target_id, err);
        if (!st) st = required_type(item, &specs[i].type, err);
        if (!st) st = eg_arg_object(item, "properties", false, &specs[i].properties, err);
        eg_error_prefix(err, st, "relationships[%zu]: ", i);
    }
    if (st == EG_OK) st = eg_graph_batch_create_relationships(eg_exec_graph(db), specs, n, err);
    free(specs);
    return st ? st : eg_exec_result(json_pack("{s:I}", "written", (json_int_t)n), result, err);
}

static eg_status op_delete_relationship(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *src, *tgt;
    eg_rel_type type;
    eg_status st;
    if ((st = eg_arg_string(args, "source_id", true, &src, err)) ||
        (st = eg_arg_string(args, "target_id", true, &tgt, err)) || (st = required_type(args, &type, err)) ||
        (st = eg_graph_delete_relationship(eg_exec_graph(db), src, tgt, type, err)))
        return st;
    return eg_exec_result(json_pack("{s:s, s:s, s:s}", "source_id", src, "target_id", tgt, "type", eg_rel_type_name(type)),
                result, err);
}

static eg_status op_get_relationships(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *id;
    eg_rel_type type;
    eg_direction dir;
    eg_relationship_list list;
    eg_status st;
    if ((st = eg_arg_string(args, "id", true, &id, err)) || (st = optional_type(args, &type, err)) ||
        (st = optional_direction(args, &dir, err)) ||
        (st = eg_graph_get_relationships(eg_exec_graph(db), id, type, dir, &list, err)))
        return st;
    json_t *j = eg_relationship_list_json(&list);
    eg_relationship_list_free(&list);
    return eg_exec_result(j, result, err);
}

/* The "ids" argument: a batch of node id strings, as a new array of borrowed pointers (free() it). */
static eg_status id_batch(json_t *args, const char ***ids, size_t *count, eg_error *err) {
    json_t *items;
    eg_status st;
    if ((st = eg_arg_array(args, "ids", true, &items, err)) ||
        (st = eg_check_batch(items, EG_GRAPH_BATCH_MAX, "ids", err)))
        return st;
    size_t n = json_array_size(items);
    const char **out = calloc(n ? n : 1, sizeof *out);
    if (!out) return eg_exec_no_memory(err);
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = json_string_value(json_array_get(items, i)))) {
            free(out);
            return eg_error_set(err, EG_INVALID_ARGUMENT, "ids[%zu] must be a string", i);
        }
    *ids = out;
    *count = n;
    return EG_OK;
}

static eg_status op_get_nodes(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char **ids;
    size_t n;
    eg_node_list list;
    eg_status st = id_batch(args, &ids, &n, err);
    if (st) return st;
    st = eg_graph_get_nodes(eg_exec_graph(db), ids, n, &list, err);
    free(ids);
    if (st) return st;
    json_t *nodes = json_array();
    for (size_t i = 0; nodes && i < list.count; i++) json_array_append_new(nodes, eg_node_json(&list.items[i]));
    eg_node_list_free(&list);
    return eg_exec_result(nodes, result, err);
}

static eg_status op_get_relationships_batch(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char **ids;
    size_t n;
    eg_rel_type type;
    eg_direction dir;
    eg_status st;
    if ((st = optional_type(args, &type, err)) || (st = optional_direction(args, &dir, err)) ||
        (st = id_batch(args, &ids, &n, err)))
        return st;
    eg_relationship_list *lists = calloc(n ? n : 1, sizeof *lists);
    st = lists ? eg_graph_get_relationships_batch(eg_exec_graph(db), ids, n, type, dir, lists, err)
               : eg_exec_no_memory(err);
    json_t *out = st == EG_OK ? json_object() : NULL;
    for (size_t i = 0; out && i < n; i++) json_object_set_new(out, ids[i], eg_relationship_list_json(&lists[i]));
    for (size_t i = 0; st == EG_OK && i < n; i++) eg_relationship_list_free(&lists[i]);
    free(ids);
    free(lists);
    return st ? st : eg_exec_result(out, result, err);
}

static eg_status op_count_relationships(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    (void)args;
    uint64_t n;
    eg_status st = eg_graph_count_relationships(eg_exec_graph(db), &n, err);
    return st ? st : eg_exec_result(json_integer((json_int_t)n), result, err);
}

static eg_status reweight(eg_db *db, json_t *args, const char *rate_name, bool strengthen, json_t **result,
                          eg_error *err) {
    const char *src, *tgt;
    eg_rel_type type;
    double rate = 0.1, weight;
    eg_status st;
    if ((st = eg_arg_string(args, "source_id", true, &src, err)) ||
        (st = eg_arg_string(args, "target_id", true, &tgt, err)) || (st = optional_type(args, &type, err)) ||
        (st = eg_arg_number(args, rate_name, false, &rate, err)))
        return st;
    st = strengthen ? eg_graph_strengthen_relationship(eg_exec_graph(db), src, tgt, type, rate, &weight, err)
                    : eg_graph_weaken_relationship(eg_exec_graph(db), src, tgt, type, rate, &weight, err);
    return st ? st : eg_exec_result(json_pack("{s:f}", "weight", weight), result, err);
}

static eg_status op_strengthen_relationship(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return reweight(db, args, "learning_rate", true, result, err);
}

static eg_status op_weaken_relationship(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return reweight(db, args, "rate", false, result, err);
}

static eg_status op_batch_decay_relationships(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    double stale_days = 30, decay_rate = 0.01, min_weight = 0.01;
    const char *session = NULL;
    eg_decay_result r;
    eg_status st;
    if ((st = eg_arg_number(args, "stale_days", false, &stale_days, err)) ||
        (st = eg_arg_number(args, "decay_rate", false, &decay_rate, err)) ||
        (st = eg_arg_number(args, "min_weight", false, &min_weight, err)) ||
        (st = eg_arg_string(args, "session_id", false, &session, err)) ||
        (st = eg_graph_batch_decay_relationships(eg_exec_graph(db), stale_days, decay_rate, min_weight, session, &r,
                                                 err)))
        return st;
    return eg_exec_result(json_pack("{s:I, s:I}", "decayed", (json_int_t)r.decayed, "pruned", (json_int_t)r.pruned), result,
                err);
}

static eg_status op_count_stale_relationships(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    double stale_days = 30;
    const char *session = NULL;
    uint64_t n;
    eg_status st;
    if ((st = eg_arg_number(args, "stale_days", false, &stale_days, err)) ||
        (st = eg_arg_string(args, "session_id", false, &session, err)) ||
        (st = eg_graph_count_stale_relationships(eg_exec_graph(db), stale_days, session, &n, err)))
        return st;
    return eg_exec_result(json_integer((json_int_t)n), result, err);
}

/* At most this many names in find_path's types: more than any schema's types would be a mistake. */
#define PATH_TYPES_MAX 64

static eg_status type_set(json_t *args, eg_rel_type buffer[PATH_TYPES_MAX], eg_rel_type_set *types, eg_error *err) {
    json_t *items = NULL;
    eg_status st = eg_arg_array(args, "types", false, &items, err);
    *types = (eg_rel_type_set){buffer, 0};
    if (json_array_size(items) > PATH_TYPES_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "types holds %zu names: at most %d", json_array_size(items),
                            PATH_TYPES_MAX);
    for (size_t i = 0; st == EG_OK && i < json_array_size(items); i++) {
        const char *name = json_string_value(json_array_get(items, i));
        if (!name) return eg_error_set(err, EG_INVALID_ARGUMENT, "types[%zu] must be a string", i);
        if ((st = eg_rel_type_parse(name, &buffer[i], err))) return st;
        types->count++;
    }
    if (st == EG_OK && items && json_array_size(items) == 0)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "types is empty: omit it to allow every type");
    return st;
}

static eg_status op_find_path(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *src, *tgt;
    long long depth = DEFAULT_MAX_DEPTH;
    eg_rel_type type_buffer[PATH_TYPES_MAX];
    eg_rel_type_set types;
    eg_path path;
    eg_status st;
    if ((st = eg_arg_string(args, "source_id", true, &src, err)) ||
        (st = eg_arg_string(args, "target_id", true, &tgt, err)) ||
        (st = eg_arg_int(args, "max_depth", false, 1, EG_PATH_DEPTH_MAX, &depth, err)) ||
        (st = type_set(args, type_buffer, &types, err)) ||
        (st = eg_graph_find_path(eg_exec_graph(db), src, tgt, (int)depth, types, &path, err)))
        return st;
    if (path.node_count == 0) return eg_exec_result(json_null(), result, err);
    json_t *nodes = json_array(), *rels = json_array();
    for (size_t i = 0; i < path.node_count; i++) json_array_append_new(nodes, eg_node_json(&path.nodes[i]));
    for (size_t i = 0; i < path.relationship_count; i++)
        json_array_append_new(rels, eg_relationship_json(&path.relationships[i]));
    size_t length = path.relationship_count;
    eg_path_clear(&path);
    return eg_exec_result(json_pack("{s:I, s:o, s:o}", "length", (json_int_t)length, "nodes", nodes, "relationships", rels),
                result, err);
}

static eg_status op_stats(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    (void)args;
    json_t *by_label = json_object();
    uint64_t total = 0, n;
    eg_status st = EG_OK;
    for (int l = 0; l < EG_LABEL_COUNT && st == EG_OK; l++)
        if ((st = eg_graph_count_nodes(eg_exec_graph(db), (eg_label)l, &n, err)) == EG_OK)
            json_object_set_new(by_label, eg_label_name((eg_label)l), json_integer((json_int_t)n));
    if (st == EG_OK) st = eg_graph_count_nodes(eg_exec_graph(db), EG_LABEL_ANY, &total, err);
    if (st == EG_OK) st = eg_graph_count_relationships(eg_exec_graph(db), &n, err);
    if (st) {
        json_decref(by_label);
        return st;
    }
    return eg_exec_result(json_pack("{s:I, s:o, s:I}", "nodes", (json_int_t)total, "nodes_by_label", by_label,
                          "relationships", (json_int_t)n),
                result, err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

const eg_exec_op eg_exec_graph_ops[] = {
    {"create_node", op_create_node, ARGS("label", "id", "properties")},
    {"get_node", op_get_node, ARGS("id", "label"), EG_READS_GRAPH},
    {"get_nodes", op_get_nodes, ARGS("ids"), EG_READS_GRAPH},
    {"update_node", op_update_node, ARGS("id", "properties", "label")},
    {"update_property", op_update_property, ARGS("id", "property_name", "property_value")},
    {"delete_node", op_delete_node, ARGS("id", "label")},
    {"batch_create_nodes", op_batch_create_nodes, ARGS("nodes")},
    {"list_nodes", op_list_nodes, ARGS("label", "cursor", "limit"), EG_READS_GRAPH},
    {"count_nodes", op_count_nodes, ARGS("label"), EG_READS_GRAPH},
    {"find_nodes", op_find_nodes, ARGS("label", "text", "properties", "id_prefix", "cursor", "limit"), EG_READS_GRAPH},
    {"create_relationship", op_create_relationship, ARGS("source_id", "target_id", "type", "properties")},
    {"batch_create_relationships", op_batch_create_relationships, ARGS("relationships")},
    {"delete_relationship", op_delete_relationship, ARGS("source_id", "target_id", "type")},
    {"get_relationships", op_get_relationships, ARGS("id", "type", "direction"), EG_READS_GRAPH},
    {"get_relationships_batch", op_get_relationships_batch, ARGS("ids", "type", "direction"), EG_READS_GRAPH},
    {"count_relationships", op_count_relationships, ARGS(NULL), EG_READS_GRAPH},
    {"strengthen_relationship", op_strengthen_relationship, ARGS("source_id", "target_id", "type", "learning_rate")},
    {"weaken_relationship", op_weaken_relationship, ARGS("source_id", "target_id", "type", "rate")},
    {"batch_decay_relationships", op_batch_decay_relationships,
     ARGS("stale_days", "decay_rate", "min_weight", "session_id")},
    {"count_stale_relationships", op_count_stale_relationships, ARGS("stale_days", "session_id"), EG_READS_GRAPH},
    {"find_path", op_find_path, ARGS("source_id", "target_id", "max_depth", "types"), EG_READS_GRAPH},
    {"stats", op_stats, ARGS(NULL), EG_READS_GRAPH},
    {NULL, NULL, NULL},
};
