/* test_harness.c — the implementation of test.h: running tests, scratch folders (over remote stores when a run
 * asks: tests/over_remote.sh), snapshots of a folder's stores. */
#define _GNU_SOURCE /* nftw */
#include "test.h"

#include <errno.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int test_failures_in_current, test_passed, test_failed;

#define SCRATCH_MAX 256
#define SERVER_START_LIMIT_MS 20000 /* for a graph server to print its Bolt port */

static char *scratch[SCRATCH_MAX];
static int scratch_count;

/* The graph servers of the suites over Neo4j ($ENGRAM_TEST_GRAPH_BACKEND=neo4j): one `engram serve --bolt` per data
 * folder a scratch folder offers, over a sibling folder of its own, stopped at exit by the process that started
 * them (forked children that reopen a folder find its server still up). */
typedef struct graph_server {
    pid_t pid;
    char *dir;
} graph_server;

static graph_server servers[2 * SCRATCH_MAX];
static int server_count;
static pid_t harness_pid;

void test_run(const char *name, void (*fn)(void)) {
    test_failures_in_current = 0;
    fn();
    if (test_failures_in_current) {
        test_failed++;
        fprintf(stderr, "FAIL %s\n", name);
    } else {
        test_passed++;
        printf("ok   %s\n", name);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path) {
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Prints the stderr of the graph server over dir (dir.log), indented. */
static void show_server_log(const char *dir) {
    char command[700];
    snprintf(command, sizeof command, "sed 's/^/    | /' '%s.log' >&2", dir);
    if (system(command) != 0) fprintf(stderr, "    (no log)\n");
}

/* Removes a stopped graph server's folder and log. */
static void remove_server_files(const char *dir) {
    char log[600];
    snprintf(log, sizeof log, "%s.log", dir);
    remove(log);
    remove_tree(dir);
}

/* SIGTERM to every graph server, then their exit statuses: a server that does not exit 0 fails the run. */
static bool stop_graph_servers(void) {
    bool clean = true;
    for (int i = 0; i < server_count; i++) kill(servers[i].pid, SIGTERM);
    for (int i = 0; i < server_count; i++) {
        int status = 0;
        if (waitpid(servers[i].pid, &status, 0) != servers[i].pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
            fprintf(stderr, "the graph server over %s did not exit 0 after SIGTERM (status %d); its log:\n",
                    servers[i].dir, status);
            show_server_log(servers[i].dir);
            clean = false;
        }
        remove_server_files(servers[i].dir);
        free(servers[i].dir);
    }
    server_count = 0;
    return clean;
}

static void remove_scratch(void) {
    bool clean = getpid() != harness_pid || stop_graph_servers();
    for (int i = 0; i < scratch_count; i++) {
        remove_tree(scratch[i]);
        free(scratch[i]);
    }
    if (!clean) _exit(1);
}

/* Starts `$ENGRAM_BIN serve --http '' --bolt 127.0.0.1:0` over the folder server_dir (its graph accepts any label:
 * the schema is the client's to enforce) and returns the Bolt port it printed on stderr (to server_dir.log). The
 * server runs without the test's fault rules: they are for the client's stores. */
static unsigned start_graph_server(const char *server_dir) {
    const char *engram = getenv("ENGRAM_BIN");
    char log[600], conf[600];
    if (!engram || !*engram) {
        fprintf(stderr, "ENGRAM_TEST_GRAPH_BACKEND=neo4j needs ENGRAM_BIN, the engram program to serve the graph\n");
        exit(2);
    }
    snprintf(conf, sizeof conf, "%s/engram.conf", server_dir);
    snprintf(log, sizeof log, "%s.log", server_dir);
    FILE *f = mkdir(server_dir, 0755) == 0 ? fopen(conf, "w") : NULL;
    if (!f || fputs("graph.schema = open\n", f) == EOF || fclose(f) != 0) {
        perror(conf);
        exit(2);
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        /* A harness killed before its exit (a ctest timeout) takes its servers with it. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(127);
        unsetenv("ENGRAM_ALLOW_FAULTS");
        unsetenv("ENGRAM_FAULTS");
        execl(engram, engram, "--data", server_dir, "--no-sync", "serve", "--http", "", "--bolt", "127.0.0.1:0",
              (char *)NULL);
        _exit(127);
    }
    servers[server_count].pid = pid;
    servers[server_count].dir = strdup(server_dir);
    server_count++;
    for (int waited = 0; waited < SERVER_START_LIMIT_MS; waited += 10) {
        char line[512];
        unsigned port = 0;
        FILE *in = fopen(log, "r");
        while (in && !port && fgets(line, sizeof line, in)) {
            const char *at = strstr(line, "Bolt on bolt://");
            if (at && (at = strstr(at, ", port "))) port = (unsigned)strtoul(at + 7, NULL, 10);
        }
        if (in) fclose(in);
        if (port) return port;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            server_count--; /* exited: nothing to stop */
            fprintf(stderr, "the graph server over %s exited at start; its log:\n", server_dir);
            show_server_log(server_dir);
            remove_server_files(server_dir);
            free(servers[server_count].dir);
            exit(2);
        }
        usleep(10000);
    }
    fprintf(stderr, "the graph server over %s printed no Bolt port within %d ms; its log:\n", server_dir,
            SERVER_START_LIMIT_MS);
    show_server_log(server_dir);
    exit(2); /* stopped at exit with the others */
}

bool test_graph_over_neo4j(void) {
    const char *graph_backend = getenv("ENGRAM_TEST_GRAPH_BACKEND");
    return graph_backend && strcmp(graph_backend, "neo4j") == 0;
}

/* Writes DATA/engram.conf (creating DATA) for the remote backends the run asks for. Vectors on the Qdrant server at
 * $ENGRAM_TEST_QDRANT_URL, in collections named with a prefix no other folder uses: the suites over Qdrant share
 * one server, and a folder must never see another's collections. The prefix joins the scratch folder's random
 * name, which no live folder shares, with the process id, so that a name mkdtemp reuses after a removal still
 * differs. The graph, when $ENGRAM_TEST_GRAPH_BACKEND is neo4j, on a Bolt server of the folder's own (a graph has
 * no prefix): server_dir, a sibling that no folder of the suite opens. */
static void configure_remote_stores(const char *data_dir, const char *tag, const char *server_dir) {
    const char *qdrant_url = getenv("ENGRAM_TEST_QDRANT_URL");
    bool qdrant = qdrant_url && *qdrant_url, neo4j = test_graph_over_neo4j();
    if (!qdrant && !neo4j) return;
    char path[600];
    if (mkdir(data_dir, 0755) != 0 && errno != EEXIST) {
        perror("mkdir");
        exit(2);
    }
    snprintf(path, sizeof path, "%s/engram.conf", data_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror("engram.conf");
        exit(2);
    }
    if (qdrant)
        fprintf(f, "vectors.backend = qdrant\nvectors.url = %s\nvectors.collection_prefix = t%ld_%s_\n", qdrant_url,
                (long)getpid(), tag);
    if (neo4j) fprintf(f, "graph.backend = neo4j\ngraph.uri = bolt://127.0.0.1:%u\n", start_graph_server(server_dir));
    if (fclose(f) != 0) {
        perror("engram.conf");
        exit(2);
    }
}

const char *test_scratch_dir(void) {
    char tmpl[] = "/tmp/engram-test-XXXXXX";
    if (!mkdtemp(tmpl) || scratch_count == SCRATCH_MAX) {
        perror("mkdtemp");
        exit(2);
    }
    if (scratch_count == 0) {
        harness_pid = getpid();
        atexit(remove_scratch);
    }
    scratch[scratch_count] = strdup(tmpl);
    /* Suites open either the scratch folder itself or its "data" (test_data_dir, test_open_fresh): both are made
     * ready, each with stores of its own. */
    const char *random_part = strrchr(tmpl, '-') + 1;
    char data_dir[600], tag[32], server_dir[600];
    snprintf(server_dir, sizeof server_dir, "%s.graph", tmpl);
    configure_remote_stores(tmpl, random_part, server_dir);
    snprintf(data_dir, sizeof data_dir, "%s/data", tmpl);
    snprintf(tag, sizeof tag, "%sd", random_part);
    snprintf(server_dir, sizeof server_dir, "%s.data-graph", tmpl);
    configure_remote_stores(data_dir, tag, server_dir);
    return scratch[scratch_count++];
}

eg_db *test_open_fresh(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/data", test_scratch_dir());
    eg_db *db;
    eg_error err;
    eg_options options = {.durability = EG_DURABILITY_NONE};
    if (eg_open(path, &options, &db, &err) != EG_OK) {
        fprintf(stderr, "cannot open a fresh data folder: %s\n", err.message);
        exit(2);
    }
    return db;
}

json_t *test_exec(eg_db *db, const char *line) {
    char *text = eg_exec_json(db, line, strlen(line));
    json_error_t jerr;
    json_t *r = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    if (!r) {
        fprintf(stderr, "exec returned no parsable response for %s\n", line);
        exit(2);
    }
    return r;
}

const char *test_response_code(json_t *response) {
    if (json_is_true(json_object_get(response, "ok"))) return "ok";
    return json_string_value(json_object_get(json_object_get(response, "error"), "code"));
}

char *test_graph_snapshot(eg_db *db) {
    eg_graph *g = eg_db_graph(db);
    eg_error err;
    json_t *all = json_object(), *nodes = json_array(), *rels = json_array();
    const char *cursor = NULL;
    char last[EG_ID_MAX + 1];
    for (;;) {
        eg_node_list page;
        if (eg_graph_list_nodes(g, EG_LABEL_ANY, cursor, 500, &page, &err) != EG_OK) {
            fprintf(stderr, "snapshot: %s\n", err.message);
            exit(2);
        }
        for (size_t i = 0; i < page.count; i++) {
            eg_node *n = &page.items[i];
            json_array_append_new(nodes, json_pack("{s:s, s:s, s:O}", "id", n->id, "label", eg_label_name(n->label),
                                                   "properties", n->properties));
            eg_relationship_list out;
            if (eg_graph_get_relationships(g, n->id, EG_REL_ANY, EG_DIR_OUT, &out, &err) != EG_OK) {
                fprintf(stderr, "snapshot: %s\n", err.message);
                exit(2);
            }
            for (size_t j = 0; j < out.count; j++)
                json_array_append_new(rels, json_pack("{s:s, s:s, s:s, s:O}", "source_id", out.items[j].source_id,
                                                      "target_id", out.items[j].target_id, "type",
                                                      eg_rel_type_name(out.items[j].type), "properties",
                                                      out.items[j].properties));
            eg_relationship_list_free(&out);
        }
        bool more = page.count == 500;
        if (more) {
            memcpy(last, page.items[page.count - 1].id, sizeof last);
            cursor = last;
        }
        eg_node_list_free(&page);
        if (!more) break;
    }
    uint64_t node_count, rel_count;
    eg_graph_count_nodes(g, EG_LABEL_ANY, &node_count, &err);
    eg_graph_count_relationships(g, &rel_count, &err);
    json_object_set_new(all, "nodes", nodes);
    json_object_set_new(all, "relationships", rels);
    json_object_set_new(all, "node_count", json_integer((json_int_t)node_count));
    json_object_set_new(all, "relationship_count", json_integer((json_int_t)rel_count));
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    return text;
}

int test_summary(void) {
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

const char *test_data_dir(void) {
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/data", test_scratch_dir());
    return p;
}

bool test_has_point(eg_db *db, const char *collection, const char *id) {
    eg_point_id pid;
    eg_point_list list = {0};
    eg_error err;
    if (eg_point_id_parse(id, &pid, &err) != EG_OK) return false;
    eg_status st = eg_vectors_get(eg_db_vectors(db), collection, &pid, 1, true, true, &list, &err);
    bool found = st == EG_OK && list.count == 1;
    eg_point_list_free(&list);
    return found;
}

bool test_has_node(eg_db *db, const char *id) {
    eg_node n;
    eg_error err;
    eg_status st = eg_graph_get_node(eg_db_graph(db), id, EG_LABEL_ANY, &n, &err);
    if (st == EG_OK) eg_node_clear(&n);
    return st == EG_OK;
}

void test_pattern_vector(int n, float v[TEST_PATTERN_DIM]) {
    int pattern = n % 1120, subset = pattern / 16, signs = pattern % 16, mask = 0;
    for (int m = 0; m < 256; m++)
        if (__builtin_popcount((unsigned)m) == 4 && subset-- == 0) {
            mask = m;
            break;
        }
    for (int d = 0, k = 0; d < TEST_PATTERN_DIM; d++)
        v[d] = mask & (1 << d) ? (signs & (1 << k++) ? -0.5f : 0.5f) : 0.0f;
}

bool test_memory_whole(eg_db *db, const char *collection, int n) {
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    if (!test_has_node(db, id)) return false;
    eg_point_id pid = eg_point_id_num((uint64_t)n);
    eg_point_list list = {0};
    eg_error e;
    bool good = eg_vectors_get(eg_db_vectors(db), collection, &pid, 1, false, true, &list, &e) == EG_OK &&
                list.count == 1 && list.items[0].dim == TEST_PATTERN_DIM;
    float v[TEST_PATTERN_DIM];
    test_pattern_vector(n, v);
    if (good) good = memcmp(list.items[0].vector, v, sizeof v) == 0;
    eg_point_list_free(&list);
    return good;
}

bool test_memory_absent(eg_db *db, const char *collection, int n) {
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    return !test_has_node(db, id) && !test_has_point(db, collection, id);
}

bool test_consistent_after(eg_db *db, bool repair) {
    json_t *report = NULL;
    eg_error err;
    if (repair) {
        CHECK_OK(eg_memory_check(db, true, &report, &err), &err);
        json_decref(report);
        report = NULL;
    }
    eg_status st = eg_memory_check(db, false, &report, &err);
    CHECK_OK(st, &err);
    bool good = st == EG_OK && json_is_true(json_object_get(report, "consistent"));
    if (!good && report) {
        char *text = json_dumps(report, JSON_COMPACT);
        fprintf(stderr, "  check: %s\n", text);
        free(text);
    }
    json_decref(report);
    return good;
}

char *test_memory_snapshot(eg_db *db) {
    char *graph = test_graph_snapshot(db);
    json_t *all = json_pack("{s:s}", "graph", graph);
    free(graph);
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) {
        const char *collection = eg_memory_collection((eg_memory_type)t);
        eg_scroll_request request = {.limit = 10000, .with_payload = true, .with_vectors = true};
        eg_point_list list = {0};
        eg_point_id next;
        bool more;
        eg_error err;
        if (eg_vectors_scroll(eg_db_vectors(db), collection, &request, &list, &next, &more, &err) != EG_OK) {
            json_object_set_new(all, collection, json_null());
            continue;
        }
        json_t *points = json_array();
        for (size_t i = 0; i < list.count; i++) {
            json_t *vector = json_array();
            for (size_t d = 0; d < list.items[i].dim; d++)
                json_array_append_new(vector, json_real(list.items[i].vector[d]));
            json_array_append_new(points, json_pack("{s:o, s:o, s:O?}", "id", eg_point_id_to_json(&list.items[i].id),
                                                    "vector", vector, "payload", list.items[i].payload));
        }
        json_object_set_new(all, collection, points);
        eg_point_list_free(&list);
    }
    char *text = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(all);
    return text;
}

bool test_tool_exists(const char *name) {
    char command[128];
    snprintf(command, sizeof command, "command -v %s >/dev/null 2>&1", name);
    return system(command) == 0;
}

bool test_make_certificate(const char *dir) {
    char command[2048];
    if (test_tool_exists("certtool")) {
        char template_path[512];
        snprintf(template_path, sizeof template_path, "%s/cert.cfg", dir);
        FILE *f = fopen(template_path, "w");
        if (!f) return false;
        fputs("cn = \"engram test\"\nip_address = \"127.0.0.1\"\ndns_name = \"localhost\"\nexpiration_days = 2\n"
              "ca\ncert_signing_key\nsigning_key\nencryption_key\ntls_www_server\n",
              f);
        fclose(f);
        snprintf(command, sizeof command,
                 "certtool --generate-privkey --key-type=ecdsa --outfile '%s/key.pem' >/dev/null 2>&1 && "
                 "certtool --generate-self-signed --load-privkey '%s/key.pem' --template '%s' "
                 "--outfile '%s/cert.pem' >/dev/null 2>&1",
                 dir, dir, template_path, dir);
    } else if (test_tool_exists("openssl")) {
        snprintf(command, sizeof command,
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                 "-subj '/CN=engram test' -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' "
                 "-keyout '%s/key.pem' -out '%s/cert.pem' >/dev/null 2>&1",
                 dir, dir);
    } else {
        return false;
    }
    return system(command) == 0;
}
