/* test_limits.c — every documented limit (docs/limits.md), one test each: a value at the limit is accepted, one
 * past it is refused with EG_INVALID_ARGUMENT and a message naming the limit, and the stores hold exactly what
 * they held before (nothing written, nothing truncated). */
#include "test.h"

#include <engram/engram.h>
#include <engram/limits.h>

static eg_error err;

/* Points of collection `name` in the data folder, or 0 when it does not exist. */
static uint64_t points(eg_db *db, const char *name) {
    eg_collection_info info;
    eg_error e;
    if (eg_vectors_get_collection(eg_db_vectors(db), name, &info, &e) != EG_OK) return 0;
    uint64_t n = info.points_count;
    eg_collection_info_clear(&info);
    return n;
}

static uint64_t nodes(eg_db *db) {
    uint64_t n = 0;
    CHECK_OK(eg_graph_count_nodes(eg_db_graph(db), EG_LABEL_ANY, &n, &err), &err);
    return n;
}

/* Checks the last call's error: refused as an invalid argument whose message holds `words`. */
#define CHECK_REFUSED(expr, words)                                                                                   \
    do {                                                                                                             \
        CHECK_STATUS(expr, EG_INVALID_ARGUMENT, &err);                                                               \
        if (!strstr(err.message, words)) {                                                                           \
            fprintf(stderr, "  %s:%d: message '%s' lacks '%s'\n", __FILE__, __LINE__, err.message, words);           \
            test_failures_in_current++;                                                                              \
        }                                                                                                            \
    } while (0)

/* A string of n copies of c (malloc'ed). */
static char *repeat(char c, size_t n) {
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* An object nested `levels` deep: {"a":{"a":...{"a":1}}}, itself level 1. */
static json_t *nested(int levels) {
    json_t *doc = json_integer(1);
    for (int i = 0; i < levels; i++) {
        json_t *outer = json_object();
        json_object_set_new(outer, "a", doc);
        doc = outer;
    }
    return doc;
}

/* A collection "c" of dimension 2 with one point, id 1. */
static void small_collection(eg_db *db) {
    eg_collection_config config = {.dim = 2, .distance = EG_DISTANCE_COSINE, .sparse = true};
    CHECK_OK(eg_vectors_create_collection(eg_db_vectors(db), "c", &config, &err), &err);
    float v[2] = {1, 0};
    eg_point p = {.id = eg_point_id_num(1), .vector = v, .dim = 2};
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "c", &p, 1, &err), &err);
}

static eg_status upsert_payload(eg_db *db, uint64_t id, json_t *payload) {
    float v[2] = {0, 1};
    eg_point p = {.id = eg_point_id_num(id), .vector = v, .dim = 2, .payload = payload};
    eg_status st = eg_vectors_upsert(eg_db_vectors(db), "c", &p, 1, &err);
    json_decref(payload);
    return st;
}

static eg_status create_node(eg_db *db, const char *id, json_t *properties) {
    eg_status st = eg_graph_create_node(eg_db_graph(db), EG_LABEL_ENTITY, id, properties, &err);
    json_decref(properties);
    return st;
}

TEST(exec_request_line) {
    eg_db *db = test_open_fresh();
    size_t length = (size_t)EG_EXEC_LINE_MAX + 1;
    char *line = repeat(' ', length);
    const char *request = "{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"n\"}";
    memcpy(line, request, strlen(request)); /* valid JSON, then spaces up to and past the limit */
    char *response = eg_exec_json(db, line, length);
    CHECK(strstr(response, "invalid_argument") && strstr(response, "limit of 67108864 bytes"));
    free(response);
    response = eg_exec_json(db, line, length - 1); /* at the limit: executed */
    CHECK(strstr(response, "\"ok\":true"));
    free(response);
    free(line);
    CHECK(nodes(db) == 1);
    eg_close(db);
}

TEST(node_id_length) {
    eg_db *db = test_open_fresh();
    char *id = repeat('i', EG_ID_MAX + 1);
    CHECK_REFUSED(create_node(db, id, NULL), "at most 128 characters");
    CHECK(nodes(db) == 0);
    id[EG_ID_MAX] = '\0';
    CHECK_OK(create_node(db, id, NULL), &err);
    free(id);
    eg_close(db);
}

TEST(property_name_length) {
    eg_db *db = test_open_fresh();
    char *name = repeat('p', EG_PROPERTY_NAME_MAX + 1);
    json_t *props = json_object();
    json_object_set_new(props, name, json_true());
    CHECK_REFUSED(create_node(db, "n", props), "max 255");
    CHECK(nodes(db) == 0);
    name[EG_PROPERTY_NAME_MAX] = '\0';
    props = json_object();
    json_object_set_new(props, name, json_true());
    CHECK_OK(create_node(db, "n", props), &err);
    free(name);
    eg_close(db);
}

