/* faults.h — fault injection: rules that make chosen store operations fail, slow down or kill the process, so that
 * tests (and an operator rehearsing an outage) can see how the layers above a store behave when it misbehaves.
 * The rules act through a guard (guard.h) wrapped around a store; they change nothing else.
 *
 * Rules text: rules separated by ';', each
 *     STORE.OP=EFFECT
 * STORE is `graph` or `vectors`; OP is an operation of that store (a field name of eg_graph_ops / eg_vectors_ops
 * other than close, e.g. `create_node`, `upsert`, `delete_points`) or `*` for all of them. Whitespace around the
 * parts is ignored, and so are empty rules (";;", a trailing ';'); empty text means no rules. EFFECT is one of
 *     fail               every matching call fails with EG_UNAVAILABLE ("injected fault: vectors.upsert=fail")
 *     fail_rate:P[:SEED] each matching call fails with probability P in [0, 1], drawn from a pseudo-random
 *                        sequence of the rule's own seeded by SEED (an unsigned 64-bit integer, default 1): the
 *                        same rules and the same calls in the same order fail alike from run to run
 *     fail_after:N       the first N matching calls run, every later one fails
 *     fail_times:N       the first N matching calls fail, every later one runs (a transient outage: what a
 *                        compensation retried after the failure it undoes meets)
 *     delay_ms:N         each matching call sleeps N milliseconds (at most 3600000), then runs
 *     kill_at:N          N >= 1: the process kills itself with SIGKILL just before the Nth matching call would run
 *                        (nothing is flushed or cleaned up: a crash at that exact point)
 * Numbers are plain decimal (P may be a decimal fraction); nothing may follow them.
 * Graph transactions: `graph.begin`, `graph.commit` and the operations inside a transaction can be failed (a failed
 * commit rolls the transaction back; a failed write inside one makes its commit refuse); `graph.rollback` can be
 * delayed or killed at but not failed: a rollback cannot fail (see guard.h).
 *
 * A call matched by several rules gets all of them, in the order written: each rule counts it, delays sleep and
 * kills fire even when an earlier rule already failed the call; the first rule that fails it names the error.
 * Counters (calls seen, the fail_rate sequence) belong to a rule and restart when the rules are replaced.
 *
 * Faults are a test tool: whatever opens stores should install rules only when eg_faults_allowed(), so that a
 * stray setting in production cannot break a store.
 *
 * Threads: the guard may be used by many threads at once while eg_faults_set replaces the rules; each call sees
 * the old rules or the new ones, whole. With no rules a call costs one atomic load. eg_faults_free must wait until
 * no guarded store uses f. */
#ifndef ENGRAM_RESILIENCE_FAULTS_H
#define ENGRAM_RESILIENCE_FAULTS_H

#include "resilience/guard.h"

#include <engram/status.h>
#include <stdbool.h>

typedef struct eg_faults eg_faults;

/* New fault rules from text (NULL or "" for none). A bad rule is EG_INVALID_ARGUMENT naming the rule and what is
 * wrong with it (unknown store, operation or effect, a bad or out-of-range number). */
eg_status eg_faults_new(const char *rules, eg_faults **out, eg_error *err);

/* Replaces the rules at run time, atomically; counters restart. On bad text (EG_INVALID_ARGUMENT, as above) the
 * rules in force stay as they were. */
eg_status eg_faults_set(eg_faults *f, const char *rules, eg_error *err);

/* The guard applying f's rules (for eg_graph_guard / eg_vectors_guard); f must outlive every store it guards. */
eg_guard eg_faults_guard(eg_faults *f);

/* Frees f (NULL is ignored). */
void eg_faults_free(eg_faults *f);

/* True only when the environment variable ENGRAM_ALLOW_FAULTS is exactly "1". */
bool eg_faults_allowed(void);

#endif
