/* test_graph_find_nodes.c — eg_graph_find_nodes: nodes holding a text in their string properties, ignoring case.
 * Its semantics (which properties, lists, labels, id prefix, paging, case folding beyond ASCII), its bad
 * arguments, and its agreement with a plain evaluation of every node (list_nodes, then fold and compare) on random
 * data and queries full of the characters its pre-filter must not be fooled by, before and after reopening. */
#define _GNU_SOURCE /* memmem */
#include "test.h"
#include "util/text_search.h"

#include <stdlib.h>
#include <string.h>

static eg_error err;

static void add(eg_graph *g, eg_label label, const char *id, json_t *props) {
    CHECK_OK(eg_graph_create_node(g, label, id, props, &err), &err);
    json_decref(props);
}

/* The ids find_nodes gives, comma separated, paging by `limit`. */
static char *found_ids(eg_graph *g, eg_label label, const char *text, const char *const *properties,
                       size_t property_count, const char *prefix, size_t limit) {
    eg_node_text_filter f = {text, strlen(text), properties, property_count, prefix};
    char *ids = calloc(1, 1);
    size_t len = 0;
    char cursor[EG_ID_MAX + 1] = "";
    for (;;) {
        eg_node_list page;
        eg_status st = eg_graph_find_nodes(g, label, &f, cursor[0] ? cursor : NULL, limit, &page, &err);
        CHECK_OK(st, &err);
        if (st) break;
        for (size_t i = 0; i < page.count; i++) {
            size_t n = strlen(page.items[i].id);
            ids = realloc(ids, len + n + 2);
            if (len) ids[len++] = ',';
            memcpy(ids + len, page.items[i].id, n + 1);
            len += n;
        }
        bool more = page.count == limit;
        if (page.count) snprintf(cursor, sizeof cursor, "%s", page.items[page.count - 1].id);
        eg_node_list_free(&page);
        if (!more) break;
    }
    return ids;
}

#define EXPECT_FOUND(expected, ...)                                                                                  \
    do {                                                                                                             \
        char *got_ = found_ids(__VA_ARGS__);                                                                         \
        if (strcmp(got_, expected) != 0) fprintf(stderr, "  want [%s], got [%s]\n", expected, got_);               \
        CHECK(strcmp(got_, expected) == 0);                                                                          \
        free(got_);                                                                                                  \
    } while (0)

TEST(finds_the_text_in_the_properties_named_ignoring_case) {
    eg_db *db = test_open_fresh();
    eg_graph *g = eg_db_graph(db);
    add(g, EG_LABEL_ENTITY, "a", json_pack("{s:s, s:[s,s], s:i}", "name", "Alice Smith", "notes", "likes TEA",
                                           "works at Acme", "age", 41));
    add(g, EG_LABEL_ENTITY, "b", json_pack("{s:s, s:s}", "name", "Bob", "city", "Smithfield"));
    add(g, EG_LABEL_EPISODE, "c", json_pack("{s:s, s:{s:s}}", "name", "smith episode", "nested", "x", "tea"));
    add(g, EG_LABEL_ENTITY, "d", NULL);
    const char *name[] = {"name"}, *notes[] = {"notes"}, *both[] = {"name", "notes"}, *absent[] = {"nothing"};
    EXPECT_FOUND("a,b,c", g, EG_LABEL_ANY, "SMITH", NULL, 0, NULL, 100); /* every property */
    EXPECT_FOUND("a,c", g, EG_LABEL_ANY, "smith", name, 1, NULL, 100);
    EXPECT_FOUND("a", g, EG_LABEL_ENTITY, "sMiTh", name, 1, NULL, 100);
    EXPECT_FOUND("a", g, EG_LABEL_ANY, "tea", notes, 1, NULL, 100);          /* a string of a list */
    EXPECT_FOUND("a", g, EG_LABEL_ANY, "tea", NULL, 0, NULL, 100);           /* nested objects are not looked in */
    EXPECT_FOUND("a", g, EG_LABEL_ANY, "acme", both, 2, NULL, 100);
    EXPECT_FOUND("", g, EG_LABEL_ANY, "41", NULL, 0, NULL, 100);             /* numbers are not text */
    EXPECT_FOUND("", g, EG_LABEL_ANY, "smith", absent, 1, NULL, 100);
    EXPECT_FOUND("", g, EG_LABEL_ANY, "name", NULL, 0, NULL, 100);           /* keys are not text */
    EXPECT_FOUND("a,b,c", g, EG_LABEL_ANY, "", NULL, 0, NULL, 100);          /* empty: any node with a string */
    EXPECT_FOUND("", g, EG_LABEL_PROCEDURE, "", NULL, 0, NULL, 100);
    eg_close(db);
}

