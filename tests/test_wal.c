/* test_wal.c — the write-ahead log against its contract (src/wal/wal.h): records of every size and type read
 * back as written; LSNs that continue across reopening, rotation and an empty newest segment; the torn tail
 * (cut at every byte of the last record, or damaged in its payload, checksum or length) cut off and reported;
 * damage anywhere else refused as EG_CORRUPT, naming the file and offset, with the files left byte-identical;
 * checkpoints; reads from the middle of a segment; the folder lock; sync mode names; group commit sharing
 * syncs between threads. */
#define _GNU_SOURCE
#include "test.h"
#include "util/crc32c.h"
#include "wal/format.h"
#include "wal/wal.h"
#include "wal/wal_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static eg_error err;

/* ---- Helpers ------------------------------------------------------------------------------------------ */

/* A log folder that does not exist yet (open must create it). */
static const char *fresh_dir(void) {
    static char dirs[64][512];
    static int used;
    char *d = dirs[used++ % 64];
    snprintf(d, 512, "%s/wal", test_scratch_dir());
    return d;
}

static eg_wal *open_log(const char *dir, eg_wal_sync sync, uint64_t segment_bytes, eg_wal_open_report *report) {
    eg_wal_options options = {sync, segment_bytes};
    eg_wal *w = NULL;
    eg_status st = eg_wal_open(dir, &options, &w, report, &err);
    if (st != EG_OK) fprintf(stderr, "  open: %s: %s\n", eg_status_name(st), err.message);
    return w;
}

/* The payload of the record with this LSN: recognisable, different for every LSN and position. */
static void fill_payload(unsigned char *buf, size_t length, uint64_t lsn) {
    uint64_t x = lsn * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < length; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

/* Appends a record of `length` bytes whose payload is fill_payload(expected LSN); returns its LSN (0 on error). */
static uint64_t append_sized(eg_wal *w, uint8_t type, size_t length) {
    unsigned char *buf = malloc(length ? length : 1);
    fill_payload(buf, length, eg_wal_next_lsn(w));
    uint64_t lsn = 0;
    eg_status st = eg_wal_append(w, type, buf, length, &lsn, &err);
    if (st != EG_OK) fprintf(stderr, "  append: %s: %s\n", eg_status_name(st), err.message);
    free(buf);
    return st == EG_OK ? lsn : 0;
}

typedef struct seen {
    uint64_t lsn[4096];
    uint8_t type[4096];
    size_t length[4096];
    size_t count;
    int bad_payloads;
    uint64_t stop_at; /* visit returns EG_CONFLICT at this LSN (0: never) */
} seen;

static eg_status remember(void *ctx, const eg_wal_record *r, eg_error *e) {
    seen *s = ctx;
    if (s->count < 4096) {
        s->lsn[s->count] = r->lsn, s->type[s->count] = r->type, s->length[s->count] = r->length;
        s->count++;
    }
    unsigned char *want = malloc(r->length ? r->length : 1);
    fill_payload(want, r->length, r->lsn);
    if (r->length && memcmp(want, r->payload, r->length) != 0) s->bad_payloads++;
    free(want);
    if (r->lsn == s->stop_at) return eg_error_set(e, EG_CONFLICT, "stop");
    return EG_OK;
}

/* Reads from from_lsn; true when the LSNs seen are exactly from_lsn, from_lsn + 1, ..., to_lsn with the payloads
 * they were written with. */
static bool reads_exactly(eg_wal *w, uint64_t from_lsn, uint64_t to_lsn) {
    static seen s;
    memset(&s, 0, sizeof s);
    eg_status st = eg_wal_read(w, from_lsn, remember, &s, &err);
    if (st != EG_OK) {
        fprintf(stderr, "  read: %s: %s\n", eg_status_name(st), err.message);
        return false;
    }
    bool ok = s.bad_payloads == 0 && s.count == (to_lsn >= from_lsn ? to_lsn - from_lsn + 1 : 0);
    for (size_t i = 0; ok && i < s.count; i++) ok = s.lsn[i] == from_lsn + i;
    if (!ok) fprintf(stderr, "  read %zu records (%d bad payloads), expected %" PRIu64 "..%" PRIu64 "\n", s.count,
                     s.bad_payloads, from_lsn, to_lsn);
    return ok;
}

static const char *segment_path(const char *dir, uint64_t number) {
    static char path[512];
    char name[EG_WAL_NAME_CAP];
    eg_wal_segment_name(name, number);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

static void flip_byte(const char *path, uint64_t offset) {
    int fd = open(path, O_RDWR);
    unsigned char b;
    if (fd < 0 || pread(fd, &b, 1, (off_t)offset) != 1) abort();
    b ^= 0x40;
    if (pwrite(fd, &b, 1, (off_t)offset) != 1) abort();
    close(fd);
}

static unsigned char *read_all(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *length = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*length + 1);
    if (fread(buf, 1, *length, f) != *length) abort();
    fclose(f);
    return buf;
}

static void write_all(const char *path, const void *data, size_t length) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, length, f) != length) abort();
    fclose(f);
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every file of the folder but LOCK, names and contents, in name order: to prove a refused open changed nothing. */
static char *folder_snapshot(const char *dir, size_t *length) {
    DIR *d = opendir(dir);
    char *names[512];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < 512)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "LOCK") != 0) names[n++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(names, (size_t)n, sizeof *names, compare_names);
    char *out = NULL;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        char path[1024];
        size_t size;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unsigned char *content = read_all(path, &size);
        out = realloc(out, used + strlen(names[i]) + 1 + size);
        memcpy(out + used, names[i], strlen(names[i]) + 1);
        used += strlen(names[i]) + 1;
        memcpy(out + used, content, size);
        used += size;
        free(content);
        free(names[i]);
    }
    *length = used;
    return out;
}

