/* test_settings.c — engram's settings: the defaults when DATA/engram.conf is absent (and reading never creates
 * it), values from the file, overrides winning over the file, where each value came from, the file's syntax
 * (comments, blank lines, whitespace, CRLF, a byte-order mark), every refusal with its exact message, the 64 KiB
 * limit, the closest-name suggestion, the override validator, the `engram config` listing, and the abort that
 * catches a misspelt name in the calling code. */
#include "test.h"

#include <engram/settings.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fresh data folder holding engram.conf with the given bytes (len of them, so NUL bytes can be written). */
static const char *folder_with_file(const char *text, size_t len) {
    const char *dir = test_scratch_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/" EG_SETTINGS_FILE, dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        perror("writing engram.conf");
        exit(2);
    }
    return dir;
}

static const char *folder_with(const char *text) {
    return folder_with_file(text, strlen(text));
}

/* Loads, printing the error when it fails. */
static eg_settings *load(const char *dir, const char *const *overrides, size_t count) {
    eg_settings *s = NULL;
    eg_error err;
    if (eg_settings_load(dir, overrides, count, &s, &err) != EG_OK) {
        fprintf(stderr, "  loading settings: %s\n", err.message);
        return NULL;
    }
    return s;
}

/* True when loading fails with EG_INVALID_ARGUMENT and exactly this message, and leaves *out alone. */
static bool refused(const char *dir, const char *const *overrides, size_t count, const char *message) {
    static char sentinel;
    eg_settings *s = (eg_settings *)&sentinel; /* a failed load must leave it as it was */
    eg_settings *const before = s;
    eg_error err;
    eg_status st = eg_settings_load(dir, overrides, count, &s, &err);
    if (st == EG_OK) {
        fprintf(stderr, "  loaded, expected \"%s\"\n", message);
        eg_settings_free(s);
        return false;
    }
    if (st != EG_INVALID_ARGUMENT || strcmp(err.message, message) != 0) {
        fprintf(stderr, "  got %s \"%s\"\n  expected invalid_argument \"%s\"\n", eg_status_name(st), err.message,
                message);
        return false;
    }
    return s == before;
}

static bool file_refused(const char *text, const char *message) {
    return refused(folder_with(text), NULL, 0, message);
}

/* The same for the validator, which must agree with loading. */
static bool override_refused(const char *assignment, const char *message) {
    eg_error err;
    eg_status st = eg_settings_validate_override(assignment, &err);
    if (st != EG_INVALID_ARGUMENT || strcmp(err.message, message) != 0) {
        fprintf(stderr, "  validating \"%s\": got %s \"%s\"\n  expected \"%s\"\n", assignment, eg_status_name(st),
                st ? err.message : "", message);
        return false;
    }
    return refused(NULL, &assignment, 1, message);
}

/* The listing's entry for name, or NULL. */
static json_t *listed(const eg_settings *s, const char *name, json_t **list) {
    eg_error err;
    *list = NULL;
    if (eg_settings_list(s, list, &err) != EG_OK) return NULL;
    size_t i;
    json_t *entry;
    json_array_foreach(*list, i, entry) {
        if (strcmp(json_string_value(json_object_get(entry, "name")), name) == 0) return entry;
    }
    return NULL;
}

static const char *source_of(const eg_settings *s, const char *name) {
    static char source[16];
    json_t *list, *entry = listed(s, name, &list);
    snprintf(source, sizeof source, "%s", entry ? json_string_value(json_object_get(entry, "source")) : "?");
    json_decref(list);
    return source;
}

static void check_all_defaults(const eg_settings *s) {
    CHECK(eg_settings_int(s, "breaker.failure_threshold") == 5);
    CHECK(eg_settings_int(s, "breaker.success_threshold") == 2);
    CHECK(eg_settings_int(s, "breaker.reset_timeout_ms") == 60000);
    CHECK(eg_settings_int(s, "breaker.half_open_max_calls") == 1);
    CHECK(strcmp(eg_settings_word(s, "degrade.write_policy"), "fail") == 0);
    CHECK(eg_settings_int(s, "degrade.cache_entries") == 1000);
    CHECK(eg_settings_int(s, "degrade.queue_max") == 10000);
    CHECK(strcmp(eg_settings_word(s, "durability"), "group") == 0);
    CHECK(eg_settings_int(s, "saga.step_timeout_ms") == 60000);
    CHECK(eg_settings_int(s, "saga.compensation_attempts") == 3);
}

