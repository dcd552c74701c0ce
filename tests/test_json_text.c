/* test_json_text.c — engram's JSON text (src/util/json_text.h): a float32 prints as the shortest decimal that
 * reads back to it (random bit patterns and the edge cases: zeros, subnormals, powers of two, FLT_MAX), a double
 * as the shortest that reads back bit for bit; a float stored by eg_json_float prints as the float's own decimal;
 * text written with 17 digits (older logs and archives) still reads back the same float; and the encoder lays out
 * everything that is not a real exactly as json_dumps does. */
#include "test.h"

#include "model/json_shapes.h"
#include "util/json_text.h"

#include <float.h>
#include <math.h>

#define RANDOM_COUNT (200000 / TEST_WORK_DIVISOR)

static bool same_float(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static bool same_double(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Digits of the mantissa without leading and trailing zeros ("100.0" has 1, "0.0012" has 2). */
static int significant_digits(const char *text) {
    char digits[64];
    int n = 0;
    for (const char *c = text; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9' && (n || *c != '0')) digits[n++] = *c;
    while (n > 1 && digits[n - 1] == '0') n--;
    return n ? n : 1;
}

/* Whether any p-digit decimal reads back as the value: the candidates are the nearest p-digit decimal and its two
 * neighbours, built independently of the code under test. */
static bool p_digits_read_back(double v, int p, bool as_float) {
    char text[64];
    snprintf(text, sizeof text, "%.*e", p - 1, fabs(v));
    char *e = strchr(text, 'e');
    int exponent = atoi(e + 1);
    long long digits = 0;
    for (char *c = text; c < e; c++)
        if (*c != '.') digits = digits * 10 + (*c - '0');
    for (int step = -1; step <= 1; step++) {
        char candidate[64];
        snprintf(candidate, sizeof candidate, "%s%llde%d", signbit(v) ? "-" : "", digits + step, exponent - (p - 1));
        if (as_float ? same_float(strtof(candidate, NULL), (float)v) && same_float((float)strtod(candidate, NULL), (float)v)
                     : same_double(strtod(candidate, NULL), v))
            return true;
    }
    return false;
}

/* f's text: reads back through strtof and through strtod, is the shortest, and the double that holds f prints as
 * the same text. */
static void check_float(float f) {
    char text[EG_NUMBER_TEXT_MAX], again[EG_NUMBER_TEXT_MAX];
    int length = eg_float_text(f, text);
    int failures = test_failures_in_current;
    CHECK(length == (int)strlen(text));
    CHECK(same_float(strtof(text, NULL), f));
    CHECK(same_float((float)strtod(text, NULL), f));
    CHECK(strchr(text, '.') || strchr(text, 'e'));
    int digits = significant_digits(text);
    CHECK(digits == 1 || !p_digits_read_back(f, digits - 1, true));
    double d = eg_float_as_double(f);
    CHECK(same_float((float)d, f));
    eg_double_text(d, again);
    CHECK(strcmp(text, again) == 0);
    if (test_failures_in_current != failures) fprintf(stderr, "    float %a: text %s, as double %s\n", f, text, again);
}

static void check_double(double d) {
    char text[EG_NUMBER_TEXT_MAX];
    eg_double_text(d, text);
    int failures = test_failures_in_current;
    CHECK(same_double(strtod(text, NULL), d));
    CHECK(strchr(text, '.') || strchr(text, 'e'));
    int digits = significant_digits(text);
    CHECK(digits == 1 || !p_digits_read_back(d, digits - 1, false));
    if (test_failures_in_current != failures) fprintf(stderr, "    double %a: text %s\n", d, text);
}

TEST(floats_print_shortest_and_read_back) {
    const float edges[] = {0.0f, -0.0f, 0.1f, -0.1f, 0.2f, 1.0f, -1.0f, 1.5f, 100.0f, 1e-4f, 1e-5f, 1e16f, 1e17f,
                           16777216.0f, 16777217.0f, 3.14159265f, FLT_MIN, -FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN,
                           FLT_MAX, -FLT_MAX, nextafterf(FLT_MIN, 0), nextafterf(1.0f, 2.0f), nextafterf(1.0f, 0.0f),
                           nextafterf(FLT_MAX, 0)};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) check_float(edges[i]);
    /* Powers of two reach twice as far up as down: the nearest short decimal may lie below and not read back. */
    for (int e = -149; e <= 127; e++) {
        check_float(ldexpf(1.0f, e));
        check_float(-ldexpf(1.0f, e));
    }
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < RANDOM_COUNT; i++) {
        uint32_t bits = (uint32_t)(test_random(&state) >> 32);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (isfinite(f)) check_float(f);
        check_float(test_random_unit(&state) * 0.1f); /* embedding-like values too */
    }
    char text[EG_NUMBER_TEXT_MAX];
    eg_float_text(0.1f, text);
    CHECK(strcmp(text, "0.1") == 0);
    eg_float_text(-0.0f, text);
    CHECK(strcmp(text, "-0.0") == 0);
    eg_float_text(FLT_MAX, text);
    CHECK(strcmp(text, "3.4028235e38") == 0);
    eg_float_text(FLT_TRUE_MIN, text);
    CHECK(strcmp(text, "1e-45") == 0);
    CHECK(eg_json_float(INFINITY) == NULL && eg_json_float(NAN) == NULL);
}

TEST(doubles_print_shortest_and_read_back_bit_for_bit) {
    const double edges[] = {0.0, -0.0, 0.1, 0.30000000000000004, 1e300, 5e-324, -5e-324, DBL_MIN, DBL_MAX, -DBL_MAX,
                            100.0, 1e15, 1e16, 123456789012345680000.0, 1e-4, 1e-5, 0.5, 2.0 / 3.0};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) check_double(edges[i]);
    for (int e = -1074; e <= 1023; e += 7) check_double(ldexp(1.0, e));
    uint64_t state = 0x2545f4914f6cdd1dULL;
    for (int i = 0; i < RANDOM_COUNT; i++) {
        uint64_t bits = test_random(&state);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isfinite(d)) check_double(d);
    }
    const struct {
        double value;
        const char *text;
    } expected[] = {{0.1, "0.1"},          {1e300, "1e300"},     {5e-324, "5e-324"},
                    {100.0, "100.0"},      {-0.0, "-0.0"},       {0.30000000000000004, "0.30000000000000004"},
                    {1e-4, "0.0001"},      {1e-5, "1e-5"},       {1e16, "1e16"},
                    {123.0e13, "1230000000000000.0"}};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        char text[EG_NUMBER_TEXT_MAX];
        eg_double_text(expected[i].value, text);
        if (strcmp(text, expected[i].text) != 0) {
            fprintf(stderr, "    %a printed %s, expected %s\n", expected[i].value, text, expected[i].text);
            test_failures_in_current++;
        }
    }
}