/* The limits of engram/limits.h hold for node properties and point payloads alike. */
static json_t *with_keys(size_t count) {
    json_t *doc = json_object();
    char key[32];
    for (size_t i = 0; i < count; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        json_object_set_new(doc, key, json_integer((json_int_t)i));
    }
    return doc;
}

TEST(property_and_payload_key_count) {
    eg_db *db = test_open_fresh();
    small_collection(db);
    CHECK_REFUSED(create_node(db, "n", with_keys(EG_PROPERTY_COUNT_MAX + 1)), "has 10001 keys: at most 10000");
    CHECK_REFUSED(upsert_payload(db, 2, with_keys(EG_PROPERTY_COUNT_MAX + 1)), "has 10001 keys: at most 10000");
    CHECK(nodes(db) == 0 && points(db, "c") == 1);
    CHECK_OK(create_node(db, "n", with_keys(EG_PROPERTY_COUNT_MAX)), &err);
    CHECK_OK(upsert_payload(db, 2, with_keys(EG_PROPERTY_COUNT_MAX)), &err);
    eg_close(db);
}

TEST(property_and_payload_nesting_depth) {
    eg_db *db = test_open_fresh();
    small_collection(db);
    /* Far past the limit too: the check must not recurse through what the caller built. */
    int too_deep[] = {EG_JSON_DEPTH_MAX + 1, 10000};
    for (size_t i = 0; i < sizeof too_deep / sizeof too_deep[0]; i++) {
        CHECK_REFUSED(create_node(db, "n", nested(too_deep[i])), "nested more than 64 levels");
        CHECK_REFUSED(upsert_payload(db, 2, nested(too_deep[i])), "nested more than 64 levels");
    }
    CHECK(nodes(db) == 0 && points(db, "c") == 1);
    CHECK_OK(create_node(db, "n", nested(EG_JSON_DEPTH_MAX)), &err);
    CHECK_OK(upsert_payload(db, 2, nested(EG_JSON_DEPTH_MAX)), &err);
    /* Read back whole. */
    eg_point_id id = eg_point_id_num(2);
    eg_point_list got = {0};
    CHECK_OK(eg_vectors_get(eg_db_vectors(db), "c", &id, 1, true, false, &got, &err), &err);
    json_t *expected = nested(EG_JSON_DEPTH_MAX);
    CHECK(got.count == 1 && json_equal(got.items[0].payload, expected));
    json_decref(expected);
    eg_point_list_free(&got);
    eg_close(db);
}

/* {"text": "xxx..."} whose compact JSON text ({"text":"..."}) is `bytes` long. */
static json_t *of_size(size_t bytes) {
    size_t overhead = strlen("{\"text\":\"\"}");
    char *text = repeat('x', bytes - overhead);
    json_t *doc = json_pack("{s:s}", "text", text);
    free(text);
    return doc;
}

TEST(property_and_payload_size) {
    eg_db *db = test_open_fresh();
    small_collection(db);
    CHECK_REFUSED(create_node(db, "n", of_size(EG_JSON_DOCUMENT_MAX + 1)), "too large: 16777217 bytes");
    CHECK_REFUSED(upsert_payload(db, 2, of_size(EG_JSON_DOCUMENT_MAX + 1)), "too large: 16777217 bytes");
    CHECK(nodes(db) == 0 && points(db, "c") == 1);
    CHECK_OK(create_node(db, "n", of_size(EG_JSON_DOCUMENT_MAX)), &err);
    CHECK_OK(upsert_payload(db, 2, of_size(EG_JSON_DOCUMENT_MAX)), &err);
    eg_close(db);
}

TEST(graph_batch_size) {
    eg_db *db = test_open_fresh();
    size_t n = EG_GRAPH_BATCH_MAX + 1;
    eg_node_spec *specs = calloc(n, sizeof *specs);
    char (*ids)[16] = calloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "n%zu", i);
        specs[i] = (eg_node_spec){EG_LABEL_ENTITY, ids[i], NULL};
    }
    CHECK_REFUSED(eg_graph_batch_create_nodes(eg_db_graph(db), specs, n, &err), "1000");
    CHECK(nodes(db) == 0);
    CHECK_OK(eg_graph_batch_create_nodes(eg_db_graph(db), specs, n - 1, &err), &err);
    CHECK(nodes(db) == EG_GRAPH_BATCH_MAX);
    free(specs);
    free(ids);
    eg_close(db);
}

