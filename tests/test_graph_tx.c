/* test_graph_tx.c — graph transactions (eg_graph_begin / eg_graph_commit / eg_graph_rollback) on the embedded
 * store, alone and behind guards.
 *
 * Covered: commit makes every write visible and durable across a reopen; rollback (and closing the transaction)
 * leaves nothing; reads inside see their own writes while a reader on another thread sees the old state without
 * waiting; a second writer waits for the commit, then runs; a failed write poisons the transaction (commit is
 * EG_CONFLICT and keeps nothing) while a failed read or an argument error does not; every operation kind inside a
 * transaction; transactions through the fault injector (a fault inside, a failed commit) and the circuit breaker
 * (rollback neither refused nor counted); a data folder's read cache forgetting what a commit replaced; argument
 * errors with clear messages; the calling thread's own write or
 * begin on the store refused instead of deadlocking; closing the store under an open transaction, from its thread
 * and from another; a process killed with SIGKILL inside a transaction of thousands of writes keeps none. */
#include "test.h"

#include "resilience/breaker.h"
#include "resilience/faults.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static eg_error err;

/* Small maps: these stores hold little, and a ThreadSanitizer build cannot reserve the default. */
#define MAP_SIZE (256u << 20)

static eg_graph *open_store(const char *dir) {
    eg_graph_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = false};
    eg_graph *g;
    if (eg_graph_open_lmdb(dir, &options, &g, &err) != EG_OK) {
        fprintf(stderr, "cannot open a graph store: %s\n", err.message);
        exit(2);
    }
    return g;
}

static eg_graph *begin(eg_graph *g) {
    eg_graph *tx = NULL;
    if (eg_graph_begin(g, &tx, &err) != EG_OK) {
        fprintf(stderr, "cannot begin a transaction: %s\n", err.message);
        exit(2);
    }
    return tx;
}

static bool has_node(eg_graph *g, const char *id) {
    eg_node n;
    eg_error e;
    eg_status st = eg_graph_get_node(g, id, EG_LABEL_ANY, &n, &e);
    if (st == EG_OK) eg_node_clear(&n);
    return st == EG_OK;
}

static uint64_t node_count(eg_graph *g) {
    uint64_t n = 0;
    eg_error e;
    return eg_graph_count_nodes(g, EG_LABEL_ANY, &n, &e) == EG_OK ? n : UINT64_MAX;
}

static uint64_t relationship_count(eg_graph *g) {
    uint64_t n = 0;
    eg_error e;
    return eg_graph_count_relationships(g, &n, &e) == EG_OK ? n : UINT64_MAX;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to 10 s for flag; true when it was set. */
static bool wait_for(atomic_bool *flag) {
    for (int i = 0; i < 1000 && !atomic_load(flag); i++) sleep_ms(10);
    return atomic_load(flag);
}

/* ---- Commit and rollback -------------------------------------------------------------------------------- */

TEST(commit_makes_every_write_visible_and_durable) {
    const char *dir = test_scratch_dir();
    eg_graph *g = open_store(dir);
    eg_graph *tx = begin(g);
    json_t *props = json_pack("{s:s}", "name", "Ada");
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", props, &err), &err);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_EPISODE, "b", NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(tx, "a", "b", EG_REL_USES, NULL, &err), &err);
    CHECK(!has_node(g, "a")); /* not before commit */
    CHECK_OK(eg_graph_commit(tx, &err), &err);
    CHECK(has_node(g, "a") && has_node(g, "b"));
    eg_graph_close(g);

    g = open_store(dir);
    eg_node n;
    CHECK_OK(eg_graph_get_node(g, "a", EG_LABEL_ENTITY, &n, &err), &err);
    CHECK(json_equal(n.properties, props));
    eg_node_clear(&n);
    CHECK(node_count(g) == 2 && relationship_count(g) == 1);
    eg_graph_close(g);
    json_decref(props);
}

TEST(rollback_and_closing_a_transaction_leave_nothing) {
    eg_graph *g = open_store(test_scratch_dir());
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "kept", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "other", NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "kept", "other", EG_REL_USES, NULL, &err), &err);
    json_t *change = json_pack("{s:i}", "x", 1);
    for (int closing = 0; closing < 2; closing++) {
        eg_graph *tx = begin(g);
        CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "dropped", NULL, &err), &err);
        CHECK_OK(eg_graph_update_node(tx, "kept", change, EG_LABEL_ANY, &err), &err);
        CHECK_OK(eg_graph_delete_relationship(tx, "kept", "other", EG_REL_USES, &err), &err);
        CHECK_OK(eg_graph_delete_node(tx, "other", EG_LABEL_ANY, &err), &err);
        CHECK(node_count(tx) == 2 && relationship_count(tx) == 0);
        if (closing)
            eg_graph_close(tx);
        else
            eg_graph_rollback(tx);
        CHECK(!has_node(g, "dropped") && has_node(g, "other"));
        CHECK(node_count(g) == 2 && relationship_count(g) == 1);
        eg_node n;
        CHECK_OK(eg_graph_get_node(g, "kept", EG_LABEL_ANY, &n, &err), &err);
        CHECK(json_object_size(n.properties) == 0);
        eg_node_clear(&n);
    }
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "after", NULL, &err), &err); /* the writer is free again */
    json_decref(change);
    eg_graph_close(g);
}

