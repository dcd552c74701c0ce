/* server.c — the transport of `engram serve`: a libmicrohttpd daemon (a thread pool over epoll, TLS through
 * GnuTLS) that collects each request's body within its bound, hands the request to the router, and sends the
 * answer back; and the orderly stop: quiesce, drain what is in flight, close. */
#include "serve/serve_internal.h"
#include "util/files.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HEADER_BYTES_MAX (64u * 1024u) /* libmicrohttpd's per-connection buffer: request line and headers */
#define PARAMS_MAX 64                  /* query parameters read per request; more are an error */

struct eg_server {
    struct MHD_Daemon *daemon;
    eg_serve_ctx ctx;
    size_t max_body_bytes;
    char *api_key;
    char *tls_cert, *tls_key; /* PEM texts, kept for the daemon's lifetime */
    atomic_uint in_flight;    /* requests begun and not yet completed */
    atomic_bool stopping;
    uint16_t port;
};

/* One request's state across the handler's calls. */
typedef struct request_state {
    char *body;
    size_t len, cap;
    bool too_large;
    bool counted;
} request_state;

typedef struct param_walk {
    eg_http_param items[PARAMS_MAX];
    size_t count;
    bool overflow;
} param_walk;

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    param_walk *walk = cls;
    if (walk->count == PARAMS_MAX) {
        walk->overflow = true;
        return MHD_NO;
    }
    walk->items[walk->count++] = (eg_http_param){key, value ? value : ""};
    return MHD_YES;
}

static enum MHD_Result send_response(eg_server *s, struct MHD_Connection *c, eg_http_response *resp) {
    /* No body (a 202 of /mcp) is a static empty buffer: libmicrohttpd must not free it. */
    struct MHD_Response *r = resp->body
                                 ? MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE)
                                 : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(resp->body);
        return MHD_NO;
    }
    if (resp->body)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : "text/plain");
    if (resp->header_name) MHD_add_response_header(r, resp->header_name, resp->header_value);
    if (atomic_load(&s->stopping)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_text(eg_server *s, struct MHD_Connection *c, unsigned status, const char *message) {
    eg_http_response resp = {0};
    eg_http_json(&resp, status, json_pack("{s:{s:s}, s:f}", "status", "error", message, "time", 0.0));
    return send_response(s, c, &resp);
}

/* The API key of a request: Qdrant's `api-key` header, else an `Authorization: Bearer` token. */
static const char *request_key(struct MHD_Connection *c) {
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "api-key");
    if (key) return key;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) return auth + 7;
    return NULL;
}

static const char *connection_header(void *connection, const char *name) {
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

static bool append_body(request_state *st, const char *data, size_t size, size_t max) {
    if (size > max - st->len) return false;
    if (st->len + size + 1 > st->cap) {
        size_t want = st->cap ? st->cap : 4096;
        while (want < st->len + size + 1) want *= 2;
        char *grown = realloc(st->body, want);
        if (!grown) return false;
        st->body = grown;
        st->cap = want;
    }
    memcpy(st->body + st->len, data, size);
    st->len += size;
    st->body[st->len] = '\0';
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)version;
    eg_server *s = cls;
    request_state *st = *req_cls;
    if (!st) {
        if (!(st = calloc(1, sizeof *st))) return MHD_NO;
        *req_cls = st;
        st->counted = true;
        atomic_fetch_add(&s->in_flight, 1);
        const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > s->max_body_bytes) {
            st->too_large = true;
            return send_text(s, c, 413, "Payload error: the request body is larger than serve.max_body_bytes");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large && !append_body(st, upload_data, *upload_data_size, s->max_body_bytes))
            st->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large) return send_text(s, c, 413, "Payload error: the request body is larger than serve.max_body_bytes");
    param_walk params = {.count = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, &params);
    if (params.overflow) return send_text(s, c, 400, "Format error: more than 64 query parameters");
    eg_http_request req = {.method = method,
                           .path = url,
                           .params = params.items,
                           .param_count = params.count,
                           .api_key = request_key(c),
                           .body = st->body,
                           .body_len = st->len,
                           .header = connection_header,
                           .connection = c};
    eg_http_response resp;
    eg_serve_route(&s->ctx, &req, &resp);
    return send_response(s, c, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode code) {
    (void)c;
    (void)code;
    eg_server *s = cls;
    request_state *st = *req_cls;
    if (!st) return;
    if (st->counted) atomic_fetch_sub(&s->in_flight, 1);
    free(st->body);
    free(st);
    *req_cls = NULL;
}

/* libmicrohttpd's own complaints (a client that hung up, a TLS handshake gone wrong) are the client's business. */
static void quiet_logger(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    (void)fmt;
    (void)ap;
}

/* Splits "HOST:PORT" or "[V6]:PORT" and resolves it to one socket address. */
static eg_status resolve(const char *address, struct sockaddr_storage *out, eg_error *err) {
    char host[256];
    const char *port;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close[1] != ':' || (size_t)(close - address - 1) >= sizeof host)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "address '%.200s' is not [IPV6]:PORT", address);
        memcpy(host, address + 1, (size_t)(close - address - 1));
        host[close - address - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(address, ':');
        if (!colon || (size_t)(colon - address) >= sizeof host || colon == address)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "address '%.200s' is not HOST:PORT", address);
        memcpy(host, address, (size_t)(colon - address));
        host[colon - address] = '\0';
        port = colon + 1;
    }
    char *end;
    unsigned long number = strtoul(port, &end, 10);
    if (!*port || *end || number > 65535)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "address '%.200s': the port must be 0..65535", address);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(host, port, &hints, &found);
    if (rc != 0 || !found)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "address '%.200s': %s", address, gai_strerror(rc));
    memset(out, 0, sizeof *out);
    memcpy(out, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);
    return EG_OK;
}

