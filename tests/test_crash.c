/* test_crash.c — nothing acknowledged is lost when the process is killed: a child writes nodes, relationships,
 * updates and deletes, reporting each acknowledged write on a pipe; the parent SIGKILLs it at varying moments,
 * reopens the folder, and checks that every acknowledged write is there, whole, and that the store is
 * consistent (counts equal what is listed; each relationship is seen from both ends). */
#include "test.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static eg_error err;

/* Each write is acknowledged after it returned EG_OK. A delete is also announced before it starts: killed between
 * the two, the delete may or may not have committed, and the check must accept both. */
enum { ACK_NODE = 1, ACK_REL = 2, ACK_UPDATE = 3, ACK_DELETE = 4, INTENT_DELETE = 5 };

typedef struct ack {
    int kind;
    int a, b;
} ack;

/* The child: an endless stream of writes, each acknowledged after it returned EG_OK. */
static void writer(const char *dir, int fd) {
    eg_db *db;
    eg_error e;
    if (eg_open(dir, NULL, &db, &e) != EG_OK) _exit(3); /* default options: fsync at every commit */
    eg_graph *g = eg_db_graph(db);
    char id[32], other[32];
    for (int i = 0;; i++) {
        snprintf(id, sizeof id, "n%d", i);
        json_t *p = json_pack("{s:i, s:s}", "seq", i, "text", "some memory text that makes records non-trivial");
        eg_status st = eg_graph_create_node(g, (eg_label)(i % 3), id, p, &e);
        json_decref(p);
        if (st != EG_OK) _exit(4);
        ack a = {ACK_NODE, i, 0};
        if (write(fd, &a, sizeof a) != sizeof a) _exit(5);
        if (i > 0) {
            snprintf(other, sizeof other, "n%d", i - 1);
            if (eg_graph_create_relationship(g, other, id, EG_REL_TEMPORAL_BEFORE, NULL, &e) != EG_OK) _exit(4);
            ack r = {ACK_REL, i - 1, i};
            if (write(fd, &r, sizeof r) != sizeof r) _exit(5);
        }
        if (i % 5 == 4) {
            snprintf(other, sizeof other, "n%d", i - 2);
            json_t *u = json_pack("{s:b}", "updated", 1);
            if (eg_graph_update_node(g, other, u, EG_LABEL_ANY, &e) != EG_OK) _exit(4);
            json_decref(u);
            ack r = {ACK_UPDATE, i - 2, 0};
            if (write(fd, &r, sizeof r) != sizeof r) _exit(5);
        }
        if (i % 7 == 6) {
            snprintf(other, sizeof other, "n%d", i - 6);
            ack intent = {INTENT_DELETE, i - 6, 0};
            if (write(fd, &intent, sizeof intent) != sizeof intent) _exit(5);
            if (eg_graph_delete_node(g, other, EG_LABEL_ANY, &e) != EG_OK) _exit(4);
            ack r = {ACK_DELETE, i - 6, 0};
            if (write(fd, &r, sizeof r) != sizeof r) _exit(5);
        }
    }
}

#define MAX_NODES 100000
static unsigned char created[MAX_NODES], updated[MAX_NODES], deleted[MAX_NODES], linked[MAX_NODES],
    maybe_deleted[MAX_NODES];