/* ---- Isolation and the one writer ----------------------------------------------------------------------- */

typedef struct other_thread {
    eg_graph *g;
    atomic_bool done;
    bool saw_old_state; /* reader: what it found */
    eg_status status;   /* writer: how its write ended */
} other_thread;

static void *read_old_state(void *arg) {
    other_thread *t = arg;
    eg_node_list page;
    eg_error e;
    bool listed = eg_graph_list_nodes(t->g, EG_LABEL_ANY, NULL, 10, &page, &e) == EG_OK;
    t->saw_old_state = listed && page.count == 1 && strcmp(page.items[0].id, "before") == 0 &&
                       !has_node(t->g, "inside") && node_count(t->g) == 1;
    if (listed) eg_node_list_free(&page);
    atomic_store(&t->done, true);
    return NULL;
}

TEST(reads_inside_see_own_writes_while_other_threads_see_the_old_state_without_waiting) {
    eg_graph *g = open_store(test_scratch_dir());
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "before", NULL, &err), &err);
    eg_graph *tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "inside", NULL, &err), &err);
    CHECK(has_node(tx, "inside") && node_count(tx) == 2);
    other_thread reader = {.g = g};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, read_old_state, &reader) == 0);
    CHECK(wait_for(&reader.done)); /* while the transaction is still open */
    pthread_join(thread, NULL);
    CHECK(reader.saw_old_state);
    CHECK_OK(eg_graph_commit(tx, &err), &err);
    CHECK(has_node(g, "inside"));
    eg_graph_close(g);
}

static void *write_one(void *arg) {
    other_thread *t = arg;
    eg_error e;
    t->status = eg_graph_create_node(t->g, EG_LABEL_ENTITY, "late", NULL, &e);
    atomic_store(&t->done, true);
    return NULL;
}

/* The same through a transaction of its own: begin waits as a write does. */
static void *write_one_in_a_transaction(void *arg) {
    other_thread *t = arg;
    eg_error e;
    eg_graph *tx;
    t->status = eg_graph_begin(t->g, &tx, &e);
    if (t->status == EG_OK && (t->status = eg_graph_create_node(tx, EG_LABEL_ENTITY, "late", NULL, &e)) == EG_OK)
        t->status = eg_graph_commit(tx, &e);
    else if (t->status == EG_OK)
        eg_graph_rollback(tx);
    atomic_store(&t->done, true);
    return NULL;
}

TEST(a_second_writer_waits_until_commit_then_proceeds) {
    void *(*writers[2])(void *) = {write_one, write_one_in_a_transaction};
    for (int w = 0; w < 2; w++) {
        eg_graph *g = open_store(test_scratch_dir());
        eg_graph *tx = begin(g);
        CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "first", NULL, &err), &err);
        other_thread writer = {.g = g};
        pthread_t thread;
        REQUIRE(pthread_create(&thread, NULL, writers[w], &writer) == 0);
        sleep_ms(300);
        CHECK(!atomic_load(&writer.done)); /* waiting for the transaction */
        CHECK(!has_node(tx, "late"));
        CHECK_OK(eg_graph_commit(tx, &err), &err);
        pthread_join(thread, NULL);
        CHECK(writer.status == EG_OK);
        CHECK(has_node(g, "first") && has_node(g, "late"));
        eg_graph_close(g);
    }
}

