/* test_disk_full.c — out of disk: when the data folder's file system is full, memory writes fail with a clear
 * error (EG_IO saying what failed and that the disk is full), without a crash or a hang, leaving no part of the
 * failed memory (or, where the error says the create could not be undone, an orphan that eg_memory_check lists,
 * with its dead letter when the error names one, as memory.h allows, until the next open undoes it); every memory
 * acknowledged before stays whole; and once there is space again the folder reopens, eg_memory_check finds it
 * consistent with no orphan, and new writes succeed.
 *
 * The disk is filled two ways, each in forked children so that a crash or a hang is seen as such (a signal, or a
 * child killed at a deadline) instead of taking the test program down:
 *   1. A real full file system: a small tmpfs mounted on a scratch folder, inside a private mount namespace (the
 *      mount vanishes with the child, even if it dies). Writes fail with ENOSPC; space is made by remounting it
 *      bigger. Mounting needs privilege (CI runs as root): without it, this part says so and is skipped.
 *   2. Always, unprivileged: RLIMIT_FSIZE in the filling child, with SIGXFSZ ignored, so that a write growing any
 *      file past the limit fails with EFBIG, as a full disk would. The child fills and exits; a second child,
 *      without the limit, reopens.
 *
 * Memories are created with ids 1, 2, ... (episodes and entities alternating, 128-d vectors, payload text of a few
 * hundred bytes) with the default durability, until a create fails; a few more creates follow the failure. Each
 * id's outcome goes to the parent through shared memory, so the reopening side knows exactly which memories were
 * acknowledged (they must be whole) and which were not (they must be in neither store). */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include "test.h"

#include <engram/engram.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define DIM 128
#define TEXT_BYTES 400
#define MAX_IDS 20000      /* a bound on the fill, far above what either limit lets through */
#define LATER_TRIES 3      /* creates tried after the first failure */
#define TMPFS_SMALL "size=4m"
#define TMPFS_BIG "size=64m"
#define FSIZE_LIMIT (1536 * 1024) /* bytes any one file of the folder may reach in the rlimit child */
#define CHILD_DEADLINE_S 60.0     /* a child still running then is hung: killed and reported */

enum { NOT_TRIED = -1 };

/* What the children report, in memory shared with the parent (MAP_SHARED before fork). */
typedef struct outcome {
    bool skipped;
    char skip_reason[256];
    uint32_t attempted;      /* ids 1..attempted were tried */
    uint32_t acked;
    uint32_t first_failed;   /* the id of the first failed create; 0: none failed */
    int first_status;
    char first_message[EG_ERROR_MESSAGE_MAX];
    int later_status[LATER_TRIES];
    char later_message[LATER_TRIES][EG_ERROR_MESSAGE_MAX];
    double fill_seconds, reopen_seconds;
    eg_recovery_report recovery;
    json_int_t checked_memories;
    uint32_t not_undone;        /* failed creates whose error said they could not be undone */
    uint32_t dead_lettered;     /* ... and named the dead letter that keeps their report */
    size_t orphans_before_close, dead_letters_before_close;
    int8_t status[MAX_IDS + 2]; /* per id, the eg_status its create returned, or NOT_TRIED */
    bool undone_failed[MAX_IDS + 2]; /* per id: its failed create could not be undone */
    bool dead_letter[MAX_IDS + 2];   /* per id: ... and named a dead letter */
} outcome;

static double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static eg_memory_type type_of(uint32_t id) { return id % 2 ? EG_MEMORY_EPISODE : EG_MEMORY_ENTITY; }

static void vector_for(uint32_t id, float v[DIM]) {
    for (int i = 0; i < DIM; i++) v[i] = (float)sin((double)id * 0.7 + (double)i * 0.31) + 1.5f;
}

