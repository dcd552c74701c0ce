/* check.c — what is refused before a statement runs, whatever the data: a clause order Cypher does not allow,
 * constructs outside engram's subset that the text shows (unknown functions, =~, pattern expressions), and
 * variables used where they are not defined. Checking first matters because a statement over no rows would
 * otherwise succeed with an empty result where Neo4j refuses it. */
#include "cypher/executor_internal.h"

#include <stdlib.h>
#include <string.h>

/* The variables in scope at a point of the statement (names borrowed from the tree). */
typedef struct scope {
    const char **names;
    size_t count, capacity;
} scope;

static bool scope_add(cy_run *run, scope *s, const char *name) {
    if (!name) return true;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->names[i], name) == 0) return true;
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 8;
        const char **names = realloc(s->names, capacity * sizeof *names);
        if (!names) return cy_out_of_memory(run);
        s->names = names;
        s->capacity = capacity;
    }
    s->names[s->count++] = name;
    return true;
}

static bool scope_has(const scope *s, const cy_local *locals, const char *name) {
    for (const cy_local *l = locals; l; l = l->next)
        if (strcmp(l->name, name) == 0) return true;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->names[i], name) == 0) return true;
    return false;
}

static bool check_expression(cy_run *run, const scope *s, const cy_local *locals, const cy_expr *e) {
    if (!e) return true;
    switch (e->kind) {
    case CY_EXPR_VARIABLE:
        if (scope_has(s, locals, e->name)) return true;
        return cy_fail(run, CY_SYNTAX_ERROR, "Variable `%s` not defined (line %u, column %u)", e->name, e->at.line,
                       e->at.column);
    case CY_EXPR_CALL:
        if (!cy_function_known(e->name)) return cy_unknown_function(run, e);
        break;
    case CY_EXPR_BINARY:
        if (e->op == CY_OP_REGEX)
            return cy_fail(run, CY_SYNTAX_ERROR,
                           "regular expressions (=~) are not supported by engram (line %u, column %u); use STARTS "
                           "WITH, ENDS WITH or CONTAINS",
                           e->at.line, e->at.column);
        break;
    case CY_EXPR_PATTERN:
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "pattern expressions (line %u, column %u) are not supported by engram; match the pattern with "
                       "MATCH or OPTIONAL MATCH instead",
                       e->at.line, e->at.column);
    case CY_EXPR_COMPREHENSION: {
        /* The comprehension's variable is defined in its WHERE and projection only. */
        cy_local inner = {e->name, NULL, locals};
        return check_expression(run, s, locals, e->operand) && check_expression(run, s, &inner, e->filter) &&
               check_expression(run, s, &inner, e->projection);
    }
    default: break;
    }
    for (size_t i = 0; e->items && i < e->count; i++)
        if (!check_expression(run, s, locals, e->items[i])) return false;
    return check_expression(run, s, locals, e->operand) && check_expression(run, s, locals, e->left) &&
           check_expression(run, s, locals, e->right) && check_expression(run, s, locals, e->filter) &&
           check_expression(run, s, locals, e->projection) && check_expression(run, s, locals, e->otherwise);
}

/* Adds the pattern's variables to s, then checks its property maps (which may read them). */
static bool check_pattern(cy_run *run, scope *s, const cy_pattern *pattern) {
    size_t nodes = 0;
    for (size_t p = 0; p < pattern->count; p++) nodes += pattern->parts[p].rel_count + 1;
    if (nodes > CY_MAX_PATTERN_NODES)
        return cy_fail(run, CY_ARGUMENT_ERROR, "a pattern of %zu nodes: engram takes at most %d in one clause", nodes,
                       CY_MAX_PATTERN_NODES);
    for (size_t p = 0; p < pattern->count; p++) {
        const cy_pattern_part *part = &pattern->parts[p];
        for (size_t i = 0; i <= part->rel_count; i++)
            if (!scope_add(run, s, part->nodes[i].variable) ||
                (i < part->rel_count && !scope_add(run, s, part->rels[i].variable)))
                return false;
        if (!scope_add(run, s, part->path_variable)) return false;
    }
    for (size_t p = 0; p < pattern->count; p++) {
        const cy_pattern_part *part = &pattern->parts[p];
        for (size_t i = 0; i <= part->rel_count; i++)
            if (!check_expression(run, s, NULL, part->nodes[i].properties) ||
                (i < part->rel_count && !check_expression(run, s, NULL, part->rels[i].properties)))
                return false;
    }
    return true;
}

