/* test_saga_crash.c — sagas stay all-or-nothing when the process is killed. The stores are fake but durable: one
 * file per key in a scratch folder, created and removed by plain system calls, so they survive a SIGKILL as the
 * write-ahead log does (NONE mode, whose records survive a killed process). A child runs sagas in a loop — some
 * fail and are compensated, half of them have a point of no return — and reports each one's outcome on a pipe.
 * It dies either at a chosen action boundary (the Nth action, just before or just after its effect: before a
 * step, between a step's effect and its log record, in the middle of compensating) or when the parent kills it
 * at a random moment while two threads run sagas (one of them checkpointing now and then). After every death
 * the parent reopens the log and the engine — opening is recovery, itself killed in one test — and checks that
 * each saga's keys are all present or all absent, that every saga the child reported committed is whole and every
 * one it reported compensated is gone. */
#define _GNU_SOURCE
#include "test.h"
#include "saga/saga.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOUNDARY_ACTIONS 40 /* the child dies at action 1..40, before or after its effect */
#define RANDOM_KILLS 24
#define RANDOM_THREADS 2

static eg_error err;

/* ---- The durable fake stores -------------------------------------------------------------------------------- */

typedef struct disk_env {
    char vectors[512], graph[512];
    long die_at_action; /* 0: never */
    bool die_after_effect;
    long actions; /* counted across threads */
    pthread_mutex_t mutex;
} disk_env;

/* Step 0: vectors/<id>; step 1: graph/<id>; step 2: graph/<id>.edge. */
static void key_path(const disk_env *env, json_t *args, int step, char *out, size_t cap) {
    const char *id = json_string_value(json_object_get(args, "id"));
    snprintf(out, cap, "%s/%s%s", step == 0 ? env->vectors : env->graph, id, step == 2 ? ".edge" : "");
}

static void maybe_die(disk_env *env, bool after_effect, long action) {
    if (env->die_at_action == action && env->die_after_effect == after_effect) kill(getpid(), SIGKILL);
}

static eg_status act(void *ctx, json_t *args, int step, bool forward, eg_error *e) {
    disk_env *env = ctx;
    pthread_mutex_lock(&env->mutex);
    long action = ++env->actions;
    pthread_mutex_unlock(&env->mutex);
    maybe_die(env, false, action);
    char path[1024];
    key_path(env, args, step, path, sizeof path);
    if (forward) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return eg_error_set(e, EG_IO, "cannot create a key file");
        close(fd);
    } else if (unlink(path) != 0 && errno != ENOENT) {
        return eg_error_set(e, EG_IO, "cannot remove a key file");
    }
    maybe_die(env, true, action);
    json_t *fail_at = json_object_get(args, "fail_at");
    if (forward && json_is_integer(fail_at) && json_integer_value(fail_at) == step)
        return eg_error_set(e, EG_UNAVAILABLE, "injected failure at step %d", step);
    return EG_OK;
}

#define STEP_ACTIONS(n)                                                                                              \
    static eg_status forward_##n(void *env, json_t *args, void *input, eg_error *e) {                               \
        (void)input;                                                                                                 \
        return act(env, args, n, true, e);                                                                           \
    }                                                                                                                \
    static eg_status compensate_##n(void *env, json_t *args, void *input, eg_error *e) {                            \
        (void)input;                                                                                                 \
        return act(env, args, n, false, e);                                                                          \
    }
STEP_ACTIONS(0)
STEP_ACTIONS(1)
STEP_ACTIONS(2)

static const eg_saga_step steps[] = {
    {"add_vector", forward_0, compensate_0},
    {"add_node", forward_1, compensate_1},
    {"add_edge", forward_2, compensate_2},
};

static const eg_saga_type types[] = {
    {"create", steps, 3, 3},
    {"link", steps, 3, 1},
};

typedef struct folders {
    char wal[512], dead[512];
    disk_env env;
} folders;

