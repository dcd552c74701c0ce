/* graph_bench.c — the graph store benchmark, comparable line for line with the peer benchmark
 * (shared/bench/peer_igraph.c): the same edge and pair files, the same find_path semantics (shortest path,
 * direction ignored, at most MAX_DEPTH hops), the same key=value output.
 *
 * usage: graph_bench EDGES PAIRS MAX_DEPTH [--no-sync] [--data DIR]
 *   EDGES, PAIRS  "src dst" per line, 0-based node numbers (gen_graph.py writes both)
 *   --no-sync     open the data folder with no_sync (no fsync at commit)
 *   --data DIR    build the store in DIR (must not hold a data folder yet) and keep it; default: a temporary
 *                 folder, removed at the end
 *
 * It loads the graph through the public API (batch_create_nodes, then batch_create_relationships, 1000 per
 * call), then times get_node, 1-hop expansion (get_relationships, both directions) and find_path for every pair.
 * One result line goes to stdout, progress to stderr. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <engram/engram.h>

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH EG_GRAPH_BATCH_MAX
#define GET_NODE_SAMPLES 200000
#define EXPAND_SAMPLES 10000
#define ID_CAP 16 /* "n" + up to 10 digits + NUL */

typedef struct edge_list {
    uint32_t *src, *dst;
    size_t count;
} edge_list;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentiles the way peer_igraph takes them (sorted sample, index n/2 and n*0.99), so ratios compare like
 * with like. Sorts lat in place. */
static void percentiles(double *lat, size_t n, double *p50, double *p99) {
    qsort(lat, n, sizeof *lat, cmp_double);
    *p50 = n ? lat[n / 2] : 0;
    *p99 = n ? lat[(size_t)((double)n * 0.99)] : 0;
}

/* xorshift64*: a fixed seed makes runs pick the same sample nodes. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t random_below(uint32_t n) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL >> 32) % n);
}

static bool read_edge_file(const char *path, edge_list *out) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return false;
    }
    size_t cap = 0;
    unsigned long s, d;
    int got;
    while ((got = fscanf(f, "%lu %lu", &s, &d)) == 2) {
        if (s > UINT32_MAX - 1 || d > UINT32_MAX - 1) {
            fprintf(stderr, "%s: node number out of range\n", path);
            got = 0;
            break;
        }
        if (out->count == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint32_t *gs = realloc(out->src, cap * sizeof *gs);
            if (gs) out->src = gs;
            uint32_t *gd = realloc(out->dst, cap * sizeof *gd);
            if (gd) out->dst = gd;
            if (!gs || !gd) {
                fprintf(stderr, "out of memory\n");
                got = 0;
                break;
            }
        }
        out->src[out->count] = (uint32_t)s;
        out->dst[out->count++] = (uint32_t)d;
    }
    fclose(f);
    if (got != EOF) fprintf(stderr, "%s: expected \"src dst\" per line (line %zu)\n", path, out->count + 1);
    return got == EOF;
}

/* How many nodes l names (its largest node number + 1), or at_least if that is more. */
static uint32_t node_count(const edge_list *l, uint32_t at_least) {
    uint32_t n = at_least;
    for (size_t i = 0; i < l->count; i++) {
        if (l->src[i] >= n) n = l->src[i] + 1;
        if (l->dst[i] >= n) n = l->dst[i] + 1;
    }
    return n;
}

