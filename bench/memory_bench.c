/* memory_bench.c — the memory API benchmark: how fast memories are created through durable sagas, next to the
 * same writes made straight to the two stores, and how long a recall with graph context takes.
 *
 * usage: memory_bench writes DIR [--threads T] [--count N] [--dim D] [--durability group|fsync|none] [--raw]
 *                               [--batch B] [--qdrant]
 *        memory_bench recall DIR [--memories N] [--dim D] [--queries Q] [--expand E] [--load-threads T] [--qdrant]
 *                                [--sessions S] [--via c|exec|both] [--threads T]
 *
 * --qdrant  the vectors go to the Qdrant backend (docs/backends.md) instead of DIR/vectors: an engram serve in
 *           this process, over the folder DIR-served (same durability) on a loopback port, is the Qdrant server.
 *           The lines then say backend=qdrant (else backend=lmdb). With --raw, the difference from the lmdb run is
 *           what HTTP and JSON add per vector call (the server does the embedded store's work).
 *
 * writes  opens a fresh data folder DIR with the durability given and creates N episodes (N/T per thread, T
 *         threads sharing the one eg_db): deterministic random vectors of D dimensions, a small payload, a few
 *         properties, a session, a UUID per episode. Without --raw each is one eg_memory_create (a create_memory
 *         saga: five log records around the vector upsert and the node create). With --raw each is the same
 *         point (payload plus created_at and session_id, as the memory layer stores it) upserted into
 *         "episodes" with eg_vectors_upsert, then the same node created with eg_graph_create_node, through
 *         eg_db_vectors / eg_db_graph: no saga, no log, no reads before writing; the stores commit with the
 *         folder's durability. The collection is made first as the memory layer makes it (D, Cosine, keyword
 *         index on session_id, integer index on created_at), so both runs maintain the same indexes.
 *         With --batch B (B > 1, not with --raw) the same episodes go B at a time through eg_memory_batch_create
 *         (one create_memories saga per call).
 *         Prints: memory-writes mode=group threads=8 dim=1024 n=2000 saga=yes batch=1 creates_per_s=.. p50_us=..
 *                 p99_us=.. mean_us=..
 *         Latencies are per create as its caller sees it (in a batch: the whole call's, for each of its
 *         memories); creates_per_s is N over the wall time of all threads.
 * recall  loads N episodes into DIR unless it holds them already (a rerun reuses the folder): first 1000
 *         entities, then the episodes, each related to 2 of the entities, with durability none and T threads
 *         (default 4). Then Q eg_memory_recall calls (limit 10, E hops of graph context) with random query
 *         vectors, one at a time.
 *         --sessions S  episode i is loaded in session "s<i mod S>" (DIR must have been loaded with the same S),
 *                       and each query recalls within one session (s<q mod S>): a filter matching 1/S of them
 *         --via         c (default): eg_memory_recall; exec: the `recall` operation through eg_exec, the request
 *                       built as JSON and the answer a JSON object, as the JSON interface's users run it; both:
 *                       each query through the two in turn, alternating which goes first, one line for each
 *                       and a third with the difference of their means (what the JSON interface adds)
 *         --threads T   then the throughput of the same recalls (eg_memory_recall) on 1 thread and on T threads
 *                       sharing the one eg_db, alternating, 3 rounds of each, the best: recalls_per_s for each and
 *                       their ratio
 *         Prints: memory-recall n=.. dim=.. queries=.. expand=.. load=fresh|reused load_s=.. p50_us=.. p99_us=..
 *                 mean_us=.. memories_per_query=.. neighbors_per_query=.. relationships_per_query=..
 *
 * DIR for writes must not hold a data folder yet; remove it afterwards (its vectors take D*4 bytes per create,
 * plus LMDB's free pages). */
#include "bench_data.h"

#include <engram/engram.h>
#include <engram/exec.h>
#include <engram/serve.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_THREADS 64
#define ENTITIES 1000
#define EPISODE_ID_BASE 1000000u /* recall's episode ids; entities are 1..ENTITIES */
#define RECALL_LIMIT 10

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fail(const char *what, const eg_error *err) {
    fprintf(stderr, "memory_bench: %s: %s\n", what, err->message);
    exit(1);
}

static int compare_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

typedef struct latency_summary {
    double p50, p99, mean;
} latency_summary;

