/* neo4j_graph.h — the Neo4j graph backend's state and shared helpers (internal): eg_graph over a Bolt client
 * (bolt/client.h), every operation one or a few Cypher statements (docs/backends.md, "The Neo4j backend", lists
 * each one).
 *
 * A node is a Neo4j node with the engram label as its label and the id as its `id` property; a relationship is a
 * Neo4j relationship of the engram type, one per (source, type, target) — written with MERGE — whose Hebbian
 * properties weight, coAccessCount and lastAccessed are plain Neo4j properties of those names, beside
 * `decayedThrough` (epoch ms up to which decay was applied; kept off the properties engram returns).
 *
 * A graph transaction (neo4j_tx.c) is a copy of the store's neo4j_graph holding one Bolt explicit transaction:
 * every statement an operation runs goes through nj_run, which sends it in that transaction when there is one, so
 * the operations themselves do not know whether they run alone or inside a graph transaction. A write operation
 * opens its own transaction when it does not run in one (nj_write); reads run on their own. */
#ifndef ENGRAM_GRAPH_NEO4J_H
#define ENGRAM_GRAPH_NEO4J_H

#include "bolt/client.h"
#include "graph/graph_internal.h"

#include <pthread.h>
#include <stdbool.h>

/* The relationship property holding how far decay has been applied (epoch ms). */
#define NJ_PROP_DECAYED_THROUGH "decayedThrough"

/* What the store and its transactions share: the client, whether the schema statements have run, and the record
 * of open transactions that close waits for. */
typedef struct nj_shared {
    eg_bolt_client *client;
    pthread_mutex_t lock;
    pthread_cond_t tx_ended;   /* broadcast whenever a transaction ends */
    bool schema_ready;         /* C1-C7 have run on this server */
    struct neo4j_graph *open;  /* open transactions, linked through next_open */
} nj_shared;

typedef struct neo4j_graph {
    eg_graph base;
    nj_shared *shared;
    bool is_tx;               /* a graph transaction (neo4j_tx.c), not the store */
    eg_bolt_tx *tx;           /* a transaction's Bolt transaction; NULL once ended or closed under it */
    bool tx_failed;           /* a write failed inside the transaction: commit will refuse */
    bool tx_broken;           /* the server refused a statement: the Bolt transaction runs nothing more */
    pthread_t owner;          /* the thread that began the transaction */
    struct neo4j_graph *next_open;
} neo4j_graph;

static inline neo4j_graph *neo4j_of(eg_graph *g) { return (neo4j_graph *)g; }

/* ---- running statements (neo4j_store.c) ---- */

/* Runs the schema statements (C1-C7) once per store; a failure (the server down) is retried by the next
 * operation. Every statement outside a transaction passes here: after the first success it is one uncontended
 * lock. */
eg_status nj_ensure_schema(nj_shared *shared, eg_error *err);

/* Runs one statement: in ng's Bolt transaction when it has one (a failure there breaks it: tx_broken), else on
 * its own (auto-commit) with `access`, after the schema statements when they have not run yet. */
eg_status nj_run(neo4j_graph *ng, eg_bolt_access access, const char *statement, const eg_ps_value *parameters,
                 eg_bolt_result *result, eg_error *err);

/* The statements of one write operation, run on g (the caller's graph transaction or the operation's own); a
 * status it decides itself (a missing node) is returned like a failed statement's. */
typedef eg_status (*nj_write_fn)(neo4j_graph *g, void *context, eg_error *err);

/* Runs a write operation: in the caller's graph transaction, marking it failed when the write fails (a failed write
 * may have done part of its work), or else in a managed transaction of its own (eg_bolt_client_transact), which
 * runs work again when the server cannot have committed it — so work sets its outputs afresh on every run.
 *
 * Never as an auto-commit statement, even for a write of one statement. Why: a statement sent by a process killed
 * before its answer may still sit in the server's socket buffer and run after a new process has recovered the
 * saga it belonged to (undoing its step), then undo the recovery. In an explicit transaction the COMMIT is sent
 * only after the statement's answer arrived: until then the server rolls the transaction back when the dead
 * client's connection ends, and once the answer arrived the statement already holds its write locks (engram
 * serve: the writer), which recovery's own writes then wait for. */
