/* qdrant_shapes.c — the JSON shapes the Qdrant routes share (qdrant_shapes.h): resolving a path's collection,
 * with_payload and with_vector selectors, points as Qdrant's Record and ScoredPoint, and a point's vectors as
 * Qdrant takes them. Error messages are Qdrant's own where Qdrant has one ("Wrong input: ...", "Not found: ..."),
 * since clients and their users read them. */
#include "serve/qdrant_shapes.h"

#include "model/json_shapes.h"
#include "util/json_text.h"
#include "vector/filter_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- Resolving a collection -------------------------------------------------------------------------------- */

eg_status eg_qdrant_collection(eg_serve_ctx *ctx, const char *name, eg_collection_info *info,
                               eg_qdrant_layout *layout, unsigned *http_status, eg_error *err) {
    char resolved[EG_COLLECTION_NAME_MAX + 1];
    eg_catalog_resolve(ctx->catalog, name, resolved);
    eg_error inner;
    eg_status st = eg_vectors_get_collection(eg_db_vectors(ctx->db), resolved, info, &inner);
    if (st == EG_NOT_FOUND || st == EG_INVALID_ARGUMENT) {
        /* An impossible name (too long, with '/') cannot exist either: Qdrant answers both alike. */
        *http_status = 404;
        return eg_error_set(err, EG_NOT_FOUND, "Not found: Collection `%.255s` doesn't exist!", name);
    }
    if (st != EG_OK) {
        if (err) *err = inner;
        return st;
    }
    return eg_catalog_layout(ctx->catalog, info, layout);
}

/* ---- Payload selectors ------------------------------------------------------------------------------------- */

static eg_status selector_error(eg_error *err, const char *detail) {
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "Format error in JSON body: with_payload must be true, false, a list of keys, "
                        "{\"include\": [keys]} or {\"exclude\": [keys]}%s",
                        detail);
}

/* Every key of a selector must be a valid JSON path, checked once here so that picking may trust them. */
static eg_status check_keys(json_t *keys, eg_error *err) {
    if (!json_is_array(keys)) return selector_error(err, "");
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key) {
        if (!json_is_string(key)) return selector_error(err, ": a key is not a string");
        eg_key_path path;
        eg_error inner;
        if (eg_key_path_parse(json_string_value(key), json_string_length(key), "with_payload key", &path, &inner) !=
            EG_OK)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "Format error in JSON body: %s", inner.message);
        eg_key_path_clear(&path);
    }
    return EG_OK;
}

eg_status eg_qdrant_payload_selector(json_t *value, bool default_any, eg_payload_selector *out, eg_error *err) {
    *out = (eg_payload_selector){.any = default_any};
    if (!value || json_is_null(value)) return EG_OK;
    if (json_is_boolean(value)) {
        out->any = json_is_true(value);
        return EG_OK;
    }
    if (json_is_array(value)) {
        eg_status st = check_keys(value, err);
        if (st == EG_OK) *out = (eg_payload_selector){.any = true, .keys = value};
        return st;
    }
    if (!json_is_object(value) || json_object_size(value) != 1) return selector_error(err, "");
    json_t *include = json_object_get(value, "include"), *exclude = json_object_get(value, "exclude");
    json_t *keys = include ? include : exclude;
    if (!keys) return selector_error(err, "");
    eg_status st = check_keys(keys, err);
    if (st == EG_OK) *out = (eg_payload_selector){.any = true, .exclude = exclude != NULL, .keys = keys};
    return st;
}

/* The picker's view of the value being copied: the steps from the payload's top to it (keys, and "every
 * element" for an array's elements, as Qdrant names them), and the selector's keys parsed. */
typedef struct pick_state {
    eg_path_step path[EG_JSON_DEPTH_MAX + 1];
    size_t depth;
    eg_key_path *patterns;
    size_t pattern_count;
    bool exclude;
} pick_state;

static bool step_equal(const eg_path_step *a, const eg_path_step *b) {
    if (a->kind != b->kind) return false;
    if (a->kind == EG_PATH_KEY) return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
    return a->kind == EG_PATH_EVERY || a->index == b->index;
}

/* Qdrant's rules: a value is included when its path and some include pattern agree over their common length
 * (either may be the longer), and excluded when an exclude pattern is a prefix of its path. */
