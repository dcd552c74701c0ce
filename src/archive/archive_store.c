/* archive_store.c — the cold archive's file store (see archive_store.h for the layout and the rules).
 *
 * Every path below the archive folder is reached component by component with openat(O_NOFOLLOW) from the
 * folder above, so no symbolic link inside the archive is ever followed; names are built from validated ids
 * and the three type names only. Writes go through a temporary file ".<name>.tmp" in the destination folder
 * (ids never start with '.', so it can collide with no entry) and an fsync of the folder after each rename,
 * unlink and mkdir. */
#define _GNU_SOURCE /* timegm */
#include "archive/archive_store.h"

#include "util/clock.h"
#include "util/json_check.h"
#include "util/json_text.h"
#include "util/quote.h"
#include "util/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define GZIP_LEVEL 6
#define META_MAX (64 * 1024)
#define CLEANUP_BATCH 1000
#define NAME_CAP 160 /* a file name: 1 + 128 + ".meta.json" + ".tmp" fits */
#define PATH_CAP 192 /* a path relative to A: "procedures/ab/" and a name */
#define DIR_MAX 4000 /* the archive folder's own path (everything below it is reached with openat) */

static const char *const TYPES[3] = {"episodes", "entities", "procedures"};
static const char *const SINGULAR[3] = {"episode", "entity", "procedure"};
static const char *const METADATA = "metadata";

struct eg_archive {
    char *dir;
    pthread_mutex_t mutex;
    int64_t (*now_ms)(void *ctx);
    void *clock_ctx;
};

/* ---- names ---------------------------------------------------------------------------------------------- */

eg_status eg_archive_type_parse(const char *name, const char **plural, eg_error *err) {
    for (int t = 0; name && t < 3; t++) {
        if (strcasecmp(name, TYPES[t]) == 0 || strcasecmp(name, SINGULAR[t]) == 0) {
            *plural = TYPES[t];
            return EG_OK;
        }
    }
    char shown[200];
    eg_quote_for_message(name ? name : "(null)", shown, sizeof shown);
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "invalid memory type '%s': must be one of episodes, entities, procedures", shown);
}

eg_status eg_archive_check_id_len(const char *id, size_t len, eg_error *err) {
    if (!id || len == 0) return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid archive id: it is empty");
    char shown[200];
    if (memchr(id, '\0', len))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid archive id: it contains a NUL byte");
    if (len > EG_ARCHIVE_ID_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid archive id: %zu characters (at most %d)", len,
                            EG_ARCHIVE_ID_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                       c == '.' || c == ':' || c == '-';
        if (!allowed) {
            eg_quote_for_message(id, shown, sizeof shown);
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "invalid archive id '%s': only letters, digits and _ . : - are allowed", shown);
        }
    }
    if (id[0] == '.') {
        eg_quote_for_message(id, shown, sizeof shown);
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid archive id '%s': it must not start with '.'", shown);
    }
    return EG_OK;
}

eg_status eg_archive_check_id(const char *id, eg_error *err) {
    return eg_archive_check_id_len(id, id ? strlen(id) : 0, err);
}

/* The original's shard folder: the first two characters, "00" for a shorter id. */
static void prefix_of(const char *id, char p[3]) {
    if (strlen(id) < 2) {
        strcpy(p, "00");
    } else {
        p[0] = id[0], p[1] = id[1], p[2] = '\0';
    }
}

static void data_name(const char *id, bool gzip, char *out, size_t cap) {
    snprintf(out, cap, "%s%s", id, gzip ? ".json.gz" : ".json");
}

static void meta_name(const char *id, char *out, size_t cap) { snprintf(out, cap, "%s.meta.json", id); }

static int type_index(const char *plural) {
    for (int t = 0; t < 3; t++)
        if (strcmp(plural, TYPES[t]) == 0) return t;
    return -1;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_temporary(const char *name) { return name[0] == '.' && ends_with(name, ".tmp"); }


/* ---- time ----------------------------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* ISO 8601 in UTC with microseconds, the shape Python's isoformat() gives an aware datetime. */
static bool format_iso(int64_t ms, char out[64]) {
    int64_t seconds = floor_div(ms, 1000);
    int64_t millis = ms - seconds * 1000;
    time_t t = (time_t)seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) return false;
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)millis * 1000);
    return true;
}

static bool read_digits(const char **s, int count, int *value) {
    int v = 0;
    for (int i = 0; i < count; i++) {
        if ((*s)[i] < '0' || (*s)[i] > '9') return false;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += count;
    *value = v;
    return true;
}

static bool expect(const char **s, char c) {
    if (**s != c) return false;
    (*s)++;
    return true;
}

/* YYYY-MM-DD('T'|' ')HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM|+HHMM|-HHMM]; without an offset the time is read as
 * UTC (the original wrote naive local time and recorded no zone, so nothing better is known). */
static bool parse_iso(const char *s, int64_t *ms) {
    struct tm tm = {0};
    int year, month, day, hour, minute, second;
    if (!read_digits(&s, 4, &year) || !expect(&s, '-') || !read_digits(&s, 2, &month) || !expect(&s, '-') ||
        !read_digits(&s, 2, &day))
        return false;
    if (*s != 'T' && *s != ' ') return false;
    s++;
    if (!read_digits(&s, 2, &hour) || !expect(&s, ':') || !read_digits(&s, 2, &minute) || !expect(&s, ':') ||
        !read_digits(&s, 2, &second))
        return false;
    int millis = 0;
    if (*s == '.') {
        s++;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++)
            if (digits < 3) millis = millis * 10 + (*s - '0');
        if (digits == 0 || digits > 9) return false;
        for (; digits < 3; digits++) millis *= 10;
    }
    int64_t offset_s = 0;
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1, oh, om;
        s++;
        if (!read_digits(&s, 2, &oh)) return false;
        if (*s == ':') s++;
        if (!read_digits(&s, 2, &om) || oh > 23 || om > 59) return false;
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (*s != '\0' || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
        return false;
    tm.tm_year = year - 1900, tm.tm_mon = month - 1, tm.tm_mday = day;
    tm.tm_hour = hour, tm.tm_min = minute, tm.tm_sec = second;
    time_t t = timegm(&tm);
    if (tm.tm_mday != day) return false; /* timegm normalised a day past the month's end (Feb 30) */
    *ms = ((int64_t)t - offset_s) * 1000 + millis;
    return true;
}

/* ---- folders and files ---------------------------------------------------------------------------------- */

static eg_status sync_dir(int fd, const char *rel, eg_error *err) {
    if (fsync(fd) != 0) return eg_error_set(err, EG_IO, "cannot sync archive folder %s: %s", rel, strerror(errno));
    return EG_OK;
}

/* Opens the archive folder itself; with create, makes it when missing (one level). EG_NOT_FOUND without. */
static eg_status open_root(eg_archive *a, bool create, int *fd, eg_error *err) {
    *fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd >= 0) return EG_OK;
    if (errno == ENOENT && create) {
        if (mkdir(a->dir, 0755) == 0) {
            /* the new folder's name lives in its parent: sync that too, or a crash could lose the whole archive */
            char parent[DIR_MAX + 1];
            snprintf(parent, sizeof parent, "%s", a->dir);
            int pfd = open(dirname(parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            int rc = pfd >= 0 ? fsync(pfd) : -1, e = errno;
            if (pfd >= 0) close(pfd);
            if (rc != 0) return eg_error_set(err, EG_IO, "cannot sync the archive folder's parent: %s", strerror(e));
        } else if (errno != EEXIST) {
            return eg_error_set(err, EG_IO, "cannot create the archive folder: %s", strerror(errno));
        }
        *fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*fd >= 0) return EG_OK;
    }
    if (errno == ENOENT) return eg_error_set(err, EG_NOT_FOUND, "the archive folder does not exist");
    return eg_error_set(err, EG_IO, "cannot open the archive folder: %s", strerror(errno));
}

/* Why an openat(O_NOFOLLOW) of `name` failed, as an error; rel names it for the message. */
static eg_status open_failure(int parent, const char *name, const char *rel, int e, eg_error *err) {
    struct stat st;
    if (e == ENOENT) return eg_error_set(err, EG_NOT_FOUND, "%s does not exist", rel);
    if (e == ELOOP || (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)))
        return eg_error_set(err, EG_CORRUPT, "archive path %s is a symbolic link (not followed)", rel);
    if (e == ENOTDIR) return eg_error_set(err, EG_CORRUPT, "archive path %s is not a folder", rel);
    return eg_error_set(err, EG_IO, "cannot open archive path %s: %s", rel, strerror(e));
}

