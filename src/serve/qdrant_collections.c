/* qdrant_collections.c — Qdrant's collection-level routes: list, get (CollectionInfo), exists, create, update,
 * delete; aliases (change, list, list of one collection); payload indexes (create, delete).
 *
 * A Qdrant collection maps onto an engram collection with one dense vector and optionally one sparse vector; the
 * names Qdrant gives them live in the catalog. Settings that only tune storage or background work (on_disk,
 * memory placement, WAL and optimizer tuning) are accepted and have no effect, because engram's answers do not
 * depend on them; anything that would change what the collection stores or answers (several dense vectors,
 * multivectors, other datatypes, IDF, sharding, replication, strict mode, metadata) is refused by name. */
#include "serve/qdrant_shapes.h"

#include "exec/exec_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Creating and deleting collections take turns, so that "exists?" and "create" are one step (Qdrant answers 409
 * to the second of two creates, where engram's own create is idempotent). */
static pthread_mutex_t collection_meta_lock = PTHREAD_MUTEX_INITIALIZER;

#define ENGRAM_WAL_SEGMENT_MB 64 /* the log's segment size (wal.h), reported as wal_capacity_mb */

/* ---- Reading members --------------------------------------------------------------------------------------- */

/* An optional non-negative integer member; *present false when absent or null. */
static eg_status read_uint(json_t *object, const char *where, const char *name, bool *present, long long *out,
                           unsigned *http_status, eg_error *err) {
    json_t *value = json_object_get(object, name);
    *present = value && !json_is_null(value);
    if (!*present) return EG_OK;
    if (!json_is_integer(value) || json_integer_value(value) < 0)
        return eg_qdrant_format_error(http_status, err, "%s.%s must be a non-negative integer", where, name);
    *out = json_integer_value(value);
    return EG_OK;
}

static eg_status read_bool(json_t *object, const char *where, const char *name, unsigned *http_status,
                           eg_error *err) {
    json_t *value = json_object_get(object, name);
    if (value && !json_is_null(value) && !json_is_boolean(value))
        return eg_qdrant_format_error(http_status, err, "%s.%s must be true or false", where, name);
    return EG_OK;
}

/* A member that must be absent, null, or (when one_is_fine) the integer 1: shard and replica counts. */
static eg_status only_one(json_t *object, const char *name, unsigned *http_status, eg_error *err) {
    bool present;
    long long n = 1;
    eg_status st = read_uint(object, "the request body", name, &present, &n, http_status, err);
    if (st == EG_OK && present && n == 0)
        return eg_qdrant_validation_error(http_status, err, name, "value 0 invalid, must be 1 or larger");
    if (st == EG_OK && present && n != 1)
        return eg_qdrant_unsupported(http_status, err,
                                     "%s %lld is not supported by engram: a collection is one shard on one node", name,
                                     n);
    return st;
}

/* An optional object member (null counts as absent). */
static eg_status read_object(json_t *object, const char *where, const char *name, json_t **out, unsigned *http_status,
                             eg_error *err) {
    json_t *value = json_object_get(object, name);
    *out = value && !json_is_null(value) ? value : NULL;
    if (*out && !json_is_object(*out))
        return eg_qdrant_format_error(http_status, err, "%s.%s must be a JSON object", where, name);
    return EG_OK;
}

/* ---- Collection configuration ------------------------------------------------------------------------------ */

static const char *const hnsw_members[] = {"m", "ef_construct", "full_scan_threshold", "max_indexing_threads",
                                           "on_disk", "memory", "payload_m", "inline_storage", NULL};

/* Qdrant's HnswConfigDiff into config. Qdrant counts full_scan_threshold in KiB of vectors; engram counts points,
 * so the threshold becomes the number of vectors of this dimension that fill that many KiB. */
static eg_status read_hnsw(json_t *hnsw, const char *where, uint32_t dim, eg_collection_config *config,
                           unsigned *http_status, eg_error *err) {
    bool present;
    long long value = 0;
    eg_status st;
    if (!hnsw) return EG_OK;
    if ((st = eg_qdrant_check_members(hnsw, where, hnsw_members, http_status, err))) return st;
    if ((st = read_uint(hnsw, where, "m", &present, &value, http_status, err))) return st;
    if (present && (value < 2 || value > EG_HNSW_M_MAX))
        return eg_qdrant_unsupported(http_status, err,
                                     "%s.m %lld is not supported by engram: m must be from 2 to %d (m 0, no graph, "
                                     "has no equivalent; \"exact\": true searches without the index)",
                                     where, value, EG_HNSW_M_MAX);
    if (present) config->hnsw_m = (uint32_t)value;
    if ((st = read_uint(hnsw, where, "ef_construct", &present, &value, http_status, err))) return st;
    if (present && value < 4) {
        char field[64];
        snprintf(field, sizeof field, "%s.ef_construct", where);
        return eg_qdrant_validation_error(http_status, err, field, "value %lld invalid, must be 4 or larger", value);
    }
    if (present && value > EG_HNSW_EF_CONSTRUCT_MAX)
        return eg_qdrant_unsupported(http_status, err, "%s.ef_construct %lld is above engram's limit of %d", where,
                                     value, EG_HNSW_EF_CONSTRUCT_MAX);
    if (present) config->hnsw_ef_construct = (uint32_t)value;
    if ((st = read_uint(hnsw, where, "full_scan_threshold", &present, &value, http_status, err))) return st;
    if (present && value < 10) {
        char field[64];
        snprintf(field, sizeof field, "%s.full_scan_threshold", where);
        return eg_qdrant_validation_error(http_status, err, field, "value %lld invalid, must be 10 or larger", value);
    }
    if (present) {
        unsigned long long points = (unsigned long long)value * 1024ull / (4ull * dim);
        config->full_scan_threshold = (uint32_t)(points < 1 ? 1 : points > UINT32_MAX ? UINT32_MAX : points);
    }
    if ((st = read_uint(hnsw, where, "max_indexing_threads", &present, &value, http_status, err)) ||
        (st = read_bool(hnsw, where, "on_disk", http_status, err)) ||
        (st = read_bool(hnsw, where, "inline_storage", http_status, err)) ||
        (st = read_uint(hnsw, where, "payload_m", &present, &value, http_status, err)))
        return st;
    if (present)
        return eg_qdrant_unsupported(http_status, err,
                                     "%s.payload_m is not supported by engram: it has no payload-based index graph",
                                     where);
    return EG_OK;
}

