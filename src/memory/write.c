/* write.c — create, update and delete of memories (see engram/memory.h): argument checks, the reads that decide
 * whether a write is new, a repeat or a conflict, the pre-images a saga logs, and the saga run itself, all under
 * the id's write lock so that what was read stays true while the saga runs. */
#include "db/db_internal.h"
#include "model/json_shapes.h"
#include "util/clock.h"
#include "vector/distance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static eg_status check_db(eg_db *db, eg_error *err) {
    return db ? EG_OK : eg_error_set(err, EG_INVALID_ARGUMENT, "data folder handle is NULL");
}

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

/* The type's collection, created on first use with dim and Cosine, with the memory indexes — added again to a
 * collection that lacks them (made by the caller, or by a process killed between creating it and indexing it).
 * *distance receives its distance. */
static eg_status ensure_collection(eg_db *db, eg_memory_type type, size_t dim, eg_distance *distance, eg_error *err) {
    const char *name = eg_memory_collection(type);
    eg_collection_info info;
    eg_status st = eg_vectors_get_collection(db->vectors, name, &info, err);
    if (st == EG_NOT_FOUND) {
        if (dim > EG_VECTOR_DIM_MAX)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "vector has %zu dimensions; at most %d are allowed", dim,
                                EG_VECTOR_DIM_MAX);
        eg_collection_config config = {(uint32_t)dim, EG_DISTANCE_COSINE, false};
        if ((st = eg_vectors_create_collection(db->vectors, name, &config, err)) ||
            (st = eg_vectors_get_collection(db->vectors, name, &info, err)))
            return st;
    } else if (st != EG_OK) {
        return st;
    }
    *distance = info.config.distance;
    if (info.config.dim != dim)
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "vector has %zu dimensions; the %s collection holds vectors of %u",
                          dim, name, info.config.dim);
    for (size_t i = 0; i < sizeof memory_indexes / sizeof memory_indexes[0] && st == EG_OK; i++)
        if (!has_index(&info, memory_indexes[i].field))
            st = eg_vectors_create_payload_index(db->vectors, name, memory_indexes[i].field, memory_indexes[i].type,
                                                 err);
    eg_collection_info_clear(&info);
    return st;
}

/* The memory's point (payload, and vectors when asked), or an empty list when there is none — also when the
 * type's collection does not exist yet. */
static eg_status read_point(eg_db *db, eg_memory_type type, const eg_point_id *pid, bool with_vectors,
                            eg_point_list *out, eg_error *err) {
    eg_status st = eg_vectors_get(db->vectors, eg_memory_collection(type), pid, 1, true, with_vectors, out, err);
    if (st == EG_NOT_FOUND) {
        *out = (eg_point_list){0};
        eg_error_clear(err);
        return EG_OK;
    }
    return st;
}

/* The node under id with any label; node->id[0] == 0 when there is none. */
static eg_status read_node(eg_db *db, const char *id, eg_node *node, eg_error *err) {
    eg_status st = eg_graph_get_node(db->graph, id, EG_LABEL_ANY, node, err);
    if (st == EG_NOT_FOUND) {
        memset(node, 0, sizeof *node);
        eg_error_clear(err);
        return EG_OK;
    }
    return st;
}

static eg_status orphan_conflict(const char *id, bool in_vectors, eg_error *err) {
    return eg_error_set(err, EG_CONFLICT,
                        "memory %s exists only in the %s store (an orphan left by a failure): run check with repair",
                        id, in_vectors ? "vector" : "graph");
}

/* ---- create ------------------------------------------------------------------------------------------------- */

static eg_status check_spec(const eg_memory_spec *spec, eg_error *err) {
    eg_status st;
    if (!spec) return eg_error_set(err, EG_INVALID_ARGUMENT, "memory spec is NULL");
    if ((st = eg_memory_check_type(spec->type, err))) return st;
    if (!spec->vector || spec->dim == 0)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "a memory needs a vector of at least one dimension");
    for (size_t i = 0; i < spec->dim; i++)
        if (!isfinite(spec->vector[i]))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "vector[%zu] is not a finite number", i);
    if ((st = eg_memory_check_user_object(spec->payload, "payload", err)) ||
        (st = eg_memory_check_user_object(spec->properties, "properties", err)))
        return st;
    if (spec->session_id && !spec->session_id[0])
        return eg_error_set(err, EG_INVALID_ARGUMENT, "session_id is empty: leave it out for no session");
    if (spec->has_created_at && spec->created_at < 0)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "created_at must be epoch milliseconds >= 0");
    if (spec->relationship_count > EG_MEMORY_RELATIONSHIPS_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%zu relationships exceed the maximum of %d per memory",
                            spec->relationship_count, EG_MEMORY_RELATIONSHIPS_MAX);
    if (spec->relationship_count && !spec->relationships)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "relationships are NULL");
    for (size_t i = 0; i < spec->relationship_count; i++) {
        const eg_memory_relationship *r = &spec->relationships[i];
        if ((st = eg_validate_node_id(r->target_id, err)))
            return eg_error_prefix(err, st, "relationships[%zu].target_id: ", i);
        if (r->type < 0 || r->type >= EG_REL_TYPE_COUNT)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "relationships[%zu]: invalid relationship type %d", i,
                                (int)r->type);
        if (r->properties && !json_is_object(r->properties))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "relationships[%zu].properties must be a JSON object", i);
    }
    return EG_OK;
}

