/* archive_cmds.c — `engram archive`: the cold archive for people. `run` moves aged memories out of the hot
 * stores with a progress display, `list`, `get`, `restore`, `purge` and `verify` wrap the archive operations of
 * exec (list_archived, retrieve_archived, restore_archived, delete_archived, cleanup_archive, verify_archive) and
 * print their results as text, or with --json as exec's result. One cli_command, "archive", whose build reads the
 * subcommand and records it under the request's "cli" member for print. */
#include "cli_args.h"
#include "progress.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char archive_help[] =
    "usage: engram archive run --older-than AGE [--type T] [--limit N] [--session S] [--field F] [--json]\n"
    "       engram archive list [--type T] [--limit N] [--cursor C] [--json]\n"
    "       engram archive get ID [--json]\n"
    "       engram archive restore ID\n"
    "       engram archive purge ID\n"
    "       engram archive purge [--older-than AGE]\n"
    "       engram archive verify [--json]\n"
    "\n"
    "The cold archive holds memories moved out of both hot stores into compressed files (in DATA/archive, or\n"
    "where the setting archive.path says). recall does not find an archived memory until it is restored.\n"
    "\n"
    "  run      archive the memories of one type older than AGE, oldest first, each moved on its own; shows\n"
    "           progress on stderr (a bar on a terminal, else a line per 10% or per 1000 memories), then how\n"
    "           many were archived and how many failed (a memory that fails stays in the hot stores)\n"
    "  list     the archived memories, oldest archived first: when, type, id, size on disk, compression; then\n"
    "           the cursor of the next page, if there is one\n"
    "  get      one archived memory: its metadata, then its record (vector, payload, node, relationships)\n"
    "  restore  bring an archived memory back into both hot stores, with its relationships whose other end\n"
    "           still exists, and remove it from the archive\n"
    "  purge    delete one archived memory for good (ID), or every one archived more than AGE ago (without\n"
    "           --older-than: more than the setting archive.retention_days ago)\n"
    "  verify   read every entry back and check it against its checksum; list the corrupt entries, the\n"
    "           unverifiable ones (written by the original system, which kept no checksum: not a failure)\n"
    "           and the stray files\n"
    "\n"
    "  --older-than AGE  30d, 12h, 90m, 45s, or a number of days; purge counts whole days, at least 1 (an\n"
    "                    AGE between two whole days is rounded up: purge never removes more than asked)\n"
    "  --type T          episode, entity or procedure (run: default episode; list: default every type)\n"
    "  --limit N         run: at most N memories, the oldest, 1..100000000 (default: all);\n"
    "                    list: a page of at most N entries, 1..10000 (default 100)\n"
    "  --session S       run: only the memories of session S\n"
    "  --field F         run: the payload field, in epoch milliseconds, that dates a memory (default created_at)\n"
    "  --cursor C        list: the page after the one that printed this cursor\n"
    "  --json            print the result of the exec operation as JSON\n"
    "\n"
    "Put -- before an ID that starts with '-'.\n"
    "Exit status: 0 ok; 1 the operation failed, run failed to archive a memory, or verify found a corrupt entry\n"
    "or a stray file; 2 usage error.\n";

/* The largest AGE: the archive's own bound on older_than_days. */
#define AGE_MAX_DAYS 36500000ULL
/* cleanup_archive's bound on retention_days. */
#define RETENTION_MAX_DAYS 36500ULL
#define RUN_LIMIT_MAX 100000000L
#define LIST_LIMIT_MAX 10000L

/* ---- build ---------------------------------------------------------------------------------------------------- */

/* AGE ("30d", "12h", "90m", "45s", or a plain number of days) in seconds. Signs, fractions and other units are
 * refused rather than guessed at, since AGE decides what leaves the hot stores. */
static int read_age(const char *command, const char *text, uint64_t *seconds) {
    static const struct {
        char unit;
        uint64_t seconds;
    } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    if (text[0] < '0' || text[0] > '9')
        return cli_usage_error(command, "--older-than takes an AGE such as 30d, 12h, 90m or 45s, got '%s'", text);
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    uint64_t unit = 0;
    if (!*end) unit = 86400;
    for (size_t u = 0; !unit && u < sizeof units / sizeof units[0]; u++)
        if (end[0] == units[u].unit && !end[1]) unit = units[u].seconds;
    if (!unit)
        return cli_usage_error(command, "--older-than takes an AGE such as 30d, 12h, 90m or 45s, got '%s'", text);
    if (errno || n > AGE_MAX_DAYS * 86400 / unit)
        return cli_usage_error(command, "--older-than %s is more than %llu days", text, AGE_MAX_DAYS);
    *seconds = n * unit;
    return EXIT_OK;
}

