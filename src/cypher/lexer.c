/* lexer.c — splits a Cypher statement into tokens (lexer.h): whitespace and both kinds of comment skipped,
 * string literals with their escapes resolved, numbers in decimal, hexadecimal and octal with the 2^63 bound
 * checked here (the sign is the parser's, so -9223372036854775808 still fits), identifiers plain and backquoted,
 * and parameters. Lines and columns count characters, not bytes, as an editor would show them. */
#include "cypher/lexer.h"
#include "util/utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest number text handed to strtod: a float literal longer than this is refused rather than copied. */
#define MAX_FLOAT_TEXT 400

void cy_lexer_init(cy_lexer *lexer, const char *text, size_t len, cy_arena *arena) {
    *lexer = (cy_lexer){.text = text, .len = len, .line = 1, .column = 1, .arena = arena};
}

size_t cy_utf8_length(unsigned char lead) {
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    return 1;
}

static cy_position position(const cy_lexer *lx) {
    return (cy_position){.line = lx->line, .column = lx->column, .offset = lx->offset};
}

static int peek_at(const cy_lexer *lx, size_t ahead) {
    return lx->offset + ahead < lx->len ? (unsigned char)lx->text[lx->offset + ahead] : -1;
}

/* Moves past one byte, keeping line and column: a column per character (continuation bytes add none). */
static void advance(cy_lexer *lx) {
    unsigned char ch = (unsigned char)lx->text[lx->offset++];
    if (ch == '\n') {
        lx->line++;
        lx->column = 1;
    } else if ((ch & 0xC0) != 0x80) {
        lx->column++;
    }
}

static bool fail(cy_lexer *lx, cy_position at, const char *format, ...) {
    lx->error_at = at;
    va_list args;
    va_start(args, format);
    vsnprintf(lx->error, sizeof lx->error, format, args);
    va_end(args);
    return false;
}

