/* fuzz_replay_main.c — runs a libFuzzer target (fuzz/fuzz_*.c) over files, without libFuzzer: every file of every
 * folder given, in name order, through LLVMFuzzerInitialize (when the target has one) and LLVMFuzzerTestOneInput.
 * Linked with each target into a ctest program (fuzz_<name>_replay) that replays its seed corpus and the inputs
 * that once crashed it (fuzz/regressions/<name>/), so the ordinary builds — and their sanitizers — keep every
 * finding fixed, where clang and libFuzzer are not installed too. A missing folder counts as empty. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every regular file of dir; returns how many, or -1 on a read error. */
static long replay_folder(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    size_t count = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (count == cap && !(names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names))) abort();
        if (!(names[count++] = strdup(e->d_name))) abort();
    }
    closedir(d);
    if (count > 1) qsort(names, count, sizeof *names, compare_names);
    long done = 0;
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        size_t size = 0, cap_bytes = 0, n;
        uint8_t buf[65536];
        while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) {
            if (size + n > cap_bytes && !(data = realloc(data, cap_bytes = (size + n) * 2))) abort();
            memcpy(data + size, buf, n);
            size += n;
        }
        if (!f) {
            fprintf(stderr, "cannot read %s\n", path);
            done = -1;
        } else {
            fclose(f);
            LLVMFuzzerTestOneInput(data ? data : (const uint8_t *)"", size);
            if (done >= 0) done++;
        }
        free(data);
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    long total = 0;
    for (int i = 1; i < argc; i++) {
        long n = replay_folder(argv[i]);
        if (n < 0) return 1;
        printf("%s: %ld inputs\n", argv[i], n);
        total += n;
    }
    printf("%ld inputs replayed, none crashed\n", total);
    return 0;
}
