/* filter.c — Qdrant filters: compiling the JSON into the tree of filter_internal.h, and evaluating it against a
 * point's id and payload (see eg_filter in engram/vectors.h).
 *
 * Semantics follow the Qdrant server (lib/segment/src/payload_storage/condition_checker.rs and query_checker.rs,
 * the filtering documentation, and the qdrant-client local mode that mirrors them):
 * - must: all conditions hold; must_not: none holds; should: at least one holds, and an empty should is no
 *   constraint; min_should: at least min_count of its conditions hold (an empty list with min_count >= 1 holds
 *   for no point). Every present clause must hold; {} holds for every point.
 * - A key path reaches zero or more values (filter_internal.h). A match or range condition holds when one of
 *   those values passes the test, where a value that is an array passes when one of its elements does (one level
 *   only: [[1]] does not match 1); a key that reaches nothing fails.
 * - match value: a string equals a string, an integer an integer (never a real, so 5 does not match 5.0), a bool
 *   a bool; types never cross. match any: the value is in the list. match except: the value is not in the list,
 *   where null never passes, a value of another type than the list's always passes (true, 1.5, an object, a
 *   nested array), and a missing key or an empty array fails (there is no value to pass).
 * - range: integers and reals compare exactly by numeric value (Qdrant converts to double; the answers differ
 *   only beyond 2^53); anything but a number fails.
 * - is_empty: every value the key reaches is null or [] (so a missing key is empty, and [null] is not).
 *   is_null: some value the key reaches is null or an array holding a null (Qdrant 1.19.1, qdrant#10101).
 * - has_id: the point's id is in the list; a NULL id (a check of a payload alone) is in no list.
 *
 * Accepted shapes, where Qdrant's are wider or unclear:
 * - A clause is an array of conditions, one condition object (Qdrant accepts both), or null (absent).
 * - min_count must be an integer >= 1: the Qdrant server refuses 0 (422) and negatives.
 * - A range bound may be null (absent, as in Qdrant's examples), but at least one bound must be a number.
 * - Not supported, and rejected by name: "nested" object conditions, match text/phrase/prefix, geo, values_count,
 *   datetime ranges, and the field-condition forms of is_empty / is_null.
 * - Filters nest at most EG_FILTER_DEPTH_MAX deep, counting the outermost filter as 1. */
#include "vector/filter_internal.h"

#include "util/quote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for a location such as "filter.must[2].should[0].range"; a longer one is cut, which only shortens a
 * message. */
#define WHERE_MAX 384

/* Writes a location into out (WHERE_MAX bytes), cutting it if needed. */
__attribute__((format(printf, 2, 3))) static void locate(char out[WHERE_MAX], const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, WHERE_MAX, fmt, ap);
    va_end(ap);
}

static eg_status out_of_memory(eg_error *err) { return eg_error_set(err, EG_INTERNAL, "out of memory"); }

/* "a string", "an integer", ... for messages about a value of the wrong type. */
static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

static eg_status copy_keyword(json_t *string, eg_keyword *out, eg_error *err) {
    out->len = json_string_length(string);
    out->text = malloc(out->len + 1);
    if (!out->text) return out_of_memory(err);
    memcpy(out->text, json_string_value(string), out->len + 1);
    return EG_OK;
}

static int keyword_compare(const eg_keyword *a, const eg_keyword *b) {
    int c = memcmp(a->text, b->text, a->len < b->len ? a->len : b->len);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);
}

static int keyword_sort_compare(const void *a, const void *b) { return keyword_compare(a, b); }

static int integer_sort_compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int id_sort_compare(const void *a, const void *b) { return eg_point_id_compare(a, b); }

/* ---- Key paths ------------------------------------------------------------------------------------------ */

static bool is_bare_key_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c >= 0x80;
}

void eg_key_path_clear(eg_key_path *path) {
    if (!path) return;
    for (size_t i = 0; i < path->count; i++) free(path->steps[i].key);
    free(path->steps);
    free(path->text);
    memset(path, 0, sizeof *path);
}

static eg_status path_error(const char *what, const char *text, const char *problem, size_t at, eg_error *err) {
    char q[256];
    eg_quote_for_message(text, q, sizeof q);
    return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: invalid key path '%s': %s at byte %zu", what, q, problem, at);
}

