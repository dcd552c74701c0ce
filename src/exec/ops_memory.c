/* ops_memory.c — the memory operations of the JSON interface (create_episode, create_entity, create_procedure,
 * batch_create_memories, update_memory, delete_memory, recall, check): argument decoding and calls into
 * eg_memory_* (documented in docs/operations.md). A memory's vector is given as `vector`, or as `text` embedded
 * by the lexical embedder (engram/embed.h) for callers without a model. */
#include "exec/exec_internal.h"
#include "model/json_shapes.h"

#include <engram/embed.h>

#include <stdlib.h>
#include <string.h>

/* A memory id: a UUID string, a decimal string or a non-negative integer, as text. A create may leave it out
 * (fresh: true) to get a random UUID. */
static eg_status read_id(json_t *args, bool fresh, char text[EG_POINT_ID_TEXT], eg_error *err) {
    json_t *value = json_object_get(args, "id");
    eg_point_id pid;
    eg_status st;
    if (fresh && (!value || json_is_null(value))) st = eg_point_id_random(&pid, err);
    else if (json_is_string(value)) st = eg_point_id_parse(json_string_value(value), &pid, err);
    else if ((st = eg_arg_value(args, "id", &value, err)) == EG_OK) st = eg_point_id_from_json(value, &pid, err);
    if (st != EG_OK) return eg_error_prefix(err, st, "id: ");
    eg_point_id_format(&pid, text);
    return EG_OK;
}

static eg_status read_type(json_t *args, eg_memory_type *type, eg_error *err) {
    const char *name;
    eg_status st = eg_arg_string(args, "type", true, &name, err);
    return st ? st : eg_memory_type_parse(name, type, err);
}

/* `vector` (numbers) or `text` (embedded into `dim` dimensions, default EG_EMBED_DIM_DEFAULT): exactly one.
 * *vector is new (free()). */
static eg_status read_vector(json_t *args, float **vector, size_t *dim, eg_error *err) {
    json_t *numbers = NULL;
    const char *text = NULL;
    long long text_dim = EG_EMBED_DIM_DEFAULT;
    eg_status st;
    *vector = NULL;
    if ((st = eg_arg_array(args, "vector", false, &numbers, err)) || (st = eg_arg_string(args, "text", false, &text, err)) ||
        (st = eg_arg_int(args, "dim", false, 1, EG_EMBED_DIM_MAX, &text_dim, err)))
        return st;
    if (!numbers == !text)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "give exactly one of 'vector' (numbers) and 'text'");
    if (numbers) return eg_floats_from_json(numbers, "vector", vector, dim, err);
    if (json_object_get(args, "dim") && !text)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "'dim' goes with 'text' only");
    float *out = malloc((size_t)text_dim * sizeof *out);
    if (!out) return eg_exec_no_memory(err);
    if ((st = eg_embed_text(text, (size_t)text_dim, out, err))) {
        free(out);
        return eg_error_prefix(err, st, "text: ");
    }
    *vector = out;
    *dim = (size_t)text_dim;
    return EG_OK;
}

static const char *const relationship_fields[] = {"target_id", "type", "properties", NULL};

/* `relationships`: [{target_id, type, properties?}] into a new array (free()). */
static eg_status read_relationships(json_t *args, eg_memory_relationship **out, size_t *count, eg_error *err) {
    json_t *items = NULL;
    eg_status st;
    *out = NULL;
    *count = 0;
    if ((st = eg_arg_array(args, "relationships", false, &items, err)) || !items ||
        (st = eg_check_batch(items, EG_MEMORY_RELATIONSHIPS_MAX, "relationships", err)))
        return st;
    size_t n = json_array_size(items);
    eg_memory_relationship *rels = calloc(n ? n : 1, sizeof *rels);
    if (!rels) return eg_exec_no_memory(err);
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        json_t *item = json_array_get(items, i);
        const char *type;
        if (!json_is_object(item)) st = eg_error_set(err, EG_INVALID_ARGUMENT, "must be a JSON object");
        if (st == EG_OK) st = eg_check_fields(item, relationship_fields, err);
        if (st == EG_OK) st = eg_arg_string(item, "target_id", true, &rels[i].target_id, err);
        if (st == EG_OK) st = eg_arg_string(item, "type", true, &type, err);
        if (st == EG_OK) st = eg_rel_type_parse(type, &rels[i].type, err);
        if (st == EG_OK) st = eg_arg_object(item, "properties", false, &rels[i].properties, err);
        if (st) eg_error_prefix(err, st, "relationships[%zu]: ", i);
    }
    if (st) {
        free(rels);
        return st;
    }
    *out = rels;
    *count = n;
    return EG_OK;
}

