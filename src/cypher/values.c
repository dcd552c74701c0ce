/* values.c — Cypher's view of PackStream values: building and copying them, graph nodes and relationships as
 * Bolt structures, conversion to and from the graph's JSON properties, and the three comparisons Cypher needs
 * (three-valued equality, ordering comparison, equivalence with its hash for DISTINCT and grouping) plus the
 * total order of ORDER BY. */
#include "cypher/executor_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t cy_fnv1a(const void *data, size_t len, uint64_t h) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

bool cy_string(cy_run *run, const char *text, size_t len, eg_ps_value *out) {
    char *copy = malloc(len + 1);
    if (!copy) return cy_out_of_memory(run);
    if (len) memcpy(copy, text, len);
    copy[len] = '\0';
    *out = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = copy, .len = len}};
    return true;
}

/* Lists are allocated to the next power of two at or above their count, the capacity cy_list_push assumes. */
static size_t list_capacity(size_t count) {
    size_t capacity = 1;
    while (capacity < count) capacity *= 2;
    return capacity;
}

bool cy_list(cy_run *run, size_t count, eg_ps_value *out) {
    eg_ps_value *items = calloc(list_capacity(count), sizeof *items);
    if (!items) return cy_out_of_memory(run);
    *out = (eg_ps_value){.kind = EG_PS_LIST, .as.list = {.items = items, .count = count}};
    return true;
}

bool cy_list_push(cy_run *run, eg_ps_value *list, eg_ps_value *value) {
    size_t n = list->as.list.count;
    /* Grows by doubling: a list made by cy_list has the capacity list_capacity(count), full at a power of two. */
    bool full = n > 0 && list_capacity(n) == n;
    if (full || !list->as.list.items) {
        size_t cap = n ? n * 2 : 1;
        eg_ps_value *items = realloc(list->as.list.items, cap * sizeof *items);
        if (!items) return cy_out_of_memory(run);
        list->as.list.items = items;
    }
    cy_move(&list->as.list.items[n], value);
    list->as.list.count = n + 1;
    return true;
}

const eg_ps_value *cy_dict_get(const eg_ps_value *dict, const char *key) {
    if (!dict || dict->kind != EG_PS_DICT) return NULL;
    for (size_t i = 0; i < dict->as.dict.count; i++)
        if (strcmp(dict->as.dict.entries[i].key, key) == 0) return &dict->as.dict.entries[i].value;
    return NULL;
}

bool cy_dict_put(cy_run *run, eg_ps_value *dict, const char *key, size_t key_len, eg_ps_value *value) {
    for (size_t i = 0; i < dict->as.dict.count; i++) {
        eg_ps_entry *e = &dict->as.dict.entries[i];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
            eg_ps_value_free(&e->value);
            cy_move(&e->value, value);
            return true;
        }
    }
    char *k = malloc(key_len + 1);
    eg_ps_entry *entries = realloc(dict->as.dict.entries, (dict->as.dict.count + 1) * sizeof *entries);
    if (!k || !entries) {
        free(k);
        if (entries) dict->as.dict.entries = entries;
        eg_ps_value_free(value);
        return cy_out_of_memory(run);
    }
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    dict->as.dict.entries = entries;
    eg_ps_entry *e = &entries[dict->as.dict.count++];
    e->key = k;
    e->key_len = key_len;
    cy_move(&e->value, value);
    return true;
}

void cy_move(eg_ps_value *to, eg_ps_value *from) {
    *to = *from;
    *from = cy_null();
}

