/* functions.c — Cypher's scalar functions over evaluated arguments (graph functions such as type, labels, id,
 * elementId, properties, nodes and relationships; list, string and number functions; coalesce and timestamp),
 * and which calls are aggregations (those are computed in projection.c). Names match case-insensitively, as in
 * Cypher; a function engram does not know is a SyntaxError naming it. Almost every function returns null for a
 * null argument. */
#include "cypher/executor_internal.h"
#include "util/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

static const char *const aggregate_names[] = {"count", "collect", "sum", "avg", "min", "max"};

bool cy_is_aggregate_call(const cy_expr *e) {
    if (e->kind == CY_EXPR_COUNT_STAR) return true;
    if (e->kind != CY_EXPR_CALL) return false;
    for (size_t i = 0; i < sizeof aggregate_names / sizeof *aggregate_names; i++)
        if (strcasecmp(e->name, aggregate_names[i]) == 0) return true;
    return false;
}

static bool arity(cy_run *run, const char *name, size_t count, size_t min, size_t max) {
    if (count >= min && count <= max) return true;
    if (max == min)
        return cy_fail(run, CY_SYNTAX_ERROR, "function %s() takes %zu argument(s), %zu given", name, min, count);
    if (max == SIZE_MAX)
        return cy_fail(run, CY_SYNTAX_ERROR, "function %s() takes at least %zu argument(s), %zu given", name, min,
                       count);
    return cy_fail(run, CY_SYNTAX_ERROR, "function %s() takes %zu to %zu arguments, %zu given", name, min, max, count);
}

static bool mismatch(cy_run *run, const char *name, const char *expected, const eg_ps_value *got) {
    return cy_fail(run, CY_TYPE_ERROR, "Type mismatch: %s() expects %s but was %s", name, expected, cy_type_name(got));
}

static bool text_value(cy_run *run, const char *s, eg_ps_value *out) { return cy_string(run, s, strlen(s), out); }

/* ---- UTF-8 helpers: positions and case mapping by code point ---- */

static size_t utf8_length(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Byte offset of code point index cp (clamped to len). */
static size_t utf8_offset(const char *s, size_t len, size_t cp) {
    size_t i = 0;
    while (i < len && cp > 0) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        cp--;
    }
    return i;
}

/* Case mapping follows Unicode through the C.UTF-8 locale, made once for every thread (without it, only ASCII
 * letters change). */
static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void make_utf8_locale(void) { utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0); }

static bool change_case(cy_run *run, const eg_ps_value *v, bool upper, eg_ps_value *out) {
    pthread_once(&utf8_locale_once, make_utf8_locale);
    const unsigned char *s = (const unsigned char *)v->as.text.data;
    size_t len = v->as.text.len;
    /* A case change can lengthen a code point's encoding by at most one byte in three. */
    char *buffer = malloc(len * 2 + 4);
    if (!buffer) return cy_out_of_memory(run);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        wint_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; k < n && i + (size_t)k < len; k++) cp = (cp << 6) | (s[i + k] & 0x3F);
        i += (size_t)n;
        if (upper && cp == 0xDF) { /* ß has no one-letter capital: Java, and so Neo4j, write SS */
            buffer[o++] = 'S';
            buffer[o++] = 'S';
            continue;
        }
        if (utf8_locale)
            cp = upper ? towupper_l(cp, utf8_locale) : towlower_l(cp, utf8_locale);
        else if (cp < 0x80)
            cp = (wint_t)(upper ? toupper((int)cp) : tolower((int)cp));
        o += eg_utf8_encode((uint32_t)cp, buffer + o);
    }
    bool ok = cy_string(run, buffer, o, out);
    free(buffer);
    return ok;
}

/* ---- graph functions ---- */

static bool entity_properties(cy_run *run, const eg_ps_value *v, eg_ps_value *out) {
    eg_ps_value current;
    bool gone;
    if (!cy_entity_current(run, v, &current, &gone)) return false;
    bool ok = !gone ? cy_copy(run, cy_entity_properties(&current), out)
                    : cy_fail(run, CY_ENTITY_NOT_FOUND, "'%s' has been deleted in this transaction", cy_element_id(v));
    eg_ps_value_free(&current);
    return ok;
}

