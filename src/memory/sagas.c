/* sagas.c — the three memory sagas and their steps. Every compensation is idempotent (delete-if-exists,
 * restore-if-missing) and works from the logged arguments alone, since recovery runs it with no live input; the
 * last step of each saga is its point of no return, so a saga whose every step is logged is finished by recovery
 * rather than undone.
 *
 *   create_memory  args {id, type, relationships: [{target_id, type}]}; input eg_create_input
 *     upsert_vector         upsert the point            | delete the point
 *     create_node           create the node             | delete the node (and its relationships)
 *     create_relationships  create the relationships    | delete them
 *   update_memory  args {id, type, payload, payload_before, properties, properties_undo} (null: not changed)
 *     update_payload        merge payload               | overwrite with payload_before
 *     update_node           merge properties            | merge properties_undo (old values, null for new keys)
 *   delete_memory  args {id, type, point: {vector, sparse_vector?, payload} | null,
 *                        node: {properties} | null, relationships: [relationship]}
 *     delete_vector         delete the point            | upsert the pre-image
 *     delete_node           delete node, relationships  | create the node, then the relationships whose other
 *                                                         end still exists */
#include "db/db_internal.h"
#include "model/json_shapes.h"

#include <stdlib.h>
#include <string.h>

typedef struct memory_args {
    const char *id;
    eg_point_id pid;
    eg_memory_type type;
} memory_args;

/* The id and type every memory saga logs; checked again, since recovery reads them back from disk. */
static eg_status read_args(json_t *args, memory_args *out, eg_error *err) {
    char canonical[EG_POINT_ID_TEXT];
    out->id = json_string_value(json_object_get(args, "id"));
    eg_status st = eg_memory_id(out->id, &out->pid, canonical, err);
    if (st == EG_OK) st = eg_memory_type_parse(json_string_value(json_object_get(args, "type")), &out->type, err);
    return eg_error_prefix(err, st, "saga arguments: ");
}

/* Treats "already gone" as done: what a compensation or a re-run of a delete wants. */
static eg_status gone_is_ok(eg_status st, eg_error *err) {
    if (st == EG_NOT_FOUND) {
        eg_error_clear(err);
        return EG_OK;
    }
    return st;
}

static eg_status delete_point(eg_db *db, const memory_args *a, eg_error *err) {
    return gone_is_ok(eg_vectors_delete(db->vectors, eg_memory_collection(a->type), &a->pid, 1, NULL, NULL, err),
                      err);
}

static eg_status delete_node(eg_db *db, const memory_args *a, eg_error *err) {
    return gone_is_ok(eg_graph_delete_node(db->graph, a->id, eg_memory_label(a->type), err), err);
}

/* ---- create_memory ------------------------------------------------------------------------------------------ */

/* The forward actions of a create need its live input; recovery never runs them (its last step is the point of
 * no return), so a missing input is a bug, reported rather than dereferenced. */
static eg_status need_input(const void *input, eg_error *err) {
    return input ? EG_OK : eg_error_set(err, EG_INTERNAL, "create_memory: a forward action ran without its input");
}

static eg_status create_upsert_vector(void *env, json_t *args, void *input, eg_error *err) {
    (void)args;
    eg_db *db = env;
    const eg_create_input *in = input;
    if (!in) return need_input(in, err);
    return eg_vectors_upsert(db->vectors, in->collection, &in->point, 1, err);
}

static eg_status create_undo_vector(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    return st ? st : delete_point(env, &a, err);
}

static eg_status create_node(void *env, json_t *args, void *input, eg_error *err) {
    eg_db *db = env;
    const eg_create_input *in = input;
    memory_args a;
    eg_status st = need_input(in, err);
    if (st == EG_OK) st = read_args(args, &a, err);
    return st ? st : eg_graph_create_node(db->graph, eg_memory_label(a.type), a.id, in->properties, err);
}

static eg_status create_undo_node(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    return st ? st : delete_node(env, &a, err);
}

