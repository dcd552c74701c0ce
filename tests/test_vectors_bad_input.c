/* test_vectors_bad_input.c — every kind of bad input to the vector store operations, through exec JSON lines:
 * each is refused with the exact error code and a message naming the problem, and leaves the store exactly as it
 * was (a canonical snapshot — every collection's configuration, indexes and exact count, and a scroll of all its
 * points with vectors and payloads — is taken before and compared after). */
#include "test.h"

#include <stdarg.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static eg_db *db;
static char last_message[EG_ERROR_MESSAGE_MAX + 1]; /* the message of the last expectation */

/* ---- The seeded store ----------------------------------------------------------------------------------------
 * "dense": dim 3, Cosine, no sparse vectors, a keyword index on "kind"; "hybrid": dim 3, Dot, sparse vectors. */

static const char *const seed_lines[] = {
    "{\"op\":\"create_collection\",\"collection\":\"dense\",\"dim\":3}",
    "{\"op\":\"create_payload_index\",\"collection\":\"dense\",\"field\":\"kind\",\"type\":\"keyword\"}",
    "{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":["
    "{\"id\":1,\"vector\":[1,0,0],\"payload\":{\"kind\":\"note\",\"session_id\":\"s1\",\"n\":1}},"
    "{\"id\":2,\"vector\":[0,1,0],\"payload\":{\"kind\":\"fact\",\"tags\":[\"a\",\"b\"]}},"
    "{\"id\":\"550e8400-e29b-41d4-a716-446655440000\",\"vector\":[0.5,0.5,0.5],\"payload\":{\"kind\":\"note\"}},"
    "{\"id\":3,\"vector\":[0,0,2]}]}",
    "{\"op\":\"create_collection\",\"collection\":\"hybrid\",\"dim\":3,\"distance\":\"Dot\",\"sparse\":true}",
    "{\"op\":\"upsert\",\"collection\":\"hybrid\",\"points\":["
    "{\"id\":10,\"vector\":[1,2,3],\"sparse_vector\":{\"indices\":[5,1],\"values\":[0.5,2]},\"payload\":{\"a\":1}},"
    "{\"id\":11,\"vector\":[-1,0,1],\"payload\":{\"a\":2}},"
    "{\"id\":12,\"vector\":[0,0,1],\"sparse_vector\":{\"indices\":[7],\"values\":[1]}}]}",
};

/* The whole store as canonical JSON text (malloc'ed): read through the C API, not through what is tested. */
static char *snapshot(void) {
    eg_vectors *v = eg_db_vectors(db);
    eg_error err;
    eg_string_list names;
    if (eg_vectors_list_collections(v, &names, &err) != EG_OK) {
        fprintf(stderr, "snapshot: %s\n", err.message);
        exit(2);
    }
    json_t *all = json_object();
    for (size_t c = 0; c < names.count; c++) {
        eg_collection_info info;
        uint64_t count;
        if (eg_vectors_get_collection(v, names.items[c], &info, &err) != EG_OK ||
            eg_vectors_count(v, names.items[c], NULL, &count, &err) != EG_OK) {
            fprintf(stderr, "snapshot: %s\n", err.message);
            exit(2);
        }
        json_t *indexes = json_object(), *points = json_array();
        for (size_t i = 0; i < info.index_count; i++)
            json_object_set_new(indexes, info.indexes[i].field, json_string(eg_payload_type_name(info.indexes[i].type)));
        eg_point_id next;
        bool has_next = true;
        eg_scroll_request request = {.limit = 2, .with_payload = true, .with_vectors = true}; /* small pages */
        while (has_next) {
            eg_point_list page;
            if (eg_vectors_scroll(v, names.items[c], &request, &page, &next, &has_next, &err) != EG_OK) {
                fprintf(stderr, "snapshot: %s\n", err.message);
                exit(2);
            }
            for (size_t i = 0; i < page.count; i++) {
                eg_point *p = &page.items[i];
                char id[EG_POINT_ID_TEXT];
                eg_point_id_format(&p->id, id);
                json_t *vector = json_array(), *indices = json_array(), *values = json_array();
                for (size_t d = 0; d < p->dim; d++) json_array_append_new(vector, json_real(p->vector[d]));
                for (size_t s = 0; s < p->sparse.count; s++) {
                    json_array_append_new(indices, json_integer(p->sparse.indices[s]));
                    json_array_append_new(values, json_real(p->sparse.values[s]));
                }
                json_array_append_new(points, json_pack("{s:s, s:o, s:o, s:o, s:O}", "id", id, "vector", vector,
                                                        "indices", indices, "values", values, "payload",
                                                        p->payload ? p->payload : json_null()));
            }
            eg_point_list_free(&page);
            request.offset = &next;
        }
        json_object_set_new(all, names.items[c],
                            json_pack("{s:I, s:s, s:b, s:I, s:I, s:o, s:o}", "dim", (json_int_t)info.config.dim,
                                      "distance", eg_distance_name(info.config.distance), "sparse", info.config.sparse,
                                      "points_count", (json_int_t)info.points_count, "count", (json_int_t)count,
                                      "indexes", indexes, "points", points));
        eg_collection_info_clear(&info);
    }
    eg_string_list_free(&names);
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    return text;
}

static void seed(void) {
    db = test_open_fresh();
    for (size_t i = 0; i < COUNT_OF(seed_lines); i++) {
        json_t *r = test_exec(db, seed_lines[i]);
        if (!json_is_true(json_object_get(r, "ok"))) {
            char *text = json_dumps(r, JSON_COMPACT);
            fprintf(stderr, "seed: %s -> %s\n", seed_lines[i], text);
            exit(2);
        }
        json_decref(r);
    }
}

/* Every test runs on its own freshly seeded store. */
#define RUN_SEEDED(name)                                                                                             \
    do {                                                                                                             \
        seed();                                                                                                      \
        RUN(name);                                                                                                   \
        eg_close(db);                                                                                                \
    } while (0)

/* ---- Expectations ------------------------------------------------------------------------------------------- */

static void failed(int line, const char *what, const char *problem) {
    fprintf(stderr, "  %s:%d: %.200s%s\n    %s\n", __FILE__, line, what, strlen(what) > 200 ? "..." : "", problem);
    test_failures_in_current++;
}

/* An exec request line answers `code` ("ok" or an eg_status_name) with a message containing `word` (NULL: any)
 * and leaves the store exactly as it was. */
static void expect_exec_at(int line, const char *request, const char *code, const char *word) {
    char *before = snapshot();
    json_t *r = test_exec(db, request);
    const char *got = test_response_code(r);
    const char *message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    char problem[EG_ERROR_MESSAGE_MAX + 256];
    snprintf(last_message, sizeof last_message, "%s", message ? message : "");
    if (!got || strcmp(got, code) != 0) {
        snprintf(problem, sizeof problem, "-> %s (%s), expected %s", got ? got : "?", last_message, code);
        failed(line, request, problem);
    } else if (word && !strstr(last_message, word)) {
        snprintf(problem, sizeof problem, "-> message \"%s\" does not mention \"%s\"", last_message, word);
        failed(line, request, problem);
    }
    char *after = snapshot();
    if (strcmp(before, after) != 0) failed(line, request, "-> changed the store");
    free(before);
    free(after);
    json_decref(r);
}
#define EXPECT_EXEC(request, code, word) expect_exec_at(__LINE__, request, code, word)

/* The same with the request built as JSON (stolen), for large batches. */
static void expect_exec_json_at(int line, json_t *request, const char *code, const char *word) {
    char *text = json_dumps(request, JSON_COMPACT);
    expect_exec_at(line, text, code, word);
    free(text);
    json_decref(request);
}
#define EXPECT_EXEC_JSON(request, code, word) expect_exec_json_at(__LINE__, request, code, word)

/* Does the message of the last expectation mention `word`? */
static bool mentions(const char *word) { return strstr(last_message, word) != NULL; }

/* A request line from a printf template. */
static const char *line_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *line_of(const char *fmt, ...) {
    static char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return line;
}

static uint64_t count_of(const char *collection) {
    uint64_t n = 0;
    eg_error err;
    CHECK_OK(eg_vectors_count(eg_db_vectors(db), collection, NULL, &n, &err), &err);
    return n;
}

/* ---- Vectors ------------------------------------------------------------------------------------------------ */

TEST(wrong_dimension) {
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,2]}]}",
                "invalid_argument", "points[0]: vector has 2 values; collection 'dense' has dim 3");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,2,3]},"
                "{\"id\":8,\"vector\":[1,2,3,4]}]}",
                "invalid_argument", "points[1]: vector has 4 values; collection 'dense' has dim 3");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[]}]}", "invalid_argument",
                "points[0].vector has 0 values: 1 to 65536 allowed");
    EXPECT_EXEC("{\"op\":\"batch_update_vectors\",\"collection\":\"dense\",\"points\":[{\"id\":1,\"vector\":[1,2]}]}",
                "invalid_argument", "points[0]: vector has 2 values; collection 'dense' has dim 3");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,2]}", "invalid_argument",
                "query vector has 2 values; the collection has dim 3");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[]}", "invalid_argument", "vector has 0 values");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,2,3,4],\"sparse_vector\":"
                "{\"indices\":[1],\"values\":[1]}}",
                "invalid_argument", "query vector has 4 values; the collection has dim 3");
    /* longer than any collection may be */
    json_t *huge = json_array();
    for (int i = 0; i < EG_VECTOR_DIM_MAX + 1; i++) json_array_append_new(huge, json_integer(1));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:[{s:i, s:O}]}", "op", "upsert", "collection", "dense", "points", "id", 9,
                               "vector", huge),
                     "invalid_argument", "vector has 65537 values: 1 to 65536 allowed");
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:o}", "op", "search", "collection", "dense", "vector", huge),
                     "invalid_argument", "vector has 65537 values: 1 to 65536 allowed");
}

