/* test_graph_schema.c — graph.schema: the t4dm vocabulary (the original system's 3 labels and 17 types) and the
 * open one (any plain identifier), through the C API and exec; the embedded store's one-byte codes for names
 * (kept across processes whose codes differ, rolled back with the write that made them, bounded at 256). */
#include "test.h"

#include <engram/graph.h>

#include <sys/wait.h>
#include <unistd.h>

static eg_error err;

static eg_db *open_with_schema(const char *dir, const char *schema) {
    char setting[64];
    snprintf(setting, sizeof setting, "graph.schema=%s", schema);
    const char *const settings[] = {setting};
    eg_options options = {.durability = EG_DURABILITY_NONE, .settings = settings, .setting_count = 1};
    eg_db *db = NULL;
    eg_status st = eg_open(dir, &options, &db, &err);
    if (st != EG_OK) fprintf(stderr, "  open (%s): %s\n", schema, err.message);
    return db;
}

static eg_label label_of(const char *name) {
    eg_label label = EG_LABEL_ANY;
    CHECK_OK(eg_label_parse(name, &label, &err), &err);
    return label;
}

static eg_rel_type type_of(const char *name) {
    eg_rel_type type = EG_REL_ANY;
    CHECK_OK(eg_rel_type_parse(name, &type, &err), &err);
    return type;
}

