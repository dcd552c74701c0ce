/* recover.c — eg_wal_open: from the files to a log ready for appends, applying the damage rules of wal.h.
 *
 * Opening works in two phases so that a damaged log is left exactly as it was found. First everything is read
 * and checked: CHECKPOINT, segment names (contiguous numbers), every header, and every record of the segments
 * still needed (length, checksum, type, LSN sequence within and across segments). Only once all of it passed
 * are files changed: the torn tail cut, the segments an interrupted checkpoint left behind removed, the
 * `.tmp` leftovers of an interrupted rotation deleted.
 *
 * In the durable modes every segment kept is fsynced while it is read: the previous run may have used NONE, and
 * records appended and synced from now on must not outlive older ones that were still only in the OS. */
#include "wal/format.h"
#include "wal/reader.h"
#include "wal/wal_internal.h"

#include "util/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the checking phase found, and what the changing phase must do. */
typedef struct survey {
    uint64_t *numbers; /* every segment present, ascending */
    uint64_t *first_lsns; /* their headers' first LSNs */
    size_t count;
    size_t keep;     /* index of the oldest segment still needed; those before it lie wholly below CHECKPOINT */
    bool leftovers;  /* `.tmp` segments exist */
    uint64_t records, next_lsn, end, torn_bytes;
    uint32_t newest_version; /* the newest segment's format */
} survey;

static void survey_free(survey *s) {
    free(s->numbers);
    free(s->first_lsns);
}

static eg_status damaged(eg_error *err, const char *file, uint64_t offset, const char *problem) {
    return eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: %s at byte %" PRIu64 ": %s", file, offset,
                        problem);
}

static eg_status read_checkpoint(const char *dir, uint64_t *lsn, eg_error *err) {
    char path[4096], text[EG_WAL_CHECKPOINT_CAP];
    eg_status st = eg_path_join(path, sizeof path, dir, EG_WAL_CHECKPOINT_FILE, err);
    if (st) return st;
    st = eg_read_small_file(path, "write-ahead log " EG_WAL_CHECKPOINT_FILE, text, sizeof text, err);
    if (st == EG_NOT_FOUND) {
        *lsn = 1;
        eg_error_clear(err);
        return EG_OK;
    }
    if (st == EG_CORRUPT) return damaged(err, EG_WAL_CHECKPOINT_FILE, 0, "the file is too large to be a checkpoint");
    if (st) return st;
    if (!eg_wal_checkpoint_parse(text, lsn)) return damaged(err, EG_WAL_CHECKPOINT_FILE, 0, "unreadable checkpoint");
    return EG_OK;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static eg_status list_segments(const char *dir, survey *s, eg_error *err) {
    DIR *d = opendir(dir);
    if (!d) return eg_error_set(err, EG_IO, "cannot list the write-ahead log folder: %s", strerror(errno));
    size_t cap = 0;
    eg_status st = EG_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t number;
        if (eg_wal_segment_is_leftover(e->d_name)) s->leftovers = true;
        if (!eg_wal_segment_parse_name(e->d_name, &number)) continue;
        if (number == 0) {
            st = damaged(err, e->d_name, 0, "segment numbers start at 1");
            break;
        }
        if (s->count == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *bigger = realloc(s->numbers, cap * sizeof *bigger);
            if (!bigger) {
                st = eg_error_set(err, EG_INTERNAL, "out of memory listing the write-ahead log");
                break;
            }
            s->numbers = bigger;
        }
        s->numbers[s->count++] = number;
    }
    closedir(d);
    if (st) return st;
    if (s->count > 1) qsort(s->numbers, s->count, sizeof *s->numbers, compare_u64);
    for (size_t i = 1; i < s->count; i++) {
        if (s->numbers[i] == s->numbers[i - 1] + 1) continue;
        char missing[EG_WAL_NAME_CAP], before[EG_WAL_NAME_CAP], after[EG_WAL_NAME_CAP];
        eg_wal_segment_name(missing, s->numbers[i - 1] + 1);
        eg_wal_segment_name(before, s->numbers[i - 1]);
        eg_wal_segment_name(after, s->numbers[i]);
        return eg_error_set(err, EG_CORRUPT,
                            "write-ahead log damaged: %s at byte 0: the segment is missing (%s is followed by %s)",
                            missing, before, after);
    }
    return EG_OK;
}

