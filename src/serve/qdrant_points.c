/* qdrant_points.c — (being written) */
#include "serve/serve_internal.h"

const eg_route eg_qdrant_point_routes[] = {{0}};
