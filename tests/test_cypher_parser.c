/* test_cypher_parser.c — the Cypher parser (src/cypher/parser.c and its pieces): every statement the original
 * store sends (C1–C26 of the storage inventory, verbatim with their leading newline and indentation, in every
 * f-string expansion: each label, each pattern direction, with and without a type), their corrected forms, the
 * callers' queries, the tree's shape for each construct, refusals with Neo4j's wording and the exact position,
 * the bounds (length, nesting, depth, integer size), and cy_statement_writes. */
#include "cypher/cypher.h"
#include "test.h"

#include <stdarg.h>
#include <string.h>

/* ---- helpers ---- */

static cy_statement *parse_len(const char *text, size_t len) {
    cy_statement *s = NULL;
    eg_bolt_failure f;
    if (!cy_parse(text, len, &s, &f)) {
        fprintf(stderr, "  refused: %s\n  %s\n  -> %s\n", text, f.code, f.message);
        return NULL;
    }
    return s;
}

static cy_statement *parse(const char *text) { return parse_len(text, strlen(text)); }

/* Parses, checks that it parsed and whether it writes, and frees. */
static bool parses(const char *text, bool writes) {
    cy_statement *s = parse(text);
    if (s == NULL) return false;
    bool ok = cy_statement_writes(s) == writes;
    if (!ok) fprintf(stderr, "  writes should be %d: %s\n", writes, text);
    cy_statement_free(s);
    return ok;
}

/* Refused as a SyntaxError whose message holds `part` and the position "(line L, column C (offset: O))". */
static bool refused_len(const char *text, size_t len, const char *part, uint32_t line, uint32_t column,
                        size_t offset) {
    cy_statement *s = (cy_statement *)1;
    eg_bolt_failure f;
    if (cy_parse(text, len, &s, &f)) {
        fprintf(stderr, "  parsed, should be refused: %.*s\n", (int)(len > 80 ? 80 : len), text);
        cy_statement_free(s);
        return false;
    }
    char where[96];
    snprintf(where, sizeof where, "(line %u, column %u (offset: %zu))", line, column, offset);
    bool ok = s == NULL && strcmp(f.code, "Neo.ClientError.Statement.SyntaxError") == 0 &&
              strstr(f.message, part) != NULL && strstr(f.message, where) != NULL &&
              eg_ps_utf8_valid(f.message, strlen(f.message));
    if (!ok) fprintf(stderr, "  expected \"%s\" %s, got %s: %s\n", part, where, f.code, f.message);
    return ok;
}

static bool refused(const char *text, const char *part, uint32_t line, uint32_t column, size_t offset) {
    return refused_len(text, strlen(text), part, line, column, offset);
}

static char *format(const char *fmt, ...) {
    static char buffers[4][2048];
    static int next;
    char *b = buffers[next++ % 4];
    va_list args;
    va_start(args, fmt);
    vsnprintf(b, sizeof buffers[0], fmt, args);
    va_end(args);
    return b;
}

static const char *const LABELS[] = {"Episode", "Entity", "Procedure"};
/* The three directions of C16/C17 with "%s" where the type goes ("" or ":USES"). */
static const char *const DIRECTIONS[] = {"-[r%s]->", "<-[r%s]-", "-[r%s]-"};
static const char *const TYPES[] = {"", ":USES", ":TEMPORAL_BEFORE"};

static bool is_string(const cy_expr *e, const char *value) {
    return e != NULL && e->kind == CY_EXPR_LITERAL && e->literal.kind == EG_PS_STRING &&
           e->literal.as.text.len == strlen(value) && memcmp(e->literal.as.text.data, value, strlen(value)) == 0;
}

static bool is_integer(const cy_expr *e, int64_t value) {
    return e != NULL && e->kind == CY_EXPR_LITERAL && e->literal.kind == EG_PS_INT && e->literal.as.integer == value;
}

static bool is_name(const cy_expr *e, cy_expr_kind kind, const char *name) {
    return e != NULL && e->kind == kind && e->name != NULL && strcmp(e->name, name) == 0;
}

/* The expression of `RETURN <text>`, in a statement the caller frees. */
static const cy_expr *returned(const char *text, cy_statement **s) {
    *s = parse(format("RETURN %s", text));
    if (*s == NULL || (*s)->clause_count != 1 || (*s)->clauses[0].projection.count != 1) return NULL;
    return (*s)->clauses[0].projection.items[0].expression;
}

/* ---- C1–C26, verbatim ---- */

TEST(inventory_schema_statements_parse) {
    static const char *const constraints[][3] = {
        {"episode_id", "e", "Episode"}, {"entity_id", "e", "Entity"}, {"procedure_id", "p", "Procedure"}};
    for (int i = 0; i < 3; i++) { /* C1–C3 */
        const char *text = format("CREATE CONSTRAINT %s IF NOT EXISTS FOR (%s:%s) REQUIRE %s.id IS UNIQUE",
                                  constraints[i][0], constraints[i][1], constraints[i][2], constraints[i][1]);
        cy_statement *s = parse(text);
        REQUIRE(s != NULL);
        CHECK(s->kind == CY_STATEMENT_CREATE_CONSTRAINT);
        CHECK(strcmp(s->schema_name, constraints[i][0]) == 0);
        CHECK(s->if_not_exists);
        CHECK(strcmp(s->schema_label, constraints[i][2]) == 0);
        CHECK(strcmp(s->schema_property, "id") == 0);
        CHECK(cy_statement_writes(s));
        cy_statement_free(s);
    }
    static const char *const indexes[][4] = {{"episode_session", "e", "Episode", "sessionId"},
                                             {"entity_session", "e", "Entity", "sessionId"},
                                             {"procedure_session", "p", "Procedure", "sessionId"},
                                             {"episode_timestamp", "e", "Episode", "timestamp"}};
    for (int i = 0; i < 4; i++) { /* C4–C7 */
        const char *text = format("CREATE INDEX %s IF NOT EXISTS FOR (%s:%s) ON (%s.%s)", indexes[i][0],
                                  indexes[i][1], indexes[i][2], indexes[i][1], indexes[i][3]);
        cy_statement *s = parse(text);
        REQUIRE(s != NULL);
        CHECK(s->kind == CY_STATEMENT_CREATE_INDEX);
        CHECK(strcmp(s->schema_name, indexes[i][0]) == 0);
        CHECK(s->if_not_exists);
        CHECK(strcmp(s->schema_label, indexes[i][2]) == 0);
        CHECK(strcmp(s->schema_property, indexes[i][3]) == 0);
        CHECK(cy_statement_writes(s));
        cy_statement_free(s);
    }
    cy_statement *s = parse("SHOW CONSTRAINTS"); /* C8 */
    REQUIRE(s != NULL);
    CHECK(s->kind == CY_STATEMENT_SHOW_CONSTRAINTS);
    CHECK(!cy_statement_writes(s));
    cy_statement_free(s);
}

