/* client_connection.c — one Bolt connection of the client (client_internal.h): TCP with a connect timeout to an
 * IPv4 or IPv6 address, TLS through OpenSSL, the version handshake (5.8..5.0 and 4.4, and the manifest answer of
 * 5.7+ servers), HELLO and LOGON, and the request messages the client sends — RUN with PULL paging, DISCARD,
 * BEGIN, COMMIT, ROLLBACK, ROUTE, RESET after a FAILURE and GOODBYE — reading the answers back through the
 * project's chunking and PackStream decoder, NOOPs skipped.
 *
 * The server is not trusted: every answer is decoded by the bounded decoder and checked for its shape before a
 * field is used; anything unexpected breaks the connection (it is then closed, never reused) with an error. Every
 * wait is bounded by the connection's timeout. */
#include "bolt/client_internal.h"
#include "bolt/messages.h"

#include "util/clock.h"
#include "util/sanitize.h"

#include <engram/engram.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The manifest negotiation's pseudo-version (255.1) as it travels, and as a server's answer. */
static const uint8_t MANIFEST_V1[4] = {0x00, 0x00, 0x01, 0xFF};
/* More versions than a manifest could sensibly list: a longer one is a hostile or broken server. */
#define MAX_MANIFEST_VERSIONS 64

/* ---- errors ---- */

eg_status eg_bolt_status_for_code(const char *code) {
    if (strcmp(code, "Neo.ClientError.Schema.ConstraintValidationFailed") == 0) return EG_CONFLICT;
    if (strcmp(code, "Neo.ClientError.Statement.EntityNotFound") == 0) return EG_NOT_FOUND;
    /* a cluster member that cannot take the request now: another (or the same, later) can */
    if (strcmp(code, "Neo.ClientError.Cluster.NotALeader") == 0 ||
        strcmp(code, "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase") == 0)
        return EG_UNAVAILABLE;
    if (strncmp(code, "Neo.ClientError.Transaction.TransactionTimedOut", 47) == 0) return EG_TIMEOUT;
    if (strncmp(code, "Neo.ClientError.", 16) == 0) return EG_INVALID_ARGUMENT;
    /* Neo.TransientError.*, Neo.DatabaseError.* and anything unknown: the server cannot serve */
    return EG_UNAVAILABLE;
}

eg_status eg_bolt_failure_error(const eg_bolt_server_failure *failure, eg_status status, eg_error *err) {
    char raw[EG_ERROR_MESSAGE_MAX], clean[EG_ERROR_MESSAGE_MAX];
    snprintf(raw, sizeof raw, "neo4j: %s: %s", failure->code, failure->message);
    eg_sanitize_message(raw, clean, sizeof clean);
    return eg_error_set(err, status, "%s", clean); /* which also mends a character cut by the bounds */
}

/* A failure of the connection itself: it is marked broken and will be closed. */
static eg_status connection_failed(eg_bolt_conn *conn, eg_bolt_outcome *outcome, eg_status status, eg_error *err,
                                   const char *what) {
    conn->broken = true;
    outcome->connection_failed = true;
    return eg_error_set(err, status, "bolt: %s %s", what, conn->address);
}

/* The server broke the protocol: the connection is dropped, and the request is not retried. */
static eg_status protocol_error(eg_bolt_conn *conn, eg_error *err, const char *what) {
    conn->broken = true;
    return eg_error_set(err, EG_UNAVAILABLE, "bolt: server %s broke the protocol: %s", conn->address, what);
}

/* ---- the transport ---- */

static uint64_t deadline_after(uint32_t ms) { return eg_monotonic_ns() + (uint64_t)ms * 1000000u; }

static int ms_until(uint64_t deadline) {
    uint64_t now = eg_monotonic_ns();
    return now >= deadline ? 0 : (int)((deadline - now + 999999u) / 1000000u);
}

/* SSL_write writes to the socket with write(2), which raises SIGPIPE on a connection the server closed; a library
 * must not kill its process for that, so the signal is blocked for the call and a pending one consumed. */
