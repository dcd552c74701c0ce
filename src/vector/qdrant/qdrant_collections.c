/* qdrant_collections.c — collections and payload indexes over Qdrant's REST API: create (idempotent for the same
 * configuration, as the embedded backend), read back (the configuration from Qdrant's CollectionInfo, the point
 * count exact), list and delete with the collection prefix applied and stripped, and the layout (vector names,
 * dimension) every point operation needs, kept per collection after its first read. */
#include "vector/qdrant/qdrant_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name engram gives the dense vector of a collection with sparse vectors, and the sparse one: the original
 * system's layout, so that its hybrid collections open as they are. */
#define HYBRID_DENSE_NAME "dense"
#define HYBRID_SPARSE_NAME "sparse"

/* Qdrant counts full_scan_threshold in KiB of vectors, engram in points; Qdrant refuses less than 10 KiB. */
#define QDRANT_FULL_SCAN_KIB_MIN 10ull

static unsigned long long threshold_kib(uint32_t points, uint32_t dim) {
    unsigned long long kib = ((unsigned long long)points * 4ull * dim + 1023ull) / 1024ull;
    return kib < QDRANT_FULL_SCAN_KIB_MIN ? QDRANT_FULL_SCAN_KIB_MIN : kib;
}

static uint32_t threshold_points(unsigned long long kib, uint32_t dim) {
    unsigned long long points = kib * 1024ull / (4ull * dim);
    return (uint32_t)(points < 1 ? 1 : points > UINT32_MAX ? UINT32_MAX : points);
}

/* ---- Reading CollectionInfo -------------------------------------------------------------------------------- */

static eg_status malformed(const char *name, eg_error *err) {
    return eg_error_set(err, EG_UNAVAILABLE, "qdrant answered a malformed description of collection '%.255s'", name);
}

/* The dense VectorParams of "vectors" into *params: unnamed, or the one named vector ("dense" when there are
 * several). */
static eg_status dense_params(json_t *vectors, const char *name, qdrant_layout *layout, json_t **params,
                              eg_error *err) {
    layout->dense[0] = '\0';
    if (json_object_get(vectors, "size")) {
        *params = vectors;
        return EG_OK;
    }
    const char *key = json_object_get(vectors, HYBRID_DENSE_NAME) ? HYBRID_DENSE_NAME : NULL;
    if (!key && json_object_size(vectors) == 1) key = json_object_iter_key(json_object_iter(vectors));
    if (!key)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "collection '%.255s' has %zu named dense vectors and none is \"" HYBRID_DENSE_NAME
                            "\": engram uses one dense vector per point",
                            name, json_object_size(vectors));
    if (strlen(key) > QDRANT_VECTOR_NAME_MAX) return malformed(name, err);
    snprintf(layout->dense, sizeof layout->dense, "%s", key);
    *params = json_object_get(vectors, key);
    return EG_OK;
}

static void read_sparse_name(json_t *sparse, qdrant_layout *layout) {
    layout->sparse[0] = '\0';
    if (!json_is_object(sparse) || json_object_size(sparse) == 0) return;
    const char *key = json_object_get(sparse, HYBRID_SPARSE_NAME) ? HYBRID_SPARSE_NAME
                                                                   : json_object_iter_key(json_object_iter(sparse));
    if (strlen(key) <= QDRANT_VECTOR_NAME_MAX) snprintf(layout->sparse, sizeof layout->sparse, "%s", key);
}

static bool is_int8(json_t *quantization) {
    const char *type = json_string_value(json_object_get(json_object_get(quantization, "scalar"), "type"));
    return type && strcmp(type, "int8") == 0;
}

/* An integer member of the vector's hnsw_config, else of the collection's; 0 when neither has it. */
static json_int_t hnsw_member(json_t *vector_hnsw, json_t *hnsw, const char *member) {
    json_t *value = json_object_get(vector_hnsw, member);
    if (!json_is_integer(value)) value = json_object_get(hnsw, member);
    return json_is_integer(value) ? json_integer_value(value) : 0;
}

