/* test_serve_query.c — Qdrant's search routes (src/serve/qdrant_query.c) called through the router, as the server
 * calls it: POST /points/query (dense, sparse, by id, without a query; prefetch with filters and limits; RRF with
 * k and weights, DBSF; rescoring), /points/query/batch, and the older /points/search and /points/search/batch.
 * The fused scores are worked out by hand in the comments on a small fixed collection; every refusal is checked
 * for its HTTP status and its words.
 *
 * The collection "h" (dim 2, Dot, named vectors "dense" and "sparse"):
 *   id  dense      sparse          payload
 *   1   [1, 0]     {1: 1}          {"color": "red",  "n": 1}
 *   2   [0, 1]     {1: 3, 2: 1}    {"color": "blue", "n": 2}
 *   3   [0.5, 0]   none            {"color": "red",  "n": 3}
 *   4   [0, 0.5]   {2: 5}          {"color": "blue", "n": 4}
 * so the dense query [1, 0] ranks 1 (1), 3 (0.5), 2 (0), 4 (0) — equal scores by id — and the sparse query {1: 1}
 * ranks 2 (3), 1 (1): 3 has no sparse vector and 4 shares no index. */
#include "test.h"

#include "serve/qdrant_shapes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static eg_db *db;
static eg_serve_ctx ctx;
static eg_error err;

#define DENSE_PREFETCH "{\"query\":[1,0],\"using\":\"dense\"}"
#define SPARSE_PREFETCH "{\"query\":{\"indices\":[1],\"values\":[1]},\"using\":\"sparse\"}"
#define HYBRID "\"prefetch\":[" DENSE_PREFETCH "," SPARSE_PREFETCH "]"

typedef struct answer {
    unsigned status;
    json_t *body; /* the whole response */
} answer;

static answer post(const char *path, const char *body) {
    eg_http_request req = {.method = "POST", .path = path, .body = body, .body_len = body ? strlen(body) : 0};
    eg_http_response resp;
    eg_serve_route(&ctx, &req, &resp);
    json_error_t jerr;
    answer a = {resp.status, resp.body ? json_loadb(resp.body, resp.body_len, 0, &jerr) : NULL};
    free(resp.body);
    return a;
}

/* The scored points of a successful answer: result.points for a query, result itself for a search. */
static json_t *points_of(json_t *result) {
    return json_is_array(result) ? result : json_object_get(result, "points");
}

/* Checks that points are exactly the [id, score] pairs of `want` (JSON text), in order. */
static bool same_ranking(json_t *points, const char *want_text) {
    json_t *want = json_loads(want_text, 0, NULL);
    bool same = want && json_is_array(points) && json_array_size(points) == json_array_size(want);
    for (size_t i = 0; same && i < json_array_size(want); i++) {
        json_t *got = json_array_get(points, i), *pair = json_array_get(want, i);
        same = json_integer_value(json_object_get(got, "id")) == json_integer_value(json_array_get(pair, 0)) &&
               fabs(json_number_value(json_object_get(got, "score")) - json_number_value(json_array_get(pair, 1))) <
                   1e-5 &&
               json_integer_value(json_object_get(got, "version")) == 0;
    }
    json_decref(want);
    return same;
}

/* A request that must succeed with the ranking `want`; returns the response for more checks (or NULL). */
static json_t *expect_ranking_at(int line, const char *path, const char *body, const char *want) {
    answer a = post(path, body);
    json_t *points = points_of(json_object_get(a.body, "result"));
    if (a.status != 200 || !same_ranking(points, want)) {
        char *got = a.body ? json_dumps(a.body, JSON_COMPACT) : NULL;
        fprintf(stderr, "  %s:%d: POST %s %s\n    -> %u %s\n    expected ranking %s\n", __FILE__, line, path, body,
                a.status, got ? got : "(no body)", want);
        free(got);
        test_failures_in_current++;
        json_decref(a.body);
        return NULL;
    }
    return a.body;
}
#define EXPECT_RANKING(path, body, want) json_decref(expect_ranking_at(__LINE__, path, body, want))

