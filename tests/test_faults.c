/* test_faults.c — the guard decorator (src/resilience/guard.h) and the fault rules built on it
 * (src/resilience/faults.h), through the public eg_graph_* / eg_vectors_* API on real embedded stores.
 *
 * Covered: a guard sees every operation of both interfaces under its table name (graph transactions' begin,
 * commit and rollback included) and forwards results unchanged;
 * a refusing `before` stops the call; every effect (fail, fail_rate, fail_after, delay_ms, kill_at) on both
 * stores; `*`; several rules on one call; replacing and clearing rules at run time (counters restart); every kind
 * of bad rule text refused with a message naming it while the old rules stay in force; caller errors passing
 * through unchanged; no rules changing nothing; kill_at killing a forked child exactly before the Nth call; rules
 * replaced while four threads call through the guard (meant for the sanitizer build). */
#include "test.h"

#include "resilience/faults.h"
#include "util/clock.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

static eg_error err;

/* ---- Stores --------------------------------------------------------------------------------------------- */

/* Small maps: these stores hold little, and a ThreadSanitizer build cannot reserve the default terabyte. */
#define MAP_SIZE (256u << 20)

static eg_graph *open_graph(const char *dir) {
    eg_graph_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = true};
    eg_graph *g;
    if (eg_graph_open_lmdb(dir, &options, &g, &err) != EG_OK) {
        fprintf(stderr, "cannot open a graph store: %s\n", err.message);
        exit(2);
    }
    return g;
}

static eg_vectors *open_vectors(const char *dir) {
    eg_vectors_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = true};
    eg_vectors *v;
    if (eg_vectors_open_lmdb(dir, &options, &v, &err) != EG_OK) {
        fprintf(stderr, "cannot open a vector store: %s\n", err.message);
        exit(2);
    }
    return v;
}

static eg_faults *new_faults(const char *rules) {
    eg_faults *f;
    if (eg_faults_new(rules, &f, &err) != EG_OK) {
        fprintf(stderr, "cannot parse fault rules '%s': %s\n", rules, err.message);
        exit(2);
    }
    return f;
}

/* A fresh graph store behind `guard`. */
static eg_graph *guarded_graph(const eg_guard *guard) {
    eg_graph *inner = open_graph(test_scratch_dir()), *g;
    if (eg_graph_guard(inner, guard, &g, &err) != EG_OK) {
        fprintf(stderr, "cannot guard a graph store: %s\n", err.message);
        exit(2);
    }
    return g;
}

static eg_vectors *guarded_vectors(const eg_guard *guard) {
    eg_vectors *inner = open_vectors(test_scratch_dir()), *v;
    if (eg_vectors_guard(inner, guard, &v, &err) != EG_OK) {
        fprintf(stderr, "cannot guard a vector store: %s\n", err.message);
        exit(2);
    }
    return v;
}

static const eg_collection_config small_config = {.dim = 2, .distance = EG_DISTANCE_DOT, .sparse = true};

static eg_status upsert_one(eg_vectors *v, const char *collection, uint64_t id) {
    float vector[2] = {1, (float)id};
    eg_point p = {.id = eg_point_id_num(id), .vector = vector, .dim = 2};
    return eg_vectors_upsert(v, collection, &p, 1, &err);
}

/* ---- Every operation once ------------------------------------------------------------------------------- */

#define GRAPH_CALLS 23
#define VECTORS_CALLS 17

/* The operation each call of call_every_*_op reaches, in call order. */
static const char *const graph_calls[GRAPH_CALLS] = {
    "create_node", "get_node", "get_nodes", "update_node", "delete_node", "batch_create_nodes", "list_nodes",
    "count_nodes", "find_nodes", "create_relationship", "batch_create_relationships", "delete_relationship",
    "get_relationships",
    "get_relationships_batch", "count_relationships", "reweight_relationship", "batch_decay_relationships",
    "count_stale_relationships", "find_path", "begin", "commit", "begin", "rollback"};
static const char *const vectors_calls[VECTORS_CALLS] = {
    "create_collection", "create_payload_index", "upsert", "get", "set_payload", "delete_payload_keys",
    "update_vectors", "count", "scroll", "search", "search_hybrid", "search_sparse", "delete_points",
    "delete_payload_index", "get_collection", "list_collections", "delete_collection"};

typedef struct call_results {
    eg_status status[GRAPH_CALLS];
    char message[GRAPH_CALLS][EG_ERROR_MESSAGE_MAX];
    size_t count;
} call_results;

static void note(call_results *r, eg_status st) {
    r->status[r->count] = st;
    snprintf(r->message[r->count], sizeof r->message[0], "%s", st == EG_OK ? "" : err.message);
    r->count++;
}

/* Calls every graph operation once through the public API, on nodes named after prefix; where those nodes do not
 * exist yet, each call succeeds. */
