/* router.c — one request in, one response out: find the route, check the API key, parse and bound the body, run
 * the handler, and wrap a Qdrant-family result in Qdrant's envelope. Counted in the metrics either way. */
#include "serve/serve_internal.h"
#include "util/json_text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const eg_route *const route_tables[] = {eg_qdrant_service_routes, eg_qdrant_collection_routes,
                                               eg_qdrant_point_routes, eg_qdrant_query_routes, eg_engram_routes,
                                               eg_mcp_routes};

const char *eg_http_header(const eg_http_request *req, const char *name) {
    return req->header ? req->header(req->connection, name) : NULL;
}

const char *eg_http_param_get(const eg_http_request *req, const char *name) {
    for (size_t i = 0; i < req->param_count; i++)
        if (strcmp(req->params[i].name, name) == 0) return req->params[i].value;
    return NULL;
}

eg_status eg_http_param_bool(const eg_http_request *req, const char *name, bool *out, eg_error *err) {
    const char *value = eg_http_param_get(req, name);
    if (!value) return EG_OK;
    if (strcmp(value, "true") == 0) *out = true;
    else if (strcmp(value, "false") == 0) *out = false;
    else return eg_error_set(err, EG_INVALID_ARGUMENT, "query parameter %s must be true or false", name);
    return EG_OK;
}

void eg_http_text(eg_http_response *resp, unsigned status, const char *content_type, const char *text) {
    free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = strdup(text);
    resp->body_len = resp->body ? strlen(text) : 0;
    if (!resp->body) resp->status = 500;
}

void eg_http_json(eg_http_response *resp, unsigned status, json_t *value) {
    char *text = value ? eg_json_text(value, JSON_COMPACT) : NULL;
    json_decref(value);
    free(resp->body);
    resp->content_type = "application/json";
    resp->status = text ? status : 500;
    resp->body = text;
    resp->body_len = text ? strlen(text) : 0;
}

unsigned eg_http_status_of(eg_status st) {
    switch (st) {
    case EG_OK: return 200;
    case EG_INVALID_ARGUMENT: return 400;
    case EG_NOT_FOUND: return 404;
    case EG_CONFLICT: return 409;
    case EG_UNAVAILABLE:
    case EG_LOCKED: return 503;
    case EG_TIMEOUT: return 504;
    default: return 500;
    }
}

bool eg_json_too_deep(const char *text, size_t len, size_t max) {
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return false;
}

/* Matches path against pattern segment by segment; a {name} segment captures one non-empty segment. The
 * captures point into buf, the caller's copy of the path (its separators after captures become NULs). One
 * trailing slash is ignored. */
static bool match(const char *pattern, const char *path, char *buf, const char **captures, size_t *capture_count) {
    *capture_count = 0;
    strcpy(buf, path);
    size_t len = strlen(buf);
    if (len == 0 || buf[0] != '/') return false;
    if (len > 1 && buf[len - 1] == '/') buf[len - 1] = '\0';
    char *p = buf + 1;
    const char *q = pattern + 1;
    for (;;) {
        size_t q_len = strcspn(q, "/"), p_len = strcspn(p, "/");
        bool q_more = q[q_len] == '/', p_more = p[p_len] == '/';
        if (*q == '{') {
            if (p_len == 0 || *capture_count == EG_ROUTE_CAPTURES_MAX) return false;
            captures[(*capture_count)++] = p;
            p[p_len] = '\0';
        } else if (q_len != p_len || memcmp(q, p, q_len) != 0) {
            return false;
        }
        if (q_more != p_more) return false;
        if (!q_more) return true;
        q += q_len + 1;
        p += p_len + 1;
    }
}