/* A request that must be refused with `status` and a Qdrant error envelope whose message holds `words`. */
static void expect_refusal_at(int line, const char *path, const char *body, unsigned status, const char *words) {
    answer a = post(path, body);
    const char *message = json_string_value(json_object_get(json_object_get(a.body, "status"), "error"));
    if (a.status != status || !message || !strstr(message, words) || !json_is_number(json_object_get(a.body, "time"))) {
        fprintf(stderr, "  %s:%d: POST %s %s\n    -> %u \"%s\", expected %u saying \"%s\"\n", __FILE__, line, path,
                body ? body : "(none)", a.status, message ? message : "(no message)", status, words);
        test_failures_in_current++;
    }
    json_decref(a.body);
}
#define EXPECT_REFUSAL(path, body, status, words) expect_refusal_at(__LINE__, path, body, status, words)

#define QUERY "/collections/h/points/query"
#define SEARCH "/collections/h/points/search"

static void add_point(const char *collection, uint64_t id, float *dense, uint32_t *indices, float *values,
                      size_t nnz, json_t *payload) {
    eg_point p = {.id = eg_point_id_num(id), .vector = dense, .dim = 2, .sparse = {indices, values, nnz},
                  .payload = payload};
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), collection, &p, 1, &err), &err);
    json_decref(payload);
}

static void fixture(void) {
    db = test_open_fresh();
    REQUIRE(db);
    REQUIRE(eg_catalog_open(db, &ctx.catalog, &err) == EG_OK);
    REQUIRE(eg_serve_metrics_new(&ctx.metrics, &err) == EG_OK);
    ctx.db = db;
    eg_vectors *v = eg_db_vectors(db);
    eg_collection_config hybrid = {.dim = 2, .distance = EG_DISTANCE_DOT, .sparse = true};
    CHECK_OK(eg_vectors_create_collection(v, "h", &hybrid, &err), &err);
    eg_qdrant_layout named = {"dense", "sparse"};
    CHECK_OK(eg_catalog_set_layout(ctx.catalog, "h", &named, &err), &err);
    float d1[] = {1, 0}, d2[] = {0, 1}, d3[] = {0.5f, 0}, d4[] = {0, 0.5f};
    uint32_t i1[] = {1}, i2[] = {1, 2}, i4[] = {2};
    float v1[] = {1}, v2[] = {3, 1}, v4[] = {5};
    add_point("h", 1, d1, i1, v1, 1, json_pack("{s:s, s:i}", "color", "red", "n", 1));
    add_point("h", 2, d2, i2, v2, 2, json_pack("{s:s, s:i}", "color", "blue", "n", 2));
    add_point("h", 3, d3, NULL, NULL, 0, json_pack("{s:s, s:i}", "color", "red", "n", 3));
    add_point("h", 4, d4, i4, v4, 1, json_pack("{s:s, s:i}", "color", "blue", "n", 4));
    /* "e": one unnamed Euclid vector of dim 2 (no catalog record: it reads as unnamed) */
    eg_collection_config euclid = {.dim = 2, .distance = EG_DISTANCE_EUCLID};
    CHECK_OK(eg_vectors_create_collection(v, "e", &euclid, &err), &err);
    float e1[] = {0, 0}, e2[] = {3, 0}, e3[] = {1, 0};
    add_point("e", 1, e1, NULL, NULL, 0, NULL);
    add_point("e", 2, e2, NULL, NULL, 0, NULL);
    add_point("e", 3, e3, NULL, NULL, 0, NULL);
}

static void fixture_close(void) {
    eg_catalog_free(ctx.catalog);
    eg_serve_metrics_free(ctx.metrics);
    eg_close(db);
}

/* ---- Plain searches ----------------------------------------------------------------------------------------- */

