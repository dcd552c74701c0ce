/* engram/serve.h — the network server: engram's HTTP API and a Qdrant-compatible REST API over one open data
 * folder (docs/serve.md lists every route).
 *
 * A server answers requests concurrently on a pool of threads (libmicrohttpd, epoll), all over the one eg_db it
 * was given; every write it acknowledges is as durable as the folder's durability setting makes any write.
 *
 * Routes
 * - Qdrant's REST API (docs/serve.md, "Qdrant compatibility"): collections, aliases, payload indexes, points,
 *   payloads, scroll, count, search and query. Answers use Qdrant's envelope
 *   {"result": ..., "status": "ok", "time": seconds}; errors {"status": {"error": "..."}, "time": seconds} with
 *   Qdrant's HTTP codes.
 * - engram's own API under /v1/: POST /v1/exec (the `engram exec` vocabulary), the memory routes, and
 *   GET /metrics (Prometheus text).
 * - GET / (the version, bare as in Qdrant) and GET /healthz, /livez, /readyz: never need the API key.
 *
 * Security: with an API key, every other route needs the header `api-key: KEY` or `Authorization: Bearer KEY`
 * (401 otherwise). A server refuses to listen on an address other than loopback without a key unless `insecure`
 * is set. Bodies, JSON nesting, headers, connections and idle time are bounded (docs/serve.md, "Limits").
 *
 * Threads: eg_server_start and eg_server_stop are called from one thread; the server calls into the db from
 * its own threads. */
#ifndef ENGRAM_SERVE_H
#define ENGRAM_SERVE_H

#include <engram/engram.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_SERVE_JSON_DEPTH_MAX 64 /* nesting of arrays and objects in one request body */

typedef struct eg_server eg_server;

/* What a server listens on and how it bounds its clients. A zero or NULL field takes the data folder's setting
 * of the same name (serve.http, serve.api_key, serve.threads, ...; docs/settings.md), and an empty api_key
 * setting takes $ENGRAM_API_KEY. */
typedef struct eg_server_options {
    const char *http;           /* "HOST:PORT" or "[IPv6]:PORT"; port 0 picks a free one (eg_server_port) */
    const char *api_key;        /* "" or NULL: from the settings / environment; none when still empty */
    const char *tls_cert_file;  /* PEM certificate chain and key: both or neither; HTTPS when given */
    const char *tls_key_file;
    bool insecure;              /* allow a non-loopback address without an API key */
    unsigned threads;
    size_t max_body_bytes;
    unsigned max_connections;
    unsigned idle_timeout_ms;
} eg_server_options;

/* Starts serving db (borrowed: it must outlive the server). EG_INVALID_ARGUMENT for a bad address, a lone
 * certificate or key, or a public address without a key; EG_IO when the address cannot be bound or a
 * certificate file cannot be read; EG_UNAVAILABLE when this libmicrohttpd lacks TLS and TLS was asked for. */
eg_status eg_server_start(eg_db *db, const eg_server_options *options, eg_server **out, eg_error *err);

/* The port the server listens on (the one picked, when the address asked for port 0). */
uint16_t eg_server_port(const eg_server *server);

/* Stops accepting connections, waits up to wait_ms for the requests in flight to finish, then closes every
 * connection and frees the server (the db stays open). NULL is ignored. */
void eg_server_stop(eg_server *server, unsigned wait_ms);

#ifdef __cplusplus
}
#endif
#endif
