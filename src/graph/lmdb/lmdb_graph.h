/* lmdb_graph.h — the embedded graph backend's layout and shared helpers (internal).
 *
 * One LMDB environment, six named databases. Nodes get a dense internal number (nid) at creation so that
 * relationship keys are short and fixed-size; ids are resolved to nids through one B-tree lookup.
 *
 *   ids      id (bytes)                          -> nid (u64)
 *   nodes    nid (u64, integer key)              -> label (u8) | id length (u8) | id | properties JSON
 *   labels   label (u8) | id                     -> nid             (list_nodes by label, in id order)
 *   rels     source nid (u64 BE) | type (u8) | target nid (u64 BE)
 *            -> rel_header | other properties JSON (empty: none)
 *   rels_in  target nid (u64 BE) | type (u8) | source nid (u64 BE) -> empty   (the mirror of rels)
 *   meta     "format" -> u32; "next_nid" -> u64; "count.<label>" and "count.rels" -> u64; the names of the
 *            label and type codes (lmdb_vocabulary.c)
 *
 * A label or type is stored as the store's one-byte code: the fixed vocabulary's codes are its enumerators, open
 * names get theirs as the store first writes them.
 *
 * Big-endian nids put all of a node's outgoing relationships next to each other in rels and all its incoming
 * ones next to each other in rels_in, so a node's neighbourhood is two short range scans (lmdb_adjacency.c).
 * Two plain B-trees, rather than a dup-sorted adjacency list beside the records, keep a relationship's cost to
 * two inserts: bulk loads are bound by how many B-tree pages each relationship dirties.
 *
 * Invariants: ids, nodes and labels agree; a rels record exists iff its rels_in mirror does; counts equal the
 * number of records. Every operation runs in one LMDB transaction, so each holds across crashes.
 *
 * Graph transactions (lmdb_tx.c): eg_graph_begin returns a view of the store, an lmdb_graph with the same
 * environment and tables whose tx_txn is one open LMDB write transaction. Every operation asks lg_begin for its
 * transaction and ends it with lg_commit, lg_end (reads) or lg_abort (failed writes); on a view those hand out
 * and keep tx_txn, and a failed write marks the view failed instead of aborting, so the operations themselves
 * do not know whether they run alone or inside a graph transaction. */
#ifndef ENGRAM_GRAPH_LMDB_H
#define ENGRAM_GRAPH_LMDB_H

#include "graph/graph_internal.h"

#include "util/lmdb_env.h"

#include <lmdb.h>
#include <stdint.h>

#define LMDB_GRAPH_FORMAT 1u

typedef struct lg_transactions lg_transactions;

typedef struct lmdb_graph {
    eg_graph base;
    eg_lmdb_env lmdb;
    MDB_dbi ids, nodes, labels, rels, rels_in, meta;
    lg_transactions *transactions; /* the store's record of its open graph transaction; views share it */
    bool is_view;                  /* a graph transaction's view (below), not the store itself */
    MDB_txn *tx_txn;               /* a view's open write transaction; NULL once the store was closed under it */
    bool tx_failed;                /* a view's: a write failed inside it, so it may only be rolled back */
} lmdb_graph;

typedef struct rel_key {
    uint64_t source;
    uint8_t type;
    uint64_t target;
} rel_key;
#define REL_KEY_SIZE 17

/* Typed relationship fields kept outside the JSON so decay and strengthen never parse text. */
typedef struct rel_header {
    int64_t last_accessed;   /* epoch ms */
    double weight;           /* NaN: not set */
    int64_t co_access_count; /* -1: not set */
    int64_t decayed_through; /* epoch ms up to which decay has been applied; 0: never */
} rel_header;
#define REL_HEADER_SIZE 32

static inline lmdb_graph *lmdb_of(eg_graph *g) { return (lmdb_graph *)g; }

/* LMDB result code -> eg_status with a message naming the operation (see util/lmdb_env.h). */
eg_status lg_mdb_error(lmdb_graph *lg, int rc, const char *op, eg_error *err);

