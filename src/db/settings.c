/* settings.c — the table of engram's tunables, the reading of DATA/engram.conf and of per-process overrides
 * (see engram/settings.h, the contract, and docs/settings.md). */
#include <engram/settings.h>

#include "util/files.h"
#include "util/quote.h"
#include "util/sanitize.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum setting_type { SETTING_INT, SETTING_WORD, SETTING_TEXT } setting_type;

#define TEXT_MAX 1023 /* bytes of a text setting (a folder path) */

typedef struct setting_def {
    const char *name;
    setting_type type;
    int64_t min, max, int_default; /* SETTING_INT */
    const char *const *words;      /* SETTING_WORD: the allowed words, NULL-terminated; the first is default */
    const char *text_default;      /* SETTING_TEXT */
    bool secret;                   /* SETTING_TEXT: listings say whether it is set, never what it is */
    bool url;                      /* SETTING_TEXT: listings hide the user information of the URL */
    bool may_be_empty;             /* SETTING_TEXT: an empty value means something (a server turned off) */
    const char *description;
} setting_def;

static const char *const write_policies[] = {"fail", "queue", NULL};
static const char *const durabilities[] = {"group", "fsync", "none", NULL};
static const char *const vector_backends[] = {"lmdb", "qdrant", NULL};
static const char *const graph_schemas[] = {"t4dm", "open", NULL};
static const char *const graph_backends[] = {"lmdb", "neo4j", NULL};

#define INT_SETTING(n, lo, hi, def, text)                                                                             \
    {.name = n, .type = SETTING_INT, .min = lo, .max = hi, .int_default = def, .description = text}
#define WORD_SETTING(n, list, text) {.name = n, .type = SETTING_WORD, .words = list, .description = text}
#define TEXT_SETTING(n, def, text) {.name = n, .type = SETTING_TEXT, .text_default = def, .description = text}
#define URL_SETTING(n, def, text)                                                                                     \
    {.name = n, .type = SETTING_TEXT, .text_default = def, .url = true, .description = text}
/* An address whose empty value turns its server off. */
#define OFF_WHEN_EMPTY_SETTING(n, def, text)                                                                          \
    {.name = n, .type = SETTING_TEXT, .text_default = def, .may_be_empty = true, .description = text}
#define SECRET_SETTING(n, text) {.name = n, .type = SETTING_TEXT, .text_default = "", .secret = true, .description = text}

