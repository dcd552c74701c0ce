/* clauses.c — a query: its clauses in order (MATCH, OPTIONAL MATCH, UNWIND, WITH, RETURN, CREATE, MERGE, SET,
 * REMOVE, DELETE, CALL), the RETURN/WITH projection with its ORDER BY, SKIP, LIMIT and WHERE, and SET/REMOVE
 * items. Also the rules on the order of clauses that Neo4j reports as syntax errors: RETURN only last, and no
 * query ending in a reading clause. */
#include "cypher/parser_internal.h"

#include <string.h>

#define CLAUSES "a clause (MATCH, OPTIONAL MATCH, UNWIND, WITH, RETURN, CREATE, MERGE, SET, REMOVE, DELETE, CALL)"

/* Clauses and forms Neo4j has and engram's subset does not: named in the refusal instead of a bare "expected". */
static const char *const unsupported_clauses[] = {"UNION", "FOREACH", "LOAD", "USE", "FINISH", "EXPLAIN",
                                                  "PROFILE"};

static const char *name_of(cy_clause_kind kind, bool optional) {
    switch (kind) {
    case CY_CLAUSE_MATCH: return optional ? "OPTIONAL MATCH" : "MATCH";
    case CY_CLAUSE_UNWIND: return "UNWIND";
    case CY_CLAUSE_WITH: return "WITH";
    case CY_CLAUSE_RETURN: return "RETURN";
    case CY_CLAUSE_CREATE: return "CREATE";
    case CY_CLAUSE_MERGE: return "MERGE";
    case CY_CLAUSE_SET: return "SET";
    case CY_CLAUSE_REMOVE: return "REMOVE";
    case CY_CLAUSE_DELETE: return "DELETE";
    case CY_CLAUSE_CALL: return "CALL";
    }
    return "?";
}

/* Whether t can begin an expression, for the refusal of an empty RETURN or WITH: not the end, and not a
 * reserved word other than those that start expressions themselves. */
static bool starts_expression(const cy_token *t) {
    if (t->kind == CY_TOKEN_END || t->kind == CY_TOKEN_SEMICOLON) return false;
    if (!cy_is_reserved(t)) return true;
    return cy_is_keyword(t, "TRUE") || cy_is_keyword(t, "FALSE") || cy_is_keyword(t, "NULL") ||
           cy_is_keyword(t, "CASE") || cy_is_keyword(t, "NOT");
}

static bool is_clause_start(const cy_token *t) {
    static const char *const starts[] = {"MATCH", "OPTIONAL", "UNWIND", "WITH",   "RETURN", "CREATE",
                                         "MERGE", "SET",      "REMOVE", "DELETE", "DETACH", "CALL"};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (cy_is_keyword(t, starts[i])) return true;
    return false;
}

/* Refuses a clause Neo4j has and the subset does not, by name. */
static void refuse_unsupported_clause(cy_parser *p, const cy_token *t) {
    for (size_t i = 0; i < sizeof unsupported_clauses / sizeof unsupported_clauses[0]; i++)
        if (cy_is_keyword(t, unsupported_clauses[i]))
            cy_fail_at(p, t->at, "%s is not supported by engram's Cypher: expected %s", unsupported_clauses[i],
                       CLAUSES);
}

/* expression [AS alias], the column's text being the expression as written. */
static cy_projection_item parse_projection_item(cy_parser *p) {
    size_t start = cy_peek(p, 0)->at.offset;
    cy_projection_item item = {.expression = cy_parse_expression(p)};
    if (cy_accept_keyword(p, "AS")) {
        item.alias = cy_expect_name(p, "a name after AS");
    } else {
        item.text = cy_strndup(p, p->text + start, p->previous_end - start);
    }
    return item;
}

static void parse_order_by(cy_parser *p, cy_projection *projection) {
    size_t capacity = 0;
    do {
        cy_sort_item item = {.expression = cy_parse_expression(p)};
        if (cy_accept_keyword(p, "DESC") || cy_accept_keyword(p, "DESCENDING"))
            item.descending = true;
        else if (!cy_accept_keyword(p, "ASC"))
            cy_accept_keyword(p, "ASCENDING");
        CY_PUSH(p, projection->order, projection->order_count, capacity, item);
    } while (cy_accept(p, CY_TOKEN_COMMA));
}

/* [DISTINCT] (* | item) {, item} [ORDER BY ...] [SKIP e] [LIMIT e] [WHERE e (WITH only)]. */
static void parse_projection(cy_parser *p, cy_projection *projection, bool with) {
    projection->distinct = cy_accept_keyword(p, "DISTINCT");
    size_t capacity = 0;
    bool more = true;
    if (cy_accept(p, CY_TOKEN_STAR)) {
        projection->star = true;
        more = cy_accept(p, CY_TOKEN_COMMA);
    }
    if (more) {
        if (!starts_expression(cy_peek(p, 0)))
            cy_fail_expected(p, with ? "an expression, '*' or DISTINCT after WITH"
                                     : "an expression, '*' or DISTINCT after RETURN");
        do {
            CY_PUSH(p, projection->items, projection->count, capacity, parse_projection_item(p));
        } while (cy_accept(p, CY_TOKEN_COMMA));
    }
    if (cy_accept_keyword(p, "ORDER")) {
        cy_expect_keyword(p, "BY");
        parse_order_by(p, projection);
    }
    if (cy_accept_keyword(p, "SKIP")) projection->skip = cy_parse_expression(p);
    if (cy_accept_keyword(p, "LIMIT")) projection->limit = cy_parse_expression(p);
    if (with && cy_accept_keyword(p, "WHERE")) projection->where = cy_parse_expression(p);
}

