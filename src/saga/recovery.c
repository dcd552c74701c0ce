/* recovery.c — finishing, at open, the sagas the log shows started and never ended (see saga.h, "Recovery").
 *
 * The log is read from its checkpoint: every intent is remembered (by saga id), steps raise its count of logged
 * steps, an end closes it. The unfinished ones are then finished in the order they started, as a live run
 * would finish them and with the same log records: rolled forward when their point-of-no-return step is logged,
 * otherwise compensated from the point of no return, or from the step after the last logged one when that is
 * later (steps may have run without their record reaching the disk). Step and
 * end records of sagas whose intent lies before the checkpoint are ignored: those sagas ended before it. */
#include "saga/saga_internal.h"

#include "util/u64map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct logged_saga {
    char id[EG_SAGA_ID_TEXT];
    const eg_saga_type *type;
    json_t *args;
    uint64_t intent_lsn;
    size_t logged; /* steps logged complete: one past the highest step record */
    bool ended;
} logged_saga;

typedef struct saga_log {
    const eg_saga_engine *e;
    logged_saga *sagas; /* in intent order */
    size_t count, cap;
    eg_u64map by_id; /* hash of the id -> index; a collision falls back to a scan */
} saga_log;

static uint64_t id_hash(const char *id) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 0x100000001b3ULL;
    return h | 1; /* 0 is the map's empty key */
}

static logged_saga *find(saga_log *log, const char *id) {
    uint64_t at;
    if (!eg_u64map_get(&log->by_id, id_hash(id), &at)) return NULL; /* no saga has this hash */
    if (strcmp(log->sagas[at].id, id) == 0) return &log->sagas[at];
    for (size_t i = 0; i < log->count; i++) /* two ids, one hash: only the first is in the map */
        if (strcmp(log->sagas[i].id, id) == 0) return &log->sagas[i];
    return NULL;
}

static eg_status corrupt(const eg_wal_record *r, eg_error *err, const char *what) {
    return eg_error_set(err, EG_CORRUPT, "saga log record at LSN %llu: %s", (unsigned long long)r->lsn, what);
}

static eg_status add_intent(saga_log *log, const eg_wal_record *r, json_t *doc, const char *id, eg_error *err) {
    const char *type_name = json_string_value(json_object_get(doc, "type"));
    json_t *args = json_object_get(doc, "args");
    if (!type_name || !json_is_object(args)) return corrupt(r, err, "an intent without a type or arguments");
    const eg_saga_type *type = NULL;
    for (size_t i = 0; i < log->e->type_count && !type; i++)
        if (strcmp(log->e->types[i].name, type_name) == 0) type = &log->e->types[i];
    if (!type) {
        char what[160];
        snprintf(what, sizeof what, "an intent of the unknown saga type \"%.64s\"", type_name);
        return corrupt(r, err, what);
    }
    if (find(log, id)) return corrupt(r, err, "a second intent for the same saga id");
    if (log->count == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        logged_saga *bigger = realloc(log->sagas, cap * sizeof *bigger);
        if (!bigger) return eg_error_set(err, EG_INTERNAL, "out of memory reading the saga log");
        log->sagas = bigger;
        log->cap = cap;
    }
    if (eg_u64map_insert(&log->by_id, id_hash(id), log->count) < 0)
        return eg_error_set(err, EG_INTERNAL, "out of memory reading the saga log");
    logged_saga *s = &log->sagas[log->count++];
    memcpy(s->id, id, EG_SAGA_ID_TEXT);
    s->type = type;
    s->args = json_incref(args);
    s->intent_lsn = r->lsn;
    s->logged = 0;
    s->ended = false;
    return EG_OK;
}

static eg_status read_record(saga_log *log, const eg_wal_record *r, json_t *doc, eg_error *err) {
    const char *id = json_string_value(json_object_get(doc, "saga"));
    if (!eg_saga_id_valid(id)) return corrupt(r, err, "a saga record without a valid saga id");
    if (r->type == EG_SAGA_INTENT) return add_intent(log, r, doc, id, err);
    logged_saga *s = find(log, id);
    if (r->type == EG_SAGA_STEP) {
        json_t *step = json_object_get(doc, "step");
        if (!json_is_integer(step) || json_integer_value(step) < 0) return corrupt(r, err, "a step without a number");
        if (!s) return EG_OK;
        if ((uint64_t)json_integer_value(step) >= s->type->step_count)
            return corrupt(r, err, "a step number beyond its saga type's steps");
        size_t logged = (size_t)json_integer_value(step) + 1;
        if (logged > s->logged) s->logged = logged;
        return EG_OK;
    }
    const char *outcome = json_string_value(json_object_get(doc, "outcome"));
    if (!outcome || (strcmp(outcome, "committed") && strcmp(outcome, "compensated") && strcmp(outcome, "failed")))
        return corrupt(r, err, "an end without a known outcome");
    if (s && !s->ended) {
        s->ended = true;
        json_decref(s->args); /* only unfinished sagas need theirs: a log read since long ago may hold many */
        s->args = NULL;
    }
    return EG_OK;
}

