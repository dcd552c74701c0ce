/* pattern.c — graph patterns: comma-separated parts, each optionally named (p = ...) and optionally wrapped in
 * shortestPath(...) or allShortestPaths(...), each a chain of node patterns (v:Label {map}) joined by
 * relationship patterns -[v:TYPE|OTHER *min..max {map}]-> in either direction or none. */
#include "cypher/parser_internal.h"

#include <strings.h>

#define PROPERTIES "a map {key: value, ...} or a $parameter"

/* {map} or $parameter, the properties a node or relationship pattern may carry; NULL when neither is next. */
static cy_expr *parse_properties(cy_parser *p) {
    const cy_token *t = cy_peek(p, 0);
    if (t->kind == CY_TOKEN_LBRACE) return cy_parse_map_literal(p);
    if (t->kind != CY_TOKEN_PARAMETER) return NULL;
    cy_token parameter = cy_take(p);
    cy_expr *e = cy_alloc(p, sizeof *e);
    e->kind = CY_EXPR_PARAMETER;
    e->at = parameter.at;
    e->name = parameter.text;
    return e;
}

static void parse_node(cy_parser *p, cy_node_pattern *node) {
    node->at = cy_peek(p, 0)->at;
    cy_expect(p, CY_TOKEN_LPAREN, "'(' to start a node pattern");
    if (cy_peek_name(p, 0)) node->variable = cy_take(p).text;
    size_t capacity = 0;
    while (cy_accept(p, CY_TOKEN_COLON))
        CY_PUSH(p, node->labels, node->label_count, capacity, cy_expect_name(p, "a label name after ':'"));
    node->properties = parse_properties(p);
    cy_expect(p, CY_TOKEN_RPAREN, node->properties != NULL ? "')'" : "':' and a label, " PROPERTIES " or ')'");
}

/* A hop count of a variable-length relationship: a decimal integer. */
static int64_t parse_hops(cy_parser *p) {
    const cy_token *t = cy_peek(p, 0);
    if (t->kind != CY_TOKEN_INTEGER) return -1;
    if (t->magnitude > (uint64_t)INT64_MAX) cy_fail_at(p, t->at, "integer is too large");
    return (int64_t)cy_take(p).magnitude;
}

/* [v:TYPE|OTHER *min..max {properties}], the part between the dashes. */
static void parse_relationship_detail(cy_parser *p, cy_rel_pattern *rel) {
    if (cy_peek_name(p, 0)) rel->variable = cy_take(p).text;
    if (cy_accept(p, CY_TOKEN_COLON)) {
        size_t capacity = 0;
        for (;;) {
            CY_PUSH(p, rel->types, rel->type_count, capacity, cy_expect_name(p, "a relationship type"));
            if (!cy_accept(p, CY_TOKEN_PIPE)) break;
            cy_accept(p, CY_TOKEN_COLON); /* -[:A|:B]-, the older spelling */
        }
    }
    rel->min_hops = rel->max_hops = -1;
    if (cy_accept(p, CY_TOKEN_STAR)) {
        rel->variable_length = true;
        rel->min_hops = parse_hops(p);
        if (cy_accept(p, CY_TOKEN_DOTDOT))
            rel->max_hops = parse_hops(p);
        else
            rel->max_hops = rel->min_hops; /* *3 is exactly three hops */
    }
    rel->properties = parse_properties(p);
    cy_expect(p, CY_TOKEN_RBRACKET, "']' to close the relationship pattern");
}

static void parse_relationship(cy_parser *p, cy_rel_pattern *rel) {
    rel->at = cy_peek(p, 0)->at;
    bool left = cy_accept(p, CY_TOKEN_LT);
    cy_expect(p, CY_TOKEN_MINUS, "'-' in a relationship pattern");
    rel->min_hops = rel->max_hops = -1;
    if (cy_accept(p, CY_TOKEN_LBRACKET)) parse_relationship_detail(p, rel);
    cy_expect(p, CY_TOKEN_MINUS, "'-' to end the relationship pattern");
    bool right = cy_accept(p, CY_TOKEN_GT);
    rel->direction = left == right ? CY_DIR_BOTH : left ? CY_DIR_LEFT : CY_DIR_RIGHT;
}

/* node (relationship node)*, into part. */
static void parse_chain(cy_parser *p, cy_pattern_part *part) {
    size_t node_capacity = 0, rel_capacity = 0, node_count = 0;
    cy_node_pattern node = {0};
    parse_node(p, &node);
    CY_PUSH(p, part->nodes, node_count, node_capacity, node);
    for (;;) {
        cy_token_kind kind = cy_peek(p, 0)->kind;
        if (kind != CY_TOKEN_MINUS && kind != CY_TOKEN_LT) return;
        cy_rel_pattern rel = {0};
        parse_relationship(p, &rel);
        CY_PUSH(p, part->rels, part->rel_count, rel_capacity, rel);
        node = (cy_node_pattern){0};
        parse_node(p, &node);
        CY_PUSH(p, part->nodes, node_count, node_capacity, node);
    }
}

/* shortestPath or allShortestPaths when the next tokens are one of them and '('. */
static cy_path_function peek_path_function(cy_parser *p) {
    const cy_token *t = cy_peek(p, 0);
    if (t->kind != CY_TOKEN_IDENTIFIER || cy_peek(p, 1)->kind != CY_TOKEN_LPAREN) return CY_PATH_PLAIN;
    if (strcasecmp(t->text, "shortestPath") == 0) return CY_PATH_SHORTEST;
    if (strcasecmp(t->text, "allShortestPaths") == 0) return CY_PATH_ALL_SHORTEST;
    return CY_PATH_PLAIN;
}

void cy_parse_pattern_part(cy_parser *p, cy_pattern_part *part) {
    part->at = cy_peek(p, 0)->at;
    if (cy_peek_name(p, 0) && cy_peek(p, 1)->kind == CY_TOKEN_EQ) {
        part->path_variable = cy_take(p).text;
        cy_take(p);
    }
    part->function = peek_path_function(p);
    if (part->function == CY_PATH_PLAIN) {
        parse_chain(p, part);
        return;
    }
    cy_take(p);
    cy_take(p);
    cy_enter(p);
    parse_chain(p, part);
    cy_leave(p);
    cy_expect(p, CY_TOKEN_RPAREN, "')' to close the shortest path");
}

void cy_parse_pattern(cy_parser *p, cy_pattern *pattern) {
    size_t capacity = 0;
    do {
        cy_pattern_part part = {0};
        cy_parse_pattern_part(p, &part);
        CY_PUSH(p, pattern->parts, pattern->count, capacity, part);
    } while (cy_accept(p, CY_TOKEN_COMMA));
}
