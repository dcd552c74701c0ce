/* neo4j_values.c — values between engram and Neo4j: statement parameters built as PackStream, JSON properties to
 * Neo4j property values and back, nodes and relationships read from result rows, and the label / type fragments
 * of statement texts. */
#include "graph/neo4j/neo4j_graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters ---- */

void nj_params_init(nj_params *p) { *p = (nj_params){.dict = {.kind = EG_PS_DICT}}; }

void nj_params_free(nj_params *p) { eg_ps_value_free(&p->dict); }

static char *copy_text(const char *s, size_t len) {
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

void nj_param_take(nj_params *p, const char *name, eg_ps_value *value) {
    if (!p->failed && p->dict.as.dict.count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        eg_ps_entry *grown = realloc(p->dict.as.dict.entries, cap * sizeof *grown);
        if (grown) {
            p->dict.as.dict.entries = grown;
            p->cap = cap;
        } else {
            p->failed = true;
        }
    }
    char *key = p->failed ? NULL : copy_text(name, strlen(name));
    if (!key) {
        p->failed = true;
        eg_ps_value_free(value);
        return;
    }
    eg_ps_entry *e = &p->dict.as.dict.entries[p->dict.as.dict.count++];
    *e = (eg_ps_entry){.key = key, .key_len = strlen(name), .value = *value};
    *value = (eg_ps_value){.kind = EG_PS_NULL};
}

void nj_param_string(nj_params *p, const char *name, const char *value) {
    eg_ps_value v;
    if (!nj_ps_string(value, &v)) {
        p->failed = true;
        return;
    }
    nj_param_take(p, name, &v);
}

void nj_param_int(nj_params *p, const char *name, int64_t value) {
    eg_ps_value v = {.kind = EG_PS_INT, .as.integer = value};
    nj_param_take(p, name, &v);
}

void nj_param_float(nj_params *p, const char *name, double value) {
    eg_ps_value v = {.kind = EG_PS_FLOAT, .as.real = value};
    nj_param_take(p, name, &v);
}

void nj_param_null(nj_params *p, const char *name) {
    eg_ps_value v = {.kind = EG_PS_NULL};
    nj_param_take(p, name, &v);
}

eg_status nj_params_status(const nj_params *p, eg_error *err) {
    return p->failed ? eg_error_set(err, EG_INTERNAL, "out of memory") : EG_OK;
}

bool nj_ps_string(const char *s, eg_ps_value *out) {
    size_t len = strlen(s);
    *out = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {copy_text(s, len), len}};
    if (!out->as.text.data) out->kind = EG_PS_NULL;
    return out->kind == EG_PS_STRING;
}

bool nj_ps_list(size_t count, eg_ps_value *out) {
    *out = (eg_ps_value){.kind = EG_PS_LIST};
    if (count == 0) return true;
    out->as.list.items = calloc(count, sizeof *out->as.list.items);
    if (!out->as.list.items) return false;
    out->as.list.count = count;
    return true; /* calloc: every item is EG_PS_NULL (0) */
}

bool nj_ps_string_list(const char *const *ids, size_t count, eg_ps_value *out) {
    if (!nj_ps_list(count, out)) return false;
    for (size_t i = 0; i < count; i++)
        if (!nj_ps_string(ids[i], &out->as.list.items[i])) {
            eg_ps_value_free(out);
            return false;
        }
    return true;
}

/* ---- JSON properties -> Neo4j property values ---- */

static eg_status refuse_value(eg_error *err, const char *name, const char *what) {
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "property '%s' %s: Neo4j stores only null, booleans, integers, floats, strings and lists of "
                        "one kind of these",
                        name, what);
}

