/* test_wal_crash.c — no acknowledged record is lost when the process is killed. A child appends records from four
 * threads as fast as it can, reporting each acknowledged LSN with a hash of its payload on a pipe; the parent
 * SIGKILLs it at varying moments, many times in a row on the same folder, in GROUP and in NONE mode (which
 * promises survival of a killed process too). After each kill the log must reopen (cutting at most a torn tail),
 * hold every acknowledged record with the payload it was given, number its records without gaps, and take the
 * next append at the next LSN. A checkpoint after each round keeps the folder small and puts checkpoints,
 * segment removal and rotation (small segments) under the same test. */
#define _GNU_SOURCE
#include "test.h"
#include "wal/wal.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WRITERS 4
#define SEGMENT_BYTES (256u * 1024u)
#define PAYLOAD_MAX 400
#define LARGE_MAX (1u << 20) /* one record in 128 is up to this large, so some kills land inside a write */
#define ROUNDS 24

static eg_error err;

typedef struct ack {
    uint64_t lsn;
    uint64_t hash;
} ack;

static uint64_t hash_payload(const void *data, size_t length) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < length; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h ^ length;
}

/* ---- The child ---------------------------------------------------------------------------------------- */

typedef struct writer {
    eg_wal *w;
    int fd;
    uint64_t seed;
} writer;

static void *append_forever(void *arg) {
    writer *me = arg;
    unsigned char *payload = malloc(LARGE_MAX);
    if (!payload) _exit(6);
    uint64_t x = me->seed;
    for (;;) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t length = (size_t)(x % 128 == 0 ? (x >> 8) % LARGE_MAX : x % PAYLOAD_MAX);
        for (size_t i = 0; i < length; i++) payload[i] = (unsigned char)(x >> (i % 56));
        ack a;
        eg_error e;
        if (eg_wal_append(me->w, (uint8_t)(1 + x % 255), payload, length, &a.lsn, &e) != EG_OK) _exit(4);
        a.hash = hash_payload(payload, length);
        /* Writes of up to PIPE_BUF bytes are atomic, so the threads' acknowledgements never interleave. */
        if (write(me->fd, &a, sizeof a) != sizeof a) _exit(5);
    }
    return NULL;
}

/* Never returns: the parent kills it. Only _exit, so the harness's exit handlers (scratch removal) never run. */
static void child(const char *dir, eg_wal_sync sync, int fd) {
    eg_wal_options options = {sync, SEGMENT_BYTES};
    eg_wal *w;
    eg_error e;
    if (eg_wal_open(dir, &options, &w, NULL, &e) != EG_OK) _exit(3);
    static writer writers[WRITERS];
    pthread_t threads[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        writers[i] = (writer){w, fd, 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) ^ (uint64_t)getpid()};
        if (pthread_create(&threads[i], NULL, append_forever, &writers[i]) != 0) _exit(6);
    }
    for (;;) pause();
}

/* ---- The parent --------------------------------------------------------------------------------------- */

typedef struct acks {
    ack *items;
    size_t count, cap;
} acks;

static void take(acks *list, const ack *a) {
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 4096;
        list->items = realloc(list->items, list->cap * sizeof *list->items);
        if (!list->items) abort();
    }
    list->items[list->count++] = *a;
}

/* Reads whole acknowledgements from fd until the deadline (or, with deadline_ns 0, until the pipe closes). */
static void collect(int fd, acks *list, uint64_t deadline_ns) {
    static unsigned char pending[sizeof(ack) * 512];
    static size_t held;
    for (;;) {
        if (deadline_ns) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
            if (now_ns >= deadline_ns) return;
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, (int)((deadline_ns - now_ns) / 1000000u) + 1) <= 0) continue;
        }
        ssize_t n = read(fd, pending + held, sizeof pending - held);
        if (n <= 0) {
            held = 0;
            return;
        }
        held += (size_t)n;
        size_t whole = held / sizeof(ack) * sizeof(ack);
        for (size_t at = 0; at < whole; at += sizeof(ack)) {
            ack a;
            memcpy(&a, pending + at, sizeof a);
            take(list, &a);
        }
        memmove(pending, pending + whole, held - whole);
        held -= whole;
    }
}

typedef struct contents {
    uint64_t first;   /* LSN of hashes[0] */
    uint64_t *hashes; /* by LSN - first */
    size_t count, cap;
    int out_of_order;
} contents;