/* JSON has no NaN or infinity (jansson refuses them and reals that overflow a double), but a double such as 1e39
 * is beyond the float range and would be stored as infinity. */
TEST(values_not_finite_as_floats) {
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,1e39,0]}]}",
                "invalid_argument", "points[0]: vector[1] = 1e+39 is not finite as a 32-bit float");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,0,-3.5e38]}]}",
                "invalid_argument", "points[0]: vector[2] = -3.5e+38 is not finite as a 32-bit float");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"hybrid\",\"points\":[{\"id\":9,\"vector\":[1,2,3],"
                "\"sparse_vector\":{\"indices\":[1,2],\"values\":[1,1e300]}}]}",
                "invalid_argument", "points[0]: sparse_vector.values[1] = 1e+300 is not finite as a 32-bit float");
    EXPECT_EXEC("{\"op\":\"batch_update_vectors\",\"collection\":\"dense\",\"points\":[{\"id\":1,\"vector\":[1e39,0,0]}]}",
                "invalid_argument", "points[0]: vector[0] = 1e+39");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[0,0,1e39]}", "invalid_argument",
                "vector[2] = 1e+39 is not finite as a 32-bit float");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[0,1e39,0],\"sparse_vector\":"
                "{\"indices\":[1],\"values\":[1]}}",
                "invalid_argument", "dense_vector[1] = 1e+39");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[0,1,0],\"sparse_vector\":"
                "{\"indices\":[1],\"values\":[-1e39]}}",
                "invalid_argument", "sparse_vector.values[0] = -1e+39");
    /* the largest float is accepted (checked with search, which writes nothing) */
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[3.4028234e38,0,0],\"limit\":1}", "ok", NULL);
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[NaN,0,0]}]}",
                "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[Infinity,0,0]}]}",
                "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1e400,0,0]}]}",
                "invalid_argument", "malformed JSON");
}