TEST(query_by_dense_and_sparse_vectors) {
    EXPECT_RANKING(QUERY, "{\"query\":[1,0],\"using\":\"dense\"}", "[[1,1.0],[3,0.5],[2,0.0],[4,0.0]]");
    EXPECT_RANKING(QUERY, "{\"query\":{\"nearest\":[1,0]},\"using\":\"dense\",\"limit\":2,\"offset\":1}",
                   "[[3,0.5],[2,0.0]]");
    EXPECT_RANKING(QUERY, "{\"query\":{\"indices\":[1],\"values\":[1]},\"using\":\"sparse\"}", "[[2,3.0],[1,1.0]]");
    EXPECT_RANKING(QUERY, "{\"query\":{\"nearest\":{\"indices\":[2,1],\"values\":[1,1]}},\"using\":\"sparse\"}",
                   "[[4,5.0],[2,4.0],[1,1.0]]");
    /* a threshold is a floor for Dot (inclusive); a filter applies during the search */
    EXPECT_RANKING(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"score_threshold\":0.5}", "[[1,1.0],[3,0.5]]");
    EXPECT_RANKING(QUERY,
                   "{\"query\":[1,0],\"using\":\"dense\",\"filter\":{\"must\":[{\"key\":\"color\",\"match\":"
                   "{\"value\":\"blue\"}}]}}",
                   "[[2,0.0],[4,0.0]]");
    /* params are accepted: exact, hnsw_ef, oversampling, rescore true */
    EXPECT_RANKING(QUERY,
                   "{\"query\":[1,0],\"using\":\"dense\",\"limit\":1,\"params\":{\"exact\":true,\"hnsw_ef\":32,"
                   "\"quantization\":{\"rescore\":true,\"oversampling\":2.0}}}",
                   "[[1,1.0]]");
}

/* Euclid's score is the distance (smaller is better, as in Qdrant), and a threshold is then a ceiling. */
TEST(euclid_scores_are_distances) {
    EXPECT_RANKING("/collections/e/points/query", "{\"query\":[0.5,0]}", "[[1,0.5],[3,0.5],[2,2.5]]");
    EXPECT_RANKING("/collections/e/points/query", "{\"query\":[0.5,0],\"score_threshold\":0.5}", "[[1,0.5],[3,0.5]]");
    EXPECT_RANKING("/collections/e/points/search", "{\"vector\":[3,0],\"limit\":1}", "[[2,0.0]]");
}

/* A point id as the query searches with that point's vector (the one `using` names) and leaves it out. */
TEST(query_by_point_id) {
    /* 3's dense vector [0.5, 0]: 1 scores 0.5, 2 and 4 score 0 */
    EXPECT_RANKING(QUERY, "{\"query\":3,\"using\":\"dense\"}", "[[1,0.5],[2,0.0],[4,0.0]]");
    /* 4's sparse vector {2: 5}: 2 scores 5 */
    EXPECT_RANKING(QUERY, "{\"query\":{\"nearest\":4},\"using\":\"sparse\"}", "[[2,5.0]]");
    EXPECT_REFUSAL(QUERY, "{\"query\":99,\"using\":\"dense\"}", 404, "Vector with name \"dense\" for point not found");
    EXPECT_REFUSAL(QUERY, "{\"query\":3,\"using\":\"sparse\"}", 404, "Vector with name \"sparse\" for point not found");
}

/* Without a query, the points in id order, each with score 1 (Qdrant's scroll inside a query). */
TEST(query_without_query_lists_points_by_id) {
    EXPECT_RANKING(QUERY, "{\"limit\":2}", "[[1,1.0],[2,1.0]]");
    EXPECT_RANKING(QUERY, "{\"limit\":2,\"offset\":1}", "[[2,1.0],[3,1.0]]");
    EXPECT_RANKING(QUERY, "{\"filter\":{\"must\":[{\"key\":\"n\",\"range\":{\"gte\":3}}]}}", "[[3,1.0],[4,1.0]]");
}

/* ---- Fusion ------------------------------------------------------------------------------------------------- */

/* RRF, k = 2: dense 1, 3, 2, 4 at positions 0..3 and sparse 2, 1 give 1 = 1/2 + 1/3, 2 = 1/4 + 1/2, 3 = 1/3,
 * 4 = 1/5. */
