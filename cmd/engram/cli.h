/* cli.h — the pieces of the `engram` command shared between its files. Exit codes: 0 ok, 1 the operation failed,
 * 2 usage error. */
#ifndef ENGRAM_CLI_H
#define ENGRAM_CLI_H

#include <engram/exec.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* A human subcommand. `build` turns its arguments (argv starts after the command name) into an exec request,
 * before the data folder is opened, so a usage error (EXIT_USAGE) touches nothing; `print` shows the result. */
typedef struct cli_command {
    const char *name;
    const char *help;
    int (*build)(int argc, char **argv, json_t **request);
    void (*print)(json_t *request, json_t *result);
} cli_command;

/* The human subcommands, terminated by a row with name NULL. */
extern const cli_command cli_commands[];

/* Runs a built request and prints its result; EXIT_FAILED (with the error on stderr) if it failed. */
int cli_run(eg_db *db, const cli_command *command, json_t *request);

/* True if any of argv[0..argc) is -h or --help. */
bool cli_wants_help(int argc, char **argv);

#endif