/* Reads every header, then finds the oldest segment still needed: one whose successor starts above CHECKPOINT
 * (or the newest). Older ones hold only records below CHECKPOINT — left by a checkpoint that was interrupted
 * while removing them — and are neither read nor kept. */
static eg_status read_headers(const char *dir, uint64_t checkpoint_lsn, survey *s, eg_error *err) {
    s->first_lsns = malloc(s->count * sizeof *s->first_lsns);
    if (!s->first_lsns) return eg_error_set(err, EG_INTERNAL, "out of memory opening the write-ahead log");
    for (size_t i = 0; i < s->count; i++) {
        eg_wal_reader r;
        eg_status st = eg_wal_reader_open(&r, dir, s->numbers[i], err);
        if (st) return st;
        s->first_lsns[i] = r.header.first_lsn;
        eg_wal_reader_close(&r);
    }
    s->keep = 0;
    while (s->keep + 1 < s->count && s->first_lsns[s->keep + 1] <= checkpoint_lsn) {
        /* A segment is removed unread on the strength of its successor's header, so its own must agree: one
         * starting above its successor is damaged, and removing it would drop its records silently (found by
         * fuzz/fuzz_wal.c, fuzz/regressions/wal/removed-segment-starts-above-next). Kept segments get the same
         * check, and more, from read_segment. */
        if (s->first_lsns[s->keep] > s->first_lsns[s->keep + 1]) {
            char name[EG_WAL_NAME_CAP], problem[160];
            eg_wal_segment_name(name, s->numbers[s->keep]);
            snprintf(problem, sizeof problem,
                     "the segment starts at LSN %" PRIu64 ", above the one after it (LSN %" PRIu64 ")",
                     s->first_lsns[s->keep], s->first_lsns[s->keep + 1]);
            return damaged(err, name, EG_WAL_HEADER_FIRST_LSN_AT, problem);
        }
        s->keep++;
    }
    if (s->first_lsns[s->keep] > checkpoint_lsn) {
        char name[EG_WAL_NAME_CAP], problem[160];
        eg_wal_segment_name(name, s->numbers[s->keep]);
        snprintf(problem, sizeof problem,
                 "the oldest segment starts at LSN %" PRIu64 " but CHECKPOINT still needs LSN %" PRIu64
                 ": older records are missing",
                 s->first_lsns[s->keep], checkpoint_lsn);
        return damaged(err, name, EG_WAL_HEADER_FIRST_LSN_AT, problem);
    }
    return EG_OK;
}

/* Reads one segment still needed to its end, applying the torn-tail rule when it is the newest. */
static eg_status read_segment(eg_wal *w, survey *s, size_t i, uint64_t expected_first, eg_error *err) {
    bool newest = i + 1 == s->count;
    eg_wal_reader r;
    eg_status st = eg_wal_reader_open(&r, w->dir, s->numbers[i], err);
    if (st) return st;
    char problem[256];
    if (i > s->keep && r.header.first_lsn != expected_first) {
        snprintf(problem, sizeof problem,
                 "the segment starts at LSN %" PRIu64 " but the one before ends at LSN %" PRIu64, r.header.first_lsn,
                 expected_first - 1);
        st = damaged(err, r.name, EG_WAL_HEADER_FIRST_LSN_AT, problem);
        goto done;
    }
    for (;;) {
        eg_wal_frame kind;
        eg_wal_record record;
        if ((st = eg_wal_reader_next(&r, &kind, &record, err))) goto done;
        if (kind == EG_WAL_FRAME_RECORD) {
            s->records++;
            continue;
        }
        if (kind == EG_WAL_FRAME_END) break;
        if (kind == EG_WAL_FRAME_WRONG || !newest) {
            st = damaged(err, r.name, r.offset, r.problem);
            goto done;
        }
        /* Valid records after a bad one: in format 1 always damage; in format 2 only when one of them was written
         * after a sync covering the bad one had completed (its durable LSN reaches it). Otherwise the bad record
         * and everything after it were never acknowledged — written, then lost or kept out of order by a power
         * cut before any sync covered them — and they are cut as a torn tail. */
        uint64_t bad = r.offset, valid_at, from = bad + 1;
        bool valid_after;
        for (;;) {
            if ((st = eg_wal_reader_find_record(&r, from, r.next_lsn, &valid_after, &valid_at, err))) goto done;
            if (!valid_after) break;
            if (r.header.version < 2) {
                snprintf(problem, sizeof problem, "%s, yet a valid record follows at byte %" PRIu64, r.problem,
                         valid_at);
                st = damaged(err, r.name, bad, problem);
                goto done;
            }
            if (r.found_durable_lsn >= r.next_lsn) {
                snprintf(problem, sizeof problem,
                         "%s, yet the record at byte %" PRIu64 " (LSN %" PRIu64
                         ") was written after LSN %" PRIu64 " was synced",
                         r.problem, valid_at, r.found_lsn, r.next_lsn);
                st = damaged(err, r.name, bad, problem);
                goto done;
            }
            from = valid_at + 1;
        }
        s->torn_bytes = r.size - bad;
        break;
    }
    if (w->sync != EG_WAL_SYNC_NONE) {
        if (fdatasync(r.fd) != 0) {
            st = eg_error_set(err, EG_IO, "cannot sync write-ahead log segment %s: %s", r.name, strerror(errno));
            goto done;
        }
        w->syncs++;
    }
    s->next_lsn = r.next_lsn;
    s->end = r.offset;
    s->newest_version = r.header.version;
done:
    eg_wal_reader_close(&r);
    return st;
}