/* The fields of a create into spec (type set by the caller), its id into id; *vector and *rels are new (free()
 * both, also on failure). */
static eg_status read_spec(json_t *args, eg_memory_spec *spec, char id[EG_POINT_ID_TEXT], float **vector,
                           eg_memory_relationship **rels, eg_error *err) {
    long long created_at = -1;
    eg_status st;
    *vector = NULL;
    *rels = NULL;
    spec->id = id;
    if ((st = read_id(args, true, id, err)) || (st = eg_arg_object(args, "payload", false, &spec->payload, err)) ||
        (st = eg_arg_object(args, "properties", false, &spec->properties, err)) ||
        (st = eg_arg_string(args, "session_id", false, &spec->session_id, err)) ||
        (st = eg_arg_int(args, "created_at", false, 0, INT64_MAX, &created_at, err)) ||
        (st = read_relationships(args, rels, &spec->relationship_count, err)) ||
        (st = read_vector(args, vector, &spec->dim, err)))
        return st;
    spec->vector = *vector;
    spec->relationships = *rels;
    spec->has_created_at = created_at >= 0;
    spec->created_at = created_at;
    return EG_OK;
}

static eg_status create_memory(eg_db *db, json_t *args, eg_memory_type type, json_t **result, eg_error *err) {
    char id[EG_POINT_ID_TEXT], created[EG_POINT_ID_TEXT];
    eg_memory_spec spec = {.type = type};
    float *vector;
    eg_memory_relationship *rels;
    eg_status st = read_spec(args, &spec, id, &vector, &rels, err);
    if (st == EG_OK) st = eg_memory_create(db, &spec, created, err);
    free(vector);
    free(rels);
    return st ? st : eg_exec_result(json_pack("{s:s}", "id", created), result, err);
}

static eg_status op_create_episode(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return create_memory(db, args, EG_MEMORY_EPISODE, result, err);
}

static eg_status op_create_entity(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return create_memory(db, args, EG_MEMORY_ENTITY, result, err);
}

static eg_status op_create_procedure(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return create_memory(db, args, EG_MEMORY_PROCEDURE, result, err);
}

static const char *const batch_item_fields[] = {"type",       "id",         "vector",     "text",       "dim",
                                                "payload",    "properties", "session_id", "created_at", "relationships",
                                                NULL};

/* `memories`: [{type, ...the fields of create_episode...}], created by one eg_memory_batch_create. */
static eg_status op_batch_create_memories(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    json_t *items;
    eg_status st;
    if ((st = eg_arg_array(args, "memories", true, &items, err)) ||
        (st = eg_check_batch(items, EG_MEMORY_BATCH_MAX, "memories", err)))
        return st;
    size_t n = json_array_size(items);
    eg_memory_spec *specs = calloc(n ? n : 1, sizeof *specs);
    char(*ids)[EG_POINT_ID_TEXT] = calloc(n ? n : 1, sizeof *ids);
    float **vectors = calloc(n ? n : 1, sizeof *vectors);
    eg_memory_relationship **rels = calloc(n ? n : 1, sizeof *rels);
    if (!specs || !ids || !vectors || !rels) st = eg_exec_no_memory(err);
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        json_t *item = json_array_get(items, i);
        if (!json_is_object(item)) st = eg_error_set(err, EG_INVALID_ARGUMENT, "must be a JSON object");
        if (st == EG_OK) st = eg_check_fields(item, batch_item_fields, err);
        if (st == EG_OK) st = read_type(item, &specs[i].type, err);
        if (st == EG_OK) st = read_spec(item, &specs[i], ids[i], &vectors[i], &rels[i], err);
        if (st) eg_error_prefix(err, st, "memories[%zu]: ", i);
    }
    if (st == EG_OK) st = eg_memory_batch_create(db, specs, n, ids, err);
    json_t *created = st == EG_OK ? json_array() : NULL;
    for (size_t i = 0; i < n && created; i++)
        if (json_array_append_new(created, json_string(ids[i]))) {
            json_decref(created);
            created = NULL;
        }
    for (size_t i = 0; vectors && rels && i < n; i++) {
        free(vectors[i]);
        free(rels[i]);
    }
    free(specs);
    free(ids);
    free(vectors);
    free(rels);
    return st ? st : eg_exec_result(created ? json_pack("{s:o}", "ids", created) : NULL, result, err);
}

