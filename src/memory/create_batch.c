/* create_batch.c — many memories created in one call (eg_memory_batch_create, see engram/memory.h): every item is
 * checked as eg_memory_create checks one, all of them before anything is written, under the write locks of all
 * their ids; then the new ones are written by one create_memories saga (sagas.c), whose intent and commit are
 * the batch's only waits for the disk. An error names the item by its index and id. */
#include "archive/archive_store.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct batch {
    const eg_memory_spec *specs;
    size_t count;
    eg_point_id *pids;
    char (*ids)[EG_POINT_ID_TEXT]; /* canonical */
    const char **sorted;           /* pointers to ids[], by id (then by index) */
    eg_create_plan *plans;
} batch;

static eg_status item_error(eg_error *err, eg_status st, const batch *b, size_t i) {
    if (!b->ids[i][0]) return eg_error_prefix(err, st, "memory %zu: ", i); /* its id did not parse */
    return eg_error_prefix(err, st, "memory %zu (id %s): ", i, b->ids[i]);
}

static size_t index_of(const batch *b, const char *id) {
    return (size_t)((const char(*)[EG_POINT_ID_TEXT])id - b->ids);
}

static int compare_ids(const void *x, const void *y) {
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    int c = strcmp(a, b);
    return c ? c : (a > b) - (a < b);
}

/* Is id one of the batch's (canonical) ids? */
static bool in_batch(const batch *b, const char *id) {
    size_t lo = 0, hi = b->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->sorted[mid], id);
        if (c == 0) return true;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

static void batch_free(batch *b) {
    for (size_t i = 0; b->plans && i < b->count; i++) eg_create_plan_clear(&b->plans[i]);
    free(b->pids);
    free(b->ids);
    free(b->sorted);
    free(b->plans);
}

/* What needs no store: each spec, its id, no dead letter on it, no id twice, one dimension per type. */
static eg_status check_items(eg_db *db, batch *b, eg_error *err) {
    size_t n = b->count, first_of_type[EG_MEMORY_TYPE_COUNT];
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) first_of_type[t] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const eg_memory_spec *s = &b->specs[i];
        eg_status st = eg_memory_id(s->id, &b->pids[i], b->ids[i], err);
        if (st == EG_OK) st = eg_memory_check_spec(s, err);
        if (st == EG_OK) st = eg_memory_check_frozen(db, b->ids[i], err);
        if (st != EG_OK) return item_error(err, st, b, i);
        size_t *first = &first_of_type[s->type];
        if (*first == SIZE_MAX) *first = i;
        else if (b->specs[*first].dim != s->dim)
            return item_error(err,
                              eg_error_set(err, EG_INVALID_ARGUMENT,
                                           "vector has %zu dimensions; memory %zu, also of type %s, has %zu", s->dim,
                                           *first, eg_memory_type_name(s->type), b->specs[*first].dim),
                              b, i);
        b->sorted[i] = b->ids[i];
    }
    qsort(b->sorted, n, sizeof *b->sorted, compare_ids);
    for (size_t k = 1; k < n; k++)
        if (strcmp(b->sorted[k - 1], b->sorted[k]) == 0)
            return item_error(err,
                              eg_error_set(err, EG_INVALID_ARGUMENT, "the same id as memory %zu",
                                           index_of(b, b->sorted[k - 1])),
                              b, index_of(b, b->sorted[k]));
    return EG_OK;
}

typedef struct target {
    const char *id;
    size_t item;
} target;

static int compare_targets(const void *x, const void *y) {
    const target *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a->item > b->item) - (a->item < b->item);
}

