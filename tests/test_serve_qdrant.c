/* test_serve_qdrant.c — Qdrant's collection, alias, payload-index and point routes through the router
 * (eg_serve_route, no sockets): for every route the status, Qdrant's envelope and the body; for every refusal the
 * status, the message, and that nothing changed (the whole state — collections, their info, every point with its
 * vectors and payload, the aliases — is the same before and after). The catalog's persistence (reopen, a corrupt
 * file) is tested on the folder itself. */
#include "serve/qdrant_shapes.h"
#include "test.h"

#include <pthread.h>
#include <stdarg.h>

static eg_db *db;
static eg_serve_ctx ctx;
static const char *data_dir;

static void open_server(const char *dir) {
    eg_error err;
    eg_options options = {.durability = EG_DURABILITY_NONE};
    if (eg_open(dir, &options, &db, &err) != EG_OK || eg_serve_metrics_new(&ctx.metrics, &err) != EG_OK ||
        eg_catalog_open(db, &ctx.catalog, &err) != EG_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        exit(2);
    }
    ctx.db = db;
}

static void close_server(void) {
    eg_catalog_free(ctx.catalog);
    eg_serve_metrics_free(ctx.metrics);
    eg_close(db);
    memset(&ctx, 0, sizeof ctx);
    db = NULL;
}

static void fresh_server(void) {
    data_dir = test_data_dir();
    open_server(data_dir);
}

typedef struct answer {
    unsigned status;
    json_t *json; /* the whole body */
} answer;

/* One request; target may carry a query ("/collections/x/points?wait=true"). */
static answer call(const char *method, const char *target, const char *body) {
    char path[1024], query[512] = "";
    snprintf(path, sizeof path, "%s", target);
    char *q = strchr(path, '?');
    eg_http_param params[8];
    size_t count = 0;
    if (q) {
        *q = '\0';
        snprintf(query, sizeof query, "%s", q + 1);
        for (char *save, *pair = strtok_r(query, "&", &save); pair && count < 8; pair = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(pair, '=');
            if (eq) *eq = '\0';
            params[count++] = (eg_http_param){pair, eq ? eq + 1 : ""};
        }
    }
    eg_http_request req = {.method = method, .path = path, .params = params, .param_count = count, .body = body,
                           .body_len = body ? strlen(body) : 0};
    eg_http_response resp;
    eg_serve_route(&ctx, &req, &resp);
    answer a = {resp.status, json_loadb(resp.body ? resp.body : "", resp.body_len, JSON_DECODE_ANY, NULL)};
    free(resp.body);
    return a;
}

/* The result of a 200 answer in Qdrant's envelope (a new reference), or NULL after reporting what came instead. */
static json_t *ok_at(int line, const char *method, const char *target, const char *body) {
    answer a = call(method, target, body);
    json_t *status = json_object_get(a.json, "status");
    if (a.status != 200 || !json_is_string(status) || strcmp(json_string_value(status), "ok") != 0 ||
        !json_is_number(json_object_get(a.json, "time")) || !json_object_get(a.json, "result")) {
        char *text = a.json ? json_dumps(a.json, JSON_COMPACT) : NULL;
        fprintf(stderr, "  line %d: %s %s -> %u %s\n", line, method, target, a.status, text ? text : "(not JSON)");
        free(text);
        test_failures_in_current++;
        json_decref(a.json);
        return NULL;
    }
    json_t *result = json_incref(json_object_get(a.json, "result"));
    json_decref(a.json);
    return result;
}
#define OK(method, target, body) ok_at(__LINE__, method, target, body)

/* Checks a 200 answer whose result equals expected (JSON text). */
static void expect_at(int line, const char *method, const char *target, const char *body, const char *expected) {
    json_t *result = ok_at(line, method, target, body);
    json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);
    if (result && (!want || !json_equal(result, want))) {
        char *got = json_dumps(result, JSON_COMPACT);
        fprintf(stderr, "  line %d: %s %s\n    expected %s\n    got      %s\n", line, method, target, expected, got);
        free(got);
        test_failures_in_current++;
    }
    json_decref(want);
    json_decref(result);
}
#define EXPECT(method, target, body, expected) expect_at(__LINE__, method, target, body, expected)

/* Everything a request could change, as text: each collection's info and every point (vectors, payload), and the
 * aliases. */
static char *state(void) {
    json_t *all = json_object();
    json_t *list = OK("GET", "/collections", NULL);
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(list, "collections"), i, entry) {
        char target[512];
        const char *name = json_string_value(json_object_get(entry, "name"));
        snprintf(target, sizeof target, "/collections/%s", name);
        json_t *info = OK("GET", target, NULL);
        snprintf(target, sizeof target, "/collections/%s/points/scroll", name);
        json_t *points = OK("POST", target, "{\"limit\":100000,\"with_vector\":true}");
        json_object_set_new(all, name, json_pack("{s:o, s:o}", "info", info ? info : json_null(), "points",
                                                 points ? points : json_null()));
    }
    json_decref(list);
    json_object_set_new(all, "(aliases)", OK("GET", "/aliases", NULL));
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    return text;
}

/* Checks a refusal: the status, Qdrant's error envelope with a message holding `needle`, and no change at all. */
static void refused_at(int line, const char *method, const char *target, const char *body, unsigned status,
                       const char *needle) {
    char *before = state();
    answer a = call(method, target, body);
    const char *message = json_string_value(json_object_get(json_object_get(a.json, "status"), "error"));
    if (a.status != status || !message || !strstr(message, needle) || !json_is_number(json_object_get(a.json, "time")) ||
        json_object_get(a.json, "result")) {
        char *text = a.json ? json_dumps(a.json, JSON_COMPACT) : NULL;
        fprintf(stderr, "  line %d: %s %s %s\n    expected %u with \"%s\"\n    got      %u %s\n", line, method, target,
                body ? body : "", status, needle, a.status, text ? text : "(not JSON)");
        free(text);
        test_failures_in_current++;
    }
    json_decref(a.json);
    char *after = state();
    if (strcmp(before, after) != 0) {
        fprintf(stderr, "  line %d: a refused %s %s changed the state\n    before %.400s\n    after  %.400s\n", line,
                method, target, before, after);
        test_failures_in_current++;
    }
    free(before);
    free(after);
}
#define REFUSED(method, target, body, status, needle) refused_at(__LINE__, method, target, body, status, needle)

static json_t *member(json_t *value, const char *path) {
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *save, *key = strtok_r(copy, ".", &save); key && value; key = strtok_r(NULL, ".", &save))
        value = json_object_get(value, key);
    return value;
}

static void create_plain(const char *name, unsigned dim) {
    char target[256], body[256];
    snprintf(target, sizeof target, "/collections/%s", name);
    snprintf(body, sizeof body, "{\"vectors\":{\"size\":%u,\"distance\":\"Dot\"}}", dim);
    EXPECT("PUT", target, body, "true");
}