static void read_indexes(json_t *schema, eg_collection_info *out) {
    size_t n = json_object_size(schema);
    out->indexes = calloc(n ? n : 1, sizeof *out->indexes);
    const char *field;
    json_t *entry;
    json_object_foreach(schema, field, entry) {
        eg_payload_type type; /* Qdrant's other index kinds (text, geo, uuid, ...) have no eg_payload_type */
        const char *data_type = json_string_value(json_object_get(entry, "data_type"));
        if (!out->indexes || !data_type || eg_payload_type_parse(data_type, &type, NULL) != EG_OK) continue;
        char *copy = strdup(field);
        if (copy) out->indexes[out->index_count++] = (eg_payload_index){copy, type};
    }
}

/* CollectionInfo (GET /collections/{name}) into out (without the count) and layout. */
static eg_status read_info(const char *name, json_t *info, eg_collection_info *out, qdrant_layout *layout,
                           eg_error *err) {
    json_t *config = json_object_get(info, "config"), *params = json_object_get(config, "params");
    json_t *vectors = json_object_get(params, "vectors");
    if (!json_is_object(vectors)) return malformed(name, err);
    json_t *dense = NULL;
    eg_status st = dense_params(vectors, name, layout, &dense, err);
    if (st) return st;
    json_t *size = json_object_get(dense, "size");
    const char *distance = json_string_value(json_object_get(dense, "distance"));
    memset(out, 0, sizeof *out);
    if (!json_is_integer(size) || json_integer_value(size) < 1 || json_integer_value(size) > EG_VECTOR_DIM_MAX ||
        !distance || eg_distance_parse(distance, &out->config.distance, NULL) != EG_OK)
        return malformed(name, err);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->config.dim = (uint32_t)json_integer_value(size);
    read_sparse_name(json_object_get(params, "sparse_vectors"), layout);
    out->config.sparse = layout->sparse[0] != '\0';
    layout->dim = out->config.dim;
    layout->distance = out->config.distance;
    json_t *hnsw = json_object_get(config, "hnsw_config"), *vector_hnsw = json_object_get(dense, "hnsw_config");
    out->config.hnsw_m = (uint32_t)hnsw_member(vector_hnsw, hnsw, "m");
    out->config.hnsw_ef_construct = (uint32_t)hnsw_member(vector_hnsw, hnsw, "ef_construct");
    json_int_t kib = hnsw_member(vector_hnsw, hnsw, "full_scan_threshold");
    out->config.full_scan_threshold = threshold_points(kib > 0 ? (unsigned long long)kib : 0, out->config.dim);
    bool int8 = is_int8(json_object_get(dense, "quantization_config")) ||
                is_int8(json_object_get(config, "quantization_config"));
    out->config.quantization = int8 ? EG_QUANTIZATION_INT8 : EG_QUANTIZATION_NONE;
    json_t *indexed = json_object_get(info, "indexed_vectors_count");
    out->indexed_vectors_count = json_is_integer(indexed) ? (uint64_t)json_integer_value(indexed) : 0;
    read_indexes(json_object_get(info, "payload_schema"), out);
    return EG_OK;
}

/* GET /collections/{name}: the configuration and layout (no count). */
static eg_status describe(qdrant_vectors *q, const char *name, eg_collection_info *out, qdrant_layout *layout,
                          eg_error *err) {
    json_t *info;
    eg_status st = qdrant_call(q, "GET", name, "", NULL, &info, err);
    if (st == EG_OK) st = read_info(name, info, out, layout, err);
    json_decref(info);
    return st;
}

static void remember_layout(qdrant_vectors *q, const char *collection, const qdrant_layout *layout) {
    pthread_mutex_lock(&q->layouts_lock);
    if (q->layout_count == QDRANT_LAYOUT_CACHE_MAX) q->layout_count = 0; /* start over: cheap, and rare */
    qdrant_cached_layout *entry = &q->layouts[q->layout_count++];
    snprintf(entry->name, sizeof entry->name, "%s", collection);
    entry->layout = *layout;
    pthread_mutex_unlock(&q->layouts_lock);
}

void qdrant_layout_forget(qdrant_vectors *q, const char *collection) {
    pthread_mutex_lock(&q->layouts_lock);
    size_t i = 0;
    while (i < q->layout_count)
        if (strcmp(q->layouts[i].name, collection) == 0) q->layouts[i] = q->layouts[--q->layout_count];
        else i++;
    pthread_mutex_unlock(&q->layouts_lock);
}