/* The relationship targets of the new items that the batch does not create must exist. */
static eg_status check_targets(eg_db *db, const batch *b, eg_error *err) {
    size_t n = 0, unique = 0, missing = 0;
    for (size_t i = 0; i < b->count; i++)
        if (b->plans[i].is_new) n += b->specs[i].relationship_count;
    if (n == 0) return EG_OK;
    target *t = malloc(n * sizeof *t);
    const char **ids = malloc(n * sizeof *ids);
    eg_status st = t && ids ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    n = 0;
    for (size_t i = 0; i < b->count && st == EG_OK; i++)
        for (size_t r = 0; b->plans[i].is_new && r < b->specs[i].relationship_count; r++) {
            const char *id = b->specs[i].relationships[r].target_id;
            if (!in_batch(b, id)) t[n++] = (target){id, i};
        }
    if (st == EG_OK && n) {
        qsort(t, n, sizeof *t, compare_targets); /* each target's first item leads its run */
        for (size_t k = 0; k < n; k++)
            if (k == 0 || strcmp(t[k - 1].id, t[k].id) != 0) t[unique++] = t[k];
        for (size_t k = 0; k < unique; k++) ids[k] = t[k].id;
        st = eg_memory_check_targets(db, ids, unique, &missing, err);
        if (st == EG_NOT_FOUND) st = item_error(err, st, b, t[missing].item);
    }
    free(t);
    free(ids);
    return st;
}

/* Each type's collection, made for the new items where missing — after every existing one has been checked
 * against their dimension, so that a refused batch creates no collection. A store that did not answer is left to
 * the queue, which makes the collection on replay. */
static eg_status check_collections(eg_db *db, const batch *b, eg_error *err) {
    size_t first[EG_MEMORY_TYPE_COUNT];
    bool known[EG_MEMORY_TYPE_COUNT];
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) first[t] = SIZE_MAX, known[t] = true;
    for (size_t i = 0; i < b->count; i++) {
        if (!b->plans[i].is_new) continue;
        eg_memory_type t = b->specs[i].type;
        if (first[t] == SIZE_MAX) first[t] = i;
        known[t] = known[t] && b->plans[i].point_known;
    }
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) {
        if (first[t] == SIZE_MAX || !known[t]) continue;
        eg_collection_info info;
        eg_status st = eg_vectors_get_collection(db->vectors, eg_memory_collection((eg_memory_type)t), &info, err);
        if (st == EG_NOT_FOUND) {
            eg_error_clear(err);
            continue;
        }
        if (st != EG_OK) return st;
        size_t dim = b->specs[first[t]].dim;
        if (info.config.dim != dim)
            st = item_error(err,
                            eg_error_set(err, EG_INVALID_ARGUMENT,
                                         "vector has %zu dimensions; the %s collection holds vectors of %u", dim,
                                         eg_memory_collection((eg_memory_type)t), info.config.dim),
                            b, first[t]);
        eg_collection_info_clear(&info);
        if (st != EG_OK) return st;
    }
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT; t++) {
        if (first[t] == SIZE_MAX || !known[t]) continue;
        eg_status st = eg_memory_ensure_collection(db, db->vectors, (eg_memory_type)t, b->specs[first[t]].dim, NULL, err);
        if (st != EG_OK) return item_error(err, st, b, first[t]);
    }
    return EG_OK;
}

/* The saga's live input and logged arguments for the new items, then the saga itself. */
static eg_status write_new(eg_db *db, const batch *b, eg_error *err) {
    size_t n = 0, rel_count = 0, per_type[EG_MEMORY_TYPE_COUNT] = {0};
    for (size_t i = 0; i < b->count; i++)
        if (b->plans[i].is_new) {
            n++;
            rel_count += b->specs[i].relationship_count;
            per_type[b->specs[i].type]++;
        }
    if (n == 0) return EG_OK; /* every item a repeat */
    eg_batch_item *items = calloc(n, sizeof *items);
    eg_node_spec *nodes = calloc(n, sizeof *nodes);
    eg_point *points = calloc(n, sizeof *points);
    eg_relationship_spec *rels = calloc(rel_count ? rel_count : 1, sizeof *rels);
    json_t *args = json_pack("{s:[]}", "memories"), *logged = json_object_get(args, "memories");
    eg_status st = items && nodes && points && rels && args ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_create_batch_input input = {.items = items, .count = n, .nodes = nodes, .relationships = rels,
                                   .relationship_count = rel_count};
    size_t at[EG_MEMORY_TYPE_COUNT], next = 0, r = 0;
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT && st == EG_OK; t++) { /* each type's points side by side */
        at[t] = next;
        input.points[t] = points + next;
        input.point_counts[t] = per_type[t];
        next += per_type[t];
    }
    for (size_t i = 0, k = 0; i < b->count && st == EG_OK; i++) {
        const eg_memory_spec *s = &b->specs[i];
        const eg_create_plan *p = &b->plans[i];
        if (!p->is_new) continue;
        eg_point *point = &points[at[s->type]++];
        *point = (eg_point){.id = b->pids[i], .vector = (float *)s->vector, .dim = s->dim, .payload = p->payload};
        for (size_t j = 0; j < s->relationship_count; j++) {
            const eg_memory_relationship *mr = &s->relationships[j];
            rels[r + j] = (eg_relationship_spec){b->ids[i], mr->target_id, mr->type, mr->properties};
        }
        items[k] = (eg_batch_item){b->ids[i], s->type,
                                   {eg_memory_collection(s->type), *point, p->properties, rels + r,
                                    s->relationship_count}};
        nodes[k] = (eg_node_spec){eg_memory_label(s->type), b->ids[i], p->properties};
        r += s->relationship_count;
        k++;
        json_t *entry = json_pack("{s:s, s:s}", "id", b->ids[i], "type", eg_memory_type_name(s->type));
        if (json_array_append_new(logged, entry))
            st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    if (st == EG_OK) st = eg_memory_run_saga(db, EG_SAGA_CREATE_MEMORIES, NULL, args, &input, err);
    json_decref(args);
    free(items);
    free(nodes);
    free(points);
    free(rels);
    return st;
}

