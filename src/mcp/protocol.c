/* protocol.c — the MCP protocol over JSON-RPC 2.0, transport-free (mcp.h): the lifecycle (initialize and its
 * version negotiation), ping, tools/list, tools/call, the notifications a client sends (initialized, cancelled) and,
 * in the one revision that has them, batches. Every malformed message gets the JSON-RPC error that names what is
 * wrong with it; a tool that cannot do what it was asked answers a result with isError, so that the model that
 * made the call reads why. */
#include "mcp/mcp.h"

#include <engram/engram.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON-RPC's codes (-32700, the parse error, is the transport's: it sees the text). */
enum { INVALID_REQUEST = -32600, METHOD_NOT_FOUND = -32601, INVALID_PARAMS = -32602,
       INTERNAL_ERROR = -32603 };

/* Newest first, as the official SDK lists them: 2024-10-07 was a pre-release that some clients still send. */
static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"};

/* JSON-RPC batches came in with 2025-03-26 and left with 2025-06-18: no other revision has them. */
#define BATCH_VERSION "2025-03-26"

static const char instructions[] =
    "engram is this agent's long-term memory: a knowledge graph of named entities, their observations and the "
    "relations between them (create_entities, add_observations, create_relations, search_nodes, open_nodes, "
    "read_graph), and memories recalled by meaning (remember, recall). Look up what you may already know before "
    "asking the user again, and store what should outlive this conversation.";

/* A request being answered, so that notifications/cancelled can reach it. */
typedef struct in_flight {
    json_t *id;
    bool cancelled;
    struct in_flight *next;
} in_flight;

struct eg_mcp_session {
    const eg_mcp_backend *backend;
    pthread_mutex_t lock; /* guards version and flights */
    const char *version;  /* the negotiated revision (one of versions[]); NULL before initialize */
    in_flight *flights;
};

const char *const *eg_mcp_protocol_versions(size_t *count) {
    *count = sizeof versions / sizeof versions[0];
    return versions;
}

eg_mcp_session *eg_mcp_session_new(const eg_mcp_backend *backend) {
    eg_mcp_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->backend = backend;
    return s;
}

void eg_mcp_session_free(eg_mcp_session *session) {
    if (!session) return;
    pthread_mutex_destroy(&session->lock);
    free(session);
}

/* ---- answers ---- */

/* A message formatted in full (names from the client are quoted whole: jansson has checked them as UTF-8, and a
 * cut could split a character); NULL when memory runs out. */
static char *vformat(const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text) vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    return text;
}

static char *format(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *text = vformat(fmt, ap);
    va_end(ap);
    return text;
}

/* The response to a request whose id is id (NULL: null, for a message whose id could not be read). */
static json_t *success(json_t *id, json_t *result) {
    if (!result) return NULL;
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result", result);
}

json_t *eg_mcp_error(json_t *id, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *message = vformat(fmt, ap);
    va_end(ap);
    json_t *response = message ? json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                                           "error", "code", code, "message", message)
                               : NULL;
    free(message);
    return response;
}

/* The text of a JSON string, or NULL when v is not one or holds a NUL (transports accept "\u0000"): such a method
 * or tool name must match none, where its C text, cut at the NUL, might. */
static const char *whole_text(json_t *v) {
    const char *text = json_string_value(v);
    return text && strlen(text) == json_string_length(v) ? text : NULL;
}

/* ---- the methods ---- */

static const char *negotiated(eg_mcp_session *s) {
    pthread_mutex_lock(&s->lock);
    const char *version = s->version;
    pthread_mutex_unlock(&s->lock);
    return version;
}

static json_t *initialize(eg_mcp_session *s, json_t *id, json_t *params) {
    json_t *asked = json_object_get(params, "protocolVersion");
    if (!json_is_string(asked))
        return eg_mcp_error(id, INVALID_PARAMS, "initialize needs params.protocolVersion (a string such as \"%s\")",
                       versions[0]);
    json_t *capabilities = json_object_get(params, "capabilities"), *client = json_object_get(params, "clientInfo");
    if (capabilities && !json_is_object(capabilities))
        return eg_mcp_error(id, INVALID_PARAMS, "initialize: params.capabilities must be an object");
    if (client && !json_is_object(client))
        return eg_mcp_error(id, INVALID_PARAMS, "initialize: params.clientInfo must be an object");
    /* The client's revision when this server speaks it; else the newest, which the client may accept or hang up
     * on (the spec's negotiation). A second initialize negotiates again: a client that reconnects over the same
     * stdio pipe starts afresh. */
    const char *chosen = versions[0];
    for (size_t i = 0; whole_text(asked) && i < sizeof versions / sizeof versions[0]; i++)
        if (strcmp(whole_text(asked), versions[i]) == 0) chosen = versions[i];
    pthread_mutex_lock(&s->lock);
    s->version = chosen;
    pthread_mutex_unlock(&s->lock);
    return success(id, json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}", "protocolVersion", chosen,
                                 "capabilities", "tools", "listChanged", 0, "serverInfo", "name", "engram", "title",
                                 "engram memory", "version", EG_VERSION, "instructions", instructions));
}

