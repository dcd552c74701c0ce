/* expression.c — Cypher expressions by precedence climbing, loosest first: OR, XOR, AND, NOT, comparisons
 * (= <> < <= > >=), the predicates (IN, STARTS WITH, ENDS WITH, CONTAINS, =~, IS [NOT] NULL), + -, * / %, ^,
 * unary - +, then the postfix forms (.property, [index], [from..to], :Label) on an atom: a literal, a parameter,
 * a variable, a list or map, a list comprehension, a function call (count(*), count(DISTINCT x), dotted names,
 * the list predicates any/all/none/single(x IN list WHERE p)),
 * CASE, a parenthesised expression, or shortestPath(...) as a value. Binary operators associate to the left,
 * ^ included, as in Neo4j. */
#include "cypher/parser_internal.h"

#include <string.h>
#include <strings.h>

#define EXPRESSION "an expression"

static cy_expr *new_expr(cy_parser *p, cy_expr_kind kind, cy_position at) {
    cy_expr *e = cy_alloc(p, sizeof *e);
    e->kind = kind;
    e->at = at;
    return e;
}

static cy_expr *binary(cy_parser *p, cy_operator op, cy_position at, cy_expr *left, cy_expr *right) {
    cy_expr *e = new_expr(p, CY_EXPR_BINARY, at);
    e->op = op;
    e->left = left;
    e->right = right;
    return e;
}

static cy_expr *parse_not(cy_parser *p);
static cy_expr *parse_unary(cy_parser *p);

/* ---- the loosest levels: OR, XOR, AND, NOT ---- */

static cy_expr *parse_and(cy_parser *p) {
    cy_expr *left = parse_not(p);
    while (cy_peek_keyword(p, 0, "AND")) {
        cy_position at = cy_take(p).at;
        left = binary(p, CY_OP_AND, at, left, parse_not(p));
    }
    return left;
}

static cy_expr *parse_xor(cy_parser *p) {
    cy_expr *left = parse_and(p);
    while (cy_peek_keyword(p, 0, "XOR")) {
        cy_position at = cy_take(p).at;
        left = binary(p, CY_OP_XOR, at, left, parse_and(p));
    }
    return left;
}

cy_expr *cy_parse_expression(cy_parser *p) {
    cy_enter(p);
    cy_expr *left = parse_xor(p);
    while (cy_peek_keyword(p, 0, "OR")) {
        cy_position at = cy_take(p).at;
        left = binary(p, CY_OP_OR, at, left, parse_xor(p));
    }
    cy_leave(p);
    return left;
}

/* ---- comparisons and predicates ---- */

static cy_expr *parse_additive(cy_parser *p);

static cy_expr *parse_predicate(cy_parser *p) {
    cy_expr *left = parse_additive(p);
    for (;;) {
        const cy_token *t = cy_peek(p, 0);
        cy_position at = t->at;
        cy_operator op;
        if (cy_is_keyword(t, "IS")) {
            cy_take(p);
            cy_expr *e = new_expr(p, CY_EXPR_IS_NULL, at);
            e->negated = cy_accept_keyword(p, "NOT");
            if (!cy_accept_keyword(p, "NULL")) cy_fail_expected(p, e->negated ? "NULL" : "NULL or NOT NULL");
            e->operand = left;
            left = e;
            continue;
        }
        if (cy_is_keyword(t, "STARTS") || cy_is_keyword(t, "ENDS")) {
            op = cy_is_keyword(t, "STARTS") ? CY_OP_STARTS_WITH : CY_OP_ENDS_WITH;
            cy_take(p);
            cy_expect_keyword(p, "WITH");
        } else if (cy_is_keyword(t, "CONTAINS")) {
            op = CY_OP_CONTAINS;
            cy_take(p);
        } else if (cy_is_keyword(t, "IN")) {
            op = CY_OP_IN;
            cy_take(p);
        } else if (t->kind == CY_TOKEN_REGEX) {
            op = CY_OP_REGEX;
            cy_take(p);
        } else {
            return left;
        }
        left = binary(p, op, at, left, parse_additive(p));
    }
}

