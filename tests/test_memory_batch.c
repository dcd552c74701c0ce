/* test_memory_batch.c — batch creates (eg_memory_batch_create, exec batch_create_memories): a connected set of
 * memories with relationships inside the batch and to existing nodes, repeats skipped, every refusal naming its
 * item and leaving both stores as they were, failures injected into either store undone whole, overlapping
 * batches and single creates on many threads, degraded mode queueing the batch, and a child killed at each step of the batch's saga (and inside the recovery that undoes
 * it) leaving all of the batch or none of it. */
#define _GNU_SOURCE
#include "test.h"

#include <engram/archive.h>
#include <engram/engram.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static eg_error err;

#define DIM 8
#define BIG 1500 /* past EG_GRAPH_BATCH_MAX: the nodes and relationships go in two graph batches */

static void vector_for(unsigned seed, float v[DIM]) {
    for (int i = 0; i < DIM; i++) v[i] = (float)((seed * 31 + (unsigned)i * 7) % 13) - 6.0f + 0.5f;
}

/* Opens dir in NONE durability with the fault rules given (NULL: none) and setting overrides. */
static eg_db *open_dir(const char *dir, const char *faults, const char *const *settings, size_t setting_count) {
    setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
    if (faults) setenv("ENGRAM_FAULTS", faults, 1);
    eg_options options = {EG_DURABILITY_NONE, settings, setting_count};
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    unsetenv("ENGRAM_ALLOW_FAULTS");
    unsetenv("ENGRAM_FAULTS");
    CHECK_OK(st, &err);
    return db;
}


/* A batch the tests own: specs with their vectors, ids and relationships kept alive beside them. */
typedef struct batch {
    size_t count;
    eg_memory_spec *specs;
    float (*vectors)[DIM];
    char (*ids)[40];
    eg_memory_relationship (*rels)[2];
} batch;

static void batch_init(batch *b, size_t count) {
    b->count = count;
    b->specs = calloc(count, sizeof *b->specs);
    b->vectors = calloc(count, sizeof *b->vectors);
    b->ids = calloc(count, sizeof *b->ids);
    b->rels = calloc(count, sizeof *b->rels);
}

static void batch_free(batch *b) {
    free(b->specs);
    free(b->vectors);
    free(b->ids);
    free(b->rels);
}

static void batch_set(batch *b, size_t i, eg_memory_type type, const char *id, unsigned seed) {
    snprintf(b->ids[i], sizeof b->ids[i], "%s", id);
    vector_for(seed, b->vectors[i]);
    b->specs[i] = (eg_memory_spec){.type = type, .id = b->ids[i], .vector = b->vectors[i], .dim = DIM};
}

static void batch_relate(batch *b, size_t i, const char *target, eg_rel_type type) {
    size_t n = b->specs[i].relationship_count++;
    b->rels[i][n] = (eg_memory_relationship){target, type, NULL};
    b->specs[i].relationships = b->rels[i];
}

/* BIG entities "10000".., each related to the one before it (the first to the existing memory "1"), and
 * every tenth to the one after it: targets earlier and later in the batch, and outside it. */
static void big_batch(batch *b) {
    batch_init(b, BIG);
    for (size_t i = 0; i < BIG; i++) {
        char id[32];
        snprintf(id, sizeof id, "%zu", 10000 + i);
        batch_set(b, i, EG_MEMORY_ENTITY, id, (unsigned)i);
    }
    for (size_t i = 0; i < BIG; i++) {
        batch_relate(b, i, i ? b->ids[i - 1] : "1", EG_REL_RELATES_TO);
        if (i % 10 == 0 && i + 1 < BIG) batch_relate(b, i, b->ids[i + 1], EG_REL_TEMPORAL_BEFORE);
    }
}



static size_t count_relationships(eg_db *db, const char *id, eg_direction dir) {
    eg_relationship_list list = {0};
    if (eg_graph_get_relationships(eg_db_graph(db), id, EG_REL_ANY, dir, &list, &err) != EG_OK) return 0;
    size_t n = list.count;
    eg_relationship_list_free(&list);
    return n;
}

/* The memory every test starts from: entity "1", the batches' target outside themselves. */
static void prepare(eg_db *db) {
    float v[DIM];
    vector_for(1, v);
    eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = "1", .vector = v, .dim = DIM};
    CHECK_OK(eg_memory_create(db, &spec, NULL, &err), &err);
}

/* Runs the batch, expecting `expected`; on a refusal the message must start with `prefix` and the stores must be
 * as they were. */
