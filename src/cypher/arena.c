/* arena.c — a bump allocator over a list of blocks. Blocks double in size up to a cap, so a small statement
 * costs one small block and a 1 MiB one a handful; an allocation larger than the cap gets a block of its own. */
#include "cypher/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_BLOCK_BYTES ((size_t)4096)
#define LARGEST_BLOCK_BYTES ((size_t)1 << 20)

typedef struct arena_block {
    struct arena_block *previous;
    size_t used, capacity;
    alignas(max_align_t) unsigned char data[];
} arena_block;

struct cy_arena {
    arena_block *current;
    size_t next_capacity;
};

cy_arena *cy_arena_new(void) {
    cy_arena *arena = calloc(1, sizeof *arena);
    if (arena != NULL) arena->next_capacity = FIRST_BLOCK_BYTES;
    return arena;
}

void cy_arena_free(cy_arena *arena) {
    if (arena == NULL) return;
    for (arena_block *b = arena->current; b != NULL;) {
        arena_block *previous = b->previous;
        free(b);
        b = previous;
    }
    free(arena);
}

void *cy_arena_alloc(cy_arena *arena, size_t size) {
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX / 2) return NULL;
    size_t rounded = (size + align - 1) / align * align;
    if (rounded == 0) rounded = align;
    arena_block *b = arena->current;
    if (b == NULL || b->capacity - b->used < rounded) {
        size_t capacity = arena->next_capacity;
        if (capacity < rounded) capacity = rounded;
        b = malloc(sizeof *b + capacity);
        if (b == NULL) return NULL;
        b->previous = arena->current;
        b->used = 0;
        b->capacity = capacity;
        arena->current = b;
        if (arena->next_capacity < LARGEST_BLOCK_BYTES) arena->next_capacity *= 2;
    }
    void *p = b->data + b->used;
    b->used += rounded;
    memset(p, 0, rounded);
    return p;
}

char *cy_arena_strndup(cy_arena *arena, const char *s, size_t len) {
    char *copy = cy_arena_alloc(arena, len + 1);
    if (copy == NULL) return NULL;
    if (len > 0) memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}
