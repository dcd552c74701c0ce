/* cli_args.h — reading a subcommand's arguments, shared by the memory, archive and admin subcommands so that
 * they all take options, "--" and positional arguments alike and word their usage errors alike. */
#ifndef ENGRAM_CLI_ARGS_H
#define ENGRAM_CLI_ARGS_H

#include "cli.h"

/* Every option any of these subcommands takes: one name means the same thing (and takes a value or not) in every
 * command, so one table serves them all; each command allows its own set as a mask of CLI_OPT(). */
enum {
    CLI_TYPE, CLI_ID, CLI_SESSION, CLI_RELATE, CLI_DIM, CLI_LIMIT, CLI_EXPAND, CLI_REPAIR, CLI_JSON,
    CLI_OLDER_THAN, CLI_FIELD, CLI_CURSOR, CLI_OPTION_COUNT
};
#define CLI_OPT(k) (1u << (k))

/* What one command takes besides the mask of options. */
typedef struct cli_syntax {
    const char *command;    /* "remember", "archive run": how its messages name it */
    unsigned options;       /* a mask of CLI_OPT() */
    const char *positional; /* what its one positional argument is, for messages; NULL when it takes none */
    bool required;          /* whether the positional argument must be given */
    /* Called with each value of a repeatable option (--relate), in order, since its values are not kept. */
    int (*repeated)(const char *command, const char *value, json_t *request);
} cli_syntax;

/* One read command line. */
typedef struct cli_args {
    const char *command;                  /* as in its syntax, for the messages of later checks */
    const char *positional;               /* NULL when not given */
    const char *value[CLI_OPTION_COUNT];  /* each option's value ("" for a flag), NULL when not given */
} cli_args;

/* Reports `engram COMMAND: MESSAGE` on stderr, pointing to the help of COMMAND's first word (`archive run`'s
 * help is `archive`'s); returns EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int cli_usage_error(const char *command, const char *fmt, ...);

/* Reads argv into *out as syntax says: each option at most once unless repeatable, at most one positional
 * argument. After "--" every argument is positional, and so is "-" alone. request is for syntax->repeated. */
int cli_parse(const cli_syntax *syntax, int argc, char **argv, json_t *request, cli_args *out);

/* into[field] = value, unless value is NULL. JSON strings are UTF-8, so other bytes are a usage error (naming
 * the value as `what`) rather than a field silently missing from the request. */
int cli_set_string(const char *command, json_t *into, const char *field, const char *value, const char *what);

/* The value of option k, a whole number in min..max, as into[field]; absent: nothing set. */
int cli_set_number(const cli_args *args, int k, long min, long max, json_t *into, const char *field);

/* --type into *type; episode when absent. */
int cli_read_type(const cli_args *args, eg_memory_type *type);

#endif
