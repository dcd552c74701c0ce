/* test_mcp_tools.c — every MCP tool (src/mcp/tools_*.c) through eg_mcp_tool_named(...)->call over eg_exec on a
 * scratch folder: the reference memory server's nine with its answers, duplicate handling, cascades and errors
 * (names of every kind: emoji, spaces, slashes, dots, 500 characters), engram's own eight, a bad argument of each,
 * and `engram import-mcp-memory` (its bad lines, its idempotence). */
#include "mcp/kg_names.h"
#include "mcp/mcp.h"
#include "test.h"

#include <sys/wait.h>

static eg_db *db;

/* Calls tool with arguments (JSON text) and returns the result (the caller frees it). */
static eg_mcp_tool_result call(const char *tool, const char *arguments) {
    eg_mcp_backend backend = eg_mcp_local_backend(db);
    eg_mcp_tool_result out = {0};
    json_error_t jerr;
    json_t *args = json_loads(arguments, 0, &jerr);
    const eg_mcp_tool *t = eg_mcp_tool_named(tool);
    if (!args || !t) {
        fprintf(stderr, "  bad test call %s %s: %s\n", tool, arguments, jerr.text);
        test_failures_in_current++;
    } else if (!t->call(&backend, args, &out)) {
        fprintf(stderr, "  %s ran out of memory\n", tool);
        test_failures_in_current++;
    }
    json_decref(args);
    return out;
}

/* Sorts every array of v whose items are objects or strings by their compact text, recursively: the order of the
 * entities and relations the reference lists is its file's, which engram does not keep (docs/mcp.md). */
static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static json_t *sorted(json_t *v) {
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child) sorted(child);
    } else if (json_is_array(v)) {
        size_t n = json_array_size(v);
        char **texts = calloc(n ? n : 1, sizeof *texts);
        for (size_t i = 0; i < n; i++)
            texts[i] = json_dumps(sorted(json_array_get(v, i)), JSON_COMPACT | JSON_ENCODE_ANY);
        qsort(texts, n, sizeof *texts, by_text);
        json_array_clear(v);
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(v, json_loads(texts[i], JSON_DECODE_ANY, NULL));
            free(texts[i]);
        }
        free(texts);
    }
    return v;
}

/* Calls tool and checks it succeeded with structured content equal to expected (arrays compared as sets when
 * unordered). */
static void expect_call(const char *tool, const char *arguments, const char *expected, bool unordered) {
    eg_mcp_tool_result r = call(tool, arguments);
    json_t *want = json_loads(expected, 0, NULL);
    json_t *got = r.structured ? json_deep_copy(r.structured) : NULL;
    json_t *from_text = r.text ? json_loads(r.text, 0, NULL) : NULL;
    if (unordered) {
        sorted(want);
        sorted(got);
    }
    /* The text is the structured content's JSON, or as the reference writes it: the list alone for its create
     * tools and add_observations, the message for its delete tools. */
    const char *message = json_string_value(json_object_get(r.structured, "message"));
    json_t *list = json_object_size(r.structured) == 1 ? json_object_iter_value(json_object_iter(r.structured)) : NULL;
    bool text_ok = r.text && r.structured &&
                   ((from_text && json_equal(from_text, r.structured)) || (list && json_equal(from_text, list)) ||
                    (message && strcmp(message, r.text) == 0));
    if (r.is_error || !want || !got || !json_equal(got, want) || !text_ok) {
        char *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
        fprintf(stderr, "  %s %s\n    expected %s\n    got %s (%s)\n", tool, arguments, expected, g ? g : "-",
                r.text ? r.text : "no text");
        free(g);
        test_failures_in_current++;
    }
    json_decref(want);
    json_decref(got);
    json_decref(from_text);
    eg_mcp_tool_result_free(&r);
}

/* Calls tool and checks it is a tool failure whose message contains needle. */
static void expect_failure(const char *tool, const char *arguments, const char *needle) {
    eg_mcp_tool_result r = call(tool, arguments);
    if (!r.is_error || r.structured || !r.text || !strstr(r.text, needle)) {
        fprintf(stderr, "  %s %s\n    expected a failure with '%s', got %s%s\n", tool, arguments, needle,
                r.is_error ? "failure " : "success ", r.text ? r.text : "-");
        test_failures_in_current++;
    }
    eg_mcp_tool_result_free(&r);
}

static void fresh(void) {
    if (db) eg_close(db);
    db = test_open_fresh();
}

#define EMPTY_GRAPH "{\"entities\":[],\"relations\":[]}"

TEST(table) {
    size_t n;
    const eg_mcp_tool *tools = eg_mcp_tools(&n);
    static const char *const names[] = {"create_entities",
                                        "create_relations",
                                        "add_observations",
                                        "delete_entities",
                                        "delete_observations",
                                        "delete_relations",
                                        "read_graph",
                                        "search_nodes",
                                        "open_nodes",
                                        "remember",
                                        "recall",
                                        "forget",
                                        "relate",
                                        "find_path",
                                        "archive",
                                        "restore",
                                        "health"};
    REQUIRE(n == sizeof names / sizeof names[0]);
    for (size_t i = 0; i < n; i++) {
        CHECK(strcmp(tools[i].name, names[i]) == 0);
        CHECK(eg_mcp_tool_named(names[i]) == &tools[i]);
        CHECK(tools[i].title && tools[i].description && tools[i].call);
        json_t *in = json_loads(tools[i].input_schema, 0, NULL), *out = json_loads(tools[i].output_schema, 0, NULL);
        CHECK(in && json_is_object(json_object_get(in, "properties")));
        CHECK(out && json_is_object(json_object_get(out, "properties")));
        json_decref(in);
        json_decref(out);
    }
    CHECK(eg_mcp_tool_named("create_entity") == NULL);
    CHECK(tools[6].read_only && !tools[0].read_only && tools[3].destructive && tools[3].idempotent);
}

