/* reader.h — reading one segment's records back, each validated (length, CRC32C, type, LSN sequence), streaming
 * through a bounded buffer: it holds a window of the file, grown only to the largest record met (at most
 * EG_WAL_LENGTH_MAX + 8 bytes), so a segment of any size is read in one pass with no whole-file copy.
 *
 * A frame is classified, never guessed past: the reader stops at the first frame that is not a good record and
 * says why, leaving the decision (torn tail or corruption, see wal.h) to its caller. Not thread-safe; each
 * reader has its own descriptor, so readers run alongside appends. */
#ifndef ENGRAM_WAL_READER_H
#define ENGRAM_WAL_READER_H

#include "wal/format.h"

typedef enum eg_wal_frame {
    EG_WAL_FRAME_RECORD, /* a whole record with the right checksum, a type other than 0 and the expected LSN */
    EG_WAL_FRAME_END,    /* the readable end, exactly at a record boundary */
    EG_WAL_FRAME_TORN,   /* incomplete, an impossible length, or a failed checksum: what an interrupted write
                            leaves behind (and what damage looks like) */
    EG_WAL_FRAME_WRONG   /* checksummed yet out of place (unexpected LSN, type 0): never left by a crash */
} eg_wal_frame;

typedef struct eg_wal_reader {
    int fd;
    char name[EG_WAL_NAME_CAP];
    eg_wal_segment_header header;
    uint32_t head;      /* frame head size of the segment's format (eg_wal_frame_head_size) */
    uint64_t size;      /* bytes readable: the file's size, or less after eg_wal_reader_limit */
    uint64_t offset;    /* where the next frame starts */
    uint64_t next_lsn;  /* the LSN it must carry */
    char problem[160];  /* why the last frame was TORN or WRONG, for messages */
    uint64_t found_lsn, found_durable_lsn; /* of the frame eg_wal_reader_find_record found (durable: 0 in format 1) */
    unsigned char *buf; /* holds the file's bytes [buf_at, buf_at + buf_len) */
    size_t buf_cap, buf_len;
    uint64_t buf_at;
} eg_wal_reader;

/* Opens segment `number` in dir and checks its header (eg_wal_segment_header_check; a file shorter than a
 * header is EG_CORRUPT). EG_NOT_FOUND when the file does not exist. On failure nothing needs closing. */
eg_status eg_wal_reader_open(eg_wal_reader *r, const char *dir, uint64_t number, eg_error *err);

/* Reads no further than byte `end` (the end of the last record a reader may see). */
void eg_wal_reader_limit(eg_wal_reader *r, uint64_t end);

/* Classifies the frame at r->offset. For a RECORD fills *record (its payload points into the reader's buffer,
 * valid until the next call) and moves past it; otherwise stays put. EG_IO when the file cannot be read. */
eg_status eg_wal_reader_next(eg_wal_reader *r, eg_wal_frame *kind, eg_wal_record *record, eg_error *err);

/* Looks at every byte offset from `from` to the readable end for a frame with a good checksum, a type other than
 * 0 and an LSN of at least min_lsn (and no larger than the bytes left could number): evidence that the bytes
 * before it are not a torn tail. *found tells, *at says where, found_lsn and found_durable_lsn what it says.
 * Cheap header tests reject almost every offset, so the checksum is computed only for plausible frames. */
eg_status eg_wal_reader_find_record(eg_wal_reader *r, uint64_t from, uint64_t min_lsn, bool *found, uint64_t *at,
                                    eg_error *err);

void eg_wal_reader_close(eg_wal_reader *r);

#endif
