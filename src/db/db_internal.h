/* db_internal.h — what an open data folder holds (see engram/engram.h), for the layers that work inside it: the
 * memory layer reaches the stores, the saga engine and its own state through this. */
#ifndef ENGRAM_DB_INTERNAL_H
#define ENGRAM_DB_INTERNAL_H

#include <engram/engram.h>

#include "memory/memory_internal.h"
#include "resilience/faults.h"
#include "saga/saga.h"
#include "wal/wal.h"

struct eg_db {
    int lock_fd;
    eg_graph *graph;       /* the backend, behind the fault guard when faults are allowed */
    eg_vectors *vectors;
    eg_faults *faults;     /* NULL unless ENGRAM_ALLOW_FAULTS=1 */
    eg_wal *wal;
    eg_saga_engine *sagas; /* env: this db */
    eg_recovery_report recovery;
    eg_memory_state memory;
};

#endif
