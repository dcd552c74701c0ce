/* archive.c — moving memories between the hot stores and the cold archive (see engram/archive.h), each move a
 * saga, and the archive's other operations for a data folder.
 *
 *   archive_memory    args: those of delete_memory (id, type, point, node, relationships, unknown)
 *     write_archive   put the archive entry (built from the pre-image)   | remove it
 *     delete_vector   as delete_memory's                                  | restore the point
 *     delete_node     as delete_memory's                                  | restore the node and relationships
 *   restore_archived  args {id, type, point, node, relationships, record, created_at}
 *     restore_vector  put the point                                       | delete it
 *     restore_node    put the node and the relationships whose other end exists | delete it
 *     remove_archive  remove the archive entry                            | put it back
 * The last step of each is its point of no return: a crash before it leaves the memory hot (with, transiently,
 * its archive entry, which recovery removes); after it, archived. */
#include "archive/archive_store.h"
#include "db/db_internal.h"
#include "model/json_shapes.h"
#include "util/clock.h"

#include <engram/archive.h>

#include <stdlib.h>
#include <string.h>

#define ARCHIVE_RECORD_FORMAT 1
#define SCAN_PAGE 1000

static eg_status no_archive(eg_error *err) {
    return eg_error_set(err, EG_INTERNAL, "the data folder has no archive open");
}

/* The archive record of a memory from its logged pre-image. */
static json_t *record_of(json_t *args, eg_memory_type type) {
    json_t *point = json_object_get(args, "point"), *node = json_object_get(args, "node");
    json_t *r = json_pack("{s:O, s:s, s:O, s:O, s:{s:s, s:O}, s:O, s:I, s:i}", "memory_id", json_object_get(args, "id"),
                          "memory_type", eg_memory_collection(type), "vector", json_object_get(point, "vector"),
                          "payload", json_object_get(point, "payload"), "node", "label",
                          eg_label_name(eg_memory_label(type)), "properties", json_object_get(node, "properties"),
                          "relationships", json_object_get(args, "relationships"), "archived_at_ms",
                          (json_int_t)eg_now_ms(), "format", ARCHIVE_RECORD_FORMAT);
    json_t *sparse = json_object_get(point, "sparse_vector");
    if (r && sparse) json_object_set(r, "sparse_vector", sparse);
    return r;
}

static int64_t created_at_of(json_t *args) {
    json_t *at = json_object_get(json_object_get(args, "point"), "payload");
    at = json_object_get(at, "created_at");
    return json_is_integer(at) ? (int64_t)json_integer_value(at) : -1;
}

static eg_status args_type(json_t *args, eg_memory_type *type, eg_error *err) {
    return eg_memory_type_parse(json_string_value(json_object_get(args, "type")), type, err);
}

/* ---- archive_memory ----------------------------------------------------------------------------------------- */

static eg_status write_archive(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    eg_db *db = env;
    eg_memory_type type;
    eg_status st = db->archive ? args_type(args, &type, err) : no_archive(err);
    if (st != EG_OK) return st;
    json_t *record = record_of(args, type);
    st = record ? eg_archive_put(db->archive, eg_memory_collection(type), json_string_value(json_object_get(args, "id")),
                                 record, created_at_of(args), true, NULL, err)
                : eg_error_set(err, EG_INTERNAL, "out of memory");
    json_decref(record);
    return st;
}

static eg_status remove_archive_entry(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    eg_db *db = env;
    if (!db->archive) return no_archive(err);
    return eg_memory_gone_is_ok(eg_archive_remove(db->archive, json_string_value(json_object_get(args, "id")), err), err);
}

const eg_saga_step eg_archive_steps[3] = {
    {"write_archive", write_archive, remove_archive_entry},
    {"delete_vector", eg_memory_delete_vector, eg_memory_restore_vector},
    {"delete_node", eg_memory_delete_node, eg_memory_restore_node},
};

/* ---- restore_archived --------------------------------------------------------------------------------------- */

static eg_status restore_write(eg_db *db, json_t *args, int store, eg_queued_kind kind, json_t *data, bool undo,
                               eg_error *err) {
    eg_memory_type type;
    eg_status st = args_type(args, &type, err);
    if (st != EG_OK) return st;
    eg_store_write w = {store, type, json_string_value(json_object_get(args, "id")), kind, data, NULL, NULL, NULL};
    return eg_memory_write(db, undo, &w, err);
}

static eg_status restore_vector(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return restore_write(env, args, EG_STORE_VECTORS, EG_QUEUED_PUT, json_object_get(args, "point"), false, err);
}

