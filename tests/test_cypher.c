/* test_cypher.c — the Cypher executor (src/cypher: match, evaluate, functions, writes, projection, executor) over
 * an embedded graph, and the Bolt statement engine over it (src/bolt/cypher_statements.c).
 *
 * Every statement the original store sends (C1–C26 of the storage inventory, verbatim, in each label and direction
 * variant) runs and gives the original's result shape, checked against the same operations through the eg_graph
 * API; then each construct, null semantics, ordering, aggregation, every refusal with its code (and that the
 * graph did not change), the row bound, and the engine's transactions. Results are compared as JSON: a node is
 * {"node": id, "labels": [...], "properties": {...}}, a relationship {"rel": "source>TYPE>target", "properties":
 * {...}}, a path {"path": [nodes], "rels": [...], "indices": [...]}; integers and floats stay distinct. */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include "bolt/cypher_statements.h"
#include "cypher/cypher.h"
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static eg_db *db;
static eg_graph *g;
static eg_error err;
static json_t *last_stats;    /* the last successful statement's stats, as JSON ({} for none) */
static const char *last_type; /* and its query type */
static json_t *last_fields;

/* ---- values between JSON and PackStream ---- */

static void ps_from_json(const json_t *j, eg_ps_value *out) {
    *out = (eg_ps_value){.kind = EG_PS_NULL};
    switch (json_typeof(j)) {
    case JSON_TRUE:
    case JSON_FALSE: *out = (eg_ps_value){.kind = EG_PS_BOOL, .as.boolean = json_is_true(j)}; break;
    case JSON_INTEGER: *out = (eg_ps_value){.kind = EG_PS_INT, .as.integer = json_integer_value(j)}; break;
    case JSON_REAL: *out = (eg_ps_value){.kind = EG_PS_FLOAT, .as.real = json_real_value(j)}; break;
    case JSON_STRING:
        out->kind = EG_PS_STRING;
        out->as.text.len = json_string_length(j);
        out->as.text.data = malloc(out->as.text.len + 1);
        memcpy(out->as.text.data, json_string_value(j), out->as.text.len + 1);
        break;
    case JSON_ARRAY:
        out->kind = EG_PS_LIST;
        out->as.list.count = json_array_size(j);
        out->as.list.items = calloc(out->as.list.count + 1, sizeof *out->as.list.items);
        for (size_t i = 0; i < out->as.list.count; i++) ps_from_json(json_array_get(j, i), &out->as.list.items[i]);
        break;
    case JSON_OBJECT: {
        out->kind = EG_PS_DICT;
        out->as.dict.entries = calloc(json_object_size(j) + 1, sizeof *out->as.dict.entries);
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)j, key, value) {
            eg_ps_entry *e = &out->as.dict.entries[out->as.dict.count++];
            e->key = strdup(key);
            e->key_len = strlen(key);
            ps_from_json(value, &e->value);
        }
        break;
    }
    default: break;
    }
}

static json_t *ps_to_json(const eg_ps_value *v) {
    switch (v->kind) {
    case EG_PS_NULL: return json_null();
    case EG_PS_BOOL: return json_boolean(v->as.boolean);
    case EG_PS_INT: return json_integer(v->as.integer);
    case EG_PS_FLOAT: return json_real(v->as.real);
    case EG_PS_BYTES: return json_pack("{s:i}", "bytes", (json_int_t)v->as.text.len);
    case EG_PS_STRING: return json_stringn(v->as.text.data, v->as.text.len);
    case EG_PS_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; i < v->as.list.count; i++) json_array_append_new(a, ps_to_json(&v->as.list.items[i]));
        return a;
    }
    case EG_PS_DICT: {
        json_t *o = json_object();
        for (size_t i = 0; i < v->as.dict.count; i++)
            json_object_set_new(o, v->as.dict.entries[i].key, ps_to_json(&v->as.dict.entries[i].value));
        return o;
    }
    case EG_PS_STRUCT: {
        const eg_ps_value *f = v->as.list.items;
        switch (v->as.list.tag) {
        case 0x4E:
            return json_pack("{s:o,s:o,s:o}", "node", ps_to_json(&f[3]), "labels", ps_to_json(&f[1]), "properties",
                             ps_to_json(&f[2]));
        case 0x52: return json_pack("{s:o,s:o}", "rel", ps_to_json(&f[5]), "properties", ps_to_json(&f[4]));
        case 0x72: return json_pack("{s:o,s:o}", "unbound", ps_to_json(&f[3]), "properties", ps_to_json(&f[2]));
        case 0x50:
            return json_pack("{s:o,s:o,s:o}", "path", ps_to_json(&f[0]), "rels", ps_to_json(&f[1]), "indices",
                             ps_to_json(&f[2]));
        default: return json_pack("{s:i}", "struct", v->as.list.tag);
        }
    }
    }
    return json_null();
}

/* ---- running statements ---- */

/* Runs text with params (JSON object text or NULL) on graph gr: the rows as a JSON array of arrays, or NULL with
 * *failure filled. */
static json_t *run_on(eg_graph *gr, const char *text, const char *params, eg_bolt_failure *failure) {
    cy_statement *s;
    if (!cy_parse(text, strlen(text), &s, failure)) return NULL;
    eg_ps_value p = {.kind = EG_PS_DICT};
    if (params) {
        json_t *j = json_loads(params, 0, NULL);
        if (!j) {
            fprintf(stderr, "  bad test params %s\n", params);
            cy_statement_free(s);
            snprintf(failure->code, sizeof failure->code, "test");
            return NULL;
        }
        ps_from_json(j, &p);
        json_decref(j);
    }
    eg_bolt_result r;
    bool ok = cy_execute(s, gr, &p, 1700000000000LL, &r, failure);
    eg_ps_value_free(&p);
    cy_statement_free(s);
    if (!ok) return NULL;
    json_t *rows = ps_to_json(&r.records);
    json_decref(last_stats);
    json_decref(last_fields);
    last_stats = r.stats.kind == EG_PS_NULL ? json_object() : ps_to_json(&r.stats);
    last_fields = ps_to_json(&r.fields);
    last_type = r.type;
    eg_bolt_result_free(&r);
    return rows;
}

static json_t *run(const char *text, const char *params) {
    eg_bolt_failure f;
    json_t *rows = run_on(g, text, params, &f);
    if (!rows) fprintf(stderr, "  failed: %s\n  %s: %s\n", text, f.code, f.message);
    return rows;
}

static char *json_text(const json_t *j) { return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY); }

/* Runs and compares the rows with expected (JSON text of an array of arrays). */
static bool rows_are(const char *text, const char *params, const char *expected) {
    json_t *rows = run(text, params);
    if (!rows) return false;
    json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);
    bool ok = want && json_equal(rows, want);
    if (!ok) {
        char *got = json_text(rows);
        fprintf(stderr, "  %s\n  got      %s\n  expected %s\n", text, got, expected);
        free(got);
    }
    json_decref(want);
    json_decref(rows);
    return ok;
}

static bool stats_are(const char *expected) {
    json_t *want = json_loads(expected, 0, NULL);
    bool ok = want && json_equal(last_stats, want);
    if (!ok) {
        char *got = json_text(last_stats);
        fprintf(stderr, "  stats %s, expected %s\n", got, expected);
        free(got);
    }
    json_decref(want);
    return ok;
}

static bool fields_are(const char *expected) {
    json_t *want = json_loads(expected, 0, NULL);
    bool ok = want && json_equal(last_fields, want);
    if (!ok) {
        char *got = json_text(last_fields);
        fprintf(stderr, "  fields %s, expected %s\n", got, expected);
        free(got);
    }
    json_decref(want);
    return ok;
}

static char *graph_dump(void) { return test_graph_snapshot(db); }

/* Refused with code, the message holding part (when given), and the graph unchanged. */
static bool refused_on(eg_graph *gr, const char *text, const char *params, const char *code, const char *part) {
    char *before = graph_dump();
    eg_bolt_failure f = {0};
    json_t *rows = run_on(gr, text, params, &f);
    char *after = graph_dump();
    bool ok = !rows && strcmp(f.code, code) == 0 && (!part || strstr(f.message, part)) &&
              eg_ps_utf8_valid(f.message, strlen(f.message)) && strcmp(before, after) == 0;
    if (!ok)
        fprintf(stderr, "  %s\n  expected %s (%s), got %s: %s%s\n", text, code, part ? part : "",
                rows ? "rows" : f.code, f.message, strcmp(before, after) ? " (and the graph changed)" : "");
    json_decref(rows);
    free(before);
    free(after);
    return ok;
}

/* Refusals run inside a transaction that is rolled back, as the statement engine does. */
static bool refused(const char *text, const char *params, const char *code, const char *part) {
    eg_graph *tx;
    if (eg_graph_begin(g, &tx, &err) != EG_OK) return false;
    bool ok = refused_on(tx, text, params, code, part);
    eg_graph_rollback(tx);
    return ok;
}

static void reset_graph(void) { json_decref(run("MATCH (n) DETACH DELETE n", NULL)); }

static json_t *props(const char *text) { return json_loads(text, 0, NULL); }

/* ---- the statements of the original store (C1–C26) ---- */

/* The original's f-string expansions. */
static const char *const labels[] = {"Episode", "Entity", "Procedure"};

static bool node_props_are(const char *id, const char *expected) {
    eg_node n;
    if (eg_graph_get_node(g, id, EG_LABEL_ANY, &n, &err) != EG_OK) {
        fprintf(stderr, "  node %s: %s\n", id, err.message);
        return false;
    }
    json_t *want = props(expected);
    bool ok = want && json_equal(n.properties, want);
    if (!ok) {
        char *got = json_text(n.properties);
        fprintf(stderr, "  node %s has %s, expected %s\n", id, got, expected);
        free(got);
    }
    json_decref(want);
    eg_node_clear(&n);
    return ok;
}

/* The properties of relationship source -type-> target, or NULL (caller decrefs). */
static json_t *rel_props(const char *source, const char *type, const char *target) {
    eg_rel_type t;
    if (eg_rel_type_parse(type, &t, &err) != EG_OK) return NULL;
    eg_relationship_list list;
    if (eg_graph_get_relationships(g, source, t, EG_DIR_OUT, &list, &err) != EG_OK) return NULL;
    json_t *found = NULL;
    for (size_t i = 0; i < list.count; i++)
        if (strcmp(list.items[i].target_id, target) == 0) found = json_incref(list.items[i].properties);
    eg_relationship_list_free(&list);
    return found;
}

static double rel_weight(const char *source, const char *type, const char *target) {
    json_t *p = rel_props(source, type, target);
    double w =
        p && json_is_number(json_object_get(p, "weight")) ? json_number_value(json_object_get(p, "weight")) : NAN;
    json_decref(p);
    return w;
}

static void make_node(eg_label label, const char *id, const char *properties) {
    json_t *p = properties ? props(properties) : NULL;
    CHECK_OK(eg_graph_create_node(g, label, id, p, &err), &err);
    json_decref(p);
}

static void make_rel(const char *source, const char *target, eg_rel_type type, const char *properties) {
    json_t *p = properties ? props(properties) : NULL;
    CHECK_OK(eg_graph_create_relationship(g, source, target, type, p, &err), &err);
    json_decref(p);
}

TEST(c1_to_c8_schema_statements_succeed_and_show_constraints_describes_id_uniqueness) {
    const char *const schema[] = {
        "CREATE CONSTRAINT episode_id IF NOT EXISTS FOR (e:Episode) REQUIRE e.id IS UNIQUE",
        "CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE",
        "CREATE CONSTRAINT procedure_id IF NOT EXISTS FOR (p:Procedure) REQUIRE p.id IS UNIQUE",
        "CREATE INDEX episode_session IF NOT EXISTS FOR (e:Episode) ON (e.sessionId)",
        "CREATE INDEX entity_session IF NOT EXISTS FOR (e:Entity) ON (e.sessionId)",
        "CREATE INDEX procedure_session IF NOT EXISTS FOR (p:Procedure) ON (p.sessionId)",
        "CREATE INDEX episode_timestamp IF NOT EXISTS FOR (e:Episode) ON (e.timestamp)",
    };
    for (size_t i = 0; i < 7; i++) {
        CHECK(rows_are(schema[i], NULL, "[]"));
        CHECK(strcmp(last_type, "s") == 0);
        CHECK(stats_are("{}"));
    }
    CHECK(rows_are("SHOW CONSTRAINTS", NULL,
                   "[[1,\"episode_id\",\"UNIQUENESS\",\"NODE\",[\"Episode\"],[\"id\"],\"episode_id\",null],"
                   "[2,\"entity_id\",\"UNIQUENESS\",\"NODE\",[\"Entity\"],[\"id\"],\"entity_id\",null],"
                   "[3,\"procedure_id\",\"UNIQUENESS\",\"NODE\",[\"Procedure\"],[\"id\"],\"procedure_id\",null]]"));
    CHECK(fields_are("[\"id\",\"name\",\"type\",\"entityType\",\"labelsOrTypes\",\"properties\",\"ownedIndex\","
                     "\"propertyType\"]"));
    json_t *rows = run("SHOW INDEXES", NULL);
    CHECK(rows && json_array_size(rows) == 3);
    json_decref(rows);
    CHECK(refused("CREATE CONSTRAINT name_unique FOR (e:Entity) REQUIRE e.name IS UNIQUE", NULL,
                  "Neo.ClientError.Statement.ArgumentError", "name"));
    CHECK(refused("DROP CONSTRAINT entity_id", NULL, "Neo.ClientError.Statement.ArgumentError", "cannot be dropped"));
}

