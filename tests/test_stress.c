/* test_stress.c — concurrency (issue 8): 8 threads share ONE open data folder for a fixed time, doing mixed memory
 * creates, updates, deletes, recalls, consistency checks and archive runs (with the odd restore), then every
 * acknowledged write is verified whole, before and after a reopen, and eg_memory_check must be clean.
 *
 * Ownership keeps the expected state exact: thread t writes only the ids it made ((t+1) * 10^9 + seq), all in its
 * own session "stress-t", and archives only that session (threads 0 and 1; their old memories are created with a
 * created_at 100 days back, one millisecond apart in creation order, so that "oldest first" with a limit is
 * predictable). Recalls read across every thread's memories. Each thread logs what the API acknowledged: per id its
 * type, vector seed, last acknowledged revision ("rev" in both payload and properties) and state (live, deleted,
 * archived). Nothing is shared between threads but the eg_db and a few atomic counters.
 *
 * The run lasts ENGRAM_STRESS_SECONDS (default 3, also under ASan, where the whole program takes about 4 s).
 * ENGRAM_STRESS_LIVE=N caps each thread's live memories: at the cap a create becomes a delete, so that the data
 * stays the same size and a long run (a soak) shows whether memory use stays flat. Ten times during the run the
 * main thread prints the live memories, the heap in use and the resident set (anonymous and file-backed).
 *
 * eg_memory_check runs during the load too (thread 7), and must get its turn within about one scan: memory.h
 * says it "holds new" writes while it waits for running ones. */
#include "test.h"

#include <engram/engram.h>

#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* Exported by every sanitizer runtime; gcc ships no header that declares it (clang's allocator_interface.h). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define THREADS 8
#define ARCHIVERS 2   /* threads 0 .. ARCHIVERS-1 run archive_older_than on their session */
#define CHECKER 7     /* thread that also runs eg_memory_check during the run */
#define DIM 8
#define DAY_MS 86400000LL
#define MAX_RECORDS 200000

#define DEFAULT_SECONDS 3.0

enum { LIVE = 0, DELETED, ARCHIVED };

typedef struct record {
    uint64_t id;
    eg_memory_type type;
    int seed;
    int rev;      /* last acknowledged revision */
    int state;
    bool old;     /* created 100 days back: an archive candidate (archiver threads only) */
    int64_t created_at;
} record;

enum { OP_CREATE, OP_UPDATE, OP_DELETE, OP_RECALL, OP_ARCHIVE_RUN, OP_ARCHIVED, OP_RESTORE, OP_CHECK, OP_KINDS };
static const char *op_names[OP_KINDS] = {"create", "update", "delete", "recall", "archive_run", "archived",
                                         "restore", "check"};

/* Live memories of all threads, and records the threads have logged (each record a slot of their preallocated
 * arrays, touched as they go: the test's own growing share of the resident set), read by the main thread while
 * they run. */
static atomic_long live_memories, records_logged;

typedef struct worker {
    int t;
    eg_db *db;
    double seconds;
    long live, live_cap; /* this thread's live memories; the cap (0: none) */
    unsigned rng;
    record *records;
    size_t count;
    size_t old_order_next; /* archivers: index from which "oldest first" begins (see archive_run) */
    uint64_t ops[OP_KINDS];
    uint64_t recall_hits, recall_null_nodes, recall_bad;
    double check_max_s, check_total_s; /* eg_memory_check latency during the run */
    uint64_t iterations;
    int failures;
    int64_t base_ms;
} worker;

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Thread-safe check: the harness counters are not atomic, so threads count their own failures. */
#define TCHECK(w, cond, ...)                                                                                         \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            fprintf(stderr, "  %s:%d: thread %d: CHECK failed: %s: ", __FILE__, __LINE__, (w)->t, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                                            \
            fputc('\n', stderr);                                                                                     \
            (w)->failures++;                                                                                         \
        }                                                                                                            \
    } while (0)

static void vector_for(int seed, float v[DIM]) {
    for (int i = 0; i < DIM; i++) v[i] = (float)((seed * 31 + i * 7) % 13) - 6.0f + 0.5f + (float)(seed % 97) * 0.01f;
}

static const char *str_or_empty(json_t *j) {
    const char *s = json_string_value(j);
    return s ? s : "";
}

static void id_text(uint64_t id, char out[32]) { snprintf(out, 32, "%" PRIu64, id); }

