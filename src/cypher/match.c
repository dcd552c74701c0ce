/* match.c — MATCH and OPTIONAL MATCH: finding the bindings of a pattern in the graph.
 *
 * Each comma-separated part of a pattern is matched by depth-first search from one anchor node, chosen for being
 * cheapest to find: a variable bound already, else an `id` in the inline map (one get_node), else a label (pages
 * of list_nodes), else every node. From the anchor the search walks the relationships to the right as written and
 * then to the left, reversed. When the anchor comes from a scan, the relationships of a whole page of nodes are
 * read at once (get_relationships_batch). Relationships are distinct within one MATCH, as in Cypher.
 *
 * shortestPath((a)-[*..N]-(b)) is a part of its own kind: eg_graph_find_path between every candidate pair. */
#include "cypher/executor_internal.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_PAGE 500

/* One step of a part's search: a node position reached directly (the anchor) or through rels[rel] from the
 * position before it in the walk. */
typedef struct search_step {
    size_t node;
    size_t rel;
    bool forward; /* through rels[rel] from nodes[rel] to nodes[rel + 1] (else from nodes[rel + 1] to nodes[rel]) */
} search_step;

typedef struct matcher matcher;

struct matcher {
    cy_run *run;
    const cy_clause *clause;
    cy_env env; /* over the working row */
    eg_ps_value *row;
    bool *assigned; /* per column: bound before this point of the search */
    size_t part_index;
    /* The current part. */
    const cy_pattern_part *part;
    search_step *steps;
    /* Per position, where the search holds its current value: in the row for a variable it bound, else in the
     * position's scratch slot (nodes, rels: owned). Values move there without copies. */
    const eg_ps_value **node_at, **rel_at;
    eg_ps_value *nodes, *rels;
    /* Relationship element ids in use in this MATCH (uniqueness), pointing into rels of the parts. */
    const char **used;
    size_t used_count, used_capacity;
    /* Relationships of the anchor's scan page, read in one call (NULL when the anchor was not scanned). */
    eg_relationship_list *prefetched;
    size_t prefetched_index;
    matcher *outer;       /* the matcher of the previous part (to continue with the next part) */
    eg_ps_value *collect; /* when set, a completed one-node part adds its node here (shortestPath's ends) */
    cy_table *out;
    size_t emitted;
};

static bool next_part(matcher *m);

static long column_of(const matcher *m, const char *variable) {
    return variable ? cy_scope_find(m->env.names, m->env.width, variable) : -1;
}

static bool label_allowed(const cy_node_pattern *np, const eg_ps_value *node) {
    for (size_t i = 0; i < np->label_count; i++)
        if (strcmp(np->labels[i], cy_node_label(node)) != 0) return false;
    return true;
}

/* Whether every key of the inline map equals the entity's property (three-valued: only true matches). */
static bool properties_match(const eg_ps_value *wanted, const eg_ps_value *entity) {
    if (wanted->kind != EG_PS_DICT) return true;
    const eg_ps_value *props = cy_entity_properties(entity);
    for (size_t i = 0; i < wanted->as.dict.count; i++) {
        const eg_ps_value *have = cy_dict_get(props, wanted->as.dict.entries[i].key);
        if (!have || cy_equals(have, &wanted->as.dict.entries[i].value) != CY_TRUE) return false;
    }
    return true;
}

/* The inline property map of a pattern element, evaluated now (it may name variables bound earlier). */
static bool inline_map(matcher *m, const cy_expr *properties, eg_ps_value *out) {
    *out = cy_null();
    if (!properties) return true;
    if (!cy_eval(&m->env, properties, out)) return false;
    if (out->kind != EG_PS_DICT && out->kind != EG_PS_NULL) {
        bool ok =
            cy_fail(m->run, CY_TYPE_ERROR, "a pattern's property map must be a Map but was %s", cy_type_name(out));
        eg_ps_value_free(out);
        return ok;
    }
    return true;
}

static bool push_used(matcher *m, const char *element_id) {
    matcher *root = m;
    while (root->outer) root = root->outer;
    if (root->used_count == root->used_capacity) {
        size_t capacity = root->used_capacity ? root->used_capacity * 2 : 16;
        const char **used = realloc(root->used, capacity * sizeof *used);
        if (!used) return cy_out_of_memory(m->run);
        root->used = used;
        root->used_capacity = capacity;
    }
    root->used[root->used_count++] = element_id;
    return true;
}

static void pop_used(matcher *m) {
    matcher *root = m;
    while (root->outer) root = root->outer;
    root->used_count--;
}

static bool is_used(const matcher *m, const char *element_id) {
    const matcher *root = m;
    while (root->outer) root = root->outer;
    for (size_t i = 0; i < root->used_count; i++)
        if (strcmp(root->used[i], element_id) == 0) return true;
    return false;
}

