/* ops_vectors.c — the vector store operations of the JSON interface: decoding point ids, dense and sparse
 * vectors, points and filters from requests, calls into eg_vectors_*, and the JSON shapes of collections,
 * points and scored points (documented in docs/operations.md; they follow Qdrant's REST shapes). */
#include "exec/exec_internal.h"
#include "model/json_shapes.h"
#include "util/json_text.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SCROLL_LIMIT 100
#define DEFAULT_SEARCH_LIMIT 10

/* ---- Arguments ------------------------------------------------------------------------------------------ */

/* The `ids` argument: at most EG_VECTOR_BATCH_MAX point ids, in a new array (free()); *ids stays NULL when the
 * argument is absent and not required, which is how delete tells ids from a filter. */
static eg_status read_ids(json_t *args, bool required, eg_point_id **ids, size_t *count, eg_error *err) {
    json_t *items = NULL;
    eg_status st;
    *ids = NULL;
    *count = 0;
    if ((st = eg_arg_array(args, "ids", required, &items, err)) || !items || (st = eg_check_batch(items, EG_VECTOR_BATCH_MAX, "ids", err)))
        return st;
    size_t n = json_array_size(items);
    eg_point_id *out = calloc(n ? n : 1, sizeof *out);
    if (!out) return eg_exec_no_memory(err);
    for (size_t i = 0; i < n && st == EG_OK; i++)
        st = eg_error_prefix(err, eg_point_id_from_json(json_array_get(items, i), &out[i], err), "ids[%zu]: ", i);
    if (st) {
        free(out);
        return st;
    }
    *ids = out;
    *count = n;
    return EG_OK;
}

static const char *const point_fields[] = {"id", "vector", "sparse_vector", "payload", NULL};
static const char *const vector_update_fields[] = {"id", "vector", NULL};

/* One point of an upsert (full) or of batch_update_vectors (id and vector only). It owns what it holds, the
 * payload included (a reference taken), so eg_point_clear frees it whatever step failed. */
static eg_status read_point(json_t *item, bool full, eg_point *p, eg_error *err) {
    json_t *id, *vector, *sparse = NULL, *payload = NULL;
    eg_status st;
    if (!json_is_object(item)) return eg_error_set(err, EG_INVALID_ARGUMENT, "must be a JSON object");
    if ((st = eg_check_fields(item, full ? point_fields : vector_update_fields, err)) ||
        (st = eg_arg_value(item, "id", &id, err)) || (st = eg_point_id_from_json(id, &p->id, err)) ||
        (st = eg_arg_array(item, "vector", true, &vector, err)) ||
        (st = eg_floats_from_json(vector, "vector", &p->vector, &p->dim, err)))
        return st;
    if (!full) return EG_OK;
    if ((st = eg_arg_object(item, "sparse_vector", false, &sparse, err)) ||
        (sparse && (st = eg_sparse_from_json(sparse, "sparse_vector", &p->sparse, err))) ||
        (st = eg_arg_object(item, "payload", false, &payload, err)))
        return st;
    p->payload = json_incref(payload);
    return EG_OK;
}

static void free_points(eg_point *points, size_t count) {
    for (size_t i = 0; i < count; i++) eg_point_clear(&points[i]);
    free(points);
}

/* The `points` argument as a new array (free_points). */
static eg_status read_points(json_t *args, bool full, eg_point **out, size_t *count, eg_error *err) {
    json_t *items;
    eg_status st;
    if ((st = eg_arg_array(args, "points", true, &items, err)) || (st = eg_check_batch(items, EG_VECTOR_BATCH_MAX, "points", err))) return st;
    size_t n = json_array_size(items);
    eg_point *points = calloc(n ? n : 1, sizeof *points);
    if (!points) return eg_exec_no_memory(err);
    for (size_t i = 0; i < n && st == EG_OK; i++)
        st = eg_error_prefix(err, read_point(json_array_get(items, i), full, &points[i], err), "points[%zu]: ", i);
    if (st) {
        free_points(points, n);
        return st;
    }
    *out = points;
    *count = n;
    return EG_OK;
}

