/* fuzz_cypher.c — the Cypher parser from outside (src/cypher/parser.c and its pieces), as a Bolt client's RUN
 * text will reach it: the input is the statement, bytes as they are.
 *
 * A refusal must be a SyntaxError (or the out-of-memory TransientError) with a message that is valid UTF-8, the
 * message being sent back as a PackStream string, and no tree. A statement that parses is walked whole: no
 * expression deeper than CY_MAX_EXPRESSION_DEPTH (the executor's recursion relies on it), every name and string
 * valid UTF-8, every pattern part with one node more than relationships, and the column text of each unaliased
 * RETURN/WITH item must itself parse as `RETURN <text>`. */
#include "cypher/cypher.h"

#include <stdlib.h>
#include <string.h>

static void check_text(const char *s) {
    if (s == NULL || !eg_ps_utf8_valid(s, strlen(s))) abort();
}

static void check_expr(const cy_expr *e, int depth);

static void check_part(const cy_pattern_part *part, int depth) {
    if (part->nodes == NULL) abort();
    for (size_t i = 0; i <= part->rel_count; i++) {
        const cy_node_pattern *node = &part->nodes[i];
        for (size_t l = 0; l < node->label_count; l++) check_text(node->labels[l]);
        check_expr(node->properties, depth);
    }
    for (size_t i = 0; i < part->rel_count; i++) {
        const cy_rel_pattern *rel = &part->rels[i];
        for (size_t t = 0; t < rel->type_count; t++) check_text(rel->types[t]);
        if (!rel->variable_length && (rel->min_hops != -1 || rel->max_hops != -1)) abort();
        check_expr(rel->properties, depth);
    }
}

static void check_expr(const cy_expr *e, int depth) {
    if (e == NULL) return;
    if (depth > CY_MAX_EXPRESSION_DEPTH) abort();
    if (e->name != NULL) check_text(e->name);
    if (e->kind == CY_EXPR_LITERAL && e->literal.kind == EG_PS_STRING &&
        !eg_ps_utf8_valid(e->literal.as.text.data, e->literal.as.text.len))
        abort();
    const cy_expr *children[] = {e->operand, e->left, e->right, e->filter, e->projection, e->otherwise};
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) check_expr(children[i], depth + 1);
    for (size_t i = 0; i < e->count && e->items != NULL; i++) check_expr(e->items[i], depth + 1);
    for (size_t i = 0; i < e->count && e->keys != NULL; i++) check_text(e->keys[i]);
    if (e->kind == CY_EXPR_PATTERN) check_part(e->pattern, depth + 1);
}

static void check_set(const cy_set_list *set) {
    for (size_t i = 0; i < set->count; i++) {
        check_expr(set->items[i].target, 1);
        check_expr(set->items[i].value, 1);
        for (size_t l = 0; l < set->items[i].label_count; l++) check_text(set->items[i].labels[l]);
    }
}

/* The column text of an unaliased item is an expression by itself. */
static void check_column_text(const char *text) {
    check_text(text);
    size_t len = strlen(text);
    char *statement = malloc(len + 8);
    if (statement == NULL) abort();
    memcpy(statement, "RETURN ", 7);
    memcpy(statement + 7, text, len);
    cy_statement *s;
    eg_bolt_failure failure;
    if (!cy_parse(statement, len + 7, &s, &failure)) abort();
    cy_statement_free(s);
    free(statement);
}

static void check_statement(const cy_statement *s) {
    for (size_t c = 0; c < s->clause_count; c++) {
        const cy_clause *clause = &s->clauses[c];
        for (size_t i = 0; i < clause->pattern.count; i++) check_part(&clause->pattern.parts[i], 1);
        check_expr(clause->where, 1);
        check_expr(clause->expression, 1);
        const cy_projection *projection = &clause->projection;
        for (size_t i = 0; i < projection->count; i++) {
            check_expr(projection->items[i].expression, 1);
            if (projection->items[i].alias == NULL) check_column_text(projection->items[i].text);
        }
        for (size_t i = 0; i < projection->order_count; i++) check_expr(projection->order[i].expression, 1);
        check_expr(projection->skip, 1);
        check_expr(projection->limit, 1);
        check_expr(projection->where, 1);
        check_set(&clause->set);
        check_set(&clause->on_create);
        check_set(&clause->on_match);
        for (size_t i = 0; i < clause->expression_count; i++) check_expr(clause->expressions[i], 1);
    }
    (void)cy_statement_writes(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cy_statement *statement = NULL;
    eg_bolt_failure failure;
    if (!cy_parse((const char *)data, size, &statement, &failure)) {
        if (statement != NULL) abort();
        if (strcmp(failure.code, "Neo.ClientError.Statement.SyntaxError") != 0 &&
            strcmp(failure.code, "Neo.TransientError.General.OutOfMemoryError") != 0)
            abort();
        if (failure.message[0] == '\0') abort();
        check_text(failure.message);
        return 0;
    }
    check_statement(statement);
    cy_statement_free(statement);
    return 0;
}