/* ---- completion ---- */

static bool emit(matcher *m) {
    if (m->clause->where) {
        bool keep;
        if (!cy_eval_predicate(&m->env, m->clause->where, &keep)) return false;
        if (!keep) return true;
    }
    eg_ps_value *row = cy_row_new(m->run, m->env.width);
    if (!row) return false;
    for (size_t i = 0; i < m->env.width; i++)
        if (!cy_copy(m->run, &m->row[i], &row[i])) {
            cy_row_free(row, m->env.width);
            return false;
        }
    m->emitted++;
    return cy_table_add(m->run, m->out, row);
}

/* Binds variable (when named) to value for the rest of the search; *bound_here says whether to unbind after. */
static bool bind(matcher *m, const char *variable, const eg_ps_value *value, bool *bound_here) {
    *bound_here = false;
    long column = column_of(m, variable);
    if (column < 0 || m->assigned[column]) return true;
    if (!cy_copy(m->run, value, &m->row[column])) return false;
    m->assigned[column] = true;
    *bound_here = true;
    return true;
}

static void unbind(matcher *m, const char *variable, bool bound_here) {
    if (!bound_here) return;
    long column = column_of(m, variable);
    eg_ps_value_free(&m->row[column]);
    m->assigned[column] = false;
}

/* Places value (taken) at a pattern position: into the row when the position names a variable not bound yet
 * (*bound_here), else into the scratch slot; *at then points at it. */
static void place(matcher *m, const char *variable, eg_ps_value *value, eg_ps_value *scratch, const eg_ps_value **at,
                  bool *bound_here) {
    long column = column_of(m, variable);
    *bound_here = column >= 0 && !m->assigned[column];
    eg_ps_value *slot = *bound_here ? &m->row[column] : scratch;
    cy_move(slot, value);
    if (*bound_here) m->assigned[column] = true;
    *at = slot;
}

static void unplace(matcher *m, const char *variable, eg_ps_value *scratch, bool bound_here) {
    if (bound_here)
        unbind(m, variable, true);
    else
        eg_ps_value_free(scratch);
}

static bool complete_part(matcher *m) {
    const cy_pattern_part *part = m->part;
    if (m->collect) {
        eg_ps_value node;
        return cy_copy(m->run, m->node_at[0], &node) && cy_list_push(m->run, m->collect, &node);
    }
    bool bound_path = false;
    if (part->path_variable) {
        /* cy_path_value reads arrays of values: shallow views of the positions (nothing is freed through them). */
        size_t n = part->rel_count + 1;
        eg_ps_value *nodes = malloc(n * sizeof *nodes), *rels = malloc(n * sizeof *rels), path;
        bool ok = nodes && rels ? true : cy_out_of_memory(m->run);
        for (size_t i = 0; ok && i < n; i++) {
            nodes[i] = *m->node_at[i];
            if (i < part->rel_count) rels[i] = *m->rel_at[i];
        }
        ok = ok && cy_path_value(m->run, nodes, rels, part->rel_count, &path);
        free(nodes);
        free(rels);
        if (ok) ok = bind(m, part->path_variable, &path, &bound_path);
        if (ok) eg_ps_value_free(&path);
        if (!ok) return false;
    }
    bool ok = next_part(m);
    unbind(m, part->path_variable, bound_path);
    return ok;
}

/* ---- the search ---- */

static bool search(matcher *m, size_t step);

/* Tries node (taken when it fits) as the value of step's position. */
static bool try_node(matcher *m, size_t step, eg_ps_value *node, const eg_ps_value *wanted) {
    const cy_node_pattern *np = &m->part->nodes[m->steps[step].node];
    long column = column_of(m, np->variable);
    if (column >= 0 && m->assigned[column]) {
        const eg_ps_value *bound = &m->row[column];
        if (!cy_is_node(bound) || strcmp(cy_element_id(bound), cy_element_id(node)) != 0) return true;
    }
    if (!label_allowed(np, node) || !properties_match(wanted, node)) return true;
    size_t position = m->steps[step].node;
    bool bound_here;
    place(m, np->variable, node, &m->nodes[position], &m->node_at[position], &bound_here);
    bool ok = search(m, step + 1);
    unplace(m, np->variable, &m->nodes[position], bound_here);
    return ok;
}

/* The node id the inline map asks for, when it names one: *has_id false when it does not, *id NULL when it names
 * something that can be no node's id (then nothing matches). */
static const char *wanted_id(const eg_ps_value *wanted, bool *has_id) {
    const eg_ps_value *id = cy_dict_get(wanted, "id");
    *has_id = id != NULL;
    if (!id || id->kind != EG_PS_STRING || eg_validate_node_id(id->as.text.data, NULL) != EG_OK) return NULL;
    return id->as.text.data;
}