/* TEXT_BYTES letters that differ per id, so that a payload from another memory or a torn one shows. */
static void text_for(uint32_t id, char out[TEXT_BYTES + 1]) {
    int n = snprintf(out, TEXT_BYTES + 1, "memory %" PRIu32 ": ", id);
    for (int i = n; i < TEXT_BYTES; i++) out[i] = (char)('a' + (id * 7u + (unsigned)i * 13u) % 26u);
    out[TEXT_BYTES] = '\0';
}

static eg_status create_memory(eg_db *db, uint32_t id, eg_error *err) {
    char id_text[16], text[TEXT_BYTES + 1];
    float v[DIM];
    snprintf(id_text, sizeof id_text, "%" PRIu32, id);
    text_for(id, text);
    vector_for(id, v);
    json_t *payload = json_pack("{s:s, s:i}", "text", text, "n", (json_int_t)id);
    json_t *props = json_pack("{s:s%, s:i}", "summary", text, (size_t)120, "n", (json_int_t)id);
    eg_memory_spec spec = {.type = type_of(id), .id = id_text, .vector = v, .dim = DIM, .payload = payload,
                           .properties = props, .session_id = "disk-full"};
    eg_status st = eg_memory_create(db, &spec, NULL, err);
    json_decref(payload);
    json_decref(props);
    return st;
}

/* What a memory must be: whole in both stores; in neither; or, while the folder that failed to undo its create is
 * still open, possibly an orphan (memory.h: when compensation fails, the error says so and a dead letter keeps
 * the report until a repair; the pre-close eg_memory_check must then list it, and a reopen must finish it). */
enum expect { WHOLE, ABSENT, ABSENT_OR_ORPHAN };

static void verify_memory(eg_db *db, uint32_t id, enum expect expect, const char *when) {
    char id_text[16], text[TEXT_BYTES + 1];
    snprintf(id_text, sizeof id_text, "%" PRIu32, id);
    eg_memory_type type = type_of(id);
    eg_point_id pid = eg_point_id_num(id);
    eg_point_list list = {0};
    eg_node node = {0};
    eg_error e;
    eg_status sv = eg_vectors_get(eg_db_vectors(db), eg_memory_collection(type), &pid, 1, true, true, &list, &e);
    if (sv != EG_OK) fprintf(stderr, "  %s: memory %s: vectors read: %s (%s)\n", when, id_text, eg_status_name(sv),
                             e.message);
    eg_status sg = eg_graph_get_node(eg_db_graph(db), id_text, EG_LABEL_ANY, &node, &e);
    if (sg != EG_OK && sg != EG_NOT_FOUND)
        fprintf(stderr, "  %s: memory %s: graph read: %s (%s)\n", when, id_text, eg_status_name(sg), e.message);
    CHECK(sv == EG_OK && (sg == EG_OK || sg == EG_NOT_FOUND));
    bool in_vectors = sv == EG_OK && list.count == 1, in_graph = sg == EG_OK;
    if (expect == ABSENT_OR_ORPHAN) {
        /* Checked through eg_memory_check's orphans by the caller. */
    } else if (expect == ABSENT) {
        if (in_vectors || in_graph)
            fprintf(stderr, "  %s: memory %s failed to create but is in the %s\n", when, id_text,
                    in_vectors && in_graph ? "vector and graph stores" : in_vectors ? "vector store" : "graph store");
        CHECK(!in_vectors && !in_graph);
    } else if (!in_vectors || !in_graph) {
        fprintf(stderr, "  %s: acknowledged memory %s missing from the %s\n", when, id_text,
                !in_vectors && !in_graph ? "vector and graph stores" : !in_vectors ? "vector store" : "graph store");
        CHECK(in_vectors && in_graph);
    } else {
        text_for(id, text);
        float v[DIM];
        vector_for(id, v);
        const eg_point *p = &list.items[0];
        /* Cosine collections store the vector normalised: compare directions. */
        double dot = 0, norm = 0, pnorm = 0;
        for (int i = 0; p->vector && p->dim == DIM && i < DIM; i++) {
            dot += (double)v[i] * p->vector[i];
            norm += (double)v[i] * v[i];
            pnorm += (double)p->vector[i] * p->vector[i];
        }
        bool vector_ok = p->vector && p->dim == DIM && fabs(dot / sqrt(norm * pnorm) - 1.0) < 1e-6;
        const char *ptext = json_string_value(json_object_get(p->payload, "text"));
        bool payload_ok = ptext && strcmp(ptext, text) == 0 &&
                          json_integer_value(json_object_get(p->payload, "n")) == (json_int_t)id;
        const char *summary = json_string_value(json_object_get(node.properties, "summary"));
        bool node_ok = node.label == eg_memory_label(type) && summary && strlen(summary) == 120 &&
                       strncmp(summary, text, 120) == 0 &&
                       json_integer_value(json_object_get(node.properties, "n")) == (json_int_t)id;
        if (!vector_ok || !payload_ok || !node_ok)
            fprintf(stderr, "  %s: acknowledged memory %s not whole:%s%s%s\n", when, id_text,
                    vector_ok ? "" : " vector differs", payload_ok ? "" : " payload differs",
                    node_ok ? "" : " node differs");
        CHECK(vector_ok && payload_ok && node_ok);
    }
    eg_point_list_free(&list);
    if (in_graph) eg_node_clear(&node);
}

