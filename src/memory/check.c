/* check.c — the consistency check of both stores (see eg_memory_check). It holds the scan lock exclusively, so no
 * saga is half way while it reads. Repair first settles each dead letter by running its saga's compensations
 * again from the logged arguments — idempotent, and the pre-images are in those arguments — which puts the memory
 * back as it was before the saga; then it removes the orphans no letter explains. It reads and repairs past the
 * circuit breakers: it wants the stores' own answer, not a fail-fast one. */
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 10000

typedef struct id_set {
    char (*ids)[EG_ID_MAX + 1]; /* node ids may be longer than point ids */
    size_t count, cap;
} id_set;

static eg_status add_id(id_set *s, const char *id, eg_error *err) {
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        void *grown = realloc(s->ids, cap * sizeof *s->ids);
        if (!grown) return eg_error_set(err, EG_INTERNAL, "out of memory");
        s->ids = grown;
        s->cap = cap;
    }
    snprintf(s->ids[s->count++], sizeof s->ids[0], "%s", id);
    return EG_OK;
}

static int compare_ids(const void *a, const void *b) { return strcmp(a, b); }

static eg_status point_ids(eg_db *db, eg_memory_type type, id_set *out, eg_error *err) {
    eg_point_id offset;
    bool has_next = true, first = true;
    while (has_next) {
        eg_scroll_request request = {.limit = PAGE, .offset = first ? NULL : &offset};
        eg_point_list page;
        eg_status st = eg_vectors_scroll(db->vectors_direct, eg_memory_collection(type), &request, &page, &offset, &has_next,
                                         err);
        if (st == EG_NOT_FOUND && first) {
            eg_error_clear(err);
            return EG_OK; /* no collection: no memory of this type has been written */
        }
        if (st != EG_OK) return st;
        for (size_t i = 0; i < page.count && st == EG_OK; i++) {
            char text[EG_POINT_ID_TEXT];
            eg_point_id_format(&page.items[i].id, text);
            st = add_id(out, text, err);
        }
        eg_point_list_free(&page);
        if (st != EG_OK) return st;
        first = false;
    }
    return EG_OK;
}

static eg_status node_ids(eg_db *db, eg_memory_type type, id_set *out, eg_error *err) {
    char after[EG_ID_MAX + 1] = "";
    for (;;) {
        eg_node_list page;
        eg_status st = eg_graph_list_nodes(db->graph_direct, eg_memory_label(type), after[0] ? after : NULL, PAGE, &page, err);
        if (st != EG_OK) return st;
        for (size_t i = 0; i < page.count && st == EG_OK; i++) st = add_id(out, page.items[i].id, err);
        size_t n = page.count;
        if (n) snprintf(after, sizeof after, "%s", page.items[n - 1].id);
        eg_node_list_free(&page);
        if (st != EG_OK) return st;
        if (n < PAGE) return EG_OK;
    }
}

static const eg_saga_type *memory_saga(const char *name) {
    for (size_t i = 0; name && i < eg_memory_saga_count; i++)
        if (strcmp(eg_memory_sagas[i].name, name) == 0) return &eg_memory_sagas[i];
    return NULL;
}

/* Puts a dead letter's memories back as they were before its saga; on success the letter is resolved. */
static eg_status settle_letter(eg_db *db, json_t *letter, json_t *repaired, json_t *resolved, eg_error *err) {
    const eg_saga_type *type = memory_saga(json_string_value(json_object_get(letter, "type")));
    json_t *args = json_object_get(letter, "args");
    const char *saga = json_string_value(json_object_get(letter, "saga"));
    if (!type || !saga) return EG_OK; /* not a memory saga's: left for its owner */
    for (size_t s = type->step_count; s-- > 0;) {
        eg_error why;
        if (type->steps[s].compensate(db, args, NULL, &why) != EG_OK) return EG_OK; /* stays listed */
    }
    eg_status st = eg_saga_resolve(db->sagas, saga, err);
    if (st != EG_OK) return st;
    bool was_create =
        type == &eg_memory_sagas[EG_SAGA_CREATE_MEMORY] || type == &eg_memory_sagas[EG_SAGA_CREATE_MEMORIES];
    json_t *memories = eg_memory_saga_memories(args);
    size_t i;
    json_t *m;
    json_array_foreach(memories, i, m) {
        eg_memory_thaw(db, json_string_value(json_object_get(m, "id")));
        json_array_append_new(repaired, json_pack("{s:O, s:O, s:s}", "id", json_object_get(m, "id"), "type",
                                                  json_object_get(m, "type"), "action",
                                                  was_create ? "removed" : "restored"));
    }
    json_decref(memories);
    json_array_append_new(resolved, json_string(saga));
    return EG_OK;
}