TEST(rrf_fuses_prefetches) {
    EXPECT_RANKING(QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"rrf\"}}",
                   "[[1,0.8333334],[2,0.75],[3,0.33333334],[4,0.2]]");
    /* an explicit k = 1: 1 = 1/1 + 1/2, 2 = 1/3 + 1/1, 3 = 1/2, 4 = 1/4 */
    EXPECT_RANKING(QUERY, "{" HYBRID ",\"query\":{\"rrf\":{\"k\":1}}}", "[[1,1.5],[2,1.3333334],[3,0.5],[4,0.25]]");
    /* weights [1, 3]: the sparse shares become 1 / ((p + 1) / 3 + 1): 2 = 1/4 + 3/4 = 1, 1 = 1/2 + 3/5 = 1.1 */
    EXPECT_RANKING(QUERY, "{" HYBRID ",\"query\":{\"rrf\":{\"weights\":[1,3]}}}",
                   "[[1,1.1],[2,1.0],[3,0.33333334],[4,0.2]]");
    /* limit, offset and the threshold (inclusive) apply to the fused ranking */
    EXPECT_RANKING(QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"rrf\"},\"limit\":2,\"offset\":1}",
                   "[[2,0.75],[3,0.33333334]]");
    EXPECT_RANKING(QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"rrf\"},\"score_threshold\":0.75}",
                   "[[1,0.8333334],[2,0.75]]");
    /* a single prefetch (an object, not a list) */
    EXPECT_RANKING(QUERY, "{\"prefetch\":" SPARSE_PREFETCH ",\"query\":{\"fusion\":\"rrf\"}}",
                   "[[2,0.5],[1,0.33333334]]");
}

/* DBSF: dense scores 1, 0.5, 0, 0 (mean 0.375, sample sd 0.4787) map to 0.7176, 0.5435, 0.3694, 0.3694; sparse
 * 3, 1 (mean 2, sd 1.4142) to 0.6179, 0.3821. Sums: 1 = 1.0997, 2 = 0.9873, 3 = 0.5435, 4 = 0.3694. */
TEST(dbsf_fuses_prefetches) {
    EXPECT_RANKING(QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"dbsf\"}}",
                   "[[1,1.0997459],[2,0.9872929],[3,0.5435194],[4,0.3694418]]");
    /* one point in a prefetch normalises to 0.5 */
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":[{\"query\":[1,0],\"using\":\"dense\",\"limit\":1}," SPARSE_PREFETCH
                   "],\"query\":{\"fusion\":\"dbsf\"}}",
                   "[[1,0.8821489],[2,0.6178511]]");
}

/* A prefetch's filter and limit shape its own ranking; the request's filter reaches every prefetch. */
TEST(prefetch_filters_and_limits) {
    /* dense among the red ones: 1, 3; sparse: 2, 1. 1 = 1/2 + 1/3, 2 = 1/2, 3 = 1/3 */
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":[{\"query\":[1,0],\"using\":\"dense\",\"filter\":{\"must\":[{\"key\":\"color\","
                   "\"match\":{\"value\":\"red\"}}]}}," SPARSE_PREFETCH "],\"query\":{\"fusion\":\"rrf\"}}",
                   "[[1,0.8333334],[2,0.5],[3,0.33333334]]");
    /* the blue ones only, everywhere: dense 2, 4; sparse 2. 2 = 1/2 + 1/2, 4 = 1/3 */
    EXPECT_RANKING(QUERY,
                   "{" HYBRID ",\"query\":{\"fusion\":\"rrf\"},\"filter\":{\"must\":[{\"key\":\"color\",\"match\":"
                   "{\"value\":\"blue\"}}]}}",
                   "[[2,1.0],[4,0.33333334]]");
    /* dense limited to 1: 1 = 1/2 + 1/3, 2 = 1/2 */
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":[{\"query\":[1,0],\"using\":\"dense\",\"limit\":1}," SPARSE_PREFETCH
                   "],\"query\":{\"fusion\":\"rrf\"}}",
                   "[[1,0.8333334],[2,0.5]]");
    /* a prefetch's own threshold: dense at least 0.5 gives 1, 3 */
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":[{\"query\":[1,0],\"using\":\"dense\",\"score_threshold\":0.5}],"
                   "\"query\":{\"fusion\":\"rrf\"}}",
                   "[[1,0.5],[3,0.33333334]]");
    /* nested: an inner fusion of both, rescored by the dense query among those points */
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":{" HYBRID ",\"query\":{\"fusion\":\"rrf\"},\"limit\":2},\"query\":[0,1],"
                   "\"using\":\"dense\"}",
                   "[[2,1.0],[1,0.0]]");
}