/* One JSON value that is not an object or array -> PackStream. */
static bool scalar_to_ps(json_t *v, eg_ps_value *out) {
    switch (json_typeof(v)) {
    case JSON_TRUE: *out = (eg_ps_value){.kind = EG_PS_BOOL, .as.boolean = true}; return true;
    case JSON_FALSE: *out = (eg_ps_value){.kind = EG_PS_BOOL, .as.boolean = false}; return true;
    case JSON_INTEGER: *out = (eg_ps_value){.kind = EG_PS_INT, .as.integer = json_integer_value(v)}; return true;
    case JSON_REAL: *out = (eg_ps_value){.kind = EG_PS_FLOAT, .as.real = json_real_value(v)}; return true;
    case JSON_STRING: {
        size_t len = json_string_length(v);
        *out = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {copy_text(json_string_value(v), len), len}};
        if (!out->as.text.data) *out = (eg_ps_value){.kind = EG_PS_NULL};
        return out->kind == EG_PS_STRING;
    }
    default: *out = (eg_ps_value){.kind = EG_PS_NULL}; return true;
    }
}

static eg_status array_to_ps(const char *name, json_t *array, eg_ps_value *out, eg_error *err) {
    size_t n = json_array_size(array);
    json_type kind = JSON_NULL;
    for (size_t i = 0; i < n; i++) {
        json_type t = json_typeof(json_array_get(array, i));
        if (t == JSON_FALSE) t = JSON_TRUE;
        if (t == JSON_OBJECT || t == JSON_ARRAY) return refuse_value(err, name, "is a list holding lists or objects");
        if (t == JSON_NULL) return refuse_value(err, name, "is a list holding null");
        if (i > 0 && t != kind)
            return refuse_value(err, name, "is a list mixing kinds of values (integers and floats count as two)");
        kind = t;
    }
    if (!nj_ps_list(n, out)) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!scalar_to_ps(json_array_get(array, i), &out->as.list.items[i])) {
            eg_ps_value_free(out);
            return eg_error_set(err, EG_INTERNAL, "out of memory");
        }
    return EG_OK;
}

eg_status nj_properties_to_ps(json_t *props, bool keep_nulls, bool relationship, const char *extra_id,
                              eg_ps_value *out, eg_error *err) {
    nj_params p;
    nj_params_init(&p);
    if (extra_id) nj_param_string(&p, "id", extra_id);
    const char *name;
    json_t *value;
    eg_status st = EG_OK;
    json_object_foreach(props, name, value) {
        eg_ps_value v = {.kind = EG_PS_NULL};
        if (relationship && strcmp(name, NJ_PROP_DECAYED_THROUGH) == 0) {
            st = eg_error_set(err, EG_INVALID_ARGUMENT,
                              "property '%s' is reserved: the Neo4j backend keeps how far decay was applied in it",
                              name);
            break;
        }
        if (json_is_null(value) && !keep_nulls) continue;
        if (json_is_object(value)) {
            st = refuse_value(err, name, "is an object");
            break;
        }
        if (json_is_array(value)) {
            if ((st = array_to_ps(name, value, &v, err))) break;
        } else if (relationship && strcmp(name, EG_PROP_WEIGHT) == 0 && json_is_number(value)) {
            v = (eg_ps_value){.kind = EG_PS_FLOAT, .as.real = json_number_value(value)};
        } else if (!scalar_to_ps(value, &v)) {
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
            break;
        }
        nj_param_take(&p, name, &v);
    }
    if (st == EG_OK) st = nj_params_status(&p, err);
    if (st) {
        nj_params_free(&p);
        return st;
    }
    *out = p.dict;
    return EG_OK;
}

/* ---- Neo4j values -> JSON ---- */