TEST(vector_elements_that_are_not_numbers) {
    static const char *const bad[] = {"\"1\"", "null", "true", "[1]", "{}"};
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        EXPECT_EXEC(line_of("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[0,%s,0]}]}",
                            bad[i]),
                    "invalid_argument", "points[0]: vector[1] must be a number");
        EXPECT_EXEC(line_of("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[%s,0,0]}", bad[i]),
                    "invalid_argument", "vector[0] must be a number");
        EXPECT_EXEC(line_of("{\"op\":\"upsert\",\"collection\":\"hybrid\",\"points\":[{\"id\":9,\"vector\":[0,0,0],"
                            "\"sparse_vector\":{\"indices\":[1],\"values\":[%s]}}]}",
                            bad[i]),
                    "invalid_argument", "points[0]: sparse_vector.values[0] must be a number");
    }
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":{\"0\":1}}]}",
                "invalid_argument", "points[0]: argument 'vector' must be an array");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9}]}", "invalid_argument",
                "points[0]: argument 'vector' is required");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":\"1,0,0\"}", "invalid_argument",
                "argument 'vector' must be an array");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\"}", "invalid_argument", "argument 'vector' is required");
}

/* ---- Sparse vectors ------------------------------------------------------------------------------------------ */

TEST(bad_sparse_vectors) {
    static const struct {
        const char *sparse, *word;
    } cases[] = {
        {"{\"indices\":[1,2],\"values\":[1]}", "sparse_vector: indices has 2 entries and values 1: they must pair up"},
        {"{\"indices\":[],\"values\":[1]}", "indices has 0 entries and values 1"},
        {"{\"indices\":[1]}", "sparse_vector: argument 'values' is required"},
        {"{\"values\":[1]}", "sparse_vector: argument 'indices' is required"},
        {"{\"indices\":1,\"values\":[1]}", "sparse_vector: argument 'indices' must be an array"},
        {"{\"indices\":[1],\"values\":[1],\"weights\":[1]}", "sparse_vector: unknown field 'weights'"},
        {"{\"indices\":[-1],\"values\":[1]}", "sparse_vector.indices[0] must be an integer from 0 to 4294967295"},
        {"{\"indices\":[0,4294967296],\"values\":[1,1]}", "sparse_vector.indices[1] must be an integer from 0"},
        {"{\"indices\":[1.5],\"values\":[1]}", "sparse_vector.indices[0] must be an integer"},
        {"{\"indices\":[\"1\"],\"values\":[1]}", "sparse_vector.indices[0] must be an integer"},
        {"{\"indices\":[3,1,3],\"values\":[1,2,3]}", "sparse_vector.indices holds 3 twice"},
        {"[1,2]", "argument 'sparse_vector' must be a JSON object"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        EXPECT_EXEC(line_of("{\"op\":\"upsert\",\"collection\":\"hybrid\",\"points\":[{\"id\":10,\"vector\":[0,0,0]},"
                            "{\"id\":20,\"vector\":[1,1,1],\"sparse_vector\":%s}]}",
                            cases[i].sparse),
                    "invalid_argument", cases[i].word);
        CHECK(mentions("points[1]"));
        EXPECT_EXEC(line_of("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,0,0],"
                            "\"sparse_vector\":%s}",
                            cases[i].sparse),
                    "invalid_argument", cases[i].word);
    }
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,0,0],\"sparse_vector\":"
                "{\"indices\":[2,2],\"values\":[1,1]}}",
                "invalid_argument", "sparse query: sparse_vector.indices holds 2 twice");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,0,0],\"sparse_vector\":"
                "{\"indices\":[],\"values\":[]}}",
                "invalid_argument", "search_hybrid needs a non-empty sparse query");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,0,0]}", "invalid_argument",
                "argument 'sparse_vector' is required");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"sparse_vector\":{\"indices\":[1],\"values\":[1]}}",
                "invalid_argument", "argument 'dense_vector' is required");
    EXPECT_EXEC("{\"op\":\"search_sparse\",\"collection\":\"hybrid\",\"sparse_vector\":{\"indices\":[2,2],\"values\":[1,1]}}",
                "invalid_argument", "sparse query: sparse_vector.indices holds 2 twice");
    EXPECT_EXEC("{\"op\":\"search_sparse\",\"collection\":\"hybrid\"}", "invalid_argument",
                "argument 'sparse_vector' is required");
    EXPECT_EXEC("{\"op\":\"search_sparse\",\"collection\":\"hybrid\",\"sparse_vector\":{\"indices\":[1],\"values\":[1]},"
                "\"limit\":0}",
                "invalid_argument", "limit");
    EXPECT_EXEC("{\"op\":\"search_sparse\",\"collection\":\"hybrid\",\"sparse_vector\":{\"indices\":[1],\"values\":[1]},"
                "\"limit\":10000,\"offset\":1}",
                "invalid_argument", "limit + offset must be at most 10000");
    EXPECT_EXEC("{\"op\":\"search_sparse\",\"collection\":\"hybrid\",\"sparse_vector\":{\"indices\":[1],\"values\":[1e39]}}",
                "invalid_argument", "sparse_vector.values[0]");
}

