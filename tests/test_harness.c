/* test_harness.c — the implementation of test.h. */
#define _GNU_SOURCE /* nftw */
#include "test.h"

#include <errno.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

int test_failures_in_current, test_passed, test_failed;

static char *scratch[256];
static int scratch_count;

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

static void remove_scratch(void) {
    for (int i = 0; i < scratch_count; i++) {
        nftw(scratch[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(scratch[i]);
    }
}

/* Writes DATA/engram.conf (creating DATA) so that the folder keeps its vectors on the Qdrant server at url, in
 * collections named with a prefix no other folder uses: the suites over Qdrant (tests/over_qdrant.sh) share one
 * server, and a folder must never see another's collections. The prefix joins the scratch folder's random name,
 * which no live folder shares, with the process id, so that a name mkdtemp reuses after a removal still differs. */
static void configure_remote_vectors(const char *data_dir, const char *url, const char *tag) {
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
    fprintf(f, "vectors.backend = qdrant\nvectors.url = %s\nvectors.collection_prefix = t%ld_%s_\n", url,
            (long)getpid(), tag);
    if (fclose(f) != 0) {
        perror("engram.conf");
        exit(2);
    }
}

const char *test_scratch_dir(void) {
    char tmpl[] = "/tmp/engram-test-XXXXXX";
    if (!mkdtemp(tmpl) || scratch_count == 256) {
        perror("mkdtemp");
        exit(2);
    }
    if (scratch_count == 0) atexit(remove_scratch);
    scratch[scratch_count] = strdup(tmpl);
    const char *qdrant_url = getenv("ENGRAM_TEST_QDRANT_URL");
    if (qdrant_url && *qdrant_url) {
        /* Suites open either the scratch folder itself or its "data" (test_data_dir, test_open_fresh): both are
         * made ready. */
        const char *random_part = strrchr(tmpl, '-') + 1;
        char data_dir[600], tag[32];
        configure_remote_vectors(tmpl, qdrant_url, random_part);
        snprintf(data_dir, sizeof data_dir, "%s/data", tmpl);
        snprintf(tag, sizeof tag, "%sd", random_part);
        configure_remote_vectors(data_dir, qdrant_url, tag);
    }
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
