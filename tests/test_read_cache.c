/* test_read_cache.c — the fallback read cache: hits and misses returning copies the caller owns, LRU eviction
 * order, staleness by store write generations (including results read before a write and put after it), the
 * disabled cache, the size limit, canonical request keys, and 8 threads putting, getting and writing at once while
 * every hit is checked against the writes acknowledged before it. */
#include "test.h"
#include "exec/read_cache.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define GRAPH_ONLY (1u << EG_READ_CACHE_GRAPH)
#define VECTORS_ONLY (1u << EG_READ_CACHE_VECTORS)

static eg_read_cache *new_cache(size_t max_entries) {
    eg_read_cache *c = NULL;
    eg_error err;
    CHECK_OK(eg_read_cache_new(max_entries, &c, &err), &err);
    return c;
}

static void observe(eg_read_cache *c, uint64_t generations[EG_READ_CACHE_STORES]) {
    for (int s = 0; s < EG_READ_CACHE_STORES; s++) generations[s] = eg_read_cache_generation(c, s);
}

/* Puts {"n": n} under key as a read of the stores in mask that started now. */
static void put_number(eg_read_cache *c, const char *key, long long n, unsigned mask) {
    uint64_t generations[EG_READ_CACHE_STORES];
    observe(c, generations);
    json_t *result = json_pack("{s:I}", "n", (json_int_t)n);
    eg_read_cache_put(c, key, result, mask, generations);
    json_decref(result);
}

/* The n of the result cached under key, or -1 for a miss. */
static long long get_number(eg_read_cache *c, const char *key) {
    json_t *r = eg_read_cache_get(c, key);
    if (!r) return -1;
    long long n = json_integer_value(json_object_get(r, "n"));
    json_decref(r);
    return n;
}

static eg_read_cache_stats stats_of(eg_read_cache *c) {
    eg_read_cache_stats s;
    eg_read_cache_stats_get(c, &s);
    return s;
}

TEST(a_put_result_is_found_by_its_key_as_a_copy_the_caller_owns) {
    eg_read_cache *c = new_cache(4);
    REQUIRE(c);
    CHECK(eg_read_cache_get(c, "a") == NULL);
    uint64_t generations[EG_READ_CACHE_STORES];
    observe(c, generations);
    json_t *result =
        json_pack("{s:i, s:[i,i], s:f, s:s%}", "n", 7, "ids", 1, 2, "score", 0.1, "nul", "a\0b", (size_t)3);
    json_t *expected = json_deep_copy(result);
    eg_read_cache_put(c, "a", result, GRAPH_ONLY, generations);
    /* The cache kept the text: changing or freeing the caller's value afterwards changes nothing. */
    json_object_set_new(result, "n", json_integer(8));
    json_decref(result);
    json_t *first = eg_read_cache_get(c, "a");
    REQUIRE(first);
    CHECK(json_equal(first, expected));
    CHECK(json_string_length(json_object_get(first, "nul")) == 3);
    /* Each lookup gets its own value, free to modify. */
    json_object_set_new(first, "cached", json_true());
    json_t *second = eg_read_cache_get(c, "a");
    CHECK(second && second != first && json_equal(second, expected));
    CHECK(eg_read_cache_get(c, "b") == NULL);
    CHECK(eg_read_cache_get(c, "") == NULL);
    eg_read_cache_stats s = stats_of(c);
    CHECK(s.entries == 1 && s.max_entries == 4);
    CHECK(s.hits == 2 && s.misses == 3 && s.stale_dropped == 0 && s.evictions == 0);
    eg_read_cache_free(c);
    json_decref(first);
    json_decref(second);
    json_decref(expected);
}