/* Sorts the samples and summarises them. */
static latency_summary summarise(float *us, size_t n) {
    latency_summary s = {0, 0, 0};
    if (n == 0) return s;
    qsort(us, n, sizeof *us, compare_float);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += us[i];
    s.p50 = us[n / 2];
    s.p99 = us[(size_t)((double)n * 0.99)];
    s.mean = sum / (double)n;
    return s;
}

static bool has_data_folder(const char *dir) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/FORMAT", dir);
    return stat(path, &st) == 0;
}

/* --qdrant: an engram serve over DIR-served, and the settings that put DIR's vectors on it. */
typedef struct vector_server {
    eg_db *db;
    eg_server *server;
    char url_setting[64];
    const char *settings[2];
} vector_server;

static void serve_vectors(const char *dir, eg_options *options, vector_server *vs) {
    char served[4096];
    eg_error err;
    snprintf(served, sizeof served, "%s-served", dir);
    eg_options served_options = {options->durability};
    if (eg_open(served, &served_options, &vs->db, &err)) fail("open the served folder", &err);
    eg_server_options server_options = {.http = "127.0.0.1:0"};
    if (eg_server_start(vs->db, &server_options, &vs->server, &err)) fail("start engram serve", &err);
    snprintf(vs->url_setting, sizeof vs->url_setting, "vectors.url=http://127.0.0.1:%u",
             (unsigned)eg_server_port(vs->server));
    vs->settings[0] = "vectors.backend=qdrant";
    vs->settings[1] = vs->url_setting;
    options->settings = vs->settings;
    options->setting_count = 2;
}

static void stop_serving(vector_server *vs) {
    if (!vs->server) return;
    eg_server_stop(vs->server, 1000);
    eg_close(vs->db);
}

/* Reads the value after option argv[*i] as a positive number. */
static size_t count_arg(int argc, char **argv, int *i) {
    char *end = "";
    unsigned long long n = *i + 1 < argc ? strtoull(argv[*i + 1], &end, 10) : 0;
    if (n == 0 || *end) {
        fprintf(stderr, "memory_bench: %s needs a positive number\n", argv[*i]);
        exit(2);
    }
    ++*i;
    return (size_t)n;
}

/* ---- writes --------------------------------------------------------------------------------------------- */

typedef struct writer {
    eg_db *db;
    unsigned index;
    size_t count, dim, batch;
    bool raw;
    pthread_barrier_t *start;
    float *latency_us;
} writer;

/* The node and payload keys the memory layer adds, added here for --raw so both runs store the same bytes. */
static void add_memory_keys(json_t *o, int64_t created_at, const char *session_key, const char *session) {
    json_object_set_new(o, "created_at", json_integer(created_at));
    json_object_set_new(o, session_key, json_string(session));
}

static int64_t epoch_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void create_raw(eg_db *db, const char *id, float *vector, size_t dim, json_t *payload, json_t *properties,
                       const char *session) {
    eg_error err;
    eg_point point = {.vector = vector, .dim = dim, .payload = payload};
    if (eg_point_id_parse(id, &point.id, &err)) fail("point id", &err);
    int64_t created_at = epoch_ms();
    add_memory_keys(payload, created_at, "session_id", session);
    add_memory_keys(properties, created_at, "sessionId", session);
    if (eg_vectors_upsert(eg_db_vectors(db), "episodes", &point, 1, &err)) fail("upsert", &err);
    if (eg_graph_create_node(eg_db_graph(db), EG_LABEL_EPISODE, id, properties, &err)) fail("create_node", &err);
}

/* Episode i of writer w: its id, vector, payload and properties (new references). */
static void make_episode(const writer *w, size_t i, char id[EG_POINT_ID_TEXT], float *vector, json_t **payload,
                         json_t **properties) {
    char text[96];
    snprintf(id, EG_POINT_ID_TEXT, "%08x-0000-4000-8000-%012llx", w->index + 1,
             (unsigned long long)i & 0xFFFFFFFFFFFFull);
    snprintf(text, sizeof text, "episode %zu of writer %u: the agent read a file and summarised it", i, w->index);
    random_vector(((uint64_t)w->index << 32) + i, vector, w->dim);
    *payload = json_pack("{s:s, s:s, s:f}", "content", text, "outcome", "success", "importance", 0.5);
    *properties = json_pack("{s:s, s:f, s:i}", "summary", text, "valence", 0.25, "accessCount", 0);
}

