/* cypher.h — engram's Cypher: parse a statement (parser.c), then run it against an eg_graph (executor.c).
 *
 * The subset is the one docs/bolt.md lists: what the original system sends (C1–C26 of the inventory) and the
 * Cypher agent-memory code commonly writes. Anything outside it is refused with a Neo4j status code naming the
 * construct, never run approximately.
 *
 * Values are PackStream values (bolt/packstream.h) throughout: parameters arrive as such, records leave as such,
 * and a node, relationship or path in a record is the Bolt 5 structure (with element ids; the session drops them
 * for Bolt 4.4). A node's properties as seen from Cypher are the graph's properties plus `id`, the node's id;
 * its one label is the graph's label. id(n) is a 63-bit hash of the node's id (of source, type and target for a
 * relationship); elementId(n) is the node's id itself, and "source>TYPE>target" for a relationship.
 *
 * Transactions are the caller's: the executor runs every graph operation on the eg_graph it is given. A caller
 * runs a statement that writes (cy_statement_writes) on a transaction (eg_graph_begin) and commits it; a
 * statement that only reads may run on the store itself. */
#ifndef ENGRAM_CYPHER_H
#define ENGRAM_CYPHER_H

#include <engram/graph.h>

#include "bolt/statements.h"
#include "cypher/ast.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of one statement's text. */
#define CY_MAX_STATEMENT_BYTES ((size_t)1 << 20)
/* Brackets, parentheses, CASEs and prefix operators open at once while parsing: the parser recurses per level,
 * so this keeps a hostile statement from overflowing its stack. */
#define CY_MAX_NESTING 64
/* Depth of any expression tree a parse returns (`1 + 1 + ... + 1` is as deep as it is long): an executor may
 * evaluate recursively down to this depth. */
#define CY_MAX_EXPRESSION_DEPTH 256
/* Rows a statement may hold at once (in any clause, and in its result): a bound on the memory one statement can
 * take, refused with Neo.ClientError.Statement.ExecutionFailed when passed. */
#define CY_MAX_ROWS ((size_t)1 << 20)

/* Parses text[0..len) (UTF-8). On success *out owns the tree (cy_statement_free); on failure *out is NULL and
 * failure holds Neo.ClientError.Statement.SyntaxError with the line, column and offset of the problem and what
 * was expected there. */
bool cy_parse(const char *text, size_t len, cy_statement **out, eg_bolt_failure *failure);
void cy_statement_free(cy_statement *statement);

/* True when running the statement may change the graph (CREATE, MERGE, SET, REMOVE, DELETE, schema commands). */
bool cy_statement_writes(const cy_statement *statement);

/* Runs a parsed statement on graph with parameters (an EG_PS_DICT, or NULL for none). now_ms is the statement's
 * clock (timestamp() returns it; one value for the whole statement, as in Neo4j). On success *result is filled
 * (owned by the caller; its stats count what changed); on failure it is left empty and failure says why (a
 * Neo.ClientError.* code for the caller's mistakes, Neo.TransientError.* or Neo.DatabaseError.* for the store's), and writes already made on
 * graph must be rolled back by the caller. */
bool cy_execute(const cy_statement *statement, eg_graph *graph, const eg_ps_value *parameters, int64_t now_ms,
                eg_bolt_result *result, eg_bolt_failure *failure);

#endif
