/* sagas.c — the three memory sagas and their steps. Every compensation is idempotent (delete-if-exists,
 * restore-if-missing) and works from the logged arguments alone, since recovery runs it with no live input; the
 * last step of each saga is its point of no return, so a saga whose every step is logged is finished by recovery
 * rather than undone. Each store write goes through eg_memory_write: now, or queued in degraded mode.
 *
 *   create_memory  args {id, type, relationships: [{target_id, type}]}; input eg_create_input
 *     upsert_vector         upsert the point            | delete the point
 *     create_node           create the node             | delete the node (and its relationships)
 *     create_relationships  create the relationships    | delete them
 *   update_memory  args {id, type, payload, payload_before, properties, properties_undo} (null: not changed, or
 *                  for the pre-images: unknown, its store being unavailable when the update was queued)
 *     update_payload        merge payload               | overwrite with payload_before
 *     update_node           merge properties            | merge properties_undo (old values, null for new keys)
 *   delete_memory  args {id, type, point: {vector, sparse_vector?, payload} | null,
 *                        node: {properties} | null, relationships: [relationship], unknown: [store name]}
 *     delete_vector         delete the point            | upsert the pre-image
 *     delete_node           delete node, relationships  | create the node, then the relationships whose other
 *                                                         end still exists
 *   create_memories  args {memories: [{id, type}]} (the new ones of a batch); input eg_create_batch_input
 *     upsert_vectors        one upsert per collection  | delete the points
 *     create_nodes          the nodes, in batches       | delete the nodes (and their relationships)
 *     create_relationships  the relationships, in batches | nothing: each starts at a node of the batch, whose
 *                                                         deletion (the next undo) takes it along
 *   Its intent logs no vector and no relationship: the undo needs only the ids and types. In degraded mode each
 *   memory's part of a step is queued as create_memory's would be.
 * The archive's two sagas (archive.c) reuse the delete steps. */
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

/* A write described in JSON (data borrowed). */
static eg_status write(eg_db *db, bool compensation, int store, const memory_args *a, eg_queued_kind kind,
                       json_t *data, eg_error *err) {
    eg_store_write w = {store, a->type, a->id, kind, data, NULL, NULL, NULL};
    return eg_memory_write(db, compensation, &w, err);
}

/* The undo of a step whose pre-image could not be read (its store was unavailable when the write was queued). */
static eg_status no_pre_image(const memory_args *a, const char *what, eg_error *err) {
    return eg_error_set(err, EG_UNAVAILABLE,
                        "cannot restore the %s of memory %s: its pre-image was not readable when the write was "
                        "queued",
                        what, a->id);
}

/* ---- create_memory ------------------------------------------------------------------------------------------ */

/* The forward actions of a create need its live input; recovery never runs them (its last step is the point of
 * no return), so a missing input is a bug, reported rather than dereferenced. */
static eg_status need_input(const void *input, eg_error *err) {
    return input ? EG_OK : eg_error_set(err, EG_INTERNAL, "create_memory: a forward action ran without its input");
}

static eg_status upsert_now(eg_db *db, const void *arg, eg_error *err) {
    const eg_create_input *in = arg;
    return eg_vectors_upsert(db->vectors, in->collection, &in->point, 1, err);
}

static json_t *describe_point(const void *arg) {
    const eg_create_input *in = arg;
    return json_pack("{s:o, s:O}", "vector", eg_floats_json(in->point.vector, in->point.dim), "payload",
                     in->point.payload);
}

static eg_status create_upsert_vector(void *env, json_t *args, void *input, eg_error *err) {
    memory_args a;
    eg_status st = need_input(input, err);
    if (st == EG_OK) st = read_args(args, &a, err);
    if (st != EG_OK) return st;
    eg_store_write w = {EG_STORE_VECTORS, a.type, a.id, EG_QUEUED_PUT, NULL, upsert_now, describe_point, input};
    return eg_memory_write(env, false, &w, err);
}

static eg_status create_undo_vector(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    return st ? st : write(env, true, EG_STORE_VECTORS, &a, EG_QUEUED_DELETE, NULL, err);
}

typedef struct node_write {
    const eg_create_input *in;
    const memory_args *a;
} node_write;

static eg_status create_node_now(eg_db *db, const void *arg, eg_error *err) {
    const node_write *w = arg;
    return eg_graph_create_node(db->graph, eg_memory_label(w->a->type), w->a->id, w->in->properties, err);
}

