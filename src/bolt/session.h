/* session.h — one Bolt connection, from its first byte to its close, without sockets: the handshake, the
 * reassembly of chunked messages, and the server state machine of the Bolt documentation
 * (neo4j.com/docs/bolt/current/bolt/server-state/) — NEGOTIATION, AUTHENTICATION, READY, STREAMING, TX_READY,
 * TX_STREAMING, FAILED, INTERRUPTED, DEFUNCT — answering every request message with SUCCESS, RECORDs, FAILURE or
 * IGNORED. Statements run through an eg_bolt_statements table (statements.h), explicit transactions through its
 * begin / commit / rollback, bounded in time.
 *
 * The transport feeds it whatever bytes arrive and writes out whatever it appends; the tests do the same with
 * byte buffers. */
#ifndef ENGRAM_BOLT_SESSION_H
#define ENGRAM_BOLT_SESSION_H

#include "bolt/handshake.h"
#include "bolt/statements.h"
#include "util/byte_buffer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The server agent reported by HELLO. Drivers of the 4.x line parse it as "<product>/<major>.<minor>.<patch>…"
 * and decide features by the product "Neo4j" and the version, so it names the Neo4j release whose protocol this
 * server follows, with engram after it. */
#define EG_BOLT_SERVER_AGENT "Neo4j/5.26.0-engram"

/* The one database this server holds, as Neo4j names its default database. */
#define EG_BOLT_DATABASE "neo4j"

/* Streams an explicit transaction may hold open at once (each RUN opens one until it is pulled or discarded). */
#define EG_BOLT_MAX_OPEN_STREAMS 16

/* While it writes records, the session hands its answers to the transport (the config's flush) whenever they reach
 * this many bytes: a PULL of a million records holds this, plus one record, of encoded bytes at a time. */
#define EG_BOLT_FLUSH_BYTES ((size_t)64 << 10)

typedef enum eg_bolt_state {
    EG_BOLT_NEGOTIATION,
    EG_BOLT_AUTHENTICATION,
    EG_BOLT_READY,
    EG_BOLT_STREAMING,
    EG_BOLT_TX_READY,
    EG_BOLT_TX_STREAMING,
    EG_BOLT_FAILED,
    EG_BOLT_INTERRUPTED,
    EG_BOLT_DEFUNCT
} eg_bolt_state;

typedef struct eg_bolt_session_config {
    /* Authentication. With a password, only the basic scheme with this user and password is accepted. Without
     * one (NULL or ""), a client on loopback is accepted whatever it sends (as Neo4j does with auth disabled) and
     * any other client is refused. */
    const char *user;
    const char *password;
    bool peer_is_loopback;
    const char *advertised_address; /* "host:port" that ROUTE names as writer, reader and router */
    int64_t routing_ttl_seconds;
    size_t max_message_bytes; /* the bound on one incoming message */
    const eg_bolt_statements *statements;
    /* When set, HELLO is answered with a FAILURE of this code and message and the connection closes: how a server
     * at its connection bound says so in terms a driver reports. */
    const char *refusal_code;
    const char *refusal_message;
    /* The longest an explicit transaction may stay open, in ms from its BEGIN; 0: no bound. A client's tx_timeout
     * (BEGIN's metadata) that is smaller wins. A transaction past its time is rolled back, and the next request is
     * answered with a FAILURE (Neo.ClientError.Transaction.TransactionTimedOut, or ...TimedOutClientConfiguration
     * when the client's bound was the one). */
    uint64_t tx_timeout_ms;
    /* Called with `out` when it holds at least EG_BOLT_FLUSH_BYTES in the middle of a stream of records: sends
     * out->data[0..out->len) and returns true, or false when the connection is gone (the session then closes).
     * The session empties `out` afterwards. NULL: `out` grows until eg_bolt_session_feed returns (byte-buffer
     * tests). */
    bool (*flush)(void *flush_context, const eg_byte_buffer *out);
    void *flush_context;
} eg_bolt_session_config;

typedef struct eg_bolt_session eg_bolt_session;

/* A new connection; connection_number makes its connection_id ("bolt-<n>"). The config, and what it points to,
 * must outlive the session. NULL when out of memory.
 *
 * Every call on one session, free included, must come from one thread: the statement engine's transactions
 * (LMDB's write transactions among them) belong to the thread that began them. */
eg_bolt_session *eg_bolt_session_new(const eg_bolt_session_config *config, uint64_t connection_number);
/* Ends the connection: an open transaction is rolled back (a dropped or closed connection, a stopping server). */
void eg_bolt_session_free(eg_bolt_session *s);

/* Milliseconds until the open transaction's deadline (0 when it is past); -1 when no transaction with a bound is
 * open. The transport waits for the client at most this long, then calls eg_bolt_session_enforce_deadline, so that
 * an idle client's transaction is rolled back on time. */
int64_t eg_bolt_session_ms_to_deadline(const eg_bolt_session *s);
/* Rolls back the open transaction when it is past its deadline; the next request is then answered with the
 * timeout FAILURE (and the connection is FAILED until RESET). Nothing otherwise. */
void eg_bolt_session_enforce_deadline(eg_bolt_session *s);

/* Takes bytes[0..len) as they arrived, in any split, and appends the server's answers to `out`. Returns false
 * when the connection must be closed once `out` is sent: the handshake was refused, the client said GOODBYE,
 * authentication failed, or the client broke the protocol (the state is then DEFUNCT). */
bool eg_bolt_session_feed(eg_bolt_session *s, const uint8_t *bytes, size_t len, eg_byte_buffer *out);

/* Request messages this session has handled (answered, or ignored after a FAILURE) since it began: what the
 * transport counts to report messages per round trip (listener.h, eg_bolt_listener_totals). */
uint64_t eg_bolt_session_messages(const eg_bolt_session *s);

eg_bolt_state eg_bolt_session_state(const eg_bolt_session *s);
/* The agreed version; 0.0 before the handshake ends. */
eg_bolt_version eg_bolt_session_version(const eg_bolt_session *s);

/* The state's name as the Bolt documentation spells it ("READY"). */
const char *eg_bolt_state_name(eg_bolt_state state);

#endif
