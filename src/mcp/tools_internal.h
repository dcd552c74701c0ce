/* tools_internal.h — what the tool files (src/mcp/tools_*.c) share: the call functions the table in tools.c
 * points at, the answers they build, engram requests through the backend, and argument checks that name the bad
 * argument. Every tool answers with a JSON object as structured content and that object as JSON text laid out as
 * the reference server lays it out (JSON.stringify(value, null, 2)), so that clients see the same text from both. */
#ifndef ENGRAM_MCP_TOOLS_INTERNAL_H
#define ENGRAM_MCP_TOOLS_INTERNAL_H

#include "mcp/mcp.h"

/* ---- the reference memory server's tools (tools_knowledge_graph.c) ---- */
bool eg_mcp_create_entities(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_create_relations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_add_observations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_delete_entities(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_delete_observations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_delete_relations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_read_graph(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_search_nodes(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_open_nodes(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);

/* ---- engram's own (tools_memory.c) ---- */
bool eg_mcp_remember(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_recall(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_forget(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_relate(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_find_path(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_archive(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_restore(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);
bool eg_mcp_health(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out);

/* ---- answers (tools_answer.c) ---- */

/* value as JSON.stringify(value, null, 2) writes it (malloc'd; NULL when memory runs out). */
char *eg_mcp_js_text(const json_t *value);

/* A success: takes structured (steals the reference; NULL means memory ran out) and sets the text to its JSON
 * text. False when memory runs out. */
bool eg_mcp_answer(eg_mcp_tool_result *out, json_t *structured);
/* A success whose text is the JSON text of one member of it (the reference's create tools show the list alone). */
bool eg_mcp_answer_member(eg_mcp_tool_result *out, json_t *structured, const char *key);
/* A success whose text is given rather than the structured content's JSON (the reference's delete tools). */
bool eg_mcp_answer_text(eg_mcp_tool_result *out, json_t *structured, const char *text);
/* A tool failure with a printf-style message. False when memory runs out. */
bool eg_mcp_fail(eg_mcp_tool_result *out, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* ---- engram requests (tools_answer.c) ---- */

typedef enum { EG_MCP_REQ_OK, EG_MCP_REQ_FAILED, EG_MCP_REQ_NOMEM } eg_mcp_req_status;

/* Runs request (stolen) through the backend. OK: *result is a new reference to the response's result. FAILED:
 * engram answered an error; *code (borrowed from the freed response: copied into code_buf) names it and out is
 * already a tool failure quoting it, prefixed by what (e.g. "create_node"). NOMEM: memory ran out. code_buf may be
 * NULL when the caller does not need the code. */
eg_mcp_req_status eg_mcp_request(const eg_mcp_backend *backend, json_t *request, json_t **result,
                                 eg_mcp_tool_result *out, char code_buf[32]);

/* ---- argument checks (tools_answer.c) ---- */

/* Whether value is an array of strings; if not, false with out a tool failure naming where ("entities[2].name")
 * and what was expected. A failure whose message could not be allocated leaves out->text NULL: callers return
 * eg_mcp_failed(out), which is the call's "memory ran out" answer in that case. */
bool eg_mcp_check_string_array(json_t *value, const char *where, eg_mcp_tool_result *out);
static inline bool eg_mcp_failed(const eg_mcp_tool_result *out) { return out->text != NULL; }

/* The JSON type of value in words, for messages ("a number", "null", "missing"). */
const char *eg_mcp_type_name(const json_t *value);

#endif
