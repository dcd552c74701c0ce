/* tools_memory.c — engram's own tools: memories (remember, recall, forget), links (relate, find_path), the cold
 * archive (archive, restore) and health, each one or a few of engram's operations (docs/operations.md). Unlike the
 * reference's tools these refuse an argument they do not know, so that a misspelt one is not silently ignored. */
#include "mcp/tools_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const MEMORY_TYPES[] = {"episode", "entity", "procedure"};
#define MEMORY_TYPE_COUNT 3

/* ---- arguments ---- */

static bool check_known(json_t *arguments, const char *const *known, eg_mcp_tool_result *out) {
    const char *key;
    json_t *value;
    json_object_foreach(arguments, key, value) {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++) found = strcmp(known[i], key) == 0;
        if (!found) {
            eg_mcp_fail(out, "invalid argument %s: not an argument of this tool", key);
            return false;
        }
    }
    return true;
}

static bool string_arg(json_t *arguments, const char *key, bool required, const char **value,
                       eg_mcp_tool_result *out) {
    json_t *v = json_object_get(arguments, key);
    *value = json_string_value(v);
    if (*value || (!v && !required)) return true;
    eg_mcp_fail(out, "invalid argument %s: expected a string, got %s", key, eg_mcp_type_name(v));
    return false;
}

static bool int_arg(json_t *arguments, const char *key, json_int_t min, json_int_t max, json_int_t *value,
                    eg_mcp_tool_result *out) {
    json_t *v = json_object_get(arguments, key);
    if (!v) return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        eg_mcp_fail(out, "invalid argument %s: expected an integer from %lld to %lld", key, (long long)min,
                    (long long)max);
        return false;
    }
    *value = json_integer_value(v);
    return true;
}

static bool vector_arg(json_t *arguments, json_t **vector, eg_mcp_tool_result *out) {
    *vector = json_object_get(arguments, "vector");
    if (!*vector) return true;
    bool ok = json_array_size(*vector) > 0;
    size_t i;
    json_t *x;
    json_array_foreach(*vector, i, x) ok = ok && json_is_number(x);
    if (!ok) eg_mcp_fail(out, "invalid argument vector: expected a non-empty array of numbers");
    return ok;
}

/* type: one of the memory types, or absent (*type NULL) when optional. */
static bool type_arg(json_t *arguments, bool required, const char **type, eg_mcp_tool_result *out) {
    if (!string_arg(arguments, "type", required, type, out)) return false;
    if (!*type) return true;
    for (size_t i = 0; i < MEMORY_TYPE_COUNT; i++)
        if (strcmp(*type, MEMORY_TYPES[i]) == 0) return true;
    eg_mcp_fail(out, "invalid argument type: expected episode, entity or procedure");
    return false;
}

/* The result of a request, or NULL after making out the failure (false from the caller when *nomem). */
static json_t *request(const eg_mcp_backend *backend, json_t *req, eg_mcp_tool_result *out, char code[32],
                       bool *nomem) {
    json_t *result;
    eg_mcp_req_status st = eg_mcp_request(backend, req, &result, out, code);
    *nomem = st == EG_MCP_REQ_NOMEM;
    return st == EG_MCP_REQ_OK ? result : NULL;
}

/* ---- remember ---- */

bool eg_mcp_remember(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const known[] = {"text", "type", "session", "vector", "relations", NULL};
    const char *text, *type, *session;
    json_t *vector, *relations = json_object_get(arguments, "relations");
    if (!check_known(arguments, known, out) || !string_arg(arguments, "text", true, &text, out) ||
        !type_arg(arguments, false, &type, out) || !string_arg(arguments, "session", false, &session, out) ||
        !vector_arg(arguments, &vector, out))
        return eg_mcp_failed(out);
    if (!type) type = "episode";
    json_t *links = json_array();
    if (!links) return false;
    if (relations && !json_is_array(relations)) {
        json_decref(links);
        return eg_mcp_fail(out, "invalid argument relations: expected an array, got %s", eg_mcp_type_name(relations));
    }
    size_t i;
    json_t *r;
    json_array_foreach(relations, i, r) {
        json_t *target = json_object_get(r, "target"), *rel_type = json_object_get(r, "type");
        if (!json_is_object(r) || !json_is_string(target) || !json_is_string(rel_type)) {
            json_decref(links);
            return eg_mcp_fail(out, "invalid argument relations[%zu]: expected {\"target\": string, \"type\": string}",
                               i);
        }
        if (json_array_append_new(links, json_pack("{s:O, s:O}", "target_id", target, "type", rel_type))) {
            json_decref(links);
            return false;
        }
    }
    char op[32];
    snprintf(op, sizeof op, "create_%s", type);
    /* The text is kept in the vector's payload and on the node, so that recall and the graph show it. */
    json_t *req = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o}", "op", op, "payload", "text", text, "properties", "text",
                            text, "relationships", links);
    json_t *embedded = vector ? vector : json_object_get(arguments, "text");
    if (!req || json_object_set(req, vector ? "vector" : "text", embedded) ||
        (session && json_object_set_new(req, "session_id", json_string(session)))) {
        json_decref(req);
        return false;
    }
    bool nomem;
    json_t *result = request(backend, req, out, NULL, &nomem);
    if (!result) return !nomem;
    json_t *answer = json_pack("{s:O, s:s}", "id", json_object_get(result, "id"), "type", type);
    json_decref(result);
    return eg_mcp_answer(out, answer);
}

