/* test_cypher.c — the Cypher executor (src/cypher: match, evaluate, functions, writes, projection, executor) over
 * an embedded graph, and the Bolt statement engine over it (src/bolt/cypher_statements.c).
 *
 * Every statement the original store sends (C1–C26 of the storage inventory, verbatim, in each label and direction
 * variant) runs and gives the original's result shape, checked against the same operations through the eg_graph
 * API; then each construct, null semantics, ordering, aggregation, every refusal with its code (and that the
 * graph did not change), the row bound, and the engine's transactions. Results are compared as JSON: a node is
 * {"node": id, "labels": [...], "properties": {...}}, a relationship {"rel": "source>TYPE>target", "properties":
 * {...}}, a path {"path": [nodes], "rels": [...], "indices": [...]}; integers and floats stay distinct. */
#include "bolt/cypher_statements.h"
#include "cypher/cypher.h"
#include "test.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static eg_db *db;
static eg_graph *g;
static eg_error err;
static json_t *last_stats;   /* the last successful statement's stats, as JSON ({} for none) */
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
        case 0x4E: return json_pack("{s:o,s:o,s:o}", "node", ps_to_json(&f[3]), "labels", ps_to_json(&f[1]), "properties", ps_to_json(&f[2]));
        case 0x52: return json_pack("{s:o,s:o}", "rel", ps_to_json(&f[5]), "properties", ps_to_json(&f[4]));
        case 0x72: return json_pack("{s:o,s:o}", "unbound", ps_to_json(&f[3]), "properties", ps_to_json(&f[2]));
        case 0x50: return json_pack("{s:o,s:o,s:o}", "path", ps_to_json(&f[0]), "rels", ps_to_json(&f[1]), "indices", ps_to_json(&f[2]));
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
        fprintf(stderr, "  %s\n  expected %s (%s), got %s: %s%s\n", text, code, part ? part : "", rows ? "rows" : f.code,
                f.message, strcmp(before, after) ? " (and the graph changed)" : "");
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

