/* test_breaker.c — the circuit breaker (src/resilience/breaker.h) and the message sanitiser it keeps errors with
 * (src/util/sanitize.h), through the public eg_graph_* / eg_vectors_* API on real embedded stores.
 *
 * Each store is stacked as breaker(script(faults(LMDB))): fault rules (eg_faults_set) make calls fail with
 * EG_UNAVAILABLE; the script guard between them counts the calls that got past the breaker, returns chosen
 * statuses (EG_TIMEOUT, EG_IO, EG_CORRUPT, ...) and can hold calls at a gate to make them slow. Time is a scripted
 * clock (eg_breaker_set_clock), so no test sleeps through a reset timeout.
 *
 * Covered: exact state sequences (threshold failures open it; an open breaker fails fast without reaching the
 * store; a probe after the reset timeout; success_threshold probes close it; a failed probe reopens it and
 * restarts the timeout); which statuses count (timeout and io_error do; corrupt and internal do not; caller errors
 * neither trip nor reset it, also as a probe's result); late results; fail-fast messages; stats; one log line per
 * transition, to a callback or to stderr; defaults and bad configuration; the vector store; exactly
 * half_open_max_calls probes at once among 16 threads (1 and 3); the sanitiser. Meant for the sanitizer build. */
#include "test.h"

#include "resilience/breaker.h"
#include "resilience/faults.h"
#include "util/clock.h"
#include "util/sanitize.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static eg_error err;

#define MAP_SIZE (256u << 20)
#define MS 1000000ull /* nanoseconds */
#define LOG_LINES 16
#define GATE_LIMIT_MS 30000 /* a gate left closed by a failing test opens by itself after this */

/* ---- The script guard ----------------------------------------------------------------------------------- */

typedef struct script {
    eg_status statuses[16]; /* returned in order, one per call, by `before`; once used up, calls run */
    size_t count, next;
    const char *message;      /* message of those statuses; NULL: "scripted STATUS" */
    atomic_long reached;      /* calls that got past the breaker */
    atomic_int in_store;      /* calls between this guard's before and after */
    atomic_int max_in_store;  /* the most there ever were at once */
    atomic_bool gate_closed;  /* calls of gate_op wait in `before` while this is true */
    const char *gate_op;      /* NULL: every operation */
} script;

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static eg_status script_before(void *self, const char *store, const char *op, eg_error *e) {
    (void)store;
    script *s = self;
    atomic_fetch_add(&s->reached, 1);
    int now = atomic_fetch_add(&s->in_store, 1) + 1, most = atomic_load(&s->max_in_store);
    while (now > most && !atomic_compare_exchange_weak(&s->max_in_store, &most, now)) continue;
    if (!s->gate_op || strcmp(s->gate_op, op) == 0)
        for (int waited = 0; atomic_load(&s->gate_closed) && waited < GATE_LIMIT_MS; waited++) sleep_ms(1);
    if (s->next < s->count) {
        eg_status st = s->statuses[s->next++];
        atomic_fetch_sub(&s->in_store, 1);
        if (s->message) return eg_error_set(e, st, "%s", s->message);
        return eg_error_set(e, st, "scripted %s", eg_status_name(st));
    }
    return EG_OK;
}

static void script_after(void *self, const char *store, const char *op, eg_status status, const eg_error *e) {
    (void)store, (void)op, (void)status, (void)e;
    script *s = self;
    atomic_fetch_sub(&s->in_store, 1);
}

static void script_statuses(script *s, const eg_status *statuses, size_t count) {
    memcpy(s->statuses, statuses, count * sizeof *statuses);
    s->count = count;
    s->next = 0;
}

/* ---- A breaker-guarded store ---------------------------------------------------------------------------- */

typedef struct stack {
    eg_faults *faults;
    script script;
    eg_breaker *breaker;
    eg_graph *g;
    eg_vectors *v;
    _Atomic uint64_t clock_ns;
    char log[LOG_LINES][512];
    int logged;
} stack;

static uint64_t scripted_clock(void *ctx) {
    stack *s = ctx;
    return atomic_load(&s->clock_ns);
}

static void capture_log(void *ctx, const char *line) {
    stack *s = ctx;
    if (s->logged < LOG_LINES) snprintf(s->log[s->logged], sizeof s->log[0], "%s", line);
    s->logged++;
}

static void die(const char *what) {
    fprintf(stderr, "cannot %s: %s\n", what, err.message);
    exit(2);
}

/* A fresh store (the vector store when `vectors`, else the graph store) behind faults, the script and a breaker
 * with `config`; the breaker logs to s->log unless config.log is set, and runs on the scripted clock. */