static eg_status value_to_json(const char *name, const eg_ps_value *v, json_t **out, eg_error *err) {
    switch (v->kind) {
    case EG_PS_NULL: *out = json_null(); break;
    case EG_PS_BOOL: *out = json_boolean(v->as.boolean); break;
    case EG_PS_INT: *out = json_integer(v->as.integer); break;
    case EG_PS_FLOAT: *out = json_real(v->as.real); break;
    case EG_PS_STRING: *out = json_stringn(v->as.text.data, v->as.text.len); break;
    case EG_PS_LIST:
        *out = json_array();
        for (size_t i = 0; *out && i < v->as.list.count; i++) {
            json_t *item;
            eg_status st = value_to_json(name, &v->as.list.items[i], &item, err);
            if (st) {
                json_decref(*out);
                return st;
            }
            if (json_array_append_new(*out, item) != 0) {
                json_decref(*out);
                *out = NULL;
            }
        }
        break;
    default:
        return eg_error_set(err, EG_INCOMPATIBLE,
                            "property '%s' holds a Neo4j value engram has no JSON for (bytes, a map, a temporal or "
                            "spatial value)",
                            name);
    }
    return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

eg_status nj_properties_from_ps(const eg_ps_value *dict, bool relationship, json_t **out, eg_error *err) {
    *out = NULL;
    if (!dict || dict->kind != EG_PS_DICT) return nj_bad_answer(err, "properties that are not a map");
    json_t *props = json_object();
    if (!props) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < dict->as.dict.count; i++) {
        const eg_ps_entry *e = &dict->as.dict.entries[i];
        if (relationship ? strcmp(e->key, NJ_PROP_DECAYED_THROUGH) == 0 : strcmp(e->key, "id") == 0) continue;
        json_t *value;
        eg_status st;
        if (relationship && strcmp(e->key, EG_PROP_WEIGHT) == 0 && e->value.kind == EG_PS_INT)
            st = (value = json_real((double)e->value.as.integer)) ? EG_OK
                                                                   : eg_error_set(err, EG_INTERNAL, "out of memory");
        else
            st = value_to_json(e->key, &e->value, &value, err);
        if (st == EG_OK && json_object_set_new(props, e->key, value) != 0)
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
        if (st) {
            json_decref(props);
            return st;
        }
    }
    *out = props;
    return EG_OK;
}

static const eg_ps_value *dict_get(const eg_ps_value *dict, const char *key) {
    if (!dict || dict->kind != EG_PS_DICT) return NULL;
    for (size_t i = 0; i < dict->as.dict.count; i++)
        if (strcmp(dict->as.dict.entries[i].key, key) == 0) return &dict->as.dict.entries[i].value;
    return NULL;
}

/* Copies an id read from the server, which must be a valid engram node id. */
static eg_status take_id(const eg_ps_value *v, char out[EG_ID_MAX + 1], eg_error *err) {
    if (!v || v->kind != EG_PS_STRING || v->as.text.len == 0 || v->as.text.len > EG_ID_MAX ||
        eg_validate_node_id(v->as.text.data, NULL) != EG_OK)
        return eg_error_set(err, EG_INCOMPATIBLE, "a node on the server has no valid engram id (property 'id')");
    memcpy(out, v->as.text.data, v->as.text.len + 1);
    return EG_OK;
}

#define NODE_TAG 0x4E

eg_status nj_node_from_ps(const eg_ps_value *v, bool with_properties, eg_node *out, eg_error *err) {
    memset(out, 0, sizeof *out);
    if (!v || v->kind != EG_PS_STRUCT || v->as.list.tag != NODE_TAG || v->as.list.count < 3)
        return nj_bad_answer(err, "a node that is not a Node structure");
    const eg_ps_value *labels = &v->as.list.items[1], *props = &v->as.list.items[2];
    eg_status st = take_id(dict_get(props, "id"), out->id, err);
    if (st) return st;
    if (labels->kind != EG_PS_LIST || labels->as.list.count == 0 || labels->as.list.items[0].kind != EG_PS_STRING)
        return eg_error_set(err, EG_INCOMPATIBLE, "node '%s' on the server has no label", out->id);
    if ((st = eg_label_parse(labels->as.list.items[0].as.text.data, &out->label, NULL)))
        return eg_error_set(err, EG_INCOMPATIBLE, "node '%s' on the server has a label engram cannot name", out->id);
    if (!with_properties) return EG_OK;
    return nj_properties_from_ps(props, false, &out->properties, err);
}

