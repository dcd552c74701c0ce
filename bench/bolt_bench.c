/* bolt_bench.c — what Bolt costs over calling the graph in-process: a minimal Bolt client in C (one TCP connection
 * over loopback, handshake 5.x, HELLO / LOGON, RUN + PULL, BEGIN / COMMIT, built on the project's PackStream writer
 * and decoder and its chunking) against a Bolt listener started in this process over a scratch data folder and the
 * Cypher statement engine, next to the same work through the C graph API on the same graph.
 *
 * The graph: NODES Entity nodes e0 .. e(NODES-1), each with a `name`, and two relationships made by each node:
 * e(i) -RELATES_TO-> e(i+1) and e(i) -SIMILAR_TO-> e((31 i + 7) mod NODES), so a node has about four.
 * Workloads, each with parameters, by one client, one request after the other:
 *   get_node  MATCH (n:Entity {id: $id}) RETURN n                    / eg_graph_get_node(id, Entity)
 *   expand    MATCH (n {id: $id})-[r]-(m) RETURN type(r), m.id       / eg_graph_get_relationships(id, any, both)
 *   create    BEGIN; CREATE (m:Episode {id: $id, text: $text});      / eg_graph_begin, create_node,
 *             MATCH (m {id: $id}), (a {id: $a}), (b {id: $b})          create_relationship twice, commit
 *             CREATE (m)-[:RELATES_TO]->(a), (m)-[:TEMPORAL_BEFORE]->(b); COMMIT
 *   floor     RETURN 1 AS n over Bolt only: the protocol's round trip with next to no statement work.
 * Each workload also runs through the Cypher statement engine called in-process (via=cypher: the
 * table Bolt sessions call, with the same statements, parameters and transactions, and no protocol), which splits
 * Bolt's cost into the executor's and the protocol's.
 * The Bolt transaction takes three round trips, as a driver's does: BEGIN pipelined with the first RUN + PULL,
 * then the second RUN + PULL, then COMMIT. Every Bolt record is decoded, as a driver would.
 *
 * Each figure runs for SECONDS; the Bolt, Cypher and in-process figures of a workload alternate, RUNS times, and
 * the run with the most operations per second is reported, with its latency p50 / p99 (µs). Then the ratios Bolt
 * over in-process: p50, p99, and in-process throughput over Bolt throughput; and the same for Cypher over
 * in-process. There is no peer: nothing in shared/bench serves Bolt (there is no Neo4j here), so the ratios
 * compare engram over Bolt with engram in-process, in the same run. The graph is opened without fsync (no_sync)
 * for every path: the figures measure the protocol and the executor, not the disk.
 *
 * usage: bolt_bench [--nodes N] [--seconds S] [--runs R]
 * Defaults: 10000 nodes, 0.5 s per figure, 3 runs. Prints key=value lines. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include "bolt/chunking.h"
#include "bolt/cypher_statements.h"
#include "bolt/handshake.h"
#include "bolt/listener.h"
#include "bolt/packstream.h"

#include <engram/graph.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOAD_BATCH 1000
#define BOLT_MSG_HELLO 0x01
#define BOLT_MSG_GOODBYE 0x02
#define BOLT_MSG_RUN 0x10
#define BOLT_MSG_BEGIN 0x11
#define BOLT_MSG_COMMIT 0x12
#define BOLT_MSG_PULL 0x3F
#define BOLT_MSG_LOGON 0x6A
#define BOLT_MSG_SUCCESS 0x70
#define BOLT_MSG_RECORD 0x71
#define BOLT_MSG_IGNORED 0x7E
#define BOLT_MSG_FAILURE 0x7F

static const char GET_NODE_CYPHER[] = "MATCH (n:Entity {id: $id}) RETURN n";
static const char EXPAND_CYPHER[] = "MATCH (n {id: $id})-[r]-(m) RETURN type(r), m.id";
static const char CREATE_NODE_CYPHER[] = "CREATE (m:Episode {id: $id, text: $text})";
static const char CREATE_RELS_CYPHER[] = "MATCH (m {id: $id}), (a {id: $a}), (b {id: $b}) "
                                         "CREATE (m)-[:RELATES_TO]->(a), (m)-[:TEMPORAL_BEFORE]->(b)";
static const char FLOOR_CYPHER[] = "RETURN 1 AS n";
static const char MEMORY_TEXT[] = "the agent noticed that the build cache was cold after the merge";

typedef struct config {
    size_t nodes;
    double seconds;
    unsigned runs;
} config;

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bolt_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* xorshift64*: the ids a workload asks for. */
static size_t random_index(uint64_t *state, size_t n) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (size_t)((*state * 0x2545f4914f6cdd1dULL) >> 11) % n;
}

