/* clock.h — the two clocks engram uses: wall time for stored timestamps, monotonic time for measuring. */
#ifndef ENGRAM_UTIL_CLOCK_H
#define ENGRAM_UTIL_CLOCK_H

#include <stdint.h>

#define EG_MS_PER_DAY 86400000.0

/* Wall-clock time in epoch milliseconds (stored in data: lastAccessed, created_at). */
int64_t eg_now_ms(void);

/* Monotonic nanoseconds (durations, timeouts; never stored). */
uint64_t eg_monotonic_ns(void);

#endif