TEST(c10_create_node_then_c11_get_node_round_trip_with_the_graph_api) {
    reset_graph();
    for (int i = 0; i < 3; i++) {
        char text[256], params[256], id[32];
        snprintf(id, sizeof id, "c10-%d", i);
        snprintf(text, sizeof text,
                 "\n        CREATE (n:%s {id: $id, sessionId: $sessionId, score: $score, tags: $tags})\n        RETURN "
                 "n.id as id\n        ",
                 labels[i]);
        snprintf(params, sizeof params, "{\"id\":\"%s\",\"sessionId\":\"s1\",\"score\":0.5,\"tags\":[\"a\",\"b\"]}",
                 id);
        char expected[256];
        snprintf(expected, sizeof expected, "[[\"%s\"]]", id);
        CHECK(rows_are(text, params, expected));
        CHECK(stats_are("{\"nodes-created\":1,\"labels-added\":1,\"properties-set\":4,\"contains-updates\":true}"));
        CHECK(strcmp(last_type, "rw") == 0);
        eg_node n;
        CHECK_OK(eg_graph_get_node(g, id, EG_LABEL_ANY, &n, &err), &err);
        CHECK(n.label == (eg_label)i);
        eg_node_clear(&n);
        CHECK(node_props_are(id, "{\"sessionId\":\"s1\",\"score\":0.5,\"tags\":[\"a\",\"b\"]}"));
        /* C11 with the label and without. */
        snprintf(text, sizeof text, "\n        MATCH (n:%s {id: $id})\n        RETURN properties(n) as data\n        ",
                 labels[i]);
        snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
        snprintf(expected, sizeof expected,
                 "[[{\"id\":\"%s\",\"sessionId\":\"s1\",\"score\":0.5,\"tags\":[\"a\",\"b\"]}]]", id);
        CHECK(rows_are(text, params, expected));
        CHECK(rows_are("\n        MATCH (n {id: $id})\n        RETURN properties(n) as data\n        ", params,
                       expected));
        /* Another label finds nothing. */
        snprintf(text, sizeof text, "MATCH (n:%s {id: $id}) RETURN properties(n) as data", labels[(i + 1) % 3]);
        CHECK(rows_are(text, params, "[]"));
    }
    /* A node made through the API reads back through Cypher. */
    make_node(EG_LABEL_ENTITY, "api-1", "{\"name\":\"Bob\",\"nested\":{\"k\":[1,2]}}");
    CHECK(rows_are("MATCH (n:Entity {id: $id}) RETURN properties(n) as data", "{\"id\":\"api-1\"}",
                   "[[{\"id\":\"api-1\",\"name\":\"Bob\",\"nested\":{\"k\":[1,2]}}]]"));
    CHECK(rows_are("MATCH (n {id: $id}) RETURN properties(n) as data", "{\"id\":\"missing\"}", "[]"));
    /* An existing id is a constraint violation, whatever the label (ids are unique across labels). */
    CHECK(refused("CREATE (n:Episode {id: $id}) RETURN n.id as id", "{\"id\":\"api-1\"}",
                  "Neo.ClientError.Schema.ConstraintValidationFailed", "api-1"));
    CHECK(refused("CREATE (n:Entity {id: $id, name: 'Bob'}) RETURN n.id as id", "{\"id\":\"api-1\"}",
                  "Neo.ClientError.Schema.ConstraintValidationFailed", "already exists"));
    /* C10 with no properties: engram needs an id. */
    CHECK(refused("\n        CREATE (n:Episode {})\n        RETURN n.id as id\n        ", NULL,
                  "Neo.ClientError.Statement.ArgumentError", "id"));
}

TEST(c12_update_c18_update_property_and_c13_delete_node) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "u1", "{\"name\":\"old\",\"keep\":1}");
    make_node(EG_LABEL_EPISODE, "u2", NULL);
    make_rel("u1", "u2", EG_REL_USES, NULL);
    CHECK(rows_are("\n        MATCH (n:Entity {id: $id})\n        SET n.name = $name, n.age = $age\n        ",
                   "{\"id\":\"u1\",\"name\":\"new\",\"age\":41}", "[]"));
    CHECK(stats_are("{\"properties-set\":2,\"contains-updates\":true}"));
    CHECK(strcmp(last_type, "rw") == 0);
    CHECK(node_props_are("u1", "{\"name\":\"new\",\"keep\":1,\"age\":41}"));
    CHECK(rows_are("\n        MATCH (n {id: $id})\n        SET n.name = $name\n        ",
                   "{\"id\":\"u1\",\"name\":\"newer\"}", "[]"));
    CHECK(node_props_are("u1", "{\"name\":\"newer\",\"keep\":1,\"age\":41}"));
    /* Wrong label: nothing matched, nothing set. */
    CHECK(rows_are("MATCH (n:Episode {id: $id}) SET n.name = $name", "{\"id\":\"u1\",\"name\":\"x\"}", "[]"));
    CHECK(stats_are("{}"));
    CHECK(rows_are("MATCH (n {id: $id}) SET n.status = $value", "{\"id\":\"u1\",\"value\":\"active\"}", "[]"));
    CHECK(node_props_are("u1", "{\"name\":\"newer\",\"keep\":1,\"age\":41,\"status\":\"active\"}"));
    /* null removes */
    CHECK(rows_are("MATCH (n {id: $id}) SET n.status = $value", "{\"id\":\"u1\",\"value\":null}", "[]"));
    CHECK(node_props_are("u1", "{\"name\":\"newer\",\"keep\":1,\"age\":41}"));
    CHECK(rows_are("\n        MATCH (n:Entity {id: $id})\n        DETACH DELETE n\n        ", "{\"id\":\"u1\"}", "[]"));
    CHECK(stats_are("{\"nodes-deleted\":1,\"relationships-deleted\":1,\"contains-updates\":true}"));
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(g, "u1", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
    uint64_t count;
    CHECK_OK(eg_graph_count_relationships(g, &count, &err), &err);
    CHECK(count == 0);
    for (int i = 0; i < 3; i++) {
        char text[128];
        snprintf(text, sizeof text, "MATCH (n:%s {id: $id})\nDETACH DELETE n", labels[i]);
        CHECK(rows_are(text, "{\"id\":\"u2\"}", "[]"));
    }
    CHECK_STATUS(eg_graph_get_node(g, "u2", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
}

TEST(c14_create_relationship_and_c16_c17_read_them_in_every_direction) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "a", NULL);
    make_node(EG_LABEL_ENTITY, "b", NULL);
    make_node(EG_LABEL_EPISODE, "c", NULL);
    CHECK(rows_are("\n        MATCH (src {id: $source_id})\n        MATCH (tgt {id: $target_id})\n        CREATE "
                   "(src)-[r:USES {weight: $weight, note: $note}]->(tgt)\n        ",
                   "{\"source_id\":\"a\",\"target_id\":\"b\",\"weight\":0.5,\"note\":\"n\"}", "[]"));
    CHECK(stats_are("{\"relationships-created\":1,\"properties-set\":2,\"contains-updates\":true}"));
    json_t *p = rel_props("a", "USES", "b");
    CHECK(p && json_real_value(json_object_get(p, "weight")) == 0.5 &&
          json_is_integer(json_object_get(p, "lastAccessed")));
    json_decref(p);
    CHECK(rows_are("\n        MATCH (src {id: $source_id})\n        MATCH (tgt {id: $target_id})\n        CREATE "
                   "(src)-[r:CAUSES]->(tgt)\n        ",
                   "{\"source_id\":\"c\",\"target_id\":\"a\"}", "[]"));
    /* Through the API, read through Cypher. */
    make_rel("b", "c", EG_REL_PART_OF, "{\"weight\":0.25,\"lastAccessed\":5}");
    /* C16, out / in / both, with and without a type. */
    CHECK(rows_are("\n        MATCH (n {id: $id})-[r:USES]->(other)\n        RETURN {\n            rel_type: "
                   "type(r),\n            properties: properties(r),\n            source_id: n.id,\n            "
                   "other_id: other.id\n        } as rel\n        ",
                   "{\"id\":\"b\"}", "[]"));
    CHECK(rows_are("MATCH (n {id: $id})-[r]->(other)\nRETURN {rel_type: type(r), properties: properties(r), source_id: "
                   "n.id, other_id: other.id} as rel",
                   "{\"id\":\"b\"}",
                   "[[{\"rel_type\":\"PART_OF\",\"properties\":{\"weight\":0.25,\"lastAccessed\":5},\"source_id\":"
                   "\"b\",\"other_id\":\"c\"}]]"));
    CHECK(rows_are(
        "MATCH (n {id: $id})<-[r]-(other)\nRETURN {rel_type: type(r), source_id: n.id, other_id: other.id} as rel",
        "{\"id\":\"b\"}", "[[{\"rel_type\":\"USES\",\"source_id\":\"b\",\"other_id\":\"a\"}]]"));
    CHECK(rows_are("MATCH (n {id: $id})<-[r:PART_OF]-(other)\nRETURN {rel_type: type(r), source_id: n.id, other_id: "
                   "other.id} as rel",
                   "{\"id\":\"b\"}", "[]"));
    CHECK(rows_are(
        "MATCH (n {id: $id})-[r]-(other)\nRETURN {rel_type: type(r), other_id: other.id} as rel ORDER BY rel.other_id",
        "{\"id\":\"b\"}",
        "[[{\"rel_type\":\"USES\",\"other_id\":\"a\"}],[{\"rel_type\":\"PART_OF\",\"other_id\":\"c\"}]]"));
    CHECK(rows_are("MATCH (n {id: $id})-[r:CAUSES]-(other)\nRETURN {rel_type: type(r), other_id: other.id} as rel",
                   "{\"id\":\"a\"}", "[[{\"rel_type\":\"CAUSES\",\"other_id\":\"c\"}]]"));
    /* C17: UNWIND $ids as id with the bare variable in the map (lastAccessed is the store's clock). */
    json_t *c17 = run("UNWIND $ids as id \nMATCH (n {id: id})-[r]->(other)\nRETURN n.id as node_id, type(r) as "
                      "rel_type,\n       properties(r) as rel_props, other.id as other_id",
                      "{\"ids\":[\"a\",\"b\",\"nobody\"]}");
    for (size_t i = 0; c17 && i < json_array_size(c17); i++)
        json_object_del(json_array_get(json_array_get(c17, i), 2), "lastAccessed");
    json_t *c17_expected = json_loads("[[\"a\",\"USES\",{\"weight\":0.5,\"note\":\"n\"},\"b\"],"
                                      "[\"b\",\"PART_OF\",{\"weight\":0.25},\"c\"]]",
                                      0, NULL);
    CHECK(c17 && json_equal(c17, c17_expected));
    json_decref(c17);
    json_decref(c17_expected);
    json_t *rows = run("UNWIND $ids as id \nMATCH (n {id: id})<-[r:USES]-(other)\nRETURN n.id as node_id, type(r) as "
                       "rel_type,\n       properties(r) as rel_props, other.id as other_id",
                       "{\"ids\":[\"a\",\"b\"]}");
    CHECK(rows && json_array_size(rows) == 1 &&
          strcmp(json_string_value(json_array_get(json_array_get(rows, 0), 3)), "a") == 0);
    json_decref(rows);
    CHECK(fields_are("[\"node_id\",\"rel_type\",\"rel_props\",\"other_id\"]"));
    rows = run("UNWIND $ids as id \nMATCH (n {id: id})-[r]-(other)\nRETURN n.id as node_id, type(r) as rel_type, "
               "properties(r) as rel_props, other.id as other_id",
               "{\"ids\":[\"a\",\"b\",\"c\"]}");
    CHECK(rows && json_array_size(rows) == 6);
    json_decref(rows);
    /* Creating an existing relationship merges its properties (engram holds one per source, type, target). */
    CHECK(rows_are(
        "MATCH (src {id: 'a'}) MATCH (tgt {id: 'b'}) CREATE (src)-[r:USES {extra: 1}]->(tgt) RETURN r.weight, r.extra",
        NULL, "[[0.5,1]]"));
    CHECK(stats_are("{\"properties-set\":1,\"contains-updates\":true}"));
    /* A missing end: no row, nothing created. */
    CHECK(rows_are("MATCH (src {id: 'a'}) MATCH (tgt {id: 'zzz'}) CREATE (src)-[r:USES]->(tgt)", NULL, "[]"));
}