static eg_status path_push(eg_key_path *path, size_t *cap, eg_path_step step, const char *what, eg_error *err) {
    if (path->count == EG_KEY_PATH_STEPS_MAX) {
        free(step.key);
        char q[256];
        eg_quote_for_message(path->text, q, sizeof q);
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: key path '%s' has more than %d steps", what, q,
                            EG_KEY_PATH_STEPS_MAX);
    }
    if (path->count == *cap) {
        size_t grown = *cap ? *cap * 2 : 4;
        eg_path_step *steps = realloc(path->steps, grown * sizeof *steps);
        if (!steps) {
            free(step.key);
            return out_of_memory(err);
        }
        path->steps = steps;
        *cap = grown;
    }
    path->steps[path->count++] = step;
    return EG_OK;
}

/* A bare or quoted key starting at text[*pos]; advances *pos past it. */
static eg_status parse_path_key(const eg_key_path *path, size_t len, size_t *pos, const char *what, eg_path_step *out,
                                eg_error *err) {
    const char *text = path->text;
    size_t start = *pos, end;
    if (start < len && text[start] == '"') {
        end = start + 1;
        while (end < len && text[end] != '"' && text[end] != '\\') end++;
        if (end >= len || text[end] != '"')
            return path_error(what, text, "a quoted key must end with '\"' and cannot hold '\\'", start, err);
        start++;
        *pos = end + 1;
    } else {
        end = start;
        while (end < len && is_bare_key_byte((unsigned char)text[end])) end++;
        if (end == start)
            return path_error(what, text, "expected a key (letters, digits, _ or -, or a quoted key)", start, err);
        *pos = end;
    }
    out->kind = EG_PATH_KEY;
    out->key_len = end - start;
    out->key = malloc(out->key_len + 1);
    if (!out->key) return out_of_memory(err);
    memcpy(out->key, text + start, out->key_len);
    out->key[out->key_len] = '\0';
    return EG_OK;
}

/* "[]" or "[n]" starting at text[*pos] (the '['); advances *pos past it. */
static eg_status parse_path_brackets(const eg_key_path *path, size_t len, size_t *pos, const char *what,
                                     eg_path_step *out, eg_error *err) {
    const char *text = path->text;
    size_t i = *pos + 1;
    if (i < len && text[i] == ']') {
        out->kind = EG_PATH_EVERY;
        *pos = i + 1;
        return EG_OK;
    }
    size_t index = 0, digits = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++) {
        size_t d = (size_t)(text[i] - '0');
        if (index > (SIZE_MAX - d) / 10) return path_error(what, text, "array index too large", *pos + 1, err);
        index = index * 10 + d;
    }
    if (digits == 0 || i >= len || text[i] != ']')
        return path_error(what, text, "expected '[]' or '[' index ']'", *pos, err);
    out->kind = EG_PATH_INDEX;
    out->index = index;
    *pos = i + 1;
    return EG_OK;
}

