/* test_memory.c — the memory API: a memory is a vector point and a graph node with the same id. Creates (new,
 * repeated, conflicting), updates, deletes with their pre-images, recall with graph context, the consistency check
 * and its repair, failures injected into either store (compensated, or left as a dead letter that freezes the id
 * until a repair), and every bad input refused with nothing changed. Crashes are in test_memory_crash.c. */
#include "test.h"

#include <engram/engram.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static eg_error err;

#define DIM 8
#define EP1 "6f1c2a4e-0000-4000-8000-000000000001"
#define EP2 "6f1c2a4e-0000-4000-8000-000000000002"

static void vector_for(int seed, float v[DIM]) {
    for (int i = 0; i < DIM; i++) v[i] = (float)((seed * 31 + i * 7) % 13) - 6.0f + 0.5f;
}

/* Opens a folder with the fault rules given (NULL: none), honoured for this open only. */
static eg_db *open_with_faults(const char *dir, const char *rules) {
    if (rules) {
        setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
        setenv("ENGRAM_FAULTS", rules, 1);
    }
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    unsetenv("ENGRAM_ALLOW_FAULTS");
    unsetenv("ENGRAM_FAULTS");
    CHECK_OK(st, &err);
    return db;
}

static eg_status create(eg_db *db, eg_memory_type type, const char *id, int seed, json_t *payload, json_t *props,
                        const eg_memory_relationship *rels, size_t nrels) {
    float v[DIM];
    vector_for(seed, v);
    eg_memory_spec spec = {.type = type, .id = id, .vector = v, .dim = DIM, .payload = payload, .properties = props,
                           .relationships = rels, .relationship_count = nrels};
    return eg_memory_create(db, &spec, NULL, &err);
}



static json_t *check(eg_db *db, bool repair) {
    json_t *report = NULL;
    CHECK_OK(eg_memory_check(db, repair, &report, &err), &err);
    return report;
}

static bool consistent(eg_db *db) {
    json_t *report = check(db, false);
    bool ok = report && json_is_true(json_object_get(report, "consistent"));
    json_decref(report);
    return ok;
}


TEST(create_writes_both_stores_with_the_same_id_session_and_time) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    json_t *payload = json_pack("{s:s}", "text", "we met"), *props = json_pack("{s:s}", "title", "meeting");
    float v[DIM];
    vector_for(1, v);
    eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = "6F1C2A4E-0000-4000-8000-000000000001", .vector = v,
                           .dim = DIM, .payload = payload, .properties = props, .session_id = "s1",
                           .has_created_at = true, .created_at = 1700000000000};
    char id[EG_POINT_ID_TEXT];
    CHECK_OK(eg_memory_create(db, &spec, id, &err), &err);
    CHECK(strcmp(id, EP1) == 0); /* canonical: lower case */
    eg_point_id pid;
    eg_point_id_parse(EP1, &pid, &err);
    eg_point_list list;
    CHECK_OK(eg_vectors_get(eg_db_vectors(db), "episodes", &pid, 1, true, false, &list, &err), &err);
    REQUIRE(list.count == 1);
    json_t *want = json_pack("{s:s, s:s, s:I}", "text", "we met", "session_id", "s1", "created_at",
                             (json_int_t)1700000000000);
    CHECK(json_equal(list.items[0].payload, want));
    json_decref(want);
    eg_point_list_free(&list);
    eg_node node;
    CHECK_OK(eg_graph_get_node(eg_db_graph(db), EP1, EG_LABEL_EPISODE, &node, &err), &err);
    want = json_pack("{s:s, s:s, s:I}", "title", "meeting", "sessionId", "s1", "created_at",
                     (json_int_t)1700000000000);
    CHECK(json_equal(node.properties, want));
    json_decref(want);
    eg_node_clear(&node);
    eg_collection_info info;
    CHECK_OK(eg_vectors_get_collection(eg_db_vectors(db), "episodes", &info, &err), &err);
    CHECK(info.config.dim == DIM && info.config.distance == EG_DISTANCE_COSINE && info.index_count == 2);
    eg_collection_info_clear(&info);
    /* Without created_at, the time of the create is used. */
    int64_t before = 0;
    CHECK_OK(create(db, EG_MEMORY_PROCEDURE, "42", 2, NULL, NULL, NULL, 0), &err);
    CHECK_OK(eg_graph_get_node(eg_db_graph(db), "42", EG_LABEL_PROCEDURE, &node, &err), &err);
    CHECK(json_integer_value(json_object_get(node.properties, "created_at")) > before);
    eg_node_clear(&node);
    CHECK(consistent(db));
    json_decref(payload);
    json_decref(props);
    eg_close(db);
}