static void verify_all(eg_db *db, const outcome *o, bool reopened, const char *when) {
    int before = test_failures_in_current;
    for (uint32_t id = 1; id <= o->attempted; id++) {
        enum expect expect = o->status[id] == EG_OK           ? WHOLE
                             : o->undone_failed[id] && !reopened ? ABSENT_OR_ORPHAN
                                                               : ABSENT;
        verify_memory(db, id, expect, when);
        if (test_failures_in_current - before >= 10) {
            fprintf(stderr, "  %s: stopping after 10 bad memories\n", when);
            return;
        }
    }
}

static void note_failure(outcome *o, uint32_t id, const eg_error *e) {
    if (!strcasestr(e->message, "could not be undone")) return;
    o->undone_failed[id] = true;
    o->not_undone++;
    if (!strcasestr(e->message, "dead letter")) return; /* not even its report could be written */
    o->dead_letter[id] = true;
    o->dead_lettered++;
}

/* Before close, eg_memory_check may find orphans only where a failed create said it could not be undone, and
 * must list a dead letter for each such create whose error named one. */
static void check_before_close(eg_db *db, outcome *o) {
    json_t *report = NULL;
    eg_error e;
    CHECK_OK(eg_memory_check(db, false, &report, &e), &e);
    if (!report) return;
    json_t *orphans = json_object_get(report, "orphans"), *orphan;
    o->orphans_before_close = json_array_size(orphans);
    o->dead_letters_before_close = json_array_size(json_object_get(report, "dead_letters"));
    size_t i;
    json_array_foreach(orphans, i, orphan) {
        const char *id = json_string_value(json_object_get(orphan, "id"));
        unsigned long n = id ? strtoul(id, NULL, 10) : 0;
        bool explained = n >= 1 && n <= o->attempted && o->undone_failed[n];
        if (!explained)
            fprintf(stderr, "  before close: orphan %s (in %s) is not a create that said it could not be undone\n",
                    id ? id : "?", json_string_value(json_object_get(orphan, "in")));
        CHECK(explained);
    }
    if (o->dead_letters_before_close != o->dead_lettered)
        fprintf(stderr, "  before close: %zu dead letters listed, %" PRIu32 " creates named one\n",
                o->dead_letters_before_close, o->dead_lettered);
    CHECK(o->dead_letters_before_close == o->dead_lettered);
    json_decref(report);
}

/* True when message names the cause: one of the words (any case), NULL-terminated. */
static bool names_cause(const char *message, const char *const *words) {
    for (; *words; words++)
        if (strcasestr(message, *words)) return true;
    return false;
}

