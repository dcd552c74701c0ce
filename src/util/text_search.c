/* text_search.c — case-insensitive substring search and its JSON-text pre-filter (text_search.h). */
#define _GNU_SOURCE /* memmem */
#include "util/text_search.h"
#include "util/utf8.h"

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define CODE_POINTS 0x110000u

static locale_t fold_locale;
/* foreign[cp]: some other code point folds to cp (an ASCII capital folding to its small letter does not count:
 * the pre-filter compares ASCII letters without case). */
static uint8_t foreign[CODE_POINTS / 8];
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static unsigned fold_code_point(unsigned cp) {
    if (fold_locale) return (unsigned)towlower_l((wint_t)cp, fold_locale);
    return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
}

static void fold_init(void) {
    fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    for (unsigned u = 0x80; u < CODE_POINTS; u++) {
        if (u >= 0xD800 && u <= 0xDFFF) continue;
        unsigned l = fold_code_point(u);
        if (l != u && l < CODE_POINTS) foreign[l / 8] |= (uint8_t)(1u << (l % 8));
    }
}

/* Folds into out, which has room for 2 * length bytes (a folded form is at most one byte longer than its
 * original, which is at least two); returns the bytes written. */
static size_t fold_into(const char *s, size_t length, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < length;) {
        uint32_t cp;
        size_t len = eg_utf8_decode((const unsigned char *)s + i, length - i, &cp);
        if (len == 0) {
            out[o++] = s[i++];
            continue;
        }
        o += eg_utf8_encode(fold_code_point(cp), out + o);
        i += len;
    }
    return o;
}

char *eg_text_fold(const char *s, size_t length, size_t *folded_length) {
    pthread_once(&fold_once, fold_init);
    char *out = malloc(length * 2 + 1);
    if (!out) return NULL;
    *folded_length = fold_into(s, length, out);
    out[*folded_length] = '\0';
    return out;
}

/* A code point the pre-filter can look for: written as it is in JSON text, and only itself (or its capital)
 * folds to it. */
static bool findable(unsigned cp) {
    return cp >= 0x20 && cp != '"' && cp != '\\' && cp < CODE_POINTS && !(foreign[cp / 8] & (1u << (cp % 8)));
}

bool eg_text_query_init(eg_text_query *q, const char *text, size_t length) {
    memset(q, 0, sizeof *q);
    if (!(q->folded = eg_text_fold(text, length, &q->folded_length))) return false;
    const unsigned char *f = (const unsigned char *)q->folded;
    size_t start = 0;
    for (size_t i = 0; i <= q->folded_length;) {
        uint32_t cp = 0;
        size_t len = i < q->folded_length ? eg_utf8_decode(f + i, q->folded_length - i, &cp) : 0;
        if (len && findable(cp)) {
            i += len;
            continue;
        }
        if (i - start > q->run_length) {
            q->run = q->folded + start;
            q->run_length = i - start;
        }
        i += len ? len : 1;
        start = i;
    }
    return true;
}

void eg_text_query_free(eg_text_query *q) {
    free(q->folded);
    memset(q, 0, sizeof *q);
}

bool eg_text_query_matches(const eg_text_query *q, const char *s, size_t length, bool *nomem) {
    if (q->folded_length == 0) return true;
    char small[512];
    char *folded = length * 2 + 1 <= sizeof small ? small : malloc(length * 2 + 1);
    if (!folded) {
        *nomem = true;
        return false;
    }
    size_t n = fold_into(s, length, folded);
    bool hit = memmem(folded, n, q->folded, q->folded_length) != NULL;
    if (folded != small) free(folded);
    return hit;
}

/* Whether byte b of the text can stand for byte r of the folded run: itself, or an ASCII letter's capital. */
static inline bool is_small_letter(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline bool same_byte(unsigned char b, unsigned char r) { return b == r || (is_small_letter(r) && b == r - 32); }

bool eg_text_query_may_match_json(const eg_text_query *q, const char *json_text, size_t length) {
    size_t m = q->run_length;
    if (m == 0) return true;
    if (m > length) return false;
    const unsigned char *t = (const unsigned char *)json_text, *r = (const unsigned char *)q->run;
    unsigned char first = r[0], first_capital = is_small_letter(first) ? (unsigned char)(first - 32) : first;
    for (size_t i = 0; i + m <= length; i++) {
        if (t[i] != first && t[i] != first_capital) continue;
        size_t k = 1;
        while (k < m && same_byte(t[i + k], r[k])) k++;
        if (k == m) return true;
    }
    return false;
}
