/* test_vectors_qdrant.c — the Qdrant backend (src/vector/qdrant) against an in-process `engram serve` on a loopback
 * port: every operation is run on it and on an embedded store with the same data and calls, and the two answers
 * are compared (same status, same points in the same order, scores within 1e-5); then what only a remote store
 * has: a chunked upsert whose third chunk fails (nothing of the call stays, points that existed are restored), a
 * refused connection and a server that never answers (unavailable, within the timeout), TLS (verified; a
 * self-signed certificate trusted through ca_file), the API key (sent, and never shown when wrong), URL
 * credentials kept out of messages, the collection prefix, the memory layer (create, recall, delete, check,
 * health) over it, and network faults under it (503s, a slow server, a server stopped and started again while
 * writes queue, a server down at open). */
#include "test.h"

#include <engram/engram.h>
#include <engram/serve.h>
#include <engram/vectors.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOLERANCE 1e-5

static eg_error err;

/* ---- The served folder and the two stores -------------------------------------------------------------------- */

typedef struct served {
    eg_db *db;
    eg_server *server;
    char url[64];
} served;

/* Serves a new folder on 127.0.0.1 (https with a certificate and key), with an API key when one is given. */
static bool serve_folder_with(served *s, const char *api_key, const char *cert, const char *key) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/served", test_scratch_dir());
    eg_options options = {.durability = EG_DURABILITY_NONE};
    if (eg_open(dir, &options, &s->db, &err) != EG_OK) {
        fprintf(stderr, "  eg_open: %s\n", err.message);
        return false;
    }
    eg_server_options server_options = {.http = "127.0.0.1:0", .api_key = api_key, .threads = 4,
                                         .tls_cert_file = cert, .tls_key_file = key};
    if (eg_server_start(s->db, &server_options, &s->server, &err) != EG_OK) {
        fprintf(stderr, "  eg_server_start: %s\n", err.message);
        eg_close(s->db);
        return false;
    }
    snprintf(s->url, sizeof s->url, "%s://127.0.0.1:%u", cert ? "https" : "http", (unsigned)eg_server_port(s->server));
    return true;
}

static bool serve_folder(served *s, const char *api_key) { return serve_folder_with(s, api_key, NULL, NULL); }

static void unserve(served *s) {
    eg_server_stop(s->server, 1000);
    eg_close(s->db);
}

static eg_vectors *open_remote(const eg_vectors_qdrant_options *options) {
    eg_vectors *v = NULL;
    if (eg_vectors_open_qdrant(options, &v, &err) != EG_OK) fprintf(stderr, "  open qdrant: %s\n", err.message);
    return v;
}

static eg_vectors *open_local(void) {
    eg_vectors *v = NULL;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/local", test_scratch_dir());
    eg_vectors_lmdb_options options = {0, true, 1};
    if (eg_vectors_open_lmdb(dir, &options, &v, &err) != EG_OK) fprintf(stderr, "  open lmdb: %s\n", err.message);
    return v;
}

/* A port nothing listens on: bound, then closed. */
static unsigned closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 1;
    close(fd);
    return ntohs(a.sin_port);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- Comparing the two answers ------------------------------------------------------------------------------- */

/* Both stores answer with the same status; on mismatch, both messages are printed. */
static bool same_status(eg_status local, const eg_error *local_err, eg_status remote, const eg_error *remote_err,
                        const char *what) {
    if (local == remote) return true;
    fprintf(stderr, "  %s: embedded %s (%s), qdrant %s (%s)\n", what, eg_status_name(local),
            local ? local_err->message : "", eg_status_name(remote), remote ? remote_err->message : "");
    return false;
}

static bool same_point(const eg_point *a, const eg_point *b, const char *what) {
    char ta[EG_POINT_ID_TEXT], tb[EG_POINT_ID_TEXT];
    eg_point_id_format(&a->id, ta);
    eg_point_id_format(&b->id, tb);
    bool ok = strcmp(ta, tb) == 0 && a->dim == b->dim && (!a->vector) == (!b->vector) &&
              a->sparse.count == b->sparse.count && (!a->payload) == (!b->payload) &&
              (!a->payload || json_equal(a->payload, b->payload));
    for (size_t i = 0; ok && a->vector && i < a->dim; i++) ok = fabs(a->vector[i] - b->vector[i]) <= TOLERANCE;
    for (size_t i = 0; ok && i < a->sparse.count; i++)
        ok = a->sparse.indices[i] == b->sparse.indices[i] && fabsf(a->sparse.values[i] - b->sparse.values[i]) <= 1e-6f;
    if (!ok) fprintf(stderr, "  %s: points differ: embedded %s, qdrant %s\n", what, ta, tb);
    return ok;
}

static bool same_points(const eg_point_list *a, const eg_point_list *b, const char *what) {
    if (a->count != b->count) {
        fprintf(stderr, "  %s: embedded %zu points, qdrant %zu\n", what, a->count, b->count);
        return false;
    }
    for (size_t i = 0; i < a->count; i++)
        if (!same_point(&a->items[i], &b->items[i], what)) return false;
    return true;
}

static bool same_scored(const eg_scored_list *a, const eg_scored_list *b, const char *what) {
    if (a->count != b->count) {
        fprintf(stderr, "  %s: embedded %zu results, qdrant %zu\n", what, a->count, b->count);
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (!same_point(&a->items[i].point, &b->items[i].point, what)) return false;
        if (fabs(a->items[i].score - b->items[i].score) > TOLERANCE) {
            fprintf(stderr, "  %s: result %zu: embedded score %.9g, qdrant %.9g\n", what, i, a->items[i].score,
                    b->items[i].score);
            return false;
        }
    }
    return true;
}

/* The two stores side by side: each check runs one call on both. */
typedef struct pair {
    eg_vectors *local, *remote;
} pair;

#define BOTH(call_local, call_remote, what)                                                                           \
    do {                                                                                                             \
        eg_error local_err_, remote_err_;                                                                            \
        eg_status local_st_ = (call_local), remote_st_ = (call_remote);                                               \
        CHECK(same_status(local_st_, &local_err_, remote_st_, &remote_err_, what));                                  \
    } while (0)

/* ---- Data ---------------------------------------------------------------------------------------------------- */

static uint64_t rng = 0x51ed270b27f3a1c5ULL;

static float unit(void) { return (float)((test_random(&rng) >> 11) % 2001) / 1000.0f - 1.0f; }

static eg_point_id id_of(size_t i) {
    if (i % 3 != 2) return eg_point_id_num(i * 7 + 1);
    eg_point_id id = {true, 0, {0}};
    id.uuid[0] = (uint8_t)i, id.uuid[6] = 0x40, id.uuid[8] = 0x80, id.uuid[15] = (uint8_t)(i * 13);
    return id;
}