/* The label to scan (or any); *matches_nothing when the pattern names a label engram does not have. */
static void scan_label(const eg_graph *graph, const cy_node_pattern *np, eg_label *label, bool *matches_nothing) {
    *label = EG_LABEL_ANY;
    *matches_nothing = np->label_count && !cy_resolve_label(graph, np->labels[0], label);
}

/* Whether e can be evaluated now: every variable it reads is bound already (an unbound one would read as null
 * and wrongly narrow the search). */
static bool evaluable_now(const matcher *m, const cy_expr *e) {
    if (!e) return true;
    if (e->kind == CY_EXPR_VARIABLE) {
        long column = column_of(m, e->name);
        return column >= 0 && m->assigned[column];
    }
    if (e->kind == CY_EXPR_COMPREHENSION || e->kind == CY_EXPR_PATTERN || cy_is_aggregate_call(e)) return false;
    for (size_t i = 0; e->items && i < e->count; i++)
        if (!evaluable_now(m, e->items[i])) return false;
    return evaluable_now(m, e->operand) && evaluable_now(m, e->left) && evaluable_now(m, e->right) &&
           evaluable_now(m, e->filter) && evaluable_now(m, e->projection) && evaluable_now(m, e->otherwise);
}

/* A conjunct `variable.id = e` (or `e = variable.id`) of the WHERE, with e evaluable now: the node can only be
 * the one with that id, so the search reads it instead of scanning. The WHERE is still evaluated in full. */
static const cy_expr *id_hint(const matcher *m, const cy_expr *where, const char *variable) {
    if (!where || !variable || where->kind != CY_EXPR_BINARY) return NULL;
    if (where->op == CY_OP_AND) {
        const cy_expr *hint = id_hint(m, where->left, variable);
        return hint ? hint : id_hint(m, where->right, variable);
    }
    if (where->op != CY_OP_EQ) return NULL;
    for (int side = 0; side < 2; side++) {
        const cy_expr *property = side ? where->right : where->left, *other = side ? where->left : where->right;
        if (property->kind == CY_EXPR_PROPERTY && strcmp(property->name, "id") == 0 &&
            property->operand->kind == CY_EXPR_VARIABLE && strcmp(property->operand->name, variable) == 0 &&
            evaluable_now(m, other))
            return other;
    }
    return NULL;
}

/* The first step: every node that may stand at the anchor. */
static bool search_anchor(matcher *m) {
    const cy_node_pattern *np = &m->part->nodes[m->steps[0].node];
    cy_run *run = m->run;
    long column = column_of(m, np->variable);
    eg_ps_value wanted;
    if (!inline_map(m, np->properties, &wanted)) return false;
    bool ok = true;
    if (column >= 0 && m->assigned[column]) {
        const eg_ps_value *bound = &m->row[column];
        if (cy_is_node(bound)) {
            eg_ps_value current;
            bool gone;
            ok = cy_entity_current(run, bound, &current, &gone);
            if (ok && !gone) ok = try_node(m, 0, &current, &wanted);
            eg_ps_value_free(&current);
        } else if (bound->kind != EG_PS_NULL) {
            ok = cy_fail(run, CY_TYPE_ERROR, "variable `%s` is a %s, not a Node", np->variable, cy_type_name(bound));
        }
        eg_ps_value_free(&wanted);
        return ok;
    }
    bool has_id;
    const char *id = wanted_id(&wanted, &has_id);
    if (wanted.kind == EG_PS_NULL && np->properties) has_id = true; /* a null map matches nothing */
    eg_ps_value hinted = cy_null();
    const cy_expr *hint = has_id ? NULL : id_hint(m, m->clause->where, np->variable);
    if (hint) {
        if (!cy_eval(&m->env, hint, &hinted)) {
            eg_ps_value_free(&wanted);
            return false;
        }
        has_id = true;
        id = hinted.kind == EG_PS_STRING && eg_validate_node_id(hinted.as.text.data, NULL) == EG_OK
                 ? hinted.as.text.data
                 : NULL;
    }
    if (has_id) {
        if (id) {
            eg_ps_value node;
            bool found;
            ok = cy_fetch_node(run, id, &node, &found);
            if (ok && found) ok = try_node(m, 0, &node, &wanted);
            eg_ps_value_free(&node);
        }
        eg_ps_value_free(&hinted);
        eg_ps_value_free(&wanted);
        return ok;
    }
    eg_label label;
    bool nothing;
    scan_label(m->run->graph, np, &label, &nothing);
    const search_step *second = m->part->rel_count ? &m->steps[1] : NULL;
    char after[EG_ID_MAX + 1] = "";
    while (ok && !nothing) {
        eg_node_list page;
        eg_error err;
        eg_status st = eg_graph_list_nodes(run->graph, label, after[0] ? after : NULL, SCAN_PAGE, &page, &err);
        if (st != EG_OK) {
            ok = cy_fail_status(run, st, &err, "listing nodes");
            break;
        }
        eg_relationship_list *prefetched = NULL;
        if (second && page.count) {
            /* The walk's next step leaves the anchor: read the page's relationships in one call. */
            const cy_rel_pattern *rp = &m->part->rels[second->rel];
            eg_rel_type type = EG_REL_ANY;
            if (rp->type_count == 1 && !cy_resolve_rel_type(run->graph, rp->types[0], &type))
                type = EG_REL_ANY;
            eg_direction dir = rp->direction == CY_DIR_BOTH                         ? EG_DIR_BOTH
                               : (rp->direction == CY_DIR_RIGHT) == second->forward ? EG_DIR_OUT
                                                                                    : EG_DIR_IN;
            const char **ids = malloc(page.count * sizeof *ids);
            prefetched = calloc(page.count, sizeof *prefetched);
            if (!ids || !prefetched) {
                ok = cy_out_of_memory(run);
            } else {
                for (size_t i = 0; i < page.count; i++) ids[i] = page.items[i].id;
                st = eg_graph_get_relationships_batch(run->graph, ids, page.count, type, dir, prefetched, &err);
                if (st != EG_OK) {
                    free(prefetched);
                    prefetched = NULL;
                    ok = cy_fail_status(run, st, &err, "reading relationships");
                }
            }
            free(ids);
        }
        m->prefetched = prefetched;
        for (size_t i = 0; ok && i < page.count; i++) {
            eg_ps_value node;
            m->prefetched_index = i;
            ok = cy_node_value(run, &page.items[i], &node) && try_node(m, 0, &node, &wanted);
            eg_ps_value_free(&node);
        }
        m->prefetched = NULL;
        if (prefetched) {
            for (size_t i = 0; i < page.count; i++) eg_relationship_list_free(&prefetched[i]);
            free(prefetched);
        }
        bool last = page.count < SCAN_PAGE;
        if (page.count) memcpy(after, page.items[page.count - 1].id, sizeof after);
        eg_node_list_free(&page);
        if (last) break;
    }
    eg_ps_value_free(&wanted);
    return ok;
}