static stack *stack_new(eg_breaker_config config, bool vectors) {
    stack *s = calloc(1, sizeof *s);
    if (!s) exit(2);
    atomic_init(&s->clock_ns, 1000000 * MS); /* any start: only differences count */
    if (!config.log) config.log = capture_log, config.log_ctx = s;
    if (eg_faults_new(NULL, &s->faults, &err) != EG_OK) die("make fault rules");
    const char *name = vectors ? "vectors" : "graph";
    if (eg_breaker_new(name, &config, &s->breaker, &err) != EG_OK) die("make a breaker");
    eg_breaker_set_clock(s->breaker, scripted_clock, s);
    eg_guard guards[3] = {eg_faults_guard(s->faults), {script_before, script_after, &s->script},
                          eg_breaker_guard(s->breaker)};
    if (vectors) {
        eg_vectors_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = true};
        if (eg_vectors_open_lmdb(test_scratch_dir(), &options, &s->v, &err) != EG_OK) die("open a vector store");
        for (int i = 0; i < 3; i++)
            if (eg_vectors_guard(s->v, &guards[i], &s->v, &err) != EG_OK) die("guard a vector store");
    } else {
        eg_graph_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = true};
        if (eg_graph_open_lmdb(test_scratch_dir(), &options, &s->g, &err) != EG_OK) die("open a graph store");
        for (int i = 0; i < 3; i++)
            if (eg_graph_guard(s->g, &guards[i], &s->g, &err) != EG_OK) die("guard a graph store");
    }
    return s;
}

static void stack_free(stack *s) {
    if (s->g) eg_graph_close(s->g);
    if (s->v) eg_vectors_close(s->v);
    eg_breaker_free(s->breaker);
    eg_faults_free(s->faults);
    free(s);
}

static void advance_ms(stack *s, uint64_t ms) {
    atomic_fetch_add(&s->clock_ns, ms * MS);
}

/* Every graph call fails with EG_UNAVAILABLE (an injected fault) while failing is on. */
static void set_failing(stack *s, bool failing) {
    if (eg_faults_set(s->faults, failing ? "graph.*=fail;vectors.*=fail" : NULL, &err) != EG_OK)
        die("set fault rules");
}

static eg_status call(stack *s) {
    uint64_t count;
    return eg_graph_count_nodes(s->g, EG_LABEL_ANY, &count, &err);
}

static eg_breaker_stats stats(stack *s) {
    eg_breaker_stats st;
    eg_breaker_stats_get(s->breaker, &st);
    return st;
}

static eg_breaker_state state(stack *s) {
    return stats(s).state;
}

static long reached(stack *s) {
    return atomic_load(&s->script.reached);
}

static bool starts_with(const char *s, const char *prefix) {
    if (strncmp(s, prefix, strlen(prefix)) == 0) return true;
    fprintf(stderr, "  '%s'\n  does not start with '%s'\n", s, prefix);
    return false;
}

static bool equal(const char *got, const char *expected) {
    if (strcmp(got, expected) == 0) return true;
    fprintf(stderr, "  got      '%s'\n  expected '%s'\n", got, expected);
    return false;
}

/* Fails `n` calls through the store; each must fail with the injected fault. */
static void fail_calls(stack *s, int n) {
    set_failing(s, true);
    for (int i = 0; i < n; i++) {
        CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
        CHECK(starts_with(err.message, "injected fault: "));
    }
    set_failing(s, false);
}

#define FAULT_MESSAGE "injected fault: graph.*=fail (graph.count_nodes)"

/* ---- State sequences ------------------------------------------------------------------------------------ */

TEST(five_failures_open_it_and_then_calls_fail_fast_without_reaching_the_store) {
    stack *s = stack_new((eg_breaker_config){0}, false);
    set_failing(s, true);
    for (int i = 1; i <= 4; i++) {
        CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
        CHECK(equal(err.message, FAULT_MESSAGE));
        CHECK(state(s) == EG_BREAKER_CLOSED);
        CHECK(stats(s).consecutive_failures == (uint64_t)i);
    }
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(equal(err.message, FAULT_MESSAGE)); /* the 5th call ran and failed; the breaker opened after it */
    CHECK(state(s) == EG_BREAKER_OPEN);
    CHECK(reached(s) == 5);
    set_failing(s, false); /* the store is fine again, but the breaker does not know yet */
    CHECK_STATUS(eg_graph_create_node(s->g, EG_LABEL_ENTITY, "x", NULL, &err), EG_UNAVAILABLE, &err);
    CHECK(equal(err.message, "graph store unavailable: circuit open after 5 consecutive failures (last: " FAULT_MESSAGE
                             "), retrying in 60 s"));
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(reached(s) == 5);
    CHECK(stats(s).rejected == 2);
    /* Once it closes again, the rejected create_node proves to have written nothing. */
    advance_ms(s, 60000);
    CHECK_OK(call(s), &err);
    CHECK_OK(call(s), &err);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(s->g, "x", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    stack_free(s);
}

TEST(after_the_reset_timeout_probes_run_and_success_threshold_successes_close_it) {
    stack *s = stack_new((eg_breaker_config){0}, false);
    fail_calls(s, 5);
    REQUIRE(state(s) == EG_BREAKER_OPEN);
    advance_ms(s, 59999);
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "retrying in 1 ms") != NULL);
    CHECK(state(s) == EG_BREAKER_OPEN);
    CHECK(reached(s) == 5);
    advance_ms(s, 1);
    CHECK_OK(call(s), &err); /* the probe: it reaches the store */
    CHECK(reached(s) == 6);
    CHECK(state(s) == EG_BREAKER_HALF_OPEN);
    CHECK_OK(call(s), &err); /* the first probe's place is free again: a second probe */
    CHECK(reached(s) == 7);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    CHECK(stats(s).consecutive_failures == 0);
    for (int i = 0; i < 3; i++) CHECK_OK(call(s), &err);
    CHECK(reached(s) == 10);
    stack_free(s);
}

