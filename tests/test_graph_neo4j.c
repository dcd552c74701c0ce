/* test_graph_neo4j.c — the Neo4j graph backend against engram's own Bolt server on loopback (the listener and the
 * Cypher engine over a scratch LMDB graph, in this process), compared operation by operation with the embedded
 * store: every test runs the same calls on both ("twins") and checks that statuses and results are equal — nodes,
 * batches, listing and counts, relationships in every direction, strengthen / weaken (weights bit for bit), decay
 * and its idempotence, find_path on random graphs, transactions — plus what only the Neo4j backend does: refusing
 * property values Neo4j cannot store, and answering `unavailable` (never a caller error's code) when the server is
 * down. */
#include "bolt/cypher_statements.h"
#include "bolt/listener.h"
#include "test.h"
#include "util/clock.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

static eg_error err;

/* ---- the twins: the embedded store and the Neo4j backend over a server storing in LMDB too ---- */

enum { EMBEDDED, NEO4J, TWINS };
static const char *const TWIN_NAMES[TWINS] = {"embedded", "neo4j"};

static eg_graph *server_store;
static eg_bolt_cypher_engine engine;
static eg_bolt_listener *listener;
static eg_graph *G[TWINS];

/* ---- what the backend sends: under t4dm no node is matched by id without a label ---- */

/* The server's engine is wrapped to look at every statement: Neo4j's id indexes and constraints are per label, so
 * an unlabelled `(n {id: ...})` would scan every node of a real server, and under t4dm the backend must never send
 * one. A test that turns a handle to the open schema (which may send them) clears `t4dm` first. */
static struct {
    pthread_mutex_t lock;
    bool t4dm;
    size_t statements;
    size_t unlabelled;       /* statements matching a node by id without a label, any schema */
    size_t unlabelled_t4dm;  /* of those, sent while every handle was t4dm */
    char first_t4dm[2048];   /* the first of those */
} sent = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const eg_bolt_statements *engine_statements;

/* Whether text[0..len) has a node pattern with an `{id:` map and no label: no `:` between its `(` and the map. */
static bool matches_id_without_label(const char *text, size_t len) {
    for (size_t map = 0; map + 4 <= len; map++) {
        if (memcmp(text + map, "{id:", 4) != 0) continue;
        size_t open = map;
        while (open > 0 && text[open] != '(') open--;
        if (text[open] == '(' && !memchr(text + open, ':', map - open)) return true;
    }
    return false;
}

static bool recording_run(void *context, void *tx, const char *statement, size_t statement_len,
                          const eg_ps_value *parameters, eg_bolt_result *result, eg_bolt_failure *failure) {
    pthread_mutex_lock(&sent.lock);
    sent.statements++;
    if (matches_id_without_label(statement, statement_len)) {
        sent.unlabelled++;
        if (sent.t4dm && sent.unlabelled_t4dm++ == 0)
            snprintf(sent.first_t4dm, sizeof sent.first_t4dm, "%.*s", (int)statement_len, statement);
    }
    pthread_mutex_unlock(&sent.lock);
    return engine_statements->run(context, tx, statement, statement_len, parameters, result, failure);
}

static eg_bolt_statements recording;

static const eg_bolt_statements *recording_engine(eg_graph *store) {
    engine_statements = eg_bolt_cypher_engine_init(&engine, store);
    recording = *engine_statements;
    recording.run = recording_run;
    pthread_mutex_lock(&sent.lock);
    sent.t4dm = true;
    sent.statements = sent.unlabelled = sent.unlabelled_t4dm = 0;
    pthread_mutex_unlock(&sent.lock);
    return &recording;
}

/* From here on a handle may use the open schema. */
static void leaving_t4dm(void) {
    pthread_mutex_lock(&sent.lock);
    sent.t4dm = false;
    pthread_mutex_unlock(&sent.lock);
}

/* Every statement sent while the handles were t4dm matched nodes by id under a label. */
static void check_sent_labelled(void) {
    pthread_mutex_lock(&sent.lock);
    CHECK(sent.statements > 0);
    if (sent.unlabelled_t4dm) {
        fprintf(stderr, "  %zu statement(s) under t4dm match a node by id without a label, the first: %s\n",
                sent.unlabelled_t4dm, sent.first_t4dm);
        test_failures_in_current++;
    }
    pthread_mutex_unlock(&sent.lock);
}

static eg_graph *open_lmdb(void) {
    eg_graph *g = NULL;
    eg_graph_lmdb_options options = {.map_size_bytes = 1u << 30, .no_sync = true};
    CHECK_OK(eg_graph_open_lmdb(test_scratch_dir(), &options, &g, &err), &err);
    return g;
}

static eg_graph *open_neo4j(uint16_t port) {
    char uri[64];
    snprintf(uri, sizeof uri, "bolt://127.0.0.1:%u", port);
    eg_graph_neo4j_options options = {.uri = uri, .user = "neo4j", .password = "", .timeout_ms = 10000};
    eg_graph *g = NULL;
    CHECK_OK(eg_graph_open_neo4j(&options, &g, &err), &err);
    return g;
}

static void twins_open(void) {
    server_store = open_lmdb();
    eg_bolt_listener_options options = {.address = "127.0.0.1:0",
                                        .user = "neo4j",
                                        .max_connections = 16,
                                        .idle_timeout_ms = 60000,
                                        .max_message_bytes = 16u << 20,
                                        .routing_ttl_seconds = 300,
                                        .statements = recording_engine(server_store)};
    CHECK_OK(eg_bolt_listener_start(&options, &listener, &err), &err);
    G[EMBEDDED] = open_lmdb();
    G[NEO4J] = open_neo4j(eg_bolt_listener_port(listener));
}

static void twins_close(void) {
    eg_graph_close(G[NEO4J]);
    eg_bolt_listener_stop(listener);
    check_sent_labelled();
    eg_graph_close(server_store);
    eg_graph_close(G[EMBEDDED]);
}