static void call_every_graph_op(eg_graph *g, const char *prefix, call_results *r) {
    char a[64], b[64], c[64], d[64];
    snprintf(a, sizeof a, "%s-a", prefix), snprintf(b, sizeof b, "%s-b", prefix);
    snprintf(c, sizeof c, "%s-c", prefix), snprintf(d, sizeof d, "%s-d", prefix);
    const char *just_a[] = {a}, *b_and_c[] = {b, c};
    eg_node_spec specs[] = {{EG_LABEL_ENTITY, b, NULL}, {EG_LABEL_ENTITY, c, NULL}, {EG_LABEL_EPISODE, d, NULL}};
    eg_relationship_spec links[] = {{c, d, EG_REL_USES, NULL}, {b, d, EG_REL_USES, NULL}};
    json_t *props = json_pack("{s:i}", "x", 1);
    eg_node node = {0};
    eg_node_list nodes = {0};
    eg_relationship_list rels = {0}, batch[2] = {{0}};
    eg_path path = {0};
    eg_decay_result decay;
    uint64_t n;
    double weight;
    r->count = 0;
    note(r, eg_graph_create_node(g, EG_LABEL_ENTITY, a, NULL, &err));
    note(r, eg_graph_get_node(g, a, EG_LABEL_ANY, &node, &err));
    eg_node_clear(&node);
    note(r, eg_graph_get_nodes(g, just_a, 1, &nodes, &err));
    eg_node_list_free(&nodes);
    note(r, eg_graph_update_node(g, a, props, EG_LABEL_ANY, &err));
    note(r, eg_graph_delete_node(g, a, EG_LABEL_ANY, &err));
    note(r, eg_graph_batch_create_nodes(g, specs, 3, &err));
    note(r, eg_graph_list_nodes(g, EG_LABEL_ANY, NULL, 100, &nodes, &err));
    eg_node_list_free(&nodes);
    note(r, eg_graph_count_nodes(g, EG_LABEL_ANY, &n, &err));
    eg_node_text_filter text = {"x", 1, NULL, 0, NULL};
    note(r, eg_graph_find_nodes(g, EG_LABEL_ANY, &text, NULL, 100, &nodes, &err));
    eg_node_list_free(&nodes);
    note(r, eg_graph_create_relationship(g, b, c, EG_REL_RELATES_TO, NULL, &err));
    note(r, eg_graph_batch_create_relationships(g, links, 2, &err));
    note(r, eg_graph_delete_relationship(g, b, d, EG_REL_USES, &err));
    note(r, eg_graph_get_relationships(g, b, EG_REL_ANY, EG_DIR_BOTH, &rels, &err));
    eg_relationship_list_free(&rels);
    note(r, eg_graph_get_relationships_batch(g, b_and_c, 2, EG_REL_ANY, EG_DIR_OUT, batch, &err));
    eg_relationship_list_free(&batch[0]), eg_relationship_list_free(&batch[1]);
    note(r, eg_graph_count_relationships(g, &n, &err));
    note(r, eg_graph_strengthen_relationship(g, b, c, EG_REL_RELATES_TO, 0.5, &weight, &err));
    note(r, eg_graph_batch_decay_relationships(g, 30, 0.1, 0.01, NULL, &decay, &err));
    note(r, eg_graph_count_stale_relationships(g, 30, NULL, &n, &err));
    note(r, eg_graph_find_path(g, b, d, 3, EG_REL_TYPES_ALL, &path, &err));
    eg_path_clear(&path);
    /* A transaction committed, then one rolled back; when begin fails, the end of its transaction is noted with
     * begin's status, having nothing to end. */
    eg_graph *tx;
    eg_status begun = eg_graph_begin(g, &tx, &err);
    note(r, begun);
    note(r, begun == EG_OK ? eg_graph_commit(tx, &err) : begun);
    note(r, begun = eg_graph_begin(g, &tx, &err));
    if (begun == EG_OK) eg_graph_rollback(tx);
    note(r, begun);
    json_decref(props);
}

/* Calls every vector operation once through the public API, on a collection named after prefix; where it does
 * not exist yet, each call succeeds (and the collection is gone again at the end). */
static void call_every_vectors_op(eg_vectors *v, const char *prefix, call_results *r) {
    char name[64];
    snprintf(name, sizeof name, "%s-c", prefix);
    float v1[2] = {1, 0}, v2[2] = {0, 1};
    uint32_t indices[1] = {3};
    float values[1] = {1};
    eg_sparse_vector sparse = {indices, values, 1};
    json_t *payload = json_pack("{s:s}", "k", "a"), *more = json_pack("{s:i}", "m", 1);
    eg_point points[2] = {{.id = eg_point_id_num(1), .vector = v1, .dim = 2, .sparse = sparse, .payload = payload},
                          {.id = eg_point_id_num(2), .vector = v2, .dim = 2, .sparse = sparse, .payload = payload}};
    eg_point moved = {.id = eg_point_id_num(1), .vector = v2, .dim = 2};
    eg_point_id ids[2] = {eg_point_id_num(1), eg_point_id_num(2)};
    const char *keys[] = {"m"};
    eg_scroll_request scroll = {.limit = 10, .with_payload = true};
    eg_search_request search = {.vector = v1, .dim = 2, .limit = 5, .with_payload = true};
    eg_hybrid_request hybrid = {.vector = v1, .dim = 2, .sparse = sparse, .limit = 5};
    eg_sparse_request sparse_search = {.vector = sparse, .limit = 5};
    eg_collection_info info = {0};
    eg_string_list names = {0};
    eg_point_list list = {0};
    eg_scored_list scored = {0};
    eg_point_id next;
    bool has_next;
    uint64_t n;
    r->count = 0;
    note(r, eg_vectors_create_collection(v, name, &small_config, &err));
    note(r, eg_vectors_create_payload_index(v, name, "k", EG_PAYLOAD_KEYWORD, &err));
    note(r, eg_vectors_upsert(v, name, points, 2, &err));
    note(r, eg_vectors_get(v, name, ids, 2, true, true, &list, &err));
    eg_point_list_free(&list);
    note(r, eg_vectors_set_payload(v, name, ids, 1, more, EG_PAYLOAD_MERGE, &err));
    note(r, eg_vectors_delete_payload_keys(v, name, ids, 1, keys, 1, &err));
    note(r, eg_vectors_update_vectors(v, name, &moved, 1, &err));
    note(r, eg_vectors_count(v, name, NULL, &n, &err));
    note(r, eg_vectors_scroll(v, name, &scroll, &list, &next, &has_next, &err));
    eg_point_list_free(&list);
    note(r, eg_vectors_search(v, name, &search, &scored, &err));
    eg_scored_list_free(&scored);
    note(r, eg_vectors_search_hybrid(v, name, &hybrid, &scored, &err));
    eg_scored_list_free(&scored);
    note(r, eg_vectors_search_sparse(v, name, &sparse_search, &scored, &err));
    eg_scored_list_free(&scored);
    note(r, eg_vectors_delete(v, name, ids + 1, 1, NULL, &n, &err));
    note(r, eg_vectors_delete_payload_index(v, name, "k", &err));
    note(r, eg_vectors_get_collection(v, name, &info, &err));
    eg_collection_info_clear(&info);
    note(r, eg_vectors_list_collections(v, &names, &err));
    eg_string_list_free(&names);
    note(r, eg_vectors_delete_collection(v, name, &err));
    json_decref(payload);
    json_decref(more);
}