TEST(a_failed_probe_reopens_it_and_restarts_the_reset_timeout) {
    stack *s = stack_new((eg_breaker_config){.failure_threshold = 2, .reset_timeout_ms = 1000}, false);
    fail_calls(s, 2);
    REQUIRE(state(s) == EG_BREAKER_OPEN);
    advance_ms(s, 5000); /* long past the timeout: the probe decides, not the time spent */
    fail_calls(s, 1);    /* the probe fails */
    CHECK(state(s) == EG_BREAKER_OPEN);
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(equal(err.message, "graph store unavailable: circuit open after a failed probe (last: " FAULT_MESSAGE
                             "), retrying in 1 s"));
    advance_ms(s, 999);
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "retrying in 1 ms") != NULL);
    CHECK(reached(s) == 3);
    advance_ms(s, 1);
    CHECK_OK(call(s), &err); /* a probe that succeeds, then one that fails: open again */
    CHECK(state(s) == EG_BREAKER_HALF_OPEN);
    fail_calls(s, 1);
    CHECK(state(s) == EG_BREAKER_OPEN);
    CHECK(stats(s).consecutive_failures == 1); /* the success ended the earlier run */
    advance_ms(s, 1000);
    CHECK_OK(call(s), &err);
    CHECK_OK(call(s), &err);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    CHECK(reached(s) == 7);
    stack_free(s);
}

TEST(a_success_ends_a_run_of_failures) {
    stack *s = stack_new((eg_breaker_config){0}, false);
    fail_calls(s, 4);
    CHECK_OK(call(s), &err);
    CHECK(stats(s).consecutive_failures == 0);
    fail_calls(s, 4);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    fail_calls(s, 1);
    CHECK(state(s) == EG_BREAKER_OPEN);
    stack_free(s);
}

/* ---- What counts ---------------------------------------------------------------------------------------- */

TEST(timeout_and_io_errors_count_as_failures_corrupt_and_internal_do_not) {
    stack *s = stack_new((eg_breaker_config){0}, false);
    const eg_status sequence[] = {EG_TIMEOUT, EG_IO, EG_TIMEOUT, EG_IO, EG_CORRUPT, EG_INTERNAL, EG_LOCKED,
                                  EG_INCOMPATIBLE, EG_TIMEOUT};
    script_statuses(&s->script, sequence, sizeof sequence / sizeof sequence[0]);
    for (size_t i = 0; i < 4; i++) {
        CHECK_STATUS(call(s), sequence[i], &err); /* passed through unchanged */
        CHECK(stats(s).consecutive_failures == i + 1);
    }
    for (size_t i = 4; i < 8; i++) {
        CHECK_STATUS(call(s), sequence[i], &err);
        CHECK(equal(err.message, sequence[i] == EG_CORRUPT    ? "scripted corrupt"
                                 : sequence[i] == EG_INTERNAL ? "scripted internal"
                                 : sequence[i] == EG_LOCKED   ? "scripted locked"
                                                              : "scripted incompatible_format"));
        CHECK(stats(s).consecutive_failures == 4); /* neither a failure nor a success */
        CHECK(state(s) == EG_BREAKER_CLOSED);
    }
    CHECK(equal(stats(s).last_error, "scripted io_error"));
    CHECK_STATUS(call(s), EG_TIMEOUT, &err);
    CHECK(state(s) == EG_BREAKER_OPEN);
    eg_breaker_stats st = stats(s);
    CHECK(st.failures == 5 && st.successes == 0);
    CHECK(equal(st.last_error, "scripted timeout"));
    stack_free(s);
}

