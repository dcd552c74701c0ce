/* archive_store.h — the cold archive's file store: archived memory records as files under one archive folder A,
 * in the original T4DM layout, so that each system reads the other's archives. The memory-level sagas
 * (include/engram/archive.h) move memories between the hot stores and this store; this layer knows files only.
 *
 * Layout (P = the first two characters of the id, "00" when the id is shorter):
 *   A/<type>/<P>/<id>.json.gz        the record: compact JSON text (sorted keys, UTF-8), gzip level 6 with a
 *                                    header mtime of 0, so that the same record always gives the same bytes;
 *   A/<type>/<P>/<id>.json           the same, uncompressed (put with compress false, or the original's
 *                                    compress=False);
 *   A/metadata/<P>/<id>.meta.json    the entry's metadata, JSON with indent 2, keys in this order:
 *       memory_id, memory_type (episodes | entities | procedures), archived_at (ISO 8601 with offset, UTC, e.g.
 *       "2026-11-26T11:40:00.123000+00:00"), original_created_at (ISO 8601 or null), size_bytes (on-disk size of
 *       the data file), archive_path (relative to A, "episodes/ab/<id>.json.gz"), compression ("gzip" | "none"),
 *       checksum (lower-case hex SHA-256 of the uncompressed JSON text), format (1).
 * <type> is one of episodes, entities, procedures. An entry exists once its metadata file does.
 *
 * Level 6 is zlib's default balance: level 9 (the original's) saves little more on JSON text and costs more
 * time; readers do not care which level wrote a file.
 *
 * The original's files are read too: no checksum and no format (the entry is then "unverifiable", never
 * "corrupt" for that alone), archived_at naive local time without offset (read as UTC: the original did not
 * record its zone), archive_path as the original wrote it (its base path joined in front: accepted when it ends
 * with "/" and the expected relative path), gzip level 9 with an mtime in the header.
 *
 * Safety. Ids are 1..128 characters of [A-Za-z0-9_.:-], not starting with '.', so that an id can neither name a
 * folder nor collide with the store's temporary files (".<name>.tmp"). Nothing read from a file names a file to
 * open: the store computes every path from the id and the type and only checks that the metadata agrees. Every
 * path component below A is opened with openat(O_NOFOLLOW) from the component above, so a symbolic link planted
 * anywhere inside A (A/episodes -> /elsewhere) is refused (EG_CORRUPT, "... is a symbolic link"), never
 * followed, and nothing is read or written outside A. A itself is the caller's and may be a link.
 *
 * Durability. A put writes the data file to a temporary file in its folder, fsyncs it, renames it into place,
 * fsyncs the folder, then does the same for the metadata. A crash in between leaves data without metadata,
 * which get reports as EG_CORRUPT ("data without metadata") and verify as an orphan until the put is retried
 * or the entry removed. A put over an existing entry removes the old metadata first (and fsyncs), so the
 * same crash on a re-put leaves the same state rather than new data under old metadata.
 *
 * Reads never create anything: open, get, list and verify on a missing A find nothing and leave it missing.
 * Writes create A (one level: its parent must exist) and the folders below it.
 *
 * Cost. There is no index (the original's layout has none): list, cleanup and verify read every metadata file.
 *
 * Threads. One eg_archive may be used from many threads: every operation holds the archive's mutex, so that a
 * reader never sees the instant between a remove's two steps. One process writes an archive folder at a time
 * (the data folder's lock sees to that).
 *
 * Errors name files relative to A, never by absolute path. */
#ifndef ENGRAM_ARCHIVE_STORE_H
#define ENGRAM_ARCHIVE_STORE_H

#include <engram/status.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EG_ARCHIVE_ID_MAX 128
#define EG_ARCHIVE_FORMAT 1
#define EG_ARCHIVE_LIST_MAX 10000
/* The largest record text put accepts and get inflates (a gzip bomb stops here). */
#define EG_ARCHIVE_RECORD_MAX (64u << 20)
/* A cursor fits in this many bytes, NUL included. */
#define EG_ARCHIVE_CURSOR_MAX 160

typedef struct eg_archive eg_archive;

typedef struct eg_archive_meta {
    char memory_id[EG_ARCHIVE_ID_MAX + 1];
    char memory_type[16];          /* "episodes", "entities" or "procedures" */
    char archived_at[64];          /* as stored */
    int64_t archived_at_ms;        /* epoch milliseconds (a naive time read as UTC) */
    char original_created_at[64];  /* "" when none */
    int64_t original_created_at_ms; /* -1 when none */
    uint64_t size_bytes;
    char archive_path[192];        /* relative to A, as this store computes it */
    char compression[8];           /* "gzip" or "none" */
    char checksum[65];             /* "" when none (the original's entries) */
    int format;                    /* EG_ARCHIVE_FORMAT, 0 for the original's entries */
} eg_archive_meta;

/* The metadata as its file holds it (checksum null and format 0 for the original's entries); a new reference. */
json_t *eg_archive_meta_json(const eg_archive_meta *m);

/* Prepares to use the archive folder dir (which need not exist). Never creates anything. EG_INVALID_ARGUMENT
 * when dir is empty or too long, or exists and is not a folder. */
eg_status eg_archive_open(const char *dir, eg_archive **out, eg_error *err);
void eg_archive_close(eg_archive *a);

