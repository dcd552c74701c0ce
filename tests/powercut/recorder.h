/* recorder.h — records every file-system call a process makes under one folder, for the power-cut simulation.
 *
 * The recorder is linked into the test executable itself (not LD_PRELOADed, which sanitizer builds refuse): it
 * defines open, write, pwrite, writev, fsync, rename, unlink, ... and the executable exports them, so that both
 * engram (linked statically) and liblmdb.so call them. Each forwards to the real function (the next definition:
 * the sanitizer's interceptor or the C library) and, while recording, appends an event describing the call and
 * its result — with the bytes written — to a log outside the folder. Calls on files outside the folder pass
 * through unrecorded. Marks (powercut_mark) put the workload's own events, such as an acknowledgement, in the same
 * sequence, so a cut point says exactly what had been acknowledged.
 *
 * Log format: a sequence of events, each a powercut_event_header followed by len1 then len2 bytes. */
#ifndef ENGRAM_TESTS_POWERCUT_RECORDER_H
#define ENGRAM_TESTS_POWERCUT_RECORDER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum powercut_event_kind {
    POWERCUT_OPEN = 1,  /* fd opened path1 with flags (POWERCUT_OPENED_DIRECTORY added for a folder) */
    POWERCUT_WRITE,     /* len2 bytes (the data) written to fd at offset */
    POWERCUT_TRUNCATE,  /* fd's file set to offset bytes */
    POWERCUT_FSYNC,     /* fd's file (or folder) and its metadata synced */
    POWERCUT_FDATASYNC, /* fd's file data synced (and its size) */
    POWERCUT_SYNC_RANGE,/* sync_file_range on fd: starts writeback, promises nothing after a power cut */
    POWERCUT_RENAME,    /* path1 renamed to path2 */
    POWERCUT_UNLINK,    /* path1 removed */
    POWERCUT_MKDIR,     /* folder path1 created */
    POWERCUT_RMDIR,     /* folder path1 removed */
    POWERCUT_CLOSE,     /* fd closed */
    POWERCUT_MARK,      /* the workload's text path1 */
} powercut_event_kind;

/* Added to an OPEN event's flags when the descriptor is a folder (opened with O_DIRECTORY or found to be one). */
#define POWERCUT_OPENED_DIRECTORY 0x40000000u

/* Paths are relative to the recorded folder ("" is the folder itself). */
typedef struct powercut_event_header {
    uint32_t kind;
    uint32_t flags;  /* OPEN: the open flags */
    int32_t fd;
    uint32_t len1;   /* path1 bytes, or the mark's text */
    uint64_t offset; /* WRITE: where; TRUNCATE: the new size */
    uint32_t len2;   /* path2 bytes (RENAME) or the data (WRITE) */
    uint32_t reserved;
} powercut_event_header;

/* Starts recording the calls on files under `folder` (an existing folder, absolute path) into a new log at
 * log_path (outside the folder). Returns false, with errno, when the log cannot be created. */
bool powercut_record_start(const char *folder, const char *log_path);

/* Appends a mark with the workload's text, in sequence with the file events. */
void powercut_mark(const char *text);

/* Stops recording and closes the log. */
void powercut_record_stop(void);

#endif