/* Opens folder `name` under parent without following a link; with create, makes it first when missing and
 * syncs the parent so the new folder survives a crash. */
static eg_status open_sub(int parent, const char *name, const char *rel, bool create, int *fd, eg_error *err) {
    if (create) {
        if (mkdirat(parent, name, 0755) == 0) {
            eg_status s = sync_dir(parent, rel, err);
            if (s != EG_OK) return s;
        } else if (errno != EEXIST) {
            return eg_error_set(err, EG_IO, "cannot create archive folder %s: %s", rel, strerror(errno));
        }
    }
    *fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd >= 0) return EG_OK;
    return open_failure(parent, name, rel, errno, err);
}

/* Opens root/first/second (second may be NULL), root being the archive folder. EG_NOT_FOUND when a component is
 * missing and create is false. */
static eg_status open_under(int root, const char *first, const char *second, bool create, int *fd, eg_error *err) {
    int mid = -1;
    eg_status s = open_sub(root, first, first, create, &mid, err);
    if (s != EG_OK || !second) {
        *fd = mid;
        return s;
    }
    char rel[PATH_CAP];
    snprintf(rel, sizeof rel, "%s/%s", first, second);
    s = open_sub(mid, second, rel, create, fd, err);
    close(mid);
    return s;
}

/* Opens A/first/second (second may be NULL), as open_under. */
static eg_status open_path(eg_archive *a, const char *first, const char *second, bool create, int *fd,
                           eg_error *err) {
    int root;
    eg_status s = open_root(a, create, &root, err);
    if (s != EG_OK) return s;
    s = open_under(root, first, second, create, fd, err);
    close(root);
    return s;
}

/* Reads regular file `name` in folder dir whole (NUL-terminated; caller frees). EG_NOT_FOUND when missing;
 * EG_CORRUPT when it is a link, not a regular file or larger than cap. */
static eg_status read_at(int dir, const char *name, const char *rel, size_t cap, char **out, size_t *len,
                         eg_error *err) {
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return open_failure(dir, name, rel, errno, err);
    struct stat st;
    eg_status s = EG_OK;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        s = eg_error_set(err, EG_IO, "cannot read %s: %s", rel, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = eg_error_set(err, EG_CORRUPT, "archive path %s is not a regular file", rel);
    } else if ((uint64_t)st.st_size > cap) {
        s = eg_error_set(err, EG_CORRUPT, "%s is larger than %zu bytes", rel, cap);
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        s = eg_error_set(err, EG_INTERNAL, "out of memory reading %s", rel);
    }
    size_t used = 0;
    while (s == EG_OK) {
        ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) s = eg_error_set(err, EG_IO, "cannot read %s: %s", rel, strerror(errno));
        if (n <= 0 || (used += (size_t)n) == (size_t)st.st_size) break;
    }
    close(fd);
    if (s != EG_OK) {
        free(buf);
        return s;
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    return EG_OK;
}

/* Writes `name` in folder dir atomically and durably: ".<name>.tmp", fsync, rename, fsync of the folder. */
static eg_status write_at(int dir, const char *name, const char *rel, const void *data, size_t len, eg_error *err) {
    char tmp[PATH_CAP];
    snprintf(tmp, sizeof tmp, ".%s.tmp", name);
    int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return eg_error_set(err, EG_IO, "cannot create a temporary file for %s: %s", rel, strerror(errno));
    const char *p = data;
    size_t left = len;
    int e = 0;
    while (left > 0 && !e) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) e = errno;
        else p += w, left -= (size_t)w;
    }
    if (!e && fsync(fd) != 0) e = errno;
    close(fd);
    if (!e && renameat(dir, tmp, dir, name) != 0) e = errno;
    if (e) {
        unlinkat(dir, tmp, 0);
        return eg_error_set(err, EG_IO, "cannot write %s: %s", rel, strerror(e));
    }
    return sync_dir(dir, rel, err);
}

/* Unlinks `name` if it exists; *removed says whether it did. */
static eg_status unlink_at(int dir, const char *name, const char *rel, bool *removed, eg_error *err) {
    *removed = false;
    if (unlinkat(dir, name, 0) == 0) {
        *removed = true;
        return EG_OK;
    }
    if (errno == ENOENT) return EG_OK;
    return eg_error_set(err, EG_IO, "cannot remove %s: %s", rel, strerror(errno));
}

static int compare_names(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void free_names(char **names, size_t count) {
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names);
}

/* The names in folder fd (not "." or ".."), sorted, so that every walk is deterministic. Caller frees. */
static eg_status read_names(int fd, const char *rel, char ***names, size_t *count, eg_error *err) {
    int copy = dup(fd);
    DIR *d = copy >= 0 ? fdopendir(copy) : NULL;
    if (!d) {
        if (copy >= 0) close(copy);
        return eg_error_set(err, EG_IO, "cannot list archive folder %s: %s", rel, strerror(errno));
    }
    rewinddir(d);
    char **list = NULL;
    size_t n = 0, cap = 0;
    eg_status s = EG_OK;
    struct dirent *entry;
    while (s == EG_OK && (entry = readdir(d))) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(list, cap * sizeof *list);
            if (!grown) {
                s = eg_error_set(err, EG_INTERNAL, "out of memory listing %s", rel);
                break;
            }
            list = grown;
        }
        if (!(list[n] = strdup(entry->d_name))) s = eg_error_set(err, EG_INTERNAL, "out of memory listing %s", rel);
        else n++;
    }
    closedir(d);
    if (s != EG_OK) {
        free_names(list, n);
        return s;
    }
    if (n > 1) qsort(list, n, sizeof *list, compare_names);
    *names = list;
    *count = n;
    return EG_OK;
}