static void entity_id(char *out, size_t cap, size_t i) { snprintf(out, cap, "e%zu", i); }

/* ---- the graph --------------------------------------------------------------------------------------------------- */

static size_t similar_target(size_t i, size_t nodes) { return (31 * i + 7) % nodes; }

static void load_graph(eg_graph *g, size_t nodes, size_t *relationships) {
    eg_error err;
    char(*ids)[24] = malloc(LOAD_BATCH * sizeof *ids);
    char(*targets)[2][24] = malloc(LOAD_BATCH * sizeof *targets);
    eg_node_spec *node_specs = malloc(LOAD_BATCH * sizeof *node_specs);
    eg_relationship_spec *rel_specs = malloc(LOAD_BATCH * sizeof *rel_specs);
    json_t **props = calloc(LOAD_BATCH, sizeof *props);
    if (!ids || !targets || !node_specs || !rel_specs || !props) die("out of memory", NULL);
    for (size_t first = 0; first < nodes; first += LOAD_BATCH) {
        size_t count = nodes - first < LOAD_BATCH ? nodes - first : LOAD_BATCH;
        for (size_t k = 0; k < count; k++) {
            entity_id(ids[k], sizeof ids[k], first + k);
            props[k] = json_pack("{s:s+}", "name", "entity ", ids[k]);
            node_specs[k] = (eg_node_spec){EG_LABEL_ENTITY, ids[k], props[k]};
        }
        if (eg_graph_batch_create_nodes(g, node_specs, count, &err) != EG_OK) die("loading nodes", err.message);
        for (size_t k = 0; k < count; k++) json_decref(props[k]);
    }
    *relationships = 0;
    /* Two relationships per node: half as many nodes per batch. */
    for (size_t first = 0; first < nodes; first += LOAD_BATCH / 2) {
        size_t count = nodes - first < LOAD_BATCH / 2 ? nodes - first : LOAD_BATCH / 2, n = 0;
        for (size_t k = 0; k < count; k++) {
            size_t i = first + k, next = (i + 1) % nodes, similar = similar_target(i, nodes);
            entity_id(ids[k], sizeof ids[k], i);
            entity_id(targets[k][0], sizeof targets[k][0], next);
            entity_id(targets[k][1], sizeof targets[k][1], similar);
            if (next != i) rel_specs[n++] = (eg_relationship_spec){ids[k], targets[k][0], EG_REL_RELATES_TO, NULL};
            if (similar != i) rel_specs[n++] = (eg_relationship_spec){ids[k], targets[k][1], EG_REL_SIMILAR_TO, NULL};
        }
        if (eg_graph_batch_create_relationships(g, rel_specs, n, &err) != EG_OK)
            die("loading relationships", err.message);
        *relationships += n;
    }
    free(ids);
    free(targets);
    free(node_specs);
    free(rel_specs);
    free(props);
}

/* ---- the Bolt client --------------------------------------------------------------------------------------------- */

typedef struct bolt_client {
    int fd;
    eg_byte_buffer out;        /* chunked messages waiting to be sent */
    eg_bolt_dechunker in;      /* the answer being reassembled */
    uint8_t received[1 << 16]; /* bytes read and not yet fed */
    size_t received_at, received_len;
    size_t records; /* RECORDs read since the last summary */
} bolt_client;

