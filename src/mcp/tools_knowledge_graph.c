/* tools_knowledge_graph.c — the reference memory server's nine tools (@modelcontextprotocol/server-memory) over
 * engram's graph: the same arguments, answers, duplicate handling, cascades and errors, with entities as Entity
 * nodes and relations as relationships (kg_names.h; docs/mcp.md, "## Names and types").
 *
 * An entity node has the properties name, entityType and observations. A relation may name an entity that does
 * not exist (the reference allows it), so its missing end is made a placeholder node: an Entity node with only a
 * name, which read_graph does not list as an entity; creating that entity later fills it in, and it is removed
 * once no relation holds it. A relationship carries the relation types it stands for in `relationTypes` (a
 * relationship engram's own tools made, without it, stands for its own type).
 *
 * Each tool reads, then writes, several nodes: one lock makes the calls of this process take turns, as the
 * reference's load-modify-save of its file does, and a write tool's requests are one graph transaction where the
 * backend has them (start_writes), so that a call is all or nothing as the reference's save is. The reads find
 * nodes by the ids their names map to, or through find_nodes' text scan: none lists the whole graph but
 * read_graph. */
#include "mcp/kg_names.h"
#include "mcp/tools_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GET_NODES_MAX 1000 /* ids in one get_nodes or get_relationships_batch (docs/limits.md) */
#define LIST_PAGE 10000    /* list_nodes' largest page */

static pthread_mutex_t kg_lock = PTHREAD_MUTEX_INITIALIZER;

/* What the helpers return: OK; FAIL, with out a tool failure (its text NULL if that ran out of memory); NOMEM. */
enum { NOMEM = -1, FAIL = 0, OK = 1 };

static bool finish(int rc, eg_mcp_tool_result *out) { return rc == OK || (rc == FAIL && eg_mcp_failed(out)); }

static int request(const eg_mcp_backend *backend, json_t *req, json_t **result, eg_mcp_tool_result *out) {
    switch (eg_mcp_request(backend, req, result, out, NULL)) {
    case EG_MCP_REQ_OK: return OK;
    case EG_MCP_REQ_FAILED: return FAIL;
    default: return NOMEM;
    }
}

/* A request whose result is not needed. */
static int run(const eg_mcp_backend *backend, json_t *req, eg_mcp_tool_result *out) {
    json_t *result;
    int rc = request(backend, req, &result, out);
    json_decref(result);
    return rc;
}

static json_t *entity_id_json(const char *name, size_t len) {
    char id[EG_KG_ID_MAX];
    eg_kg_entity_id(name, len, id);
    return json_string(id);
}

/* The node of entity `name` (a string), a new reference in *node, or NULL when there is none. */
static int get_node(const eg_mcp_backend *backend, json_t *name, json_t **node, eg_mcp_tool_result *out) {
    *node = NULL;
    json_t *nodes;
    int rc = request(backend,
                     json_pack("{s:s, s:[o*]}", "op", "get_nodes", "ids",
                               entity_id_json(json_string_value(name), json_string_length(name))),
                     &nodes, out);
    if (rc == OK) *node = json_incref(json_array_get(nodes, 0));
    json_decref(nodes);
    return rc;
}

static json_t *props_of(json_t *node) { return json_object_get(node, "properties"); }

/* A placeholder has a name only; an entity has its type too. */
static bool is_entity(json_t *node) { return node && json_is_string(json_object_get(props_of(node), "entityType")); }

/* The entity as the reference answers it: {name, entityType, observations} in that order. */
static json_t *entity_answer(json_t *props) {
    json_t *observations = json_object_get(props, "observations");
    return json_pack("{s:O, s:O, s:o}", "name", json_object_get(props, "name"), "entityType",
                     json_object_get(props, "entityType"), "observations",
                     json_is_array(observations) ? json_incref(observations) : json_array());
}

/* The relation types a relationship stands for: its relationTypes, or its own type. A new reference. */
static json_t *relation_types(json_t *rel) {
    json_t *types = json_object_get(json_object_get(rel, "properties"), "relationTypes");
    if (json_is_array(types)) return json_incref(types);
    return json_pack("[O]", json_object_get(rel, "type"));
}

static bool contains_string(json_t *array, json_t *s) {
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) if (json_equal(item, s)) return true;
    return false;
}

/* The relationship from -> to of engram type `type`, a new reference in *rel, or NULL. */
static int find_relationship(const eg_mcp_backend *backend, json_t *from_id, json_t *to_id, const char *type,
                             json_t **rel, eg_mcp_tool_result *out) {
    *rel = NULL;
    json_t *by_id;
    /* The batch form, which answers [] for a node that does not exist rather than not_found. */
    int rc = request(backend,
                     json_pack("{s:s, s:[O], s:s, s:s}", "op", "get_relationships_batch", "ids", from_id, "type",
                               type, "direction", "out"),
                     &by_id, out);
    if (rc != OK) return rc;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(by_id, json_string_value(from_id)), i, r) {
        if (json_equal(json_object_get(r, "target_id"), to_id)) {
            *rel = json_incref(r);
            break;
        }
    }
    json_decref(by_id);
    return OK;
}