/* quantization_config of the collection or of its vector, in the exec interface's reader (one parser of the
 * shape for both). */
static eg_status read_quantization(json_t *holder, eg_quantization *out, unsigned *http_status, eg_error *err) {
    eg_error inner;
    if (eg_quantization_config_from_json(holder, out, &inner) != EG_OK)
        return eg_qdrant_unsupported(http_status, err, "%s", inner.message);
    return EG_OK;
}

static const char *const vector_params_members[] = {"size", "distance", "hnsw_config", "quantization_config",
                                                    "on_disk", "memory", "datatype", "multivector_config", NULL};

/* One VectorParams: size, distance, and the per-vector index settings (for engram's only dense vector, they are
 * the collection's). */
static eg_status read_vector_params(json_t *params, const char *where, eg_collection_config *config,
                                    json_t **hnsw, unsigned *http_status, eg_error *err) {
    eg_status st;
    if ((st = eg_qdrant_check_members(params, where, vector_params_members, http_status, err))) return st;
    json_t *size = json_object_get(params, "size"), *distance = json_object_get(params, "distance");
    if (!size) return eg_qdrant_format_error(http_status, err, "missing field `size` in %s", where);
    if (!distance) return eg_qdrant_format_error(http_status, err, "missing field `distance` in %s", where);
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return eg_qdrant_format_error(http_status, err, "%s.size must be a non-negative integer", where);
    if (json_integer_value(size) < 1 || json_integer_value(size) > EG_VECTOR_DIM_MAX) {
        char field[128]; /* where is at most "vectors." and a 64-byte name */
        snprintf(field, sizeof field, "%s.size", where);
        return eg_qdrant_validation_error(http_status, err, field, "value %lld invalid, must be from 1 to %d",
                                          (long long)json_integer_value(size), EG_VECTOR_DIM_MAX);
    }
    config->dim = (uint32_t)json_integer_value(size);
    if (!json_is_string(distance) || eg_distance_parse(json_string_value(distance), &config->distance, NULL) != EG_OK)
        return eg_qdrant_format_error(http_status, err,
                                      "%s.distance: unknown variant, expected one of `Cosine`, `Euclid`, `Dot`, "
                                      "`Manhattan`",
                                      where);
    const char *datatype = json_string_value(json_object_get(params, "datatype"));
    if (datatype && strcmp(datatype, "float32") != 0)
        return eg_qdrant_unsupported(http_status, err,
                                     "%s.datatype %.16s is not supported by engram: vectors are stored as float32",
                                     where, datatype);
    json_t *multivector = json_object_get(params, "multivector_config");
    if (multivector && !json_is_null(multivector))
        return eg_qdrant_unsupported(http_status, err, "%s.multivector_config: multivectors are not supported by engram",
                                     where);
    if ((st = read_bool(params, where, "on_disk", http_status, err)) ||
        (st = read_object(params, where, "hnsw_config", hnsw, http_status, err)))
        return st;
    return read_quantization(params, &config->quantization, http_status, err);
}

