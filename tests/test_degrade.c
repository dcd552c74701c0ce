/* test_degrade.c — a data folder with a store failing: circuit breakers open and heal, reads fall back to the
 * cache (never past an acknowledged write), memory writes either fail cleanly (fail policy) or are queued durably
 * and drained in order when the store comes back (queue policy) — also across kill -9 — and health reports it
 * all. Stores are failed and healed at run time through the set_faults operation. */
#define _GNU_SOURCE
#include "test.h"

#include <engram/engram.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static eg_error err;

#define DIM 8

/* Opens dir with faults allowed (none set) and the given setting overrides. */
static eg_db *open_folder(const char *dir, const char *const *settings, size_t count) {
    setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
    unsetenv("ENGRAM_FAULTS");
    eg_options options = {EG_DURABILITY_NONE, settings, count};
    eg_db *db = NULL;
    CHECK_OK(eg_open(dir, &options, &db, &err), &err);
    unsetenv("ENGRAM_ALLOW_FAULTS");
    return db;
}

static bool ok(eg_db *db, const char *line) {
    json_t *r = test_exec(db, line);
    bool good = strcmp(test_response_code(r), "ok") == 0;
    if (!good) {
        char *text = json_dumps(r, 0);
        fprintf(stderr, "  %s -> %s\n", line, text);
        free(text);
    }
    json_decref(r);
    return good;
}

static const char *code_of(eg_db *db, const char *line, char *buf, size_t cap) {
    json_t *r = test_exec(db, line);
    snprintf(buf, cap, "%s", test_response_code(r));
    json_decref(r);
    return buf;
}

static json_t *health(eg_db *db) {
    json_t *r = test_exec(db, "{\"op\":\"health\"}");
    json_t *h = json_incref(json_object_get(r, "result"));
    json_decref(r);
    return h;
}

static const char *store_state(json_t *h, const char *store) {
    return json_string_value(json_object_get(json_object_get(json_object_get(json_object_get(h, "stores"), store),
                                                             "breaker"),
                                             "state"));
}

static json_int_t queue_depth(json_t *h, const char *store) {
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(json_object_get(h, "stores"), store), "queue"), "depth"));
}