/* Opens dir with the default durability ("group": every commit synced) and creates memories until one fails, then tries
 * LATER_TRIES more, then verifies every id before closing. The first failure must be EG_IO with a message that says
 * why, in one of `cause_words`: an operator seeing "Input/output error" would look for a failing disk, not a full
 * one. */
static void fill_phase(const char *dir, outcome *o, const char *const *cause_words) {
    for (size_t i = 0; i < sizeof o->status; i++) o->status[i] = NOT_TRIED;
    eg_db *db = NULL;
    eg_error e;
    CHECK_OK(eg_open(dir, NULL, &db, &e), &e);
    REQUIRE(db);
    double t0 = mono();
    uint32_t id = 1;
    for (; id <= MAX_IDS && !o->first_failed; id++) {
        eg_status st = create_memory(db, id, &e);
        o->status[id] = (int8_t)st;
        o->attempted = id;
        if (st == EG_OK) {
            o->acked++;
            continue;
        }
        note_failure(o, id, &e);
        o->first_failed = id;
        o->first_status = st;
        snprintf(o->first_message, sizeof o->first_message, "%s", e.message);
    }
    o->fill_seconds = mono() - t0;
    REQUIRE(o->first_failed); /* MAX_IDS memories fit: the limit did not bite */
    CHECK(o->acked > 0);
    CHECK_STATUS((eg_status)o->first_status, EG_IO, &e);
    if (!names_cause(o->first_message, cause_words))
        fprintf(stderr, "  the first failure does not say the disk is full: \"%s\"\n", o->first_message);
    CHECK(names_cause(o->first_message, cause_words));

    /* Writes after the failure may fail again, with the same cause or a consequence of it (the log stops after a
     * failed write; a circuit breaker opens after repeated failures), but each cleanly: a store-failure status with
     * a message, and none of the memory left behind. */
    for (int k = 0; k < LATER_TRIES && id <= MAX_IDS; k++, id++) {
        eg_status st = create_memory(db, id, &e);
        o->status[id] = (int8_t)st;
        o->attempted = id;
        o->later_status[k] = st;
        snprintf(o->later_message[k], sizeof o->later_message[k], "%s", st == EG_OK ? "" : e.message);
        if (st == EG_OK) {
            o->acked++;
            continue;
        }
        note_failure(o, id, &e);
        if (!eg_status_is_store_failure(st) || !e.message[0])
            fprintf(stderr, "  create %" PRIu32 " after the failure: %s: \"%s\"\n", id, eg_status_name(st), e.message);
        CHECK(eg_status_is_store_failure(st));
        CHECK(e.message[0] != '\0');
    }
    verify_all(db, o, false, "before close");
    check_before_close(db, o);
    eg_close(db);
}

/* With space again: the folder reopens, finishes what a failure left, and is consistent with every acknowledged
 * memory whole, no trace of the others, and room for one more. */
static void reopen_phase(const char *dir, outcome *o) {
    double t0 = mono();
    eg_db *db = NULL;
    eg_error e;
    CHECK_OK(eg_open(dir, NULL, &db, &e), &e);
    REQUIRE(db);
    eg_db_recovery(db, &o->recovery);
    CHECK(o->recovery.sagas_failed == 0);
    json_t *report = NULL;
    CHECK_OK(eg_memory_check(db, false, &report, &e), &e);
    if (report) {
        o->checked_memories = json_integer_value(json_object_get(report, "memories"));
        bool ok = json_is_true(json_object_get(report, "consistent")) &&
                  json_array_size(json_object_get(report, "orphans")) == 0 &&
                  json_array_size(json_object_get(report, "dead_letters")) == 0 &&
                  o->checked_memories == (json_int_t)o->acked;
        if (!ok) {
            char *text = json_dumps(report, JSON_COMPACT);
            fprintf(stderr, "  after reopen: check %.800s (expected %" PRIu32 " memories)\n", text, o->acked);
            free(text);
        }
        CHECK(ok);
        json_decref(report);
    }
    verify_all(db, o, true, "after reopen");
    uint32_t extra = o->attempted + 1;
    CHECK_OK(create_memory(db, extra, &e), &e);
    verify_memory(db, extra, WHOLE, "after reopen, a new create");
    eg_close(db);
    o->reopen_seconds = mono() - t0;
}

