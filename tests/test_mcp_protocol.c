/* test_mcp_protocol.c — the MCP protocol (src/mcp/protocol.c) through eg_mcp_handle over a scratch folder:
 * initialize and its version negotiation (each revision, an unknown one, a second initialize), ping, tools/list,
 * tools/call (a success with structured content, an unknown tool and bad arguments as tool failures), every kind
 * of malformed message and its JSON-RPC error, notifications, batches (only in 2025-03-26), and cancellation of a
 * call in flight. */
#include "mcp/mcp.h"
#include "test.h"

#include <pthread.h>

static eg_db *db;

/* A backend over db whose exec can be held at a gate, so that a call is in flight while the test cancels it. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_changed = PTHREAD_COND_INITIALIZER;
static bool gate_closed, gate_reached;

static json_t *exec_in_db(void *context, json_t *request) {
    pthread_mutex_lock(&gate_lock);
    gate_reached = true;
    pthread_cond_broadcast(&gate_changed);
    while (gate_closed) pthread_cond_wait(&gate_changed, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    return eg_exec(context, request);
}

static eg_mcp_backend backend;

/* Handles one message given as JSON text; the answer (NULL for none) is the caller's. */
static json_t *handle(eg_mcp_session *s, const char *text) {
    json_error_t jerr;
    json_t *m = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!m) {
        fprintf(stderr, "  bad test message %s: %s\n", text, jerr.text);
        test_failures_in_current++;
        return NULL;
    }
    json_t *answer = eg_mcp_handle(s, m);
    json_decref(m);
    return answer;
}

/* The error code of an answer (0 when it is a success), and whether its message contains part. */
static int error_code(json_t *answer) {
    return (int)json_integer_value(json_object_get(json_object_get(answer, "error"), "code"));
}

static bool error_says(json_t *answer, const char *part) {
    const char *message = json_string_value(json_object_get(json_object_get(answer, "error"), "message"));
    if (!message || !strstr(message, part)) {
        fprintf(stderr, "  error message %s lacks \"%s\"\n", message ? message : "(none)", part);
        return false;
    }
    return true;
}

/* Checks that text gets the JSON-RPC error code, with id (JSON text; "null" for none) and a message containing
 * part. */
static void expect_error(eg_mcp_session *s, const char *text, int code, const char *id, const char *part) {
    json_t *answer = handle(s, text);
    json_t *expected_id = json_loads(id, JSON_DECODE_ANY, NULL);
    CHECK(answer && error_code(answer) == code);
    CHECK(json_equal(json_object_get(answer, "id"), expected_id));
    CHECK(json_is_string(json_object_get(answer, "jsonrpc")));
    CHECK(error_says(answer, part));
    if (answer && error_code(answer) != code)
        fprintf(stderr, "  %s: got code %d, not %d\n", text, error_code(answer), code);
    json_decref(expected_id);
    json_decref(answer);
}