static void session_of(int t, char out[32]) { snprintf(out, 32, "stress-%d", t); }

static record *pick_live(worker *w) {
    if (!w->count) return NULL;
    for (int tries = 0; tries < 8; tries++) {
        record *r = &w->records[(size_t)rand_r(&w->rng) % w->count];
        if (r->state == LIVE) return r;
    }
    return NULL;
}

static void do_create(worker *w, bool old) {
    if (w->count == MAX_RECORDS) return;
    record *r = &w->records[w->count];
    r->id = (uint64_t)(w->t + 1) * 1000000000ULL + w->count;
    r->type = rand_r(&w->rng) % 2 ? EG_MEMORY_ENTITY : EG_MEMORY_EPISODE;
    r->seed = (int)(w->t * 100000 + w->count);
    r->rev = 0;
    r->state = LIVE;
    r->old = old;
    /* Old ones: 100 days back, one ms apart in creation order, so that oldest first is creation order. */
    r->created_at = old ? w->base_ms - 100 * DAY_MS + (int64_t)w->count : now_ms();
    float v[DIM];
    vector_for(r->seed, v);
    char id[32], session[32];
    id_text(r->id, id);
    session_of(w->t, session);
    json_t *payload = json_pack("{s:i, s:i}", "owner", w->t, "rev", 0);
    json_t *props = json_pack("{s:i, s:i}", "owner", w->t, "rev", 0);
    eg_memory_spec spec = {.type = r->type, .id = id, .vector = v, .dim = DIM, .payload = payload,
                           .properties = props, .session_id = session, .has_created_at = true,
                           .created_at = r->created_at};
    eg_error e;
    char out_id[EG_POINT_ID_TEXT];
    eg_status st = eg_memory_create(w->db, &spec, out_id, &e);
    TCHECK(w, st == EG_OK, "create %s: %s (%s)", id, eg_status_name(st), e.message);
    if (st == EG_OK) {
        TCHECK(w, strcmp(out_id, id) == 0, "create returned id %s for %s", out_id, id);
        w->count++;
        w->ops[OP_CREATE]++;
        w->live++;
        atomic_fetch_add(&live_memories, 1);
        atomic_fetch_add(&records_logged, 1);
    }
    json_decref(payload);
    json_decref(props);
}

static void do_update(worker *w) {
    record *r = pick_live(w);
    if (!r) return;
    char id[32];
    id_text(r->id, id);
    json_t *payload = json_pack("{s:i}", "rev", r->rev + 1), *props = json_pack("{s:i}", "rev", r->rev + 1);
    eg_error e;
    eg_status st = eg_memory_update(w->db, r->type, id, payload, props, &e);
    TCHECK(w, st == EG_OK, "update %s: %s (%s)", id, eg_status_name(st), e.message);
    if (st == EG_OK) {
        r->rev++;
        w->ops[OP_UPDATE]++;
    }
    json_decref(payload);
    json_decref(props);
}

static void do_delete(worker *w) {
    record *r = pick_live(w);
    if (!r) return;
    char id[32];
    id_text(r->id, id);
    eg_error e;
    eg_status st = eg_memory_delete(w->db, r->type, id, &e);
    TCHECK(w, st == EG_OK, "delete %s: %s (%s)", id, eg_status_name(st), e.message);
    if (st == EG_OK) {
        r->state = DELETED;
        w->ops[OP_DELETE]++;
        w->live--;
        atomic_fetch_sub(&live_memories, 1);
    }
}

static void do_recall(worker *w) {
    float v[DIM];
    vector_for(rand_r(&w->rng) % 800000, v);
    eg_recall_request request = {.type = rand_r(&w->rng) % 2 ? EG_MEMORY_ENTITY : EG_MEMORY_EPISODE, .vector = v,
                                 .dim = DIM, .limit = 10, .expand = rand_r(&w->rng) % 2};
    json_t *out = NULL;
    eg_error e;
    eg_status st = eg_memory_recall(w->db, &request, &out, &e);
    /* The first creates of a type may make the collection while this runs: a recall of a type without a collection
     * answers {"memories": []}; a dimension mismatch cannot happen (every vector is DIM). */
    TCHECK(w, st == EG_OK, "recall: %s (%s)", eg_status_name(st), e.message);
    if (st == EG_OK) {
        w->ops[OP_RECALL]++;
        json_t *memories = json_object_get(out, "memories");
        size_t i;
        json_t *m;
        json_array_foreach(memories, i, m) {
            w->recall_hits++;
            json_t *payload = json_object_get(m, "payload");
            json_t *node = json_object_get(m, "node");
            json_int_t owner = json_integer_value(json_object_get(payload, "owner"));
            const char *id = json_string_value(json_object_get(m, "id"));
            /* The id encodes its owner; the payload must agree (never another memory's payload). */
            bool ok = id && owner >= 0 && owner < THREADS && strtoull(id, NULL, 10) / 1000000000ULL == (uint64_t)owner + 1;
            if (!ok) w->recall_bad++;
            TCHECK(w, ok, "recall hit %s with payload owner %d", id ? id : "(null)", (int)owner);
            if (json_is_null(node) || !node) w->recall_null_nodes++; /* deleted or archived since the search */
        }
    }
    json_decref(out);
}

