/* test.h — the tiny test harness every engram test program uses.
 *
 * A test program is a set of `TEST(name)` functions run by `RUN(name)` from main; CHECK records a failure with
 * its file and line and goes on, REQUIRE stops the current test. main ends with `return test_summary();`, which
 * prints "N passed, N failed" and exits non-zero on any failure. Helpers make scratch data folders that are
 * removed at exit. */
#ifndef ENGRAM_TEST_H
#define ENGRAM_TEST_H

#include <engram/exec.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of their heavy work (point counts, write counts) the compute-bound tests do: all of it, except under
 * ThreadSanitizer, which makes every memory access 5 to 15 times slower; there the interleavings are what the
 * run is for, and a quarter of the work shows them. */
#if defined(__SANITIZE_THREAD__)
#define TEST_WORK_DIVISOR 4
#else
#define TEST_WORK_DIVISOR 1
#endif

extern int test_failures_in_current;
extern int test_passed, test_failed;

#define TEST(name) static void test_##name(void)
#define RUN(name) test_run(#name, test_##name)

#define CHECK(cond)                                                                                                  \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                               \
            test_failures_in_current++;                                                                              \
        }                                                                                                            \
    } while (0)

#define REQUIRE(cond)                                                                                                \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);                             \
            test_failures_in_current++;                                                                              \
            return;                                                                                                  \
        }                                                                                                            \
    } while (0)

/* Checks a status and, on mismatch, prints the error message. */
#define CHECK_STATUS(expr, expected, err)                                                                            \
    do {                                                                                                             \
        eg_status got_ = (expr);                                                                                     \
        if (got_ != (expected)) {                                                                                    \
            fprintf(stderr, "  %s:%d: %s -> %s, expected %s (%s)\n", __FILE__, __LINE__, #expr,                      \
                    eg_status_name(got_), eg_status_name(expected), (err)->message);                                \
            test_failures_in_current++;                                                                              \
        }                                                                                                            \
    } while (0)

#define CHECK_OK(expr, err) CHECK_STATUS(expr, EG_OK, err)

void test_run(const char *name, void (*fn)(void));
int test_summary(void);

/* A new empty scratch folder (removed at exit); returns a path valid until exit. Over remote stores
 * (tests/over_remote.sh) the folder and its "data" subfolder each hold an engram.conf that puts their stores there,
 * so that the same suites run over the remote backends: with $ENGRAM_TEST_QDRANT_URL, the vectors on that Qdrant
 * server under a collection prefix of their own; with $ENGRAM_TEST_GRAPH_BACKEND=neo4j, the graph on an
 * `$ENGRAM_BIN serve --bolt` of their own (over a sibling folder, stopped at exit). */
const char *test_scratch_dir(void);

/* Whether the scratch folders keep their graph on a Bolt server ($ENGRAM_TEST_GRAPH_BACKEND=neo4j): properties must
 * then be what Neo4j stores (no objects, no nested or mixed lists). */
bool test_graph_over_neo4j(void);

/* A data folder path in a new scratch folder; valid until the fourth call after. */
const char *test_data_dir(void);

/* Both stores as canonical text, to compare before and after a rejected write: the graph dump and every memory
 * collection's points with their vectors and payloads (null for a collection not made yet). Caller frees. */
char *test_memory_snapshot(eg_db *db);

/* Whether the vector store holds point `id` in `collection` / the graph holds node `id` (any label). */
bool test_has_point(eg_db *db, const char *collection, const char *id);
bool test_has_node(eg_db *db, const char *id);

/* The network tests' memories: memory n (its node and point id the decimal n) has an 8-dimensional vector with four
 * coordinates of ±0.5, the others 0, distinct for n below 1120. Its length is exactly 1, so a cosine collection's
 * normalisation keeps every bit and a vector read back compares exactly. */
#define TEST_PATTERN_DIM 8
void test_pattern_vector(int n, float v[TEST_PATTERN_DIM]);
/* Memory n is in both stores (its point in `collection`), its vector bit for bit / in neither store. */
bool test_memory_whole(eg_db *db, const char *collection, int n);
bool test_memory_absent(eg_db *db, const char *collection, int n);
/* eg_memory_check, with a repair first when asked; true when the (last) report says consistent (else the report
 * is printed). */
bool test_consistent_after(eg_db *db, bool repair);

/* Opens a fresh data folder (no fsync: tests measure logic, not disks). */
eg_db *test_open_fresh(void);

/* Runs one exec request line and returns the parsed response (caller decrefs). */
json_t *test_exec(eg_db *db, const char *line);

/* The error code string of a response, or "ok". */
const char *test_response_code(json_t *response);

/* A canonical dump of the whole graph (nodes with properties, relationships with properties), to compare
 * stores before and after a rejected request. Caller frees. */
char *test_graph_snapshot(eg_db *db);

/* Is the program `name` on the PATH? */
bool test_tool_exists(const char *name);
/* Makes a self-signed certificate for 127.0.0.1 and localhost in dir (cert.pem, key.pem) with certtool, else
 * openssl; false when neither could. */
bool test_make_certificate(const char *dir);

/* xorshift64*: a fixed seed per caller, so that a failure reproduces. */
static inline uint64_t test_random(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [-1, 1), from 24 random bits. */
static inline float test_random_unit(uint64_t *state) {
    return (float)((double)(test_random(state) >> 40) / (double)(1 << 23) - 1.0);
}

#endif
