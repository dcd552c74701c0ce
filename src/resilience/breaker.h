/* breaker.h — the circuit breaker: a guard (guard.h) that stops calling a store that keeps failing, so that callers
 * get a fast, clear EG_UNAVAILABLE instead of waiting on a dead store, and the store gets room to recover. The
 * same breaker code guards either store: wrap it with eg_graph_guard or eg_vectors_guard; use one breaker per
 * store.
 *
 * States:
 *     closed     every call runs. failure_threshold store failures in a row open the breaker.
 *     open       every call fails fast with EG_UNAVAILABLE without reaching the store, until reset_timeout_ms
 *                have passed since it opened; the first call after that turns it half-open and is a probe.
 *     half_open  at most half_open_max_calls calls (probes) run at once; the others fail fast with EG_UNAVAILABLE.
 *                success_threshold successful probes close it; one failed probe opens it again, and the reset
 *                timeout starts over.
 *
 * What counts. Only these statuses are store failures: EG_UNAVAILABLE, EG_TIMEOUT and EG_IO (the store cannot
 * serve, is too slow, or its disk failed: what a pause may cure). EG_OK is a success. Everything else leaves the
 * breaker as it was, though the call's status still goes back to its caller unchanged:
 *   - caller errors (eg_status_is_caller_error: EG_INVALID_ARGUMENT, EG_NOT_FOUND, EG_CONFLICT) say the request
 *     was wrong, not that the store is down: they never trip the breaker and never reset the count of failures
 *     in a row (4 failures, a not_found, 1 failure: open). A probe ending in a caller error frees its place for
 *     another probe and counts neither way: it proves that the store answered, but not that it can serve;
 *   - EG_CORRUPT, EG_INTERNAL, EG_LOCKED and EG_INCOMPATIBLE are bugs or damaged data, which no pause cures:
 *     failing fast on them would only hide them.
 * Graph transactions: an open breaker refuses begin, commit and each operation inside a transaction (which fails
 * the transaction: see eg_graph_begin), and their results count like any call's, but for two that prove nothing
 * about the store and would otherwise end every run of failures of a caller that answers a failure by rolling
 * back and beginning again: a successful begin counts neither way (like a caller error), and a rollback is never
 * refused (it is what frees the store's writer) nor counted.
 * A call that started in one state and ends after the breaker left it (a slow call admitted while closed that
 * fails once the breaker is already open; a probe ending after another probe decided) is counted in the totals
 * but changes no state: the breaker already acted on fresher results. A probe is recognised by the thread that
 * runs it (the guarded stores call before and after of one call on one thread), so a thread runs at most one
 * probe at a time: a store operation that itself calls another breaker's half-open store is refused as if that
 * breaker's probes were all in flight.
 *
 * Fail-fast messages name the store, the state, the cause and when the next probe may run:
 *     graph store unavailable: circuit open after 5 consecutive failures (last: injected fault: ...), retrying
 *     in 42 s
 *     graph store unavailable: circuit half-open, a probe is in flight (last: ...)
 * Error messages kept by the breaker (in stats, fail-fast messages and log lines) are sanitised first
 * (util/sanitize.h): no absolute paths, no URI credentials.
 *
 * Each state change is logged once, through config.log, e.g. "graph breaker closed -> open after 5 consecutive
 * failures (last: ...)".
 *
 * Time: the reset timeout is measured on the monotonic clock (eg_monotonic_ns unless eg_breaker_set_clock says
 * otherwise); the *_ms fields of the stats are wall-clock epoch milliseconds (eg_now_ms) for people to read.
 *
 * Threads: the guard may be used by any number of threads at once. A closed breaker admits a call with one atomic
 * load and takes in a success with an atomic increment and an atomic load; only failures, the success that ends a
 * run of failures, and calls made while open or half-open take its lock. eg_breaker_free must wait
 * until no guarded store uses the breaker. */
#ifndef ENGRAM_RESILIENCE_BREAKER_H
#define ENGRAM_RESILIENCE_BREAKER_H

#include "resilience/guard.h"

#include <engram/status.h>
#include <stdint.h>

typedef struct eg_breaker eg_breaker;

/* Limits of the configuration (after defaults apply). */
#define EG_BREAKER_THRESHOLD_MAX 1000000u       /* failure_threshold, success_threshold: 1 .. this */
#define EG_BREAKER_RESET_TIMEOUT_MS_MAX 86400000u /* reset_timeout_ms: 1 .. this (a day) */
#define EG_BREAKER_HALF_OPEN_CALLS_MAX 1000u    /* half_open_max_calls: 1 .. this */

/* Every field 0 (or NULL) means its default. */
typedef struct eg_breaker_config {
    uint32_t failure_threshold;   /* store failures in a row that open a closed breaker; default 5 */
    uint32_t success_threshold;   /* successful probes that close a half-open breaker; default 2 */
    uint64_t reset_timeout_ms;    /* how long an open breaker fails fast before it probes; default 60000 */
    uint32_t half_open_max_calls; /* probes running at once while half-open; default 1 */
    /* Called once per state change with one line (no prefix, no newline), while the breaker's lock is held so
     * that lines come in the order of the changes: it must return quickly and must not call this breaker.
     * NULL: the line goes to stderr as "engram: LINE\n". */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} eg_breaker_config;

typedef enum eg_breaker_state { EG_BREAKER_CLOSED, EG_BREAKER_OPEN, EG_BREAKER_HALF_OPEN } eg_breaker_state;

/* "closed", "open", "half_open" ("unknown" for any other value). */
const char *eg_breaker_state_name(eg_breaker_state state);

typedef struct eg_breaker_stats {
    eg_breaker_state state;
    uint64_t consecutive_failures; /* store failures in a row (the last run, kept while open; a success ends it) */
    uint64_t successes;            /* calls that ran and succeeded, in every state */
    uint64_t failures;             /* calls that ran and ended in a store failure, in every state */
    uint64_t rejected;             /* calls failed fast without reaching the store */
    int64_t last_failure_ms;       /* epoch ms of the last store failure; 0: none yet */
    int64_t last_transition_ms;    /* epoch ms of the last state change (of creation before any) */
    int64_t opened_at_ms;          /* epoch ms when the breaker last opened; 0: never */
    uint64_t retry_in_ms;          /* open: how long until a call may probe (0 when it may now); else 0 */
    char last_error[256];          /* the last store failure's message, sanitised ("" before any) */
} eg_breaker_stats;

/* A new closed breaker for the store named store_name ("graph" or "vectors": 1 to 31 printable characters, used in
 * messages and log lines). config NULL means every default. A field out of its range (after defaults) is
 * EG_INVALID_ARGUMENT naming the field and the range; a NULL or bad name or out is EG_INVALID_ARGUMENT too. */
eg_status eg_breaker_new(const char *store_name, const eg_breaker_config *config, eg_breaker **out, eg_error *err);

/* Frees b (NULL is ignored). */
void eg_breaker_free(eg_breaker *b);

/* The guard applying b (for eg_graph_guard / eg_vectors_guard); b must outlive every store it guards. */
eg_guard eg_breaker_guard(eg_breaker *b);

/* Replaces the monotonic clock: now_ns(ctx) returns nanoseconds that never go backwards. For tests, which script
 * time instead of sleeping; call it before the breaker is used. now_ns NULL restores eg_monotonic_ns. */
void eg_breaker_set_clock(eg_breaker *b, uint64_t (*now_ns)(void *ctx), void *ctx);

/* A consistent snapshot of b's state and counters. */
void eg_breaker_stats_get(eg_breaker *b, eg_breaker_stats *out);

#endif