static void refused(eg_db *db, const batch *b, eg_status expected, const char *prefix) {
    char *before = test_memory_snapshot(db);
    eg_error e;
    eg_status st = eg_memory_batch_create(db, b->specs, b->count, NULL, &e);
    CHECK(st == expected);
    CHECK(strncmp(e.message, prefix, strlen(prefix)) == 0);
    if (st != expected || strncmp(e.message, prefix, strlen(prefix)) != 0)
        fprintf(stderr, "  got %s: %s\n  expected %s: %s...\n", eg_status_name(st), e.message,
                eg_status_name(expected), prefix);
    char *after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    CHECK(test_consistent_after(db, false));
}

TEST(a_connected_batch_is_created_whole_with_relationships_inside_and_out) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    prepare(db);
    batch b;
    batch_init(&b, 4);
    batch_set(&b, 0, EG_MEMORY_EPISODE, "6F1C2A4E-0000-4000-8000-000000000001", 2);
    batch_set(&b, 1, EG_MEMORY_ENTITY, "2", 3);
    batch_set(&b, 2, EG_MEMORY_PROCEDURE, "3", 4);
    batch_set(&b, 3, EG_MEMORY_EPISODE, "4", 5);
    json_t *payload = json_pack("{s:s}", "text", "we met"), *props = json_pack("{s:s}", "title", "meeting");
    b.specs[0].payload = payload;
    b.specs[0].properties = props;
    b.specs[0].session_id = "s1";
    b.specs[0].has_created_at = true;
    b.specs[0].created_at = 1700000000000;
    batch_relate(&b, 0, "2", EG_REL_RELATES_TO);   /* later in the batch */
    batch_relate(&b, 0, "1", EG_REL_PART_OF);      /* an existing memory */
    batch_relate(&b, 1, "1", EG_REL_SIMILAR_TO);
    batch_relate(&b, 2, "3", EG_REL_USES);         /* itself */
    batch_relate(&b, 3, "6f1c2a4e-0000-4000-8000-000000000001", EG_REL_TEMPORAL_AFTER); /* earlier */
    char ids[4][EG_POINT_ID_TEXT];
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, ids, &err), &err);
    CHECK(strcmp(ids[0], "6f1c2a4e-0000-4000-8000-000000000001") == 0 && strcmp(ids[3], "4") == 0);
    for (size_t i = 0; i < b.count; i++)
        CHECK(test_has_point(db, eg_memory_collection(b.specs[i].type), ids[i]) && test_has_node(db, ids[i]));
    CHECK(count_relationships(db, ids[0], EG_DIR_OUT) == 2 && count_relationships(db, ids[0], EG_DIR_IN) == 1);
    CHECK(count_relationships(db, "1", EG_DIR_IN) == 2 && count_relationships(db, "3", EG_DIR_OUT) == 1);
    eg_node n;
    CHECK_OK(eg_graph_get_node(eg_db_graph(db), ids[0], EG_LABEL_EPISODE, &n, &err), &err);
    CHECK(strcmp(json_string_value(json_object_get(n.properties, "title")), "meeting") == 0);
    CHECK(strcmp(json_string_value(json_object_get(n.properties, "sessionId")), "s1") == 0);
    CHECK(json_integer_value(json_object_get(n.properties, "created_at")) == 1700000000000);
    eg_node_clear(&n);
    CHECK(test_consistent_after(db, false));

    /* The same batch again: every item a repeat, nothing written. */
    char *before = test_memory_snapshot(db);
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, ids, &err), &err);
    char *after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(before), free(after);

    /* A repeat beside a new memory: the new one is created, the repeat untouched. */
    batch more;
    batch_init(&more, 2);
    more.specs[0] = b.specs[1];
    batch_set(&more, 1, EG_MEMORY_ENTITY, "5", 6);
    batch_relate(&more, 1, "2", EG_REL_RELATES_TO);
    CHECK_OK(eg_memory_batch_create(db, more.specs, more.count, NULL, &err), &err);
    CHECK(test_has_point(db, eg_memory_collection(EG_MEMORY_ENTITY), "5") && test_has_node(db, "5") &&
          count_relationships(db, "2", EG_DIR_IN) == 2);
    CHECK(test_consistent_after(db, false));

    /* An empty batch does nothing and succeeds. */
    CHECK_OK(eg_memory_batch_create(db, NULL, 0, NULL, &err), &err);
    batch_free(&more);
    batch_free(&b);
    json_decref(payload), json_decref(props);
    eg_close(db);
}

