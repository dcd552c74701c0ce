/* ops_cypher.c — the `cypher` operation (docs/operations.md, "Cypher"): a statement run by the Bolt server's
 * statement engine (bolt/cypher_statements.h) on the db's graph, so that the subset, the schema rules and the
 * bounds are those of Bolt, with JSON parameters turned into PackStream values and the records turned back into
 * JSON in engram's shapes (a node, a relationship and a path as the graph operations answer them).
 *
 * The statement runs in an engine transaction that this operation ends itself, not as the engine's auto-commit
 * statement: the records are converted before the commit, so that a result JSON cannot hold (a NaN) is refused
 * with nothing written, where auto-commit would have committed the writes and then failed the answer. The engine
 * takes a graph transaction only for a statement that writes, as auto-commit does, so reads never hold the
 * store's one writer. */
#include "bolt/cypher_statements.h"
#include "cypher/executor_internal.h"
#include "exec/exec_internal.h"
#include "model/json_shapes.h"

#include <math.h>
#include <string.h>

/* The engine's refusal as an engram error, the Neo4j code kept at the head of the message so that a caller who
 * knows Neo4j's codes can still tell a syntax error from a type error. */
static eg_status failure_status(const eg_bolt_failure *failure, eg_error *err) {
    const char *code = failure->code;
    eg_status st = EG_INTERNAL; /* Neo.DatabaseError.*: the store failed in a way the engine could not name */
    if (strcmp(code, CY_ENTITY_NOT_FOUND) == 0)
        st = EG_NOT_FOUND;
    else if (strcmp(code, CY_CONSTRAINT_FAILED) == 0)
        st = EG_CONFLICT;
    else if (strncmp(code, "Neo.ClientError.", 16) == 0)
        st = EG_INVALID_ARGUMENT;
    else if (strncmp(code, "Neo.TransientError.", 19) == 0)
        st = EG_UNAVAILABLE;
    return eg_error_set(err, st, "%s: %.400s", code, failure->message);
}

/* Bolt's decoder refuses parameters nested deeper than EG_PS_MAX_DEPTH; JSON parameters get the same bound, which
 * also keeps the engine's recursive copies and comparisons of them shallow. */
static bool within_depth(const json_t *v, int depth) {
    if (depth > EG_PS_MAX_DEPTH) return false;
    size_t i;
    const char *key;
    json_t *child;
    if (json_is_array(v))
        json_array_foreach((json_t *)v, i, child) if (!within_depth(child, depth + 1)) return false;
    if (json_is_object(v))
        json_object_foreach((json_t *)v, key, child) if (!within_depth(child, depth + 1)) return false;
    return true;
}

static eg_status parameters_value(json_t *parameters, eg_ps_value *out, eg_error *err) {
    *out = cy_dict_empty();
    if (!parameters) return EG_OK;
    if (!within_depth(parameters, 1))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "argument 'parameters' nests more than %d arrays or objects",
                            EG_PS_MAX_DEPTH);
    eg_bolt_failure failure = {0};
    cy_run run = {.failure = &failure}; /* cy_json_to_value fails only for memory, reported through run */
    return cy_json_to_value(&run, parameters, out) ? EG_OK : eg_exec_no_memory(err);
}

static eg_status value_json(const eg_ps_value *v, json_t **out, eg_error *err);

/* A dictionary as a JSON object; `drop` (may be NULL) names a key left out (a node's `id`, which Cypher shows as
 * a property and engram's node shape keeps outside them). */
static eg_status dict_json(const eg_ps_value *v, const char *drop, json_t **out, eg_error *err) {
    json_t *object = json_object();
    eg_status st = object ? EG_OK : eg_exec_no_memory(err);
    for (size_t i = 0; st == EG_OK && i < v->as.dict.count; i++) {
        const eg_ps_entry *e = &v->as.dict.entries[i];
        json_t *item;
        if (drop && strcmp(e->key, drop) == 0) continue;
        if (strlen(e->key) != e->key_len)
            st = eg_error_set(err, EG_INVALID_ARGUMENT, "a map key holding U+0000 has no JSON form");
        else if ((st = value_json(&e->value, &item, err)) == EG_OK && json_object_set_new(object, e->key, item) != 0)
            st = eg_exec_no_memory(err);
    }
    if (st != EG_OK) json_decref(object);
    *out = st == EG_OK ? object : NULL;
    return st;
}

/* Hands a shape builder's result (NULL: out of memory) to *out, taking the properties it copied back. */
static eg_status shaped(json_t *shape, json_t *properties, json_t **out, eg_error *err) {
    json_decref(properties);
    *out = shape;
    return shape ? EG_OK : eg_exec_no_memory(err);
}