eg_status qdrant_layout_get(qdrant_vectors *q, const char *collection, qdrant_layout *out, eg_error *err) {
    bool cached = false;
    pthread_mutex_lock(&q->layouts_lock);
    for (size_t i = 0; i < q->layout_count && !cached; i++)
        if (strcmp(q->layouts[i].name, collection) == 0) {
            *out = q->layouts[i].layout;
            cached = true;
        }
    pthread_mutex_unlock(&q->layouts_lock);
    if (cached) return EG_OK;
    eg_collection_info info;
    eg_status st = describe(q, collection, &info, out, err);
    if (st) return st;
    eg_collection_info_clear(&info);
    remember_layout(q, collection, out);
    return EG_OK;
}

eg_status qdrant_get_collection(eg_vectors *v, const char *name, eg_collection_info *out, eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    eg_status st = describe(q, name, out, &layout, err);
    if (st == EG_OK && (st = qdrant_count(v, name, NULL, &out->points_count, err))) eg_collection_info_clear(out);
    return st;
}

/* ---- Creating ---------------------------------------------------------------------------------------------- */

static json_t *create_body(const qdrant_vectors *q, const eg_collection_config *c) {
    json_t *params = json_pack("{s:I, s:s}", "size", (json_int_t)c->dim, "distance", eg_distance_name(c->distance));
    json_t *body = json_pack(
        "{s:o, s:{s:I, s:I, s:I}, s:I, s:I, s:I}", "vectors",
        c->sparse ? json_pack("{s:o}", HYBRID_DENSE_NAME, params) : params, "hnsw_config", "m",
        (json_int_t)c->hnsw_m, "ef_construct", (json_int_t)c->hnsw_ef_construct, "full_scan_threshold",
        (json_int_t)threshold_kib(c->full_scan_threshold, c->dim), "shard_number", (json_int_t)q->shard_number,
        "replication_factor", (json_int_t)q->replication_factor, "write_consistency_factor",
        (json_int_t)q->write_consistency_factor);
    if (body && c->sparse) json_object_set_new(body, "sparse_vectors", json_pack("{s:{}}", HYBRID_SPARSE_NAME));
    if (body && c->quantization == EG_QUANTIZATION_INT8)
        json_object_set_new(body, "quantization_config",
                            json_pack("{s:{s:s, s:b}}", "scalar", "type", "int8", "always_ram", true));
    return body;
}

/* The configuration asked for with every default resolved to engram's (the embedded backend's). */
static eg_collection_config resolved(const eg_collection_config *config) {
    eg_collection_config c = *config;
    if (!c.hnsw_m) c.hnsw_m = EG_HNSW_M_DEFAULT;
    if (!c.hnsw_ef_construct) c.hnsw_ef_construct = EG_HNSW_EF_CONSTRUCT_DEFAULT;
    if (!c.full_scan_threshold) c.full_scan_threshold = EG_FULL_SCAN_THRESHOLD_DEFAULT;
    return c;
}

/* An existing collection matches when every parameter engram would have sent is what the server holds (the
 * threshold compared in Qdrant's unit). */
static eg_status compare_existing(qdrant_vectors *q, const char *name, const eg_collection_config *wanted,
                                  eg_error *err) {
    eg_collection_info info;
    qdrant_layout layout;
    eg_status st = describe(q, name, &info, &layout, err);
    if (st) return st;
    const eg_collection_config *have = &info.config;
    bool same = have->dim == wanted->dim && have->distance == wanted->distance && have->sparse == wanted->sparse &&
                have->hnsw_m == wanted->hnsw_m && have->hnsw_ef_construct == wanted->hnsw_ef_construct &&
                have->full_scan_threshold ==
                    threshold_points(threshold_kib(wanted->full_scan_threshold, wanted->dim), wanted->dim) &&
                have->quantization == wanted->quantization;
    eg_collection_info_clear(&info);
    return same ? EG_OK
                : eg_error_set(err, EG_CONFLICT,
                               "collection '%.255s' exists with another configuration (dim, distance, sparse or index "
                               "parameters)",
                               name);
}