static cy_expr *parse_comparison(cy_parser *p) {
    cy_expr *left = parse_predicate(p);
    for (;;) {
        const cy_token *t = cy_peek(p, 0);
        cy_operator op;
        switch (t->kind) {
        case CY_TOKEN_EQ: op = CY_OP_EQ; break;
        case CY_TOKEN_NE: op = CY_OP_NE; break;
        case CY_TOKEN_LT: op = CY_OP_LT; break;
        case CY_TOKEN_LE: op = CY_OP_LE; break;
        case CY_TOKEN_GT: op = CY_OP_GT; break;
        case CY_TOKEN_GE: op = CY_OP_GE; break;
        case CY_TOKEN_BANG_EQ:
            cy_fail_at(p, t->at, "Unknown operation '!=' (you probably meant to use '<>', which is the operator "
                                 "for inequality testing)");
        default: return left;
        }
        cy_position at = cy_take(p).at;
        left = binary(p, op, at, left, parse_predicate(p));
    }
}

static cy_expr *parse_not(cy_parser *p) {
    if (!cy_peek_keyword(p, 0, "NOT")) return parse_comparison(p);
    cy_expr *e = new_expr(p, CY_EXPR_UNARY, cy_take(p).at);
    e->op = CY_OP_NOT;
    cy_enter(p);
    e->operand = parse_not(p);
    cy_leave(p);
    return e;
}

/* ---- arithmetic ---- */

static cy_expr *parse_power(cy_parser *p) {
    cy_expr *left = parse_unary(p);
    while (cy_peek(p, 0)->kind == CY_TOKEN_CARET) {
        cy_position at = cy_take(p).at;
        left = binary(p, CY_OP_POWER, at, left, parse_unary(p));
    }
    return left;
}

static cy_expr *parse_multiplicative(cy_parser *p) {
    cy_expr *left = parse_power(p);
    for (;;) {
        cy_token_kind kind = cy_peek(p, 0)->kind;
        cy_operator op = kind == CY_TOKEN_STAR ? CY_OP_MULTIPLY : kind == CY_TOKEN_SLASH ? CY_OP_DIVIDE : CY_OP_MODULO;
        if (kind != CY_TOKEN_STAR && kind != CY_TOKEN_SLASH && kind != CY_TOKEN_PERCENT) return left;
        cy_position at = cy_take(p).at;
        left = binary(p, op, at, left, parse_power(p));
    }
}

static cy_expr *parse_additive(cy_parser *p) {
    cy_expr *left = parse_multiplicative(p);
    for (;;) {
        cy_token_kind kind = cy_peek(p, 0)->kind;
        if (kind != CY_TOKEN_PLUS && kind != CY_TOKEN_MINUS) return left;
        cy_position at = cy_take(p).at;
        left = binary(p, kind == CY_TOKEN_PLUS ? CY_OP_ADD : CY_OP_SUBTRACT, at, left, parse_multiplicative(p));
    }
}

static cy_expr *integer_literal(cy_parser *p, const cy_token *t, bool negative) {
    if (t->magnitude > (uint64_t)INT64_MAX + (negative ? 1 : 0)) cy_fail_at(p, t->at, "integer is too large");
    cy_expr *e = new_expr(p, CY_EXPR_LITERAL, t->at);
    e->literal.kind = EG_PS_INT;
    e->literal.as.integer = negative ? (int64_t)(0 - t->magnitude) : (int64_t)t->magnitude;
    return e;
}

/* -x, +x. A minus right before a number is part of the literal, which is how -9223372036854775808 fits. */
static cy_expr *parse_unary(cy_parser *p) {
    cy_token_kind kind = cy_peek(p, 0)->kind;
    if (kind != CY_TOKEN_MINUS && kind != CY_TOKEN_PLUS) return cy_parse_postfix_expression(p, true);
    cy_token sign = cy_take(p);
    const cy_token *next = cy_peek(p, 0);
    if (kind == CY_TOKEN_MINUS && (next->kind == CY_TOKEN_INTEGER || next->kind == CY_TOKEN_FLOAT)) {
        cy_token number = cy_take(p);
        cy_expr *e;
        if (number.kind == CY_TOKEN_INTEGER) {
            e = integer_literal(p, &number, true);
        } else {
            e = new_expr(p, CY_EXPR_LITERAL, number.at);
            e->literal.kind = EG_PS_FLOAT;
            e->literal.as.real = -number.real;
        }
        e->at = sign.at;
        return e;
    }
    cy_expr *e = new_expr(p, CY_EXPR_UNARY, sign.at);
    e->op = kind == CY_TOKEN_MINUS ? CY_OP_NEGATE : CY_OP_PLUS;
    cy_enter(p);
    e->operand = parse_unary(p);
    cy_leave(p);
    return e;
}

