/* memory_internal.h — the memory layer's state inside an open data folder and the pieces its files share: the
 * saga types (sagas.c), id and argument checks (memory_model.c), writes (write.c), recall (recall.c) and the
 * consistency check (check.c). */
#ifndef ENGRAM_MEMORY_INTERNAL_H
#define ENGRAM_MEMORY_INTERNAL_H

#include <engram/memory.h>

#include "memory/queue.h"
#include "saga/saga.h"

#include <pthread.h>

#define EG_MEMORY_STRIPES 64

typedef struct eg_memory_state {
    /* Writes to one id hold its stripe from their first read to their saga's end, so that the existence and
     * content checks a write makes stay true while its saga runs. */
    pthread_mutex_t stripes[EG_MEMORY_STRIPES];
    /* Writes hold it shared; the consistency check holds it exclusively, so it never sees a saga half way. */
    pthread_rwlock_t scan_lock;
    /* Ids frozen by an unresolved dead letter (id -> saga id): a write to one is EG_CONFLICT until a repair
     * settles it, since the letter's pre-images would otherwise be restored over newer acknowledged writes. */
    pthread_mutex_t frozen_lock;
    json_t *frozen;
    pthread_mutex_t checkpoint_lock; /* one checkpoint at a time; others skip theirs */
    /* The memory collections known to exist with their dimension, distance and the memory layer's payload
     * indexes, so that a create does not ask the store each time (over a remote store that was two requests per
     * create). Forgotten (the generation moves on) whenever a collection or an index may have gone: see
     * eg_memory_forget_collections. */
    pthread_mutex_t ensured_lock;
    uint64_t ensured_generation;
    struct {
        bool known;
        uint32_t dim;
        eg_distance distance;
    } ensured[EG_MEMORY_TYPE_COUNT];
} eg_memory_state;

/* The saga types of the memory layer, given to the saga engine at open. */
extern const eg_saga_type eg_memory_sagas[];
extern const size_t eg_memory_saga_count;
enum {
    EG_SAGA_CREATE_MEMORY = 0,
    EG_SAGA_UPDATE_MEMORY,
    EG_SAGA_DELETE_MEMORY,
    EG_SAGA_ARCHIVE_MEMORY,
    EG_SAGA_RESTORE_ARCHIVED,
    EG_SAGA_CREATE_MEMORIES
};

/* The delete steps (sagas.c), which archive_memory reuses, and the archive sagas' steps (archive.c). */
eg_status eg_memory_delete_vector(void *env, json_t *args, void *input, eg_error *err);
eg_status eg_memory_restore_vector(void *env, json_t *args, void *input, eg_error *err);
eg_status eg_memory_delete_node(void *env, json_t *args, void *input, eg_error *err);
eg_status eg_memory_restore_node(void *env, json_t *args, void *input, eg_error *err);
extern const eg_saga_step eg_archive_steps[3];
extern const eg_saga_step eg_restore_steps[3];

/* The pre-image of a memory as a delete logs it: {id, type, point, node, relationships, unknown} (write.c); the id's
 * write lock must be held. EG_NOT_FOUND when the memory is in neither store. */
eg_status eg_memory_pre_image(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id, json_t **args,
                              eg_error *err);

/* Live inputs of a create (never logged): the point and node as they will be written. */
typedef struct eg_create_input {
    const char *collection;
    eg_point point;
    json_t *properties;
    const eg_relationship_spec *relationships;
    size_t relationship_count;
} eg_create_input;

/* Live inputs of a batch create (create_batch.c), never logged: each new memory's own input — what its writes
 * are queued as when a store is unavailable — and the same writes gathered for one call per store and collection
 * when the stores answer. */
typedef struct eg_batch_item {
    const char *id; /* canonical */
    eg_memory_type type;
    eg_create_input in;
} eg_batch_item;

typedef struct eg_create_batch_input {
    const eg_batch_item *items;
    size_t count;
    const eg_point *points[EG_MEMORY_TYPE_COUNT]; /* each type's points, in item order */
    size_t point_counts[EG_MEMORY_TYPE_COUNT];
    const eg_node_spec *nodes; /* count of them */
    const eg_relationship_spec *relationships;
    size_t relationship_count;
} eg_create_batch_input;

/* A create decided (write.c), before any write: the documents it would store and whether the memory is new; a
 * repeat of an existing memory with the same content has is_new false and writes nothing. point_known and
 * node_known say whether each store answered (else the write will be queued: degraded mode). */
typedef struct eg_create_plan {
    json_t *payload, *properties; /* the caller's, with the memory layer's keys */
    bool is_new, point_known, node_known;
} eg_create_plan;

/* The caller's spec alone: type, vector, documents, relationships. */
eg_status eg_memory_check_spec(const eg_memory_spec *spec, eg_error *err);
/* Reads what exists under id and decides: new (in neither store; whether archived is for the caller to check), a
 * repeat, or EG_CONFLICT (another type, other content, an orphan). The id's write lock must be held. Nothing is written, but the collection of an
 * existing point (whose distance the comparison needs) gets its memory indexes. */
eg_status eg_memory_plan_create(eg_db *db, const eg_memory_spec *spec, const eg_point_id *pid, const char *id,
                                eg_create_plan *plan, eg_error *err);