/* ---- Collections ------------------------------------------------------------------------------------------- */

TEST(create_get_list_exists_and_delete_a_collection) {
    fresh_server();
    EXPECT("GET", "/collections", NULL, "{\"collections\":[]}");
    EXPECT("PUT", "/collections/docs?timeout=10", "{\"vectors\":{\"size\":4,\"distance\":\"Cosine\"}}", "true");
    EXPECT("GET", "/collections", NULL, "{\"collections\":[{\"name\":\"docs\"}]}");
    EXPECT("GET", "/collections/docs/exists", NULL, "{\"exists\":true}");
    EXPECT("GET", "/collections/nope/exists", NULL, "{\"exists\":false}");
    json_t *info = OK("GET", "/collections/docs", NULL);
    REQUIRE(info);
    CHECK(strcmp(json_string_value(member(info, "status")), "green") == 0);
    CHECK(strcmp(json_string_value(member(info, "optimizer_status")), "ok") == 0);
    CHECK(json_integer_value(member(info, "points_count")) == 0);
    CHECK(json_integer_value(member(info, "segments_count")) == 1);
    CHECK(json_integer_value(member(info, "config.params.vectors.size")) == 4);
    CHECK(strcmp(json_string_value(member(info, "config.params.vectors.distance")), "Cosine") == 0);
    CHECK(json_integer_value(member(info, "config.params.shard_number")) == 1);
    CHECK(json_integer_value(member(info, "config.hnsw_config.m")) == EG_HNSW_M_DEFAULT);
    CHECK(json_integer_value(member(info, "config.hnsw_config.ef_construct")) == EG_HNSW_EF_CONSTRUCT_DEFAULT);
    CHECK(json_is_integer(member(info, "config.optimizer_config.default_segment_number")));
    CHECK(json_is_integer(member(info, "config.optimizer_config.flush_interval_sec")));
    CHECK(json_is_null(member(info, "config.quantization_config")));
    CHECK(json_is_object(member(info, "payload_schema")) && json_object_size(member(info, "payload_schema")) == 0);
    CHECK(!member(info, "config.params.sparse_vectors"));
    json_decref(info);
    EXPECT("DELETE", "/collections/docs", NULL, "true");
    EXPECT("DELETE", "/collections/docs", NULL, "false");
    EXPECT("GET", "/collections/docs/exists", NULL, "{\"exists\":false}");
    REFUSED("GET", "/collections/docs", NULL, 404, "Not found: Collection `docs` doesn't exist!");
    close_server();
}

TEST(create_with_named_vectors_hnsw_and_int8_reports_them) {
    fresh_server();
    EXPECT("PUT", "/collections/hybrid",
           "{\"vectors\":{\"dense\":{\"size\":8,\"distance\":\"Euclid\",\"on_disk\":true,\"datatype\":\"float32\"}},"
           "\"sparse_vectors\":{\"text\":{\"modifier\":\"none\",\"index\":{\"on_disk\":false}}},"
           "\"hnsw_config\":{\"m\":32,\"ef_construct\":200,\"full_scan_threshold\":20},"
           "\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"always_ram\":true}},"
           "\"shard_number\":1,\"replication_factor\":1,\"on_disk_payload\":true,"
           "\"optimizers_config\":{\"indexing_threshold\":0},\"wal_config\":{\"wal_capacity_mb\":32}}",
           "true");
    json_t *info = OK("GET", "/collections/hybrid", NULL);
    REQUIRE(info);
    CHECK(json_integer_value(member(info, "config.params.vectors.dense.size")) == 8);
    CHECK(strcmp(json_string_value(member(info, "config.params.vectors.dense.distance")), "Euclid") == 0);
    CHECK(json_is_object(member(info, "config.params.sparse_vectors.text")));
    CHECK(json_integer_value(member(info, "config.hnsw_config.m")) == 32);
    CHECK(json_integer_value(member(info, "config.hnsw_config.ef_construct")) == 200);
    /* 20 KiB of 8-float vectors is 640 points, reported back as the same 20 KiB. */
    CHECK(json_integer_value(member(info, "config.hnsw_config.full_scan_threshold")) == 20);
    CHECK(strcmp(json_string_value(member(info, "config.quantization_config.scalar.type")), "int8") == 0);
    json_decref(info);
    eg_collection_info engram_view;
    eg_error err;
    CHECK_OK(eg_vectors_get_collection(eg_db_vectors(db), "hybrid", &engram_view, &err), &err);
    CHECK(engram_view.config.full_scan_threshold == 640 && engram_view.config.sparse);
    eg_collection_info_clear(&engram_view);
    close_server();
}

TEST(creating_an_existing_collection_or_an_alias_name_is_refused) {
    fresh_server();
    create_plain("docs", 4);
    REFUSED("PUT", "/collections/docs", "{\"vectors\":{\"size\":4,\"distance\":\"Dot\"}}", 409,
            "Wrong input: Collection `docs` already exists!");
    EXPECT("POST", "/collections/aliases", "{\"actions\":[{\"create_alias\":{\"collection_name\":\"docs\",\"alias_name\":\"prod\"}}]}",
           "true");
    REFUSED("PUT", "/collections/prod", "{\"vectors\":{\"size\":4,\"distance\":\"Dot\"}}", 400,
            "Can't create collection with name prod. Alias with the same name already exists");
    close_server();
}