/* The text content is JSON.stringify(structured, null, 2), byte for byte. */
TEST(text_is_the_references) {
    fresh();
    eg_mcp_tool_result r = call(
        "create_entities", "{\"entities\":[{\"name\":\"A\\u0001\\\"/é\",\"entityType\":\"t\",\"observations\":[]}]}");
    CHECK(r.text && strcmp(r.text, "[\n  {\n    \"name\": \"A\\u0001\\\"/é\",\n    \"entityType\": \"t\",\n    "
                                   "\"observations\": []\n  }\n]") == 0);
    eg_mcp_tool_result_free(&r);
    r = call("delete_entities", "{\"entityNames\":[\"nobody\"]}");
    CHECK(r.text && strcmp(r.text, "Entities deleted successfully") == 0);
    eg_mcp_tool_result_free(&r);
    expect_call(
        "read_graph", "{}",
        "{\"entities\":[{\"name\":\"A\\u0001\\\"/é\",\"entityType\":\"t\",\"observations\":[]}],\"relations\":[]}",
        false);
}

TEST(entities_and_duplicates) {
    fresh();
    expect_call("read_graph", "{}", EMPTY_GRAPH, false);
    expect_call("create_entities",
                "{\"entities\":[{\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":[\"likes tea\"]},"
                "{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[]}]}",
                "{\"entities\":[{\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":[\"likes tea\"]},"
                "{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[]}]}",
                false);
    /* A name that exists is skipped, whatever its other fields; the answer lists the new ones only. */
    expect_call("create_entities",
                "{\"entities\":[{\"name\":\"Alice\",\"entityType\":\"robot\",\"observations\":[\"x\"]},"
                "{\"name\":\"Carol\",\"entityType\":\"person\",\"observations\":[\"a\",\"b\"]}],\"extra\":1}",
                "{\"entities\":[{\"name\":\"Carol\",\"entityType\":\"person\",\"observations\":[\"a\",\"b\"]}]}",
                false);
    expect_call("create_entities", "{\"entities\":[]}", "{\"entities\":[]}", false);
    expect_call("read_graph", "{}",
                "{\"entities\":[{\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":[\"likes tea\"]},"
                "{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[]},"
                "{\"name\":\"Carol\",\"entityType\":\"person\",\"observations\":[\"a\",\"b\"]}],\"relations\":[]}",
                true);
}

TEST(observations) {
    fresh();
    expect_call("create_entities",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"one\"]},"
                "{\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}]}",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"one\"]},"
                "{\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}]}",
                false);
    /* Those already there are not added again; a content twice in one item is (the reference filters before it
     * appends); a second item for the same entity sees the first's. */
    expect_call("add_observations",
                "{\"observations\":[{\"entityName\":\"A\",\"contents\":[\"one\",\"two\",\"two\"]},"
                "{\"entityName\":\"A\",\"contents\":[\"two\",\"three\"]},{\"entityName\":\"B\",\"contents\":[]}]}",
                "{\"results\":[{\"entityName\":\"A\",\"addedObservations\":[\"two\",\"two\"]},"
                "{\"entityName\":\"A\",\"addedObservations\":[\"three\"]},"
                "{\"entityName\":\"B\",\"addedObservations\":[]}]}",
                false);
    /* A missing entity fails the call with the reference's message, and nothing of it is written. */
    expect_failure("add_observations",
                   "{\"observations\":[{\"entityName\":\"B\",\"contents\":[\"new\"]},"
                   "{\"entityName\":\"Nobody 🙂\",\"contents\":[\"x\"]}]}",
                   "Entity with name Nobody 🙂 not found");
    eg_mcp_tool_result r = call("add_observations", "{\"observations\":[{\"entityName\":\"Z\",\"contents\":[]}]}");
    CHECK(r.is_error && r.text && strcmp(r.text, "Entity with name Z not found") == 0);
    eg_mcp_tool_result_free(&r);
    expect_call("open_nodes", "{\"names\":[\"A\",\"B\"]}",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"one\",\"two\",\"two\","
                "\"three\"]},{\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}],\"relations\":[]}",
                true);
    /* delete_observations removes every copy, ignores a missing entity and a missing observation. */
    expect_call("delete_observations",
                "{\"deletions\":[{\"entityName\":\"A\",\"observations\":[\"two\",\"nope\"]},"
                "{\"entityName\":\"Nobody\",\"observations\":[\"x\"]}]}",
                "{\"success\":true,\"message\":\"Observations deleted successfully\"}", false);
    expect_call("open_nodes", "{\"names\":[\"A\"]}",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"one\",\"three\"]}],"
                "\"relations\":[]}",
                false);
}

TEST(relations_free_text_and_cascade) {
    fresh();
    expect_call("create_entities",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[]},"
                "{\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}]}",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[]},"
                "{\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}]}",
                false);
    /* Two free-text types and engram's own types between one pair coexist; an exact duplicate is skipped. */
    expect_call("create_relations",
                "{\"relations\":[{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"knows\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"works with 🛠\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"RELATES_TO\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"USES\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"uses\"}]}",
                "{\"relations\":[{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"knows\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"works with 🛠\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"RELATES_TO\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"USES\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"uses\"}]}",
                false);
    expect_call("create_relations",
                "{\"relations\":[{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"knows\"},"
                "{\"from\":\"B\",\"to\":\"A\",\"relationType\":\"knows\"}]}",
                "{\"relations\":[{\"from\":\"B\",\"to\":\"A\",\"relationType\":\"knows\"}]}", false);
    json_t *r = test_exec(db, "{\"op\":\"get_relationships\",\"id\":\"kg:A\",\"direction\":\"out\"}");
    CHECK(json_array_size(json_object_get(r, "result")) == 2); /* RELATES_TO with four texts, USES */
    json_decref(r);
    /* A relation may name an entity that does not exist (as in the reference): read_graph shows the relation,
     * not an entity. */
    expect_call("create_relations", "{\"relations\":[{\"from\":\"A\",\"to\":\"Ghost\",\"relationType\":\"haunts\"}]}",
                "{\"relations\":[{\"from\":\"A\",\"to\":\"Ghost\",\"relationType\":\"haunts\"}]}", false);
    expect_call("search_nodes", "{\"query\":\"ghost\"}", EMPTY_GRAPH, false);
    expect_call("open_nodes", "{\"names\":[\"Ghost\"]}", EMPTY_GRAPH, false);
    expect_call("delete_relations",
                "{\"relations\":[{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"knows\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"USES\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"never\"},"
                "{\"from\":\"X\",\"to\":\"Y\",\"relationType\":\"never\"}]}",
                "{\"success\":true,\"message\":\"Relations deleted successfully\"}", false);
    expect_call("read_graph", "{}",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[]},"
                "{\"name\":\"B\",\"entityType\":\"t\",\"observations\":[]}],\"relations\":["
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"works with 🛠\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"RELATES_TO\"},"
                "{\"from\":\"A\",\"to\":\"B\",\"relationType\":\"uses\"},"
                "{\"from\":\"B\",\"to\":\"A\",\"relationType\":\"knows\"},"
                "{\"from\":\"A\",\"to\":\"Ghost\",\"relationType\":\"haunts\"}]}",
                true);
    /* Creating the entity a relation named fills its node in. */
    expect_call("create_entities",
                "{\"entities\":[{\"name\":\"Ghost\",\"entityType\":\"spirit\",\"observations\":[\"boo\"]}]}",
                "{\"entities\":[{\"name\":\"Ghost\",\"entityType\":\"spirit\",\"observations\":[\"boo\"]}]}", false);
    expect_call("open_nodes", "{\"names\":[\"Ghost\"]}",
                "{\"entities\":[{\"name\":\"Ghost\",\"entityType\":\"spirit\",\"observations\":[\"boo\"]}],"
                "\"relations\":[{\"from\":\"A\",\"to\":\"Ghost\",\"relationType\":\"haunts\"}]}",
                false);
    /* Deleting an entity deletes its relations, both ways; a relation's missing end goes with its last relation. */
    expect_call("create_relations", "{\"relations\":[{\"from\":\"B\",\"to\":\"Phantom\",\"relationType\":\"r\"}]}",
                "{\"relations\":[{\"from\":\"B\",\"to\":\"Phantom\",\"relationType\":\"r\"}]}", false);
    CHECK(test_has_node(db, "kg:Phantom"));
    expect_call("delete_entities", "{\"entityNames\":[\"B\",\"B\",\"Nobody\"]}",
                "{\"success\":true,\"message\":\"Entities deleted successfully\"}", false);
    CHECK(!test_has_node(db, "kg:Phantom"));
    expect_call("read_graph", "{}",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[]},"
                "{\"name\":\"Ghost\",\"entityType\":\"spirit\",\"observations\":[\"boo\"]}],\"relations\":["
                "{\"from\":\"A\",\"to\":\"Ghost\",\"relationType\":\"haunts\"}]}",
                true);
    /* Deleting a name that only relations held removes those relations. */
    expect_call("create_relations", "{\"relations\":[{\"from\":\"A\",\"to\":\"Wraith\",\"relationType\":\"r\"}]}",
                "{\"relations\":[{\"from\":\"A\",\"to\":\"Wraith\",\"relationType\":\"r\"}]}", false);
    expect_call("delete_entities", "{\"entityNames\":[\"Wraith\"]}",
                "{\"success\":true,\"message\":\"Entities deleted successfully\"}", false);
    expect_call("open_nodes", "{\"names\":[\"A\"]}",
                "{\"entities\":[{\"name\":\"A\",\"entityType\":\"t\",\"observations\":[]}],"
                "\"relations\":[{\"from\":\"A\",\"to\":\"Ghost\",\"relationType\":\"haunts\"}]}",
                false);
    /* delete_relations of the last relation to a missing end removes that end's node too. */
    expect_call("create_relations", "{\"relations\":[{\"from\":\"A\",\"to\":\"Spook\",\"relationType\":\"r\"}]}",
                "{\"relations\":[{\"from\":\"A\",\"to\":\"Spook\",\"relationType\":\"r\"}]}", false);
    expect_call("delete_relations", "{\"relations\":[{\"from\":\"A\",\"to\":\"Spook\",\"relationType\":\"r\"}]}",
                "{\"success\":true,\"message\":\"Relations deleted successfully\"}", false);
    CHECK(!test_has_node(db, "kg:Spook"));
}