static bool keep(const pick_state *s) {
    for (size_t p = 0; p < s->pattern_count; p++) {
        const eg_key_path *pattern = &s->patterns[p];
        size_t common = pattern->count < s->depth ? pattern->count : s->depth;
        bool agree = true;
        for (size_t i = 0; agree && i < common; i++) agree = step_equal(&s->path[i], &pattern->steps[i]);
        if (s->exclude && agree && pattern->count <= s->depth) return false;
        if (!s->exclude && agree) return true;
    }
    return s->exclude;
}

static json_t *pick_value(pick_state *s, json_t *value) {
    if (s->depth >= EG_JSON_DEPTH_MAX || (!json_is_object(value) && !json_is_array(value))) return json_deep_copy(value);
    json_t *copy = json_is_object(value) ? json_object() : json_array();
    if (!copy) return NULL;
    s->depth++;
    bool failed = false;
    if (json_is_array(value)) {
        s->path[s->depth - 1] = (eg_path_step){.kind = EG_PATH_EVERY};
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) {
            if (keep(s) && json_array_append_new(copy, pick_value(s, item)) != 0) failed = true;
        }
    } else {
        const char *key;
        json_t *member;
        json_object_foreach(value, key, member) {
            s->path[s->depth - 1] = (eg_path_step){.kind = EG_PATH_KEY, .key = (char *)key, .key_len = strlen(key)};
            if (keep(s) && json_object_set_new(copy, key, pick_value(s, member)) != 0) failed = true;
        }
    }
    s->depth--;
    if (failed) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

json_t *eg_qdrant_payload_pick(const eg_payload_selector *selector, json_t *payload) {
    if (!payload) return json_object();
    if (!selector->keys) return json_incref(payload);
    size_t n = json_array_size(selector->keys);
    pick_state *s = calloc(1, sizeof *s);
    eg_key_path *patterns = calloc(n ? n : 1, sizeof *patterns);
    json_t *picked = NULL;
    size_t parsed = 0;
    if (s && patterns) {
        while (parsed < n) {
            json_t *key = json_array_get(selector->keys, parsed);
            if (eg_key_path_parse(json_string_value(key), json_string_length(key), "key", &patterns[parsed], NULL))
                break;
            parsed++;
        }
        if (parsed == n) {
            *s = (pick_state){.patterns = patterns, .pattern_count = n, .exclude = selector->exclude};
            picked = pick_value(s, payload);
        }
    }
    for (size_t i = 0; i < parsed; i++) eg_key_path_clear(&patterns[i]);
    free(patterns);
    free(s);
    return picked;
}

/* ---- Vector selectors -------------------------------------------------------------------------------------- */

static eg_status no_such_vector(eg_error *err, const char *name) {
    return eg_error_set(err, EG_INVALID_ARGUMENT, "Wrong input: Not existing vector name error: %.64s", name);
}

eg_status eg_qdrant_vector_selector(json_t *value, const eg_qdrant_layout *layout, bool *out, eg_error *err) {
    if (!value || json_is_null(value)) return EG_OK;
    if (json_is_boolean(value)) {
        *out = json_is_true(value);
        return EG_OK;
    }
    if (!json_is_array(value))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "Format error in JSON body: with_vector must be true, false or a list of vector names");
    size_t i;
    json_t *name;
    bool any = false;
    json_array_foreach(value, i, name) {
        const char *text = json_string_value(name);
        if (!text)
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "Format error in JSON body: with_vector must be true, false or a list of vector names");
        if (strcmp(text, layout->dense) != 0 && !(layout->sparse[0] && strcmp(text, layout->sparse) == 0))
            return no_such_vector(err, text);
        any = true;
    }
    *out = any;
    return EG_OK;
}

/* ---- Points ------------------------------------------------------------------------------------------------ */

/* A plain array for an unnamed dense vector alone; else an object of the vectors the point has. */
static json_t *vector_json(const eg_point *p, const eg_qdrant_layout *layout) {
    json_t *dense = eg_floats_json(p->vector, p->dim);
    if (!layout->dense[0] && !layout->sparse[0]) return dense;
    json_t *named = json_object();
    if (!named || json_object_set_new(named, layout->dense, dense) != 0 ||
        (p->sparse.count && json_object_set_new(named, layout->sparse, eg_sparse_json(&p->sparse)) != 0)) {
        json_decref(named);
        return NULL;
    }
    return named;
}