/* Both twins' statuses of one call, which must be equal (and `expected`). */
#define BOTH(expected, call)                                                                                         \
    do {                                                                                                             \
        for (int twin_ = 0; twin_ < TWINS; twin_++) {                                                                \
            eg_graph *g = G[twin_];                                                                                  \
            eg_status got_ = (call);                                                                                 \
            if (got_ != (expected)) {                                                                                \
                fprintf(stderr, "  %s:%d: [%s] %s -> %s, expected %s (%s)\n", __FILE__, __LINE__,                   \
                        TWIN_NAMES[twin_], #call, eg_status_name(got_), eg_status_name(expected), err.message);      \
                test_failures_in_current++;                                                                          \
            }                                                                                                        \
        }                                                                                                            \
    } while (0)

/* ---- canonical texts of results, to compare the twins ---- */

/* Properties as sorted compact JSON, without lastAccessed when the store set it (each twin's clock differs). */
static char *props_text(json_t *props, bool drop_last_accessed) {
    json_t *copy = props ? json_deep_copy(props) : json_null();
    if (drop_last_accessed && json_is_object(copy)) json_object_del(copy, "lastAccessed");
    char *text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(copy);
    return text;
}

static void append(char **text, const char *piece) {
    size_t have = *text ? strlen(*text) : 0;
    char *grown = realloc(*text, have + strlen(piece) + 2);
    REQUIRE(grown);
    memcpy(grown + have, piece, strlen(piece) + 1);
    strcat(grown, "\n");
    *text = grown;
}

static char *node_text(const eg_node *n) {
    char *props = props_text(n->properties, false), line[1024];
    snprintf(line, sizeof line, "%s:%s %s", n->id, eg_label_name(n->label), props);
    free(props);
    return strdup(line);
}

static char *relationship_text(const eg_relationship *r, bool drop_last_accessed) {
    char *props = props_text(r->properties, drop_last_accessed), line[1024];
    snprintf(line, sizeof line, "%s -%s-> %s %s", r->source_id, eg_rel_type_name(r->type), r->target_id, props);
    free(props);
    return strdup(line);
}

static int compare_lines(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A relationship list as text, sorted (the embedded store's order follows its internal node numbers). */
static char *relationships_text(const eg_relationship_list *l, bool drop_last_accessed) {
    char **lines = calloc(l->count + 1, sizeof *lines), *text = strdup("");
    for (size_t i = 0; i < l->count; i++) lines[i] = relationship_text(&l->items[i], drop_last_accessed);
    qsort(lines, l->count, sizeof *lines, compare_lines);
    for (size_t i = 0; i < l->count; i++) {
        append(&text, lines[i]);
        free(lines[i]);
    }
    free(lines);
    return text;
}

static char *node_list_text(const eg_node_list *l) {
    char *text = strdup("");
    for (size_t i = 0; i < l->count; i++) {
        char *line = node_text(&l->items[i]);
        append(&text, line);
        free(line);
    }
    return text;
}

static bool same_text(char *texts[TWINS], int line) {
    bool same = texts[EMBEDDED] && texts[NEO4J] && strcmp(texts[EMBEDDED], texts[NEO4J]) == 0;
    if (!same) {
        fprintf(stderr, "  %s:%d: the twins differ\n  embedded:\n%s\n  neo4j:\n%s\n", __FILE__, line,
                texts[EMBEDDED] ? texts[EMBEDDED] : "(null)", texts[NEO4J] ? texts[NEO4J] : "(null)");
        test_failures_in_current++;
    }
    for (int i = 0; i < TWINS; i++) free(texts[i]);
    return same;
}

/* Node `id` (label filter), as text, equal in both. */
static void check_node(const char *id, eg_label label, eg_status expected, int line) {
    char *texts[TWINS] = {0};
    for (int i = 0; i < TWINS; i++) {
        eg_node n;
        eg_status st = eg_graph_get_node(G[i], id, label, &n, &err);
        if (st == EG_OK) {
            texts[i] = node_text(&n);
            eg_node_clear(&n);
        } else {
            char s[64];
            snprintf(s, sizeof s, "status %s", eg_status_name(st));
            texts[i] = strdup(s);
        }
        if (st != expected) {
            fprintf(stderr, "  %s:%d: [%s] get_node(%s) -> %s (%s)\n", __FILE__, line, TWIN_NAMES[i],
                    id, eg_status_name(st), err.message);
            test_failures_in_current++;
        }
    }
    same_text(texts, line);
}
#define CHECK_NODE(id, label, expected) check_node(id, label, expected, __LINE__)

static void check_relationships(const char *id, eg_rel_type type, eg_direction dir, bool drop_last_accessed,
                                int line) {
    char *texts[TWINS] = {0};
    for (int i = 0; i < TWINS; i++) {
        eg_relationship_list l;
        eg_status st = eg_graph_get_relationships(G[i], id, type, dir, &l, &err);
        if (st == EG_OK) {
            texts[i] = relationships_text(&l, drop_last_accessed);
            eg_relationship_list_free(&l);
        } else {
            texts[i] = strdup(eg_status_name(st));
        }
    }
    same_text(texts, line);
}
#define CHECK_RELS(id, type, dir) check_relationships(id, type, dir, true, __LINE__)

static void check_counts(int line) {
    uint64_t nodes[TWINS][EG_LABEL_COUNT + 1], rels[TWINS];
    for (int i = 0; i < TWINS; i++) {
        for (int l = -1; l < EG_LABEL_COUNT; l++)
            CHECK_OK(eg_graph_count_nodes(G[i], (eg_label)l, &nodes[i][l + 1], &err), &err);
        CHECK_OK(eg_graph_count_relationships(G[i], &rels[i], &err), &err);
    }
    bool same = memcmp(nodes[EMBEDDED], nodes[NEO4J], sizeof nodes[EMBEDDED]) == 0 && rels[EMBEDDED] == rels[NEO4J];
    if (!same) {
        fprintf(stderr, "  %s:%d: counts differ: nodes %llu/%llu, relationships %llu/%llu\n", __FILE__, line,
                (unsigned long long)nodes[EMBEDDED][0], (unsigned long long)nodes[NEO4J][0],
                (unsigned long long)rels[EMBEDDED], (unsigned long long)rels[NEO4J]);
        test_failures_in_current++;
    }
}
#define CHECK_COUNTS() check_counts(__LINE__)

/* ---- nodes ---- */

TEST(nodes_round_trip_and_create_is_idempotent_with_conflicts) {
    twins_open();
    json_t *p = json_pack("{s:s, s:i, s:f, s:b, s:n, s:[i,i], s:[s,s], s:[], s:s}", "name", "Ada", "age", 36, "score",
                          0.25, "ok", 1, "gone", "ints", 1, 2, "tags", "x", "y", "none", "sessionId", "s1");
    json_t *q = json_pack("{s:s}", "name", "Bob");
    BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_ENTITY, "n1", p, &err));
    BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_ENTITY, "n1", p, &err)); /* the same again: no-op */
    BOTH(EG_CONFLICT, eg_graph_create_node(g, EG_LABEL_ENTITY, "n1", q, &err));
    BOTH(EG_CONFLICT, eg_graph_create_node(g, EG_LABEL_EPISODE, "n1", p, &err)); /* ids unique across labels */
    BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_EPISODE, "n2", NULL, &err));
    BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_PROCEDURE, "n:3.x-y_z", q, &err));
    CHECK_NODE("n1", EG_LABEL_ANY, EG_OK);
    CHECK_NODE("n1", EG_LABEL_ENTITY, EG_OK);
    CHECK_NODE("n1", EG_LABEL_EPISODE, EG_NOT_FOUND);
    CHECK_NODE("n2", EG_LABEL_ANY, EG_OK);
    CHECK_NODE("n:3.x-y_z", EG_LABEL_PROCEDURE, EG_OK);
    CHECK_NODE("missing", EG_LABEL_ANY, EG_NOT_FOUND);
    json_t *with_id = json_pack("{s:s, s:s}", "id", "n4", "name", "Cy");
    BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_ENTITY, "n4", with_id, &err)); /* own id: dropped */
    CHECK_NODE("n4", EG_LABEL_ANY, EG_OK);
    const char *ids[] = {"n4", "missing", "n1", "n2", "n1"};
    char *texts[TWINS];
    for (int i = 0; i < TWINS; i++) {
        eg_node_list l;
        CHECK_OK(eg_graph_get_nodes(G[i], ids, 5, &l, &err), &err);
        texts[i] = node_list_text(&l);
        CHECK(l.count == 4);
        eg_node_list_free(&l);
    }
    same_text(texts, __LINE__);
    CHECK_COUNTS();
    json_decref(with_id);
    json_decref(p);
    json_decref(q);
    twins_close();
}

