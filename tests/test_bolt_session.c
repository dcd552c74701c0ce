/* test_bolt_session.c — one Bolt connection's protocol driven with byte buffers: the handshake through the
 * session (plain, ranges, manifest), HELLO and LOGON with right and wrong credentials, RUN/PULL/DISCARD with n,
 * qid and has_more paging, transactions (which engine transaction each RUN gets; COMMIT, ROLLBACK, RESET, GOODBYE,
 * a FAILURE, a closed connection and the time bound ending it), bookmarks, stats, records handed to the transport
 * in bounded pieces, graph structures in 5.x and 4.4 byte for byte, ROUTE, TELEMETRY, LOGOFF, GOODBYE, every
 * request in a state that does not take it, FAILED -> IGNORED -> RESET, a RESET interrupting what arrived before
 * it, NOOPs, split bytes and an oversized message; from 5.7 FAILURE as a GQL status object (byte for byte, and
 * the GQLSTATUS of each Neo4j code), HELLO's protocol_version after the manifest, and 5.8's home database in
 * BEGIN's and RUN's SUCCESS and advertised address in LOGON's. */
#include "bolt/chunking.h"
#include "bolt/session.h"
#include "test.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HELLO = 0x01, GOODBYE = 0x02, RESET = 0x0F, RUN_ = 0x10, BEGIN = 0x11, COMMIT = 0x12, ROLLBACK = 0x13,
       DISCARD = 0x2F, PULL = 0x3F, TELEMETRY = 0x54, ROUTE = 0x66, LOGON = 0x6A, LOGOFF = 0x6B };
enum { SUCCESS = 0x70, RECORD = 0x71, IGNORED = 0x7E, FAILURE = 0x7F };

/* ---- the statement engine of these tests: `ROWS <k>` answers k records 0..k-1 in a column "i"; `ROWS <k> WRITE`
 * also reports stats; `GRAPH` answers one record holding Bolt 5 graph structures (GRAPH_V5); `PARAM <name>` answers
 * the parameter <name> in a column of that name (Neo.ClientError.Statement.ParameterMissing when there is none);
 * anything else is a Neo.ClientError.Statement.SyntaxError. It records every call, so that a test can tell which
 * transaction each RUN got and how each one ended. ---- */

/* One record's only value, in Bolt 5's encoding: a list of a Node, a dictionary holding a Relationship, and a Path
 * of two nodes and an UnboundRelationship. */
static const uint8_t GRAPH_V5[] = {
    0x93,
    0xB4, 0x4E, 0x01, 0x91, 0x81, 'L', 0xA0, 0x82, 'n', '1',                   /* Node 1 :L {} "n1" */
    0xA1, 0x81, 'r',                                                            /* {r: */
    0xB8, 0x52, 0x07, 0x01, 0x02, 0x81, 'T', 0xA0,                              /* Relationship 7 1->2 :T {} */
    0x82, 'r', '7', 0x82, 'n', '1', 0x82, 'n', '2',                             /* "r7" "n1" "n2" } */
    0xB3, 0x50,                                                                 /* Path */
    0x92, 0xB4, 0x4E, 0x01, 0x90, 0xA0, 0x82, 'n', '1',                         /* [Node 1, */
    0xB4, 0x4E, 0x02, 0x90, 0xA0, 0x82, 'n', '2',                               /* Node 2] */
    0x91, 0xB4, 0x72, 0x07, 0x81, 'T', 0xA0, 0x82, 'r', '7',                    /* [UnboundRelationship 7] */
    0x92, 0x01, 0x01};                                                          /* [1, 1] */
/* The same value as a 4.4 client must read it: every element id gone, nothing else changed. */
static const uint8_t GRAPH_V4_4[] = {
    0x93,
    0xB3, 0x4E, 0x01, 0x91, 0x81, 'L', 0xA0,
    0xA1, 0x81, 'r',
    0xB5, 0x52, 0x07, 0x01, 0x02, 0x81, 'T', 0xA0,
    0xB3, 0x50,
    0x92, 0xB3, 0x4E, 0x01, 0x90, 0xA0,
    0xB3, 0x4E, 0x02, 0x90, 0xA0,
    0x91, 0xB3, 0x72, 0x07, 0x81, 'T', 0xA0,
    0x92, 0x01, 0x01};

typedef enum engine_call { CALL_BEGIN, CALL_RUN, CALL_COMMIT, CALL_ROLLBACK } engine_call;

typedef struct engine_record {
    engine_call call;
    intptr_t tx; /* 0: auto-commit */
} engine_record;

typedef struct rows_engine {
    engine_record calls[32];
    size_t call_count;
    intptr_t last_tx;
    bool refuse_begin, refuse_commit;
} rows_engine;

static void record_call(rows_engine *e, engine_call call, void *tx) {
    if (e->call_count < 32) e->calls[e->call_count++] = (engine_record){call, (intptr_t)tx};
}

/* Whether the engine's calls were exactly these (call, tx) pairs. */
static bool calls_were(const rows_engine *e, size_t count, ...) {
    va_list ap;
    va_start(ap, count);
    bool same = e->call_count == count;
    for (size_t i = 0; i < count; i++) {
        engine_call call = va_arg(ap, engine_call);
        intptr_t tx = va_arg(ap, int);
        if (same && (e->calls[i].call != call || e->calls[i].tx != tx)) same = false;
    }
    va_end(ap);
    return same;
}

static void fail_with(eg_bolt_failure *failure, const char *code, const char *message) {
    snprintf(failure->code, sizeof failure->code, "%s", code);
    snprintf(failure->message, sizeof failure->message, "%s", message);
}

static bool begin_rows(void *context, void **tx, eg_bolt_failure *failure) {
    rows_engine *e = context;
    if (e->refuse_begin) {
        fail_with(failure, "Neo.TransientError.Transaction.LockClientStopped", "begin refused");
        return false;
    }
    *tx = (void *)++e->last_tx;
    record_call(e, CALL_BEGIN, *tx);
    return true;
}

static bool commit_rows(void *context, void *tx, eg_bolt_failure *failure) {
    rows_engine *e = context;
    record_call(e, CALL_COMMIT, tx);
    if (e->refuse_commit) fail_with(failure, "Neo.TransientError.Transaction.Outdated", "commit refused");
    return !e->refuse_commit;
}

static void rollback_rows(void *context, void *tx) { record_call(context, CALL_ROLLBACK, tx); }

static eg_ps_value list_of(size_t count) {
    eg_ps_value *items = calloc(count + 1, sizeof(eg_ps_value));
    return (eg_ps_value){.kind = EG_PS_LIST, .as.list = {.items = items, .count = count}};
}

/* PARAM <name>: the parameter's value, copied by encoding and decoding it, in one record. */
static bool run_param(const char *name, const eg_ps_value *parameters, eg_bolt_result *result,
                      eg_bolt_failure *failure) {
    const eg_ps_value *given = NULL;
    for (size_t i = 0; parameters && parameters->kind == EG_PS_DICT && i < parameters->as.dict.count; i++)
        if (strcmp(parameters->as.dict.entries[i].key, name) == 0) given = &parameters->as.dict.entries[i].value;
    if (given == NULL) {
        fail_with(failure, "Neo.ClientError.Statement.ParameterMissing", name);
        return false;
    }
    result->fields = list_of(1);
    result->fields.as.list.items[0] =
        (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = strdup(name), .len = strlen(name)}};
    result->records = list_of(1);
    result->records.as.list.items[0] = list_of(1);
    eg_ps_writer w = {0};
    eg_ps_write_value(&w, given);
    eg_error err;
    CHECK_OK(eg_ps_decode((const uint8_t *)w.out.data, w.out.len, EG_PS_BOLT_5, false,
                          &result->records.as.list.items[0].as.list.items[0], &err),
             &err);
    free(w.out.data);
    return true;
}

static bool run_rows(void *context, void *tx, const char *statement, size_t statement_len,
                     const eg_ps_value *parameters, eg_bolt_result *result, eg_bolt_failure *failure) {
    record_call(context, CALL_RUN, tx);
    *result = (eg_bolt_result){.type = "r"};
    if (statement_len > 6 && strncmp(statement, "PARAM ", 6) == 0) return run_param(statement + 6, parameters, result,
                                                                                    failure);
    bool graph = statement_len == 5 && memcmp(statement, "GRAPH", 5) == 0;
    if (!graph && (statement_len < 6 || strncmp(statement, "ROWS ", 5) != 0)) {
        fail_with(failure, "Neo.ClientError.Statement.SyntaxError", "not ROWS");
        return false;
    }
    size_t k = graph ? 1 : (size_t)atoi(statement + 5);
    result->fields = list_of(1);
    result->fields.as.list.items[0] = (eg_ps_value){.kind = EG_PS_STRING, .as.text = {.data = strdup("i"), .len = 1}};
    result->records = list_of(k);
    for (size_t i = 0; i < k; i++) {
        eg_ps_value *record = &result->records.as.list.items[i];
        *record = list_of(1);
        record->as.list.items[0] = (eg_ps_value){.kind = EG_PS_INT, .as.integer = (int64_t)i};
    }
    eg_error err;
    if (graph)
        CHECK_OK(eg_ps_decode(GRAPH_V5, sizeof GRAPH_V5, EG_PS_BOLT_5, false,
                              &result->records.as.list.items[0].as.list.items[0], &err),
                 &err);
    if (strstr(statement, "WRITE") != NULL /* the statement ends with a NUL */) {
        result->type = "w";
        result->stats = (eg_ps_value){.kind = EG_PS_DICT,
                                      .as.dict = {.entries = calloc(2, sizeof(eg_ps_entry)), .count = 2}};
        result->stats.as.dict.entries[0] =
            (eg_ps_entry){strdup("nodes-created"), 13, {.kind = EG_PS_INT, .as.integer = 3}};
        result->stats.as.dict.entries[1] =
            (eg_ps_entry){strdup("contains-updates"), 16, {.kind = EG_PS_BOOL, .as.boolean = true}};
    }
    return true;
}

