/* u64map.h — a small open-addressing hash map from non-zero u64 keys to u64 values (0 is the empty key).
 * Used where a search needs a visited set with a payload per key (find_path's parents). Not thread-safe. */
#ifndef ENGRAM_UTIL_U64MAP_H
#define ENGRAM_UTIL_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct eg_u64map {
    uint64_t *keys;
    uint64_t *values;
    size_t mask;  /* capacity - 1; capacity is a power of two */
    size_t count;
} eg_u64map;

bool eg_u64map_init(eg_u64map *m, size_t expected);
void eg_u64map_free(eg_u64map *m);

/* Inserts key -> value if key is absent. Returns 1 if inserted, 0 if present (value untouched), -1 on no memory. */
int eg_u64map_insert(eg_u64map *m, uint64_t key, uint64_t value);

/* Looks key up; returns true and sets *value when present. */
bool eg_u64map_get(const eg_u64map *m, uint64_t key, uint64_t *value);

#endif