/* An operation's transaction: a new one on the store, the open one on a graph transaction's view. */
eg_status lg_begin(lmdb_graph *lg, bool write, MDB_txn **txn, eg_error *err);
/* Ends a successful write: commits it on the store, keeps it open on a view. */
eg_status lg_commit(lmdb_graph *lg, MDB_txn *txn, const char *op, eg_error *err);
/* Ends a read: aborts it on the store, keeps it open on a view. */
void lg_end(lmdb_graph *lg, MDB_txn *txn);
/* Ends a failed write: aborts it on the store; on a view, whose transaction may hold part of the write, marks the
 * view failed (its commit will refuse and drop everything). */
void lg_abort(lmdb_graph *lg, MDB_txn *txn);

/* Graph transactions (lmdb_tx.c): the store's bookkeeping, made at open and freed at close. */
eg_status lg_transactions_new(lmdb_graph *store, eg_error *err);
/* Waits for another thread's open transaction to end; one of this thread's is rolled back and its view left
 * answering that the store was closed. Then frees the bookkeeping. */
void lg_transactions_free(lmdb_graph *store);
/* Whether the calling thread has a transaction open on the store: a write of its own on the store, or another
 * begin, would wait for that transaction forever. */
bool lg_in_transaction(lmdb_graph *store);
eg_status lg_tx_begin(eg_graph *g, eg_graph **tx, eg_error *err);

/* Resolves an id to its nid; EG_NOT_FOUND names the id and `role` ("node", "source node", ...). */
eg_status lg_lookup_nid(lmdb_graph *lg, MDB_txn *txn, const char *id, const char *role, uint64_t *nid,
                        eg_error *err);

/* Reads a node record by nid; decodes its properties only when with_properties. */
eg_status lg_read_node(lmdb_graph *lg, MDB_txn *txn, uint64_t nid, eg_node *out, bool with_properties,
                       eg_error *err);

/* Adds delta to a meta counter. */
eg_status lg_count_add(lmdb_graph *lg, MDB_txn *txn, const char *name, int64_t delta, eg_error *err);
eg_status lg_count_get(lmdb_graph *lg, MDB_txn *txn, const char *name, uint64_t *out, eg_error *err);
/* The meta counter of a label's nodes: "count.<name>". */
#define LG_COUNTER_MAX (8 + EG_NAME_MAX)
void lg_label_counter(eg_label label, char out[LG_COUNTER_MAX]);

/* The store's one-byte codes of labels and types (lmdb_vocabulary.c). */
typedef enum lg_vocab { LG_VOCAB_LABEL, LG_VOCAB_TYPE } lg_vocab;
/* The code of a label or type (a process code: eg_label or eg_rel_type). One the store does not hold yet is
 * given the next free code when create (a write transaction), else EG_NOT_FOUND: nothing in the store has it. */
eg_status lg_vocab_code(lmdb_graph *lg, MDB_txn *txn, lg_vocab which, int global, bool create, uint8_t *code,
                        eg_error *err);
/* The process code of a store code. */
eg_status lg_vocab_global(lmdb_graph *lg, MDB_txn *txn, lg_vocab which, uint8_t code, int *global, eg_error *err);
/* How many codes the store uses: they are 0 .. *size - 1. */
eg_status lg_vocab_size(lmdb_graph *lg, MDB_txn *txn, lg_vocab which, unsigned *size, eg_error *err);

/* rels keys, and (mirrored: target first) rels_in keys. */
void lg_encode_rel_key(const rel_key *k, unsigned char out[REL_KEY_SIZE]);
void lg_decode_rel_key(const unsigned char in[REL_KEY_SIZE], rel_key *k);
void lg_encode_mirror_key(const rel_key *k, unsigned char out[REL_KEY_SIZE]);
void lg_decode_mirror_key(const unsigned char in[REL_KEY_SIZE], rel_key *k);
void lg_decode_rel_header(const void *data, rel_header *h);
void lg_encode_rel_header(const rel_header *h, void *out);

/* Removes the relationship `k` (its record and its mirror) and decrements the count. */
eg_status lg_remove_relationship(lmdb_graph *lg, MDB_txn *txn, const rel_key *k, eg_error *err);

/* A node whose id the caller already has: reading a node's relationships names it at one end of each. */
typedef struct lg_known_node {
    uint64_t nid;
    char id[EG_ID_MAX + 1];
} lg_known_node;