/* Opening must fail with `expected`, name `file` (and `at`, when given) in the message, and change no file. */
static void check_refused(const char *dir, eg_status expected, const char *file, const char *at) {
    size_t before_length, after_length;
    char *before = folder_snapshot(dir, &before_length);
    eg_wal *w = NULL;
    eg_wal_options options = {EG_WAL_SYNC_GROUP, 0};
    eg_status st = eg_wal_open(dir, &options, &w, NULL, &err);
    CHECK(st == expected);
    CHECK(w == NULL);
    if (st != expected) fprintf(stderr, "  open: %s (%s)\n", eg_status_name(st), err.message);
    CHECK(strstr(err.message, file) != NULL);
    if (at) CHECK(strstr(err.message, at) != NULL);
    if ((file && !strstr(err.message, file)) || (at && !strstr(err.message, at)))
        fprintf(stderr, "  message: %s\n", err.message);
    char *after = folder_snapshot(dir, &after_length);
    CHECK(before_length == after_length && memcmp(before, after, before_length) == 0);
    free(before);
    free(after);
    eg_wal_close(w);
}

static const char *segment_name(uint64_t number) {
    static char name[EG_WAL_NAME_CAP];
    eg_wal_segment_name(name, number);
    return name;
}

static const char *at_byte(uint64_t offset) {
    static char text[64];
    snprintf(text, sizeof text, "at byte %" PRIu64 ":", offset);
    return text;
}

/* ---- Records and LSNs --------------------------------------------------------------------------------- */

TEST(missing_folder_is_created_and_starts_at_lsn_1) {
    const char *dir = fresh_dir();
    eg_wal_open_report report;
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 0, &report);
    REQUIRE(w);
    CHECK(exists(segment_path(dir, 1)));
    CHECK(file_size(segment_path(dir, 1)) == EG_WAL_SEGMENT_HEADER);
    CHECK(report.segments == 1 && report.records == 0 && report.next_lsn == 1 && report.checkpoint_lsn == 1);
    CHECK(report.torn_bytes == 0 && report.torn_segment == 0);
    CHECK(eg_wal_next_lsn(w) == 1 && eg_wal_checkpoint_lsn(w) == 1);
    CHECK(reads_exactly(w, 1, 0));
    eg_wal_close(w);
    eg_wal_close(NULL);
}

TEST(records_of_every_size_round_trip) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 0, NULL);
    REQUIRE(w);
    size_t sizes[] = {0, 1, 64 * 1024, 5 * 1024 * 1024};
    uint8_t types[] = {1, 7, 200, 255};
    for (int i = 0; i < 4; i++) CHECK(append_sized(w, types[i], sizes[i]) == (uint64_t)i + 1);
    for (int pass = 0; pass < 2; pass++) {
        static seen s;
        memset(&s, 0, sizeof s);
        CHECK_OK(eg_wal_read(w, 1, remember, &s, &err), &err);
        CHECK(s.count == 4 && s.bad_payloads == 0);
        for (size_t i = 0; i < s.count; i++) {
            CHECK(s.lsn[i] == i + 1);
            CHECK(s.type[i] == types[i]);
            CHECK(s.length[i] == sizes[i]);
        }
        eg_wal_close(w); /* the second pass reads what reopening found */
        eg_wal_open_report report;
        w = open_log(dir, EG_WAL_SYNC_GROUP, 0, &report);
        REQUIRE(w);
        CHECK(report.records == 4 && report.next_lsn == 5 && report.torn_bytes == 0);
    }
    eg_wal_close(w);
}

