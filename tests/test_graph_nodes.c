/* test_graph_nodes.c — node semantics of the graph store: create (idempotent), get, merge updates, property
 * round trips without type guessing, delete with relationships, batches, listing with cursors, counts. */
#include "test.h"

static eg_graph *g;
static eg_error err;

TEST(create_and_get_round_trips_every_json_type) {
    json_t *props = json_pack("{s:s, s:s, s:s, s:i, s:f, s:b, s:[i,i], s:{s:s}}", "name", "Alice", "looks_like_list",
                              "[1,2]", "looks_like_date", "20250101T000000", "age", 41, "score", 0.5, "active", 1,
                              "list", 1, 2, "nested", "k", "v");
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "alice", props, &err), &err);
    eg_node n;
    CHECK_OK(eg_graph_get_node(g, "alice", EG_LABEL_ANY, &n, &err), &err);
    CHECK(n.label == EG_LABEL_ENTITY);
    CHECK(strcmp(n.id, "alice") == 0);
    CHECK(json_equal(n.properties, props));
    CHECK(json_is_string(json_object_get(n.properties, "looks_like_list")));
    CHECK(json_is_string(json_object_get(n.properties, "looks_like_date")));
    eg_node_clear(&n);
    json_decref(props);
}

TEST(create_is_idempotent_for_identical_content_and_conflicts_otherwise) {
    json_t *p1 = json_pack("{s:s}", "name", "Bob"), *p2 = json_pack("{s:s}", "name", "Robert");
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "bob", p1, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "bob", p1, &err), &err);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_ENTITY, "bob", p2, &err), EG_CONFLICT, &err);
    CHECK_STATUS(eg_graph_create_node(g, EG_LABEL_EPISODE, "bob", p1, &err), EG_CONFLICT, &err);
    CHECK(strstr(err.message, "bob") != NULL);
    eg_node n;
    CHECK_OK(eg_graph_get_node(g, "bob", EG_LABEL_ANY, &n, &err), &err);
    CHECK(json_equal(n.properties, p1));
    eg_node_clear(&n);
    json_decref(p1);
    json_decref(p2);
}

TEST(ids_are_unique_across_labels_and_label_filter_applies) {
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_PROCEDURE, "proc-1", NULL, &err), &err);
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(g, "proc-1", EG_LABEL_EPISODE, &n, &err), EG_NOT_FOUND, &err);
    CHECK_OK(eg_graph_get_node(g, "proc-1", EG_LABEL_PROCEDURE, &n, &err), &err);
    CHECK(json_object_size(n.properties) == 0);
    eg_node_clear(&n);
    CHECK_STATUS(eg_graph_get_node(g, "nobody", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "nobody") != NULL);
}

TEST(get_nodes_reads_a_batch_in_the_order_asked_and_skips_missing) {
    const char *ids[] = {"proc-1", "nobody", "bob", "alice"};
    eg_node_list list;
    CHECK_OK(eg_graph_get_nodes(g, ids, 4, &list, &err), &err);
    REQUIRE(list.count == 3);
    CHECK(strcmp(list.items[0].id, "proc-1") == 0 && list.items[0].label == EG_LABEL_PROCEDURE);
    CHECK(strcmp(list.items[1].id, "bob") == 0 && json_object_get(list.items[1].properties, "name"));
    CHECK(strcmp(list.items[2].id, "alice") == 0);
    eg_node_list_free(&list);
    CHECK_OK(eg_graph_get_nodes(g, NULL, 0, &list, &err), &err);
    CHECK(list.count == 0);
    eg_node_list_free(&list);
    const char *bad[] = {"bob", "../x"};
    CHECK_STATUS(eg_graph_get_nodes(g, bad, 2, &list, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "ids[1]") != NULL);
}

TEST(update_merges_and_null_removes) {
    json_t *p = json_pack("{s:s, s:i}", "name", "Carol", "age", 30);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "carol", p, &err), &err);
    json_t *u = json_pack("{s:i, s:n, s:s}", "age", 31, "name", "id", "carol");
    CHECK_OK(eg_graph_update_node(g, "carol", u, EG_LABEL_ANY, &err), &err);
    json_t *v = json_pack("{s:s}", "city", "Lyon");
    CHECK_OK(eg_graph_update_property(g, "carol", "city", json_object_get(v, "city"), &err), &err);
    eg_node n;
    CHECK_OK(eg_graph_get_node(g, "carol", EG_LABEL_ANY, &n, &err), &err);
    json_t *expected = json_pack("{s:i, s:s}", "age", 31, "city", "Lyon");
    CHECK(json_equal(n.properties, expected));
    eg_node_clear(&n);
    CHECK_STATUS(eg_graph_update_node(g, "nobody", v, EG_LABEL_ANY, &err), EG_NOT_FOUND, &err);
    CHECK_STATUS(eg_graph_update_node(g, "carol", v, EG_LABEL_EPISODE, &err), EG_NOT_FOUND, &err);
    json_decref(p), json_decref(u), json_decref(v), json_decref(expected);
}

