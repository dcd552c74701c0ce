/* test_vectors_exec.c — every vector store operation through the JSON interface, with the result shapes
 * docs/operations.md promises: collections, points (upsert, get, payload updates, vector updates, deletes), count,
 * scroll pagination, exact search (limit, offset, filter, session_id, score_threshold, each distance) and hybrid
 * search. Each test starts on a fresh data folder. Scores are compared to 1e-6, since they come from float
 * arithmetic; every other value must be equal. */
#include "test.h"

#include <math.h>
#include <stdarg.h>

static eg_db *db;

/* json_equal, except that two reals need only be within 1e-6 (relative above 1). */
static bool json_near(json_t *got, json_t *want) {
    if (json_is_real(got) && json_is_real(want)) {
        double a = json_real_value(got), b = json_real_value(want);
        return fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b));
    }
    if (json_typeof(got) != json_typeof(want)) return false;
    if (json_is_array(got)) {
        if (json_array_size(got) != json_array_size(want)) return false;
        for (size_t i = 0; i < json_array_size(got); i++)
            if (!json_near(json_array_get(got, i), json_array_get(want, i))) return false;
        return true;
    }
    if (json_is_object(got)) {
        if (json_object_size(got) != json_object_size(want)) return false;
        const char *key;
        json_t *value;
        json_object_foreach(want, key, value) if (!json_near(json_object_get(got, key), value)) return false;
        return true;
    }
    return json_equal(got, want);
}

/* Runs request and checks the response is {"ok":true,"result":<expected>} (expected as JSON text). */
static void expect_at(int line, const char *request, const char *expected) {
    json_t *response = test_exec(db, request);
    json_error_t jerr;
    json_t *want = json_loads(expected, JSON_DECODE_ANY, &jerr);
    if (!want) {
        fprintf(stderr, "  %s:%d: bad expectation %s: %s\n", __FILE__, line, expected, jerr.text);
        test_failures_in_current++;
        json_decref(response);
        return;
    }
    if (!json_is_true(json_object_get(response, "ok")) || !json_near(json_object_get(response, "result"), want)) {
        char *got = json_dumps(response, JSON_COMPACT);
        fprintf(stderr, "  %s:%d: %s\n    expected result %s\n    got %s\n", __FILE__, line, request, expected, got);
        free(got);
        test_failures_in_current++;
    }
    json_decref(want);
    json_decref(response);
}
#define EXPECT(request, expected) expect_at(__LINE__, request, expected)

/* Runs request and checks it fails with `code`. */
static void expect_code_at(int line, const char *request, const char *code) {
    json_t *response = test_exec(db, request);
    const char *got = test_response_code(response);
    if (!got || strcmp(got, code) != 0) {
        fprintf(stderr, "  %s:%d: %s\n    -> %s, expected %s\n", __FILE__, line, request, got ? got : "?", code);
        test_failures_in_current++;
    }
    json_decref(response);
}
#define EXPECT_CODE(request, code) expect_code_at(__LINE__, request, code)

/* Runs request and checks it fails with `code` and a message containing `words`. */
static void expect_error_at(int line, const char *request, const char *code, const char *words) {
    json_t *response = test_exec(db, request);
    const char *got = test_response_code(response);
    const char *message = json_string_value(json_object_get(json_object_get(response, "error"), "message"));
    if (!got || strcmp(got, code) != 0 || !message || !strstr(message, words)) {
        fprintf(stderr, "  %s:%d: %s\n    -> %s (%s), expected %s saying \"%s\"\n", __FILE__, line, request,
                got ? got : "?", message ? message : "no message", code, words);
        test_failures_in_current++;
    }
    json_decref(response);
}
#define EXPECT_ERROR(request, code, words) expect_error_at(__LINE__, request, code, words)

/* A request that must succeed; returns its result (a new reference) for the test to look into. */
static json_t *result_of(const char *request) {
    json_t *response = test_exec(db, request);
    json_t *result = json_incref(json_object_get(response, "result"));
    if (!json_is_true(json_object_get(response, "ok"))) {
        char *got = json_dumps(response, JSON_COMPACT);
        fprintf(stderr, "  %s\n    failed: %s\n", request, got);
        free(got);
        test_failures_in_current++;
    }
    json_decref(response);
    return result;
}

static const char *line_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *line_of(const char *fmt, ...) {
    static char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return line;
}

#define UUID_A "550e8400-e29b-41d4-a716-446655440000"
#define UUID_B "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