static const char **parse_labels(cy_parser *p, size_t *count) {
    const char **labels = NULL;
    size_t capacity = 0;
    while (cy_accept(p, CY_TOKEN_COLON)) CY_PUSH(p, labels, *count, capacity, cy_expect_name(p, "a label name"));
    return labels;
}

/* One SET item: n:L, n = e, n += e or target.name = e. */
static cy_set_item parse_set_item(cy_parser *p) {
    cy_set_item item = {.at = cy_peek(p, 0)->at};
    if (cy_peek_name(p, 0)) {
        cy_token_kind next = cy_peek(p, 1)->kind;
        if (next == CY_TOKEN_COLON || next == CY_TOKEN_EQ || next == CY_TOKEN_PLUS_EQ) {
            item.variable = cy_take(p).text;
            if (next == CY_TOKEN_COLON) {
                item.kind = CY_SET_LABELS;
                item.labels = parse_labels(p, &item.label_count);
            } else {
                cy_take(p);
                item.kind = next == CY_TOKEN_EQ ? CY_SET_REPLACE : CY_SET_MERGE;
                item.value = cy_parse_expression(p);
            }
            return item;
        }
    }
    cy_expr *target = cy_parse_postfix_expression(p, false);
    if (target->kind != CY_EXPR_PROPERTY)
        cy_fail_expected(p, "'.' and a property name, '=', '+=' or ':' in a SET item");
    cy_expect(p, CY_TOKEN_EQ, "'='");
    item.kind = CY_SET_PROPERTY;
    item.target = target->operand;
    item.name = target->name;
    item.value = cy_parse_expression(p);
    return item;
}

static cy_set_item parse_remove_item(cy_parser *p) {
    cy_set_item item = {.at = cy_peek(p, 0)->at};
    if (cy_peek_name(p, 0) && cy_peek(p, 1)->kind == CY_TOKEN_COLON) {
        item.kind = CY_REMOVE_LABELS;
        item.variable = cy_take(p).text;
        item.labels = parse_labels(p, &item.label_count);
        return item;
    }
    cy_expr *target = cy_parse_postfix_expression(p, false);
    if (target->kind != CY_EXPR_PROPERTY) cy_fail_expected(p, "'.' and a property name or ':' in a REMOVE item");
    item.kind = CY_REMOVE_PROPERTY;
    item.target = target->operand;
    item.name = target->name;
    return item;
}

static void parse_set_list(cy_parser *p, cy_set_list *list, bool remove) {
    size_t capacity = list->count; /* a second ON CREATE SET adds to the first: the next push copies */
    do {
        CY_PUSH(p, list->items, list->count, capacity, remove ? parse_remove_item(p) : parse_set_item(p));
    } while (cy_accept(p, CY_TOKEN_COMMA));
}

/* MERGE part [ON CREATE SET ... | ON MATCH SET ...]*: repeated ONs of one kind add to the same list. */
static void parse_merge(cy_parser *p, cy_clause *clause) {
    clause->pattern.parts = cy_alloc(p, sizeof *clause->pattern.parts);
    clause->pattern.count = 1;
    cy_parse_pattern_part(p, clause->pattern.parts);
    while (cy_accept_keyword(p, "ON")) {
        bool on_create = cy_accept_keyword(p, "CREATE");
        if (!on_create && !cy_accept_keyword(p, "MATCH")) cy_fail_expected(p, "CREATE or MATCH after ON");
        cy_expect_keyword(p, "SET");
        parse_set_list(p, on_create ? &clause->on_create : &clause->on_match, false);
    }
}

/* CALL name.space.proc[(arguments)] [YIELD * | YIELD name [AS alias], ... [WHERE e]]: kept only as far as the
 * executor needs to refuse it by name; the YIELD list is checked and dropped. */
