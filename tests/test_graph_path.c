/* test_graph_path.c — find_path against a reference: on random graphs, every answer of the store is checked
 * against a plain breadth-first search over an in-memory copy (length equal to the true distance within
 * max_depth, none beyond it), and every returned path is checked to be a real chain of stored relationships. */
#include "test.h"

#define NODES 300
#define EDGES 450

static eg_error err;
static int edge_src[EDGES], edge_dst[EDGES], edge_type[EDGES];
static int edge_count;

static void node_id(int n, char *out) { snprintf(out, 16, "v%d", n); }

static bool in_set(eg_rel_type_set types, int type) {
    if (types.count == 0) return true;
    for (size_t i = 0; i < types.count; i++)
        if ((int)types.types[i] == type) return true;
    return false;
}

/* Undirected distance from s to t over edges whose type is in `types` (none: all); -1 when unreachable. */
static int reference_distance(int s, int t, eg_rel_type_set types) {
    int dist[NODES], queue[NODES], head = 0, tail = 0;
    for (int i = 0; i < NODES; i++) dist[i] = -1;
    dist[s] = 0;
    queue[tail++] = s;
    while (head < tail) {
        int v = queue[head++];
        if (v == t) return dist[v];
        for (int e = 0; e < edge_count; e++) {
            if (!in_set(types, edge_type[e])) continue;
            int other = edge_src[e] == v ? edge_dst[e] : edge_dst[e] == v ? edge_src[e] : -1;
            if (other >= 0 && dist[other] < 0) {
                dist[other] = dist[v] + 1;
                queue[tail++] = other;
            }
        }
    }
    return -1;
}

static bool edge_exists(const char *s, const char *t, eg_rel_type type) {
    int a, b;
    if (sscanf(s, "v%d", &a) != 1 || sscanf(t, "v%d", &b) != 1) return false;
    for (int e = 0; e < edge_count; e++)
        if (edge_src[e] == a && edge_dst[e] == b && edge_type[e] == (int)type) return true;
    return false;
}

static void check_path_shape(const eg_path *p, const char *s, const char *t, eg_rel_type_set types) {
    CHECK(p->relationship_count + 1 == p->node_count);
    CHECK(strcmp(p->nodes[0].id, s) == 0);
    CHECK(strcmp(p->nodes[p->node_count - 1].id, t) == 0);
    for (size_t i = 0; i < p->relationship_count; i++) {
        const eg_relationship *r = &p->relationships[i];
        const char *a = p->nodes[i].id, *b = p->nodes[i + 1].id;
        bool joins = (strcmp(r->source_id, a) == 0 && strcmp(r->target_id, b) == 0) ||
                     (strcmp(r->source_id, b) == 0 && strcmp(r->target_id, a) == 0);
        CHECK(joins);
        CHECK(edge_exists(r->source_id, r->target_id, r->type));
        CHECK(in_set(types, (int)r->type));
        CHECK(json_object_get(r->properties, "lastAccessed") != NULL);
    }
}

TEST(random_graphs_match_reference_bfs) {
    eg_db *db = test_open_fresh();
    eg_graph *g = eg_db_graph(db);
    srand(7);
    char a[16], b[16];
    for (int n = 0; n < NODES; n++) {
        node_id(n, a);
        CHECK_OK(eg_graph_create_node(g, (eg_label)(n % 3), a, NULL, &err), &err);
    }
    while (edge_count < EDGES) {
        int s = rand() % NODES, t = rand() % NODES, type = rand() % 3;
        bool dup = false;
        for (int e = 0; e < edge_count; e++) dup |= edge_src[e] == s && edge_dst[e] == t && edge_type[e] == type;
        if (dup) continue;
        node_id(s, a), node_id(t, b);
        CHECK_OK(eg_graph_create_relationship(g, a, b, (eg_rel_type)type, NULL, &err), &err);
        edge_src[edge_count] = s, edge_dst[edge_count] = t, edge_type[edge_count++] = type;
    }
    int found = 0, checked = 0;
    const eg_rel_type two_types[] = {(eg_rel_type)0, (eg_rel_type)2};
    eg_rel_type_set type_sets[] = {EG_REL_TYPES_ALL, {two_types, 2}};
    for (int q = 0; q < 400; q++) {
        int s = rand() % NODES, t = rand() % NODES, depth = 1 + rand() % 10;
        eg_rel_type_set types = type_sets[q % 2];
        node_id(s, a), node_id(t, b);
        eg_path p;
        CHECK_OK(eg_graph_find_path(g, a, b, depth, types, &p, &err), &err);
        int expected = reference_distance(s, t, types);
        if (expected >= 0 && expected <= depth) {
            CHECK(p.node_count == (size_t)expected + 1);
            if (p.node_count == (size_t)expected + 1) check_path_shape(&p, a, b, types);
            found++;
        } else {
            CHECK(p.node_count == 0);
        }
        checked++;
        eg_path_clear(&p);
    }
    CHECK(found > 50 && found < checked); /* the sample exercises both outcomes */
    eg_close(db);
}

TEST(same_node_missing_ends_and_isolated_nodes) {
    eg_db *db = test_open_fresh();
    eg_graph *g = eg_db_graph(db);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "solo", NULL, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "other", NULL, &err), &err);
    eg_path p;
    CHECK_OK(eg_graph_find_path(g, "solo", "solo", 3, EG_REL_TYPES_ALL, &p, &err), &err);
    CHECK(p.node_count == 1 && p.relationship_count == 0);
    eg_path_clear(&p);
    CHECK_OK(eg_graph_find_path(g, "solo", "other", 10, EG_REL_TYPES_ALL, &p, &err), &err);
    CHECK(p.node_count == 0);
    CHECK_STATUS(eg_graph_find_path(g, "solo", "ghost", 3, EG_REL_TYPES_ALL, &p, &err), EG_NOT_FOUND, &err);
    CHECK(strstr(err.message, "ghost") != NULL);
    eg_close(db);
}

TEST(long_chain_respects_max_depth_exactly) {
    eg_db *db = test_open_fresh();
    eg_graph *g = eg_db_graph(db);
    char a[16], b[16];
    for (int n = 0; n <= 10; n++) {
        node_id(n, a);
        CHECK_OK(eg_graph_create_node(g, EG_LABEL_EPISODE, a, NULL, &err), &err);
        if (n > 0) {
            node_id(n - 1, b);
            /* alternate directions: find_path ignores them */
            CHECK_OK(eg_graph_create_relationship(g, n % 2 ? a : b, n % 2 ? b : a, EG_REL_TEMPORAL_BEFORE, NULL, &err),
                     &err);
        }
    }
    eg_path p;
    CHECK_OK(eg_graph_find_path(g, "v0", "v10", 10, EG_REL_TYPES_ALL, &p, &err), &err);
    CHECK(p.relationship_count == 10);
    eg_path_clear(&p);
    CHECK_OK(eg_graph_find_path(g, "v0", "v10", 9, EG_REL_TYPES_ALL, &p, &err), &err);
    CHECK(p.node_count == 0);
    const eg_rel_type uses = EG_REL_USES;
    CHECK_OK(eg_graph_find_path(g, "v0", "v10", 10, (eg_rel_type_set){&uses, 1}, &p, &err), &err);
    CHECK(p.node_count == 0);
    eg_close(db);
}

int main(void) {
    RUN(random_graphs_match_reference_bfs);
    RUN(same_node_missing_ends_and_isolated_nodes);
    RUN(long_chain_respects_max_depth_exactly);
    return test_summary();
}