/* "vectors": unnamed VectorParams, or a map of exactly one named VectorParams. */
static eg_status read_vectors(json_t *vectors, eg_collection_config *config, eg_qdrant_layout *layout,
                              json_t **hnsw, unsigned *http_status, eg_error *err) {
    if (!vectors || json_is_null(vectors))
        return eg_qdrant_unsupported(http_status, err,
                                     "a collection without a dense vector is not supported by engram: give `vectors`");
    if (!json_is_object(vectors)) return eg_qdrant_format_error(http_status, err, "vectors must be a JSON object");
    if (json_object_get(vectors, "size") || json_object_get(vectors, "distance"))
        return read_vector_params(vectors, "vectors", config, hnsw, http_status, err);
    size_t n = json_object_size(vectors);
    if (n == 0)
        return eg_qdrant_unsupported(http_status, err,
                                     "a collection without a dense vector is not supported by engram: give `vectors`");
    if (n > 1)
        return eg_qdrant_unsupported(http_status, err,
                                     "%zu named dense vectors are not supported by engram: a collection has one dense "
                                     "vector (and optionally one sparse vector)",
                                     n);
    const char *name = json_object_iter_key(json_object_iter(vectors));
    json_t *params = json_object_iter_value(json_object_iter(vectors));
    if (strlen(name) > EG_QDRANT_VECTOR_NAME_MAX)
        return eg_qdrant_unsupported(http_status, err, "vector names are limited to %d bytes", EG_QDRANT_VECTOR_NAME_MAX);
    snprintf(layout->dense, sizeof layout->dense, "%s", name);
    if (!json_is_object(params)) return eg_qdrant_format_error(http_status, err, "vectors.%.64s must be a JSON object", name);
    char where[96];
    snprintf(where, sizeof where, "vectors.%.64s", name);
    return read_vector_params(params, where, config, hnsw, http_status, err);
}

static const char *const sparse_params_members[] = {"index", "modifier", NULL};
static const char *const sparse_index_members[] = {"full_scan_threshold", "on_disk", "memory", "datatype", NULL};

/* "sparse_vectors": at most one named SparseVectorParams, without the IDF modifier. */
static eg_status read_sparse_vectors(json_t *sparse, eg_collection_config *config, eg_qdrant_layout *layout,
                                     unsigned *http_status, eg_error *err) {
    if (!sparse || json_is_null(sparse)) return EG_OK;
    if (!json_is_object(sparse)) return eg_qdrant_format_error(http_status, err, "sparse_vectors must be a JSON object");
    size_t n = json_object_size(sparse);
    if (n == 0) return EG_OK;
    if (n > 1)
        return eg_qdrant_unsupported(http_status, err,
                                     "%zu named sparse vectors are not supported by engram: a collection has at most "
                                     "one sparse vector",
                                     n);
    const char *name = json_object_iter_key(json_object_iter(sparse));
    json_t *params = json_object_iter_value(json_object_iter(sparse)), *index;
    if (strlen(name) > EG_QDRANT_VECTOR_NAME_MAX || !*name)
        return eg_qdrant_unsupported(http_status, err, "a sparse vector's name must be 1 to %d bytes",
                                     EG_QDRANT_VECTOR_NAME_MAX);
    if (strcmp(name, layout->dense) == 0)
        return eg_qdrant_unsupported(http_status, err, "the sparse vector `%.64s` has the dense vector's name", name);
    char where[96];
    snprintf(where, sizeof where, "sparse_vectors.%.64s", name);
    eg_status st;
    if ((st = eg_qdrant_check_members(params, where, sparse_params_members, http_status, err)) ||
        (st = read_object(params, where, "index", &index, http_status, err)) ||
        (index && (st = eg_qdrant_check_members(index, where, sparse_index_members, http_status, err))))
        return st;
    const char *modifier = json_string_value(json_object_get(params, "modifier"));
    if (modifier && strcmp(modifier, "none") != 0)
        return eg_qdrant_unsupported(http_status, err, "%s.modifier %.16s is not supported by engram (no IDF weighting)",
                                     where, modifier);
    const char *datatype = json_string_value(json_object_get(index, "datatype"));
    if (datatype && strcmp(datatype, "float32") != 0)
        return eg_qdrant_unsupported(http_status, err,
                                     "%s.index.datatype %.16s is not supported by engram: values are stored as float32",
                                     where, datatype);
    snprintf(layout->sparse, sizeof layout->sparse, "%s", name);
    config->sparse = true;
    return EG_OK;
}

static const char *const wal_members[] = {"wal_capacity_mb", "wal_segments_ahead", "wal_retain_closed", NULL};
static const char *const optimizer_members[] = {"deleted_threshold", "vacuum_min_vector_number",
                                                "default_segment_number", "max_segment_size", "memmap_threshold",
                                                "indexing_threshold", "flush_interval_sec", "max_optimization_threads",
                                                "prevent_unoptimized", NULL};

/* Tuning that cannot change an answer: checked for shape, then without effect (docs/serve.md). */
static eg_status read_tuning(json_t *body, unsigned *http_status, eg_error *err) {
    json_t *wal, *optimizers;
    eg_status st;
    if ((st = read_object(body, "the request body", "wal_config", &wal, http_status, err)) ||
        (wal && (st = eg_qdrant_check_members(wal, "wal_config", wal_members, http_status, err))) ||
        (st = read_object(body, "the request body", "optimizers_config", &optimizers, http_status, err)) ||
        (optimizers &&
         (st = eg_qdrant_check_members(optimizers, "optimizers_config", optimizer_members, http_status, err))))
        return st;
    return EG_OK;
}

static const char *const create_members[] = {"vectors", "shard_number", "sharding_method", "replication_factor",
                                             "write_consistency_factor", "on_disk_payload", "payload", "hnsw_config",
                                             "wal_config", "optimizers_config", "quantization_config",
                                             "sparse_vectors", "strict_mode_config", "metadata", NULL};