TEST(search_and_open) {
    fresh();
    expect_call("create_entities",
                "{\"entities\":[{\"name\":\"ÄPFEL Inc\",\"entityType\":\"Company\",\"observations\":[\"sells fruit\"]},"
                "{\"name\":\"bob\",\"entityType\":\"person\",\"observations\":[\"Works at äpfel\"]},"
                "{\"name\":\"carol\",\"entityType\":\"person\",\"observations\":[]},"
                "{\"name\":\"dave\",\"entityType\":\"COMPANY man\",\"observations\":[]}]}",
                "{\"entities\":[{\"name\":\"ÄPFEL Inc\",\"entityType\":\"Company\",\"observations\":[\"sells fruit\"]},"
                "{\"name\":\"bob\",\"entityType\":\"person\",\"observations\":[\"Works at äpfel\"]},"
                "{\"name\":\"carol\",\"entityType\":\"person\",\"observations\":[]},"
                "{\"name\":\"dave\",\"entityType\":\"COMPANY man\",\"observations\":[]}]}",
                false);
    expect_call("create_relations",
                "{\"relations\":[{\"from\":\"bob\",\"to\":\"ÄPFEL Inc\",\"relationType\":\"works at\"},"
                "{\"from\":\"carol\",\"to\":\"bob\",\"relationType\":\"knows\"},"
                "{\"from\":\"carol\",\"to\":\"dave\",\"relationType\":\"knows\"}]}",
                "{\"relations\":[{\"from\":\"bob\",\"to\":\"ÄPFEL Inc\",\"relationType\":\"works at\"},"
                "{\"from\":\"carol\",\"to\":\"bob\",\"relationType\":\"knows\"},"
                "{\"from\":\"carol\",\"to\":\"dave\",\"relationType\":\"knows\"}]}",
                false);
    /* Case-insensitive over names, types and observations, non-ASCII letters too; relations with either end
     * found. */
    expect_call("search_nodes", "{\"query\":\"Äpfel\"}",
                "{\"entities\":[{\"name\":\"ÄPFEL Inc\",\"entityType\":\"Company\",\"observations\":[\"sells fruit\"]},"
                "{\"name\":\"bob\",\"entityType\":\"person\",\"observations\":[\"Works at äpfel\"]}],"
                "\"relations\":[{\"from\":\"bob\",\"to\":\"ÄPFEL Inc\",\"relationType\":\"works at\"},"
                "{\"from\":\"carol\",\"to\":\"bob\",\"relationType\":\"knows\"}]}",
                true);
    expect_call("search_nodes", "{\"query\":\"company\"}",
                "{\"entities\":[{\"name\":\"ÄPFEL Inc\",\"entityType\":\"Company\",\"observations\":[\"sells fruit\"]},"
                "{\"name\":\"dave\",\"entityType\":\"COMPANY man\",\"observations\":[]}],"
                "\"relations\":[{\"from\":\"bob\",\"to\":\"ÄPFEL Inc\",\"relationType\":\"works at\"},"
                "{\"from\":\"carol\",\"to\":\"dave\",\"relationType\":\"knows\"}]}",
                true);
    expect_call("search_nodes", "{\"query\":\"nothing like it\"}", EMPTY_GRAPH, false);
    expect_call("open_nodes", "{\"names\":[\"carol\",\"nobody\"]}",
                "{\"entities\":[{\"name\":\"carol\",\"entityType\":\"person\",\"observations\":[]}],"
                "\"relations\":[{\"from\":\"carol\",\"to\":\"bob\",\"relationType\":\"knows\"},"
                "{\"from\":\"carol\",\"to\":\"dave\",\"relationType\":\"knows\"}]}",
                true);
    expect_call("open_nodes", "{\"names\":[]}", EMPTY_GRAPH, false);
}