TEST(delete_removes_node_and_its_relationships) {
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "d1", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "d2", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "d3", NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "d1", "d2", EG_REL_USES, NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "d3", "d1", EG_REL_CAUSES, NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "d1", "d1", EG_REL_SIMILAR_TO, NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "d2", "d3", EG_REL_USES, NULL, &err), &err);
    uint64_t before, after;
    CHECK_OK(eg_graph_count_relationships(g, &before, &err), &err);
    CHECK_STATUS(eg_graph_delete_node(g, "d1", EG_LABEL_EPISODE, &err), EG_NOT_FOUND, &err);
    CHECK_OK(eg_graph_delete_node(g, "d1", EG_LABEL_ANY, &err), &err);
    CHECK_OK(eg_graph_count_relationships(g, &after, &err), &err);
    CHECK(before - after == 3);
    eg_relationship_list l;
    CHECK_OK(eg_graph_get_relationships(g, "d2", EG_REL_ANY, EG_DIR_BOTH, &l, &err), &err);
    CHECK(l.count == 1 && strcmp(l.items[0].target_id, "d3") == 0);
    eg_relationship_list_free(&l);
    CHECK_STATUS(eg_graph_delete_node(g, "d1", EG_LABEL_ANY, &err), EG_NOT_FOUND, &err);
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(g, "d1", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    /* the id can be used again */
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_EPISODE, "d1", NULL, &err), &err);
}

TEST(batch_create_nodes_is_all_or_nothing) {
    eg_node_spec specs[3] = {{EG_LABEL_EPISODE, "b1", NULL}, {EG_LABEL_EPISODE, "b2", NULL}, {EG_LABEL_ENTITY, "bob", NULL}};
    uint64_t before, after;
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &before, &err), &err);
    CHECK_STATUS(eg_graph_batch_create_nodes(g, specs, 3, &err), EG_CONFLICT, &err); /* bob exists otherwise */
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &after, &err), &err);
    CHECK(before == after);
    CHECK_OK(eg_graph_batch_create_nodes(g, specs, 2, &err), &err);
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &after, &err), &err);
    CHECK(after == before + 2);
}

TEST(list_nodes_pages_in_id_order_per_label) {
    eg_db *db = test_open_fresh();
    eg_graph *lg = eg_db_graph(db);
    char id[32];
    for (int i = 0; i < 250; i++) {
        snprintf(id, sizeof id, "ep-%03d", i);
        CHECK_OK(eg_graph_create_node(lg, EG_LABEL_EPISODE, id, NULL, &err), &err);
        snprintf(id, sizeof id, "en-%03d", i);
        if (i < 10) CHECK_OK(eg_graph_create_node(lg, EG_LABEL_ENTITY, id, NULL, &err), &err);
    }
    size_t seen = 0;
    char cursor[EG_ID_MAX + 1] = "";
    for (;;) {
        eg_node_list page;
        CHECK_OK(eg_graph_list_nodes(lg, EG_LABEL_EPISODE, cursor[0] ? cursor : NULL, 100, &page, &err), &err);
        for (size_t i = 0; i < page.count; i++, seen++) {
            snprintf(id, sizeof id, "ep-%03zu", seen);
            CHECK(strcmp(page.items[i].id, id) == 0);
            CHECK(page.items[i].label == EG_LABEL_EPISODE);
        }
        bool more = page.count == 100;
        if (page.count) memcpy(cursor, page.items[page.count - 1].id, sizeof cursor);
        eg_node_list_free(&page);
        if (!more) break;
    }
    CHECK(seen == 250);
    uint64_t n;
    CHECK_OK(eg_graph_count_nodes(lg, EG_LABEL_EPISODE, &n, &err), &err);
    CHECK(n == 250);
    CHECK_OK(eg_graph_count_nodes(lg, EG_LABEL_ENTITY, &n, &err), &err);
    CHECK(n == 10);
    CHECK_OK(eg_graph_count_nodes(lg, EG_LABEL_ANY, &n, &err), &err);
    CHECK(n == 260);
    eg_node_list all;
    CHECK_OK(eg_graph_list_nodes(lg, EG_LABEL_ANY, "en-005", 3, &all, &err), &err);
    CHECK(all.count == 3 && strcmp(all.items[0].id, "en-006") == 0);
    eg_node_list_free(&all);
    eg_close(db);
}

TEST(data_survives_close_and_reopen) {
    const char *dir = test_scratch_dir();
    eg_db *db;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    json_t *p = json_pack("{s:s}", "k", "v");
    CHECK_OK(eg_graph_create_node(eg_db_graph(db), EG_LABEL_ENTITY, "kept", p, &err), &err);
    eg_close(db);
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    eg_node n;
    CHECK_OK(eg_graph_get_node(eg_db_graph(db), "kept", EG_LABEL_ENTITY, &n, &err), &err);
    CHECK(json_equal(n.properties, p));
    eg_node_clear(&n);
    eg_close(db);
    json_decref(p);
}

int main(void) {
    eg_db *db = test_open_fresh();
    g = eg_db_graph(db);
    RUN(create_and_get_round_trips_every_json_type);
    RUN(create_is_idempotent_for_identical_content_and_conflicts_otherwise);
    RUN(ids_are_unique_across_labels_and_label_filter_applies);
    RUN(get_nodes_reads_a_batch_in_the_order_asked_and_skips_missing);
    RUN(update_merges_and_null_removes);
    RUN(delete_removes_node_and_its_relationships);
    RUN(batch_create_nodes_is_all_or_nothing);
    RUN(list_nodes_pages_in_id_order_per_label);
    RUN(data_survives_close_and_reopen);
    eg_close(db);
    return test_summary();
}
