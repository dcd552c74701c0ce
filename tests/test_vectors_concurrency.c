/* test_vectors_concurrency.c — one writer and three readers on one vector store. The writer only ever changes
 * points in pairs (ids k and k + PARTNER, one call each: upsert, delete by ids, delete by filter, set_payload),
 * so every snapshot a reader sees must hold both members of a pair or neither: counts are even, a full scroll
 * holds partners together, a get of a pair returns both or none. Each point's vector and payload are functions
 * of its pair number, so a search result's score and payload can be checked against its id alone. No call may
 * fail, and at the end the store must equal the writer's model, with indexed and scanned counts agreeing. */
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#define COLLECTION "conc"
#define DIM 512 /* 128 slots to a chunk: the points span several chunks */
#define PAIRS 300
#define PARTNER 100000
#define WRITES (4000 / TEST_WORK_DIVISOR)
#define READERS 3
#define GROUPS 5

static eg_vectors *store;
static atomic_bool writer_done;
static bool present[PAIRS];

typedef struct reader_stats {
    long calls, errors, inconsistencies;
    char first_problem[256];
} reader_stats;

static void note_problem(reader_stats *s, bool is_error, const char *what, const char *detail) {
    if (is_error) s->errors++;
    else s->inconsistencies++;
    if (!s->first_problem[0]) snprintf(s->first_problem, sizeof s->first_problem, "%.40s: %.200s", what, detail);
}

/* xorshift64*, one state per thread */
static uint64_t next_random(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1dULL;
}

/* The vector of pair k: on a grid of 1/4, so Dot scores are exact in float. */
static void pair_vector(uint64_t k, float out[DIM]) {
    for (int i = 0; i < DIM; i++) out[i] = (float)((int)((k * 31 + (uint64_t)i * 17) % 9) - 4) * 0.25f;
}

static uint64_t pair_of(const eg_point_id *id) { return id->num % PARTNER; }

static double reference_dot(const float *q, uint64_t k) {
    float v[DIM];
    pair_vector(k, v);
    double s = 0;
    for (int i = 0; i < DIM; i++) s += (double)q[i] * v[i];
    return s;
}

/* Payload of pair k: its number and group, and a version the writer bumps. */
static json_t *pair_payload(uint64_t k, long version) {
    return json_pack("{s:I, s:I, s:I}", "pair", (json_int_t)k, "group", (json_int_t)(k % GROUPS), "version",
                     (json_int_t)version);
}

static bool payload_fits(json_t *payload, const eg_point_id *id) {
    uint64_t k = pair_of(id);
    return (uint64_t)json_integer_value(json_object_get(payload, "pair")) == k &&
           (uint64_t)json_integer_value(json_object_get(payload, "group")) == k % GROUPS;
}

static eg_filter *filter_on(const char *key, json_int_t value, bool nested) {
    json_t *cond = json_pack("{s:s, s:{s:I}}", "key", key, "match", "value", value);
    json_t *json = nested ? json_pack("{s:[{s:[o]}]}", "must", "must", cond) : json_pack("{s:[o]}", "must", cond);
    eg_filter *f = NULL;
    eg_error err;
    if (eg_filter_parse(json, &f, &err) != EG_OK) fprintf(stderr, "filter: %s\n", err.message);
    json_decref(json);
    return f;
}

/* ---- the writer ------------------------------------------------------------------------------------------ */

static eg_status write_pair(uint64_t k, long version, eg_error *err) {
    float v[DIM];
    pair_vector(k, v);
    uint32_t idx[2] = {(uint32_t)(k % 50), 60};
    float val[2] = {1, (float)(k % 3) + 0.5f};
    eg_point pts[2];
    for (int m = 0; m < 2; m++)
        pts[m] = (eg_point){eg_point_id_num(k + (uint64_t)m * PARTNER), v, DIM, {idx, val, 2},
                            pair_payload(k, version)};
    eg_status st = eg_vectors_upsert(store, COLLECTION, pts, 2, err);
    json_decref(pts[0].payload);
    json_decref(pts[1].payload);
    return st;
}