static eg_status remember(void *ctx, const eg_wal_record *r, eg_error *e) {
    (void)e;
    contents *c = ctx;
    if (r->lsn != c->first + c->count) c->out_of_order++;
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->hashes = realloc(c->hashes, c->cap * sizeof *c->hashes);
        if (!c->hashes) abort();
    }
    c->hashes[c->count++] = hash_payload(r->payload, r->length);
    return EG_OK;
}

typedef struct totals {
    uint64_t acks, torn_rounds, torn_bytes;
} totals;

static uint64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void one_kill(const char *dir, eg_wal_sync sync, int delay_ms, totals *sum) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(dir, sync, fds[1]);
    }
    close(fds[1]);
    static acks list;
    list.count = 0;
    /* The delay counts from the first acknowledgement, so a slow start (a loaded machine, sanitizers) never turns
     * the test into killing a process that has written nothing. The pipe is drained meanwhile, so the child
     * never blocks on it and is killed while appending. */
    ack first;
    bool started = read(fds[0], &first, sizeof first) == sizeof first;
    if (started) take(&list, &first);
    collect(fds[0], &list, monotonic_ns() + (uint64_t)delay_ms * 1000000u);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    collect(fds[0], &list, 0);
    close(fds[0]);
    CHECK(started);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL); /* still appending when killed */
    if (!WIFSIGNALED(status)) fprintf(stderr, "  child exited with %d\n", WEXITSTATUS(status));

    eg_wal_options options = {sync, SEGMENT_BYTES};
    eg_wal_open_report report;
    eg_wal *w;
    eg_status st = eg_wal_open(dir, &options, &w, &report, &err);
    CHECK_OK(st, &err);
    if (st != EG_OK) return;
    static contents c;
    c.first = report.checkpoint_lsn;
    c.count = 0;
    c.out_of_order = 0;
    CHECK_OK(eg_wal_read(w, c.first, remember, &c, &err), &err);
    CHECK(c.out_of_order == 0);
    CHECK(c.first + c.count == report.next_lsn);
    size_t lost = 0, changed = 0;
    for (size_t i = 0; i < list.count; i++) {
        uint64_t lsn = list.items[i].lsn;
        if (lsn < c.first || lsn >= c.first + c.count) lost++;
        else if (c.hashes[lsn - c.first] != list.items[i].hash) changed++;
    }
    CHECK(lost == 0 && changed == 0);
    if (lost || changed) fprintf(stderr, "  %zu acknowledged records lost, %zu changed\n", lost, changed);
    uint64_t lsn;
    CHECK_OK(eg_wal_append(w, 1, "after", 5, &lsn, &err), &err);
    CHECK(lsn == report.next_lsn);
    CHECK_OK(eg_wal_checkpoint(w, lsn + 1, &err), &err);
    eg_wal_close(w);
    sum->acks += list.count;
    sum->torn_rounds += report.torn_bytes > 0;
    sum->torn_bytes += report.torn_bytes;
}

static void kill_repeatedly(eg_wal_sync sync) {
    const char *dir = test_scratch_dir();
    totals sum = {0};
    uint64_t x = 0x2545F4914F6CDD1DULL;
    int failures_before = test_failures_in_current;
    for (int round = 0; round < ROUNDS && test_failures_in_current == failures_before; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int delay_ms = round < 4 ? round : (int)(x % 120); /* a few right at the start, the rest spread out */
        one_kill(dir, sync, delay_ms, &sum);
    }
    printf("  %s: %d kills, %" PRIu64 " acknowledged records, %" PRIu64 " torn tails cut (%" PRIu64 " bytes)\n",
           eg_wal_sync_name(sync), ROUNDS, sum.acks, sum.torn_rounds, sum.torn_bytes);
}

TEST(acknowledged_records_survive_sigkill_in_group_mode) { kill_repeatedly(EG_WAL_SYNC_GROUP); }

TEST(acknowledged_records_survive_sigkill_in_none_mode) { kill_repeatedly(EG_WAL_SYNC_NONE); }

int main(void) {
    RUN(acknowledged_records_survive_sigkill_in_group_mode);
    RUN(acknowledged_records_survive_sigkill_in_none_mode);
    return test_summary();
}