TEST(c15_batch_create_relationships_in_one_statement) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "x1", NULL);
    make_node(EG_LABEL_ENTITY, "x2", NULL);
    make_node(EG_LABEL_ENTITY, "x3", NULL);
    const char *text = "\n            UNWIND $rels AS rel\n            MATCH (src {id: rel.source_id})\n            "
                       "MATCH (tgt {id: rel.target_id})\n            CREATE (src)-[r:SIMILAR_TO]->(tgt)\n            "
                       "SET r += rel.props\n            RETURN count(r) as created\n            ";
    CHECK(rows_are(text,
                   "{\"rels\":[{\"source_id\":\"x1\",\"target_id\":\"x2\",\"props\":{\"weight\":0.3,\"kind\":\"k\"}},"
                   "{\"source_id\":\"x2\",\"target_id\":\"x3\",\"props\":{}},"
                   "{\"source_id\":\"x2\",\"target_id\":\"missing\",\"props\":{}}]}",
                   "[[2]]"));
    CHECK(stats_are("{\"relationships-created\":2,\"properties-set\":2,\"contains-updates\":true}"));
    CHECK(rel_weight("x1", "SIMILAR_TO", "x2") == 0.3);
    json_t *p = rel_props("x2", "SIMILAR_TO", "x3");
    CHECK(p && json_object_size(p) == 1 && json_object_get(p, "lastAccessed"));
    json_decref(p);
    CHECK(rows_are(text, "{\"rels\":[]}", "[[0]]"));
}

static eg_status make_stale(const char *source, const char *target, eg_rel_type type, double weight, int64_t last) {
    json_t *p = json_pack("{s:f,s:I}", "weight", weight, "lastAccessed", (json_int_t)last);
    eg_status st = eg_graph_create_relationship(g, source, target, type, p, &err);
    json_decref(p);
    return st;
}

TEST(c20_c21_c22_decay_prune_and_count_stale_with_and_without_session) {
    reset_graph();
    make_node(EG_LABEL_EPISODE, "s1", "{\"sessionId\":\"one\"}");
    make_node(EG_LABEL_EPISODE, "s2", "{\"sessionId\":\"two\"}");
    make_node(EG_LABEL_ENTITY, "t", NULL);
    CHECK_OK(make_stale("s1", "t", EG_REL_USES, 0.8, 1000), &err);
    CHECK_OK(make_stale("s2", "t", EG_REL_USES, 0.04, 1000), &err);
    CHECK_OK(make_stale("t", "s1", EG_REL_RELATES_TO, 0.5, 9000), &err);
    const char *count_text =
        "\n        MATCH (a)-[r]->(b)\n        WHERE r.lastAccessed < $cutoff\n        AND ($session_id IS NULL OR "
        "a.sessionId = $session_id)\n        RETURN count(r) as count\n        ";
    CHECK(rows_are(count_text, "{\"cutoff\":5000,\"session_id\":null}", "[[2]]"));
    CHECK(strcmp(last_type, "r") == 0);
    CHECK(rows_are(count_text, "{\"cutoff\":5000,\"session_id\":\"one\"}", "[[1]]"));
    CHECK(rows_are(count_text, "{\"cutoff\":10000,\"session_id\":null}", "[[3]]"));
    CHECK(rows_are(count_text, "{\"cutoff\":0,\"session_id\":null}", "[[0]]"));
    const char *decay = "\n        MATCH (a)-[r]->(b)\n        WHERE r.lastAccessed < $cutoff\n        AND "
                        "($session_id IS NULL OR a.sessionId = $session_id)\n        SET r.weight = r.weight * (1 - "
                        "$decay_rate)\n        RETURN count(r) as decayed\n        ";
    CHECK(rows_are(decay, "{\"cutoff\":5000,\"decay_rate\":0.5,\"session_id\":\"one\"}", "[[1]]"));
    CHECK(stats_are("{\"properties-set\":1,\"contains-updates\":true}"));
    CHECK(rel_weight("s1", "USES", "t") == 0.8 * (1 - 0.5));
    CHECK(rel_weight("s2", "USES", "t") == 0.04);
    CHECK(rows_are(decay, "{\"cutoff\":5000,\"decay_rate\":0.1,\"session_id\":null}", "[[2]]"));
    CHECK(rel_weight("s1", "USES", "t") == 0.8 * 0.5 * (1 - 0.1));
    CHECK(rel_weight("s2", "USES", "t") == 0.04 * (1 - 0.1));
    CHECK(rel_weight("t", "RELATES_TO", "s1") == 0.5);
    const char *prune =
        "\n        MATCH (a)-[r]->(b)\n        WHERE r.weight < $min_weight\n        AND ($session_id IS NULL OR "
        "a.sessionId = $session_id)\n        DELETE r\n        RETURN count(r) as pruned\n        ";
    CHECK(rows_are(prune, "{\"min_weight\":0.05,\"session_id\":\"one\"}", "[[0]]"));
    CHECK(rows_are(prune, "{\"min_weight\":0.05,\"session_id\":null}", "[[1]]"));
    CHECK(stats_are("{\"relationships-deleted\":1,\"contains-updates\":true}"));
    CHECK(isnan(rel_weight("s2", "USES", "t")));
    uint64_t count;
    CHECK_OK(eg_graph_count_relationships(g, &count, &err), &err);
    CHECK(count == 2);
}

TEST(c23_c24_strengthen_matches_the_graph_api_formula) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "h1", NULL);
    make_node(EG_LABEL_ENTITY, "h2", NULL);
    make_node(EG_LABEL_ENTITY, "k1", NULL);
    make_node(EG_LABEL_ENTITY, "k2", NULL);
    make_rel("h1", "h2", EG_REL_RELATES_TO, NULL);
    make_rel("k1", "k2", EG_REL_RELATES_TO, NULL);
    const char *forward = "\n            MATCH (a {id: $source_id})-[r]->(b {id: $target_id})\n            SET "
                          "r.weight = COALESCE(r.weight, 0.1) + $lr * (1 - COALESCE(r.weight, 0.1)),\n                "
                          "r.coAccessCount = COALESCE(r.coAccessCount, 0) + 1,\n                r.lastCoAccess = "
                          "$now\n            RETURN r.weight as new_weight\n            ";
    const char *reverse = "\n            MATCH (a {id: $target_id})-[r]->(b {id: $source_id})\n            SET "
                          "r.weight = COALESCE(r.weight, 0.1) + $lr * (1 - COALESCE(r.weight, 0.1)),\n                "
                          "r.coAccessCount = COALESCE(r.coAccessCount, 0) + 1,\n                r.lastCoAccess = "
                          "$now\n            RETURN r.weight as new_weight\n            ";
    double api;
    for (int round = 0; round < 3; round++) {
        json_t *rows = run(forward, "{\"source_id\":\"h1\",\"target_id\":\"h2\",\"lr\":0.2,\"now\":1234}");
        CHECK_OK(eg_graph_strengthen_relationship(g, "k1", "k2", EG_REL_RELATES_TO, 0.2, &api, &err), &err);
        double got = json_real_value(json_array_get(json_array_get(rows, 0), 0));
        CHECK(rows && fabs(got - api) < 1e-12);
        json_decref(rows);
    }
    json_t *p = rel_props("h1", "RELATES_TO", "h2");
    CHECK(p && json_integer_value(json_object_get(p, "coAccessCount")) == 3 &&
          json_integer_value(json_object_get(p, "lastCoAccess")) == 1234);
    json_decref(p);
    /* Reverse: the statement with the ids swapped finds h1 -> h2 from (h2, h1). */
    CHECK(rows_are(forward, "{\"source_id\":\"h2\",\"target_id\":\"h1\",\"lr\":0.2,\"now\":1}", "[]"));
    json_t *rows = run(reverse, "{\"source_id\":\"h2\",\"target_id\":\"h1\",\"lr\":0.2,\"now\":1}");
    CHECK_OK(eg_graph_strengthen_relationship(g, "k2", "k1", EG_REL_RELATES_TO, 0.2, &api, &err), &err);
    CHECK(rows && json_array_size(rows) == 1 &&
          fabs(json_real_value(json_array_get(json_array_get(rows, 0), 0)) - api) < 1e-12);
    json_decref(rows);
}

TEST(c26_find_path_gives_the_graph_api_path) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "p1", NULL);
    make_node(EG_LABEL_EPISODE, "p2", NULL);
    make_node(EG_LABEL_PROCEDURE, "p3", NULL);
    make_node(EG_LABEL_ENTITY, "p4", NULL);
    make_rel("p1", "p2", EG_REL_USES, "{\"weight\":0.5}");
    make_rel("p3", "p2", EG_REL_PART_OF, NULL);
    make_rel("p3", "p4", EG_REL_CAUSES, NULL);
    for (int depth = 1; depth <= 10; depth++) {
        char text[512];
        snprintf(text, sizeof text,
                 "\n            MATCH path = shortestPath((source {id: $source_id})-[*..%d]-(target {id: "
                 "$target_id}))\n            RETURN [node in nodes(path) | {id: node.id, labels: labels(node)}] as "
                 "nodes,\n                   [rel in relationships(path) | {type: type(rel), properties: "
                 "properties(rel)}] as relationships\n            ",
                 depth);
        json_t *rows = run(text, "{\"source_id\":\"p1\",\"target_id\":\"p4\"}");
        eg_path path;
        CHECK_OK(eg_graph_find_path(g, "p1", "p4", depth, EG_REL_TYPES_ALL, &path, &err), &err);
        REQUIRE(rows);
        CHECK(json_array_size(rows) == (path.node_count ? 1u : 0u));
        if (path.node_count && json_array_size(rows) == 1) {
            json_t *nodes = json_array_get(json_array_get(rows, 0), 0),
                   *rels = json_array_get(json_array_get(rows, 0), 1);
            CHECK(json_array_size(nodes) == path.node_count && json_array_size(rels) == path.relationship_count);
            for (size_t i = 0; i < path.node_count && i < json_array_size(nodes); i++) {
                json_t *n = json_array_get(nodes, i);
                CHECK(strcmp(json_string_value(json_object_get(n, "id")), path.nodes[i].id) == 0);
                CHECK(strcmp(json_string_value(json_array_get(json_object_get(n, "labels"), 0)),
                             eg_label_name(path.nodes[i].label)) == 0);
            }
            for (size_t i = 0; i < path.relationship_count && i < json_array_size(rels); i++) {
                json_t *r = json_array_get(rels, i);
                CHECK(strcmp(json_string_value(json_object_get(r, "type")),
                             eg_rel_type_name(path.relationships[i].type)) == 0);
                CHECK(json_equal(json_object_get(r, "properties"), path.relationships[i].properties));
            }
        }
        CHECK((depth >= 3) == (path.node_count == 4));
        eg_path_clear(&path);
        json_decref(rows);
    }
    CHECK(rows_are("MATCH path = shortestPath((s {id: 'p1'})-[*..5]-(t {id: 'p4'})) RETURN length(path), [n IN "
                   "nodes(path) | n.id]",
                   NULL, "[[3,[\"p1\",\"p2\",\"p3\",\"p4\"]]]"));
    /* The path value itself: nodes, unbound relationships, and indices with the direction of each step. */
    /* The path value itself: nodes, unbound relationships, and indices with the direction of each step. */
    CHECK(
        rows_are("MATCH p = shortestPath((s {id: 'p2'})-[*..2]-(t {id: 'p4'})) RETURN [n IN nodes(p) | elementId(n)], "
                 "[r IN relationships(p) | elementId(r)], [r IN relationships(p) | startNode(r).id]",
                 NULL, "[[[\"p2\",\"p3\",\"p4\"],[\"p3>PART_OF>p2\",\"p3>CAUSES>p4\"],[\"p3\",\"p3\"]]]"));
    json_t *rows = run("MATCH p = shortestPath((s {id: 'p2'})-[*..2]-(t {id: 'p4'})) RETURN p", NULL);
    json_t *indices = rows ? json_object_get(json_array_get(json_array_get(rows, 0), 0), "indices") : NULL;
    json_t *want = json_loads("[-1,1,2,2]", 0, NULL);
    CHECK(indices && json_equal(indices, want));
    json_decref(want);
    json_decref(rows);
    CHECK(rows_are("MATCH shortestPath((s {id: 'p1'})-[rs*..5]-(t {id: 'p3'})) RETURN [r IN rs | type(r)]", NULL,
                   "[[[\"USES\",\"PART_OF\"]]]"));
    CHECK(rows_are("MATCH p = shortestPath((s {id: 'p1'})-[*..5]-(t {id: 'p1'})) RETURN p", NULL, "[]"));
    /* Types restrict the search; no path gives no row; a missing end gives no row. */
    CHECK(rows_are("MATCH p = shortestPath((s {id: 'p1'})-[:USES*..5]-(t {id: 'p4'})) RETURN p", NULL, "[]"));
    CHECK(rows_are("MATCH p = shortestPath((s {id: 'p1'})-[:USES|PART_OF|CAUSES*..5]-(t {id: 'p4'})) RETURN length(p)",
                   NULL, "[[3]]"));
    CHECK(rows_are("MATCH p = shortestPath((s {id: 'p1'})-[*..5]-(t {id: 'nobody'})) RETURN p", NULL, "[]"));
    CHECK(refused("MATCH p = shortestPath((s {id: 'p1'})-[*..11]-(t {id: 'p4'})) RETURN p", NULL,
                  "Neo.ClientError.Statement.ArgumentError", "10"));
    CHECK(refused("MATCH p = shortestPath((s {id: 'p1'})-[*]-(t {id: 'p4'})) RETURN p", NULL,
                  "Neo.ClientError.Statement.ArgumentError", "upper bound"));
    CHECK(refused("MATCH p = shortestPath((s {id: 'p1'})-[*..3]->(t {id: 'p4'})) RETURN p", NULL,
                  "Neo.ClientError.Statement.SyntaxError", "both directions"));
    CHECK(refused("MATCH (s {id: 'p1'})-[*..3]-(t) RETURN t", NULL, "Neo.ClientError.Statement.SyntaxError",
                  "variable-length"));
}