bool cy_copy(cy_run *run, const eg_ps_value *from, eg_ps_value *to) {
    *to = cy_null();
    switch (from->kind) {
    case EG_PS_NULL:
    case EG_PS_BOOL:
    case EG_PS_INT:
    case EG_PS_FLOAT: *to = *from; return true;
    case EG_PS_BYTES:
    case EG_PS_STRING:
        if (!cy_string(run, from->as.text.data, from->as.text.len, to)) return false;
        to->kind = from->kind;
        return true;
    case EG_PS_LIST:
    case EG_PS_STRUCT:
        if (!cy_list(run, from->as.list.count, to)) return false;
        to->kind = from->kind;
        to->as.list.tag = from->as.list.tag;
        for (size_t i = 0; i < from->as.list.count; i++)
            if (!cy_copy(run, &from->as.list.items[i], &to->as.list.items[i])) {
                eg_ps_value_free(to);
                return false;
            }
        return true;
    case EG_PS_DICT:
        *to = cy_dict_empty();
        for (size_t i = 0; i < from->as.dict.count; i++) {
            eg_ps_value item;
            const eg_ps_entry *e = &from->as.dict.entries[i];
            if (!cy_copy(run, &e->value, &item) || !cy_dict_put(run, to, e->key, e->key_len, &item)) {
                eg_ps_value_free(to);
                return false;
            }
        }
        return true;
    }
    return false;
}

static bool is_struct(const eg_ps_value *v, uint8_t tag, size_t fields) {
    return v->kind == EG_PS_STRUCT && v->as.list.tag == tag && v->as.list.count == fields;
}
bool cy_is_node(const eg_ps_value *v) { return is_struct(v, CY_TAG_NODE, 4); }
bool cy_is_relationship(const eg_ps_value *v) { return is_struct(v, CY_TAG_RELATIONSHIP, 8); }
bool cy_is_path(const eg_ps_value *v) { return is_struct(v, CY_TAG_PATH, 3); }

const char *cy_element_id(const eg_ps_value *entity) {
    const eg_ps_value *f = &entity->as.list.items[cy_is_node(entity) ? 3 : 5];
    return f->kind == EG_PS_STRING ? f->as.text.data : "";
}

void cy_relationship_ends(const eg_ps_value *rel, const char **source, const char **type, const char **target) {
    *source = rel->as.list.items[6].as.text.data;
    *type = rel->as.list.items[3].as.text.data;
    *target = rel->as.list.items[7].as.text.data;
}

const eg_ps_value *cy_entity_properties(const eg_ps_value *entity) {
    return &entity->as.list.items[cy_is_node(entity) ? 2 : 4];
}

const char *cy_node_label(const eg_ps_value *node) {
    const eg_ps_value *labels = &node->as.list.items[1];
    return labels->as.list.count ? labels->as.list.items[0].as.text.data : "";
}

int64_t cy_node_identity(const char *id) { return (int64_t)(cy_fnv1a(id, strlen(id), CY_FNV_OFFSET) >> 1); }

int64_t cy_relationship_identity(const char *source, const char *type, const char *target) {
    uint64_t h = cy_fnv1a(source, strlen(source) + 1, CY_FNV_OFFSET);
    h = cy_fnv1a(type, strlen(type) + 1, h);
    return (int64_t)(cy_fnv1a(target, strlen(target), h) >> 1);
}

bool cy_json_to_value(cy_run *run, const json_t *json, eg_ps_value *out) {
    *out = cy_null();
    switch (json_typeof(json)) {
    case JSON_NULL: return true;
    case JSON_TRUE: *out = cy_bool(true); return true;
    case JSON_FALSE: *out = cy_bool(false); return true;
    case JSON_INTEGER: *out = cy_int(json_integer_value(json)); return true;
    case JSON_REAL: *out = cy_float(json_real_value(json)); return true;
    case JSON_STRING: return cy_string(run, json_string_value(json), json_string_length(json), out);
    case JSON_ARRAY:
        if (!cy_list(run, json_array_size(json), out)) return false;
        for (size_t i = 0; i < json_array_size(json); i++)
            if (!cy_json_to_value(run, json_array_get(json, i), &out->as.list.items[i])) {
                eg_ps_value_free(out);
                return false;
            }
        return true;
    case JSON_OBJECT: {
        *out = cy_dict_empty();
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)json, key, value) {
            eg_ps_value item;
            if (!cy_json_to_value(run, value, &item) || !cy_dict_put(run, out, key, strlen(key), &item)) {
                eg_ps_value_free(out);
                return false;
            }
        }
        return true;
    }
    }
    return true;
}

