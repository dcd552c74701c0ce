/* session.c — one Bolt connection's protocol: handshake, framing and the server state machine (see session.h). */
#include "bolt/session.h"

#include "bolt/chunking.h"
#include "bolt/gql_status.h"
#include "bolt/messages.h"
#include "bolt/packstream.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Neo4j's codes for a transaction past its time: its own setting's bound, or the one the client gave at BEGIN. */
#define TIMED_OUT_BY_SETTING "Neo.ClientError.Transaction.TransactionTimedOut"
#define TIMED_OUT_BY_CLIENT "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration"

/* A transaction bound beyond this (some 35 years) is taken as this, so that the deadline's arithmetic in
 * milliseconds stays far from int64's end. */
#define MAX_TX_BOUND_MS ((int64_t)1 << 40)

typedef struct bolt_stream {
    eg_bolt_result result;
    size_t next_record;
    int64_t qid;
    struct timespec started;
} bolt_stream;

struct eg_bolt_session {
    const eg_bolt_session_config *config;
    uint64_t connection_number;
    eg_bolt_handshake handshake;
    eg_bolt_dechunker dechunker;
    eg_bolt_state state;
    bool closing; /* the connection ends once the current answers are sent */
    /* Open result streams: in auto-commit at most one; in an explicit transaction up to EG_BOLT_MAX_OPEN_STREAMS,
     * named by qid. */
    bolt_stream streams[EG_BOLT_MAX_OPEN_STREAMS];
    size_t stream_count;
    int64_t next_qid;     /* in the current transaction */
    int64_t last_qid;     /* the qid that -1 names: the last RUN's */
    size_t resets_pending; /* RESETs among the messages already received and not yet handled */
    /* The explicit transaction, from BEGIN until COMMIT, ROLLBACK, RESET, GOODBYE, a FAILURE, its deadline or the
     * session's end, whichever comes first. */
    bool tx_open;
    void *tx;
    bool tx_has_deadline;
    bool tx_deadline_from_client; /* the client's tx_timeout was the smaller bound, not the setting */
    struct timespec tx_deadline;  /* CLOCK_MONOTONIC */
    /* Set when a transaction was rolled back for its time: the code of the FAILURE the next request gets. */
    const char *timed_out_code;
    uint64_t messages_handled; /* request messages handed to handle_message (eg_bolt_session_messages) */
};

/* Bookmarks are one counter for the whole process: every commit is visible to every later reader of this single
 * server at once, so a bookmark only has to be a distinct token; the counter makes them tell their order too. */
static atomic_uint_fast64_t last_bookmark;

static void next_bookmark(char *text, size_t size) {
    snprintf(text, size, "engram:%llu", (unsigned long long)(atomic_fetch_add(&last_bookmark, 1) + 1));
}

const char *eg_bolt_state_name(eg_bolt_state state) {
    switch (state) {
    case EG_BOLT_NEGOTIATION: return "NEGOTIATION";
    case EG_BOLT_AUTHENTICATION: return "AUTHENTICATION";
    case EG_BOLT_READY: return "READY";
    case EG_BOLT_STREAMING: return "STREAMING";
    case EG_BOLT_TX_READY: return "TX_READY";
    case EG_BOLT_TX_STREAMING: return "TX_STREAMING";
    case EG_BOLT_FAILED: return "FAILED";
    case EG_BOLT_INTERRUPTED: return "INTERRUPTED";
    case EG_BOLT_DEFUNCT: return "DEFUNCT";
    }
    return "?";
}

eg_bolt_session *eg_bolt_session_new(const eg_bolt_session_config *config, uint64_t connection_number) {
    eg_bolt_session *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->config = config;
    s->connection_number = connection_number;
    s->dechunker.max_message = config->max_message_bytes;
    s->state = EG_BOLT_NEGOTIATION;
    return s;
}

static void close_streams(eg_bolt_session *s) {
    for (size_t i = 0; i < s->stream_count; i++) eg_bolt_result_free(&s->streams[i].result);
    s->stream_count = 0;
}

static void roll_back(eg_bolt_session *s) {
    if (!s->tx_open) return;
    s->tx_open = false;
    s->config->statements->rollback(s->config->statements->context, s->tx);
    s->tx = NULL;
}

/* Drops the open results and rolls back the open transaction: what RESET, GOODBYE, a FAILURE and the end of the
 * connection do. */
static void drop_work(eg_bolt_session *s) {
    close_streams(s);
    roll_back(s);
}

void eg_bolt_session_free(eg_bolt_session *s) {
    if (s == NULL) return;
    drop_work(s);
    eg_bolt_dechunker_free(&s->dechunker);
    free(s);
}

