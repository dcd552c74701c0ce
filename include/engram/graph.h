/* engram/graph.h — the graph store: memory nodes, typed weighted relationships, traversal and shortest paths.
 *
 * eg_graph is an interface: a table of operations (eg_graph_ops) plus state. The embedded backend
 * (eg_graph_open_lmdb, an LMDB environment) implements it today; a Neo4j backend and decorators (circuit breaker,
 * fault injection) implement the same table, so callers never know which one they talk to.
 *
 * Callers use the eg_graph_* functions below, never the table directly: they validate every argument once, for
 * every backend, so a backend only sees well-formed requests and a caller error never reaches a store (nor a
 * circuit breaker).
 *
 * Model
 * - A node has one label, an id unique across all labels (1..128 characters from [A-Za-z0-9_.:-]) and a JSON
 *   object of properties. Property names match ^[A-Za-z_][A-Za-z0-9_]{0,254}$. The id is not a property: a
 *   properties object may repeat `id` only with the node's own id (it is dropped).
 * - A relationship joins a source node to a target node with a type. There is at most one relationship per
 *   (source, type, target); creating it again merges properties, so a retried write is harmless.
 * - Labels and types come from the graph's schema (eg_graph_schema, the setting graph.schema): the original
 *   system's 3 labels and 17 types (t4dm, the default), or any plain identifier of at most 64 characters (open),
 *   which is what Cypher written for Neo4j uses. Every operation refuses a name outside the schema; in the open
 *   schema, a label or type the store does not hold simply matches nothing.
 *   Three property names are typed and maintained by the store:
 *     weight         a finite number; Hebbian strength (absent means 0.1 to strengthen/decay)
 *     coAccessCount  an integer >= 0; how many times the pair was strengthened
 *     lastAccessed   an integer >= 0, epoch milliseconds; set on create and on strengthen (a value given at
 *                    create time is kept, which lets importers carry history)
 * - Properties round-trip exactly as JSON: no type is guessed from a string's shape.
 *
 * Ownership: JSON passed in is borrowed (never stolen or modified). Results are owned by the caller and freed
 * with the matching eg_*_free / eg_*_clear function.
 *
 * Threads: every function may be called from many threads at once on one eg_graph. Readers never block on the
 * writer; writes are serialized, and a transaction (eg_graph_begin) is one write from its begin to its end. */
#ifndef ENGRAM_GRAPH_H
#define ENGRAM_GRAPH_H

#include <engram/limits.h>
#include <engram/status.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_ID_MAX 128             /* characters in a node id */
#define EG_PROPERTY_NAME_MAX 255  /* characters in a property name */
#define EG_GRAPH_BATCH_MAX 1000   /* items in one batch_create_* call */
#define EG_PATH_DEPTH_MAX 10      /* max_depth of find_path */

/* A label or a relationship type is a small integer code. The original system's vocabulary has fixed codes (the
 * enumerators below); any other name gets a code when first parsed in this process (eg_label_parse), so codes of
 * open names are valid only within one process: store names, never codes. */
typedef enum eg_label {
    EG_LABEL_ANY = -1, /* only where a function says "or any" */
    EG_LABEL_EPISODE = 0,
    EG_LABEL_ENTITY,
    EG_LABEL_PROCEDURE,
    EG_LABEL_COUNT /* the fixed labels; open ones follow */
} eg_label;

typedef enum eg_rel_type {
    EG_REL_ANY = -1, /* only where a function says "or any" */
    EG_REL_USES = 0,
    EG_REL_PRODUCES,
    EG_REL_REQUIRES,
    EG_REL_CAUSES,
    EG_REL_PART_OF,
    EG_REL_SIMILAR_TO,
    EG_REL_IMPLEMENTS,
    EG_REL_IMPROVES_ON,
    EG_REL_CONSOLIDATED_INTO,
    EG_REL_SOURCE_OF,
    EG_REL_RELATES_TO,
    EG_REL_HAS_CONTEXT,
    EG_REL_DERIVED_FROM,
    EG_REL_SUPERSEDES,
    EG_REL_DEPENDS_ON,
    EG_REL_TEMPORAL_BEFORE,
    EG_REL_TEMPORAL_AFTER,
    EG_REL_TYPE_COUNT /* the fixed types; open ones follow */
} eg_rel_type;

#define EG_NAME_MAX 64          /* characters in an open label or type name */
#define EG_OPEN_NAMES_MAX 4096  /* distinct open labels (and, separately, types) one process can name */
#define EG_STORE_NAMES_MAX 256  /* distinct labels (and, separately, types) one embedded store can hold */

