/* writes.c — the clauses that change the graph: CREATE, MERGE (with ON CREATE / ON MATCH SET), SET, REMOVE and
 * [DETACH] DELETE, mapped onto engram's graph operations.
 *
 * engram's model shapes what they may do: a node has exactly one label and a string `id` unique across labels
 * (CREATE of an existing id is a constraint violation, as under Neo4j's unique constraints C1–C3), an id never
 * changes, and a relationship is unique per (source, type, target), so creating one that exists merges its
 * properties. Every write marks the element id it touched, so rows holding an older copy read it afresh. */
#include "cypher/executor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- properties from a map ---- */

/* The JSON properties of a CREATE/MERGE map (null values left out, as Cypher ignores them) and *count, the
 * properties set. For a node (id not NULL) the map's `id` goes to *id (NULL when absent), not to the JSON. */
static bool creation_properties(cy_run *run, const eg_ps_value *map, json_t **out, const char **id, int64_t *count) {
    *out = json_object();
    if (id) *id = NULL;
    *count = 0;
    if (!*out) return cy_out_of_memory(run);
    for (size_t i = 0; map->kind == EG_PS_DICT && i < map->as.dict.count; i++) {
        const eg_ps_entry *e = &map->as.dict.entries[i];
        eg_error err;
        if (eg_validate_property_name(e->key, &err) != EG_OK) {
            json_decref(*out);
            return cy_fail(run, CY_ARGUMENT_ERROR, "%s", err.message);
        }
        if (e->value.kind == EG_PS_NULL) continue;
        (*count)++;
        if (id && strcmp(e->key, "id") == 0) {
            if (e->value.kind != EG_PS_STRING) {
                json_decref(*out);
                return cy_fail(run, CY_TYPE_ERROR, "property 'id' must be a String but was %s",
                               cy_type_name(&e->value));
            }
            *id = e->value.as.text.data;
            continue;
        }
        json_t *value;
        if (!cy_property_json(run, e->key, &e->value, &value)) {
            json_decref(*out);
            return false;
        }
        json_object_set_new(*out, e->key, value);
    }
    return true;
}

static bool evaluate_map(cy_run *run, const cy_env *env, const cy_expr *properties, eg_ps_value *out) {
    *out = cy_dict_empty();
    if (!properties) return true;
    if (!cy_eval(env, properties, out)) return false;
    if (out->kind == EG_PS_DICT) return true;
    bool ok = cy_fail(run, CY_TYPE_ERROR, "a property map must be a Map but was %s", cy_type_name(out));
    eg_ps_value_free(out);
    return ok;
}

/* ---- nodes and relationships ---- */

static bool create_node(cy_run *run, const cy_env *env, const cy_node_pattern *np, eg_ps_value *out) {
    *out = cy_null();
    if (np->label_count == 0)
        return cy_fail(run, CY_ARGUMENT_ERROR,
                       "an engram node needs one label (Episode, Entity or Procedure); the node created at line %u, "
                       "column %u has none",
                       np->at.line, np->at.column);
    if (np->label_count > 1)
        return cy_fail(run, CY_SYNTAX_ERROR, "an engram node has exactly one label; line %u, column %u gives %zu",
                       np->at.line, np->at.column, np->label_count);
    eg_label label;
    if (!cy_require_label(run, np->labels[0], &label)) return false;
    eg_ps_value map;
    if (!evaluate_map(run, env, np->properties, &map)) return false;
    json_t *props;
    const char *id;
    int64_t count;
    bool ok = creation_properties(run, &map, &props, &id, &count);
    if (!ok) {
        eg_ps_value_free(&map);
        return false;
    }
    eg_error err;
    if (!id) {
        ok = cy_fail(run, CY_ARGUMENT_ERROR,
                     "an engram node needs a String `id` property to be created (line %u, "
                     "column %u)",
                     np->at.line, np->at.column);
    } else if (eg_validate_node_id(id, &err) != EG_OK) {
        ok = cy_fail(run, CY_ARGUMENT_ERROR, "%s", err.message);
    } else {
        eg_ps_value existing;
        bool found;
        ok = cy_fetch_node(run, id, &existing, &found);
        if (ok && found)
            ok =
                cy_fail(run, CY_CONSTRAINT_FAILED, "Node(%lld) already exists with label `%s` and property `id` = '%s'",
                        (long long)cy_node_identity(id), cy_node_label(&existing), id);
        eg_ps_value_free(&existing);
        eg_status st = ok ? eg_graph_create_node(run->graph, label, id, props, &err) : EG_OK;
        if (st != EG_OK) ok = cy_fail_status(run, st, &err, "creating a node");
        if (ok) {
            run->stats.nodes_created++;
            run->stats.labels_added++;
            run->stats.properties_set += count;
            ok = cy_fetch_node(run, id, out, &found);
        }
    }
    json_decref(props);
    eg_ps_value_free(&map);
    return ok;
}

