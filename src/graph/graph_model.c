/* graph_model.c — the graph model's small parts: direction names, id and property-name validation, and freeing of
 * result structures (see engram/graph.h; label and type names are vocabulary.c's). Backend-independent. */
#include "graph/graph_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const direction_names[] = {"out", "in", "both"};

const char *eg_direction_name(eg_direction dir) {
    return (dir >= EG_DIR_OUT && dir <= EG_DIR_BOTH) ? direction_names[dir] : "?";
}

eg_status eg_direction_parse(const char *name, eg_direction *out, eg_error *err) {
    for (int i = 0; name && i <= EG_DIR_BOTH; i++)
        if (strcmp(name, direction_names[i]) == 0) {
            *out = (eg_direction)i;
            return EG_OK;
        }
    char q[256];
    eg_quote_for_message(name ? name : "", q, sizeof q);
    return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid direction '%s': must be out, in or both", q);
}

/* Ids are checked on every call, so the allowed set is a table rather than a chain of comparisons. */
static const bool id_chars[256] = {
    ['-'] = true, ['.'] = true, [':'] = true, ['_'] = true,
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
};

static bool is_id_char(unsigned char c) { return id_chars[c]; }

eg_status eg_validate_node_id(const char *id, eg_error *err) {
    if (!id) return eg_error_set(err, EG_INVALID_ARGUMENT, "node id is missing");
    size_t n = 0;
    for (; id[n]; n++) {
        if (n >= EG_ID_MAX) {
            char q[256];
            eg_quote_for_message(id, q, sizeof q);
            return eg_error_set(err, EG_INVALID_ARGUMENT, "node id '%s' is too long: at most %d characters", q,
                                EG_ID_MAX);
        }
        if (!is_id_char((unsigned char)id[n])) {
            char q[256];
            eg_quote_for_message(id, q, sizeof q);
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "invalid node id '%s': only letters, digits and _ - . : are allowed", q);
        }
    }
    if (n == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "node id is empty: 1 to %d characters", EG_ID_MAX);
    return EG_OK;
}

eg_status eg_validate_property_name(const char *name, eg_error *err) {
    if (!name) return eg_error_set(err, EG_INVALID_ARGUMENT, "property name is missing");
    size_t n = strlen(name);
    char q[256];
    eg_quote_for_message(name, q, sizeof q);
    if (n == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "property name is empty");
    if (n > EG_PROPERTY_NAME_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "property name '%s' is too long: %zu characters (max %d)", q, n,
                            EG_PROPERTY_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0))
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "invalid property name '%s': must start with a letter or _ and contain only letters, "
                                "digits and _",
                                q);
    }
    return EG_OK;
}

void eg_node_clear(eg_node *node) {
    if (!node) return;
    json_decref(node->properties);
    node->properties = NULL;
}

void eg_node_list_free(eg_node_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) eg_node_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void eg_relationship_clear(eg_relationship *rel) {
    if (!rel) return;
    json_decref(rel->properties);
    rel->properties = NULL;
}

void eg_relationship_list_free(eg_relationship_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) eg_relationship_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void eg_path_clear(eg_path *path) {
    if (!path) return;
    for (size_t i = 0; i < path->node_count; i++) eg_node_clear(&path->nodes[i]);
    for (size_t i = 0; i < path->relationship_count; i++) eg_relationship_clear(&path->relationships[i]);
    free(path->nodes);
    free(path->relationships);
    memset(path, 0, sizeof *path);
}
