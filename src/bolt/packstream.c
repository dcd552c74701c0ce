/* packstream.c — PackStream v1 values: the encoder with the smallest markers and the bounded decoder (see
 * packstream.h). */
#include "bolt/packstream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Markers whose low nibble is a size (tiny forms) and the fixed markers of the specification. */
enum {
    TINY_STRING = 0x80,
    TINY_LIST = 0x90,
    TINY_DICT = 0xA0,
    TINY_STRUCT = 0xB0,
    NULL_MARKER = 0xC0,
    FLOAT_64 = 0xC1,
    FALSE_MARKER = 0xC2,
    TRUE_MARKER = 0xC3,
    INT_8 = 0xC8,
    INT_16 = 0xC9,
    INT_32 = 0xCA,
    INT_64 = 0xCB,
    BYTES_8 = 0xCC,
    BYTES_16 = 0xCD,
    BYTES_32 = 0xCE,
    STRING_8 = 0xD0,
    STRING_16 = 0xD1,
    STRING_32 = 0xD2,
    LIST_8 = 0xD4,
    LIST_16 = 0xD5,
    LIST_32 = 0xD6,
    DICT_8 = 0xD8,
    DICT_16 = 0xD9,
    DICT_32 = 0xDA,
};

void eg_ps_value_free(eg_ps_value *v) {
    switch (v->kind) {
    case EG_PS_BYTES:
    case EG_PS_STRING: free(v->as.text.data); break;
    case EG_PS_LIST:
    case EG_PS_STRUCT:
        for (size_t i = 0; i < v->as.list.count; i++)
            eg_ps_value_free(&v->as.list.items[i]);
        free(v->as.list.items);
        break;
    case EG_PS_DICT:
        for (size_t i = 0; i < v->as.dict.count; i++) {
            free(v->as.dict.entries[i].key);
            eg_ps_value_free(&v->as.dict.entries[i].value);
        }
        free(v->as.dict.entries);
        break;
    default: break;
    }
    memset(v, 0, sizeof *v);
    v->kind = EG_PS_NULL;
}

bool eg_ps_value_equal(const eg_ps_value *a, const eg_ps_value *b) {
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case EG_PS_NULL: return true;
    case EG_PS_BOOL: return a->as.boolean == b->as.boolean;
    case EG_PS_INT: return a->as.integer == b->as.integer;
    case EG_PS_FLOAT: return memcmp(&a->as.real, &b->as.real, sizeof(double)) == 0;
    case EG_PS_BYTES:
    case EG_PS_STRING:
        return a->as.text.len == b->as.text.len && memcmp(a->as.text.data, b->as.text.data, a->as.text.len) == 0;
    case EG_PS_STRUCT:
    case EG_PS_LIST: /* a structure's fields compare as a list, after its tag */
        if (a->as.list.tag != b->as.list.tag || a->as.list.count != b->as.list.count) return false;
        for (size_t i = 0; i < a->as.list.count; i++)
            if (!eg_ps_value_equal(&a->as.list.items[i], &b->as.list.items[i])) return false;
        return true;
    case EG_PS_DICT:
        if (a->as.dict.count != b->as.dict.count) return false;
        for (size_t i = 0; i < a->as.dict.count; i++) {
            const eg_ps_entry *x = &a->as.dict.entries[i], *y = &b->as.dict.entries[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0) return false;
            if (!eg_ps_value_equal(&x->value, &y->value)) return false;
        }
        return true;
    }
    return false;
}