TEST(c19_health_checks_return_a_literal) {
    CHECK(rows_are("RETURN 1 as test", NULL, "[[1]]"));
    CHECK(rows_are("RETURN 1 as n", NULL, "[[1]]"));
    CHECK(fields_are("[\"n\"]"));
    CHECK(strcmp(last_type, "r") == 0);
}

TEST(expressions_null_semantics_and_arithmetic) {
    CHECK(rows_are("RETURN null = null, null <> 1, 1 = 1.0, 1 < 2.5, 'a' < 'b', [1,2] = [1,2], [1,null] = [1,2], "
                   "[1,null] = [2,null]",
                   NULL, "[[null,null,true,true,true,true,null,false]]"));
    CHECK(rows_are("RETURN true AND null, false AND null, true OR null, false OR null, true XOR null, NOT null, "
                   "true XOR false",
                   NULL, "[[null,false,true,null,null,null,true]]"));
    CHECK(rows_are("RETURN 7 / 2, 7.0 / 2, 7 % 3, -7 % 3, 2 ^ 3, 1 + 2.5, 'a' + 1, 'x' + 'y', [1] + 2, 0 + [1]", NULL,
                   "[[3,3.5,1,-1,8.0,3.5,\"a1\",\"xy\",[1,2],[0,1]]]"));
    CHECK(rows_are("RETURN null + 1, -(-3), 1 IN [1,2], 3 IN [1,2], 3 IN [1,null], null IN [1], 1 IN null", NULL,
                   "[[null,3,true,false,null,null,null]]"));
    CHECK(rows_are("RETURN 'abc' STARTS WITH 'ab', 'abc' ENDS WITH 'bc', 'abc' CONTAINS 'x', 1 STARTS WITH 'a', "
                   "'abc' CONTAINS null",
                   NULL, "[[true,true,false,null,null]]"));
    CHECK(
        rows_are("RETURN null IS NULL, 1 IS NULL, 1 IS NOT NULL, [1,2,3][0], [1,2,3][-1], [1,2,3][5], [1,2,3,4][1..3], "
                 "{a: 1}.a, {a: 1}['a'], {a: 1}.b",
                 NULL, "[[true,false,true,1,3,null,[2,3],1,1,null]]"));
    CHECK(rows_are("RETURN CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END, "
                   "CASE WHEN 1 > 2 THEN 'x' END, CASE WHEN null THEN 1 ELSE 2 END",
                   NULL, "[[\"two\",null,2]]"));
    CHECK(rows_are("RETURN [x IN range(1, 6) WHERE x % 2 = 0 | x * 10], [x IN [1,2] | [x, x]], [x IN null | x]", NULL,
                   "[[[20,40,60],[[1,1],[2,2]],null]]"));
    CHECK(rows_are("RETURN $p, $list, $map.k, $f, $b",
                   "{\"p\":\"v\",\"list\":[1,\"a\",null],\"map\":{\"k\":[true]},\"f\":1.5,\"b\":false}",
                   "[[\"v\",[1,\"a\",null],[true],1.5,false]]"));
    CHECK(refused("RETURN 9223372036854775807 + 1", NULL, "Neo.ClientError.Statement.ArithmeticError", "overflow"));
    CHECK(refused("RETURN -9223372036854775807 - 2", NULL, "Neo.ClientError.Statement.ArithmeticError", NULL));
    CHECK(refused("RETURN 4611686018427387904 * 2", NULL, "Neo.ClientError.Statement.ArithmeticError", NULL));
    CHECK(refused("RETURN 1 / 0", NULL, "Neo.ClientError.Statement.ArithmeticError", "by zero"));
    CHECK(refused("RETURN 1 % 0", NULL, "Neo.ClientError.Statement.ArithmeticError", "by zero"));
    CHECK(refused("RETURN $missing", NULL, "Neo.ClientError.Statement.ParameterMissing", "missing"));
    CHECK(refused("RETURN 1 AND true", NULL, "Neo.ClientError.Statement.TypeError", NULL));
    CHECK(refused("RETURN 'a' - 1", NULL, "Neo.ClientError.Statement.TypeError", NULL));
    CHECK(refused("RETURN 1 IN 2", NULL, "Neo.ClientError.Statement.TypeError", NULL));
    CHECK(refused("RETURN 'a' =~ 'a.*'", NULL, "Neo.ClientError.Statement.SyntaxError", "=~"));
    CHECK(refused("RETURN nosuch(1)", NULL, "Neo.ClientError.Statement.SyntaxError", "nosuch"));
    CHECK(refused("RETURN x", NULL, "Neo.ClientError.Statement.SyntaxError", "`x` not defined"));
    /* Refused from the text, even when no row would ever reach the expression. */
    CHECK(refused("MATCH (n:Contact) RETURN x", NULL, "Neo.ClientError.Statement.SyntaxError", "`x` not defined"));
    CHECK(refused("UNWIND [] AS x RETURN nosuch(x)", NULL, "Neo.ClientError.Statement.SyntaxError", "nosuch"));
    CHECK(refused("MATCH (n:Contact) WITH n.name AS name RETURN n", NULL, "Neo.ClientError.Statement.SyntaxError",
                  "`n` not defined"));
    CHECK(refused("MATCH (n:Contact) SET m.x = 1", NULL, "Neo.ClientError.Statement.SyntaxError", "`m` not defined"));
    CHECK(refused("MATCH (n:Contact) DELETE m", NULL, "Neo.ClientError.Statement.SyntaxError", "`m` not defined"));
    CHECK(refused("RETURN [x IN [1] | y]", NULL, "Neo.ClientError.Statement.SyntaxError", "`y` not defined"));
    CHECK(rows_are("UNWIND [2, 1] AS x WITH x AS y ORDER BY x RETURN y", NULL, "[[1],[2]]"));
    CHECK(rows_are("RETURN 1 / 0.0 > 1e300, toString(0.1), toString(1.0), toString(10), toString(true)", NULL,
                   "[[true,\"0.1\",\"1.0\",\"10\",\"true\"]]"));
    /* Floats print as Neo4j (Java) prints them: plain from 10^-3 to 10^7, else d.dddE<n>. */
    CHECK(rows_are("RETURN toString(100.0), 'n=' + 2000.0, toString(1.0e7), toString(1.5e-4), toString(-0.0), "
                   "toString(0.001), toString(123456.789), toString(-2.5e300), toString(9999999.0), toString(1/3.0)",
                   NULL,
                   "[[\"100.0\",\"n=2000.0\",\"1.0E7\",\"1.5E-4\",\"-0.0\",\"0.001\",\"123456.789\","
                   "\"-2.5E300\",\"9999999.0\",\"0.3333333333333333\"]]"));
}

TEST(functions) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "f1", "{\"name\":\"Ünïcode Name\",\"n\":3}");
    make_node(EG_LABEL_PROCEDURE, "f2", NULL);
    make_rel("f1", "f2", EG_REL_DEPENDS_ON, "{\"weight\":0.7,\"lastAccessed\":42}");
    CHECK(rows_are("MATCH (n:Entity {id: 'f1'})-[r]->(m) RETURN labels(n), labels(m), type(r), elementId(n), "
                   "elementId(r), keys(n), startNode(r).id, endNode(r).id, properties(r)",
                   NULL,
                   "[[[\"Entity\"],[\"Procedure\"],\"DEPENDS_ON\",\"f1\",\"f1>DEPENDS_ON>f2\",[\"id\",\"name\",\"n\"],"
                   "\"f1\",\"f2\",{\"weight\":0.7,\"lastAccessed\":42}]]"));
    json_t *rows = run("MATCH (n {id: 'f1'})-[r]->(m) RETURN id(n), id(m), id(r)", NULL);
    REQUIRE(rows);
    json_t *row = json_array_get(rows, 0);
    for (int i = 0; i < 3; i++)
        CHECK(json_is_integer(json_array_get(row, i)) && json_integer_value(json_array_get(row, i)) >= 0);
    CHECK(json_integer_value(json_array_get(row, 0)) != json_integer_value(json_array_get(row, 1)));
    json_decref(rows);
    CHECK(rows_are("MATCH (n {id: 'f1'}) RETURN toLower(n.name), toUpper(n.name), size(n.name), n.n + 1", NULL,
                   "[[\"ünïcode name\",\"ÜNÏCODE NAME\",12,4]]"));
    CHECK(rows_are(
        "RETURN coalesce(null, null, 2, 3), coalesce(null), timestamp(), size([1,2]), head([1,2]), last([1,2]), "
        "head([]), tail([1,2,3]), range(0, 10, 5), range(3, 1)",
        NULL, "[[2,null,1700000000000,2,1,2,null,[2,3],[0,5,10],[]]]"));
    CHECK(rows_are(
        "RETURN toInteger('42'), toInteger('4.7'), toInteger(4.7), toInteger('x'), toFloat('1.5'), toFloat(2), "
        "toBoolean('TRUE'), toString(null)",
        NULL, "[[42,4,4,null,1.5,2.0,true,null]]"));
    CHECK(rows_are(
        "RETURN abs(-3), abs(-2.5), sign(-2), ceil(1.2), floor(1.8), round(2.5), sqrt(16), reverse('abc'), "
        "reverse([1,2]), trim('  x '), replace('aXbX', 'X', '-'), substring('hello', 1, 3), split('a,b,c', ','), "
        "left('hello', 2), right('hello', 2)",
        NULL, "[[3,2.5,-1,2.0,1.0,3.0,4.0,\"cba\",[2,1],\"x\",\"a-b-\",\"ell\",[\"a\",\"b\",\"c\"],\"he\",\"lo\"]]"));
    /* As Java's String methods, which Neo4j runs: an empty search matches around every character; ß capitalises
     * to SS. */
    CHECK(rows_are("RETURN replace('abc', '', '-'), replace('', '', '-'), replace('h\u00e9!', '', '.'), "
                   "toUpper('stra\u00dfe'), toLower('\u00c9T\u00c9')",
                   NULL, "[[\"-a-b-c-\",\"-\",\".h.\u00e9.!.\",\"STRASSE\",\"\u00e9t\u00e9\"]]"));
    {
        char params[40000];
        int at = snprintf(params, sizeof params, "{\"s\":\"");
        for (int i = 0; i < 1000; i++) params[at++] = 'a';
        at += snprintf(params + at, sizeof params - (size_t)at, "\",\"big\":\"");
        for (int i = 0; i < 20000; i++) params[at++] = 'b';
        snprintf(params + at, sizeof params - (size_t)at, "\"}");
        CHECK(refused("RETURN replace($s, 'a', $big)", params, "Neo.ClientError.Statement.ExecutionFailed",
                      "more than 16777216 bytes"));
        CHECK(refused("RETURN replace($s, '', $big)", params, "Neo.ClientError.Statement.ExecutionFailed",
                      "more than 16777216 bytes"));
    }
    CHECK(rows_are("MATCH (n {id: 'f1'}) RETURN exists(n.name), exists(n.nothing), n.nothing IS NULL", NULL,
                   "[[true,false,true]]"));
    CHECK(rows_are("RETURN keys({b: 1, a: 2}), properties({a: 1}), length('abc'), isEmpty([])", NULL,
                   "[[[\"b\",\"a\"],{\"a\":1},3,true]]"));
    CHECK(rows_are("RETURN all(x IN [1, 2] WHERE x > 0), any(x IN [1, 2] WHERE x > 1), none(x IN [1, 2] WHERE x > 1), "
                   "single(x IN [1, 2] WHERE x > 1), all(x IN [1, null] WHERE x > 0), any(x IN [] WHERE x > 0), "
                   "single(x IN [2, 2] WHERE x > 1), all(x IN null WHERE x > 0)",
                   NULL, "[[true,true,false,true,null,false,false,null]]"));
    CHECK(refused("RETURN type(1)", NULL, "Neo.ClientError.Statement.TypeError", "type"));
    CHECK(refused("RETURN range(1, 2, 0)", NULL, "Neo.ClientError.Statement.ArgumentError", "step"));
    CHECK(refused("RETURN range(0, 9223372036854775806)", NULL, "Neo.ClientError.Statement.ExecutionFailed", "range"));
}

