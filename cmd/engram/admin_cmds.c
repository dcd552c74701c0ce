/* admin_cmds.c — the `engram` subcommands about the engine itself: `config` (every setting, its value, default and
 * where the value came from) and `health` (breakers, write queues, degraded time; the exit status follows the
 * verdict: 0 ok, 3 degraded, 4 down). */
#include "cli_args.h"

#include <stdio.h>
#include <string.h>

enum { EXIT_DEGRADED = 3, EXIT_DOWN = 4 };

static const char config_help[] =
    "usage: engram config [--json]\n"
    "\n"
    "Lists every setting with its value, its default, and where the value comes from: the default,\n"
    "DATA/engram.conf (\"file\"), or this command line (\"override\", from engram --set NAME=VALUE).\n"
    "docs/settings.md describes them.\n";

static const char health_help[] =
    "usage: engram health [--json]\n"
    "\n"
    "Shows each store's circuit breaker (state, failures, when it retries), its write queue (depth, age of the\n"
    "oldest write), how long it has been degraded and its last error, then the verdict:\n"
    "  ok        every breaker closed, no write waiting\n"
    "  degraded  a breaker is not closed or writes are queued, but memory writes are accepted\n"
    "  down      memory writes fail: a breaker is open under the fail write policy, or a queue is stalled\n"
    "Exit status: 0 ok, 3 degraded, 4 down (1 if the health could not be read, 2 usage error).\n";

/* Both commands take only --json, and are named as their exec operations. */
static int build(const char *name, int argc, char **argv, json_t **request) {
    const cli_syntax syntax = {.command = name, .options = CLI_OPT(CLI_JSON)};
    cli_args args;
    *request = json_pack("{s:s}", "op", name);
    int rc = cli_parse(&syntax, argc, argv, *request, &args);
    if (rc == EXIT_OK && args.value[CLI_JSON]) json_object_set_new(*request, "cli", json_pack("{s:b}", "json", 1));
    return rc;
}

static bool wants_json(json_t *request) { return json_is_true(json_object_get(json_object_get(request, "cli"), "json")); }

static void print_json(json_t *value) {
    char *text = eg_json_text(value, JSON_INDENT(2));
    if (text) puts(text);
    free(text);
}

static int config_build(int argc, char **argv, json_t **request) { return build("config", argc, argv, request); }

static int config_print(eg_db *db, json_t *request, json_t *result) {
    (void)db;
    if (wants_json(request)) {
        print_json(result);
        return EXIT_OK;
    }
    printf("%-28s %-10s %-10s %-9s %s\n", "setting", "value", "default", "source", "allowed");
    size_t i;
    json_t *s;
    json_array_foreach(result, i, s) {
        char value[64], fallback[64];
        json_t *v = json_object_get(s, "value"), *d = json_object_get(s, "default");
        if (json_is_integer(v)) snprintf(value, sizeof value, "%lld", (long long)json_integer_value(v));
        else snprintf(value, sizeof value, "%s", json_string_value(v));
        if (json_is_integer(d)) snprintf(fallback, sizeof fallback, "%lld", (long long)json_integer_value(d));
        else snprintf(fallback, sizeof fallback, "%s", json_string_value(d));
        printf("%-28s %-10s %-10s %-9s %s\n", json_string_value(json_object_get(s, "name")), value, fallback,
               json_string_value(json_object_get(s, "source")), json_string_value(json_object_get(s, "allowed")));
    }
    return EXIT_OK;
}

static int health_build(int argc, char **argv, json_t **request) { return build("health", argc, argv, request); }

static int health_print(eg_db *db, json_t *request, json_t *result) {
    (void)db;
    const char *status = json_string_value(json_object_get(result, "status"));
    int rc = strcmp(status, "ok") == 0 ? EXIT_OK : strcmp(status, "degraded") == 0 ? EXIT_DEGRADED : EXIT_DOWN;
    if (wants_json(request)) {
        print_json(result);
        return rc;
    }
    const char *name;
    json_t *store;
    json_object_foreach(json_object_get(result, "stores"), name, store) {
        json_t *b = json_object_get(store, "breaker"), *q = json_object_get(store, "queue");
        printf("%-8s breaker %-9s failures %lld in a row, %lld rejected", name,
               json_string_value(json_object_get(b, "state")),
               (long long)json_integer_value(json_object_get(b, "consecutive_failures")),
               (long long)json_integer_value(json_object_get(b, "rejected")));
        if (strcmp(json_string_value(json_object_get(b, "state")), "open") == 0)
            printf(", retrying in %lld ms", (long long)json_integer_value(json_object_get(b, "retry_in_ms")));
        printf("\n         queue %lld waiting (oldest %lld ms)%s; degraded for %lld ms\n",
               (long long)json_integer_value(json_object_get(q, "depth")),
               (long long)json_integer_value(json_object_get(q, "oldest_age_ms")),
               json_is_true(json_object_get(q, "stalled")) ? ", STALLED" : "",
               (long long)json_integer_value(json_object_get(store, "degraded_ms")));
        const char *url = json_string_value(json_object_get(store, "url"));
        printf("         backend %s%s%s\n", json_string_value(json_object_get(store, "backend")), url ? " at " : "",
               url ? url : "");
        const char *last = json_string_value(json_object_get(b, "last_error"));
        if (last && *last) printf("         last error: %s\n", last);
        const char *stall = json_string_value(json_object_get(q, "stall_error"));
        if (stall) printf("         stalled on: %s\n", stall);
    }
    printf("write policy %s, %lld dead letters\n", json_string_value(json_object_get(result, "write_policy")),
           (long long)json_integer_value(json_object_get(result, "dead_letters")));
    printf("%s\n", status);
    return rc;
}

const cli_command cli_admin_commands[] = {
    {"config", config_help, config_build, config_print},
    {"health", health_help, health_build, health_print},
    {NULL, NULL, NULL, NULL},
};
