/* test_archive.c — the cold archive for a data folder: memories of every type archived and restored whole (vector,
 * payload, node, relationships), archive_older_than by age, session and limit, oldest first; list, cleanup,
 * verify, delete; a failing store compensated; a kill at each step boundary of both sagas recovered to "hot or
 * archived, never neither"; hostile ids refused with nothing written. The file layout itself is tested in
 * test_archive_store.c. */
#include "test.h"

#include "archive/archive_store.h"
#include "util/json_text.h"

#include <engram/engram.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static eg_error err;

#define DIM 8
#define DAY_MS 86400000LL

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static eg_db *open_folder(const char *dir, const char *faults) {
    if (faults) {
        setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
        setenv("ENGRAM_FAULTS", faults, 1);
    }
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    unsetenv("ENGRAM_ALLOW_FAULTS");
    unsetenv("ENGRAM_FAULTS");
    CHECK_OK(st, &err);
    return db;
}

/* Memory n of a type, created days_old days ago, in session s (NULL: none), related to `to` (NULL: nothing). */
static eg_status create(eg_db *db, eg_memory_type type, int n, double days_old, const char *session, const char *to) {
    float v[DIM];
    for (int i = 0; i < DIM; i++) v[i] = (float)((n * 5 + i * 3) % 7) + 0.25f;
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    json_t *payload = json_pack("{s:i}", "n", n), *props = json_pack("{s:i}", "n", n);
    json_t *weight = json_pack("{s:f}", "weight", 0.75);
    eg_memory_relationship rel = {to, EG_REL_RELATES_TO, weight};
    eg_memory_spec spec = {.type = type, .id = id, .vector = v, .dim = DIM, .payload = payload, .properties = props,
                           .session_id = session, .has_created_at = true,
                           .created_at = now_ms() - (int64_t)(days_old * DAY_MS), .relationships = &rel,
                           .relationship_count = to ? 1 : 0};
    eg_status st = eg_memory_create(db, &spec, NULL, &err);
    json_decref(payload);
    json_decref(props);
    json_decref(weight);
    return st;
}

static bool hot(eg_db *db, eg_memory_type type, int n) {
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    eg_node node;
    bool in_graph = eg_graph_get_node(eg_db_graph(db), id, EG_LABEL_ANY, &node, &err) == EG_OK;
    if (in_graph) eg_node_clear(&node);
    eg_point_id pid = eg_point_id_num((uint64_t)n);
    eg_point_list list = {0};
    bool in_vectors = eg_vectors_get(eg_db_vectors(db), eg_memory_collection(type), &pid, 1, false, false, &list,
                                     &err) == EG_OK &&
                      list.count == 1;
    eg_point_list_free(&list);
    CHECK(in_graph == in_vectors); /* never half */
    return in_graph && in_vectors;
}

static bool archived(eg_db *db, int n) {
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    json_t *found = NULL;
    eg_status st = eg_retrieve_archived(db, id, &found, &err);
    json_decref(found);
    return st == EG_OK;
}

/* A snapshot of one hot memory: its point (vector bits, payload), node and relationships. */
static char *snapshot(eg_db *db, eg_memory_type type, int n) {
    char id[32];
    snprintf(id, sizeof id, "%d", n);
    eg_point_id pid = eg_point_id_num((uint64_t)n);
    eg_point_list list = {0};
    eg_node node = {0};
    eg_relationship_list rels = {0};
    json_t *all = json_object();
    if (eg_vectors_get(eg_db_vectors(db), eg_memory_collection(type), &pid, 1, true, true, &list, &err) == EG_OK &&
        list.count) {
        json_t *bits = json_array();
        for (size_t i = 0; i < list.items[0].dim; i++) {
            uint32_t b;
            memcpy(&b, &list.items[0].vector[i], sizeof b);
            json_array_append_new(bits, json_integer(b));
        }
        json_object_set_new(all, "vector", bits);
        json_object_set(all, "payload", list.items[0].payload);
    }
    if (eg_graph_get_node(eg_db_graph(db), id, EG_LABEL_ANY, &node, &err) == EG_OK) {
        json_object_set(all, "properties", node.properties);
        json_object_set_new(all, "label", json_string(eg_label_name(node.label)));
    }
    if (eg_graph_get_relationships(eg_db_graph(db), id, EG_REL_ANY, EG_DIR_BOTH, &rels, &err) == EG_OK) {
        json_t *r = json_array();
        for (size_t i = 0; i < rels.count; i++)
            json_array_append_new(r, json_pack("{s:s, s:s, s:O}", "s", rels.items[i].source_id, "t",
                                               rels.items[i].target_id, "p", rels.items[i].properties));
        json_object_set_new(all, "relationships", r);
    }
    char *text = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(all);
    eg_point_list_free(&list);
    eg_node_clear(&node);
    eg_relationship_list_free(&rels);
    return text;
}