static bool every_status_is(const call_results *r, eg_status expected) {
    for (size_t i = 0; i < r->count; i++)
        if (r->status[i] != expected) {
            fprintf(stderr, "  call %zu -> %s (%s)\n", i, eg_status_name(r->status[i]), r->message[i]);
            return false;
        }
    return true;
}

/* ---- A guard that records what it sees ------------------------------------------------------------------ */

typedef struct recorder {
    char before[64][48], after[64][48];
    eg_status after_status[64];
    size_t befores, afters;
    const char *refuse; /* "store.op" that `before` refuses with EG_CONFLICT, or NULL */
} recorder;

static eg_status record_before(void *self, const char *store, const char *op, eg_error *e) {
    recorder *r = self;
    char name[48];
    snprintf(name, sizeof name, "%s.%s", store, op);
    if (r->befores < 64) memcpy(r->before[r->befores++], name, sizeof name);
    if (r->refuse && strcmp(r->refuse, name) == 0) return eg_error_set(e, EG_CONFLICT, "refused %s", name);
    return EG_OK;
}

static void record_after(void *self, const char *store, const char *op, eg_status status, const eg_error *e) {
    recorder *r = self;
    (void)e;
    if (r->afters < 64) {
        snprintf(r->after[r->afters], sizeof r->after[0], "%s.%s", store, op);
        r->after_status[r->afters++] = status;
    }
}

static bool names_an_op(const char *const *names, const char *store, const recorder *r) {
    for (size_t i = 0; names[i]; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s.%s", store, names[i]);
        bool seen = false;
        for (size_t k = 0; k < r->befores; k++) seen |= strcmp(r->before[k], name) == 0;
        if (!seen) {
            fprintf(stderr, "  %s never reached the guard\n", name);
            return false;
        }
    }
    return true;
}

TEST(graph_guard_sees_every_operation_by_its_table_name) {
    recorder rec = {0};
    eg_guard guard = {record_before, record_after, &rec};
    eg_graph *g = guarded_graph(&guard);
    CHECK(strcmp(g->name, "graph") == 0);
    call_results r;
    call_every_graph_op(g, "g", &r);
    CHECK(every_status_is(&r, EG_OK));
    REQUIRE(rec.befores == GRAPH_CALLS && rec.afters == GRAPH_CALLS);
    for (size_t i = 0; i < GRAPH_CALLS; i++) {
        char expected[48];
        snprintf(expected, sizeof expected, "graph.%s", graph_calls[i]);
        CHECK(strcmp(rec.before[i], expected) == 0);
        CHECK(strcmp(rec.after[i], expected) == 0);
        CHECK(rec.after_status[i] == EG_OK);
    }
    CHECK(names_an_op(eg_graph_op_names, "graph", &rec));
    eg_graph_close(g);
}

TEST(vectors_guard_sees_every_operation_by_its_table_name) {
    recorder rec = {0};
    eg_guard guard = {record_before, record_after, &rec};
    eg_vectors *v = guarded_vectors(&guard);
    CHECK(strcmp(v->name, "vectors") == 0);
    call_results r;
    call_every_vectors_op(v, "v", &r);
    CHECK(every_status_is(&r, EG_OK));
    REQUIRE(rec.befores == VECTORS_CALLS && rec.afters == VECTORS_CALLS);
    for (size_t i = 0; i < VECTORS_CALLS; i++) {
        char expected[48];
        snprintf(expected, sizeof expected, "vectors.%s", vectors_calls[i]);
        CHECK(strcmp(rec.before[i], expected) == 0);
        CHECK(strcmp(rec.after[i], expected) == 0);
    }
    CHECK(names_an_op(eg_vectors_op_names, "vectors", &rec));
    eg_vectors_close(v);
}

TEST(a_refusing_before_stops_the_call_and_after_sees_only_calls_that_ran) {
    recorder rec = {.refuse = "graph.create_node"};
    eg_guard guard = {record_before, record_after, &rec};
    eg_graph *g = guarded_graph(&guard);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "x", NULL, &err), EG_CONFLICT, &err);
    CHECK(strcmp(err.message, "refused graph.create_node") == 0);
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(g, "x", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    CHECK(rec.befores == 2 && rec.afters == 1);
    CHECK(strcmp(rec.after[0], "graph.get_node") == 0 && rec.after_status[0] == EG_NOT_FOUND);
    eg_graph_close(g);

    rec = (recorder){.refuse = "vectors.upsert"};
    eg_vectors *v = guarded_vectors(&guard);
    CHECK_OK(eg_vectors_create_collection(v, "c", &small_config, &err), &err);
    CHECK_STATUS(upsert_one(v, "c", 1), EG_CONFLICT, &err);
    uint64_t count = 99;
    CHECK_OK(eg_vectors_count(v, "c", NULL, &count, &err), &err);
    CHECK(count == 0);
    CHECK(rec.afters == 2);
    eg_vectors_close(v);
}

TEST(a_guard_with_no_callbacks_or_no_rules_changes_nothing) {
    eg_guard nothing = {0};
    eg_faults *f = new_faults("");
    eg_guard no_rules = eg_faults_guard(f);
    eg_graph *plain = open_graph(test_scratch_dir());
    eg_graph *empty = guarded_graph(&nothing), *ruled = guarded_graph(&no_rules);
    call_results expected, got;
    call_every_graph_op(plain, "n", &expected);
    CHECK(every_status_is(&expected, EG_OK));
    call_every_graph_op(empty, "n", &got);
    CHECK(every_status_is(&got, EG_OK));
    call_every_graph_op(ruled, "n", &got);
    CHECK(every_status_is(&got, EG_OK));
    /* Run again on the same nodes: the same mix of successes and conflicts everywhere, messages included. */
    call_every_graph_op(plain, "n", &expected);
    call_every_graph_op(ruled, "n", &got);
    for (size_t i = 0; i < GRAPH_CALLS; i++) {
        CHECK(got.status[i] == expected.status[i]);
        CHECK(strcmp(got.message[i], expected.message[i]) == 0);
    }
    eg_graph_close(plain), eg_graph_close(empty), eg_graph_close(ruled);

    eg_vectors *vplain = open_vectors(test_scratch_dir()), *vruled = guarded_vectors(&no_rules);
    call_every_vectors_op(vplain, "n", &expected);
    call_every_vectors_op(vruled, "n", &got);
    CHECK(every_status_is(&got, EG_OK));
    for (size_t i = 0; i < VECTORS_CALLS; i++) CHECK(got.status[i] == expected.status[i]);
    eg_vectors_close(vplain), eg_vectors_close(vruled);
    eg_faults_free(f);
}

