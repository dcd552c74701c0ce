/* recorder.c — the file-call recorder of the power-cut simulation (recorder.h is the manual).
 *
 * Every interposed function calls the real one first, then, when recording and the call succeeded on something
 * under the folder, appends its event. One mutex orders the log: an event's position is the order in which the
 * calls completed, except for syncs, which also record (in `offset`) how many events existed when they began —
 * a sync covers only the writes that completed before it started, whatever else completed while it ran.
 *
 * The calls covered are those engram and liblmdb.so make on files (found with nm -D on liblmdb, a grep of
 * src/, and strace of a recorded run): open/openat/creat (and their 64 aliases), write, pwrite, writev, pwritev,
 * ftruncate, fsync, fdatasync, sync_file_range, rename/renameat/renameat2, unlink/unlinkat, mkdir/mkdirat, rmdir,
 * close. Memory-mapped writes are not seen: engram never opens LMDB with MDB_WRITEMAP, and the only file written
 * through a map is LMDB's lock.mdb, which holds no data that outlives the processes using it. */
#define _GNU_SOURCE
#include "recorder.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define FD_TABLE 4096
#define REL_CAP 512

/* The real functions, found on first use: the next definition after the executable's own. */
#define REAL(type, name, args)                                                                                       \
    static type(*real_##name) args;                                                                                  \
    static type(*get_##name(void)) args {                                                                            \
        type(*f) args = __atomic_load_n(&real_##name, __ATOMIC_ACQUIRE);                                             \
        if (!f) {                                                                                                    \
            f = (type(*) args)dlsym(RTLD_NEXT, #name);                                                               \
            if (!f) abort();                                                                                         \
            __atomic_store_n(&real_##name, f, __ATOMIC_RELEASE);                                                     \
        }                                                                                                            \
        return f;                                                                                                    \
    }

REAL(int, open, (const char *, int, ...))
REAL(int, openat, (int, const char *, int, ...))
REAL(ssize_t, write, (int, const void *, size_t))
REAL(ssize_t, pwrite, (int, const void *, size_t, off_t))
REAL(ssize_t, writev, (int, const struct iovec *, int))
REAL(ssize_t, pwritev, (int, const struct iovec *, int, off_t))
REAL(int, ftruncate, (int, off_t))
REAL(int, fsync, (int))
REAL(int, fdatasync, (int))
REAL(int, sync_file_range, (int, off_t, off_t, unsigned int))
REAL(int, renameat2, (int, const char *, int, const char *, unsigned int))
REAL(int, unlinkat, (int, const char *, int))
REAL(int, mkdirat, (int, const char *, mode_t))
REAL(int, close, (int))

typedef struct tracked_fd {
    bool tracked;
    bool directory;
    char path[REL_CAP]; /* relative to the folder */
} tracked_fd;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool recording;
static int log_fd = -1;
static uint64_t events_logged;
static char root[PATH_MAX]; /* the folder, absolute and normalised */
static tracked_fd fds[FD_TABLE];

/* Resolves "." and ".." and repeated slashes of an absolute path, lexically (the workload uses no links). */
static bool normalise(const char *path, char *out, size_t cap) {
    size_t used = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        bool same_folder = n == 0 || (n == 1 && p[0] == '.'), parent = n == 2 && p[0] == '.' && p[1] == '.';
        if (parent) {
            while (used > 0 && out[used - 1] != '/') used--;
            if (used > 0) used--;
        } else if (!same_folder) {
            if (used + 1 + n + 1 > cap) return false;
            out[used++] = '/';
            memcpy(out + used, p, n);
            used += n;
        }
        p = end;
    }
    if (used == 0) out[used++] = '/';
    out[used] = '\0';
    return true;
}

/* The path of (dirfd, path) relative to the folder; false when it is outside or unknown. Called with lock held. */
static bool relative(int dirfd, const char *path, char out[REL_CAP]) {
    char joined[PATH_MAX * 2], clean[PATH_MAX];
    if (!path) return false;
    if (path[0] == '/') {
        snprintf(joined, sizeof joined, "%s", path);
    } else if (dirfd == AT_FDCWD) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return false;
        snprintf(joined, sizeof joined, "%s/%s", cwd, path);
    } else if (dirfd >= 0 && dirfd < FD_TABLE && fds[dirfd].tracked) {
        snprintf(joined, sizeof joined, "%s/%s/%s", root, fds[dirfd].path, path);
    } else {
        return false;
    }
    if (!normalise(joined, clean, sizeof clean)) return false;
    size_t n = strlen(root);
    if (strncmp(clean, root, n) != 0 || (clean[n] != '/' && clean[n] != '\0')) return false;
    const char *rest = clean[n] == '/' ? clean + n + 1 : clean + n;
    if (strlen(rest) >= REL_CAP) return false;
    strcpy(out, rest);
    return true;
}

static void write_all(const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = get_write()(log_fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) abort(); /* a log with a hole would make every cut point a lie */
        p += w, len -= (size_t)w;
    }
}

/* Appends one event: header, path1, then the second part (path2, or the data gathered from iov). Lock held. */
static void append(powercut_event_header h, const char *path1, const char *path2, const struct iovec *iov,
                   int iovcnt) {
    h.len1 = path1 ? (uint32_t)strlen(path1) : 0;
    if (path2) h.len2 = (uint32_t)strlen(path2);
    write_all(&h, sizeof h);
    if (h.len1) write_all(path1, h.len1);
    if (path2) write_all(path2, h.len2);
    size_t left = iov ? h.len2 : 0;
    for (int i = 0; i < iovcnt && left > 0; i++) {
        size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
        write_all(iov[i].iov_base, n);
        left -= n;
    }
    events_logged++;
}

static bool fd_recorded(int fd) { return fd >= 0 && fd < FD_TABLE && fds[fd].tracked; }

static void record_open(int dirfd, const char *path, int flags, int fd) {
    if (fd < 0 || !atomic_load(&recording)) return;
    pthread_mutex_lock(&lock);
    char rel[REL_CAP];
    if (fd < FD_TABLE) fds[fd].tracked = false;
    if (fd < FD_TABLE && relative(dirfd, path, rel)) {
        struct stat st;
        bool directory = (flags & O_DIRECTORY) || (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
        fds[fd] = (tracked_fd){.tracked = true, .directory = directory};
        strcpy(fds[fd].path, rel);
        uint32_t shown = (uint32_t)flags | (directory ? POWERCUT_OPENED_DIRECTORY : 0);
        append((powercut_event_header){.kind = POWERCUT_OPEN, .flags = shown, .fd = fd}, rel, NULL, NULL, 0);
    }
    pthread_mutex_unlock(&lock);
}

/* A write of n bytes gathered from iov that landed at offset (-1: the fd's position, now past the bytes). */
static void record_write(int fd, const struct iovec *iov, int iovcnt, off_t offset, ssize_t n) {
    if (n <= 0 || !atomic_load(&recording)) return;
    pthread_mutex_lock(&lock);
    if (fd_recorded(fd)) {
        if (offset < 0) offset = lseek(fd, 0, SEEK_CUR) - n;
        append((powercut_event_header){.kind = POWERCUT_WRITE, .fd = fd, .offset = (uint64_t)offset,
                                       .len2 = (uint32_t)n},
               NULL, NULL, iov, iovcnt);
    }
    pthread_mutex_unlock(&lock);
}

static void record_fd_event(powercut_event_kind kind, int fd, uint64_t offset) {
    if (!atomic_load(&recording)) return;
    pthread_mutex_lock(&lock);
    if (fd_recorded(fd)) append((powercut_event_header){.kind = kind, .fd = fd, .offset = offset}, NULL, NULL, NULL, 0);
    if (kind == POWERCUT_CLOSE && fd >= 0 && fd < FD_TABLE) fds[fd].tracked = false;
    pthread_mutex_unlock(&lock);
}

static uint64_t events_so_far(void) {
    pthread_mutex_lock(&lock);
    uint64_t n = events_logged;
    pthread_mutex_unlock(&lock);
    return n;
}

/* A name operation: resolved before the call (the call may remove what dirfd + path names). */
typedef struct name_op {
    bool inside;
    char rel[REL_CAP];
} name_op;

static name_op name_before(int dirfd, const char *path) {
    name_op op = {0};
    if (!atomic_load(&recording)) return op;
    pthread_mutex_lock(&lock);
    op.inside = relative(dirfd, path, op.rel);
    pthread_mutex_unlock(&lock);
    return op;
}

static void record_name(powercut_event_kind kind, const name_op *a, const name_op *b, int rc) {
    if (rc != 0 || !a->inside || !atomic_load(&recording)) return;
    pthread_mutex_lock(&lock);
    append((powercut_event_header){.kind = kind}, a->rel, b ? b->rel : NULL, NULL, 0);
    pthread_mutex_unlock(&lock);
}

/* ---- Control ------------------------------------------------------------------------------------------------ */

bool powercut_record_start(const char *folder, const char *log_path) {
    int fd = get_open()(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    pthread_mutex_lock(&lock);
    bool ok = normalise(folder, root, sizeof root);
    if (ok) {
        log_fd = fd;
        events_logged = 0;
        memset(fds, 0, sizeof fds);
        atomic_store(&recording, true);
    }
    pthread_mutex_unlock(&lock);
    if (!ok) {
        get_close()(fd);
        errno = ENAMETOOLONG;
    }
    return ok;
}

void powercut_mark(const char *text) {
    if (!atomic_load(&recording)) return;
    pthread_mutex_lock(&lock);
    append((powercut_event_header){.kind = POWERCUT_MARK}, text, NULL, NULL, 0);
    pthread_mutex_unlock(&lock);
}

void powercut_record_stop(void) {
    pthread_mutex_lock(&lock);
    atomic_store(&recording, false);
    if (log_fd >= 0) get_close()(log_fd);
    log_fd = -1;
    pthread_mutex_unlock(&lock);
}

/* ---- The interposed calls ----------------------------------------------------------------------------------- */

static mode_t mode_of(int flags, va_list ap) {
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    int fd = get_open()(path, flags, mode);
    int saved = errno;
    record_open(AT_FDCWD, path, flags, fd);
    errno = saved;
    return fd;
}

int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return open(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    int fd = get_openat()(dirfd, path, flags, mode);
    int saved = errno;
    record_open(dirfd, path, flags, fd);
    errno = saved;
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_of(flags, ap);
    va_end(ap);
    return openat(dirfd, path, flags, mode);
}

int creat(const char *path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

ssize_t write(int fd, const void *data, size_t len) {
    ssize_t n = get_write()(fd, data, len);
    int saved = errno;
    struct iovec one = {(void *)data, len};
    record_write(fd, &one, 1, -1, n);
    errno = saved;
    return n;
}

ssize_t pwrite(int fd, const void *data, size_t len, off_t offset) {
    ssize_t n = get_pwrite()(fd, data, len, offset);
    int saved = errno;
    struct iovec one = {(void *)data, len};
    record_write(fd, &one, 1, offset, n);
    errno = saved;
    return n;
}

ssize_t pwrite64(int fd, const void *data, size_t len, off64_t offset) { return pwrite(fd, data, len, offset); }

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    ssize_t n = get_writev()(fd, iov, iovcnt);
    int saved = errno;
    record_write(fd, iov, iovcnt, -1, n);
    errno = saved;
    return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    ssize_t n = get_pwritev()(fd, iov, iovcnt, offset);
    int saved = errno;
    record_write(fd, iov, iovcnt, offset, n);
    errno = saved;
    return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t offset) {
    return pwritev(fd, iov, iovcnt, offset);
}

int ftruncate(int fd, off_t size) {
    int rc = get_ftruncate()(fd, size);
    int saved = errno;
    if (rc == 0) record_fd_event(POWERCUT_TRUNCATE, fd, (uint64_t)size);
    errno = saved;
    return rc;
}

int ftruncate64(int fd, off64_t size) { return ftruncate(fd, size); }

/* A sync records how many events had completed when it began: those are the writes it covers. */
int fsync(int fd) {
    uint64_t began = events_so_far();
    int rc = get_fsync()(fd);
    int saved = errno;
    if (rc == 0) record_fd_event(POWERCUT_FSYNC, fd, began);
    errno = saved;
    return rc;
}

int fdatasync(int fd) {
    uint64_t began = events_so_far();
    int rc = get_fdatasync()(fd);
    int saved = errno;
    if (rc == 0) record_fd_event(POWERCUT_FDATASYNC, fd, began);
    errno = saved;
    return rc;
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
    int rc = get_sync_file_range()(fd, offset, nbytes, flags);
    int saved = errno;
    if (rc == 0) record_fd_event(POWERCUT_SYNC_RANGE, fd, 0);
    errno = saved;
    return rc;
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    name_op from = name_before(olddirfd, oldpath), to = name_before(newdirfd, newpath);
    int rc = get_renameat2()(olddirfd, oldpath, newdirfd, newpath, flags);
    int saved = errno;
    /* a rename out of the folder or into it would need the outside's contents: the workload makes none */
    if (from.inside != to.inside && rc == 0 && atomic_load(&recording)) abort();
    record_name(POWERCUT_RENAME, &from, &to, rc);
    errno = saved;
    return rc;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
}

int rename(const char *oldpath, const char *newpath) { return renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0); }

int unlinkat(int dirfd, const char *path, int flags) {
    name_op op = name_before(dirfd, path);
    int rc = get_unlinkat()(dirfd, path, flags);
    int saved = errno;
    record_name(flags & AT_REMOVEDIR ? POWERCUT_RMDIR : POWERCUT_UNLINK, &op, NULL, rc);
    errno = saved;
    return rc;
}

int unlink(const char *path) { return unlinkat(AT_FDCWD, path, 0); }
int rmdir(const char *path) { return unlinkat(AT_FDCWD, path, AT_REMOVEDIR); }

int mkdirat(int dirfd, const char *path, mode_t mode) {
    name_op op = name_before(dirfd, path);
    int rc = get_mkdirat()(dirfd, path, mode);
    int saved = errno;
    record_name(POWERCUT_MKDIR, &op, NULL, rc);
    errno = saved;
    return rc;
}

int mkdir(const char *path, mode_t mode) { return mkdirat(AT_FDCWD, path, mode); }

int close(int fd) {
    /* recorded before the call: once closed, another thread may get the same number from open */
    record_fd_event(POWERCUT_CLOSE, fd, 0);
    return get_close()(fd);
}