/* The ID of get, restore and purge, for messages. */
#define ARCHIVED_ID "the ID of an archived memory"

/* `archive run` is the one subcommand that does not run its exec operation: archive_older_than reports only
 * the final counts, and a run over many memories must show its progress as it goes, which takes the C API's
 * progress callback (eg_archive_older_than). So build only checks the arguments and keeps them under "cli",
 * and print does the work on the open data folder. cli_run still sends the request through exec; its op is
 * therefore `config`, a read that touches no store and cannot fail on an open folder. */
static int build_run(json_t *cli, int argc, char **argv, json_t **request) {
    static const cli_syntax syntax = {
        .command = "archive run",
        .options = CLI_OPT(CLI_OLDER_THAN) | CLI_OPT(CLI_TYPE) | CLI_OPT(CLI_LIMIT) | CLI_OPT(CLI_SESSION) |
                   CLI_OPT(CLI_FIELD) | CLI_OPT(CLI_JSON),
    };
    cli_args line;
    uint64_t seconds;
    eg_memory_type type;
    int rc;
    if ((rc = cli_parse(&syntax, argc, argv, *request, &line))) return rc;
    if (!line.value[CLI_OLDER_THAN])
        return cli_usage_error(line.command, "--older-than AGE is required (e.g. --older-than 30d)");
    if (line.value[CLI_FIELD] && !line.value[CLI_FIELD][0]) return cli_usage_error(line.command, "--field is empty");
    if ((rc = read_age(line.command, line.value[CLI_OLDER_THAN], &seconds)) || (rc = cli_read_type(&line, &type)) ||
        (rc = cli_set_number(&line, CLI_LIMIT, 1, RUN_LIMIT_MAX, cli, "limit")) ||
        (rc = cli_set_string(line.command, cli, "session_id", line.value[CLI_SESSION], "--session")) ||
        (rc = cli_set_string(line.command, cli, "field", line.value[CLI_FIELD], "--field")))
        return rc;
    json_object_set_new(cli, "type", json_string(eg_memory_type_name(type)));
    json_object_set_new(cli, "days", json_real((double)seconds / 86400.0));
    json_object_set_new(cli, "older_than", json_string(line.value[CLI_OLDER_THAN]));
    if (line.value[CLI_JSON]) json_object_set_new(cli, "json", json_true());
    json_object_set_new(*request, "op", json_string("config"));
    return EXIT_OK;
}

static int build_list(json_t *cli, int argc, char **argv, json_t **request) {
    static const cli_syntax syntax = {
        .command = "archive list",
        .options = CLI_OPT(CLI_TYPE) | CLI_OPT(CLI_LIMIT) | CLI_OPT(CLI_CURSOR) | CLI_OPT(CLI_JSON),
    };
    cli_args line;
    eg_memory_type type;
    int rc;
    if ((rc = cli_parse(&syntax, argc, argv, *request, &line)) || (rc = cli_read_type(&line, &type)) ||
        (rc = cli_set_number(&line, CLI_LIMIT, 1, LIST_LIMIT_MAX, *request, "limit")) ||
        (rc = cli_set_string(line.command, *request, "cursor", line.value[CLI_CURSOR], "--cursor")))
        return rc;
    /* without --type, every type */
    if (line.value[CLI_TYPE]) json_object_set_new(*request, "type", json_string(eg_memory_type_name(type)));
    if (line.value[CLI_JSON]) json_object_set_new(cli, "json", json_true());
    json_object_set_new(*request, "op", json_string("list_archived"));
    return EXIT_OK;
}

/* get and restore: the operation on one archived memory. */
static int build_one(const cli_syntax *syntax, const char *op, json_t *cli, int argc, char **argv,
                     json_t **request) {
    cli_args line;
    int rc;
    if ((rc = cli_parse(syntax, argc, argv, *request, &line)) ||
        (rc = cli_set_string(line.command, *request, "id", line.positional, "ID")))
        return rc;
    if (line.value[CLI_JSON]) json_object_set_new(cli, "json", json_true());
    json_object_set_new(*request, "op", json_string(op));
    return EXIT_OK;
}