int eg_ps_struct_fields(eg_ps_dialect dialect, uint8_t tag) {
    bool v5 = dialect == EG_PS_BOLT_5;
    switch (tag) {
    case 0x4E: return v5 ? 4 : 3;  /* Node: id, labels, properties (5.x: element_id) */
    case 0x52: return v5 ? 8 : 5;  /* Relationship: id, start, end, type, properties (5.x: three element ids) */
    case 0x72: return v5 ? 4 : 3;  /* UnboundRelationship: id, type, properties (5.x: element_id) */
    case 0x50: return 3;           /* Path: nodes, rels, indices */
    case 0x44: return 1;           /* Date: days */
    case 0x54: return 2;           /* Time: nanoseconds, tz_offset_seconds */
    case 0x74: return 1;           /* LocalTime: nanoseconds */
    case 0x49: return 3;           /* DateTime: seconds, nanoseconds, tz_offset_seconds (UTC based) */
    case 0x69: return 3;           /* DateTimeZoneId: seconds, nanoseconds, tz_id (UTC based) */
    case 0x46: return v5 ? -1 : 3; /* legacy DateTime of 4.4, local-time based */
    case 0x66: return v5 ? -1 : 3; /* legacy DateTimeZoneId of 4.4 */
    case 0x64: return 2;           /* LocalDateTime: seconds, nanoseconds */
    case 0x45: return 4;           /* Duration: months, days, seconds, nanoseconds */
    case 0x58: return 3;           /* Point2D: srid, x, y */
    case 0x59: return 4;           /* Point3D: srid, x, y, z */
    default: return -1;
    }
}

bool eg_ps_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* past U+10FFFF */
        } else
            return false;
        if ((size_t)(end - p) <= need) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (size_t i = 2; i <= need; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += need + 1;
    }
    return true;
}

/* ---- encoder ---- */

static void writer_fail(eg_ps_writer *w, eg_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void writer_fail(eg_ps_writer *w, eg_status code, const char *fmt, ...) {
    if (w->status != EG_OK) return;
    w->status = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->problem, sizeof w->problem, fmt, ap);
    va_end(ap);
}

static void put(eg_ps_writer *w, const void *bytes, size_t n) {
    if (w->status != EG_OK) return;
    if (!eg_byte_buffer_append(&w->out, bytes, n, EG_PS_MAX_MESSAGE_BYTES)) {
        if (w->out.too_large)
            writer_fail(w, EG_INVALID_ARGUMENT, "message larger than %zu bytes", EG_PS_MAX_MESSAGE_BYTES);
        else
            writer_fail(w, EG_INTERNAL, "out of memory encoding a message");
    }
}

/* A marker followed by an n-byte big-endian number. */
static void put_marker_be(eg_ps_writer *w, uint8_t marker, uint64_t value, int n) {
    uint8_t bytes[9];
    bytes[0] = marker;
    for (int i = 0; i < n; i++)
        bytes[1 + i] = (uint8_t)(value >> (8 * (n - 1 - i)));
    put(w, bytes, (size_t)n + 1);
}

/* The header of a sized value: the tiny marker when it has one and the size fits 4 bits, else the 8/16/32-bit
 * marker (marker8, marker8+1, marker8+2). */
static void put_size(eg_ps_writer *w, int tiny, uint8_t marker8, size_t size, const char *what) {
    if (tiny >= 0 && size < 16)
        put_marker_be(w, (uint8_t)(tiny | (int)size), 0, 0);
    else if (size <= UINT8_MAX)
        put_marker_be(w, marker8, size, 1);
    else if (size <= UINT16_MAX)
        put_marker_be(w, (uint8_t)(marker8 + 1), size, 2);
    else if (size <= UINT32_MAX)
        put_marker_be(w, (uint8_t)(marker8 + 2), size, 4);
    else
        writer_fail(w, EG_INVALID_ARGUMENT, "%s of %zu exceeds PackStream's 32-bit size", what, size);
}

void eg_ps_write_null(eg_ps_writer *w) { put_marker_be(w, NULL_MARKER, 0, 0); }

void eg_ps_write_bool(eg_ps_writer *w, bool value) { put_marker_be(w, value ? TRUE_MARKER : FALSE_MARKER, 0, 0); }

void eg_ps_write_int(eg_ps_writer *w, int64_t value) {
    uint64_t bits = (uint64_t)value; /* two's complement, written big-endian and cut to the width */
    if (value >= -16 && value <= 127)
        put_marker_be(w, (uint8_t)bits, 0, 0);
    else if (value >= INT8_MIN && value <= INT8_MAX)
        put_marker_be(w, INT_8, bits, 1);
    else if (value >= INT16_MIN && value <= INT16_MAX)
        put_marker_be(w, INT_16, bits, 2);
    else if (value >= INT32_MIN && value <= INT32_MAX)
        put_marker_be(w, INT_32, bits, 4);
    else
        put_marker_be(w, INT_64, bits, 8);
}