TEST(path_depth) {
    eg_db *db = test_open_fresh();
    CHECK_OK(create_node(db, "a", NULL), &err);
    CHECK_OK(create_node(db, "b", NULL), &err);
    eg_path path = {0};
    CHECK_REFUSED(eg_graph_find_path(eg_db_graph(db), "a", "b", EG_PATH_DEPTH_MAX + 1, EG_REL_TYPES_ALL, &path, &err), "10");
    CHECK_OK(eg_graph_find_path(eg_db_graph(db), "a", "b", EG_PATH_DEPTH_MAX, EG_REL_TYPES_ALL, &path, &err), &err);
    CHECK(path.node_count == 0);
    eg_path_clear(&path);
    eg_close(db);
}

TEST(collection_name_length_and_vector_dimension) {
    eg_db *db = test_open_fresh();
    char *name = repeat('c', EG_COLLECTION_NAME_MAX + 1);
    eg_collection_config config = {.dim = 2, .distance = EG_DISTANCE_DOT};
    CHECK_REFUSED(eg_vectors_create_collection(eg_db_vectors(db), name, &config, &err), "255");
    name[EG_COLLECTION_NAME_MAX] = '\0';
    CHECK_OK(eg_vectors_create_collection(eg_db_vectors(db), name, &config, &err), &err);
    free(name);
    config.dim = EG_VECTOR_DIM_MAX + 1;
    CHECK_REFUSED(eg_vectors_create_collection(eg_db_vectors(db), "wide", &config, &err), "65536");
    eg_string_list names = {0};
    CHECK_OK(eg_vectors_list_collections(eg_db_vectors(db), &names, &err), &err);
    CHECK(names.count == 1);
    eg_string_list_free(&names);
    config.dim = EG_VECTOR_DIM_MAX;
    CHECK_OK(eg_vectors_create_collection(eg_db_vectors(db), "wide", &config, &err), &err);
    float *v = calloc(EG_VECTOR_DIM_MAX, sizeof *v);
    v[EG_VECTOR_DIM_MAX - 1] = 1;
    eg_point p = {.id = eg_point_id_num(1), .vector = v, .dim = EG_VECTOR_DIM_MAX};
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "wide", &p, 1, &err), &err);
    free(v);
    eg_close(db);
}

TEST(vector_batch_size) {
    eg_db *db = test_open_fresh();
    small_collection(db);
    size_t n = EG_VECTOR_BATCH_MAX + 1;
    eg_point *batch = calloc(n, sizeof *batch);
    float v[2] = {1, 1};
    for (size_t i = 0; i < n; i++) batch[i] = (eg_point){.id = eg_point_id_num(10 + i), .vector = v, .dim = 2};
    CHECK_REFUSED(eg_vectors_upsert(eg_db_vectors(db), "c", batch, n, &err), "10000");
    CHECK(points(db, "c") == 1);
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "c", batch, n - 1, &err), &err);
    CHECK(points(db, "c") == 1 + EG_VECTOR_BATCH_MAX);
    free(batch);
    eg_close(db);
}

TEST(sparse_vector_entries) {
    eg_db *db = test_open_fresh();
    small_collection(db);
    size_t n = EG_SPARSE_NNZ_MAX + 1;
    uint32_t *indices = malloc(n * sizeof *indices);
    float *values = malloc(n * sizeof *values);
    for (size_t i = 0; i < n; i++) indices[i] = (uint32_t)i, values[i] = 1;
    float v[2] = {1, 1};
    eg_point p = {.id = eg_point_id_num(2), .vector = v, .dim = 2, .sparse = {indices, values, n}};
    CHECK_REFUSED(eg_vectors_upsert(eg_db_vectors(db), "c", &p, 1, &err), "65536");
    CHECK(points(db, "c") == 1);
    p.sparse.count = n - 1;
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "c", &p, 1, &err), &err);
    free(indices);
    free(values);
    eg_close(db);
}

TEST(search_limit) {
    eg_db *db = test_open_fresh();
    small_collection(db);
    float q[2] = {1, 0};
    eg_scored_list hits = {0};
    eg_search_request request = {.vector = q, .dim = 2, .limit = EG_SEARCH_LIMIT_MAX, .offset = 1};
    CHECK_REFUSED(eg_vectors_search(eg_db_vectors(db), "c", &request, &hits, &err), "10000");
    request.offset = 0;
    CHECK_OK(eg_vectors_search(eg_db_vectors(db), "c", &request, &hits, &err), &err);
    CHECK(hits.count == 1);
    eg_scored_list_free(&hits);
    eg_close(db);
}

/* {"must": [{"must": [ ... {"key": "k", "match": {"value": 1}} ]}]}, `levels` filters deep. */
static json_t *nested_filter(int levels) {
    json_t *f = json_pack("{s:[{s:s,s:{s:i}}]}", "must", "key", "k", "match", "value", 1);
    for (int i = 1; i < levels; i++) f = json_pack("{s:[o]}", "must", f);
    return f;
}