/* ---- gzip ----------------------------------------------------------------------------------------------- */

eg_status eg_archive_gzip(const char *text, size_t len, unsigned char **out, size_t *out_len, eg_error *err) {
    z_stream z = {0};
    if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return eg_error_set(err, EG_INTERNAL, "cannot start gzip compression");
    size_t cap = deflateBound(&z, len);
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return eg_error_set(err, EG_INTERNAL, "out of memory compressing a record");
    }
    z.next_in = (unsigned char *)text, z.avail_in = (uInt)len;
    z.next_out = buf, z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return eg_error_set(err, EG_INTERNAL, "gzip compression failed");
    }
    *out = buf;
    return EG_OK;
}

/* Inflates gzip data (one member or several in a row, as gzip readers accept) into NUL-terminated text, at most
 * EG_ARCHIVE_RECORD_MAX bytes. On failure *problem says what is wrong with the data (NULL: out of memory). */
static bool gunzip_text(const unsigned char *in, size_t len, char **out, size_t *out_len, const char **problem) {
    z_stream z = {0};
    *problem = NULL;
    if (inflateInit2(&z, 15 + 16) != Z_OK) return false;
    size_t cap = len * 4 + 256 < EG_ARCHIVE_RECORD_MAX ? len * 4 + 256 : EG_ARCHIVE_RECORD_MAX + 1;
    size_t used = 0;
    char *buf = malloc(cap);
    bool done = false;
    z.next_in = (unsigned char *)in, z.avail_in = (uInt)len;
    while (buf && !done && !*problem) {
        if (used == cap) {
            if (cap > EG_ARCHIVE_RECORD_MAX) {
                *problem = "gzip data inflates beyond the record size limit";
                break;
            }
            cap = cap * 2 < EG_ARCHIVE_RECORD_MAX + 1 ? cap * 2 : EG_ARCHIVE_RECORD_MAX + 1;
            char *grown = realloc(buf, cap);
            if (!grown) break;
            buf = grown;
        }
        z.next_out = (unsigned char *)buf + used, z.avail_out = (uInt)(cap - used);
        int rc = inflate(&z, Z_NO_FLUSH);
        used = cap - z.avail_out;
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0) done = true;
            else inflateReset(&z);
        } else if (rc == Z_DATA_ERROR) {
            *problem = "bad gzip data";
        } else if (rc == Z_BUF_ERROR && z.avail_out > 0) {
            *problem = "truncated gzip data"; /* the input ran out before the end of the stream */
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            break;
        }
    }
    inflateEnd(&z);
    if (!done || used > EG_ARCHIVE_RECORD_MAX) {
        if (done) *problem = "gzip data inflates beyond the record size limit";
        free(buf);
        return false;
    }
    /* room for the terminator: the loop stopped with used <= cap, grow by one if full */
    if (used == cap) {
        char *grown = realloc(buf, cap + 1);
        if (!grown) {
            free(buf);
            return false;
        }
        buf = grown;
    }
    buf[used] = '\0';
    *out = buf;
    *out_len = used;
    return true;
}

/* ---- metadata ------------------------------------------------------------------------------------------- */

static void expected_path(const char *type, const char *id, bool gzip, char *out, size_t cap) {
    char p[3], name[NAME_CAP];
    prefix_of(id, p);
    data_name(id, gzip, name, sizeof name);
    snprintf(out, cap, "%s/%s/%s", type, p, name);
}

json_t *eg_archive_meta_json(const eg_archive_meta *m) {
    json_t *o = json_object();
    json_object_set_new(o, "memory_id", json_string(m->memory_id));
    json_object_set_new(o, "memory_type", json_string(m->memory_type));
    json_object_set_new(o, "archived_at", json_string(m->archived_at));
    json_object_set_new(o, "original_created_at",
                        m->original_created_at[0] ? json_string(m->original_created_at) : json_null());
    json_object_set_new(o, "size_bytes", json_integer((json_int_t)m->size_bytes));
    json_object_set_new(o, "archive_path", json_string(m->archive_path));
    json_object_set_new(o, "compression", json_string(m->compression));
    json_object_set_new(o, "checksum", m->checksum[0] ? json_string(m->checksum) : json_null());
    json_object_set_new(o, "format", json_integer(m->format));
    return o;
}

static bool copy_text(char *dst, size_t cap, json_t *value) {
    const char *s = json_string_value(value);
    if (!s || strlen(s) >= cap) return false;
    strcpy(dst, s);
    return true;
}