static json_t *describe_node(const void *arg) {
    const node_write *w = arg;
    return json_pack("{s:O, s:[]}", "properties", w->in->properties, "relationships");
}

static eg_status create_node(void *env, json_t *args, void *input, eg_error *err) {
    memory_args a;
    eg_status st = need_input(input, err);
    if (st == EG_OK) st = read_args(args, &a, err);
    if (st != EG_OK) return st;
    node_write arg = {input, &a};
    eg_store_write w = {EG_STORE_GRAPH, a.type, a.id, EG_QUEUED_PUT, NULL, create_node_now, describe_node, &arg};
    return eg_memory_write(env, false, &w, err);
}

static eg_status create_undo_node(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    return st ? st : write(env, true, EG_STORE_GRAPH, &a, EG_QUEUED_DELETE, NULL, err);
}

static eg_status relationships_now(eg_db *db, const void *arg, eg_error *err) {
    const eg_create_input *in = arg;
    if (in->relationship_count == 0) return EG_OK;
    return eg_graph_batch_create_relationships(db->graph, in->relationships, in->relationship_count, err);
}

static json_t *describe_relationships(const void *arg) {
    const eg_create_input *in = arg;
    json_t *rels = json_array();
    for (size_t i = 0; rels && i < in->relationship_count; i++) {
        const eg_relationship_spec *r = &in->relationships[i];
        json_array_append_new(rels, json_pack("{s:s, s:s, s:s, s:o, s:b}", "source_id", r->source_id, "target_id",
                                              r->target_id, "type", eg_rel_type_name(r->type), "properties",
                                              r->properties ? json_incref(r->properties) : json_object(),
                                              "required", 1));
    }
    return json_pack("{s:o}", "relationships", rels);
}

static eg_status create_relationships(void *env, json_t *args, void *input, eg_error *err) {
    const eg_create_input *in = input;
    memory_args a;
    eg_status st = need_input(in, err);
    if (st == EG_OK) st = read_args(args, &a, err);
    if (st != EG_OK || in->relationship_count == 0) return st;
    eg_store_write w = {EG_STORE_GRAPH, a.type, a.id, EG_QUEUED_PATCH, NULL, relationships_now,
                        describe_relationships, input};
    return eg_memory_write(env, false, &w, err);
}

static eg_status create_undo_relationships(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    eg_db *db = env;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    /* While the graph has queued writes this undo would queue too; the node's deletion that always follows it
     * takes the relationships along. */
    if (st != EG_OK || eg_queue_pending(db->queue, EG_STORE_GRAPH))
        return st;
    size_t i;
    json_t *rel;
    json_array_foreach(json_object_get(args, "relationships"), i, rel) {
        eg_rel_type type;
        if (st == EG_OK) st = eg_rel_type_parse(json_string_value(json_object_get(rel, "type")), &type, err);
        if (st == EG_OK) {
            st = eg_memory_gone_is_ok(eg_graph_delete_relationship(db->graph_direct, a.id,
                                                                   json_string_value(json_object_get(rel, "target_id")),
                                                                   type, err),
                                      err);
        }
    }
    return st;
}

/* ---- create_memories ---------------------------------------------------------------------------------------- */

static eg_status out_of_memory(eg_error *err) { return eg_error_set(err, EG_INTERNAL, "out of memory"); }

/* The logged memories of a batch, checked again since recovery reads them back from disk (free *out). */
static eg_status read_batch(json_t *args, memory_args **out, size_t *count, eg_error *err) {
    json_t *memories = json_object_get(args, "memories");
    size_t n = json_array_size(memories);
    *out = NULL;
    *count = 0;
    if (!json_is_array(memories) || n > EG_MEMORY_BATCH_MAX)
        return eg_error_set(err, EG_CORRUPT, "saga arguments: memories must be an array of at most %d",
                            EG_MEMORY_BATCH_MAX);
    memory_args *a = calloc(n ? n : 1, sizeof *a);
    if (!a) return out_of_memory(err);
    eg_status st = EG_OK;
    for (size_t i = 0; i < n && st == EG_OK; i++) st = read_args(json_array_get(memories, i), &a[i], err);
    if (st != EG_OK) {
        free(a);
        return st;
    }
    *out = a;
    *count = n;
    return EG_OK;
}

