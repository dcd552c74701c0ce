/* test_saga.c — the saga engine over fake stores: two key sets standing for the vector and graph stores, with
 * fault switches (a forward action that fails, times out or is slow, set per saga in its arguments; compensations
 * that fail a number of times, set in the environment). Covers commits, compensation at every step and in reverse,
 * timeouts, retries, dead letters, many threads at once, checkpoints around a saga in progress, and recovery from
 * every stopping point, written into the log by hand. */
#define _GNU_SOURCE
#include "test.h"
#include "saga/saga.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

static eg_error err;

/* ---- The fake stores ---------------------------------------------------------------------------------------- */

typedef struct fake_env {
    pthread_mutex_t mutex;
    json_t *vectors, *graph; /* key -> true */
    json_t *trace;           /* "forward 0", "compensate 2", ... in call order */
    int compensation_fails_step; /* -1: none */
    int compensation_fails;      /* times it still fails; -1: always */
    bool block;                  /* a forward action of args "block" waits while this is set */
    bool blocked;                /* ... and sets this once it waits */
    int live_inputs, no_inputs;  /* actions called with the live caller's input / with none (recovery) */
    pthread_cond_t changed;
} fake_env;

static void env_init(fake_env *env) {
    memset(env, 0, sizeof *env);
    pthread_mutex_init(&env->mutex, NULL);
    pthread_cond_init(&env->changed, NULL);
    env->vectors = json_object();
    env->graph = json_object();
    env->trace = json_array();
    env->compensation_fails_step = -1;
}

static void env_free(fake_env *env) {
    json_decref(env->vectors);
    json_decref(env->graph);
    json_decref(env->trace);
    pthread_mutex_destroy(&env->mutex);
    pthread_cond_destroy(&env->changed);
}

static size_t store_size(fake_env *env) { return json_object_size(env->vectors) + json_object_size(env->graph); }

static void sleep_ms(unsigned ms) {
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Step 0 adds the vector <id>, step 1 the node <id>, step 2 the edge <id>-><target>. */
static void step_key(json_t *args, int step, char *key, size_t cap) {
    const char *id = json_string_value(json_object_get(args, "id"));
    if (step == 2) snprintf(key, cap, "%s->%s", id, json_string_value(json_object_get(args, "target")));
    else snprintf(key, cap, "%s", id);
}

static int arg_int(json_t *args, const char *name, int otherwise) {
    json_t *v = json_object_get(args, name);
    return json_is_integer(v) ? (int)json_integer_value(v) : otherwise;
}

/* What a live run passes to eg_saga_run beside its logged arguments. */
static int live_input;

static eg_status act(void *ctx, json_t *args, void *input, int step, bool forward, eg_error *e) {
    fake_env *env = ctx;
    char key[256];
    step_key(args, step, key, sizeof key);
    json_t *store = step == 0 ? env->vectors : env->graph;
    pthread_mutex_lock(&env->mutex);
    if (input == &live_input) env->live_inputs++;
    else if (!input) env->no_inputs++;
    char line[32];
    snprintf(line, sizeof line, "%s %d", forward ? "forward" : "compensate", step);
    json_array_append_new(env->trace, json_string(line));
    if (!forward && env->compensation_fails_step == step && env->compensation_fails != 0) {
        if (env->compensation_fails > 0) env->compensation_fails--;
        pthread_mutex_unlock(&env->mutex);
        return eg_error_set(e, EG_UNAVAILABLE, "store down while undoing %s", key);
    }
    if (forward && arg_int(args, "block", -1) == step) {
        env->blocked = true;
        pthread_cond_broadcast(&env->changed);
        while (env->block) pthread_cond_wait(&env->changed, &env->mutex);
    }
    if (forward) json_object_set_new(store, key, json_true());
    else json_object_del(store, key); /* delete-if-exists: idempotent */
    pthread_mutex_unlock(&env->mutex);
    if (forward && arg_int(args, "slow_at", -1) == step) sleep_ms(60);
    /* A failing forward action has taken effect before failing: the worst case, which compensation must undo. */
    if (forward && arg_int(args, "fail_at", -1) == step)
        return eg_error_set(e, (eg_status)arg_int(args, "fail_code", EG_UNAVAILABLE), "injected failure at step %d",
                            step);
    return EG_OK;
}

#define STEP_ACTIONS(n)                                                                                              \
    static eg_status forward_##n(void *env, json_t *args, void *input, eg_error *e) {                               \
        return act(env, args, input, n, true, e);                                                                    \
    }                                                                                                                \
    static eg_status compensate_##n(void *env, json_t *args, void *input, eg_error *e) {                            \
        return act(env, args, input, n, false, e);                                                                   \
    }