static void sleep_ms(unsigned ms) {
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until both queues are empty (the drainer probes through the breakers). */
static bool drained(eg_db *db) {
    for (int i = 0; i < 1000; i++) {
        json_t *h = health(db);
        bool empty = queue_depth(h, "graph") == 0 && queue_depth(h, "vectors") == 0;
        json_decref(h);
        if (empty) return true;
        sleep_ms(10);
    }
    return false;
}

static json_t *check(eg_db *db) {
    json_t *report = NULL;
    CHECK_OK(eg_memory_check(db, false, &report, &err), &err);
    return report;
}

/* Memory n: an entity with a deterministic vector and properties {n, rev}. */
static void create_line(char *line, size_t cap, int n) {
    char vector[256] = "";
    for (int d = 0; d < DIM; d++)
        snprintf(vector + strlen(vector), sizeof vector - strlen(vector), "%s%d", d ? "," : "", (n * 7 + d * 3) % 11 + 1);
    snprintf(line, cap,
             "{\"op\":\"create_entity\",\"id\":%d,\"vector\":[%s],\"payload\":{\"n\":%d},\"properties\":{\"n\":%d,"
             "\"rev\":0}%s}",
             n, vector, n, n, n > 1 ? ",\"relationships\":[{\"target_id\":\"1\",\"type\":\"RELATES_TO\"}]" : "");
}

/* Memory n whole in both stores, its node at revision rev. */
static bool whole(eg_db *db, int n, int rev) {
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    eg_node node;
    if (eg_graph_get_node(eg_db_graph(db), id, EG_LABEL_ENTITY, &node, &err) != EG_OK) return false;
    bool good = json_integer_value(json_object_get(node.properties, "rev")) == rev &&
                json_integer_value(json_object_get(node.properties, "n")) == n;
    eg_node_clear(&node);
    eg_point_id pid = eg_point_id_num((uint64_t)n);
    eg_point_list list;
    if (eg_vectors_get(eg_db_vectors(db), "entities", &pid, 1, true, true, &list, &err) != EG_OK) return false;
    good = good && list.count == 1 && json_integer_value(json_object_get(list.items[0].payload, "n")) == n;
    eg_point_list_free(&list);
    if (n > 1) {
        eg_relationship_list rels;
        if (eg_graph_get_relationships(eg_db_graph(db), id, EG_REL_RELATES_TO, EG_DIR_OUT, &rels, &err) != EG_OK)
            return false;
        good = good && rels.count == 1;
        eg_relationship_list_free(&rels);
    }
    return good;
}

TEST(a_breaker_opens_after_the_threshold_fails_fast_and_heals) {
    static const char *const settings[] = {"breaker.failure_threshold=3", "breaker.reset_timeout_ms=100",
                                           "breaker.success_threshold=1"};
    eg_db *db = open_folder(test_scratch_dir(), settings, 3);
    REQUIRE(db);
    CHECK(ok(db, "{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"a\"}"));
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"graph.count_nodes=fail\"}"));
    char code[32];
    for (int i = 0; i < 3; i++)
        CHECK(strcmp(code_of(db, "{\"op\":\"count_relationships\"}", code, sizeof code), "ok") == 0 &&
              strcmp(code_of(db, "{\"op\":\"count_nodes\"}", code, sizeof code), "unavailable") == 0);
    json_t *h = health(db);
    CHECK(strcmp(store_state(h, "graph"), "closed") == 0); /* successes in between: never 3 in a row */
    json_decref(h);
    for (int i = 0; i < 3; i++) code_of(db, "{\"op\":\"count_nodes\"}", code, sizeof code);
    h = health(db);
    CHECK(strcmp(store_state(h, "graph"), "open") == 0 && strcmp(store_state(h, "vectors"), "closed") == 0);
    CHECK(strcmp(json_string_value(json_object_get(h, "status")), "down") == 0);
    json_decref(h);
    /* Open: even an operation the fault does not touch fails fast, naming the store and the retry. */
    json_t *r = test_exec(db, "{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"b\"}");
    const char *message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    CHECK(message && strstr(message, "graph store unavailable") && strstr(message, "retrying in"));
    json_decref(r);
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"\"}"));
    sleep_ms(120);
    CHECK(ok(db, "{\"op\":\"count_nodes\"}")); /* the probe */
    h = health(db);
    CHECK(strcmp(store_state(h, "graph"), "closed") == 0 && strcmp(json_string_value(json_object_get(h, "status")), "ok") == 0);
    json_decref(h);
    eg_close(db);
}

TEST(reads_fall_back_to_the_cache_but_never_past_an_acknowledged_write) {
    static const char *const settings[] = {"degrade.write_policy=queue"};
    eg_db *db = open_folder(test_scratch_dir(), settings, 1);
    REQUIRE(db);
    char line[1024];
    create_line(line, sizeof line, 1);
    CHECK(ok(db, line));
    create_line(line, sizeof line, 2);
    CHECK(ok(db, line));
    CHECK(ok(db, "{\"op\":\"get_node\",\"id\":\"1\"}"));
    CHECK(ok(db, "{\"op\":\"get_node\",\"id\":\"2\"}"));
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}"));
    json_t *r = test_exec(db, "{\"op\":\"get_node\",\"id\":\"1\"}");
    CHECK(strcmp(test_response_code(r), "ok") == 0 && json_is_true(json_object_get(r, "fallback")));
    CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(r, "result"), "properties"), "n")) == 1);
    json_decref(r);
    r = test_exec(db, "{\"op\":\"get_node\",\"id\":\"3\"}"); /* never read: nothing to fall back on */
    CHECK(strcmp(test_response_code(r), "unavailable") == 0);
    json_decref(r);
    /* An acknowledged write to the graph (queued) makes every cached graph read unusable. */
    CHECK(ok(db, "{\"op\":\"update_memory\",\"id\":2,\"type\":\"entity\",\"properties\":{\"rev\":1}}"));
    r = test_exec(db, "{\"op\":\"get_node\",\"id\":\"2\"}");
    CHECK(strcmp(test_response_code(r), "unavailable") == 0);
    json_decref(r);
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"\"}"));
    eg_close(db);
}

