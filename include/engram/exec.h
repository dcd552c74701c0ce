/* engram/exec.h — the JSON operation interface: one JSON object in, one JSON object out.
 *
 * This is the machine contract behind `engram exec` (and, later, the HTTP server): a request is
 *   {"op": "<operation>", "<argument>": <value>, ...}
 * and the response is
 *   {"ok": true, "result": <value>}   or   {"ok": false, "error": {"code": "<eg_status_name>", "message": "..."}}
 * The vocabulary (operations, arguments, results) is written down in docs/operations.md. Unknown operations,
 * unknown or mistyped arguments and malformed JSON are errors that change nothing. */
#ifndef ENGRAM_EXEC_H
#define ENGRAM_EXEC_H

#include <engram/engram.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_EXEC_LINE_MAX (64u * 1024u * 1024u) /* bytes in one request */

/* Executes one request given as JSON text (not necessarily NUL-terminated) and returns the response as a
 * newly allocated single-line JSON string (free() it). Returns NULL only when memory runs out. */
char *eg_exec_json(eg_db *db, const char *request, size_t length);

/* The same on a parsed request; returns a new reference to the response object. */
json_t *eg_exec(eg_db *db, json_t *request);

/* A graph transaction over the JSON interface, for one thread. Between eg_exec_begin_graph_transaction and its
 * commit or rollback, every graph operation this thread runs through eg_exec or eg_exec_json (the rows of
 * docs/operations.md, "Nodes" to "Traversal") runs in one transaction of db's graph store (eg_graph_begin): its
 * reads see its writes, nobody else sees them before the commit, and a rollback drops them all. Any other
 * operation from the thread meanwhile is refused (invalid_argument), and its reads neither use nor fill the
 * fallback read cache. One transaction per thread at a time (a second begin is a conflict); the store's one
 * writer is held from begin to end, so keep it short. The commit frees the transaction whether it succeeds or
 * not. */
eg_status eg_exec_begin_graph_transaction(eg_db *db, eg_error *err);
eg_status eg_exec_commit_graph_transaction(eg_db *db, eg_error *err);
void eg_exec_rollback_graph_transaction(eg_db *db);

/* engram's JSON text of any value (free() it; NULL when memory runs out): laid out as json_dumps lays it out for
 * the flags JSON_COMPACT, JSON_INDENT(n) and JSON_SORT_KEYS, but with each real as the shortest decimal that
 * reads back to the same double, where json_dumps writes 17 digits. engram's float32 values (vectors, sparse
 * values, scores) are held as the double nearest to their own shortest decimal, so they print as 0.1, not
 * 0.10000000149011612; every file and log record engram writes and every response goes through this. */
char *eg_json_text(const json_t *value, size_t flags);

#ifdef __cplusplus
}
#endif
#endif