TEST(a_full_cache_evicts_the_least_recently_used_and_get_refreshes_recency) {
    eg_read_cache *c = new_cache(3);
    REQUIRE(c);
    put_number(c, "a", 1, GRAPH_ONLY);
    put_number(c, "b", 2, GRAPH_ONLY);
    put_number(c, "c", 3, GRAPH_ONLY);
    CHECK(get_number(c, "a") == 1); /* recency now b, c, a */
    put_number(c, "d", 4, GRAPH_ONLY); /* evicts b */
    CHECK(stats_of(c).evictions == 1);
    CHECK(get_number(c, "b") == -1);
    CHECK(get_number(c, "a") == 1);
    CHECK(get_number(c, "c") == 3);
    CHECK(get_number(c, "d") == 4); /* recency now a, c, d */
    put_number(c, "e", 5, GRAPH_ONLY); /* evicts a */
    CHECK(get_number(c, "a") == -1);
    CHECK(get_number(c, "c") == 3 && get_number(c, "d") == 4 && get_number(c, "e") == 5);
    eg_read_cache_stats s = stats_of(c);
    CHECK(s.entries == 3 && s.evictions == 2 && s.stale_dropped == 0);
    eg_read_cache_free(c);
}

TEST(a_put_under_an_existing_key_replaces_it_without_evicting) {
    eg_read_cache *c = new_cache(2);
    REQUIRE(c);
    put_number(c, "a", 1, GRAPH_ONLY);
    put_number(c, "b", 2, GRAPH_ONLY);
    put_number(c, "a", 10, VECTORS_ONLY); /* a becomes the most recent */
    CHECK(get_number(c, "a") == 10);
    eg_read_cache_stats s = stats_of(c);
    CHECK(s.entries == 2 && s.evictions == 0);
    put_number(c, "c", 3, GRAPH_ONLY); /* evicts b, the least recent */
    CHECK(get_number(c, "b") == -1 && get_number(c, "a") == 10 && get_number(c, "c") == 3);
    /* The replacement took the new mask: a graph write leaves it, a vector write makes it stale. */
    eg_read_cache_note_write(c, EG_READ_CACHE_GRAPH);
    CHECK(get_number(c, "a") == 10);
    eg_read_cache_note_write(c, EG_READ_CACHE_VECTORS);
    CHECK(get_number(c, "a") == -1);
    eg_read_cache_free(c);
}

TEST(a_write_to_a_store_invalidates_the_entries_that_read_it_only) {
    eg_read_cache *c = new_cache(8);
    REQUIRE(c);
    put_number(c, "graph", 1, GRAPH_ONLY);
    put_number(c, "vectors", 2, VECTORS_ONLY);
    put_number(c, "both", 3, EG_READ_CACHE_ALL_STORES);
    put_number(c, "neither", 4, 0);
    eg_read_cache_note_write(c, EG_READ_CACHE_GRAPH);
    CHECK(get_number(c, "vectors") == 2);
    CHECK(get_number(c, "neither") == 4);
    CHECK(get_number(c, "graph") == -1);
    CHECK(get_number(c, "both") == -1);
    eg_read_cache_stats s = stats_of(c);
    CHECK(s.entries == 2 && s.stale_dropped == 2 && s.hits == 2 && s.misses == 2);
    /* Found stale once, the entry is gone: the next miss drops nothing. */
    CHECK(get_number(c, "graph") == -1);
    CHECK(stats_of(c).stale_dropped == 2);
    /* Results read after the write are fresh again. */
    put_number(c, "graph", 5, GRAPH_ONLY);
    CHECK(get_number(c, "graph") == 5);
    eg_read_cache_note_write(c, EG_READ_CACHE_VECTORS);
    CHECK(get_number(c, "vectors") == -1);
    CHECK(get_number(c, "graph") == 5);
    CHECK(get_number(c, "neither") == 4); /* it read no store */
    eg_read_cache_free(c);
}

