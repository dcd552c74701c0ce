/* graph_internal.h — helpers shared by the graph interface layer and its backends (not public). */
#ifndef ENGRAM_GRAPH_INTERNAL_H
#define ENGRAM_GRAPH_INTERNAL_H

#include <engram/graph.h>

#include "util/quote.h"
#include "util/text_search.h"

/* The typed relationship properties the store maintains (see engram/graph.h). */
#define EG_PROP_WEIGHT "weight"
#define EG_PROP_CO_ACCESS "coAccessCount"
#define EG_PROP_LAST_ACCESSED "lastAccessed"
#define EG_DEFAULT_WEIGHT 0.1

/* The allowed relationship types, sorted, for error messages. */
#define EG_REL_TYPE_LIST                                                                                             \
    "CAUSES, CONSOLIDATED_INTO, DEPENDS_ON, DERIVED_FROM, HAS_CONTEXT, IMPLEMENTS, IMPROVES_ON, PART_OF, PRODUCES, "  \
    "RELATES_TO, REQUIRES, SIMILAR_TO, SOURCE_OF, SUPERSEDES, TEMPORAL_AFTER, TEMPORAL_BEFORE, USES"

/* True when the code is a fixed one or one this process has handed out (vocabulary.c). */
bool eg_label_is_known(eg_label label);
bool eg_rel_type_is_known(eg_rel_type type);

/* A find_nodes filter prepared for a scan (node_search.c). */
struct eg_node_search {
    const eg_node_text_filter *filter;
    eg_text_query query;
};

/* Prepares filter (which must outlive the search); EG_INTERNAL when memory runs out. */
eg_status eg_node_search_init(eg_node_search *search, const eg_node_text_filter *filter, eg_error *err);
void eg_node_search_free(eg_node_search *search);
/* Whether an id is within the filter's prefix. */
bool eg_node_search_id_ok(const eg_node_search *search, const char *id);
/* Whether a node with these properties holds the text (false and *nomem when memory runs out). */
bool eg_node_search_matches(const eg_node_search *search, const json_t *properties, bool *nomem);
/* find_nodes for a backend that cannot filter where the nodes are: pages of its list_nodes, tested here. */
eg_status eg_node_search_by_listing(eg_graph *g, eg_label label, const eg_node_search *search, const char *after_id,
                                    size_t limit, eg_node_list *out, eg_error *err);

#endif