TEST(caller_errors_never_trip_nor_reset_the_breaker) {
    stack *s = stack_new((eg_breaker_config){0}, false);
    json_t *p1 = json_pack("{s:i}", "v", 1), *p2 = json_pack("{s:i}", "v", 2);
    CHECK_OK(eg_graph_create_node(s->g, EG_LABEL_ENTITY, "a", p1, &err), &err);
    fail_calls(s, 4);
    eg_node n;
    for (int i = 0; i < 20; i++) {
        CHECK_STATUS(eg_graph_get_node(s->g, "missing", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
        CHECK_STATUS(eg_graph_create_node(s->g, EG_LABEL_ENTITY, "a", p2, &err), EG_CONFLICT, &err);
    }
    eg_breaker_stats st = stats(s);
    CHECK(st.state == EG_BREAKER_CLOSED);
    CHECK(st.consecutive_failures == 4); /* not reset either */
    CHECK(st.failures == 4 && st.successes == 1);
    fail_calls(s, 1);
    CHECK(state(s) == EG_BREAKER_OPEN);
    json_decref(p1);
    json_decref(p2);
    stack_free(s);
}

TEST(a_probe_ending_in_a_caller_error_frees_its_place_and_counts_neither_way) {
    stack *s = stack_new((eg_breaker_config){0}, false);
    fail_calls(s, 5);
    advance_ms(s, 60000);
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(s->g, "missing", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    CHECK(state(s) == EG_BREAKER_HALF_OPEN);
    CHECK_OK(call(s), &err); /* the place is free; this is the first successful probe of two */
    CHECK(state(s) == EG_BREAKER_HALF_OPEN);
    CHECK_OK(call(s), &err);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    CHECK(reached(s) == 8);
    stack_free(s);
}

TEST(a_caller_passing_no_error_report_still_leaves_a_last_error) {
    stack *s = stack_new((eg_breaker_config){.failure_threshold = 1}, false);
    set_failing(s, true);
    uint64_t count;
    CHECK(eg_graph_count_nodes(s->g, EG_LABEL_ANY, &count, NULL) == EG_UNAVAILABLE);
    CHECK(state(s) == EG_BREAKER_OPEN);
    CHECK(equal(stats(s).last_error, "unavailable"));
    CHECK(eg_graph_count_nodes(s->g, EG_LABEL_ANY, &count, NULL) == EG_UNAVAILABLE); /* rejected, no crash */
    CHECK(stats(s).rejected == 1);
    stack_free(s);
}

/* ---- Late results --------------------------------------------------------------------------------------- */

typedef struct late_call {
    stack *s;
    eg_status status;
} late_call;

static void *create_late(void *arg) {
    late_call *c = arg;
    eg_error e;
    c->status = eg_graph_create_node(c->s->g, EG_LABEL_ENTITY, "late", NULL, &e);
    return NULL;
}

static bool wait_for(atomic_int *value, int expected) {
    for (int waited = 0; waited < GATE_LIMIT_MS; waited++) {
        if (atomic_load(value) == expected) return true;
        sleep_ms(1);
    }
    return false;
}

TEST(a_slow_call_ending_after_the_breaker_opened_is_counted_but_changes_no_state) {
    stack *s = stack_new((eg_breaker_config){.failure_threshold = 2}, false);
    set_failing(s, true);
    s->script.gate_op = "create_node";
    atomic_store(&s->script.gate_closed, true);
    late_call c = {s, EG_OK};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, create_late, &c) == 0);
    CHECK(wait_for(&s->script.in_store, 1)); /* admitted while closed, now held at the gate */
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    REQUIRE(state(s) == EG_BREAKER_OPEN);
    eg_breaker_stats opened = stats(s);
    atomic_store(&s->script.gate_closed, false);
    pthread_join(t, NULL);
    CHECK(c.status == EG_UNAVAILABLE);
    eg_breaker_stats st = stats(s);
    CHECK(st.state == EG_BREAKER_OPEN);
    CHECK(st.failures == 3);
    CHECK(st.consecutive_failures == 2);
    CHECK(st.opened_at_ms == opened.opened_at_ms && st.retry_in_ms == opened.retry_in_ms);
    CHECK(equal(st.last_error, "injected fault: graph.*=fail (graph.create_node)"));
    CHECK(s->logged == 1);
    stack_free(s);
}

/* ---- Messages, stats, log ------------------------------------------------------------------------------- */

TEST(fail_fast_messages_name_the_store_the_cause_and_the_retry_time) {
    stack *s = stack_new((eg_breaker_config){0}, false);
    fail_calls(s, 5);
    advance_ms(s, 18000);
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(equal(err.message, "graph store unavailable: circuit open after 5 consecutive failures (last: " FAULT_MESSAGE
                             "), retrying in 42 s"));
    advance_ms(s, 17500); /* 24.5 s left: rounded up */
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "retrying in 25 s") != NULL);
    advance_ms(s, 24000);
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "retrying in 500 ms") != NULL);
    stack_free(s);
}

