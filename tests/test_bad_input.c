/* test_bad_input.c — every kind of bad input, through the C API (eg_graph_*) and through exec JSON lines: each is
 * refused with the exact error code and a message naming the problem, and leaves the store exactly as it was
 * (a canonical snapshot of a small seeded graph is taken before and compared after). */
#include "test.h"

#include <math.h>
#include <stdarg.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static eg_db *db;
static eg_graph *g;
static eg_error err;
static char last_message[EG_ERROR_MESSAGE_MAX + 1]; /* the message of the last expectation */

static char id128[EG_ID_MAX + 1], id129[EG_ID_MAX + 2];                            /* longest legal, one more */
static char name255[EG_PROPERTY_NAME_MAX + 1], name256[EG_PROPERTY_NAME_MAX + 2]; /* the same for names */

/* ---- The seeded graph: a few nodes of each label and a few relationships, all with properties ---------------- */

static const struct {
    eg_label label;
    const char *id;
    const char *properties;
} seed_nodes[] = {
    {EG_LABEL_EPISODE, "ep1", "{\"summary\":\"met Ada at the lab\",\"sessionId\":\"s1\",\"importance\":0.7}"},
    {EG_LABEL_EPISODE, "ep2", "{\"summary\":\"reviewed the plan\",\"sessionId\":\"s1\",\"tags\":[\"plan\",\"review\"]}"},
    {EG_LABEL_ENTITY, "e1", "{\"name\":\"Ada\",\"kind\":\"person\"}"},
    {EG_LABEL_ENTITY, "e2", "{\"name\":\"the lab\",\"kind\":\"place\",\"meta\":{\"floor\":3}}"},
    {EG_LABEL_ENTITY, "e3", "{\"name\":\"LMDB\",\"kind\":\"tool\"}"},
    {EG_LABEL_PROCEDURE, "p1", "{\"name\":\"bisect a bug\",\"steps\":[\"reproduce\",\"narrow\",\"fix\"]}"},
    {EG_LABEL_PROCEDURE, "p2", "{\"name\":\"release\",\"successRate\":0.9}"},
};

static const struct {
    const char *source, *target;
    eg_rel_type type;
    const char *properties;
} seed_relationships[] = {
    {"ep1", "e1", EG_REL_HAS_CONTEXT, "{\"weight\":0.5,\"note\":\"first meeting\"}"},
    {"e1", "e2", EG_REL_RELATES_TO, "{\"weight\":0.3,\"coAccessCount\":2}"},
    {"p1", "e3", EG_REL_USES, "{\"weight\":0.9,\"lastAccessed\":1700000000000}"},
    {"ep2", "ep1", EG_REL_TEMPORAL_AFTER, NULL},
    {"p2", "p1", EG_REL_DEPENDS_ON, "{\"why\":\"tests first\"}"},
};

/* Parses JSON written in this file (a typo here is a bug of the test, so it stops the program). */
static json_t *parse(const char *text) {
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) {
        fprintf(stderr, "test JSON does not parse: %s: %s\n", text, jerr.text);
        exit(2);
    }
    return j;
}

static void seed(void) {
    db = test_open_fresh();
    g = eg_db_graph(db);
    for (size_t i = 0; i < COUNT_OF(seed_nodes); i++) {
        json_t *p = parse(seed_nodes[i].properties);
        if (eg_graph_create_node(g, seed_nodes[i].label, seed_nodes[i].id, p, &err) != EG_OK) {
            fprintf(stderr, "seed: %s\n", err.message);
            exit(2);
        }
        json_decref(p);
    }
    for (size_t i = 0; i < COUNT_OF(seed_relationships); i++) {
        json_t *p = seed_relationships[i].properties ? parse(seed_relationships[i].properties) : NULL;
        if (eg_graph_create_relationship(g, seed_relationships[i].source, seed_relationships[i].target,
                                         seed_relationships[i].type, p, &err) != EG_OK) {
            fprintf(stderr, "seed: %s\n", err.message);
            exit(2);
        }
        json_decref(p);
    }
}

static void unseed(void) {
    eg_close(db);
    db = NULL;
    g = NULL;
}

/* Every test runs on its own freshly seeded store. */
#define RUN_SEEDED(name)                                                                                             \
    do {                                                                                                             \
        seed();                                                                                                      \
        RUN(name);                                                                                                   \
        unseed();                                                                                                    \
    } while (0)

/* ---- Expectations ------------------------------------------------------------------------------------------- */

static void failed(int line, const char *what, const char *problem) {
    fprintf(stderr, "  %s:%d: %.200s%s\n    %s\n", __FILE__, line, what, strlen(what) > 200 ? "..." : "", problem);
    test_failures_in_current++;
}

/* The shared tail of every expectation: the code, a message naming the problem, and a store left exactly as the
 * snapshot `before` (freed here) shows it. */
static void check_outcome(int line, const char *what, const char *got_code, const char *want_code,
                          const char *message, const char *word, char *before) {
    char problem[EG_ERROR_MESSAGE_MAX + 256];
    snprintf(last_message, sizeof last_message, "%s", message ? message : "");
    if (strcmp(got_code, want_code) != 0) {
        snprintf(problem, sizeof problem, "-> %s (%s), expected %s", got_code, last_message, want_code);
        failed(line, what, problem);
    } else if (word && !strstr(last_message, word)) {
        snprintf(problem, sizeof problem, "-> message \"%s\" does not mention \"%s\"", last_message, word);
        failed(line, what, problem);
    }
    char *after = test_graph_snapshot(db);
    if (strcmp(before, after) != 0) failed(line, what, "-> changed the store");
    free(before);
    free(after);
}

static void check_api(int line, const char *what, eg_status got, eg_status want, const char *word, char *before) {
    if (got != EG_OK && err.code != got) failed(line, what, "-> the eg_error code differs from the returned status");
    check_outcome(line, what, eg_status_name(got), eg_status_name(want), got == EG_OK ? "" : err.message, word,
                  before);
}

/* A C call returns `code` with a message containing `word` (NULL: any) and leaves the store unchanged. */
#define EXPECT_API(code, word, call)                                                                                 \
    do {                                                                                                             \
        char *before_ = test_graph_snapshot(db);                                                                     \
        eg_error_clear(&err);                                                                                        \
        eg_status got_ = (call);                                                                                     \
        check_api(__LINE__, #call, got_, code, word, before_);                                                       \
    } while (0)

/* An exec request line answers `code` ("ok" or an eg_status_name) with a message containing `word` (NULL: any)
 * and leaves the store unchanged. */
static void expect_exec_at(int line, const char *request, const char *code, const char *word) {
    char *before = test_graph_snapshot(db);
    json_t *r = test_exec(db, request);
    const char *got = test_response_code(r);
    const char *message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    check_outcome(line, request, got ? got : "(a response without a code)", code, message, word, before);
    json_decref(r);
}
#define EXPECT_EXEC(request, code, word) expect_exec_at(__LINE__, request, code, word)

/* The same with the request built as JSON (stolen), for names and ids that need escaping or are long. */
static void expect_exec_json_at(int line, json_t *request, const char *code, const char *word) {
    char *text = json_dumps(request, JSON_COMPACT);
    expect_exec_at(line, text, code, word);
    free(text);
    json_decref(request);
}
#define EXPECT_EXEC_JSON(request, code, word) expect_exec_json_at(__LINE__, request, code, word)

/* A request that must succeed and may change the store. */
static void exec_ok_at(int line, const char *request) {
    json_t *r = test_exec(db, request);
    const char *got = test_response_code(r);
    if (!got || strcmp(got, "ok") != 0) {
        char problem[EG_ERROR_MESSAGE_MAX + 64];
        snprintf(problem, sizeof problem, "-> %s (%s), expected ok", got ? got : "?",
                 json_string_value(json_object_get(json_object_get(r, "error"), "message")));
        failed(line, request, problem);
    }
    json_decref(r);
}
#define EXEC_OK(request) exec_ok_at(__LINE__, request)

static void exec_json_ok_at(int line, json_t *request) {
    char *text = json_dumps(request, JSON_COMPACT);
    exec_ok_at(line, text);
    free(text);
    json_decref(request);
}
#define EXEC_JSON_OK(request) exec_json_ok_at(__LINE__, request)

/* Does the message of the last expectation mention `word`? */
static bool mentions(const char *word) { return strstr(last_message, word) != NULL; }

/* A request line from a printf template (for short, escape-free values). */
static const char *line_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *line_of(const char *fmt, ...) {
    static char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return line;
}

static uint64_t node_count(void) {
    uint64_t n = 0;
    eg_graph_count_nodes(g, EG_LABEL_ANY, &n, &err);
    return n;
}

/* ---- Batches ------------------------------------------------------------------------------------------------ */

static char batch_ids[EG_GRAPH_BATCH_MAX + 1][16];

/* `count` valid new Entity nodes b0000, b0001, ... (calloc'ed; free()). */
static eg_node_spec *node_batch(size_t count) {
    eg_node_spec *specs = calloc(count, sizeof *specs);
    for (size_t i = 0; specs && i < count; i++) {
        snprintf(batch_ids[i], sizeof batch_ids[i], "b%04u", (unsigned)i);
        specs[i] = (eg_node_spec){EG_LABEL_ENTITY, batch_ids[i], NULL};
    }
    return specs;
}

static json_t *node_batch_json(size_t count) {
    json_t *items = json_array();
    for (size_t i = 0; i < count; i++) {
        char id[16];
        snprintf(id, sizeof id, "b%04u", (unsigned)i);
        json_array_append_new(items, json_pack("{s:s, s:s}", "label", "Entity", "id", id));
    }
    return items;
}

/* `count` valid relationships between seeded nodes; the first 833 are distinct triples, most of them new. */
static void relationship_triple(size_t i, const char **source, const char **target, eg_rel_type *type) {
    size_t n = COUNT_OF(seed_nodes);
    *source = seed_nodes[i % n].id;
    *target = seed_nodes[(i / n) % n].id;
    *type = (eg_rel_type)((i / (n * n)) % EG_REL_TYPE_COUNT);
}

static eg_relationship_spec *relationship_batch(size_t count) {
    eg_relationship_spec *specs = calloc(count, sizeof *specs);
    for (size_t i = 0; specs && i < count; i++)
        relationship_triple(i, &specs[i].source_id, &specs[i].target_id, &specs[i].type);
    return specs;
}

static json_t *relationship_batch_json(size_t count) {
    json_t *items = json_array();
    for (size_t i = 0; i < count; i++) {
        const char *source, *target;
        eg_rel_type type;
        relationship_triple(i, &source, &target, &type);
        json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "source_id", source, "target_id", target, "type",
                                               eg_rel_type_name(type)));
    }
    return items;
}