TEST(oversized_type_0_and_missing_payloads_are_refused) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 0, NULL);
    REQUIRE(w);
    unsigned char one = 1;
    uint64_t lsn = 0;
    /* Refused before the payload is touched, so one byte stands for EG_WAL_RECORD_MAX + 1. */
    CHECK_STATUS(eg_wal_append(w, 1, &one, (size_t)EG_WAL_RECORD_MAX + 1, &lsn, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "limit") != NULL);
    CHECK_STATUS(eg_wal_append(w, 0, &one, 1, &lsn, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_wal_append(w, 1, NULL, 1, &lsn, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(lsn == 0 && eg_wal_next_lsn(w) == 1);
    CHECK_OK(eg_wal_append(w, 1, NULL, 0, NULL, &err), &err);
    /* The largest record fits, alone in a segment much smaller than it. */
    eg_wal_close(w);
    w = open_log(dir, EG_WAL_SYNC_NONE, 4096, NULL);
    REQUIRE(w);
    CHECK(append_sized(w, 9, EG_WAL_RECORD_MAX) == 2);
    CHECK(file_size(segment_path(dir, 2)) == EG_WAL_SEGMENT_HEADER + EG_WAL_FRAME_OVERHEAD + EG_WAL_RECORD_MAX);
    CHECK(reads_exactly(w, 1, 2));
    eg_wal_close(w);
    eg_wal_open_report report;
    w = open_log(dir, EG_WAL_SYNC_NONE, 4096, &report);
    REQUIRE(w);
    CHECK(report.records == 2 && report.next_lsn == 3);
    eg_wal_close(w);
}

TEST(lsns_continue_across_reopening) {
    const char *dir = fresh_dir();
    for (uint64_t round = 0; round < 3; round++) {
        eg_wal_open_report report;
        eg_wal *w = open_log(dir, EG_WAL_SYNC_FSYNC, 0, &report);
        REQUIRE(w);
        CHECK(report.next_lsn == round * 5 + 1 && report.records == round * 5);
        for (uint64_t i = 1; i <= 5; i++) CHECK(append_sized(w, 3, 100) == round * 5 + i);
        eg_wal_stats stats;
        eg_wal_stats_get(w, &stats);
        CHECK(stats.appends == 5);
        CHECK(stats.syncs >= 5); /* FSYNC: every append syncs itself */
        CHECK(reads_exactly(w, 1, round * 5 + 5));
        eg_wal_close(w);
    }
}

TEST(rotation_keeps_lsns_contiguous) {
    const char *dir = fresh_dir();
    /* 42-byte payloads make 67-byte frames: three fit in 256 bytes after the 32-byte header. */
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 256, NULL);
    REQUIRE(w);
    for (uint64_t i = 1; i <= 20; i++) CHECK(append_sized(w, 1, 42) == i);
    eg_wal_stats stats;
    eg_wal_stats_get(w, &stats);
    CHECK(stats.segments == 7);
    for (uint64_t n = 1; n <= 6; n++) CHECK(file_size(segment_path(dir, n)) == 32 + 3 * 67);
    CHECK(file_size(segment_path(dir, 7)) == 32 + 2 * 67);
    /* A record larger than segment_bytes gets a segment of its own. */
    CHECK(append_sized(w, 2, 1000) == 21);
    CHECK(append_sized(w, 2, 10) == 22);
    CHECK(file_size(segment_path(dir, 8)) == 32 + EG_WAL_FRAME_OVERHEAD + 1000);
    CHECK(file_size(segment_path(dir, 9)) == 32 + EG_WAL_FRAME_OVERHEAD + 10);
    CHECK(reads_exactly(w, 1, 22));
    eg_wal_close(w);
    eg_wal_open_report report;
    w = open_log(dir, EG_WAL_SYNC_GROUP, 256, &report);
    REQUIRE(w);
    CHECK(report.segments == 9 && report.records == 22 && report.next_lsn == 23);
    CHECK(append_sized(w, 1, 42) == 23);
    CHECK(reads_exactly(w, 1, 23));
    eg_wal_close(w);
}

TEST(empty_newest_segment_keeps_the_next_lsn) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 256, NULL);
    REQUIRE(w);
    for (uint64_t i = 1; i <= 7; i++) CHECK(append_sized(w, 1, 42) == i);
    eg_wal_close(w);
    /* What a crash right after a rotation leaves: segment 4 created, starting at LSN 8, holding nothing. */
    int fd;
    uint64_t syncs = 0;
    REQUIRE(eg_wal_segment_create(dir, 4, 8, true, &fd, &syncs, &err) == EG_OK);
    close(fd);
    for (int round = 0; round < 2; round++) {
        eg_wal_open_report report;
        w = open_log(dir, EG_WAL_SYNC_GROUP, 256, &report);
        REQUIRE(w);
        CHECK(report.segments == 4 && report.records == 7 && report.next_lsn == 8 && report.torn_bytes == 0);
        CHECK(reads_exactly(w, 1, 7));
        eg_wal_close(w);
    }
    w = open_log(dir, EG_WAL_SYNC_GROUP, 256, NULL);
    REQUIRE(w);
    CHECK(append_sized(w, 1, 42) == 8);
    CHECK(file_size(segment_path(dir, 4)) == 32 + 67);
    CHECK(!exists(segment_path(dir, 5)));
    CHECK(reads_exactly(w, 1, 8));
    eg_wal_close(w);
}

TEST(leftover_of_an_interrupted_rotation_is_removed) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 0, NULL);
    REQUIRE(w);
    CHECK(append_sized(w, 1, 10) == 1);
    eg_wal_close(w);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", segment_path(dir, 2));
    write_all(tmp, "EGWA", 4); /* a header cut short, never renamed into place */
    eg_wal_open_report report;
    w = open_log(dir, EG_WAL_SYNC_GROUP, 0, &report);
    REQUIRE(w);
    CHECK(report.segments == 1 && report.next_lsn == 2);
    CHECK(!exists(tmp));
    eg_wal_close(w);
}

/* ---- Torn tails --------------------------------------------------------------------------------------- */

/* A log of one segment holding four records (the last of 100 bytes), appended in mode sync; returns where the last
 * record starts. */
static uint64_t four_records(const char *dir, eg_wal_sync sync) {
    eg_wal *w = open_log(dir, sync, 0, NULL);
    if (!w) return 0;
    append_sized(w, 1, 20);
    append_sized(w, 2, 0);
    append_sized(w, 3, 300);
    append_sized(w, 4, 100);
    eg_wal_close(w);
    return 32 + (EG_WAL_FRAME_OVERHEAD + 20) + (EG_WAL_FRAME_OVERHEAD + 0) + (EG_WAL_FRAME_OVERHEAD + 300);
}

/* Reopens after tail damage: the last record is cut (torn_bytes of it), the rest intact, LSN 4 reused. */
static void check_torn(const char *dir, uint64_t last_start, uint64_t torn_bytes) {
    eg_wal_open_report report;
    eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 0, &report);
    REQUIRE(w);
    CHECK(report.torn_bytes == torn_bytes);
    CHECK(report.torn_segment == (torn_bytes ? 1u : 0u));
    CHECK(report.records == 3 && report.next_lsn == 4);
    CHECK(file_size(segment_path(dir, 1)) == last_start);
    CHECK(reads_exactly(w, 1, 3));
    CHECK(append_sized(w, 5, 64) == 4);
    CHECK(reads_exactly(w, 1, 4));
    eg_wal_close(w);
}

TEST(torn_tail_cut_at_every_byte_of_the_last_record) {
    const char *dir = fresh_dir();
    uint64_t last_start = four_records(dir, EG_WAL_SYNC_NONE);
    REQUIRE(last_start);
    size_t length;
    unsigned char *original = read_all(segment_path(dir, 1), &length);
    REQUIRE(original && length == last_start + EG_WAL_FRAME_OVERHEAD + 100);
    int failures_before = test_failures_in_current;
    for (uint64_t cut = last_start; cut < length && test_failures_in_current == failures_before; cut++) {
        write_all(segment_path(dir, 1), original, (size_t)cut);
        check_torn(dir, last_start, cut - last_start);
        if (test_failures_in_current != failures_before) fprintf(stderr, "  (cut at byte %" PRIu64 ")\n", cut);
    }
    free(original);
}

