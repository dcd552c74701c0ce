/* test_payload_index_delete.c — dropping a payload index (eg_vectors_delete_payload_index and the exec op
 * delete_payload_index): filters answer the same before and after (they scan instead), the index can be made
 * again, the drop lasts across a reopen, deleting a missing index succeeds as in Qdrant, and bad input is refused
 * with nothing changed. */
#include "test.h"

#include <engram/vectors.h>

#define POINTS 300
#define DIM 4

static eg_error err;

static eg_vectors *open_store(const char *dir) {
    eg_vectors *v = NULL;
    eg_vectors_lmdb_options options = {.no_sync = true};
    CHECK_OK(eg_vectors_open_lmdb(dir, &options, &v, &err), &err);
    return v;
}

/* POINTS points whose payload city cycles through 5 names and year through 7 values. */
static void fill(eg_vectors *v, const char *name) {
    eg_collection_config config = {.dim = DIM, .distance = EG_DISTANCE_DOT};
    CHECK_OK(eg_vectors_create_collection(v, name, &config, &err), &err);
    static const char *const cities[] = {"Oslo", "Rome", "Lima", "Pune", "Kobe"};
    eg_point *points = calloc(POINTS, sizeof *points);
    float *vectors = calloc(POINTS * DIM, sizeof *vectors);
    REQUIRE(points && vectors);
    for (size_t i = 0; i < POINTS; i++) {
        for (size_t d = 0; d < DIM; d++) vectors[i * DIM + d] = (float)((i * 7 + d * 3) % 11) / 11.0f;
        points[i] = (eg_point){.id = eg_point_id_num(i + 1), .vector = &vectors[i * DIM], .dim = DIM,
                               .payload = json_pack("{s:s, s:i}", "city", cities[i % 5], "year", (int)(2000 + i % 7))};
    }
    CHECK_OK(eg_vectors_upsert(v, name, points, POINTS, &err), &err);
    for (size_t i = 0; i < POINTS; i++) json_decref(points[i].payload);
    free(points);
    free(vectors);
}

static uint64_t count_where(eg_vectors *v, const char *name, const char *filter_text) {
    json_t *json = json_loads(filter_text, 0, NULL);
    eg_filter *filter = NULL;
    uint64_t n = UINT64_MAX;
    CHECK_OK(eg_filter_parse(json, &filter, &err), &err);
    CHECK_OK(eg_vectors_count(v, name, filter, &n, &err), &err);
    eg_filter_free(filter);
    json_decref(json);
    return n;
}

/* The ids a filtered search returns, as text, to compare answers with and without the index. */
static char *search_ids(eg_vectors *v, const char *name, const char *filter_text) {
    json_t *json = json_loads(filter_text, 0, NULL);
    eg_filter *filter = NULL;
    CHECK_OK(eg_filter_parse(json, &filter, &err), &err);
    float query[DIM] = {1, 0.5f, 0.25f, 0};
    eg_search_request request = {.vector = query, .dim = DIM, .limit = 20, .filter = filter};
    eg_scored_list list = {0};
    CHECK_OK(eg_vectors_search(v, name, &request, &list, &err), &err);
    json_t *ids = json_array();
    for (size_t i = 0; i < list.count; i++) json_array_append_new(ids, eg_point_id_to_json(&list.items[i].point.id));
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    eg_scored_list_free(&list);
    eg_filter_free(filter);
    json_decref(json);
    return text;
}

static size_t index_count(eg_vectors *v, const char *name) {
    eg_collection_info info;
    CHECK_OK(eg_vectors_get_collection(v, name, &info, &err), &err);
    size_t n = info.index_count;
    eg_collection_info_clear(&info);
    return n;
}

static const char *const CITY_FILTER = "{\"must\":[{\"key\":\"city\",\"match\":{\"value\":\"Rome\"}}]}";
static const char *const YEAR_FILTER = "{\"must\":[{\"key\":\"year\",\"range\":{\"gte\":2003}}]}";

TEST(filters_answer_the_same_after_the_index_is_dropped_and_again_once_it_is_back) {
    eg_vectors *v = open_store(test_scratch_dir());
    REQUIRE(v);
    fill(v, "docs");
    uint64_t rome_scanned = count_where(v, "docs", CITY_FILTER), late_scanned = count_where(v, "docs", YEAR_FILTER);
    char *search_scanned = search_ids(v, "docs", CITY_FILTER);
    CHECK(rome_scanned == POINTS / 5);
    uint64_t late_expected = 0;
    for (size_t i = 0; i < POINTS; i++) late_expected += i % 7 >= 3;
    CHECK(late_scanned == late_expected);

    CHECK_OK(eg_vectors_create_payload_index(v, "docs", "city", EG_PAYLOAD_KEYWORD, &err), &err);
    CHECK_OK(eg_vectors_create_payload_index(v, "docs", "year", EG_PAYLOAD_INTEGER, &err), &err);
    CHECK(index_count(v, "docs") == 2);
    CHECK(count_where(v, "docs", CITY_FILTER) == rome_scanned);

    CHECK_OK(eg_vectors_delete_payload_index(v, "docs", "city", &err), &err);
    CHECK(index_count(v, "docs") == 1);
    CHECK(count_where(v, "docs", CITY_FILTER) == rome_scanned);
    CHECK(count_where(v, "docs", YEAR_FILTER) == late_scanned);
    char *search_dropped = search_ids(v, "docs", CITY_FILTER);
    CHECK(strcmp(search_dropped, search_scanned) == 0);

    /* Made again, the index is backfilled from the points as they are now. */
    CHECK_OK(eg_vectors_create_payload_index(v, "docs", "city", EG_PAYLOAD_KEYWORD, &err), &err);
    CHECK(count_where(v, "docs", CITY_FILTER) == rome_scanned);
    /* And under another type, which an index of the old type would have refused as a conflict. */
    CHECK_OK(eg_vectors_delete_payload_index(v, "docs", "year", &err), &err);
    CHECK_OK(eg_vectors_create_payload_index(v, "docs", "year", EG_PAYLOAD_FLOAT, &err), &err);
    CHECK(count_where(v, "docs", YEAR_FILTER) == late_scanned);
    free(search_scanned);
    free(search_dropped);
    eg_vectors_close(v);
}