static int ssl_write_without_sigpipe(SSL *ssl, const void *data, int len) {
    sigset_t pipe_only, previous;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
    int n = SSL_write(ssl, data, len);
    if (n <= 0) {
        sigset_t pending;
        sigpending(&pending);
        struct timespec none = {0, 0};
        if (sigismember(&pending, SIGPIPE)) sigtimedwait(&pipe_only, NULL, &none);
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return n;
}

static bool write_all(eg_bolt_conn *conn, const uint8_t *data, size_t len) {
    while (len > 0) {
        ssize_t n;
        if (conn->ssl != NULL) {
            int chunk = len > (1u << 30) ? 1 << 30 : (int)len;
            n = ssl_write_without_sigpipe(conn->ssl, data, chunk);
        } else {
            n = send(conn->fd, data, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
        }
        if (n <= 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Sends the queued requests, after the BEGIN waiting for them if there is one; on failure nothing of a partly sent
 * request can have run. */
static eg_status send_requests(eg_bolt_conn *conn, eg_byte_buffer *requests, eg_bolt_outcome *outcome, eg_error *err) {
    if (conn->begin_unsent.data != NULL) {
        eg_byte_buffer begin = conn->begin_unsent;
        conn->begin_unsent = (eg_byte_buffer){0};
        bool joined = requests->data == NULL || eg_byte_buffer_append(&begin, requests->data, requests->len, SIZE_MAX);
        free(requests->data);
        *requests = begin;
        if (!joined) {
            free(requests->data);
            *requests = (eg_byte_buffer){0};
            return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a request");
        }
        conn->begin_unanswered = true;
    }
    bool sent = requests->data != NULL && !requests->too_large &&
                write_all(conn, (const uint8_t *)requests->data, requests->len);
    bool too_large = requests->too_large;
    free(requests->data);
    *requests = (eg_byte_buffer){0};
    if (too_large) return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: request larger than %zu bytes",
                                       EG_PS_MAX_MESSAGE_BYTES);
    if (!sent) return connection_failed(conn, outcome, EG_UNAVAILABLE, err, "lost the connection to");
    outcome->request_written = true;
    return EG_OK;
}

/* More bytes into conn->input, waiting until deadline. */
static eg_status receive_some(eg_bolt_conn *conn, uint64_t deadline, eg_bolt_outcome *outcome, eg_error *err) {
    for (;;) {
        bool buffered = conn->ssl != NULL && SSL_pending(conn->ssl) > 0;
        if (!buffered) {
            struct pollfd p = {.fd = conn->fd, .events = POLLIN};
            int ready = poll(&p, 1, ms_until(deadline));
            if (ready < 0 && errno == EINTR) continue;
            if (ready == 0) return connection_failed(conn, outcome, EG_TIMEOUT, err, "no answer in time from");
            if (ready < 0) return connection_failed(conn, outcome, EG_UNAVAILABLE, err, "lost the connection to");
        }
        ssize_t n;
        if (conn->ssl != NULL) {
            n = SSL_read(conn->ssl, conn->input, (int)sizeof conn->input);
            if (n <= 0 && SSL_get_error(conn->ssl, (int)n) == SSL_ERROR_WANT_READ) continue;
        } else {
            n = recv(conn->fd, conn->input, sizeof conn->input, 0);
            if (n < 0 && errno == EINTR) continue;
        }
        if (n <= 0) return connection_failed(conn, outcome, EG_UNAVAILABLE, err, "connection closed by");
        conn->input_at = 0;
        conn->input_len = (size_t)n;
        return EG_OK;
    }
}

/* Exactly len raw bytes (the handshake's, before any chunking). */
static eg_status receive_exact(eg_bolt_conn *conn, uint8_t *out, size_t len, uint64_t deadline,
                               eg_bolt_outcome *outcome, eg_error *err) {
    while (len > 0) {
        if (conn->input_at == conn->input_len) {
            eg_status s = receive_some(conn, deadline, outcome, err);
            if (s != EG_OK) return s;
        }
        size_t n = conn->input_len - conn->input_at < len ? conn->input_len - conn->input_at : len;
        memcpy(out, conn->input + conn->input_at, n);
        conn->input_at += n;
        out += n;
        len -= n;
    }
    return EG_OK;
}

/* ---- messages ---- */

static void write_text(eg_ps_writer *w, const char *text) { eg_ps_write_string(w, text, strlen(text)); }

/* Frames the message of w onto requests (w's bytes are freed). */
static eg_status queue_message(eg_ps_writer *w, eg_byte_buffer *requests, eg_error *err) {
    eg_status s = eg_ps_writer_status(w, err);
    if (s == EG_OK && !eg_bolt_chunk_message((const uint8_t *)w->out.data, w->out.len, requests,
                                             EG_PS_MAX_MESSAGE_BYTES * 2))
        s = eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: request larger than %zu bytes", EG_PS_MAX_MESSAGE_BYTES);
    free(w->out.data);
    w->out = (eg_byte_buffer){0};
    return s;
}

static const eg_ps_value *dict_get(const eg_ps_value *dict, const char *key) {
    if (dict == NULL || dict->kind != EG_PS_DICT) return NULL;
    for (size_t i = 0; i < dict->as.dict.count; i++)
        if (strcmp(dict->as.dict.entries[i].key, key) == 0) return &dict->as.dict.entries[i].value;
    return NULL;
}

static const char *dict_string(const eg_ps_value *dict, const char *key) {
    const eg_ps_value *v = dict_get(dict, key);
    return v != NULL && v->kind == EG_PS_STRING ? v->as.text.data : NULL;
}

/* The next answer, whole and of a known shape: SUCCESS {..}, RECORD [..], IGNORED, FAILURE {..}. */
static eg_status read_answer(eg_bolt_conn *conn, uint64_t deadline, eg_ps_value *answer, eg_bolt_outcome *outcome,
                             eg_error *err) {
    *answer = (eg_ps_value){.kind = EG_PS_NULL};
    eg_bolt_dechunker *d = &conn->dechunker;
    while (!d->complete) {
        if (conn->input_at == conn->input_len) {
            eg_status s = receive_some(conn, deadline, outcome, err);
            if (s != EG_OK) return s;
        }
        size_t used;
        eg_error chunk_err;
        if (eg_bolt_dechunker_feed(d, conn->input + conn->input_at, conn->input_len - conn->input_at, &used,
                                   &chunk_err) != EG_OK)
            return protocol_error(conn, err, chunk_err.message);
        conn->input_at += used;
    }
    eg_error decode_err;
    eg_status s = eg_ps_decode((const uint8_t *)d->message.data, d->message.len, conn->dialect, true, answer,
                               &decode_err);
    eg_bolt_dechunker_next(d);
    if (s != EG_OK) return protocol_error(conn, err, decode_err.message);
    bool known = false;
    if (answer->kind == EG_PS_STRUCT) {
        uint8_t tag = answer->as.list.tag;
        size_t n = answer->as.list.count;
        const eg_ps_value *first = n > 0 ? &answer->as.list.items[0] : NULL;
        known = ((tag == MSG_SUCCESS || tag == MSG_FAILURE) && n == 1 && first->kind == EG_PS_DICT) ||
                (tag == MSG_RECORD && n == 1 && first->kind == EG_PS_LIST) || (tag == MSG_IGNORED && n == 0);
    }
    if (!known) {
        eg_ps_value_free(answer);
        return protocol_error(conn, err, "an answer that is not SUCCESS, RECORD, IGNORED or FAILURE");
    }
    return EG_OK;
}

static uint8_t tag_of(const eg_ps_value *answer) { return answer->as.list.tag; }
/* The metadata dictionary of an answer; NULL for one without fields (IGNORED), which every reader of it takes. */
static const eg_ps_value *metadata_of(const eg_ps_value *answer) {
    return answer->as.list.count > 0 ? &answer->as.list.items[0] : NULL;
}

static void read_failure(const eg_ps_value *answer, eg_bolt_server_failure *failure) {
    const eg_ps_value *meta = metadata_of(answer);
    const char *code = dict_string(meta, "neo4j_code"); /* 5.7+ */
    if (code == NULL) code = dict_string(meta, "code");
    const char *message = dict_string(meta, "message");
    snprintf(failure->code, sizeof failure->code, "%s", code != NULL ? code : "Neo.DatabaseError.General.UnknownError");
    snprintf(failure->message, sizeof failure->message, "%s", message != NULL ? message : "(no message)");
}

/* After a FAILURE: the rest of the pipelined answers (IGNORED), then RESET so that the connection is READY. */
static eg_status recover_from_failure(eg_bolt_conn *conn, const eg_ps_value *failure_answer, int answers_pending,
                                      uint64_t deadline, eg_bolt_outcome *outcome, eg_error *err) {
    read_failure(failure_answer, &outcome->failure);
    eg_status mapped = eg_bolt_status_for_code(outcome->failure.code);
    eg_error local;
    for (int i = 0; i < answers_pending; i++) {
        eg_ps_value answer;
        if (read_answer(conn, deadline, &answer, outcome, &local) != EG_OK)
            return eg_bolt_failure_error(&outcome->failure, mapped, err);
        eg_ps_value_free(&answer);
    }
    eg_ps_writer w = {0};
    eg_byte_buffer requests = {0};
    eg_ps_write_struct_header(&w, MSG_RESET, 0);
    eg_ps_value answer = {.kind = EG_PS_NULL};
    if (queue_message(&w, &requests, &local) != EG_OK || send_requests(conn, &requests, outcome, &local) != EG_OK ||
        read_answer(conn, deadline, &answer, outcome, &local) != EG_OK || tag_of(&answer) != MSG_SUCCESS)
        conn->broken = true;
    eg_ps_value_free(&answer);
    return eg_bolt_failure_error(&outcome->failure, mapped, err);
}

/* Reads the answer of a BEGIN sent ahead of `pending` requests: its FAILURE is theirs (they are IGNORED). */
static eg_status read_begin_answer(eg_bolt_conn *conn, int pending, uint64_t deadline, eg_bolt_outcome *outcome,
                                   eg_error *err) {
    if (!conn->begin_unanswered) return EG_OK;
    conn->begin_unanswered = false;
    eg_ps_value answer;
    eg_status s = read_answer(conn, deadline, &answer, outcome, err);
    if (s != EG_OK) return s;
    if (tag_of(&answer) == MSG_FAILURE)
        s = recover_from_failure(conn, &answer, pending, deadline, outcome, err);
    else if (tag_of(&answer) != MSG_SUCCESS)
        s = protocol_error(conn, err, "BEGIN answered with neither SUCCESS nor FAILURE");
    eg_ps_value_free(&answer);
    return s;
}

/* Sends the queued requests and reads the one answer each gives, expecting SUCCESS; *last_out (when not NULL)
 * receives the last SUCCESS. A FAILURE is recovered from (RESET). */
static eg_status exchange(eg_bolt_conn *conn, eg_byte_buffer *requests, int count, eg_ps_value *last_out,
                          eg_bolt_outcome *outcome, eg_error *err) {
    uint64_t deadline = deadline_after(conn->timeout_ms);
    eg_status s = send_requests(conn, requests, outcome, err);
    if (s == EG_OK) s = read_begin_answer(conn, count, deadline, outcome, err);
    for (int i = 0; s == EG_OK && i < count; i++) {
        eg_ps_value answer;
        s = read_answer(conn, deadline, &answer, outcome, err);
        if (s != EG_OK) break;
        if (tag_of(&answer) == MSG_FAILURE) {
            s = recover_from_failure(conn, &answer, count - i - 1, deadline, outcome, err);
        } else if (tag_of(&answer) != MSG_SUCCESS) {
            s = protocol_error(conn, err, "an unexpected answer to a request");
        } else if (i == count - 1 && last_out != NULL) {
            *last_out = answer;
            continue;
        }
        eg_ps_value_free(&answer);
    }
    return s;
}

/* The extra dictionary of an auto-commit RUN and of BEGIN. */
static void write_context(eg_ps_writer *w, const eg_bolt_request_context *context) {
    bool has_db = context->database != NULL && context->database[0] != '\0';
    bool has_bookmark = context->bookmark != NULL && context->bookmark[0] != '\0';
    eg_ps_write_dict_header(w, (size_t)has_db + context->read + has_bookmark + (context->tx_timeout_ms > 0));
    if (has_db) {
        write_text(w, "db");
        write_text(w, context->database);
    }
    if (context->read) {
        write_text(w, "mode");
        write_text(w, "r");
    }
    if (has_bookmark) {
        write_text(w, "bookmarks");
        eg_ps_write_list_header(w, 1);
        write_text(w, context->bookmark);
    }
    if (context->tx_timeout_ms > 0) {
        write_text(w, "tx_timeout");
        eg_ps_write_int(w, context->tx_timeout_ms);
    }
}

static eg_status queue_run(eg_byte_buffer *requests, const char *statement, const eg_ps_value *parameters,
                           const eg_bolt_request_context *context, eg_error *err) {
    if (parameters != NULL && parameters->kind != EG_PS_DICT)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: parameters must be a dictionary");
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_RUN, 3);
    write_text(&w, statement);
    if (parameters != NULL)
        eg_ps_write_value(&w, parameters);
    else
        eg_ps_write_dict_header(&w, 0);
    if (context != NULL)
        write_context(&w, context);
    else
        eg_ps_write_dict_header(&w, 0);
    return queue_message(&w, requests, err);
}

/* PULL or DISCARD of n records of the last result. */
static eg_status queue_pull(eg_byte_buffer *requests, uint8_t tag, int64_t n, eg_error *err) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, tag, 1);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "n");
    eg_ps_write_int(&w, n);
    return queue_message(&w, requests, err);
}