/* ---- Index parameters (Qdrant's HnswConfigDiff, ScalarQuantization and SearchParams) -------------------- */

static const char *const hnsw_config_fields[] = {"m", "ef_construct", "full_scan_threshold", NULL};

/* "hnsw_config": {"m", "ef_construct", "full_scan_threshold"}, each optional (absent: the default). Unlike
 * Qdrant's, full_scan_threshold counts points, and 0 is refused everywhere: Qdrant's m 0 (no graph at all) has
 * no engram equivalent, and 0 in the C configuration means "the default", which absence says here. */
static eg_status read_hnsw_config(json_t *args, eg_collection_config *config, eg_error *err) {
    json_t *hnsw = NULL;
    long long m = 0, ef_construct = 0, threshold = 0;
    eg_status st;
    if ((st = eg_arg_object(args, "hnsw_config", false, &hnsw, err)) || !hnsw) return st;
    if ((st = eg_check_fields(hnsw, hnsw_config_fields, err)) ||
        (st = eg_arg_int(hnsw, "m", false, 2, EG_HNSW_M_MAX, &m, err)) ||
        (st = eg_arg_int(hnsw, "ef_construct", false, 4, EG_HNSW_EF_CONSTRUCT_MAX, &ef_construct, err)) ||
        (st = eg_arg_int(hnsw, "full_scan_threshold", false, 1, UINT32_MAX, &threshold, err)))
        return eg_error_prefix(err, st, "hnsw_config: ");
    config->hnsw_m = (uint32_t)m;
    config->hnsw_ef_construct = (uint32_t)ef_construct;
    config->full_scan_threshold = (uint32_t)threshold;
    return EG_OK;
}

/* Qdrant's quantization kinds engram does not implement (it has only scalar int8). */
static const char *const unsupported_quantizations[] = {"product", "binary", "turbo", NULL};
static const char *const quantization_config_fields[] = {"scalar", NULL};
static const char *const scalar_quantization_fields[] = {"type", "quantile", "always_ram", NULL};

/* "quantization_config": {"scalar": {"type": "int8", "quantile": 1.0, "always_ram": bool}} or null (none).
 * always_ram is accepted and ignored: the index lives in memory either way. */
eg_status eg_quantization_config_from_json(json_t *args, eg_quantization *out, eg_error *err) {
    json_t *config = NULL, *scalar;
    const char *key, *type;
    json_t *value;
    double quantile = 1.0;
    bool always_ram = false;
    eg_status st;
    if ((st = eg_arg_object(args, "quantization_config", false, &config, err)) || !config) return st;
    json_object_foreach(config, key, value) {
        if (eg_name_in(unsupported_quantizations, key))
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "quantization_config: %s quantization is not supported; engram has only "
                                "{\"scalar\": {\"type\": \"int8\"}}",
                                key);
    }
    if ((st = eg_check_fields(config, quantization_config_fields, err)) ||
        (st = eg_arg_object(config, "scalar", true, &scalar, err)))
        return eg_error_prefix(err, st, "quantization_config: ");
    if ((st = eg_check_fields(scalar, scalar_quantization_fields, err)) ||
        (st = eg_arg_string(scalar, "type", true, &type, err)) ||
        (st = eg_arg_number(scalar, "quantile", false, &quantile, err)) ||
        (st = eg_arg_bool(scalar, "always_ram", &always_ram, err)))
        return eg_error_prefix(err, st, "quantization_config.scalar: ");
    if (strcmp(type, "int8") != 0)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "quantization_config.scalar: type '%.32s' is not supported; engram has only \"int8\"", type);
    if (quantile != 1.0)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "quantization_config.scalar: quantile %g is not supported; engram's int8 quantization "
                            "uses the whole range of values (leave quantile out, or 1.0)",
                            quantile);
    *out = EG_QUANTIZATION_INT8;
    return EG_OK;
}