TEST(every_unsupported_or_malformed_create_is_refused_by_name) {
    fresh_server();
    static const struct {
        const char *body;
        unsigned status;
        const char *needle;
    } cases[] = {
        {NULL, 400, "body is required"},
        {"{}", 400, "without a dense vector"},
        {"[1]", 400, "must be a JSON object"},
        {"{\"vectors\":{\"size\":0,\"distance\":\"Dot\"}}", 422, "Validation error in JSON body: [vectors.size: value 0"},
        {"{\"vectors\":{\"size\":70000,\"distance\":\"Dot\"}}", 422, "vectors.size"},
        {"{\"vectors\":{\"size\":\"4\",\"distance\":\"Dot\"}}", 400, "Format error in JSON body: vectors.size"},
        {"{\"vectors\":{\"size\":4}}", 400, "missing field `distance`"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Hamming\"}}", 400, "unknown variant"},
        {"{\"vectors\":{\"a\":{\"size\":4,\"distance\":\"Dot\"},\"b\":{\"size\":4,\"distance\":\"Dot\"}}}", 400,
         "2 named dense vectors"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\",\"multivector_config\":{\"comparator\":\"max_sim\"}}}", 400,
         "multivectors"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\",\"datatype\":\"uint8\"}}", 400, "datatype uint8"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"shard_number\":2}", 400, "shard_number 2"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"replication_factor\":3}", 400, "replication_factor 3"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"shard_number\":0}", 422, "shard_number"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"sharding_method\":\"custom\"}", 400, "sharding_method custom"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"quantization_config\":{\"product\":{\"compression\":\"x4\"}}}",
         400, "product quantization is not supported"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"quantization_config\":{\"binary\":{}}}", 400, "binary"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"sparse_vectors\":{\"s\":{\"modifier\":\"idf\"}}}", 400,
         "modifier idf"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"sparse_vectors\":{\"s\":{},\"t\":{}}}", 400,
         "2 named sparse vectors"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"metadata\":{\"owner\":\"x\"}}", 400, "metadata"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"strict_mode_config\":{\"enabled\":true}}", 400, "strict mode"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"hnsw_config\":{\"m\":0}}", 400, "hnsw_config.m 0"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"hnsw_config\":{\"ef_construct\":2}}", 422,
         "[hnsw_config.ef_construct: value 2 invalid, must be 4 or larger]"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"hnsw_config\":{\"payload_m\":16}}", 400, "payload_m"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"hnsw_config\":{\"full_scan_threshold\":5}}", 422,
         "full_scan_threshold"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"colour\":\"blue\"}", 400, "unknown field `colour`"},
        {"{\"vectors\":{\"size\":4,\"distance\":\"Dot\"},\"wal_config\":{\"wal_size\":1}}", 400, "unknown field `wal_size`"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        REFUSED("PUT", "/collections/refused", cases[i].body, cases[i].status, cases[i].needle);
    REFUSED("PUT", "/collections/refused?timeout=soon", "{\"vectors\":{\"size\":4,\"distance\":\"Dot\"}}", 400,
            "Deserialize error in query parameters");
    char long_name[300], target[320];
    memset(long_name, 'n', 256);
    long_name[256] = '\0';
    snprintf(target, sizeof target, "/collections/%s", long_name);
    REFUSED("PUT", target, "{\"vectors\":{\"size\":4,\"distance\":\"Dot\"}}", 422, "Validation error in path parameters");
    close_server();
}

TEST(update_accepts_only_what_changes_nothing) {
    fresh_server();
    create_plain("docs", 4);
    EXPECT("PATCH", "/collections/docs", "{\"optimizers_config\":{\"indexing_threshold\":20000}}", "true");
    EXPECT("PATCH", "/collections/docs", NULL, "true");
    REFUSED("PATCH", "/collections/docs", "{\"hnsw_config\":{\"m\":8}}", 400, "changing `hnsw_config`");
    REFUSED("PATCH", "/collections/docs", "{\"params\":{\"replication_factor\":2}}", 400, "changing `params`");
    REFUSED("PATCH", "/collections/docs", "{\"optimizers_config\":{\"speed\":1}}", 400, "unknown field `speed`");
    REFUSED("PATCH", "/collections/nope", "{}", 404, "Collection `nope` doesn't exist!");
    close_server();
}

/* ---- Aliases ----------------------------------------------------------------------------------------------- */

#define ALIASES "/collections/aliases"

TEST(aliases_are_created_renamed_listed_resolved_and_deleted) {
    fresh_server();
    create_plain("a", 2);
    create_plain("b", 2);
    EXPECT("POST", ALIASES,
           "{\"actions\":[{\"create_alias\":{\"collection_name\":\"a\",\"alias_name\":\"live\"}},"
           "{\"create_alias\":{\"collection_name\":\"a\",\"alias_name\":\"old\"}}]}",
           "true");
    EXPECT("GET", "/aliases", NULL,
           "{\"aliases\":[{\"alias_name\":\"live\",\"collection_name\":\"a\"},{\"alias_name\":\"old\",\"collection_name\":\"a\"}]}");
    EXPECT("GET", "/collections/a/aliases", NULL,
           "{\"aliases\":[{\"alias_name\":\"live\",\"collection_name\":\"a\"},{\"alias_name\":\"old\",\"collection_name\":\"a\"}]}");
    EXPECT("GET", "/collections/b/aliases", NULL, "{\"aliases\":[]}");
    EXPECT("GET", "/collections/unknown/aliases", NULL, "{\"aliases\":[]}");
    EXPECT("GET", "/collections/live/exists", NULL, "{\"exists\":true}");
    json_decref(OK("PUT", "/collections/live/points", "{\"points\":[{\"id\":1,\"vector\":[1,0]}]}"));
    EXPECT("POST", "/collections/a/points/count", NULL, "{\"count\":1}");
    /* Repointing an existing alias, then a rename, in one request. */
    EXPECT("POST", ALIASES,
           "{\"actions\":[{\"create_alias\":{\"collection_name\":\"b\",\"alias_name\":\"live\"}},"
           "{\"rename_alias\":{\"old_alias_name\":\"old\",\"new_alias_name\":\"older\"}},"
           "{\"delete_alias\":{\"alias_name\":\"never-made\"}}]}",
           "true");
    EXPECT("GET", "/aliases", NULL,
           "{\"aliases\":[{\"alias_name\":\"live\",\"collection_name\":\"b\"},{\"alias_name\":\"older\",\"collection_name\":\"a\"}]}");
    EXPECT("POST", "/collections/live/points/count", NULL, "{\"count\":0}");
    /* Deleting through an alias name deletes nothing: Qdrant does not resolve aliases there. */
    EXPECT("DELETE", "/collections/older", NULL, "false");
    EXPECT("DELETE", "/collections/a", NULL, "true");
    EXPECT("GET", "/aliases", NULL, "{\"aliases\":[{\"alias_name\":\"live\",\"collection_name\":\"b\"}]}");
    EXPECT("POST", ALIASES, "{\"actions\":[{\"delete_alias\":{\"alias_name\":\"live\"}}]}", "true");
    EXPECT("GET", "/aliases", NULL, "{\"aliases\":[]}");
    close_server();
}

TEST(alias_changes_are_all_or_nothing_and_refusals_name_the_problem) {
    fresh_server();
    create_plain("a", 2);
    const char *create_then_fail =
        "{\"actions\":[{\"create_alias\":{\"collection_name\":\"a\",\"alias_name\":\"first\"}},"
        "{\"create_alias\":{\"collection_name\":\"missing\",\"alias_name\":\"second\"}}]}";
    REFUSED("POST", ALIASES, create_then_fail, 404, "Not found: Collection `missing` doesn't exist!");
    REFUSED("POST", ALIASES, "{\"actions\":[{\"rename_alias\":{\"old_alias_name\":\"x\",\"new_alias_name\":\"y\"}}]}",
            404, "Not found: Alias x does not exists!");
    REFUSED("POST", ALIASES, "{\"actions\":[{\"create_alias\":{\"collection_name\":\"a\",\"alias_name\":\"a\"}}]}", 409,
            "Collection `a` already exists!");
    REFUSED("POST", ALIASES, "{\"actions\":[{\"make_alias\":{}}]}", 400, "actions[0] must be one of");
    REFUSED("POST", ALIASES, "{\"actions\":[{\"create_alias\":{\"collection_name\":\"a\"}}]}", 400,
            "missing field `alias_name`");
    REFUSED("POST", ALIASES, "{\"actions\":[{\"create_alias\":{\"collection_name\":\"a\",\"alias_name\":\"x/y\"}}]}", 422,
            "actions[0].create_alias.alias_name");
    REFUSED("POST", ALIASES, "{}", 400, "missing field `actions`");
    REFUSED("POST", ALIASES, "{\"actions\":{}}", 400, "actions must be a list");
    close_server();
}

TEST(the_catalog_survives_a_restart_and_a_corrupt_one_stops_the_server) {
    fresh_server();
    EXPECT("PUT", "/collections/named", "{\"vectors\":{\"img\":{\"size\":2,\"distance\":\"Dot\"}}}", "true");
    EXPECT("POST", ALIASES, "{\"actions\":[{\"create_alias\":{\"collection_name\":\"named\",\"alias_name\":\"pics\"}}]}",
           "true");
    json_decref(OK("PUT", "/collections/pics/points", "{\"points\":[{\"id\":7,\"vector\":{\"img\":[0.5,1]}}]}"));
    close_server();
    open_server(data_dir);
    EXPECT("GET", "/aliases", NULL, "{\"aliases\":[{\"alias_name\":\"pics\",\"collection_name\":\"named\"}]}");
    EXPECT("GET", "/collections/pics/points/7", NULL,
           "{\"id\":7,\"payload\":{},\"vector\":{\"img\":[0.5,1.0]}}");
    close_server();

    char path[600];
    snprintf(path, sizeof path, "%s/serve/qdrant.json", data_dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("{\"format\":1,\"aliases\":{\"pics\":", f);
    fclose(f);
    eg_error err;
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_catalog *catalog = NULL;
    REQUIRE(eg_open(data_dir, &options, &db, &err) == EG_OK);
    CHECK_STATUS(eg_catalog_open(db, &catalog, &err), EG_CORRUPT, &err);
    CHECK(strstr(err.message, "serve/qdrant.json") != NULL);
    CHECK(catalog == NULL);
    f = fopen(path, "w");
    REQUIRE(f);
    fputs("{\"format\":1,\"aliases\":{\"pics\":3},\"layouts\":{}}", f);
    fclose(f);
    CHECK_STATUS(eg_catalog_open(db, &catalog, &err), EG_CORRUPT, &err);
    eg_close(db);
    db = NULL;
}

/* ---- Payload indexes --------------------------------------------------------------------------------------- */

TEST(payload_indexes_are_created_replaced_reported_and_deleted) {
    fresh_server();
    create_plain("docs", 2);
    json_decref(OK("PUT", "/collections/docs/points",
           "{\"points\":[{\"id\":1,\"vector\":[1,0],\"payload\":{\"city\":\"Oslo\",\"n\":1}},"
           "{\"id\":2,\"vector\":[0,1],\"payload\":{\"city\":\"Rome\"}},{\"id\":3,\"vector\":[1,1]}]}"));
    json_t *r = OK("PUT", "/collections/docs/index?wait=true&ordering=strong",
                   "{\"field_name\":\"city\",\"field_schema\":\"keyword\"}");
    CHECK(r && strcmp(json_string_value(json_object_get(r, "status")), "completed") == 0);
    json_decref(r);
    r = OK("PUT", "/collections/docs/index", "{\"field_name\":\"n\",\"field_schema\":{\"type\":\"integer\",\"lookup\":true}}");
    json_decref(r);
    json_t *info = OK("GET", "/collections/docs", NULL);
    json_t *want = json_loads("{\"city\":{\"data_type\":\"keyword\",\"points\":2},\"n\":{\"data_type\":\"integer\",\"points\":1}}",
                              0, NULL);
    CHECK(json_equal(member(info, "payload_schema"), want));
    json_decref(want);
    json_decref(info);
    /* Another type replaces the index, as in Qdrant. */
    json_decref(OK("PUT", "/collections/docs/index", "{\"field_name\":\"n\",\"field_schema\":\"float\"}"));
    info = OK("GET", "/collections/docs", NULL);
    CHECK(strcmp(json_string_value(member(info, "payload_schema.n.data_type")), "float") == 0);
    json_decref(info);
    json_decref(OK("DELETE", "/collections/docs/index/n", NULL));
    json_decref(OK("DELETE", "/collections/docs/index/never-indexed", NULL));
    info = OK("GET", "/collections/docs", NULL);
    CHECK(json_object_size(member(info, "payload_schema")) == 1);
    json_decref(info);
    EXPECT("POST", "/collections/docs/points/count", "{\"filter\":{\"must\":[{\"key\":\"city\",\"match\":{\"value\":\"Rome\"}}]}}",
           "{\"count\":1}");

    REFUSED("PUT", "/collections/docs/index", "{\"field_name\":\"g\",\"field_schema\":\"geo\"}", 400,
            "geo payload indexes are not supported");
    REFUSED("PUT", "/collections/docs/index", "{\"field_name\":\"g\",\"field_schema\":\"colour\"}", 400, "unknown variant");
    REFUSED("PUT", "/collections/docs/index", "{\"field_name\":\"g\"}", 400, "field_schema is required");
    REFUSED("PUT", "/collections/docs/index", "{\"field_schema\":\"keyword\"}", 400, "missing field `field_name`");
    REFUSED("PUT", "/collections/docs/index", "{\"field_name\":\"a..b\",\"field_schema\":\"keyword\"}", 400, "Wrong input");
    REFUSED("PUT", "/collections/docs/index", "{\"field_name\":\"g\",\"field_schema\":{\"type\":\"keyword\",\"x\":1}}", 400,
            "unknown field `x`");
    REFUSED("PUT", "/collections/docs/index?wait=maybe", "{\"field_name\":\"g\",\"field_schema\":\"keyword\"}", 400,
            "Deserialize error in query parameters");
    REFUSED("PUT", "/collections/nope/index", "{\"field_name\":\"g\",\"field_schema\":\"keyword\"}", 404,
            "Collection `nope` doesn't exist!");
    REFUSED("DELETE", "/collections/nope/index/city", NULL, 404, "Collection `nope` doesn't exist!");
    close_server();
}

/* ---- Points ------------------------------------------------------------------------------------------------ */

static const char *const THREE_POINTS =
    "{\"points\":[{\"id\":1,\"vector\":[1,0,0],\"payload\":{\"city\":\"Oslo\",\"meta\":{\"a\":1,\"b\":2},\"tags\":[\"x\"]}},"
    "{\"id\":2,\"vector\":[0,1,0],\"payload\":{\"city\":\"Rome\"}},"
    "{\"id\":\"5c56c793-69f3-4fbf-87e6-c4bf54c28c26\",\"vector\":[0,0,1]}]}";

TEST(upsert_retrieve_and_get_points) {
    fresh_server();
    create_plain("docs", 3);
    json_decref(OK("PUT", "/collections/docs/points?wait=true", THREE_POINTS));
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[2,1,99]}",
           "[{\"id\":2,\"payload\":{\"city\":\"Rome\"}},"
           "{\"id\":1,\"payload\":{\"city\":\"Oslo\",\"meta\":{\"a\":1,\"b\":2},\"tags\":[\"x\"]}}]");
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[1],\"with_payload\":false,\"with_vector\":true}",
           "[{\"id\":1,\"vector\":[1.0,0.0,0.0]}]");
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[1],\"with_payload\":[\"city\",\"meta.b\"]}",
           "[{\"id\":1,\"payload\":{\"city\":\"Oslo\",\"meta\":{\"b\":2}}}]");
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[1],\"with_payload\":{\"include\":[\"meta\"]}}",
           "[{\"id\":1,\"payload\":{\"meta\":{\"a\":1,\"b\":2}}}]");
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[1],\"with_payload\":{\"exclude\":[\"meta.a\",\"tags\"]}}",
           "[{\"id\":1,\"payload\":{\"city\":\"Oslo\",\"meta\":{\"b\":2}}}]");
    EXPECT("GET", "/collections/docs/points/5c56c793-69f3-4fbf-87e6-c4bf54c28c26", NULL,
           "{\"id\":\"5c56c793-69f3-4fbf-87e6-c4bf54c28c26\",\"payload\":{},\"vector\":[0.0,0.0,1.0]}");
    REFUSED("GET", "/collections/docs/points/42", NULL, 404, "Not found: Point with id 42 does not exists!");
    REFUSED("GET", "/collections/docs/points/not-an-id", NULL, 400, "Can't parse point id");
    REFUSED("GET", "/collections/nope/points/1", NULL, 404, "Collection `nope` doesn't exist!");
    REFUSED("POST", "/collections/docs/points", "{}", 400, "missing field `ids`");
    REFUSED("POST", "/collections/docs/points", "{\"ids\":[-1]}", 400, "Format error in JSON body: ids[0]");
    REFUSED("POST", "/collections/docs/points", "{\"ids\":[1],\"with_payload\":{\"only\":[\"a\"]}}", 400, "with_payload");
    REFUSED("POST", "/collections/docs/points", "{\"ids\":[1],\"with_vector\":[\"image\"]}", 400,
            "Not existing vector name error: image");
    REFUSED("POST", "/collections/docs/points?consistency=none", "{\"ids\":[1]}", 400, "consistency");
    close_server();
}