TEST(inventory_node_statements_parse) {
    for (int i = 0; i < 3; i++) {
        const char *label = LABELS[i];
        /* C10 and C25 */
        CHECK(parses(format("\n            CREATE (n:%s {id: $id, sessionId: $sessionId, content: $content})\n"
                            "            RETURN n.id as id\n            ",
                            label),
                     true));
        CHECK(parses(format("\n            CREATE (n:%s {})\n            RETURN n.id as id\n            ", label),
                     true));
        for (int labelled = 0; labelled < 2; labelled++) {
            const char *lbl = labelled ? format(":%s", label) : "";
            /* C11, C12, C13 */
            CHECK(parses(format("\n            MATCH (n%s {id: $id})\n            RETURN properties(n) as data\n"
                                "            ",
                                lbl),
                         false));
            CHECK(parses(format("\n            MATCH (n%s {id: $id})\n            SET n.content = $content, "
                                "n.weight = $weight\n            ",
                                lbl),
                         true));
            CHECK(parses(format("\n            MATCH (n%s {id: $id})\n            DETACH DELETE n\n            ", lbl),
                         true));
        }
    }
    CHECK(parses("MATCH (n {id: $id}) SET n.weight = $value", true)); /* C18 */
    CHECK(parses("RETURN 1 as test", false));                         /* C19 */
}

TEST(inventory_relationship_statements_parse) {
    for (int t = 1; t < 3; t++) {
        const char *type = TYPES[t] + 1;
        /* C14, without and with properties */
        CHECK(parses(format("\n            MATCH (src {id: $source_id})\n            MATCH (tgt {id: $target_id})\n"
                            "            CREATE (src)-[r:%s]->(tgt)\n            ",
                            type),
                     true));
        CHECK(parses(format("\n            MATCH (src {id: $source_id})\n            MATCH (tgt {id: $target_id})\n"
                            "            CREATE (src)-[r:%s {weight: $weight, createdAt: $createdAt}]->(tgt)\n"
                            "            ",
                            type),
                     true));
        /* C15 */
        CHECK(parses(format("\n            UNWIND $rels AS rel\n            MATCH (src {id: rel.source_id})\n"
                            "            MATCH (tgt {id: rel.target_id})\n            CREATE (src)-[r:%s]->(tgt)\n"
                            "            SET r += rel.props\n            RETURN count(r) as created\n            ",
                            type),
                     true));
    }
    for (int d = 0; d < 3; d++) {
        for (int t = 0; t < 3; t++) {
            char pattern[64];
            snprintf(pattern, sizeof pattern, DIRECTIONS[d], TYPES[t]);
            /* C16 */
            CHECK(parses(format("\n            MATCH (n {id: $id})%s(other)\n            RETURN {\n"
                                "                rel_type: type(r),\n                properties: properties(r),\n"
                                "                source_id: n.id,\n                other_id: other.id\n"
                                "            } as rel\n            ",
                                pattern),
                         false));
            /* C17: the prefix, then the block */
            CHECK(parses(format("UNWIND $ids as id \n            MATCH (n {id: id})%s(other)\n"
                                "            RETURN n.id as node_id, type(r) as rel_type,\n"
                                "                   properties(r) as rel_props, other.id as other_id\n"
                                "            ",
                                pattern),
                         false));
        }
    }
}

TEST(inventory_hebbian_and_path_statements_parse) {
    static const char *const where_stale = "            WHERE r.lastAccessed < $cutoff\n"
                                           "            AND ($session_id IS NULL OR a.sessionId = $session_id)\n";
    CHECK(parses(format("\n            MATCH (a)-[r]->(b)\n%s            SET r.weight = r.weight * (1 - $decay_rate)\n"
                        "            RETURN count(r) as decayed\n            ",
                        where_stale),
                 true)); /* C20 */
    CHECK(parses("\n            MATCH (a)-[r]->(b)\n            WHERE r.weight < $min_weight\n"
                 "            AND ($session_id IS NULL OR a.sessionId = $session_id)\n            DELETE r\n"
                 "            RETURN count(r) as pruned\n            ",
                 true)); /* C21 */
    CHECK(parses(format("\n            MATCH (a)-[r]->(b)\n%s            RETURN count(r) as count\n            ",
                        where_stale),
                 false)); /* C22 */
    static const char *const strengthen =
        "\n            MATCH (a {id: $%s})-[r]->(b {id: $%s})\n"
        "            SET r.weight = COALESCE(r.weight, 0.1) + $lr * (1 - COALESCE(r.weight, 0.1)),\n"
        "                r.coAccessCount = COALESCE(r.coAccessCount, 0) + 1,\n"
        "                r.lastCoAccess = $now\n            RETURN r.weight as new_weight\n            ";
    CHECK(parses(format(strengthen, "source_id", "target_id"), true)); /* C23 */
    CHECK(parses(format(strengthen, "target_id", "source_id"), true)); /* C24 */
    for (int n = 1; n <= 10; n++) { /* C26 */
        const char *text = format(
            "\n            MATCH path = shortestPath((source {id: $source_id})-[*..%d]-(target {id: $target_id}))\n"
            "            RETURN [node in nodes(path) | {id: node.id, labels: labels(node)}] as nodes,\n"
            "                   [rel in relationships(path) | {type: type(rel), properties: properties(rel)}] as "
            "relationships\n            ",
            n);
        cy_statement *s = parse(text);
        REQUIRE(s != NULL);
        const cy_pattern_part *part = &s->clauses[0].pattern.parts[0];
        CHECK(strcmp(part->path_variable, "path") == 0);
        CHECK(part->function == CY_PATH_SHORTEST);
        CHECK(part->rel_count == 1 && part->rels[0].variable_length);
        CHECK(part->rels[0].min_hops == -1 && part->rels[0].max_hops == n);
        CHECK(part->rels[0].direction == CY_DIR_BOTH);
        CHECK(!cy_statement_writes(s));
        cy_statement_free(s);
    }
}

