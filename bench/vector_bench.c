/* vector_bench.c — the vector store benchmark: bulk upsert rate and exact-search throughput through the public
 * API, on ANN-benchmarks files (shared/bench/gen_vectors.py writes them), plus the memory bandwidth exact search
 * implies and the process's peak resident memory.
 *
 * usage: vector_bench BASE.fvecs QUERY.fvecs GT.ivecs METRIC [--no-sync] [--queries N]
 *   METRIC  cos | l2 | ip (collection distance Cosine | Euclid | Dot)
 * Prints one line:
 *   engram-vectors n=.. dim=.. upsert_per_s=.. search_qps=.. scan_gbps=.. recall@10=.. peak_rss_mb=..
 * recall@10 against the exact ground truth is a correctness check: exact search must give 1.0 (up to ties). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <engram/engram.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BATCH 1000
#define K 10

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Reads an fvecs/ivecs file: each row is a 4-byte dimension followed by that many 4-byte values. */
static void *read_vecs(const char *path, size_t *rows, size_t *dim) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    int32_t d;
    if (fread(&d, 4, 1, f) != 1 || d <= 0) {
        fprintf(stderr, "%s: not an fvecs/ivecs file\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t row_bytes = 4 + (size_t)d * 4, n = (size_t)size / row_bytes;
    char *data = malloc((size_t)n * (size_t)d * 4);
    char *row = malloc(row_bytes);
    for (size_t i = 0; i < n; i++) {
        if (fread(row, row_bytes, 1, f) != 1) {
            fprintf(stderr, "%s: short read\n", path);
            exit(2);
        }
        memcpy(data + i * (size_t)d * 4, row + 4, (size_t)d * 4);
    }
    free(row);
    fclose(f);
    *rows = n, *dim = (size_t)d;
    return data;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fail(const char *what, const eg_error *err) {
    fprintf(stderr, "vector_bench: %s: %s\n", what, err->message);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s BASE.fvecs QUERY.fvecs GT.ivecs cos|l2|ip [--no-sync] [--queries N]\n", argv[0]);
        return 2;
    }
    eg_options options = {0};
    size_t max_queries = 200;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--no-sync") == 0) options.durability = EG_DURABILITY_NONE;
        else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc) max_queries = strtoul(argv[++i], NULL, 10);
        else return fprintf(stderr, "unknown argument %s\n", argv[i]), 2;
    }
    eg_distance distance = strcmp(argv[4], "l2") == 0 ? EG_DISTANCE_EUCLID
                           : strcmp(argv[4], "ip") == 0 ? EG_DISTANCE_DOT
                                                         : EG_DISTANCE_COSINE;
    size_t n, dim, nq, qdim, ngt, gtk;
    float *base = read_vecs(argv[1], &n, &dim), *queries = read_vecs(argv[2], &nq, &qdim);
    int32_t *gt = read_vecs(argv[3], &ngt, &gtk);
    if (qdim != dim || ngt < nq) return fprintf(stderr, "files do not match\n"), 2;
    if (nq > max_queries) nq = max_queries;

    char dir[] = "/tmp/engram-vector-bench-XXXXXX";
    if (!mkdtemp(dir)) return perror("mkdtemp"), 2;
    eg_db *db;
    eg_error err;
    if (eg_open(dir, &options, &db, &err)) fail("open", &err);
    eg_vectors *v = eg_db_vectors(db);
    eg_collection_config config = {(uint32_t)dim, distance, false};
    if (eg_vectors_create_collection(v, "bench", &config, &err)) fail("create_collection", &err);

    eg_point *batch = calloc(BATCH, sizeof *batch);
    double t0 = now_s();
    for (size_t first = 0; first < n; first += BATCH) {
        size_t count = n - first < BATCH ? n - first : BATCH;
        for (size_t i = 0; i < count; i++) {
            batch[i].id = eg_point_id_num(first + i);
            batch[i].vector = base + (first + i) * dim;
            batch[i].dim = dim;
        }
        if (eg_vectors_upsert(v, "bench", batch, count, &err)) fail("upsert", &err);
    }
    double upsert_s = now_s() - t0;

    size_t hits = 0;
    t0 = now_s();
    for (size_t q = 0; q < nq; q++) {
        eg_search_request r = {.vector = queries + q * dim, .dim = dim, .limit = K, .params = {.exact = true}};
        eg_scored_list out;
        if (eg_vectors_search(v, "bench", &r, &out, &err)) fail("search", &err);
        for (size_t i = 0; i < out.count; i++)
            for (size_t j = 0; j < K; j++)
                if (out.items[i].point.id.num == (uint64_t)gt[q * gtk + j]) hits++;
        eg_scored_list_free(&out);
    }
    double search_s = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double qps = (double)nq / search_s;
    printf("engram-vectors n=%zu dim=%zu upsert_per_s=%.0f search_qps=%.2f scan_gbps=%.2f recall@10=%.4f "
           "peak_rss_mb=%.0f sync=%s\n",
           n, dim, (double)n / upsert_s, qps, qps * (double)n * (double)dim * 4 / 1e9, (double)hits / (double)(nq * K),
           (double)ru.ru_maxrss / 1024, options.durability == EG_DURABILITY_NONE ? "off" : "on");
    free(batch);
    eg_close(db);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(base), free(queries), free(gt);
    return 0;
}
