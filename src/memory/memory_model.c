/* memory_model.c — the memory layer's vocabulary and shared machinery: type names, ids, reserved keys, the
 * per-id locks, ids frozen by dead letters, and running one saga with what follows it (see memory_internal.h). */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: see eg_memory_state_init */
#include "db/db_internal.h"
#include "util/json_check.h"
#include "util/quote.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name, *plural, *label_name;
    eg_label label;
} types[EG_MEMORY_TYPE_COUNT] = {
    {"episode", "episodes", "Episode", EG_LABEL_EPISODE},
    {"entity", "entities", "Entity", EG_LABEL_ENTITY},
    {"procedure", "procedures", "Procedure", EG_LABEL_PROCEDURE},
};

/* Keys the memory layer maintains on both stores: the caller sets them through their own arguments. */
static const char *const reserved_keys[] = {"created_at", "session_id", "sessionId"};

const char *eg_memory_type_name(eg_memory_type type) {
    return (unsigned)type < EG_MEMORY_TYPE_COUNT ? types[type].name : "?";
}

const char *eg_memory_collection(eg_memory_type type) {
    return (unsigned)type < EG_MEMORY_TYPE_COUNT ? types[type].plural : "?";
}

eg_label eg_memory_label(eg_memory_type type) {
    return (unsigned)type < EG_MEMORY_TYPE_COUNT ? types[type].label : EG_LABEL_ANY;
}

eg_status eg_memory_type_parse(const char *name, eg_memory_type *out, eg_error *err) {
    for (int i = 0; name && i < EG_MEMORY_TYPE_COUNT; i++)
        if (strcmp(name, types[i].name) == 0 || strcmp(name, types[i].plural) == 0 ||
            strcmp(name, types[i].label_name) == 0) {
            *out = (eg_memory_type)i;
            return EG_OK;
        }
    char q[256];
    eg_quote_for_message(name ? name : "", q, sizeof q);
    return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid memory type '%s': must be episode, entity or procedure",
                        q);
}

eg_status eg_memory_check_type(eg_memory_type type, eg_error *err) {
    if ((unsigned)type < EG_MEMORY_TYPE_COUNT) return EG_OK;
    return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid memory type %d: must be episode, entity or procedure",
                        (int)type);
}

eg_status eg_memory_id(const char *id, eg_point_id *pid, char canonical[EG_POINT_ID_TEXT], eg_error *err) {
    if (!id) return eg_error_set(err, EG_INVALID_ARGUMENT, "memory id is missing");
    eg_status st = eg_point_id_parse(id, pid, err);
    if (st != EG_OK)
        return eg_error_prefix(err, st, "memory id: must be a UUID or an unsigned 64-bit integer: ");
    eg_point_id_format(pid, canonical);
    return EG_OK;
}

eg_status eg_memory_check_user_object(json_t *object, const char *what, eg_error *err) {
    if (!object) return EG_OK;
    if (!json_is_object(object)) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s must be a JSON object", what);
    for (size_t i = 0; i < sizeof reserved_keys / sizeof reserved_keys[0]; i++)
        if (json_object_get(object, reserved_keys[i]))
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "%s may not set '%s': the memory layer maintains it (pass created_at or session_id "
                                "as arguments of their own)",
                                what, reserved_keys[i]);
    return eg_json_check_document(object, &eg_json_user_limits, what, err);
}

/* ---- State -------------------------------------------------------------------------------------------------- */

eg_status eg_memory_state_init(eg_memory_state *m, eg_error *err) {
    for (int i = 0; i < EG_MEMORY_STRIPES; i++) pthread_mutex_init(&m->stripes[i], NULL);
    /* Writers of memories take scan_lock's read side, check its write side. glibc's default favours readers, so
     * under a steady stream of writes a check waited for as long as the stream lasted (seconds, found by
     * tests/test_stress.c); preferring the writer holds new memory writes while a check waits, as memory.h says.
     * Safe because no thread ever takes the read side twice (eg_memory_lock does not nest). */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&m->scan_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&m->frozen_lock, NULL);
    pthread_mutex_init(&m->checkpoint_lock, NULL);
    pthread_mutex_init(&m->ensured_lock, NULL);
    m->frozen = json_object();
    return m->frozen ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