void eg_ps_write_float(eg_ps_writer *w, double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    put_marker_be(w, FLOAT_64, bits, 8);
}

void eg_ps_write_bytes(eg_ps_writer *w, const void *bytes, size_t len) {
    put_size(w, -1, BYTES_8, len, "byte array");
    put(w, bytes, len);
}

void eg_ps_write_string(eg_ps_writer *w, const char *utf8, size_t len) {
    if (!eg_ps_utf8_valid(utf8, len)) {
        writer_fail(w, EG_INVALID_ARGUMENT, "string of %zu bytes is not valid UTF-8", len);
        return;
    }
    put_size(w, TINY_STRING, STRING_8, len, "string");
    put(w, utf8, len);
}

void eg_ps_write_list_header(eg_ps_writer *w, size_t count) { put_size(w, TINY_LIST, LIST_8, count, "list"); }

void eg_ps_write_dict_header(eg_ps_writer *w, size_t count) { put_size(w, TINY_DICT, DICT_8, count, "dictionary"); }

void eg_ps_write_struct_header(eg_ps_writer *w, uint8_t tag, size_t field_count) {
    if (field_count > 15) {
        writer_fail(w, EG_INVALID_ARGUMENT, "structure 0x%02X of %zu fields: PackStream allows at most 15", tag,
                    field_count);
        return;
    }
    uint8_t bytes[2] = {(uint8_t)(TINY_STRUCT | field_count), tag};
    put(w, bytes, 2);
}

/* The fields of a graph structure that a 4.4 client knows: Node, Relationship and UnboundRelationship as Bolt 5
 * sends them, less the element ids that 5.0 appended after the 4.4 fields; any other structure keeps them all. */
static size_t fields_for_4_4(const eg_ps_value *v) {
    int in_4_4 = eg_ps_struct_fields(EG_PS_BOLT_4_4, v->as.list.tag);
    bool element_ids_appended = v->as.list.tag == 0x4E || v->as.list.tag == 0x52 || v->as.list.tag == 0x72;
    if (!element_ids_appended || (size_t)eg_ps_struct_fields(EG_PS_BOLT_5, v->as.list.tag) != v->as.list.count)
        return v->as.list.count;
    return (size_t)in_4_4;
}

static void write_tree(eg_ps_writer *w, const eg_ps_value *v, bool drop_element_ids) {
    switch (v->kind) {
    case EG_PS_NULL: eg_ps_write_null(w); break;
    case EG_PS_BOOL: eg_ps_write_bool(w, v->as.boolean); break;
    case EG_PS_INT: eg_ps_write_int(w, v->as.integer); break;
    case EG_PS_FLOAT: eg_ps_write_float(w, v->as.real); break;
    case EG_PS_BYTES: eg_ps_write_bytes(w, v->as.text.data, v->as.text.len); break;
    case EG_PS_STRING: eg_ps_write_string(w, v->as.text.data, v->as.text.len); break;
    case EG_PS_LIST:
    case EG_PS_STRUCT: {
        size_t count = v->kind == EG_PS_STRUCT && drop_element_ids ? fields_for_4_4(v) : v->as.list.count;
        if (v->kind == EG_PS_LIST)
            eg_ps_write_list_header(w, count);
        else
            eg_ps_write_struct_header(w, v->as.list.tag, count);
        for (size_t i = 0; i < count; i++)
            write_tree(w, &v->as.list.items[i], drop_element_ids);
        break;
    }
    case EG_PS_DICT:
        eg_ps_write_dict_header(w, v->as.dict.count);
        for (size_t i = 0; i < v->as.dict.count; i++) {
            eg_ps_write_string(w, v->as.dict.entries[i].key, v->as.dict.entries[i].key_len);
            write_tree(w, &v->as.dict.entries[i].value, drop_element_ids);
        }
        break;
    }
}

void eg_ps_write_value(eg_ps_writer *w, const eg_ps_value *v) { write_tree(w, v, false); }

