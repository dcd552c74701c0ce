/* sanitize.c — removing absolute paths and URI credentials from messages (see sanitize.h).
 *
 * One pass, left to right. At each position a URI's "://" is looked for first, so that its two slashes are
 * never taken for the start of a path; then a path start; otherwise the character is copied. */
#include "util/sanitize.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#define PATH_PLACEHOLDER "<path>"
#define CREDENTIALS_PLACEHOLDER "<credentials>"

typedef struct writer {
    char *out;
    size_t cap, len; /* len < cap always: room is kept for the terminating NUL */
} writer;

static void put(writer *w, const char *s, size_t n) {
    size_t room = w->cap - 1 - w->len;
    if (n > room) n = room;
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

static bool is_name_char(char c) {
    return isalnum((unsigned char)c) || (c && strchr("._-~+@%", c));
}

/* A character after which a '/' begins a path rather than continuing a word. */
static bool is_boundary(char c) {
    return isspace((unsigned char)c) || strchr("'\"`([{<=,:;", c);
}

static bool is_scheme_char(char c) {
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

/* When "://" starts at p (inside a scheme that began at or after start), the length of the user information
 * that follows it up to and including '@' (0 when there is none, i.e. no '@' before the host ends). */
static size_t credentials_length(const char *start, const char *p) {
    if (strncmp(p, "://", 3) != 0 || p == start || !is_scheme_char(p[-1])) return 0;
    const char *q = p + 3;
    while (*q && *q != '@' && *q != '/' && *q != '?' && *q != '#' && !isspace((unsigned char)*q)) q++;
    return *q == '@' && q > p + 3 ? (size_t)(q + 1 - (p + 3)) : 0;
}

/* True when p comes right after a "://": the path of a "file:///etc/x" URI is as absolute as any other. */
static bool follows_scheme(const char *start, const char *p) {
    return p - start >= 3 && strncmp(p - 3, "://", 3) == 0;
}

void eg_sanitize_message(const char *message, char *out, size_t cap) {
    if (!out || cap == 0) return;
    writer w = {out, cap, 0};
    const char *start = message ? message : "", *p = start;
    while (*p) {
        if (strncmp(p, "://", 3) == 0) {
            size_t userinfo = credentials_length(start, p);
            put(&w, p, 3);
            p += 3;
            if (userinfo) {
                put(&w, CREDENTIALS_PLACEHOLDER "@", strlen(CREDENTIALS_PLACEHOLDER) + 1);
                p += userinfo;
            }
            continue;
        }
        if (*p == '/' && is_name_char(p[1]) && (p == start || is_boundary(p[-1]) || follows_scheme(start, p))) {
            put(&w, PATH_PLACEHOLDER, strlen(PATH_PLACEHOLDER));
            while (*p == '/' || is_name_char(*p)) p++;
            continue;
        }
        put(&w, p, 1);
        p++;
    }
    out[w.len] = '\0';
}