/* properties (json object or NULL) as a dict, with `id` first when given. */
static bool properties_value(cy_run *run, const char *id, const json_t *props, eg_ps_value *out) {
    *out = cy_dict_empty();
    eg_ps_value item;
    if (id && (!cy_string(run, id, strlen(id), &item) || !cy_dict_put(run, out, "id", 2, &item))) goto fail;
    if (props) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)props, key, value) {
            if (!cy_json_to_value(run, value, &item) || !cy_dict_put(run, out, key, strlen(key), &item)) goto fail;
        }
    }
    return true;
fail:
    eg_ps_value_free(out);
    return false;
}

static bool struct_value(cy_run *run, uint8_t tag, size_t fields, eg_ps_value *out) {
    if (!cy_list(run, fields, out)) return false;
    out->kind = EG_PS_STRUCT;
    out->as.list.tag = tag;
    return true;
}

bool cy_node_value(cy_run *run, const eg_node *node, eg_ps_value *out) {
    if (!struct_value(run, CY_TAG_NODE, 4, out)) return false;
    eg_ps_value *f = out->as.list.items;
    const char *label = eg_label_name(node->label);
    f[0] = cy_int(cy_node_identity(node->id));
    bool ok = cy_list(run, 1, &f[1]) && cy_string(run, label, strlen(label), &f[1].as.list.items[0]) &&
              properties_value(run, node->id, node->properties, &f[2]) &&
              cy_string(run, node->id, strlen(node->id), &f[3]);
    if (!ok) eg_ps_value_free(out);
    return ok;
}

bool cy_relationship_value(cy_run *run, const eg_relationship *rel, eg_ps_value *out) {
    if (!struct_value(run, CY_TAG_RELATIONSHIP, 8, out)) return false;
    eg_ps_value *f = out->as.list.items;
    const char *type = eg_rel_type_name(rel->type);
    f[0] = cy_int(cy_relationship_identity(rel->source_id, type, rel->target_id));
    f[1] = cy_int(cy_node_identity(rel->source_id));
    f[2] = cy_int(cy_node_identity(rel->target_id));
    char element[2 * EG_ID_MAX + 64];
    snprintf(element, sizeof element, "%s>%s>%s", rel->source_id, type, rel->target_id);
    bool ok = cy_string(run, type, strlen(type), &f[3]) && properties_value(run, NULL, rel->properties, &f[4]) &&
              cy_string(run, element, strlen(element), &f[5]) &&
              cy_string(run, rel->source_id, strlen(rel->source_id), &f[6]) &&
              cy_string(run, rel->target_id, strlen(rel->target_id), &f[7]);
    if (!ok) eg_ps_value_free(out);
    return ok;
}

bool cy_fetch_node(cy_run *run, const char *id, eg_ps_value *out, bool *found) {
    eg_node node;
    eg_error err;
    *found = false;
    *out = cy_null();
    eg_status st = eg_graph_get_node(run->graph, id, EG_LABEL_ANY, &node, &err);
    if (st == EG_NOT_FOUND) return true;
    if (st != EG_OK) return cy_fail_status(run, st, &err, "reading a node");
    *found = true;
    bool ok = cy_node_value(run, &node, out);
    eg_node_clear(&node);
    return ok;
}

bool cy_fetch_relationship(cy_run *run, const char *source, const char *type, const char *target, eg_ps_value *out,
                           bool *found) {
    eg_rel_type t;
    *found = false;
    *out = cy_null();
    if (!cy_resolve_rel_type(run->graph, type, &t)) return true;
    eg_relationship_list list;
    eg_error err;
    eg_status st = eg_graph_get_relationships(run->graph, source, t, EG_DIR_OUT, &list, &err);
    if (st == EG_NOT_FOUND) return true;
    if (st != EG_OK) return cy_fail_status(run, st, &err, "reading a relationship");
    bool ok = true;
    for (size_t i = 0; i < list.count && !*found; i++)
        if (strcmp(list.items[i].target_id, target) == 0) {
            *found = true;
            ok = cy_relationship_value(run, &list.items[i], out);
        }
    eg_relationship_list_free(&list);
    return ok;
}

