/* saga.c — the saga engine: opening, running one saga, the log records of its progress, compensation with
 * retries, and checkpoints (see saga.h; recovery is in recovery.c, dead letters in dead_letters.c).
 *
 * A saga is pinned (id -> its intent's LSN) from just before its intent is appended until its end is logged, so
 * a checkpoint in another thread never drops the records recovery would need. The pin is taken with the log's
 * next LSN as a lower bound of the intent's, under the same mutex a checkpoint reads the pins with, so no
 * interleaving can let a checkpoint pass an intent being appended. */
#include "saga/saga_internal.h"

#include "util/clock.h"
#include "util/files.h"
#include "util/json_text.h"

#include <engram/vectors.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_STEP_TIMEOUT_MS 60000u
#define DEFAULT_ATTEMPTS 3u
#define FIRST_PAUSE_MS 10u
#define LONGEST_PAUSE_MS 1000u

/* ---- Ids ---------------------------------------------------------------------------------------------------- */

/* A saga id is a UUID v4 in canonical text, drawn by the point id generator so that engram has one. */
_Static_assert(EG_SAGA_ID_TEXT == EG_POINT_ID_TEXT, "a saga id is written as a UUID point id");

static eg_status new_saga_id(char out[EG_SAGA_ID_TEXT], eg_error *err) {
    eg_point_id id;
    eg_status st = eg_point_id_random(&id, err);
    if (st != EG_OK) return eg_error_prefix(err, st, "saga id: ");
    eg_point_id_format(&id, out);
    return EG_OK;
}

