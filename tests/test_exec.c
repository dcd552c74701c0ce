/* test_exec.c — every graph operation and the cypher operation through the JSON interface, with the result
 * shapes docs/operations.md promises: a scripted session whose each response is compared with the expected JSON
 * (timestamps, which vary, are checked for presence and removed before comparing). */
#include "test.h"

static eg_db *db;

/* Removes every "lastAccessed" key, recursively, after checking it is an integer. */
static void drop_timestamps(json_t *v) {
    if (json_is_object(v)) {
        json_t *t = json_object_get(v, "lastAccessed");
        if (t) {
            CHECK(json_is_integer(t) && json_integer_value(t) > 0);
            json_object_del(v, "lastAccessed");
        }
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child) drop_timestamps(child);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) drop_timestamps(child);
    }
}

/* Runs request and checks the response equals {"ok":true,"result":<expected>} (expected as JSON text). */
static void expect(const char *request, const char *expected) {
    json_t *response = test_exec(db, request);
    json_error_t jerr;
    json_t *want = json_loads(expected, JSON_DECODE_ANY, &jerr);
    if (!want) {
        fprintf(stderr, "  bad expectation %s: %s\n", expected, jerr.text);
        test_failures_in_current++;
        json_decref(response);
        return;
    }
    json_t *result = json_object_get(response, "result");
    drop_timestamps(result);
    if (!json_is_true(json_object_get(response, "ok")) || !json_equal(result, want)) {
        char *got = json_dumps(response, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "  %s\n    expected result %s\n    got %s\n", request, expected, got);
        free(got);
        test_failures_in_current++;
    }
    json_decref(want);
    json_decref(response);
}

TEST(nodes) {
    expect("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"alice\",\"properties\":{\"name\":\"Alice\"}}",
           "{\"id\":\"alice\"}");
    expect("{\"op\":\"batch_create_nodes\",\"nodes\":[{\"label\":\"Episode\",\"id\":\"ep1\",\"properties\":"
           "{\"sessionId\":\"s1\"}},{\"label\":\"Procedure\",\"id\":\"pr1\"},{\"label\":\"Entity\",\"id\":\"bob\"}]}",
           "{\"created\":3}");
    expect("{\"op\":\"get_node\",\"id\":\"alice\"}",
           "{\"id\":\"alice\",\"label\":\"Entity\",\"properties\":{\"name\":\"Alice\"}}");
    expect("{\"op\":\"update_node\",\"id\":\"alice\",\"properties\":{\"age\":41,\"name\":null}}", "{\"id\":\"alice\"}");
    expect("{\"op\":\"update_property\",\"id\":\"alice\",\"property_name\":\"city\",\"property_value\":\"Lyon\"}",
           "{\"id\":\"alice\"}");
    expect("{\"op\":\"get_node\",\"id\":\"alice\",\"label\":\"Entity\"}",
           "{\"id\":\"alice\",\"label\":\"Entity\",\"properties\":{\"age\":41,\"city\":\"Lyon\"}}");
    expect("{\"op\":\"count_nodes\"}", "4");
    expect("{\"op\":\"count_nodes\",\"label\":\"Entity\"}", "2");
    expect("{\"op\":\"list_nodes\",\"label\":\"Entity\",\"limit\":1}",
           "{\"nodes\":[{\"id\":\"alice\",\"label\":\"Entity\",\"properties\":{\"age\":41,\"city\":\"Lyon\"}}],"
           "\"next_cursor\":\"alice\"}");
    expect("{\"op\":\"list_nodes\",\"label\":\"Entity\",\"cursor\":\"alice\",\"limit\":1}",
           "{\"nodes\":[{\"id\":\"bob\",\"label\":\"Entity\",\"properties\":{}}],\"next_cursor\":\"bob\"}");
    expect("{\"op\":\"list_nodes\",\"label\":\"Entity\",\"cursor\":\"bob\"}", "{\"nodes\":[],\"next_cursor\":null}");
    expect("{\"op\":\"find_nodes\",\"text\":\"LYON\"}",
           "{\"nodes\":[{\"id\":\"alice\",\"label\":\"Entity\",\"properties\":{\"age\":41,\"city\":\"Lyon\"}}],"
           "\"next_cursor\":null}");
    expect("{\"op\":\"find_nodes\",\"label\":\"Episode\",\"text\":\"s\",\"properties\":[\"sessionId\"],"
           "\"id_prefix\":\"ep\",\"limit\":1}",
           "{\"nodes\":[{\"id\":\"ep1\",\"label\":\"Episode\",\"properties\":{\"sessionId\":\"s1\"}}],"
           "\"next_cursor\":\"ep1\"}");
    expect("{\"op\":\"find_nodes\",\"text\":\"lyon\",\"properties\":[\"name\"]}", "{\"nodes\":[],\"next_cursor\":null}");
}