/* ---- Failures inside ------------------------------------------------------------------------------------ */

TEST(a_failed_write_poisons_the_transaction_and_commit_keeps_nothing) {
    eg_graph *g = open_store(test_scratch_dir());
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "existing", NULL, &err), &err);
    json_t *different = json_pack("{s:i}", "x", 2);
    /* A missing end, a conflicting create: each a write the store refuses. */
    for (int kind = 0; kind < 2; kind++) {
        eg_graph *tx = begin(g);
        CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", NULL, &err), &err);
        if (kind == 0)
            CHECK_STATUS(eg_graph_create_relationship(tx, "a", "missing", EG_REL_USES, NULL, &err), EG_NOT_FOUND,
                         &err);
        else
            CHECK_STATUS(eg_graph_create_node(tx, EG_LABEL_ENTITY, "existing", different, &err), EG_CONFLICT, &err);
        CHECK(has_node(tx, "a")); /* reads still work until it ends */
        CHECK_STATUS(eg_graph_commit(tx, &err), EG_CONFLICT, &err);
        CHECK(strstr(err.message, "an operation failed inside this transaction") != NULL);
        CHECK(!has_node(g, "a") && node_count(g) == 1);
    }
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "after", NULL, &err), &err); /* the writer is free again */
    json_decref(different);
    eg_graph_close(g);
}

