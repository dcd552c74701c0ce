/* ann.c — engram-ann: approximate nearest-neighbour search through the vector store's public API, measured exactly
 * as the hnswlib peer of ../shared/bench (peer_hnswlib.cpp) measures itself, with the same arguments and the same
 * output line, so that scripts/bench-ann.sh can print the two side by side.
 *
 * usage: engram-ann BASE.fvecs QUERY.fvecs GT.ivecs l2|ip|cos M EFC EF1,EF2,... [options]
 *   --int8           the collection quantizes its index to int8 (EG_QUANTIZATION_INT8)
 *   --oversampling X search params.oversampling (1..EG_OVERSAMPLING_MAX; int8 rescoring candidates)
 *   --filter PCT     every point gets the payload {"bucket": "b0"|"b1"}, "b0" for PCT% of them (1..100, by a hash
 *                    of the id); searches carry the keyword filter bucket == "b0"
 *   --threads N      index_threads of the store (default 1; 0: one per CPU)
 *   --reopen         after the queries, close the store (which saves the index) and open it again: prints
 *                    `engram reopen_s=.. indexed=.. recall@10=.. qps=..` (the open's seconds, the points in the
 *                    loaded index, and a query round at the first ef on it)
 * Prints per ef, the peer's fields first, then engram's extras:
 *   engram M=16 efc=200 ef=32 recall@10=.. qps=.. build_s=.. build_per_s=.. index_mb=.. rss_total_mb=.. indexed=..
 *   (+ quantization=int8 oversampling=X with --int8, + filter=PCT min_results=.. with --filter)
 * Exit status: 0 done, 1 a store operation failed, 2 bad arguments or unreadable files.
 *
 * What is measured, and how it matches the peer:
 * - Metric: l2 -> Euclid, ip -> Dot, cos -> Cosine (the store normalises vectors itself; the peer normalises before
 *   its clock starts and then scores by dot product, which ranks the same).
 * - Data travels through the API: a fresh store (eg_vectors_open_lmdb, no_sync, index_threads 1) in a temporary
 *   folder ($TMPDIR, else /tmp; removed at exit), one collection with hnsw_m = M, hnsw_ef_construct = EFC and the
 *   default full_scan_threshold, the base vectors upserted in batches of 1000 with ids 0..n-1 in file order.
 * - build_s runs from creating the collection until the index is ready. The store builds a collection's index the
 *   first time a search needs it, so after the upserts one search runs inside the clock; eg_vectors_get_collection
 *   must then report indexed_vectors_count == n (printed as indexed=; an error on stderr otherwise — e.g. below the
 *   full-scan threshold, or before the index serves searches — but the lines are still printed, from exact search).
 * - Queries: one thread, every query once per ef, limit 10, params.hnsw_ef = ef, no payload or vectors returned;
 *   recall@10 counts the returned ids among the ground truth's first 10, divided by 10 * queries (the peer's
 *   formula); qps = queries / elapsed seconds.
 * - index_mb: the peer reports its resident-set growth across the build (/proc/self/statm). Here the points are
 *   also stored in LMDB's memory map, whose file-backed pages count in the resident set too but are the store's
 *   data on disk (the page cache), not the index; so index_mb is the growth of RssAnon (/proc/self/status:
 *   anonymous memory: the in-memory HNSW index, with its own copy of the vectors, plus the store's heap) across
 *   create + upserts + build, and rss_total_mb is the plain resident-set growth (VmRSS: RssAnon + RssFile +
 *   RssShmem), the peer's measure taken literally, so that both are visible.
 * - With --filter the ground truth is engram's own exact search (params.exact) under the same filter, computed
 *   after the build and outside every clock; min_results is the fewest results any query returned at that ef
 *   (a filtered search must return min(10, matching) points). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <engram/vectors.h>

#include "bench_data.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define K 10
#define BATCH 1000
#define COLLECTION "ann"

static const char *prog = "engram-ann";
static char store_dir[4096]; /* the temporary store folder, removed at exit */