static const char *const CITIES[] = {"Paris", "Lima", "Oslo"};

/* n points of dimension dim (sparse vectors too when sparse), ids from id_of. */
static eg_point *make_points(size_t n, uint32_t dim, bool sparse) {
    eg_point *points = calloc(n, sizeof *points);
    for (size_t i = 0; i < n; i++) {
        eg_point *p = &points[i];
        p->id = id_of(i);
        p->dim = dim;
        p->vector = malloc(dim * sizeof(float));
        for (uint32_t d = 0; d < dim; d++) p->vector[d] = unit();
        p->payload = json_pack("{s:s, s:i, s:s, s:[s,s]}", "city", CITIES[i % 3], "rank", (int)(i % 10), "session_id",
                               i % 2 ? "s1" : "s2", "tags", i % 4 ? "a" : "b", "c");
        if (sparse && i % 5 != 4) {
            p->sparse.count = 3;
            p->sparse.indices = malloc(3 * sizeof(uint32_t));
            p->sparse.values = malloc(3 * sizeof(float));
            for (size_t k = 0; k < 3; k++) {
                p->sparse.indices[k] = (uint32_t)((i + k * 5) % 17);
                p->sparse.values[k] = (float)(k + 1) * 0.5f + (float)(i % 4) * 0.25f;
            }
        }
    }
    return points;
}

static void free_points(eg_point *points, size_t n) {
    for (size_t i = 0; i < n; i++) eg_point_clear(&points[i]);
    free(points);
}

static eg_filter *filter_of(const char *text) {
    json_error_t jerr;
    json_t *json = json_loads(text, 0, &jerr);
    eg_filter *f = NULL;
    if (!json || eg_filter_parse(json, &f, &err) != EG_OK) fprintf(stderr, "  filter %s: %s\n", text, err.message);
    json_decref(json);
    return f;
}

static const char *const FILTERS[] = {
    NULL,
    "{\"must\":[{\"key\":\"city\",\"match\":{\"value\":\"Lima\"}}]}",
    "{\"should\":[{\"key\":\"rank\",\"range\":{\"gte\":7}},{\"key\":\"tags[]\",\"match\":{\"any\":[\"b\"]}}]}",
    "{\"must_not\":[{\"key\":\"city\",\"match\":{\"except\":[\"Oslo\",\"Paris\"]}}]}",
    "{\"must\":[{\"has_id\":[1,8,15,22]}]}",
};
#define FILTER_COUNT (sizeof FILTERS / sizeof FILTERS[0])

/* ---- The comparison scenarios -------------------------------------------------------------------------------- */

static void compare_collection(pair *p, const char *name) {
    eg_collection_info a, b;
    eg_error ea, eb;
    eg_status sa = eg_vectors_get_collection(p->local, name, &a, &ea);
    eg_status sb = eg_vectors_get_collection(p->remote, name, &b, &eb);
    CHECK(same_status(sa, &ea, sb, &eb, "get_collection"));
    if (sa || sb) {
        if (!sa) eg_collection_info_clear(&a);
        if (!sb) eg_collection_info_clear(&b);
        return;
    }
    CHECK(strcmp(a.name, b.name) == 0);
    CHECK(a.config.dim == b.config.dim && a.config.distance == b.config.distance && a.config.sparse == b.config.sparse);
    CHECK(a.config.hnsw_m == b.config.hnsw_m && a.config.hnsw_ef_construct == b.config.hnsw_ef_construct);
    CHECK(a.config.quantization == b.config.quantization);
    /* Qdrant counts the threshold in KiB of vectors: the value read back is the points that many KiB hold. */
    CHECK(b.config.full_scan_threshold <= a.config.full_scan_threshold + 256 / a.config.dim + 1 &&
          b.config.full_scan_threshold + 1 >= a.config.full_scan_threshold);
    CHECK(a.points_count == b.points_count);
    CHECK(a.index_count == b.index_count);
    for (size_t i = 0; i < a.index_count && i < b.index_count; i++) {
        bool found = false;
        for (size_t j = 0; j < b.index_count; j++)
            found |= strcmp(a.indexes[i].field, b.indexes[j].field) == 0 && a.indexes[i].type == b.indexes[j].type;
        CHECK(found);
    }
    eg_collection_info_clear(&a);
    eg_collection_info_clear(&b);
}