eg_bolt_state eg_bolt_session_state(const eg_bolt_session *s) { return s->state; }

eg_bolt_version eg_bolt_session_version(const eg_bolt_session *s) {
    return s->handshake.state == EG_BOLT_HANDSHAKE_AGREED ? s->handshake.version : (eg_bolt_version){0, 0};
}

static bool version_at_least(const eg_bolt_session *s, uint8_t major, uint8_t minor) {
    eg_bolt_version v = s->handshake.version;
    return v.major > major || (v.major == major && v.minor >= minor);
}

static eg_ps_dialect dialect_of(const eg_bolt_session *s) {
    return s->handshake.version.major >= 5 ? EG_PS_BOLT_5 : EG_PS_BOLT_4_4;
}

static int64_t elapsed_ms(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

int64_t eg_bolt_session_ms_to_deadline(const eg_bolt_session *s) {
    if (!s->tx_open || !s->tx_has_deadline) return -1;
    int64_t left = -elapsed_ms(&s->tx_deadline);
    return left > 0 ? left : 0;
}

void eg_bolt_session_enforce_deadline(eg_bolt_session *s) {
    if (eg_bolt_session_ms_to_deadline(s) != 0) return;
    drop_work(s);
    s->timed_out_code = s->tx_deadline_from_client ? TIMED_OUT_BY_CLIENT : TIMED_OUT_BY_SETTING;
}

/* ---- writing answers ---- */

/* Hands out to the transport once it holds EG_BOLT_FLUSH_BYTES, so that a long stream of records is sent as it
 * is encoded instead of piling up. */
static void flush_if_full(eg_bolt_session *s, eg_byte_buffer *out) {
    if (s->config->flush == NULL || out->len < EG_BOLT_FLUSH_BYTES) return;
    if (!s->config->flush(s->config->flush_context, out)) {
        s->state = EG_BOLT_DEFUNCT;
        s->closing = true;
    }
    out->len = 0;
}

/* Frames the encoded message in w onto out; a message that cannot be encoded or framed ends the connection (the
 * client could not make sense of what follows). */
static void send_message(eg_bolt_session *s, eg_ps_writer *w, eg_byte_buffer *out) {
    eg_error err;
    if (eg_ps_writer_status(w, &err) != EG_OK ||
        !eg_bolt_chunk_message((const uint8_t *)w->out.data, w->out.len, out, SIZE_MAX)) {
        s->state = EG_BOLT_DEFUNCT;
        s->closing = true;
    }
    free(w->out.data);
}

static void write_text(eg_ps_writer *w, const char *text) { eg_ps_write_string(w, text, strlen(text)); }

static void send_empty_success(eg_bolt_session *s, eg_byte_buffer *out) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    eg_ps_write_dict_header(&w, 0);
    send_message(s, &w, out);
}

static void send_ignored(eg_bolt_session *s, eg_byte_buffer *out) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_IGNORED, 0);
    send_message(s, &w, out);
}

/* FAILURE {code, message} up to 5.6. From 5.7 the Neo4j code is `neo4j_code` and a GQL status object comes with
 * it: `gql_status`, `description` and the `diagnostic_record`, written whole (its three GQL standard fields at
 * their defaults, and the classification) although the documentation lets a server leave out defaults: drivers
 * fill them in either way. engram has no inner cause to give, so `cause` is absent. */
static void send_failure(eg_bolt_session *s, const char *code, const eg_bolt_gql_status *gql, const char *message,
                         eg_byte_buffer *out) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_FAILURE, 1);
    if (!version_at_least(s, 5, 7)) {
        eg_ps_write_dict_header(&w, 2);
        write_text(&w, "code");
        write_text(&w, code);
        write_text(&w, "message");
        write_text(&w, message);
        send_message(s, &w, out);
        return;
    }
    eg_ps_write_dict_header(&w, 5);
    write_text(&w, "neo4j_code");
    write_text(&w, code);
    write_text(&w, "message");
    write_text(&w, message);
    write_text(&w, "gql_status");
    write_text(&w, gql->gql_status);
    write_text(&w, "description");
    write_text(&w, gql->description);
    write_text(&w, "diagnostic_record");
    eg_ps_write_dict_header(&w, 4);
    write_text(&w, "OPERATION");
    write_text(&w, "");
    write_text(&w, "OPERATION_CODE");
    write_text(&w, "0");
    write_text(&w, "CURRENT_SCHEMA");
    write_text(&w, "/");
    write_text(&w, "_classification");
    write_text(&w, gql->classification);
    send_message(s, &w, out);
}