static bool type_allowed(const cy_rel_pattern *rp, eg_rel_type type) {
    if (rp->type_count == 0) return true;
    for (size_t i = 0; i < rp->type_count; i++)
        if (strcmp(rp->types[i], eg_rel_type_name(type)) == 0) return true;
    return false;
}

/* A step through a relationship from the node at the walk's previous position. */
static bool search_expand(matcher *m, size_t step) {
    cy_run *run = m->run;
    const search_step *s = &m->steps[step];
    const cy_rel_pattern *rp = &m->part->rels[s->rel];
    size_t from_position = s->forward ? s->rel : s->rel + 1;
    const eg_ps_value *from = m->node_at[from_position];
    const char *from_id = cy_element_id(from);
    eg_direction dir = rp->direction == CY_DIR_BOTH                    ? EG_DIR_BOTH
                       : (rp->direction == CY_DIR_RIGHT) == s->forward ? EG_DIR_OUT
                                                                       : EG_DIR_IN;
    eg_rel_type type = EG_REL_ANY;
    if (rp->type_count == 1 && !cy_resolve_rel_type(run->graph, rp->types[0], &type)) return true;
    eg_relationship_list owned = {0};
    const eg_relationship_list *rels = &owned;
    if (step == 1 && m->prefetched) {
        rels = &m->prefetched[m->prefetched_index];
    } else {
        eg_error err;
        eg_status st = eg_graph_get_relationships(run->graph, from_id, type, dir, &owned, &err);
        if (st == EG_NOT_FOUND) return true;
        if (st != EG_OK) return cy_fail_status(run, st, &err, "reading relationships");
    }
    eg_ps_value wanted_rel, wanted_node;
    const cy_node_pattern *np = &m->part->nodes[s->node];
    bool ok = inline_map(m, rp->properties, &wanted_rel);
    if (ok)
        ok = inline_map(m, np->properties, &wanted_node);
    else
        wanted_node = cy_null();
    long rel_column = column_of(m, rp->variable);
    long node_column = column_of(m, np->variable);
    bool null_map =
        (rp->properties && wanted_rel.kind == EG_PS_NULL) || (np->properties && wanted_node.kind == EG_PS_NULL);
    for (size_t i = 0; ok && !null_map && i < rels->count; i++) {
        const eg_relationship *r = &rels->items[i];
        if (!type_allowed(rp, r->type)) continue;
        /* A self-loop is listed once per direction when both are asked for: take it once. */
        if (dir == EG_DIR_BOTH && strcmp(r->source_id, r->target_id) == 0) {
            bool seen = false;
            for (size_t j = 0; j < i; j++)
                seen = seen || (rels->items[j].type == r->type && strcmp(rels->items[j].source_id, r->source_id) == 0 &&
                                strcmp(rels->items[j].target_id, r->target_id) == 0);
            if (seen) continue;
        }
        eg_ps_value rel;
        if (!cy_relationship_value(run, r, &rel)) {
            ok = false;
            break;
        }
        bool fits = properties_match(&wanted_rel, &rel) && !is_used(m, cy_element_id(&rel));
        if (fits && rel_column >= 0 && m->assigned[rel_column])
            fits = cy_is_relationship(&m->row[rel_column]) &&
                   strcmp(cy_element_id(&m->row[rel_column]), cy_element_id(&rel)) == 0;
        const char *other_id = strcmp(r->source_id, from_id) == 0 ? r->target_id : r->source_id;
        if (dir == EG_DIR_IN)
            other_id = r->source_id;
        else if (dir == EG_DIR_OUT)
            other_id = r->target_id;
        if (fits && node_column >= 0 && m->assigned[node_column])
            fits = cy_is_node(&m->row[node_column]) && strcmp(cy_element_id(&m->row[node_column]), other_id) == 0;
        /* An id in the other end's map decides before the node is read (C23 from a node with many neighbours). */
        const eg_ps_value *wanted_other = cy_dict_get(&wanted_node, "id");
        if (fits && wanted_other)
            fits = wanted_other->kind == EG_PS_STRING && strcmp(wanted_other->as.text.data, other_id) == 0;
        if (!fits) {
            eg_ps_value_free(&rel);
            continue;
        }
        eg_ps_value other;
        bool found;
        ok = cy_fetch_node(run, other_id, &other, &found);
        if (ok && found && label_allowed(np, &other) && properties_match(&wanted_node, &other)) {
            bool bound_rel, bound_node;
            place(m, rp->variable, &rel, &m->rels[s->rel], &m->rel_at[s->rel], &bound_rel);
            ok = push_used(m, cy_element_id(m->rel_at[s->rel]));
            if (ok) {
                place(m, np->variable, &other, &m->nodes[s->node], &m->node_at[s->node], &bound_node);
                ok = search(m, step + 1);
                unplace(m, np->variable, &m->nodes[s->node], bound_node);
                pop_used(m);
            }
            unplace(m, rp->variable, &m->rels[s->rel], bound_rel);
        }
        eg_ps_value_free(&other);
        eg_ps_value_free(&rel);
    }
    eg_ps_value_free(&wanted_rel);
    eg_ps_value_free(&wanted_node);
    eg_relationship_list_free(&owned);
    return ok;
}

