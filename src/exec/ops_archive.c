/* ops_archive.c — the cold archive's operations of the JSON interface (archive_memory, archive_older_than,
 * retrieve_archived, restore_archived, delete_archived, list_archived, cleanup_archive, verify_archive), calls
 * into engram/archive.h. Shapes in docs/operations.md. */
#include "exec/exec_internal.h"

#include <engram/archive.h>
#include <engram/engram.h>

#include <stdio.h>
#include <string.h>

static eg_status read_type(json_t *args, bool required, eg_memory_type *type, bool *given, eg_error *err) {
    const char *name = NULL;
    eg_status st = eg_arg_string(args, "type", required, &name, err);
    *given = name != NULL;
    return st || !name ? st : eg_memory_type_parse(name, type, err);
}

/* An archived memory's id: a string (the archive also reads the original system's ids) or an integer. */
static eg_status read_id(json_t *args, char text[EG_POINT_ID_TEXT + 96], eg_error *err) {
    json_t *value;
    eg_status st = eg_arg_value(args, "id", &value, err);
    if (st != EG_OK) return st;
    if (json_is_integer(value) && json_integer_value(value) >= 0) {
        snprintf(text, EG_POINT_ID_TEXT + 96, "%lld", (long long)json_integer_value(value));
        return EG_OK;
    }
    if (!json_is_string(value) || json_string_length(value) > EG_POINT_ID_TEXT + 94)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "argument 'id' must be a string of at most 128 characters or an "
                                                      "integer >= 0");
    if (strlen(json_string_value(value)) != json_string_length(value))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "argument 'id' holds a NUL character");
    /* A memory id is written canonically (as archive_memory named its entry); another id is taken as given, for
     * the original system's archives. */
    eg_point_id pid;
    eg_error ignored;
    if (eg_point_id_parse(json_string_value(value), &pid, &ignored) == EG_OK) eg_point_id_format(&pid, text);
    else snprintf(text, EG_POINT_ID_TEXT + 96, "%s", json_string_value(value));
    return EG_OK;
}

static eg_status op_archive_memory(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    char id[EG_POINT_ID_TEXT + 96];
    eg_memory_type type;
    bool given;
    eg_status st;
    if ((st = read_id(args, id, err)) || (st = read_type(args, true, &type, &given, err)) ||
        (st = eg_archive_memory(db, type, id, err)))
        return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_archive_older_than(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    eg_archive_request request = {0};
    long long limit = 0;
    bool given;
    eg_archive_result done = {0};
    eg_status st;
    if ((st = read_type(args, true, &request.type, &given, err)) ||
        (st = eg_arg_number(args, "days", true, &request.older_than_days, err)) ||
        (st = eg_arg_int(args, "limit", false, 0, 100000000, &limit, err)) ||
        (st = eg_arg_string(args, "session_id", false, &request.session_id, err)) ||
        (st = eg_arg_string(args, "field", false, &request.field, err)))
        return st;
    request.limit = (size_t)limit;
    st = eg_archive_older_than(db, &request, &done, err);
    if (st != EG_OK && done.archived == 0 && done.failed == 0) return st;
    /* Partial success is a result: the counts say what happened, the first failure is reported with them. */
    json_t *out = json_pack("{s:I, s:I, s:I}", "candidates", (json_int_t)done.candidates, "archived",
                            (json_int_t)done.archived, "failed", (json_int_t)done.failed);
    if (out && st != EG_OK)
        json_object_set_new(out, "first_error",
                            json_pack("{s:s, s:s}", "code", eg_status_name(st), "message", err->message));
    return eg_exec_result(out, result, err);
}

static eg_status op_retrieve_archived(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    char id[EG_POINT_ID_TEXT + 96];
    json_t *found = NULL;
    eg_status st;
    if ((st = read_id(args, id, err)) || (st = eg_retrieve_archived(db, id, &found, err))) return st;
    return eg_exec_result(found, result, err);
}

static eg_status op_restore_archived(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    char id[EG_POINT_ID_TEXT + 96];
    eg_status st;
    if ((st = read_id(args, id, err)) || (st = eg_restore_archived(db, id, err))) return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_delete_archived(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    char id[EG_POINT_ID_TEXT + 96];
    eg_status st;
    if ((st = read_id(args, id, err)) || (st = eg_delete_archived(db, id, err))) return st;
    return eg_exec_result(json_pack("{s:s}", "id", id), result, err);
}

static eg_status op_list_archived(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    eg_memory_type type;
    bool given;
    long long limit = 100;
    const char *cursor = NULL;
    json_t *out = NULL;
    eg_status st;
    if ((st = read_type(args, false, &type, &given, err)) ||
        (st = eg_arg_int(args, "limit", false, 1, 10000, &limit, err)) ||
        (st = eg_arg_string(args, "cursor", false, &cursor, err)) ||
        (st = eg_list_archived(db, given ? &type : NULL, (size_t)limit, cursor, &out, err)))
        return st;
    return eg_exec_result(out, result, err);
}

static eg_status op_cleanup_archive(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    long long days = eg_settings_int(eg_db_settings(db), "archive.retention_days");
    uint64_t removed = 0;
    eg_status st;
    if ((st = eg_arg_int(args, "retention_days", false, 1, 36500, &days, err)) ||
        (st = eg_cleanup_archive(db, days, &removed, err)))
        return st;
    return eg_exec_result(json_pack("{s:I}", "removed", (json_int_t)removed), result, err);
}

static eg_status op_verify_archive(eg_db *db, json_t *args, json_t **result, eg_error *err) {
    (void)args;
    json_t *report = NULL;
    eg_status st = eg_verify_archive(db, &report, err);
    return st ? st : eg_exec_result(report, result, err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

const eg_exec_op eg_exec_archive_ops[] = {
    {"archive_memory", op_archive_memory, ARGS("id", "type"), 0},
    {"archive_older_than", op_archive_older_than, ARGS("type", "days", "limit", "session_id", "field"), 0},
    {"retrieve_archived", op_retrieve_archived, ARGS("id"), 0},
    {"restore_archived", op_restore_archived, ARGS("id"), 0},
    {"delete_archived", op_delete_archived, ARGS("id"), 0},
    {"list_archived", op_list_archived, ARGS("type", "limit", "cursor"), 0},
    {"cleanup_archive", op_cleanup_archive, ARGS("retention_days"), 0},
    {"verify_archive", op_verify_archive, ARGS(NULL), 0},
    {NULL, NULL, NULL, 0},
};
