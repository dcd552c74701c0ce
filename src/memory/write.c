/* write.c — create, update and delete of memories (see engram/memory.h): argument checks, the reads that decide
 * whether a write is new, a repeat or a conflict, the pre-images a saga logs, and the saga run itself, all under
 * the id's write lock so that what was read stays true while the saga runs. */
#include "db/db_internal.h"
#include "util/json_check.h"
#include "model/json_shapes.h"
#include "util/clock.h"
#include "vector/distance.h"

#include <stdio.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static eg_status check_db(eg_db *db, eg_error *err) {
    return db ? EG_OK : eg_error_set(err, EG_INVALID_ARGUMENT, "data folder handle is NULL");
}

/* What a write sees of a memory: each store's answer with the writes still queued for it applied on top. In
 * queue mode a store that cannot answer is unknown (the other store then witnesses whether the memory exists:
 * both hold it or neither does); in fail mode its failure is the write's. */
typedef struct observation {
    bool point_known, node_known;
    eg_point_list point;       /* 0 or 1 point */
    eg_node node;              /* id[0] == 0: none */
    eg_relationship_list rels; /* with_relationships: the node's, both directions */
    json_t *queued_rels;       /* relationships of a node put still queued */
    eg_status unknown_status;  /* why a store is unknown */
    eg_error unknown_err;
} observation;

static void observation_clear(observation *o) {
    eg_point_list_free(&o->point);
    eg_node_clear(&o->node);
    eg_relationship_list_free(&o->rels);
    json_decref(o->queued_rels);
}

/* An unreadable store becomes unknown in queue mode, else fails the write. */
static eg_status unknown_or_fail(eg_db *db, observation *o, bool *known, eg_status st, eg_error *err) {
    if (st == EG_OK) {
        *known = true;
        return EG_OK;
    }
    if (db->write_policy != EG_WRITE_QUEUE || !eg_status_is_store_failure(st)) return st;
    *known = false;
    o->unknown_status = st;
    o->unknown_err = *err;
    eg_error_clear(err);
    return EG_OK;
}

/* A point described by a queued put, as the store would return it. */
static eg_status point_from_queue(const eg_point_id *pid, json_t *data, eg_point_list *out, eg_error *err) {
    eg_point_list_free(out);
    out->items = calloc(1, sizeof *out->items);
    if (!out->items) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_point *p = &out->items[0];
    p->id = *pid;
    p->payload = json_deep_copy(json_object_get(data, "payload"));
    eg_status st = eg_floats_from_json(json_object_get(data, "vector"), "vector", &p->vector, &p->dim, err);
    out->count = 1;
    return st;
}

static eg_status overlay_point(eg_db *db, observation *o, const eg_point_id *pid, const char *id, eg_error *err) {
    if (!eg_queue_pending(db->queue, EG_STORE_VECTORS)) return EG_OK;
    eg_queued_state q;
    eg_queue_lookup(db->queue, EG_STORE_VECTORS, id, &q);
    eg_status st = EG_OK;
    if (q.pending && q.kind == EG_QUEUED_PUT) {
        st = point_from_queue(pid, q.data, &o->point, err);
        o->point_known = true;
    } else if (q.pending && q.kind == EG_QUEUED_DELETE) {
        eg_point_list_free(&o->point);
        o->point_known = true;
    } else if (q.pending && o->point.count) {
        eg_point *p = &o->point.items[0];
        json_t *patch = json_object_get(q.data, "payload");
        if (json_is_true(json_object_get(q.data, "overwrite")) || !p->payload) {
            json_decref(p->payload);
            p->payload = json_deep_copy(patch);
        } else {
            json_object_update(p->payload, patch);
        }
    }
    json_decref(q.data);
    return st;
}