static const char *const search_params_fields[] = {"hnsw_ef", "exact", "quantization", NULL};
static const char *const quantization_params_fields[] = {"oversampling", "rescore", "ignore", NULL};

/* "params": {"hnsw_ef", "exact", "quantization": {"oversampling", "rescore", "ignore"}}, all optional. engram
 * always rescores the index's candidates with the stored vectors, so rescore may only be true (or absent), and
 * it cannot search a quantized index as if it were not (ignore true). */
static eg_status read_search_params(json_t *args, eg_search_params *out, eg_error *err) {
    json_t *params = NULL, *quantization = NULL;
    long long hnsw_ef = 0;
    bool rescore = true, ignore = false;
    eg_status st;
    *out = (eg_search_params){.hnsw_ef = 0};
    if ((st = eg_arg_object(args, "params", false, &params, err)) || !params) return st;
    if ((st = eg_check_fields(params, search_params_fields, err)) ||
        (st = eg_arg_int(params, "hnsw_ef", false, 1, EG_SEARCH_LIMIT_MAX, &hnsw_ef, err)) ||
        (st = eg_arg_bool(params, "exact", &out->exact, err)) ||
        (st = eg_arg_object(params, "quantization", false, &quantization, err)))
        return eg_error_prefix(err, st, "params: ");
    out->hnsw_ef = (size_t)hnsw_ef;
    if (!quantization) return EG_OK;
    if ((st = eg_check_fields(quantization, quantization_params_fields, err)) ||
        (st = eg_arg_number(quantization, "oversampling", false, &out->oversampling, err)) ||
        (st = eg_arg_bool(quantization, "rescore", &rescore, err)) ||
        (st = eg_arg_bool(quantization, "ignore", &ignore, err)))
        return eg_error_prefix(err, st, "params.quantization: ");
    json_t *oversampling = json_object_get(quantization, "oversampling");
    if (oversampling && !json_is_null(oversampling) &&
        !(out->oversampling >= 1.0 && out->oversampling <= EG_OVERSAMPLING_MAX))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "params.quantization: argument 'oversampling' must be from 1 to %g, got %g",
                            EG_OVERSAMPLING_MAX, out->oversampling);
    if (!rescore)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "params.quantization: rescore false is not supported; engram always rescores the "
                            "candidates with the stored vectors");
    if (ignore)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "params.quantization: ignore true is not supported; engram cannot ignore a collection's "
                            "quantization (\"exact\": true searches without the index)");
    return EG_OK;
}

/* The arguments search and search_hybrid share. The filter is read last: after it, every failure must free it. */
typedef struct search_options {
    long long limit;
    eg_filter *filter;
    const char *session_id;
    bool has_score_threshold;
    double score_threshold;
    bool with_payload, with_vectors;
    eg_search_params params;
} search_options;

static eg_status read_search_options(json_t *args, search_options *o, eg_error *err) {
    *o = (search_options){.limit = DEFAULT_SEARCH_LIMIT, .with_payload = true};
    eg_status st;
    if ((st = eg_arg_int(args, "limit", false, 1, EG_SEARCH_LIMIT_MAX, &o->limit, err)) ||
        (st = eg_arg_string(args, "session_id", false, &o->session_id, err)) ||
        (st = eg_arg_number(args, "score_threshold", false, &o->score_threshold, err)) ||
        (st = eg_arg_bool(args, "with_payload", &o->with_payload, err)) ||
        (st = eg_arg_bool(args, "with_vectors", &o->with_vectors, err)) ||
        (st = read_search_params(args, &o->params, err)))
        return st;
    json_t *threshold = json_object_get(args, "score_threshold");
    o->has_score_threshold = threshold && !json_is_null(threshold);
    return eg_arg_filter(args, &o->filter, err);
}

/* ---- Results -------------------------------------------------------------------------------------------- */

