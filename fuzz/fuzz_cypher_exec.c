/* fuzz_cypher_exec.c — Cypher from parse to result (src/cypher/: the parser, then the executor over the graph), as
 * a Bolt client's RUN reaches it: the input is the statement's text, run with a fixed set of parameters on a small
 * graph of Entities, Episodes, Contacts and their relationships, in the open schema (so that every label and type
 * is accepted and the write paths are reached).
 *
 * Each input runs inside a graph transaction that is rolled back, so every input sees the same graph and one
 * input's writes cannot grow the store for the next. A statement either succeeds, with records as wide as its
 * columns and stats a dictionary, or fails with a Neo4j client or transient code and a UTF-8 message; a
 * Neo.DatabaseError (the executor's "cannot happen") is a finding. */
#define _GNU_SOURCE /* fuzz_scratch.h: nftw, mkdtemp */
#include <engram/engram.h>

#include "cypher/cypher.h"
#include "fuzz_scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static eg_db *db;
static eg_ps_value parameters;

static void close_db(void) {
    eg_ps_value_free(&parameters);
    eg_close(db);
    db = NULL;
}

static void run_or_die(const char *text) {
    cy_statement *statement;
    eg_bolt_failure failure;
    eg_bolt_result result = {0};
    if (!cy_parse(text, strlen(text), &statement, &failure) ||
        !cy_execute(statement, eg_db_graph(db), &parameters, 1700000000000, &result, &failure)) {
        fprintf(stderr, "fuzz_cypher_exec: %s: %s %s\n", text, failure.code, failure.message);
        abort();
    }
    cy_statement_free(statement);
    eg_bolt_result_free(&result);
}

/* The parameters every input gets: one of each kind a client sends, named as the seeds use them. */
static void make_parameters(void) {
    static const char encoded[] = {
        (char)0xA6,                                     /* a dictionary of 6 */
        (char)0x82, 'i', 'd', (char)0x82, 'e', '1',     /* id: "e1" */
        (char)0x81, 'x', 0x07,                          /* x: 7 */
        (char)0x81, 'f', (char)0xC1, 0x3F, (char)0xE0, 0, 0, 0, 0, 0, 0, /* f: 0.5 */
        (char)0x84, 'l', 'i', 's', 't', (char)0x93, 1, 2, 3, /* list: [1, 2, 3] */
        (char)0x83, 'm', 'a', 'p', (char)0xA1, (char)0x81, 'k', (char)0x81, 'v', /* map: {k: "v"} */
        (char)0x84, 'r', 'e', 'l', 's', (char)0x91, (char)0xA3, /* rels: [{source_id, target_id, props}] */
        (char)0x89, 's', 'o', 'u', 'r', 'c', 'e', '_', 'i', 'd', (char)0x82, 'e', '1',
        (char)0x89, 't', 'a', 'r', 'g', 'e', 't', '_', 'i', 'd', (char)0x82, 'e', '2',
        (char)0x85, 'p', 'r', 'o', 'p', 's', (char)0xA1, (char)0x86, 'w', 'e', 'i', 'g', 'h', 't', 0x01,
    };
    eg_error err;
    if (eg_ps_decode((const uint8_t *)encoded, sizeof encoded, EG_PS_BOLT_5, false, &parameters, &err) != EG_OK) {
        fprintf(stderr, "fuzz_cypher_exec: parameters: %s\n", err.message);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    static char data_dir[4200];
    snprintf(data_dir, sizeof data_dir, "%s/data", fuzz_scratch("cypher_exec")); /* removed at exit */
    const char *const settings[] = {"graph.schema=open"};
    eg_options options = {.durability = EG_DURABILITY_NONE, .settings = settings, .setting_count = 1};
    eg_error err;
    if (eg_open(data_dir, &options, &db, &err) != EG_OK) {
        fprintf(stderr, "fuzz_cypher_exec: eg_open: %s\n", err.message);
        abort();
    }
    atexit(close_db);
    make_parameters();
    run_or_die("UNWIND range(1, 12) AS i CREATE (:Entity {id: 'e' + i, name: 'entity ' + i, sessionId: 's' + (i % 3), "
               "weight: i * 0.25, tags: ['a', 'b']})");
    run_or_die("UNWIND range(1, 6) AS i CREATE (:Episode {id: 'ep' + i, timestamp: 1700000000000 + i})");
    run_or_die("CREATE (:Contact {id: 'c1', name: 'Ada Lovelace', organization: 'Analytical'})");
    run_or_die("MATCH (a:Entity), (b:Entity) WHERE a.weight < b.weight AND b.weight - a.weight <= 0.5 "
               "CREATE (a)-[:RELATES_TO {weight: 0.5, lastAccessed: 1690000000000}]->(b)");
    run_or_die("MATCH (e:Episode), (n:Entity {id: 'e1'}) CREATE (e)-[:HAS_CONTEXT]->(n)");
    run_or_die("MATCH (c {id: 'c1'}), (e {id: 'ep1'}) CREATE (c)-[:ATTENDS {role: 'host'}]->(e)");
    return 0;
}

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cy_statement *statement = NULL;
    eg_bolt_failure failure = {{0}, {0}};
    if (!cy_parse((const char *)data, size, &statement, &failure)) {
        if (!eg_ps_utf8_valid(failure.message, strlen(failure.message))) abort();
        return 0;
    }
    eg_graph *tx;
    eg_error err;
    if (eg_graph_begin(eg_db_graph(db), &tx, &err) != EG_OK) abort();
    eg_bolt_result result = {0};
    if (cy_execute(statement, tx, &parameters, 1700000000000, &result, &failure)) {
        if (result.fields.kind != EG_PS_LIST || result.records.kind != EG_PS_LIST) abort();
        for (size_t i = 0; i < result.records.as.list.count; i++) {
            const eg_ps_value *record = &result.records.as.list.items[i];
            if (record->kind != EG_PS_LIST || record->as.list.count != result.fields.as.list.count) abort();
        }
        if (result.stats.kind != EG_PS_NULL && result.stats.kind != EG_PS_DICT) abort();
        eg_bolt_result_free(&result);
    } else {
        bool expected = starts_with(failure.code, "Neo.ClientError.") || starts_with(failure.code, "Neo.TransientError.");
        if (!expected || !eg_ps_utf8_valid(failure.message, strlen(failure.message))) {
            fprintf(stderr, "fuzz_cypher_exec: %s: %s\n", failure.code, failure.message);
            abort();
        }
    }
    eg_graph_rollback(tx);
    cy_statement_free(statement);
    return 0;
}