static void *writer(void *arg) {
    long *failures = arg;
    uint64_t rng = 0x1234567;
    eg_error err;
    for (long i = 0; i < WRITES; i++) {
        uint64_t k = next_random(&rng) % PAIRS, op = next_random(&rng) % 10;
        eg_point_id ids[2] = {eg_point_id_num(k), eg_point_id_num(k + PARTNER)};
        eg_status st;
        uint64_t deleted = 2; /* what a delete of a present pair reports */
        if (op < 5 || !present[k]) {
            st = write_pair(k, i, &err);
            present[k] = st == EG_OK ? true : present[k];
        } else if (op < 7) {
            st = eg_vectors_delete(store, COLLECTION, ids, 2, NULL, &deleted, &err);
            if (st == EG_OK) present[k] = false;
        } else if (op < 8) {
            eg_filter *f = filter_on("pair", (json_int_t)k, false);
            st = eg_vectors_delete(store, COLLECTION, NULL, 0, f, &deleted, &err);
            eg_filter_free(f);
            if (st == EG_OK) present[k] = false;
        } else {
            json_t *bump = json_pack("{s:I}", "version", (json_int_t)i);
            st = eg_vectors_set_payload(store, COLLECTION, ids, 2, bump, EG_PAYLOAD_MERGE, &err);
            json_decref(bump);
        }
        if (st != EG_OK) {
            if (*failures == 0) fprintf(stderr, "  writer op %ld: %s\n", i, err.message);
            (*failures)++;
        }
        if (st == EG_OK && deleted != 2) {
            if (*failures == 0)
                fprintf(stderr, "  writer op %ld (kind %llu, pair %llu) deleted %llu, want 2\n", i,
                        (unsigned long long)op, (unsigned long long)k, (unsigned long long)deleted);
            (*failures)++;
        }
    }
    atomic_store(&writer_done, true);
    return NULL;
}

/* ---- the readers ----------------------------------------------------------------------------------------- */

static void read_counts(reader_stats *s, uint64_t *rng) {
    eg_error err;
    uint64_t n;
    s->calls++;
    if (eg_vectors_count(store, COLLECTION, NULL, &n, &err) != EG_OK) note_problem(s, true, "count", err.message);
    else if (n % 2) note_problem(s, false, "count", "odd total");
    eg_filter *f = filter_on("group", (json_int_t)(next_random(rng) % GROUPS), next_random(rng) % 2);
    s->calls++;
    if (eg_vectors_count(store, COLLECTION, f, &n, &err) != EG_OK) note_problem(s, true, "count group", err.message);
    else if (n % 2) note_problem(s, false, "count group", "odd count");
    eg_filter_free(f);
}

static void read_scroll(reader_stats *s) {
    eg_error err;
    eg_point_list page;
    eg_point_id next;
    bool has_next;
    eg_scroll_request req = {NULL, EG_SEARCH_LIMIT_MAX, NULL, true, false};
    s->calls++;
    if (eg_vectors_scroll(store, COLLECTION, &req, &page, &next, &has_next, &err) != EG_OK) {
        note_problem(s, true, "scroll", err.message);
        return;
    }
    bool seen[2][PAIRS] = {{false}};
    for (size_t i = 0; i < page.count; i++) {
        const eg_point *p = &page.items[i];
        if (i > 0 && page.items[i - 1].id.num >= p->id.num) note_problem(s, false, "scroll", "ids out of order");
        if (!payload_fits(p->payload, &p->id)) note_problem(s, false, "scroll", "payload of another point");
        seen[p->id.num >= PARTNER][pair_of(&p->id)] = true;
    }
    for (int k = 0; k < PAIRS; k++)
        if (seen[0][k] != seen[1][k]) note_problem(s, false, "scroll", "half a pair");
    if (has_next) note_problem(s, false, "scroll", "has_next on a page holding everything");
    eg_point_list_free(&page);
}