TEST(a_repeated_create_is_a_no_op_and_other_content_is_a_conflict) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    json_t *payload = json_pack("{s:s}", "text", "a");
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 1, payload, NULL, NULL, 0), &err);
    char *before = test_memory_snapshot(db);
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 1, payload, NULL, NULL, 0), &err); /* created_at not given: kept */
    char *after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(after);
    CHECK_STATUS(create(db, EG_MEMORY_EPISODE, EP1, 2, payload, NULL, NULL, 0), EG_CONFLICT, &err);
    CHECK(strstr(err.message, "other content") != NULL);
    json_t *other = json_pack("{s:s}", "text", "b");
    CHECK_STATUS(create(db, EG_MEMORY_EPISODE, EP1, 1, other, NULL, NULL, 0), EG_CONFLICT, &err);
    CHECK_STATUS(create(db, EG_MEMORY_EPISODE, EP1, 1, payload, other, NULL, 0), EG_CONFLICT, &err);
    CHECK_STATUS(create(db, EG_MEMORY_ENTITY, EP1, 1, payload, NULL, NULL, 0), EG_CONFLICT, &err);
    CHECK(strstr(err.message, "another type") != NULL);
    after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    json_decref(payload);
    json_decref(other);
    eg_close(db);
}

TEST(entities_carry_relationships_to_existing_nodes_only) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "1", 1, NULL, NULL, NULL, 0), &err);
    json_t *props = json_pack("{s:f}", "weight", 0.7);
    eg_memory_relationship rels[] = {{"1", EG_REL_RELATES_TO, props}, {"2", EG_REL_USES, NULL}};
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "2", 2, NULL, NULL, rels, 1), &err);
    eg_relationship_list list;
    CHECK_OK(eg_graph_get_relationships(eg_db_graph(db), "2", EG_REL_ANY, EG_DIR_OUT, &list, &err), &err);
    REQUIRE(list.count == 1);
    CHECK(strcmp(list.items[0].target_id, "1") == 0 &&
          json_real_value(json_object_get(list.items[0].properties, "weight")) == 0.7);
    eg_relationship_list_free(&list);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "2", 2, NULL, NULL, rels, 1), &err); /* a repeat, relationships too */
    /* A missing target: not found, and nothing written. */
    char *before = test_memory_snapshot(db);
    eg_memory_relationship missing[] = {{"1", EG_REL_USES, NULL}, {"77", EG_REL_USES, NULL}};
    CHECK_STATUS(create(db, EG_MEMORY_ENTITY, "3", 3, NULL, NULL, missing, 2), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "'77'") != NULL);
    char *after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    /* A self-relationship needs no existing target. */
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "4", 4, NULL, NULL, &rels[1], 0), &err);
    eg_memory_relationship self[] = {{"5", EG_REL_SIMILAR_TO, NULL}};
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "5", 5, NULL, NULL, self, 1), &err);
    CHECK(consistent(db));
    json_decref(props);
    eg_close(db);
}

TEST(update_changes_both_stores_and_null_removes_a_property) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    json_t *payload = json_pack("{s:s}", "text", "a"), *props = json_pack("{s:s, s:i}", "title", "t", "n", 1);
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 1, payload, props, NULL, 0), &err);
    json_t *pay2 = json_pack("{s:s}", "mood", "calm"), *props2 = json_pack("{s:n, s:i}", "title", "n", 2);
    CHECK_OK(eg_memory_update(db, EG_MEMORY_EPISODE, EP1, pay2, props2, &err), &err);
    eg_node node;
    CHECK_OK(eg_graph_get_node(eg_db_graph(db), EP1, EG_LABEL_ANY, &node, &err), &err);
    CHECK(!json_object_get(node.properties, "title"));
    CHECK(json_integer_value(json_object_get(node.properties, "n")) == 2);
    eg_node_clear(&node);
    eg_point_id pid;
    eg_point_id_parse(EP1, &pid, &err);
    eg_point_list list;
    CHECK_OK(eg_vectors_get(eg_db_vectors(db), "episodes", &pid, 1, true, false, &list, &err), &err);
    REQUIRE(list.count == 1);
    CHECK(strcmp(json_string_value(json_object_get(list.items[0].payload, "mood")), "calm") == 0);
    CHECK(strcmp(json_string_value(json_object_get(list.items[0].payload, "text")), "a") == 0);
    eg_point_list_free(&list);
    CHECK_OK(eg_memory_update(db, EG_MEMORY_EPISODE, EP1, NULL, props, &err), &err); /* properties only */
    CHECK_STATUS(eg_memory_update(db, EG_MEMORY_EPISODE, EP2, pay2, NULL, &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_memory_update(db, EG_MEMORY_ENTITY, EP1, pay2, NULL, &err), EG_NOT_FOUND, &err);
    json_decref(payload);
    json_decref(props);
    json_decref(pay2);
    json_decref(props2);
    eg_close(db);
}