static void overlay_node(eg_db *db, observation *o, eg_memory_type type, const char *id) {
    if (!eg_queue_pending(db->queue, EG_STORE_GRAPH)) return;
    eg_queued_state q;
    eg_queue_lookup(db->queue, EG_STORE_GRAPH, id, &q);
    if (q.pending && q.kind == EG_QUEUED_PUT) {
        eg_node_clear(&o->node);
        o->node.label = eg_memory_label(type);
        snprintf(o->node.id, sizeof o->node.id, "%s", id);
        o->node.properties = json_deep_copy(json_object_get(q.data, "properties"));
        o->queued_rels = json_incref(json_object_get(q.data, "relationships"));
        o->node_known = true;
    } else if (q.pending && q.kind == EG_QUEUED_DELETE) {
        eg_node_clear(&o->node);
        memset(&o->node, 0, sizeof o->node);
        o->node_known = true;
    } else if (q.pending && o->node.id[0]) {
        const char *key;
        json_t *value;
        json_object_foreach(json_object_get(q.data, "properties"), key, value) {
            if (json_is_null(value)) json_object_del(o->node.properties, key);
            else json_object_set(o->node.properties, key, value);
        }
    }
    json_decref(q.data);
}

/* Reads the memory from both stores. A node of another label is kept (the caller decides: a conflict for a
 * create, "not this memory" otherwise). Both stores unknown: the first one's error. */
static eg_status observe(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id, bool with_vectors,
                         bool with_relationships, observation *o, eg_error *err) {
    memset(o, 0, sizeof *o);
    eg_status st = eg_vectors_get(db->vectors, eg_memory_collection(type), pid, 1, true, with_vectors, &o->point, err);
    if (st == EG_NOT_FOUND) { /* no collection yet: no point */
        o->point = (eg_point_list){0};
        eg_error_clear(err);
        st = EG_OK;
    }
    if ((st = unknown_or_fail(db, o, &o->point_known, st, err))) return st;
    if (o->point_known && (st = overlay_point(db, o, pid, id, err))) return st;
    st = eg_graph_get_node(db->graph, id, EG_LABEL_ANY, &o->node, err);
    if (st == EG_NOT_FOUND) {
        memset(&o->node, 0, sizeof o->node);
        eg_error_clear(err);
        st = EG_OK;
    }
    if (st == EG_OK && with_relationships && o->node.id[0])
        st = eg_graph_get_relationships(db->graph, id, EG_REL_ANY, EG_DIR_BOTH, &o->rels, err);
    if ((st = unknown_or_fail(db, o, &o->node_known, st, err))) return st;
    if (o->node_known) overlay_node(db, o, type, id);
    if (!o->point_known && !o->node_known) {
        if (err) *err = o->unknown_err;
        return o->unknown_status;
    }
    return EG_OK;
}

static eg_status orphan_conflict(const char *id, bool in_vectors, eg_error *err) {
    return eg_error_set(err, EG_CONFLICT,
                        "memory %s exists only in the %s store (an orphan left by a failure): run check with repair",
                        id, in_vectors ? "vector" : "graph");
}

/* ---- create ------------------------------------------------------------------------------------------------- */

