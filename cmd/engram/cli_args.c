/* cli_args.c — the subcommands' option parser and usage errors (cli_args.h). */
#include "cli_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options of cli_args.h's enum; most take a value. */
static const struct {
    const char *name;
    bool flag;    /* takes no value */
    bool repeats; /* may be given more than once */
} options[CLI_OPTION_COUNT] = {
    [CLI_TYPE] = {"--type"},     [CLI_ID] = {"--id"},         [CLI_SESSION] = {"--session"},
    [CLI_DIM] = {"--dim"},       [CLI_LIMIT] = {"--limit"},   [CLI_EXPAND] = {"--expand"},
    [CLI_FIELD] = {"--field"},   [CLI_CURSOR] = {"--cursor"}, [CLI_OLDER_THAN] = {"--older-than"},
    [CLI_REPAIR] = {"--repair", .flag = true}, [CLI_JSON] = {"--json", .flag = true},
    [CLI_RELATE] = {"--relate", .repeats = true},
};

int cli_usage_error(const char *command, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "engram %s: ", command);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'engram %.*s --help'.\n", (int)strcspn(command, " "), command);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_parse(const cli_syntax *syntax, int argc, char **argv, json_t *request, cli_args *out) {
    const char *command = syntax->command;
    *out = (cli_args){.command = command};
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || arg[0] != '-' || !arg[1]) {
            if (!syntax->positional || out->positional)
                return cli_usage_error(command, "unexpected argument '%s'", arg);
            out->positional = arg;
            continue;
        }
        int k = 0;
        while (k < CLI_OPTION_COUNT && !((syntax->options & CLI_OPT(k)) && strcmp(options[k].name, arg) == 0)) k++;
        if (k == CLI_OPTION_COUNT) return cli_usage_error(command, "unknown option '%s'", arg);
        if (out->value[k]) return cli_usage_error(command, "%s given twice", arg);
        if (!options[k].flag && i + 1 == argc) return cli_usage_error(command, "%s needs a value", arg);
        const char *value = options[k].flag ? "" : argv[++i];
        if (!options[k].repeats) {
            out->value[k] = value;
            continue;
        }
        int rc = syntax->repeated(command, value, request);
        if (rc != EXIT_OK) return rc;
    }
    if (syntax->required && !out->positional) return cli_usage_error(command, "%s is missing", syntax->positional);
    return EXIT_OK;
}

int cli_set_string(const char *command, json_t *into, const char *field, const char *value, const char *what) {
    if (!value) return EXIT_OK;
    json_t *s = json_string(value);
    if (!s) return cli_usage_error(command, "%s is not valid UTF-8", what);
    json_object_set_new(into, field, s);
    return EXIT_OK;
}

int cli_set_number(const cli_args *args, int k, long min, long max, json_t *into, const char *field) {
    const char *text = args->value[k];
    if (!text) return EXIT_OK;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno || n < min || n > max)
        return cli_usage_error(args->command, "%s takes a whole number from %ld to %ld, got '%s'", options[k].name,
                               min, max, text);
    json_object_set_new(into, field, json_integer(n));
    return EXIT_OK;
}

int cli_read_type(const cli_args *args, eg_memory_type *type) {
    eg_error err;
    *type = EG_MEMORY_EPISODE;
    if (args->value[CLI_TYPE] && eg_memory_type_parse(args->value[CLI_TYPE], type, &err) != EG_OK)
        return cli_usage_error(args->command, "--type: %s", err.message);
    return EXIT_OK;
}