void eg_ps_write_value_in(eg_ps_writer *w, const eg_ps_value *v, eg_ps_dialect dialect) {
    write_tree(w, v, dialect == EG_PS_BOLT_4_4);
}

eg_status eg_ps_writer_status(const eg_ps_writer *w, eg_error *err) {
    if (w->status == EG_OK) return EG_OK;
    return eg_error_set(err, w->status, "packstream: %s", w->problem);
}

/* ---- decoder ---- */

typedef struct reader {
    const uint8_t *data;
    size_t len, pos;
    size_t values; /* decoded so far, against EG_PS_MAX_VALUES */
    eg_ps_dialect dialect;
    eg_error *err;
} reader;

static eg_status refuse(reader *r, size_t offset, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static eg_status refuse(reader *r, size_t offset, const char *fmt, ...) {
    char problem[EG_ERROR_MESSAGE_MAX - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return eg_error_set(r->err, EG_INVALID_ARGUMENT, "packstream: at byte %zu: %s", offset, problem);
}

/* Reads an n-byte big-endian number; refuses when fewer than n bytes remain. */
static eg_status take_be(reader *r, int n, const char *what, uint64_t *out) {
    if (r->len - r->pos < (size_t)n)
        return refuse(r, r->pos, "truncated %s: needs %d bytes, %zu remain", what, n, r->len - r->pos);
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | r->data[r->pos + (size_t)i];
    r->pos += (size_t)n;
    *out = v;
    return EG_OK;
}

static eg_status decode_value(reader *r, int depth, bool is_message, eg_ps_value *out);

/* Copies len bytes into a fresh NUL-terminated allocation. */
static eg_status take_text(reader *r, size_t marker_at, size_t len, bool utf8, const char *what, char **out) {
    if (r->len - r->pos < len)
        return refuse(r, marker_at, "truncated %s: declares %zu bytes, %zu remain", what, len, r->len - r->pos);
    const char *start = (const char *)r->data + r->pos;
    if (utf8 && !eg_ps_utf8_valid(start, len))
        return refuse(r, marker_at, "%s of %zu bytes is not valid UTF-8", what, len);
    char *copy = malloc(len + 1);
    if (!copy) return eg_error_set(r->err, EG_INTERNAL, "packstream: out of memory for a %s of %zu bytes", what, len);
    memcpy(copy, start, len);
    copy[len] = '\0';
    r->pos += len;
    *out = copy;
    return EG_OK;
}

/* Each element takes at least one byte, so a count larger than the bytes left is refused before any allocation:
 * a header cannot make the decoder reserve memory the message does not carry. */
static eg_status check_count(reader *r, size_t marker_at, size_t count, size_t bytes_each, const char *what) {
    if (count > (r->len - r->pos) / bytes_each)
        return refuse(r, marker_at, "truncated %s: declares %zu elements, only %zu bytes remain", what, count,
                      r->len - r->pos);
    if (count > EG_PS_MAX_VALUES - r->values)
        return refuse(r, marker_at, "%s of %zu elements passes the limit of %u values in a message", what, count,
                      EG_PS_MAX_VALUES);
    return EG_OK;
}

static eg_status decode_items(reader *r, int depth, size_t count, eg_ps_value *v) {
    v->as.list.items = count ? calloc(count, sizeof *v->as.list.items) : NULL;
    if (count && !v->as.list.items) return eg_error_set(r->err, EG_INTERNAL, "packstream: out of memory");
    for (size_t i = 0; i < count; i++) {
        eg_status s = decode_value(r, depth + 1, false, &v->as.list.items[i]);
        v->as.list.count = i + 1; /* what is filled so far is freed on failure */
        if (s != EG_OK) return s;
    }
    return EG_OK;
}

static int compare_entries(const void *a, const void *b) {
    const eg_ps_entry *x = *(const eg_ps_entry *const *)a, *y = *(const eg_ps_entry *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0; /* same key: arrival order, so the later one sorts last */
}

/* The specification lets a key repeat and the last value seen win: the earlier entries of a repeated key are
 * dropped, the survivors keep their order of arrival. */
static eg_status drop_repeated_keys(reader *r, eg_ps_value *v) {
    size_t count = v->as.dict.count;
    if (count < 2) return EG_OK;
    eg_ps_entry **sorted = malloc(count * sizeof *sorted);
    if (!sorted) return eg_error_set(r->err, EG_INTERNAL, "packstream: out of memory");
    for (size_t i = 0; i < count; i++)
        sorted[i] = &v->as.dict.entries[i];
    qsort(sorted, count, sizeof *sorted, compare_entries);
    bool any = false;
    for (size_t i = 0; i + 1 < count; i++) {
        if (sorted[i]->key_len == sorted[i + 1]->key_len &&
            memcmp(sorted[i]->key, sorted[i + 1]->key, sorted[i]->key_len) == 0) {
            free(sorted[i]->key);
            sorted[i]->key = NULL; /* marks the entry as superseded */
            eg_ps_value_free(&sorted[i]->value);
            any = true;
        }
    }
    free(sorted);
    if (!any) return EG_OK;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (v->as.dict.entries[i].key) v->as.dict.entries[kept++] = v->as.dict.entries[i];
    v->as.dict.count = kept;
    return EG_OK;
}

static eg_status decode_entries(reader *r, int depth, size_t count, eg_ps_value *v) {
    v->as.dict.entries = count ? calloc(count, sizeof *v->as.dict.entries) : NULL;
    if (count && !v->as.dict.entries) return eg_error_set(r->err, EG_INTERNAL, "packstream: out of memory");
    for (size_t i = 0; i < count; i++) {
        eg_ps_entry *e = &v->as.dict.entries[i];
        size_t key_at = r->pos;
        eg_ps_value key = {.kind = EG_PS_NULL};
        eg_status s = decode_value(r, depth + 1, false, &key);
        if (s == EG_OK && key.kind != EG_PS_STRING) s = refuse(r, key_at, "dictionary key %zu is not a string", i);
        if (s != EG_OK) {
            eg_ps_value_free(&key);
            return s;
        }
        e->key = key.as.text.data;
        e->key_len = key.as.text.len;
        v->as.dict.count = i + 1;
        if ((s = decode_value(r, depth + 1, false, &e->value)) != EG_OK) return s;
    }
    return drop_repeated_keys(r, v);
}

static eg_status decode_value(reader *r, int depth, bool is_message, eg_ps_value *out) {
    memset(out, 0, sizeof *out);
    out->kind = EG_PS_NULL;
    size_t at = r->pos;
    if (depth >= EG_PS_MAX_DEPTH) return refuse(r, at, "nested deeper than %d levels", EG_PS_MAX_DEPTH);
    if (r->pos >= r->len) return refuse(r, at, "truncated: a value was expected");
    if (++r->values > EG_PS_MAX_VALUES) return refuse(r, at, "more than %u values in a message", EG_PS_MAX_VALUES);
    uint8_t marker = r->data[r->pos++];
    uint64_t n = 0;
    eg_status s = EG_OK;
    int high = marker & 0xF0;

    if (marker <= 0x7F || marker >= 0xF0) {
        out->kind = EG_PS_INT;
        out->as.integer = (int8_t)marker;
        return EG_OK;
    }
    if (high == TINY_STRING || marker == STRING_8 || marker == STRING_16 || marker == STRING_32 || marker == BYTES_8 ||
        marker == BYTES_16 || marker == BYTES_32) {
        bool is_bytes = marker >= BYTES_8 && marker <= BYTES_32;
        const char *what = is_bytes ? "byte array" : "string";
        if (high == TINY_STRING)
            n = marker & 0x0F;
        else {
            int width = 1 << ((marker - (is_bytes ? BYTES_8 : STRING_8)) & 3);
            if ((s = take_be(r, width, is_bytes ? "byte array size" : "string size", &n)) != EG_OK) return s;
        }
        out->kind = is_bytes ? EG_PS_BYTES : EG_PS_STRING;
        out->as.text.len = (size_t)n;
        s = take_text(r, at, (size_t)n, !is_bytes, what, &out->as.text.data);
        if (s != EG_OK) out->kind = EG_PS_NULL;
        return s;
    }
    if (high == TINY_LIST || marker == LIST_8 || marker == LIST_16 || marker == LIST_32) {
        if (high == TINY_LIST)
            n = marker & 0x0F;
        else if ((s = take_be(r, 1 << (marker - LIST_8), "list size", &n)) != EG_OK)
            return s;
        if ((s = check_count(r, at, (size_t)n, 1, "list")) != EG_OK) return s;
        out->kind = EG_PS_LIST;
        return decode_items(r, depth, (size_t)n, out);
    }
    if (high == TINY_DICT || marker == DICT_8 || marker == DICT_16 || marker == DICT_32) {
        if (high == TINY_DICT)
            n = marker & 0x0F;
        else if ((s = take_be(r, 1 << (marker - DICT_8), "dictionary size", &n)) != EG_OK)
            return s;
        if ((s = check_count(r, at, (size_t)n, 2, "dictionary")) != EG_OK) return s;
        out->kind = EG_PS_DICT;
        return decode_entries(r, depth, (size_t)n, out);
    }
    if (high == TINY_STRUCT) {
        uint64_t tag;
        if ((s = take_be(r, 1, "structure tag", &tag)) != EG_OK) return s;
        size_t fields = marker & 0x0F;
        if (!is_message) {
            int expected = eg_ps_struct_fields(r->dialect, (uint8_t)tag);
            if (expected < 0)
                return refuse(r, at, "structure tag 0x%02X is no value structure of Bolt %s", (unsigned)tag,
                              r->dialect == EG_PS_BOLT_5 ? "5" : "4.4");
            if ((size_t)expected != fields)
                return refuse(r, at, "structure 0x%02X has %zu fields, Bolt %s defines %d", (unsigned)tag, fields,
                              r->dialect == EG_PS_BOLT_5 ? "5" : "4.4", expected);
        }
        if ((s = check_count(r, at, fields, 1, "structure")) != EG_OK) return s;
        out->kind = EG_PS_STRUCT;
        out->as.list.tag = (uint8_t)tag;
        return decode_items(r, depth, fields, out);
    }
    switch (marker) {
    case NULL_MARKER: return EG_OK;
    case FALSE_MARKER:
    case TRUE_MARKER:
        out->kind = EG_PS_BOOL;
        out->as.boolean = marker == TRUE_MARKER;
        return EG_OK;
    case FLOAT_64:
        if ((s = take_be(r, 8, "float", &n)) != EG_OK) return s;
        out->kind = EG_PS_FLOAT;
        memcpy(&out->as.real, &n, sizeof n);
        return EG_OK;
    case INT_8:
    case INT_16:
    case INT_32:
    case INT_64: {
        int width = 1 << (marker - INT_8);
        if ((s = take_be(r, width, "integer", &n)) != EG_OK) return s;
        if (width < 8 && n >> (8 * width - 1)) n |= UINT64_MAX << (8 * width); /* sign-extend from the width */
        out->kind = EG_PS_INT;
        out->as.integer = (int64_t)n;
        return EG_OK;
    }
    default: return refuse(r, at, "marker 0x%02X is reserved by PackStream v1", marker);
    }
}

eg_status eg_ps_decode(const uint8_t *data, size_t len, eg_ps_dialect dialect, bool top_is_message, eg_ps_value *out,
                       eg_error *err) {
    reader r = {.data = data, .len = len, .dialect = dialect, .err = err};
    memset(out, 0, sizeof *out);
    out->kind = EG_PS_NULL;
    if (len > EG_PS_MAX_MESSAGE_BYTES)
        return eg_error_set(err, EG_INVALID_ARGUMENT, "packstream: message of %zu bytes exceeds %zu", len,
                            EG_PS_MAX_MESSAGE_BYTES);
    eg_status s = decode_value(&r, 0, top_is_message, out);
    if (s == EG_OK && r.pos != len) s = refuse(&r, r.pos, "%zu bytes follow the value", len - r.pos);
    if (s != EG_OK) eg_ps_value_free(out);
    return s;
}