TEST(torn_tail_with_a_damaged_payload_checksum_or_length) {
    const char *dir = fresh_dir();
    uint64_t last_start = four_records(dir, EG_WAL_SYNC_NONE);
    REQUIRE(last_start);
    size_t length;
    unsigned char *original = read_all(segment_path(dir, 1), &length);
    REQUIRE(original);
    uint64_t damaged[] = {
        last_start + EG_WAL_FRAME_HEAD + 50, /* payload */
        length - 1,            /* checksum */
        last_start,            /* length, low byte: the frame now ends early */
        last_start + 3,        /* length, high byte: impossible */
        last_start + 4,        /* type */
        last_start + 5,        /* LSN */
    };
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        write_all(segment_path(dir, 1), original, length);
        flip_byte(segment_path(dir, 1), damaged[i]);
        check_torn(dir, last_start, length - last_start);
    }
    free(original);
}

/* ---- Damage that is not a torn tail ------------------------------------------------------------------- */

TEST(damaged_record_before_valid_ones_is_refused) {
    const char *dir = fresh_dir();
    uint64_t last_start = four_records(dir, EG_WAL_SYNC_FSYNC);
    REQUIRE(last_start);
    size_t length;
    unsigned char *original = read_all(segment_path(dir, 1), &length);
    uint64_t third = 32 + (EG_WAL_FRAME_OVERHEAD + 20) + EG_WAL_FRAME_OVERHEAD;
    uint64_t damaged[] = {third + EG_WAL_FRAME_HEAD + 150, third + 1, third, last_start - 1, third + 4};
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        write_all(segment_path(dir, 1), original, length);
        flip_byte(segment_path(dir, 1), damaged[i]);
        check_refused(dir, EG_CORRUPT, segment_name(1), at_byte(third));
    }
    /* A frame that checks out but carries the wrong LSN was never left by a crash, even at the tail. */
    write_all(segment_path(dir, 1), original, length);
    int fd = open(segment_path(dir, 1), O_RDWR);
    unsigned char head[EG_WAL_FRAME_HEAD], crc[4];
    unsigned char payload[100];
    fill_payload(payload, sizeof payload, 4);
    eg_wal_put_u32(crc, eg_wal_frame_encode(head, 4, 9, 0, payload, sizeof payload));
    CHECK(pwrite(fd, head, sizeof head, (off_t)last_start) == sizeof head);
    CHECK(pwrite(fd, crc, sizeof crc, (off_t)(length - 4)) == sizeof crc);
    close(fd);
    check_refused(dir, EG_CORRUPT, segment_name(1), at_byte(last_start));
    CHECK(strstr(err.message, "LSN 9") != NULL);
    free(original);
}

/* After a power cut, unsynced records can survive past a lost one. No record after the bad one says a sync
 * covered it (their durable LSNs are all below its LSN), so none of them was ever acknowledged: cut, not refused. */
TEST(unsynced_records_after_a_lost_one_are_cut) {
    const char *dir = fresh_dir();
    uint64_t last_start = four_records(dir, EG_WAL_SYNC_NONE);
    REQUIRE(last_start);
    size_t length;
    unsigned char *original = read_all(segment_path(dir, 1), &length);
    REQUIRE(original);
    uint64_t third = 32 + (EG_WAL_FRAME_OVERHEAD + 20) + EG_WAL_FRAME_OVERHEAD;
    uint64_t damaged[] = {third + EG_WAL_FRAME_HEAD + 150, third, last_start - 1};
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        write_all(segment_path(dir, 1), original, length);
        flip_byte(segment_path(dir, 1), damaged[i]);
        eg_wal_open_report report;
        eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 0, &report);
        REQUIRE(w);
        CHECK(report.torn_bytes == length - third && report.torn_segment == 1);
        CHECK(report.records == 2 && report.next_lsn == 3);
        CHECK(file_size(segment_path(dir, 1)) == third);
        CHECK(reads_exactly(w, 1, 2));
        eg_wal_close(w);
    }
    free(original);
}

/* Writes segment 1 in format 1 (frames without a durable LSN) holding LSNs 1..3 with fill_payload payloads of
 * 30 bytes; returns the offset of the second record. */
static uint64_t format_1_segment(const char *dir) {
    unsigned char bytes[32 + 3 * (EG_WAL_V1_FRAME_HEAD + 30 + 4)] = {0};
    memcpy(bytes, "EGWALSEG", 8);
    eg_wal_put_u32(bytes + EG_WAL_HEADER_VERSION_AT, 1);
    eg_wal_put_u64(bytes + EG_WAL_HEADER_NUMBER_AT, 1);
    eg_wal_put_u64(bytes + EG_WAL_HEADER_FIRST_LSN_AT, 1);
    size_t at = 32;
    for (uint64_t lsn = 1; lsn <= 3; lsn++) {
        unsigned char *frame = bytes + at;
        eg_wal_put_u32(frame, EG_WAL_V1_FRAME_HEAD - 4 + 30);
        frame[4] = 1;
        eg_wal_put_u64(frame + 5, lsn);
        fill_payload(frame + EG_WAL_V1_FRAME_HEAD, 30, lsn);
        eg_wal_put_u32(frame + EG_WAL_V1_FRAME_HEAD + 30, eg_crc32c(0, frame, EG_WAL_V1_FRAME_HEAD + 30));
        at += EG_WAL_V1_FRAME_HEAD + 30 + 4;
    }
    write_all(segment_path(dir, 1), bytes, sizeof bytes);
    return 32 + EG_WAL_V1_FRAME_HEAD + 30 + 4;
}

/* Segments written before format 2 are read as they are; new records go to a new segment of the current format,
 * and the old rule stays for the old segment: a bad record with a valid one after it is refused. */