/* ---- Labels, relationship types, directions ---------------------------------------------------------------- */

/* Names outside the t4dm schema (this suite's graph): plain identifiers, which open schemas accept, and names no
 * schema accepts. */
static const char *const bad_labels[] = {"Person", "entity", "", "has space", "9lives"};
static const char *const bad_types[] = {"KNOWS", "TEMPORAL_SEQUENCE", "relates_to", "", "A-B"};

static bool plain_identifier(const char *name) {
    return name[0] && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") == strlen(name) &&
           !(name[0] >= '0' && name[0] <= '9');
}

TEST(unknown_labels) {
    for (size_t i = 0; i < COUNT_OF(bad_labels); i++) {
        const char *label = bad_labels[i];
        char word[64];
        snprintf(word, sizeof word, "invalid node label '%s'", label);
        eg_label parsed = EG_LABEL_ENTITY;
        if (plain_identifier(label)) { /* an open name: parsed, refused by the schema */
            CHECK_OK(eg_label_parse(label, &parsed, &err), &err);
            CHECK(parsed >= EG_LABEL_COUNT && strcmp(eg_label_name(parsed), label) == 0);
            EXPECT_API(EG_INVALID_ARGUMENT, word, eg_graph_create_node(g, parsed, "fresh", NULL, &err));
            CHECK(mentions("Episode, Entity, Procedure") && mentions("graph.schema=open"));
        } else {
            EXPECT_API(EG_INVALID_ARGUMENT, word, eg_label_parse(label, &parsed, &err));
            CHECK(mentions("letters, digits or _"));
            CHECK(parsed == EG_LABEL_ENTITY);
        }

        EXPECT_EXEC(line_of("{\"op\":\"create_node\",\"label\":\"%s\",\"id\":\"fresh\"}", label), "invalid_argument",
                    word);
        EXPECT_EXEC(line_of("{\"op\":\"get_node\",\"id\":\"e1\",\"label\":\"%s\"}", label), "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"update_node\",\"id\":\"e1\",\"label\":\"%s\",\"properties\":{\"x\":1}}", label),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"delete_node\",\"id\":\"e1\",\"label\":\"%s\"}", label), "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"list_nodes\",\"label\":\"%s\"}", label), "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"count_nodes\",\"label\":\"%s\"}", label), "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"batch_create_nodes\",\"nodes\":[{\"label\":\"Entity\",\"id\":\"fresh1\"},"
                            "{\"label\":\"%s\",\"id\":\"fresh2\"}]}",
                            label),
                    "invalid_argument", word);
        CHECK(mentions("nodes[1]"));
    }
    /* Codes no name was parsed to, and "any" where a real label is required. */
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label 5000: not a label code",
               eg_graph_create_node(g, (eg_label)5000, "fresh", NULL, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label -1",
               eg_graph_create_node(g, EG_LABEL_ANY, "fresh", NULL, &err));
    eg_node node;
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label 7000", eg_graph_get_node(g, "e1", (eg_label)7000, &node, &err));
    json_t *p = json_pack("{s:i}", "x", 1);
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label -2", eg_graph_update_node(g, "e1", p, (eg_label)-2, &err));
    json_decref(p);
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label 9000", eg_graph_delete_node(g, "e1", (eg_label)9000, &err));
    uint64_t n;
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label", eg_graph_count_nodes(g, (eg_label)100000, &n, &err));
    eg_node_spec specs[2] = {{EG_LABEL_ENTITY, "fresh1", NULL}, {(eg_label)5005, "fresh2", NULL}};
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label 5005", eg_graph_batch_create_nodes(g, specs, 2, &err));
}

TEST(unknown_relationship_types) {
    for (size_t i = 0; i < COUNT_OF(bad_types); i++) {
        const char *type = bad_types[i];
        char word[64];
        snprintf(word, sizeof word, "invalid relationship type '%s'", type);
        eg_rel_type parsed = EG_REL_USES;
        if (plain_identifier(type)) { /* an open name: parsed, refused by the schema */
            CHECK_OK(eg_rel_type_parse(type, &parsed, &err), &err);
            CHECK(parsed >= EG_REL_TYPE_COUNT && strcmp(eg_rel_type_name(parsed), type) == 0);
            EXPECT_API(EG_INVALID_ARGUMENT, word, eg_graph_create_relationship(g, "e1", "e3", parsed, NULL, &err));
            CHECK(mentions("RELATES_TO") && mentions("graph.schema=open"));
        } else {
            EXPECT_API(EG_INVALID_ARGUMENT, word, eg_rel_type_parse(type, &parsed, &err));
            CHECK(mentions("letters, digits or _"));
            CHECK(parsed == EG_REL_USES);
        }

        EXPECT_EXEC(line_of("{\"op\":\"create_relationship\",\"source_id\":\"e1\",\"target_id\":\"e3\",\"type\":\"%s\"}",
                            type),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"delete_relationship\",\"source_id\":\"e1\",\"target_id\":\"e2\",\"type\":\"%s\"}",
                            type),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"get_relationships\",\"id\":\"e1\",\"type\":\"%s\"}", type), "invalid_argument",
                    word);
        EXPECT_EXEC(line_of("{\"op\":\"get_relationships_batch\",\"ids\":[\"e1\"],\"type\":\"%s\"}", type),
                    "invalid_argument", word);
        EXPECT_EXEC(
            line_of("{\"op\":\"strengthen_relationship\",\"source_id\":\"e1\",\"target_id\":\"e2\",\"type\":\"%s\"}",
                    type),
            "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"weaken_relationship\",\"source_id\":\"e1\",\"target_id\":\"e2\",\"type\":\"%s\"}",
                            type),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"find_path\",\"source_id\":\"e1\",\"target_id\":\"e2\",\"types\":[\"USES\",\"%s\"]}",
                            type),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"batch_create_relationships\",\"relationships\":["
                            "{\"source_id\":\"e2\",\"target_id\":\"e3\",\"type\":\"USES\"},"
                            "{\"source_id\":\"e3\",\"target_id\":\"e1\",\"type\":\"%s\"}]}",
                            type),
                    "invalid_argument", word);
        CHECK(mentions("relationships[1]"));
    }
    /* Out-of-range enum values, and "any" where one type is required. */
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid relationship type 17000: not a type code",
               eg_graph_create_relationship(g, "e1", "e3", (eg_rel_type)17000, NULL, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid relationship type -1",
               eg_graph_create_relationship(g, "e1", "e3", EG_REL_ANY, NULL, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid relationship type -1",
               eg_graph_delete_relationship(g, "e1", "e2", EG_REL_ANY, &err));
    eg_relationship_list list;
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid relationship type 40000",
               eg_graph_get_relationships(g, "e1", (eg_rel_type)40000, EG_DIR_BOTH, &list, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid relationship type 99000",
               eg_graph_strengthen_relationship(g, "e1", "e2", (eg_rel_type)99000, 0.1, NULL, &err));
    eg_relationship_spec specs[2] = {{"e2", "e3", EG_REL_USES, NULL}, {"e3", "e1", (eg_rel_type)-7, NULL}};
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid relationship type -7",
               eg_graph_batch_create_relationships(g, specs, 2, &err));
}

