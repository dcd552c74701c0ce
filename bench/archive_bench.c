/* archive_bench.c — the cold archive benchmark: how fast aged memories move out of both hot stores into the
 * archive and back, and how many bytes an archived memory takes on disk next to its raw size.
 *
 * usage: archive_bench load DIR [--memories N] [--dim D] [--threads T]
 *        archive_bench run DIR [--durability group|fsync|none] [--restore-threads T]
 *
 * load  creates a fresh data folder DIR holding N episodes (default 10000) of D dimensions (default 1024), with
 *       durability none and T threads (default 4) sharing the one eg_db: deterministic random vectors, a payload
 *       with a text of about 100 bytes, node properties, a session per 100 episodes, a UUID per episode, and
 *       created_at 60 days ago (1 ms apart, so "oldest first" is well defined).
 *       Prints: archive-load n=.. dim=.. threads=.. load_s=..
 * run   opens DIR (as load left it: every episode hot, the archive empty) with the durability given (default
 *       group), then, one line per round:
 *         archive: eg_archive_older_than(episode, older than 30 days) over all of them, one call;
 *         sizes:   the archive folder's data files (episodes/) and metadata files (metadata/), by file size and
 *                  by blocks allocated, per memory; raw is one memory as the caller gives it (4*D bytes of
 *                  vector and the compact JSON of its payload and properties, created_at and session included);
 *         restore: eg_restore_archived of every id, by 1 thread (first round) and by T threads splitting the ids
 *                  (second round, default 4).
 *       Then checks that every episode is hot again (eg_memory_check consistent, memories == N, archive empty).
 *       Prints: archive-bench mode=group n=.. dim=.. restore_threads=1 archive_s=.. archive_per_s=.. restore_s=..
 *                 restore_per_s=.. bytes_per_memory=.. data_bytes_per_memory=.. meta_bytes_per_memory=..
 *                 disk_bytes_per_memory=.. raw_bytes_per_memory=..
 *               archive-check mode=group consistent=true memories=.. archived_left=0
 *       run changes DIR while it works and leaves it as it found it (all hot), but its log and free pages grow:
 *       give each run a copy of a loaded folder to compare modes on the same start.
 *
 * Archive files are always written durably (fsync of each file and folder) whatever the durability: it only
 * changes the log and the two stores. Put DIR on a disk, not a tmpfs, where syncs cost what they cost. */
#define _GNU_SOURCE /* nftw */
#include "bench_data.h"

#include <engram/engram.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_THREADS 64
#define DAY_MS 86400000ll
#define AGE_DAYS 60
#define ARCHIVE_OLDER_THAN_DAYS 30
#define EPISODES_PER_SESSION 100
#define SESSION_CAP 48

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int64_t epoch_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void fail(const char *what, const eg_error *err) {
    fprintf(stderr, "archive_bench: %s: %s\n", what, err->message);
    exit(1);
}

/* Episode i's id: a version-4-shaped UUID from the stream of i, so the archive's two-character folders fill
 * evenly as with real ids. */
static void episode_id(size_t i, char id[EG_POINT_ID_TEXT]) {
    uint64_t state = (1ull << 63) + i, a = next_random(&state), b = next_random(&state);
    snprintf(id, EG_POINT_ID_TEXT, "%08llx-%04llx-4%03llx-8%03llx-%012llx", (unsigned long long)(a >> 32),
             (unsigned long long)(a >> 16 & 0xFFFF), (unsigned long long)(a & 0xFFF),
             (unsigned long long)(b >> 48 & 0xFFF), (unsigned long long)(b & 0xFFFFFFFFFFFFull));
}

static void session_of(size_t i, char session[SESSION_CAP]) {
    snprintf(session, SESSION_CAP, "bench-session-%zu", i / EPISODES_PER_SESSION);
}

/* Episode i's payload and properties as the caller gives them (new references). */
static void episode_json(size_t i, json_t **payload, json_t **properties) {
    char text[128], summary[48];
    snprintf(text, sizeof text, "episode %06zu: the agent opened the build log, found the failing test and wrote "
                                "a short note on the fix", i);
    snprintf(summary, sizeof summary, "build log read, fix noted (%zu)", i);
    *payload = json_pack("{s:s, s:s, s:f}", "content", text, "outcome", "success", "importance", 0.5);
    *properties = json_pack("{s:s, s:f, s:i}", "summary", summary, "valence", 0.25, "accessCount", 0);
}

/* Reads the value after option argv[*i] as a positive number. */
static size_t count_arg(int argc, char **argv, int *i) {
    char *end = "";
    unsigned long long n = *i + 1 < argc ? strtoull(argv[*i + 1], &end, 10) : 0;
    if (n == 0 || *end) {
        fprintf(stderr, "archive_bench: %s needs a positive number\n", argv[*i]);
        exit(2);
    }
    ++*i;
    return (size_t)n;
}

/* ---- load ----------------------------------------------------------------------------------------------- */

typedef struct loader {
    eg_db *db;
    size_t first, end, dim; /* creates episodes [first, end) */
    int64_t created_base;   /* episode i was created at created_base + i */
} loader;