/* ---- atoms ---- */

cy_expr *cy_parse_map_literal(cy_parser *p) {
    cy_expr *e = new_expr(p, CY_EXPR_MAP, cy_expect(p, CY_TOKEN_LBRACE, "'{'").at);
    cy_enter(p);
    size_t key_capacity = 0, item_capacity = 0, key_count = 0;
    if (!cy_accept(p, CY_TOKEN_RBRACE)) {
        do {
            CY_PUSH(p, e->keys, key_count, key_capacity, cy_expect_name(p, "a property key name"));
            cy_expect(p, CY_TOKEN_COLON, "':' after the key");
            CY_PUSH(p, e->items, e->count, item_capacity, cy_parse_expression(p));
        } while (cy_accept(p, CY_TOKEN_COMMA));
        cy_expect(p, CY_TOKEN_RBRACE, "',' or '}'");
    }
    cy_leave(p);
    return e;
}

static bool at_comprehension(cy_parser *p) { return cy_peek_name(p, 0) && cy_peek_keyword(p, 1, "IN"); }

/* x IN list [WHERE filter] [| projection], the inside of a list comprehension and (without the projection) of
 * the list predicates all(...), any(...), none(...) and single(...). */
static cy_expr *parse_comprehension(cy_parser *p, cy_position at, bool projection_allowed) {
    cy_expr *e = new_expr(p, CY_EXPR_COMPREHENSION, at);
    e->name = cy_take(p).text;
    cy_take(p);
    e->operand = cy_parse_expression(p);
    if (cy_accept_keyword(p, "WHERE")) e->filter = cy_parse_expression(p);
    if (projection_allowed && cy_accept(p, CY_TOKEN_PIPE)) e->projection = cy_parse_expression(p);
    return e;
}

/* [x IN list [WHERE filter] [| projection]] or [item, ...]; the '[' is taken. */
static cy_expr *parse_list(cy_parser *p, cy_position at) {
    cy_enter(p);
    cy_expr *e;
    if (at_comprehension(p)) {
        e = parse_comprehension(p, at, true);
        cy_expect(p, CY_TOKEN_RBRACKET, e->projection ? "']'" : "WHERE, '|' or ']'");
    } else {
        e = new_expr(p, CY_EXPR_LIST, at);
        size_t capacity = 0;
        if (!cy_accept(p, CY_TOKEN_RBRACKET)) {
            do {
                CY_PUSH(p, e->items, e->count, capacity, cy_parse_expression(p));
            } while (cy_accept(p, CY_TOKEN_COMMA));
            cy_expect(p, CY_TOKEN_RBRACKET, "',' or ']'");
        }
    }
    cy_leave(p);
    return e;
}

static bool is_list_predicate(const char *name) {
    return strcasecmp(name, "all") == 0 || strcasecmp(name, "any") == 0 || strcasecmp(name, "none") == 0 ||
           strcasecmp(name, "single") == 0;
}

/* The arguments of name( ... ), the name taken: count(*), [DISTINCT] argument, ..., or for a list predicate
 * (any(x IN list WHERE p)) one CY_EXPR_COMPREHENSION argument without projection. */
