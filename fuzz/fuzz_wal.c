/* fuzz_wal.c — the write-ahead log's segment files, opened and replayed (src/wal/: eg_wal_open's check of
 * CHECKPOINT, names, headers and every record with its torn-tail rule; eg_wal_read; the append after a repair).
 *
 * Each input becomes the files of a fresh WAL folder (a scratch folder made once per process under $TMPDIR, else
 * /dev/shm, else /tmp, emptied after every input, so inputs are independent):
 *
 *   byte 0         flags (missing: 0)
 *                    0x01 write CHECKPOINT; the next byte c gives it: 0xff an unreadable text, 0xfe "keep from
 *                         lsn N" with N the next 8 bytes (little-endian), else "keep from lsn c" (c = 0 is
 *                         unreadable too: LSN 0 is refused)
 *                    0x02 two segments; the next two bytes (little-endian) s split the rest: the first segment
 *                         gets s % (rest + 1) bytes, the second the others
 *                    0x04 name the segments 1 and 2 whatever their headers say (else see below)
 *                    0x08 open with segment_bytes = 64, so the append below rotates to a new segment
 *                    0x10 leave a leftover `wal-<newest + 1>.log.tmp` (a rotation a crash interrupted)
 *                    0x20 fix the checksums: walking each segment's frames from byte 32 by their length fields
 *                         (up to the first that does not fit; frames laid out as the header's format says), write
 *                         each frame's right CRC32C, so that mutations of lengths, types, LSNs and durable LSNs
 *                         reach the checks behind the checksum
 *                    other bits are ignored
 *   the rest       the segment bytes, written as wal-<16 digits>.log. A segment is named after the number its
 *                  header holds (bytes 16..23) when that is a valid segment number (1 .. 10^16 - 1), else the
 *                  first is 1 and the second follows the first; a second segment whose number clashes with the
 *                  first's follows it too. So real segments keep their names and numbering gaps stay reachable.
 *
 * Then: eg_wal_open (sync mode NONE: no fsync per input; open's check phase is the same in every mode). If it
 * fails, every file must be as written (a damaged log is left exactly as found). If it succeeds, invariants are
 * asserted with abort(): eg_wal_read from LSN 0 is not_found exactly when the oldest segment kept starts above
 * 1; reading from the oldest record kept visits report.records records with consecutive LSNs ending at
 * next_lsn - 1; a torn tail was cut by exactly torn_bytes; leftovers are gone and only segments wholly below
 * CHECKPOINT were removed. Then one record is appended (its LSN must be next_lsn; it is refused only when no
 * LSN, or when rotating no segment number, is left), the log closed and reopened: the reopen must succeed
 * with nothing torn and hold the same records (less a segment a new one — the append's rotation, or the one the
 * open starts after a newest segment of format 1 — left wholly below CHECKPOINT, which the reopen removes) plus
 * the new one (compared record by record by a checksum of LSN, type, length and
 * payload). */
#define _GNU_SOURCE /* fuzz_scratch.h: nftw, mkdtemp */
#include "util/crc32c.h"
#include "wal/format.h"
#include "wal/wal.h"
#include "wal/wal_internal.h"
#include "fuzz_scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char wal_dir[4200];

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_wal: invariant broken at line %d: %s\n", __LINE__, #cond);                         \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* Empties the WAL folder for the next input. */
static void empty_wal_dir(void) { fuzz_remove_tree(wal_dir); }

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(wal_dir, sizeof wal_dir, "%s/wal", fuzz_scratch("wal"));
    return 0;
}

/* A file the input put in the folder. */
typedef struct planted {
    char name[EG_WAL_NAME_CAP + 8];
    const uint8_t *bytes;
    size_t size;
    uint64_t number;    /* segments only, else 0 */
    uint64_t first_lsn; /* from its header, when it has one */
} planted;

