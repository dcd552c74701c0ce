/* local_backend.c — the MCP tools' backend on an open folder (mcp.h): requests run by eg_exec in this process, and
 * a tool's writes made one graph transaction. */
#include "mcp/mcp.h"

#include <engram/exec.h>
#include <stdio.h>

static json_t *exec_local(void *context, json_t *request) { return eg_exec(context, request); }

static bool begin_local(void *context, char *message, size_t size) {
    eg_error err;
    if (eg_exec_begin_graph_transaction(context, &err) == EG_OK) return true;
    snprintf(message, size, "engram: %s: %s", eg_status_name(err.code), err.message);
    return false;
}

static bool end_local(void *context, bool commit, char *message, size_t size) {
    if (!commit) {
        eg_exec_rollback_graph_transaction(context);
        return true;
    }
    eg_error err;
    if (eg_exec_commit_graph_transaction(context, &err) == EG_OK) return true;
    snprintf(message, size, "engram: %s: %s", eg_status_name(err.code), err.message);
    return false;
}

eg_mcp_backend eg_mcp_local_backend(eg_db *db) { return (eg_mcp_backend){exec_local, db, begin_local, end_local}; }
