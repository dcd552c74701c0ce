/* lexer.h — Cypher's tokens, read one at a time from the statement text (lexer.c), for the parser (parser.c and
 * the files it is split into).
 *
 * Keywords are not tokens of their own: they are identifiers the parser compares case-insensitively, because
 * Cypher lets most of them also be names (a property `n.order`, a label `:Match`). Backquoted identifiers are a
 * separate kind so that `MATCH` quoted is never the keyword. Arrows are not tokens either: `<-` would break
 * `a<-1`, so the pattern parser reads `<`, `-` and `>` one by one. */
#ifndef ENGRAM_CYPHER_LEXER_H
#define ENGRAM_CYPHER_LEXER_H

#include "cypher/arena.h"
#include "cypher/ast.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cy_token_kind {
    CY_TOKEN_END,
    CY_TOKEN_IDENTIFIER,        /* text: the name (keywords too) */
    CY_TOKEN_QUOTED_IDENTIFIER, /* text: the name without its backquotes, `` resolved */
    CY_TOKEN_PARAMETER,         /* text: the name after '$' */
    CY_TOKEN_STRING,            /* text, len: the value, escapes resolved (may hold U+0000) */
    CY_TOKEN_INTEGER,           /* magnitude: at most 2^63, which only a leading '-' makes fit */
    CY_TOKEN_FLOAT,             /* real */
    CY_TOKEN_LPAREN,
    CY_TOKEN_RPAREN,
    CY_TOKEN_LBRACKET,
    CY_TOKEN_RBRACKET,
    CY_TOKEN_LBRACE,
    CY_TOKEN_RBRACE,
    CY_TOKEN_COMMA,
    CY_TOKEN_DOT,
    CY_TOKEN_DOTDOT,
    CY_TOKEN_COLON,
    CY_TOKEN_PIPE,
    CY_TOKEN_SEMICOLON,
    CY_TOKEN_EQ,
    CY_TOKEN_NE,      /* <> */
    CY_TOKEN_BANG_EQ, /* != : read so the parser can point at Cypher's '<>' */
    CY_TOKEN_LT,
    CY_TOKEN_LE,
    CY_TOKEN_GT,
    CY_TOKEN_GE,
    CY_TOKEN_REGEX, /* =~ */
    CY_TOKEN_PLUS,
    CY_TOKEN_PLUS_EQ,
    CY_TOKEN_MINUS,
    CY_TOKEN_STAR,
    CY_TOKEN_SLASH,
    CY_TOKEN_PERCENT,
    CY_TOKEN_CARET
} cy_token_kind;

typedef struct cy_token {
    cy_token_kind kind;
    cy_position at;
    size_t end; /* byte offset just past the token */
    const char *text;
    size_t len;
    uint64_t magnitude;
    double real;
} cy_token;

typedef struct cy_lexer {
    const char *text;
    size_t len;
    size_t offset;
    uint32_t line, column;
    cy_arena *arena;
    /* Filled when cy_lexer_next fails: where and what, without the position (the parser adds it). */
    cy_position error_at;
    char error[256];
    bool out_of_memory;
} cy_lexer;

/* text[0..len) must be valid UTF-8 without NUL bytes (cy_parse checks that first). */
void cy_lexer_init(cy_lexer *lexer, const char *text, size_t len, cy_arena *arena);

/* The next token, past whitespace and comments; at the end, CY_TOKEN_END forever. False on a malformed token
 * (error and error_at filled, or out_of_memory set). */
bool cy_lexer_next(cy_lexer *lexer, cy_token *token);

/* Bytes of the UTF-8 character that starts with byte lead (1 for anything that is not a valid lead). */
size_t cy_utf8_length(unsigned char lead);

#endif