static eg_status create_relationships(void *env, json_t *args, void *input, eg_error *err) {
    (void)args;
    eg_db *db = env;
    const eg_create_input *in = input;
    if (!in) return need_input(in, err);
    if (in->relationship_count == 0) return EG_OK;
    return eg_graph_batch_create_relationships(db->graph, in->relationships, in->relationship_count, err);
}

static eg_status create_undo_relationships(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    eg_db *db = env;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    size_t i;
    json_t *rel;
    json_array_foreach(json_object_get(args, "relationships"), i, rel) {
        eg_rel_type type;
        if (st == EG_OK) st = eg_rel_type_parse(json_string_value(json_object_get(rel, "type")), &type, err);
        if (st == EG_OK)
            st = gone_is_ok(eg_graph_delete_relationship(
                                db->graph, a.id, json_string_value(json_object_get(rel, "target_id")), type, err),
                            err);
    }
    return st;
}

/* ---- update_memory ------------------------------------------------------------------------------------------ */

static eg_status set_payload(eg_db *db, json_t *args, const char *key, eg_payload_mode mode, eg_error *err) {
    memory_args a;
    eg_status st = read_args(args, &a, err);
    json_t *payload = json_object_get(args, key);
    if (st != EG_OK || !json_is_object(payload)) return st;
    return eg_vectors_set_payload(db->vectors, eg_memory_collection(a.type), &a.pid, 1, payload, mode, err);
}

static eg_status update_node(eg_db *db, json_t *args, const char *key, eg_error *err) {
    memory_args a;
    eg_status st = read_args(args, &a, err);
    json_t *properties = json_object_get(args, key);
    if (st != EG_OK || !json_is_object(properties)) return st;
    return eg_graph_update_node(db->graph, a.id, properties, eg_memory_label(a.type), err);
}

static eg_status update_payload_forward(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return set_payload(env, args, "payload", EG_PAYLOAD_MERGE, err);
}

static eg_status update_payload_undo(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    /* Only a payload that was changed is put back; a point deleted since has nothing to put it on. */
    if (!json_is_object(json_object_get(args, "payload"))) return EG_OK;
    return gone_is_ok(set_payload(env, args, "payload_before", EG_PAYLOAD_OVERWRITE, err), err);
}

static eg_status update_node_forward(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return update_node(env, args, "properties", err);
}

static eg_status update_node_undo(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return gone_is_ok(update_node(env, args, "properties_undo", err), err);
}

/* ---- delete_memory ------------------------------------------------------------------------------------------ */

static eg_status delete_vector_forward(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || json_is_null(json_object_get(args, "point"))) return st;
    return delete_point(env, &a, err);
}

/* The logged sparse vector back into arrays (free both). */
static eg_status sparse_from_json(json_t *sparse, eg_sparse_vector *out, eg_error *err) {
    json_t *indices = json_object_get(sparse, "indices");
    size_t n = json_array_size(indices), count = 0;
    eg_status st = eg_floats_from_json(json_object_get(sparse, "values"), "sparse_vector.values", &out->values,
                                       &count, err);
    if (st != EG_OK) return st;
    if (count != n || !(out->indices = malloc((n ? n : 1) * sizeof *out->indices)))
        return eg_error_set(err, EG_CORRUPT, "saga arguments: a logged sparse vector does not pair up");
    for (size_t i = 0; i < n; i++) out->indices[i] = (uint32_t)json_integer_value(json_array_get(indices, i));
    out->count = n;
    return EG_OK;
}

static eg_status delete_vector_undo(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    eg_db *db = env;
    memory_args a;
    json_t *point = json_object_get(args, "point");
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || !json_is_object(point)) return st;
    eg_point p = {.id = a.pid, .payload = json_object_get(point, "payload")};
    st = eg_floats_from_json(json_object_get(point, "vector"), "vector", &p.vector, &p.dim, err);
    json_t *sparse = json_object_get(point, "sparse_vector");
    if (st == EG_OK && sparse) st = sparse_from_json(sparse, &p.sparse, err);
    /* An upsert of the pre-image is its own "restore if missing": writing it over itself changes nothing. */
    if (st == EG_OK) st = eg_vectors_upsert(db->vectors, eg_memory_collection(a.type), &p, 1, err);
    free(p.vector);
    free(p.sparse.indices);
    free(p.sparse.values);
    return st;
}