TEST(format_1_segments_are_read_then_followed_by_a_new_one) {
    const char *dir = fresh_dir();
    REQUIRE(mkdir(dir, 0755) == 0 || errno == EEXIST);
    uint64_t second = format_1_segment(dir);
    eg_wal_open_report report;
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 0, &report);
    REQUIRE(w);
    CHECK(report.records == 3 && report.next_lsn == 4 && report.torn_bytes == 0);
    CHECK(exists(segment_path(dir, 2)));
    CHECK(append_sized(w, 2, 30) == 4);
    CHECK(reads_exactly(w, 1, 4));
    eg_wal_close(w);
    w = open_log(dir, EG_WAL_SYNC_GROUP, 0, &report);
    REQUIRE(w);
    CHECK(report.records == 4 && report.next_lsn == 5 && report.segments == 2);
    eg_wal_close(w);

    const char *fresh = fresh_dir();
    REQUIRE(mkdir(fresh, 0755) == 0 || errno == EEXIST);
    format_1_segment(fresh);
    flip_byte(segment_path(fresh, 1), second + EG_WAL_V1_FRAME_HEAD + 3);
    check_refused(fresh, EG_CORRUPT, segment_name(1), at_byte(second));
}

/* Five segments of three records (LSNs 1..15), closed. */
static void five_segments(const char *dir) {
    eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 256, NULL);
    if (!w) return;
    for (int i = 0; i < 15; i++) append_sized(w, 1, 42);
    eg_wal_close(w);
}

TEST(damage_in_an_older_segment_is_refused) {
    const char *dir = fresh_dir();
    five_segments(dir);
    REQUIRE(exists(segment_path(dir, 5)) && !exists(segment_path(dir, 6)));
    flip_byte(segment_path(dir, 2), 32 + 67 + EG_WAL_FRAME_HEAD + 5); /* middle record's payload */
    check_refused(dir, EG_CORRUPT, segment_name(2), at_byte(32 + 67));
    flip_byte(segment_path(dir, 2), 32 + 67 + EG_WAL_FRAME_HEAD + 5);
    flip_byte(segment_path(dir, 3), 32 + 2 * 67 + 66); /* the checksum of its last record */
    check_refused(dir, EG_CORRUPT, segment_name(3), at_byte(32 + 2 * 67));
    flip_byte(segment_path(dir, 3), 32 + 2 * 67 + 66);
    /* An older segment cut short is no torn tail either. */
    REQUIRE(truncate(segment_path(dir, 4), 32 + 2 * 67 + 30) == 0);
    check_refused(dir, EG_CORRUPT, segment_name(4), at_byte(32 + 2 * 67));
}

TEST(damaged_segment_headers_are_refused) {
    const char *dir = fresh_dir();
    five_segments(dir);
    struct {
        uint64_t segment, offset;
    } cases[] = {{2, 0}, {3, EG_WAL_HEADER_RESERVED_AT}, {4, EG_WAL_HEADER_NUMBER_AT},
                 {2, EG_WAL_HEADER_FIRST_LSN_AT}, {5, EG_WAL_HEADER_FIRST_LSN_AT}, {1, 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t at = cases[i].offset;
        flip_byte(segment_path(dir, cases[i].segment), at);
        check_refused(dir, EG_CORRUPT, segment_name(cases[i].segment), at_byte(at == 3 ? 0 : at));
        flip_byte(segment_path(dir, cases[i].segment), at);
    }
    /* A header shorter than 32 bytes (only a crash in NONE mode could leave the newest one so). */
    size_t length;
    unsigned char *original = read_all(segment_path(dir, 5), &length);
    write_all(segment_path(dir, 5), original, 20);
    check_refused(dir, EG_CORRUPT, segment_name(5), at_byte(20));
    write_all(segment_path(dir, 5), original, length);
    free(original);
    /* A newer format is refused as such, not as damage. */
    int fd = open(segment_path(dir, 3), O_RDWR);
    unsigned char version[4];
    eg_wal_put_u32(version, EG_WAL_FORMAT + 1);
    CHECK(pwrite(fd, version, 4, EG_WAL_HEADER_VERSION_AT) == 4);
    close(fd);
    check_refused(dir, EG_INCOMPATIBLE, segment_name(3), "upgrade");
}

TEST(missing_segments_are_refused) {
    const char *dir = fresh_dir();
    five_segments(dir);
    char moved[600];
    snprintf(moved, sizeof moved, "%s/elsewhere", test_scratch_dir());
    REQUIRE(rename(segment_path(dir, 3), moved) == 0);
    check_refused(dir, EG_CORRUPT, segment_name(3), "missing");
    REQUIRE(rename(moved, segment_path(dir, 3)) == 0);
    /* The oldest gone while no checkpoint released it. */
    REQUIRE(rename(segment_path(dir, 1), moved) == 0);
    check_refused(dir, EG_CORRUPT, segment_name(2), "CHECKPOINT");
    REQUIRE(rename(moved, segment_path(dir, 1)) == 0);
    eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 256, NULL);
    CHECK(w && reads_exactly(w, 1, 15));
    eg_wal_close(w);
}

TEST(damaged_checkpoint_files_are_refused) {
    const char *dir = fresh_dir();
    five_segments(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/" EG_WAL_CHECKPOINT_FILE, dir);
    write_all(path, "garbage\n", 8);
    check_refused(dir, EG_CORRUPT, EG_WAL_CHECKPOINT_FILE, NULL);
    char text[EG_WAL_CHECKPOINT_CAP];
    write_all(path, text, eg_wal_checkpoint_text(text, sizeof text, 17)); /* beyond the end (next LSN 16) */
    check_refused(dir, EG_CORRUPT, EG_WAL_CHECKPOINT_FILE, "beyond");
    write_all(path, text, eg_wal_checkpoint_text(text, sizeof text, 16));
    eg_wal_open_report report;
    eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 256, &report);
    REQUIRE(w);
    CHECK(report.checkpoint_lsn == 16);
    eg_wal_close(w);
}