static void usage(void) {
    fprintf(stderr,
            "usage: %s BASE.fvecs QUERY.fvecs GT.ivecs l2|ip|cos M EFC EF1,EF2,... [--int8] [--oversampling X]\n"
            "       [--filter PCT] [--threads N] [--reopen]\n",
            prog);
    exit(2);
}

static void fail(const char *what, const eg_error *err) {
    fprintf(stderr, "%s: %s: %s\n", prog, what, err->message);
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- Files ----------------------------------------------------------------------------------------------- */

typedef struct vecs {
    void *data; /* n rows of dim 4-byte values (float for fvecs, int32 for ivecs) */
    size_t n, dim;
} vecs;

/* Reads an fvecs/ivecs file (each row: int32 dim, then dim 4-byte values); exits 2 naming the file on error. */
static vecs read_vecs(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        exit(2);
    }
    vecs v = {NULL, 0, 0};
    size_t cap = 0;
    int32_t d;
    while (fread(&d, 4, 1, f) == 1) {
        if (d <= 0 || d > EG_VECTOR_DIM_MAX || (v.dim && (size_t)d != v.dim)) {
            fprintf(stderr, "%s: %s: row %zu: bad dimension %d (not an fvecs/ivecs file?)\n", prog, path, v.n, d);
            exit(2);
        }
        v.dim = (size_t)d;
        if (v.n == cap) {
            cap = cap ? cap * 2 : 1024;
            if (!(v.data = realloc(v.data, cap * v.dim * 4))) {
                fprintf(stderr, "%s: %s: out of memory\n", prog, path);
                exit(2);
            }
        }
        if (fread((char *)v.data + v.n * v.dim * 4, 4, v.dim, f) != v.dim) {
            fprintf(stderr, "%s: %s: row %zu: short read\n", prog, path, v.n);
            exit(2);
        }
        v.n++;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: %s: read error\n", prog, path);
        exit(2);
    }
    fclose(f);
    if (v.n == 0) {
        fprintf(stderr, "%s: %s: no vectors\n", prog, path);
        exit(2);
    }
    return v;
}

/* ---- Memory ---------------------------------------------------------------------------------------------- */

/* A field of /proc/self/status in KiB ("RssAnon", "VmRSS"); 0 if absent. */
static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kb = 0;
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* ---- Arguments ------------------------------------------------------------------------------------------- */

typedef struct args {
    const char *base, *query, *gt;
    const char *metric_name;
    eg_distance metric;
    unsigned m, efc;
    size_t *efs, nefs;
    bool int8;
    double oversampling; /* 0: the default */
    int filter_pct;      /* 0: no filter */
    unsigned threads;
    bool reopen;
} args;

/* A whole decimal number in [lo, hi], else usage. */
static unsigned long parse_count(const char *what, const char *s, unsigned long lo, unsigned long hi) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "%s: %s must be a whole number in %lu..%lu, not '%s'\n", prog, what, lo, hi, s);
        usage();
    }
    return v;
}