static bool is_hex_digest(const char *s) {
    if (strlen(s) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* Parses and checks the metadata text of entry id; every fault is EG_CORRUPT (EG_INCOMPATIBLE for a newer
 * format) with a message naming it. The archive path is never taken from the file: it must agree with the one
 * computed from id, type and compression. */
static eg_status parse_meta(const char *text, size_t len, const char *id, const char *rel, eg_archive_meta *m,
                            eg_error *err) {
    memset(m, 0, sizeof *m);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, 0, &jerr);
    eg_status s = EG_OK;
    const char *problem = NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return eg_error_set(err, EG_CORRUPT, "metadata %s does not parse as a JSON object", rel);
    }
    json_t *type = json_object_get(o, "memory_type"), *created = json_object_get(o, "original_created_at");
    json_t *size = json_object_get(o, "size_bytes"), *path = json_object_get(o, "archive_path");
    json_t *compression = json_object_get(o, "compression"), *checksum = json_object_get(o, "checksum");
    json_t *format = json_object_get(o, "format");
    if (!copy_text(m->memory_id, sizeof m->memory_id, json_object_get(o, "memory_id")))
        problem = "has no memory_id";
    else if (strcmp(m->memory_id, id) != 0)
        problem = "names another id";
    else if (!json_is_string(type) || type_index(json_string_value(type)) < 0)
        problem = "names no known memory_type";
    else if (!copy_text(m->archived_at, sizeof m->archived_at, json_object_get(o, "archived_at")) ||
             !parse_iso(m->archived_at, &m->archived_at_ms))
        problem = "has no valid archived_at";
    else if (!json_is_null(created) && created &&
             (!copy_text(m->original_created_at, sizeof m->original_created_at, created) ||
              !parse_iso(m->original_created_at, &m->original_created_at_ms)))
        problem = "has an invalid original_created_at";
    else if (!json_is_integer(size) || json_integer_value(size) < 0)
        problem = "has no valid size_bytes";
    else if (!copy_text(m->compression, sizeof m->compression, compression) ||
             (strcmp(m->compression, "gzip") != 0 && strcmp(m->compression, "none") != 0))
        problem = "has no valid compression";
    else if (format && !json_is_integer(format))
        problem = "has an invalid format";
    if (!problem) {
        strcpy(m->memory_type, json_string_value(type));
        if (!m->original_created_at[0]) m->original_created_at_ms = -1;
        m->size_bytes = (uint64_t)json_integer_value(size);
        m->format = format ? (int)json_integer_value(format) : 0;
        if (format && (json_integer_value(format) > EG_ARCHIVE_FORMAT || json_integer_value(format) < 1)) {
            s = json_integer_value(format) > EG_ARCHIVE_FORMAT
                    ? eg_error_set(err, EG_INCOMPATIBLE, "metadata %s has format %" JSON_INTEGER_FORMAT
                                   ", newer than this engram reads (%d)", rel, json_integer_value(format),
                                   EG_ARCHIVE_FORMAT)
                    : eg_error_set(err, EG_CORRUPT, "metadata %s has an invalid format", rel);
        }
        expected_path(m->memory_type, id, strcmp(m->compression, "gzip") == 0, m->archive_path,
                      sizeof m->archive_path);
        /* The original stored its base path joined in front of the relative path: accept that form. */
        const char *stored = json_string_value(path);
        size_t n = stored ? strlen(stored) : 0, e = strlen(m->archive_path);
        if (!stored || !(strcmp(stored, m->archive_path) == 0 ||
                         (n > e && stored[n - e - 1] == '/' && strcmp(stored + n - e, m->archive_path) == 0)))
            problem = "has an archive_path other than this entry's file";
        else if (checksum && !json_is_null(checksum)) {
            if (!json_is_string(checksum) || !is_hex_digest(json_string_value(checksum)))
                problem = "has a checksum that is not a SHA-256 hex digest";
            else
                strcpy(m->checksum, json_string_value(checksum));
        } else if (m->format >= 1) {
            problem = "has no checksum"; /* ours always carry one: its absence is damage, not the original's */
        }
    }
    if (problem && s == EG_OK) s = eg_error_set(err, EG_CORRUPT, "metadata %s %s", rel, problem);
    json_decref(o);
    return s;
}

/* ---- entries -------------------------------------------------------------------------------------------- */

/* The data files of id that exist, in any type folder and either form; rel[i] names each. A link or a folder
 * that is not one stops the search (its error). */
static eg_status find_data_files(int root, const char *id, char rel[6][PATH_CAP], int *count, eg_error *err) {
    char p[3];
    prefix_of(id, p);
    *count = 0;
    for (int t = 0; t < 3; t++) {
        int dir;
        eg_status s = open_under(root, TYPES[t], p, false, &dir, err);
        if (s == EG_NOT_FOUND) continue;
        if (s != EG_OK) return s;
        for (int gz = 1; gz >= 0; gz--) {
            char name[NAME_CAP];
            struct stat st;
            data_name(id, gz, name, sizeof name);
            if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                expected_path(TYPES[t], id, gz, rel[(*count)++], PATH_CAP);
        }
        close(dir);
    }
    eg_error_clear(err);
    return EG_OK;
}

/* load_entry in the archive folder root. */
static eg_status load_entry_at(int root, const char *id, json_t **record, eg_archive_meta *m, bool *meta_ok,
                               eg_error *err) {
    char p[3], name[NAME_CAP], rel[PATH_CAP];
    prefix_of(id, p);
    meta_name(id, name, sizeof name);
    snprintf(rel, sizeof rel, "%s/%s/%s", METADATA, p, name);
    *meta_ok = false;

    char *text = NULL;
    size_t len = 0;
    int dir;
    eg_status s = open_under(root, METADATA, p, false, &dir, err);
    if (s == EG_OK) {
        s = read_at(dir, name, rel, META_MAX, &text, &len, err);
        close(dir);
    }
    if (s == EG_NOT_FOUND) {
        char found[6][PATH_CAP];
        int n;
        s = find_data_files(root, id, found, &n, err);
        if (s != EG_OK) return s;
        if (n > 0) return eg_error_set(err, EG_CORRUPT, "archive entry '%s': data without metadata (%s)", id, found[0]);
        return eg_error_set(err, EG_NOT_FOUND, "no archived memory '%s'", id);
    }
    if (s != EG_OK) return s;
    s = parse_meta(text, len, id, rel, m, err);
    free(text);
    if (s != EG_OK) return eg_error_prefix(err, s, "archive entry '%s': ", id);
    *meta_ok = true;

    bool gzip = strcmp(m->compression, "gzip") == 0;
    data_name(id, gzip, name, sizeof name);
    s = open_under(root, m->memory_type, p, false, &dir, err);
    if (s == EG_OK) {
        s = read_at(dir, name, m->archive_path, EG_ARCHIVE_RECORD_MAX, &text, &len, err);
        close(dir);
    }
    if (s == EG_NOT_FOUND)
        return eg_error_set(err, EG_CORRUPT, "archive entry '%s': metadata without data (%s is missing)", id,
                            m->archive_path);
    if (s != EG_OK) return s;

    uint64_t stored_size = len;
    if (gzip) {
        char *plain;
        size_t plain_len;
        const char *problem;
        bool ok = gunzip_text((unsigned char *)text, len, &plain, &plain_len, &problem);
        free(text);
        if (!ok && !problem) return eg_error_set(err, EG_INTERNAL, "out of memory inflating %s", m->archive_path);
        if (!ok) return eg_error_set(err, EG_CORRUPT, "archive entry '%s': %s in %s", id, problem, m->archive_path);
        text = plain, len = plain_len;
    }
    s = EG_OK;
    if (m->checksum[0]) {
        uint8_t digest[EG_SHA256_BYTES];
        char hex[EG_SHA256_HEX_BYTES];
        eg_sha256(text, len, digest);
        eg_sha256_hex(digest, hex);
        if (strcmp(hex, m->checksum) != 0)
            s = eg_error_set(err, EG_CORRUPT, "archive entry '%s': checksum mismatch in %s", id, m->archive_path);
    }
    if (s == EG_OK && stored_size != m->size_bytes)
        s = eg_error_set(err, EG_CORRUPT, "archive entry '%s': %s is %" PRIu64 " bytes, its metadata says %" PRIu64,
                         id, m->archive_path, stored_size, m->size_bytes);
    json_t *parsed = NULL;
    if (s == EG_OK) {
        json_error_t jerr;
        char why[200];
        parsed = json_loadb(text, len, 0, &jerr);
        if (!parsed) eg_quote_for_message(jerr.text, why, sizeof why); /* it quotes the file's bytes */
        if (!parsed)
            s = eg_error_set(err, EG_CORRUPT, "archive entry '%s': the JSON in %s does not parse (%s)", id,
                             m->archive_path, why);
        else if (!json_is_object(parsed))
            s = eg_error_set(err, EG_CORRUPT, "archive entry '%s': the JSON in %s is not an object", id,
                             m->archive_path);
    }
    free(text);
    if (s == EG_OK && record) *record = json_incref(parsed);
    json_decref(parsed);
    return s;
}