TEST(a_failed_read_or_an_argument_error_leaves_the_transaction_good) {
    eg_graph *g = open_store(test_scratch_dir());
    eg_graph *tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", NULL, &err), &err);
    eg_node n;
    eg_relationship_list rels;
    CHECK_STATUS(eg_graph_get_node(tx, "missing", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_graph_get_relationships(tx, "missing", EG_REL_ANY, EG_DIR_BOTH, &rels, &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_graph_create_node(tx, EG_LABEL_ENTITY, "bad id!", NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_graph_create_node(tx, EG_LABEL_COUNT, "b", NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_OK(eg_graph_commit(tx, &err), &err);
    CHECK(has_node(g, "a") && node_count(g) == 1);
    eg_graph_close(g);
}

/* ---- Every operation ------------------------------------------------------------------------------------ */

TEST(every_operation_runs_inside_a_transaction) {
    eg_graph *g = open_store(test_scratch_dir());
    eg_graph *tx = begin(g);
    json_t *old_link = json_pack("{s:f, s:i}", "weight", 0.5, "lastAccessed", (json_int_t)1000);
    json_t *props = json_pack("{s:s}", "sessionId", "s1"), *change = json_pack("{s:i}", "n", 7);
    eg_node_spec specs[] = {{EG_LABEL_ENTITY, "b", NULL}, {EG_LABEL_ENTITY, "c", NULL}, {EG_LABEL_EPISODE, "d", NULL}};
    eg_relationship_spec links[] = {{"b", "c", EG_REL_USES, NULL}, {"c", "d", EG_REL_USES, NULL}};
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", props, &err), &err);
    CHECK_OK(eg_graph_batch_create_nodes(tx, specs, 3, &err), &err);
    CHECK_OK(eg_graph_create_relationship(tx, "a", "b", EG_REL_RELATES_TO, old_link, &err), &err);
    CHECK_OK(eg_graph_batch_create_relationships(tx, links, 2, &err), &err);
    CHECK_OK(eg_graph_update_node(tx, "b", change, EG_LABEL_ANY, &err), &err);
    CHECK_OK(eg_graph_update_property(tx, "c", "m", change, &err), &err);

    const char *ids[] = {"a", "missing", "c"};
    eg_node_list nodes;
    CHECK_OK(eg_graph_get_nodes(tx, ids, 3, &nodes, &err), &err);
    CHECK(nodes.count == 2 && strcmp(nodes.items[1].id, "c") == 0);
    CHECK(json_is_object(json_object_get(nodes.items[1].properties, "m")));
    eg_node_list_free(&nodes);
    CHECK_OK(eg_graph_list_nodes(tx, EG_LABEL_ENTITY, "a", 10, &nodes, &err), &err);
    CHECK(nodes.count == 2 && strcmp(nodes.items[0].id, "b") == 0);
    eg_node_list_free(&nodes);
    uint64_t n;
    CHECK_OK(eg_graph_count_nodes(tx, EG_LABEL_EPISODE, &n, &err), &err);
    CHECK(n == 1);
    CHECK(relationship_count(tx) == 3);
    eg_relationship_list rels, batch[2];
    CHECK_OK(eg_graph_get_relationships(tx, "b", EG_REL_ANY, EG_DIR_BOTH, &rels, &err), &err);
    CHECK(rels.count == 2);
    eg_relationship_list_free(&rels);
    const char *ends[] = {"a", "d"};
    CHECK_OK(eg_graph_get_relationships_batch(tx, ends, 2, EG_REL_ANY, EG_DIR_BOTH, batch, &err), &err);
    CHECK(batch[0].count == 1 && batch[1].count == 1);
    eg_relationship_list_free(&batch[0]), eg_relationship_list_free(&batch[1]);
    eg_path path;
    CHECK_OK(eg_graph_find_path(tx, "a", "d", 5, 0, &path, &err), &err);
    CHECK(path.node_count == 4);
    eg_path_clear(&path);

    double weight;
    CHECK_OK(eg_graph_strengthen_relationship(tx, "b", "c", EG_REL_USES, 0.5, &weight, &err), &err);
    CHECK(weight > 0.5);
    CHECK_OK(eg_graph_weaken_relationship(tx, "b", "c", EG_REL_USES, 0.5, &weight, &err), &err);
    CHECK(weight < 0.5);
    CHECK_OK(eg_graph_count_stale_relationships(tx, 1, "s1", &n, &err), &err);
    CHECK(n == 1); /* a -> b, last accessed in 1970 */
    eg_decay_result decay;
    CHECK_OK(eg_graph_batch_decay_relationships(tx, 1, 0.5, 0.01, NULL, &decay, &err), &err);
    CHECK(decay.pruned == 1 && relationship_count(tx) == 2);
    CHECK_OK(eg_graph_delete_relationship(tx, "c", "d", EG_REL_USES, &err), &err);
    CHECK_OK(eg_graph_delete_node(tx, "a", EG_LABEL_ANY, &err), &err);
    CHECK(node_count(tx) == 3 && relationship_count(tx) == 1);

    CHECK(node_count(g) == 0 && relationship_count(g) == 0); /* nothing shows outside */
    CHECK_OK(eg_graph_commit(tx, &err), &err);
    CHECK(node_count(g) == 3 && relationship_count(g) == 1 && !has_node(g, "a"));
    CHECK_OK(eg_graph_get_relationships(g, "b", EG_REL_USES, EG_DIR_OUT, &rels, &err), &err);
    CHECK(rels.count == 1 && strcmp(rels.items[0].target_id, "c") == 0);
    eg_relationship_list_free(&rels);
    json_decref(old_link), json_decref(props), json_decref(change);
    eg_graph_close(g);
}

/* ---- Behind guards -------------------------------------------------------------------------------------- */

static eg_graph *guard(eg_graph *inner, const eg_guard *g) {
    eg_graph *out;
    if (eg_graph_guard(inner, g, &out, &err) != EG_OK) {
        fprintf(stderr, "cannot guard a graph store: %s\n", err.message);
        exit(2);
    }
    return out;
}

TEST(a_fault_injected_inside_a_transaction_fails_it) {
    eg_faults *f;
    REQUIRE(eg_faults_new("graph.create_relationship=fail", &f, &err) == EG_OK);
    eg_guard faults = eg_faults_guard(f);
    eg_graph *g = guard(open_store(test_scratch_dir()), &faults);
    eg_graph *tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "b", NULL, &err), &err);
    CHECK_STATUS(eg_graph_create_relationship(tx, "a", "b", EG_REL_USES, NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(strcmp(err.message, "injected fault: graph.create_relationship=fail") == 0);
    CHECK_STATUS(eg_graph_commit(tx, &err), EG_CONFLICT, &err); /* the store never saw the refused write */
    CHECK(node_count(g) == 0);

    /* A failed commit ends the transaction too, keeping nothing and freeing the writer. */
    CHECK_OK(eg_faults_set(f, "graph.commit=fail", &err), &err);
    tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", NULL, &err), &err);
    CHECK_STATUS(eg_graph_commit(tx, &err), EG_UNAVAILABLE, &err);
    CHECK(node_count(g) == 0);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "after", NULL, &err), &err);

    /* A rollback cannot be failed; begin can. */
    CHECK_OK(eg_faults_set(f, "graph.rollback=fail; graph.begin=fail_times:1", &err), &err);
    eg_graph *refused = NULL;
    CHECK_STATUS(eg_graph_begin(g, &refused, &err), EG_UNAVAILABLE, &err);
    CHECK(refused == NULL);
    tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "dropped", NULL, &err), &err);
    eg_graph_rollback(tx);
    CHECK(!has_node(g, "dropped"));

    CHECK_OK(eg_faults_set(f, "", &err), &err);
    tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "kept", NULL, &err), &err);
    CHECK_OK(eg_graph_commit(tx, &err), &err);
    CHECK(has_node(g, "kept"));
    eg_graph_close(g);
    eg_faults_free(f);
}

