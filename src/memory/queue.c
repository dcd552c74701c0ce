/* queue.c — the durable write queue of degraded mode (see queue.h): per store a FIFO list of entries mirrored by
 * log records, folding of a burst of writes to one memory into one entry, the drainer thread, and the rebuild
 * from the log at open. */
#include "memory/queue.h"

#include "util/clock.h"
#include "util/json_text.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_BACKOFF_MS 10
#define LONGEST_BACKOFF_MS 1000

typedef struct entry {
    uint64_t seq, last_seq; /* the queued writes it stands for (several once folded) */
    uint64_t lsn;           /* its first record's: the log keeps everything from there */
    eg_memory_type type;
    char id[EG_ID_MAX + 1];
    eg_queued_kind kind;
    json_t *data;
    int64_t queued_ms;
    struct entry *next;
} entry;

typedef struct store_queue {
    entry *head, *tail;
    size_t depth;
    bool head_busy; /* the drainer is applying the head: nothing may fold into it */
    bool stalled;
    char stall_error[512];
    uint64_t queued, applied, collapsed;
    uint64_t retry_at_ns, backoff_ms;
} store_queue;

struct eg_write_queue {
    eg_wal *wal;
    size_t max;
    eg_queue_apply apply;
    eg_queue_changed changed;
    void *ctx;
    pthread_mutex_t mutex;
    pthread_cond_t work;    /* the drainer waits here */
    pthread_cond_t drained; /* an entry left, or a queue stalled */
    store_queue stores[EG_STORE_COUNT];
    uint64_t next_seq;
    pthread_t thread;
    bool running, stopping;
};

static const char *const store_names[EG_STORE_COUNT] = {"graph", "vectors"};
static const char *const kind_names[] = {"put", "patch", "delete"};

const char *eg_store_name(int store) { return store >= 0 && store < EG_STORE_COUNT ? store_names[store] : "?"; }

/* ---- Folding ------------------------------------------------------------------------------------------------ */

/* Folds a later write (kind, data) into an earlier state of the same memory: the result is what applying both
 * in order leaves. Graph patches merge properties (null removes) and add relationships; vector patches merge the
 * payload, or replace it ("overwrite"). False when it cannot be expressed as one entry (a patch after a delete). */
static bool fold(int store, eg_queued_kind *kind, json_t **state, eg_queued_kind later, json_t *data) {
    if (later != EG_QUEUED_PATCH) {
        json_decref(*state);
        *state = data ? json_deep_copy(data) : NULL;
        *kind = later;
        return true;
    }
    if (*kind == EG_QUEUED_DELETE || !*state) return false;
    const char *key = store == EG_STORE_GRAPH ? "properties" : "payload";
    json_t *target = json_object_get(*state, key), *source = json_object_get(data, key);
    if (json_is_object(source)) {
        if (json_is_true(json_object_get(data, "overwrite")) || !json_is_object(target)) {
            json_object_set_new(*state, key, json_deep_copy(source));
            if (*kind == EG_QUEUED_PATCH && json_is_true(json_object_get(data, "overwrite")))
                json_object_set_new(*state, "overwrite", json_true());
        } else {
            json_object_update(target, source);
        }
    }
    if (*kind == EG_QUEUED_PUT && store == EG_STORE_GRAPH) { /* in a whole state, null means absent */
        json_t *properties = json_object_get(*state, key);
        const char *name;
        json_t *value;
        void *tmp;
        json_object_foreach_safe(properties, tmp, name, value) {
            if (json_is_null(value)) json_object_del(properties, name);
        }
    }
    json_t *more = json_object_get(data, "relationships");
    if (store == EG_STORE_GRAPH && json_array_size(more)) {
        json_t *rels = json_object_get(*state, "relationships");
        if (!json_is_array(rels)) json_object_set_new(*state, "relationships", rels = json_array());
        json_array_extend(rels, more);
    }
    return true;
}

/* ---- Entries ------------------------------------------------------------------------------------------------ */

static void free_entry(entry *e) {
    json_decref(e->data);
    free(e);
}

/* Adds a write to its store's list, mutex held: folded into the newest entry when that one is the same memory's
 * and not being applied, else appended. */
