/* cypher_statements.h — the Bolt statement engine over engram's graph: Cypher (src/cypher) run on an eg_graph,
 * with Bolt's transactions mapped onto graph transactions.
 *
 * A Bolt transaction (BEGIN) takes no graph transaction until its first statement that writes: read-only
 * transactions never hold the store's one writer. Inside a transaction a read runs on the graph transaction once
 * there is one (so it sees the transaction's writes), else on the store. An auto-commit statement that writes runs
 * in a graph transaction of its own, committed on success and rolled back on failure; one that only reads runs on
 * the store. */
#ifndef ENGRAM_BOLT_CYPHER_STATEMENTS_H
#define ENGRAM_BOLT_CYPHER_STATEMENTS_H

#include <engram/graph.h>

#include "bolt/statements.h"

/* The engine's state; the caller owns it (and the graph), which must outlive every session using the table. */
typedef struct eg_bolt_cypher_engine {
    eg_bolt_statements statements;
    eg_graph *graph;
} eg_bolt_cypher_engine;

/* Fills engine for graph and returns its statement table (&engine->statements). */
const eg_bolt_statements *eg_bolt_cypher_engine_init(eg_bolt_cypher_engine *engine, eg_graph *graph);

#endif