static const setting_def settings_table[] = {
    INT_SETTING("breaker.failure_threshold", 1, 1000000, 5,
                "consecutive infrastructure failures that open a store's circuit breaker"),
    INT_SETTING("breaker.success_threshold", 1, 1000000, 2, "successful probes that close a half-open breaker"),
    INT_SETTING("breaker.reset_timeout_ms", 1, 86400000, 60000, "how long a breaker stays open before a probe"),
    INT_SETTING("breaker.half_open_max_calls", 1, 1000, 1, "probes allowed at once in half-open"),
    WORD_SETTING("degrade.write_policy", write_policies, "what a memory write does when a store is unavailable"),
    INT_SETTING("degrade.cache_entries", 0, 10000000, 1000,
                "read results kept for the fallback cache; 0 disables it"),
    INT_SETTING("degrade.queue_max", 1, 100000000, 10000, "writes the durable queue may hold per store"),
    WORD_SETTING("durability", durabilities, "when an acknowledged write is on disk"),
    INT_SETTING("saga.step_timeout_ms", 1, 86400000, 60000, "a saga step slower than this is treated as failed"),
    INT_SETTING("saga.compensation_attempts", 1, 100, 3, "attempts at each compensation before a dead letter"),
    TEXT_SETTING("archive.path", "archive", "the cold archive's folder: relative to the data folder, or absolute"),
    INT_SETTING("archive.retention_days", 1, 36500, 1825, "cleanup_archive removes entries archived longer ago"),
    INT_SETTING("vectors.index_threads", 0, 256, 0,
                "threads that build a collection's HNSW index; 0: one per CPU"),
    WORD_SETTING("graph.schema", graph_schemas,
                 "labels and relationship types the graph accepts: t4dm (the original's 3 and 17) or open (any "
                 "identifier of at most 64 characters)"),
    WORD_SETTING("graph.backend", graph_backends,
                 "where the graph is kept: lmdb (DATA/graph) or neo4j (a Neo4j server, or engram serve --bolt, at "
                 "graph.uri)"),
    URL_SETTING("graph.uri", "bolt://localhost:7687",
                "the Neo4j backend: bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s:// or neo4j+ssc:// HOST[:PORT]"),
    TEXT_SETTING("graph.user", "neo4j", "the Neo4j backend: the user it logs in as; empty: no authentication"),
    SECRET_SETTING("graph.password", "the Neo4j backend: the password; empty: $ENGRAM_NEO4J_PASSWORD, else none"),
    TEXT_SETTING("graph.database", "", "the Neo4j backend: the database; empty: the server's default"),
    TEXT_SETTING("graph.ca_file", "", "the Neo4j backend: a PEM file of certificates to trust for +s schemes"),
    INT_SETTING("graph.max_connections", 1, 10000, 50, "the Neo4j backend: connections in the pool at most"),
    INT_SETTING("graph.acquisition_timeout_ms", 1, 86400000, 30000,
                "the Neo4j backend: the longest a call waits for a connection of the pool"),
    INT_SETTING("graph.max_lifetime_ms", 1, 86400000, 3600000,
                "the Neo4j backend: a connection older than this is closed instead of reused"),
    INT_SETTING("graph.timeout_ms", 1, 86400000, 30000, "the Neo4j backend: the time allowed for one request"),
    WORD_SETTING("vectors.backend", vector_backends,
                 "where the vectors are kept: lmdb (DATA/vectors) or qdrant (a Qdrant server at vectors.url)"),
    URL_SETTING("vectors.url", "http://localhost:6333", "the Qdrant backend: the server's URL, http:// or https://"),
    SECRET_SETTING("vectors.api_key",
                   "the Qdrant backend: the api-key header; empty: $ENGRAM_QDRANT_API_KEY, else none"),
    TEXT_SETTING("vectors.ca_file", "", "the Qdrant backend: a PEM file of certificates to trust for https"),
    INT_SETTING("vectors.timeout_ms", 1, 86400000, 30000, "the Qdrant backend: the time allowed for one request"),
    INT_SETTING("vectors.batch_size", 1, 10000, 100, "the Qdrant backend: points per upsert request"),
    INT_SETTING("vectors.max_concurrency", 1, 256, 10, "the Qdrant backend: requests in flight at most"),
    TEXT_SETTING("vectors.collection_prefix", "",
                 "the Qdrant backend: prepended to collection names on the server (ww_: the original's)"),
    INT_SETTING("vectors.shard_number", 1, 1024, 1, "the Qdrant backend: shards of a collection it creates"),
    INT_SETTING("vectors.replication_factor", 1, 100, 1, "the Qdrant backend: replicas of a collection it creates"),
    INT_SETTING("vectors.write_consistency_factor", 1, 100, 1,
                "the Qdrant backend: replicas that acknowledge a write, for a collection it creates"),
    OFF_WHEN_EMPTY_SETTING("serve.http", "127.0.0.1:6333",
                 "engram serve: the HTTP address, HOST:PORT ([::1]:PORT for IPv6); empty: none (Bolt only)"),
    SECRET_SETTING("serve.api_key", "engram serve: the key every route but the health probes requires; empty: none"),
    INT_SETTING("serve.threads", 1, 1024, 16, "engram serve: threads that answer requests"),
    INT_SETTING("serve.max_body_bytes", 1024, 1073741824, 33554432, "engram serve: bytes in one request body"),
    INT_SETTING("serve.max_connections", 1, 100000, 1024, "engram serve: connections open at once"),
    INT_SETTING("serve.idle_timeout_ms", 1000, 86400000, 60000,
                "engram serve: a connection idle this long is closed (whole seconds, rounded up)"),
    OFF_WHEN_EMPTY_SETTING("serve.bolt", "127.0.0.1:7687",
                 "engram serve: the Bolt (Neo4j protocol) address, HOST:PORT ([::1]:PORT for IPv6); empty: none"),
    TEXT_SETTING("serve.bolt_user", "neo4j", "engram serve: the user Bolt clients log in as (basic scheme)"),
    SECRET_SETTING("serve.bolt_password",
                   "engram serve: the Bolt password; empty: $ENGRAM_BOLT_PASSWORD, else none (loopback clients only)"),
    INT_SETTING("serve.bolt_tx_timeout_ms", 0, 86400000, 60000,
                "engram serve: the longest a Bolt transaction stays open before it is rolled back; 0: no bound"),
};

#define SETTING_COUNT (sizeof settings_table / sizeof settings_table[0])

typedef enum setting_source { SOURCE_DEFAULT, SOURCE_FILE, SOURCE_OVERRIDE } setting_source;

static const char *const source_names[] = {"default", "file", "override"};

/* One parsed value: the integer, the index of the word in its list, or the text. */
typedef struct setting_value {
    int64_t number;
    size_t word;
    char text[TEXT_MAX + 1];
} setting_value;

