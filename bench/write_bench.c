/* write_bench.c — the write-path benchmark of issue 13: what writing one memory costs, in time and in bytes sent
 * to the disk, through the public memory API with the folder's default durability. It uses the public headers
 * only, so that the same file compiles against older engram versions: scripts/bench-write.sh --against REV runs
 * it on two builds and prints the ratios.
 *
 * usage: write_bench [--dir DIR] [--dim D]... [--row NAME]... [--runs R] [--count N] [--warmup W] [--writers T]
 *        write_bench --list-rows
 *
 *   --dir DIR    where each row's fresh data folder is made (DIR/engram-write-bench-XXXXXX, removed after);
 *                default /var/tmp. It must be on a disk-backed file system: on a tmpfs syncs cost nothing and
 *                nothing reaches a disk (a warning says so).
 *   --dim D      vector dimension; repeatable; default 384 and 1024
 *   --row NAME   only this row (create, update, delete, create-concurrent); repeatable; default all.
 *                --list-rows prints the names. scripts/bench-write.sh runs one row at a time, so that two builds
 *                alternate row by row and a slow spell of the shared disk hits both alike.
 *   --runs R     runs of every row, alternating rows; each figure is the best of them (default 3)
 *   --count N    measured operations per row at least (default 300); more when N take under 0.2 s
 *   --warmup W   operations before the measured ones (default 50)
 *   --writers T  threads of the concurrent row (default 8)
 *
 * Every memory is an episode with a 200-byte payload ({"content": "..."}, compact JSON), no properties, a
 * session_id, a UUID, a deterministic random vector, and one RELATES_TO relationship to the episode its writer
 * created before it (none for a writer's first). The rows, each on a fresh folder opened with default options:
 *   create  1 writer: W creates (the first makes the collection), then the measured creates
 *   update  1 writer: W + N memories created beforehand with durability none (fast, and left out of the
 *           figures), the folder reopened with default options; W updates, then measured updates cycling over the
 *           memories, each merging {"importance": x} into the payload and {"accessCount": k} into the properties
 *   delete  1 writer: the same W + N memories; W deletes, then measured deletes in creation order (when the
 *           memories run out before 0.2 s, more are created, outside the measurement)
 *   create  T writers: 1 writer makes W creates, then T threads create concurrently until N are done and 0.2 s
 *           has passed
 *   import  1 writer: the same memories through eg_memory_batch_create, IMPORT_BATCH to a call (figures per
 *           memory); skipped against an engram that has no batch creates
 * Figures per operation over the measured ones, for the whole process (the bench's own output is written after):
 *   ops/s
 *   block bytes  the 4 KiB file blocks covered by the write calls (pwrite, pwritev, write, writev to seekable
 *                files), times 4 KiB: what writeback sends to the disk, give or take a block rewritten between
 *                two syncs (counted twice) and the file system's journal (left out)
 *   write_bytes, wchar, syscw  from /proc/self/io. write_bytes counts the page cache dirtied, by folio: where the
 *                file system caches files in large folios (ext4 since Linux 6.16), a 4 KiB write into a clean
 *                2 MiB folio counts 2 MiB, though writeback sends only the dirty blocks. On the development
 *                machine (Linux 6.18, ext4) 1000 times a 4 KiB pwrite and an fdatasync counted 2000 MiB of
 *                write_bytes while the whole disk wrote 49 MiB. There, block bytes is the better figure.
 *   syncs        calls of fsync, fdatasync and msync (MS_SYNC) by engram and LMDB
 *   sync writes  pwrites to a file opened O_DSYNC (LMDB's meta page: a flush of its own)
 * The rates are the highest of the runs, the other figures the lowest.
 *
 * Prints one line per row and dimension, then a table:
 *   write dim=1024 op=create writers=1 runs=3 n=300 ops_per_s=.. block_bytes_per_op=.. write_bytes_per_op=..
 *         wchar_per_op=.. syscw_per_op=.. syncs_per_op=.. sync_writes_per_op=..
 * n is the fewest measured operations of a run. */