TEST(delete_removes_point_node_and_relationships) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "1", 1, NULL, NULL, NULL, 0), &err);
    eg_memory_relationship rels[] = {{"1", EG_REL_RELATES_TO, NULL}};
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 2, NULL, NULL, rels, 1), &err);
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_EPISODE, EP1, &err), &err);
    CHECK(!test_has_point(db, "episodes", EP1) && !test_has_node(db, EP1));
    uint64_t n = 9;
    CHECK_OK(eg_graph_count_relationships(eg_db_graph(db), &n, &err), &err);
    CHECK(n == 0);
    CHECK_STATUS(eg_memory_delete(db, EG_MEMORY_EPISODE, EP1, &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_memory_delete(db, EG_MEMORY_EPISODE, "1", &err), EG_NOT_FOUND, &err); /* an entity */
    CHECK(test_has_node(db, "1"));
    /* Half a memory (an orphan) is deleted from the store that has it. */
    float v[DIM];
    vector_for(3, v);
    eg_point p = {.id = eg_point_id_num(9), .vector = v, .dim = DIM};
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "entities", &p, 1, &err), &err);
    CHECK(!consistent(db));
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_ENTITY, "9", &err), &err);
    CHECK(consistent(db));
    eg_close(db);
}

/* A create asks the store about its collection once, then remembers it; deleting the collection or one of the
 * memory layer's payload indexes (here through the store, as exec or a Qdrant client would) makes the next create
 * ask again, recreate what is missing, and succeed. */
TEST(a_create_after_its_collection_or_index_was_deleted_recreates_them) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    eg_vectors *v = eg_db_vectors(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "1", 1, NULL, NULL, NULL, 0), &err);
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_ENTITY, "1", &err), &err);
    CHECK_OK(eg_vectors_delete_collection(v, "entities", &err), &err);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "2", 2, NULL, NULL, NULL, 0), &err);
    CHECK(test_has_point(db, "entities", "2") && test_has_node(db, "2"));
    CHECK_OK(eg_vectors_delete_payload_index(v, "entities", "session_id", &err), &err);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "3", 3, NULL, NULL, NULL, 0), &err);
    eg_collection_info info;
    CHECK_OK(eg_vectors_get_collection(v, "entities", &info, &err), &err);
    bool indexed = false;
    for (size_t i = 0; i < info.index_count; i++) indexed |= strcmp(info.indexes[i].field, "session_id") == 0;
    CHECK(indexed);
    eg_collection_info_clear(&info);
    CHECK(consistent(db));
    eg_close(db);
}