static rows_engine rows_calls;
static const eg_bolt_statements ROWS_ENGINE = {
    .context = &rows_calls, .begin = begin_rows, .run = run_rows, .commit = commit_rows, .rollback = rollback_rows};

static eg_bolt_session_config config_with(const eg_bolt_statements *statements) {
    return (eg_bolt_session_config){.user = "neo4j",
                                    .password = "secret",
                                    .peer_is_loopback = true,
                                    .advertised_address = "127.0.0.1:7687",
                                    .routing_ttl_seconds = 300,
                                    .max_message_bytes = 1 << 20,
                                    .statements = statements};
}

/* ---- the client side: messages built with the PackStream writer ---- */

typedef struct client {
    eg_bolt_session *session;
    eg_byte_buffer wire;    /* what the client is about to send */
    eg_ps_value replies[64];
    size_t reply_count;
    bool open;
} client;

static void send_framed(client *c, eg_ps_writer *w) {
    CHECK(eg_bolt_chunk_message((const uint8_t *)w->out.data, w->out.len, &c->wire, SIZE_MAX));
    free(w->out.data);
}

static void write_text(eg_ps_writer *w, const char *text) { eg_ps_write_string(w, text, strlen(text)); }

/* A message whose fields are all dictionaries of string pairs: fields given as count then, per field, the pair
 * count then key, value ... (values "#<n>" are written as integers). */
static void msg(client *c, uint8_t tag, int field_count, ...) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, tag, (size_t)field_count);
    va_list ap;
    va_start(ap, field_count);
    for (int f = 0; f < field_count; f++) {
        int pairs = va_arg(ap, int);
        eg_ps_write_dict_header(&w, (size_t)pairs);
        for (int p = 0; p < pairs; p++) {
            write_text(&w, va_arg(ap, const char *));
            const char *value = va_arg(ap, const char *);
            if (value[0] == '#') eg_ps_write_int(&w, atoll(value + 1));
            else write_text(&w, value);
        }
    }
    va_end(ap);
    send_framed(c, &w);
}

static void run(client *c, const char *statement, const char *db) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, RUN_, 3);
    write_text(&w, statement);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "x");
    write_text(&w, "forty-two");
    eg_ps_write_dict_header(&w, db != NULL);
    if (db != NULL) {
        write_text(&w, "db");
        write_text(&w, db);
    }
    send_framed(c, &w);
}

static void clear_replies(client *c) {
    for (size_t i = 0; i < c->reply_count; i++) eg_ps_value_free(&c->replies[i]);
    c->reply_count = 0;
}

/* Sends the wire (in pieces of `piece` bytes; 0 for all at once) and decodes every answer into c->replies. */
static void exchange_in_pieces(client *c, size_t piece) {
    clear_replies(c);
    eg_byte_buffer out = {0};
    size_t step = piece == 0 ? c->wire.len : piece;
    for (size_t at = 0; at < c->wire.len && c->open; at += step) {
        size_t n = c->wire.len - at < step ? c->wire.len - at : step;
        c->open = eg_bolt_session_feed(c->session, (const uint8_t *)c->wire.data + at, n, &out);
    }
    c->wire.len = 0;
    eg_bolt_dechunker d = {.max_message = 1 << 24};
    for (size_t at = 0; at < out.len;) {
        size_t used;
        eg_error err;
        REQUIRE(eg_bolt_dechunker_feed(&d, (const uint8_t *)out.data + at, out.len - at, &used, &err) == EG_OK);
        at += used;
        if (!d.complete) continue;
        REQUIRE(c->reply_count < 64);
        CHECK_OK(eg_ps_decode((const uint8_t *)d.message.data, d.message.len, EG_PS_BOLT_5, true,
                              &c->replies[c->reply_count++], &err),
                 &err);
        eg_bolt_dechunker_next(&d);
    }
    CHECK(!d.complete && d.message.len == 0); /* no partial answer */
    eg_bolt_dechunker_free(&d);
    free(out.data);
}

static void exchange(client *c) { exchange_in_pieces(c, 0); }

static uint8_t reply_tag(const client *c, size_t i) {
    return i < c->reply_count && c->replies[i].kind == EG_PS_STRUCT ? c->replies[i].as.list.tag : 0;
}

static const eg_ps_value *meta(const client *c, size_t i, const char *key) {
    if (i >= c->reply_count || c->replies[i].as.list.count == 0) return NULL;
    const eg_ps_value *d = &c->replies[i].as.list.items[0];
    if (d->kind != EG_PS_DICT) return NULL;
    for (size_t k = 0; k < d->as.dict.count; k++)
        if (strcmp(d->as.dict.entries[k].key, key) == 0) return &d->as.dict.entries[k].value;
    return NULL;
}

static bool meta_text_is(const client *c, size_t i, const char *key, const char *expected) {
    const eg_ps_value *v = meta(c, i, key);
    return v != NULL && v->kind == EG_PS_STRING && strcmp(v->as.text.data, expected) == 0;
}

static bool meta_int_is(const client *c, size_t i, const char *key, int64_t expected) {
    const eg_ps_value *v = meta(c, i, key);
    return v != NULL && v->kind == EG_PS_INT && v->as.integer == expected;
}

/* RECORD i's first value as an integer, or -999. */
static int64_t record_int(const client *c, size_t i) {
    if (reply_tag(c, i) != RECORD) return -999;
    const eg_ps_value *values = &c->replies[i].as.list.items[0];
    return values->as.list.count > 0 && values->as.list.items[0].kind == EG_PS_INT ? values->as.list.items[0].as.integer
                                                                                   : -999;
}

static void handshake_exact(client *c, uint8_t major, uint8_t minor) {
    uint8_t opening[20] = {0x60, 0x60, 0xB0, 0x17, 0, 0, minor, major};
    CHECK(eg_byte_buffer_append(&c->wire, (const char *)opening, 20, SIZE_MAX));
}

/* Sends the handshake proposing exactly major.minor, and checks that the server agreed to it. */
static void shake_hands(client *c, uint8_t major, uint8_t minor) {
    handshake_exact(c, major, minor);
    eg_byte_buffer out = {0};
    c->open = eg_bolt_session_feed(c->session, (const uint8_t *)c->wire.data, c->wire.len, &out);
    CHECK(out.len == 4 && (uint8_t)out.data[3] == major && (uint8_t)out.data[2] == minor);
    free(out.data);
    c->wire.len = 0;
}

/* A client connected at major.minor that has sent its handshake, HELLO (with auth for 4.4 and 5.0) and, for
 * 5.1+, LOGON, all answered with SUCCESS. */
static void connect_authenticated(client *c, const eg_bolt_session_config *config, uint8_t major, uint8_t minor) {
    *c = (client){.session = eg_bolt_session_new(config, 7), .open = true};
    shake_hands(c, major, minor);
    bool auth_in_hello = major == 4 || minor == 0;
    if (auth_in_hello)
        msg(c, HELLO, 1, 4, "user_agent", "test/1", "scheme", "basic", "principal", "neo4j", "credentials", "secret");
    else
        msg(c, HELLO, 1, 1, "user_agent", "test/1");
    if (!auth_in_hello) msg(c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "secret");
    exchange(c);
    CHECK(reply_tag(c, 0) == SUCCESS);
    CHECK(!auth_in_hello ? reply_tag(c, 1) == SUCCESS : c->reply_count == 1);
    CHECK(eg_bolt_session_state(c->session) == EG_BOLT_READY);
}

static void disconnect(client *c) {
    clear_replies(c);
    free(c->wire.data);
    eg_bolt_session_free(c->session);
}

/* ---- tests ---- */

TEST(hello_with_auth_in_4_4_and_5_0_reports_a_neo4j_agent) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    const uint8_t versions[2][2] = {{4, 4}, {5, 0}};
    for (int v = 0; v < 2; v++) {
        client c;
        connect_authenticated(&c, &config, versions[v][0], versions[v][1]);
        CHECK(meta_text_is(&c, 0, "server", EG_BOLT_SERVER_AGENT));
        CHECK(strncmp(EG_BOLT_SERVER_AGENT, "Neo4j/5.", 8) == 0);
        CHECK(meta_text_is(&c, 0, "connection_id", "bolt-7"));
        disconnect(&c);
    }
}

