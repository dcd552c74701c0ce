/* fuzz_scratch.h — the scratch folder of a fuzz target: made once per process, under $TMPDIR, else /dev/shm (so
 * that the stores' fsyncs cost nothing), else /tmp, and removed with everything in it when the process exits.
 * Shared by the targets that need files; include it after defining _GNU_SOURCE (nftw, mkdtemp). Single-threaded,
 * like libFuzzer's calls. */
#ifndef ENGRAM_FUZZ_SCRATCH_H
#define ENGRAM_FUZZ_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_scratch_path[4096];

static int fuzz_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Removes path and everything below it, following no link. */
static void fuzz_remove_tree(const char *path) { nftw(path, fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS); }

static void fuzz_remove_scratch(void) {
    if (fuzz_scratch_path[0]) fuzz_remove_tree(fuzz_scratch_path);
}

/* The scratch folder of target `name` (made on the first call); aborts when none can be made. */
static const char *fuzz_scratch(const char *name) {
    if (fuzz_scratch_path[0]) return fuzz_scratch_path;
    const char *base = getenv("TMPDIR");
    struct stat info;
    if (!base || !*base)
        base = stat("/dev/shm", &info) == 0 && S_ISDIR(info.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                                                                     : "/tmp";
    snprintf(fuzz_scratch_path, sizeof fuzz_scratch_path, "%s/engram-fuzz-%s-XXXXXX", base, name);
    if (!mkdtemp(fuzz_scratch_path)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_remove_scratch);
    return fuzz_scratch_path;
}

#endif
