/* quickstart.c — the smallest complete engram program: open a data folder, create two memories and a
 * relationship between them, find the path, close. Uses only the public headers.
 * usage: quickstart DATA_DIR */
#include <engram/engram.h>

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    eg_db *db;
    eg_error err;
    if (eg_open(argv[1], NULL, &db, &err) != EG_OK) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    eg_graph *g = eg_db_graph(db);
    json_t *alice = json_pack("{s:s}", "name", "Alice");
    json_t *meeting = json_pack("{s:s, s:s}", "summary", "Alice presented the roadmap", "sessionId", "s1");
    eg_path path;
    int rc = 1;
    if (eg_graph_create_node(g, EG_LABEL_ENTITY, "alice", alice, &err) == EG_OK &&
        eg_graph_create_node(g, EG_LABEL_EPISODE, "ep-1", meeting, &err) == EG_OK &&
        eg_graph_create_relationship(g, "ep-1", "alice", EG_REL_RELATES_TO, NULL, &err) == EG_OK &&
        eg_graph_find_path(g, "alice", "ep-1", 3, 0, &path, &err) == EG_OK) {
        printf("path of %zu relationship(s):", path.relationship_count);
        for (size_t i = 0; i < path.node_count; i++)
            printf(" %s(%s)", path.nodes[i].id, eg_label_name(path.nodes[i].label));
        printf("\n");
        eg_path_clear(&path);
        rc = 0;
    } else {
        fprintf(stderr, "error: %s (%s)\n", err.message, eg_status_name(err.code));
    }
    json_decref(alice);
    json_decref(meeting);
    eg_close(db);
    return rc;
}