static bool check_set_list(cy_run *run, const scope *s, const cy_set_list *set) {
    for (size_t i = 0; i < set->count; i++) {
        const cy_set_item *item = &set->items[i];
        if (item->variable && !scope_has(s, NULL, item->variable))
            return cy_fail(run, CY_SYNTAX_ERROR, "Variable `%s` not defined (line %u, column %u)", item->variable,
                           item->at.line, item->at.column);
        if (!check_expression(run, s, NULL, item->target) || !check_expression(run, s, NULL, item->value)) return false;
    }
    return true;
}

/* RETURN / WITH: items over the incoming scope; ORDER BY over the projected names and the incoming scope; WITH's
 * WHERE over the projected names. *s becomes the projected scope. */
static bool check_projection(cy_run *run, scope *s, const cy_projection *p) {
    scope projected = {0};
    bool ok = true;
    if (p->star)
        for (size_t i = 0; ok && i < s->count; i++) ok = scope_add(run, &projected, s->names[i]);
    for (size_t i = 0; ok && i < p->count; i++) {
        const cy_projection_item *item = &p->items[i];
        ok = check_expression(run, s, NULL, item->expression);
        const char *name = item->alias                                  ? item->alias
                           : item->expression->kind == CY_EXPR_VARIABLE ? item->expression->name
                                                                        : item->text;
        if (ok) ok = scope_add(run, &projected, name);
    }
    scope both = {0};
    for (size_t i = 0; ok && i < projected.count; i++) ok = scope_add(run, &both, projected.names[i]);
    for (size_t i = 0; ok && i < s->count; i++) ok = scope_add(run, &both, s->names[i]);
    for (size_t i = 0; ok && i < p->order_count; i++) ok = check_expression(run, &both, NULL, p->order[i].expression);
    scope none = {0};
    ok = ok && check_expression(run, &none, NULL, p->skip) && check_expression(run, &none, NULL, p->limit) &&
         check_expression(run, &projected, NULL, p->where);
    free(both.names);
    free(s->names);
    *s = projected;
    return ok;
}

static bool check_clause(cy_run *run, scope *s, const cy_clause *c) {
    switch (c->kind) {
    case CY_CLAUSE_MATCH: return check_pattern(run, s, &c->pattern) && check_expression(run, s, NULL, c->where);
    case CY_CLAUSE_UNWIND: return check_expression(run, s, NULL, c->expression) && scope_add(run, s, c->variable);
    case CY_CLAUSE_WITH:
    case CY_CLAUSE_RETURN: return check_projection(run, s, &c->projection);
    case CY_CLAUSE_CREATE: return check_pattern(run, s, &c->pattern);
    case CY_CLAUSE_MERGE:
        return check_pattern(run, s, &c->pattern) && check_set_list(run, s, &c->on_create) &&
               check_set_list(run, s, &c->on_match);
    case CY_CLAUSE_SET:
    case CY_CLAUSE_REMOVE: return check_set_list(run, s, &c->set);
    case CY_CLAUSE_DELETE:
    case CY_CLAUSE_CALL:
        for (size_t i = 0; i < c->expression_count; i++)
            if (!check_expression(run, s, NULL, c->expressions[i])) return false;
        return true;
    }
    return true;
}

static bool check_clause_order(cy_run *run, const cy_statement *st) {
    if (st->clause_count == 0) return cy_fail(run, CY_SYNTAX_ERROR, "an empty statement");
    for (size_t i = 0; i + 1 < st->clause_count; i++)
        if (st->clauses[i].kind == CY_CLAUSE_RETURN)
            return cy_fail(run, CY_SYNTAX_ERROR, "RETURN can only be used at the end of the query (line %u, column %u)",
                           st->clauses[i].at.line, st->clauses[i].at.column);
    const cy_clause *last = &st->clauses[st->clause_count - 1];
    if (last->kind != CY_CLAUSE_RETURN && !cy_is_update_clause(last->kind) && last->kind != CY_CLAUSE_CALL)
        return cy_fail(run, CY_SYNTAX_ERROR,
                       "Query cannot conclude with %s (must be a RETURN clause or an update clause)",
                       last->kind == CY_CLAUSE_MATCH    ? "MATCH"
                       : last->kind == CY_CLAUSE_WITH   ? "WITH"
                       : last->kind == CY_CLAUSE_UNWIND ? "UNWIND"
                                                        : "this clause");
    return true;
}

bool cy_check_statement(cy_run *run, const cy_statement *statement) {
    if (!check_clause_order(run, statement)) return false;
    scope s = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < statement->clause_count; i++) ok = check_clause(run, &s, &statement->clauses[i]);
    free(s.names);
    return ok;
}