TEST(upsert_forms_and_their_refusals) {
    fresh_server();
    create_plain("docs", 3);
    json_decref(OK("PUT", "/collections/docs/points",
                   "{\"batch\":{\"ids\":[10,11],\"vectors\":[[1,2,3],[4,5,6]],\"payloads\":[{\"k\":1},null]}}"));
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[10,11],\"with_vector\":true}",
           "[{\"id\":10,\"payload\":{\"k\":1},\"vector\":[1.0,2.0,3.0]},{\"id\":11,\"payload\":{},\"vector\":[4.0,5.0,6.0]}]");
    /* Two points with one id: the last is kept, as Qdrant applies them in order. */
    json_decref(OK("PUT", "/collections/docs/points",
                   "{\"points\":[{\"id\":12,\"vector\":[1,1,1],\"payload\":{\"v\":1}},{\"id\":12,\"vector\":[2,2,2],\"payload\":{\"v\":2}}]}"));
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[12]}", "[{\"id\":12,\"payload\":{\"v\":2}}]");

    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":20,\"vector\":[1,2]}]}", 400,
            "Wrong input: Vector dimension error: expected dim: 3, got 2");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":20,\"vector\":{\"image\":[1,2,3]}}]}", 400,
            "Not existing vector name error: image");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":20,\"vector\":[[1,2,3]]}]}", 400, "multivectors");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":20,\"vector\":{\"text\":\"hello\"}}]}", 400,
            "Not existing vector name error: text");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":20}]}", 400, "missing field `vector`");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"vector\":[1,2,3]}]}", 400, "missing field `id`");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":-3,\"vector\":[1,2,3]}]}", 400, "points[0].id");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":20,\"vector\":[1,2,3],\"payload\":[1]}]}", 400,
            "payload must be a JSON object");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[{\"id\":20,\"vector\":[1,2,3],\"colour\":1}]}", 400,
            "unknown field `colour`");
    /* A good point before a bad one: the request as a whole is refused. */
    REFUSED("PUT", "/collections/docs/points",
            "{\"points\":[{\"id\":21,\"vector\":[1,2,3]},{\"id\":22,\"vector\":[1,\"x\",3]}]}", 400, "vector[1]");
    REFUSED("PUT", "/collections/docs/points", "{\"batch\":{\"ids\":[1,2],\"vectors\":[[1,2,3]]}}", 422,
            "Validation error in JSON body: [batch:");
    REFUSED("PUT", "/collections/docs/points", "{\"batch\":{\"ids\":[1]}}", 400, "missing field `vectors`");
    REFUSED("PUT", "/collections/docs/points", "{}", 400, "PointInsertOperations");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[],\"shard_key\":\"a\"}", 400, "`shard_key` is not supported");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[],\"update_filter\":{\"must\":[]}}", 400, "update_filter");
    REFUSED("PUT", "/collections/docs/points", "{\"points\":[],\"update_mode\":\"insert_only\"}", 400, "update_mode");
    REFUSED("PUT", "/collections/docs/points?ordering=fast", "{\"points\":[]}", 400, "unknown variant `fast`");
    REFUSED("PUT", "/collections/nope/points", "{\"points\":[]}", 404, "Collection `nope` doesn't exist!");
    close_server();
}