TEST(fail_policy_refuses_writes_cleanly_while_a_store_is_down) {
    static const char *const settings[] = {"breaker.failure_threshold=2", "breaker.reset_timeout_ms=20"};
    eg_db *db = open_folder(test_scratch_dir(), settings, 2);
    REQUIRE(db);
    char line[1024];
    create_line(line, sizeof line, 1);
    CHECK(ok(db, line));
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}"));
    char code[32];
    for (int n = 2; n < 8; n++) {
        create_line(line, sizeof line, n);
        CHECK(strcmp(code_of(db, line, code, sizeof code), "unavailable") == 0);
    }
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"\"}"));
    sleep_ms(30); /* the breaker's reset timeout: the check's first graph read is its probe */
    json_t *report = check(db);
    CHECK(json_is_true(json_object_get(report, "consistent")) && json_integer_value(json_object_get(report, "memories")) == 1);
    json_decref(report);
    eg_close(db);
}

TEST(queue_policy_accepts_writes_while_a_store_is_down_and_drains_them_in_order) {
    static const char *const settings[] = {"degrade.write_policy=queue", "breaker.reset_timeout_ms=1000",
                                           "breaker.failure_threshold=2"};
    for (int down = 0; down < 2; down++) { /* the graph, then the vector store */
        eg_db *db = open_folder(test_scratch_dir(), settings, 3);
        REQUIRE(db);
        char line[1024];
        create_line(line, sizeof line, 1);
        CHECK(ok(db, line));
        CHECK(ok(db, down ? "{\"op\":\"set_faults\",\"rules\":\"vectors.*=fail\"}"
                          : "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}"));
        for (int n = 2; n <= 40; n++) {
            create_line(line, sizeof line, n);
            CHECK(ok(db, line));
        }
        for (int rev = 1; rev <= 3; rev++) /* collapsed: one memory, three updates in a row */
            for (int n = 2; n <= 4; n++) {
                snprintf(line, sizeof line,
                         "{\"op\":\"update_memory\",\"id\":%d,\"type\":\"entity\",\"properties\":{\"rev\":%d}}", n, rev);
                CHECK(ok(db, line));
            }
        CHECK(ok(db, "{\"op\":\"delete_memory\",\"id\":40,\"type\":\"entity\"}"));
        json_t *h = health(db);
        CHECK(queue_depth(h, down ? "vectors" : "graph") > 0);
        CHECK(strcmp(json_string_value(json_object_get(h, "status")), "degraded") == 0);
        json_decref(h);
        /* Healed, but the breaker still fails calls fast for a while: the queue waits, and check (which reads
         * past the breakers) sees its memories as pending, not orphans. */
        CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"\"}"));
        json_t *report = check(db);
        CHECK(json_array_size(json_object_get(report, "orphans")) == 0);
        CHECK(json_array_size(json_object_get(report, "pending")) > 0);
        CHECK(json_is_true(json_object_get(report, "consistent")));
        json_decref(report);

        CHECK(drained(db));
        report = check(db);
        CHECK(json_is_true(json_object_get(report, "consistent")));
        CHECK(json_integer_value(json_object_get(report, "memories")) == 39);
        json_decref(report);
        for (int n = 1; n < 40; n++) CHECK(whole(db, n, n >= 2 && n <= 4 ? 3 : 0));
        h = health(db);
        CHECK(strcmp(json_string_value(json_object_get(h, "status")), "ok") == 0);
        json_t *q = json_object_get(json_object_get(json_object_get(h, "stores"), down ? "vectors" : "graph"), "queue");
        CHECK(json_integer_value(json_object_get(q, "collapsed")) > 0);
        json_decref(h);
        eg_close(db);
    }
}

TEST(a_full_queue_refuses_the_write_and_loses_nothing_acknowledged) {
    static const char *const settings[] = {"degrade.write_policy=queue", "degrade.queue_max=5",
                                           "breaker.reset_timeout_ms=20"};
    eg_db *db = open_folder(test_scratch_dir(), settings, 3);
    REQUIRE(db);
    char line[1024], code[32];
    create_line(line, sizeof line, 1);
    CHECK(ok(db, line));
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}"));
    /* Each create queues one entry — two when the drainer was busy with the first and the relationship could not
     * fold into it — so the queue fills after 3 to 5 of them: write until it refuses. */
    int refused = 0;
    for (int n = 2; n <= 20 && !refused; n++) {
        create_line(line, sizeof line, n);
        json_t *r = test_exec(db, line);
        if (strcmp(test_response_code(r), "ok") != 0) {
            refused = n;
            CHECK(strcmp(test_response_code(r), "unavailable") == 0);
            const char *message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
            CHECK(message && strstr(message, "queue is full"));
        }
        json_decref(r);
    }
    REQUIRE(refused >= 5 && refused <= 7);
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"\"}"));
    CHECK(drained(db));
    for (int n = 1; n < refused; n++) CHECK(whole(db, n, 0));
    char refused_get[64];
    snprintf(refused_get, sizeof refused_get, "{\"op\":\"get_node\",\"id\":\"%d\"}", refused);
    CHECK(strcmp(code_of(db, refused_get, code, sizeof code), "not_found") == 0);
    json_t *report = check(db);
    CHECK(json_is_true(json_object_get(report, "consistent")));
    json_decref(report);
    eg_close(db);
}

