/* catalog.c — the Qdrant catalog of a data folder: the aliases of collections and the names their vectors were
 * given at creation (qdrant_shapes.h), which engram's vector store has no place for. Kept in
 * DATA/serve/qdrant.json, rewritten whole and atomically on every change, read once when the server starts;
 * one mutex orders every reader and writer.
 *
 * The file: {"format": 1, "aliases": {ALIAS: COLLECTION, ...}, "layouts": {COLLECTION: {"dense": NAME,
 * "sparse": NAME}, ...}}. A file that does not read as this is a clear error at start, never silently reset:
 * aliases are what clients address collections by. */
#include "db/db_internal.h"
#include "serve/qdrant_shapes.h"
#include "util/files.h"
#include "util/json_text.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CATALOG_FORMAT 1
#define CATALOG_FILE "serve/qdrant.json" /* as messages name it: relative to the data folder */

struct eg_catalog {
    pthread_mutex_t lock;
    char dir[4096];  /* DATA/serve */
    char path[4096]; /* DATA/serve/qdrant.json */
    json_t *aliases; /* {alias: collection} */
    json_t *layouts; /* {collection: {"dense": name, "sparse": name}} */
};

static eg_status corrupt(eg_error *err, const char *why) {
    return eg_error_set(err, EG_CORRUPT, "%s is not a valid Qdrant catalog (%s); repair or remove it", CATALOG_FILE,
                        why);
}

static bool vector_name_ok(json_t *name) {
    return json_is_string(name) && json_string_length(name) <= EG_QDRANT_VECTOR_NAME_MAX &&
           strlen(json_string_value(name)) == json_string_length(name);
}

/* Checks the shape of a loaded file, so that every later read may trust it. */
static eg_status check_document(json_t *doc, eg_error *err) {
    json_t *format = json_object_get(doc, "format"), *aliases = json_object_get(doc, "aliases"),
           *layouts = json_object_get(doc, "layouts"), *value;
    const char *key;
    if (!json_is_object(doc)) return corrupt(err, "not a JSON object");
    if (!json_is_integer(format) || json_integer_value(format) != CATALOG_FORMAT)
        return corrupt(err, "format is not 1");
    if (!json_is_object(aliases) || !json_is_object(layouts)) return corrupt(err, "aliases or layouts missing");
    json_object_foreach(aliases, key, value) {
        if (!json_is_string(value) || strlen(key) > EG_COLLECTION_NAME_MAX ||
            json_string_length(value) > EG_COLLECTION_NAME_MAX)
            return corrupt(err, "an alias is not a collection name");
    }
    json_object_foreach(layouts, key, value) {
        if (!json_is_object(value) || !vector_name_ok(json_object_get(value, "dense")) ||
            !vector_name_ok(json_object_get(value, "sparse")))
            return corrupt(err, "a layout lacks its dense or sparse name");
    }
    return EG_OK;
}