TEST(damage_met_while_reading_is_reported) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 256, NULL);
    REQUIRE(w);
    for (int i = 0; i < 15; i++) append_sized(w, 1, 42);
    flip_byte(segment_path(dir, 4), 32 + 67 + 20);
    static seen s;
    memset(&s, 0, sizeof s);
    CHECK_STATUS(eg_wal_read(w, 2, remember, &s, &err), EG_CORRUPT, &err);
    CHECK(strstr(err.message, segment_name(4)) && strstr(err.message, at_byte(32 + 67)));
    CHECK(s.count == 9 && s.lsn[0] == 2 && s.lsn[8] == 10); /* everything before the damage was visited */
    eg_wal_close(w);
}

/* ---- Checkpoints -------------------------------------------------------------------------------------- */

TEST(checkpoint_removes_only_wholly_older_segments) {
    const char *dir = fresh_dir();
    five_segments(dir); /* segment n holds LSNs 3n-2 .. 3n */
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 256, NULL);
    REQUIRE(w);
    CHECK_OK(eg_wal_checkpoint(w, 8, &err), &err); /* in segment 3 */
    CHECK(!exists(segment_path(dir, 1)) && !exists(segment_path(dir, 2)));
    CHECK(exists(segment_path(dir, 3)) && exists(segment_path(dir, 5)));
    eg_wal_stats stats;
    eg_wal_stats_get(w, &stats);
    CHECK(stats.segments == 3 && eg_wal_checkpoint_lsn(w) == 8);
    CHECK(reads_exactly(w, 8, 15));
    CHECK(reads_exactly(w, 7, 15)); /* still on disk, in segment 3 */
    static seen s;
    CHECK_STATUS(eg_wal_read(w, 6, remember, &s, &err), EG_NOT_FOUND, &err);
    /* Lower is ignored, beyond the next LSN refused. */
    char path[600];
    snprintf(path, sizeof path, "%s/" EG_WAL_CHECKPOINT_FILE, dir);
    size_t before_length, after_length;
    unsigned char *before = read_all(path, &before_length);
    CHECK_OK(eg_wal_checkpoint(w, 5, &err), &err);
    CHECK(eg_wal_checkpoint_lsn(w) == 8);
    unsigned char *after = read_all(path, &after_length);
    CHECK(before_length == after_length && memcmp(before, after, before_length) == 0);
    free(before);
    free(after);
    CHECK_STATUS(eg_wal_checkpoint(w, 17, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(eg_wal_checkpoint_lsn(w) == 8);
    /* Up to the next LSN: every segment but the newest goes. */
    CHECK_OK(eg_wal_checkpoint(w, 16, &err), &err);
    eg_wal_stats_get(w, &stats);
    CHECK(stats.segments == 1 && exists(segment_path(dir, 5)) && !exists(segment_path(dir, 4)));
    CHECK(reads_exactly(w, 16, 15));
    CHECK(reads_exactly(w, 13, 15));
    eg_wal_close(w);

    eg_wal_open_report report;
    w = open_log(dir, EG_WAL_SYNC_GROUP, 256, &report);
    REQUIRE(w);
    CHECK(report.checkpoint_lsn == 16 && report.next_lsn == 16 && report.segments == 1 && report.records == 3);
    CHECK(append_sized(w, 1, 42) == 16);
    CHECK(reads_exactly(w, 16, 16));
    eg_wal_close(w);
}

TEST(checkpoint_never_removes_the_newest_segment) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 0, NULL);
    REQUIRE(w);
    CHECK_OK(eg_wal_checkpoint(w, 1, &err), &err); /* nothing appended yet: a no-op */
    CHECK_STATUS(eg_wal_checkpoint(w, 2, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(append_sized(w, 1, 5) == 1);
    CHECK_OK(eg_wal_checkpoint(w, 2, &err), &err);
    CHECK(exists(segment_path(dir, 1)));
    CHECK(reads_exactly(w, 2, 1));
    eg_wal_close(w);
    eg_wal_open_report report;
    w = open_log(dir, EG_WAL_SYNC_GROUP, 0, &report);
    REQUIRE(w);
    CHECK(report.checkpoint_lsn == 2 && report.next_lsn == 2);
    eg_wal_close(w);
}

TEST(open_finishes_an_interrupted_checkpoint) {
    const char *dir = fresh_dir();
    five_segments(dir);
    /* CHECKPOINT written, the segments it releases not yet removed. */
    char path[600], text[EG_WAL_CHECKPOINT_CAP];
    snprintf(path, sizeof path, "%s/" EG_WAL_CHECKPOINT_FILE, dir);
    write_all(path, text, eg_wal_checkpoint_text(text, sizeof text, 11));
    REQUIRE(unlink(segment_path(dir, 1)) == 0); /* the removal got as far as segment 1 */
    eg_wal_open_report report;
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 256, &report);
    REQUIRE(w);
    CHECK(report.segments == 2 && report.checkpoint_lsn == 11 && report.next_lsn == 16 && report.records == 6);
    CHECK(!exists(segment_path(dir, 2)) && !exists(segment_path(dir, 3)) && exists(segment_path(dir, 4)));
    CHECK(reads_exactly(w, 11, 15));
    eg_wal_close(w);
}

/* ---- Reads -------------------------------------------------------------------------------------------- */