TEST(the_breaker_counts_work_inside_transactions_but_never_refuses_or_counts_rollback) {
    eg_faults *f;
    eg_breaker *b;
    eg_breaker_config config = {.failure_threshold = 2, .reset_timeout_ms = 60000, .log = NULL};
    REQUIRE(eg_faults_new("graph.create_node=fail", &f, &err) == EG_OK);
    REQUIRE(eg_breaker_new("graph", &config, &b, &err) == EG_OK);
    eg_guard faults = eg_faults_guard(f), breaker = eg_breaker_guard(b);
    eg_graph *g = guard(guard(open_store(test_scratch_dir()), &faults), &breaker);
    eg_breaker_stats stats;
    for (int i = 0; i < 2; i++) { /* begin, a failure, rollback: neither begin nor rollback ends the run */
        eg_graph *tx = begin(g);
        CHECK_STATUS(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", NULL, &err), EG_UNAVAILABLE, &err);
        eg_graph_rollback(tx);
        eg_breaker_stats_get(b, &stats);
        CHECK(stats.consecutive_failures == (uint64_t)i + 1);
    }
    CHECK(stats.state == EG_BREAKER_OPEN);
    eg_graph *tx = NULL;
    CHECK_STATUS(eg_graph_begin(g, &tx, &err), EG_UNAVAILABLE, &err); /* open: begin fails fast */
    CHECK(strstr(err.message, "circuit open") != NULL);
    eg_graph_close(g);
    eg_breaker_free(b);
    eg_faults_free(f);
}

/* In a data folder, whose write observer makes the fallback read cache forget what a write replaced: the writes
 * inside a transaction are noted before they become visible, so the commit must be noted too. */
static void *read_revision(void *arg) {
    eg_db *db = arg;
    json_t *r = test_exec(db, "{\"op\":\"get_node\",\"id\":\"x\"}");
    json_t *rev = json_object_get(json_object_get(json_object_get(r, "result"), "properties"), "rev");
    intptr_t seen = strcmp(test_response_code(r), "ok") == 0 ? (intptr_t)json_integer_value(rev) : -1;
    json_decref(r);
    return (void *)seen;
}

TEST(the_read_cache_never_serves_what_a_commit_replaced) {
    setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
    unsetenv("ENGRAM_FAULTS");
    eg_options options = {EG_DURABILITY_NONE, NULL, 0};
    eg_db *db = NULL;
    eg_status opened = eg_open(test_data_dir(), &options, &db, &err);
    unsetenv("ENGRAM_ALLOW_FAULTS");
    REQUIRE(opened == EG_OK);
    json_t *first = json_pack("{s:i}", "rev", 1), *second = json_pack("{s:i}", "rev", 2);
    CHECK_OK(eg_graph_create_node(eg_db_graph(db), EG_LABEL_ENTITY, "x", first, &err), &err);
    eg_graph *tx = begin(eg_db_graph(db));
    CHECK_OK(eg_graph_update_node(tx, "x", second, EG_LABEL_ANY, &err), &err);
    pthread_t thread;
    void *seen = NULL;
    REQUIRE(pthread_create(&thread, NULL, read_revision, db) == 0);
    pthread_join(thread, &seen);
    CHECK((intptr_t)seen == 1); /* read, and cached, between the write inside and the commit */
    CHECK_OK(eg_graph_commit(tx, &err), &err);
    json_t *r = test_exec(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}");
    CHECK(strcmp(test_response_code(r), "ok") == 0);
    json_decref(r);
    r = test_exec(db, "{\"op\":\"get_node\",\"id\":\"x\"}"); /* no fallback on revision 1 */
    CHECK(strcmp(test_response_code(r), "unavailable") == 0);
    json_decref(r);
    json_decref(first), json_decref(second);
    eg_close(db);
}

/* ---- Misuse --------------------------------------------------------------------------------------------- */

TEST(argument_errors_are_refused_clearly_and_change_nothing) {
    eg_graph *g = open_store(test_scratch_dir());
    eg_graph *tx = NULL;
    CHECK_STATUS(eg_graph_begin(NULL, &tx, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, "begin: graph store handle is NULL") == 0);
    CHECK_STATUS(eg_graph_begin(g, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "tx") != NULL);
    CHECK_STATUS(eg_graph_commit(NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, "commit: transaction handle is NULL") == 0);
    CHECK_STATUS(eg_graph_commit(g, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "not a transaction") != NULL);
    eg_graph_rollback(NULL);
    eg_graph_rollback(g); /* not a transaction: left alone */

    tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", NULL, &err), &err);
    eg_graph *nested = tx; /* begin clears it */
    CHECK_STATUS(eg_graph_begin(tx, &nested, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(nested == NULL && strstr(err.message, "do not nest") != NULL);
    /* This thread's own write or begin on the store would wait for its transaction forever: refused. */
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "b", NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "this thread has a transaction open") != NULL);
    CHECK_STATUS(eg_graph_begin(g, &nested, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "already has a transaction open") != NULL);
    CHECK_OK(eg_graph_commit(tx, &err), &err); /* none of that harmed the transaction */
    CHECK(has_node(g, "a") && !has_node(g, "b") && node_count(g) == 1);
    eg_graph_close(g);
}

TEST(closing_the_store_under_its_own_transaction_rolls_it_back) {
    const char *dir = test_scratch_dir();
    eg_graph *g = open_store(dir);
    eg_graph *tx = begin(g);
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "a", NULL, &err), &err);
    eg_graph_close(g);
    CHECK_STATUS(eg_graph_create_node(tx, EG_LABEL_ENTITY, "b", NULL, &err), EG_CONFLICT, &err);
    CHECK(strstr(err.message, "closed while this transaction was open") != NULL);
    CHECK_STATUS(eg_graph_commit(tx, &err), EG_CONFLICT, &err);
    g = open_store(dir);
    CHECK(node_count(g) == 0);
    eg_graph_close(g);
}

