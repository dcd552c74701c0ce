/* breaker.c — the circuit breaker (see breaker.h): its state machine, and the guard that runs it around each call.
 *
 * Everything but three fields is read and written under `mutex`. `state` is also written under the mutex but read
 * without it, so that a closed breaker admits a call with one atomic load; `successes` and
 * `consecutive_failures` are atomic so that a success while closed with no failure pending (the common case)
 * takes no lock either. A success that may have to end a run of failures, every failure, and every call made
 * while open or half-open take the mutex.
 *
 * Probes are counted in `probes_in_flight` for as long as they run, whatever happens to the state meanwhile, so
 * the store never has more than half_open_max_calls probes at once. Each half-open period has a number
 * (`period`); a probe remembers, in a thread-local, its breaker and the period that admitted it, and only a probe
 * of the current half-open period may move the state. */
#include "resilience/breaker.h"

#include "util/clock.h"
#include "util/sanitize.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_NAME_MAX 31
#define LINE_MAX_CHARS 512
#define DURATION_TEXT_MAX 32
#define NS_PER_MS 1000000u

struct eg_breaker {
    char store[STORE_NAME_MAX + 1];
    eg_breaker_config config; /* defaults applied */
    uint64_t (*now_ns)(void *ctx);
    void *clock_ctx;
    pthread_mutex_t mutex;
    _Atomic eg_breaker_state state;
    _Atomic uint64_t successes;
    _Atomic uint64_t consecutive_failures;
    uint64_t failures, rejected;
    uint64_t opened_ns;            /* monotonic time of the last opening */
    char open_reason[48];          /* "5 consecutive failures", "a failed probe": why it last opened */
    uint64_t period;               /* number of the current (or last) half-open period */
    uint32_t probes_in_flight;     /* probes admitted and not yet ended, of any period */
    uint32_t half_open_successes;  /* successful probes of the current period */
    int64_t last_failure_ms, last_transition_ms, opened_at_ms;
    char last_error[sizeof(((eg_breaker_stats *)0)->last_error)];
};

/* The probe the calling thread is running, if any: set by the `before` that admits it, cleared by its `after`. */
static _Thread_local struct {
    const eg_breaker *breaker;
    uint64_t period;
} thread_probe;

static const char *const state_names[] = {
    [EG_BREAKER_CLOSED] = "closed",
    [EG_BREAKER_OPEN] = "open",
    [EG_BREAKER_HALF_OPEN] = "half_open",
};

const char *eg_breaker_state_name(eg_breaker_state state) {
    return (unsigned)state < sizeof state_names / sizeof state_names[0] ? state_names[state] : "unknown";
}

static uint64_t monotonic_clock(void *ctx) {
    (void)ctx;
    return eg_monotonic_ns();
}

/* "42 s" (rounded up, so that a caller waiting that long finds the breaker ready) or, below a second, "250 ms". */
static void format_duration(uint64_t ms, char *out, size_t cap) {
    if (ms < 1000) snprintf(out, cap, "%llu ms", (unsigned long long)ms);
    else snprintf(out, cap, "%llu s", (unsigned long long)((ms + 999) / 1000));
}

/* ---- State changes (mutex held) ------------------------------------------------------------------------- */