/* The people-and-meetings graph a Neo4j user's own Cypher would make. */
static void make_contacts(eg_graph *g) {
    eg_label contact = label_of("Contact"), event = label_of("CalendarEvent");
    json_t *ada = json_pack("{s:s}", "name", "Ada"), *standup = json_pack("{s:s}", "title", "standup");
    CHECK_OK(eg_graph_create_node(g, contact, "ada", ada, &err), &err);
    CHECK_OK(eg_graph_create_node(g, contact, "bob", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(g, event, "standup", standup, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "acme", NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "ada", "standup", type_of("ATTENDS"), NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "bob", "standup", type_of("ATTENDS"), NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "ada", "acme", type_of("WORKS_AT"), NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "ada", "bob", EG_REL_RELATES_TO, NULL, &err), &err);
    json_decref(ada);
    json_decref(standup);
}

static void check_contacts(eg_graph *g) {
    eg_node n;
    CHECK_OK(eg_graph_get_node(g, "ada", EG_LABEL_ANY, &n, &err), &err);
    CHECK(strcmp(eg_label_name(n.label), "Contact") == 0);
    CHECK(strcmp(json_string_value(json_object_get(n.properties, "name")), "Ada") == 0);
    eg_node_clear(&n);
    CHECK_OK(eg_graph_get_node(g, "standup", label_of("CalendarEvent"), &n, &err), &err);
    eg_node_clear(&n);
    CHECK_STATUS(eg_graph_get_node(g, "standup", label_of("Contact"), &n, &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "(it is CalendarEvent)") != NULL);

    eg_node_list list = {0};
    CHECK_OK(eg_graph_list_nodes(g, label_of("Contact"), NULL, 10, &list, &err), &err);
    CHECK(list.count == 2 && strcmp(list.items[0].id, "ada") == 0 && strcmp(list.items[1].id, "bob") == 0);
    eg_node_list_free(&list);
    uint64_t count;
    CHECK_OK(eg_graph_count_nodes(g, label_of("Contact"), &count, &err), &err);
    CHECK(count == 2);
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK(count == 4);

    eg_relationship_list rels = {0};
    CHECK_OK(eg_graph_get_relationships(g, "standup", type_of("ATTENDS"), EG_DIR_IN, &rels, &err), &err);
    CHECK(rels.count == 2);
    for (size_t i = 0; i < rels.count; i++) CHECK(strcmp(eg_rel_type_name(rels.items[i].type), "ATTENDS") == 0);
    eg_relationship_list_free(&rels);
    CHECK_OK(eg_graph_get_relationships(g, "ada", EG_REL_ANY, EG_DIR_OUT, &rels, &err), &err);
    CHECK(rels.count == 3);
    eg_relationship_list_free(&rels);

    const eg_rel_type attends = type_of("ATTENDS");
    eg_path path;
    CHECK_OK(eg_graph_find_path(g, "ada", "bob", 3, (eg_rel_type_set){&attends, 1}, &path, &err), &err);
    CHECK(path.node_count == 3 && strcmp(path.nodes[1].id, "standup") == 0);
    CHECK(strcmp(eg_label_name(path.nodes[1].label), "CalendarEvent") == 0);
    eg_path_clear(&path);
    double weight = 0;
    CHECK_OK(eg_graph_strengthen_relationship(g, "ada", "acme", type_of("WORKS_AT"), 0.5, &weight, &err), &err);
    CHECK(weight > 0.5);
}

TEST(open_schema_takes_any_identifier_through_every_operation) {
    eg_db *db = open_with_schema(test_data_dir(), "open");
    REQUIRE(db);
    eg_graph *g = eg_db_graph(db);
    CHECK(g->schema == EG_SCHEMA_OPEN);
    make_contacts(g);
    check_contacts(g);
    /* A label or type the store has never held matches nothing, rather than failing. */
    eg_node_list list = {0};
    CHECK_OK(eg_graph_list_nodes(g, label_of("NeverWritten"), NULL, 10, &list, &err), &err);
    CHECK(list.count == 0);
    eg_relationship_list rels = {0};
    CHECK_OK(eg_graph_get_relationships(g, "ada", type_of("NEVER_WRITTEN"), EG_DIR_BOTH, &rels, &err), &err);
    CHECK(rels.count == 0);
    CHECK_STATUS(eg_graph_delete_relationship(g, "ada", "bob", type_of("NEVER_WRITTEN"), &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "NEVER_WRITTEN") != NULL);
    CHECK_OK(eg_graph_delete_relationship(g, "bob", "standup", type_of("ATTENDS"), &err), &err);
    CHECK_OK(eg_graph_delete_node(g, "bob", label_of("Contact"), &err), &err);
    uint64_t count;
    CHECK_OK(eg_graph_count_nodes(g, label_of("Contact"), &count, &err), &err);
    CHECK(count == 1);
    eg_close(db);
}

/* Codes are per process; a store keeps names. A child that parses other names first (so its codes differ) must
 * read every label and type back by name. */
TEST(names_survive_a_process_whose_codes_differ) {
    const char *dir = test_data_dir();
    eg_db *db = open_with_schema(dir, "open");
    REQUIRE(db);
    make_contacts(eg_db_graph(db));
    eg_close(db);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        test_failures_in_current = 0;
        char name[32];
        for (int i = 0; i < 20; i++) {
            snprintf(name, sizeof name, "Decoy%d", i);
            label_of(name);
            type_of(name);
        }
        eg_db *reopened = open_with_schema(dir, "open");
        if (reopened) check_contacts(eg_db_graph(reopened));
        eg_close(reopened);
        _exit(reopened && test_failures_in_current == 0 ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A store written in the open schema and reopened in t4dm: its nodes still read (any label), but naming an open
 * label or type is refused, in reads and writes alike. */
TEST(t4dm_refuses_open_names_and_still_reads_what_is_there) {
    const char *dir = test_data_dir();
    eg_db *db = open_with_schema(dir, "open");
    REQUIRE(db);
    make_contacts(eg_db_graph(db));
    eg_close(db);
    db = open_with_schema(dir, "t4dm");
    REQUIRE(db);
    eg_graph *g = eg_db_graph(db);
    char *before = test_graph_snapshot(db);
    eg_node n;
    CHECK_OK(eg_graph_get_node(g, "ada", EG_LABEL_ANY, &n, &err), &err);
    CHECK(strcmp(eg_label_name(n.label), "Contact") == 0);
    eg_node_clear(&n);
    CHECK_STATUS(eg_graph_create_node(g, label_of("Contact"), "carol", NULL, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "invalid node label 'Contact'") && strstr(err.message, "graph.schema=open"));
    CHECK_STATUS(eg_graph_get_node(g, "ada", label_of("Contact"), &n, &err), EG_INVALID_ARGUMENT, &err);
    eg_node_list list = {0};
    CHECK_STATUS(eg_graph_list_nodes(g, label_of("Contact"), NULL, 10, &list, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_graph_create_relationship(g, "ada", "acme", type_of("KNOWS"), NULL, &err), EG_INVALID_ARGUMENT,
                 &err);
    CHECK(strstr(err.message, "invalid relationship type 'KNOWS'") != NULL);
    const eg_rel_type attends = type_of("ATTENDS");
    eg_path path;
    CHECK_STATUS(eg_graph_find_path(g, "ada", "bob", 3, (eg_rel_type_set){&attends, 1}, &path, &err),
                 EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "types[0]") != NULL);
    char *after = test_graph_snapshot(db);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    eg_close(db);
}

TEST(exec_follows_the_schema) {
    eg_db *open = open_with_schema(test_data_dir(), "open"), *t4dm = open_with_schema(test_data_dir(), "t4dm");
    REQUIRE(open && t4dm);
    const char *lines[] = {
        "{\"op\":\"create_node\",\"label\":\"Contact\",\"id\":\"ada\"}",
        "{\"op\":\"create_node\",\"label\":\"Contact\",\"id\":\"bob\"}",
        "{\"op\":\"create_relationship\",\"source_id\":\"ada\",\"target_id\":\"bob\",\"type\":\"KNOWS\"}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        json_t *ok = test_exec(open, lines[i]), *refused = test_exec(t4dm, lines[i]);
        CHECK(strcmp(test_response_code(ok), "ok") == 0);
        CHECK(strcmp(test_response_code(refused), "invalid_argument") == 0);
        json_decref(ok);
        json_decref(refused);
    }
    json_t *r = test_exec(open, "{\"op\":\"find_path\",\"source_id\":\"ada\",\"target_id\":\"bob\",\"types\":[\"KNOWS\"]}");
    CHECK(json_array_size(json_object_get(json_object_get(r, "result"), "relationships")) == 1);
    json_decref(r);
    r = test_exec(open, "{\"op\":\"list_nodes\",\"label\":\"Contact\"}");
    CHECK(strcmp(test_response_code(r), "ok") == 0);
    json_decref(r);
    r = test_exec(open, "{\"op\":\"stats\"}");
    CHECK(json_integer_value(json_object_get(json_object_get(r, "result"), "nodes")) == 2);
    json_decref(r);
    r = test_exec(open, "{\"op\":\"create_node\",\"label\":\"Has-Dash\",\"id\":\"x\"}");
    CHECK(strcmp(test_response_code(r), "invalid_argument") == 0);
    json_decref(r);
    eg_close(open);
    eg_close(t4dm);
}

TEST(names_are_plain_identifiers_of_at_most_64_characters) {
    char longest[EG_NAME_MAX + 2];
    memset(longest, 'L', EG_NAME_MAX);
    longest[EG_NAME_MAX] = '\0';
    eg_label label;
    CHECK_OK(eg_label_parse(longest, &label, &err), &err);
    CHECK(strcmp(eg_label_name(label), longest) == 0);
    longest[EG_NAME_MAX] = 'L', longest[EG_NAME_MAX + 1] = '\0';
    const char *bad[] = {longest, "", "9lives", "has space", "dash-ed", "semi;colon", "`quoted`", "Ünïcode", NULL};
    for (int i = 0; i < 9; i++) {
        eg_rel_type type = EG_REL_USES;
        CHECK_STATUS(eg_label_parse(bad[i], &label, &err), EG_INVALID_ARGUMENT, &err);
        CHECK_STATUS(eg_rel_type_parse(bad[i], &type, &err), EG_INVALID_ARGUMENT, &err);
        CHECK(strstr(err.message, "1 to 64 letters, digits or _") != NULL);
        CHECK(type == EG_REL_USES);
    }
    eg_graph_schema schema;
    CHECK_OK(eg_graph_schema_parse("open", &schema, &err), &err);
    CHECK(schema == EG_SCHEMA_OPEN);
    CHECK_STATUS(eg_graph_schema_parse("Open", &schema, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "t4dm or open") != NULL);
}

/* A name first written by a batch that fails is not kept: its code goes with the rolled-back write, and later
 * names read back right. */
TEST(a_name_from_a_failed_batch_is_rolled_back_with_it) {
    eg_db *db = open_with_schema(test_data_dir(), "open");
    REQUIRE(db);
    eg_graph *g = eg_db_graph(db);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "taken", NULL, &err), &err);
    json_t *different = json_pack("{s:i}", "x", 1);
    /* The store gives Ephemeral a code for e1, then refuses "taken" (other content): the batch is undone. */
    eg_node_spec specs[] = {{label_of("Ephemeral"), "e1", NULL}, {EG_LABEL_ENTITY, "taken", different}};
    CHECK_STATUS(eg_graph_batch_create_nodes(g, specs, 2, &err), EG_CONFLICT, &err);
    json_decref(different);
    CHECK_OK(eg_graph_create_node(g, label_of("Kept"), "k1", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(g, label_of("Ephemeral"), "e3", NULL, &err), &err);
    eg_node n;
    CHECK_OK(eg_graph_get_node(g, "k1", EG_LABEL_ANY, &n, &err), &err);
    CHECK(strcmp(eg_label_name(n.label), "Kept") == 0);
    eg_node_clear(&n);
    CHECK_OK(eg_graph_get_node(g, "e3", EG_LABEL_ANY, &n, &err), &err);
    CHECK(strcmp(eg_label_name(n.label), "Ephemeral") == 0);
    eg_node_clear(&n);
    CHECK_STATUS(eg_graph_get_node(g, "e1", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    eg_close(db);
}

/* One byte per label in the store's records: 256 labels, the 3 fixed ones included. */
TEST(a_store_holds_at_most_256_labels) {
    eg_db *db = open_with_schema(test_data_dir(), "open");
    REQUIRE(db);
    eg_graph *g = eg_db_graph(db);
    char name[32], id[32];
    for (int i = EG_LABEL_COUNT; i < EG_STORE_NAMES_MAX; i++) {
        snprintf(name, sizeof name, "Label%d", i);
        snprintf(id, sizeof id, "n%d", i);
        CHECK_OK(eg_graph_create_node(g, label_of(name), id, NULL, &err), &err);
    }
    char *before = test_graph_snapshot(db);
    CHECK_STATUS(eg_graph_create_node(g, label_of("OneTooMany"), "extra", NULL, &err), EG_CONFLICT, &err);
    CHECK(strstr(err.message, "256") && strstr(err.message, "OneTooMany"));
    CHECK_OK(eg_graph_create_node(g, label_of("Label100"), "again", NULL, &err), &err);
    uint64_t count;
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &count, &err), &err);
    CHECK(count == EG_STORE_NAMES_MAX - EG_LABEL_COUNT + 1);
    char *after = test_graph_snapshot(db);
    CHECK(strstr(after, "OneTooMany") == NULL && strstr(before, "\"extra\"") == NULL);
    free(before);
    free(after);
    eg_close(db);
}

int main(void) {
    RUN(open_schema_takes_any_identifier_through_every_operation);
    RUN(names_survive_a_process_whose_codes_differ);
    RUN(t4dm_refuses_open_names_and_still_reads_what_is_there);
    RUN(exec_follows_the_schema);
    RUN(names_are_plain_identifiers_of_at_most_64_characters);
    RUN(a_name_from_a_failed_batch_is_rolled_back_with_it);
    RUN(a_store_holds_at_most_256_labels);
    return test_summary();
}