/* Names of any kind keep every character and get a valid, distinct node id. */
static void set_faults(const char *rules) {
    char request[256];
    snprintf(request, sizeof request, "{\"op\":\"set_faults\",\"rules\":\"%s\"}", rules);
    json_t *response = test_exec(db, request);
    CHECK(json_is_true(json_object_get(response, "ok")));
    json_decref(response);
}

/* A storage failure part way through a call leaves the graph as it was before the call: the reference saves its
 * file once per call, and engram runs each call's writes in one graph transaction. */
TEST(a_call_failing_part_way_writes_nothing) {
    fresh();
    const char *before = "{\"entities\":[{\"name\":\"a\",\"entityType\":\"t\",\"observations\":[\"1\"]},"
                         "{\"name\":\"b\",\"entityType\":\"t\",\"observations\":[\"2\"]}],"
                         "\"relations\":[{\"from\":\"a\",\"to\":\"b\",\"relationType\":\"knows\"}]}";
    expect_call("create_entities",
                "{\"entities\":[{\"name\":\"a\",\"entityType\":\"t\",\"observations\":[\"1\"]},"
                "{\"name\":\"b\",\"entityType\":\"t\",\"observations\":[\"2\"]}]}",
                "{\"entities\":[{\"name\":\"a\",\"entityType\":\"t\",\"observations\":[\"1\"]},"
                "{\"name\":\"b\",\"entityType\":\"t\",\"observations\":[\"2\"]}]}",
                false);
    expect_call("create_relations", "{\"relations\":[{\"from\":\"a\",\"to\":\"b\",\"relationType\":\"knows\"}]}",
                "{\"relations\":[{\"from\":\"a\",\"to\":\"b\",\"relationType\":\"knows\"}]}", false);
    set_faults("graph.update_node=fail_after:1");
    expect_failure("add_observations",
                   "{\"observations\":[{\"entityName\":\"a\",\"contents\":[\"x\"]},"
                   "{\"entityName\":\"b\",\"contents\":[\"y\"]}]}",
                   "injected fault");
    set_faults("graph.create_node=fail_after:1");
    expect_failure("create_entities",
                   "{\"entities\":[{\"name\":\"c\",\"entityType\":\"t\",\"observations\":[]},"
                   "{\"name\":\"d\",\"entityType\":\"t\",\"observations\":[]}]}",
                   "injected fault");
    expect_failure("create_relations",
                   "{\"relations\":[{\"from\":\"a\",\"to\":\"e\",\"relationType\":\"r\"},"
                   "{\"from\":\"a\",\"to\":\"f\",\"relationType\":\"r\"}]}",
                   "injected fault");
    set_faults("graph.delete_node=fail_after:1");
    expect_failure("delete_entities", "{\"entityNames\":[\"a\",\"b\"]}", "injected fault");
    set_faults("graph.update_node=fail_after:0;graph.delete_relationship=fail");
    expect_failure("delete_observations",
                   "{\"deletions\":[{\"entityName\":\"a\",\"observations\":[\"1\"]}]}", "injected fault");
    expect_failure("delete_relations", "{\"relations\":[{\"from\":\"a\",\"to\":\"b\",\"relationType\":\"knows\"}]}",
                   "injected fault");
    set_faults("");
    expect_call("read_graph", "{}", before, true);
    uint64_t nodes = 0;
    CHECK_OK(eg_graph_count_nodes(eg_db_graph(db), EG_LABEL_ANY, &nodes, &(eg_error){0}), &(eg_error){0});
    CHECK(nodes == 2); /* no placeholder left behind either */
}

