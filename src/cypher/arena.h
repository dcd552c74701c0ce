/* arena.h — the one allocation of a parsed statement (cy_arena, named in ast.h): every node, string and literal
 * of a tree is carved from it, so freeing a statement, or abandoning a parse half way, is a single call. */
#ifndef ENGRAM_CYPHER_ARENA_H
#define ENGRAM_CYPHER_ARENA_H

#include "cypher/ast.h"

#include <stddef.h>

cy_arena *cy_arena_new(void);
void cy_arena_free(cy_arena *arena);

/* size zeroed bytes aligned for any type; NULL when out of memory. */
void *cy_arena_alloc(cy_arena *arena, size_t size);

/* A NUL-terminated copy of s[0..len); NULL when out of memory. */
char *cy_arena_strndup(cy_arena *arena, const char *s, size_t len);

#endif