STEP_ACTIONS(0)
STEP_ACTIONS(1)
STEP_ACTIONS(2)

static const eg_saga_step steps[] = {
    {"add_vector", forward_0, compensate_0},
    {"add_node", forward_1, compensate_1},
    {"add_edge", forward_2, compensate_2},
};

/* create: never past a point of no return. link: once the node exists (step 1 logged), it is finished. */
static const eg_saga_type types[] = {
    {"create", steps, 3, 3},
    {"link", steps, 3, 1},
};

static json_t *saga_args(const char *id, int fail_at) {
    return json_pack("{s:s, s:s, s:i}", "id", id, "target", "t", "fail_at", fail_at);
}

static eg_wal *open_wal(const char *dir, uint64_t segment_bytes) {
    eg_wal_options options = {EG_WAL_SYNC_NONE, segment_bytes};
    eg_wal *w = NULL;
    CHECK_OK(eg_wal_open(dir, &options, &w, NULL, &err), &err);
    return w;
}

/* The dead-letter folder of a test's scratch root (one buffer: the engine copies the path at open). */
static char *letters_dir(const char *root) {
    static char path[512];
    snprintf(path, sizeof path, "%s/dead", root);
    return path;
}

/* A timeout no step comes near, even on a loaded machine under sanitizers; the timeout test sets its own. */
static const eg_saga_options fast = {10000, 3};

static eg_saga_engine *open_engine(eg_wal *w, const char *root, fake_env *env, eg_saga_recovery_report *report) {
    eg_saga_engine *e = NULL;
    CHECK_OK(eg_saga_engine_open(w, letters_dir(root), env, types, 2, &fast, report, &e, &err), &err);
    return e;
}

static bool trace_is(fake_env *env, const char *expected) {
    char joined[512] = "";
    size_t i;
    json_t *v;
    json_array_foreach(env->trace, i, v) {
        if (i) strncat(joined, ", ", sizeof joined - strlen(joined) - 1);
        strncat(joined, json_string_value(v), sizeof joined - strlen(joined) - 1);
    }
    if (strcmp(joined, expected) == 0) return true;
    fprintf(stderr, "  trace: %s\n  expected: %s\n", joined, expected);
    return false;
}

/* Counts of each saga record type in the whole log. */
typedef struct record_counts {
    int intents, steps, ends;
    int committed, compensated, failed;
} record_counts;

static eg_status count_record(void *ctx, const eg_wal_record *r, eg_error *e) {
    (void)e;
    record_counts *c = ctx;
    if (r->type == EG_SAGA_INTENT) c->intents++;
    if (r->type == EG_SAGA_STEP) c->steps++;
    if (r->type == EG_SAGA_END) {
        c->ends++;
        json_t *doc = json_loadb(r->payload, r->length, 0, NULL);
        const char *o = json_string_value(json_object_get(doc, "outcome"));
        if (o && strcmp(o, "committed") == 0) c->committed++;
        if (o && strcmp(o, "compensated") == 0) c->compensated++;
        if (o && strcmp(o, "failed") == 0) c->failed++;
        json_decref(doc);
    }
    return EG_OK;
}

static record_counts count_records(eg_wal *w) {
    record_counts c = {0};
    CHECK_OK(eg_wal_read(w, eg_wal_checkpoint_lsn(w), count_record, &c, &err), &err);
    return c;
}

/* The first record read, parsed. */
static eg_status first_record(void *ctx, const eg_wal_record *r, eg_error *e) {
    (void)e;
    json_t **out = ctx;
    *out = json_loadb(r->payload, r->length, 0, NULL);
    return EG_CONFLICT; /* stop after the first */
}

/* ---- Running ------------------------------------------------------------------------------------------------ */