/* The whole text of a gzip file (free()), or NULL. */
static char *read_gzip(const char *path) {
    gzFile f = gzopen(path, "rb");
    if (!f) return NULL;
    size_t size = 0, capacity = 1 << 16;
    char *text = malloc(capacity);
    int n;
    while (text && (n = gzread(f, text + size, (unsigned)(capacity - size - 1))) > 0) {
        size += (size_t)n;
        if (capacity - size < 2) {
            char *grown = realloc(text, capacity *= 2);
            if (!grown) free(text);
            text = grown;
        }
    }
    gzclose(f);
    if (text) text[size] = '\0';
    return text;
}

/* Every number of the array after `key` in text is the shortest decimal of its float32 (0.1, not
 * 0.10000000149011612); returns how many there are, -1 if one is not. */
static int shortest_floats_after(const char *text, const char *key) {
    const char *c = text ? strstr(text, key) : NULL;
    if (!c) return -1;
    c = strchr(c, '[') + 1;
    int count = 0;
    while (*c && *c != ']') {
        char *end;
        float f = (float)strtod(c, &end);
        char shortest[EG_NUMBER_TEXT_MAX];
        int length = eg_float_text(f, shortest);
        if (end - c != length || strncmp(c, shortest, (size_t)length) != 0) return -1;
        count++;
        c = *end == ',' ? end + 1 : end;
    }
    return count;
}

/* An archive file holds each float in its shortest form and restores the same bits; an entry written with 17
 * digits, as engram wrote them before, restores the same bits too and reads back in the short form. */
TEST(archive_files_hold_the_shortest_floats_and_restore_the_same_bits) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    eg_db *db = open_folder(dir, NULL);
    REQUIRE(db);
    float v[DIM] = {0.1f, -0.2f, 1e-7f, 0.5f, -0.0f, 1.17549435e-38f, 0.333333343f, 12345.678f};
    eg_memory_spec spec = {.type = EG_MEMORY_EPISODE, .id = "1", .vector = v, .dim = DIM, .has_created_at = true,
                           .created_at = now_ms() - 40 * DAY_MS};
    CHECK_OK(eg_memory_create(db, &spec, NULL, &err), &err);
    char *before = snapshot(db, EG_MEMORY_EPISODE, 1);
    CHECK_OK(eg_archive_memory(db, EG_MEMORY_EPISODE, "1", &err), &err);
    snprintf(path, sizeof path, "%s/archive/episodes/00/1.json.gz", dir);
    char *text = read_gzip(path);
    CHECK(shortest_floats_after(text, "\"vector\":") == DIM);
    free(text);
    CHECK_OK(eg_restore_archived(db, "1", &err), &err);
    char *after = snapshot(db, EG_MEMORY_EPISODE, 1);
    CHECK(before && after && strcmp(before, after) == 0);
    free(after);

    /* The entry as engram wrote it before: each float as the double it widens to, 17 digits. */
    CHECK_OK(eg_archive_memory(db, EG_MEMORY_EPISODE, "1", &err), &err);
    eg_close(db);
    char archive_dir[600];
    snprintf(archive_dir, sizeof archive_dir, "%s/archive", dir);
    eg_archive *archive = NULL;
    CHECK_OK(eg_archive_open(archive_dir, &archive, &err), &err);
    REQUIRE(archive);
    json_t *record = NULL;
    CHECK_OK(eg_archive_get(archive, "1", &record, NULL, &err), &err);
    json_t *vector = json_object_get(record, "vector");
    for (size_t i = 0; i < json_array_size(vector); i++)
        json_array_set_new(vector, i, json_real((float)json_real_value(json_array_get(vector, i))));
    CHECK_OK(eg_archive_put(archive, "episodes", "1", record, -1, true, NULL, &err), &err);
    json_decref(record);
    eg_archive_close(archive);
    text = read_gzip(path);
    CHECK(text && strstr(text, "0.10000000149011612") == NULL && shortest_floats_after(text, "\"vector\":") == -1);
    free(text);

    db = open_folder(dir, NULL);
    REQUIRE(db);
    json_t *found = NULL;
    CHECK_OK(eg_retrieve_archived(db, "1", &found, &err), &err);
    char *shown = found ? eg_json_text(json_object_get(found, "record"), JSON_COMPACT) : NULL;
    CHECK(shortest_floats_after(shown, "\"vector\":") == DIM);
    free(shown);
    json_decref(found);
    CHECK_OK(eg_restore_archived(db, "1", &err), &err);
    after = snapshot(db, EG_MEMORY_EPISODE, 1);
    CHECK(before && after && strcmp(before, after) == 0);
    free(after);
    free(before);
    eg_close(db);
}