/* Creates (or merges into) the relationship source -[type props]-> target. */
static bool create_relationship(cy_run *run, const char *source, const char *target, eg_rel_type type,
                                const eg_ps_value *map, eg_ps_value *out) {
    json_t *props;
    int64_t count;
    *out = cy_null();
    if (!creation_properties(run, map, &props, NULL, &count)) return false;
    const char *type_name = eg_rel_type_name(type);
    eg_ps_value existing;
    bool existed;
    bool ok = cy_fetch_relationship(run, source, type_name, target, &existing, &existed);
    eg_ps_value_free(&existing);
    eg_error err;
    eg_status st = ok ? eg_graph_create_relationship(run->graph, source, target, type, props, &err) : EG_OK;
    json_decref(props);
    if (st != EG_OK) return cy_fail_status(run, st, &err, "creating a relationship");
    if (!ok) return false;
    if (!existed) run->stats.relationships_created++;
    run->stats.properties_set += count;
    bool found;
    char element[2 * EG_ID_MAX + 64];
    snprintf(element, sizeof element, "%s>%s>%s", source, type_name, target);
    return cy_mark_changed(run, element, false) && cy_fetch_relationship(run, source, type_name, target, out, &found);
}

static bool relationship_type(cy_run *run, const cy_rel_pattern *rp, const char *clause, eg_rel_type *type) {
    if (rp->variable_length)
        return cy_fail(run, CY_SYNTAX_ERROR, "%s cannot make a variable-length relationship (line %u, column %u)",
                       clause, rp->at.line, rp->at.column);
    if (rp->type_count != 1)
        return cy_fail(run, CY_SYNTAX_ERROR, "%s needs exactly one relationship type (line %u, column %u)", clause,
                       rp->at.line, rp->at.column);
    return cy_require_rel_type(run, rp->types[0], type);
}

/* ---- CREATE ---- */

static bool widen_scope(cy_run *run, const cy_pattern *pattern, const cy_table *table, const char ***names,
                        size_t *width) {
    *names = malloc((table->width + 1) * sizeof **names);
    if (!*names) return cy_out_of_memory(run);
    if (table->width) memcpy(*names, table->names, table->width * sizeof **names);
    *width = table->width;
    return cy_scope_add_pattern(run, pattern, names, width);
}

static bool set_cell(cy_run *run, const cy_env *env, eg_ps_value *row, const char *variable, const eg_ps_value *value) {
    long column = variable ? cy_scope_find(env->names, env->width, variable) : -1;
    if (column < 0) return true;
    eg_ps_value_free(&row[column]);
    return cy_copy(run, value, &row[column]);
}

/* The node a CREATE or MERGE pattern position stands for: the bound variable's, or a new one. */
static bool pattern_node(cy_run *run, const cy_env *env, eg_ps_value *row, const bool *bound, const cy_node_pattern *np,
                         eg_ps_value *out) {
    long column = np->variable ? cy_scope_find(env->names, env->width, np->variable) : -1;
    if (column >= 0 && bound[column]) {
        if (np->label_count || np->properties)
            return cy_fail(run, CY_SYNTAX_ERROR,
                           "Can't create node `%s` with labels or properties here. The variable is already declared "
                           "in this context",
                           np->variable);
        if (!cy_is_node(&row[column]))
            return cy_fail(run, CY_TYPE_ERROR, "variable `%s` is a %s, not a Node", np->variable,
                           cy_type_name(&row[column]));
        return cy_copy(run, &row[column], out);
    }
    return create_node(run, env, np, out) && set_cell(run, env, row, np->variable, out);
}