bool eg_saga_id_valid(const char *id) {
    if (!id || strlen(id) != EG_SAGA_ID_TEXT - 1) return false;
    for (size_t i = 0; i < EG_SAGA_ID_TEXT - 1; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = id[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

/* ---- Pins --------------------------------------------------------------------------------------------------- */

eg_status eg_saga_pin_add(eg_saga_engine *e, const char *id, eg_error *err) {
    pthread_mutex_lock(&e->mutex);
    if (e->pin_count == e->pin_cap) {
        size_t cap = e->pin_cap ? e->pin_cap * 2 : 16;
        eg_saga_pin *bigger = realloc(e->pins, cap * sizeof *bigger);
        if (!bigger) {
            pthread_mutex_unlock(&e->mutex);
            return eg_error_set(err, EG_INTERNAL, "out of memory tracking running sagas");
        }
        e->pins = bigger;
        e->pin_cap = cap;
    }
    eg_saga_pin *pin = &e->pins[e->pin_count++];
    memcpy(pin->id, id, EG_SAGA_ID_TEXT);
    pin->lsn = eg_wal_next_lsn(e->wal);
    pthread_mutex_unlock(&e->mutex);
    return EG_OK;
}

void eg_saga_pin_set(eg_saga_engine *e, const char *id, uint64_t lsn) {
    pthread_mutex_lock(&e->mutex);
    for (size_t i = 0; i < e->pin_count; i++)
        if (strcmp(e->pins[i].id, id) == 0) e->pins[i].lsn = lsn;
    pthread_mutex_unlock(&e->mutex);
}

void eg_saga_pin_drop(eg_saga_engine *e, const char *id) {
    pthread_mutex_lock(&e->mutex);
    for (size_t i = 0; i < e->pin_count; i++)
        if (strcmp(e->pins[i].id, id) == 0) {
            e->pins[i] = e->pins[--e->pin_count];
            break;
        }
    pthread_mutex_unlock(&e->mutex);
}

/* ---- Log records -------------------------------------------------------------------------------------------- */

/* Appends one record unless the log already failed for this saga; a failure is kept in p and stops logging.
 * Only a record that decides what the caller is told waits for the disk (`durable`); the others are written
 * without waiting and made durable by the next durable record — losing them in a crash only makes recovery redo
 * an idempotent action. */
static void log_record(eg_saga_engine *e, eg_saga_progress *p, uint8_t type, json_t *payload, bool durable) {
    if (p->log_broken) {
        json_decref(payload);
        return;
    }
    char *text = payload ? eg_json_text(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    eg_status st = !text ? eg_error_set(&p->unended_err, EG_INTERNAL, "out of memory encoding a saga log record")
                   : durable ? eg_wal_append(e->wal, type, text, strlen(text), NULL, &p->unended_err)
                             : eg_wal_append_deferred(e->wal, type, text, strlen(text), NULL, &p->unended_err);
    free(text);
    if (st != EG_OK) {
        p->log_broken = true;
        p->unended_status = st;
    }
}

/* The point-of-no-return step is durable before the saga goes on: from then on a crash finishes the saga, so
 * once it is on disk the commit is. */
static void log_step(eg_saga_engine *e, eg_saga_progress *p, size_t step) {
    log_record(e, p, EG_SAGA_STEP, json_pack("{s:s, s:I}", "saga", p->id, "step", (json_int_t)step),
               step == p->type->point_of_no_return);
    if (!p->log_broken) p->logged = step + 1;
}

static const char *const outcome_names[] = {"committed", "compensated", "failed"};

/* Logs the end and, once it is in the log, unpins the saga. The end must be durable only for a commit without a
 * point of no return: a lost "compensated" or "failed" end makes recovery compensate again (idempotently, the
 * dead letter already written), and a saga past its point of no return is finished by recovery anyway. */
static void log_end(eg_saga_engine *e, eg_saga_progress *p, eg_saga_outcome outcome) {
    bool decides = outcome == EG_SAGA_COMMITTED && p->type->point_of_no_return >= p->type->step_count;
    log_record(e, p, EG_SAGA_END, json_pack("{s:s, s:s}", "saga", p->id, "outcome", outcome_names[outcome]),
               decides);
    if (!p->log_broken) eg_saga_pin_drop(e, p->id);
}

/* ---- Actions ------------------------------------------------------------------------------------------------ */

static void pause_ms(uint64_t ms) {
    struct timespec t = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* One call of an action, named in its error. A forward action that returns EG_OK after the step timeout counts
 * as timed out: the saga's time budget is spent either way, and, like any timed-out step, it is compensated. */
static eg_status call_action(eg_saga_engine *e, const eg_saga_progress *p, size_t step, bool forward,
                             eg_error *err) {
    const eg_saga_step *s = &p->type->steps[step];
    eg_error_clear(err);
    uint64_t started = eg_monotonic_ns();
    eg_status st = (forward ? s->forward : s->compensate)(e->env, p->args, p->input, err);
    uint64_t took = eg_monotonic_ns() - started;
    if (st == EG_OK && forward && took > e->step_timeout_ns)
        st = eg_error_set(err, EG_TIMEOUT, "took %llu ms, longer than the step timeout of %llu ms",
                          (unsigned long long)(took / 1000000u), (unsigned long long)(e->step_timeout_ns / 1000000u));
    else if (st != EG_OK && !err->message[0]) /* an action that did not say why */
        eg_error_set(err, st, "failed with %s", eg_status_name(st));
    return eg_error_prefix(err, st, "%s of step \"%s\": ", forward ? "forward action" : "compensation", s->name);
}

/* Calls an action until it succeeds or the attempts run out, pausing 10 ms, then 100 ms, then 1 s between. */
static eg_status call_with_retries(eg_saga_engine *e, const eg_saga_progress *p, size_t step, bool forward,
                                   eg_error *err) {
    uint64_t pause = FIRST_PAUSE_MS;
    for (unsigned attempt = 1;; attempt++) {
        eg_status st = call_action(e, p, step, forward, err);
        if (st == EG_OK || attempt >= e->compensation_attempts) return st;
        pause_ms(pause);
        pause = pause * 10 > LONGEST_PAUSE_MS ? LONGEST_PAUSE_MS : pause * 10;
    }
}

static void set_cause(eg_saga_progress *p, size_t step, eg_status st, const eg_error *why) {
    if (p->cause != EG_OK) return;
    p->cause = st;
    p->cause_err = *why;
    p->failed_step = step;
}

/* ---- Driving a saga ----------------------------------------------------------------------------------------- */

/* Ends a saga that could not be brought back or forward: the dead letter first, so that a crash before the end
 * record leaves the saga unfinished (recovery tries again) rather than failed without a report. */
static eg_saga_outcome end_failed(eg_saga_engine *e, eg_saga_progress *p, json_t *compensation_errors) {
    eg_saga_outcome outcome = EG_SAGA_FAILED;
    if (!p->log_broken) {
        eg_status st = eg_saga_dead_letter_write(e, p, compensation_errors, &p->unended_err);
        if (st == EG_OK) {
            log_end(e, p, EG_SAGA_FAILED);
        } else { /* the saga stays pinned and unfinished in the log: the next open tries it again */
            p->log_broken = true;
            p->unended_status = st;
            outcome = EG_SAGA_UNFINISHED;
        }
    } else {
        /* The log is out of reach, so recovery will redo this saga; the report is still worth leaving. */
        eg_error ignored;
        if (eg_saga_dead_letter_write(e, p, compensation_errors, &ignored) != EG_OK) outcome = EG_SAGA_UNFINISHED;
    }
    json_decref(compensation_errors);
    return outcome;
}

eg_saga_outcome eg_saga_undo(eg_saga_engine *e, eg_saga_progress *p, size_t count) {
    json_t *errors = json_array();
    for (size_t i = count; i-- > 0;) {
        eg_error why;
        eg_status st = call_with_retries(e, p, i, false, &why);
        if (st != EG_OK)
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "step", p->type->steps[i].name, "code",
                                                    eg_status_name(st), "message", why.message));
    }
    if (json_array_size(errors) > 0) return end_failed(e, p, errors);
    json_decref(errors);
    log_end(e, p, EG_SAGA_COMPENSATED);
    return EG_SAGA_COMPENSATED;
}

eg_saga_outcome eg_saga_drive(eg_saga_engine *e, eg_saga_progress *p, size_t from) {
    const eg_saga_type *t = p->type;
    for (size_t i = from; i < t->step_count; i++) {
        eg_error why;
        /* Past the point of no return there is no way back: a failing step is retried like a compensation. */
        eg_status st = p->past_no_return ? call_with_retries(e, p, i, true, &why) : call_action(e, p, i, true, &why);
        if (st != EG_OK) {
            set_cause(p, i, st, &why);
            if (p->past_no_return) return end_failed(e, p, json_array());
            return eg_saga_undo(e, p, i + 1); /* the failing step may have taken effect */
        }
        log_step(e, p, i);
        if (!p->log_broken && i == t->point_of_no_return) p->past_no_return = true;
        if (p->log_broken && !p->past_no_return) {
            /* Recovery would compensate from the last logged step; do it now, while the stores are at hand. */
            set_cause(p, i, p->unended_status, &p->unended_err);
            return eg_saga_undo(e, p, i + 1);
        }
    }
    log_end(e, p, EG_SAGA_COMMITTED);
    if (p->log_broken && !p->past_no_return) {
        /* Unended and not past the point of no return, the saga would be compensated by recovery: undo it now
         * rather than report a commit the log does not hold. */
        set_cause(p, t->step_count ? t->step_count - 1 : 0, p->unended_status, &p->unended_err);
        return eg_saga_undo(e, p, t->step_count);
    }
    return EG_SAGA_COMMITTED;
}

/* ---- The engine --------------------------------------------------------------------------------------------- */

static eg_status check_types(const eg_saga_type *types, size_t count, eg_error *err) {
    for (size_t i = 0; i < count; i++) {
        const eg_saga_type *t = &types[i];
        if (!t->name || !t->name[0] || (t->step_count && !t->steps))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "saga type %zu has no name or no steps", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(types[j].name, t->name) == 0)
                return eg_error_set(err, EG_INVALID_ARGUMENT, "saga type \"%s\" is listed twice", t->name);
        for (size_t s = 0; s < t->step_count; s++)
            if (!t->steps[s].name || !t->steps[s].forward || !t->steps[s].compensate)
                return eg_error_set(err, EG_INVALID_ARGUMENT,
                                    "saga type \"%s\": step %zu lacks a name, a forward action or a compensation",
                                    t->name, s);
    }
    return EG_OK;
}

eg_status eg_saga_engine_open(eg_wal *wal, const char *dead_letter_dir, void *env, const eg_saga_type *types,
                              size_t type_count, const eg_saga_options *options, eg_saga_recovery_report *report,
                              eg_saga_engine **out, eg_error *err) {
    if (report) memset(report, 0, sizeof *report);
    if (!wal || !dead_letter_dir || !out || (type_count && !types))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "saga engine: a log, a dead-letter folder and an output are "
                                                      "required");
    eg_status st = check_types(types, type_count, err);
    if (st != EG_OK) return st;
    st = eg_mkdir(dead_letter_dir, "the saga dead-letter folder", err);
    if (st != EG_OK) return st;
    eg_saga_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->dead_letter_dir = strdup(dead_letter_dir))) {
        free(e);
        return eg_error_set(err, EG_INTERNAL, "out of memory opening the saga engine");
    }
    e->wal = wal;
    e->env = env;
    e->types = types;
    e->type_count = type_count;
    uint64_t timeout_ms = options && options->step_timeout_ms ? options->step_timeout_ms : DEFAULT_STEP_TIMEOUT_MS;
    e->step_timeout_ns = timeout_ms > UINT64_MAX / 1000000u ? UINT64_MAX : timeout_ms * 1000000u;
    e->compensation_attempts =
        options && options->compensation_attempts ? options->compensation_attempts : DEFAULT_ATTEMPTS;
    pthread_mutex_init(&e->mutex, NULL);
    st = eg_saga_recover(e, report, err);
    if (st != EG_OK) {
        eg_saga_engine_close(e);
        return st;
    }
    *out = e;
    return EG_OK;
}