/* The child queues writes for a failing graph store and reports each acknowledged one; it is killed; the parent
 * reopens with the store healthy and finds every acknowledged memory whole once the queue drains. */
TEST(queued_writes_survive_kill_9) {
    const char *dir = test_scratch_dir();
    static const char *const settings[] = {"degrade.write_policy=queue", "breaker.reset_timeout_ms=20"};
    int total = 0;
    eg_db *first = open_folder(dir, settings, 2); /* the memory every later one relates to */
    REQUIRE(first);
    char line[1024];
    create_line(line, sizeof line, 1);
    CHECK(ok(first, line));
    eg_close(first);
    for (int round = 0; round < 5; round++) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
            setenv("ENGRAM_FAULTS", "graph.*=fail", 1);
            eg_options options = {EG_DURABILITY_NONE, settings, 2};
            eg_db *db;
            if (eg_open(dir, &options, &db, &err) != EG_OK) _exit(3);
            for (int n = round * 1000 + 2;; n++) {
                create_line(line, sizeof line, n);
                json_t *r = test_exec(db, line);
                if (strcmp(test_response_code(r), "ok") == 0 && write(fds[1], &n, sizeof n) != sizeof n) _exit(4);
                json_decref(r);
            }
        }
        close(fds[1]);
        int n, acknowledged[100000], count = 0;
        if (read(fds[0], &n, sizeof n) == sizeof n) acknowledged[count++] = n; /* killed once it is writing */
        sleep_ms(10 + (unsigned)round * 10);
        kill(pid, SIGKILL);
        while (read(fds[0], &n, sizeof n) == sizeof n && count < 100000) acknowledged[count++] = n;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status));
        eg_db *db = open_folder(dir, settings, 2);
        REQUIRE(db);
        CHECK(drained(db));
        json_t *report = check(db);
        CHECK(json_is_true(json_object_get(report, "consistent")));
        json_decref(report);
        int missing = 0;
        for (int i = 0; i < count; i++)
            if (!whole(db, acknowledged[i], 0)) missing++;
        if (missing) fprintf(stderr, "  round %d: %d of %d acknowledged memories not whole\n", round, missing, count);
        CHECK(count > 0);
        total += count;
        CHECK(missing == 0);
        eg_close(db);
    }
    printf("  5 kills while queueing: %d acknowledged memories, all whole once the queue drained\n", total);
}

/* A queued write the store refuses once it is back (here: a relationship to a node that never existed, which
 * could not be checked while the graph was down) stops its queue — visibly — rather than being skipped. */
TEST(a_queued_write_the_store_refuses_stalls_its_queue_visibly) {
    static const char *const settings[] = {"degrade.write_policy=queue", "breaker.reset_timeout_ms=20"};
    eg_db *db = open_folder(test_scratch_dir(), settings, 2);
    REQUIRE(db);
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}"));
    CHECK(ok(db, "{\"op\":\"create_entity\",\"id\":5,\"vector\":[1,2],\"relationships\":[{\"target_id\":\"999\","
                 "\"type\":\"USES\"}]}"));
    CHECK(ok(db, "{\"op\":\"create_entity\",\"id\":6,\"vector\":[2,1]}"));
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"\"}"));
    json_t *h = NULL;
    for (int i = 0; i < 500; i++) {
        json_decref(h);
        h = health(db);
        if (strcmp(json_string_value(json_object_get(h, "status")), "down") == 0) break;
        sleep_ms(10);
    }
    json_t *q = json_object_get(json_object_get(json_object_get(h, "stores"), "graph"), "queue");
    CHECK(strcmp(json_string_value(json_object_get(h, "status")), "down") == 0);
    CHECK(json_is_true(json_object_get(q, "stalled")) && json_integer_value(json_object_get(q, "depth")) == 2);
    const char *why = json_string_value(json_object_get(q, "stall_error"));
    CHECK(why && strstr(why, "'999'") && strstr(why, "not_found"));
    json_decref(h);
    eg_close(db);
}