TEST(defaults_without_a_file) {
    const char *dir = test_scratch_dir();
    eg_settings *s = load(dir, NULL, 0);
    REQUIRE(s);
    check_all_defaults(s);
    CHECK(strcmp(source_of(s, "durability"), "default") == 0);
    eg_settings_free(s);

    /* Reading creates nothing: neither the file nor a missing folder. */
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/" EG_SETTINGS_FILE, dir);
    CHECK(stat(path, &st) != 0);
    snprintf(path, sizeof path, "%s/not-yet", dir);
    s = load(path, NULL, 0);
    REQUIRE(s);
    check_all_defaults(s);
    eg_settings_free(s);
    CHECK(stat(path, &st) != 0);

    /* No folder at all: defaults and overrides only. */
    s = load(NULL, NULL, 0);
    REQUIRE(s);
    check_all_defaults(s);
    eg_settings_free(s);
    eg_settings_free(NULL);
}

TEST(file_values_are_read) {
    eg_settings *s = load(folder_with("breaker.failure_threshold = 7\n"
                                      "breaker.success_threshold = 1\n"
                                      "breaker.reset_timeout_ms = 86400000\n"
                                      "breaker.half_open_max_calls = 1000\n"
                                      "degrade.write_policy = queue\n"
                                      "degrade.cache_entries = 0\n"
                                      "degrade.queue_max = 100000000\n"
                                      "durability = none\n"
                                      "saga.step_timeout_ms = 1\n"
                                      "saga.compensation_attempts = 100\n"),
                          NULL, 0);
    REQUIRE(s);
    CHECK(eg_settings_int(s, "breaker.failure_threshold") == 7);
    CHECK(eg_settings_int(s, "breaker.success_threshold") == 1);
    CHECK(eg_settings_int(s, "breaker.reset_timeout_ms") == 86400000);
    CHECK(eg_settings_int(s, "breaker.half_open_max_calls") == 1000);
    CHECK(strcmp(eg_settings_word(s, "degrade.write_policy"), "queue") == 0);
    CHECK(eg_settings_int(s, "degrade.cache_entries") == 0);
    CHECK(eg_settings_int(s, "degrade.queue_max") == 100000000);
    CHECK(strcmp(eg_settings_word(s, "durability"), "none") == 0);
    CHECK(eg_settings_int(s, "saga.step_timeout_ms") == 1);
    CHECK(eg_settings_int(s, "saga.compensation_attempts") == 100);
    eg_settings_free(s);

    /* An empty file, and a last line without its newline. */
    s = load(folder_with(""), NULL, 0);
    REQUIRE(s);
    check_all_defaults(s);
    eg_settings_free(s);
    s = load(folder_with("durability = fsync"), NULL, 0);
    REQUIRE(s);
    CHECK(strcmp(eg_settings_word(s, "durability"), "fsync") == 0);
    eg_settings_free(s);

    /* The server addresses may be empty (that server is off), in the file and as an override. */
    const char *const http_off[] = {"serve.http="};
    s = load(folder_with("serve.bolt =\n"), http_off, 1);
    REQUIRE(s);
    CHECK(strcmp(eg_settings_text(s, "serve.bolt"), "") == 0 && strcmp(eg_settings_text(s, "serve.http"), "") == 0);
    eg_settings_free(s);
}