TEST(update_merges_null_removes_and_delete_detaches) {
    twins_open();
    json_t *p = json_pack("{s:s, s:i}", "name", "Ada", "age", 36);
    json_t *u = json_pack("{s:n, s:s, s:[f,f]}", "age", "city", "Oslo", "v", 0.5, 1.5);
    json_t *one = json_string("Lovelace");
    BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_ENTITY, "a", p, &err));
    BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_ENTITY, "b", NULL, &err));
    BOTH(EG_OK, eg_graph_update_node(g, "a", u, EG_LABEL_ANY, &err));
    CHECK_NODE("a", EG_LABEL_ANY, EG_OK);
    BOTH(EG_OK, eg_graph_update_node(g, "a", p, EG_LABEL_ENTITY, &err));
    BOTH(EG_NOT_FOUND, eg_graph_update_node(g, "a", p, EG_LABEL_EPISODE, &err));
    BOTH(EG_NOT_FOUND, eg_graph_update_node(g, "nobody", p, EG_LABEL_ANY, &err));
    BOTH(EG_OK, eg_graph_update_property(g, "a", "surname", one, &err));
    CHECK_NODE("a", EG_LABEL_ANY, EG_OK);
    BOTH(EG_OK, eg_graph_create_relationship(g, "a", "b", EG_REL_USES, NULL, &err));
    BOTH(EG_OK, eg_graph_create_relationship(g, "b", "a", EG_REL_CAUSES, NULL, &err));
    CHECK_COUNTS();
    BOTH(EG_NOT_FOUND, eg_graph_delete_node(g, "a", EG_LABEL_EPISODE, &err));
    BOTH(EG_OK, eg_graph_delete_node(g, "a", EG_LABEL_ANY, &err));
    BOTH(EG_NOT_FOUND, eg_graph_delete_node(g, "a", EG_LABEL_ANY, &err));
    CHECK_NODE("a", EG_LABEL_ANY, EG_NOT_FOUND);
    CHECK_RELS("b", EG_REL_ANY, EG_DIR_BOTH);
    CHECK_COUNTS();
    json_decref(p);
    json_decref(u);
    json_decref(one);
    twins_close();
}

/* Every page of list_nodes (filter NULL) or find_nodes, `size` at a time, as one text (the caller frees it). */
static char *paged_text(eg_graph *graph, eg_label label, const eg_node_text_filter *filter, size_t size) {
    char *text = strdup("");
    char cursor[EG_ID_MAX + 1] = "";
    for (;;) {
        eg_node_list page;
        const char *after = cursor[0] ? cursor : NULL;
        CHECK_OK(filter ? eg_graph_find_nodes(graph, label, filter, after, size, &page, &err)
                        : eg_graph_list_nodes(graph, label, after, size, &page, &err),
                 &err);
        char *t = node_list_text(&page);
        append(&text, t);
        free(t);
        size_t n = page.count;
        if (n) snprintf(cursor, sizeof cursor, "%s", page.items[n - 1].id);
        eg_node_list_free(&page);
        if (n < size) break;
    }
    return text;
}

TEST(batches_are_all_or_nothing_and_lists_page_in_id_order) {
    twins_open();
    eg_node_spec specs[40];
    char ids[40][16];
    json_t *props[40];
    for (int i = 0; i < 40; i++) {
        snprintf(ids[i], sizeof ids[i], "k%02d", (i * 17) % 40);
        props[i] = json_pack("{s:i}", "rank", i);
        specs[i] = (eg_node_spec){(eg_label)(i % 3), ids[i], props[i]};
    }
    BOTH(EG_OK, eg_graph_batch_create_nodes(g, specs, 20, &err));
    BOTH(EG_OK, eg_graph_batch_create_nodes(g, specs, 20, &err)); /* the same again: no-op */
    eg_node_spec clash = specs[5];
    clash.label = (eg_label)((clash.label + 1) % 3);
    eg_node_spec mixed[3] = {specs[25], clash, specs[26]};
    BOTH(EG_CONFLICT, eg_graph_batch_create_nodes(g, mixed, 3, &err));
    CHECK_NODE(specs[25].id, EG_LABEL_ANY, EG_NOT_FOUND); /* nothing of the failed batch */
    BOTH(EG_OK, eg_graph_batch_create_nodes(g, specs + 20, 20, &err));
    CHECK_COUNTS();
    for (int label = -1; label < EG_LABEL_COUNT; label++) {
        char *texts[TWINS];
        for (int i = 0; i < TWINS; i++) texts[i] = paged_text(G[i], (eg_label)label, NULL, 7);
        same_text(texts, __LINE__);
    }
    for (int i = 0; i < 40; i++) json_decref(props[i]);
    twins_close();
}

