/* test_vector_params.c — the index parameters of collections and searches, above the index itself: the
 * validation of eg_collection_config's hnsw_m, hnsw_ef_construct, full_scan_threshold and quantization and of
 * eg_search_params (hnsw_ef, exact, oversampling) in the C API; the defaults and explicit values get_collection
 * reports, also after a close and reopen; idempotent re-creation and EG_CONFLICT; and the JSON shapes of exec
 * (Qdrant's "hnsw_config", "quantization_config" and search "params"), with every bad shape refused as
 * invalid_argument with a message naming it while the store stays exactly as it was. On small collections every
 * search is exact, so searches with and without params must answer the same. */
#include "test.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>

static eg_db *db;
static char data_dir[512];

/* ---- The store ---------------------------------------------------------------------------------------------- */

static eg_db *open_at(const char *dir) {
    eg_db *out;
    eg_error err;
    eg_options options = {.durability = EG_DURABILITY_NONE};
    if (eg_open(dir, &options, &out, &err) != EG_OK) {
        fprintf(stderr, "cannot open %s: %s\n", dir, err.message);
        exit(2);
    }
    return out;
}

static eg_vectors *store(void) { return eg_db_vectors(db); }

/* Each test runs on a fresh folder of its own. */
#define RUN_FRESH(name)                                                                                              \
    do {                                                                                                             \
        snprintf(data_dir, sizeof data_dir, "%s/data", test_scratch_dir());                                         \
        db = open_at(data_dir);                                                                                      \
        RUN(name);                                                                                                   \
        eg_close(db);                                                                                                \
    } while (0)

/* The whole vector store as canonical JSON text (malloc'ed), read through the C API: every collection's full
 * configuration, counts and indexes, and every point with its vector and payload. */
static char *snapshot(void) {
    eg_error err;
    eg_string_list names;
    if (eg_vectors_list_collections(store(), &names, &err) != EG_OK) {
        fprintf(stderr, "snapshot: %s\n", err.message);
        exit(2);
    }
    json_t *all = json_object();
    for (size_t c = 0; c < names.count; c++) {
        eg_collection_info info;
        eg_point_list page;
        eg_point_id next;
        bool has_next;
        eg_scroll_request request = {.limit = EG_SEARCH_LIMIT_MAX, .with_payload = true, .with_vectors = true};
        if (eg_vectors_get_collection(store(), names.items[c], &info, &err) != EG_OK ||
            eg_vectors_scroll(store(), names.items[c], &request, &page, &next, &has_next, &err) != EG_OK) {
            fprintf(stderr, "snapshot: %s\n", err.message);
            exit(2);
        }
        json_t *points = json_array(), *indexes = json_object();
        for (size_t i = 0; i < info.index_count; i++)
            json_object_set_new(indexes, info.indexes[i].field, json_string(eg_payload_type_name(info.indexes[i].type)));
        for (size_t i = 0; i < page.count; i++) {
            char id[EG_POINT_ID_TEXT];
            eg_point_id_format(&page.items[i].id, id);
            json_t *vector = json_array();
            for (size_t d = 0; d < page.items[i].dim; d++) json_array_append_new(vector, json_real(page.items[i].vector[d]));
            json_array_append_new(points, json_pack("{s:s, s:o, s:O}", "id", id, "vector", vector, "payload",
                                                    page.items[i].payload ? page.items[i].payload : json_null()));
        }
        json_object_set_new(all, names.items[c],
                            json_pack("{s:I, s:s, s:b, s:I, s:I, s:I, s:s, s:I, s:I, s:o, s:o}", "dim",
                                      (json_int_t)info.config.dim, "distance", eg_distance_name(info.config.distance),
                                      "sparse", info.config.sparse, "m", (json_int_t)info.config.hnsw_m, "ef_construct",
                                      (json_int_t)info.config.hnsw_ef_construct, "full_scan_threshold",
                                      (json_int_t)info.config.full_scan_threshold, "quantization",
                                      eg_quantization_name(info.config.quantization), "points_count",
                                      (json_int_t)info.points_count, "indexed_vectors_count",
                                      (json_int_t)info.indexed_vectors_count, "indexes", indexes, "points", points));
        eg_point_list_free(&page);
        eg_collection_info_clear(&info);
    }
    eg_string_list_free(&names);
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    return text;
}

static bool collection_exists(const char *name) {
    eg_collection_info info;
    eg_error err;
    eg_status st = eg_vectors_get_collection(store(), name, &info, &err);
    if (st == EG_OK) eg_collection_info_clear(&info);
    return st == EG_OK;
}

/* ---- Expectations ------------------------------------------------------------------------------------------- */

static void failed(int line, const char *what, const char *problem) {
    fprintf(stderr, "  %s:%d: %.300s\n    %s\n", __FILE__, line, what, problem);
    test_failures_in_current++;
}

/* A C call (its status given) failed with EG_INVALID_ARGUMENT and a message containing `words`, and the store is
 * as `before` was. */
static void expect_refused_at(int line, const char *what, eg_status st, const eg_error *err, const char *words,
                              const char *before) {
    char problem[EG_ERROR_MESSAGE_MAX + 256];
    if (st != EG_INVALID_ARGUMENT) {
        snprintf(problem, sizeof problem, "-> %s (%s), expected invalid_argument", eg_status_name(st),
                 st ? err->message : "");
        failed(line, what, problem);
    } else if (!strstr(err->message, words)) {
        snprintf(problem, sizeof problem, "-> message \"%s\" does not mention \"%s\"", err->message, words);
        failed(line, what, problem);
    }
    char *after = snapshot();
    if (strcmp(before, after) != 0) failed(line, what, "-> changed the store");
    free(after);
}