static eg_mcp_session *initialized(const char *version) {
    eg_mcp_session *s = eg_mcp_session_new(&backend);
    char text[256];
    snprintf(text, sizeof text,
             "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
             "\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}",
             version);
    json_t *answer = handle(s, text);
    CHECK(answer && json_object_get(answer, "result"));
    json_decref(answer);
    json_decref(handle(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
    return s;
}

TEST(versions) {
    size_t count;
    const char *const *versions = eg_mcp_protocol_versions(&count);
    REQUIRE(count >= 4);
    CHECK(strcmp(versions[0], "2025-11-25") == 0);
    for (size_t i = 1; i < count; i++) CHECK(strcmp(versions[i - 1], versions[i]) > 0); /* newest first */
}

TEST(initialize_negotiates) {
    size_t count;
    const char *const *versions = eg_mcp_protocol_versions(&count);
    eg_mcp_session *s = eg_mcp_session_new(&backend);
    REQUIRE(s);
    char text[256];
    /* Each revision it speaks is answered with itself, one after another on the same session. */
    for (size_t i = 0; i < count; i++) {
        snprintf(text, sizeof text,
                 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
                 "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"0\"}}}",
                 i, versions[i]);
        json_t *answer = handle(s, text);
        json_t *result = json_object_get(answer, "result");
        CHECK(json_integer_value(json_object_get(answer, "id")) == (json_int_t)i);
        CHECK(strcmp(json_string_value(json_object_get(result, "protocolVersion")), versions[i]) == 0);
        json_t *server = json_object_get(result, "serverInfo");
        CHECK(strcmp(json_string_value(json_object_get(server, "name")), "engram") == 0);
        CHECK(json_is_string(json_object_get(server, "version")));
        CHECK(json_is_false(json_object_get(json_object_get(json_object_get(result, "capabilities"), "tools"),
                                            "listChanged")));
        CHECK(json_is_string(json_object_get(result, "instructions")));
        json_decref(answer);
    }
    /* One it does not speak (a future one, or nonsense) is answered with its newest. */
    json_t *answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"initialize\",\"params\":"
                               "{\"protocolVersion\":\"2099-01-01\",\"capabilities\":{}}}");
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(answer, "result"), "protocolVersion")),
                 versions[0]) == 0);
    json_decref(answer);
    /* A revision holding a NUL is none it speaks, though its text cut there would be. */
    answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":\"y\",\"method\":\"initialize\",\"params\":"
                       "{\"protocolVersion\":\"2024-11-05\\u0000\",\"capabilities\":{}}}");
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(answer, "result"), "protocolVersion")),
                 versions[0]) == 0);
    json_decref(answer);
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", -32602, "1",
                 "params.protocolVersion");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}", -32602, "1", "params.protocolVersion");
    expect_error(s,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":20250618}}",
                 -32602, "1", "params.protocolVersion");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                    "\"2025-06-18\",\"capabilities\":[]}}",
                 -32602, "1", "params.capabilities");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                    "\"2025-06-18\",\"clientInfo\":\"me\"}}",
                 -32602, "1", "params.clientInfo");
    eg_mcp_session_free(s);
}

TEST(before_initialize_only_ping) {
    eg_mcp_session *s = eg_mcp_session_new(&backend);
    json_t *answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}");
    CHECK(answer && json_object_size(json_object_get(answer, "result")) == 0 &&
          json_is_object(json_object_get(answer, "result")));
    json_decref(answer);
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", -32600, "1", "before initialize");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"read_graph\"}}",
                 -32600, "2", "before initialize");
    eg_mcp_session_free(s);
}

TEST(ping) {
    eg_mcp_session *s = initialized("2025-06-18");
    json_t *answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":\"p-1\",\"method\":\"ping\"}");
    json_t *expected = json_loads("{\"jsonrpc\":\"2.0\",\"id\":\"p-1\",\"result\":{}}", 0, NULL);
    CHECK(json_equal(answer, expected));
    json_decref(answer);
    json_decref(expected);
    eg_mcp_session_free(s);
}

TEST(tools_list) {
    eg_mcp_session *s = initialized("2025-11-25");
    json_t *answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{}}");
    json_t *tools = json_object_get(json_object_get(answer, "result"), "tools");
    size_t count;
    const eg_mcp_tool *table = eg_mcp_tools(&count);
    REQUIRE(json_array_size(tools) == count && count > 0);
    for (size_t i = 0; i < count; i++) {
        json_t *t = json_array_get(tools, i), *annotations = json_object_get(t, "annotations");
        CHECK(strcmp(json_string_value(json_object_get(t, "name")), table[i].name) == 0);
        CHECK(json_is_string(json_object_get(t, "title")) && json_is_string(json_object_get(t, "description")));
        CHECK(strcmp(json_string_value(json_object_get(json_object_get(t, "inputSchema"), "type")), "object") == 0);
        CHECK(!table[i].output_schema || json_is_object(json_object_get(t, "outputSchema")));
        CHECK(json_is_boolean(json_object_get(annotations, "readOnlyHint")));
        CHECK(json_boolean_value(json_object_get(annotations, "destructiveHint")) == table[i].destructive);
        CHECK(json_boolean_value(json_object_get(annotations, "idempotentHint")) == table[i].idempotent);
        CHECK(json_is_boolean(json_object_get(annotations, "openWorldHint")));
    }
    CHECK(!json_object_get(json_object_get(answer, "result"), "nextCursor"));
    json_decref(answer);
    /* No params at all is the same request. */
    answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    CHECK(json_array_size(json_object_get(json_object_get(answer, "result"), "tools")) == count);
    json_decref(answer);
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"cursor\":\"abc\"}}", -32602,
                 "3", "cursor");
    eg_mcp_session_free(s);
}