TEST(a_result_read_before_a_write_and_put_after_it_is_stale_at_once) {
    eg_read_cache *c = new_cache(8);
    REQUIRE(c);
    uint64_t before[EG_READ_CACHE_STORES];
    observe(c, before);
    /* The read runs; meanwhile a vector write is acknowledged; then the read's result arrives. */
    eg_read_cache_note_write(c, EG_READ_CACHE_VECTORS);
    json_t *old = json_pack("{s:i}", "n", 1);
    eg_read_cache_put(c, "v", old, VECTORS_ONLY, before);
    CHECK(get_number(c, "v") == -1);
    eg_read_cache_stats s = stats_of(c);
    CHECK(s.entries == 0 && s.stale_dropped == 1);
    /* Only the stores read matter: the same generations are still current for the graph. */
    eg_read_cache_put(c, "g", old, GRAPH_ONLY, before);
    CHECK(get_number(c, "g") == 1);
    /* A late, stale result does not displace a fresher one under the same key. */
    put_number(c, "v", 2, VECTORS_ONLY);
    eg_read_cache_put(c, "v", old, VECTORS_ONLY, before);
    CHECK(get_number(c, "v") == 2);
    CHECK(stats_of(c).stale_dropped == 2);
    json_decref(old);
    eg_read_cache_free(c);
}

TEST(generations_count_noted_writes_per_store) {
    eg_read_cache *c = new_cache(2);
    REQUIRE(c);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_GRAPH) == 0);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_VECTORS) == 0);
    for (int i = 0; i < 3; i++) eg_read_cache_note_write(c, EG_READ_CACHE_GRAPH);
    eg_read_cache_note_write(c, EG_READ_CACHE_VECTORS);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_GRAPH) == 3);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_VECTORS) == 1);
    /* A store index out of range invalidates every store rather than none. */
    put_number(c, "g", 1, GRAPH_ONLY);
    eg_read_cache_note_write(c, EG_READ_CACHE_STORES);
    eg_read_cache_note_write(c, -1);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_GRAPH) == 5);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_VECTORS) == 3);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_STORES) == 0);
    CHECK(get_number(c, "g") == -1);
    eg_read_cache_free(c);
}

TEST(a_disabled_or_null_cache_stores_and_counts_nothing) {
    eg_read_cache *c = new_cache(0);
    REQUIRE(c);
    put_number(c, "a", 1, GRAPH_ONLY);
    CHECK(eg_read_cache_get(c, "a") == NULL);
    eg_read_cache_stats s = stats_of(c);
    CHECK(s.entries == 0 && s.max_entries == 0 && s.hits == 0 && s.misses == 0 && s.stale_dropped == 0 &&
          s.evictions == 0);
    eg_read_cache_note_write(c, EG_READ_CACHE_GRAPH);
    CHECK(eg_read_cache_generation(c, EG_READ_CACHE_GRAPH) == 1);
    eg_read_cache_free(c);

    put_number(NULL, "a", 1, GRAPH_ONLY);
    CHECK(eg_read_cache_get(NULL, "a") == NULL);
    eg_read_cache_note_write(NULL, EG_READ_CACHE_GRAPH);
    CHECK(eg_read_cache_generation(NULL, EG_READ_CACHE_GRAPH) == 0);
    s = stats_of(NULL);
    CHECK(s.entries == 0 && s.hits == 0 && s.misses == 0);
    eg_read_cache_free(NULL);
}