static bool map_keys(cy_run *run, const eg_ps_value *map, eg_ps_value *out) {
    if (!cy_list(run, map->as.dict.count, out)) return false;
    for (size_t i = 0; i < map->as.dict.count; i++)
        if (!cy_string(run, map->as.dict.entries[i].key, map->as.dict.entries[i].key_len, &out->as.list.items[i])) {
            eg_ps_value_free(out);
            return false;
        }
    return true;
}

/* relationships(path): the path's unbound relationships as Relationship values, with their direction read from
 * the path's indices (a negative index means the relationship was traversed against its direction). */
static bool path_relationships(cy_run *run, const eg_ps_value *path, eg_ps_value *out) {
    const eg_ps_value *nodes = &path->as.list.items[0], *rels = &path->as.list.items[1],
                      *indices = &path->as.list.items[2];
    if (!cy_list(run, indices->as.list.count / 2, out)) return false;
    size_t previous = 0;
    for (size_t step = 0; step * 2 + 1 < indices->as.list.count; step++) {
        int64_t r = indices->as.list.items[step * 2].as.integer;
        size_t next = (size_t)indices->as.list.items[step * 2 + 1].as.integer;
        const eg_ps_value *unbound = &rels->as.list.items[(r < 0 ? -r : r) - 1];
        const eg_ps_value *from = &nodes->as.list.items[r > 0 ? previous : next];
        const eg_ps_value *to = &nodes->as.list.items[r > 0 ? next : previous];
        eg_ps_value *rel = &out->as.list.items[step];
        bool ok = cy_list(run, 8, rel);
        if (ok) {
            rel->kind = EG_PS_STRUCT;
            rel->as.list.tag = CY_TAG_RELATIONSHIP;
            eg_ps_value *f = rel->as.list.items;
            f[0] = unbound->as.list.items[0];
            f[1] = from->as.list.items[0];
            f[2] = to->as.list.items[0];
            ok = cy_copy(run, &unbound->as.list.items[1], &f[3]) && cy_copy(run, &unbound->as.list.items[2], &f[4]) &&
                 cy_copy(run, &unbound->as.list.items[3], &f[5]) && cy_copy(run, &from->as.list.items[3], &f[6]) &&
                 cy_copy(run, &to->as.list.items[3], &f[7]);
        }
        if (!ok) {
            eg_ps_value_free(out);
            return false;
        }
        previous = next;
    }
    return true;
}

static bool relationship_end(cy_run *run, const eg_ps_value *rel, bool start, eg_ps_value *out) {
    const char *source, *type, *target;
    cy_relationship_ends(rel, &source, &type, &target);
    bool found;
    if (!cy_fetch_node(run, start ? source : target, out, &found)) return false;
    return found ? true
                 : cy_fail(run, CY_ENTITY_NOT_FOUND, "node '%s' has been deleted in this transaction",
                           start ? source : target);
}

/* ---- conversions ---- */

static bool to_integer(cy_run *run, const eg_ps_value *v, eg_ps_value *out) {
    switch (v->kind) {
    case EG_PS_INT: *out = *v; return true;
    case EG_PS_BOOL: *out = cy_int(v->as.boolean); return true;
    case EG_PS_FLOAT:
        if (!isfinite(v->as.real) || v->as.real >= 9223372036854775808.0 || v->as.real < -9223372036854775808.0)
            return cy_fail(run, CY_ARITHMETIC_ERROR, "toInteger(): %g does not fit in an Integer", v->as.real);
        *out = cy_int((int64_t)v->as.real);
        return true;
    case EG_PS_STRING: {
        char *end;
        errno = 0;
        long long i = strtoll(v->as.text.data, &end, 10);
        if (end != v->as.text.data && *end == '\0' && errno == 0) {
            *out = cy_int(i);
            return true;
        }
        double d = strtod(v->as.text.data, &end);
        if (end != v->as.text.data && *end == '\0' && isfinite(d) && fabs(d) < 9.2e18) *out = cy_int((int64_t)d);
        return true;
    }
    default: return mismatch(run, "toInteger", "a String, number or Boolean", v);
    }
}