/* Reads and checks entry id (see eg_archive_get). *meta_ok says whether its metadata parsed and named id, so
 * that verify knows which data file the entry owns even when the data is bad. Every memory create asks here
 * whether its id is archived, so the archive folder is opened once per lookup: where there is no archive (a new
 * data folder, or one never archived from), a lookup is that one failed open. Nothing is remembered between
 * lookups: the archive folder may be created by something else (another tool restoring files into it, or a
 * data folder sharing an absolute archive.path; the data folder's lock does not cover those), and a create must
 * still see an entry that appears there. */
static eg_status load_entry(eg_archive *a, const char *id, json_t **record, eg_archive_meta *m, bool *meta_ok,
                            eg_error *err) {
    int root;
    *meta_ok = false;
    eg_status s = open_root(a, false, &root, err);
    if (s == EG_NOT_FOUND) return eg_error_set(err, EG_NOT_FOUND, "no archived memory '%s'", id);
    if (s != EG_OK) return s;
    s = load_entry_at(root, id, record, m, meta_ok, err);
    close(root);
    return s;
}

/* Removes the metadata, then every data file of id (and leftover temporaries of its writes). */
static eg_status remove_entry(eg_archive *a, const char *id, eg_error *err) {
    char p[3];
    prefix_of(id, p);
    bool any = false;
    const char *folders[4] = {METADATA, TYPES[0], TYPES[1], TYPES[2]};
    for (int f = 0; f < 4; f++) {
        int dir;
        eg_status s = open_path(a, folders[f], p, false, &dir, err);
        if (s == EG_NOT_FOUND) continue;
        if (s != EG_OK) return s;
        /* the entry's files, then the temporaries of their interrupted writes */
        static const char *const meta_forms[] = {"%s.meta.json", ".%s.meta.json.tmp"};
        static const char *const data_forms[] = {"%s.json.gz", "%s.json", ".%s.json.gz.tmp", ".%s.json.tmp"};
        const char *const *forms = f == 0 ? meta_forms : data_forms;
        int n = f == 0 ? 2 : 4;
        char names[4][NAME_CAP];
        for (int i = 0; i < n; i++) snprintf(names[i], NAME_CAP, forms[i], id);
        bool removed_here = false;
        for (int i = 0; i < n && s == EG_OK; i++) {
            char rel[PATH_CAP * 2];
            bool removed;
            snprintf(rel, sizeof rel, "%s/%s/%.*s", folders[f], p, NAME_CAP - 1, names[i]);
            s = unlink_at(dir, names[i], rel, &removed, err);
            removed_here |= removed;
            if (removed && names[i][0] != '.') any = true;
        }
        if (s == EG_OK && removed_here) s = sync_dir(dir, folders[f], err);
        close(dir);
        if (s != EG_OK) return s;
    }
    eg_error_clear(err);
    if (!any) return eg_error_set(err, EG_NOT_FOUND, "no archived memory '%s'", id);
    return EG_OK;
}

/* ---- the API -------------------------------------------------------------------------------------------- */

static int64_t wall_clock(void *ctx) {
    (void)ctx;
    return eg_now_ms();
}

eg_status eg_archive_open(const char *dir, eg_archive **out, eg_error *err) {
    if (!dir || !dir[0]) return eg_error_set(err, EG_INVALID_ARGUMENT, "the archive folder path is empty");
    if (strlen(dir) > DIR_MAX) return eg_error_set(err, EG_INVALID_ARGUMENT, "the archive folder path is too long");
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "the archive folder exists and is not a folder");
    eg_archive *a = calloc(1, sizeof *a);
    if (!a || !(a->dir = strdup(dir))) {
        free(a);
        return eg_error_set(err, EG_INTERNAL, "out of memory opening the archive");
    }
    pthread_mutex_init(&a->mutex, NULL);
    a->now_ms = wall_clock;
    *out = a;
    return EG_OK;
}

void eg_archive_close(eg_archive *a) {
    if (!a) return;
    pthread_mutex_destroy(&a->mutex);
    free(a->dir);
    free(a);
}

void eg_archive_set_clock(eg_archive *a, int64_t (*now_ms)(void *ctx), void *ctx) {
    pthread_mutex_lock(&a->mutex);
    a->now_ms = now_ms ? now_ms : wall_clock;
    a->clock_ctx = now_ms ? ctx : NULL;
    pthread_mutex_unlock(&a->mutex);
}

/* The file-system half of a put, under the mutex: data folder first (a planted link stops the put before
 * anything changes), the old metadata removed, data, metadata, then any stale data file of the id elsewhere. */
static eg_status put_files(eg_archive *a, const eg_archive_meta *m, const void *data, size_t len, const char *json,
                           size_t json_len, eg_error *err) {
    char p[3], name[NAME_CAP], rel[PATH_CAP];
    prefix_of(m->memory_id, p);
    int data_dir, meta_dir;
    eg_status s = open_path(a, m->memory_type, p, true, &data_dir, err);
    if (s != EG_OK) return s;
    s = open_path(a, METADATA, p, true, &meta_dir, err);
    if (s != EG_OK) {
        close(data_dir);
        return s;
    }
    bool removed;
    meta_name(m->memory_id, name, sizeof name);
    snprintf(rel, sizeof rel, "%s/%s/%s", METADATA, p, name);
    s = unlink_at(meta_dir, name, rel, &removed, err);
    if (s == EG_OK && removed) s = sync_dir(meta_dir, METADATA, err);
    bool gzip = strcmp(m->compression, "gzip") == 0;
    data_name(m->memory_id, gzip, name, sizeof name);
    if (s == EG_OK) s = write_at(data_dir, name, m->archive_path, data, len, err);
    meta_name(m->memory_id, name, sizeof name);
    if (s == EG_OK) s = write_at(meta_dir, name, rel, json, json_len, err);
    close(data_dir);
    close(meta_dir);

    for (int t = 0; t < 3 && s == EG_OK; t++) {
        int dir;
        s = open_path(a, TYPES[t], p, false, &dir, err);
        if (s == EG_NOT_FOUND) {
            s = EG_OK;
            continue;
        }
        bool removed_here = false;
        for (int gz = 0; gz < 2 && s == EG_OK; gz++) {
            if (strcmp(TYPES[t], m->memory_type) == 0 && gz == gzip) continue;
            data_name(m->memory_id, gz, name, sizeof name);
            expected_path(TYPES[t], m->memory_id, gz, rel, sizeof rel);
            s = unlink_at(dir, name, rel, &removed, err);
            removed_here |= removed;
        }
        if (s == EG_OK && removed_here) s = sync_dir(dir, TYPES[t], err);
        close(dir);
    }
    if (s == EG_OK) eg_error_clear(err);
    return s;
}