static eg_status upsert_points_now(eg_db *db, const void *arg, eg_error *err) {
    const eg_create_batch_input *in = arg;
    eg_status st = EG_OK;
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT && st == EG_OK; t++)
        if (in->point_counts[t])
            st = eg_vectors_upsert(db->vectors, eg_memory_collection((eg_memory_type)t), in->points[t],
                                   in->point_counts[t], err);
    return st;
}

/* each[]: every memory's write as the queue holds it, for when the step cannot go now. */
static eg_status create_batch_vectors(void *env, json_t *args, void *input, eg_error *err) {
    (void)args;
    const eg_create_batch_input *in = input;
    eg_status st = need_input(in, err);
    eg_store_write *each = st ? NULL : calloc(in->count, sizeof *each);
    if (st == EG_OK && !each) st = out_of_memory(err);
    for (size_t i = 0; st == EG_OK && i < in->count; i++) {
        const eg_batch_item *it = &in->items[i];
        each[i] = (eg_store_write){EG_STORE_VECTORS, it->type, it->id, EG_QUEUED_PUT, NULL, NULL, describe_point,
                                   &it->in};
    }
    if (st == EG_OK)
        st = eg_memory_write_many(env, false, EG_STORE_VECTORS, upsert_points_now, in, each, in->count, err);
    free(each);
    return st;
}

static eg_status create_nodes_now(eg_db *db, const void *arg, eg_error *err) {
    const eg_create_batch_input *in = arg;
    eg_status st = EG_OK;
    for (size_t at = 0; at < in->count && st == EG_OK; at += EG_GRAPH_BATCH_MAX) {
        size_t left = in->count - at;
        st = eg_graph_batch_create_nodes(db->graph, in->nodes + at,
                                         left < EG_GRAPH_BATCH_MAX ? left : EG_GRAPH_BATCH_MAX, err);
    }
    return st;
}

static eg_status create_batch_nodes(void *env, json_t *args, void *input, eg_error *err) {
    (void)args;
    const eg_create_batch_input *in = input;
    eg_status st = need_input(in, err);
    eg_store_write *each = st ? NULL : calloc(in->count, sizeof *each);
    memory_args *a = st ? NULL : calloc(in->count, sizeof *a);
    node_write *nw = st ? NULL : calloc(in->count, sizeof *nw);
    if (st == EG_OK && (!each || !a || !nw)) st = out_of_memory(err);
    for (size_t i = 0; st == EG_OK && i < in->count; i++) {
        const eg_batch_item *it = &in->items[i];
        a[i] = (memory_args){.id = it->id, .pid = it->in.point.id, .type = it->type};
        nw[i] = (node_write){&it->in, &a[i]};
        each[i] = (eg_store_write){EG_STORE_GRAPH, it->type, it->id, EG_QUEUED_PUT, NULL, NULL, describe_node, &nw[i]};
    }
    if (st == EG_OK) st = eg_memory_write_many(env, false, EG_STORE_GRAPH, create_nodes_now, in, each, in->count, err);
    free(each);
    free(a);
    free(nw);
    return st;
}

static eg_status create_relationships_now(eg_db *db, const void *arg, eg_error *err) {
    const eg_create_batch_input *in = arg;
    eg_status st = EG_OK;
    for (size_t at = 0; at < in->relationship_count && st == EG_OK; at += EG_GRAPH_BATCH_MAX) {
        size_t left = in->relationship_count - at;
        st = eg_graph_batch_create_relationships(db->graph, in->relationships + at,
                                                 left < EG_GRAPH_BATCH_MAX ? left : EG_GRAPH_BATCH_MAX, err);
    }
    return st;
}

static eg_status create_batch_relationships(void *env, json_t *args, void *input, eg_error *err) {
    (void)args;
    const eg_create_batch_input *in = input;
    eg_status st = need_input(in, err);
    if (st != EG_OK || in->relationship_count == 0) return st;
    eg_store_write *each = calloc(in->count, sizeof *each);
    if (!each) return out_of_memory(err);
    size_t n = 0;
    for (size_t i = 0; i < in->count; i++) {
        const eg_batch_item *it = &in->items[i];
        if (it->in.relationship_count)
            each[n++] = (eg_store_write){EG_STORE_GRAPH, it->type, it->id, EG_QUEUED_PATCH, NULL, NULL,
                                         describe_relationships, &it->in};
    }
    st = eg_memory_write_many(env, false, EG_STORE_GRAPH, create_relationships_now, in, each, n, err);
    free(each);
    return st;
}

typedef struct logged_batch {
    const memory_args *a;
    size_t count;
} logged_batch;