static bool to_float(cy_run *run, const eg_ps_value *v, eg_ps_value *out) {
    if (cy_is_number(v)) {
        *out = cy_float(cy_number(v));
        return true;
    }
    if (v->kind != EG_PS_STRING) return mismatch(run, "toFloat", "a String or number", v);
    char *end;
    double d = strtod(v->as.text.data, &end);
    if (end != v->as.text.data && *end == '\0') *out = cy_float(d);
    return true;
}

static bool to_string(cy_run *run, const eg_ps_value *v, eg_ps_value *out) {
    char buffer[40];
    switch (v->kind) {
    case EG_PS_STRING: return cy_copy(run, v, out);
    case EG_PS_INT: snprintf(buffer, sizeof buffer, "%lld", (long long)v->as.integer); break;
    case EG_PS_FLOAT: cy_format_float(v->as.real, buffer, sizeof buffer); break;
    case EG_PS_BOOL: snprintf(buffer, sizeof buffer, "%s", v->as.boolean ? "true" : "false"); break;
    default: return mismatch(run, "toString", "a String, number or Boolean", v);
    }
    return text_value(run, buffer, out);
}

static bool to_boolean(cy_run *run, const eg_ps_value *v, eg_ps_value *out) {
    if (v->kind == EG_PS_BOOL)
        *out = *v;
    else if (v->kind == EG_PS_INT)
        *out = cy_bool(v->as.integer != 0);
    else if (v->kind != EG_PS_STRING)
        return mismatch(run, "toBoolean", "a String, Integer or Boolean", v);
    else if (strcasecmp(v->as.text.data, "true") == 0)
        *out = cy_bool(true);
    else if (strcasecmp(v->as.text.data, "false") == 0)
        *out = cy_bool(false);
    return true;
}

static bool range(cy_run *run, const eg_ps_value *args, size_t count, eg_ps_value *out) {
    for (size_t i = 0; i < count; i++)
        if (args[i].kind != EG_PS_INT) return mismatch(run, "range", "Integer arguments", &args[i]);
    int64_t start = args[0].as.integer, end = args[1].as.integer, step = count > 2 ? args[2].as.integer : 1;
    if (step == 0) return cy_fail(run, CY_ARGUMENT_ERROR, "range(): step argument cannot be zero");
    double n = floor(((double)end - (double)start) / (double)step) + 1;
    if (n < 0) n = 0;
    if (n > (double)CY_MAX_ROWS)
        return cy_fail(run, CY_EXECUTION_FAILED, "range() would hold %.0f items, more than engram's bound of %zu", n,
                       (size_t)CY_MAX_ROWS);
    if (!cy_list(run, (size_t)n, out)) return false;
    for (size_t i = 0; i < (size_t)n; i++) out->as.list.items[i] = cy_int(start + (int64_t)i * step);
    return true;
}

static bool trim(cy_run *run, const eg_ps_value *v, bool left, bool right, eg_ps_value *out) {
    const char *s = v->as.text.data;
    size_t lo = 0, hi = v->as.text.len;
    while (left && lo < hi && isspace((unsigned char)s[lo])) lo++;
    while (right && hi > lo && isspace((unsigned char)s[hi - 1])) hi--;
    return cy_string(run, s + lo, hi - lo, out);
}

/* replace(s, from, to), as Java's String.replace that Neo4j runs: every occurrence, left to right; an empty `from`
 * matches before every character and at the end ("abc", "", "-" gives "-a-b-c-"). */