static bool create_part(cy_run *run, const cy_env *env, eg_ps_value *row, bool *bound, const cy_pattern_part *part) {
    size_t n = part->rel_count + 1;
    eg_ps_value *nodes = calloc(n, sizeof *nodes), *rels = calloc(n, sizeof *rels);
    bool ok = nodes && rels ? true : cy_out_of_memory(run);
    if (ok && part->function != CY_PATH_PLAIN)
        ok = cy_fail(run, CY_SYNTAX_ERROR, "shortestPath cannot be used in CREATE");
    for (size_t i = 0; ok && i < n; i++) {
        ok = pattern_node(run, env, row, bound, &part->nodes[i], &nodes[i]);
        long column = part->nodes[i].variable ? cy_scope_find(env->names, env->width, part->nodes[i].variable) : -1;
        if (column >= 0) bound[column] = true;
    }
    for (size_t i = 0; ok && i < part->rel_count; i++) {
        const cy_rel_pattern *rp = &part->rels[i];
        eg_rel_type type;
        long column = rp->variable ? cy_scope_find(env->names, env->width, rp->variable) : -1;
        if (column >= 0 && bound[column]) {
            ok = cy_fail(run, CY_SYNTAX_ERROR, "Can't create `%s`: the variable is already declared", rp->variable);
            break;
        }
        if (rp->direction == CY_DIR_BOTH) {
            ok = cy_fail(run, CY_SYNTAX_ERROR,
                         "Only directed relationships are supported in CREATE (line %u, column "
                         "%u)",
                         rp->at.line, rp->at.column);
            break;
        }
        eg_ps_value map;
        ok = relationship_type(run, rp, "CREATE", &type) && evaluate_map(run, env, rp->properties, &map);
        if (!ok) break;
        const eg_ps_value *from = &nodes[rp->direction == CY_DIR_RIGHT ? i : i + 1];
        const eg_ps_value *to = &nodes[rp->direction == CY_DIR_RIGHT ? i + 1 : i];
        ok = create_relationship(run, cy_element_id(from), cy_element_id(to), type, &map, &rels[i]) &&
             set_cell(run, env, row, rp->variable, &rels[i]);
        if (column >= 0) bound[column] = true;
        eg_ps_value_free(&map);
    }
    if (ok && part->path_variable) {
        eg_ps_value path;
        ok = cy_path_value(run, nodes, rels, part->rel_count, &path) &&
             set_cell(run, env, row, part->path_variable, &path);
        eg_ps_value_free(&path);
    }
    for (size_t i = 0; i < n && nodes && rels; i++) {
        eg_ps_value_free(&nodes[i]);
        eg_ps_value_free(&rels[i]);
    }
    free(nodes);
    free(rels);
    return ok;
}

bool cy_create(cy_run *run, const cy_clause *clause, cy_table *table) {
    const char **names;
    size_t width;
    if (!widen_scope(run, &clause->pattern, table, &names, &width)) {
        free(names);
        return false;
    }
    bool *bound = calloc(width ? width : 1, sizeof *bound);
    if (!bound) {
        free(names);
        return cy_out_of_memory(run);
    }
    cy_table out;
    cy_table_init(&out, names, width);
    bool ok = true;
    for (size_t r = 0; ok && r < table->count; r++) {
        eg_ps_value *row = cy_row_widen(run, table->rows[r], table->width, width);
        if (!row) {
            ok = false;
            break;
        }
        for (size_t c = 0; c < width; c++) bound[c] = c < table->width;
        cy_env env = {.run = run, .names = names, .width = width, .row = row};
        for (size_t p = 0; ok && p < clause->pattern.count; p++)
            ok = create_part(run, &env, row, bound, &clause->pattern.parts[p]);
        if (ok)
            ok = cy_table_add(run, &out, row);
        else
            cy_row_free(row, width);
    }
    free(bound);
    if (!ok) {
        cy_table_free(&out);
        return false;
    }
    cy_table_free(table);
    *table = out;
    return true;
}

/* ---- MERGE ---- */

