/* engram_routes.c — engram's own HTTP API (docs/serve.md, "engram's API"): POST /v1/exec, which runs the
 * `engram exec` vocabulary unchanged, the resource routes of the memory API, each of which builds one exec request
 * from its path, query and body, and GET /metrics. Every answer is the exec response object itself
 * ({"ok": true, "result": ...} or {"ok": false, "error": {...}}), so that a route and the operation it names can
 * never disagree; only the HTTP status is added, from the error's code. */
#include "serve/serve_internal.h"

#include <engram/exec.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_BATCH_OPS_MAX 1000 /* operations in one POST /v1/exec array */

/* ---- Answers ------------------------------------------------------------------------------------------------ */

/* An error that stops a request before any operation runs, in the exec response's shape. */
static void refuse(eg_http_response *resp, unsigned status, eg_status code, const char *message) {
    eg_http_json(resp, status,
                 json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", eg_status_name(code), "message", message));
}

static void refuse_err(eg_http_response *resp, const eg_error *err) {
    refuse(resp, eg_http_status_of(err->code), err->code, err->message);
}

/* The HTTP status of an exec response: 200 when ok, else the status its error code maps to. */
static unsigned status_of_response(json_t *response) {
    if (json_is_true(json_object_get(response, "ok"))) return 200;
    const char *code = json_string_value(json_object_get(json_object_get(response, "error"), "code"));
    for (eg_status st = EG_OK; code && st <= EG_INTERNAL; st++)
        if (strcmp(eg_status_name(st), code) == 0) return eg_http_status_of(st);
    return 500;
}

/* Runs one exec request (borrowed) and answers its response: with the status its outcome maps to (the resource
 * routes), or with 200 whatever the outcome (POST /v1/exec, where the response says it). */
static void answer_op(eg_serve_ctx *ctx, json_t *request, bool status_from_outcome, eg_http_response *resp) {
    json_t *response = eg_exec(ctx->db, request);
    if (!response) {
        eg_http_text(resp, 500, "text/plain", "out of memory\n");
        return;
    }
    eg_http_json(resp, status_from_outcome ? status_of_response(response) : 200, response);
}

/* Parses a request body as exec parses a line (an object or an array; duplicate keys refused), after bounding its
 * nesting. *out is NULL for an empty body. */
static eg_status parse_body(const eg_http_request *req, json_t **out, eg_error *err) {
    *out = NULL;
    if (!req->body || req->body_len == 0) return EG_OK;
    if (eg_json_too_deep(req->body, req->body_len, EG_SERVE_JSON_DEPTH_MAX))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "the body nests arrays and objects deeper than %d levels",
                            EG_SERVE_JSON_DEPTH_MAX);
    json_error_t jerr;
    if (!(*out = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr)))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "malformed JSON at column %d: %s", jerr.column, jerr.text);
    return EG_OK;
}

/* ---- POST /v1/exec ------------------------------------------------------------------------------------------ */

static void exec_route(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                       eg_http_response *resp) {
    (void)captures;
    eg_error err;
    json_t *body;
    if (parse_body(req, &body, &err) != EG_OK) {
        refuse_err(resp, &err);
        return;
    }
    if (!body) {
        refuse(resp, 400, EG_INVALID_ARGUMENT, "the body must be an operation object or an array of them");
    } else if (json_is_object(body)) {
        answer_op(ctx, body, false, resp);
    } else if (json_array_size(body) > EXEC_BATCH_OPS_MAX) {
        char message[128];
        snprintf(message, sizeof message, "an array of %zu operations is more than the limit of %d per request",
                 json_array_size(body), EXEC_BATCH_OPS_MAX);
        refuse(resp, 400, EG_INVALID_ARGUMENT, message);
    } else {
        /* Each operation runs on its own, in order, as successive `engram exec` lines would: one failing does
         * not stop or undo the others. */
        json_t *responses = json_array();
        size_t i;
        json_t *op;
        json_array_foreach(body, i, op) {
            if (!responses) break;
            json_t *response = eg_exec(ctx->db, op);
            if (!response || json_array_append_new(responses, response) != 0) {
                json_decref(responses);
                responses = NULL;
            }
        }
        eg_http_json(resp, 200, responses);
    }
    json_decref(body);
}

/* ---- The resource routes ------------------------------------------------------------------------------------ */

/* How a resource route builds its exec request. The path's {id} becomes the argument "id"; each allowed query
 * parameter becomes the argument of the same name; a body, where one is taken, must be a JSON object whose members
 * are arguments. An argument given twice (path and body, query and body) is refused, as is any other query
 * parameter: exec refuses unknown arguments, and a query parameter silently ignored would be worse. */
