/* test_point_id.c — point ids: reading them from JSON and text (integers, UUIDs in both forms and any case),
 * refusing every other shape with a message naming it, canonical output, round trips and the total order. */
#include "test.h"

#include <engram/vectors.h>

#include <inttypes.h>

static eg_error err;

static const uint8_t sample_uuid[16] = {0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4,
                                        0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00};
#define SAMPLE_UUID_TEXT "550e8400-e29b-41d4-a716-446655440000"

static bool is_sample_uuid(const eg_point_id *id) { return id->is_uuid && memcmp(id->uuid, sample_uuid, 16) == 0; }

/* Reads JSON text as an id; the JSON value is built from text so that tests read like requests. */
static eg_status id_from_json_text(const char *text, eg_point_id *out) {
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) {
        fprintf(stderr, "  bad test JSON %s: %s\n", text, jerr.text);
        return EG_INTERNAL;
    }
    eg_status st = eg_point_id_from_json(v, out, &err);
    json_decref(v);
    return st;
}

/* True when the JSON text is refused as an id with exactly this message. */
static bool json_refused(const char *text, const char *message) {
    eg_point_id id;
    eg_status st = id_from_json_text(text, &id);
    if (st == EG_INVALID_ARGUMENT && strcmp(err.message, message) == 0) return true;
    fprintf(stderr, "  %s -> %s '%s', expected invalid_argument '%s'\n", text, eg_status_name(st), err.message,
            message);
    return false;
}

static bool text_refused(const char *text) {
    eg_point_id id;
    eg_status st = eg_point_id_parse(text, &id, &err);
    if (st == EG_INVALID_ARGUMENT && strstr(err.message, "invalid point id")) return true;
    fprintf(stderr, "  '%s' -> %s '%s', expected invalid_argument\n", text ? text : "(null)", eg_status_name(st),
            err.message);
    return false;
}

TEST(json_integers_are_numeric_ids) {
    eg_point_id id;
    CHECK_OK(id_from_json_text("0", &id), &err);
    CHECK(!id.is_uuid && id.num == 0);
    CHECK_OK(id_from_json_text("42", &id), &err);
    CHECK(!id.is_uuid && id.num == 42);
    CHECK_OK(id_from_json_text("9223372036854775807", &id), &err);
    CHECK(!id.is_uuid && id.num == (uint64_t)INT64_MAX);
}

TEST(json_uuid_strings_in_both_forms_and_any_case) {
    const char *forms[] = {
        "\"" SAMPLE_UUID_TEXT "\"",
        "\"550E8400-E29B-41D4-A716-446655440000\"",
        "\"550e8400-E29B-41d4-A716-446655440000\"",
        "\"550e8400e29b41d4a716446655440000\"",
        "\"550E8400E29B41D4A716446655440000\"",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        eg_point_id id;
        CHECK_OK(id_from_json_text(forms[i], &id), &err);
        CHECK(is_sample_uuid(&id));
    }
}

