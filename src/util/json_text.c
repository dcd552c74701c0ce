/* json_text.c — engram's JSON text (see json_text.h): the shortest decimal for every real, and the one encoder
 * that writes all of engram's JSON so that every real goes through it. */
#include "util/json_text.h"

#include <engram/exec.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shortest decimals ------------------------------------------------------------------------------------------ */

/* A decimal: its significant digits (render drops trailing zeros) and the power of ten of the first one. */
typedef struct {
    char digits[20];
    int count;
    int exponent;
} decimal;

/* |v| to 17 significant digits (printf rounds correctly), enough to tell every double apart. */
static void seventeen_digits(double v, decimal *out) {
    char text[EG_NUMBER_TEXT_MAX];
    snprintf(text, sizeof text, "%.16e", fabs(v));
    out->count = 0;
    const char *c = text;
    for (; *c != 'e'; c++)
        if (*c >= '0' && *c <= '9') out->digits[out->count++] = *c; /* whatever the locale's decimal point */
    out->exponent = atoi(c + 1);
}

/* The next p-digit decimal above d in magnitude (d has p digits, trailing zeros included). */
static void next_decimal(decimal *d) {
    int i = d->count - 1;
    for (; i >= 0 && d->digits[i] == '9'; i--) d->digits[i] = '0';
    if (i >= 0) {
        d->digits[i]++;
    } else {
        d->digits[0] = '1'; /* 9.99e4 -> 1.00e5 */
        d->exponent++;
    }
}

/* d as JSON text, like Python's repr (which the original system's archives use): fixed notation for exponents
 * -4..15, else d.ddde[-]x; a '.' or an 'e' always, so that a reader sees a real. */
static int render(bool negative, decimal d, char out[EG_NUMBER_TEXT_MAX]) {
    while (d.count > 1 && d.digits[d.count - 1] == '0') d.count--;
    char *o = out;
    if (negative) *o++ = '-';
    if (d.exponent < -4 || d.exponent > 15) {
        *o++ = d.digits[0];
        if (d.count > 1) {
            *o++ = '.';
            memcpy(o, d.digits + 1, (size_t)d.count - 1);
            o += d.count - 1;
        }
        o += sprintf(o, "e%d", d.exponent);
    } else if (d.exponent < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > d.exponent; i--) *o++ = '0';
        memcpy(o, d.digits, (size_t)d.count);
        o += d.count;
        *o = '\0';
    } else {
        for (int i = 0; i <= d.exponent; i++) *o++ = i < d.count ? d.digits[i] : '0';
        *o++ = '.';
        if (d.count > d.exponent + 1) {
            memcpy(o, d.digits + d.exponent + 1, (size_t)(d.count - d.exponent - 1));
            o += d.count - d.exponent - 1;
        } else {
            *o++ = '0';
        }
        *o = '\0';
    }
    return (int)(o - out);
}

/* Whether the double a reader gets from a text (strtod's value) gives back the target. */
typedef bool (*reads_back_fn)(double read, const void *target);

/* Whether a p-digit decimal reads back as the target; if so, it is in out. Only the two p-digit decimals around
 * the value can: any other one lies beyond one of them, and what reads back is an interval around the value. all
 * holds the value's 17 digits; cut to p they give the one below (or, when rounding to 17 digits carried into
 * them, the one above, which is then as close as 17 digits and reads back), and the next one up is the other.
 * The nearer is tried first, so that of two that read back the text is the nearer. */
static bool try_digits(const decimal *all, int p, bool negative, reads_back_fn reads_back, const void *target,
                       char out[EG_NUMBER_TEXT_MAX]) {
    bool up_first = all->digits[p] >= '5';
    for (int i = 0; i < 2; i++) {
        decimal d = *all;
        d.count = p;
        if (up_first == (i == 0)) next_decimal(&d);
        render(negative, d, out);
        if (reads_back(strtod(out, NULL), target)) return true;
    }
    return false;
}

/* The shortest text that reads back as the target, through printf and strtod, knowing that no decimal of fewer
 * than `low` digits does. If some p-digit decimal reads back, so does some decimal with more digits (p-digit
 * decimals are among them), so a binary search over low..17 digits finds the fewest; the 17 digits printf gives
 * always read back a double, and a float too. */
static int shortest_by_text(double v, int low, reads_back_fn reads_back, const void *target,
                            char out[EG_NUMBER_TEXT_MAX]) {
    decimal all;
    seventeen_digits(v, &all);
    char found[EG_NUMBER_TEXT_MAX];
    render(signbit(v), all, found);
    int high = 17;
    while (low < high) {
        int mid = (low + high) / 2;
        if (try_digits(&all, mid, signbit(v), reads_back, target, out)) {
            high = mid;
            memcpy(found, out, sizeof found);
        } else {
            low = mid + 1;
        }
    }
    memcpy(out, found, sizeof found);
    return (int)strlen(out);
}

/* The powers of ten a double holds exactly. */
static const double powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
#define EXACT_POWER_MAX 22
#define EXACT_INTEGER_MAX 9007199254740991.0 /* 2^53 - 1 */