/* Archives this thread's session for one type, maybe with a limit. Old live memories of that type are the
 * candidates; with a limit, the oldest, which are those created first. */
static void archive_run(worker *w) {
    eg_memory_type type = rand_r(&w->rng) % 2 ? EG_MEMORY_ENTITY : EG_MEMORY_EPISODE;
    size_t limit = rand_r(&w->rng) % 2 ? 0 : 1 + (size_t)rand_r(&w->rng) % 5;
    char session[32];
    session_of(w->t, session);
    size_t expected = 0;
    for (size_t i = 0; i < w->count; i++) {
        record *r = &w->records[i];
        if (r->old && r->state == LIVE && r->type == type) expected++;
    }
    eg_archive_request request = {.type = type, .older_than_days = 30, .limit = limit, .session_id = session};
    eg_archive_result result = {0};
    eg_error e;
    eg_status st = eg_archive_older_than(w->db, &request, &result, &e);
    TCHECK(w, st == EG_OK, "archive_older_than: %s (%s)", eg_status_name(st), e.message);
    TCHECK(w, result.candidates == expected, "archive candidates %" PRIu64 ", expected %zu", result.candidates,
           expected);
    size_t want = limit && limit < expected ? limit : expected;
    TCHECK(w, result.archived == want && result.failed == 0, "archived %" PRIu64 " failed %" PRIu64 ", expected %zu",
           result.archived, result.failed, want);
    w->ops[OP_ARCHIVE_RUN]++;
    if (st != EG_OK) return;
    /* Oldest first: created_at grows with the index, except restored ones keep their own (still in order). */
    size_t done = 0;
    for (size_t i = 0; i < w->count && done < result.archived; i++) {
        record *r = &w->records[i];
        if (r->old && r->state == LIVE && r->type == type) {
            r->state = ARCHIVED;
            done++;
        }
    }
    w->ops[OP_ARCHIVED] += done;
    w->live -= (long)done;
    atomic_fetch_sub(&live_memories, (long)done);
}

static void restore_one(worker *w) {
    if (!w->count) return;
    for (int tries = 0; tries < 16; tries++) {
        record *r = &w->records[(size_t)rand_r(&w->rng) % w->count];
        if (r->state != ARCHIVED) continue;
        char id[32];
        id_text(r->id, id);
        eg_error e;
        eg_status st = eg_restore_archived(w->db, id, &e);
        TCHECK(w, st == EG_OK, "restore %s: %s (%s)", id, eg_status_name(st), e.message);
        if (st == EG_OK) {
            r->state = LIVE;
            w->ops[OP_RESTORE]++;
            w->live++;
            atomic_fetch_add(&live_memories, 1);
        }
        return;
    }
}

static void check_run(worker *w) {
    json_t *report = NULL;
    eg_error e;
    double t0 = mono();
    eg_status st = eg_memory_check(w->db, false, &report, &e);
    double took = mono() - t0;
    w->check_total_s += took;
    if (took > w->check_max_s) w->check_max_s = took;
    TCHECK(w, st == EG_OK, "check: %s (%s)", eg_status_name(st), e.message);
    if (st == EG_OK) {
        w->ops[OP_CHECK]++;
        bool ok = json_is_true(json_object_get(report, "consistent")) &&
                  json_array_size(json_object_get(report, "orphans")) == 0 &&
                  json_array_size(json_object_get(report, "pending")) == 0;
        if (!ok) {
            char *text = json_dumps(report, JSON_COMPACT);
            TCHECK(w, ok, "check during the run: %.400s", text);
            free(text);
        }
    }
    json_decref(report);
}

