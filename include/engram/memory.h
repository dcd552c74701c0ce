/* engram/memory.h — the memory API: one memory is a vector point and a graph node with the same id, written,
 * changed and removed together by durable sagas, so that after any crash it is in both stores or in neither.
 *
 * Types: episode (label Episode, collection "episodes"), entity (Entity, "entities"), procedure (Procedure,
 * "procedures"). A type's collection is created on first use with the first vector's dimension and Cosine
 * distance, with keyword index on session_id and integer index on created_at; create the collection yourself
 * (eg_vectors_create_collection) beforehand to choose another distance.
 *
 * Ids: a memory id is a point id in text (a UUID, any case, or a decimal unsigned 64-bit integer); the node id is
 * its canonical form (lower-case hyphenated UUID, or the decimal number), and so is every id this API returns.
 *
 * What is stored
 *   vector point  id, vector, payload = the caller's payload + "created_at" (+ "session_id" when given)
 *   graph node    id, label, properties = the caller's properties + "created_at" (+ "sessionId" when given)
 * created_at is epoch milliseconds: the caller's, or the time of the create. The caller's payload and properties
 * may not carry those reserved keys (created_at, session_id, sessionId) themselves: EG_INVALID_ARGUMENT.
 *
 * Durability: when a write returns EG_OK it survives a killed process (and, unless the folder was opened with
 * EG_DURABILITY_NONE, a power cut). When it fails, nothing of it remains — its completed steps were compensated —
 * unless compensation itself failed: then the error says so, and a dead letter (listed by eg_memory_check) keeps
 * the report and the pre-images until a repair; or, when not even the dead letter can be written (a full disk),
 * the error says that, and the next open of the data folder undoes the write from the log.
 *
 * Threads: every function may be called from many threads at once on one eg_db. Writes to the same id are
 * serialised; eg_memory_check waits for running writes and holds new ones while it scans. */
#ifndef ENGRAM_MEMORY_H
#define ENGRAM_MEMORY_H

#include <engram/graph.h>
#include <engram/status.h>
#include <engram/vectors.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eg_db eg_db;

typedef enum eg_memory_type { EG_MEMORY_EPISODE = 0, EG_MEMORY_ENTITY, EG_MEMORY_PROCEDURE, EG_MEMORY_TYPE_COUNT } eg_memory_type;

/* "episode", "entity", "procedure". */
const char *eg_memory_type_name(eg_memory_type type);
/* Accepts the singular ("episode"), the plural ("episodes", the collection) and the label ("Episode"). */
eg_status eg_memory_type_parse(const char *name, eg_memory_type *out, eg_error *err);
const char *eg_memory_collection(eg_memory_type type);
eg_label eg_memory_label(eg_memory_type type);

#define EG_MEMORY_RELATIONSHIPS_MAX EG_GRAPH_BATCH_MAX /* relationships given to one create */
#define EG_MEMORY_BATCH_MAX EG_VECTOR_BATCH_MAX         /* memories given to one eg_memory_batch_create */
#define EG_RECALL_EXPAND_MAX 2
#define EG_RECALL_NEIGHBORS_MAX 10000                  /* neighbours one recall returns in all */

/* A relationship from the new memory to an existing node. properties may be NULL. */
typedef struct eg_memory_relationship {
    const char *target_id;
    eg_rel_type type;
    json_t *properties;
} eg_memory_relationship;

typedef struct eg_memory_spec {
    eg_memory_type type;
    const char *id;
    const float *vector; /* dim finite values */
    size_t dim;
    json_t *payload;     /* an object, or NULL */
    json_t *properties;  /* an object, or NULL */
    const char *session_id; /* NULL: none */
    bool has_created_at;
    int64_t created_at;  /* epoch ms >= 0, when has_created_at */
    const eg_memory_relationship *relationships;
    size_t relationship_count;
} eg_memory_spec;

/* Creates the memory: the vector point, then the graph node, then its relationships (whose targets must exist:
 * else EG_NOT_FOUND naming them, and nothing is written). Creating it again with the same content (vector,
 * payload, properties, session, relationships; created_at too when given) is EG_OK and changes nothing;
 * different content under the same id is EG_CONFLICT, and so is an id that is a memory of another type or that
 * exists in one store only (an orphan: see eg_memory_check). *out_id (may be NULL) receives the canonical id. */
eg_status eg_memory_create(eg_db *db, const eg_memory_spec *spec, char out_id[EG_POINT_ID_TEXT], eg_error *err);