TEST(guard_refuses_null_arguments) {
    eg_guard nothing = {0};
    eg_graph *g;
    eg_vectors *v;
    CHECK_STATUS(eg_graph_guard(NULL, &nothing, &g, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_vectors_guard(NULL, &nothing, &v, &err), EG_INVALID_ARGUMENT, &err);
    eg_graph *inner = open_graph(test_scratch_dir());
    CHECK_STATUS(eg_graph_guard(inner, NULL, &g, &err), EG_INVALID_ARGUMENT, &err);
    eg_graph_close(inner); /* a refused wrap leaves inner the caller's */
}

/* ---- Effects -------------------------------------------------------------------------------------------- */

TEST(fail_fails_the_operation_named_and_writes_nothing) {
    eg_faults *f = new_faults("graph.create_node=fail");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "x", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(strcmp(err.message, "injected fault: graph.create_node=fail") == 0);
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(g, "x", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    uint64_t count = 99;
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK(count == 0);
    eg_node_spec spec = {EG_LABEL_ENTITY, "y", NULL};
    CHECK_OK(eg_graph_batch_create_nodes(g, &spec, 1, &err), &err); /* another operation: untouched */
    eg_graph_close(g);

    CHECK_OK(eg_faults_set(f, "vectors.upsert=fail", &err), &err);
    eg_vectors *v = guarded_vectors(&guard);
    CHECK_OK(eg_vectors_create_collection(v, "c", &small_config, &err), &err);
    CHECK_STATUS(upsert_one(v, "c", 1), EG_UNAVAILABLE, &err);
    CHECK(strcmp(err.message, "injected fault: vectors.upsert=fail") == 0);
    CHECK_OK(eg_vectors_count(v, "c", NULL, &count, &err), &err);
    CHECK(count == 0);
    eg_vectors_close(v);
    eg_faults_free(f);
}

TEST(star_matches_every_operation_of_its_store_only) {
    eg_faults *f = new_faults("graph.*=fail");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    eg_vectors *v = guarded_vectors(&guard);
    call_results r;
    call_every_graph_op(g, "s", &r);
    CHECK(every_status_is(&r, EG_UNAVAILABLE));
    CHECK(strcmp(r.message[0], "injected fault: graph.*=fail (graph.create_node)") == 0);
    CHECK(strcmp(r.message[18], "injected fault: graph.*=fail (graph.find_path)") == 0);
    CHECK(strcmp(r.message[GRAPH_CALLS - 1], "injected fault: graph.*=fail (graph.begin)") == 0);
    call_every_vectors_op(v, "s", &r);
    CHECK(every_status_is(&r, EG_OK));

    CHECK_OK(eg_faults_set(f, "vectors.*=fail", &err), &err);
    call_every_vectors_op(v, "s", &r);
    CHECK(every_status_is(&r, EG_UNAVAILABLE));
    CHECK(strstr(r.message[2], "(vectors.upsert)") != NULL);
    call_every_graph_op(g, "s", &r);
    CHECK(every_status_is(&r, EG_OK));
    eg_graph_close(g);
    eg_vectors_close(v);
    eg_faults_free(f);
}

TEST(fail_times_fails_the_first_n_matching_calls_only) {
    eg_faults *f = new_faults("graph.create_node=fail_times:2");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "n1", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(strcmp(err.message, "injected fault: graph.create_node=fail_times:2") == 0);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "n1", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "n1", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "n2", NULL, &err), &err);
    uint64_t count;
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK(count == 2);
    eg_graph_close(g);
    eg_faults_free(f);
}

TEST(fail_after_lets_the_first_n_matching_calls_run) {
    eg_faults *f = new_faults("graph.create_node=fail_after:2;vectors.upsert=fail_after:2");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    eg_node n;
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "n1", NULL, &err), &err);
    CHECK_OK(eg_graph_get_node(g, "n1", EG_LABEL_ANY, &n, &err), &err); /* not counted */
    eg_node_clear(&n);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "n2", NULL, &err), &err);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "n3", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(strcmp(err.message, "injected fault: graph.create_node=fail_after:2") == 0);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "n4", NULL, &err), EG_UNAVAILABLE, &err);
    uint64_t count;
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK(count == 2);
    eg_graph_close(g);

    eg_vectors *v = guarded_vectors(&guard);
    CHECK_OK(eg_vectors_create_collection(v, "c", &small_config, &err), &err);
    CHECK_OK(upsert_one(v, "c", 1), &err);
    CHECK_OK(upsert_one(v, "c", 2), &err);
    CHECK_STATUS(upsert_one(v, "c", 3), EG_UNAVAILABLE, &err);
    CHECK_OK(eg_vectors_count(v, "c", NULL, &count, &err), &err);
    CHECK(count == 2);
    eg_vectors_close(v);
    eg_faults_free(f);
}

/* Which of `calls` count calls fail, as a string of '0' and '1'. */
static void vectors_failure_pattern(eg_vectors *v, int calls, char *pattern) {
    uint64_t n;
    for (int i = 0; i < calls; i++) {
        eg_status st = eg_vectors_count(v, "c", NULL, &n, &err);
        pattern[i] = st == EG_UNAVAILABLE ? '1' : st == EG_OK ? '0' : '?';
    }
    pattern[calls] = '\0';
}