TEST(find_nodes_finds_the_same_nodes_paging_the_same_way) {
    twins_open();
    static const char *const words[] = {"Alpha", "beta", "GAMMA", "\xc3\x89lan", "alphabet"};
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof id, "k%02d", i);
        json_t *p = json_pack("{s:s, s:[s,s], s:i}", "name", words[i % 5], "notes", words[(i / 5) % 5], "x", "y", "n", i);
        BOTH(EG_OK, eg_graph_create_node(g, (eg_label)(i % 2), id, p, &err));
        json_decref(p);
    }
    static const char *const name[] = {"name"};
    const struct {
        const char *text, *prefix;
        const char *const *properties;
        size_t property_count;
    } cases[] = {{"alpha", NULL, NULL, 0}, {"ALPHA", "k1", name, 1}, {"\xc3\xa9", NULL, NULL, 0},
                 {"y", "k2", NULL, 0},     {"", "k0", name, 1},     {"zzz", NULL, NULL, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int label = -1; label < 2; label++) {
            eg_node_text_filter f = {cases[c].text, strlen(cases[c].text), cases[c].properties,
                                     cases[c].property_count, cases[c].prefix};
            char *texts[TWINS];
            for (int i = 0; i < TWINS; i++) texts[i] = paged_text(G[i], (eg_label)label, &f, 3);
            same_text(texts, __LINE__);
        }
    }
    twins_close();
}

/* ---- relationships ---- */

static void make_nodes(const char *const *ids, size_t count) {
    for (size_t i = 0; i < count; i++) {
        json_t *p = json_pack("{s:s}", "sessionId", i % 2 ? "beta" : "alpha");
        BOTH(EG_OK, eg_graph_create_node(g, EG_LABEL_ENTITY, ids[i], p, &err));
        json_decref(p);
    }
}

TEST(relationships_merge_and_read_in_every_direction) {
    twins_open();
    const char *ids[] = {"a", "b", "c", "d"};
    make_nodes(ids, 4);
    json_t *p1 = json_pack("{s:f, s:s, s:I}", "weight", 0.5, "why", "test", "lastAccessed", (json_int_t)1000);
    json_t *p2 = json_pack("{s:n, s:i, s:s}", "why", "coAccessCount", 3, "note", "merged");
    json_t *p3 = json_pack("{s:i}", "weight", 1); /* an integer weight comes back as a real */
    BOTH(EG_OK, eg_graph_create_relationship(g, "a", "b", EG_REL_USES, p1, &err));
    BOTH(EG_OK, eg_graph_create_relationship(g, "a", "b", EG_REL_USES, p2, &err)); /* merge, one relationship */
    BOTH(EG_OK, eg_graph_create_relationship(g, "a", "b", EG_REL_CAUSES, p3, &err));
    BOTH(EG_OK, eg_graph_create_relationship(g, "c", "a", EG_REL_USES, NULL, &err));
    BOTH(EG_OK, eg_graph_create_relationship(g, "a", "a", EG_REL_RELATES_TO, NULL, &err)); /* self-loop */
    BOTH(EG_NOT_FOUND, eg_graph_create_relationship(g, "a", "zz", EG_REL_USES, NULL, &err));
    CHECK(strstr(err.message, "target node 'zz'"));
    BOTH(EG_NOT_FOUND, eg_graph_create_relationship(g, "zz", "a", EG_REL_USES, NULL, &err));
    CHECK(strstr(err.message, "source node 'zz'"));
    check_relationships("a", EG_REL_USES, EG_DIR_OUT, false, __LINE__); /* lastAccessed given: compared too */
    for (int dir = EG_DIR_OUT; dir <= EG_DIR_BOTH; dir++) {
        CHECK_RELS("a", EG_REL_ANY, (eg_direction)dir);
        CHECK_RELS("a", EG_REL_USES, (eg_direction)dir);
        CHECK_RELS("a", EG_REL_RELATES_TO, (eg_direction)dir);
        CHECK_RELS("b", EG_REL_ANY, (eg_direction)dir);
        CHECK_RELS("d", EG_REL_ANY, (eg_direction)dir);
        CHECK_RELS("zz", EG_REL_ANY, (eg_direction)dir); /* not_found in both */
    }
    /* lastAccessed is set at create when not given */
    int64_t before = eg_now_ms();
    BOTH(EG_OK, eg_graph_create_relationship(g, "c", "d", EG_REL_PART_OF, NULL, &err));
    eg_relationship_list l;
    CHECK_OK(eg_graph_get_relationships(G[NEO4J], "d", EG_REL_PART_OF, EG_DIR_IN, &l, &err), &err);
    REQUIRE(l.count == 1);
    json_t *at = json_object_get(l.items[0].properties, "lastAccessed");
    CHECK(json_is_integer(at) && json_integer_value(at) >= before && json_integer_value(at) <= eg_now_ms());
    eg_relationship_list_free(&l);
    const char *batch_ids[] = {"a", "zz", "b", "a", "d"};
    char *texts[TWINS];
    for (int i = 0; i < TWINS; i++) {
        eg_relationship_list lists[5];
        CHECK_OK(eg_graph_get_relationships_batch(G[i], batch_ids, 5, EG_REL_ANY, EG_DIR_BOTH, lists, &err), &err);
        texts[i] = strdup("");
        for (int k = 0; k < 5; k++) {
            char *t = relationships_text(&lists[k], true);
            append(&texts[i], t);
            free(t);
            eg_relationship_list_free(&lists[k]);
        }
    }
    same_text(texts, __LINE__);
    CHECK_COUNTS();
    BOTH(EG_OK, eg_graph_delete_relationship(g, "a", "b", EG_REL_USES, &err));
    BOTH(EG_NOT_FOUND, eg_graph_delete_relationship(g, "a", "b", EG_REL_USES, &err));
    BOTH(EG_NOT_FOUND, eg_graph_delete_relationship(g, "a", "zz", EG_REL_USES, &err));
    CHECK_RELS("a", EG_REL_ANY, EG_DIR_BOTH);
    CHECK_COUNTS();
    json_decref(p1);
    json_decref(p2);
    json_decref(p3);
    twins_close();
}