TEST(an_id_prefix_bounds_the_scan_and_pages_continue_after_the_cursor) {
    eg_db *db = test_open_fresh();
    eg_graph *g = eg_db_graph(db);
    const char *ids[] = {"k", "kf", "kg", "kg:a", "kg:b.20c", "kgh:00", "kh", "l"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) add(g, EG_LABEL_ENTITY, ids[i], json_pack("{s:s}", "t", "x"));
    add(g, EG_LABEL_EPISODE, "kg:episode", json_pack("{s:s}", "t", "x"));
    EXPECT_FOUND("kg,kg:a,kg:b.20c,kgh:00", g, EG_LABEL_ENTITY, "x", NULL, 0, "kg", 100);
    EXPECT_FOUND("kg,kg:a,kg:b.20c,kgh:00", g, EG_LABEL_ENTITY, "x", NULL, 0, "kg", 1);
    EXPECT_FOUND("kg,kg:a,kg:b.20c,kg:episode,kgh:00", g, EG_LABEL_ANY, "X", NULL, 0, "kg", 2);
    EXPECT_FOUND("kg:a,kg:b.20c", g, EG_LABEL_ENTITY, "x", NULL, 0, "kg:", 100);
    EXPECT_FOUND("", g, EG_LABEL_ENTITY, "x", NULL, 0, "zz", 100);
    /* A cursor before the prefix starts at the prefix; one within it continues after it. */
    eg_node_text_filter f = {"x", 1, NULL, 0, "kg"};
    eg_node_list page;
    CHECK_OK(eg_graph_find_nodes(g, EG_LABEL_ENTITY, &f, "a", 10, &page, &err), &err);
    CHECK(page.count == 4 && strcmp(page.items[0].id, "kg") == 0);
    eg_node_list_free(&page);
    CHECK_OK(eg_graph_find_nodes(g, EG_LABEL_ENTITY, &f, "kg:a", 10, &page, &err), &err);
    CHECK(page.count == 2 && strcmp(page.items[0].id, "kg:b.20c") == 0);
    eg_node_list_free(&page);
    eg_close(db);
}

TEST(case_folds_beyond_ascii) {
    eg_db *db = test_open_fresh();
    eg_graph *g = eg_db_graph(db);
    add(g, EG_LABEL_ENTITY, "accent", json_pack("{s:s}", "t", "\xc3\x89LAN vital"));              /* ÉLAN */
    add(g, EG_LABEL_ENTITY, "kelvin", json_pack("{s:s}", "t", "300 \xe2\x84\xaa"));             /* KELVIN SIGN */
    add(g, EG_LABEL_ENTITY, "dotted", json_pack("{s:s}", "t", "\xc4\xb0stanbul"));              /* İstanbul */
    add(g, EG_LABEL_ENTITY, "greek", json_pack("{s:s}", "t", "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91")); /* ΣΟΦΙΑ */
    add(g, EG_LABEL_ENTITY, "han", json_pack("{s:s}", "t", "\xe8\xae\xb0\xe5\xbf\x86 memory"));    /* 记忆 */
    add(g, EG_LABEL_ENTITY, "quote", json_pack("{s:s}", "t", "say \"hi\"\\back\nline"));
    EXPECT_FOUND("accent", g, EG_LABEL_ANY, "\xc3\xa9lan", NULL, 0, NULL, 100);
    EXPECT_FOUND("accent", g, EG_LABEL_ANY, "\xc3\x89lan V", NULL, 0, NULL, 100);
    EXPECT_FOUND("kelvin", g, EG_LABEL_ANY, "0 k", NULL, 0, NULL, 100);
    EXPECT_FOUND("dotted", g, EG_LABEL_ANY, "istan", NULL, 0, NULL, 100);
    EXPECT_FOUND("greek", g, EG_LABEL_ANY, "\xcf\x83\xce\xbf\xcf\x86", NULL, 0, NULL, 100);
    EXPECT_FOUND("han", g, EG_LABEL_ANY, "\xe5\xbf\x86 MEM", NULL, 0, NULL, 100);
    EXPECT_FOUND("quote", g, EG_LABEL_ANY, "\"HI\"\\", NULL, 0, NULL, 100);
    EXPECT_FOUND("quote", g, EG_LABEL_ANY, "back\nLINE", NULL, 0, NULL, 100);
    EXPECT_FOUND("", g, EG_LABEL_ANY, "back\\nline", NULL, 0, NULL, 100); /* the text, not its JSON escape */
    eg_close(db);
}

