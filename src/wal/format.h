/* format.h — the on-disk format of the write-ahead log (laid out in wal.h): segment file names, the 32-byte
 * segment header, record frames, the CHECKPOINT file, and the creation of a new segment.
 *
 * Invariants kept here:
 * - A segment file appears under its final name only with its whole header written (it is built as
 *   `<name>.tmp` and renamed), so a crash while rotating never leaves a segment with a torn header.
 * - Integers are encoded little-endian byte by byte, independent of the machine. */
#ifndef ENGRAM_WAL_FORMAT_H
#define ENGRAM_WAL_FORMAT_H

#include "wal/wal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EG_WAL_SEGMENT_HEADER 32u
/* Frames of the current format (2), which every new segment uses. */
#define EG_WAL_FRAME_HEAD 21u      /* length u32 | type u8 | LSN u64 | durable LSN u64 */
#define EG_WAL_FRAME_OVERHEAD 25u  /* head + CRC32C u32 */
#define EG_WAL_LENGTH_MIN 17u      /* type + LSN + durable LSN: an empty payload */
#define EG_WAL_LENGTH_MAX (EG_WAL_LENGTH_MIN + EG_WAL_RECORD_MAX)
#define EG_WAL_FRAME_DURABLE_AT 13u /* offset of the durable LSN in a format 2 frame */
/* Frames of format 1 segments, still read: no durable LSN. */
#define EG_WAL_V1_FRAME_HEAD 13u   /* length u32 | type u8 | LSN u64 */
#define EG_WAL_NAME_CAP 32         /* "wal-" + 16 digits + ".log.tmp" + NUL fits */
#define EG_WAL_SEGMENT_NUMBER_MAX 9999999999999999ull /* the largest 16-digit segment number */

/* Offsets of the header fields, which corruption messages name. */
#define EG_WAL_HEADER_VERSION_AT 8u
#define EG_WAL_HEADER_RESERVED_AT 12u
#define EG_WAL_HEADER_NUMBER_AT 16u
#define EG_WAL_HEADER_FIRST_LSN_AT 24u

/* The frame head size of a segment of format `version` (1 or 2); the rest of a frame follows from it: length
 * counts head - 4 bytes plus the payload, and a CRC32C of 4 bytes ends the frame. */
static inline uint32_t eg_wal_frame_head_size(uint32_t version) {
    return version >= 2 ? EG_WAL_FRAME_HEAD : EG_WAL_V1_FRAME_HEAD;
}

static inline void eg_wal_put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void eg_wal_put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t eg_wal_get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static inline uint64_t eg_wal_get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* "wal-0000000000000042.log". */
void eg_wal_segment_name(char out[EG_WAL_NAME_CAP], uint64_t number);
/* Parses a segment file name exactly (no temporary files, no other names); false when it is not one. */
bool eg_wal_segment_parse_name(const char *name, uint64_t *number);
/* True for "wal-<16 digits>.log.tmp", a segment whose creation a crash interrupted. */
bool eg_wal_segment_is_leftover(const char *name);

typedef struct eg_wal_segment_header {
    uint32_t version;
    uint32_t reserved;
    uint64_t number;
    uint64_t first_lsn;
} eg_wal_segment_header;

/* Decodes and checks a header read from segment `number` (named `name` in messages): the magic, a known
 * version (newer is EG_INCOMPATIBLE), reserved 0, the number the file name says, a first LSN of at least 1.
 * Damage is EG_CORRUPT naming the file and the offset of the bad field. */
eg_status eg_wal_segment_header_check(const unsigned char raw[EG_WAL_SEGMENT_HEADER], const char *name,
                                      uint64_t number, eg_wal_segment_header *out, eg_error *err);

/* Fills the frame head (current format) for a payload of `length` bytes and returns the CRC32C of the whole frame
 * (head then payload), which the caller writes after the payload. durable_lsn: every record up to it was on disk
 * (a sync covering it had completed) when this one was written. */
uint32_t eg_wal_frame_encode(unsigned char head[EG_WAL_FRAME_HEAD], uint8_t type, uint64_t lsn, uint64_t durable_lsn,
                             const void *payload, size_t length);

/* Creates segment `number` starting at first_lsn in folder dir and returns a descriptor open for writing in *fd.
 * With durable, the header is fsynced before the rename and the folder after it; *syncs counts the file syncs
 * done (for the log's statistics). */
eg_status eg_wal_segment_create(const char *dir, uint64_t number, uint64_t first_lsn, bool durable, int *fd,
                                uint64_t *syncs, eg_error *err);

/* CHECKPOINT holds two lines: "engram wal checkpoint" and "keep from lsn N". Writes the text into out (cap
 * bytes, at least EG_WAL_CHECKPOINT_CAP) and returns its length. */
#define EG_WAL_CHECKPOINT_FILE "CHECKPOINT"
#define EG_WAL_CHECKPOINT_CAP 64
size_t eg_wal_checkpoint_text(char *out, size_t cap, uint64_t keep_from_lsn);
/* Parses that text exactly; false when it is malformed or names LSN 0. */
bool eg_wal_checkpoint_parse(const char *text, uint64_t *keep_from_lsn);

/* fsyncs folder dir, so that created, renamed or removed entries survive a power cut. */
eg_status eg_wal_sync_folder(const char *dir, eg_error *err);

#endif
