/* reader.c — validated, streaming reads of one segment (see reader.h). */
#include "wal/reader.h"

#include "util/crc32c.h"
#include "util/files.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The smallest window: large enough that small records cost one pread per few thousand. */
#define WINDOW_MIN (256u * 1024u)

static eg_status read_error(eg_wal_reader *r, eg_error *err) {
    return eg_error_set(err, EG_IO, "cannot read write-ahead log segment %s: %s", r->name, strerror(errno));
}

/* Makes the window hold [at, at + need), which the caller guarantees lies within the readable size. Bytes already
 * held from `at` on are kept; the rest of the window is filled ahead, up to its capacity. */
static eg_status fill(eg_wal_reader *r, uint64_t at, size_t need, eg_error *err) {
    if (at >= r->buf_at && at + need <= r->buf_at + r->buf_len) return EG_OK;
    if (at >= r->buf_at && at < r->buf_at + r->buf_len) {
        size_t skip = (size_t)(at - r->buf_at);
        memmove(r->buf, r->buf + skip, r->buf_len - skip);
        r->buf_len -= skip;
    } else {
        r->buf_len = 0;
    }
    r->buf_at = at;
    if (need > r->buf_cap) {
        size_t cap = need > WINDOW_MIN ? need : WINDOW_MIN;
        unsigned char *bigger = realloc(r->buf, cap);
        if (!bigger) return eg_error_set(err, EG_INTERNAL, "out of memory reading write-ahead log segment %s", r->name);
        r->buf = bigger;
        r->buf_cap = cap;
    }
    while (r->buf_len < need) {
        uint64_t pos = r->buf_at + r->buf_len;
        size_t want = r->buf_cap - r->buf_len;
        if (want > r->size - pos) want = (size_t)(r->size - pos);
        ssize_t n = pread(r->fd, r->buf + r->buf_len, want, (off_t)pos);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return read_error(r, err);
        if (n == 0) /* only another process truncating the file behind the folder lock can do this */
            return eg_error_set(err, EG_CORRUPT, "write-ahead log damaged: %s at byte %" PRIu64 ": the file shrank",
                                r->name, pos);
        r->buf_len += (size_t)n;
    }
    return EG_OK;
}

static const unsigned char *window(const eg_wal_reader *r, uint64_t at) { return r->buf + (at - r->buf_at); }

eg_status eg_wal_reader_open(eg_wal_reader *r, const char *dir, uint64_t number, eg_error *err) {
    memset(r, 0, sizeof *r);
    r->fd = -1;
    eg_wal_segment_name(r->name, number);
    char path[4096];
    eg_status st = eg_path_join(path, sizeof path, dir, r->name, err);
    if (st) return st;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        if (errno == ENOENT)
            return eg_error_set(err, EG_NOT_FOUND, "write-ahead log segment %s does not exist", r->name);
        return eg_error_set(err, EG_IO, "cannot open write-ahead log segment %s: %s", r->name, strerror(errno));
    }
    struct stat info;
    if (fstat(r->fd, &info) != 0) {
        st = read_error(r, err);
        goto fail;
    }
    r->size = (uint64_t)info.st_size;
    if (r->size < EG_WAL_SEGMENT_HEADER) {
        st = eg_error_set(err, EG_CORRUPT,
                          "write-ahead log damaged: %s at byte %" PRIu64 ": the file ends inside its header", r->name,
                          r->size);
        goto fail;
    }
    if ((st = fill(r, 0, EG_WAL_SEGMENT_HEADER, err)) ||
        (st = eg_wal_segment_header_check(window(r, 0), r->name, number, &r->header, err)))
        goto fail;
    r->offset = EG_WAL_SEGMENT_HEADER;
    r->next_lsn = r->header.first_lsn;
    r->head = eg_wal_frame_head_size(r->header.version);
    return EG_OK;
fail:
    eg_wal_reader_close(r);
    return st;
}

void eg_wal_reader_limit(eg_wal_reader *r, uint64_t end) {
    if (end < r->size) r->size = end;
}