eg_status qdrant_create_collection(eg_vectors *v, const char *name, const eg_collection_config *config,
                                   eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    eg_collection_config wanted = resolved(config);
    eg_status st = compare_existing(q, name, &wanted, err);
    if (st != EG_NOT_FOUND) return st;
    json_t *body = create_body(q, &wanted);
    if (!body) return eg_error_set(err, EG_INTERNAL, "out of memory");
    st = qdrant_call(q, "PUT", name, "", body, NULL, err);
    json_decref(body);
    /* Another client created it between our read and our create: same answer as if it had been first. */
    if (st == EG_CONFLICT) st = compare_existing(q, name, &wanted, err);
    return st;
}

/* ---- Listing and deleting ------------------------------------------------------------------------------------ */

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

eg_status qdrant_list_collections(eg_vectors *v, eg_string_list *out, eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    json_t *result;
    eg_status st = qdrant_http_call(q->http, "GET", "/collections", NULL, &result, NULL, err);
    if (st) return st;
    json_t *list = json_object_get(result, "collections");
    size_t prefix_len = strlen(q->prefix), n = json_array_size(list);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; st == EG_OK && i < n; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(list, i), "name"));
        if (!name) st = eg_error_set(err, EG_UNAVAILABLE, "qdrant answered a malformed list of collections");
        else if (strncmp(name, q->prefix, prefix_len) != 0 || !name[prefix_len]) continue;
        else if (!(out->items[out->count] = strdup(name + prefix_len)))
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
        else out->count++;
    }
    json_decref(result);
    if (st) eg_string_list_free(out);
    else if (out->count > 1) qsort(out->items, out->count, sizeof *out->items, by_name);
    return st;
}

eg_status qdrant_delete_collection(eg_vectors *v, const char *name, eg_error *err) {
    json_t *result;
    qdrant_layout_forget(qdrant_of(v), name); /* another client may make a collection of that name, named otherwise */
    eg_status st = qdrant_call(qdrant_of(v), "DELETE", name, "", NULL, &result, err);
    /* Qdrant answers a delete of a missing collection with `false`; the embedded backend says not found. */
    if (st == EG_OK && json_is_false(result))
        st = eg_error_set(err, EG_NOT_FOUND, "collection '%.255s' does not exist", name);
    json_decref(result);
    return st;
}

/* ---- Payload indexes ----------------------------------------------------------------------------------------- */

eg_status qdrant_create_payload_index(eg_vectors *v, const char *collection, const char *field, eg_payload_type type,
                                      eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    eg_collection_info info;
    qdrant_layout layout;
    eg_status st = describe(q, collection, &info, &layout, err);
    if (st) return st;
    bool already = false;
    for (size_t i = 0; i < info.index_count && st == EG_OK; i++)
        if (strcmp(info.indexes[i].field, field) == 0) { /* Qdrant would replace it: engram refuses another type */
            already = info.indexes[i].type == type;
            if (!already)
                st = eg_error_set(err, EG_CONFLICT, "field '%.255s' is already indexed as %s", field,
                                  eg_payload_type_name(info.indexes[i].type));
        }
    eg_collection_info_clear(&info);
    if (st || already) return st;
    json_t *body = json_pack("{s:s, s:s}", "field_name", field, "field_schema", eg_payload_type_name(type));
    if (!body) return eg_error_set(err, EG_INTERNAL, "out of memory");
    st = qdrant_call(q, "PUT", collection, "/index?wait=true", body, NULL, err);
    json_decref(body);
    return st;
}

eg_status qdrant_delete_payload_index(eg_vectors *v, const char *collection, const char *field, eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    char escaped[1024], suffix[1100];
    qdrant_layout layout;
    eg_status st;
    if ((st = qdrant_layout_get(q, collection, &layout, err)) ||
        (st = qdrant_http_escape(field, escaped, sizeof escaped, err)))
        return st;
    snprintf(suffix, sizeof suffix, "/index/%s?wait=true", escaped);
    st = qdrant_call(q, "DELETE", collection, suffix, NULL, NULL, err);
    /* Deleting an index that does not exist succeeds, as in the embedded backend (Qdrant may answer 404). */
    return st == EG_NOT_FOUND ? EG_OK : st;
}