TEST(overrides_win_over_the_file) {
    const char *dir = folder_with("breaker.failure_threshold = 7\ndurability = none\nsaga.step_timeout_ms = 500\n");
    const char *const overrides[] = {"breaker.failure_threshold=9", " durability = fsync ", "degrade.queue_max=3",
                                     "degrade.queue_max=4"};
    eg_settings *s = load(dir, overrides, 4);
    REQUIRE(s);
    CHECK(eg_settings_int(s, "breaker.failure_threshold") == 9);
    CHECK(strcmp(eg_settings_word(s, "durability"), "fsync") == 0);
    CHECK(eg_settings_int(s, "saga.step_timeout_ms") == 500); /* from the file, not overridden */
    CHECK(eg_settings_int(s, "degrade.queue_max") == 4);      /* the later override wins */
    eg_settings_free(s);

    /* A bad file is refused even when an override would replace its bad value. */
    const char *const fix[] = {"breaker.failure_threshold=5"};
    CHECK(refused(folder_with("breaker.failure_threshold = 0\n"), fix, 1,
                  "engram.conf line 1: breaker.failure_threshold = 0 is out of range 1..1000000"));
    /* A bad override fails the load even with a good file. */
    const char *const bad[] = {"durability=fsync", "durability=sometimes"};
    CHECK(refused(dir, bad, 2, "override: durability = 'sometimes' must be one of group, fsync, none"));
}

TEST(sources_are_tracked) {
    const char *const overrides[] = {"durability=none"};
    eg_settings *s = load(folder_with("breaker.failure_threshold = 5\nsaga.step_timeout_ms = 10\n"), overrides, 1);
    REQUIRE(s);
    /* Set in the file to its default value still counts as the file's. */
    CHECK(strcmp(source_of(s, "breaker.failure_threshold"), "file") == 0);
    CHECK(strcmp(source_of(s, "saga.step_timeout_ms"), "file") == 0);
    CHECK(strcmp(source_of(s, "durability"), "override") == 0);
    CHECK(strcmp(source_of(s, "degrade.queue_max"), "default") == 0);
    eg_settings_free(s);

    const char *const again[] = {"saga.step_timeout_ms=20"};
    s = load(folder_with("saga.step_timeout_ms = 10\n"), again, 1);
    REQUIRE(s);
    CHECK(strcmp(source_of(s, "saga.step_timeout_ms"), "override") == 0);
    CHECK(eg_settings_int(s, "saga.step_timeout_ms") == 20);
    eg_settings_free(s);
}

TEST(comments_blank_lines_and_whitespace) {
    eg_settings *s = load(folder_with("\xEF\xBB\xBF# engram settings\n"
                                      "\n"
                                      "   \t\n"
                                      "  # an indented comment = with an equals sign\n"
                                      "#breaker.failure_threshold = 0\n"
                                      "\tbreaker.failure_threshold\t=\t8\t\n"
                                      "durability=none\r\n"
                                      "degrade.write_policy =    queue   \r\n"
                                      "saga.step_timeout_ms   =0012\r\n"
                                      "\r\n"),
                          NULL, 0);
    REQUIRE(s);
    CHECK(eg_settings_int(s, "breaker.failure_threshold") == 8);
    CHECK(strcmp(eg_settings_word(s, "durability"), "none") == 0);
    CHECK(strcmp(eg_settings_word(s, "degrade.write_policy"), "queue") == 0);
    CHECK(eg_settings_int(s, "saga.step_timeout_ms") == 12);
    eg_settings_free(s);
}

TEST(unknown_settings_are_refused_with_the_closest_name) {
    CHECK(file_refused("# header\n\nbreaker.failur_threshold = 5\n",
                       "engram.conf line 3: unknown setting 'breaker.failur_threshold'; "
                       "did you mean 'breaker.failure_threshold'?"));
    CHECK(file_refused("Durability = none\n", "engram.conf line 1: unknown setting 'Durability'; "
                                              "did you mean 'durability'?"));
    /* The group left out. */
    CHECK(file_refused("failure_threshold = 5\n", "engram.conf line 1: unknown setting 'failure_threshold'; "
                                                  "did you mean 'breaker.failure_threshold'?"));
    CHECK(file_refused("saga.step_timeout = 5\n", "engram.conf line 1: unknown setting 'saga.step_timeout'; "
                                                  "did you mean 'saga.step_timeout_ms'?"));
    CHECK(file_refused("degrade.cache_entry = 5\n", "engram.conf line 1: unknown setting 'degrade.cache_entry'; "
                                                    "did you mean 'degrade.cache_entries'?"));
    /* Four edits away is not close. */
    CHECK(file_refused("degrade.queue_size = 5\n", "engram.conf line 1: unknown setting 'degrade.queue_size'"));
    /* Nothing close: no suggestion. */
    CHECK(file_refused("colour = blue\n", "engram.conf line 1: unknown setting 'colour'"));
    CHECK(file_refused("breaker.anything_else = 1\n", "engram.conf line 1: unknown setting 'breaker.anything_else'"));
    /* Unprintable bytes are escaped, long names cut. */
    CHECK(file_refused("caf\xc3\xa9 = 1\n", "engram.conf line 1: unknown setting 'caf\\xc3\\xa9'"));
    char line[300];
    memset(line, 'x', 200);
    snprintf(line + 200, sizeof line - 200, " = 1\n");
    CHECK(file_refused(line, "engram.conf line 1: unknown setting "
                             "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"));
}