TEST(match_where_optional_match_and_patterns) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "m1", "{\"name\":\"alice\",\"age\":30}");
    make_node(EG_LABEL_ENTITY, "m2", "{\"name\":\"bob\",\"age\":25}");
    make_node(EG_LABEL_EPISODE, "m3", "{\"name\":\"carol\"}");
    make_node(EG_LABEL_PROCEDURE, "m4", NULL);
    make_rel("m1", "m2", EG_REL_RELATES_TO, "{\"weight\":0.9}");
    make_rel("m2", "m3", EG_REL_RELATES_TO, NULL);
    make_rel("m3", "m1", EG_REL_SOURCE_OF, NULL);
    make_rel("m1", "m1", EG_REL_SIMILAR_TO, NULL);
    CHECK(rows_are("MATCH (n:Entity) RETURN n.name ORDER BY n.name", NULL, "[[\"alice\"],[\"bob\"]]"));
    CHECK(rows_are("MATCH (n) WHERE n.age > 26 OR n.name = 'carol' RETURN n.id ORDER BY n.id", NULL,
                   "[[\"m1\"],[\"m3\"]]"));
    CHECK(rows_are("MATCH (n) WHERE n.age >= 25 AND NOT n.name STARTS WITH 'a' RETURN n.id", NULL, "[[\"m2\"]]"));
    CHECK(
        rows_are("MATCH (n) WHERE n.id IN ['m2', 'm4', 'zz'] RETURN n.id ORDER BY n.id", NULL, "[[\"m2\"],[\"m4\"]]"));
    CHECK(rows_are("MATCH (n) WHERE n.name IS NULL RETURN n.id", NULL, "[[\"m4\"]]"));
    CHECK(rows_are("MATCH (n) WHERE n:Episode RETURN n.id", NULL, "[[\"m3\"]]"));
    CHECK(rows_are("MATCH (n:Entity {name: 'bob'}) RETURN n.id", NULL, "[[\"m2\"]]"));
    CHECK(rows_are("MATCH (n:Contact) RETURN n", NULL, "[]"));
    CHECK(rows_are("MATCH (a)-[:NOT_A_TYPE]->(b) RETURN a", NULL, "[]"));
    /* Chains, both directions, and a cycle back to the start. */
    CHECK(rows_are("MATCH (a {id: 'm1'})-[:RELATES_TO]->(b)-[:RELATES_TO]->(c) RETURN b.id, c.id", NULL,
                   "[[\"m2\",\"m3\"]]"));
    CHECK(rows_are("MATCH (c)<-[:RELATES_TO]-(b)<-[:RELATES_TO]-(a) RETURN a.id, b.id, c.id", NULL,
                   "[[\"m1\",\"m2\",\"m3\"]]"));
    CHECK(
        rows_are("MATCH (a)-[:RELATES_TO]->(b)-[:RELATES_TO]->(c)-[:SOURCE_OF]->(a) RETURN a.id", NULL, "[[\"m1\"]]"));
    CHECK(rows_are("MATCH (a)-[r]->(a) RETURN a.id, type(r)", NULL, "[[\"m1\",\"SIMILAR_TO\"]]"));
    CHECK(rows_are("MATCH (a {id: 'm1'})-[r]-(b) RETURN type(r), b.id ORDER BY type(r), b.id", NULL,
                   "[[\"RELATES_TO\",\"m2\"],[\"SIMILAR_TO\",\"m1\"],[\"SOURCE_OF\",\"m3\"]]"));
    CHECK(rows_are("MATCH (a)-[r:RELATES_TO {weight: 0.9}]->(b) RETURN a.id, b.id", NULL, "[[\"m1\",\"m2\"]]"));
    CHECK(rows_are("MATCH (a)-[r:RELATES_TO|SOURCE_OF]->(b:Entity) RETURN a.id, b.id ORDER BY a.id", NULL,
                   "[[\"m1\",\"m2\"],[\"m3\",\"m1\"]]"));
    /* Comma-separated parts, and relationships distinct within one MATCH. */
    CHECK(rows_are("MATCH (a {id: 'm1'}), (b {id: 'm4'}) RETURN a.id, b.id", NULL, "[[\"m1\",\"m4\"]]"));
    CHECK(rows_are("MATCH (a)-[r1]->(b), (c)-[r2]->(d) WHERE a.id = 'm1' AND c.id = 'm1' RETURN count(*)", NULL,
                   "[[2]]"));
    CHECK(rows_are("MATCH (a {id: 'm1'})-[r1]-(b)-[r2]-(c) WHERE b.id = 'm1' RETURN count(*)", NULL, "[[2]]"));
    /* OPTIONAL MATCH keeps the row with nulls. */
    CHECK(rows_are("MATCH (n {id: 'm4'}) OPTIONAL MATCH (n)-[r]->(m) RETURN n.id, r, m", NULL, "[[\"m4\",null,null]]"));
    CHECK(rows_are("MATCH (n) OPTIONAL MATCH (n)-[r:RELATES_TO]->(m) WHERE m.age < 30 RETURN n.id, m.id ORDER BY n.id",
                   NULL, "[[\"m1\",\"m2\"],[\"m2\",null],[\"m3\",null],[\"m4\",null]]"));
    CHECK(rows_are("OPTIONAL MATCH (n:Contact) RETURN n", NULL, "[[null]]"));
    CHECK(rows_are("OPTIONAL MATCH (n {id: 'm9'}) MATCH (n)-->(m) RETURN m", NULL, "[]"));
    /* Whole values: a node and a relationship. */
    CHECK(rows_are(
        "MATCH (n {id: 'm2'})-[r]->(m) RETURN n", NULL,
        "[[{\"node\":\"m2\",\"labels\":[\"Entity\"],\"properties\":{\"id\":\"m2\",\"name\":\"bob\",\"age\":25}}]]"));
    CHECK(rows_are("MATCH (n {id: 'm1'})-[r:RELATES_TO]->(m) RETURN r.weight, elementId(r)", NULL,
                   "[[0.9,\"m1>RELATES_TO>m2\"]]"));
    CHECK(rows_are(
        "MATCH p = (a {id: 'm1'})-[:RELATES_TO]->(b)<-[:SOURCE_OF]-(c) RETURN [n IN nodes(p) | n.id], length(p)", NULL,
        "[]"));
    CHECK(rows_are(
        "MATCH p = (a {id: 'm1'})-[:RELATES_TO]->(b)-[:RELATES_TO]->(c) RETURN [n IN nodes(p) | n.id], length(p), "
        "[r IN relationships(p) | type(r)]",
        NULL, "[[[\"m1\",\"m2\",\"m3\"],2,[\"RELATES_TO\",\"RELATES_TO\"]]]"));
    CHECK(refused("MATCH (n:Entity:Episode) RETURN n", NULL, "Neo.ClientError.Statement.SyntaxError", "one label"));
    CHECK(refused("MATCH (a)-[*1..2]->(b) RETURN b", NULL, "Neo.ClientError.Statement.SyntaxError", "variable-length"));
    CHECK(refused("MATCH (n) WHERE (n)-->() RETURN n", NULL, "Neo.ClientError.Statement.SyntaxError", NULL));
    CHECK(refused("CALL db.labels()", NULL, "Neo.ClientError.Procedure.ProcedureNotFound", "db.labels"));
    CHECK(
        refused("MATCH (n) RETURN n.name AS x, n.id AS x", NULL, "Neo.ClientError.Statement.SyntaxError", "same name"));
}

TEST(projection_ordering_distinct_skip_limit_with_unwind) {
    CHECK(rows_are("UNWIND [3, 1, null, 2, 'a', 1.5, true] AS x RETURN x ORDER BY x", NULL,
                   "[[\"a\"],[true],[1],[1.5],[2],[3],[null]]"));
    CHECK(rows_are("UNWIND [3, 1, null, 2] AS x RETURN x ORDER BY x DESC", NULL, "[[null],[3],[2],[1]]"));
    CHECK(rows_are("UNWIND [[2, 'b'], [1, 'z'], [2, 'a']] AS p RETURN p[1] AS s ORDER BY p[0], s DESC", NULL,
                   "[[\"z\"],[\"b\"],[\"a\"]]"));
    CHECK(
        rows_are("UNWIND [1, 1.0, 2, null, null, [1], [1.0]] AS x RETURN DISTINCT x", NULL, "[[1],[2],[null],[[1]]]"));
    CHECK(rows_are("UNWIND range(1, 10) AS x RETURN x SKIP 2 LIMIT 3", NULL, "[[3],[4],[5]]"));
    CHECK(rows_are("UNWIND range(1, 10) AS x RETURN x ORDER BY x DESC LIMIT $n", "{\"n\":2}", "[[10],[9]]"));
    CHECK(rows_are("UNWIND range(1, 3) AS x RETURN x SKIP 5", NULL, "[]"));
    CHECK(rows_are("UNWIND [] AS x RETURN x", NULL, "[]"));
    CHECK(rows_are("UNWIND null AS x RETURN x", NULL, "[]"));
    CHECK(rows_are("UNWIND 5 AS x RETURN x", NULL, "[[5]]"));
    CHECK(rows_are("WITH 2 AS b, 1 AS a RETURN *, a + b AS s", NULL, "[[1,2,3]]"));
    CHECK(fields_are("[\"a\",\"b\",\"s\"]"));
    CHECK(rows_are("UNWIND [1,2,3,4] AS x WITH x WHERE x % 2 = 0 RETURN x", NULL, "[[2],[4]]"));
    CHECK(rows_are("UNWIND [1,2,3] AS x WITH x ORDER BY x DESC LIMIT 2 RETURN collect(x)", NULL, "[[[3,2]]]"));
    CHECK(rows_are("UNWIND [1, 2] AS x UNWIND ['a', 'b'] AS y RETURN x, y", NULL,
                   "[[1,\"a\"],[1,\"b\"],[2,\"a\"],[2,\"b\"]]"));
    CHECK(rows_are("RETURN 1 + 1, 'a' AS b, [1, 2] ,  {k: 'v'}", NULL, "[[2,\"a\",[1,2],{\"k\":\"v\"}]]"));
    CHECK(fields_are("[\"1 + 1\",\"b\",\"[1, 2]\",\"{k: 'v'}\"]"));
    CHECK(refused("UNWIND [1] AS x RETURN x LIMIT -1", NULL, "Neo.ClientError.Statement.ArgumentError", "LIMIT"));
    CHECK(refused("WITH 1 + 1 RETURN 1", NULL, "Neo.ClientError.Statement.SyntaxError", "aliased"));
    CHECK(refused("MATCH (n)", NULL, "Neo.ClientError.Statement.SyntaxError", "conclude"));
}