static void *load_loop(void *arg) {
    loader *l = arg;
    float *vector = malloc(l->dim * sizeof *vector);
    for (size_t i = l->first; i < l->end; i++) {
        char id[EG_POINT_ID_TEXT], session[SESSION_CAP];
        episode_id(i, id);
        session_of(i, session);
        random_vector(i, vector, l->dim);
        json_t *payload, *properties;
        episode_json(i, &payload, &properties);
        eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = id, .vector = vector, .dim = l->dim,
                               .payload = payload, .properties = properties, .session_id = session,
                               .has_created_at = true, .created_at = l->created_base + (int64_t)i};
        eg_error err;
        if (eg_memory_create(l->db, &spec, NULL, &err)) fail("eg_memory_create (load)", &err);
        json_decref(payload);
        json_decref(properties);
    }
    free(vector);
    return NULL;
}

static int run_load(const char *dir, int argc, char **argv) {
    size_t memories = 10000, dim = 1024, threads = 4;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--memories") == 0) memories = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--dim") == 0) dim = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--threads") == 0) threads = count_arg(argc, argv, &i);
        else {
            fprintf(stderr, "archive_bench load: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (threads > MAX_THREADS || threads > memories) {
        fprintf(stderr, "archive_bench load: --threads must be at most %d and at most --memories\n", MAX_THREADS);
        return 2;
    }
    char format[4096];
    struct stat st;
    snprintf(format, sizeof format, "%s/FORMAT", dir);
    if (stat(format, &st) == 0) {
        fprintf(stderr, "archive_bench load: %s already holds a data folder; give a fresh one\n", dir);
        return 2;
    }
    eg_options options = {EG_DURABILITY_NONE};
    eg_db *db;
    eg_error err;
    if (eg_open(dir, &options, &db, &err)) fail("open", &err);
    int64_t created_base = epoch_ms() - AGE_DAYS * DAY_MS;
    loader loaders[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    double t0 = now_s();
    for (size_t t = 0; t < threads; t++) {
        loaders[t] = (loader){db, memories * t / threads, memories * (t + 1) / threads, dim, created_base};
        pthread_create(&ids[t], NULL, load_loop, &loaders[t]);
    }
    for (size_t t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    printf("archive-load n=%zu dim=%zu threads=%zu load_s=%.2f\n", memories, dim, threads, now_s() - t0);
    eg_close(db);
    return 0;
}

/* ---- run ------------------------------------------------------------------------------------------------ */

/* Sizes of the files below one archive folder; nftw's callback has no context, hence the static. */
typedef struct folder_size {
    uint64_t bytes, disk_bytes, files;
} folder_size;

static folder_size walked;

static int add_file(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)path;
    (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode)) {
        walked.bytes += (uint64_t)st->st_size;
        walked.disk_bytes += (uint64_t)st->st_blocks * 512;
        walked.files++;
    }
    return 0;
}

static folder_size size_of(const char *dir, const char *sub) {
    char path[4096];
    snprintf(path, sizeof path, "%s/archive/%s", dir, sub);
    walked = (folder_size){0, 0, 0};
    if (nftw(path, add_file, 16, FTW_PHYS) != 0) {
        fprintf(stderr, "archive_bench: cannot walk %s\n", path);
        exit(1);
    }
    return walked;
}

/* The mean size of an episode as the caller gives it: vector, and payload and properties as stored (with
 * created_at and the session keys the memory layer adds), as compact JSON. */
static double raw_bytes_per_memory(size_t memories, size_t dim) {
    double json_bytes = 0;
    for (size_t i = 0; i < memories; i++) {
        json_t *payload, *properties;
        char session[SESSION_CAP];
        episode_json(i, &payload, &properties);
        session_of(i, session);
        json_object_set_new(payload, "created_at", json_integer(epoch_ms() - AGE_DAYS * DAY_MS));
        json_object_set_new(payload, "session_id", json_string(session));
        json_object_set_new(properties, "created_at", json_integer(epoch_ms() - AGE_DAYS * DAY_MS));
        json_object_set_new(properties, "sessionId", json_string(session));
        char *p = json_dumps(payload, JSON_COMPACT), *q = json_dumps(properties, JSON_COMPACT);
        json_bytes += (double)(strlen(p) + strlen(q));
        free(p);
        free(q);
        json_decref(payload);
        json_decref(properties);
    }
    return (double)(dim * sizeof(float)) + json_bytes / (double)memories;
}

typedef struct restorer {
    eg_db *db;
    size_t first, end; /* restores episodes [first, end) */
} restorer;

static void *restore_loop(void *arg) {
    restorer *r = arg;
    for (size_t i = r->first; i < r->end; i++) {
        char id[EG_POINT_ID_TEXT];
        eg_error err;
        episode_id(i, id);
        if (eg_restore_archived(r->db, id, &err)) fail("eg_restore_archived", &err);
    }
    return NULL;
}

