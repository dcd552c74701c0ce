/* memory_cmds.c — the memory subcommands for people: `remember`, `recall`, `check`, `recover`. Like the graph
 * subcommands (human.c), each builds the request `exec` would take (create_<type>, recall, check), so validation
 * and results are the same, and prints the result as text, or with --json as exec's result. Text is embedded by
 * the built-in lexical embedder (engram/embed.h), so that these commands work without a model. */
#include "cli.h"

#include <engram/embed.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char remember_help[] =
    "usage: engram remember TEXT [--type episode|entity|procedure] [--id ID] [--session S] "
    "[--relate TYPE:TARGET_ID]... [--dim N]\n"
    "\n"
    "Stores TEXT as one memory, written to both stores together: a vector point (TEXT embedded by the built-in\n"
    "lexical embedder, which matches shared words, not meaning) with payload {\"text\": TEXT}, and a graph node\n"
    "with the property text = TEXT. Prints the memory's id. Remembering it again (the same --id, TEXT and\n"
    "options) changes nothing and succeeds; other content under an id in use fails with a conflict.\n"
    "\n"
    "  --type T               episode (default), entity or procedure\n"
    "  --id ID                a UUID or a decimal number (default: a new random UUID)\n"
    "  --session S            the session the memory belongs to (recall --session finds it)\n"
    "  --relate TYPE:TARGET   a relationship from the new memory to the existing node TARGET; may repeat.\n"
    "                         TYPE: USES PRODUCES REQUIRES CAUSES PART_OF SIMILAR_TO IMPLEMENTS IMPROVES_ON\n"
    "                         CONSOLIDATED_INTO SOURCE_OF RELATES_TO HAS_CONTEXT DERIVED_FROM SUPERSEDES\n"
    "                         DEPENDS_ON TEMPORAL_BEFORE TEMPORAL_AFTER\n"
    "  --dim N                embedding dimensions, 1..65536 (default 256); every memory of a type has the\n"
    "                         dimensions of the first one\n"
    "\n"
    "Put -- before a TEXT that starts with '-'.\n";

static const char recall_help[] =
    "usage: engram recall TEXT [--type T] [--limit N] [--expand 0|1|2] [--session S] [--dim N] [--json]\n"
    "\n"
    "Lists the memories of one type most like TEXT (by shared words: see `engram remember --help`), best first:\n"
    "rank, score, id and the memory's text. With --expand N, each is followed by the graph nodes within N\n"
    "relationships of it, indented, each with the relationship that leads to it from the line above.\n"
    "\n"
    "  --type T        episode (default), entity or procedure\n"
    "  --limit N       at most N memories, 1..10000 (default 10)\n"
    "  --expand N      relationship hops of graph context per memory, 0 (default), 1 or 2\n"
    "  --session S     only memories of that session\n"
    "  --dim N         embedding dimensions: as given to remember (default 256)\n"
    "  --json          print the result of the recall operation as JSON (docs/operations.md)\n"
    "\n"
    "Put -- before a TEXT that starts with '-'.\n";

static const char check_help[] =
    "usage: engram check [--repair] [--json]\n"
    "\n"
    "Compares the graph and the vector store: every memory must be both a vector point and a graph node.\n"
    "Lists the orphans (memories found in one store only) and the dead letters (writes that failed and could\n"
    "not be undone), then a summary.\n"
    "\n"
    "  --repair   remove each orphan, or restore it whole when a dead letter holds what it was, and resolve\n"
    "             the dead letters that leaves consistent\n"
    "  --json     print the result of the check operation as JSON (docs/operations.md)\n"
    "\n"
    "Exit status 0 when the stores are consistent (after the repair, with --repair), 1 when not.\n";

static const char recover_help[] =
    "usage: engram recover [--json]\n"
    "\n"
    "Opening a data folder recovers it after a crash: it cuts a torn tail off the write-ahead log and finishes\n"
    "every write a crash interrupted, undoing it (compensated) or completing it (rolled forward); a write that\n"
    "can be neither leaves a dead letter. This command opens the folder, shows what that recovery did, then\n"
    "checks the stores as `engram check` does (without repairing).\n"
    "\n"
    "  --json   print {\"recovery\": {...}, \"check\": the check result} as JSON\n"
    "\n"
    "Exit status 0 when the stores are consistent after recovery, 1 when not.\n";