TEST(batch_relationships_merge_in_order_and_are_all_or_nothing) {
    twins_open();
    const char *ids[] = {"a", "b", "c"};
    make_nodes(ids, 3);
    json_t *w1 = json_pack("{s:f, s:s}", "weight", 0.3, "k", "first");
    json_t *w2 = json_pack("{s:s}", "k", "second");
    eg_relationship_spec specs[] = {{"a", "b", EG_REL_USES, w1},
                                    {"b", "c", EG_REL_CAUSES, NULL},
                                    {"a", "b", EG_REL_USES, w2},
                                    {"c", "a", EG_REL_SIMILAR_TO, w1}};
    BOTH(EG_OK, eg_graph_batch_create_relationships(g, specs, 4, &err));
    CHECK_RELS("a", EG_REL_ANY, EG_DIR_BOTH);
    CHECK_RELS("b", EG_REL_ANY, EG_DIR_BOTH);
    eg_relationship_spec bad[] = {{"c", "b", EG_REL_USES, NULL}, {"c", "nobody", EG_REL_USES, NULL}};
    BOTH(EG_NOT_FOUND, eg_graph_batch_create_relationships(g, bad, 2, &err));
    CHECK(strstr(err.message, "relationships[1]"));
    CHECK_RELS("c", EG_REL_ANY, EG_DIR_BOTH); /* c -> b was not kept */
    CHECK_COUNTS();
    json_decref(w1);
    json_decref(w2);
    twins_close();
}

TEST(strengthen_and_weaken_give_the_same_weights_bit_for_bit) {
    twins_open();
    const char *ids[] = {"a", "b", "c"};
    make_nodes(ids, 3);
    json_t *w = json_pack("{s:f}", "weight", 0.3);
    BOTH(EG_OK, eg_graph_create_relationship(g, "a", "b", EG_REL_USES, w, &err));
    BOTH(EG_OK, eg_graph_create_relationship(g, "a", "b", EG_REL_CAUSES, NULL, &err));
    BOTH(EG_OK, eg_graph_create_relationship(g, "c", "b", EG_REL_USES, NULL, &err));
    double got[TWINS];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < TWINS; i++)
            CHECK_OK(eg_graph_strengthen_relationship(G[i], "a", "b", EG_REL_USES, 0.13, &got[i], &err), &err);
        CHECK(memcmp(&got[EMBEDDED], &got[NEO4J], sizeof(double)) == 0);
        for (int i = 0; i < TWINS; i++) /* only b -> c's reverse exists: c -> b */
            CHECK_OK(eg_graph_strengthen_relationship(G[i], "b", "c", EG_REL_ANY, 0.2, &got[i], &err), &err);
        CHECK(memcmp(&got[EMBEDDED], &got[NEO4J], sizeof(double)) == 0);
        for (int i = 0; i < TWINS; i++)
            CHECK_OK(eg_graph_weaken_relationship(G[i], "a", "b", EG_REL_ANY, 0.07, &got[i], &err), &err);
        CHECK(memcmp(&got[EMBEDDED], &got[NEO4J], sizeof(double)) == 0);
    }
    BOTH(EG_NOT_FOUND, eg_graph_strengthen_relationship(g, "a", "c", EG_REL_USES, 0.1, NULL, &err));
    BOTH(EG_NOT_FOUND, eg_graph_strengthen_relationship(g, "a", "b", EG_REL_PART_OF, 0.1, NULL, &err));
    BOTH(EG_NOT_FOUND, eg_graph_weaken_relationship(g, "a", "zz", EG_REL_ANY, 0.1, NULL, &err));
    CHECK(strstr(err.message, "target node 'zz'"));
    CHECK_RELS("b", EG_REL_ANY, EG_DIR_BOTH); /* weights and coAccessCount equal; lastAccessed moved */
    json_decref(w);
    twins_close();
}

static void stale_edge(const char *s, const char *t, double days_ago, double weight) {
    json_t *p = json_pack("{s:f, s:I}", "weight", weight, "lastAccessed",
                          (json_int_t)(eg_now_ms() - (int64_t)(days_ago * EG_MS_PER_DAY)));
    for (int i = 0; i < TWINS; i++) {
        json_t *twin_props = json_deep_copy(p); /* both twins get the same lastAccessed */
        CHECK_OK(eg_graph_create_relationship(G[i], s, t, EG_REL_RELATES_TO, twin_props, &err), &err);
        json_decref(twin_props);
    }
    json_decref(p);
}

static uint64_t decay_work; /* relationships decayed or pruned by the checks so far */

static void check_decay(double stale_days, double rate, double min_weight, const char *session, int line) {
    eg_decay_result r[TWINS];
    for (int i = 0; i < TWINS; i++)
        CHECK_OK(eg_graph_batch_decay_relationships(G[i], stale_days, rate, min_weight, session, &r[i], &err), &err);
    decay_work += r[NEO4J].decayed + r[NEO4J].pruned;
    if (r[EMBEDDED].decayed != r[NEO4J].decayed || r[EMBEDDED].pruned != r[NEO4J].pruned) {
        fprintf(stderr, "  %s:%d: decay results differ: %llu/%llu decayed, %llu/%llu pruned\n", __FILE__, line,
                (unsigned long long)r[EMBEDDED].decayed, (unsigned long long)r[NEO4J].decayed,
                (unsigned long long)r[EMBEDDED].pruned, (unsigned long long)r[NEO4J].pruned);
        test_failures_in_current++;
    }
}

TEST(decay_is_elapsed_time_based_idempotent_and_equal) {
    twins_open();
    const char *ids[] = {"s1", "s2", "s3", "s4"}; /* sessions alpha, beta, alpha, beta */
    make_nodes(ids, 4);
    stale_edge("s1", "s2", 40.5, 0.5);
    stale_edge("s2", "s1", 40.5, 0.011);
    stale_edge("s3", "s4", 35.5, 0.5);
    stale_edge("s4", "s3", 1, 0.001);
    stale_edge("s1", "s3", 31.5, 0.2);
    uint64_t n[TWINS];
    for (int i = 0; i < TWINS; i++) CHECK_OK(eg_graph_count_stale_relationships(G[i], 30, NULL, &n[i], &err), &err);
    CHECK(n[EMBEDDED] == 4 && n[NEO4J] == 4);
    for (int i = 0; i < TWINS; i++)
        CHECK_OK(eg_graph_count_stale_relationships(G[i], 30, "alpha", &n[i], &err), &err);
    CHECK(n[EMBEDDED] == 3 && n[NEO4J] == 3);
    check_decay(30, 0.01, 0.01, "beta", __LINE__);
    check_decay(30, 0.01, 0.01, "beta", __LINE__); /* idempotent */
    check_decay(30, 0.01, 0.01, NULL, __LINE__);
    for (int k = 0; k < 4; k++) check_relationships(ids[k], EG_REL_ANY, EG_DIR_OUT, false, __LINE__);
    eg_decay_result again;
    CHECK_OK(eg_graph_batch_decay_relationships(G[NEO4J], 30, 0.01, 0.01, NULL, &again, &err), &err);
    CHECK(again.decayed == 0 && again.pruned == 0);
    check_decay(30, 0.01, 0.01, NULL, __LINE__);
    check_decay(20, 0.5, 0.05, "alpha", __LINE__); /* a shorter stale time: decayedThrough still holds */
    for (int k = 0; k < 4; k++) check_relationships(ids[k], EG_REL_ANY, EG_DIR_OUT, false, __LINE__);
    CHECK(decay_work == 5); /* beta: 1 decayed and pruned; then alpha and beta: 3; nothing twice */
    CHECK_COUNTS();
    twins_close();
}