static void *write_loop(void *arg) {
    writer *w = arg;
    size_t per_call = w->batch;
    float *vectors = malloc(per_call * w->dim * sizeof *vectors);
    eg_memory_spec *specs = calloc(per_call, sizeof *specs);
    char(*ids)[EG_POINT_ID_TEXT] = malloc(per_call * sizeof *ids);
    char session[32];
    snprintf(session, sizeof session, "bench-session-%u", w->index);
    pthread_barrier_wait(w->start);
    for (size_t first = 0; first < w->count; first += per_call) {
        size_t n = w->count - first < per_call ? w->count - first : per_call;
        for (size_t k = 0; k < n; k++) {
            float *vector = vectors + k * w->dim;
            make_episode(w, first + k, ids[k], vector, &specs[k].payload, &specs[k].properties);
            specs[k] = (eg_memory_spec){.type = EG_MEMORY_EPISODE, .id = ids[k], .vector = vector, .dim = w->dim,
                                        .payload = specs[k].payload, .properties = specs[k].properties,
                                        .session_id = session};
        }
        double t0 = now_s();
        eg_error err;
        if (w->raw) create_raw(w->db, ids[0], vectors, w->dim, specs[0].payload, specs[0].properties, session);
        else if (per_call == 1 && eg_memory_create(w->db, &specs[0], NULL, &err)) fail("eg_memory_create", &err);
        else if (per_call > 1 && eg_memory_batch_create(w->db, specs, n, NULL, &err))
            fail("eg_memory_batch_create", &err);
        float us = (float)((now_s() - t0) * 1e6);
        for (size_t k = 0; k < n; k++) {
            w->latency_us[first + k] = us;
            json_decref(specs[k].payload);
            json_decref(specs[k].properties);
        }
    }
    free(vectors);
    free(specs);
    free(ids);
    return NULL;
}

/* The episodes collection as the memory layer creates it on first use. */
static void create_episode_collection(eg_db *db, size_t dim) {
    eg_error err;
    eg_vectors *v = eg_db_vectors(db);
    eg_collection_config config = {(uint32_t)dim, EG_DISTANCE_COSINE, false};
    if (eg_vectors_create_collection(v, "episodes", &config, &err) ||
        eg_vectors_create_payload_index(v, "episodes", "session_id", EG_PAYLOAD_KEYWORD, &err) ||
        eg_vectors_create_payload_index(v, "episodes", "created_at", EG_PAYLOAD_INTEGER, &err))
        fail("create the episodes collection", &err);
}