TEST(collections_answer_as_the_embedded_store) {
    served s;
    REQUIRE(serve_folder(&s, NULL));
    eg_vectors_qdrant_options options = {.url = s.url};
    pair p = {open_local(), open_remote(&options)};
    REQUIRE(p.local && p.remote);
    eg_collection_config plain = {4, EG_DISTANCE_COSINE, false, 0, 0, 0, EG_QUANTIZATION_NONE};
    eg_collection_config hybrid = {3, EG_DISTANCE_DOT, true, 24, 200, 0, EG_QUANTIZATION_INT8};
    eg_collection_config other = {5, EG_DISTANCE_COSINE, false, 0, 0, 0, EG_QUANTIZATION_NONE};
    BOTH(eg_vectors_create_collection(p.local, "plain", &plain, &local_err_),
         eg_vectors_create_collection(p.remote, "plain", &plain, &remote_err_), "create plain");
    BOTH(eg_vectors_create_collection(p.local, "hybrid", &hybrid, &local_err_),
         eg_vectors_create_collection(p.remote, "hybrid", &hybrid, &remote_err_), "create hybrid");
    BOTH(eg_vectors_create_collection(p.local, "plain", &plain, &local_err_),
         eg_vectors_create_collection(p.remote, "plain", &plain, &remote_err_), "create again, same configuration");
    eg_error e;
    CHECK_STATUS(eg_vectors_create_collection(p.remote, "plain", &other, &e), EG_CONFLICT, &e);
    CHECK(strstr(e.message, "exists with another configuration"));
    BOTH(eg_vectors_create_collection(p.local, "plain", &other, &local_err_),
         eg_vectors_create_collection(p.remote, "plain", &other, &remote_err_), "create with another configuration");
    compare_collection(&p, "plain");
    compare_collection(&p, "hybrid");
    /* A missing collection: the same code and the same words. */
    eg_collection_info info;
    eg_error ea, eb;
    CHECK_STATUS(eg_vectors_get_collection(p.local, "nope", &info, &ea), EG_NOT_FOUND, &ea);
    CHECK_STATUS(eg_vectors_get_collection(p.remote, "nope", &info, &eb), EG_NOT_FOUND, &eb);
    CHECK(strcmp(ea.message, eb.message) == 0);
    uint64_t n;
    CHECK_STATUS(eg_vectors_count(p.remote, "nope", NULL, &n, &eb), EG_NOT_FOUND, &eb);
    CHECK(strcmp(ea.message, eb.message) == 0);
    BOTH(eg_vectors_delete_collection(p.local, "nope", &local_err_),
         eg_vectors_delete_collection(p.remote, "nope", &remote_err_), "delete a missing collection");
    /* Payload indexes. */
    BOTH(eg_vectors_create_payload_index(p.local, "plain", "city", EG_PAYLOAD_KEYWORD, &local_err_),
         eg_vectors_create_payload_index(p.remote, "plain", "city", EG_PAYLOAD_KEYWORD, &remote_err_), "index");
    BOTH(eg_vectors_create_payload_index(p.local, "plain", "city", EG_PAYLOAD_KEYWORD, &local_err_),
         eg_vectors_create_payload_index(p.remote, "plain", "city", EG_PAYLOAD_KEYWORD, &remote_err_), "index again");
    BOTH(eg_vectors_create_payload_index(p.local, "plain", "city", EG_PAYLOAD_INTEGER, &local_err_),
         eg_vectors_create_payload_index(p.remote, "plain", "city", EG_PAYLOAD_INTEGER, &remote_err_),
         "index with another type");
    BOTH(eg_vectors_create_payload_index(p.local, "plain", "rank", EG_PAYLOAD_INTEGER, &local_err_),
         eg_vectors_create_payload_index(p.remote, "plain", "rank", EG_PAYLOAD_INTEGER, &remote_err_), "index rank");
    compare_collection(&p, "plain");
    BOTH(eg_vectors_delete_payload_index(p.local, "plain", "rank", &local_err_),
         eg_vectors_delete_payload_index(p.remote, "plain", "rank", &remote_err_), "drop an index");
    BOTH(eg_vectors_delete_payload_index(p.local, "plain", "never", &local_err_),
         eg_vectors_delete_payload_index(p.remote, "plain", "never", &remote_err_), "drop a missing index");
    BOTH(eg_vectors_delete_payload_index(p.local, "nope", "city", &local_err_),
         eg_vectors_delete_payload_index(p.remote, "nope", "city", &remote_err_), "drop an index, missing collection");
    compare_collection(&p, "plain");
    eg_string_list la, lb;
    CHECK_OK(eg_vectors_list_collections(p.local, &la, &e), &e);
    CHECK_OK(eg_vectors_list_collections(p.remote, &lb, &e), &e);
    CHECK(la.count == 2 && lb.count == 2);
    for (size_t i = 0; i < la.count && i < lb.count; i++) CHECK(strcmp(la.items[i], lb.items[i]) == 0);
    eg_string_list_free(&la);
    eg_string_list_free(&lb);
    BOTH(eg_vectors_delete_collection(p.local, "hybrid", &local_err_),
         eg_vectors_delete_collection(p.remote, "hybrid", &remote_err_), "delete a collection");
    compare_collection(&p, "hybrid");
    eg_vectors_close(p.local);
    eg_vectors_close(p.remote);
    unserve(&s);
}

static void compare_get(pair *p, const char *collection, const eg_point_id *ids, size_t n, bool payload,
                        bool vectors, const char *what) {
    eg_point_list a = {0}, b = {0};
    BOTH(eg_vectors_get(p->local, collection, ids, n, payload, vectors, &a, &local_err_),
         eg_vectors_get(p->remote, collection, ids, n, payload, vectors, &b, &remote_err_), what);
    CHECK(same_points(&a, &b, what));
    eg_point_list_free(&a);
    eg_point_list_free(&b);
}

static void compare_scroll(pair *p, const char *collection, const eg_filter *filter, size_t limit) {
    eg_point_id offset_a, offset_b;
    bool more_a = false, more_b = false, first = true;
    for (int page = 0; page < 100 && (first || (more_a && more_b)); page++, first = false) {
        eg_scroll_request ra = {filter, limit, first ? NULL : &offset_a, true, true};
        eg_scroll_request rb = {filter, limit, first ? NULL : &offset_b, true, true};
        eg_point_list a = {0}, b = {0};
        BOTH(eg_vectors_scroll(p->local, collection, &ra, &a, &offset_a, &more_a, &local_err_),
             eg_vectors_scroll(p->remote, collection, &rb, &b, &offset_b, &more_b, &remote_err_), "scroll");
        CHECK(same_points(&a, &b, "scroll page"));
        CHECK(more_a == more_b);
        if (more_a && more_b) CHECK(eg_point_id_compare(&offset_a, &offset_b) == 0);
        eg_point_list_free(&a);
        eg_point_list_free(&b);
    }
}

static void compare_search(pair *p, const char *collection, const eg_search_request *r, const char *what) {
    eg_scored_list a = {0}, b = {0};
    BOTH(eg_vectors_search(p->local, collection, r, &a, &local_err_),
         eg_vectors_search(p->remote, collection, r, &b, &remote_err_), what);
    CHECK(same_scored(&a, &b, what));
    eg_scored_list_free(&a);
    eg_scored_list_free(&b);
}

static void compare_sparse(pair *p, const char *collection, const eg_sparse_request *r, const char *what) {
    eg_scored_list a = {0}, b = {0};
    BOTH(eg_vectors_search_sparse(p->local, collection, r, &a, &local_err_),
         eg_vectors_search_sparse(p->remote, collection, r, &b, &remote_err_), what);
    CHECK(same_scored(&a, &b, what));
    eg_scored_list_free(&a);
    eg_scored_list_free(&b);
}

static void compare_hybrid(pair *p, const char *collection, const eg_hybrid_request *r, const char *what) {
    eg_scored_list a = {0}, b = {0};
    BOTH(eg_vectors_search_hybrid(p->local, collection, r, &a, &local_err_),
         eg_vectors_search_hybrid(p->remote, collection, r, &b, &remote_err_), what);
    CHECK(same_scored(&a, &b, what));
    eg_scored_list_free(&a);
    eg_scored_list_free(&b);
}

static void compare_counts(pair *p, const char *collection, eg_filter *const *filters) {
    for (size_t f = 0; f < FILTER_COUNT; f++) {
        uint64_t a = 0, b = 0;
        BOTH(eg_vectors_count(p->local, collection, filters[f], &a, &local_err_),
             eg_vectors_count(p->remote, collection, filters[f], &b, &remote_err_), "count");
        CHECK(a == b);
    }
}