static void check_consistent(eg_graph *g) {
    uint64_t nodes = 0, rels_out = 0, counted_nodes, counted_rels;
    char cursor[EG_ID_MAX + 1] = "";
    for (;;) {
        eg_node_list page;
        REQUIRE(eg_graph_list_nodes(g, EG_LABEL_ANY, cursor[0] ? cursor : NULL, 1000, &page, &err) == EG_OK);
        for (size_t i = 0; i < page.count; i++) {
            eg_relationship_list out, in;
            CHECK_OK(eg_graph_get_relationships(g, page.items[i].id, EG_REL_ANY, EG_DIR_OUT, &out, &err), &err);
            for (size_t j = 0; j < out.count; j++) {
                CHECK_OK(eg_graph_get_relationships(g, out.items[j].target_id, EG_REL_ANY, EG_DIR_IN, &in, &err),
                         &err);
                bool mirrored = false;
                for (size_t k = 0; k < in.count; k++) mirrored |= strcmp(in.items[k].source_id, page.items[i].id) == 0;
                CHECK(mirrored);
                eg_relationship_list_free(&in);
            }
            rels_out += out.count;
            eg_relationship_list_free(&out);
        }
        nodes += page.count;
        bool more = page.count == 1000;
        if (more) memcpy(cursor, page.items[page.count - 1].id, sizeof cursor);
        eg_node_list_free(&page);
        if (!more) break;
    }
    CHECK_OK(eg_graph_count_nodes(g, EG_LABEL_ANY, &counted_nodes, &err), &err);
    CHECK_OK(eg_graph_count_relationships(g, &counted_rels, &err), &err);
    CHECK(nodes == counted_nodes);
    CHECK(rels_out == counted_rels);
}

static void one_kill(int delay_ms) {
    const char *dir = test_scratch_dir();
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(fds[0]);
        writer(dir, fds[1]);
    }
    close(fds[1]);
    /* The delay counts from the first acknowledgement, so that a slow start (a loaded machine, sanitizers)
     * never turns the test into killing a process that has written nothing. */
    ack first;
    bool started = read(fds[0], &first, sizeof first) == sizeof first;
    struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status)); /* it was still writing when killed */
    memset(created, 0, sizeof created), memset(updated, 0, sizeof updated);
    memset(deleted, 0, sizeof deleted), memset(linked, 0, sizeof linked);
    memset(maybe_deleted, 0, sizeof maybe_deleted);
    ack a = first;
    int acks = 0;
    for (bool have = started; have; have = read(fds[0], &a, sizeof a) == sizeof a) {
        acks++;
        if (a.a < 0 || a.a >= MAX_NODES) continue;
        if (a.kind == ACK_NODE) created[a.a] = 1;
        if (a.kind == ACK_UPDATE) updated[a.a] = 1;
        if (a.kind == ACK_DELETE) deleted[a.a] = 1;
        if (a.kind == INTENT_DELETE) maybe_deleted[a.a] = 1;
        if (a.kind == ACK_REL) linked[a.a] = 1; /* a.a -> a.a + 1 */
    }
    close(fds[0]);
    CHECK(acks > 0);
    printf("  killed after %d ms and %d acknowledged writes\n", delay_ms, acks);
    eg_db *db;
    REQUIRE(eg_open(dir, NULL, &db, &err) == EG_OK);
    eg_graph *g = eg_db_graph(db);
    char id[32], next[32];
    for (int i = 0; i < MAX_NODES && created[i]; i++) {
        snprintf(id, sizeof id, "n%d", i);
        eg_node n;
        eg_status st = eg_graph_get_node(g, id, EG_LABEL_ANY, &n, &err);
        if (deleted[i]) {
            CHECK(st == EG_NOT_FOUND);
            continue;
        }
        if (maybe_deleted[i] && st == EG_NOT_FOUND) continue;
        CHECK(st == EG_OK);
        if (st != EG_OK) continue;
        CHECK(json_integer_value(json_object_get(n.properties, "seq")) == i);
        if (updated[i]) CHECK(json_is_true(json_object_get(n.properties, "updated")));
        eg_node_clear(&n);
        if (linked[i] && !maybe_deleted[i + 1]) {
            snprintf(next, sizeof next, "n%d", i + 1);
            eg_relationship_list out;
            CHECK_OK(eg_graph_get_relationships(g, id, EG_REL_TEMPORAL_BEFORE, EG_DIR_OUT, &out, &err), &err);
            CHECK(out.count == 1 && strcmp(out.items[0].target_id, next) == 0);
            eg_relationship_list_free(&out);
        }
    }
    check_consistent(g);
    eg_close(db);
}

TEST(acknowledged_writes_survive_sigkill) {
    int delays[] = {30, 80, 150, 260, 400};
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) one_kill(delays[i]);
}

int main(void) {
    RUN(acknowledged_writes_survive_sigkill);
    return test_summary();
}