static eg_status add(eg_write_queue *q, int store, uint64_t seq, uint64_t lsn, eg_memory_type type, const char *id,
                     eg_queued_kind kind, json_t *data, int64_t queued_ms, eg_error *err) {
    store_queue *s = &q->stores[store];
    entry *tail = s->tail;
    if (tail && strcmp(tail->id, id) == 0 && tail->type == type && !(tail == s->head && s->head_busy) &&
        fold(store, &tail->kind, &tail->data, kind, data)) {
        tail->last_seq = seq;
        s->collapsed++;
        return EG_OK;
    }
    entry *e = calloc(1, sizeof *e);
    if (!e) return eg_error_set(err, EG_INTERNAL, "out of memory queueing a write");
    *e = (entry){seq, seq, lsn, type, "", kind, data ? json_deep_copy(data) : NULL, queued_ms, NULL};
    snprintf(e->id, sizeof e->id, "%s", id);
    if (s->tail) s->tail->next = e;
    else s->head = e;
    s->tail = e;
    s->depth++;
    return EG_OK;
}

static void pop_head(store_queue *s) {
    entry *e = s->head;
    s->head = e->next;
    if (!s->head) s->tail = NULL;
    s->depth--;
    free_entry(e);
}

/* ---- Opening and the log ------------------------------------------------------------------------------------ */

eg_status eg_queue_open(eg_wal *wal, size_t max_per_store, eg_queue_apply apply, eg_queue_changed changed,
                        void *ctx, eg_write_queue **out, eg_error *err) {
    eg_write_queue *q = calloc(1, sizeof *q);
    if (!q) return eg_error_set(err, EG_INTERNAL, "out of memory opening the write queue");
    q->wal = wal;
    q->max = max_per_store;
    q->apply = apply;
    q->changed = changed;
    q->ctx = ctx;
    q->next_seq = 1;
    pthread_mutex_init(&q->mutex, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->work, &attr);
    pthread_cond_init(&q->drained, &attr);
    pthread_condattr_destroy(&attr);
    *out = q;
    return EG_OK;
}

static int store_by_name(const char *name) {
    for (int i = 0; name && i < EG_STORE_COUNT; i++)
        if (strcmp(name, store_names[i]) == 0) return i;
    return -1;
}

static eg_status corrupt(const eg_wal_record *r, eg_error *err) {
    return eg_error_set(err, EG_CORRUPT, "write queue record at LSN %llu does not parse",
                        (unsigned long long)r->lsn);
}

static eg_status replay(void *ctx, const eg_wal_record *r, eg_error *err) {
    eg_write_queue *q = ctx;
    if (r->type != EG_QUEUE_ADD && r->type != EG_QUEUE_DONE) return EG_OK;
    json_t *doc = json_loadb(r->payload, r->length, JSON_REJECT_DUPLICATES, NULL);
    int store = store_by_name(json_string_value(json_object_get(doc, "store")));
    eg_status st = store < 0 ? corrupt(r, err) : EG_OK;
    if (st == EG_OK && r->type == EG_QUEUE_DONE) {
        json_t *through = json_object_get(doc, "through");
        if (!json_is_integer(through)) st = corrupt(r, err);
        store_queue *s = &q->stores[store];
        while (st == EG_OK && s->head && s->head->last_seq <= (uint64_t)json_integer_value(through)) pop_head(s);
    } else if (st == EG_OK) {
        json_t *seq = json_object_get(doc, "seq"), *at = json_object_get(doc, "at_ms");
        const char *id = json_string_value(json_object_get(doc, "id"));
        const char *kind_name = json_string_value(json_object_get(doc, "kind"));
        eg_memory_type type;
        int kind = -1;
        for (int k = 0; kind_name && k < 3; k++)
            if (strcmp(kind_name, kind_names[k]) == 0) kind = k;
        eg_error ignored;
        if (!json_is_integer(seq) || !id || kind < 0 || !json_is_integer(at) ||
            eg_memory_type_parse(json_string_value(json_object_get(doc, "type")), &type, &ignored) != EG_OK)
            st = corrupt(r, err);
        if (st == EG_OK) {
            uint64_t n = (uint64_t)json_integer_value(seq);
            st = add(q, store, n, r->lsn, type, id, (eg_queued_kind)kind, json_object_get(doc, "data"),
                     json_integer_value(at), err);
            if (n >= q->next_seq) q->next_seq = n + 1;
        }
    }
    json_decref(doc);
    return st;
}

eg_status eg_queue_rebuild(eg_write_queue *q, eg_error *err) {
    eg_status st = eg_wal_read(q->wal, eg_wal_checkpoint_lsn(q->wal), replay, q, err);
    for (int s = 0; s < EG_STORE_COUNT; s++) q->stores[s].queued = q->stores[s].depth;
    return st;
}