TEST(unknown_direction) {
    eg_direction parsed = EG_DIR_IN;
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid direction 'sideways'", eg_direction_parse("sideways", &parsed, &err));
    CHECK(mentions("out, in or both"));
    CHECK(parsed == EG_DIR_IN);
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid direction 'OUT'", eg_direction_parse("OUT", &parsed, &err));
    eg_relationship_list list;
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid direction 3",
               eg_graph_get_relationships(g, "e1", EG_REL_ANY, (eg_direction)3, &list, &err));
    const char *ids[] = {"e1"};
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid direction -1",
               eg_graph_get_relationships_batch(g, ids, 1, EG_REL_ANY, (eg_direction)-1, &list, &err));
    EXPECT_EXEC("{\"op\":\"get_relationships\",\"id\":\"e1\",\"direction\":\"sideways\"}", "invalid_argument",
                "invalid direction 'sideways'");
    EXPECT_EXEC("{\"op\":\"get_relationships_batch\",\"ids\":[\"e1\",\"e2\"],\"direction\":\"sideways\"}",
                "invalid_argument", "invalid direction 'sideways'");
    EXPECT_EXEC("{\"op\":\"get_relationships\",\"id\":\"e1\",\"direction\":1}", "invalid_argument",
                "argument 'direction' must be a string");
}

/* ---- Property names ------------------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    const char *word;
} bad_names[] = {
    {"name`) SET x", "invalid property name 'name`) SET x'"},
    {"1abc", "invalid property name '1abc'"},
    {"", "property name is empty"},
    {"name\n", "invalid property name 'name\\x0a'"},
    {"a-b", "invalid property name 'a-b'"},
    {name256, "too long: 256 characters (max 255)"},
};

/* One place that accepts property names: the C call and the exec request, each carrying one property `name`. */
typedef struct property_site {
    const char *operation;
    const char *context; /* what the message must also name, or NULL */
    eg_status (*call)(const char *name);
    json_t *(*request)(const char *name);
} property_site;

static json_t *one_property(const char *name) { return json_pack("{s:i}", name, 1); }

static eg_status create_node_with(const char *name) {
    json_t *p = one_property(name);
    eg_status st = eg_graph_create_node(g, EG_LABEL_ENTITY, "fresh", p, &err);
    json_decref(p);
    return st;
}
static json_t *create_node_request(const char *name) {
    return json_pack("{s:s, s:s, s:s, s:{s:i}}", "op", "create_node", "label", "Entity", "id", "fresh", "properties",
                     name, 1);
}

static eg_status update_node_with(const char *name) {
    json_t *p = one_property(name);
    eg_status st = eg_graph_update_node(g, "e1", p, EG_LABEL_ANY, &err);
    json_decref(p);
    return st;
}
static json_t *update_node_request(const char *name) {
    return json_pack("{s:s, s:s, s:{s:i}}", "op", "update_node", "id", "e1", "properties", name, 1);
}

static eg_status update_property_with(const char *name) {
    json_t *v = json_integer(1);
    eg_status st = eg_graph_update_property(g, "e1", name, v, &err);
    json_decref(v);
    return st;
}
static json_t *update_property_request(const char *name) {
    return json_pack("{s:s, s:s, s:s, s:i}", "op", "update_property", "id", "e1", "property_name", name,
                     "property_value", 1);
}

static eg_status batch_create_nodes_with(const char *name) {
    json_t *good = json_pack("{s:i}", "ok", 1), *bad = one_property(name);
    eg_node_spec specs[2] = {{EG_LABEL_ENTITY, "fresh1", good}, {EG_LABEL_PROCEDURE, "fresh2", bad}};
    eg_status st = eg_graph_batch_create_nodes(g, specs, 2, &err);
    json_decref(good), json_decref(bad);
    return st;
}
static json_t *batch_create_nodes_request(const char *name) {
    return json_pack("{s:s, s:[{s:s, s:s, s:{s:i}}, {s:s, s:s, s:{s:i}}]}", "op", "batch_create_nodes", "nodes",
                     "label", "Entity", "id", "fresh1", "properties", "ok", 1, "label", "Procedure", "id", "fresh2",
                     "properties", name, 1);
}

static eg_status create_relationship_with(const char *name) {
    json_t *p = one_property(name);
    eg_status st = eg_graph_create_relationship(g, "e1", "e3", EG_REL_SIMILAR_TO, p, &err);
    json_decref(p);
    return st;
}
static json_t *create_relationship_request(const char *name) {
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:i}}", "op", "create_relationship", "source_id", "e1", "target_id",
                     "e3", "type", "SIMILAR_TO", "properties", name, 1);
}

/* The same on an existing relationship: the merge path. */
static eg_status merge_relationship_with(const char *name) {
    json_t *p = one_property(name);
    eg_status st = eg_graph_create_relationship(g, "e1", "e2", EG_REL_RELATES_TO, p, &err);
    json_decref(p);
    return st;
}
static json_t *merge_relationship_request(const char *name) {
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:i}}", "op", "create_relationship", "source_id", "e1", "target_id",
                     "e2", "type", "RELATES_TO", "properties", name, 1);
}

static eg_status batch_create_relationships_with(const char *name) {
    json_t *bad = one_property(name);
    eg_relationship_spec specs[2] = {{"e2", "e3", EG_REL_USES, NULL}, {"e3", "e1", EG_REL_PART_OF, bad}};
    eg_status st = eg_graph_batch_create_relationships(g, specs, 2, &err);
    json_decref(bad);
    return st;
}
static json_t *batch_create_relationships_request(const char *name) {
    return json_pack("{s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:{s:i}}]}", "op", "batch_create_relationships",
                     "relationships", "source_id", "e2", "target_id", "e3", "type", "USES", "source_id", "e3",
                     "target_id", "e1", "type", "PART_OF", "properties", name, 1);
}

/* Every bad name is refused at `site`, by both interfaces, with nothing changed; the longest legal name works. */
static void check_property_names(const property_site *site) {
    for (size_t i = 0; i < COUNT_OF(bad_names); i++) {
        char what[128];
        snprintf(what, sizeof what, "%s with property name #%zu", site->operation, i);
        char *before = test_graph_snapshot(db);
        eg_error_clear(&err);
        check_api(__LINE__, what, site->call(bad_names[i].name), EG_INVALID_ARGUMENT, bad_names[i].word, before);
        if (site->context && !mentions(site->context)) failed(__LINE__, what, "-> the message does not name where");
        EXPECT_EXEC_JSON(site->request(bad_names[i].name), "invalid_argument", bad_names[i].word);
        if (site->context && !mentions(site->context)) failed(__LINE__, what, "-> the message does not name where");
    }
    eg_error_clear(&err);
    CHECK_OK(site->call(name255), &err);
    EXEC_JSON_OK(site->request(name255));
}

TEST(bad_property_names_in_create_node) {
    check_property_names(&(property_site){"create_node", "create_node", create_node_with, create_node_request});
}

TEST(bad_property_names_in_update_node) {
    check_property_names(&(property_site){"update_node", "update_node", update_node_with, update_node_request});
}

TEST(bad_property_names_in_update_property) {
    check_property_names(
        &(property_site){"update_property", NULL, update_property_with, update_property_request});
}

TEST(bad_property_names_in_batch_create_nodes) {
    check_property_names(&(property_site){"batch_create_nodes", "nodes[1]", batch_create_nodes_with,
                                          batch_create_nodes_request});
}

TEST(bad_property_names_in_create_relationship) {
    check_property_names(&(property_site){"create_relationship", "create_relationship", create_relationship_with,
                                          create_relationship_request});
}

TEST(bad_property_names_when_merging_into_an_existing_relationship) {
    check_property_names(&(property_site){"create_relationship (merge)", "create_relationship",
                                          merge_relationship_with, merge_relationship_request});
}

TEST(bad_property_names_in_batch_create_relationships) {
    check_property_names(&(property_site){"batch_create_relationships", "relationships[1].properties",
                                          batch_create_relationships_with, batch_create_relationships_request});
}

/* ---- Node ids -------------------------------------------------------------------------------------------------- */

static const struct {
    const char *id;
    const char *word;
} bad_ids[] = {
    {id129, "is too long: at most 128 characters"},
    {"a b", "invalid node id 'a b'"},
    {"a/b", "invalid node id 'a/b'"},
    {"../x", "invalid node id '../x'"},
    {"", "node id is empty"},
    {"caf\xc3\xa9", "invalid node id 'caf\\xc3\\xa9'"},
};

/* One place that takes a node id, as a C call and as an exec request. */
typedef struct id_site {
    const char *operation;
    const char *role; /* the argument the message must name */
    eg_status (*call)(const char *id);
    json_t *(*request)(const char *id);
} id_site;

static eg_status create_node_id(const char *id) { return eg_graph_create_node(g, EG_LABEL_ENTITY, id, NULL, &err); }
static json_t *create_node_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:s}", "op", "create_node", "label", "Entity", "id", id);
}

static eg_status get_node_id(const char *id) {
    eg_node node;
    eg_status st = eg_graph_get_node(g, id, EG_LABEL_ANY, &node, &err);
    if (st == EG_OK) eg_node_clear(&node);
    return st;
}
static json_t *get_node_id_request(const char *id) { return json_pack("{s:s, s:s}", "op", "get_node", "id", id); }

