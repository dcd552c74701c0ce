/* vocabulary.c — names and codes of labels and relationship types (see engram/graph.h), and the graph schemas.
 *
 * The original system's names have fixed codes. Any other plain identifier is interned on first parse: appended
 * to a process-wide table whose index (after the fixed codes) is its code. Codes therefore only mean something
 * within one process; stores keep names (the embedded backend maps them to its own one-byte codes,
 * lmdb_vocabulary.c). Entries are never removed, so a code handed out stays valid and its name never moves:
 * readers find a name by code without a lock (the count is published after the name is written), and only
 * interning takes the mutex. */
#include "graph/graph_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static const char *const label_names[EG_LABEL_COUNT] = {"Episode", "Entity", "Procedure"};

static const char *const rel_type_names[EG_REL_TYPE_COUNT] = {
    "USES",         "PRODUCES",       "REQUIRES",          "CAUSES",       "PART_OF",         "SIMILAR_TO",
    "IMPLEMENTS",   "IMPROVES_ON",    "CONSOLIDATED_INTO", "SOURCE_OF",    "RELATES_TO",      "HAS_CONTEXT",
    "DERIVED_FROM", "SUPERSEDES",     "DEPENDS_ON",        "TEMPORAL_BEFORE", "TEMPORAL_AFTER",
};

typedef struct open_names {
    pthread_mutex_t lock;
    _Atomic size_t count;
    char names[EG_OPEN_NAMES_MAX][EG_NAME_MAX + 1];
} open_names;

static open_names open_labels = {.lock = PTHREAD_MUTEX_INITIALIZER};
static open_names open_types = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A plain identifier: what Cypher accepts unquoted, so a name never needs quoting wherever it is written. */
static bool is_plain_identifier(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > EG_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

static const char *name_of(const char *const *fixed, int fixed_count, open_names *open, int code) {
    if (code >= 0 && code < fixed_count) return fixed[code];
    size_t index = (size_t)code - (size_t)fixed_count;
    if (code < 0 || index >= atomic_load_explicit(&open->count, memory_order_acquire)) return "?";
    return open->names[index];
}

static eg_status parse_name(const char *kind, const char *const *fixed, int fixed_count, open_names *open,
                            const char *name, int *out, eg_error *err) {
    for (int i = 0; name && i < fixed_count; i++)
        if (strcmp(name, fixed[i]) == 0) {
            *out = i;
            return EG_OK;
        }
    if (!name || !is_plain_identifier(name)) {
        char q[256];
        eg_quote_for_message(name ? name : "", q, sizeof q);
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "invalid %s '%s': a name is 1 to %d letters, digits or _, not starting with a digit", kind,
                            q, EG_NAME_MAX);
    }
    pthread_mutex_lock(&open->lock);
    size_t count = atomic_load_explicit(&open->count, memory_order_relaxed), i = 0;
    while (i < count && strcmp(open->names[i], name) != 0) i++;
    eg_status st = EG_OK;
    if (i == count) {
        if (count == EG_OPEN_NAMES_MAX)
            st = eg_error_set(err, EG_CONFLICT, "more than %d distinct %s names in one process", EG_OPEN_NAMES_MAX,
                              kind);
        else {
            strcpy(open->names[count], name);
            atomic_store_explicit(&open->count, count + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&open->lock);
    if (st == EG_OK) *out = fixed_count + (int)i;
    return st;
}

const char *eg_label_name(eg_label label) { return name_of(label_names, EG_LABEL_COUNT, &open_labels, (int)label); }

eg_status eg_label_parse(const char *name, eg_label *out, eg_error *err) {
    int code;
    eg_status st = parse_name("node label", label_names, EG_LABEL_COUNT, &open_labels, name, &code, err);
    if (st == EG_OK) *out = (eg_label)code;
    return st;
}

const char *eg_rel_type_name(eg_rel_type type) {
    return name_of(rel_type_names, EG_REL_TYPE_COUNT, &open_types, (int)type);
}

eg_status eg_rel_type_parse(const char *name, eg_rel_type *out, eg_error *err) {
    int code;
    eg_status st = parse_name("relationship type", rel_type_names, EG_REL_TYPE_COUNT, &open_types, name, &code, err);
    if (st == EG_OK) *out = (eg_rel_type)code;
    return st;
}

bool eg_label_is_known(eg_label label) {
    return label >= 0 && (size_t)label < EG_LABEL_COUNT + atomic_load_explicit(&open_labels.count, memory_order_acquire);
}

bool eg_rel_type_is_known(eg_rel_type type) {
    return type >= 0 &&
           (size_t)type < EG_REL_TYPE_COUNT + atomic_load_explicit(&open_types.count, memory_order_acquire);
}

static const char *const schema_names[] = {"t4dm", "open"};

const char *eg_graph_schema_name(eg_graph_schema schema) {
    return schema == EG_SCHEMA_OPEN ? schema_names[1] : schema_names[0];
}

eg_status eg_graph_schema_parse(const char *name, eg_graph_schema *out, eg_error *err) {
    for (int i = 0; name && i < 2; i++)
        if (strcmp(name, schema_names[i]) == 0) {
            *out = (eg_graph_schema)i;
            return EG_OK;
        }
    char q[256];
    eg_quote_for_message(name ? name : "", q, sizeof q);
    return eg_error_set(err, EG_INVALID_ARGUMENT, "invalid graph schema '%s': must be t4dm or open", q);
}