TEST(wrong_password_is_unauthorized_and_closes) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    /* 4.4: in HELLO */
    client c = {.session = eg_bolt_session_new(&config, 1), .open = true};
    shake_hands(&c, 4, 4);
    msg(&c, HELLO, 1, 4, "user_agent", "t", "scheme", "basic", "principal", "neo4j", "credentials", "wrong");
    exchange(&c);
    CHECK(!c.open);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Security.Unauthorized"));
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_DEFUNCT);
    disconnect(&c);
    /* 5.6: in LOGON, after a HELLO that succeeds */
    c = (client){.session = eg_bolt_session_new(&config, 2), .open = true};
    shake_hands(&c, 5, 6);
    msg(&c, HELLO, 1, 1, "user_agent", "t");
    msg(&c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "secre");
    exchange(&c);
    CHECK(!c.open);
    REQUIRE(c.reply_count == 2);
    CHECK(reply_tag(&c, 0) == SUCCESS);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_DEFUNCT);
    CHECK(reply_tag(&c, 1) == FAILURE);
    CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Security.Unauthorized"));
    disconnect(&c);
}

TEST(wrong_user_and_scheme_none_are_refused_when_a_password_is_set) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    const char *auths[2][6] = {{"scheme", "basic", "principal", "admin", "credentials", "secret"},
                               {"scheme", "none", "principal", "", "credentials", ""}};
    for (int a = 0; a < 2; a++) {
        client c = {.session = eg_bolt_session_new(&config, 1), .open = true};
        shake_hands(&c, 5, 1);
        msg(&c, HELLO, 1, 1, "user_agent", "t");
        msg(&c, LOGON, 1, 3, auths[a][0], auths[a][1], auths[a][2], auths[a][3], auths[a][4], auths[a][5]);
        exchange(&c);
        CHECK(!c.open);
        CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Security.Unauthorized"));
        disconnect(&c);
    }
}

TEST(without_a_password_loopback_is_accepted_and_others_refused) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    config.password = "";
    for (int loopback = 0; loopback < 2; loopback++) {
        config.peer_is_loopback = loopback;
        client c = {.session = eg_bolt_session_new(&config, 1), .open = true};
        shake_hands(&c, 5, 2);
        msg(&c, HELLO, 1, 1, "user_agent", "t");
        msg(&c, LOGON, 1, 1, "scheme", "none");
        exchange(&c);
        CHECK(c.open == (loopback == 1));
        CHECK(reply_tag(&c, 1) == (loopback ? SUCCESS : FAILURE));
        disconnect(&c);
    }
}

TEST(run_a_statement_and_a_parameter) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 4);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#1000");
    exchange(&c);
    REQUIRE(c.reply_count == 3);
    CHECK(reply_tag(&c, 0) == SUCCESS);
    const eg_ps_value *fields = meta(&c, 0, "fields");
    REQUIRE(fields != NULL && fields->kind == EG_PS_LIST && fields->as.list.count == 1);
    CHECK(strcmp(fields->as.list.items[0].as.text.data, "i") == 0);
    CHECK(meta(&c, 0, "t_first") != NULL && meta(&c, 0, "qid") == NULL);
    CHECK(record_int(&c, 1) == 0);
    CHECK(reply_tag(&c, 2) == SUCCESS);
    CHECK(meta_text_is(&c, 2, "type", "r") && meta_text_is(&c, 2, "db", "neo4j"));
    CHECK(meta(&c, 2, "bookmark") != NULL && meta(&c, 2, "t_last") != NULL && meta(&c, 2, "has_more") == NULL);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_READY);

    run(&c, "PARAM x", "neo4j");
    msg(&c, PULL, 1, 1, "n", "#-1");
    exchange(&c);
    REQUIRE(c.reply_count == 3);
    const eg_ps_value *values = &c.replies[1].as.list.items[0];
    REQUIRE(reply_tag(&c, 1) == RECORD && values->as.list.count == 1);
    const eg_ps_value *y = &values->as.list.items[0];
    CHECK(y->kind == EG_PS_STRING && strcmp(y->as.text.data, "forty-two") == 0);
    disconnect(&c);
}

TEST(a_failed_statement_then_everything_is_ignored_until_reset) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 0);
    run(&c, "MATCH (n) RETURN n" /* not one of the engine's */, NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    run(&c, "ROWS 1", NULL);
    msg(&c, BEGIN, 1, 0);
    msg(&c, DISCARD, 1, 1, "n", "#-1");
    msg(&c, COMMIT, 0);
    msg(&c, ROLLBACK, 0);
    msg(&c, ROUTE, 3, 0, 0, 0);
    exchange(&c);
    REQUIRE(c.reply_count == 8);
    CHECK(reply_tag(&c, 0) == FAILURE);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Statement.SyntaxError"));
    const eg_ps_value *message = meta(&c, 0, "message");
    CHECK(message != NULL && strstr(message->as.text.data, "not ROWS") != NULL);
    for (size_t i = 1; i < 8; i++) CHECK(reply_tag(&c, i) == IGNORED);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_FAILED);
    msg(&c, RESET, 0);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    exchange(&c);
    REQUIRE(c.reply_count == 4);
    CHECK(reply_tag(&c, 0) == SUCCESS && reply_tag(&c, 1) == SUCCESS && record_int(&c, 2) == 0);
    disconnect(&c);
}

TEST(missing_parameter_and_unknown_database_fail) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 0);
    /* each failure is read before the RESET is sent: a RESET in the same feed would interrupt it unrun */
    run(&c, "PARAM missing", NULL);
    exchange(&c);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Statement.ParameterMissing"));
    msg(&c, RESET, 0);
    run(&c, "ROWS 1", "other");
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS);
    CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Database.DatabaseNotFound"));
    msg(&c, RESET, 0);
    msg(&c, BEGIN, 1, 1, "db", "other");
    exchange(&c);
    REQUIRE(c.reply_count == 2);
    CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Database.DatabaseNotFound"));
    disconnect(&c);
}

TEST(pull_and_discard_page_with_n_and_has_more) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 6);
    run(&c, "ROWS 5", NULL);
    msg(&c, PULL, 1, 1, "n", "#2");
    exchange(&c);
    REQUIRE(c.reply_count == 4);
    CHECK(record_int(&c, 1) == 0 && record_int(&c, 2) == 1);
    CHECK(meta(&c, 3, "has_more") != NULL && meta(&c, 3, "has_more")->as.boolean);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_STREAMING);
    msg(&c, DISCARD, 1, 1, "n", "#2");
    msg(&c, PULL, 1, 1, "n", "#2");
    exchange(&c);
    REQUIRE(c.reply_count == 3);
    CHECK(meta(&c, 0, "has_more") != NULL);
    CHECK(record_int(&c, 1) == 4);
    CHECK(meta(&c, 2, "has_more") == NULL && meta(&c, 2, "bookmark") != NULL);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_READY);
    /* an empty result ends at once; a DISCARD of all ends without records */
    run(&c, "ROWS 0", NULL);
    msg(&c, PULL, 1, 1, "n", "#5");
    run(&c, "ROWS 3", NULL);
    msg(&c, DISCARD, 1, 1, "n", "#-1");
    exchange(&c);
    REQUIRE(c.reply_count == 4);
    CHECK(meta(&c, 1, "type") != NULL && meta(&c, 3, "type") != NULL);
    /* n must be positive or -1 */
    run(&c, "ROWS 3", NULL);
    msg(&c, PULL, 1, 1, "n", "#0");
    exchange(&c);
    CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Request.Invalid"));
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_FAILED);
    disconnect(&c);
}

TEST(transaction_streams_are_named_by_qid) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 6);
    msg(&c, BEGIN, 1, 0);
    run(&c, "ROWS 2", NULL);
    run(&c, "ROWS 3", NULL);
    msg(&c, PULL, 1, 2, "n", "#-1", "qid", "#0");
    exchange(&c);
    REQUIRE(c.reply_count == 6);
    CHECK(meta_int_is(&c, 1, "qid", 0) && meta_int_is(&c, 2, "qid", 1));
    CHECK(record_int(&c, 3) == 0 && record_int(&c, 4) == 1);
    CHECK(meta(&c, 5, "bookmark") == NULL && meta(&c, 5, "type") != NULL);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_TX_STREAMING);
    /* a RESET in the same feed interrupts the COMMIT before it, which is not run */
    msg(&c, COMMIT, 0);
    msg(&c, RESET, 0);
    msg(&c, BEGIN, 1, 0);
    run(&c, "ROWS 3", NULL);
    msg(&c, PULL, 1, 2, "n", "#1", "qid", "#-1");
    msg(&c, DISCARD, 1, 1, "n", "#-1");
    msg(&c, COMMIT, 0);
    exchange(&c);
    REQUIRE(c.reply_count == 8);
    CHECK(reply_tag(&c, 0) == IGNORED);
    CHECK(reply_tag(&c, 1) == SUCCESS && reply_tag(&c, 2) == SUCCESS);
    CHECK(meta_int_is(&c, 3, "qid", 0));
    CHECK(record_int(&c, 4) == 0);
    CHECK(meta(&c, 5, "has_more") != NULL);
    CHECK(reply_tag(&c, 6) == SUCCESS && meta(&c, 6, "has_more") == NULL);
    CHECK(reply_tag(&c, 7) == SUCCESS && meta(&c, 7, "bookmark") != NULL);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_READY);
    msg(&c, BEGIN, 1, 0);
    msg(&c, ROLLBACK, 0);
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS && reply_tag(&c, 1) == SUCCESS);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_READY);
    disconnect(&c);
}

