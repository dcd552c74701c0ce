/* mcp_route.c — MCP's Streamable HTTP transport at /mcp (docs/mcp.md): a POST carries one JSON-RPC message (or, in
 * revision 2025-03-26, a batch) and gets its answer as application/json, or 202 with no body when there is none
 * (notifications, responses); initialize opens a session whose id (Mcp-Session-Id) every later request must carry;
 * DELETE ends it; GET is 405, as engram sends no messages of its own (no SSE stream). The router has checked the API
 * key as for every other route; here the Origin is checked against DNS rebinding, and the MCP-Protocol-Version
 * header against the revisions spoken. The sessions are bounded in number and in idle time. */
#include "mcp/mcp.h"
#include "serve/serve_internal.h"
#include "util/clock.h"

#include <engram/exec.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define SESSION_ID_BYTES 16 /* random bytes of a session id, written as 32 hex digits */

typedef struct mcp_entry {
    char id[2 * SESSION_ID_BYTES + 1];
    eg_mcp_session *session;
    unsigned users;     /* requests using it now */
    bool ended;         /* out of the table (DELETE, idle, evicted): freed by its last user */
    uint64_t last_used; /* CLOCK_MONOTONIC nanoseconds: fine enough to tell which of two sessions was used last */
} mcp_entry;

struct eg_mcp_sessions {
    pthread_mutex_t lock;
    eg_mcp_backend backend;
    size_t max;
    uint64_t idle_ns;
    mcp_entry **table; /* max slots; NULL: a free one */
};

#define NS_PER_S 1000000000ull