TEST(names_of_every_kind) {
    fresh();
    char long_name[501];
    memset(long_name, 'x', 500);
    long_name[0] = '/';
    long_name[500] = '\0';
    const char *names[] = {"🚀 rocket / ship", "a.b:c",      "a.2Eb:c", "",     " ",   "a/b\\\\c\\\"d",
                           "日本語の名前",    "tab\\there", long_name, "kg:x", "x.2F"};
    size_t n = sizeof names / sizeof names[0];
    json_t *expected = json_array();
    char args[4096];
    for (size_t i = 0; i < n; i++) {
        snprintf(args, sizeof args,
                 "{\"entities\":[{\"name\":\"%s\",\"entityType\":\"t\",\"observations\":[\"o%zu\"]}]}", names[i], i);
        eg_mcp_tool_result r = call("create_entities", args);
        CHECK(!r.is_error && json_array_size(json_object_get(r.structured, "entities")) == 1);
        if (r.structured) json_array_append(expected, json_array_get(json_object_get(r.structured, "entities"), 0));
        eg_mcp_tool_result_free(&r);
        snprintf(args, sizeof args, "{\"relations\":[{\"from\":\"%s\",\"to\":\"%s\",\"relationType\":\"%s → self\"}]}",
                 names[i], names[i], names[i]);
        r = call("create_relations", args);
        CHECK(!r.is_error && json_array_size(json_object_get(r.structured, "relations")) == 1);
        eg_mcp_tool_result_free(&r);
    }
    eg_mcp_tool_result r = call("read_graph", "{}");
    json_t *entities = json_object_get(r.structured, "entities");
    CHECK(json_array_size(entities) == n);
    CHECK(json_array_size(json_object_get(r.structured, "relations")) == n);
    json_t *got = sorted(json_deep_copy(entities));
    CHECK(json_equal(got, sorted(expected)));
    json_decref(got);
    eg_mcp_tool_result_free(&r);
    json_decref(expected);
    /* The ids: escaped when short, hashed when long, never a memory's. */
    char id[EG_KG_ID_MAX];
    eg_kg_entity_id("a.b", 3, id);
    CHECK(strcmp(id, "kg:a.2Eb") == 0);
    eg_kg_entity_id(long_name, 500, id);
    CHECK(strncmp(id, "kgh:", 4) == 0 && strlen(id) == 68 && eg_kg_is_entity_id(id));
    CHECK(!eg_kg_is_entity_id("6f1c2a4e-0000-4000-8000-000000000001"));
    snprintf(args, sizeof args, "{\"names\":[\"%s\"]}", long_name);
    r = call("open_nodes", args);
    CHECK(json_array_size(json_object_get(r.structured, "entities")) == 1);
    CHECK(json_array_size(json_object_get(r.structured, "relations")) == 1);
    eg_mcp_tool_result_free(&r);
    snprintf(args, sizeof args, "{\"entityNames\":[\"%s\",\"🚀 rocket / ship\"]}", long_name);
    r = call("delete_entities", args);
    eg_mcp_tool_result_free(&r);
    r = call("read_graph", "{}");
    CHECK(json_array_size(json_object_get(r.structured, "entities")) == n - 2);
    CHECK(json_array_size(json_object_get(r.structured, "relations")) == n - 2);
    eg_mcp_tool_result_free(&r);
}

/* A bad argument fails as the reference's SDK fails it: every problem, in schema order, one a line. */
TEST(bad_arguments_of_the_reference_tools) {
    fresh();
    eg_mcp_tool_result r =
        call("create_entities", "{\"entities\":[1,{\"name\":null,\"observations\":[\"a\",2,true]}]}");
    CHECK(r.is_error && r.text &&
          strcmp(r.text, "MCP error -32602: Input validation error: Invalid arguments for tool create_entities: "
                         "Invalid input: expected object, received number at entities[0]\n"
                         "Invalid input: expected string, received null at entities[1].name\n"
                         "Invalid input: expected string, received undefined at entities[1].entityType\n"
                         "Invalid input: expected string, received number at entities[1].observations[1]\n"
                         "Invalid input: expected string, received boolean at entities[1].observations[2]") == 0);
    eg_mcp_tool_result_free(&r);
    expect_failure("create_entities", "{}",
                   "tool create_entities: Invalid input: expected array, received undefined at entities");
    expect_failure("create_entities", "{\"entities\":{}}", "expected array, received object at entities");
    expect_failure("create_entities", "{\"entities\":[{\"name\":\"a\",\"entityType\":\"t\",\"observations\":\"o\"}]}",
                   "expected array, received string at entities[0].observations");
    expect_failure("create_relations", "{\"relations\":[{\"from\":\"a\",\"to\":null,\"relationType\":\"r\"}]}",
                   "tool create_relations: Invalid input: expected string, received null at relations[0].to");
    expect_failure("create_relations", "{\"relations\":[{\"from\":\"a\",\"to\":\"b\"}]}",
                   "received undefined at relations[0].relationType");
    expect_failure(
        "add_observations", "{\"observations\":[{\"entityName\":\"a\"}]}",
        "tool add_observations: Invalid input: expected array, received undefined at observations[0].contents");
    expect_failure("add_observations", "{\"observations\":[{\"contents\":[]}]}", "at observations[0].entityName");
    expect_failure("delete_entities", "{\"entityNames\":\"a\"}",
                   "tool delete_entities: Invalid input: expected array, received string at entityNames");
    expect_failure("delete_entities", "{\"entityNames\":[\"a\",2]}", "received number at entityNames[1]");
    expect_failure("delete_observations", "{\"deletions\":[{\"entityName\":\"a\",\"observations\":[true]}]}",
                   "tool delete_observations: Invalid input: expected string, received boolean at "
                   "deletions[0].observations[0]");
    expect_failure(
        "delete_relations", "{\"relations\":[{\"from\":\"a\",\"to\":\"b\",\"relationType\":5}]}",
        "tool delete_relations: Invalid input: expected string, received number at relations[0].relationType");
    expect_failure("search_nodes", "{}",
                   "tool search_nodes: Invalid input: expected string, received undefined at query");
    expect_failure("search_nodes", "{\"query\":[]}", "expected string, received array at query");
    expect_failure("open_nodes", "{\"names\":null}",
                   "tool open_nodes: Invalid input: expected array, received null at names");
    /* Nothing of a refused call was written. */
    expect_call("read_graph", "{}", EMPTY_GRAPH, false);
}