TEST(read_from_the_middle_of_a_segment) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_NONE, 256, NULL);
    REQUIRE(w);
    for (int i = 0; i < 30; i++) append_sized(w, 1, 42);
    CHECK(reads_exactly(w, 17, 30)); /* segment 6 holds 16..18 */
    CHECK(reads_exactly(w, 16, 30));
    CHECK(reads_exactly(w, 30, 30));
    CHECK(reads_exactly(w, 31, 30));
    CHECK(reads_exactly(w, 1000, 30));
    static seen s;
    memset(&s, 0, sizeof s);
    CHECK_OK(eg_wal_read(w, 0, remember, &s, &err), &err); /* there is no LSN 0: from the first */
    CHECK(s.count == 30 && s.lsn[0] == 1);
    memset(&s, 0, sizeof s);
    s.stop_at = 20;
    CHECK_STATUS(eg_wal_read(w, 17, remember, &s, &err), EG_CONFLICT, &err);
    CHECK(s.count == 4 && s.lsn[3] == 20);
    CHECK_STATUS(eg_wal_read(w, 1, NULL, NULL, &err), EG_INVALID_ARGUMENT, &err);
    eg_wal_close(w);
}

typedef struct live_read {
    eg_wal *w;
    atomic_bool done;
    int failures;
    int reads;
} live_read;

static eg_status count_in_order(void *ctx, const eg_wal_record *r, eg_error *e) {
    (void)e;
    uint64_t *expected = ctx;
    return r->lsn == (*expected)++ ? EG_OK : EG_INTERNAL;
}

static void *read_repeatedly(void *arg) {
    live_read *l = arg;
    while (!atomic_load(&l->done)) {
        uint64_t expected = 1;
        eg_error e;
        if (eg_wal_read(l->w, 1, count_in_order, &expected, &e) != EG_OK) l->failures++;
        l->reads++;
    }
    return NULL;
}

TEST(reads_alongside_appends_see_a_contiguous_prefix) {
    const char *dir = fresh_dir();
    live_read l = {open_log(dir, EG_WAL_SYNC_NONE, 4096, NULL), false, 0, 0};
    REQUIRE(l.w);
    pthread_t reader;
    pthread_create(&reader, NULL, read_repeatedly, &l);
    for (int i = 0; i < 3000; i++) append_sized(l.w, 1, (size_t)(i % 200));
    atomic_store(&l.done, true);
    pthread_join(reader, NULL);
    CHECK(l.failures == 0 && l.reads > 0);
    CHECK(reads_exactly(l.w, 1, 3000));
    eg_wal_close(l.w);
}

TEST(a_failed_write_stops_appends_until_reopened) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 0, NULL);
    REQUIRE(w);
    CHECK(append_sized(w, 1, 10) == 1);
    CHECK(append_sized(w, 1, 10) == 2);
    /* Swap the segment's descriptor for a read-only one: the next write fails as a full or failing disk would. */
    int read_only = open(segment_path(dir, 1), O_RDONLY);
    REQUIRE(read_only >= 0 && dup2(read_only, w->fd) == w->fd);
    close(read_only);
    unsigned char payload[10] = {0};
    CHECK_STATUS(eg_wal_append(w, 1, payload, sizeof payload, NULL, &err), EG_IO, &err);
    CHECK(strstr(err.message, segment_name(1)) != NULL);
    CHECK_STATUS(eg_wal_append(w, 1, payload, sizeof payload, NULL, &err), EG_IO, &err);
    CHECK(strstr(err.message, "reopen") != NULL);
    CHECK_STATUS(eg_wal_checkpoint(w, 2, &err), EG_IO, &err);
    CHECK(eg_wal_next_lsn(w) == 3);
    CHECK(reads_exactly(w, 1, 2));
    eg_wal_close(w);
    eg_wal_open_report report;
    w = open_log(dir, EG_WAL_SYNC_GROUP, 0, &report);
    REQUIRE(w);
    CHECK(report.records == 2 && report.torn_bytes == 0);
    CHECK(append_sized(w, 1, 10) == 3);
    eg_wal_close(w);
}

/* ---- The folder lock, sync modes, group commit ------------------------------------------------------- */

TEST(second_opener_is_locked_out) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 0, NULL);
    REQUIRE(w);
    eg_wal *second = NULL;
    CHECK_STATUS(eg_wal_open(dir, NULL, &second, NULL, &err), EG_LOCKED, &err);
    CHECK(second == NULL);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        eg_wal *other;
        eg_error e;
        _exit(eg_wal_open(dir, NULL, &other, NULL, &e) == EG_LOCKED ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    eg_wal_close(w);
    w = open_log(dir, EG_WAL_SYNC_GROUP, 0, NULL);
    CHECK(w != NULL);
    eg_wal_close(w);
}