static void free_edge_list(edge_list *l) {
    free(l->src);
    free(l->dst);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int fail(const char *what, const eg_error *err) {
    fprintf(stderr, "graph_bench: %s: %s (%s)\n", what, err->message, eg_status_name(err->code));
    return 1;
}

/* Creates nodes 0..n-1 as Entity "n<i>" {"name": "node <i>"}; returns nodes/s or a negative value on error. */
static double load_nodes(eg_graph *g, char (*ids)[ID_CAP], uint32_t n, eg_error *err) {
    eg_node_spec specs[BATCH];
    double t0 = now_s();
    for (uint32_t first = 0; first < n; first += BATCH) {
        size_t count = n - first < BATCH ? n - first : BATCH;
        for (size_t i = 0; i < count; i++) {
            char name[24];
            snprintf(name, sizeof name, "node %u", first + (uint32_t)i);
            specs[i] = (eg_node_spec){EG_LABEL_ENTITY, ids[first + i], json_pack("{s:s}", "name", name)};
        }
        eg_status st = eg_graph_batch_create_nodes(g, specs, count, err);
        for (size_t i = 0; i < count; i++) json_decref(specs[i].properties);
        if (st) return -1;
    }
    return n / (now_s() - t0);
}

static double load_relationships(eg_graph *g, char (*ids)[ID_CAP], const edge_list *edges, eg_error *err) {
    eg_relationship_spec specs[BATCH];
    double t0 = now_s();
    for (size_t first = 0; first < edges->count; first += BATCH) {
        size_t count = edges->count - first < BATCH ? edges->count - first : BATCH;
        for (size_t i = 0; i < count; i++)
            specs[i] = (eg_relationship_spec){ids[edges->src[first + i]], ids[edges->dst[first + i]],
                                              EG_REL_RELATES_TO, NULL};
        if (eg_graph_batch_create_relationships(g, specs, count, err)) return -1;
        if ((first / BATCH) % 200 == 199)
            fprintf(stderr, "  %zu / %zu relationships\n", first + count, edges->count);
    }
    return edges->count / (now_s() - t0);
}

/* get_node of random ids, reading the property a caller would (so lazy decoding would not flatter it). */
static int bench_get_node(eg_graph *g, char (*ids)[ID_CAP], uint32_t n, double *p50, double *p99, double *mean,
                          eg_error *err) {
    double *lat = malloc(GET_NODE_SAMPLES * sizeof *lat), total = 0;
    if (!lat) return fprintf(stderr, "out of memory\n"), 1;
    for (size_t i = 0; i < GET_NODE_SAMPLES; i++) {
        const char *id = ids[random_below(n)];
        eg_node node;
        double t0 = now_s();
        eg_status st = eg_graph_get_node(g, id, EG_LABEL_ANY, &node, err);
        const char *name = st ? NULL : json_string_value(json_object_get(node.properties, "name"));
        lat[i] = (now_s() - t0) * 1e6;
        total += lat[i];
        if (st == EG_OK) eg_node_clear(&node);
        if (st || !name) {
            free(lat);
            return st ? fail("get_node", err) : (fprintf(stderr, "get_node %s: no name property\n", id), 1);
        }
    }
    percentiles(lat, GET_NODE_SAMPLES, p50, p99);
    *mean = total / GET_NODE_SAMPLES;
    free(lat);
    return 0;
}

/* 1-hop expansion of random nodes. Each result is checked against the degree the edge file implies. */
static int bench_expand(eg_graph *g, char (*ids)[ID_CAP], uint32_t n, const uint32_t *degree, double *p50,
                        double *p99, eg_error *err) {
    double *lat = malloc(EXPAND_SAMPLES * sizeof *lat);
    size_t wrong = 0;
    if (!lat) return fprintf(stderr, "out of memory\n"), 1;
    for (size_t i = 0; i < EXPAND_SAMPLES; i++) {
        uint32_t node = random_below(n);
        eg_relationship_list rels;
        double t0 = now_s();
        eg_status st = eg_graph_get_relationships(g, ids[node], EG_REL_ANY, EG_DIR_BOTH, &rels, err);
        lat[i] = (now_s() - t0) * 1e6;
        if (st) {
            free(lat);
            return fail("get_relationships", err);
        }
        wrong += rels.count != degree[node];
        eg_relationship_list_free(&rels);
    }
    if (wrong)
        fprintf(stderr, "warning: %zu of %d expansions returned another count than the edge file implies "
                        "(duplicate edges or self loops in EDGES?)\n", wrong, EXPAND_SAMPLES);
    percentiles(lat, EXPAND_SAMPLES, p50, p99);
    free(lat);
    return 0;
}

static int bench_find_path(eg_graph *g, char (*ids)[ID_CAP], const edge_list *pairs, int max_depth, double *p50,
                           double *p99, size_t *found, eg_error *err) {
    double *lat = malloc((pairs->count ? pairs->count : 1) * sizeof *lat);
    if (!lat) return fprintf(stderr, "out of memory\n"), 1;
    *found = 0;
    for (size_t i = 0; i < pairs->count; i++) {
        eg_path path;
        double t0 = now_s();
        eg_status st = eg_graph_find_path(g, ids[pairs->src[i]], ids[pairs->dst[i]], max_depth,
                                          (eg_rel_type_set){0}, &path, err);
        lat[i] = (now_s() - t0) * 1e6;
        if (st) {
            free(lat);
            return fail("find_path", err);
        }
        if (path.node_count > (size_t)max_depth + 1)
            fprintf(stderr, "warning: find_path %zu returned %zu hops (> %d)\n", i, path.node_count - 1, max_depth);
        *found += path.node_count > 0;
        eg_path_clear(&path);
    }
    percentiles(lat, pairs->count, p50, p99);
    free(lat);
    return 0;
}

int main(int argc, char **argv) {
    const char *data = NULL;
    bool no_sync = false;
    int positional = 0;
    const char *args[3] = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-sync") == 0)
            no_sync = true;
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (argv[i][0] != '-' && positional < 3)
            args[positional++] = argv[i];
        else
            positional = 99;
    }
    int max_depth = positional == 3 ? atoi(args[2]) : 0;
    if (positional != 3 || max_depth < 1 || max_depth > EG_PATH_DEPTH_MAX) {
        fprintf(stderr, "usage: %s EDGES PAIRS MAX_DEPTH(1..%d) [--no-sync] [--data DIR]\n", argv[0],
                EG_PATH_DEPTH_MAX);
        return 2;
    }

    edge_list edges = {0}, pairs = {0};
    char (*ids)[ID_CAP] = NULL;
    uint32_t *degree = NULL;
    eg_db *db = NULL;
    char tmp[4096];
    const char *dir = data;
    int rc = 1;
    if (!read_edge_file(args[0], &edges) || !read_edge_file(args[1], &pairs)) goto done;

    /* Nodes are 0..max-1 over both files, as igraph counts them (it sizes its graph by the largest number). */
    uint32_t n = node_count(&edges, node_count(&pairs, 0));
    ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
    degree = calloc(n ? n : 1, sizeof *degree);
    if (!ids || !degree) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) snprintf(ids[i], ID_CAP, "n%u", i);
    for (size_t i = 0; i < edges.count; i++) degree[edges.src[i]]++, degree[edges.dst[i]]++;

    /* A fresh folder, so creates are real inserts and not idempotent no-ops on an earlier run's data. */
    if (data) {
        char format[4096];
        snprintf(format, sizeof format, "%s/FORMAT", data);
        if (access(format, F_OK) == 0) {
            fprintf(stderr, "graph_bench: %s already holds a data folder; give a new one\n", data);
            goto done;
        }
    } else {
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(tmp, sizeof tmp, "%s/engram-graph-bench-XXXXXX", base);
        if (!(dir = mkdtemp(tmp))) {
            perror("mkdtemp");
            goto done;
        }
    }
    eg_error err;
    eg_options options = {.durability = no_sync ? EG_DURABILITY_NONE : EG_DURABILITY_GROUP};
    if (eg_open(dir, &options, &db, &err)) {
        fail("open", &err);
        goto done;
    }
    eg_graph *g = eg_db_graph(db);

    fprintf(stderr, "loading %u nodes, %zu relationships (sync %s)\n", n, edges.count, no_sync ? "off" : "on");
    double t0 = now_s();
    double nodes_per_s = load_nodes(g, ids, n, &err);
    if (nodes_per_s < 0) {
        fail("batch_create_nodes", &err);
        goto done;
    }
    double rels_per_s = load_relationships(g, ids, &edges, &err);
    if (rels_per_s < 0) {
        fail("batch_create_relationships", &err);
        goto done;
    }
    double load_s = now_s() - t0;
    uint64_t stored_nodes, stored_rels;
    if (eg_graph_count_nodes(g, EG_LABEL_ANY, &stored_nodes, &err) ||
        eg_graph_count_relationships(g, &stored_rels, &err)) {
        fail("count", &err);
        goto done;
    }
    if (stored_nodes != n || stored_rels != edges.count)
        fprintf(stderr, "warning: the store holds %llu nodes and %llu relationships, the files %u and %zu\n",
                (unsigned long long)stored_nodes, (unsigned long long)stored_rels, n, edges.count);

    double gn50 = 0, gn99 = 0, gn_mean = 0, ex50 = 0, ex99 = 0, fp50 = 0, fp99 = 0;
    size_t found = 0;
    fprintf(stderr, "get_node x %d\n", GET_NODE_SAMPLES);
    if (bench_get_node(g, ids, n, &gn50, &gn99, &gn_mean, &err)) goto done;
    fprintf(stderr, "expand x %d\n", EXPAND_SAMPLES);
    if (bench_expand(g, ids, n, degree, &ex50, &ex99, &err)) goto done;
    fprintf(stderr, "find_path x %zu (max depth %d)\n", pairs.count, max_depth);
    if (bench_find_path(g, ids, &pairs, max_depth, &fp50, &fp99, &found, &err)) goto done;

    printf("engram nodes=%u edges=%zu load_s=%.2f nodes_per_s=%.0f rels_per_s=%.0f get_node_p50_us=%.2f "
           "get_node_p99_us=%.2f get_node_mean_us=%.2f expand_p50_us=%.1f expand_p99_us=%.1f find_path_p50_us=%.1f "
           "find_path_p99_us=%.1f paths_within_depth=%zu/%zu sync=%s\n",
           n, edges.count, load_s, nodes_per_s, rels_per_s, gn50, gn99, gn_mean, ex50, ex99, fp50, fp99, found,
           pairs.count, no_sync ? "off" : "on");
    rc = 0;
done:
    eg_close(db);
    if (dir && !data && nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        perror("removing the temporary folder");
    free(ids);
    free(degree);
    free_edge_list(&edges);
    free_edge_list(&pairs);
    return rc;
}
