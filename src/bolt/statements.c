/* statements.c — the statement interface's result type, and the literal-RETURN engine that stands in for Cypher
 * (see statements.h). */
#include "bolt/statements.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eg_bolt_result_free(eg_bolt_result *result) {
    eg_ps_value_free(&result->fields);
    eg_ps_value_free(&result->records);
    eg_ps_value_free(&result->stats);
    result->type = NULL;
}

typedef struct statement_cursor {
    const char *at, *end;
} statement_cursor;

static void skip_space(statement_cursor *c) {
    while (c->at < c->end && isspace((unsigned char)*c->at)) c->at++;
}

/* Takes `word` (letters, any case) when it is next and ends there; at least one space must follow unless the
 * statement ends. */
static bool take_keyword(statement_cursor *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->at) < n) return false;
    for (size_t i = 0; i < n; i++)
        if (toupper((unsigned char)c->at[i]) != word[i]) return false;
    if (c->at + n < c->end && !isspace((unsigned char)c->at[n])) return false;
    c->at += n;
    skip_space(c);
    return true;
}

static bool is_identifier_start(char ch) { return isalpha((unsigned char)ch) || ch == '_'; }
static bool is_identifier_char(char ch) { return isalnum((unsigned char)ch) || ch == '_'; }

/* An identifier; *start and *len locate it in the statement. */
static bool take_identifier(statement_cursor *c, const char **start, size_t *len) {
    if (c->at >= c->end || !is_identifier_start(*c->at)) return false;
    *start = c->at;
    while (c->at < c->end && is_identifier_char(*c->at)) c->at++;
    *len = (size_t)(c->at - *start);
    return true;
}

/* A decimal integer literal with an optional minus sign, within int64. */
static bool take_integer(statement_cursor *c, int64_t *value) {
    const char *p = c->at;
    bool negative = p < c->end && *p == '-';
    if (negative) p++;
    if (p >= c->end || !isdigit((unsigned char)*p)) return false;
    uint64_t magnitude = 0;
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (p < c->end && isdigit((unsigned char)*p)) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (magnitude > (limit - digit) / 10) return false;
        magnitude = magnitude * 10 + digit;
        p++;
    }
    if (p < c->end && is_identifier_char(*p)) return false;
    *value = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    c->at = p;
    skip_space(c);
    return true;
}

static const eg_ps_value *dict_get(const eg_ps_value *dict, const char *key, size_t key_len) {
    if (dict == NULL || dict->kind != EG_PS_DICT) return NULL;
    for (size_t i = 0; i < dict->as.dict.count; i++) {
        const eg_ps_entry *e = &dict->as.dict.entries[i];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return &e->value;
    }
    return NULL;
}

/* A deep copy, by encoding and decoding: parameters arrived decoded, so they encode and decode again. */
static bool copy_value(const eg_ps_value *from, eg_ps_value *to) {
    eg_ps_writer w = {0};
    eg_ps_write_value(&w, from);
    eg_error err;
    bool ok = eg_ps_writer_status(&w, &err) == EG_OK &&
              eg_ps_decode((const uint8_t *)w.out.data, w.out.len, EG_PS_BOLT_5, false, to, &err) == EG_OK;
    free(w.out.data);
    return ok;
}

/* A list of `count` nulls, for the caller to fill. */
static bool make_list(eg_ps_value *out, size_t count) {
    eg_ps_value *items = calloc(count, sizeof *items);
    if (items == NULL) return false;
    *out = (eg_ps_value){.kind = EG_PS_LIST, .as.list = {.items = items, .count = count}};
    return true;
}

static bool make_string(eg_ps_value *out, const char *text, size_t len) {
    char *copy = malloc(len + 1);
    if (copy == NULL) return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    *out = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = copy, .len = len}};
    return true;
}

/* One column named name[0..name_len), one record holding *value (taken: it becomes the result's). */
static bool one_cell_result(const char *name, size_t name_len, eg_ps_value *value, eg_bolt_result *result) {
    *result = (eg_bolt_result){.type = "r"};
    eg_ps_value *record;
    if (!make_list(&result->fields, 1) || !make_string(&result->fields.as.list.items[0], name, name_len) ||
        !make_list(&result->records, 1) || !make_list(&result->records.as.list.items[0], 1)) {
        eg_bolt_result_free(result);
        eg_ps_value_free(value);
        return false;
    }
    record = &result->records.as.list.items[0];
    record->as.list.items[0] = *value;
    *value = (eg_ps_value){.kind = EG_PS_NULL};
    return true;
}

static bool fail(eg_bolt_failure *failure, const char *code, const char *message) {
    snprintf(failure->code, sizeof failure->code, "%s", code);
    snprintf(failure->message, sizeof failure->message, "%s", message);
    return false;
}

static bool run_literal_return(void *context, void *tx, const char *statement, size_t statement_len,
                               const eg_ps_value *parameters, eg_bolt_result *result, eg_bolt_failure *failure) {
    (void)context;
    (void)tx;
    *result = (eg_bolt_result){0};
    statement_cursor c = {statement, statement + statement_len};
    skip_space(&c);
    eg_ps_value value = {.kind = EG_PS_NULL};
    const char *parameter = NULL;
    size_t parameter_len = 0;
    bool is_literal = false;
    if (take_keyword(&c, "RETURN")) {
        if (c.at < c.end && *c.at == '$') {
            c.at++;
            if (take_identifier(&c, &parameter, &parameter_len)) skip_space(&c);
            else parameter = NULL;
        } else {
            is_literal = take_integer(&c, &value.as.integer);
        }
    }
    const char *alias = NULL;
    size_t alias_len = 0;
    bool well_formed = (is_literal || parameter != NULL) && take_keyword(&c, "AS") &&
                       take_identifier(&c, &alias, &alias_len);
    skip_space(&c);
    if (!well_formed || c.at != c.end)
        return fail(failure, "Neo.ClientError.Statement.SyntaxError",
                    "Cypher is not supported by engram yet: the only statements answered are "
                    "`RETURN <integer> AS <name>` and `RETURN $<parameter> AS <name>`");
    if (is_literal) {
        value.kind = EG_PS_INT;
    } else {
        const eg_ps_value *given = dict_get(parameters, parameter, parameter_len);
        if (given == NULL) {
            char message[160];
            snprintf(message, sizeof message, "Expected parameter(s): %.*s", (int)parameter_len, parameter);
            return fail(failure, "Neo.ClientError.Statement.ParameterMissing", message);
        }
        if (!copy_value(given, &value))
            return fail(failure, "Neo.DatabaseError.General.UnknownError", "out of memory copying a parameter");
    }
    if (!one_cell_result(alias, alias_len, &value, result))
        return fail(failure, "Neo.DatabaseError.General.UnknownError", "out of memory building a result");
    return true;
}

const eg_bolt_statements *eg_bolt_literal_return_statements(void) {
    static const eg_bolt_statements literal_return = {.context = NULL, .run = run_literal_return};
    return &literal_return;
}