static eg_status unrestore_vector(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return restore_write(env, args, EG_STORE_VECTORS, EG_QUEUED_DELETE, NULL, true, err);
}

static eg_status restore_node(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    json_t *data = json_pack("{s:O, s:O}", "properties", json_object_get(json_object_get(args, "node"), "properties"),
                             "relationships", json_object_get(args, "relationships"));
    eg_status st = data ? restore_write(env, args, EG_STORE_GRAPH, EG_QUEUED_PUT, data, false, err)
                        : eg_error_set(err, EG_INTERNAL, "out of memory");
    json_decref(data);
    return st;
}

static eg_status unrestore_node(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    return restore_write(env, args, EG_STORE_GRAPH, EG_QUEUED_DELETE, NULL, true, err);
}

/* Putting the entry back is its own "restore if missing": the same record over itself. */
static eg_status put_archive_back(void *env, json_t *args, void *input, eg_error *err) {
    (void)input;
    eg_db *db = env;
    eg_memory_type type;
    eg_status st = db->archive ? args_type(args, &type, err) : no_archive(err);
    if (st != EG_OK) return st;
    json_t *at = json_object_get(args, "created_at");
    return eg_archive_put(db->archive, eg_memory_collection(type), json_string_value(json_object_get(args, "id")),
                          json_object_get(args, "record"), json_is_integer(at) ? json_integer_value(at) : -1, true,
                          NULL, err);
}

const eg_saga_step eg_restore_steps[3] = {
    {"restore_vector", restore_vector, unrestore_vector},
    {"restore_node", restore_node, unrestore_node},
    {"remove_archive", remove_archive_entry, put_archive_back},
};

/* ---- Operations --------------------------------------------------------------------------------------------- */

static eg_status check_archive_db(eg_db *db, eg_error *err) {
    if (!db) return eg_error_set(err, EG_INVALID_ARGUMENT, "data folder handle is NULL");
    return db->archive ? EG_OK : no_archive(err);
}

/* Under the id's write lock: the memory as a delete would capture it, archived by a saga. */
static eg_status archive_locked(eg_db *db, eg_memory_type type, const eg_point_id *pid, const char *id, eg_error *err) {
    json_t *args = NULL;
    eg_status st = eg_memory_pre_image(db, type, pid, id, &args, err);
    if (st == EG_OK && json_array_size(json_object_get(args, "unknown")))
        st = eg_error_set(err, EG_UNAVAILABLE, "memory %s cannot be archived while a store is unavailable", id);
    if (st == EG_OK && (json_is_null(json_object_get(args, "point")) || json_is_null(json_object_get(args, "node"))))
        st = eg_error_set(err, EG_CONFLICT,
                          "memory %s is in one store only (an orphan): run check with repair before archiving it", id);
    if (st == EG_OK) st = eg_memory_run_saga(db, EG_SAGA_ARCHIVE_MEMORY, id, args, NULL, err);
    json_decref(args);
    return st;
}

eg_status eg_archive_memory(eg_db *db, eg_memory_type type, const char *id, eg_error *err) {
    eg_point_id pid;
    char canonical[EG_POINT_ID_TEXT];
    eg_status st;
    if ((st = check_archive_db(db, err)) || (st = eg_memory_check_type(type, err)) ||
        (st = eg_memory_id(id, &pid, canonical, err)) || (st = eg_memory_check_frozen(db, canonical, err)))
        return st;
    eg_memory_lock(db, canonical);
    st = archive_locked(db, type, &pid, canonical, err);
    eg_memory_unlock(db, canonical);
    return st;
}

typedef struct candidate {
    int64_t at;
    char id[EG_POINT_ID_TEXT];
} candidate;