/* No new item may be archived: one look at the archive's folders for all of them. */
static eg_status check_not_archived(eg_db *db, const batch *b, eg_error *err) {
    if (!db->archive) return EG_OK;
    const char **ids = malloc(b->count * sizeof *ids);
    size_t *item = malloc(b->count * sizeof *item), n = 0, found;
    eg_status st = ids && item ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < b->count && st == EG_OK; i++)
        if (b->plans[i].is_new) {
            item[n] = i;
            ids[n++] = b->ids[i];
        }
    if (st == EG_OK) st = eg_archive_find_any(db->archive, ids, n, &found, err);
    /* The single create's check says what is there (archived, or a damaged entry, both a conflict). */
    if (st == EG_OK && found < n && (st = eg_memory_check_not_archived(db, ids[found], err)))
        st = item_error(err, st, b, item[found]);
    free(ids);
    free(item);
    return st;
}

static eg_status create_locked(eg_db *db, batch *b, eg_error *err) {
    eg_status st = EG_OK;
    bool graph_known = true;
    for (size_t i = 0; i < b->count && st == EG_OK; i++) {
        st = eg_memory_plan_create(db, &b->specs[i], &b->pids[i], b->ids[i], &b->plans[i], err);
        if (st != EG_OK) return item_error(err, st, b, i);
        if (b->plans[i].is_new) graph_known = graph_known && b->plans[i].node_known;
    }
    /* Checked before anything is written; an unavailable graph is left to the queue, as for one create. */
    if ((st = check_not_archived(db, b, err))) return st;
    if (graph_known && (st = check_targets(db, b, err))) return st;
    if ((st = check_collections(db, b, err))) return st;
    return write_new(db, b, err);
}

eg_status eg_memory_batch_create(eg_db *db, const eg_memory_spec *specs, size_t count,
                                 char (*out_ids)[EG_POINT_ID_TEXT], eg_error *err) {
    if (!db) return eg_error_set(err, EG_INVALID_ARGUMENT, "data folder handle is NULL");
    if (count == 0) return EG_OK;
    if (!specs) return eg_error_set(err, EG_INVALID_ARGUMENT, "memory specs are NULL");
    if (count > EG_MEMORY_BATCH_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "%zu memories exceed the maximum of %d per batch", count,
                            EG_MEMORY_BATCH_MAX);
    batch b = {specs, count, calloc(count, sizeof *b.pids), calloc(count, sizeof *b.ids),
               calloc(count, sizeof *b.sorted), calloc(count, sizeof *b.plans)};
    eg_status st = b.pids && b.ids && b.sorted && b.plans ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st == EG_OK) st = check_items(db, &b, err);
    if (st == EG_OK) {
        bool held[EG_MEMORY_STRIPES];
        bool exclusive = eg_memory_lock_many(db, b.sorted, count, held);
        st = create_locked(db, &b, err);
        eg_memory_unlock_many(db, held, exclusive);
    }
    if (st == EG_OK && out_ids) memcpy(out_ids, b.ids, count * sizeof *b.ids);
    batch_free(&b);
    return st;
}