static void graph_failure_pattern(eg_graph *g, int calls, char *pattern) {
    uint64_t n;
    for (int i = 0; i < calls; i++) {
        eg_status st = eg_graph_count_nodes(g, EG_LABEL_ANY, &n, &err);
        pattern[i] = st == EG_UNAVAILABLE ? '1' : st == EG_OK ? '0' : '?';
    }
    pattern[calls] = '\0';
}

static int ones(const char *pattern) {
    int n = 0;
    for (; *pattern; pattern++) n += *pattern == '1';
    return n;
}

#define DRAWS 400

TEST(fail_rate_is_seeded_deterministic_and_near_its_rate) {
    char first[DRAWS + 1], again[DRAWS + 1], other[DRAWS + 1], graph[DRAWS + 1];
    eg_faults *f = new_faults("vectors.count=fail_rate:0.5:7");
    eg_guard guard = eg_faults_guard(f);
    eg_vectors *v = guarded_vectors(&guard);
    CHECK_OK(eg_vectors_create_collection(v, "c", &small_config, &err), &err);
    vectors_failure_pattern(v, DRAWS, first);
    CHECK(strchr(first, '?') == NULL);
    CHECK(ones(first) > DRAWS * 4 / 10 && ones(first) < DRAWS * 6 / 10);
    CHECK_OK(eg_faults_set(f, "vectors.count=fail_rate:0.5:7", &err), &err); /* the sequence restarts */
    vectors_failure_pattern(v, DRAWS, again);
    CHECK(strcmp(first, again) == 0);
    eg_faults *f2 = new_faults("vectors.count = fail_rate : 0.5 : 7"); /* a second, independent run */
    eg_guard guard2 = eg_faults_guard(f2);
    eg_vectors *v2 = guarded_vectors(&guard2);
    CHECK_OK(eg_vectors_create_collection(v2, "c", &small_config, &err), &err);
    vectors_failure_pattern(v2, DRAWS, again);
    CHECK(strcmp(first, again) == 0);
    CHECK_OK(eg_faults_set(f, "vectors.count=fail_rate:0.5:8", &err), &err);
    vectors_failure_pattern(v, DRAWS, other);
    CHECK(strcmp(first, other) != 0);
    CHECK(ones(other) > DRAWS * 4 / 10 && ones(other) < DRAWS * 6 / 10);
    CHECK_OK(eg_faults_set(f, "vectors.count=fail_rate:0.5", &err), &err); /* default seed 1 */
    vectors_failure_pattern(v, DRAWS, other);
    CHECK_OK(eg_faults_set(f, "vectors.count=fail_rate:0.5:1", &err), &err);
    vectors_failure_pattern(v, DRAWS, again);
    CHECK(strcmp(other, again) == 0);
    CHECK_OK(eg_faults_set(f, "vectors.count=fail_rate:0", &err), &err);
    vectors_failure_pattern(v, DRAWS, other);
    CHECK(ones(other) == 0);
    CHECK_OK(eg_faults_set(f, "vectors.count=fail_rate:1", &err), &err);
    vectors_failure_pattern(v, DRAWS, other);
    CHECK(ones(other) == DRAWS);
    CHECK_OK(eg_faults_set(f, "vectors.count=fail_rate:0.1:7", &err), &err);
    vectors_failure_pattern(v, DRAWS, other);
    CHECK(ones(other) > DRAWS * 5 / 100 && ones(other) < DRAWS * 15 / 100);
    eg_vectors_close(v);
    eg_vectors_close(v2);
    eg_faults_free(f2);

    /* The graph store draws from the same kind of sequence: the same seed fails the same calls. */
    CHECK_OK(eg_faults_set(f, "graph.count_nodes=fail_rate:0.5:7", &err), &err);
    eg_graph *g = guarded_graph(&guard);
    graph_failure_pattern(g, DRAWS, graph);
    CHECK(strcmp(first, graph) == 0);
    eg_graph_close(g);
    eg_faults_free(f);
}

static double elapsed_ms(uint64_t since_ns) { return (double)(eg_monotonic_ns() - since_ns) / 1e6; }

TEST(delay_ms_sleeps_then_runs_the_call) {
    eg_faults *f = new_faults("graph.create_node=delay_ms:60;vectors.upsert=delay_ms:40");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    uint64_t start = eg_monotonic_ns();
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "late", NULL, &err), &err);
    CHECK(elapsed_ms(start) >= 60);
    eg_node n;
    start = eg_monotonic_ns();
    CHECK_OK(eg_graph_get_node(g, "late", EG_LABEL_ANY, &n, &err), &err); /* not delayed, and written */
    eg_node_clear(&n);
    CHECK(elapsed_ms(start) < 60);
    eg_graph_close(g);

    eg_vectors *v = guarded_vectors(&guard);
    CHECK_OK(eg_vectors_create_collection(v, "c", &small_config, &err), &err);
    start = eg_monotonic_ns();
    CHECK_OK(upsert_one(v, "c", 1), &err);
    CHECK(elapsed_ms(start) >= 40);
    uint64_t count;
    CHECK_OK(eg_vectors_count(v, "c", NULL, &count, &err), &err);
    CHECK(count == 1);
    eg_vectors_close(v);
    eg_faults_free(f);
}

TEST(several_rules_on_one_call_all_apply_in_order) {
    eg_faults *f = new_faults("graph.create_node=delay_ms:50; graph.create_node=fail");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    uint64_t start = eg_monotonic_ns();
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "x", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(elapsed_ms(start) >= 50); /* delayed, then failed */
    CHECK(strcmp(err.message, "injected fault: graph.create_node=fail") == 0);

    /* A rule after the one that fails a call still applies to it: the delay is slept and the counter counts. */
    CHECK_OK(eg_faults_set(f, "graph.create_node=fail; graph.create_node=delay_ms:50; graph.*=fail_after:1", &err),
             &err);
    start = eg_monotonic_ns();
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "x", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(elapsed_ms(start) >= 50);
    CHECK(strcmp(err.message, "injected fault: graph.create_node=fail") == 0); /* the first failing rule's */
    uint64_t count;
    CHECK_STATUS(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), EG_UNAVAILABLE, &err); /* its 2nd call */
    CHECK(strcmp(err.message, "injected fault: graph.*=fail_after:1 (graph.count_nodes)") == 0);
    eg_graph_close(g);
    eg_faults_free(f);
}