eg_status eg_key_path_parse(const char *text, size_t len, const char *what, eg_key_path *out, eg_error *err) {
    memset(out, 0, sizeof *out);
    if (len == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: must not be empty", what);
    out->text = malloc(len + 1);
    if (!out->text) return out_of_memory(err);
    memcpy(out->text, text, len);
    out->text[len] = '\0';

    size_t pos = 0, cap = 0;
    eg_status st;
    do {
        eg_path_step step = {0};
        if (out->count == 0) {
            st = parse_path_key(out, len, &pos, what, &step, err);
        } else if (out->text[pos] == '.') {
            pos++;
            st = parse_path_key(out, len, &pos, what, &step, err);
        } else if (out->text[pos] == '[') {
            st = parse_path_brackets(out, len, &pos, what, &step, err);
        } else {
            st = path_error(what, out->text, "expected '.', '[]' or '[' index ']'", pos, err);
        }
        if (st == EG_OK) st = path_push(out, &cap, step, what, err);
    } while (st == EG_OK && pos < len);
    if (st != EG_OK) eg_key_path_clear(out);
    return st;
}

static bool walk_path(const eg_path_step *step, size_t left, json_t *value, eg_key_path_visit visit, void *ctx) {
    if (left == 0) return visit(value, ctx);
    switch (step->kind) {
    case EG_PATH_KEY: {
        json_t *member = json_is_object(value) ? json_object_getn(value, step->key, step->key_len) : NULL;
        return member && walk_path(step + 1, left - 1, member, visit, ctx);
    }
    case EG_PATH_INDEX: {
        json_t *element = json_is_array(value) ? json_array_get(value, step->index) : NULL;
        return element && walk_path(step + 1, left - 1, element, visit, ctx);
    }
    case EG_PATH_EVERY: {
        size_t i;
        json_t *element;
        if (!json_is_array(value)) return false;
        json_array_foreach(value, i, element) {
            if (walk_path(step + 1, left - 1, element, visit, ctx)) return true;
        }
        return false;
    }
    }
    return false;
}

bool eg_key_path_each(const eg_key_path *path, json_t *payload, eg_key_path_visit visit, void *ctx) {
    return walk_path(path->steps, path->count, payload, visit, ctx);
}

/* ---- Freeing -------------------------------------------------------------------------------------------- */

static void node_clear(eg_filter_node *node);

static void condition_clear(eg_condition *c) {
    eg_key_path_clear(&c->key);
    switch (c->kind) {
    case EG_COND_MATCH_VALUE: free(c->value.keyword.text); break;
    case EG_COND_MATCH_ANY:
    case EG_COND_MATCH_EXCEPT:
        for (size_t i = 0; c->set.keywords && i < c->set.count; i++) free(c->set.keywords[i].text);
        free(c->set.keywords);
        free(c->set.integers);
        break;
    case EG_COND_HAS_ID: free(c->has_id.ids); break;
    case EG_COND_FILTER:
        node_clear(c->filter);
        free(c->filter);
        break;
    case EG_COND_RANGE:
    case EG_COND_IS_EMPTY:
    case EG_COND_IS_NULL: break;
    }
}

static void list_clear(eg_condition_list *list) {
    for (size_t i = 0; i < list->count; i++) condition_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void node_clear(eg_filter_node *node) {
    if (!node) return;
    list_clear(&node->must);
    list_clear(&node->should);
    list_clear(&node->must_not);
    list_clear(&node->min_should);
}

void eg_filter_free(eg_filter *f) {
    if (!f) return;
    node_clear(&f->root);
    json_decref(f->json);
    free(f);
}

/* ---- Compiling ------------------------------------------------------------------------------------------ */

static eg_status parse_node(json_t *json, int depth, const char *where, eg_filter_node *node, eg_error *err);

static eg_status parse_key(json_t *key, const char *where, eg_key_path *out, eg_error *err) {
    char what[WHERE_MAX];
    locate(what, "%s.key", where);
    if (!json_is_string(key))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: must be a string, got %s", what, json_kind(key));
    return eg_key_path_parse(json_string_value(key), json_string_length(key), what, out, err);
}

static eg_status parse_match_value(json_t *v, const char *where, eg_match_value *out, eg_error *err) {
    switch (json_typeof(v)) {
    case JSON_STRING: out->type = EG_MATCH_KEYWORD; return copy_keyword(v, &out->keyword, err);
    case JSON_INTEGER:
        out->type = EG_MATCH_INTEGER;
        out->integer = json_integer_value(v);
        return EG_OK;
    case JSON_TRUE:
    case JSON_FALSE:
        out->type = EG_MATCH_BOOL;
        out->boolean = json_is_true(v);
        return EG_OK;
    case JSON_NULL:
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "%s.match.value: must be a string, an integer or a boolean, got null (use is_null to "
                            "test for null)",
                            where);
    default:
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "%s.match.value: must be a string, an integer or a boolean, got %s", where, json_kind(v));
    }
}

/* Sorts and deduplicates a set's values in place. */
static void set_normalize(eg_match_set *set) {
    size_t kept = 0;
    if (set->type == EG_MATCH_KEYWORD) {
        qsort(set->keywords, set->count, sizeof *set->keywords, keyword_sort_compare);
        for (size_t i = 0; i < set->count; i++) {
            if (kept > 0 && keyword_compare(&set->keywords[kept - 1], &set->keywords[i]) == 0)
                free(set->keywords[i].text);
            else
                set->keywords[kept++] = set->keywords[i];
        }
    } else {
        qsort(set->integers, set->count, sizeof *set->integers, integer_sort_compare);
        for (size_t i = 0; i < set->count; i++)
            if (kept == 0 || set->integers[kept - 1] != set->integers[i]) set->integers[kept++] = set->integers[i];
    }
    set->count = kept;
}

