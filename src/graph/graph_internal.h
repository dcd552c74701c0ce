/* graph_internal.h — helpers shared by the graph interface layer and its backends (not public). */
#ifndef ENGRAM_GRAPH_INTERNAL_H
#define ENGRAM_GRAPH_INTERNAL_H

#include <engram/graph.h>

#include "util/quote.h"

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

#endif