/* A vector query over prefetches rescores their points: only they are searched. */
TEST(vector_query_rescores_prefetched_points) {
    EXPECT_RANKING(QUERY, "{\"prefetch\":" SPARSE_PREFETCH ",\"query\":[1,0],\"using\":\"dense\"}",
                   "[[1,1.0],[2,0.0]]");
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":" DENSE_PREFETCH ",\"query\":{\"indices\":[2],\"values\":[1]},\"using\":\"sparse\","
                   "\"limit\":1}",
                   "[[4,5.0]]");
    /* prefetches that find nothing leave nothing to rescore */
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":{\"query\":[1,0],\"using\":\"dense\",\"filter\":{\"must\":[{\"key\":\"n\",\"range\":"
                   "{\"gt\":100}}]}},\"query\":[1,0],\"using\":\"dense\"}",
                   "[]");
    EXPECT_RANKING(QUERY,
                   "{\"prefetch\":{\"query\":[1,0],\"using\":\"dense\",\"filter\":{\"must\":[{\"key\":\"n\",\"range\":"
                   "{\"gt\":100}}]}},\"query\":{\"fusion\":\"dbsf\"}}",
                   "[]");
}

/* with_payload and with_vector select what each scored point carries; neither is returned by default. */
TEST(selectors) {
    json_t *body = expect_ranking_at(__LINE__, QUERY,
                                     "{\"query\":[1,0],\"using\":\"dense\",\"limit\":1,\"with_payload\":[\"color\"],"
                                     "\"with_vector\":true}",
                                     "[[1,1.0]]");
    json_t *point = json_array_get(json_object_get(json_object_get(body, "result"), "points"), 0);
    json_t *want = json_loads("{\"color\":\"red\"}", 0, NULL);
    CHECK(json_equal(json_object_get(point, "payload"), want));
    json_decref(want);
    want = json_loads("{\"dense\":[1.0,0.0],\"sparse\":{\"indices\":[1],\"values\":[1.0]}}", 0, NULL);
    CHECK(json_equal(json_object_get(point, "vector"), want));
    json_decref(want);
    json_decref(body);

    body = expect_ranking_at(__LINE__, QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"rrf\"},\"limit\":1}",
                             "[[1,0.8333334]]");
    point = json_array_get(json_object_get(json_object_get(body, "result"), "points"), 0);
    CHECK(!json_object_get(point, "payload") && !json_object_get(point, "vector"));
    json_decref(body);

    body = expect_ranking_at(__LINE__, SEARCH,
                             "{\"vector\":{\"name\":\"dense\",\"vector\":[1,0]},\"limit\":1,\"with_payload\":"
                             "{\"exclude\":[\"color\"]}}",
                             "[[1,1.0]]");
    want = json_loads("{\"n\":1}", 0, NULL);
    CHECK(json_equal(json_object_get(json_array_get(json_object_get(body, "result"), 0), "payload"), want));
    json_decref(want);
    json_decref(body);
}

/* ---- Batches and the older routes -------------------------------------------------------------------------- */

TEST(batches_and_legacy_search) {
    answer a = post(QUERY "/batch", "{\"searches\":[{\"query\":[1,0],\"using\":\"dense\",\"limit\":1},{" HYBRID
                                    ",\"query\":{\"fusion\":\"rrf\"},\"limit\":2}]}");
    json_t *result = json_object_get(a.body, "result");
    CHECK(a.status == 200 && json_array_size(result) == 2);
    CHECK(same_ranking(json_object_get(json_array_get(result, 0), "points"), "[[1,1.0]]"));
    CHECK(same_ranking(json_object_get(json_array_get(result, 1), "points"), "[[1,0.8333334],[2,0.75]]"));
    json_decref(a.body);

    EXPECT_RANKING(SEARCH, "{\"vector\":{\"name\":\"dense\",\"vector\":[1,0]},\"limit\":2}", "[[1,1.0],[3,0.5]]");
    EXPECT_RANKING(SEARCH, "{\"vector\":{\"name\":\"dense\",\"vector\":[1,0]},\"top\":3,\"offset\":1}",
                   "[[3,0.5],[2,0.0],[4,0.0]]");
    EXPECT_RANKING(SEARCH,
                   "{\"vector\":{\"name\":\"sparse\",\"vector\":{\"indices\":[1],\"values\":[1]}},\"limit\":5,"
                   "\"score_threshold\":2}",
                   "[[2,3.0]]");
    a = post(SEARCH "/batch", "{\"searches\":[{\"vector\":{\"name\":\"dense\",\"vector\":[0,1]},\"limit\":1},"
                              "{\"vector\":{\"name\":\"sparse\",\"vector\":{\"indices\":[2],\"values\":[1]}},"
                              "\"limit\":1}]}");
    result = json_object_get(a.body, "result");
    CHECK(a.status == 200 && json_array_size(result) == 2);
    CHECK(same_ranking(json_array_get(result, 0), "[[2,1.0]]") && same_ranking(json_array_get(result, 1), "[[4,5.0]]"));
    json_decref(a.body);
    /* an empty batch answers an empty list */
    a = post(QUERY "/batch", "{\"searches\":[]}");
    CHECK(a.status == 200 && json_array_size(json_object_get(a.body, "result")) == 0);
    json_decref(a.body);
}