TEST(stats_report_state_counters_times_and_the_sanitised_last_error) {
    stack *s = stack_new((eg_breaker_config){.failure_threshold = 3, .reset_timeout_ms = 10000}, false);
    int64_t created = eg_now_ms();
    eg_breaker_stats st = stats(s);
    CHECK(st.state == EG_BREAKER_CLOSED && st.consecutive_failures == 0 && st.successes == 0 && st.failures == 0);
    CHECK(st.rejected == 0 && st.last_failure_ms == 0 && st.opened_at_ms == 0 && st.retry_in_ms == 0);
    CHECK(st.last_transition_ms > 0 && st.last_transition_ms <= created);
    CHECK(equal(st.last_error, ""));
    CHECK(equal(eg_breaker_state_name(st.state), "closed"));
    CHECK(equal(eg_breaker_state_name(EG_BREAKER_OPEN), "open"));
    CHECK(equal(eg_breaker_state_name(EG_BREAKER_HALF_OPEN), "half_open"));
    CHECK(equal(eg_breaker_state_name((eg_breaker_state)7), "unknown"));

    CHECK_OK(call(s), &err);
    CHECK_OK(call(s), &err);
    s->script.message =
        "cannot write /home/alice/engram-data/graph/data.mdb (via https://bob:hunter2@db.example:7687/x)";
    const eg_status io[] = {EG_IO, EG_IO, EG_IO};
    script_statuses(&s->script, io, 3);
    for (int i = 0; i < 3; i++) CHECK_STATUS(call(s), EG_IO, &err);
    CHECK(strstr(err.message, "/home/alice") != NULL); /* the caller's own message is left as the store wrote it */
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    const char *clean = "cannot write <path> (via https://<credentials>@db.example:7687/x)";
    CHECK(strstr(err.message, clean) != NULL && !strstr(err.message, "alice") && !strstr(err.message, "hunter2"));
    advance_ms(s, 2500);
    st = stats(s);
    CHECK(st.state == EG_BREAKER_OPEN);
    CHECK(equal(eg_breaker_state_name(st.state), "open"));
    CHECK(st.consecutive_failures == 3 && st.successes == 2 && st.failures == 3 && st.rejected == 1);
    CHECK(st.last_failure_ms >= created && st.opened_at_ms >= st.last_failure_ms);
    CHECK(st.last_transition_ms >= st.opened_at_ms);
    CHECK(st.retry_in_ms == 7500);
    CHECK(equal(st.last_error, clean));
    CHECK(equal(s->log[0], "graph breaker closed -> open after 3 consecutive failures (last: cannot write <path> "
                           "(via https://<credentials>@db.example:7687/x))"));

    advance_ms(s, 7500);
    CHECK(stats(s).retry_in_ms == 0); /* may probe now, though no call has yet */
    CHECK_OK(call(s), &err);
    st = stats(s);
    CHECK(st.state == EG_BREAKER_HALF_OPEN && st.retry_in_ms == 0 && st.consecutive_failures == 0);
    CHECK(equal(eg_breaker_state_name(st.state), "half_open"));
    CHECK_OK(call(s), &err);
    st = stats(s);
    CHECK(st.state == EG_BREAKER_CLOSED && st.successes == 4 && st.failures == 3 && st.rejected == 1);
    CHECK(equal(st.last_error, clean)); /* kept after recovery: the last failure is still the last one */
    stack_free(s);
}

TEST(every_transition_is_logged_exactly_once_in_order) {
    stack *s = stack_new((eg_breaker_config){.failure_threshold = 2, .reset_timeout_ms = 30000}, false);
    fail_calls(s, 2);
    for (int i = 0; i < 5; i++) CHECK_STATUS(call(s), EG_UNAVAILABLE, &err); /* rejected: no new line */
    advance_ms(s, 30000);
    fail_calls(s, 1);
    advance_ms(s, 30500);
    CHECK_OK(call(s), &err);
    CHECK_OK(call(s), &err);
    for (int i = 0; i < 5; i++) CHECK_OK(call(s), &err);
    REQUIRE(s->logged == 5);
    CHECK(equal(s->log[0], "graph breaker closed -> open after 2 consecutive failures (last: " FAULT_MESSAGE ")"));
    CHECK(equal(s->log[1], "graph breaker open -> half_open after the reset timeout of 30 s: probing"));
    CHECK(equal(s->log[2], "graph breaker half_open -> open after a failed probe (last: " FAULT_MESSAGE ")"));
    CHECK(equal(s->log[3], "graph breaker open -> half_open after the reset timeout of 30 s: probing"));
    CHECK(equal(s->log[4], "graph breaker half_open -> closed after 2 successful probes"));
    stack_free(s);
}