static void read_search(reader_stats *s, uint64_t *rng) {
    eg_error err;
    float q[DIM];
    for (int i = 0; i < DIM; i++) q[i] = (float)((int)(next_random(rng) % 9) - 4) * 0.25f;
    json_int_t group = (json_int_t)(next_random(rng) % GROUPS);
    eg_filter *f = next_random(rng) % 2 ? filter_on("group", group, false) : NULL;
    eg_search_request req = {.vector = q, .dim = DIM, .limit = 20, .filter = f, .with_payload = true};
    eg_scored_list got;
    s->calls++;
    if (eg_vectors_search(store, COLLECTION, &req, &got, &err) != EG_OK) {
        note_problem(s, true, "search", err.message);
        eg_filter_free(f);
        return;
    }
    if (got.count > 20) note_problem(s, false, "search", "more than limit");
    for (size_t i = 0; i < got.count; i++) {
        const eg_scored_point *r = &got.items[i];
        if (fabs(r->score - reference_dot(q, pair_of(&r->point.id))) > 1e-6)
            note_problem(s, false, "search", "score does not fit the id");
        if (!payload_fits(r->point.payload, &r->point.id)) note_problem(s, false, "search", "payload of another point");
        if (f && (json_int_t)(pair_of(&r->point.id) % GROUPS) != group)
            note_problem(s, false, "search", "filter ignored");
        if (i > 0) {
            const eg_scored_point *prev = &got.items[i - 1];
            if (prev->score < r->score || (prev->score == r->score && prev->point.id.num >= r->point.id.num))
                note_problem(s, false, "search", "results out of order");
        }
    }
    eg_scored_list_free(&got);
    eg_filter_free(f);
}

static void read_hybrid_and_get(reader_stats *s, uint64_t *rng) {
    eg_error err;
    float q[DIM] = {1};
    uint32_t idx[2] = {(uint32_t)(next_random(rng) % 50), 60};
    float val[2] = {1, 1};
    eg_hybrid_request req = {.vector = q, .dim = DIM, .sparse = {idx, val, 2}, .limit = 10};
    eg_scored_list got;
    s->calls++;
    if (eg_vectors_search_hybrid(store, COLLECTION, &req, &got, &err) != EG_OK) {
        note_problem(s, true, "hybrid", err.message);
    } else {
        for (size_t i = 1; i < got.count; i++)
            if (got.items[i - 1].score < got.items[i].score)
                note_problem(s, false, "hybrid", "fused scores out of order");
        eg_scored_list_free(&got);
    }
    uint64_t k = next_random(rng) % PAIRS;
    eg_point_id ids[2] = {eg_point_id_num(k), eg_point_id_num(k + PARTNER)};
    eg_point_list pair;
    s->calls++;
    if (eg_vectors_get(store, COLLECTION, ids, 2, true, true, &pair, &err) != EG_OK) {
        note_problem(s, true, "get", err.message);
        return;
    }
    if (pair.count == 1) note_problem(s, false, "get", "half a pair");
    if (pair.count == 2 && !json_equal(json_object_get(pair.items[0].payload, "version"),
                                       json_object_get(pair.items[1].payload, "version")))
        note_problem(s, false, "get", "pair members at different versions");
    eg_point_list_free(&pair);
}

static void *reader(void *arg) {
    reader_stats *s = arg;
    uint64_t rng = 0x9e3779b9 + (uint64_t)(uintptr_t)arg;
    for (unsigned round = 0; !atomic_load(&writer_done) || round < 5; round++) {
        switch (round % 4) {
        case 0: read_counts(s, &rng); break;
        case 1: read_scroll(s); break;
        case 2: read_search(s, &rng); break;
        default: read_hybrid_and_get(s, &rng); break;
        }
    }
    return NULL;
}