/* MERGE of one node: found by its id (which the map must hold), else created. */
static bool merge_node(cy_run *run, const cy_env *env, const cy_node_pattern *np, eg_ps_value *out, bool *created) {
    *out = cy_null();
    *created = false;
    if (np->label_count > 1)
        return cy_fail(run, CY_SYNTAX_ERROR, "an engram node has exactly one label; line %u, column %u gives %zu",
                       np->at.line, np->at.column, np->label_count);
    eg_ps_value map;
    if (!evaluate_map(run, env, np->properties, &map)) return false;
    const eg_ps_value *id = cy_dict_get(&map, "id");
    bool ok = true;
    if (!id || id->kind != EG_PS_STRING) {
        ok = cy_fail(run, CY_ARGUMENT_ERROR,
                     "MERGE of an engram node needs a String `id` in its property map (line "
                     "%u, column %u)",
                     np->at.line, np->at.column);
    } else {
        bool found = false;
        eg_error err;
        if (eg_validate_node_id(id->as.text.data, &err) != EG_OK)
            ok = cy_fail(run, CY_ARGUMENT_ERROR, "%s", err.message);
        else
            ok = cy_fetch_node(run, id->as.text.data, out, &found);
        if (ok && found) {
            const eg_ps_value *props = cy_entity_properties(out);
            bool same = !np->label_count || strcmp(np->labels[0], cy_node_label(out)) == 0;
            for (size_t i = 0; same && i < map.as.dict.count; i++) {
                const eg_ps_value *have = cy_dict_get(props, map.as.dict.entries[i].key);
                same = have && cy_equals(have, &map.as.dict.entries[i].value) == CY_TRUE;
            }
            if (!same)
                ok = cy_fail(run, CY_CONSTRAINT_FAILED,
                             "Node(%lld) already exists with label `%s` and property `id` = '%s', with other labels "
                             "or properties than the MERGE pattern; engram ids are unique across labels",
                             (long long)cy_node_identity(id->as.text.data), cy_node_label(out), id->as.text.data);
        } else if (ok) {
            eg_ps_value_free(out);
            ok = create_node(run, env, np, out);
            *created = ok;
        }
    }
    eg_ps_value_free(&map);
    return ok;
}

/* MERGE of a relationship between two nodes bound by earlier clauses. */
static bool merge_relationship(cy_run *run, const cy_env *env, const cy_pattern_part *part, eg_ps_value *row,
                               size_t bound_width, bool *created) {
    *created = false;
    const cy_rel_pattern *rp = &part->rels[0];
    const eg_ps_value *ends[2];
    for (int e = 0; e < 2; e++) {
        const cy_node_pattern *np = &part->nodes[e];
        long column = np->variable ? cy_scope_find(env->names, env->width, np->variable) : -1;
        bool bound = column >= 0 && (size_t)column < bound_width;
        if (!bound || np->label_count || np->properties || !cy_is_node(&row[column])) {
            if (bound && row[column].kind == EG_PS_NULL)
                return cy_fail(run, CY_SEMANTIC_ERROR,
                               "Failed to create relationship `%s`, node `%s` is missing. If "
                               "you prefer to simply ignore rows where a relationship node is "
                               "missing, set 'cypher.lenient_create_relationship = true'",
                               rp->variable ? rp->variable : "", np->variable);
            return cy_fail(run, CY_SEMANTIC_ERROR,
                           "engram's MERGE of a relationship needs both end nodes bound by an earlier clause, as in "
                           "MATCH (a {id: $a}), (b {id: $b}) MERGE (a)-[r:TYPE]->(b) (line %u, column %u)",
                           part->at.line, part->at.column);
        }
        ends[e] = &row[column];
    }
    eg_rel_type type;
    eg_ps_value map;
    if (!relationship_type(run, rp, "MERGE", &type) || !evaluate_map(run, env, rp->properties, &map)) return false;
    const char *type_name = eg_rel_type_name(type);
    const eg_ps_value *from = ends[rp->direction == CY_DIR_LEFT ? 1 : 0],
                      *to = ends[rp->direction == CY_DIR_LEFT ? 0 : 1];
    eg_ps_value rel = cy_null();
    bool found = false, ok = true;
    for (int attempt = 0; ok && !found && attempt < (rp->direction == CY_DIR_BOTH ? 2 : 1); attempt++) {
        const eg_ps_value *a = attempt ? to : from, *b = attempt ? from : to;
        eg_ps_value_free(&rel);
        ok = cy_fetch_relationship(run, cy_element_id(a), type_name, cy_element_id(b), &rel, &found);
        if (ok && found) {
            const eg_ps_value *props = cy_entity_properties(&rel);
            for (size_t i = 0; found && i < map.as.dict.count; i++) {
                const eg_ps_value *have = cy_dict_get(props, map.as.dict.entries[i].key);
                found = have && cy_equals(have, &map.as.dict.entries[i].value) == CY_TRUE;
            }
        }
    }
    if (ok && !found) {
        /* engram holds one relationship per (source, type, target): one with other properties takes these. */
        eg_ps_value_free(&rel);
        ok = create_relationship(run, cy_element_id(from), cy_element_id(to), type, &map, &rel);
        *created = ok;
    }
    if (ok) ok = set_cell(run, env, row, rp->variable, &rel);
    if (ok && part->path_variable) {
        eg_ps_value nodes[2], path;
        nodes[0] = *ends[0];
        nodes[1] = *ends[1];
        ok = cy_path_value(run, nodes, &rel, 1, &path) && set_cell(run, env, row, part->path_variable, &path);
        eg_ps_value_free(&path);
    }
    eg_ps_value_free(&rel);
    eg_ps_value_free(&map);
    return ok;
}