TEST(tools_call) {
    eg_mcp_session *s = initialized("2025-06-18");
    json_t *answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                               "\"create_entities\",\"arguments\":{\"entities\":[{\"name\":\"Ada\",\"entityType\":"
                               "\"person\",\"observations\":[\"wrote the first program\"]}]}}}");
    json_t *result = json_object_get(answer, "result");
    CHECK(result && !json_object_get(result, "isError"));
    json_t *expected = json_loads("{\"entities\":[{\"name\":\"Ada\",\"entityType\":\"person\",\"observations\":"
                                  "[\"wrote the first program\"]}]}", 0, NULL);
    CHECK(json_equal(json_object_get(result, "structuredContent"), expected));
    json_t *item = json_array_get(json_object_get(result, "content"), 0);
    CHECK(strcmp(json_string_value(json_object_get(item, "type")), "text") == 0);
    CHECK(strstr(json_string_value(json_object_get(item, "text")), "Ada"));
    json_decref(expected);
    json_decref(answer);
    /* No arguments: the tool sees an empty object. */
    answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"read_graph\"}}");
    CHECK(json_array_size(json_object_get(json_object_get(json_object_get(answer, "result"), "structuredContent"),
                                          "entities")) == 1);
    json_decref(answer);
    /* A tool that is not there and arguments a tool refuses are tool failures, with the reason as the text. */
    answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"no_such_tool\","
                       "\"arguments\":{}}}");
    result = json_object_get(answer, "result");
    CHECK(json_is_true(json_object_get(result, "isError")) && !json_object_get(result, "structuredContent"));
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(result, "content"), 0), "text")),
                 "Tool no_such_tool not found") == 0);
    json_decref(answer);
    /* A name that holds a NUL names no tool, though its C text cut there would. */
    answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
                       "\"read_graph\\u0000x\",\"arguments\":{}}}");
    result = json_object_get(answer, "result");
    CHECK(json_is_true(json_object_get(result, "isError")));
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(result, "content"), 0), "text")),
                 "Tool not found: its name holds a NUL character") == 0);
    json_decref(answer);
    answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
                       "\"create_entities\",\"arguments\":{}}}");
    result = json_object_get(answer, "result");
    CHECK(json_is_true(json_object_get(result, "isError")) && !json_object_get(result, "structuredContent"));
    CHECK(strstr(json_string_value(json_object_get(json_array_get(json_object_get(result, "content"), 0), "text")),
                 "entities"));
    json_decref(answer);
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{}}", -32602, "5",
                 "params.name");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\"}", -32602, "5", "params.name");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":7}}", -32602, "6",
                 "params.name");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"read_graph\","
                    "\"arguments\":[1]}}",
                 -32602, "7", "params.arguments");
    eg_mcp_session_free(s);
}

TEST(malformed_messages) {
    eg_mcp_session *s = initialized("2025-11-25");
    expect_error(s, "42", -32600, "null", "must be an object");
    expect_error(s, "\"ping\"", -32600, "null", "must be an object");
    expect_error(s, "null", -32600, "null", "must be an object");
    expect_error(s, "{\"id\":1,\"method\":\"ping\"}", -32600, "1", "jsonrpc");
    expect_error(s, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", -32600, "1", "jsonrpc");
    expect_error(s, "{\"jsonrpc\":2,\"id\":\"a\",\"method\":\"ping\"}", -32600, "\"a\"", "jsonrpc");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", -32600, "null", "id");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}", -32600, "null", "id");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", -32600, "null", "id");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1}", -32600, "1", "method");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", -32600, "1", "method");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}", -32601, "1", "prompts/list");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":{}}", -32601, "1",
                 "resources/read");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\\u0000x\"}", -32601, "1", "NUL");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}", -32602, "1",
                 "params must be an object");
    expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":\"x\"}", -32602, "2",
                 "params must be an object");
    /* Notifications (no id) get no answer, known or not, well-formed or not; nor does a response. */
    const char *silent[] = {
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/roots/list_changed\",\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":[1]}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":99}}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-1,\"message\":\"no\"}}",
    };
    for (size_t i = 0; i < sizeof silent / sizeof silent[0]; i++) {
        json_t *answer = handle(s, silent[i]);
        CHECK(answer == NULL);
        json_decref(answer);
    }
    eg_mcp_session_free(s);
}