static eg_status classify(eg_wal_reader *r, eg_wal_frame *kind, eg_wal_frame verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static eg_status classify(eg_wal_reader *r, eg_wal_frame *kind, eg_wal_frame verdict, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof r->problem, fmt, ap);
    va_end(ap);
    *kind = verdict;
    return EG_OK;
}

eg_status eg_wal_reader_next(eg_wal_reader *r, eg_wal_frame *kind, eg_wal_record *record, eg_error *err) {
    uint64_t left = r->size - r->offset;
    if (left == 0) {
        *kind = EG_WAL_FRAME_END;
        return EG_OK;
    }
    uint32_t length_min = r->head - 4u;
    if (left < r->head + 4u)
        return classify(r, kind, EG_WAL_FRAME_TORN,
                        "incomplete record: the file ends %" PRIu64 " bytes after its start", left);
    eg_status st = fill(r, r->offset, r->head, err);
    if (st) return st;
    uint32_t length = eg_wal_get_u32(window(r, r->offset));
    if (length < length_min || length > length_min + EG_WAL_RECORD_MAX)
        return classify(r, kind, EG_WAL_FRAME_TORN, "impossible record length %" PRIu32, length);
    uint64_t frame = 8u + (uint64_t)length;
    if (frame > left)
        return classify(r, kind, EG_WAL_FRAME_TORN,
                        "incomplete record: it needs %" PRIu64 " bytes, the file ends %" PRIu64
                        " bytes after its start",
                        frame, left);
    if ((st = fill(r, r->offset, (size_t)frame, err))) return st;
    const unsigned char *p = window(r, r->offset);
    if (eg_crc32c(0, p, 4u + length) != eg_wal_get_u32(p + 4u + length))
        return classify(r, kind, EG_WAL_FRAME_TORN, "record fails its checksum");
    uint8_t type = p[4];
    uint64_t lsn = eg_wal_get_u64(p + 5);
    if (type == 0) return classify(r, kind, EG_WAL_FRAME_WRONG, "record has type 0, which is reserved");
    if (lsn != r->next_lsn)
        return classify(r, kind, EG_WAL_FRAME_WRONG, "record carries LSN %" PRIu64 " where %" PRIu64 " was expected",
                        lsn, r->next_lsn);
    record->lsn = lsn;
    record->type = type;
    record->payload = p + r->head;
    record->length = length - length_min;
    r->offset += frame;
    r->next_lsn++;
    *kind = EG_WAL_FRAME_RECORD;
    return EG_OK;
}

eg_status eg_wal_reader_find_record(eg_wal_reader *r, uint64_t from, uint64_t min_lsn, bool *found, uint64_t *at,
                                    eg_error *err) {
    *found = false;
    /* Records after min_lsn's would each take at least a frame's overhead of what is left. */
    uint32_t overhead = r->head + 4u, length_min = r->head - 4u;
    uint64_t lsn_span = (r->size > from ? r->size - from : 0) / overhead + 1;
    for (uint64_t y = from; y + overhead <= r->size; y++) {
        eg_status st = fill(r, y, r->head, err);
        if (st) return st;
        const unsigned char *p = window(r, y);
        uint32_t length = eg_wal_get_u32(p);
        uint64_t lsn = eg_wal_get_u64(p + 5);
        if (length < length_min || length > length_min + EG_WAL_RECORD_MAX || y + 8u + length > r->size || p[4] == 0 ||
            lsn < min_lsn || lsn - min_lsn >= lsn_span)
            continue;
        if ((st = fill(r, y, 8u + (size_t)length, err))) return st;
        p = window(r, y);
        if (eg_crc32c(0, p, 4u + length) == eg_wal_get_u32(p + 4u + length)) {
            *found = true;
            *at = y;
            r->found_lsn = lsn;
            r->found_durable_lsn = r->head > EG_WAL_FRAME_DURABLE_AT ? eg_wal_get_u64(p + EG_WAL_FRAME_DURABLE_AT) : 0;
            return EG_OK;
        }
    }
    return EG_OK;
}

void eg_wal_reader_close(eg_wal_reader *r) {
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    free(r->buf);
    r->buf = NULL;
    r->buf_cap = r->buf_len = 0;
}