/* Creates count memories (0..EG_MEMORY_BATCH_MAX) in one call, all or nothing: an import. Each item means what
 * it means to eg_memory_create, with two differences: its relationships may also target the other memories of
 * the batch (by canonical id, wherever they stand in it), and a failure of any item fails the batch.
 *   Checks: every item is checked — its spec, its id (twice in the batch: EG_INVALID_ARGUMENT), its vector's
 *     dimension (one per type within the batch, and the type's collection's), whether it exists (a repeat with
 *     the same content is skipped; other content, another type or an orphan is EG_CONFLICT), whether it is
 *     archived (EG_CONFLICT), its relationship targets (EG_NOT_FOUND) — before anything is written. A refused batch
 *     leaves no trace, and its error starts with the item it names: "memory 17 (id ...): ...".
 *   Writing: the new memories are written by one saga (create_memories): one vector upsert per type's collection,
 *     then the nodes, then the relationships, in batches of EG_GRAPH_BATCH_MAX. Its intent logs only the new ids
 *     and types, and the batch waits for the disk twice in all (the intent, and the step that commits it), where
 *     as many single creates wait twice each. The ids' write locks are held from the first read to the end; a
 *     batch whose ids fall in more than half of the 64 lock stripes holds every memory write instead.
 *   Failure: every memory the batch created is removed again (a repeat, which it did not create, stays), also
 *     after a crash at any instant: the next open finds all of the new memories or none. When the undo fails, one
 *     dead letter covers the batch and freezes each id it was creating, as for one create.
 *   Degraded mode (degrade.write_policy = queue): a store that does not answer gets each memory's write queued,
 *     as for single creates; with the graph unavailable, relationship targets are not checked.
 * count 0 is EG_OK and does nothing, specs may then be NULL. out_ids (may be NULL) is an array of count: out_ids[i]
 * receives item i's canonical id, written only on EG_OK. The batch's vectors, payloads and properties are the
 * caller's, read during the call only. */
eg_status eg_memory_batch_create(eg_db *db, const eg_memory_spec *specs, size_t count,
                                 char (*out_ids)[EG_POINT_ID_TEXT], eg_error *err);

/* Merges payload into the point's payload and properties into the node's (a JSON null in properties removes that
 * property; in payload it is stored as null, as Qdrant does). Either may be NULL, not both. EG_NOT_FOUND when the
 * memory does not exist. On failure both are put back as they were. */
eg_status eg_memory_update(eg_db *db, eg_memory_type type, const char *id, json_t *payload, json_t *properties,
                           eg_error *err);

/* Deletes the memory: its point, its node and every relationship of the node. The pre-image (vector, sparse
 * vector, payload, node, relationships) is read first and logged; if it cannot be read, nothing is deleted. On
 * failure everything is restored (relationships whose other end still exists). A memory found in one store only
 * is deleted from it. EG_NOT_FOUND when it is in neither. */
eg_status eg_memory_delete(eg_db *db, eg_memory_type type, const char *id, eg_error *err);

typedef struct eg_recall_request {
    eg_memory_type type;
    const float *vector;
    size_t dim;
    size_t limit;             /* 1..EG_SEARCH_LIMIT_MAX; 0: 10 */
    const eg_filter *filter;  /* NULL: all */
    const char *session_id;   /* NULL: all sessions */
    int expand;               /* 0..EG_RECALL_EXPAND_MAX: relationship hops of graph context per hit */
} eg_recall_request;

/* Similarity search over a type's memories, then each hit's node and, for expand > 0, the relationships and
 * nodes within `expand` hops of it — read in batches (one call per hop for all hits), not one call per hit.
 * *out is a new JSON object:
 *   {"memories": [{"id", "score", "payload", "node": node or null,
 *                  "relationships": [relationship], "neighbors": [{"id", "label", "properties", "depth"}]}],
 *    "truncated": bool}
 * relationships are those met while expanding (each once per hit), neighbors the nodes reached (depth 1 or 2,
 * the hit itself excluded). truncated is true when EG_RECALL_NEIGHBORS_MAX cut the expansion. A type whose
 * collection does not exist yet has no memories: {"memories": []}. */
eg_status eg_memory_recall(eg_db *db, const eg_recall_request *request, json_t **out, eg_error *err);

/* Compares both stores: every memory id must be a point of the type's collection and a node of its label.
 * With repair, each orphan (present in one store only) is removed, or restored whole when a dead letter holds
 * its pre-image (a delete whose compensation failed); dead letters whose memory is then consistent are
 * resolved. *out is a new JSON object:
 *   {"consistent": bool, "memories": n, "orphans": [{"id", "type", "in": "vectors"|"graph"}],
 *    "dead_letters": [report], "repaired": [{"id", "type", "action": "removed"|"restored"}], "resolved": [saga id]}
 * orphans are those found, before any repair; dead_letters those left after it. consistent means no orphan and no
 * dead letter remain (after the repair, when repairing). */
eg_status eg_memory_check(eg_db *db, bool repair, json_t **out, eg_error *err);

#ifdef __cplusplus
}
#endif
#endif