TEST(named_and_sparse_vectors_round_trip_and_update) {
    fresh_server();
    EXPECT("PUT", "/collections/h",
           "{\"vectors\":{\"dense\":{\"size\":2,\"distance\":\"Dot\"}},\"sparse_vectors\":{\"words\":{}}}", "true");
    json_decref(OK("PUT", "/collections/h/points",
                   "{\"points\":[{\"id\":1,\"vector\":{\"dense\":[1,0],\"words\":{\"indices\":[3,7],\"values\":[0.5,1]}}},"
                   "{\"id\":2,\"vector\":{\"dense\":[0,1]}}]}"));
    EXPECT("POST", "/collections/h/points", "{\"ids\":[1,2],\"with_payload\":false,\"with_vector\":true}",
           "[{\"id\":1,\"vector\":{\"dense\":[1.0,0.0],\"words\":{\"indices\":[3,7],\"values\":[0.5,1.0]}}},"
           "{\"id\":2,\"vector\":{\"dense\":[0.0,1.0]}}]");
    json_decref(OK("PUT", "/collections/h/points/vectors",
                   "{\"points\":[{\"id\":2,\"vector\":{\"words\":{\"indices\":[1],\"values\":[2]}}},"
                   "{\"id\":1,\"vector\":{\"dense\":[2,2]}}]}"));
    EXPECT("POST", "/collections/h/points", "{\"ids\":[1,2],\"with_payload\":false,\"with_vector\":true}",
           "[{\"id\":1,\"vector\":{\"dense\":[2.0,2.0],\"words\":{\"indices\":[3,7],\"values\":[0.5,1.0]}}},"
           "{\"id\":2,\"vector\":{\"dense\":[0.0,1.0],\"words\":{\"indices\":[1],\"values\":[2.0]}}}]");
    json_decref(OK("POST", "/collections/h/points/vectors/delete", "{\"points\":[1],\"vector\":[\"words\"]}"));
    EXPECT("POST", "/collections/h/points", "{\"ids\":[1],\"with_payload\":false,\"with_vector\":[\"dense\"]}",
           "[{\"id\":1,\"vector\":{\"dense\":[2.0,2.0]}}]");

    REFUSED("PUT", "/collections/h/points", "{\"points\":[{\"id\":3,\"vector\":[1,0]}]}", 400,
            "Not existing vector name error: ");
    REFUSED("PUT", "/collections/h/points", "{\"points\":[{\"id\":3,\"vector\":{\"words\":{\"indices\":[1],\"values\":[1]}}}]}",
            400, "needs the dense vector `dense`");
    REFUSED("PUT", "/collections/h/points",
            "{\"points\":[{\"id\":3,\"vector\":{\"dense\":[1,0],\"words\":{\"indices\":[1,2],\"values\":[1]}}}]}", 400,
            "must pair up");
    REFUSED("POST", "/collections/h/points/vectors/delete", "{\"points\":[1],\"vector\":[\"dense\"]}", 400,
            "deleting the dense vector `dense`");
    REFUSED("POST", "/collections/h/points/vectors/delete", "{\"points\":[1],\"vector\":[]}", 422, "[vector: must not be empty]");
    REFUSED("POST", "/collections/h/points/vectors/delete", "{\"points\":[1],\"vector\":[\"img\"]}", 400, "img");
    REFUSED("PUT", "/collections/h/points/vectors", "{\"points\":[]}", 422, "[points: must not be empty]");
    REFUSED("PUT", "/collections/h/points/vectors", "{\"points\":[{\"id\":9,\"vector\":{\"dense\":[1,1]}}]}", 404,
            "Not found: No point with id 9 found");
    REFUSED("PUT", "/collections/h/points/vectors", "{\"points\":[{\"id\":1,\"vector\":{\"dense\":[1,1,1]}}]}", 400,
            "expected dim: 2, got 3");
    REFUSED("PUT", "/collections/h/points/vectors", "{\"points\":[{\"id\":1,\"vector\":{}}]}", 400, "no vector given");
    close_server();
}