static eg_status check(eg_wal *w, survey *s, eg_error *err) {
    eg_status st;
    if ((st = read_checkpoint(w->dir, &w->checkpoint_lsn, err)) || (st = list_segments(w->dir, s, err))) return st;
    if (s->count == 0) {
        if (w->checkpoint_lsn != 1)
            return damaged(err, EG_WAL_CHECKPOINT_FILE, 0, "it keeps records the log no longer has: no segment exists");
        return EG_OK;
    }
    if ((st = read_headers(w->dir, w->checkpoint_lsn, s, err))) return st;
    uint64_t expected_first = s->first_lsns[s->keep];
    for (size_t i = s->keep; i < s->count; i++) {
        if ((st = read_segment(w, s, i, expected_first, err))) return st;
        expected_first = s->next_lsn;
    }
    /* A newest segment of an older format is followed by a new one at open: there must be a number for it. */
    if (s->newest_version < EG_WAL_FORMAT && s->numbers[s->count - 1] >= EG_WAL_SEGMENT_NUMBER_MAX) {
        char name[EG_WAL_NAME_CAP];
        eg_wal_segment_name(name, s->numbers[s->count - 1]);
        return damaged(err, name, EG_WAL_HEADER_NUMBER_AT,
                       "an older-format segment with no segment number left after it for new records");
    }
    if (w->checkpoint_lsn > s->next_lsn) {
        char problem[160];
        snprintf(problem, sizeof problem,
                 "it keeps from LSN %" PRIu64 ", beyond the end of the log (next LSN %" PRIu64 ")", w->checkpoint_lsn,
                 s->next_lsn);
        return damaged(err, EG_WAL_CHECKPOINT_FILE, 0, problem);
    }
    return EG_OK;
}

static eg_status remove_file(const char *dir, const char *name, eg_error *err) {
    char path[4096];
    eg_status st = eg_path_join(path, sizeof path, dir, name, err);
    if (st) return st;
    if (unlink(path) != 0 && errno != ENOENT)
        return eg_error_set(err, EG_IO, "cannot remove write-ahead log file %s: %s", name, strerror(errno));
    return EG_OK;
}

static eg_status remove_leftovers(const char *dir, eg_error *err) {
    DIR *d = opendir(dir);
    if (!d) return eg_error_set(err, EG_IO, "cannot list the write-ahead log folder: %s", strerror(errno));
    eg_status st = EG_OK;
    struct dirent *e;
    while (!st && (e = readdir(d)) != NULL)
        if (eg_wal_segment_is_leftover(e->d_name)) st = remove_file(dir, e->d_name, err);
    closedir(d);
    return st;
}