TEST(collections) {
    EXPECT("{\"op\":\"list_collections\"}", "[]");
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"notes\",\"dim\":4}", "{\"collection\":\"notes\"}");
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"notes\",\"dim\":4,\"distance\":\"Cosine\",\"sparse\":false}",
           "{\"collection\":\"notes\"}"); /* the same configuration again: a no-op */
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"hybrid\",\"dim\":2,\"distance\":\"Dot\",\"sparse\":true}",
           "{\"collection\":\"hybrid\"}");
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"e\",\"dim\":65536,\"distance\":\"Euclid\"}",
           "{\"collection\":\"e\"}");
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"m\",\"dim\":1,\"distance\":\"Manhattan\",\"sparse\":null}",
           "{\"collection\":\"m\"}");
    EXPECT("{\"op\":\"list_collections\"}", "[\"e\",\"hybrid\",\"m\",\"notes\"]");
    EXPECT("{\"op\":\"get_collection\",\"collection\":\"notes\"}",
           "{\"name\":\"notes\",\"dim\":4,\"distance\":\"Cosine\",\"sparse\":false,\"hnsw_config\":{\"m\":16,\"ef_construct\":100,\"full_scan_threshold\":10000},\"quantization_config\":null,\"points_count\":0,\"indexed_vectors_count\":0,"
           "\"payload_indexes\":{}}");
    EXPECT("{\"op\":\"get_collection\",\"collection\":\"hybrid\"}",
           "{\"name\":\"hybrid\",\"dim\":2,\"distance\":\"Dot\",\"sparse\":true,\"hnsw_config\":{\"m\":16,\"ef_construct\":100,\"full_scan_threshold\":10000},\"quantization_config\":null,\"points_count\":0,\"indexed_vectors_count\":0,"
           "\"payload_indexes\":{}}");
    EXPECT("{\"op\":\"create_payload_index\",\"collection\":\"notes\",\"field\":\"kind\",\"type\":\"keyword\"}",
           "{\"collection\":\"notes\",\"field\":\"kind\",\"type\":\"keyword\"}");
    EXPECT("{\"op\":\"create_payload_index\",\"collection\":\"notes\",\"field\":\"meta.rank\",\"type\":\"integer\"}",
           "{\"collection\":\"notes\",\"field\":\"meta.rank\",\"type\":\"integer\"}");
    EXPECT("{\"op\":\"create_payload_index\",\"collection\":\"notes\",\"field\":\"kind\",\"type\":\"keyword\"}",
           "{\"collection\":\"notes\",\"field\":\"kind\",\"type\":\"keyword\"}"); /* idempotent */
    EXPECT("{\"op\":\"create_payload_index\",\"collection\":\"notes\",\"field\":\"w\",\"type\":\"float\"}",
           "{\"collection\":\"notes\",\"field\":\"w\",\"type\":\"float\"}");
    EXPECT("{\"op\":\"create_payload_index\",\"collection\":\"notes\",\"field\":\"done\",\"type\":\"bool\"}",
           "{\"collection\":\"notes\",\"field\":\"done\",\"type\":\"bool\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"notes\",\"points\":[{\"id\":1,\"vector\":[1,0,0,0]}]}",
           "{\"upserted\":1}");
    EXPECT("{\"op\":\"get_collection\",\"collection\":\"notes\"}",
           "{\"name\":\"notes\",\"dim\":4,\"distance\":\"Cosine\",\"sparse\":false,\"hnsw_config\":{\"m\":16,\"ef_construct\":100,\"full_scan_threshold\":10000},\"quantization_config\":null,\"points_count\":1,\"indexed_vectors_count\":0,"
           "\"payload_indexes\":{\"kind\":\"keyword\",\"meta.rank\":\"integer\",\"w\":\"float\",\"done\":\"bool\"}}");
    EXPECT("{\"op\":\"delete_collection\",\"collection\":\"notes\"}", "{\"collection\":\"notes\"}");
    EXPECT_CODE("{\"op\":\"get_collection\",\"collection\":\"notes\"}", "not_found");
    EXPECT_CODE("{\"op\":\"delete_collection\",\"collection\":\"notes\"}", "not_found");
    EXPECT("{\"op\":\"list_collections\"}", "[\"e\",\"hybrid\",\"m\"]");
    /* a collection created again under a deleted name starts empty */
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"notes\",\"dim\":2}", "{\"collection\":\"notes\"}");
    EXPECT("{\"op\":\"count\",\"collection\":\"notes\"}", "0");
    EXPECT("{\"op\":\"get_collection\",\"collection\":\"notes\"}",
           "{\"name\":\"notes\",\"dim\":2,\"distance\":\"Cosine\",\"sparse\":false,\"hnsw_config\":{\"m\":16,\"ef_construct\":100,\"full_scan_threshold\":10000},\"quantization_config\":null,\"points_count\":0,\"indexed_vectors_count\":0,"
           "\"payload_indexes\":{}}");
}