/* The list of "any" or "except" (name): strings or integers, not mixed. */
static eg_status parse_match_set(json_t *list, const char *where, const char *name, eg_match_set *out, eg_error *err) {
    if (!json_is_array(list))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.match.%s: must be an array of strings or of integers, got %s",
                            where, name, json_kind(list));
    size_t n = json_array_size(list);
    out->type = n > 0 && json_is_integer(json_array_get(list, 0)) ? EG_MATCH_INTEGER : EG_MATCH_KEYWORD;
    if (n == 0) return EG_OK;
    if (out->type == EG_MATCH_KEYWORD)
        out->keywords = calloc(n, sizeof *out->keywords);
    else
        out->integers = calloc(n, sizeof *out->integers);
    if (!out->keywords && !out->integers) return out_of_memory(err);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        if (!json_is_string(item) && !json_is_integer(item))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.match.%s[%zu]: must be a string or an integer, got %s",
                                where, name, i, json_kind(item));
        if (json_is_integer(item) != (out->type == EG_MATCH_INTEGER))
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "%s.match.%s[%zu]: mixes strings and integers: the list must hold one type", where,
                                name, i);
        if (out->type == EG_MATCH_INTEGER) {
            out->integers[i] = json_integer_value(item);
        } else {
            eg_status st = copy_keyword(item, &out->keywords[i], err);
            if (st != EG_OK) return st;
        }
        out->count = i + 1;
    }
    set_normalize(out);
    return EG_OK;
}

static eg_status parse_match(json_t *match, const char *where, eg_condition *c, eg_error *err) {
    if (!json_is_object(match))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.match: must be an object, got %s", where, json_kind(match));
    const char *chosen = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(match, k, v) {
        if (strcmp(k, "value") != 0 && strcmp(k, "any") != 0 && strcmp(k, "except") != 0) {
            char q[256];
            eg_quote_for_message(k, q, sizeof q);
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "%s.match: unknown key '%s': expected one of value, any or except", where, q);
        }
        if (chosen)
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "%s.match: takes one of value, any or except, got both %s and %s", where, chosen, k);
        chosen = k;
    }
    if (!chosen) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.match: needs one of value, any or except", where);
    v = json_object_get(match, chosen);
    if (strcmp(chosen, "value") == 0) {
        c->kind = EG_COND_MATCH_VALUE;
        return parse_match_value(v, where, &c->value, err);
    }
    c->kind = strcmp(chosen, "any") == 0 ? EG_COND_MATCH_ANY : EG_COND_MATCH_EXCEPT;
    return parse_match_set(v, where, chosen, &c->set, err);
}

static eg_status parse_range(json_t *range, const char *where, eg_range *out, eg_error *err) {
    if (!json_is_object(range))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.range: must be an object of bounds, got %s", where,
                            json_kind(range));
    const char *k;
    json_t *v;
    bool any_bound = false;
    json_object_foreach(range, k, v) {
        eg_range_bound *bound = strcmp(k, "gt") == 0    ? &out->gt
                                : strcmp(k, "gte") == 0 ? &out->gte
                                : strcmp(k, "lt") == 0  ? &out->lt
                                : strcmp(k, "lte") == 0 ? &out->lte
                                                        : NULL;
        if (!bound) {
            char q[256];
            eg_quote_for_message(k, q, sizeof q);
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.range: unknown bound '%s': expected gt, gte, lt or lte",
                                where, q);
        }
        if (json_is_null(v)) continue;
        if (!json_is_number(v))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.range.%s: must be a number, got %s", where, k,
                                json_kind(v));
        bound->set = true;
        bound->is_integer = json_is_integer(v);
        bound->integer = bound->is_integer ? json_integer_value(v) : 0;
        bound->real = json_number_value(v);
        any_bound = true;
    }
    if (!any_bound)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.range: needs at least one of gt, gte, lt or lte", where);
    return EG_OK;
}

