/* main.c — the `engram` command: global options, the `exec` JSON-lines loop, and dispatch to the human
 * subcommands (human.c, memory_cmds.c), run on the data folder or, with --url, on a running `engram serve`
 * (remote.c). */
#include "cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char main_help[] =
    "usage: engram [--data DIR] [--durability MODE] [--set NAME=VALUE]... COMMAND [ARGS]\n"
    "       engram --url URL [--api-key KEY] COMMAND [ARGS]\n"
    "\n"
    "engram stores the memory of an AI agent: a graph of episodes, entities and procedures.\n"
    "\n"
    "commands:\n"
    "  remember TEXT     store TEXT as a memory (an episode unless --type says otherwise); print its id\n"
    "  recall TEXT       list the memories most like TEXT, with their graph neighbours (--expand N)\n"
    "  check             compare the graph and vector stores: orphans, dead letters (--repair fixes them)\n"
    "  recover           show what opening the data folder recovered after a crash, then check it\n"
    "  health            circuit breakers, write queues, degraded time: ok, degraded or down (exit 0, 3, 4)\n"
    "  config            every setting: value, default, and where the value came from\n"
    "  archive SUB       the cold archive: run (archive memories older than an age, with progress), list,\n"
    "                    get ID, restore ID, purge, verify\n"
    "  exec              read JSON operations from stdin, one per line; write one JSON result per line\n"
    "  serve             serve the folder over HTTP: engram's API, Qdrant's REST API and MCP at /mcp\n"
    "                    (docs/serve.md, docs/mcp.md)\n"
    "  mcp               serve the MCP tools over stdio to a client that launches it (docs/mcp.md)\n"
    "  import-mcp-memory FILE.jsonl\n"
    "                    import the memory file of the reference MCP memory server (again: no change)\n"
    "  node show ID      show a node and its properties\n"
    "  node rels ID      list a node's relationships\n"
    "  path SRC DST      show a shortest path between two nodes\n"
    "  stats             count nodes and relationships\n"
    "\n"
    "options:\n"
    "  --data DIR        data folder (default: $ENGRAM_DATA, else ./engram-data)\n"
    "  --durability MODE group (default): every acknowledged write is on disk, concurrent writers share\n"
    "                    the log's fsyncs; fsync: each commit synced on its own; none: no fsync (bulk loads:\n"
    "                    a killed process loses nothing, a power cut may lose the last writes)\n"
    "  --no-sync         the same as --durability none\n"
    "  --set NAME=VALUE  override a setting of DATA/engram.conf for this run (repeatable; see engram config)\n"
    "  --url URL         send the command to a running engram serve (http://HOST:PORT) instead of opening\n"
    "                    the folder: exec, remember, recall, check, health, config, stats, node, path,\n"
    "                    archive list/get/restore/verify/purge (not serve, recover, archive run)\n"
    "  --api-key KEY     the server's API key, with --url (default: $ENGRAM_API_KEY)\n"
    "  --version         print the version\n"
    "  -h, --help        this help; every command takes --help too\n"
    "\n"
    "exit status: 0 ok, 1 the operation failed, 2 usage error (engram health: 3 degraded, 4 down).\n"
    "The operations of exec are listed in docs/operations.md.\n";

static const char exec_help[] =
    "usage: engram [--data DIR] exec\n"
    "\n"
    "Reads one JSON operation per line from stdin, e.g.\n"
    "  {\"op\":\"create_node\",\"label\":\"Entity\",\"id\":\"e1\",\"properties\":{\"name\":\"x\"}}\n"
    "and writes one JSON result per line, flushed after each:\n"
    "  {\"ok\":true,\"result\":...}  or  {\"ok\":false,\"error\":{\"code\":\"...\",\"message\":\"...\"}}\n"
    "A bad line (one longer than 64 MiB too) gets an error result and the next line is still processed.\n"
    "Blank lines are skipped.\n"
    "Exit status 0 at end of input; 1 if stdout fails.\n";

/* The bytes of a line that are kept: one past what eg_exec_json accepts, so that it refuses the line. */
#define KEPT_MAX ((size_t)EG_EXEC_LINE_MAX + 1)

/* Reads one line, without its newline, into *line (allocated, *cap > 0 bytes; NUL-terminated, grown as needed).
 * A line longer than KEPT_MAX keeps only its first KEPT_MAX bytes and the rest is read and dropped, so that a
 * runaway line costs no more memory than the limit. Returns its kept length, -1 at end of input, -2 when memory
 * runs out. */