/* ---- find_path ---- */

#define PATH_NODES 60
#define PATH_EDGES 80

static char *path_text(const eg_path *p) {
    char *text = strdup(""), line[512];
    for (size_t i = 0; i < p->node_count; i++) {
        snprintf(line, sizeof line, "%s:%s", p->nodes[i].id, eg_label_name(p->nodes[i].label));
        append(&text, line);
        if (i < p->relationship_count) {
            char *r = relationship_text(&p->relationships[i], true);
            append(&text, r);
            free(r);
        }
    }
    return text;
}

TEST(find_path_matches_the_embedded_store_on_a_random_graph) {
    twins_open();
    uint64_t seed = 17;
    char ids[PATH_NODES][8];
    for (int i = 0; i < PATH_NODES; i++) {
        snprintf(ids[i], sizeof ids[i], "v%d", i);
        BOTH(EG_OK, eg_graph_create_node(g, (eg_label)(i % 3), ids[i], NULL, &err));
    }
    const eg_rel_type types[3] = {EG_REL_USES, EG_REL_CAUSES, EG_REL_PART_OF};
    for (int e = 0; e < PATH_EDGES; e++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int a = (int)((seed >> 33) % PATH_NODES), b = (int)((seed >> 17) % PATH_NODES);
        json_t *p = json_pack("{s:I}", "lastAccessed", (json_int_t)e);
        BOTH(EG_OK, eg_graph_create_relationship(g, ids[a], ids[b], types[e % 3], p, &err));
        json_decref(p);
    }
    int found = 0;
    for (int q = 0; q < 60; q++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int a = (int)((seed >> 33) % PATH_NODES), b = (int)((seed >> 17) % PATH_NODES), depth = 1 + q % 5;
        eg_rel_type_set set = q % 2 ? EG_REL_TYPES_ALL : (eg_rel_type_set){types, 2};
        char *texts[TWINS];
        for (int i = 0; i < TWINS; i++) {
            eg_path path;
            CHECK_OK(eg_graph_find_path(G[i], ids[a], ids[b], depth, set, &path, &err), &err);
            texts[i] = path_text(&path);
            found += i == NEO4J && path.node_count > 1;
            eg_path_clear(&path);
        }
        same_text(texts, __LINE__);
    }
    CHECK(found > 10);
    BOTH(EG_NOT_FOUND, eg_graph_find_path(g, "v1", "nowhere", 3, EG_REL_TYPES_ALL, &(eg_path){0}, &err));
    char *texts[TWINS];
    for (int i = 0; i < TWINS; i++) {
        eg_path path;
        CHECK_OK(eg_graph_find_path(G[i], "v7", "v7", 3, EG_REL_TYPES_ALL, &path, &err), &err);
        texts[i] = path_text(&path);
        eg_path_clear(&path);
    }
    same_text(texts, __LINE__);
    twins_close();
}

/* ---- transactions ---- */

TEST(transactions_commit_and_roll_back_like_the_embedded_store) {
    twins_open();
    eg_graph *tx[TWINS];
    const char *ids[] = {"a", "b"};
    make_nodes(ids, 2);
    for (int i = 0; i < TWINS; i++) {
        CHECK_OK(eg_graph_begin(G[i], &tx[i], &err), &err);
        CHECK_OK(eg_graph_create_node(tx[i], EG_LABEL_EPISODE, "t1", NULL, &err), &err);
        CHECK_OK(eg_graph_create_relationship(tx[i], "a", "t1", EG_REL_USES, NULL, &err), &err);
        eg_node n;
        CHECK_OK(eg_graph_get_node(tx[i], "t1", EG_LABEL_ANY, &n, &err), &err); /* its own writes */
        eg_node_clear(&n);
        CHECK_STATUS(eg_graph_get_node(tx[i], "nobody", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
        CHECK_OK(eg_graph_commit(tx[i], &err), &err);
    }
    CHECK_NODE("t1", EG_LABEL_ANY, EG_OK);
    CHECK_RELS("a", EG_REL_ANY, EG_DIR_BOTH);
    for (int i = 0; i < TWINS; i++) {
        CHECK_OK(eg_graph_begin(G[i], &tx[i], &err), &err);
        CHECK_OK(eg_graph_create_node(tx[i], EG_LABEL_EPISODE, "t2", NULL, &err), &err);
        CHECK_OK(eg_graph_delete_node(tx[i], "a", EG_LABEL_ANY, &err), &err);
        eg_graph_rollback(tx[i]);
    }
    CHECK_NODE("t2", EG_LABEL_ANY, EG_NOT_FOUND);
    CHECK_NODE("a", EG_LABEL_ANY, EG_OK);
    for (int i = 0; i < TWINS; i++) { /* a failed write: commit refuses and keeps nothing */
        CHECK_OK(eg_graph_begin(G[i], &tx[i], &err), &err);
        CHECK_OK(eg_graph_create_node(tx[i], EG_LABEL_EPISODE, "t3", NULL, &err), &err);
        CHECK_STATUS(eg_graph_create_relationship(tx[i], "t3", "nobody", EG_REL_USES, NULL, &err), EG_NOT_FOUND,
                     &err);
        eg_node n; /* still readable, as in the embedded store */
        CHECK_OK(eg_graph_get_node(tx[i], "t3", EG_LABEL_ANY, &n, &err), &err);
        eg_node_clear(&n);
        CHECK_STATUS(eg_graph_commit(tx[i], &err), EG_CONFLICT, &err);
    }
    CHECK_NODE("t3", EG_LABEL_ANY, EG_NOT_FOUND);
    for (int i = 0; i < TWINS; i++) { /* every operation runs inside */
        CHECK_OK(eg_graph_begin(G[i], &tx[i], &err), &err);
        eg_node_spec specs[2] = {{EG_LABEL_ENTITY, "t4", NULL}, {EG_LABEL_ENTITY, "t5", NULL}};
        eg_relationship_spec rels[1] = {{"t4", "t5", EG_REL_CAUSES, NULL}};
        eg_decay_result dr;
        double weight;
        uint64_t count;
        eg_path path;
        CHECK_OK(eg_graph_batch_create_nodes(tx[i], specs, 2, &err), &err);
        CHECK_OK(eg_graph_batch_create_relationships(tx[i], rels, 1, &err), &err);
        CHECK_OK(eg_graph_strengthen_relationship(tx[i], "t4", "t5", EG_REL_ANY, 0.5, &weight, &err), &err);
        CHECK_OK(eg_graph_count_relationships(tx[i], &count, &err), &err);
        CHECK(count == 2);
        CHECK_OK(eg_graph_find_path(tx[i], "t5", "t4", 2, EG_REL_TYPES_ALL, &path, &err), &err);
        CHECK(path.node_count == 2);
        eg_path_clear(&path);
        CHECK_OK(eg_graph_batch_decay_relationships(tx[i], 30, 0.1, 0.01, NULL, &dr, &err), &err);
        CHECK_OK(eg_graph_commit(tx[i], &err), &err);
    }
    CHECK_RELS("t4", EG_REL_ANY, EG_DIR_BOTH);
    CHECK_COUNTS();
    twins_close();
}

TEST(closing_the_store_rolls_back_its_own_threads_transaction) {
    twins_open();
    eg_graph *tx;
    CHECK_OK(eg_graph_begin(G[NEO4J], &tx, &err), &err);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_EPISODE, "t1", NULL, &err), &err);
    eg_graph_close(G[NEO4J]);
    CHECK_STATUS(eg_graph_create_node(tx, EG_LABEL_EPISODE, "t2", NULL, &err), EG_CONFLICT, &err);
    CHECK_STATUS(eg_graph_commit(tx, &err), EG_CONFLICT, &err);
    G[NEO4J] = open_neo4j(eg_bolt_listener_port(listener));
    CHECK_STATUS(eg_graph_get_node(G[NEO4J], "t1", EG_LABEL_ANY, &(eg_node){0}, &err), EG_NOT_FOUND, &err);
    twins_close();
}