static json_t *list_tools(json_t *id, json_t *params) {
    /* Every tool fits in one page, so no cursor was ever given out: one sent back is not ours. */
    if (json_object_get(params, "cursor"))
        return eg_mcp_error(id, INVALID_PARAMS, "tools/list: unknown cursor (engram lists every tool in one page)");
    size_t count;
    const eg_mcp_tool *tools = eg_mcp_tools(&count);
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++) {
        const eg_mcp_tool *t = &tools[i];
        json_t *input = json_loads(t->input_schema, 0, NULL);
        json_t *output = t->output_schema ? json_loads(t->output_schema, 0, NULL) : NULL;
        json_t *item = input && (output || !t->output_schema)
                           ? json_pack("{s:s, s:s, s:s, s:O, s:{s:b, s:b, s:b, s:b}}", "name", t->name, "title",
                                       t->title, "description", t->description, "inputSchema", input, "annotations",
                                       "readOnlyHint", t->read_only, "destructiveHint", t->destructive,
                                       "idempotentHint", t->idempotent, "openWorldHint", t->open_world)
                           : NULL;
        if (item && output && json_object_set(item, "outputSchema", output) != 0) {
            json_decref(item);
            item = NULL;
        }
        json_decref(input);
        json_decref(output);
        if (!item) {
            json_decref(list);
            return eg_mcp_error(id, INTERNAL_ERROR, "tools/list: the schemas of tool %s could not be built", t->name);
        }
        json_array_append_new(list, item);
    }
    return success(id, list ? json_pack("{s:o}", "tools", list) : NULL);
}

static json_t *call_tool(eg_mcp_session *s, json_t *id, json_t *params) {
    json_t *name = json_object_get(params, "name"), *arguments = json_object_get(params, "arguments");
    if (!json_is_string(name)) return eg_mcp_error(id, INVALID_PARAMS, "tools/call needs params.name (a string)");
    if (arguments && !json_is_object(arguments))
        return eg_mcp_error(id, INVALID_PARAMS, "tools/call: params.arguments must be an object");
    const eg_mcp_tool *tool = whole_text(name) ? eg_mcp_tool_named(whole_text(name)) : NULL;
    eg_mcp_tool_result out = {0};
    if (!tool) {
        /* A tool failure rather than -32602, as the official SDK's server answers it: the model that asked for a
         * tool that is not there reads the message and can pick another. */
        out.is_error = true;
        out.text = whole_text(name) ? format("Tool %s not found", whole_text(name))
                                    : format("Tool not found: its name holds a NUL character");
    } else {
        json_t *args = arguments ? json_incref(arguments) : json_object();
        bool ran = args && tool->call(s->backend, args, &out);
        json_decref(args);
        if (!ran) {
            eg_mcp_tool_result_free(&out);
            return eg_mcp_error(id, INTERNAL_ERROR, "%s: out of memory", tool->name);
        }
    }
    json_t *result = out.text ? json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", out.text) : NULL;
    if (result && out.is_error) json_object_set_new(result, "isError", json_true());
    else if (result && tool->output_schema && out.structured)
        json_object_set(result, "structuredContent", out.structured);
    eg_mcp_tool_result_free(&out);
    if (!result) return eg_mcp_error(id, INTERNAL_ERROR, "%s: its answer could not be built", json_string_value(name));
    return success(id, result);
}

/* ---- cancellation ---- */

static void cancel(eg_mcp_session *s, json_t *params) {
    json_t *target = json_object_get(params, "requestId");
    pthread_mutex_lock(&s->lock);
    for (in_flight *f = s->flights; f; f = f->next)
        if (target && json_equal(f->id, target)) f->cancelled = true;
    pthread_mutex_unlock(&s->lock);
}

static void begin(eg_mcp_session *s, in_flight *f, json_t *id) {
    *f = (in_flight){.id = id};
    pthread_mutex_lock(&s->lock);
    f->next = s->flights;
    s->flights = f;
    pthread_mutex_unlock(&s->lock);
}