static void write_file(const char *name, const void *bytes, size_t size) {
    char path[4500];
    snprintf(path, sizeof path, "%s/%s", wal_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(size == 0 || write(fd, bytes, size) == (ssize_t)size);
    close(fd);
}

/* The file's bytes (malloc'ed, *size set), or NULL when it does not exist. */
static unsigned char *read_file(const char *name, size_t *size) {
    char path[4500];
    snprintf(path, sizeof path, "%s/%s", wal_dir, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat info;
    CHECK(fstat(fd, &info) == 0);
    *size = (size_t)info.st_size;
    unsigned char *bytes = malloc(*size ? *size : 1);
    CHECK(bytes);
    CHECK(*size == 0 || read(fd, bytes, *size) == (ssize_t)*size);
    close(fd);
    return bytes;
}

static uint64_t header_number(const uint8_t *bytes, size_t size) {
    if (size < EG_WAL_HEADER_NUMBER_AT + 8) return 0;
    uint64_t n = eg_wal_get_u64(bytes + EG_WAL_HEADER_NUMBER_AT);
    return n >= 1 && n <= EG_WAL_SEGMENT_NUMBER_MAX ? n : 0;
}

/* What a walk over the log saw. */
typedef struct walk {
    uint64_t count, first, last;
    uint32_t *digests; /* one per record visited, in LSN order (malloc'ed) */
} walk;

static uint32_t digest_record(uint32_t digest, uint64_t lsn, uint8_t type, const void *payload, size_t length) {
    unsigned char head[17];
    eg_wal_put_u64(head, lsn);
    head[8] = type;
    eg_wal_put_u64(head + 9, (uint64_t)length);
    digest = eg_crc32c(digest, head, sizeof head);
    return eg_crc32c(digest, payload, length);
}

static eg_status visit(void *ctx, const eg_wal_record *record, eg_error *err) {
    (void)err;
    walk *k = ctx;
    CHECK(record->type != 0);
    CHECK(record->length <= EG_WAL_RECORD_MAX);
    if (k->count == 0)
        k->first = record->lsn;
    else
        CHECK(record->lsn == k->last + 1);
    k->last = record->lsn;
    if ((k->count & (k->count - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power of two */
        k->digests = realloc(k->digests, sizeof *k->digests * (k->count ? 2 * k->count : 1));
        CHECK(k->digests);
    }
    k->digests[k->count++] = digest_record(0, record->lsn, record->type, record->payload, record->length);
    return EG_OK;
}

/* Reads an open log whole and checks it against its open report. */
static walk replay(eg_wal *w, const eg_wal_open_report *report) {
    eg_error err;
    walk k = {0};
    uint64_t oldest = w->first_lsns[0];
    eg_status st = eg_wal_read(w, 0, visit, &k, &err);
    if (oldest > 1) {
        CHECK(st == EG_NOT_FOUND);
        CHECK(k.count == 0);
    } else {
        CHECK(st == EG_OK);
        free(k.digests);
        k = (walk){0};
    }
    CHECK(eg_wal_read(w, oldest, visit, &k, &err) == EG_OK);
    CHECK(k.count == report->records);
    CHECK(oldest + report->records == report->next_lsn);
    if (k.count) {
        CHECK(k.first == oldest);
        CHECK(k.last == report->next_lsn - 1);
    }
    CHECK(report->checkpoint_lsn >= oldest && report->checkpoint_lsn <= report->next_lsn);
    /* From the checkpoint on, exactly the records from there are visited. */
    walk from_checkpoint = {0};
    CHECK(eg_wal_read(w, report->checkpoint_lsn, visit, &from_checkpoint, &err) == EG_OK);
    CHECK(from_checkpoint.count == report->next_lsn - report->checkpoint_lsn);
    free(from_checkpoint.digests);
    return k;
}

/* Rewrites the CRC32C of every frame of a segment that its length fields chain together (flag 0x20). */
static void fix_checksums(uint8_t *segment, size_t size) {
    if (size < EG_WAL_SEGMENT_HEADER) return;
    /* frames are laid out as the header's format version says (format 1 has no durable LSN) */
    uint32_t head = eg_wal_frame_head_size(eg_wal_get_u32(segment + EG_WAL_HEADER_VERSION_AT));
    for (size_t at = EG_WAL_SEGMENT_HEADER; at + head + 4u <= size;) {
        uint32_t length = eg_wal_get_u32(segment + at);
        if (length < head - 4u || length > size - at - 8) break;
        eg_wal_put_u32(segment + at + 4 + length, eg_crc32c(0, segment + at, 4u + length));
        at += 8u + length;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!wal_dir[0]) LLVMFuzzerInitialize(NULL, NULL);
    empty_wal_dir();
    CHECK(mkdir(wal_dir, 0755) == 0);

    size_t at = 0;
    uint8_t flags = size > at ? data[at++] : 0;
    planted files[4];
    size_t nfiles = 0, nsegments = 0;
    char checkpoint_text[EG_WAL_CHECKPOINT_CAP];
    if (flags & 0x01) {
        uint8_t c = size > at ? data[at++] : 0;
        size_t length;
        if (c == 0xff) {
            length = (size_t)snprintf(checkpoint_text, sizeof checkpoint_text,
                                      "engram wal checkpoint\nkeep from lsn x\n");
        } else if (c == 0xfe) {
            uint64_t lsn = 0;
            for (int i = 0; i < 8 && size > at; i++) lsn |= (uint64_t)data[at++] << (8 * i);
            length = eg_wal_checkpoint_text(checkpoint_text, sizeof checkpoint_text, lsn);
        } else {
            length = eg_wal_checkpoint_text(checkpoint_text, sizeof checkpoint_text, c);
        }
        planted *f = &files[nfiles++];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", EG_WAL_CHECKPOINT_FILE);
        f->bytes = (const uint8_t *)checkpoint_text;
        f->size = length;
    }
    size_t split = SIZE_MAX;
    if (flags & 0x02) {
        size_t s = 0;
        if (size > at) s = data[at++];
        if (size > at) s |= (size_t)data[at++] << 8;
        split = s % (size - at + 1);
    }
    size_t rest_size = size - at;
    uint8_t *copy = malloc(rest_size ? rest_size : 1); /* the segment bytes, checksums fixed with 0x20 */
    CHECK(copy);
    if (rest_size) memcpy(copy, data + at, rest_size);
    const uint8_t *rest = copy;
    size_t sizes[2] = {rest_size, 0};
    if (split != SIZE_MAX) {
        sizes[0] = split;
        sizes[1] = rest_size - split;
    }
    for (int i = 0; i < (split != SIZE_MAX ? 2 : 1); i++) {
        planted *f = &files[nfiles++];
        memset(f, 0, sizeof *f);
        f->bytes = i == 0 ? rest : rest + sizes[0];
        f->size = sizes[i];
        uint64_t number = flags & 0x04 ? 0 : header_number(f->bytes, f->size);
        if (i == 0 && number == 0) number = 1;
        if (i == 1) {
            uint64_t first = files[nfiles - 2].number;
            if (number == 0 || number == first) number = first < EG_WAL_SEGMENT_NUMBER_MAX ? first + 1 : first - 1;
        }
        f->number = number;
        if (flags & 0x20) fix_checksums(copy + (f->bytes - rest), f->size);
        if (f->size >= EG_WAL_SEGMENT_HEADER) f->first_lsn = eg_wal_get_u64(f->bytes + EG_WAL_HEADER_FIRST_LSN_AT);
        eg_wal_segment_name(f->name, number);
        nsegments++;
    }
    uint64_t newest = 0;
    for (size_t i = 0; i < nfiles; i++)
        if (files[i].number > newest) newest = files[i].number;
    if (flags & 0x10) {
        planted *f = &files[nfiles++];
        memset(f, 0, sizeof *f);
        char name[EG_WAL_NAME_CAP];
        eg_wal_segment_name(name, newest < EG_WAL_SEGMENT_NUMBER_MAX ? newest + 1 : newest); /* a name open knows */
        snprintf(f->name, sizeof f->name, "%s.tmp", name);
        f->bytes = rest;
        f->size = rest_size < EG_WAL_SEGMENT_HEADER ? rest_size : EG_WAL_SEGMENT_HEADER;
    }
    for (size_t i = 0; i < nfiles; i++) write_file(files[i].name, files[i].bytes, files[i].size);

    eg_wal_options options = {.sync = EG_WAL_SYNC_NONE, .segment_bytes = flags & 0x08 ? 64 : 0};
    eg_wal *w = NULL;
    eg_wal_open_report report;
    eg_error err;
    eg_status st = eg_wal_open(wal_dir, &options, &w, &report, &err);
    if (st != EG_OK) {
        /* Damage is reported, never repaired: every file is as the input wrote it. */
        CHECK(w == NULL);
        CHECK(st == EG_CORRUPT || st == EG_INCOMPATIBLE);
        for (size_t i = 0; i < nfiles; i++) {
            size_t found_size = 0;
            unsigned char *found = read_file(files[i].name, &found_size);
            CHECK(found != NULL);
            CHECK(found_size == files[i].size && memcmp(found, files[i].bytes, found_size) == 0);
            free(found);
        }
        empty_wal_dir();
        free(copy);
        return 0;
    }

    /* Opened: check what it did to the files. */
    CHECK(report.next_lsn >= 1);
    for (size_t i = 0; i < nfiles; i++) {
        planted *f = &files[i];
        size_t found_size = 0;
        unsigned char *found = read_file(f->name, &found_size);
        if (!f->number) {
            if (strcmp(f->name, EG_WAL_CHECKPOINT_FILE) == 0)
                CHECK(found && found_size == f->size);
            else
                CHECK(!found); /* the .tmp leftover */
        } else if (!found) {
            /* Removed: only a segment whose records all lie below CHECKPOINT, i.e. one followed by a segment
             * starting at or below it, and starting no later than that one. */
            const planted *next = NULL;
            for (size_t j = 0; j < nfiles; j++)
                if (files[j].number && files[j].number == f->number + 1) next = &files[j];
            CHECK(next != NULL);
            CHECK(next->first_lsn <= report.checkpoint_lsn);
            CHECK(f->first_lsn <= next->first_lsn);
        } else if (f->number == report.torn_segment && report.torn_bytes) {
            CHECK(found_size + report.torn_bytes == f->size);
            CHECK(memcmp(found, f->bytes, found_size) == 0);
        } else {
            CHECK(found_size == f->size && memcmp(found, f->bytes, found_size) == 0);
        }
        free(found);
    }
    walk before = replay(w, &report);
    uint64_t oldest_before = w->first_lsns[0];

    /* Append one record to the repaired log, then reopen: it must hold what it held, plus that record, less the
     * segments the reopen removed because a rotation left them wholly below CHECKPOINT. */
    uint8_t type = (uint8_t)(1 + size % 255);
    size_t length = size < 40 ? size : 40;
    uint64_t lsn = 0;
    st = eg_wal_append(w, type, data, length, &lsn, &err);
    bool appended = st == EG_OK;
    if (appended) {
        CHECK(lsn == report.next_lsn);
    } else {
        /* Refused only when the log has no LSN left, or (rotating) no segment number. */
        CHECK(st == EG_CORRUPT);
        CHECK(report.next_lsn == UINT64_MAX ||
              ((flags & 0x08) && w->oldest + w->segments - 1 == EG_WAL_SEGMENT_NUMBER_MAX));
    }
    /* A segment newer than every planted one: started by the append's rotation (0x08), or by the open, which
     * starts one when the newest segment is of format 1. Only then can the reopen find a segment to drop. */
    bool started_segment = w->oldest + w->segments - 1 > newest;
    eg_wal_close(w);
    w = NULL;

    eg_wal_open_report again;
    st = eg_wal_open(wal_dir, &options, &w, &again, &err);
    if (st != EG_OK) fprintf(stderr, "fuzz_wal: reopen failed: %s\n", err.message);
    CHECK(st == EG_OK);
    CHECK(again.torn_bytes == 0);
    CHECK(again.checkpoint_lsn == report.checkpoint_lsn);
    CHECK(again.next_lsn == report.next_lsn + appended);
    uint64_t oldest_after = w->first_lsns[0];
    CHECK(oldest_after >= oldest_before && oldest_after <= again.checkpoint_lsn);
    uint64_t dropped = oldest_after - oldest_before;
    CHECK(oldest_after == oldest_before || started_segment); /* only a new segment leaves one to drop */
    CHECK(again.records == report.records + appended - dropped);
    walk after = replay(w, &again);
    for (uint64_t i = 0; i < report.records - dropped; i++) CHECK(after.digests[i] == before.digests[dropped + i]);
    if (appended) CHECK(after.digests[after.count - 1] == digest_record(0, lsn, type, data, length));
    free(before.digests);
    free(after.digests);
    eg_wal_close(w);
    empty_wal_dir();
    free(copy);
    return 0;
}