/* Moves b to `to` and logs "STORE breaker FROM -> TO WHY" once; why is printf-style. */
static void transition(eg_breaker *b, eg_breaker_state to, const char *why_fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void transition(eg_breaker *b, eg_breaker_state to, const char *why_fmt, ...) {
    char why[LINE_MAX_CHARS - 96], line[LINE_MAX_CHARS]; /* 96: room for the store and the two state names */
    va_list ap;
    va_start(ap, why_fmt);
    vsnprintf(why, sizeof why, why_fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s breaker %s -> %s %s", b->store, eg_breaker_state_name(atomic_load(&b->state)),
             eg_breaker_state_name(to), why);
    atomic_store_explicit(&b->state, to, memory_order_release);
    b->last_transition_ms = eg_now_ms();
    if (b->config.log) b->config.log(b->config.log_ctx, line);
    else fprintf(stderr, "engram: %s\n", line);
}

static void open_circuit(eg_breaker *b, uint64_t now_ns, const char *reason) {
    snprintf(b->open_reason, sizeof b->open_reason, "%s", reason);
    b->opened_ns = now_ns;
    b->opened_at_ms = eg_now_ms();
    transition(b, EG_BREAKER_OPEN, "after %s (last: %s)", reason, b->last_error);
}

static uint64_t retry_in_ms(const eg_breaker *b, uint64_t now_ns) {
    uint64_t elapsed = now_ns - b->opened_ns, timeout = b->config.reset_timeout_ms * NS_PER_MS;
    return elapsed >= timeout ? 0 : (timeout - elapsed + NS_PER_MS - 1) / NS_PER_MS;
}

/* ---- The guard ------------------------------------------------------------------------------------------ */

/* Decides, mutex held, whether a call may run while the breaker is not (or no longer) closed. */
static eg_status admit(eg_breaker *b, eg_error *err) {
    uint64_t now = b->now_ns(b->clock_ctx);
    eg_breaker_state state = atomic_load(&b->state);
    if (state == EG_BREAKER_CLOSED) return EG_OK;
    if (state == EG_BREAKER_OPEN) {
        uint64_t wait_ms = retry_in_ms(b, now);
        if (wait_ms > 0) {
            char wait[DURATION_TEXT_MAX];
            format_duration(wait_ms, wait, sizeof wait);
            b->rejected++;
            return eg_error_set(err, EG_UNAVAILABLE, "%s store unavailable: circuit open after %s (last: %s), "
                                "retrying in %s", b->store, b->open_reason, b->last_error, wait);
        }
        char timeout[DURATION_TEXT_MAX];
        format_duration(b->config.reset_timeout_ms, timeout, sizeof timeout);
        b->period++;
        b->half_open_successes = 0;
        transition(b, EG_BREAKER_HALF_OPEN, "after the reset timeout of %s: probing", timeout);
    }
    /* A thread running a probe (of another breaker: a store calling a store) cannot carry a second one. */
    if (b->probes_in_flight >= b->config.half_open_max_calls || thread_probe.breaker) {
        b->rejected++;
        uint32_t max = b->config.half_open_max_calls;
        if (max == 1)
            return eg_error_set(err, EG_UNAVAILABLE, "%s store unavailable: circuit half-open, a probe is in flight "
                                "(last: %s)", b->store, b->last_error);
        return eg_error_set(err, EG_UNAVAILABLE, "%s store unavailable: circuit half-open, %u probes are in flight "
                            "(last: %s)", b->store, max, b->last_error);
    }
    b->probes_in_flight++;
    thread_probe.breaker = b;
    thread_probe.period = b->period;
    return EG_OK;
}

/* A rollback only lets go of a transaction: it is never refused (refusing it would keep the store's writer busy)
 * and proves nothing either way about the store, so it is not counted (see breaker.h). */
static bool is_rollback(const char *op) { return strcmp(op, "rollback") == 0; }

/* A begin that succeeded proves nothing about whether the store can serve: counted as a success, it would end the
 * run of failures of every transaction that fails and is begun again. Taken in like a caller error instead. */
static bool is_empty_success(const char *op, eg_status status) { return status == EG_OK && strcmp(op, "begin") == 0; }

static eg_status breaker_before(void *self, const char *store, const char *op, eg_error *err) {
    (void)store;
    eg_breaker *b = self;
    if (atomic_load_explicit(&b->state, memory_order_acquire) == EG_BREAKER_CLOSED || is_rollback(op)) return EG_OK;
    pthread_mutex_lock(&b->mutex);
    eg_status st = admit(b, err);
    pthread_mutex_unlock(&b->mutex);
    return st;
}

/* Takes in how a call ended, mutex held. `probe`: the call was this thread's probe of b. `empty`: a success that
 * counts neither way (is_empty_success). */
static void record(eg_breaker *b, bool probe, eg_status status, bool empty, const eg_error *err) {
    eg_breaker_state state = atomic_load(&b->state);
    bool current = state == EG_BREAKER_CLOSED; /* the result belongs to the state the breaker is in */
    if (probe) {
        b->probes_in_flight--;
        current = state == EG_BREAKER_HALF_OPEN && thread_probe.period == b->period;
        thread_probe.breaker = NULL;
    }
    if (status == EG_OK && !empty) {
        if (probe) atomic_fetch_add(&b->successes, 1); /* (other successes were counted without the lock) */
        if (!current) return;
        atomic_store(&b->consecutive_failures, 0);
        if (state == EG_BREAKER_HALF_OPEN && ++b->half_open_successes >= b->config.success_threshold)
            transition(b, EG_BREAKER_CLOSED, "after %u successful probe%s", b->half_open_successes,
                       b->half_open_successes == 1 ? "" : "s");
        return;
    }
    if (!eg_status_is_store_failure(status)) return;
    b->failures++;
    b->last_failure_ms = eg_now_ms();
    eg_sanitize_message(err && err->message[0] ? err->message : eg_status_name(status), b->last_error,
                        sizeof b->last_error);
    if (!current) return;
    uint64_t in_a_row = atomic_fetch_add(&b->consecutive_failures, 1) + 1;
    uint64_t now = b->now_ns(b->clock_ctx);
    if (state == EG_BREAKER_HALF_OPEN) open_circuit(b, now, "a failed probe");
    else if (in_a_row >= b->config.failure_threshold) {
        char reason[sizeof b->open_reason];
        snprintf(reason, sizeof reason, "%llu consecutive failures", (unsigned long long)in_a_row);
        open_circuit(b, now, reason);
    }
}

static void breaker_after(void *self, const char *store, const char *op, eg_status status, const eg_error *err) {
    (void)store;
    if (is_rollback(op)) return;
    eg_breaker *b = self;
    bool probe = thread_probe.breaker == b, empty = is_empty_success(op, status);
    if (!probe) {
        /* Most calls: a success with no run of failures to end, or a status the breaker ignores. */
        if (empty) return;
        if (status == EG_OK) {
            atomic_fetch_add_explicit(&b->successes, 1, memory_order_relaxed);
            if (atomic_load(&b->consecutive_failures) == 0) return;
        } else if (!eg_status_is_store_failure(status)) return;
    }
    pthread_mutex_lock(&b->mutex);
    record(b, probe, status, empty, err);
    pthread_mutex_unlock(&b->mutex);
}

/* ---- The API -------------------------------------------------------------------------------------------- */

/* Applies the default to a 0 field and checks the range; on a problem fills err naming the field. */
static eg_status check_field(const char *name, uint64_t *value, uint64_t fallback, uint64_t max, eg_error *err) {
    if (*value == 0) *value = fallback;
    if (*value > max)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid breaker config: %s is %llu, must be 1 to %llu "
                            "(0 for the default, %llu)", name, (unsigned long long)*value,
                            (unsigned long long)max, (unsigned long long)fallback);
    return EG_OK;
}