#define _GNU_SOURCE /* RTLD_NEXT, nftw */

#include "bench_data.h"

#include <engram/engram.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD_BYTES 200
#define BLOCK 4096
#define MIN_SECONDS 0.2
#define MAX_DIMS 8
#define MAX_RUNS 20
#define MAX_WRITERS 64

/* ---- counting syncs and blocks ----------------------------------------------------------------------------- */

/* The executable defines fsync, fdatasync, msync, pwrite, pwritev, write and writev. Linked with its symbols
 * exported, they stand in for libc's both in engram (linked in statically) and in the shared liblmdb; each
 * counts, then calls the libc function, found with dlsym(RTLD_NEXT). Nothing else changes, so the figures are
 * those of the library as used. (libc's own stdio writes do not come here; the bench prints after measuring.) */
static atomic_uint_fast64_t sync_calls, sync_writes, blocks_written;

static void *next_function(_Atomic(void *) *slot, const char *name) {
    void *f = atomic_load_explicit(slot, memory_order_acquire);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        if (!f) {
            fprintf(stderr, "write_bench: no libc %s to forward to: %s\n", name, dlerror());
            abort();
        }
        atomic_store_explicit(slot, f, memory_order_release);
    }
    return f;
}

int fsync(int fd) {
    static _Atomic(void *) real;
    int (*f)(int) = (int (*)(int))next_function(&real, "fsync");
    atomic_fetch_add_explicit(&sync_calls, 1, memory_order_relaxed);
    return f(fd);
}

int fdatasync(int fd) {
    static _Atomic(void *) real;
    int (*f)(int) = (int (*)(int))next_function(&real, "fdatasync");
    atomic_fetch_add_explicit(&sync_calls, 1, memory_order_relaxed);
    return f(fd);
}

/* Engram gave up LMDB's MDB_WRITEMAP, which syncs with msync; older versions used it. */
int msync(void *addr, size_t len, int flags) {
    static _Atomic(void *) real;
    int (*f)(void *, size_t, int) = (int (*)(void *, size_t, int))next_function(&real, "msync");
    if (flags & MS_SYNC) atomic_fetch_add_explicit(&sync_calls, 1, memory_order_relaxed);
    return f(addr, len, flags);
}

/* Counts the blocks of [at, at + done): done bytes written at offset at, at < 0 meaning not a file. */
static void count_blocks(off_t at, ssize_t done) {
    if (at < 0 || done <= 0) return;
    uint64_t first = (uint64_t)at / BLOCK, last = ((uint64_t)at + (uint64_t)done - 1) / BLOCK;
    atomic_fetch_add_explicit(&blocks_written, last - first + 1, memory_order_relaxed);
}

/* Where write and writev will write on fd: -1 for a pipe, socket or terminal (no offset). Keeps errno, which the
 * caller may read after the write itself. */
static off_t position(int fd) {
    int e = errno;
    off_t at = lseek(fd, 0, SEEK_CUR);
    errno = e;
    return at;
}

/* LMDB writes its meta page with pwrite to a descriptor opened O_DSYNC: the write returns once it is on disk,
 * one more flush per commit that no sync call shows. The fcntl, like position's lseek, costs a system call, far
 * below a write's own cost. */
ssize_t pwrite(int fd, const void *buf, size_t n, off_t at) {
    static _Atomic(void *) real;
    ssize_t (*f)(int, const void *, size_t, off_t) =
        (ssize_t (*)(int, const void *, size_t, off_t))next_function(&real, "pwrite");
    int e = errno, flags = fcntl(fd, F_GETFL);
    errno = e;
    if (flags != -1 && (flags & O_DSYNC)) atomic_fetch_add_explicit(&sync_writes, 1, memory_order_relaxed);
    ssize_t done = f(fd, buf, n, at);
    count_blocks(at, done);
    return done;
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t at) {
    static _Atomic(void *) real;
    ssize_t (*f)(int, const struct iovec *, int, off_t) =
        (ssize_t (*)(int, const struct iovec *, int, off_t))next_function(&real, "pwritev");
    ssize_t done = f(fd, iov, count, at);
    count_blocks(at, done);
    return done;
}