static eg_status update_node_id(const char *id) {
    json_t *p = json_pack("{s:i}", "x", 1);
    eg_status st = eg_graph_update_node(g, id, p, EG_LABEL_ANY, &err);
    json_decref(p);
    return st;
}
static json_t *update_node_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:{s:i}}", "op", "update_node", "id", id, "properties", "x", 1);
}

static eg_status update_property_id(const char *id) {
    json_t *v = json_integer(1);
    eg_status st = eg_graph_update_property(g, id, "x", v, &err);
    json_decref(v);
    return st;
}
static json_t *update_property_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:s, s:i}", "op", "update_property", "id", id, "property_name", "x",
                     "property_value", 1);
}

static eg_status delete_node_id(const char *id) { return eg_graph_delete_node(g, id, EG_LABEL_ANY, &err); }
static json_t *delete_node_id_request(const char *id) {
    return json_pack("{s:s, s:s}", "op", "delete_node", "id", id);
}

static eg_status batch_node_id(const char *id) {
    eg_node_spec specs[2] = {{EG_LABEL_ENTITY, "fresh1", NULL}, {EG_LABEL_ENTITY, id, NULL}};
    return eg_graph_batch_create_nodes(g, specs, 2, &err);
}
static json_t *batch_node_id_request(const char *id) {
    return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "op", "batch_create_nodes", "nodes", "label", "Entity",
                     "id", "fresh1", "label", "Entity", "id", id);
}

static eg_status relationship_source_id(const char *id) {
    return eg_graph_create_relationship(g, id, "e1", EG_REL_USES, NULL, &err);
}
static json_t *relationship_source_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:s, s:s}", "op", "create_relationship", "source_id", id, "target_id", "e1", "type",
                     "USES");
}

static eg_status relationship_target_id(const char *id) {
    return eg_graph_create_relationship(g, "e1", id, EG_REL_USES, NULL, &err);
}
static json_t *relationship_target_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:s, s:s}", "op", "create_relationship", "source_id", "e1", "target_id", id, "type",
                     "USES");
}

static eg_status batch_relationship_id(const char *id) {
    eg_relationship_spec specs[2] = {{"e2", "e3", EG_REL_USES, NULL}, {"e3", id, EG_REL_USES, NULL}};
    return eg_graph_batch_create_relationships(g, specs, 2, &err);
}
static json_t *batch_relationship_id_request(const char *id) {
    return json_pack("{s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "op", "batch_create_relationships",
                     "relationships", "source_id", "e2", "target_id", "e3", "type", "USES", "source_id", "e3",
                     "target_id", id, "type", "USES");
}

static eg_status delete_relationship_id(const char *id) {
    return eg_graph_delete_relationship(g, "e1", id, EG_REL_RELATES_TO, &err);
}
static json_t *delete_relationship_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:s, s:s}", "op", "delete_relationship", "source_id", "e1", "target_id", id, "type",
                     "RELATES_TO");
}

static eg_status get_relationships_id(const char *id) {
    eg_relationship_list list;
    eg_status st = eg_graph_get_relationships(g, id, EG_REL_ANY, EG_DIR_BOTH, &list, &err);
    if (st == EG_OK) eg_relationship_list_free(&list);
    return st;
}
static json_t *get_relationships_id_request(const char *id) {
    return json_pack("{s:s, s:s}", "op", "get_relationships", "id", id);
}

static eg_status strengthen_id(const char *id) {
    return eg_graph_strengthen_relationship(g, id, "e2", EG_REL_ANY, 0.1, NULL, &err);
}
static json_t *strengthen_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:s}", "op", "strengthen_relationship", "source_id", id, "target_id", "e2");
}

static eg_status find_path_id(const char *id) {
    eg_path path;
    eg_status st = eg_graph_find_path(g, "e1", id, 3, EG_REL_TYPES_ALL, &path, &err);
    if (st == EG_OK) eg_path_clear(&path);
    return st;
}
static json_t *find_path_id_request(const char *id) {
    return json_pack("{s:s, s:s, s:s}", "op", "find_path", "source_id", "e1", "target_id", id);
}

static eg_status list_nodes_cursor(const char *id) {
    eg_node_list list;
    eg_status st = eg_graph_list_nodes(g, EG_LABEL_ANY, id, 10, &list, &err);
    if (st == EG_OK) eg_node_list_free(&list);
    return st;
}
static json_t *list_nodes_cursor_request(const char *id) {
    return json_pack("{s:s, s:s}", "op", "list_nodes", "cursor", id);
}

static const id_site id_sites[] = {
    {"create_node", "id", create_node_id, create_node_id_request},
    {"get_node", "id", get_node_id, get_node_id_request},
    {"update_node", "id", update_node_id, update_node_id_request},
    {"update_property", "id", update_property_id, update_property_id_request},
    {"delete_node", "id", delete_node_id, delete_node_id_request},
    {"batch_create_nodes", "nodes[1]", batch_node_id, batch_node_id_request},
    {"create_relationship (source)", "source_id", relationship_source_id, relationship_source_id_request},
    {"create_relationship (target)", "target_id", relationship_target_id, relationship_target_id_request},
    {"batch_create_relationships", "relationships[1].target_id", batch_relationship_id,
     batch_relationship_id_request},
    {"delete_relationship", "target_id", delete_relationship_id, delete_relationship_id_request},
    {"get_relationships", "id", get_relationships_id, get_relationships_id_request},
    {"strengthen_relationship", "source_id", strengthen_id, strengthen_id_request},
    {"find_path", "target_id", find_path_id, find_path_id_request},
    {"list_nodes (cursor)", "cursor", list_nodes_cursor, list_nodes_cursor_request},
};

TEST(bad_ids_everywhere_an_id_is_taken) {
    for (size_t s = 0; s < COUNT_OF(id_sites); s++)
        for (size_t i = 0; i < COUNT_OF(bad_ids); i++) {
            const id_site *site = &id_sites[s];
            char what[128];
            snprintf(what, sizeof what, "%s with bad id #%zu", site->operation, i);
            char *before = test_graph_snapshot(db);
            eg_error_clear(&err);
            check_api(__LINE__, what, site->call(bad_ids[i].id), EG_INVALID_ARGUMENT, bad_ids[i].word, before);
            if (!mentions(site->role)) failed(__LINE__, what, "-> the message does not name the argument");
            EXPECT_EXEC_JSON(site->request(bad_ids[i].id), "invalid_argument", bad_ids[i].word);
            if (!mentions(site->role)) failed(__LINE__, what, "-> the message does not name the argument");
        }
}

TEST(id_of_128_characters_is_accepted) {
    char other[EG_ID_MAX + 1];
    memset(other, 'b', EG_ID_MAX);
    other[EG_ID_MAX] = '\0';
    CHECK_OK(eg_validate_node_id(id128, &err), &err);
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, id128, NULL, &err), &err);
    EXEC_JSON_OK(json_pack("{s:s, s:s, s:s}", "op", "create_node", "label", "Episode", "id", other));
    CHECK_OK(eg_graph_create_relationship(g, id128, other, EG_REL_USES, NULL, &err), &err);
    eg_node node;
    CHECK_OK(eg_graph_get_node(g, other, EG_LABEL_EPISODE, &node, &err), &err);
    CHECK(strcmp(node.id, other) == 0);
    eg_node_clear(&node);
    EXEC_JSON_OK(json_pack("{s:s, s:s, s:s}", "op", "find_path", "source_id", other, "target_id", id128));
    CHECK(node_count() == COUNT_OF(seed_nodes) + 2);
    /* and one more character is refused by the validator itself */
    EXPECT_API(EG_INVALID_ARGUMENT, "too long", eg_validate_node_id(id129, &err));
}

TEST(nul_inside_a_json_string_is_rejected) {
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"a\\u0000b\"}", "invalid_argument",
                "malformed JSON");
    CHECK(mentions("u0000"));
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"fresh\",\"properties\":{\"a\\u0000b\":1}}",
                "invalid_argument", "malformed JSON");
    CHECK(mentions("NUL"));
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"fresh\",\"properties\":{\"v\":\"x\\u0000y\"}}",
                "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{\"op\":\"update_property\",\"id\":\"e1\",\"property_name\":\"n\\u0000ame\",\"property_value\":1}",
                "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{\"op\":\"create_relationship\",\"source_id\":\"e1\",\"target_id\":\"e3\",\"type\":\"USES\","
                "\"properties\":{\"note\":\"\\u0000\"}}",
                "invalid_argument", "malformed JSON");
    /* a raw NUL byte inside the line (not an escape) */
    static const char raw[] = "{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"a\0b\"}";
    char *before = test_graph_snapshot(db);
    char *text = eg_exec_json(db, raw, sizeof raw - 1);
    REQUIRE(text);
    json_t *r = json_loads(text, 0, NULL);
    free(text);
    REQUIRE(r);
    const char *code = test_response_code(r);
    check_outcome(__LINE__, "raw NUL byte in a request", code ? code : "?", "invalid_argument",
                  json_string_value(json_object_get(json_object_get(r, "error"), "message")), "malformed JSON",
                  before);
    json_decref(r);
}