/* An exec request answers `code` ("ok" or an error code) with a message containing `words` (NULL: any) and, when
 * it fails, leaves the store exactly as it was. */
static void expect_exec_at(int line, const char *request, const char *code, const char *words) {
    char *before = snapshot();
    json_t *r = test_exec(db, request);
    const char *got = test_response_code(r);
    const char *message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    char problem[EG_ERROR_MESSAGE_MAX + 256];
    if (!got || strcmp(got, code) != 0) {
        snprintf(problem, sizeof problem, "-> %s (%s), expected %s", got ? got : "?", message ? message : "", code);
        failed(line, request, problem);
    } else if (words && !(message && strstr(message, words))) {
        snprintf(problem, sizeof problem, "-> message \"%s\" does not mention \"%s\"", message ? message : "", words);
        failed(line, request, problem);
    }
    if (strcmp(code, "ok") != 0) {
        char *after = snapshot();
        if (strcmp(before, after) != 0) failed(line, request, "-> changed the store");
        free(after);
    }
    free(before);
    json_decref(r);
}
#define EXPECT_EXEC(request, code, words) expect_exec_at(__LINE__, request, code, words)

/* A request that must succeed: its result (a new reference). */
static json_t *result_at(int line, const char *request) {
    json_t *response = test_exec(db, request);
    json_t *result = json_incref(json_object_get(response, "result"));
    if (!json_is_true(json_object_get(response, "ok"))) {
        char *got = json_dumps(response, JSON_COMPACT);
        failed(line, request, got);
        free(got);
    }
    json_decref(response);
    return result;
}
#define RESULT(request) result_at(__LINE__, request)

/* The request succeeds with exactly the result `expected` (JSON text). */
static void expect_result_at(int line, const char *request, const char *expected) {
    json_t *result = result_at(line, request);
    json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);
    if (!want || !json_equal(result, want)) {
        char *got = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
        char problem[8192];
        snprintf(problem, sizeof problem, "expected %s\n    got %s", expected, got ? got : "(nothing)");
        failed(line, request, problem);
        free(got);
    }
    json_decref(want);
    json_decref(result);
}
#define EXPECT_RESULT(request, expected) expect_result_at(__LINE__, request, expected)

static const char *line_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *line_of(const char *fmt, ...) {
    static char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return line;
}

/* ---- Data --------------------------------------------------------------------------------------------------- */

#define DIM 8
#define POINTS 60