bool cy_entity_current(cy_run *run, const eg_ps_value *entity, eg_ps_value *out, bool *gone) {
    *gone = false;
    if (!cy_string_set_has(&run->changed, cy_element_id(entity))) return cy_copy(run, entity, out);
    bool found;
    bool ok;
    if (cy_is_node(entity)) {
        ok = cy_fetch_node(run, cy_element_id(entity), out, &found);
    } else {
        const char *s, *t, *d;
        cy_relationship_ends(entity, &s, &t, &d);
        ok = cy_fetch_relationship(run, s, t, d, out, &found);
    }
    if (!ok) return false;
    if (found) return true;
    *gone = true;
    return cy_copy(run, entity, out);
}

bool cy_refresh_entities(cy_run *run, eg_ps_value *v) {
    if (run->changed.count == 0) return true;
    if (cy_is_node(v) || cy_is_relationship(v)) {
        eg_ps_value current;
        bool gone;
        if (!cy_entity_current(run, v, &current, &gone)) return false;
        eg_ps_value_free(v);
        cy_move(v, &current);
        return true;
    }
    if (v->kind == EG_PS_LIST || v->kind == EG_PS_STRUCT) {
        for (size_t i = 0; i < v->as.list.count; i++)
            if (!cy_refresh_entities(run, &v->as.list.items[i])) return false;
        if (v->kind == EG_PS_STRUCT && v->as.list.tag == CY_TAG_UNBOUND_REL && v->as.list.count == 4) {
            /* A path's relationship: its element id leads back to the relationship it stands for. */
            const char *element = v->as.list.items[3].as.text.data;
            if (!cy_string_set_has(&run->changed, element) || cy_string_set_has(&run->deleted, element)) return true;
            const char *first = strchr(element, '>');
            const char *second = first ? strchr(first + 1, '>') : NULL;
            if (!second) return true;
            char source[EG_ID_MAX + 1], type[64];
            snprintf(source, sizeof source, "%.*s", (int)(first - element), element);
            snprintf(type, sizeof type, "%.*s", (int)(second - first - 1), first + 1);
            eg_ps_value rel;
            bool found;
            if (!cy_fetch_relationship(run, source, type, second + 1, &rel, &found)) return false;
            if (found) {
                eg_ps_value_free(&v->as.list.items[2]);
                cy_move(&v->as.list.items[2], &rel.as.list.items[4]);
            }
            eg_ps_value_free(&rel);
        }
        return true;
    }
    if (v->kind == EG_PS_DICT)
        for (size_t i = 0; i < v->as.dict.count; i++)
            if (!cy_refresh_entities(run, &v->as.dict.entries[i].value)) return false;
    return true;
}

bool cy_mark_changed(cy_run *run, const char *element_id, bool deleted) {
    if (!cy_string_set_add(&run->changed, element_id) || (deleted && !cy_string_set_add(&run->deleted, element_id)))
        return cy_out_of_memory(run);
    return true;
}

static bool depth_within(const eg_ps_value *v, int remaining) {
    if (v->kind != EG_PS_LIST && v->kind != EG_PS_STRUCT && v->kind != EG_PS_DICT) return true;
    if (remaining == 0) return false;
    if (v->kind == EG_PS_DICT) {
        for (size_t i = 0; i < v->as.dict.count; i++)
            if (!depth_within(&v->as.dict.entries[i].value, remaining - 1)) return false;
        return true;
    }
    for (size_t i = 0; i < v->as.list.count; i++)
        if (!depth_within(&v->as.list.items[i], remaining - 1)) return false;
    return true;
}

bool cy_check_depth(cy_run *run, const eg_ps_value *v) {
    if (depth_within(v, CY_MAX_VALUE_DEPTH)) return true;
    return cy_fail(run, CY_EXECUTION_FAILED, "a value would nest more than %d lists or maps deep, engram's bound",
                   CY_MAX_VALUE_DEPTH);
}

/* ---- properties: what may be stored ---- */

static bool storable_scalar(const eg_ps_value *v) {
    return v->kind == EG_PS_BOOL || v->kind == EG_PS_INT || v->kind == EG_PS_STRING ||
           (v->kind == EG_PS_FLOAT && isfinite(v->as.real));
}

static json_t *scalar_json(const eg_ps_value *v) {
    switch (v->kind) {
    case EG_PS_BOOL: return json_boolean(v->as.boolean);
    case EG_PS_INT: return json_integer(v->as.integer);
    case EG_PS_FLOAT: return json_real(v->as.real);
    default: return json_stringn(v->as.text.data, v->as.text.len);
    }
}