/* A memory may relate to one whose node is still queued: the target exists (acknowledged), and the new node queues
 * behind it. Here the graph is back but the drainer is still applying (its create_node is slowed). */
TEST(a_relationship_to_a_queued_node_waits_behind_it) {
    static const char *const settings[] = {"degrade.write_policy=queue", "breaker.reset_timeout_ms=20",
                                           "breaker.success_threshold=1"};
    eg_db *db = open_folder(test_scratch_dir(), settings, 3);
    REQUIRE(db);
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}"));
    CHECK(ok(db, "{\"op\":\"create_entity\",\"id\":10,\"vector\":[1,2]}"));
    CHECK(ok(db, "{\"op\":\"set_faults\",\"rules\":\"graph.create_node=delay_ms:400\"}"));
    sleep_ms(100); /* the breaker has closed on the drainer's first read; its create_node is under way */
    json_t *h = health(db);
    CHECK(queue_depth(h, "graph") == 1);
    json_decref(h);
    CHECK(ok(db, "{\"op\":\"create_entity\",\"id\":11,\"vector\":[2,1],\"relationships\":[{\"target_id\":\"10\","
                 "\"type\":\"USES\"}]}"));
    CHECK(drained(db));
    eg_relationship_list rels;
    CHECK_OK(eg_graph_get_relationships(eg_db_graph(db), "11", EG_REL_USES, EG_DIR_OUT, &rels, &err), &err);
    CHECK(rels.count == 1 && strcmp(rels.items[0].target_id, "10") == 0);
    eg_relationship_list_free(&rels);
    json_t *report = check(db);
    CHECK(json_is_true(json_object_get(report, "consistent")) && json_integer_value(json_object_get(report, "memories")) == 2);
    json_decref(report);
    eg_close(db);
}

TEST(set_faults_needs_engram_allow_faults) {
    unsetenv("ENGRAM_ALLOW_FAULTS");
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    json_t *r = test_exec(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}");
    CHECK(strcmp(test_response_code(r), "invalid_argument") == 0);
    json_decref(r);
    CHECK(ok(db, "{\"op\":\"count_nodes\"}"));
    eg_close(db);
    db = open_folder(test_scratch_dir(), NULL, 0);
    REQUIRE(db);
    r = test_exec(db, "{\"op\":\"set_faults\",\"rules\":\"graph.bogus=fail\"}");
    CHECK(strcmp(test_response_code(r), "invalid_argument") == 0);
    json_decref(r);
    eg_close(db);
}

int main(int argc, char **argv) {
    if (argc > 1) { /* one test by number, for debugging */
        void (*tests[])(void) = {test_a_breaker_opens_after_the_threshold_fails_fast_and_heals,
                                 test_reads_fall_back_to_the_cache_but_never_past_an_acknowledged_write,
                                 test_fail_policy_refuses_writes_cleanly_while_a_store_is_down,
                                 test_queue_policy_accepts_writes_while_a_store_is_down_and_drains_them_in_order,
                                 test_a_full_queue_refuses_the_write_and_loses_nothing_acknowledged,
                                 test_queued_writes_survive_kill_9, test_set_faults_needs_engram_allow_faults,
                                 test_a_queued_write_the_store_refuses_stalls_its_queue_visibly,
                                 test_a_relationship_to_a_queued_node_waits_behind_it};
        test_run(argv[1], tests[atoi(argv[1])]);
        return test_summary();
    }
    RUN(a_breaker_opens_after_the_threshold_fails_fast_and_heals);
    RUN(reads_fall_back_to_the_cache_but_never_past_an_acknowledged_write);
    RUN(fail_policy_refuses_writes_cleanly_while_a_store_is_down);
    RUN(queue_policy_accepts_writes_while_a_store_is_down_and_drains_them_in_order);
    RUN(a_full_queue_refuses_the_write_and_loses_nothing_acknowledged);
    RUN(queued_writes_survive_kill_9);
    RUN(set_faults_needs_engram_allow_faults);
    RUN(a_queued_write_the_store_refuses_stalls_its_queue_visibly);
    RUN(a_relationship_to_a_queued_node_waits_behind_it);
    return test_summary();
}