TEST(aggregation_groups_by_the_other_items) {
    CHECK(rows_are("UNWIND [1, 2, 2, null, 3] AS x RETURN count(x), count(*), count(DISTINCT x), collect(x), "
                   "collect(DISTINCT x), sum(x), avg(x), min(x), max(x)",
                   NULL, "[[4,5,3,[1,2,2,3],[1,2,3],8,2.0,1,3]]"));
    CHECK(rows_are("UNWIND [] AS x RETURN count(x), count(*), collect(x), sum(x), avg(x), min(x), max(x)", NULL,
                   "[[0,0,[],0,null,null,null]]"));
    CHECK(rows_are("UNWIND [1.5, 2] AS x RETURN sum(x)", NULL, "[[3.5]]"));
    CHECK(rows_are("UNWIND [['a', 1], ['b', 2], ['a', 3], [null, 4], [null, 5]] AS p "
                   "RETURN p[0] AS k, sum(p[1]) AS total, count(*) * 10 AS c ORDER BY total DESC",
                   NULL, "[[null,9,20],[\"a\",4,20],[\"b\",2,10]]"));
    CHECK(rows_are("UNWIND [1, 1.0, 2] AS x RETURN x, count(*) ORDER BY x", NULL, "[[1,2],[2,1]]"));
    CHECK(rows_are("UNWIND [] AS x RETURN x, count(*)", NULL, "[]"));
    CHECK(rows_are("UNWIND ['b', 'a', 'b'] AS x RETURN x, count(*) AS c ORDER BY count(*) DESC, x", NULL,
                   "[[\"b\",2],[\"a\",1]]"));
    CHECK(rows_are("UNWIND [1, 2, 3] AS x WITH x % 2 AS parity, collect(x) AS xs RETURN parity, xs ORDER BY parity",
                   NULL, "[[0,[2]],[1,[1,3]]]"));
    CHECK(rows_are("UNWIND [1, 2, 3] AS x RETURN x % 2 AS parity, size(collect(x)) + 100 AS n ORDER BY parity", NULL,
                   "[[0,101],[1,102]]"));
    CHECK(refused("UNWIND [9223372036854775807, 1] AS x RETURN sum(x)", NULL,
                  "Neo.ClientError.Statement.ArithmeticError", NULL));
    CHECK(refused("UNWIND ['a'] AS x RETURN sum(x)", NULL, "Neo.ClientError.Statement.TypeError", NULL));
    CHECK(refused("UNWIND [1] AS x RETURN x + count(*)", NULL, "Neo.ClientError.Statement.SyntaxError", "grouping"));
    CHECK(refused("UNWIND [1] AS x RETURN count(count(x))", NULL, "Neo.ClientError.Statement.SyntaxError", "inside"));
    CHECK(refused("UNWIND [1] AS x WITH x WHERE count(x) > 0 RETURN x", NULL, "Neo.ClientError.Statement.SyntaxError",
                  "aggregation"));
}

TEST(create_merge_set_remove_delete) {
    reset_graph();
    CHECK(rows_are("CREATE (a:Entity {id: 'w1', name: 'a'})-[r:USES {weight: 0.5}]->(b:Procedure {id: 'w2'}) "
                   "RETURN a.id, type(r), b.id, r.weight",
                   NULL, "[[\"w1\",\"USES\",\"w2\",0.5]]"));
    CHECK(stats_are("{\"nodes-created\":2,\"labels-added\":2,\"relationships-created\":1,\"properties-set\":4,"
                    "\"contains-updates\":true}"));
    CHECK(strcmp(last_type, "rw") == 0);
    CHECK(rows_are("CREATE (a:Episode {id: 'w3'})<-[:CAUSES {id: 7}]-(b:Episode {id: 'w4'})", NULL, "[]"));
    CHECK(strcmp(last_type, "w") == 0);
    json_t *p = rel_props("w4", "CAUSES", "w3");
    CHECK(p && json_integer_value(json_object_get(p, "id")) == 7);
    json_decref(p);
    CHECK(rows_are("UNWIND ['w5', 'w6'] AS i CREATE (n:Entity {id: i, n: 1}) RETURN count(n)", NULL, "[[2]]"));
    CHECK(node_props_are("w6", "{\"n\":1}"));
    /* SET forms. */
    CHECK(rows_are("MATCH (n {id: 'w1'}) SET n += {age: 3, name: 'b'} RETURN n.name, n.age", NULL, "[[\"b\",3]]"));
    CHECK(node_props_are("w1", "{\"name\":\"b\",\"age\":3}"));
    CHECK(rows_are("MATCH (n {id: 'w1'}) SET n = {color: 'red'} RETURN properties(n)", NULL,
                   "[[{\"id\":\"w1\",\"color\":\"red\"}]]"));
    CHECK(node_props_are("w1", "{\"color\":\"red\"}"));
    CHECK(rows_are("MATCH (n {id: 'w1'}) SET n = {id: 'w1', size: 2} RETURN n", NULL,
                   "[[{\"node\":\"w1\",\"labels\":[\"Entity\"],\"properties\":{\"id\":\"w1\",\"size\":2}}]]"));
    CHECK(rows_are("MATCH (n {id: 'w1'}) SET n:Entity REMOVE n.size RETURN keys(n)", NULL, "[[[\"id\"]]]"));
    CHECK(node_props_are("w1", "{}"));
    CHECK(rows_are("MATCH (n {id: 'w1'}) SET n.id = 'w1' RETURN n.id", NULL, "[[\"w1\"]]"));
    /* A property read after SET in the same row, and across rows of one node. */
    CHECK(rows_are("MATCH (n {id: 'w5'}) UNWIND [1, 2, 3] AS i SET n.n = n.n + i RETURN n.n", NULL, "[[7],[7],[7]]"));
    CHECK(node_props_are("w5", "{\"n\":7}"));
    /* SET on relationships, including the typed ones; null removes. */
    CHECK(rows_are("MATCH (:Entity {id: 'w1'})-[r:USES]->() SET r.weight = 0.75, r.coAccessCount = 2, r.label = 'x' "
                   "RETURN r.weight, r.coAccessCount, r.label",
                   NULL, "[[0.75,2,\"x\"]]"));
    CHECK(rows_are("MATCH ({id: 'w1'})-[r:USES]->() SET r.label = null, r.weight = null RETURN r.label, r.weight", NULL,
                   "[[null,null]]"));
    p = rel_props("w1", "USES", "w2");
    CHECK(p && !json_object_get(p, "label") && !json_object_get(p, "weight") && json_object_get(p, "coAccessCount"));
    json_decref(p);
    CHECK(rows_are("MATCH ({id: 'w1'})-[r:USES]->() SET r = {k: 1} RETURN r.k, r.coAccessCount, r.lastAccessed IS NULL",
                   NULL, "[[1,null,false]]"));
    /* MERGE nodes by id: matched, then created; ON MATCH / ON CREATE. */
    CHECK(rows_are("MERGE (n:Entity {id: 'w5'}) ON CREATE SET n.created = true ON MATCH SET n.matched = true "
                   "RETURN n.matched, n.created",
                   NULL, "[[true,null]]"));
    CHECK(stats_are("{\"properties-set\":1,\"contains-updates\":true}"));
    CHECK(
        rows_are("MERGE (n:Entity {id: 'w7', kind: 'k'}) ON CREATE SET n.created = true ON MATCH SET n.matched = true "
                 "RETURN n.matched, n.created, n.kind",
                 NULL, "[[null,true,\"k\"]]"));
    CHECK(stats_are("{\"nodes-created\":1,\"labels-added\":1,\"properties-set\":3,\"contains-updates\":true}"));
    CHECK(rows_are("UNWIND ['w7', 'w8', 'w8'] AS i MERGE (n:Entity {id: i}) RETURN count(*)", NULL, "[[3]]"));
    CHECK(stats_are("{\"nodes-created\":1,\"labels-added\":1,\"properties-set\":1,\"contains-updates\":true}"));
    /* MERGE relationships between bound nodes (the neuro-symbolic caller's form). */
    CHECK(rows_are("MATCH (a {id: 'w7'}), (b {id: 'w8'}) MERGE (a)-[r:IMPLEMENTS {confidence: 0.9}]->(b) "
                   "ON CREATE SET r.new = true RETURN r.confidence, r.new",
                   NULL, "[[0.9,true]]"));
    CHECK(stats_are("{\"relationships-created\":1,\"properties-set\":2,\"contains-updates\":true}"));
    CHECK(rows_are("MATCH (a {id: 'w7'}), (b {id: 'w8'}) MERGE (a)-[r:IMPLEMENTS {confidence: 0.9}]->(b) "
                   "ON MATCH SET r.seen = 1 RETURN r.seen",
                   NULL, "[[1]]"));
    CHECK(rows_are("MATCH (a {id: 'w8'}), (b {id: 'w7'}) MERGE (a)-[r:IMPLEMENTS]-(b) RETURN startNode(r).id", NULL,
                   "[[\"w7\"]]"));
    CHECK(stats_are("{}"));
    /* DELETE: a relationship, a node without relationships, both together, DETACH. */
    CHECK(rows_are("MATCH ({id: 'w7'})-[r:IMPLEMENTS]->() DELETE r RETURN count(r)", NULL, "[[1]]"));
    CHECK(stats_are("{\"relationships-deleted\":1,\"contains-updates\":true}"));
    CHECK(rows_are("MATCH (n {id: 'w8'}) DELETE n", NULL, "[]"));
    CHECK(stats_are("{\"nodes-deleted\":1,\"contains-updates\":true}"));
    CHECK(rows_are("MATCH (n {id: 'w4'})-[r]-() DELETE r, n", NULL, "[]"));
    CHECK(stats_are("{\"nodes-deleted\":1,\"relationships-deleted\":1,\"contains-updates\":true}"));
    CHECK(refused("MATCH (n {id: 'w1'}) DELETE n", NULL, "Neo.ClientError.Schema.ConstraintValidationFailed",
                  "still has relationships"));
    CHECK(rows_are("MATCH (n {id: 'w1'}) DETACH DELETE n RETURN count(*)", NULL, "[[1]]"));
    CHECK(rows_are("OPTIONAL MATCH (n {id: 'gone'}) DELETE n", NULL, "[]"));
    CHECK(refused("MATCH (n {id: 'w2'}) DETACH DELETE n SET n.x = 1", NULL, "Neo.ClientError.Statement.EntityNotFound",
                  "deleted"));
    CHECK(refused("MATCH (n {id: 'w2'}) DETACH DELETE n RETURN n.x", NULL, "Neo.ClientError.Statement.EntityNotFound",
                  "deleted"));
}

TEST(writes_refused_by_engram_model_change_nothing) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "r1", "{\"name\":\"x\"}");
    make_node(EG_LABEL_ENTITY, "r2", NULL);
    const char *arg = "Neo.ClientError.Statement.ArgumentError", *type = "Neo.ClientError.Statement.TypeError";
    CHECK(refused("CREATE (n:Contact {id: 'c1'})", NULL, arg, "Contact"));
    CHECK(refused("CREATE (n:Contact {id: 'c1'})", NULL, arg, "Episode, Entity, Procedure"));
    CHECK(refused("CREATE (n {id: 'c1'})", NULL, arg, "label"));
    CHECK(refused("CREATE (n:Entity:Episode {id: 'c1'})", NULL, "Neo.ClientError.Statement.SyntaxError", "one label"));
    CHECK(refused("CREATE (n:Entity {name: 'no id'})", NULL, arg, "id"));
    CHECK(refused("CREATE (n:Entity {id: 'bad id!'})", NULL, arg, NULL));
    CHECK(refused("CREATE (n:Entity {id: 7})", NULL, type, "id"));
    CHECK(refused("MATCH (a {id: 'r1'}), (b {id: 'r2'}) CREATE (a)-[:KNOWS]->(b)", NULL, arg, "KNOWS"));
    CHECK(refused("MATCH (a {id: 'r1'}), (b {id: 'r2'}) CREATE (a)-[:USES]-(b)", NULL,
                  "Neo.ClientError.Statement.SyntaxError", "directed"));
    CHECK(
        refused("MATCH (a {id: 'r1'}), (b {id: 'r2'}) CREATE (a)-[:USES {weight: 'heavy'}]->(b)", NULL, arg, "weight"));
    CHECK(refused("MATCH (a {id: 'r1'}), (b {id: 'r2'}) CREATE (a)-[:USES]->(b), (a)-[:CAUSES]->(c:Nope {id: 'q'})",
                  NULL, arg, "Nope"));
    /* Values that cannot be properties name the property. */
    CHECK(refused("MATCH (n {id: 'r1'}) SET n.m = {a: 1}", NULL, type, "'m'"));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n.m = [1, 'a']", NULL, type, "'m'"));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n.m = [[1]]", NULL, type, "'m'"));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n.m = 0.0 / 0.0", NULL, type, "'m'"));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n.m = n", NULL, type, "'m'"));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n.`bad name` = 1", NULL, arg, NULL));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n.id = 'r9'", NULL, arg, "cannot be changed"));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n = {id: 'r9'}", NULL, arg, "cannot be changed"));
    CHECK(refused("MATCH (n {id: 'r1'}) REMOVE n.id", NULL, arg, "cannot be changed"));
    CHECK(refused("MATCH (n {id: 'r1'}) SET n:Episode", NULL, arg, "exactly one label"));
    CHECK(refused("MATCH (n {id: 'r1'}) REMOVE n:Entity", NULL, arg, "exactly one label"));
    CHECK(refused("MERGE (n:Entity {name: 'x'})", NULL, arg, "id"));
    CHECK(refused("MERGE (n:Episode {id: 'r1'})", NULL, "Neo.ClientError.Schema.ConstraintValidationFailed", "r1"));
    CHECK(refused("MERGE (n:Entity {id: 'r1', name: 'other'})", NULL,
                  "Neo.ClientError.Schema.ConstraintValidationFailed", "r1"));
    CHECK(refused("MERGE (a:Entity {id: 'r1'})-[:USES]->(b:Entity {id: 'r2'})", NULL,
                  "Neo.ClientError.Statement.SemanticError", "bound"));
    CHECK(refused("MATCH (a {id: 'r1'}), (b {id: 'r2'}) MERGE (a)-[:USES|CAUSES]->(b)", NULL,
                  "Neo.ClientError.Statement.SyntaxError", NULL));
    /* A failure after writes: the caller rolls back, so nothing stays (refused() checks the graph). */
    CHECK(refused("CREATE (a:Entity {id: 'ok1'}) CREATE (b:Entity {id: 'r1'})", NULL,
                  "Neo.ClientError.Schema.ConstraintValidationFailed", NULL));
    CHECK(refused("UNWIND [1, 0] AS d MATCH (n {id: 'r1'}) SET n.q = 10 / d", NULL,
                  "Neo.ClientError.Statement.ArithmeticError", NULL));
}