/* ---- Node id inside properties ---------------------------------------------------------------------------------- */

TEST(update_node_with_a_different_id_property_is_refused) {
    json_t *e2_before = NULL;
    eg_node node;
    CHECK_OK(eg_graph_get_node(g, "e2", EG_LABEL_ANY, &node, &err), &err);
    e2_before = node.properties;

    json_t *p = json_pack("{s:s, s:s}", "id", "e2", "name", "Eve");
    EXPECT_API(EG_INVALID_ARGUMENT, "property 'id' differs from the node's id",
               eg_graph_update_node(g, "e1", p, EG_LABEL_ANY, &err));
    json_decref(p);
    p = json_pack("{s:i}", "id", 5);
    EXPECT_API(EG_INVALID_ARGUMENT, "property 'id' differs", eg_graph_update_node(g, "e1", p, EG_LABEL_ANY, &err));
    json_decref(p);
    json_t *v = json_string("e2");
    EXPECT_API(EG_INVALID_ARGUMENT, "property 'id' differs", eg_graph_update_property(g, "e1", "id", v, &err));
    json_decref(v);
    EXPECT_EXEC("{\"op\":\"update_node\",\"id\":\"e1\",\"properties\":{\"id\":\"e2\",\"name\":\"Eve\"}}",
                "invalid_argument", "property 'id' differs");
    EXPECT_EXEC("{\"op\":\"update_property\",\"id\":\"e1\",\"property_name\":\"id\",\"property_value\":\"e3\"}",
                "invalid_argument", "property 'id' differs");
    /* and on create: a node cannot claim another id in its properties either */
    p = json_pack("{s:s}", "id", "e2");
    EXPECT_API(EG_INVALID_ARGUMENT, "property 'id' differs", eg_graph_create_node(g, EG_LABEL_ENTITY, "fresh", p, &err));
    json_decref(p);

    /* the other node is untouched (the snapshots say so too; this says it plainly) */
    CHECK_OK(eg_graph_get_node(g, "e2", EG_LABEL_ANY, &node, &err), &err);
    CHECK(json_equal(node.properties, e2_before));
    eg_node_clear(&node);
    json_decref(e2_before);
}

TEST(update_node_repeating_its_own_id_is_accepted) {
    json_t *p = json_pack("{s:s, s:s}", "id", "e1", "mood", "calm");
    CHECK_OK(eg_graph_update_node(g, "e1", p, EG_LABEL_ANY, &err), &err);
    json_decref(p);
    EXEC_OK("{\"op\":\"update_node\",\"id\":\"e1\",\"properties\":{\"id\":\"e1\",\"seen\":2}}");
    eg_node node;
    CHECK_OK(eg_graph_get_node(g, "e1", EG_LABEL_ANY, &node, &err), &err);
    CHECK(json_object_get(node.properties, "id") == NULL);
    CHECK(strcmp(json_string_value(json_object_get(node.properties, "mood")), "calm") == 0);
    CHECK(json_integer_value(json_object_get(node.properties, "seen")) == 2);
    CHECK(strcmp(json_string_value(json_object_get(node.properties, "name")), "Ada") == 0);
    eg_node_clear(&node);
}

/* ---- Batches --------------------------------------------------------------------------------------------------- */

TEST(batch_of_1001_nodes_is_refused) {
    eg_node_spec *specs = node_batch(EG_GRAPH_BATCH_MAX + 1);
    REQUIRE(specs);
    EXPECT_API(EG_INVALID_ARGUMENT, "batch of 1001 exceeds the maximum of 1000",
               eg_graph_batch_create_nodes(g, specs, EG_GRAPH_BATCH_MAX + 1, &err));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_nodes", "nodes", node_batch_json(1001)),
                     "invalid_argument", "batch of 1001 exceeds the maximum of 1000");
    /* exactly the maximum is fine */
    CHECK_OK(eg_graph_batch_create_nodes(g, specs, EG_GRAPH_BATCH_MAX, &err), &err);
    CHECK(node_count() == COUNT_OF(seed_nodes) + EG_GRAPH_BATCH_MAX);
    free(specs);
}

TEST(batch_of_1001_relationships_is_refused) {
    eg_relationship_spec *specs = relationship_batch(EG_GRAPH_BATCH_MAX + 1);
    REQUIRE(specs);
    EXPECT_API(EG_INVALID_ARGUMENT, "batch of 1001 exceeds the maximum of 1000",
               eg_graph_batch_create_relationships(g, specs, EG_GRAPH_BATCH_MAX + 1, &err));
    EXPECT_EXEC_JSON(
        json_pack("{s:s, s:o}", "op", "batch_create_relationships", "relationships", relationship_batch_json(1001)),
        "invalid_argument", "batch of 1001 exceeds the maximum of 1000");
    free(specs);
}

TEST(node_batch_with_a_bad_item_500_creates_nothing) {
    eg_node_spec *specs = node_batch(EG_GRAPH_BATCH_MAX);
    REQUIRE(specs);
    eg_node_spec good = specs[500];
    json_t *bad_props = json_pack("{s:i}", "a-b", 1), *other_props = json_pack("{s:s}", "name", "not Ada");

    specs[500].id = "a/b";
    EXPECT_API(EG_INVALID_ARGUMENT, "nodes[500].id: invalid node id 'a/b'",
               eg_graph_batch_create_nodes(g, specs, EG_GRAPH_BATCH_MAX, &err));
    specs[500] = good, specs[500].properties = bad_props;
    EXPECT_API(EG_INVALID_ARGUMENT, "nodes[500].properties: invalid property name 'a-b'",
               eg_graph_batch_create_nodes(g, specs, EG_GRAPH_BATCH_MAX, &err));
    specs[500] = good, specs[500].label = (eg_label)9;
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid node label 9",
               eg_graph_batch_create_nodes(g, specs, EG_GRAPH_BATCH_MAX, &err));
    /* refused by the store itself, after 500 nodes were written in the same transaction */
    specs[500] = good, specs[500].id = "e1", specs[500].properties = other_props;
    EXPECT_API(EG_CONFLICT, "node 'e1' already exists", eg_graph_batch_create_nodes(g, specs, EG_GRAPH_BATCH_MAX, &err));

    json_t *items = node_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500, json_pack("{s:s, s:s}", "label", "Person", "id", "b0500"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_nodes", "nodes", items), "invalid_argument",
                     "nodes[500].label: invalid node label 'Person'");
    items = node_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500, json_string("b0500"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_nodes", "nodes", items), "invalid_argument",
                     "nodes[500] must be a JSON object");
    items = node_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500, json_pack("{s:s, s:s, s:s}", "label", "Entity", "id", "b0500", "colour", "red"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_nodes", "nodes", items), "invalid_argument",
                     "nodes[500]: unknown field 'colour'");
    items = node_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500, json_pack("{s:s, s:s}", "label", "Procedure", "id", "e1"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_nodes", "nodes", items), "conflict",
                     "node 'e1' already exists");
    json_decref(bad_props), json_decref(other_props);
    free(specs);
}

TEST(relationship_batch_with_a_bad_item_500_creates_nothing) {
    eg_relationship_spec *specs = relationship_batch(EG_GRAPH_BATCH_MAX);
    REQUIRE(specs);
    eg_relationship_spec good = specs[500];
    json_t *heavy = json_pack("{s:s}", "weight", "heavy");

    specs[500].properties = heavy;
    EXPECT_API(EG_INVALID_ARGUMENT, "relationships[500].properties: property 'weight' must be a number",
               eg_graph_batch_create_relationships(g, specs, EG_GRAPH_BATCH_MAX, &err));
    specs[500] = good, specs[500].type = (eg_rel_type)99;
    EXPECT_API(EG_INVALID_ARGUMENT, "invalid relationship type 99",
               eg_graph_batch_create_relationships(g, specs, EG_GRAPH_BATCH_MAX, &err));
    /* refused by the store itself, after 500 relationships were written in the same transaction */
    specs[500] = good, specs[500].target_id = "ghost";
    EXPECT_API(EG_NOT_FOUND, "relationships[500]: target node 'ghost' does not exist",
               eg_graph_batch_create_relationships(g, specs, EG_GRAPH_BATCH_MAX, &err));
    specs[500] = good, specs[500].source_id = "ghost";
    EXPECT_API(EG_NOT_FOUND, "relationships[500]: source node 'ghost' does not exist",
               eg_graph_batch_create_relationships(g, specs, EG_GRAPH_BATCH_MAX, &err));

    json_t *items = relationship_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500, json_pack("{s:s, s:s, s:s}", "source_id", "e1", "target_id", "e3", "type", "KNOWS"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_relationships", "relationships", items),
                     "invalid_argument", "relationships[500].type: invalid relationship type 'KNOWS'");
    items = relationship_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500, json_pack("{s:s, s:s, s:s}", "source_id", "e1", "target_id", "ghost", "type", "USES"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_relationships", "relationships", items), "not_found",
                     "relationships[500]: target node 'ghost' does not exist");
    items = relationship_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500,
                       json_pack("{s:s, s:s, s:s, s:{s:i}}", "source_id", "e1", "target_id", "e3", "type", "USES",
                                 "properties", "coAccessCount", -1));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_relationships", "relationships", items),
                     "invalid_argument", "relationships[500].properties: property 'coAccessCount'");
    json_decref(heavy);
    free(specs);
}