/* A FAILURE after which the client must RESET: an open transaction and its streams are gone. */
static void fail_recoverably_as(eg_bolt_session *s, const char *code, const eg_bolt_gql_status *gql,
                                const char *message, eg_byte_buffer *out) {
    drop_work(s);
    send_failure(s, code, gql, message, out);
    if (!s->closing) s->state = EG_BOLT_FAILED;
}

static void fail_recoverably(eg_bolt_session *s, const char *code, const char *message, eg_byte_buffer *out) {
    eg_bolt_gql_status gql = eg_bolt_gql_status_for(code);
    fail_recoverably_as(s, code, &gql, message, out);
}

/* A FAILURE that ends the connection: a broken protocol or refused credentials. */
static void fail_fatally(eg_bolt_session *s, const char *code, const char *message, eg_byte_buffer *out) {
    eg_bolt_gql_status gql = eg_bolt_gql_status_for(code);
    drop_work(s);
    send_failure(s, code, &gql, message, out);
    s->state = EG_BOLT_DEFUNCT;
    s->closing = true;
}

static void refuse_in_state(eg_bolt_session *s, const char *message_name, eg_byte_buffer *out) {
    char text[160];
    snprintf(text, sizeof text, "Message %s cannot be handled by a session in the %s state.", message_name,
             eg_bolt_state_name(s->state));
    eg_bolt_gql_status gql = eg_bolt_gql_status_invalid_state();
    fail_recoverably_as(s, "Neo.ClientError.Request.Invalid", &gql, text, out);
}

/* ---- reading requests ---- */

static const eg_ps_value *dict_get(const eg_ps_value *dict, const char *key) {
    if (dict == NULL || dict->kind != EG_PS_DICT) return NULL;
    size_t key_len = strlen(key);
    for (size_t i = 0; i < dict->as.dict.count; i++) {
        const eg_ps_entry *e = &dict->as.dict.entries[i];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return &e->value;
    }
    return NULL;
}

static const char *dict_string(const eg_ps_value *dict, const char *key) {
    const eg_ps_value *v = dict_get(dict, key);
    return v != NULL && v->kind == EG_PS_STRING ? v->as.text.data : NULL;
}

/* The message's field i when it is of this kind; NULL otherwise. */
static const eg_ps_value *field(const eg_ps_value *message, size_t i, eg_ps_kind kind) {
    if (i >= message->as.list.count) return NULL;
    const eg_ps_value *v = &message->as.list.items[i];
    return v->kind == kind ? v : NULL;
}

/* The database a RUN, BEGIN or ROUTE names: absent, null or "neo4j" is this server's one database. */
static bool names_this_database(const char *db) { return db == NULL || strcmp(db, EG_BOLT_DATABASE) == 0; }

/* Whether the SUCCESS of a BEGIN or an auto-commit RUN names the database the transaction runs in: from 5.8, when
 * the client named none (absent or null), so that it learns the user's home database — here the one database —
 * and can route its later transactions there without asking. */
static bool names_home_database(const eg_bolt_session *s, const char *db) {
    return db == NULL && version_at_least(s, 5, 8);
}

/* The tx_timeout of a BEGIN or RUN into *ms: absent or null is 0, no bound of the client's; otherwise a count of
 * milliseconds, 0 included (the drivers' "no timeout"). False when it is anything else. */
static bool read_tx_timeout(const eg_ps_value *extra, int64_t *ms) {
    const eg_ps_value *v = dict_get(extra, "tx_timeout");
    *ms = 0;
    if (v == NULL || v->kind == EG_PS_NULL) return true;
    if (v->kind != EG_PS_INT || v->as.integer < 0) return false;
    *ms = v->as.integer;
    return true;
}

static void refuse_tx_timeout(eg_bolt_session *s, eg_byte_buffer *out) {
    fail_recoverably(s, "Neo.ClientError.Request.Invalid",
                     "tx_timeout must be an integer count of milliseconds, 0 (none) or more", out);
}

static void refuse_database(eg_bolt_session *s, const char *db, eg_byte_buffer *out) {
    char text[200];
    snprintf(text, sizeof text, "Database does not exist. Database name: '%.100s'. engram serves only '%s'.", db,
             EG_BOLT_DATABASE);
    fail_recoverably(s, "Neo.ClientError.Database.DatabaseNotFound", text, out);
}

/* ---- authentication ---- */

/* Compares without an early exit, so the time taken does not tell how much of a password was right. */
static bool same_secret(const char *given, const char *expected) {
    size_t given_len = strlen(given), expected_len = strlen(expected);
    unsigned char difference = given_len != expected_len;
    for (size_t i = 0; i < expected_len; i++)
        difference |= (unsigned char)(expected[i] ^ (i < given_len ? given[i] : 0));
    return difference == 0;
}

