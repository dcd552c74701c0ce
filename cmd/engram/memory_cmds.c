/* memory_cmds.c — the memory subcommands for people: `remember`, `recall`, `check`, `recover`. Like the graph
 * subcommands (human.c), each builds the request `exec` would take (create_<type>, recall, check), so validation
 * and results are the same, and prints the result as text, or with --json as exec's result. Text is embedded by
 * the built-in lexical embedder (engram/embed.h), so that these commands work without a model. */
#include "cli_args.h"

#include <engram/embed.h>

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

/* --relate TYPE:TARGET_ID, appended to the request's "relationships" as exec takes them. The type's spelling is
 * checked here, so that a malformed one is a usage error; whether the graph's schema (graph.schema) allows it, and
 * whether the target exists, are for the operation to check. */
static int add_relationship(const char *command, const char *spec, json_t *request) {
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return cli_usage_error(command, "--relate takes TYPE:TARGET_ID (e.g. USES:42), got '%s'", spec);
    json_t *type = json_stringn(spec, (size_t)(colon - spec));
    eg_rel_type parsed_type;
    eg_error err;
    if (!type || eg_rel_type_parse(json_string_value(type), &parsed_type, &err) != EG_OK) {
        json_decref(type);
        return cli_usage_error(command, "--relate '%s': %s", spec, type ? err.message : "out of memory");
    }
    json_t *rel = json_pack("{s:o}", "type", type);
    int rc = cli_set_string(command, rel, "target_id", colon + 1, "the --relate target");
    json_t *list = json_object_get(request, "relationships");
    if (!list) json_object_set_new(request, "relationships", list = json_array());
    json_array_append_new(list, rel);
    return rc;
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
    char *text = eg_json_text(value, JSON_COMPACT);
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
    char *dump = eg_json_text(object, JSON_COMPACT | JSON_SORT_KEYS);
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
    static const cli_syntax syntax = {
        .command = "remember",
        .options = CLI_OPT(CLI_TYPE) | CLI_OPT(CLI_ID) | CLI_OPT(CLI_SESSION) | CLI_OPT(CLI_RELATE) | CLI_OPT(CLI_DIM),
        .positional = "TEXT",
        .required = true,
        .repeated = add_relationship,
    };
    cli_args p;
    eg_memory_type type;
    int rc;
    *request = json_object();
    if ((rc = cli_parse(&syntax, argc, argv, *request, &p)) || (rc = cli_read_type(&p, &type)) ||
        (rc = cli_set_number(&p, CLI_DIM, 1, EG_EMBED_DIM_MAX, *request, "dim")))
        return rc;
    eg_point_id id;
    eg_error err;
    if (p.value[CLI_ID]) {
        if (eg_point_id_parse(p.value[CLI_ID], &id, &err) != EG_OK)
            return cli_usage_error(p.command, "--id: %s", err.message);
    } else if (eg_point_id_random(&id, &err) != EG_OK) {
        fprintf(stderr, "engram: %s (%s)\n", err.message, eg_status_name(err.code));
        return EXIT_FAILED;
    }
    char op[32];
    snprintf(op, sizeof op, "create_%s", eg_memory_type_name(type));
    json_object_set_new(*request, "op", json_string(op));
    /* exec takes a numeric id as a JSON integer (a decimal string only beyond 2^63-1), a UUID as a string */
    json_object_set_new(*request, "id", eg_point_id_to_json(&id));
    json_t *payload = json_object(), *properties = json_object();
    json_object_set_new(*request, "payload", payload);
    json_object_set_new(*request, "properties", properties);
    if ((rc = cli_set_string(p.command, *request, "text", p.positional, "TEXT")) ||
        (rc = cli_set_string(p.command, payload, "text", p.positional, "TEXT")) ||
        (rc = cli_set_string(p.command, properties, "text", p.positional, "TEXT")))
        return rc;
    return cli_set_string(p.command, *request, "session_id", p.value[CLI_SESSION], "--session");
}

static int remember_print(eg_db *db, json_t *request, json_t *result) {
    (void)db, (void)request;
    printf("%s\n", string_of(result, "id"));
    return EXIT_OK;
}

static int recall_build(int argc, char **argv, json_t **request) {
    static const cli_syntax syntax = {
        .command = "recall",
        .options = CLI_OPT(CLI_TYPE) | CLI_OPT(CLI_LIMIT) | CLI_OPT(CLI_EXPAND) | CLI_OPT(CLI_SESSION) |
                   CLI_OPT(CLI_DIM) | CLI_OPT(CLI_JSON),
        .positional = "TEXT",
        .required = true,
    };
    cli_args p;
    eg_memory_type type;
    int rc;
    *request = json_object();
    if ((rc = cli_parse(&syntax, argc, argv, *request, &p)) || (rc = cli_read_type(&p, &type)) ||
        (rc = cli_set_number(&p, CLI_DIM, 1, EG_EMBED_DIM_MAX, *request, "dim")) ||
        (rc = cli_set_number(&p, CLI_LIMIT, 1, EG_SEARCH_LIMIT_MAX, *request, "limit")) ||
        (rc = cli_set_number(&p, CLI_EXPAND, 0, EG_RECALL_EXPAND_MAX, *request, "expand")))
        return rc;
    json_object_set_new(*request, "op", json_string("recall"));
    json_object_set_new(*request, "type", json_string(eg_memory_type_name(type)));
    if ((rc = cli_set_string(p.command, *request, "text", p.positional, "TEXT")) ||
        (rc = cli_set_string(p.command, *request, "session_id", p.value[CLI_SESSION], "--session")))
        return rc;
    if (p.value[CLI_JSON]) set_cli_option(*request, "json");
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
    static const cli_syntax syntax = {.command = "check", .options = CLI_OPT(CLI_REPAIR) | CLI_OPT(CLI_JSON)};
    cli_args p;
    int rc;
    *request = json_pack("{s:s}", "op", "check");
    if ((rc = cli_parse(&syntax, argc, argv, *request, &p))) return rc;
    if (p.value[CLI_REPAIR]) json_object_set_new(*request, "repair", json_true());
    if (p.value[CLI_JSON]) set_cli_option(*request, "json");
    return EXIT_OK;
}

static int check_print(eg_db *db, json_t *request, json_t *result) {
    (void)db;
    if (!cli_option(request, "json")) return print_check(result);
    print_json(result);
    return json_is_true(json_object_get(result, "consistent")) ? EXIT_OK : EXIT_FAILED;
}

static int recover_build(int argc, char **argv, json_t **request) {
    static const cli_syntax syntax = {.command = "recover", .options = CLI_OPT(CLI_JSON)};
    cli_args p;
    int rc;
    *request = json_pack("{s:s}", "op", "check");
    if ((rc = cli_parse(&syntax, argc, argv, *request, &p))) return rc;
    if (p.value[CLI_JSON]) set_cli_option(*request, "json");
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