TEST(sync_modes_by_name) {
    const char *names[] = {"group", "fsync", "none"};
    for (eg_wal_sync s = EG_WAL_SYNC_GROUP; s <= EG_WAL_SYNC_NONE; s++) {
        CHECK(strcmp(eg_wal_sync_name(s), names[s]) == 0);
        eg_wal_sync parsed = EG_WAL_SYNC_NONE + 1;
        CHECK_OK(eg_wal_sync_parse(names[s], &parsed, &err), &err);
        CHECK(parsed == s);
    }
    eg_wal_sync parsed;
    CHECK_STATUS(eg_wal_sync_parse("GROUP", &parsed, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "GROUP") != NULL);
    CHECK_STATUS(eg_wal_sync_parse("", &parsed, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_wal_sync_parse(NULL, &parsed, &err), EG_INVALID_ARGUMENT, &err);
    eg_wal_options bad = {(eg_wal_sync)7, 0};
    eg_wal *w = NULL;
    CHECK_STATUS(eg_wal_open(fresh_dir(), &bad, &w, NULL, &err), EG_INVALID_ARGUMENT, &err);
}

/* Deferred records wait for no sync, in any mode; the next durable append's sync covers them. */
TEST(deferred_appends_ride_on_the_next_sync) {
    for (eg_wal_sync s = EG_WAL_SYNC_GROUP; s <= EG_WAL_SYNC_FSYNC; s++) {
        for (uint64_t segment_bytes = 0; segment_bytes <= 256; segment_bytes += 256) {
            const char *dir = fresh_dir();
            eg_wal *w = open_log(dir, s, segment_bytes, NULL);
            REQUIRE(w);
            eg_wal_stats before, after;
            eg_wal_stats_get(w, &before);
            char payload[100] = "deferred";
            uint64_t lsn = 0;
            for (int i = 0; i < 5; i++)
                CHECK_OK(eg_wal_append_deferred(w, 1, payload, sizeof payload, &lsn, &err), &err);
            CHECK(lsn == 5);
            eg_wal_stats_get(w, &after);
            CHECK(after.appends - before.appends == 5);
            if (!segment_bytes) CHECK(after.syncs == before.syncs); /* only rotations sync, 256-byte segments rotate */
            before = after;
            CHECK_OK(eg_wal_append(w, 1, "durable", 7, &lsn, &err), &err);
            CHECK(lsn == 6);
            eg_wal_stats_get(w, &after);
            if (!segment_bytes) CHECK(after.syncs - before.syncs == 1);
            eg_wal_close(w);
            eg_wal_open_report report;
            w = open_log(dir, s, segment_bytes, &report);
            REQUIRE(w);
            CHECK(report.records == 6 && report.next_lsn == 7 && report.torn_bytes == 0);
            eg_wal_close(w);
        }
    }
    CHECK_STATUS(eg_wal_append_deferred(NULL, 1, "x", 1, NULL, &err), EG_INVALID_ARGUMENT, &err);
}

#define THREADS 8
#define PER_THREAD 200

typedef struct appender {
    eg_wal *w;
    uint64_t lsns[PER_THREAD];
    int failures;
} appender;

static void *append_many(void *arg) {
    appender *a = arg;
    unsigned char payload[64];
    for (int i = 0; i < PER_THREAD; i++) {
        eg_error e;
        /* The payload names its own LSN once known; here it carries the thread's pointer and index. */
        memcpy(payload, &a, sizeof a);
        memcpy(payload + sizeof a, &i, sizeof i);
        if (eg_wal_append(a->w, 1, payload, sizeof payload, &a->lsns[i], &e) != EG_OK) a->failures++;
    }
    return NULL;
}

TEST(group_commit_shares_syncs_between_threads) {
    const char *dir = fresh_dir();
    eg_wal *w = open_log(dir, EG_WAL_SYNC_GROUP, 16 * 1024, NULL);
    REQUIRE(w);
    static appender a[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        a[i] = (appender){.w = w};
        pthread_create(&t[i], NULL, append_many, &a[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    static unsigned char used[THREADS * PER_THREAD + 1];
    memset(used, 0, sizeof used);
    int failures = 0, duplicates = 0, out_of_range = 0;
    for (int i = 0; i < THREADS; i++) {
        failures += a[i].failures;
        for (int j = 0; j < PER_THREAD; j++) {
            uint64_t lsn = a[i].lsns[j];
            if (lsn < 1 || lsn > THREADS * PER_THREAD) {
                out_of_range++;
                continue;
            }
            duplicates += used[lsn]++;
            if (j > 0 && lsn <= a[i].lsns[j - 1]) out_of_range++; /* one thread's records are in its order */
        }
    }
    CHECK(failures == 0 && duplicates == 0 && out_of_range == 0);
    eg_wal_stats stats;
    eg_wal_stats_get(w, &stats);
    printf("  %" PRIu64 " appends shared %" PRIu64 " syncs over %" PRIu64 " segments\n", stats.appends, stats.syncs,
           stats.segments);
    CHECK(stats.appends == THREADS * PER_THREAD);
    CHECK(stats.syncs < stats.appends);
    CHECK(eg_wal_next_lsn(w) == THREADS * PER_THREAD + 1);
    eg_wal_close(w);
    eg_wal_open_report report;
    w = open_log(dir, EG_WAL_SYNC_GROUP, 16 * 1024, &report);
    REQUIRE(w);
    CHECK(report.records == THREADS * PER_THREAD && report.torn_bytes == 0);
    eg_wal_close(w);
}

int main(void) {
    RUN(missing_folder_is_created_and_starts_at_lsn_1);
    RUN(records_of_every_size_round_trip);
    RUN(oversized_type_0_and_missing_payloads_are_refused);
    RUN(lsns_continue_across_reopening);
    RUN(rotation_keeps_lsns_contiguous);
    RUN(empty_newest_segment_keeps_the_next_lsn);
    RUN(leftover_of_an_interrupted_rotation_is_removed);
    RUN(torn_tail_cut_at_every_byte_of_the_last_record);
    RUN(torn_tail_with_a_damaged_payload_checksum_or_length);
    RUN(damaged_record_before_valid_ones_is_refused);
    RUN(unsynced_records_after_a_lost_one_are_cut);
    RUN(format_1_segments_are_read_then_followed_by_a_new_one);
    RUN(damage_in_an_older_segment_is_refused);
    RUN(damaged_segment_headers_are_refused);
    RUN(missing_segments_are_refused);
    RUN(damaged_checkpoint_files_are_refused);
    RUN(damage_met_while_reading_is_reported);
    RUN(checkpoint_removes_only_wholly_older_segments);
    RUN(checkpoint_never_removes_the_newest_segment);
    RUN(open_finishes_an_interrupted_checkpoint);
    RUN(read_from_the_middle_of_a_segment);
    RUN(reads_alongside_appends_see_a_contiguous_prefix);
    RUN(a_failed_write_stops_appends_until_reopened);
    RUN(second_opener_is_locked_out);
    RUN(sync_modes_by_name);
    RUN(deferred_appends_ride_on_the_next_sync);
    RUN(group_commit_shares_syncs_between_threads);
    return test_summary();
}