static int build_purge(json_t *cli, int argc, char **argv, json_t **request) {
    (void)cli; /* purge has no presentation option */
    static const cli_syntax syntax = {
        .command = "archive purge", .options = CLI_OPT(CLI_OLDER_THAN), .positional = ARCHIVED_ID};
    cli_args line;
    uint64_t seconds;
    int rc;
    if ((rc = cli_parse(&syntax, argc, argv, *request, &line))) return rc;
    const char *age = line.value[CLI_OLDER_THAN];
    if (line.positional && age) return cli_usage_error(line.command, "give either an ID or --older-than AGE, not both");
    if (line.positional) {
        json_object_set_new(*request, "op", json_string("delete_archived"));
        return cli_set_string(line.command, *request, "id", line.positional, "ID");
    }
    json_object_set_new(*request, "op", json_string("cleanup_archive"));
    if (!age) return EXIT_OK; /* cleanup_archive then applies archive.retention_days */
    if ((rc = read_age(line.command, age, &seconds))) return rc;
    uint64_t days = (seconds + 86399) / 86400; /* rounded up: an entry is never removed younger than asked */
    if (seconds < 86400 || days > RETENTION_MAX_DAYS)
        return cli_usage_error(line.command, "--older-than must be from 1 to %llu days, got '%s'", RETENTION_MAX_DAYS,
                               age);
    json_object_set_new(*request, "retention_days", json_integer((json_int_t)days));
    return EXIT_OK;
}

static int build_verify(json_t *cli, int argc, char **argv, json_t **request) {
    static const cli_syntax syntax = {.command = "archive verify", .options = CLI_OPT(CLI_JSON)};
    cli_args line;
    int rc = cli_parse(&syntax, argc, argv, *request, &line);
    if (rc) return rc;
    if (line.value[CLI_JSON]) json_object_set_new(cli, "json", json_true());
    json_object_set_new(*request, "op", json_string("verify_archive"));
    return EXIT_OK;
}

static int build_get(json_t *cli, int argc, char **argv, json_t **request) {
    static const cli_syntax syntax = {
        .command = "archive get", .options = CLI_OPT(CLI_JSON), .positional = ARCHIVED_ID, .required = true};
    return build_one(&syntax, "retrieve_archived", cli, argc, argv, request);
}

static int build_restore(json_t *cli, int argc, char **argv, json_t **request) {
    static const cli_syntax syntax = {.command = "archive restore", .positional = ARCHIVED_ID, .required = true};
    return build_one(&syntax, "restore_archived", cli, argc, argv, request);
}

static const struct {
    const char *name;
    int (*build)(json_t *cli, int argc, char **argv, json_t **request);
} subcommands[] = {
    {"run", build_run},         {"list", build_list},   {"get", build_get},
    {"restore", build_restore}, {"purge", build_purge}, {"verify", build_verify},
};

static int archive_build(int argc, char **argv, json_t **request) {
    if (argc == 0) {
        fputs(archive_help, stderr);
        return EXIT_USAGE;
    }
    size_t k = 0, count = sizeof subcommands / sizeof subcommands[0];
    while (k < count && strcmp(subcommands[k].name, argv[0]) != 0) k++;
    if (k == count)
        return cli_usage_error("archive", "unknown subcommand '%s' (run, list, get, restore, purge or verify)",
                               argv[0]);
    json_t *cli = json_pack("{s:s}", "command", subcommands[k].name);
    *request = json_pack("{s:o}", "cli", cli);
    if (!*request) {
        fprintf(stderr, "engram: out of memory\n");
        return EXIT_FAILED;
    }
    return subcommands[k].build(cli, argc - 1, argv + 1, request);
}

/* ---- Printing ------------------------------------------------------------------------------------------------- */

static const char *text_of(json_t *object, const char *key) {
    const char *s = json_string_value(json_object_get(object, key));
    return s ? s : "";
}

static void print_json(json_t *value) {
    char *text = eg_json_text(value, JSON_INDENT(2));
    puts(text ? text : "null");
    free(text);
}

static void on_progress(void *ctx, uint64_t done, uint64_t total) { cli_progress_show(ctx, done, total); }