TEST(recall_returns_hits_with_their_graph_context) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    json_t *empty = NULL;
    float q[DIM];
    vector_for(1, q);
    eg_recall_request request = {.type = EG_MEMORY_EPISODE, .vector = q, .dim = DIM, .expand = 1};
    CHECK_OK(eg_memory_recall(db, &request, &empty, &err), &err); /* no collection yet */
    CHECK(json_array_size(json_object_get(empty, "memories")) == 0);
    json_decref(empty);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "1", 5, NULL, NULL, NULL, 0), &err);
    eg_memory_relationship to1[] = {{"1", EG_REL_RELATES_TO, NULL}};
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "2", 6, NULL, NULL, to1, 1), &err);
    eg_memory_relationship to2[] = {{"2", EG_REL_RELATES_TO, NULL}};
    float v[DIM];
    vector_for(1, v);
    eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = EP1, .vector = v, .dim = DIM, .session_id = "s1",
                           .relationships = to2, .relationship_count = 1};
    CHECK_OK(eg_memory_create(db, &spec, NULL, &err), &err);
    vector_for(2, v);
    spec.id = EP2;
    spec.session_id = "s2";
    spec.relationship_count = 0;
    CHECK_OK(eg_memory_create(db, &spec, NULL, &err), &err);

    for (int expand = 0; expand <= 2; expand++) {
        json_t *found = NULL;
        request.expand = expand;
        CHECK_OK(eg_memory_recall(db, &request, &found, &err), &err);
        json_t *memories = json_object_get(found, "memories");
        REQUIRE(json_array_size(memories) == 2);
        json_t *top = json_array_get(memories, 0);
        CHECK(strcmp(json_string_value(json_object_get(top, "id")), EP1) == 0);
        CHECK(fabs(json_real_value(json_object_get(top, "score")) - 1.0) < 1e-6);
        CHECK(strcmp(json_string_value(json_object_get(json_object_get(top, "node"), "label")), "Episode") == 0);
        size_t neighbours = json_array_size(json_object_get(top, "neighbors"));
        size_t rels = json_array_size(json_object_get(top, "relationships"));
        CHECK(neighbours == (size_t)expand && rels == (size_t)expand);
        if (expand == 2) {
            json_t *far = json_array_get(json_object_get(top, "neighbors"), 1);
            CHECK(strcmp(json_string_value(json_object_get(far, "id")), "1") == 0);
            CHECK(json_integer_value(json_object_get(far, "depth")) == 2);
        }
        json_decref(found);
    }
    json_t *found = NULL;
    request.session_id = "s2";
    request.expand = 0;
    CHECK_OK(eg_memory_recall(db, &request, &found, &err), &err);
    json_t *memories = json_object_get(found, "memories");
    CHECK(json_array_size(memories) == 1 &&
          strcmp(json_string_value(json_object_get(json_array_get(memories, 0), "id")), EP2) == 0);
    json_decref(found);
    request.expand = 3;
    CHECK_STATUS(eg_memory_recall(db, &request, &found, &err), EG_INVALID_ARGUMENT, &err);
    request.expand = 0;
    request.dim = DIM - 1;
    CHECK_STATUS(eg_memory_recall(db, &request, &found, &err), EG_INVALID_ARGUMENT, &err);
    eg_close(db);
}

TEST(a_failing_store_is_compensated_and_nothing_remains) {
    const char *dir = test_scratch_dir();
    eg_db *db = open_with_faults(dir, NULL);
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, "1", 1, NULL, NULL, NULL, 0), &err);
    eg_memory_relationship rels[] = {{"1", EG_REL_RELATES_TO, json_pack("{s:f}", "weight", 0.25)}};
    json_t *payload = json_pack("{s:s}", "text", "x");
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 2, payload, NULL, rels, 1), &err);
    json_decref(payload);
    json_decref(rels[0].properties);
    eg_close(db);
    char *before;
    {
        eg_db *plain = open_with_faults(dir, NULL);
        before = test_memory_snapshot(plain);
        eg_close(plain);
    }
    static const char *const rules[] = {"graph.create_node=fail", "graph.batch_create_relationships=fail",
                                        "vectors.upsert=fail"};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        db = open_with_faults(dir, rules[r]);
        REQUIRE(db);
        eg_memory_relationship to1[] = {{"1", EG_REL_USES, NULL}};
        CHECK_STATUS(create(db, EG_MEMORY_EPISODE, EP2, 3, NULL, NULL, to1, 1), EG_UNAVAILABLE, &err);
        CHECK(strstr(err.message, "injected") != NULL);
        char *after = test_memory_snapshot(db);
        CHECK(strcmp(before, after) == 0);
        free(after);
        eg_close(db);
    }
    static const char *const delete_rules[] = {"graph.delete_node=fail", "vectors.delete_points=fail"};
    for (size_t r = 0; r < 2; r++) {
        db = open_with_faults(dir, delete_rules[r]);
        REQUIRE(db);
        CHECK_STATUS(eg_memory_delete(db, EG_MEMORY_EPISODE, EP1, &err), EG_UNAVAILABLE, &err);
        char *after = test_memory_snapshot(db);
        CHECK(strcmp(before, after) == 0); /* the vector, payload, node and weighted relationship are back */
        free(after);
        eg_close(db);
    }
    /* A failed step is compensated too (it may have taken effect): with a lasting outage of the same operation
     * that compensation fails as well (the dead letter test's case), so these outages pass. */
    static const char *const update_rules[] = {"graph.update_node=fail_times:1", "vectors.set_payload=fail_times:1"};
    for (size_t r = 0; r < 2; r++) {
        db = open_with_faults(dir, update_rules[r]);
        REQUIRE(db);
        json_t *pay = json_pack("{s:s, s:i}", "text", "changed", "extra", 1), *props = json_pack("{s:i}", "n", 1);
        CHECK_STATUS(eg_memory_update(db, EG_MEMORY_EPISODE, EP1, pay, props, &err), EG_UNAVAILABLE, &err);
        char *after = test_memory_snapshot(db);
        CHECK(strcmp(before, after) == 0);
        free(after);
        json_decref(pay);
        json_decref(props);
        eg_close(db);
    }
    /* A pre-image that cannot be read: nothing is deleted. */
    db = open_with_faults(dir, "graph.get_relationships=fail");
    REQUIRE(db);
    CHECK_STATUS(eg_memory_delete(db, EG_MEMORY_EPISODE, EP1, &err), EG_UNAVAILABLE, &err);
    eg_close(db);
    db = open_with_faults(dir, NULL);
    char *after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(after);
    CHECK(consistent(db));
    eg_close(db);
    free(before);
}