eg_status eg_memory_check_spec(const eg_memory_spec *spec, eg_error *err) {
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

/* Is the stored memory the one spec describes? Only the known stores are compared (stored or node NULL:
 * unknown); created_at counts only when the caller gave it. */
static eg_status same_content(eg_db *db, const eg_memory_spec *spec, const char *id, eg_distance distance,
                              const eg_point *stored, const eg_node *node, json_t *queued_rels, json_t *payload,
                              json_t *properties, bool *same, eg_error *err) {
    *same = false;
    if (stored) {
        if (!stored->vector || stored->dim != spec->dim) return EG_OK;
        float *expected = malloc(spec->dim * sizeof *expected);
        if (!expected) return eg_error_set(err, EG_INTERNAL, "out of memory");
        memcpy(expected, spec->vector, spec->dim * sizeof *expected);
        if (distance == EG_DISTANCE_COSINE) eg_vec_normalize(expected, spec->dim);
        bool vector_same = memcmp(expected, stored->vector, spec->dim * sizeof *expected) == 0;
        free(expected);
        json_t *at = json_object_get(stored->payload, "created_at");
        if (!spec->has_created_at && at) json_object_set(payload, "created_at", at);
        if (!vector_same || !json_equal(payload, stored->payload ? stored->payload : json_object())) return EG_OK;
    }
    if (!node) {
        *same = true;
        return EG_OK;
    }
    json_t *at = json_object_get(node->properties, "created_at");
    if (!spec->has_created_at && at) json_object_set(properties, "created_at", at);
    if (!json_equal(properties, node->properties)) return EG_OK;
    eg_relationship_list rels = {0};
    if (spec->relationship_count && !queued_rels) {
        eg_status st = eg_graph_get_relationships(db->graph, id, EG_REL_ANY, EG_DIR_OUT, &rels, err);
        if (st != EG_OK) return st;
    }
    bool all = true;
    for (size_t i = 0; i < spec->relationship_count && all; i++) {
        const eg_memory_relationship *want = &spec->relationships[i];
        bool found = false;
        size_t n = queued_rels ? json_array_size(queued_rels) : rels.count;
        for (size_t j = 0; j < n && !found; j++) {
            json_t *q = queued_rels ? json_array_get(queued_rels, j) : NULL;
            const char *target = q ? json_string_value(json_object_get(q, "target_id")) : rels.items[j].target_id;
            const char *type = q ? json_string_value(json_object_get(q, "type")) : eg_rel_type_name(rels.items[j].type);
            json_t *have = q ? json_object_get(q, "properties") : rels.items[j].properties;
            if (strcmp(type, eg_rel_type_name(want->type)) != 0 || strcmp(target, want->target_id) != 0) continue;
            found = true;
            const char *key;
            json_t *value;
            json_object_foreach(want->properties, key, value) {
                if (!json_equal(value, json_object_get(have, key))) found = false;
            }
        }
        all = found;
    }
    eg_relationship_list_free(&rels);
    *same = all;
    return EG_OK;
}

/* Every relationship target must exist before anything is written. */
eg_status eg_memory_check_targets(eg_db *db, const char *const *ids, size_t count, size_t *missing, eg_error *err) {
    bool queued = eg_queue_pending(db->queue, EG_STORE_GRAPH);
    eg_status st = EG_OK;
    for (size_t at = 0; at < count && st == EG_OK; at += EG_GRAPH_BATCH_MAX) {
        size_t chunk = count - at < EG_GRAPH_BATCH_MAX ? count - at : EG_GRAPH_BATCH_MAX;
        eg_node_list found = {0};
        st = eg_graph_get_nodes(db->graph, ids + at, chunk, &found, err);
        for (size_t i = at, j = 0; st == EG_OK && found.count != chunk && i < at + chunk; i++) {
            if (j < found.count && strcmp(found.items[j].id, ids[i]) == 0) {
                j++;
                continue;
            }
            /* An acknowledged node still in the queue exists: this write queues behind it. */
            eg_queued_state q = {0};
            if (queued) eg_queue_lookup(db->queue, EG_STORE_GRAPH, ids[i], &q);
            json_decref(q.data);
            if (q.pending && q.kind == EG_QUEUED_PUT) continue;
            *missing = i;
            st = eg_error_set(err, EG_NOT_FOUND, "relationship target '%s' does not exist", ids[i]);
        }
        eg_node_list_free(&found);
    }
    return st;
}

static eg_status check_targets(eg_db *db, const eg_memory_spec *spec, const char *id, eg_error *err) {
    size_t n = spec->relationship_count, missing;
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
    eg_status st = eg_memory_check_targets(db, ids, unique, &missing, err);
    free(ids);
    return st;
}

/* A memory is hot or archived, never both: an archived id is taken until it is restored or deleted. */
eg_status eg_memory_check_not_archived(eg_db *db, const char *id, eg_error *err) {
    eg_status st = db->archive ? eg_archive_get(db->archive, id, NULL, NULL, err) : EG_NOT_FOUND;
    if (st == EG_NOT_FOUND) {
        eg_error_clear(err);
        return EG_OK;
    }
    if (st == EG_OK || st == EG_CORRUPT)
        return eg_error_set(err, EG_CONFLICT, "memory %s is archived: restore_archived or delete_archived it first", id);
    return st;
}

void eg_create_plan_clear(eg_create_plan *plan) {
    json_decref(plan->payload);
    json_decref(plan->properties);
    plan->payload = plan->properties = NULL;
}

eg_status eg_memory_plan_create(eg_db *db, const eg_memory_spec *spec, const eg_point_id *pid, const char *id,
                                eg_create_plan *plan, eg_error *err) {
    eg_distance distance = EG_DISTANCE_COSINE;
    int64_t created_at = spec->has_created_at ? spec->created_at : eg_now_ms();
    memset(plan, 0, sizeof *plan);
    plan->payload = with_memory_keys(spec->payload, created_at, "session_id", spec->session_id);
    plan->properties = with_memory_keys(spec->properties, created_at, "sessionId", spec->session_id);
    eg_status st = plan->payload && plan->properties ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    /* The caller's documents were within the limits; the keys added here must not carry them past. */
    if (st == EG_OK)
        st = eg_json_check_document(plan->payload, &eg_json_user_limits, "payload with created_at and session_id",
                                    err);
    if (st == EG_OK)
        st = eg_json_check_document(plan->properties, &eg_json_user_limits, "properties with created_at and sessionId",
                                    err);
    observation o;
    if (st == EG_OK) st = observe(db, spec->type, pid, id, true, false, &o, err);
    else memset(&o, 0, sizeof o);
    plan->point_known = o.point_known;
    plan->node_known = o.node_known;
    bool in_vectors = o.point_known && o.point.count, in_graph = o.node_known && o.node.id[0];
    if (st == EG_OK && in_graph && o.node.label != eg_memory_label(spec->type))
        st = eg_error_set(err, EG_CONFLICT, "memory %s exists as another type (%s)", id, eg_label_name(o.node.label));
    if (st == EG_OK && (in_vectors || in_graph)) {
        bool same = false;
        if (o.point_known && o.node_known && !(in_vectors && in_graph)) st = orphan_conflict(id, in_vectors, err);
        if (st == EG_OK && in_vectors)
            st = eg_memory_ensure_collection(db, db->vectors, spec->type, spec->dim, &distance, err);
        if (st == EG_OK)
            st = same_content(db, spec, id, distance, in_vectors ? &o.point.items[0] : NULL, in_graph ? &o.node : NULL,
                              o.queued_rels, plan->payload, plan->properties, &same, err);
        if (st == EG_OK && !same) st = eg_error_set(err, EG_CONFLICT, "memory %s exists with other content", id);
    } else if (st == EG_OK) {
        plan->is_new = true;
    }
    observation_clear(&o);
    if (st != EG_OK) eg_create_plan_clear(plan);
    return st;
}

static eg_status create_locked(eg_db *db, const eg_memory_spec *spec, const eg_point_id *pid, const char *id,
                               eg_error *err) {
    eg_create_plan plan;
    eg_status st = eg_memory_plan_create(db, spec, pid, id, &plan, err);
    if (st != EG_OK) return st;
    if (!plan.is_new) { /* a repeat: nothing to write */
        eg_create_plan_clear(&plan);
        return EG_OK;
    }
    eg_relationship_spec *rels = calloc(spec->relationship_count ? spec->relationship_count : 1, sizeof *rels);
    json_t *args = json_pack("{s:s, s:s, s:[]}", "id", id, "type", eg_memory_type_name(spec->type), "relationships");
    if (!rels || !args) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    /* Checked before anything is written, the collection included: a refused create leaves no trace. An
     * unavailable store is left to the queue: its targets cannot be checked, its collection is made on replay. */
    if (st == EG_OK) st = eg_memory_check_not_archived(db, id, err);
    if (st == EG_OK && plan.node_known) st = check_targets(db, spec, id, err);
    if (st == EG_OK && plan.point_known) st = eg_memory_ensure_collection(db, db->vectors, spec->type, spec->dim, NULL, err);
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
                                 {.id = *pid, .vector = (float *)spec->vector, .dim = spec->dim,
                                  .payload = plan.payload},
                                 plan.properties, rels, spec->relationship_count};
        st = eg_memory_run_saga(db, EG_SAGA_CREATE_MEMORY, id, args, &input, err);
    }
    eg_create_plan_clear(&plan);
    json_decref(args);
    free(rels);
    return st;
}