static eg_status op_update_memory(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    char id[EG_POINT_ID_TEXT];
    eg_memory_type type;
    json_t *payload = NULL, *properties = NULL;
    eg_status st;
    if ((st = read_id(args, false, id, err)) || (st = read_type(args, &type, err)) ||
        (st = eg_arg_object(args, "payload", false, &payload, err)) ||
        (st = eg_arg_object(args, "properties", false, &properties, err)) ||
        (st = eg_memory_update(db, type, id, payload, properties, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_delete_memory(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    char id[EG_POINT_ID_TEXT];
    eg_memory_type type;
    eg_status st;
    if ((st = read_id(args, false, id, err)) || (st = read_type(args, &type, err)) ||
        (st = eg_memory_delete(db, type, id, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_recall(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    eg_recall_request request = {.limit = 10};
    long long limit = 10, expand = 0;
    float *vector = NULL;
    eg_filter *filter = NULL;
    eg_status st;
    if ((st = read_type(args, &request.type, err)) ||
        (st = eg_arg_int(args, "limit", false, 1, EG_SEARCH_LIMIT_MAX, &limit, err)) ||
        (st = eg_arg_int(args, "expand", false, 0, EG_RECALL_EXPAND_MAX, &expand, err)) ||
        (st = eg_arg_string(args, "session_id", false, &request.session_id, err)) ||
        (st = eg_arg_filter(args, &filter, err)) || (st = read_vector(args, &vector, &request.dim, err))) {
        eg_filter_free(filter);
        return st;
    }
    request.vector = vector;
    request.limit = (size_t)limit;
    request.expand = (int)expand;
    request.filter = filter;
    json_t *found = NULL;
    st = eg_memory_recall(db, &request, &found, err);
    free(vector);
    eg_filter_free(filter);
    return st ? st : eg_exec_result(found, result, err);
}

static eg_status op_check(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    bool repair = false;
    json_t *report = NULL;
    eg_status st;
    if ((st = eg_arg_bool(args, "repair", &repair, err)) || (st = eg_memory_check(db, repair, &report, err)))
        return st;
    return eg_exec_result(report, result, err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CREATE_ARGS                                                                                                  \
    ARGS("id", "vector", "text", "dim", "payload", "properties", "session_id", "created_at", "relationships")

const eg_exec_op eg_exec_memory_ops[] = {
    {"create_episode", op_create_episode, CREATE_ARGS},
    {"create_entity", op_create_entity, CREATE_ARGS},
    {"create_procedure", op_create_procedure, CREATE_ARGS},
    {"batch_create_memories", op_batch_create_memories, ARGS("memories")},
    {"update_memory", op_update_memory, ARGS("id", "type", "payload", "properties")},
    {"delete_memory", op_delete_memory, ARGS("id", "type")},
    {"recall", op_recall, ARGS("type", "vector", "text", "dim", "limit", "filter", "session_id", "expand"),
     EG_READS_GRAPH | EG_READS_VECTORS},
    {"check", op_check, ARGS("repair")},
    {NULL, NULL, NULL},
};