static bool replace(cy_run *run, const eg_ps_value *args, eg_ps_value *out) {
    const char *s = args[0].as.text.data, *from = args[1].as.text.data, *to = args[2].as.text.data;
    size_t n = args[0].as.text.len, m = args[1].as.text.len, k = args[2].as.text.len;
    size_t hits = 0;
    for (size_t i = 0; i + m <= n;) {
        if (m == 0) { /* one place per character (a UTF-8 sequence), and the end */
            hits++;
            if (i == n) break;
            i++;
            while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        } else if (memcmp(s + i, from, m) == 0) {
            hits++;
            i += m;
        } else {
            i++;
        }
    }
    if (k > m && hits > (EG_PS_MAX_MESSAGE_BYTES - n) / (k - m))
        return cy_fail(run, CY_EXECUTION_FAILED, "replace would build a string of more than %zu bytes",
                       (size_t)EG_PS_MAX_MESSAGE_BYTES);
    size_t total = n + hits * k - hits * m;
    char *buffer = malloc(total + 1);
    if (!buffer) return cy_out_of_memory(run);
    size_t o = 0;
    for (size_t i = 0; i <= n;) {
        if (m == 0) {
            memcpy(buffer + o, to, k);
            o += k;
            if (i == n) break;
            do buffer[o++] = s[i++];
            while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80);
        } else if (i + m <= n && memcmp(s + i, from, m) == 0) {
            memcpy(buffer + o, to, k);
            o += k;
            i += m;
        } else if (i < n) {
            buffer[o++] = s[i++];
        } else {
            break;
        }
    }
    bool ok = cy_string(run, buffer, o, out);
    free(buffer);
    return ok;
}

static bool split(cy_run *run, const eg_ps_value *args, eg_ps_value *out) {
    const char *s = args[0].as.text.data, *sep = args[1].as.text.data;
    size_t n = args[0].as.text.len, m = args[1].as.text.len;
    if (!cy_list(run, 0, out)) return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        bool at_separator = m > 0 ? (i + m <= n && memcmp(s + i, sep, m) == 0) : (i < n && i > start);
        if (i == n || at_separator) {
            eg_ps_value part;
            if (!cy_string(run, s + start, i - start, &part) || !cy_list_push(run, out, &part)) {
                eg_ps_value_free(out);
                return false;
            }
            if (i == n) break;
            start = i + (m ? m : 0);
            if (m) i += m - 1;
        }
    }
    return true;
}

static bool substring(cy_run *run, const eg_ps_value *args, size_t count, eg_ps_value *out) {
    if (args[1].kind != EG_PS_INT || (count > 2 && args[2].kind != EG_PS_INT))
        return mismatch(run, "substring", "Integer positions", &args[1]);
    int64_t start = args[1].as.integer, length = count > 2 ? args[2].as.integer : INT64_MAX;
    if (start < 0 || length < 0) return cy_fail(run, CY_ARGUMENT_ERROR, "substring(): negative start or length");
    const char *s = args[0].as.text.data;
    size_t n = args[0].as.text.len;
    size_t from = utf8_offset(s, n, (size_t)start);
    size_t to = length == INT64_MAX ? n : from + utf8_offset(s + from, n - from, (size_t)length);
    return cy_string(run, s + from, to - from, out);
}

static bool left_right(cy_run *run, const eg_ps_value *args, bool left, eg_ps_value *out) {
    if (args[1].kind != EG_PS_INT || args[1].as.integer < 0)
        return cy_fail(run, CY_ARGUMENT_ERROR, "%s(): the length must be a non-negative Integer",
                       left ? "left" : "right");
    const char *s = args[0].as.text.data;
    size_t n = args[0].as.text.len, cps = utf8_length(s, n), k = (size_t)args[1].as.integer;
    if (k > cps) k = cps;
    if (left) return cy_string(run, s, utf8_offset(s, n, k), out);
    size_t from = utf8_offset(s, n, cps - k);
    return cy_string(run, s + from, n - from, out);
}