bool cy_property_json(cy_run *run, const char *name, const eg_ps_value *value, json_t **out) {
    *out = NULL;
    if (value->kind == EG_PS_NULL) {
        *out = json_null();
        return true;
    }
    if (storable_scalar(value)) {
        *out = scalar_json(value);
        return *out ? true : cy_out_of_memory(run);
    }
    if (value->kind == EG_PS_LIST) {
        /* As in Neo4j: a stored list holds items of one type (integers and floats count as numbers). */
        const eg_ps_value *items = value->as.list.items;
        for (size_t i = 0; i < value->as.list.count; i++) {
            bool same =
                i == 0 || items[i].kind == items[0].kind || (cy_is_number(&items[i]) && cy_is_number(&items[0]));
            if (!storable_scalar(&items[i]) || !same)
                return cy_fail(run, CY_TYPE_ERROR,
                               "property '%s': a stored list holds strings, booleans or finite numbers of one type; "
                               "item %zu is %s",
                               name, i, cy_type_name(&items[i]));
        }
        json_t *array = json_array();
        for (size_t i = 0; array && i < value->as.list.count; i++)
            if (json_array_append_new(array, scalar_json(&items[i])) != 0) {
                json_decref(array);
                array = NULL;
            }
        *out = array;
        return array ? true : cy_out_of_memory(run);
    }
    if (value->kind == EG_PS_FLOAT)
        return cy_fail(run, CY_TYPE_ERROR, "property '%s': NaN and infinities cannot be stored", name);
    return cy_fail(run, CY_TYPE_ERROR,
                   "property '%s': a %s cannot be stored as a property (null, booleans, integers, finite floats, "
                   "strings and lists of them can)",
                   name, cy_type_name(value));
}

/* ---- comparison ---- */

const char *cy_type_name(const eg_ps_value *v) {
    switch (v->kind) {
    case EG_PS_NULL: return "Null";
    case EG_PS_BOOL: return "Boolean";
    case EG_PS_INT: return "Integer";
    case EG_PS_FLOAT: return "Float";
    case EG_PS_BYTES: return "ByteArray";
    case EG_PS_STRING: return "String";
    case EG_PS_LIST: return "List";
    case EG_PS_DICT: return "Map";
    case EG_PS_STRUCT:
        if (cy_is_node(v)) return "Node";
        if (cy_is_relationship(v)) return "Relationship";
        if (cy_is_path(v)) return "Path";
        return "temporal or spatial value";
    }
    return "value";
}

static int compare_numbers(const eg_ps_value *a, const eg_ps_value *b) {
    if (a->kind == EG_PS_INT && b->kind == EG_PS_INT)
        return (a->as.integer > b->as.integer) - (a->as.integer < b->as.integer);
    double x = cy_number(a), y = cy_number(b);
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    if (x == y && a->kind != b->kind) {
        /* An integer beyond 2^53 and the float it rounds to: compare exactly through the integer side. */
        const eg_ps_value *i = a->kind == EG_PS_INT ? a : b;
        double f = a->kind == EG_PS_INT ? y : x;
        if (f >= 9223372036854775808.0) return a == i ? -1 : 1;
        int64_t fi = (int64_t)f;
        int c = (i->as.integer > fi) - (i->as.integer < fi);
        return a == i ? c : -c;
    }
    return (x > y) - (x < y);
}

static int compare_text(const eg_ps_value *a, const eg_ps_value *b) {
    size_t n = a->as.text.len < b->as.text.len ? a->as.text.len : b->as.text.len;
    int c = memcmp(a->as.text.data, b->as.text.data, n);
    if (c) return c < 0 ? -1 : 1;
    return (a->as.text.len > b->as.text.len) - (a->as.text.len < b->as.text.len);
}

