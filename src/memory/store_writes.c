/* store_writes.c — one store write of a memory, as a saga step or the write queue's drainer performs it: applied
 * now, or (degrade.write_policy = queue) queued when its store is unavailable or already has writes waiting.
 *
 * Forward actions go through each store's circuit breaker; compensations bypass it (a compensation must try the
 * store even while the breaker fails calls fast: its retries and, at worst, a dead letter decide), as does the
 * drainer's first probe being a normal call (it goes through the breaker, which admits it when half-open).
 * The JSON forms of a write are those of queue.h. */
#include "db/db_internal.h"
#include "model/json_shapes.h"

#include <stdlib.h>
#include <string.h>

/* ---- Collections -------------------------------------------------------------------------------------------- */

/* The indexes the memory layer wants on every memory collection: sessions filter recalls; created_at is what
 * ageing reads. */
static const struct {
    const char *field;
    eg_payload_type type;
} memory_indexes[] = {{"session_id", EG_PAYLOAD_KEYWORD}, {"created_at", EG_PAYLOAD_INTEGER}};

static bool has_index(const eg_collection_info *info, const char *field) {
    for (size_t i = 0; i < info->index_count; i++)
        if (strcmp(info->indexes[i].field, field) == 0) return true;
    return false;
}

void eg_memory_forget_collections(eg_db *db) {
    pthread_mutex_lock(&db->memory.ensured_lock);
    db->memory.ensured_generation++;
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) db->memory.ensured[t].known = false;
    pthread_mutex_unlock(&db->memory.ensured_lock);
}

/* What db remembers of the type's collection: true (with its distance) when it is known whole with dimension dim;
 * *generation receives the generation to remember a new finding under. */
static bool ensured(eg_db *db, eg_memory_type type, size_t dim, eg_distance *distance, uint64_t *generation) {
    pthread_mutex_lock(&db->memory.ensured_lock);
    bool known = db->memory.ensured[type].known && db->memory.ensured[type].dim == dim;
    if (known && distance) *distance = db->memory.ensured[type].distance;
    *generation = db->memory.ensured_generation;
    pthread_mutex_unlock(&db->memory.ensured_lock);
    return known;
}

/* Remembers a collection found whole, unless something was forgotten since the store was asked (generation): a
 * deletion that raced with the asking must not be papered over. */
static void remember_ensured(eg_db *db, eg_memory_type type, uint32_t dim, eg_distance distance,
                             uint64_t generation) {
    pthread_mutex_lock(&db->memory.ensured_lock);
    if (db->memory.ensured_generation == generation) {
        db->memory.ensured[type].known = true;
        db->memory.ensured[type].dim = dim;
        db->memory.ensured[type].distance = distance;
    }
    pthread_mutex_unlock(&db->memory.ensured_lock);
}

eg_status eg_memory_ensure_collection(eg_db *db, eg_vectors *v, eg_memory_type type, size_t dim, eg_distance *distance,
                                      eg_error *err) {
    uint64_t generation;
    if (ensured(db, type, dim, distance, &generation)) return EG_OK;
    const char *name = eg_memory_collection(type);
    eg_collection_info info;
    eg_status st = eg_vectors_get_collection(v, name, &info, err);
    if (st == EG_NOT_FOUND) {
        if (dim > EG_VECTOR_DIM_MAX)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "vector has %zu dimensions; at most %d are allowed", dim,
                                EG_VECTOR_DIM_MAX);
        eg_collection_config config = {(uint32_t)dim, EG_DISTANCE_COSINE, false};
        if ((st = eg_vectors_create_collection(v, name, &config, err)) ||
            (st = eg_vectors_get_collection(v, name, &info, err)))
            return st;
    } else if (st != EG_OK) {
        return st;
    }
    if (distance) *distance = info.config.distance;
    if (info.config.dim != dim)
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "vector has %zu dimensions; the %s collection holds vectors of %u",
                          dim, name, info.config.dim);
    for (size_t i = 0; i < sizeof memory_indexes / sizeof memory_indexes[0] && st == EG_OK; i++)
        if (!has_index(&info, memory_indexes[i].field))
            st = eg_vectors_create_payload_index(v, name, memory_indexes[i].field, memory_indexes[i].type, err);
    if (st == EG_OK) remember_ensured(db, type, info.config.dim, info.config.distance, generation);
    eg_collection_info_clear(&info);
    return st;
}

