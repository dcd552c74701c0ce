/* progress.h — the progress of a long command on stderr (`archive run`, `import-mcp-memory`). On a terminal, one
 * bar redrawn in place, at most every 100 ms (the last state always); elsewhere (a log file, a pipe) a redrawn
 * line would be one unreadable line of carriage returns, so plain lines instead — one per 10% or per 1000 items,
 * whichever comes first, and the last — or nothing, as the command chooses. */
#ifndef ENGRAM_CLI_PROGRESS_H
#define ENGRAM_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_progress {
    const char *verb; /* "archiving" */
    const char *unit; /* after the counts on the bar: "" or " lines" */
    bool tty;
    bool plain_lines; /* not a terminal: print plain lines (else nothing) */
    bool drawn;       /* tty: the bar is on screen (it needs a newline at the end) */
    uint64_t drawn_at_ns;
    uint64_t next_line; /* plain lines: the count at which the next one is due */
} cli_progress;

cli_progress cli_progress_start(const char *verb, const char *unit, bool plain_lines);
/* done of total items (1 <= done <= total; a total of 0 shows nothing). */
void cli_progress_show(cli_progress *p, uint64_t done, uint64_t total);
/* Ends the bar's line, if one was drawn. */
void cli_progress_end(cli_progress *p);

#endif