TEST(engram_memory_tools) {
    fresh();
    eg_mcp_tool_result r = call("remember", "{\"text\":\"Alice fixed the write-ahead log\",\"session\":\"s1\"}");
    REQUIRE(!r.is_error && r.structured);
    char first[64];
    snprintf(first, sizeof first, "%s", json_string_value(json_object_get(r.structured, "id")));
    CHECK(strcmp(json_string_value(json_object_get(r.structured, "type")), "episode") == 0);
    eg_mcp_tool_result_free(&r);
    char args[512];
    snprintf(args, sizeof args,
             "{\"text\":\"Bob reviews the saga code\",\"type\":\"entity\",\"relations\":[{\"target\":\"%s\","
             "\"type\":\"RELATES_TO\"}]}",
             first);
    r = call("remember", args);
    REQUIRE(!r.is_error && r.structured);
    char second[64];
    snprintf(second, sizeof second, "%s", json_string_value(json_object_get(r.structured, "id")));
    eg_mcp_tool_result_free(&r);
    /* recall over every type, best first, with the text and the graph neighbours. */
    r = call("recall", "{\"text\":\"write-ahead log\",\"limit\":5}");
    REQUIRE(!r.is_error && r.structured);
    json_t *best = json_array_get(json_object_get(r.structured, "memories"), 0);
    CHECK(strcmp(json_string_value(json_object_get(best, "id")), first) == 0);
    CHECK(strcmp(json_string_value(json_object_get(best, "text")), "Alice fixed the write-ahead log") == 0);
    CHECK(json_array_size(json_object_get(best, "neighbors")) == 1);
    eg_mcp_tool_result_free(&r);
    /* A vector instead of the text (its own dimension: recall it by its type). */
    r = call("remember", "{\"text\":\"a procedure\",\"type\":\"procedure\",\"vector\":[1,0,0]}");
    CHECK(!r.is_error);
    eg_mcp_tool_result_free(&r);
    r = call("recall", "{\"vector\":[1,0,0],\"type\":\"procedure\",\"expand\":0}");
    CHECK(!r.is_error && json_array_size(json_object_get(r.structured, "memories")) == 1);
    eg_mcp_tool_result_free(&r);
    r = call("recall", "{\"text\":\"saga\",\"session\":\"s1\",\"type\":\"entity\"}");
    CHECK(!r.is_error && json_array_size(json_object_get(r.structured, "memories")) == 0);
    eg_mcp_tool_result_free(&r);

    /* relate, find_path */
    snprintf(args, sizeof args, "{\"source\":\"%s\",\"target\":\"%s\",\"type\":\"CAUSES\"}", first, second);
    r = call("relate", args);
    CHECK(!r.is_error && strcmp(json_string_value(json_object_get(r.structured, "type")), "CAUSES") == 0);
    eg_mcp_tool_result_free(&r);
    snprintf(args, sizeof args, "{\"source\":\"%s\",\"target\":\"%s\",\"max_depth\":1,\"types\":[\"CAUSES\"]}", first,
             second);
    r = call("find_path", args);
    CHECK(!r.is_error && json_integer_value(json_object_get(json_object_get(r.structured, "path"), "length")) == 1);
    eg_mcp_tool_result_free(&r);
    snprintf(args, sizeof args, "{\"source\":\"%s\",\"target\":\"%s\",\"type\":\"LIKES\"}", first, second);
    expect_failure("relate", args, "invalid_argument");

    /* archive, restore, forget (the type found when not given) */
    snprintf(args, sizeof args, "{\"id\":\"%s\"}", second);
    r = call("archive", args);
    CHECK(!r.is_error && strcmp(json_string_value(json_object_get(r.structured, "type")), "entity") == 0);
    eg_mcp_tool_result_free(&r);
    CHECK(!test_has_node(db, second));
    r = call("restore", args);
    CHECK(!r.is_error);
    eg_mcp_tool_result_free(&r);
    CHECK(test_has_node(db, second));
    r = call("forget", args);
    CHECK(!r.is_error);
    eg_mcp_tool_result_free(&r);
    CHECK(!test_has_node(db, second));
    expect_failure("forget", args, "no memory with id");
    snprintf(args, sizeof args, "{\"id\":\"%s\",\"type\":\"procedure\"}", first);
    expect_failure("forget", args, "not_found");
    expect_failure("restore", "{\"id\":\"12345\"}", "not_found");

    r = call("health", "{}");
    CHECK(!r.is_error && strcmp(json_string_value(json_object_get(r.structured, "status")), "ok") == 0);
    eg_mcp_tool_result_free(&r);
}