/* Every request message in every authenticated state that does not take it is a Request.Invalid FAILURE (then
 * FAILED, recoverable by RESET); before authentication anything but HELLO/LOGON ends the connection. */
TEST(requests_in_states_that_do_not_take_them) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    /* READY: PULL, DISCARD, COMMIT, ROLLBACK, HELLO, LOGON */
    const uint8_t refused_in_ready[] = {PULL, DISCARD, COMMIT, ROLLBACK, HELLO, LOGON};
    for (size_t i = 0; i < sizeof refused_in_ready; i++) {
        client c;
        connect_authenticated(&c, &config, 5, 6);
        if (refused_in_ready[i] == PULL || refused_in_ready[i] == DISCARD)
            msg(&c, refused_in_ready[i], 1, 1, "n", "#-1");
        else if (refused_in_ready[i] == HELLO)
            msg(&c, HELLO, 1, 1, "user_agent", "t");
        else if (refused_in_ready[i] == LOGON)
            msg(&c, LOGON, 1, 1, "scheme", "none");
        else
            msg(&c, refused_in_ready[i], 0);
        exchange(&c);
        CHECK(c.open);
        CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Request.Invalid"));
        CHECK(eg_bolt_session_state(c.session) == EG_BOLT_FAILED);
        disconnect(&c);
    }
    /* STREAMING: RUN, BEGIN, COMMIT, ROUTE, TELEMETRY, LOGOFF */
    const uint8_t refused_in_streaming[] = {RUN_, BEGIN, COMMIT, ROUTE, TELEMETRY, LOGOFF};
    for (size_t i = 0; i < sizeof refused_in_streaming; i++) {
        client c;
        connect_authenticated(&c, &config, 5, 6);
        run(&c, "ROWS 2", NULL);
        if (refused_in_streaming[i] == RUN_) run(&c, "ROWS 1", NULL);
        else if (refused_in_streaming[i] == ROUTE) msg(&c, ROUTE, 3, 0, 0, 0);
        else if (refused_in_streaming[i] == TELEMETRY) msg(&c, TELEMETRY, 1, 0);
        else msg(&c, refused_in_streaming[i], 0);
        exchange(&c);
        CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Request.Invalid"));
        CHECK(eg_bolt_session_state(c.session) == EG_BOLT_FAILED);
        disconnect(&c);
    }
    /* TX_READY: BEGIN, PULL, ROUTE; TX_STREAMING: COMMIT, ROLLBACK */
    const uint8_t refused_in_tx_ready[] = {BEGIN, PULL, ROUTE};
    for (size_t i = 0; i < sizeof refused_in_tx_ready; i++) {
        client c;
        connect_authenticated(&c, &config, 5, 6);
        msg(&c, BEGIN, 1, 0);
        if (refused_in_tx_ready[i] == PULL) msg(&c, PULL, 1, 1, "n", "#-1");
        else if (refused_in_tx_ready[i] == ROUTE) msg(&c, ROUTE, 3, 0, 0, 0);
        else msg(&c, BEGIN, 1, 0);
        exchange(&c);
        CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Request.Invalid"));
        disconnect(&c);
    }
    const uint8_t refused_in_tx_streaming[] = {COMMIT, ROLLBACK};
    for (size_t i = 0; i < sizeof refused_in_tx_streaming; i++) {
        client c;
        connect_authenticated(&c, &config, 5, 6);
        msg(&c, BEGIN, 1, 0);
        run(&c, "ROWS 2", NULL);
        msg(&c, refused_in_tx_streaming[i], 0);
        exchange(&c);
        CHECK(meta_text_is(&c, 2, "code", "Neo.ClientError.Request.Invalid"));
        disconnect(&c);
    }
    /* before HELLO, and between HELLO and LOGON: the connection ends */
    for (int stage = 0; stage < 2; stage++) {
        client c = {.session = eg_bolt_session_new(&config, 1), .open = true};
        shake_hands(&c, 5, 6);
        if (stage == 1) msg(&c, HELLO, 1, 1, "user_agent", "t");
        run(&c, "ROWS 1", NULL);
        exchange(&c);
        CHECK(!c.open);
        CHECK(reply_tag(&c, (size_t)stage) == FAILURE);
        CHECK(eg_bolt_session_state(c.session) == EG_BOLT_DEFUNCT);
        disconnect(&c);
    }
}

TEST(messages_of_later_versions_break_the_protocol) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 3);
    msg(&c, TELEMETRY, 1, 0); /* 5.4+ */
    exchange(&c);
    CHECK(!c.open && reply_tag(&c, 0) == FAILURE);
    disconnect(&c);
    connect_authenticated(&c, &config, 4, 4);
    msg(&c, LOGOFF, 0); /* 5.1+ */
    exchange(&c);
    CHECK(!c.open && reply_tag(&c, 0) == FAILURE);
    disconnect(&c);
    connect_authenticated(&c, &config, 5, 6);
    msg(&c, 0x77, 0); /* no such message */
    exchange(&c);
    CHECK(!c.open && meta_text_is(&c, 0, "code", "Neo.ClientError.Request.Invalid"));
    disconnect(&c);
}

TEST(route_names_this_server_in_every_role) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    const uint8_t versions[2][2] = {{4, 4}, {5, 6}};
    for (int v = 0; v < 2; v++) {
        client c;
        connect_authenticated(&c, &config, versions[v][0], versions[v][1]);
        msg(&c, ROUTE, 3, 1, "address", "localhost:7687", 0, 0);
        exchange(&c);
        REQUIRE(reply_tag(&c, 0) == SUCCESS);
        const eg_ps_value *rt = meta(&c, 0, "rt");
        REQUIRE(rt != NULL && rt->kind == EG_PS_DICT && rt->as.dict.count == 3);
        CHECK(rt->as.dict.entries[0].value.as.integer == 300);
        const eg_ps_value *servers = &rt->as.dict.entries[2].value;
        REQUIRE(servers->kind == EG_PS_LIST && servers->as.list.count == 3);
        const char *roles[] = {"WRITE", "READ", "ROUTE"};
        for (size_t i = 0; i < 3; i++) {
            const eg_ps_value *server = &servers->as.list.items[i];
            CHECK(strcmp(server->as.dict.entries[0].value.as.list.items[0].as.text.data, "127.0.0.1:7687") == 0);
            CHECK(strcmp(server->as.dict.entries[1].value.as.text.data, roles[i]) == 0);
        }
        CHECK(eg_bolt_session_state(c.session) == EG_BOLT_READY);
        disconnect(&c);
    }
}

TEST(telemetry_logoff_and_goodbye) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 4);
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, TELEMETRY, 1);
    eg_ps_write_int(&w, 2);
    send_framed(&c, &w);
    msg(&c, LOGOFF, 0);
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS && reply_tag(&c, 1) == SUCCESS);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_AUTHENTICATION);
    msg(&c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "secret");
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS && eg_bolt_session_state(c.session) == EG_BOLT_READY);
    msg(&c, GOODBYE, 0);
    run(&c, "ROWS 1", NULL); /* after GOODBYE nothing is read */
    exchange(&c);
    CHECK(!c.open && c.reply_count == 0);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_DEFUNCT);
    disconnect(&c);
}

TEST(manifest_handshake_then_hello_in_one_buffer_byte_by_byte_with_noops) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c = {.session = eg_bolt_session_new(&config, 3), .open = true};
    const uint8_t opening[20] = {0x60, 0x60, 0xB0, 0x17, 0, 0, 1, 0xFF, 0, 8, 8, 5, 0, 0, 4, 4};
    eg_bolt_session_feed(c.session, opening, 20, &c.wire);
    REQUIRE(c.wire.len == 14); /* the manifest */
    c.wire.len = 0;
    CHECK(eg_byte_buffer_append(&c.wire, "\x00\x00\x04\x05\x00", 5, SIZE_MAX)); /* the client picks 5.4 */
    CHECK(eg_byte_buffer_append(&c.wire, "\x00\x00", 2, SIZE_MAX));             /* a NOOP */
    msg(&c, HELLO, 1, 1, "user_agent", "t");
    CHECK(eg_byte_buffer_append(&c.wire, "\x00\x00\x00\x00", 4, SIZE_MAX)); /* two NOOPs */
    msg(&c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "secret");
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    exchange_in_pieces(&c, 1);
    CHECK(c.open);
    CHECK(eg_bolt_session_version(c.session).major == 5 && eg_bolt_session_version(c.session).minor == 4);
    REQUIRE(c.reply_count == 5);
    CHECK(record_int(&c, 3) == 0);
    CHECK(reply_tag(&c, 4) == SUCCESS);
    disconnect(&c);
}