/* ---- Command lines -------------------------------------------------------------------------------------------- */

enum { OPT_TYPE, OPT_ID, OPT_SESSION, OPT_RELATE, OPT_DIM, OPT_LIMIT, OPT_EXPAND, OPT_REPAIR, OPT_JSON, OPT_COUNT };
#define OPT(k) (1u << (k))

static const struct {
    const char *name;
    bool has_value;
} options[OPT_COUNT] = {
    [OPT_TYPE] = {"--type", true},
    [OPT_ID] = {"--id", true},
    [OPT_SESSION] = {"--session", true},
    [OPT_RELATE] = {"--relate", true},
    [OPT_DIM] = {"--dim", true},
    [OPT_LIMIT] = {"--limit", true},
    [OPT_EXPAND] = {"--expand", true},
    [OPT_REPAIR] = {"--repair", false},
    [OPT_JSON] = {"--json", false},
};

/* One parsed command line. */
typedef struct parsed {
    const char *command; /* "remember", ..., for messages */
    const char *text;    /* the positional TEXT, when the command takes one */
    const char *value[OPT_COUNT]; /* each option's value ("" for a flag), NULL when not given */
} parsed;

/* Reports a usage error of `engram COMMAND` on stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) static int usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "engram %s: ", command);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'engram %s --help'.\n", command);
    va_end(ap);
    return EXIT_USAGE;
}

/* Sets object[key] to the string value. JSON strings are UTF-8, so other bytes are a usage error here rather
 * than a field silently missing from the request. */
static int set_string(const char *command, json_t *object, const char *key, const char *value, const char *what) {
    json_t *s = json_string(value);
    if (!s) return usage_error(command, "%s is not valid UTF-8", what);
    json_object_set_new(object, key, s);
    return EXIT_OK;
}

/* --relate TYPE:TARGET_ID, appended to the request's "relationships" as exec takes them. The type is checked
 * here, so that a typo is a usage error; the target's existence is for the operation to check. */
static int add_relationship(const char *command, const char *spec, json_t *request) {
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return usage_error(command, "--relate takes TYPE:TARGET_ID (e.g. USES:42), got '%s'", spec);
    json_t *type = json_stringn(spec, (size_t)(colon - spec));
    eg_rel_type parsed_type;
    eg_error err;
    if (!type || eg_rel_type_parse(json_string_value(type), &parsed_type, &err) != EG_OK) {
        json_decref(type);
        return usage_error(command, "--relate '%s': %s", spec, type ? err.message : "out of memory");
    }
    json_t *rel = json_pack("{s:o}", "type", type);
    int rc = set_string(command, rel, "target_id", colon + 1, "the --relate target");
    json_t *list = json_object_get(request, "relationships");
    if (!list) json_object_set_new(request, "relationships", list = json_array());
    json_array_append_new(list, rel);
    return rc;
}

/* Reads argv into *out: the options in `allowed` (a mask of OPT()), each at most once except --relate (added to
 * request), and exactly `positionals` (0 or 1) positional arguments. After "--" every argument is positional. */
static int parse(const char *command, int argc, char **argv, unsigned allowed, int positionals, json_t *request,
                 parsed *out) {
    *out = (parsed){.command = command};
    int given = 0;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || arg[0] != '-' || !arg[1]) {
            if (given == positionals) return usage_error(command, "unexpected argument '%s'", arg);
            out->text = arg;
            given++;
            continue;
        }
        int k = 0;
        while (k < OPT_COUNT && !((allowed & OPT(k)) && strcmp(options[k].name, arg) == 0)) k++;
        if (k == OPT_COUNT) return usage_error(command, "unknown option '%s'", arg);
        if (options[k].has_value && i + 1 == argc) return usage_error(command, "%s needs a value", arg);
        const char *value = options[k].has_value ? argv[++i] : "";
        if (k == OPT_RELATE) {
            int rc = add_relationship(command, value, request);
            if (rc != EXIT_OK) return rc;
        } else if (out->value[k]) {
            return usage_error(command, "%s given twice", arg);
        } else {
            out->value[k] = value;
        }
    }
    if (given < positionals) return usage_error(command, "TEXT is missing");
    return EXIT_OK;
}

