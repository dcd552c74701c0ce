/* catalog.c — (being written) */
#include "serve/serve_internal.h"

#include <stdio.h>
#include <stdlib.h>

struct eg_catalog {
    int unused;
};

eg_status eg_catalog_open(eg_db *db, eg_catalog **out, eg_error *err) {
    (void)db;
    if (!(*out = calloc(1, sizeof **out))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    return EG_OK;
}

void eg_catalog_free(eg_catalog *a) { free(a); }

void eg_catalog_resolve(eg_catalog *a, const char *name, char out[EG_COLLECTION_NAME_MAX + 1]) {
    (void)a;
    snprintf(out, EG_COLLECTION_NAME_MAX + 1, "%s", name);
}