eg_status nj_write(neo4j_graph *ng, nj_write_fn work, void *context, eg_error *err);

/* ---- parameters and values (neo4j_values.c) ---- */

/* A parameter dictionary being built; an allocation failure is remembered and reported by nj_params_status. */
typedef struct nj_params {
    eg_ps_value dict;
    size_t cap;
    bool failed;
} nj_params;

void nj_params_init(nj_params *p);
void nj_params_free(nj_params *p);
void nj_param_string(nj_params *p, const char *name, const char *value);
void nj_param_int(nj_params *p, const char *name, int64_t value);
void nj_param_float(nj_params *p, const char *name, double value);
void nj_param_null(nj_params *p, const char *name);
/* Moves *value into the dictionary (it is left EG_PS_NULL), even on failure. */
void nj_param_take(nj_params *p, const char *name, eg_ps_value *value);
eg_status nj_params_status(const nj_params *p, eg_error *err);

/* A PackStream string, list (count items, each EG_PS_NULL) and dictionary entry, for building parameters. */
bool nj_ps_string(const char *s, eg_ps_value *out);
bool nj_ps_list(size_t count, eg_ps_value *out);
/* A list of the strings ids[0..count). */
bool nj_ps_string_list(const char *const *ids, size_t count, eg_ps_value *out);

/* JSON properties -> a PackStream dictionary of Neo4j property values. Neo4j stores null, booleans, integers,
 * floats, strings and homogeneous lists of those; anything else (an object, a nested or mixed list) is
 * EG_INVALID_ARGUMENT naming the property. keep_nulls: a null stays (it removes the property in SET +=), else it
 * is left out (a create). For a relationship, weight is sent as a float (engram's weight is a double) and the
 * reserved decayedThrough is refused. `extra_id` (may be NULL) is added as the `id` property. */
eg_status nj_properties_to_ps(json_t *props, bool keep_nulls, bool relationship, const char *extra_id,
                              eg_ps_value *out, eg_error *err);

/* A property dictionary read back -> JSON, leaving out `id` (nodes) and decayedThrough (relationships); a
 * relationship's weight always comes back as a real. Values engram has no JSON for (temporal, spatial, bytes) are
 * EG_INCOMPATIBLE naming the property. */
eg_status nj_properties_from_ps(const eg_ps_value *dict, bool relationship, json_t **out, eg_error *err);

/* A Bolt Node structure -> eg_node (id from its `id` property, label its first label); with_properties false
 * leaves properties NULL. */
eg_status nj_node_from_ps(const eg_ps_value *v, bool with_properties, eg_node *out, eg_error *err);

/* A relationship row's columns (source id, type name, target id, properties) -> eg_relationship. */
eg_status nj_relationship_from_ps(const eg_ps_value *source, const eg_ps_value *type, const eg_ps_value *target,
                                  const eg_ps_value *properties, eg_relationship *out, eg_error *err);

/* The column `name` of record `row` of a result, or NULL. */
const eg_ps_value *nj_column(const eg_bolt_result *r, size_t row, const char *name);
size_t nj_row_count(const eg_bolt_result *r);
/* An EG_PS_INT column of the first row as a count. */
eg_status nj_count_of(const eg_bolt_result *r, const char *name, uint64_t *out, eg_error *err);
/* A server answer of an unexpected shape. */
eg_status nj_bad_answer(eg_error *err, const char *what);

/* The statement texts that name a label or type: ":`Name`" (empty for EG_LABEL_ANY / EG_REL_ANY). The names are
 * plain identifiers (eg_label_parse / eg_rel_type_parse checked them); the backquotes are defence in depth. */
#define NJ_NAME_CLAUSE_MAX (EG_NAME_MAX + 4)
void nj_label_clause(eg_label label, char out[NJ_NAME_CLAUSE_MAX]);
void nj_type_clause(eg_rel_type type, char out[NJ_NAME_CLAUSE_MAX]);