/* Which labels and relationship types a graph accepts in writes. */
typedef enum eg_graph_schema {
    EG_SCHEMA_T4DM = 0, /* Episode, Entity, Procedure; the 17 types of the original system */
    EG_SCHEMA_OPEN      /* any plain identifier ([A-Za-z_][A-Za-z0-9_]*) of at most EG_NAME_MAX characters */
} eg_graph_schema;

typedef enum eg_direction { EG_DIR_OUT = 0, EG_DIR_IN, EG_DIR_BOTH } eg_direction;

/* Names <-> values. The parse functions are exact and case-sensitive ("Entity", "RELATES_TO", "out"). A label or
 * type name that is not one of the fixed ones but a plain identifier of at most EG_NAME_MAX characters is given an
 * open code (whether a graph accepts it is its schema's business); anything else is EG_INVALID_ARGUMENT naming
 * the rule. eg_label_name and eg_rel_type_name return "?" for a code no name was parsed to. */
const char *eg_label_name(eg_label label);
eg_status eg_label_parse(const char *name, eg_label *out, eg_error *err);
const char *eg_rel_type_name(eg_rel_type type);
eg_status eg_rel_type_parse(const char *name, eg_rel_type *out, eg_error *err);
const char *eg_direction_name(eg_direction dir);
eg_status eg_direction_parse(const char *name, eg_direction *out, eg_error *err);

/* Validation used by every operation; exposed so callers can check input before building a request. */
eg_status eg_validate_node_id(const char *id, eg_error *err);
eg_status eg_validate_property_name(const char *name, eg_error *err);

typedef struct eg_node {
    eg_label label;
    char id[EG_ID_MAX + 1];
    json_t *properties; /* owned; never contains "id" */
} eg_node;

typedef struct eg_node_list {
    eg_node *items;
    size_t count;
} eg_node_list;

typedef struct eg_relationship {
    char source_id[EG_ID_MAX + 1];
    char target_id[EG_ID_MAX + 1];
    eg_rel_type type;
    json_t *properties; /* owned; includes weight (if set), coAccessCount (if set) and lastAccessed */
} eg_relationship;

typedef struct eg_relationship_list {
    eg_relationship *items;
    size_t count;
} eg_relationship_list;

/* Input of batch_create_nodes / batch_create_relationships. properties may be NULL (empty). */
typedef struct eg_node_spec {
    eg_label label;
    const char *id;
    json_t *properties;
} eg_node_spec;

typedef struct eg_relationship_spec {
    const char *source_id;
    const char *target_id;
    eg_rel_type type;
    json_t *properties;
} eg_relationship_spec;

/* A path: nodes[0] is the source, nodes[node_count-1] the target, relationships[i] joins nodes[i] and
 * nodes[i+1] (in either direction: read its source_id/target_id). node_count == 0 means "no path". */
typedef struct eg_path {
    eg_node *nodes; /* properties are NULL in paths: ids and labels only */
    size_t node_count;
    eg_relationship *relationships;
    size_t relationship_count;
} eg_path;

typedef struct eg_decay_result {
    uint64_t decayed; /* stale relationships whose weight was lowered */
    uint64_t pruned;  /* stale relationships removed because they fell below min_weight */
} eg_decay_result;

/* A set of relationship types for find_path: `count` types at `types` (duplicates allowed); count 0 means every
 * type. */
typedef struct eg_rel_type_set {
    const eg_rel_type *types;
    size_t count;
} eg_rel_type_set;
#define EG_REL_TYPES_ALL ((eg_rel_type_set){NULL, 0})

typedef struct eg_graph eg_graph;

/* What eg_graph_find_nodes looks for: nodes holding a text in their string properties. */
typedef struct eg_node_text_filter {
    const char *text; /* looked for as a substring, ignoring case (code point by code point, C.UTF-8's simple
                       * lower-case mappings); it may hold NULs */
    size_t text_length;
    const char *const *properties; /* the properties looked in: a string value, or the strings of a list value */
    size_t property_count;         /* 0: every property */
    const char *id_prefix;         /* only nodes whose id starts with it; NULL or "": any id */
} eg_node_text_filter;

/* A filter prepared for a scan (graph_internal.h), as find_nodes receives it. */
typedef struct eg_node_search eg_node_search;