ssize_t write(int fd, const void *buf, size_t n) {
    static _Atomic(void *) real;
    ssize_t (*f)(int, const void *, size_t) = (ssize_t (*)(int, const void *, size_t))next_function(&real, "write");
    off_t at = position(fd);
    ssize_t done = f(fd, buf, n);
    count_blocks(at, done);
    return done;
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
    static _Atomic(void *) real;
    ssize_t (*f)(int, const struct iovec *, int) =
        (ssize_t (*)(int, const struct iovec *, int))next_function(&real, "writev");
    off_t at = position(fd);
    ssize_t done = f(fd, iov, count);
    count_blocks(at, done);
    return done;
}

/* ---- measuring --------------------------------------------------------------------------------------------- */

typedef struct io_counters {
    uint64_t block_bytes, write_bytes, wchar, syscw, syncs, sync_writes;
} io_counters;

static io_counters io_now(void) {
    io_counters c = {0};
    FILE *f = fopen("/proc/self/io", "r");
    if (!f) {
        perror("write_bench: /proc/self/io");
        exit(1);
    }
    char key[32];
    unsigned long long v;
    while (fscanf(f, " %31[^:]: %llu", key, &v) == 2) {
        if (strcmp(key, "write_bytes") == 0) c.write_bytes = v;
        else if (strcmp(key, "wchar") == 0) c.wchar = v;
        else if (strcmp(key, "syscw") == 0) c.syscw = v;
    }
    fclose(f);
    c.block_bytes = atomic_load(&blocks_written) * BLOCK;
    c.syncs = atomic_load(&sync_calls);
    c.sync_writes = atomic_load(&sync_writes);
    return c;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* What one row measured: its operations, and the time and counters spent in them. */
typedef struct row_result {
    size_t ops;
    double seconds;
    io_counters io;
} row_result;

/* Accumulates time and counters over one or more measured spans (a row may pause to set up more work). */
typedef struct meter {
    row_result sum;
    double started;
    io_counters at_start;
} meter;

static void meter_start(meter *m) {
    m->at_start = io_now();
    m->started = now_s();
}

static void meter_stop(meter *m) {
    double t = now_s();
    io_counters c = io_now();
    m->sum.seconds += t - m->started;
    m->sum.io.block_bytes += c.block_bytes - m->at_start.block_bytes;
    m->sum.io.write_bytes += c.write_bytes - m->at_start.write_bytes;
    m->sum.io.wchar += c.wchar - m->at_start.wchar;
    m->sum.io.syscw += c.syscw - m->at_start.syscw;
    m->sum.io.syncs += c.syncs - m->at_start.syncs;
    m->sum.io.sync_writes += c.sync_writes - m->at_start.sync_writes;
}

/* Measured time so far, the current span included; meter running. */
static double meter_seconds(const meter *m) {
    return m->sum.seconds + now_s() - m->started;
}

/* ---- the memories ------------------------------------------------------------------------------------------ */

typedef struct bench_config {
    size_t dim, count, warmup, writers;
} bench_config;

static void fail(const char *what, const eg_error *err) {
    fprintf(stderr, "write_bench: %s: %s\n", what, err->message);
    exit(1);
}

/* One writer's memories: ids and vectors follow from (writer, sequence); each links to the writer's previous. */
typedef struct chain {
    unsigned writer;
    size_t next;       /* sequence of the next memory */
    bool has_previous; /* whether the last one made still exists to link to */
    float *vector;
} chain;

static chain chain_new(unsigned writer, size_t dim) {
    chain c = {writer, 0, false, malloc(dim * sizeof(float))};
    if (!c.vector) abort();
    return c;
}

static void memory_id(unsigned writer, size_t sequence, char id[EG_POINT_ID_TEXT]) {
    snprintf(id, EG_POINT_ID_TEXT, "%08x-0000-4000-8000-%012llx", writer + 1,
             (unsigned long long)sequence & 0xFFFFFFFFFFFFull);
}

/* {"content": text}, PAYLOAD_BYTES long in compact JSON: text fills it after the memory's own header. */
static json_t *payload_of(unsigned writer, size_t sequence) {
    static const char filler[] = " The agent read the build log, found the failing test and noted the fix.";
    char text[PAYLOAD_BYTES - (sizeof "{\"content\":\"\"}" - 1) + 1];
    size_t header = (size_t)snprintf(text, sizeof text, "episode %zu of writer %u:", sequence, writer), at = header;
    for (; at + 1 < sizeof text; at++) text[at] = filler[(at - header) % (sizeof filler - 1)];
    text[at] = 0;
    return json_pack("{s:s}", "content", text);
}

static void create_next(eg_db *db, chain *c, size_t dim) {
    char id[EG_POINT_ID_TEXT], previous[EG_POINT_ID_TEXT], session[32];
    memory_id(c->writer, c->next, id);
    snprintf(session, sizeof session, "bench-session-%u", c->writer);
    eg_memory_relationship link = {previous, EG_REL_RELATES_TO, NULL};
    if (c->has_previous) memory_id(c->writer, c->next - 1, previous);
    random_vector(((uint64_t)(c->writer + 1) << 40) + c->next, c->vector, dim);
    json_t *payload = payload_of(c->writer, c->next);
    eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = id, .vector = c->vector, .dim = dim,
                           .payload = payload, .session_id = session, .relationships = c->has_previous ? &link : NULL,
                           .relationship_count = c->has_previous ? 1 : 0};
    eg_error err;
    if (eg_memory_create(db, &spec, NULL, &err)) fail("eg_memory_create", &err);
    json_decref(payload);
    c->next++;
    c->has_previous = true;
}

