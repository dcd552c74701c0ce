/* quickstart.c — the smallest complete engram program: open a data folder, create two memories (an entity, and
 * an episode related to it: each a vector point and a graph node with the same id), recall the episode with its
 * graph neighbours, close. Uses only the public headers.
 * usage: quickstart DATA_DIR */
#include <engram/engram.h>

#include <stdio.h>
#include <stdlib.h>

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
    float alice_vector[4] = {0.1f, 0.9f, 0.0f, 0.2f}, meeting_vector[4] = {0.9f, 0.1f, 0.0f, 0.3f};
    json_t *alice = json_pack("{s:s}", "name", "Alice");
    json_t *meeting = json_pack("{s:s}", "text", "Alice presented the roadmap");
    eg_memory_relationship about_alice = {"1", EG_REL_RELATES_TO, NULL};
    eg_memory_spec entity = {.type = EG_MEMORY_ENTITY, .id = "1", .vector = alice_vector, .dim = 4,
                             .properties = alice};
    eg_memory_spec episode = {.type = EG_MEMORY_EPISODE, .id = "2", .vector = meeting_vector, .dim = 4,
                              .payload = meeting, .session_id = "s1", .relationships = &about_alice,
                              .relationship_count = 1};
    eg_recall_request recall = {.type = EG_MEMORY_EPISODE, .vector = meeting_vector, .dim = 4, .limit = 1,
                                .expand = 1};
    json_t *found = NULL;
    int rc = 1;
    if (eg_memory_create(db, &entity, NULL, &err) == EG_OK && eg_memory_create(db, &episode, NULL, &err) == EG_OK &&
        eg_memory_recall(db, &recall, &found, &err) == EG_OK) {
        json_t *hit = json_array_get(json_object_get(found, "memories"), 0);
        json_t *neighbour = json_array_get(json_object_get(hit, "neighbors"), 0);
        printf("recalled %s (score %.2f) with neighbour %s\n", json_string_value(json_object_get(hit, "id")),
               json_real_value(json_object_get(hit, "score")),
               json_string_value(json_object_get(neighbour, "id")));
        json_decref(found);
        rc = 0;
    } else {
        fprintf(stderr, "error: %s (%s)\n", err.message, eg_status_name(err.code));
    }
    json_decref(alice);
    json_decref(meeting);
    eg_close(db);
    return rc;
}