static eg_status read_create(json_t *body, eg_collection_config *config, eg_qdrant_layout *layout,
                             unsigned *http_status, eg_error *err) {
    json_t *vector_hnsw = NULL, *hnsw = NULL, *payload_storage, *strict;
    eg_status st;
    *config = (eg_collection_config){.distance = EG_DISTANCE_COSINE};
    *layout = (eg_qdrant_layout){{0}, {0}};
    if ((st = eg_qdrant_body(body, create_members, &body, http_status, err))) return st;
    if (!body) return eg_qdrant_format_error(http_status, err, "a body is required");
    if ((st = read_vectors(json_object_get(body, "vectors"), config, layout, &vector_hnsw, http_status, err)) ||
        (st = read_sparse_vectors(json_object_get(body, "sparse_vectors"), config, layout, http_status, err)) ||
        (st = only_one(body, "shard_number", http_status, err)) ||
        (st = only_one(body, "replication_factor", http_status, err)) ||
        (st = only_one(body, "write_consistency_factor", http_status, err)) ||
        (st = read_bool(body, "the request body", "on_disk_payload", http_status, err)) ||
        (st = read_object(body, "the request body", "payload", &payload_storage, http_status, err)) ||
        (st = read_object(body, "the request body", "hnsw_config", &hnsw, http_status, err)) ||
        (st = read_hnsw(hnsw, "hnsw_config", config->dim, config, http_status, err)) ||
        (st = read_hnsw(vector_hnsw, "vectors.hnsw_config", config->dim, config, http_status, err)) ||
        (st = read_tuning(body, http_status, err)))
        return st;
    eg_quantization collection_quantization = EG_QUANTIZATION_NONE;
    if ((st = read_quantization(body, &collection_quantization, http_status, err))) return st;
    if (config->quantization == EG_QUANTIZATION_NONE) config->quantization = collection_quantization;
    const char *sharding = json_string_value(json_object_get(body, "sharding_method"));
    if (sharding && strcmp(sharding, "auto") != 0)
        return eg_qdrant_unsupported(http_status, err, "sharding_method %.16s is not supported by engram", sharding);
    if ((st = read_object(body, "the request body", "strict_mode_config", &strict, http_status, err))) return st;
    if (strict && json_is_true(json_object_get(strict, "enabled")))
        return eg_qdrant_unsupported(http_status, err, "strict mode (strict_mode_config.enabled) is not supported by engram");
    json_t *metadata = json_object_get(body, "metadata");
    if (metadata && !json_is_null(metadata))
        return eg_qdrant_unsupported(http_status, err, "collection metadata is not supported by engram");
    return EG_OK;
}

/* ---- CollectionInfo ---------------------------------------------------------------------------------------- */

static json_t *vectors_config_json(const eg_collection_info *info, const eg_qdrant_layout *layout) {
    json_t *params = json_pack("{s:I, s:s}", "size", (json_int_t)info->config.dim, "distance",
                               eg_distance_name(info->config.distance));
    if (!layout->dense[0]) return params;
    return json_pack("{s:o}", layout->dense, params);
}

/* Points holding a value at the index's field (Qdrant counts the points its index holds). */
static json_t *index_points(eg_vectors *v, const char *collection, const eg_payload_index *index) {
    json_t *condition = json_pack("{s:[{s:{s:s}}]}", "must_not", "is_empty", "key", index->field);
    eg_filter *filter = NULL;
    uint64_t n = 0;
    bool ok = condition && eg_filter_parse(condition, &filter, NULL) == EG_OK &&
              eg_vectors_count(v, collection, filter, &n, NULL) == EG_OK;
    eg_filter_free(filter);
    json_decref(condition);
    return ok ? json_integer((json_int_t)n) : NULL;
}

static json_t *collection_info_json(eg_vectors *v, const eg_collection_info *info, const eg_qdrant_layout *layout) {
    json_t *schema = json_object();
    for (size_t i = 0; schema && i < info->index_count; i++) {
        json_t *entry = json_pack("{s:s, s:o}", "data_type", eg_payload_type_name(info->indexes[i].type), "points",
                                  index_points(v, info->name, &info->indexes[i]));
        if (json_object_set_new(schema, info->indexes[i].field, entry) != 0) {
            json_decref(schema);
            schema = NULL;
        }
    }
    json_t *params = json_pack("{s:o, s:i, s:i, s:i, s:b}", "vectors", vectors_config_json(info, layout),
                               "shard_number", 1, "replication_factor", 1, "write_consistency_factor", 1,
                               "on_disk_payload", true);
    if (params && layout->sparse[0] &&
        json_object_set_new(params, "sparse_vectors", json_pack("{s:{}}", layout->sparse)) != 0) {
        json_decref(params);
        params = NULL;
    }
    /* Reported in Qdrant's unit, KiB of vectors: the points threshold times the bytes of one vector. */
    unsigned long long threshold_kib =
        ((unsigned long long)info->config.full_scan_threshold * 4ull * info->config.dim + 1023ull) / 1024ull;
    json_t *quantization = info->config.quantization == EG_QUANTIZATION_INT8
                               ? json_pack("{s:{s:s, s:b}}", "scalar", "type", "int8", "always_ram", true)
                               : json_null();
    json_t *config = json_pack(
        "{s:o, s:{s:I, s:I, s:I, s:i, s:b}, s:{s:i, s:i}, s:{s:i, s:i}, s:o}", "params", params, "hnsw_config", "m",
        (json_int_t)info->config.hnsw_m, "ef_construct", (json_int_t)info->config.hnsw_ef_construct,
        "full_scan_threshold", (json_int_t)threshold_kib, "max_indexing_threads", 0, "on_disk", false,
        "optimizer_config", "default_segment_number", 1, "flush_interval_sec", 0, "wal_config", "wal_capacity_mb",
        ENGRAM_WAL_SEGMENT_MB, "wal_segments_ahead", 0, "quantization_config", quantization);
    return json_pack("{s:s, s:s, s:I, s:I, s:i, s:o, s:o}", "status", "green", "optimizer_status", "ok",
                     "points_count", (json_int_t)info->points_count, "indexed_vectors_count",
                     (json_int_t)info->indexed_vectors_count, "segments_count", 1, "config", config, "payload_schema",
                     schema);
}

