/* wal.h — the write-ahead log: an append-only, checksummed journal of records, in numbered segment files under
 * one folder (DATA/wal/). The saga layer writes its intents, step completions and ends here before and while
 * it touches the stores, and reads them back after a crash; queued writes will live here too.
 *
 * Files
 *   wal-<segment number, 16 decimal digits>.log   segments, numbered from 1 without gaps
 *   CHECKPOINT                                    the first LSN still needed (see eg_wal_checkpoint), written
 *                                                 atomically, as the text "engram wal checkpoint\nkeep from lsn N\n";
 *                                                 absent means 1
 *   LOCK                                          held (flock) by the one opener
 * A new segment is written as wal-<n>.log.tmp (header fsynced) and renamed into place, so a segment never lacks
 * its header; a .tmp left by a crash is deleted on open.
 * A segment starts with a 32-byte header:
 *   magic "EGWALSEG" (8) | format version u32 | reserved u32 (0) | segment number u64 | first LSN u64
 * followed by records. A record is framed as (format 2)
 *   length u32 | type u8 | LSN u64 | durable LSN u64 | payload (length - 17 bytes) | CRC32C u32
 * where length counts type + both LSNs + payload, the CRC32C covers everything before it (length included), and
 * the durable LSN is the sync mark: every record up to it was on disk when this one was written. Format 1 frames
 * (no durable LSN: length u32 | type u8 | LSN u64 | payload | CRC32C) are still read; a log whose newest segment
 * is format 1 gets a new segment at open, so appends always write format 2.
 * All integers are little-endian. A payload holds at most EG_WAL_RECORD_MAX bytes. A header whose format version
 * is newer than EG_WAL_FORMAT makes open fail with EG_INCOMPATIBLE.
 *
 * LSNs start at 1 and increase by one per record across segments and across restarts: on open, the next LSN
 * follows the last valid record of the newest segment, or that segment's first LSN when it holds none (a crash
 * just after a rotation loses no LSN).
 *
 * Damage found on open (every record of every segment still needed is read and checked)
 * - Torn tail: in the newest segment, a record that is incomplete, has an impossible length or fails its CRC,
 *   with nothing valid after it — no frame with a good CRC, a type other than 0 and an LSN at least the expected
 *   one starts at any later byte of the segment — is what a crash during an append leaves. It is cut off (the
 *   file truncated to the last valid record, and synced) before anything is appended, and reported in
 *   eg_wal_open_report. In a format 2 segment so is a bad record followed by valid ones none of which carries a
 *   durable LSN reaching the bad one's: no sync covered it, so neither it nor they were ever acknowledged — a power
 *   cut kept some unsynced records and lost others — and all of them are cut.
 * - Anything else — a bad record with valid records after it that say a sync covered it (or any valid record
 *   after it, in a format 1 segment), a bad record in an older segment, a record whose
 *   CRC holds but whose LSN is out of sequence or whose type is 0 (even at the tail), a damaged or missing segment
 *   header, a gap in segment numbers or LSNs, a CHECKPOINT that is unreadable, that needs records no segment
 *   holds, or that lies beyond the end of the log — is corruption: eg_wal_open fails with EG_CORRUPT naming the
 *   file and the byte offset, and changes nothing. Acknowledged records are never dropped silently; an operator
 *   decides (restore a copy, or cut the log there with a later `engram recover` option).
 * - Segments whose records all lie below CHECKPOINT, left by a checkpoint interrupted while removing them, are
 *   not read; open removes them. In GROUP and FSYNC mode open also syncs every segment it keeps (the previous run
 *   may have used NONE), so new durable records never outlive older ones.
 *
 * Durability (eg_wal_sync), when eg_wal_append returns:
 *   EG_WAL_SYNC_GROUP  (default) the record is on disk; appenders waiting at the same moment share one fsync
 *   EG_WAL_SYNC_FSYNC  the record is on disk, fsynced by its own call
 *   EG_WAL_SYNC_NONE   the record is in the OS: it survives a killed process, not a power cut (tests, bulk loads)
 * The folder is fsynced whenever a segment is created or removed (in every mode but NONE). In every mode, NONE
 * included, a segment is synced before the next one starts and the records below a checkpoint before it is
 * recorded (both are rare), so that a power cut in NONE mode costs at most the newest segment's unsynced tail. In GROUP mode a sync
 * covers every record written when it starts, so appenders waiting at once share it; FSYNC syncs under the
 * log's lock, one append at a time.
 *
 * Threads: every function may be called from many threads at once, except eg_wal_close. */
#ifndef ENGRAM_WAL_H
#define ENGRAM_WAL_H

#include <engram/status.h>
#include <stddef.h>
#include <stdint.h>

#define EG_WAL_FORMAT 2u
#define EG_WAL_RECORD_MAX (64u * 1024u * 1024u) /* payload bytes of one record */
#define EG_WAL_SEGMENT_DEFAULT (64u * 1024u * 1024u)

