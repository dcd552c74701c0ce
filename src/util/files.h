/* files.h — the few file-system primitives the stores share: folders, exclusive locks, small durable files.
 * Error messages name files relative to the data folder (the caller's `what`), never by absolute path. */
#ifndef ENGRAM_UTIL_FILES_H
#define ENGRAM_UTIL_FILES_H

#include <engram/status.h>
#include <stddef.h>

/* Creates directory `path` if missing (one level; its parent must exist). */
eg_status eg_mkdir(const char *path, const char *what, eg_error *err);

/* Opens (creating) `path` and takes an exclusive, non-blocking lock held until eg_unlock_file.
 * Another holder, in any process, makes this EG_LOCKED. Returns the descriptor in *fd. */
eg_status eg_lock_file(const char *path, const char *what, int *fd, eg_error *err);
void eg_unlock_file(int fd);

/* Reads a whole small file into buf (NUL-terminated, at most cap-1 bytes). EG_NOT_FOUND when it does not exist. */
eg_status eg_read_small_file(const char *path, const char *what, char *buf, size_t cap, eg_error *err);

/* Writes `len` bytes to `path` atomically and durably: temporary file, fsync, rename, fsync of the folder. */
eg_status eg_write_file_atomic(const char *path, const char *what, const void *data, size_t len, eg_error *err);

/* fsyncs folder `dir`, so that the files created, renamed or removed in it stay so after a power cut. */
eg_status eg_sync_folder(const char *dir, const char *what, eg_error *err);

/* Joins folder and name into out (cap bytes); EG_INVALID_ARGUMENT when it does not fit. */
eg_status eg_path_join(char *out, size_t cap, const char *dir, const char *name, eg_error *err);

#endif