/* The changing phase: everything was checked. */
static eg_status apply(eg_wal *w, survey *s, eg_error *err) {
    bool durable = w->sync != EG_WAL_SYNC_NONE;
    eg_status st;
    if (s->leftovers && (st = remove_leftovers(w->dir, err))) return st;
    if (s->count == 0) {
        if (!eg_wal_reserve_segment(w))
            return eg_error_set(err, EG_INTERNAL, "out of memory opening the write-ahead log");
        if ((st = eg_wal_segment_create(w->dir, 1, 1, durable, &w->fd, &w->syncs, err))) return st;
        w->oldest = 1;
        w->first_lsns[0] = 1;
        w->segments = 1;
        w->end = EG_WAL_SEGMENT_HEADER;
        w->next_lsn = 1;
        return EG_OK;
    }
    char name[EG_WAL_NAME_CAP], path[4096];
    eg_wal_segment_name(name, s->numbers[s->count - 1]);
    if ((st = eg_path_join(path, sizeof path, w->dir, name, err))) return st;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return eg_error_set(err, EG_IO, "cannot open write-ahead log segment %s: %s", name, strerror(errno));
    if (s->torn_bytes) {
        if (ftruncate(fd, (off_t)s->end) != 0 || fdatasync(fd) != 0) {
            st = eg_error_set(err, EG_IO, "cannot cut the torn tail of %s: %s", name, strerror(errno));
            close(fd);
            return st;
        }
        w->syncs++;
    }
    w->fd = fd;
    for (size_t i = 0; i < s->keep; i++) {
        eg_wal_segment_name(name, s->numbers[i]);
        if ((st = remove_file(w->dir, name, err))) return st;
    }
    if ((s->keep > 0 || s->leftovers) && durable && (st = eg_wal_sync_folder(w->dir, err))) return st;
    w->oldest = s->numbers[s->keep];
    w->segments = s->count - s->keep;
    /* The survey's array becomes the log's list of first LSNs. */
    memmove(s->first_lsns, s->first_lsns + s->keep, w->segments * sizeof *s->first_lsns);
    w->first_lsns = s->first_lsns;
    w->segments_cap = s->count;
    s->first_lsns = NULL;
    w->end = s->end;
    w->next_lsn = s->next_lsn;
    return EG_OK;
}

eg_status eg_wal_open(const char *dir, const eg_wal_options *options, eg_wal **out, eg_wal_open_report *report,
                      eg_error *err) {
    if (report) memset(report, 0, sizeof *report);
    if (!dir || !*dir || !out)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "write-ahead log folder or out is missing");
    *out = NULL;
    eg_wal_sync sync = options ? options->sync : EG_WAL_SYNC_GROUP;
    if ((unsigned)sync > EG_WAL_SYNC_NONE)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "unknown write-ahead log sync mode %d", (int)sync);
    eg_status st = eg_mkdir(dir, "write-ahead log folder", err);
    if (st) return st;
    eg_wal *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return eg_error_set(err, EG_INTERNAL, "out of memory opening the write-ahead log");
    }
    w->fd = w->lock_fd = -1;
    w->sync = sync;
    w->segment_bytes = options && options->segment_bytes ? options->segment_bytes : EG_WAL_SEGMENT_DEFAULT;
    pthread_mutex_init(&w->checkpointing, NULL);
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->sync_done, NULL);

    char path[4096];
    survey s = {0};
    if ((st = eg_path_join(path, sizeof path, dir, "LOCK", err)) ||
        (st = eg_lock_file(path, "write-ahead log folder", &w->lock_fd, err)) || (st = check(w, &s, err)) ||
        (st = apply(w, &s, err))) {
        survey_free(&s);
        eg_wal_close(w);
        return st;
    }
    /* What is on disk: after the syncs of open in the durable modes, everything; in NONE mode only the segments
     * before the newest (each was synced before the next one started). Records carry this as their durable LSN. */
    w->synced_lsn = sync != EG_WAL_SYNC_NONE ? w->next_lsn - 1 : w->first_lsns[w->segments - 1] - 1;
    /* A newest segment of an older format gets no new records: they go to a new segment of the current one. */
    if (s.count > 0 && s.newest_version < EG_WAL_FORMAT) {
        pthread_mutex_lock(&w->mutex);
        st = eg_wal_rotate(w, err);
        pthread_mutex_unlock(&w->mutex);
        if (st) {
            survey_free(&s);
            eg_wal_close(w);
            return st;
        }
    }
    if (report) {
        report->segments = w->segments;
        report->records = s.records;
        report->next_lsn = w->next_lsn;
        report->checkpoint_lsn = w->checkpoint_lsn;
        report->torn_bytes = s.torn_bytes;
        report->torn_segment = s.torn_bytes ? s.numbers[s.count - 1] : 0;
    }
    survey_free(&s);
    *out = w;
    return EG_OK;
}
