/* format.c — segment names, headers, frames, the CHECKPOINT text, segment creation (see format.h). */
#include "wal/format.h"

#include "util/crc32c.h"
#include "util/files.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char MAGIC[8] = {'E', 'G', 'W', 'A', 'L', 'S', 'E', 'G'};

#define NAME_DIGITS 16
#define NAME_PREFIX "wal-"
#define NAME_SUFFIX ".log"
#define LEFTOVER_SUFFIX ".log.tmp"

void eg_wal_segment_name(char out[EG_WAL_NAME_CAP], uint64_t number) {
    snprintf(out, EG_WAL_NAME_CAP, NAME_PREFIX "%016" PRIu64 NAME_SUFFIX, number);
}

/* Parses "wal-<16 digits>" followed by exactly `suffix`. */
static bool parse_with_suffix(const char *name, const char *suffix, uint64_t *number) {
    size_t prefix = strlen(NAME_PREFIX);
    if (strncmp(name, NAME_PREFIX, prefix) != 0 || strcmp(name + prefix + NAME_DIGITS, suffix) != 0) return false;
    uint64_t n = 0;
    for (size_t i = prefix; i < prefix + NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        n = n * 10 + (uint64_t)(name[i] - '0');
    }
    *number = n;
    return true;
}

bool eg_wal_segment_parse_name(const char *name, uint64_t *number) {
    return strlen(name) == strlen(NAME_PREFIX) + NAME_DIGITS + strlen(NAME_SUFFIX) &&
           parse_with_suffix(name, NAME_SUFFIX, number);
}

bool eg_wal_segment_is_leftover(const char *name) {
    uint64_t unused;
    return strlen(name) == strlen(NAME_PREFIX) + NAME_DIGITS + strlen(LEFTOVER_SUFFIX) &&
           parse_with_suffix(name, LEFTOVER_SUFFIX, &unused);
}

eg_status eg_wal_segment_header_check(const unsigned char raw[EG_WAL_SEGMENT_HEADER], const char *name,
                                      uint64_t number, eg_wal_segment_header *out, eg_error *err) {
    if (memcmp(raw, MAGIC, sizeof MAGIC) != 0)
        return eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: %s at byte 0: not a segment header", name);
    out->version = eg_wal_get_u32(raw + EG_WAL_HEADER_VERSION_AT);
    out->reserved = eg_wal_get_u32(raw + EG_WAL_HEADER_RESERVED_AT);
    out->number = eg_wal_get_u64(raw + EG_WAL_HEADER_NUMBER_AT);
    out->first_lsn = eg_wal_get_u64(raw + EG_WAL_HEADER_FIRST_LSN_AT);
    if (out->version > EG_WAL_FORMAT)
        return eg_error_set(err, EG_INCOMPATIBLE,
                            "write-ahead log segment %s has format %" PRIu32
                            "; this engram reads format %u or older: upgrade engram",
                            name, out->version, EG_WAL_FORMAT);
    if (out->version == 0)
        return eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: %s at byte %u: format version 0", name,
                            EG_WAL_HEADER_VERSION_AT);
    if (out->reserved != 0)
        return eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: %s at byte %u: reserved field is not 0", name,
                            EG_WAL_HEADER_RESERVED_AT);
    if (out->number != number)
        return eg_error_set(err, EG_CORRUPT,
                            "write-ahead log damaged: %s at byte %u: header says segment %" PRIu64, name,
                            EG_WAL_HEADER_NUMBER_AT, out->number);
    if (out->first_lsn == 0)
        return eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: %s at byte %u: first LSN is 0", name,
                            EG_WAL_HEADER_FIRST_LSN_AT);
    return EG_OK;
}

uint32_t eg_wal_frame_encode(unsigned char head[EG_WAL_FRAME_HEAD], uint8_t type, uint64_t lsn, uint64_t durable_lsn,
                             const void *payload, size_t length) {
    eg_wal_put_u32(head, (uint32_t)(EG_WAL_LENGTH_MIN + length));
    head[4] = type;
    eg_wal_put_u64(head + 5, lsn);
    eg_wal_put_u64(head + EG_WAL_FRAME_DURABLE_AT, durable_lsn);
    return eg_crc32c(eg_crc32c(0, head, EG_WAL_FRAME_HEAD), payload, length);
}

#define CHECKPOINT_BANNER "engram wal checkpoint\n"
#define CHECKPOINT_KEY "keep from lsn "

size_t eg_wal_checkpoint_text(char *out, size_t cap, uint64_t keep_from_lsn) {
    int n = snprintf(out, cap, CHECKPOINT_BANNER CHECKPOINT_KEY "%" PRIu64 "\n", keep_from_lsn);
    return n < 0 ? 0 : (size_t)n;
}

bool eg_wal_checkpoint_parse(const char *text, uint64_t *keep_from_lsn) {
    const char *p = text;
    if (strncmp(p, CHECKPOINT_BANNER, strlen(CHECKPOINT_BANNER)) != 0) return false;
    p += strlen(CHECKPOINT_BANNER);
    if (strncmp(p, CHECKPOINT_KEY, strlen(CHECKPOINT_KEY)) != 0) return false;
    p += strlen(CHECKPOINT_KEY);
    uint64_t v = 0;
    const char *digits = p;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (p == digits || strcmp(p, "\n") != 0 || v == 0) return false;
    *keep_from_lsn = v;
    return true;
}

eg_status eg_wal_sync_folder(const char *dir, eg_error *err) {
    return eg_sync_folder(dir, "the write-ahead log folder", err);
}

static eg_status write_all(int fd, const unsigned char *p, size_t n, const char *name, eg_error *err) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return eg_error_set(err, EG_IO, "cannot write %s: %s", name, w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return EG_OK;
}

eg_status eg_wal_segment_create(const char *dir, uint64_t number, uint64_t first_lsn, bool durable, int *fd,
                                uint64_t *syncs, eg_error *err) {
    char name[EG_WAL_NAME_CAP], tmp_name[EG_WAL_NAME_CAP + 8], path[4096], tmp_path[4096];
    eg_wal_segment_name(name, number);
    snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
    eg_status st;
    if ((st = eg_path_join(path, sizeof path, dir, name, err)) ||
        (st = eg_path_join(tmp_path, sizeof tmp_path, dir, tmp_name, err)))
        return st;
    unsigned char header[EG_WAL_SEGMENT_HEADER] = {0};
    memcpy(header, MAGIC, sizeof MAGIC);
    eg_wal_put_u32(header + EG_WAL_HEADER_VERSION_AT, EG_WAL_FORMAT);
    eg_wal_put_u64(header + EG_WAL_HEADER_NUMBER_AT, number);
    eg_wal_put_u64(header + EG_WAL_HEADER_FIRST_LSN_AT, first_lsn);

    int f = open(tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f < 0) return eg_error_set(err, EG_IO, "cannot create %s: %s", tmp_name, strerror(errno));
    if ((st = write_all(f, header, sizeof header, tmp_name, err))) goto fail;
    if (durable) {
        if (fdatasync(f) != 0) {
            st = eg_error_set(err, EG_IO, "cannot sync %s: %s", tmp_name, strerror(errno));
            goto fail;
        }
        (*syncs)++;
    }
    if (rename(tmp_path, path) != 0) {
        st = eg_error_set(err, EG_IO, "cannot rename %s into place: %s", tmp_name, strerror(errno));
        goto fail;
    }
    if (durable && (st = eg_wal_sync_folder(dir, err))) {
        close(f);
        return st;
    }
    *fd = f;
    return EG_OK;
fail:
    close(f);
    unlink(tmp_path);
    return st;
}
