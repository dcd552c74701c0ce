/* qdrant_service.c — the service routes of Qdrant's API: the root (name and version, which the official clients
 * check for compatibility) and the health probes that load balancers and orchestrators poll. All four are open,
 * as in Qdrant's API-key whitelist: "/", "/healthz", "/readyz", "/livez". */
#include "serve/qdrant_shapes.h"

#include <engram/exec.h>

#include <string.h>

/* The Qdrant version engram answers as: the API revision whose shapes it follows. The official clients compare
 * their own major.minor with it and warn when they differ by more than one minor version. */
#define QDRANT_COMPAT_VERSION "1.19.0"

/* Qdrant answers its root bare (no envelope) and without the API key: the clients' compatibility check reads it
 * before anything else and expects {"title", "version"[, "commit"]} (VersionInfo in the OpenAPI document). */
static void root(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures, eg_http_response *resp) {
    (void)ctx, (void)req, (void)captures;
    eg_http_json(resp, 200,
                 json_pack("{s:s, s:s, s:s}", "title", "engram - vector search engine (Qdrant-compatible API)",
                           "version", QDRANT_COMPAT_VERSION, "engram_version", EG_VERSION));
}

/* The probes answer plain text, as Qdrant's do. /readyz says whether the folder's stores serve. */
static void probe(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures, eg_http_response *resp) {
    (void)ctx, (void)captures;
    if (strcmp(req->path, "/readyz") == 0) {
        json_t *request = json_pack("{s:s}", "op", "health"); /* eg_exec borrows it */
        json_t *health = request ? eg_exec(ctx->db, request) : NULL;
        const char *verdict = json_string_value(json_object_get(json_object_get(health, "result"), "status"));
        bool ready = verdict && strcmp(verdict, "down") != 0;
        json_decref(health);
        json_decref(request);
        if (!ready) {
            eg_http_text(resp, 503, "text/plain; charset=utf-8", "memory writes are failing: see engram health\n");
            return;
        }
        eg_http_text(resp, 200, "text/plain; charset=utf-8", "all shards are ready");
        return;
    }
    eg_http_text(resp, 200, "text/plain; charset=utf-8", "healthz check passed");
}

UNSUPPORTED_ROUTE(telemetry, "telemetry (see engram's GET /metrics and GET /v1/health)")
UNSUPPORTED_ROUTE(issues, "the issues report")
UNSUPPORTED_ROUTE(cluster, "cluster status and peers (engram is one node)")
UNSUPPORTED_ROUTE(quotas, "quotas")
UNSUPPORTED_ROUTE(snapshots, "full-storage snapshots (copy the data folder while no server holds it)")

const eg_route eg_qdrant_service_routes[] = {
    {.method = "GET", .pattern = "/", .engram = root, .open = true},
    {.method = "GET", .pattern = "/healthz", .engram = probe, .open = true},
    {.method = "GET", .pattern = "/livez", .engram = probe, .open = true},
    {.method = "GET", .pattern = "/readyz", .engram = probe, .open = true},
    {.method = "GET", .pattern = "/telemetry", .qdrant = telemetry},
    {.method = "GET", .pattern = "/issues", .qdrant = issues},
    {.method = "DELETE", .pattern = "/issues", .qdrant = issues},
    {.method = "GET", .pattern = "/cluster", .qdrant = cluster},
    {.method = "GET", .pattern = "/cluster/telemetry", .qdrant = cluster},
    {.method = "POST", .pattern = "/cluster/recover", .qdrant = cluster},
    {.method = "DELETE", .pattern = "/cluster/peer/{peer_id}", .qdrant = cluster},
    {.method = "GET", .pattern = "/quotas", .qdrant = quotas},
    {.method = "PUT", .pattern = "/quotas", .qdrant = quotas},
    {.method = "GET", .pattern = "/snapshots", .qdrant = snapshots},
    {.method = "POST", .pattern = "/snapshots", .qdrant = snapshots},
    {.method = "POST", .pattern = "/snapshots/upload", .qdrant = snapshots},
    {.method = "PUT", .pattern = "/snapshots/recover", .qdrant = snapshots},
    {.method = "GET", .pattern = "/snapshots/{snapshot_name}", .qdrant = snapshots},
    {.method = "DELETE", .pattern = "/snapshots/{snapshot_name}", .qdrant = snapshots},
    {0},
};