/* Removes the placeholder id (an id string) when no relation holds it any more; entities stay. */
static int drop_unused_placeholder(const eg_mcp_backend *backend, json_t *id, eg_mcp_tool_result *out) {
    json_t *nodes, *rels;
    int rc = request(backend, json_pack("{s:s, s:[O]}", "op", "get_nodes", "ids", id), &nodes, out);
    if (rc != OK) return rc;
    json_t *node = json_array_get(nodes, 0);
    bool placeholder = node && !is_entity(node);
    json_decref(nodes);
    if (!placeholder) return OK;
    rc = request(backend, json_pack("{s:s, s:O}", "op", "get_relationships", "id", id), &rels, out);
    if (rc != OK) return rc;
    bool unused = json_array_size(rels) == 0;
    json_decref(rels);
    return unused ? run(backend, json_pack("{s:s, s:O}", "op", "delete_node", "id", id), out) : OK;
}

/* A write tool's calls take turns (the lock) and, where the backend has transactions, its writes are one: all of
 * them or none, as the reference saves its file once per call. start_writes takes the lock and opens the
 * transaction (on failure the lock is released and out says why); end_writes commits when rc is OK (a failed
 * commit makes the call a failure) or rolls back, and releases the lock. */
static int start_writes(const eg_mcp_backend *backend, eg_mcp_tool_result *out) {
    pthread_mutex_lock(&kg_lock);
    char message[EG_ERROR_MESSAGE_MAX + 64];
    if (!backend->begin || backend->begin(backend->context, message, sizeof message)) return OK;
    pthread_mutex_unlock(&kg_lock);
    return eg_mcp_fail(out, "%s", message) ? FAIL : NOMEM;
}

static int end_writes(const eg_mcp_backend *backend, int rc, eg_mcp_tool_result *out) {
    char message[EG_ERROR_MESSAGE_MAX + 64];
    if (backend->end && !backend->end(backend->context, rc == OK, message, sizeof message) && rc == OK)
        rc = eg_mcp_fail(out, "%s", message) ? FAIL : NOMEM;
    pthread_mutex_unlock(&kg_lock);
    return rc;
}

/* ---- arguments ---- */

/* A bad argument is answered as the reference's SDK answers it, so that both fail with the same text: every
 * problem zod finds (all of them, in schema order), each "Invalid input: expected T, received T at PATH", one a
 * line, after "MCP error -32602: Input validation error: Invalid arguments for tool NAME: ". */
static const char *zod_type(const json_t *v) {
    if (!v) return "undefined";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

typedef struct {
    json_t *lines; /* the problems found, as strings; NULL when memory ran out */
} issues;

static void issue(issues *found, const char *expected, const json_t *v, const char *path) {
    if (!found->lines) return;
    char line[1024];
    snprintf(line, sizeof line, "Invalid input: expected %s, received %s at %s", expected, zod_type(v), path);
    if (json_array_append_new(found->lines, json_string(line))) {
        json_decref(found->lines);
        found->lines = NULL;
    }
}

static void expect_string(issues *found, const json_t *v, const char *path) {
    if (!json_is_string(v)) issue(found, "string", v, path);
}

static void expect_string_array(issues *found, const json_t *v, const char *path) {
    if (!json_is_array(v)) {
        issue(found, "array", v, path);
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        char where[640]; /* a path of expect_items (< 512) and an index */
        snprintf(where, sizeof where, "%s[%zu]", path, i);
        expect_string(found, json_array_get(v, i), where);
    }
}

/* arguments[key]: an array of objects, each with the fields named, a string ('s') or a string array ('a'). */
static void expect_items(issues *found, json_t *arguments, const char *key, const char *const *fields,
                         const char *kinds) {
    json_t *items = json_object_get(arguments, key);
    if (!json_is_array(items)) {
        issue(found, "array", items, key);
        return;
    }
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *item = json_array_get(items, i);
        char where[256];
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        if (!json_is_object(item)) {
            issue(found, "object", item, where);
            continue;
        }
        for (size_t f = 0; fields[f]; f++) {
            char path[512];
            snprintf(path, sizeof path, "%s.%s", where, fields[f]);
            if (kinds[f] == 's') expect_string(found, json_object_get(item, fields[f]), path);
            else expect_string_array(found, json_object_get(item, fields[f]), path);
        }
    }
}