TEST(upsert_and_get) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"p\",\"dim\":2,\"distance\":\"Dot\",\"sparse\":true}",
           "{\"collection\":\"p\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"p\",\"points\":["
           "{\"id\":7,\"vector\":[1,2.5],\"payload\":{\"kind\":\"note\",\"tags\":[\"a\",\"b\"]}},"
           "{\"id\":\"550E8400-E29B-41D4-A716-446655440000\",\"vector\":[-1,0.25],"
           "\"sparse_vector\":{\"indices\":[9,2],\"values\":[0.5,-3]}},"
           "{\"id\":0,\"vector\":[0,0],\"payload\":null,\"sparse_vector\":{\"indices\":[],\"values\":[]}}]}",
           "{\"upserted\":3}");
    EXPECT("{\"op\":\"add\",\"collection\":\"p\",\"points\":[{\"id\":\"6BA7B8109DAD11D180B400C04FD430C8\","
           "\"vector\":[3,4],\"payload\":{\"kind\":\"fact\"}}]}",
           "{\"upserted\":1}");
    EXPECT("{\"op\":\"count\",\"collection\":\"p\"}", "4");
    /* in the order asked, missing ids left out, any UUID spelling accepted and answered canonically */
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[\"550e8400e29b41d4a716446655440000\",12,7,0]}",
           "[{\"id\":\"" UUID_A "\",\"payload\":{}},{\"id\":7,\"payload\":{\"kind\":\"note\",\"tags\":[\"a\",\"b\"]}},"
           "{\"id\":0,\"payload\":{}}]");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[7,\"" UUID_A "\",\"" UUID_B "\"],\"with_vectors\":true,"
           "\"with_payload\":false}",
           "[{\"id\":7,\"vector\":[1.0,2.5]},{\"id\":\"" UUID_A "\",\"vector\":[-1.0,0.25],\"sparse_vector\":"
           "{\"indices\":[2,9],\"values\":[-3.0,0.5]}},{\"id\":\"" UUID_B "\",\"vector\":[3.0,4.0]}]");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[]}", "[]");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[99]}", "[]");
    /* an upsert of an existing id replaces the point whole: the sparse vector and payload go */
    EXPECT("{\"op\":\"upsert\",\"collection\":\"p\",\"points\":[{\"id\":\"" UUID_A "\",\"vector\":[5,6]}]}",
           "{\"upserted\":1}");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[\"" UUID_A "\"],\"with_vectors\":true}",
           "[{\"id\":\"" UUID_A "\",\"payload\":{},\"vector\":[5.0,6.0]}]");
    EXPECT("{\"op\":\"count\",\"collection\":\"p\"}", "4");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"p\",\"points\":[]}", "{\"upserted\":0}");
}

TEST(cosine_vectors_come_back_normalised) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"c\",\"dim\":2}", "{\"collection\":\"c\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"c\",\"points\":[{\"id\":1,\"vector\":[3,4]},{\"id\":2,\"vector\":[0,0]},"
           "{\"id\":3,\"vector\":[0,-2]}]}",
           "{\"upserted\":3}");
    EXPECT("{\"op\":\"get\",\"collection\":\"c\",\"ids\":[1,2],\"with_vectors\":true,\"with_payload\":false}",
           "[{\"id\":1,\"vector\":[0.6,0.8]},{\"id\":2,\"vector\":[0.0,0.0]}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"c\",\"vector\":[2,0],\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.6},{\"id\":2,\"score\":0.0},{\"id\":3,\"score\":0.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"c\",\"vector\":[2,0],\"score_threshold\":0.5,\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.6}]");
}

TEST(payload_and_vector_updates) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"p\",\"dim\":2,\"distance\":\"Dot\",\"sparse\":true}",
           "{\"collection\":\"p\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"p\",\"points\":["
           "{\"id\":1,\"vector\":[1,0],\"payload\":{\"a\":1,\"b\":{\"c\":2},\"keep\":true}},"
           "{\"id\":2,\"vector\":[0,1],\"sparse_vector\":{\"indices\":[4],\"values\":[1.5]},\"payload\":{\"a\":2}},"
           "{\"id\":3,\"vector\":[1,1]}]}",
           "{\"upserted\":3}");
    EXPECT("{\"op\":\"create_payload_index\",\"collection\":\"p\",\"field\":\"a\",\"type\":\"integer\"}",
           "{\"collection\":\"p\",\"field\":\"a\",\"type\":\"integer\"}");
    /* merge: given top-level keys are set (a nested object replaced whole), the others kept */
    EXPECT("{\"op\":\"update_payload\",\"collection\":\"p\",\"ids\":[1,3],\"payload\":{\"a\":10,\"b\":{\"d\":3}}}",
           "{\"updated\":2}");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[1,3]}",
           "[{\"id\":1,\"payload\":{\"a\":10,\"b\":{\"d\":3},\"keep\":true}},{\"id\":3,\"payload\":{\"a\":10,\"b\":"
           "{\"d\":3}}}]");
    /* the index follows payload changes */
    EXPECT("{\"op\":\"count\",\"collection\":\"p\",\"filter\":{\"must\":[{\"key\":\"a\",\"match\":{\"value\":10}}]}}",
           "2");
    EXPECT("{\"op\":\"count\",\"collection\":\"p\",\"filter\":{\"must\":[{\"key\":\"a\",\"match\":{\"value\":1}}]}}",
           "0");
    EXPECT("{\"op\":\"overwrite_payload\",\"collection\":\"p\",\"ids\":[1],\"payload\":{\"only\":\"this\"}}",
           "{\"updated\":1}");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[1]}", "[{\"id\":1,\"payload\":{\"only\":\"this\"}}]");
    EXPECT("{\"op\":\"overwrite_payload\",\"collection\":\"p\",\"ids\":[3],\"payload\":{}}", "{\"updated\":1}");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[3]}", "[{\"id\":3,\"payload\":{}}]");
    EXPECT("{\"op\":\"count\",\"collection\":\"p\",\"filter\":{\"must\":[{\"key\":\"a\",\"range\":{\"gte\":0}}]}}",
           "1");
    EXPECT("{\"op\":\"update_payload\",\"collection\":\"p\",\"ids\":[2],\"payload\":{\"x\":1,\"y\":2,\"z\":3}}",
           "{\"updated\":1}");
    EXPECT("{\"op\":\"delete_payload_keys\",\"collection\":\"p\",\"ids\":[2],\"keys\":[\"x\",\"z\",\"absent\"]}",
           "{\"updated\":1}");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[2]}", "[{\"id\":2,\"payload\":{\"a\":2,\"y\":2}}]");
    /* vectors replaced in place: payload and sparse vector kept */
    EXPECT("{\"op\":\"batch_update_vectors\",\"collection\":\"p\",\"points\":[{\"id\":2,\"vector\":[7,8]},"
           "{\"id\":1,\"vector\":[-1,-1]}]}",
           "{\"updated\":2}");
    EXPECT("{\"op\":\"get\",\"collection\":\"p\",\"ids\":[2,1],\"with_vectors\":true}",
           "[{\"id\":2,\"payload\":{\"a\":2,\"y\":2},\"vector\":[7.0,8.0],\"sparse_vector\":{\"indices\":[4],"
           "\"values\":[1.5]}},{\"id\":1,\"payload\":{\"only\":\"this\"},\"vector\":[-1.0,-1.0]}]");
    EXPECT("{\"op\":\"count\",\"collection\":\"p\"}", "3");
}