/* The caller's object plus the memory layer's keys (a new reference). */
static json_t *with_memory_keys(json_t *given, int64_t created_at, const char *session_key, const char *session_id) {
    json_t *o = given ? json_deep_copy(given) : json_object();
    if (o && (json_object_set_new(o, "created_at", json_integer(created_at)) ||
              (session_id && json_object_set_new(o, session_key, json_string(session_id))))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Is the stored memory the one spec describes? created_at counts only when the caller gave it. */
static eg_status same_content(eg_db *db, const eg_memory_spec *spec, const char *id, eg_distance distance,
                              const eg_point *stored, const eg_node *node, json_t *payload, json_t *properties,
                              bool *same, eg_error *err) {
    *same = false;
    if (!stored->vector || stored->dim != spec->dim) return EG_OK;
    float *expected = malloc(spec->dim * sizeof *expected);
    if (!expected) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(expected, spec->vector, spec->dim * sizeof *expected);
    if (distance == EG_DISTANCE_COSINE) eg_vec_normalize(expected, spec->dim);
    bool vector_same = memcmp(expected, stored->vector, spec->dim * sizeof *expected) == 0;
    free(expected);
    if (!vector_same) return EG_OK;
    if (!spec->has_created_at) {
        json_t *p = json_object_get(stored->payload, "created_at"), *n = json_object_get(node->properties, "created_at");
        if (p) json_object_set(payload, "created_at", p);
        if (n) json_object_set(properties, "created_at", n);
    }
    if (!json_equal(payload, stored->payload ? stored->payload : json_object()) ||
        !json_equal(properties, node->properties))
        return EG_OK;
    if (spec->relationship_count == 0) {
        *same = true;
        return EG_OK;
    }
    eg_relationship_list rels;
    eg_status st = eg_graph_get_relationships(db->graph, id, EG_REL_ANY, EG_DIR_OUT, &rels, err);
    if (st != EG_OK) return st;
    bool all = true;
    for (size_t i = 0; i < spec->relationship_count && all; i++) {
        const eg_memory_relationship *want = &spec->relationships[i];
        bool found = false;
        for (size_t j = 0; j < rels.count && !found; j++) {
            const eg_relationship *have = &rels.items[j];
            if (have->type != want->type || strcmp(have->target_id, want->target_id) != 0) continue;
            found = true;
            const char *key;
            json_t *value;
            json_object_foreach(want->properties, key, value) {
                if (!json_equal(value, json_object_get(have->properties, key))) found = false;
            }
        }
        all = found;
    }
    eg_relationship_list_free(&rels);
    *same = all;
    return EG_OK;
}

/* Every relationship target must exist before anything is written. */
static eg_status check_targets(eg_db *db, const eg_memory_spec *spec, const char *id, eg_error *err) {
    size_t n = spec->relationship_count;
    if (n == 0) return EG_OK;
    const char **ids = malloc(n * sizeof *ids);
    if (!ids) return eg_error_set(err, EG_INTERNAL, "out of memory");
    size_t unique = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = spec->relationships[i].target_id;
        bool seen = strcmp(t, id) == 0; /* a relationship to itself: the node is about to exist */
        for (size_t j = 0; j < unique && !seen; j++) seen = strcmp(ids[j], t) == 0;
        if (!seen) ids[unique++] = t;
    }
    eg_node_list found = {0};
    eg_status st = eg_graph_get_nodes(db->graph, ids, unique, &found, err);
    if (st == EG_OK && found.count != unique) {
        for (size_t i = 0, j = 0; i < unique; i++) {
            if (j < found.count && strcmp(found.items[j].id, ids[i]) == 0) {
                j++;
                continue;
            }
            st = eg_error_set(err, EG_NOT_FOUND, "relationship target '%s' does not exist", ids[i]);
            break;
        }
    }
    eg_node_list_free(&found);
    free(ids);
    return st;
}

static eg_status create_locked(eg_db *db, const eg_memory_spec *spec, const eg_point_id *pid, const char *id,
                               eg_error *err) {
    eg_distance distance = EG_DISTANCE_COSINE;
    int64_t created_at = spec->has_created_at ? spec->created_at : eg_now_ms();
    json_t *payload = with_memory_keys(spec->payload, created_at, "session_id", spec->session_id);
    json_t *properties = with_memory_keys(spec->properties, created_at, "sessionId", spec->session_id);
    eg_relationship_spec *rels = calloc(spec->relationship_count ? spec->relationship_count : 1, sizeof *rels);
    json_t *args = json_pack("{s:s, s:s, s:[]}", "id", id, "type", eg_memory_type_name(spec->type), "relationships");
    eg_status st = payload && properties && rels && args ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_point_list existing = {0};
    eg_node node = {0};
    if (st == EG_OK) st = read_point(db, spec->type, pid, true, &existing, err);
    if (st == EG_OK) st = read_node(db, id, &node, err);
    if (st == EG_OK && node.id[0] && node.label != eg_memory_label(spec->type))
        st = eg_error_set(err, EG_CONFLICT, "memory %s exists as another type (%s)", id, eg_label_name(node.label));
    if (st == EG_OK && (existing.count || node.id[0])) {
        bool same = false;
        if (!existing.count || !node.id[0]) st = orphan_conflict(id, existing.count > 0, err);
        if (st == EG_OK) st = ensure_collection(db, spec->type, spec->dim, &distance, err);
        if (st == EG_OK)
            st = same_content(db, spec, id, distance, &existing.items[0], &node, payload, properties, &same, err);
        if (st == EG_OK && !same) st = eg_error_set(err, EG_CONFLICT, "memory %s exists with other content", id);
        goto done; /* a repeat (or a conflict): nothing to write */
    }
    /* Checked before anything is written, the collection included: a refused create leaves no trace. */
    if (st == EG_OK) st = check_targets(db, spec, id, err);
    if (st == EG_OK) st = ensure_collection(db, spec->type, spec->dim, &distance, err);
    for (size_t i = 0; i < spec->relationship_count && st == EG_OK; i++) {
        const eg_memory_relationship *r = &spec->relationships[i];
        rels[i] = (eg_relationship_spec){id, r->target_id, r->type, r->properties};
        if (json_array_append_new(json_object_get(args, "relationships"),
                                  json_pack("{s:s, s:s}", "target_id", r->target_id, "type",
                                            eg_rel_type_name(r->type))))
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    if (st == EG_OK) {
        eg_create_input input = {eg_memory_collection(spec->type),
                                 {.id = *pid, .vector = (float *)spec->vector, .dim = spec->dim, .payload = payload},
                                 properties, rels, spec->relationship_count};
        st = eg_memory_run_saga(db, EG_SAGA_CREATE_MEMORY, id, args, &input, err);
    }
done:
    eg_point_list_free(&existing);
    eg_node_clear(&node);
    json_decref(payload);
    json_decref(properties);
    json_decref(args);
    free(rels);
    return st;
}

eg_status eg_memory_create(eg_db *db, const eg_memory_spec *spec, char out_id[EG_POINT_ID_TEXT], eg_error *err) {
    eg_point_id pid;
    char id[EG_POINT_ID_TEXT];
    eg_status st;
    if ((st = check_db(db, err)) || (st = check_spec(spec, err)) || (st = eg_memory_id(spec->id, &pid, id, err)) ||
        (st = eg_memory_check_frozen(db, id, err)))
        return st;
    eg_memory_lock(db, id);
    st = create_locked(db, spec, &pid, id, err);
    eg_memory_unlock(db, id);
    if (st == EG_OK && out_id) memcpy(out_id, id, EG_POINT_ID_TEXT);
    return st;
}

/* ---- update ------------------------------------------------------------------------------------------------- */

/* Reads the memory as it is: its point (with vectors when asked) and its node of the type's label. A node of
 * another label is not this memory. Neither: EG_NOT_FOUND. */
static eg_status read_memory(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id,
                             bool with_vectors, eg_point_list *point, eg_node *node, eg_error *err) {
    eg_status st = read_point(db, type, pid, with_vectors, point, err);
    if (st == EG_OK) st = read_node(db, id, node, err);
    if (st == EG_OK && node->id[0] && node->label != eg_memory_label(type)) {
        eg_node_clear(node);
        memset(node, 0, sizeof *node);
    }
    if (st == EG_OK && !point->count && !node->id[0])
        st = eg_error_set(err, EG_NOT_FOUND, "no %s memory with id %s", eg_memory_type_name(type), id);
    return st;
}

static eg_status update_locked(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id,
                               json_t *payload, json_t *properties, eg_error *err) {
    eg_point_list point = {0};
    eg_node node = {0};
    json_t *args = NULL;
    eg_status st = read_memory(db, type, pid, id, false, &point, &node, err);
    if (st == EG_OK && (!point.count || !node.id[0])) st = orphan_conflict(id, point.count > 0, err);
    if (st == EG_OK) {
        json_t *before = point.items[0].payload ? json_incref(point.items[0].payload) : json_object();
        json_t *undo = properties ? json_object() : json_null();
        const char *key;
        json_t *value;
        json_object_foreach(properties, key, value) {
            json_t *old = json_object_get(node.properties, key);
            json_object_set_new(undo, key, old ? json_incref(old) : json_null());
        }
        args = json_pack("{s:s, s:s, s:O?, s:o, s:O?, s:o}", "id", id, "type", eg_memory_type_name(type), "payload",
                         payload, "payload_before", before, "properties", properties, "properties_undo", undo);
        st = args ? eg_memory_run_saga(db, EG_SAGA_UPDATE_MEMORY, id, args, NULL, err)
                  : eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    json_decref(args);
    eg_point_list_free(&point);
    eg_node_clear(&node);
    return st;
}

eg_status eg_memory_update(eg_db *db, eg_memory_type type, const char *id, json_t *payload, json_t *properties,
                           eg_error *err) {
    eg_point_id pid;
    char canonical[EG_POINT_ID_TEXT];
    eg_status st;
    if ((st = check_db(db, err)) || (st = eg_memory_check_type(type, err)) ||
        (st = eg_memory_id(id, &pid, canonical, err)) || (st = eg_memory_check_user_object(payload, "payload", err)) ||
        (st = eg_memory_check_user_object(properties, "properties", err)))
        return st;
    if (!payload && !properties)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "update_memory needs a payload, properties or both");
    const char *key;
    json_t *value;
    json_object_foreach(properties, key, value) {
        if ((st = eg_validate_property_name(key, err))) return eg_error_prefix(err, st, "properties: ");
        if (strcmp(key, "id") == 0)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "properties: a memory's id cannot be changed");
    }
    if ((st = eg_memory_check_frozen(db, canonical, err))) return st;
    eg_memory_lock(db, canonical);
    st = update_locked(db, type, &pid, canonical, payload, properties, err);
    eg_memory_unlock(db, canonical);
    return st;
}

/* ---- delete ------------------------------------------------------------------------------------------------- */

/* {vector, sparse_vector?, payload}: everything an upsert needs to put the point back bit for bit. */
static json_t *point_pre_image(const eg_point *p) {
    json_t *j = json_pack("{s:o, s:o}", "vector", eg_floats_json(p->vector, p->dim), "payload",
                          p->payload ? json_incref(p->payload) : json_object());
    if (j && p->sparse.count && json_object_set_new(j, "sparse_vector", eg_sparse_json(&p->sparse))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static eg_status delete_locked(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id,
                               eg_error *err) {
    eg_point_list point = {0};
    eg_node node = {0};
    eg_relationship_list rels = {0};
    json_t *args = NULL;
    eg_status st = read_memory(db, type, pid, id, true, &point, &node, err);
    if (st == EG_OK && node.id[0]) st = eg_graph_get_relationships(db->graph, id, EG_REL_ANY, EG_DIR_BOTH, &rels, err);
    if (st == EG_OK) {
        args = json_pack("{s:s, s:s, s:o?, s:o?, s:o}", "id", id, "type", eg_memory_type_name(type), "point",
                         point.count ? point_pre_image(&point.items[0]) : NULL, "node",
                         node.id[0] ? json_pack("{s:O}", "properties", node.properties) : NULL, "relationships",
                         eg_relationship_list_json(&rels));
        st = args ? eg_memory_run_saga(db, EG_SAGA_DELETE_MEMORY, id, args, NULL, err)
                  : eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    json_decref(args);
    eg_relationship_list_free(&rels);
    eg_point_list_free(&point);
    eg_node_clear(&node);
    return st;
}

eg_status eg_memory_delete(eg_db *db, eg_memory_type type, const char *id, eg_error *err) {
    eg_point_id pid;
    char canonical[EG_POINT_ID_TEXT];
    eg_status st;
    if ((st = check_db(db, err)) || (st = eg_memory_check_type(type, err)) ||
        (st = eg_memory_id(id, &pid, canonical, err)) || (st = eg_memory_check_frozen(db, canonical, err)))
        return st;
    eg_memory_lock(db, canonical);
    st = delete_locked(db, type, &pid, canonical, err);
    eg_memory_unlock(db, canonical);
    return st;
}