/* A statement of many clauses each nesting a value once more, and a very long pattern: refused, not a stack
 * overflow. */
TEST(hostile_nesting_and_pattern_length_are_bounded) {
    size_t cap = 200000;
    char *text = malloc(cap);
    size_t len = (size_t)snprintf(text, cap, "WITH 1 AS x ");
    for (int i = 0; i < 5000; i++) len += (size_t)snprintf(text + len, cap - len, "WITH [x] AS x ");
    snprintf(text + len, cap - len, "RETURN x");
    CHECK(refused(text, NULL, "Neo.ClientError.Statement.ExecutionFailed", "nest"));
    len = (size_t)snprintf(text, cap, "UNWIND range(1, 100) AS i WITH collect([[[[[[[[[[i]]]]]]]]]]) AS x ");
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(text + len, cap - len, "UNWIND [1] AS u%d WITH collect(x) AS x ", i);
    snprintf(text + len, cap - len, "RETURN size(x)");
    CHECK(rows_are(text, NULL, "[[1]]"));
    len = (size_t)snprintf(text, cap, "MATCH (n0)");
    for (int i = 1; i < 2000; i++) len += (size_t)snprintf(text + len, cap - len, "-->(n%d)", i);
    snprintf(text + len, cap - len, " RETURN n0");
    CHECK(refused(text, NULL, "Neo.ClientError.Statement.ArgumentError", "at most"));
    CHECK(rows_are("MATCH (a)-->(b)-->(c)-->(d)-->(e)-->(f) RETURN count(*)", NULL, "[[0]]"));
    free(text);
}

TEST(row_bound_is_a_clear_failure) {
    CHECK(refused("UNWIND range(1, 1024) AS x UNWIND range(1, 1025) AS y RETURN count(*)", NULL,
                  "Neo.ClientError.Statement.ExecutionFailed", "rows"));
    CHECK(rows_are("UNWIND range(1, 1000) AS x UNWIND range(1, 1000) AS y RETURN count(*)", NULL, "[[1000000]]"));
}

TEST(caller_queries_of_section_1_4) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "g1", "{\"name\":\"Ada Lovelace\",\"organization\":\"Analytical\"}");
    make_node(EG_LABEL_ENTITY, "g2", "{\"name\":\"Bob\",\"organization\":\"LOVE inc\"}");
    CHECK(
        rows_are("MATCH (c:Contact) WHERE toLower(c.name) CONTAINS toLower($query) OR toLower(c.organization) CONTAINS "
                 "toLower($query) RETURN c LIMIT $limit",
                 "{\"query\":\"love\",\"limit\":10}", "[]"));
    CHECK(
        rows_are("MATCH (c:Entity) WHERE toLower(c.name) CONTAINS toLower($query) OR toLower(c.organization) CONTAINS "
                 "toLower($query) RETURN c.id ORDER BY c.id LIMIT $limit",
                 "{\"query\":\"LOVE\",\"limit\":10}", "[[\"g1\"],[\"g2\"]]"));
    /* Temporal functions are outside the subset: refused whatever the data. */
    CHECK(refused(
        "MATCH (e:CalendarEvent) WHERE toLower(e.title) CONTAINS toLower($query) AND e.start >= datetime($start) "
        "RETURN e ORDER BY e.start LIMIT $limit",
        "{\"query\":\"x\",\"start\":\"2025-01-01\",\"limit\":3}", "Neo.ClientError.Statement.SyntaxError", "datetime"));
    CHECK(rows_are("MATCH (a {id: 'g1'}), (b {id: 'g2'}) MERGE (a)-[r:RELATES_TO {confidence: 0.8, source: "
                   "\"rule\"}]->(b) RETURN r.source",
                   NULL, "[[\"rule\"]]"));
}

/* graph.schema: t4dm refuses the labels and types of Neo4j users' own Cypher (a pattern naming one matches
 * nothing); open takes them, through every clause. */
TEST(graph_schema_decides_which_labels_and_types_cypher_may_use) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "g1", NULL);
    CHECK(rows_are("MATCH (c:Contact) RETURN c", NULL, "[]"));
    CHECK(rows_are("MATCH (a)-[r:KNOWS]-(b) RETURN r", NULL, "[]"));
    CHECK(refused("CREATE (c:Contact {id: 'c1'})", NULL, "Neo.ClientError.Statement.ArgumentError",
                  "invalid node label 'Contact'"));
    CHECK(refused("MERGE (c:Contact {id: 'c1'})", NULL, "Neo.ClientError.Statement.ArgumentError", "graph.schema=open"));
    CHECK(refused("MATCH (a {id: 'g1'}) CREATE (a)-[:KNOWS]->(a)", NULL, "Neo.ClientError.Statement.ArgumentError",
                  "invalid relationship type 'KNOWS'"));

    eg_graph_set_schema(g, EG_SCHEMA_OPEN);
    CHECK(rows_are("CREATE (:Contact {id: 'c1', name: 'Ada Lovelace', organization: 'Analytical'}), "
                   "(:CalendarEvent {id: 'ev1', title: 'Standup'}) RETURN 1",
                   NULL, "[[1]]"));
    CHECK(rows_are("MATCH (c:Contact) WHERE toLower(c.name) CONTAINS toLower($query) OR toLower(c.organization) "
                   "CONTAINS toLower($query) RETURN c.id, labels(c) LIMIT $limit",
                   "{\"query\":\"LOVE\",\"limit\":10}", "[[\"c1\",[\"Contact\"]]]"));
    CHECK(rows_are("MATCH (a {id: 'c1'}), (b {id: 'ev1'}) MERGE (a)-[r:ATTENDS {role: 'host'}]->(b) RETURN type(r)",
                   NULL, "[[\"ATTENDS\"]]"));
    CHECK(rows_are("MATCH p = shortestPath((a {id: 'c1'})-[:ATTENDS|KNOWS*..2]-(b {id: 'ev1'})) RETURN length(p)", NULL,
                   "[[1]]"));
    CHECK(rows_are("MATCH (:Contact)-[r:ATTENDS]->(e:CalendarEvent) RETURN e.title, r.role", NULL,
                   "[[\"Standup\",\"host\"]]"));
    CHECK(rows_are("MATCH (n:NeverWritten) RETURN n", NULL, "[]"));
    CHECK(refused("CREATE (:`Has-Dash` {id: 'x'})", NULL, "Neo.ClientError.Statement.ArgumentError",
                  "letters, digits or _"));
    reset_graph();
    eg_graph_set_schema(g, EG_SCHEMA_T4DM);
}

TEST(where_id_equality_reads_the_node_directly_and_stays_exact) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "q1", "{\"name\":\"q2\"}");
    make_node(EG_LABEL_ENTITY, "q2", "{\"name\":\"q1\"}");
    make_rel("q1", "q2", EG_REL_USES, NULL);
    CHECK(rows_are("MATCH (n) WHERE n.id = $id RETURN n.name", "{\"id\":\"q2\"}", "[[\"q1\"]]"));
    CHECK(rows_are("MATCH (n) WHERE $id = n.id AND n.name = 'q1' RETURN n.id", "{\"id\":\"q2\"}", "[[\"q2\"]]"));
    CHECK(rows_are("MATCH (n) WHERE n.id = 7 RETURN n", NULL, "[]"));
    CHECK(rows_are("MATCH (n) WHERE n.id = 'not valid!' RETURN n", NULL, "[]"));
    CHECK(rows_are("MATCH (n:Episode) WHERE n.id = 'q1' RETURN n", NULL, "[]"));
    CHECK(
        rows_are("MATCH (n) WHERE n.id = 'q1' OR n.id = 'q2' RETURN n.id ORDER BY n.id", NULL, "[[\"q1\"],[\"q2\"]]"));
    /* The other side reads a variable of the same pattern: no shortcut, still exact. */
    CHECK(rows_are("MATCH (a)-[r]->(b) WHERE a.id = b.name RETURN a.id", NULL, "[[\"q1\"]]"));
    CHECK(rows_are("MATCH (a {id: 'q1'}) MATCH (b) WHERE b.id = a.name RETURN b.id", NULL, "[[\"q2\"]]"));
    CHECK(rows_are("MATCH p = shortestPath((a)-[*..2]-(b)) WHERE a.id = 'q1' AND b.id = 'q2' RETURN length(p)", NULL,
                   "[[1]]"));
}

/* Runs text with params given as a PackStream dict (taken). */
static json_t *run_ps(const char *text, eg_ps_value *params, eg_bolt_failure *f) {
    cy_statement *s;
    if (!cy_parse(text, strlen(text), &s, f)) return NULL;
    eg_bolt_result r;
    bool ok = cy_execute(s, g, params, 0, &r, f);
    cy_statement_free(s);
    eg_ps_value_free(params);
    if (!ok) return NULL;
    json_t *rows = ps_to_json(&r.records);
    eg_bolt_result_free(&r);
    return rows;
}

static void ps_put(eg_ps_value *dict, const char *key, eg_ps_value value) {
    dict->as.dict.entries = realloc(dict->as.dict.entries, (dict->as.dict.count + 1) * sizeof *dict->as.dict.entries);
    eg_ps_entry *e = &dict->as.dict.entries[dict->as.dict.count++];
    e->key = strdup(key);
    e->key_len = strlen(key);
    e->value = value;
}

static eg_ps_value ps_struct(uint8_t tag, size_t fields) {
    eg_ps_value v = {.kind = EG_PS_STRUCT};
    v.as.list.tag = tag;
    v.as.list.count = fields;
    v.as.list.items = calloc(fields, sizeof *v.as.list.items);
    for (size_t i = 0; i < fields; i++) v.as.list.items[i] = (eg_ps_value){.kind = EG_PS_INT, .as.integer = (int64_t)i};
    return v;
}

static eg_ps_value all_kinds(void) {
    eg_ps_value params = {.kind = EG_PS_DICT};
    eg_ps_value bytes = {.kind = EG_PS_BYTES};
    bytes.as.text.data = malloc(4);
    memcpy(bytes.as.text.data, "\x01\x00\x02", 4);
    bytes.as.text.len = 3;
    ps_put(&params, "bytes", bytes);
    ps_put(&params, "date", ps_struct(0x44, 1));
    ps_put(&params, "point", ps_struct(0x58, 3));
    ps_put(&params, "duration", ps_struct(0x45, 4));
    ps_put(&params, "nan", (eg_ps_value){.kind = EG_PS_FLOAT, .as.real = NAN});
    ps_put(&params, "map", (eg_ps_value){.kind = EG_PS_DICT});
    return params;
}

