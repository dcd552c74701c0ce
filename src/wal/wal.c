/* wal.c — the open write-ahead log: appends with group commit, rotation, reads, checkpoints (see wal.h; opening
 * is in recover.c, the state's invariants in wal_internal.h).
 *
 * Appends write under the mutex, so frames land whole and in LSN order at the tracked end offset (never relying
 * on O_APPEND). In GROUP mode the appender then waits for a sync covering its record: if none is running it
 * becomes the leader, syncs everything written so far without holding the mutex (later appenders keep writing
 * meanwhile), and wakes the others; those whose records that sync covered return, the rest elect the next
 * leader. FSYNC mode syncs under the mutex after each write; NONE never syncs. */
#include "wal/format.h"
#include "wal/reader.h"
#include "wal/wal_internal.h"

#include "util/files.h"
#include "util/quote.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

const char *eg_wal_sync_name(eg_wal_sync s) {
    switch (s) {
    case EG_WAL_SYNC_GROUP: return "group";
    case EG_WAL_SYNC_FSYNC: return "fsync";
    case EG_WAL_SYNC_NONE: return "none";
    }
    return "unknown";
}

eg_status eg_wal_sync_parse(const char *name, eg_wal_sync *out, eg_error *err) {
    for (eg_wal_sync s = EG_WAL_SYNC_GROUP; name && s <= EG_WAL_SYNC_NONE; s++)
        if (strcmp(name, eg_wal_sync_name(s)) == 0) {
            *out = s;
            return EG_OK;
        }
    char quoted[64];
    eg_quote_for_message(name ? name : "", quoted, sizeof quoted);
    return eg_error_set(err, EG_INVALID_ARGUMENT, "unknown write-ahead log sync mode \"%s\" (group, fsync or none)",
                        quoted);
}

bool eg_wal_reserve_segment(eg_wal *w) {
    if (w->segments < w->segments_cap) return true;
    size_t cap = w->segments_cap ? w->segments_cap * 2 : 8;
    uint64_t *bigger = realloc(w->first_lsns, cap * sizeof *bigger);
    if (!bigger) return false;
    w->first_lsns = bigger;
    w->segments_cap = cap;
    return true;
}

static uint64_t newest_segment(const eg_wal *w) { return w->oldest + w->segments - 1; }

/* Marks the log broken after a failed write or sync and wakes every waiter, whose records' fate is now unknown. */
static eg_status break_log(eg_wal *w, eg_error *err, const char *what, int error_number) {
    char name[EG_WAL_NAME_CAP];
    eg_wal_segment_name(name, newest_segment(w));
    w->broken = true;
    pthread_cond_broadcast(&w->sync_done);
    return eg_error_set(err, EG_IO, "cannot %s write-ahead log segment %s: %s", what, name, strerror(error_number));
}

static eg_status refuse_broken(eg_error *err) {
    return eg_error_set(err, EG_IO, "the write-ahead log stopped after a failed write or sync; reopen it");
}

/* Syncs the newest segment, mutex held (FSYNC appends, rotation): everything written is then on disk. */
static eg_status sync_newest(eg_wal *w, eg_error *err) {
    if (fdatasync(w->fd) != 0) return break_log(w, err, "sync", errno);
    w->syncs++;
    w->synced_lsn = w->next_lsn - 1;
    return EG_OK;
}

/* Waits, mutex held, until every record up to lsn is on disk, leading a sync when none is running. */
static eg_status sync_through(eg_wal *w, uint64_t lsn, eg_error *err) {
    while (w->synced_lsn < lsn) {
        if (w->broken) return refuse_broken(err);
        if (w->syncing) {
            pthread_cond_wait(&w->sync_done, &w->mutex);
            continue;
        }
        w->syncing = true;
        uint64_t covered = w->next_lsn - 1;
        int fd = w->fd;
        pthread_mutex_unlock(&w->mutex);
        int rc = fdatasync(fd);
        int error_number = errno;
        pthread_mutex_lock(&w->mutex);
        w->syncing = false;
        w->syncs++;
        if (rc != 0) return break_log(w, err, "sync", error_number);
        if (covered > w->synced_lsn) w->synced_lsn = covered;
        pthread_cond_broadcast(&w->sync_done);
    }
    return EG_OK;
}

