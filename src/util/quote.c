/* quote.c — see quote.h. */
#include "util/quote.h"

#include <stdio.h>
#include <string.h>

void eg_quote_for_message(const char *s, char *out, size_t cap) {
    size_t o = 0, i = 0;
    const size_t shown = 48;
    for (; s[i] && i < shown && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    if (s[i] && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