eg_status eg_archive_put(eg_archive *a, const char *type, const char *id, json_t *record, int64_t original_created_ms,
                         bool compress, eg_archive_meta *out, eg_error *err) {
    const char *plural;
    eg_status s = eg_archive_type_parse(type, &plural, err);
    if (s == EG_OK) s = eg_archive_check_id(id, err);
    if (s != EG_OK) return s;
    if (!json_is_object(record))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "archive record for '%s' is not a JSON object", id);
    /* A record wraps a memory's payload and properties a few levels down. Its size is checked once encoded. */
    const eg_json_limits record_limits = {EG_JSON_DEPTH_MAX + 4, SIZE_MAX, 0};
    char what[EG_ARCHIVE_ID_MAX + 32];
    snprintf(what, sizeof what, "archive record for '%s'", id);
    if ((s = eg_json_check_document(record, &record_limits, what, err))) return s;

    eg_archive_meta m = {0};
    strcpy(m.memory_id, id);
    strcpy(m.memory_type, plural);
    m.original_created_at_ms = -1;
    if (original_created_ms >= 0) {
        if (!format_iso(original_created_ms, m.original_created_at))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "original_created_ms %" PRId64 " is out of range",
                                original_created_ms);
        m.original_created_at_ms = original_created_ms;
    }
    strcpy(m.compression, compress ? "gzip" : "none");
    m.format = EG_ARCHIVE_FORMAT;
    expected_path(plural, id, compress, m.archive_path, sizeof m.archive_path);

    char *text = eg_json_text(record, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return eg_error_set(err, EG_INTERNAL, "cannot encode the archive record for '%s'", id);
    size_t text_len = strlen(text);
    if (text_len > EG_ARCHIVE_RECORD_MAX) {
        free(text);
        return eg_error_set(err, EG_INVALID_ARGUMENT, "archive record for '%s' is %zu bytes (at most %u)", id,
                            text_len, EG_ARCHIVE_RECORD_MAX);
    }
    uint8_t digest[EG_SHA256_BYTES];
    eg_sha256(text, text_len, digest);
    eg_sha256_hex(digest, m.checksum);
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    if (compress && (s = eg_archive_gzip(text, text_len, &gz, &gz_len, err)) != EG_OK) {
        free(text);
        return s;
    }
    const void *data = compress ? (const void *)gz : (const void *)text;
    m.size_bytes = compress ? gz_len : text_len;

    pthread_mutex_lock(&a->mutex);
    m.archived_at_ms = a->now_ms(a->clock_ctx);
    char *meta_text = NULL;
    if (!format_iso(m.archived_at_ms, m.archived_at)) {
        s = eg_error_set(err, EG_INTERNAL, "the clock gave an impossible time (%" PRId64 " ms)", m.archived_at_ms);
    } else {
        json_t *o = eg_archive_meta_json(&m);
        meta_text = eg_json_text(o, JSON_INDENT(2));
        json_decref(o);
        s = meta_text ? put_files(a, &m, data, m.size_bytes, meta_text, strlen(meta_text), err)
                      : eg_error_set(err, EG_INTERNAL, "cannot encode archive metadata for '%s'", id);
    }
    pthread_mutex_unlock(&a->mutex);
    free(meta_text);
    free(text);
    free(gz);
    if (s == EG_OK && out) *out = m;
    return s;
}

eg_status eg_archive_get(eg_archive *a, const char *id, json_t **record, eg_archive_meta *meta, eg_error *err) {
    eg_status s = eg_archive_check_id(id, err);
    if (s != EG_OK) return s;
    eg_archive_meta m;
    bool meta_ok;
    pthread_mutex_lock(&a->mutex);
    s = load_entry(a, id, record, &m, &meta_ok, err);
    pthread_mutex_unlock(&a->mutex);
    if (s == EG_OK && meta) *meta = m;
    return s;
}

/* Does folder top (a shard tree: metadata or a type) hold anything under id? ENOENT anywhere on the way is "no";
 * anything else — the entry, or a shard that is a link or a file, which a read would report damaged — "yes". */