/* The value of option k as a whole number in min..max, set as the request's `field`; absent: nothing set. */
static int number_into(const parsed *p, int k, long min, long max, json_t *request, const char *field) {
    const char *text = p->value[k];
    if (!text) return EXIT_OK;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno || n < min || n > max)
        return usage_error(p->command, "%s takes a whole number from %ld to %ld, got '%s'", options[k].name, min, max,
                           text);
    json_object_set_new(request, field, json_integer(n));
    return EXIT_OK;
}

/* --type into *type (default episode). */
static int read_type(const parsed *p, eg_memory_type *type) {
    eg_error err;
    *type = EG_MEMORY_EPISODE;
    if (p->value[OPT_TYPE] && eg_memory_type_parse(p->value[OPT_TYPE], type, &err) != EG_OK)
        return usage_error(p->command, "--type: %s", err.message);
    return EXIT_OK;
}

/* Options that only change how the result is shown go under "cli" (see cli.h). */
static void set_cli_option(json_t *request, const char *name) {
    json_t *cli = json_object_get(request, "cli");
    if (!cli) json_object_set_new(request, "cli", cli = json_object());
    json_object_set_new(cli, name, json_true());
}

static bool cli_option(json_t *request, const char *name) {
    return json_is_true(json_object_get(json_object_get(request, "cli"), name));
}

/* ---- Printing ------------------------------------------------------------------------------------------------- */

static void print_json(json_t *value) {
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s\n", text ? text : "null");
    free(text);
}

/* An object's "text" when it is a string, else the whole object, compactly. */
static void print_text(json_t *object) {
    json_t *text = json_object_get(object, "text");
    if (json_is_string(text)) {
        fputs(json_string_value(text), stdout);
        return;
    }
    char *dump = json_dumps(object, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    fputs(dump ? dump : "?", stdout);
    free(dump);
}

static const char *string_of(json_t *object, const char *key) {
    const char *s = json_string_value(json_object_get(object, key));
    return s ? s : "";
}

/* How one recall hit's neighbours hang together, for printing them as a tree. Each neighbour is shown under a
 * parent — the hit at depth 1, at depth 2 the first depth-1 neighbour a relationship joins it to — with the
 * relationships between the two. jansson objects serve as the maps from id. */
typedef struct context_tree {
    json_t *depth;    /* id -> depth (the hit: 0) */
    json_t *parent;   /* id -> parent id */
    json_t *links;    /* id -> [relationship joining it to its parent] */
    json_t *children; /* parent id -> [depth-2 neighbour] */
} context_tree;

static void tree_build(context_tree *t, const char *hit, json_t *neighbors, json_t *rels) {
    t->depth = json_object();
    t->parent = json_object();
    t->links = json_object();
    t->children = json_object();
    json_object_set_new(t->depth, hit, json_integer(0));
    size_t i;
    json_t *n, *r;
    json_array_foreach(neighbors, i, n) {
        json_object_set(t->depth, string_of(n, "id"), json_object_get(n, "depth"));
        if (json_integer_value(json_object_get(n, "depth")) == 1)
            json_object_set_new(t->parent, string_of(n, "id"), json_string(hit));
    }
    json_array_foreach(rels, i, r) {
        const char *ends[2] = {string_of(r, "source_id"), string_of(r, "target_id")};
        for (int e = 0; e < 2; e++) {
            json_int_t d = json_integer_value(json_object_get(t->depth, ends[e]));
            json_int_t other = json_integer_value(json_object_get(t->depth, ends[1 - e]));
            if (d == 2 && other == 1 && !json_object_get(t->parent, ends[e]))
                json_object_set_new(t->parent, ends[e], json_string(ends[1 - e]));
        }
    }
    json_array_foreach(rels, i, r) {
        const char *ends[2] = {string_of(r, "source_id"), string_of(r, "target_id")};
        for (int e = 0; e < 2; e++) {
            const char *parent = json_string_value(json_object_get(t->parent, ends[e]));
            if (!parent || strcmp(parent, ends[1 - e]) != 0) continue;
            json_t *list = json_object_get(t->links, ends[e]);
            if (!list) json_object_set_new(t->links, ends[e], list = json_array());
            json_array_append(list, r);
        }
    }
    json_array_foreach(neighbors, i, n) {
        const char *parent = json_string_value(json_object_get(t->parent, string_of(n, "id")));
        if (!parent || json_integer_value(json_object_get(n, "depth")) != 2) continue;
        json_t *list = json_object_get(t->children, parent);
        if (!list) json_object_set_new(t->children, parent, list = json_array());
        json_array_append(list, n);
    }
}

static void tree_clear(context_tree *t) {
    json_decref(t->depth);
    json_decref(t->parent);
    json_decref(t->links);
    json_decref(t->children);
}

/* One neighbour: the relationships from its parent ("-[T]->" leaves the parent, "<-[T]-" enters it), its label,
 * id and text. */
static void print_neighbor(const context_tree *t, json_t *n, int indent) {
    const char *id = string_of(n, "id");
    const char *parent = json_string_value(json_object_get(t->parent, id));
    printf("%*s", indent, "");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(t->links, id), i, r) {
        bool out = parent && strcmp(string_of(r, "source_id"), parent) == 0;
        printf(out ? "%s-[%s]->" : "%s<-[%s]-", i ? ", " : "", string_of(r, "type"));
    }
    printf(" %s %s  ", string_of(n, "label"), id);
    print_text(json_object_get(n, "properties"));
    printf("\n");
}