/* Each type's points deleted in calls of at most EG_VECTOR_BATCH_MAX ids; missing ones are skipped. */
static eg_status delete_points_now(eg_db *db, const void *arg, eg_error *err) {
    const logged_batch *b = arg;
    eg_point_id *pids = malloc((b->count ? b->count : 1) * sizeof *pids);
    eg_status st = pids ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT && st == EG_OK; t++) {
        size_t n = 0;
        for (size_t i = 0; i < b->count; i++)
            if (b->a[i].type == (eg_memory_type)t) pids[n++] = b->a[i].pid;
        for (size_t at = 0; at < n && st == EG_OK; at += EG_VECTOR_BATCH_MAX) {
            size_t chunk = n - at < EG_VECTOR_BATCH_MAX ? n - at : EG_VECTOR_BATCH_MAX;
            st = eg_memory_gone_is_ok(eg_vectors_delete(db->vectors_direct, eg_memory_collection((eg_memory_type)t),
                                                        pids + at, chunk, NULL, NULL, err),
                                      err);
        }
    }
    free(pids);
    return st;
}

static eg_status delete_nodes_now(eg_db *db, const void *arg, eg_error *err) {
    const logged_batch *b = arg;
    eg_status st = EG_OK;
    for (size_t i = 0; i < b->count && st == EG_OK; i++)
        st = eg_memory_gone_is_ok(
            eg_graph_delete_node(db->graph_direct, b->a[i].id, eg_memory_label(b->a[i].type), err), err);
    return st;
}

/* Deletes the logged memories from store: each a delete-if-exists. */
static eg_status batch_undo(eg_db *db, json_t *args, int store, eg_status (*now)(eg_db *, const void *, eg_error *),
                            eg_error *err) {
    memory_args *a;
    size_t n;
    eg_status st = read_batch(args, &a, &n, err);
    if (st != EG_OK) return st;
    eg_store_write *each = calloc(n ? n : 1, sizeof *each);
    if (!each) st = out_of_memory(err);
    for (size_t i = 0; st == EG_OK && i < n; i++)
        each[i] = (eg_store_write){store, a[i].type, a[i].id, EG_QUEUED_DELETE, NULL, NULL, NULL, NULL};
    logged_batch b = {a, n};
    if (st == EG_OK) st = eg_memory_write_many(db, true, store, now, &b, each, n, err);
    free(each);
    free(a);
    return st;
}

static eg_status create_batch_undo_vectors(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return batch_undo(env, args, EG_STORE_VECTORS, delete_points_now, err);
}

static eg_status create_batch_undo_nodes(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return batch_undo(env, args, EG_STORE_GRAPH, delete_nodes_now, err);
}

/* Every relationship of a batch starts at one of its new nodes, and the nodes' undo, which always runs after this
 * one (live, in recovery and in a repair), deletes them with their relationships. */
static eg_status create_batch_undo_relationships(void *env, json_t *args, void *input, eg_error *err) {
    (void)env, (void)args, (void)input, (void)err;
    return EG_OK;
}

/* ---- update_memory ------------------------------------------------------------------------------------------ */

/* Writes the patch args[key] (an object) to store; null: the step changes nothing. */
static eg_status patch(eg_db *db, bool compensation, int store, json_t *args, const char *key, bool overwrite,
                       eg_error *err) {
    memory_args a;
    eg_status st = read_args(args, &a, err);
    json_t *value = json_object_get(args, key);
    if (st != EG_OK || !json_is_object(value)) return st;
    json_t *data = json_pack("{s:O, s:b}", store == EG_STORE_GRAPH ? "properties" : "payload", value, "overwrite",
                             overwrite);
    st = data ? write(db, compensation, store, &a, EG_QUEUED_PATCH, data, err)
              : eg_error_set(err, EG_INTERNAL, "out of memory");
    json_decref(data);
    return st;
}

/* An undo only for a step that changed something; its pre-image unknown (null) cannot be put back. */
static eg_status undo_patch(eg_db *db, int store, json_t *args, const char *changed, const char *before,
                            bool overwrite, eg_error *err) {
    memory_args a;
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || !json_is_object(json_object_get(args, changed))) return st;
    if (!json_is_object(json_object_get(args, before)))
        return no_pre_image(&a, store == EG_STORE_GRAPH ? "properties" : "payload", err);
    /* Deleted since: nothing to put it back on. */
    return eg_memory_gone_is_ok(patch(db, true, store, args, before, overwrite, err), err);
}