TEST(deletes) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"d\",\"dim\":1,\"distance\":\"Dot\"}", "{\"collection\":\"d\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"d\",\"points\":[{\"id\":1,\"vector\":[1],\"payload\":{\"k\":\"x\"}},"
           "{\"id\":2,\"vector\":[2],\"payload\":{\"k\":\"y\"}},{\"id\":3,\"vector\":[3],\"payload\":{\"k\":\"x\"}},"
           "{\"id\":\"" UUID_A "\",\"vector\":[4],\"payload\":{\"k\":\"z\"}},{\"id\":5,\"vector\":[5]}]}",
           "{\"upserted\":5}");
    EXPECT("{\"op\":\"delete\",\"collection\":\"d\",\"ids\":[2,\"" UUID_A "\",42]}", "{\"deleted\":2}");
    EXPECT("{\"op\":\"delete\",\"collection\":\"d\",\"ids\":[2]}", "{\"deleted\":0}");
    EXPECT("{\"op\":\"count\",\"collection\":\"d\"}", "3");
    EXPECT("{\"op\":\"delete\",\"collection\":\"d\",\"filter\":{\"must\":[{\"key\":\"k\",\"match\":{\"value\":\"x\"}}]}}",
           "{\"deleted\":2}");
    EXPECT("{\"op\":\"scroll\",\"collection\":\"d\"}", "{\"points\":[{\"id\":5,\"payload\":{}}],\"next_offset\":null}");
    EXPECT("{\"op\":\"delete\",\"collection\":\"d\",\"filter\":{}}", "{\"deleted\":1}");
    EXPECT("{\"op\":\"count\",\"collection\":\"d\"}", "0");
    EXPECT("{\"op\":\"get_collection\",\"collection\":\"d\"}",
           "{\"name\":\"d\",\"dim\":1,\"distance\":\"Dot\",\"sparse\":false,\"hnsw_config\":{\"m\":16,\"ef_construct\":100,\"full_scan_threshold\":10000},\"quantization_config\":null,\"points_count\":0,\"indexed_vectors_count\":0,\"payload_indexes\":{}}");
}

/* 20 numeric ids (even ones flagged) and 3 UUIDs: numbers come first, each kind in order. */
static void seed_pages(void) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"pages\",\"dim\":1,\"distance\":\"Dot\"}",
           "{\"collection\":\"pages\"}");
    json_t *points = json_array();
    for (int i = 19; i >= 0; i--) /* given out of order: scroll sorts */
        json_array_append_new(points, json_pack("{s:i, s:[i], s:{s:b, s:i}}", "id", i, "vector", i, "payload", "even",
                                                i % 2 == 0, "n", i));
    const char *uuids[] = {"ffffffff-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001", UUID_A};
    for (size_t i = 0; i < 3; i++)
        json_array_append_new(points, json_pack("{s:s, s:[i], s:{s:b}}", "id", uuids[i], "vector", 1, "payload",
                                                "even", 0));
    json_t *request = json_pack("{s:s, s:s, s:o}", "op", "upsert", "collection", "pages", "points", points);
    char *text = json_dumps(request, JSON_COMPACT);
    EXPECT(text, "{\"upserted\":23}");
    free(text);
    json_decref(request);
}

/* Follows next_offset from the first page to the last and returns every id seen, in order (as compact JSON). */
static char *scroll_all(const char *filter, int limit, int *pages) {
    json_t *seen = json_array();
    char offset[64] = "null";
    *pages = 0;
    for (;;) {
        json_t *r = result_of(line_of("{\"op\":\"scroll\",\"collection\":\"pages\",\"limit\":%d,\"offset\":%s,"
                                      "\"with_payload\":false%s%s}",
                                      limit, offset, filter ? ",\"filter\":" : "", filter ? filter : ""));
        json_t *points = json_object_get(r, "points"), *next = json_object_get(r, "next_offset");
        ++*pages;
        size_t i;
        json_t *p;
        json_array_foreach(points, i, p) {
            CHECK(json_object_size(p) == 1); /* only the id: no payload asked, no vectors */
            json_array_append(seen, json_object_get(p, "id"));
        }
        CHECK(json_array_size(points) <= (size_t)limit);
        bool last = !next || json_is_null(next);
        if (!last) {
            CHECK(json_array_size(points) == (size_t)limit);
            char *t = json_dumps(next, JSON_ENCODE_ANY);
            snprintf(offset, sizeof offset, "%s", t);
            free(t);
        }
        json_decref(r);
        if (last || *pages > 50) break;
    }
    char *text = json_dumps(seen, JSON_COMPACT);
    json_decref(seen);
    return text;
}

