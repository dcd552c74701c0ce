/* recall.c — similarity search over memories with their graph context (see eg_memory_recall). The search gives
 * the hits; their nodes, and hop by hop the relationships and nodes around them, are read with one batch call per
 * hop for all hits together (chunked at the graph's batch limit), never one call per hit. Each hit's context is
 * then cut out of that shared neighbourhood by a breadth-first walk in memory. */
#include "db/db_internal.h"
#include "model/json_shapes.h"
#include "util/json_text.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_RECALL_LIMIT 10

/* What the batched reads found: id -> {"node": node JSON or absent, "rels": [relationship JSON]} */
typedef struct neighbourhood {
    json_t *by_id;
} neighbourhood;

static json_t *entry(neighbourhood *n, const char *id) {
    json_t *e = json_object_get(n->by_id, id);
    if (!e) {
        e = json_pack("{s:[]}", "rels");
        if (!e || json_object_set_new(n->by_id, id, e)) return NULL;
    }
    return e;
}

/* Reads the nodes of ids (at most EG_GRAPH_BATCH_MAX per call) into the neighbourhood. */
static eg_status read_nodes(eg_db *db, neighbourhood *n, const char **ids, size_t count, eg_error *err) {
    for (size_t at = 0; at < count; at += EG_GRAPH_BATCH_MAX) {
        size_t chunk = count - at < EG_GRAPH_BATCH_MAX ? count - at : EG_GRAPH_BATCH_MAX;
        eg_node_list list;
        eg_status st = eg_graph_get_nodes(db->graph, ids + at, chunk, &list, err);
        if (st != EG_OK) return st;
        for (size_t i = 0; i < list.count; i++) {
            json_t *e = entry(n, list.items[i].id);
            if (!e || json_object_set_new(e, "node", eg_node_json(&list.items[i]))) st = EG_INTERNAL;
        }
        eg_node_list_free(&list);
        if (st != EG_OK) return eg_error_set(err, st, "out of memory");
    }
    return EG_OK;
}

/* Reads the relationships of ids into the neighbourhood. */
static eg_status read_relationships(eg_db *db, neighbourhood *n, const char **ids, size_t count, eg_error *err) {
    for (size_t at = 0; at < count; at += EG_GRAPH_BATCH_MAX) {
        size_t chunk = count - at < EG_GRAPH_BATCH_MAX ? count - at : EG_GRAPH_BATCH_MAX;
        eg_relationship_list *lists = calloc(chunk, sizeof *lists);
        if (!lists) return eg_error_set(err, EG_INTERNAL, "out of memory");
        eg_status st = eg_graph_get_relationships_batch(db->graph, ids + at, chunk, EG_REL_ANY, EG_DIR_BOTH, lists, err);
        for (size_t i = 0; i < chunk && st == EG_OK; i++) {
            json_t *e = entry(n, ids[at + i]);
            json_t *rels = e ? json_object_get(e, "rels") : NULL;
            for (size_t r = 0; rels && r < lists[i].count; r++)
                if (json_array_append_new(rels, eg_relationship_json(&lists[i].items[r]))) rels = NULL;
            if (!rels) st = eg_error_set(err, EG_INTERNAL, "out of memory");
        }
        for (size_t i = 0; i < chunk && lists; i++) eg_relationship_list_free(&lists[i]);
        free(lists);
        if (st != EG_OK) return st;
    }
    return EG_OK;
}

static const char *other_end(json_t *rel, const char *id) {
    const char *source = json_string_value(json_object_get(rel, "source_id"));
    return strcmp(source, id) == 0 ? json_string_value(json_object_get(rel, "target_id")) : source;
}

/* Grows the neighbourhood hop by hop from the hits: the relationships of the frontier, then the nodes at their
 * other ends. Stops adding nodes past EG_RECALL_NEIGHBORS_MAX (*truncated). */