static void send_all(int fd, const void *bytes, size_t len) {
    const char *p = bytes;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("send", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

static void read_exactly(int fd, void *bytes, size_t len) {
    char *p = bytes;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("recv", n == 0 ? "the server closed the connection" : strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

/* Queues the message w holds (chunked) and resets w for the next. */
static void queue_message(bolt_client *c, eg_ps_writer *w) {
    eg_error err;
    if (eg_ps_writer_status(w, &err) != EG_OK) die("encoding a message", err.message);
    if (!eg_bolt_chunk_message((const uint8_t *)w->out.data, w->out.len, &c->out, EG_PS_MAX_MESSAGE_BYTES))
        die("chunking a message", NULL);
    w->out.len = 0;
}

static void flush_messages(bolt_client *c) {
    send_all(c->fd, c->out.data, c->out.len);
    c->out.len = 0;
}

static void write_string(eg_ps_writer *w, const char *s) { eg_ps_write_string(w, s, strlen(s)); }

/* RUN statement with parameters (name, string value) pairs, then PULL all. */
static void queue_run_pull(bolt_client *c, eg_ps_writer *w, const char *statement, size_t parameter_count,
                           const char *const *names, const char *const *values) {
    eg_ps_write_struct_header(w, BOLT_MSG_RUN, 3);
    write_string(w, statement);
    eg_ps_write_dict_header(w, parameter_count);
    for (size_t i = 0; i < parameter_count; i++) {
        write_string(w, names[i]);
        write_string(w, values[i]);
    }
    eg_ps_write_dict_header(w, 0);
    queue_message(c, w);
    eg_ps_write_struct_header(w, BOLT_MSG_PULL, 1);
    eg_ps_write_dict_header(w, 1);
    write_string(w, "n");
    eg_ps_write_int(w, -1);
    queue_message(c, w);
}

static void queue_empty_dict_message(bolt_client *c, eg_ps_writer *w, uint8_t tag) {
    eg_ps_write_struct_header(w, tag, 1);
    eg_ps_write_dict_header(w, 0);
    queue_message(c, w);
}

/* Reads one whole message and decodes it into *message (a structure). */
static void read_message(bolt_client *c, eg_ps_value *message) {
    eg_error err;
    while (!c->in.complete) {
        if (c->received_at == c->received_len) {
            ssize_t n;
            do n = recv(c->fd, c->received, sizeof c->received, 0);
            while (n < 0 && errno == EINTR);
            if (n <= 0) die("recv", n == 0 ? "the server closed the connection" : strerror(errno));
            c->received_at = 0;
            c->received_len = (size_t)n;
        }
        size_t used;
        if (eg_bolt_dechunker_feed(&c->in, c->received + c->received_at, c->received_len - c->received_at, &used,
                                   &err) != EG_OK)
            die("reading an answer", err.message);
        c->received_at += used;
    }
    if (eg_ps_decode((const uint8_t *)c->in.message.data, c->in.message.len, EG_PS_BOLT_5, true, message, &err) !=
        EG_OK)
        die("decoding an answer", err.message);
    eg_bolt_dechunker_next(&c->in);
    if (message->kind != EG_PS_STRUCT) die("an answer that is not a structure", NULL);
}

static const char *failure_text(const eg_ps_value *message) {
    if (message->as.list.count < 1 || message->as.list.items[0].kind != EG_PS_DICT) return "(no metadata)";
    const eg_ps_value *meta = &message->as.list.items[0];
    for (size_t i = 0; i < meta->as.dict.count; i++)
        if (strcmp(meta->as.dict.entries[i].key, "message") == 0 &&
            meta->as.dict.entries[i].value.kind == EG_PS_STRING)
            return meta->as.dict.entries[i].value.as.text.data;
    return "(no message)";
}

/* Reads answers up to the next SUCCESS, counting RECORDs into c->records; a FAILURE or IGNORED ends the bench. */
static void expect_success(bolt_client *c, const char *request) {
    for (;;) {
        eg_ps_value message;
        read_message(c, &message);
        uint8_t tag = message.as.list.tag;
        if (tag == BOLT_MSG_RECORD) {
            c->records++;
        } else if (tag != BOLT_MSG_SUCCESS) {
            fprintf(stderr, "bolt_bench: %s: %s: %s\n", request, tag == BOLT_MSG_FAILURE ? "FAILURE" : "IGNORED",
                    tag == BOLT_MSG_FAILURE ? failure_text(&message) : "");
            exit(1);
        }
        eg_ps_value_free(&message);
        if (tag == BOLT_MSG_SUCCESS) return;
    }
}

/* Connects, agrees a 5.x version, HELLO and (5.1+) LOGON with no credentials (the listener has no password and the
 * client is on loopback). */
static void bolt_connect(bolt_client *c, uint16_t port) {
    memset(c, 0, sizeof *c);
    c->in.max_message = EG_PS_MAX_MESSAGE_BYTES;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) die("socket", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect", strerror(errno));
    /* The preamble, then one proposal: 5.6 with the 6 minors below it (5.0 .. 5.6), and three empty ones. */
    const uint8_t handshake[20] = {0x60, 0x60, 0xB0, 0x17, 0, EG_BOLT_MAX_5_MINOR, EG_BOLT_MAX_5_MINOR, 5};
    send_all(c->fd, handshake, sizeof handshake);
    uint8_t agreed[4];
    read_exactly(c->fd, agreed, sizeof agreed);
    if (agreed[3] != 5) die("handshake", "the server agreed no 5.x version");
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, BOLT_MSG_HELLO, 1);
    eg_ps_write_dict_header(&w, 2);
    write_string(&w, "user_agent");
    write_string(&w, "engram-bolt-bench/1");
    write_string(&w, "bolt_agent");
    eg_ps_write_dict_header(&w, 1);
    write_string(&w, "product");
    write_string(&w, "engram-bolt-bench/1");
    queue_message(c, &w);
    if (agreed[2] >= 1) {
        eg_ps_write_struct_header(&w, BOLT_MSG_LOGON, 1);
        eg_ps_write_dict_header(&w, 1);
        write_string(&w, "scheme");
        write_string(&w, "none");
        queue_message(c, &w);
    }
    flush_messages(c);
    expect_success(c, "HELLO");
    if (agreed[2] >= 1) expect_success(c, "LOGON");
    free(w.out.data);
}

static void bolt_close(bolt_client *c) {
    uint8_t goodbye[] = {0x00, 0x02, 0xB0, BOLT_MSG_GOODBYE, 0x00, 0x00};
    send_all(c->fd, goodbye, sizeof goodbye);
    close(c->fd);
    free(c->out.data);
    eg_bolt_dechunker_free(&c->in);
}

/* ---- the workloads ----------------------------------------------------------------------------------------------- */

typedef enum workload { GET_NODE, EXPAND, CREATE, FLOOR, WORKLOAD_COUNT } workload;
static const char *const WORKLOAD_NAMES[WORKLOAD_COUNT] = {"get_node", "expand", "create", "floor"};

typedef struct bench {
    const config *cfg;
    eg_graph *graph;
    const eg_bolt_statements *engine;
    bolt_client client;
    eg_ps_writer writer;
    uint64_t random;
    unsigned long long created; /* memories created so far, by either path: their ids */
} bench;

static void bolt_get_node(bench *b) {
    char id[24];
    entity_id(id, sizeof id, random_index(&b->random, b->cfg->nodes));
    const char *names[] = {"id"}, *values[] = {id};
    queue_run_pull(&b->client, &b->writer, GET_NODE_CYPHER, 1, names, values);
    flush_messages(&b->client);
    b->client.records = 0;
    expect_success(&b->client, "RUN get_node");
    expect_success(&b->client, "PULL get_node");
    if (b->client.records != 1) die("get_node", "no single record");
}

static void bolt_expand(bench *b) {
    char id[24];
    entity_id(id, sizeof id, random_index(&b->random, b->cfg->nodes));
    const char *names[] = {"id"}, *values[] = {id};
    queue_run_pull(&b->client, &b->writer, EXPAND_CYPHER, 1, names, values);
    flush_messages(&b->client);
    b->client.records = 0;
    expect_success(&b->client, "RUN expand");
    expect_success(&b->client, "PULL expand");
    if (b->client.records == 0) die("expand", "no records");
}

static void memory_ids(bench *b, char *id, char *a, char *target_b) {
    snprintf(id, 24, "m%llu", b->created++);
    entity_id(a, 24, random_index(&b->random, b->cfg->nodes));
    entity_id(target_b, 24, random_index(&b->random, b->cfg->nodes));
}

static void bolt_create(bench *b) {
    char id[24], a[24], target_b[24];
    memory_ids(b, id, a, target_b);
    bolt_client *c = &b->client;
    queue_empty_dict_message(c, &b->writer, BOLT_MSG_BEGIN);
    const char *node_names[] = {"id", "text"}, *node_values[] = {id, MEMORY_TEXT};
    queue_run_pull(c, &b->writer, CREATE_NODE_CYPHER, 2, node_names, node_values);
    flush_messages(c);
    expect_success(c, "BEGIN");
    expect_success(c, "RUN create node");
    expect_success(c, "PULL create node");
    const char *rel_names[] = {"id", "a", "b"}, *rel_values[] = {id, a, target_b};
    queue_run_pull(c, &b->writer, CREATE_RELS_CYPHER, 3, rel_names, rel_values);
    flush_messages(c);
    expect_success(c, "RUN create relationships");
    expect_success(c, "PULL create relationships");
    eg_ps_write_struct_header(&b->writer, BOLT_MSG_COMMIT, 0);
    queue_message(c, &b->writer);
    flush_messages(c);
    expect_success(c, "COMMIT");
}

static void bolt_floor(bench *b) {
    queue_run_pull(&b->client, &b->writer, FLOOR_CYPHER, 0, NULL, NULL);
    flush_messages(&b->client);
    expect_success(&b->client, "RUN floor");
    expect_success(&b->client, "PULL floor");
}

/* Runs statement through the engine with string parameters, inside tx (NULL: auto-commit); returns its records. */
static size_t cypher_run(bench *b, void *tx, const char *statement, size_t parameter_count,
                         const char *const *names, const char *const *values) {
    eg_ps_entry entries[3];
    for (size_t i = 0; i < parameter_count; i++)
        entries[i] = (eg_ps_entry){.key = (char *)names[i],
                                   .key_len = strlen(names[i]),
                                   .value = {.kind = EG_PS_STRING,
                                             .as.text = {.data = (char *)values[i], .len = strlen(values[i])}}};
    eg_ps_value parameters = {.kind = EG_PS_DICT, .as.dict = {.entries = entries, .count = parameter_count}};
    eg_bolt_result result;
    eg_bolt_failure failure;
    if (!b->engine->run(b->engine->context, tx, statement, strlen(statement), &parameters, &result, &failure)) {
        fprintf(stderr, "bolt_bench: %s: %s: %s\n", statement, failure.code, failure.message);
        exit(1);
    }
    size_t records = result.records.as.list.count;
    eg_bolt_result_free(&result);
    return records;
}

static void cypher_get_node(bench *b) {
    char id[24];
    entity_id(id, sizeof id, random_index(&b->random, b->cfg->nodes));
    const char *names[] = {"id"}, *values[] = {id};
    if (cypher_run(b, NULL, GET_NODE_CYPHER, 1, names, values) != 1) die("get_node", "no single record");
}

static void cypher_expand(bench *b) {
    char id[24];
    entity_id(id, sizeof id, random_index(&b->random, b->cfg->nodes));
    const char *names[] = {"id"}, *values[] = {id};
    if (cypher_run(b, NULL, EXPAND_CYPHER, 1, names, values) == 0) die("expand", "no records");
}

static void cypher_create(bench *b) {
    char id[24], a[24], target_b[24];
    memory_ids(b, id, a, target_b);
    void *tx;
    eg_bolt_failure failure;
    if (!b->engine->begin(b->engine->context, &tx, &failure)) die("begin", failure.message);
    const char *node_names[] = {"id", "text"}, *node_values[] = {id, MEMORY_TEXT};
    cypher_run(b, tx, CREATE_NODE_CYPHER, 2, node_names, node_values);
    const char *rel_names[] = {"id", "a", "b"}, *rel_values[] = {id, a, target_b};
    cypher_run(b, tx, CREATE_RELS_CYPHER, 3, rel_names, rel_values);
    if (!b->engine->commit(b->engine->context, tx, &failure)) die("commit", failure.message);
}

static void c_get_node(bench *b) {
    char id[24];
    entity_id(id, sizeof id, random_index(&b->random, b->cfg->nodes));
    eg_node node;
    eg_error err;
    if (eg_graph_get_node(b->graph, id, EG_LABEL_ENTITY, &node, &err) != EG_OK) die("eg_graph_get_node", err.message);
    eg_node_clear(&node);
}

static void c_expand(bench *b) {
    char id[24];
    entity_id(id, sizeof id, random_index(&b->random, b->cfg->nodes));
    eg_relationship_list rels;
    eg_error err;
    if (eg_graph_get_relationships(b->graph, id, EG_REL_ANY, EG_DIR_BOTH, &rels, &err) != EG_OK)
        die("eg_graph_get_relationships", err.message);
    if (rels.count == 0) die("expand", "no relationships");
    eg_relationship_list_free(&rels);
}

static void c_create(bench *b) {
    char id[24], a[24], target_b[24];
    memory_ids(b, id, a, target_b);
    eg_error err;
    eg_graph *tx;
    if (eg_graph_begin(b->graph, &tx, &err) != EG_OK) die("eg_graph_begin", err.message);
    json_t *props = json_pack("{s:s}", "text", MEMORY_TEXT);
    if (eg_graph_create_node(tx, EG_LABEL_EPISODE, id, props, &err) != EG_OK ||
        eg_graph_create_relationship(tx, id, a, EG_REL_RELATES_TO, NULL, &err) != EG_OK ||
        eg_graph_create_relationship(tx, id, target_b, EG_REL_TEMPORAL_BEFORE, NULL, &err) != EG_OK)
        die("creating a memory in a graph transaction", err.message);
    json_decref(props);
    if (eg_graph_commit(tx, &err) != EG_OK) die("eg_graph_commit", err.message);
}

typedef void (*operation)(bench *b);
static const operation BOLT_OPERATIONS[WORKLOAD_COUNT] = {bolt_get_node, bolt_expand, bolt_create, bolt_floor};
static const operation CYPHER_OPERATIONS[WORKLOAD_COUNT] = {cypher_get_node, cypher_expand, cypher_create, NULL};
static const operation C_OPERATIONS[WORKLOAD_COUNT] = {c_get_node, c_expand, c_create, NULL};

/* ---- timing ------------------------------------------------------------------------------------------------------ */

typedef struct figure {
    size_t operations;
    double per_second, p50_us, p99_us, mean_us;
} figure;

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs op one call after the other for the configured time. */
static figure measure(bench *b, operation op) {
    size_t capacity = 1 << 16, n = 0;
    double *latencies = malloc(capacity * sizeof *latencies);
    if (!latencies) die("out of memory", NULL);
    double start = now_seconds(), end = start + b->cfg->seconds, t = start, sum = 0;
    while (t < end) {
        op(b);
        double after = now_seconds();
        if (n == capacity) {
            capacity *= 2;
            latencies = realloc(latencies, capacity * sizeof *latencies);
            if (!latencies) die("out of memory", NULL);
        }
        sum += latencies[n++] = (after - t) * 1e6;
        t = after;
    }
    qsort(latencies, n, sizeof *latencies, compare_doubles);
    figure f = {.operations = n,
                .per_second = (double)n / (t - start),
                .p50_us = latencies[n / 2],
                .p99_us = latencies[(size_t)((double)n * 0.99)],
                .mean_us = sum / (double)n};
    free(latencies);
    return f;
}

static void print_figure(workload wl, const char *via, const figure *f) {
    printf("bolt-bench workload=%s via=%s ops=%zu per_s=%.0f p50_us=%.1f p99_us=%.1f mean_us=%.1f\n",
           WORKLOAD_NAMES[wl], via, f->operations, f->per_second, f->p50_us, f->p99_us, f->mean_us);
}

static void keep_best(figure *best, figure f) {
    if (f.per_second > best->per_second) *best = f;
}

static void print_ratios(workload wl, const char *via, const figure *f, const figure *in_process) {
    printf("bolt-bench workload=%s %s_over_in_process p50_ratio=%.1f p99_ratio=%.1f throughput_ratio=%.1f\n",
           WORKLOAD_NAMES[wl], via, f->p50_us / in_process->p50_us, f->p99_us / in_process->p99_us,
           in_process->per_second / f->per_second);
}

/* ---- main -------------------------------------------------------------------------------------------------------- */

static void parse_args(int argc, char **argv, config *cfg) {
    for (int i = 1; i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (value && strcmp(argv[i], "--nodes") == 0) {
            cfg->nodes = strtoull(value, &end, 10);
            if (*end || cfg->nodes < 10 || cfg->nodes > 10000000) end = NULL;
        } else if (value && strcmp(argv[i], "--seconds") == 0) {
            cfg->seconds = strtod(value, &end);
            if (*end || !(cfg->seconds >= 0.2 && cfg->seconds <= 600)) end = NULL;
        } else if (value && strcmp(argv[i], "--runs") == 0) {
            cfg->runs = (unsigned)strtoul(value, &end, 10);
            if (*end || cfg->runs < 1 || cfg->runs > 100) end = NULL;
        }
        if (!end) {
            fprintf(stderr, "usage: bolt_bench [--nodes 10..10000000] [--seconds 0.2..600] [--runs 1..100]\n");
            exit(2);
        }
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    config cfg = {.nodes = 10000, .seconds = 0.5, .runs = 3};
    parse_args(argc, argv, &cfg);
    char scratch[] = "/tmp/engram-bolt-bench.XXXXXX";
    if (!mkdtemp(scratch)) die("mkdtemp", strerror(errno));

    eg_error err;
    eg_graph *graph;
    eg_graph_lmdb_options lmdb = {.no_sync = true};
    if (eg_graph_open_lmdb(scratch, &lmdb, &graph, &err) != EG_OK) die("opening the graph", err.message);
    size_t relationships;
    double load_start = now_seconds();
    load_graph(graph, cfg.nodes, &relationships);
    double load_seconds = now_seconds() - load_start;

    eg_bolt_cypher_engine engine;
    eg_bolt_listener_options listen = {
        .address = "127.0.0.1:0",
        .max_connections = 4,
        .idle_timeout_ms = 600000,
        .max_message_bytes = EG_PS_MAX_MESSAGE_BYTES,
        .routing_ttl_seconds = 300,
        .statements = eg_bolt_cypher_engine_init(&engine, graph),
    };
    eg_bolt_listener *listener;
    if (eg_bolt_listener_start(&listen, &listener, &err) != EG_OK) die("starting the Bolt listener", err.message);

    bench b = {.cfg = &cfg, .graph = graph, .engine = listen.statements, .random = 0x9E3779B97F4A7C15ull};
    bolt_connect(&b.client, eg_bolt_listener_port(listener));
    printf("bolt-bench nodes=%zu relationships=%zu load_s=%.2f seconds=%.2f runs=%u client=C connections=1 "
           "durability=none peer=none note=\"no Bolt server in shared/bench (no Neo4j here): ratios are engram over "
           "Bolt against engram in-process, same run\"\n",
           cfg.nodes, relationships, load_seconds, cfg.seconds, cfg.runs);

    figure best_bolt[WORKLOAD_COUNT] = {0}, best_cypher[WORKLOAD_COUNT] = {0}, best_c[WORKLOAD_COUNT] = {0};
    for (unsigned run = 0; run < cfg.runs; run++) {
        for (workload wl = 0; wl < WORKLOAD_COUNT; wl++) {
            keep_best(&best_bolt[wl], measure(&b, BOLT_OPERATIONS[wl]));
            if (!C_OPERATIONS[wl]) continue;
            keep_best(&best_cypher[wl], measure(&b, CYPHER_OPERATIONS[wl]));
            keep_best(&best_c[wl], measure(&b, C_OPERATIONS[wl]));
        }
    }
    for (workload wl = 0; wl < WORKLOAD_COUNT; wl++) {
        print_figure(wl, "bolt", &best_bolt[wl]);
        if (!C_OPERATIONS[wl]) continue;
        print_figure(wl, "cypher", &best_cypher[wl]);
        print_figure(wl, "in_process", &best_c[wl]);
        print_ratios(wl, "bolt", &best_bolt[wl], &best_c[wl]);
        print_ratios(wl, "cypher", &best_cypher[wl], &best_c[wl]);
    }

    bolt_close(&b.client);
    eg_bolt_listener_stop(listener);
    free(b.writer.out.data);
    eg_graph_close(graph);
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
