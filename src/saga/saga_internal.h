/* saga_internal.h — the engine's state and the pieces shared by running (saga.c), recovery (recovery.c) and dead
 * letters (dead_letters.c). A saga in flight, live or recovered, is a saga_progress driven by eg_saga_drive. */
#ifndef ENGRAM_SAGA_INTERNAL_H
#define ENGRAM_SAGA_INTERNAL_H

#include "saga/saga.h"

#include <pthread.h>
#include <stdatomic.h>

/* A saga whose end is not in the log: its intent's LSN (or a lower bound, while the intent is being appended)
 * must survive checkpoints. */
typedef struct eg_saga_pin {
    char id[EG_SAGA_ID_TEXT];
    uint64_t lsn;
} eg_saga_pin;

struct eg_saga_engine {
    eg_wal *wal;
    char *dead_letter_dir;
    void *env;
    const eg_saga_type *types;
    size_t type_count;
    uint64_t step_timeout_ns;
    unsigned compensation_attempts;
    pthread_mutex_t mutex; /* guards pins */
    eg_saga_pin *pins;
    size_t pin_count, pin_cap;
    atomic_uint_fast64_t outcomes[EG_SAGA_OUTCOME_COUNT]; /* eg_saga_run's sagas by outcome, since open */
};

/* One saga being driven to its end. */
typedef struct eg_saga_progress {
    const eg_saga_type *type;
    json_t *args;
    void *input;            /* the live caller's, NULL in recovery */
    char id[EG_SAGA_ID_TEXT];
    size_t logged;          /* steps whose completion is in the log */
    bool past_no_return;    /* step point_of_no_return is logged complete: only forward from here */
    bool log_broken;        /* the end cannot be logged (see unended_status): the pin stays for the next open */
    eg_status cause;        /* the first forward error (or WAL failure) that turned the saga back; EG_OK if none */
    eg_error cause_err;
    size_t failed_step;     /* the step that cause belongs to */
    /* Why the saga's end is not logged: the first append that failed after the intent, or a dead letter that
     * could not be written (the end "failed" is never logged without its report). EG_OK if none. */
    eg_status unended_status;
    eg_error unended_err;
} eg_saga_progress;

/* Runs the steps from `from` on (rolling forward with retries once past the point of no return), compensating
 * when a step fails before it, and logs the end. Returns the outcome. */
eg_saga_outcome eg_saga_drive(eg_saga_engine *e, eg_saga_progress *p, size_t from);

/* Compensates steps top..0 (retrying each), then ends the saga: compensated, or failed with a dead letter. */
eg_saga_outcome eg_saga_undo(eg_saga_engine *e, eg_saga_progress *p, size_t top);

/* Pins: taken before the intent is appended, dropped once the end is logged. */
eg_status eg_saga_pin_add(eg_saga_engine *e, const char *id, eg_error *err);
void eg_saga_pin_set(eg_saga_engine *e, const char *id, uint64_t lsn);
void eg_saga_pin_drop(eg_saga_engine *e, const char *id);

/* Reads the log from its checkpoint and finishes every saga with no end (recovery.c). */
eg_status eg_saga_recover(eg_saga_engine *e, eg_saga_recovery_report *report, eg_error *err);

/* Dead letters (dead_letters.c). */
eg_status eg_saga_dead_letter_write(eg_saga_engine *e, const eg_saga_progress *p, json_t *compensation_errors,
                                    eg_error *err);
/* Removes a stale dead letter of a saga that has now ended well (recovery re-ran what had failed). */
eg_status eg_saga_dead_letter_clear(eg_saga_engine *e, const char *saga_id, eg_error *err);

/* A saga id is 36 characters of a canonical UUID: hex digits and dashes at 8, 13, 18, 23. */
bool eg_saga_id_valid(const char *id);

#endif