eg_status eg_queue_push(eg_write_queue *q, int store, eg_memory_type type, const char *id, eg_queued_kind kind,
                        json_t *data, bool bounded, eg_error *err) {
    pthread_mutex_lock(&q->mutex);
    store_queue *s = &q->stores[store];
    bool folds = s->tail && strcmp(s->tail->id, id) == 0 && !(s->tail == s->head && s->head_busy);
    eg_status st = EG_OK;
    if (bounded && !folds && s->depth >= q->max)
        st = eg_error_set(err, EG_UNAVAILABLE,
                          "the %s store is unavailable and its write queue is full (%zu writes pending, "
                          "degrade.queue_max): the write was not accepted",
                          store_names[store], s->depth);
    uint64_t seq = q->next_seq, lsn = 0;
    int64_t now = eg_now_ms();
    if (st == EG_OK) {
        json_t *record = json_pack("{s:I, s:s, s:s, s:s, s:s, s:O?, s:I}", "seq", (json_int_t)seq, "store",
                                   store_names[store], "type", eg_memory_type_name(type), "id", id, "kind",
                                   kind_names[kind], "data", data, "at_ms", (json_int_t)now);
        char *text = record ? eg_json_text(record, JSON_COMPACT) : NULL;
        json_decref(record);
        st = text ? eg_wal_append_deferred(q->wal, EG_QUEUE_ADD, text, strlen(text), &lsn, err)
                  : eg_error_set(err, EG_INTERNAL, "out of memory queueing a write");
        free(text);
    }
    if (st == EG_OK) st = add(q, store, seq, lsn, type, id, kind, data, now, err);
    if (st == EG_OK) {
        q->next_seq++;
        s->queued++;
        pthread_cond_signal(&q->work);
    }
    pthread_mutex_unlock(&q->mutex);
    if (st == EG_OK && q->changed) q->changed(q->ctx, store);
    return st;
}

/* ---- Reading the queue -------------------------------------------------------------------------------------- */

bool eg_queue_pending(eg_write_queue *q, int store) {
    pthread_mutex_lock(&q->mutex);
    bool pending = q->stores[store].depth > 0;
    pthread_mutex_unlock(&q->mutex);
    return pending;
}

void eg_queue_lookup(eg_write_queue *q, int store, const char *id, eg_queued_state *out) {
    *out = (eg_queued_state){0};
    pthread_mutex_lock(&q->mutex);
    for (entry *e = q->stores[store].head; e; e = e->next) {
        if (strcmp(e->id, id) != 0) continue;
        if (!out->pending) {
            out->pending = true;
            out->kind = e->kind;
            out->data = e->data ? json_deep_copy(e->data) : NULL;
        } else {
            fold(store, &out->kind, &out->data, e->kind, e->data);
        }
    }
    pthread_mutex_unlock(&q->mutex);
}

json_t *eg_queue_ids(eg_write_queue *q, int store) {
    json_t *ids = json_object();
    pthread_mutex_lock(&q->mutex);
    for (entry *e = q->stores[store].head; ids && e; e = e->next) json_object_set_new(ids, e->id, json_true());
    pthread_mutex_unlock(&q->mutex);
    return ids;
}

uint64_t eg_queue_oldest_lsn(eg_write_queue *q) {
    uint64_t oldest = UINT64_MAX;
    pthread_mutex_lock(&q->mutex);
    for (int s = 0; s < EG_STORE_COUNT; s++)
        if (q->stores[s].head && q->stores[s].head->lsn < oldest) oldest = q->stores[s].head->lsn;
    pthread_mutex_unlock(&q->mutex);
    return oldest;
}

void eg_queue_stats_get(eg_write_queue *q, int store, eg_queue_stats *out) {
    pthread_mutex_lock(&q->mutex);
    store_queue *s = &q->stores[store];
    *out = (eg_queue_stats){s->depth, s->head ? s->head->queued_ms : 0, s->queued, s->applied, s->collapsed,
                            s->stalled, ""};
    memcpy(out->stall_error, s->stall_error, sizeof out->stall_error);
    pthread_mutex_unlock(&q->mutex);
}

static struct timespec deadline_in(uint64_t ms) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t ns = (uint64_t)t.tv_nsec + (ms % 1000u) * 1000000u;
    t.tv_sec += (time_t)(ms / 1000u + ns / 1000000000u);
    t.tv_nsec = (long)(ns % 1000000000u);
    return t;
}

bool eg_queue_wait_empty(eg_write_queue *q, int store, uint64_t timeout_ms) {
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&q->mutex);
    store_queue *s = &q->stores[store];
    while (s->depth > 0 && !s->stalled)
        if (pthread_cond_timedwait(&q->drained, &q->mutex, &until) == ETIMEDOUT) break;
    bool empty = s->depth == 0;
    pthread_mutex_unlock(&q->mutex);
    return empty;
}