TEST(corrected_forms_parse) {
    for (int i = 0; i < 3; i++) {
        const char *label = LABELS[i];
        CHECK(parses(format("MATCH (n:%s {id: $id}) RETURN properties(n) AS data", label), false));
        CHECK(parses(format("MATCH (n:%s {id: $id}) SET n += $props RETURN n.id AS id", label), true));
        CHECK(parses(format("MATCH (src:%s {id: $source_id}) MATCH (tgt:Entity {id: $target_id})\n"
                            "CREATE (src)-[r:USES {weight: $weight}]->(tgt) RETURN type(r) AS type",
                            label),
                     true));
        CHECK(parses(format("UNWIND $ids AS id MATCH (n:%s {id: id})-[r]-(other) "
                            "RETURN n.id AS node_id, type(r) AS rel_type, properties(r) AS rel_props, "
                            "other.id AS other_id",
                            label),
                     false));
    }
    CHECK(parses("MATCH (a:Entity)-[r]->(b:Entity) WHERE r.lastCoAccess < $cutoff AND ($session_id IS NULL OR "
                 "a.sessionId = $session_id) SET r.weight = r.weight * ($one - $decay_rate) RETURN count(r) AS decayed",
                 true));
    CHECK(parses("MATCH (a:Entity {id: $source_id})-[r]->(b:Entity {id: $target_id}) SET r.weight = "
                 "coalesce(r.weight, $initial) + $lr * ($one - coalesce(r.weight, $initial)), r.lastCoAccess = $now "
                 "RETURN r.weight AS new_weight",
                 true));
    CHECK(parses("MATCH path = shortestPath((s:Entity {id: $source_id})-[*..5]-(t:Entity {id: $target_id})) "
                 "RETURN [node IN nodes(path) | {id: node.id, labels: labels(node)}] AS nodes",
                 false));
}

TEST(caller_queries_parse) {
    CHECK(parses("RETURN 1 as n", false));
    CHECK(parses("MATCH (c:Contact) WHERE toLower(c.name) CONTAINS toLower($query) OR toLower(c.organization) "
                 "CONTAINS toLower($query) RETURN c LIMIT $limit",
                 false));
    CHECK(parses("MATCH (e:CalendarEvent) WHERE toLower(e.title) CONTAINS toLower($query) AND e.start >= "
                 "datetime($start) AND e.start <= datetime($end) RETURN e ORDER BY e.start LIMIT $limit",
                 false));
    CHECK(parses("MATCH (c:Contact) WHERE c.birthday IS NOT NULL WITH c, date({year: date().year, month: "
                 "c.birthday.month, day: c.birthday.day}) AS next WHERE next <= date() + duration({days: $days}) "
                 "RETURN c ORDER BY next ASC",
                 false));
    CHECK(parses("MATCH (a {id: 'e1'}), (b {id: 'e2'}) MERGE (a)-[r:RELATES_TO {confidence: 0.9, source: "
                 "\"rule\"}]->(b)",
                 true));
}

/* ---- shapes ---- */

TEST(match_where_return_shape) {
    cy_statement *s = parse("OPTIONAL MATCH (a:Person:Admin {id: $id})<-[r:KNOWS|:LIKES *2..5 {since: 1}]-(b), "
                            "p = (c)-->(d) WHERE a.age >= 18 RETURN DISTINCT a.name, b AS friend ORDER BY a.name "
                            "DESC, b.x ASCENDING SKIP 1 LIMIT $n;");
    REQUIRE(s != NULL);
    REQUIRE(s->clause_count == 2);
    const cy_clause *m = &s->clauses[0];
    CHECK(m->kind == CY_CLAUSE_MATCH && m->optional);
    REQUIRE(m->pattern.count == 2);
    const cy_pattern_part *first = &m->pattern.parts[0];
    CHECK(first->path_variable == NULL && first->function == CY_PATH_PLAIN);
    REQUIRE(first->rel_count == 1);
    CHECK(strcmp(first->nodes[0].variable, "a") == 0 && first->nodes[0].label_count == 2);
    CHECK(strcmp(first->nodes[0].labels[1], "Admin") == 0);
    CHECK(first->nodes[0].properties->kind == CY_EXPR_MAP && first->nodes[0].properties->count == 1);
    CHECK(is_name(first->nodes[0].properties->items[0], CY_EXPR_PARAMETER, "id"));
    const cy_rel_pattern *r = &first->rels[0];
    CHECK(r->direction == CY_DIR_LEFT && strcmp(r->variable, "r") == 0 && r->type_count == 2);
    CHECK(strcmp(r->types[0], "KNOWS") == 0 && strcmp(r->types[1], "LIKES") == 0);
    CHECK(r->variable_length && r->min_hops == 2 && r->max_hops == 5);
    CHECK(r->properties != NULL && is_integer(r->properties->items[0], 1));
    CHECK(first->nodes[1].variable != NULL && first->nodes[1].label_count == 0 && !first->nodes[1].properties);
    const cy_pattern_part *second = &m->pattern.parts[1];
    CHECK(strcmp(second->path_variable, "p") == 0);
    CHECK(second->rel_count == 1 && second->rels[0].direction == CY_DIR_RIGHT && second->rels[0].type_count == 0);
    CHECK(!second->rels[0].variable_length && second->rels[0].variable == NULL);
    CHECK(m->where->kind == CY_EXPR_BINARY && m->where->op == CY_OP_GE);
    const cy_projection *ret = &s->clauses[1].projection;
    CHECK(s->clauses[1].kind == CY_CLAUSE_RETURN && ret->distinct && !ret->star && ret->count == 2);
    CHECK(ret->items[0].alias == NULL && strcmp(ret->items[0].text, "a.name") == 0);
    CHECK(strcmp(ret->items[1].alias, "friend") == 0);
    CHECK(ret->order_count == 2 && ret->order[0].descending && !ret->order[1].descending);
    CHECK(is_integer(ret->skip, 1) && is_name(ret->limit, CY_EXPR_PARAMETER, "n"));
    CHECK(!cy_statement_writes(s));
    cy_statement_free(s);
}

