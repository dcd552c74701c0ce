/* import_cmd.c — `engram import-mcp-memory FILE.jsonl`: moves the memory file of the reference MCP memory server
 * (@modelcontextprotocol/server-memory: one JSON object a line, {"type":"entity","name","entityType",
 * "observations"} or {"type":"relation","from","to","relationType"}) into the data folder, through the same tools
 * `engram mcp` serves (src/mcp), so that an imported graph is exactly what those tools would have built.
 *
 * Idempotent: an entity already there gets only the observations it lacks, a relation already there is skipped,
 * so a second import changes nothing (and says so). A bad line is reported as "line N: ..." on stderr and skipped;
 * the rest is imported. Exit status 0 when every line was good, 1 when some were not (or the store failed), 2 on
 * a usage error. */
#include "cli.h"
#include "progress.h"

#include "mcp/mcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cli_import_help[] =
    "usage: engram [--data DIR] import-mcp-memory FILE.jsonl [--data DIR]\n"
    "\n"
    "Imports the memory file of the reference MCP memory server (@modelcontextprotocol/server-memory, its\n"
    "MEMORY_FILE_PATH): entities become Entity nodes and relations relationships, as engram mcp's\n"
    "create_entities and create_relations store them (docs/mcp.md). Importing again changes nothing: an\n"
    "entity already there gets only the observations it lacks, a relation already there is skipped.\n"
    "Progress on stderr when it is a terminal. A bad line is reported as 'line N: ...' and skipped.\n"
    "Exit status 0 when every line was imported, 1 when some were bad or the store failed, 2 usage error.\n";

typedef struct counts {
    size_t entities, observations, relations, unchanged, bad;
} counts;

/* Runs a tool; false (the reason on stderr as "line N: ...") when it failed or memory ran out. */
static bool call(const eg_mcp_backend *backend, const char *tool, json_t *arguments, size_t line,
                 eg_mcp_tool_result *out) {
    bool ok = arguments && eg_mcp_tool_named(tool)->call(backend, arguments, out);
    json_decref(arguments);
    if (!ok) {
        fprintf(stderr, "line %zu: out of memory\n", line);
        return false;
    }
    if (out->is_error) {
        fprintf(stderr, "line %zu: %s\n", line, out->text);
        eg_mcp_tool_result_free(out);
        return false;
    }
    return true;
}

static const char *field_problem(json_t *item, const char *const *fields) {
    static char message[96];
    for (size_t i = 0; fields[i]; i++) {
        json_t *v = json_object_get(item, fields[i]);
        bool list = strcmp(fields[i], "observations") == 0;
        bool good = list ? json_is_array(v) : json_is_string(v);
        size_t j;
        json_t *o;
        if (list && good) json_array_foreach(v, j, o) good = good && json_is_string(o);
        if (!good) {
            snprintf(message, sizeof message, "\"%s\" must be %s", fields[i],
                     list ? "an array of strings" : "a string");
            return message;
        }
    }
    return NULL;
}