/* ---- Collection routes ------------------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static eg_status list_collections(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                  json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)req, (void)captures, (void)body, (void)http_status;
    eg_string_list names;
    eg_status st = eg_vectors_list_collections(eg_db_vectors(ctx->db), &names, err);
    if (st) return st;
    if (names.count > 1) qsort(names.items, names.count, sizeof *names.items, by_name);
    json_t *list = json_array();
    for (size_t i = 0; list && i < names.count; i++)
        if (json_array_append_new(list, json_pack("{s:s}", "name", names.items[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    eg_string_list_free(&names);
    *result = json_pack("{s:o}", "collections", list);
    return *result ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

static eg_status get_collection(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)req, (void)body;
    eg_collection_info info;
    eg_qdrant_layout layout;
    eg_status st = eg_qdrant_collection(ctx, captures[0], &info, &layout, http_status, err);
    if (st) return st;
    *result = collection_info_json(eg_db_vectors(ctx->db), &info, &layout);
    eg_collection_info_clear(&info);
    return *result ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

static eg_status collection_exists(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                   json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)req, (void)body;
    eg_collection_info info;
    eg_qdrant_layout layout;
    unsigned status = 0;
    eg_status st = eg_qdrant_collection(ctx, captures[0], &info, &layout, &status, err);
    if (st == EG_OK) eg_collection_info_clear(&info);
    if (st != EG_OK && st != EG_NOT_FOUND) {
        *http_status = status;
        return st;
    }
    *result = json_pack("{s:b}", "exists", st == EG_OK);
    return EG_OK;
}

static eg_status name_refused(eg_error *inner, unsigned *http_status, eg_error *err) {
    *http_status = 422;
    return eg_error_set(err, EG_INVALID_ARGUMENT, "Validation error in path parameters: [collection_name: %s]",
                        inner->message);
}

static eg_status create_collection(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                   json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    const char *name = captures[0];
    eg_collection_config config;
    eg_qdrant_layout layout;
    eg_status st;
    if ((st = eg_qdrant_write_params(req, http_status, err)) ||
        (st = read_create(body, &config, &layout, http_status, err)))
        return st;
    eg_vectors *v = eg_db_vectors(ctx->db);
    eg_collection_info info;
    eg_error inner;
    pthread_mutex_lock(&collection_meta_lock);
    if (eg_catalog_is_alias(ctx->catalog, name)) {
        st = eg_qdrant_unsupported(http_status, err,
                                   "Can't create collection with name %s. Alias with the same name already exists",
                                   name);
    } else {
        st = eg_vectors_get_collection(v, name, &info, &inner);
        if (st == EG_OK) {
            eg_collection_info_clear(&info);
            *http_status = 409;
            st = eg_error_set(err, EG_CONFLICT, "Wrong input: Collection `%s` already exists!", name);
        } else if (st == EG_INVALID_ARGUMENT) {
            st = name_refused(&inner, http_status, err);
        } else if (st == EG_NOT_FOUND) {
            st = eg_vectors_create_collection(v, name, &config, &inner);
            if (st != EG_OK) st = eg_qdrant_store_failure(st, &inner, http_status, err);
            /* Without its layout the collection would answer in the wrong shape: undo it rather than keep it so. */
            else if ((st = eg_catalog_set_layout(ctx->catalog, name, &layout, err)) != EG_OK)
                eg_vectors_delete_collection(v, name, NULL);
        } else if (err) {
            *err = inner;
        }
    }
    pthread_mutex_unlock(&collection_meta_lock);
    if (st) return st;
    *result = json_true();
    return EG_OK;
}

static const char *const update_members[] = {"vectors", "optimizers_config", "params", "hnsw_config",
                                             "quantization_config", "sparse_vectors", "strict_mode_config",
                                             "metadata", NULL};
static const char *const fixed_members[] = {"vectors", "params", "hnsw_config", "quantization_config",
                                            "sparse_vectors", "strict_mode_config", "metadata", NULL};

/* engram fixes a collection's configuration at creation; only optimizer tuning, which has no effect on it, is
 * accepted. */