/* Whether the auth fields of a HELLO (4.4, 5.0) or LOGON (5.1+) are accepted. */
static bool authenticate(const eg_bolt_session *s, const eg_ps_value *auth) {
    const char *password = s->config->password;
    if (password == NULL || password[0] == '\0') return s->config->peer_is_loopback;
    const char *scheme = dict_string(auth, "scheme");
    const char *principal = dict_string(auth, "principal");
    const char *credentials = dict_string(auth, "credentials");
    const char *user = s->config->user != NULL ? s->config->user : "neo4j";
    if (scheme == NULL || strcmp(scheme, "basic") != 0 || principal == NULL || credentials == NULL) return false;
    bool user_right = same_secret(principal, user);
    bool password_right = same_secret(credentials, password);
    return user_right && password_right;
}

static void refuse_credentials(eg_bolt_session *s, eg_byte_buffer *out) {
    fail_fatally(s, "Neo.ClientError.Security.Unauthorized",
                 "The client is unauthorized due to authentication failure.", out);
}

/* ---- the messages ---- */

static void on_hello(eg_bolt_session *s, const eg_ps_value *message, eg_byte_buffer *out) {
    const eg_ps_value *extra = field(message, 0, EG_PS_DICT);
    if (s->state != EG_BOLT_NEGOTIATION || extra == NULL || dict_string(extra, "user_agent") == NULL) {
        fail_fatally(s, "Neo.ClientError.Request.Invalid",
                     s->state != EG_BOLT_NEGOTIATION ? "HELLO may only open a connection"
                                                     : "HELLO needs a dictionary with a user_agent",
                     out);
        return;
    }
    if (s->config->refusal_code != NULL) {
        fail_fatally(s, s->config->refusal_code, s->config->refusal_message, out);
        return;
    }
    bool auth_in_hello = !version_at_least(s, 5, 1);
    if (auth_in_hello && !authenticate(s, extra)) {
        refuse_credentials(s, out);
        return;
    }
    char connection_id[32];
    snprintf(connection_id, sizeof connection_id, "bolt-%llu", (unsigned long long)s->connection_number);
    /* 5.7+: a connection agreed through the manifest is told the version it got */
    bool names_version = s->handshake.manifest_sent && version_at_least(s, 5, 7);
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    eg_ps_write_dict_header(&w, 3 + names_version);
    write_text(&w, "server");
    write_text(&w, EG_BOLT_SERVER_AGENT);
    write_text(&w, "connection_id");
    write_text(&w, connection_id);
    write_text(&w, "hints");
    eg_ps_write_dict_header(&w, 0);
    if (names_version) {
        char version[8];
        snprintf(version, sizeof version, "%u.%u", s->handshake.version.major, s->handshake.version.minor);
        write_text(&w, "protocol_version");
        write_text(&w, version);
    }
    send_message(s, &w, out);
    if (!s->closing) s->state = auth_in_hello ? EG_BOLT_READY : EG_BOLT_AUTHENTICATION;
}

static void on_logon(eg_bolt_session *s, const eg_ps_value *message, eg_byte_buffer *out) {
    const eg_ps_value *auth = field(message, 0, EG_PS_DICT);
    if (auth == NULL) {
        fail_fatally(s, "Neo.ClientError.Request.Invalid", "LOGON needs a dictionary of credentials", out);
        return;
    }
    if (!authenticate(s, auth)) {
        refuse_credentials(s, out);
        return;
    }
    bool names_address = version_at_least(s, 5, 8) && s->config->advertised_address != NULL;
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    eg_ps_write_dict_header(&w, names_address);
    if (names_address) { /* 5.8+: the address the server is configured to be known by */
        write_text(&w, "advertised_address");
        write_text(&w, s->config->advertised_address);
    }
    send_message(s, &w, out);
    if (!s->closing) s->state = EG_BOLT_READY;
}