/* {"is_empty": {"key": K}} and {"is_null": {"key": K}}: name is "is_empty" or "is_null". */
static eg_status parse_key_object(json_t *obj, const char *where, const char *name, eg_key_path *out, eg_error *err) {
    char what[WHERE_MAX];
    locate(what, "%s.%s", where, name);
    if (!json_is_object(obj))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: must be an object {\"key\": ...}, got %s", what,
                            json_kind(obj));
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "key") != 0) {
            char q[256];
            eg_quote_for_message(k, q, sizeof q);
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: unknown key '%s': expected only key", what, q);
        }
    }
    json_t *key = json_object_get(obj, "key");
    if (!key) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: needs a key", what);
    return parse_key(key, what, out, err);
}

static eg_status parse_has_id(json_t *list, const char *where, eg_id_set *out, eg_error *err) {
    if (!json_is_array(list))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.has_id: must be an array of point ids, got %s", where,
                            json_kind(list));
    size_t n = json_array_size(list);
    if (n == 0) return EG_OK;
    out->ids = malloc(n * sizeof *out->ids);
    if (!out->ids) return out_of_memory(err);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        eg_status st = eg_point_id_from_json(item, &out->ids[i], err);
        if (st != EG_OK) return eg_error_prefix(err, st, "%s.has_id[%zu]: ", where, i);
    }
    qsort(out->ids, n, sizeof *out->ids, id_sort_compare);
    size_t kept = 0;
    for (i = 0; i < n; i++)
        if (kept == 0 || eg_point_id_compare(&out->ids[kept - 1], &out->ids[i]) != 0) out->ids[kept++] = out->ids[i];
    out->count = kept;
    return EG_OK;
}

/* What a key of a condition object says about the condition's kind. */
typedef enum condition_shape { SHAPE_FIELD, SHAPE_IS_EMPTY, SHAPE_IS_NULL, SHAPE_HAS_ID, SHAPE_FILTER } condition_shape;

/* False for a key that belongs to no condition. */
static bool shape_of_key(const char *k, condition_shape *out) {
    static const struct {
        const char *key;
        condition_shape shape;
    } shapes[] = {
        {"key", SHAPE_FIELD},        {"match", SHAPE_FIELD},     {"range", SHAPE_FIELD},
        {"is_empty", SHAPE_IS_EMPTY}, {"is_null", SHAPE_IS_NULL}, {"has_id", SHAPE_HAS_ID},
        {"must", SHAPE_FILTER},       {"should", SHAPE_FILTER},   {"must_not", SHAPE_FILTER},
        {"min_should", SHAPE_FILTER},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(k, shapes[i].key) == 0) {
            *out = shapes[i].shape;
            return true;
        }
    return false;
}

/* Qdrant condition keys this store knows of but does not implement, so that the message says so. */
static bool is_unsupported_qdrant_key(const char *k) {
    static const char *const keys[] = {"nested",      "geo_bounding_box", "geo_radius",
                                       "geo_polygon", "values_count",     "has_vector"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(k, keys[i]) == 0) return true;
    return false;
}

static eg_status parse_field_condition(json_t *obj, const char *where, eg_condition *c, eg_error *err) {
    json_t *key = json_object_get(obj, "key"), *match = json_object_get(obj, "match"),
           *range = json_object_get(obj, "range");
    if (!key) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: a field condition needs a key", where);
    if (!match && !range)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: a field condition needs match or range", where);
    if (match && range)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: a field condition takes match or range, not both", where);
    eg_status st = parse_key(key, where, &c->key, err);
    if (st != EG_OK) return st;
    if (match) return parse_match(match, where, c, err);
    c->kind = EG_COND_RANGE;
    return parse_range(range, where, &c->range, err);
}