TEST(json_refuses_other_shapes_naming_them) {
    CHECK(json_refused("-1", "invalid point id -1: a numeric id must not be negative"));
    CHECK(json_refused("-9223372036854775808",
                       "invalid point id -9223372036854775808: a numeric id must not be negative"));
    CHECK(json_refused("1.0", "invalid point id 1.0: a numeric id must be an integer, not a real number"));
    CHECK(json_refused("2.5", "invalid point id 2.5: a numeric id must be an integer, not a real number"));
    CHECK(json_refused("1e3", "invalid point id 1000.0: a numeric id must be an integer, not a real number"));
    CHECK(json_refused("true", "invalid point id: expected a non-negative integer or a UUID string, got a boolean"));
    CHECK(json_refused("false", "invalid point id: expected a non-negative integer or a UUID string, got a boolean"));
    CHECK(json_refused("null", "invalid point id: expected a non-negative integer or a UUID string, got null"));
    CHECK(json_refused("[1]", "invalid point id: expected a non-negative integer or a UUID string, got an array"));
    CHECK(json_refused("{}", "invalid point id: expected a non-negative integer or a UUID string, got an object"));
    const char *uuid_message = "a string id must be a UUID (8-4-4-4-12 or 32 hex digits)";
    const char *bad_strings[] = {
        "\"5\"", /* numeric ids are JSON integers, not strings */
        "\"\"",
        "\"abc\"",
        "\"550e8400-e29b-41d4-a716-44665544000\"",    /* 35 characters */
        "\"550e8400-e29b-41d4-a716-4466554400000\"",  /* 37 */
        "\"550e8400e29b41d4a71644665544000\"",        /* 31 hex digits */
        "\"550e8400e29b41d4a7164466554400000\"",      /* 33 */
        "\"550e8400-e29b-41d4-a716-44665544000g\"",   /* not hex */
        "\"550e8400e-29b-41d4-a716-446655440000\"",   /* hyphen misplaced */
        "\"550e8400+e29b+41d4+a716+446655440000\"",   /* not hyphens */
        "\"{550e8400-e29b-41d4-a716-446655440000}\"", /* braced form */
        "\"urn:uuid:550e8400-e29b-41d4-a716-446655440000\"",
        "\" 550e8400-e29b-41d4-a716-446655440000\"",
        "\"550e8400-e29b-41d4-a716-446655440000 \"",
        "\"550e8400-e29b-41d4-a716\\u0000446655440000\"", /* an embedded NUL */
    };
    for (size_t i = 0; i < sizeof bad_strings / sizeof bad_strings[0]; i++) {
        eg_point_id id;
        CHECK_STATUS(id_from_json_text(bad_strings[i], &id), EG_INVALID_ARGUMENT, &err);
        CHECK(strstr(err.message, uuid_message) != NULL);
    }
    eg_point_id id;
    CHECK_STATUS(id_from_json_text("\"abc\"", &id), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, "invalid point id 'abc': a string id must be a UUID (8-4-4-4-12 or 32 hex digits)") == 0);
    CHECK_STATUS(eg_point_id_from_json(NULL, &id, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, "invalid point id: expected a non-negative integer or a UUID string, got nothing") == 0);
}

TEST(text_parses_decimal_u64_and_uuids) {
    eg_point_id id;
    CHECK_OK(eg_point_id_parse("0", &id, &err), &err);
    CHECK(!id.is_uuid && id.num == 0);
    CHECK_OK(eg_point_id_parse("18446744073709551615", &id, &err), &err);
    CHECK(!id.is_uuid && id.num == UINT64_MAX);
    CHECK_OK(eg_point_id_parse("007", &id, &err), &err);
    CHECK(!id.is_uuid && id.num == 7);
    CHECK_OK(eg_point_id_parse(SAMPLE_UUID_TEXT, &id, &err), &err);
    CHECK(is_sample_uuid(&id));
    CHECK_OK(eg_point_id_parse("550E8400E29B41D4A716446655440000", &id, &err), &err);
    CHECK(is_sample_uuid(&id));
    /* 32 decimal digits cannot be a u64, so they are a UUID in simple form. */
    CHECK_OK(eg_point_id_parse("12345678901234567890123456789012", &id, &err), &err);
    CHECK(id.is_uuid && id.uuid[0] == 0x12 && id.uuid[15] == 0x12);
}

