/* crash_state.h — builds, from a recorder log (recorder.h) and a cut point, a folder as a power cut at that point
 * could have left it. docs/powercut.md describes the model; in short:
 *
 *   Data: a write that completed before a sync of its file began (fsync or fdatasync, on any descriptor of the
 *   file), or that went through an O_DSYNC / O_SYNC descriptor, is on disk. Every other write before the cut is
 *   lost, survives whole, or survives torn — a random subset of its 512-byte sectors (aligned to the file) —
 *   each with probability 1/3, independently. A truncation (ftruncate, O_TRUNC) is on disk when a sync of its
 *   file followed, else kept or lost by a coin.
 *
 *   Names (create, rename, unlink, mkdir, rmdir) are journalled in order, as ext4 does: the operations before
 *   the last journal commit survive, and of those after it a random prefix. What commits the journal is the
 *   model: POWERCUT_COMMIT_ON_ANY_SYNC (ext4: an fsync or fdatasync of any file commits the running transaction,
 *   which holds every earlier name change) or POWERCUT_COMMIT_ON_FOLDER_SYNC (what POSIX promises: only an fsync of
 *   a folder makes names durable).
 *
 * The base state is the empty folder the recorded workload started from. */
#ifndef ENGRAM_TESTS_POWERCUT_CRASH_STATE_H
#define ENGRAM_TESTS_POWERCUT_CRASH_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum powercut_commit_model {
    POWERCUT_COMMIT_ON_ANY_SYNC = 0,
    POWERCUT_COMMIT_ON_FOLDER_SYNC,
} powercut_commit_model;

const char *powercut_commit_model_name(powercut_commit_model model);

/* A recorder log, read whole and resolved (which file each event acts on). */
typedef struct powercut_log powercut_log;

/* Reads the log at path; NULL (with a message on stderr) when it cannot be read or makes no sense. */
powercut_log *powercut_log_load(const char *path);
void powercut_log_free(powercut_log *log);

size_t powercut_log_size(const powercut_log *log);

/* The kind of event i (powercut_event_kind). */
unsigned powercut_log_kind(const powercut_log *log, size_t i);

/* The text of event i when it is a mark, else NULL. */
const char *powercut_log_mark(const powercut_log *log, size_t i);

/* What one build decided. */
typedef struct powercut_build_stats {
    uint64_t writes_synced, writes_lost, writes_whole, writes_torn;
    uint64_t names_committed, names_kept, names_lost; /* name operations: before the commit, after it kept, lost */
} powercut_build_stats;

/* Builds in dest (an existing empty folder) the state a power cut just before event `cut` (0..size) could leave,
 * the random choices drawn from seed. Returns false, with a message on stderr, when dest cannot be written. */
bool powercut_build(const powercut_log *log, size_t cut, uint64_t seed, powercut_commit_model model,
                    const char *dest, powercut_build_stats *stats);

#endif