TEST(a_saga_of_three_steps_commits) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    eg_saga_engine *e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    json_t *args = saga_args("m1", -1);
    eg_saga_outcome outcome = EG_SAGA_FAILED;
    char id[EG_SAGA_ID_TEXT] = "";
    CHECK_OK(eg_saga_run(e, &types[0], args, &live_input, &outcome, id, &err), &err);
    CHECK(outcome == EG_SAGA_COMMITTED);
    CHECK(env.live_inputs == 3 && env.no_inputs == 0); /* the input reaches every action, never the log */
    CHECK(strlen(id) == 36 && id[14] == '4' && strchr("89ab", id[19]));
    CHECK(json_object_get(env.vectors, "m1") && json_object_get(env.graph, "m1"));
    CHECK(json_object_get(env.graph, "m1->t"));
    CHECK(trace_is(&env, "forward 0, forward 1, forward 2"));
    record_counts c = count_records(w);
    CHECK(c.intents == 1 && c.steps == 3 && c.ends == 1 && c.committed == 1);
    char other[EG_SAGA_ID_TEXT];
    CHECK_OK(eg_saga_run(e, &types[0], args, NULL, NULL, other, &err), &err);
    CHECK(strcmp(id, other) != 0);
    json_decref(args);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

/* Two waited syncs per saga: the intent and the record that commits it (the point-of-no-return step, or for a
 * saga without one its end); the other records ride on them. */
TEST(a_saga_waits_for_the_disk_twice) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal_options options = {EG_WAL_SYNC_GROUP, 0};
    eg_wal *w = NULL;
    CHECK_OK(eg_wal_open(root, &options, &w, NULL, &err), &err);
    REQUIRE(w);
    eg_saga_engine *e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    for (int t = 0; t < 2; t++) {
        eg_wal_stats before, after;
        eg_wal_stats_get(w, &before);
        json_t *args = saga_args(t ? "linked" : "created", -1);
        CHECK_OK(eg_saga_run(e, &types[t], args, NULL, NULL, NULL, &err), &err);
        json_decref(args);
        eg_wal_stats_get(w, &after);
        CHECK(after.appends - before.appends == 5);
        CHECK(after.syncs - before.syncs == 2);
    }
    eg_saga_engine_close(e);
    eg_wal_close(w);
    /* What was written without waiting is on disk all the same once later records are: reopening finds every
     * saga ended. */
    CHECK_OK(eg_wal_open(root, &options, &w, NULL, &err), &err);
    eg_saga_recovery_report report;
    e = open_engine(w, root, &env, &report);
    CHECK(report.unfinished == 0);
    record_counts c = count_records(w);
    CHECK(c.intents == 2 && c.steps == 6 && c.ends == 2 && c.committed == 2);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

TEST(a_failure_at_each_step_compensates_it_and_the_earlier_ones_in_reverse) {
    static const char *const expected[] = {
        "forward 0, compensate 0",
        "forward 0, forward 1, compensate 1, compensate 0",
        "forward 0, forward 1, forward 2, compensate 2, compensate 1, compensate 0",
    };
    for (int k = 0; k < 3; k++) {
        const char *root = test_scratch_dir();
        fake_env env;
        env_init(&env);
        eg_wal *w = open_wal(root, 0);
        REQUIRE(w);
        eg_saga_engine *e = open_engine(w, root, &env, NULL);
        REQUIRE(e);
        json_t *args = saga_args("m", k);
        eg_saga_outcome outcome = EG_SAGA_COMMITTED;
        CHECK_STATUS(eg_saga_run(e, &types[0], args, NULL, &outcome, NULL, &err), EG_UNAVAILABLE, &err);
        CHECK(strstr(err.message, "injected failure") != NULL);
        CHECK(outcome == EG_SAGA_COMPENSATED);
        CHECK(store_size(&env) == 0);
        CHECK(trace_is(&env, expected[k]));
        record_counts c = count_records(w);
        CHECK(c.intents == 1 && c.steps == k && c.compensated == 1);
        json_t *letters;
        CHECK_OK(eg_saga_dead_letters(e, &letters, &err), &err);
        CHECK(json_array_size(letters) == 0);
        json_decref(letters);
        json_decref(args);
        eg_saga_engine_close(e);
        eg_wal_close(w);
        env_free(&env);
    }
}