TEST(a_large_batch_spans_several_graph_batches) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    prepare(db);
    batch b;
    big_batch(&b);
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), &err);
    uint64_t nodes = 0, points = 0;
    CHECK_OK(eg_graph_count_nodes(eg_db_graph(db), EG_LABEL_ENTITY, &nodes, &err), &err);
    CHECK_OK(eg_vectors_count(eg_db_vectors(db), "entities", NULL, &points, &err), &err);
    CHECK(nodes == BIG + 1 && points == BIG + 1); /* and "1" */
    CHECK(count_relationships(db, "1", EG_DIR_IN) == 1 && count_relationships(db, b.ids[BIG - 1], EG_DIR_OUT) == 1);
    CHECK(count_relationships(db, b.ids[10], EG_DIR_OUT) == 2 && count_relationships(db, b.ids[11], EG_DIR_IN) == 2);
    CHECK(test_consistent_after(db, false));
    batch_free(&b);
    eg_close(db);
}

TEST(every_bad_batch_is_refused_naming_its_item_and_changes_nothing) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    prepare(db);
    batch b;
    batch_init(&b, 3);
    batch_set(&b, 0, EG_MEMORY_EPISODE, "100", 1);
    batch_set(&b, 1, EG_MEMORY_EPISODE, "101", 2);
    batch_set(&b, 2, EG_MEMORY_ENTITY, "102", 3);
    batch_relate(&b, 0, "101", EG_REL_RELATES_TO);

    /* Over the limit: checked before any item is read. */
    eg_memory_spec *many = calloc(EG_MEMORY_BATCH_MAX + 1, sizeof *many);
    CHECK_STATUS(eg_memory_batch_create(db, many, EG_MEMORY_BATCH_MAX + 1, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "maximum of 10000") != NULL);
    free(many);
    CHECK_STATUS(eg_memory_batch_create(db, NULL, 2, NULL, &err), EG_INVALID_ARGUMENT, &err);

    /* Duplicate ids, also in two spellings of one UUID. */
    snprintf(b.ids[2], sizeof b.ids[2], "100");
    b.specs[2].type = EG_MEMORY_EPISODE;
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 2 (id 100): the same id as memory 0");
    snprintf(b.ids[0], sizeof b.ids[0], "6F1C2A4E-0000-4000-8000-00000000000A");
    snprintf(b.ids[2], sizeof b.ids[2], "6f1c2a4e-0000-4000-8000-00000000000a");
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 2 (id 6f1c2a4e-0000-4000-8000-00000000000a): the same id as memory 0");
    snprintf(b.ids[0], sizeof b.ids[0], "100");
    snprintf(b.ids[2], sizeof b.ids[2], "102");
    b.specs[2].type = EG_MEMORY_ENTITY;

    /* Dimensions: two within a type; one against the type's collection ("1" made entities 8-d). */
    b.specs[1].dim = DIM - 1;
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 1 (id 101): vector has 7 dimensions; memory 0, also of type episode");
    b.specs[1].dim = DIM;
    b.specs[2].dim = DIM - 2;
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 2 (id 102): vector has 6 dimensions; the entities collection");
    b.specs[2].dim = DIM;

    /* A bad vector, a bad id, a reserved key, an unknown type. */
    b.vectors[1][3] = NAN;
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 1 (id 101): vector[3] is not a finite number");
    vector_for(2, b.vectors[1]);
    b.specs[1].id = "not-an-id";
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 1: memory id");
    b.specs[1].id = b.ids[1];
    json_t *reserved = json_pack("{s:i}", "created_at", 1);
    b.specs[2].payload = reserved;
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 2 (id 102): payload may not set 'created_at'");
    b.specs[2].payload = NULL;
    json_decref(reserved);
    b.specs[2].type = (eg_memory_type)7;
    refused(db, &b, EG_INVALID_ARGUMENT, "memory 2 (id 102): invalid memory type 7");
    b.specs[2].type = EG_MEMORY_ENTITY;

    /* A missing relationship target, named by the first item that wants it. */
    batch_relate(&b, 2, "nowhere", EG_REL_RELATES_TO);
    batch_relate(&b, 1, "nowhere", EG_REL_RELATES_TO);
    refused(db, &b, EG_NOT_FOUND, "memory 1 (id 101): relationship target 'nowhere' does not exist");
    b.specs[1].relationship_count = 0;
    b.specs[2].relationship_count = 0;

    /* An existing memory with other content; of another type. */
    b.specs[2].id = "1";
    b.specs[2].vector = b.vectors[1];
    refused(db, &b, EG_CONFLICT, "memory 2 (id 1): memory 1 exists with other content");
    b.specs[2].type = EG_MEMORY_PROCEDURE;
    b.specs[2].vector = b.vectors[2];
    refused(db, &b, EG_CONFLICT, "memory 2 (id 1): memory 1 exists as another type");
    b.specs[2].id = b.ids[2];
    b.specs[2].type = EG_MEMORY_ENTITY;

    /* An archived id is taken. */
    float v[DIM];
    vector_for(9, v);
    eg_memory_spec gone = {.type = EG_MEMORY_ENTITY, .id = "102", .vector = v, .dim = DIM};
    CHECK_OK(eg_memory_create(db, &gone, NULL, &err), &err);
    CHECK_OK(eg_archive_memory(db, EG_MEMORY_ENTITY, "102", &err), &err);
    refused(db, &b, EG_CONFLICT, "memory 2 (id 102): memory 102 is archived");

    /* Fixed, it goes through. */
    snprintf(b.ids[2], sizeof b.ids[2], "103");
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), &err);
    CHECK(test_has_node(db, "100") && test_has_node(db, "101") && test_has_node(db, "103") && test_consistent_after(db, false));
    batch_free(&b);
    eg_close(db);
}