json_t *eg_qdrant_point_json(const eg_point *point, const eg_qdrant_layout *layout,
                             const eg_payload_selector *payload, bool with_vector, const double *score) {
    json_t *j = json_object();
    if (!j || json_object_set_new(j, "id", eg_point_id_to_json(&point->id)) != 0 ||
        (score && (json_object_set_new(j, "version", json_integer(0)) != 0 ||
                   json_object_set_new(j, "score", eg_json_float((float)*score)) != 0)) ||
        (payload->any && json_object_set_new(j, "payload", eg_qdrant_payload_pick(payload, point->payload)) != 0) ||
        (with_vector && point->vector && json_object_set_new(j, "vector", vector_json(point, layout)) != 0)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static eg_status dense_from_json(json_t *value, uint32_t dim, eg_point *p, eg_error *err) {
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) {
        if (json_is_array(item))
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "Wrong input: multivectors are not supported by engram: a vector is one list of numbers");
    }
    if (json_array_size(value) != dim)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "Wrong input: Vector dimension error: expected dim: %u, got %zu",
                            dim, json_array_size(value));
    eg_error inner;
    if (eg_floats_from_json(value, "vector", &p->vector, &p->dim, &inner) != EG_OK)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "Format error in JSON body: %s", inner.message);
    return EG_OK;
}

static eg_status unsupported_input(eg_error *err, const char *name) {
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "Wrong input: vector `%.64s` is neither a list of numbers nor a sparse vector "
                        "{\"indices\", \"values\"}; engram has no inference (documents, images, objects)",
                        name);
}

/* The vectors a point's "vector" member gives; require_dense refuses one without the dense vector. */
static eg_status parse_vectors(json_t *value, const eg_qdrant_layout *layout, uint32_t dim, bool require_dense,
                               eg_point *p, bool *has_dense, bool *has_sparse, eg_error *err) {
    *has_dense = *has_sparse = false;
    if (json_is_array(value)) {
        if (layout->dense[0]) return no_such_vector(err, "");
        *has_dense = true;
        return dense_from_json(value, dim, p, err);
    }
    if (!json_is_object(value)) return unsupported_input(err, "vector");
    const char *name;
    json_t *member;
    json_object_foreach(value, name, member) {
        bool is_dense = strcmp(name, layout->dense) == 0;
        bool is_sparse = layout->sparse[0] && strcmp(name, layout->sparse) == 0;
        if (!is_dense && !is_sparse) return no_such_vector(err, name);
        if (is_dense && !json_is_array(member)) return unsupported_input(err, name);
        if (is_sparse && !json_is_object(member)) return unsupported_input(err, name);
    }
    json_t *dense = json_object_get(value, layout->dense);
    json_t *sparse = layout->sparse[0] ? json_object_get(value, layout->sparse) : NULL;
    if (!dense && require_dense)
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "Wrong input: engram needs the dense vector `%s` on every point (a point without it, or "
                            "with only a sparse vector, cannot be stored)",
                            layout->dense);
    if (!dense && !sparse) return eg_error_set(err, EG_INVALID_ARGUMENT, "Wrong input: no vector given");
    eg_status st = dense ? dense_from_json(dense, dim, p, err) : EG_OK;
    *has_dense = dense != NULL;
    if (st == EG_OK && sparse) {
        eg_error inner;
        if (eg_sparse_from_json(sparse, layout->sparse, &p->sparse, &inner) != EG_OK)
            st = eg_error_set(err, EG_INVALID_ARGUMENT, "Wrong input: %s", inner.message);
        *has_sparse = true;
    }
    return st;
}

eg_status eg_qdrant_vector_from_json(json_t *value, const eg_qdrant_layout *layout, uint32_t dim, eg_point *p,
                                     eg_error *err) {
    bool has_dense, has_sparse;
    return parse_vectors(value, layout, dim, true, p, &has_dense, &has_sparse, err);
}

eg_status eg_qdrant_vector_update_from_json(json_t *value, const eg_qdrant_layout *layout, uint32_t dim, eg_point *p,
                                            bool *has_dense, bool *has_sparse, eg_error *err) {
    return parse_vectors(value, layout, dim, false, p, has_dense, has_sparse, err);
}
