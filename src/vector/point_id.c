/* point_id.c — point ids of the vector store: an unsigned 64-bit integer or a UUID (see engram/vectors.h), and
 * the random UUID v4 generator engram draws every new UUID from.
 *
 * Invariants: a UUID is held as its 16 bytes and always written canonically (lower-case, hyphenated 8-4-4-4-12);
 * a numeric id is held as a uint64_t and written in decimal. The two kinds never compare equal, numbers sort first.
 *
 * JSON range: jansson holds integers as int64 (json_int_t), so a numeric id read from or written to JSON is
 * limited to 0..2^63-1; larger ids exist only in text form (eg_point_id_parse / eg_point_id_format). */
#include "graph/graph_internal.h" /* eg_quote_for_message */

#include <engram/vectors.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define UUID_HYPHENATED_LEN 36
#define UUID_SIMPLE_LEN 32
#define U64_DIGITS_MAX 20

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool is_hyphen_position(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

/* The UUID in text of exactly len bytes, hyphenated or simple; false if it is neither. */
static bool parse_uuid(const char *text, size_t len, uint8_t out[16]) {
    if (len != UUID_HYPHENATED_LEN && len != UUID_SIMPLE_LEN) return false;
    bool hyphenated = len == UUID_HYPHENATED_LEN;
    size_t nibble = 0;
    for (size_t i = 0; i < len; i++) {
        if (hyphenated && is_hyphen_position(i)) {
            if (text[i] != '-') return false;
            continue;
        }
        int v = hex_value((unsigned char)text[i]);
        if (v < 0) return false;
        if (nibble % 2 == 0)
            out[nibble / 2] = (uint8_t)(v << 4);
        else
            out[nibble / 2] |= (uint8_t)v;
        nibble++;
    }
    return true;
}

/* A decimal u64 of exactly len bytes: digits only, no sign, no spaces, no overflow. */
static bool parse_u64(const char *text, size_t len, uint64_t *out) {
    if (len == 0) return false;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (n > (UINT64_MAX - digit) / 10) return false;
        n = n * 10 + digit;
    }
    *out = n;
    return true;
}

static eg_point_id uuid_id(const uint8_t bytes[16]) {
    eg_point_id id = {true, 0, {0}};
    memcpy(id.uuid, bytes, 16);
    return id;
}

eg_status eg_point_id_from_json(json_t *value, eg_point_id *out, eg_error *err) {
    if (json_is_integer(value)) {
        json_int_t n = json_integer_value(value);
        if (n < 0)
            return eg_error_set(err, EG_INVALID_ARGUMENT,
                                "invalid point id %" JSON_INTEGER_FORMAT ": a numeric id must not be negative", n);
        *out = eg_point_id_num((uint64_t)n);
        return EG_OK;
    }
    if (json_is_string(value)) {
        uint8_t bytes[16];
        if (parse_uuid(json_string_value(value), json_string_length(value), bytes)) {
            *out = uuid_id(bytes);
            return EG_OK;
        }
        eg_point_id big; /* the decimal text eg_point_id_to_json writes for ids beyond JSON integers */
        if (eg_point_id_parse(json_string_value(value), &big, NULL) == EG_OK && !big.is_uuid &&
            big.num > (uint64_t)INT64_MAX) {
            *out = big;
            return EG_OK;
        }
        char q[256];
        eg_quote_for_message(json_string_value(value), q, sizeof q);
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "invalid point id '%s': a string id must be a UUID (8-4-4-4-12 or 32 hex digits)", q);
    }
    if (json_is_real(value)) {
        /* Written as JSON would (1.0, not 1), so that the message shows why the number is refused. */
        char number[32];
        snprintf(number, sizeof number, "%.15g", json_real_value(value));
        if (!strpbrk(number, ".e")) strcat(number, ".0");
        return eg_error_set(err, EG_INVALID_ARGUMENT,
                            "invalid point id %s: a numeric id must be an integer, not a real number", number);
    }
    const char *kind = !value                   ? "nothing"
                       : json_is_boolean(value) ? "a boolean"
                       : json_is_null(value)    ? "null"
                       : json_is_array(value)   ? "an array"
                                                : "an object";
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "invalid point id: expected a non-negative integer or a UUID string, got %s", kind);
}

eg_status eg_point_id_parse(const char *text, eg_point_id *out, eg_error *err) {
    if (!text) return eg_error_set(err, EG_INVALID_ARGUMENT, "point id is missing");
    size_t len = strlen(text);
    uint8_t bytes[16];
    uint64_t n;
    /* A u64 has at most 20 digits, so a 32- or 36-byte text can only be a UUID: the forms never overlap. */
    if (len <= U64_DIGITS_MAX && parse_u64(text, len, &n)) {
        *out = eg_point_id_num(n);
        return EG_OK;
    }
    if (parse_uuid(text, len, bytes)) {
        *out = uuid_id(bytes);
        return EG_OK;
    }
    char q[256];
    eg_quote_for_message(text, q, sizeof q);
    return eg_error_set(err, EG_INVALID_ARGUMENT,
                        "invalid point id '%s': expected a decimal unsigned 64-bit integer or a UUID", q);
}

void eg_point_id_format(const eg_point_id *id, char out[EG_POINT_ID_TEXT]) {
    if (!id->is_uuid) {
        snprintf(out, EG_POINT_ID_TEXT, "%" PRIu64, id->num);
        return;
    }
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = digits[id->uuid[i] >> 4];
        out[o++] = digits[id->uuid[i] & 0x0f];
    }
    out[o] = '\0';
}

json_t *eg_point_id_to_json(const eg_point_id *id) {
    if (!id->is_uuid && id->num <= (uint64_t)INT64_MAX) return json_integer((json_int_t)id->num);
    char text[EG_POINT_ID_TEXT]; /* a UUID, or a number jansson's int64 integers cannot carry */
    eg_point_id_format(id, text);
    return json_string(text);
}

int eg_point_id_compare(const eg_point_id *a, const eg_point_id *b) {
    if (a->is_uuid != b->is_uuid) return a->is_uuid ? 1 : -1;
    if (a->is_uuid) return memcmp(a->uuid, b->uuid, 16);
    return (a->num > b->num) - (a->num < b->num);
}

eg_status eg_point_id_random(eg_point_id *out, eg_error *err) {
    uint8_t bytes[16];
    size_t got = 0;
    while (got < sizeof bytes) { /* getrandom may return fewer bytes, or be interrupted by a signal */
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return eg_error_set(err, EG_IO, "cannot draw a UUID from the system's random source: %s", strerror(errno));
        got += (size_t)n;
    }
    bytes[6] = (uint8_t)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    *out = uuid_id(bytes);
    return EG_OK;
}