static void *commit_later(void *arg) {
    other_thread *t = arg;
    eg_error e;
    eg_graph *tx;
    t->status = eg_graph_begin(t->g, &tx, &e);
    if (t->status == EG_OK) t->status = eg_graph_create_node(tx, EG_LABEL_ENTITY, "late", NULL, &e);
    atomic_store(&t->done, true);
    sleep_ms(200);
    if (t->status == EG_OK) t->status = eg_graph_commit(tx, &e);
    return NULL;
}

TEST(closing_the_store_waits_for_another_threads_transaction) {
    const char *dir = test_scratch_dir();
    other_thread owner = {.g = open_store(dir)};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, commit_later, &owner) == 0);
    CHECK(wait_for(&owner.done));
    eg_graph_close(owner.g); /* returns once the transaction committed */
    pthread_join(thread, NULL);
    CHECK(owner.status == EG_OK);
    eg_graph *g = open_store(dir);
    CHECK(has_node(g, "late"));
    eg_graph_close(g);
}

/* ---- Crash ---------------------------------------------------------------------------------------------- */

#define CRASH_BATCHES 5 /* of EG_GRAPH_BATCH_MAX nodes and as many relationships each */

/* The child: thousands of writes in one transaction, then a word to the parent, then more writes until killed. */
static void write_until_killed(const char *dir, int ready_fd) {
    eg_graph_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = false};
    eg_graph *g;
    eg_error e;
    if (eg_graph_open_lmdb(dir, &options, &g, &e) != EG_OK) _exit(3);
    eg_graph *tx;
    if (eg_graph_begin(g, &tx, &e) != EG_OK) _exit(4);
    static eg_node_spec nodes[EG_GRAPH_BATCH_MAX];
    static eg_relationship_spec links[EG_GRAPH_BATCH_MAX];
    static char ids[EG_GRAPH_BATCH_MAX][32];
    for (int batch = 0;; batch++) {
        for (int i = 0; i < EG_GRAPH_BATCH_MAX; i++) {
            snprintf(ids[i], sizeof ids[i], "n%d-%d", batch, i);
            nodes[i] = (eg_node_spec){EG_LABEL_ENTITY, ids[i], NULL};
            links[i] = (eg_relationship_spec){ids[i], "base", EG_REL_PART_OF, NULL};
        }
        if (eg_graph_batch_create_nodes(tx, nodes, EG_GRAPH_BATCH_MAX, &e) != EG_OK ||
            eg_graph_batch_create_relationships(tx, links, EG_GRAPH_BATCH_MAX, &e) != EG_OK)
            _exit(5);
        if (batch + 1 == CRASH_BATCHES && write(ready_fd, "w", 1) != 1) _exit(6);
    }
}