static eg_status update_collection(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                   json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    eg_collection_info info;
    eg_qdrant_layout layout;
    json_t *optimizers;
    eg_status st;
    if ((st = eg_qdrant_write_params(req, http_status, err)) ||
        (st = eg_qdrant_collection(ctx, captures[0], &info, &layout, http_status, err)))
        return st;
    eg_collection_info_clear(&info);
    if ((st = eg_qdrant_body(body, update_members, &body, http_status, err))) return st;
    for (const char *const *m = fixed_members; *m; m++) {
        json_t *value = json_object_get(body, *m);
        if (value && !json_is_null(value))
            return eg_qdrant_unsupported(http_status, err,
                                         "changing `%s` of an existing collection is not supported by engram: its "
                                         "configuration is fixed when it is created",
                                         *m);
    }
    if ((st = read_object(body, "the request body", "optimizers_config", &optimizers, http_status, err)) ||
        (optimizers &&
         (st = eg_qdrant_check_members(optimizers, "optimizers_config", optimizer_members, http_status, err))))
        return st;
    *result = json_true();
    return EG_OK;
}

/* As Qdrant: the name is a collection's, never resolved through an alias; a missing one answers false. */
static eg_status delete_collection(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                   json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)body;
    eg_status st = eg_qdrant_write_params(req, http_status, err);
    if (st) return st;
    eg_error inner;
    pthread_mutex_lock(&collection_meta_lock);
    st = eg_vectors_delete_collection(eg_db_vectors(ctx->db), captures[0], &inner);
    bool deleted = st == EG_OK;
    if (st == EG_NOT_FOUND || st == EG_INVALID_ARGUMENT) st = EG_OK;
    else if (st != EG_OK && err) *err = inner;
    if (st == EG_OK && deleted) st = eg_catalog_forget(ctx->catalog, captures[0], err);
    pthread_mutex_unlock(&collection_meta_lock);
    if (st) return st;
    *result = json_boolean(deleted);
    return EG_OK;
}

/* ---- Aliases ----------------------------------------------------------------------------------------------- */

static eg_status alias_name(json_t *object, const char *where, const char *member, const char **out,
                            unsigned *http_status, eg_error *err) {
    json_t *value = json_object_get(object, member);
    if (!value) return eg_qdrant_format_error(http_status, err, "missing field `%s` in %s", member, where);
    if (!json_is_string(value)) return eg_qdrant_format_error(http_status, err, "%s.%s must be a string", where, member);
    size_t len = json_string_length(value);
    *out = json_string_value(value);
    if (len < 1 || len > EG_COLLECTION_NAME_MAX || strlen(*out) != len || strchr(*out, '/')) {
        char field[96];
        snprintf(field, sizeof field, "%s.%s", where, member);
        return eg_qdrant_validation_error(http_status, err, field,
                                          "must be 1 to %d bytes without '/' (a collection name)",
                                          EG_COLLECTION_NAME_MAX);
    }
    return EG_OK;
}

static const char *const create_alias_members[] = {"collection_name", "alias_name", NULL};
static const char *const delete_alias_members[] = {"alias_name", NULL};
static const char *const rename_alias_members[] = {"old_alias_name", "new_alias_name", NULL};

static eg_status read_alias_action(json_t *item, size_t i, eg_alias_action *out, unsigned *http_status,
                                   eg_error *err) {
    char where[64];
    json_t *create = json_object_get(item, "create_alias"), *del = json_object_get(item, "delete_alias"),
           *rename = json_object_get(item, "rename_alias");
    if (!json_is_object(item) || json_object_size(item) != 1 || !(create || del || rename))
        return eg_qdrant_format_error(http_status, err,
                                      "actions[%zu] must be one of {\"create_alias\": ...}, {\"delete_alias\": ...}, "
                                      "{\"rename_alias\": ...}",
                                      i);
    eg_status st;
    if (create) {
        snprintf(where, sizeof where, "actions[%zu].create_alias", i);
        out->kind = EG_ALIAS_CREATE;
        if ((st = eg_qdrant_check_members(create, where, create_alias_members, http_status, err)) ||
            (st = alias_name(create, where, "collection_name", &out->collection, http_status, err)))
            return st;
        return alias_name(create, where, "alias_name", &out->alias, http_status, err);
    }
    if (del) {
        snprintf(where, sizeof where, "actions[%zu].delete_alias", i);
        out->kind = EG_ALIAS_DELETE;
        if ((st = eg_qdrant_check_members(del, where, delete_alias_members, http_status, err))) return st;
        return alias_name(del, where, "alias_name", &out->alias, http_status, err);
    }
    snprintf(where, sizeof where, "actions[%zu].rename_alias", i);
    out->kind = EG_ALIAS_RENAME;
    if ((st = eg_qdrant_check_members(rename, where, rename_alias_members, http_status, err)) ||
        (st = alias_name(rename, where, "old_alias_name", &out->alias, http_status, err)))
        return st;
    return alias_name(rename, where, "new_alias_name", &out->new_alias, http_status, err);
}

static const char *const aliases_members[] = {"actions", NULL};