bool cy_merge(cy_run *run, const cy_clause *clause, cy_table *table) {
    if (clause->pattern.count != 1) return cy_fail(run, CY_SYNTAX_ERROR, "MERGE takes one pattern part");
    const cy_pattern_part *part = &clause->pattern.parts[0];
    if (part->function != CY_PATH_PLAIN) return cy_fail(run, CY_SYNTAX_ERROR, "shortestPath cannot be used in MERGE");
    if (part->rel_count > 1)
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "engram's MERGE takes one node or one relationship between bound nodes, "
                       "not a longer pattern (line %u, column %u)",
                       part->at.line, part->at.column);
    const char **names;
    size_t width;
    if (!widen_scope(run, &clause->pattern, table, &names, &width)) {
        free(names);
        return false;
    }
    cy_table out;
    cy_table_init(&out, names, width);
    bool ok = true;
    for (size_t r = 0; ok && r < table->count; r++) {
        eg_ps_value *row = cy_row_widen(run, table->rows[r], table->width, width);
        if (!row) {
            ok = false;
            break;
        }
        cy_env env = {.run = run, .names = names, .width = width, .row = row};
        bool created;
        if (part->rel_count == 0) {
            const cy_node_pattern *np = &part->nodes[0];
            long column = np->variable ? cy_scope_find(names, width, np->variable) : -1;
            if (column >= 0 && (size_t)column < table->width) {
                ok = cy_fail(run, CY_SYNTAX_ERROR, "Can't MERGE node `%s`: the variable is already declared",
                             np->variable);
            } else {
                eg_ps_value node;
                ok = merge_node(run, &env, np, &node, &created) && set_cell(run, &env, row, np->variable, &node);
                if (ok && part->path_variable) {
                    eg_ps_value path;
                    ok = cy_path_value(run, &node, NULL, 0, &path) &&
                         set_cell(run, &env, row, part->path_variable, &path);
                    eg_ps_value_free(&path);
                }
                eg_ps_value_free(&node);
            }
        } else {
            ok = merge_relationship(run, &env, part, row, table->width, &created);
        }
        if (ok)
            ok = cy_table_add(run, &out, row);
        else
            cy_row_free(row, width);
        if (ok) ok = cy_set(run, created ? &clause->on_create : &clause->on_match, &out, out.count - 1);
    }
    if (!ok) {
        cy_table_free(&out);
        return false;
    }
    cy_table_free(table);
    *table = out;
    return true;
}

/* ---- SET and REMOVE ---- */