TEST(refused_handshake_and_oversized_message_close) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c = {.session = eg_bolt_session_new(&config, 1), .open = true};
    handshake_exact(&c, 3, 0);
    eg_byte_buffer out = {0};
    CHECK(!eg_bolt_session_feed(c.session, (const uint8_t *)c.wire.data, c.wire.len, &out));
    CHECK(out.len == 4 && memcmp(out.data, "\0\0\0\0", 4) == 0);
    free(out.data);
    c.wire.len = 0;
    disconnect(&c);

    config.max_message_bytes = 128; /* HELLO fits, the RUN below does not */
    connect_authenticated(&c, &config, 5, 0);
    char statement[200];
    memset(statement, 'x', sizeof statement - 1);
    statement[sizeof statement - 1] = '\0';
    run(&c, statement, NULL);
    exchange(&c);
    CHECK(!c.open);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Request.Invalid"));
    disconnect(&c);
}

TEST(a_message_that_is_not_packstream_breaks_the_protocol) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 0);
    CHECK(eg_byte_buffer_append(&c.wire, "\x00\x02\xC7\x00\x00\x00", 6, SIZE_MAX)); /* a reserved marker */
    exchange(&c);
    CHECK(!c.open && meta_text_is(&c, 0, "code", "Neo.ClientError.Request.InvalidFormat"));
    disconnect(&c);
}

TEST(a_refusing_session_answers_hello_with_its_failure) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    config.refusal_code = "Neo.TransientError.Request.NoThreadsAvailable";
    config.refusal_message = "full";
    client c = {.session = eg_bolt_session_new(&config, 1), .open = true};
    shake_hands(&c, 5, 6);
    msg(&c, HELLO, 1, 1, "user_agent", "t");
    exchange(&c);
    CHECK(!c.open);
    REQUIRE(c.reply_count == 1);
    CHECK(meta_text_is(&c, 0, "code", "Neo.TransientError.Request.NoThreadsAvailable"));
    disconnect(&c);
}


/* ---- transactions, bookmarks, stats, the time bound, streaming, 4.4 structures ---- */

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* The number after "engram:" in a bookmark, or 0. */
static unsigned long long bookmark_number(const client *c, size_t i) {
    const eg_ps_value *v = meta(c, i, "bookmark");
    if (v == NULL || v->kind != EG_PS_STRING || strncmp(v->as.text.data, "engram:", 7) != 0) return 0;
    return strtoull(v->as.text.data + 7, NULL, 10);
}

/* BEGIN with the bookmarks a driver sends after an earlier transaction, and tx_timeout when it is not negative. */
static void begin_with(client *c, const char *bookmark, int64_t tx_timeout_ms) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, BEGIN, 1);
    eg_ps_write_dict_header(&w, 1 + (tx_timeout_ms >= 0));
    write_text(&w, "bookmarks");
    eg_ps_write_list_header(&w, 1);
    write_text(&w, bookmark);
    if (tx_timeout_ms >= 0) {
        write_text(&w, "tx_timeout");
        eg_ps_write_int(&w, tx_timeout_ms);
    }
    send_framed(c, &w);
}

/* RUN of a statement without parameters whose extra holds one entry: a string, or a list of one string when
 * as_list. */
static void run_with_extra(client *c, const char *statement, const char *key, const char *value, bool as_list) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, RUN_, 3);
    write_text(&w, statement);
    eg_ps_write_dict_header(&w, 0);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, key);
    if (as_list) eg_ps_write_list_header(&w, 1);
    write_text(&w, value);
    send_framed(c, &w);
}

TEST(each_run_gets_its_transaction_and_commit_and_rollback_end_it) {
    rows_calls = (rows_engine){0};
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 6);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    msg(&c, BEGIN, 1, 0);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    run(&c, "ROWS 2", NULL);
    msg(&c, DISCARD, 1, 1, "n", "#-1");
    msg(&c, COMMIT, 0);
    exchange(&c);
    REQUIRE(c.reply_count == 10);
    unsigned long long auto_commit_bookmark = bookmark_number(&c, 2), commit_bookmark = bookmark_number(&c, 9);
    CHECK(auto_commit_bookmark > 0 && commit_bookmark > auto_commit_bookmark);
    CHECK(meta(&c, 6, "bookmark") == NULL); /* a result inside a transaction has none: the COMMIT does */
    /* the client hands the bookmark back, as drivers do; any bookmark is accepted, in BEGIN and RUN alike */
    begin_with(&c, "engram:1", -1);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    msg(&c, ROLLBACK, 0);
    run_with_extra(&c, "ROWS 1", "bookmarks", "engram:2", true);
    msg(&c, PULL, 1, 1, "n", "#-1");
    exchange(&c);
    REQUIRE(c.reply_count == 8);
    CHECK(reply_tag(&c, 0) == SUCCESS && reply_tag(&c, 4) == SUCCESS && meta(&c, 4, "bookmark") == NULL);
    CHECK(record_int(&c, 6) == 0 && bookmark_number(&c, 7) > commit_bookmark);
    CHECK(calls_were(&rows_calls, 9, CALL_RUN, 0, CALL_BEGIN, 1, CALL_RUN, 1, CALL_RUN, 1, CALL_COMMIT, 1,
                     CALL_BEGIN, 2, CALL_RUN, 2, CALL_ROLLBACK, 2, CALL_RUN, 0));
    disconnect(&c);
}

TEST(reset_goodbye_a_failure_and_the_end_of_the_connection_roll_back) {
    rows_calls = (rows_engine){0};
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 6);
    msg(&c, BEGIN, 1, 0);
    run(&c, "ROWS 3", NULL); /* an open result too */
    exchange(&c);
    msg(&c, RESET, 0);
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS && eg_bolt_session_state(c.session) == EG_BOLT_READY);
    CHECK(calls_were(&rows_calls, 3, CALL_BEGIN, 1, CALL_RUN, 1, CALL_ROLLBACK, 1));
    /* a failing statement ends the transaction at once; the RESET after it has nothing left to roll back */
    msg(&c, BEGIN, 1, 0);
    run(&c, "nonsense", NULL);
    msg(&c, COMMIT, 0);
    exchange(&c);
    REQUIRE(c.reply_count == 3);
    CHECK(reply_tag(&c, 1) == FAILURE && reply_tag(&c, 2) == IGNORED);
    msg(&c, RESET, 0);
    exchange(&c);
    CHECK(calls_were(&rows_calls, 6, CALL_BEGIN, 1, CALL_RUN, 1, CALL_ROLLBACK, 1, CALL_BEGIN, 2, CALL_RUN, 2,
                     CALL_ROLLBACK, 2));
    /* a request the transaction's state refuses */
    msg(&c, BEGIN, 1, 0);
    msg(&c, BEGIN, 1, 0);
    exchange(&c);
    CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Request.Invalid"));
    CHECK(rows_calls.call_count == 8 && rows_calls.calls[7].call == CALL_ROLLBACK && rows_calls.calls[7].tx == 3);
    msg(&c, RESET, 0);
    /* GOODBYE */
    msg(&c, BEGIN, 1, 0);
    exchange(&c);
    msg(&c, GOODBYE, 0);
    exchange(&c);
    CHECK(!c.open);
    CHECK(rows_calls.call_count == 10 && rows_calls.calls[9].call == CALL_ROLLBACK && rows_calls.calls[9].tx == 4);
    disconnect(&c);
    /* a connection that ends (dropped, or the server stopping) with a transaction open */
    connect_authenticated(&c, &config, 5, 6);
    msg(&c, BEGIN, 1, 0);
    exchange(&c);
    disconnect(&c);
    CHECK(rows_calls.call_count == 12 && rows_calls.calls[11].call == CALL_ROLLBACK && rows_calls.calls[11].tx == 5);
}

TEST(a_refused_begin_or_commit_is_a_failure) {
    rows_calls = (rows_engine){.refuse_begin = true};
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 0);
    msg(&c, BEGIN, 1, 0);
    run(&c, "ROWS 1", NULL);
    exchange(&c);
    CHECK(meta_text_is(&c, 0, "code", "Neo.TransientError.Transaction.LockClientStopped"));
    CHECK(reply_tag(&c, 1) == IGNORED && rows_calls.call_count == 0);
    msg(&c, RESET, 0);
    exchange(&c);
    rows_calls = (rows_engine){.refuse_commit = true};
    msg(&c, BEGIN, 1, 0);
    msg(&c, COMMIT, 0);
    exchange(&c);
    CHECK(meta_text_is(&c, 1, "code", "Neo.TransientError.Transaction.Outdated"));
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_FAILED);
    /* commit ended the transaction even though it failed: nothing is rolled back after it */
    msg(&c, RESET, 0);
    exchange(&c);
    disconnect(&c);
    CHECK(calls_were(&rows_calls, 2, CALL_BEGIN, 1, CALL_COMMIT, 1));
}