TEST(out_of_range_values_are_refused) {
    CHECK(file_refused("\n\n\n\nbreaker.reset_timeout_ms = 0\n",
                       "engram.conf line 5: breaker.reset_timeout_ms = 0 is out of range 1..86400000"));
    CHECK(file_refused("breaker.reset_timeout_ms = 86400001\n",
                       "engram.conf line 1: breaker.reset_timeout_ms = 86400001 is out of range 1..86400000"));
    CHECK(file_refused("degrade.cache_entries = -1\n",
                       "engram.conf line 1: degrade.cache_entries = -1 is out of range 0..10000000"));
    CHECK(file_refused("breaker.half_open_max_calls = 1001\n",
                       "engram.conf line 1: breaker.half_open_max_calls = 1001 is out of range 1..1000"));
    /* Beyond 64 bits in either direction is out of range too, not "not an integer". */
    CHECK(file_refused("degrade.queue_max = 99999999999999999999999\n",
                       "engram.conf line 1: degrade.queue_max = 99999999999999999999999 is out of range "
                       "1..100000000"));
    CHECK(file_refused("degrade.queue_max = -9223372036854775809\n",
                       "engram.conf line 1: degrade.queue_max = -9223372036854775809 is out of range 1..100000000"));
    CHECK(file_refused("saga.step_timeout_ms = -0012\n",
                       "engram.conf line 1: saga.step_timeout_ms = -0012 is out of range 1..86400000"));
    CHECK(file_refused("saga.compensation_attempts = 0\n",
                       "engram.conf line 1: saga.compensation_attempts = 0 is out of range 1..100"));
    CHECK(file_refused("degrade.write_policy = drop\n",
                       "engram.conf line 1: degrade.write_policy = 'drop' must be one of fail, queue"));
    /* Words are exact and lower case. */
    CHECK(file_refused("durability = GROUP\n",
                       "engram.conf line 1: durability = 'GROUP' must be one of group, fsync, none"));
}

TEST(values_with_trailing_junk_are_refused) {
    static const char *const junk[] = {"5x", "5 0", "0x10", "1e3", "+5", "5.0", "-", "5 # five", "5ms", "five"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        char text[64], message[160];
        snprintf(text, sizeof text, "breaker.failure_threshold = %s\n", junk[i]);
        snprintf(message, sizeof message, "engram.conf line 1: breaker.failure_threshold = '%s' is not an integer",
                 junk[i]);
        CHECK(file_refused(text, message));
    }
    CHECK(file_refused("durability = group none\n",
                       "engram.conf line 1: durability = 'group none' must be one of group, fsync, none"));
}

TEST(malformed_lines_are_refused) {
    CHECK(file_refused("durability = none\n# fine\n\nsaga.step_timeout_ms = 5\n\n\nbreaker.failure_threshold 5\n",
                       "engram.conf line 7: expected name = value"));
    CHECK(file_refused(" = 5\n", "engram.conf line 1: expected name = value"));
    CHECK(file_refused("[breaker]\n", "engram.conf line 1: expected name = value"));
    CHECK(file_refused("durability =\n", "engram.conf line 1: durability has no value"));
    CHECK(file_refused("durability =   \t\r\n", "engram.conf line 1: durability has no value"));
    /* Only the first '=' splits: the value "= none" is not a word of the list. */
    CHECK(file_refused("durability == none\n",
                       "engram.conf line 1: durability = '= none' must be one of group, fsync, none"));
}