TEST(payload_routes_by_ids_and_by_filter) {
    fresh_server();
    create_plain("docs", 3);
    json_decref(OK("PUT", "/collections/docs/points", THREE_POINTS));
    json_decref(OK("POST", "/collections/docs/points/payload", "{\"payload\":{\"seen\":true},\"points\":[1,2]}"));
    json_decref(OK("POST", "/collections/docs/points/payload",
                   "{\"payload\":{\"capital\":true},\"filter\":{\"must\":[{\"key\":\"city\",\"match\":{\"any\":[\"Oslo\",\"Rome\"]}}]}}"));
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[2]}",
           "[{\"id\":2,\"payload\":{\"city\":\"Rome\",\"seen\":true,\"capital\":true}}]");
    json_decref(OK("PUT", "/collections/docs/points/payload", "{\"payload\":{\"only\":1},\"points\":[2]}"));
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[2]}", "[{\"id\":2,\"payload\":{\"only\":1}}]");
    json_decref(OK("POST", "/collections/docs/points/payload/delete", "{\"keys\":[\"meta\",\"\\\"tags\\\"\"],\"points\":[1]}"));
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[1]}",
           "[{\"id\":1,\"payload\":{\"city\":\"Oslo\",\"seen\":true,\"capital\":true}}]");
    json_decref(OK("POST", "/collections/docs/points/payload/clear", "{\"filter\":{\"must\":[{\"has_id\":[1]}]}}"));
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[1]}", "[{\"id\":1,\"payload\":{}}]");

    REFUSED("POST", "/collections/docs/points/payload", "{\"payload\":{\"a\":1},\"points\":[1,77]}", 404,
            "Not found: No point with id 77 found");
    REFUSED("POST", "/collections/docs/points/payload", "{\"payload\":{\"a\":1},\"points\":[1],\"key\":\"meta\"}", 400,
            "`key`");
    REFUSED("POST", "/collections/docs/points/payload", "{\"payload\":{\"a\":1}}", 400, "`points` (a list of ids) or `filter`");
    REFUSED("POST", "/collections/docs/points/payload", "{\"payload\":{\"a\":1},\"points\":[1],\"filter\":{}}", 400,
            "not both");
    REFUSED("POST", "/collections/docs/points/payload", "{\"points\":[1]}", 400, "missing field `payload`");
    REFUSED("POST", "/collections/docs/points/payload", "{\"payload\":5,\"points\":[1]}", 400, "payload must be a JSON object");
    REFUSED("PUT", "/collections/docs/points/payload",
            "{\"payload\":{},\"filter\":{\"must\":[{\"key\":\"city\",\"geo_radius\":{}}]}}", 400, "Format error in JSON body: filter");
    REFUSED("POST", "/collections/docs/points/payload/delete", "{\"keys\":[\"meta.a\"],\"points\":[1]}", 400,
            "nested payload path");
    REFUSED("POST", "/collections/docs/points/payload/delete", "{\"points\":[1]}", 400, "missing field `keys`");
    REFUSED("POST", "/collections/docs/points/payload/delete", "{\"keys\":[\"a\"],\"points\":[1,78]}", 404, "78");
    REFUSED("POST", "/collections/docs/points/payload/clear", "{}", 400, "`points` (a list of ids) or `filter`");
    REFUSED("POST", "/collections/nope/points/payload/clear", "{\"points\":[1]}", 404, "doesn't exist!");
    close_server();
}

TEST(delete_by_ids_and_by_filter) {
    fresh_server();
    create_plain("docs", 3);
    json_decref(OK("PUT", "/collections/docs/points", THREE_POINTS));
    json_decref(OK("POST", "/collections/docs/points/delete?wait=false", "{\"points\":[1,404]}"));
    EXPECT("POST", "/collections/docs/points/count", "{}", "{\"count\":2}");
    json_decref(OK("POST", "/collections/docs/points/delete", "{\"filter\":{\"must\":[{\"key\":\"city\",\"match\":{\"value\":\"Rome\"}}]}}"));
    EXPECT("POST", "/collections/docs/points/count", "{\"exact\":false}", "{\"count\":1}");
    REFUSED("POST", "/collections/docs/points/delete", "{}", 400, "`points` (a list of ids) or `filter`");
    REFUSED("POST", "/collections/docs/points/delete", "{\"filter\":{\"must\":[{\"nested\":{}}]}}", 400, "filter");
    REFUSED("POST", "/collections/docs/points/delete", "{\"points\":\"all\"}", 400, "list of point ids");
    REFUSED("POST", "/collections/nope/points/delete", "{\"points\":[1]}", 404, "doesn't exist!");
    close_server();
}