static void print_hit(size_t rank, json_t *m) {
    const char *id = string_of(m, "id");
    printf("%2zu. %.3f  %s  ", rank, json_number_value(json_object_get(m, "score")), id);
    print_text(json_object_get(m, "payload"));
    printf("\n");
    json_t *neighbors = json_object_get(m, "neighbors");
    context_tree t;
    tree_build(&t, id, neighbors, json_object_get(m, "relationships"));
    size_t i, j;
    json_t *n, *child;
    json_array_foreach(neighbors, i, n) {
        json_int_t depth = json_integer_value(json_object_get(n, "depth"));
        if (depth == 2 && json_object_get(t.parent, string_of(n, "id"))) continue; /* shown under its parent */
        print_neighbor(&t, n, 2 + 4 * (int)depth);
        json_array_foreach(json_object_get(t.children, string_of(n, "id")), j, child) print_neighbor(&t, child, 10);
    }
    tree_clear(&t);
}

static size_t count_orphans_left(json_t *result) {
    size_t left = 0, i, j;
    json_t *o, *r;
    json_array_foreach(json_object_get(result, "orphans"), i, o) {
        bool repaired = false;
        json_array_foreach(json_object_get(result, "repaired"), j, r) {
            if (strcmp(string_of(r, "id"), string_of(o, "id")) == 0 &&
                strcmp(string_of(r, "type"), string_of(o, "type")) == 0)
                repaired = true;
        }
        left += !repaired;
    }
    return left;
}

/* A check result for people; returns EXIT_OK when consistent, else EXIT_FAILED. */
static int print_check(json_t *result) {
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(result, "orphans"), i, item) {
        bool in_vectors = strcmp(string_of(item, "in"), "vectors") == 0;
        printf("orphan       %s %s, only in the %s\n", string_of(item, "type"), string_of(item, "id"),
               in_vectors ? "vector store" : "graph");
    }
    json_array_foreach(json_object_get(result, "dead_letters"), i, item) {
        json_t *args = json_object_get(item, "args");
        printf("dead letter  saga %s: %s of %s %s failed at step %s: %s\n", string_of(item, "saga"),
               string_of(item, "type"), string_of(args, "type"), string_of(args, "id"),
               string_of(item, "failed_step"), string_of(json_object_get(item, "error"), "message"));
    }
    json_array_foreach(json_object_get(result, "repaired"), i, item)
        printf("repaired     %s %s: %s\n", string_of(item, "type"), string_of(item, "id"), string_of(item, "action"));
    json_array_foreach(json_object_get(result, "resolved"), i, item)
        printf("resolved     dead letter of saga %s\n", json_string_value(item));
    bool consistent = json_is_true(json_object_get(result, "consistent"));
    json_int_t memories = json_integer_value(json_object_get(result, "memories"));
    size_t orphans = count_orphans_left(result), letters = json_array_size(json_object_get(result, "dead_letters"));
    bool repaired =
        json_array_size(json_object_get(result, "repaired")) || json_array_size(json_object_get(result, "resolved"));
    printf("%s%s: %lld memor%s, ", consistent ? "consistent" : "NOT consistent", repaired ? " after repair" : "",
           (long long)memories, memories == 1 ? "y" : "ies");
    if (orphans)
        printf("%zu orphan%s, ", orphans, orphans == 1 ? "" : "s");
    else
        printf("no orphans, ");
    if (letters)
        printf("%zu dead letter%s\n", letters, letters == 1 ? "" : "s");
    else
        printf("no dead letters\n");
    return consistent ? EXIT_OK : EXIT_FAILED;
}