/* Builds the public relationship from its key and stored value (ids resolved through the nodes; known may be
 * NULL). */
eg_status lg_make_relationship(lmdb_graph *lg, MDB_txn *txn, const rel_key *k, const MDB_val *value,
                               const lg_known_node *known, eg_relationship *out, eg_error *err);

/* A node's neighbourhood (lmdb_adjacency.c): two cursors reused across scans within one transaction. */
enum { LG_OUT = 1, LG_IN = 2, LG_BOTH = 3 };

typedef struct lg_adjacency {
    lmdb_graph *lg;
    MDB_cursor *out, *in;
} lg_adjacency;

/* Called per relationship of the scanned node: its key, the direction seen from the node (LG_OUT or LG_IN), and
 * for outgoing ones the stored record (NULL for incoming ones: read it from rels when needed). Returning
 * anything but EG_OK stops the scan with that status. */
typedef eg_status (*lg_adjacency_visit)(void *ctx, const rel_key *key, int dir, const MDB_val *record,
                                        eg_error *err);

eg_status lg_adjacency_open(lmdb_graph *lg, MDB_txn *txn, lg_adjacency *a, eg_error *err);
void lg_adjacency_close(lg_adjacency *a);
/* Visits the relationships of nid in the directions of `dirs` (LG_OUT, LG_IN or LG_BOTH), outgoing first. */
eg_status lg_adjacency_scan(lg_adjacency *a, uint64_t nid, int dirs, lg_adjacency_visit visit, void *ctx,
                            eg_error *err);

/* Operation table entries implemented per file. */
eg_status lg_create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err);
eg_status lg_get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err);
eg_status lg_get_nodes(eg_graph *g, const char *const *ids, size_t count, eg_node_list *out, eg_error *err);
eg_status lg_update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err);
eg_status lg_delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err);
eg_status lg_batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err);
eg_status lg_find_nodes(eg_graph *g, eg_label label, const eg_node_search *search, const char *after_id,
                        size_t limit, eg_node_list *out, eg_error *err);
eg_status lg_list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                        eg_error *err);
eg_status lg_count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err);
eg_status lg_create_relationship(eg_graph *g, const eg_relationship_spec *rel, eg_error *err);
eg_status lg_batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count, eg_error *err);
eg_status lg_delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                 eg_error *err);
eg_status lg_get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                               eg_relationship_list *out, eg_error *err);
eg_status lg_get_relationships_batch(eg_graph *g, const char *const *ids, size_t count, eg_rel_type type,
                                     eg_direction dir, eg_relationship_list *out, eg_error *err);
eg_status lg_count_relationships(eg_graph *g, uint64_t *out, eg_error *err);
eg_status lg_reweight_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                   double rate, bool strengthen, double *new_weight, eg_error *err);
eg_status lg_batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                       const char *session_id, eg_decay_result *out, eg_error *err);
eg_status lg_count_stale_relationships(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                       eg_error *err);
eg_status lg_find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                       eg_rel_type_set types, eg_path *out, eg_error *err);

/* The entries above, for the store's operation table and its transactions' (one list, so they cannot drift). */
#define LG_OPERATIONS                                                                                                \
    .create_node = lg_create_node, .get_node = lg_get_node, .get_nodes = lg_get_nodes,                               \
    .update_node = lg_update_node, .delete_node = lg_delete_node, .batch_create_nodes = lg_batch_create_nodes,        \
    .list_nodes = lg_list_nodes, .count_nodes = lg_count_nodes, .find_nodes = lg_find_nodes,                         \
    .create_relationship = lg_create_relationship,                                                                   \
    .batch_create_relationships = lg_batch_create_relationships, .delete_relationship = lg_delete_relationship,      \
    .get_relationships = lg_get_relationships, .get_relationships_batch = lg_get_relationships_batch,                \
    .count_relationships = lg_count_relationships, .reweight_relationship = lg_reweight_relationship,                \
    .batch_decay_relationships = lg_batch_decay_relationships,                                                       \
    .count_stale_relationships = lg_count_stale_relationships, .find_path = lg_find_path

#endif