/* The same in double arithmetic alone, for values whose shortest decimal is n * 10^-k with n below 2^53 and |k|
 * at most 22 — every float32 from about 1e-13 to 1e22, and doubles of up to 15 digits there. Then n and 10^k are
 * exact doubles and n / 10^k (n * 10^-k) is rounded once, exactly as strtod rounds the decimal, so a candidate is
 * checked without text. At a given k the decimals to try are the two multiples of 10^-k around the value;
 * |v| * 10^k is off by far less than 0.5 from the exact product, so they are among the three integers nearest it.
 * As with digits, if one reads back at k, one does at every finer k: a binary search finds the coarsest. Returns
 * 0 when the value is not in that range, -1 when it needs more than 15 digits. */
typedef struct {
    double magnitude;
    bool negative;
    reads_back_fn reads_back;
    const void *target;
} scale_search;

/* The multiple n of 10^-k that reads back, nearest first; 0 for none. */
static double try_scale(const scale_search *s, int k, double *read) {
    double scaled = k >= 0 ? s->magnitude * powers_of_ten[k] : s->magnitude / powers_of_ten[-k];
    double nearest = nearbyint(scaled), other = scaled >= nearest ? nearest + 1 : nearest - 1;
    const double tries[3] = {nearest, other, 2 * nearest - other};
    for (int i = 0; i < 3; i++) {
        if (tries[i] < 1) continue;
        double r = k >= 0 ? tries[i] / powers_of_ten[k] : tries[i] * powers_of_ten[-k];
        *read = s->negative ? -r : r;
        if (s->reads_back(*read, s->target)) return tries[i];
    }
    return 0;
}

static int shortest_by_arithmetic(double v, reads_back_fn reads_back, const void *target, double *read,
                                  char out[EG_NUMBER_TEXT_MAX]) {
    scale_search s = {fabs(v), signbit(v), reads_back, target};
    /* The finest k keeps n below 2^53 (and within the exact powers); the coarsest is two steps coarser than
     * log10 says, since log10 may be off by one and rounding up may add a digit in front. */
    int coarse = -(int)floor(log10(s.magnitude)) - 2, fine = coarse + 18;
    while (fine >= -EXACT_POWER_MAX && fine > coarse &&
           (fine > EXACT_POWER_MAX || (fine >= 0 ? s.magnitude * powers_of_ten[fine]
                                                 : s.magnitude / powers_of_ten[-fine]) >= EXACT_INTEGER_MAX - 1))
        fine--;
    if (coarse < -EXACT_POWER_MAX || fine <= coarse) return 0;
    double n = try_scale(&s, fine, read), found_read = *read;
    /* Below the exact powers' end, fine stopped where n would pass 2^53: at least 15 digits are needed. */
    if (n == 0) return fine < EXACT_POWER_MAX ? -1 : 0;
    int found_k = fine;
    while (coarse < fine) {
        int mid = coarse + (fine - coarse) / 2;
        double m = try_scale(&s, mid, read);
        if (m != 0) {
            n = m, found_k = fine = mid, found_read = *read;
        } else {
            coarse = mid + 1;
        }
    }
    *read = found_read;
    decimal d = {.count = 0};
    char reversed[20];
    for (uint64_t digits = (uint64_t)n; digits; digits /= 10) reversed[d.count++] = (char)('0' + digits % 10);
    for (int j = 0; j < d.count; j++) d.digits[j] = reversed[d.count - 1 - j];
    d.exponent = d.count - 1 - found_k;
    return render(s.negative, d, out);
}

/* The shortest text, and in *read the double it reads back as. */
static int shortest(double v, reads_back_fn reads_back, const void *target, double *read,
                    char out[EG_NUMBER_TEXT_MAX]) {
    *read = v;
    if (v == 0) return render(signbit(v), (decimal){.digits = "0", .count = 1, .exponent = 0}, out);
    int length = shortest_by_arithmetic(v, reads_back, target, read, out);
    if (length > 0) return length;
    length = shortest_by_text(v, length < 0 ? 15 : 1, reads_back, target, out);
    *read = strtod(out, NULL);
    return length;
}

/* Bits are compared, not values, so that -0.0 does not pass for 0.0. */
static bool double_reads_back(double read, const void *target) {
    return memcmp(&read, target, sizeof read) == 0;
}

/* Read as JSON readers read a float32 (jansson and engram included): as a double, then narrowed. The same text
 * read by strtof gives the same float (tests/test_json_text.c checks it over random floats and the edge cases). */
static bool float_reads_back(double read, const void *target) {
    float f = (float)read;
    return memcmp(&f, target, sizeof f) == 0;
}

int eg_double_text(double d, char out[EG_NUMBER_TEXT_MAX]) {
    double read;
    return shortest(d, double_reads_back, &d, &read, out);
}

int eg_float_text(float f, char out[EG_NUMBER_TEXT_MAX]) {
    double read;
    return shortest(f, float_reads_back, &f, &read, out);
}

double eg_float_as_double(float f) {
    char text[EG_NUMBER_TEXT_MAX];
    double read;
    shortest(f, float_reads_back, &f, &read, text);
    return read;
}