void eg_create_plan_clear(eg_create_plan *plan);
/* A memory is hot or archived, never both: EG_CONFLICT when id is archived. */
eg_status eg_memory_check_not_archived(eg_db *db, const char *id, eg_error *err);
/* Every one of ids (distinct node ids) exists in the graph, or is an acknowledged node still queued for it; else
 * EG_NOT_FOUND naming the first missing one, whose index goes to *missing. */
eg_status eg_memory_check_targets(eg_db *db, const char *const *ids, size_t count, size_t *missing, eg_error *err);

/* What a memory write does when a store is unavailable (setting degrade.write_policy). */
typedef enum eg_write_policy { EG_WRITE_FAIL = 0, EG_WRITE_QUEUE } eg_write_policy;

/* One store write of a memory (store_writes.c), in the JSON form the write queue holds (queue.h) — or, for the
 * hot forward writes of a create, a fast path that skips the JSON, which is then built only if the write must be
 * queued. */
typedef struct eg_store_write {
    int store;
    eg_memory_type type;
    const char *id;
    eg_queued_kind kind;
    json_t *data;                                                /* NULL when fast and describe are given */
    eg_status (*fast)(eg_db *db, const void *arg, eg_error *err); /* forward only */
    json_t *(*describe)(const void *arg);                        /* the JSON form of the fast write (new) */
    const void *arg;
} eg_store_write;

/* Performs w now — forward actions through the stores' circuit breakers, compensations past them — or queues it
 * (queue policy): when its store's queue is not empty, or when the store fails with an infrastructure error. */
eg_status eg_memory_write(eg_db *db, bool compensation, const eg_store_write *w, eg_error *err);
/* Many writes to one store as one call: now(db, arg) performs them all when they can go now, as eg_memory_write
 * decides for one; otherwise each of each[] is queued. */
eg_status eg_memory_write_many(eg_db *db, bool compensation, int store,
                               eg_status (*now)(eg_db *db, const void *arg, eg_error *err), const void *arg,
                               const eg_store_write *each, size_t count, eg_error *err);
/* Applies one write given in JSON (the drainer's and the compensations' way). */
eg_status eg_memory_apply(eg_db *db, bool bypass_breaker, int store, eg_memory_type type, const char *id,
                          eg_queued_kind kind, json_t *data, eg_error *err);
/* Forgets which memory collections are known to exist: called by the write observer after a collection or a
 * payload index was deleted, and after an upsert found no collection (deleted behind this process's back, in a
 * remote store). */
void eg_memory_forget_collections(eg_db *db);
/* The type's collection in v, created on first use with dim and Cosine, with the memory indexes — added again to
 * a collection that lacks them (made by the caller, or by a process killed between creating it and indexing it).
 * *distance (may be NULL) receives its distance. Once a collection was found whole, later calls answer from db's
 * memory of it without asking the store, until eg_memory_forget_collections. */
eg_status eg_memory_ensure_collection(eg_db *db, eg_vectors *v, eg_memory_type type, size_t dim, eg_distance *distance,
                                      eg_error *err);

eg_status eg_memory_state_init(eg_memory_state *m, eg_error *err);
void eg_memory_state_destroy(eg_memory_state *m);

/* Freezes the ids of the engine's unresolved dead letters (at open). */
eg_status eg_memory_load_frozen(eg_db *db, eg_error *err);
void eg_memory_freeze(eg_db *db, const char *id, const char *saga_id);
void eg_memory_thaw(eg_db *db, const char *id);
/* EG_CONFLICT naming the dead letter when id is frozen. */
eg_status eg_memory_check_frozen(eg_db *db, const char *id, eg_error *err);

/* A memory id in text, parsed and in canonical form (the node id). */
eg_status eg_memory_id(const char *id, eg_point_id *pid, char canonical[EG_POINT_ID_TEXT], eg_error *err);
eg_status eg_memory_check_type(eg_memory_type type, eg_error *err);
/* A payload or properties object of the caller's (NULL allowed): no reserved key. */
eg_status eg_memory_check_user_object(json_t *object, const char *what, eg_error *err);

/* EG_NOT_FOUND as done (and err cleared): what an idempotent delete or a compensation wants. Else st. */
eg_status eg_memory_gone_is_ok(eg_status st, eg_error *err);

/* Checkpoints the log, keeping what unfinished sagas and queued writes still need. */
eg_status eg_memory_checkpoint(eg_db *db, eg_error *err);

/* Runs one memory saga and settles what follows it: a failed one freezes its ids; the log is checkpointed when
 * it has grown past one segment. id names the memory in errors; NULL for a batch (create_memories). */
eg_status eg_memory_run_saga(eg_db *db, int type, const char *id, json_t *args, void *input, eg_error *err);
/* The memories a memory saga's logged arguments name, as a new array of {id, type}: the one of a single-memory
 * saga, or a batch's "memories". */
json_t *eg_memory_saga_memories(json_t *args);

/* Per-id write lock (a stripe) and the shared side of the scan lock; the check takes the exclusive side. */
void eg_memory_lock(eg_db *db, const char *id);
void eg_memory_unlock(eg_db *db, const char *id);
/* The same for many ids at once: each distinct stripe once, in ascending order, or, when they span more than
 * half the stripes, the scan lock's exclusive side (returns true). held[] and the result are for the unlock. */
bool eg_memory_lock_many(eg_db *db, const char *const *ids, size_t count, bool held[EG_MEMORY_STRIPES]);
void eg_memory_unlock_many(eg_db *db, const bool held[EG_MEMORY_STRIPES], bool exclusive);

#endif