static int print_run(eg_db *db, json_t *cli) {
    eg_memory_type type = EG_MEMORY_EPISODE;
    eg_error err;
    if (eg_memory_type_parse(text_of(cli, "type"), &type, &err) != EG_OK) { /* build wrote a valid one */
        fprintf(stderr, "engram: %s (%s)\n", err.message, eg_status_name(err.code));
        return EXIT_FAILED;
    }
    cli_progress shown = cli_progress_start("archiving", "", true);
    eg_archive_request request = {
        .type = type,
        .older_than_days = json_real_value(json_object_get(cli, "days")),
        .limit = (size_t)json_integer_value(json_object_get(cli, "limit")),
        .session_id = json_string_value(json_object_get(cli, "session_id")),
        .field = json_string_value(json_object_get(cli, "field")),
        .progress = on_progress,
        .progress_ctx = &shown,
    };
    eg_archive_result done = {0};
    eg_status st = eg_archive_older_than(db, &request, &done, &err);
    cli_progress_end(&shown);
    if (st != EG_OK && done.archived == 0 && done.failed == 0) { /* the run itself failed, not one memory */
        fprintf(stderr, "engram: %s (%s)\n", err.message, eg_status_name(st));
        return EXIT_FAILED;
    }
    if (json_is_true(json_object_get(cli, "json"))) {
        json_t *out = json_pack("{s:I, s:I, s:I}", "candidates", (json_int_t)done.candidates, "archived",
                                (json_int_t)done.archived, "failed", (json_int_t)done.failed);
        if (out && st != EG_OK)
            json_object_set_new(out, "first_error",
                                json_pack("{s:s, s:s}", "code", eg_status_name(st), "message", err.message));
        print_json(out);
        json_decref(out);
        return st == EG_OK ? EXIT_OK : EXIT_FAILED;
    }
    uint64_t tried = request.limit && request.limit < done.candidates ? request.limit : done.candidates;
    uint64_t gone = tried - done.archived - done.failed; /* deleted by someone else before their turn */
    printf("archived %" PRIu64 " of %" PRIu64 " candidates, %" PRIu64 " failed", done.archived, done.candidates,
           done.failed);
    if (tried < done.candidates) printf("; %" PRIu64 " left by --limit", done.candidates - tried);
    if (gone) printf("; %" PRIu64 " deleted meanwhile", gone);
    const char *age = text_of(cli, "older_than");
    printf(" (older than %s%s)\n", age, strchr("dhms", age[strlen(age) - 1]) ? "" : "d");
    if (st != EG_OK)
        fprintf(stderr, "engram archive run: first failure: %s (%s)\n", err.message, eg_status_name(st));
    return st == EG_OK ? EXIT_OK : EXIT_FAILED;
}

/* "episodes" -> "episode", as --type names it; anything else as it is. */
static const char *singular(const char *plural) {
    static const char *const names[][2] = {
        {"episodes", "episode"}, {"entities", "entity"}, {"procedures", "procedure"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(plural, names[i][0]) == 0) return names[i][1];
    return plural;
}

static int print_list(json_t *result) {
    json_t *entries = json_object_get(result, "entries");
    if (json_array_size(entries) == 0) {
        printf("no archived memories\n");
    } else {
        printf("%-32s %-9s %-36s %10s  %s\n", "archived_at", "type", "id", "size", "compression");
        size_t i;
        json_t *e;
        json_array_foreach(entries, i, e) {
            printf("%-32s %-9s %-36s %10lld  %s\n", text_of(e, "archived_at"), singular(text_of(e, "memory_type")),
                   text_of(e, "memory_id"), (long long)json_integer_value(json_object_get(e, "size_bytes")),
                   text_of(e, "compression"));
        }
    }
    const char *next = json_string_value(json_object_get(result, "next_cursor"));
    if (next) printf("next cursor: %s\n", next);
    return EXIT_OK;
}

/* Scalars, empty containers and arrays of scalars (a vector, a list of ids) fit on one line. */
static bool one_line(json_t *value) {
    if (json_is_object(value)) return json_object_size(value) == 0;
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) if (json_is_object(item) || json_is_array(item)) return false;
    return true;
}

/* value as JSON, objects and nested arrays one member per line, indented by depth; what fits on one line stays
 * on one, so that a vector of hundreds of numbers does not take hundreds of lines. */