TEST(a_cache_above_the_entry_limit_is_refused) {
    eg_read_cache *c = (eg_read_cache *)1;
    eg_error err;
    CHECK_STATUS(eg_read_cache_new((size_t)EG_READ_CACHE_ENTRIES_MAX + 1, &c, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(c == NULL);
    CHECK(strstr(err.message, "read cache size") != NULL);
}

TEST(results_and_keys_above_1_mib_are_not_cached) {
    eg_read_cache *c = new_cache(4);
    REQUIRE(c);
    uint64_t generations[EG_READ_CACHE_STORES];
    observe(c, generations);
    size_t limit = EG_READ_CACHE_ITEM_MAX;
    char *text = malloc(limit + 2);
    REQUIRE(text);
    memset(text, 'x', limit + 1);
    text[limit + 1] = '\0';

    /* A string's text is its characters and two quotes: limit - 2 characters is exactly the limit. */
    text[limit - 2] = '\0';
    json_t *fits = json_string(text);
    text[limit - 2] = 'x';
    text[limit - 1] = '\0';
    json_t *too_big = json_string(text);
    text[limit - 1] = 'x';
    REQUIRE(fits && too_big);
    eg_read_cache_put(c, "fits", fits, GRAPH_ONLY, generations);
    eg_read_cache_put(c, "too big", too_big, GRAPH_ONLY, generations);
    json_t *r = eg_read_cache_get(c, "fits");
    CHECK(r && json_equal(r, fits));
    json_decref(r);
    CHECK(eg_read_cache_get(c, "too big") == NULL);

    /* Many small values add up the same way. */
    json_t *many = json_array();
    for (int i = 0; i < 150000 && many; i++) json_array_append_new(many, json_integer(1000000 + i));
    REQUIRE(many);
    eg_read_cache_put(c, "many", many, GRAPH_ONLY, generations);
    r = eg_read_cache_get(c, "many");
    CHECK(r == NULL);
    json_decref(r);

    /* A key of exactly the limit is cached, one byte more is not. */
    text[limit] = '\0';
    json_t *small = json_pack("{s:i}", "n", 1);
    eg_read_cache_put(c, text, small, GRAPH_ONLY, generations);
    CHECK(get_number(c, text) == 1);
    text[limit] = 'x';
    eg_read_cache_put(c, text, small, GRAPH_ONLY, generations);
    CHECK(get_number(c, text) == -1);
    CHECK(stats_of(c).entries == 2);

    json_decref(small);
    json_decref(many);
    json_decref(fits);
    json_decref(too_big);
    free(text);
    eg_read_cache_free(c);
}

TEST(unknown_store_bits_and_missing_arguments_cache_nothing) {
    eg_read_cache *c = new_cache(4);
    REQUIRE(c);
    uint64_t generations[EG_READ_CACHE_STORES];
    observe(c, generations);
    json_t *result = json_pack("{s:i}", "n", 1);
    eg_read_cache_put(c, "a", result, 1u << EG_READ_CACHE_STORES, generations);
    eg_read_cache_put(c, NULL, result, GRAPH_ONLY, generations);
    eg_read_cache_put(c, "b", NULL, GRAPH_ONLY, generations);
    eg_read_cache_put(c, "c", result, GRAPH_ONLY, NULL);
    CHECK(eg_read_cache_get(c, "a") == NULL && eg_read_cache_get(c, "b") == NULL);
    CHECK(eg_read_cache_get(c, "c") == NULL && eg_read_cache_get(c, NULL) == NULL);
    CHECK(stats_of(c).entries == 0);
    json_decref(result);
    eg_read_cache_free(c);
}

static char *key_of(const char *request_text) {
    json_t *request = json_loads(request_text, 0, NULL);
    char *key = eg_read_cache_key(request);
    json_decref(request);
    return key;
}

TEST(the_key_of_a_request_is_its_canonical_text) {
    char *a = key_of("{\"op\":\"search\",\"collection\":\"c\",\"limit\":5,"
                     "\"filter\":{\"must\":[{\"match\":{\"value\":1},\"key\":\"k\"}]},\"vector\":[0.5,1e-3]}");
    char *b = key_of("{ \"vector\" : [0.5, 0.001], \"filter\": {\"must\": [{\"key\": \"k\","
                     " \"match\": {\"value\": 1}}]}, \"limit\": 5, \"collection\": \"c\", \"op\": \"search\" }");
    REQUIRE(a && b);
    CHECK(strcmp(a, b) == 0);
    CHECK(strcmp(a, "{\"collection\":\"c\",\"filter\":{\"must\":[{\"key\":\"k\",\"match\":{\"value\":1}}]},"
                    "\"limit\":5,\"op\":\"search\",\"vector\":[#3fe0000000000000,#3f50624dd2f1a9fc]}") == 0);
    free(a);
    free(b);

    /* Different requests, different keys: array order, integer and real, the last bit of a double, unicode. */
    static const char *const pairs[][2] = {
        {"{\"ids\":[1,2]}", "{\"ids\":[2,1]}"},
        {"{\"limit\":5}", "{\"limit\":5.0}"},
        {"{\"x\":0.1}", "{\"x\":0.10000000000000002}"},
        {"{\"s\":\"\\u00e9\"}", "{\"s\":\"e\\u0301\"}"},
        {"{\"s\":\"a\\\"b\"}", "{\"s\":\"a\\\\b\"}"},
        {"{\"s\":\"\\n\"}", "{\"s\":\"\\\\x0a\"}"},
        {"{\"x\":[]}", "{\"x\":{}}"},
        {"{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1,\"c\":null}}"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *x = key_of(pairs[i][0]), *y = key_of(pairs[i][1]);
        CHECK(x && y && strcmp(x, y) != 0);
        free(x);
        free(y);
    }
    CHECK(eg_read_cache_key(NULL) == NULL);
}

/* ---- Threads -------------------------------------------------------------------------------------------- */

/* Two simulated stores. A write bumps a store's value, notes the write in the cache, then counts itself as
 * acknowledged; a read observes the generations, reads the values and puts them. A hit is then checked against the
 * writes acknowledged before the lookup began: the cached values must include every one of them. */
#define THREADS 8
#define KEYS 96
#define CAPACITY 32

static eg_read_cache *shared_cache;
static atomic_bool stop;
static atomic_ullong store_value[EG_READ_CACHE_STORES], acknowledged[EG_READ_CACHE_STORES];

typedef struct worker {
    uint64_t rng;
    long gets, hits, misses, puts, writes, wrong;
} worker;

static uint64_t next_random(worker *w) {
    w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
    return w->rng;
}

static unsigned mask_of(int k) { return (unsigned)(k % 3) + 1; } /* graph, vectors, both */

static void key_name(int k, char *out, size_t size) { snprintf(out, size, "{\"op\":\"read\",\"k\":%d}", k); }

static void write_step(int store) {
    atomic_fetch_add(&store_value[store], 1);
    eg_read_cache_note_write(shared_cache, store);
    atomic_fetch_add(&acknowledged[store], 1);
}

static void read_and_put(worker *w, int k) {
    uint64_t generations[EG_READ_CACHE_STORES];
    observe(shared_cache, generations);
    unsigned mask = mask_of(k);
    json_t *result = json_pack("{s:i, s:I, s:I}", "k", k, "v0",
                               (json_int_t)((mask & GRAPH_ONLY) ? atomic_load(&store_value[0]) : 0), "v1",
                               (json_int_t)((mask & VECTORS_ONLY) ? atomic_load(&store_value[1]) : 0));
    char key[64];
    key_name(k, key, sizeof key);
    eg_read_cache_put(shared_cache, key, result, mask, generations);
    json_decref(result);
    w->puts++;
}

static void get_and_check(worker *w, int k) {
    unsigned long long acked0 = atomic_load(&acknowledged[0]), acked1 = atomic_load(&acknowledged[1]);
    char key[64];
    key_name(k, key, sizeof key);
    json_t *r = eg_read_cache_get(shared_cache, key);
    w->gets++;
    if (!r) {
        w->misses++;
        return;
    }
    w->hits++;
    unsigned mask = mask_of(k);
    json_int_t v0 = json_integer_value(json_object_get(r, "v0")), v1 = json_integer_value(json_object_get(r, "v1"));
    if (json_integer_value(json_object_get(r, "k")) != k || ((mask & GRAPH_ONLY) && (unsigned long long)v0 < acked0) ||
        ((mask & VECTORS_ONLY) && (unsigned long long)v1 < acked1))
        w->wrong++;
    json_decref(r);
}

static void *work(void *arg) {
    worker *w = arg;
    while (!atomic_load(&stop)) {
        uint64_t roll = next_random(w) % 100;
        int k = (int)(next_random(w) % KEYS);
        if (roll < 3) {
            write_step((int)(roll % 2));
            w->writes++;
        } else if (roll < 50) {
            read_and_put(w, k);
        } else {
            get_and_check(w, k);
        }
    }
    return NULL;
}

TEST(threads_put_get_and_write_at_once_and_no_hit_misses_an_acknowledged_write) {
    shared_cache = new_cache(CAPACITY);
    REQUIRE(shared_cache);
    atomic_store(&stop, false);
    for (int s = 0; s < EG_READ_CACHE_STORES; s++) atomic_store(&store_value[s], 0), atomic_store(&acknowledged[s], 0);
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){.rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(t + 1)};
        REQUIRE(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    uint64_t start = eg_monotonic_ns();
    while (eg_monotonic_ns() - start < 500000000ULL) nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    atomic_store(&stop, true);
    worker total = {0};
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        total.gets += workers[t].gets, total.hits += workers[t].hits, total.misses += workers[t].misses;
        total.puts += workers[t].puts, total.writes += workers[t].writes, total.wrong += workers[t].wrong;
    }
    eg_read_cache_stats s = stats_of(shared_cache);
    printf("  %ld gets (%ld hits), %ld puts, %ld writes; %llu stale dropped, %llu evicted\n", total.gets, total.hits,
           total.puts, total.writes, (unsigned long long)s.stale_dropped, (unsigned long long)s.evictions);
    CHECK(total.wrong == 0);
    CHECK(total.hits > 0 && total.misses > 0 && total.writes > 0);
    CHECK(s.hits == (uint64_t)total.hits && s.misses == (uint64_t)total.misses);
    CHECK(s.entries <= CAPACITY && s.stale_dropped > 0 && s.evictions > 0);
    CHECK(eg_read_cache_generation(shared_cache, 0) == atomic_load(&acknowledged[0]));
    CHECK(eg_read_cache_generation(shared_cache, 1) == atomic_load(&acknowledged[1]));

    /* The table and the recency list agree: after a write to both stores, looking every key up finds each held
     * entry exactly once, stale, and leaves the cache empty. */
    eg_read_cache_note_write(shared_cache, EG_READ_CACHE_GRAPH);
    eg_read_cache_note_write(shared_cache, EG_READ_CACHE_VECTORS);
    for (int k = 0; k < KEYS; k++) {
        char key[64];
        key_name(k, key, sizeof key);
        CHECK(eg_read_cache_get(shared_cache, key) == NULL);
    }
    eg_read_cache_stats after = stats_of(shared_cache);
    CHECK(after.entries == 0);
    CHECK(after.stale_dropped == s.stale_dropped + s.entries);
    CHECK(after.misses == s.misses + KEYS);

    /* And it fills and evicts normally again. */
    worker w = {0};
    for (int k = 0; k <= CAPACITY; k++) read_and_put(&w, k);
    after = stats_of(shared_cache);
    CHECK(after.entries == CAPACITY && after.evictions == s.evictions + 1);
    eg_read_cache_free(shared_cache);
}

int main(void) {
    RUN(a_put_result_is_found_by_its_key_as_a_copy_the_caller_owns);
    RUN(a_full_cache_evicts_the_least_recently_used_and_get_refreshes_recency);
    RUN(a_put_under_an_existing_key_replaces_it_without_evicting);
    RUN(a_write_to_a_store_invalidates_the_entries_that_read_it_only);
    RUN(a_result_read_before_a_write_and_put_after_it_is_stale_at_once);
    RUN(generations_count_noted_writes_per_store);
    RUN(a_disabled_or_null_cache_stores_and_counts_nothing);
    RUN(a_cache_above_the_entry_limit_is_refused);
    RUN(results_and_keys_above_1_mib_are_not_cached);
    RUN(unknown_store_bits_and_missing_arguments_cache_nothing);
    RUN(the_key_of_a_request_is_its_canonical_text);
    RUN(threads_put_get_and_write_at_once_and_no_hit_misses_an_acknowledged_write);
    return test_summary();
}
