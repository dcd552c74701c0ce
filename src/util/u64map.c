/* u64map.c — linear-probing hash map (see u64map.h). Kept at most half full so probes stay short. */
#include "util/u64map.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t mask) {
    key ^= key >> 33; /* murmur3 finalizer: spreads sequential node numbers */
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & mask;
}

bool eg_u64map_init(eg_u64map *m, size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    m->keys = calloc(cap, sizeof *m->keys);
    m->values = malloc(cap * sizeof *m->values);
    m->mask = cap - 1;
    m->count = 0;
    if (!m->keys || !m->values) {
        eg_u64map_free(m);
        return false;
    }
    return true;
}

void eg_u64map_free(eg_u64map *m) {
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->count = 0;
}

static bool grow(eg_u64map *m) {
    eg_u64map bigger;
    if (!eg_u64map_init(&bigger, (m->mask + 1))) return false;
    for (size_t i = 0; i <= m->mask; i++)
        if (m->keys[i]) eg_u64map_insert(&bigger, m->keys[i], m->values[i]);
    eg_u64map_free(m);
    *m = bigger;
    return true;
}

int eg_u64map_insert(eg_u64map *m, uint64_t key, uint64_t value) {
    if ((m->count + 1) * 2 > m->mask + 1 && !grow(m)) return -1;
    for (size_t i = slot_of(key, m->mask);; i = (i + 1) & m->mask) {
        if (m->keys[i] == key) return 0;
        if (m->keys[i] == 0) {
            m->keys[i] = key;
            m->values[i] = value;
            m->count++;
            return 1;
        }
    }
}

bool eg_u64map_get(const eg_u64map *m, uint64_t key, uint64_t *value) {
    for (size_t i = slot_of(key, m->mask);; i = (i + 1) & m->mask) {
        if (m->keys[i] == key) {
            if (value) *value = m->values[i];
            return true;
        }
        if (m->keys[i] == 0) return false;
    }
}