static void copy_bookmark(const eg_ps_value *metadata, char *bookmark_out) {
    const char *bookmark = dict_string(metadata, "bookmark");
    if (bookmark_out != NULL && bookmark != NULL && strlen(bookmark) < EG_BOLT_BOOKMARK_MAX)
        snprintf(bookmark_out, EG_BOLT_BOOKMARK_MAX, "%s", bookmark);
}

/* The query type as the static strings eg_bolt_result.type holds. */
static const char *query_type(const char *type) {
    static const char *const known[] = {"r", "w", "rw", "s"};
    for (size_t i = 0; type != NULL && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(type, known[i]) == 0) return known[i];
    return NULL;
}

/* Moves a value out of a tree, leaving EG_PS_NULL behind. */
static eg_ps_value take(eg_ps_value *v) {
    eg_ps_value taken = *v;
    *v = (eg_ps_value){.kind = EG_PS_NULL};
    return taken;
}

static bool append_record(eg_ps_value *records, size_t *capacity, eg_ps_value *record) {
    if (records->as.list.count == *capacity) {
        size_t grown = *capacity == 0 ? 64 : *capacity * 2;
        eg_ps_value *items = realloc(records->as.list.items, grown * sizeof *items);
        if (items == NULL) return false;
        records->as.list.items = items;
        *capacity = grown;
    }
    records->as.list.items[records->as.list.count++] = take(record);
    return true;
}

