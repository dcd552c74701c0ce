/* test_mcp_http.c — MCP's Streamable HTTP transport at /mcp of a real server on a loopback port (src/serve/
 * mcp_route.c): a session's life (initialize gives Mcp-Session-Id, 202 for notifications, requests answered as
 * JSON, DELETE ends it, 400 without the id, 404 for an unknown or ended one), GET 405, the media types, the body
 * checks, MCP-Protocol-Version, batches in 2025-03-26, the Origin check on a loopback and on another address, the
 * API key as on every route, and the bounds on the sessions (their number, their idle time: through the router,
 * with small bounds). Requests go through libcurl, which engram links already. */
#define _GNU_SOURCE /* strcasestr */
#include "serve/serve_internal.h"
#include "test.h"

#include <curl/curl.h>
#include <strings.h>
#include <time.h>

static eg_db *db;

typedef struct answer {
    long status;
    char body[65536];
    size_t len;
    char session[80];   /* the Mcp-Session-Id header, "" when none */
    char allow[80];     /* the Allow header */
    char content_type[80];
} answer;

static size_t on_body(char *data, size_t size, size_t count, void *context) {
    answer *a = context;
    size_t n = size * count;
    if (n > sizeof a->body - 1 - a->len) return 0;
    memcpy(a->body + a->len, data, n);
    a->len += n;
    a->body[a->len] = '\0';
    return n;
}

