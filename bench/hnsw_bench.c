/* hnsw_bench.c — the HNSW index on its own (no vector store around it), measured exactly as the hnswlib peer of
 * ../shared/bench (peer_hnswlib.cpp) measures itself, so the two lines compare directly.
 *
 * usage: hnsw_bench BASE.fvecs QUERY.fvecs GT.ivecs cos|l2|ip M EFC EF1,EF2,...
 *
 * Loads the base vectors (normalised for cos, then scored by dot product as the peer does), builds the index
 * single-threaded with labels 0..n-1 in file order, then for each ef runs every query once (k 10, one thread) and
 * counts how many of the first 10 ground-truth ids it returns. index_mb is the growth of the resident set across
 * the build, the peer's measure; eg_hnsw_memory_bytes is printed on stderr beside it as a cross-check.
 * Prints per ef: engram-hnsw M=16 efc=200 ef=32 recall@10=.. qps=.. build_s=.. build_per_s=.. index_mb=.. */
#include "vector/distance.h"
#include "vector/hnsw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define K 10

typedef struct vecs {
    void *data; /* n rows of dim 4-byte values */
    size_t n, dim;
} vecs;

/* Reads an fvecs/ivecs file (each row: int32 dim, then dim 4-byte values); exits on error. */
static vecs read_vecs(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    vecs v = {NULL, 0, 0};
    size_t cap = 0;
    int32_t d;
    while (fread(&d, 4, 1, f) == 1) {
        if (d <= 0 || (v.dim && (size_t)d != v.dim)) break;
        v.dim = (size_t)d;
        if (v.n == cap) {
            cap = cap ? cap * 2 : 1024;
            if (!(v.data = realloc(v.data, cap * v.dim * 4))) exit(2);
        }
        if (fread((char *)v.data + v.n * v.dim * 4, 4, v.dim, f) != v.dim) break;
        v.n++;
    }
    fclose(f);
    if (v.n == 0) {
        fprintf(stderr, "%s: no vectors\n", path);
        exit(2);
    }
    return v;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Resident set in KiB, from /proc/self/statm, as the peer reads it. */
static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f && fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    if (f) fclose(f);
    return resident * 4;
}

static eg_distance parse_metric(const char *m) {
    if (strcmp(m, "cos") == 0) return EG_DISTANCE_COSINE;
    if (strcmp(m, "l2") == 0) return EG_DISTANCE_EUCLID;
    if (strcmp(m, "ip") == 0) return EG_DISTANCE_DOT;
    fprintf(stderr, "metric must be cos, l2 or ip\n");
    exit(2);
}

/* recall@10 of all queries at ef; *qps gets the query rate. */
static double run_queries(eg_hnsw *h, const vecs *q, const vecs *gt, size_t ef, double *qps) {
    size_t hits = 0;
    eg_error err;
    double t0 = now();
    for (size_t i = 0; i < q->n; i++) {
        eg_hnsw_hit got[K];
        size_t found = 0;
        if (eg_hnsw_search(h, (const float *)q->data + i * q->dim, K, ef, NULL, NULL, got, &found, &err) != EG_OK) {
            fprintf(stderr, "search: %s\n", err.message);
            exit(1);
        }
        const int32_t *truth = (const int32_t *)gt->data + i * gt->dim;
        for (size_t j = 0; j < found; j++)
            for (size_t t = 0; t < K && t < gt->dim; t++) hits += got[j].label == (uint32_t)truth[t];
    }
    *qps = (double)q->n / (now() - t0);
    return (double)hits / (double)(K * q->n);
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s BASE.fvecs QUERY.fvecs GT.ivecs cos|l2|ip M EFC EF1,EF2,...\n", argv[0]);
        return 2;
    }
    vecs base = read_vecs(argv[1]), q = read_vecs(argv[2]), gt = read_vecs(argv[3]);
    eg_distance d = parse_metric(argv[4]);
    eg_hnsw_params p = eg_hnsw_params_default();
    p.m = (uint32_t)atoi(argv[5]);
    p.ef_construct = (uint32_t)atoi(argv[6]);
    p.capacity = (uint32_t)base.n;
    if (d == EG_DISTANCE_COSINE) {
        for (size_t i = 0; i < base.n; i++) eg_vec_normalize((float *)base.data + i * base.dim, base.dim);
        for (size_t i = 0; i < q.n; i++) eg_vec_normalize((float *)q.data + i * q.dim, q.dim);
    }
    eg_error err;
    eg_hnsw *h = NULL;
    long rss0 = rss_kb();
    double t0 = now();
    if (eg_hnsw_new(base.dim, d, &p, &h, &err) != EG_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    for (size_t i = 0; i < base.n; i++) {
        if (eg_hnsw_add(h, (uint32_t)i, (const float *)base.data + i * base.dim, &err) != EG_OK) {
            fprintf(stderr, "add: %s\n", err.message);
            return 1;
        }
    }
    double build = now() - t0;
    double index_mb = (double)(rss_kb() - rss0) / 1024.0;
    fprintf(stderr, "eg_hnsw_memory_bytes: %.1f MiB\n", (double)eg_hnsw_memory_bytes(h) / (1024.0 * 1024.0));
    for (char *tok = strtok(argv[7], ","); tok; tok = strtok(NULL, ",")) {
        int ef = atoi(tok);
        double qps;
        double r = run_queries(h, &q, &gt, (size_t)(ef > 0 ? ef : 1), &qps);
        printf("engram-hnsw M=%u efc=%u ef=%d recall@10=%.4f qps=%.0f build_s=%.2f build_per_s=%.0f index_mb=%.1f\n",
               p.m, p.ef_construct, ef, r, qps, build, (double)base.n / build, index_mb);
        fflush(stdout);
    }
    eg_hnsw_free(h);
    free(base.data);
    free(q.data);
    free(gt.data);
    return 0;
}