static eg_status parse_condition(json_t *obj, int depth, const char *where, eg_condition *c, eg_error *err) {
    if (!json_is_object(obj))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: a condition must be an object, got %s", where,
                            json_kind(obj));
    condition_shape shape = SHAPE_FILTER; /* {} is an empty filter, which holds for every point */
    const char *first = NULL, *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        char q[256];
        eg_quote_for_message(k, q, sizeof q);
        condition_shape s;
        if (!shape_of_key(k, &s))
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                is_unsupported_qdrant_key(k) ? "%s: '%s' conditions are not supported"
                                                             : "%s: unknown condition key '%s'",
                                where, q);
        if (first && s != shape)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: '%s' cannot be combined with '%s' in one condition",
                                where, q, first);
        shape = s;
        first = k;
    }
    switch (shape) {
    case SHAPE_FIELD: return parse_field_condition(obj, where, c, err);
    case SHAPE_IS_EMPTY:
        c->kind = EG_COND_IS_EMPTY;
        return parse_key_object(json_object_get(obj, "is_empty"), where, "is_empty", &c->key, err);
    case SHAPE_IS_NULL:
        c->kind = EG_COND_IS_NULL;
        return parse_key_object(json_object_get(obj, "is_null"), where, "is_null", &c->key, err);
    case SHAPE_HAS_ID:
        c->kind = EG_COND_HAS_ID;
        return parse_has_id(json_object_get(obj, "has_id"), where, &c->has_id, err);
    case SHAPE_FILTER:
        c->kind = EG_COND_FILTER;
        c->filter = calloc(1, sizeof *c->filter);
        if (!c->filter) return out_of_memory(err);
        return parse_node(obj, depth + 1, where, c->filter, err);
    }
    return EG_OK;
}

/* A clause's conditions: an array, one condition object, or null (none). `where` names the clause. */
static eg_status parse_clause(json_t *clause, int depth, const char *where, eg_condition_list *out, eg_error *err) {
    if (json_is_null(clause)) return EG_OK;
    if (json_is_object(clause)) {
        out->items = calloc(1, sizeof *out->items);
        if (!out->items) return out_of_memory(err);
        out->count = 1;
        return parse_condition(clause, depth, where, &out->items[0], err);
    }
    if (!json_is_array(clause))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: must be an array of conditions, got %s", where,
                            json_kind(clause));
    size_t n = json_array_size(clause);
    if (n == 0) return EG_OK;
    out->items = calloc(n, sizeof *out->items);
    if (!out->items) return out_of_memory(err);
    out->count = n; /* the calloc'd rest clears safely if a condition fails */
    size_t i;
    json_t *item;
    json_array_foreach(clause, i, item) {
        char here[WHERE_MAX];
        locate(here, "%s[%zu]", where, i);
        eg_status st = parse_condition(item, depth, here, &out->items[i], err);
        if (st != EG_OK) return st;
    }
    return EG_OK;
}

static eg_status parse_min_should(json_t *obj, int depth, const char *where, eg_filter_node *node, eg_error *err) {
    char what[WHERE_MAX];
    locate(what, "%s.min_should", where);
    if (json_is_null(obj)) return EG_OK;
    if (!json_is_object(obj))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "%s: must be an object {\"conditions\": [...], \"min_count\": n}, got %s", what,
                            json_kind(obj));
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcmp(k, "conditions") != 0 && strcmp(k, "min_count") != 0) {
            char q[256];
            eg_quote_for_message(k, q, sizeof q);
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: unknown key '%s': expected conditions and min_count",
                                what, q);
        }
    }
    json_t *conditions = json_object_get(obj, "conditions"), *min_count = json_object_get(obj, "min_count");
    if (!conditions) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: needs conditions", what);
    if (!min_count) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: needs min_count", what);
    if (!json_is_integer(min_count) || json_integer_value(min_count) < 1) {
        char got[64];
        if (json_is_integer(min_count))
            snprintf(got, sizeof got, "%" JSON_INTEGER_FORMAT, json_integer_value(min_count));
        else
            snprintf(got, sizeof got, "%s", json_kind(min_count));
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s.min_count: must be an integer of at least 1, got %s", what,
                            got);
    }
    char list_where[WHERE_MAX];
    locate(list_where, "%s.conditions", what);
    if (!json_is_array(conditions))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: must be an array of conditions, got %s", list_where,
                            json_kind(conditions));
    node->has_min_should = true;
    node->min_count = (size_t)json_integer_value(min_count);
    return parse_clause(conditions, depth, list_where, &node->min_should, err);
}