TEST(a_process_killed_inside_a_transaction_keeps_none_of_its_writes) {
    const char *dir = test_scratch_dir();
    eg_graph *g = open_store(dir);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "base", NULL, &err), &err);
    eg_graph_close(g);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(fds[0]);
        write_until_killed(dir, fds[1]);
    }
    close(fds[1]);
    char word;
    bool ready = read(fds[0], &word, 1) == 1;
    close(fds[0]);
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    CHECK(ready);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    g = open_store(dir);
    CHECK(node_count(g) == 1 && relationship_count(g) == 0);
    CHECK(has_node(g, "base") && !has_node(g, "n0-0"));
    eg_graph *tx = begin(g); /* the dead writer's lock is gone */
    CHECK_OK(eg_graph_create_node(tx, EG_LABEL_ENTITY, "after", NULL, &err), &err);
    CHECK_OK(eg_graph_commit(tx, &err), &err);
    CHECK(node_count(g) == 2);
    eg_graph_close(g);
}

int main(void) {
    RUN(commit_makes_every_write_visible_and_durable);
    RUN(rollback_and_closing_a_transaction_leave_nothing);
    RUN(reads_inside_see_own_writes_while_other_threads_see_the_old_state_without_waiting);
    RUN(a_second_writer_waits_until_commit_then_proceeds);
    RUN(a_failed_write_poisons_the_transaction_and_commit_keeps_nothing);
    RUN(a_failed_read_or_an_argument_error_leaves_the_transaction_good);
    RUN(every_operation_runs_inside_a_transaction);
    RUN(a_fault_injected_inside_a_transaction_fails_it);
    RUN(the_breaker_counts_work_inside_transactions_but_never_refuses_or_counts_rollback);
    RUN(the_read_cache_never_serves_what_a_commit_replaced);
    RUN(argument_errors_are_refused_clearly_and_change_nothing);
    RUN(closing_the_store_under_its_own_transaction_rolls_it_back);
    RUN(closing_the_store_waits_for_another_threads_transaction);
    RUN(a_process_killed_inside_a_transaction_keeps_none_of_its_writes);
    return test_summary();
}