TEST(relationships) {
    expect("{\"op\":\"create_relationship\",\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\","
           "\"properties\":{\"role\":\"speaker\"}}",
           "{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\"}");
    expect("{\"op\":\"batch_create_relationships\",\"relationships\":[{\"source_id\":\"ep1\",\"target_id\":\"bob\","
           "\"type\":\"RELATES_TO\"},{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\",\"properties\":"
           "{\"weight\":0.5}}]}",
           "{\"written\":2}");
    expect("{\"op\":\"get_relationships\",\"id\":\"bob\",\"direction\":\"out\"}",
           "[{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\",\"properties\":{\"weight\":0.5}}]");
    expect("{\"op\":\"get_relationships\",\"id\":\"alice\",\"type\":\"RELATES_TO\",\"direction\":\"in\"}",
           "[{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\",\"properties\":{\"role\":"
           "\"speaker\"}}]");
    expect("{\"op\":\"get_relationships_batch\",\"ids\":[\"alice\",\"pr1\"],\"direction\":\"in\"}",
           "{\"alice\":[{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\",\"properties\":"
           "{\"role\":\"speaker\"}}],\"pr1\":[{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\","
           "\"properties\":{\"weight\":0.5}}]}");
    expect("{\"op\":\"count_relationships\"}", "3");
    expect("{\"op\":\"get_nodes\",\"ids\":[\"pr1\",\"ghost\",\"bob\"]}",
           "[{\"id\":\"pr1\",\"label\":\"Procedure\",\"properties\":{}},{\"id\":\"bob\",\"label\":\"Entity\","
           "\"properties\":{}}]");
    expect("{\"op\":\"strengthen_relationship\",\"source_id\":\"bob\",\"target_id\":\"pr1\",\"learning_rate\":0.5}",
           "{\"weight\":0.75}");
    expect("{\"op\":\"weaken_relationship\",\"source_id\":\"pr1\",\"target_id\":\"bob\",\"type\":\"USES\",\"rate\":0.5}",
           "{\"weight\":0.375}");
    expect("{\"op\":\"count_stale_relationships\"}", "0");
    expect("{\"op\":\"batch_decay_relationships\",\"session_id\":\"s1\"}", "{\"decayed\":0,\"pruned\":0}");
    expect("{\"op\":\"stats\"}",
           "{\"nodes\":4,\"nodes_by_label\":{\"Episode\":1,\"Entity\":2,\"Procedure\":1},\"relationships\":3}");
}

TEST(paths_and_deletes) {
    expect("{\"op\":\"find_path\",\"source_id\":\"alice\",\"target_id\":\"pr1\",\"max_depth\":3}",
           "{\"length\":3,\"nodes\":[{\"id\":\"alice\",\"label\":\"Entity\"},{\"id\":\"ep1\",\"label\":\"Episode\"},"
           "{\"id\":\"bob\",\"label\":\"Entity\"},{\"id\":\"pr1\",\"label\":\"Procedure\"}],\"relationships\":["
           "{\"source_id\":\"ep1\",\"target_id\":\"alice\",\"type\":\"RELATES_TO\",\"properties\":{\"role\":"
           "\"speaker\"}},{\"source_id\":\"ep1\",\"target_id\":\"bob\",\"type\":\"RELATES_TO\",\"properties\":{}},"
           "{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\",\"properties\":{\"weight\":0.375,"
           "\"coAccessCount\":1}}]}");
    expect("{\"op\":\"find_path\",\"source_id\":\"alice\",\"target_id\":\"pr1\",\"max_depth\":2}", "null");
    expect("{\"op\":\"find_path\",\"source_id\":\"alice\",\"target_id\":\"pr1\",\"types\":[\"RELATES_TO\"]}", "null");
    expect("{\"op\":\"delete_relationship\",\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\"}",
           "{\"source_id\":\"bob\",\"target_id\":\"pr1\",\"type\":\"USES\"}");
    expect("{\"op\":\"delete_node\",\"id\":\"ep1\",\"label\":\"Episode\"}", "{\"id\":\"ep1\"}");
    expect("{\"op\":\"count_relationships\"}", "0");
    expect("{\"op\":\"count_nodes\"}", "3");
}

