/* serve_internal.h — the server's parts (internal): a request as the router sees it, the route tables that the
 * Qdrant and engram families plug into, and the helpers every handler shares.
 *
 * The router (router.c) knows nothing of HTTP transport: server.c turns a libmicrohttpd connection into an
 * eg_http_request and sends the eg_http_response back, and the fuzzer (fuzz/fuzz_router.c) calls the router
 * directly. */
#ifndef ENGRAM_SERVE_INTERNAL_H
#define ENGRAM_SERVE_INTERNAL_H

#include <engram/serve.h>

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct eg_http_param {
    const char *name, *value; /* percent-decoded */
} eg_http_param;

typedef struct eg_http_request {
    const char *method;           /* "GET", "POST", ... */
    const char *path;             /* percent-decoded, without the query */
    const eg_http_param *params;  /* query parameters, in order */
    size_t param_count;
    const char *api_key;          /* the `api-key` header, else the token of `Authorization: Bearer`; or NULL */
    const char *body;             /* NULL when there is none */
    size_t body_len;
    /* The value of a request header (name matched without regard to case), or NULL; header NULL: none at all (the
     * fuzzer's requests). Read through eg_http_header. */
    const char *(*header)(void *connection, const char *name);
    void *connection;
} eg_http_request;

typedef struct eg_http_response {
    unsigned status;              /* HTTP status code */
    const char *content_type;     /* a static string */
    char *body;                   /* malloc'd (NULL: empty, and no Content-Type sent) */
    size_t body_len;
    const char *header_name;      /* one more header to send (a static string), or NULL ... */
    char header_value[80];        /* ... and its value */
} eg_http_response;

typedef struct eg_serve_metrics eg_serve_metrics;
typedef struct eg_catalog eg_catalog;
typedef struct eg_mcp_sessions eg_mcp_sessions;

/* What every handler may use: shared by all threads. */
typedef struct eg_serve_ctx {
    eg_db *db;
    const char *api_key;          /* NULL: no key needed */
    eg_serve_metrics *metrics;
    eg_catalog *catalog;
    eg_mcp_sessions *mcp;         /* the MCP sessions of /mcp (mcp_route.c) */
    bool loopback;                /* listening on a loopback address only: /mcp then refuses other Origins */
} eg_serve_ctx;

#define EG_ROUTE_CAPTURES_MAX 4

/* A Qdrant-family handler: reads the parsed body (NULL when the request had none) and the path's {captures}, and
 * returns the value of "result". On failure it fills err; *http_status may be set to refine the code that err's
 * status maps to (422 for a body that parses but is invalid, for instance); 0 keeps the mapping. */
typedef eg_status (*eg_qdrant_handler)(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                       json_t *body, json_t **result, unsigned *http_status, eg_error *err);

/* An engram-family handler: writes the whole response itself. */
typedef void (*eg_engram_handler)(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                  eg_http_response *resp);

typedef struct eg_route {
    const char *method;
    const char *pattern;          /* "/collections/{name}/points": a {segment} captures one path segment */
    const char *name;             /* the metrics label; the pattern when NULL */
    eg_qdrant_handler qdrant;     /* exactly one of qdrant and engram */
    eg_engram_handler engram;
    bool open;                    /* answered without the API key (health probes) */
} eg_route;

/* The route tables, each ending with a row whose method is NULL. */
extern const eg_route eg_qdrant_service_routes[];     /* qdrant_service.c: /, health probes */
extern const eg_route eg_qdrant_collection_routes[];  /* qdrant_collections.c */
extern const eg_route eg_qdrant_point_routes[];       /* qdrant_points.c */
extern const eg_route eg_qdrant_query_routes[];       /* qdrant_query.c */
extern const eg_route eg_engram_routes[];             /* engram_routes.c */
extern const eg_route eg_mcp_routes[];                /* mcp_route.c: /mcp */

/* Answers one request. Never fails: every problem becomes an error response. */
void eg_serve_route(eg_serve_ctx *ctx, const eg_http_request *req, eg_http_response *resp);

/* The value of request header name, or NULL. */
const char *eg_http_header(const eg_http_request *req, const char *name);

/* The value of query parameter name, or NULL. */
const char *eg_http_param_get(const eg_http_request *req, const char *name);

/* A query parameter that must be a boolean ("true"/"false"); missing leaves *out. */
eg_status eg_http_param_bool(const eg_http_request *req, const char *name, bool *out, eg_error *err);

/* Fills resp with a JSON body (the value is consumed; NULL means out of memory: a 500). */
void eg_http_json(eg_http_response *resp, unsigned status, json_t *value);

/* Fills resp with a plain-text body (copied). */
void eg_http_text(eg_http_response *resp, unsigned status, const char *content_type, const char *text);

/* The HTTP status Qdrant answers for an engram status. */
unsigned eg_http_status_of(eg_status st);

/* Does text nest arrays and objects deeper than max (strings are skipped)? */
bool eg_json_too_deep(const char *text, size_t len, size_t max);

/* The Qdrant catalog (catalog.c; see qdrant_shapes.h): aliases and vector names, kept durably in the folder. */
eg_status eg_catalog_open(eg_db *db, eg_catalog **out, eg_error *err);
void eg_catalog_free(eg_catalog *a);
/* The collection that name stands for: the collection an alias names, else name itself (copied into out). */
void eg_catalog_resolve(eg_catalog *a, const char *name, char out[EG_COLLECTION_NAME_MAX + 1]);

/* The MCP sessions of /mcp (mcp_route.c): at most max at once, each ended after idle_s seconds without a request;
 * their tools run on db. The server keeps EG_MCP_SESSIONS_MAX for an hour (tests pass smaller bounds). */
#define EG_MCP_SESSIONS_MAX 256
#define EG_MCP_SESSION_IDLE_S 3600
eg_status eg_mcp_sessions_new(eg_db *db, size_t max, unsigned idle_s, eg_mcp_sessions **out, eg_error *err);
void eg_mcp_sessions_free(eg_mcp_sessions *sessions);

/* Metrics (metrics.c): counted for every answered request; route is the matched route's name, or "unmatched". */
eg_status eg_serve_metrics_new(eg_serve_metrics **out, eg_error *err);
void eg_serve_metrics_observe(eg_serve_metrics *m, const char *route, const char *method, unsigned status,
                              double seconds);
void eg_serve_metrics_free(eg_serve_metrics *m);
/* The Prometheus text exposition of the requests counted so far and of db's state read now (health, sagas, log,
 * memories per type): malloc'd, NULL when memory runs out. */
char *eg_serve_metrics_text(eg_serve_metrics *m, eg_db *db);

#endif