/* Whether the arguments were good; if not, out is the failure (its text NULL if memory ran out). */
static bool arguments_ok(issues *found, const char *tool, eg_mcp_tool_result *out) {
    memset(out, 0, sizeof *out);
    if (!found->lines) {
        out->is_error = true;
        return false;
    }
    size_t n = json_array_size(found->lines);
    if (n == 0) {
        json_decref(found->lines);
        return true;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += json_string_length(json_array_get(found->lines, i)) + 1;
    char *joined = malloc(len);
    if (joined) {
        joined[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            if (i) strcat(joined, "\n");
            strcat(joined, json_string_value(json_array_get(found->lines, i)));
        }
        eg_mcp_fail(out, "MCP error -32602: Input validation error: Invalid arguments for tool %s: %s", tool, joined);
        free(joined);
    } else {
        out->is_error = true;
    }
    json_decref(found->lines);
    return false;
}

static bool check_items(json_t *arguments, const char *tool, const char *key, const char *const *fields,
                        const char *kinds, json_t **items, eg_mcp_tool_result *out) {
    issues found = {json_array()};
    expect_items(&found, arguments, key, fields, kinds);
    *items = json_object_get(arguments, key);
    return arguments_ok(&found, tool, out);
}

static bool check_names(json_t *arguments, const char *tool, const char *key, json_t **names,
                        eg_mcp_tool_result *out) {
    issues found = {json_array()};
    *names = json_object_get(arguments, key);
    expect_string_array(&found, *names, key);
    return arguments_ok(&found, tool, out);
}

static const char *const ENTITY_FIELDS[] = {"name", "entityType", "observations", NULL};
static const char *const RELATION_FIELDS[] = {"from", "to", "relationType", NULL};

/* ---- create_entities ---- */

static int create_entities(const eg_mcp_backend *backend, json_t *entities, json_t *created,
                           eg_mcp_tool_result *out) {
    size_t i;
    json_t *e;
    json_array_foreach(entities, i, e) {
        json_t *name = json_object_get(e, "name"), *node;
        int rc = get_node(backend, name, &node, out);
        if (rc != OK) return rc;
        bool exists = is_entity(node), placeholder = node && !exists;
        json_decref(node);
        /* The reference skips an entity whose name is taken, and answers with the ones it added. */
        if (exists) continue;
        json_t *id = entity_id_json(json_string_value(name), json_string_length(name));
        json_t *req = placeholder
                          ? json_pack("{s:s, s:o, s:{s:O, s:O}}", "op", "update_node", "id", id, "properties",
                                      "entityType", json_object_get(e, "entityType"), "observations",
                                      json_object_get(e, "observations"))
                          : json_pack("{s:s, s:s, s:o, s:{s:O, s:O, s:O}}", "op", "create_node", "label", "Entity",
                                      "id", id, "properties", "name", name, "entityType",
                                      json_object_get(e, "entityType"), "observations",
                                      json_object_get(e, "observations"));
        if ((rc = run(backend, req, out)) != OK) return rc;
        if (json_array_append_new(created, entity_answer(e))) return NOMEM;
    }
    return OK;
}

bool eg_mcp_create_entities(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    json_t *entities;
    if (!check_items(arguments, "create_entities", "entities", ENTITY_FIELDS, "ssa", &entities, out))
        return eg_mcp_failed(out);
    json_t *created = json_array();
    if (!created) return false;
    int rc = start_writes(backend, out);
    if (rc == OK) rc = end_writes(backend, create_entities(backend, entities, created, out), out);
    if (rc != OK) {
        json_decref(created);
        return finish(rc, out);
    }
    return eg_mcp_answer_member(out, json_pack("{s:o}", "entities", created), "entities");
}

/* ---- create_relations ---- */

/* Makes sure entity `name` has a node, a placeholder if need be. */
static int ensure_node(const eg_mcp_backend *backend, json_t *name, json_t *id, eg_mcp_tool_result *out) {
    json_t *node;
    int rc = get_node(backend, name, &node, out);
    if (rc != OK || node) {
        json_decref(node);
        return rc;
    }
    return run(backend,
               json_pack("{s:s, s:s, s:O, s:{s:O}}", "op", "create_node", "label", "Entity", "id", id, "properties",
                         "name", name),
               out);
}

static json_t *relation_answer(json_t *from, json_t *to, json_t *type) {
    return json_pack("{s:O, s:O, s:O}", "from", from, "to", to, "relationType", type);
}

/* A relation argument resolved: its ends, its text, the engram type the text maps to, and the relation types the
 * relationship from -> to of that type stands for now ([] when there is none). */
typedef struct {
    json_t *from, *to, *text; /* borrowed from the argument */
    json_t *from_id, *to_id;  /* the ends' node ids */
    const char *type;
    json_t *types;
    bool exists; /* the relationship is there */
} relation_ref;

static void relation_ref_free(relation_ref *ref) {
    json_decref(ref->from_id);
    json_decref(ref->to_id);
    json_decref(ref->types);
}

static int resolve_relation(const eg_mcp_backend *backend, json_t *r, relation_ref *ref, eg_mcp_tool_result *out) {
    *ref = (relation_ref){json_object_get(r, "from"), json_object_get(r, "to"), json_object_get(r, "relationType")};
    ref->from_id = entity_id_json(json_string_value(ref->from), json_string_length(ref->from));
    ref->to_id = entity_id_json(json_string_value(ref->to), json_string_length(ref->to));
    ref->type = eg_kg_engram_type(json_string_value(ref->text));
    json_t *rel = NULL;
    int rc = ref->from_id && ref->to_id ? OK : NOMEM;
    if (rc == OK) rc = find_relationship(backend, ref->from_id, ref->to_id, ref->type, &rel, out);
    if (rc == OK && !(ref->types = rel ? relation_types(rel) : json_array())) rc = NOMEM;
    ref->exists = rel != NULL;
    json_decref(rel);
    return rc;
}

static int create_relation(const eg_mcp_backend *backend, json_t *r, json_t *created, eg_mcp_tool_result *out) {
    relation_ref ref;
    int rc = resolve_relation(backend, r, &ref, out);
    /* The reference skips a relation equal to one it holds (from, to and type). */
    if (rc == OK && !contains_string(ref.types, ref.text)) {
        if (json_array_append(ref.types, ref.text)) rc = NOMEM;
        if (rc == OK) rc = ensure_node(backend, ref.from, ref.from_id, out);
        if (rc == OK) rc = ensure_node(backend, ref.to, ref.to_id, out);
        if (rc == OK)
            rc = run(backend,
                     json_pack("{s:s, s:O, s:O, s:s, s:{s:O}}", "op", "create_relationship", "source_id", ref.from_id,
                               "target_id", ref.to_id, "type", ref.type, "properties", "relationTypes", ref.types),
                     out);
        if (rc == OK && json_array_append_new(created, relation_answer(ref.from, ref.to, ref.text))) rc = NOMEM;
    }
    relation_ref_free(&ref);
    return rc;
}

bool eg_mcp_create_relations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    json_t *relations;
    if (!check_items(arguments, "create_relations", "relations", RELATION_FIELDS, "sss", &relations, out))
        return eg_mcp_failed(out);
    json_t *created = json_array();
    if (!created) return false;
    int rc = OK;
    size_t i;
    json_t *r;
    if ((rc = start_writes(backend, out)) == OK) {
        json_array_foreach(relations, i, r) if ((rc = create_relation(backend, r, created, out)) != OK) break;
        rc = end_writes(backend, rc, out);
    }
    if (rc != OK) {
        json_decref(created);
        return finish(rc, out);
    }
    return eg_mcp_answer_member(out, json_pack("{s:o}", "relations", created), "relations");
}