/* A parser's message about malformed JSON quotes the bad bytes; when they are not UTF-8 the answer must still be
 * JSON (with '?' for them), never a NULL that `engram exec` took for running out of memory. */
TEST(malformed_json_quoting_bytes_that_are_not_utf8_is_answered) {
    static const char line[] = "{\"op\":\"create_no\\\xcb\xa3\",\"label\":\"Entity\"}";
    char *response = eg_exec_json(db, line, sizeof line - 1);
    REQUIRE(response);
    json_error_t jerr;
    json_t *parsed = json_loads(response, 0, &jerr);
    CHECK(parsed && json_is_false(json_object_get(parsed, "ok")));
    const char *message = json_string_value(json_object_get(json_object_get(parsed, "error"), "message"));
    CHECK(message && strstr(message, "?"));
    json_decref(parsed);
    free(response);
}

/* Runs request and checks it fails with `code` and a message containing `words`. */
static void expect_error(const char *request, const char *code, const char *words) {
    json_t *response = test_exec(db, request);
    const char *got = test_response_code(response);
    const char *message = json_string_value(json_object_get(json_object_get(response, "error"), "message"));
    if (!got || strcmp(got, code) != 0 || !message || !strstr(message, words)) {
        fprintf(stderr, "  %s\n    -> %s (%s), expected %s saying \"%s\"\n", request, got ? got : "?",
                message ? message : "no message", code, words);
        test_failures_in_current++;
    }
    json_decref(response);
}

/* The cypher operation: a write with its stats, then nodes, relationships and a path read back in engram's
 * shapes. */
TEST(find_nodes_refuses_bad_arguments) {
    expect_error("{\"op\":\"find_nodes\"}", "invalid_argument", "text");
    expect_error("{\"op\":\"find_nodes\",\"text\":7}", "invalid_argument", "text");
    expect_error("{\"op\":\"find_nodes\",\"text\":\"a\",\"properties\":[\"name\",3]}", "invalid_argument",
                 "properties[1] must be a string");
    expect_error("{\"op\":\"find_nodes\",\"text\":\"a\",\"properties\":\"name\"}", "invalid_argument", "properties");
    expect_error("{\"op\":\"find_nodes\",\"text\":\"a\",\"id_prefix\":\"a b\"}", "invalid_argument", "id_prefix");
    expect_error("{\"op\":\"find_nodes\",\"text\":\"a\",\"limit\":0}", "invalid_argument", "limit");
    expect_error("{\"op\":\"find_nodes\",\"text\":\"a\",\"label\":\"Person\"}", "invalid_argument", "Person");
    expect_error("{\"op\":\"find_nodes\",\"text\":\"a\",\"where\":1}", "invalid_argument", "where");
}

TEST(a_thread_graph_transaction_is_all_or_nothing) {
    eg_error err;
    CHECK_OK(eg_exec_begin_graph_transaction(db, &err), &err);
    CHECK_STATUS(eg_exec_begin_graph_transaction(db, &err), EG_CONFLICT, &err);
    expect("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"tx1\"}", "{\"id\":\"tx1\"}");
    expect("{\"op\":\"get_nodes\",\"ids\":[\"tx1\"]}", "[{\"id\":\"tx1\",\"label\":\"Entity\",\"properties\":{}}]");
    expect_error("{\"op\":\"health\"}", "invalid_argument", "health cannot run inside a graph transaction");
    eg_exec_rollback_graph_transaction(db);
    expect("{\"op\":\"get_nodes\",\"ids\":[\"tx1\"]}", "[]");
    CHECK_STATUS(eg_exec_commit_graph_transaction(db, &err), EG_INVALID_ARGUMENT, &err);
    CHECK_OK(eg_exec_begin_graph_transaction(db, &err), &err);
    expect("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"tx2\"}", "{\"id\":\"tx2\"}");
    expect("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"tx3\"}", "{\"id\":\"tx3\"}");
    CHECK_OK(eg_exec_commit_graph_transaction(db, &err), &err);
    expect("{\"op\":\"get_nodes\",\"ids\":[\"tx2\",\"tx3\"]}",
           "[{\"id\":\"tx2\",\"label\":\"Entity\",\"properties\":{}},{\"id\":\"tx3\",\"label\":\"Entity\",\"properties\":{}}]");
    expect("{\"op\":\"delete_node\",\"id\":\"tx2\"}", "{\"id\":\"tx2\"}");
    expect("{\"op\":\"delete_node\",\"id\":\"tx3\"}", "{\"id\":\"tx3\"}");
}

