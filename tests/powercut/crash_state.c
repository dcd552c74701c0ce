/* crash_state.c — the crash-state builder of the power-cut simulation (crash_state.h is the manual).
 *
 * Loading resolves every event to the file or folder it acts on ("node": what an inode is to the kernel), by
 * replaying the names as they really happened: a rename moves a node, an unlink drops a name, a create makes a
 * node. A build then replays the events before the cut twice over: the name operations that survive, in order,
 * onto a fresh name table, and the data events onto each node's bytes, each write's fate drawn at random unless
 * a sync made it certain. Finally every name that survived is written out with its node's bytes. */
#define _GNU_SOURCE
#include "crash_state.h"

#include "../test.h"
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512
#define FD_TABLE 4096

typedef struct event {
    powercut_event_header h;
    char *path1, *path2;   /* NUL-terminated copies */
    const uint8_t *data;   /* WRITE: h.len2 bytes inside the log's buffer */
    int node;              /* the node acted on, -1 when none */
    bool creates;          /* OPEN that made its file */
    bool truncates;        /* OPEN with O_TRUNC of an existing file */
    bool synchronous;      /* WRITE through an O_DSYNC / O_SYNC descriptor */
} event;

typedef struct name {
    char *path;
    int node;
} name;

typedef struct name_table {
    name *items;
    size_t count, cap;
} name_table;

struct powercut_log {
    uint8_t *bytes;
    event *events;
    size_t count;
    bool *directory; /* per node */
    int nodes;
};

const char *powercut_commit_model_name(powercut_commit_model model) {
    return model == POWERCUT_COMMIT_ON_FOLDER_SYNC ? "commit-on-folder-sync" : "commit-on-any-sync";
}

size_t powercut_log_size(const powercut_log *log) { return log->count; }

unsigned powercut_log_kind(const powercut_log *log, size_t i) { return log->events[i].h.kind; }

const char *powercut_log_mark(const powercut_log *log, size_t i) {
    return i < log->count && log->events[i].h.kind == POWERCUT_MARK ? log->events[i].path1 : NULL;
}

/* ---- Name tables -------------------------------------------------------------------------------------------- */

static name *find_name(name_table *t, const char *path) {
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->items[i].path, path) == 0) return &t->items[i];
    return NULL;
}

static void drop_name(name_table *t, const char *path) {
    name *n = find_name(t, path);
    if (!n) return;
    free(n->path);
    *n = t->items[--t->count];
}

static bool set_name(name_table *t, const char *path, int node) {
    name *n = find_name(t, path);
    if (n) {
        n->node = node;
        return true;
    }
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        name *items = realloc(t->items, cap * sizeof *items);
        if (!items) return false;
        t->items = items, t->cap = cap;
    }
    if (!(t->items[t->count].path = strdup(path))) return false;
    t->items[t->count++].node = node;
    return true;
}

static void free_names(name_table *t) {
    for (size_t i = 0; i < t->count; i++) free(t->items[i].path);
    free(t->items);
}

/* ---- Loading ------------------------------------------------------------------------------------------------ */

static int new_node(powercut_log *log, bool directory) {
    bool *d = realloc(log->directory, (size_t)(log->nodes + 1) * sizeof *d);
    if (!d) return -1;
    log->directory = d;
    d[log->nodes] = directory;
    return log->nodes++;
}

/* Replays the names as they happened, to know which node each event acts on. */
static bool resolve(powercut_log *log) {
    name_table names = {0};
    struct {
        int node;
        bool synchronous;
    } fds[FD_TABLE];
    for (int i = 0; i < FD_TABLE; i++) fds[i].node = -1;
    bool ok = new_node(log, true) == 0 && set_name(&names, "", 0);
    for (size_t i = 0; ok && i < log->count; i++) {
        event *e = &log->events[i];
        name *n = e->path1 ? find_name(&names, e->path1) : NULL;
        bool fd_known = e->h.fd >= 0 && e->h.fd < FD_TABLE;
        e->node = -1;
        switch (e->h.kind) {
        case POWERCUT_OPEN:
            if (n) {
                e->node = n->node;
                e->truncates = (e->h.flags & O_TRUNC) != 0;
            } else if (e->h.flags & O_CREAT) {
                e->node = new_node(log, false);
                e->creates = true;
                ok = e->node >= 0 && set_name(&names, e->path1, e->node);
            } else {
                fprintf(stderr, "  powercut log: event %zu opens %s, which never existed\n", i, e->path1);
                ok = false;
            }
            if (fd_known) {
                fds[e->h.fd].node = e->node;
                fds[e->h.fd].synchronous = (e->h.flags & O_DSYNC) != 0; /* O_SYNC includes the O_DSYNC bit */
            }
            break;
        case POWERCUT_WRITE:
        case POWERCUT_TRUNCATE:
        case POWERCUT_FSYNC:
        case POWERCUT_FDATASYNC:
        case POWERCUT_SYNC_RANGE:
        case POWERCUT_CLOSE:
            if (fd_known) {
                e->node = fds[e->h.fd].node;
                e->synchronous = e->h.kind == POWERCUT_WRITE && fds[e->h.fd].synchronous;
                if (e->h.kind == POWERCUT_CLOSE) fds[e->h.fd].node = -1;
            }
            break;
        case POWERCUT_RENAME:
            if (!n || log->directory[n->node]) {
                fprintf(stderr, "  powercut log: event %zu renames %s, %s\n", i, e->path1,
                        n ? "a folder (not modelled)" : "which does not exist");
                ok = false;
                break;
            }
            e->node = n->node;
            drop_name(&names, e->path1);
            ok = set_name(&names, e->path2, e->node);
            break;
        case POWERCUT_UNLINK:
        case POWERCUT_RMDIR:
            e->node = n ? n->node : -1;
            drop_name(&names, e->path1);
            break;
        case POWERCUT_MKDIR:
            e->node = new_node(log, true);
            ok = e->node >= 0 && set_name(&names, e->path1, e->node);
            break;
        case POWERCUT_MARK:
            break;
        default:
            fprintf(stderr, "  powercut log: event %zu has unknown kind %u\n", i, e->h.kind);
            ok = false;
        }
    }
    free_names(&names);
    return ok;
}