struct eg_settings {
    setting_value values[SETTING_COUNT];
    setting_source sources[SETTING_COUNT];
    int file_lines[SETTING_COUNT]; /* the line of engram.conf that set it, 0 if none: catches a second one */
};

static const setting_def *find_setting(const char *name) {
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if (strcmp(settings_table[i].name, name) == 0) return &settings_table[i];
    return NULL;
}

#define SUGGEST_NAME_MAX 64 /* longer unknown names get no suggestion: they are nowhere near a known one */
#define SUGGEST_DISTANCE_MAX 3

/* Levenshtein distance between a and b (both at most SUGGEST_NAME_MAX bytes), one row at a time. */
static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen) {
    size_t row[SUGGEST_NAME_MAX + 1];
    for (size_t j = 0; j <= blen; j++) row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best) best = above + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[blen];
}

/* The known name closest to an unknown one, or NULL when none is close. A name is also compared without its
 * group ("failure_threshold" for "breaker.failure_threshold"), since leaving the group out is a likely slip. */
static const char *closest_name(const char *name) {
    size_t len = strlen(name), best_distance = SUGGEST_DISTANCE_MAX + 1;
    const char *best = NULL;
    if (len > SUGGEST_NAME_MAX) return NULL;
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const char *full = settings_table[i].name, *dot = strchr(full, '.');
        size_t d = edit_distance(name, len, full, strlen(full));
        if (dot) {
            size_t short_d = edit_distance(name, len, dot + 1, strlen(dot + 1));
            if (short_d < d) d = short_d;
        }
        if (d < best_distance) {
            best_distance = d;
            best = full;
        }
    }
    return best;
}

static eg_status unknown_setting(const char *name, eg_error *err) {
    char quoted[EG_ERROR_MESSAGE_MAX / 4];
    eg_quote_for_message(name, quoted, sizeof quoted);
    const char *suggestion = closest_name(name);
    if (suggestion)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "unknown setting '%s'; did you mean '%s'?", quoted, suggestion);
    return eg_error_set(err, EG_INVALID_ARGUMENT, "unknown setting '%s'", quoted);
}

/* Parses value (decimal, optional '-') into *out. A number too large for int64_t saturates: it is then out of
 * every range, which is the message the operator needs. */
static bool parse_integer(const char *value, int64_t *out) {
    const char *p = value;
    bool negative = *p == '-';
    if (negative) p++;
    if (!*p) return false;
    uint64_t magnitude = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        unsigned digit = (unsigned)(*p - '0');
        magnitude = magnitude > (UINT64_MAX - digit) / 10 ? UINT64_MAX : magnitude * 10 + digit;
    }
    if (magnitude > (uint64_t)INT64_MAX) *out = negative ? INT64_MIN : INT64_MAX;
    else *out = negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return true;
}

/* Checks value against def and parses it into *out. Messages name the setting, not the place: callers prefix. */
static eg_status parse_value(const setting_def *def, const char *value, setting_value *out, eg_error *err) {
    char quoted[EG_ERROR_MESSAGE_MAX / 4];
    eg_quote_for_message(value, quoted, sizeof quoted);
    if (!*value && !def->may_be_empty) return eg_error_set(err, EG_INVALID_ARGUMENT, "%s has no value", def->name);
    if (def->type == SETTING_INT) {
        int64_t n;
        if (!parse_integer(value, &n))
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s = '%s' is not an integer", def->name, quoted);
        if (n < def->min || n > def->max)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s = %s is out of range %" PRId64 "..%" PRId64, def->name,
                                quoted, def->min, def->max);
        out->number = n;
        return EG_OK;
    }
    if (def->type == SETTING_TEXT) {
        if (strlen(value) > TEXT_MAX)
            return eg_error_set(err, EG_INVALID_ARGUMENT, "%s is longer than %d bytes", def->name, TEXT_MAX);
        snprintf(out->text, sizeof out->text, "%s", value);
        return EG_OK;
    }
    char allowed[128] = "";
    for (size_t i = 0; def->words[i]; i++) {
        if (strcmp(value, def->words[i]) == 0) {
            out->word = i;
            return EG_OK;
        }
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", def->words[i]);
    }
    return eg_error_set(err, EG_INVALID_ARGUMENT, "%s = '%s' must be one of %s", def->name, quoted, allowed);
}

static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Cuts [start, end) down to its non-blank middle, NUL-terminating it in place; returns its start. */
static char *trim(char *start, char *end) {
    while (start < end && is_blank(*start)) start++;
    while (end > start && is_blank(end[-1])) end--;
    *end = '\0';
    return start;
}