TEST(parameters_of_every_packstream_type_flow_through_and_only_storable_ones_store) {
    reset_graph();
    make_node(EG_LABEL_ENTITY, "v1", NULL);
    eg_bolt_failure f;
    eg_ps_value params = all_kinds();
    json_t *rows = run_ps("RETURN $bytes, $date, $point, $duration, $map, [$bytes, $date]", &params, &f);
    json_t *want = json_loads("[[{\"bytes\":3},{\"struct\":68},{\"struct\":88},{\"struct\":69},{},"
                              "[{\"bytes\":3},{\"struct\":68}]]]",
                              0, NULL);
    CHECK(rows && json_equal(rows, want));
    json_decref(want);
    json_decref(rows);
    params = all_kinds();
    rows = run_ps("RETURN $nan = $nan, $nan <> $nan, $date = $date, $bytes = $bytes", &params, &f);
    want = json_loads("[[false,true,true,true]]", 0, NULL);
    CHECK(rows && json_equal(rows, want));
    json_decref(want);
    json_decref(rows);
    const char *keys[] = {"bytes", "date", "point", "duration", "nan", "map"};
    for (size_t i = 0; i < 6; i++) {
        char text[128];
        snprintf(text, sizeof text, "MATCH (n {id: 'v1'}) SET n.p_%s = $%s", keys[i], keys[i]);
        params = all_kinds();
        char *before = graph_dump();
        rows = run_ps(text, &params, &f);
        char *after = graph_dump();
        char named[32];
        snprintf(named, sizeof named, "'p_%s'", keys[i]);
        CHECK(!rows && strcmp(f.code, "Neo.ClientError.Statement.TypeError") == 0 && strstr(f.message, named));
        CHECK(strcmp(before, after) == 0);
        free(before);
        free(after);
        json_decref(rows);
    }
    /* A relationship passed in as a parameter is not created by writing to it. */
    make_node(EG_LABEL_ENTITY, "v3", NULL);
    params = (eg_ps_value){.kind = EG_PS_DICT};
    eg_ps_value rel = ps_struct(0x52, 8);
    const char *texts[] = {"USES", NULL, "v1>USES>v3", "v1", "v3"};
    size_t slots[] = {3, 4, 5, 6, 7};
    for (size_t i = 0; i < 5; i++) {
        eg_ps_value *slot = &rel.as.list.items[slots[i]];
        if (!texts[i]) {
            *slot = (eg_ps_value){.kind = EG_PS_DICT};
            continue;
        }
        slot->kind = EG_PS_STRING;
        slot->as.text.data = strdup(texts[i]);
        slot->as.text.len = strlen(texts[i]);
    }
    ps_put(&params, "rel", rel);
    rows = run_ps("SET $rel.x = 1", &params, &f);
    CHECK(!rows && strcmp(f.code, "Neo.ClientError.Statement.EntityNotFound") == 0);
    json_t *none = rel_props("v1", "USES", "v3");
    CHECK(none == NULL);
    json_decref(none);
    params = all_kinds();
    rows = run_ps("CREATE (n:Entity {id: 'v2', when: $date})", &params, &f);
    CHECK(!rows && strcmp(f.code, "Neo.ClientError.Statement.TypeError") == 0 && strstr(f.message, "when"));
    eg_node n;
    CHECK_STATUS(eg_graph_get_node(g, "v2", EG_LABEL_ANY, &n, &err), EG_NOT_FOUND, &err);
}

typedef struct reader_thread {
    int failures;
} reader_thread;

static void *concurrent_reads(void *arg) {
    reader_thread *t = arg;
    const char *text = "MATCH (n:Entity) RETURN toUpper(n.name) AS name, n.n ORDER BY name DESC LIMIT 2";
    for (int i = 0; i < 50 / TEST_WORK_DIVISOR + 5; i++) {
        eg_bolt_failure f;
        cy_statement *s;
        eg_bolt_result r;
        if (!cy_parse(text, strlen(text), &s, &f) || !cy_execute(s, g, NULL, 0, &r, &f)) {
            t->failures++;
            continue;
        }
        const eg_ps_value *first = &r.records.as.list.items[0].as.list.items[0];
        if (r.records.as.list.count != 2 || strcmp(first->as.text.data, "N19") != 0) t->failures++;
        eg_bolt_result_free(&r);
        cy_statement_free(s);
    }
    return NULL;
}

TEST(statements_run_concurrently_on_one_graph) {
    reset_graph();
    for (int i = 0; i < 20; i++) {
        char id[16], p[64];
        snprintf(id, sizeof id, "cc%02d", i);
        snprintf(p, sizeof p, "{\"name\":\"n%02d\",\"n\":%d}", i, i);
        make_node(EG_LABEL_ENTITY, id, p);
    }
    pthread_t threads[4];
    reader_thread state[4] = {{0}};
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, concurrent_reads, &state[i]);
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(state[i].failures == 0);
    }
}

/* ---- the statement engine ---- */

static eg_bolt_cypher_engine engine;
static const eg_bolt_statements *engine_table;

static bool engine_run(void *tx, const char *text, const char *params, json_t **rows, eg_bolt_failure *failure) {
    eg_ps_value p = {.kind = EG_PS_DICT};
    if (params) {
        json_t *j = json_loads(params, 0, NULL);
        ps_from_json(j, &p);
        json_decref(j);
    }
    eg_bolt_result r;
    bool ok = engine_table->run(engine_table->context, tx, text, strlen(text), &p, &r, failure);
    eg_ps_value_free(&p);
    if (ok) {
        if (rows) *rows = ps_to_json(&r.records);
        eg_bolt_result_free(&r);
    } else if (rows) {
        *rows = NULL;
    }
    return ok;
}

typedef struct probe {
    const char *id;
    bool found;
    eg_status create_status;
} probe;

static void *probe_read(void *arg) {
    probe *p = arg;
    eg_node n;
    eg_error e;
    p->found = eg_graph_get_node(g, p->id, EG_LABEL_ANY, &n, &e) == EG_OK;
    if (p->found) eg_node_clear(&n);
    return NULL;
}

static void *probe_write(void *arg) {
    probe *p = arg;
    eg_error e;
    p->create_status = eg_graph_create_node(g, EG_LABEL_ENTITY, p->id, NULL, &e);
    return NULL;
}

/* Whether another thread sees node id (a transaction's own thread may not read the store while it is open). */
static bool has_node_elsewhere(const char *id) {
    probe p = {.id = id};
    pthread_t t;
    pthread_create(&t, NULL, probe_read, &p);
    pthread_join(t, NULL);
    return p.found;
}

TEST(engine_auto_commit_commits_writes_and_rolls_back_failures) {
    reset_graph();
    engine_table = eg_bolt_cypher_engine_init(&engine, g);
    eg_bolt_failure f;
    json_t *rows;
    CHECK(engine_run(NULL, "CREATE (n:Entity {id: 'e1'}) RETURN n.id", NULL, &rows, &f));
    json_decref(rows);
    CHECK(has_node_elsewhere("e1"));
    CHECK(!engine_run(NULL, "CREATE (a:Entity {id: 'e2'}) CREATE (b:Entity {id: 'e1'})", NULL, NULL, &f));
    CHECK(strcmp(f.code, "Neo.ClientError.Schema.ConstraintValidationFailed") == 0);
    CHECK(!has_node_elsewhere("e2"));
    CHECK(!engine_run(NULL, "MATCH (n", NULL, NULL, &f));
    CHECK(strcmp(f.code, "Neo.ClientError.Statement.SyntaxError") == 0);
    CHECK(engine_run(NULL, "MATCH (n {id: $id}) RETURN n.id", "{\"id\":\"e1\"}", &rows, &f));
    CHECK(json_array_size(rows) == 1);
    json_decref(rows);
}

TEST(engine_transactions_begin_lazily_commit_and_roll_back) {
    reset_graph();
    engine_table = eg_bolt_cypher_engine_init(&engine, g);
    eg_bolt_failure f;
    json_t *rows;
    void *tx;
    /* A read-only transaction takes no writer: another thread's write proceeds while it is open. */
    REQUIRE(engine_table->begin(engine_table->context, &tx, &f));
    CHECK(engine_run(tx, "MATCH (n) RETURN count(n)", NULL, &rows, &f));
    json_decref(rows);
    probe writer = {.id = "outside"};
    pthread_t t;
    pthread_create(&t, NULL, probe_write, &writer);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    bool joined = pthread_timedjoin_np(t, NULL, &deadline) == 0;
    CHECK(joined);
    CHECK(engine_table->commit(engine_table->context, tx, &f));
    if (!joined) pthread_join(t, NULL);
    CHECK(writer.create_status == EG_OK);
    /* Writes in a transaction: its own reads see them, others do not until commit (C25: the C10 text once per node
     * in one explicit transaction). */
    REQUIRE(engine_table->begin(engine_table->context, &tx, &f));
    for (int i = 0; i < 3; i++) {
        char params[64];
        snprintf(params, sizeof params, "{\"id\":\"b%d\",\"n\":%d}", i, i);
        CHECK(engine_run(tx, "\n        CREATE (n:Episode {id: $id, n: $n})\n        RETURN n.id as id\n        ",
                         params, &rows, &f));
        json_decref(rows);
    }
    CHECK(engine_run(tx, "MATCH (n:Episode) RETURN count(n)", NULL, &rows, &f));
    json_t *want = json_loads("[[3]]", 0, NULL);
    CHECK(rows && json_equal(rows, want));
    json_decref(want);
    json_decref(rows);
    CHECK(!has_node_elsewhere("b0"));
    CHECK(engine_table->commit(engine_table->context, tx, &f));
    CHECK(has_node_elsewhere("b0") && has_node_elsewhere("b2"));
    /* Rollback drops them. */
    REQUIRE(engine_table->begin(engine_table->context, &tx, &f));
    CHECK(engine_run(tx, "CREATE (n:Entity {id: 'dropped'})", NULL, NULL, &f));
    engine_table->rollback(engine_table->context, tx);
    CHECK(!has_node_elsewhere("dropped"));
    /* A failure inside: the transaction is only good for rollback, and nothing of it stays. */
    REQUIRE(engine_table->begin(engine_table->context, &tx, &f));
    CHECK(engine_run(tx, "CREATE (n:Entity {id: 'kept-not'})", NULL, NULL, &f));
    CHECK(!engine_run(tx, "RETURN 1 / 0", NULL, NULL, &f));
    CHECK(strcmp(f.code, "Neo.ClientError.Statement.ArithmeticError") == 0);
    CHECK(!engine_run(tx, "RETURN 1", NULL, NULL, &f));
    CHECK(strcmp(f.code, "Neo.ClientError.Transaction.TransactionMarkedAsFailed") == 0);
    CHECK(!engine_table->commit(engine_table->context, tx, &f));
    CHECK(!has_node_elsewhere("kept-not"));
    /* Deleting one relationship from two rows (an undirected match sees it twice), and a node twice, leave the
     * graph transaction good for commit. */
    REQUIRE(engine_table->begin(engine_table->context, &tx, &f));
    CHECK(engine_run(tx, "MATCH (a {id: 'b0'}), (b {id: 'b1'}) CREATE (a)-[:USES]->(b)", NULL, NULL, &f));
    CHECK(engine_run(tx, "MATCH (a)-[r:USES]-(b) DELETE r RETURN count(*)", NULL, &rows, &f));
    want = json_loads("[[2]]", 0, NULL);
    CHECK(rows && json_equal(rows, want));
    json_decref(want);
    json_decref(rows);
    CHECK(engine_run(tx, "MATCH (n {id: 'b2'}) UNWIND [1, 2] AS i DETACH DELETE n", NULL, NULL, &f));
    CHECK(engine_table->commit(engine_table->context, tx, &f));
    CHECK(!has_node_elsewhere("b2") && has_node_elsewhere("b1"));
    /* Rollback of a transaction that never wrote. */
    REQUIRE(engine_table->begin(engine_table->context, &tx, &f));
    engine_table->rollback(engine_table->context, tx);
}

int main(void) {
    db = test_open_fresh();
    g = eg_db_graph(db);
    RUN(c1_to_c8_schema_statements_succeed_and_show_constraints_describes_id_uniqueness);
    RUN(c10_create_node_then_c11_get_node_round_trip_with_the_graph_api);
    RUN(c12_update_c18_update_property_and_c13_delete_node);
    RUN(c14_create_relationship_and_c16_c17_read_them_in_every_direction);
    RUN(c15_batch_create_relationships_in_one_statement);
    RUN(c20_c21_c22_decay_prune_and_count_stale_with_and_without_session);
    RUN(c23_c24_strengthen_matches_the_graph_api_formula);
    RUN(c26_find_path_gives_the_graph_api_path);
    RUN(c19_health_checks_return_a_literal);
    RUN(expressions_null_semantics_and_arithmetic);
    RUN(functions);
    RUN(match_where_optional_match_and_patterns);
    RUN(projection_ordering_distinct_skip_limit_with_unwind);
    RUN(aggregation_groups_by_the_other_items);
    RUN(create_merge_set_remove_delete);
    RUN(writes_refused_by_engram_model_change_nothing);
    RUN(hostile_nesting_and_pattern_length_are_bounded);
    RUN(row_bound_is_a_clear_failure);
    RUN(caller_queries_of_section_1_4);
    RUN(graph_schema_decides_which_labels_and_types_cypher_may_use);
    RUN(where_id_equality_reads_the_node_directly_and_stays_exact);
    RUN(parameters_of_every_packstream_type_flow_through_and_only_storable_ones_store);
    RUN(statements_run_concurrently_on_one_graph);
    RUN(engine_auto_commit_commits_writes_and_rolls_back_failures);
    RUN(engine_transactions_begin_lazily_commit_and_roll_back);
    json_decref(last_stats);
    json_decref(last_fields);
    eg_close(db);
    return test_summary();
}
