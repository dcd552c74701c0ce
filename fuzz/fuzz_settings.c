/* fuzz_settings.c — the settings file DATA/engram.conf and the `--set NAME=VALUE` overrides (src/db/settings.c).
 *
 * Each input is used three ways:
 *   1. written whole as <scratch>/engram.conf (fuzz_scratch.h: a folder made once, removed at exit) and loaded with eg_settings_load(scratch, ...) twice: with no overrides, then with a few
 *      fixed valid overrides (which must not excuse a bad file). On success every setting is read back through
 *      eg_settings_list and the typed getters, and the result freed;
 *   2. taken as one NUL-terminated string (cut at its first NUL byte) and checked with
 *      eg_settings_validate_override;
 *   3. split at newlines into at most 16 overrides for eg_settings_load(NULL, ...), which must agree with
 *      eg_settings_validate_override on each of them.
 * The file is rewritten by every input, so no input depends on what an earlier one left behind. */
#define _GNU_SOURCE /* fuzz_scratch.h: nftw, mkdtemp */
#include <engram/settings.h>

#include "fuzz_scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char conf_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(conf_path, sizeof conf_path, "%s/%s", fuzz_scratch("settings"), EG_SETTINGS_FILE);
    return 0;
}

static const char *const int_names[] = {
    "breaker.failure_threshold", "breaker.success_threshold", "breaker.reset_timeout_ms",
    "breaker.half_open_max_calls", "degrade.cache_entries", "degrade.queue_max", "saga.step_timeout_ms",
    "saga.compensation_attempts", "archive.retention_days", "vectors.index_threads",
};
static const char *const word_names[] = {"degrade.write_policy", "durability"};

/* Reads every setting of a loaded s, so that a value stored wrongly (out of range, dangling) shows up here. */
static void read_back(const eg_settings *s) {
    for (size_t i = 0; i < sizeof int_names / sizeof int_names[0]; i++) (void)eg_settings_int(s, int_names[i]);
    for (size_t i = 0; i < sizeof word_names / sizeof word_names[0]; i++)
        if (!eg_settings_word(s, word_names[i])) abort();
    const char *path = eg_settings_text(s, "archive.path");
    if (!path) abort();
    (void)strlen(path);
    json_t *list = NULL;
    if (eg_settings_list(s, &list, NULL) == EG_OK) {
        char *text = json_dumps(list, JSON_COMPACT);
        free(text);
        json_decref(list);
    }
}

static void load_file(const char *const *overrides, size_t count) {
    eg_settings *s = NULL;
    eg_error err;
    if (eg_settings_load(fuzz_scratch_path, overrides, count, &s, &err) == EG_OK) {
        read_back(s);
        eg_settings_free(s);
    } else if (s) {
        abort(); /* *out must stay untouched on failure */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* 1. The bytes as DATA/engram.conf. */
    FILE *f = fopen(conf_path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f) != 0) abort();
    load_file(NULL, 0);
    static const char *const fixed[] = {"durability=none", " breaker.failure_threshold = 7 ", "archive.path=cold"};
    load_file(fixed, sizeof fixed / sizeof fixed[0]);

    /* 2. The bytes as one override. */
    char *text = malloc(size + 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    text[size] = '\0';
    eg_error err;
    (void)eg_settings_validate_override(text, &err);

    /* 3. Each line as an override; loading them must fail exactly when one of them is refused on its own. */
    const char *lines[16];
    size_t count = 0;
    int all_valid = 1;
    char *p = text;
    while (count < sizeof lines / sizeof lines[0]) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        lines[count++] = p;
        if (eg_settings_validate_override(p, &err) != EG_OK) all_valid = 0;
        if (!nl) break;
        p = nl + 1;
    }
    eg_settings *s = NULL;
    eg_status st = eg_settings_load(NULL, lines, count, &s, &err);
    if ((st == EG_OK) != all_valid) abort();
    if (st == EG_OK) {
        read_back(s);
        eg_settings_free(s);
    }
    free(text);
    return 0;
}