/* ---- observations ---- */

/* The entities an observation tool works on, read once and changed in memory, then written back together: the
 * reference applies its list in order to the graph it loaded, so a name twice in one call sees its first change. */
typedef struct {
    json_t *by_name; /* name -> its node's properties (a copy), or null for no such entity */
    json_t *changed; /* names whose observations changed, in order */
} working_set;

static int working_entity(const eg_mcp_backend *backend, working_set *ws, json_t *name, json_t **props,
                          eg_mcp_tool_result *out) {
    const char *key = json_string_value(name);
    *props = json_object_get(ws->by_name, key);
    if (*props) {
        if (json_is_null(*props)) *props = NULL;
        return OK;
    }
    json_t *node;
    int rc = get_node(backend, name, &node, out);
    if (rc != OK) return rc;
    json_t *copy = is_entity(node) ? json_deep_copy(props_of(node)) : json_null();
    json_decref(node);
    if (!copy || json_object_set_new(ws->by_name, key, copy)) return NOMEM;
    if (!json_is_array(json_object_get(copy, "observations")) && json_is_object(copy) &&
        json_object_set_new(copy, "observations", json_array()))
        return NOMEM;
    *props = json_is_null(copy) ? NULL : copy;
    return OK;
}

static int mark_changed(working_set *ws, json_t *name) {
    if (contains_string(ws->changed, name)) return OK;
    return json_array_append(ws->changed, name) ? NOMEM : OK;
}

static int write_back(const eg_mcp_backend *backend, working_set *ws, eg_mcp_tool_result *out) {
    size_t i;
    json_t *name;
    json_array_foreach(ws->changed, i, name) {
        json_t *props = json_object_get(ws->by_name, json_string_value(name));
        int rc = run(backend,
                     json_pack("{s:s, s:o, s:{s:O}}", "op", "update_node", "id",
                               entity_id_json(json_string_value(name), json_string_length(name)), "properties",
                               "observations", json_object_get(props, "observations")),
                     out);
        if (rc != OK) return rc;
    }
    return OK;
}