static json_t *point_list_json(const eg_point_list *list, bool with_payload) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < list->count; i++)
        if (json_array_append_new(a, eg_point_json(&list->items[i], NULL, with_payload)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* A dense or sparse score is a float32 widened to a double, and prints as that float; a fused hybrid score is a
 * double of its own (a sum of reciprocal ranks). */
static json_t *scored_list_json(const eg_scored_list *list, bool with_payload, bool fused) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < list->count; i++) {
        double score = list->items[i].score;
        json_t *score_json = fused ? json_real(score) : eg_json_float((float)score);
        if (json_array_append_new(a, eg_point_json(&list->items[i].point, score_json, with_payload)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *collection_json(const eg_collection_info *info) {
    json_t *indexes = json_object();
    for (size_t i = 0; indexes && i < info->index_count; i++)
        if (json_object_set_new(indexes, info->indexes[i].field,
                                json_string(eg_payload_type_name(info->indexes[i].type))) != 0) {
            json_decref(indexes);
            indexes = NULL;
        }
    json_t *quantization = info->config.quantization == EG_QUANTIZATION_NONE
                               ? json_null()
                               : json_pack("{s:{s:s}}", "scalar", "type", eg_quantization_name(info->config.quantization));
    return json_pack("{s:s, s:I, s:s, s:b, s:{s:I, s:I, s:I}, s:o, s:I, s:I, s:o}", "name", info->name, "dim",
                     (json_int_t)info->config.dim, "distance", eg_distance_name(info->config.distance), "sparse",
                     info->config.sparse, "hnsw_config", "m", (json_int_t)info->config.hnsw_m, "ef_construct",
                     (json_int_t)info->config.hnsw_ef_construct, "full_scan_threshold",
                     (json_int_t)info->config.full_scan_threshold, "quantization_config", quantization, "points_count",
                     (json_int_t)info->points_count, "indexed_vectors_count", (json_int_t)info->indexed_vectors_count,
                     "payload_indexes", indexes);
}

/* ---- Collections ---------------------------------------------------------------------------------------- */

static eg_status op_create_collection(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name, *distance = eg_distance_name(EG_DISTANCE_COSINE);
    long long dim;
    eg_collection_config config = {.distance = EG_DISTANCE_COSINE};
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_int(args, "dim", true, 1, EG_VECTOR_DIM_MAX, &dim, err)) ||
        (st = eg_arg_string(args, "distance", false, &distance, err)) ||
        (st = eg_distance_parse(distance, &config.distance, err)) || (st = eg_arg_bool(args, "sparse", &config.sparse, err)) ||
        (st = read_hnsw_config(args, &config, err)) || (st = eg_quantization_config_from_json(args, &config.quantization, err)))
        return st;
    config.dim = (uint32_t)dim;
    if ((st = eg_vectors_create_collection(eg_db_vectors(db), name, &config, err))) return st;
    return eg_exec_result(json_pack("{s:s}", "collection", name), result, err);
}

static eg_status op_get_collection(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    eg_collection_info info;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_vectors_get_collection(eg_db_vectors(db), name, &info, err)))
        return st;
    json_t *j = collection_json(&info);
    eg_collection_info_clear(&info);
    return eg_exec_result(j, result, err);
}