/* A create looks its id up in the archive, where a new data folder has none: the lookup creates nothing,
 * archiving then makes the folder, and an id archived there, by engram or by another tool while the folder is
 * open, refuses a create. */
TEST(a_folder_without_an_archive_creates_archives_and_refuses_archived_ids) {
    char dir[512], archive_dir[600];
    snprintf(dir, sizeof dir, "%s/data", test_scratch_dir());
    snprintf(archive_dir, sizeof archive_dir, "%s/archive", dir);
    eg_db *db = open_folder(dir, NULL);
    REQUIRE(db);
    struct stat st;
    CHECK_OK(create(db, EG_MEMORY_EPISODE, 1, 40, NULL, NULL), &err);
    CHECK(stat(archive_dir, &st) != 0);
    eg_archive_request run = {.type = EG_MEMORY_EPISODE, .older_than_days = 30};
    eg_archive_result done = {0};
    CHECK_OK(eg_archive_older_than(db, &run, &done, &err), &err);
    CHECK(done.archived == 1);
    CHECK(stat(archive_dir, &st) == 0 && archived(db, 1) && !hot(db, EG_MEMORY_EPISODE, 1));
    CHECK_STATUS(create(db, EG_MEMORY_EPISODE, 1, 0, NULL, NULL), EG_CONFLICT, &err);

    /* An entry put by something else while the folder is open is seen by the next create. */
    eg_archive *other = NULL;
    CHECK_OK(eg_archive_open(archive_dir, &other, &err), &err);
    REQUIRE(other);
    json_t *record = json_pack("{s:s}", "memory_id", "2");
    CHECK_OK(eg_archive_put(other, "episodes", "2", record, -1, true, NULL, &err), &err);
    json_decref(record);
    eg_archive_close(other);
    CHECK_STATUS(create(db, EG_MEMORY_EPISODE, 2, 0, NULL, NULL), EG_CONFLICT, &err);

    CHECK_OK(eg_restore_archived(db, "1", &err), &err);
    CHECK(hot(db, EG_MEMORY_EPISODE, 1) && !archived(db, 1));
    eg_close(db);
}

TEST(every_type_archives_and_restores_whole) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, 1, 0, NULL, NULL), &err);
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) {
        int n = 10 + t;
        CHECK_OK(create(db, (eg_memory_type)t, n, 50, "s1", "1"), &err);
        char *before = snapshot(db, (eg_memory_type)t, n);
        char id[32];
        snprintf(id, sizeof id, "%d", n);
        CHECK_OK(eg_archive_memory(db, (eg_memory_type)t, id, &err), &err);
        CHECK(!hot(db, (eg_memory_type)t, n) && archived(db, n));
        json_t *found = NULL;
        CHECK_OK(eg_retrieve_archived(db, id, &found, &err), &err);
        json_t *record = json_object_get(found, "record"), *meta = json_object_get(found, "metadata");
        CHECK(strcmp(json_string_value(json_object_get(record, "memory_type")), eg_memory_collection((eg_memory_type)t)) == 0);
        CHECK(json_array_size(json_object_get(record, "vector")) == DIM);
        CHECK(json_array_size(json_object_get(record, "relationships")) == 1);
        CHECK(json_integer_value(json_object_get(json_object_get(record, "payload"), "n")) == n);
        CHECK(strcmp(json_string_value(json_object_get(meta, "compression")), "gzip") == 0);
        CHECK(json_string_length(json_object_get(meta, "checksum")) == 64);
        CHECK(json_is_string(json_object_get(meta, "original_created_at")));
        json_decref(found);
        CHECK_OK(eg_restore_archived(db, id, &err), &err);
        CHECK(hot(db, (eg_memory_type)t, n) && !archived(db, n));
        char *after = snapshot(db, (eg_memory_type)t, n);
        CHECK(strcmp(before, after) == 0);
        free(before);
        free(after);
    }
    json_t *report = NULL;
    CHECK_OK(eg_memory_check(db, false, &report, &err), &err);
    CHECK(json_is_true(json_object_get(report, "consistent")));
    json_decref(report);
    eg_close(db);
}