eg_status eg_mcp_sessions_new(eg_db *db, size_t max, unsigned idle_s, eg_mcp_sessions **out, eg_error *err) {
    eg_mcp_sessions *s = calloc(1, sizeof *s);
    mcp_entry **table = calloc(max ? max : 1, sizeof *table);
    if (!s || !table || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        free(table);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    s->backend = eg_mcp_local_backend(db);
    s->table = table;
    s->max = max;
    s->idle_ns = (uint64_t)idle_s * NS_PER_S;
    *out = s;
    return EG_OK;
}

static void entry_free(mcp_entry *e) {
    eg_mcp_session_free(e->session);
    free(e);
}

void eg_mcp_sessions_free(eg_mcp_sessions *s) {
    if (!s) return;
    for (size_t i = 0; i < s->max; i++)
        if (s->table[i]) entry_free(s->table[i]);
    pthread_mutex_destroy(&s->lock);
    free(s->table);
    free(s);
}


/* Takes slot i's entry out of the table (the lock held); freed now unless a request still uses it. */
static void remove_slot(eg_mcp_sessions *s, size_t i) {
    mcp_entry *e = s->table[i];
    s->table[i] = NULL;
    if (e->users == 0) entry_free(e);
    else e->ended = true;
}

/* Ends the sessions idle for longer than their bound (the lock held). */
static void expire(eg_mcp_sessions *s, uint64_t now) {
    for (size_t i = 0; i < s->max; i++)
        if (s->table[i] && s->table[i]->users == 0 && now - s->table[i]->last_used > s->idle_ns)
            remove_slot(s, i);
}

/* The session of id, in use by the caller until release; NULL when there is none (never was, or ended). */
static mcp_entry *acquire(eg_mcp_sessions *s, const char *id) {
    pthread_mutex_lock(&s->lock);
    uint64_t now = eg_monotonic_ns();
    expire(s, now);
    mcp_entry *found = NULL;
    for (size_t i = 0; !found && i < s->max; i++)
        if (s->table[i] && strcmp(s->table[i]->id, id) == 0) found = s->table[i];
    if (found) {
        found->users++;
        found->last_used = now;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

static void release(eg_mcp_sessions *s, mcp_entry *e) {
    pthread_mutex_lock(&s->lock);
    e->users--;
    e->last_used = eg_monotonic_ns();
    bool orphan = e->ended && e->users == 0;
    pthread_mutex_unlock(&s->lock);
    if (orphan) entry_free(e);
}

/* A new session with a fresh random id, not yet in the table (initialize may fail); NULL when memory runs out or
 * the system has no randomness to give. */
static mcp_entry *entry_new(eg_mcp_sessions *s) {
    unsigned char bytes[SESSION_ID_BYTES];
    mcp_entry *e = calloc(1, sizeof *e);
    if (!e || getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes ||
        !(e->session = eg_mcp_session_new(&s->backend))) {
        free(e);
        return NULL;
    }
    for (size_t i = 0; i < SESSION_ID_BYTES; i++) snprintf(e->id + 2 * i, 3, "%02x", bytes[i]);
    return e;
}

/* Puts e in the table; when it is full, the session idle the longest gives way (its client, if it comes back,
 * gets 404 and initializes again, as the spec has it). False when every session is in use by a request. */
static bool insert(eg_mcp_sessions *s, mcp_entry *e) {
    pthread_mutex_lock(&s->lock);
    uint64_t now = eg_monotonic_ns();
    expire(s, now);
    size_t none = s->max, slot = none, oldest = none;
    for (size_t i = 0; i < s->max && slot == none; i++) {
        if (!s->table[i]) slot = i;
        else if (s->table[i]->users == 0 &&
                 (oldest == none || s->table[i]->last_used < s->table[oldest]->last_used))
            oldest = i;
    }
    if (slot == none && oldest != none) {
        remove_slot(s, oldest);
        slot = oldest;
    }
    if (slot != none) {
        e->last_used = now;
        s->table[slot] = e;
    }
    pthread_mutex_unlock(&s->lock);
    return slot != none;
}

/* Ends the session of id; false when there is none. */
static bool end_session(eg_mcp_sessions *s, const char *id) {
    pthread_mutex_lock(&s->lock);
    bool found = false;
    for (size_t i = 0; !found && i < s->max; i++)
        if (s->table[i] && strcmp(s->table[i]->id, id) == 0) {
            remove_slot(s, i);
            found = true;
        }
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* ---- the checks every /mcp request passes ---- */

/* A transport error, as a JSON-RPC error with a null id: what the official SDK's server answers. message is
 * ASCII. */
static void refuse(eg_http_response *resp, unsigned status, int code, const char *message) {
    eg_http_json(resp, status, eg_mcp_error(NULL, code, "%s", message));
}

/* Is origin (scheme://host[:port]) one of this machine's loopback names? */
static bool loopback_origin(const char *origin) {
    const char *host = strstr(origin, "://");
    if (!host) return false;
    host += 3;
    size_t len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
    const char *rest = host + len;
    if (!(*rest == '\0' || *rest == ':' || *rest == '/')) return false;
    char name[64];
    if (len == 0 || len >= sizeof name) return false;
    memcpy(name, host, len);
    name[len] = '\0';
    if (strcasecmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0) return true;
    struct in_addr v4;
    return inet_pton(AF_INET, name, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

/* The spec's defence against DNS rebinding: a web page that a browser loaded from elsewhere, whose name was then
 * pointed at 127.0.0.1, sends its own Origin; a server listening on loopback answers only pages from loopback.
 * Listening elsewhere, the API key (which a non-loopback address requires unless --insecure) is the guard, and
 * browsers on other machines are legitimate clients. No Origin at all is a client that is not a browser. */
static bool origin_refused(eg_serve_ctx *ctx, const eg_http_request *req, eg_http_response *resp) {
    const char *origin = eg_http_header(req, "Origin");
    if (!origin || !ctx->loopback || loopback_origin(origin)) return false;
    refuse(resp, 403, -32000, "Forbidden: this server listens on loopback and answers only loopback Origins");
    return true;
}

/* The session a request names: 400 without Mcp-Session-Id, 404 for one that is not (or no longer) open. */
static mcp_entry *session_of(eg_serve_ctx *ctx, const eg_http_request *req, eg_http_response *resp) {
    const char *id = eg_http_header(req, "Mcp-Session-Id");
    if (!id) {
        refuse(resp, 400, -32000, "Bad Request: Mcp-Session-Id header is required (initialize first)");
        return NULL;
    }
    mcp_entry *e = acquire(ctx->mcp, id);
    if (!e) refuse(resp, 404, -32001, "Session not found: it ended or never was; initialize a new one");
    return e;
}

/* MCP-Protocol-Version, which clients send after initialize, must name a revision this server speaks; absent, the
 * spec has the server assume 2025-03-26, which it speaks. */
static bool version_refused(const eg_http_request *req, eg_http_response *resp) {
    const char *version = eg_http_header(req, "MCP-Protocol-Version");
    if (!version) return false;
    size_t count;
    const char *const *versions = eg_mcp_protocol_versions(&count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(version, versions[i]) == 0) return false;
    refuse(resp, 400, -32000, "Bad Request: unsupported MCP-Protocol-Version");
    return true;
}

/* Does header (a Content-Type or one item of an Accept list) name media type type? Parameters are ignored. */
static bool media_is(const char *header, size_t len, const char *type) {
    while (len > 0 && (*header == ' ' || *header == '\t')) header++, len--;
    size_t type_len = strlen(type);
    return len >= type_len && strncasecmp(header, type, type_len) == 0 &&
           (len == type_len || header[type_len] == ';' || header[type_len] == ' ');
}

/* Whether an Accept header admits a JSON answer (no Accept admits anything). The official client sends
 * "application/json, text/event-stream"; this server always answers JSON, which the spec allows. */
static bool accepts_json(const char *accept) {
    if (!accept) return true;
    for (const char *item = accept;; item++) {
        size_t len = strcspn(item, ",");
        if (media_is(item, len, "application/json") || media_is(item, len, "application/*") ||
            media_is(item, len, "*/*"))
            return true;
        item += len;
        if (!*item) return false;
    }
}

/* ---- the routes ---- */

static void post_mcp(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                     eg_http_response *resp) {
    (void)captures;
    if (origin_refused(ctx, req, resp)) return;
    const char *type = eg_http_header(req, "Content-Type");
    if (!type || !media_is(type, strcspn(type, ","), "application/json")) {
        refuse(resp, 415, -32000, "Unsupported Media Type: Content-Type must be application/json");
        return;
    }
    if (!accepts_json(eg_http_header(req, "Accept"))) {
        refuse(resp, 406, -32000, "Not Acceptable: the client must accept application/json");
        return;
    }
    if (req->body_len > 0 && eg_json_too_deep(req->body, req->body_len, EG_SERVE_JSON_DEPTH_MAX)) {
        refuse(resp, 400, -32700, "Parse error: nested deeper than 64 levels");
        return;
    }
    json_t *message = req->body_len > 0 ? json_loadb(req->body, req->body_len, JSON_ALLOW_NUL, NULL) : NULL;
    if (!message) {
        refuse(resp, 400, -32700, "Parse error: the body is not a JSON object or array");
        return;
    }
    const char *method = json_string_value(json_object_get(message, "method"));
    bool initialize = method && strcmp(method, "initialize") == 0;
    mcp_entry *e = NULL;
    json_t *answer = NULL;
    if (initialize) {
        /* initialize opens a new session, whatever Mcp-Session-Id says: the client starts afresh. */
        if (!(e = entry_new(ctx->mcp))) {
            json_decref(message);
            refuse(resp, 500, -32603, "Internal error: cannot open a session");
            return;
        }
        answer = eg_mcp_handle(e->session, message);
        if (json_object_get(answer, "result") && !insert(ctx->mcp, e)) {
            json_decref(answer);
            entry_free(e);
            json_decref(message);
            refuse(resp, 503, -32000, "Service Unavailable: every MCP session is busy; try again");
            return;
        }
        if (json_object_get(answer, "result")) {
            resp->header_name = "Mcp-Session-Id";
            snprintf(resp->header_value, sizeof resp->header_value, "%s", e->id);
        } else {
            entry_free(e);
        }
    } else if (!version_refused(req, resp) && (e = session_of(ctx, req, resp))) {
        answer = eg_mcp_handle(e->session, message);
        release(ctx->mcp, e);
    }
    json_decref(message);
    if (resp->status) return; /* refused above */
    if (answer) {
        eg_http_json(resp, 200, answer);
    } else {
        /* Notifications and responses only, or a request cancelled meanwhile: accepted, nothing to say. */
        resp->status = 202;
    }
}

static void delete_mcp(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                       eg_http_response *resp) {
    (void)captures;
    if (origin_refused(ctx, req, resp)) return;
    const char *id = eg_http_header(req, "Mcp-Session-Id");
    if (!id) refuse(resp, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
    else if (!end_session(ctx->mcp, id)) refuse(resp, 404, -32001, "Session not found");
    else resp->status = 200;
}

static void get_mcp(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                    eg_http_response *resp) {
    (void)ctx;
    (void)req;
    (void)captures;
    refuse(resp, 405, -32000, "Method Not Allowed: engram sends no messages of its own, so it opens no SSE stream");
    resp->header_name = "Allow";
    snprintf(resp->header_value, sizeof resp->header_value, "POST, DELETE");
}

const eg_route eg_mcp_routes[] = {
    {.method = "POST", .pattern = "/mcp", .engram = post_mcp},
    {.method = "DELETE", .pattern = "/mcp", .engram = delete_mcp},
    {.method = "GET", .pattern = "/mcp", .engram = get_mcp},
    {.method = NULL},
};