/* read_graph reads every page of nodes (10,000 a page), and the knowledge graph's only: memories and other
 * nodes, whose ids sort on both sides of the "kg" ones, are not entities. */
TEST(read_graph_pages_and_memories) {
    fresh();
    json_t *r = test_exec(db, "{\"op\":\"create_entity\",\"id\":1,\"text\":\"a memory\"}");
    CHECK(strcmp(test_response_code(r), "ok") == 0);
    json_decref(r);
    r = test_exec(db,
                  "{\"op\":\"create_entity\",\"id\":\"ffffffff-0000-4000-8000-000000000001\",\"text\":\"another\"}");
    CHECK(strcmp(test_response_code(r), "ok") == 0);
    json_decref(r);
    r = test_exec(db, "{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"zeta\",\"properties\":{\"name\":\"z\","
                      "\"entityType\":\"t\",\"observations\":[]}}");
    CHECK(strcmp(test_response_code(r), "ok") == 0);
    json_decref(r);
    enum { ENTITIES = 10050 };
    for (int batch = 0; batch * 1000 < ENTITIES; batch++) {
        json_t *nodes = json_array();
        for (int i = batch * 1000; i < ENTITIES && i < (batch + 1) * 1000; i++) {
            char name[32], id[EG_KG_ID_MAX];
            snprintf(name, sizeof name, "e%05d", i);
            eg_kg_entity_id(name, strlen(name), id);
            json_array_append_new(nodes, json_pack("{s:s, s:s, s:{s:s, s:s, s:[]}}", "label", "Entity", "id", id,
                                                   "properties", "name", name, "entityType", "t", "observations"));
        }
        json_t *request = json_pack("{s:s, s:o}", "op", "batch_create_nodes", "nodes", nodes);
        json_t *response = eg_exec(db, request);
        CHECK(json_is_true(json_object_get(response, "ok")));
        json_decref(response);
        json_decref(request);
    }
    expect_call("create_relations", "{\"relations\":[{\"from\":\"e00000\",\"to\":\"e10049\",\"relationType\":\"r\"}]}",
                "{\"relations\":[{\"from\":\"e00000\",\"to\":\"e10049\",\"relationType\":\"r\"}]}", false);
    eg_mcp_tool_result g = call("read_graph", "{}");
    CHECK(json_array_size(json_object_get(g.structured, "entities")) == ENTITIES);
    CHECK(json_array_size(json_object_get(g.structured, "relations")) == 1);
    eg_mcp_tool_result_free(&g);
}

TEST(bad_arguments_of_engram_tools) {
    fresh();
    expect_failure("remember", "{}", "text");
    expect_failure("remember", "{\"text\":1}", "text: expected a string");
    expect_failure("remember", "{\"text\":\"x\",\"type\":\"thought\"}", "type");
    expect_failure("remember", "{\"text\":\"x\",\"session\":[]}", "session");
    expect_failure("remember", "{\"text\":\"x\",\"vector\":[\"a\"]}", "vector");
    expect_failure("remember", "{\"text\":\"x\",\"vector\":[]}", "vector");
    expect_failure("remember", "{\"text\":\"x\",\"relations\":{}}", "relations");
    expect_failure("remember", "{\"text\":\"x\",\"relations\":[{\"target\":\"1\"}]}", "relations[0]");
    expect_failure("remember", "{\"text\":\"x\",\"relations\":[{\"target\":\"404\",\"type\":\"RELATES_TO\"}]}",
                   "not_found");
    expect_failure("remember", "{\"text\":\"x\",\"colour\":\"red\"}", "colour");
    expect_failure("recall", "{}", "text");
    expect_failure("recall", "{\"text\":\"x\",\"vector\":[1]}", "exactly one");
    expect_failure("recall", "{\"text\":\"x\",\"limit\":0}", "limit");
    expect_failure("recall", "{\"text\":\"x\",\"limit\":\"5\"}", "limit");
    expect_failure("recall", "{\"text\":\"x\",\"expand\":3}", "expand");
    expect_failure("recall", "{\"text\":\"x\",\"filter\":[]}", "filter");
    expect_failure("recall", "{\"text\":\"x\",\"type\":\"memo\"}", "type");
    expect_failure("forget", "{}", "id");
    expect_failure("forget", "{\"id\":7}", "id: expected a string");
    expect_failure("archive", "{\"id\":\"1\",\"type\":1}", "type");
    expect_failure("restore", "{\"id\":\"1\",\"type\":\"episode\"}", "type");
    expect_failure("relate", "{\"source\":\"a\",\"target\":\"b\"}", "type");
    expect_failure("relate", "{\"source\":\"a\",\"target\":\"b\",\"type\":\"USES\",\"properties\":1}", "properties");
    expect_failure("find_path", "{\"source\":\"a\"}", "target");
    expect_failure("find_path", "{\"source\":\"a\",\"target\":\"b\",\"max_depth\":11}", "max_depth");
    expect_failure("find_path", "{\"source\":\"a\",\"target\":\"b\",\"types\":[1]}", "types[0]");
    expect_failure("find_path", "{\"source\":\"a\",\"target\":\"b\"}", "not_found");
    expect_failure("health", "{\"verbose\":true}", "verbose");
}

/* ---- engram import-mcp-memory ---- */