cy_truth cy_equals(const eg_ps_value *a, const eg_ps_value *b) {
    if (a->kind == EG_PS_NULL || b->kind == EG_PS_NULL) return CY_UNKNOWN;
    if (cy_is_number(a) && cy_is_number(b)) {
        if (cy_number(a) != cy_number(b) && !(a->kind == EG_PS_INT && b->kind == EG_PS_INT)) return CY_FALSE;
        return compare_numbers(a, b) == 0 && !isnan(cy_number(a)) ? CY_TRUE : CY_FALSE;
    }
    if (a->kind != b->kind) return CY_FALSE;
    switch (a->kind) {
    case EG_PS_BOOL: return a->as.boolean == b->as.boolean ? CY_TRUE : CY_FALSE;
    case EG_PS_BYTES:
    case EG_PS_STRING: return compare_text(a, b) == 0 ? CY_TRUE : CY_FALSE;
    case EG_PS_LIST: {
        if (a->as.list.count != b->as.list.count) return CY_FALSE;
        cy_truth result = CY_TRUE;
        for (size_t i = 0; i < a->as.list.count; i++) {
            cy_truth t = cy_equals(&a->as.list.items[i], &b->as.list.items[i]);
            if (t == CY_FALSE) return CY_FALSE;
            if (t == CY_UNKNOWN) result = CY_UNKNOWN;
        }
        return result;
    }
    case EG_PS_DICT: {
        if (a->as.dict.count != b->as.dict.count) return CY_FALSE;
        cy_truth result = CY_TRUE;
        for (size_t i = 0; i < a->as.dict.count; i++) {
            const eg_ps_value *other = cy_dict_get(b, a->as.dict.entries[i].key);
            if (!other) return CY_FALSE;
            cy_truth t = cy_equals(&a->as.dict.entries[i].value, other);
            if (t == CY_FALSE) return CY_FALSE;
            if (t == CY_UNKNOWN) result = CY_UNKNOWN;
        }
        return result;
    }
    case EG_PS_STRUCT:
        if (a->as.list.tag != b->as.list.tag) return CY_FALSE;
        if (cy_is_node(a) || cy_is_relationship(a))
            return strcmp(cy_element_id(a), cy_element_id(b)) == 0 ? CY_TRUE : CY_FALSE;
        return eg_ps_value_equal(a, b) ? CY_TRUE : CY_FALSE;
    default: return CY_FALSE;
    }
}

bool cy_compare(const eg_ps_value *a, const eg_ps_value *b, int *order) {
    if (cy_is_number(a) && cy_is_number(b)) {
        if (isnan(cy_number(a)) || isnan(cy_number(b))) return false;
        *order = compare_numbers(a, b);
        return true;
    }
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case EG_PS_STRING: *order = compare_text(a, b); return true;
    case EG_PS_BOOL: *order = (int)a->as.boolean - (int)b->as.boolean; return true;
    case EG_PS_LIST:
        for (size_t i = 0; i < a->as.list.count && i < b->as.list.count; i++) {
            int c;
            if (!cy_compare(&a->as.list.items[i], &b->as.list.items[i], &c)) return false;
            if (c) {
                *order = c;
                return true;
            }
        }
        *order = (a->as.list.count > b->as.list.count) - (a->as.list.count < b->as.list.count);
        return true;
    default: return false;
    }
}

bool cy_equivalent(const eg_ps_value *a, const eg_ps_value *b) {
    if (a->kind == EG_PS_NULL || b->kind == EG_PS_NULL) return a->kind == b->kind;
    if (cy_is_number(a) && cy_is_number(b)) {
        if (isnan(cy_number(a)) || isnan(cy_number(b))) return isnan(cy_number(a)) && isnan(cy_number(b));
        return compare_numbers(a, b) == 0;
    }
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case EG_PS_LIST:
        if (a->as.list.count != b->as.list.count) return false;
        for (size_t i = 0; i < a->as.list.count; i++)
            if (!cy_equivalent(&a->as.list.items[i], &b->as.list.items[i])) return false;
        return true;
    case EG_PS_DICT:
        if (a->as.dict.count != b->as.dict.count) return false;
        for (size_t i = 0; i < a->as.dict.count; i++) {
            const eg_ps_value *other = cy_dict_get(b, a->as.dict.entries[i].key);
            if (!other || !cy_equivalent(&a->as.dict.entries[i].value, other)) return false;
        }
        return true;
    default: return cy_equals(a, b) == CY_TRUE;
    }
}