static bool reverse(cy_run *run, const eg_ps_value *v, eg_ps_value *out) {
    if (v->kind == EG_PS_LIST) {
        if (!cy_list(run, v->as.list.count, out)) return false;
        for (size_t i = 0; i < v->as.list.count; i++)
            if (!cy_copy(run, &v->as.list.items[v->as.list.count - 1 - i], &out->as.list.items[i])) {
                eg_ps_value_free(out);
                return false;
            }
        return true;
    }
    const char *s = v->as.text.data;
    size_t n = v->as.text.len;
    char *buffer = malloc(n + 1);
    if (!buffer) return cy_out_of_memory(run);
    /* Code point by code point, each copied whole. */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
        memcpy(buffer + n - j, s + i, j - i);
        i = j;
    }
    bool ok = cy_string(run, buffer, n, out);
    free(buffer);
    return ok;
}

typedef enum arg_kind { ANY, TEXT, NUMBER, LIST, ENTITY, NODE, RELATIONSHIP, PATH } arg_kind;

static bool expect(cy_run *run, const char *name, const eg_ps_value *v, arg_kind kind) {
    switch (kind) {
    case ANY: return true;
    case TEXT: return v->kind == EG_PS_STRING || mismatch(run, name, "a String", v);
    case NUMBER: return cy_is_number(v) || mismatch(run, name, "a number", v);
    case LIST: return v->kind == EG_PS_LIST || mismatch(run, name, "a List", v);
    case ENTITY: return cy_is_node(v) || cy_is_relationship(v) || mismatch(run, name, "a Node or Relationship", v);
    case NODE: return cy_is_node(v) || mismatch(run, name, "a Node", v);
    case RELATIONSHIP: return cy_is_relationship(v) || mismatch(run, name, "a Relationship", v);
    case PATH: return cy_is_path(v) || mismatch(run, name, "a Path", v);
    }
    return true;
}

/* The scalar functions: name, arity, and the kind of the first argument (checked here; the others are checked by
 * the function). A null argument gives null, except for coalesce, exists and timestamp. */
typedef struct function_entry {
    const char *name;
    size_t min_args, max_args;
    arg_kind first;
} function_entry;

static const function_entry functions[] = {
    {"type", 1, 1, RELATIONSHIP},
    {"properties", 1, 1, ANY},
    {"labels", 1, 1, NODE},
    {"id", 1, 1, ENTITY},
    {"elementId", 1, 1, ENTITY},
    {"nodes", 1, 1, PATH},
    {"relationships", 1, 1, PATH},
    {"startNode", 1, 1, RELATIONSHIP},
    {"endNode", 1, 1, RELATIONSHIP},
    {"size", 1, 1, ANY},
    {"length", 1, 1, ANY},
    {"keys", 1, 1, ANY},
    {"head", 1, 1, LIST},
    {"last", 1, 1, LIST},
    {"tail", 1, 1, LIST},
    {"range", 2, 3, ANY},
    {"toLower", 1, 1, TEXT},
    {"toUpper", 1, 1, TEXT},
    {"toString", 1, 1, ANY},
    {"toInteger", 1, 1, ANY},
    {"toFloat", 1, 1, ANY},
    {"toBoolean", 1, 1, ANY},
    {"abs", 1, 1, NUMBER},
    {"sign", 1, 1, NUMBER},
    {"ceil", 1, 1, NUMBER},
    {"floor", 1, 1, NUMBER},
    {"round", 1, 1, NUMBER},
    {"sqrt", 1, 1, NUMBER},
    {"reverse", 1, 1, ANY},
    {"trim", 1, 1, TEXT},
    {"ltrim", 1, 1, TEXT},
    {"rtrim", 1, 1, TEXT},
    {"replace", 3, 3, TEXT},
    {"substring", 2, 3, TEXT},
    {"split", 2, 2, TEXT},
    {"left", 2, 2, TEXT},
    {"right", 2, 2, TEXT},
    {"exists", 1, 1, ANY},
    {"coalesce", 1, SIZE_MAX, ANY},
    {"timestamp", 0, 0, ANY},
    {"isEmpty", 1, 1, ANY},
};