TEST(sparse_vectors_need_a_sparse_collection) {
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,0,0],"
                "\"sparse_vector\":{\"indices\":[1],\"values\":[1]}}]}",
                "invalid_argument", "points[0]: collection 'dense' was created without sparse vectors");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"dense\",\"dense_vector\":[1,0,0],\"sparse_vector\":"
                "{\"indices\":[1],\"values\":[1]}}",
                "invalid_argument", "search_hybrid needs a collection created with sparse vectors");
    EXPECT_EXEC("{\"op\":\"search_sparse\",\"collection\":\"dense\",\"sparse_vector\":{\"indices\":[1],\"values\":[1]}}",
                "invalid_argument", "search_sparse needs a collection created with sparse vectors");
    /* batch_update_vectors takes no sparse vectors at all */
    EXPECT_EXEC("{\"op\":\"batch_update_vectors\",\"collection\":\"hybrid\",\"points\":[{\"id\":10,\"vector\":[1,0,0],"
                "\"sparse_vector\":{\"indices\":[1],\"values\":[1]}}]}",
                "invalid_argument", "points[0]: unknown field 'sparse_vector'");
}

/* ---- Point ids ---------------------------------------------------------------------------------------------- */

TEST(invalid_ids_everywhere_an_id_is_taken) {
    static const struct {
        const char *id, *word;
    } cases[] = {
        {"\"abc\"", "invalid point id 'abc': a string id must be a UUID"},
        {"-1", "invalid point id -1: a numeric id must not be negative"},
        {"1.5", "invalid point id 1.5: a numeric id must be an integer"},
        {"true", "invalid point id: expected a non-negative integer or a UUID string, got a boolean"},
        {"null", "got null"},
        {"[1]", "got an array"},
        {"{}", "got an object"},
        {"\"\"", "invalid point id ''"},
        {"\"12\"", "invalid point id '12'"},
        {"\"550e8400-e29b-41d4-a716-44665544000g\"", "a string id must be a UUID"},
        {"\"550e8400e29b-41d4-a716-446655440000\"", "a string id must be a UUID"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        const char *id = cases[i].id, *word = cases[i].word;
        EXPECT_EXEC(line_of("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,0,0]},"
                            "{\"id\":%s,\"vector\":[1,0,0]}]}",
                            id),
                    "invalid_argument", word);
        CHECK(mentions("points[1]: "));
        EXPECT_EXEC(line_of("{\"op\":\"get\",\"collection\":\"dense\",\"ids\":[1,%s]}", id), "invalid_argument", word);
        CHECK(mentions("ids[1]: "));
        EXPECT_EXEC(line_of("{\"op\":\"delete\",\"collection\":\"dense\",\"ids\":[1,%s]}", id), "invalid_argument",
                    word);
        CHECK(mentions("ids[1]: "));
        EXPECT_EXEC(line_of("{\"op\":\"update_payload\",\"collection\":\"dense\",\"ids\":[%s],\"payload\":{\"x\":1}}",
                            id),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"overwrite_payload\",\"collection\":\"dense\",\"ids\":[%s],\"payload\":{}}", id),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"delete_payload_keys\",\"collection\":\"dense\",\"ids\":[%s],\"keys\":[\"n\"]}",
                            id),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"batch_update_vectors\",\"collection\":\"dense\",\"points\":[{\"id\":%s,"
                            "\"vector\":[1,0,0]}]}",
                            id),
                    "invalid_argument", word);
        CHECK(mentions("points[0]: "));
        if (strcmp(id, "null") != 0) { /* a null offset is no offset */
            EXPECT_EXEC(line_of("{\"op\":\"scroll\",\"collection\":\"dense\",\"offset\":%s}", id), "invalid_argument",
                        word);
            CHECK(mentions("offset: "));
        }
        EXPECT_EXEC(line_of("{\"op\":\"count\",\"collection\":\"dense\",\"filter\":{\"must\":[{\"has_id\":[%s]}]}}",
                            id),
                    "invalid_argument", "invalid point id");
    }
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"vector\":[1,0,0]}]}", "invalid_argument",
                "points[0]: argument 'id' is required");
    EXPECT_EXEC("{\"op\":\"get\",\"collection\":\"dense\",\"ids\":1}", "invalid_argument",
                "argument 'ids' must be an array");
    EXPECT_EXEC("{\"op\":\"get\",\"collection\":\"dense\"}", "invalid_argument", "argument 'ids' is required");
    EXPECT_EXEC("{\"op\":\"get\",\"collection\":\"dense\",\"ids\":[1e3]}", "invalid_argument",
                "a numeric id must be an integer, not a real number");
    CHECK(mentions("ids[0]: invalid point id 1000"));
    EXPECT_EXEC("{\"op\":\"get\",\"collection\":\"dense\",\"ids\":[18446744073709551615]}", "invalid_argument",
                "malformed JSON");
}

TEST(duplicate_ids_within_one_batch) {
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,0,0]},"
                "{\"id\":8,\"vector\":[1,0,0]},{\"id\":9,\"vector\":[0,1,0]}]}",
                "invalid_argument", "point id 9 appears more than once in the batch");
    /* two spellings of one UUID are one id */
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":["
                "{\"id\":\"6BA7B810-9DAD-11D1-80B4-00C04FD430C8\",\"vector\":[1,0,0]},"
                "{\"id\":\"6ba7b8109dad11d180b400c04fd430c8\",\"vector\":[0,1,0]}]}",
                "invalid_argument", "point id 6ba7b810-9dad-11d1-80b4-00c04fd430c8 appears more than once");
    EXPECT_EXEC("{\"op\":\"batch_update_vectors\",\"collection\":\"dense\",\"points\":[{\"id\":1,\"vector\":[1,0,0]},"
                "{\"id\":1,\"vector\":[0,1,0]}]}",
                "invalid_argument", "point id 1 appears more than once in the batch");
}