static void update_one(eg_db *db, unsigned writer, size_t sequence, size_t k) {
    char id[EG_POINT_ID_TEXT];
    memory_id(writer, sequence, id);
    json_t *payload = json_pack("{s:f}", "importance", (double)(k % 100) / 100.0);
    json_t *properties = json_pack("{s:I}", "accessCount", (json_int_t)k);
    eg_error err;
    if (eg_memory_update(db, EG_MEMORY_EPISODE, id, payload, properties, &err)) fail("eg_memory_update", &err);
    json_decref(payload);
    json_decref(properties);
}

static void delete_one(eg_db *db, unsigned writer, size_t sequence) {
    char id[EG_POINT_ID_TEXT];
    memory_id(writer, sequence, id);
    eg_error err;
    if (eg_memory_delete(db, EG_MEMORY_EPISODE, id, &err)) fail("eg_memory_delete", &err);
}

static eg_db *open_folder(const char *folder, const eg_options *options) {
    eg_db *db;
    eg_error err;
    if (eg_open(folder, options, &db, &err)) fail("eg_open", &err);
    return db;
}

/* Creates W + N memories in chain c with durability none, then reopens the folder with default options. */
static eg_db *open_with_memories(const char *folder, chain *c, const bench_config *cfg) {
    eg_options unsynced = {.durability = EG_DURABILITY_NONE};
    eg_db *db = open_folder(folder, &unsynced);
    for (size_t i = 0; i < cfg->warmup + cfg->count; i++) create_next(db, c, cfg->dim);
    eg_close(db);
    return open_folder(folder, NULL);
}

static bool measured_enough(const meter *m, const bench_config *cfg) {
    return m->sum.ops >= cfg->count && meter_seconds(m) >= MIN_SECONDS;
}