/* Closes the newest segment (synced first, in every mode: rotations are rare, and a segment followed by another
 * must never lose its tail, which would leave a gap) and starts the next one at next_lsn. Mutex held, no leader
 * syncing. */
eg_status eg_wal_rotate(eg_wal *w, eg_error *err) {
    /* Segment names hold 16 digits: a segment numbered past that would be named so that open does not list it,
     * losing its records on reopen (found by fuzz/fuzz_wal.c, fuzz/regressions/wal/rotate-past-last-segment-number).
     * Only damaged or forged files can number a segment so high. */
    if (newest_segment(w) >= EG_WAL_SEGMENT_NUMBER_MAX)
        return eg_error_set(err, EG_CORRUPT, "the write-ahead log has no segment number left after %" PRIu64,
                            newest_segment(w));
    if (!eg_wal_reserve_segment(w)) return eg_error_set(err, EG_INTERNAL, "out of memory rotating the write-ahead log");
    bool durable = w->sync != EG_WAL_SYNC_NONE;
    eg_status st;
    if ((st = sync_newest(w, err))) return st;
    int fd;
    if ((st = eg_wal_segment_create(w->dir, newest_segment(w) + 1, w->next_lsn, durable, &fd, &w->syncs, err))) {
        w->broken = true;
        pthread_cond_broadcast(&w->sync_done);
        return st;
    }
    close(w->fd);
    w->fd = fd;
    w->end = EG_WAL_SEGMENT_HEADER;
    w->first_lsns[w->segments++] = w->next_lsn;
    return EG_OK;
}