static args parse_args(int argc, char **argv) {
    args a = {0};
    a.threads = 1;
    const char *pos[7];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strncmp(s, "--", 2) != 0) {
            if (npos == 7) {
                fprintf(stderr, "%s: unexpected argument '%s'\n", prog, s);
                usage();
            }
            pos[npos++] = s;
            continue;
        }
        bool has_value = i + 1 < argc;
        if (strcmp(s, "--reopen") == 0) {
            a.reopen = true;
        } else if (strcmp(s, "--int8") == 0) {
            a.int8 = true;
        } else if (strcmp(s, "--oversampling") == 0 && has_value) {
            char *end;
            a.oversampling = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !(a.oversampling >= 1.0 && a.oversampling <= EG_OVERSAMPLING_MAX)) {
                fprintf(stderr, "%s: --oversampling must be a number in 1..%g\n", prog, EG_OVERSAMPLING_MAX);
                usage();
            }
        } else if (strcmp(s, "--filter") == 0 && has_value) {
            a.filter_pct = (int)parse_count("--filter", argv[++i], 1, 100);
        } else if (strcmp(s, "--threads") == 0 && has_value) {
            a.threads = (unsigned)parse_count("--threads", argv[++i], 0, 1024);
        } else if (strcmp(s, "--help") == 0) {
            usage();
        } else if (!has_value && (strcmp(s, "--oversampling") == 0 || strcmp(s, "--filter") == 0 ||
                                  strcmp(s, "--threads") == 0)) {
            fprintf(stderr, "%s: %s needs a value\n", prog, s);
            usage();
        } else {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, s);
            usage();
        }
    }
    if (npos != 7) usage();
    a.base = pos[0], a.query = pos[1], a.gt = pos[2], a.metric_name = pos[3];
    if (strcmp(a.metric_name, "l2") == 0) a.metric = EG_DISTANCE_EUCLID;
    else if (strcmp(a.metric_name, "ip") == 0) a.metric = EG_DISTANCE_DOT;
    else if (strcmp(a.metric_name, "cos") == 0) a.metric = EG_DISTANCE_COSINE;
    else {
        fprintf(stderr, "%s: METRIC must be l2, ip or cos, not '%s'\n", prog, a.metric_name);
        usage();
    }
    a.m = (unsigned)parse_count("M", pos[4], 2, EG_HNSW_M_MAX);
    a.efc = (unsigned)parse_count("EFC", pos[5], 4, EG_HNSW_EF_CONSTRUCT_MAX);
    char *list = strdup(pos[6]);
    if (!list || !(a.efs = calloc(strlen(list) / 2 + 1, sizeof *a.efs))) exit(2); /* k values take >= 2k-1 chars */
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        a.efs[a.nefs++] = parse_count("an ef", tok, 1, EG_SEARCH_LIMIT_MAX);
    if (a.nefs == 0) {
        fprintf(stderr, "%s: no ef in '%s'\n", prog, pos[6]);
        usage();
    }
    free(list);
    return a;
}

/* ---- The store ------------------------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_store_dir(void) {
    if (store_dir[0]) nftw(store_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The bucket of point i: "b0" for pct% of the points, chosen by a hash of the id so that the matching points are
 * spread over the data set's clusters, "b1" for the others. */
static const char *bucket_of(uint64_t i, int pct) {
    uint64_t state = i;
    return next_random(&state) % 100 < (uint64_t)pct ? "b0" : "b1";
}

/* Upserts every base vector (ids 0..n-1) in batches; with a filter, each point gets its bucket payload. */
static void upsert_all(eg_vectors *v, const vecs *base, int filter_pct) {
    eg_point *batch = calloc(BATCH, sizeof *batch);
    if (!batch) exit(1);
    eg_error err;
    for (size_t first = 0; first < base->n; first += BATCH) {
        size_t count = base->n - first < BATCH ? base->n - first : BATCH;
        for (size_t i = 0; i < count; i++) {
            batch[i].id = eg_point_id_num(first + i);
            batch[i].vector = (float *)base->data + (first + i) * base->dim;
            batch[i].dim = base->dim;
            batch[i].payload = filter_pct ? json_pack("{ss}", "bucket", bucket_of(first + i, filter_pct)) : NULL;
        }
        eg_status st = eg_vectors_upsert(v, COLLECTION, batch, count, &err);
        for (size_t i = 0; i < count; i++) json_decref(batch[i].payload);
        if (st != EG_OK) fail("upsert", &err);
    }
    free(batch);
}

/* ---- Searching ------------------------------------------------------------------------------------------- */

typedef struct run {
    double recall, qps;
    size_t min_results;
} run;

/* Every query once at ef (one thread); truth holds truth_k ids per query of which the first min(K, truth_n[q])
 * count (truth_n NULL: K each). */