/* The clauses that bind `var` to the node whose id is the expression `id` ("$id", or "rel.source" inside an
 * UNWIND), dropping the row when there is none, with the variables `carried` ("rel, a"; "" for none) still in
 * scope after them. Neo4j's id indexes and unique constraints are per label, and a match by id alone can use
 * none of them: it scans every node. So under t4dm, whose labels are known, the node is looked up under each
 * label, every lookup an index seek:
 *   OPTIONAL MATCH (a_0:`Episode` {id: ID}) OPTIONAL MATCH (a_1:`Entity` {id: ID})
 *   OPTIONAL MATCH (a_2:`Procedure` {id: ID}) WITH CARRIED, coalesce(a_0, a_1, a_2) AS a WHERE a IS NOT NULL
 * (one row in, at most one row out: the id is unique). Under the open schema labels are unbounded, and it is
 * `MATCH (a {id: ID})` (which keeps every variable in scope). The variables var_0, var_1, ... are taken. */
#define NJ_FIND_NODE_MAX 512
void nj_find_node(eg_graph_schema schema, const char *var, const char *id, const char *carried,
                  char out[NJ_FIND_NODE_MAX]);

/* Whether node `id` exists (any label); used to name the missing end of a relationship. */
eg_status nj_node_exists(neo4j_graph *ng, const char *id, bool *exists, eg_error *err);
/* EG_NOT_FOUND naming the first missing of the two ends ("source node 'a' does not exist"), or EG_OK when both
 * exist. */
eg_status nj_check_ends(neo4j_graph *ng, const char *source_id, const char *target_id, eg_error *err);

/* ---- operation table entries, by file ---- */
eg_status nj_create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err);
eg_status nj_get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err);
eg_status nj_get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err);
eg_status nj_update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err);
eg_status nj_delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err);
eg_status nj_batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err);
eg_status nj_list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                        eg_error *err);
eg_status nj_count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err);
eg_status nj_create_relationship(eg_graph *g, const eg_relationship_spec *rel, eg_error *err);
eg_status nj_batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count, eg_error *err);
eg_status nj_delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                 eg_error *err);
eg_status nj_get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                               eg_relationship_list *out, eg_error *err);
eg_status nj_get_relationships_batch(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                     eg_direction dir, eg_relationship_list *out, eg_error *err);
eg_status nj_count_relationships(eg_graph *g, uint64_t *out, eg_error *err);
eg_status nj_reweight_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                   double rate, bool strengthen, double *new_weight, eg_error *err);
eg_status nj_batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                       const char *session_id, eg_decay_result *out, eg_error *err);
eg_status nj_count_stale_relationships(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                       eg_error *err);
eg_status nj_find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                       eg_rel_type_set types, eg_path *out, eg_error *err);

/* Transactions (neo4j_tx.c). */
eg_status nj_tx_begin(eg_graph *g, eg_graph **tx, eg_error *err);
/* Rolls back the calling thread's open transactions and waits for the others' (close). */
void nj_transactions_end_all(nj_shared *shared);

/* The entries above, for the store's table and its transactions' (one list, so they cannot drift). */
#define NJ_OPERATIONS                                                                                                \
    .create_node = nj_create_node, .get_node = nj_get_node, .get_nodes = nj_get_nodes,                               \
    .update_node = nj_update_node, .delete_node = nj_delete_node, .batch_create_nodes = nj_batch_create_nodes,        \
    .list_nodes = nj_list_nodes, .count_nodes = nj_count_nodes, .find_nodes = eg_node_search_by_listing,             \
    .create_relationship = nj_create_relationship,                                                                   \
    .batch_create_relationships = nj_batch_create_relationships, .delete_relationship = nj_delete_relationship,      \
    .get_relationships = nj_get_relationships, .get_relationships_batch = nj_get_relationships_batch,                \
    .count_relationships = nj_count_relationships, .reweight_relationship = nj_reweight_relationship,                \
    .batch_decay_relationships = nj_batch_decay_relationships,                                                       \
    .count_stale_relationships = nj_count_stale_relationships, .find_path = nj_find_path

#endif