TEST(batch_update_applies_in_order_and_refuses_a_malformed_batch_whole) {
    fresh_server();
    create_plain("docs", 3);
    json_t *r = OK("POST", "/collections/docs/points/batch",
                   "{\"operations\":["
                   "{\"upsert\":{\"points\":[{\"id\":1,\"vector\":[1,0,0]},{\"id\":2,\"vector\":[0,1,0]}]}},"
                   "{\"set_payload\":{\"payload\":{\"a\":1},\"points\":[1,2]}},"
                   "{\"overwrite_payload\":{\"payload\":{\"b\":2},\"points\":[2]}},"
                   "{\"delete_payload\":{\"keys\":[\"a\"],\"points\":[1]}},"
                   "{\"update_vectors\":{\"points\":[{\"id\":1,\"vector\":[0,0,1]}]}},"
                   "{\"delete\":{\"points\":[2]}},"
                   "{\"upsert\":{\"batch\":{\"ids\":[3],\"vectors\":[[1,1,1]],\"payloads\":[{\"c\":3}]}}},"
                   "{\"clear_payload\":{\"points\":[3]}}]}");
    CHECK(json_array_size(r) == 8);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(r, 7), "status")), "completed") == 0);
    json_decref(r);
    EXPECT("POST", "/collections/docs/points", "{\"ids\":[1,2,3],\"with_vector\":true}",
           "[{\"id\":1,\"payload\":{},\"vector\":[0.0,0.0,1.0]},{\"id\":3,\"payload\":{},\"vector\":[1.0,1.0,1.0]}]");
    /* Any malformed operation refuses the batch before the first is applied. */
    REFUSED("POST", "/collections/docs/points/batch",
            "{\"operations\":[{\"delete\":{\"points\":[1]}},{\"upsert\":{\"points\":[{\"id\":5,\"vector\":[1]}]}}]}", 400,
            "operations[1]: Wrong input: Vector dimension error");
    REFUSED("POST", "/collections/docs/points/batch", "{\"operations\":[{\"delete\":{\"points\":[1]}},{\"rename\":{}}]}",
            400, "operations[1]: data did not match any variant");
    REFUSED("POST", "/collections/docs/points/batch", "{}", 400, "missing field `operations`");
    REFUSED("POST", "/collections/nope/points/batch", "{\"operations\":[]}", 404, "doesn't exist!");
    /* A failure while applying stops there: what came before stays applied (each operation is its own write). */
    answer a = call("POST", "/collections/docs/points/batch",
                    "{\"operations\":[{\"delete\":{\"points\":[3]}},{\"set_payload\":{\"payload\":{},\"points\":[99]}}]}");
    CHECK(a.status == 404);
    json_decref(a.json);
    EXPECT("POST", "/collections/docs/points/count", NULL, "{\"count\":1}");
    close_server();
}

TEST(scroll_pages_through_filters_and_refuses_what_it_cannot_do) {
    fresh_server();
    create_plain("docs", 3);
    char body[65536];
    size_t used = (size_t)snprintf(body, sizeof body, "{\"points\":[");
    for (int i = 1; i <= 25; i++)
        used += (size_t)snprintf(body + used, sizeof body - used, "%s{\"id\":%d,\"vector\":[%d,1,0],\"payload\":{\"odd\":%s}}",
                                 i > 1 ? "," : "", i, i, i % 2 ? "true" : "false");
    snprintf(body + used, sizeof body - used, "]}");
    json_decref(OK("PUT", "/collections/docs/points", body));
    json_t *page = OK("POST", "/collections/docs/points/scroll", NULL);
    CHECK(json_array_size(member(page, "points")) == 10);
    CHECK(json_integer_value(member(page, "next_page_offset")) == 11);
    CHECK(json_is_object(member(json_array_get(member(page, "points"), 0), "payload")));
    CHECK(!member(json_array_get(member(page, "points"), 0), "vector"));
    json_decref(page);
    page = OK("POST", "/collections/docs/points/scroll", "{\"offset\":21,\"limit\":10,\"with_payload\":false}");
    CHECK(json_array_size(member(page, "points")) == 5);
    CHECK(json_is_null(member(page, "next_page_offset")));
    json_decref(page);
    EXPECT("POST", "/collections/docs/points/scroll",
           "{\"filter\":{\"must\":[{\"key\":\"odd\",\"match\":{\"value\":false}}]},\"limit\":2,\"with_payload\":false,\"with_vector\":true}",
           "{\"points\":[{\"id\":2,\"vector\":[2.0,1.0,0.0]},{\"id\":4,\"vector\":[4.0,1.0,0.0]}],\"next_page_offset\":6}");
    EXPECT("POST", "/collections/docs/points/count", "{\"filter\":{\"must\":[{\"key\":\"odd\",\"match\":{\"value\":true}}]},\"exact\":true}",
           "{\"count\":13}");
    REFUSED("POST", "/collections/docs/points/scroll", "{\"limit\":0}", 422,
            "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]");
    REFUSED("POST", "/collections/docs/points/scroll", "{\"limit\":\"ten\"}", 400, "limit");
    REFUSED("POST", "/collections/docs/points/scroll", "{\"order_by\":\"odd\"}", 400, "`order_by` is not supported");
    REFUSED("POST", "/collections/docs/points/scroll", "{\"offset\":-1}", 400, "offset");
    REFUSED("POST", "/collections/docs/points/scroll", "{\"filter\":{\"must\":[{\"key\":\"odd\",\"match\":{}}]}}", 400,
            "Format error in JSON body: filter");
    REFUSED("POST", "/collections/docs/points/scroll", "{\"pages\":2}", 400, "unknown field `pages`");
    REFUSED("POST", "/collections/docs/points/count", "{\"exact\":\"yes\"}", 400, "exact");
    REFUSED("POST", "/collections/docs/points/count", "{\"filter\":{\"should\":5}}", 400, "filter");
    REFUSED("POST", "/collections/nope/points/scroll", NULL, 404, "doesn't exist!");
    REFUSED("POST", "/collections/nope/points/count", NULL, 404, "doesn't exist!");
    close_server();
}