static void compare_searches(pair *p, const char *collection, uint32_t dim, eg_distance distance,
                             eg_filter *const *filters) {
    float query[8];
    static const size_t limits[] = {1, 3, 10, 100};
    for (size_t round = 0; round < 6; round++) {
        for (uint32_t d = 0; d < dim; d++) query[d] = unit();
        for (size_t f = 0; f < FILTER_COUNT; f++)
            for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
                eg_search_request r = {.vector = query, .dim = dim, .limit = limits[l], .offset = round % 3,
                                       .filter = filters[f], .with_payload = true, .with_vectors = round % 2 == 0};
                if (round == 4) r.session_id = "s1";
                if (round == 5) {
                    r.has_score_threshold = true;
                    r.score_threshold = distance == EG_DISTANCE_COSINE || distance == EG_DISTANCE_DOT ? 0.1 : 1.5;
                }
                if (round == 3) r.params.exact = true, r.params.hnsw_ef = 32;
                compare_search(p, collection, &r, "search");
            }
    }
    float wrong[5] = {0};
    eg_search_request bad = {.vector = wrong, .dim = dim + 1, .limit = 3};
    compare_search(p, collection, &bad, "search with a wrong dimension");
}

TEST(points_and_searches_answer_as_the_embedded_store) {
    served s;
    REQUIRE(serve_folder(&s, NULL));
    eg_vectors_qdrant_options options = {.url = s.url, .batch_size = 16, .max_concurrency = 3};
    pair p = {open_local(), open_remote(&options)};
    REQUIRE(p.local && p.remote);
    eg_collection_config plain = {4, EG_DISTANCE_COSINE, false, 0, 0, 0, EG_QUANTIZATION_NONE};
    eg_collection_config hybrid = {3, EG_DISTANCE_DOT, true, 0, 0, 0, EG_QUANTIZATION_NONE};
    eg_collection_config euclid = {2, EG_DISTANCE_EUCLID, false, 0, 0, 0, EG_QUANTIZATION_NONE};
    const struct {
        const char *name;
        const eg_collection_config *config;
    } collections[] = {{"plain", &plain}, {"hybrid", &hybrid}, {"euclid", &euclid}};
    eg_filter *filters[FILTER_COUNT];
    for (size_t f = 0; f < FILTER_COUNT; f++) filters[f] = FILTERS[f] ? filter_of(FILTERS[f]) : NULL;
    const size_t n = 60;
    for (size_t c = 0; c < 3; c++) {
        const char *name = collections[c].name;
        const eg_collection_config *config = collections[c].config;
        BOTH(eg_vectors_create_collection(p.local, name, config, &local_err_),
             eg_vectors_create_collection(p.remote, name, config, &remote_err_), "create");
        eg_point *points = make_points(n, config->dim, config->sparse);
        BOTH(eg_vectors_upsert(p.local, name, points, n, &local_err_),
             eg_vectors_upsert(p.remote, name, points, n, &remote_err_), "upsert");
        eg_point_id ids[6] = {id_of(3), id_of(0), eg_point_id_num(999999), id_of(59), id_of(3), id_of(2)};
        compare_get(&p, name, ids, 6, true, true, "get with vectors");
        compare_get(&p, name, ids, 6, false, false, "get ids only");
        compare_scroll(&p, name, NULL, 7);
        compare_scroll(&p, name, filters[2], 5);
        compare_counts(&p, name, filters);
        compare_searches(&p, name, config->dim, config->distance, filters);
        free_points(points, n);
    }
    /* Sparse and hybrid searches. */
    for (size_t round = 0; round < 4; round++) {
        uint32_t idx[3] = {(uint32_t)round, (uint32_t)(round + 5), 11};
        float val[3] = {1.0f, 0.5f, 0.25f};
        float dense[3] = {unit(), unit(), unit()};
        for (size_t f = 0; f < FILTER_COUNT; f++) {
            eg_sparse_request sr = {.vector = {idx, val, 3}, .limit = 5 + round, .offset = round % 2,
                                    .filter = filters[f], .with_payload = true, .with_vectors = true};
            compare_sparse(&p, "hybrid", &sr, "search_sparse");
            eg_hybrid_request hr = {.vector = dense, .dim = 3, .sparse = {idx, val, 3}, .limit = 4 + round * 3,
                                    .filter = filters[f], .with_payload = true, .with_vectors = round % 2 == 1};
            if (round == 2) hr.has_score_threshold = true, hr.score_threshold = 0.4;
            if (round == 3) hr.session_id = "s2";
            compare_hybrid(&p, "hybrid", &hr, "search_hybrid");
        }
    }
    eg_sparse_request empty = {.limit = 3};
    compare_sparse(&p, "hybrid", &empty, "search_sparse with an empty query");
    compare_sparse(&p, "plain", &empty, "search_sparse on a collection without sparse vectors");
    float dense[4] = {1, 0, 0, 0};
    uint32_t idx[1] = {3};
    float val[1] = {1};
    eg_hybrid_request on_plain = {.vector = dense, .dim = 4, .sparse = {idx, val, 1}, .limit = 3};
    compare_hybrid(&p, "plain", &on_plain, "search_hybrid on a collection without sparse vectors");
    /* Payload changes, vector updates, deletes. */
    eg_point_id some[3] = {id_of(1), id_of(2), id_of(4)};
    eg_point_id with_missing[2] = {id_of(1), eg_point_id_num(424242)};
    json_t *merge = json_pack("{s:s, s:i}", "city", "Kyoto", "extra", 5);
    json_t *replace = json_pack("{s:s}", "only", "this");
    for (size_t c = 0; c < 3; c++) {
        const char *name = collections[c].name;
        BOTH(eg_vectors_set_payload(p.local, name, some, 3, merge, EG_PAYLOAD_MERGE, &local_err_),
             eg_vectors_set_payload(p.remote, name, some, 3, merge, EG_PAYLOAD_MERGE, &remote_err_), "merge");
        BOTH(eg_vectors_set_payload(p.local, name, some, 1, replace, EG_PAYLOAD_OVERWRITE, &local_err_),
             eg_vectors_set_payload(p.remote, name, some, 1, replace, EG_PAYLOAD_OVERWRITE, &remote_err_), "overwrite");
        BOTH(eg_vectors_set_payload(p.local, name, with_missing, 2, merge, EG_PAYLOAD_MERGE, &local_err_),
             eg_vectors_set_payload(p.remote, name, with_missing, 2, merge, EG_PAYLOAD_MERGE, &remote_err_),
             "merge into a missing point");
        const char *const keys[] = {"extra", "tags", "not.there"};
        BOTH(eg_vectors_delete_payload_keys(p.local, name, some + 1, 2, keys, 3, &local_err_),
             eg_vectors_delete_payload_keys(p.remote, name, some + 1, 2, keys, 3, &remote_err_), "delete keys");
        BOTH(eg_vectors_delete_payload_keys(p.local, name, with_missing, 2, keys, 1, &local_err_),
             eg_vectors_delete_payload_keys(p.remote, name, with_missing, 2, keys, 1, &remote_err_),
             "delete keys of a missing point");
        uint32_t dim = collections[c].config->dim;
        float v1[8] = {0.5f, -0.25f, 1.0f, 0.75f}, v2[8] = {-1.0f, 0.5f, 0.25f, 0.5f}; /* room for dim + 1 */
        eg_point updates[2] = {{.id = id_of(5), .vector = v1, .dim = dim}, {.id = id_of(6), .vector = v2, .dim = dim}};
        BOTH(eg_vectors_update_vectors(p.local, name, updates, 2, &local_err_),
             eg_vectors_update_vectors(p.remote, name, updates, 2, &remote_err_), "update vectors");
        eg_point wrong_dim = {.id = id_of(5), .vector = v1, .dim = dim + 1};
        BOTH(eg_vectors_update_vectors(p.local, name, &wrong_dim, 1, &local_err_),
             eg_vectors_update_vectors(p.remote, name, &wrong_dim, 1, &remote_err_), "update with a wrong dimension");
        eg_point missing = {.id = eg_point_id_num(777777), .vector = v1, .dim = dim};
        BOTH(eg_vectors_update_vectors(p.local, name, &missing, 1, &local_err_),
             eg_vectors_update_vectors(p.remote, name, &missing, 1, &remote_err_), "update a missing point");
        eg_point_id check_ids[6] = {id_of(1), id_of(2), id_of(4), id_of(5), id_of(6), id_of(7)};
        compare_get(&p, name, check_ids, 6, true, true, "after the payload and vector changes");
        uint64_t da = 0, db = 0;
        eg_point_id doomed[3] = {id_of(8), id_of(9), eg_point_id_num(555555)};
        BOTH(eg_vectors_delete(p.local, name, doomed, 3, NULL, &da, &local_err_),
             eg_vectors_delete(p.remote, name, doomed, 3, NULL, &db, &remote_err_), "delete by ids");
        CHECK(da == 2 && db == 2);
        BOTH(eg_vectors_delete(p.local, name, NULL, 0, filters[1], &da, &local_err_),
             eg_vectors_delete(p.remote, name, NULL, 0, filters[1], &db, &remote_err_), "delete by filter");
        CHECK(da == db && da > 0);
        compare_scroll(&p, name, NULL, 50);
        compare_collection(&p, name);
    }
    json_decref(merge);
    json_decref(replace);
    for (size_t f = 0; f < FILTER_COUNT; f++) eg_filter_free(filters[f]);
    eg_vectors_close(p.local);
    eg_vectors_close(p.remote);
    unserve(&s);
}