static int by_age(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The memories of a type whose field is below cutoff (and of the session), oldest first. */
static eg_status find_candidates(eg_db *db, const eg_archive_request *r, const char *field, int64_t cutoff,
                                 candidate **out, size_t *count, eg_error *err) {
    json_t *must = json_pack("[{s:s, s:{s:I}}]", "key", field, "range", "lt", (json_int_t)cutoff);
    if (r->session_id) json_array_append_new(must, json_pack("{s:s, s:{s:s}}", "key", "session_id", "match", "value",
                                                             r->session_id));
    json_t *filter_json = json_pack("{s:o}", "must", must);
    eg_filter *filter = NULL;
    eg_status st = eg_filter_parse(filter_json, &filter, err);
    json_decref(filter_json);
    size_t cap = 0;
    *out = NULL;
    *count = 0;
    eg_point_id offset;
    bool more = true, first = true;
    while (st == EG_OK && more) {
        eg_scroll_request request = {filter, SCAN_PAGE, first ? NULL : &offset, true, false};
        eg_point_list page;
        st = eg_vectors_scroll(db->vectors, eg_memory_collection(r->type), &request, &page, &offset, &more, err);
        if (st == EG_NOT_FOUND && first) { /* no collection: nothing to archive */
            eg_error_clear(err);
            st = EG_OK;
            break;
        }
        for (size_t i = 0; st == EG_OK && i < page.count; i++) {
            if (*count == cap) {
                cap = cap ? cap * 2 : 256;
                candidate *grown = realloc(*out, cap * sizeof *grown);
                if (!grown) {
                    st = eg_error_set(err, EG_INTERNAL, "out of memory");
                    break;
                }
                *out = grown;
            }
            candidate *c = &(*out)[(*count)++];
            c->at = (int64_t)json_integer_value(json_object_get(page.items[i].payload, field));
            eg_point_id_format(&page.items[i].id, c->id);
        }
        if (st == EG_OK) eg_point_list_free(&page);
        first = false;
    }
    eg_filter_free(filter);
    if (st == EG_OK && *count) qsort(*out, *count, sizeof **out, by_age);
    return st;
}

eg_status eg_archive_older_than(eg_db *db, const eg_archive_request *r, eg_archive_result *out, eg_error *err) {
    eg_archive_result result = {0};
    if (out) *out = result;
    eg_status st;
    if ((st = check_archive_db(db, err))) return st;
    if (!r || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "archive_older_than: request or out is NULL");
    if ((st = eg_memory_check_type(r->type, err))) return st;
    if (!(r->older_than_days >= 0 && r->older_than_days <= 36500000))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "older_than_days must be a number of days >= 0");
    const char *field = r->field ? r->field : "created_at";
    if ((st = eg_validate_property_name(field, err))) return eg_error_prefix(err, st, "field: ");
    int64_t cutoff = eg_now_ms() - (int64_t)(r->older_than_days * 86400000.0);
    candidate *found = NULL;
    size_t count = 0;
    st = find_candidates(db, r, field, cutoff, &found, &count, err);
    result.candidates = count;
    size_t todo = r->limit && r->limit < count ? r->limit : count;
    eg_status first_failure = EG_OK;
    for (size_t i = 0; st == EG_OK && i < todo; i++) {
        eg_error why;
        eg_status one = eg_archive_memory(db, r->type, found[i].id, &why);
        if (one == EG_OK) {
            result.archived++;
        } else if (one != EG_NOT_FOUND) { /* deleted meanwhile: nothing to archive */
            result.failed++;
            if (first_failure == EG_OK) {
                first_failure = one;
                if (err) *err = why;
            }
        }
        if (r->progress) r->progress(r->progress_ctx, i + 1, todo);
    }
    free(found);
    *out = result;
    return st ? st : first_failure;
}

/* The float32 values of an engram record (one with a node) in the short form engram writes (util/json_text.h):
 * a record archived before that form holds them with 17 digits, which read back to the same floats, and they go
 * on into responses and log records. Values that are not float32 numbers, and other systems' records, stay. */
static void shorten_floats(json_t *holder, const char *key) {
    json_t *array = json_object_get(holder, key);
    float *values;
    size_t count;
    eg_error ignored;
    if (!json_is_array(array) || eg_floats_from_json(array, key, &values, &count, &ignored) != EG_OK) return;
    json_t *short_form = eg_floats_json(values, count);
    free(values);
    if (short_form) json_object_set_new(holder, key, short_form);
}

static void shorten_record_floats(json_t *record) {
    if (!json_is_object(json_object_get(record, "node"))) return;
    shorten_floats(record, "vector");
    shorten_floats(json_object_get(record, "sparse_vector"), "values");
}

eg_status eg_retrieve_archived(eg_db *db, const char *id, json_t **out, eg_error *err) {
    eg_status st;
    if ((st = check_archive_db(db, err))) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "retrieve_archived: out is NULL");
    json_t *record = NULL;
    eg_archive_meta meta;
    if ((st = eg_archive_get(db->archive, id, &record, &meta, err))) return st;
    shorten_record_floats(record);
    *out = json_pack("{s:o, s:o}", "record", record, "metadata", eg_archive_meta_json(&meta));
    return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

