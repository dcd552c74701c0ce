/* tools_answer.c — what every tool shares: its answer (structured content and the text the reference server
 * would write for it), engram requests through the backend, and argument checks that name the bad argument. */
#include "mcp/tools_internal.h"

#include <engram/exec.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} text_buf;

static void put(text_buf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put_s(text_buf *b, const char *s) { put(b, s, strlen(s)); }

/* A string as JSON.stringify quotes it: \" \\ \b \f \n \r \t, other control characters as \u00xx with lower-case
 * hex, everything else (non-ASCII included) as it is. json_dumps differs in the hex's case. */
static void put_string(text_buf *b, const char *s, size_t n) {
    put_s(b, "\"");
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *escape = NULL;
        char hex[8];
        switch (c) {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                escape = hex;
            }
        }
        if (escape) {
            put(b, s + run, i - run);
            put_s(b, escape);
            run = i + 1;
        }
    }
    put(b, s + run, n - run);
    put_s(b, "\"");
}

static void put_indent(text_buf *b, int depth) {
    put_s(b, "\n");
    for (int i = 0; i < depth; i++) put_s(b, "  ");
}

static void put_value(text_buf *b, const json_t *v, int depth) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (json_object_size(v) == 0) {
            put_s(b, "{}");
            return;
        }
        put_s(b, "{");
        const char *key;
        json_t *child;
        bool first = true;
        json_object_foreach((json_t *)v, key, child) {
            if (!first) put_s(b, ",");
            first = false;
            put_indent(b, depth + 1);
            put_string(b, key, strlen(key));
            put_s(b, ": ");
            put_value(b, child, depth + 1);
        }
        put_indent(b, depth);
        put_s(b, "}");
        return;
    }
    case JSON_ARRAY: {
        if (json_array_size(v) == 0) {
            put_s(b, "[]");
            return;
        }
        put_s(b, "[");
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) {
            if (i) put_s(b, ",");
            put_indent(b, depth + 1);
            put_value(b, child, depth + 1);
        }
        put_indent(b, depth);
        put_s(b, "]");
        return;
    }
    case JSON_STRING: put_string(b, json_string_value(v), json_string_length(v)); return;
    default: {
        /* Numbers, booleans and null: engram's shortest round-trip form, as JavaScript prints numbers. */
        char *scalar = eg_json_text(v, JSON_ENCODE_ANY);
        if (!scalar) {
            b->failed = true;
            return;
        }
        put_s(b, scalar);
        free(scalar);
    }
    }
}

char *eg_mcp_js_text(const json_t *value) {
    text_buf b = {0};
    put_value(&b, value, 0);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

bool eg_mcp_answer(eg_mcp_tool_result *out, json_t *structured) {
    memset(out, 0, sizeof *out);
    if (!structured) return false;
    out->text = eg_mcp_js_text(structured);
    if (!out->text) {
        json_decref(structured);
        return false;
    }
    out->structured = structured;
    return true;
}

bool eg_mcp_answer_member(eg_mcp_tool_result *out, json_t *structured, const char *key) {
    memset(out, 0, sizeof *out);
    if (!structured) return false;
    out->text = eg_mcp_js_text(json_object_get(structured, key));
    if (!out->text) {
        json_decref(structured);
        return false;
    }
    out->structured = structured;
    return true;
}

bool eg_mcp_answer_text(eg_mcp_tool_result *out, json_t *structured, const char *text) {
    memset(out, 0, sizeof *out);
    if (!structured) return false;
    out->text = strdup(text);
    if (!out->text) {
        json_decref(structured);
        return false;
    }
    out->structured = structured;
    return true;
}

bool eg_mcp_fail(eg_mcp_tool_result *out, const char *format, ...) {
    memset(out, 0, sizeof *out);
    out->is_error = true;
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    if (n < 0) return false;
    out->text = malloc((size_t)n + 1);
    if (!out->text) return false;
    va_start(ap, format);
    vsnprintf(out->text, (size_t)n + 1, format, ap);
    va_end(ap);
    return true;
}

eg_mcp_req_status eg_mcp_request(const eg_mcp_backend *backend, json_t *request, json_t **result,
                                 eg_mcp_tool_result *out, char code_buf[32]) {
    *result = NULL;
    if (!request) return EG_MCP_REQ_NOMEM;
    json_t *response = backend->exec(backend->context, request);
    json_decref(request);
    if (!response) return EG_MCP_REQ_NOMEM;
    if (json_is_true(json_object_get(response, "ok"))) {
        *result = json_incref(json_object_get(response, "result"));
        json_decref(response);
        return EG_MCP_REQ_OK;
    }
    json_t *error = json_object_get(response, "error");
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    if (!code) code = "internal";
    if (code_buf) snprintf(code_buf, 32, "%s", code);
    bool ok = eg_mcp_fail(out, "engram: %s: %s", code, message ? message : "no message");
    json_decref(response);
    return ok ? EG_MCP_REQ_FAILED : EG_MCP_REQ_NOMEM;
}

const char *eg_mcp_type_name(const json_t *value) {
    if (!value) return "missing";
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

bool eg_mcp_check_string_array(json_t *value, const char *where, eg_mcp_tool_result *out) {
    if (!json_is_array(value)) {
        eg_mcp_fail(out, "invalid argument %s: expected an array of strings, got %s", where, eg_mcp_type_name(value));
        return false;
    }
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) {
        if (!json_is_string(item)) {
            eg_mcp_fail(out, "invalid argument %s[%zu]: expected a string, got %s", where, i, eg_mcp_type_name(item));
            return false;
        }
    }
    return true;
}