/* Runs fn with stderr going to a file; returns what was written (caller frees). */
static char *capture_stderr(void (*fn)(void)) {
    fflush(stderr);
    FILE *file = tmpfile();
    int saved = dup(2);
    if (!file || saved < 0 || dup2(fileno(file), 2) < 0) exit(2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long size = ftell(file);
    char *text = calloc(1, (size_t)(size > 0 ? size : 0) + 1);
    rewind(file);
    if (!text || (size > 0 && fread(text, 1, (size_t)size, file) != (size_t)size)) exit(2);
    fclose(file);
    return text;
}

/* With NULL config: every default, and log lines on stderr. */
static void run_with_defaults(void) {
    eg_breaker *b;
    CHECK_OK(eg_breaker_new("graph", NULL, &b, &err), &err);
    eg_graph_lmdb_options options = {.map_size_bytes = MAP_SIZE, .no_sync = true};
    eg_graph *g;
    eg_faults *f;
    REQUIRE(eg_faults_new("graph.*=fail", &f, &err) == EG_OK);
    REQUIRE(eg_graph_open_lmdb(test_scratch_dir(), &options, &g, &err) == EG_OK);
    eg_guard faults = eg_faults_guard(f), breaker = eg_breaker_guard(b);
    REQUIRE(eg_graph_guard(g, &faults, &g, &err) == EG_OK);
    REQUIRE(eg_graph_guard(g, &breaker, &g, &err) == EG_OK);
    uint64_t count;
    for (int i = 0; i < 4; i++) CHECK_STATUS(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), EG_UNAVAILABLE, &err);
    eg_breaker_stats st;
    eg_breaker_stats_get(b, &st);
    CHECK(st.state == EG_BREAKER_CLOSED);
    CHECK_STATUS(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), EG_UNAVAILABLE, &err);
    eg_breaker_stats_get(b, &st);
    CHECK(st.state == EG_BREAKER_OPEN);                        /* failure_threshold 5 */
    CHECK(st.retry_in_ms > 59000 && st.retry_in_ms <= 60000); /* reset_timeout_ms 60000, on the real clock */
    eg_graph_close(g);
    eg_faults_free(f);
    eg_breaker_free(b);
}

TEST(null_config_means_every_default_and_log_lines_go_to_stderr) {
    char *text = capture_stderr(run_with_defaults);
    CHECK(equal(text, "engram: graph breaker closed -> open after 5 consecutive failures (last: " FAULT_MESSAGE ")\n"));
    free(text);
}

TEST(zero_fields_mean_the_defaults) {
    /* failure_threshold 5 and reset_timeout_ms 60000 here as well as with NULL config; also success_threshold 2
     * and half_open_max_calls 1. */
    stack *s = stack_new((eg_breaker_config){0}, false);
    fail_calls(s, 4);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    fail_calls(s, 1);
    CHECK(state(s) == EG_BREAKER_OPEN);
    advance_ms(s, 59999);
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    advance_ms(s, 1);
    s->script.gate_op = "create_node";
    atomic_store(&s->script.gate_closed, true);
    late_call c = {s, EG_INTERNAL};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, create_late, &c) == 0); /* the probe, held in the store */
    CHECK(wait_for(&s->script.in_store, 1));
    CHECK_STATUS(call(s), EG_UNAVAILABLE, &err);
    CHECK(strstr(err.message, "circuit half-open, a probe is in flight") != NULL);
    atomic_store(&s->script.gate_closed, false);
    pthread_join(t, NULL);
    CHECK(c.status == EG_OK);
    CHECK(state(s) == EG_BREAKER_HALF_OPEN); /* one success of two */
    CHECK_OK(call(s), &err);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    stack_free(s);
}