TEST(archive_older_than_takes_the_oldest_first_within_session_and_limit) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    /* ages 37.5, 32.5, ... 2.5 days (never on a threshold); even ones in session a */
    for (int n = 1; n <= 8; n++)
        CHECK_OK(create(db, EG_MEMORY_EPISODE, n, 42.5 - 5 * n, n % 2 ? "b" : "a", NULL), &err);
    uint64_t calls = 0;
    eg_archive_request r = {.type = EG_MEMORY_EPISODE, .older_than_days = 30, .limit = 1};
    eg_archive_result done;
    CHECK_OK(eg_archive_older_than(db, &r, &done, &err), &err);
    CHECK(done.candidates == 2 && done.archived == 1 && done.failed == 0);
    CHECK(archived(db, 1) && !archived(db, 2) && hot(db, EG_MEMORY_EPISODE, 2)); /* the oldest first */
    r.limit = 0;
    r.session_id = "a";
    r.progress = NULL;
    CHECK_OK(eg_archive_older_than(db, &r, &done, &err), &err);
    CHECK(done.archived == 1 && archived(db, 2) && hot(db, EG_MEMORY_EPISODE, 3));
    r.session_id = NULL;
    r.older_than_days = 12;
    CHECK_OK(eg_archive_older_than(db, &r, &done, &err), &err);
    CHECK(done.archived == 4); /* 3, 4, 5, 6 (ages 27.5 to 12.5) */
    for (int n = 1; n <= 8; n++) CHECK(archived(db, n) == (n <= 6) && hot(db, EG_MEMORY_EPISODE, n) == (n > 6));
    (void)calls;
    r.older_than_days = -1;
    CHECK_STATUS(eg_archive_older_than(db, &r, &done, &err), EG_INVALID_ARGUMENT, &err);
    r.older_than_days = 1;
    r.type = EG_MEMORY_PROCEDURE; /* no collection yet: nothing to do */
    CHECK_OK(eg_archive_older_than(db, &r, &done, &err), &err);
    CHECK(done.candidates == 0);
    json_t *list = NULL;
    eg_memory_type episode = EG_MEMORY_EPISODE;
    CHECK_OK(eg_list_archived(db, &episode, 4, NULL, &list, &err), &err);
    CHECK(json_array_size(json_object_get(list, "entries")) == 4);
    CHECK(json_is_string(json_object_get(list, "next_cursor")));
    json_decref(list);
    eg_close(db);
}

TEST(restore_refuses_a_hot_id_and_skips_relationships_whose_other_end_is_gone) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, 1, 0, NULL, NULL), &err);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, 2, 0, NULL, "1"), &err);
    CHECK_OK(eg_archive_memory(db, EG_MEMORY_ENTITY, "2", &err), &err);
    CHECK_STATUS(create(db, EG_MEMORY_ENTITY, 2, 0, NULL, NULL), EG_CONFLICT, &err); /* the id is archived */
    CHECK(strstr(err.message, "archived") != NULL);
    /* A hot memory of the same id (made through the plain store operations) blocks a restore. */
    float v[DIM] = {1};
    eg_point p = {.id = eg_point_id_num(2), .vector = v, .dim = DIM};
    CHECK_OK(eg_vectors_upsert(eg_db_vectors(db), "entities", &p, 1, &err), &err);
    CHECK_OK(eg_graph_create_node(eg_db_graph(db), EG_LABEL_ENTITY, "2", NULL, &err), &err);
    CHECK_STATUS(eg_restore_archived(db, "2", &err), EG_CONFLICT, &err);
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_ENTITY, "2", &err), &err);
    CHECK_OK(eg_memory_delete(db, EG_MEMORY_ENTITY, "1", &err), &err);
    CHECK_OK(eg_restore_archived(db, "2", &err), &err);
    eg_relationship_list rels;
    CHECK_OK(eg_graph_get_relationships(eg_db_graph(db), "2", EG_REL_ANY, EG_DIR_BOTH, &rels, &err), &err);
    CHECK(rels.count == 0);
    eg_relationship_list_free(&rels);
    CHECK_STATUS(eg_restore_archived(db, "2", &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_archive_memory(db, EG_MEMORY_ENTITY, "77", &err), EG_NOT_FOUND, &err);
    eg_close(db);
}