static eg_status delete_node_forward(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || json_is_null(json_object_get(args, "node"))) return st;
    return delete_node(env, &a, err);
}

/* Puts back the relationships whose other end exists (one may have been deleted since the pre-image). */
static eg_status restore_relationships(eg_db *db, const char *id, json_t *rels, eg_error *err) {
    size_t n = json_array_size(rels);
    if (n == 0) return EG_OK;
    eg_relationship_spec *specs = calloc(n, sizeof *specs);
    const char **others = calloc(n, sizeof *others);
    eg_node_list existing = {0};
    eg_status st = specs && others ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        json_t *rel = json_array_get(rels, i);
        specs[i].source_id = json_string_value(json_object_get(rel, "source_id"));
        specs[i].target_id = json_string_value(json_object_get(rel, "target_id"));
        specs[i].properties = json_object_get(rel, "properties");
        st = eg_rel_type_parse(json_string_value(json_object_get(rel, "type")), &specs[i].type, err);
        if (st == EG_OK && (!specs[i].source_id || !specs[i].target_id))
            st = eg_error_set(err, EG_CORRUPT, "saga arguments: a logged relationship lacks an end");
        if (st == EG_OK) others[i] = strcmp(specs[i].source_id, id) == 0 ? specs[i].target_id : specs[i].source_id;
    }
    if (st == EG_OK) st = eg_graph_get_nodes(db->graph, others, n, &existing, err);
    size_t kept = 0;
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        bool there = strcmp(others[i], id) == 0; /* a self-loop: the node was just restored */
        for (size_t j = 0; j < existing.count && !there; j++) there = strcmp(existing.items[j].id, others[i]) == 0;
        if (there) specs[kept++] = specs[i];
    }
    if (st == EG_OK && kept) st = eg_graph_batch_create_relationships(db->graph, specs, kept, err);
    eg_node_list_free(&existing);
    free(specs);
    free(others);
    return st;
}

static eg_status delete_node_undo(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    eg_db *db = env;
    memory_args a;
    json_t *node = json_object_get(args, "node");
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || !json_is_object(node)) return st;
    /* Creating the node as it was is a no-op when it is still there. */
    st = eg_graph_create_node(db->graph, eg_memory_label(a.type), a.id, json_object_get(node, "properties"), err);
    return st ? st : restore_relationships(db, a.id, json_object_get(args, "relationships"), err);
}

/* ---- The types ---------------------------------------------------------------------------------------------- */

static const eg_saga_step create_steps[] = {
    {"upsert_vector", create_upsert_vector, create_undo_vector},
    {"create_node", create_node, create_undo_node},
    {"create_relationships", create_relationships, create_undo_relationships},
};

static const eg_saga_step update_steps[] = {
    {"update_payload", update_payload_forward, update_payload_undo},
    {"update_node", update_node_forward, update_node_undo},
};

static const eg_saga_step delete_steps[] = {
    {"delete_vector", delete_vector_forward, delete_vector_undo},
    {"delete_node", delete_node_forward, delete_node_undo},
};

const eg_saga_type eg_memory_sagas[] = {
    [EG_SAGA_CREATE_MEMORY] = {"create_memory", create_steps, 3, 2},
    [EG_SAGA_UPDATE_MEMORY] = {"update_memory", update_steps, 2, 1},
    [EG_SAGA_DELETE_MEMORY] = {"delete_memory", delete_steps, 2, 1},
};

const size_t eg_memory_saga_count = sizeof eg_memory_sagas / sizeof eg_memory_sagas[0];
