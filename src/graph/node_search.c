/* node_search.c — find_nodes' test of a node (its text in the named string properties) and the scan for backends
 * that cannot run it where the nodes are (graph_internal.h). */
#include "graph/graph_internal.h"

#include <stdlib.h>
#include <string.h>

#define LISTING_PAGE 1000

eg_status eg_node_search_init(eg_node_search *search, const eg_node_text_filter *filter, eg_error *err) {
    search->filter = filter;
    if (!eg_text_query_init(&search->query, filter->text, filter->text_length))
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    return EG_OK;
}

void eg_node_search_free(eg_node_search *search) { eg_text_query_free(&search->query); }

bool eg_node_search_id_ok(const eg_node_search *search, const char *id) {
    const char *prefix = search->filter->id_prefix;
    return !prefix || strncmp(id, prefix, strlen(prefix)) == 0;
}

static bool value_matches(const eg_node_search *search, const json_t *value, bool *nomem) {
    if (json_is_string(value))
        return eg_text_query_matches(&search->query, json_string_value(value), json_string_length(value), nomem);
    size_t i;
    json_t *item;
    if (json_is_array(value)) json_array_foreach(value, i, item) {
            if (json_is_string(item) &&
                eg_text_query_matches(&search->query, json_string_value(item), json_string_length(item), nomem))
                return true;
        }
    return false;
}

bool eg_node_search_matches(const eg_node_search *search, const json_t *properties, bool *nomem) {
    const eg_node_text_filter *f = search->filter;
    if (f->property_count == 0) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)properties, key, value) if (value_matches(search, value, nomem)) return true;
        return false;
    }
    for (size_t i = 0; i < f->property_count; i++)
        if (value_matches(search, json_object_get(properties, f->properties[i]), nomem)) return true;
    return false;
}

/* Moves the matching nodes of page into out (up to limit), clearing the rest; *past when an id past the prefix
 * was reached. */
static eg_status keep_matches(const eg_node_search *search, eg_node_list *page, size_t limit, eg_node_list *out,
                              bool *past, eg_error *err) {
    const char *prefix = search->filter->id_prefix;
    bool nomem = false;
    for (size_t i = 0; i < page->count; i++) {
        eg_node *node = &page->items[i];
        if (!*past && prefix && !eg_node_search_id_ok(search, node->id) && strcmp(node->id, prefix) > 0) *past = true;
        if (!*past && out->count < limit && eg_node_search_id_ok(search, node->id) &&
            eg_node_search_matches(search, node->properties, &nomem)) {
            out->items[out->count++] = *node;
            memset(node, 0, sizeof *node);
        }
    }
    return nomem ? eg_error_set(err, EG_INTERNAL, "out of memory") : EG_OK;
}

eg_status eg_node_search_by_listing(eg_graph *g, eg_label label, const eg_node_search *search, const char *after_id,
                                    size_t limit, eg_node_list *out, eg_error *err) {
    const char *prefix = search->filter->id_prefix;
    if (!(out->items = calloc(limit, sizeof *out->items))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    char cursor[EG_ID_MAX + 1] = "";
    eg_status st = EG_OK;
    bool past = false;
    if (after_id && (!prefix || strcmp(after_id, prefix) >= 0)) {
        snprintf(cursor, sizeof cursor, "%s", after_id);
    } else if (prefix) {
        /* Listing starts after an id; the prefix itself, the first id it covers, is read on its own. */
        eg_node_list first = {0};
        st = g->ops->get_nodes(g, &prefix, 1, &first, err);
        if (st == EG_OK && first.count && label != EG_LABEL_ANY && first.items[0].label != label) {
            eg_node_clear(&first.items[0]);
            first.count = 0;
        }
        if (st == EG_OK) st = keep_matches(search, &first, limit, out, &past, err);
        eg_node_list_free(&first);
        snprintf(cursor, sizeof cursor, "%s", prefix);
    }
    while (st == EG_OK && !past && out->count < limit) {
        eg_node_list page = {0};
        if ((st = g->ops->list_nodes(g, label, cursor[0] ? cursor : NULL, LISTING_PAGE, &page, err))) break;
        if (page.count) snprintf(cursor, sizeof cursor, "%s", page.items[page.count - 1].id);
        bool end = page.count < LISTING_PAGE;
        st = keep_matches(search, &page, limit, out, &past, err);
        eg_node_list_free(&page);
        if (end) break;
    }
    if (st) eg_node_list_free(out);
    return st;
}