static eg_status expand(eg_db *db, neighbourhood *n, const char **hits, size_t hit_count, int hops, bool *truncated,
                        eg_error *err) {
    const char **frontier = malloc((hit_count ? hit_count : 1) * sizeof *frontier);
    if (!frontier) return eg_error_set(err, EG_INTERNAL, "out of memory");
    memcpy(frontier, hits, hit_count * sizeof *frontier);
    size_t frontier_count = hit_count, total = 0;
    eg_status st = EG_OK;
    for (int hop = 0; hop < hops && frontier_count && st == EG_OK; hop++) {
        if ((st = read_relationships(db, n, frontier, frontier_count, err))) break;
        size_t next_count = 0, next_cap = 0;
        const char **next = NULL;
        for (size_t f = 0; f < frontier_count && st == EG_OK; f++) {
            size_t i;
            json_t *rel;
            json_array_foreach(json_object_get(json_object_get(n->by_id, frontier[f]), "rels"), i, rel) {
                const char *other = other_end(rel, frontier[f]);
                if (json_object_get(n->by_id, other)) continue; /* read already, or queued for this hop */
                if (total >= EG_RECALL_NEIGHBORS_MAX) {
                    *truncated = true;
                    break;
                }
                if (next_count == next_cap) {
                    next_cap = next_cap ? next_cap * 2 : 64;
                    const char **grown = realloc(next, next_cap * sizeof *grown);
                    if (!grown) {
                        st = eg_error_set(err, EG_INTERNAL, "out of memory");
                        break;
                    }
                    next = grown;
                }
                if (!entry(n, other)) {
                    st = eg_error_set(err, EG_INTERNAL, "out of memory");
                    break;
                }
                next[next_count++] = json_object_iter_key(json_object_iter_at(n->by_id, other));
                total++;
            }
        }
        if (st == EG_OK) st = read_nodes(db, n, next, next_count, err);
        free(frontier);
        frontier = next;
        frontier_count = next_count;
    }
    free(frontier);
    return st;
}

/* One hit's context: a walk of `hops` from it over the neighbourhood, each relationship and node once. */
static eg_status hit_context(neighbourhood *n, const char *hit, int hops, json_t *memory, eg_error *err) {
    json_t *rels = json_array(), *neighbours = json_array(), *depth = json_object(), *seen_rels = json_object();
    const char **queue = NULL;
    size_t head = 0, tail = 0, cap = 0;
    eg_status st = rels && neighbours && depth && seen_rels ? EG_OK : EG_INTERNAL;
    if (st == EG_OK && json_object_set_new(depth, hit, json_integer(0))) st = EG_INTERNAL;
    if (st == EG_OK && hops > 0 && (queue = malloc(sizeof *queue)) != NULL) queue[tail++] = hit, cap = 1;
    while (st == EG_OK && head < tail) {
        const char *id = queue[head++];
        json_int_t d = json_integer_value(json_object_get(depth, id));
        size_t i;
        json_t *rel;
        json_array_foreach(json_object_get(json_object_get(n->by_id, id), "rels"), i, rel) {
            const char *other = other_end(rel, id);
            char key[3 * (EG_ID_MAX + 1) + 32];
            snprintf(key, sizeof key, "%s|%s|%s", json_string_value(json_object_get(rel, "source_id")),
                     json_string_value(json_object_get(rel, "type")),
                     json_string_value(json_object_get(rel, "target_id")));
            json_t *node = json_object_get(json_object_get(n->by_id, other), "node");
            if (!node) continue; /* past the truncation */
            if (!json_object_get(seen_rels, key)) {
                json_object_set_new(seen_rels, key, json_true());
                json_array_append(rels, rel);
            }
            if (json_object_get(depth, other)) continue;
            json_object_set_new(depth, other, json_integer(d + 1));
            json_t *neighbour = json_deep_copy(node);
            json_object_set_new(neighbour, "depth", json_integer(d + 1));
            json_array_append_new(neighbours, neighbour);
            if (d + 1 < hops) {
                if (tail == cap) {
                    cap *= 2;
                    const char **grown = realloc(queue, cap * sizeof *grown);
                    if (!grown) {
                        st = EG_INTERNAL;
                        break;
                    }
                    queue = grown;
                }
                queue[tail++] = json_object_iter_key(json_object_iter_at(n->by_id, other));
            }
        }
    }
    free(queue);
    json_decref(depth);
    json_decref(seen_rels);
    if (st == EG_OK && (json_object_set_new(memory, "relationships", rels) ||
                        json_object_set_new(memory, "neighbors", neighbours)))
        st = EG_INTERNAL;
    else if (st != EG_OK) {
        json_decref(rels);
        json_decref(neighbours);
    }
    return st == EG_OK ? EG_OK : eg_error_set(err, st, "out of memory");
}