static bool search(matcher *m, size_t step) {
    if (step == m->part->rel_count + 1) return complete_part(m);
    return step == 0 ? search_anchor(m) : search_expand(m, step);
}

/* ---- shortestPath ---- */

static bool check_shortest(cy_run *run, const cy_pattern_part *part) {
    if (part->function == CY_PATH_ALL_SHORTEST)
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "allShortestPaths (line %u, column %u) is not supported by engram; use "
                       "shortestPath",
                       part->at.line, part->at.column);
    const cy_rel_pattern *rp = part->rels;
    if (part->rel_count != 1 || !rp->variable_length)
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "shortestPath takes one variable-length relationship, as in "
                       "shortestPath((a)-[*..3]-(b))");
    if (rp->max_hops < 1 || rp->max_hops > EG_PATH_DEPTH_MAX)
        return cy_fail(run, CY_ARGUMENT_ERROR, "shortestPath needs an upper bound of 1 to %d hops ([*..N]) in engram",
                       EG_PATH_DEPTH_MAX);
    if (rp->min_hops > 1)
        return cy_fail(run, CY_ARGUMENT_ERROR, "shortestPath in engram takes a lower bound of 0 or 1");
    if (rp->direction != CY_DIR_BOTH)
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "shortestPath in engram follows relationships in both directions: write "
                       "the pattern undirected, -[*..N]-");
    if (rp->properties)
        return cy_fail(run, CY_SYNTAX_ERROR, "shortestPath in engram takes no relationship property map");
    if (rp->type_count > CY_MAX_PATTERN_TYPES)
        return cy_fail(run, CY_ARGUMENT_ERROR, "shortestPath in engram takes at most %d relationship types",
                       CY_MAX_PATTERN_TYPES);
    return true;
}