static cy_expr *parse_call(cy_parser *p, const char *name, cy_position at) {
    cy_expect(p, CY_TOKEN_LPAREN, "'('");
    if (strcasecmp(name, "count") == 0 && cy_peek(p, 0)->kind == CY_TOKEN_STAR &&
        cy_peek(p, 1)->kind == CY_TOKEN_RPAREN) {
        cy_take(p);
        cy_take(p);
        cy_expr *e = new_expr(p, CY_EXPR_COUNT_STAR, at);
        e->name = name;
        return e;
    }
    cy_expr *e = new_expr(p, CY_EXPR_CALL, at);
    e->name = name;
    cy_enter(p);
    if (is_list_predicate(name) && at_comprehension(p)) {
        e->items = cy_alloc(p, sizeof *e->items);
        e->items[0] = parse_comprehension(p, cy_peek(p, 0)->at, false);
        e->count = 1;
        cy_expect(p, CY_TOKEN_RPAREN, e->items[0]->filter ? "')'" : "WHERE or ')'");
        cy_leave(p);
        return e;
    }
    e->distinct = cy_accept_keyword(p, "DISTINCT");
    size_t capacity = 0;
    if (e->distinct || cy_peek(p, 0)->kind != CY_TOKEN_RPAREN) {
        do {
            CY_PUSH(p, e->items, e->count, capacity, cy_parse_expression(p));
        } while (cy_accept(p, CY_TOKEN_COMMA));
    }
    cy_expect(p, CY_TOKEN_RPAREN, e->count ? "',' or ')'" : "an argument or ')'");
    cy_leave(p);
    return e;
}

/* CASE [operand] WHEN e THEN e ... [ELSE e] END, CASE taken. */
static cy_expr *parse_case(cy_parser *p, cy_position at) {
    cy_expr *e = new_expr(p, CY_EXPR_CASE, at);
    cy_enter(p);
    if (cy_peek_keyword(p, 0, "END") || cy_peek_keyword(p, 0, "ELSE")) cy_fail_expected(p, "WHEN");
    if (!cy_peek_keyword(p, 0, "WHEN")) e->operand = cy_parse_expression(p);
    size_t capacity = 0;
    while (cy_accept_keyword(p, "WHEN")) {
        CY_PUSH(p, e->items, e->count, capacity, cy_parse_expression(p));
        cy_expect_keyword(p, "THEN");
        CY_PUSH(p, e->items, e->count, capacity, cy_parse_expression(p));
    }
    if (e->count == 0) cy_fail_expected(p, "WHEN");
    if (cy_accept_keyword(p, "ELSE")) e->otherwise = cy_parse_expression(p);
    if (!cy_accept_keyword(p, "END")) cy_fail_expected(p, e->otherwise ? "END" : "WHEN, ELSE or END");
    cy_leave(p);
    return e;
}

/* *name_chain says whether the atom is a plain variable, the start of a dotted function name (apoc.x.y(...)). */
static cy_expr *parse_atom(cy_parser *p, bool *name_chain) {
    const cy_token *t = cy_peek(p, 0);
    cy_position at = t->at;
    *name_chain = false;
    switch (t->kind) {
    case CY_TOKEN_INTEGER: {
        cy_token number = cy_take(p);
        return integer_literal(p, &number, false);
    }
    case CY_TOKEN_FLOAT: {
        cy_expr *e = new_expr(p, CY_EXPR_LITERAL, at);
        e->literal.kind = EG_PS_FLOAT;
        e->literal.as.real = cy_take(p).real;
        return e;
    }
    case CY_TOKEN_STRING: {
        cy_token string = cy_take(p);
        cy_expr *e = new_expr(p, CY_EXPR_LITERAL, at);
        e->literal.kind = EG_PS_STRING;
        e->literal.as.text.data = (char *)string.text;
        e->literal.as.text.len = string.len;
        return e;
    }
    case CY_TOKEN_PARAMETER: {
        cy_expr *e = new_expr(p, CY_EXPR_PARAMETER, at);
        e->name = cy_take(p).text;
        return e;
    }
    case CY_TOKEN_LPAREN: {
        cy_take(p);
        cy_expr *e = cy_parse_expression(p);
        cy_expect(p, CY_TOKEN_RPAREN, "')' or an operator");
        return e;
    }
    case CY_TOKEN_LBRACKET: cy_take(p); return parse_list(p, at);
    case CY_TOKEN_LBRACE: return cy_parse_map_literal(p);
    case CY_TOKEN_QUOTED_IDENTIFIER:
    case CY_TOKEN_IDENTIFIER: break;
    default: cy_fail_expected(p, EXPRESSION);
    }
    bool quoted = t->kind == CY_TOKEN_QUOTED_IDENTIFIER;
    bool call = cy_peek(p, 1)->kind == CY_TOKEN_LPAREN;
    if (!quoted) {
        if (cy_is_keyword(t, "TRUE") || cy_is_keyword(t, "FALSE") || cy_is_keyword(t, "NULL")) {
            cy_expr *e = new_expr(p, CY_EXPR_LITERAL, at);
            e->literal.kind = cy_is_keyword(t, "NULL") ? EG_PS_NULL : EG_PS_BOOL;
            e->literal.as.boolean = cy_is_keyword(t, "TRUE");
            cy_take(p);
            return e;
        }
        if (cy_is_keyword(t, "CASE")) {
            cy_take(p);
            return parse_case(p, at);
        }
        if (call && (strcasecmp(t->text, "shortestPath") == 0 || strcasecmp(t->text, "allShortestPaths") == 0)) {
            cy_expr *e = new_expr(p, CY_EXPR_PATTERN, at);
            e->pattern = cy_alloc(p, sizeof *e->pattern);
            cy_parse_pattern_part(p, e->pattern);
            return e;
        }
        /* Not even before '(': `RETURN a, MATCH (b)` is a misplaced clause, not a function named MATCH. */
        if (cy_is_reserved(t)) cy_fail_expected(p, EXPRESSION);
    }
    const char *name = cy_take(p).text;
    if (call) return parse_call(p, name, at);
    cy_expr *e = new_expr(p, CY_EXPR_VARIABLE, at);
    e->name = name;
    *name_chain = !quoted;
    return e;
}