TEST(timed_out_and_slow_steps_are_compensated) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    eg_saga_options short_timeout = {20, 3};
    eg_saga_engine *e;
    REQUIRE(eg_saga_engine_open(w, letters_dir(root), &env, types, 2, &short_timeout, NULL, &e, &err) == EG_OK);
    json_t *args = json_pack("{s:s, s:s, s:i, s:i}", "id", "m", "target", "t", "fail_at", 1, "fail_code", EG_TIMEOUT);
    eg_saga_outcome outcome;
    CHECK_STATUS(eg_saga_run(e, &types[0], args, NULL, &outcome, NULL, &err), EG_TIMEOUT, &err);
    CHECK(outcome == EG_SAGA_COMPENSATED && store_size(&env) == 0);
    CHECK(trace_is(&env, "forward 0, forward 1, compensate 1, compensate 0"));
    json_decref(args);

    json_array_clear(env.trace);
    args = json_pack("{s:s, s:s, s:i}", "id", "m", "target", "t", "slow_at", 2);
    CHECK_STATUS(eg_saga_run(e, &types[0], args, NULL, &outcome, NULL, &err), EG_TIMEOUT, &err);
    CHECK(strstr(err.message, "add_edge") && strstr(err.message, "step timeout of 20 ms"));
    CHECK(outcome == EG_SAGA_COMPENSATED && store_size(&env) == 0);
    CHECK(trace_is(&env, "forward 0, forward 1, forward 2, compensate 2, compensate 1, compensate 0"));
    json_decref(args);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

TEST(a_compensation_that_fails_once_is_retried) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    env.compensation_fails_step = 0;
    env.compensation_fails = 1;
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    eg_saga_engine *e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    json_t *args = saga_args("m", 1);
    eg_saga_outcome outcome;
    CHECK_STATUS(eg_saga_run(e, &types[0], args, NULL, &outcome, NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(outcome == EG_SAGA_COMPENSATED && store_size(&env) == 0);
    CHECK(trace_is(&env, "forward 0, forward 1, compensate 1, compensate 0, compensate 0"));
    json_decref(args);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

TEST(a_compensation_that_always_fails_leaves_a_durable_dead_letter) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    env.compensation_fails_step = 1;
    env.compensation_fails = -1;
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    eg_saga_engine *e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    json_t *args = saga_args("m", 2);
    eg_saga_outcome outcome;
    char id[EG_SAGA_ID_TEXT];
    CHECK_STATUS(eg_saga_run(e, &types[0], args, NULL, &outcome, id, &err), EG_UNAVAILABLE, &err);
    CHECK(outcome == EG_SAGA_FAILED);
    /* Three attempts at step 1, and the other steps are still undone. */
    CHECK(trace_is(&env, "forward 0, forward 1, forward 2, compensate 2, compensate 1, compensate 1, compensate 1, "
                         "compensate 0"));
    CHECK(json_object_size(env.vectors) == 0 && json_object_get(env.graph, "m") && !json_object_get(env.graph, "m->t"));
    record_counts c = count_records(w);
    CHECK(c.failed == 1);
    json_decref(args);
    eg_saga_engine_close(e);

    eg_saga_recovery_report report;
    e = open_engine(w, root, &env, &report);
    REQUIRE(e);
    CHECK(report.unfinished == 0);
    json_t *letters;
    CHECK_OK(eg_saga_dead_letters(e, &letters, &err), &err);
    REQUIRE(json_array_size(letters) == 1);
    json_t *letter = json_array_get(letters, 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "saga")), id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "type")), "create") == 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "failed_step")), "add_edge") == 0);
    json_t *logged = saga_args("m", 2);
    CHECK(json_equal(json_object_get(letter, "args"), logged)); /* the pre-images a repair needs */
    json_decref(logged);
    json_t *error = json_object_get(letter, "error");
    CHECK(strcmp(json_string_value(json_object_get(error, "code")), "unavailable") == 0);
    CHECK(strstr(json_string_value(json_object_get(error, "message")), "injected failure at step 2") != NULL);
    json_t *compensation_errors = json_object_get(letter, "compensation_errors");
    REQUIRE(json_array_size(compensation_errors) == 1);
    json_t *ce = json_array_get(compensation_errors, 0);
    CHECK(strcmp(json_string_value(json_object_get(ce, "step")), "add_node") == 0);
    CHECK(strcmp(json_string_value(json_object_get(ce, "code")), "unavailable") == 0);
    CHECK(strstr(json_string_value(json_object_get(ce, "message")), "store down") != NULL);
    CHECK(json_integer_value(json_object_get(letter, "at_ms")) > 1600000000000LL);
    json_decref(letters);

    CHECK_OK(eg_saga_resolve(e, id, &err), &err);
    CHECK_STATUS(eg_saga_resolve(e, id, &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_saga_resolve(e, "../x", &err), EG_INVALID_ARGUMENT, &err);
    CHECK_OK(eg_saga_dead_letters(e, &letters, &err), &err);
    CHECK(json_array_size(letters) == 0);
    json_decref(letters);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

TEST(a_step_past_the_point_of_no_return_is_retried_never_compensated) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    eg_saga_engine *e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    json_t *args = saga_args("m", 2);
    eg_saga_outcome outcome;
    char id[EG_SAGA_ID_TEXT];
    CHECK_STATUS(eg_saga_run(e, &types[1], args, NULL, &outcome, id, &err), EG_UNAVAILABLE, &err);
    CHECK(outcome == EG_SAGA_FAILED);
    CHECK(trace_is(&env, "forward 0, forward 1, forward 2, forward 2, forward 2"));
    CHECK(store_size(&env) == 3);
    json_t *letters;
    CHECK_OK(eg_saga_dead_letters(e, &letters, &err), &err);
    REQUIRE(json_array_size(letters) == 1);
    json_t *letter = json_array_get(letters, 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "saga")), id) == 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "failed_step")), "add_edge") == 0);
    CHECK(json_array_size(json_object_get(letter, "compensation_errors")) == 0);
    json_decref(letters);
    json_decref(args);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