static int add_observations(const eg_mcp_backend *backend, json_t *items, working_set *ws, json_t *results,
                            eg_mcp_tool_result *out) {
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) {
        json_t *name = json_object_get(o, "entityName"), *props;
        int rc = working_entity(backend, ws, name, &props, out);
        if (rc != OK) return rc;
        if (!props) {
            /* The reference's error, word for word; nothing is written (it throws before saving). */
            eg_mcp_fail(out, "Entity with name %s not found", json_string_value(name));
            return FAIL;
        }
        json_t *current = json_object_get(props, "observations"), *added = json_array();
        if (!added) return NOMEM;
        size_t j;
        json_t *c;
        /* Compared with the observations before this item, as the reference filters before it appends: a content
         * twice in one item is added twice. */
        json_array_foreach(json_object_get(o, "contents"), j, c) {
            if (!contains_string(current, c) && json_array_append(added, c)) {
                json_decref(added);
                return NOMEM;
            }
        }
        if (json_array_extend(current, added) ||
            json_array_append_new(results, json_pack("{s:O, s:o}", "entityName", name, "addedObservations", added)))
            return NOMEM;
        if (json_array_size(added) && mark_changed(ws, name) != OK) return NOMEM;
    }
    return write_back(backend, ws, out);
}

bool eg_mcp_add_observations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const fields[] = {"entityName", "contents", NULL};
    json_t *items;
    if (!check_items(arguments, "add_observations", "observations", fields, "sa", &items, out))
        return eg_mcp_failed(out);
    working_set ws = {json_object(), json_array()};
    json_t *results = json_array();
    int rc = ws.by_name && ws.changed && results ? OK : NOMEM;
    if (rc == OK) {
        if ((rc = start_writes(backend, out)) == OK)
            rc = end_writes(backend, add_observations(backend, items, &ws, results, out), out);
    }
    json_decref(ws.by_name);
    json_decref(ws.changed);
    if (rc != OK) {
        json_decref(results);
        return finish(rc, out);
    }
    return eg_mcp_answer_member(out, json_pack("{s:o}", "results", results), "results");
}

static int delete_observations(const eg_mcp_backend *backend, json_t *items, working_set *ws,
                               eg_mcp_tool_result *out) {
    size_t i;
    json_t *d;
    json_array_foreach(items, i, d) {
        json_t *name = json_object_get(d, "entityName"), *props;
        int rc = working_entity(backend, ws, name, &props, out);
        if (rc != OK) return rc;
        if (!props) continue; /* the reference ignores a missing entity here */
        json_t *current = json_object_get(props, "observations"), *kept = json_array();
        if (!kept) return NOMEM;
        size_t j;
        json_t *c;
        json_array_foreach(current, j, c) {
            if (!contains_string(json_object_get(d, "observations"), c) && json_array_append(kept, c)) {
                json_decref(kept);
                return NOMEM;
            }
        }
        bool changed = json_array_size(kept) != json_array_size(current);
        if (json_object_set_new(props, "observations", kept)) return NOMEM;
        if (changed && mark_changed(ws, name) != OK) return NOMEM;
    }
    return write_back(backend, ws, out);
}

static bool success(eg_mcp_tool_result *out, const char *message) {
    return eg_mcp_answer_text(out, json_pack("{s:b, s:s}", "success", 1, "message", message), message);
}

bool eg_mcp_delete_observations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    static const char *const fields[] = {"entityName", "observations", NULL};
    json_t *items;
    if (!check_items(arguments, "delete_observations", "deletions", fields, "sa", &items, out))
        return eg_mcp_failed(out);
    working_set ws = {json_object(), json_array()};
    int rc = ws.by_name && ws.changed ? OK : NOMEM;
    if (rc == OK) {
        if ((rc = start_writes(backend, out)) == OK)
            rc = end_writes(backend, delete_observations(backend, items, &ws, out), out);
    }
    json_decref(ws.by_name);
    json_decref(ws.changed);
    return rc == OK ? success(out, "Observations deleted successfully") : finish(rc, out);
}

/* ---- deletions ---- */

static int delete_entities(const eg_mcp_backend *backend, json_t *names, json_t *neighbours,
                           eg_mcp_tool_result *out) {
    size_t i;
    json_t *name;
    json_array_foreach(names, i, name) {
        json_t *node;
        int rc = get_node(backend, name, &node, out);
        if (rc != OK || !node) {
            if (rc != OK) return rc;
            continue;
        }
        json_t *id = json_object_get(node, "id"), *rels;
        rc = request(backend, json_pack("{s:s, s:O}", "op", "get_relationships", "id", id), &rels, out);
        size_t j;
        json_t *rel;
        if (rc == OK) json_array_foreach(rels, j, rel) {
                json_t *other = json_object_get(rel, "source_id");
                if (json_equal(other, id)) other = json_object_get(rel, "target_id");
                if (eg_kg_is_entity_id(json_string_value(other)) && !contains_string(neighbours, other) &&
                    json_array_append(neighbours, other))
                    rc = NOMEM;
            }
        json_decref(rels);
        /* delete_node takes the node's relationships with it: the reference's cascade. */
        if (rc == OK) rc = run(backend, json_pack("{s:s, s:O}", "op", "delete_node", "id", id), out);
        json_decref(node);
        if (rc != OK) return rc;
    }
    json_array_foreach(neighbours, i, name) {
        int rc = drop_unused_placeholder(backend, name, out);
        if (rc != OK) return rc;
    }
    return OK;
}