/* ---- the test -------------------------------------------------------------------------------------------- */

static uint64_t count_with(eg_filter *f) {
    eg_error err;
    uint64_t n = UINT64_MAX;
    CHECK_OK(eg_vectors_count(store, COLLECTION, f, &n, &err), &err);
    return n;
}

static void check_final_state(void) {
    eg_error err;
    size_t pairs = 0, per_group[GROUPS] = {0};
    for (int k = 0; k < PAIRS; k++)
        if (present[k]) pairs++, per_group[k % GROUPS]++;
    CHECK(count_with(NULL) == 2 * pairs);
    for (int g = 0; g < GROUPS; g++) {
        eg_filter *indexed = filter_on("group", g, false), *scanned = filter_on("group", g, true);
        uint64_t a = count_with(indexed), b = count_with(scanned);
        CHECK(a == 2 * per_group[g] && b == a);
        eg_filter_free(indexed);
        eg_filter_free(scanned);
    }
    eg_point_list page;
    eg_point_id next;
    bool has_next;
    eg_scroll_request req = {NULL, EG_SEARCH_LIMIT_MAX, NULL, true, true};
    CHECK_OK(eg_vectors_scroll(store, COLLECTION, &req, &page, &next, &has_next, &err), &err);
    size_t i = 0;
    for (int member = 0; member < 2; member++)
        for (uint64_t k = 0; k < PAIRS; k++) {
            if (!present[k]) continue;
            bool ok = i < page.count && page.items[i].id.num == k + (uint64_t)member * PARTNER;
            CHECK(ok);
            if (ok) {
                float v[DIM];
                pair_vector(k, v);
                CHECK(memcmp(v, page.items[i].vector, sizeof v) == 0);
                CHECK(payload_fits(page.items[i].payload, &page.items[i].id));
                CHECK(page.items[i].sparse.count == 2);
            }
            i++;
        }
    CHECK(i == page.count);
    eg_point_list_free(&page);
}

TEST(one_writer_three_readers) {
    eg_db *db = test_open_fresh();
    store = eg_db_vectors(db);
    eg_error err;
    eg_collection_config config = {DIM, EG_DISTANCE_DOT, true};
    CHECK_OK(eg_vectors_create_collection(store, COLLECTION, &config, &err), &err);
    CHECK_OK(eg_vectors_create_payload_index(store, COLLECTION, "group", EG_PAYLOAD_INTEGER, &err), &err);
    CHECK_OK(eg_vectors_create_payload_index(store, COLLECTION, "pair", EG_PAYLOAD_INTEGER, &err), &err);
    for (uint64_t k = 0; k < PAIRS; k += 2) { /* start half full */
        CHECK_OK(write_pair(k, -1, &err), &err);
        present[k] = true;
    }
    pthread_t w, r[READERS];
    long writer_failures = 0;
    reader_stats stats[READERS];
    memset(stats, 0, sizeof stats);
    REQUIRE(pthread_create(&w, NULL, writer, &writer_failures) == 0);
    for (int i = 0; i < READERS; i++) REQUIRE(pthread_create(&r[i], NULL, reader, &stats[i]) == 0);
    pthread_join(w, NULL);
    for (int i = 0; i < READERS; i++) pthread_join(r[i], NULL);
    CHECK(writer_failures == 0);
    for (int i = 0; i < READERS; i++) {
        if (stats[i].errors || stats[i].inconsistencies)
            fprintf(stderr, "  reader %d: %ld calls, %ld errors, %ld inconsistencies; first: %s\n", i, stats[i].calls,
                    stats[i].errors, stats[i].inconsistencies, stats[i].first_problem);
        CHECK(stats[i].errors == 0 && stats[i].inconsistencies == 0);
        CHECK(stats[i].calls > 20);
    }
    check_final_state();
    eg_close(db);
}

int main(void) {
    RUN(one_writer_three_readers);
    return test_summary();
}