/* Writes one frame at `end` in a single system call, continuing after a short write or EINTR. */
static eg_status write_frame(eg_wal *w, unsigned char head[EG_WAL_FRAME_HEAD], const void *payload, size_t length,
                             unsigned char crc[4], eg_error *err) {
    struct iovec parts[3] = {{head, EG_WAL_FRAME_HEAD}, {(void *)payload, length}, {crc, 4}};
    struct iovec *part = parts;
    int count = 3;
    uint64_t at = w->end;
    while (count > 0) {
        ssize_t n = pwritev(w->fd, part, count, (off_t)at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return break_log(w, err, "write", n < 0 ? errno : ENOSPC);
        at += (uint64_t)n;
        size_t done = (size_t)n;
        for (; count > 0 && done >= part->iov_len; part++, count--) done -= part->iov_len;
        if (count > 0) {
            part->iov_base = (char *)part->iov_base + done;
            part->iov_len -= done;
        }
    }
    return EG_OK;
}

/* Writes one record, mutex held, rotating first when it would carry the newest segment past segment_bytes (a
 * segment holding no record yet takes any record). */
static eg_status write_record(eg_wal *w, uint8_t type, const void *payload, size_t length, uint64_t *assigned,
                              eg_error *err) {
    uint64_t frame = EG_WAL_FRAME_OVERHEAD + (uint64_t)length;
    eg_status st;
    /* LSN UINT64_MAX is never assigned, so next_lsn never wraps to 0 (a segment header may start the log that
     * high: only damaged or forged files do). */
    if (w->next_lsn == UINT64_MAX)
        return eg_error_set(err, EG_CORRUPT, "the write-ahead log has no LSN left");
    for (;;) {
        if (w->broken) return refuse_broken(err);
        if (w->end == EG_WAL_SEGMENT_HEADER || w->end + frame <= w->segment_bytes) break;
        if (w->syncing) {
            pthread_cond_wait(&w->sync_done, &w->mutex);
            continue;
        }
        if ((st = eg_wal_rotate(w, err))) return st;
    }
    *assigned = w->next_lsn;
    unsigned char head[EG_WAL_FRAME_HEAD], crc[4];
    eg_wal_put_u32(crc, eg_wal_frame_encode(head, type, *assigned, w->synced_lsn, payload, length));
    if ((st = write_frame(w, head, payload, length, crc, err))) return st;
    w->end += frame;
    w->next_lsn++;
    w->appends++;
    return EG_OK;
}

static eg_status append(eg_wal *w, uint8_t type, const void *payload, size_t length, bool wait, uint64_t *lsn,
                        eg_error *err) {
    if (!w) return eg_error_set(err, EG_INVALID_ARGUMENT, "write-ahead log is missing");
    if (type == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "record type 0 is reserved (use 1..255)");
    if (length > EG_WAL_RECORD_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "record of %zu bytes is over the limit of %u bytes", length,
                            EG_WAL_RECORD_MAX);
    if (!payload && length > 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "record payload is missing");
    pthread_mutex_lock(&w->mutex);
    uint64_t assigned = 0;
    eg_status st = write_record(w, type, payload, length, &assigned, err);
    if (!st && wait && w->sync == EG_WAL_SYNC_FSYNC) st = sync_newest(w, err);
    if (!st && wait && w->sync == EG_WAL_SYNC_GROUP) st = sync_through(w, assigned, err);
    pthread_mutex_unlock(&w->mutex);
    if (!st && lsn) *lsn = assigned;
    return st;
}

eg_status eg_wal_append(eg_wal *w, uint8_t type, const void *payload, size_t length, uint64_t *lsn, eg_error *err) {
    return append(w, type, payload, length, true, lsn, err);
}

eg_status eg_wal_append_deferred(eg_wal *w, uint8_t type, const void *payload, size_t length, uint64_t *lsn,
                                 eg_error *err) {
    return append(w, type, payload, length, false, lsn, err);
}

eg_status eg_wal_read(eg_wal *w, uint64_t from_lsn, eg_wal_visit visit, void *ctx, eg_error *err) {
    if (!w || !visit) return eg_error_set(err, EG_INVALID_ARGUMENT, "write-ahead log or visit function is missing");
    if (from_lsn == 0) from_lsn = 1;
    pthread_mutex_lock(&w->mutex);
    uint64_t last = w->next_lsn - 1, oldest_lsn = w->first_lsns[0], newest = newest_segment(w), end = w->end;
    uint64_t number = w->oldest;
    for (size_t i = w->segments; i-- > 0;)
        if (w->first_lsns[i] <= from_lsn) {
            number = w->oldest + i;
            break;
        }
    pthread_mutex_unlock(&w->mutex);
    if (from_lsn < oldest_lsn)
        return eg_error_set(err, EG_NOT_FOUND,
                            "write-ahead log records from LSN %" PRIu64 " were removed by a checkpoint (the oldest "
                            "left is LSN %" PRIu64 ")",
                            from_lsn, oldest_lsn);
    if (from_lsn > last) return EG_OK;

    uint64_t expected_first = 0;
    for (; number <= newest; number++) {
        eg_wal_reader r;
        eg_status st = eg_wal_reader_open(&r, w->dir, number, err);
        if (st == EG_NOT_FOUND)
            return eg_error_set(err, EG_NOT_FOUND,
                                "write-ahead log segment %s was removed by a checkpoint during the read", r.name);
        if (st) return st;
        if (expected_first && r.header.first_lsn != expected_first) {
            st = eg_error_set(err, EG_CORRUPT,
                              "write-ahead log damaged: %s at byte %u: the segment starts at LSN %" PRIu64
                              " but the one before ends at LSN %" PRIu64,
                              r.name, EG_WAL_HEADER_FIRST_LSN_AT, r.header.first_lsn, expected_first - 1);
            eg_wal_reader_close(&r);
            return st;
        }
        if (number == newest) eg_wal_reader_limit(&r, end);
        for (;;) {
            eg_wal_frame kind;
            eg_wal_record record;
            if ((st = eg_wal_reader_next(&r, &kind, &record, err))) break;
            if (kind == EG_WAL_FRAME_END) break;
            if (kind != EG_WAL_FRAME_RECORD) {
                st = eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: %s at byte %" PRIu64 ": %s", r.name,
                                  r.offset, r.problem);
                break;
            }
            if (record.lsn >= from_lsn && (st = visit(ctx, &record, err))) break;
            if (record.lsn == last) break;
        }
        expected_first = r.next_lsn;
        eg_wal_reader_close(&r);
        if (st || expected_first > last) return st;
    }
    return eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: its segments end before LSN %" PRIu64, last);
}