static char *copy_text(const uint8_t *p, uint32_t len) {
    char *s = malloc((size_t)len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

powercut_log *powercut_log_load(const char *path) {
    powercut_log *log = calloc(1, sizeof *log);
    FILE *f = fopen(path, "rb");
    long size = -1;
    if (!log || !f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(log->bytes = malloc((size_t)size + 1)) || fread(log->bytes, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "  cannot read the powercut log %s: %s\n", path, strerror(errno));
        if (f) fclose(f);
        powercut_log_free(log);
        return NULL;
    }
    fclose(f);
    size_t cap = 0, at = 0;
    bool ok = true;
    while (ok && at < (size_t)size) {
        powercut_event_header h;
        if ((size_t)size - at < sizeof h) break; /* a torn last event: the recorder died writing it */
        memcpy(&h, log->bytes + at, sizeof h);
        size_t whole = sizeof h + (size_t)h.len1 + h.len2;
        if ((size_t)size - at < whole) break;
        if (log->count == cap) {
            cap = cap ? cap * 2 : 1024;
            event *events = realloc(log->events, cap * sizeof *events);
            if (!events) {
                ok = false;
                break;
            }
            log->events = events;
        }
        const uint8_t *p1 = log->bytes + at + sizeof h, *p2 = p1 + h.len1;
        event *e = &log->events[log->count++];
        *e = (event){.h = h};
        bool named = h.kind == POWERCUT_OPEN || h.kind == POWERCUT_RENAME || h.kind == POWERCUT_UNLINK ||
                     h.kind == POWERCUT_RMDIR || h.kind == POWERCUT_MKDIR || h.kind == POWERCUT_MARK;
        if (named) ok = (e->path1 = copy_text(p1, h.len1)) != NULL;
        if (ok && h.kind == POWERCUT_RENAME) ok = (e->path2 = copy_text(p2, h.len2)) != NULL;
        if (h.kind == POWERCUT_WRITE) e->data = p2;
        at += whole;
    }
    if (!ok || !resolve(log)) {
        powercut_log_free(log);
        return NULL;
    }
    return log;
}

void powercut_log_free(powercut_log *log) {
    if (!log) return;
    for (size_t i = 0; i < log->count; i++) {
        free(log->events[i].path1);
        free(log->events[i].path2);
    }
    free(log->events);
    free(log->bytes);
    free(log->directory);
    free(log);
}

/* ---- Building ----------------------------------------------------------------------------------------------- */

typedef struct contents {
    uint8_t *bytes;
    size_t size, cap;
} contents;

static bool put(contents *c, uint64_t offset, const uint8_t *data, size_t len) {
    size_t end = (size_t)offset + len;
    if (end > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < end) cap *= 2;
        uint8_t *bytes = realloc(c->bytes, cap);
        if (!bytes) return false;
        c->bytes = bytes, c->cap = cap;
    }
    if (end > c->size) {
        if (offset > c->size) memset(c->bytes + c->size, 0, (size_t)offset - c->size); /* a hole reads as zeros */
        c->size = end;
    }
    if (len) memcpy(c->bytes + offset, data, len);
    return true;
}

static void truncate_to(contents *c, uint64_t size) {
    if (size <= c->size) c->size = (size_t)size;
    else put(c, size, NULL, 0);
}

/* Of a write that was not synced: lost, whole, or a random subset of its sectors. */
static bool unsynced_write(contents *c, const event *e, uint64_t *rng, powercut_build_stats *stats) {
    switch (test_random(rng) % 3) {
    case 0: stats->writes_lost++; return true;
    case 1: stats->writes_whole++; return put(c, e->h.offset, e->data, e->h.len2);
    default: break;
    }
    stats->writes_torn++;
    uint64_t at = e->h.offset, end = e->h.offset + e->h.len2;
    while (at < end) {
        uint64_t sector_end = (at / SECTOR + 1) * SECTOR;
        if (sector_end > end) sector_end = end;
        if (test_random(rng) & 1 && !put(c, at, e->data + (at - e->h.offset), (size_t)(sector_end - at))) return false;
        at = sector_end;
    }
    return true;
}

static bool is_name_op(const event *e) {
    return e->creates || e->h.kind == POWERCUT_RENAME || e->h.kind == POWERCUT_UNLINK || e->h.kind == POWERCUT_RMDIR ||
           e->h.kind == POWERCUT_MKDIR;
}

static bool is_sync(const event *e) { return e->h.kind == POWERCUT_FSYNC || e->h.kind == POWERCUT_FDATASYNC; }

static void apply_name(name_table *t, const event *e, bool *ok) {
    if (e->h.kind == POWERCUT_RENAME) {
        name *from = find_name(t, e->path1);
        if (!from) return; /* its create was lost with it: journal order makes this impossible, kept for safety */
        int node = from->node;
        drop_name(t, e->path1);
        *ok = set_name(t, e->path2, node);
    } else if (e->h.kind == POWERCUT_UNLINK || e->h.kind == POWERCUT_RMDIR) {
        drop_name(t, e->path1);
    } else {
        *ok = set_name(t, e->path1, e->node);
    }
}

static int by_path(const void *a, const void *b) { return strcmp(((const name *)a)->path, ((const name *)b)->path); }

static bool write_out(const powercut_log *log, name_table *names, contents *content, const char *dest) {
    qsort(names->items, names->count, sizeof *names->items, by_path); /* a folder before what it holds */
    for (size_t i = 0; i < names->count; i++) {
        const name *n = &names->items[i];
        if (!n->path[0]) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dest, n->path);
        if (log->directory[n->node]) {
            if (mkdir(path, 0755) != 0) {
                fprintf(stderr, "  crash state: mkdir %s: %s\n", path, strerror(errno));
                return false;
            }
            continue;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        const contents *c = &content[n->node];
        bool ok = fd >= 0;
        for (size_t done = 0; ok && done < c->size;) {
            ssize_t w = write(fd, c->bytes + done, c->size - done);
            ok = w > 0;
            if (ok) done += (size_t)w;
        }
        if (!ok) fprintf(stderr, "  crash state: writing %s: %s\n", path, strerror(errno));
        if (fd >= 0) close(fd);
        if (!ok) return false;
    }
    return true;
}

bool powercut_build(const powercut_log *log, size_t cut, uint64_t seed, powercut_commit_model model,
                    const char *dest, powercut_build_stats *stats) {
    *stats = (powercut_build_stats){0};
    if (cut > log->count) cut = log->count;
    uint64_t rng = seed | 1;

    /* What the syncs before the cut made certain: per node, the events before its last sync began; for names,
     * everything before the last journal commit began. */
    uint64_t *synced_below = calloc((size_t)log->nodes, sizeof *synced_below);
    contents *content = calloc((size_t)log->nodes, sizeof *content);
    if (!synced_below || !content) {
        free(synced_below);
        free(content);
        return false;
    }
    uint64_t committed_below = 0;
    size_t names_after_commit = 0;
    for (size_t i = 0; i < cut; i++) {
        const event *e = &log->events[i];
        if (!is_sync(e) || e->node < 0) continue;
        if (e->h.offset > synced_below[e->node]) synced_below[e->node] = e->h.offset;
        bool commits = model == POWERCUT_COMMIT_ON_ANY_SYNC || log->directory[e->node];
        if (commits && e->h.offset > committed_below) committed_below = e->h.offset;
    }
    for (size_t i = (size_t)committed_below; i < cut; i++) names_after_commit += is_name_op(&log->events[i]);
    size_t names_kept = names_after_commit ? (size_t)(test_random(&rng) % (names_after_commit + 1)) : 0;

    name_table names = {0};
    bool ok = set_name(&names, "", 0);
    for (size_t i = 0; ok && i < cut; i++) {
        const event *e = &log->events[i];
        if (is_name_op(e)) {
            bool survives = i < committed_below || names_kept > 0;
            if (i < committed_below) stats->names_committed++;
            else if (survives) names_kept--, stats->names_kept++;
            else stats->names_lost++;
            if (survives) apply_name(&names, e, &ok);
        }
        if (e->node < 0) continue;
        bool synced = i < synced_below[e->node];
        contents *c = &content[e->node];
        if (e->h.kind == POWERCUT_WRITE) {
            if (synced || e->synchronous) {
                stats->writes_synced++;
                ok = put(c, e->h.offset, e->data, e->h.len2);
            } else {
                ok = unsynced_write(c, e, &rng, stats);
            }
        } else if ((e->h.kind == POWERCUT_TRUNCATE || e->truncates) && (synced || test_random(&rng) & 1)) {
            truncate_to(c, e->h.kind == POWERCUT_TRUNCATE ? e->h.offset : 0);
        }
    }
    if (ok) ok = write_out(log, &names, content, dest);
    for (int n = 0; n < log->nodes; n++) free(content[n].bytes);
    free(content);
    free(synced_below);
    free_names(&names);
    return ok;
}