/* The operation table a backend or decorator implements. Arguments reaching it are already validated. */
typedef struct eg_graph_ops {
    eg_status (*create_node)(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err);
    eg_status (*get_node)(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err);
    eg_status (*get_nodes)(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err);
    eg_status (*update_node)(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err);
    eg_status (*delete_node)(eg_graph *g, const char *id, eg_label label, eg_error *err);
    eg_status (*batch_create_nodes)(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err);
    eg_status (*list_nodes)(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                            eg_error *err);
    eg_status (*count_nodes)(eg_graph *g, eg_label label, uint64_t *out, eg_error *err);
    eg_status (*find_nodes)(eg_graph *g, eg_label label, const eg_node_search *search, const char *after_id,
                            size_t limit, eg_node_list *out, eg_error *err);
    eg_status (*create_relationship)(eg_graph *g, const eg_relationship_spec *rel, eg_error *err);
    eg_status (*batch_create_relationships)(eg_graph *g, const eg_relationship_spec *rels, size_t count,
                                            eg_error *err);
    eg_status (*delete_relationship)(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                     eg_error *err);
    eg_status (*get_relationships)(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                                   eg_relationship_list *out, eg_error *err);
    eg_status (*get_relationships_batch)(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                         eg_direction dir, eg_relationship_list *out, eg_error *err);
    eg_status (*count_relationships)(eg_graph *g, uint64_t *out, eg_error *err);
    eg_status (*reweight_relationship)(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       double rate, bool strengthen, double *new_weight, eg_error *err);
    eg_status (*batch_decay_relationships)(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                           const char *session_id, eg_decay_result *out, eg_error *err);
    eg_status (*count_stale_relationships)(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                           eg_error *err);
    eg_status (*find_path)(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                           eg_rel_type_set types, eg_path *out, eg_error *err);
    /* Transactions (see eg_graph_begin). A store's table has begin (NULL for a backend without transactions) and no
     * commit or rollback; the table of a transaction begin returned has commit and rollback and no begin. */
    eg_status (*begin)(eg_graph *g, eg_graph **tx, eg_error *err);
    eg_status (*commit)(eg_graph *tx, eg_error *err);
    void (*rollback)(eg_graph *tx);
    void (*close)(eg_graph *g);
} eg_graph_ops;

struct eg_graph {
    const eg_graph_ops *ops;
    const char *name;       /* "graph": names the store in messages */
    eg_graph_schema schema; /* set by the opener (eg_graph_set_schema); decorators and transactions copy it */
};

/* ---- The embedded backend ------------------------------------------------------------------------------ */

typedef struct eg_graph_lmdb_options {
    uint64_t map_size_bytes; /* 0: 64 GiB of address space (the file grows only as data does), halved at open
                                while the process cannot reserve it (ulimit -v), down to 1 GiB */
    bool no_sync;            /* true: skip fsync at commit and write through the memory map (tests, bulk
                                loads); a killed process still loses nothing, a power cut may lose the last
                                commits */
} eg_graph_lmdb_options;

/* Opens (creating if needed) the graph store in folder `dir`. Takes an exclusive lock on the folder: a second
 * opener, in this or another process, gets EG_LOCKED. A store written by a newer format gets EG_INCOMPATIBLE.
 * options may be NULL. The store holds up to EG_STORE_NAMES_MAX labels and as many relationship types (the fixed
 * ones included: one byte each in its records); a write naming one more is EG_CONFLICT. */
eg_status eg_graph_open_lmdb(const char *dir, const eg_graph_lmdb_options *options, eg_graph **out,
                             eg_error *err);

/* ---- The Neo4j backend --------------------------------------------------------------------------------- */

/* A Neo4j server or cluster over Bolt (or `engram serve --bolt`); the fields are the Bolt client's (the pool's
 * zeros take the defaults: 50 connections, 30 s acquisition, 3600 s lifetime, 30 s timeout). */
typedef struct eg_graph_neo4j_options {
    const char *uri;      /* bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s://, neo4j+ssc:// HOST[:PORT] */
    const char *user;     /* NULL or "": no authentication */
    const char *password;
    const char *database; /* NULL or "": the server's default database */
    const char *ca_file;  /* PEM certificates to trust for +s; NULL: the system's */
    uint32_t max_connections;
    uint32_t acquisition_timeout_ms;
    uint32_t max_lifetime_ms;
    uint32_t timeout_ms;
} eg_graph_neo4j_options;