static bool is(const function_entry *f, const char *name) { return strcmp(f->name, name) == 0; }

static bool apply(cy_run *run, const function_entry *f, eg_ps_value *args, size_t count, eg_ps_value *out) {
    const eg_ps_value *a = count ? &args[0] : NULL;
    if (is(f, "coalesce")) {
        for (size_t i = 0; i < count; i++)
            if (args[i].kind != EG_PS_NULL) return cy_copy(run, &args[i], out);
        return true;
    }
    if (is(f, "timestamp")) {
        *out = cy_int(run->now_ms);
        return true;
    }
    if (is(f, "exists")) {
        *out = a->kind == EG_PS_NULL ? cy_bool(false) : cy_bool(true);
        return true;
    }
    if (a && a->kind == EG_PS_NULL) return true;
    if (is(f, "range")) return range(run, args, count, out);
    for (size_t i = 1; i < count; i++)
        if (args[i].kind == EG_PS_NULL) return true;
    if (!expect(run, f->name, a, f->first)) return false;
    if (f->first == TEXT)
        for (size_t i = 1; i < count; i++)
            if ((is(f, "replace") || is(f, "split")) && !expect(run, f->name, &args[i], TEXT)) return false;

    if (is(f, "type")) return cy_copy(run, &a->as.list.items[3], out);
    if (is(f, "properties")) {
        if (a->kind == EG_PS_DICT) return cy_copy(run, a, out);
        return expect(run, "properties", a, ENTITY) && entity_properties(run, a, out);
    }
    if (is(f, "labels")) return cy_copy(run, &a->as.list.items[1], out);
    if (is(f, "id")) return cy_copy(run, &a->as.list.items[0], out);
    if (is(f, "elementId")) return text_value(run, cy_element_id(a), out);
    if (is(f, "nodes")) return cy_copy(run, &a->as.list.items[0], out);
    if (is(f, "relationships")) return path_relationships(run, a, out);
    if (is(f, "startNode") || is(f, "endNode")) return relationship_end(run, a, is(f, "startNode"), out);
    if (is(f, "size") || is(f, "length") || is(f, "isEmpty")) {
        int64_t n;
        if (a->kind == EG_PS_STRING)
            n = (int64_t)utf8_length(a->as.text.data, a->as.text.len);
        else if (a->kind == EG_PS_LIST)
            n = (int64_t)a->as.list.count;
        else if (a->kind == EG_PS_DICT && is(f, "isEmpty"))
            n = (int64_t)a->as.dict.count;
        else if (cy_is_path(a) && is(f, "length"))
            n = (int64_t)a->as.list.items[1].as.list.count;
        else
            return mismatch(run, f->name, "a String or List", a);
        *out = is(f, "isEmpty") ? cy_bool(n == 0) : cy_int(n);
        return true;
    }
    if (is(f, "keys")) {
        if (a->kind == EG_PS_DICT) return map_keys(run, a, out);
        eg_ps_value props;
        if (!expect(run, "keys", a, ENTITY) || !entity_properties(run, a, &props)) return false;
        bool ok = map_keys(run, &props, out);
        eg_ps_value_free(&props);
        return ok;
    }
    if (is(f, "head") || is(f, "last")) {
        if (a->as.list.count == 0) return true;
        return cy_copy(run, &a->as.list.items[is(f, "head") ? 0 : a->as.list.count - 1], out);
    }
    if (is(f, "tail")) {
        size_t n = a->as.list.count ? a->as.list.count - 1 : 0;
        if (!cy_list(run, n, out)) return false;
        for (size_t i = 0; i < n; i++)
            if (!cy_copy(run, &a->as.list.items[i + 1], &out->as.list.items[i])) {
                eg_ps_value_free(out);
                return false;
            }
        return true;
    }
    if (is(f, "toLower") || is(f, "toUpper")) return change_case(run, a, is(f, "toUpper"), out);
    if (is(f, "toString")) return to_string(run, a, out);
    if (is(f, "toInteger")) return to_integer(run, a, out);
    if (is(f, "toFloat")) return to_float(run, a, out);
    if (is(f, "toBoolean")) return to_boolean(run, a, out);
    if (is(f, "abs")) {
        if (a->kind == EG_PS_INT) {
            if (a->as.integer == INT64_MIN) return cy_fail(run, CY_ARITHMETIC_ERROR, "integer overflow in abs()");
            *out = cy_int(a->as.integer < 0 ? -a->as.integer : a->as.integer);
        } else {
            *out = cy_float(fabs(a->as.real));
        }
        return true;
    }
    if (is(f, "sign")) {
        double d = cy_number(a);
        *out = cy_int((d > 0) - (d < 0));
        return true;
    }
    if (is(f, "ceil"))
        *out = cy_float(ceil(cy_number(a)));
    else if (is(f, "floor"))
        *out = cy_float(floor(cy_number(a)));
    else if (is(f, "round"))
        *out = cy_float(floor(cy_number(a) + 0.5));
    else if (is(f, "sqrt"))
        *out = cy_float(sqrt(cy_number(a)));
    else if (is(f, "reverse")) {
        if (a->kind != EG_PS_LIST && a->kind != EG_PS_STRING) return mismatch(run, "reverse", "a String or List", a);
        return reverse(run, a, out);
    } else if (is(f, "trim"))
        return trim(run, a, true, true, out);
    else if (is(f, "ltrim"))
        return trim(run, a, true, false, out);
    else if (is(f, "rtrim"))
        return trim(run, a, false, true, out);
    else if (is(f, "replace"))
        return replace(run, args, out);
    else if (is(f, "split"))
        return split(run, args, out);
    else if (is(f, "substring"))
        return substring(run, args, count, out);
    else if (is(f, "left") || is(f, "right"))
        return left_right(run, args, is(f, "left"), out);
    return true;
}