/* Copies the value of header line (of length n) into out when its name is name. */
static void header_into(const char *line, size_t n, const char *name, char *out, size_t size) {
    size_t name_len = strlen(name);
    if (n <= name_len + 1 || strncasecmp(line, name, name_len) != 0 || line[name_len] != ':') return;
    const char *value = line + name_len + 1;
    while (*value == ' ') value++;
    size_t len = (size_t)(line + n - value);
    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n')) len--;
    if (len >= size) len = size - 1;
    memcpy(out, value, len);
    out[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t count, void *context) {
    answer *a = context;
    size_t n = size * count;
    header_into(line, n, "Mcp-Session-Id", a->session, sizeof a->session);
    header_into(line, n, "Allow", a->allow, sizeof a->allow);
    header_into(line, n, "Content-Type", a->content_type, sizeof a->content_type);
    return n;
}

/* One request to /mcp on port; headers: "Name: value" lines separated by '\n' (NULL: none; Content-Type
 * application/json is sent unless given); body NULL: none. */
static answer request(uint16_t port, const char *method, const char *headers, const char *body) {
    answer a = {0};
    CURL *curl = curl_easy_init();
    if (!curl) return a;
    char url[64], lines[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/mcp", (unsigned)port);
    struct curl_slist *list = NULL;
    if (!headers || !strcasestr(headers, "Content-Type:"))
        list = curl_slist_append(list, "Content-Type: application/json");
    snprintf(lines, sizeof lines, "%s", headers ? headers : "");
    for (char *save = NULL, *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        list = curl_slist_append(list, line);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return a;
}

/* The body as JSON (caller decrefs), and the JSON-RPC error code of a body (0: none). */
static json_t *body_json(const answer *a) {
    return json_loads(a->body, 0, NULL);
}

static int rpc_error(const answer *a) {
    json_t *v = body_json(a);
    int code = (int)json_integer_value(json_object_get(json_object_get(v, "error"), "code"));
    json_decref(v);
    return code;
}

static bool body_has(const answer *a, const char *part) {
    if (strstr(a->body, part)) return true;
    fprintf(stderr, "  body %s lacks %s\n", a->body, part);
    return false;
}

#define INITIALIZE(version)                                                                                          \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" version "\","      \
    "\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}"

/* Opens a session (with extra headers, NULL for none); returns its id in out ("" when it failed). */
static void open_session(uint16_t port, const char *headers, const char *version_body, char out[80]) {
    answer a = request(port, "POST", headers, version_body);
    CHECK(a.status == 200);
    snprintf(out, 80, "%s", a.session);
}

static eg_server *start(const char *address, const char *key) {
    eg_server_options options = {.http = address, .api_key = key};
    eg_server *server = NULL;
    eg_error err;
    if (eg_server_start(db, &options, &server, &err) != EG_OK) fprintf(stderr, "  eg_server_start: %s\n", err.message);
    return server;
}

TEST(session_lifecycle) {
    eg_server *server = start("127.0.0.1:0", NULL);
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    answer a = request(port, "POST", "Accept: application/json, text/event-stream", INITIALIZE("2025-11-25"));
    CHECK(a.status == 200 && strncmp(a.content_type, "application/json", 16) == 0);
    CHECK(strlen(a.session) == 32 && strspn(a.session, "0123456789abcdef") == 32);
    CHECK(body_has(&a, "\"protocolVersion\":\"2025-11-25\""));
    char id[80], with_id[160];
    snprintf(id, sizeof id, "%s", a.session);
    snprintf(with_id, sizeof with_id, "Mcp-Session-Id: %s\nMCP-Protocol-Version: 2025-11-25", id);
    /* A notification: 202 and no body. */
    a = request(port, "POST", with_id, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    CHECK(a.status == 202 && a.len == 0);
    /* A response (this server asks nothing, so it has nothing to do with one): 202 too. */
    a = request(port, "POST", with_id, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{}}");
    CHECK(a.status == 202 && a.len == 0);
    a = request(port, "POST", with_id, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    CHECK(a.status == 200 && strcmp(a.body, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}") == 0);
    a = request(port, "POST", with_id, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0000b\",\"method\":\"ping\"}");
    CHECK(a.status == 200 && strcmp(a.body, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0000b\",\"result\":{}}") == 0);
    CHECK(a.session[0] == '\0'); /* given at initialize only */
    a = request(port, "POST", with_id, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}");
    CHECK(a.status == 200 && body_has(&a, "\"name\":\"create_entities\""));
    a = request(port, "POST", with_id,
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"create_entities\","
                "\"arguments\":{\"entities\":[{\"name\":\"Over HTTP\",\"entityType\":\"t\",\"observations\":[]}]}}}");
    CHECK(a.status == 200 && body_has(&a, "\"structuredContent\":{\"entities\":[{\"name\":\"Over HTTP\""));
    /* A JSON-RPC error travels in a 200, as the SDK's server answers it. */
    a = request(port, "POST", with_id, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/list\"}");
    CHECK(a.status == 200 && rpc_error(&a) == -32601);
    /* Without the id, 400; with one that is not open, 404. */
    a = request(port, "POST", NULL, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}");
    CHECK(a.status == 400 && body_has(&a, "Mcp-Session-Id header is required"));
    a = request(port, "POST", "Mcp-Session-Id: 0123", "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}");
    CHECK(a.status == 404 && body_has(&a, "Session not found"));
    /* DELETE ends it: then 404, for a request and for another DELETE. */
    a = request(port, "DELETE", NULL, NULL);
    CHECK(a.status == 400);
    a = request(port, "DELETE", with_id, NULL);
    CHECK(a.status == 200);
    a = request(port, "POST", with_id, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}");
    CHECK(a.status == 404);
    a = request(port, "DELETE", with_id, NULL);
    CHECK(a.status == 404);
    /* A failed initialize opens no session. */
    a = request(port, "POST", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    CHECK(a.status == 200 && rpc_error(&a) == -32602 && a.session[0] == '\0');
    /* Two sessions are two: each negotiated its own revision. */
    char one[80], two[80];
    open_session(port, NULL, INITIALIZE("2025-03-26"), one);
    open_session(port, NULL, INITIALIZE("2025-06-18"), two);
    CHECK(strcmp(one, two) != 0);
    char header[160];
    snprintf(header, sizeof header, "Mcp-Session-Id: %s", one);
    a = request(port, "POST", header, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                                      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]");
    CHECK(a.status == 200 && strcmp(a.body, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}]") == 0);
    a = request(port, "POST", header, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]");
    CHECK(a.status == 202);
    snprintf(header, sizeof header, "Mcp-Session-Id: %s", two);
    a = request(port, "POST", header, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    CHECK(a.status == 200 && rpc_error(&a) == -32600 && body_has(&a, "2025-03-26 only"));
    eg_server_stop(server, 1000);
}

TEST(refusals) {
    eg_server *server = start("127.0.0.1:0", NULL);
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    char id[80], header[200];
    open_session(port, NULL, INITIALIZE("2025-06-18"), id);
    const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    answer a = request(port, "GET", NULL, NULL);
    CHECK(a.status == 405 && strcmp(a.allow, "POST, DELETE") == 0 && body_has(&a, "no SSE stream"));
    a = request(port, "PUT", NULL, ping);
    CHECK(a.status == 405);
    a = request(port, "POST", "Content-Type: text/plain", INITIALIZE("2025-06-18"));
    CHECK(a.status == 415 && body_has(&a, "application/json") && a.session[0] == '\0');
    a = request(port, "POST", "Content-Type: application/jsonx", INITIALIZE("2025-06-18"));
    CHECK(a.status == 415);
    a = request(port, "POST", "Content-Type: application/json; charset=utf-8", INITIALIZE("2025-06-18"));
    CHECK(a.status == 200);
    a = request(port, "POST", "Accept: text/event-stream", INITIALIZE("2025-06-18"));
    CHECK(a.status == 406 && body_has(&a, "accept application/json"));
    a = request(port, "POST", "Accept: text/html, */*;q=0.1", INITIALIZE("2025-06-18"));
    CHECK(a.status == 200);
    a = request(port, "POST", NULL, "{not json");
    CHECK(a.status == 400 && rpc_error(&a) == -32700);
    a = request(port, "POST", NULL, "");
    CHECK(a.status == 400 && rpc_error(&a) == -32700);
    a = request(port, "POST", NULL, "42");
    CHECK(a.status == 400 && rpc_error(&a) == -32700 && body_has(&a, "object or array"));
    char deep[300] = "";
    for (int i = 0; i < 70; i++) strcat(deep, "[");
    for (int i = 0; i < 70; i++) strcat(deep, "]");
    a = request(port, "POST", NULL, deep);
    CHECK(a.status == 400 && body_has(&a, "deeper than 64"));
    /* MCP-Protocol-Version: one it does not speak is refused; any it speaks passes. */
    snprintf(header, sizeof header, "Mcp-Session-Id: %s\nMCP-Protocol-Version: 1999-01-01", id);
    a = request(port, "POST", header, ping);
    CHECK(a.status == 400 && body_has(&a, "MCP-Protocol-Version"));
    snprintf(header, sizeof header, "Mcp-Session-Id: %s\nMCP-Protocol-Version: 2024-11-05", id);
    a = request(port, "POST", header, ping);
    CHECK(a.status == 200);
    /* The Origin of a page elsewhere is refused on loopback (DNS rebinding); loopback pages and non-browsers are
     * not. */
    const char *refused[] = {"http://evil.example", "http://localhost.evil.example", "http://127.0.0.1.evil.example",
                             "null", "https://10.0.0.1:8080", "http://[::2]"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(header, sizeof header, "Origin: %s", refused[i]);
        a = request(port, "POST", header, INITIALIZE("2025-06-18"));
        CHECK(a.status == 403 && body_has(&a, "Origin") && a.session[0] == '\0');
        if (a.status != 403) fprintf(stderr, "  Origin %s: %ld\n", refused[i], a.status);
    }
    snprintf(header, sizeof header, "Origin: http://evil.example\nMcp-Session-Id: %s", id);
    a = request(port, "DELETE", header, NULL);
    CHECK(a.status == 403);
    const char *allowed[] = {"http://localhost:6274", "http://127.0.0.1", "https://127.1.2.3:443", "http://[::1]:80",
                             "http://LOCALHOST"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        snprintf(header, sizeof header, "Origin: %s", allowed[i]);
        a = request(port, "POST", header, INITIALIZE("2025-06-18"));
        CHECK(a.status == 200);
        if (a.status != 200) fprintf(stderr, "  Origin %s: %ld\n", allowed[i], a.status);
    }
    eg_server_stop(server, 1000);
    /* Listening beyond loopback (with a key, as that requires), browsers elsewhere are clients like any. */
    server = start("0.0.0.0:0", "s3cret");
    REQUIRE(server);
    a = request(eg_server_port(server), "POST", "Origin: http://evil.example\napi-key: s3cret",
                INITIALIZE("2025-06-18"));
    CHECK(a.status == 200);
    eg_server_stop(server, 1000);
}

TEST(api_key) {
    eg_server *server = start("127.0.0.1:0", "k3y");
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    answer a = request(port, "POST", NULL, INITIALIZE("2025-06-18"));
    CHECK(a.status == 401 && a.session[0] == '\0');
    a = request(port, "POST", "api-key: wrong", INITIALIZE("2025-06-18"));
    CHECK(a.status == 401);
    a = request(port, "GET", NULL, NULL);
    CHECK(a.status == 401);
    a = request(port, "POST", "Authorization: Bearer k3y", INITIALIZE("2025-06-18"));
    CHECK(a.status == 200 && a.session[0]);
    char header[200], id[80];
    snprintf(id, sizeof id, "%s", a.session);
    snprintf(header, sizeof header, "api-key: k3y\nMcp-Session-Id: %s", id);
    a = request(port, "POST", header, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    CHECK(a.status == 200);
    /* The session's id is no key: without the key, the session is refused too. */
    snprintf(header, sizeof header, "Mcp-Session-Id: %s", id);
    a = request(port, "POST", header, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    CHECK(a.status == 401);
    eg_server_stop(server, 1000);
}

TEST(sessions_are_bounded) {
    eg_server *server = start("127.0.0.1:0", NULL);
    REQUIRE(server);
    uint16_t port = eg_server_port(server);
    char first[80], second[80], id[80], header[120];
    const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    open_session(port, NULL, INITIALIZE("2025-06-18"), first);
    open_session(port, NULL, INITIALIZE("2025-06-18"), second);
    for (int i = 0; i < EG_MCP_SESSIONS_MAX - 2; i++) open_session(port, NULL, INITIALIZE("2025-06-18"), id);
    snprintf(header, sizeof header, "Mcp-Session-Id: %s", first);
    answer a = request(port, "POST", header, ping);
    CHECK(a.status == 200); /* the first is now the most recently used; the second is idle the longest */
    /* Full: the next session takes the place of the one idle the longest. */
    open_session(port, NULL, INITIALIZE("2025-06-18"), id);
    a = request(port, "POST", header, ping);
    CHECK(a.status == 200);
    snprintf(header, sizeof header, "Mcp-Session-Id: %s", second);
    a = request(port, "POST", header, ping);
    CHECK(a.status == 404);
    snprintf(header, sizeof header, "Mcp-Session-Id: %s", id);
    a = request(port, "POST", header, ping);
    CHECK(a.status == 200);
    eg_server_stop(server, 1000);
}

/* ---- the sessions' bounds, through the router with small ones ---- */

/* The headers of a request handed to eg_serve_route: connection is a NULL-ended array of name, value pairs. */
static const char *listed_header(void *connection, const char *name) {
    for (const char *const *p = connection; p[0]; p += 2)
        if (strcasecmp(p[0], name) == 0) return p[1];
    return NULL;
}

/* POSTs body to /mcp through the router, in session (NULL: none); the answer's status, and the session id it gave
 * in out (when out is not NULL). */
static unsigned route(eg_serve_ctx *ctx, const char *session, const char *body, char out[80]) {
    const char *headers[] = {"Content-Type", "application/json", session ? "Mcp-Session-Id" : NULL, session, NULL};
    eg_http_request req = {.method = "POST", .path = "/mcp", .body = body, .body_len = strlen(body),
                           .header = listed_header, .connection = (void *)headers};
    eg_http_response resp;
    eg_serve_route(ctx, &req, &resp);
    if (out) snprintf(out, 80, "%s", resp.header_name ? resp.header_value : "");
    free(resp.body);
    return resp.status;
}

TEST(sessions_idle_out_and_give_way) {
    eg_serve_metrics *metrics = NULL;
    eg_mcp_sessions *mcp = NULL;
    eg_error err;
    REQUIRE(eg_serve_metrics_new(&metrics, &err) == EG_OK);
    REQUIRE(eg_mcp_sessions_new(db, 2, 1, &mcp, &err) == EG_OK); /* two sessions, idle for one second at most */
    eg_serve_ctx ctx = {.db = db, .metrics = metrics, .mcp = mcp, .loopback = true};
    const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    char a[80], b[80], c[80];
    CHECK(route(&ctx, NULL, INITIALIZE("2025-06-18"), a) == 200 && strlen(a) == 32);
    CHECK(route(&ctx, NULL, INITIALIZE("2025-06-18"), b) == 200 && strlen(b) == 32);
    CHECK(route(&ctx, a, ping, NULL) == 200); /* a is used last: b is idle the longest */
    CHECK(route(&ctx, NULL, INITIALIZE("2025-06-18"), c) == 200 && strlen(c) == 32);
    CHECK(route(&ctx, b, ping, NULL) == 404);
    CHECK(route(&ctx, a, ping, NULL) == 200);
    CHECK(route(&ctx, c, ping, NULL) == 200);
    struct timespec pause = {1, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(route(&ctx, a, ping, NULL) == 404);
    CHECK(route(&ctx, c, ping, NULL) == 404);
    eg_mcp_sessions_free(mcp);
    eg_serve_metrics_free(metrics);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    db = test_open_fresh();
    RUN(session_lifecycle);
    RUN(refusals);
    RUN(api_key);
    RUN(sessions_are_bounded);
    RUN(sessions_idle_out_and_give_way);
    eg_close(db);
    curl_global_cleanup();
    return test_summary();
}
