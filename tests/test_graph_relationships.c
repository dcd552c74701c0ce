/* test_graph_relationships.c — relationships: create-or-merge, typed properties, reads by direction and type,
 * batches, delete; Hebbian strengthen / weaken; elapsed-time, idempotent decay with pruning of stale edges only. */
#include "test.h"
#include "util/clock.h"

#include <math.h>

static eg_graph *g;
static eg_error err;

static void node(const char *id, const char *session) {
    json_t *p = session ? json_pack("{s:s}", "sessionId", session) : NULL;
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, id, p, &err), &err);
    json_decref(p);
}

/* The properties of the one relationship source -[type]-> target (new reference), or NULL. */
static json_t *rel_props(const char *source, const char *target, eg_rel_type type) {
    eg_relationship_list l;
    json_t *found = NULL;
    if (eg_graph_get_relationships(g, source, type, EG_DIR_OUT, &l, &err) != EG_OK) return NULL;
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.items[i].target_id, target) == 0) found = json_incref(l.items[i].properties);
    eg_relationship_list_free(&l);
    return found;
}

static double weight_of(const char *source, const char *target, eg_rel_type type) {
    json_t *p = rel_props(source, target, type);
    double w = p && json_object_get(p, "weight") ? json_number_value(json_object_get(p, "weight")) : NAN;
    json_decref(p);
    return w;
}

TEST(create_sets_last_accessed_and_merges_on_repeat) {
    node("a", NULL), node("b", NULL);
    int64_t before = eg_now_ms();
    json_t *p = json_pack("{s:s, s:f}", "note", "first", "weight", 0.3);
    CHECK_OK(eg_graph_create_relationship(g, "a", "b", EG_REL_USES, p, &err), &err);
    json_t *stored = rel_props("a", "b", EG_REL_USES);
    REQUIRE(stored);
    CHECK(json_integer_value(json_object_get(stored, "lastAccessed")) >= before);
    CHECK(fabs(json_number_value(json_object_get(stored, "weight")) - 0.3) < 1e-12);
    CHECK(strcmp(json_string_value(json_object_get(stored, "note")), "first") == 0);
    json_decref(stored);
    json_t *q = json_pack("{s:s, s:n}", "extra", "x", "note");
    CHECK_OK(eg_graph_create_relationship(g, "a", "b", EG_REL_USES, q, &err), &err);
    uint64_t count;
    CHECK_OK(eg_graph_count_relationships(g, &count, &err), &err);
    CHECK(count == 1);
    stored = rel_props("a", "b", EG_REL_USES);
    REQUIRE(stored);
    CHECK(json_object_get(stored, "note") == NULL);
    CHECK(json_object_get(stored, "extra") != NULL);
    CHECK(fabs(json_number_value(json_object_get(stored, "weight")) - 0.3) < 1e-12);
    json_decref(stored), json_decref(p), json_decref(q);
    /* another type between the same nodes is another relationship */
    CHECK_OK(eg_graph_create_relationship(g, "a", "b", EG_REL_CAUSES, NULL, &err), &err);
    CHECK_OK(eg_graph_count_relationships(g, &count, &err), &err);
    CHECK(count == 2);
}

TEST(missing_ends_are_reported_by_role) {
    CHECK_STATUS(eg_graph_create_relationship(g, "ghost", "a", EG_REL_USES, NULL, &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "source node 'ghost'") != NULL);
    CHECK_STATUS(eg_graph_create_relationship(g, "a", "ghost", EG_REL_USES, NULL, &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "target node 'ghost'") != NULL);
}