/* The restore saga's arguments from an archived record; EG_INVALID_ARGUMENT for a record engram did not write. */
static eg_status restore_args(const char *id, json_t *record, eg_memory_type *type, json_t **out, eg_error *err) {
    json_t *vector = json_object_get(record, "vector"), *node = json_object_get(record, "node");
    eg_status st = eg_memory_type_parse(json_string_value(json_object_get(record, "memory_type")), type, err);
    if (st != EG_OK || !json_is_array(vector) || !json_is_object(node))
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "archived memory %s has no vector and node that engram can restore (an archive written by "
                            "another system can be retrieved, not restored)",
                            id);
    shorten_record_floats(record);
    vector = json_object_get(record, "vector");
    json_t *point = json_pack("{s:O, s:O}", "vector", vector, "payload", json_object_get(record, "payload"));
    json_t *sparse = json_object_get(record, "sparse_vector");
    if (point && sparse) json_object_set(point, "sparse_vector", sparse);
    json_t *created = json_object_get(json_object_get(record, "payload"), "created_at");
    json_t *rels = json_object_get(record, "relationships");
    *out = json_pack("{s:s, s:s, s:o, s:{s:O}, s:O, s:O, s:O}", "id", id, "type", eg_memory_type_name(*type), "point",
                     point, "node", "properties", json_object_get(node, "properties"), "relationships",
                     json_is_array(rels) ? rels : json_array(), "record", record, "created_at",
                     created ? created : json_null());
    return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

static eg_status restore_locked(eg_db *db, const eg_point_id *pid, const char *id, eg_error *err) {
    json_t *record = NULL, *args = NULL, *hot = NULL;
    eg_memory_type type = EG_MEMORY_EPISODE;
    eg_status st = eg_archive_get(db->archive, id, &record, NULL, err);
    if (st == EG_OK) st = restore_args(id, record, &type, &args, err);
    if (st == EG_OK) { /* a hot memory of that id wins: restoring would overwrite it */
        st = eg_memory_pre_image(db, type, pid, id, &hot, err);
        if (st == EG_OK)
            st = eg_error_set(err, EG_CONFLICT, "memory %s is in the hot stores: it cannot be restored over", id);
        else if (st == EG_NOT_FOUND)
            st = EG_OK, eg_error_clear(err);
    }
    if (st == EG_OK) st = eg_memory_run_saga(db, EG_SAGA_RESTORE_ARCHIVED, id, args, NULL, err);
    json_decref(record);
    json_decref(args);
    json_decref(hot);
    return st;
}

eg_status eg_restore_archived(eg_db *db, const char *id, eg_error *err) {
    eg_point_id pid;
    char canonical[EG_POINT_ID_TEXT];
    eg_status st;
    if ((st = check_archive_db(db, err)) || (st = eg_memory_id(id, &pid, canonical, err)) ||
        (st = eg_memory_check_frozen(db, canonical, err)))
        return st;
    eg_memory_lock(db, canonical);
    st = restore_locked(db, &pid, canonical, err);
    eg_memory_unlock(db, canonical);
    return st;
}

eg_status eg_delete_archived(eg_db *db, const char *id, eg_error *err) {
    eg_status st = check_archive_db(db, err);
    return st ? st : eg_archive_remove(db->archive, id, err);
}

eg_status eg_list_archived(eg_db *db, const eg_memory_type *type, size_t limit, const char *cursor, json_t **out,
                           eg_error *err) {
    eg_status st = check_archive_db(db, err);
    if (st == EG_OK && type) st = eg_memory_check_type(*type, err);
    if (st != EG_OK) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "list_archived: out is NULL");
    json_t *entries = NULL;
    char next[256] = "";
    st = eg_archive_list(db->archive, type ? eg_memory_collection(*type) : NULL, limit ? limit : 100, cursor, &entries,
                         next, sizeof next, err);
    if (st != EG_OK) return st;
    *out = json_pack("{s:o, s:s?}", "entries", entries, "next_cursor", next[0] ? next : NULL);
    return *out ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
}

eg_status eg_cleanup_archive(eg_db *db, int64_t retention_days, uint64_t *removed, eg_error *err) {
    eg_status st = check_archive_db(db, err);
    if (st != EG_OK) return st;
    if (retention_days < 1) return eg_error_set(err, EG_INVALID_ARGUMENT, "retention_days must be at least 1");
    uint64_t n = 0;
    st = eg_archive_cleanup(db->archive, retention_days, eg_now_ms(), &n, err);
    if (removed) *removed = n;
    return st;
}

eg_status eg_verify_archive(eg_db *db, json_t **out, eg_error *err) {
    eg_status st = check_archive_db(db, err);
    if (st != EG_OK) return st;
    if (!out) return eg_error_set(err, EG_INVALID_ARGUMENT, "verify_archive: out is NULL");
    return eg_archive_verify(db->archive, out, err);
}