/* A store failing at a step of the saga: the batch fails and every memory it had written is removed. */
TEST(a_store_failing_part_way_undoes_the_whole_batch) {
    static const char *const rules[] = {
        "vectors.upsert=fail_after:1",           /* the second collection's upsert */
        "graph.batch_create_nodes=fail_after:1", /* the second graph batch of nodes */
        "graph.batch_create_relationships=fail_after:1",
    };
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        const char *dir = test_data_dir();
        eg_db *db = open_dir(dir, NULL, NULL, 0);
        REQUIRE(db);
        prepare(db);
        /* The episodes collection exists beforehand: one made for a batch (or a create) stays when it fails. */
        float v[DIM];
        vector_for(5, v);
        eg_memory_spec first = {.type = EG_MEMORY_EPISODE, .id = "5", .vector = v, .dim = DIM};
        CHECK_OK(eg_memory_create(db, &first, NULL, &err), &err);
        eg_close(db);
        db = open_dir(dir, rules[r], NULL, 0);
        REQUIRE(db);
        char *before = test_memory_snapshot(db);
        batch b;
        big_batch(&b);
        batch_set(&b, 0, EG_MEMORY_EPISODE, "10000", 0); /* a second collection */
        b.specs[0].relationships = b.rels[0];
        b.specs[0].relationship_count = 1;
        eg_status st = eg_memory_batch_create(db, b.specs, b.count, NULL, &err);
        CHECK(st == EG_UNAVAILABLE && strstr(err.message, "injected fault") != NULL);
        if (st != EG_UNAVAILABLE) fprintf(stderr, "  with %s: %s %s\n", rules[r], eg_status_name(st), err.message);
        char *after = test_memory_snapshot(db);
        CHECK(strcmp(before, after) == 0);
        CHECK(test_consistent_after(db, false));
        free(before), free(after);
        batch_free(&b);
        eg_close(db);
    }
}

/* The undo itself failing: a dead letter covers the batch and freezes each of its ids until a repair. */
TEST(an_undo_that_fails_freezes_every_id_of_the_batch_until_repaired) {
    const char *dir = test_data_dir();
    eg_db *db = open_dir(dir, NULL, NULL, 0);
    REQUIRE(db);
    prepare(db);
    eg_close(db);
    db = open_dir(dir, "graph.batch_create_relationships=fail; vectors.delete_points=fail", NULL, 0);
    REQUIRE(db);
    batch b;
    batch_init(&b, 2);
    batch_set(&b, 0, EG_MEMORY_EPISODE, "200", 1);
    batch_set(&b, 1, EG_MEMORY_EPISODE, "201", 2);
    batch_relate(&b, 1, "200", EG_REL_RELATES_TO);
    CHECK_STATUS(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "create_memories of a batch of 2 memories failed and could not be undone") != NULL);
    float v[DIM];
    vector_for(1, v);
    eg_memory_spec one = {.type = EG_MEMORY_EPISODE, .id = "201", .vector = v, .dim = DIM};
    CHECK_STATUS(eg_memory_create(db, &one, NULL, &err), EG_CONFLICT, &err); /* frozen */
    CHECK(strstr(err.message, "unresolved dead letter") != NULL);
    eg_close(db);

    db = open_dir(dir, NULL, NULL, 0); /* the freeze outlives a reopen */
    REQUIRE(db);
    CHECK_STATUS(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), EG_CONFLICT, &err);
    CHECK(strstr(err.message, "memory 0 (id 200): memory 200 has an unresolved dead letter") == err.message);
    json_t *report = NULL;
    CHECK_OK(eg_memory_check(db, true, &report, &err), &err);
    CHECK(json_array_size(json_object_get(report, "resolved")) == 1 &&
          json_array_size(json_object_get(report, "repaired")) >= 2);
    json_decref(report);
    CHECK(test_consistent_after(db, false) && !test_has_point(db, EG_MEMORY_EPISODE, "200") && !test_has_node(db, "201"));
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), &err);
    CHECK(test_consistent_after(db, false) && test_has_node(db, "200") && count_relationships(db, "201", EG_DIR_OUT) == 1);
    batch_free(&b);
    eg_close(db);
}