TEST(cypher_writes_and_reads_in_engram_shapes) {
    expect("{\"op\":\"cypher\",\"statement\":\"CREATE (a:Entity {id: 'c1', name: 'Ada'})-[r:USES {weight: 0.5}]->"
           "(p:Procedure {id: 'c2'}) RETURN a.name AS name\"}",
           "{\"fields\":[\"name\"],\"records\":[[\"Ada\"]],\"stats\":{\"nodes-created\":2,"
           "\"relationships-created\":1,\"properties-set\":4,\"labels-added\":2,\"contains-updates\":true}}");
    expect("{\"op\":\"cypher\",\"statement\":\"MATCH (a:Entity {id: 'c1'})-[r]->(p) RETURN a, r, p\"}",
           "{\"fields\":[\"a\",\"r\",\"p\"],\"records\":[[{\"id\":\"c1\",\"label\":\"Entity\",\"properties\":"
           "{\"name\":\"Ada\"}},{\"source_id\":\"c1\",\"target_id\":\"c2\",\"type\":\"USES\",\"properties\":"
           "{\"weight\":0.5}},{\"id\":\"c2\",\"label\":\"Procedure\",\"properties\":{}}]],\"stats\":{}}");
    /* Walked against the relationship's direction: the path still names its real source. */
    expect("{\"op\":\"cypher\",\"statement\":\"MATCH path = (:Procedure {id: 'c2'})<-[:USES]-(:Entity) RETURN path\"}",
           "{\"fields\":[\"path\"],\"records\":[[{\"length\":1,\"nodes\":[{\"id\":\"c2\",\"label\":\"Procedure\"},"
           "{\"id\":\"c1\",\"label\":\"Entity\"}],\"relationships\":[{\"source_id\":\"c1\",\"target_id\":\"c2\","
           "\"type\":\"USES\",\"properties\":{\"weight\":0.5}}]}]],\"stats\":{}}");
    /* What the graph operations see of it. */
    expect("{\"op\":\"get_relationships\",\"id\":\"c2\"}",
           "[{\"source_id\":\"c1\",\"target_id\":\"c2\",\"type\":\"USES\",\"properties\":{\"weight\":0.5}}]");
}