/* ---- the rows ---------------------------------------------------------------------------------------------- */

static row_result run_creates(const char *folder, const bench_config *cfg) {
    eg_db *db = open_folder(folder, NULL);
    chain c = chain_new(0, cfg->dim);
    for (size_t i = 0; i < cfg->warmup; i++) create_next(db, &c, cfg->dim);
    meter m = {0};
    meter_start(&m);
    for (; !measured_enough(&m, cfg); m.sum.ops++) create_next(db, &c, cfg->dim);
    meter_stop(&m);
    eg_close(db);
    free(c.vector);
    return m.sum;
}

static row_result run_updates(const char *folder, const bench_config *cfg) {
    chain c = chain_new(0, cfg->dim);
    eg_db *db = open_with_memories(folder, &c, cfg);
    size_t k = 0;
    for (; k < cfg->warmup; k++) update_one(db, 0, k % c.next, k);
    meter m = {0};
    meter_start(&m);
    for (; !measured_enough(&m, cfg); m.sum.ops++, k++) update_one(db, 0, k % c.next, k);
    meter_stop(&m);
    eg_close(db);
    free(c.vector);
    return m.sum;
}

static row_result run_deletes(const char *folder, const bench_config *cfg) {
    chain c = chain_new(0, cfg->dim);
    eg_db *db = open_with_memories(folder, &c, cfg);
    size_t gone = 0; /* memories are deleted in creation order: sequences below gone are deleted */
    for (; gone < cfg->warmup; gone++) delete_one(db, 0, gone);
    meter m = {0};
    meter_start(&m);
    for (; !measured_enough(&m, cfg); m.sum.ops++, gone++) {
        if (gone == c.next) {
            /* Out of memories: make N more (their first links to nothing, its predecessor being deleted). */
            meter_stop(&m);
            c.has_previous = false;
            for (size_t i = 0; i < cfg->count; i++) create_next(db, &c, cfg->dim);
            meter_start(&m);
        }
        delete_one(db, 0, gone);
    }
    meter_stop(&m);
    eg_close(db);
    free(c.vector);
    return m.sum;
}

typedef struct concurrent_writer {
    eg_db *db;
    chain chain;
    size_t dim;
    pthread_barrier_t *start;
    atomic_size_t *done;
    atomic_bool *stop;
} concurrent_writer;

static void *concurrent_loop(void *arg) {
    concurrent_writer *w = arg;
    pthread_barrier_wait(w->start);
    while (!atomic_load(w->stop)) {
        create_next(w->db, &w->chain, w->dim);
        atomic_fetch_add(w->done, 1);
    }
    return NULL;
}

static row_result run_concurrent_creates(const char *folder, const bench_config *cfg) {
    eg_db *db = open_folder(folder, NULL);
    chain first = chain_new(0, cfg->dim);
    for (size_t i = 0; i < cfg->warmup; i++) create_next(db, &first, cfg->dim);
    concurrent_writer writers[MAX_WRITERS];
    pthread_t threads[MAX_WRITERS];
    pthread_barrier_t start;
    atomic_size_t done = 0;
    atomic_bool stop = false;
    pthread_barrier_init(&start, NULL, (unsigned)cfg->writers + 1);
    for (size_t t = 0; t < cfg->writers; t++) {
        writers[t] = (concurrent_writer){db, chain_new((unsigned)t + 1, cfg->dim), cfg->dim, &start, &done, &stop};
        pthread_create(&threads[t], NULL, concurrent_loop, &writers[t]);
    }
    meter m = {0};
    meter_start(&m);
    pthread_barrier_wait(&start);
    struct timespec pause = {0, 5 * 1000 * 1000};
    while (atomic_load(&done) < cfg->count || meter_seconds(&m) < MIN_SECONDS) nanosleep(&pause, NULL);
    atomic_store(&stop, true);
    for (size_t t = 0; t < cfg->writers; t++) pthread_join(threads[t], NULL);
    meter_stop(&m);
    m.sum.ops = atomic_load(&done);
    pthread_barrier_destroy(&start);
    eg_close(db);
    for (size_t t = 0; t < cfg->writers; t++) free(writers[t].chain.vector);
    free(first.vector);
    return m.sum;
}