TEST(bad_arguments_are_refused_with_the_reason) {
    eg_db *db = test_open_fresh();
    eg_graph *g = eg_db_graph(db);
    eg_node_list page;
    eg_node_text_filter f = {"x", 1, NULL, 0, NULL};
    CHECK_STATUS(eg_graph_find_nodes(g, EG_LABEL_ANY, &f, NULL, 0, &page, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "limit") != NULL);
    CHECK_STATUS(eg_graph_find_nodes(g, EG_LABEL_ANY, &f, NULL, 10001, &page, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_graph_find_nodes(g, EG_LABEL_ANY, NULL, NULL, 10, &page, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_STATUS(eg_graph_find_nodes(g, EG_LABEL_ANY, &f, "../x", 10, &page, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "cursor") != NULL);
    eg_node_text_filter bad_prefix = {"x", 1, NULL, 0, "a b"};
    CHECK_STATUS(eg_graph_find_nodes(g, EG_LABEL_ANY, &bad_prefix, NULL, 10, &page, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "id_prefix") != NULL);
    const char *bad_name[] = {"ok", "no such\nname"};
    eg_node_text_filter bad_property = {"x", 1, bad_name, 2, NULL};
    CHECK_STATUS(eg_graph_find_nodes(g, EG_LABEL_ANY, &bad_property, NULL, 10, &page, &err), EG_INVALID_ARGUMENT,
                 &err);
    CHECK(strstr(err.message, "properties") != NULL);
    eg_node_text_filter no_text = {NULL, 3, NULL, 0, NULL};
    CHECK_STATUS(eg_graph_find_nodes(g, EG_LABEL_ANY, &no_text, NULL, 10, &page, &err), EG_INVALID_ARGUMENT, &err);
    eg_close(db);
}

/* ---- agreement with a plain evaluation on random data ---- */

static const char *const PIECES[] = {"a", "B", "i", "I", "k", "K", "\xe2\x84\xaa", "\xc4\xb0", "\xc3\xa9", "\xc3\x89",
                                     "\"", "\\", "\n", "\x01", "\xe6\x97\xa5", "x", " ", ".", "ab", "Ki"};
#define PIECE_COUNT (sizeof PIECES / sizeof PIECES[0])

static json_t *random_text(unsigned *seed, int max_pieces) {
    char buf[256] = "";
    int n = rand_r(seed) % (max_pieces + 1);
    for (int i = 0; i < n; i++) strcat(buf, PIECES[rand_r(seed) % PIECE_COUNT]);
    return json_string(buf);
}

static bool holds(json_t *value, const char *folded_query, size_t query_len) {
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) if (holds(item, folded_query, query_len)) return true;
        return false;
    }
    if (!json_is_string(value)) return false;
    size_t n;
    char *folded = eg_text_fold(json_string_value(value), json_string_length(value), &n);
    bool hit = memmem(folded, n, folded_query, query_len) != NULL;
    free(folded);
    return hit;
}

/* What find_nodes must answer, from every node listed and tested one by one. */
static char *expected_ids(eg_graph *g, const char *text, const char *const *properties, size_t property_count,
                          const char *prefix) {
    size_t qlen;
    char *folded_query = eg_text_fold(text, strlen(text), &qlen);
    eg_node_list all;
    CHECK_OK(eg_graph_list_nodes(g, EG_LABEL_ENTITY, NULL, 10000, &all, &err), &err);
    char *ids = calloc(1, 1);
    size_t len = 0;
    for (size_t i = 0; i < all.count; i++) {
        eg_node *node = &all.items[i];
        if (prefix && strncmp(node->id, prefix, strlen(prefix)) != 0) continue;
        bool hit = false;
        if (property_count == 0) {
            const char *key;
            json_t *value;
            json_object_foreach(node->properties, key, value) hit |= holds(value, folded_query, qlen);
        }
        for (size_t p = 0; p < property_count; p++)
            hit |= holds(json_object_get(node->properties, properties[p]), folded_query, qlen);
        if (!hit) continue;
        size_t n = strlen(node->id);
        ids = realloc(ids, len + n + 2);
        if (len) ids[len++] = ',';
        memcpy(ids + len, node->id, n + 1);
        len += n;
    }
    eg_node_list_free(&all);
    free(folded_query);
    return ids;
}

static void compare_random_queries(eg_graph *g, unsigned seed) {
    static const char *const name[] = {"name"}, *tags[] = {"tags"}, *two[] = {"name", "other"};
    static const char *const *const choices[] = {NULL, name, tags, two};
    static const size_t counts[] = {0, 1, 1, 2};
    static const char *const prefixes[] = {NULL, "n1", "n2", "n"};
    for (int q = 0; q < 300; q++) {
        json_t *text = random_text(&seed, 3);
        int c = rand_r(&seed) % 4;
        const char *prefix = prefixes[rand_r(&seed) % 4];
        size_t limit = 1 + (size_t)(rand_r(&seed) % 40);
        char *want = expected_ids(g, json_string_value(text), choices[c], counts[c], prefix);
        char *got = found_ids(g, EG_LABEL_ENTITY, json_string_value(text), choices[c], counts[c], prefix, limit);
        if (strcmp(want, got) != 0) {
            fprintf(stderr, "query %d %s (properties %d, prefix %s, limit %zu): want %s got %s\n", q,
                    json_string_value(text), c, prefix ? prefix : "-", limit, want, got);
            CHECK(false);
        }
        free(want);
        free(got);
        json_decref(text);
    }
}

TEST(agrees_with_a_plain_evaluation_on_random_data_before_and_after_reopen) {
    const char *dir = test_scratch_dir();
    eg_db *db;
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    unsigned seed = 20261208;
    for (int i = 0; i < 400; i++) {
        char id[16];
        snprintf(id, sizeof id, "n%d", i);
        json_t *tags = json_array();
        for (int t = rand_r(&seed) % 4; t > 0; t--) json_array_append_new(tags, random_text(&seed, 6));
        json_array_append_new(tags, json_integer(i));
        add(eg_db_graph(db), EG_LABEL_ENTITY, id,
            json_pack("{s:o, s:o, s:o, s:i}", "name", random_text(&seed, 8), "tags", tags, "other",
                      random_text(&seed, 4), "n", i));
    }
    add(eg_db_graph(db), EG_LABEL_EPISODE, "n1-episode", json_pack("{s:s}", "name", "a"));
    compare_random_queries(eg_db_graph(db), 7);
    eg_close(db);
    CHECK_OK(eg_open(dir, NULL, &db, &err), &err);
    compare_random_queries(eg_db_graph(db), 8);
    eg_close(db);
}

int main(void) {
    RUN(finds_the_text_in_the_properties_named_ignoring_case);
    RUN(an_id_prefix_bounds_the_scan_and_pages_continue_after_the_cursor);
    RUN(case_folds_beyond_ascii);
    RUN(bad_arguments_are_refused_with_the_reason);
    RUN(agrees_with_a_plain_evaluation_on_random_data_before_and_after_reopen);
    return test_summary();
}