/* Opens the graph store on a Neo4j server. It connects lazily, so it opens while the server is down (operations
 * are then EG_UNAVAILABLE); the first operation runs the schema statements (unique ids, session and timestamp
 * indexes: IF NOT EXISTS). Property values must be what Neo4j stores: an object, or a list that is nested, holds
 * nulls or mixes kinds (integers and floats included), is EG_INVALID_ARGUMENT naming the property; the
 * relationship property name `decayedThrough` is reserved. docs/backends.md lists every statement it sends. */
eg_status eg_graph_open_neo4j(const eg_graph_neo4j_options *options, eg_graph **out, eg_error *err);

/* ---- Operations (validate, then call the table) -------------------------------------------------------- */

/* The schema writes are checked against (EG_SCHEMA_T4DM until set). Set it before sharing g between threads. */
void eg_graph_set_schema(eg_graph *g, eg_graph_schema schema);
const char *eg_graph_schema_name(eg_graph_schema schema);
eg_status eg_graph_schema_parse(const char *name, eg_graph_schema *out, eg_error *err);

/* Every operation that takes a label or type refuses one outside the graph's schema with EG_INVALID_ARGUMENT
 * naming it. */

/* Creates a node. Creating an existing id again with the same label and properties is a no-op (EG_OK);
 * with anything different it is EG_CONFLICT. */
eg_status eg_graph_create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err);

/* Reads a node; label may be EG_LABEL_ANY, else a node with another label is EG_NOT_FOUND. Free with
 * eg_node_clear. */
eg_status eg_graph_get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err);

/* Reads up to EG_GRAPH_BATCH_MAX nodes at once (any label), from one snapshot: the nodes that exist among ids, in
 * the order asked (missing ids are left out). Free with eg_node_list_free. */
eg_status eg_graph_get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err);

/* Merges properties into a node (a JSON null value removes that property). EG_NOT_FOUND if missing;
 * an `id` property other than the node's own is EG_INVALID_ARGUMENT. */
eg_status eg_graph_update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err);

/* Sets one property (value borrowed; JSON null removes it). */
eg_status eg_graph_update_property(eg_graph *g, const char *id, const char *name, json_t *value, eg_error *err);

/* Deletes a node and all its relationships. EG_NOT_FOUND if missing. */
eg_status eg_graph_delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err);

/* Creates up to EG_GRAPH_BATCH_MAX nodes, all or nothing (same rules as create_node; an id twice in the batch is
 * EG_INVALID_ARGUMENT). */
eg_status eg_graph_batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err);

/* Lists nodes of a label (or any) in id order, starting after `after_id` (NULL: from the start), at most
 * `limit` (1..10000). Free with eg_node_list_free. The last item's id is the cursor for the next page;
 * fewer than `limit` items means the end. */
eg_status eg_graph_list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                              eg_error *err);
eg_status eg_graph_count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err);

/* The nodes of a label (or any) that hold filter's text, in id order, after `after_id`, at most `limit`
 * (1..10000); paged as list_nodes is. The embedded store reads each node's stored text and parses only those that
 * can hold the text (util/text_search.h); the Neo4j backend lists the label's nodes and tests them in engram. */
eg_status eg_graph_find_nodes(eg_graph *g, eg_label label, const eg_node_text_filter *filter, const char *after_id,
                              size_t limit, eg_node_list *out, eg_error *err);

/* Creates a relationship, or merges properties into the existing one of the same (source, type, target).
 * EG_NOT_FOUND names the missing end. */
eg_status eg_graph_create_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       json_t *properties, eg_error *err);

/* Up to EG_GRAPH_BATCH_MAX relationships, all or nothing. */
eg_status eg_graph_batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count,
                                              eg_error *err);

/* Deletes the relationship (source, type, target); EG_NOT_FOUND if there is none. */
eg_status eg_graph_delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       eg_error *err);

/* Relationships of a node: outgoing, incoming or both, of one type or EG_REL_ANY. EG_NOT_FOUND if the node
 * is missing. Free with eg_relationship_list_free. */
eg_status eg_graph_get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                                     eg_relationship_list *out, eg_error *err);

/* The same for up to EG_GRAPH_BATCH_MAX nodes, from one snapshot: out[i] (an array of `count` lists the caller
 * provides) holds ids[i]'s relationships; a missing node gives an empty list. */
eg_status eg_graph_get_relationships_batch(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                           eg_direction dir, eg_relationship_list *out, eg_error *err);
eg_status eg_graph_count_relationships(eg_graph *g, uint64_t *out, eg_error *err);