TEST(a_statement_the_server_refuses_leaves_the_transaction_only_for_rollback) {
    twins_open();
    eg_graph *tx;
    CHECK_OK(eg_graph_begin(G[NEO4J], &tx, &err), &err);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_EPISODE, "t1", NULL, &err), &err);
    eg_graph_set_schema(server_store, EG_SCHEMA_T4DM); /* the server refuses what this handle's schema allows */
    leaving_t4dm();
    eg_graph_set_schema(tx, EG_SCHEMA_OPEN);
    eg_label open_label;
    CHECK_OK(eg_label_parse("Contact", &open_label, &err), &err);
    eg_status st = eg_graph_create_node(tx, open_label, "c1", NULL, &err);
    CHECK(st == EG_INVALID_ARGUMENT);
    CHECK(!eg_status_is_store_failure(st));
    CHECK_STATUS(eg_graph_get_node(tx, "t1", EG_LABEL_ANY, &(eg_node){0}, &err), EG_CONFLICT, &err);
    CHECK_STATUS(eg_graph_commit(tx, &err), EG_CONFLICT, &err);
    CHECK_STATUS(eg_graph_get_node(G[NEO4J], "t1", EG_LABEL_ANY, &(eg_node){0}, &err), EG_NOT_FOUND, &err);
    twins_close();
}

/* ---- the open schema, threads ---- */

TEST(open_schema_names_go_through_every_kind_of_operation) {
    twins_open();
    eg_graph_set_schema(server_store, EG_SCHEMA_OPEN);
    leaving_t4dm();
    for (int i = 0; i < TWINS; i++) eg_graph_set_schema(G[i], EG_SCHEMA_OPEN);
    eg_label contact;
    eg_rel_type knows;
    CHECK_OK(eg_label_parse("Contact", &contact, &err), &err);
    CHECK_OK(eg_rel_type_parse("KNOWS", &knows, &err), &err);
    json_t *p = json_pack("{s:s}", "name", "Ann");
    BOTH(EG_OK, eg_graph_create_node(g, contact, "c1", p, &err));
    BOTH(EG_OK, eg_graph_create_node(g, contact, "c2", NULL, &err));
    BOTH(EG_OK, eg_graph_create_relationship(g, "c1", "c2", knows, NULL, &err));
    CHECK_NODE("c1", contact, EG_OK);
    CHECK_RELS("c2", knows, EG_DIR_IN);
    double w[TWINS];
    for (int i = 0; i < TWINS; i++)
        CHECK_OK(eg_graph_strengthen_relationship(G[i], "c2", "c1", knows, 0.5, &w[i], &err), &err);
    CHECK(w[EMBEDDED] == w[NEO4J]);
    eg_path path;
    CHECK_OK(eg_graph_find_path(G[NEO4J], "c1", "c2", 1, (eg_rel_type_set){&knows, 1}, &path, &err), &err);
    CHECK(path.node_count == 2 && path.nodes[1].label == contact && path.relationships[0].type == knows);
    eg_path_clear(&path);
    CHECK_COUNTS();
    pthread_mutex_lock(&sent.lock);
    CHECK(sent.unlabelled > 0); /* labels are unbounded here: by id alone (and the check above can see it) */
    pthread_mutex_unlock(&sent.lock);
    json_decref(p);
    twins_close();
}

#define THREADS 4
#define WRITES_PER_THREAD 25

static void *write_and_read(void *arg) {
    int t = (int)(intptr_t)arg;
    eg_error e;
    for (int k = 0; k < WRITES_PER_THREAD; k++) {
        char id[32], prev[32];
        snprintf(id, sizeof id, "w%d-%d", t, k);
        snprintf(prev, sizeof prev, "w%d-%d", t, k - 1);
        if (eg_graph_create_node(G[NEO4J], EG_LABEL_EPISODE, id, NULL, &e) != EG_OK) return (void *)1;
        if (k > 0 && eg_graph_create_relationship(G[NEO4J], prev, id, EG_REL_TEMPORAL_BEFORE, NULL, &e) != EG_OK)
            return (void *)1;
        eg_node n;
        if (eg_graph_get_node(G[NEO4J], id, EG_LABEL_EPISODE, &n, &e) != EG_OK) return (void *)1;
        eg_node_clear(&n);
        snprintf(id, sizeof id, "shared-%d", k); /* every thread creates it, the same: a no-op but for the first */
        if (eg_graph_create_node(G[NEO4J], EG_LABEL_ENTITY, id, NULL, &e) != EG_OK) return (void *)1;
    }
    return NULL;
}