/* A deterministic vector for point i (or query q = 1000 + i). */
static void vector_of(unsigned i, float out[DIM]) {
    uint64_t s = 0x9e3779b97f4a7c15ULL * (i + 1);
    for (int d = 0; d < DIM; d++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        out[d] = (float)((double)((s * 0x2545f4914f6cdd1dULL) >> 40) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

static json_t *vector_json(unsigned i) {
    float v[DIM];
    vector_of(i, v);
    json_t *a = json_array();
    for (int d = 0; d < DIM; d++) json_array_append_new(a, json_real(v[d]));
    return a;
}

/* Creates `name` (a JSON fragment of extra create_collection arguments may follow) and fills it with POINTS
 * points: vectors, a payload {"n": i, "even": bool}, and a sparse vector on sparse collections. */
static void seed(const char *name, const char *extra, bool sparse) {
    json_decref(RESULT(line_of("{\"op\":\"create_collection\",\"collection\":\"%s\",\"dim\":%d,\"sparse\":%s%s}", name,
                               DIM, sparse ? "true" : "false", extra)));
    json_t *points = json_array();
    for (unsigned i = 0; i < POINTS; i++) {
        json_t *p = json_pack("{s:I, s:o, s:{s:I, s:b}}", "id", (json_int_t)i, "vector", vector_json(i), "payload", "n",
                              (json_int_t)i, "even", i % 2 == 0);
        if (sparse)
            json_object_set_new(p, "sparse_vector",
                                json_pack("{s:[I, I], s:[f, f]}", "indices", (json_int_t)(i % 7), (json_int_t)(7 + i % 5),
                                          "values", 1.0 + i % 3, 0.5));
        json_array_append_new(points, p);
    }
    json_t *request = json_pack("{s:s, s:s, s:o}", "op", "upsert", "collection", name, "points", points);
    char *text = json_dumps(request, JSON_COMPACT);
    json_decref(RESULT(text));
    free(text);
    json_decref(request);
}

/* ---- The C API: collection parameters ------------------------------------------------------------------------ */

TEST(c_api_refuses_bad_collection_parameters) {
    eg_error err;
    struct {
        eg_collection_config config;
        const char *words;
    } bad[] = {
        {{.dim = 4, .hnsw_m = 1}, "hnsw_m must be from 2 to 128 (0: the default, 16), got 1"},
        {{.dim = 4, .hnsw_m = 129}, "hnsw_m must be from 2 to 128"},
        {{.dim = 4, .hnsw_m = UINT32_MAX}, "got 4294967295"},
        {{.dim = 4, .hnsw_ef_construct = 1}, "hnsw_ef_construct must be from 4 to 4096 (0: the default, 100), got 1"},
        {{.dim = 4, .hnsw_ef_construct = 3}, "hnsw_ef_construct must be from 4 to 4096"},
        {{.dim = 4, .hnsw_ef_construct = 4097}, "got 4097"},
        {{.dim = 4, .quantization = (eg_quantization)2}, "invalid quantization 2"},
        {{.dim = 4, .quantization = (eg_quantization)-1}, "invalid quantization -1"},
        /* a valid index configuration does not excuse another bad field */
        {{.dim = 4, .hnsw_m = 2, .distance = (eg_distance)9}, "invalid distance 9"},
    };
    char *before = snapshot();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "bad[%zu]", i);
        expect_refused_at(__LINE__, what, eg_vectors_create_collection(store(), "c", &bad[i].config, &err), &err,
                          bad[i].words, before);
        CHECK(!collection_exists("c"));
    }
    free(before);

    /* an existing collection stays as it was when created again with a bad parameter */
    eg_collection_config good = {.dim = 4, .hnsw_m = 8};
    CHECK_OK(eg_vectors_create_collection(store(), "c", &good, &err), &err);
    before = snapshot();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused_at(__LINE__, "again", eg_vectors_create_collection(store(), "c", &bad[i].config, &err), &err,
                          bad[i].words, before);
    free(before);
}

TEST(c_api_accepts_the_bounds) {
    eg_error err;
    eg_collection_config configs[] = {
        {.dim = 3, .hnsw_m = 2, .hnsw_ef_construct = 4, .full_scan_threshold = 1},
        {.dim = 3, .hnsw_m = EG_HNSW_M_MAX, .hnsw_ef_construct = EG_HNSW_EF_CONSTRUCT_MAX,
         .full_scan_threshold = UINT32_MAX, .quantization = EG_QUANTIZATION_INT8},
    };
    for (size_t i = 0; i < 2; i++) {
        char name[8];
        snprintf(name, sizeof name, "b%zu", i);
        CHECK_OK(eg_vectors_create_collection(store(), name, &configs[i], &err), &err);
        eg_collection_info info;
        CHECK_OK(eg_vectors_get_collection(store(), name, &info, &err), &err);
        CHECK(info.config.hnsw_m == configs[i].hnsw_m);
        CHECK(info.config.hnsw_ef_construct == configs[i].hnsw_ef_construct);
        CHECK(info.config.full_scan_threshold == configs[i].full_scan_threshold);
        CHECK(info.config.quantization == configs[i].quantization);
        eg_collection_info_clear(&info);
    }
}

TEST(c_api_defaults_and_explicit_values_are_reported_and_kept) {
    eg_error err;
    eg_collection_config plain = {.dim = 4, .distance = EG_DISTANCE_DOT};
    eg_collection_config tuned = {.dim = 4,
                                  .distance = EG_DISTANCE_EUCLID,
                                  .sparse = true,
                                  .hnsw_m = 32,
                                  .hnsw_ef_construct = 200,
                                  .full_scan_threshold = 500,
                                  .quantization = EG_QUANTIZATION_INT8};
    CHECK_OK(eg_vectors_create_collection(store(), "plain", &plain, &err), &err);
    CHECK_OK(eg_vectors_create_collection(store(), "tuned", &tuned, &err), &err);
    for (int round = 0; round < 2; round++) { /* as created, then after a close and reopen */
        eg_collection_info info;
        CHECK_OK(eg_vectors_get_collection(store(), "plain", &info, &err), &err);
        CHECK(info.config.dim == 4 && info.config.distance == EG_DISTANCE_DOT && !info.config.sparse);
        CHECK(info.config.hnsw_m == EG_HNSW_M_DEFAULT && info.config.hnsw_m == 16);
        CHECK(info.config.hnsw_ef_construct == EG_HNSW_EF_CONSTRUCT_DEFAULT && info.config.hnsw_ef_construct == 100);
        CHECK(info.config.full_scan_threshold == EG_FULL_SCAN_THRESHOLD_DEFAULT &&
              info.config.full_scan_threshold == 10000);
        CHECK(info.config.quantization == EG_QUANTIZATION_NONE);
        CHECK(info.points_count == 0 && info.indexed_vectors_count == 0);
        eg_collection_info_clear(&info);
        CHECK_OK(eg_vectors_get_collection(store(), "tuned", &info, &err), &err);
        CHECK(info.config.dim == 4 && info.config.distance == EG_DISTANCE_EUCLID && info.config.sparse);
        CHECK(info.config.hnsw_m == 32 && info.config.hnsw_ef_construct == 200);
        CHECK(info.config.full_scan_threshold == 500 && info.config.quantization == EG_QUANTIZATION_INT8);
        CHECK(info.indexed_vectors_count == 0);
        eg_collection_info_clear(&info);
        eg_close(db);
        db = open_at(data_dir);
    }
    CHECK(strcmp(eg_quantization_name(EG_QUANTIZATION_NONE), "none") == 0);
    CHECK(strcmp(eg_quantization_name(EG_QUANTIZATION_INT8), "int8") == 0);
}

TEST(c_api_create_again_is_a_no_op_or_a_conflict) {
    eg_error err;
    eg_collection_config tuned = {.dim = 4, .hnsw_m = 32, .hnsw_ef_construct = 200, .full_scan_threshold = 500,
                                  .quantization = EG_QUANTIZATION_INT8};
    eg_collection_config plain = {.dim = 4};
    eg_collection_config explicit_defaults = {.dim = 4,
                                              .hnsw_m = EG_HNSW_M_DEFAULT,
                                              .hnsw_ef_construct = EG_HNSW_EF_CONSTRUCT_DEFAULT,
                                              .full_scan_threshold = EG_FULL_SCAN_THRESHOLD_DEFAULT};
    CHECK_OK(eg_vectors_create_collection(store(), "tuned", &tuned, &err), &err);
    CHECK_OK(eg_vectors_create_collection(store(), "plain", &plain, &err), &err);
    char *before = snapshot();
    CHECK_OK(eg_vectors_create_collection(store(), "tuned", &tuned, &err), &err);
    CHECK_OK(eg_vectors_create_collection(store(), "plain", &plain, &err), &err);
    /* 0 means the default, so spelling the defaults out is the same configuration */
    CHECK_OK(eg_vectors_create_collection(store(), "plain", &explicit_defaults, &err), &err);
    eg_collection_config other[5];
    for (int i = 0; i < 5; i++) other[i] = tuned;
    other[0].hnsw_m = 16;
    other[1].hnsw_ef_construct = 100;
    other[2].full_scan_threshold = 501;
    other[3].quantization = EG_QUANTIZATION_NONE;
    other[4] = plain; /* all defaults */
    for (int i = 0; i < 5; i++)
        CHECK_STATUS(eg_vectors_create_collection(store(), "tuned", &other[i], &err), EG_CONFLICT, &err);
    CHECK_STATUS(eg_vectors_create_collection(store(), "plain", &tuned, &err), EG_CONFLICT, &err);
    char *after = snapshot();
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
}

/* ---- The C API: search parameters ---------------------------------------------------------------------------- */

/* The ids and scores of a scored list as JSON text (malloc'ed). */
static char *ranking(const eg_scored_list *list) {
    json_t *a = json_array();
    for (size_t i = 0; i < list->count; i++) {
        char id[EG_POINT_ID_TEXT];
        eg_point_id_format(&list->items[i].point.id, id);
        json_array_append_new(a, json_pack("[s, f]", id, list->items[i].score));
    }
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

TEST(c_api_refuses_bad_search_parameters) {
    eg_error err;
    seed("h", "", true);
    float query[DIM];
    vector_of(1000, query);
    uint32_t sparse_index = 3;
    float sparse_value = 1;
    struct {
        eg_search_params params;
        const char *words;
    } bad[] = {
        {{.hnsw_ef = EG_SEARCH_LIMIT_MAX + 1}, "params.hnsw_ef must be from 1 to 10000 (0: the default, 64), got 10001"},
        {{.hnsw_ef = SIZE_MAX}, "params.hnsw_ef must be from 1 to 10000"},
        {{.oversampling = 0.5}, "params.oversampling must be a finite number from 1 to 100 (0: the default, 1), got 0.5"},
        {{.oversampling = -1}, "params.oversampling must be a finite number from 1 to 100"},
        {{.oversampling = 100.5}, "got 100.5"},
        {{.oversampling = NAN}, "params.oversampling must be a finite number"},
        {{.oversampling = INFINITY}, "params.oversampling must be a finite number"},
        {{.exact = true, .oversampling = 1e300}, "params.oversampling"},
    };
    char *before = snapshot();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eg_scored_list out;
        eg_search_request request = {.vector = query, .dim = DIM, .limit = 5, .params = bad[i].params};
        expect_refused_at(__LINE__, "search", eg_vectors_search(store(), "h", &request, &out, &err), &err, bad[i].words,
                          before);
        eg_hybrid_request hybrid = {.vector = query,
                                    .dim = DIM,
                                    .sparse = {&sparse_index, &sparse_value, 1},
                                    .limit = 5,
                                    .params = bad[i].params};
        expect_refused_at(__LINE__, "search_hybrid", eg_vectors_search_hybrid(store(), "h", &hybrid, &out, &err), &err,
                          bad[i].words, before);
    }
    free(before);
}

TEST(c_api_search_parameters_do_not_change_an_exact_answer) {
    eg_error err;
    seed("d", "", true);
    seed("q", ",\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}}", true);
    uint32_t sparse_index = 3;
    float sparse_value = 1;
    eg_search_params variants[] = {
        {.exact = true},
        {.hnsw_ef = 1},
        {.hnsw_ef = EG_SEARCH_LIMIT_MAX},
        {.oversampling = 1},
        {.oversampling = EG_OVERSAMPLING_MAX, .hnsw_ef = 7},
        {.exact = true, .hnsw_ef = 3, .oversampling = 2.5},
    };
    const char *collections[] = {"d", "q"};
    for (unsigned q = 0; q < 5; q++) {
        float query[DIM];
        vector_of(1000 + q, query);
        for (size_t c = 0; c < 2; c++) {
            eg_scored_list base, got;
            eg_search_request request = {.vector = query, .dim = DIM, .limit = 10, .offset = q};
            REQUIRE(eg_vectors_search(store(), collections[c], &request, &base, &err) == EG_OK);
            char *want = ranking(&base);
            CHECK(base.count == 10);
            eg_scored_list_free(&base);
            eg_hybrid_request hybrid = {.vector = query, .dim = DIM, .sparse = {&sparse_index, &sparse_value, 1},
                                        .limit = 10};
            REQUIRE(eg_vectors_search_hybrid(store(), collections[c], &hybrid, &base, &err) == EG_OK);
            char *want_hybrid = ranking(&base);
            eg_scored_list_free(&base);
            for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
                request.params = variants[i];
                CHECK_OK(eg_vectors_search(store(), collections[c], &request, &got, &err), &err);
                char *text = ranking(&got);
                if (strcmp(text, want) != 0) {
                    fprintf(stderr, "  %s: variant %zu: %s\n    without params: %s\n", collections[c], i, text, want);
                    test_failures_in_current++;
                }
                free(text);
                eg_scored_list_free(&got);
                hybrid.params = variants[i];
                CHECK_OK(eg_vectors_search_hybrid(store(), collections[c], &hybrid, &got, &err), &err);
                text = ranking(&got);
                CHECK(strcmp(text, want_hybrid) == 0);
                free(text);
                eg_scored_list_free(&got);
            }
            free(want);
            free(want_hybrid);
        }
    }
}