static bool fields_valid(const eg_ps_value *fields) {
    if (fields == NULL || fields->kind != EG_PS_LIST) return false;
    for (size_t i = 0; i < fields->as.list.count; i++)
        if (fields->as.list.items[i].kind != EG_PS_STRING) return false;
    return true;
}

/* Reads the answers of RUN and the PULLs that page its records, sending the next PULL while has_more. */
static eg_status read_result(eg_bolt_conn *conn, eg_bolt_result *result, char *bookmark_out, uint64_t deadline,
                             eg_bolt_outcome *outcome, eg_error *err) {
    eg_ps_value answer;
    eg_status s = read_answer(conn, deadline, &answer, outcome, err);
    if (s != EG_OK) return s;
    if (tag_of(&answer) == MSG_FAILURE) {
        s = recover_from_failure(conn, &answer, 1, deadline, outcome, err);
        eg_ps_value_free(&answer);
        return s;
    }
    eg_ps_value *fields = (eg_ps_value *)dict_get(metadata_of(&answer), "fields");
    if (tag_of(&answer) != MSG_SUCCESS || !fields_valid(fields)) {
        eg_ps_value_free(&answer);
        return protocol_error(conn, err, "RUN answered without a list of field names");
    }
    result->fields = take(fields);
    result->records = (eg_ps_value){.kind = EG_PS_LIST};
    eg_ps_value_free(&answer);
    size_t capacity = 0;
    for (;;) {
        s = read_answer(conn, deadline, &answer, outcome, err);
        if (s != EG_OK) return s;
        uint8_t tag = tag_of(&answer);
        if (tag == MSG_RECORD) {
            eg_ps_value *values = &answer.as.list.items[0];
            outcome->records_received = true;
            if (values->as.list.count != result->fields.as.list.count)
                s = protocol_error(conn, err, "a record of the wrong length");
            else if (!append_record(&result->records, &capacity, values))
                s = eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a result");
            eg_ps_value_free(&answer);
            if (s != EG_OK) return s;
            continue;
        }
        if (tag == MSG_FAILURE) {
            s = recover_from_failure(conn, &answer, 0, deadline, outcome, err);
            eg_ps_value_free(&answer);
            return s;
        }
        if (tag != MSG_SUCCESS) {
            eg_ps_value_free(&answer);
            return protocol_error(conn, err, "PULL answered with IGNORED");
        }
        eg_ps_value *meta = (eg_ps_value *)metadata_of(&answer);
        const eg_ps_value *has_more = dict_get(meta, "has_more");
        if (has_more != NULL && has_more->kind == EG_PS_BOOL && has_more->as.boolean) {
            eg_ps_value_free(&answer);
            eg_byte_buffer requests = {0};
            s = queue_pull(&requests, MSG_PULL, EG_BOLT_FETCH_SIZE, err);
            if (s == EG_OK) s = send_requests(conn, &requests, outcome, err);
            if (s != EG_OK) return s;
            deadline = deadline_after(conn->timeout_ms); /* each page is a request of its own */
            continue;
        }
        copy_bookmark(meta, bookmark_out);
        result->type = query_type(dict_string(meta, "type"));
        eg_ps_value *stats = (eg_ps_value *)dict_get(meta, "stats");
        if (stats != NULL && stats->kind == EG_PS_DICT) result->stats = take(stats);
        eg_ps_value_free(&answer);
        return EG_OK;
    }
}