eg_status eg_memory_create(eg_db *db, const eg_memory_spec *spec, char out_id[EG_POINT_ID_TEXT], eg_error *err) {
    eg_point_id pid;
    char id[EG_POINT_ID_TEXT];
    eg_status st;
    if ((st = check_db(db, err)) || (st = eg_memory_check_spec(spec, err)) || (st = eg_memory_id(spec->id, &pid, id, err)) ||
        (st = eg_memory_check_frozen(db, id, err)))
        return st;
    eg_memory_lock(db, id);
    st = create_locked(db, spec, &pid, id, err);
    eg_memory_unlock(db, id);
    if (st == EG_OK && out_id) memcpy(out_id, id, EG_POINT_ID_TEXT);
    return st;
}

/* ---- update ------------------------------------------------------------------------------------------------- */

/* The memory as a write to it sees it: a node of another label is not this memory; in neither (known) store:
 * EG_NOT_FOUND; in one store only (both known): an orphan. */
static eg_status observe_existing(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id,
                                  bool with_vectors, bool with_relationships, observation *o, eg_error *err) {
    eg_status st = observe(db, type, pid, id, with_vectors, with_relationships, o, err);
    if (st != EG_OK) return st;
    if (o->node.id[0] && o->node.label != eg_memory_label(type)) {
        eg_node_clear(&o->node);
        memset(&o->node, 0, sizeof o->node);
        eg_relationship_list_free(&o->rels);
    }
    bool in_vectors = o->point.count > 0, in_graph = o->node.id[0] != 0;
    if (!in_vectors && !in_graph)
        return eg_error_set(err, EG_NOT_FOUND, "no %s memory with id %s", eg_memory_type_name(type), id);
    return EG_OK;
}