static bool shortest_between(matcher *m, const eg_ps_value *source, const eg_ps_value *target) {
    cy_run *run = m->run;
    const cy_rel_pattern *rp = m->part->rels;
    if (strcmp(cy_element_id(source), cy_element_id(target)) == 0) return true;
    /* The pattern's types the schema takes (the others match nothing); the parser bounds how many there are. */
    eg_rel_type wanted[CY_MAX_PATTERN_TYPES];
    eg_rel_type_set types = {wanted, 0};
    for (size_t i = 0; i < rp->type_count; i++)
        if (cy_resolve_rel_type(run->graph, rp->types[i], &wanted[types.count])) types.count++;
    if (rp->type_count && !types.count) return true;
    eg_path path;
    eg_error err;
    eg_status st = eg_graph_find_path(run->graph, cy_element_id(source), cy_element_id(target), (int)rp->max_hops,
                                      types, &path, &err);
    if (st == EG_NOT_FOUND) return true;
    if (st != EG_OK) return cy_fail_status(run, st, &err, "finding a path");
    bool ok = true;
    if (path.node_count) {
        size_t n = path.node_count, r = path.relationship_count;
        eg_ps_value *nodes = calloc(n, sizeof *nodes), *rels = calloc(r ? r : 1, sizeof *rels);
        const char **ids = malloc(n * sizeof *ids);
        eg_node_list full = {0};
        ok = nodes && rels && ids ? true : cy_out_of_memory(run);
        for (size_t i = 0; ok && i < n; i++) ids[i] = path.nodes[i].id;
        if (ok) {
            st = eg_graph_get_nodes(run->graph, ids, n, &full, &err);
            if (st != EG_OK)
                ok = cy_fail_status(run, st, &err, "reading a path's nodes");
            else if (full.count != n)
                ok = cy_fail(run, CY_UNKNOWN_ERROR, "a path's node vanished while reading it");
        }
        for (size_t i = 0; ok && i < n; i++) ok = cy_node_value(run, &full.items[i], &nodes[i]);
        for (size_t i = 0; ok && i < r; i++) ok = cy_relationship_value(run, &path.relationships[i], &rels[i]);
        bool bound_path = false, bound_rels = false;
        eg_ps_value path_value = cy_null(), rel_list = cy_null();
        if (ok && m->part->path_variable) {
            ok = cy_path_value(run, nodes, rels, r, &path_value) &&
                 bind(m, m->part->path_variable, &path_value, &bound_path);
        }
        if (ok && rp->variable) {
            ok = cy_list(run, r, &rel_list);
            for (size_t i = 0; ok && i < r; i++) ok = cy_copy(run, &rels[i], &rel_list.as.list.items[i]);
            if (ok) ok = bind(m, rp->variable, &rel_list, &bound_rels);
        }
        if (ok) ok = next_part(m);
        unbind(m, rp->variable, bound_rels);
        unbind(m, m->part->path_variable, bound_path);
        eg_ps_value_free(&path_value);
        eg_ps_value_free(&rel_list);
        for (size_t i = 0; nodes && i < n; i++) eg_ps_value_free(&nodes[i]);
        for (size_t i = 0; rels && i < r; i++) eg_ps_value_free(&rels[i]);
        free(nodes);
        free(rels);
        free(ids);
        eg_node_list_free(&full);
    }
    eg_path_clear(&path);
    return ok;
}

static bool shortest_part(matcher *m);

/* ---- parts ---- */

static size_t anchor_score(const matcher *m, const cy_node_pattern *np) {
    long column = column_of(m, np->variable);
    if (column >= 0 && m->assigned[column]) return 3;
    if (np->properties && np->properties->kind == CY_EXPR_PARAMETER) return 2;
    if (id_hint(m, m->clause->where, np->variable)) return 2;
    if (np->properties && np->properties->kind == CY_EXPR_MAP)
        for (size_t i = 0; i < np->properties->count; i++)
            if (strcmp(np->properties->keys[i], "id") == 0) return 2;
    return np->label_count ? 1 : 0;
}

static bool check_part(cy_run *run, const cy_pattern_part *part) {
    for (size_t i = 0; i <= part->rel_count; i++)
        if (part->nodes[i].label_count > 1)
            return cy_fail(run, CY_SYNTAX_ERROR,
                           "a node pattern with more than one label (line %u, column %u): an engram node has exactly "
                           "one label",
                           part->nodes[i].at.line, part->nodes[i].at.column);
    if (part->function != CY_PATH_PLAIN) return check_shortest(run, part);
    for (size_t i = 0; i < part->rel_count; i++)
        if (part->rels[i].variable_length)
            return cy_fail(run, CY_SYNTAX_ERROR,
                           "variable-length relationship patterns (line %u, column %u) are supported only inside "
                           "shortestPath((a)-[*..N]-(b)) by engram",
                           part->rels[i].at.line, part->rels[i].at.column);
    return true;
}

static bool match_part(matcher *outer_state, size_t index);

static bool next_part(matcher *m) {
    if (m->part_index + 1 < m->clause->pattern.count) return match_part(m, m->part_index + 1);
    return emit(m);
}