TEST(relationship_lengths_and_directions) {
    static const struct {
        const char *rel;
        cy_direction direction;
        bool variable_length;
        int64_t min, max;
    } cases[] = {
        {"-->", CY_DIR_RIGHT, false, -1, -1},     {"<--", CY_DIR_LEFT, false, -1, -1},
        {"--", CY_DIR_BOTH, false, -1, -1},       {"<-->", CY_DIR_BOTH, false, -1, -1},
        {"-[*]->", CY_DIR_RIGHT, true, -1, -1},   {"-[*3]-", CY_DIR_BOTH, true, 3, 3},
        {"-[*2..]-", CY_DIR_BOTH, true, 2, -1},   {"-[*..4]-", CY_DIR_BOTH, true, -1, 4},
        {"<-[:T*0..1]-", CY_DIR_LEFT, true, 0, 1}, {"-[r]-", CY_DIR_BOTH, false, -1, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cy_statement *s = parse(format("MATCH (a)%s(b) RETURN a", cases[i].rel));
        REQUIRE(s != NULL);
        const cy_rel_pattern *r = &s->clauses[0].pattern.parts[0].rels[0];
        CHECK(r->direction == cases[i].direction);
        CHECK(r->variable_length == cases[i].variable_length);
        CHECK(r->min_hops == cases[i].min && r->max_hops == cases[i].max);
        cy_statement_free(s);
    }
}

TEST(with_unwind_and_star_shape) {
    cy_statement *s = parse("UNWIND [1, 2, 3] AS x WITH DISTINCT *, x * 2 AS y ORDER BY y SKIP 0 LIMIT 2 WHERE y > 2 "
                            "RETURN *");
    REQUIRE(s != NULL);
    REQUIRE(s->clause_count == 3);
    CHECK(s->clauses[0].kind == CY_CLAUSE_UNWIND && strcmp(s->clauses[0].variable, "x") == 0);
    CHECK(s->clauses[0].expression->kind == CY_EXPR_LIST && s->clauses[0].expression->count == 3);
    const cy_projection *w = &s->clauses[1].projection;
    CHECK(s->clauses[1].kind == CY_CLAUSE_WITH && w->distinct && w->star && w->count == 1);
    CHECK(w->order_count == 1 && w->skip && w->limit && w->where && w->where->op == CY_OP_GT);
    CHECK(s->clauses[2].projection.star && s->clauses[2].projection.count == 0);
    cy_statement_free(s);
}

TEST(create_merge_set_remove_delete_shape) {
    cy_statement *s = parse("MATCH (a), (b) MERGE (a)-[r:T {k: 1}]->(b) ON CREATE SET r.n = 1 ON MATCH SET r.n = "
                            "r.n + 1, r:Seen ON CREATE SET r += {x: 2} SET a = $map, a += {y: 1}, a:L1:L2, "
                            "(a).z = 3 REMOVE a.y, a:L1 DETACH DELETE a, b");
    REQUIRE(s != NULL);
    REQUIRE(s->clause_count == 5);
    const cy_clause *merge = &s->clauses[1];
    CHECK(merge->kind == CY_CLAUSE_MERGE && merge->pattern.count == 1);
    REQUIRE(merge->on_create.count == 2 && merge->on_match.count == 2);
    CHECK(merge->on_create.items[0].kind == CY_SET_PROPERTY && strcmp(merge->on_create.items[0].name, "n") == 0);
    CHECK(is_name(merge->on_create.items[0].target, CY_EXPR_VARIABLE, "r"));
    CHECK(merge->on_create.items[1].kind == CY_SET_MERGE && merge->on_create.items[1].value->kind == CY_EXPR_MAP);
    CHECK(merge->on_match.items[1].kind == CY_SET_LABELS && merge->on_match.items[1].label_count == 1);
    const cy_set_list *set = &s->clauses[2].set;
    REQUIRE(s->clauses[2].kind == CY_CLAUSE_SET && set->count == 4);
    CHECK(set->items[0].kind == CY_SET_REPLACE && strcmp(set->items[0].variable, "a") == 0);
    CHECK(is_name(set->items[0].value, CY_EXPR_PARAMETER, "map"));
    CHECK(set->items[1].kind == CY_SET_MERGE);
    CHECK(set->items[2].kind == CY_SET_LABELS && set->items[2].label_count == 2);
    CHECK(strcmp(set->items[2].labels[1], "L2") == 0);
    CHECK(set->items[3].kind == CY_SET_PROPERTY && strcmp(set->items[3].name, "z") == 0);
    const cy_set_list *removed = &s->clauses[3].set;
    REQUIRE(s->clauses[3].kind == CY_CLAUSE_REMOVE && removed->count == 2);
    CHECK(removed->items[0].kind == CY_REMOVE_PROPERTY && strcmp(removed->items[0].name, "y") == 0);
    CHECK(removed->items[1].kind == CY_REMOVE_LABELS && strcmp(removed->items[1].labels[0], "L1") == 0);
    CHECK(s->clauses[4].kind == CY_CLAUSE_DELETE && s->clauses[4].detach && s->clauses[4].expression_count == 2);
    CHECK(cy_statement_writes(s));
    cy_statement_free(s);
}

TEST(call_is_parsed_for_the_executor_to_refuse) {
    cy_statement *s = parse("CALL db.labels() YIELD label AS l WHERE l <> 'x' RETURN l");
    REQUIRE(s != NULL);
    CHECK(s->clauses[0].kind == CY_CLAUSE_CALL && strcmp(s->clauses[0].variable, "db.labels") == 0);
    CHECK(s->clauses[0].expression_count == 0 && s->clauses[0].where != NULL);
    cy_statement_free(s);
    s = parse("CALL apoc.do.it(1, $x)");
    REQUIRE(s != NULL);
    CHECK(s->clauses[0].expression_count == 2 && !cy_statement_writes(s));
    cy_statement_free(s);
    CHECK(parses("CALL db.info YIELD *", false));
}

TEST(schema_commands_in_every_form) {
    cy_statement *s = parse("create constraint for (n:Person) require (n.email) is unique");
    REQUIRE(s != NULL);
    CHECK(s->kind == CY_STATEMENT_CREATE_CONSTRAINT && s->schema_name == NULL && !s->if_not_exists);
    CHECK(strcmp(s->schema_label, "Person") == 0 && strcmp(s->schema_property, "email") == 0);
    cy_statement_free(s);
    s = parse("CREATE CONSTRAINT ON (n:Person) ASSERT n.email IS UNIQUE");
    REQUIRE(s != NULL);
    CHECK(s->kind == CY_STATEMENT_CREATE_CONSTRAINT && strcmp(s->schema_property, "email") == 0);
    cy_statement_free(s);
    s = parse("CREATE INDEX ON :Person(name)");
    REQUIRE(s != NULL);
    CHECK(s->kind == CY_STATEMENT_CREATE_INDEX && strcmp(s->schema_label, "Person") == 0);
    cy_statement_free(s);
    s = parse("DROP CONSTRAINT `episode id` IF EXISTS");
    REQUIRE(s != NULL);
    CHECK(s->kind == CY_STATEMENT_DROP_CONSTRAINT && strcmp(s->schema_name, "episode id") == 0 && s->if_not_exists);
    CHECK(cy_statement_writes(s));
    cy_statement_free(s);
    s = parse("DROP INDEX episode_session");
    REQUIRE(s != NULL);
    CHECK(s->kind == CY_STATEMENT_DROP_INDEX && !s->if_not_exists && cy_statement_writes(s));
    cy_statement_free(s);
    static const char *const shows[] = {"SHOW ALL CONSTRAINTS", "SHOW UNIQUE CONSTRAINTS", "show constraint",
                                        "SHOW INDEXES", "SHOW ALL INDEXES", "SHOW RANGE INDEXES", "SHOW INDEX"};
    for (size_t i = 0; i < sizeof shows / sizeof shows[0]; i++) {
        s = parse(shows[i]);
        REQUIRE(s != NULL);
        CHECK(s->kind == (i < 3 ? CY_STATEMENT_SHOW_CONSTRAINTS : CY_STATEMENT_SHOW_INDEXES));
        CHECK(!cy_statement_writes(s));
        cy_statement_free(s);
    }
    CHECK(refused("CREATE CONSTRAINT c FOR (n:P) REQUIRE m.id IS UNIQUE", "Variable `m` not defined", 1, 39, 38));
    CHECK(refused("CREATE CONSTRAINT c FOR (n:P) REQUIRE n.id IS NODE KEY", "Invalid input 'NODE': expected UNIQUE",
                  1, 47, 46));
    CHECK(refused("SHOW TEXT INDEXES", "Invalid input 'TEXT'", 1, 6, 5));
}

TEST(literals) {
    cy_statement *s;
    static const struct {
        const char *text;
        int64_t value;
    } integers[] = {{"0", 0},     {"42", 42},   {"0x1F", 31},   {"0o17", 15}, {"017", 15},
                    {"-12", -12}, {"- 12", -12}, {"9223372036854775807", INT64_MAX},
                    {"-9223372036854775808", INT64_MIN}, {"-0x8000000000000000", INT64_MIN}};
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++) {
        CHECK(is_integer(returned(integers[i].text, &s), integers[i].value));
        cy_statement_free(s);
    }
    static const struct {
        const char *text;
        double value;
    } floats[] = {{"1.5", 1.5}, {".5", 0.5}, {"1e3", 1000.0}, {"2.5E-1", 0.25}, {"-1.25", -1.25}};
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        const cy_expr *e = returned(floats[i].text, &s);
        CHECK(e && e->kind == CY_EXPR_LITERAL && e->literal.kind == EG_PS_FLOAT);
        CHECK(e && e->literal.as.real == floats[i].value);
        cy_statement_free(s);
    }
    CHECK(is_string(returned("'a\\'b\\\"c\\\\d\\n\\t'", &s), "a'b\"c\\d\n\t"));
    cy_statement_free(s);
    CHECK(is_string(returned("\"\\u00e9\\U0001F600\\uD83D\\uDE00\"", &s), "\xC3\xA9\xF0\x9F\x98\x80\xF0\x9F\x98\x80"));
    cy_statement_free(s);
    const cy_expr *nul = returned("'a\\u0000b'", &s);
    CHECK(nul && nul->literal.as.text.len == 3 && nul->literal.as.text.data[1] == '\0');
    cy_statement_free(s);
    CHECK(is_string(returned("'caf\xC3\xA9'", &s), "caf\xC3\xA9"));
    cy_statement_free(s);
    const char *constants[] = {"true", "TRUE", "False", "null", "NULL"};
    for (int i = 0; i < 5; i++) {
        const cy_expr *e = returned(constants[i], &s);
        REQUIRE(e != NULL);
        CHECK(e->kind == CY_EXPR_LITERAL);
        CHECK(e->literal.kind == (i < 3 ? EG_PS_BOOL : EG_PS_NULL));
        if (i < 3) CHECK(e->literal.as.boolean == (i < 2));
        cy_statement_free(s);
    }
}

