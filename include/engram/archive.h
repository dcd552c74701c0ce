/* engram/archive.h — the cold archive: aged memories moved out of both hot stores into compressed files, and
 * back, each move a durable saga so that after a crash at any instant a memory is in the hot stores or in the
 * archive (transiently both, which recovery settles), never in neither.
 *
 * Files (docs/archive.md): DATA/archive/ by default (setting archive.path, relative to DATA or absolute), in the
 * original system's layout so that each side reads the other's archives:
 *   <type>/<first two characters of the id>/<id>.json.gz        the archived record (.json when uncompressed)
 *   metadata/<first two characters of the id>/<id>.meta.json   memory_id, memory_type, archived_at,
 *       original_created_at, size_bytes, archive_path, compression, checksum (SHA-256 of the JSON), format
 * Writes are atomic (temporary file, fsync, rename, folder fsync), metadata last. Reads never create folders.
 *
 * The archived record holds everything needed to restore the memory:
 *   {"memory_id", "memory_type": "episodes"|"entities"|"procedures", "vector": [...], "sparse_vector"?: {...},
 *    "payload": {...}, "node": {"label", "properties"}, "relationships": [relationship], "archived_at_ms", "format": 1}
 *
 * Threads: every function may be called from many threads at once on one eg_db. */
#ifndef ENGRAM_ARCHIVE_H
#define ENGRAM_ARCHIVE_H

#include <engram/memory.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_ARCHIVE_RETENTION_DAYS_DEFAULT 1825

/* Archives one memory: writes its archive entry, then removes its point and its node (with its relationships).
 * EG_NOT_FOUND when it is not in the hot stores; EG_CONFLICT when it is an orphan (see eg_memory_check) or frozen
 * by a dead letter. */
eg_status eg_archive_memory(eg_db *db, eg_memory_type type, const char *id, eg_error *err);

/* Progress of eg_archive_older_than: called after each memory with the counts so far and the total to do. */
typedef void (*eg_archive_progress)(void *ctx, uint64_t done, uint64_t total);

typedef struct eg_archive_request {
    eg_memory_type type;
    double older_than_days;   /* memories whose field is older than now minus this many days (>= 0) */
    size_t limit;             /* at most this many, oldest first; 0: all */
    const char *session_id;   /* NULL: every session */
    const char *field;        /* the payload field holding epoch milliseconds; NULL: "created_at" */
    eg_archive_progress progress; /* may be NULL */
    void *progress_ctx;
} eg_archive_request;

typedef struct eg_archive_result {
    uint64_t candidates; /* memories old enough (before the limit) */
    uint64_t archived;
    uint64_t failed;     /* each failure is also counted in the log line of the saga; the first is in err */
} eg_archive_result;

/* Archives the memories of a type older than the given age, oldest first, one saga each. A memory that fails to
 * archive is left hot and counted; the run goes on. Returns EG_OK when every candidate was archived, else the
 * first failure (err) with *out still filled. */
eg_status eg_archive_older_than(eg_db *db, const eg_archive_request *request, eg_archive_result *out,
                                eg_error *err);

/* The archived record and its metadata: {"record": {...}, "metadata": {...}}. EG_NOT_FOUND when not archived;
 * EG_CORRUPT naming what is wrong (bad gzip, bad JSON, checksum mismatch, metadata without data or the reverse). */
eg_status eg_retrieve_archived(eg_db *db, const char *id, json_t **out, eg_error *err);

/* Brings an archived memory back into both hot stores (its relationships whose other end still exists), then
 * removes its archive entry. EG_CONFLICT when a hot memory has that id. */
eg_status eg_restore_archived(eg_db *db, const char *id, eg_error *err);

/* Deletes an archive entry for good. */
eg_status eg_delete_archived(eg_db *db, const char *id, eg_error *err);

/* The entries' metadata, oldest archived first: {"entries": [metadata], "next_cursor": text or null}. type NULL:
 * every type; limit 1..10000 (0: 100); cursor NULL: from the oldest. */
eg_status eg_list_archived(eg_db *db, const eg_memory_type *type, size_t limit, const char *cursor, json_t **out,
                           eg_error *err);

/* Removes the entries archived more than retention_days ago (oldest first); *removed (may be NULL) counts them. */
eg_status eg_cleanup_archive(eg_db *db, int64_t retention_days, uint64_t *removed, eg_error *err);

/* Checks every entry and every stray file:
 * {"entries", "ok", "corrupt": [{"id", "reason"}], "unverifiable": [id], "orphans": [{"path", "reason"}]};
 * unverifiable entries are those written by the original system, which kept no checksum. */
eg_status eg_verify_archive(eg_db *db, json_t **out, eg_error *err);

#ifdef __cplusplus
}
#endif
#endif