/* ---- What only a remote store has ---------------------------------------------------------------------------- */

TEST(a_failed_chunk_undoes_the_whole_upsert) {
    served s;
    REQUIRE(serve_folder(&s, NULL));
    eg_vectors_qdrant_options options = {.url = s.url, .batch_size = 10, .max_concurrency = 3};
    eg_vectors *v = open_remote(&options);
    REQUIRE(v);
    eg_collection_config config = {4, EG_DISTANCE_DOT, false, 0, 0, 0, EG_QUANTIZATION_NONE};
    eg_error e;
    CHECK_OK(eg_vectors_create_collection(v, "c", &config, &e), &e);
    /* 15 points before the call, with payload "old". */
    eg_point *old = make_points(15, 4, false);
    for (size_t i = 0; i < 15; i++) json_object_set_new(old[i].payload, "v", json_string("old"));
    CHECK_OK(eg_vectors_upsert(v, "c", old, 15, &e), &e);
    /* 50 points over them and beyond, with payload "new"; the 26th (in the third chunk) has a wrong dimension. */
    eg_point *fresh = make_points(50, 4, false);
    for (size_t i = 0; i < 50; i++) json_object_set_new(fresh[i].payload, "v", json_string("new"));
    fresh[25].dim = 3;
    CHECK_STATUS(eg_vectors_upsert(v, "c", fresh, 50, &e), EG_INVALID_ARGUMENT, &e);
    uint64_t n = 0;
    CHECK_OK(eg_vectors_count(v, "c", NULL, &n, &e), &e);
    CHECK(n == 15);
    eg_point_id ids[50];
    for (size_t i = 0; i < 50; i++) ids[i] = id_of(i);
    eg_point_list got;
    CHECK_OK(eg_vectors_get(v, "c", ids, 50, true, true, &got, &e), &e);
    CHECK(got.count == 15);
    for (size_t i = 0; i < got.count && i < 15; i++) {
        CHECK(eg_point_id_compare(&got.items[i].id, &old[i].id) == 0);
        CHECK(strcmp(json_string_value(json_object_get(got.items[i].payload, "v")), "old") == 0);
        for (size_t d = 0; d < 4; d++) CHECK(fabsf(got.items[i].vector[d] - old[i].vector[d]) <= 1e-6f);
    }
    eg_point_list_free(&got);
    /* The same batch made right is written whole, in five chunks. */
    fresh[25].dim = 4;
    CHECK_OK(eg_vectors_upsert(v, "c", fresh, 50, &e), &e);
    CHECK_OK(eg_vectors_count(v, "c", NULL, &n, &e), &e);
    CHECK(n == 50);
    free_points(old, 15);
    free_points(fresh, 50);
    eg_vectors_close(v);
    unserve(&s);
}

TEST(a_refused_connection_is_unavailable) {
    char url[96];
    snprintf(url, sizeof url, "http://engram:pw-never-shown@127.0.0.1:%u", closed_port());
    eg_vectors_qdrant_options options = {.url = url, .api_key = "key-never-shown", .timeout_ms = 2000};
    eg_vectors *v = open_remote(&options);
    REQUIRE(v);
    uint64_t n;
    eg_error e;
    CHECK_STATUS(eg_vectors_count(v, "c", NULL, &n, &e), EG_UNAVAILABLE, &e);
    CHECK(strstr(e.message, "unreachable"));
    CHECK(strstr(e.message, "<credentials>@127.0.0.1"));
    CHECK(!strstr(e.message, "pw-never-shown") && !strstr(e.message, "key-never-shown"));
    eg_vectors_close(v);
}