TEST(filter_depth) {
    eg_filter *filter = NULL;
    json_t *f = nested_filter(EG_FILTER_DEPTH_MAX + 1);
    CHECK_REFUSED(eg_filter_parse(f, &filter, &err), "32");
    CHECK(filter == NULL);
    json_decref(f);
    f = nested_filter(EG_FILTER_DEPTH_MAX);
    CHECK_OK(eg_filter_parse(f, &filter, &err), &err);
    eg_filter_free(filter);
    json_decref(f);
}

TEST(memory_relationships_per_create) {
    eg_db *db = test_open_fresh();
    CHECK_OK(create_node(db, "target", NULL), &err);
    size_t n = EG_MEMORY_RELATIONSHIPS_MAX + 1;
    eg_memory_relationship *rels = calloc(n, sizeof *rels);
    for (size_t i = 0; i < n; i++) rels[i] = (eg_memory_relationship){"target", EG_REL_RELATES_TO, NULL};
    float v[2] = {1, 0};
    eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = "7", .vector = v, .dim = 2, .relationships = rels,
                           .relationship_count = n};
    CHECK_REFUSED(eg_memory_create(db, &spec, NULL, &err), "1000");
    CHECK(nodes(db) == 1 && points(db, "entities") == 0);
    free(rels);
    eg_close(db);
}

TEST(memory_documents_with_the_keys_it_adds) {
    eg_db *db = test_open_fresh();
    float v[2] = {1, 0};
    json_t *payload = of_size(EG_JSON_DOCUMENT_MAX); /* at the limit; created_at would carry it past */
    eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = "9", .vector = v, .dim = 2, .payload = payload};
    CHECK_REFUSED(eg_memory_create(db, &spec, NULL, &err), "payload with created_at and session_id is too large");
    CHECK(nodes(db) == 0 && points(db, "entities") == 0);
    json_decref(payload);
    eg_close(db);
}

/* A memory whose pre-image (vector, payload, node, every relationship) is larger than one saga log record holds
 * (EG_WAL_RECORD_MAX, 64 MiB) cannot be deleted or archived through the memory API, since its undo could not be
 * logged: refused with the limit named, and the memory stays whole. */
TEST(memory_whose_pre_image_exceeds_a_log_record) {
    eg_db *db = test_open_fresh();
    float v[2] = {1, 0};
    size_t big = EG_JSON_DOCUMENT_MAX - 1024;
    json_t *payload = of_size(big), *properties = of_size(big);
    eg_memory_spec spec = {.type = EG_MEMORY_ENTITY, .id = "8", .vector = v, .dim = 2, .payload = payload,
                           .properties = properties};
    CHECK_OK(eg_memory_create(db, &spec, NULL, &err), &err);
    const char *sources[] = {"101", "102", "103"}; /* 3 relationships of 16 MiB: 80 MiB with the memory's own */
    for (int i = 0; i < 3; i++) {
        eg_memory_spec source = {.type = EG_MEMORY_ENTITY, .id = sources[i], .vector = v, .dim = 2};
        CHECK_OK(eg_memory_create(db, &source, NULL, &err), &err);
        json_t *rel_properties = of_size(big);
        CHECK_OK(eg_graph_create_relationship(eg_db_graph(db), sources[i], "8", EG_REL_RELATES_TO, rel_properties,
                                              &err),
                 &err);
        json_decref(rel_properties);
    }
    CHECK_REFUSED(eg_memory_delete(db, EG_MEMORY_ENTITY, "8", &err), "limit of 67108864 bytes");
    CHECK_REFUSED(eg_archive_memory(db, EG_MEMORY_ENTITY, "8", &err), "limit of 67108864 bytes");
    CHECK(nodes(db) == 4 && points(db, "entities") == 4);
    json_t *report = NULL;
    CHECK_OK(eg_memory_check(db, false, &report, &err), &err);
    CHECK(report && json_is_true(json_object_get(report, "consistent")));
    json_decref(report);
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_ENTITY, "101", &err), &err); /* 64 MiB left in all: fits */
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_ENTITY, "8", &err), &err);
    CHECK(nodes(db) == 2 && points(db, "entities") == 2);
    json_decref(payload);
    json_decref(properties);
    eg_close(db);
}

int main(void) {
    RUN(exec_request_line);
    RUN(node_id_length);
    RUN(property_name_length);
    RUN(property_and_payload_key_count);
    RUN(property_and_payload_nesting_depth);
    RUN(property_and_payload_size);
    RUN(graph_batch_size);
    RUN(path_depth);
    RUN(collection_name_length_and_vector_dimension);
    RUN(vector_batch_size);
    RUN(sparse_vector_entries);
    RUN(search_limit);
    RUN(filter_depth);
    RUN(memory_relationships_per_create);
    RUN(memory_documents_with_the_keys_it_adds);
    RUN(memory_whose_pre_image_exceeds_a_log_record);
    return test_summary();
}
