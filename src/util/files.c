/* files.c — folders, locks and small durable files (see files.h). */
#include "util/files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

eg_status eg_path_join(char *out, size_t cap, const char *dir, const char *name, eg_error *err) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "data folder path is too long (limit %zu bytes)", cap - 1);
    return EG_OK;
}

eg_status eg_mkdir(const char *path, const char *what, eg_error *err) {
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return EG_OK;
        return eg_error_set(err, EG_IO, "%s exists and is not a folder", what);
    }
    return eg_error_set(err, EG_IO, "cannot create %s: %s", what, strerror(errno));
}

eg_status eg_lock_file(const char *path, const char *what, int *fd, eg_error *err) {
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) return eg_error_set(err, EG_IO, "cannot open %s: %s", what, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(f);
        if (e == EWOULDBLOCK)
            return eg_error_set(err, EG_LOCKED, "%s is in use by another engram process (one writer per data folder)",
                                what);
        return eg_error_set(err, EG_IO, "cannot lock %s: %s", what, strerror(e));
    }
    *fd = f;
    return EG_OK;
}

void eg_unlock_file(int fd) {
    if (fd >= 0) close(fd); /* closing the descriptor releases the flock */
}

eg_status eg_read_small_file(const char *path, const char *what, char *buf, size_t cap, eg_error *err) {
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        if (errno == ENOENT) return eg_error_set(err, EG_NOT_FOUND, "%s does not exist", what);
        return eg_error_set(err, EG_IO, "cannot open %s: %s", what, strerror(errno));
    }
    size_t used = 0;
    for (;;) {
        ssize_t n = read(f, buf + used, cap - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(f);
            return eg_error_set(err, EG_IO, "cannot read %s: %s", what, strerror(e));
        }
        if (n == 0) break;
        used += (size_t)n;
        if (used == cap - 1) {
            close(f);
            return eg_error_set(err, EG_CORRUPT, "%s is larger than %zu bytes", what, cap - 1);
        }
    }
    close(f);
    buf[used] = '\0';
    return EG_OK;
}

eg_status eg_sync_folder(const char *dir, const char *what, eg_error *err) {
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return eg_error_set(err, EG_IO, "cannot open %s: %s", what, strerror(errno));
    int rc = fsync(d);
    int e = errno;
    close(d);
    if (rc != 0) return eg_error_set(err, EG_IO, "cannot sync %s: %s", what, strerror(e));
    return EG_OK;
}

static eg_status fsync_dir_of(const char *path, const char *what, eg_error *err) {
    char copy[4096], folder[4200];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(folder, sizeof folder, "the folder of %s", what);
    return eg_sync_folder(dirname(copy), folder, err);
}

eg_status eg_write_file_atomic(const char *path, const char *what, const void *data, size_t len, eg_error *err) {
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) return eg_error_set(err, EG_INVALID_ARGUMENT, "path of %s is too long", what);
    int f = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f < 0) return eg_error_set(err, EG_IO, "cannot create %s: %s", what, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(f, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int e = errno;
            close(f);
            unlink(tmp);
            return eg_error_set(err, EG_IO, "cannot write %s: %s", what, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(f) != 0) {
        int e = errno;
        close(f);
        unlink(tmp);
        return eg_error_set(err, EG_IO, "cannot sync %s: %s", what, strerror(e));
    }
    close(f);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return eg_error_set(err, EG_IO, "cannot rename %s into place: %s", what, strerror(e));
    }
    return fsync_dir_of(path, what, err);
}