TEST(a_server_that_never_answers_times_out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    eg_vectors_qdrant_options options = {.url = url, .timeout_ms = 300};
    eg_vectors *v = open_remote(&options);
    REQUIRE(v);
    double start = now_seconds();
    eg_error e;
    eg_string_list list;
    CHECK_STATUS(eg_vectors_list_collections(v, &list, &e), EG_UNAVAILABLE, &e); /* connected, never answered */
    double took = now_seconds() - start;
    CHECK(took >= 0.25 && took < 5.0);
    CHECK(strstr(e.message, "no answer within 300 ms"));
    eg_vectors_close(v);
    close(fd);
}

TEST(the_api_key_is_sent_and_never_shown) {
    served s;
    REQUIRE(serve_folder(&s, "right-key-123"));
    eg_vectors_qdrant_options options = {.url = s.url, .api_key = "right-key-123"};
    eg_vectors *v = open_remote(&options);
    REQUIRE(v);
    eg_string_list list;
    eg_error e;
    CHECK_OK(eg_vectors_list_collections(v, &list, &e), &e);
    eg_string_list_free(&list);
    eg_vectors_close(v);
    options.api_key = "wrong-key-456";
    REQUIRE((v = open_remote(&options)));
    CHECK_STATUS(eg_vectors_list_collections(v, &list, &e), EG_INVALID_ARGUMENT, &e);
    CHECK(strstr(e.message, "the API key") && strstr(e.message, "is wrong"));
    CHECK(!strstr(e.message, "wrong-key-456") && !strstr(e.message, "right-key-123"));
    eg_vectors_close(v);
    options.api_key = NULL;
    unsetenv("ENGRAM_QDRANT_API_KEY");
    REQUIRE((v = open_remote(&options)));
    CHECK_STATUS(eg_vectors_list_collections(v, &list, &e), EG_INVALID_ARGUMENT, &e);
    CHECK(strstr(e.message, "needs an API key"));
    eg_vectors_close(v);
    setenv("ENGRAM_QDRANT_API_KEY", "right-key-123", 1); /* the environment stands in for the setting */
    REQUIRE((v = open_remote(&options)));
    CHECK_OK(eg_vectors_list_collections(v, &list, &e), &e);
    eg_string_list_free(&list);
    eg_vectors_close(v);
    unsetenv("ENGRAM_QDRANT_API_KEY");
    unserve(&s);
}

