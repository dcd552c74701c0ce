/* saga.h — sagas made durable by the write-ahead log: a named, ordered list of steps, each a forward action and
 * a compensating one, over stores that share no transaction. Either every step takes effect, or the steps that
 * ran (or may have run) are undone in reverse — also when the process dies part way, since the saga's intent
 * and progress are in the WAL before and as the steps touch the stores.
 *
 * Log records (eg_wal record types, payloads compact JSON):
 *   EG_SAGA_INTENT  {"saga": id, "type": name, "args": {...}}    before the first step runs
 *   EG_SAGA_STEP    {"saga": id, "step": i}                      after step i's forward action succeeded
 *   EG_SAGA_END     {"saga": id, "outcome": "committed"|"compensated"|"failed"}
 * Only the records that decide what a caller is told wait for the disk (in the log's GROUP and FSYNC modes): the
 * intent, before the first step touches a store; the point-of-no-return step, which commits the saga; and the end
 * of a committed saga that has no point of no return. The others are written without waiting
 * (eg_wal_append_deferred) and become durable with the next durable record: losing them in a crash only makes
 * recovery redo idempotent actions. So a saga costs two waited syncs, shared with concurrent sagas in GROUP mode.
 * `args` holds everything the steps and their compensations need (ids, vectors, pre-images for deletes and
 * updates): the caller captures pre-images before calling eg_saga_run, so a saga never has to read what a
 * crash may have changed.
 *
 * Running a saga: steps run in order, on the caller's thread. A step whose forward action fails — or returns
 * EG_TIMEOUT, or returns after more than step_timeout_ms on a monotonic clock (actions are never interrupted, so
 * they must bound their own calls) — may have taken effect, so it is compensated along with the steps before it,
 * in reverse order. Compensations must be idempotent (delete-if-exists, restore-if-missing); each is retried a
 * bounded number of times, and a step whose compensation still fails does not stop the earlier steps' from
 * running. When one still fails, the saga ends "failed", its dead letter written before its end is logged: a
 * durable report (saga id, type, failed step, the original error, each compensation error) kept until resolved.
 * Once the point-of-no-return step is logged there is no way back, in a live run as in recovery: a later forward
 * action that fails is retried like a compensation, and if it still fails the saga ends "failed" with a dead
 * letter (no compensation errors).
 * The log failing after the intent (an append is refused) stops the logging, not the saga: one not yet past the
 * point of no return is compensated at once (as recovery would do it), one past it runs its remaining steps;
 * either way its end stays out of the log, the saga stays pinned against checkpoints, and the next open
 * finishes it again, idempotently. The same holds when a dead letter cannot be written.
 *
 * Recovery (at open, before any new saga runs): every saga with an intent and no end is finished. One that had
 * completed its point-of-no-return step is rolled forward (its remaining forward actions re-run, which must
 * therefore be idempotent too); any other is compensated from its point of no return (its last step when it has
 * none), or from the step after its last logged one when that is later: step records before the point of no return
 * are not synced, so after a power cut the log can lack steps whose store writes survived. Recovery logs the steps and ends it runs as a live run does, and removes a
 * dead letter left by an earlier attempt whose end never reached the log when it now ends well. Records of other
 * types (the log is shared) are skipped, and step or end records whose intent lies before the checkpoint are
 * ignored (those sagas ended before it); a saga record that does not parse is EG_CORRUPT. A saga compensated by
 * recovery has, as its original error, "unavailable" with a message starting "interrupted:". The report says
 * what was done.
 *
 * Checkpoints: eg_saga_checkpoint lets the WAL drop every segment no unfinished saga needs.
 *
 * Threads: eg_saga_run, eg_saga_dead_letters, eg_saga_resolve and eg_saga_checkpoint may be called from many
 * threads at once (the actions of different sagas then run concurrently); open and close may not. */
#ifndef ENGRAM_SAGA_H
#define ENGRAM_SAGA_H

#include "wal/wal.h"

#include <engram/status.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { EG_SAGA_INTENT = 1, EG_SAGA_STEP = 2, EG_SAGA_END = 3 };

#define EG_SAGA_ID_TEXT 37 /* a UUID v4 in canonical text, plus NUL */

/* A step's actions. env is the engine's (the stores), args the saga's arguments as logged, input what the live
 * caller passed to eg_saga_run beside them (inputs the forward actions need but recovery never does, such as a
 * new memory's vector: keeping them out of the log keeps intents small). input is NULL in recovery, where only
 * compensations and the forward actions past a point of no return run: those must work from args alone. */
typedef eg_status (*eg_saga_action)(void *env, json_t *args, void *input, eg_error *err);

typedef struct eg_saga_step {
    const char *name;
    eg_saga_action forward;
    eg_saga_action compensate; /* idempotent */
} eg_saga_step;

typedef struct eg_saga_type {
    const char *name; /* unique among the engine's types; logged in the intent */
    const eg_saga_step *steps;
    size_t step_count;
    /* Once step point_of_no_return (an index) has been logged complete, the saga only goes forward: a live run
     * retries a failing later step, recovery rolls it forward, neither compensates. step_count (or more): never. */
    size_t point_of_no_return;
} eg_saga_type;