static void *run(void *arg) {
    worker *w = arg;
    bool archiver = w->t < ARCHIVERS;
    double end = mono() + w->seconds;
    /* Checks come by the clock, not by iterations, so that a slow build (ThreadSanitizer) still runs several. */
    double check_every = w->seconds / 8 < 5 ? w->seconds / 8 : 5, next_check = mono() + check_every;
    uint64_t n = 0;
    while (mono() < end) {
        n++;
        int dice = rand_r(&w->rng) % 100;
        if ((dice < 30 || w->count < 4) && w->live_cap && w->live >= w->live_cap)
            do_delete(w);
        else if (dice < 30 || w->count < 4)
            do_create(w, archiver && rand_r(&w->rng) % 2);
        else if (dice < 50)
            do_update(w);
        else if (dice < 60)
            do_delete(w);
        else
            do_recall(w);
        if (archiver && n % 64 == 0) archive_run(w);
        if (archiver && n % 97 == 0) restore_one(w);
        if (w->t == CHECKER && mono() >= next_check) {
            check_run(w);
            next_check = mono() + check_every;
        }
    }
    w->iterations = n;
    return NULL;
}

/* Verifies one record against the stores; returns false (and reports) when it is not as acknowledged. */
static void verify(eg_db *db, int t, const record *r, int *failures, uint64_t *counts) {
    char id[32];
    id_text(r->id, id);
    eg_error e;
    eg_point_id pid = eg_point_id_num(r->id);
    eg_point_list list = {0};
    eg_status sv = eg_vectors_get(eg_db_vectors(db), eg_memory_collection(r->type), &pid, 1, true, true, &list, &e);
    bool in_vectors = sv == EG_OK && list.count == 1;
    eg_node node = {0};
    eg_status sg = eg_graph_get_node(eg_db_graph(db), id, EG_LABEL_ANY, &node, &e);
    bool in_graph = sg == EG_OK;
    json_t *archived = NULL;
    eg_status sa = eg_retrieve_archived(db, id, &archived, &e);
    bool ok = true;
    const char *why = "";
    if (sv != EG_OK || (sg != EG_OK && sg != EG_NOT_FOUND) || (sa != EG_OK && sa != EG_NOT_FOUND)) {
        ok = false;
        why = "read failed";
    } else if (r->state == LIVE) {
        counts[LIVE]++;
        if (!in_vectors || !in_graph) {
            ok = false;
            why = "live memory missing from a store";
        } else if (sa != EG_NOT_FOUND) {
            ok = false;
            why = "live memory also archived";
        } else {
            float v[DIM];
            vector_for(r->seed, v);
            const eg_point *p = &list.items[0];
            json_t *pl = p->payload, *pr = node.properties;
            char session[32];
            session_of(t, session);
            /* Cosine collections store the vector normalised: compare directions. */
            double norm = 0, dot = 0, pnorm = 0;
            for (int i = 0; p->dim == DIM && p->vector && i < DIM; i++) {
                norm += (double)v[i] * v[i];
                pnorm += (double)p->vector[i] * p->vector[i];
                dot += (double)v[i] * p->vector[i];
            }
            if (p->dim != DIM || !p->vector || fabs(dot / sqrt(norm * pnorm) - 1.0) > 1e-6 || fabs(pnorm - 1.0) > 1e-4)
                ok = false, why = "vector differs";
            else if (json_integer_value(json_object_get(pl, "rev")) != r->rev ||
                     json_integer_value(json_object_get(pl, "owner")) != t ||
                     json_integer_value(json_object_get(pl, "created_at")) != r->created_at ||
                     strcmp(str_or_empty(json_object_get(pl, "session_id")), session) != 0)
                ok = false, why = "payload differs from the last acknowledged revision";
            else if (node.label != eg_memory_label(r->type) || json_integer_value(json_object_get(pr, "rev")) != r->rev ||
                     json_integer_value(json_object_get(pr, "owner")) != t ||
                     strcmp(str_or_empty(json_object_get(pr, "sessionId")), session) != 0)
                ok = false, why = "node differs from the last acknowledged revision";
        }
    } else if (r->state == DELETED) {
        counts[DELETED]++;
        if (in_vectors || in_graph) ok = false, why = "deleted memory still hot";
        else if (sa != EG_NOT_FOUND) ok = false, why = "deleted memory archived";
    } else {
        counts[ARCHIVED]++;
        if (in_vectors || in_graph) ok = false, why = "archived memory still hot";
        else if (sa != EG_OK) ok = false, why = "archived memory not in the archive";
        else {
            json_t *rec = json_object_get(archived, "record");
            json_t *pl = json_object_get(rec, "payload");
            json_t *pr = json_object_get(json_object_get(rec, "node"), "properties");
            if (json_integer_value(json_object_get(pl, "rev")) != r->rev ||
                json_integer_value(json_object_get(pr, "rev")) != r->rev ||
                strcmp(str_or_empty(json_object_get(rec, "memory_type")), eg_memory_collection(r->type)) != 0)
                ok = false, why = "archived record differs from the last acknowledged revision";
        }
    }
    if (!ok) {
        if (*failures < 20)
            fprintf(stderr, "  thread %d memory %s (%s, state %d, rev %d): %s [vectors %s/%zu graph %s archive %s]\n",
                    t, id, eg_memory_type_name(r->type), r->state, r->rev, why, eg_status_name(sv), list.count,
                    eg_status_name(sg), eg_status_name(sa));
        (*failures)++;
    }
    eg_point_list_free(&list);
    if (in_graph) eg_node_clear(&node);
    json_decref(archived);
}

