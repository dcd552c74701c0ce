/* test_exec.c — every graph operation through the JSON interface, with the result shapes docs/operations.md
 * promises: a scripted session whose each response is compared with the expected JSON (timestamps, which vary,
 * are checked for presence and removed before comparing). */
#include "test.h"

static eg_db *db;

/* Removes every "lastAccessed" key, recursively, after checking it is an integer. */
static void drop_timestamps(json_t *v) {
    if (json_is_object(v)) {
        json_t *t = json_object_get(v, "lastAccessed");
        if (t) {
            CHECK(json_is_integer(t) && json_integer_value(t) > 0);
            json_object_del(v, "lastAccessed");
        }
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child) drop_timestamps(child);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) drop_timestamps(child);
    }
}

/* Runs request and checks the response equals {"ok":true,"result":<expected>} (expected as JSON text). */
static void expect(const char *request, const char *expected) {
    json_t *response = test_exec(db, request);
    json_error_t jerr;
    json_t *want = json_loads(expected, JSON_DECODE_ANY, &jerr);
    if (!want) {
        fprintf(stderr, "  bad expectation %s: %s\n", expected, jerr.text);
        test_failures_in_current++;
        json_decref(response);
        return;
    }
    json_t *result = json_object_get(response, "result");
    drop_timestamps(result);
    if (!json_is_true(json_object_get(response, "ok")) || !json_equal(result, want)) {
        char *got = json_dumps(response, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "  %s\n    expected result %s\n    got %s\n", request, expected, got);
        free(got);
        test_failures_in_current++;
    }
    json_decref(want);
    json_decref(response);
}

TEST(nodes) {
    expect("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"alice\",\"properties\":{\"name\":\"Alice\"}}",
           "{\"id\":\"alice\"}");
    expect("{\"op\":\"batch_create_nodes\",\"nodes\":[{\"label\":\"Episode\",\"id\":\"ep1\",\"properties\":"
           "{\"sessionId\":\"s1\"}},{\"label\":\"Procedure\",\"id\":\"pr1\"},{\"label\":\"Entity\",\"id\":\"bob\"}]}",
           "{\"created\":3}");
    expect("{\"op\":\"get_node\",\"id\":\"alice\"}",
           "{\"id\":\"alice\",\"label\":\"Entity\",\"properties\":{\"name\":\"Alice\"}}");
    expect("{\"op\":\"update_node\",\"id\":\"alice\",\"properties\":{\"age\":41,\"name\":null}}", "{\"id\":\"alice\"}");
    expect("{\"op\":\"update_property\",\"id\":\"alice\",\"property_name\":\"city\",\"property_value\":\"Lyon\"}",
           "{\"id\":\"alice\"}");
    expect("{\"op\":\"get_node\",\"id\":\"alice\",\"label\":\"Entity\"}",
           "{\"id\":\"alice\",\"label\":\"Entity\",\"properties\":{\"age\":41,\"city\":\"Lyon\"}}");
    expect("{\"op\":\"count_nodes\"}", "4");
    expect("{\"op\":\"count_nodes\",\"label\":\"Entity\"}", "2");
    expect("{\"op\":\"list_nodes\",\"label\":\"Entity\",\"limit\":1}",
           "{\"nodes\":[{\"id\":\"alice\",\"label\":\"Entity\",\"properties\":{\"age\":41,\"city\":\"Lyon\"}}],"
           "\"next_cursor\":\"alice\"}");
    expect("{\"op\":\"list_nodes\",\"label\":\"Entity\",\"cursor\":\"alice\",\"limit\":1}",
           "{\"nodes\":[{\"id\":\"bob\",\"label\":\"Entity\",\"properties\":{}}],\"next_cursor\":\"bob\"}");
    expect("{\"op\":\"list_nodes\",\"label\":\"Entity\",\"cursor\":\"bob\"}", "{\"nodes\":[],\"next_cursor\":null}");
}

