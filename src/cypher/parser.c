/* parser.c — cy_parse: the checks on the raw text (size, UTF-8, NUL bytes), the token stream with its lookahead,
 * failures worded like Neo4j's (what was found, what was expected, where, and the line with a caret under the
 * spot), the bound on expression depth, and the statement-level helpers of cypher.h. The grammar itself is in
 * clauses.c, schema.c, pattern.c and expression.c (docs/bolt.md, "Cypher grammar"). */
#include "cypher/parser_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SYNTAX_ERROR "Neo.ClientError.Statement.SyntaxError"
#define OUT_OF_MEMORY "Neo.TransientError.General.OutOfMemoryError"
/* Bytes of the offending token quoted in a message, and of the statement line shown under it. */
#define QUOTED_TOKEN_BYTES 40
#define EXCERPT_BYTES 100

/* ---- failures ---- */

/* The longest prefix of s[0..len) that ends on a character boundary (len itself when s is whole). */
static size_t whole_characters(const char *s, size_t len) {
    while (len > 0 && !eg_ps_utf8_valid(s, len)) len--;
    return len;
}

/* Appends the statement line holding `at`, at most EXCERPT_BYTES of it around the spot, and a caret under it. */
static void append_excerpt(const cy_parser *p, cy_position at, char *out, size_t size) {
    size_t line_start = at.offset, line_end = at.offset;
    while (line_start > 0 && p->text[line_start - 1] != '\n') line_start--;
    while (line_end < p->len && p->text[line_end] != '\n' && p->text[line_end] != '\r') line_end++;
    size_t from = line_start;
    if (at.offset - from > EXCERPT_BYTES / 2) {
        from = at.offset - EXCERPT_BYTES / 2;
        while (from < at.offset && ((unsigned char)p->text[from] & 0xC0) == 0x80) from++;
    }
    size_t to = line_end - from > EXCERPT_BYTES ? from + EXCERPT_BYTES : line_end;
    to = from + whole_characters(p->text + from, to - from);
    size_t caret = 1; /* the opening quote */
    for (size_t i = from; i < at.offset && i < to; i++)
        if (((unsigned char)p->text[i] & 0xC0) != 0x80) caret++;
    size_t used = strlen(out);
    int n = snprintf(out + used, size - used, "\n\"%.*s\"\n%*s^", (int)(to - from), p->text + from, (int)caret, "");
    if (n < 0 || (size_t)n >= size - used) out[used] = '\0';
}

static _Noreturn void unwind(cy_parser *p, const char *code, cy_position at, const char *what) {
    eg_bolt_failure *f = p->failure;
    snprintf(f->code, sizeof f->code, "%s", code);
    snprintf(f->message, sizeof f->message, "%s (line %u, column %u (offset: %zu))", what, at.line, at.column,
             at.offset);
    if (p->text != NULL) append_excerpt(p, at, f->message, sizeof f->message);
    f->message[whole_characters(f->message, strlen(f->message))] = '\0';
    longjmp(p->unwind, 1);
}

static _Noreturn void out_of_memory(cy_parser *p) {
    eg_bolt_failure *f = p->failure;
    snprintf(f->code, sizeof f->code, "%s", OUT_OF_MEMORY);
    snprintf(f->message, sizeof f->message, "There is not enough memory to parse the statement");
    longjmp(p->unwind, 1);
}

void cy_fail_at(cy_parser *p, cy_position at, const char *format, ...) {
    char what[400];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    what[whole_characters(what, strlen(what))] = '\0';
    unwind(p, SYNTAX_ERROR, at, what);
}

void cy_fail_expected(cy_parser *p, const char *expected) {
    const cy_token *t = cy_peek(p, 0);
    if (t->kind == CY_TOKEN_END) cy_fail_at(p, t->at, "Unexpected end of input: expected %s", expected);
    size_t len = t->end - t->at.offset;
    if (len > QUOTED_TOKEN_BYTES) len = whole_characters(p->text + t->at.offset, QUOTED_TOKEN_BYTES);
    cy_fail_at(p, t->at, "Invalid input '%.*s': expected %s", (int)len, p->text + t->at.offset, expected);
}

/* ---- allocation ---- */

void *cy_alloc(cy_parser *p, size_t size) {
    void *mem = cy_arena_alloc(p->arena, size);
    if (mem == NULL) out_of_memory(p);
    return mem;
}

char *cy_strndup(cy_parser *p, const char *s, size_t len) {
    char *copy = cy_arena_strndup(p->arena, s, len);
    if (copy == NULL) out_of_memory(p);
    return copy;
}

void *cy_grow(cy_parser *p, void *items, size_t count, size_t *capacity, size_t size) {
    if (count < *capacity) return items;
    size_t wanted = *capacity ? *capacity * 2 : 4;
    void *bigger = cy_alloc(p, wanted * size);
    if (count > 0) memcpy(bigger, items, count * size);
    *capacity = wanted;
    return bigger;
}