TEST(threads_share_one_store) {
    twins_open();
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, write_and_read, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++) {
        void *failed;
        pthread_join(threads[t], &failed);
        CHECK(failed == NULL);
    }
    uint64_t n;
    CHECK_OK(eg_graph_count_nodes(G[NEO4J], EG_LABEL_EPISODE, &n, &err), &err);
    CHECK(n == THREADS * WRITES_PER_THREAD);
    CHECK_OK(eg_graph_count_nodes(G[NEO4J], EG_LABEL_ENTITY, &n, &err), &err);
    CHECK(n == WRITES_PER_THREAD);
    CHECK_OK(eg_graph_count_relationships(G[NEO4J], &n, &err), &err);
    CHECK(n == THREADS * (WRITES_PER_THREAD - 1));
    twins_close();
}

typedef struct late_writer {
    pthread_mutex_t lock;
    pthread_cond_t begun_cond;
    bool begun;
} late_writer;

/* Begins a transaction on its own thread, says so, and commits a node 200 ms later. */
static void *commit_later(void *arg) {
    late_writer *w = arg;
    eg_error e;
    eg_graph *tx;
    eg_status st = eg_graph_begin(G[NEO4J], &tx, &e);
    pthread_mutex_lock(&w->lock);
    w->begun = true;
    pthread_cond_signal(&w->begun_cond);
    pthread_mutex_unlock(&w->lock);
    if (st) return (void *)1;
    usleep(200 * 1000); /* the main thread is closing the store meanwhile */
    if (eg_graph_create_node(tx, EG_LABEL_EPISODE, "late", NULL, &e) != EG_OK) return (void *)1;
    return eg_graph_commit(tx, &e) == EG_OK ? NULL : (void *)1;
}

TEST(closing_the_store_waits_for_another_threads_transaction) {
    twins_open();
    late_writer w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    pthread_t other;
    pthread_create(&other, NULL, commit_later, &w);
    pthread_mutex_lock(&w.lock);
    while (!w.begun) pthread_cond_wait(&w.begun_cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    eg_graph_close(G[NEO4J]); /* waits for the commit */
    void *failed;
    pthread_join(other, &failed);
    CHECK(failed == NULL);
    G[NEO4J] = open_neo4j(eg_bolt_listener_port(listener));
    eg_node n;
    CHECK_OK(eg_graph_get_node(G[NEO4J], "late", EG_LABEL_ANY, &n, &err), &err);
    eg_node_clear(&n);
    twins_close();
}

/* ---- what only the Neo4j backend does ---- */

TEST(values_neo4j_cannot_store_are_caller_errors_naming_the_property) {
    twins_open();
    const char *bad[] = {"{\"meta\": {\"a\": 1}}", "{\"grid\": [[1, 2]]}", "{\"mixed\": [1, \"x\"]}",
                         "{\"numbers\": [1, 2.5]}", "{\"holes\": [1, null]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        CHECK_STATUS(eg_graph_create_node(G[NEO4J], EG_LABEL_ENTITY, "x", p, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(strstr(err.message, "property '"));
        CHECK_OK(eg_graph_create_node(G[NEO4J], EG_LABEL_ENTITY, "y", NULL, &err), &err);
        CHECK_STATUS(eg_graph_update_node(G[NEO4J], "y", p, EG_LABEL_ANY, &err), EG_INVALID_ARGUMENT, &err);
        CHECK_STATUS(eg_graph_create_relationship(G[NEO4J], "y", "y", EG_REL_USES, p, &err), EG_INVALID_ARGUMENT,
                     &err);
        json_decref(p);
    }
    json_t *reserved = json_pack("{s:i}", "decayedThrough", 5);
    CHECK_STATUS(eg_graph_create_relationship(G[NEO4J], "y", "y", EG_REL_USES, reserved, &err), EG_INVALID_ARGUMENT,
                 &err);
    json_decref(reserved);
    CHECK_STATUS(eg_graph_get_node(G[NEO4J], "x", EG_LABEL_ANY, &(eg_node){0}, &err), EG_NOT_FOUND, &err);
    uint64_t n;
    CHECK_OK(eg_graph_count_relationships(G[NEO4J], &n, &err), &err);
    CHECK(n == 0);
    twins_close();
}

TEST(a_server_that_is_down_is_unavailable_and_the_store_opens_anyway) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    REQUIRE(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    REQUIRE(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    close(fd); /* a port nobody listens on */
    eg_graph *g = open_neo4j(ntohs(addr.sin_port));
    REQUIRE(g);
    eg_node n;
    eg_status st = eg_graph_get_node(g, "a", EG_LABEL_ANY, &n, &err);
    CHECK(st == EG_UNAVAILABLE || st == EG_TIMEOUT);
    CHECK(eg_status_is_store_failure(st));
    json_t *p = json_pack("{s:{}}", "meta"); /* a caller error is refused before the server is asked */
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "a", p, &err), EG_INVALID_ARGUMENT, &err);
    json_decref(p);
    eg_graph_close(g);
}

int main(void) {
    RUN(nodes_round_trip_and_create_is_idempotent_with_conflicts);
    RUN(update_merges_null_removes_and_delete_detaches);
    RUN(batches_are_all_or_nothing_and_lists_page_in_id_order);
    RUN(find_nodes_finds_the_same_nodes_paging_the_same_way);
    RUN(relationships_merge_and_read_in_every_direction);
    RUN(batch_relationships_merge_in_order_and_are_all_or_nothing);
    RUN(strengthen_and_weaken_give_the_same_weights_bit_for_bit);
    RUN(decay_is_elapsed_time_based_idempotent_and_equal);
    RUN(find_path_matches_the_embedded_store_on_a_random_graph);
    RUN(transactions_commit_and_roll_back_like_the_embedded_store);
    RUN(closing_the_store_rolls_back_its_own_threads_transaction);
    RUN(closing_the_store_waits_for_another_threads_transaction);
    RUN(a_statement_the_server_refuses_leaves_the_transaction_only_for_rollback);
    RUN(open_schema_names_go_through_every_kind_of_operation);
    RUN(threads_share_one_store);
    RUN(values_neo4j_cannot_store_are_caller_errors_naming_the_property);
    RUN(a_server_that_is_down_is_unavailable_and_the_store_opens_anyway);
    return test_summary();
}