static void reset_graph(void) {
    json_decref(run("MATCH (n) DETACH DELETE n", NULL));
}

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
    double w = p && json_is_number(json_object_get(p, "weight")) ? json_number_value(json_object_get(p, "weight")) : NAN;
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
        snprintf(text, sizeof text, "\n        CREATE (n:%s {id: $id, sessionId: $sessionId, score: $score, tags: $tags})\n        RETURN n.id as id\n        ", labels[i]);
        snprintf(params, sizeof params, "{\"id\":\"%s\",\"sessionId\":\"s1\",\"score\":0.5,\"tags\":[\"a\",\"b\"]}", id);
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
        snprintf(text, sizeof text, "\n        MATCH (n:%s {id: $id})\n        RETURN properties(n) as data\n        ", labels[i]);
        snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
        snprintf(expected, sizeof expected, "[[{\"id\":\"%s\",\"sessionId\":\"s1\",\"score\":0.5,\"tags\":[\"a\",\"b\"]}]]", id);
        CHECK(rows_are(text, params, expected));
        CHECK(rows_are("\n        MATCH (n {id: $id})\n        RETURN properties(n) as data\n        ", params, expected));
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
    CHECK(rows_are("\n        MATCH (n {id: $id})\n        SET n.name = $name\n        ", "{\"id\":\"u1\",\"name\":\"newer\"}", "[]"));
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
    CHECK(rows_are("\n        MATCH (src {id: $source_id})\n        MATCH (tgt {id: $target_id})\n        CREATE (src)-[r:USES {weight: $weight, note: $note}]->(tgt)\n        ",
                   "{\"source_id\":\"a\",\"target_id\":\"b\",\"weight\":0.5,\"note\":\"n\"}", "[]"));
    CHECK(stats_are("{\"relationships-created\":1,\"properties-set\":2,\"contains-updates\":true}"));
    json_t *p = rel_props("a", "USES", "b");
    CHECK(p && json_real_value(json_object_get(p, "weight")) == 0.5 && json_is_integer(json_object_get(p, "lastAccessed")));
    json_decref(p);
    CHECK(rows_are("\n        MATCH (src {id: $source_id})\n        MATCH (tgt {id: $target_id})\n        CREATE (src)-[r:CAUSES]->(tgt)\n        ",
                   "{\"source_id\":\"c\",\"target_id\":\"a\"}", "[]"));
    /* Through the API, read through Cypher. */
    make_rel("b", "c", EG_REL_PART_OF, "{\"weight\":0.25,\"lastAccessed\":5}");
    /* C16, out / in / both, with and without a type. */
    CHECK(rows_are("\n        MATCH (n {id: $id})-[r:USES]->(other)\n        RETURN {\n            rel_type: type(r),\n            properties: properties(r),\n            source_id: n.id,\n            other_id: other.id\n        } as rel\n        ",
                   "{\"id\":\"b\"}", "[]"));
    CHECK(rows_are("MATCH (n {id: $id})-[r]->(other)\nRETURN {rel_type: type(r), properties: properties(r), source_id: n.id, other_id: other.id} as rel",
                   "{\"id\":\"b\"}",
                   "[[{\"rel_type\":\"PART_OF\",\"properties\":{\"weight\":0.25,\"lastAccessed\":5},\"source_id\":\"b\",\"other_id\":\"c\"}]]"));
    CHECK(rows_are("MATCH (n {id: $id})<-[r]-(other)\nRETURN {rel_type: type(r), source_id: n.id, other_id: other.id} as rel",
                   "{\"id\":\"b\"}", "[[{\"rel_type\":\"USES\",\"source_id\":\"b\",\"other_id\":\"a\"}]]"));
    CHECK(rows_are("MATCH (n {id: $id})<-[r:PART_OF]-(other)\nRETURN {rel_type: type(r), source_id: n.id, other_id: other.id} as rel",
                   "{\"id\":\"b\"}", "[]"));
    CHECK(rows_are("MATCH (n {id: $id})-[r]-(other)\nRETURN {rel_type: type(r), other_id: other.id} as rel ORDER BY rel.other_id",
                   "{\"id\":\"b\"}", "[[{\"rel_type\":\"USES\",\"other_id\":\"a\"}],[{\"rel_type\":\"PART_OF\",\"other_id\":\"c\"}]]"));
    CHECK(rows_are("MATCH (n {id: $id})-[r:CAUSES]-(other)\nRETURN {rel_type: type(r), other_id: other.id} as rel",
                   "{\"id\":\"a\"}", "[[{\"rel_type\":\"CAUSES\",\"other_id\":\"c\"}]]"));
    /* C17: UNWIND $ids as id with the bare variable in the map (lastAccessed is the store's clock). */
    json_t *c17 = run("UNWIND $ids as id \nMATCH (n {id: id})-[r]->(other)\nRETURN n.id as node_id, type(r) as rel_type,\n       properties(r) as rel_props, other.id as other_id",
                      "{\"ids\":[\"a\",\"b\",\"nobody\"]}");
    for (size_t i = 0; c17 && i < json_array_size(c17); i++) json_object_del(json_array_get(json_array_get(c17, i), 2), "lastAccessed");
    json_t *c17_expected = json_loads("[[\"a\",\"USES\",{\"weight\":0.5,\"note\":\"n\"},\"b\"],"
                                      "[\"b\",\"PART_OF\",{\"weight\":0.25},\"c\"]]", 0, NULL);
    CHECK(c17 && json_equal(c17, c17_expected));
    json_decref(c17);
    json_decref(c17_expected);
    json_t *rows = run("UNWIND $ids as id \nMATCH (n {id: id})<-[r:USES]-(other)\nRETURN n.id as node_id, type(r) as rel_type,\n       properties(r) as rel_props, other.id as other_id",
                       "{\"ids\":[\"a\",\"b\"]}");
    CHECK(rows && json_array_size(rows) == 1 && strcmp(json_string_value(json_array_get(json_array_get(rows, 0), 3)), "a") == 0);
    json_decref(rows);
    CHECK(fields_are("[\"node_id\",\"rel_type\",\"rel_props\",\"other_id\"]"));
    rows = run("UNWIND $ids as id \nMATCH (n {id: id})-[r]-(other)\nRETURN n.id as node_id, type(r) as rel_type, properties(r) as rel_props, other.id as other_id",
               "{\"ids\":[\"a\",\"b\",\"c\"]}");
    CHECK(rows && json_array_size(rows) == 6);
    json_decref(rows);
    /* Creating an existing relationship merges its properties (engram holds one per source, type, target). */
    CHECK(rows_are("MATCH (src {id: 'a'}) MATCH (tgt {id: 'b'}) CREATE (src)-[r:USES {extra: 1}]->(tgt) RETURN r.weight, r.extra",
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
    const char *text = "\n            UNWIND $rels AS rel\n            MATCH (src {id: rel.source_id})\n            MATCH (tgt {id: rel.target_id})\n            CREATE (src)-[r:SIMILAR_TO]->(tgt)\n            SET r += rel.props\n            RETURN count(r) as created\n            ";
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
    const char *count_text = "\n        MATCH (a)-[r]->(b)\n        WHERE r.lastAccessed < $cutoff\n        AND ($session_id IS NULL OR a.sessionId = $session_id)\n        RETURN count(r) as count\n        ";
    CHECK(rows_are(count_text, "{\"cutoff\":5000,\"session_id\":null}", "[[2]]"));
    CHECK(strcmp(last_type, "r") == 0);
    CHECK(rows_are(count_text, "{\"cutoff\":5000,\"session_id\":\"one\"}", "[[1]]"));
    CHECK(rows_are(count_text, "{\"cutoff\":10000,\"session_id\":null}", "[[3]]"));
    CHECK(rows_are(count_text, "{\"cutoff\":0,\"session_id\":null}", "[[0]]"));
    const char *decay = "\n        MATCH (a)-[r]->(b)\n        WHERE r.lastAccessed < $cutoff\n        AND ($session_id IS NULL OR a.sessionId = $session_id)\n        SET r.weight = r.weight * (1 - $decay_rate)\n        RETURN count(r) as decayed\n        ";
    CHECK(rows_are(decay, "{\"cutoff\":5000,\"decay_rate\":0.5,\"session_id\":\"one\"}", "[[1]]"));
    CHECK(stats_are("{\"properties-set\":1,\"contains-updates\":true}"));
    CHECK(rel_weight("s1", "USES", "t") == 0.8 * (1 - 0.5));
    CHECK(rel_weight("s2", "USES", "t") == 0.04);
    CHECK(rows_are(decay, "{\"cutoff\":5000,\"decay_rate\":0.1,\"session_id\":null}", "[[2]]"));
    CHECK(rel_weight("s1", "USES", "t") == 0.8 * 0.5 * (1 - 0.1));
    CHECK(rel_weight("s2", "USES", "t") == 0.04 * (1 - 0.1));
    CHECK(rel_weight("t", "RELATES_TO", "s1") == 0.5);
    const char *prune = "\n        MATCH (a)-[r]->(b)\n        WHERE r.weight < $min_weight\n        AND ($session_id IS NULL OR a.sessionId = $session_id)\n        DELETE r\n        RETURN count(r) as pruned\n        ";
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
    const char *forward = "\n            MATCH (a {id: $source_id})-[r]->(b {id: $target_id})\n            SET r.weight = COALESCE(r.weight, 0.1) + $lr * (1 - COALESCE(r.weight, 0.1)),\n                r.coAccessCount = COALESCE(r.coAccessCount, 0) + 1,\n                r.lastCoAccess = $now\n            RETURN r.weight as new_weight\n            ";
    const char *reverse = "\n            MATCH (a {id: $target_id})-[r]->(b {id: $source_id})\n            SET r.weight = COALESCE(r.weight, 0.1) + $lr * (1 - COALESCE(r.weight, 0.1)),\n                r.coAccessCount = COALESCE(r.coAccessCount, 0) + 1,\n                r.lastCoAccess = $now\n            RETURN r.weight as new_weight\n            ";
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
    CHECK(rows && json_array_size(rows) == 1 && fabs(json_real_value(json_array_get(json_array_get(rows, 0), 0)) - api) < 1e-12);
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
                 "\n            MATCH path = shortestPath((source {id: $source_id})-[*..%d]-(target {id: $target_id}))\n            RETURN [node in nodes(path) | {id: node.id, labels: labels(node)}] as nodes,\n                   [rel in relationships(path) | {type: type(rel), properties: properties(rel)}] as relationships\n            ",
                 depth);
        json_t *rows = run(text, "{\"source_id\":\"p1\",\"target_id\":\"p4\"}");
        eg_path path;
        CHECK_OK(eg_graph_find_path(g, "p1", "p4", depth, 0, &path, &err), &err);
        REQUIRE(rows);
        CHECK(json_array_size(rows) == (path.node_count ? 1u : 0u));
        if (path.node_count && json_array_size(rows) == 1) {
            json_t *nodes = json_array_get(json_array_get(rows, 0), 0), *rels = json_array_get(json_array_get(rows, 0), 1);
            CHECK(json_array_size(nodes) == path.node_count && json_array_size(rels) == path.relationship_count);
            for (size_t i = 0; i < path.node_count && i < json_array_size(nodes); i++) {
                json_t *n = json_array_get(nodes, i);
                CHECK(strcmp(json_string_value(json_object_get(n, "id")), path.nodes[i].id) == 0);
                CHECK(strcmp(json_string_value(json_array_get(json_object_get(n, "labels"), 0)),
                             eg_label_name(path.nodes[i].label)) == 0);
            }
            for (size_t i = 0; i < path.relationship_count && i < json_array_size(rels); i++) {
                json_t *r = json_array_get(rels, i);
                CHECK(strcmp(json_string_value(json_object_get(r, "type")), eg_rel_type_name(path.relationships[i].type)) == 0);
                CHECK(json_equal(json_object_get(r, "properties"), path.relationships[i].properties));
            }
        }
        CHECK((depth >= 3) == (path.node_count == 4));
        eg_path_clear(&path);
        json_decref(rows);
    }
    CHECK(rows_are("MATCH path = shortestPath((s {id: 'p1'})-[*..5]-(t {id: 'p4'})) RETURN length(path), [n IN nodes(path) | n.id]",
                   NULL, "[[3,[\"p1\",\"p2\",\"p3\",\"p4\"]]]"));
    /* The path value itself: nodes, unbound relationships, and indices with the direction of each step. */
    /* The path value itself: nodes, unbound relationships, and indices with the direction of each step. */
    CHECK(rows_are("MATCH p = shortestPath((s {id: 'p2'})-[*..2]-(t {id: 'p4'})) RETURN [n IN nodes(p) | elementId(n)], "
                   "[r IN relationships(p) | elementId(r)], [r IN relationships(p) | startNode(r).id]",
                   NULL, "[[[\"p2\",\"p3\",\"p4\"],[\"p3>PART_OF>p2\",\"p3>CAUSES>p4\"],[\"p3\",\"p3\"]]]"));
    json_t *rows = run("MATCH p = shortestPath((s {id: 'p2'})-[*..2]-(t {id: 'p4'})) RETURN p", NULL);
    json_t *indices = rows ? json_object_get(json_array_get(json_array_get(rows, 0), 0), "indices") : NULL;
    json_t *want = json_loads("[-1,1,2,2]", 0, NULL);
    CHECK(indices && json_equal(indices, want));
    json_decref(want);
    json_decref(rows);
    /* Types restrict the search; no path gives no row; a missing end gives no row. */
    CHECK(rows_are("MATCH p = shortestPath((s {id: 'p1'})-[:USES*..5]-(t {id: 'p4'})) RETURN p", NULL, "[]"));
    CHECK(rows_are("MATCH p = shortestPath((s {id: 'p1'})-[:USES|PART_OF|CAUSES*..5]-(t {id: 'p4'})) RETURN length(p)", NULL, "[[3]]"));
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

TEST(c19_health_checks_and_c25_batch_in_a_transaction) {
    CHECK(rows_are("RETURN 1 as test", NULL, "[[1]]"));
    CHECK(rows_are("RETURN 1 as n", NULL, "[[1]]"));
    CHECK(fields_are("[\"n\"]"));
    CHECK(strcmp(last_type, "r") == 0);
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
    RUN(c19_health_checks_and_c25_batch_in_a_transaction);
    json_decref(last_stats);
    json_decref(last_fields);
    eg_close(db);
    return test_summary();
}