/* ---- Applying a write described in JSON --------------------------------------------------------------------- */

/* The logged sparse vector back into arrays (free both). */
static eg_status sparse_from_json(json_t *sparse, eg_sparse_vector *out, eg_error *err) {
    json_t *indices = json_object_get(sparse, "indices");
    size_t n = json_array_size(indices), count = 0;
    eg_status st = eg_floats_from_json(json_object_get(sparse, "values"), "sparse_vector.values", &out->values,
                                       &count, err);
    if (st != EG_OK) return st;
    if (count != n || !(out->indices = malloc((n ? n : 1) * sizeof *out->indices)))
        return eg_error_set(err, EG_CORRUPT, "a logged sparse vector does not pair up");
    for (size_t i = 0; i < n; i++) out->indices[i] = (uint32_t)json_integer_value(json_array_get(indices, i));
    out->count = n;
    return EG_OK;
}

static eg_status put_point(eg_db *db, eg_vectors *v, eg_memory_type type, const eg_point_id *pid, json_t *data, eg_error *err) {
    eg_point p = {.id = *pid, .payload = json_object_get(data, "payload")};
    eg_status st = eg_floats_from_json(json_object_get(data, "vector"), "vector", &p.vector, &p.dim, err);
    json_t *sparse = json_object_get(data, "sparse_vector");
    if (st == EG_OK && sparse) st = sparse_from_json(sparse, &p.sparse, err);
    if (st == EG_OK) st = eg_memory_ensure_collection(db, v, type, p.dim, NULL, err);
    if (st == EG_OK) st = eg_vectors_upsert(v, eg_memory_collection(type), &p, 1, err);
    free(p.vector);
    free(p.sparse.indices);
    free(p.sparse.values);
    return st;
}

/* Creates the relationships whose other end exists: one being restored may have lost it since it was captured,
 * and is skipped; one a create asked for ("required") is not, and its missing end is EG_NOT_FOUND. */
static eg_status put_relationships(eg_graph *g, const char *id, json_t *rels, eg_error *err) {
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
            st = eg_error_set(err, EG_CORRUPT, "a logged relationship lacks an end");
        if (st == EG_OK) others[i] = strcmp(specs[i].source_id, id) == 0 ? specs[i].target_id : specs[i].source_id;
    }
    for (size_t at = 0; at < n && st == EG_OK; at += EG_GRAPH_BATCH_MAX) {
        size_t chunk = n - at < EG_GRAPH_BATCH_MAX ? n - at : EG_GRAPH_BATCH_MAX, kept = 0;
        st = eg_graph_get_nodes(g, others + at, chunk, &existing, err);
        for (size_t i = at; i < at + chunk && st == EG_OK; i++) {
            bool there = strcmp(others[i], id) == 0; /* a self-loop: the node itself */
            for (size_t j = 0; j < existing.count && !there; j++) there = strcmp(existing.items[j].id, others[i]) == 0;
            if (there) specs[at + kept++] = specs[i];
            else if (json_is_true(json_object_get(json_array_get(rels, i), "required")))
                st = eg_error_set(err, EG_NOT_FOUND, "relationship target '%s' does not exist", others[i]);
        }
        if (st == EG_OK && kept) st = eg_graph_batch_create_relationships(g, specs + at, kept, err);
        eg_node_list_free(&existing);
    }
    free(specs);
    free(others);
    return st;
}

/* The node as described: created, or its properties replaced (keys it no longer has are removed). */
static eg_status put_node(eg_graph *g, eg_memory_type type, const char *id, json_t *data, eg_error *err) {
    json_t *properties = json_object_get(data, "properties");
    eg_node node;
    eg_status st = eg_graph_get_node(g, id, EG_LABEL_ANY, &node, err);
    if (st == EG_NOT_FOUND) {
        st = eg_graph_create_node(g, eg_memory_label(type), id, properties, err);
    } else if (st == EG_OK) {
        json_t *replace = json_is_object(properties) ? json_deep_copy(properties) : json_object();
        const char *key;
        json_t *value;
        json_object_foreach(node.properties, key, value) {
            if (!json_object_get(replace, key)) json_object_set_new(replace, key, json_null());
        }
        st = node.label == eg_memory_label(type)
                 ? eg_graph_update_node(g, id, replace, eg_memory_label(type), err)
                 : eg_error_set(err, EG_CONFLICT, "memory %s exists as another type (%s)", id,
                                eg_label_name(node.label));
        json_decref(replace);
        eg_node_clear(&node);
    }
    return st ? st : put_relationships(g, id, json_object_get(data, "relationships"), err);
}