TEST(a_large_upsert_lands_whole) {
    fresh_server();
    create_plain("big", 4);
    size_t cap = 5000 * 80 + 64, used = 0;
    char *body = malloc(cap);
    REQUIRE(body);
    used += (size_t)snprintf(body + used, cap - used, "{\"points\":[");
    for (int i = 0; i < 5000; i++)
        used += (size_t)snprintf(body + used, cap - used, "%s{\"id\":%d,\"vector\":[%d,1,2,3],\"payload\":{\"i\":%d}}",
                                 i ? "," : "", i, i % 97, i);
    snprintf(body + used, cap - used, "]}");
    json_decref(OK("PUT", "/collections/big/points", body));
    free(body);
    EXPECT("POST", "/collections/big/points/count", NULL, "{\"count\":5000}");
    json_t *page = OK("POST", "/collections/big/points/scroll", "{\"limit\":20000,\"with_payload\":false}");
    CHECK(json_array_size(member(page, "points")) == 5000 && json_is_null(member(page, "next_page_offset")));
    json_decref(page);
    close_server();
}

TEST(qdrant_routes_engram_lacks_name_the_feature) {
    fresh_server();
    create_plain("docs", 2);
    static const struct {
        const char *method, *target, *needle;
    } cases[] = {
        {"PUT", "/collections/docs/vectors/img", "named vector"},
        {"DELETE", "/collections/docs/vectors/img", "named vector"},
        {"GET", "/collections/docs/cluster", "cluster"},
        {"POST", "/collections/docs/cluster", "cluster"},
        {"GET", "/collections/docs/shards", "shard keys"},
        {"PUT", "/collections/docs/shards", "shard keys"},
        {"POST", "/collections/docs/shards/delete", "shard keys"},
        {"GET", "/collections/docs/optimizations", "optimizer"},
        {"GET", "/collections/docs/snapshots", "snapshots"},
        {"POST", "/collections/docs/snapshots", "snapshots"},
        {"POST", "/collections/docs/snapshots/upload", "snapshots"},
        {"PUT", "/collections/docs/snapshots/recover", "snapshots"},
        {"GET", "/collections/docs/snapshots/s1", "snapshots"},
        {"DELETE", "/collections/docs/snapshots/s1", "snapshots"},
        {"GET", "/collections/docs/shards/0/snapshot", "snapshots"},
        {"GET", "/collections/docs/shards/0/snapshots", "snapshots"},
        {"POST", "/collections/docs/shards/0/snapshots", "snapshots"},
        {"POST", "/collections/docs/shards/0/snapshots/upload", "snapshots"},
        {"PUT", "/collections/docs/shards/0/snapshots/recover", "snapshots"},
        {"GET", "/collections/docs/shards/0/snapshots/s1", "snapshots"},
        {"DELETE", "/collections/docs/shards/0/snapshots/s1", "snapshots"},
        {"POST", "/collections/docs/facet", "facets"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        REFUSED(cases[i].method, cases[i].target, "{}", 400, cases[i].needle);
    close_server();
}

/* Writers on their own collections and aliases while readers resolve a shared alias: the catalog's lock and the
 * create/delete lock keep every answer whole (ThreadSanitizer runs this too). */
#define WORKERS 4
#define ROUNDS (40 / TEST_WORK_DIVISOR)

static void *worker(void *arg) {
    int w = (int)(intptr_t)arg;
    bool all_ok = true;
    for (int r = 0; r < ROUNDS; r++) {
        char target[128], body[256];
        snprintf(target, sizeof target, "/collections/w%d_%d", w, r);
        answer a = call("PUT", target, "{\"vectors\":{\"size\":2,\"distance\":\"Dot\"}}");
        all_ok = all_ok && a.status == 200;
        json_decref(a.json);
        snprintf(body, sizeof body,
                 "{\"actions\":[{\"create_alias\":{\"collection_name\":\"w%d_%d\",\"alias_name\":\"w%d_live\"}}]}", w,
                 r, w);
        a = call("POST", "/collections/aliases", body);
        all_ok = all_ok && a.status == 200;
        json_decref(a.json);
        snprintf(target, sizeof target, "/collections/w%d_live/points", w);
        a = call("PUT", target, "{\"points\":[{\"id\":1,\"vector\":[1,2]}]}");
        all_ok = all_ok && a.status == 200;
        json_decref(a.json);
        a = call("GET", "/collections/shared", NULL);
        all_ok = all_ok && a.status == 200;
        json_decref(a.json);
        if (r > 0) {
            snprintf(target, sizeof target, "/collections/w%d_%d", w, r - 1);
            a = call("DELETE", target, NULL);
            all_ok = all_ok && a.status == 200 && json_is_true(json_object_get(a.json, "result"));
            json_decref(a.json);
        }
    }
    return (void *)(intptr_t)all_ok;
}

TEST(concurrent_collection_alias_and_point_writes_stay_consistent) {
    fresh_server();
    create_plain("shared", 2);
    pthread_t threads[WORKERS];
    for (int w = 0; w < WORKERS; w++) pthread_create(&threads[w], NULL, worker, (void *)(intptr_t)w);
    for (int w = 0; w < WORKERS; w++) {
        void *ok;
        pthread_join(threads[w], &ok);
        CHECK(ok != NULL);
    }
    json_t *aliases = OK("GET", "/aliases", NULL);
    CHECK(json_array_size(json_object_get(aliases, "aliases")) == WORKERS);
    json_decref(aliases);
    for (int w = 0; w < WORKERS; w++) {
        char target[128];
        snprintf(target, sizeof target, "/collections/w%d_live/points/count", w);
        EXPECT("POST", target, NULL, "{\"count\":1}");
    }
    close_server();
    open_server(data_dir);
    json_t *again = OK("GET", "/aliases", NULL);
    CHECK(json_array_size(json_object_get(again, "aliases")) == WORKERS);
    json_decref(again);
    close_server();
}

int main(void) {
    RUN(create_get_list_exists_and_delete_a_collection);
    RUN(create_with_named_vectors_hnsw_and_int8_reports_them);
    RUN(creating_an_existing_collection_or_an_alias_name_is_refused);
    RUN(every_unsupported_or_malformed_create_is_refused_by_name);
    RUN(update_accepts_only_what_changes_nothing);
    RUN(aliases_are_created_renamed_listed_resolved_and_deleted);
    RUN(alias_changes_are_all_or_nothing_and_refusals_name_the_problem);
    RUN(the_catalog_survives_a_restart_and_a_corrupt_one_stops_the_server);
    RUN(payload_indexes_are_created_replaced_reported_and_deleted);
    RUN(upsert_retrieve_and_get_points);
    RUN(upsert_forms_and_their_refusals);
    RUN(named_and_sparse_vectors_round_trip_and_update);
    RUN(payload_routes_by_ids_and_by_filter);
    RUN(delete_by_ids_and_by_filter);
    RUN(batch_update_applies_in_order_and_refuses_a_malformed_batch_whole);
    RUN(scroll_pages_through_filters_and_refuses_what_it_cannot_do);
    RUN(a_large_upsert_lands_whole);
    RUN(qdrant_routes_engram_lacks_name_the_feature);
    RUN(concurrent_collection_alias_and_point_writes_stay_consistent);
    return test_summary();
}