TEST(batches) {
    /* Only 2025-03-26 has batches: the revisions before and after refuse them. */
    const char *without[] = {"2025-11-25", "2025-06-18", "2024-11-05"};
    for (size_t i = 0; i < sizeof without / sizeof without[0]; i++) {
        eg_mcp_session *s = initialized(without[i]);
        expect_error(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600, "null", "2025-03-26 only");
        eg_mcp_session_free(s);
    }
    eg_mcp_session *s = eg_mcp_session_new(&backend);
    expect_error(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600, "null", "none yet");
    eg_mcp_session_free(s);
    s = initialized("2025-03-26");
    json_t *answer = handle(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                               "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
                               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"},"
                               "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":"
                               "{\"protocolVersion\":\"2025-03-26\"}},"
                               "7]");
    REQUIRE(json_array_size(answer) == 4);
    CHECK(json_integer_value(json_object_get(json_array_get(answer, 0), "id")) == 1);
    CHECK(json_object_get(json_object_get(json_array_get(answer, 1), "result"), "tools"));
    CHECK(error_code(json_array_get(answer, 2)) == -32600 && error_says(json_array_get(answer, 2), "batch"));
    CHECK(error_code(json_array_get(answer, 3)) == -32600);
    CHECK(json_is_null(json_object_get(json_array_get(answer, 3), "id")));
    json_decref(answer);
    answer = handle(s, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]");
    CHECK(answer == NULL);
    json_decref(answer);
    expect_error(s, "[]", -32600, "null", "empty");
    eg_mcp_session_free(s);
}

typedef struct call_thread {
    eg_mcp_session *session;
    json_t *answer;
} call_thread;

static void *call_read_graph(void *arg) {
    call_thread *c = arg;
    c->answer = handle(c->session, "{\"jsonrpc\":\"2.0\",\"id\":\"slow\",\"method\":\"tools/call\",\"params\":{"
                                   "\"name\":\"read_graph\",\"arguments\":{}}}");
    return NULL;
}

/* Runs read_graph in a thread held at the backend's gate; sends cancel (a notification's text, or NULL) while it is
 * held; returns its answer. */
static json_t *held_call(eg_mcp_session *s, const char *cancel) {
    pthread_mutex_lock(&gate_lock);
    gate_closed = true;
    gate_reached = false;
    pthread_mutex_unlock(&gate_lock);
    call_thread c = {s, NULL};
    pthread_t thread;
    if (pthread_create(&thread, NULL, call_read_graph, &c) != 0) return NULL;
    pthread_mutex_lock(&gate_lock);
    while (!gate_reached) pthread_cond_wait(&gate_changed, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    if (cancel) {
        json_t *none = handle(s, cancel);
        CHECK(none == NULL);
        json_decref(none);
    }
    /* A ping is answered while the call is held: the session is not locked by a call in flight. */
    json_t *pong = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
    CHECK(json_object_get(pong, "result"));
    json_decref(pong);
    pthread_mutex_lock(&gate_lock);
    gate_closed = false;
    pthread_cond_broadcast(&gate_changed);
    pthread_mutex_unlock(&gate_lock);
    pthread_join(thread, NULL);
    return c.answer;
}

TEST(cancellation) {
    eg_mcp_session *s = initialized("2025-11-25");
    /* Cancelled while in flight: its answer is dropped. */
    json_t *answer = held_call(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
                                  "{\"requestId\":\"slow\",\"reason\":\"the user gave up\"}}");
    CHECK(answer == NULL);
    json_decref(answer);
    /* Another request's id cancels nothing. */
    answer = held_call(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
                          "{\"requestId\":1}}");
    CHECK(json_object_get(json_object_get(answer, "result"), "structuredContent"));
    json_decref(answer);
    answer = held_call(s, NULL);
    CHECK(json_object_get(json_object_get(answer, "result"), "structuredContent"));
    json_decref(answer);
    /* A cancellation of a request already answered does nothing either: the next request of that id is answered. */
    json_decref(handle(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":"
                          "\"slow\"}}"));
    answer = handle(s, "{\"jsonrpc\":\"2.0\",\"id\":\"slow\",\"method\":\"ping\"}");
    CHECK(json_object_get(answer, "result"));
    json_decref(answer);
    eg_mcp_session_free(s);
}

int main(void) {
    db = test_open_fresh();
    backend = (eg_mcp_backend){exec_in_db, db, NULL, NULL};
    RUN(versions);
    RUN(initialize_negotiates);
    RUN(before_initialize_only_ping);
    RUN(ping);
    RUN(tools_list);
    RUN(tools_call);
    RUN(malformed_messages);
    RUN(batches);
    RUN(cancellation);
    eg_close(db);
    return test_summary();
}