/* A dead letter that cannot be written keeps the end out of the log: the saga stays pinned against checkpoints
 * and the next open finishes it. */
TEST(a_saga_whose_dead_letter_cannot_be_written_is_finished_by_the_next_open) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    env.compensation_fails_step = 0;
    env.compensation_fails = -1;
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    eg_saga_engine *e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    char *dead = letters_dir(root);
    REQUIRE(rmdir(dead) == 0);
    FILE *blocker = fopen(dead, "w"); /* a file where the folder was: every letter write fails */
    REQUIRE(blocker);
    fclose(blocker);
    json_t *args = saga_args("m", 1);
    eg_saga_outcome outcome;
    char id[EG_SAGA_ID_TEXT];
    CHECK_STATUS(eg_saga_run(e, &types[0], args, NULL, &outcome, id, &err), EG_UNAVAILABLE, &err);
    CHECK(outcome == EG_SAGA_UNFINISHED);
    json_decref(args);
    args = saga_args("later", -1);
    CHECK_OK(eg_saga_run(e, &types[0], args, NULL, NULL, NULL, &err), &err);
    json_decref(args);
    CHECK(count_records(w).ends == 1);
    CHECK_OK(eg_saga_checkpoint(e, &err), &err);
    json_t *oldest = NULL;
    CHECK_STATUS(eg_wal_read(w, eg_wal_checkpoint_lsn(w), first_record, &oldest, &err), EG_CONFLICT, &err);
    CHECK(strcmp(json_string_value(json_object_get(oldest, "saga")), id) == 0);
    json_decref(oldest);
    eg_saga_engine_close(e);

    REQUIRE(unlink(dead) == 0);
    env.compensation_fails_step = -1;
    json_array_clear(env.trace);
    eg_saga_recovery_report report;
    e = open_engine(w, root, &env, &report);
    REQUIRE(e);
    CHECK(report.unfinished == 1 && report.compensated == 1);
    CHECK(trace_is(&env, "compensate 2, compensate 1, compensate 0"));
    CHECK(json_object_size(env.vectors) == 1 && json_object_get(env.vectors, "later"));
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