static eg_status update_aliases(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)captures;
    eg_status st;
    if ((st = eg_qdrant_write_params(req, http_status, err)) ||
        (st = eg_qdrant_body(body, aliases_members, &body, http_status, err)))
        return st;
    json_t *actions = json_object_get(body, "actions");
    if (!actions) return eg_qdrant_format_error(http_status, err, "missing field `actions`");
    if (!json_is_array(actions)) return eg_qdrant_format_error(http_status, err, "actions must be a list");
    size_t n = json_array_size(actions);
    if (n > EG_VECTOR_BATCH_MAX)
        return eg_qdrant_unsupported(http_status, err, "%zu alias actions in one request; engram takes at most %d", n,
                                     EG_VECTOR_BATCH_MAX);
    eg_alias_action *list = calloc(n ? n : 1, sizeof *list);
    if (!list) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n && st == EG_OK; i++)
        st = read_alias_action(json_array_get(actions, i), i, &list[i], http_status, err);
    pthread_mutex_lock(&collection_meta_lock); /* a collection cannot vanish between its check and its alias */
    if (st == EG_OK)
        st = eg_catalog_update_aliases(ctx->catalog, eg_db_vectors(ctx->db), list, n, http_status, err);
    pthread_mutex_unlock(&collection_meta_lock);
    free(list);
    if (st) return st;
    *result = json_true();
    return EG_OK;
}

static eg_status list_aliases(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                              json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)req, (void)body, (void)http_status;
    /* Like Qdrant, a collection's aliases are listed by the name given, and an unknown name simply has none. */
    *result = json_pack("{s:o}", "aliases", eg_catalog_aliases_json(ctx->catalog, captures ? captures[0] : NULL));
    return *result ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

static eg_status list_all_aliases(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                                  json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)captures;
    return list_aliases(ctx, req, NULL, body, result, http_status, err);
}

/* ---- Payload indexes --------------------------------------------------------------------------------------- */

static const char *const index_members[] = {"field_name", "field_schema", NULL};
static const char *const index_params_members[] = {"type", "is_tenant", "on_disk", "memory", "lookup", "range",
                                                   "is_principal", NULL};

/* field_schema: a type name, or {"type": name, ...} whose other members are placement and planning hints. */
static eg_status read_field_schema(json_t *schema, eg_payload_type *out, unsigned *http_status, eg_error *err) {
    if (!schema || json_is_null(schema))
        return eg_qdrant_unsupported(http_status, err,
                                     "field_schema is required: engram does not infer an index's type from the data");
    json_t *type = schema;
    if (json_is_object(schema)) {
        eg_status st = eg_qdrant_check_members(schema, "field_schema", index_params_members, http_status, err);
        if (st) return st;
        type = json_object_get(schema, "type");
        if (!type) return eg_qdrant_format_error(http_status, err, "missing field `type` in field_schema");
    }
    const char *name = json_string_value(type);
    if (!name) return eg_qdrant_format_error(http_status, err, "field_schema must be a type name or {\"type\": ...}");
    if (eg_payload_type_parse(name, out, NULL) == EG_OK) return EG_OK;
    if (strcmp(name, "geo") == 0 || strcmp(name, "text") == 0 || strcmp(name, "datetime") == 0 ||
        strcmp(name, "uuid") == 0)
        return eg_qdrant_unsupported(http_status, err,
                                     "%s payload indexes are not supported by engram (keyword, integer, float, bool)",
                                     name);
    return eg_qdrant_format_error(http_status, err,
                                  "field_schema: unknown variant `%.32s`, expected one of `keyword`, `integer`, "
                                  "`float`, `geo`, `text`, `bool`, `datetime`, `uuid`",
                                  name);
}

/* As in Qdrant, an index of another type on the field is replaced. */
static eg_status create_index(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                              json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    eg_collection_info info;
    eg_qdrant_layout layout;
    eg_payload_type type;
    eg_status st;
    if ((st = eg_qdrant_write_params(req, http_status, err)) ||
        (st = eg_qdrant_body(body, index_members, &body, http_status, err)))
        return st;
    json_t *field = json_object_get(body, "field_name");
    if (!field) return eg_qdrant_format_error(http_status, err, "missing field `field_name`");
    if (!json_is_string(field)) return eg_qdrant_format_error(http_status, err, "field_name must be a string");
    if ((st = read_field_schema(json_object_get(body, "field_schema"), &type, http_status, err)) ||
        (st = eg_qdrant_collection(ctx, captures[0], &info, &layout, http_status, err)))
        return st;
    eg_vectors *v = eg_db_vectors(ctx->db);
    const char *name = json_string_value(field);
    bool replace = false;
    for (size_t i = 0; i < info.index_count; i++)
        if (strcmp(info.indexes[i].field, name) == 0 && info.indexes[i].type != type) replace = true;
    eg_error inner;
    st = replace ? eg_vectors_delete_payload_index(v, info.name, name, &inner) : EG_OK;
    if (st == EG_OK) st = eg_vectors_create_payload_index(v, info.name, name, type, &inner);
    eg_collection_info_clear(&info);
    if (st) return eg_qdrant_store_failure(st, &inner, http_status, err);
    *result = eg_qdrant_update_result();
    return EG_OK;
}