/* ---- exec: collections -------------------------------------------------------------------------------------- */

#define DEFAULT_HNSW "\"hnsw_config\":{\"m\":16,\"ef_construct\":100,\"full_scan_threshold\":10000}"

TEST(exec_collection_parameters_round_trip) {
    EXPECT_RESULT("{\"op\":\"create_collection\",\"collection\":\"plain\",\"dim\":4}", "{\"collection\":\"plain\"}");
    EXPECT_RESULT("{\"op\":\"get_collection\",\"collection\":\"plain\"}",
                  "{\"name\":\"plain\",\"dim\":4,\"distance\":\"Cosine\",\"sparse\":false," DEFAULT_HNSW
                  ",\"quantization_config\":null,\"points_count\":0,\"indexed_vectors_count\":0,\"payload_indexes\":{}}");
    EXPECT_RESULT("{\"op\":\"create_collection\",\"collection\":\"tuned\",\"dim\":4,\"distance\":\"Dot\","
                  "\"hnsw_config\":{\"m\":32,\"ef_construct\":200,\"full_scan_threshold\":500},"
                  "\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}}}",
                  "{\"collection\":\"tuned\"}");
    EXPECT_RESULT("{\"op\":\"upsert\",\"collection\":\"tuned\",\"points\":[{\"id\":1,\"vector\":[1,0,0,0]}]}",
                  "{\"upserted\":1}");
    const char *tuned = "{\"name\":\"tuned\",\"dim\":4,\"distance\":\"Dot\",\"sparse\":false,"
                        "\"hnsw_config\":{\"m\":32,\"ef_construct\":200,\"full_scan_threshold\":500},"
                        "\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}},\"points_count\":1,"
                        "\"indexed_vectors_count\":0,\"payload_indexes\":{}}";
    EXPECT_RESULT("{\"op\":\"get_collection\",\"collection\":\"tuned\"}", tuned);

    /* get_collection's hnsw_config and quantization_config fed back to create_collection: the same configuration */
    json_t *info = RESULT("{\"op\":\"get_collection\",\"collection\":\"tuned\"}");
    json_t *again = json_pack("{s:s, s:s, s:O, s:O, s:O, s:O}", "op", "create_collection", "collection", "tuned", "dim",
                              json_object_get(info, "dim"), "distance", json_object_get(info, "distance"),
                              "hnsw_config", json_object_get(info, "hnsw_config"), "quantization_config",
                              json_object_get(info, "quantization_config"));
    char *text = json_dumps(again, JSON_COMPACT);
    EXPECT_EXEC(text, "ok", NULL);
    free(text);
    json_decref(again);
    json_decref(info);
    info = RESULT("{\"op\":\"get_collection\",\"collection\":\"plain\"}");
    again = json_pack("{s:s, s:s, s:i, s:O, s:O}", "op", "create_collection", "collection", "plain", "dim", 4,
                      "hnsw_config", json_object_get(info, "hnsw_config"), "quantization_config",
                      json_object_get(info, "quantization_config")); /* null: none */
    text = json_dumps(again, JSON_COMPACT);
    EXPECT_EXEC(text, "ok", NULL);
    free(text);
    json_decref(again);
    json_decref(info);

    /* a partial hnsw_config: the rest are the defaults; Qdrant's optional scalar fields; nulls mean absent */
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"partial\",\"dim\":2,\"hnsw_config\":{\"m\":8},"
                "\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"quantile\":1.0,\"always_ram\":true}}}",
                "ok", NULL);
    EXPECT_RESULT("{\"op\":\"get_collection\",\"collection\":\"partial\"}",
                  "{\"name\":\"partial\",\"dim\":2,\"distance\":\"Cosine\",\"sparse\":false,"
                  "\"hnsw_config\":{\"m\":8,\"ef_construct\":100,\"full_scan_threshold\":10000},"
                  "\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}},\"points_count\":0,"
                  "\"indexed_vectors_count\":0,\"payload_indexes\":{}}");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"partial\",\"dim\":2,"
                "\"hnsw_config\":{\"m\":8,\"ef_construct\":null,\"full_scan_threshold\":10000},"
                "\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"quantile\":1,\"always_ram\":false}}}",
                "ok", NULL);
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"nulls\",\"dim\":2,\"hnsw_config\":null,"
                "\"quantization_config\":null}",
                "ok", NULL);
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"nulls\",\"dim\":2,\"hnsw_config\":{},"
                "\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"quantile\":null,\"always_ram\":null}}}",
                "conflict", "another configuration");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"bounds\",\"dim\":2,"
                "\"hnsw_config\":{\"m\":128,\"ef_construct\":4096,\"full_scan_threshold\":4294967295}}",
                "ok", NULL);
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"bounds2\",\"dim\":2,"
                "\"hnsw_config\":{\"m\":2,\"ef_construct\":4,\"full_scan_threshold\":1}}",
                "ok", NULL);
    EXPECT_RESULT("{\"op\":\"get_collection\",\"collection\":\"bounds\"}",
                  "{\"name\":\"bounds\",\"dim\":2,\"distance\":\"Cosine\",\"sparse\":false,"
                  "\"hnsw_config\":{\"m\":128,\"ef_construct\":4096,\"full_scan_threshold\":4294967295},"
                  "\"quantization_config\":null,\"points_count\":0,\"indexed_vectors_count\":0,\"payload_indexes\":{}}");

    /* another configuration of an existing collection: conflict, and it stays as it was */
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"tuned\",\"dim\":4,\"distance\":\"Dot\"}", "conflict",
                "another configuration");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"tuned\",\"dim\":4,\"distance\":\"Dot\","
                "\"hnsw_config\":{\"m\":32,\"ef_construct\":200,\"full_scan_threshold\":500}}",
                "conflict", "another configuration");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"tuned\",\"dim\":4,\"distance\":\"Dot\","
                "\"hnsw_config\":{\"m\":33,\"ef_construct\":200,\"full_scan_threshold\":500},"
                "\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}}}",
                "conflict", "another configuration");
    EXPECT_EXEC("{\"op\":\"create_collection\",\"collection\":\"plain\",\"dim\":4,"
                "\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}}}",
                "conflict", "another configuration");
    EXPECT_RESULT("{\"op\":\"get_collection\",\"collection\":\"tuned\"}", tuned);
}