static bool match_part(matcher *previous, size_t index) {
    const cy_pattern_part *part = &previous->clause->pattern.parts[index];
    cy_run *run = previous->run;
    matcher m = *previous;
    m.outer = previous;
    m.collect = NULL;
    m.part_index = index;
    m.part = part;
    m.prefetched = NULL;
    m.used = NULL;
    m.used_count = m.used_capacity = 0;
    size_t positions = part->rel_count + 1;
    m.steps = calloc(positions, sizeof *m.steps);
    m.nodes = calloc(positions, sizeof *m.nodes);
    m.rels = calloc(positions, sizeof *m.rels);
    m.node_at = calloc(positions, sizeof *m.node_at);
    m.rel_at = calloc(positions, sizeof *m.rel_at);
    bool ok = m.steps && m.nodes && m.rels && m.node_at && m.rel_at ? true : cy_out_of_memory(run);
    if (ok && part->function != CY_PATH_PLAIN) {
        ok = shortest_part(&m);
    } else if (ok) {
        size_t anchor = 0, best = 0;
        for (size_t i = 0; i < positions; i++) {
            size_t score = anchor_score(&m, &part->nodes[i]);
            if (score > best) {
                best = score;
                anchor = i;
            }
        }
        size_t k = 0;
        m.steps[k++] = (search_step){.node = anchor};
        for (size_t i = anchor + 1; i < positions; i++)
            m.steps[k++] = (search_step){.node = i, .rel = i - 1, .forward = true};
        for (size_t i = anchor; i-- > 0;) m.steps[k++] = (search_step){.node = i, .rel = i, .forward = false};
        ok = search(&m, 0);
    }
    free(m.steps);
    free(m.nodes);
    free(m.rels);
    free(m.node_at);
    free(m.rel_at);
    previous->emitted = m.emitted;
    return ok;
}

/* shortestPath: the candidates of each end are found as anchors are (bound, by id, by label, by scan), each end
 * searched as a one-node part of its own, then find_path runs for every pair. */
static bool shortest_part(matcher *m) {
    const cy_pattern_part *part = m->part;
    eg_ps_value ends[2] = {cy_null(), cy_null()};
    bool ok = true;
    for (int e = 0; ok && e < 2; e++) {
        cy_pattern_part end_part = {.at = part->at, .nodes = &part->nodes[e], .rel_count = 0};
        search_step step = {.node = 0};
        eg_ps_value slot = cy_null();
        const eg_ps_value *slot_at = NULL;
        matcher end = *m;
        end.part = &end_part;
        end.steps = &step;
        end.nodes = &slot;
        end.node_at = &slot_at;
        end.rels = NULL;
        end.rel_at = NULL;
        end.collect = &ends[e];
        ok = cy_list(m->run, 0, &ends[e]) && search_anchor(&end);
    }
    const cy_node_pattern *source_pattern = &part->nodes[0], *target_pattern = &part->nodes[1];
    for (size_t i = 0; ok && i < ends[0].as.list.count; i++) {
        const eg_ps_value *source = &ends[0].as.list.items[i];
        bool bound_source;
        ok = bind(m, source_pattern->variable, source, &bound_source);
        for (size_t j = 0; ok && j < ends[1].as.list.count; j++) {
            const eg_ps_value *target = &ends[1].as.list.items[j];
            bool bound_target;
            ok = bind(m, target_pattern->variable, target, &bound_target) && shortest_between(m, source, target);
            unbind(m, target_pattern->variable, bound_target);
        }
        unbind(m, source_pattern->variable, bound_source);
    }
    eg_ps_value_free(&ends[0]);
    eg_ps_value_free(&ends[1]);
    return ok;
}

/* ---- paths ---- */

static long index_of(const eg_ps_value *list, const char *element_id) {
    for (size_t i = 0; i < list->as.list.count; i++)
        if (strcmp(cy_element_id(&list->as.list.items[i]), element_id) == 0) return (long)i;
    return -1;
}

/* An UnboundRelationship from a Relationship value: id, type, properties, element_id. */
static bool unbound_relationship(cy_run *run, const eg_ps_value *rel, eg_ps_value *out) {
    if (!cy_list(run, 4, out)) return false;
    out->kind = EG_PS_STRUCT;
    out->as.list.tag = CY_TAG_UNBOUND_REL;
    out->as.list.items[0] = rel->as.list.items[0];
    bool ok = cy_copy(run, &rel->as.list.items[3], &out->as.list.items[1]) &&
              cy_copy(run, &rel->as.list.items[4], &out->as.list.items[2]) &&
              cy_copy(run, &rel->as.list.items[5], &out->as.list.items[3]);
    if (!ok) eg_ps_value_free(out);
    return ok;
}