TEST(scroll_pagination) {
    seed_pages();
    int pages;
    char *all = scroll_all(NULL, 10, &pages);
    CHECK(strcmp(all, "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,\"00000000-0000-0000-0000-000000000001\",\""
                      UUID_A "\",\"ffffffff-0000-0000-0000-000000000000\"]") == 0);
    CHECK(pages == 3);
    free(all);
    char *even = scroll_all("{\"must\":[{\"key\":\"even\",\"match\":{\"value\":true}}]}", 4, &pages);
    CHECK(strcmp(even, "[0,2,4,6,8,10,12,14,16,18]") == 0);
    CHECK(pages == 3);
    free(even);
    /* a page that ends exactly at the last point says so: no empty page after it */
    char *exact = scroll_all("{\"must\":[{\"key\":\"n\",\"range\":{\"lt\":6}}]}", 3, &pages);
    CHECK(strcmp(exact, "[0,1,2,3,4,5]") == 0);
    CHECK(pages == 2);
    free(exact);

    EXPECT("{\"op\":\"scroll\",\"collection\":\"pages\",\"limit\":2,\"offset\":18,\"with_vectors\":true}",
           "{\"points\":[{\"id\":18,\"payload\":{\"even\":true,\"n\":18},\"vector\":[18.0]},{\"id\":19,\"payload\":"
           "{\"even\":false,\"n\":19},\"vector\":[19.0]}],\"next_offset\":\"00000000-0000-0000-0000-000000000001\"}");
    /* an offset that is not a point starts at the next one; the default limit is 100 */
    json_t *r = result_of("{\"op\":\"scroll\",\"collection\":\"pages\",\"offset\":\"00000000000000000000000000000002\"}");
    CHECK(json_array_size(json_object_get(r, "points")) == 2);
    CHECK(json_is_null(json_object_get(r, "next_offset")));
    json_decref(r);
    r = result_of("{\"op\":\"scroll\",\"collection\":\"pages\"}");
    CHECK(json_array_size(json_object_get(r, "points")) == 23);
    json_decref(r);
    EXPECT("{\"op\":\"count\",\"collection\":\"pages\",\"filter\":{\"must_not\":[{\"key\":\"even\",\"match\":"
           "{\"value\":true}}]}}",
           "13");
    EXPECT("{\"op\":\"count\",\"collection\":\"pages\",\"filter\":{\"must\":[{\"has_id\":[1,2,\"" UUID_A "\",99]}]}}",
           "3");
}

/* Five points of dim 2 in collection `name`; two sessions, two kinds. */
static void seed_search(const char *name, const char *distance) {
    char created[64];
    snprintf(created, sizeof created, "{\"collection\":\"%s\"}", name);
    EXPECT(line_of("{\"op\":\"create_collection\",\"collection\":\"%s\",\"dim\":2,\"distance\":\"%s\"}", name,
                   distance),
           created);
    EXPECT(line_of("{\"op\":\"upsert\",\"collection\":\"%s\",\"points\":["
                   "{\"id\":1,\"vector\":[1,0],\"payload\":{\"session_id\":\"a\",\"kind\":\"note\"}},"
                   "{\"id\":2,\"vector\":[0,1],\"payload\":{\"session_id\":\"a\",\"kind\":\"fact\"}},"
                   "{\"id\":3,\"vector\":[2,0],\"payload\":{\"session_id\":\"b\",\"kind\":\"note\"}},"
                   "{\"id\":4,\"vector\":[1,1],\"payload\":{\"session_id\":\"b\",\"kind\":\"fact\"}},"
                   "{\"id\":5,\"vector\":[-1,0],\"payload\":{\"kind\":\"note\"}}]}",
                   name),
           "{\"upserted\":5}");
}