/* ---- The commands --------------------------------------------------------------------------------------------- */

static int remember_build(int argc, char **argv, json_t **request) {
    parsed p;
    eg_memory_type type;
    int rc;
    *request = json_object();
    unsigned allowed = OPT(OPT_TYPE) | OPT(OPT_ID) | OPT(OPT_SESSION) | OPT(OPT_RELATE) | OPT(OPT_DIM);
    if ((rc = parse("remember", argc, argv, allowed, 1, *request, &p)) || (rc = read_type(&p, &type)) ||
        (rc = number_into(&p, OPT_DIM, 1, EG_EMBED_DIM_MAX, *request, "dim")))
        return rc;
    eg_point_id id;
    eg_error err;
    if (p.value[OPT_ID]) {
        if (eg_point_id_parse(p.value[OPT_ID], &id, &err) != EG_OK)
            return usage_error(p.command, "--id: %s", err.message);
    } else if (eg_point_id_random(&id, &err) != EG_OK) {
        fprintf(stderr, "engram: %s (%s)\n", err.message, eg_status_name(err.code));
        return EXIT_FAILED;
    }
    char op[32];
    snprintf(op, sizeof op, "create_%s", eg_memory_type_name(type));
    json_object_set_new(*request, "op", json_string(op));
    /* exec takes a numeric id as a JSON integer (a decimal string only beyond 2^63-1), a UUID as a string */
    json_object_set_new(*request, "id", eg_point_id_to_json(&id));
    const char *session = p.value[OPT_SESSION];
    json_t *payload = json_object(), *properties = json_object();
    json_object_set_new(*request, "payload", payload);
    json_object_set_new(*request, "properties", properties);
    if ((rc = set_string(p.command, *request, "text", p.text, "TEXT")) ||
        (rc = set_string(p.command, payload, "text", p.text, "TEXT")) ||
        (rc = set_string(p.command, properties, "text", p.text, "TEXT")) ||
        (session && (rc = set_string(p.command, *request, "session_id", session, "--session"))))
        return rc;
    return EXIT_OK;
}

static int remember_print(eg_db *db, json_t *request, json_t *result) {
    (void)db, (void)request;
    printf("%s\n", string_of(result, "id"));
    return EXIT_OK;
}

static int recall_build(int argc, char **argv, json_t **request) {
    parsed p;
    eg_memory_type type;
    int rc;
    *request = json_object();
    unsigned allowed =
        OPT(OPT_TYPE) | OPT(OPT_LIMIT) | OPT(OPT_EXPAND) | OPT(OPT_SESSION) | OPT(OPT_DIM) | OPT(OPT_JSON);
    if ((rc = parse("recall", argc, argv, allowed, 1, *request, &p)) || (rc = read_type(&p, &type)) ||
        (rc = number_into(&p, OPT_DIM, 1, EG_EMBED_DIM_MAX, *request, "dim")) ||
        (rc = number_into(&p, OPT_LIMIT, 1, EG_SEARCH_LIMIT_MAX, *request, "limit")) ||
        (rc = number_into(&p, OPT_EXPAND, 0, EG_RECALL_EXPAND_MAX, *request, "expand")))
        return rc;
    json_object_set_new(*request, "op", json_string("recall"));
    json_object_set_new(*request, "type", json_string(eg_memory_type_name(type)));
    const char *session = p.value[OPT_SESSION];
    if ((rc = set_string(p.command, *request, "text", p.text, "TEXT")) ||
        (session && (rc = set_string(p.command, *request, "session_id", session, "--session"))))
        return rc;
    if (p.value[OPT_JSON]) set_cli_option(*request, "json");
    return EXIT_OK;
}