typedef struct resource {
    const char *op;                 /* the exec operation; NULL: create_<type>, the type read from the body */
    const char *const *query;       /* the query parameters taken (NULL-terminated), or NULL for none */
    const char *const *numeric;     /* those of them that are whole numbers */
    bool id_in_path;                /* the pattern ends in, or holds, {id} */
    bool body;                      /* takes a JSON object body (optional: none means no arguments) */
    bool type_as_label;             /* the query's "type" becomes get_node's "label" */
    bool memory_id;                 /* the path's id is a memory id, read as the memory operations read theirs */
} resource;

static bool listed(const char *const *names, const char *name) {
    for (; names && *names; names++)
        if (strcmp(*names, name) == 0) return true;
    return false;
}

static eg_status set_once(json_t *request, const char *name, json_t *value, eg_error *err) {
    if (!value) return eg_error_set(err, EG_INTERNAL, "out of memory");
    if (json_object_get(request, name)) {
        json_decref(value);
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "argument '%s' is given more than once (between the path, the query and the body)", name);
    }
    json_object_set_new(request, name, value);
    return EG_OK;
}

/* A query parameter's value as the JSON value of its argument. */
static eg_status query_value(const resource *r, const eg_http_param *p, json_t **out, eg_error *err) {
    *out = NULL;
    if (r->type_as_label && strcmp(p->name, "type") == 0) {
        eg_memory_type type;
        if (eg_memory_type_parse(p->value, &type, err) != EG_OK) return eg_error_prefix(err, err->code, "type: ");
        *out = json_string(eg_label_name(eg_memory_label(type)));
    } else if (listed(r->numeric, p->name)) {
        char *end;
        errno = 0;
        long long n = strtoll(p->value, &end, 10);
        if (!*p->value || *end || errno)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "query parameter %s must be a whole number, got '%.64s'",
                                p->name, p->value);
        *out = json_integer(n);
    } else {
        *out = json_string(p->value);
        if (!*out) return eg_error_set(err, EG_INVALID_ARGUMENT, "query parameter %s is not valid UTF-8", p->name);
    }
    return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

/* The op of POST /v1/memories: create_<type>, "type" taken out of the request (create_* have no such argument). */
static eg_status create_op(json_t *request, eg_error *err) {
    const char *name = json_string_value(json_object_get(request, "type"));
    eg_memory_type type;
    if (!name) return eg_error_set(err, EG_INVALID_ARGUMENT, "'type' is required: episode, entity or procedure");
    if (eg_memory_type_parse(name, &type, err) != EG_OK) return eg_error_prefix(err, err->code, "type: ");
    char op[32];
    snprintf(op, sizeof op, "create_%s", eg_memory_type_name(type));
    json_object_del(request, "type");
    json_object_set_new(request, "op", json_string(op));
    return EG_OK;
}

static eg_status build_request(const resource *r, const eg_http_request *req, const char *const *captures,
                               json_t **out, eg_error *err) {
    json_t *request = NULL;
    eg_status st = parse_body(req, &request, err);
    if (st == EG_OK && request && !r->body)
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "this route takes no body (its arguments are in the path and query)");
    if (st == EG_OK && request && !json_is_object(request))
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "the body must be a JSON object of the operation's arguments");
    if (st == EG_OK && request && json_object_get(request, "op"))
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "'op' is not an argument here: the route names the operation");
    if (st == EG_OK && !request && !(request = json_object())) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    char canonical[EG_POINT_ID_TEXT];
    const char *id = r->id_in_path ? captures[0] : NULL;
    if (st == EG_OK && id && r->memory_id) {
        /* get_node takes ids as they are written; a memory's node id is its canonical text ("7", a lower-case UUID),
         * which the memory operations derive from any spelling ("007", upper case): GET derives it the same way. */
        eg_point_id parsed;
        if ((st = eg_point_id_parse(id, &parsed, err)) == EG_OK) eg_point_id_format(&parsed, canonical);
        else eg_error_prefix(err, st, "id: ");
        id = canonical;
    }
    if (st == EG_OK && id) st = set_once(request, "id", json_string(id), err);
    for (size_t i = 0; st == EG_OK && i < req->param_count; i++) {
        const eg_http_param *p = &req->params[i];
        json_t *value;
        if (!listed(r->query, p->name))
            st = eg_error_set(err, EG_INVALID_ARGUMENT, "unknown query parameter '%.64s' for this route", p->name);
        else if ((st = query_value(r, p, &value, err)) == EG_OK)
            st = set_once(request, r->type_as_label && strcmp(p->name, "type") == 0 ? "label" : p->name, value, err);
    }
    if (st == EG_OK && !r->op) st = create_op(request, err);
    if (st == EG_OK && r->op) json_object_set_new(request, "op", json_string(r->op));
    if (st != EG_OK) {
        json_decref(request);
        return st;
    }
    *out = request;
    return EG_OK;
}