static eg_status op_list_collections(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    (void)args;
    eg_string_list names;
    eg_status st = eg_vectors_list_collections(eg_db_vectors(db), &names, err);
    if (st) return st;
    json_t *a = json_array();
    for (size_t i = 0; a && i < names.count; i++)
        if (json_array_append_new(a, json_string(names.items[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    eg_string_list_free(&names);
    return eg_exec_result(a, result, err);
}

static eg_status op_delete_collection(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_vectors_delete_collection(eg_db_vectors(db), name, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "collection", name), result, err);
}

static eg_status op_create_payload_index(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name, *field, *type_name;
    eg_payload_type type;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_string(args, "field", true, &field, err)) ||
        (st = eg_arg_string(args, "type", true, &type_name, err)) ||
        (st = eg_payload_type_parse(type_name, &type, err)) ||
        (st = eg_vectors_create_payload_index(eg_db_vectors(db), name, field, type, err)))
        return st;
    return eg_exec_result(json_pack("{s:s, s:s, s:s}", "collection", name, "field", field, "type", eg_payload_type_name(type)),
                result, err);
}

/* ---- Points --------------------------------------------------------------------------------------------- */

/* upsert and batch_update_vectors: read the points (whole, or id and vector), write them, count them. */
static eg_status write_points(eg_db *db, json_t *args, bool whole, const char *counted, json_t **result,
                              eg_error *err) {
    const char *name;
    eg_point *points = NULL;
    size_t n = 0;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) || (st = read_points(args, whole, &points, &n, err)))
        return st;
    st = whole ? eg_vectors_upsert(eg_db_vectors(db), name, points, n, err)
               : eg_vectors_update_vectors(eg_db_vectors(db), name, points, n, err);
    free_points(points, n);
    return st ? st : eg_exec_result(json_pack("{s:I}", counted, (json_int_t)n), result, err);
}

static eg_status op_upsert(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return write_points(db, args, true, "upserted", result, err);
}

static eg_status op_get(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    bool with_payload = true, with_vectors = false;
    eg_point_id *ids;
    size_t n;
    eg_point_list list;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_bool(args, "with_payload", &with_payload, err)) ||
        (st = eg_arg_bool(args, "with_vectors", &with_vectors, err)) || (st = read_ids(args, true, &ids, &n, err)))
        return st;
    st = eg_vectors_get(eg_db_vectors(db), name, ids, n, with_payload, with_vectors, &list, err);
    free(ids);
    if (st) return st;
    json_t *j = point_list_json(&list, with_payload);
    eg_point_list_free(&list);
    return eg_exec_result(j, result, err);
}

static eg_status set_payload(eg_db *db, json_t *args, eg_payload_mode mode, json_t **result, eg_error *err) {
    const char *name;
    json_t *payload;
    eg_point_id *ids;
    size_t n;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_object(args, "payload", true, &payload, err)) || (st = read_ids(args, true, &ids, &n, err)))
        return st;
    st = eg_vectors_set_payload(eg_db_vectors(db), name, ids, n, payload, mode, err);
    free(ids);
    return st ? st : eg_exec_result(json_pack("{s:I}", "updated", (json_int_t)n), result, err);
}

static eg_status op_update_payload(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return set_payload(db, args, EG_PAYLOAD_MERGE, result, err);
}

static eg_status op_overwrite_payload(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return set_payload(db, args, EG_PAYLOAD_OVERWRITE, result, err);
}

static eg_status op_delete_payload_keys(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    json_t *key_items;
    eg_point_id *ids;
    size_t n;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_array(args, "keys", true, &key_items, err)) || (st = eg_check_batch(key_items, EG_VECTOR_BATCH_MAX, "keys", err)))
        return st;
    size_t key_count = json_array_size(key_items);
    const char **keys = calloc(key_count ? key_count : 1, sizeof *keys);
    if (!keys) return eg_exec_no_memory(err);
    for (size_t i = 0; i < key_count && st == EG_OK; i++)
        if (!(keys[i] = json_string_value(json_array_get(key_items, i))))
            st = eg_error_set(err, EG_INVALID_ARGUMENT, "keys[%zu] must be a string", i);
    if (st == EG_OK && (st = read_ids(args, true, &ids, &n, err)) == EG_OK) {
        st = eg_vectors_delete_payload_keys(eg_db_vectors(db), name, ids, n, keys, key_count, err);
        free(ids);
    }
    free(keys);
    return st ? st : eg_exec_result(json_pack("{s:I}", "updated", (json_int_t)n), result, err);
}