static run run_queries(eg_vectors *v, const args *a, const vecs *q, const eg_filter *filter, size_t ef,
                       const int32_t *truth, size_t truth_k, const size_t *truth_n) {
    run r = {0, 0, SIZE_MAX};
    size_t hits = 0, wanted = 0;
    eg_error err;
    double t0 = now();
    for (size_t i = 0; i < q->n; i++) {
        eg_search_request req = {
            .vector = (const float *)q->data + i * q->dim,
            .dim = q->dim,
            .limit = K,
            .filter = filter,
            .params = {.hnsw_ef = ef, .oversampling = a->oversampling},
        };
        eg_scored_list out;
        if (eg_vectors_search(v, COLLECTION, &req, &out, &err) != EG_OK) fail("search", &err);
        const int32_t *t = truth + i * truth_k;
        size_t tn = truth_n ? truth_n[i] : K;
        for (size_t j = 0; j < out.count; j++)
            for (size_t g = 0; g < tn; g++) hits += out.items[j].point.id.num == (uint64_t)(uint32_t)t[g];
        wanted += tn;
        if (out.count < r.min_results) r.min_results = out.count;
        eg_scored_list_free(&out);
    }
    r.qps = (double)q->n / (now() - t0);
    r.recall = wanted ? (double)hits / (double)wanted : 1.0;
    return r;
}

/* The filtered ground truth: engram's exact search under filter (K ids per query, *counts how many it found). */
static int32_t *exact_truth(eg_vectors *v, const vecs *q, const eg_filter *filter, size_t **counts) {
    int32_t *truth = calloc(q->n * K, sizeof *truth);
    *counts = calloc(q->n, sizeof **counts);
    if (!truth || !*counts) exit(1);
    eg_error err;
    for (size_t i = 0; i < q->n; i++) {
        eg_search_request req = {
            .vector = (const float *)q->data + i * q->dim, .dim = q->dim, .limit = K, .filter = filter,
            .params = {.exact = true},
        };
        eg_scored_list out;
        if (eg_vectors_search(v, COLLECTION, &req, &out, &err) != EG_OK) fail("exact search", &err);
        for (size_t j = 0; j < out.count; j++) truth[i * K + j] = (int32_t)out.items[j].point.id.num;
        (*counts)[i] = out.count;
        eg_scored_list_free(&out);
    }
    return truth;
}

