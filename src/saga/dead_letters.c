/* dead_letters.c — the durable reports of sagas whose compensation (or roll-forward) failed: one JSON file per
 * saga, <dead-letter folder>/<saga id>.json, written atomically and kept until an operator resolves it. The
 * folder is the queue: listing reads it, resolving unlinks a file and syncs the folder, so a resolved letter
 * does not come back after a crash. */
#include "saga/saga_internal.h"

#include "util/clock.h"
#include "util/files.h"
#include "util/json_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LETTER_SUFFIX ".json"

static eg_status letter_path(const eg_saga_engine *e, const char *saga_id, char *out, size_t cap, eg_error *err) {
    char name[EG_SAGA_ID_TEXT + sizeof LETTER_SUFFIX];
    snprintf(name, sizeof name, "%s" LETTER_SUFFIX, saga_id);
    return eg_path_join(out, cap, e->dead_letter_dir, name, err);
}

eg_status eg_saga_dead_letter_write(eg_saga_engine *e, const eg_saga_progress *p, json_t *compensation_errors,
                                    eg_error *err) {
    json_t *letter = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:O, s:I, s:O}", "saga", p->id, "type",
                               p->type->name, "failed_step", p->type->steps[p->failed_step].name, "error", "code",
                               eg_status_name(p->cause), "message", p->cause_err.message, "compensation_errors",
                               compensation_errors, "at_ms", (json_int_t)eg_now_ms(), "args", p->args);
    char *text = letter ? eg_json_text(letter, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(letter);
    if (!text) return eg_error_set(err, EG_INTERNAL, "out of memory writing a saga dead letter");
    char path[4096];
    eg_status st = letter_path(e, p->id, path, sizeof path, err);
    if (st == EG_OK) st = eg_write_file_atomic(path, "a saga dead letter", text, strlen(text), err);
    free(text);
    return st;
}

/* Unlinks the letter and syncs the folder; EG_NOT_FOUND when there is none. */
static eg_status remove_letter(eg_saga_engine *e, const char *saga_id, eg_error *err) {
    char path[4096];
    eg_status st = letter_path(e, saga_id, path, sizeof path, err);
    if (st != EG_OK) return st;
    if (unlink(path) != 0) {
        if (errno == ENOENT) return eg_error_set(err, EG_NOT_FOUND, "no dead letter for saga %s", saga_id);
        return eg_error_set(err, EG_IO, "cannot remove the dead letter of saga %s: %s", saga_id, strerror(errno));
    }
    return eg_sync_folder(e->dead_letter_dir, "the saga dead-letter folder", err);
}

eg_status eg_saga_dead_letter_clear(eg_saga_engine *e, const char *saga_id, eg_error *err) {
    eg_status st = remove_letter(e, saga_id, err);
    if (st == EG_NOT_FOUND) {
        eg_error_clear(err);
        return EG_OK;
    }
    return st;
}

eg_status eg_saga_resolve(eg_saga_engine *e, const char *saga_id, eg_error *err) {
    if (!e || !eg_saga_id_valid(saga_id))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "a saga id is a UUID in canonical lower-case text");
    return remove_letter(e, saga_id, err);
}

/* Oldest first; ties (same millisecond) by saga id, so the listing is stable. */
static int by_time(const void *a, const void *b) {
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t tx = json_integer_value(json_object_get(x, "at_ms"));
    json_int_t ty = json_integer_value(json_object_get(y, "at_ms"));
    if (tx != ty) return tx < ty ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "saga")), json_string_value(json_object_get(y, "saga")));
}

eg_status eg_saga_dead_letters(eg_saga_engine *e, json_t **out, eg_error *err) {
    if (!e || !out) return eg_error_set(err, EG_INVALID_ARGUMENT, "an engine and an output are required");
    DIR *d = opendir(e->dead_letter_dir);
    if (!d) return eg_error_set(err, EG_IO, "cannot list the saga dead-letter folder: %s", strerror(errno));
    json_t *letters = json_array();
    eg_status st = letters ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory listing saga dead letters");
    struct dirent *entry;
    while (st == EG_OK && (entry = readdir(d)) != NULL) {
        size_t length = strlen(entry->d_name);
        /* Only <saga id>.json: a .tmp left by a crash mid-write is not a letter (the saga is still unfinished). */
        if (length != EG_SAGA_ID_TEXT - 1 + strlen(LETTER_SUFFIX) ||
            strcmp(entry->d_name + EG_SAGA_ID_TEXT - 1, LETTER_SUFFIX) != 0)
            continue;
        char path[4096];
        st = eg_path_join(path, sizeof path, e->dead_letter_dir, entry->d_name, err);
        if (st != EG_OK) break;
        json_error_t parse;
        json_t *letter = json_load_file(path, 0, &parse);
        if (!json_is_object(letter) || !json_is_string(json_object_get(letter, "saga"))) {
            json_decref(letter);
            st = eg_error_set(err, EG_CORRUPT, "saga dead letter %s is not a readable report", entry->d_name);
            break;
        }
        json_array_append_new(letters, letter);
    }
    closedir(d);
    if (st != EG_OK) {
        json_decref(letters);
        return st;
    }
    size_t count = json_array_size(letters);
    json_t **items = malloc((count ? count : 1) * sizeof *items);
    if (!items) {
        json_decref(letters);
        return eg_error_set(err, EG_INTERNAL, "out of memory listing saga dead letters");
    }
    for (size_t i = 0; i < count; i++) items[i] = json_incref(json_array_get(letters, i));
    qsort(items, count, sizeof *items, by_time);
    json_array_clear(letters);
    for (size_t i = 0; i < count; i++) json_array_append_new(letters, items[i]);
    free(items);
    *out = letters;
    return EG_OK;
}