TEST(tls_is_verified_and_a_ca_file_trusts_a_self_signed_certificate) {
    const char *dir = test_scratch_dir();
    if (!test_make_certificate(dir)) {
        printf("     SKIPPED: neither certtool (gnutls-bin) nor openssl could make a certificate\n");
        return;
    }
    char cert[512], key[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    served s;
    REQUIRE(serve_folder_with(&s, NULL, cert, key));
    /* Verification is on: a certificate no authority of the system signed is refused. */
    eg_vectors_qdrant_options options = {.url = s.url, .timeout_ms = 5000};
    eg_vectors *v = open_remote(&options);
    REQUIRE(v);
    eg_string_list list;
    eg_error e;
    CHECK_STATUS(eg_vectors_list_collections(v, &list, &e), EG_UNAVAILABLE, &e);
    CHECK(strstr(e.message, "unreachable"));
    eg_vectors_close(v);
    /* vectors.ca_file names the certificate to trust. */
    options.ca_file = cert;
    REQUIRE((v = open_remote(&options)));
    eg_collection_config config = {2, EG_DISTANCE_DOT, false, 0, 0, 0, EG_QUANTIZATION_NONE};
    float vector[2] = {0.5f, 2.0f};
    eg_point point = {.id = eg_point_id_num(3), .vector = vector, .dim = 2};
    eg_point_list got;
    CHECK_OK(eg_vectors_create_collection(v, "c", &config, &e), &e);
    CHECK_OK(eg_vectors_upsert(v, "c", &point, 1, &e), &e);
    CHECK_OK(eg_vectors_get(v, "c", &point.id, 1, true, true, &got, &e), &e);
    CHECK(got.count == 1 && got.items[0].vector[1] == 2.0f);
    eg_point_list_free(&got);
    eg_vectors_close(v);
    unserve(&s);
}

TEST(bad_options_are_refused_at_open) {
    eg_vectors *v = NULL;
    eg_error e;
    eg_vectors_qdrant_options ftp = {.url = "ftp://alice:pw-hidden@example"};
    CHECK_STATUS(eg_vectors_open_qdrant(&ftp, &v, &e), EG_INVALID_ARGUMENT, &e);
    CHECK(strstr(e.message, "must start with http:// or https://") && !strstr(e.message, "pw-hidden"));
    eg_vectors_qdrant_options slash = {.collection_prefix = "a/b"};
    CHECK_STATUS(eg_vectors_open_qdrant(&slash, &v, &e), EG_INVALID_ARGUMENT, &e);
    CHECK(strstr(e.message, "vectors.collection_prefix"));
    eg_vectors_qdrant_options big = {.batch_size = EG_VECTOR_BATCH_MAX + 1};
    CHECK_STATUS(eg_vectors_open_qdrant(&big, &v, &e), EG_INVALID_ARGUMENT, &e);
    CHECK(strstr(e.message, "vectors.batch_size"));
    CHECK_STATUS(eg_vectors_open_qdrant(NULL, NULL, &e), EG_INVALID_ARGUMENT, &e);
    CHECK(v == NULL);
}

TEST(the_prefix_is_applied_and_stripped) {
    served s;
    REQUIRE(serve_folder(&s, NULL));
    eg_vectors_qdrant_options bare = {.url = s.url}, prefixed = {.url = s.url, .collection_prefix = "ww_"};
    eg_vectors *plain = open_remote(&bare), *ww = open_remote(&prefixed);
    REQUIRE(plain && ww);
    eg_collection_config config = {3, EG_DISTANCE_COSINE, true, 0, 0, 0, EG_QUANTIZATION_NONE};
    eg_error e;
    CHECK_OK(eg_vectors_create_collection(ww, "episodes", &config, &e), &e);
    CHECK_OK(eg_vectors_create_collection(plain, "other", &config, &e), &e);
    eg_string_list list;
    CHECK_OK(eg_vectors_list_collections(ww, &list, &e), &e);
    CHECK(list.count == 1 && strcmp(list.items[0], "episodes") == 0);
    eg_string_list_free(&list);
    CHECK_OK(eg_vectors_list_collections(plain, &list, &e), &e);
    CHECK(list.count == 2 && strcmp(list.items[0], "other") == 0 && strcmp(list.items[1], "ww_episodes") == 0);
    eg_string_list_free(&list);
    /* On the server: the original's name and layout (named dense vector "dense", sparse vector "sparse"). */
    json_t *r = test_exec(s.db, "{\"op\":\"get_collection\",\"collection\":\"ww_episodes\"}");
    CHECK(strcmp(test_response_code(r), "ok") == 0);
    json_decref(r);
    float vector[3] = {1, 0, 0};
    uint32_t idx[1] = {4};
    float val[1] = {2};
    eg_point point = {.id = eg_point_id_num(7), .vector = vector, .dim = 3, .sparse = {idx, val, 1}};
    CHECK_OK(eg_vectors_upsert(ww, "episodes", &point, 1, &e), &e);
    eg_point_list got;
    CHECK_OK(eg_vectors_get(ww, "episodes", &point.id, 1, true, true, &got, &e), &e);
    CHECK(got.count == 1 && got.items[0].sparse.count == 1 && got.items[0].sparse.indices[0] == 4);
    eg_point_list_free(&got);
    /* Numeric ids above 2^63-1 cannot travel through JSON here: refused by name, nothing sent. */
    eg_point_id huge = eg_point_id_num(UINT64_MAX);
    CHECK_STATUS(eg_vectors_get(ww, "episodes", &huge, 1, false, false, &got, &e), EG_INVALID_ARGUMENT, &e);
    CHECK(strstr(e.message, "above 2^63-1"));
    eg_collection_info info;
    CHECK_STATUS(eg_vectors_get_collection(ww, "other", &info, &e), EG_NOT_FOUND, &e);
    CHECK(strcmp(e.message, "collection 'other' does not exist") == 0);
    CHECK_OK(eg_vectors_delete_collection(ww, "episodes", &e), &e);
    /* Made again with another layout (unnamed, 2 dimensions): the backend does not use the old one's names. */
    eg_collection_config unnamed = {2, EG_DISTANCE_DOT, false, 0, 0, 0, EG_QUANTIZATION_NONE};
    CHECK_OK(eg_vectors_create_collection(ww, "episodes", &unnamed, &e), &e);
    eg_point flat = {.id = eg_point_id_num(8), .vector = vector, .dim = 2};
    CHECK_OK(eg_vectors_upsert(ww, "episodes", &flat, 1, &e), &e);
    CHECK_OK(eg_vectors_get(ww, "episodes", &flat.id, 1, false, true, &got, &e), &e);
    CHECK(got.count == 1 && got.items[0].dim == 2 && got.items[0].sparse.count == 0);
    eg_point_list_free(&got);
    CHECK_OK(eg_vectors_delete_collection(ww, "episodes", &e), &e);
    CHECK_STATUS(eg_vectors_delete_collection(ww, "episodes", &e), EG_NOT_FOUND, &e);
    eg_vectors_close(plain);
    eg_vectors_close(ww);
    unserve(&s);
}

/* The response of one exec line, checked for its code; the response is dropped. */
static void exec_expect(eg_db *db, const char *line, const char *code) {
    json_t *response = test_exec(db, line);
    if (strcmp(test_response_code(response), code) != 0) {
        char *text = json_dumps(response, 0);
        fprintf(stderr, "  %s\n  -> %s (expected %s)\n", line, text, code);
        free(text);
        test_failures_in_current++;
    }
    json_decref(response);
}

/* The number of vector writes waiting in the durable queue. */
static json_int_t vector_queue_depth(eg_db *db) {
    json_t *health = test_exec(db, "{\"op\":\"health\"}");
    json_t *vectors = json_object_get(json_object_get(json_object_get(health, "result"), "stores"), "vectors");
    json_int_t depth = json_integer_value(json_object_get(json_object_get(vectors, "queue"), "depth"));
    json_decref(health);
    return depth;
}

/* Waits up to 20 s for the vector write queue to drain; true when it did. */
static bool queue_drains(eg_db *db) {
    for (int i = 0; i < 400; i++) {
        if (vector_queue_depth(db) == 0) return true;
        usleep(50 * 1000);
    }
    return false;
}

static bool consistent(eg_db *db) {
    json_t *check = test_exec(db, "{\"op\":\"check\"}");
    bool ok = json_is_true(json_object_get(json_object_get(check, "result"), "consistent"));
    if (!ok) {
        char *text = json_dumps(check, 0);
        fprintf(stderr, "  check: %s\n", text);
        free(text);
    }
    json_decref(check);
    return ok;
}

#define EP "6f1c2a4e-0000-4000-8000-00000000000"

TEST(the_memory_layer_runs_over_qdrant) {
    served s;
    REQUIRE(serve_folder(&s, NULL));
    char dir[512], url_setting[128];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    snprintf(url_setting, sizeof url_setting, "vectors.url=%s", s.url);
    const char *const settings[] = {"vectors.backend=qdrant", url_setting, "vectors.collection_prefix=mem_"};
    eg_options options = {.durability = EG_DURABILITY_NONE, .settings = settings, .setting_count = 3};
    eg_db *db;
    REQUIRE(eg_open(dir, &options, &db, &err) == EG_OK);
    exec_expect(db,
                "{\"op\":\"create_entity\",\"id\":1,\"text\":\"Alice writes C\",\"properties\":{\"name\":\"Alice\"}}",
                "ok");
    exec_expect(db,
                "{\"op\":\"create_episode\",\"id\":\"" EP "1\",\"text\":\"Alice fixed the storage engine\","
                "\"session_id\":\"s1\",\"relationships\":[{\"target_id\":\"1\",\"type\":\"RELATES_TO\"}]}",
                "ok");
    exec_expect(db,
                "{\"op\":\"create_episode\",\"id\":\"" EP "2\",\"text\":\"Bob tuned the network\","
                "\"session_id\":\"s1\"}",
                "ok");
    exec_expect(db, "{\"op\":\"update_memory\",\"id\":1,\"type\":\"entity\",\"payload\":{\"team\":\"core\"}}", "ok");
    /* The storage episode first, with its entity as a neighbour. */
    json_t *recall = test_exec(db, "{\"op\":\"recall\",\"type\":\"episode\",\"text\":\"storage engine\",\"expand\":1}");
    json_t *first = json_array_get(json_object_get(json_object_get(recall, "result"), "memories"), 0);
    CHECK(strcmp(test_response_code(recall), "ok") == 0);
    CHECK(json_string_value(json_object_get(first, "id")) &&
          strcmp(json_string_value(json_object_get(first, "id")), EP "1") == 0);
    CHECK(json_array_size(json_object_get(first, "neighbors")) == 1);
    json_decref(recall);
    exec_expect(db, "{\"op\":\"delete_memory\",\"id\":\"" EP "2\",\"type\":\"episode\"}", "ok");
    exec_expect(db, "{\"op\":\"delete_memory\",\"id\":\"" EP "2\",\"type\":\"episode\"}", "not_found");
    CHECK(consistent(db));
    json_t *check = test_exec(db, "{\"op\":\"check\"}");
    CHECK(json_integer_value(json_object_get(json_object_get(check, "result"), "memories")) == 2);
    json_decref(check);
    json_t *health = test_exec(db, "{\"op\":\"health\"}");
    json_t *vectors = json_object_get(json_object_get(json_object_get(health, "result"), "stores"), "vectors");
    CHECK(strcmp(json_string_value(json_object_get(vectors, "backend")), "qdrant") == 0);
    CHECK(strcmp(json_string_value(json_object_get(vectors, "url")), s.url) == 0);
    json_decref(health);
    eg_close(db);
    /* The points live on the server, under the prefix; the folder holds no vector store. */
    char vectors_dir[600];
    snprintf(vectors_dir, sizeof vectors_dir, "%s/vectors", dir);
    CHECK(access(vectors_dir, F_OK) != 0);
    CHECK(test_has_point(s.db, "mem_episodes", EP "1"));
    CHECK(!test_has_point(s.db, "mem_episodes", EP "2"));
    CHECK(test_has_point(s.db, "mem_entities", "1"));
    /* Reopened, it finds its memories again. */
    REQUIRE(eg_open(dir, &options, &db, &err) == EG_OK);
    check = test_exec(db, "{\"op\":\"check\"}");
    CHECK(json_is_true(json_object_get(json_object_get(check, "result"), "consistent")));
    json_decref(check);
    eg_close(db);
    unserve(&s);
}

#define ENTITY(n) "{\"op\":\"create_entity\",\"id\":" #n ",\"text\":\"entity number " #n "\"}"

/* 503s, a slow server (timeouts) and a server stopped and started again, under the queue policy: every write is
 * acknowledged, queued while the server cannot take it, drained once it can, and check finds both stores agree. */
TEST(network_faults_end_with_every_acknowledged_memory_whole) {
    setenv("ENGRAM_ALLOW_FAULTS", "1", 1); /* the served folder takes fault rules: its store fails, it answers 503 */
    served s;
    bool serving = serve_folder(&s, NULL);
    unsetenv("ENGRAM_ALLOW_FAULTS");
    REQUIRE(serving);
    char dir[512], url_setting[128];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    snprintf(url_setting, sizeof url_setting, "vectors.url=%s", s.url);
    const char *const settings[] = {"vectors.backend=qdrant", url_setting, "vectors.timeout_ms=300",
                                    "degrade.write_policy=queue", "breaker.failure_threshold=2",
                                    "breaker.reset_timeout_ms=100"};
    eg_options options = {.durability = EG_DURABILITY_NONE, .settings = settings, .setting_count = 6};
    eg_db *db;
    REQUIRE(eg_open(dir, &options, &db, &err) == EG_OK);
    exec_expect(db, ENTITY(1), "ok");
    /* The server's store fails: 503. */
    exec_expect(s.db, "{\"op\":\"set_faults\",\"rules\":\"vectors.upsert=fail\"}", "ok");
    exec_expect(db, ENTITY(2), "ok");
    exec_expect(db, ENTITY(3), "ok");
    CHECK(vector_queue_depth(db) > 0);
    /* The server is slow: every request times out. */
    exec_expect(s.db, "{\"op\":\"set_faults\",\"rules\":\"vectors.*=delay_ms:800\"}", "ok");
    exec_expect(db, ENTITY(4), "ok");
    exec_expect(s.db, "{\"op\":\"set_faults\",\"rules\":\"\"}", "ok");
    CHECK(queue_drains(db));
    /* The server stops; writes queue; it starts again on the same port and the queue drains. */
    uint16_t port = eg_server_port(s.server);
    eg_server_stop(s.server, 1000);
    s.server = NULL;
    exec_expect(db, ENTITY(5), "ok");
    exec_expect(db, "{\"op\":\"update_memory\",\"id\":1,\"type\":\"entity\",\"payload\":{\"team\":\"core\"}}", "ok");
    CHECK(vector_queue_depth(db) > 0);
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%u", (unsigned)port);
    eg_server_options again = {.http = address, .threads = 4};
    bool restarted = false;
    for (int attempt = 0; attempt < 100 && !restarted; attempt++) { /* the port may linger a moment after a stop */
        restarted = eg_server_start(s.db, &again, &s.server, &err) == EG_OK;
        if (!restarted) usleep(100 * 1000);
    }
    REQUIRE(restarted);
    CHECK(queue_drains(db));
    CHECK(consistent(db));
    for (int n = 1; n <= 5; n++) {
        char id[8];
        snprintf(id, sizeof id, "%d", n);
        CHECK(test_has_point(s.db, "entities", id));
    }
    eg_point_id one = eg_point_id_num(1);
    eg_point_list got;
    CHECK_OK(eg_vectors_get(eg_db_vectors(s.db), "entities", &one, 1, true, false, &got, &err), &err);
    CHECK(got.count == 1 && json_is_string(json_object_get(got.items[0].payload, "team")));
    eg_point_list_free(&got);
    eg_close(db);
    unserve(&s);
}

/* Nothing listens at open: the folder opens (nothing is sent then), and under the fail policy a memory write
 * fails unavailable and leaves nothing behind. */
TEST(a_server_down_at_open_fails_writes_cleanly) {
    char dir[512], url_setting[128];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    snprintf(url_setting, sizeof url_setting, "vectors.url=http://127.0.0.1:%u", closed_port());
    const char *const settings[] = {"vectors.backend=qdrant", url_setting};
    eg_options options = {.durability = EG_DURABILITY_NONE, .settings = settings, .setting_count = 2};
    eg_db *db;
    REQUIRE(eg_open(dir, &options, &db, &err) == EG_OK);
    exec_expect(db, ENTITY(1), "unavailable");
    CHECK(!test_has_node(db, "1"));
    eg_close(db);
}

int main(void) {
    RUN(collections_answer_as_the_embedded_store);
    RUN(points_and_searches_answer_as_the_embedded_store);
    RUN(a_failed_chunk_undoes_the_whole_upsert);
    RUN(a_refused_connection_is_unavailable);
    RUN(a_server_that_never_answers_times_out);
    RUN(the_api_key_is_sent_and_never_shown);
    RUN(tls_is_verified_and_a_ca_file_trusts_a_self_signed_certificate);
    RUN(bad_options_are_refused_at_open);
    RUN(the_prefix_is_applied_and_stripped);
    RUN(the_memory_layer_runs_over_qdrant);
    RUN(network_faults_end_with_every_acknowledged_memory_whole);
    RUN(a_server_down_at_open_fails_writes_cleanly);
    return test_summary();
}