static eg_status update_payload_forward(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return patch(env, false, EG_STORE_VECTORS, args, "payload", false, err);
}

static eg_status update_payload_undo(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return undo_patch(env, EG_STORE_VECTORS, args, "payload", "payload_before", true, err);
}

static eg_status update_node_forward(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return patch(env, false, EG_STORE_GRAPH, args, "properties", false, err);
}

static eg_status update_node_undo(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return undo_patch(env, EG_STORE_GRAPH, args, "properties", "properties_undo", false, err);
}

/* ---- delete_memory ------------------------------------------------------------------------------------------ */

/* Was the memory seen in store when the delete was decided (present, or unknown because unreadable)? */
static bool touched(json_t *args, const char *pre_image, const char *store_name) {
    if (!json_is_null(json_object_get(args, pre_image))) return true;
    size_t i;
    json_t *name;
    json_array_foreach(json_object_get(args, "unknown"), i, name) {
        if (strcmp(json_string_value(name), store_name) == 0) return true;
    }
    return false;
}

eg_status eg_memory_delete_vector(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || !touched(args, "point", "vectors")) return st;
    return write(env, false, EG_STORE_VECTORS, &a, EG_QUEUED_DELETE, NULL, err);
}

eg_status eg_memory_restore_vector(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    json_t *point = json_object_get(args, "point");
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || !touched(args, "point", "vectors")) return st;
    if (!json_is_object(point)) return no_pre_image(&a, "vector", err);
    /* An upsert of the pre-image is its own "restore if missing": writing it over itself changes nothing. */
    return write(env, true, EG_STORE_VECTORS, &a, EG_QUEUED_PUT, point, err);
}

eg_status eg_memory_delete_node(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || !touched(args, "node", "graph")) return st;
    return write(env, false, EG_STORE_GRAPH, &a, EG_QUEUED_DELETE, NULL, err);
}

eg_status eg_memory_restore_node(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    memory_args a;
    json_t *node = json_object_get(args, "node");
    eg_status st = read_args(args, &a, err);
    if (st != EG_OK || !touched(args, "node", "graph")) return st;
    if (!json_is_object(node)) return no_pre_image(&a, "node", err);
    /* Putting the node back as it was is a no-op when it is still there. */
    json_t *data = json_pack("{s:O, s:O}", "properties", json_object_get(node, "properties"), "relationships",
                             json_object_get(args, "relationships"));
    st = data ? write(env, true, EG_STORE_GRAPH, &a, EG_QUEUED_PUT, data, err)
              : eg_error_set(err, EG_INTERNAL, "out of memory");
    json_decref(data);
    return st;
}

/* ---- The types ---------------------------------------------------------------------------------------------- */

static const eg_saga_step create_steps[] = {
    {"upsert_vector", create_upsert_vector, create_undo_vector},
    {"create_node", create_node, create_undo_node},
    {"create_relationships", create_relationships, create_undo_relationships},
};

static const eg_saga_step create_batch_steps[] = {
    {"upsert_vectors", create_batch_vectors, create_batch_undo_vectors},
    {"create_nodes", create_batch_nodes, create_batch_undo_nodes},
    {"create_relationships", create_batch_relationships, create_batch_undo_relationships},
};

static const eg_saga_step update_steps[] = {
    {"update_payload", update_payload_forward, update_payload_undo},
    {"update_node", update_node_forward, update_node_undo},
};

static const eg_saga_step delete_steps[] = {
    {"delete_vector", eg_memory_delete_vector, eg_memory_restore_vector},
    {"delete_node", eg_memory_delete_node, eg_memory_restore_node},
};

const eg_saga_type eg_memory_sagas[] = {
    [EG_SAGA_CREATE_MEMORY] = {"create_memory", create_steps, 3, 2},
    [EG_SAGA_UPDATE_MEMORY] = {"update_memory", update_steps, 2, 1},
    [EG_SAGA_DELETE_MEMORY] = {"delete_memory", delete_steps, 2, 1},
    [EG_SAGA_ARCHIVE_MEMORY] = {"archive_memory", eg_archive_steps, 3, 2},
    [EG_SAGA_RESTORE_ARCHIVED] = {"restore_archived", eg_restore_steps, 3, 2},
    [EG_SAGA_CREATE_MEMORIES] = {"create_memories", create_batch_steps, 3, 2},
};

const size_t eg_memory_saga_count = sizeof eg_memory_sagas / sizeof eg_memory_sagas[0];