static eg_status parse_node(json_t *json, int depth, const char *where, eg_filter_node *node, eg_error *err) {
    if (depth > EG_FILTER_DEPTH_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%s: filters are nested more than %d deep", where,
                            EG_FILTER_DEPTH_MAX);
    const char *k;
    json_t *v;
    json_object_foreach(json, k, v) {
        char here[WHERE_MAX];
        locate(here, "%s.%s", where, k);
        eg_status st;
        if (strcmp(k, "must") == 0)
            st = parse_clause(v, depth, here, &node->must, err);
        else if (strcmp(k, "should") == 0)
            st = parse_clause(v, depth, here, &node->should, err);
        else if (strcmp(k, "must_not") == 0)
            st = parse_clause(v, depth, here, &node->must_not, err);
        else if (strcmp(k, "min_should") == 0)
            st = parse_min_should(v, depth, where, node, err);
        else {
            char q[256];
            eg_quote_for_message(k, q, sizeof q);
            st = eg_error_set(err, EG_INVALID_ARGUMENT,
                              "%s: unknown key '%s': expected must, should, must_not or min_should", where, q);
        }
        if (st != EG_OK) return st;
    }
    return EG_OK;
}

eg_status eg_filter_parse(json_t *json, eg_filter **out, eg_error *err) {
    *out = NULL;
    if (!json_is_object(json))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "filter: must be an object, got %s",
                            json ? json_kind(json) : "nothing");
    eg_filter *f = calloc(1, sizeof *f);
    if (!f) return out_of_memory(err);
    f->json = json_incref(json);
    eg_status st = parse_node(json, 1, "filter", &f->root, err);
    if (st != EG_OK) {
        eg_filter_free(f);
        return st;
    }
    *out = f;
    return EG_OK;
}

json_t *eg_filter_json(const eg_filter *f) { return f->json; }

/* ---- Evaluating ----------------------------------------------------------------------------------------- */

/* The sign of i - d, exactly (a cast to double would round integers beyond 2^53). d is finite. */
static int compare_integer_real(int64_t i, double d) {
    if (d >= 9223372036854775808.0) return -1; /* 2^63: above every int64 */
    if (d < -9223372036854775808.0) return 1;
    int64_t whole = (int64_t)d; /* truncates toward zero; exact in this range */
    if (i != whole) return i < whole ? -1 : 1;
    double fraction = d - (double)whole; /* exact: whole is d's integer part */
    return fraction > 0 ? -1 : fraction < 0 ? 1 : 0;
}

/* The sign of number - bound; number is a JSON integer or real. */
static int compare_to_bound(json_t *number, const eg_range_bound *b) {
    if (json_is_integer(number)) {
        int64_t i = json_integer_value(number);
        if (b->is_integer) return (i > b->integer) - (i < b->integer);
        return compare_integer_real(i, b->real);
    }
    double d = json_real_value(number);
    if (b->is_integer) return -compare_integer_real(b->integer, d);
    return (d > b->real) - (d < b->real);
}

static bool range_accepts(const eg_range *r, json_t *value) {
    if (!json_is_number(value)) return false;
    return (!r->gt.set || compare_to_bound(value, &r->gt) > 0) &&
           (!r->gte.set || compare_to_bound(value, &r->gte) >= 0) &&
           (!r->lt.set || compare_to_bound(value, &r->lt) < 0) &&
           (!r->lte.set || compare_to_bound(value, &r->lte) <= 0);
}

static bool keyword_equals(const eg_keyword *k, json_t *string) {
    return json_string_length(string) == k->len && memcmp(json_string_value(string), k->text, k->len) == 0;
}

static bool set_contains(const eg_match_set *set, json_t *value) {
    if (set->count == 0) return false; /* the arrays are NULL then, which bsearch must not be given */
    if (set->type == EG_MATCH_KEYWORD) {
        eg_keyword probe = {(char *)json_string_value(value), json_string_length(value)};
        return bsearch(&probe, set->keywords, set->count, sizeof *set->keywords, keyword_sort_compare) != NULL;
    }
    int64_t probe = json_integer_value(value);
    return bsearch(&probe, set->integers, set->count, sizeof *set->integers, integer_sort_compare) != NULL;
}

/* Is value of the set's type (a string for keywords, an integer for integers)? */
static bool set_type_fits(const eg_match_set *set, json_t *value) {
    return set->type == EG_MATCH_KEYWORD ? json_is_string(value) : json_is_integer(value);
}