uint64_t cy_hash(const eg_ps_value *v) {
    uint64_t h = CY_FNV_OFFSET;
    switch (v->kind) {
    case EG_PS_NULL: return 1;
    case EG_PS_BOOL: return v->as.boolean ? 3 : 2;
    case EG_PS_INT:
    case EG_PS_FLOAT: {
        /* Equivalent numbers hash alike: an integral float hashes as its integer. */
        double d = cy_number(v);
        if (v->kind == EG_PS_INT) return cy_fnv1a(&v->as.integer, sizeof v->as.integer, h);
        if (isnan(d)) return 5;
        if (d == floor(d) && fabs(d) < 9.2e18) {
            int64_t i = (int64_t)d;
            return cy_fnv1a(&i, sizeof i, h);
        }
        return cy_fnv1a(&d, sizeof d, h);
    }
    case EG_PS_BYTES:
    case EG_PS_STRING: return cy_fnv1a(v->as.text.data, v->as.text.len, h ^ (uint64_t)v->kind);
    case EG_PS_LIST:
        for (size_t i = 0; i < v->as.list.count; i++) h = (h ^ cy_hash(&v->as.list.items[i])) * 1099511628211ULL;
        return h;
    case EG_PS_DICT: {
        uint64_t sum = 7; /* order-independent: keys may arrive in any order */
        for (size_t i = 0; i < v->as.dict.count; i++)
            sum += cy_fnv1a(v->as.dict.entries[i].key, v->as.dict.entries[i].key_len, h) ^
                   cy_hash(&v->as.dict.entries[i].value);
        return sum;
    }
    case EG_PS_STRUCT:
        if (cy_is_node(v) || cy_is_relationship(v)) {
            const char *e = cy_element_id(v);
            return cy_fnv1a(e, strlen(e), h ^ v->as.list.tag);
        }
        for (size_t i = 0; i < v->as.list.count; i++) h = (h ^ cy_hash(&v->as.list.items[i])) * 1099511628211ULL;
        return h ^ v->as.list.tag;
    }
    return h;
}

/* Neo4j's orderability: map < node < relationship < list < path < other structures < string < boolean < number
 * < null. */
static int order_rank(const eg_ps_value *v) {
    switch (v->kind) {
    case EG_PS_DICT: return 0;
    case EG_PS_STRUCT:
        if (cy_is_node(v)) return 1;
        if (cy_is_relationship(v)) return 2;
        if (cy_is_path(v)) return 4;
        return 5;
    case EG_PS_LIST: return 3;
    case EG_PS_BYTES: return 6;
    case EG_PS_STRING: return 7;
    case EG_PS_BOOL: return 8;
    case EG_PS_INT:
    case EG_PS_FLOAT: return 9;
    case EG_PS_NULL: return 10;
    }
    return 10;
}

int cy_order(const eg_ps_value *a, const eg_ps_value *b) {
    int ra = order_rank(a), rb = order_rank(b);
    if (ra != rb) return ra < rb ? -1 : 1;
    switch (a->kind) {
    case EG_PS_INT:
    case EG_PS_FLOAT: return compare_numbers(a, b);
    case EG_PS_BOOL: return (int)a->as.boolean - (int)b->as.boolean;
    case EG_PS_BYTES:
    case EG_PS_STRING: return compare_text(a, b);
    case EG_PS_LIST:
        for (size_t i = 0; i < a->as.list.count && i < b->as.list.count; i++) {
            int c = cy_order(&a->as.list.items[i], &b->as.list.items[i]);
            if (c) return c;
        }
        return (a->as.list.count > b->as.list.count) - (a->as.list.count < b->as.list.count);
    case EG_PS_STRUCT:
        if (cy_is_node(a) || cy_is_relationship(a)) {
            int c = strcmp(cy_element_id(a), cy_element_id(b));
            return (c > 0) - (c < 0);
        }
        for (size_t i = 0; i < a->as.list.count && i < b->as.list.count; i++) {
            int c = cy_order(&a->as.list.items[i], &b->as.list.items[i]);
            if (c) return c;
        }
        return (a->as.list.count > b->as.list.count) - (a->as.list.count < b->as.list.count);
    case EG_PS_DICT: {
        int c = (a->as.dict.count > b->as.dict.count) - (a->as.dict.count < b->as.dict.count);
        for (size_t i = 0; !c && i < a->as.dict.count; i++) {
            c = strcmp(a->as.dict.entries[i].key, b->as.dict.entries[i].key);
            c = c ? (c > 0) - (c < 0) : cy_order(&a->as.dict.entries[i].value, &b->as.dict.entries[i].value);
        }
        return c;
    }
    default: return 0;
    }
}