static int run_writes(const char *dir, int argc, char **argv) {
    size_t threads = 1, count = 2000, dim = 1024, batch = 1;
    eg_options options = {EG_DURABILITY_GROUP};
    bool raw = false, qdrant = false;
    for (int i = 3; i < argc; i++) {
        eg_error err;
        if (strcmp(argv[i], "--qdrant") == 0) qdrant = true;
        else if (strcmp(argv[i], "--threads") == 0) threads = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--count") == 0) count = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--dim") == 0) dim = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--batch") == 0) batch = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--raw") == 0) raw = true;
        else if (strcmp(argv[i], "--durability") == 0 && i + 1 < argc) {
            if (eg_durability_parse(argv[++i], &options.durability, &err)) fail("--durability", &err);
        } else {
            fprintf(stderr, "memory_bench writes: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (threads > MAX_THREADS || threads > count) {
        fprintf(stderr, "memory_bench writes: --threads must be at most %d and at most --count\n", MAX_THREADS);
        return 2;
    }
    if (batch > EG_MEMORY_BATCH_MAX || (raw && batch > 1)) {
        fprintf(stderr, "memory_bench writes: --batch must be at most %d, and goes without --raw\n",
                EG_MEMORY_BATCH_MAX);
        return 2;
    }
    if (has_data_folder(dir)) {
        fprintf(stderr, "memory_bench writes: %s already holds a data folder; give a fresh one\n", dir);
        return 2;
    }
    eg_db *db;
    eg_error err;
    vector_server vs = {0};
    if (qdrant) serve_vectors(dir, &options, &vs);
    if (eg_open(dir, &options, &db, &err)) fail("open", &err);
    create_episode_collection(db, dim);

    writer writers[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    size_t given = 0;
    for (size_t t = 0; t < threads; t++) {
        size_t share = count / threads + (t < count % threads);
        writers[t] = (writer){db, (unsigned)t, share, dim, batch, raw, &start, malloc(share * sizeof(float))};
        given += share;
        pthread_create(&ids[t], NULL, write_loop, &writers[t]);
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    float *all = malloc(count * sizeof *all);
    size_t sampled = 0;
    for (size_t t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        memcpy(all + sampled, writers[t].latency_us, writers[t].count * sizeof *all);
        sampled += writers[t].count;
        free(writers[t].latency_us);
    }
    double elapsed = now_s() - t0;
    pthread_barrier_destroy(&start);
    latency_summary s = summarise(all, sampled);
    printf("memory-writes backend=%s mode=%s threads=%zu dim=%zu n=%zu saga=%s batch=%zu creates_per_s=%.0f "
           "p50_us=%.0f p99_us=%.0f mean_us=%.0f\n",
           qdrant ? "qdrant" : "lmdb", eg_durability_name(options.durability), threads, dim, given,
           raw ? "no" : "yes", batch, (double)given / elapsed, s.p50, s.p99, s.mean);
    free(all);
    eg_close(db);
    stop_serving(&vs);
    return 0;
}

/* ---- recall --------------------------------------------------------------------------------------------- */

typedef struct loader {
    eg_db *db;
    eg_memory_type type;
    size_t first, end, dim; /* creates items [first, end) */
    size_t sessions;        /* 0: no session */
} loader;

static void *load_loop(void *arg) {
    loader *l = arg;
    float *vector = malloc(l->dim * sizeof *vector);
    for (size_t i = l->first; i < l->end; i++) {
        bool entity = l->type == EG_MEMORY_ENTITY;
        char id[EG_POINT_ID_TEXT], targets[2][EG_POINT_ID_TEXT], text[64];
        snprintf(id, sizeof id, "%zu", entity ? i + 1 : EPISODE_ID_BASE + i);
        snprintf(text, sizeof text, entity ? "entity %zu" : "episode %zu", i);
        random_vector((entity ? 1ull << 62 : 1ull << 61) + i, vector, l->dim);
        /* Two distinct entities per episode, spread evenly: each entity ends up related to ~2N/1000 episodes. */
        snprintf(targets[0], sizeof targets[0], "%zu", i % ENTITIES + 1);
        snprintf(targets[1], sizeof targets[1], "%zu", (i + 1 + i / ENTITIES % (ENTITIES - 1)) % ENTITIES + 1);
        eg_memory_relationship rels[2] = {{targets[0], EG_REL_RELATES_TO, NULL}, {targets[1], EG_REL_RELATES_TO, NULL}};
        json_t *payload = json_pack("{s:s}", entity ? "name" : "content", text);
        char session[32];
        snprintf(session, sizeof session, "s%zu", l->sessions ? i % l->sessions : 0);
        eg_memory_spec spec = {.type = l->type, .id = id, .vector = vector, .dim = l->dim, .payload = payload,
                               .relationships = entity ? NULL : rels, .relationship_count = entity ? 0 : 2,
                               .session_id = !entity && l->sessions ? session : NULL};
        eg_error err;
        if (eg_memory_create(l->db, &spec, NULL, &err)) fail("eg_memory_create (load)", &err);
        json_decref(payload);
    }
    free(vector);
    return NULL;
}

static void load_in_parallel(eg_db *db, eg_memory_type type, size_t n, size_t dim, size_t threads, size_t sessions) {
    loader loaders[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    for (size_t t = 0; t < threads; t++) {
        loaders[t] = (loader){db, type, n * t / threads, n * (t + 1) / threads, dim, sessions};
        pthread_create(&ids[t], NULL, load_loop, &loaders[t]);
    }
    for (size_t t = 0; t < threads; t++) pthread_join(ids[t], NULL);
}

/* Points in a collection; 0 when it does not exist. */
static uint64_t points_in(eg_db *db, const char *collection) {
    uint64_t n = 0;
    eg_error err;
    eg_status st = eg_vectors_count(eg_db_vectors(db), collection, NULL, &n, &err);
    if (st == EG_NOT_FOUND) return 0;
    if (st) fail("count", &err);
    return n;
}

typedef struct recall_figures {
    const char *via;
    float *us; /* per query */
    size_t hits, neighbors, relationships;
} recall_figures;

typedef struct recall_query {
    eg_db *db;
    const float *vector;
    size_t dim;
    int hops;
    const char *session; /* NULL: all */
} recall_query;

/* The recall's request as the JSON interface takes it. */
static json_t *recall_request_json(const recall_query *q) {
    json_t *vector = json_array();
    for (size_t d = 0; d < q->dim; d++) json_array_append_new(vector, json_real(q->vector[d]));
    json_t *request = json_pack("{s:s, s:s, s:o, s:i, s:i}", "op", "recall", "type", "episode", "vector", vector,
                                "limit", RECALL_LIMIT, "expand", q->hops);
    if (q->session) json_object_set_new(request, "session_id", json_string(q->session));
    return request;
}

/* One recall, timed into f->us[index]: through eg_memory_recall, or (exec) built as JSON and run by eg_exec. */
static void recall_once(const recall_query *q, bool exec, recall_figures *f, size_t index) {
    json_t *out = NULL, *response = NULL;
    eg_error err;
    double t0 = now_s();
    if (exec) {
        json_t *request = recall_request_json(q);
        response = eg_exec(q->db, request);
        json_decref(request);
        if (!json_is_true(json_object_get(response, "ok"))) {
            char *text = json_dumps(response, JSON_COMPACT);
            fprintf(stderr, "memory_bench: recall through eg_exec failed: %s\n", text ? text : "?");
            exit(1);
        }
        out = json_object_get(response, "result");
    } else {
        eg_recall_request request = {.type = EG_MEMORY_EPISODE, .vector = q->vector, .dim = q->dim,
                                     .limit = RECALL_LIMIT, .expand = q->hops, .session_id = q->session};
        if (eg_memory_recall(q->db, &request, &out, &err)) fail("eg_memory_recall", &err);
    }
    f->us[index] = (float)((now_s() - t0) * 1e6);
    size_t i;
    json_t *memory;
    json_array_foreach(json_object_get(out, "memories"), i, memory) {
        f->hits++;
        f->neighbors += json_array_size(json_object_get(memory, "neighbors"));
        f->relationships += json_array_size(json_object_get(memory, "relationships"));
    }
    if (response) json_decref(response);
    else json_decref(out);
}

typedef struct recall_thread {
    eg_db *db;
    size_t dim, first, step, queries, sessions;
    int hops;
} recall_thread;

static void *recall_loop(void *arg) {
    recall_thread *t = arg;
    float *vector = malloc(t->dim * sizeof *vector);
    recall_figures sink = {"c", malloc(t->queries * sizeof(float))};
    for (size_t q = t->first; q < t->queries; q += t->step) {
        random_vector((1ull << 60) + q, vector, t->dim);
        char session[32];
        snprintf(session, sizeof session, "s%zu", t->sessions ? q % t->sessions : 0);
        recall_query query = {t->db, vector, t->dim, t->hops, t->sessions ? session : NULL};
        recall_once(&query, false, &sink, q);
    }
    free(sink.us);
    free(vector);
    return NULL;
}

/* Recalls per second with `threads` threads running the queries between them. */
static double recall_throughput(eg_db *db, size_t threads, size_t dim, size_t queries, size_t sessions, int hops) {
    recall_thread args[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    double t0 = now_s();
    for (size_t t = 0; t < threads; t++) {
        args[t] = (recall_thread){db, dim, t, threads, queries, sessions, hops};
        pthread_create(&ids[t], NULL, recall_loop, &args[t]);
    }
    for (size_t t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    return (double)queries / (now_s() - t0);
}

static int run_recall(const char *dir, int argc, char **argv) {
    size_t memories = 100000, dim = 1024, queries = 200, load_threads = 4, sessions = 0, threads = 0;
    int hops = 1;
    bool qdrant = false, via_c = true, via_exec = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--qdrant") == 0) qdrant = true;
        else if (strcmp(argv[i], "--sessions") == 0) sessions = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--threads") == 0) threads = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--via") == 0 && i + 1 < argc) {
            const char *via = argv[++i];
            via_c = strcmp(via, "c") == 0 || strcmp(via, "both") == 0;
            via_exec = strcmp(via, "exec") == 0 || strcmp(via, "both") == 0;
            if (!via_c && !via_exec) {
                fprintf(stderr, "memory_bench recall: --via takes c, exec or both\n");
                return 2;
            }
        }
        else if (strcmp(argv[i], "--memories") == 0) memories = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--dim") == 0) dim = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--queries") == 0) queries = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--load-threads") == 0) load_threads = count_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--expand") == 0 && i + 1 < argc) hops = atoi(argv[++i]);
        else {
            fprintf(stderr, "memory_bench recall: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (load_threads > MAX_THREADS) load_threads = MAX_THREADS;
    eg_options options = {EG_DURABILITY_NONE};
    eg_db *db;
    eg_error err;
    vector_server vs = {0};
    if (qdrant) serve_vectors(dir, &options, &vs);
    if (eg_open(dir, &options, &db, &err)) fail("open", &err);
    uint64_t have_entities = points_in(db, "entities"), have_episodes = points_in(db, "episodes");
    bool reuse = have_entities == ENTITIES && have_episodes == memories;
    if (!reuse && (have_entities || have_episodes)) {
        fprintf(stderr,
                "memory_bench recall: %s holds %llu entities and %llu episodes, not %d and %zu (another size, or an "
                "interrupted load): remove it\n",
                dir, (unsigned long long)have_entities, (unsigned long long)have_episodes, ENTITIES, memories);
        eg_close(db);
        stop_serving(&vs);
        return 2;
    }
    double load_s = 0;
    if (!reuse) {
        double t0 = now_s();
        load_in_parallel(db, EG_MEMORY_ENTITY, ENTITIES, dim, load_threads, 0);
        load_in_parallel(db, EG_MEMORY_EPISODE, memories, dim, load_threads, sessions);
        load_s = now_s() - t0;
    }

    float *vector = malloc(dim * sizeof *vector);
    recall_figures by_c = {"c", malloc(queries * sizeof(float))}, by_exec = {"exec", malloc(queries * sizeof(float))};
    for (size_t q = 0; q < queries; q++) {
        random_vector((1ull << 60) + q, vector, dim);
        char session[32];
        snprintf(session, sizeof session, "s%zu", sessions ? q % sessions : 0);
        recall_query query = {db, vector, dim, hops, sessions ? session : NULL};
        /* Alternating which goes first, so that neither always meets the pages the other just read. */
        for (int turn = 0; turn < 2; turn++) {
            bool exec_now = (turn == 0) == (q % 2 == 1);
            if (exec_now && via_exec) recall_once(&query, true, &by_exec, q);
            if (!exec_now && via_c) recall_once(&query, false, &by_c, q);
        }
    }
    double c_mean = 0, exec_mean = 0;
    for (int pass = 0; pass < 2; pass++) {
        recall_figures *f = pass == 0 ? &by_c : &by_exec;
        if (pass == 0 ? !via_c : !via_exec) continue;
        latency_summary s = summarise(f->us, queries);
        *(pass == 0 ? &c_mean : &exec_mean) = s.mean;
        printf("memory-recall backend=%s via=%s n=%zu dim=%zu queries=%zu expand=%d sessions=%zu load=%s load_s=%.1f "
               "p50_us=%.0f p99_us=%.0f mean_us=%.0f memories_per_query=%.1f neighbors_per_query=%.1f "
               "relationships_per_query=%.1f\n",
               qdrant ? "qdrant" : "lmdb", f->via, memories, dim, queries, hops, sessions, reuse ? "reused" : "fresh",
               load_s, s.p50, s.p99, s.mean, (double)f->hits / (double)queries,
               (double)f->neighbors / (double)queries, (double)f->relationships / (double)queries);
    }
    if (via_c && via_exec) printf("memory-recall exec_adds_mean_us=%.0f\n", exec_mean - c_mean);
    if (threads > 0) {
        if (threads > MAX_THREADS) threads = MAX_THREADS;
        double one = 0, many = 0;
        for (int round = 0; round < 3; round++) {
            double a = recall_throughput(db, 1, dim, queries, sessions, hops);
            double b = recall_throughput(db, threads, dim, queries, sessions, hops);
            if (a > one) one = a;
            if (b > many) many = b;
        }
        printf("memory-recall-threads n=%zu dim=%zu sessions=%zu expand=%d threads=1 recalls_per_s=%.0f threads=%zu "
               "recalls_per_s=%.0f scaling=%.2f\n",
               memories, dim, sessions, hops, one, threads, many, many / one);
    }
    free(by_c.us);
    free(by_exec.us);
    free(vector);
    eg_close(db);
    stop_serving(&vs);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "writes") == 0) return run_writes(argv[2], argc, argv);
    if (argc >= 3 && strcmp(argv[1], "recall") == 0) return run_recall(argv[2], argc, argv);
    fprintf(stderr, "usage: memory_bench writes DIR [--threads T] [--count N] [--dim D] "
                    "[--durability group|fsync|none] [--raw] [--batch B] [--qdrant]\n"
                    "       memory_bench recall DIR [--memories N] [--dim D] [--queries Q] [--expand E] "
                    "[--load-threads T] [--qdrant] [--sessions S] [--via c|exec|both] [--threads T]\n");
    return 2;
}