static eg_status op_batch_update_vectors(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    return write_points(db, args, false, "updated", result, err);
}

static eg_status op_delete(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    eg_point_id *ids;
    size_t n;
    eg_filter *filter;
    uint64_t deleted;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) || (st = read_ids(args, false, &ids, &n, err)))
        return st;
    if ((st = eg_arg_filter(args, &filter, err)) == EG_OK) {
        st = eg_vectors_delete(eg_db_vectors(db), name, ids, n, filter, &deleted, err);
        eg_filter_free(filter);
    }
    free(ids);
    return st ? st : eg_exec_result(json_pack("{s:I}", "deleted", (json_int_t)deleted), result, err);
}

/* ---- Reading and searching ------------------------------------------------------------------------------ */

static eg_status op_count(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    eg_filter *filter;
    uint64_t n;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) || (st = eg_arg_filter(args, &filter, err)))
        return st;
    st = eg_vectors_count(eg_db_vectors(db), name, filter, &n, err);
    eg_filter_free(filter);
    return st ? st : eg_exec_result(json_integer((json_int_t)n), result, err);
}

static eg_status op_scroll(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    long long limit = DEFAULT_SCROLL_LIMIT;
    eg_scroll_request request = {.with_payload = true};
    eg_point_id offset, next;
    bool has_next;
    eg_filter *filter;
    eg_point_list list;
    eg_status st;
    json_t *offset_json = json_object_get(args, "offset");
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_int(args, "limit", false, 1, EG_SEARCH_LIMIT_MAX, &limit, err)) ||
        (st = eg_arg_bool(args, "with_payload", &request.with_payload, err)) ||
        (st = eg_arg_bool(args, "with_vectors", &request.with_vectors, err)))
        return st;
    if (offset_json && !json_is_null(offset_json)) {
        if ((st = eg_error_prefix(err, eg_point_id_from_json(offset_json, &offset, err), "offset: "))) return st;
        request.offset = &offset;
    }
    if ((st = eg_arg_filter(args, &filter, err))) return st;
    request.filter = filter;
    request.limit = (size_t)limit;
    st = eg_vectors_scroll(eg_db_vectors(db), name, &request, &list, &next, &has_next, err);
    eg_filter_free(filter);
    if (st) return st;
    json_t *points = point_list_json(&list, request.with_payload);
    eg_point_list_free(&list);
    return eg_exec_result(json_pack("{s:o, s:o}", "points", points, "next_offset", has_next ? eg_point_id_to_json(&next) : json_null()),
                result, err);
}

static eg_status op_search(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    json_t *vector_json;
    long long offset = 0;
    float *vector = NULL;
    size_t dim;
    search_options o;
    eg_scored_list list;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_array(args, "vector", true, &vector_json, err)) ||
        (st = eg_arg_int(args, "offset", false, 0, EG_SEARCH_LIMIT_MAX, &offset, err)) ||
        (st = eg_floats_from_json(vector_json, "vector", &vector, &dim, err)) || (st = read_search_options(args, &o, err))) {
        free(vector);
        return st;
    }
    eg_search_request request = {.vector = vector,
                                 .dim = dim,
                                 .limit = (size_t)o.limit,
                                 .offset = (size_t)offset,
                                 .filter = o.filter,
                                 .session_id = o.session_id,
                                 .has_score_threshold = o.has_score_threshold,
                                 .score_threshold = o.score_threshold,
                                 .with_payload = o.with_payload,
                                 .with_vectors = o.with_vectors,
                                 .params = o.params};
    st = eg_vectors_search(eg_db_vectors(db), name, &request, &list, err);
    free(vector);
    eg_filter_free(o.filter);
    if (st) return st;
    json_t *j = scored_list_json(&list, o.with_payload, false);
    eg_scored_list_free(&list);
    return eg_exec_result(j, result, err);
}