TEST(search_dot) {
    seed_search("s", "Dot");
    /* query [1,0]: scores 3 -> 2, 1 -> 1, 4 -> 1 (a tie: smaller id first), 2 -> 0, 5 -> -1 */
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"with_payload\":false}",
           "[{\"id\":3,\"score\":2.0},{\"id\":1,\"score\":1.0},{\"id\":4,\"score\":1.0},{\"id\":2,\"score\":0.0},"
           "{\"id\":5,\"score\":-1.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"limit\":2}",
           "[{\"id\":3,\"score\":2.0,\"payload\":{\"session_id\":\"b\",\"kind\":\"note\"}},"
           "{\"id\":1,\"score\":1.0,\"payload\":{\"session_id\":\"a\",\"kind\":\"note\"}}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"limit\":2,\"offset\":1,\"with_payload\":false}",
           "[{\"id\":1,\"score\":1.0},{\"id\":4,\"score\":1.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"offset\":5}", "[]");
    /* the filter applies during the search: two of the five match and both come back */
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"limit\":2,\"with_payload\":false,"
           "\"filter\":{\"must\":[{\"key\":\"kind\",\"match\":{\"value\":\"fact\"}}]}}",
           "[{\"id\":4,\"score\":1.0},{\"id\":2,\"score\":0.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"session_id\":\"a\",\"with_payload\":false}",
           "[{\"id\":1,\"score\":1.0},{\"id\":2,\"score\":0.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"session_id\":\"b\",\"with_payload\":false,"
           "\"filter\":{\"must\":[{\"key\":\"kind\",\"match\":{\"value\":\"note\"}}]}}",
           "[{\"id\":3,\"score\":2.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"session_id\":\"nobody\"}", "[]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"score_threshold\":1,\"with_payload\":false}",
           "[{\"id\":3,\"score\":2.0},{\"id\":1,\"score\":1.0},{\"id\":4,\"score\":1.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"score_threshold\":2.5}", "[]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"limit\":1,\"with_payload\":false,"
           "\"with_vectors\":true}",
           "[{\"id\":3,\"score\":2.0,\"vector\":[2.0,0.0]}]");
    /* the same through a payload index on the filtered field */
    EXPECT("{\"op\":\"create_payload_index\",\"collection\":\"s\",\"field\":\"kind\",\"type\":\"keyword\"}",
           "{\"collection\":\"s\",\"field\":\"kind\",\"type\":\"keyword\"}");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"limit\":2,\"with_payload\":false,"
           "\"filter\":{\"must\":[{\"key\":\"kind\",\"match\":{\"value\":\"fact\"}}]}}",
           "[{\"id\":4,\"score\":1.0},{\"id\":2,\"score\":0.0}]");
    EXPECT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[1,0],\"session_id\":\"b\",\"with_payload\":false,"
           "\"filter\":{\"must\":[{\"key\":\"kind\",\"match\":{\"any\":[\"note\",\"fact\"]}}]}}",
           "[{\"id\":3,\"score\":2.0},{\"id\":4,\"score\":1.0}]");
}

TEST(search_distances) {
    seed_search("e", "Euclid");
    /* distances from [1,0]: 1 -> 0, 3 -> 1, 4 -> 1, 2 -> sqrt 2, 5 -> 2; smaller is better */
    EXPECT("{\"op\":\"search\",\"collection\":\"e\",\"vector\":[1,0],\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.0},{\"id\":3,\"score\":1.0},{\"id\":4,\"score\":1.0},"
           "{\"id\":2,\"score\":1.4142135623730951},{\"id\":5,\"score\":2.0}]");
    /* for a distance the threshold is a ceiling */
    EXPECT("{\"op\":\"search\",\"collection\":\"e\",\"vector\":[1,0],\"score_threshold\":1.0,\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.0},{\"id\":3,\"score\":1.0},{\"id\":4,\"score\":1.0}]");
    seed_search("m", "Manhattan");
    EXPECT("{\"op\":\"search\",\"collection\":\"m\",\"vector\":[1,0],\"limit\":4,\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.0},{\"id\":3,\"score\":1.0},{\"id\":4,\"score\":1.0},{\"id\":2,\"score\":2.0}]");
    seed_search("c", "Cosine");
    EXPECT("{\"op\":\"search\",\"collection\":\"c\",\"vector\":[1,0],\"limit\":3,\"with_payload\":false}",
           "[{\"id\":1,\"score\":1.0},{\"id\":3,\"score\":1.0},{\"id\":4,\"score\":0.7071067811865476}]");
}

/* Dense and sparse rankings fused by Qdrant's reciprocal rank fusion (1 / (position + 2), position from 0, in
 * float32); see docs/operations.md. */