/* Logs and archives written before the shortest form hold each float with 17 digits: they read back the same. */
TEST(seventeen_digit_text_still_reads_back_the_same_floats) {
    uint64_t state = 7;
    json_t *array = json_array();
    float written[256];
    for (int i = 0; i < 256; i++) {
        written[i] = test_random_unit(&state) * 0.05f;
        json_array_append_new(array, json_real(written[i])); /* what jansson printed with 17 digits */
    }
    char *old_text = json_dumps(array, JSON_COMPACT);
    json_decref(array);
    REQUIRE(old_text);
    json_t *parsed = json_loads(old_text, 0, NULL);
    free(old_text);
    float *values = NULL;
    size_t count = 0;
    eg_error err;
    CHECK_OK(eg_floats_from_json(parsed, "vector", &values, &count, &err), &err);
    CHECK(count == 256);
    for (size_t i = 0; values && i < count; i++) CHECK(same_float(values[i], written[i]));
    /* Written again, they take the short form. */
    json_t *again = eg_floats_json(values, count);
    char *new_text = eg_json_text(again, JSON_COMPACT);
    REQUIRE(new_text);
    json_t *reparsed = json_loads(new_text, 0, NULL);
    for (size_t i = 0; i < count; i++) CHECK(same_float((float)json_real_value(json_array_get(reparsed, i)), written[i]));
    free(new_text);
    free(values);
    json_decref(again);
    json_decref(reparsed);
    json_decref(parsed);
}