static void parse_call(cy_parser *p, cy_clause *clause) {
    if (cy_peek(p, 0)->kind == CY_TOKEN_LBRACE) cy_fail_at(p, cy_peek(p, 0)->at, "CALL subqueries are not supported");
    size_t start = cy_peek(p, 0)->at.offset;
    cy_expect_name(p, "a procedure name");
    while (cy_accept(p, CY_TOKEN_DOT)) cy_expect_name(p, "a procedure name after '.'");
    clause->variable = cy_strndup(p, p->text + start, p->previous_end - start);
    size_t capacity = 0;
    if (cy_accept(p, CY_TOKEN_LPAREN) && !cy_accept(p, CY_TOKEN_RPAREN)) {
        do {
            CY_PUSH(p, clause->expressions, clause->expression_count, capacity, cy_parse_expression(p));
        } while (cy_accept(p, CY_TOKEN_COMMA));
        cy_expect(p, CY_TOKEN_RPAREN, "',' or ')'");
    }
    if (!cy_accept_keyword(p, "YIELD") || cy_accept(p, CY_TOKEN_STAR)) return;
    do {
        cy_expect_name(p, "a result field name after YIELD");
        if (cy_accept_keyword(p, "AS")) cy_expect_name(p, "a name after AS");
    } while (cy_accept(p, CY_TOKEN_COMMA));
    if (cy_accept_keyword(p, "WHERE")) clause->where = cy_parse_expression(p);
}

static cy_clause parse_clause(cy_parser *p) {
    const cy_token *t = cy_peek(p, 0);
    cy_clause clause = {.at = t->at};
    if (cy_accept_keyword(p, "OPTIONAL")) {
        cy_expect_keyword(p, "MATCH");
        clause.optional = true;
        clause.kind = CY_CLAUSE_MATCH;
    } else if (cy_accept_keyword(p, "MATCH")) {
        clause.kind = CY_CLAUSE_MATCH;
    } else if (cy_accept_keyword(p, "UNWIND")) {
        clause.kind = CY_CLAUSE_UNWIND;
        clause.expression = cy_parse_expression(p);
        cy_expect_keyword(p, "AS");
        clause.variable = cy_expect_name(p, "a variable name after AS");
        return clause;
    } else if (cy_accept_keyword(p, "WITH")) {
        clause.kind = CY_CLAUSE_WITH;
        parse_projection(p, &clause.projection, true);
        return clause;
    } else if (cy_accept_keyword(p, "RETURN")) {
        clause.kind = CY_CLAUSE_RETURN;
        parse_projection(p, &clause.projection, false);
        return clause;
    } else if (cy_accept_keyword(p, "CREATE")) {
        clause.kind = CY_CLAUSE_CREATE;
        cy_parse_pattern(p, &clause.pattern);
        return clause;
    } else if (cy_accept_keyword(p, "MERGE")) {
        clause.kind = CY_CLAUSE_MERGE;
        parse_merge(p, &clause);
        return clause;
    } else if (cy_accept_keyword(p, "SET")) {
        clause.kind = CY_CLAUSE_SET;
        parse_set_list(p, &clause.set, false);
        return clause;
    } else if (cy_accept_keyword(p, "REMOVE")) {
        clause.kind = CY_CLAUSE_REMOVE;
        parse_set_list(p, &clause.set, true);
        return clause;
    } else if (cy_peek_keyword(p, 0, "DETACH") || cy_peek_keyword(p, 0, "DELETE")) {
        clause.kind = CY_CLAUSE_DELETE;
        clause.detach = cy_accept_keyword(p, "DETACH");
        cy_expect_keyword(p, "DELETE");
        size_t capacity = 0;
        do {
            CY_PUSH(p, clause.expressions, clause.expression_count, capacity, cy_parse_expression(p));
        } while (cy_accept(p, CY_TOKEN_COMMA));
        return clause;
    } else if (cy_accept_keyword(p, "CALL")) {
        clause.kind = CY_CLAUSE_CALL;
        parse_call(p, &clause);
        return clause;
    } else {
        refuse_unsupported_clause(p, t);
        cy_fail_expected(p, CLAUSES);
    }
    cy_parse_pattern(p, &clause.pattern);
    if (cy_accept_keyword(p, "WHERE")) clause.where = cy_parse_expression(p);
    return clause;
}

void cy_parse_query(cy_parser *p, cy_statement *statement) {
    statement->kind = CY_STATEMENT_QUERY;
    size_t capacity = 0;
    for (;;) {
        CY_PUSH(p, statement->clauses, statement->clause_count, capacity, parse_clause(p));
        const cy_token *next = cy_peek(p, 0);
        if (next->kind == CY_TOKEN_END || next->kind == CY_TOKEN_SEMICOLON) break;
        if (statement->clauses[statement->clause_count - 1].kind == CY_CLAUSE_RETURN) {
            refuse_unsupported_clause(p, next);
            if (is_clause_start(next))
                cy_fail_at(p, statement->clauses[statement->clause_count - 1].at,
                           "RETURN can only be used at the end of the query");
            return; /* cy_parse refuses what follows as not the end of the statement */
        }
    }
    const cy_clause *last = &statement->clauses[statement->clause_count - 1];
    if (last->kind == CY_CLAUSE_MATCH || last->kind == CY_CLAUSE_UNWIND || last->kind == CY_CLAUSE_WITH)
        cy_fail_at(p, last->at,
                   "Query cannot conclude with %s (must be a RETURN clause, an update clause or a procedure call)",
                   name_of(last->kind, last->optional));
}