static void folders_init(folders *f, const char *root) {
    memset(f, 0, sizeof *f);
    snprintf(f->wal, sizeof f->wal, "%s/wal", root);
    snprintf(f->dead, sizeof f->dead, "%s/dead", root);
    snprintf(f->env.vectors, sizeof f->env.vectors, "%s/vectors", root);
    snprintf(f->env.graph, sizeof f->env.graph, "%s/graph", root);
    mkdir(f->env.vectors, 0755);
    mkdir(f->env.graph, 0755);
    pthread_mutex_init(&f->env.mutex, NULL);
}

static eg_status open_all(folders *f, eg_wal **w, eg_saga_engine **e, eg_saga_recovery_report *report,
                          eg_error *e_err) {
    eg_wal_options options = {EG_WAL_SYNC_NONE, 16 * 1024};
    eg_status st = eg_wal_open(f->wal, &options, w, NULL, e_err);
    if (st != EG_OK) return st;
    eg_saga_options saga_options = {0, 3};
    st = eg_saga_engine_open(*w, f->dead, &f->env, types, 2, &saga_options, report, e, e_err);
    if (st != EG_OK) eg_wal_close(*w);
    return st;
}

/* ---- The child ---------------------------------------------------------------------------------------------- */

typedef struct report_line {
    int round, thread, n;
    int outcome; /* eg_saga_outcome */
} report_line;

typedef struct runner {
    eg_saga_engine *e;
    int round, thread, fd;
} runner;

/* Saga n: the types alternate, and every fifth fails at a step — for "link" one before its point of no return,
 * since a step past it is retried, never compensated, and a failure injected there would fail every time. */
static void *run_forever(void *arg) {
    runner *r = arg;
    for (int n = 0;; n++) {
        char id[64];
        snprintf(id, sizeof id, "r%d-t%d-n%d", r->round, r->thread, n);
        json_t *args = json_pack("{s:s, s:i}", "id", id, "fail_at", n % 5 == 4 ? n % (n % 2 ? 2 : 3) : -1);
        eg_saga_outcome outcome;
        eg_error e;
        eg_status st = eg_saga_run(r->e, &types[n % 2], args, NULL, &outcome, NULL, &e);
        json_decref(args);
        if (st != EG_OK && st != EG_UNAVAILABLE) _exit(4);
        report_line line = {r->round, r->thread, n, (int)outcome};
        if (write(r->fd, &line, sizeof line) != sizeof line) _exit(5);
        /* Checkpoints while the other thread's saga runs, so segment removal is killed too. */
        if (r->thread == 0 && n % 8 == 7 && eg_saga_checkpoint(r->e, &e) != EG_OK) _exit(7);
    }
    return NULL;
}

/* Never returns: it dies at its chosen action, or the parent kills it. Only _exit, so the harness's exit handlers
 * (scratch removal) never run here. */
static void child(folders *f, int round, int threads, int fd) {
    eg_wal *w;
    eg_saga_engine *e;
    eg_error e_err;
    if (open_all(f, &w, &e, NULL, &e_err) != EG_OK) _exit(3);
    static runner runners[RANDOM_THREADS];
    pthread_t ids[RANDOM_THREADS];
    for (int t = 0; t < threads; t++) {
        runners[t] = (runner){e, round, t, fd};
        if (pthread_create(&ids[t], NULL, run_forever, &runners[t]) != 0) _exit(6);
    }
    for (;;) pause();
}

/* ---- The parent --------------------------------------------------------------------------------------------- */

static bool exists(const char *dir, const char *name, const char *suffix) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    return access(path, F_OK) == 0;
}

static int parts_present(const disk_env *env, const char *id) {
    return exists(env->vectors, id, "") + exists(env->graph, id, "") + exists(env->graph, id, ".edge");
}