void cy_format_float(double d, char *out, size_t cap) {
    if (isnan(d)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(out, cap, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (d == 0) {
        snprintf(out, cap, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    /* Neo4j prints a Float as Java does: the shortest digits that read back as the same double, in plain notation
     * with at least one decimal between 10^-3 and 10^7 ("100.0", "0.001"), else as d.dddE<n> ("1.0E7", "1.5E-4"). */
    char scientific[40];
    int precision = 0;
    for (; precision <= 16; precision++) {
        snprintf(scientific, sizeof scientific, "%.*e", precision, d);
        if (strtod(scientific, NULL) == d) break;
    }
    char digits[24];
    size_t n = 0;
    const char *p = scientific;
    bool negative = *p == '-';
    if (negative) p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[n++] = *p;
    digits[n] = '\0';
    int exponent = atoi(p + 1);
    double magnitude = fabs(d);
    char text[64];
    size_t at = 0;
    if (negative) text[at++] = '-';
    if (magnitude >= 1e-3 && magnitude < 1e7) {
        if (exponent >= 0) {
            for (int i = 0; i <= exponent; i++) text[at++] = (size_t)i < n ? digits[i] : '0';
            text[at++] = '.';
            if ((size_t)exponent + 1 < n)
                for (size_t i = (size_t)exponent + 1; i < n; i++) text[at++] = digits[i];
            else
                text[at++] = '0';
        } else {
            text[at++] = '0';
            text[at++] = '.';
            for (int i = -1; i > exponent; i--) text[at++] = '0';
            for (size_t i = 0; i < n; i++) text[at++] = digits[i];
        }
        text[at] = '\0';
    } else {
        text[at++] = digits[0];
        text[at++] = '.';
        if (n > 1)
            for (size_t i = 1; i < n; i++) text[at++] = digits[i];
        else
            text[at++] = '0';
        snprintf(text + at, sizeof text - at, "E%d", exponent);
    }
    snprintf(out, cap, "%s", text);
}

/* ---- string set ---- */

bool cy_string_set_has(const cy_string_set *set, const char *s) {
    if (!set->count) return false;
    size_t mask = set->capacity - 1;
    for (size_t i = cy_fnv1a(s, strlen(s), CY_FNV_OFFSET) & mask; set->slots[i]; i = (i + 1) & mask)
        if (strcmp(set->slots[i], s) == 0) return true;
    return false;
}

static bool set_insert(char **slots, size_t capacity, char *s) {
    size_t mask = capacity - 1, i = cy_fnv1a(s, strlen(s), CY_FNV_OFFSET) & mask;
    while (slots[i]) {
        if (strcmp(slots[i], s) == 0) return false;
        i = (i + 1) & mask;
    }
    slots[i] = s;
    return true;
}

bool cy_string_set_add(cy_string_set *set, const char *s) {
    if (cy_string_set_has(set, s)) return true;
    if ((set->count + 1) * 2 > set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 16;
        char **slots = calloc(capacity, sizeof *slots);
        if (!slots) return false;
        for (size_t i = 0; i < set->capacity; i++)
            if (set->slots[i]) set_insert(slots, capacity, set->slots[i]);
        free(set->slots);
        set->slots = slots;
        set->capacity = capacity;
    }
    char *copy = strdup(s);
    if (!copy) return false;
    set_insert(set->slots, set->capacity, copy);
    set->count++;
    return true;
}

void cy_string_set_free(cy_string_set *set) {
    for (size_t i = 0; i < set->capacity; i++) free(set->slots[i]);
    free(set->slots);
    *set = (cy_string_set){0};
}