TEST(a_setting_given_twice_is_refused) {
    CHECK(file_refused("# top\nbreaker.failure_threshold = 5\ndurability = none\nbreaker.failure_threshold = 5\n",
                       "engram.conf line 4: breaker.failure_threshold is set again (first on line 2)"));
}

TEST(a_nul_byte_is_refused) {
    static const char text[] = "durability = none\nsaga.step_timeout_ms = 5\0junk\n";
    CHECK(refused(folder_with_file(text, sizeof text - 1), NULL, 0, "engram.conf line 2: contains a NUL byte"));
    static const char in_comment[] = "# a\0b\n";
    CHECK(refused(folder_with_file(in_comment, sizeof in_comment - 1), NULL, 0,
                  "engram.conf line 1: contains a NUL byte"));
}

TEST(the_file_is_limited_to_64_kib) {
    /* Exactly at the limit: a setting and then comment lines filling it up. */
    size_t cap = EG_SETTINGS_FILE_MAX + 1;
    char *text = malloc(cap + 1);
    REQUIRE(text);
    const char *head = "durability = none\n";
    size_t used = strlen(head);
    memcpy(text, head, used);
    while (used < EG_SETTINGS_FILE_MAX) {
        size_t line = EG_SETTINGS_FILE_MAX - used < 80 ? EG_SETTINGS_FILE_MAX - used : 80;
        memset(text + used, '#', line);
        text[used + line - 1] = '\n';
        used += line;
    }
    eg_settings *s = load(folder_with_file(text, EG_SETTINGS_FILE_MAX), NULL, 0);
    CHECK(s && strcmp(eg_settings_word(s, "durability"), "none") == 0);
    eg_settings_free(s);

    text[EG_SETTINGS_FILE_MAX] = '\n';
    CHECK(refused(folder_with_file(text, EG_SETTINGS_FILE_MAX + 1), NULL, 0,
                  "engram.conf is larger than 65536 bytes"));
    free(text);
}

TEST(an_unreadable_file_is_an_io_error) {
    const char *dir = test_scratch_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/" EG_SETTINGS_FILE, dir);
    REQUIRE(mkdir(path, 0755) == 0);
    eg_settings *s = NULL;
    eg_error err;
    CHECK_STATUS(eg_settings_load(dir, NULL, 0, &s, &err), EG_IO, &err);
    CHECK(!s);
    CHECK(strstr(err.message, "engram.conf") && !strstr(err.message, dir)); /* no absolute path */
}

TEST(the_override_validator) {
    eg_error err;
    CHECK_OK(eg_settings_validate_override("durability=none", &err), &err);
    CHECK_OK(eg_settings_validate_override("  breaker.failure_threshold =  1000000 ", &err), &err);
    CHECK_OK(eg_settings_validate_override("degrade.cache_entries=0", &err), &err);
    CHECK(override_refused("durability", "override 'durability': expected NAME=VALUE"));
    CHECK(override_refused("", "override '': expected NAME=VALUE"));
    CHECK(override_refused("=none", "override '=none': expected NAME=VALUE"));
    CHECK(override_refused("durabilty=none", "override: unknown setting 'durabilty'; did you mean 'durability'?"));
    CHECK(override_refused("nonsense=1", "override: unknown setting 'nonsense'"));
    CHECK(override_refused("breaker.reset_timeout_ms=0",
                           "override: breaker.reset_timeout_ms = 0 is out of range 1..86400000"));
    CHECK(override_refused("breaker.failure_threshold=5x",
                           "override: breaker.failure_threshold = '5x' is not an integer"));
    CHECK(override_refused("degrade.write_policy=", "override: degrade.write_policy has no value"));
    CHECK(override_refused("serve.bolt_user=", "override: serve.bolt_user has no value"));
    CHECK(override_refused("degrade.write_policy=Queue",
                           "override: degrade.write_policy = 'Queue' must be one of fail, queue"));
    CHECK_STATUS(eg_settings_validate_override(NULL, &err), EG_INVALID_ARGUMENT, &err);
}