/* Ends f; true if it was cancelled meanwhile (its answer is then dropped, as the spec asks). */
static bool end(eg_mcp_session *s, in_flight *f) {
    pthread_mutex_lock(&s->lock);
    in_flight **p = &s->flights;
    while (*p != f) p = &(*p)->next;
    *p = f->next;
    bool cancelled = f->cancelled;
    pthread_mutex_unlock(&s->lock);
    return cancelled;
}

/* ---- messages ---- */

static bool valid_id(json_t *id) {
    return json_is_string(id) || json_is_number(id);
}

static json_t *request(eg_mcp_session *s, json_t *id, const char *method, json_t *params, bool in_batch) {
    if (strcmp(method, "initialize") == 0) {
        if (in_batch) return eg_mcp_error(id, INVALID_REQUEST, "initialize must not be part of a JSON-RPC batch");
        /* Not registered for cancellation: the spec forbids cancelling initialize. */
        return initialize(s, id, params);
    }
    if (strcmp(method, "ping") == 0) return success(id, json_object());
    bool tools_list = strcmp(method, "tools/list") == 0, tools_call = strcmp(method, "tools/call") == 0;
    if (!tools_list && !tools_call) return eg_mcp_error(id, METHOD_NOT_FOUND, "method not found: %s", method);
    /* Before initialize the client may only ping (the spec's lifecycle): it does not know yet what this server
     * speaks. */
    if (!negotiated(s))
        return eg_mcp_error(id, INVALID_REQUEST, "%s before initialize: the session starts with an initialize request",
                       method);
    in_flight f;
    begin(s, &f, id);
    json_t *response = tools_list ? list_tools(id, params) : call_tool(s, id, params);
    if (end(s, &f)) {
        json_decref(response);
        return NULL;
    }
    return response;
}

/* One message of any kind (in_batch: an element of a batch). */
static json_t *message(eg_mcp_session *s, json_t *m, bool in_batch) {
    if (!json_is_object(m)) return eg_mcp_error(NULL, INVALID_REQUEST, "a JSON-RPC message must be an object");
    json_t *id = json_object_get(m, "id"), *method = json_object_get(m, "method"),
           *params = json_object_get(m, "params");
    if (id && !valid_id(id))
        return eg_mcp_error(NULL, INVALID_REQUEST, "the id of a request must be a string or a number (not null)");
    const char *jsonrpc = json_string_value(json_object_get(m, "jsonrpc"));
    if (!jsonrpc || strcmp(jsonrpc, "2.0") != 0)
        return eg_mcp_error(id, INVALID_REQUEST, "jsonrpc must be \"2.0\"");
    if (!method) {
        /* A response: this server sends no requests, so there is nothing it answers. */
        if (id && (json_object_get(m, "result") || json_object_get(m, "error"))) return NULL;
        return eg_mcp_error(id, INVALID_REQUEST, "a request needs a method (a string)");
    }
    if (!json_is_string(method)) return eg_mcp_error(id, INVALID_REQUEST, "the method must be a string");
    if (!whole_text(method))
        return id ? eg_mcp_error(id, METHOD_NOT_FOUND, "method not found: its name holds a NUL character") : NULL;
    if (params && !json_is_object(params))
        return id ? eg_mcp_error(id, INVALID_PARAMS, "%s: params must be an object", json_string_value(method)) : NULL;
    if (!id) {
        /* Notifications get no answer, even a malformed one. notifications/initialized needs no action: this
         * server sends no requests that it would hold back until then, and other notifications (progress,
         * roots/list_changed) concern capabilities it does not use. */
        if (strcmp(json_string_value(method), "notifications/cancelled") == 0) cancel(s, params);
        return NULL;
    }
    return request(s, id, json_string_value(method), params, in_batch);
}

json_t *eg_mcp_handle(eg_mcp_session *session, json_t *m) {
    if (!json_is_array(m)) return message(session, m, false);
    const char *version = negotiated(session);
    if (!version || strcmp(version, BATCH_VERSION) != 0)
        return eg_mcp_error(NULL, INVALID_REQUEST, "JSON-RPC batches are part of protocol revision %s only; this session "
                       "speaks %s: send one message at a time", BATCH_VERSION, version ? version : "none yet");
    if (json_array_size(m) == 0) return eg_mcp_error(NULL, INVALID_REQUEST, "an empty JSON-RPC batch");
    json_t *answers = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(m, i, item) {
        json_t *answer = message(session, item, true);
        if (answer && answers) json_array_append_new(answers, answer);
        else json_decref(answer);
    }
    if (json_array_size(answers) == 0) {
        json_decref(answers);
        return NULL;
    }
    return answers;
}