TEST(get_relationships_by_direction_and_type) {
    node("hub", NULL), node("x1", NULL), node("x2", NULL), node("x3", NULL);
    CHECK_OK(eg_graph_create_relationship(g, "hub", "x1", EG_REL_PART_OF, NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "hub", "x2", EG_REL_USES, NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "x3", "hub", EG_REL_USES, NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "hub", "hub", EG_REL_SIMILAR_TO, NULL, &err), &err);
    struct {
        eg_rel_type type;
        eg_direction dir;
        size_t expected;
    } cases[] = {{EG_REL_ANY, EG_DIR_OUT, 3}, {EG_REL_ANY, EG_DIR_IN, 2},  {EG_REL_ANY, EG_DIR_BOTH, 4},
                 {EG_REL_USES, EG_DIR_BOTH, 2}, {EG_REL_USES, EG_DIR_IN, 1}, {EG_REL_CAUSES, EG_DIR_BOTH, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_relationship_list l;
        CHECK_OK(eg_graph_get_relationships(g, "hub", cases[i].type, cases[i].dir, &l, &err), &err);
        CHECK(l.count == cases[i].expected);
        eg_relationship_list_free(&l);
    }
    const char *ids[3] = {"hub", "x3", "missing"};
    eg_relationship_list lists[3];
    CHECK_OK(eg_graph_get_relationships_batch(g, ids, 3, EG_REL_USES, EG_DIR_OUT, lists, &err), &err);
    CHECK(lists[0].count == 1 && lists[1].count == 1 && lists[2].count == 0);
    CHECK(strcmp(lists[1].items[0].target_id, "hub") == 0);
    for (int i = 0; i < 3; i++) eg_relationship_list_free(&lists[i]);
    eg_relationship_list l;
    CHECK_STATUS(eg_graph_get_relationships(g, "missing", EG_REL_ANY, EG_DIR_BOTH, &l, &err), EG_NOT_FOUND, &err);
}

TEST(batch_relationships_all_or_nothing_and_delete) {
    node("p1", NULL), node("p2", NULL);
    uint64_t before, after;
    CHECK_OK(eg_graph_count_relationships(g, &before, &err), &err);
    eg_relationship_spec specs[3] = {{"p1", "p2", EG_REL_REQUIRES, NULL},
                                     {"p2", "p1", EG_REL_REQUIRES, NULL},
                                     {"p1", "nope", EG_REL_REQUIRES, NULL}};
    CHECK_STATUS(eg_graph_batch_create_relationships(g, specs, 3, &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "relationships[2]") != NULL);
    CHECK_OK(eg_graph_count_relationships(g, &after, &err), &err);
    CHECK(after == before);
    CHECK_OK(eg_graph_batch_create_relationships(g, specs, 2, &err), &err);
    CHECK_OK(eg_graph_count_relationships(g, &after, &err), &err);
    CHECK(after == before + 2);
    CHECK_OK(eg_graph_delete_relationship(g, "p1", "p2", EG_REL_REQUIRES, &err), &err);
    CHECK_STATUS(eg_graph_delete_relationship(g, "p1", "p2", EG_REL_REQUIRES, &err), EG_NOT_FOUND, &err);
    CHECK_OK(eg_graph_count_relationships(g, &after, &err), &err);
    CHECK(after == before + 1);
    eg_relationship_list l;
    CHECK_OK(eg_graph_get_relationships(g, "p1", EG_REL_ANY, EG_DIR_BOTH, &l, &err), &err);
    CHECK(l.count == 1 && strcmp(l.items[0].source_id, "p2") == 0);
    eg_relationship_list_free(&l);
}

TEST(strengthen_follows_the_hebbian_rule_and_scopes_by_type) {
    node("h1", NULL), node("h2", NULL);
    CHECK_OK(eg_graph_create_relationship(g, "h1", "h2", EG_REL_RELATES_TO, NULL, &err), &err);
    CHECK_OK(eg_graph_create_relationship(g, "h1", "h2", EG_REL_USES, NULL, &err), &err);
    json_t *old = rel_props("h1", "h2", EG_REL_RELATES_TO);
    json_int_t created_at = json_integer_value(json_object_get(old, "lastAccessed"));
    json_decref(old);
    double w;
    CHECK_OK(eg_graph_strengthen_relationship(g, "h1", "h2", EG_REL_RELATES_TO, 0.1, &w, &err), &err);
    CHECK(fabs(w - 0.19) < 1e-12); /* missing weight counts as 0.1: 0.1 + 0.1 * 0.9 */
    CHECK_OK(eg_graph_strengthen_relationship(g, "h2", "h1", EG_REL_RELATES_TO, 0.5, &w, &err), &err); /* reverse */
    CHECK(fabs(w - (0.19 + 0.5 * 0.81)) < 1e-12);
    json_t *p = rel_props("h1", "h2", EG_REL_RELATES_TO);
    CHECK(json_integer_value(json_object_get(p, "coAccessCount")) == 2);
    CHECK(json_integer_value(json_object_get(p, "lastAccessed")) >= created_at);
    json_decref(p);
    CHECK(isnan(weight_of("h1", "h2", EG_REL_USES))); /* the other type was not touched */
    CHECK_OK(eg_graph_weaken_relationship(g, "h1", "h2", EG_REL_RELATES_TO, 0.5, &w, &err), &err);
    CHECK(fabs(w - (0.19 + 0.5 * 0.81) * 0.5) < 1e-12);
    CHECK_OK(eg_graph_strengthen_relationship(g, "h1", "h2", EG_REL_ANY, 0.1, &w, &err), &err);
    CHECK(fabs(weight_of("h1", "h2", EG_REL_USES) - 0.19) < 1e-12);
    CHECK_STATUS(eg_graph_strengthen_relationship(g, "h1", "a", EG_REL_ANY, 0.1, &w, &err), EG_NOT_FOUND, &err);
}

static void stale_edge(const char *s, const char *t, double days_ago, double weight) {
    json_t *p = json_pack("{s:I, s:f}", "lastAccessed", (json_int_t)(eg_now_ms() - days_ago * EG_MS_PER_DAY),
                          "weight", weight);
    CHECK_OK(eg_graph_create_relationship(g, s, t, EG_REL_RELATES_TO, p, &err), &err);
    json_decref(p);
}

TEST(decay_is_elapsed_time_based_idempotent_and_prunes_only_stale_edges) {
    eg_db *db = test_open_fresh();
    eg_graph *saved = g;
    g = eg_db_graph(db);
    node("s1", "alpha"), node("s2", "alpha"), node("s3", "beta"), node("s4", NULL);
    stale_edge("s1", "s2", 40.5, 0.5);   /* 10 whole days past the 30-day cutoff */
    stale_edge("s2", "s1", 40.5, 0.011); /* falls under 0.01 after decay: pruned */
    stale_edge("s3", "s4", 35.5, 0.5);   /* other session */
    stale_edge("s4", "s3", 1, 0.001);    /* fresh but tiny: never pruned */
    uint64_t n;
    CHECK_OK(eg_graph_count_stale_relationships(g, 30, NULL, &n, &err), &err);
    CHECK(n == 3);
    CHECK_OK(eg_graph_count_stale_relationships(g, 30, "alpha", &n, &err), &err);
    CHECK(n == 2);
    eg_decay_result r;
    CHECK_OK(eg_graph_batch_decay_relationships(g, 30, 0.01, 0.01, "alpha", &r, &err), &err);
    CHECK(r.decayed == 2 && r.pruned == 1);
    CHECK(fabs(weight_of("s1", "s2", EG_REL_RELATES_TO) - 0.5 * pow(0.99, 10)) < 1e-9);
    CHECK(isnan(weight_of("s2", "s1", EG_REL_RELATES_TO)));                      /* gone */
    CHECK(fabs(weight_of("s3", "s4", EG_REL_RELATES_TO) - 0.5) < 1e-12);         /* other session untouched */
    CHECK_OK(eg_graph_batch_decay_relationships(g, 30, 0.01, 0.01, "alpha", &r, &err), &err);
    CHECK(r.decayed == 0 && r.pruned == 0); /* idempotent */
    CHECK(fabs(weight_of("s1", "s2", EG_REL_RELATES_TO) - 0.5 * pow(0.99, 10)) < 1e-9);
    CHECK_OK(eg_graph_batch_decay_relationships(g, 30, 0.01, 0.01, NULL, &r, &err), &err);
    CHECK(r.decayed == 1 && r.pruned == 0);
    CHECK(fabs(weight_of("s3", "s4", EG_REL_RELATES_TO) - 0.5 * pow(0.99, 5)) < 1e-9);
    CHECK(fabs(weight_of("s4", "s3", EG_REL_RELATES_TO) - 0.001) < 1e-12);
    /* strengthening resets the clock: the edge is no longer stale */
    CHECK_OK(eg_graph_strengthen_relationship(g, "s1", "s2", EG_REL_RELATES_TO, 0.1, NULL, &err), &err);
    CHECK_OK(eg_graph_count_stale_relationships(g, 30, "alpha", &n, &err), &err);
    CHECK(n == 0);
    CHECK_OK(eg_graph_count_relationships(g, &n, &err), &err);
    CHECK(n == 3);
    g = saved;
    eg_close(db);
}

int main(void) {
    eg_db *db = test_open_fresh();
    g = eg_db_graph(db);
    RUN(create_sets_last_accessed_and_merges_on_repeat);
    RUN(missing_ends_are_reported_by_role);
    RUN(get_relationships_by_direction_and_type);
    RUN(batch_relationships_all_or_nothing_and_delete);
    RUN(strengthen_follows_the_hebbian_rule_and_scopes_by_type);
    RUN(decay_is_elapsed_time_based_idempotent_and_prunes_only_stale_edges);
    eg_close(db);
    return test_summary();
}