/* ---- Refusals ------------------------------------------------------------------------------------------------ */

TEST(collection_vector_and_filter_errors) {
    EXPECT_REFUSAL("/collections/nope/points/query", "{\"query\":[1,0]}", 404, "Collection `nope` doesn't exist!");
    EXPECT_REFUSAL("/collections/nope/points/search/batch", "{\"searches\":[]}", 404, "doesn't exist");
    /* a name that is not UTF-8 is quoted with '?' for its bytes: the answer stays JSON */
    EXPECT_REFUSAL("/collections/\xb7nope/points/query", "{}", 404, "Collection `?nope` doesn't exist!");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0,0],\"using\":\"dense\"}", 400,
                   "Wrong input: Vector dimension error: expected dim: 2, got 3");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"x\"}", 400, "Wrong input: Not existing vector name error: x");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0]}", 400, "Not existing vector name error: ");
    EXPECT_REFUSAL(SEARCH, "{\"vector\":[1,0],\"limit\":1}", 400, "Not existing vector name error: ");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"sparse\"}", 400,
                   "Conversion between sparse and regular vectors failed");
    EXPECT_REFUSAL(QUERY, "{\"query\":{\"indices\":[1],\"values\":[1]},\"using\":\"dense\"}", 400,
                   "Conversion between sparse and regular vectors failed");
    EXPECT_REFUSAL(QUERY, "{\"query\":{\"indices\":[1,1],\"values\":[1,2]},\"using\":\"sparse\"}", 400,
                   "Wrong input: sparse query: ");
    EXPECT_REFUSAL(QUERY, "{\"query\":{\"indices\":[1],\"values\":[1,2]},\"using\":\"sparse\"}", 400,
                   "must pair up");
    EXPECT_REFUSAL(QUERY, "{\"query\":[[1,0],[0,1]],\"using\":\"dense\"}", 400, "multivectors are not supported");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,\"a\"],\"using\":\"dense\"}", 400, "Format error in JSON body");
    EXPECT_REFUSAL(QUERY, "{\"query\":\"not an id\",\"using\":\"dense\"}", 400,
                   "Expected some form of vector, id, or a type of query");
    EXPECT_REFUSAL(QUERY, "{\"query\":{\"text\":\"hello\",\"model\":\"m\"},\"using\":\"dense\"}", 400,
                   "inference (documents, images, objects as queries) is not supported");
    EXPECT_REFUSAL(QUERY,
                   "{\"query\":[1,0],\"using\":\"dense\",\"filter\":{\"must\":[{\"key\":\"a\",\"geo_radius\":{}}]}}",
                   400, "Format error in JSON body: filter: ");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"rrf\"},\"filter\":{\"must\":7}}", 400, "filter: ");
}