TEST(stats_come_in_the_last_success_of_a_stream_only) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 6);
    run(&c, "ROWS 3 WRITE", NULL);
    msg(&c, PULL, 1, 1, "n", "#2");
    msg(&c, PULL, 1, 1, "n", "#2");
    exchange(&c);
    REQUIRE(c.reply_count == 6);
    CHECK(meta(&c, 3, "has_more") != NULL && meta(&c, 3, "stats") == NULL);
    const eg_ps_value *stats = meta(&c, 5, "stats");
    REQUIRE(stats != NULL && stats->kind == EG_PS_DICT && stats->as.dict.count == 2);
    CHECK(strcmp(stats->as.dict.entries[0].key, "nodes-created") == 0 &&
          stats->as.dict.entries[0].value.as.integer == 3);
    CHECK(strcmp(stats->as.dict.entries[1].key, "contains-updates") == 0 &&
          stats->as.dict.entries[1].value.as.boolean);
    CHECK(meta_text_is(&c, 5, "type", "w") && meta(&c, 5, "bookmark") != NULL);
    /* in a transaction, ended by DISCARD; and a result without stats has no "stats" */
    msg(&c, BEGIN, 1, 0);
    run(&c, "ROWS 1 WRITE", NULL);
    msg(&c, DISCARD, 1, 1, "n", "#-1");
    run(&c, "ROWS 1", NULL);
    msg(&c, DISCARD, 1, 1, "n", "#-1");
    exchange(&c);
    REQUIRE(c.reply_count == 5);
    CHECK(meta(&c, 2, "stats") != NULL && meta(&c, 2, "bookmark") == NULL);
    CHECK(meta(&c, 4, "stats") == NULL && meta(&c, 4, "type") != NULL);
    disconnect(&c);
}

TEST(a_transaction_past_its_time_is_rolled_back_and_the_next_request_fails) {
    rows_calls = (rows_engine){0};
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    config.tx_timeout_ms = 30;
    client c;
    connect_authenticated(&c, &config, 5, 6);
    CHECK(eg_bolt_session_ms_to_deadline(c.session) == -1);
    msg(&c, BEGIN, 1, 0);
    exchange(&c);
    int64_t left = eg_bolt_session_ms_to_deadline(c.session);
    CHECK(left > 0 && left <= 30);
    sleep_ms(60);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    exchange(&c);
    REQUIRE(c.reply_count == 2);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Transaction.TransactionTimedOut"));
    CHECK(reply_tag(&c, 1) == IGNORED && eg_bolt_session_state(c.session) == EG_BOLT_FAILED);
    CHECK(calls_were(&rows_calls, 2, CALL_BEGIN, 1, CALL_ROLLBACK, 1)); /* the RUN never reached the engine */
    msg(&c, RESET, 0);
    run(&c, "ROWS 1", NULL);
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS && reply_tag(&c, 1) == SUCCESS);
    msg(&c, RESET, 0);
    exchange(&c);

    /* the client's bound, smaller than the setting's, and a silent client: the transport's wake-up rolls back */
    config.tx_timeout_ms = 10000;
    begin_with(&c, "engram:1", 20);
    exchange(&c);
    left = eg_bolt_session_ms_to_deadline(c.session);
    CHECK(left > 0 && left <= 20);
    eg_bolt_session_enforce_deadline(c.session); /* too early: nothing happens */
    CHECK(rows_calls.call_count == 4);
    sleep_ms(40);
    CHECK(eg_bolt_session_ms_to_deadline(c.session) == 0);
    eg_bolt_session_enforce_deadline(c.session);
    CHECK(rows_calls.call_count == 5 && rows_calls.calls[4].call == CALL_ROLLBACK && rows_calls.calls[4].tx == 2);
    CHECK(eg_bolt_session_ms_to_deadline(c.session) == -1);
    msg(&c, COMMIT, 0);
    exchange(&c);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration"));
    CHECK(rows_calls.call_count == 5);
    msg(&c, RESET, 0);
    exchange(&c);

    /* the setting's bound when it is the smaller; no bound when both are 0; a RESET clears a timeout not yet told */
    config.tx_timeout_ms = 20;
    begin_with(&c, "x", 5000);
    exchange(&c);
    left = eg_bolt_session_ms_to_deadline(c.session);
    CHECK(left > 0 && left <= 20);
    sleep_ms(40);
    eg_bolt_session_enforce_deadline(c.session);
    msg(&c, RESET, 0);
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS && eg_bolt_session_state(c.session) == EG_BOLT_READY);
    config.tx_timeout_ms = 0;
    begin_with(&c, "x", 0);
    exchange(&c);
    CHECK(eg_bolt_session_ms_to_deadline(c.session) == -1);
    msg(&c, ROLLBACK, 0);
    exchange(&c);
    begin_with(&c, "x", INT64_MAX); /* taken as some 35 years */
    exchange(&c);
    CHECK(eg_bolt_session_ms_to_deadline(c.session) > (int64_t)1 << 39);
    msg(&c, ROLLBACK, 0);
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS);

    /* tx_timeout must be a count of milliseconds */
    begin_with(&c, "x", -1);
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS);
    msg(&c, ROLLBACK, 0);
    msg(&c, BEGIN, 1, 1, "tx_timeout", "#-5");
    exchange(&c);
    CHECK(meta_text_is(&c, 1, "code", "Neo.ClientError.Request.Invalid"));
    const eg_ps_value *message = meta(&c, 1, "message");
    CHECK(message != NULL && strstr(message->as.text.data, "tx_timeout") != NULL);
    msg(&c, RESET, 0);
    exchange(&c);
    run_with_extra(&c, "ROWS 1", "tx_timeout", "soon", false);
    exchange(&c);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Request.Invalid"));
    disconnect(&c);
}

typedef struct collected_output {
    eg_byte_buffer bytes;
    size_t flushes, largest;
    bool refuse; /* act as a connection that is gone */
} collected_output;

static bool collect_output(void *context, const eg_byte_buffer *out) {
    collected_output *collected = context;
    collected->flushes++;
    if (out->len > collected->largest) collected->largest = out->len;
    return !collected->refuse && eg_byte_buffer_append(&collected->bytes, out->data, out->len, SIZE_MAX);
}

TEST(a_long_pull_is_handed_to_the_transport_in_bounded_pieces) {
    enum { ROW_COUNT = 200000 };
    collected_output collected = {0};
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    config.flush = collect_output;
    config.flush_context = &collected;
    client c;
    connect_authenticated(&c, &config, 5, 6);
    char statement[32];
    snprintf(statement, sizeof statement, "ROWS %d", ROW_COUNT);
    run(&c, statement, NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    eg_byte_buffer out = {0};
    c.open = eg_bolt_session_feed(c.session, (const uint8_t *)c.wire.data, c.wire.len, &out);
    c.wire.len = 0;
    CHECK(c.open);
    /* about 2.4 MB of records went out in pieces of 64 KiB, each at most one record over */
    CHECK(collected.flushes > 30);
    CHECK(collected.largest >= EG_BOLT_FLUSH_BYTES && collected.largest < EG_BOLT_FLUSH_BYTES + 64);
    CHECK(out.len < EG_BOLT_FLUSH_BYTES + 64);
    CHECK(eg_byte_buffer_append(&collected.bytes, out.data, out.len, SIZE_MAX));
    /* together, in order: the RUN's SUCCESS, every record, the last SUCCESS */
    eg_bolt_dechunker d = {.max_message = 1 << 20};
    size_t messages = 0, records = 0;
    int64_t next_expected = 0;
    uint8_t last_tag = 0;
    for (size_t at = 0; at < collected.bytes.len;) {
        size_t used;
        eg_error err;
        REQUIRE(eg_bolt_dechunker_feed(&d, (const uint8_t *)collected.bytes.data + at, collected.bytes.len - at,
                                       &used, &err) == EG_OK);
        at += used;
        if (!d.complete) continue;
        last_tag = (uint8_t)d.message.data[1];
        if (last_tag == RECORD) {
            eg_ps_value record;
            CHECK_OK(eg_ps_decode((const uint8_t *)d.message.data, d.message.len, EG_PS_BOLT_5, true, &record, &err),
                     &err);
            if (record.as.list.items[0].as.list.items[0].as.integer == next_expected) next_expected++;
            eg_ps_value_free(&record);
            records++;
        }
        messages++;
        eg_bolt_dechunker_next(&d);
    }
    eg_bolt_dechunker_free(&d);
    CHECK(records == ROW_COUNT && next_expected == ROW_COUNT && messages == ROW_COUNT + 2 && last_tag == SUCCESS);
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_READY);
    /* a transport that can no longer send ends the session */
    collected.refuse = true;
    run(&c, statement, NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    out.len = 0;
    CHECK(!eg_bolt_session_feed(c.session, (const uint8_t *)c.wire.data, c.wire.len, &out));
    c.wire.len = 0;
    CHECK(eg_bolt_session_state(c.session) == EG_BOLT_DEFUNCT);
    free(out.data);
    free(collected.bytes.data);
    disconnect(&c);
}

static bool holds(const eg_byte_buffer *haystack, const eg_byte_buffer *needle) {
    for (size_t at = 0; at + needle->len <= haystack->len; at++)
        if (memcmp(haystack->data + at, needle->data, needle->len) == 0) return true;
    return false;
}

TEST(graph_values_keep_their_element_ids_in_5_and_lose_them_in_4_4) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    const uint8_t versions[2][2] = {{5, 0}, {4, 4}};
    for (int v = 0; v < 2; v++) {
        const uint8_t *value = v == 0 ? GRAPH_V5 : GRAPH_V4_4;
        size_t value_len = v == 0 ? sizeof GRAPH_V5 : sizeof GRAPH_V4_4;
        eg_byte_buffer record = {0}, framed = {0}, out = {0};
        CHECK(eg_byte_buffer_append(&record, "\xB1\x71\x91", 3, SIZE_MAX)); /* RECORD [value] */
        CHECK(eg_byte_buffer_append(&record, (const char *)value, value_len, SIZE_MAX));
        CHECK(eg_bolt_chunk_message((const uint8_t *)record.data, record.len, &framed, SIZE_MAX));
        client c;
        connect_authenticated(&c, &config, versions[v][0], versions[v][1]);
        run(&c, "GRAPH", NULL);
        msg(&c, PULL, 1, 1, "n", "#-1");
        c.open = eg_bolt_session_feed(c.session, (const uint8_t *)c.wire.data, c.wire.len, &out);
        c.wire.len = 0;
        CHECK(c.open);
        CHECK(holds(&out, &framed));
        /* and it is what that version's decoder takes */
        eg_ps_value decoded;
        eg_error err;
        CHECK_OK(eg_ps_decode(value, value_len, v == 0 ? EG_PS_BOLT_5 : EG_PS_BOLT_4_4, false, &decoded, &err), &err);
        eg_ps_value_free(&decoded);
        free(record.data);
        free(framed.data);
        free(out.data);
        disconnect(&c);
    }
}