static int recall_print(eg_db *db, json_t *request, json_t *result) {
    (void)db;
    if (cli_option(request, "json")) {
        print_json(result);
        return EXIT_OK;
    }
    json_t *memories = json_object_get(result, "memories");
    if (json_array_size(memories) == 0) printf("no memories found\n");
    size_t i;
    json_t *m;
    json_array_foreach(memories, i, m) print_hit(i + 1, m);
    if (json_is_true(json_object_get(result, "truncated")))
        printf("(graph context cut off at %d neighbours in all)\n", EG_RECALL_NEIGHBORS_MAX);
    return EXIT_OK;
}

static int check_build(int argc, char **argv, json_t **request) {
    parsed p;
    int rc;
    *request = json_pack("{s:s}", "op", "check");
    if ((rc = parse("check", argc, argv, OPT(OPT_REPAIR) | OPT(OPT_JSON), 0, *request, &p))) return rc;
    if (p.value[OPT_REPAIR]) json_object_set_new(*request, "repair", json_true());
    if (p.value[OPT_JSON]) set_cli_option(*request, "json");
    return EXIT_OK;
}

static int check_print(eg_db *db, json_t *request, json_t *result) {
    (void)db;
    if (!cli_option(request, "json")) return print_check(result);
    print_json(result);
    return json_is_true(json_object_get(result, "consistent")) ? EXIT_OK : EXIT_FAILED;
}

static int recover_build(int argc, char **argv, json_t **request) {
    parsed p;
    int rc;
    *request = json_pack("{s:s}", "op", "check");
    if ((rc = parse("recover", argc, argv, OPT(OPT_JSON), 0, *request, &p))) return rc;
    if (p.value[OPT_JSON]) set_cli_option(*request, "json");
    return EXIT_OK;
}

/* The recovery eg_open did before the check ran, then the check. */
static int recover_print(eg_db *db, json_t *request, json_t *result) {
    eg_recovery_report r;
    eg_db_recovery(db, &r);
    if (cli_option(request, "json")) {
        json_t *out = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:O}", "recovery", "wal_records",
                                (json_int_t)r.wal_records, "wal_torn_bytes", (json_int_t)r.wal_torn_bytes,
                                "sagas_unfinished", (json_int_t)r.sagas_unfinished, "sagas_compensated",
                                (json_int_t)r.sagas_compensated, "sagas_rolled_forward",
                                (json_int_t)r.sagas_rolled_forward, "sagas_failed", (json_int_t)r.sagas_failed, "check",
                                result);
        print_json(out);
        json_decref(out);
        return json_is_true(json_object_get(result, "consistent")) ? EXIT_OK : EXIT_FAILED;
    }
    printf("recovery when the data folder was opened:\n");
    printf("  log records read          %llu\n", (unsigned long long)r.wal_records);
    printf("  torn log bytes cut        %llu\n", (unsigned long long)r.wal_torn_bytes);
    printf("  unfinished sagas found    %llu\n", (unsigned long long)r.sagas_unfinished);
    printf("    compensated             %llu\n", (unsigned long long)r.sagas_compensated);
    printf("    rolled forward          %llu\n", (unsigned long long)r.sagas_rolled_forward);
    printf("    failed (dead letters)   %llu\n", (unsigned long long)r.sagas_failed);
    return print_check(result);
}

const cli_command cli_memory_commands[] = {
    {"remember", remember_help, remember_build, remember_print},
    {"recall", recall_help, recall_build, recall_print},
    {"check", check_help, check_build, check_print},
    {"recover", recover_help, recover_build, recover_print},
    {NULL, NULL, NULL, NULL},
};