/* ---- Threads ---------------------------------------------------------------------------------------------- */

#define POOL 200
#define WINDOW 40

typedef struct racer {
    eg_db *db;
    int kind; /* 0: batches going up the pool, 1: batches going down, 2: single creates */
    int failures;
} racer;

/* Memory n of the pool, the same whoever writes it: an entity related to "1". */
static void pool_spec(unsigned n, char id[16], float v[DIM], eg_memory_relationship *rel, eg_memory_spec *spec) {
    snprintf(id, 16, "%u", 500 + n);
    vector_for(n, v);
    *rel = (eg_memory_relationship){"1", EG_REL_RELATES_TO, NULL};
    *spec = (eg_memory_spec){.type = EG_MEMORY_ENTITY, .id = id, .vector = v, .dim = DIM, .relationships = rel,
                             .relationship_count = 1};
}

static void *race(void *arg) {
    racer *r = arg;
    char ids[WINDOW][16];
    float v[WINDOW][DIM];
    eg_memory_relationship rels[WINDOW];
    eg_memory_spec specs[WINDOW];
    for (unsigned start = 0; start + WINDOW <= POOL; start += WINDOW / 4) {
        eg_error e;
        for (unsigned k = 0; k < WINDOW; k++) {
            unsigned n = r->kind == 1 ? POOL - 1 - start - k : start + k;
            pool_spec(n, ids[k], v[k], &rels[k], &specs[k]);
            if (r->kind == 2 && eg_memory_create(r->db, &specs[k], NULL, &e) != EG_OK) r->failures++;
        }
        if (r->kind != 2 && eg_memory_batch_create(r->db, specs, WINDOW, NULL, &e) != EG_OK) r->failures++;
    }
    return NULL;
}

/* Batches whose ids overlap, taken in opposite orders, beside single creates of the same ids: the stripes are
 * taken in one order, so nobody deadlocks, and each id is created once, the others repeats. */
TEST(overlapping_batches_and_single_creates_run_together) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    prepare(db);
    racer r[4] = {{db, 0, 0}, {db, 1, 0}, {db, 2, 0}, {db, 1, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, race, &r[i]);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) CHECK(r[i].failures == 0);
    uint64_t nodes = 0;
    CHECK_OK(eg_graph_count_nodes(eg_db_graph(db), EG_LABEL_ENTITY, &nodes, &err), &err);
    CHECK(nodes == POOL + 1 && count_relationships(db, "1", EG_DIR_IN) == POOL && test_consistent_after(db, false));
    eg_close(db);
}

static void sleep_ms(unsigned ms) {
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Degraded mode: the graph down, the batch's graph writes wait in the queue, acknowledged; healed, they land. */
TEST(with_the_graph_down_a_batch_is_queued_and_lands_when_it_heals) {
    static const char *const settings[] = {"degrade.write_policy=queue", "breaker.reset_timeout_ms=50",
                                           "breaker.success_threshold=1"};
    eg_db *db = open_dir(test_data_dir(), NULL, settings, 3);
    REQUIRE(db);
    prepare(db);
    json_t *r = test_exec(db, "{\"op\":\"set_faults\",\"rules\":\"graph.*=fail\"}");
    json_decref(r);
    batch b;
    batch_init(&b, 3);
    batch_set(&b, 0, EG_MEMORY_ENTITY, "300", 1);
    batch_set(&b, 1, EG_MEMORY_ENTITY, "301", 2);
    batch_set(&b, 2, EG_MEMORY_ENTITY, "302", 3);
    batch_relate(&b, 0, "301", EG_REL_RELATES_TO);
    batch_relate(&b, 2, "1", EG_REL_RELATES_TO);
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), &err);
    CHECK(test_has_point(db, eg_memory_collection(EG_MEMORY_ENTITY), "300"));
    r = test_exec(db, "{\"op\":\"set_faults\",\"rules\":\"\"}");
    json_decref(r);
    bool landed = false;
    for (int i = 0; i < 500 && !landed; i++) {
        landed = test_has_node(db, "302") && count_relationships(db, "300", EG_DIR_OUT) == 1 &&
                 count_relationships(db, "302", EG_DIR_OUT) == 1;
        if (!landed) sleep_ms(10);
    }
    CHECK(landed);
    CHECK(test_consistent_after(db, false));
    /* A repeat while nothing is queued any more: nothing to write. */
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), &err);
    batch_free(&b);
    eg_close(db);
}