eg_status eg_wal_checkpoint(eg_wal *w, uint64_t keep_from_lsn, eg_error *err) {
    if (!w) return eg_error_set(err, EG_INVALID_ARGUMENT, "write-ahead log is missing");
    pthread_mutex_lock(&w->checkpointing);
    pthread_mutex_lock(&w->mutex);
    eg_status st = EG_OK;
    bool ignored = keep_from_lsn <= w->checkpoint_lsn;
    if (keep_from_lsn > w->next_lsn)
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "checkpoint LSN %" PRIu64 " is beyond the next LSN %" PRIu64,
                          keep_from_lsn, w->next_lsn);
    else if (!ignored && w->broken)
        st = refuse_broken(err);
    /* Everything below the checkpoint must be on disk before CHECKPOINT says so — in NONE mode too (checkpoints
     * are rare): a CHECKPOINT beyond the end of the log on disk would make the next open refuse the folder. */
    else if (!ignored)
        st = sync_through(w, keep_from_lsn - 1, err);
    pthread_mutex_unlock(&w->mutex);
    if (st || ignored) goto out;

    char path[4096], text[EG_WAL_CHECKPOINT_CAP];
    size_t length = eg_wal_checkpoint_text(text, sizeof text, keep_from_lsn);
    if ((st = eg_path_join(path, sizeof path, w->dir, EG_WAL_CHECKPOINT_FILE, err)) ||
        (st = eg_write_file_atomic(path, "write-ahead log " EG_WAL_CHECKPOINT_FILE, text, length, err)))
        goto out;

    /* Segments leave the list before their files go, so a reader never looks for a removed one by LSN. */
    pthread_mutex_lock(&w->mutex);
    w->checkpoint_lsn = keep_from_lsn;
    size_t released = 0;
    while (released + 1 < w->segments && w->first_lsns[released + 1] <= keep_from_lsn) released++;
    uint64_t first_released = w->oldest;
    memmove(w->first_lsns, w->first_lsns + released, (w->segments - released) * sizeof *w->first_lsns);
    w->segments -= released;
    w->oldest += released;
    pthread_mutex_unlock(&w->mutex);

    /* Oldest first: a crash part way leaves the remaining segments contiguous, and open finishes the job. */
    for (size_t i = 0; i < released && !st; i++) {
        char name[EG_WAL_NAME_CAP];
        eg_wal_segment_name(name, first_released + i);
        if ((st = eg_path_join(path, sizeof path, w->dir, name, err))) break;
        if (unlink(path) != 0 && errno != ENOENT)
            st = eg_error_set(err, EG_IO, "cannot remove write-ahead log segment %s: %s", name, strerror(errno));
    }
    if (!st && released > 0 && w->sync != EG_WAL_SYNC_NONE) st = eg_wal_sync_folder(w->dir, err);
out:
    pthread_mutex_unlock(&w->checkpointing);
    return st;
}

uint64_t eg_wal_next_lsn(eg_wal *w) {
    pthread_mutex_lock(&w->mutex);
    uint64_t lsn = w->next_lsn;
    pthread_mutex_unlock(&w->mutex);
    return lsn;
}

uint64_t eg_wal_checkpoint_lsn(eg_wal *w) {
    pthread_mutex_lock(&w->mutex);
    uint64_t lsn = w->checkpoint_lsn;
    pthread_mutex_unlock(&w->mutex);
    return lsn;
}

void eg_wal_stats_get(eg_wal *w, eg_wal_stats *out) {
    pthread_mutex_lock(&w->mutex);
    out->appends = w->appends;
    out->syncs = w->syncs;
    out->segments = w->segments;
    pthread_mutex_unlock(&w->mutex);
}

void eg_wal_close(eg_wal *w) {
    if (!w) return;
    if (w->fd >= 0) {
        if (w->sync != EG_WAL_SYNC_NONE && !w->broken) fdatasync(w->fd);
        close(w->fd);
    }
    eg_unlock_file(w->lock_fd);
    pthread_cond_destroy(&w->sync_done);
    pthread_mutex_destroy(&w->mutex);
    pthread_mutex_destroy(&w->checkpointing);
    free(w->first_lsns);
    free(w->dir);
    free(w);
}