bool eg_mcp_delete_entities(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    json_t *names, *neighbours;
    if (!check_names(arguments, "delete_entities", "entityNames", &names, out)) return eg_mcp_failed(out);
    if (!(neighbours = json_array())) return false;
    int rc = start_writes(backend, out);
    if (rc == OK) rc = end_writes(backend, delete_entities(backend, names, neighbours, out), out);
    json_decref(neighbours);
    return rc == OK ? success(out, "Entities deleted successfully") : finish(rc, out);
}

static int delete_relation(const eg_mcp_backend *backend, json_t *r, eg_mcp_tool_result *out) {
    relation_ref ref;
    json_t *kept = json_array();
    int rc = resolve_relation(backend, r, &ref, out);
    if (rc == OK && !kept) rc = NOMEM;
    size_t i;
    json_t *t;
    if (rc == OK) json_array_foreach(ref.types, i, t) {
            if (!json_equal(t, ref.text) && json_array_append(kept, t)) rc = NOMEM;
        }
    if (rc == OK && ref.exists && json_array_size(kept) != json_array_size(ref.types)) {
        if (json_array_size(kept) == 0) {
            rc = run(backend,
                     json_pack("{s:s, s:O, s:O, s:s}", "op", "delete_relationship", "source_id", ref.from_id,
                               "target_id", ref.to_id, "type", ref.type),
                     out);
            if (rc == OK) rc = drop_unused_placeholder(backend, ref.from_id, out);
            if (rc == OK) rc = drop_unused_placeholder(backend, ref.to_id, out);
        } else {
            rc = run(backend,
                     json_pack("{s:s, s:O, s:O, s:s, s:{s:O}}", "op", "create_relationship", "source_id", ref.from_id,
                               "target_id", ref.to_id, "type", ref.type, "properties", "relationTypes", kept),
                     out);
        }
    }
    json_decref(kept);
    relation_ref_free(&ref);
    return rc;
}

bool eg_mcp_delete_relations(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    json_t *relations;
    if (!check_items(arguments, "delete_relations", "relations", RELATION_FIELDS, "sss", &relations, out))
        return eg_mcp_failed(out);
    int rc = OK;
    size_t i;
    json_t *r;
    if ((rc = start_writes(backend, out)) == OK) {
        json_array_foreach(relations, i, r) if ((rc = delete_relation(backend, r, out)) != OK) break;
        rc = end_writes(backend, rc, out);
    }
    return rc == OK ? success(out, "Relations deleted successfully") : finish(rc, out);
}

/* ---- reading ---- */

/* Appends to nodes the knowledge graph's nodes (Entity nodes with a kg id, placeholders included) that hold text
 * (a string) in one of properties (an array of names), in id order: engram's find_nodes scans only the kg ids and
 * reads only the nodes whose stored text can hold it. */
static int find_kg_nodes(const eg_mcp_backend *backend, json_t *text, json_t *properties, json_t *nodes,
                         eg_mcp_tool_result *out) {
    json_t *cursor = NULL;
    int rc = OK;
    do {
        json_t *page, *req = json_pack("{s:s, s:s, s:s, s:O, s:O, s:i}", "op", "find_nodes", "label", "Entity",
                                       "id_prefix", EG_KG_ID_SCAN_START, "text", text, "properties", properties,
                                       "limit", LIST_PAGE);
        if (req && cursor && json_object_set(req, "cursor", cursor)) {
            json_decref(req);
            req = NULL;
        }
        json_decref(cursor);
        cursor = NULL;
        if ((rc = request(backend, req, &page, out)) != OK) break;
        size_t i;
        json_t *node;
        json_array_foreach(json_object_get(page, "nodes"), i, node) {
            const char *id = json_string_value(json_object_get(node, "id"));
            if (id && eg_kg_is_entity_id(id) && json_is_string(json_object_get(props_of(node), "name")) &&
                json_array_append(nodes, node))
                rc = NOMEM;
        }
        json_t *next = json_object_get(page, "next_cursor");
        if (rc == OK && json_is_string(next)) cursor = json_incref(next);
        json_decref(page);
    } while (rc == OK && cursor);
    json_decref(cursor);
    return rc;
}

/* Runs op (with "ids") over ids in chunks of GET_NODES_MAX; each chunk's result goes to take(). */
static int in_chunks(const eg_mcp_backend *backend, json_t *ids, json_t *req_template,
                     int (*take)(json_t *chunk, json_t *result, void *context), void *context,
                     eg_mcp_tool_result *out) {
    int rc = OK;
    for (size_t start = 0; rc == OK && start < json_array_size(ids); start += GET_NODES_MAX) {
        json_t *chunk = json_array(), *req = json_deep_copy(req_template), *result;
        for (size_t i = start; chunk && i < json_array_size(ids) && i < start + GET_NODES_MAX; i++)
            if (json_array_append(chunk, json_array_get(ids, i))) {
                json_decref(chunk);
                chunk = NULL;
            }
        if (!chunk || !req || json_object_set(req, "ids", chunk)) {
            json_decref(chunk);
            json_decref(req);
            return NOMEM;
        }
        if ((rc = request(backend, req, &result, out)) == OK) rc = take(chunk, result, context);
        json_decref(result);
        json_decref(chunk);
    }
    return rc;
}