TEST(parameters_variables_and_names) {
    cy_statement *s;
    CHECK(is_name(returned("$name", &s), CY_EXPR_PARAMETER, "name"));
    cy_statement_free(s);
    CHECK(is_name(returned("$0", &s), CY_EXPR_PARAMETER, "0"));
    cy_statement_free(s);
    CHECK(is_name(returned("$`odd name`", &s), CY_EXPR_PARAMETER, "odd name"));
    cy_statement_free(s);
    const cy_expr *e = returned("`MATCH`.`a``b`", &s);
    CHECK(e && e->kind == CY_EXPR_PROPERTY && strcmp(e->name, "a`b") == 0);
    CHECK(e && is_name(e->operand, CY_EXPR_VARIABLE, "MATCH"));
    cy_statement_free(s);
    e = returned("n.order.limit", &s); /* keywords are fine as property keys */
    CHECK(e && e->kind == CY_EXPR_PROPERTY && strcmp(e->name, "limit") == 0);
    cy_statement_free(s);
    e = returned("apoc.coll.sum([1, 2])", &s);
    CHECK(e && is_name(e, CY_EXPR_CALL, "apoc.coll.sum") && e->count == 1);
    cy_statement_free(s);
    e = returned("count(*)", &s);
    CHECK(e && e->kind == CY_EXPR_COUNT_STAR);
    cy_statement_free(s);
    e = returned("COUNT(DISTINCT n.x)", &s);
    CHECK(e && is_name(e, CY_EXPR_CALL, "COUNT") && e->distinct && e->count == 1);
    cy_statement_free(s);
    e = returned("timestamp()", &s);
    CHECK(e && e->kind == CY_EXPR_CALL && e->count == 0);
    cy_statement_free(s);
    s = parse("MATCH (n) WHERE n:Person:Admin RETURN n.name AS `the name`");
    REQUIRE(s != NULL);
    CHECK(s->clauses[0].where->kind == CY_EXPR_HAS_LABELS && s->clauses[0].where->count == 2);
    CHECK(strcmp(s->clauses[0].where->keys[1], "Admin") == 0);
    CHECK(strcmp(s->clauses[1].projection.items[0].alias, "the name") == 0);
    cy_statement_free(s);
}