/* Splits the assignment text (modified in place) at its first '=' into a trimmed name and value. False when
 * there is no '=' or no name. */
static bool split_assignment(char *text, char **name, char **value) {
    char *equals = strchr(text, '=');
    if (!equals) return false;
    *value = trim(equals + 1, equals + strlen(equals));
    *name = trim(text, equals);
    return **name != '\0';
}

/* Validates one override "NAME=VALUE"; on success tells which setting and what value. */
static eg_status check_override(const char *assignment, const setting_def **def, setting_value *value,
                                eg_error *err) {
    char *copy = strdup(assignment), *name, *text;
    if (!copy) return eg_error_set(err, EG_INTERNAL, "out of memory");
    eg_status st = EG_OK;
    if (!split_assignment(copy, &name, &text)) {
        char quoted[EG_ERROR_MESSAGE_MAX / 4];
        eg_quote_for_message(assignment, quoted, sizeof quoted);
        st = eg_error_set(err, EG_INVALID_ARGUMENT, "override '%s': expected NAME=VALUE", quoted);
    } else if (!(*def = find_setting(name))) {
        st = eg_error_prefix(err, unknown_setting(name, err), "override: ");
    } else {
        st = eg_error_prefix(err, parse_value(*def, text, value, err), "override: ");
    }
    free(copy);
    return st;
}

eg_status eg_settings_validate_override(const char *assignment, eg_error *err) {
    if (!assignment) return eg_error_set(err, EG_INVALID_ARGUMENT, "override is NULL");
    const setting_def *def;
    setting_value value;
    return check_override(assignment, &def, &value, err);
}

static size_t index_of(const setting_def *def) {
    return (size_t)(def - settings_table);
}

/* Applies the text of engram.conf (len bytes, modified in place) to s. */
static eg_status apply_file(eg_settings *s, char *text, size_t len, eg_error *err) {
    static const char bom[] = "\xEF\xBB\xBF";
    char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, bom, 3) == 0) p += 3;
    for (int line = 1; p < end; line++) {
        char *newline = memchr(p, '\n', (size_t)(end - p)), *line_end = newline ? newline : end;
        if (memchr(p, '\0', (size_t)(line_end - p)))
            return eg_error_set(err, EG_INVALID_ARGUMENT, EG_SETTINGS_FILE " line %d: contains a NUL byte", line);
        char *content = trim(p, line_end), *name, *value;
        p = newline ? newline + 1 : end;
        if (!*content || *content == '#') continue;
        if (!split_assignment(content, &name, &value))
            return eg_error_set(err, EG_INVALID_ARGUMENT, EG_SETTINGS_FILE " line %d: expected name = value", line);
        const setting_def *def = find_setting(name);
        if (!def) return eg_error_prefix(err, unknown_setting(name, err), EG_SETTINGS_FILE " line %d: ", line);
        size_t i = index_of(def);
        if (s->file_lines[i])
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                EG_SETTINGS_FILE " line %d: %s is set again (first on line %d)", line, def->name,
                                s->file_lines[i]);
        eg_status st = parse_value(def, value, &s->values[i], err);
        if (st) return eg_error_prefix(err, st, EG_SETTINGS_FILE " line %d: ", line);
        s->sources[i] = SOURCE_FILE;
        s->file_lines[i] = line;
    }
    return EG_OK;
}

/* Reads DATA/engram.conf, if it exists, into s. */
static eg_status read_file(eg_settings *s, const char *data_dir, eg_error *err) {
    char path[4096];
    eg_status st = eg_path_join(path, sizeof path, data_dir, EG_SETTINGS_FILE, err);
    if (st) return st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        /* A data folder that does not exist yet gives ENOENT as well: it has no settings file either. */
        if (errno == ENOENT) return EG_OK;
        return eg_error_set(err, EG_IO, "cannot open " EG_SETTINGS_FILE ": %s", strerror(errno));
    }
    /* One byte more than the limit tells a file at the limit from a larger one. */
    char *text = malloc(EG_SETTINGS_FILE_MAX + 1);
    if (!text) {
        fclose(f);
        return eg_error_set(err, EG_INTERNAL, "out of memory");
    }
    size_t len = fread(text, 1, EG_SETTINGS_FILE_MAX + 1, f);
    if (ferror(f))
        st = eg_error_set(err, EG_IO, "cannot read " EG_SETTINGS_FILE ": %s", strerror(errno));
    else if (len > EG_SETTINGS_FILE_MAX)
        st = eg_error_set(err, EG_INVALID_ARGUMENT, EG_SETTINGS_FILE " is larger than %u bytes",
                          EG_SETTINGS_FILE_MAX);
    else
        st = apply_file(s, text, len, err);
    fclose(f);
    free(text);
    return st;
}