static eg_status remove_orphan(eg_db *db, eg_memory_type type, const char *id, bool in_vectors, eg_error *err) {
    eg_status st;
    if (in_vectors) {
        eg_point_id pid;
        st = eg_point_id_parse(id, &pid, err);
        if (st == EG_OK) st = eg_vectors_delete(db->vectors_direct, eg_memory_collection(type), &pid, 1, NULL, NULL, err);
    } else {
        st = eg_graph_delete_node(db->graph_direct, id, eg_memory_label(type), err);
    }
    return eg_memory_gone_is_ok(st, err);
}

/* Compares the ids of one type in both stores; with repair, removes each orphan. A memory with writes still
 * queued for a store is pending, not an orphan: the queue will complete it. */
static eg_status check_type(eg_db *db, eg_memory_type type, bool repair, json_t *queued, json_t *orphans,
                            json_t *pending, json_t *repaired, uint64_t *memories, uint64_t *left, eg_error *err) {
    id_set points = {0}, nodes = {0};
    eg_status st = point_ids(db, type, &points, err);
    if (st == EG_OK) st = node_ids(db, type, &nodes, err);
    if (st == EG_OK && points.count) qsort(points.ids, points.count, sizeof points.ids[0], compare_ids);
    if (st == EG_OK && nodes.count) qsort(nodes.ids, nodes.count, sizeof nodes.ids[0], compare_ids);
    size_t p = 0, n = 0;
    while (st == EG_OK && (p < points.count || n < nodes.count)) {
        int c = p == points.count ? 1 : n == nodes.count ? -1 : strcmp(points.ids[p], nodes.ids[n]);
        if (c == 0) {
            (*memories)++;
            p++, n++;
            continue;
        }
        bool in_vectors = c < 0;
        const char *id = in_vectors ? points.ids[p++] : nodes.ids[n++];
        if (json_object_get(queued, id)) {
            json_array_append_new(pending, json_pack("{s:s, s:s, s:s}", "id", id, "type", eg_memory_type_name(type),
                                                     "in", in_vectors ? "vectors" : "graph"));
            continue;
        }
        json_array_append_new(orphans, json_pack("{s:s, s:s, s:s}", "id", id, "type", eg_memory_type_name(type), "in",
                                                 in_vectors ? "vectors" : "graph"));
        eg_error frozen;
        if (!repair || eg_memory_check_frozen(db, id, &frozen) != EG_OK) { /* a letter's memory waits for it */
            (*left)++;
            continue;
        }
        st = remove_orphan(db, type, id, in_vectors, err);
        if (st == EG_OK)
            json_array_append_new(repaired, json_pack("{s:s, s:s, s:s}", "id", id, "type", eg_memory_type_name(type),
                                                      "action", "removed"));
    }
    free(points.ids);
    free(nodes.ids);
    return st;
}

eg_status eg_memory_check(eg_db *db, bool repair, json_t **out, eg_error *err) {
    if (!db || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "check: db or out is NULL");
    json_t *orphans = json_array(), *pending = json_array(), *repaired = json_array(), *resolved = json_array();
    json_t *letters = NULL, *queued = json_object();
    eg_status st = orphans && pending && repaired && resolved && queued ? EG_OK
                                                                        : eg_error_set(err, EG_INTERNAL, "out of memory");
    uint64_t memories = 0, left = 0;
    pthread_rwlock_wrlock(&db->memory.scan_lock);
    if (st == EG_OK && repair) {
        st = eg_saga_dead_letters(db->sagas, &letters, err);
        size_t i;
        json_t *letter;
        json_array_foreach(letters, i, letter) {
            if (st == EG_OK) st = settle_letter(db, letter, repaired, resolved, err);
        }
        json_decref(letters);
        letters = NULL;
    }
    for (int store = 0; store < EG_STORE_COUNT && st == EG_OK; store++) {
        json_t *ids = eg_queue_ids(db->queue, store);
        if (!ids || json_object_update(queued, ids)) st = eg_error_set(err, EG_INTERNAL, "out of memory");
        json_decref(ids);
    }
    for (int t = 0; t < EG_MEMORY_TYPE_COUNT && st == EG_OK; t++)
        st = check_type(db, (eg_memory_type)t, repair, queued, orphans, pending, repaired, &memories, &left, err);
    if (st == EG_OK) st = eg_saga_dead_letters(db->sagas, &letters, err);
    pthread_rwlock_unlock(&db->memory.scan_lock);
    if (st == EG_OK) {
        bool consistent = left == 0 && json_array_size(letters) == 0;
        *out = json_pack("{s:b, s:I, s:O, s:O, s:O, s:O, s:O}", "consistent", consistent, "memories",
                         (json_int_t)memories, "orphans", orphans, "pending", pending, "dead_letters", letters,
                         "repaired", repaired, "resolved", resolved);
        if (!*out) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    json_decref(orphans);
    json_decref(pending);
    json_decref(queued);
    json_decref(repaired);
    json_decref(resolved);
    json_decref(letters);
    return st;
}
