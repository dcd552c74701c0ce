/* engram_routes.c — (being written) */
#include "serve/serve_internal.h"

const eg_route eg_engram_routes[] = {{0}};