/* ---- Collections -------------------------------------------------------------------------------------------- */

TEST(unknown_collection) {
    static const char *const requests[] = {
        "{\"op\":\"get_collection\",\"collection\":\"nope\"}",
        "{\"op\":\"delete_collection\",\"collection\":\"nope\"}",
        "{\"op\":\"create_payload_index\",\"collection\":\"nope\",\"field\":\"kind\",\"type\":\"keyword\"}",
        "{\"op\":\"upsert\",\"collection\":\"nope\",\"points\":[{\"id\":1,\"vector\":[1,0,0]}]}",
        "{\"op\":\"add\",\"collection\":\"nope\",\"points\":[{\"id\":1,\"vector\":[1,0,0]}]}",
        "{\"op\":\"get\",\"collection\":\"nope\",\"ids\":[1]}",
        "{\"op\":\"update_payload\",\"collection\":\"nope\",\"ids\":[1],\"payload\":{\"x\":1}}",
        "{\"op\":\"overwrite_payload\",\"collection\":\"nope\",\"ids\":[1],\"payload\":{\"x\":1}}",
        "{\"op\":\"delete_payload_keys\",\"collection\":\"nope\",\"ids\":[1],\"keys\":[\"x\"]}",
        "{\"op\":\"batch_update_vectors\",\"collection\":\"nope\",\"points\":[{\"id\":1,\"vector\":[1,0,0]}]}",
        "{\"op\":\"delete\",\"collection\":\"nope\",\"ids\":[1]}",
        "{\"op\":\"delete\",\"collection\":\"nope\",\"filter\":{}}",
        "{\"op\":\"count\",\"collection\":\"nope\"}",
        "{\"op\":\"scroll\",\"collection\":\"nope\"}",
        "{\"op\":\"search\",\"collection\":\"nope\",\"vector\":[1,0,0]}",
        "{\"op\":\"search_hybrid\",\"collection\":\"nope\",\"dense_vector\":[1,0,0],\"sparse_vector\":{\"indices\":[1],\"values\":[1]}}",
    };
    for (size_t i = 0; i < COUNT_OF(requests); i++)
        EXPECT_EXEC(requests[i], "not_found", "collection 'nope' does not exist");
}

TEST(bad_collection_names_and_configurations) {
    static char long_name[EG_COLLECTION_NAME_MAX + 2];
    memset(long_name, 'c', EG_COLLECTION_NAME_MAX + 1);
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":0}", "invalid_argument",
                "argument 'dim' must be from 1 to 65536, got 0");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":65537}", "invalid_argument",
                "argument 'dim' must be from 1 to 65536, got 65537");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":-3}", "invalid_argument",
                "argument 'dim' must be from 1 to 65536, got -3");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":4294967299}", "invalid_argument",
                "argument 'dim' must be from 1 to 65536");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":3.0}", "invalid_argument",
                "argument 'dim' must be an integer");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\"}", "invalid_argument", "argument 'dim' is required");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":3,\"distance\":\"cosine\"}",
                "invalid_argument", "invalid distance 'cosine': must be one of Cosine, Dot, Euclid, Manhattan");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":3,\"distance\":1}", "invalid_argument",
                "argument 'distance' must be a string");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"x\",\"dim\":3,\"sparse\":\"true\"}", "invalid_argument",
                "argument 'sparse' must be true or false");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"\",\"dim\":3}", "invalid_argument",
                "collection name is empty");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"a/b\",\"dim\":3}", "invalid_argument",
                "collection name 'a/b' contains '/'");
    EXPECT_EXEC(line_of("{\"op\":\"create_collection\",\"collection\":\"%s\",\"dim\":3}", long_name), "invalid_argument",
                "collection name is too long: 256 bytes (max 255)");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":7,\"dim\":3}", "invalid_argument",
                "argument 'collection' must be a string");
    EXPECT_EXEC("{\"op\":\"count\"}", "invalid_argument", "argument 'collection' is required");
    /* an existing collection: the same configuration is a retry, any other a conflict */
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"dense\",\"dim\":3}", "ok", NULL);
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"dense\",\"dim\":3,\"distance\":\"Cosine\","
                "\"sparse\":false}",
                "ok", NULL);
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"dense\",\"dim\":4}", "conflict",
                "collection 'dense' exists with another configuration");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"dense\",\"dim\":3,\"distance\":\"Dot\"}", "conflict",
                "collection 'dense' exists with another configuration");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"dense\",\"dim\":3,\"sparse\":true}", "conflict",
                "collection 'dense' exists with another configuration");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"hybrid\",\"dim\":3,\"distance\":\"Dot\"}", "conflict",
                "collection 'hybrid' exists with another configuration");
}

