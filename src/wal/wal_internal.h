/* wal_internal.h — the state of an open write-ahead log, shared by recover.c (which builds it from the files) and
 * wal.c (appends, reads, checkpoints).
 *
 * Invariants, under `mutex`:
 * - Records are written whole, in LSN order, at `end` of the newest segment: every LSN below next_lsn is fully in
 *   a segment file, and nothing follows the last one (so a reader may stop at `end`).
 * - synced_lsn <= next_lsn - 1, and every record up to synced_lsn is on disk. Only the newest segment can hold
 *   records above it: a rotation syncs the old segment first (except in NONE mode, where nothing is synced).
 * - While `syncing`, a leader runs fdatasync(fd) without the mutex; fd stays open (a rotation waits for it).
 * - Segments oldest .. oldest + segments - 1 exist, with first LSNs first_lsns[0 ..]; segments >= 1 always.
 * - broken: a write or sync failed; what reached the disk is unknown, so nothing more is appended. */
#ifndef ENGRAM_WAL_INTERNAL_H
#define ENGRAM_WAL_INTERNAL_H

#include "wal/wal.h"

#include <pthread.h>
#include <stdbool.h>

struct eg_wal {
    char *dir;
    eg_wal_sync sync;
    uint64_t segment_bytes;
    int lock_fd;
    pthread_mutex_t checkpointing; /* one checkpoint at a time, so CHECKPOINT never moves backwards */

    pthread_mutex_t mutex; /* guards everything below */
    pthread_cond_t sync_done; /* broadcast when a leader's sync ends, well or not */
    int fd;
    uint64_t end;
    uint64_t next_lsn;
    uint64_t synced_lsn;
    bool syncing;
    bool broken;
    uint64_t checkpoint_lsn;
    uint64_t oldest;
    uint64_t *first_lsns;
    size_t segments, segments_cap;
    uint64_t appends, syncs;
};

/* Closes the newest segment (synced first, in every mode) and starts the next one at next_lsn. Mutex held, no
 * leader syncing. */
eg_status eg_wal_rotate(eg_wal *w, eg_error *err);

/* Room for one more segment in first_lsns, reserved before a segment file is created so that recording it
 * cannot fail afterwards. False when out of memory. */
bool eg_wal_reserve_segment(eg_wal *w);

#endif