eg_status eg_memory_recall(eg_db *db, const eg_recall_request *request, json_t **out, eg_error *err) {
    eg_status st;
    if (!db || !request || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "recall: db, request or out is NULL");
    if ((st = eg_memory_check_type(request->type, err))) return st;
    if (request->expand < 0 || request->expand > EG_RECALL_EXPAND_MAX)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "expand must be from 0 to %d, got %d", EG_RECALL_EXPAND_MAX,
                            request->expand);
    eg_search_request search = {.vector = request->vector,
                                .dim = request->dim,
                                .limit = request->limit ? request->limit : DEFAULT_RECALL_LIMIT,
                                .filter = request->filter,
                                .session_id = request->session_id,
                                .with_payload = true};
    eg_scored_list hits = {0};
    st = eg_vectors_search(db->vectors, eg_memory_collection(request->type), &search, &hits, err);
    if (st == EG_NOT_FOUND) { /* the collection does not exist yet: the type has no memories */
        eg_collection_info info;
        eg_error probe;
        if (eg_vectors_get_collection(db->vectors, eg_memory_collection(request->type), &info, &probe) ==
            EG_NOT_FOUND) {
            eg_error_clear(err);
            *out = json_pack("{s:[], s:b}", "memories", "truncated", 0);
            return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
        }
        eg_collection_info_clear(&info);
    }
    if (st != EG_OK) return st;
    neighbourhood n = {json_object()};
    const char **ids = calloc(hits.count ? hits.count : 1, sizeof *ids);
    char(*texts)[EG_POINT_ID_TEXT] = calloc(hits.count ? hits.count : 1, sizeof *texts);
    bool truncated = false;
    st = n.by_id && ids && texts ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < hits.count && st == EG_OK; i++) {
        eg_point_id_format(&hits.items[i].point.id, texts[i]);
        ids[i] = texts[i];
        if (!entry(&n, ids[i])) st = eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    if (st == EG_OK) st = read_nodes(db, &n, ids, hits.count, err);
    if (st == EG_OK) st = expand(db, &n, ids, hits.count, request->expand, &truncated, err);
    json_t *memories = st == EG_OK ? json_array() : NULL;
    for (size_t i = 0; i < hits.count && st == EG_OK; i++) {
        const eg_scored_point *h = &hits.items[i];
        json_t *node = json_object_get(json_object_get(n.by_id, ids[i]), "node");
        /* The score is a dense search's float32. */
        json_t *m = json_pack("{s:s, s:o, s:o, s:O?}", "id", ids[i], "score", eg_json_float((float)h->score), "payload",
                              h->point.payload ? json_incref(h->point.payload) : json_object(), "node", node);
        if (!m || json_array_append_new(memories, m)) st = eg_error_set(err, EG_INTERNAL, "out of memory");
        else st = hit_context(&n, ids[i], request->expand, m, err);
    }
    if (st == EG_OK && !(*out = json_pack("{s:o, s:b}", "memories", memories, "truncated", truncated)))
        st = eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st != EG_OK) json_decref(memories);
    json_decref(n.by_id);
    free(ids);
    free(texts);
    eg_scored_list_free(&hits);
    return st;
}
