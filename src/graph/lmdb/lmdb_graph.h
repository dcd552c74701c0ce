/* lmdb_graph.h — the embedded graph backend's layout and shared helpers (internal).
 *
 * One LMDB environment, six named databases. Nodes get a dense internal number (nid) at creation so that
 * adjacency is compact and fixed-size; ids are resolved to nids through one B-tree lookup.
 *
 *   ids      id (bytes)                          -> nid (u64)
 *   nodes    nid (u64, integer key)              -> label (u8) | id length (u8) | id | properties JSON
 *   labels   label (u8) | id                     -> nid             (list_nodes by label, in id order)
 *   adj      nid (u64, integer key), dup-sorted, fixed-size values:
 *            other nid (u64) | type (u8) | direction (u8: 0 out, 1 in)   — every relationship appears twice,
 *            once at each end, so traversal ignoring direction reads one key
 *   rels     source nid (u64 BE) | type (u8) | target nid (u64 BE)
 *            -> rel_header | other properties JSON (empty: none)
 *   meta     "format" -> u32; "next_nid" -> u64; "count.<label>" and "count.rels" -> u64
 *
 * Invariants: ids, nodes and labels agree; a rels record exists iff both of its adj entries exist; counts equal
 * the number of records. Every operation runs in one LMDB transaction, so each holds across crashes. */
#ifndef ENGRAM_GRAPH_LMDB_H
#define ENGRAM_GRAPH_LMDB_H

#include "graph/graph_internal.h"

#include <lmdb.h>
#include <stdint.h>

#define LMDB_GRAPH_FORMAT 1u

typedef struct lmdb_graph {
    eg_graph base;
    MDB_env *env;
    MDB_dbi ids, nodes, labels, adj, rels, meta;
    int lock_fd;
} lmdb_graph;

enum { ADJ_OUT = 0, ADJ_IN = 1 };

typedef struct adj_entry {
    uint64_t other;
    uint8_t type;
    uint8_t dir;
} adj_entry;
#define ADJ_ENTRY_SIZE 10

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

/* LMDB result code -> eg_status with a message naming the operation. */
eg_status lg_mdb_error(int rc, const char *op, eg_error *err);

eg_status lg_begin(lmdb_graph *lg, bool write, MDB_txn **txn, eg_error *err);
eg_status lg_commit(MDB_txn *txn, const char *op, eg_error *err);

/* Resolves an id to its nid; EG_NOT_FOUND names the id and `role` ("node", "source node", ...). */
eg_status lg_lookup_nid(lmdb_graph *lg, MDB_txn *txn, const char *id, const char *role, uint64_t *nid,
                        eg_error *err);

/* Reads a node record by nid. Decodes properties only when props != NULL. */
eg_status lg_read_node(lmdb_graph *lg, MDB_txn *txn, uint64_t nid, eg_node *out, bool with_properties,
                       eg_error *err);

/* Adds delta to a meta counter. */
eg_status lg_count_add(lmdb_graph *lg, MDB_txn *txn, const char *name, int64_t delta, eg_error *err);
eg_status lg_count_get(lmdb_graph *lg, MDB_txn *txn, const char *name, uint64_t *out, eg_error *err);
void lg_label_counter(eg_label label, char out[32]);

void lg_encode_adj(const adj_entry *e, unsigned char out[ADJ_ENTRY_SIZE]);
void lg_decode_adj(const unsigned char in[ADJ_ENTRY_SIZE], adj_entry *e);
void lg_encode_rel_key(const rel_key *k, unsigned char out[REL_KEY_SIZE]);
void lg_decode_rel_key(const unsigned char in[REL_KEY_SIZE], rel_key *k);
void lg_decode_rel_header(const void *data, rel_header *h);
void lg_encode_rel_header(const rel_header *h, void *out);

/* Removes the relationship `k` (its record and both adjacency entries) and decrements the count. */
eg_status lg_remove_relationship(lmdb_graph *lg, MDB_txn *txn, const rel_key *k, eg_error *err);

/* Builds the public relationship from its key and stored value (ids resolved through the nodes). */
eg_status lg_make_relationship(lmdb_graph *lg, MDB_txn *txn, const rel_key *k, const MDB_val *value,
                               eg_relationship *out, eg_error *err);

/* Operation table entries implemented per file. */
eg_status lg_create_node(eg_graph *g, eg_label label, const char *id, json_t *properties, eg_error *err);
eg_status lg_get_node(eg_graph *g, const char *id, eg_label label, eg_node *out, eg_error *err);
eg_status lg_update_node(eg_graph *g, const char *id, json_t *properties, eg_label label, eg_error *err);
eg_status lg_delete_node(eg_graph *g, const char *id, eg_label label, eg_error *err);
eg_status lg_batch_create_nodes(eg_graph *g, const eg_node_spec *nodes, size_t count, eg_error *err);
eg_status lg_list_nodes(eg_graph *g, eg_label label, const char *after_id, size_t limit, eg_node_list *out,
                        eg_error *err);
eg_status lg_count_nodes(eg_graph *g, eg_label label, uint64_t *out, eg_error *err);
eg_status lg_create_relationship(eg_graph *g, const eg_relationship_spec *rel, eg_error *err);
eg_status lg_batch_create_relationships(eg_graph *g, const eg_relationship_spec *rels, size_t count, eg_error *err);
eg_status lg_delete_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                 eg_error *err);
eg_status lg_get_relationships(eg_graph *g, const char *id, eg_rel_type type, eg_direction dir,
                               eg_relationship_list *out, eg_error *err);
eg_status lg_count_relationships(eg_graph *g, uint64_t *out, eg_error *err);
eg_status lg_reweight_relationship(eg_graph *g, const char *source_id, const char *target_id, eg_rel_type type,
                                   double rate, bool strengthen, double *new_weight, eg_error *err);
eg_status lg_batch_decay_relationships(eg_graph *g, double stale_days, double decay_rate, double min_weight,
                                       const char *session_id, eg_decay_result *out, eg_error *err);
eg_status lg_count_stale_relationships(eg_graph *g, double stale_days, const char *session_id, uint64_t *out,
                                       eg_error *err);
eg_status lg_find_path(eg_graph *g, const char *source_id, const char *target_id, int max_depth,
                       eg_rel_type_set types, eg_path *out, eg_error *err);

#endif