static eg_status load(eg_catalog *c, eg_error *err) {
    struct stat info;
    if (stat(c->path, &info) != 0) {
        if (errno != ENOENT) return eg_error_set(err, EG_IO, "cannot read %s: %s", CATALOG_FILE, strerror(errno));
        c->aliases = json_object();
        c->layouts = json_object();
        return c->aliases && c->layouts ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    json_error_t jerr;
    json_t *doc = json_load_file(c->path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        char why[EG_ERROR_MESSAGE_MAX / 2];
        snprintf(why, sizeof why, "line %d: %.160s", jerr.line, jerr.text);
        return corrupt(err, why);
    }
    eg_status st = check_document(doc, err);
    if (st == EG_OK) {
        c->aliases = json_incref(json_object_get(doc, "aliases"));
        c->layouts = json_incref(json_object_get(doc, "layouts"));
    }
    json_decref(doc);
    return st;
}

/* Writes aliases and layouts (the candidates of a change) to the file; the caller holds the lock. */
static eg_status save(eg_catalog *c, json_t *aliases, json_t *layouts, eg_error *err) {
    json_t *doc = json_pack("{s:i, s:O, s:O}", "format", CATALOG_FORMAT, "aliases", aliases, "layouts", layouts);
    char *text = doc ? eg_json_text(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!text) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = eg_mkdir(c->dir, "serve folder", err);
    if (st == EG_OK) st = eg_write_file_atomic(c->path, CATALOG_FILE, text, strlen(text), err);
    free(text);
    return st;
}

/* Makes candidates the catalog's state once they are saved; on failure they are dropped and nothing changed. */
static eg_status commit(eg_catalog *c, json_t *aliases, json_t *layouts, eg_error *err) {
    eg_status st = aliases && layouts ? save(c, aliases, layouts, err) : eg_error_set(err, EG_INTERNAL, "out of memory");
    if (st != EG_OK) {
        json_decref(aliases);
        json_decref(layouts);
        return st;
    }
    json_decref(c->aliases);
    json_decref(c->layouts);
    c->aliases = aliases;
    c->layouts = layouts;
    return EG_OK;
}

eg_status eg_catalog_open(eg_db *db, eg_catalog **out, eg_error *err) {
    *out = NULL;
    eg_catalog *c = calloc(1, sizeof *c);
    if (!c) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st;
    if ((st = eg_path_join(c->dir, sizeof c->dir, db->dir, "serve", err)) ||
        (st = eg_path_join(c->path, sizeof c->path, c->dir, "qdrant.json", err)) || (st = load(c, err))) {
        json_decref(c->aliases);
        json_decref(c->layouts);
        free(c);
        return st;
    }
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return EG_OK;
}

void eg_catalog_free(eg_catalog *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->lock);
    json_decref(c->aliases);
    json_decref(c->layouts);
    free(c);
}

void eg_catalog_resolve(eg_catalog *c, const char *name, char out[EG_COLLECTION_NAME_MAX + 1]) {
    pthread_mutex_lock(&c->lock);
    const char *target = json_string_value(json_object_get(c->aliases, name));
    snprintf(out, EG_COLLECTION_NAME_MAX + 1, "%s", target ? target : name);
    pthread_mutex_unlock(&c->lock);
}