/* Applies props (a JSON object of name -> value or null) to the entity. */
static bool write_properties(cy_run *run, const eg_ps_value *entity, json_t *props) {
    eg_error err;
    eg_status st;
    const char *element = cy_element_id(entity);
    if (cy_string_set_has(&run->deleted, element))
        return cy_fail(run, CY_ENTITY_NOT_FOUND, "%s '%s' has been deleted in this transaction",
                       cy_is_node(entity) ? "Node" : "Relationship", element);
    if (cy_is_node(entity)) {
        st = eg_graph_update_node(run->graph, element, props, EG_LABEL_ANY, &err);
    } else {
        const char *source, *type_name, *target;
        eg_rel_type type;
        cy_relationship_ends(entity, &source, &type_name, &target);
        /* create_relationship would make a relationship that does not exist (one passed in as a parameter): it
         * must be there to be written to. */
        eg_ps_value existing;
        bool found;
        if (!cy_resolve_rel_type(run->graph, type_name, &type) ||
            !cy_fetch_relationship(run, source, type_name, target, &existing, &found))
            return cy_fail(run, CY_ENTITY_NOT_FOUND, "relationship '%s' does not exist", element);
        eg_ps_value_free(&existing);
        if (!found) return cy_fail(run, CY_ENTITY_NOT_FOUND, "relationship '%s' does not exist", element);
        st = eg_graph_create_relationship(run->graph, source, target, type, props, &err);
    }
    if (st != EG_OK) return cy_fail_status(run, st, &err, "setting properties");
    return cy_mark_changed(run, element, false);
}

static bool set_one(cy_run *run, const eg_ps_value *entity, const char *name, const eg_ps_value *value) {
    eg_error err;
    if (eg_validate_property_name(name, &err) != EG_OK) return cy_fail(run, CY_ARGUMENT_ERROR, "%s", err.message);
    if (cy_is_node(entity) && strcmp(name, "id") == 0) {
        if (value->kind == EG_PS_STRING && strcmp(value->as.text.data, cy_element_id(entity)) == 0) {
            run->stats.properties_set++;
            return true;
        }
        return cy_fail(run, CY_ARGUMENT_ERROR, "the `id` of engram node '%s' cannot be changed or removed",
                       cy_element_id(entity));
    }
    json_t *json;
    if (!cy_property_json(run, name, value, &json)) return false;
    json_t *props = json_object();
    if (!props || json_object_set_new(props, name, json) != 0) {
        json_decref(props);
        return cy_out_of_memory(run);
    }
    bool ok = write_properties(run, entity, props);
    json_decref(props);
    if (ok) run->stats.properties_set++;
    return ok;
}

/* SET n = map (replace: properties not in map are removed) and SET n += map (merge). */
static bool set_map(cy_run *run, const eg_ps_value *entity, const eg_ps_value *value, bool replace) {
    const eg_ps_value *map = value;
    eg_ps_value source_props = cy_null();
    if (cy_is_node(value) || cy_is_relationship(value)) {
        bool gone;
        eg_ps_value current;
        if (!cy_entity_current(run, value, &current, &gone)) return false;
        bool ok = cy_copy(run, cy_entity_properties(&current), &source_props);
        eg_ps_value_free(&current);
        if (!ok) return false;
        map = &source_props;
    } else if (value->kind != EG_PS_DICT) {
        return cy_fail(run, CY_TYPE_ERROR, "SET %s expects a Map, Node or Relationship but was %s",
                       replace ? "=" : "+=", cy_type_name(value));
    }
    json_t *props = json_object();
    bool ok = props ? true : cy_out_of_memory(run);
    int64_t count = 0;
    bool is_node = cy_is_node(entity);
    for (size_t i = 0; ok && i < map->as.dict.count; i++) {
        const eg_ps_entry *e = &map->as.dict.entries[i];
        eg_error err;
        if (eg_validate_property_name(e->key, &err) != EG_OK) {
            ok = cy_fail(run, CY_ARGUMENT_ERROR, "%s", err.message);
            break;
        }
        if (is_node && strcmp(e->key, "id") == 0) {
            if (e->value.kind != EG_PS_STRING || strcmp(e->value.as.text.data, cy_element_id(entity)) != 0)
                ok = cy_fail(run, CY_ARGUMENT_ERROR, "the `id` of engram node '%s' cannot be changed or removed",
                             cy_element_id(entity));
            continue;
        }
        json_t *json;
        ok = cy_property_json(run, e->key, &e->value, &json);
        if (ok) json_object_set_new(props, e->key, json);
        count++;
    }
    if (ok && replace) {
        /* Everything the map does not name goes, except what engram keeps: a node's id and a relationship's
         * lastAccessed (maintained by the store). */
        eg_ps_value current;
        bool gone;
        ok = cy_entity_current(run, entity, &current, &gone);
        const eg_ps_value *have = ok ? cy_entity_properties(&current) : NULL;
        for (size_t i = 0; ok && have && i < have->as.dict.count; i++) {
            const char *key = have->as.dict.entries[i].key;
            if ((is_node && strcmp(key, "id") == 0) || (!is_node && strcmp(key, "lastAccessed") == 0) ||
                json_object_get(props, key))
                continue;
            json_object_set_new(props, key, json_null());
            count++;
        }
        if (ok) eg_ps_value_free(&current);
    }
    if (ok && json_object_size(props)) ok = write_properties(run, entity, props);
    if (ok) run->stats.properties_set += count;
    json_decref(props);
    eg_ps_value_free(&source_props);
    return ok;
}

