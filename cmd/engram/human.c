/* human.c — the subcommands for people: `node show`, `node rels`, `path`, `stats`, and the lookup and running of
 * every human subcommand (the memory ones are in memory_cmds.c). Each builds the same JSON request `exec` would
 * take (so validation and results are identical) and prints the result as text. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cli_node_help[] =
    "usage: engram node show ID [--label LABEL]\n"
    "       engram node rels ID [--type TYPE] [--direction out|in|both]\n"
    "\n"
    "show   a node: its label and properties\n"
    "rels   its relationships with their properties (default direction: both)\n";

static const char cli_path_help[] =
    "usage: engram path SOURCE TARGET [--max-depth N] [--type TYPE]...\n"
    "\n"
    "Shows a shortest path between two nodes, ignoring direction, of at most N relationships\n"
    "(1..10, default 5), using only the given relationship types (default: all).\n";

static const char cli_stats_help[] =
    "usage: engram stats\n"
    "\n"
    "Counts nodes (per label) and relationships.\n";

/* Runs a request, in db or on remote; prints the error and returns NULL on failure. Takes the request's
 * reference. */
static json_t *run(eg_db *db, cli_remote *remote, json_t *request) {
    json_t *response = remote ? cli_remote_exec(remote, request) : eg_exec(db, request);
    json_decref(request);
    if (!response) {
        if (!remote) fprintf(stderr, "engram: out of memory\n"); /* the remote says why itself */
        return NULL;
    }
    if (json_is_true(json_object_get(response, "ok"))) {
        json_t *result = json_incref(json_object_get(response, "result"));
        json_decref(response);
        return result;
    }
    json_t *e = json_object_get(response, "error");
    fprintf(stderr, "engram: %s (%s)\n", json_string_value(json_object_get(e, "message")),
            json_string_value(json_object_get(e, "code")));
    json_decref(response);
    return NULL;
}

/* Parses "--name value" options into request fields; returns EXIT_OK or EXIT_USAGE. `multi` names the option
 * that may repeat (collected into an array field). */
static int options_into(json_t *request, int argc, char **argv, const char *const *names, const char *const *fields,
                        const char *multi) {
    for (int i = 0; i < argc; i++) {
        size_t k = 0;
        while (names[k] && strcmp(names[k], argv[i]) != 0) k++;
        if (!names[k] || i + 1 == argc) {
            fprintf(stderr, "engram: %s '%s'\nTry --help.\n", names[k] ? "missing value for" : "unexpected argument",
                    argv[i]);
            return EXIT_USAGE;
        }
        const char *value = argv[++i];
        if (strcmp(names[k], "--max-depth") == 0) {
            char *end;
            long n = strtol(value, &end, 10);
            if (*end || end == value) {
                fprintf(stderr, "engram: --max-depth takes a whole number, got '%s'\n", value);
                return EXIT_USAGE;
            }
            json_object_set_new(request, fields[k], json_integer(n));
        } else if (multi && strcmp(names[k], multi) == 0) {
            json_t *list = json_object_get(request, fields[k]);
            if (!list) json_object_set_new(request, fields[k], list = json_array());
            json_array_append_new(list, json_string(value));
        } else {
            json_object_set_new(request, fields[k], json_string(value));
        }
    }
    return EXIT_OK;
}

static void print_properties(json_t *props, const char *indent) {
    const char *key;
    json_t *value;
    json_object_foreach(props, key, value) {
        char *text = eg_json_text(value, JSON_COMPACT);
        printf("%s%s: %s\n", indent, key, text ? text : "?");
        free(text);
    }
}

static void print_relationship(json_t *r, const char *from_id) {
    const char *src = json_string_value(json_object_get(r, "source_id"));
    const char *tgt = json_string_value(json_object_get(r, "target_id"));
    const char *type = json_string_value(json_object_get(r, "type"));
    if (from_id && strcmp(from_id, tgt) == 0 && strcmp(src, tgt) != 0)
        printf("%s <-[%s]- %s", tgt, type, src);
    else
        printf("%s -[%s]-> %s", src, type, tgt);
    json_t *props = json_object_get(r, "properties");
    const char *key;
    json_t *value;
    json_object_foreach(props, key, value) {
        char *text = eg_json_text(value, JSON_COMPACT);
        printf("  %s=%s", key, text ? text : "?");
        free(text);
    }
    printf("\n");
}

/* A human command in two steps, so that usage errors are found before the data folder is touched:
 * `build` turns argv into the exec request (or returns EXIT_USAGE), `print` shows the result. */