static int run_engram(const char *args, char *output, size_t cap) {
    const char *bin = getenv("ENGRAM_BIN");
    char command[8192];
    snprintf(command, sizeof command, "'%s' %s 2>&1", bin, args);
    FILE *p = popen(command, "r");
    if (!p) return -1;
    size_t n = fread(output, 1, cap - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(import_mcp_memory) {
    if (!getenv("ENGRAM_BIN")) return;
    const char *dir = test_scratch_dir();
    char file[1024], data[1024], args[4096], output[8192];
    snprintf(file, sizeof file, "%s/memory.jsonl", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    FILE *f = fopen(file, "w");
    REQUIRE(f);
    fputs("{\"type\":\"entity\",\"name\":\"Alice 🚀/x\",\"entityType\":\"person\",\"observations\":[\"likes tea\"]}\n"
          "{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[]}\n"
          "\n"
          "{\"type\":\"relation\",\"from\":\"Alice 🚀/x\",\"to\":\"Bob\",\"relationType\":\"knows\"}\n"
          "{\"type\":\"relation\",\"from\":\"Alice 🚀/x\",\"to\":\"Bob\",\"relationType\":\"works with\"}\n"
          "not json\n"
          "{\"type\":\"entity\",\"name\":3,\"entityType\":\"t\",\"observations\":[]}\n"
          "{\"type\":\"thing\"}\n"
          "[1]\n"
          "{\"type\":\"relation\",\"from\":\"Bob\",\"to\":\"Carol\"}\n"
          "{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"tall\"]}",
          f);
    fclose(f);
    snprintf(args, sizeof args, "import-mcp-memory '%s' --data '%s'", file, data);
    CHECK(run_engram(args, output, sizeof output) == 1);
    CHECK(strstr(output, "line 6: not JSON"));
    CHECK(strstr(output, "line 7: \"name\" must be a string"));
    CHECK(strstr(output, "line 8: \"type\" must be"));
    CHECK(strstr(output, "line 9: not a JSON object"));
    CHECK(strstr(output, "line 10: \"relationType\" must be a string"));
    CHECK(strstr(output, "imported 2 entities, 1 observations into existing entities, 2 relations"));
    CHECK(!strstr(output, "line 3"));
    /* Again: nothing changes, and it says so (the bad lines are still bad). */
    CHECK(run_engram(args, output, sizeof output) == 1);
    CHECK(strstr(output, "imported 0 entities, 0 observations into existing entities, 0 relations; 5 lines"));
    f = fopen(file, "w");
    REQUIRE(f);
    fputs("{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"tall\"]}\n", f);
    fclose(f);
    snprintf(args, sizeof args, "--data '%s' import-mcp-memory '%s'", data, file);
    CHECK(run_engram(args, output, sizeof output) == 0);
    CHECK(strstr(output, "nothing to import"));
    /* What was imported is what the tools answer. */
    eg_db *imported;
    eg_error err;
    REQUIRE(eg_open(data, NULL, &imported, &err) == EG_OK);
    eg_db *saved = db;
    db = imported;
    expect_call("read_graph", "{}",
                "{\"entities\":[{\"name\":\"Alice 🚀/x\",\"entityType\":\"person\",\"observations\":[\"likes tea\"]},"
                "{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"tall\"]}],\"relations\":["
                "{\"from\":\"Alice 🚀/x\",\"to\":\"Bob\",\"relationType\":\"knows\"},"
                "{\"from\":\"Alice 🚀/x\",\"to\":\"Bob\",\"relationType\":\"works with\"}]}",
                true);
    db = saved;
    eg_close(imported);
    /* A progress bar on a terminal (script(1) gives the command one), none elsewhere (above: a pipe). */
    CHECK(!strstr(output, "importing ["));
    if (test_tool_exists("script")) {
        char data2[1024], inner[3072];
        snprintf(data2, sizeof data2, "%s/data2", dir);
        snprintf(inner, sizeof inner, "'%s' import-mcp-memory '%s' --data '%s'", getenv("ENGRAM_BIN"), file, data2);
        snprintf(args, sizeof args, "script -qec \"%s\" /dev/null 2>&1", inner);
        FILE *p = popen(args, "r");
        REQUIRE(p);
        size_t n = fread(output, 1, sizeof output - 1, p);
        output[n] = '\0';
        CHECK(pclose(p) == 0);
        CHECK(strstr(output, "\rimporting [") && strstr(output, "] 1/1 lines"));
    }
    /* Usage errors and a missing file. */
    CHECK(run_engram("import-mcp-memory", output, sizeof output) == 2);
    snprintf(args, sizeof args, "import-mcp-memory '%s' extra --data '%s'", file, data);
    CHECK(run_engram(args, output, sizeof output) == 2);
    snprintf(args, sizeof args, "import-mcp-memory '%s/none.jsonl' --data '%s'", dir, data);
    CHECK(run_engram(args, output, sizeof output) == 1 && strstr(output, "cannot read"));
    CHECK(run_engram("import-mcp-memory --help", output, sizeof output) == 0 && strstr(output, "usage:"));
}

int main(void) {
    setenv("ENGRAM_ALLOW_FAULTS", "1", 1); /* set_faults, in a_call_failing_part_way_writes_nothing */
    RUN(table);
    RUN(text_is_the_references);
    RUN(entities_and_duplicates);
    RUN(observations);
    RUN(relations_free_text_and_cascade);
    RUN(search_and_open);
    RUN(a_call_failing_part_way_writes_nothing);
    RUN(names_of_every_kind);
    RUN(bad_arguments_of_the_reference_tools);
    RUN(engram_memory_tools);
    RUN(read_graph_pages_and_memories);
    RUN(bad_arguments_of_engram_tools);
    RUN(import_mcp_memory);
    if (db) eg_close(db);
    return test_summary();
}
