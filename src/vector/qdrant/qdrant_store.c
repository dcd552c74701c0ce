/* qdrant_store.c — the Qdrant backend as an eg_vectors: opening it (eg_vectors_open_qdrant), its operation table,
 * and the one way every operation names a collection on the server (the prefix applied) and reads its errors. */
#include "vector/qdrant/qdrant_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

eg_status qdrant_path(qdrant_vectors *q, const char *collection, const char *suffix, char *out, size_t cap,
                      eg_error *err) {
    char full[2 * EG_COLLECTION_NAME_MAX + 2], escaped[3 * sizeof full];
    snprintf(full, sizeof full, "%s%s", q->prefix, collection);
    eg_status st = qdrant_http_escape(full, escaped, sizeof escaped, err);
    if (st) return st;
    int n = snprintf(out, cap, "/collections/%s%s", escaped, suffix);
    if (n < 0 || (size_t)n >= cap) return eg_error_set(err, EG_INVALID_ARGUMENT, "the request path is too long");
    return EG_OK;
}

eg_status qdrant_call(qdrant_vectors *q, const char *method, const char *collection, const char *suffix, json_t *body,
                      json_t **result, eg_error *err) {
    char path[4096];
    eg_status st = qdrant_path(q, collection, suffix, path, sizeof path, err);
    if (st == EG_OK) st = qdrant_http_call(q->http, method, path, body, result, NULL, err);
    if (st == EG_OK) return EG_OK;
    qdrant_layout_forget(q, collection);
    /* Qdrant's "Collection `ww_x` doesn't exist!" names the prefixed collection; say it as the embedded backend
     * does, with engram's name. */
    if (st == EG_NOT_FOUND && err && strstr(err->message, "Collection `"))
        eg_error_set(err, EG_NOT_FOUND, "collection '%.255s' does not exist", collection);
    return st;
}

static void qdrant_close(eg_vectors *v) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_http_free(q->http);
    pthread_mutex_destroy(&q->layouts_lock);
    free(q);
}

static const eg_vectors_ops qdrant_ops = {
    qdrant_create_collection, qdrant_get_collection, qdrant_list_collections, qdrant_delete_collection,
    qdrant_create_payload_index, qdrant_delete_payload_index, qdrant_upsert, qdrant_get, qdrant_set_payload,
    qdrant_delete_payload_keys, qdrant_update_vectors, qdrant_delete_points, qdrant_count, qdrant_scroll,
    qdrant_search, qdrant_search_hybrid, qdrant_search_sparse, qdrant_close,
};

static unsigned or_default(unsigned value, unsigned fallback) { return value ? value : fallback; }

eg_status eg_vectors_open_qdrant(const eg_vectors_qdrant_options *options, eg_vectors **out, eg_error *err) {
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_vectors_open_qdrant: out is NULL");
    eg_vectors_qdrant_options o = options ? *options : (eg_vectors_qdrant_options){0};
    const char *prefix = o.collection_prefix ? o.collection_prefix : "";
    if (strlen(prefix) > EG_COLLECTION_NAME_MAX || strchr(prefix, '/'))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "vectors.collection_prefix must be at most %d bytes without '/'", EG_COLLECTION_NAME_MAX);
    if (o.batch_size > EG_VECTOR_BATCH_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "vectors.batch_size must be from 1 to %d, got %u",
                            EG_VECTOR_BATCH_MAX, o.batch_size);
    qdrant_vectors *q = calloc(1, sizeof *q);
    if (!q) return eg_error_set(err, EG_INTERNAL, "out of memory");
    q->base = (eg_vectors){&qdrant_ops, "vectors"};
    snprintf(q->prefix, sizeof q->prefix, "%s", prefix);
    q->batch_size = or_default(o.batch_size, EG_QDRANT_BATCH_SIZE_DEFAULT);
    q->max_concurrency = or_default(o.max_concurrency, EG_QDRANT_MAX_CONCURRENCY_DEFAULT);
    q->shard_number = or_default(o.shard_number, 1);
    q->replication_factor = or_default(o.replication_factor, 1);
    q->write_consistency_factor = or_default(o.write_consistency_factor, 1);
    pthread_mutex_init(&q->layouts_lock, NULL);
    const char *key = o.api_key && *o.api_key ? o.api_key : getenv("ENGRAM_QDRANT_API_KEY");
    qdrant_http_config http = {o.url && *o.url ? o.url : EG_QDRANT_URL_DEFAULT, key, o.ca_file,
                               or_default(o.timeout_ms, EG_QDRANT_TIMEOUT_MS_DEFAULT), q->max_concurrency};
    eg_status st = qdrant_http_new(&http, &q->http, err);
    if (st) {
        pthread_mutex_destroy(&q->layouts_lock);
        free(q);
        return st;
    }
    *out = &q->base;
    return EG_OK;
}