static int node_build(int argc, char **argv, json_t **request) {
    if (argc < 2 || (strcmp(argv[0], "show") != 0 && strcmp(argv[0], "rels") != 0)) {
        fputs(cli_node_help, stderr);
        return EXIT_USAGE;
    }
    bool show = strcmp(argv[0], "show") == 0;
    *request = json_pack("{s:s, s:s}", "op", show ? "get_node" : "get_relationships", "id", argv[1]);
    return show ? options_into(*request, argc - 2, argv + 2, (const char *const[]){"--label", NULL},
                               (const char *const[]){"label"}, NULL)
                : options_into(*request, argc - 2, argv + 2, (const char *const[]){"--type", "--direction", NULL},
                               (const char *const[]){"type", "direction"}, NULL);
}

static int node_print(eg_db *db, json_t *request, json_t *result) {
    (void)db;
    const char *id = json_string_value(json_object_get(request, "id"));
    if (strcmp(json_string_value(json_object_get(request, "op")), "get_node") == 0) {
        printf("%s %s\n", json_string_value(json_object_get(result, "label")),
               json_string_value(json_object_get(result, "id")));
        print_properties(json_object_get(result, "properties"), "  ");
        return EXIT_OK;
    }
    size_t i;
    json_t *r;
    json_array_foreach(result, i, r) print_relationship(r, id);
    printf("(%zu relationship%s)\n", json_array_size(result), json_array_size(result) == 1 ? "" : "s");
    return EXIT_OK;
}

static int path_build(int argc, char **argv, json_t **request) {
    if (argc < 2) {
        fputs(cli_path_help, stderr);
        return EXIT_USAGE;
    }
    *request = json_pack("{s:s, s:s, s:s}", "op", "find_path", "source_id", argv[0], "target_id", argv[1]);
    return options_into(*request, argc - 2, argv + 2, (const char *const[]){"--max-depth", "--type", NULL},
                        (const char *const[]){"max_depth", "types"}, "--type");
}

static int path_print(eg_db *db, json_t *request, json_t *result) {
    (void)db;
    if (json_is_null(result)) {
        printf("no path between %s and %s\n", json_string_value(json_object_get(request, "source_id")),
               json_string_value(json_object_get(request, "target_id")));
        return EXIT_OK;
    }
    json_t *nodes = json_object_get(result, "nodes"), *rels = json_object_get(result, "relationships");
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        json_t *n = json_array_get(nodes, i);
        const char *id = json_string_value(json_object_get(n, "id"));
        printf("(%s %s)", json_string_value(json_object_get(n, "label")), id);
        if (i < json_array_size(rels)) {
            json_t *r = json_array_get(rels, i);
            const char *type = json_string_value(json_object_get(r, "type"));
            bool forward = strcmp(json_string_value(json_object_get(r, "source_id")), id) == 0;
            printf(forward ? " -[%s]-> " : " <-[%s]- ", type);
        }
    }
    printf("\nlength %lld\n", (long long)json_integer_value(json_object_get(result, "length")));
    return EXIT_OK;
}

static int stats_build(int argc, char **argv, json_t **request) {
    if (argc > 0) {
        fprintf(stderr, "engram: stats takes no argument: '%s'\n", argv[0]);
        return EXIT_USAGE;
    }
    *request = json_pack("{s:s}", "op", "stats");
    return EXIT_OK;
}

static int stats_print(eg_db *db, json_t *request, json_t *result) {
    (void)db, (void)request;
    printf("nodes          %lld\n", (long long)json_integer_value(json_object_get(result, "nodes")));
    const char *label;
    json_t *n;
    json_object_foreach(json_object_get(result, "nodes_by_label"), label, n)
        printf("  %-12s %lld\n", label, (long long)json_integer_value(n));
    printf("relationships  %lld\n", (long long)json_integer_value(json_object_get(result, "relationships")));
    return EXIT_OK;
}

const cli_command cli_commands[] = {
    {"node", cli_node_help, node_build, node_print},
    {"path", cli_path_help, path_build, path_print},
    {"stats", cli_stats_help, stats_build, stats_print},
    {NULL, NULL, NULL, NULL},
};

const cli_command *cli_find(const char *name) {
    static const cli_command *const tables[] = {cli_commands, cli_memory_commands, cli_admin_commands,
                                                cli_archive_commands};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const cli_command *c = tables[t]; c->name; c++)
            if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

int cli_run(eg_db *db, cli_remote *remote, const cli_command *command, json_t *request) {
    json_t *op = json_copy(request); /* shallow: the request print sees keeps its "cli" */
    if (!op) {
        fprintf(stderr, "engram: out of memory\n");
        return EXIT_FAILED;
    }
    json_object_del(op, "cli");
    json_t *result = run(db, remote, op);
    if (!result) return EXIT_FAILED;
    int rc = command->print(db, request, result);
    json_decref(result);
    return rc;
}