TEST(bad_arguments_are_refused) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    eg_saga_engine *e = NULL;
    const eg_saga_type twice[] = {{"same", steps, 3, 3}, {"same", steps, 1, 3}};
    CHECK_STATUS(eg_saga_engine_open(w, letters_dir(root), &env, twice, 2, NULL, NULL, &e, &err),
                 EG_INVALID_ARGUMENT, &err);
    e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    const eg_saga_type stranger = {"stranger", steps, 3, 3};
    json_t *args = saga_args("m", -1);
    CHECK_STATUS(eg_saga_run(e, &stranger, args, NULL, NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    json_t *not_object = json_string("m");
    CHECK_STATUS(eg_saga_run(e, &types[0], not_object, NULL, NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(count_records(w).intents == 0 && store_size(&env) == 0);
    json_decref(not_object);
    json_decref(args);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

/* ---- Threads and checkpoints -------------------------------------------------------------------------------- */

#define THREADS 8
#define SAGAS_PER_THREAD 100

typedef struct worker {
    eg_saga_engine *e;
    int thread;
    int wrong;
} worker;

/* Saga n fails at step n % 4 - 1 (-1: commits), so every outcome occurs in every thread. */
static void *run_sagas(void *arg) {
    worker *me = arg;
    for (int i = 0; i < SAGAS_PER_THREAD; i++) {
        char key[32];
        snprintf(key, sizeof key, "t%d-%d", me->thread, i);
        int fail_at = i % 4 - 1;
        json_t *args = saga_args(key, fail_at);
        eg_saga_outcome outcome;
        eg_error e;
        eg_status st = eg_saga_run(me->e, &types[0], args, NULL, &outcome, NULL, &e);
        json_decref(args);
        bool right = fail_at < 0 ? st == EG_OK && outcome == EG_SAGA_COMMITTED
                                 : st == EG_UNAVAILABLE && outcome == EG_SAGA_COMPENSATED;
        if (!right) me->wrong++;
    }
    return NULL;
}

TEST(eight_threads_run_sagas_at_once) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 64 * 1024);
    REQUIRE(w);
    eg_saga_engine *e = open_engine(w, root, &env, NULL);
    REQUIRE(e);
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){e, t, 0};
        REQUIRE(pthread_create(&threads[t], NULL, run_sagas, &workers[t]) == 0);
    }
    int wrong = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        wrong += workers[t].wrong;
    }
    CHECK(wrong == 0);
    int commits = THREADS * SAGAS_PER_THREAD / 4;
    CHECK(json_object_size(env.vectors) == (size_t)commits && json_object_size(env.graph) == (size_t)commits * 2);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < SAGAS_PER_THREAD; i += 4) {
            char key[32];
            snprintf(key, sizeof key, "t%d-%d", t, i);
            CHECK(json_object_get(env.vectors, key) && json_object_get(env.graph, key));
        }
    record_counts c = count_records(w);
    CHECK(c.intents == THREADS * SAGAS_PER_THREAD && c.ends == c.intents);
    CHECK(c.committed == commits && c.compensated == c.intents - commits);
    /* Nothing running: the checkpoint releases everything, and reopening finds nothing to do. */
    CHECK_OK(eg_saga_checkpoint(e, &err), &err);
    CHECK(eg_wal_checkpoint_lsn(w) == eg_wal_next_lsn(w));
    eg_saga_engine_close(e);
    eg_wal_close(w);
    w = open_wal(root, 64 * 1024);
    REQUIRE(w);
    eg_saga_recovery_report report;
    e = open_engine(w, root, &env, &report);
    CHECK(report.unfinished == 0);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

typedef struct blocked_run {
    eg_saga_engine *e;
    eg_status status;
    eg_saga_outcome outcome;
} blocked_run;

static void *run_blocked(void *arg) {
    blocked_run *b = arg;
    json_t *args = json_pack("{s:s, s:s, s:i}", "id", "slowpoke", "target", "t", "block", 1);
    eg_error e;
    b->status = eg_saga_run(b->e, &types[0], args, NULL, &b->outcome, NULL, &e);
    json_decref(args);
    return NULL;
}