TEST(bad_payload_indexes) {
    EXPECT_EXEC("{\"op\":\"create_payload_index\",\"collection\":\"dense\",\"field\":\"kind\",\"type\":\"integer\"}",
                "conflict", "field 'kind' is already indexed as keyword");
    EXPECT_EXEC("{\"op\":\"create_payload_index\",\"collection\":\"dense\",\"field\":\"kind\",\"type\":\"keyword\"}",
                "ok", NULL);
    EXPECT_EXEC("{\"op\":\"create_payload_index\",\"collection\":\"dense\",\"field\":\"n\",\"type\":\"text\"}",
                "invalid_argument", "invalid payload index type 'text': must be one of keyword, integer, float, bool");
    EXPECT_EXEC("{\"op\":\"create_payload_index\",\"collection\":\"dense\",\"field\":\"\",\"type\":\"integer\"}",
                "invalid_argument", "field must be a key path");
    EXPECT_EXEC("{\"op\":\"create_payload_index\",\"collection\":\"dense\",\"field\":\"a..b\",\"type\":\"integer\"}",
                "invalid_argument", "invalid key path 'a..b'");
    EXPECT_EXEC("{\"op\":\"create_payload_index\",\"collection\":\"dense\",\"type\":\"integer\"}", "invalid_argument",
                "argument 'field' is required");
}

/* ---- Filters ------------------------------------------------------------------------------------------------ */

TEST(unknown_filter_shapes) {
    static const struct {
        const char *filter, *word;
    } cases[] = {
        {"{\"must\":[{\"key\":\"a\",\"matchx\":{}}]}", "filter.must[0]: unknown condition key 'matchx'"},
        {"{\"shoulld\":[]}", "filter: unknown key 'shoulld': expected must, should, must_not or min_should"},
        {"[]", "filter: must be an object, got an array"},
        {"\"kind = note\"", "filter: must be an object, got a string"},
        {"{\"must\":[{\"key\":\"kind\",\"match\":{\"text\":\"no\"}}]}", "filter.must[0]"},
        {"{\"must\":[{\"key\":\"n\",\"range\":{\"gt\":\"1\"}}]}", "filter.must[0]"},
        {"{\"must\":[{\"key\":\"n\",\"range\":{}}]}", "filter.must[0]"},
        {"{\"min_should\":{\"conditions\":[],\"min_count\":0}}", "min_count: must be an integer of at least 1"},
        {"{\"must_not\":[{\"key\":\"a..b\",\"match\":{\"value\":1}}]}", "invalid key path 'a..b'"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        const char *f = cases[i].filter, *word = cases[i].word;
        EXPECT_EXEC(line_of("{\"op\":\"count\",\"collection\":\"dense\",\"filter\":%s}", f), "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"scroll\",\"collection\":\"dense\",\"filter\":%s}", f), "invalid_argument",
                    word);
        EXPECT_EXEC(line_of("{\"op\":\"delete\",\"collection\":\"dense\",\"filter\":%s}", f), "invalid_argument",
                    word);
        EXPECT_EXEC(line_of("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"filter\":%s}", f),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"session_id\":\"s1\","
                            "\"filter\":%s}",
                            f),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,0,0],"
                            "\"sparse_vector\":{\"indices\":[1],\"values\":[1]},\"filter\":%s}",
                            f),
                    "invalid_argument", word);
    }
}

/* ---- Payloads ---------------------------------------------------------------------------------------------- */

TEST(payloads_that_are_not_objects) {
    static const char *const bad[] = {"[1]", "\"note\"", "5", "true"};
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        EXPECT_EXEC(line_of("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,0,0]},"
                            "{\"id\":8,\"vector\":[1,0,0],\"payload\":%s}]}",
                            bad[i]),
                    "invalid_argument", "points[1]: argument 'payload' must be a JSON object");
        EXPECT_EXEC(line_of("{\"op\":\"update_payload\",\"collection\":\"dense\",\"ids\":[1],\"payload\":%s}", bad[i]),
                    "invalid_argument", "argument 'payload' must be a JSON object");
        EXPECT_EXEC(line_of("{\"op\":\"overwrite_payload\",\"collection\":\"dense\",\"ids\":[1],\"payload\":%s}",
                            bad[i]),
                    "invalid_argument", "argument 'payload' must be a JSON object");
    }
    EXPECT_EXEC("{\"op\":\"update_payload\",\"collection\":\"dense\",\"ids\":[1]}", "invalid_argument",
                "argument 'payload' is required");
    EXPECT_EXEC("{\"op\":\"overwrite_payload\",\"collection\":\"dense\",\"ids\":[1],\"payload\":null}",
                "invalid_argument", "argument 'payload' is required");
    EXPECT_EXEC("{\"op\":\"delete_payload_keys\",\"collection\":\"dense\",\"ids\":[1],\"keys\":[\"n\",2]}",
                "invalid_argument", "keys[1] must be a string");
    EXPECT_EXEC("{\"op\":\"delete_payload_keys\",\"collection\":\"dense\",\"ids\":[1],\"keys\":[\"n\",\"\"]}",
                "invalid_argument", "keys[1] is empty");
    EXPECT_EXEC("{\"op\":\"delete_payload_keys\",\"collection\":\"dense\",\"ids\":[1],\"keys\":\"n\"}",
                "invalid_argument", "argument 'keys' must be an array");
}

/* Payload and vector updates are all or nothing: one missing id names it and changes none of the others. */
TEST(updates_of_missing_points) {
    EXPECT_EXEC("{\"op\":\"update_payload\",\"collection\":\"dense\",\"ids\":[1,999],\"payload\":{\"x\":1}}",
                "not_found", "point 999 does not exist in collection 'dense'");
    EXPECT_EXEC("{\"op\":\"overwrite_payload\",\"collection\":\"dense\",\"ids\":[1,\"00000000-0000-0000-0000-00000000000a\"],"
                "\"payload\":{}}",
                "not_found", "point 00000000-0000-0000-0000-00000000000a does not exist");
    EXPECT_EXEC("{\"op\":\"delete_payload_keys\",\"collection\":\"dense\",\"ids\":[1,998],\"keys\":[\"n\"]}",
                "not_found", "point 998 does not exist");
    EXPECT_EXEC("{\"op\":\"batch_update_vectors\",\"collection\":\"dense\",\"points\":[{\"id\":1,\"vector\":[0,1,0]},"
                "{\"id\":997,\"vector\":[0,1,0]}]}",
                "not_found", "points[1]: point 997 does not exist");
}