TEST(operator_precedence) {
    cy_statement *s;
    /* a OR b XOR c AND NOT d = e  ->  a OR (b XOR (c AND (NOT (d = e)))) */
    const cy_expr *e = returned("a OR b XOR c AND NOT d = e", &s);
    REQUIRE(e != NULL);
    CHECK(e->op == CY_OP_OR && e->right->op == CY_OP_XOR && e->right->right->op == CY_OP_AND);
    const cy_expr *not_ = e->right->right->right;
    CHECK(not_->kind == CY_EXPR_UNARY && not_->op == CY_OP_NOT && not_->operand->op == CY_OP_EQ);
    cy_statement_free(s);
    /* 1 + 2 * 3 ^ 2 - 4 % 3  ->  (1 + (2 * (3 ^ 2))) - (4 % 3) */
    e = returned("1 + 2 * 3 ^ 2 - 4 % 3", &s);
    REQUIRE(e != NULL);
    CHECK(e->op == CY_OP_SUBTRACT && e->right->op == CY_OP_MODULO);
    CHECK(e->left->op == CY_OP_ADD && e->left->right->op == CY_OP_MULTIPLY);
    CHECK(e->left->right->right->op == CY_OP_POWER);
    cy_statement_free(s);
    e = returned("2 ^ 3 ^ 2", &s); /* left to right, as Neo4j */
    CHECK(e && e->op == CY_OP_POWER && e->left->op == CY_OP_POWER && is_integer(e->right, 2));
    cy_statement_free(s);
    e = returned("-x.y", &s);
    CHECK(e && e->kind == CY_EXPR_UNARY && e->op == CY_OP_NEGATE && e->operand->kind == CY_EXPR_PROPERTY);
    cy_statement_free(s);
    e = returned("+1", &s);
    CHECK(e && e->kind == CY_EXPR_UNARY && e->op == CY_OP_PLUS);
    cy_statement_free(s);
    e = returned("a + 1 IN [2] = true", &s); /* IN binds tighter than =, looser than + */
    CHECK(e && e->op == CY_OP_EQ && e->left->op == CY_OP_IN && e->left->left->op == CY_OP_ADD);
    cy_statement_free(s);
    static const struct {
        const char *text;
        cy_operator op;
    } binaries[] = {{"a = b", CY_OP_EQ},          {"a <> b", CY_OP_NE},          {"a < b", CY_OP_LT},
                    {"a <= b", CY_OP_LE},         {"a > b", CY_OP_GT},           {"a >= b", CY_OP_GE},
                    {"a IN b", CY_OP_IN},         {"a STARTS WITH b", CY_OP_STARTS_WITH},
                    {"a ends with b", CY_OP_ENDS_WITH}, {"a CONTAINS b", CY_OP_CONTAINS},
                    {"a =~ b", CY_OP_REGEX},      {"a / b", CY_OP_DIVIDE},       {"a XOR b", CY_OP_XOR}};
    for (size_t i = 0; i < sizeof binaries / sizeof binaries[0]; i++) {
        e = returned(binaries[i].text, &s);
        CHECK(e && e->kind == CY_EXPR_BINARY && e->op == binaries[i].op);
        CHECK(e && is_name(e->left, CY_EXPR_VARIABLE, "a") && is_name(e->right, CY_EXPR_VARIABLE, "b"));
        cy_statement_free(s);
    }
    e = returned("a.b IS NOT NULL", &s);
    CHECK(e && e->kind == CY_EXPR_IS_NULL && e->negated && e->operand->kind == CY_EXPR_PROPERTY);
    cy_statement_free(s);
    e = returned("a IS NULL", &s);
    CHECK(e && e->kind == CY_EXPR_IS_NULL && !e->negated);
    cy_statement_free(s);
}

TEST(lists_maps_comprehensions_case_and_indexing) {
    cy_statement *s;
    const cy_expr *e = returned("[x IN range(1, 10) WHERE x % 2 = 0 | x * x]", &s);
    REQUIRE(e != NULL);
    CHECK(e->kind == CY_EXPR_COMPREHENSION && strcmp(e->name, "x") == 0);
    CHECK(is_name(e->operand, CY_EXPR_CALL, "range") && e->filter->op == CY_OP_EQ);
    CHECK(e->projection->op == CY_OP_MULTIPLY);
    cy_statement_free(s);
    e = returned("[x IN xs]", &s);
    CHECK(e && e->kind == CY_EXPR_COMPREHENSION && !e->filter && !e->projection);
    cy_statement_free(s);
    e = returned("[]", &s);
    CHECK(e && e->kind == CY_EXPR_LIST && e->count == 0);
    cy_statement_free(s);
    e = returned("{a: 1, `b c`: [1, {d: 'x'}], order: null}", &s);
    REQUIRE(e != NULL);
    CHECK(e->kind == CY_EXPR_MAP && e->count == 3);
    CHECK(strcmp(e->keys[1], "b c") == 0 && strcmp(e->keys[2], "order") == 0);
    CHECK(e->items[1]->kind == CY_EXPR_LIST && e->items[1]->items[1]->kind == CY_EXPR_MAP);
    cy_statement_free(s);
    e = returned("{}", &s);
    CHECK(e && e->kind == CY_EXPR_MAP && e->count == 0);
    cy_statement_free(s);
    e = returned("xs[0]", &s);
    CHECK(e && e->kind == CY_EXPR_INDEX && is_name(e->operand, CY_EXPR_VARIABLE, "xs") && is_integer(e->right, 0));
    cy_statement_free(s);
    e = returned("xs[1..-1]", &s);
    CHECK(e && e->kind == CY_EXPR_SLICE && is_integer(e->left, 1) && is_integer(e->right, -1));
    cy_statement_free(s);
    e = returned("xs[..2]", &s);
    CHECK(e && e->kind == CY_EXPR_SLICE && e->left == NULL && is_integer(e->right, 2));
    cy_statement_free(s);
    e = returned("xs[2..]", &s);
    CHECK(e && e->kind == CY_EXPR_SLICE && is_integer(e->left, 2) && e->right == NULL);
    cy_statement_free(s);
    e = returned("m['key'].x", &s);
    CHECK(e && e->kind == CY_EXPR_PROPERTY && e->operand->kind == CY_EXPR_INDEX);
    cy_statement_free(s);
    e = returned("CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END", &s);
    CHECK(e && e->kind == CY_EXPR_CASE && e->operand == NULL && e->count == 4 && is_integer(e->otherwise, 3));
    cy_statement_free(s);
    e = returned("case n.x when 1 then 'one' end", &s);
    CHECK(e && e->kind == CY_EXPR_CASE && e->operand != NULL && e->count == 2 && e->otherwise == NULL);
    cy_statement_free(s);
    e = returned("any(x IN n.tags WHERE x STARTS WITH 'a')", &s);
    CHECK(e && is_name(e, CY_EXPR_CALL, "any") && e->count == 1 && e->items[0]->kind == CY_EXPR_COMPREHENSION);
    CHECK(e && strcmp(e->items[0]->name, "x") == 0 && e->items[0]->filter->op == CY_OP_STARTS_WITH);
    CHECK(e && e->items[0]->projection == NULL);
    cy_statement_free(s);
    CHECK(parses("MATCH (n) WHERE all(t IN $tags WHERE t IN n.tags) AND NONE(x IN [] WHERE x) AND "
                 "single(y IN [1] WHERE y = 1) RETURN n",
                 false));
    e = returned("(1 + 2) * 3", &s);
    CHECK(e && e->op == CY_OP_MULTIPLY && e->left->op == CY_OP_ADD);
    cy_statement_free(s);
    e = returned("shortestPath((a)-[:T*]->(b))", &s);
    CHECK(e && e->kind == CY_EXPR_PATTERN && e->pattern->function == CY_PATH_SHORTEST);
    CHECK(e && e->pattern->rel_count == 1 && e->pattern->rels[0].direction == CY_DIR_RIGHT);
    cy_statement_free(s);
    s = parse("MATCH p = allShortestPaths((a)-[*]-(b)) RETURN p");
    CHECK(s && s->clauses[0].pattern.parts[0].function == CY_PATH_ALL_SHORTEST);
    cy_statement_free(s);
}