TEST(a_compensation_that_fails_leaves_a_dead_letter_that_freezes_the_id_until_repaired) {
    const char *dir = test_scratch_dir();
    eg_db *db = open_with_faults(dir, "graph.create_node=fail;vectors.delete_points=fail");
    REQUIRE(db);
    CHECK_STATUS(create(db, EG_MEMORY_EPISODE, EP1, 1, NULL, NULL, NULL, 0), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "could not be undone") != NULL && strstr(err.message, "dead letter") != NULL);
    json_t *report = check(db, false);
    CHECK(json_is_false(json_object_get(report, "consistent")));
    CHECK(json_array_size(json_object_get(report, "orphans")) == 1);
    json_t *letters = json_object_get(report, "dead_letters");
    REQUIRE(json_array_size(letters) == 1);
    json_t *letter = json_array_get(letters, 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "type")), "create_memory") == 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "failed_step")), "create_node") == 0);
    CHECK(json_array_size(json_object_get(letter, "compensation_errors")) == 1);
    json_decref(report);
    eg_close(db);

    /* After a restart the id is still frozen: no write may land on it before the repair. */
    db = open_with_faults(dir, NULL);
    REQUIRE(db);
    CHECK_STATUS(create(db, EG_MEMORY_EPISODE, EP1, 1, NULL, NULL, NULL, 0), EG_CONFLICT, &err);
    CHECK(strstr(err.message, "dead letter") != NULL);
    CHECK_STATUS(eg_memory_delete(db, EG_MEMORY_EPISODE, EP1, &err), EG_CONFLICT, &err);
    report = check(db, true);
    CHECK(json_is_true(json_object_get(report, "consistent")));
    CHECK(json_array_size(json_object_get(report, "resolved")) == 1);
    CHECK(json_array_size(json_object_get(report, "dead_letters")) == 0);
    json_decref(report);
    CHECK(!test_has_point(db, "episodes", EP1));
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 1, NULL, NULL, NULL, 0), &err);
    CHECK(consistent(db));
    eg_close(db);

    /* A delete whose restore fails: the repair puts the memory back from the logged pre-image. */
    db = open_with_faults(dir, "graph.delete_node=fail;vectors.upsert=fail");
    REQUIRE(db);
    CHECK_STATUS(eg_memory_delete(db, EG_MEMORY_EPISODE, EP1, &err), EG_UNAVAILABLE, &err);
    CHECK(!test_has_point(db, "episodes", EP1) && test_has_node(db, EP1));
    eg_close(db);
    db = open_with_faults(dir, NULL);
    report = check(db, true);
    CHECK(json_is_true(json_object_get(report, "consistent")));
    json_t *repaired = json_array_get(json_object_get(report, "repaired"), 0);
    CHECK(repaired && strcmp(json_string_value(json_object_get(repaired, "action")), "restored") == 0);
    json_decref(report);
    CHECK(test_has_point(db, "episodes", EP1) && test_has_node(db, EP1));
    eg_close(db);
}