static void on_run(eg_bolt_session *s, const eg_ps_value *message, eg_byte_buffer *out) {
    bool in_transaction = s->state == EG_BOLT_TX_READY || s->state == EG_BOLT_TX_STREAMING;
    if (s->state != EG_BOLT_READY && !in_transaction) {
        refuse_in_state(s, "RUN", out);
        return;
    }
    const eg_ps_value *statement = field(message, 0, EG_PS_STRING);
    const eg_ps_value *parameters = field(message, 1, EG_PS_DICT);
    const eg_ps_value *extra = field(message, 2, EG_PS_DICT);
    if (statement == NULL || parameters == NULL || extra == NULL) {
        fail_recoverably(s, "Neo.ClientError.Request.Invalid", "RUN needs a statement, parameters and extra", out);
        return;
    }
    const char *db = dict_string(extra, "db");
    if (!in_transaction && !names_this_database(db)) {
        refuse_database(s, db, out);
        return;
    }
    int64_t client_timeout_ms;
    if (!read_tx_timeout(extra, &client_timeout_ms)) {
        refuse_tx_timeout(s, out);
        return;
    }
    if (s->stream_count == EG_BOLT_MAX_OPEN_STREAMS) {
        fail_recoverably(s, "Neo.ClientError.Request.Invalid",
                         "too many open results in this transaction: pull or discard them first", out);
        return;
    }
    bolt_stream *stream = &s->streams[s->stream_count];
    *stream = (bolt_stream){0};
    clock_gettime(CLOCK_MONOTONIC, &stream->started);
    eg_bolt_failure failure = {{0}, {0}};
    void *tx = in_transaction ? s->tx : NULL;
    if (!s->config->statements->run(s->config->statements->context, tx, statement->as.text.data,
                                    statement->as.text.len, parameters, &stream->result, &failure)) {
        fail_recoverably(s, failure.code, failure.message, out);
        return;
    }
    s->stream_count++;
    stream->qid = in_transaction ? s->next_qid++ : -1;
    s->last_qid = stream->qid;
    bool names_home = !in_transaction && names_home_database(s, db);
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    eg_ps_write_dict_header(&w, 2 + in_transaction + names_home);
    write_text(&w, "fields");
    eg_ps_write_value(&w, &stream->result.fields);
    write_text(&w, "t_first");
    eg_ps_write_int(&w, elapsed_ms(&stream->started));
    if (in_transaction) {
        write_text(&w, "qid");
        eg_ps_write_int(&w, stream->qid);
    }
    if (names_home) {
        write_text(&w, "db");
        write_text(&w, EG_BOLT_DATABASE);
    }
    send_message(s, &w, out);
    if (!s->closing) s->state = in_transaction ? EG_BOLT_TX_STREAMING : EG_BOLT_STREAMING;
}

/* PULL (send records) and DISCARD (skip them): `n` records of the stream named by `qid`, then SUCCESS with
 * has_more while records remain, or the end-of-stream SUCCESS. */
static void on_pull_or_discard(eg_bolt_session *s, const eg_ps_value *message, bool send_records,
                               eg_byte_buffer *out) {
    const char *name = send_records ? "PULL" : "DISCARD";
    if (s->state != EG_BOLT_STREAMING && s->state != EG_BOLT_TX_STREAMING) {
        refuse_in_state(s, name, out);
        return;
    }
    const eg_ps_value *extra = field(message, 0, EG_PS_DICT);
    const eg_ps_value *n = dict_get(extra, "n");
    const eg_ps_value *qid = dict_get(extra, "qid");
    if (n == NULL || n->kind != EG_PS_INT || (n->as.integer < 1 && n->as.integer != -1) ||
        (qid != NULL && qid->kind != EG_PS_INT)) {
        fail_recoverably(s, "Neo.ClientError.Request.Invalid",
                         "PULL and DISCARD need n (a positive count, or -1 for all) and an integer qid if any", out);
        return;
    }
    int64_t wanted_qid = qid == NULL || qid->as.integer == -1 ? s->last_qid : qid->as.integer;
    size_t at = 0;
    while (at < s->stream_count && s->streams[at].qid != wanted_qid) at++;
    if (at == s->stream_count) {
        fail_recoverably(s, "Neo.ClientError.Request.Invalid", "no open result has this qid", out);
        return;
    }
    bolt_stream *stream = &s->streams[at];
    const eg_ps_value *records = &stream->result.records;
    size_t remaining = records->as.list.count - stream->next_record;
    size_t count = n->as.integer == -1 || (uint64_t)n->as.integer > remaining ? remaining : (size_t)n->as.integer;
    for (size_t i = 0; send_records && i < count && !s->closing; i++) {
        eg_ps_writer w = {0};
        eg_ps_write_struct_header(&w, MSG_RECORD, 1);
        eg_ps_write_value_in(&w, &records->as.list.items[stream->next_record + i], dialect_of(s));
        send_message(s, &w, out);
        flush_if_full(s, out);
    }
    stream->next_record += count;
    if (s->closing) return;
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    if (stream->next_record < records->as.list.count) {
        eg_ps_write_dict_header(&w, 1);
        write_text(&w, "has_more");
        eg_ps_write_bool(&w, true);
        send_message(s, &w, out);
        return;
    }
    bool in_transaction = s->state == EG_BOLT_TX_STREAMING;
    bool has_stats = stream->result.stats.kind != EG_PS_NULL;
    eg_ps_write_dict_header(&w, 3 + !in_transaction + has_stats);
    write_text(&w, "type");
    write_text(&w, stream->result.type != NULL ? stream->result.type : "r");
    write_text(&w, "t_last");
    eg_ps_write_int(&w, elapsed_ms(&stream->started));
    write_text(&w, "db");
    write_text(&w, EG_BOLT_DATABASE);
    if (!in_transaction) { /* an auto-commit statement is its own transaction, and ends with its bookmark */
        char bookmark[48];
        next_bookmark(bookmark, sizeof bookmark);
        write_text(&w, "bookmark");
        write_text(&w, bookmark);
    }
    if (has_stats) {
        write_text(&w, "stats");
        eg_ps_write_value(&w, &stream->result.stats);
    }
    send_message(s, &w, out);
    eg_bolt_result_free(&stream->result);
    s->streams[at] = s->streams[--s->stream_count];
    if (!s->closing && s->stream_count == 0) s->state = in_transaction ? EG_BOLT_TX_READY : EG_BOLT_READY;
}