TEST(column_text_is_the_expression_as_written) {
    cy_statement *s = parse("RETURN   count( * ) ,n.x+1 AS y,  toLower( $q )  , [x IN l | x]\n;");
    REQUIRE(s != NULL);
    const cy_projection *p = &s->clauses[0].projection;
    REQUIRE(p->count == 4);
    CHECK(strcmp(p->items[0].text, "count( * )") == 0);
    CHECK(strcmp(p->items[1].alias, "y") == 0);
    CHECK(strcmp(p->items[2].text, "toLower( $q )") == 0);
    CHECK(strcmp(p->items[3].text, "[x IN l | x]") == 0);
    cy_statement_free(s);
}

TEST(keywords_comments_and_layout) {
    CHECK(parses("match (n) // a comment\n/* another\n one */ return n", false));
    CHECK(parses("MaTcH (n:Entity) wHeRe n.x Is NoT nUlL ReTuRn n OrDeR bY n.x dEsC", false));
    CHECK(parses("RETURN 1;", false));
    CHECK(parses("RETURN 1 ; ", false));
    CHECK(parses("\r\n\tRETURN\t1\r\n", false));
    CHECK(parses("CREATE (a)-[:T]->(b), (c)", true));
    CHECK(parses("MATCH (n) REMOVE n.x", true));
    CHECK(parses("MATCH (n) DELETE n", true));
    CHECK(parses("MERGE (n:Entity {id: $id})", true));
    CHECK(parses("MATCH (n) WITH n RETURN n", false));
    CHECK(parses("UNWIND $xs AS x RETURN x", false));
}

/* ---- refusals ---- */

TEST(refusals_say_what_and_where) {
    CHECK(refused("RETURN 'abc", "no closing '", 1, 8, 7));
    CHECK(refused("RETURN \"abc\\\"", "no closing \"", 1, 8, 7));
    CHECK(refused("MATCH (n)\nRETURN n # 1", "Invalid input '#'", 2, 10, 19));
    CHECK(refused("MATCH (n RETURN n", "Invalid input 'RETURN': expected ':' and a label", 1, 10, 9));
    CHECK(refused("MATCH (n) RETURN", "Unexpected end of input: expected an expression, '*' or DISTINCT", 1, 17, 16));
    CHECK(refused("RETURN", "expected an expression, '*' or DISTINCT after RETURN", 1, 7, 6));
    CHECK(refused("RETURN (1 + 2", "Unexpected end of input: expected ')'", 1, 14, 13));
    CHECK(refused("RETURN [1, 2", "expected ',' or ']'", 1, 13, 12));
    CHECK(refused("RETURN {a 1}", "Invalid input '1': expected ':' after the key", 1, 11, 10));
    CHECK(refused("RETURN 1 +", "Unexpected end of input: expected an expression", 1, 11, 10));
    CHECK(refused("RETRN 1", "Invalid input 'RETRN': expected a clause", 1, 1, 0));
    CHECK(refused("", "Unexpected end of input: expected a clause", 1, 1, 0));
    CHECK(refused("  // only a comment", "Unexpected end of input", 1, 20, 19));
    CHECK(refused("RETURN 1 RETURN 2", "RETURN can only be used at the end of the query", 1, 1, 0));
    CHECK(refused("MATCH (n)", "Query cannot conclude with MATCH", 1, 1, 0));
    CHECK(refused("RETURN a b", "Invalid input 'b': expected the end of the statement", 1, 10, 9));
    CHECK(refused("MATCH (n) WHERE n.x != 1 RETURN n", "Unknown operation '!='", 1, 21, 20));
    CHECK(refused("RETURN 1 UNION RETURN 2", "UNION is not supported", 1, 10, 9));
    CHECK(refused("FOREACH (x IN [1] | CREATE ())", "FOREACH is not supported", 1, 1, 0));
    CHECK(refused("RETURN '\\q'", "Invalid input '\\q': expected an escape sequence", 1, 9, 8));
    CHECK(refused("RETURN '\\uD800'", "names no Unicode character", 1, 9, 8));
    CHECK(refused("RETURN '\\u12'", "expected 4 hexadecimal digits", 1, 9, 8));
    CHECK(refused("RETURN 1 /* open", "must have a closing '*/'", 1, 10, 9));
    CHECK(refused("RETURN `open", "no closing `", 1, 8, 7));
    CHECK(refused("RETURN $", "expected a parameter name", 1, 8, 7));
    CHECK(refused("RETURN 12abc", "Invalid input '12abc'", 1, 8, 7));
    CHECK(refused("RETURN 0x", "expected digits in base 16", 1, 8, 7));
    CHECK(refused("RETURN caf\xC3\xA9", "must be written in backquotes", 1, 11, 10));
    CHECK(refused("MATCH (n) SET n", "'.' and a property name, '=', '+=' or ':'", 1, 16, 15));
    CHECK(refused("MATCH (n) RETURN CASE END", "expected WHEN", 1, 23, 22));
    CHECK(refused("MATCH (a)-[r]>(b) RETURN a", "Invalid input '>': expected '-' to end", 1, 14, 13));
    CHECK(refused("MATCH (n) WHERE RETURN n", "Invalid input 'RETURN': expected an expression", 1, 17, 16));
    CHECK(refused("RETURN 1 AS", "expected a name after AS", 1, 12, 11));
    CHECK(refused("RETURN any(x IN [1] | x)", "Invalid input '|': expected WHERE or ')'", 1, 21, 20));
    CHECK(refused("RETURN a, MATCH (b)", "Invalid input 'MATCH': expected an expression", 1, 11, 10));
    CHECK(refused("RETURN 1e999", "floating point number is too large", 1, 8, 7));
    CHECK(refused("RETURN 'x'\n  + \n  'y' +", "Unexpected end of input: expected an expression", 3, 8, 23));
}

TEST(integers_beyond_64_bits_are_refused) {
    CHECK(refused("RETURN 9223372036854775808", "integer is too large", 1, 8, 7));
    CHECK(refused("RETURN 99999999999999999999", "integer is too large", 1, 8, 7));
    CHECK(refused("RETURN 0x8000000000000000", "integer is too large", 1, 8, 7));
    CHECK(refused("RETURN -9223372036854775809", "integer is too large", 1, 9, 8));
    CHECK(refused("MATCH (a)-[*..9223372036854775808]-(b) RETURN a", "integer is too large", 1, 15, 14));
}

