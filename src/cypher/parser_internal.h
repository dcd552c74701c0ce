/* parser_internal.h — what the pieces of the Cypher parser share: the parser's state and its token helpers
 * (parser.c), and the entry points of the pieces: clauses.c (query clauses and projections), schema.c (schema
 * commands), pattern.c (node and relationship patterns), expression.c (expressions).
 *
 * A failure unwinds with longjmp to cy_parse, which frees the arena: every node lives there, so a parse
 * abandoned half way leaks nothing, and no parse function needs an error path of its own. */
#ifndef ENGRAM_CYPHER_PARSER_INTERNAL_H
#define ENGRAM_CYPHER_PARSER_INTERNAL_H

#include "cypher/arena.h"
#include "cypher/cypher.h"
#include "cypher/lexer.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>

/* Tokens the parser may look at before taking them: two, for `p =` (a named path), `x IN` (a comprehension),
 * `* )` (count(*)), `n :` / `n =` / `n +=` (SET items) and `CREATE CONSTRAINT` (a schema command). */
#define CY_LOOKAHEAD 2

typedef struct cy_parser {
    const char *text;
    size_t len;
    cy_arena *arena;
    cy_lexer lexer;
    cy_token ahead[CY_LOOKAHEAD];
    size_t ahead_count;
    size_t previous_end; /* byte offset just past the last token taken */
    int nesting;         /* brackets, parentheses and operators open around the current point */
    eg_bolt_failure *failure;
    jmp_buf unwind;
} cy_parser;

/* ---- parser.c: tokens, failures, allocation ---- */

/* The token k places ahead (0: the next one). */
const cy_token *cy_peek(cy_parser *p, size_t k);
cy_token cy_take(cy_parser *p);
bool cy_accept(cy_parser *p, cy_token_kind kind);
cy_token cy_expect(cy_parser *p, cy_token_kind kind, const char *expected);

/* Keywords: plain identifiers, any case. */
bool cy_is_keyword(const cy_token *t, const char *word);
bool cy_peek_keyword(cy_parser *p, size_t k, const char *word);
bool cy_accept_keyword(cy_parser *p, const char *word);
void cy_expect_keyword(cy_parser *p, const char *word);

/* A name (label, type, property key, alias): an identifier, keywords included, or a backquoted one. */
bool cy_peek_name(cy_parser *p, size_t k);
const char *cy_expect_name(cy_parser *p, const char *expected);
/* Words that begin or continue clauses and expressions: a variable must be backquoted to use one. */
bool cy_is_reserved(const cy_token *t);

/* "Invalid input 'found': expected <expected> (line L, column C (offset: O))", at the next token. */
_Noreturn void cy_fail_expected(cy_parser *p, const char *expected);
/* A message of its own followed by the position. */
_Noreturn void cy_fail_at(cy_parser *p, cy_position at, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

void *cy_alloc(cy_parser *p, size_t size);
char *cy_strndup(cy_parser *p, const char *s, size_t len);
/* Room for one more element in an arena array of count elements of size bytes, doubling *capacity as needed. */
void *cy_grow(cy_parser *p, void *items, size_t count, size_t *capacity, size_t size);
#define CY_PUSH(p, items, count, capacity, value)                                                                    \
    do {                                                                                                             \
        (items) = cy_grow((p), (items), (count), &(capacity), sizeof *(items));                                      \
        (items)[(count)++] = (value);                                                                                \
    } while (0)

/* Nesting: entering refuses to go past CY_MAX_NESTING levels. */
void cy_enter(cy_parser *p);
void cy_leave(cy_parser *p);

/* ---- the pieces ---- */
void cy_parse_query(cy_parser *p, cy_statement *statement);
void cy_parse_schema_command(cy_parser *p, cy_statement *statement);
bool cy_at_schema_command(cy_parser *p);
void cy_parse_pattern(cy_parser *p, cy_pattern *pattern);
void cy_parse_pattern_part(cy_parser *p, cy_pattern_part *part);
cy_expr *cy_parse_expression(cy_parser *p);
/* An expression without a trailing label predicate: a SET or REMOVE target (`n.name`) before its '=' or ','. */
cy_expr *cy_parse_postfix_expression(cy_parser *p, bool labels_allowed);
cy_expr *cy_parse_map_literal(cy_parser *p);

#endif
