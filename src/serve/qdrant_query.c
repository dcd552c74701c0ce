/* qdrant_query.c — (being written) */
#include "serve/serve_internal.h"

const eg_route eg_qdrant_query_routes[] = {{0}};