static eg_status op_search_hybrid(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name;
    json_t *dense_json, *sparse_object;
    float *dense = NULL;
    size_t dim;
    eg_sparse_vector sparse = {.count = 0};
    search_options o;
    eg_scored_list list;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_array(args, "dense_vector", true, &dense_json, err)) ||
        (st = eg_arg_object(args, "sparse_vector", true, &sparse_object, err)) ||
        (st = eg_floats_from_json(dense_json, "dense_vector", &dense, &dim, err)) ||
        (st = eg_sparse_from_json(sparse_object, "sparse_vector", &sparse, err)) || (st = read_search_options(args, &o, err))) {
        free(dense), free(sparse.indices), free(sparse.values);
        return st;
    }
    eg_hybrid_request request = {.vector = dense,
                                 .dim = dim,
                                 .sparse = sparse,
                                 .limit = (size_t)o.limit,
                                 .filter = o.filter,
                                 .session_id = o.session_id,
                                 .has_score_threshold = o.has_score_threshold,
                                 .score_threshold = o.score_threshold,
                                 .with_payload = o.with_payload,
                                 .with_vectors = o.with_vectors,
                                 .params = o.params};
    st = eg_vectors_search_hybrid(eg_db_vectors(db), name, &request, &list, err);
    free(dense), free(sparse.indices), free(sparse.values);
    eg_filter_free(o.filter);
    if (st) return st;
    json_t *j = scored_list_json(&list, o.with_payload, true);
    eg_scored_list_free(&list);
    return eg_exec_result(j, result, err);
}

static eg_status op_delete_payload_index(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    const char *name, *field;
    eg_status st;
    if ((st = eg_arg_string(args, "collection", true, &name, err)) ||
        (st = eg_arg_string(args, "field", true, &field, err)) ||
        (st = eg_vectors_delete_payload_index(eg_db_vectors(db), name, field, err)))
        return st;
    return eg_exec_result(json_pack("{s:s, s:s}", "collection", name, "field", field), result, err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

const eg_exec_op eg_exec_vector_ops[] = {
    {"create_collection", op_create_collection, ARGS("collection", "dim", "distance", "sparse", "hnsw_config", "quantization_config")},
    {"get_collection", op_get_collection, ARGS("collection"), EG_READS_VECTORS},
    {"list_collections", op_list_collections, ARGS(NULL), EG_READS_VECTORS},
    {"delete_collection", op_delete_collection, ARGS("collection")},
    {"create_payload_index", op_create_payload_index, ARGS("collection", "field", "type")},
    {"delete_payload_index", op_delete_payload_index, ARGS("collection", "field")},
    {"add", op_upsert, ARGS("collection", "points")},
    {"upsert", op_upsert, ARGS("collection", "points")},
    {"get", op_get, ARGS("collection", "ids", "with_payload", "with_vectors"), EG_READS_VECTORS},
    {"update_payload", op_update_payload, ARGS("collection", "ids", "payload")},
    {"overwrite_payload", op_overwrite_payload, ARGS("collection", "ids", "payload")},
    {"delete_payload_keys", op_delete_payload_keys, ARGS("collection", "ids", "keys")},
    {"batch_update_vectors", op_batch_update_vectors, ARGS("collection", "points")},
    {"delete", op_delete, ARGS("collection", "ids", "filter")},
    {"count", op_count, ARGS("collection", "filter"), EG_READS_VECTORS},
    {"scroll", op_scroll, ARGS("collection", "filter", "limit", "offset", "with_payload", "with_vectors"), EG_READS_VECTORS},
    {"search", op_search,
     ARGS("collection", "vector", "limit", "offset", "filter", "session_id", "score_threshold", "with_payload",
          "with_vectors", "params"), EG_READS_VECTORS},
    {"search_hybrid", op_search_hybrid,
     ARGS("collection", "dense_vector", "sparse_vector", "limit", "filter", "session_id", "score_threshold",
          "with_payload", "with_vectors", "params"), EG_READS_VECTORS},
    {NULL, NULL, NULL},
};