static eg_status delete_index(eg_serve_ctx *ctx, const eg_http_request *req, const char *const *captures,
                              json_t *body, json_t **result, unsigned *http_status, eg_error *err) {
    (void)body;
    eg_collection_info info;
    eg_qdrant_layout layout;
    eg_status st;
    if ((st = eg_qdrant_write_params(req, http_status, err)) ||
        (st = eg_qdrant_collection(ctx, captures[0], &info, &layout, http_status, err)))
        return st;
    eg_error inner;
    st = eg_vectors_delete_payload_index(eg_db_vectors(ctx->db), info.name, captures[1], &inner);
    eg_collection_info_clear(&info);
    if (st) return eg_qdrant_store_failure(st, &inner, http_status, err);
    *result = eg_qdrant_update_result();
    return EG_OK;
}

/* ---- What engram does not have ------------------------------------------------------------------------------
 * Qdrant's other collection-level routes answer 400 naming the feature, rather than a bare 404 that a client would
 * read as a missing collection. */

UNSUPPORTED_ROUTE(vector_names, "adding or removing a named vector of an existing collection")
UNSUPPORTED_ROUTE(cluster, "cluster information and shard operations (engram is one node with one shard)")
UNSUPPORTED_ROUTE(shard_keys, "custom sharding (shard keys)")
UNSUPPORTED_ROUTE(optimizations, "the optimizations report (engram has no background optimizer)")
UNSUPPORTED_ROUTE(snapshots, "collection snapshots (copy the data folder while no server holds it)")

const eg_route eg_qdrant_collection_routes[] = {
    {.method = "GET", .pattern = "/collections", .qdrant = list_collections},
    {.method = "POST", .pattern = "/collections/aliases", .qdrant = update_aliases},
    {.method = "GET", .pattern = "/aliases", .qdrant = list_all_aliases},
    {.method = "GET", .pattern = "/collections/{collection_name}", .qdrant = get_collection},
    {.method = "PUT", .pattern = "/collections/{collection_name}", .qdrant = create_collection},
    {.method = "PATCH", .pattern = "/collections/{collection_name}", .qdrant = update_collection},
    {.method = "DELETE", .pattern = "/collections/{collection_name}", .qdrant = delete_collection},
    {.method = "GET", .pattern = "/collections/{collection_name}/exists", .qdrant = collection_exists},
    {.method = "GET", .pattern = "/collections/{collection_name}/aliases", .qdrant = list_aliases},
    {.method = "PUT", .pattern = "/collections/{collection_name}/index", .qdrant = create_index},
    {.method = "DELETE", .pattern = "/collections/{collection_name}/index/{field_name}", .qdrant = delete_index},
    {.method = "PUT", .pattern = "/collections/{collection_name}/vectors/{vector_name}", .qdrant = vector_names},
    {.method = "DELETE", .pattern = "/collections/{collection_name}/vectors/{vector_name}", .qdrant = vector_names},
    {.method = "GET", .pattern = "/collections/{collection_name}/cluster", .qdrant = cluster},
    {.method = "POST", .pattern = "/collections/{collection_name}/cluster", .qdrant = cluster},
    {.method = "GET", .pattern = "/collections/{collection_name}/shards", .qdrant = shard_keys},
    {.method = "PUT", .pattern = "/collections/{collection_name}/shards", .qdrant = shard_keys},
    {.method = "POST", .pattern = "/collections/{collection_name}/shards/delete", .qdrant = shard_keys},
    {.method = "GET", .pattern = "/collections/{collection_name}/optimizations", .qdrant = optimizations},
    {.method = "GET", .pattern = "/collections/{collection_name}/snapshots", .qdrant = snapshots},
    {.method = "POST", .pattern = "/collections/{collection_name}/snapshots", .qdrant = snapshots},
    {.method = "POST", .pattern = "/collections/{collection_name}/snapshots/upload", .qdrant = snapshots},
    {.method = "PUT", .pattern = "/collections/{collection_name}/snapshots/recover", .qdrant = snapshots},
    {.method = "GET", .pattern = "/collections/{collection_name}/snapshots/{snapshot_name}", .qdrant = snapshots},
    {.method = "DELETE", .pattern = "/collections/{collection_name}/snapshots/{snapshot_name}", .qdrant = snapshots},
    {.method = "GET", .pattern = "/collections/{collection_name}/shards/{shard_id}/snapshot", .qdrant = snapshots},
    {.method = "GET", .pattern = "/collections/{collection_name}/shards/{shard_id}/snapshots", .qdrant = snapshots},
    {.method = "POST", .pattern = "/collections/{collection_name}/shards/{shard_id}/snapshots", .qdrant = snapshots},
    {.method = "POST", .pattern = "/collections/{collection_name}/shards/{shard_id}/snapshots/upload", .qdrant = snapshots},
    {.method = "PUT", .pattern = "/collections/{collection_name}/shards/{shard_id}/snapshots/recover", .qdrant = snapshots},
    {.method = "GET", .pattern = "/collections/{collection_name}/shards/{shard_id}/snapshots/{snapshot_name}",
     .qdrant = snapshots},
    {.method = "DELETE", .pattern = "/collections/{collection_name}/shards/{shard_id}/snapshots/{snapshot_name}",
     .qdrant = snapshots},
    {0},
};
