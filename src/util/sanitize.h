/* sanitize.h — making an error message safe to keep: messages from a store (or from a layer below engram) may
 * name absolute file paths or carry credentials inside URIs, and status.h promises that nothing engram shows or
 * keeps (stats, logs, exec results) does. */
#ifndef ENGRAM_UTIL_SANITIZE_H
#define ENGRAM_UTIL_SANITIZE_H

#include <stddef.h>

/* Copies message into out (cap bytes, always NUL-terminated when cap > 0; a longer result is cut), replacing
 *   - every absolute path with "<path>": a '/' followed by a file-name character (letter, digit, '.', '_', '-',
 *     '~', '+', '@', '%'), at the start of the message, after a character that cannot end a word (space, quote,
 *     bracket, '=', ',', ':', ';') or right after the "://" of a URI, up to the next character that is neither a
 *     file-name character nor '/'. A slash inside a word ("and/or", "3/4", "data/graph") starts no path and
 *     is kept;
 *   - the user information of every URI, "SCHEME://USER:PASSWORD@" or "SCHEME://TOKEN@", with
 *     "SCHEME://<credentials>@"; the rest of the URI (host, path) is kept.
 * message NULL reads as "". out and message must not overlap. */
void eg_sanitize_message(const char *message, char *out, size_t cap);

#endif