/* Each bad shape of create_collection's index arguments: invalid_argument naming it, and no collection. */
TEST(exec_refuses_bad_collection_parameters) {
    static const struct {
        const char *arguments, *words;
    } bad[] = {
        {"\"hnsw_config\":16", "argument 'hnsw_config' must be a JSON object"},
        {"\"hnsw_config\":[16]", "argument 'hnsw_config' must be a JSON object"},
        {"\"hnsw_config\":{\"m\":0}", "hnsw_config: argument 'm' must be from 2 to 128, got 0"},
        {"\"hnsw_config\":{\"m\":1}", "hnsw_config: argument 'm' must be from 2 to 128, got 1"},
        {"\"hnsw_config\":{\"m\":129}", "hnsw_config: argument 'm' must be from 2 to 128, got 129"},
        {"\"hnsw_config\":{\"m\":-16}", "hnsw_config: argument 'm' must be from 2 to 128"},
        {"\"hnsw_config\":{\"m\":\"16\"}", "hnsw_config: argument 'm' must be an integer"},
        {"\"hnsw_config\":{\"m\":16.5}", "hnsw_config: argument 'm' must be an integer"},
        {"\"hnsw_config\":{\"m\":16.0}", "hnsw_config: argument 'm' must be an integer"},
        {"\"hnsw_config\":{\"ef_construct\":3}", "hnsw_config: argument 'ef_construct' must be from 4 to 4096, got 3"},
        {"\"hnsw_config\":{\"ef_construct\":0}", "hnsw_config: argument 'ef_construct' must be from 4 to 4096, got 0"},
        {"\"hnsw_config\":{\"ef_construct\":4097}", "hnsw_config: argument 'ef_construct' must be from 4 to 4096"},
        {"\"hnsw_config\":{\"ef_construct\":true}", "hnsw_config: argument 'ef_construct' must be an integer"},
        {"\"hnsw_config\":{\"full_scan_threshold\":0}",
         "hnsw_config: argument 'full_scan_threshold' must be from 1 to 4294967295, got 0"},
        {"\"hnsw_config\":{\"full_scan_threshold\":-1}", "argument 'full_scan_threshold' must be from 1 to 4294967295"},
        {"\"hnsw_config\":{\"full_scan_threshold\":4294967296}",
         "argument 'full_scan_threshold' must be from 1 to 4294967295, got 4294967296"},
        {"\"hnsw_config\":{\"full_scan_threshold\":1e4}", "argument 'full_scan_threshold' must be an integer"},
        {"\"hnsw_config\":{\"on_disk\":false}", "hnsw_config: unknown field 'on_disk'"},
        {"\"hnsw_config\":{\"m\":16,\"max_indexing_threads\":4}", "hnsw_config: unknown field 'max_indexing_threads'"},
        {"\"hnsw_config\":{\"payload_m\":16}", "hnsw_config: unknown field 'payload_m'"},
        {"\"hnsw_config\":{\"M\":16}", "hnsw_config: unknown field 'M'"},
        {"\"quantization_config\":\"int8\"", "argument 'quantization_config' must be a JSON object"},
        {"\"quantization_config\":true", "argument 'quantization_config' must be a JSON object"},
        {"\"quantization_config\":{}", "quantization_config: argument 'scalar' is required"},
        {"\"quantization_config\":{\"product\":{\"compression\":\"x16\"}}",
         "quantization_config: product quantization is not supported; engram has only {\"scalar\": {\"type\": "
         "\"int8\"}}"},
        {"\"quantization_config\":{\"binary\":{\"always_ram\":true}}",
         "quantization_config: binary quantization is not supported"},
        {"\"quantization_config\":{\"turbo\":{}}", "quantization_config: turbo quantization is not supported"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\"},\"binary\":{}}",
         "quantization_config: binary quantization is not supported"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\"},\"extra\":1}",
         "quantization_config: unknown field 'extra'"},
        {"\"quantization_config\":{\"Scalar\":{\"type\":\"int8\"}}", "quantization_config: unknown field 'Scalar'"},
        {"\"quantization_config\":{\"scalar\":\"int8\"}",
         "quantization_config: argument 'scalar' must be a JSON object"},
        {"\"quantization_config\":{\"scalar\":null}", "quantization_config: argument 'scalar' is required"},
        {"\"quantization_config\":{\"scalar\":{}}", "quantization_config.scalar: argument 'type' is required"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"uint8\"}}",
         "quantization_config.scalar: type 'uint8' is not supported; engram has only \"int8\""},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"INT8\"}}", "type 'INT8' is not supported"},
        {"\"quantization_config\":{\"scalar\":{\"type\":8}}", "quantization_config.scalar: argument 'type' must be a string"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"quantile\":0.99}}",
         "quantization_config.scalar: quantile 0.99 is not supported; engram's int8 quantization uses the whole "
         "range of values"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"quantile\":0.5}}", "quantile 0.5 is not supported"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"quantile\":2}}", "quantile 2 is not supported"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"quantile\":\"1\"}}",
         "quantization_config.scalar: argument 'quantile' must be a number"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"always_ram\":\"yes\"}}",
         "quantization_config.scalar: argument 'always_ram' must be true or false"},
        {"\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"memory\":\"ram\"}}",
         "quantization_config.scalar: unknown field 'memory'"},
        /* a good index configuration with a bad other argument */
        {"\"hnsw_config\":{\"m\":8},\"distance\":\"cosine\"", "cosine"},
        {"\"hnsw_config\":{\"m\":8},\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}},\"ef\":1",
         "unknown argument 'ef' for create_collection"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_EXEC(line_of("{\"op\":\"create_collection\",\"collection\":\"new\",\"dim\":4,%s}", bad[i].arguments),
                    "invalid_argument", bad[i].words);
        CHECK(!collection_exists("new"));
    }
    /* the same against an existing collection: refused before the configurations are compared, and unchanged */
    seed("old", ",\"hnsw_config\":{\"m\":8}", false);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_EXEC(line_of("{\"op\":\"create_collection\",\"collection\":\"old\",\"dim\":8,%s}", bad[i].arguments),
                    "invalid_argument", bad[i].words);
}