/* Makes put use now_ms(ctx) instead of the wall clock for archived_at (tests). NULL restores the wall clock. */
void eg_archive_set_clock(eg_archive *a, int64_t (*now_ms)(void *ctx), void *ctx);

/* Normalises a memory type: "episode", "episodes", "Episode", ... (any case, singular or plural) to the static
 * plural "episodes", "entities" or "procedures" in *plural. Anything else: EG_INVALID_ARGUMENT. */
eg_status eg_archive_type_parse(const char *name, const char **plural, eg_error *err);

/* EG_OK when id is usable: 1..128 characters of [A-Za-z0-9_.:-], not starting with '.' (so neither "." nor
 * ".."). Otherwise EG_INVALID_ARGUMENT naming the problem. The _len form checks len bytes, and refuses an
 * embedded NUL (ids that arrive as JSON strings). */
eg_status eg_archive_check_id(const char *id, eg_error *err);
eg_status eg_archive_check_id_len(const char *id, size_t len, eg_error *err);

/* Archives record (a JSON object without hidden NUL bytes; not stolen) as entry id of type (any form
 * eg_archive_type_parse accepts), replacing any entry with that id, of any type. original_created_ms < 0: none.
 * *out (may be NULL) receives the metadata written. EG_INVALID_ARGUMENT for a bad type, id or record (or one
 * whose text exceeds EG_ARCHIVE_RECORD_MAX); EG_CORRUPT when a folder on the way is a symbolic link or not a
 * folder; EG_IO when the file system fails. */
eg_status eg_archive_put(eg_archive *a, const char *type, const char *id, json_t *record, int64_t original_created_ms,
                         bool compress, eg_archive_meta *out, eg_error *err);

/* Reads entry id: *record (may be NULL; caller decrefs) and *meta (may be NULL). The data file's checksum is
 * verified when the metadata has one, and its size always. EG_NOT_FOUND when there is neither metadata nor a
 * data file for id. EG_CORRUPT, the message saying which, for: metadata that does not parse, names another id
 * or type, or a path other than the expected one; a newer format (EG_INCOMPATIBLE); metadata without data; data
 * without metadata; a size other than size_bytes; bad or truncated gzip; JSON that does not parse or is not an
 * object; a checksum mismatch. */
eg_status eg_archive_get(eg_archive *a, const char *id, json_t **record, eg_archive_meta *meta, eg_error *err);

/* The first of ids that the archive holds anything of (metadata or a data file of any type, whole or damaged: an
 * id eg_archive_get would not answer EG_NOT_FOUND), as *found; count when none. It looks at names only, from
 * folders opened once for all the ids: a few stats per id where eg_archive_get walks a dozen paths, for a batch
 * of creates that must each find its id free. EG_INVALID_ARGUMENT for a bad id; EG_IO when a folder cannot be
 * read. */
eg_status eg_archive_find_any(eg_archive *a, const char *const *ids, size_t count, size_t *found, eg_error *err);

/* Removes entry id: its metadata first (the entry stops existing) and the folder fsynced, then its data files
 * in every type folder, each folder fsynced. A data file without metadata is removed too. EG_NOT_FOUND when
 * there was nothing to remove. */
eg_status eg_archive_remove(eg_archive *a, const char *id, eg_error *err);

/* The metadata of the entries (type NULL: every type; else any form eg_archive_type_parse accepts), oldest
 * archived_at first, ties by id: at most limit (1..EG_ARCHIVE_LIST_MAX) after cursor (NULL or "": from the
 * oldest). *out is an array of objects with the metadata file's keys (archive_path relative, checksum null and
 * format 0 for the original's entries); caller decrefs. next_cursor (cursor_cap >= EG_ARCHIVE_CURSOR_MAX bytes)
 * receives the cursor of the following page, "" when there is none. The cursor is "<archived_at ms>:<id>"
 * (opaque to callers); a malformed one is EG_INVALID_ARGUMENT. Metadata files that do not parse are skipped here
 * (verify reports them). */
eg_status eg_archive_list(eg_archive *a, const char *type, size_t limit, const char *cursor, json_t **out,
                          char *next_cursor, size_t cursor_cap, eg_error *err);

/* Reads every entry and every file:
 *   {"entries": n, "ok": n, "corrupt": [{"id", "reason"}], "unverifiable": [id], "orphans": [{"path", "reason"}]}
 * entries = ok + corrupt + unverifiable: ok entries passed their checksum; unverifiable ones read back whole but
 * have no checksum (the original's). Orphans are files that belong to no entry, paths relative to A: data without
 * metadata, data of an entry stored elsewhere, leftover temporary files of an interrupted write, files and
 * folders that do not belong to the layout, symbolic links. Verify changes nothing. */
eg_status eg_archive_verify(eg_archive *a, json_t **report, eg_error *err);

/* The record file's compression: one gzip member of text (level 6; zlib's own header, mtime 0 and no name, so
 * equal text gives equal bytes). *out is malloc'd. */
eg_status eg_archive_gzip(const char *text, size_t len, unsigned char **out, size_t *out_len, eg_error *err);

/* Removes every entry archived more than retention_days (>= 0) days before now_ms, oldest first, in batches of
 * 1000 (the mutex is released between batches so that other writers get a turn). *removed (may be NULL) counts
 * them. */
eg_status eg_archive_cleanup(eg_archive *a, int64_t retention_days, int64_t now_ms, uint64_t *removed,
                             eg_error *err);

#endif