/* Restores episodes [0, memories) with `threads` threads splitting the ids; returns the wall time. */
static double restore_all(eg_db *db, size_t memories, size_t threads) {
    restorer restorers[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    double t0 = now_s();
    for (size_t t = 0; t < threads; t++) {
        restorers[t] = (restorer){db, memories * t / threads, memories * (t + 1) / threads};
        pthread_create(&ids[t], NULL, restore_loop, &restorers[t]);
    }
    for (size_t t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    return now_s() - t0;
}

/* Archives every episode older than 30 days; returns the wall time. */
static double archive_all(eg_db *db, size_t memories) {
    eg_archive_request request = {.type = EG_MEMORY_EPISODE, .older_than_days = ARCHIVE_OLDER_THAN_DAYS};
    eg_archive_result result;
    eg_error err;
    double t0 = now_s();
    if (eg_archive_older_than(db, &request, &result, &err)) fail("eg_archive_older_than", &err);
    double elapsed = now_s() - t0;
    if (result.archived != memories) {
        fprintf(stderr, "archive_bench: archived %llu of %zu episodes\n", (unsigned long long)result.archived,
                memories);
        exit(1);
    }
    return elapsed;
}

/* Archive entries left (0 or 1: one is enough to say the archive is not empty). */
static size_t archived_left(eg_db *db) {
    json_t *page;
    eg_error err;
    if (eg_list_archived(db, NULL, 1, NULL, &page, &err)) fail("eg_list_archived", &err);
    size_t n = json_array_size(json_object_get(page, "entries"));
    json_decref(page);
    return n;
}

static int run_run(const char *dir, int argc, char **argv) {
    eg_options options = {EG_DURABILITY_GROUP};
    size_t threads = 4;
    for (int i = 3; i < argc; i++) {
        eg_error err;
        if (strcmp(argv[i], "--restore-threads") == 0) threads = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--durability") == 0 && i + 1 < argc) {
            if (eg_durability_parse(argv[++i], &options.durability, &err)) fail("--durability", &err);
        } else {
            fprintf(stderr, "archive_bench run: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    eg_db *db;
    eg_error err;
    if (eg_open(dir, &options, &db, &err)) fail("open", &err);
    eg_collection_info info;
    if (eg_vectors_get_collection(eg_db_vectors(db), "episodes", &info, &err)) fail("the episodes collection", &err);
    size_t memories = (size_t)info.points_count, dim = info.config.dim;
    eg_collection_info_clear(&info);
    if (memories == 0 || archived_left(db)) {
        fprintf(stderr, "archive_bench run: %s must hold hot episodes and an empty archive (see load)\n", dir);
        eg_close(db);
        return 2;
    }
    if (threads > MAX_THREADS || threads > memories) threads = memories < MAX_THREADS ? memories : MAX_THREADS;
    double raw = raw_bytes_per_memory(memories, dim), n = (double)memories;
    const char *mode = eg_durability_name(options.durability);

    size_t rounds[2] = {1, threads};
    for (int pass = 0; pass < 2; pass++) {
        double archive_s = archive_all(db, memories);
        folder_size data = size_of(dir, "episodes"), meta = size_of(dir, "metadata");
        if (data.files != memories || meta.files != memories) {
            fprintf(stderr, "archive_bench: %llu data and %llu metadata files for %zu episodes\n",
                    (unsigned long long)data.files, (unsigned long long)meta.files, memories);
            exit(1);
        }
        double restore_s = restore_all(db, memories, rounds[pass]);
        printf("archive-bench mode=%s n=%zu dim=%zu restore_threads=%zu archive_s=%.2f archive_per_s=%.0f "
               "restore_s=%.2f restore_per_s=%.0f bytes_per_memory=%.0f data_bytes_per_memory=%.0f "
               "meta_bytes_per_memory=%.0f disk_bytes_per_memory=%.0f raw_bytes_per_memory=%.0f\n",
               mode, memories, dim, rounds[pass], archive_s, n / archive_s, restore_s, n / restore_s,
               (double)(data.bytes + meta.bytes) / n, (double)data.bytes / n, (double)meta.bytes / n,
               (double)(data.disk_bytes + meta.disk_bytes) / n, raw);
        fflush(stdout);
    }

    json_t *check;
    if (eg_memory_check(db, false, &check, &err)) fail("eg_memory_check", &err);
    bool consistent = json_is_true(json_object_get(check, "consistent"));
    json_int_t hot = json_integer_value(json_object_get(check, "memories"));
    size_t left = archived_left(db);
    json_decref(check);
    printf("archive-check mode=%s consistent=%s memories=%lld archived_left=%zu\n", mode, consistent ? "true" : "false",
           (long long)hot, left);
    eg_close(db);
    return consistent && hot == (json_int_t)memories && left == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "load") == 0) return run_load(argv[2], argc, argv);
    if (argc >= 3 && strcmp(argv[1], "run") == 0) return run_run(argv[2], argc, argv);
    fprintf(stderr, "usage: archive_bench load DIR [--memories N] [--dim D] [--threads T]\n"
                    "       archive_bench run DIR [--durability group|fsync|none] [--restore-threads T]\n");
    return 2;
}