void cy_enter(cy_parser *p) {
    if (++p->nesting > CY_MAX_NESTING)
        cy_fail_at(p, cy_peek(p, 0)->at, "Statement nested too deeply: more than %d levels of brackets, "
                                         "parentheses and operators",
                   CY_MAX_NESTING);
}

void cy_leave(cy_parser *p) { p->nesting--; }

/* ---- tokens ---- */

const cy_token *cy_peek(cy_parser *p, size_t k) {
    assert(k < CY_LOOKAHEAD);
    while (p->ahead_count <= k) {
        cy_token *t = &p->ahead[p->ahead_count];
        if (!cy_lexer_next(&p->lexer, t)) {
            if (p->lexer.out_of_memory) out_of_memory(p);
            cy_fail_at(p, p->lexer.error_at, "%s", p->lexer.error);
        }
        p->ahead_count++;
    }
    return &p->ahead[k];
}

cy_token cy_take(cy_parser *p) {
    cy_token t = *cy_peek(p, 0);
    if (t.kind != CY_TOKEN_END) {
        memmove(&p->ahead[0], &p->ahead[1], (p->ahead_count - 1) * sizeof p->ahead[0]);
        p->ahead_count--;
        p->previous_end = t.end;
    }
    return t;
}

bool cy_accept(cy_parser *p, cy_token_kind kind) {
    if (cy_peek(p, 0)->kind != kind) return false;
    cy_take(p);
    return true;
}

cy_token cy_expect(cy_parser *p, cy_token_kind kind, const char *expected) {
    if (cy_peek(p, 0)->kind != kind) cy_fail_expected(p, expected);
    return cy_take(p);
}

bool cy_is_keyword(const cy_token *t, const char *word) {
    return t->kind == CY_TOKEN_IDENTIFIER && strcasecmp(t->text, word) == 0;
}

bool cy_peek_keyword(cy_parser *p, size_t k, const char *word) { return cy_is_keyword(cy_peek(p, k), word); }

bool cy_accept_keyword(cy_parser *p, const char *word) {
    if (!cy_peek_keyword(p, 0, word)) return false;
    cy_take(p);
    return true;
}

void cy_expect_keyword(cy_parser *p, const char *word) {
    if (!cy_accept_keyword(p, word)) {
        char expected[64];
        snprintf(expected, sizeof expected, "'%s'", word);
        cy_fail_expected(p, expected);
    }
}

bool cy_peek_name(cy_parser *p, size_t k) {
    cy_token_kind kind = cy_peek(p, k)->kind;
    return kind == CY_TOKEN_IDENTIFIER || kind == CY_TOKEN_QUOTED_IDENTIFIER;
}

const char *cy_expect_name(cy_parser *p, const char *expected) {
    if (!cy_peek_name(p, 0)) cy_fail_expected(p, expected);
    return cy_take(p).text;
}

bool cy_is_reserved(const cy_token *t) {
    static const char *const reserved[] = {
        "MATCH",  "OPTIONAL", "WHERE", "RETURN", "WITH",     "UNWIND", "CREATE",   "MERGE",   "SET",
        "REMOVE", "DELETE",   "DETACH", "CALL",  "YIELD",    "ORDER",  "BY",       "SKIP",    "LIMIT",
        "ASC",    "DESC",     "ASCENDING", "DESCENDING", "AND", "OR",  "XOR",      "NOT",     "IN",
        "IS",     "AS",       "STARTS", "ENDS",  "CONTAINS", "CASE",   "WHEN",     "THEN",    "ELSE",
        "END",    "DISTINCT", "ON",     "UNION", "FOREACH",  "NULL",   "TRUE",     "FALSE"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (cy_is_keyword(t, reserved[i])) return true;
    return false;
}

/* ---- the depth bound ---- */

static void check_depth(cy_parser *p, const cy_expr *e, int depth);

static void check_pattern_depth(cy_parser *p, const cy_pattern_part *part, int depth) {
    for (size_t i = 0; i <= part->rel_count; i++) check_depth(p, part->nodes[i].properties, depth);
    for (size_t i = 0; i < part->rel_count; i++) check_depth(p, part->rels[i].properties, depth);
}

/* Refuses a tree deeper than CY_MAX_EXPRESSION_DEPTH; the walk stops there, so it recurses no deeper itself. */
static void check_depth(cy_parser *p, const cy_expr *e, int depth) {
    if (e == NULL) return;
    if (depth > CY_MAX_EXPRESSION_DEPTH)
        cy_fail_at(p, e->at, "Expression nested too deeply: more than %d levels", CY_MAX_EXPRESSION_DEPTH);
    const cy_expr *children[] = {e->operand, e->left, e->right, e->filter, e->projection, e->otherwise};
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) check_depth(p, children[i], depth + 1);
    for (size_t i = 0; i < e->count && e->items != NULL; i++) check_depth(p, e->items[i], depth + 1);
    if (e->pattern != NULL) check_pattern_depth(p, e->pattern, depth + 1);
}