/* One line of the file: true when it was good (imported, or already there). */
static bool import_line(const eg_mcp_backend *backend, const char *text, size_t line, counts *c) {
    static const char *const entity_fields[] = {"name", "entityType", "observations", NULL};
    static const char *const relation_fields[] = {"from", "to", "relationType", NULL};
    json_error_t jerr;
    json_t *item = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!item) {
        fprintf(stderr, "line %zu: not JSON: %s\n", line, jerr.text);
        return false;
    }
    const char *type = json_string_value(json_object_get(item, "type"));
    bool entity = type && strcmp(type, "entity") == 0, relation = type && strcmp(type, "relation") == 0;
    const char *problem = !json_is_object(item)      ? "not a JSON object"
                          : !entity && !relation      ? "\"type\" must be \"entity\" or \"relation\""
                                                      : field_problem(item, entity ? entity_fields : relation_fields);
    if (problem) {
        fprintf(stderr, "line %zu: %s\n", line, problem);
        json_decref(item);
        return false;
    }
    eg_mcp_tool_result out;
    bool ok;
    if (relation) {
        ok = call(backend, "create_relations",
                  json_pack("{s:[{s:O, s:O, s:O}]}", "relations", "from", json_object_get(item, "from"), "to",
                            json_object_get(item, "to"), "relationType", json_object_get(item, "relationType")),
                  line, &out);
        if (ok) {
            size_t n = json_array_size(json_object_get(out.structured, "relations"));
            c->relations += n;
            c->unchanged += !n;
            eg_mcp_tool_result_free(&out);
        }
    } else {
        json_t *name = json_object_get(item, "name"), *observations = json_object_get(item, "observations");
        ok = call(backend, "create_entities",
                  json_pack("{s:[{s:O, s:O, s:O}]}", "entities", "name", name, "entityType",
                            json_object_get(item, "entityType"), "observations", observations),
                  line, &out);
        size_t created = ok ? json_array_size(json_object_get(out.structured, "entities")) : 0;
        if (ok) eg_mcp_tool_result_free(&out);
        if (ok && created) c->entities++;
        /* An entity already there: the observations it lacks (a file may hold a name twice; a second import
         * finds them all). */
        if (ok && !created) {
            ok = call(backend, "add_observations",
                      json_pack("{s:[{s:O, s:O}]}", "observations", "entityName", name, "contents", observations),
                      line, &out);
            if (ok) {
                json_t *result = json_array_get(json_object_get(out.structured, "results"), 0);
                size_t n = json_array_size(json_object_get(result, "addedObservations"));
                c->observations += n;
                c->unchanged += !n;
                eg_mcp_tool_result_free(&out);
            }
        }
    }
    json_decref(item);
    return ok;
}

int cli_import_mcp_memory(int argc, char **argv, const char *data, const eg_options *options) {
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0) {
            if (++i == argc || !*argv[i]) {
                fprintf(stderr, "engram: --data needs a folder\nTry 'engram import-mcp-memory --help'.\n");
                return EXIT_USAGE;
            }
            data = argv[i];
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            fprintf(stderr,
                    "engram: import-mcp-memory: unexpected argument '%s'\nTry 'engram import-mcp-memory --help'.\n",
                    argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!file) {
        fprintf(stderr, "engram: import-mcp-memory needs a FILE.jsonl\nTry 'engram import-mcp-memory --help'.\n");
        return EXIT_USAGE;
    }
    FILE *in = fopen(file, "r");
    if (!in) {
        fprintf(stderr, "engram: cannot read %s: %s\n", file, strerror(errno));
        return EXIT_FAILED;
    }
    /* The lines are counted first, for the bar's total. */
    size_t total = 0, cap = 0;
    char *text = NULL;
    ssize_t len;
    while ((len = getline(&text, &cap, in)) >= 0) total++;
    rewind(in);
    eg_db *db;
    eg_error err;
    if (eg_open(data, options, &db, &err) != EG_OK) {
        fprintf(stderr, "engram: cannot open the data folder: %s (%s)\n", err.message, eg_status_name(err.code));
        free(text);
        fclose(in);
        return EXIT_FAILED;
    }
    eg_mcp_backend backend = eg_mcp_local_backend(db);
    counts c = {0};
    size_t line = 0;
    /* Only on a terminal: a log gets the summary alone. */
    cli_progress shown = cli_progress_start("importing", " lines", false);
    while ((len = getline(&text, &cap, in)) >= 0) {
        line++;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = '\0';
        /* The reference skips blank lines (only white space) when it loads the file. */
        if (strspn(text, " \t\v\f") == (size_t)len) continue;
        if (!import_line(&backend, text, line, &c)) c.bad++;
        cli_progress_show(&shown, line, total);
    }
    cli_progress_show(&shown, total, total);
    cli_progress_end(&shown);
    bool read_failed = ferror(in);
    free(text);
    fclose(in);
    eg_close(db);
    if (read_failed) {
        fprintf(stderr, "engram: reading %s failed\n", file);
        return EXIT_FAILED;
    }
    if (c.entities + c.observations + c.relations == 0 && c.bad == 0)
        printf("nothing to import: everything in %s is already in the data folder\n", file);
    else
        printf("imported %zu entities, %zu observations into existing entities, %zu relations; %zu lines already "
               "there, %zu bad lines\n",
               c.entities, c.observations, c.relations, c.unchanged, c.bad);
    return c.bad ? EXIT_FAILED : EXIT_OK;
}