/* ---- exec: searches ----------------------------------------------------------------------------------------- */

/* The result of a search request built from a template holding one %s for the params fragment. */
static char *search_text(const char *template, const char *params) {
    json_t *result = RESULT(line_of(template, params));
    char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(result);
    return text;
}

TEST(exec_search_params_give_the_exact_answer) {
    seed("d", "", true);
    seed("q", ",\"quantization_config\":{\"scalar\":{\"type\":\"int8\"}}", true);
    static const char *const params[] = {
        "",
        ",\"params\":null",
        ",\"params\":{}",
        ",\"params\":{\"exact\":true}",
        ",\"params\":{\"exact\":false}",
        ",\"params\":{\"hnsw_ef\":1}",
        ",\"params\":{\"hnsw_ef\":128,\"exact\":false}",
        ",\"params\":{\"hnsw_ef\":10000,\"exact\":true}",
        ",\"params\":{\"hnsw_ef\":null,\"exact\":null,\"quantization\":null}",
        ",\"params\":{\"quantization\":{}}",
        ",\"params\":{\"quantization\":{\"oversampling\":1}}",
        ",\"params\":{\"quantization\":{\"oversampling\":2.5,\"rescore\":true,\"ignore\":false}}",
        ",\"params\":{\"hnsw_ef\":16,\"quantization\":{\"oversampling\":100,\"rescore\":null}}",
    };
    static const char *const collections[] = {"d", "q"};
    char vector[512];
    for (unsigned q = 0; q < 4; q++) {
        json_t *v = vector_json(1000 + q);
        char *vtext = json_dumps(v, JSON_COMPACT);
        snprintf(vector, sizeof vector, "%s", vtext);
        free(vtext);
        json_decref(v);
        for (size_t c = 0; c < 2; c++) {
            char search[1024], hybrid[1024], filtered[1024];
            snprintf(search, sizeof search,
                     "{\"op\":\"search\",\"collection\":\"%s\",\"vector\":%s,\"limit\":7,\"offset\":%u%%s}",
                     collections[c], vector, q);
            snprintf(filtered, sizeof filtered,
                     "{\"op\":\"search\",\"collection\":\"%s\",\"vector\":%s,\"limit\":5,\"with_vectors\":true,"
                     "\"filter\":{\"must\":[{\"key\":\"even\",\"match\":{\"value\":true}}]}%%s}",
                     collections[c], vector);
            snprintf(hybrid, sizeof hybrid,
                     "{\"op\":\"search_hybrid\",\"collection\":\"%s\",\"dense_vector\":%s,"
                     "\"sparse_vector\":{\"indices\":[%u,9],\"values\":[1,0.5]},\"limit\":6%%s}",
                     collections[c], vector, q);
            const char *templates[] = {search, filtered, hybrid};
            for (size_t t = 0; t < 3; t++) {
                char *want = search_text(templates[t], "");
                CHECK(strlen(want) > 10); /* a non-empty answer */
                for (size_t p = 1; p < sizeof params / sizeof params[0]; p++) {
                    char *got = search_text(templates[t], params[p]);
                    if (strcmp(got, want) != 0) {
                        fprintf(stderr, "  %s with %s:\n    %s\n    without params: %s\n", collections[c], params[p],
                                got, want);
                        test_failures_in_current++;
                    }
                    free(got);
                }
                free(want);
            }
        }
    }
}

