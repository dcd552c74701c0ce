/* cli.h — the pieces of the `engram` command shared between its files. Exit codes: 0 ok, 1 the operation failed,
 * 2 usage error. */
#ifndef ENGRAM_CLI_H
#define ENGRAM_CLI_H

#include <engram/exec.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Human subcommands; argv starts at the subcommand's first argument. */
int cli_node(eg_db *db, int argc, char **argv);
int cli_path(eg_db *db, int argc, char **argv);
int cli_stats(eg_db *db, int argc, char **argv);

/* Help texts, printed by `--help` at each level. */
extern const char cli_node_help[];
extern const char cli_path_help[];
extern const char cli_stats_help[];

/* True if any of argv[0..argc) is -h or --help. */
bool cli_wants_help(int argc, char **argv);

#endif