/* Runs in a forked child: writes through a guard that kills the process at the second matching call. Exits 0
 * only if it survived that call, 3 if the first call failed. _exit: the parent's atexit handlers (which remove
 * scratch folders) must not run here. */
static void graph_child(const char *dir) {
    eg_graph *inner = open_graph(dir), *g;
    eg_faults *f = new_faults("graph.create_node=kill_at:2");
    eg_guard guard = eg_faults_guard(f);
    eg_node n;
    if (eg_graph_guard(inner, &guard, &g, &err) != EG_OK ||
        eg_graph_create_node(g, EG_LABEL_ENTITY, "first", NULL, &err) != EG_OK ||
        eg_graph_get_node(g, "first", EG_LABEL_ANY, &n, &err) != EG_OK)
        _exit(3);
    eg_node_clear(&n);
    eg_graph_create_node(g, EG_LABEL_ENTITY, "second", NULL, &err);
    _exit(0);
}

static void vectors_child(const char *dir) {
    eg_vectors *inner = open_vectors(dir), *v;
    eg_faults *f = new_faults("vectors.upsert=kill_at:2");
    eg_guard guard = eg_faults_guard(f);
    if (eg_vectors_guard(inner, &guard, &v, &err) != EG_OK ||
        eg_vectors_create_collection(v, "c", &small_config, &err) != EG_OK || upsert_one(v, "c", 1) != EG_OK)
        _exit(3);
    upsert_one(v, "c", 2);
    _exit(0);
}

static bool child_was_killed(void (*child)(const char *), const char *dir) {
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) child(dir);
    int status;
    if (waitpid(pid, &status, 0) != pid) return false;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        fprintf(stderr, "  child ended with status %d, not killed by SIGKILL\n", status);
        return false;
    }
    return true;
}

TEST(kill_at_kills_the_process_just_before_the_nth_matching_call) {
    const char *dir = test_scratch_dir();
    CHECK(child_was_killed(graph_child, dir));
    eg_graph *g = open_graph(dir);
    eg_node n = {0};
    CHECK_OK(eg_graph_get_node(g, "first", EG_LABEL_ANY, &n, &err), &err);
    eg_node_clear(&n);
    CHECK_STATUS(eg_graph_get_node(g, "second", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    eg_node_clear(&n);
    eg_graph_close(g);

    dir = test_scratch_dir();
    CHECK(child_was_killed(vectors_child, dir));
    eg_vectors *v = open_vectors(dir);
    eg_point_id ids[2] = {eg_point_id_num(1), eg_point_id_num(2)};
    eg_point_list list = {0};
    CHECK_OK(eg_vectors_get(v, "c", ids, 2, false, false, &list, &err), &err);
    CHECK(list.count == 1 && list.items[0].id.num == 1);
    eg_point_list_free(&list);
    eg_vectors_close(v);
}

/* ---- Rules at run time ---------------------------------------------------------------------------------- */

TEST(set_replaces_and_clears_rules_and_restarts_counters) {
    eg_faults *f = new_faults("graph.create_node=fail");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    uint64_t count;
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "a", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK_OK(eg_faults_set(f, "graph.count_nodes=fail", &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "a", NULL, &err), &err);
    CHECK_STATUS(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), EG_UNAVAILABLE, &err);
    CHECK_OK(eg_faults_set(f, "", &err), &err);
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK(count == 1);
    CHECK_OK(eg_faults_set(f, "graph.count_nodes=fail_after:1", &err), &err);
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK_STATUS(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), EG_UNAVAILABLE, &err);
    CHECK_OK(eg_faults_set(f, "graph.count_nodes=fail_after:1", &err), &err); /* same text: counting anew */
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK_STATUS(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), EG_UNAVAILABLE, &err);
    CHECK_OK(eg_faults_set(f, NULL, &err), &err);
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK_OK(eg_faults_set(f, " ; ;; ", &err), &err);
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    eg_graph_close(g);
    eg_faults_free(f);
}

TEST(whitespace_and_empty_rules_are_allowed) {
    eg_faults *f = new_faults("  graph . create_node = fail ;; ; vectors.* = delay_ms : 0 ;");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "a", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(strcmp(err.message, "injected fault: graph.create_node=fail") == 0);
    eg_graph_close(g);
    eg_vectors *v = guarded_vectors(&guard);
    CHECK_OK(eg_vectors_create_collection(v, "c", &small_config, &err), &err);
    eg_vectors_close(v);
    eg_faults_free(f);
    CHECK_OK(eg_faults_new(NULL, &f, &err), &err);
    eg_faults_free(f);
}