bool eg_catalog_is_alias(eg_catalog *c, const char *name) {
    pthread_mutex_lock(&c->lock);
    bool found = json_object_get(c->aliases, name) != NULL;
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* A recorded layout holds only while it fits the collection: one of the same name made afresh through `exec`
 * after a delete the server did not see must not inherit the old names. */
eg_status eg_catalog_layout(eg_catalog *c, const eg_collection_info *info, eg_qdrant_layout *out) {
    *out = (eg_qdrant_layout){{0}, {0}};
    pthread_mutex_lock(&c->lock);
    json_t *layout = json_object_get(c->layouts, info->name);
    const char *dense = json_string_value(json_object_get(layout, "dense"));
    const char *sparse = json_string_value(json_object_get(layout, "sparse"));
    bool fits = layout && (sparse[0] != '\0') == info->config.sparse;
    if (fits) {
        snprintf(out->dense, sizeof out->dense, "%s", dense);
        snprintf(out->sparse, sizeof out->sparse, "%s", sparse);
    }
    pthread_mutex_unlock(&c->lock);
    if (!fits && info->config.sparse) {
        snprintf(out->dense, sizeof out->dense, "dense");
        snprintf(out->sparse, sizeof out->sparse, "sparse");
    }
    return EG_OK;
}

eg_status eg_catalog_set_layout(eg_catalog *c, const char *collection, const eg_qdrant_layout *layout, eg_error *err) {
    pthread_mutex_lock(&c->lock);
    json_t *aliases = json_copy(c->aliases), *layouts = json_copy(c->layouts);
    if (layouts && json_object_set_new(layouts, collection,
                                       json_pack("{s:s, s:s}", "dense", layout->dense, "sparse", layout->sparse)) != 0) {
        json_decref(layouts);
        layouts = NULL;
    }
    eg_status st = commit(c, aliases, layouts, err);
    pthread_mutex_unlock(&c->lock);
    return st;
}

/* Removes every alias naming collection from aliases; true when there was one. */
static bool drop_aliases_of(json_t *aliases, const char *collection) {
    const char *alias;
    json_t *target;
    void *tmp;
    bool dropped = false;
    json_object_foreach_safe(aliases, tmp, alias, target) {
        if (strcmp(json_string_value(target), collection) == 0) {
            json_object_del(aliases, alias);
            dropped = true;
        }
    }
    return dropped;
}

eg_status eg_catalog_forget(eg_catalog *c, const char *collection, eg_error *err) {
    pthread_mutex_lock(&c->lock);
    eg_status st = EG_OK;
    json_t *aliases = json_copy(c->aliases), *layouts = json_copy(c->layouts);
    bool changed = layouts && json_object_del(layouts, collection) == 0;
    if (aliases && drop_aliases_of(aliases, collection)) changed = true;
    if (changed || !aliases || !layouts) {
        st = commit(c, aliases, layouts, err);
    } else {
        json_decref(aliases);
        json_decref(layouts);
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}

static bool collection_exists(eg_vectors *vectors, const char *name) {
    eg_collection_info info;
    bool exists = eg_vectors_get_collection(vectors, name, &info, NULL) == EG_OK;
    if (exists) eg_collection_info_clear(&info);
    return exists;
}

/* One action on the candidate aliases. */
static eg_status apply_action(json_t *aliases, eg_vectors *vectors, const eg_alias_action *a, unsigned *http_status,
                              eg_error *err) {
    switch (a->kind) {
    case EG_ALIAS_CREATE:
        if (!collection_exists(vectors, a->collection)) {
            *http_status = 404;
            return eg_error_set(err, EG_NOT_FOUND, "Not found: Collection `%s` doesn't exist!", a->collection);
        }
        if (collection_exists(vectors, a->alias)) {
            *http_status = 409;
            return eg_error_set(err, EG_CONFLICT, "Wrong input: Collection `%s` already exists!", a->alias);
        }
        return json_object_set_new(aliases, a->alias, json_string(a->collection)) == 0
                   ? EG_OK
                   : eg_error_set(err, EG_INTERNAL, "out of memory");
    case EG_ALIAS_DELETE:
        json_object_del(aliases, a->alias);
        return EG_OK;
    case EG_ALIAS_RENAME: {
        json_t *target = json_incref(json_object_get(aliases, a->alias));
        if (!target) {
            *http_status = 404;
            return eg_error_set(err, EG_NOT_FOUND, "Not found: Alias %s does not exists!", a->alias);
        }
        json_object_del(aliases, a->alias);
        return json_object_set_new(aliases, a->new_alias, target) == 0 ? EG_OK
                                                                      : eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    }
    return eg_error_set(err, EG_INTERNAL, "unknown alias action %d", (int)a->kind);
}

eg_status eg_catalog_update_aliases(eg_catalog *c, eg_vectors *vectors, const eg_alias_action *actions, size_t count,
                                    unsigned *http_status, eg_error *err) {
    pthread_mutex_lock(&c->lock);
    json_t *aliases = json_copy(c->aliases);
    eg_status st = aliases ? EG_OK : eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < count && st == EG_OK; i++) st = apply_action(aliases, vectors, &actions[i], http_status, err);
    if (st == EG_OK) {
        st = commit(c, aliases, json_incref(c->layouts), err);
    } else {
        json_decref(aliases);
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}

static int by_alias(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *eg_catalog_aliases_json(eg_catalog *c, const char *collection) {
    pthread_mutex_lock(&c->lock);
    size_t n = json_object_size(c->aliases), used = 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    json_t *list = json_array(), *target;
    const char *alias;
    if (names && list) {
        json_object_foreach(c->aliases, alias, target) {
            if (!collection || strcmp(json_string_value(target), collection) == 0) names[used++] = alias;
        }
        qsort(names, used, sizeof *names, by_alias);
        for (size_t i = 0; list && i < used; i++) {
            json_t *item = json_pack("{s:s, s:s}", "alias_name", names[i], "collection_name",
                                     json_string_value(json_object_get(c->aliases, names[i])));
            if (json_array_append_new(list, item) != 0) {
                json_decref(list);
                list = NULL;
            }
        }
    } else {
        json_decref(list);
        list = NULL;
    }
    free(names);
    pthread_mutex_unlock(&c->lock);
    return list;
}