static void verify_all(eg_db *db, worker *workers, const char *when) {
    int failures = 0;
    uint64_t counts[3] = {0};
    for (int t = 0; t < THREADS; t++)
        for (size_t i = 0; i < workers[t].count; i++) verify(db, t, &workers[t].records[i], &failures, counts);
    CHECK(failures == 0);
    if (failures) fprintf(stderr, "  %s: %d memories not as acknowledged\n", when, failures);
    json_t *report = NULL;
    eg_error e;
    CHECK_OK(eg_memory_check(db, false, &report, &e), &e);
    if (report) {
        bool ok = json_is_true(json_object_get(report, "consistent")) &&
                  json_array_size(json_object_get(report, "orphans")) == 0 &&
                  json_array_size(json_object_get(report, "pending")) == 0 &&
                  json_array_size(json_object_get(report, "dead_letters")) == 0 &&
                  json_integer_value(json_object_get(report, "memories")) == (json_int_t)counts[LIVE];
        CHECK(ok);
        if (!ok) {
            char *text = json_dumps(report, JSON_COMPACT);
            fprintf(stderr, "  %s: check %.600s (expected %" PRIu64 " memories)\n", when, text, counts[LIVE]);
            free(text);
        }
    }
    json_decref(report);
    printf("    measured: %s: %" PRIu64 " live, %" PRIu64 " deleted, %" PRIu64 " archived verified\n", when,
           counts[LIVE], counts[DELETED], counts[ARCHIVED]);
}

/* Bytes the allocator has handed out and not taken back: the sanitizers' own count under them, else glibc's
 * (arenas plus mmapped blocks). */
static double heap_in_use_mib(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return (double)__sanitizer_get_current_allocated_bytes() / (1 << 20);
#else
    struct mallinfo2 m = mallinfo2();
    return (double)(m.uordblks + m.hblkhd) / (1 << 20);
#endif
}

/* A field of /proc/self/status in MiB ("RssAnon", "RssFile"), or -1. */
static double status_mib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    double kib = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kib = atof(line + n + 1);
    fclose(f);
    return kib < 0 ? -1 : kib / 1024;
}

static void print_memory_sample(double at) {
    double arrays = (double)THREADS * MAX_RECORDS * sizeof(record) / (1 << 20);
    printf("    measured: at %6.1f s: %6ld live memories, heap in use %6.1f MiB (+ the test's record arrays, %.1f MiB), "
           "RssAnon %6.1f MiB (the records logged %5.1f MiB), RssFile %6.1f MiB\n",
           at, atomic_load(&live_memories), heap_in_use_mib() - arrays, arrays, status_mib("RssAnon"),
           (double)atomic_load(&records_logged) * sizeof(record) / (1 << 20), status_mib("RssFile"));
    fflush(stdout);
}