typedef void (*child_fn)(void *arg);

/* Runs fn(arg) in a child, which must exit 0 (no CHECK failed) within CHILD_DEADLINE_S. A signal or a hang is
 * reported and fails the current test. */
static void run_child(const char *what, child_fn fn, void *arg) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        test_failures_in_current++;
        return;
    }
    if (pid == 0) {
        test_failures_in_current = 0; /* the parent's count so far is not this child's */
        fn(arg);
#if defined(__SANITIZE_ADDRESS__)
        /* _exit skips LeakSanitizer's check at exit: run it here, so that a leak on a failure path shows (it
         * exits non-zero when it finds one). */
        __lsan_do_leak_check();
#endif
        fflush(stdout);
        fflush(stderr);
        /* _exit: the parent's atexit handler (scratch removal) must not run here. */
        _exit(test_failures_in_current ? 1 : 0);
    }
    double deadline = mono() + CHILD_DEADLINE_S;
    int wstatus = 0;
    for (;;) {
        pid_t r = waitpid(pid, &wstatus, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            perror("waitpid");
            test_failures_in_current++;
            return;
        }
        if (mono() > deadline) {
            fprintf(stderr, "  %s: still running after %.0f s: hung; killed\n", what, CHILD_DEADLINE_S);
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            test_failures_in_current++;
            return;
        }
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (WIFSIGNALED(wstatus)) {
        fprintf(stderr, "  %s: killed by signal %d (%s)\n", what, WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
        test_failures_in_current++;
        return;
    }
    CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

/* One way of filling the disk: where the data folder is, and the outcome shared with the children. */
typedef struct scenario {
    char mnt[512]; /* the tmpfs mount point (tmpfs way only) */
    char dir[600]; /* the data folder */
    outcome *o;
} scenario;

static void tmpfs_child(void *arg) {
    scenario *s = arg;
    /* A private namespace: the mount is this child's alone and goes with it, however it ends. Making / private
     * first keeps the mount from propagating back into the parent's namespace. */
    const char *step = "unshare(CLONE_NEWNS)";
    int rc = unshare(CLONE_NEWNS);
    if (rc == 0) step = "making / private", rc = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (rc == 0) step = "mounting tmpfs " TMPFS_SMALL, rc = mount("tmpfs", s->mnt, "tmpfs", 0, TMPFS_SMALL);
    if (rc != 0) {
        int e = errno;
        snprintf(s->o->skip_reason, sizeof s->o->skip_reason, "%s: %s", step, strerror(e));
        s->o->skipped = e == EPERM;
        CHECK(e == EPERM); /* anything but a refusal of privilege is a broken setup */
        return;
    }
    static const char *const no_space[] = {"no space", "disk is full", "disk full", "file system is full", NULL};
    fill_phase(s->dir, s->o, no_space);
    if (mount("tmpfs", s->mnt, "tmpfs", MS_REMOUNT, TMPFS_BIG) != 0) {
        fprintf(stderr, "  remounting tmpfs " TMPFS_BIG ": %s\n", strerror(errno));
        test_failures_in_current++;
        return;
    }
    reopen_phase(s->dir, s->o);
    CHECK(umount(s->mnt) == 0);
}

static void rlimit_fill_child(void *arg) {
    scenario *s = arg;
    /* Ignored, SIGXFSZ no longer kills the process: the write past the limit fails with EFBIG instead. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit;
    REQUIRE(getrlimit(RLIMIT_FSIZE, &limit) == 0);
    limit.rlim_cur = FSIZE_LIMIT;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < FSIZE_LIMIT) limit.rlim_cur = limit.rlim_max;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    static const char *const too_large[] = {"file too large", "file size limit", "no space", "disk is full", NULL};
    fill_phase(s->dir, s->o, too_large);
}

static void reopen_child(void *arg) {
    scenario *s = arg;
    reopen_phase(s->dir, s->o);
}

static outcome *shared_outcome(void) {
    void *p = mmap(NULL, sizeof(outcome), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return memset(p, 0, sizeof(outcome));
}

static void print_outcome(const char *way, const outcome *o, double seconds) {
    printf("    measured: %s: %" PRIu32 " memories acknowledged before the first failure (id %" PRIu32 ") in %.2f s\n",
           way, o->first_failed ? o->first_failed - 1 : o->acked, o->first_failed, o->fill_seconds);
    if (o->first_failed)
        printf("    measured: %s: first failure: %s: %s\n", way, eg_status_name((eg_status)o->first_status),
               o->first_message);
    for (int k = 0; k < LATER_TRIES && o->first_failed && o->first_failed + 1 + (uint32_t)k <= o->attempted; k++)
        printf("    measured: %s: create %d after it: %s%s%s\n", way, k + 1,
               eg_status_name((eg_status)o->later_status[k]), o->later_status[k] ? ": " : "", o->later_message[k]);
    printf("    measured: %s: before close: %" PRIu32 " creates could not be undone (%" PRIu32
           " with a dead letter); eg_memory_check: %zu orphans, %zu dead letters\n",
           way, o->not_undone, o->dead_lettered, o->orphans_before_close, o->dead_letters_before_close);
    printf("    measured: %s: reopen: %" PRIu64 " log records, %" PRIu64 " torn bytes, %" PRIu64
           " unfinished sagas (%" PRIu64 " compensated, %" PRIu64 " rolled forward, %" PRIu64
           " failed); check: %" PRId64 " memories (%" PRIu32 " acknowledged); %.2f s\n",
           way, o->recovery.wal_records, o->recovery.wal_torn_bytes, o->recovery.sagas_unfinished,
           o->recovery.sagas_compensated, o->recovery.sagas_rolled_forward, o->recovery.sagas_failed,
           (int64_t)o->checked_memories, o->acked, o->reopen_seconds);
    printf("    measured: %s: %.2f s in all\n", way, seconds);
}

TEST(full_tmpfs_fails_writes_cleanly_and_reopens_intact) {
    scenario s = {.o = shared_outcome()};
    snprintf(s.mnt, sizeof s.mnt, "%s/mnt", test_scratch_dir());
    REQUIRE(mkdir(s.mnt, 0700) == 0);
    snprintf(s.dir, sizeof s.dir, "%s/data", s.mnt);
    double t0 = mono();
    run_child("tmpfs child (fill, remount bigger, reopen)", tmpfs_child, &s);
    if (s.o->skipped)
        printf("    skipped: no real full file system: this process may not mount a tmpfs (%s)\n", s.o->skip_reason);
    else
        print_outcome("tmpfs " TMPFS_SMALL, s.o, mono() - t0);
    munmap(s.o, sizeof *s.o);
}

TEST(file_size_limit_fails_writes_cleanly_and_reopens_intact) {
    scenario s = {.o = shared_outcome()};
    snprintf(s.dir, sizeof s.dir, "%s/data", test_scratch_dir());
    double t0 = mono();
    run_child("rlimit child (fill)", rlimit_fill_child, &s);
    /* Reopened even when the filling child crashed or hung: the folder must then recover like after any crash. */
    run_child("child without the limit (reopen)", reopen_child, &s);
    print_outcome("RLIMIT_FSIZE 1.5 MiB", s.o, mono() - t0);
    munmap(s.o, sizeof *s.o);
}

int main(void) {
    RUN(full_tmpfs_fails_writes_cleanly_and_reopens_intact);
    RUN(file_size_limit_fails_writes_cleanly_and_reopens_intact);
    return test_summary();
}