/* Hebbian strengthening: w <- w + rate*(1 - w) (missing w counts as 0.1), coAccessCount += 1,
 * lastAccessed = now. It acts on the relationship(s) source -> target of `type` (or of every type with
 * EG_REL_ANY); when there is none in that direction, on target -> source. EG_NOT_FOUND if neither exists.
 * new_weight (may be NULL) receives the resulting weight (the highest, when several were changed).
 * rate is in [0, 1]. */
eg_status eg_graph_strengthen_relationship(eg_graph *g, const char *source_id, const char *target_id,
                                           eg_rel_type type, double learning_rate, double *new_weight,
                                           eg_error *err);

/* The inverse: w <- w * (1 - rate), same selection rules; lastAccessed is not changed. */
eg_status eg_graph_weaken_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                       double rate, double *new_weight, eg_error *err);

/* Decays stale relationships in one transaction. A relationship is stale when lastAccessed is older than
 * stale_days. Decay is elapsed-time based and idempotent: a stale relationship loses a factor (1 - decay_rate)
 * for each whole day it has spent stale since it became stale or was last decayed, so running this hourly,
 * daily or monthly gives the same weights, and running it twice in a row changes nothing the second time.
 * Stale relationships whose weight falls below min_weight are removed; fresh ones never are.
 * session_id (may be NULL) keeps only relationships whose source node has that `sessionId` property. */
eg_status eg_graph_batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                             const char *session_id, eg_decay_result *out, eg_error *err);

/* How many relationships are stale (same definition and session_id scope). */
eg_status eg_graph_count_stale_relationships(eg_graph *g, double stale_days, const char *session_id,
                                             uint64_t *out, eg_error *err);

/* A shortest path between two nodes, ignoring direction, of at most max_depth (1..10) relationships, using only
 * the types in `types` (none: all). out->node_count == 0 when there is none. EG_NOT_FOUND names a missing end.
 * Free with eg_path_clear. */
eg_status eg_graph_find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                             eg_rel_type_set types, eg_path *out, eg_error *err);

/* ---- Transactions ------------------------------------------------------------------------------------- */

/* Begins a write transaction: *tx is an eg_graph on which every operation above runs inside it. Its reads see its
 * own writes; nobody else sees them until eg_graph_commit, and eg_graph_rollback drops them. It is the store's one
 * writer while open — other writers (and other begins) wait until it ends, readers never do and see the store as
 * it was before — so keep it short. It belongs to the thread that began it: every call on tx, its commit and its
 * rollback come from that thread, and that thread makes no call on g (nor begins another transaction) until tx
 * ends (the embedded store refuses such a write or begin with EG_INVALID_ARGUMENT rather than wait for itself).
 *
 * A write operation that fails inside tx — refused by the store (EG_CONFLICT, EG_NOT_FOUND, ...) or by a
 * decorator such as a circuit breaker or an injected fault — may have done part of its work, so it leaves tx good
 * only for eg_graph_rollback: eg_graph_commit then refuses with EG_CONFLICT and drops everything. A read that fails
 * changed nothing and leaves tx as it was, and so does an argument error (caught before anything runs).
 *
 * A process that dies with tx open leaves the store as it was at begin. EG_INVALID_ARGUMENT for a NULL g or tx, for
 * a g that is itself a transaction (they do not nest) and for a backend without transactions. */
eg_status eg_graph_begin(eg_graph *g, eg_graph **tx, eg_error *err);

/* Makes tx's writes durable (as durable as one operation's: see no_sync) and visible, and ends tx (freed, whatever
 * the outcome). EG_INVALID_ARGUMENT (and nothing ends) for a NULL tx or a handle that is not a transaction. */
eg_status eg_graph_commit(eg_graph *tx, eg_error *err);

/* Drops tx's writes and ends tx (freed). It cannot fail. NULL, or a handle that is not a transaction, is ignored.
 * eg_graph_close(tx) does the same. */
void eg_graph_rollback(eg_graph *tx);

/* Closes the store and frees g. NULL is ignored. A transaction of another thread still open on g is waited for;
 * one of the calling thread's is rolled back, and its tx then answers every call with EG_CONFLICT until its
 * eg_graph_commit or eg_graph_rollback frees it. */
void eg_graph_close(eg_graph *g);

void eg_node_clear(eg_node *node);
void eg_node_list_free(eg_node_list *list);
void eg_relationship_clear(eg_relationship *rel);
void eg_relationship_list_free(eg_relationship_list *list);
void eg_path_clear(eg_path *path);

#ifdef __cplusplus
}
#endif
#endif