TEST(bytes_that_are_not_utf8_or_nul_are_refused) {
    CHECK(refused_len("RETURN 'a\0b'", 12, "NUL byte", 1, 10, 9));
    CHECK(refused_len("RETURN 1\n\0", 10, "NUL byte", 2, 1, 9));
    CHECK(refused("RETURN '\xFF'", "not valid UTF-8 at byte 0xFF", 1, 9, 8));
    CHECK(refused("RETURN 'caf\xC3'", "not valid UTF-8 at byte 0xC3", 1, 12, 11));
    CHECK(refused("RETURN '\xC0\xAF'", "not valid UTF-8", 1, 9, 8));        /* overlong */
    CHECK(refused("RETURN '\xED\xA0\x80'", "not valid UTF-8", 1, 9, 8));    /* surrogate */
    CHECK(refused("RETURN '\xC3\xA9' + \xFF", "not valid UTF-8", 1, 14, 14)); /* columns count characters */
}

TEST(bounds_on_length_nesting_and_depth) {
    size_t big = CY_MAX_STATEMENT_BYTES + 1;
    char *text = malloc(big + 1);
    REQUIRE(text != NULL);
    memset(text, ' ', big);
    memcpy(text, "RETURN 1", 8);
    CHECK(refused_len(text, big, "too long", 1, 1, 0));
    /* Just within the length: a long but shallow statement parses. */
    size_t n = 0;
    n += (size_t)sprintf(text, "RETURN [");
    while (n < CY_MAX_STATEMENT_BYTES - 16) n += (size_t)sprintf(text + n, "1,");
    n += (size_t)sprintf(text + n, "1]");
    cy_statement *long_list = parse_len(text, n);
    CHECK(long_list != NULL && long_list->clauses[0].projection.items[0].expression->count > 300000);
    cy_statement_free(long_list);

    /* Nesting: 64 levels of parentheses parse, 65 do not; a hostile 100 000 are refused without recursion. */
    int depths[] = {CY_MAX_NESTING - 2, CY_MAX_NESTING + 1, 100000};
    for (int d = 0; d < 3; d++) {
        n = (size_t)sprintf(text, "RETURN ");
        for (int i = 0; i < depths[d]; i++) text[n++] = '(';
        text[n++] = '1';
        for (int i = 0; i < depths[d]; i++) text[n++] = ')';
        cy_statement *s = NULL;
        eg_bolt_failure f;
        bool ok = cy_parse(text, n, &s, &f);
        CHECK(ok == (d == 0));
        if (!ok) CHECK(strstr(f.message, "nested too deeply") != NULL);
        cy_statement_free(s);
    }
    for (int d = 0; d < 4; d++) {
        static const char *const openers[] = {"[", "{a:", "-", "NOT "};
        static const char *const closers[] = {"]", "}", "", ""};
        n = (size_t)sprintf(text, "RETURN ");
        for (int i = 0; i < 10000; i++) n += (size_t)sprintf(text + n, "%s", openers[d]);
        n += (size_t)sprintf(text + n, "x");
        for (int i = 0; i < 10000; i++) n += (size_t)sprintf(text + n, "%s", closers[d]);
        cy_statement *s = NULL;
        eg_bolt_failure f;
        CHECK(!cy_parse(text, n, &s, &f) && strstr(f.message, "nested too deeply") != NULL);
    }
    /* Depth of the tree: a long chain of + is as deep as it is long. */
    int chains[] = {CY_MAX_EXPRESSION_DEPTH - 2, CY_MAX_EXPRESSION_DEPTH + 1};
    for (int c = 0; c < 2; c++) {
        n = (size_t)sprintf(text, "RETURN 1");
        for (int i = 0; i < chains[c]; i++) n += (size_t)sprintf(text + n, "+1");
        cy_statement *s = NULL;
        eg_bolt_failure f;
        bool ok = cy_parse(text, n, &s, &f);
        CHECK(ok == (c == 0));
        if (!ok) CHECK(strstr(f.message, "Expression nested too deeply") != NULL);
        cy_statement_free(s);
    }
    free(text);
}

TEST(messages_stay_valid_utf8_and_bounded) {
    /* A long line of multi-byte characters before the error: the excerpt is cut on character boundaries. */
    char text[4096];
    size_t n = (size_t)sprintf(text, "RETURN '");
    for (int i = 0; i < 300; i++) n += (size_t)sprintf(text + n, "\xC3\xA9");
    n += (size_t)sprintf(text + n, "' + \xE2\x82\xAC\xE2\x82\xAC");
    cy_statement *s = NULL;
    eg_bolt_failure f;
    CHECK(!cy_parse(text, n, &s, &f));
    CHECK(eg_ps_utf8_valid(f.message, strlen(f.message)));
    CHECK(strstr(f.message, "(line 1, column 313 (offset: 612))") != NULL);
}

TEST(writes_is_true_for_updating_clauses_and_schema_changes) {
    static const struct {
        const char *text;
        bool writes;
    } cases[] = {
        {"MATCH (n) RETURN n", false},
        {"UNWIND [1] AS x WITH x RETURN x", false},
        {"CREATE (n)", true},
        {"MERGE (n {id: 1}) RETURN n", true},
        {"MATCH (n) SET n.x = 1", true},
        {"MATCH (n) REMOVE n:L", true},
        {"MATCH (n) DELETE n", true},
        {"MATCH (n) DETACH DELETE n", true},
        {"MATCH (n) WITH n CREATE (m) WITH m RETURN m", true},
        {"CALL db.labels()", false},
        {"CREATE CONSTRAINT c FOR (n:L) REQUIRE n.p IS UNIQUE", true},
        {"CREATE INDEX i FOR (n:L) ON (n.p)", true},
        {"DROP CONSTRAINT c", true},
        {"DROP INDEX i IF EXISTS", true},
        {"SHOW CONSTRAINTS", false},
        {"SHOW INDEXES", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) CHECK(parses(cases[i].text, cases[i].writes));
}

int main(void) {
    RUN(inventory_schema_statements_parse);
    RUN(inventory_node_statements_parse);
    RUN(inventory_relationship_statements_parse);
    RUN(inventory_hebbian_and_path_statements_parse);
    RUN(corrected_forms_parse);
    RUN(caller_queries_parse);
    RUN(match_where_return_shape);
    RUN(relationship_lengths_and_directions);
    RUN(with_unwind_and_star_shape);
    RUN(create_merge_set_remove_delete_shape);
    RUN(call_is_parsed_for_the_executor_to_refuse);
    RUN(schema_commands_in_every_form);
    RUN(literals);
    RUN(parameters_variables_and_names);
    RUN(operator_precedence);
    RUN(lists_maps_comprehensions_case_and_indexing);
    RUN(column_text_is_the_expression_as_written);
    RUN(keywords_comments_and_layout);
    RUN(refusals_say_what_and_where);
    RUN(integers_beyond_64_bits_are_refused);
    RUN(bytes_that_are_not_utf8_or_nul_are_refused);
    RUN(bounds_on_length_nesting_and_depth);
    RUN(messages_stay_valid_utf8_and_bounded);
    RUN(writes_is_true_for_updating_clauses_and_schema_changes);
    return test_summary();
}