/* Batch creates came with issue 13 (and EG_MEMORY_BATCH_MAX with them): against an older engram
 * (scripts/bench-write.sh --against REV) this file still builds, and the import row is skipped. */
#define IMPORT_BATCH 1000
#ifdef EG_MEMORY_BATCH_MAX

/* One batch of the chain's next memories, each linked to the one before it (the batch's first to the last of the
 * previous batch). */
static void import_next(eg_db *db, chain *c, size_t dim, float *vectors, char (*ids)[EG_POINT_ID_TEXT],
                        eg_memory_relationship *links, eg_memory_spec *specs, json_t **payloads) {
    for (size_t i = 0; i < IMPORT_BATCH; i++, c->next++) {
        memory_id(c->writer, c->next, ids[i]);
        random_vector(((uint64_t)(c->writer + 1) << 40) + c->next, vectors + i * dim, dim);
        payloads[i] = payload_of(c->writer, c->next);
        links[i] = (eg_memory_relationship){NULL, EG_REL_RELATES_TO, NULL};
        bool linked = c->has_previous || i > 0;
        specs[i] = (eg_memory_spec){.type = EG_MEMORY_EPISODE, .id = ids[i], .vector = vectors + i * dim, .dim = dim,
                                    .payload = payloads[i], .session_id = "bench-session-0",
                                    .relationships = linked ? &links[i] : NULL, .relationship_count = linked};
    }
    char (*previous)[EG_POINT_ID_TEXT] = malloc(IMPORT_BATCH * EG_POINT_ID_TEXT);
    if (!previous) abort();
    for (size_t i = 0; i < IMPORT_BATCH; i++) {
        memory_id(c->writer, c->next - IMPORT_BATCH + i - 1, previous[i]);
        links[i].target_id = previous[i];
    }
    eg_error err;
    if (eg_memory_batch_create(db, specs, IMPORT_BATCH, NULL, &err)) fail("eg_memory_batch_create", &err);
    for (size_t i = 0; i < IMPORT_BATCH; i++) json_decref(payloads[i]);
    free(previous);
    c->has_previous = true;
}

static row_result run_imports(const char *folder, const bench_config *cfg) {
    eg_db *db = open_folder(folder, NULL);
    chain c = chain_new(0, cfg->dim);
    float *vectors = malloc(IMPORT_BATCH * cfg->dim * sizeof(float));
    char (*ids)[EG_POINT_ID_TEXT] = malloc(IMPORT_BATCH * EG_POINT_ID_TEXT);
    eg_memory_relationship *links = malloc(IMPORT_BATCH * sizeof *links);
    eg_memory_spec *specs = malloc(IMPORT_BATCH * sizeof *specs);
    json_t **payloads = malloc(IMPORT_BATCH * sizeof *payloads);
    if (!vectors || !ids || !links || !specs || !payloads) abort();
    import_next(db, &c, cfg->dim, vectors, ids, links, specs, payloads); /* the warm-up: makes the collection */
    meter m = {0};
    meter_start(&m);
    while (!measured_enough(&m, cfg)) {
        import_next(db, &c, cfg->dim, vectors, ids, links, specs, payloads);
        m.sum.ops += IMPORT_BATCH;
    }
    meter_stop(&m);
    eg_close(db);
    free(c.vector), free(vectors), free(ids), free(links), free(specs), free(payloads);
    return m.sum;
}
#else
static row_result run_imports(const char *folder, const bench_config *cfg) {
    (void)folder, (void)cfg;
    fprintf(stderr, "write_bench: this engram has no batch creates: the import row is skipped\n");
    return (row_result){0};
}
#endif