static void run_resource(const resource *r, eg_serve_ctx *ctx, const eg_http_request *req,
                         const char *const *captures, eg_http_response *resp) {
    json_t *request;
    eg_error err;
    if (build_request(r, req, captures, &request, &err) != EG_OK) {
        refuse_err(resp, &err);
        return;
    }
    answer_op(ctx, request, true, resp);
    json_decref(request);
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* One handler per route: the router's handlers carry no data of their own. */
#define RESOURCE_ROUTE(handler, ...)                                                                                  \
    static void handler(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,                 \
                        eg_http_response *resp) {                                                                    \
        const resource spec = {__VA_ARGS__};                                                                         \
        run_resource(&spec, ctx, req, captures, resp);                                                               \
    }

RESOURCE_ROUTE(create_memory, .op = NULL, .body = true)
RESOURCE_ROUTE(batch_create_memories, .op = "batch_create_memories", .body = true)
RESOURCE_ROUTE(get_memory, .id_in_path = true, .op = "get_node", .query = NAMES("type"), .type_as_label = true,
               .memory_id = true)
RESOURCE_ROUTE(update_memory, .id_in_path = true, .op = "update_memory", .query = NAMES("type"), .body = true)
RESOURCE_ROUTE(delete_memory, .id_in_path = true, .op = "delete_memory", .query = NAMES("type"), .body = true)
RESOURCE_ROUTE(archive_memory, .id_in_path = true, .op = "archive_memory", .query = NAMES("type"), .body = true)
RESOURCE_ROUTE(recall, .op = "recall", .body = true)
RESOURCE_ROUTE(check, .op = "check", .body = true)
RESOURCE_ROUTE(archive_run, .op = "archive_older_than", .body = true)
RESOURCE_ROUTE(archive_list, .op = "list_archived", .query = NAMES("type", "limit", "cursor"),
               .numeric = NAMES("limit"))
RESOURCE_ROUTE(archive_get, .id_in_path = true, .op = "retrieve_archived")
RESOURCE_ROUTE(archive_restore, .id_in_path = true, .op = "restore_archived")
RESOURCE_ROUTE(archive_delete, .id_in_path = true, .op = "delete_archived")
RESOURCE_ROUTE(archive_cleanup, .op = "cleanup_archive", .body = true)
RESOURCE_ROUTE(archive_verify, .op = "verify_archive")
RESOURCE_ROUTE(health, .op = "health")
RESOURCE_ROUTE(config, .op = "config")
RESOURCE_ROUTE(stats, .op = "stats")

/* ---- GET /metrics ------------------------------------------------------------------------------------------- */

static void metrics_route(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                          eg_http_response *resp) {
    (void)captures;
    if (req->param_count > 0) {
        eg_http_text(resp, 400, "text/plain; charset=utf-8", "GET /metrics takes no query parameter\n");
        return;
    }
    char *text = eg_serve_metrics_text(ctx->metrics, ctx->db);
    if (!text) {
        eg_http_text(resp, 500, "text/plain", "out of memory\n");
        return;
    }
    free(resp->body);
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = text;
    resp->body_len = strlen(text);
}

/* Fixed words (batch, run, cleanup, verify, restore) come before {id} where both could match the same path, since
 * the router takes the first route whose pattern and method match. */
const eg_route eg_engram_routes[] = {
    {.method = "POST", .pattern = "/v1/exec", .engram = exec_route},
    {.method = "POST", .pattern = "/v1/memories", .engram = create_memory},
    {.method = "POST", .pattern = "/v1/memories/batch", .engram = batch_create_memories},
    {.method = "GET", .pattern = "/v1/memories/{id}", .engram = get_memory},
    {.method = "PATCH", .pattern = "/v1/memories/{id}", .engram = update_memory},
    {.method = "DELETE", .pattern = "/v1/memories/{id}", .engram = delete_memory},
    {.method = "POST", .pattern = "/v1/memories/{id}/archive", .engram = archive_memory},
    {.method = "POST", .pattern = "/v1/recall", .engram = recall},
    {.method = "POST", .pattern = "/v1/check", .engram = check},
    {.method = "GET", .pattern = "/v1/archive", .engram = archive_list},
    {.method = "POST", .pattern = "/v1/archive/run", .engram = archive_run},
    {.method = "POST", .pattern = "/v1/archive/cleanup", .engram = archive_cleanup},
    {.method = "POST", .pattern = "/v1/archive/verify", .engram = archive_verify},
    {.method = "GET", .pattern = "/v1/archive/{id}", .engram = archive_get},
    {.method = "DELETE", .pattern = "/v1/archive/{id}", .engram = archive_delete},
    {.method = "POST", .pattern = "/v1/archive/{id}/restore", .engram = archive_restore},
    {.method = "GET", .pattern = "/v1/health", .engram = health},
    {.method = "GET", .pattern = "/v1/config", .engram = config},
    {.method = "GET", .pattern = "/v1/stats", .engram = stats},
    {.method = "GET", .pattern = "/metrics", .engram = metrics_route},
    {0},
};