/* ---- recall ---- */

static double score_of(json_t *memory) { return json_number_value(json_object_get(memory, "score")); }

static int by_score(const void *a, const void *b) {
    double x = score_of(*(json_t *const *)a), y = score_of(*(json_t *const *)b);
    return x < y ? 1 : x > y ? -1 : 0;
}

bool eg_mcp_recall(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const known[] = {"text", "vector", "type", "limit", "filter", "session", "expand", NULL};
    const char *text, *type, *session;
    json_t *vector, *filter = json_object_get(arguments, "filter");
    json_int_t limit = 10, expand = 1;
    if (!check_known(arguments, known, out) || !string_arg(arguments, "text", false, &text, out) ||
        !vector_arg(arguments, &vector, out) || !type_arg(arguments, false, &type, out) ||
        !string_arg(arguments, "session", false, &session, out) || !int_arg(arguments, "limit", 1, 1000, &limit, out) ||
        !int_arg(arguments, "expand", 0, 2, &expand, out))
        return eg_mcp_failed(out);
    if (!text == !vector) return eg_mcp_fail(out, "invalid argument text: give exactly one of text and vector");
    if (filter && !json_is_object(filter))
        return eg_mcp_fail(out, "invalid argument filter: expected an object, got %s", eg_mcp_type_name(filter));
    json_t *memories = json_array();
    if (!memories) return false;
    /* Every type when none is named: each is searched and the hits merged by score. */
    for (size_t t = 0; t < MEMORY_TYPE_COUNT; t++) {
        if (type && strcmp(type, MEMORY_TYPES[t]) != 0) continue;
        json_t *req = json_pack("{s:s, s:s, s:O, s:I, s:I}", "op", "recall", "type", MEMORY_TYPES[t],
                                vector ? "vector" : "text", vector ? vector : json_object_get(arguments, "text"),
                                "limit", limit, "expand", expand);
        if (req && ((filter && json_object_set(req, "filter", filter)) ||
                    (session && json_object_set_new(req, "session_id", json_string(session))))) {
            json_decref(req);
            req = NULL;
        }
        bool nomem;
        json_t *result = request(backend, req, out, NULL, &nomem);
        if (!result) {
            json_decref(memories);
            return !nomem;
        }
        size_t i;
        json_t *hit;
        json_array_foreach(json_object_get(result, "memories"), i, hit) {
            json_t *text_value = json_object_get(json_object_get(hit, "payload"), "text");
            json_t *m = json_pack("{s:O, s:s, s:O, s:O, s:O*, s:O, s:O}", "id", json_object_get(hit, "id"), "type",
                                  MEMORY_TYPES[t], "score", json_object_get(hit, "score"), "text",
                                  json_is_string(text_value) ? text_value : json_null(), "payload",
                                  json_object_get(hit, "payload"), "relationships",
                                  json_object_get(hit, "relationships"), "neighbors",
                                  json_object_get(hit, "neighbors"));
            if (!m || json_object_set(m, "node", json_object_get(hit, "node") ? json_object_get(hit, "node")
                                                                              : json_null()) ||
                json_array_append_new(memories, m)) {
                json_decref(result);
                json_decref(memories);
                return false;
            }
        }
        json_decref(result);
    }
    size_t n = json_array_size(memories);
    json_t **sorted = malloc((n ? n : 1) * sizeof *sorted);
    json_t *best = json_array();
    if (!sorted || !best) {
        free(sorted);
        json_decref(best);
        json_decref(memories);
        return false;
    }
    for (size_t i = 0; i < n; i++) sorted[i] = json_array_get(memories, i);
    qsort(sorted, n, sizeof *sorted, by_score);
    bool ok = true;
    for (size_t i = 0; ok && i < n && i < (size_t)limit; i++) ok = json_array_append(best, sorted[i]) == 0;
    free(sorted);
    json_decref(memories);
    if (!ok) {
        json_decref(best);
        return false;
    }
    return eg_mcp_answer(out, json_pack("{s:o}", "memories", best));
}

