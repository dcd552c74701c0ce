/* queue.h — the durable write queue of degraded mode (setting degrade.write_policy = queue): the part of a memory
 * write meant for a store that is unavailable waits here, in order, and one drainer thread applies it when the
 * store answers again.
 *
 * Entries are store-level writes of one memory, described in JSON so that they can live in the write-ahead log:
 *   put     the memory's whole state in that store (graph: {"properties", "relationships"}; vectors: {"vector",
 *           "sparse_vector"?, "payload"}) — applied as create-or-replace
 *   patch   a merge into it (graph: {"properties"}, null removes; vectors: {"payload"})
 *   delete  its removal (delete-if-exists)
 * Every entry is a log record (EG_QUEUE_ADD) before it is acknowledged, and a record (EG_QUEUE_DONE) follows its
 * application, synced before the next write to that store can bypass the queue; at open the queue is rebuilt
 * from the log, and a checkpoint never drops the record of an entry still pending.
 *
 * Order: entries of one store are applied first in, first out. A new entry for the same memory as the store's
 * newest entry (not yet being applied) is folded into it — the last state wins — so bursts of writes to one
 * memory collapse without reordering writes across memories. While a store has entries pending, every later write
 * to it is queued too, so a write never overtakes an older one.
 *
 * Bound: at most max_per_store entries per store; a write that finds its store's queue full fails (EG_UNAVAILABLE,
 * saying so): nothing is ever dropped. The compensations undoing such a write go in regardless, so that it can be
 * undone.
 *
 * An entry the store refuses for a reason other than availability (a caller error such as a missing relationship
 * target) stalls its store's queue: nothing after it is applied and health reports the entry and the error, so an
 * operator decides; it is never skipped silently.
 *
 * Threads: every function may be called from many threads at once; open, rebuild and close may not. */
#ifndef ENGRAM_MEMORY_QUEUE_H
#define ENGRAM_MEMORY_QUEUE_H

#include <engram/memory.h>

#include "wal/wal.h"

#include <jansson.h>

enum { EG_QUEUE_ADD = 4, EG_QUEUE_DONE = 5 }; /* log record types, beside the sagas' 1..3 */

enum { EG_STORE_GRAPH = 0, EG_STORE_VECTORS = 1, EG_STORE_COUNT = 2 };
const char *eg_store_name(int store); /* "graph", "vectors" */

typedef enum eg_queued_kind { EG_QUEUED_PUT = 0, EG_QUEUED_PATCH, EG_QUEUED_DELETE } eg_queued_kind;

/* What the queue says about one memory in one store. */
typedef struct eg_queued_state {
    bool pending;        /* the queue holds writes for it */
    eg_queued_kind kind; /* when pending: the combined effect of its entries (put, patch or delete) */
    json_t *data;        /* a new reference (put: the state, patch: the merged patch), NULL for delete */
} eg_queued_state;

/* Applies one entry to its store; the memory layer provides it. EG_OK, an infrastructure failure (retried later)
 * or another error (the queue stalls). */
typedef eg_status (*eg_queue_apply)(void *ctx, int store, eg_memory_type type, const char *id, eg_queued_kind kind,
                                    json_t *data, eg_error *err);

/* Called after an entry is queued and after it is applied, with its store: the fallback read cache forgets what
 * it holds for that store. */
typedef void (*eg_queue_changed)(void *ctx, int store);

typedef struct eg_write_queue eg_write_queue;

eg_status eg_queue_open(eg_wal *wal, size_t max_per_store, eg_queue_apply apply, eg_queue_changed changed,
                        void *ctx, eg_write_queue **out, eg_error *err);
/* Rebuilds the pending entries from the log (from its checkpoint), before any new write. */
eg_status eg_queue_rebuild(eg_write_queue *q, eg_error *err);
/* Starts the drainer thread. */
eg_status eg_queue_start(eg_write_queue *q, eg_error *err);
/* Stops the drainer; pending entries stay, in memory and in the log (for the next open). */
void eg_queue_stop(eg_write_queue *q);
/* Stops the drainer if running and frees q. NULL is ignored. */
void eg_queue_close(eg_write_queue *q);

/* Does store have entries pending? */
bool eg_queue_pending(eg_write_queue *q, int store);
/* Queues a write (data borrowed; NULL for a delete). Its log record is written without waiting for a sync: the
 * saga record that acknowledges the write does. A bounded write finding the store's queue full is EG_UNAVAILABLE;
 * an unbounded one (the compensation of a refused write, which must not be refused in turn) always goes in. */
eg_status eg_queue_push(eg_write_queue *q, int store, eg_memory_type type, const char *id, eg_queued_kind kind,
                        json_t *data, bool bounded, eg_error *err);
/* The combined pending state of one memory in one store (free out->data with json_decref). */
void eg_queue_lookup(eg_write_queue *q, int store, const char *id, eg_queued_state *out);
/* The ids with entries pending in store (a new JSON object id -> true). */
json_t *eg_queue_ids(eg_write_queue *q, int store);
/* The LSN of the oldest pending entry's record, or UINT64_MAX when none: the log must keep it. */
uint64_t eg_queue_oldest_lsn(eg_write_queue *q);

typedef struct eg_queue_stats {
    uint64_t depth;          /* entries pending */
    int64_t oldest_ms;       /* epoch ms the oldest pending entry was queued (0: none) */
    uint64_t queued, applied, collapsed;
    bool stalled;            /* an entry was refused: see stall_error */
    char stall_error[512];
} eg_queue_stats;

void eg_queue_stats_get(eg_write_queue *q, int store, eg_queue_stats *out);

/* Blocks until store's queue is empty or stalled, or timeout_ms passes; true when empty. For tests and health
 * probes. */
bool eg_queue_wait_empty(eg_write_queue *q, int store, uint64_t timeout_ms);

#endif