/* Every key in either store belongs to a saga whose three keys are all there. */
static int partial_sagas(const disk_env *env) {
    int partial = 0;
    const char *dirs[] = {env->vectors, env->graph};
    for (int i = 0; i < 2; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) return -1;
        struct dirent *entry;
        while ((entry = readdir(d)) != NULL) {
            if (entry->d_name[0] == '.') continue;
            char id[256];
            snprintf(id, sizeof id, "%s", entry->d_name);
            char *edge = strstr(id, ".edge");
            if (edge) *edge = '\0';
            if (parts_present(env, id) != 3) {
                partial++;
                fprintf(stderr, "  saga %s is partly in the stores\n", id);
            }
        }
        closedir(d);
    }
    return partial;
}

typedef struct totals {
    int rounds, reported, recovered, rolled_forward;
} totals;

/* One child's life and death; then, if check, recovery by the parent and the checks. Without check, the next
 * child's open does the recovery (and may die in it). */
static void one_death(folders *f, int round, int threads, long die_at, bool after_effect, int kill_after_ms,
                      bool check, totals *sum) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    f->env.die_at_action = die_at;
    f->env.die_after_effect = after_effect;
    f->env.actions = 0;
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(f, round, threads, fds[1]);
    }
    close(fds[1]);
    f->env.die_at_action = 0; /* the parent's recovery below must not die */
    static report_line lines[1 << 16];
    size_t count = 0;
    uint64_t deadline = 0;
    for (;;) {
        if (kill_after_ms >= 0 && count > 0 && !deadline) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            deadline = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u + (uint64_t)kill_after_ms;
        }
        if (deadline) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            uint64_t now_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
            if (now_ms >= deadline) {
                kill(pid, SIGKILL);
                deadline = UINT64_MAX;
            }
            struct pollfd p = {fds[0], POLLIN, 0};
            if (now_ms < deadline && poll(&p, 1, (int)(deadline - now_ms) + 1) <= 0) continue;
        }
        report_line line;
        ssize_t n = read(fds[0], &line, sizeof line);
        if (n != sizeof line) break;
        if (count < sizeof lines / sizeof lines[0]) lines[count++] = line;
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    if (!WIFSIGNALED(status)) fprintf(stderr, "  child exited with %d\n", WEXITSTATUS(status));
    sum->rounds++;
    if (!check) return;

    eg_wal *w;
    eg_saga_engine *e;
    eg_saga_recovery_report report;
    eg_status st = open_all(f, &w, &e, &report, &err);
    CHECK_OK(st, &err);
    if (st != EG_OK) return;
    CHECK(report.failed == 0);
    CHECK(partial_sagas(&f->env) == 0);
    for (size_t i = 0; i < count; i++) {
        char id[64];
        snprintf(id, sizeof id, "r%d-t%d-n%d", lines[i].round, lines[i].thread, lines[i].n);
        int want = lines[i].outcome == EG_SAGA_COMMITTED ? 3 : 0;
        if (parts_present(&f->env, id) != want) {
            fprintf(stderr, "  saga %s reported %s has %d of 3 keys\n", id,
                    lines[i].outcome == EG_SAGA_COMMITTED ? "committed" : "compensated", parts_present(&f->env, id));
            CHECK(false);
        }
    }
    CHECK_OK(eg_saga_checkpoint(e, &err), &err);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    sum->reported += (int)count;
    sum->recovered += (int)report.unfinished;
    sum->rolled_forward += (int)report.rolled_forward;
}

TEST(sagas_are_all_or_nothing_when_killed_at_each_action_boundary) {
    folders f;
    folders_init(&f, test_scratch_dir());
    totals sum = {0};
    int round = 0;
    int failures_before = test_failures_in_current;
    for (long action = 1; action <= BOUNDARY_ACTIONS; action++)
        for (int after = 0; after < 2 && test_failures_in_current == failures_before; after++)
            one_death(&f, round++, 1, action, after, -1, true, &sum);
    printf("  %d deaths at action boundaries, %d sagas reported, %d recovered (%d rolled forward)\n", sum.rounds,
           sum.reported, sum.recovered, sum.rolled_forward);
    CHECK(sum.recovered > 0 && sum.rolled_forward > 0);
}