/* One row per figure, each on a fresh folder of its own; another write path is one more entry. */
typedef struct bench_row {
    const char *name; /* for --row */
    const char *operation;
    bool concurrent; /* --writers threads, else one */
    row_result (*run)(const char *folder, const bench_config *cfg);
} bench_row;

static const bench_row rows[] = {
    {"create", "create", false, run_creates},
    {"update", "update", false, run_updates},
    {"delete", "delete", false, run_deletes},
    {"create-concurrent", "create", true, run_concurrent_creates},
    {"import", "import", false, run_imports},
};
#define ROWS (sizeof rows / sizeof rows[0])

/* ---- the folders, the arguments, the report ----------------------------------------------------------------- */

static size_t row_named(const char *name) {
    for (size_t w = 0; w < ROWS; w++)
        if (strcmp(rows[w].name, name) == 0) return w;
    fprintf(stderr, "write_bench: no row %s (write_bench --list-rows)\n", name);
    exit(2);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *at) {
    (void)st, (void)type, (void)at;
    return remove(path);
}

static row_result run_row(const bench_row *row, const char *dir, const bench_config *cfg) {
    char folder[4096];
    if (snprintf(folder, sizeof folder, "%s/engram-write-bench-XXXXXX", dir) >= (int)sizeof folder ||
        !mkdtemp(folder)) {
        perror("write_bench: cannot make a folder in --dir");
        exit(1);
    }
    row_result r = row->run(folder, cfg);
    if (nftw(folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) perror("write_bench: cannot remove the folder");
    return r;
}

static void warn_unless_disk(const char *dir) {
    struct statfs fs;
    if (statfs(dir, &fs) != 0) {
        perror("write_bench: --dir");
        exit(2);
    }
    if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)
        fprintf(stderr, "write_bench: warning: %s is in memory (tmpfs): syncs are free and nothing reaches a disk; "
                        "give a disk-backed --dir\n", dir);
}

static size_t count_arg(int argc, char **argv, int *i) {
    char *end = "";
    unsigned long long n = *i + 1 < argc ? strtoull(argv[*i + 1], &end, 10) : 0;
    if (n == 0 || *end) {
        fprintf(stderr, "write_bench: %s needs a positive number\n", argv[*i]);
        exit(2);
    }
    ++*i;
    return (size_t)n;
}

static double per_op(uint64_t total, const row_result *r) {
    return (double)total / (double)r->ops;
}

/* The best of a row's runs: the highest rate, the lowest of every per-operation figure, the fewest operations. */
typedef struct row_best {
    double ops_per_s, block_bytes, write_bytes, wchar, syscw, syncs, sync_writes;
    size_t ops;
} row_best;

static double lower(double a, double b) {
    return a < b ? a : b;
}

static row_best best_of(const row_result *runs, size_t n) {
    row_best b = {0, 1e300, 1e300, 1e300, 1e300, 1e300, 1e300, (size_t)-1};
    for (size_t i = 0; i < n; i++) {
        const row_result *r = &runs[i];
        double rate = (double)r->ops / r->seconds;
        if (rate > b.ops_per_s) b.ops_per_s = rate;
        b.block_bytes = lower(b.block_bytes, per_op(r->io.block_bytes, r));
        b.write_bytes = lower(b.write_bytes, per_op(r->io.write_bytes, r));
        b.wchar = lower(b.wchar, per_op(r->io.wchar, r));
        b.syscw = lower(b.syscw, per_op(r->io.syscw, r));
        b.syncs = lower(b.syncs, per_op(r->io.syncs, r));
        b.sync_writes = lower(b.sync_writes, per_op(r->io.sync_writes, r));
        if (r->ops < b.ops) b.ops = r->ops;
    }
    return b;
}

