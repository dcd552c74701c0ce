/* wal_bench.c — write-ahead log append throughput: appends/s and MB/s of payload for records of 256 B and 4 KiB,
 * from 1 and 8 threads, in each sync mode (group, fsync, none); plus the CRC32C rate of both implementations.
 *
 * usage: wal_bench [--dir DIR] [--seconds S]
 *   --dir DIR     where the scratch logs go (default /var/tmp, usually disk-backed; a tmpfs makes syncs free
 *                 and the durable modes meaningless). Each run uses a fresh folder inside it, removed after.
 *   --seconds S   length of each run (default 2); a run also stops after 1 GiB of payload.
 *
 * Prints one key=value line per run on stdout:
 *   wal_bench sync=group size=256 threads=8 appends_per_s=... mb_per_s=... syncs=... records_per_sync=...
 *     p50_us=... p99_us=... reopen_ms=... reopen_mb_per_s=...
 * MB are 10^6 bytes of payload (frames add 17 bytes each). Latencies are per append, as its caller sees them.
 * reopen is eg_wal_open of the log just written (every record read and checked; warm page cache). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include "util/crc32c.h"
#include "wal/wal.h"

#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 8
#define BYTE_CAP (1024.0 * 1024.0 * 1024.0)
#define LATENCY_SAMPLES (1u << 20) /* per thread; later appends are counted but not sampled */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

typedef struct worker {
    eg_wal *w;
    size_t size;
    uint64_t max_appends;
    volatile int *stop;
    uint64_t appends;
    float *latency_us;
    int failed;
    double finished; /* when the loop ended: the byte cap may end it before the time is up */
} worker;

static void *append_loop(void *arg) {
    worker *k = arg;
    unsigned char *payload = malloc(k->size);
    memset(payload, 0xA5, k->size);
    while (!*k->stop && k->appends < k->max_appends) {
        double t0 = now_s();
        eg_error err;
        if (eg_wal_append(k->w, 1, payload, k->size, NULL, &err) != EG_OK) {
            fprintf(stderr, "wal_bench: append: %s\n", err.message);
            k->failed = 1;
            break;
        }
        if (k->appends < LATENCY_SAMPLES) k->latency_us[k->appends] = (float)((now_s() - t0) * 1e6);
        k->appends++;
    }
    k->finished = now_s();
    free(payload);
    return NULL;
}

static int compare_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int run(const char *base, eg_wal_sync sync, size_t size, int threads, double seconds) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/wal-bench-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("wal_bench: mkdtemp");
        return 1;
    }
    char log_dir[4200];
    snprintf(log_dir, sizeof log_dir, "%s/wal", dir);
    eg_wal_options options = {sync, 0};
    eg_wal *w;
    eg_error err;
    if (eg_wal_open(log_dir, &options, &w, NULL, &err) != EG_OK) {
        fprintf(stderr, "wal_bench: open: %s\n", err.message);
        return 1;
    }
    eg_wal_stats before;
    eg_wal_stats_get(w, &before);
    volatile int stop = 0;
    worker workers[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    double start = now_s();
    for (int i = 0; i < threads; i++) {
        workers[i] = (worker){w, size, (uint64_t)(BYTE_CAP / (double)size / threads), &stop, 0,
                              malloc(LATENCY_SAMPLES * sizeof(float)), 0, 0};
        pthread_create(&ids[i], NULL, append_loop, &workers[i]);
    }
    struct timespec pause = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&pause, NULL);
    stop = 1;
    uint64_t appends = 0, sampled = 0;
    int failed = 0;
    double last_finished = start;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        appends += workers[i].appends;
        failed |= workers[i].failed;
        if (workers[i].finished > last_finished) last_finished = workers[i].finished;
    }
    double elapsed = last_finished - start;
    float *all = malloc((size_t)threads * LATENCY_SAMPLES * sizeof(float));
    for (int i = 0; i < threads; i++) {
        uint64_t n = workers[i].appends < LATENCY_SAMPLES ? workers[i].appends : LATENCY_SAMPLES;
        memcpy(all + sampled, workers[i].latency_us, n * sizeof(float));
        sampled += n;
        free(workers[i].latency_us);
    }
    qsort(all, sampled, sizeof *all, compare_float);
    eg_wal_stats after;
    eg_wal_stats_get(w, &after);
    uint64_t syncs = after.syncs - before.syncs;
    eg_wal_close(w);
    double reopen_start = now_s();
    eg_wal_open_report report;
    if (eg_wal_open(log_dir, &options, &w, &report, &err) != EG_OK || report.records != appends) {
        fprintf(stderr, "wal_bench: reopen: %s\n", err.message);
        return 1;
    }
    double reopen = now_s() - reopen_start;
    eg_wal_close(w);
    printf("wal_bench sync=%s size=%zu threads=%d appends_per_s=%.0f mb_per_s=%.1f syncs=%" PRIu64
           " records_per_sync=%.1f p50_us=%.1f p99_us=%.1f reopen_ms=%.1f reopen_mb_per_s=%.0f\n",
           eg_wal_sync_name(sync), size, threads, (double)appends / elapsed,
           (double)appends * (double)size / elapsed / 1e6, syncs, syncs ? (double)appends / (double)syncs : 0.0,
           sampled ? all[sampled / 2] : 0.0, sampled ? all[(size_t)((double)sampled * 0.99)] : 0.0, reopen * 1e3,
           (double)appends * (double)(size + 17) / reopen / 1e6);
    fflush(stdout);
    free(all);
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) perror("wal_bench: removing the scratch folder");
    return failed;
}

/* Where checksums go, so the compiler cannot skip computing them. */
static volatile uint32_t crc_sink;

/* GB/s of one implementation over a 64 MiB buffer, best of five passes. */
static double crc_rate(uint32_t (*crc)(uint32_t, const void *, size_t)) {
    size_t length = 64u << 20;
    unsigned char *buf = malloc(length);
    for (size_t i = 0; i < length; i++) buf[i] = (unsigned char)(i * 131u);
    double best = 0;
    for (int pass = 0; pass < 5; pass++) {
        double t0 = now_s();
        crc_sink = crc(0, buf, length);
        double rate = (double)length / (now_s() - t0) / 1e9;
        if (rate > best) best = rate;
    }
    free(buf);
    return best;
}

int main(int argc, char **argv) {
    const char *base = "/var/tmp";
    double seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) base = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: wal_bench [--dir DIR] [--seconds S]\n");
            return 2;
        }
    }
    printf("wal_bench crc32c portable_gbps=%.2f hardware_gbps=%.2f\n", crc_rate(eg_crc32c_portable),
           eg_crc32c_hardware_available() ? crc_rate(eg_crc32c_hardware) : 0.0);
    eg_wal_sync modes[] = {EG_WAL_SYNC_GROUP, EG_WAL_SYNC_FSYNC, EG_WAL_SYNC_NONE};
    size_t sizes[] = {256, 4096};
    int thread_counts[] = {1, MAX_THREADS};
    int failed = 0;
    for (int m = 0; m < 3; m++)
        for (int s = 0; s < 2; s++)
            for (int t = 0; t < 2; t++) failed |= run(base, modes[m], sizes[s], thread_counts[t], seconds);
    return failed;
}