eg_status nj_relationship_from_ps(const eg_ps_value *source, const eg_ps_value *type, const eg_ps_value *target,
                                  const eg_ps_value *properties, eg_relationship *out, eg_error *err) {
    memset(out, 0, sizeof *out);
    eg_status st;
    if ((st = take_id(source, out->source_id, err)) || (st = take_id(target, out->target_id, err))) return st;
    if (!type || type->kind != EG_PS_STRING) return nj_bad_answer(err, "a relationship without a type");
    if (eg_rel_type_parse(type->as.text.data, &out->type, NULL) != EG_OK)
        return eg_error_set(err, EG_INCOMPATIBLE, "a relationship of '%s' has a type engram cannot name",
                            out->source_id);
    return nj_properties_from_ps(properties, true, &out->properties, err);
}

/* ---- results ---- */

size_t nj_row_count(const eg_bolt_result *r) {
    return r->records.kind == EG_PS_LIST ? r->records.as.list.count : 0;
}

const eg_ps_value *nj_column(const eg_bolt_result *r, size_t row, const char *name) {
    if (r->fields.kind != EG_PS_LIST || row >= nj_row_count(r)) return NULL;
    const eg_ps_value *record = &r->records.as.list.items[row];
    for (size_t i = 0; i < r->fields.as.list.count; i++) {
        const eg_ps_value *f = &r->fields.as.list.items[i];
        if (f->kind == EG_PS_STRING && strcmp(f->as.text.data, name) == 0)
            return record->kind == EG_PS_LIST && i < record->as.list.count ? &record->as.list.items[i] : NULL;
    }
    return NULL;
}

eg_status nj_count_of(const eg_bolt_result *r, const char *name, uint64_t *out, eg_error *err) {
    const eg_ps_value *v = nj_column(r, 0, name);
    if (!v || v->kind != EG_PS_INT || v->as.integer < 0) return nj_bad_answer(err, "a count that is not a number");
    *out = (uint64_t)v->as.integer;
    return EG_OK;
}

eg_status nj_bad_answer(eg_error *err, const char *what) {
    return eg_error_set(err, EG_INCOMPATIBLE, "the Neo4j server answered with %s", what);
}

/* ---- statement fragments ---- */

void nj_label_clause(eg_label label, char out[NJ_NAME_CLAUSE_MAX]) {
    if (label == EG_LABEL_ANY)
        out[0] = '\0';
    else
        snprintf(out, NJ_NAME_CLAUSE_MAX, ":`%s`", eg_label_name(label));
}

void nj_type_clause(eg_rel_type type, char out[NJ_NAME_CLAUSE_MAX]) {
    if (type == EG_REL_ANY)
        out[0] = '\0';
    else
        snprintf(out, NJ_NAME_CLAUSE_MAX, ":`%s`", eg_rel_type_name(type));
}

/* Appends to out[*len..) as snprintf would, leaving *len at the end of what fits. */
static void append_text(char out[NJ_FIND_NODE_MAX], size_t *len, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(out + *len, NJ_FIND_NODE_MAX - *len, format, args);
    va_end(args);
    if (n > 0) *len += (size_t)n < NJ_FIND_NODE_MAX - *len ? (size_t)n : NJ_FIND_NODE_MAX - 1 - *len;
}

void nj_find_node(eg_graph_schema schema, const char *var, const char *id, const char *carried,
                  char out[NJ_FIND_NODE_MAX]) {
    size_t len = 0;
    out[0] = '\0';
    if (schema == EG_SCHEMA_OPEN) {
        append_text(out, &len, "MATCH (%s {id: %s})", var, id);
        return;
    }
    for (int label = 0; label < EG_LABEL_COUNT; label++) {
        char label_clause[NJ_NAME_CLAUSE_MAX];
        nj_label_clause((eg_label)label, label_clause);
        append_text(out, &len, "OPTIONAL MATCH (%s_%d%s {id: %s}) ", var, label, label_clause, id);
    }
    append_text(out, &len, "WITH %s%scoalesce(", carried, carried[0] ? ", " : "");
    for (int label = 0; label < EG_LABEL_COUNT; label++)
        append_text(out, &len, "%s%s_%d", label ? ", " : "", var, label);
    append_text(out, &len, ") AS %s WHERE %s IS NOT NULL", var, var);
}