eg_status eg_bolt_conn_run(eg_bolt_conn *conn, const char *statement, const eg_ps_value *parameters,
                           const eg_bolt_request_context *context, eg_bolt_result *result, char *bookmark_out,
                           eg_bolt_outcome *outcome, eg_error *err) {
    *result = (eg_bolt_result){.fields = {.kind = EG_PS_NULL}};
    eg_byte_buffer requests = {0};
    eg_status s = queue_run(&requests, statement, parameters, context, err);
    if (s == EG_OK) s = queue_pull(&requests, MSG_PULL, EG_BOLT_FETCH_SIZE, err);
    if (s == EG_OK) s = send_requests(conn, &requests, outcome, err);
    free(requests.data);
    uint64_t deadline = deadline_after(conn->timeout_ms);
    if (s == EG_OK) s = read_begin_answer(conn, 2, deadline, outcome, err);
    if (s == EG_OK) s = read_result(conn, result, bookmark_out, deadline, outcome, err);
    if (s != EG_OK) eg_bolt_result_free(result);
    return s;
}

eg_status eg_bolt_conn_run_discard(eg_bolt_conn *conn, const char *statement, const eg_ps_value *parameters,
                                   const eg_bolt_request_context *context, char *bookmark_out,
                                   eg_bolt_outcome *outcome, eg_error *err) {
    eg_byte_buffer requests = {0};
    eg_status s = queue_run(&requests, statement, parameters, context, err);
    if (s == EG_OK) s = queue_pull(&requests, MSG_DISCARD, -1, err);
    if (s != EG_OK) {
        free(requests.data);
        return s;
    }
    eg_ps_value last = {.kind = EG_PS_NULL};
    s = exchange(conn, &requests, 2, &last, outcome, err);
    if (s == EG_OK) copy_bookmark(metadata_of(&last), bookmark_out);
    eg_ps_value_free(&last);
    return s;
}

eg_status eg_bolt_conn_begin(eg_bolt_conn *conn, const eg_bolt_request_context *context, eg_error *err) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, MSG_BEGIN, 1);
    write_context(&w, context);
    eg_status s = queue_message(&w, &conn->begin_unsent, err);
    if (s != EG_OK) {
        free(conn->begin_unsent.data);
        conn->begin_unsent = (eg_byte_buffer){0};
    }
    return s;
}

static eg_status simple_request(eg_bolt_conn *conn, uint8_t tag, eg_ps_value *answer_out, eg_bolt_outcome *outcome,
                                eg_error *err) {
    eg_ps_writer w = {0};
    eg_byte_buffer requests = {0};
    eg_ps_write_struct_header(&w, tag, 0);
    eg_status s = queue_message(&w, &requests, err);
    if (s == EG_OK) return exchange(conn, &requests, 1, answer_out, outcome, err);
    free(requests.data);
    return s;
}

eg_status eg_bolt_conn_commit(eg_bolt_conn *conn, char *bookmark_out, eg_bolt_outcome *outcome, eg_error *err) {
    eg_ps_value answer = {.kind = EG_PS_NULL};
    eg_status s = simple_request(conn, MSG_COMMIT, &answer, outcome, err);
    if (s == EG_OK) copy_bookmark(metadata_of(&answer), bookmark_out);
    eg_ps_value_free(&answer);
    return s;
}

eg_status eg_bolt_conn_rollback(eg_bolt_conn *conn, eg_bolt_outcome *outcome, eg_error *err) {
    if (conn->begin_unsent.data != NULL) { /* the server never heard of the transaction */
        free(conn->begin_unsent.data);
        conn->begin_unsent = (eg_byte_buffer){0};
        return EG_OK;
    }
    return simple_request(conn, MSG_ROLLBACK, NULL, outcome, err);
}