void eg_saga_engine_close(eg_saga_engine *e) {
    if (!e) return;
    pthread_mutex_destroy(&e->mutex);
    free(e->pins);
    free(e->dead_letter_dir);
    free(e);
}

void eg_saga_outcome_counts(eg_saga_engine *e, uint64_t counts[EG_SAGA_OUTCOME_COUNT]) {
    for (int i = 0; i < EG_SAGA_OUTCOME_COUNT; i++) counts[i] = atomic_load(&e->outcomes[i]);
}

static const eg_saga_type *registered(const eg_saga_engine *e, const eg_saga_type *type) {
    for (size_t i = 0; i < e->type_count; i++)
        if (&e->types[i] == type || strcmp(e->types[i].name, type->name) == 0) return &e->types[i];
    return NULL;
}

eg_status eg_saga_run(eg_saga_engine *e, const eg_saga_type *type, json_t *args, void *input, eg_saga_outcome *outcome,
                      char saga_id[EG_SAGA_ID_TEXT], eg_error *err) {
    if (!e || !type || !type->name || !json_is_object(args))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "a saga needs an engine, a type and an object of arguments");
    eg_saga_progress p = {.type = registered(e, type), .args = args, .input = input};
    if (!p.type)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "saga type \"%s\" was not given to the engine at open",
                            type->name);
    eg_status st = new_saga_id(p.id, err);
    if (st != EG_OK) return st;
    if (saga_id) memcpy(saga_id, p.id, EG_SAGA_ID_TEXT);
    st = eg_saga_pin_add(e, p.id, err);
    if (st != EG_OK) return st;
    json_t *intent = json_pack("{s:s, s:s, s:O}", "saga", p.id, "type", p.type->name, "args", args);
    char *text = intent ? eg_json_text(intent, JSON_COMPACT) : NULL;
    json_decref(intent);
    uint64_t lsn = 0;
    st = text ? eg_wal_append(e->wal, EG_SAGA_INTENT, text, strlen(text), &lsn, err)
              : eg_error_set(err, EG_INTERNAL, "out of memory encoding a saga intent");
    free(text);
    if (st != EG_OK) {
        eg_saga_pin_drop(e, p.id);
        return st;
    }
    eg_saga_pin_set(e, p.id, lsn);
    eg_saga_outcome result = eg_saga_drive(e, &p, 0);
    atomic_fetch_add(&e->outcomes[result], 1);
    if (outcome) *outcome = result;
    if (result != EG_SAGA_COMMITTED) {
        if (err) *err = p.cause_err;
        return p.cause;
    }
    if (p.unended_status != EG_OK) {
        if (err) *err = p.unended_err;
        return p.unended_status;
    }
    return EG_OK;
}

eg_status eg_saga_checkpoint_keeping(eg_saga_engine *e, uint64_t also_needed, eg_error *err) {
    if (!e) return eg_error_set(err, EG_INVALID_ARGUMENT, "no saga engine");
    pthread_mutex_lock(&e->mutex);
    uint64_t keep = eg_wal_next_lsn(e->wal);
    for (size_t i = 0; i < e->pin_count; i++)
        if (e->pins[i].lsn < keep) keep = e->pins[i].lsn;
    pthread_mutex_unlock(&e->mutex);
    if (also_needed < keep) keep = also_needed;
    return eg_wal_checkpoint(e->wal, keep, err);
}

eg_status eg_saga_checkpoint(eg_saga_engine *e, eg_error *err) { return eg_saga_checkpoint_keeping(e, UINT64_MAX, err); }