static void check_set_depth(cy_parser *p, const cy_set_list *set) {
    for (size_t i = 0; i < set->count; i++) {
        check_depth(p, set->items[i].target, 1);
        check_depth(p, set->items[i].value, 1);
    }
}

static void check_statement_depth(cy_parser *p, const cy_statement *s) {
    for (size_t c = 0; c < s->clause_count; c++) {
        const cy_clause *clause = &s->clauses[c];
        for (size_t i = 0; i < clause->pattern.count; i++) check_pattern_depth(p, &clause->pattern.parts[i], 1);
        check_depth(p, clause->where, 1);
        check_depth(p, clause->expression, 1);
        const cy_projection *projection = &clause->projection;
        for (size_t i = 0; i < projection->count; i++) check_depth(p, projection->items[i].expression, 1);
        for (size_t i = 0; i < projection->order_count; i++) check_depth(p, projection->order[i].expression, 1);
        check_depth(p, projection->skip, 1);
        check_depth(p, projection->limit, 1);
        check_depth(p, projection->where, 1);
        check_set_depth(p, &clause->set);
        check_set_depth(p, &clause->on_create);
        check_set_depth(p, &clause->on_match);
        for (size_t i = 0; i < clause->expression_count; i++) check_depth(p, clause->expressions[i], 1);
    }
}

/* ---- the raw text ---- */

/* Refuses a NUL byte or a byte sequence that is not UTF-8, at the first one. */
static void check_text(cy_parser *p) {
    cy_position at = {.line = 1, .column = 1};
    for (size_t i = 0; i < p->len;) {
        at.offset = i;
        unsigned char lead = (unsigned char)p->text[i];
        size_t n = cy_utf8_length(lead);
        if (lead == 0) cy_fail_at(p, at, "Invalid input: the statement holds a NUL byte (write \\u0000 in a string)");
        if ((lead >= 0x80 && n == 1) || n > p->len - i || !eg_ps_utf8_valid(p->text + i, n)) {
            p->text = NULL; /* the excerpt would quote the bad bytes */
            cy_fail_at(p, at, "Invalid input: the statement is not valid UTF-8 at byte 0x%02X", lead);
        }
        if (lead == '\n') {
            at.line++;
            at.column = 1;
        } else {
            at.column++;
        }
        i += n;
    }
}

/* ---- cypher.h ---- */

/* The parse proper. setjmp is called here, in a function that changes none of its own variables after it, so
 * that everything the failure path reads (through p) is well defined after longjmp. */
static bool parse_statement(cy_parser *p, cy_statement **out) {
    if (setjmp(p->unwind) != 0) return false;
    if (p->len > CY_MAX_STATEMENT_BYTES) {
        p->text = NULL;
        cy_fail_at(p, (cy_position){.line = 1, .column = 1}, "The statement is too long: %zu bytes, at most %zu",
                   p->len, CY_MAX_STATEMENT_BYTES);
    }
    check_text(p);
    p->arena = cy_arena_new();
    if (p->arena == NULL) out_of_memory(p);
    cy_lexer_init(&p->lexer, p->text, p->len, p->arena);
    cy_statement *statement = cy_alloc(p, sizeof *statement);
    statement->arena = p->arena;
    if (cy_at_schema_command(p))
        cy_parse_schema_command(p, statement);
    else
        cy_parse_query(p, statement);
    cy_accept(p, CY_TOKEN_SEMICOLON);
    if (cy_peek(p, 0)->kind != CY_TOKEN_END) cy_fail_expected(p, "the end of the statement");
    check_statement_depth(p, statement);
    *out = statement;
    return true;
}

bool cy_parse(const char *text, size_t len, cy_statement **out, eg_bolt_failure *failure) {
    *out = NULL;
    *failure = (eg_bolt_failure){0};
    cy_parser p = {.text = len > 0 ? text : "", .len = len, .failure = failure};
    if (parse_statement(&p, out)) return true;
    cy_arena_free(p.arena);
    return false;
}

void cy_statement_free(cy_statement *statement) {
    if (statement != NULL) cy_arena_free(statement->arena);
}

bool cy_statement_writes(const cy_statement *statement) {
    if (statement->kind != CY_STATEMENT_QUERY)
        return statement->kind != CY_STATEMENT_SHOW_CONSTRAINTS && statement->kind != CY_STATEMENT_SHOW_INDEXES;
    for (size_t i = 0; i < statement->clause_count; i++) {
        switch (statement->clauses[i].kind) {
        case CY_CLAUSE_CREATE:
        case CY_CLAUSE_MERGE:
        case CY_CLAUSE_SET:
        case CY_CLAUSE_REMOVE:
        case CY_CLAUSE_DELETE: return true;
        default: break;
        }
    }
    return false;
}