/* ---- The drainer -------------------------------------------------------------------------------------------- */

/* The store whose head may be applied now, or -1; *wait_ns tells how long until one may be (0: none waiting). */
static int next_store(eg_write_queue *q, uint64_t *wait_ns) {
    uint64_t now = eg_monotonic_ns();
    *wait_ns = 0;
    for (int i = 0; i < EG_STORE_COUNT; i++) {
        store_queue *s = &q->stores[i];
        if (!s->head || s->stalled || s->head_busy) continue;
        if (s->retry_at_ns <= now) return i;
        uint64_t left = s->retry_at_ns - now;
        if (!*wait_ns || left < *wait_ns) *wait_ns = left;
    }
    return -1;
}

/* Records that the head was applied: synced, so that no later write to the store can bypass the queue before the
 * log knows the entry is done (a lost DONE would re-apply it over that write after a crash). */
static eg_status log_done(eg_write_queue *q, int store, uint64_t through, eg_error *err) {
    char text[96];
    int n = snprintf(text, sizeof text, "{\"store\":\"%s\",\"through\":%llu}", store_names[store],
                     (unsigned long long)through);
    return eg_wal_append(q->wal, EG_QUEUE_DONE, text, (size_t)n, NULL, err);
}

static void *drain(void *arg) {
    eg_write_queue *q = arg;
    pthread_mutex_lock(&q->mutex);
    while (!q->stopping) {
        uint64_t wait_ns;
        int store = next_store(q, &wait_ns);
        if (store < 0) {
            if (wait_ns) {
                struct timespec until = deadline_in(wait_ns / 1000000u + 1);
                pthread_cond_timedwait(&q->work, &q->mutex, &until);
            } else {
                pthread_cond_wait(&q->work, &q->mutex);
            }
            continue;
        }
        store_queue *s = &q->stores[store];
        entry *head = s->head;
        s->head_busy = true;
        json_t *data = json_incref(head->data);
        eg_memory_type type = head->type;
        char id[EG_ID_MAX + 1];
        memcpy(id, head->id, sizeof id);
        eg_queued_kind kind = head->kind;
        uint64_t first = head->seq, through = head->last_seq;
        pthread_mutex_unlock(&q->mutex);

        eg_error why;
        eg_status st = q->apply(q->ctx, store, type, id, kind, data, &why);
        json_decref(data);
        bool log_failed = false;
        if (st == EG_OK && (st = log_done(q, store, through, &why)) != EG_OK) log_failed = true;
        if (st == EG_OK && q->changed) q->changed(q->ctx, store);

        pthread_mutex_lock(&q->mutex);
        s->head_busy = false;
        if (st == EG_OK) {
            pop_head(s);
            s->applied += through - first + 1;
            s->backoff_ms = 0;
            s->retry_at_ns = 0;
        } else if (eg_status_is_store_failure(st) && !log_failed) { /* the store is still down: try again later */
            s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : FIRST_BACKOFF_MS;
            if (s->backoff_ms > LONGEST_BACKOFF_MS) s->backoff_ms = LONGEST_BACKOFF_MS;
            s->retry_at_ns = eg_monotonic_ns() + s->backoff_ms * 1000000u;
        } else {
            s->stalled = true;
            snprintf(s->stall_error, sizeof s->stall_error, "%s write of memory %s: %s: %.300s", kind_names[kind], id,
                     eg_status_name(st), why.message);
        }
        pthread_cond_broadcast(&q->drained);
    }
    pthread_mutex_unlock(&q->mutex);
    return NULL;
}

eg_status eg_queue_start(eg_write_queue *q, eg_error *err) {
    q->stopping = false;
    if (pthread_create(&q->thread, NULL, drain, q) != 0)
        return eg_error_set(err, EG_INTERNAL, "cannot start the write queue's drainer thread");
    q->running = true;
    return EG_OK;
}

void eg_queue_stop(eg_write_queue *q) {
    if (!q || !q->running) return;
    pthread_mutex_lock(&q->mutex);
    q->stopping = true;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mutex);
    pthread_join(q->thread, NULL);
    q->running = false;
}

void eg_queue_close(eg_write_queue *q) {
    if (!q) return;
    eg_queue_stop(q);
    for (int s = 0; s < EG_STORE_COUNT; s++)
        while (q->stores[s].head) pop_head(&q->stores[s]);
    pthread_mutex_destroy(&q->mutex);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->drained);
    free(q);
}