TEST(relationships) {
    expect("{\"op\":\"create_relationship\",\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\","
           "\"properties\":{\"role\":\"speaker\"}}",
           "{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\"}");
    expect("{\"op\":\"batch_create_relationships\",\"relationships\":[{\"source_id\":\"ep1\",\"target_id\":\"bob\","
           "\"type\":\"RELATES_TO\"},{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\",\"properties\":"
           "{\"weight\":0.5}}]}",
           "{\"written\":2}");
    expect("{\"op\":\"get_relationships\",\"id\":\"bob\",\"direction\":\"out\"}",
           "[{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\",\"properties\":{\"weight\":0.5}}]");
    expect("{\"op\":\"get_relationships\",\"id\":\"alice\",\"type\":\"RELATES_TO\",\"direction\":\"in\"}",
           "[{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\",\"properties\":{\"role\":"
           "\"speaker\"}}]");
    expect("{\"op\":\"get_relationships_batch\",\"ids\":[\"alice\",\"pr1\"],\"direction\":\"in\"}",
           "{\"alice\":[{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\",\"properties\":"
           "{\"role\":\"speaker\"}}],\"pr1\":[{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\","
           "\"properties\":{\"weight\":0.5}}]}");
    expect("{\"op\":\"count_relationships\"}", "3");
    expect("{\"op\":\"get_nodes\",\"ids\":[\"pr1\",\"ghost\",\"bob\"]}",
           "[{\"id\":\"pr1\",\"label\":\"Procedure\",\"properties\":{}},{\"id\":\"bob\",\"label\":\"Entity\","
           "\"properties\":{}}]");
    expect("{\"op\":\"strengthen_relationship\",\"source_id\":\"bob\",\"target_id\":\"pr1\",\"learning_rate\":0.5}",
           "{\"weight\":0.75}");
    expect("{\"op\":\"weaken_relationship\",\"source_id\":\"pr1\",\"target_id\":\"bob\",\"type\":\"USES\",\"rate\":0.5}",
           "{\"weight\":0.375}");
    expect("{\"op\":\"count_stale_relationships\"}", "0");
    expect("{\"op\":\"batch_decay_relationships\",\"session_id\":\"s1\"}", "{\"decayed\":0,\"pruned\":0}");
    expect("{\"op\":\"stats\"}",
           "{\"nodes\":4,\"nodes_by_label\":{\"Episode\":1,\"Entity\":2,\"Procedure\":1},\"relationships\":3}");
}

TEST(paths_and_deletes) {
    expect("{\"op\":\"find_path\",\"source_id\":\"alice\",\"target_id\":\"pr1\",\"max_depth\":3}",
           "{\"length\":3,\"nodes\":[{\"id\":\"alice\",\"label\":\"Entity\"},{\"id\":\"ep1\",\"label\":\"Episode\"},"
           "{\"id\":\"bob\",\"label\":\"Entity\"},{\"id\":\"pr1\",\"label\":\"Procedure\"}],\"relationships\":["
           "{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\",\"properties\":{\"role\":"
           "\"speaker\"}},{\"source_id\":\"ep1\",\"target_id\":\"bob\",\"type\":\"RELATES_TO\",\"properties\":{}},"
           "{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\",\"properties\":{\"weight\":0.375,"
           "\"coAccessCount\":1}}]}");
    expect("{\"op\":\"find_path\",\"source_id\":\"alice\",\"target_id\":\"pr1\",\"max_depth\":2}", "null");
    expect("{\"op\":\"find_path\",\"source_id\":\"alice\",\"target_id\":\"pr1\",\"types\":[\"RELATES_TO\"]}", "null");
    expect("{\"op\":\"delete_relationship\",\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\"}",
           "{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\"}");
    expect("{\"op\":\"delete_node\",\"id\":\"ep1\",\"label\":\"Episode\"}", "{\"id\":\"ep1\"}");
    expect("{\"op\":\"count_relationships\"}", "0");
    expect("{\"op\":\"count_nodes\"}", "3");
}

/* A parser's message about malformed JSON quotes the bad bytes; when they are not UTF-8 the answer must still be
 * JSON (with '?' for them), never a NULL that `engram exec` took for running out of memory. */
TEST(malformed_json_quoting_bytes_that_are_not_utf8_is_answered) {
    static const char line[] = "{\"op\":\"create_no\\\xcb\xa3\",\"label\":\"Entity\"}";
    char *response = eg_exec_json(db, line, sizeof line - 1);
    REQUIRE(response);
    json_error_t jerr;
    json_t *parsed = json_loads(response, 0, &jerr);
    CHECK(parsed && json_is_false(json_object_get(parsed, "ok")));
    const char *message = json_string_value(json_object_get(json_object_get(parsed, "error"), "message"));
    CHECK(message && strstr(message, "?"));
    json_decref(parsed);
    free(response);
}

int main(void) {
    db = test_open_fresh();
    RUN(nodes);
    RUN(relationships);
    RUN(paths_and_deletes);
    RUN(malformed_json_quoting_bytes_that_are_not_utf8_is_answered);
    eg_close(db);
    return test_summary();
}
