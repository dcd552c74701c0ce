/* fuzz_router.c — the request router of `engram serve` (eg_serve_route in src/serve/router.c, and through it every
 * route's handler): arbitrary method, path, query parameters and body, with and without an API key.
 *
 * Framing of an input (text, so that seeds can be written by hand):
 *
 *     FLAGS METHOD '\n' PATH '\n' QUERY '\n' BODY
 *
 * - FLAGS, one byte: its low three bits choose the key. Bit 0: the server has an API key. Bit 1: the request
 *   carries that key. Bit 2: the request carries a wrong key (bit 1 wins when both are set). '0'..'7' are handy.
 * - METHOD, PATH: as libmicrohttpd hands them to the server (the path percent-decoded, without the query); cut at a
 *   NUL, as a C string would be.
 * - QUERY: "name=value" pairs separated by '&' (a pair without '=' has an empty value), at most 64 of them as in
 *   server.c.
 * - BODY: everything after the third '\n', bytes as they are (NULs included); none when empty. Copied into its own
 *   buffer with a NUL after it, as server.c collects it.
 * A missing '\n' leaves the fields after it empty.
 *
 * Checks on every answer: a status from 100 to 599; a JSON content type means the body parses as JSON; and without
 * the server's key, only an open route's path (a health probe, the root) may answer 2xx.
 *
 * All inputs run against one data folder, created once by LLVMFuzzerInitialize (fuzz_scratch.h) and opened with
 * durability none for speed; what one input creates, later ones see, as on a long-running server. */
#define _GNU_SOURCE /* fuzz_scratch.h: nftw, mkdtemp; strsep, strndup */
#include "serve/serve_internal.h"

#include "fuzz_scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PARAMS_MAX 64 /* server.c's bound on query parameters */
#define SERVER_KEY "fuzz-server-key"

static eg_db *db;
static eg_serve_metrics *metrics;
static eg_catalog *catalog;
static eg_mcp_sessions *mcp;

static void close_all(void) {
    eg_mcp_sessions_free(mcp);
    eg_catalog_free(catalog);
    eg_serve_metrics_free(metrics);
    eg_close(db);
    db = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    static char data_dir[4200];
    snprintf(data_dir, sizeof data_dir, "%s/data", fuzz_scratch("router")); /* removed at exit, after close_all */
    unsetenv("ENGRAM_ALLOW_FAULTS");
    unsetenv("ENGRAM_FAULTS");
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_error err;
    if (eg_open(data_dir, &options, &db, &err) != EG_OK || eg_serve_metrics_new(&metrics, &err) != EG_OK ||
        eg_catalog_open(db, &catalog, &err) != EG_OK || eg_mcp_sessions_new(db, EG_MCP_SESSIONS_MAX, EG_MCP_SESSION_IDLE_S, &mcp, &err) != EG_OK) {
        fprintf(stderr, "fuzz_router: setup: %s\n", err.message);
        abort();
    }
    atexit(close_all); /* frees everything, so the leak check sees a clean exit */
    return 0;
}

/* Every request is JSON, so that a body sent to /mcp reaches the MCP protocol (initialize opens sessions there);
 * the other routes read no header. */
static const char *json_content_type(void *connection, const char *name) {
    (void)connection;
    return strcasecmp(name, "Content-Type") == 0 ? "application/json" : NULL;
}

/* The next field of [*at, end) up to '\n' (excluded), as a malloc'd C string cut at its first NUL; *at moves past
 * the '\n', or to end. */
static char *next_line(const uint8_t **at, const uint8_t *end) {
    const uint8_t *newline = memchr(*at, '\n', (size_t)(end - *at));
    const uint8_t *stop = newline ? newline : end;
    char *field = strndup((const char *)*at, (size_t)(stop - *at));
    if (!field) abort();
    *at = newline ? newline + 1 : end;
    return field;
}

/* Splits query (modified in place) at '&' into params, skipping empty pairs; returns how many. */
static size_t split_query(char *query, eg_http_param *params) {
    size_t count = 0;
    for (char *rest = query; rest && count < FUZZ_PARAMS_MAX;) {
        char *pair = strsep(&rest, "&");
        if (!*pair) continue;
        char *equals = strchr(pair, '=');
        if (equals) *equals = '\0';
        params[count++] = (eg_http_param){pair, equals ? equals + 1 : ""};
    }
    return count;
}

/* Is path (one trailing slash ignored) the pattern of an open route? Open routes have no captures. */
static bool is_open_path(const char *path) {
    const eg_route *const tables[] = {eg_qdrant_service_routes, eg_qdrant_collection_routes, eg_qdrant_point_routes,
                                      eg_qdrant_query_routes, eg_engram_routes};
    size_t len = strlen(path);
    if (len > 1 && path[len - 1] == '/') len--;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const eg_route *r = tables[t]; r->method; r++)
            if (r->open && strlen(r->pattern) == len && memcmp(r->pattern, path, len) == 0) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    unsigned flags = data[0] & 7u;
    const uint8_t *at = data + 1, *end = data + size;
    char *method = next_line(&at, end), *path = next_line(&at, end), *query = next_line(&at, end);
    size_t body_len = (size_t)(end - at);
    char *body = NULL;
    if (body_len > 0) {
        if (!(body = malloc(body_len + 1))) abort();
        memcpy(body, at, body_len);
        body[body_len] = '\0';
    }
    eg_http_param params[FUZZ_PARAMS_MAX];
    bool server_has_key = flags & 1u;
    const char *request_key = (flags & 2u) ? SERVER_KEY : (flags & 4u) ? "not-the-key" : NULL;
    eg_serve_ctx ctx = {.db = db, .api_key = server_has_key ? SERVER_KEY : NULL, .metrics = metrics,
                        .catalog = catalog, .mcp = mcp, .loopback = true};
    eg_http_request req = {.method = method,
                           .path = path,
                           .params = params,
                           .param_count = split_query(query, params),
                           .api_key = request_key,
                           .body = body,
                           .body_len = body_len,
                           .header = json_content_type};
    eg_http_response resp;
    eg_serve_route(&ctx, &req, &resp);

    if (resp.status < 100 || resp.status > 599) {
        fprintf(stderr, "fuzz_router: %s %s answered status %u\n", method, path, resp.status);
        abort();
    }
    if (resp.content_type && strncmp(resp.content_type, "application/json", 16) == 0) {
        json_error_t jerr;
        json_t *parsed = resp.body ? json_loadb(resp.body, resp.body_len, JSON_DECODE_ANY, &jerr) : NULL;
        if (!parsed) {
            fprintf(stderr, "fuzz_router: %s %s answered JSON that does not parse: %.*s\n", method, path,
                    (int)resp.body_len, resp.body ? resp.body : "");
            abort();
        }
        json_decref(parsed);
    }
    if (server_has_key && !(flags & 2u) && resp.status < 300 && !is_open_path(path)) {
        fprintf(stderr, "fuzz_router: %s %s answered %u without the key\n", method, path, resp.status);
        abort();
    }
    free(resp.body);
    free(body);
    free(method);
    free(path);
    free(query);
    return 0;
}