TEST(eight_threads_mixed_writes_keep_every_acknowledged_write_whole) {
    double seconds = DEFAULT_SECONDS;
    const char *env = getenv("ENGRAM_STRESS_SECONDS");
    if (env && *env) seconds = atof(env);
    if (seconds <= 0) seconds = DEFAULT_SECONDS;
    const char *cap = getenv("ENGRAM_STRESS_LIVE");
    long live_cap = cap && *cap ? atol(cap) : 0;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_db *db = NULL;
    eg_error e;
    CHECK_OK(eg_open(dir, &options, &db, &e), &e);
    REQUIRE(db);

    worker *workers = calloc(THREADS, sizeof *workers);
    REQUIRE(workers);
    int64_t base = now_ms();
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){.t = t, .db = db, .seconds = seconds, .live_cap = live_cap > 0 ? live_cap : 0,
                              .rng = 0x9e3779b9u * (unsigned)(t + 1), .base_ms = base};
        workers[t].records = calloc(MAX_RECORDS, sizeof(record));
        REQUIRE(workers[t].records);
    }
    pthread_t threads[THREADS];
    double start = mono();
    for (int t = 0; t < THREADS; t++) REQUIRE(pthread_create(&threads[t], NULL, run, &workers[t]) == 0);
    print_memory_sample(0);
    for (int k = 1; k <= 10; k++) {
        double wake = start + seconds * k / 10, wait = wake - mono();
        if (wait > 0) {
            struct timespec nap = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
            nanosleep(&nap, NULL);
        }
        print_memory_sample(mono() - start);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
    double elapsed = mono() - start;

    uint64_t total[OP_KINDS] = {0}, hits = 0, null_nodes = 0, bad = 0;
    int failures = 0;
    for (int t = 0; t < THREADS; t++) {
        for (int k = 0; k < OP_KINDS; k++) total[k] += workers[t].ops[k];
        hits += workers[t].recall_hits;
        null_nodes += workers[t].recall_null_nodes;
        bad += workers[t].recall_bad;
        failures += workers[t].failures;
    }
    CHECK(failures == 0);
    CHECK(bad == 0);
    uint64_t all = 0;
    for (int k = 0; k < OP_KINDS; k++) {
        if (k != OP_ARCHIVED) all += total[k];
        printf("    measured: %-11s %8" PRIu64 " ops, %9.1f/s\n", op_names[k], total[k], (double)total[k] / elapsed);
    }
    printf("    measured: %d threads, %.2f s, %" PRIu64 " operations (%.1f/s); recall hits %" PRIu64
           ", %" PRIu64 " without node (removed meanwhile); %d failed calls\n",
           THREADS, elapsed, all, (double)all / elapsed, hits, null_nodes, failures);
    printf("    measured: iterations per thread:");
    for (int t = 0; t < THREADS; t++) printf(" %" PRIu64, workers[t].iterations);
    printf("; eg_memory_check during the run: %" PRIu64 " calls, %.3f s max, %.3f s total\n", total[OP_CHECK],
           workers[CHECKER].check_max_s, workers[CHECKER].check_total_s);
    CHECK(total[OP_CREATE] > 0 && total[OP_UPDATE] > 0 && total[OP_DELETE] > 0 && total[OP_RECALL] > 0 &&
          total[OP_ARCHIVE_RUN] > 0 && total[OP_CHECK] > 0);

    /* eg_memory_check "waits for running writes and holds new ones while it scans" (memory.h): under a stream of
     * writes it must get its turn within about one scan, not wait until the writers happen to pause. An
     * uncontended check calibrates what one scan costs here. */
    double t0 = mono();
    json_t *quiet = NULL;
    CHECK_OK(eg_memory_check(db, false, &quiet, &e), &e);
    double quiet_s = mono() - t0;
    json_decref(quiet);
    printf("    measured: eg_memory_check uncontended %.3f s, during the run up to %.3f s\n", quiet_s,
           workers[CHECKER].check_max_s);
    CHECK(workers[CHECKER].check_max_s < 10 * quiet_s + 0.25);
    CHECK(total[OP_CHECK] >= 3);

    verify_all(db, workers, "after the run");
    eg_close(db);
    db = NULL;
    CHECK_OK(eg_open(dir, &options, &db, &e), &e);
    if (db) {
        eg_recovery_report rec;
        eg_db_recovery(db, &rec);
        CHECK(rec.sagas_unfinished == 0);
        verify_all(db, workers, "after a reopen");
        eg_close(db);
    }
    for (int t = 0; t < THREADS; t++) free(workers[t].records);
    free(workers);
}

int main(void) {
    RUN(eight_threads_mixed_writes_keep_every_acknowledged_write_whole);
    return test_summary();
}