TEST(body_validation_errors) {
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"limit\":0}", 422,
                   "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]");
    EXPECT_REFUSAL(QUERY,
                   "{\"prefetch\":[{\"query\":[1,0],\"using\":\"dense\",\"limit\":0}],\"query\":{\"fusion\":\"rrf\"}}",
                   422, "[prefetch[0].limit: value 0 invalid, must be 1 or larger]");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"rrf\":{\"k\":0}}}", 422, "[query.rrf.k: value 0 invalid");
    EXPECT_REFUSAL(QUERY,
                   "{\"query\":[1,0],\"using\":\"dense\",\"params\":{\"quantization\":{\"oversampling\":0.5}}}", 422,
                   "params.quantization.oversampling: value 0.5 invalid, must be 1.0 or larger");
    EXPECT_REFUSAL(QUERY "/batch", "{\"searches\":[{\"limit\":1},{\"limit\":0}]}", 422, "[searches[1].limit:");
    EXPECT_REFUSAL(SEARCH, "{\"vector\":{\"name\":\"dense\",\"vector\":[1,0]},\"limit\":0}", 422, "[limit: value 0");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"limit\":-1}", 400, "limit must be a non-negative");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"offset\":1.5}", 400, "offset must be a non-negative");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"limit\":10000,\"offset\":1}", 400,
                   "engram returns at most 10000 points");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"score_threshold\":\"high\"}", 400,
                   "score_threshold must be a number");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":7}", 400, "using must be a vector name");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"colour\":1}", 400, "unknown field `colour`");
    EXPECT_REFUSAL(QUERY, "{\"prefetch\":[{\"offset\":1}],\"query\":{\"fusion\":\"rrf\"}}", 400,
                   "unknown field `offset` in prefetch[0]");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"with_payload\":7}", 400, "with_payload must be");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"with_vector\":[\"x\"]}", 400,
                   "Not existing vector name error: x");
    EXPECT_REFUSAL(QUERY, "[1,0]", 400, "the request body must be a JSON object");
    EXPECT_REFUSAL(QUERY, NULL, 400, "the request body must be a JSON object");
    EXPECT_REFUSAL(QUERY, "{\"query\":", 400, "Format error in JSON body");
    EXPECT_REFUSAL(QUERY "/batch", "{\"searches\":7}", 400, "missing field `searches`");
    EXPECT_REFUSAL(QUERY "/batch", "{\"searches\":[],\"extra\":1}", 400, "unknown field `extra`");
    EXPECT_REFUSAL(QUERY "/batch", "{\"searches\":[7]}", 400, "searches[0] must be a JSON object");
    EXPECT_REFUSAL(SEARCH, "{\"vector\":{\"name\":\"dense\",\"vector\":[1,0]}}", 400, "missing field `limit`");
    EXPECT_REFUSAL(SEARCH, "{\"limit\":1}", 400, "missing field `vector`");
    EXPECT_REFUSAL(SEARCH, "{\"vector\":{\"name\":\"dense\"},\"limit\":1}", 400, "vector must be a list of numbers");
    EXPECT_REFUSAL(SEARCH, "{\"vector\":{\"name\":\"dense\",\"vector\":[1,0]},\"limit\":1,\"prefetch\":[]}", 400,
                   "unknown field `prefetch`");
    EXPECT_REFUSAL(SEARCH "/batch", "{}", 400, "missing field `searches`");
    /* read parameters in the query string are checked too */
    eg_http_param bad = {"consistency", "some"};
    eg_http_request req = {
        .method = "POST", .path = QUERY, .params = &bad, .param_count = 1, .body = "{}", .body_len = 2};
    eg_http_response resp;
    eg_serve_route(&ctx, &req, &resp);
    CHECK(resp.status == 400 && resp.body && strstr(resp.body, "consistency must be a number of replicas"));
    free(resp.body);
}

/* Qdrant's own checks of a query's structure, with its words. */
TEST(query_structure_errors) {
    EXPECT_REFUSAL(QUERY, "{" HYBRID "}", 400,
                   "Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a "
                   "query.");
    EXPECT_REFUSAL(QUERY, "{\"score_threshold\":0.5}", 400,
                   "Bad request: A query is needed to use the score_threshold.");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"rrf\"},\"using\":\"dense\"}", 400,
                   "Bad request: Fusion queries cannot be combined with the 'using' field.");
    EXPECT_REFUSAL(QUERY, "{\"query\":{\"fusion\":\"dbsf\"}}", 400, "cannot apply Fusion without prefetches");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"rrf\":{\"weights\":[1]}}}", 400,
                   "Number of weights in RRF should match number of pre-fetches: got 1, expected 2");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"rrf\":{\"weights\":[]}}}", 400,
                   "Number of weights in RRF should match number of pre-fetches: got 0, expected 2");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"rrf\":{\"weights\":[1,\"a\"]}}}", 400, "query.rrf.weights");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"fusion\":\"max\"}}", 400, "expected `rrf` or `dbsf`");
    EXPECT_REFUSAL(QUERY, "{" HYBRID ",\"query\":{\"rrf\":{\"k\":2,\"bias\":1}}}", 400, "unknown field `bias`");
    EXPECT_REFUSAL(QUERY, "{\"prefetch\":[{\"prefetch\":" DENSE_PREFETCH "}],\"query\":{\"fusion\":\"rrf\"}}", 400,
                   "A query is needed to merge the prefetches");
}

