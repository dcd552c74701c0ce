/* qdrant_collections.c — (being written) */
#include "serve/serve_internal.h"

const eg_route eg_qdrant_collection_routes[] = {{0}};