static void print_nested(json_t *value, int depth) {
    if (one_line(value)) {
        char *text = eg_json_text(value, 0);
        fputs(text ? text : "?", stdout);
        free(text);
        return;
    }
    bool object = json_is_object(value);
    size_t count = object ? json_object_size(value) : json_array_size(value), n = 0;
    putchar(object ? '{' : '[');
    void *at = object ? json_object_iter(value) : NULL;
    for (; n < count; n++) {
        printf("%s\n%*s", n ? "," : "", 2 * (depth + 1), "");
        if (object) {
            json_t *key = json_string(json_object_iter_key(at));
            print_nested(key, 0);
            json_decref(key);
            fputs(": ", stdout);
            print_nested(json_object_iter_value(at), depth + 1);
            at = json_object_iter_next(value, at);
        } else {
            print_nested(json_array_get(value, n), depth + 1);
        }
    }
    printf("\n%*s%c", 2 * depth, "", object ? '}' : ']');
}

/* The metadata as "key: value" lines, then the record, indented. */
static int print_get(json_t *result) {
    const char *key;
    json_t *value;
    json_object_foreach(json_object_get(result, "metadata"), key, value) {
        if (json_is_string(value)) {
            printf("%s: %s\n", key, json_string_value(value));
        } else {
            char *text = eg_json_text(value, JSON_COMPACT);
            printf("%s: %s\n", key, text ? text : "?");
            free(text);
        }
    }
    printf("record:\n  ");
    print_nested(json_object_get(result, "record"), 1);
    putchar('\n');
    return EXIT_OK;
}

static int print_verify(json_t *result, bool as_json) {
    json_t *corrupt = json_object_get(result, "corrupt"), *orphans = json_object_get(result, "orphans");
    json_t *unverifiable = json_object_get(result, "unverifiable");
    bool clean = json_array_size(corrupt) == 0 && json_array_size(orphans) == 0;
    if (as_json) {
        print_json(result);
        return clean ? EXIT_OK : EXIT_FAILED;
    }
    size_t i;
    json_t *item;
    json_array_foreach(corrupt, i, item)
        printf("corrupt       %s: %s\n", text_of(item, "id"), text_of(item, "reason"));
    json_array_foreach(orphans, i, item)
        printf("stray file    %s: %s\n", text_of(item, "path"), text_of(item, "reason"));
    json_array_foreach(unverifiable, i, item)
        printf("unverifiable  %s: no checksum (written by the original system)\n", json_string_value(item));
    json_int_t entries = json_integer_value(json_object_get(result, "entries"));
    printf("%s: %lld entr%s, %lld ok, %zu corrupt, %zu unverifiable, %zu stray file%s\n",
           clean ? "archive ok" : "archive NOT ok", (long long)entries, entries == 1 ? "y" : "ies",
           (long long)json_integer_value(json_object_get(result, "ok")), json_array_size(corrupt),
           json_array_size(unverifiable), json_array_size(orphans), json_array_size(orphans) == 1 ? "" : "s");
    return clean ? EXIT_OK : EXIT_FAILED;
}

static int archive_print(eg_db *db, json_t *request, json_t *result) {
    json_t *cli = json_object_get(request, "cli");
    const char *sub = text_of(cli, "command");
    bool as_json = json_is_true(json_object_get(cli, "json"));
    if (strcmp(sub, "run") == 0) return print_run(db, cli);
    if (strcmp(sub, "verify") == 0) return print_verify(result, as_json);
    if (as_json) {
        print_json(result);
        return EXIT_OK;
    }
    if (strcmp(sub, "list") == 0) return print_list(result);
    if (strcmp(sub, "get") == 0) return print_get(result);
    if (strcmp(sub, "restore") == 0) {
        printf("restored %s\n", text_of(result, "id"));
        return EXIT_OK;
    }
    if (json_object_get(result, "id")) { /* purge ID */
        printf("purged %s\n", text_of(result, "id"));
        return EXIT_OK;
    }
    json_t *days = json_object_get(request, "retention_days");
    long long removed = (long long)json_integer_value(json_object_get(result, "removed"));
    printf("purged %lld archived memor%s (archived more than %lld days ago)\n", removed, removed == 1 ? "y" : "ies",
           days ? (long long)json_integer_value(days)
                : (long long)eg_settings_int(eg_db_settings(db), "archive.retention_days"));
    return EXIT_OK;
}

const cli_command cli_archive_commands[] = {
    {"archive", archive_help, archive_build, archive_print},
    {NULL, NULL, NULL, NULL},
};