/* ---- Batches and limits ------------------------------------------------------------------------------------- */

static json_t *point_batch(size_t count) {
    json_t *points = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(points, json_pack("{s:I, s:[i,i,i], s:{s:I}}", "id", (json_int_t)(1000 + i), "vector", 1,
                                                0, 0, "payload", "i", (json_int_t)i));
    return points;
}

static json_t *id_batch(size_t count) {
    json_t *ids = json_array();
    for (size_t i = 0; i < count; i++) json_array_append_new(ids, json_integer((json_int_t)i));
    return ids;
}

TEST(batches_over_the_maximum) {
    const char *word = "batch of 10001 exceeds the maximum of 10000";
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:o}", "op", "upsert", "collection", "dense", "points",
                               point_batch(EG_VECTOR_BATCH_MAX + 1)),
                     "invalid_argument", word);
    CHECK(mentions("points: "));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:o}", "op", "batch_update_vectors", "collection", "dense", "points",
                               point_batch(EG_VECTOR_BATCH_MAX + 1)),
                     "invalid_argument", word);
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:o}", "op", "get", "collection", "dense", "ids",
                               id_batch(EG_VECTOR_BATCH_MAX + 1)),
                     "invalid_argument", word);
    CHECK(mentions("ids: "));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:o}", "op", "delete", "collection", "dense", "ids",
                               id_batch(EG_VECTOR_BATCH_MAX + 1)),
                     "invalid_argument", word);
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:o, s:{}}", "op", "update_payload", "collection", "dense", "ids",
                               id_batch(EG_VECTOR_BATCH_MAX + 1), "payload"),
                     "invalid_argument", word);
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:o, s:{}}", "op", "overwrite_payload", "collection", "dense", "ids",
                               id_batch(EG_VECTOR_BATCH_MAX + 1), "payload"),
                     "invalid_argument", word);
    json_t *keys = json_array();
    for (int i = 0; i < EG_VECTOR_BATCH_MAX + 1; i++) json_array_append_new(keys, json_string("k"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:[i], s:o}", "op", "delete_payload_keys", "collection", "dense", "ids", 1,
                               "keys", keys),
                     "invalid_argument", word);
    CHECK(mentions("keys: "));
}

TEST(a_full_batch_with_one_bad_point_writes_nothing) {
    json_t *points = point_batch(EG_VECTOR_BATCH_MAX);
    json_object_set_new(json_array_get(points, 5000), "vector", json_pack("[i,i]", 1, 0));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:O}", "op", "upsert", "collection", "dense", "points", points),
                     "invalid_argument", "points[5000]: vector has 2 values");
    json_object_set_new(json_array_get(points, 5000), "vector", json_pack("[i,s,i]", 1, "x", 0));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:O}", "op", "upsert", "collection", "dense", "points", points),
                     "invalid_argument", "points[5000]: vector[1] must be a number");
    json_object_set_new(json_array_get(points, 5000), "vector", json_pack("[i,i,i]", 1, 0, 0));
    json_object_set_new(json_array_get(points, 9999), "id", json_integer(1000));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:s, s:O}", "op", "upsert", "collection", "dense", "points", points),
                     "invalid_argument", "point id 1000 appears more than once");
    /* the maximum itself is accepted */
    json_object_set_new(json_array_get(points, 9999), "id", json_integer(1000 + 9999));
    json_t *request = json_pack("{s:s, s:s, s:o}", "op", "upsert", "collection", "dense", "points", points);
    char *text = json_dumps(request, JSON_COMPACT);
    json_t *r = test_exec(db, text);
    CHECK(strcmp(test_response_code(r), "ok") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(r, "result"), "upserted")) == EG_VECTOR_BATCH_MAX);
    CHECK(count_of("dense") == 4 + EG_VECTOR_BATCH_MAX);
    json_decref(r);
    free(text);
    json_decref(request);
}

TEST(limits_out_of_range) {
    static const char *const limits[] = {"0", "-1", "10001"};
    for (size_t i = 0; i < COUNT_OF(limits); i++) {
        char word[64];
        snprintf(word, sizeof word, "argument 'limit' must be from 1 to 10000, got %s", limits[i]);
        EXPECT_EXEC(line_of("{\"op\":\"scroll\",\"collection\":\"dense\",\"limit\":%s}", limits[i]), "invalid_argument",
                    word);
        EXPECT_EXEC(line_of("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"limit\":%s}", limits[i]),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,0,0],"
                            "\"sparse_vector\":{\"indices\":[1],\"values\":[1]},\"limit\":%s}",
                            limits[i]),
                    "invalid_argument", word);
    }
    EXPECT_EXEC("{\"op\":\"scroll\",\"collection\":\"dense\",\"limit\":\"10\"}", "invalid_argument",
                "argument 'limit' must be an integer");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"limit\":9000,\"offset\":1001}",
                "invalid_argument", "limit + offset must be at most 10000");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"offset\":-1}", "invalid_argument",
                "argument 'offset' must be from 0 to 10000, got -1");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"limit\":9000,\"offset\":1000}", "ok",
                NULL);
}

/* ---- Other arguments ---------------------------------------------------------------------------------------- */

