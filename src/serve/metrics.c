/* metrics.c — (being written) */
#include "serve/serve_internal.h"

#include <stdlib.h>

struct eg_serve_metrics {
    int unused;
};

eg_status eg_serve_metrics_new(eg_serve_metrics **out, eg_error *err) {
    if (!(*out = calloc(1, sizeof **out))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    return EG_OK;
}

void eg_serve_metrics_observe(eg_serve_metrics *m, const char *route, const char *method, unsigned status,
                              double seconds) {
    (void)m, (void)route, (void)method, (void)status, (void)seconds;
}

void eg_serve_metrics_free(eg_serve_metrics *m) { free(m); }