static bool shard_holds(int top, const char *id, bool data) {
    char p[3], rel[PATH_CAP];
    struct stat st;
    prefix_of(id, p);
    if (fstatat(top, p, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno != ENOENT;
    if (!S_ISDIR(st.st_mode)) return true;
    for (int variant = 0; variant < (data ? 2 : 1); variant++) {
        char name[NAME_CAP];
        if (data) data_name(id, variant == 0, name, sizeof name);
        else meta_name(id, name, sizeof name);
        snprintf(rel, sizeof rel, "%s/%s", p, name);
        if (fstatat(top, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) return true;
    }
    return false;
}

eg_status eg_archive_find_any(eg_archive *a, const char *const *ids, size_t count, size_t *found, eg_error *err) {
    *found = count;
    for (size_t i = 0; i < count; i++) {
        eg_status s = eg_archive_check_id(ids[i], err);
        if (s != EG_OK) return s;
    }
    const char *const trees[4] = {METADATA, TYPES[0], TYPES[1], TYPES[2]};
    int root = -1, top[4] = {-1, -1, -1, -1};
    pthread_mutex_lock(&a->mutex);
    eg_status s = open_root(a, false, &root, err);
    for (int t = 0; t < 4 && s == EG_OK; t++) {
        s = open_sub(root, trees[t], trees[t], false, &top[t], err);
        if (s == EG_NOT_FOUND) { /* nothing archived in that tree yet */
            top[t] = -1;
            s = EG_OK;
        }
    }
    for (size_t i = 0; i < count && s == EG_OK && *found == count; i++)
        for (int t = 0; t < 4 && *found == count; t++)
            if (top[t] >= 0 && shard_holds(top[t], ids[i], t > 0)) *found = i;
    if (root >= 0) close(root);
    for (int t = 0; t < 4; t++)
        if (top[t] >= 0) close(top[t]);
    pthread_mutex_unlock(&a->mutex);
    if (s == EG_NOT_FOUND) s = EG_OK; /* no archive folder: nothing archived */
    if (s == EG_OK) eg_error_clear(err);
    return s;
}

eg_status eg_archive_remove(eg_archive *a, const char *id, eg_error *err) {
    eg_status s = eg_archive_check_id(id, err);
    if (s != EG_OK) return s;
    pthread_mutex_lock(&a->mutex);
    s = remove_entry(a, id, err);
    pthread_mutex_unlock(&a->mutex);
    return s;
}

/* ---- listing -------------------------------------------------------------------------------------------- */

/* What ordering needs of an entry; the page's metadata is read again when it is returned, so that listing a
 * large archive holds little memory. */
typedef struct entry_key {
    int64_t ms;
    char id[EG_ARCHIVE_ID_MAX + 1];
} entry_key;

static int compare_keys(const void *x, const void *y) {
    const entry_key *a = x, *b = y;
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* The metadata of id read from folder dir (metadata/P), parsed and checked. */
static eg_status read_meta_at(int dir, const char *id, const char *p, eg_archive_meta *m, eg_error *err) {
    char name[NAME_CAP], rel[PATH_CAP];
    meta_name(id, name, sizeof name);
    snprintf(rel, sizeof rel, "%s/%s/%s", METADATA, p, name);
    char *text;
    size_t len;
    eg_status s = read_at(dir, name, rel, META_MAX, &text, &len, err);
    if (s != EG_OK) return s;
    s = parse_meta(text, len, id, rel, m, err);
    free(text);
    return s;
}

static eg_status load_meta(eg_archive *a, const char *id, eg_archive_meta *m, eg_error *err) {
    char p[3];
    prefix_of(id, p);
    int dir;
    eg_status s = open_path(a, METADATA, p, false, &dir, err);
    if (s != EG_OK) return s;
    s = read_meta_at(dir, id, p, m, err);
    close(dir);
    return s;
}

/* The id a file name in metadata/P or <type>/P stands for, if it is one: `suffix` after a valid id whose
 * shard folder is P. */
static bool id_of(const char *name, const char *suffix, const char *p, char id[EG_ARCHIVE_ID_MAX + 1]) {
    if (!ends_with(name, suffix)) return false;
    size_t n = strlen(name) - strlen(suffix);
    if (n == 0 || n > EG_ARCHIVE_ID_MAX || eg_archive_check_id_len(name, n, NULL) != EG_OK) return false;
    memcpy(id, name, n);
    id[n] = '\0';
    char expected[3];
    prefix_of(id, expected);
    return strcmp(expected, p) == 0;
}

/* The keys of every entry whose metadata parses (of type, when not NULL), oldest first. Caller frees *keys. */
static eg_status scan_entries(eg_archive *a, const char *type, entry_key **keys, size_t *count, eg_error *err) {
    *keys = NULL;
    *count = 0;
    int mdir;
    eg_status s = open_path(a, METADATA, NULL, false, &mdir, err);
    if (s == EG_NOT_FOUND) {
        eg_error_clear(err);
        return EG_OK;
    }
    if (s != EG_OK) return s;
    char **shards;
    size_t shard_count, cap = 0;
    s = read_names(mdir, METADATA, &shards, &shard_count, err);
    for (size_t i = 0; s == EG_OK && i < shard_count; i++) {
        int dir;
        if (strlen(shards[i]) != 2 || open_sub(mdir, shards[i], METADATA, false, &dir, NULL) != EG_OK) continue;
        char **files;
        size_t file_count;
        s = read_names(dir, METADATA, &files, &file_count, err);
        for (size_t j = 0; s == EG_OK && j < file_count; j++) {
            entry_key key;
            eg_archive_meta m;
            if (!id_of(files[j], ".meta.json", shards[i], key.id) ||
                read_meta_at(dir, key.id, shards[i], &m, NULL) != EG_OK ||
                (type && strcmp(type, m.memory_type) != 0))
                continue;
            key.ms = m.archived_at_ms;
            if (*count == cap) {
                cap = cap ? cap * 2 : 256;
                entry_key *grown = realloc(*keys, cap * sizeof **keys);
                if (!grown) {
                    s = eg_error_set(err, EG_INTERNAL, "out of memory listing the archive");
                    break;
                }
                *keys = grown;
            }
            (*keys)[(*count)++] = key;
        }
        if (s == EG_OK) free_names(files, file_count);
        close(dir);
    }
    if (s == EG_OK) free_names(shards, shard_count);
    close(mdir);
    if (s != EG_OK) {
        free(*keys);
        *keys = NULL;
        *count = 0;
    } else if (*count > 1) {
        qsort(*keys, *count, sizeof **keys, compare_keys);
    }
    return s;
}

static bool parse_cursor(const char *cursor, entry_key *key) {
    char *end;
    errno = 0;
    long long ms = strtoll(cursor, &end, 10);
    if (errno || end == cursor || *end != ':' || eg_archive_check_id(end + 1, NULL) != EG_OK) return false;
    key->ms = ms;
    strcpy(key->id, end + 1);
    return true;
}

eg_status eg_archive_list(eg_archive *a, const char *type, size_t limit, const char *cursor, json_t **out,
                          char *next_cursor, size_t cursor_cap, eg_error *err) {
    const char *plural = NULL;
    entry_key after = {0};
    bool has_cursor = cursor && cursor[0];
    if (type) {
        eg_status s = eg_archive_type_parse(type, &plural, err);
        if (s != EG_OK) return s;
    }
    if (limit < 1 || limit > EG_ARCHIVE_LIST_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "limit %zu is out of range (1..%d)", limit, EG_ARCHIVE_LIST_MAX);
    if (!next_cursor || cursor_cap < EG_ARCHIVE_CURSOR_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "the cursor buffer must hold %d bytes", EG_ARCHIVE_CURSOR_MAX);
    if (has_cursor && !parse_cursor(cursor, &after))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid archive cursor");

    pthread_mutex_lock(&a->mutex);
    entry_key *keys;
    size_t count;
    eg_status s = scan_entries(a, plural, &keys, &count, err);
    if (s != EG_OK) {
        pthread_mutex_unlock(&a->mutex);
        return s;
    }
    size_t start = 0;
    while (has_cursor && start < count && compare_keys(&keys[start], &after) <= 0) start++;
    size_t end = count - start > limit ? start + limit : count;
    json_t *page = json_array();
    for (size_t i = start; i < end; i++) {
        eg_archive_meta m;
        if (load_meta(a, keys[i].id, &m, NULL) == EG_OK) json_array_append_new(page, eg_archive_meta_json(&m));
    }
    pthread_mutex_unlock(&a->mutex);
    next_cursor[0] = '\0';
    if (end < count) snprintf(next_cursor, cursor_cap, "%" PRId64 ":%s", keys[end - 1].ms, keys[end - 1].id);
    free(keys);
    *out = page;
    return EG_OK;
}

/* ---- verify --------------------------------------------------------------------------------------------- */

typedef struct verify_state {
    json_t *report, *corrupt, *unverifiable, *orphans;
    json_t *owned;   /* data paths that entries' metadata names */
    json_t *claimed; /* ids with metadata (parsed or not): their data files are the entry's business */
    json_int_t entries, ok;
} verify_state;

static void orphan(verify_state *v, const char *rel, const char *reason) {
    json_array_append_new(v->orphans, json_pack("{s:s, s:s}", "path", rel, "reason", reason));
}

/* Returns true when `name` in dir is a plain file; reports links, folders and others as orphans. */
static bool plain_file(verify_state *v, int dir, const char *name, const char *rel) {
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (S_ISLNK(st.st_mode)) orphan(v, rel, "symbolic link (not followed)");
    else if (!S_ISREG(st.st_mode)) orphan(v, rel, "not part of the archive layout");
    return S_ISREG(st.st_mode);
}

static void verify_metadata_file(eg_archive *a, verify_state *v, const char *name, const char *p, const char *rel) {
    char id[EG_ARCHIVE_ID_MAX + 1];
    if (!id_of(name, ".meta.json", p, id)) {
        orphan(v, rel, "not part of the archive layout");
        return;
    }
    v->entries++;
    json_object_set_new(v->claimed, id, json_true());
    eg_archive_meta m;
    bool meta_ok;
    eg_error e;
    eg_status s = load_entry(a, id, NULL, &m, &meta_ok, &e);
    if (meta_ok) json_object_set_new(v->owned, m.archive_path, json_true());
    if (s != EG_OK)
        json_array_append_new(v->corrupt, json_pack("{s:s, s:s}", "id", id, "reason", e.message));
    else if (m.checksum[0])
        v->ok++;
    else
        json_array_append_new(v->unverifiable, json_string(id));
}

static void verify_data_file(verify_state *v, const char *name, const char *p, const char *rel) {
    char id[EG_ARCHIVE_ID_MAX + 1];
    if (!id_of(name, ".json.gz", p, id) && !id_of(name, ".json", p, id))
        orphan(v, rel, "not part of the archive layout");
    else if (!json_object_get(v->claimed, id))
        orphan(v, rel, "data without metadata");
    else if (!json_object_get(v->owned, rel))
        orphan(v, rel, "data of an entry whose metadata names another file");
}

/* Walks folder `top` (metadata or a type): its shard folders and their files. */
static eg_status verify_folder(eg_archive *a, verify_state *v, int root, const char *top, eg_error *err) {
    int dir;
    struct stat st;
    if (fstatat(root, top, &st, AT_SYMLINK_NOFOLLOW) != 0) return EG_OK;
    if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode) || open_sub(root, top, top, false, &dir, NULL) != EG_OK) {
        orphan(v, top, S_ISLNK(st.st_mode) ? "symbolic link (not followed)" : "not part of the archive layout");
        return EG_OK;
    }
    char **shards;
    size_t shard_count;
    eg_status s = read_names(dir, top, &shards, &shard_count, err);
    for (size_t i = 0; s == EG_OK && i < shard_count; i++) {
        char rel[PATH_CAP * 2];
        snprintf(rel, sizeof rel, "%s/%s", top, shards[i]);
        int shard;
        if (fstatat(dir, shards[i], &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode) || strlen(shards[i]) != 2 ||
            open_sub(dir, shards[i], rel, false, &shard, NULL) != EG_OK) {
            orphan(v, rel, S_ISLNK(st.st_mode) ? "symbolic link (not followed)" : "not part of the archive layout");
            continue;
        }
        char **files;
        size_t file_count;
        s = read_names(shard, rel, &files, &file_count, err);
        for (size_t j = 0; s == EG_OK && j < file_count; j++) {
            char file_rel[PATH_CAP * 3];
            snprintf(file_rel, sizeof file_rel, "%s/%s", rel, files[j]);
            if (!plain_file(v, shard, files[j], file_rel)) continue;
            if (is_temporary(files[j])) orphan(v, file_rel, "leftover temporary file of an interrupted write");
            else if (strcmp(top, METADATA) == 0) verify_metadata_file(a, v, files[j], shards[i], file_rel);
            else verify_data_file(v, files[j], shards[i], file_rel);
        }
        if (s == EG_OK) free_names(files, file_count);
        close(shard);
    }
    if (s == EG_OK) free_names(shards, shard_count);
    close(dir);
    return s;
}

eg_status eg_archive_verify(eg_archive *a, json_t **report, eg_error *err) {
    verify_state v = {.corrupt = json_array(), .unverifiable = json_array(), .orphans = json_array(),
                      .owned = json_object(), .claimed = json_object()};
    pthread_mutex_lock(&a->mutex);
    int root;
    eg_status s = open_root(a, false, &root, err);
    if (s == EG_NOT_FOUND) {
        s = EG_OK;
        eg_error_clear(err);
    } else if (s == EG_OK) {
        /* metadata first: the data walk needs to know which files the entries own */
        const char *tops[4] = {METADATA, TYPES[0], TYPES[1], TYPES[2]};
        for (int t = 0; t < 4 && s == EG_OK; t++) s = verify_folder(a, &v, root, tops[t], err);
        char **names;
        size_t count;
        if (s == EG_OK) s = read_names(root, "(top)", &names, &count, err);
        for (size_t i = 0; s == EG_OK && i < count; i++) {
            bool known = strcmp(names[i], METADATA) == 0 || type_index(names[i]) >= 0;
            if (!known) orphan(&v, names[i], is_temporary(names[i]) ? "leftover temporary file of an interrupted write"
                                                                    : "not part of the archive layout");
        }
        if (s == EG_OK) free_names(names, count);
        close(root);
    }
    pthread_mutex_unlock(&a->mutex);
    json_decref(v.owned);
    json_decref(v.claimed);
    if (s != EG_OK) {
        json_decref(v.corrupt), json_decref(v.unverifiable), json_decref(v.orphans);
        return s;
    }
    *report = json_pack("{s:I, s:I, s:o, s:o, s:o}", "entries", v.entries, "ok", v.ok, "corrupt", v.corrupt,
                        "unverifiable", v.unverifiable, "orphans", v.orphans);
    return EG_OK;
}

/* ---- cleanup -------------------------------------------------------------------------------------------- */

eg_status eg_archive_cleanup(eg_archive *a, int64_t retention_days, int64_t now_ms, uint64_t *removed,
                             eg_error *err) {
    int64_t cutoff;
    if (removed) *removed = 0;
    if (retention_days < 0 || retention_days > INT64_MAX / 86400000 ||
        __builtin_sub_overflow(now_ms, retention_days * 86400000, &cutoff))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "retention_days %" PRId64 " is out of range", retention_days);
    pthread_mutex_lock(&a->mutex);
    entry_key *keys;
    size_t count;
    eg_status s = scan_entries(a, NULL, &keys, &count, err);
    pthread_mutex_unlock(&a->mutex);
    if (s != EG_OK) return s;
    /* Each entry's metadata is read again under the mutex: a put between the scan and its batch may have made
     * it new again, and then it stays. */
    for (size_t i = 0; s == EG_OK && i < count && keys[i].ms < cutoff;) {
        pthread_mutex_lock(&a->mutex);
        for (size_t end = i + CLEANUP_BATCH; s == EG_OK && i < count && i < end && keys[i].ms < cutoff; i++) {
            eg_archive_meta m;
            if (load_meta(a, keys[i].id, &m, NULL) != EG_OK || m.archived_at_ms >= cutoff) continue;
            s = remove_entry(a, keys[i].id, err);
            if (s == EG_NOT_FOUND) s = EG_OK;
            else if (s == EG_OK && removed) (*removed)++;
        }
        pthread_mutex_unlock(&a->mutex);
    }
    free(keys);
    if (s == EG_OK) eg_error_clear(err);
    return s;
}