json_t *eg_json_float(float f) {
    return isfinite(f) ? json_real(eg_float_as_double(f)) : NULL;
}

/* ---- the encoder ------------------------------------------------------------------------------------------------ */

/* It lays text out as json_dumps does, for the flags engram uses (JSON_COMPACT, JSON_INDENT(n), JSON_SORT_KEYS;
 * any value may be the top one), so that only the reals differ. */

typedef struct {
    char *data;
    size_t length, capacity;
    bool failed;
} text;

static void put(text *t, const char *s, size_t n) {
    if (t->failed) return;
    if (t->length + n + 1 > t->capacity) {
        size_t capacity = t->capacity ? t->capacity : 256;
        while (t->length + n + 1 > capacity) capacity *= 2;
        char *grown = realloc(t->data, capacity);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->data = grown;
        t->capacity = capacity;
    }
    memcpy(t->data + t->length, s, n);
    t->length += n;
    t->data[t->length] = '\0';
}

static void put_string(text *t, const char *s, size_t n) {
    put(t, "\"", 1);
    size_t run = 0; /* characters copied as they are, waiting to be put */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *escape = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                           : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (!escape && c >= 0x20) continue;
        put(t, s + run, i - run);
        run = i + 1;
        if (escape) {
            put(t, escape, 2);
        } else {
            char code[7];
            snprintf(code, sizeof code, "\\u%04X", c);
            put(t, code, 6);
        }
    }
    put(t, s + run, n - run);
    put(t, "\"", 1);
}

/* Between members: a new line and the indentation, or (compact or not indented) nothing or one space. */
static void put_break(text *t, size_t flags, size_t depth, bool after_comma) {
    size_t indent = flags & 0x1F;
    if (indent) {
        put(t, "\n", 1);
        for (size_t i = 0; i < depth * indent; i++) put(t, " ", 1);
    } else if (after_comma && !(flags & JSON_COMPACT)) {
        put(t, " ", 1);
    }
}

/* After a member of a container at depth: a comma and a break, or for the last one the break before the
 * closing bracket. */
static void put_separator(text *t, size_t flags, size_t depth, bool last) {
    if (last) {
        put_break(t, flags, depth, false);
        return;
    }
    put(t, ",", 1);
    put_break(t, flags, depth + 1, true);
}

typedef struct {
    const char *key;
    size_t length;
    json_t *value;
} member;

static int member_order(const void *a, const void *b) {
    const member *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->length < y->length ? x->length : y->length);
    return c ? c : (x->length > y->length) - (x->length < y->length);
}

static void put_value(text *t, const json_t *v, size_t flags, size_t depth);

static void put_object(text *t, const json_t *v, size_t flags, size_t depth) {
    size_t n = json_object_size(v);
    if (!n) {
        put(t, "{}", 2);
        return;
    }
    member *members = malloc(n * sizeof *members);
    if (!members) {
        t->failed = true;
        return;
    }
    size_t i = 0;
    for (void *it = json_object_iter((json_t *)v); it && i < n; it = json_object_iter_next((json_t *)v, it), i++)
        members[i] = (member){json_object_iter_key(it), json_object_iter_key_len(it), json_object_iter_value(it)};
    if (flags & JSON_SORT_KEYS) qsort(members, n, sizeof *members, member_order);
    put(t, "{", 1);
    put_break(t, flags, depth + 1, false);
    for (i = 0; i < n; i++) {
        put_string(t, members[i].key, members[i].length);
        put(t, flags & JSON_COMPACT ? ":" : ": ", flags & JSON_COMPACT ? 1 : 2);
        put_value(t, members[i].value, flags, depth + 1);
        put_separator(t, flags, depth, i + 1 == n);
    }
    put(t, "}", 1);
    free(members);
}

static void put_array(text *t, const json_t *v, size_t flags, size_t depth) {
    size_t n = json_array_size(v);
    if (!n) {
        put(t, "[]", 2);
        return;
    }
    put(t, "[", 1);
    put_break(t, flags, depth + 1, false);
    for (size_t i = 0; i < n; i++) {
        put_value(t, json_array_get(v, i), flags, depth + 1);
        put_separator(t, flags, depth, i + 1 == n);
    }
    put(t, "]", 1);
}

static void put_value(text *t, const json_t *v, size_t flags, size_t depth) {
    char number[EG_NUMBER_TEXT_MAX];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(t, v, flags, depth);
        break;
    case JSON_ARRAY:
        put_array(t, v, flags, depth);
        break;
    case JSON_STRING:
        put_string(t, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put(t, number, (size_t)snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        break;
    case JSON_REAL:
        put(t, number, (size_t)eg_double_text(json_real_value(v), number));
        break;
    case JSON_TRUE:
        put(t, "true", 4);
        break;
    case JSON_FALSE:
        put(t, "false", 5);
        break;
    case JSON_NULL:
        put(t, "null", 4);
        break;
    }
}

char *eg_json_text(const json_t *value, size_t flags) {
    if (!value) return NULL;
    text t = {0};
    put_value(&t, value, flags, 0);
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    return t.data;
}