static bool labels_item(cy_run *run, const cy_set_item *item, const eg_ps_value *node, bool remove) {
    if (node->kind == EG_PS_NULL) return true;
    if (!cy_is_node(node))
        return cy_fail(run, CY_TYPE_ERROR, "labels are set on a Node, not on a %s", cy_type_name(node));
    for (size_t i = 0; i < item->label_count; i++) {
        if (remove)
            return cy_fail(run, CY_ARGUMENT_ERROR,
                           "REMOVE %s:%s: an engram node has exactly one label, which cannot be removed",
                           item->variable, item->labels[i]);
        if (strcmp(item->labels[i], cy_node_label(node)) != 0)
            return cy_fail(run, CY_ARGUMENT_ERROR,
                           "SET %s:%s: an engram node has exactly one label, and node '%s' is labelled %s",
                           item->variable, item->labels[i], cy_element_id(node), cy_node_label(node));
    }
    return true;
}

static bool set_item(cy_run *run, const cy_env *env, const cy_set_item *item) {
    eg_ps_value target = cy_null(), value = cy_null();
    bool ok;
    if (item->kind == CY_SET_PROPERTY || item->kind == CY_REMOVE_PROPERTY) {
        ok = cy_eval(env, item->target, &target) &&
             (item->kind == CY_REMOVE_PROPERTY || cy_eval(env, item->value, &value));
    } else {
        const eg_ps_value *bound;
        ok = cy_lookup(env, item->variable, &bound) && cy_copy(run, bound, &target) &&
             (!item->value || cy_eval(env, item->value, &value));
    }
    if (ok && target.kind != EG_PS_NULL) {
        switch (item->kind) {
        case CY_SET_LABELS:
        case CY_REMOVE_LABELS: ok = labels_item(run, item, &target, item->kind == CY_REMOVE_LABELS); break;
        default:
            if (!cy_is_node(&target) && !cy_is_relationship(&target)) {
                ok = cy_fail(run, CY_TYPE_ERROR, "properties are set on a Node or Relationship, not on a %s",
                             cy_type_name(&target));
            } else if (item->kind == CY_SET_PROPERTY || item->kind == CY_REMOVE_PROPERTY) {
                ok = set_one(run, &target, item->name, &value);
            } else {
                ok = set_map(run, &target, &value, item->kind == CY_SET_REPLACE);
            }
        }
    }
    eg_ps_value_free(&target);
    eg_ps_value_free(&value);
    return ok;
}

bool cy_set(cy_run *run, const cy_set_list *items, const cy_table *table, size_t row) {
    cy_env env = {.run = run, .names = table->names, .width = table->width, .row = table->rows[row]};
    for (size_t i = 0; i < items->count; i++)
        if (!set_item(run, &env, &items->items[i])) return false;
    return true;
}

/* ---- DELETE ---- */

static bool delete_relationship(cy_run *run, const eg_ps_value *rel) {
    const char *source, *type_name, *target;
    eg_rel_type type;
    cy_relationship_ends(rel, &source, &type_name, &target);
    if (cy_string_set_has(&run->deleted, cy_element_id(rel)) || !cy_resolve_rel_type(run->graph, type_name, &type))
        return true;
    /* Deleting what is not there is a no-op in Cypher, but a failed delete would spoil the graph transaction:
     * look first. */
    eg_ps_value existing;
    bool found;
    if (!cy_fetch_relationship(run, source, type_name, target, &existing, &found)) return false;
    eg_ps_value_free(&existing);
    if (!found) return true;
    eg_error err;
    eg_status st = eg_graph_delete_relationship(run->graph, source, target, type, &err);
    if (st != EG_OK) return cy_fail_status(run, st, &err, "deleting a relationship");
    run->stats.relationships_deleted++;
    return cy_mark_changed(run, cy_element_id(rel), true);
}