int main(int argc, char **argv) {
    const char *dir = "/var/tmp";
    size_t dims[MAX_DIMS], ndims = 0, runs = 3;
    bool chosen[ROWS] = {false}, all_rows = true;
    bench_config cfg = {0, 300, 50, 8};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--dim") == 0 && ndims < MAX_DIMS) dims[ndims++] = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--row") == 0 && i + 1 < argc) {
            size_t w = row_named(argv[++i]);
            chosen[w] = true;
            all_rows = false;
        } else if (strcmp(argv[i], "--list-rows") == 0) {
            for (size_t w = 0; w < ROWS; w++) puts(rows[w].name);
            return 0;
        } else if (strcmp(argv[i], "--runs") == 0) runs = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--count") == 0) cfg.count = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--warmup") == 0) cfg.warmup = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--writers") == 0) cfg.writers = count_arg(argc, argv, &i);
        else {
            fprintf(stderr, "usage: write_bench [--dir DIR] [--dim D]... [--row NAME]... [--runs R] [--count N] "
                            "[--warmup W] [--writers T]   (at most %d dims, %d runs, %d writers)\n"
                            "       write_bench --list-rows\n",
                    MAX_DIMS, MAX_RUNS, MAX_WRITERS);
            return 2;
        }
    }
    if (runs > MAX_RUNS || cfg.writers > MAX_WRITERS) {
        fprintf(stderr, "write_bench: at most %d runs and %d writers\n", MAX_RUNS, MAX_WRITERS);
        return 2;
    }
    if (ndims == 0) {
        dims[ndims++] = 384;
        dims[ndims++] = 1024;
    }
    warn_unless_disk(dir);

    static row_best best[MAX_DIMS][ROWS];
    for (size_t d = 0; d < ndims; d++) {
        cfg.dim = dims[d];
        row_result results[ROWS][MAX_RUNS];
        for (size_t r = 0; r < runs; r++)
            for (size_t w = 0; w < ROWS; w++)
                if (all_rows || chosen[w]) results[w][r] = run_row(&rows[w], dir, &cfg);
        for (size_t w = 0; w < ROWS; w++) {
            if (!all_rows && !chosen[w]) continue;
            row_best *b = &best[d][w];
            *b = best_of(results[w], runs);
            if (b->ops == 0) continue; /* a row this engram cannot run */
            printf("write dim=%zu op=%s writers=%zu runs=%zu n=%zu ops_per_s=%.0f block_bytes_per_op=%.0f "
                   "write_bytes_per_op=%.0f wchar_per_op=%.0f syscw_per_op=%.1f syncs_per_op=%.2f "
                   "sync_writes_per_op=%.2f\n",
                   cfg.dim, rows[w].operation, rows[w].concurrent ? cfg.writers : 1, runs, b->ops, b->ops_per_s,
                   b->block_bytes, b->write_bytes, b->wchar, b->syscw, b->syncs, b->sync_writes);
            fflush(stdout);
        }
    }
    printf("\n%5s %-7s %7s %9s %12s %15s %12s %9s %9s %14s\n", "dim", "op", "writers", "ops/s", "block KiB/op",
           "write_bytes KiB", "wchar KiB/op", "syscw/op", "syncs/op", "sync writes/op");
    for (size_t d = 0; d < ndims; d++)
        for (size_t w = 0; w < ROWS; w++) {
            if (!all_rows && !chosen[w]) continue;
            const row_best *b = &best[d][w];
            if (b->ops == 0) continue;
            printf("%5zu %-7s %7zu %9.0f %12.1f %15.1f %12.1f %9.1f %9.2f %14.2f\n", dims[d], rows[w].operation,
                   rows[w].concurrent ? cfg.writers : 1, b->ops_per_s, b->block_bytes / 1024, b->write_bytes / 1024,
                   b->wchar / 1024, b->syscw, b->syncs, b->sync_writes);
        }
    return 0;
}