static eg_status apply_defaults(eg_breaker_config *c, eg_error *err) {
    uint64_t failure = c->failure_threshold, success = c->success_threshold, calls = c->half_open_max_calls;
    eg_status st = check_field("failure_threshold", &failure, 5, EG_BREAKER_THRESHOLD_MAX, err);
    if (st == EG_OK) st = check_field("success_threshold", &success, 2, EG_BREAKER_THRESHOLD_MAX, err);
    if (st == EG_OK) st = check_field("reset_timeout_ms", &c->reset_timeout_ms, 60000, EG_BREAKER_RESET_TIMEOUT_MS_MAX,
                                      err);
    if (st == EG_OK) st = check_field("half_open_max_calls", &calls, 1, EG_BREAKER_HALF_OPEN_CALLS_MAX, err);
    c->failure_threshold = (uint32_t)failure;
    c->success_threshold = (uint32_t)success;
    c->half_open_max_calls = (uint32_t)calls;
    return st;
}

static bool valid_store_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > STORE_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)name[i])) return false;
    return true;
}

eg_status eg_breaker_new(const char *store_name, const eg_breaker_config *config, eg_breaker **out, eg_error *err) {
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_breaker_new: out is NULL");
    *out = NULL;
    if (!store_name || !valid_store_name(store_name))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_breaker_new: the store name must be 1 to %d printable "
                            "characters without spaces", STORE_NAME_MAX);
    eg_breaker_config c = config ? *config : (eg_breaker_config){0};
    eg_status st = apply_defaults(&c, err);
    if (st != EG_OK) return st;
    eg_breaker *b = calloc(1, sizeof *b);
    if (!b) return eg_error_set(err, EG_INTERNAL, "out of memory");
    snprintf(b->store, sizeof b->store, "%s", store_name);
    b->config = c;
    b->now_ns = monotonic_clock;
    pthread_mutex_init(&b->mutex, NULL);
    atomic_init(&b->state, EG_BREAKER_CLOSED);
    atomic_init(&b->successes, 0);
    atomic_init(&b->consecutive_failures, 0);
    b->last_transition_ms = eg_now_ms();
    *out = b;
    return EG_OK;
}

void eg_breaker_free(eg_breaker *b) {
    if (!b) return;
    pthread_mutex_destroy(&b->mutex);
    free(b);
}

eg_guard eg_breaker_guard(eg_breaker *b) {
    eg_guard guard = {.before = breaker_before, .after = breaker_after, .self = b};
    return guard;
}

void eg_breaker_set_clock(eg_breaker *b, uint64_t (*now_ns)(void *ctx), void *ctx) {
    pthread_mutex_lock(&b->mutex);
    b->now_ns = now_ns ? now_ns : monotonic_clock;
    b->clock_ctx = now_ns ? ctx : NULL;
    pthread_mutex_unlock(&b->mutex);
}

void eg_breaker_stats_get(eg_breaker *b, eg_breaker_stats *out) {
    pthread_mutex_lock(&b->mutex);
    eg_breaker_state state = atomic_load(&b->state);
    *out = (eg_breaker_stats){
        .state = state,
        .consecutive_failures = atomic_load(&b->consecutive_failures),
        .successes = atomic_load(&b->successes),
        .failures = b->failures,
        .rejected = b->rejected,
        .last_failure_ms = b->last_failure_ms,
        .last_transition_ms = b->last_transition_ms,
        .opened_at_ms = b->opened_at_ms,
        .retry_in_ms = state == EG_BREAKER_OPEN ? retry_in_ms(b, b->now_ns(b->clock_ctx)) : 0,
    };
    memcpy(out->last_error, b->last_error, sizeof out->last_error);
    pthread_mutex_unlock(&b->mutex);
}