TEST(bad_rule_text_is_refused_naming_the_rule_and_the_old_rules_stay) {
    static const struct {
        const char *text, *rule, *why;
    } bad[] = {
        {"disk.create_node=fail", "disk.create_node=fail", "unknown store 'disk'"},
        {"Graph.create_node=fail", "Graph.create_node=fail", "unknown store 'Graph'"},
        {"graph.upsert=fail", "graph.upsert=fail", "unknown operation 'upsert' of the graph store"},
        {"vectors.create_node=fail", "vectors.create_node=fail", "unknown operation 'create_node' of the vectors"},
        {"graph.close=fail", "graph.close=fail", "unknown operation 'close'"},
        {"vectors.delete=fail", "vectors.delete=fail", "unknown operation 'delete'"},
        {"graph.create_node=explode", "graph.create_node=explode", "unknown effect 'explode'"},
        {"graph.create_node=", "graph.create_node=", "unknown effect ''"},
        {"graph.create_node", "graph.create_node", "expected STORE.OP=EFFECT"},
        {"create_node=fail", "create_node=fail", "expected STORE.OP=EFFECT"},
        {"graph.create_node=fail:3", "graph.create_node=fail:3", "'fail' takes no argument"},
        {"graph.create_node=fail_rate", "graph.create_node=fail_rate", "takes P[:SEED]"},
        {"graph.create_node=fail_rate:1.5", "graph.create_node=fail_rate:1.5", "bad number '1.5' for P"},
        {"graph.create_node=fail_rate:-0.1", "graph.create_node=fail_rate:-0.1", "bad number '-0.1' for P"},
        {"graph.create_node=fail_rate:half", "graph.create_node=fail_rate:half", "bad number 'half' for P"},
        {"graph.create_node=fail_rate:nan", "graph.create_node=fail_rate:nan", "bad number 'nan' for P"},
        {"graph.create_node=fail_rate:0.5:-1", "graph.create_node=fail_rate:0.5:-1", "bad number '-1' for SEED"},
        {"graph.create_node=fail_rate:0.5:1:2", "graph.create_node=fail_rate:0.5:1:2", "takes P[:SEED]"},
        {"graph.create_node=fail_after", "graph.create_node=fail_after", "takes one argument N"},
        {"graph.create_node=fail_after:1:2", "graph.create_node=fail_after:1:2", "takes one argument N"},
        {"graph.create_node=fail_after:-1", "graph.create_node=fail_after:-1", "bad number '-1' for N"},
        {"graph.create_node=fail_after:2x", "graph.create_node=fail_after:2x", "bad number '2x' for N"},
        {"graph.create_node=fail_after:99999999999999999999", "graph.create_node=fail_after:99999999999999999999",
         "bad number"},
        {"graph.create_node=delay_ms:3600001", "graph.create_node=delay_ms:3600001", "from 0 to 3600000"},
        {"graph.create_node=kill_at:0", "graph.create_node=kill_at:0", "bad number '0' for N of kill_at"},
        {"graph.get_node=fail; graph.create_node=nope ;", "graph.create_node=nope", "unknown effect 'nope'"},
    };
    eg_faults *f = new_faults("graph.count_nodes=fail");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *g = guarded_graph(&guard);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "a", NULL, &err), &err);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char expected[256];
        snprintf(expected, sizeof expected, "invalid fault rule '%s': ", bad[i].rule);
        CHECK_STATUS(eg_faults_set(f, bad[i].text, &err), EG_INVALID_ARGUMENT, &err);
        if (strncmp(err.message, expected, strlen(expected)) != 0 || !strstr(err.message, bad[i].why)) {
            fprintf(stderr, "  '%s' -> %s\n", bad[i].text, err.message);
            CHECK(!"the message names the rule and the reason");
        }
        eg_faults *never = NULL;
        CHECK_STATUS(eg_faults_new(bad[i].text, &never, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(never == NULL);
        /* The old rules are still in force, and nothing of the bad text is. */
        uint64_t count;
        eg_node n;
        CHECK_STATUS(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), EG_UNAVAILABLE, &err);
        CHECK_OK(eg_graph_get_node(g, "a", EG_LABEL_ANY, &n, &err), &err);
        eg_node_clear(&n);
    }
    eg_graph_close(g);
    eg_faults_free(f);
}

/* ---- Caller errors -------------------------------------------------------------------------------------- */

