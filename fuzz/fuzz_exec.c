/* fuzz_exec.c — `engram exec`: JSON request lines through decoding, argument validation and execution
 * (eg_exec_json in src/exec/exec.c, then every operation of src/exec/ops_*.c into the stores).
 *
 * The input is what `engram exec` reads on stdin, handled as cmd/engram/main.c (run_exec) does: split at '\n',
 * trailing '\r' and '\n' removed, lines of only spaces and tabs skipped, every other line given to eg_exec_json
 * (at most 32 lines per input, so that one input can create something and then read, update or delete it).
 * Every response must be a JSON object with a boolean "ok"; it is parsed back and freed.
 *
 * All inputs run against one data folder, created once by LLVMFuzzerInitialize (fuzz_scratch.h)
 * and opened with durability none for speed. What one input writes is seen by later ones, as in a long-running
 * `engram exec`; each input is still valid alone, since every request is checked against whatever the folder
 * holds. Fault injection stays off (ENGRAM_ALLOW_FAULTS is removed from the environment before eg_open), so
 * `set_faults` is only ever refused. */
#define _GNU_SOURCE /* fuzz_scratch.h: nftw, mkdtemp */
#include <engram/engram.h>
#include <engram/exec.h>

#include "fuzz_scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 32

static eg_db *db;

static void close_db(void) {
    eg_close(db);
    db = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    static char data_dir[4200];
    snprintf(data_dir, sizeof data_dir, "%s/data", fuzz_scratch("exec")); /* removed at exit, after close_db */
    unsetenv("ENGRAM_ALLOW_FAULTS");
    unsetenv("ENGRAM_FAULTS");
    eg_options options = {.durability = EG_DURABILITY_NONE};
    eg_error err;
    if (eg_open(data_dir, &options, &db, &err) != EG_OK) {
        fprintf(stderr, "fuzz_exec: eg_open: %s\n", err.message);
        abort();
    }
    atexit(close_db); /* saves the indexes and frees everything, so the leak check sees a clean exit */
    return 0;
}

static void run_line(const char *line, size_t length) {
    char *response = eg_exec_json(db, line, length);
    if (!response) return; /* out of memory */
    json_error_t jerr;
    json_t *parsed = json_loads(response, 0, &jerr);
    if (!parsed || !json_is_object(parsed) || !json_is_boolean(json_object_get(parsed, "ok"))) {
        fprintf(stderr, "fuzz_exec: response is not {\"ok\": bool, ...}: %s\n", response);
        abort();
    }
    json_decref(parsed);
    free(response);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!db) LLVMFuzzerInitialize(NULL, NULL);
    const char *text = (const char *)data;
    size_t start = 0;
    int lines = 0;
    while (start < size && lines < MAX_LINES) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - text) : size;
        size_t len = end - start;
        while (len > 0 && (text[start + len - 1] == '\n' || text[start + len - 1] == '\r')) len--;
        size_t blank = 0;
        while (blank < len && (text[start + blank] == ' ' || text[start + blank] == '\t')) blank++;
        /* As run_exec: a NUL byte ends the blank check (strspn) but the line is passed whole. */
        if (blank < len) {
            run_line(text + start, len);
            lines++;
        }
        start = end + 1;
    }
    return 0;
}
