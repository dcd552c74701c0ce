/* cli.h — the pieces of the `engram` command shared between its files. Exit codes: 0 ok, 1 the operation failed,
 * 2 usage error. */
#ifndef ENGRAM_CLI_H
#define ENGRAM_CLI_H

#include <engram/exec.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* A human subcommand. `build` turns its arguments (argv starts after the command name) into an exec request,
 * before the data folder is opened, so a usage error (EXIT_USAGE) touches nothing; `print` shows the result and
 * returns the exit status, so that a command may judge a successful operation's result a failure (`check` finding
 * an inconsistency). db is the open folder, for what opening it found (eg_db_recovery), not for more operations
 * (save `archive run`, whose progress display needs the C API's callback: see archive_cmds.c).
 *
 * A request's member "cli", when present, holds the command's own presentation options (e.g. {"json": true}):
 * exec would refuse it as an unknown argument, so cli_run sends the request without it, and print sees it. */
typedef struct cli_command {
    const char *name;
    const char *help;
    int (*build)(int argc, char **argv, json_t **request);
    int (*print)(eg_db *db, json_t *request, json_t *result);
} cli_command;

/* The graph subcommands (human.c) and the memory subcommands (memory_cmds.c), each terminated by a row with name
 * NULL. */
extern const cli_command cli_commands[];
extern const cli_command cli_memory_commands[];
/* config and health (admin_cmds.c). */
extern const cli_command cli_admin_commands[];
/* archive and its subcommands (archive_cmds.c). */
extern const cli_command cli_archive_commands[];

/* The subcommand called name, or NULL. */
const cli_command *cli_find(const char *name);

/* A running `engram serve` that commands send their exec requests to instead of opening the folder (remote.c). */
typedef struct cli_remote cli_remote;

/* Runs a built request — in db, or on remote when it is not NULL (db is then NULL) — and prints its result;
 * returns what print returns, or EXIT_FAILED (with the error on stderr) if the operation failed. */
int cli_run(eg_db *db, cli_remote *remote, const cli_command *command, json_t *request);

/* Client mode (remote.c). cli_remote_open checks url (http:// or https://; EXIT_USAGE otherwise) and prepares the
 * connection (api_key: sent as the `api-key` header; NULL or "" for none). */
int cli_remote_open(const char *url, const char *api_key, cli_remote **out);
void cli_remote_close(cli_remote *r);
/* Sends one exec request to POST /v1/exec; returns exec's response object, or NULL with the reason on stderr (the
 * server unreachable, or an answer that is not exec's: a 401, a 413...). */
json_t *cli_remote_exec(cli_remote *r, json_t *request);
/* One `engram exec` line sent to the server: the response line exec would print (malloc'd), or NULL with the
 * reason on stderr. */
char *cli_remote_exec_line(cli_remote *r, const char *line, size_t len);

/* `engram serve` (serve_cmd.c): its help, its arguments read before the folder is opened (EXIT_USAGE on a bad
 * one), and the run until a stop signal. */
#include <engram/serve.h>
extern const char cli_serve_help[];
typedef struct cli_serve_options {
    eg_server_options http; /* http.http: --http HOST:PORT; NULL: the serve.http setting; "": no HTTP server */
    const char *bolt;       /* --bolt HOST:PORT; NULL: the serve.bolt setting; "": no Bolt listener */
} cli_serve_options;
int cli_serve_parse(int argc, char **argv, cli_serve_options *options);
/* While it runs, the URL it listens on is in data_dir/serve.url (CLI_SERVE_URL_FILE), so that a command that finds
 * the folder locked can name it. */
#define CLI_SERVE_URL_FILE "serve.url"
int cli_serve_run(eg_db *db, const char *data_dir, const cli_serve_options *options);
/* Blocks SIGINT and SIGTERM in the calling thread. Called before the folder is opened: every thread started after
 * it (the engine's own, such as the write queue's drainer, and the server's) inherits the mask, so that only
 * cli_serve_run's sigwait receives a stop signal — one delivered to a thread that did not block it would kill the
 * process before it closes the folder. */
void cli_serve_block_signals(void);

/* `engram import-mcp-memory` (import_cmd.c): its help, and the run on the folder data (its own --data DIR, given
 * after the file, overrides it). */
extern const char cli_import_help[];
int cli_import_mcp_memory(int argc, char **argv, const char *data, const eg_options *options);

/* `engram mcp` (mcp_cmd.c): its help, and the run over stdio until the end of its input or a stop signal, on the
 * folder data or, with url, on a running `engram serve` (its own --data, --url and --api-key override the global
 * ones). */
extern const char cli_mcp_help[];
int cli_mcp(int argc, char **argv, const char *data, const char *url, const char *api_key, const eg_options *options);

/* Says on stderr that the folder data is held by another process, naming the URL of the `engram serve` that holds
 * it when the folder says so (main.c). */
void cli_explain_locked(const char *data);

/* True if any of argv[0..argc) is -h or --help. */
bool cli_wants_help(int argc, char **argv);

#endif
