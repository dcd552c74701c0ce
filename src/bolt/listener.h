/* listener.h — the Bolt transport of `engram serve`: a listening TCP socket and one thread per connection, each
 * running an eg_bolt_session (session.h) over its socket, in the clear or over TLS (GnuTLS), within a bound on
 * connections open at once and an idle timeout; and an orderly stop that closes every connection. */
#ifndef ENGRAM_BOLT_LISTENER_H
#define ENGRAM_BOLT_LISTENER_H

#include "bolt/statements.h"

#include <engram/status.h>

#include <stddef.h>
#include <stdint.h>

typedef struct eg_bolt_listener eg_bolt_listener;

typedef struct eg_bolt_listener_options {
    const char *address;           /* "HOST:PORT" or "[IPv6]:PORT"; port 0 picks a free one */
    const char *user;              /* basic-auth user */
    const char *password;          /* "" or NULL: none (loopback clients only, see session.h) */
    unsigned max_connections;      /* connections served at once; a few more are refused with a FAILURE at
                                      HELLO (Neo.TransientError.Request.NoThreadsAvailable), the rest closed */
    unsigned idle_timeout_ms;      /* a connection silent this long is closed */
    size_t max_message_bytes;      /* one incoming message, reassembled */
    int64_t routing_ttl_seconds;   /* the ttl of the routing table ROUTE answers */
    const eg_bolt_statements *statements;
    uint64_t tx_timeout_ms;        /* the longest an explicit transaction stays open; 0: no bound (session.h) */
    /* TLS: a PEM certificate chain and its PEM private key (both, or neither: plain TCP). Every connection must
     * then begin with a TLS handshake (drivers' bolt+s:// and bolt+ssc://). */
    const char *tls_cert_file;
    const char *tls_key_file;
} eg_bolt_listener_options;

/* Binds and starts accepting. The options (and what they point to) are copied; the certificate and key are read
 * now. EG_INVALID_ARGUMENT for a bad address, or a certificate or key that is missing, unreadable or not a pair;
 * EG_IO when the address cannot be bound. */
eg_status eg_bolt_listener_start(const eg_bolt_listener_options *options, eg_bolt_listener **out, eg_error *err);

/* The port it listens on (the one picked, for port 0). */
uint16_t eg_bolt_listener_port(const eg_bolt_listener *listener);

/* What the listener's connections have done since it started, summed over all of them (closed ones included):
 * how a benchmark tells the server's share of a Bolt client's time from the network's and its own. */
typedef struct eg_bolt_listener_totals {
    uint64_t messages; /* request messages handled (HELLO, LOGON, BEGIN, RUN, PULL, COMMIT, ...) */
    uint64_t batches;  /* reads from a socket that were answered: the client's round trips, as its requests are
                          pipelined into one write per round trip (a batch split across reads counts more) */
    uint64_t handling_ns; /* time inside the session for those reads: decoding the requests, running the
                             statements, encoding the answers (not reading or sending them) */
} eg_bolt_listener_totals;

/* A consistent-enough snapshot of the totals: each counter is read atomically, not the three at once. */
eg_bolt_listener_totals eg_bolt_listener_read_totals(const eg_bolt_listener *listener);

/* Stops accepting, closes every connection (a request being answered finishes first: its thread notices the
 * closed socket at its next read, and rolls back the connection's open transaction) and frees the listener. NULL
 * is ignored. */
void eg_bolt_listener_stop(eg_bolt_listener *listener);

#endif