TEST(check_finds_orphans_in_either_store_and_repair_removes_them) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 1, NULL, NULL, NULL, 0), &err);
    CHECK_OK(eg_graph_create_node(eg_db_graph(db), EG_LABEL_EPISODE, EP2, NULL, &err), &err);
    float v[DIM];
    vector_for(4, v);
    eg_point p = {.id = eg_point_id_num(7), .vector = v, .dim = DIM};
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "episodes", &p, 1, &err), &err);
    json_t *report = check(db, false);
    CHECK(json_is_false(json_object_get(report, "consistent")));
    CHECK(json_integer_value(json_object_get(report, "memories")) == 1);
    CHECK(json_array_size(json_object_get(report, "orphans")) == 2);
    json_decref(report);
    report = check(db, true);
    CHECK(json_is_true(json_object_get(report, "consistent")));
    CHECK(json_array_size(json_object_get(report, "repaired")) == 2);
    json_decref(report);
    CHECK(consistent(db) && test_has_node(db, EP1) && !test_has_node(db, EP2) && !test_has_point(db, "episodes", "7"));
    eg_close(db);
}

TEST(bad_input_is_refused_and_changes_nothing) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_EPISODE, EP1, 1, NULL, NULL, NULL, 0), &err);
    char *before = test_memory_snapshot(db);
    float v[DIM], nan_v[DIM], wide[DIM + 1] = {1};
    vector_for(2, v);
    vector_for(2, nan_v);
    nan_v[3] = NAN;
    json_t *reserved = json_pack("{s:i}", "created_at", 5), *not_object = json_string("x");
    eg_memory_relationship bad_type[] = {{"1", (eg_rel_type)99, NULL}};
    eg_memory_relationship bad_target[] = {{"../x", EG_REL_USES, NULL}};
    struct {
        eg_memory_spec spec;
        const char *message;
    } cases[] = {
        {{.type = (eg_memory_type)7, .id = EP2, .vector = v, .dim = DIM}, "memory type"},
        {{.type = EG_MEMORY_EPISODE, .id = "not-an-id", .vector = v, .dim = DIM}, "memory id"},
        {{.type = EG_MEMORY_EPISODE, .id = "../x", .vector = v, .dim = DIM}, "memory id"},
        {{.type = EG_MEMORY_EPISODE, .id = NULL, .vector = v, .dim = DIM}, "memory id"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = NULL, .dim = DIM}, "vector"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = 0}, "vector"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = nan_v, .dim = DIM}, "vector[3]"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = wide, .dim = DIM + 1}, "dimensions"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .payload = reserved}, "created_at"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .properties = reserved}, "created_at"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .payload = not_object}, "JSON object"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .session_id = ""}, "session_id"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .has_created_at = true, .created_at = -1},
         "created_at"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .relationships = bad_type,
          .relationship_count = 1},
         "relationship type"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .relationships = bad_target,
          .relationship_count = 1},
         "target_id"},
        {{.type = EG_MEMORY_EPISODE, .id = EP2, .vector = v, .dim = DIM, .relationships = bad_target,
          .relationship_count = EG_MEMORY_RELATIONSHIPS_MAX + 1},
         "maximum"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_STATUS(eg_memory_create(db, &cases[i].spec, NULL, &err), EG_INVALID_ARGUMENT, &err);
        if (!strstr(err.message, cases[i].message)) {
            fprintf(stderr, "  case %zu: '%s' lacks '%s'\n", i, err.message, cases[i].message);
            CHECK(false);
        }
    }
    CHECK_STATUS(eg_memory_create(db, NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_memory_update(db, EG_MEMORY_EPISODE, EP1, NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_memory_update(db, EG_MEMORY_EPISODE, EP1, reserved, NULL, &err), EG_INVALID_ARGUMENT, &err);
    json_t *bad_name = json_pack("{s:i}", "bad name", 1), *id_prop = json_pack("{s:s}", "id", "x");
    CHECK_STATUS(eg_memory_update(db, EG_MEMORY_EPISODE, EP1, NULL, bad_name, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_memory_update(db, EG_MEMORY_EPISODE, EP1, NULL, id_prop, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_memory_update(db, (eg_memory_type)-1, EP1, bad_name, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_memory_delete(db, EG_MEMORY_EPISODE, "x/y", &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_memory_delete(NULL, EG_MEMORY_EPISODE, EP1, &err), EG_INVALID_ARGUMENT, &err);
    eg_memory_type type;
    CHECK_STATUS(eg_memory_type_parse("memo", &type, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_OK(eg_memory_type_parse("entities", &type, &err), &err);
    CHECK(type == EG_MEMORY_ENTITY);
    CHECK_OK(eg_memory_type_parse("Procedure", &type, &err), &err);
    CHECK(type == EG_MEMORY_PROCEDURE);
    char *after = test_memory_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    json_decref(reserved);
    json_decref(not_object);
    json_decref(bad_name);
    json_decref(id_prop);
    eg_close(db);
}

TEST(exec_speaks_the_memory_operations) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    static const struct {
        const char *line, *code;
    } lines[] = {
        {"{\"op\":\"create_entity\",\"id\":1,\"text\":\"Alice writes C\",\"properties\":{\"name\":\"Alice\"}}", "ok"},
        {"{\"op\":\"create_episode\",\"id\":\"" EP1 "\",\"text\":\"Alice fixed the storage engine\","
         "\"session_id\":\"s1\",\"relationships\":[{\"target_id\":\"1\",\"type\":\"RELATES_TO\"}]}",
         "ok"},
        {"{\"op\":\"create_episode\",\"id\":\"" EP2 "\",\"vector\":[1,2],\"text\":\"both\"}", "invalid_argument"},
        {"{\"op\":\"create_episode\",\"id\":\"" EP2 "\"}", "invalid_argument"},
        {"{\"op\":\"create_episode\",\"id\":\"" EP2 "\",\"text\":\"x\",\"relationships\":[{\"target_id\":\"1\","
         "\"type\":\"LIKES\"}]}",
         "invalid_argument"},
        {"{\"op\":\"create_episode\",\"id\":\"" EP2 "\",\"text\":\"x\",\"colour\":1}", "invalid_argument"},
        {"{\"op\":\"create_episode\",\"id\":-1,\"text\":\"x\"}", "invalid_argument"},
        {"{\"op\":\"update_memory\",\"id\":1,\"type\":\"entity\",\"payload\":{\"team\":\"core\"}}", "ok"},
        {"{\"op\":\"update_memory\",\"id\":1,\"type\":\"widget\",\"payload\":{}}", "invalid_argument"},
        {"{\"op\":\"recall\",\"type\":\"episode\",\"text\":\"storage engine\",\"expand\":1}", "ok"},
        {"{\"op\":\"recall\",\"type\":\"episode\",\"text\":\"storage\",\"expand\":5}", "invalid_argument"},
        {"{\"op\":\"check\"}", "ok"},
        {"{\"op\":\"check\",\"repair\":\"yes\"}", "invalid_argument"},
        {"{\"op\":\"delete_memory\",\"id\":\"" EP1 "\",\"type\":\"episode\"}", "ok"},
        {"{\"op\":\"delete_memory\",\"id\":\"" EP1 "\",\"type\":\"episode\"}", "not_found"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        json_t *response = test_exec(db, lines[i].line);
        if (strcmp(test_response_code(response), lines[i].code) != 0) {
            char *text = json_dumps(response, 0);
            fprintf(stderr, "  line %zu: %s\n", i, text);
            free(text);
            CHECK(false);
        }
        if (i == 9) {
            json_t *top = json_array_get(json_object_get(json_object_get(response, "result"), "memories"), 0);
            CHECK(strcmp(json_string_value(json_object_get(top, "id")), EP1) == 0);
            json_t *neighbour = json_array_get(json_object_get(top, "neighbors"), 0);
            CHECK(strcmp(json_string_value(json_object_get(neighbour, "id")), "1") == 0);
        }
        json_decref(response);
    }
    eg_close(db);
}

int main(void) {
    RUN(create_writes_both_stores_with_the_same_id_session_and_time);
    RUN(a_repeated_create_is_a_no_op_and_other_content_is_a_conflict);
    RUN(entities_carry_relationships_to_existing_nodes_only);
    RUN(update_changes_both_stores_and_null_removes_a_property);
    RUN(delete_removes_point_node_and_relationships);
    RUN(a_create_after_its_collection_or_index_was_deleted_recreates_them);
    RUN(recall_returns_hits_with_their_graph_context);
    RUN(a_failing_store_is_compensated_and_nothing_remains);
    RUN(a_compensation_that_fails_leaves_a_dead_letter_that_freezes_the_id_until_repaired);
    RUN(check_finds_orphans_in_either_store_and_repair_removes_them);
    RUN(bad_input_is_refused_and_changes_nothing);
    RUN(exec_speaks_the_memory_operations);
    return test_summary();
}