/* A Node structure as engram's node shape, with its properties (a node of a path is shown without them, as
 * find_path shows it). */
static eg_status node_json(const eg_ps_value *v, bool with_properties, json_t **out, eg_error *err) {
    eg_node node = {.properties = NULL};
    eg_status st = eg_label_parse(cy_node_label(v), &node.label, err);
    if (st == EG_OK) snprintf(node.id, sizeof node.id, "%s", cy_element_id(v));
    if (st == EG_OK && with_properties) st = dict_json(cy_entity_properties(v), "id", &node.properties, err);
    return st ? st : shaped(eg_node_json(&node), node.properties, out, err);
}

/* A relationship as engram's relationship shape, from its ends' ids, its type name and its property dictionary
 * (the fields of a Relationship, or of a path's UnboundRelationship with the ends the path gives it). */
static eg_status relationship_json(const char *source, const char *type, const char *target,
                                   const eg_ps_value *properties, json_t **out, eg_error *err) {
    eg_relationship rel = {.properties = NULL};
    eg_status st = eg_rel_type_parse(type, &rel.type, err);
    if (st == EG_OK) {
        snprintf(rel.source_id, sizeof rel.source_id, "%s", source);
        snprintf(rel.target_id, sizeof rel.target_id, "%s", target);
        st = dict_json(properties, NULL, &rel.properties, err);
    }
    return st ? st : shaped(eg_relationship_json(&rel), rel.properties, out, err);
}

/* A Path (its distinct nodes, its distinct relationships unbound, and the indices of each step: a relationship's
 * 1-based index, negative when walked against its direction, then the next node's index) as engram's path shape:
 * every node in walking order, and relationships[i] joining nodes[i] and nodes[i+1]. */
static eg_status path_json(const eg_ps_value *v, json_t **out, eg_error *err) {
    const eg_ps_value *nodes = &v->as.list.items[0], *rels = &v->as.list.items[1], *indices = &v->as.list.items[2];
    size_t steps = indices->as.list.count / 2;
    json_t *node_array = json_array(), *rel_array = json_array(), *item;
    eg_status st = node_array && rel_array ? EG_OK : eg_exec_no_memory(err);
    size_t at = 0;
    if (st == EG_OK && (st = node_json(&nodes->as.list.items[0], false, &item, err)) == EG_OK)
        json_array_append_new(node_array, item);
    for (size_t s = 0; st == EG_OK && s < steps; s++) {
        int64_t r = indices->as.list.items[2 * s].as.integer;
        size_t next = (size_t)indices->as.list.items[2 * s + 1].as.integer;
        const eg_ps_value *rel = &rels->as.list.items[(r > 0 ? r : -r) - 1];
        const char *here = cy_element_id(&nodes->as.list.items[at]);
        const char *there = cy_element_id(&nodes->as.list.items[next]);
        st = relationship_json(r > 0 ? here : there, rel->as.list.items[1].as.text.data, r > 0 ? there : here,
                               &rel->as.list.items[2], &item, err);
        if (st == EG_OK && json_array_append_new(rel_array, item) != 0) st = eg_exec_no_memory(err);
        if (st == EG_OK && (st = node_json(&nodes->as.list.items[next], false, &item, err)) == EG_OK &&
            json_array_append_new(node_array, item) != 0)
            st = eg_exec_no_memory(err);
        at = next;
    }
    if (st == EG_OK) /* "o" hands both arrays to the path, also when building it fails */
        return shaped(json_pack("{s:I, s:o, s:o}", "length", (json_int_t)steps, "nodes", node_array, "relationships",
                                rel_array),
                      NULL, out, err);
    json_decref(node_array);
    json_decref(rel_array);
    return st;
}