static ssize_t read_line(char **line, size_t *cap, FILE *in) {
    size_t len = 0;
    bool any = false;
    int c;
    while ((c = getc_unlocked(in)) != EOF) {
        any = true;
        if (c == '\n') break;
        if (len == KEPT_MAX) continue;
        if (len + 1 >= *cap) {
            size_t want = 2 * *cap < KEPT_MAX + 1 ? 2 * *cap : KEPT_MAX + 1;
            char *grown = realloc(*line, want);
            if (!grown) return -2;
            *line = grown;
            *cap = want;
        }
        (*line)[len++] = (char)c;
    }
    if (!any) return -1;
    (*line)[len] = '\0';
    return (ssize_t)len;
}

/* Each line runs in db, or on remote when it is not NULL. */
static int run_exec(eg_db *db, cli_remote *remote) {
    size_t cap = 4096;
    char *line = malloc(cap);
    ssize_t len = line ? 0 : -2;
    int rc = EXIT_OK;
    while (line && (len = read_line(&line, &cap, stdin)) >= 0) {
        while (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
        if (strspn(line, " \t") == (size_t)len) continue;
        char *response = remote ? cli_remote_exec_line(remote, line, (size_t)len) : eg_exec_json(db, line, (size_t)len);
        if (!response || fputs(response, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
            free(response);
            rc = EXIT_FAILED;
            break;
        }
        free(response);
    }
    if (len == -2) {
        fprintf(stderr, "engram: out of memory reading a request line\n");
        rc = EXIT_FAILED;
    }
    free(line);
    return rc;
}

bool cli_wants_help(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return true;
    return false;
}

/* Why a command cannot run on a server (it needs the folder itself), or NULL when it can. */
static const char *remote_refusal(const char *name, json_t *request) {
    if (strcmp(name, "serve") == 0) return "serve opens the folder itself";
    if (strcmp(name, "recover") == 0) return "recover shows what opening the folder recovered";
    if (strcmp(name, "archive") != 0) return NULL;
    const char *sub = json_string_value(json_object_get(json_object_get(request, "cli"), "command"));
    const char *op = json_string_value(json_object_get(request, "op"));
    if (sub && strcmp(sub, "run") == 0)
        return "archive run shows its progress from the folder (POST /v1/archive/run runs it on the server)";
    if (op && strcmp(op, "cleanup_archive") == 0 && !json_object_get(request, "retention_days"))
        return "archive purge without --older-than quotes the folder's setting: give --older-than AGE";
    return NULL;
}

/* The folder is held by another process. `engram serve` leaves its URL in the folder while it runs; quote it
 * (its printable characters only: the file is not ours to trust) so that the user can pass it to --url. */
void cli_explain_locked(const char *data) {
    char path[4096], url[256] = "";
    snprintf(path, sizeof path, "%s/%s", data, CLI_SERVE_URL_FILE);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(url, sizeof url, f)) url[0] = '\0';
        fclose(f);
    }
    size_t n = 0;
    while (url[n] && isgraph((unsigned char)url[n])) n++;
    url[n] = '\0';
    if (n > 0)
        fprintf(stderr,
                "engram: the data folder %s is in use by another engram process; %s says `engram serve` listens at "
                "%s: pass --url %s to send this command to it\n",
                data, CLI_SERVE_URL_FILE, url, url);
    else
        fprintf(stderr,
                "engram: the data folder %s is in use by another engram process; if it is `engram serve`, pass "
                "--url http://HOST:PORT to send this command to it\n",
                data);
}

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "engram: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'engram --help'.\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv) {
    const char *data = getenv("ENGRAM_DATA");
    const char *url = NULL, *api_key = NULL, *folder_option = NULL;
    eg_options options = {0};
    static const char *overrides[64];
    options.settings = overrides;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--data") == 0) {
            if (++i == argc || !*argv[i]) return usage("%s needs a folder", "--data");
            data = argv[i];
            folder_option = "--data";
        } else if (strcmp(argv[i], "--url") == 0) {
            if (++i == argc || !*argv[i]) return usage("%s needs a URL (http://HOST:PORT)", "--url");
            url = argv[i];
        } else if (strcmp(argv[i], "--api-key") == 0) {
            if (++i == argc || !*argv[i]) return usage("%s needs a key", "--api-key");
            api_key = argv[i];
        } else if (strcmp(argv[i], "--no-sync") == 0 || strcmp(argv[i], "--durability") == 0) {
            folder_option = argv[i];
            /* Shorthands for --set durability=..., so that engram config shows them as the overrides they are. */
            static char assignment[32];
            eg_durability d = EG_DURABILITY_NONE;
            eg_error err;
            if (argv[i][2] == 'd' && (++i == argc || eg_durability_parse(argv[i], &d, &err) != EG_OK))
                return usage("%s needs group, fsync or none", "--durability");
            if (assignment[0]) return usage("%s", "give --durability (or --no-sync) once");
            snprintf(assignment, sizeof assignment, "durability=%s", eg_durability_name(d));
            overrides[options.setting_count++] = assignment;
        } else if (strcmp(argv[i], "--set") == 0) {
            eg_error err;
            folder_option = "--set";
            if (++i == argc) return usage("%s needs NAME=VALUE (see engram config)", "--set");
            if (eg_settings_validate_override(argv[i], &err) != EG_OK) return usage("%s", err.message);
            if (options.setting_count == sizeof overrides / sizeof overrides[0])
                return usage("at most %s --set options", "64");
            overrides[options.setting_count++] = argv[i];
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("engram %s (data format %d)\n", EG_VERSION, EG_FORMAT_VERSION);
            return EXIT_OK;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(main_help, stdout);
            return EXIT_OK;
        } else {
            return usage("unknown option '%s'", argv[i]);
        }
    }
    if (i == argc) return usage("%s", "a command is required");
    if (url && folder_option) return usage("%s acts on a folder this command opens, which --url does not", folder_option);
    if (api_key && !url) return usage("%s goes with --url (engram serve takes its own --api-key)", "--api-key");
    if (url && !api_key) api_key = getenv("ENGRAM_API_KEY");
    if (!data || !*data) data = "engram-data";
    const char *name = argv[i++];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    const cli_command *command = NULL;
    bool serve = strcmp(name, "serve") == 0;
    if (strcmp(name, "import-mcp-memory") == 0) {
        if (cli_wants_help(sub_argc, sub_argv)) {
            fputs(cli_import_help, stdout);
            return EXIT_OK;
        }
        if (url) return usage("--url: %s", "import-mcp-memory opens the folder itself");
        return cli_import_mcp_memory(sub_argc, sub_argv, data, &options);
    }
    if (strcmp(name, "mcp") == 0) {
        if (cli_wants_help(sub_argc, sub_argv)) {
            fputs(cli_mcp_help, stdout);
            return EXIT_OK;
        }
        return cli_mcp(sub_argc, sub_argv, data, url, api_key, &options);
    }
    if (!serve && strcmp(name, "exec") != 0 && !(command = cli_find(name)))
        return usage("unknown command '%s'", name);
    if (cli_wants_help(sub_argc, sub_argv)) {
        fputs(command ? command->help : serve ? cli_serve_help : exec_help, stdout);
        return EXIT_OK;
    }
    json_t *request = NULL;
    cli_serve_options serve_options;
    if (serve) {
        int rc = cli_serve_parse(sub_argc, sub_argv, &serve_options);
        if (rc != EXIT_OK) return rc;
    } else if (!command && sub_argc > 0) {
        return usage("exec takes no argument: '%s'", sub_argv[0]);
    }
    if (command) {
        int rc = command->build(sub_argc, sub_argv, &request);
        if (rc != EXIT_OK) {
            json_decref(request);
            return rc;
        }
    }
    if (url) {
        const char *refusal = remote_refusal(name, request);
        cli_remote *remote = NULL;
        int rc = refusal ? usage("--url: %s", refusal) : cli_remote_open(url, api_key, &remote);
        if (rc == EXIT_OK) rc = command ? cli_run(NULL, remote, command, request) : run_exec(NULL, remote);
        cli_remote_close(remote);
        json_decref(request);
        return rc;
    }
    if (serve) cli_serve_block_signals();
    eg_db *db;
    eg_error err;
    if (eg_open(data, &options, &db, &err) != EG_OK) {
        if (err.code == EG_LOCKED) cli_explain_locked(data);
        else fprintf(stderr, "engram: cannot open the data folder: %s (%s)\n", err.message, eg_status_name(err.code));
        json_decref(request);
        return EXIT_FAILED;
    }
    int rc = command ? cli_run(db, NULL, command, request)
             : serve ? cli_serve_run(db, data, &serve_options)
                     : run_exec(db, NULL);
    json_decref(request);
    eg_close(db);
    return rc;
}