TEST(mistyped_and_unknown_arguments) {
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vectors\":[1,0,0]}", "invalid_argument",
                "unknown argument 'vectors' for search");
    EXPECT_EXEC("{\"op\":\"search_hybrid\",\"collection\":\"hybrid\",\"dense_vector\":[1,0,0],\"sparse_vector\":"
                "{\"indices\":[1],\"values\":[1]},\"offset\":1}",
                "invalid_argument", "unknown argument 'offset' for search_hybrid");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,0,0],"
                "\"vectors\":{}}]}",
                "invalid_argument", "points[0]: unknown field 'vectors'");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,0,0]},7]}",
                "invalid_argument", "points[1]: must be a JSON object");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":{\"id\":9,\"vector\":[1,0,0]}}",
                "invalid_argument", "argument 'points' must be an array");
    EXPECT_EXEC("{\"op\":\"upsert\",\"collection\":\"dense\"}", "invalid_argument", "argument 'points' is required");
    EXPECT_EXEC("{\"op\":\"get\",\"collection\":\"dense\",\"ids\":[1],\"with_payload\":\"yes\"}", "invalid_argument",
                "argument 'with_payload' must be true or false");
    EXPECT_EXEC("{\"op\":\"scroll\",\"collection\":\"dense\",\"with_vectors\":1}", "invalid_argument",
                "argument 'with_vectors' must be true or false");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"session_id\":\"\"}",
                "invalid_argument", "session_id is empty");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"session_id\":5}", "invalid_argument",
                "argument 'session_id' must be a string");
    EXPECT_EXEC("{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0,0],\"score_threshold\":\"0.5\"}",
                "invalid_argument", "argument 'score_threshold' must be a number");
    EXPECT_EXEC("{\"op\":\"list_collections\",\"collection\":\"dense\"}", "invalid_argument",
                "unknown argument 'collection' for list_collections (allowed: none)");
    EXPECT_EXEC("{\"op\":\"delete\",\"collection\":\"dense\"}", "invalid_argument",
                "delete takes either ids or a filter, not both or neither");
    EXPECT_EXEC("{\"op\":\"delete\",\"collection\":\"dense\",\"ids\":[1],\"filter\":{}}", "invalid_argument",
                "delete takes either ids or a filter, not both or neither");
    EXPECT_EXEC("{\"op\":\"delete\",\"collection\":\"dense\",\"ids\":null,\"filter\":null}", "invalid_argument",
                "delete takes either ids or a filter");
}

/* After refused lines, valid ones work and see exactly the seeded store. */
TEST(valid_lines_after_bad_ones_still_work) {
    static const struct {
        const char *line, *code;
    } session[] = {
        {"{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[1,1e39,0]}]}",
         "invalid_argument"},
        {"{\"op\":\"upsert\",\"collection\":\"dense\",\"points\":[{\"id\":9,\"vector\":[0,3,4]}]}", "ok"},
        {"{\"op\":\"search\",\"collection\":\"dense\",\"vector\":[1,0]}", "invalid_argument"},
        {"{\"op\":\"update_payload\",\"collection\":\"dense\",\"ids\":[9,404],\"payload\":{\"x\":1}}", "not_found"},
        {"{\"op\":\"create_collection\",\"collection\":\"dense\",\"dim\":2}", "conflict"},
        {"{\"op\":\"delete\",\"collection\":\"dense\",\"filter\":{\"shoulld\":[]}}", "invalid_argument"},
        {"{\"op\":\"get\",\"collection\":\"dense\",\"ids\":[9],\"with_vectors\":true}", "ok"},
    };
    for (size_t i = 0; i < COUNT_OF(session); i++) {
        json_t *r = test_exec(db, session[i].line);
        const char *code = test_response_code(r);
        if (!code || strcmp(code, session[i].code) != 0) {
            char problem[128];
            snprintf(problem, sizeof problem, "-> %s, expected %s", code ? code : "?", session[i].code);
            failed(__LINE__, session[i].line, problem);
        }
        if (i == COUNT_OF(session) - 1) {
            json_t *p = json_array_get(json_object_get(r, "result"), 0);
            CHECK(json_object_size(json_object_get(p, "payload")) == 0);
            CHECK(json_real_value(json_array_get(json_object_get(p, "vector"), 2)) > 0.79);
        }
        json_decref(r);
    }
    CHECK(count_of("dense") == 5);
    CHECK(count_of("hybrid") == 3);
}

int main(void) {
    RUN_SEEDED(wrong_dimension);
    RUN_SEEDED(values_not_finite_as_floats);
    RUN_SEEDED(vector_elements_that_are_not_numbers);
    RUN_SEEDED(bad_sparse_vectors);
    RUN_SEEDED(sparse_vectors_need_a_sparse_collection);
    RUN_SEEDED(invalid_ids_everywhere_an_id_is_taken);
    RUN_SEEDED(duplicate_ids_within_one_batch);
    RUN_SEEDED(unknown_collection);
    RUN_SEEDED(bad_collection_names_and_configurations);
    RUN_SEEDED(bad_payload_indexes);
    RUN_SEEDED(unknown_filter_shapes);
    RUN_SEEDED(payloads_that_are_not_objects);
    RUN_SEEDED(updates_of_missing_points);
    RUN_SEEDED(batches_over_the_maximum);
    RUN_SEEDED(a_full_batch_with_one_bad_point_writes_nothing);
    RUN_SEEDED(limits_out_of_range);
    RUN_SEEDED(mistyped_and_unknown_arguments);
    RUN_SEEDED(valid_lines_after_bad_ones_still_work);
    return test_summary();
}