TEST(batch_with_a_duplicate_id_is_refused) {
    eg_node_spec specs[3] = {{EG_LABEL_ENTITY, "x", NULL}, {EG_LABEL_EPISODE, "y", NULL}, {EG_LABEL_ENTITY, "x", NULL}};
    EXPECT_API(EG_INVALID_ARGUMENT, "id 'x' appears more than once", eg_graph_batch_create_nodes(g, specs, 3, &err));
    EXPECT_EXEC("{\"op\":\"batch_create_nodes\",\"nodes\":[{\"label\":\"Entity\",\"id\":\"x\"},"
                "{\"label\":\"Episode\",\"id\":\"y\"},{\"label\":\"Procedure\",\"id\":\"x\"}]}",
                "invalid_argument", "id 'x' appears more than once");
}

TEST(relationship_batch_with_a_missing_end_node_creates_nothing) {
    eg_relationship_spec specs[3] = {
        {"e2", "e3", EG_REL_USES, NULL}, {"e3", "nobody", EG_REL_PART_OF, NULL}, {"p2", "e1", EG_REL_USES, NULL}};
    EXPECT_API(EG_NOT_FOUND, "relationships[1]: target node 'nobody' does not exist",
               eg_graph_batch_create_relationships(g, specs, 3, &err));
    EXPECT_EXEC("{\"op\":\"batch_create_relationships\",\"relationships\":["
                "{\"source_id\":\"e2\",\"target_id\":\"e3\",\"type\":\"USES\"},"
                "{\"source_id\":\"nobody\",\"target_id\":\"e3\",\"type\":\"USES\"}]}",
                "not_found", "relationships[1]: source node 'nobody' does not exist");
}

/* ---- Relationships ------------------------------------------------------------------------------------------------ */

TEST(create_relationship_with_a_missing_end_names_it) {
    EXPECT_API(EG_NOT_FOUND, "source node 'ghost' does not exist",
               eg_graph_create_relationship(g, "ghost", "e1", EG_REL_USES, NULL, &err));
    EXPECT_API(EG_NOT_FOUND, "target node 'ghost' does not exist",
               eg_graph_create_relationship(g, "e1", "ghost", EG_REL_USES, NULL, &err));
    EXPECT_EXEC("{\"op\":\"create_relationship\",\"source_id\":\"ghost\",\"target_id\":\"e1\",\"type\":\"USES\"}",
                "not_found", "source node 'ghost' does not exist");
    EXPECT_EXEC("{\"op\":\"create_relationship\",\"source_id\":\"e1\",\"target_id\":\"ghost\",\"type\":\"USES\","
                "\"properties\":{\"weight\":0.4}}",
                "not_found", "target node 'ghost' does not exist");
    /* the other operations that take two ends say which one is missing too */
    EXPECT_EXEC("{\"op\":\"strengthen_relationship\",\"source_id\":\"e1\",\"target_id\":\"ghost\"}", "not_found",
                "target node 'ghost'");
    EXPECT_EXEC("{\"op\":\"delete_relationship\",\"source_id\":\"ghost\",\"target_id\":\"e2\",\"type\":\"RELATES_TO\"}",
                "not_found", "source node 'ghost'");
    EXPECT_EXEC("{\"op\":\"find_path\",\"source_id\":\"e1\",\"target_id\":\"ghost\"}", "not_found",
                "target node 'ghost'");
}

static const struct {
    const char *properties;
    const char *word;
} bad_typed_properties[] = {
    {"{\"weight\":\"heavy\"}", "property 'weight' must be a number"},
    {"{\"weight\":true}", "property 'weight' must be a number"},
    {"{\"coAccessCount\":-1}", "property 'coAccessCount' must be an integer >= 0"},
    {"{\"coAccessCount\":1.5}", "property 'coAccessCount' must be an integer >= 0"},
    {"{\"coAccessCount\":\"3\"}", "property 'coAccessCount' must be an integer >= 0"},
    {"{\"lastAccessed\":\"yesterday\"}", "property 'lastAccessed' must be an integer >= 0"},
    {"{\"lastAccessed\":-5}", "property 'lastAccessed' must be an integer >= 0"},
    {"{\"lastAccessed\":1.5e12}", "property 'lastAccessed' must be an integer >= 0"},
};

TEST(typed_relationship_properties_of_the_wrong_type) {
    for (size_t i = 0; i < COUNT_OF(bad_typed_properties); i++) {
        const char *text = bad_typed_properties[i].properties, *word = bad_typed_properties[i].word;
        json_t *p = parse(text);
        /* a new relationship, an existing one (merge), and inside a batch */
        EXPECT_API(EG_INVALID_ARGUMENT, word, eg_graph_create_relationship(g, "e1", "e3", EG_REL_SIMILAR_TO, p, &err));
        EXPECT_API(EG_INVALID_ARGUMENT, word, eg_graph_create_relationship(g, "e1", "e2", EG_REL_RELATES_TO, p, &err));
        eg_relationship_spec specs[2] = {{"e2", "e3", EG_REL_USES, NULL}, {"e3", "e1", EG_REL_PART_OF, p}};
        EXPECT_API(EG_INVALID_ARGUMENT, word, eg_graph_batch_create_relationships(g, specs, 2, &err));
        CHECK(mentions("relationships[1]"));
        json_decref(p);

        EXPECT_EXEC(line_of("{\"op\":\"create_relationship\",\"source_id\":\"e1\",\"target_id\":\"e3\","
                            "\"type\":\"SIMILAR_TO\",\"properties\":%s}",
                            text),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"create_relationship\",\"source_id\":\"e1\",\"target_id\":\"e2\","
                            "\"type\":\"RELATES_TO\",\"properties\":%s}",
                            text),
                    "invalid_argument", word);
        EXPECT_EXEC(line_of("{\"op\":\"batch_create_relationships\",\"relationships\":["
                            "{\"source_id\":\"e2\",\"target_id\":\"e3\",\"type\":\"USES\"},"
                            "{\"source_id\":\"e3\",\"target_id\":\"e1\",\"type\":\"PART_OF\",\"properties\":%s}]}",
                            text),
                    "invalid_argument", word);
    }
}