static eg_status visit(void *ctx, const eg_wal_record *r, eg_error *err) {
    if (r->type != EG_SAGA_INTENT && r->type != EG_SAGA_STEP && r->type != EG_SAGA_END)
        return EG_OK; /* the log is shared: other record types are not the sagas' */
    json_t *doc = json_loadb(r->payload, r->length, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return corrupt(r, err, "a saga record that is not a JSON object");
    }
    eg_status st = read_record(ctx, r, doc, err);
    json_decref(doc);
    return st;
}

/* Finishes one unfinished saga and counts what was done. */
static eg_status finish(eg_saga_engine *e, const logged_saga *s, eg_saga_recovery_report *report, eg_error *err) {
    eg_saga_progress p = {.type = s->type, .args = s->args, .logged = s->logged};
    memcpy(p.id, s->id, EG_SAGA_ID_TEXT);
    eg_status st = eg_saga_pin_add(e, p.id, err);
    if (st != EG_OK) return st;
    eg_saga_pin_set(e, p.id, s->intent_lsn);
    size_t steps = s->type->step_count;
    eg_saga_outcome outcome;
    if (s->logged > s->type->point_of_no_return) {
        p.past_no_return = true;
        outcome = eg_saga_drive(e, &p, s->logged);
        if (outcome == EG_SAGA_COMMITTED) report->rolled_forward++;
    } else {
        size_t interrupted = s->logged < steps ? s->logged : (steps ? steps - 1 : 0);
        eg_error why;
        if (s->logged < steps)
            eg_error_set(&why, EG_UNAVAILABLE, "interrupted: the process stopped during step \"%s\"",
                         s->type->steps[interrupted].name);
        else
            eg_error_set(&why, EG_UNAVAILABLE, "interrupted: the process stopped before the saga's end was logged");
        p.cause = EG_UNAVAILABLE;
        p.cause_err = why;
        p.failed_step = interrupted;
        /* Step records before the point of no return are not synced (saga.c, log_record): a power cut can lose
         * them while the store writes of later steps, synced in their own files, survive. So every step up to
         * the point of no return may have run, whatever the log shows; compensations are idempotent, and undoing
         * one that never ran changes nothing. */
        size_t may_have_run = s->type->point_of_no_return < steps ? s->type->point_of_no_return + 1 : steps;
        size_t undo = s->logged < steps ? s->logged + 1 : steps;
        outcome = eg_saga_undo(e, &p, undo > may_have_run ? undo : may_have_run);
        if (outcome == EG_SAGA_COMPENSATED) report->compensated++;
    }
    if (outcome == EG_SAGA_FAILED) report->failed++;
    if (p.unended_status != EG_OK) {
        if (err) *err = p.unended_err;
        return p.unended_status;
    }
    /* A dead letter left by an earlier attempt whose end never reached the log no longer applies. */
    if (outcome != EG_SAGA_FAILED) return eg_saga_dead_letter_clear(e, p.id, err);
    return EG_OK;
}

eg_status eg_saga_recover(eg_saga_engine *e, eg_saga_recovery_report *report, eg_error *err) {
    eg_saga_recovery_report local;
    if (!report) report = &local;
    memset(report, 0, sizeof *report);
    saga_log log = {.e = e};
    if (!eg_u64map_init(&log.by_id, 64)) return eg_error_set(err, EG_INTERNAL, "out of memory reading the saga log");
    eg_status st = eg_wal_read(e->wal, eg_wal_checkpoint_lsn(e->wal), visit, &log, err);
    for (size_t i = 0; st == EG_OK && i < log.count; i++)
        if (!log.sagas[i].ended) {
            report->unfinished++;
            st = finish(e, &log.sagas[i], report, err);
        }
    for (size_t i = 0; i < log.count; i++) json_decref(log.sagas[i].args);
    free(log.sagas);
    eg_u64map_free(&log.by_id);
    return st;
}