static bool is_letter(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
static bool is_digit(int ch) { return ch >= '0' && ch <= '9'; }
static bool is_name_char(int ch) { return is_letter(ch) || is_digit(ch); }
static bool is_space(int ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

/* The character at the current offset, whole, for a message ("Invalid input 'é'"). */
static int character_width(const cy_lexer *lx) {
    size_t n = cy_utf8_length((unsigned char)lx->text[lx->offset]);
    return (int)(n <= lx->len - lx->offset ? n : lx->len - lx->offset);
}

static bool skip_space_and_comments(cy_lexer *lx) {
    for (;;) {
        int ch = peek_at(lx, 0);
        if (is_space(ch)) {
            advance(lx);
        } else if (ch == '/' && peek_at(lx, 1) == '/') {
            while (lx->offset < lx->len && lx->text[lx->offset] != '\n') advance(lx);
        } else if (ch == '/' && peek_at(lx, 1) == '*') {
            cy_position start = position(lx);
            advance(lx);
            advance(lx);
            while (!(peek_at(lx, 0) == '*' && peek_at(lx, 1) == '/')) {
                if (lx->offset >= lx->len)
                    return fail(lx, start, "Failed to parse comment: a comment starting with '/*' must have a "
                                           "closing '*/'");
                advance(lx);
            }
            advance(lx);
            advance(lx);
        } else {
            return true;
        }
    }
}

static int hex_value(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* The hex digits of \uXXXX or \UXXXXXXXX after the letter; -1 when they are not all there. */
static int64_t read_hex_digits(cy_lexer *lx, int digits) {
    int64_t value = 0;
    for (int i = 0; i < digits; i++) {
        int h = hex_value(peek_at(lx, 0));
        if (h < 0) return -1;
        value = value * 16 + h;
        advance(lx);
    }
    return value;
}

/* One escape after its backslash, appended to out. A \u high surrogate followed by a \u low one is one
 * character, as in Java (Neo4j's) strings; a lone surrogate has no UTF-8 form and is refused. */
static bool read_escape(cy_lexer *lx, cy_position backslash, char *out, size_t *out_len) {
    int ch = peek_at(lx, 0);
    const char *simple = NULL;
    switch (ch) {
    case '\\': simple = "\\"; break;
    case '\'': simple = "'"; break;
    case '"': simple = "\""; break;
    case 'b': case 'B': simple = "\b"; break;
    case 'f': case 'F': simple = "\f"; break;
    case 'n': case 'N': simple = "\n"; break;
    case 'r': case 'R': simple = "\r"; break;
    case 't': case 'T': simple = "\t"; break;
    default: break;
    }
    if (simple != NULL) {
        advance(lx);
        out[(*out_len)++] = simple[0];
        return true;
    }
    if (ch != 'u' && ch != 'U')
        return fail(lx, backslash,
                    "Invalid input '\\%.*s': expected an escape sequence (\\\\, \\', \\\", \\b, \\f, \\n, \\r, \\t, "
                    "\\uXXXX or \\UXXXXXXXX)",
                    ch < 0 ? 0 : character_width(lx), lx->text + lx->offset);
    advance(lx);
    int64_t cp = read_hex_digits(lx, ch == 'u' ? 4 : 8);
    if (cp < 0) return fail(lx, backslash, "Invalid input: expected %s hexadecimal digits after '\\%c'",
                            ch == 'u' ? "4" : "8", ch);
    if (cp >= 0xD800 && cp <= 0xDBFF && peek_at(lx, 0) == '\\' && peek_at(lx, 1) == 'u') {
        size_t saved_offset = lx->offset;
        uint32_t saved_line = lx->line, saved_column = lx->column;
        advance(lx);
        advance(lx);
        int64_t low = read_hex_digits(lx, 4);
        if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else {
            lx->offset = saved_offset;
            lx->line = saved_line;
            lx->column = saved_column;
        }
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return fail(lx, backslash, "Invalid input: the escape names no Unicode character (U+%llX)",
                    (unsigned long long)cp);
    *out_len += eg_utf8_encode((uint32_t)cp, out + *out_len);
    return true;
}

/* A string literal in ' or " quotes. The value is never longer than the text between the quotes (every escape
 * is at least as long as the UTF-8 it stands for), so one buffer of that size holds it. */
static bool read_string(cy_lexer *lx, cy_token *t) {
    int quote = peek_at(lx, 0);
    advance(lx);
    size_t start = lx->offset, end = start;
    while (end < lx->len && lx->text[end] != quote) end += lx->text[end] == '\\' ? 2 : 1;
    if (end >= lx->len)
        return fail(lx, t->at, "Failed to parse string literal: the string starting here has no closing %c", quote);
    char *out = cy_arena_alloc(lx->arena, end - start + 1);
    if (out == NULL) {
        lx->out_of_memory = true;
        return false;
    }
    size_t len = 0;
    while (lx->offset < end) {
        if (lx->text[lx->offset] == '\\') {
            cy_position backslash = position(lx);
            advance(lx);
            if (!read_escape(lx, backslash, out, &len)) return false;
        } else {
            out[len++] = lx->text[lx->offset];
            advance(lx);
        }
    }
    advance(lx); /* the closing quote */
    out[len] = '\0';
    t->kind = CY_TOKEN_STRING;
    t->text = out;
    t->len = len;
    return true;
}

/* A name, from start to the current offset, copied into the arena. */
static bool take_name(cy_lexer *lx, size_t start, cy_token *t) {
    t->len = lx->offset - start;
    t->text = cy_arena_strndup(lx->arena, lx->text + start, t->len);
    if (t->text == NULL) lx->out_of_memory = true;
    return t->text != NULL;
}

/* `name`, a backquote inside written twice; the current offset is at the opening backquote. */
static bool read_quoted_name(cy_lexer *lx, cy_token *t) {
    cy_position open = position(lx);
    advance(lx);
    size_t start = lx->offset, end = start, doubled = 0;
    for (;; end++) {
        if (end >= lx->len)
            return fail(lx, open, "Failed to parse quoted identifier: the name starting here has no closing `");
        if (lx->text[end] == '`') {
            if (end + 1 < lx->len && lx->text[end + 1] == '`') {
                end++;
                doubled++;
            } else {
                break;
            }
        }
    }
    char *out = cy_arena_alloc(lx->arena, end - start - doubled + 1);
    if (out == NULL) {
        lx->out_of_memory = true;
        return false;
    }
    size_t len = 0;
    while (lx->offset < end) {
        if (lx->text[lx->offset] == '`') advance(lx);
        out[len++] = lx->text[lx->offset];
        advance(lx);
    }
    advance(lx);
    out[len] = '\0';
    t->text = out;
    t->len = len;
    return true;
}

/* Digits in base, accumulated up to 2^63. */
static bool read_digits(cy_lexer *lx, cy_token *t, int base) {
    uint64_t value = 0;
    const uint64_t limit = (uint64_t)INT64_MAX + 1;
    bool any = false;
    for (;;) {
        int d = hex_value(peek_at(lx, 0));
        if (d < 0 || d >= base) break;
        if (value > (limit - (uint64_t)d) / (uint64_t)base) return fail(lx, t->at, "integer is too large");
        value = value * (uint64_t)base + (uint64_t)d;
        advance(lx);
        any = true;
    }
    if (!any) return fail(lx, t->at, "Invalid input '%.*s': expected digits in base %d",
                          (int)(lx->offset - t->at.offset + 1), lx->text + t->at.offset, base);
    t->kind = CY_TOKEN_INTEGER;
    t->magnitude = value;
    return true;
}

static bool read_number(cy_lexer *lx, cy_token *t) {
    size_t start = lx->offset;
    bool ok;
    if (peek_at(lx, 0) == '0' && (peek_at(lx, 1) == 'x' || peek_at(lx, 1) == 'X')) {
        advance(lx);
        advance(lx);
        ok = read_digits(lx, t, 16);
    } else if (peek_at(lx, 0) == '0' && (peek_at(lx, 1) == 'o' || peek_at(lx, 1) == 'O')) {
        advance(lx);
        advance(lx);
        ok = read_digits(lx, t, 8);
    } else {
        size_t end = start;
        while (end < lx->len && is_digit((unsigned char)lx->text[end])) end++;
        bool fraction = end + 1 < lx->len && lx->text[end] == '.' && is_digit((unsigned char)lx->text[end + 1]);
        if (fraction) {
            end++;
            while (end < lx->len && is_digit((unsigned char)lx->text[end])) end++;
        }
        bool exponent = false;
        if (end < lx->len && (lx->text[end] == 'e' || lx->text[end] == 'E')) {
            size_t e = end + 1;
            if (e < lx->len && (lx->text[e] == '+' || lx->text[e] == '-')) e++;
            if (e < lx->len && is_digit((unsigned char)lx->text[e])) {
                while (e < lx->len && is_digit((unsigned char)lx->text[e])) e++;
                end = e;
                exponent = true;
            }
        }
        if (fraction || exponent) {
            if (end - start > MAX_FLOAT_TEXT) return fail(lx, t->at, "floating point number is too long");
            char buffer[MAX_FLOAT_TEXT + 1];
            memcpy(buffer, lx->text + start, end - start);
            buffer[end - start] = '\0';
            t->kind = CY_TOKEN_FLOAT;
            t->real = strtod(buffer, NULL);
            if (isinf(t->real)) return fail(lx, t->at, "floating point number is too large");
            while (lx->offset < end) advance(lx);
            ok = true;
        } else {
            bool legacy_octal = peek_at(lx, 0) == '0' && is_digit(peek_at(lx, 1));
            if (legacy_octal) advance(lx);
            ok = read_digits(lx, t, legacy_octal ? 8 : 10);
        }
    }
    if (ok && is_name_char(peek_at(lx, 0))) {
        while (is_name_char(peek_at(lx, 0))) advance(lx);
        size_t len = lx->offset - start > 60 ? 60 : lx->offset - start; /* ASCII: any cut is a whole character */
        return fail(lx, t->at, "Invalid input '%.*s': expected a number", (int)len, lx->text + start);
    }
    return ok;
}

static bool punctuation(cy_lexer *lx, cy_token *t) {
    int ch = peek_at(lx, 0), next = peek_at(lx, 1);
    cy_token_kind kind;
    int width = 1;
    switch (ch) {
    case '(': kind = CY_TOKEN_LPAREN; break;
    case ')': kind = CY_TOKEN_RPAREN; break;
    case '[': kind = CY_TOKEN_LBRACKET; break;
    case ']': kind = CY_TOKEN_RBRACKET; break;
    case '{': kind = CY_TOKEN_LBRACE; break;
    case '}': kind = CY_TOKEN_RBRACE; break;
    case ',': kind = CY_TOKEN_COMMA; break;
    case ':': kind = CY_TOKEN_COLON; break;
    case '|': kind = CY_TOKEN_PIPE; break;
    case ';': kind = CY_TOKEN_SEMICOLON; break;
    case '-': kind = CY_TOKEN_MINUS; break;
    case '*': kind = CY_TOKEN_STAR; break;
    case '/': kind = CY_TOKEN_SLASH; break;
    case '%': kind = CY_TOKEN_PERCENT; break;
    case '^': kind = CY_TOKEN_CARET; break;
    case '.':
        kind = next == '.' ? CY_TOKEN_DOTDOT : CY_TOKEN_DOT;
        width = next == '.' ? 2 : 1;
        break;
    case '+':
        kind = next == '=' ? CY_TOKEN_PLUS_EQ : CY_TOKEN_PLUS;
        width = next == '=' ? 2 : 1;
        break;
    case '=':
        kind = next == '~' ? CY_TOKEN_REGEX : CY_TOKEN_EQ;
        width = next == '~' ? 2 : 1;
        break;
    case '<':
        kind = next == '=' ? CY_TOKEN_LE : next == '>' ? CY_TOKEN_NE : CY_TOKEN_LT;
        width = next == '=' || next == '>' ? 2 : 1;
        break;
    case '>':
        kind = next == '=' ? CY_TOKEN_GE : CY_TOKEN_GT;
        width = next == '=' ? 2 : 1;
        break;
    case '!':
        if (next != '=') return fail(lx, t->at, "Invalid input '!': expected an expression");
        kind = CY_TOKEN_BANG_EQ;
        width = 2;
        break;
    default:
        return fail(lx, t->at, "Invalid input '%.*s'%s", character_width(lx), lx->text + lx->offset,
                    ch >= 0x80 ? " (a name with letters beyond ASCII must be written in backquotes)" : "");
    }
    for (int i = 0; i < width; i++) advance(lx);
    t->kind = kind;
    return true;
}

bool cy_lexer_next(cy_lexer *lx, cy_token *t) {
    if (!skip_space_and_comments(lx)) return false;
    *t = (cy_token){.at = position(lx)};
    bool ok = true;
    int ch = peek_at(lx, 0);
    if (ch < 0) {
        t->kind = CY_TOKEN_END;
    } else if (is_letter(ch)) {
        size_t start = lx->offset;
        while (is_name_char(peek_at(lx, 0))) advance(lx);
        t->kind = CY_TOKEN_IDENTIFIER;
        ok = take_name(lx, start, t);
    } else if (ch == '`') {
        t->kind = CY_TOKEN_QUOTED_IDENTIFIER;
        ok = read_quoted_name(lx, t);
    } else if (ch == '$') {
        advance(lx);
        t->kind = CY_TOKEN_PARAMETER;
        if (peek_at(lx, 0) == '`') {
            ok = read_quoted_name(lx, t);
        } else {
            size_t start = lx->offset;
            while (is_name_char(peek_at(lx, 0))) advance(lx);
            ok = lx->offset > start ? take_name(lx, start, t)
                                    : fail(lx, t->at, "Invalid input '$': expected a parameter name after '$'");
        }
    } else if (ch == '\'' || ch == '"') {
        ok = read_string(lx, t);
    } else if (is_digit(ch) || (ch == '.' && is_digit(peek_at(lx, 1)))) {
        ok = read_number(lx, t);
    } else {
        ok = punctuation(lx, t);
    }
    t->end = lx->offset;
    return ok;
}