TEST(find_path_bad_depth_and_types) {
    eg_path path;
    EXPECT_API(EG_INVALID_ARGUMENT, "max_depth must be an integer from 1 to 10, got 0",
               eg_graph_find_path(g, "e1", "e3", 0, EG_REL_TYPES_ALL, &path, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "max_depth must be an integer from 1 to 10, got 11",
               eg_graph_find_path(g, "e1", "e3", 11, EG_REL_TYPES_ALL, &path, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "max_depth must be an integer from 1 to 10, got -1",
               eg_graph_find_path(g, "e1", "e3", -1, EG_REL_TYPES_ALL, &path, &err));
    const eg_rel_type unknown[] = {EG_REL_USES, (eg_rel_type)1000000};
    EXPECT_API(EG_INVALID_ARGUMENT, "types[1]: invalid relationship type 1000000",
               eg_graph_find_path(g, "e1", "e3", 3, (eg_rel_type_set){unknown, 2}, &path, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "find_path: types is NULL",
               eg_graph_find_path(g, "e1", "e3", 3, (eg_rel_type_set){NULL, 1}, &path, &err));

    const char *find = "{\"op\":\"find_path\",\"source_id\":\"e1\",\"target_id\":\"e3\",";
    EXPECT_EXEC(line_of("%s\"max_depth\":0}", find), "invalid_argument",
                "argument 'max_depth' must be from 1 to 10, got 0");
    EXPECT_EXEC(line_of("%s\"max_depth\":11}", find), "invalid_argument",
                "argument 'max_depth' must be from 1 to 10, got 11");
    EXPECT_EXEC(line_of("%s\"max_depth\":\"3\"}", find), "invalid_argument", "argument 'max_depth' must be an integer");
    EXPECT_EXEC(line_of("%s\"max_depth\":true}", find), "invalid_argument", "argument 'max_depth' must be an integer");
    EXPECT_EXEC(line_of("%s\"max_depth\":2.5}", find), "invalid_argument", "argument 'max_depth' must be an integer");
    EXPECT_EXEC(line_of("%s\"types\":[]}", find), "invalid_argument", "types is empty");
    EXPECT_EXEC(line_of("%s\"types\":[\"NOPE\"]}", find), "invalid_argument", "invalid relationship type 'NOPE'");
    EXPECT_EXEC(line_of("%s\"types\":[\"USES\",7]}", find), "invalid_argument", "types[1] must be a string");
    EXPECT_EXEC(line_of("%s\"types\":\"USES\"}", find), "invalid_argument", "argument 'types' must be an array");
    /* the valid forms still answer */
    EXPECT_EXEC(line_of("%s\"max_depth\":10,\"types\":[\"RELATES_TO\"]}", find), "ok", NULL);
}

TEST(strengthen_and_weaken_rates_out_of_range) {
    const double rates[] = {-0.1, 1.5, NAN, INFINITY};
    for (size_t i = 0; i < COUNT_OF(rates); i++) {
        EXPECT_API(EG_INVALID_ARGUMENT, "learning_rate must be a number from 0 to 1",
                   eg_graph_strengthen_relationship(g, "e1", "e2", EG_REL_RELATES_TO, rates[i], NULL, &err));
        EXPECT_API(EG_INVALID_ARGUMENT, "rate must be a number from 0 to 1",
                   eg_graph_weaken_relationship(g, "e1", "e2", EG_REL_ANY, rates[i], NULL, &err));
        CHECK(!mentions("learning_rate"));
    }
    const char *pair = "\"source_id\":\"e1\",\"target_id\":\"e2\"";
    EXPECT_EXEC(line_of("{\"op\":\"strengthen_relationship\",%s,\"learning_rate\":-0.1}", pair), "invalid_argument",
                "learning_rate must be a number from 0 to 1, got -0.1");
    EXPECT_EXEC(line_of("{\"op\":\"strengthen_relationship\",%s,\"learning_rate\":1.5}", pair), "invalid_argument",
                "learning_rate must be a number from 0 to 1, got 1.5");
    EXPECT_EXEC(line_of("{\"op\":\"strengthen_relationship\",%s,\"learning_rate\":\"x\"}", pair), "invalid_argument",
                "argument 'learning_rate' must be a number");
    EXPECT_EXEC(line_of("{\"op\":\"weaken_relationship\",%s,\"rate\":-0.1}", pair), "invalid_argument",
                "rate must be a number from 0 to 1, got -0.1");
    EXPECT_EXEC(line_of("{\"op\":\"weaken_relationship\",%s,\"rate\":1.5}", pair), "invalid_argument",
                "rate must be a number from 0 to 1, got 1.5");
    EXPECT_EXEC(line_of("{\"op\":\"weaken_relationship\",%s,\"rate\":\"x\"}", pair), "invalid_argument",
                "argument 'rate' must be a number");
    /* each operation names its own argument: the other one's is unknown */
    EXPECT_EXEC(line_of("{\"op\":\"weaken_relationship\",%s,\"learning_rate\":0.1}", pair), "invalid_argument",
                "unknown argument 'learning_rate' for weaken_relationship");
}

TEST(decay_arguments_out_of_range) {
    eg_decay_result r;
    uint64_t n;
    EXPECT_API(EG_INVALID_ARGUMENT, "stale_days must be a number from 0 to 1000000, got -1",
               eg_graph_batch_decay_relationships(g, -1, 0.01, 0.01, NULL, &r, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "decay_rate must be a number from 0 to 1, got 2",
               eg_graph_batch_decay_relationships(g, 30, 2, 0.01, NULL, &r, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "min_weight must be a number from 0 to 1",
               eg_graph_batch_decay_relationships(g, 30, 0.01, -0.5, NULL, &r, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "session_id must be 1 to 1024 characters",
               eg_graph_batch_decay_relationships(g, 30, 0.01, 0.01, "", &r, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "stale_days", eg_graph_count_stale_relationships(g, NAN, NULL, &n, &err));
    EXPECT_EXEC("{\"op\":\"batch_decay_relationships\",\"stale_days\":-3}", "invalid_argument",
                "stale_days must be a number from 0 to 1000000, got -3");
    EXPECT_EXEC("{\"op\":\"batch_decay_relationships\",\"decay_rate\":2}", "invalid_argument",
                "decay_rate must be a number from 0 to 1, got 2");
    EXPECT_EXEC("{\"op\":\"batch_decay_relationships\",\"stale_days\":\"30\"}", "invalid_argument",
                "argument 'stale_days' must be a number");
    EXPECT_EXEC("{\"op\":\"count_stale_relationships\",\"stale_days\":-1}", "invalid_argument", "stale_days");
}

/* ---- Exec-level ----------------------------------------------------------------------------------------------- */

TEST(malformed_requests) {
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"fresh\"", "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{op: create_node}", "invalid_argument", "malformed JSON");
    EXPECT_EXEC("", "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{\"op\":\"stats\"} {\"op\":\"stats\"}", "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"a\",\"id\":\"b\"}", "invalid_argument",
                "duplicate object key");
    EXPECT_EXEC("[{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"fresh\"}]", "invalid_argument",
                "a request must be a JSON object");
    EXPECT_EXEC("\"create_node\"", "invalid_argument", "malformed JSON");
    EXPECT_EXEC("{\"label\":\"Entity\",\"id\":\"fresh\"}", "invalid_argument", "needs \"op\"");
    EXPECT_EXEC("{\"op\":7,\"label\":\"Entity\",\"id\":\"fresh\"}", "invalid_argument", "needs \"op\"");
    EXPECT_EXEC("{\"op\":\"drop_everything\"}", "invalid_argument", "unknown operation 'drop_everything'");
    EXPECT_EXEC("{\"op\":\"CREATE_NODE\",\"label\":\"Entity\",\"id\":\"fresh\"}", "invalid_argument",
                "unknown operation 'CREATE_NODE'");
}

TEST(unknown_and_mistyped_arguments) {
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"fresh\",\"colour\":\"red\"}", "invalid_argument",
                "unknown argument 'colour' for create_node");
    CHECK(mentions("allowed: label, id, properties"));
    EXPECT_EXEC("{\"op\":\"count_relationships\",\"colour\":\"red\"}", "invalid_argument",
                "unknown argument 'colour' for count_relationships (allowed: none)");
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":42}", "invalid_argument",
                "argument 'id' must be a string");
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"fresh\",\"properties\":\"name=x\"}",
                "invalid_argument", "argument 'properties' must be a JSON object");
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"fresh\",\"properties\":[1]}", "invalid_argument",
                "argument 'properties' must be a JSON object");
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":1,\"id\":\"fresh\"}", "invalid_argument",
                "argument 'label' must be a string");
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\"}", "invalid_argument", "argument 'id' is required");
    EXPECT_EXEC("{\"op\":\"batch_create_nodes\",\"nodes\":{\"label\":\"Entity\",\"id\":\"fresh\"}}", "invalid_argument",
                "argument 'nodes' must be an array");
    EXPECT_EXEC("{\"op\":\"batch_create_relationships\",\"relationships\":\"e1->e2\"}", "invalid_argument",
                "argument 'relationships' must be an array");
    EXPECT_EXEC("{\"op\":\"update_node\",\"id\":\"e1\"}", "invalid_argument", "argument 'properties' is required");
    EXPECT_EXEC("{\"op\":\"update_property\",\"id\":\"e1\",\"property_name\":\"x\"}", "invalid_argument",
                "argument 'property_value' is required");
    EXPECT_EXEC("{\"op\":\"get_relationships_batch\",\"ids\":[\"e1\",2]}", "invalid_argument",
                "ids[1] must be a string");
    EXPECT_EXEC("{\"op\":\"list_nodes\",\"limit\":0}", "invalid_argument", "argument 'limit' must be from 1 to 10000");
    EXPECT_EXEC("{\"op\":\"list_nodes\",\"limit\":\"10\"}", "invalid_argument", "argument 'limit' must be an integer");
}

TEST(valid_lines_after_bad_ones_still_work) {
    static const struct {
        const char *line;
        const char *code;
    } session[] = {
        {"{\"op\":\"create_node\",\"label\":\"Entity\",", "invalid_argument"},
        {"{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"n1\",\"properties\":{\"name\":\"one\"}}", "ok"},
        {"[1,2,3]", "invalid_argument"},
        {"{\"op\":\"create_node\",\"label\":\"Person\",\"id\":\"n2\"}", "invalid_argument"},
        {"{\"op\":\"create_node\",\"label\":\"Episode\",\"id\":\"n2\"}", "ok"},
        {"{\"op\":\"nope\"}", "invalid_argument"},
        {"{\"op\":\"create_relationship\",\"source_id\":\"n1\",\"target_id\":\"n2\",\"type\":\"KNOWS\"}",
         "invalid_argument"},
        {"{\"op\":\"create_relationship\",\"source_id\":\"n1\",\"target_id\":\"n2\",\"type\":\"SOURCE_OF\"}", "ok"},
        {"{\"op\":\"create_relationship\",\"source_id\":\"n1\",\"target_id\":\"zz\",\"type\":\"SOURCE_OF\"}",
         "not_found"},
        {"{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"n1\",\"properties\":{\"name\":\"two\"}}", "conflict"},
        {"{\"op\":\"get_node\",\"id\":\"n1\"}", "ok"},
    };
    for (size_t i = 0; i < COUNT_OF(session); i++) {
        json_t *r = test_exec(db, session[i].line);
        const char *code = test_response_code(r);
        if (!code || strcmp(code, session[i].code) != 0) {
            char problem[128];
            snprintf(problem, sizeof problem, "-> %s, expected %s", code ? code : "?", session[i].code);
            failed(__LINE__, session[i].line, problem);
        }
        if (i == COUNT_OF(session) - 1) {
            json_t *props = json_object_get(json_object_get(r, "result"), "properties");
            CHECK(strcmp(json_string_value(json_object_get(props, "name")), "one") == 0);
        }
        json_decref(r);
    }
    CHECK(node_count() == COUNT_OF(seed_nodes) + 2);
    uint64_t rels = 0;
    CHECK_OK(eg_graph_count_relationships(g, &rels, &err), &err);
    CHECK(rels == COUNT_OF(seed_relationships) + 1);
}