static void on_begin(eg_bolt_session *s, const eg_ps_value *message, eg_byte_buffer *out) {
    if (s->state != EG_BOLT_READY) {
        refuse_in_state(s, "BEGIN", out);
        return;
    }
    const eg_ps_value *extra = field(message, 0, EG_PS_DICT);
    const char *db = dict_string(extra, "db");
    if (!names_this_database(db)) {
        refuse_database(s, db, out);
        return;
    }
    int64_t client_timeout_ms;
    if (!read_tx_timeout(extra, &client_timeout_ms)) {
        refuse_tx_timeout(s, out);
        return;
    }
    eg_bolt_failure failure = {{0}, {0}};
    void *tx = NULL;
    if (!s->config->statements->begin(s->config->statements->context, &tx, &failure)) {
        fail_recoverably(s, failure.code, failure.message, out);
        return;
    }
    s->tx_open = true;
    s->tx = tx;
    /* the smaller of the two bounds wins; 0 on either side is none */
    int64_t setting_ms = (int64_t)s->config->tx_timeout_ms;
    s->tx_deadline_from_client = client_timeout_ms > 0 && (setting_ms == 0 || client_timeout_ms < setting_ms);
    int64_t bound_ms = s->tx_deadline_from_client ? client_timeout_ms : setting_ms;
    if (bound_ms > MAX_TX_BOUND_MS) bound_ms = MAX_TX_BOUND_MS;
    s->tx_has_deadline = bound_ms > 0;
    clock_gettime(CLOCK_MONOTONIC, &s->tx_deadline);
    s->tx_deadline.tv_sec += (time_t)(bound_ms / 1000);
    s->tx_deadline.tv_nsec += (long)(bound_ms % 1000) * 1000000;
    if (s->tx_deadline.tv_nsec >= 1000000000) {
        s->tx_deadline.tv_sec++;
        s->tx_deadline.tv_nsec -= 1000000000;
    }
    s->next_qid = 0;
    s->last_qid = -1;
    bool names_home = names_home_database(s, db);
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    eg_ps_write_dict_header(&w, names_home);
    if (names_home) {
        write_text(&w, "db");
        write_text(&w, EG_BOLT_DATABASE);
    }
    send_message(s, &w, out);
    if (!s->closing) s->state = EG_BOLT_TX_READY;
}

static void on_commit_or_rollback(eg_bolt_session *s, bool commit, eg_byte_buffer *out) {
    if (s->state != EG_BOLT_TX_READY) {
        refuse_in_state(s, commit ? "COMMIT" : "ROLLBACK", out);
        return;
    }
    if (!commit) {
        roll_back(s);
        send_empty_success(s, out);
        if (!s->closing) s->state = EG_BOLT_READY;
        return;
    }
    eg_bolt_failure failure = {{0}, {0}};
    s->tx_open = false; /* ended by commit, whether it succeeds or not */
    bool committed = s->config->statements->commit(s->config->statements->context, s->tx, &failure);
    s->tx = NULL;
    if (!committed) {
        fail_recoverably(s, failure.code, failure.message, out);
        return;
    }
    char bookmark[48];
    next_bookmark(bookmark, sizeof bookmark);
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "bookmark");
    write_text(&w, bookmark);
    send_message(s, &w, out);
    if (!s->closing) s->state = EG_BOLT_READY;
}

