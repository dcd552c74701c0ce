/* progress.c — see progress.h. */
#include "progress.h"
#include "util/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_NS 100000000u

cli_progress cli_progress_start(const char *verb, const char *unit, bool plain_lines) {
    return (cli_progress){.verb = verb, .unit = unit, .tty = isatty(STDERR_FILENO) == 1, .plain_lines = plain_lines};
}

void cli_progress_show(cli_progress *p, uint64_t done, uint64_t total) {
    if (total == 0) return;
    if (p->tty) {
        uint64_t now = eg_monotonic_ns();
        if (p->drawn && done < total && now - p->drawn_at_ns < REDRAW_NS) return;
        char bar[BAR_WIDTH + 1];
        size_t filled = (size_t)(done * BAR_WIDTH / total);
        memset(bar, '#', filled);
        memset(bar + filled, '.', BAR_WIDTH - filled);
        bar[BAR_WIDTH] = '\0';
        fprintf(stderr, "\r%s [%s] %" PRIu64 "/%" PRIu64 "%s", p->verb, bar, done, total, p->unit);
        fflush(stderr);
        p->drawn = true;
        p->drawn_at_ns = now;
        return;
    }
    if (!p->plain_lines || (done < p->next_line && done < total)) return;
    uint64_t step = (total + 9) / 10;
    if (step > 1000) step = 1000;
    fprintf(stderr, "%s: %" PRIu64 "/%" PRIu64 " (%" PRIu64 "%%)\n", p->verb, done, total, done * 100 / total);
    p->next_line = (done / step + 1) * step;
}

void cli_progress_end(cli_progress *p) {
    if (p->drawn) fputc('\n', stderr);
}