typedef enum eg_wal_sync { EG_WAL_SYNC_GROUP = 0, EG_WAL_SYNC_FSYNC, EG_WAL_SYNC_NONE } eg_wal_sync;

/* "group", "fsync", "none". */
const char *eg_wal_sync_name(eg_wal_sync s);
eg_status eg_wal_sync_parse(const char *name, eg_wal_sync *out, eg_error *err);

typedef struct eg_wal_options {
    eg_wal_sync sync;
    uint64_t segment_bytes; /* a record that would carry a segment (header included) past this many bytes starts
                               the next segment; 0: EG_WAL_SEGMENT_DEFAULT. A segment holding no record yet takes
                               any record, so one larger than this gets a segment of its own. */
} eg_wal_options;

/* What opening found and did. */
typedef struct eg_wal_open_report {
    uint64_t segments;           /* segment files present after open */
    uint64_t records;            /* valid records found */
    uint64_t next_lsn;           /* the LSN the next append gets */
    uint64_t checkpoint_lsn;     /* the first LSN still needed */
    uint64_t torn_bytes;         /* bytes cut from the newest segment's tail (0: none) */
    uint64_t torn_segment;       /* the segment they were cut from */
} eg_wal_open_report;

typedef struct eg_wal eg_wal;

/* Opens (creating if needed) the log in folder dir. Only one opener at a time: another gets EG_LOCKED.
 * options and report may be NULL. */
eg_status eg_wal_open(const char *dir, const eg_wal_options *options, eg_wal **out, eg_wal_open_report *report,
                      eg_error *err);

/* Appends one record (type 1..255, chosen by the caller; 0 is reserved) and returns its LSN in *lsn (may be
 * NULL). Durable on return as the sync mode says. A payload over EG_WAL_RECORD_MAX is EG_INVALID_ARGUMENT; a
 * write or sync failure (rotation's included) is EG_IO, after which the log refuses further appends and
 * checkpoints (EG_IO) until reopened, since what reached the disk is then unknown. A log with no LSN left (the
 * next would be UINT64_MAX) or, when it must rotate, no segment number left (past 16 digits) is EG_CORRUPT: only
 * damaged or forged segment headers start a log that high. */
eg_status eg_wal_append(eg_wal *w, uint8_t type, const void *payload, size_t length, uint64_t *lsn, eg_error *err);

/* Appends like eg_wal_append but returns once the record is written to the OS, without waiting for a sync in
 * any mode (it survives a killed process, not yet a power cut). It is on disk once a later eg_wal_append returns
 * (a sync covers every record written before it; a segment is synced before the next one starts), or after
 * eg_wal_close. For records a crash may lose harmlessly — what recovery can redo — so that only the records that
 * must be durable pay for a sync. */
eg_status eg_wal_append_deferred(eg_wal *w, uint8_t type, const void *payload, size_t length, uint64_t *lsn,
                                 eg_error *err);

/* One record as read back. payload is valid only during the visit. */
typedef struct eg_wal_record {
    uint64_t lsn;
    uint8_t type;
    const void *payload;
    size_t length;
} eg_wal_record;

/* Calls visit for every record with LSN >= from_lsn, in LSN order, up to the last one written when the call
 * began (in GROUP mode that may include records whose append is still waiting for its sync). A visit returning
 * anything but EG_OK stops the walk and is returned. from_lsn 0 means 1; one below the oldest record still on
 * disk (a checkpoint removed it, now or during the walk) is EG_NOT_FOUND — records below the checkpoint remain
 * readable while their segment does; one beyond the last record visits nothing. Records are checked again as
 * they are read: a bad one is EG_CORRUPT naming the segment file and the byte offset. */
typedef eg_status (*eg_wal_visit)(void *ctx, const eg_wal_record *record, eg_error *err);
eg_status eg_wal_read(eg_wal *w, uint64_t from_lsn, eg_wal_visit visit, void *ctx, eg_error *err);

/* Declares that records below keep_from_lsn are no longer needed (the caller passes the oldest LSN an
 * unfinished saga or a queued write still needs). Syncs the records below it (in every mode), records CHECKPOINT
 * durably, then removes every segment whose records all lie below it — never the newest — oldest first, and
 * syncs the folder (unless NONE). keep_from_lsn at or below the current checkpoint is ignored; above the next
 * LSN it is EG_INVALID_ARGUMENT. Checkpoints run one at a time. */
eg_status eg_wal_checkpoint(eg_wal *w, uint64_t keep_from_lsn, eg_error *err);

uint64_t eg_wal_next_lsn(eg_wal *w);
uint64_t eg_wal_checkpoint_lsn(eg_wal *w);

typedef struct eg_wal_stats {
    uint64_t appends;  /* records appended since open */
    uint64_t syncs;    /* fsyncs of segment files since open, open's own included (group commit shares them) */
    uint64_t segments; /* segment files now */
} eg_wal_stats;

void eg_wal_stats_get(eg_wal *w, eg_wal_stats *out);

/* Syncs (unless NONE), releases the folder and frees w. NULL is ignored. */
void eg_wal_close(eg_wal *w);

#endif