/* ---- Bolt 5.7 and 5.8 ---- */

/* FAILURE's metadata i as a GQL status object: neo4j_code, message, gql_status, description and the
 * diagnostic_record (its standard fields at their defaults and the classification), in that order, and no `code`,
 * which 5.7 renamed. */
static bool is_gql_failure(const client *c, size_t i, const char *neo4j_code, const char *gql_status,
                           const char *classification) {
    static const char *const keys[] = {"neo4j_code", "message", "gql_status", "description", "diagnostic_record"};
    if (reply_tag(c, i) != FAILURE) return false;
    const eg_ps_value *d = &c->replies[i].as.list.items[0];
    if (d->kind != EG_PS_DICT || d->as.dict.count != 5) return false;
    for (size_t k = 0; k < 5; k++)
        if (strcmp(d->as.dict.entries[k].key, keys[k]) != 0) return false;
    const eg_ps_value *record = meta(c, i, "diagnostic_record");
    if (record->kind != EG_PS_DICT || record->as.dict.count != 4) return false;
    const eg_ps_entry *r = record->as.dict.entries;
    const eg_ps_value *description = meta(c, i, "description");
    return meta_text_is(c, i, "neo4j_code", neo4j_code) && meta_text_is(c, i, "gql_status", gql_status) &&
           description->kind == EG_PS_STRING && strncmp(description->as.text.data, "error: ", 7) == 0 &&
           strcmp(r[0].key, "OPERATION") == 0 && strcmp(r[0].value.as.text.data, "") == 0 &&
           strcmp(r[1].key, "OPERATION_CODE") == 0 && strcmp(r[1].value.as.text.data, "0") == 0 &&
           strcmp(r[2].key, "CURRENT_SCHEMA") == 0 && strcmp(r[2].value.as.text.data, "/") == 0 &&
           strcmp(r[3].key, "_classification") == 0 && strcmp(r[3].value.as.text.data, classification) == 0;
}

/* The framed FAILURE a 5.7 client gets for PULL in READY:
 * FAILURE {neo4j_code: "Neo.ClientError.Request.Invalid",
 *          message: "Message PULL cannot be handled by a session in the READY state.", gql_status: "08N10",
 *          description: "error: connection exception - invalid server state",
 *          diagnostic_record: {OPERATION: "", OPERATION_CODE: "0", CURRENT_SCHEMA: "/",
 *                              _classification: "CLIENT_ERROR"}}
 * written out by hand from the PackStream specification, so that the writer is not checked against itself. */
static const uint8_t PULL_IN_READY_5_7[] = {
    0x01, 0x27, 0xB1, 0x7F, 0xA5, 0x8A, 0x6E, 0x65, 0x6F, 0x34, 0x6A, 0x5F, 0x63, 0x6F, 0x64, 0x65,
    0xD0, 0x1F, 0x4E, 0x65, 0x6F, 0x2E, 0x43, 0x6C, 0x69, 0x65, 0x6E, 0x74, 0x45, 0x72, 0x72, 0x6F,
    0x72, 0x2E, 0x52, 0x65, 0x71, 0x75, 0x65, 0x73, 0x74, 0x2E, 0x49, 0x6E, 0x76, 0x61, 0x6C, 0x69,
    0x64, 0x87, 0x6D, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0xD0, 0x3F, 0x4D, 0x65, 0x73, 0x73, 0x61,
    0x67, 0x65, 0x20, 0x50, 0x55, 0x4C, 0x4C, 0x20, 0x63, 0x61, 0x6E, 0x6E, 0x6F, 0x74, 0x20, 0x62,
    0x65, 0x20, 0x68, 0x61, 0x6E, 0x64, 0x6C, 0x65, 0x64, 0x20, 0x62, 0x79, 0x20, 0x61, 0x20, 0x73,
    0x65, 0x73, 0x73, 0x69, 0x6F, 0x6E, 0x20, 0x69, 0x6E, 0x20, 0x74, 0x68, 0x65, 0x20, 0x52, 0x45,
    0x41, 0x44, 0x59, 0x20, 0x73, 0x74, 0x61, 0x74, 0x65, 0x2E, 0x8A, 0x67, 0x71, 0x6C, 0x5F, 0x73,
    0x74, 0x61, 0x74, 0x75, 0x73, 0x85, 0x30, 0x38, 0x4E, 0x31, 0x30, 0x8B, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x69, 0x70, 0x74, 0x69, 0x6F, 0x6E, 0xD0, 0x32, 0x65, 0x72, 0x72, 0x6F, 0x72, 0x3A, 0x20,
    0x63, 0x6F, 0x6E, 0x6E, 0x65, 0x63, 0x74, 0x69, 0x6F, 0x6E, 0x20, 0x65, 0x78, 0x63, 0x65, 0x70,
    0x74, 0x69, 0x6F, 0x6E, 0x20, 0x2D, 0x20, 0x69, 0x6E, 0x76, 0x61, 0x6C, 0x69, 0x64, 0x20, 0x73,
    0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x73, 0x74, 0x61, 0x74, 0x65, 0xD0, 0x11, 0x64, 0x69, 0x61,
    0x67, 0x6E, 0x6F, 0x73, 0x74, 0x69, 0x63, 0x5F, 0x72, 0x65, 0x63, 0x6F, 0x72, 0x64, 0xA4, 0x89,
    0x4F, 0x50, 0x45, 0x52, 0x41, 0x54, 0x49, 0x4F, 0x4E, 0x80, 0x8E, 0x4F, 0x50, 0x45, 0x52, 0x41,
    0x54, 0x49, 0x4F, 0x4E, 0x5F, 0x43, 0x4F, 0x44, 0x45, 0x81, 0x30, 0x8E, 0x43, 0x55, 0x52, 0x52,
    0x45, 0x4E, 0x54, 0x5F, 0x53, 0x43, 0x48, 0x45, 0x4D, 0x41, 0x81, 0x2F, 0x8F, 0x5F, 0x63, 0x6C,
    0x61, 0x73, 0x73, 0x69, 0x66, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6F, 0x6E, 0x8C, 0x43, 0x4C, 0x49,
    0x45, 0x4E, 0x54, 0x5F, 0x45, 0x52, 0x52, 0x4F, 0x52, 0x00, 0x00,
};

TEST(failure_in_5_7_is_a_gql_status_object_byte_for_byte) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 7);
    msg(&c, PULL, 1, 1, "n", "#-1");
    eg_byte_buffer out = {0};
    CHECK(eg_bolt_session_feed(c.session, (const uint8_t *)c.wire.data, c.wire.len, &out));
    c.wire.len = 0;
    REQUIRE(out.len == sizeof PULL_IN_READY_5_7);
    CHECK(memcmp(out.data, PULL_IN_READY_5_7, sizeof PULL_IN_READY_5_7) == 0);
    free(out.data);
    disconnect(&c);
}