/* What engram does not do is refused by name, never ignored. */
TEST(unsupported_features_are_named) {
    static const char *const kinds[] = {"recommend", "discover", "context", "order_by", "formula", "sample",
                                        "relevance_feedback"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char body[128], words[96];
        snprintf(body, sizeof body, "{\"query\":{\"%s\":{}}}", kinds[i]);
        snprintf(words, sizeof words, "Wrong input: `%s` queries are not supported by engram", kinds[i]);
        EXPECT_REFUSAL(QUERY, body, 400, words);
    }
    EXPECT_REFUSAL(QUERY, "{\"query\":{\"nearest\":[1,0],\"mmr\":{\"diversity\":0.5}},\"using\":\"dense\"}", 400,
                   "`mmr` is not supported by engram");
    EXPECT_REFUSAL(QUERY, "{\"query\":1,\"using\":\"dense\",\"lookup_from\":{\"collection\":\"e\"}}", 400,
                   "`lookup_from` is not supported by engram");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"shard_key\":\"a\"}", 400,
                   "`shard_key` is not supported by engram");
    EXPECT_REFUSAL(SEARCH, "{\"vector\":[1,0],\"limit\":1,\"shard_key\":\"a\"}", 400, "`shard_key` is not supported");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"group_by\":\"color\"}", 400,
                   "unknown field `group_by`");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"params\":{\"quantization\":{\"rescore\":false}}}",
                   400, "rescore false is not supported by engram");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"params\":{\"quantization\":{\"ignore\":true}}}", 400,
                   "ignore true is not supported by engram");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"params\":{\"indexed_only\":true}}", 400,
                   "indexed_only is not supported by engram");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"params\":{\"acorn\":{\"enable\":true}}}", 400,
                   "acorn is not supported by engram");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"params\":{\"hnsw_ef\":0}}", 400,
                   "params.hnsw_ef must be from 1 to 10000");
    EXPECT_REFUSAL(QUERY, "{\"query\":[1,0],\"using\":\"dense\",\"params\":{\"mode\":1}}", 400, "unknown field `mode`");
}

/* Qdrant's other search endpoints answer a refusal naming them. */
TEST(other_search_endpoints_are_refused_by_name) {
    static const char *const endpoints[] = {"points/query/groups",         "points/search/groups",
                                            "points/search/matrix/pairs",  "points/search/matrix/offsets",
                                            "points/recommend",            "points/recommend/batch",
                                            "points/recommend/groups",     "points/discover",
                                            "points/discover/batch"};
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        char path[96], words[128];
        snprintf(path, sizeof path, "/collections/h/%s", endpoints[i]);
        snprintf(words, sizeof words, "Wrong input: POST /collections/{collection_name}/%s is not supported by engram",
                 endpoints[i]);
        EXPECT_REFUSAL(path, "{}", 400, words);
    }
}

int main(void) {
    fixture();
    RUN(query_by_dense_and_sparse_vectors);
    RUN(euclid_scores_are_distances);
    RUN(query_by_point_id);
    RUN(query_without_query_lists_points_by_id);
    RUN(rrf_fuses_prefetches);
    RUN(dbsf_fuses_prefetches);
    RUN(prefetch_filters_and_limits);
    RUN(vector_query_rescores_prefetched_points);
    RUN(selectors);
    RUN(batches_and_legacy_search);
    RUN(collection_vector_and_filter_errors);
    RUN(body_validation_errors);
    RUN(query_structure_errors);
    RUN(unsupported_features_are_named);
    RUN(other_search_endpoints_are_refused_by_name);
    fixture_close();
    return test_summary();
}