int main(int argc, char **argv) {
    args a = parse_args(argc, argv);
    vecs base = read_vecs(a.base), q = read_vecs(a.query), gt = read_vecs(a.gt);
    if (q.dim != base.dim) {
        fprintf(stderr, "%s: %s has dimension %zu, %s has %zu\n", prog, a.query, q.dim, a.base, base.dim);
        return 2;
    }
    if (!a.filter_pct && (gt.n < q.n || gt.dim < K)) {
        fprintf(stderr, "%s: %s has %zu rows of %zu ids; %zu rows of at least %d wanted\n", prog, a.gt, gt.n, gt.dim,
                q.n, K);
        return 2;
    }
    if (base.n > UINT32_MAX) {
        fprintf(stderr, "%s: %s: too many vectors\n", prog, a.base);
        return 2;
    }

    const char *tmp = getenv("TMPDIR");
    snprintf(store_dir, sizeof store_dir, "%s/engram-ann-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(store_dir)) {
        fprintf(stderr, "%s: %s: %s\n", prog, store_dir, strerror(errno));
        store_dir[0] = 0;
        return 1;
    }
    atexit(remove_store_dir);

    eg_error err;
    eg_vectors *v = NULL;
    eg_vectors_lmdb_options options = {.no_sync = true, .index_threads = a.threads};
    if (eg_vectors_open_lmdb(store_dir, &options, &v, &err) != EG_OK) fail("open", &err);

    eg_filter *filter = NULL;
    if (a.filter_pct) {
        json_t *f = json_pack("{s[{s:s,s:{s:s}}]}", "must", "key", "bucket", "match", "value", "b0");
        if (!f || eg_filter_parse(f, &filter, &err) != EG_OK) fail("filter", &err);
        json_decref(f);
    }

    /* The build: collection, payload index, upserts and the first search, which builds the index. */
    eg_collection_config config = {
        .dim = (uint32_t)base.dim,
        .distance = a.metric,
        .hnsw_m = a.m,
        .hnsw_ef_construct = a.efc,
        .quantization = a.int8 ? EG_QUANTIZATION_INT8 : EG_QUANTIZATION_NONE,
    };
    long anon0 = status_kb("RssAnon"), rss0 = status_kb("VmRSS");
    double t0 = now();
    if (eg_vectors_create_collection(v, COLLECTION, &config, &err) != EG_OK) fail("create_collection", &err);
    if (a.filter_pct && eg_vectors_create_payload_index(v, COLLECTION, "bucket", EG_PAYLOAD_KEYWORD, &err) != EG_OK)
        fail("create_payload_index", &err);
    upsert_all(v, &base, a.filter_pct);
    {
        eg_search_request req = {.vector = (const float *)q.data, .dim = q.dim, .limit = K};
        eg_scored_list out;
        if (eg_vectors_search(v, COLLECTION, &req, &out, &err) != EG_OK) fail("first search", &err);
        eg_scored_list_free(&out);
    }
    double build = now() - t0;
    double index_mb = (double)(status_kb("RssAnon") - anon0) / 1024.0;
    double rss_mb = (double)(status_kb("VmRSS") - rss0) / 1024.0;

    eg_collection_info info;
    if (eg_vectors_get_collection(v, COLLECTION, &info, &err) != EG_OK) fail("get_collection", &err);
    uint64_t indexed = info.indexed_vectors_count;
    if (info.points_count != base.n)
        fprintf(stderr, "%s: error: the collection holds %llu points, not %zu\n", prog,
                (unsigned long long)info.points_count, base.n);
    if (indexed != base.n)
        fprintf(stderr,
                "%s: error: the approximate index holds %llu of %zu points after the first search "
                "(full_scan_threshold %u): the figures below are from exact search, not HNSW\n",
                prog, (unsigned long long)indexed, base.n, info.config.full_scan_threshold);
    eg_collection_info_clear(&info);

    /* The ground truth: the file's, or under a filter engram's exact search (outside every clock). */
    const int32_t *truth = gt.data;
    size_t truth_k = gt.dim, *truth_n = NULL;
    int32_t *filtered_truth = NULL;
    if (a.filter_pct) {
        uint64_t matching = 0;
        if (eg_vectors_count(v, COLLECTION, filter, &matching, &err) != EG_OK) fail("count", &err);
        fprintf(stderr, "%s: filter bucket == \"b0\" matches %llu of %zu points (%.2f%%)\n", prog,
                (unsigned long long)matching, base.n, 100.0 * (double)matching / (double)base.n);
        filtered_truth = exact_truth(v, &q, filter, &truth_n);
        truth = filtered_truth, truth_k = K;
    }

    for (size_t e = 0; e < a.nefs; e++) {
        run r = run_queries(v, &a, &q, filter, a.efs[e], truth, truth_k, truth_n);
        printf("engram M=%u efc=%u ef=%zu recall@10=%.4f qps=%.0f build_s=%.2f build_per_s=%.0f index_mb=%.1f"
               " rss_total_mb=%.1f indexed=%llu",
               a.m, a.efc, a.efs[e], r.recall, r.qps, build, (double)base.n / build, index_mb, rss_mb,
               (unsigned long long)indexed);
        if (a.int8) printf(" quantization=int8 oversampling=%g", a.oversampling ? a.oversampling : 1.0);
        if (a.filter_pct) printf(" filter=%d min_results=%zu", a.filter_pct, r.min_results);
        printf("\n");
        fflush(stdout);
    }

    if (a.reopen) {
        eg_vectors_close(v);
        double t = now();
        if (eg_vectors_open_lmdb(store_dir, &options, &v, &err) != EG_OK) fail("reopen", &err);
        double reopen = now() - t;
        if (eg_vectors_get_collection(v, COLLECTION, &info, &err) != EG_OK) fail("get_collection", &err);
        run r = run_queries(v, &a, &q, filter, a.efs[0], truth, truth_k, truth_n);
        printf("engram reopen_s=%.2f indexed=%llu ef=%zu recall@10=%.4f qps=%.0f\n", reopen,
               (unsigned long long)info.indexed_vectors_count, a.efs[0], r.recall, r.qps);
        eg_collection_info_clear(&info);
    }
    eg_filter_free(filter);
    eg_vectors_close(v);
    free(filtered_truth);
    free(truth_n);
    free(a.efs);
    free(base.data);
    free(q.data);
    free(gt.data);
    return 0;
}
