/* qdrant_upsert.c — the Qdrant backend's upsert: points go in chunks of batch_size, at most max_concurrency
 * chunks in flight (one thread each), every chunk with wait=true. The embedded upsert is all or nothing; here a
 * failed chunk makes the call undo what it wrote: the points among its ids are read before anything is written,
 * and after a failure every chunk that was sent is taken back — ids that did not exist are deleted, points that
 * did are written again as they were (vectors and payloads). Points that existed before the call are never
 * deleted. docs/backends.md says what this guarantees under concurrent writers and what it does not. */
#include "vector/qdrant/qdrant_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct upsert_run {
    qdrant_vectors *q;
    const char *collection;
    const qdrant_layout *layout;
    const eg_point *points;
    size_t count, chunks;
    pthread_mutex_t lock;
    size_t next_chunk;  /* the next chunk to send */
    bool failed;        /* no chunk is started after a failure */
    eg_status status;   /* the first failure */
    eg_error error;
} upsert_run;

/* PUT /points?wait=true with points[from, from + n). */
static eg_status send_points(qdrant_vectors *q, const char *collection, const qdrant_layout *layout,
                             const eg_point *points, size_t n, eg_error *err) {
    json_t *list = json_array();
    eg_status st = list ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < n && st == EG_OK; i++) {
        json_t *point;
        if ((st = qdrant_point_json(layout, &points[i], &point, err))) break;
        if (json_array_append_new(list, point) != 0) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    json_t *body = st == EG_OK ? json_pack("{s:O}", "points", list) : NULL;
    if (st == EG_OK && !body) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st == EG_OK) st = qdrant_call(q, "PUT", collection, "/points?wait=true", body, NULL, err);
    json_decref(body);
    json_decref(list);
    return st;
}

static void *send_chunks(void *arg) {
    upsert_run *run = arg;
    size_t batch = run->q->batch_size;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        size_t chunk = run->failed ? run->chunks : run->next_chunk;
        if (chunk < run->chunks) run->next_chunk++;
        pthread_mutex_unlock(&run->lock);
        if (chunk >= run->chunks) return NULL;
        size_t from = chunk * batch, n = run->count - from < batch ? run->count - from : batch;
        eg_error err;
        eg_status st = send_points(run->q, run->collection, run->layout, run->points + from, n, &err);
        if (st == EG_OK) continue;
        pthread_mutex_lock(&run->lock);
        if (!run->failed) {
            run->failed = true;
            run->status = st;
            run->error = err;
        }
        pthread_mutex_unlock(&run->lock);
    }
}

/* Sends every chunk; on a failure, *sent gets how many points went out in chunks that were started (a started
 * chunk may have been applied even when its answer was an error or never came). */
static eg_status send_all(upsert_run *run, size_t *sent, eg_error *err) {
    size_t workers = run->chunks < run->q->max_concurrency ? run->chunks : run->q->max_concurrency;
    pthread_t *threads = calloc(workers, sizeof *threads);
    size_t started = 0;
    if (workers > 1 && threads)
        for (; started < workers; started++)
            if (pthread_create(&threads[started], NULL, send_chunks, run) != 0) break;
    if (started == 0) send_chunks(run); /* one chunk, or no thread could start: this thread sends them */
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    free(threads);
    size_t end = run->next_chunk * run->q->batch_size;
    *sent = end < run->count ? end : run->count;
    if (!run->failed) return EG_OK;
    *err = run->error;
    return run->status;
}

/* Takes back the first `sent` points: deletes the ids that did not exist before, rewrites the points that did. */
static eg_status undo(upsert_run *run, const eg_point_list *before, size_t sent, eg_error *err) {
    eg_point_id *created = malloc((sent ? sent : 1) * sizeof *created);
    if (!created) return eg_error_set(err, EG_INTERNAL, "out of memory");
    size_t n_created = 0;
    for (size_t i = 0; i < sent; i++)
        if (qdrant_find(before, &run->points[i].id) == before->count) created[n_created++] = run->points[i].id;
    eg_status st = EG_OK;
    if (n_created > 0) {
        json_t *ids, *body;
        if ((st = qdrant_ids_json(created, n_created, &ids, err)) == EG_OK) {
            body = json_pack("{s:o}", "points", ids);
            st = body ? qdrant_call(run->q, "POST", run->collection, "/points/delete?wait=true", body, NULL, err)
                      : eg_error_set(err, EG_INTERNAL, "out of memory");
            json_decref(body);
        }
    }
    free(created);
    size_t batch = run->q->batch_size;
    for (size_t from = 0; from < before->count && st == EG_OK; from += batch)
        st = send_points(run->q, run->collection, run->layout, before->items + from,
                         before->count - from < batch ? before->count - from : batch, err);
    return st;
}

eg_status qdrant_upsert(eg_vectors *v, const char *collection, const eg_point *points, size_t count, eg_error *err) {
    qdrant_vectors *q = qdrant_of(v);
    qdrant_layout layout;
    eg_status st = qdrant_layout_get(q, collection, &layout, err);
    if (st || count == 0) return st;
    /* One point is written whole or not at all by the server itself: nothing to take back. */
    if (count == 1) return send_points(q, collection, &layout, points, 1, err);
    eg_point_id *ids = malloc(count * sizeof *ids);
    if (!ids) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count; i++) ids[i] = points[i].id;
    eg_point_list before;
    st = qdrant_retrieve(q, collection, &layout, ids, count, true, true, &before, err);
    free(ids);
    if (st) return st;
    upsert_run run = {.q = q, .collection = collection, .layout = &layout, .points = points, .count = count,
                      .chunks = (count + q->batch_size - 1) / q->batch_size};
    pthread_mutex_init(&run.lock, NULL);
    size_t sent = 0;
    st = send_all(&run, &sent, err);
    pthread_mutex_destroy(&run.lock);
    if (st != EG_OK) {
        eg_error undo_error;
        if (undo(&run, &before, sent, &undo_error) != EG_OK)
            eg_error_prefix(err, st, "upsert failed and undoing it failed too (%.200s): ", undo_error.message);
    }
    eg_point_list_free(&before);
    return st;
}