/* Bolt's Path: the distinct nodes, the distinct relationships (unbound), and indices: for each step the
 * relationship's 1-based index (negative when walked against its direction) and the next node's index. Unbound
 * relationships carry no ends, so the list of relationships keeps their element ids for the lookup. */
bool cy_path_value(cy_run *run, const eg_ps_value *nodes, const eg_ps_value *rels, size_t rel_count, eg_ps_value *out) {
    if (!cy_list(run, 3, out)) return false;
    out->kind = EG_PS_STRUCT;
    out->as.list.tag = CY_TAG_PATH;
    eg_ps_value *node_list = &out->as.list.items[0], *rel_list = &out->as.list.items[1],
                *indices = &out->as.list.items[2];
    eg_ps_value full_rels = cy_null();
    bool ok = cy_list(run, 0, node_list) && cy_list(run, 0, rel_list) && cy_list(run, 0, indices) &&
              cy_list(run, 0, &full_rels);
    for (size_t i = 0; ok && i <= rel_count; i++) {
        if (index_of(node_list, cy_element_id(&nodes[i])) >= 0) continue;
        eg_ps_value copy;
        ok = cy_copy(run, &nodes[i], &copy) && cy_list_push(run, node_list, &copy);
    }
    for (size_t i = 0; ok && i < rel_count; i++) {
        long r = index_of(&full_rels, cy_element_id(&rels[i]));
        if (r < 0) {
            eg_ps_value copy, unbound;
            r = (long)full_rels.as.list.count;
            ok = cy_copy(run, &rels[i], &copy) && cy_list_push(run, &full_rels, &copy) &&
                 unbound_relationship(run, &rels[i], &unbound) && cy_list_push(run, rel_list, &unbound);
            if (!ok) break;
        }
        const char *source, *type, *target;
        cy_relationship_ends(&rels[i], &source, &type, &target);
        bool along = strcmp(source, cy_element_id(&nodes[i])) == 0;
        eg_ps_value rel_index = cy_int(along ? r + 1 : -(r + 1));
        eg_ps_value node_index = cy_int(index_of(node_list, cy_element_id(&nodes[i + 1])));
        ok = cy_list_push(run, indices, &rel_index) && cy_list_push(run, indices, &node_index);
    }
    eg_ps_value_free(&full_rels);
    if (!ok) eg_ps_value_free(out);
    return ok;
}

/* ---- the clause ---- */

bool cy_scope_add_pattern(cy_run *run, const cy_pattern *pattern, const char ***names, size_t *width) {
    for (size_t p = 0; p < pattern->count; p++) {
        const cy_pattern_part *part = &pattern->parts[p];
        for (size_t i = 0; i <= part->rel_count; i++) {
            if (part->nodes[i].variable && !cy_scope_add(run, names, width, part->nodes[i].variable)) return false;
            if (i < part->rel_count && part->rels[i].variable &&
                !cy_scope_add(run, names, width, part->rels[i].variable))
                return false;
        }
        if (part->path_variable && !cy_scope_add(run, names, width, part->path_variable)) return false;
    }
    return true;
}

bool cy_match(cy_run *run, const cy_clause *clause, cy_table *table) {
    for (size_t p = 0; p < clause->pattern.count; p++)
        if (!check_part(run, &clause->pattern.parts[p])) return false;
    const char **names = malloc((table->width + 1) * sizeof *names);
    if (!names) return cy_out_of_memory(run);
    if (table->width) memcpy(names, table->names, table->width * sizeof *names);
    size_t width = table->width;
    if (!cy_scope_add_pattern(run, &clause->pattern, &names, &width)) {
        free(names);
        return false;
    }
    cy_table out;
    cy_table_init(&out, names, width);
    bool *assigned = calloc(width ? width : 1, sizeof *assigned);
    bool ok = assigned ? true : cy_out_of_memory(run);
    for (size_t r = 0; ok && r < table->count; r++) {
        eg_ps_value *row = cy_row_widen(run, table->rows[r], table->width, width);
        if (!row) {
            ok = false;
            break;
        }
        for (size_t c = 0; c < width; c++) assigned[c] = c < table->width;
        matcher root = {.run = run, .clause = clause, .row = row, .assigned = assigned, .out = &out};
        root.env = (cy_env){.run = run, .names = names, .width = width, .row = row};
        ok = match_part(&root, 0);
        free(root.used);
        if (ok && root.emitted == 0 && clause->optional) {
            /* OPTIONAL MATCH keeps the row, its new variables null. */
            for (size_t c = table->width; c < width; c++) eg_ps_value_free(&row[c]);
            ok = cy_table_add(run, &out, row);
            row = NULL;
        }
        if (row) cy_row_free(row, width);
    }
    free(assigned);
    if (!ok) {
        cy_table_free(&out);
        return false;
    }
    cy_table_free(table);
    *table = out;
    return true;
}