static eg_status value_json(const eg_ps_value *v, json_t **out, eg_error *err) {
    *out = NULL;
    switch (v->kind) {
    case EG_PS_NULL: *out = json_null(); break;
    case EG_PS_BOOL: *out = json_boolean(v->as.boolean); break;
    case EG_PS_INT: *out = json_integer(v->as.integer); break;
    case EG_PS_FLOAT:
        if (!isfinite(v->as.real))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "the Float %s has no JSON form",
                                isnan(v->as.real) ? "NaN" : v->as.real > 0 ? "Infinity" : "-Infinity");
        *out = json_real(v->as.real);
        break;
    case EG_PS_STRING: *out = json_stringn(v->as.text.data, v->as.text.len); break;
    case EG_PS_BYTES:
        /* Refused rather than written as base64: a string would come back as a string, indistinguishable from
         * text, and a caller could not round-trip it. */
        return eg_error_set(err, EG_INVALID_ARGUMENT, "a byte array has no JSON form");
    case EG_PS_LIST: {
        json_t *array = json_array();
        if (!array) break;
        for (size_t i = 0; i < v->as.list.count; i++) {
            json_t *item;
            eg_status st = value_json(&v->as.list.items[i], &item, err);
            if (st == EG_OK && json_array_append_new(array, item) != 0) st = eg_exec_no_memory(err);
            if (st != EG_OK) {
                json_decref(array);
                return st;
            }
        }
        *out = array;
        break;
    }
    case EG_PS_DICT: return dict_json(v, NULL, out, err);
    case EG_PS_STRUCT:
        if (cy_is_node(v)) return node_json(v, true, out, err);
        if (cy_is_path(v)) return path_json(v, out, err);
        if (cy_is_relationship(v)) {
            const char *source, *type, *target;
            cy_relationship_ends(v, &source, &type, &target);
            return relationship_json(source, type, target, cy_entity_properties(v), out, err);
        }
        return eg_error_set(err, EG_INVALID_ARGUMENT, "a structure with tag 0x%02X (a temporal or spatial value) "
                            "has no JSON form", v->as.list.tag);
    }
    return *out ? EG_OK : eg_exec_no_memory(err);
}

/* {"fields", "records", "stats"}; a value JSON cannot hold is refused naming its record and field. */
static eg_status result_json(const eg_bolt_result *r, json_t **out, eg_error *err) {
    const eg_ps_value *fields = &r->fields;
    json_t *records = json_array(), *names = NULL, *stats = NULL;
    eg_status st = records ? value_json(fields, &names, err) : eg_exec_no_memory(err);
    for (size_t i = 0; st == EG_OK && i < r->records.as.list.count; i++) {
        const eg_ps_value *record = &r->records.as.list.items[i];
        json_t *row = json_array();
        if (!row || json_array_append_new(records, row) != 0) st = eg_exec_no_memory(err);
        for (size_t f = 0; st == EG_OK && f < record->as.list.count; f++) {
            json_t *item;
            st = eg_error_prefix(err, value_json(&record->as.list.items[f], &item, err), "records[%zu] field '%.64s': ",
                                 i, fields->as.list.items[f].as.text.data);
            if (st == EG_OK && json_array_append_new(row, item) != 0) st = eg_exec_no_memory(err);
        }
    }
    if (st == EG_OK)
        st = r->stats.kind == EG_PS_DICT ? dict_json(&r->stats, NULL, &stats, err)
                                         : (stats = json_object()) ? EG_OK : eg_exec_no_memory(err);
    if (st == EG_OK) {
        *out = json_pack("{s:o, s:o, s:o}", "fields", names, "records", records, "stats", stats);
        return *out ? EG_OK : eg_exec_no_memory(err);
    }
    json_decref(names);
    json_decref(records);
    return st;
}

static eg_status op_cypher(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *statement;
    json_t *parameters = NULL;
    eg_ps_value values;
    eg_status st;
    if ((st = eg_arg_string(args, "statement", true, &statement, err)) ||
        (st = eg_arg_object(args, "parameters", false, &parameters, err)) ||
        (st = parameters_value(parameters, &values, err)))
        return st;
    eg_bolt_cypher_engine engine;
    const eg_bolt_statements *engine_table = eg_bolt_cypher_engine_init(&engine, eg_db_graph(db));
    eg_bolt_failure failure = {0};
    eg_bolt_result r = {0};
    void *tx;
    if (!engine_table->begin(engine_table->context, &tx, &failure)) {
        eg_ps_value_free(&values);
        return failure_status(&failure, err);
    }
    bool ran = engine_table->run(engine_table->context, tx, statement, strlen(statement), &values, &r, &failure);
    eg_ps_value_free(&values);
    if (!ran) {
        engine_table->rollback(engine_table->context, tx);
        return failure_status(&failure, err);
    }
    json_t *answer = NULL;
    st = result_json(&r, &answer, err);
    eg_bolt_result_free(&r);
    if (st != EG_OK) {
        engine_table->rollback(engine_table->context, tx);
        return st;
    }
    if (!engine_table->commit(engine_table->context, tx, &failure)) {
        json_decref(answer);
        return failure_status(&failure, err);
    }
    *result = answer;
    return EG_OK;
}

static const char *const cypher_args[] = {"statement", "parameters", NULL};

/* No read flag: a statement may write, and a read's cached result must not stand in for it. */
const eg_exec_op eg_exec_cypher_ops[] = {
    {"cypher", op_cypher, cypher_args, 0},
    {NULL, NULL, NULL, 0},
};