eg_status eg_settings_load(const char *data_dir, const char *const *overrides, size_t override_count,
                           eg_settings **out, eg_error *err) {
    if (!out || (override_count && !overrides))
        return eg_error_set(err, EG_INVALID_ARGUMENT, "eg_settings_load: out or overrides is NULL");
    eg_settings *s = calloc(1, sizeof *s);
    if (!s) return eg_error_set(err, EG_INTERNAL, "out of memory");
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        s->values[i].number = settings_table[i].int_default;
        if (settings_table[i].text_default)
            snprintf(s->values[i].text, sizeof s->values[i].text, "%s", settings_table[i].text_default);
    }
    eg_status st = data_dir ? read_file(s, data_dir, err) : EG_OK;
    for (size_t o = 0; st == EG_OK && o < override_count; o++) {
        const setting_def *def;
        setting_value value;
        st = overrides[o] ? check_override(overrides[o], &def, &value, err)
                          : eg_error_set(err, EG_INVALID_ARGUMENT, "override is NULL");
        if (st == EG_OK) {
            s->values[index_of(def)] = value;
            s->sources[index_of(def)] = SOURCE_OVERRIDE;
        }
    }
    if (st) {
        free(s);
        return st;
    }
    *out = s;
    return EG_OK;
}

/* The table entry a getter asks for; anything else is a bug in the caller (see settings.h). */
static size_t checked_index(const char *name, setting_type type, const char *getter) {
    const setting_def *def = name ? find_setting(name) : NULL;
    if (!def || def->type != type) {
        fprintf(stderr, "engram: %s: '%s' is not %s setting (a bug in the caller)\n", getter,
                name ? name : "(null)", type == SETTING_INT ? "an integer" : type == SETTING_WORD ? "a word" : "a text");
        abort();
    }
    return index_of(def);
}

int64_t eg_settings_int(const eg_settings *s, const char *name) {
    return s->values[checked_index(name, SETTING_INT, "eg_settings_int")].number;
}

const char *eg_settings_word(const eg_settings *s, const char *name) {
    size_t i = checked_index(name, SETTING_WORD, "eg_settings_word");
    return settings_table[i].words[s->values[i].word];
}

const char *eg_settings_text(const eg_settings *s, const char *name) {
    return s->values[checked_index(name, SETTING_TEXT, "eg_settings_text")].text;
}

/* A setting's value (or default) as JSON: an integer, or a word. */
static json_t *value_json(const setting_def *def, const setting_value *value) {
    if (def->secret) return json_string(value->text[0] ? "(set)" : "");
    if (def->url) {
        char shown[TEXT_MAX + 1];
        eg_sanitize_message(value->text, shown, sizeof shown);
        return json_string(shown);
    }
    if (def->type == SETTING_TEXT) return json_string(value->text);
    return def->type == SETTING_INT ? json_integer(value->number) : json_string(def->words[value->word]);
}

static json_t *setting_json(const eg_settings *s, size_t i) {
    const setting_def *def = &settings_table[i];
    char allowed[128] = "";
    if (def->type == SETTING_INT) {
        snprintf(allowed, sizeof allowed, "%" PRId64 "..%" PRId64, def->min, def->max);
    } else if (def->type == SETTING_TEXT) {
        snprintf(allowed, sizeof allowed, "text");
    } else {
        for (size_t w = 0; def->words[w]; w++) {
            size_t used = strlen(allowed);
            snprintf(allowed + used, sizeof allowed - used, "%s%s", w ? "|" : "", def->words[w]);
        }
    }
    json_t *fallback = def->type == SETTING_INT    ? json_integer(def->int_default)
                       : def->type == SETTING_WORD ? json_string(def->words[0])
                                                   : json_string(def->text_default);
    return json_pack("{s:s, s:o, s:o, s:s, s:s, s:s}", "name", def->name, "value", value_json(def, &s->values[i]),
                     "default", fallback, "source", source_names[s->sources[i]], "description", def->description,
                     "allowed", allowed);
}

eg_status eg_settings_list(const eg_settings *s, json_t **out, eg_error *err) {
    json_t *list = json_array();
    for (size_t i = 0; list && i < SETTING_COUNT; i++) {
        json_t *entry = setting_json(s, i);
        if (!entry || json_array_append_new(list, entry) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!list) return eg_error_set(err, EG_INTERNAL, "out of memory");
    *out = list;
    return EG_OK;
}

void eg_settings_free(eg_settings *s) {
    free(s);
}