/* Everything but reals is laid out byte for byte as json_dumps lays it out, for every flag engram uses. */
TEST(the_encoder_matches_json_dumps_but_for_reals) {
    json_t *doc = json_loads("{\"b\": [1, -2, true, false, null, [], {}, [[]], {\"z\": {}}], \"a\": \"quote \\\" "
                             "backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f ctl \\u0001\\u001f "
                             "del \\u007f \\u00e9 \\u2028 \\ud83d\\ude00\", \"\": {\"key\": \"v\\u0000\"}, "
                             "\"n\": 9223372036854775807, \"m\": -9223372036854775808, \"nested\": {\"x\": [1, {\"y\": "
                             "[2, 3]}], \"w\": \"\"}}",
                             JSON_ALLOW_NUL, NULL);
    REQUIRE(doc);
    const size_t flags[] = {0, JSON_COMPACT, JSON_INDENT(2), JSON_INDENT(2) | JSON_SORT_KEYS,
                            JSON_COMPACT | JSON_SORT_KEYS, JSON_INDENT(4) | JSON_COMPACT, JSON_SORT_KEYS};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char *want = json_dumps(doc, flags[i]), *got = eg_json_text(doc, flags[i]);
        CHECK(want && got && strcmp(want, got) == 0);
        if (want && got && strcmp(want, got) != 0) fprintf(stderr, "    want %s\n    got  %s\n", want, got);
        free(want);
        free(got);
    }
    /* Any value may be the top one. */
    json_t *top = json_string("a\nb");
    char *text = eg_json_text(top, JSON_COMPACT);
    CHECK(text && strcmp(text, "\"a\\nb\"") == 0);
    free(text);
    json_decref(top);
    json_decref(doc);
}

/* A document with floats and payload doubles: floats come out short, doubles bit for bit. */
TEST(floats_and_doubles_in_one_document) {
    float vector[2] = {0.1f, 0.2f};
    json_t *doc = json_pack("{s:o, s:{s:f, s:f, s:f, s:f, s:i}}", "vector", eg_floats_json(vector, 2), "payload", "a",
                            0.1, "b", 1e300, "c", 5e-324, "d", 0.30000000000000004, "e", 7);
    char *text = eg_json_text(doc, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(text && strcmp(text, "{\"payload\":{\"a\":0.1,\"b\":1e300,\"c\":5e-324,\"d\":0.30000000000000004,\"e\":7},"
                               "\"vector\":[0.1,0.2]}") == 0);
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(back && json_equal(json_object_get(back, "payload"), json_object_get(doc, "payload")));
    json_t *payload = json_object_get(back, "payload");
    CHECK(same_double(json_real_value(json_object_get(payload, "a")), 0.1));
    CHECK(same_double(json_real_value(json_object_get(payload, "c")), 5e-324));
    CHECK(same_double(json_real_value(json_object_get(payload, "d")), 0.30000000000000004));
    CHECK(same_float((float)json_real_value(json_array_get(json_object_get(back, "vector"), 0)), 0.1f));
    free(text);
    json_decref(back);
    json_decref(doc);
}

int main(void) {
    RUN(floats_print_shortest_and_read_back);
    RUN(doubles_print_shortest_and_read_back_bit_for_bit);
    RUN(seventeen_digit_text_still_reads_back_the_same_floats);
    RUN(the_encoder_matches_json_dumps_but_for_reals);
    RUN(floats_and_doubles_in_one_document);
    return test_summary();
}
