/* mcp.h — engram as a Model Context Protocol server (docs/mcp.md): the protocol (JSON-RPC 2.0 sessions:
 * initialize with version negotiation, ping, tools/list, tools/call, notifications, cancellation) and the tools,
 * both transport-free. The transports hand it messages: stdio (`engram mcp`, cmd/engram/mcp_cmd.c) and Streamable
 * HTTP (`/mcp` on `engram serve`, src/serve/).
 *
 * Every tool reaches engram only through engram's JSON operations (docs/operations.md): an eg_mcp_exec function
 * runs one request and returns its response — eg_exec on an open folder, or a POST /v1/exec to a running `engram
 * serve` (`engram mcp --url`) — so the tools are the same whichever way the data is reached. */
#ifndef ENGRAM_MCP_H
#define ENGRAM_MCP_H

#include <engram/engram.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Runs one engram operation request ({"op": ..., arguments}) and returns a new reference to its response
 * ({"ok": true, "result": ...} or {"ok": false, "error": {"code", "message"}}); NULL only when memory runs out.
 * Called from any thread the transport calls the protocol from. */
typedef json_t *(*eg_mcp_exec_fn)(void *context, json_t *request);

/* Makes the graph operations the calling thread sends through exec, until the end call, one transaction (see
 * eg_exec_begin_graph_transaction); end commits it when commit is true, else rolls it back. False, with the reason
 * in message, when the begin or the commit fails. */
typedef bool (*eg_mcp_begin_fn)(void *context, char *message, size_t size);
typedef bool (*eg_mcp_end_fn)(void *context, bool commit, char *message, size_t size);

typedef struct eg_mcp_backend {
    eg_mcp_exec_fn exec;
    void *context;
    /* Both NULL where the data is reached over the network (`engram mcp --url`): a transaction cannot span
     * requests there, and a tool's writes are then each durable but not all or nothing. */
    eg_mcp_begin_fn begin;
    eg_mcp_end_fn end;
} eg_mcp_backend;

/* The backend of an open folder: eg_exec, with graph transactions. */
eg_mcp_backend eg_mcp_local_backend(eg_db *db);

/* ---- tools (src/mcp/tools_*.c) ---- */

/* The answer of one tool call: structured content (a JSON object, the tool's output schema's shape) and the text
 * content clients show; or a tool failure, which the protocol turns into a result with isError and the message. */
typedef struct eg_mcp_tool_result {
    json_t *structured; /* owned; NULL on failure */
    char *text;         /* owned (malloc); the content's text item; on failure, the message */
    bool is_error;
} eg_mcp_tool_result;

typedef struct eg_mcp_tool {
    const char *name;
    const char *title;
    const char *description;
    const char *input_schema;  /* JSON Schema text (an object schema) */
    const char *output_schema; /* JSON Schema text, or NULL when the tool has none */
    bool read_only, destructive, idempotent, open_world; /* the annotations' hints */
    /* Runs the tool with its arguments (an object; the tool checks them against its schema itself and answers a
     * bad one as a tool failure naming it). Fills *out; false only when memory runs out. */
    bool (*call)(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
} eg_mcp_tool;

/* Every tool, in the order tools/list gives them: the reference memory server's nine, then engram's own. */
const eg_mcp_tool *eg_mcp_tools(size_t *count);
const eg_mcp_tool *eg_mcp_tool_named(const char *name);
void eg_mcp_tool_result_free(eg_mcp_tool_result *result);

/* ---- the protocol (src/mcp/protocol.c) ---- */

typedef struct eg_mcp_session eg_mcp_session;

/* A session over backend (which must outlive it); NULL when memory runs out. */
eg_mcp_session *eg_mcp_session_new(const eg_mcp_backend *backend);
void eg_mcp_session_free(eg_mcp_session *session);

/* Handles one JSON-RPC message (a request, a notification or a response) and returns the response to send, a new
 * reference, or NULL when there is none (a notification, a response). Malformed messages get JSON-RPC errors
 * (-32700 parse error is the transport's, for text that is not JSON; -32600 invalid request, -32601 method not
 * found, -32602 invalid params). Thread-safe: a transport may handle several requests of one session at once, and
 * a notifications/cancelled for one in flight makes its answer be dropped (returns NULL for it). */
json_t *eg_mcp_handle(eg_mcp_session *session, json_t *message);

/* A JSON-RPC error response to the request whose id is id (NULL: null, for a message whose id could not be read,
 * as transports answer what they cannot parse), the message printf-style; NULL when memory runs out. */
json_t *eg_mcp_error(json_t *id, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The protocol revisions this server speaks, newest first (initialize answers the client's when it is one of
 * them, else the newest). */
const char *const *eg_mcp_protocol_versions(size_t *count);

#endif