/* ---- Re-creating an existing node ------------------------------------------------------------------------------- */

TEST(create_existing_node_with_different_content_is_a_conflict) {
    json_t *other = json_pack("{s:s, s:s}", "name", "Ada Lovelace", "kind", "person");
    json_t *same = parse(seed_nodes[2].properties); /* e1 */
    json_t *fewer = json_pack("{s:s}", "name", "Ada");
    EXPECT_API(EG_CONFLICT, "node 'e1' already exists (as Entity) with different content",
               eg_graph_create_node(g, EG_LABEL_ENTITY, "e1", other, &err));
    EXPECT_API(EG_CONFLICT, "node 'e1' already exists", eg_graph_create_node(g, EG_LABEL_ENTITY, "e1", fewer, &err));
    EXPECT_API(EG_CONFLICT, "node 'e1' already exists", eg_graph_create_node(g, EG_LABEL_ENTITY, "e1", NULL, &err));
    EXPECT_API(EG_CONFLICT, "node 'e1' already exists (as Entity)",
               eg_graph_create_node(g, EG_LABEL_PROCEDURE, "e1", same, &err));
    EXPECT_EXEC("{\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"e1\",\"properties\":{\"name\":\"Bob\"}}",
                "conflict", "node 'e1' already exists");
    EXPECT_EXEC(line_of("{\"op\":\"create_node\",\"label\":\"Episode\",\"id\":\"e1\",\"properties\":%s}",
                        seed_nodes[2].properties),
                "conflict", "node 'e1' already exists (as Entity)");
    json_decref(other), json_decref(same), json_decref(fewer);
}

TEST(create_existing_node_with_identical_content_is_an_idempotent_retry) {
    for (size_t i = 0; i < COUNT_OF(seed_nodes); i++) {
        json_t *p = parse(seed_nodes[i].properties);
        EXPECT_API(EG_OK, NULL, eg_graph_create_node(g, seed_nodes[i].label, seed_nodes[i].id, p, &err));
        json_object_set_new(p, "id", json_string(seed_nodes[i].id)); /* repeating its own id changes nothing */
        EXPECT_API(EG_OK, NULL, eg_graph_create_node(g, seed_nodes[i].label, seed_nodes[i].id, p, &err));
        json_decref(p);
        EXPECT_EXEC(line_of("{\"op\":\"create_node\",\"label\":\"%s\",\"id\":\"%s\",\"properties\":%s}",
                            eg_label_name(seed_nodes[i].label), seed_nodes[i].id, seed_nodes[i].properties),
                    "ok", NULL);
    }
    /* a batch that repeats existing nodes exactly is a retry too */
    json_t *p = parse(seed_nodes[0].properties);
    eg_node_spec specs[1] = {{seed_nodes[0].label, seed_nodes[0].id, p}};
    EXPECT_API(EG_OK, NULL, eg_graph_batch_create_nodes(g, specs, 1, &err));
    json_decref(p);
}

/* ---- Inputs only the C API can build ------------------------------------------------------------------------------ */

/* A C caller can put a NUL inside a property value (json_stringn) or key (json_object_setn); JSON text cannot
 * carry one through exec. Refused, nothing written. */
TEST(nul_inside_strings_through_the_c_api) {
    json_t *value = json_object(), *key = json_object(), *nested = json_object();
    json_object_set_new(value, "v", json_stringn("a\0b", 3));
    json_object_setn_new(key, "a\0b", 3, json_integer(1));
    json_object_set_new(nested, "deep", json_pack("[{s:o}]", "x", json_stringn("a\0b", 3)));
    CHECK_OK(eg_graph_create_node(g, EG_LABEL_ENTITY, "nul3", NULL, &err), &err);
    EXPECT_API(EG_INVALID_ARGUMENT, "NUL", eg_graph_create_node(g, EG_LABEL_ENTITY, "nul1", value, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "NUL", eg_graph_create_node(g, EG_LABEL_ENTITY, "nul2", key, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "NUL", eg_graph_create_node(g, EG_LABEL_ENTITY, "nul4", nested, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "NUL", eg_graph_update_node(g, "nul3", value, EG_LABEL_ANY, &err));
    EXPECT_API(EG_INVALID_ARGUMENT, "NUL", eg_graph_create_relationship(g, "e1", "nul3", EG_REL_USES, value, &err));
    json_decref(value), json_decref(key), json_decref(nested);
}

/* In a batch of many items, every refusal should say which item. */
TEST(batch_errors_name_the_item) {
    eg_node_spec *nodes = node_batch(EG_GRAPH_BATCH_MAX);
    eg_relationship_spec *rels = relationship_batch(EG_GRAPH_BATCH_MAX);
    REQUIRE(nodes && rels);
    nodes[500].label = (eg_label)9;
    EXPECT_API(EG_INVALID_ARGUMENT, "nodes[500]", eg_graph_batch_create_nodes(g, nodes, EG_GRAPH_BATCH_MAX, &err));
    nodes[500].label = EG_LABEL_PROCEDURE, nodes[500].id = "e1";
    EXPECT_API(EG_CONFLICT, "nodes[500]", eg_graph_batch_create_nodes(g, nodes, EG_GRAPH_BATCH_MAX, &err));
    rels[500].type = (eg_rel_type)99;
    EXPECT_API(EG_INVALID_ARGUMENT, "relationships[500]",
               eg_graph_batch_create_relationships(g, rels, EG_GRAPH_BATCH_MAX, &err));
    json_t *items = node_batch_json(EG_GRAPH_BATCH_MAX);
    json_array_set_new(items, 500, json_pack("{s:s, s:s}", "label", "Procedure", "id", "e1"));
    EXPECT_EXEC_JSON(json_pack("{s:s, s:o}", "op", "batch_create_nodes", "nodes", items), "conflict", "nodes[500]");
    free(nodes), free(rels);
}

int main(void) {
    memset(id128, 'a', EG_ID_MAX);
    memset(id129, 'a', EG_ID_MAX + 1);
    memset(name255, 'p', EG_PROPERTY_NAME_MAX);
    memset(name256, 'p', EG_PROPERTY_NAME_MAX + 1);

    RUN_SEEDED(unknown_labels);
    RUN_SEEDED(unknown_relationship_types);
    RUN_SEEDED(unknown_direction);
    RUN_SEEDED(bad_property_names_in_create_node);
    RUN_SEEDED(bad_property_names_in_update_node);
    RUN_SEEDED(bad_property_names_in_update_property);
    RUN_SEEDED(bad_property_names_in_batch_create_nodes);
    RUN_SEEDED(bad_property_names_in_create_relationship);
    RUN_SEEDED(bad_property_names_when_merging_into_an_existing_relationship);
    RUN_SEEDED(bad_property_names_in_batch_create_relationships);
    RUN_SEEDED(bad_ids_everywhere_an_id_is_taken);
    RUN_SEEDED(id_of_128_characters_is_accepted);
    RUN_SEEDED(nul_inside_a_json_string_is_rejected);
    RUN_SEEDED(update_node_with_a_different_id_property_is_refused);
    RUN_SEEDED(update_node_repeating_its_own_id_is_accepted);
    RUN_SEEDED(batch_of_1001_nodes_is_refused);
    RUN_SEEDED(batch_of_1001_relationships_is_refused);
    RUN_SEEDED(node_batch_with_a_bad_item_500_creates_nothing);
    RUN_SEEDED(relationship_batch_with_a_bad_item_500_creates_nothing);
    RUN_SEEDED(batch_with_a_duplicate_id_is_refused);
    RUN_SEEDED(relationship_batch_with_a_missing_end_node_creates_nothing);
    RUN_SEEDED(create_relationship_with_a_missing_end_names_it);
    RUN_SEEDED(typed_relationship_properties_of_the_wrong_type);
    RUN_SEEDED(find_path_bad_depth_and_types);
    RUN_SEEDED(strengthen_and_weaken_rates_out_of_range);
    RUN_SEEDED(decay_arguments_out_of_range);
    RUN_SEEDED(malformed_requests);
    RUN_SEEDED(unknown_and_mistyped_arguments);
    RUN_SEEDED(valid_lines_after_bad_ones_still_work);
    RUN_SEEDED(create_existing_node_with_different_content_is_a_conflict);
    RUN_SEEDED(create_existing_node_with_identical_content_is_an_idempotent_retry);

    RUN_SEEDED(nul_inside_strings_through_the_c_api);
    RUN_SEEDED(batch_errors_name_the_item);
    return test_summary();
}
