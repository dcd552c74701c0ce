/* fuzz_bolt_session.c — one Bolt connection from outside (src/bolt/session.c with handshake.c, chunking.c and
 * a statement engine of its own, which answers a statement starting with RETURN with one record, fails any other,
 * and counts transactions): whatever a client sends, in whatever split.
 *
 * Input: byte 0 says where to split the rest into two reads; the rest is the client's bytes from the first (the
 * handshake) on. Checked: once the version is agreed, everything the session writes in a read is whole chunked
 * messages, each a response structure (SUCCESS, RECORD, IGNORED or FAILURE) that the agreed version's decoder
 * takes; once it says to close, it takes and writes nothing more; a RUN gets either no transaction or the open
 * one, only an open transaction is committed or rolled back, and none is left open once the session is freed.
 * Sanitizers catch the rest. */
#include "bolt/chunking.h"
#include "bolt/packstream.h"
#include "bolt/session.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Transactions begun and not yet ended; the one open transaction's handle is its address. */
static int open_transactions;

static bool begin_counted(void *context, void **tx, eg_bolt_failure *failure) {
    (void)context;
    (void)failure;
    if (open_transactions != 0) abort(); /* one connection holds one transaction at a time */
    open_transactions++;
    *tx = &open_transactions;
    return true;
}

static bool run_counted(void *context, void *tx, const char *statement, size_t statement_len,
                        const eg_ps_value *parameters, eg_bolt_result *result, eg_bolt_failure *failure) {
    (void)context;
    if (tx != NULL && (tx != &open_transactions || open_transactions != 1)) abort();
    (void)parameters;
    /* only a statement starting with RETURN succeeds, so that FAILED and its recovery are reached too (the seeds'
     * `MATCH (n) RETURN n` fails) */
    if (statement_len < 6 || memcmp(statement, "RETURN", 6) != 0) {
        snprintf(failure->code, sizeof failure->code, "Neo.ClientError.Statement.SyntaxError");
        snprintf(failure->message, sizeof failure->message, "refused");
        return false;
    }
    /* one record holding the statement's text, in a column "s" */
    eg_ps_value *field = calloc(1, sizeof *field), *record = calloc(1, sizeof *record),
                *value = calloc(1, sizeof *value);
    char *name = strdup("s"), *text = malloc(statement_len + 1);
    if (!field || !record || !value || !name || !text) abort();
    memcpy(text, statement, statement_len);
    text[statement_len] = '\0';
    *field = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = name, .len = 1}};
    *value = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = text, .len = statement_len}};
    *record = (eg_ps_value){.kind = EG_PS_LIST, .as.list = {.items = value, .count = 1}};
    *result = (eg_bolt_result){.fields = {.kind = EG_PS_LIST, .as.list = {.items = field, .count = 1}},
                               .records = {.kind = EG_PS_LIST, .as.list = {.items = record, .count = 1}},
                               .type = "r"};
    return true;
}

static void end_transaction(void *tx) {
    if (tx != &open_transactions || open_transactions != 1) abort();
    open_transactions--;
}

static bool commit_counted(void *context, void *tx, eg_bolt_failure *failure) {
    (void)context;
    (void)failure;
    end_transaction(tx);
    return true;
}

static void rollback_counted(void *context, void *tx) {
    (void)context;
    end_transaction(tx);
}

static const eg_bolt_statements COUNTED = {
    .begin = begin_counted, .run = run_counted, .commit = commit_counted, .rollback = rollback_counted};

static void check_answers(const eg_byte_buffer *out, size_t from, eg_ps_dialect dialect) {
    eg_bolt_dechunker d = {.max_message = EG_PS_MAX_MESSAGE_BYTES};
    for (size_t at = from; at < out->len;) {
        size_t used;
        eg_error err;
        if (eg_bolt_dechunker_feed(&d, (const uint8_t *)out->data + at, out->len - at, &used, &err) != EG_OK) abort();
        at += used;
        if (!d.complete) continue;
        eg_ps_value v;
        if (eg_ps_decode((const uint8_t *)d.message.data, d.message.len, dialect, true, &v, &err) != EG_OK)
            abort();
        if (v.kind != EG_PS_STRUCT || v.as.list.tag < 0x70 || (v.as.list.tag > 0x71 && v.as.list.tag < 0x7E)) abort();
        eg_ps_value_free(&v);
        eg_bolt_dechunker_next(&d);
    }
    if (d.header_have != 0 || d.chunk_left != 0 || d.message.len != 0) abort(); /* a partial answer */
    eg_bolt_dechunker_free(&d);
}

/* Feeds one read; returns whether the connection stays open. */
static bool feed(eg_bolt_session *s, const uint8_t *data, size_t size, bool was_open, eg_byte_buffer *out) {
    bool agreed_before = eg_bolt_session_version(s).major != 0;
    size_t before = out->len;
    bool open = eg_bolt_session_feed(s, data, size, out);
    if (!was_open && (open || out->len != before)) abort();
    if (agreed_before)
        check_answers(out, before, eg_bolt_session_version(s).major >= 5 ? EG_PS_BOLT_5 : EG_PS_BOLT_4_4);
    return open;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const eg_bolt_session_config config = {.user = "neo4j",
                                           .password = "",
                                           .peer_is_loopback = true,
                                           .advertised_address = "127.0.0.1:7687",
                                           .routing_ttl_seconds = 300,
                                           .max_message_bytes = 1 << 16,
                                           .statements = &COUNTED};
    eg_bolt_session *s = eg_bolt_session_new(&config, 1);
    if (s == NULL) return 0;
    size_t rest = size - 1, split = rest == 0 ? 0 : data[0] % (rest + 1);
    eg_byte_buffer out = {0};
    bool open = feed(s, data + 1, split, true, &out);
    open = feed(s, data + 1 + split, rest - split, open, &out);
    feed(s, data + 1, rest, open, &out);
    free(out.data);
    eg_bolt_session_free(s);
    if (open_transactions != 0) abort(); /* the end of the connection rolls back */
    return 0;
}
