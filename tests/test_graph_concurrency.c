/* test_graph_concurrency.c — many threads on one open store: writers creating nodes and relationships while
 * readers look nodes up, expand neighbourhoods and search paths. Every write must land exactly once, every
 * read must see a consistent snapshot (a relationship is only visible with both of its ends), and the counts
 * must agree at the end. */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define WRITERS 4
#define READERS 4
#define PER_WRITER 400

static eg_graph *g;
static atomic_bool writers_done;

static void *write_chain(void *arg) {
    int w = (int)(intptr_t)arg;
    eg_error err;
    char id[32], prev[32];
    for (int i = 0; i < PER_WRITER; i++) {
        snprintf(id, sizeof id, "w%d-%d", w, i);
        if (eg_graph_create_node(g, EG_LABEL_ENTITY, id, NULL, &err) != EG_OK) return (void *)1;
        if (i > 0) {
            snprintf(prev, sizeof prev, "w%d-%d", w, i - 1);
            if (eg_graph_create_relationship(g, prev, id, EG_REL_RELATES_TO, NULL, &err) != EG_OK) return (void *)1;
        }
        if (i > 0 && w > 0) { /* cross links make the chains one graph */
            snprintf(prev, sizeof prev, "w%d-%d", w - 1, i - 1);
            eg_status st = eg_graph_create_relationship(g, id, prev, EG_REL_SIMILAR_TO, NULL, &err);
            if (st != EG_OK && st != EG_NOT_FOUND) return (void *)1; /* the other chain may lag behind */
        }
    }
    return NULL;
}

static void *read_loop(void *arg) {
    unsigned seed = (unsigned)(intptr_t)arg;
    eg_error err;
    char id[32], other[32];
    long bad = 0;
    while (!atomic_load(&writers_done)) {
        snprintf(id, sizeof id, "w%d-%d", rand_r(&seed) % WRITERS, rand_r(&seed) % PER_WRITER);
        eg_node n;
        eg_status st = eg_graph_get_node(g, id, EG_LABEL_ANY, &n, &err);
        if (st == EG_OK) eg_node_clear(&n);
        else if (st != EG_NOT_FOUND) bad++;
        eg_relationship_list l;
        st = eg_graph_get_relationships(g, id, EG_REL_ANY, EG_DIR_BOTH, &l, &err);
        if (st == EG_OK) eg_relationship_list_free(&l);
        else if (st != EG_NOT_FOUND) bad++; /* e.g. an adjacency entry without its relationship */
        snprintf(other, sizeof other, "w%d-%d", rand_r(&seed) % WRITERS, rand_r(&seed) % PER_WRITER);
        eg_path p;
        st = eg_graph_find_path(g, id, other, 4, EG_REL_TYPES_ALL, &p, &err);
        if (st == EG_OK) eg_path_clear(&p);
        else if (st != EG_NOT_FOUND) bad++;
    }
    return (void *)(intptr_t)bad;
}

TEST(writers_and_readers_at_once) {
    eg_db *db = test_open_fresh();
    g = eg_db_graph(db);
    pthread_t w[WRITERS], r[READERS];
    for (int i = 0; i < READERS; i++) pthread_create(&r[i], NULL, read_loop, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < WRITERS; i++) pthread_create(&w[i], NULL, write_chain, (void *)(intptr_t)i);
    for (int i = 0; i < WRITERS; i++) {
        void *rc;
        pthread_join(w[i], &rc);
        CHECK(rc == NULL);
    }
    atomic_store(&writers_done, true);
    for (int i = 0; i < READERS; i++) {
        void *bad;
        pthread_join(r[i], &bad);
        CHECK(bad == NULL);
    }
    eg_error err;
    uint64_t nodes, rels;
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &nodes, &err), &err);
    CHECK_OK(eg_graph_count_relationships(g, &rels, &err), &err);
    CHECK(nodes == WRITERS * PER_WRITER);
    CHECK(rels >= WRITERS * (PER_WRITER - 1));
    eg_path p;
    const eg_rel_type relates_to = EG_REL_RELATES_TO;
    CHECK_OK(eg_graph_find_path(g, "w0-0", "w0-9", 10, (eg_rel_type_set){&relates_to, 1}, &p, &err), &err);
    CHECK(p.relationship_count == 9);
    eg_path_clear(&p);
    eg_close(db);
}

int main(void) {
    RUN(writers_and_readers_at_once);
    return test_summary();
}
