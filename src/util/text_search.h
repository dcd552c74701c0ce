/* text_search.h — case-insensitive substring search, and a safe pre-filter over the JSON text that holds the
 * strings searched.
 *
 * Case is folded code point by code point with the C.UTF-8 locale's simple lower-case mappings (those of
 * JavaScript's toLowerCase for all but the few characters whose full mapping is longer; without that locale,
 * ASCII only). Bytes that are not UTF-8 are compared as they are. Strings are counted, so a NUL is a character.
 *
 * The pre-filter lets a scan skip a stored record without parsing it: it answers false only when no string in
 * the record's JSON text (as engram writes it, util/json_text.h: only '"', '\' and bytes below 0x20 escaped) can
 * contain the query. It looks for the longest run of the query's code points that only themselves (or, for an
 * ASCII letter, its capital) fold to; a query with no such run passes every record. */
#ifndef ENGRAM_UTIL_TEXT_SEARCH_H
#define ENGRAM_UTIL_TEXT_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct eg_text_query {
    char *folded; /* the query, case folded */
    size_t folded_length;
    const char *run; /* within folded: the longest part the pre-filter can look for; run_length 0 for none */
    size_t run_length;
} eg_text_query;

/* Prepares a query; false when memory runs out. An empty query matches every string. */
bool eg_text_query_init(eg_text_query *q, const char *text, size_t length);
void eg_text_query_free(eg_text_query *q);

/* Whether s (length bytes) contains the query, case-insensitively. *nomem is set when memory runs out (and false
 * is returned). */
bool eg_text_query_matches(const eg_text_query *q, const char *s, size_t length, bool *nomem);

/* False only when no string of this JSON text can contain the query (see the top of this file). */
bool eg_text_query_may_match_json(const eg_text_query *q, const char *json_text, size_t length);

/* s case folded (malloc'd, NUL-terminated, *folded_length bytes before the NUL); NULL when memory runs out. */
char *eg_text_fold(const char *s, size_t length, size_t *folded_length);

#endif