TEST(exec_batch_create_memories) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    json_t *r = test_exec(db, "{\"op\":\"batch_create_memories\",\"memories\":["
                              "{\"type\":\"entity\",\"id\":7,\"text\":\"alice\"},"
                              "{\"type\":\"episode\",\"id\":\"8\",\"text\":\"alice met bob\",\"session_id\":\"s\","
                              "\"relationships\":[{\"target_id\":\"7\",\"type\":\"RELATES_TO\"}]},"
                              "{\"type\":\"procedure\",\"text\":\"how to meet\"}]}");
    json_t *ids = json_object_get(json_object_get(r, "result"), "ids");
    CHECK(strcmp(test_response_code(r), "ok") == 0 && json_array_size(ids) == 3);
    CHECK(strcmp(json_string_value(json_array_get(ids, 0)), "7") == 0);
    CHECK(json_string_length(json_array_get(ids, 2)) == 36); /* a fresh UUID */
    CHECK(count_relationships(db, "8", EG_DIR_OUT) == 1 && test_consistent_after(db, false));
    json_decref(r);

    static const struct {
        const char *line, *code, *message;
    } bad[] = {
        {"{\"op\":\"batch_create_memories\"}", "invalid_argument", NULL},
        {"{\"op\":\"batch_create_memories\",\"memories\":[{\"id\":9,\"text\":\"x\"}]}", "invalid_argument",
         "memories[0]: "},
        {"{\"op\":\"batch_create_memories\",\"memories\":[{\"type\":\"entity\",\"text\":\"x\",\"color\":1}]}",
         "invalid_argument", "memories[0]: unknown field 'color'"},
        {"{\"op\":\"batch_create_memories\",\"memories\":[{\"type\":\"entity\",\"id\":9,\"text\":\"x\"},"
         "{\"type\":\"entity\",\"id\":10,\"text\":\"y\",\"relationships\":[{\"target_id\":\"11\",\"type\":"
         "\"RELATES_TO\"}]}]}",
         "not_found", "memory 1 (id 10): relationship target '11' does not exist"},
        {"{\"op\":\"batch_create_memories\",\"memories\":[{\"type\":\"entity\",\"id\":9,\"text\":\"x\"},"
         "{\"type\":\"entity\",\"id\":\"9\",\"text\":\"y\"}]}",
         "invalid_argument", "memory 1 (id 9): the same id as memory 0"},
    };
    char *before = test_memory_snapshot(db);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = test_exec(db, bad[i].line);
        const char *message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
        bool good = strcmp(test_response_code(r), bad[i].code) == 0 &&
                    (!bad[i].message || (message && strncmp(message, bad[i].message, strlen(bad[i].message)) == 0));
        CHECK(good);
        if (!good) {
            char *text = json_dumps(r, JSON_COMPACT);
            fprintf(stderr, "  %s\n  -> %s\n", bad[i].line, text);
            free(text);
        }
        json_decref(r);
    }
    char *after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(before), free(after);
    r = test_exec(db, "{\"op\":\"batch_create_memories\",\"memories\":[]}");
    CHECK(strcmp(test_response_code(r), "ok") == 0 &&
          json_array_size(json_object_get(json_object_get(r, "result"), "ids")) == 0);
    json_decref(r);
    eg_close(db);
}

/* ---- Crashes ------------------------------------------------------------------------------------------------ */

/* Forks a child that opens dir under the fault rules and runs the big batch (with after_ok, kills itself once it
 * returned EG_OK; without, a rule must kill it). recovery_only: the child only opens (its recovery is killed). */