TEST(exec_refuses_bad_search_params) {
    seed("h", "", true);
    static const struct {
        const char *params, *words;
    } bad[] = {
        {"16", "argument 'params' must be a JSON object"},
        {"[]", "argument 'params' must be a JSON object"},
        {"{\"hnsw_ef\":0}", "params: argument 'hnsw_ef' must be from 1 to 10000, got 0"},
        {"{\"hnsw_ef\":-1}", "params: argument 'hnsw_ef' must be from 1 to 10000, got -1"},
        {"{\"hnsw_ef\":10001}", "params: argument 'hnsw_ef' must be from 1 to 10000, got 10001"},
        {"{\"hnsw_ef\":1.5}", "params: argument 'hnsw_ef' must be an integer"},
        {"{\"hnsw_ef\":\"64\"}", "params: argument 'hnsw_ef' must be an integer"},
        {"{\"exact\":1}", "params: argument 'exact' must be true or false"},
        {"{\"exact\":\"true\"}", "params: argument 'exact' must be true or false"},
        {"{\"indexed_only\":false}", "params: unknown field 'indexed_only'"},
        {"{\"acorn\":{\"enable\":true}}", "params: unknown field 'acorn'"},
        {"{\"hnsw_ef\":64,\"ef\":64}", "params: unknown field 'ef'"},
        {"{\"quantization\":true}", "params: argument 'quantization' must be a JSON object"},
        {"{\"quantization\":{\"oversampling\":0}}",
         "params.quantization: argument 'oversampling' must be from 1 to 100, got 0"},
        {"{\"quantization\":{\"oversampling\":0.99}}",
         "params.quantization: argument 'oversampling' must be from 1 to 100, got 0.99"},
        {"{\"quantization\":{\"oversampling\":-2}}", "argument 'oversampling' must be from 1 to 100, got -2"},
        {"{\"quantization\":{\"oversampling\":100.01}}", "argument 'oversampling' must be from 1 to 100, got 100.01"},
        {"{\"quantization\":{\"oversampling\":1e300}}", "argument 'oversampling' must be from 1 to 100"},
        {"{\"quantization\":{\"oversampling\":\"2\"}}", "params.quantization: argument 'oversampling' must be a number"},
        {"{\"quantization\":{\"rescore\":false}}",
         "params.quantization: rescore false is not supported; engram always rescores the candidates with the stored "
         "vectors"},
        {"{\"quantization\":{\"rescore\":\"yes\"}}", "params.quantization: argument 'rescore' must be true or false"},
        {"{\"quantization\":{\"ignore\":true}}",
         "params.quantization: ignore true is not supported; engram cannot ignore a collection's quantization"},
        {"{\"quantization\":{\"ignore\":0}}", "params.quantization: argument 'ignore' must be true or false"},
        {"{\"quantization\":{\"oversampling\":2,\"rescore\":false,\"ignore\":true}}", "rescore false is not supported"},
        {"{\"quantization\":{\"rescore\":true,\"oversample\":2}}", "params.quantization: unknown field 'oversample'"},
        {"{\"exact\":true,\"quantization\":{\"ignore\":true}}", "ignore true is not supported"},
    };
    const char *vector = "[1,0,0,0,0,0,0,0.5]";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_EXEC(line_of("{\"op\":\"search\",\"collection\":\"h\",\"vector\":%s,\"params\":%s}", vector, bad[i].params),
                    "invalid_argument", bad[i].words);
        EXPECT_EXEC(line_of("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":%s,"
                            "\"sparse_vector\":{\"indices\":[1],\"values\":[1]},\"params\":%s}",
                            vector, bad[i].params),
                    "invalid_argument", bad[i].words);
        /* with a filter too (read after the params): nothing leaks, nothing changes */
        EXPECT_EXEC(line_of("{\"op\":\"search\",\"collection\":\"h\",\"vector\":%s,\"filter\":{\"must\":[{\"key\":"
                            "\"even\",\"match\":{\"value\":true}}]},\"params\":%s}",
                            vector, bad[i].params),
                    "invalid_argument", bad[i].words);
    }
    /* params is an argument of the searches only */
    EXPECT_EXEC("{\"op\":\"scroll\",\"collection\":\"h\",\"params\":{\"exact\":true}}", "invalid_argument",
                "unknown argument 'params' for scroll");
    EXPECT_EXEC("{\"op\":\"count\",\"collection\":\"h\",\"params\":{}}", "invalid_argument",
                "unknown argument 'params' for count");
}

int main(void) {
    RUN_FRESH(c_api_refuses_bad_collection_parameters);
    RUN_FRESH(c_api_accepts_the_bounds);
    RUN_FRESH(c_api_defaults_and_explicit_values_are_reported_and_kept);
    RUN_FRESH(c_api_create_again_is_a_no_op_or_a_conflict);
    RUN_FRESH(c_api_refuses_bad_search_parameters);
    RUN_FRESH(c_api_search_parameters_do_not_change_an_exact_answer);
    RUN_FRESH(exec_collection_parameters_round_trip);
    RUN_FRESH(exec_refuses_bad_collection_parameters);
    RUN_FRESH(exec_search_params_give_the_exact_answer);
    RUN_FRESH(exec_refuses_bad_search_params);
    return test_summary();
}