eg_status eg_bolt_conn_route(eg_bolt_conn *conn, const char *database, const char *bookmark, eg_ps_value *table_out,
                             eg_bolt_outcome *outcome, eg_error *err) {
    *table_out = (eg_ps_value){.kind = EG_PS_NULL};
    bool has_db = database != NULL && database[0] != '\0';
    bool has_bookmark = bookmark != NULL && bookmark[0] != '\0';
    eg_ps_writer w = {0};
    eg_byte_buffer requests = {0};
    eg_ps_write_struct_header(&w, MSG_ROUTE, 3);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "address");
    write_text(&w, conn->address);
    eg_ps_write_list_header(&w, has_bookmark);
    if (has_bookmark) write_text(&w, bookmark);
    eg_ps_write_dict_header(&w, has_db);
    if (has_db) {
        write_text(&w, "db");
        write_text(&w, database);
    }
    eg_status s = queue_message(&w, &requests, err);
    if (s != EG_OK) {
        free(requests.data);
        return s;
    }
    eg_ps_value answer = {.kind = EG_PS_NULL};
    s = exchange(conn, &requests, 1, &answer, outcome, err);
    if (s != EG_OK) return s;
    eg_ps_value *table = (eg_ps_value *)dict_get(metadata_of(&answer), "rt");
    if (table == NULL || table->kind != EG_PS_DICT)
        s = protocol_error(conn, err, "ROUTE answered without a routing table");
    else
        *table_out = take(table);
    eg_ps_value_free(&answer);
    return s;
}

/* ---- opening ---- */

static bool version_supported(uint8_t major, uint8_t minor) {
    return (major == 5 && minor <= EG_BOLT_MAX_5_MINOR) || (major == 4 && minor == 4);
}

static uint32_t version_rank(uint8_t major, uint8_t minor) { return (uint32_t)major << 8 | minor; }

static eg_status read_varint(eg_bolt_conn *conn, uint64_t deadline, uint64_t *value, eg_bolt_outcome *outcome,
                             eg_error *err) {
    *value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t byte;
        eg_status s = receive_exact(conn, &byte, 1, deadline, outcome, err);
        if (s != EG_OK) return s;
        *value |= (uint64_t)(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) return EG_OK;
    }
    return protocol_error(conn, err, "a handshake number longer than 64 bits");
}

/* The manifest (after its 255.1 answer): the versions the server offers as ranges, then its capabilities; the
 * client answers with the highest version both speak and no capabilities. */
static eg_status negotiate_manifest(eg_bolt_conn *conn, uint64_t deadline, eg_bolt_outcome *outcome, eg_error *err) {
    uint64_t count, capabilities;
    eg_status s = read_varint(conn, deadline, &count, outcome, err);
    if (s != EG_OK) return s;
    if (count > MAX_MANIFEST_VERSIONS) return protocol_error(conn, err, "a manifest of too many versions");
    uint8_t best_major = 0, best_minor = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint8_t offer[4];
        s = receive_exact(conn, offer, 4, deadline, outcome, err);
        if (s != EG_OK) return s;
        uint8_t range = offer[1], minor = offer[2], major = offer[3];
        int lowest = range > minor ? 0 : minor - range;
        for (int m = minor; m >= lowest; m--)
            if (version_supported(major, (uint8_t)m) &&
                version_rank(major, (uint8_t)m) > version_rank(best_major, best_minor)) {
                best_major = major;
                best_minor = (uint8_t)m;
            }
    }
    s = read_varint(conn, deadline, &capabilities, outcome, err);
    if (s != EG_OK) return s;
    uint8_t choice[5] = {0, 0, best_minor, best_major, 0}; /* the version, then no capabilities (varint 0) */
    if (!write_all(conn, choice, sizeof choice))
        return connection_failed(conn, outcome, EG_UNAVAILABLE, err, "lost the connection to");
    if (best_major == 0) {
        conn->broken = true;
        return eg_error_set(err, EG_UNAVAILABLE, "bolt: server %s offers no Bolt version engram speaks",
                            conn->address);
    }
    conn->version = (eg_bolt_version){best_major, best_minor};
    return EG_OK;
}

/* The preamble with four proposals — the manifest (so that a 5.7+ server lists its versions), 5.8 down to 5.0,
 * 4.4, and none — and the server's answer. */