/* The routing table of a single server: it writes, reads and routes, so neo4j:// URIs work against it. */
static void on_route(eg_bolt_session *s, const eg_ps_value *message, eg_byte_buffer *out) {
    if (s->state != EG_BOLT_READY) {
        refuse_in_state(s, "ROUTE", out);
        return;
    }
    const eg_ps_value *extra = field(message, 2, EG_PS_DICT);
    const char *db = dict_string(extra, "db");
    if (!names_this_database(db)) {
        refuse_database(s, db, out);
        return;
    }
    static const char *const roles[] = {"WRITE", "READ", "ROUTE"};
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_SUCCESS, 1);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "rt");
    eg_ps_write_dict_header(&w, 3);
    write_text(&w, "ttl");
    eg_ps_write_int(&w, s->config->routing_ttl_seconds);
    write_text(&w, "db");
    write_text(&w, EG_BOLT_DATABASE);
    write_text(&w, "servers");
    eg_ps_write_list_header(&w, 3);
    for (size_t i = 0; i < 3; i++) {
        eg_ps_write_dict_header(&w, 2);
        write_text(&w, "addresses");
        eg_ps_write_list_header(&w, 1);
        write_text(&w, s->config->advertised_address);
        write_text(&w, "role");
        write_text(&w, roles[i]);
    }
    send_message(s, &w, out);
}

static void on_reset(eg_bolt_session *s, eg_byte_buffer *out) {
    drop_work(s);
    s->timed_out_code = NULL;
    send_empty_success(s, out);
    if (!s->closing) s->state = EG_BOLT_READY;
}

/* Whether the message exists in the agreed version. */
static bool known_in_version(const eg_bolt_session *s, uint8_t tag) {
    switch (tag) {
    case MSG_HELLO: case MSG_GOODBYE: case MSG_RESET: case MSG_RUN: case MSG_BEGIN: case MSG_COMMIT:
    case MSG_ROLLBACK: case MSG_DISCARD: case MSG_PULL: case MSG_ROUTE:
        return true;
    case MSG_LOGON: case MSG_LOGOFF:
        return version_at_least(s, 5, 1);
    case MSG_TELEMETRY:
        return version_at_least(s, 5, 4);
    default:
        return false;
    }
}

static void handle_message(eg_bolt_session *s, const uint8_t *bytes, size_t len, eg_byte_buffer *out) {
    eg_ps_value message;
    eg_error err;
    if (eg_ps_decode(bytes, len, dialect_of(s), true, &message, &err) != EG_OK) {
        fail_fatally(s, "Neo.ClientError.Request.InvalidFormat", err.message, out);
        return;
    }
    if (message.kind != EG_PS_STRUCT) {
        eg_ps_value_free(&message);
        fail_fatally(s, "Neo.ClientError.Request.InvalidFormat", "a Bolt message must be a structure", out);
        return;
    }
    uint8_t tag = message.as.list.tag;
    eg_bolt_session_enforce_deadline(s); /* a transaction past its time is over before this request is answered */
    if (!known_in_version(s, tag)) {
        char text[96];
        snprintf(text, sizeof text, "message 0x%02X does not exist in Bolt %u.%u", tag, s->handshake.version.major,
                 s->handshake.version.minor);
        fail_fatally(s, "Neo.ClientError.Request.Invalid", text, out);
    } else if (tag == MSG_GOODBYE) {
        drop_work(s);
        s->state = EG_BOLT_DEFUNCT;
        s->closing = true;
    } else if (s->state == EG_BOLT_NEGOTIATION) {
        if (tag == MSG_HELLO) on_hello(s, &message, out);
        else fail_fatally(s, "Neo.ClientError.Request.Invalid", "the connection must begin with HELLO", out);
    } else if (s->state == EG_BOLT_AUTHENTICATION) {
        if (tag == MSG_LOGON) on_logon(s, &message, out);
        else fail_fatally(s, "Neo.ClientError.Security.Unauthorized", "LOGON must come before any other message",
                          out);
    } else if (tag == MSG_RESET) {
        if (s->resets_pending > 0) s->resets_pending--;
        on_reset(s, out);
    } else if (s->resets_pending > 0 || s->state == EG_BOLT_INTERRUPTED) {
        /* a RESET is already in hand: what came before it is abandoned unrun, as Neo4j does when a RESET
         * interrupts the connection */
        s->state = EG_BOLT_INTERRUPTED;
        send_ignored(s, out);
    } else if (s->state == EG_BOLT_FAILED) {
        send_ignored(s, out);
    } else if (s->timed_out_code != NULL) {
        const char *code = s->timed_out_code;
        s->timed_out_code = NULL;
        fail_recoverably(s, code,
                         strcmp(code, TIMED_OUT_BY_CLIENT) == 0
                             ? "The transaction has not completed within the timeout specified at its start by the "
                               "client (tx_timeout), and was rolled back."
                             : "The transaction has not completed within the specified timeout "
                               "(serve.bolt_tx_timeout_ms), and was rolled back.",
                         out);
    } else {
        switch (tag) {
        case MSG_RUN: on_run(s, &message, out); break;
        case MSG_PULL: on_pull_or_discard(s, &message, true, out); break;
        case MSG_DISCARD: on_pull_or_discard(s, &message, false, out); break;
        case MSG_BEGIN: on_begin(s, &message, out); break;
        case MSG_COMMIT: on_commit_or_rollback(s, true, out); break;
        case MSG_ROLLBACK: on_commit_or_rollback(s, false, out); break;
        case MSG_ROUTE: on_route(s, &message, out); break;
        case MSG_TELEMETRY:
            if (s->state == EG_BOLT_READY) send_empty_success(s, out);
            else refuse_in_state(s, "TELEMETRY", out);
            break;
        case MSG_LOGOFF:
            if (s->state == EG_BOLT_READY) {
                send_empty_success(s, out);
                if (!s->closing) s->state = EG_BOLT_AUTHENTICATION;
            } else {
                refuse_in_state(s, "LOGOFF", out);
            }
            break;
        case MSG_HELLO: refuse_in_state(s, "HELLO", out); break;
        case MSG_LOGON: refuse_in_state(s, "LOGON", out); break;
        }
    }
    eg_ps_value_free(&message);
}