bool cy_function_known(const char *name) {
    static const char *const list_predicates[] = {"all", "any", "none", "single"};
    for (size_t i = 0; i < 4; i++)
        if (strcasecmp(list_predicates[i], name) == 0) return true;
    for (size_t i = 0; i < sizeof functions / sizeof *functions; i++)
        if (strcasecmp(functions[i].name, name) == 0) return true;
    for (size_t i = 0; i < sizeof aggregate_names / sizeof *aggregate_names; i++)
        if (strcasecmp(aggregate_names[i], name) == 0) return true;
    return false;
}

static const char supported_functions[] =
    "type, properties, labels, id, elementId, nodes, relationships, startNode, endNode, size, length, keys, head, "
    "last, tail, range, toLower, toUpper, toString, toInteger, toFloat, toBoolean, abs, sign, ceil, floor, round, "
    "sqrt, reverse, trim, ltrim, rtrim, replace, substring, split, left, right, exists, isEmpty, coalesce, timestamp, "
    "the list predicates all, any, none, single and the aggregations count, collect, sum, avg, min, max";

bool cy_unknown_function(cy_run *run, const cy_expr *call) {
    return cy_fail(run, CY_SYNTAX_ERROR, "Unknown function '%s' (line %u, column %u): engram supports %s", call->name,
                   call->at.line, call->at.column, supported_functions);
}

bool cy_call_function(const cy_env *env, const cy_expr *call, eg_ps_value *args, size_t count, eg_ps_value *out) {
    cy_run *run = env->run;
    *out = cy_null();
    for (size_t i = 0; i < sizeof functions / sizeof *functions; i++) {
        const function_entry *f = &functions[i];
        if (strcasecmp(f->name, call->name) != 0) continue;
        if (call->distinct)
            return cy_fail(run, CY_SYNTAX_ERROR, "DISTINCT is only allowed in aggregating functions, not %s()",
                           f->name);
        return arity(run, f->name, count, f->min_args, f->max_args) && apply(run, f, args, count, out);
    }
    return cy_unknown_function(run, call);
}