TEST(search_hybrid) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"h\",\"dim\":2,\"distance\":\"Dot\",\"sparse\":true}",
           "{\"collection\":\"h\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"h\",\"points\":["
           "{\"id\":1,\"vector\":[1,0],\"sparse_vector\":{\"indices\":[1],\"values\":[1]}},"
           "{\"id\":2,\"vector\":[0,1],\"sparse_vector\":{\"indices\":[1,2],\"values\":[3,1]}},"
           "{\"id\":3,\"vector\":[0.5,0]},"
           "{\"id\":4,\"vector\":[0,0.5],\"sparse_vector\":{\"indices\":[2],\"values\":[5]},\"payload\":"
           "{\"session_id\":\"x\"}}]}",
           "{\"upserted\":4}");
    /* limit 2: 3 candidates each. dense [1,0]: 1, 3, 2 (2 and 4 tie at 0); sparse {1:1}: 2 (3), 1 (1); 4 shares no
     * index. Fused: 1 = 1/2 + 1/3, 2 = 1/4 + 1/2, 3 = 1/3. */
    EXPECT("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":[1,0],\"sparse_vector\":{\"indices\":[1],"
           "\"values\":[1]},\"limit\":2,\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.8333334},{\"id\":2,\"score\":0.75}]");
    /* the default limit 10 reaches every point; 4 is last, 4th of the dense ranking: 1/5 */
    EXPECT("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":[1,0],\"sparse_vector\":{\"indices\":[1],"
           "\"values\":[1]},\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.8333334},{\"id\":2,\"score\":0.75},"
           "{\"id\":3,\"score\":0.33333334},{\"id\":4,\"score\":0.2}]");
    /* score_threshold is on the fused score (at most 1, for a point first in both), inclusive */
    EXPECT("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":[1,0],\"sparse_vector\":{\"indices\":[1],"
           "\"values\":[1]},\"score_threshold\":0.75,\"with_payload\":false}",
           "[{\"id\":1,\"score\":0.8333334},{\"id\":2,\"score\":0.75}]");
    EXPECT("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":[1,0],\"sparse_vector\":{\"indices\":[1],"
           "\"values\":[1]},\"score_threshold\":0.9}",
           "[]");
    EXPECT("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":[1,0],\"sparse_vector\":{\"indices\":[1],"
           "\"values\":[1]},\"session_id\":\"x\"}",
           "[{\"id\":4,\"score\":0.5,\"payload\":{\"session_id\":\"x\"}}]");
    EXPECT("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":[1,0],\"sparse_vector\":{\"indices\":[2],"
           "\"values\":[1]},\"filter\":{\"must\":[{\"has_id\":[2,3]}]},\"with_payload\":false}",
           "[{\"id\":2,\"score\":0.8333334},{\"id\":3,\"score\":0.5}]");
    EXPECT("{\"op\":\"search_hybrid\",\"collection\":\"h\",\"dense_vector\":[1,0],\"sparse_vector\":{\"indices\":[1],"
           "\"values\":[1]},\"limit\":1,\"with_vectors\":true}",
           "[{\"id\":1,\"score\":0.8333334,\"payload\":{},\"vector\":[1.0,0.0],\"sparse_vector\":"
           "{\"indices\":[1],\"values\":[1.0]}}]");
}

/* The sparse vectors alone: the points sharing an index with the query, by dot product over the shared indices. */
TEST(search_sparse) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"s\",\"dim\":2,\"distance\":\"Cosine\",\"sparse\":true}",
           "{\"collection\":\"s\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"s\",\"points\":["
           "{\"id\":1,\"vector\":[1,0],\"sparse_vector\":{\"indices\":[1,7],\"values\":[1,2]},\"payload\":{\"k\":\"a\"}},"
           "{\"id\":2,\"vector\":[0,1],\"sparse_vector\":{\"indices\":[7],\"values\":[-1]},\"payload\":{\"k\":\"b\"}},"
           "{\"id\":3,\"vector\":[1,1],\"sparse_vector\":{\"indices\":[3],\"values\":[9]},\"payload\":{\"k\":\"a\"}},"
           "{\"id\":4,\"vector\":[1,1]}]}",
           "{\"upserted\":4}");
    /* {1: 2, 7: 1}: 1 = 2*1 + 1*2 = 4, 2 = -1; 3 and 4 share no index */
    EXPECT("{\"op\":\"search_sparse\",\"collection\":\"s\",\"sparse_vector\":{\"indices\":[7,1],\"values\":[1,2]},"
           "\"with_payload\":false}",
           "[{\"id\":1,\"score\":4.0},{\"id\":2,\"score\":-1.0}]");
    EXPECT("{\"op\":\"search_sparse\",\"collection\":\"s\",\"sparse_vector\":{\"indices\":[7,1],\"values\":[1,2]},"
           "\"offset\":1,\"limit\":5}",
           "[{\"id\":2,\"score\":-1.0,\"payload\":{\"k\":\"b\"}}]");
    EXPECT("{\"op\":\"search_sparse\",\"collection\":\"s\",\"sparse_vector\":{\"indices\":[7,1],\"values\":[1,2]},"
           "\"score_threshold\":0,\"with_payload\":false}",
           "[{\"id\":1,\"score\":4.0}]");
    EXPECT("{\"op\":\"search_sparse\",\"collection\":\"s\",\"sparse_vector\":{\"indices\":[7,3],\"values\":[1,1]},"
           "\"filter\":{\"must\":[{\"key\":\"k\",\"match\":{\"value\":\"a\"}}]},\"with_payload\":false,\"with_vectors\":true}",
           "[{\"id\":3,\"score\":9.0,\"vector\":[0.70710677,0.70710677],\"sparse_vector\":{\"indices\":[3],"
           "\"values\":[9.0]}},{\"id\":1,\"score\":2.0,\"vector\":[1.0,0.0],\"sparse_vector\":{\"indices\":[1,7],"
           "\"values\":[1.0,2.0]}}]");
    EXPECT("{\"op\":\"search_sparse\",\"collection\":\"s\",\"sparse_vector\":{\"indices\":[],\"values\":[]}}", "[]");
    EXPECT_ERROR("{\"op\":\"search_sparse\",\"collection\":\"s\",\"sparse_vector\":{\"indices\":[1,1],\"values\":[1,2]}}",
                 "invalid_argument", "sparse query: ");
    EXPECT_ERROR("{\"op\":\"search_sparse\",\"collection\":\"s\",\"sparse_vector\":{\"indices\":[1],\"values\":[1]},"
                 "\"params\":{\"exact\":true}}",
                 "invalid_argument", "params");
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"dense_only\",\"dim\":2,\"distance\":\"Dot\"}",
           "{\"collection\":\"dense_only\"}");
    EXPECT_ERROR("{\"op\":\"search_sparse\",\"collection\":\"dense_only\",\"sparse_vector\":{\"indices\":[1],"
                 "\"values\":[1]}}",
                 "invalid_argument", "search_sparse needs a collection created with sparse vectors");
    EXPECT_ERROR("{\"op\":\"search_sparse\",\"collection\":\"missing\",\"sparse_vector\":{\"indices\":[1],"
                 "\"values\":[1]}}",
                 "not_found", "missing");
}