TEST(a_dropped_index_stays_dropped_after_reopen) {
    const char *dir = test_scratch_dir();
    eg_vectors *v = open_store(dir);
    REQUIRE(v);
    fill(v, "docs");
    CHECK_OK(eg_vectors_create_payload_index(v, "docs", "city", EG_PAYLOAD_KEYWORD, &err), &err);
    CHECK_OK(eg_vectors_delete_payload_index(v, "docs", "city", &err), &err);
    eg_vectors_close(v);
    v = open_store(dir);
    REQUIRE(v);
    CHECK(index_count(v, "docs") == 0);
    CHECK(count_where(v, "docs", CITY_FILTER) == POINTS / 5);
    eg_vectors_close(v);
}

TEST(deleting_a_missing_index_succeeds_and_changes_nothing) {
    eg_vectors *v = open_store(test_scratch_dir());
    REQUIRE(v);
    fill(v, "docs");
    CHECK_OK(eg_vectors_create_payload_index(v, "docs", "city", EG_PAYLOAD_KEYWORD, &err), &err);
    CHECK_OK(eg_vectors_delete_payload_index(v, "docs", "year", &err), &err);
    CHECK_OK(eg_vectors_delete_payload_index(v, "docs", "city.name", &err), &err);
    CHECK(index_count(v, "docs") == 1);
    CHECK(count_where(v, "docs", CITY_FILTER) == POINTS / 5);
    eg_vectors_close(v);
}

TEST(bad_input_is_refused_and_the_index_stays) {
    eg_vectors *v = open_store(test_scratch_dir());
    REQUIRE(v);
    fill(v, "docs");
    CHECK_OK(eg_vectors_create_payload_index(v, "docs", "city", EG_PAYLOAD_KEYWORD, &err), &err);
    CHECK_STATUS(eg_vectors_delete_payload_index(v, "missing", "city", &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "missing") != NULL);
    CHECK_STATUS(eg_vectors_delete_payload_index(v, "docs", NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_vectors_delete_payload_index(v, "docs", "", &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "field") != NULL);
    CHECK_STATUS(eg_vectors_delete_payload_index(v, "docs", "city..x", &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_vectors_delete_payload_index(v, "a/b", "city", &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_vectors_delete_payload_index(v, NULL, "city", &err), EG_INVALID_ARGUMENT, &err);
    CHECK(index_count(v, "docs") == 1);
    CHECK(count_where(v, "docs", CITY_FILTER) == POINTS / 5);
    eg_vectors_close(v);
}

static void expect_response(eg_db *db, const char *line, const char *code) {
    json_t *response = test_exec(db, line);
    if (strcmp(test_response_code(response), code) != 0) {
        char *text = json_dumps(response, JSON_COMPACT);
        fprintf(stderr, "  %s -> %s, expected %s\n", line, text, code);
        free(text);
        test_failures_in_current++;
    }
    json_decref(response);
}

TEST(the_exec_op_drops_the_index_and_refuses_bad_arguments) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    expect_response(db, "{\"op\":\"create_collection\",\"collection\":\"c\",\"dim\":2}", "ok");
    expect_response(db, "{\"op\":\"create_payload_index\",\"collection\":\"c\",\"field\":\"tag\",\"type\":\"keyword\"}",
                    "ok");
    expect_response(db, "{\"op\":\"delete_payload_index\",\"collection\":\"c\"}", "invalid_argument");
    expect_response(db, "{\"op\":\"delete_payload_index\",\"collection\":\"c\",\"field\":7}", "invalid_argument");
    expect_response(db, "{\"op\":\"delete_payload_index\",\"collection\":\"c\",\"field\":\"tag\",\"type\":\"x\"}",
                    "invalid_argument");
    expect_response(db, "{\"op\":\"delete_payload_index\",\"collection\":\"nope\",\"field\":\"tag\"}", "not_found");
    json_t *info = test_exec(db, "{\"op\":\"get_collection\",\"collection\":\"c\"}");
    CHECK(json_object_size(json_object_get(json_object_get(info, "result"), "payload_indexes")) == 1);
    json_decref(info);
    json_t *dropped = test_exec(db, "{\"op\":\"delete_payload_index\",\"collection\":\"c\",\"field\":\"tag\"}");
    json_t *want = json_pack("{s:s, s:s}", "collection", "c", "field", "tag");
    CHECK(json_equal(json_object_get(dropped, "result"), want));
    json_decref(want);
    json_decref(dropped);
    info = test_exec(db, "{\"op\":\"get_collection\",\"collection\":\"c\"}");
    CHECK(json_object_size(json_object_get(json_object_get(info, "result"), "payload_indexes")) == 0);
    json_decref(info);
    eg_close(db);
}

int main(void) {
    RUN(filters_answer_the_same_after_the_index_is_dropped_and_again_once_it_is_back);
    RUN(a_dropped_index_stays_dropped_after_reopen);
    RUN(deleting_a_missing_index_succeeds_and_changes_nothing);
    RUN(bad_input_is_refused_and_the_index_stays);
    RUN(the_exec_op_drops_the_index_and_refuses_bad_arguments);
    return test_summary();
}