static eg_status negotiate_version(eg_bolt_conn *conn, uint64_t deadline, eg_bolt_outcome *outcome, eg_error *err) {
    uint8_t preamble[20] = {0x60, 0x60, 0xB0, 0x17};
    memcpy(preamble + 4, MANIFEST_V1, 4);
    const uint8_t five[4] = {0, EG_BOLT_MAX_5_MINOR, EG_BOLT_MAX_5_MINOR, 5}, four[4] = {0, 0, 4, 4};
    memcpy(preamble + 8, five, 4);
    memcpy(preamble + 12, four, 4);
    if (!write_all(conn, preamble, sizeof preamble))
        return connection_failed(conn, outcome, EG_UNAVAILABLE, err, "lost the connection to");
    uint8_t answer[4];
    eg_status s = receive_exact(conn, answer, 4, deadline, outcome, err);
    if (s != EG_OK) return s;
    if (memcmp(answer, MANIFEST_V1, 4) == 0) {
        s = negotiate_manifest(conn, deadline, outcome, err);
    } else if (answer[0] == 0 && answer[1] == 0 && answer[2] == 0 && answer[3] == 0) {
        conn->broken = true;
        s = eg_error_set(err, EG_UNAVAILABLE, "bolt: server %s speaks no Bolt version engram does (5.0-5.%d, 4.4)",
                         conn->address, EG_BOLT_MAX_5_MINOR);
    } else if (answer[0] != 0 || answer[1] != 0 || !version_supported(answer[3], answer[2])) {
        s = protocol_error(conn, err, "the handshake chose a version engram did not propose");
    } else {
        conn->version = (eg_bolt_version){answer[3], answer[2]};
    }
    if (s == EG_OK) conn->dialect = conn->version.major == 4 ? EG_PS_BOLT_4_4 : EG_PS_BOLT_5;
    return s;
}

static void write_auth(eg_ps_writer *w, const eg_bolt_connect_config *config, size_t other_entries) {
    bool basic = config->user != NULL && config->user[0] != '\0';
    eg_ps_write_dict_header(w, other_entries + (basic ? 3 : 1));
    write_text(w, "scheme");
    write_text(w, basic ? "basic" : "none");
    if (basic) {
        write_text(w, "principal");
        write_text(w, config->user);
        write_text(w, "credentials");
        write_text(w, config->password != NULL ? config->password : "");
    }
}

/* HELLO (with the credentials up to 5.0), and LOGON from 5.1. */
static eg_status authenticate(eg_bolt_conn *conn, const eg_bolt_connect_config *config, eg_bolt_outcome *outcome,
                              eg_error *err) {
    const char *agent = "engram/" EG_VERSION;
    bool logon = conn->version.major == 5 && conn->version.minor >= 1;
    bool bolt_agent = conn->version.major == 5 && conn->version.minor >= 3;
    size_t entries = 1 + (size_t)bolt_agent + (size_t)config->routing;
    eg_ps_writer w = {0};
    eg_byte_buffer requests = {0};
    eg_ps_write_struct_header(&w, MSG_HELLO, 1);
    if (logon)
        eg_ps_write_dict_header(&w, entries);
    else
        write_auth(&w, config, entries);
    write_text(&w, "user_agent");
    write_text(&w, agent);
    if (bolt_agent) {
        write_text(&w, "bolt_agent");
        eg_ps_write_dict_header(&w, 1);
        write_text(&w, "product");
        write_text(&w, agent);
    }
    if (config->routing) {
        write_text(&w, "routing");
        eg_ps_write_dict_header(&w, 1);
        write_text(&w, "address");
        write_text(&w, conn->address);
    }
    eg_status s = queue_message(&w, &requests, err);
    if (s == EG_OK && logon) {
        eg_ps_write_struct_header(&w, MSG_LOGON, 1);
        write_auth(&w, config, 0);
        s = queue_message(&w, &requests, err);
    }
    if (s != EG_OK) {
        free(requests.data);
        return s;
    }
    s = exchange(conn, &requests, logon ? 2 : 1, NULL, outcome, err);
    if (s != EG_OK) conn->broken = true; /* a refused HELLO or LOGON ends the connection */
    return s;
}