bool eg_condition_accepts(const eg_condition *c, json_t *value) {
    switch (c->kind) {
    case EG_COND_MATCH_VALUE:
        switch (c->value.type) {
        case EG_MATCH_KEYWORD: return json_is_string(value) && keyword_equals(&c->value.keyword, value);
        case EG_MATCH_INTEGER: return json_is_integer(value) && json_integer_value(value) == c->value.integer;
        case EG_MATCH_BOOL: return json_is_boolean(value) && json_is_true(value) == c->value.boolean;
        }
        return false;
    case EG_COND_MATCH_ANY: return set_type_fits(&c->set, value) && set_contains(&c->set, value);
    case EG_COND_MATCH_EXCEPT:
        if (json_is_null(value)) return false;
        return !set_type_fits(&c->set, value) || !set_contains(&c->set, value);
    case EG_COND_RANGE: return range_accepts(&c->range, value);
    case EG_COND_IS_EMPTY:
    case EG_COND_IS_NULL:
    case EG_COND_HAS_ID:
    case EG_COND_FILTER: return false;
    }
    return false;
}

/* A value the key reached passes when it, or for an array one of its elements, is accepted. */
static bool visit_accepts(json_t *value, void *ctx) {
    const eg_condition *c = ctx;
    if (!json_is_array(value)) return eg_condition_accepts(c, value);
    size_t i;
    json_t *element;
    json_array_foreach(value, i, element) {
        if (eg_condition_accepts(c, element)) return true;
    }
    return false;
}

static bool visit_non_empty(json_t *value, void *ctx) {
    (void)ctx;
    return !json_is_null(value) && !(json_is_array(value) && json_array_size(value) == 0);
}

static bool visit_null(json_t *value, void *ctx) {
    (void)ctx;
    if (json_is_null(value)) return true;
    if (!json_is_array(value)) return false;
    size_t i;
    json_t *element;
    json_array_foreach(value, i, element) {
        if (json_is_null(element)) return true;
    }
    return false;
}

static bool id_in(const eg_id_set *set, const eg_point_id *id) {
    /* An empty list has no array to search (NULL, which bsearch must not be given). */
    return id && set->count > 0 && bsearch(id, set->ids, set->count, sizeof *set->ids, id_sort_compare) != NULL;
}

static bool node_matches(const eg_filter_node *node, const eg_point_id *id, json_t *payload);

static bool condition_matches(const eg_condition *c, const eg_point_id *id, json_t *payload) {
    switch (c->kind) {
    case EG_COND_MATCH_VALUE:
    case EG_COND_MATCH_ANY:
    case EG_COND_MATCH_EXCEPT:
    case EG_COND_RANGE: return eg_key_path_each(&c->key, payload, visit_accepts, (void *)c);
    case EG_COND_IS_EMPTY: return !eg_key_path_each(&c->key, payload, visit_non_empty, NULL);
    case EG_COND_IS_NULL: return eg_key_path_each(&c->key, payload, visit_null, NULL);
    case EG_COND_HAS_ID: return id_in(&c->has_id, id);
    case EG_COND_FILTER: return node_matches(c->filter, id, payload);
    }
    return false;
}

static bool node_matches(const eg_filter_node *node, const eg_point_id *id, json_t *payload) {
    for (size_t i = 0; i < node->must.count; i++)
        if (!condition_matches(&node->must.items[i], id, payload)) return false;
    for (size_t i = 0; i < node->must_not.count; i++)
        if (condition_matches(&node->must_not.items[i], id, payload)) return false;
    if (node->should.count > 0) {
        bool any = false;
        for (size_t i = 0; i < node->should.count && !any; i++)
            any = condition_matches(&node->should.items[i], id, payload);
        if (!any) return false;
    }
    if (node->has_min_should) {
        size_t held = 0;
        for (size_t i = 0; i < node->min_should.count && held < node->min_count; i++)
            if (condition_matches(&node->min_should.items[i], id, payload)) held++;
        if (held < node->min_count) return false;
    }
    return true;
}

bool eg_filter_matches(const eg_filter *f, const eg_point_id *id, json_t *payload) {
    return node_matches(&f->root, id, payload);
}