TEST(sagas_are_all_or_nothing_when_killed_at_random_moments) {
    folders f;
    folders_init(&f, test_scratch_dir());
    totals sum = {0};
    uint64_t x = 0x2545F4914F6CDD1DULL;
    int failures_before = test_failures_in_current;
    for (int round = 0; round < RANDOM_KILLS && test_failures_in_current == failures_before; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        one_death(&f, round, RANDOM_THREADS, 0, false, round < 3 ? round : (int)(x % 60), true, &sum);
    }
    printf("  %d random kills, %d sagas reported, %d recovered (%d rolled forward)\n", sum.rounds, sum.reported,
           sum.recovered, sum.rolled_forward);
    CHECK(sum.rounds == RANDOM_KILLS);
}

/* The first child leaves a saga unfinished; the second dies in its own open, while recovery undoes or completes
 * that saga (its first actions); the parent's open then finishes what both left. */
TEST(sagas_are_all_or_nothing_when_recovery_itself_is_killed) {
    folders f;
    folders_init(&f, test_scratch_dir());
    totals sum = {0};
    int round = 0;
    int failures_before = test_failures_in_current;
    for (long first = 1; first <= 15; first++)
        for (long second = 1; second <= 2 && test_failures_in_current == failures_before; second++)
            for (int after = 0; after < 2; after++) {
                one_death(&f, round++, 1, first, after, -1, false, &sum);
                one_death(&f, round++, 1, second, !after, -1, true, &sum);
            }
    printf("  %d deaths, half of them in recovery, %d recovered by the parent (%d rolled forward)\n", sum.rounds,
           sum.recovered, sum.rolled_forward);
}

/* The log refusing appends after a saga's intent (here: the file size limit reached, as a full disk would): the
 * saga is compensated at once, its error is the log's, and it stays unended for the next open, whose recovery
 * compensates it again — idempotently — and ends it. */
TEST(a_log_that_fails_after_the_intent_leaves_the_saga_undone_and_to_recovery) {
    folders f;
    folders_init(&f, test_scratch_dir());
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        eg_wal *w;
        eg_saga_engine *e;
        if (open_all(&f, &w, &e, NULL, &err) != EG_OK) _exit(10);
        char segment[1100];
        snprintf(segment, sizeof segment, "%s/wal-%016d.log", f.wal, 1);
        struct stat st;
        if (stat(segment, &st) != 0) _exit(11);
        /* Room for the intent (about 110 bytes framed), not for the step record after it. */
        struct rlimit limit = {(rlim_t)st.st_size + 140, (rlim_t)st.st_size + 140};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(12);
        json_t *args = json_pack("{s:s}", "id", "full");
        eg_saga_outcome outcome;
        eg_status status = eg_saga_run(e, &types[0], args, NULL, &outcome, NULL, &err);
        int present = parts_present(&f.env, "full");
        _exit(status == EG_IO && outcome == EG_SAGA_COMPENSATED && present == 0 ? 0 : 20 + (int)status);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFEXITED(status) && WEXITSTATUS(status)) fprintf(stderr, "  child exited with %d\n", WEXITSTATUS(status));
    eg_wal *w;
    eg_saga_engine *e;
    eg_saga_recovery_report report;
    REQUIRE(open_all(&f, &w, &e, &report, &err) == EG_OK);
    CHECK(report.unfinished == 1 && report.compensated == 1 && report.failed == 0);
    CHECK(parts_present(&f.env, "full") == 0);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    REQUIRE(open_all(&f, &w, &e, &report, &err) == EG_OK);
    CHECK(report.unfinished == 0);
    eg_saga_engine_close(e);
    eg_wal_close(w);
}

int main(void) {
    RUN(sagas_are_all_or_nothing_when_killed_at_each_action_boundary);
    RUN(sagas_are_all_or_nothing_when_killed_at_random_moments);
    RUN(sagas_are_all_or_nothing_when_recovery_itself_is_killed);
    RUN(a_log_that_fails_after_the_intent_leaves_the_saga_undone_and_to_recovery);
    return test_summary();
}