void eg_memory_state_destroy(eg_memory_state *m) {
    for (int i = 0; i < EG_MEMORY_STRIPES; i++) pthread_mutex_destroy(&m->stripes[i]);
    pthread_rwlock_destroy(&m->scan_lock);
    pthread_mutex_destroy(&m->frozen_lock);
    pthread_mutex_destroy(&m->checkpoint_lock);
    pthread_mutex_destroy(&m->ensured_lock);
    json_decref(m->frozen);
    m->frozen = NULL;
}

/* FNV-1a: ids are short and the spread only has to avoid piling writers onto one stripe. */
static pthread_mutex_t *stripe_of(eg_db *db, const char *id) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 16777619u;
    return &db->memory.stripes[h % EG_MEMORY_STRIPES];
}

void eg_memory_lock(eg_db *db, const char *id) {
    pthread_rwlock_rdlock(&db->memory.scan_lock);
    pthread_mutex_lock(stripe_of(db, id));
}

void eg_memory_unlock(eg_db *db, const char *id) {
    pthread_mutex_unlock(stripe_of(db, id));
    pthread_rwlock_unlock(&db->memory.scan_lock);
}

/* The stripes are taken in ascending order, and a single write holds only one: no two writers can each hold a
 * stripe the other waits for. A batch spanning more than half the stripes takes scan_lock's write side instead,
 * which excludes every other memory write as its stripes would have, with one lock instead of dozens (lock
 * checkers follow a bounded number of held locks: ThreadSanitizer 64). Nothing under it takes the read side. */
bool eg_memory_lock_many(eg_db *db, const char *const *ids, size_t count, bool held[EG_MEMORY_STRIPES]) {
    memset(held, 0, EG_MEMORY_STRIPES * sizeof *held);
    int distinct = 0;
    for (size_t i = 0; i < count; i++) {
        bool *h = &held[stripe_of(db, ids[i]) - db->memory.stripes];
        distinct += !*h;
        *h = true;
    }
    if (distinct > EG_MEMORY_STRIPES / 2) {
        pthread_rwlock_wrlock(&db->memory.scan_lock);
        return true;
    }
    pthread_rwlock_rdlock(&db->memory.scan_lock);
    for (int s = 0; s < EG_MEMORY_STRIPES; s++)
        if (held[s]) pthread_mutex_lock(&db->memory.stripes[s]);
    return false;
}

void eg_memory_unlock_many(eg_db *db, const bool held[EG_MEMORY_STRIPES], bool exclusive) {
    for (int s = EG_MEMORY_STRIPES; s-- > 0 && !exclusive;)
        if (held[s]) pthread_mutex_unlock(&db->memory.stripes[s]);
    pthread_rwlock_unlock(&db->memory.scan_lock);
}

/* ---- Ids frozen by dead letters ----------------------------------------------------------------------------- */

eg_status eg_memory_load_frozen(eg_db *db, eg_error *err) {
    json_t *letters;
    eg_status st = eg_saga_dead_letters(db->sagas, &letters, err);
    if (st != EG_OK) return st;
    size_t i;
    json_t *letter;
    json_array_foreach(letters, i, letter) {
        const char *saga = json_string_value(json_object_get(letter, "saga"));
        json_t *memories = eg_memory_saga_memories(json_object_get(letter, "args"));
        size_t j;
        json_t *m;
        json_array_foreach(memories, j, m) {
            if (saga) eg_memory_freeze(db, json_string_value(json_object_get(m, "id")), saga);
        }
        json_decref(memories);
    }
    json_decref(letters);
    return EG_OK;
}

void eg_memory_freeze(eg_db *db, const char *id, const char *saga_id) {
    pthread_mutex_lock(&db->memory.frozen_lock);
    json_object_set_new(db->memory.frozen, id, json_string(saga_id));
    pthread_mutex_unlock(&db->memory.frozen_lock);
}