TEST(a_checkpoint_keeps_the_segments_of_running_sagas_and_frees_the_rest) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 2048);
    REQUIRE(w);
    eg_saga_options patient = {60000, 3};
    eg_saga_engine *e;
    REQUIRE(eg_saga_engine_open(w, letters_dir(root), &env, types, 2, &patient, NULL, &e, &err) == EG_OK);
    for (int i = 0; i < 50; i++) { /* finished sagas before the blocked one: their segments can go */
        char key[16];
        snprintf(key, sizeof key, "a%d", i);
        json_t *args = saga_args(key, -1);
        CHECK_OK(eg_saga_run(e, &types[0], args, NULL, NULL, NULL, &err), &err);
        json_decref(args);
    }
    env.block = true;
    blocked_run b = {e, EG_INTERNAL, EG_SAGA_FAILED};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, run_blocked, &b) == 0);
    pthread_mutex_lock(&env.mutex);
    while (!env.blocked) pthread_cond_wait(&env.changed, &env.mutex);
    pthread_mutex_unlock(&env.mutex);
    for (int i = 0; i < 50; i++) { /* and after it */
        char key[16];
        snprintf(key, sizeof key, "b%d", i);
        json_t *args = saga_args(key, -1);
        CHECK_OK(eg_saga_run(e, &types[0], args, NULL, NULL, NULL, &err), &err);
        json_decref(args);
    }
    eg_wal_stats before, after;
    eg_wal_stats_get(w, &before);
    CHECK_OK(eg_saga_checkpoint(e, &err), &err);
    eg_wal_stats_get(w, &after);
    CHECK(after.segments < before.segments && after.segments > 1);
    json_t *oldest = NULL;
    CHECK_STATUS(eg_wal_read(w, eg_wal_checkpoint_lsn(w), first_record, &oldest, &err), EG_CONFLICT, &err);
    json_t *args = json_object_get(oldest, "args");
    CHECK(args && strcmp(json_string_value(json_object_get(args, "id")), "slowpoke") == 0);
    json_decref(oldest);

    pthread_mutex_lock(&env.mutex);
    env.block = false;
    pthread_cond_broadcast(&env.changed);
    pthread_mutex_unlock(&env.mutex);
    pthread_join(thread, NULL);
    CHECK(b.status == EG_OK && b.outcome == EG_SAGA_COMMITTED);
    CHECK_OK(eg_saga_checkpoint(e, &err), &err);
    eg_wal_stats_get(w, &after);
    CHECK(after.segments == 1 && eg_wal_checkpoint_lsn(w) == eg_wal_next_lsn(w));
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

/* ---- Recovery ----------------------------------------------------------------------------------------------- */

static void append_json(eg_wal *w, uint8_t type, json_t *doc) {
    char *text = json_dumps(doc, JSON_COMPACT);
    CHECK_OK(eg_wal_append(w, type, text, strlen(text), NULL, &err), &err);
    free(text);
    json_decref(doc);
}

static void log_intent(eg_wal *w, const char *saga, const char *type, const char *id) {
    append_json(w, EG_SAGA_INTENT, json_pack("{s:s, s:s, s:o}", "saga", saga, "type", type, "args",
                                             saga_args(id, -1)));
}

static void log_step(eg_wal *w, const char *saga, int step) {
    append_json(w, EG_SAGA_STEP, json_pack("{s:s, s:i}", "saga", saga, "step", step));
}

TEST(an_intent_of_an_unknown_type_is_corrupt) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    log_intent(w, "00000000-0000-4000-8000-000000000001", "nope", "m");
    eg_saga_engine *e = NULL;
    CHECK_STATUS(eg_saga_engine_open(w, letters_dir(root), &env, types, 2, &fast, NULL, &e, &err), EG_CORRUPT, &err);
    CHECK(e == NULL && strstr(err.message, "nope"));
    eg_wal_close(w);
    env_free(&env);
}

#define S(n) "00000000-0000-4000-8000-00000000000" #n