static bool child_dies(const char *dir, const char *faults, bool recovery_only, bool after_ok) {
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
        if (faults) setenv("ENGRAM_FAULTS", faults, 1);
        eg_options options = {EG_DURABILITY_NONE};
        eg_db *db;
        eg_error e;
        if (eg_open(dir, &options, &db, &e) != EG_OK) _exit(recovery_only ? 4 : 3);
        batch b;
        big_batch(&b);
        eg_status st = eg_memory_batch_create(db, b.specs, b.count, NULL, &e);
        if (st == EG_OK && after_ok) raise(SIGKILL);
        _exit(10 + (int)st);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    if (!killed)
        fprintf(stderr, "  child with faults '%s' was not killed: %s %d\n", faults ? faults : "",
                WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return killed;
}

/* How many of the big batch's memories are whole (point and node), and how many exist in either store. */
static void count_batch(eg_db *db, size_t *whole, size_t *any) {
    batch b;
    big_batch(&b);
    *whole = *any = 0;
    for (size_t i = 0; i < b.count; i++) {
        bool p = test_has_point(db, eg_memory_collection(EG_MEMORY_ENTITY), b.ids[i]), n = test_has_node(db, b.ids[i]);
        *whole += p && n;
        *any += p || n;
    }
    batch_free(&b);
}

static void one_crash(const char *faults, const char *recovery_faults, bool committed) {
    const char *dir = test_data_dir();
    eg_db *db = open_dir(dir, NULL, NULL, 0);
    REQUIRE(db);
    prepare(db);
    char *before = test_memory_snapshot(db);
    eg_close(db);
    bool killed = child_dies(dir, faults, false, faults == NULL);
    if (killed && recovery_faults) killed = child_dies(dir, recovery_faults, true, false);
    CHECK(killed);
    db = open_dir(dir, NULL, NULL, 0);
    REQUIRE(db);
    size_t whole, any;
    count_batch(db, &whole, &any);
    bool all_or_none = committed ? whole == BIG && any == BIG : any == 0;
    CHECK(all_or_none);
    CHECK(test_consistent_after(db, false));
    if (!committed) {
        char *after = test_memory_snapshot(db);
        CHECK(strcmp(before, after) == 0);
        free(after);
    }
    if (!all_or_none || test_failures_in_current)
        fprintf(stderr, "  ^ killed by '%s'%s%s: %zu whole, %zu in some store\n", faults ? faults : "after ok",
                recovery_faults ? ", recovery by " : "", recovery_faults ? recovery_faults : "", whole, any);
    /* The recovered folder takes the batch (again: a repeat when it committed). */
    batch b;
    big_batch(&b);
    CHECK_OK(eg_memory_batch_create(db, b.specs, b.count, NULL, &err), &err);
    batch_free(&b);
    count_batch(db, &whole, &any);
    CHECK(whole == BIG && test_consistent_after(db, false));
    free(before);
    eg_close(db);
}

TEST(a_batch_killed_at_any_step_leaves_all_of_it_or_none) {
    one_crash("vectors.upsert=kill_at:1", NULL, false);
    one_crash("graph.batch_create_nodes=kill_at:1", NULL, false);
    one_crash("graph.batch_create_nodes=kill_at:2", NULL, false);
    one_crash("graph.batch_create_relationships=kill_at:1", NULL, false);
    one_crash("graph.batch_create_relationships=kill_at:2", NULL, false);
    /* recovery killed while undoing the nodes (part way), then the points */
    one_crash("graph.batch_create_relationships=kill_at:2", "graph.delete_node=kill_at:700", false);
    one_crash("graph.batch_create_relationships=kill_at:2", "vectors.delete_points=kill_at:1", false);
    /* killed while the live run undoes a failed step */
    one_crash("graph.batch_create_nodes=fail_after:1; graph.delete_node=kill_at:3", NULL, false);
    one_crash("graph.batch_create_relationships=fail; vectors.delete_points=kill_at:1", NULL, false);
    /* killed the instant after the batch returned EG_OK */
    one_crash(NULL, NULL, true);
}

/* Random kills: a child creates batches as fast as it can, announcing each on a pipe before it starts and after it
 * returned EG_OK; the parent kills it at a random moment (in the log's writes, a store's commit, recovery at its
 * open...), reopens, and finds every acknowledged batch whole and the one in flight whole or absent. */
#define ROUND_SIZE 50
#define ACKED 0x80000000u
#define RANDOM_KILLS 12

static void round_batch(unsigned round, batch *b) {
    batch_init(b, ROUND_SIZE);
    for (unsigned k = 0; k < ROUND_SIZE; k++) {
        char id[32];
        snprintf(id, sizeof id, "%u", 100000 + round * ROUND_SIZE + k);
        batch_set(b, k, k % 3 ? EG_MEMORY_ENTITY : EG_MEMORY_EPISODE, id, round * ROUND_SIZE + k);
    }
    for (unsigned k = 0; k < ROUND_SIZE; k++) batch_relate(b, k, k ? b->ids[k - 1] : "1", EG_REL_RELATES_TO);
}

/* How many memories of the round are whole, and in some store. */
static void count_round(eg_db *db, unsigned round, size_t *whole, size_t *any) {
    batch b;
    round_batch(round, &b);
    *whole = *any = 0;
    for (size_t i = 0; i < b.count; i++) {
        bool p = test_has_point(db, eg_memory_collection(b.specs[i].type), b.ids[i]), n = test_has_node(db, b.ids[i]);
        *whole += p && n && count_relationships(db, b.ids[i], EG_DIR_OUT) == 1;
        *any += p || n;
    }
    batch_free(&b);
}

static void write_rounds(const char *dir, unsigned first, int fd) {
    eg_options options = {EG_DURABILITY_NONE};
    eg_db *db;
    eg_error e;
    if (eg_open(dir, &options, &db, &e) != EG_OK) _exit(3);
    for (unsigned round = first;; round++) {
        batch b;
        round_batch(round, &b);
        if (write(fd, &round, sizeof round) != sizeof round) _exit(4);
        if (eg_memory_batch_create(db, b.specs, b.count, NULL, &e) != EG_OK) _exit(5);
        unsigned acked = round | ACKED;
        if (write(fd, &acked, sizeof acked) != sizeof acked) _exit(4);
        batch_free(&b);
    }
}

TEST(batches_killed_at_random_moments_are_whole_or_absent) {
    const char *dir = test_data_dir();
    eg_db *db = open_dir(dir, NULL, NULL, 0);
    REQUIRE(db);
    prepare(db);
    eg_close(db);
    unsigned next = 0, seed = (unsigned)time(NULL), mid_batch = 0;
    fprintf(stderr, "  random kills, seed %u\n", seed);
    srand(seed);
    for (int kill_no = 0; kill_no < RANDOM_KILLS; kill_no++) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            write_rounds(dir, next, fds[1]);
        }
        close(fds[1]);
        sleep_ms(5 + (unsigned)rand() % 60);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        unsigned message, last_acked = 0, in_flight = 0;
        bool acked_any = false, flying = false;
        while (read(fds[0], &message, sizeof message) == sizeof message) {
            if (message & ACKED) {
                last_acked = message & ~ACKED, acked_any = true, flying = false;
            } else {
                in_flight = message, flying = true;
            }
        }
        close(fds[0]);
        db = open_dir(dir, NULL, NULL, 0);
        REQUIRE(db);
        for (unsigned round = next; acked_any && round <= last_acked; round++) {
            size_t whole, any;
            count_round(db, round, &whole, &any);
            CHECK(whole == ROUND_SIZE && any == ROUND_SIZE);
        }
        if (flying) {
            mid_batch++;
            size_t whole, any;
            count_round(db, in_flight, &whole, &any);
            CHECK(any == whole && (whole == 0 || whole == ROUND_SIZE));
            if (any != whole || (whole && whole != ROUND_SIZE))
                fprintf(stderr, "  round %u in flight: %zu whole, %zu in some store\n", in_flight, whole, any);
            /* The next child redoes it: a repeat when it committed. */
            next = in_flight;
        } else if (acked_any) {
            next = last_acked + 1;
        }
        CHECK(test_consistent_after(db, false));
        eg_close(db);
    }
    fprintf(stderr, "  %d kills, %u of them with a batch in flight; %u batches written\n", RANDOM_KILLS, mid_batch,
            next);
    CHECK(mid_batch > 0);
}

int main(void) {
    RUN(a_connected_batch_is_created_whole_with_relationships_inside_and_out);
    RUN(a_large_batch_spans_several_graph_batches);
    RUN(every_bad_batch_is_refused_naming_its_item_and_changes_nothing);
    RUN(a_store_failing_part_way_undoes_the_whole_batch);
    RUN(overlapping_batches_and_single_creates_run_together);
    RUN(an_undo_that_fails_freezes_every_id_of_the_batch_until_repaired);
    RUN(with_the_graph_down_a_batch_is_queued_and_lands_when_it_heals);
    RUN(exec_batch_create_memories);
    RUN(a_batch_killed_at_any_step_leaves_all_of_it_or_none);
    RUN(batches_killed_at_random_moments_are_whole_or_absent);
    return test_summary();
}