/* Constant-time comparison: how long a wrong key matched reveals nothing. */
static bool key_matches(const char *given, const char *expected) {
    if (!given) return false;
    size_t g = strlen(given), e = strlen(expected);
    unsigned char diff = (unsigned char)(g != e);
    for (size_t i = 0; i < e; i++) diff |= (unsigned char)(expected[i] ^ given[i < g ? i : 0]);
    return diff == 0;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* message must be valid UTF-8, as a JSON string must be: an eg_error's message is (eg_error_set makes it so). */
static void qdrant_error(eg_http_response *resp, unsigned status, const char *message, double seconds) {
    eg_http_json(resp, status, json_pack("{s:{s:s}, s:f}", "status", "error", message, "time", seconds));
}

static void run_qdrant(eg_serve_ctx *ctx, const eg_route *route, const eg_http_request *req,
                       const char *const *captures, const struct timespec *start, eg_http_response *resp) {
    json_t *body = NULL;
    if (req->body && req->body_len > 0) {
        if (eg_json_too_deep(req->body, req->body_len, EG_SERVE_JSON_DEPTH_MAX)) {
            qdrant_error(resp, 400, "Format error in JSON body: nested deeper than 64 levels", seconds_since(start));
            return;
        }
        json_error_t jerr;
        body = json_loadb(req->body, req->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!body) {
            eg_error format; /* eg_error_set, so that the bytes jansson quotes come out as UTF-8 */
            eg_error_set(&format, EG_INVALID_ARGUMENT, "Format error in JSON body: %s at line %d column %d", jerr.text,
                         jerr.line, jerr.column);
            qdrant_error(resp, 400, format.message, seconds_since(start));
            return;
        }
    }
    eg_error err;
    eg_error_clear(&err);
    json_t *result = NULL;
    unsigned status = 0;
    eg_status st = route->qdrant(ctx, req, captures, body, &result, &status, &err);
    json_decref(body);
    if (st != EG_OK) {
        json_decref(result);
        qdrant_error(resp, status ? status : eg_http_status_of(st), err.message, seconds_since(start));
        return;
    }
    eg_http_json(resp, status ? status : 200,
                 json_pack("{s:o, s:s, s:f}", "result", result ? result : json_null(), "status", "ok", "time",
                           seconds_since(start)));
}

void eg_serve_route(eg_serve_ctx *ctx, const eg_http_request *req, eg_http_response *resp) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    memset(resp, 0, sizeof *resp);
    size_t path_len = strlen(req->path);
    char *buf = malloc(path_len + 1);
    const char *captures[EG_ROUTE_CAPTURES_MAX] = {0};
    const eg_route *found = NULL;
    bool path_known = false, path_open = false;
    for (size_t t = 0; buf && !found && t < sizeof route_tables / sizeof route_tables[0]; t++) {
        for (const eg_route *r = route_tables[t]; r->method; r++) {
            size_t n;
            if (!match(r->pattern, req->path, buf, captures, &n)) continue;
            path_known = true;
            path_open |= r->open;
            if (strcmp(r->method, req->method) == 0) {
                found = r;
                break;
            }
        }
    }
    const char *route_name = found ? (found->name ? found->name : found->pattern) : "unmatched";
    /* As in Qdrant, the key is checked before the route is known to exist (only the open routes' paths are
     * exempt), so that a client without the key cannot map which routes there are. */
    bool key_needed = ctx->api_key && !(found ? found->open : path_open);
    if (!buf) {
        eg_http_text(resp, 500, "text/plain", "out of memory\n");
    } else if (key_needed && !key_matches(req->api_key, ctx->api_key)) {
        qdrant_error(resp, 401, "Must provide an API key or an Authorization bearer token", seconds_since(&start));
    } else if (!found) {
        qdrant_error(resp, path_known ? 405 : 404, path_known ? "Method not allowed" : "Not found",
                     seconds_since(&start));
    } else if (found->qdrant) {
        run_qdrant(ctx, found, req, captures, &start, resp);
    } else {
        found->engram(ctx, req, captures, resp);
    }
    if (!resp->status) eg_http_text(resp, 500, "text/plain", "internal error: no response\n");
    eg_serve_metrics_observe(ctx->metrics, route_name, req->method, resp->status, seconds_since(&start));
    free(buf);
}