TEST(bad_configuration_and_arguments_are_refused_naming_the_field) {
    static const struct {
        eg_breaker_config config;
        const char *message;
    } bad[] = {
        {{.failure_threshold = 1000001}, "invalid breaker config: failure_threshold is 1000001, must be 1 to 1000000 "
                                         "(0 for the default, 5)"},
        {{.failure_threshold = UINT32_MAX}, "failure_threshold is 4294967295"},
        {{.success_threshold = 1000001}, "success_threshold is 1000001, must be 1 to 1000000 (0 for the default, 2)"},
        {{.reset_timeout_ms = 86400001}, "reset_timeout_ms is 86400001, must be 1 to 86400000 (0 for the default, "
                                         "60000)"},
        {{.reset_timeout_ms = UINT64_MAX}, "reset_timeout_ms is 18446744073709551615"},
        {{.half_open_max_calls = 1001}, "half_open_max_calls is 1001, must be 1 to 1000 (0 for the default, 1)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eg_breaker *b = (eg_breaker *)&err; /* any non-NULL value: a refusal must set it to NULL */
        CHECK_STATUS(eg_breaker_new("graph", &bad[i].config, &b, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(b == NULL);
        if (!strstr(err.message, bad[i].message)) fprintf(stderr, "  case %zu: %s\n", i, err.message);
        CHECK(strstr(err.message, bad[i].message) != NULL);
    }
    eg_breaker *b;
    eg_breaker_config limits = {.failure_threshold = 1000000, .success_threshold = 1, .reset_timeout_ms = 86400000,
                                .half_open_max_calls = 1000};
    CHECK_OK(eg_breaker_new("vectors", &limits, &b, &err), &err);
    eg_breaker_free(b);
    limits = (eg_breaker_config){.failure_threshold = 1, .success_threshold = 1000000, .reset_timeout_ms = 1,
                                 .half_open_max_calls = 1};
    CHECK_OK(eg_breaker_new("graph", &limits, &b, &err), &err);
    eg_breaker_free(b);
    static const char *const bad_names[] = {"", "a b", "tab\there", "0123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        CHECK_STATUS(eg_breaker_new(bad_names[i], NULL, &b, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(strstr(err.message, "store name") != NULL);
    }
    CHECK_STATUS(eg_breaker_new(NULL, NULL, &b, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_breaker_new("graph", NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    eg_breaker_free(NULL);
}

/* ---- The vector store ----------------------------------------------------------------------------------- */

TEST(the_same_breaker_guards_the_vector_store) {
    stack *s = stack_new((eg_breaker_config){.failure_threshold = 2, .reset_timeout_ms = 5000}, true);
    eg_collection_config config = {.dim = 2, .distance = EG_DISTANCE_DOT};
    CHECK_OK(eg_vectors_create_collection(s->v, "c", &config, &err), &err);
    set_failing(s, true);
    eg_string_list names = {0};
    CHECK_STATUS(eg_vectors_list_collections(s->v, &names, &err), EG_UNAVAILABLE, &err);
    CHECK_STATUS(eg_vectors_create_collection(s->v, "d", &config, &err), EG_UNAVAILABLE, &err);
    CHECK(state(s) == EG_BREAKER_OPEN);
    set_failing(s, false);
    CHECK_STATUS(eg_vectors_create_collection(s->v, "d", &config, &err), EG_UNAVAILABLE, &err);
    CHECK(equal(err.message, "vectors store unavailable: circuit open after 2 consecutive failures (last: injected "
                             "fault: vectors.*=fail (vectors.create_collection)), retrying in 5 s"));
    CHECK(reached(s) == 3);
    CHECK(equal(s->log[0], "vectors breaker closed -> open after 2 consecutive failures (last: injected fault: "
                           "vectors.*=fail (vectors.create_collection))"));
    advance_ms(s, 5000);
    CHECK_OK(eg_vectors_list_collections(s->v, &names, &err), &err);
    CHECK(names.count == 1); /* "d" never reached the store */
    eg_string_list_free(&names);
    CHECK_OK(eg_vectors_list_collections(s->v, &names, &err), &err);
    eg_string_list_free(&names);
    CHECK(state(s) == EG_BREAKER_CLOSED);
    stack_free(s);
}

/* ---- Threads -------------------------------------------------------------------------------------------- */

#define THREADS 16

typedef struct hammer {
    stack *s;
    pthread_barrier_t *start;
    eg_status status;
    char message[EG_ERROR_MESSAGE_MAX];
    bool gate_was_closed; /* when the call returned */
} hammer;

static atomic_int rejected_calls;

static void *hammer_once(void *arg) {
    hammer *h = arg;
    eg_error e = {0};
    uint64_t count;
    pthread_barrier_wait(h->start);
    h->status = eg_graph_count_nodes(h->s->g, EG_LABEL_ANY, &count, &e);
    h->gate_was_closed = atomic_load(&h->s->script.gate_closed);
    snprintf(h->message, sizeof h->message, "%s", e.message);
    if (h->status != EG_OK) atomic_fetch_add(&rejected_calls, 1);
    return NULL;
}

/* 16 threads call a half-open breaker at once while every probe is held in the store: exactly max probes get in,
 * and the others are refused while the probes are still held. Run twice: the places are freed each time. */
static void half_open_admits_exactly(uint32_t max) {
    eg_breaker_config config = {.failure_threshold = 1, .success_threshold = 1000, .half_open_max_calls = max};
    stack *s = stack_new(config, false);
    fail_calls(s, 1);
    REQUIRE(state(s) == EG_BREAKER_OPEN);
    advance_ms(s, 60000);
    for (int round = 0; round < 2; round++) {
        long before = reached(s);
        atomic_store(&rejected_calls, 0);
        atomic_store(&s->script.max_in_store, 0);
        atomic_store(&s->script.gate_closed, true);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS);
        pthread_t threads[THREADS];
        hammer h[THREADS];
        for (int t = 0; t < THREADS; t++) {
            h[t] = (hammer){.s = s, .start = &start};
            REQUIRE(pthread_create(&threads[t], NULL, hammer_once, &h[t]) == 0);
        }
        CHECK(wait_for(&rejected_calls, THREADS - (int)max));
        CHECK(wait_for(&s->script.in_store, (int)max));
        sleep_ms(20); /* room for a wrong extra probe to show up */
        CHECK(atomic_load(&s->script.in_store) == (int)max);
        CHECK(atomic_load(&s->script.max_in_store) == (int)max);
        atomic_store(&s->script.gate_closed, false);
        int ok = 0, refused = 0;
        for (int t = 0; t < THREADS; t++) {
            pthread_join(threads[t], NULL);
            if (h[t].status == EG_OK) ok++;
            else {
                refused++;
                CHECK(h[t].status == EG_UNAVAILABLE);
                CHECK(h[t].gate_was_closed); /* refused while the probes were still held: fast */
                CHECK(starts_with(h[t].message, max == 1 ? "graph store unavailable: circuit half-open, a probe is "
                                                           "in flight (last: " FAULT_MESSAGE ")"
                                                         : "graph store unavailable: circuit half-open, 3 probes are "
                                                           "in flight (last: "));
            }
        }
        pthread_barrier_destroy(&start);
        CHECK(ok == (int)max && refused == THREADS - (int)max);
        CHECK(reached(s) - before == (long)max);
        eg_breaker_stats st = stats(s);
        CHECK(st.state == EG_BREAKER_HALF_OPEN);
        CHECK(st.successes == (round + 1) * max && st.rejected == (uint64_t)(round + 1) * (THREADS - max));
    }
    CHECK(s->logged == 2); /* closed -> open -> half_open */
    stack_free(s);
}

TEST(half_open_lets_exactly_one_probe_at_once_among_16_threads) {
    half_open_admits_exactly(1);
}

TEST(half_open_lets_exactly_three_probes_at_once_among_16_threads) {
    half_open_admits_exactly(3);
}

/* ---- The sanitiser -------------------------------------------------------------------------------------- */

static bool sanitised(const char *in, const char *expected) {
    char out[256];
    eg_sanitize_message(in, out, sizeof out);
    if (strcmp(out, expected) == 0) return true;
    fprintf(stderr, "  '%s'\n  -> '%s'\n  expected '%s'\n", in, out, expected);
    return false;
}

TEST(sanitize_replaces_absolute_paths_and_uri_credentials) {
    CHECK(sanitised("/var/lib/engram/graph/data.mdb: No space left on device", "<path>: No space left on device"));
    CHECK(sanitised("cannot open '/home/alice/x y' (denied)", "cannot open '<path> y' (denied)"));
    CHECK(sanitised("open(\"/etc/passwd\")", "open(\"<path>\")"));
    CHECK(sanitised("dir=/srv/data,mode=ro", "dir=<path>,mode=ro"));
    CHECK(sanitised("at:/tmp/x; next /a/b/c.", "at:<path>; next <path>"));
    CHECK(sanitised("/a", "<path>"));
    CHECK(sanitised("bolt://neo4j:s3cret@db.internal:7687 refused", "bolt://<credentials>@db.internal:7687 refused"));
    CHECK(sanitised("https://token@qdrant.example/x", "https://<credentials>@qdrant.example/x"));
    CHECK(sanitised("file:///etc/shadow", "file://<path>"));
    CHECK(sanitised("a http://u:p@h/x and ftp://v:q@k", "a http://<credentials>@h/x and ftp://<credentials>@k"));
    /* Left alone: slashes inside words, URIs without credentials, lone slashes, an '@' outside the host part. */
    CHECK(sanitised("and/or 3/4 data/graph", "and/or 3/4 data/graph"));
    CHECK(sanitised("https://qdrant.example:6333/collections", "https://qdrant.example:6333/collections"));
    CHECK(sanitised("a / b //", "a / b //"));
    CHECK(sanitised("http://host/path?user=a@b", "http://host/path?user=a@b"));
    CHECK(sanitised(FAULT_MESSAGE, FAULT_MESSAGE));
    CHECK(sanitised("", ""));
    CHECK(sanitised(NULL, ""));
    /* Cut to fit, always terminated. */
    char small[8];
    eg_sanitize_message("see /very/long/path here", small, sizeof small);
    CHECK(equal(small, "see <pa"));
    eg_sanitize_message("anything", small, 1);
    CHECK(small[0] == '\0');
}

int main(void) {
    RUN(five_failures_open_it_and_then_calls_fail_fast_without_reaching_the_store);
    RUN(after_the_reset_timeout_probes_run_and_success_threshold_successes_close_it);
    RUN(a_failed_probe_reopens_it_and_restarts_the_reset_timeout);
    RUN(a_success_ends_a_run_of_failures);
    RUN(timeout_and_io_errors_count_as_failures_corrupt_and_internal_do_not);
    RUN(caller_errors_never_trip_nor_reset_the_breaker);
    RUN(a_probe_ending_in_a_caller_error_frees_its_place_and_counts_neither_way);
    RUN(a_caller_passing_no_error_report_still_leaves_a_last_error);
    RUN(a_slow_call_ending_after_the_breaker_opened_is_counted_but_changes_no_state);
    RUN(fail_fast_messages_name_the_store_the_cause_and_the_retry_time);
    RUN(stats_report_state_counters_times_and_the_sanitised_last_error);
    RUN(every_transition_is_logged_exactly_once_in_order);
    RUN(null_config_means_every_default_and_log_lines_go_to_stderr);
    RUN(zero_fields_mean_the_defaults);
    RUN(bad_configuration_and_arguments_are_refused_naming_the_field);
    RUN(the_same_breaker_guards_the_vector_store);
    RUN(half_open_lets_exactly_one_probe_at_once_among_16_threads);
    RUN(half_open_lets_exactly_three_probes_at_once_among_16_threads);
    RUN(sanitize_replaces_absolute_paths_and_uri_credentials);
    return test_summary();
}