TEST(text_refuses_everything_else) {
    const char *bad[] = {
        "", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "abc",       /* not plain decimal digits */
        "18446744073709551616", "99999999999999999999",                 /* above UINT64_MAX */
        "123456789012345678901",                                        /* 21 digits */
        "550e8400-e29b-41d4-a716-44665544000",                          /* 35 characters */
        "{550e8400-e29b-41d4-a716-446655440000}",                       /* braced form */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(text_refused(bad[i]));
    eg_point_id id;
    CHECK_STATUS(eg_point_id_parse(NULL, &id, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, "point id is missing") == 0);
    CHECK_STATUS(eg_point_id_parse("abc", &id, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strcmp(err.message, "invalid point id 'abc': expected a decimal unsigned 64-bit integer or a UUID") == 0);
}

TEST(output_is_canonical) {
    eg_point_id id;
    CHECK_OK(eg_point_id_parse("550E8400E29B41D4A716446655440000", &id, &err), &err);
    char text[EG_POINT_ID_TEXT];
    eg_point_id_format(&id, text);
    CHECK(strcmp(text, SAMPLE_UUID_TEXT) == 0);
    json_t *j = eg_point_id_to_json(&id);
    CHECK(json_is_string(j) && strcmp(json_string_value(j), SAMPLE_UUID_TEXT) == 0);
    json_decref(j);

    eg_point_id n = eg_point_id_num(18446744073709551615u);
    eg_point_id_format(&n, text);
    CHECK(strcmp(text, "18446744073709551615") == 0);
    n = eg_point_id_num(0);
    eg_point_id_format(&n, text);
    CHECK(strcmp(text, "0") == 0);
    n = eg_point_id_num(123);
    j = eg_point_id_to_json(&n);
    CHECK(json_is_integer(j) && json_integer_value(j) == 123);
    json_decref(j);
    n = eg_point_id_num((uint64_t)INT64_MAX);
    j = eg_point_id_to_json(&n);
    CHECK(json_is_integer(j) && json_integer_value(j) == INT64_MAX);
    json_decref(j);
    /* Beyond jansson's int64 there is no JSON integer: the decimal string, accepted back (and only there). */
    n = eg_point_id_num((uint64_t)INT64_MAX + 1);
    j = eg_point_id_to_json(&n);
    CHECK(json_is_string(j) && strcmp(json_string_value(j), "9223372036854775808") == 0);
    eg_point_id back;
    CHECK_OK(eg_point_id_from_json(j, &back, &err), &err);
    CHECK(eg_point_id_compare(&n, &back) == 0);
    json_decref(j);
    j = json_string("42");
    CHECK_STATUS(eg_point_id_from_json(j, &back, &err), EG_INVALID_ARGUMENT, &err);
    json_decref(j);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static eg_point_id random_id(void) {
    if (next_random() % 2) {
        /* Small numbers collide often, which exercises equality. */
        uint64_t n = next_random() % 3 == 0 ? next_random() % 8 : next_random();
        return eg_point_id_num(n);
    }
    eg_point_id id = {true, 0, {0}};
    for (int i = 0; i < 16; i++) id.uuid[i] = (uint8_t)(next_random() % (i == 0 ? 3 : 256));
    return id;
}

TEST(round_trips_through_text_and_json) {
    for (int i = 0; i < 5000; i++) {
        eg_point_id id = random_id(), back;
        char text[EG_POINT_ID_TEXT];
        eg_point_id_format(&id, text);
        CHECK_OK(eg_point_id_parse(text, &back, &err), &err);
        CHECK(eg_point_id_compare(&id, &back) == 0);
        json_t *j = eg_point_id_to_json(&id);
        REQUIRE(j != NULL);
        CHECK_OK(eg_point_id_from_json(j, &back, &err), &err);
        CHECK(eg_point_id_compare(&id, &back) == 0);
        json_decref(j);
    }
}

static int sign(int v) { return (v > 0) - (v < 0); }

TEST(order_numbers_first_then_uuid_bytes) {
    eg_point_id zero = eg_point_id_num(0), big = eg_point_id_num(UINT64_MAX), low_uuid, high_uuid;
    CHECK_OK(eg_point_id_parse("00000000-0000-0000-0000-000000000000", &low_uuid, &err), &err);
    CHECK_OK(eg_point_id_parse("ffffffff-ffff-ffff-ffff-ffffffffffff", &high_uuid, &err), &err);
    CHECK(eg_point_id_compare(&zero, &big) < 0);
    CHECK(eg_point_id_compare(&big, &zero) > 0);
    CHECK(eg_point_id_compare(&big, &low_uuid) < 0);
    CHECK(eg_point_id_compare(&low_uuid, &big) > 0);
    CHECK(eg_point_id_compare(&low_uuid, &high_uuid) < 0);
    CHECK(eg_point_id_compare(&high_uuid, &high_uuid) == 0);
    CHECK(eg_point_id_compare(&zero, &zero) == 0);

    /* For UUIDs the byte order is the order of the canonical text; for numbers it is numeric order. */
    for (int i = 0; i < 20000; i++) {
        eg_point_id a = random_id(), b = random_id();
        int c = sign(eg_point_id_compare(&a, &b));
        CHECK(c == -sign(eg_point_id_compare(&b, &a)));
        int expected;
        if (a.is_uuid != b.is_uuid) {
            expected = a.is_uuid ? 1 : -1;
        } else if (a.is_uuid) {
            char ta[EG_POINT_ID_TEXT], tb[EG_POINT_ID_TEXT];
            eg_point_id_format(&a, ta);
            eg_point_id_format(&b, tb);
            expected = sign(strcmp(ta, tb));
        } else {
            expected = (a.num > b.num) - (a.num < b.num);
        }
        CHECK(c == expected);
    }
}

int main(void) {
    RUN(json_integers_are_numeric_ids);
    RUN(json_uuid_strings_in_both_forms_and_any_case);
    RUN(json_refuses_other_shapes_naming_them);
    RUN(text_parses_decimal_u64_and_uuids);
    RUN(text_refuses_everything_else);
    RUN(output_is_canonical);
    RUN(round_trips_through_text_and_json);
    RUN(order_numbers_first_then_uuid_bytes);
    return test_summary();
}