/* The tag of an encoded message (a structure marker 0xB0-0xBF, then the tag), or 0 when it is not one. */
static uint8_t tag_of(const eg_byte_buffer *message) {
    if (message->len < 2 || ((uint8_t)message->data[0] & 0xF0) != 0xB0) return 0;
    return (uint8_t)message->data[1];
}

bool eg_bolt_session_feed(eg_bolt_session *s, const uint8_t *bytes, size_t len, eg_byte_buffer *out) {
    if (s->closing) return false;
    size_t at = 0;
    if (s->handshake.state != EG_BOLT_HANDSHAKE_AGREED) {
        eg_bolt_handshake_state reached = eg_bolt_handshake_feed(&s->handshake, bytes, len, &at, out);
        if (reached == EG_BOLT_HANDSHAKE_REFUSED) {
            s->state = EG_BOLT_DEFUNCT;
            s->closing = true;
            return false;
        }
        if (reached == EG_BOLT_HANDSHAKE_READING) return true;
    }
    /* Every complete message first, then the answers: a RESET interrupts what arrived before it, as it does in
     * Neo4j, where it is acted on as soon as it is received. */
    eg_byte_buffer *messages = NULL;
    size_t message_count = 0, message_cap = 0;
    bool framing_failed = false, out_of_memory = false;
    eg_error framing_error = {0};
    while (at < len) {
        size_t used;
        if (eg_bolt_dechunker_feed(&s->dechunker, bytes + at, len - at, &used, &framing_error) != EG_OK) {
            framing_failed = true;
            break;
        }
        at += used;
        if (!s->dechunker.complete) continue;
        if (message_count == message_cap) {
            size_t cap = message_cap == 0 ? 8 : message_cap * 2;
            eg_byte_buffer *grown = realloc(messages, cap * sizeof *grown);
            if (grown == NULL) {
                out_of_memory = true;
                break;
            }
            messages = grown;
            message_cap = cap;
        }
        messages[message_count++] = s->dechunker.message;
        s->dechunker.message = (eg_byte_buffer){0};
        eg_bolt_dechunker_next(&s->dechunker);
    }
    for (size_t i = 0; i < message_count; i++)
        if (tag_of(&messages[i]) == MSG_RESET) s->resets_pending++;
    for (size_t i = 0; i < message_count; i++) {
        if (!s->closing) {
            handle_message(s, (const uint8_t *)messages[i].data, messages[i].len, out);
            s->messages_handled++;
        }
        free(messages[i].data);
    }
    free(messages);
    if (!s->closing && framing_failed) fail_fatally(s, "Neo.ClientError.Request.Invalid", framing_error.message, out);
    if (!s->closing && out_of_memory)
        fail_fatally(s, "Neo.DatabaseError.General.OutOfMemoryError", "out of memory reading messages", out);
    return !s->closing;
}

uint64_t eg_bolt_session_messages(const eg_bolt_session *s) { return s->messages_handled; }