static bool is_loopback(const struct sockaddr_storage *addr) {
    if (addr->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
    if (addr->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

#define PEM_BYTES_MAX (1u << 20)

static eg_status read_pem(const char *path, char **out, eg_error *err) {
    if (!(*out = malloc(PEM_BYTES_MAX))) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = eg_read_small_file(path, path, *out, PEM_BYTES_MAX, err);
    /* EG_IO whatever kept the file from being read (missing included), as eg_server_start promises. */
    return st == EG_OK ? EG_OK : eg_error_prefix(err, EG_IO, "TLS: ");
}

static void server_free(eg_server *s) {
    if (!s) return;
    eg_serve_metrics_free(s->ctx.metrics);
    eg_catalog_free(s->ctx.catalog);
    eg_mcp_sessions_free(s->ctx.mcp);
    free(s->api_key);
    free(s->tls_cert);
    free(s->tls_key);
    free(s);
}

eg_status eg_server_start(eg_db *db, const eg_server_options *options, eg_server **out, eg_error *err) {
    eg_server_options o = options ? *options : (eg_server_options){0};
    const eg_settings *settings = eg_db_settings(db);
    if (!o.http || !*o.http) o.http = eg_settings_text(settings, "serve.http");
    if (!o.api_key || !*o.api_key) o.api_key = eg_settings_text(settings, "serve.api_key");
    if (!*o.api_key && getenv("ENGRAM_API_KEY")) o.api_key = getenv("ENGRAM_API_KEY");
    if (!o.threads) o.threads = (unsigned)eg_settings_int(settings, "serve.threads");
    if (!o.max_body_bytes) o.max_body_bytes = (size_t)eg_settings_int(settings, "serve.max_body_bytes");
    if (!o.max_connections) o.max_connections = (unsigned)eg_settings_int(settings, "serve.max_connections");
    if (!o.idle_timeout_ms) o.idle_timeout_ms = (unsigned)eg_settings_int(settings, "serve.idle_timeout_ms");
    if (!o.tls_cert_file != !o.tls_key_file)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "TLS needs both a certificate and its key");
    struct sockaddr_storage addr;
    eg_status st = resolve(o.http, &addr, err);
    if (st != EG_OK) return st;
    if (!*o.api_key && !is_loopback(&addr) && !o.insecure)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "refusing to listen on %.200s, which is not loopback, without an API key (set "
                            "serve.api_key or ENGRAM_API_KEY, or pass --insecure)",
                            o.http);
    if (o.tls_cert_file && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return eg_error_set(err, EG_UNAVAILABLE, "this libmicrohttpd was built without TLS");
    eg_server *s = calloc(1, sizeof *s);
    if (!s) return eg_error_set(err, EG_INTERNAL, "out of memory");
    s->ctx.db = db;
    s->ctx.loopback = is_loopback(&addr);
    s->max_body_bytes = o.max_body_bytes;
    if (*o.api_key && !(s->api_key = strdup(o.api_key))) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    s->ctx.api_key = s->api_key;
    if (st == EG_OK) st = eg_serve_metrics_new(&s->ctx.metrics, err);
    if (st == EG_OK) st = eg_catalog_open(db, &s->ctx.catalog, err);
    if (st == EG_OK) st = eg_mcp_sessions_new(db, EG_MCP_SESSIONS_MAX, EG_MCP_SESSION_IDLE_S, &s->ctx.mcp, err);
    if (st == EG_OK && o.tls_cert_file) st = read_pem(o.tls_cert_file, &s->tls_cert, err);
    if (st == EG_OK && o.tls_key_file) st = read_pem(o.tls_key_file, &s->tls_key, err);
    if (st != EG_OK) {
        server_free(s);
        return st;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    if (s->tls_cert) flags |= MHD_USE_TLS;
    unsigned timeout_s = (o.idle_timeout_ms + 999) / 1000;
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The logger comes first: libmicrohttpd reads options in order and complains about the later ones (a pool of
     * size 0, for one thread) through whichever logger is set by then. */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, quiet_logger, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, o.threads > 1 ? o.threads : 0u,
        MHD_OPTION_CONNECTION_LIMIT, o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_BYTES_MAX, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_ARRAY, s->tls_cert ? tls_options : tls_options + 2, MHD_OPTION_END);
    if (!s->daemon) {
        server_free(s);
        return eg_error_set(err, EG_IO, "cannot listen on %.200s (in use, not a local address, or a bad TLS "
                                        "certificate or key)", o.http);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return EG_OK;
}

uint16_t eg_server_port(const eg_server *server) {
    return server->port;
}

void eg_server_stop(eg_server *server, unsigned wait_ms) {
    if (!server) return;
    atomic_store(&server->stopping, true);
    MHD_socket listener = MHD_quiesce_daemon(server->daemon);
    struct timespec pause = {0, 5 * 1000 * 1000};
    for (unsigned waited = 0; atomic_load(&server->in_flight) > 0 && waited < wait_ms; waited += 5)
        nanosleep(&pause, NULL);
    MHD_stop_daemon(server->daemon);
    if (listener != MHD_INVALID_SOCKET) close(listener);
    server_free(server);
}