TEST(failures_in_5_8_carry_the_gqlstatus_of_their_neo4j_code) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 8);
    run(&c, "MATCH (n) RETURN n", NULL);
    exchange(&c);
    CHECK(is_gql_failure(&c, 0, "Neo.ClientError.Statement.SyntaxError", "42001", "CLIENT_ERROR"));
    CHECK(meta_text_is(&c, 0, "message", "not ROWS"));
    CHECK(meta(&c, 0, "code") == NULL && meta(&c, 0, "cause") == NULL);
    msg(&c, RESET, 0);
    exchange(&c);
    run(&c, "PARAM missing", NULL);
    exchange(&c);
    CHECK(is_gql_failure(&c, 0, "Neo.ClientError.Statement.ParameterMissing", "42N51", "CLIENT_ERROR"));
    msg(&c, RESET, 0);
    exchange(&c);
    msg(&c, BEGIN, 1, 1, "db", "other");
    exchange(&c);
    CHECK(is_gql_failure(&c, 0, "Neo.ClientError.Database.DatabaseNotFound", "22N51", "CLIENT_ERROR"));
    msg(&c, RESET, 0);
    exchange(&c);
    msg(&c, COMMIT, 0); /* a request the state does not take */
    exchange(&c);
    CHECK(is_gql_failure(&c, 0, "Neo.ClientError.Request.Invalid", "08N10", "CLIENT_ERROR"));
    msg(&c, RESET, 0);
    run(&c, "ROWS 2", NULL);
    msg(&c, PULL, 1, 1, "n", "#0"); /* a malformed request */
    exchange(&c);
    CHECK(reply_tag(&c, 1) == SUCCESS);
    CHECK(is_gql_failure(&c, 2, "Neo.ClientError.Request.Invalid", "08N06", "CLIENT_ERROR"));
    msg(&c, RESET, 0);
    exchange(&c);
    /* a code without an entry of its own: Neo4j's default 50N42, classified by the code's class */
    rows_calls.refuse_begin = true;
    msg(&c, BEGIN, 1, 0);
    exchange(&c);
    rows_calls.refuse_begin = false;
    CHECK(is_gql_failure(&c, 0, "Neo.TransientError.Transaction.LockClientStopped", "50N42", "TRANSIENT_ERROR"));
    disconnect(&c);
}

TEST(a_5_6_client_keeps_the_failure_with_code) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 6);
    run(&c, "MATCH (n) RETURN n", NULL);
    exchange(&c);
    REQUIRE(reply_tag(&c, 0) == FAILURE);
    CHECK(c.replies[0].as.list.items[0].as.dict.count == 2);
    CHECK(meta_text_is(&c, 0, "code", "Neo.ClientError.Statement.SyntaxError"));
    CHECK(meta(&c, 0, "gql_status") == NULL && meta(&c, 0, "neo4j_code") == NULL);
    disconnect(&c);
}

TEST(wrong_password_in_5_8_is_a_gql_failure_that_closes) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c = {.session = eg_bolt_session_new(&config, 9), .open = true};
    shake_hands(&c, 5, 8);
    msg(&c, HELLO, 1, 1, "user_agent", "test/1");
    msg(&c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "wrong");
    exchange(&c);
    CHECK(!c.open);
    CHECK(is_gql_failure(&c, 1, "Neo.ClientError.Security.Unauthorized", "42NFF", "CLIENT_ERROR"));
    disconnect(&c);
}

TEST(hello_names_the_version_only_after_the_manifest_and_logon_the_address_from_5_8) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c = {.session = eg_bolt_session_new(&config, 3), .open = true};
    const uint8_t opening[20] = {0x60, 0x60, 0xB0, 0x17, 0, 0, 1, 0xFF, 0, 8, 8, 5, 0, 2, 4, 4};
    eg_byte_buffer manifest = {0};
    eg_bolt_session_feed(c.session, opening, 20, &manifest);
    REQUIRE(manifest.len == 14);
    CHECK(memcmp(manifest.data + 4, "\x02\x00\x08\x08\x05\x00\x00\x04\x04\x00", 10) == 0);
    free(manifest.data);
    CHECK(eg_byte_buffer_append(&c.wire, "\x00\x00\x08\x05\x00", 5, SIZE_MAX)); /* the client picks 5.8 */
    msg(&c, HELLO, 1, 1, "user_agent", "t");
    msg(&c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "secret");
    exchange(&c);
    REQUIRE(c.reply_count == 2);
    CHECK(meta_text_is(&c, 0, "protocol_version", "5.8"));
    CHECK(meta_text_is(&c, 1, "advertised_address", "127.0.0.1:7687"));
    disconnect(&c);
    /* a plain handshake agreed 5.8 without the manifest: HELLO does not repeat it */
    c = (client){.session = eg_bolt_session_new(&config, 4), .open = true};
    shake_hands(&c, 5, 8);
    msg(&c, HELLO, 1, 1, "user_agent", "t");
    msg(&c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "secret");
    exchange(&c);
    CHECK(reply_tag(&c, 0) == SUCCESS && meta(&c, 0, "protocol_version") == NULL);
    disconnect(&c);
    /* 5.7: no advertised_address in LOGON's SUCCESS */
    c = (client){.session = eg_bolt_session_new(&config, 5), .open = true};
    shake_hands(&c, 5, 7);
    msg(&c, HELLO, 1, 1, "user_agent", "t");
    msg(&c, LOGON, 1, 3, "scheme", "basic", "principal", "neo4j", "credentials", "secret");
    exchange(&c);
    CHECK(reply_tag(&c, 1) == SUCCESS && c.replies[1].as.list.items[0].as.dict.count == 0);
    disconnect(&c);
}

TEST(begin_and_auto_commit_run_name_the_home_database_in_5_8_when_none_is_given) {
    eg_bolt_session_config config = config_with(&ROWS_ENGINE);
    client c;
    connect_authenticated(&c, &config, 5, 8);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    run(&c, "ROWS 1", "neo4j");
    msg(&c, PULL, 1, 1, "n", "#-1");
    msg(&c, BEGIN, 1, 0);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    msg(&c, ROLLBACK, 0);
    msg(&c, BEGIN, 1, 1, "db", "neo4j");
    msg(&c, ROLLBACK, 0);
    exchange(&c);
    REQUIRE(c.reply_count == 13);
    CHECK(meta_text_is(&c, 0, "db", "neo4j"));        /* RUN without db */
    CHECK(meta(&c, 3, "db") == NULL);                 /* RUN naming it */
    CHECK(meta_text_is(&c, 6, "db", "neo4j"));        /* BEGIN without db */
    CHECK(meta(&c, 7, "db") == NULL);                 /* RUN in the transaction */
    CHECK(meta(&c, 11, "db") == NULL);                /* BEGIN naming it */
    disconnect(&c);
    /* 5.7 has no home-database resolution */
    connect_authenticated(&c, &config, 5, 7);
    run(&c, "ROWS 1", NULL);
    msg(&c, PULL, 1, 1, "n", "#-1");
    msg(&c, BEGIN, 1, 0);
    exchange(&c);
    REQUIRE(c.reply_count == 4);
    CHECK(meta(&c, 0, "db") == NULL && meta(&c, 3, "db") == NULL);
    disconnect(&c);
}

int main(void) {
    RUN(hello_with_auth_in_4_4_and_5_0_reports_a_neo4j_agent);
    RUN(wrong_password_is_unauthorized_and_closes);
    RUN(wrong_user_and_scheme_none_are_refused_when_a_password_is_set);
    RUN(without_a_password_loopback_is_accepted_and_others_refused);
    RUN(run_a_statement_and_a_parameter);
    RUN(a_failed_statement_then_everything_is_ignored_until_reset);
    RUN(missing_parameter_and_unknown_database_fail);
    RUN(pull_and_discard_page_with_n_and_has_more);
    RUN(transaction_streams_are_named_by_qid);
    RUN(requests_in_states_that_do_not_take_them);
    RUN(messages_of_later_versions_break_the_protocol);
    RUN(route_names_this_server_in_every_role);
    RUN(telemetry_logoff_and_goodbye);
    RUN(manifest_handshake_then_hello_in_one_buffer_byte_by_byte_with_noops);
    RUN(refused_handshake_and_oversized_message_close);
    RUN(a_message_that_is_not_packstream_breaks_the_protocol);
    RUN(a_refusing_session_answers_hello_with_its_failure);
    RUN(each_run_gets_its_transaction_and_commit_and_rollback_end_it);
    RUN(reset_goodbye_a_failure_and_the_end_of_the_connection_roll_back);
    RUN(a_refused_begin_or_commit_is_a_failure);
    RUN(stats_come_in_the_last_success_of_a_stream_only);
    RUN(a_transaction_past_its_time_is_rolled_back_and_the_next_request_fails);
    RUN(a_long_pull_is_handed_to_the_transport_in_bounded_pieces);
    RUN(graph_values_keep_their_element_ids_in_5_and_lose_them_in_4_4);
    RUN(failure_in_5_7_is_a_gql_status_object_byte_for_byte);
    RUN(failures_in_5_8_carry_the_gqlstatus_of_their_neo4j_code);
    RUN(a_5_6_client_keeps_the_failure_with_code);
    RUN(wrong_password_in_5_8_is_a_gql_failure_that_closes);
    RUN(hello_names_the_version_only_after_the_manifest_and_logon_the_address_from_5_8);
    RUN(begin_and_auto_commit_run_name_the_home_database_in_5_8_when_none_is_given);
    return test_summary();
}