eg_status eg_memory_apply(eg_db *db, bool bypass_breaker, int store, eg_memory_type type, const char *id,
                          eg_queued_kind kind, json_t *data, eg_error *err) {
    eg_graph *g = bypass_breaker ? db->graph_direct : db->graph;
    eg_vectors *v = bypass_breaker ? db->vectors_direct : db->vectors;
    if (store == EG_STORE_GRAPH) {
        json_t *properties = json_object_get(data, "properties");
        switch (kind) {
        case EG_QUEUED_PUT: return put_node(g, type, id, data, err);
        case EG_QUEUED_PATCH: {
            eg_status st = json_is_object(properties)
                               ? eg_graph_update_node(g, id, properties, eg_memory_label(type), err)
                               : EG_OK;
            return st ? st : put_relationships(g, id, json_object_get(data, "relationships"), err);
        }
        case EG_QUEUED_DELETE: return eg_memory_gone_is_ok(eg_graph_delete_node(g, id, eg_memory_label(type), err), err);
        }
    }
    eg_point_id pid;
    eg_status st = eg_point_id_parse(id, &pid, err);
    if (st != EG_OK) return st;
    const char *collection = eg_memory_collection(type);
    switch (kind) {
    case EG_QUEUED_PUT: return put_point(db, v, type, &pid, data, err);
    case EG_QUEUED_PATCH:
        return eg_vectors_set_payload(v, collection, &pid, 1, json_object_get(data, "payload"),
                                      json_is_true(json_object_get(data, "overwrite")) ? EG_PAYLOAD_OVERWRITE
                                                                                       : EG_PAYLOAD_MERGE,
                                      err);
    case EG_QUEUED_DELETE: return eg_memory_gone_is_ok(eg_vectors_delete(v, collection, &pid, 1, NULL, NULL, err), err);
    }
    return eg_error_set(err, EG_INTERNAL, "unknown write kind %d", (int)kind);
}

/* ---- Now, or queued ----------------------------------------------------------------------------------------- */

static eg_status push(eg_db *db, const eg_store_write *w, bool compensation, eg_error *err) {
    json_t *built = !w->data && w->describe ? w->describe(w->arg) : NULL;
    json_t *data = w->data ? w->data : built;
    eg_status st = data || w->kind == EG_QUEUED_DELETE
                       ? eg_queue_push(db->queue, w->store, w->type, w->id, w->kind, data, !compensation, err)
                       : eg_error_set(err, EG_INTERNAL, "out of memory describing a queued write");
    json_decref(built);
    return st;
}

eg_status eg_memory_write(eg_db *db, bool compensation, const eg_store_write *w, eg_error *err) {
    bool queueing = db->write_policy == EG_WRITE_QUEUE;
    /* Never overtake a queued write — also after a restart under the fail policy, while old ones drain. */
    if (eg_queue_pending(db->queue, w->store)) return push(db, w, compensation, err);
    eg_status st = w->fast && !compensation
                       ? w->fast(db, w->arg, err)
                       : eg_memory_apply(db, compensation, w->store, w->type, w->id, w->kind, w->data, err);
    if (queueing && eg_status_is_store_failure(st)) {
        eg_error_clear(err);
        st = push(db, w, compensation, err);
    }
    return st;
}

eg_status eg_memory_write_many(eg_db *db, bool compensation, int store,
                               eg_status (*now)(eg_db *db, const void *arg, eg_error *err), const void *arg,
                               const eg_store_write *each, size_t count, eg_error *err) {
    if (!eg_queue_pending(db->queue, store)) {
        eg_status st = now(db, arg, err);
        if (db->write_policy != EG_WRITE_QUEUE || !eg_status_is_store_failure(st)) return st;
        /* Queued whole: what of it took effect (a collection or a chunk before the failure) is written again by
         * the queue, which puts idempotently. */
        eg_error_clear(err);
    }
    eg_status st = EG_OK;
    for (size_t i = 0; i < count && st == EG_OK; i++) st = push(db, &each[i], compensation, err);
    return st;
}