static eg_status update_locked(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id,
                               json_t *payload, json_t *properties, eg_error *err) {
    observation o;
    json_t *args = NULL;
    eg_status st = observe_existing(db, type, pid, id, false, false, &o, err);
    bool in_vectors = o.point.count > 0, in_graph = o.node.id[0] != 0;
    if (st == EG_OK && o.point_known && o.node_known && !(in_vectors && in_graph))
        st = orphan_conflict(id, in_vectors, err);
    if (st == EG_OK) {
        /* The pre-images an undo needs; null for a store that could not be read (its part is queued). */
        json_t *before = !o.point_known ? json_null()
                         : o.point.items[0].payload ? json_incref(o.point.items[0].payload)
                                                   : json_object();
        json_t *undo = properties && o.node_known ? json_object() : json_null();
        const char *key;
        json_t *value;
        if (o.node_known) json_object_foreach(properties, key, value) {
                json_t *old = json_object_get(o.node.properties, key);
                json_object_set_new(undo, key, old ? json_incref(old) : json_null());
            }
        args = json_pack("{s:s, s:s, s:O?, s:o, s:O?, s:o}", "id", id, "type", eg_memory_type_name(type), "payload",
                         payload, "payload_before", before, "properties", properties, "properties_undo", undo);
        st = args ? eg_memory_run_saga(db, EG_SAGA_UPDATE_MEMORY, id, args, NULL, err)
                  : eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    json_decref(args);
    observation_clear(&o);
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

eg_status eg_memory_pre_image(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id, json_t **args,
                              eg_error *err) {
    observation o;
    *args = NULL;
    eg_status st = observe_existing(db, type, pid, id, true, true, &o, err);
    if (st == EG_OK) {
        json_t *rels = eg_relationship_list_json(&o.rels);
        if (rels && o.queued_rels) json_array_extend(rels, o.queued_rels);
        json_t *unknown = json_array();
        if (!o.point_known) json_array_append_new(unknown, json_string("vectors"));
        if (!o.node_known) json_array_append_new(unknown, json_string("graph"));
        *args = json_pack("{s:s, s:s, s:o?, s:o?, s:o, s:o}", "id", id, "type", eg_memory_type_name(type), "point",
                          o.point.count ? point_pre_image(&o.point.items[0]) : NULL, "node",
                          o.node.id[0] ? json_pack("{s:O}", "properties", o.node.properties) : NULL, "relationships",
                          rels, "unknown", unknown);
        if (!*args) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    observation_clear(&o);
    return st;
}

static eg_status delete_locked(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id,
                               eg_error *err) {
    json_t *args = NULL;
    eg_status st = eg_memory_pre_image(db, type, pid, id, &args, err);
    if (st == EG_OK) st = eg_memory_run_saga(db, EG_SAGA_DELETE_MEMORY, id, args, NULL, err);
    json_decref(args);
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