/* Relations being gathered: the relationships found, and the names of their ends. */
typedef struct {
    json_t *names;     /* id -> entity name, of the nodes asked and of the other ends looked up */
    json_t *listed;    /* the ids whose relationships were asked for (id -> true) */
    json_t *found;     /* relationships to answer, in order */
    json_t *unknown;   /* kg ids at the other end whose names are not known yet (id -> true) */
    bool from_outside; /* keep only relationships whose source is not a listed id (the "in" pass) */
} gathering;

static int take_relationships(json_t *chunk, json_t *by_id, void *context) {
    gathering *g = context;
    size_t i, j;
    json_t *id, *rel;
    json_array_foreach(chunk, i, id) {
        json_array_foreach(json_object_get(by_id, json_string_value(id)), j, rel) {
            const char *source = json_string_value(json_object_get(rel, "source_id"));
            const char *target = json_string_value(json_object_get(rel, "target_id"));
            if (!source || !target || (g->from_outside && json_object_get(g->listed, source))) continue;
            if (json_array_append(g->found, rel)) return NOMEM;
            const char *ends[2] = {source, target};
            for (int e = 0; e < 2; e++)
                if (eg_kg_is_entity_id(ends[e]) && !json_object_get(g->names, ends[e]) &&
                    json_object_set_new(g->unknown, ends[e], json_true()))
                    return NOMEM;
        }
    }
    return OK;
}

static int take_names(json_t *chunk, json_t *nodes, void *context) {
    (void)chunk;
    gathering *g = context;
    size_t i;
    json_t *node;
    json_array_foreach(nodes, i, node) {
        json_t *name = json_object_get(props_of(node), "name");
        if (json_is_string(name) && json_object_set(g->names, json_string_value(json_object_get(node, "id")), name))
            return NOMEM;
    }
    return OK;
}

/* Appends to relations, in the reference's shape, the relations of the nodes `ids` whose names are in g->names:
 * those they are the source of, and with `both` also those they are the target of (once each). A relationship
 * to a node outside the knowledge graph (a memory, linked by engram's own tools) is not a relation. */
static int gather_relations(const eg_mcp_backend *backend, json_t *ids, bool both, gathering *g, json_t *relations,
                            eg_mcp_tool_result *out) {
    json_t *ask = json_pack("{s:s, s:s}", "op", "get_relationships_batch", "direction", "out");
    int rc = ask ? in_chunks(backend, ids, ask, take_relationships, g, out) : NOMEM;
    if (rc == OK && both) {
        g->from_outside = true;
        rc = json_object_set_new(ask, "direction", json_string("in")) ? NOMEM
                                                                       : in_chunks(backend, ids, ask, take_relationships,
                                                                                   g, out);
    }
    json_decref(ask);
    json_t *unknown = json_array(), *lookup = json_pack("{s:s}", "op", "get_nodes");
    const char *id;
    json_t *value;
    if (rc == OK && (!unknown || !lookup)) rc = NOMEM;
    if (rc == OK) json_object_foreach(g->unknown, id, value) if (json_array_append_new(unknown, json_string(id))) rc = NOMEM;
    if (rc == OK) rc = in_chunks(backend, unknown, lookup, take_names, g, out);
    json_decref(unknown);
    json_decref(lookup);
    size_t i, k;
    json_t *rel, *text;
    if (rc == OK) json_array_foreach(g->found, i, rel) {
            json_t *from = json_object_get(g->names, json_string_value(json_object_get(rel, "source_id")));
            json_t *to = json_object_get(g->names, json_string_value(json_object_get(rel, "target_id")));
            if (!from || !to) continue;
            json_t *types = relation_types(rel);
            if (!types) rc = NOMEM;
            json_array_foreach(types, k, text) {
                if (json_array_append_new(relations, relation_answer(from, to, text))) rc = NOMEM;
            }
            json_decref(types);
        }
    return rc;
}

/* The answer of read_graph (whole: every relation among the nodes given, placeholders' too) or of search_nodes and
 * open_nodes (the entities given and every relation with at least one end among them, so that a found entity's
 * links to the rest of the graph show, as the reference does): {entities, relations}, entities in the order of
 * nodes. */