TEST(delete_cleanup_and_verify) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    for (int n = 1; n <= 3; n++) CHECK_OK(create(db, EG_MEMORY_EPISODE, n, 10, NULL, NULL), &err);
    for (int n = 1; n <= 3; n++) {
        char id[8];
        snprintf(id, sizeof id, "%d", n);
        CHECK_OK(eg_archive_memory(db, EG_MEMORY_EPISODE, id, &err), &err);
    }
    json_t *report = NULL;
    CHECK_OK(eg_verify_archive(db, &report, &err), &err);
    CHECK(json_integer_value(json_object_get(report, "entries")) == 3 && json_integer_value(json_object_get(report, "ok")) == 3);
    json_decref(report);
    CHECK_OK(eg_delete_archived(db, "2", &err), &err);
    CHECK(!archived(db, 2) && !hot(db, EG_MEMORY_EPISODE, 2));
    CHECK_STATUS(eg_delete_archived(db, "2", &err), EG_NOT_FOUND, &err);
    uint64_t removed = 9;
    CHECK_OK(eg_cleanup_archive(db, 1, &removed, &err), &err);
    CHECK(removed == 0); /* archived just now */
    CHECK_STATUS(eg_cleanup_archive(db, 0, &removed, &err), EG_INVALID_ARGUMENT, &err);
    eg_close(db);
}

TEST(hostile_ids_are_refused_and_nothing_is_written) {
    eg_db *db = test_open_fresh();
    REQUIRE(db);
    static const char *const lines[] = {
        "{\"op\":\"retrieve_archived\",\"id\":\"../x\"}",
        "{\"op\":\"retrieve_archived\",\"id\":\"/etc/passwd\"}",
        "{\"op\":\"delete_archived\",\"id\":\"a/b\"}",
        "{\"op\":\"restore_archived\",\"id\":\"..\"}",
        "{\"op\":\"retrieve_archived\",\"id\":\"a\\u0000b\"}",
        "{\"op\":\"archive_memory\",\"id\":\"../../escape\",\"type\":\"episode\"}",
        "{\"op\":\"archive_memory\",\"id\":1,\"type\":\"../episodes\"}",
        "{\"op\":\"list_archived\",\"type\":\"memo\"}",
        "{\"op\":\"archive_older_than\",\"type\":\"episode\",\"days\":-3}",
        "{\"op\":\"cleanup_archive\",\"retention_days\":0}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        json_t *r = test_exec(db, lines[i]);
        const char *code = test_response_code(r);
        if (strcmp(code, "invalid_argument") != 0) {
            fprintf(stderr, "  %s -> %s\n", lines[i], code);
            CHECK(false);
        }
        json_decref(r);
    }
    eg_close(db);
}

TEST(a_failing_store_leaves_the_memory_hot_and_no_archive_entry) {
    const char *dir = test_scratch_dir();
    eg_db *db = open_folder(dir, NULL);
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, 1, 0, NULL, NULL), &err);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, 2, 3, NULL, "1"), &err);
    char *before = snapshot(db, EG_MEMORY_ENTITY, 2);
    eg_close(db);
    static const char *const rules[] = {"graph.delete_node=fail", "vectors.delete_points=fail"};
    for (size_t i = 0; i < 2; i++) {
        db = open_folder(dir, rules[i]);
        REQUIRE(db);
        CHECK_STATUS(eg_archive_memory(db, EG_MEMORY_ENTITY, "2", &err), EG_UNAVAILABLE, &err);
        CHECK(!archived(db, 2));
        char *after = snapshot(db, EG_MEMORY_ENTITY, 2);
        CHECK(strcmp(before, after) == 0);
        free(after);
        eg_close(db);
    }
    free(before);
}