/* "a.b.c" from the chain PROPERTY(PROPERTY(VARIABLE a, b), c), walked without recursion. */
static const char *dotted_name(cy_parser *p, const cy_expr *chain) {
    size_t len = 0;
    for (const cy_expr *e = chain; e != NULL; e = e->operand) len += strlen(e->name) + (e->operand ? 1 : 0);
    char *name = cy_alloc(p, len + 1);
    size_t end = len;
    for (const cy_expr *e = chain; e != NULL; e = e->operand) {
        size_t n = strlen(e->name);
        memcpy(name + end - n, e->name, n);
        end -= n;
        if (e->operand) name[--end] = '.';
    }
    return name;
}

cy_expr *cy_parse_postfix_expression(cy_parser *p, bool labels_allowed) {
    bool name_chain;
    cy_expr *e = parse_atom(p, &name_chain);
    for (;;) {
        const cy_token *t = cy_peek(p, 0);
        cy_position at = t->at;
        if (t->kind == CY_TOKEN_DOT) {
            cy_take(p);
            cy_expr *property = new_expr(p, CY_EXPR_PROPERTY, at);
            property->operand = e;
            property->name = cy_expect_name(p, "a property name after '.'");
            e = property;
            if (name_chain && cy_peek(p, 0)->kind == CY_TOKEN_LPAREN) {
                e = parse_call(p, dotted_name(p, e), e->operand->at);
                name_chain = false;
            }
        } else if (t->kind == CY_TOKEN_LBRACKET) {
            cy_take(p);
            cy_enter(p);
            cy_expr *from = cy_peek(p, 0)->kind == CY_TOKEN_DOTDOT ? NULL : cy_parse_expression(p);
            cy_expr *index;
            if (cy_accept(p, CY_TOKEN_DOTDOT)) {
                index = new_expr(p, CY_EXPR_SLICE, at);
                index->left = from;
                if (cy_peek(p, 0)->kind != CY_TOKEN_RBRACKET) index->right = cy_parse_expression(p);
            } else {
                index = new_expr(p, CY_EXPR_INDEX, at);
                index->right = from;
            }
            index->operand = e;
            cy_expect(p, CY_TOKEN_RBRACKET, from && index->kind == CY_EXPR_INDEX ? "'..' or ']'" : "']'");
            cy_leave(p);
            e = index;
            name_chain = false;
        } else if (t->kind == CY_TOKEN_COLON && labels_allowed) {
            cy_expr *has = new_expr(p, CY_EXPR_HAS_LABELS, at);
            has->operand = e;
            size_t capacity = 0;
            while (cy_accept(p, CY_TOKEN_COLON))
                CY_PUSH(p, has->keys, has->count, capacity, cy_expect_name(p, "a label name after ':'"));
            e = has;
            name_chain = false;
        } else {
            return e;
        }
    }
}