static int answer_graph(const eg_mcp_backend *backend, json_t *nodes, bool whole, json_t **answer,
                        eg_mcp_tool_result *out) {
    gathering g = {json_object(), json_object(), json_array(), json_object(), false};
    json_t *ids = json_array(), *entities = json_array(), *relations = json_array();
    int rc = g.names && g.listed && g.found && g.unknown && ids && entities && relations ? OK : NOMEM;
    size_t i;
    json_t *node;
    if (rc == OK) json_array_foreach(nodes, i, node) {
            if (!whole && !is_entity(node)) continue;
            json_t *id = json_object_get(node, "id");
            if (json_object_set(g.names, json_string_value(id), json_object_get(props_of(node), "name")) ||
                json_object_set(g.listed, json_string_value(id), json_true()) || json_array_append(ids, id) ||
                (is_entity(node) && json_array_append_new(entities, entity_answer(props_of(node)))))
                rc = NOMEM;
        }
    if (rc == OK) rc = gather_relations(backend, ids, !whole, &g, relations, out);
    *answer = rc == OK ? json_pack("{s:O, s:O}", "entities", entities, "relations", relations) : NULL;
    if (rc == OK && !*answer) rc = NOMEM;
    json_decref(g.names);
    json_decref(g.listed);
    json_decref(g.found);
    json_decref(g.unknown);
    json_decref(ids);
    json_decref(entities);
    json_decref(relations);
    return rc;
}

/* Answers with the graph of the nodes find() collects, all read under the lock as the reference reads its file
 * once per call. */
static bool answer_nodes(const eg_mcp_backend *backend, bool whole,
                         int (*find)(const eg_mcp_backend *, json_t *args, json_t *nodes, eg_mcp_tool_result *),
                         json_t *args, eg_mcp_tool_result *out) {
    json_t *nodes = json_array(), *answer = NULL;
    if (!nodes) return false;
    pthread_mutex_lock(&kg_lock);
    int rc = find(backend, args, nodes, out);
    if (rc == OK) rc = answer_graph(backend, nodes, whole, &answer, out);
    pthread_mutex_unlock(&kg_lock);
    json_decref(nodes);
    return rc == OK ? eg_mcp_answer(out, answer) : finish(rc, out);
}

static int every_kg_node(const eg_mcp_backend *backend, json_t *args, json_t *nodes, eg_mcp_tool_result *out) {
    (void)args;
    json_t *text = json_string(""), *properties = json_pack("[s]", "name"); /* every kg node has a name */
    int rc = text && properties ? find_kg_nodes(backend, text, properties, nodes, out) : NOMEM;
    json_decref(text);
    json_decref(properties);
    return rc;
}

bool eg_mcp_read_graph(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    (void)arguments; /* read_graph takes none; the reference ignores any given */
    return answer_nodes(backend, true, every_kg_node, NULL, out);
}

/* ---- search_nodes ---- */

/* The reference's test: the query, ignoring case, in the name, the type or an observation. engram folds case as
 * find_nodes does (util/text_search.h): code point by code point, which JavaScript's toLowerCase matches but for
 * the few characters whose lower case is longer (docs/mcp.md). */
static int matching_nodes(const eg_mcp_backend *backend, json_t *query, json_t *nodes, eg_mcp_tool_result *out) {
    json_t *properties = json_pack("[s, s, s]", "name", "entityType", "observations");
    int rc = properties ? find_kg_nodes(backend, query, properties, nodes, out) : NOMEM;
    json_decref(properties);
    return rc;
}

bool eg_mcp_search_nodes(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    json_t *query = json_object_get(arguments, "query");
    issues found = {json_array()};
    expect_string(&found, query, "query");
    if (!arguments_ok(&found, "search_nodes", out)) return eg_mcp_failed(out);
    return answer_nodes(backend, false, matching_nodes, query, out);
}

/* ---- open_nodes ---- */

static int take_nodes(json_t *chunk, json_t *found, void *nodes) {
    (void)chunk;
    return json_array_extend(nodes, found) ? NOMEM : OK;
}

/* The nodes of the names given, each once, read by the ids their names map to. */
static int named_nodes(const eg_mcp_backend *backend, json_t *names, json_t *nodes, eg_mcp_tool_result *out) {
    json_t *ids = json_array(), *seen = json_object(), *lookup = json_pack("{s:s}", "op", "get_nodes");
    int rc = ids && seen && lookup ? OK : NOMEM;
    size_t i;
    json_t *name;
    if (rc == OK) json_array_foreach(names, i, name) {
            json_t *id = entity_id_json(json_string_value(name), json_string_length(name));
            if (!id) rc = NOMEM;
            else if (!json_object_get(seen, json_string_value(id)) &&
                     (json_object_set_new(seen, json_string_value(id), json_true()) || json_array_append(ids, id)))
                rc = NOMEM;
            json_decref(id);
        }
    if (rc == OK) rc = in_chunks(backend, ids, lookup, take_nodes, nodes, out);
    json_decref(ids);
    json_decref(seen);
    json_decref(lookup);
    return rc;
}

bool eg_mcp_open_nodes(const eg_mcp_backend *backend, json_t *arguments, eg_mcp_tool_result *out) {
    json_t *names;
    if (!check_names(arguments, "open_nodes", "names", &names, out)) return eg_mcp_failed(out);
    return answer_nodes(backend, false, named_nodes, names, out);
}