/* Runs request and checks the response's text is exactly expected (not only its value). */
static void expect_text_at(int line, const char *request, const char *expected) {
    char *got = eg_exec_json(db, request, strlen(request));
    if (!got || strcmp(got, expected) != 0) {
        fprintf(stderr, "  %s:%d: %s\n    expected %s\n    got      %s\n", __FILE__, line, request, expected,
                got ? got : "(null)");
        test_failures_in_current++;
    }
    free(got);
}
#define EXPECT_TEXT(request, expected) expect_text_at(__LINE__, request, expected)

/* A float32 comes back as the shortest decimal that reads back to it (0.1, not 0.10000000149011612), scores
 * too; a payload double as the shortest that reads back to the same double, bit for bit. */
TEST(numbers_come_back_in_their_shortest_form) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"s\",\"dim\":2,\"distance\":\"Dot\"}",
           "{\"collection\":\"s\"}");
    EXPECT("{\"op\":\"upsert\",\"collection\":\"s\",\"points\":[{\"id\":1,\"vector\":[0.1,0.2],\"payload\":"
           "{\"a\":0.1,\"b\":1e300,\"c\":5e-324,\"d\":0.30000000000000004,\"e\":-0.0,\"f\":100.0,\"g\":3}}]}",
           "{\"upserted\":1}");
    EXPECT_TEXT("{\"op\":\"get\",\"collection\":\"s\",\"ids\":[1],\"with_vectors\":true}",
                "{\"ok\":true,\"result\":[{\"id\":1,\"payload\":{\"a\":0.1,\"b\":1e300,\"c\":5e-324,\"d\":"
                "0.30000000000000004,\"e\":-0.0,\"f\":100.0,\"g\":3},\"vector\":[0.1,0.2]}]}");
    EXPECT_TEXT("{\"op\":\"search\",\"collection\":\"s\",\"vector\":[0.3,0.7],\"with_payload\":false}",
                "{\"ok\":true,\"result\":[{\"id\":1,\"score\":0.17}]}");
    json_t *points = result_of("{\"op\":\"get\",\"collection\":\"s\",\"ids\":[1]}");
    json_t *payload = json_object_get(json_array_get(points, 0), "payload");
    const char *keys[] = {"a", "b", "c", "d", "e"};
    const double values[] = {0.1, 1e300, 5e-324, 0.30000000000000004, -0.0};
    for (int i = 0; i < 5; i++) {
        double got = json_real_value(json_object_get(payload, keys[i]));
        CHECK(memcmp(&got, &values[i], sizeof got) == 0);
    }
    json_decref(points);
}

/* Through the C API a numeric id may exceed JSON's integers (2^63 - 1): exec writes it as decimal text. */
TEST(ids_beyond_json_integers) {
    EXPECT("{\"op\":\"create_collection\",\"collection\":\"big\",\"dim\":1,\"distance\":\"Dot\"}",
           "{\"collection\":\"big\"}");
    float one = 1;
    eg_point p = {.id = eg_point_id_num(UINT64_MAX), .vector = &one, .dim = 1};
    eg_error err;
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "big", &p, 1, &err), &err);
    EXPECT("{\"op\":\"upsert\",\"collection\":\"big\",\"points\":[{\"id\":9223372036854775807,\"vector\":[2]}]}",
           "{\"upserted\":1}");
    EXPECT("{\"op\":\"scroll\",\"collection\":\"big\",\"limit\":1,\"with_payload\":false}",
           "{\"points\":[{\"id\":9223372036854775807}],\"next_offset\":\"18446744073709551615\"}");
    EXPECT("{\"op\":\"search\",\"collection\":\"big\",\"vector\":[1],\"with_payload\":false}",
           "[{\"id\":9223372036854775807,\"score\":2.0},{\"id\":\"18446744073709551615\",\"score\":1.0}]");
}

/* Runs one test on a fresh data folder. */
#define RUN_FRESH(name)                                                                                              \
    do {                                                                                                             \
        db = test_open_fresh();                                                                                      \
        RUN(name);                                                                                                   \
        eg_close(db);                                                                                                \
    } while (0)

int main(void) {
    RUN_FRESH(collections);
    RUN_FRESH(upsert_and_get);
    RUN_FRESH(cosine_vectors_come_back_normalised);
    RUN_FRESH(payload_and_vector_updates);
    RUN_FRESH(deletes);
    RUN_FRESH(scroll_pagination);
    RUN_FRESH(search_dot);
    RUN_FRESH(search_distances);
    RUN_FRESH(search_hybrid);
    RUN_FRESH(search_sparse);
    RUN_FRESH(ids_beyond_json_integers);
    RUN_FRESH(numbers_come_back_in_their_shortest_form);
    return test_summary();
}