static bool delete_node(cy_run *run, const eg_ps_value *node, bool detach) {
    const char *id = cy_element_id(node);
    if (cy_string_set_has(&run->deleted, id)) return true;
    eg_relationship_list rels;
    eg_error err;
    eg_status st = eg_graph_get_relationships(run->graph, id, EG_REL_ANY, EG_DIR_BOTH, &rels, &err);
    if (st == EG_NOT_FOUND) return true;
    if (st != EG_OK) return cy_fail_status(run, st, &err, "reading a node's relationships");
    size_t attached = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < rels.count; i++) {
        const eg_relationship *r = &rels.items[i];
        /* A self-loop is listed in both directions: count it once. */
        if (strcmp(r->source_id, r->target_id) == 0 && strcmp(r->source_id, id) == 0 && i > 0 &&
            rels.items[i - 1].type == r->type && strcmp(rels.items[i - 1].source_id, r->source_id) == 0 &&
            strcmp(rels.items[i - 1].target_id, r->target_id) == 0)
            continue;
        attached++;
        char element[2 * EG_ID_MAX + 64];
        snprintf(element, sizeof element, "%s>%s>%s", r->source_id, eg_rel_type_name(r->type), r->target_id);
        if (detach) ok = cy_mark_changed(run, element, true);
    }
    eg_relationship_list_free(&rels);
    if (!ok) return false;
    if (attached && !detach)
        return cy_fail(run, CY_CONSTRAINT_FAILED,
                       "Cannot delete node<%lld> ('%s'), because it still has relationships. To delete this node, you "
                       "must first delete its relationships.",
                       (long long)cy_node_identity(id), id);
    st = eg_graph_delete_node(run->graph, id, EG_LABEL_ANY, &err);
    if (st != EG_OK) return cy_fail_status(run, st, &err, "deleting a node");
    run->stats.nodes_deleted++;
    run->stats.relationships_deleted += (int64_t)attached;
    return cy_mark_changed(run, id, true);
}

/* One value of DELETE: relationships in the first pass, nodes in the second, so that a statement deleting a node
 * together with its relationships (MATCH (n)-[r]-() DELETE r, n) succeeds whatever the row order. */
static bool delete_value(cy_run *run, const eg_ps_value *v, bool detach, bool nodes_pass) {
    if (v->kind == EG_PS_NULL) return true;
    if (cy_is_relationship(v)) return nodes_pass || delete_relationship(run, v);
    if (cy_is_node(v)) return !nodes_pass || delete_node(run, v, detach);
    if (cy_is_path(v)) {
        if (!nodes_pass) {
            /* relationships() gives the path's relationships with their ends, which deleting needs. */
            cy_env none = {.run = run};
            cy_expr call = {.kind = CY_EXPR_CALL, .name = "relationships"};
            eg_ps_value arg, rels;
            if (!cy_copy(run, v, &arg)) return false;
            bool ok = cy_call_function(&none, &call, &arg, 1, &rels);
            eg_ps_value_free(&arg);
            for (size_t i = 0; ok && i < rels.as.list.count; i++) ok = delete_relationship(run, &rels.as.list.items[i]);
            eg_ps_value_free(&rels);
            return ok;
        }
        const eg_ps_value *nodes = &v->as.list.items[0];
        for (size_t i = 0; i < nodes->as.list.count; i++)
            if (!delete_node(run, &nodes->as.list.items[i], detach)) return false;
        return true;
    }
    return cy_fail(run, CY_TYPE_ERROR, "DELETE expects a Node, Relationship or Path but was %s", cy_type_name(v));
}

bool cy_delete(cy_run *run, const cy_clause *clause, const cy_table *table) {
    for (int pass = 0; pass < 2; pass++)
        for (size_t r = 0; r < table->count; r++) {
            cy_env env = {.run = run, .names = table->names, .width = table->width, .row = table->rows[r]};
            for (size_t i = 0; i < clause->expression_count; i++) {
                eg_ps_value v;
                if (!cy_eval(&env, clause->expressions[i], &v)) return false;
                bool ok = delete_value(run, &v, clause->detach, pass == 1);
                eg_ps_value_free(&v);
                if (!ok) return false;
            }
        }
    return true;
}