TEST(cypher_parameters_of_every_json_kind) {
    expect("{\"op\":\"cypher\",\"statement\":\"RETURN $i AS i, $r AS r, $s AS s, $t AS t, $f AS f, $n AS n, "
           "$a AS a, $o AS o, $i + 1 AS next, $r * 2 AS twice\",\"parameters\":{\"i\":42,\"r\":1.5,\"s\":\"text\","
           "\"t\":true,\"f\":false,\"n\":null,\"a\":[1,\"two\",[3.0]],\"o\":{\"k\":{\"deep\":[null]}}}}",
           "{\"fields\":[\"i\",\"r\",\"s\",\"t\",\"f\",\"n\",\"a\",\"o\",\"next\",\"twice\"],\"records\":[[42,1.5,"
           "\"text\",true,false,null,[1,\"two\",[3.0]],{\"k\":{\"deep\":[null]}},43,3.0]],\"stats\":{}}");
    /* An integer stays an Integer and a real a Float: Cypher prints 1.0 as a Float. */
    expect("{\"op\":\"cypher\",\"statement\":\"RETURN toString($x) AS x, toString($y) AS y\",\"parameters\":"
           "{\"x\":1,\"y\":1.0}}",
           "{\"fields\":[\"x\",\"y\"],\"records\":[[\"1\",\"1.0\"]],\"stats\":{}}");
    expect("{\"op\":\"cypher\",\"statement\":\"MATCH (n:Entity {id: $id}) RETURN n.name AS name\",\"parameters\":"
           "{\"id\":\"c1\"}}",
           "{\"fields\":[\"name\"],\"records\":[[\"Ada\"]],\"stats\":{}}");
    expect_error("{\"op\":\"cypher\",\"statement\":\"RETURN $missing AS m\"}", "invalid_argument",
                 "Neo.ClientError.Statement.ParameterMissing");
    expect_error("{\"op\":\"cypher\",\"statement\":\"RETURN 1 AS one\",\"parameters\":[1]}", "invalid_argument",
                 "argument 'parameters' must be a JSON object");
    /* Bolt's nesting bound, the parameters object counted: 31 arrays inside it pass, 32 do not. */
    char deep[256];
    snprintf(deep, sizeof deep, "{\"op\":\"cypher\",\"statement\":\"RETURN size($p) AS n\",\"parameters\":"
             "{\"p\":%.31s%.31s}}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    expect(deep, "{\"fields\":[\"n\"],\"records\":[[1]],\"stats\":{}}");
    snprintf(deep, sizeof deep, "{\"op\":\"cypher\",\"statement\":\"RETURN size($p) AS n\",\"parameters\":"
             "{\"p\":[%.31s%.31s]}}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    expect_error(deep, "invalid_argument", "argument 'parameters' nests more than 32 arrays or objects");
}

TEST(cypher_aggregation) {
    expect("{\"op\":\"cypher\",\"statement\":\"MATCH (n) RETURN n:Entity AS entity, count(*) AS n, "
           "collect(n.id) AS ids, sum(size(n.id)) AS chars ORDER BY entity\"}",
           "{\"fields\":[\"entity\",\"n\",\"ids\",\"chars\"],\"records\":[[false,2,[\"c2\",\"pr1\"],5],[true,3,"
           "[\"alice\",\"bob\",\"c1\"],10]],\"stats\":{}}");
}

/* Refusals change nothing: a syntax error, a write that fails after earlier writes of the same statement, a
 * label outside the t4dm schema, and a result that JSON cannot hold (its statement's writes are undone too). */
TEST(cypher_failures_change_nothing) {
    expect_error("{\"op\":\"cypher\",\"statement\":\"CREAT (:Entity {id: 'nope'})\"}", "invalid_argument",
                 "Neo.ClientError.Statement.SyntaxError");
    expect_error("{\"op\":\"cypher\",\"statement\":\"UNWIND [1, 0] AS d CREATE (:Entity {id: 'u' + toString(d), "
                 "v: 1 / d})\"}",
                 "invalid_argument", "Neo.ClientError.Statement.ArithmeticError");
    expect_error("{\"op\":\"cypher\",\"statement\":\"CREATE (:Entity {id: 'c3'}) CREATE (:Episode {id: 'c1'})\"}",
                 "conflict", "Neo.ClientError.Schema.ConstraintValidationFailed");
    expect_error("{\"op\":\"cypher\",\"statement\":\"CREATE (:Person {id: 'p1'})\"}", "invalid_argument",
                 "invalid node label 'Person'");
    expect_error("{\"op\":\"cypher\",\"statement\":\"MATCH (a {id: 'c1'}) CREATE (a)-[:KNOWS]->(:Entity {id: "
                 "'c4'})\"}",
                 "invalid_argument", "invalid relationship type 'KNOWS'");
    /* As in Neo4j (docs/bolt.md), a pattern naming a label the schema lacks matches nothing rather than failing. */
    expect("{\"op\":\"cypher\",\"statement\":\"MATCH (c:Contact) RETURN c\"}",
           "{\"fields\":[\"c\"],\"records\":[],\"stats\":{}}");
    expect_error("{\"op\":\"cypher\",\"statement\":\"CREATE (n:Entity {id: 'c5'}) RETURN 0.0 / 0.0 AS nan\"}",
                 "invalid_argument", "records[0] field 'nan': the Float NaN has no JSON form");
    expect("{\"op\":\"count_nodes\"}", "5");
    expect("{\"op\":\"get_nodes\",\"ids\":[\"nope\",\"u1\",\"u0\",\"c3\",\"p1\",\"c4\",\"c5\"]}", "[]");
    expect("{\"op\":\"count_relationships\"}", "1");
}

TEST(cypher_deletes_with_stats) {
    expect("{\"op\":\"cypher\",\"statement\":\"MATCH (n {id: 'c1'}) DETACH DELETE n\"}",
           "{\"fields\":[],\"records\":[],\"stats\":{\"nodes-deleted\":1,\"relationships-deleted\":1,"
           "\"contains-updates\":true}}");
    expect("{\"op\":\"count_relationships\"}", "0");
    expect_error("{\"op\":\"cypher\"}", "invalid_argument", "argument 'statement' is required");
}

int main(void) {
    db = test_open_fresh();
    RUN(nodes);
    RUN(relationships);
    RUN(paths_and_deletes);
    RUN(malformed_json_quoting_bytes_that_are_not_utf8_is_answered);
    RUN(find_nodes_refuses_bad_arguments);
    RUN(a_thread_graph_transaction_is_all_or_nothing);
    RUN(cypher_writes_and_reads_in_engram_shapes);
    RUN(cypher_parameters_of_every_json_kind);
    RUN(cypher_aggregation);
    RUN(cypher_failures_change_nothing);
    RUN(cypher_deletes_with_stats);
    eg_close(db);
    return test_summary();
}