void eg_memory_thaw(eg_db *db, const char *id) {
    pthread_mutex_lock(&db->memory.frozen_lock);
    json_object_del(db->memory.frozen, id);
    pthread_mutex_unlock(&db->memory.frozen_lock);
}

eg_status eg_memory_check_frozen(eg_db *db, const char *id, eg_error *err) {
    char saga[EG_SAGA_ID_TEXT] = "";
    pthread_mutex_lock(&db->memory.frozen_lock);
    const char *found = json_string_value(json_object_get(db->memory.frozen, id));
    if (found) snprintf(saga, sizeof saga, "%s", found);
    pthread_mutex_unlock(&db->memory.frozen_lock);
    if (!saga[0]) return EG_OK;
    return eg_error_set(err, EG_CONFLICT,
                        "memory %s has an unresolved dead letter (saga %s): run check with repair before writing it",
                        id, saga);
}

/* ---- Running a saga ----------------------------------------------------------------------------------------- */

eg_status eg_memory_gone_is_ok(eg_status st, eg_error *err) {
    if (st != EG_NOT_FOUND) return st;
    eg_error_clear(err);
    return EG_OK;
}

eg_status eg_memory_checkpoint(eg_db *db, eg_error *err) {
    return eg_saga_checkpoint_keeping(db->sagas, db->queue ? eg_queue_oldest_lsn(db->queue) : UINT64_MAX, err);
}

/* A checkpoint only frees whole segments, so it is worth its fsyncs once the log has more than one. */
static void checkpoint_when_grown(eg_db *db) {
    eg_wal_stats stats;
    eg_wal_stats_get(db->wal, &stats);
    if (stats.segments < 2 || pthread_mutex_trylock(&db->memory.checkpoint_lock) != 0) return;
    eg_error ignored; /* a failed checkpoint keeps every segment: nothing is lost, the next saga tries again */
    eg_memory_checkpoint(db, &ignored);
    pthread_mutex_unlock(&db->memory.checkpoint_lock);
}

json_t *eg_memory_saga_memories(json_t *args) {
    json_t *batch = json_object_get(args, "memories");
    if (json_is_array(batch)) return json_incref(batch);
    json_t *id = json_object_get(args, "id"), *type = json_object_get(args, "type");
    return json_is_string(id) && json_is_string(type) ? json_pack("[{s:O, s:O}]", "id", id, "type", type)
                                                      : json_array();
}

eg_status eg_memory_run_saga(eg_db *db, int type, const char *id, json_t *args, void *input, eg_error *err) {
    eg_saga_outcome outcome = EG_SAGA_COMMITTED;
    char saga_id[EG_SAGA_ID_TEXT] = "", what[64];
    eg_status st = eg_saga_run(db->sagas, &eg_memory_sagas[type], args, input, &outcome, saga_id, err);
    bool settled = outcome != EG_SAGA_FAILED && outcome != EG_SAGA_UNFINISHED; /* committed or compensated */
    json_t *memories = settled ? NULL : eg_memory_saga_memories(args);
    if (id) snprintf(what, sizeof what, "memory %s", id);
    else snprintf(what, sizeof what, "a batch of %zu memories", json_array_size(memories));
    if (outcome == EG_SAGA_FAILED) {
        size_t i;
        json_t *m;
        json_array_foreach(memories, i, m) eg_memory_freeze(db, json_string_value(json_object_get(m, "id")), saga_id);
        eg_error_prefix(err, st, "%s of %s failed and could not be undone (dead letter %s): ",
                        eg_memory_sagas[type].name, what, saga_id);
    } else if (outcome == EG_SAGA_UNFINISHED) {
        eg_error_prefix(err, st,
                        "%s of %s failed and could not be undone, nor its report written (saga %s): the next "
                        "open of the data folder undoes it: ",
                        eg_memory_sagas[type].name, what, saga_id);
    }
    json_decref(memories);
    checkpoint_when_grown(db);
    return st;
}