TEST(caller_errors_pass_through_the_guard_unchanged) {
    eg_faults *f = new_faults("graph.count_nodes=fail;vectors.count=fail");
    eg_guard guard = eg_faults_guard(f);
    eg_graph *inner = open_graph(test_scratch_dir()), *g;
    REQUIRE(eg_graph_guard(inner, &guard, &g, &err) == EG_OK);
    eg_error direct;
    eg_node n;
    json_t *p1 = json_pack("{s:i}", "v", 1), *p2 = json_pack("{s:i}", "v", 2);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "a", p1, &err), &err);
    /* The same caller errors asked of the inner store directly and through the guard. */
    CHECK_STATUS(eg_graph_get_node(inner, "missing", EG_LABEL_ANY, &n, &direct), EG_NOT_FOUND, &direct);
    CHECK_STATUS(eg_graph_get_node(g, "missing", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    CHECK(strcmp(err.message, direct.message) == 0);
    CHECK_STATUS(eg_graph_create_node(inner, EG_LABEL_ENTITY, "a", p2, &direct), EG_CONFLICT, &direct);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "a", p2, &err), EG_CONFLICT, &err);
    CHECK(strcmp(err.message, direct.message) == 0);
    CHECK_STATUS(eg_graph_create_relationship(inner, "a", "nobody", EG_REL_USES, NULL, &direct), EG_NOT_FOUND,
                 &direct);
    CHECK_STATUS(eg_graph_create_relationship(g, "a", "nobody", EG_REL_USES, NULL, &err), EG_NOT_FOUND, &err);
    CHECK(strcmp(err.message, direct.message) == 0);
    CHECK_STATUS(eg_graph_create_node(inner, EG_LABEL_ENTITY, "../x", NULL, &direct), EG_INVALID_ARGUMENT, &direct);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "../x", NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, direct.message) == 0);
    /* A call that validation refuses never reaches the rules: count_nodes fails only once it is well formed. */
    CHECK_STATUS(eg_graph_count_nodes(g, (eg_label)42, NULL, &err), EG_INVALID_ARGUMENT, &err);
    eg_graph_close(g);
    json_decref(p1);
    json_decref(p2);

    eg_vectors *vinner = open_vectors(test_scratch_dir()), *v;
    REQUIRE(eg_vectors_guard(vinner, &guard, &v, &err) == EG_OK);
    eg_collection_info info = {0};
    CHECK_STATUS(eg_vectors_get_collection(vinner, "missing", &info, &direct), EG_NOT_FOUND, &direct);
    CHECK_STATUS(eg_vectors_get_collection(v, "missing", &info, &err), EG_NOT_FOUND, &err);
    CHECK(strcmp(err.message, direct.message) == 0);
    CHECK_STATUS(upsert_one(v, "missing", 1), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_vectors_count(v, "missing", NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    eg_vectors_close(v);
    eg_faults_free(f);
}

/* ---- Threads -------------------------------------------------------------------------------------------- */

#define CALLERS 4
#define REPLACEMENTS 500

static eg_graph *shared_graph;
static atomic_bool setter_done;
static atomic_long calls_done;

typedef struct caller_stats {
    int id;
    long ok, injected, wrong;
    char first_wrong[EG_ERROR_MESSAGE_MAX];
} caller_stats;

static void tally(caller_stats *s, eg_status st, const eg_error *e, eg_status expected) {
    if (st == expected) s->ok++;
    else if (st == EG_UNAVAILABLE && strncmp(e->message, "injected fault: ", 16) == 0) s->injected++;
    else if (s->wrong++ == 0)
        snprintf(s->first_wrong, sizeof s->first_wrong, "%s: %.400s", eg_status_name(st), e->message);
    atomic_fetch_add(&calls_done, 1);
}

static void *call_loop(void *arg) {
    caller_stats *s = arg;
    eg_error e;
    for (int i = 0; !atomic_load(&setter_done); i++) {
        char id[32];
        snprintf(id, sizeof id, "t%d-%d", s->id, i % 50);
        tally(s, eg_graph_create_node(shared_graph, EG_LABEL_ENTITY, id, NULL, &e), &e, EG_OK);
        eg_node n = {0};
        tally(s, eg_graph_get_node(shared_graph, "never", EG_LABEL_ANY, &n, &e), &e, EG_NOT_FOUND);
        uint64_t count;
        tally(s, eg_graph_count_nodes(shared_graph, EG_LABEL_ANY, &count, &e), &e, EG_OK);
    }
    return NULL;
}

/* Replaces the rules REPLACEMENTS times, each time letting more calls finish than there are callers, so that at
 * least one call started under each new set of rules; then leaves rules that touch no graph operation. */
static void *set_loop(void *arg) {
    eg_faults *f = arg;
    static const char *const texts[] = {
        "",
        "graph.*=fail",
        "graph.create_node=fail_rate:0.5:3;graph.get_node=fail_after:5",
        "graph.count_nodes=delay_ms:1;graph.*=fail_rate:0.2",
        "graph.get_node=fail;graph.get_node=fail_after:0;graph.*=delay_ms:0",
    };
    eg_error e;
    long refused = 0;
    for (int i = 0; i < REPLACEMENTS; i++) {
        refused += eg_faults_set(f, texts[i % 5], &e) != EG_OK;
        long mark = atomic_load(&calls_done);
        while (atomic_load(&calls_done) <= mark + CALLERS) sched_yield();
    }
    refused += eg_faults_set(f, "vectors.*=fail", &e) != EG_OK;
    atomic_store(&setter_done, true);
    return (void *)(intptr_t)refused;
}

TEST(rules_can_be_replaced_while_threads_call_through_the_guard) {
    eg_faults *f = new_faults("graph.*=fail_rate:0.5");
    eg_guard guard = eg_faults_guard(f);
    shared_graph = guarded_graph(&guard);
    atomic_store(&setter_done, false);
    atomic_store(&calls_done, 0);
    pthread_t callers[CALLERS], setter;
    caller_stats stats[CALLERS];
    for (int t = 0; t < CALLERS; t++) {
        stats[t] = (caller_stats){.id = t};
        REQUIRE(pthread_create(&callers[t], NULL, call_loop, &stats[t]) == 0);
    }
    REQUIRE(pthread_create(&setter, NULL, set_loop, f) == 0);
    void *refused;
    pthread_join(setter, &refused);
    CHECK(refused == NULL);
    long ok = 0, injected = 0;
    for (int t = 0; t < CALLERS; t++) {
        pthread_join(callers[t], NULL);
        if (stats[t].wrong)
            fprintf(stderr, "  thread %d: %ld wrong, first %s\n", t, stats[t].wrong, stats[t].first_wrong);
        CHECK(stats[t].wrong == 0);
        ok += stats[t].ok, injected += stats[t].injected;
    }
    printf("  %ld calls ran, %ld injected failures\n", ok, injected);
    CHECK(ok > 0 && injected > 0);
    /* The setter's last rules touch no graph operation: everything runs again. */
    uint64_t count;
    CHECK_OK(eg_graph_count_nodes(shared_graph, EG_LABEL_ANY, &count, &err), &err);
    eg_graph_close(shared_graph);
    eg_faults_free(f);
}

/* ---- The switch ----------------------------------------------------------------------------------------- */

TEST(faults_are_allowed_only_by_engram_allow_faults_1) {
    unsetenv("ENGRAM_ALLOW_FAULTS");
    CHECK(!eg_faults_allowed());
    static const char *const no[] = {"", "0", "11", "true", " 1", "1 "};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        setenv("ENGRAM_ALLOW_FAULTS", no[i], 1);
        CHECK(!eg_faults_allowed());
    }
    setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
    CHECK(eg_faults_allowed());
    unsetenv("ENGRAM_ALLOW_FAULTS");
}

int main(void) {
    RUN(graph_guard_sees_every_operation_by_its_table_name);
    RUN(vectors_guard_sees_every_operation_by_its_table_name);
    RUN(a_refusing_before_stops_the_call_and_after_sees_only_calls_that_ran);
    RUN(a_guard_with_no_callbacks_or_no_rules_changes_nothing);
    RUN(guard_refuses_null_arguments);
    RUN(fail_fails_the_operation_named_and_writes_nothing);
    RUN(star_matches_every_operation_of_its_store_only);
    RUN(fail_after_lets_the_first_n_matching_calls_run);
    RUN(fail_times_fails_the_first_n_matching_calls_only);
    RUN(fail_rate_is_seeded_deterministic_and_near_its_rate);
    RUN(delay_ms_sleeps_then_runs_the_call);
    RUN(several_rules_on_one_call_all_apply_in_order);
    RUN(kill_at_kills_the_process_just_before_the_nth_matching_call);
    RUN(set_replaces_and_clears_rules_and_restarts_counters);
    RUN(whitespace_and_empty_rules_are_allowed);
    RUN(bad_rule_text_is_refused_naming_the_rule_and_the_old_rules_stay);
    RUN(caller_errors_pass_through_the_guard_unchanged);
    RUN(rules_can_be_replaced_while_threads_call_through_the_guard);
    RUN(faults_are_allowed_only_by_engram_allow_faults_1);
    return test_summary();
}