/* A connection over fd (closed here when out of memory). */
static eg_bolt_conn *conn_new(int fd, const char *address, const eg_bolt_connect_config *config) {
    eg_bolt_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL) {
        close(fd);
        return NULL;
    }
    conn->fd = fd;
    conn->timeout_ms = config->timeout_ms;
    conn->opened_ns = eg_monotonic_ns();
    conn->dechunker.max_message = EG_PS_MAX_MESSAGE_BYTES;
    snprintf(conn->address, sizeof conn->address, "%s", address);
    /* reads wait in poll with the request's deadline; these bound what cannot: a send to a server that stopped
     * reading, and TLS's blocking handshake and record reads */
    struct timeval tv = {.tv_sec = config->timeout_ms / 1000, .tv_usec = (config->timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return conn;
}

static eg_status start_tls(eg_bolt_conn *conn, const char *host, const eg_bolt_connect_config *config,
                           eg_bolt_outcome *outcome, eg_error *err);

/* TLS (when host is given), the version, HELLO and LOGON, all within the connection's timeout; conn is closed on
 * failure. */
static eg_status finish_opening(eg_bolt_conn *conn, const char *host, const eg_bolt_connect_config *config,
                                eg_bolt_conn **out, eg_bolt_outcome *outcome, eg_error *err) {
    uint64_t deadline = deadline_after(config->timeout_ms);
    eg_status s = host != NULL ? start_tls(conn, host, config, outcome, err) : EG_OK;
    if (s == EG_OK) s = negotiate_version(conn, deadline, outcome, err);
    if (s == EG_OK) s = authenticate(conn, config, outcome, err);
    if (s != EG_OK) {
        eg_bolt_conn_close(conn);
        return s;
    }
    *out = conn;
    return EG_OK;
}

eg_status eg_bolt_conn_start(int fd, const char *address, const eg_bolt_connect_config *config, eg_bolt_conn **out,
                             eg_bolt_outcome *outcome, eg_error *err) {
    *out = NULL;
    eg_bolt_conn *conn = conn_new(fd, address, config);
    if (conn == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a connection");
    return finish_opening(conn, NULL, config, out, outcome, err);
}

/* Splits "host:port" or "[v6]:port". */
static bool split_address(const char *address, char *host, size_t host_size, char *port, size_t port_size) {
    const char *colon;
    const char *host_start = address;
    size_t host_len;
    if (address[0] == '[') {
        const char *close_bracket = strchr(address, ']');
        if (close_bracket == NULL || close_bracket[1] != ':') return false;
        host_start = address + 1;
        host_len = (size_t)(close_bracket - host_start);
        colon = close_bracket + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL) return false;
        host_len = (size_t)(colon - address);
    }
    if (host_len == 0 || host_len >= host_size || strlen(colon + 1) == 0 || strlen(colon + 1) >= port_size)
        return false;
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    snprintf(port, port_size, "%s", colon + 1);
    return true;
}

/* A connected socket to one of host's addresses, each tried within what is left of the deadline. */
static int connect_tcp(const char *host, const char *port, uint64_t deadline) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    if (getaddrinfo(host, port, &hints, &found) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = found; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int done = connect(fd, a->ai_addr, a->ai_addrlen);
        if (done != 0 && errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int error = 0;
            socklen_t error_len = sizeof error;
            done = poll(&p, 1, ms_until(deadline)) == 1 &&
                           getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0 && error == 0
                       ? 0
                       : -1;
        }
        if (done != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) return -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* requests are small and answered one by one */
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    return fd;
}

/* The TLS handshake over fd, the certificate verified (+s: and naming host) as config->tls says. */
static eg_status start_tls(eg_bolt_conn *conn, const char *host, const eg_bolt_connect_config *config,
                           eg_bolt_outcome *outcome, eg_error *err) {
    conn->ssl = SSL_new(config->tls);
    if (conn->ssl == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for TLS");
    SSL_set_fd(conn->ssl, conn->fd);
    if (config->verify_host) {
        struct in6_addr ip;
        bool is_ip = inet_pton(AF_INET, host, &ip) == 1 || inet_pton(AF_INET6, host, &ip) == 1;
        if (is_ip)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl), host);
        else {
            SSL_set1_host(conn->ssl, host);
            SSL_set_tlsext_host_name(conn->ssl, host);
        }
    }
    if (SSL_connect(conn->ssl) == 1) return EG_OK;
    long verified = SSL_get_verify_result(conn->ssl);
    ERR_clear_error();
    conn->broken = true;
    if (verified != X509_V_OK)
        return eg_error_set(err, EG_UNAVAILABLE, "bolt: the TLS certificate of %s is not trusted: %s", conn->address,
                            X509_verify_cert_error_string(verified));
    return connection_failed(conn, outcome, EG_UNAVAILABLE, err, "TLS handshake failed with");
}

eg_status eg_bolt_conn_open(const char *address, const eg_bolt_connect_config *config, eg_bolt_conn **out,
                            eg_bolt_outcome *outcome, eg_error *err) {
    *out = NULL;
    char host[256], port[16];
    if (!split_address(address, host, sizeof host, port, sizeof port))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "bolt: bad server address %s", address);
    int fd = connect_tcp(host, port, deadline_after(config->timeout_ms));
    if (fd < 0) {
        outcome->connection_failed = true;
        return eg_error_set(err, EG_UNAVAILABLE, "bolt: cannot connect to %s", address);
    }
    eg_bolt_conn *conn = conn_new(fd, address, config);
    if (conn == NULL) return eg_error_set(err, EG_INTERNAL, "bolt: out of memory for a connection");
    return finish_opening(conn, config->tls != NULL ? host : NULL, config, out, outcome, err);
}

bool eg_bolt_conn_alive(eg_bolt_conn *conn) {
    if (conn->broken) return false;
    struct pollfd p = {.fd = conn->fd, .events = POLLIN};
    /* an idle connection has nothing to read: readable means closed (or a server talking out of turn) */
    bool idle = poll(&p, 1, 0) == 0 && conn->input_at == conn->input_len;
    if (!idle) conn->broken = true;
    return idle;
}

void eg_bolt_conn_close(eg_bolt_conn *conn) {
    if (conn == NULL) return;
    free(conn->begin_unsent.data); /* a transaction never sent has nothing to end */
    conn->begin_unsent = (eg_byte_buffer){0};
    if (!conn->broken && conn->version.major != 0) { /* GOODBYE has no answer: the server just closes */
        eg_ps_writer w = {0};
        eg_byte_buffer requests = {0};
        eg_bolt_outcome ignored = {{{0}}};
        eg_ps_write_struct_header(&w, MSG_GOODBYE, 0);
        if (queue_message(&w, &requests, NULL) == EG_OK) send_requests(conn, &requests, &ignored, NULL);
        free(requests.data);
    }
    /* no TLS close_notify: GOODBYE (or a broken stream) ends the conversation, and the server closes first */
    SSL_free(conn->ssl);
    close(conn->fd);
    eg_bolt_dechunker_free(&conn->dechunker);
    free(conn);
}