TEST(recovery_finishes_sagas_stopped_at_every_point) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    /* 1: intent only; step 0 may have run unlogged, and after a power cut (step records are not synced) so may
     * every later step of a saga without a point of no return: all are compensated. */
    log_intent(w, S(1), "create", "one");
    json_object_set_new(env.vectors, "one", json_true());
    /* 2: step 0 logged, step 1 ran unlogged (step 2 may have too). */
    log_intent(w, S(2), "create", "two");
    log_step(w, S(2), 0);
    json_object_set_new(env.vectors, "two", json_true());
    json_object_set_new(env.graph, "two", json_true());
    /* 3: every step logged, no end, never past a point of no return: compensated whole. */
    log_intent(w, S(3), "create", "three");
    for (int i = 0; i < 3; i++) log_step(w, S(3), i);
    json_object_set_new(env.vectors, "three", json_true());
    json_object_set_new(env.graph, "three", json_true());
    json_object_set_new(env.graph, "three->t", json_true());
    /* 4: past the point of no return (step 1 logged): rolled forward. */
    log_intent(w, S(4), "link", "four");
    log_step(w, S(4), 0);
    log_step(w, S(4), 1);
    json_object_set_new(env.vectors, "four", json_true());
    json_object_set_new(env.graph, "four", json_true());
    /* 5: ended: untouched. */
    log_intent(w, S(5), "create", "five");
    for (int i = 0; i < 3; i++) log_step(w, S(5), i);
    append_json(w, EG_SAGA_END, json_pack("{s:s, s:s}", "saga", S(5), "outcome", "committed"));
    json_object_set_new(env.vectors, "five", json_true());
    /* 6: before the point of no return (only step 0 logged) of a saga that has one: compensated. */
    log_intent(w, S(6), "link", "six");
    log_step(w, S(6), 0);
    json_object_set_new(env.vectors, "six", json_true());
    /* Records of other kinds share the log. */
    CHECK_OK(eg_wal_append(w, 77, "queued write", 12, NULL, &err), &err);

    eg_saga_recovery_report report;
    eg_saga_engine *e = open_engine(w, root, &env, &report);
    REQUIRE(e);
    CHECK(report.unfinished == 5 && report.compensated == 4 && report.rolled_forward == 1 && report.failed == 0);
    CHECK(env.no_inputs == 12 && env.live_inputs == 0); /* recovery has no live caller */
    CHECK(trace_is(&env, "compensate 2, compensate 1, compensate 0, "       /* 1 */
                         "compensate 2, compensate 1, compensate 0, "       /* 2 */
                         "compensate 2, compensate 1, compensate 0, "       /* 3 */
                         "forward 2, "                                      /* 4 */
                         "compensate 1, compensate 0"));                    /* 6 */
    CHECK(json_object_size(env.vectors) == 2 && json_object_get(env.vectors, "four") &&
          json_object_get(env.vectors, "five"));
    CHECK(json_object_size(env.graph) == 2 && json_object_get(env.graph, "four") &&
          json_object_get(env.graph, "four->t"));
    record_counts c = count_records(w);
    CHECK(c.ends == 6 && c.committed == 2 && c.compensated == 4);
    CHECK(c.steps == 11); /* the roll-forward's step 2 is logged as a live run's */
    eg_saga_engine_close(e);
    json_array_clear(env.trace);
    e = open_engine(w, root, &env, &report);
    CHECK(report.unfinished == 0 && json_array_size(env.trace) == 0);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

TEST(recovery_that_cannot_compensate_leaves_a_dead_letter) {
    const char *root = test_scratch_dir();
    fake_env env;
    env_init(&env);
    env.compensation_fails_step = 0;
    env.compensation_fails = -1;
    eg_wal *w = open_wal(root, 0);
    REQUIRE(w);
    log_intent(w, S(7), "create", "seven");
    log_step(w, S(7), 0);
    eg_saga_recovery_report report;
    eg_saga_engine *e = open_engine(w, root, &env, &report);
    REQUIRE(e);
    CHECK(report.unfinished == 1 && report.failed == 1 && report.compensated == 0);
    json_t *letters;
    CHECK_OK(eg_saga_dead_letters(e, &letters, &err), &err);
    REQUIRE(json_array_size(letters) == 1);
    json_t *letter = json_array_get(letters, 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "saga")), S(7)) == 0);
    CHECK(strcmp(json_string_value(json_object_get(letter, "failed_step")), "add_node") == 0);
    CHECK(strstr(json_string_value(json_object_get(json_object_get(letter, "error"), "message")), "interrupted"));
    json_decref(letters);
    eg_saga_engine_close(e);
    eg_wal_close(w);
    env_free(&env);
}

int main(void) {
    RUN(a_saga_of_three_steps_commits);
    RUN(a_saga_waits_for_the_disk_twice);
    RUN(a_failure_at_each_step_compensates_it_and_the_earlier_ones_in_reverse);
    RUN(timed_out_and_slow_steps_are_compensated);
    RUN(a_compensation_that_fails_once_is_retried);
    RUN(a_compensation_that_always_fails_leaves_a_durable_dead_letter);
    RUN(a_step_past_the_point_of_no_return_is_retried_never_compensated);
    RUN(a_saga_whose_dead_letter_cannot_be_written_is_finished_by_the_next_open);
    RUN(bad_arguments_are_refused);
    RUN(eight_threads_run_sagas_at_once);
    RUN(a_checkpoint_keeps_the_segments_of_running_sagas_and_frees_the_rest);
    RUN(an_intent_of_an_unknown_type_is_corrupt);
    RUN(recovery_finishes_sagas_stopped_at_every_point);
    RUN(recovery_that_cannot_compensate_leaves_a_dead_letter);
    return test_summary();
}