TEST(the_listing) {
    const char *const overrides[] = {"degrade.write_policy=queue"};
    eg_settings *s = load(folder_with("breaker.failure_threshold = 9\n"), overrides, 1);
    REQUIRE(s);
    json_t *list;
    eg_error err;
    CHECK_OK(eg_settings_list(s, &list, &err), &err);
    REQUIRE(json_is_array(list));
    CHECK(json_array_size(list) == 45);
    static const char *const names[] = {"breaker.failure_threshold", "breaker.success_threshold",
                                        "breaker.reset_timeout_ms", "breaker.half_open_max_calls",
                                        "degrade.write_policy", "degrade.cache_entries",
                                        "degrade.queue_max", "durability",
                                        "saga.step_timeout_ms", "saga.compensation_attempts",
                                        "archive.path", "archive.retention_days",
                                        "vectors.index_threads", "graph.schema", "graph.backend", "graph.uri",
                                        "graph.user", "graph.password", "graph.database", "graph.ca_file",
                                        "graph.max_connections", "graph.acquisition_timeout_ms",
                                        "graph.max_lifetime_ms", "graph.timeout_ms", "vectors.backend", "vectors.url",
                                        "vectors.api_key", "vectors.ca_file", "vectors.timeout_ms",
                                        "vectors.batch_size", "vectors.max_concurrency",
                                        "vectors.collection_prefix", "vectors.shard_number",
                                        "vectors.replication_factor", "vectors.write_consistency_factor",
                                        "serve.http", "serve.api_key",
                                        "serve.threads", "serve.max_body_bytes", "serve.max_connections",
                                        "serve.idle_timeout_ms", "serve.bolt", "serve.bolt_user",
                                        "serve.bolt_password", "serve.bolt_tx_timeout_ms"};
    size_t i;
    json_t *entry;
    json_array_foreach(list, i, entry) {
        CHECK(json_object_size(entry) == 6);
        CHECK(i < 45 && strcmp(json_string_value(json_object_get(entry, "name")), names[i]) == 0);
        CHECK(json_is_string(json_object_get(entry, "source")));
        CHECK(json_string_length(json_object_get(entry, "description")) > 10);
        CHECK(json_is_string(json_object_get(entry, "allowed")));
    }
    char *dumped = json_dumps(json_array_get(list, 0), JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(dumped && strcmp(dumped, "{\"allowed\":\"1..1000000\",\"default\":5,\"description\":\"consecutive "
                                   "infrastructure failures that open a store's circuit breaker\",\"name\":"
                                   "\"breaker.failure_threshold\",\"source\":\"file\",\"value\":9}") == 0);
    free(dumped);
    dumped = json_dumps(json_array_get(list, 4), JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(dumped && strcmp(dumped, "{\"allowed\":\"fail|queue\",\"default\":\"fail\",\"description\":\"what a "
                                   "memory write does when a store is unavailable\",\"name\":"
                                   "\"degrade.write_policy\",\"source\":\"override\",\"value\":\"queue\"}") == 0);
    free(dumped);
    dumped = json_dumps(json_array_get(list, 10), JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(dumped && strcmp(dumped, "{\"allowed\":\"text\",\"default\":\"archive\",\"description\":\"the cold "
                                   "archive's folder: relative to the data folder, or absolute\",\"name\":"
                                   "\"archive.path\",\"source\":\"default\",\"value\":\"archive\"}") == 0);
    free(dumped);
    dumped = json_dumps(json_array_get(list, 7), JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(dumped && strcmp(dumped, "{\"allowed\":\"group|fsync|none\",\"default\":\"group\",\"description\":"
                                   "\"when an acknowledged write is on disk\",\"name\":\"durability\","
                                   "\"source\":\"default\",\"value\":\"group\"}") == 0);
    free(dumped);
    json_t *cache = json_array_get(list, 5);
    CHECK(strcmp(json_string_value(json_object_get(cache, "allowed")), "0..10000000") == 0);
    CHECK(json_integer_value(json_object_get(cache, "value")) == 1000);
    json_decref(list);
    eg_settings_free(s);
}

TEST(the_vector_backend_settings) {
    eg_settings *s = load(NULL, NULL, 0);
    REQUIRE(s);
    CHECK(strcmp(eg_settings_word(s, "vectors.backend"), "lmdb") == 0);
    CHECK(strcmp(eg_settings_text(s, "vectors.url"), "http://localhost:6333") == 0);
    CHECK(strcmp(eg_settings_text(s, "vectors.api_key"), "") == 0);
    CHECK(strcmp(eg_settings_text(s, "vectors.ca_file"), "") == 0);
    CHECK(strcmp(eg_settings_text(s, "vectors.collection_prefix"), "") == 0);
    CHECK(eg_settings_int(s, "vectors.timeout_ms") == 30000);
    CHECK(eg_settings_int(s, "vectors.batch_size") == 100);
    CHECK(eg_settings_int(s, "vectors.max_concurrency") == 10);
    CHECK(eg_settings_int(s, "vectors.shard_number") == 1);
    CHECK(eg_settings_int(s, "vectors.replication_factor") == 1);
    CHECK(eg_settings_int(s, "vectors.write_consistency_factor") == 1);
    eg_settings_free(s);
    const char *const set[] = {"vectors.backend=qdrant", "vectors.url=http://bob:s3cret@127.0.0.1:7000",
                               "vectors.api_key=key-123", "vectors.collection_prefix=ww_"};
    REQUIRE((s = load(NULL, set, 4)));
    CHECK(strcmp(eg_settings_word(s, "vectors.backend"), "qdrant") == 0);
    CHECK(strcmp(eg_settings_text(s, "vectors.collection_prefix"), "ww_") == 0);
    json_t *list;
    json_t *url = listed(s, "vectors.url", &list);
    CHECK(url && strcmp(json_string_value(json_object_get(url, "value")), "http://<credentials>@127.0.0.1:7000") == 0);
    json_decref(list);
    json_t *key = listed(s, "vectors.api_key", &list);
    CHECK(key && strcmp(json_string_value(json_object_get(key, "value")), "(set)") == 0);
    json_decref(list);
    eg_settings_free(s);
    CHECK(override_refused("vectors.backend=neo4j", "override: vectors.backend = 'neo4j' must be one of lmdb, qdrant"));
    CHECK(override_refused("vectors.batch_size=0", "override: vectors.batch_size = 0 is out of range 1..10000"));
    CHECK(override_refused("vectors.max_concurrency=257",
                           "override: vectors.max_concurrency = 257 is out of range 1..256"));
    CHECK(override_refused("vectors.timeout_ms=0", "override: vectors.timeout_ms = 0 is out of range 1..86400000"));
    CHECK(override_refused("vectors.shard_number=0", "override: vectors.shard_number = 0 is out of range 1..1024"));
}

/* Runs fn in a child process with stderr silenced; true when it died of abort(). */
static bool aborts(void (*fn)(const eg_settings *), const eg_settings *s) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        fn(s);
        _exit(0);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void get_unknown_int(const eg_settings *s) {
    eg_settings_int(s, "breaker.failur_threshold");
}

static void get_word_as_int(const eg_settings *s) {
    eg_settings_int(s, "durability");
}

static void get_int_as_word(const eg_settings *s) {
    eg_settings_word(s, "degrade.queue_max");
}

TEST(a_misspelt_name_in_code_aborts) {
    eg_settings *s = load(NULL, NULL, 0);
    REQUIRE(s);
    CHECK(aborts(get_unknown_int, s));
    CHECK(aborts(get_word_as_int, s));
    CHECK(aborts(get_int_as_word, s));
    eg_settings_free(s);
}

int main(void) {
    RUN(defaults_without_a_file);
    RUN(file_values_are_read);
    RUN(overrides_win_over_the_file);
    RUN(sources_are_tracked);
    RUN(comments_blank_lines_and_whitespace);
    RUN(unknown_settings_are_refused_with_the_closest_name);
    RUN(out_of_range_values_are_refused);
    RUN(values_with_trailing_junk_are_refused);
    RUN(malformed_lines_are_refused);
    RUN(a_setting_given_twice_is_refused);
    RUN(a_nul_byte_is_refused);
    RUN(the_file_is_limited_to_64_kib);
    RUN(an_unreadable_file_is_an_io_error);
    RUN(the_override_validator);
    RUN(the_listing);
    RUN(the_vector_backend_settings);
    RUN(a_misspelt_name_in_code_aborts);
    return test_summary();
}
