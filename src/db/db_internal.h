/* db_internal.h — what an open data folder holds (see engram/engram.h), for the layers that work inside it: the
 * memory layer reaches the stores, the saga engine and its own state through this. */
#ifndef ENGRAM_DB_INTERNAL_H
#define ENGRAM_DB_INTERNAL_H

#include <engram/engram.h>

#include "archive/archive_store.h"
#include "exec/read_cache.h"
#include "memory/memory_internal.h"
#include "resilience/breaker.h"
#include "resilience/faults.h"
#include "saga/saga.h"
#include "wal/wal.h"

#include <engram/settings.h>

/* Each store is composed as backend -> fault guard (only with ENGRAM_ALLOW_FAULTS=1) -> write observer (tells the
 * fallback read cache about acknowledged writes) = the "direct" store -> circuit breaker = the store everything
 * else uses. Compensations use the direct one: they must try even while a breaker fails calls fast. */
struct eg_db {
    char *dir;             /* the data folder as opened: parts kept beside the stores (serve/) live in it */
    int lock_fd;
    eg_settings *settings;
    eg_graph *graph;       /* behind the breaker; owns the chain below it */
    eg_vectors *vectors;
    eg_graph *graph_direct; /* borrowed: the chain under the breaker */
    eg_vectors *vectors_direct;
    eg_faults *faults;     /* NULL unless ENGRAM_ALLOW_FAULTS=1 */
    eg_breaker *breakers[EG_STORE_COUNT];
    eg_read_cache *cache;
    eg_write_policy write_policy;
    eg_write_queue *queue;
    eg_archive *archive;   /* the cold archive's folder (setting archive.path) */
    eg_wal *wal;
    eg_saga_engine *sagas; /* env: this db */
    eg_recovery_report recovery;
    eg_memory_state memory;
};

#endif