typedef struct eg_saga_options {
    uint64_t step_timeout_ms;       /* 0: 60000 */
    /* 0: 3. Pauses between attempts: 10 ms, then 100 ms, then 1 s for each further one. Also bounds the attempts
     * at a forward action past the point of no return. */
    unsigned compensation_attempts;
} eg_saga_options;

/* What recovery at open did. */
typedef struct eg_saga_recovery_report {
    uint64_t unfinished;   /* sagas found with no end record */
    uint64_t compensated;
    uint64_t rolled_forward;
    uint64_t failed;       /* compensation or roll-forward failed: each has a dead letter */
} eg_saga_recovery_report;

/* FAILED: could not be undone (or rolled forward); its dead letter holds the report. UNFINISHED: the same, but
 * neither the dead letter nor the end could be written (a full disk): the saga stays unfinished in the log and
 * the next open undoes it. */
typedef enum eg_saga_outcome {
    EG_SAGA_COMMITTED = 0,
    EG_SAGA_COMPENSATED,
    EG_SAGA_FAILED,
    EG_SAGA_UNFINISHED,
    EG_SAGA_OUTCOME_COUNT
} eg_saga_outcome;

typedef struct eg_saga_engine eg_saga_engine;

/* Opens the engine over an open WAL (borrowed; it must outlive the engine), recovering unfinished sagas.
 * dead_letter_dir holds one JSON file per unresolved dead letter (created if needed). types (borrowed) lists every
 * saga type that may appear in the log: an intent of an unknown type is EG_CORRUPT. options and report may be
 * NULL. When recovery cannot log an end or write a dead letter, open fails with that error (the WAL's or the
 * dead-letter folder's) and the saga stays unfinished for the next open. */
eg_status eg_saga_engine_open(eg_wal *wal, const char *dead_letter_dir, void *env, const eg_saga_type *types,
                              size_t type_count, const eg_saga_options *options, eg_saga_recovery_report *report,
                              eg_saga_engine **out, eg_error *err);

/* Runs one saga of `type` (one of the engine's types, by address or name: otherwise EG_INVALID_ARGUMENT) with args
 * (a JSON object, borrowed; logged as given) and input (borrowed, passed to the actions, never logged). Returns EG_OK when it committed; otherwise the first forward
 * action's error (err), after compensation. *outcome (may be NULL) tells which; saga_id (may be NULL) receives the
 * saga's id, a random UUID v4. A WAL failure before the first step is returned as is, nothing having run; one
 * after it (see "Running a saga") is returned in place of the forward action's error it interrupted, and in place
 * of EG_OK when the saga went through past its point of no return (*outcome EG_SAGA_COMMITTED). */
eg_status eg_saga_run(eg_saga_engine *e, const eg_saga_type *type, json_t *args, void *input, eg_saga_outcome *outcome,
                      char saga_id[EG_SAGA_ID_TEXT], eg_error *err);

/* How many sagas eg_saga_run has run since the engine was opened, by outcome (indexed by eg_saga_outcome;
 * recovery's are in its report instead). Safe to call while sagas run: each count is read atomically. */
void eg_saga_outcome_counts(eg_saga_engine *e, uint64_t counts[EG_SAGA_OUTCOME_COUNT]);

/* The unresolved dead letters, oldest first, as a JSON array of reports (a new reference):
 *   {"saga", "type", "failed_step", "error": {code, message}, "compensation_errors": [{step, code, message}],
 *    "at_ms", "args"}
 * args are the saga's logged arguments, so that a repair can finish the work from the pre-images they hold.
 * failed_step and step are step names, code a status name (eg_status_name), at_ms epoch milliseconds. Each is the
 * file <dead_letter_dir>/<saga id>.json, written atomically; a file there that does not parse is EG_CORRUPT. */
eg_status eg_saga_dead_letters(eg_saga_engine *e, json_t **out, eg_error *err);
/* Marks a dead letter resolved (an operator fixed the stores): its file is removed and the folder synced.
 * EG_NOT_FOUND if there is none with that id; EG_INVALID_ARGUMENT if saga_id is not a canonical lower-case UUID. */
eg_status eg_saga_resolve(eg_saga_engine *e, const char *saga_id, eg_error *err);

/* Checkpoints the WAL at the oldest intent of a saga whose end is not logged — running, or stopped by a log
 * failure (see "Running a saga") — or at the next LSN when there is none. */
eg_status eg_saga_checkpoint(eg_saga_engine *e, eg_error *err);
/* The same, keeping also every record from LSN also_needed on (the log's other users' oldest record still
 * needed, such as a queued write's; UINT64_MAX: none). */
eg_status eg_saga_checkpoint_keeping(eg_saga_engine *e, uint64_t also_needed, eg_error *err);

/* Frees the engine (not the WAL). Sagas must not be running. NULL is ignored. */
void eg_saga_engine_close(eg_saga_engine *e);

#endif