/* ---- forget, archive ---- */

/* Runs op on (id, type), or, with no type, on each type in turn until one holds the id. */
static bool on_memory(const eg_mcp_backend *backend, json_t *arguments, const char *op, eg_mcp_tool_result *out) {
    static const char *const known[] = {"id", "type", NULL};
    const char *id, *type;
    if (!check_known(arguments, known, out) || !string_arg(arguments, "id", true, &id, out) ||
        !type_arg(arguments, false, &type, out))
        return eg_mcp_failed(out);
    for (size_t t = 0; t < MEMORY_TYPE_COUNT; t++) {
        if (type && strcmp(type, MEMORY_TYPES[t]) != 0) continue;
        char code[32] = "";
        bool nomem;
        json_t *result =
            request(backend, json_pack("{s:s, s:s, s:s}", "op", op, "id", id, "type", MEMORY_TYPES[t]), out, code,
                    &nomem);
        if (result) {
            json_t *answer = json_pack("{s:O, s:s}", "id", json_object_get(result, "id"), "type", MEMORY_TYPES[t]);
            json_decref(result);
            return eg_mcp_answer(out, answer);
        }
        if (nomem) return false;
        if (type || strcmp(code, "not_found") != 0) return true;
        eg_mcp_tool_result_free(out);
    }
    return eg_mcp_fail(out, "no memory with id %s", id);
}

bool eg_mcp_forget(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    return on_memory(backend, arguments, "delete_memory", out);
}

bool eg_mcp_archive(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    return on_memory(backend, arguments, "archive_memory", out);
}

bool eg_mcp_restore(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const known[] = {"id", NULL};
    const char *id;
    if (!check_known(arguments, known, out) || !string_arg(arguments, "id", true, &id, out))
        return eg_mcp_failed(out);
    bool nomem;
    json_t *result = request(backend, json_pack("{s:s, s:s}", "op", "restore_archived", "id", id), out, NULL, &nomem);
    if (!result) return !nomem;
    return eg_mcp_answer(out, result);
}

/* ---- relate, find_path ---- */

bool eg_mcp_relate(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const known[] = {"source", "target", "type", "properties", NULL};
    const char *source, *target, *type;
    json_t *properties = json_object_get(arguments, "properties");
    if (!check_known(arguments, known, out) || !string_arg(arguments, "source", true, &source, out) ||
        !string_arg(arguments, "target", true, &target, out) || !string_arg(arguments, "type", true, &type, out))
        return eg_mcp_failed(out);
    if (properties && !json_is_object(properties))
        return eg_mcp_fail(out, "invalid argument properties: expected an object, got %s",
                           eg_mcp_type_name(properties));
    json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "op", "create_relationship", "source_id", source, "target_id",
                            target, "type", type);
    if (req && properties && json_object_set(req, "properties", properties)) {
        json_decref(req);
        req = NULL;
    }
    bool nomem;
    json_t *result = request(backend, req, out, NULL, &nomem);
    if (!result) return !nomem;
    json_decref(result);
    return eg_mcp_answer(out, json_pack("{s:s, s:s, s:s}", "source", source, "target", target, "type", type));
}

bool eg_mcp_find_path(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const known[] = {"source", "target", "max_depth", "types", NULL};
    const char *source, *target;
    json_int_t max_depth = 5;
    json_t *types = json_object_get(arguments, "types");
    if (!check_known(arguments, known, out) || !string_arg(arguments, "source", true, &source, out) ||
        !string_arg(arguments, "target", true, &target, out) ||
        !int_arg(arguments, "max_depth", 1, 10, &max_depth, out) ||
        (types && !eg_mcp_check_string_array(types, "types", out)))
        return eg_mcp_failed(out);
    json_t *req = json_pack("{s:s, s:s, s:s, s:I}", "op", "find_path", "source_id", source, "target_id", target,
                            "max_depth", max_depth);
    if (req && types && json_object_set(req, "types", types)) {
        json_decref(req);
        req = NULL;
    }
    bool nomem;
    json_t *result = request(backend, req, out, NULL, &nomem);
    if (!result) return !nomem;
    return eg_mcp_answer(out, json_pack("{s:o}", "path", result));
}

/* ---- health ---- */

bool eg_mcp_health(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const known[] = {NULL};
    if (!check_known(arguments, known, out)) return eg_mcp_failed(out);
    bool nomem;
    json_t *result = request(backend, json_pack("{s:s}", "op", "health"), out, NULL, &nomem);
    if (!result) return !nomem;
    return eg_mcp_answer(out, result);
}