/* A child archives (or restores) memory 2 and is killed at a store call; the next open recovers: the memory is
 * hot or archived, whole, never neither and never half. */
static void kill_during(const char *dir, bool restoring, const char *faults, bool expect_archived) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setenv("ENGRAM_ALLOW_FAULTS", "1", 1);
        setenv("ENGRAM_FAULTS", faults, 1);
        eg_options options = {.durability = EG_DURABILITY_NONE};
        eg_db *db;
        if (eg_open(dir, &options, &db, &err) != EG_OK) _exit(3);
        if (restoring) eg_restore_archived(db, "2", &err);
        else eg_archive_memory(db, EG_MEMORY_ENTITY, "2", &err);
        _exit(4); /* not killed */
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    eg_db *db = open_folder(dir, NULL);
    REQUIRE(db);
    eg_recovery_report r;
    eg_db_recovery(db, &r);
    CHECK(r.sagas_unfinished == 1);
    bool is_hot = hot(db, EG_MEMORY_ENTITY, 2), is_archived = archived(db, 2);
    if (is_hot == is_archived || is_archived != expect_archived)
        fprintf(stderr, "  %s killed by '%s': hot %d, archived %d\n", restoring ? "restore" : "archive", faults, is_hot,
                is_archived);
    CHECK(is_hot != is_archived && is_archived == expect_archived);
    json_t *report = NULL;
    CHECK_OK(eg_memory_check(db, false, &report, &err), &err);
    CHECK(json_is_true(json_object_get(report, "consistent")));
    json_decref(report);
    eg_close(db);
}

TEST(a_kill_at_each_step_boundary_leaves_the_memory_hot_or_archived) {
    const char *dir = test_scratch_dir();
    eg_db *db = open_folder(dir, NULL);
    REQUIRE(db);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, 1, 0, NULL, NULL), &err);
    CHECK_OK(create(db, EG_MEMORY_ENTITY, 2, 3, NULL, "1"), &err);
    char *before = snapshot(db, EG_MEMORY_ENTITY, 2);
    eg_close(db);
    /* archive: after the entry is written (before the vector goes), before the node goes: both undone */
    kill_during(dir, false, "vectors.delete_points=kill_at:1", false);
    kill_during(dir, false, "graph.delete_node=kill_at:1", false);
    db = open_folder(dir, NULL);
    char *after = snapshot(db, EG_MEMORY_ENTITY, 2);
    CHECK(strcmp(before, after) == 0);
    free(after);
    CHECK_OK(eg_archive_memory(db, EG_MEMORY_ENTITY, "2", &err), &err);
    eg_close(db);
    /* restore: before the point, before the node, before the entry's removal: undone, still archived */
    kill_during(dir, true, "vectors.upsert=kill_at:1", true);
    kill_during(dir, true, "graph.create_node=kill_at:1", true);
    kill_during(dir, true, "graph.get_nodes=kill_at:1", true);
    db = open_folder(dir, NULL);
    CHECK_OK(eg_restore_archived(db, "2", &err), &err);
    after = snapshot(db, EG_MEMORY_ENTITY, 2);
    CHECK(strcmp(before, after) == 0);
    free(after);
    eg_close(db);
    free(before);
}

int main(void) {
    RUN(every_type_archives_and_restores_whole);
    RUN(a_folder_without_an_archive_creates_archives_and_refuses_archived_ids);
    RUN(archive_files_hold_the_shortest_floats_and_restore_the_same_bits);
    RUN(archive_older_than_takes_the_oldest_first_within_session_and_limit);
    RUN(restore_refuses_a_hot_id_and_skips_relationships_whose_other_end_is_gone);
    RUN(delete_cleanup_and_verify);
    RUN(hostile_ids_are_refused_and_nothing_is_written);
    RUN(a_failing_store_leaves_the_memory_hot_and_no_archive_entry);
    RUN(a_kill_at_each_step_boundary_leaves_the_memory_hot_or_archived);
    return test_summary();
}
