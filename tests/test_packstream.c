/* test_packstream.c — PackStream v1 (src/bolt/packstream.c) and Bolt chunking (src/bolt/chunking.c): encodings
 * byte for byte against the specification's examples, the smallest marker at every integer and size boundary,
 * round trips of every kind, every reserved marker, truncation and bad UTF-8 refused with an error naming the
 * offset, the depth/size/count bounds, the value structures' field counts per Bolt version, and chunked framing
 * reassembled at every split point with NOOPs between messages and oversized messages refused. */
#include "bolt/chunking.h"
#include "bolt/packstream.h"
#include "test.h"

/* ---- helpers ---- */

/* Parses "C9 00 80" into bytes; returns the count. */
static size_t hex(const char *text, uint8_t *out) {
    size_t n = 0;
    for (const char *p = text; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned byte;
        if (sscanf(p, "%2x", &byte) != 1) abort();
        out[n++] = (uint8_t)byte;
        p += 2;
    }
    return n;
}

/* The bytes written equal the hex vector. */
static bool written_is(eg_ps_writer *w, const char *expected) {
    uint8_t want[256];
    size_t n = hex(expected, want);
    bool same = w->status == EG_OK && w->out.len == n && memcmp(w->out.data, want, n) == 0;
    if (!same) {
        fprintf(stderr, "  expected %s, got", expected);
        for (size_t i = 0; i < w->out.len && i < 32; i++)
            fprintf(stderr, " %02X", (uint8_t)w->out.data[i]);
        fprintf(stderr, "\n");
    }
    free(w->out.data);
    *w = (eg_ps_writer){0};
    return same;
}

/* Encodes v, decodes it back (5.x, not a message) and checks equality and that the second encoding is the same. */
static bool round_trips(const eg_ps_value *v) {
    eg_ps_writer w = {0}, again = {0};
    eg_ps_write_value(&w, v);
    eg_error err;
    eg_ps_value back;
    bool ok = w.status == EG_OK &&
              eg_ps_decode((const uint8_t *)w.out.data, w.out.len, EG_PS_BOLT_5, false, &back, &err) == EG_OK;
    if (ok) {
        ok = eg_ps_value_equal(v, &back);
        eg_ps_write_value(&again, &back);
        ok = ok && again.out.len == w.out.len && memcmp(again.out.data, w.out.data, w.out.len) == 0;
        eg_ps_value_free(&back);
    } else {
        fprintf(stderr, "  round trip failed: %s\n", err.message);
    }
    free(w.out.data);
    free(again.out.data);
    return ok;
}

/* Decodes bytes expecting a refusal whose message contains `expected`. */
static bool refused(const uint8_t *bytes, size_t len, eg_ps_dialect dialect, bool message, const char *expected) {
    eg_ps_value v;
    eg_error err = {0};
    eg_status s = eg_ps_decode(bytes, len, dialect, message, &v, &err);
    bool ok = s == EG_INVALID_ARGUMENT && v.kind == EG_PS_NULL && strstr(err.message, expected) != NULL;
    if (!ok)
        fprintf(stderr, "  expected a refusal with \"%s\", got %s \"%s\"\n", expected, eg_status_name(s), err.message);
    if (s == EG_OK) eg_ps_value_free(&v);
    return ok;
}

static bool refused_hex(const char *text, const char *expected) {
    uint8_t bytes[256];
    size_t n = hex(text, bytes);
    return refused(bytes, n, EG_PS_BOLT_5, false, expected);
}

static eg_ps_value make_int(int64_t i) { return (eg_ps_value){.kind = EG_PS_INT, .as.integer = i}; }

/* A string or byte array of len bytes of 'x' (owned by the value). */
static eg_ps_value make_text(eg_ps_kind kind, size_t len) {
    eg_ps_value v = {.kind = kind};
    v.as.text.data = malloc(len + 1);
    memset(v.as.text.data, 'x', len);
    v.as.text.data[len] = '\0';
    v.as.text.len = len;
    return v;
}

/* The first bytes of an encoding. */
static bool encoding_starts(const eg_ps_value *v, const char *prefix) {
    eg_ps_writer w = {0};
    eg_ps_write_value(&w, v);
    uint8_t want[16];
    size_t n = hex(prefix, want);
    bool ok = w.status == EG_OK && w.out.len >= n && memcmp(w.out.data, want, n) == 0;
    free(w.out.data);
    return ok;
}

/* ---- encodings from the specification ---- */

TEST(scalars_encode_as_the_specification_shows) {
    eg_ps_writer w = {0};
    eg_ps_write_null(&w);
    CHECK(written_is(&w, "C0"));
    eg_ps_write_bool(&w, true);
    CHECK(written_is(&w, "C3"));
    eg_ps_write_bool(&w, false);
    CHECK(written_is(&w, "C2"));
    eg_ps_write_float(&w, 1.1);
    CHECK(written_is(&w, "C1 3F F1 99 99 99 99 99 9A"));
    eg_ps_write_float(&w, -1.1);
    CHECK(written_is(&w, "C1 BF F1 99 99 99 99 99 9A"));
    eg_ps_write_string(&w, "", 0);
    CHECK(written_is(&w, "80"));
    eg_ps_write_string(&w, "A", 1);
    CHECK(written_is(&w, "81 41"));
    eg_ps_write_string(&w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26);
    CHECK(written_is(&w, "D0 1A 41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F 50 51 52 53 54 55 56 57 58 59 5A"));
    eg_ps_write_string(&w,
                       "Gr\xc3\xb6\xc3\x9f"
                       "enma\xc3\x9fst\xc3\xa4"
                       "be",
                       18);
    CHECK(written_is(&w, "D0 12 47 72 C3 B6 C3 9F 65 6E 6D 61 C3 9F 73 74 C3 A4 62 65"));
    eg_ps_write_bytes(&w, "", 0);
    CHECK(written_is(&w, "CC 00"));
    eg_ps_write_bytes(&w, "\x01\x02\x03", 3);
    CHECK(written_is(&w, "CC 03 01 02 03"));
}

TEST(integers_take_the_smallest_marker) {
    static const struct {
        int64_t value;
        const char *bytes;
    } cases[] = {
        {0, "00"},
        {1, "01"},
        {42, "2A"},
        {127, "7F"},
        {-1, "FF"},
        {-16, "F0"},
        {-17, "C8 EF"},
        {-128, "C8 80"},
        {128, "C9 00 80"},
        {-129, "C9 FF 7F"},
        {32767, "C9 7F FF"},
        {-32768, "C9 80 00"},
        {32768, "CA 00 00 80 00"},
        {-32769, "CA FF FF 7F FF"},
        {2147483647, "CA 7F FF FF FF"},
        {-2147483648LL, "CA 80 00 00 00"},
        {2147483648LL, "CB 00 00 00 00 80 00 00 00"},
        {-2147483649LL, "CB FF FF FF FF 7F FF FF FF"},
        {INT64_MAX, "CB 7F FF FF FF FF FF FF FF"},
        {INT64_MIN, "CB 80 00 00 00 00 00 00 00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_ps_writer w = {0};
        eg_ps_write_int(&w, cases[i].value);
        CHECK(written_is(&w, cases[i].bytes));
        eg_ps_value v = make_int(cases[i].value);
        CHECK(round_trips(&v));
    }
}

TEST(integers_decode_from_wider_markers_than_needed) {
    static const char *const ones[] = {"01", "C8 01", "C9 00 01", "CA 00 00 00 01", "CB 00 00 00 00 00 00 00 01"};
    static const char *const minus_ones[] = {"FF", "C8 FF", "C9 FF FF", "CA FF FF FF FF", "CB FF FF FF FF FF FF FF FF"};
    for (size_t i = 0; i < 5; i++) {
        uint8_t bytes[16];
        eg_ps_value v;
        eg_error err;
        size_t n = hex(ones[i], bytes);
        CHECK_OK(eg_ps_decode(bytes, n, EG_PS_BOLT_5, false, &v, &err), &err);
        CHECK(v.kind == EG_PS_INT && v.as.integer == 1);
        n = hex(minus_ones[i], bytes);
        CHECK_OK(eg_ps_decode(bytes, n, EG_PS_BOLT_5, false, &v, &err), &err);
        CHECK(v.kind == EG_PS_INT && v.as.integer == -1);
    }
}

TEST(containers_encode_as_the_specification_shows) {
    eg_ps_writer w = {0};
    eg_ps_write_list_header(&w, 0);
    CHECK(written_is(&w, "90"));
    eg_ps_write_list_header(&w, 3);
    eg_ps_write_int(&w, 1);
    eg_ps_write_int(&w, 2);
    eg_ps_write_int(&w, 3);
    CHECK(written_is(&w, "93 01 02 03"));
    eg_ps_write_dict_header(&w, 0);
    CHECK(written_is(&w, "A0"));
    eg_ps_write_dict_header(&w, 1);
    eg_ps_write_string(&w, "one", 3);
    eg_ps_write_string(&w, "eins", 4);
    CHECK(written_is(&w, "A1 83 6F 6E 65 84 65 69 6E 73"));
    /* a 5.x Node: (id 1, labels ["A"], properties {}, element_id "1") */
    eg_ps_write_struct_header(&w, 0x4E, 4);
    eg_ps_write_int(&w, 1);
    eg_ps_write_list_header(&w, 1);
    eg_ps_write_string(&w, "A", 1);
    eg_ps_write_dict_header(&w, 0);
    eg_ps_write_string(&w, "1", 1);
    CHECK(written_is(&w, "B4 4E 01 91 81 41 A0 81 31"));
}

/* ---- sizes ---- */

TEST(strings_and_bytes_round_trip_at_every_size_boundary) {
    static const struct {
        size_t len;
        const char *string_header, *bytes_header;
    } cases[] = {
        {0, "80", "CC 00"},
        {15, "8F", "CC 0F"},
        {16, "D0 10", "CC 10"},
        {255, "D0 FF", "CC FF"},
        {256, "D1 01 00", "CD 01 00"},
        {65535, "D1 FF FF", "CD FF FF"},
        {65536, "D2 00 01 00 00", "CE 00 01 00 00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_ps_value s = make_text(EG_PS_STRING, cases[i].len), b = make_text(EG_PS_BYTES, cases[i].len);
        CHECK(encoding_starts(&s, cases[i].string_header));
        CHECK(encoding_starts(&b, cases[i].bytes_header));
        CHECK(round_trips(&s));
        CHECK(round_trips(&b));
        eg_ps_value_free(&s);
        eg_ps_value_free(&b);
    }
}

TEST(lists_dicts_and_structs_round_trip_at_every_size_boundary) {
    static const struct {
        size_t count;
        const char *list_header, *dict_header;
    } cases[] = {
        {0, "90", "A0"},
        {15, "9F", "AF"},
        {16, "D4 10", "D8 10"},
        {255, "D4 FF", "D8 FF"},
        {256, "D5 01 00", "D9 01 00"},
        {65535, "D5 FF FF", "D9 FF FF"},
        {65536, "D6 00 01 00 00", "DA 00 01 00 00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].count;
        eg_ps_value list = {.kind = EG_PS_LIST}, dict = {.kind = EG_PS_DICT};
        list.as.list.items = calloc(n ? n : 1, sizeof(eg_ps_value));
        list.as.list.count = n;
        dict.as.dict.entries = calloc(n ? n : 1, sizeof(eg_ps_entry));
        dict.as.dict.count = n;
        for (size_t k = 0; k < n; k++) {
            list.as.list.items[k] = make_int((int64_t)k - 100);
            char key[16];
            int key_len = snprintf(key, sizeof key, "k%zu", k);
            dict.as.dict.entries[k].key = strdup(key);
            dict.as.dict.entries[k].key_len = (size_t)key_len;
            dict.as.dict.entries[k].value = make_int((int64_t)k * 1000);
        }
        CHECK(encoding_starts(&list, cases[i].list_header));
        CHECK(encoding_starts(&dict, cases[i].dict_header));
        CHECK(round_trips(&list));
        CHECK(round_trips(&dict));
        eg_ps_value_free(&list);
        eg_ps_value_free(&dict);
    }
    /* every value structure of 5.x, with null fields, round trips; 16 fields cannot be written */
    static const uint8_t tags[] = {0x4E, 0x52, 0x72, 0x50, 0x44, 0x54, 0x74, 0x49, 0x69, 0x64, 0x45, 0x58, 0x59};
    for (size_t i = 0; i < sizeof tags; i++) {
        int fields = eg_ps_struct_fields(EG_PS_BOLT_5, tags[i]);
        REQUIRE(fields > 0);
        eg_ps_value st = {.kind = EG_PS_STRUCT};
        st.as.list.tag = tags[i];
        st.as.list.count = (size_t)fields;
        st.as.list.items = calloc((size_t)fields, sizeof(eg_ps_value));
        CHECK(round_trips(&st));
        eg_ps_value_free(&st);
    }
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, 0x01, 16);
    eg_error err;
    CHECK_STATUS(eg_ps_writer_status(&w, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "at most 15") != NULL);
    free(w.out.data);
}

TEST(floats_round_trip_bit_for_bit) {
    double cases[] = {0.0, -0.0, 1.0, -1.5, 1e308, 5e-324, 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_ps_value v = {.kind = EG_PS_FLOAT, .as.real = cases[i]};
        CHECK(round_trips(&v));
    }
    eg_ps_value zero = {.kind = EG_PS_FLOAT, .as.real = 0.0}, minus_zero = {.kind = EG_PS_FLOAT, .as.real = -0.0};
    CHECK(!eg_ps_value_equal(&zero, &minus_zero));
}

TEST(strings_keep_embedded_nul_and_every_plane) {
    eg_ps_value v = make_text(EG_PS_STRING, 0);
    free(v.as.text.data);
    v.as.text.data = strdup("a\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9");
    v.as.text.len = strlen(v.as.text.data) + 1; /* the terminating NUL is part of the string */
    CHECK(round_trips(&v));
    eg_ps_value_free(&v);
}

/* ---- refusals ---- */

TEST(every_reserved_marker_is_refused) {
    static const uint8_t reserved[] = {0xC4, 0xC5, 0xC6, 0xC7, 0xCF, 0xD3, 0xD7, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF};
    for (size_t i = 0; i < sizeof reserved; i++) {
        uint8_t bytes[4] = {reserved[i], 0, 0, 0};
        CHECK(refused(bytes, sizeof bytes, EG_PS_BOLT_5, false, "at byte 0: marker"));
    }
    for (unsigned m = 0xE0; m <= 0xEF; m++) {
        uint8_t bytes[1] = {(uint8_t)m};
        CHECK(refused(bytes, 1, EG_PS_BOLT_5, false, "reserved"));
    }
    CHECK(refused_hex("92 01 C7", "at byte 2: marker 0xC7 is reserved"));
}

TEST(truncation_at_every_byte_is_refused) {
    /* a RUN-like message holding every kind: B3 10 "q" {p: [1, 1.5, true, null, b"\x01", 300, {"x": "y"}]} {} */
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, 0x10, 3);
    eg_ps_write_string(&w, "MATCH (n) RETURN n", 18);
    eg_ps_write_dict_header(&w, 1);
    eg_ps_write_string(&w, "p", 1);
    eg_ps_write_list_header(&w, 8);
    eg_ps_write_int(&w, 1);
    eg_ps_write_float(&w, 1.5);
    eg_ps_write_bool(&w, true);
    eg_ps_write_null(&w);
    eg_ps_write_bytes(&w, "\x01", 1);
    eg_ps_write_int(&w, 300);
    eg_ps_write_int(&w, INT64_MIN);
    eg_ps_write_dict_header(&w, 1);
    eg_ps_write_string(&w, "x", 1);
    eg_ps_write_string(&w, "y", 1);
    eg_ps_write_dict_header(&w, 0);
    REQUIRE(w.status == EG_OK);
    const uint8_t *bytes = (const uint8_t *)w.out.data;
    eg_ps_value v;
    eg_error err;
    CHECK_OK(eg_ps_decode(bytes, w.out.len, EG_PS_BOLT_5, true, &v, &err), &err);
    CHECK(v.kind == EG_PS_STRUCT && v.as.list.tag == 0x10 && v.as.list.count == 3);
    eg_ps_value_free(&v);
    for (size_t cut = 0; cut < w.out.len; cut++)
        CHECK(refused(bytes, cut, EG_PS_BOLT_5, true, "truncated"));
    /* and one byte too many */
    uint8_t *longer = malloc(w.out.len + 1);
    memcpy(longer, bytes, w.out.len);
    longer[w.out.len] = 0xC0;
    CHECK(refused(longer, w.out.len + 1, EG_PS_BOLT_5, true, "1 bytes follow the value"));
    free(longer);
    free(w.out.data);
}

TEST(invalid_utf8_is_refused_in_strings_and_keys) {
    CHECK(refused_hex("82 C0 80", "at byte 0: string of 2 bytes is not valid UTF-8")); /* overlong NUL */
    CHECK(refused_hex("83 ED A0 80", "not valid UTF-8"));                              /* surrogate */
    CHECK(refused_hex("84 F4 90 80 80", "not valid UTF-8"));                           /* past U+10FFFF */
    CHECK(refused_hex("81 80", "not valid UTF-8"));                                    /* lone continuation */
    CHECK(refused_hex("82 E2 82", "not valid UTF-8"));                                 /* cut sequence */
    CHECK(refused_hex("81 FF", "not valid UTF-8"));
    CHECK(refused_hex("A1 81 FE 01", "at byte 1: string of 1 bytes is not valid UTF-8")); /* in a key */
    eg_ps_writer w = {0};
    eg_ps_write_string(&w, "\xc3", 1);
    eg_error err;
    CHECK_STATUS(eg_ps_writer_status(&w, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "not valid UTF-8") != NULL);
    eg_ps_write_null(&w); /* after a failure nothing more is written */
    CHECK(w.out.len == 0);
    free(w.out.data);
}

TEST(dictionary_keys_must_be_strings_and_the_last_repeat_wins) {
    CHECK(refused_hex("A1 01 01", "at byte 1: dictionary key 0 is not a string"));
    CHECK(refused_hex("A2 81 61 01 C0 01", "at byte 4: dictionary key 1 is not a string"));
    CHECK(refused_hex("A1 91 81 61 01", "dictionary key 0 is not a string"));
    uint8_t bytes[32];
    size_t n = hex("A3 81 61 01 81 62 02 81 61 03", bytes);
    eg_ps_value v;
    eg_error err;
    CHECK_OK(eg_ps_decode(bytes, n, EG_PS_BOLT_5, false, &v, &err), &err);
    REQUIRE(v.kind == EG_PS_DICT && v.as.dict.count == 2);
    CHECK(strcmp(v.as.dict.entries[0].key, "b") == 0 && v.as.dict.entries[0].value.as.integer == 2);
    CHECK(strcmp(v.as.dict.entries[1].key, "a") == 0 && v.as.dict.entries[1].value.as.integer == 3);
    eg_ps_value_free(&v);
}

TEST(bombs_are_refused_before_they_cost_memory) {
    /* sizes declaring far more than the message holds */
    CHECK(refused_hex("D6 FF FF FF FF", "truncated list: declares 4294967295 elements, only 0 bytes remain"));
    CHECK(refused_hex("DA 7F FF FF FF C0", "truncated dictionary: declares"));
    CHECK(refused_hex("D2 FF FF FF FF 41", "truncated string: declares 4294967295 bytes"));
    CHECK(refused_hex("CE 00 01 00 00 41", "truncated byte array"));
    CHECK(refused_hex("B4 4E 01", "truncated structure: declares 4 elements"));
    /* nesting: 32 levels decode, 33 do not */
    uint8_t nested[64];
    memset(nested, 0x91, sizeof nested);
    nested[31] = 0xC0;
    eg_ps_value v;
    eg_error err;
    CHECK_OK(eg_ps_decode(nested, 32, EG_PS_BOLT_5, false, &v, &err), &err);
    eg_ps_value_free(&v);
    nested[31] = 0x91;
    nested[32] = 0xC0;
    CHECK(refused(nested, 33, EG_PS_BOLT_5, false, "at byte 32: nested deeper than 32 levels"));
    /* count: a list of EG_PS_MAX_VALUES nulls is one value too many with the list itself */
    size_t count = EG_PS_MAX_VALUES;
    uint8_t *many = malloc(count + 5);
    many[0] = 0xD6;
    many[1] = (uint8_t)(count >> 24), many[2] = (uint8_t)(count >> 16), many[3] = (uint8_t)(count >> 8);
    many[4] = (uint8_t)count;
    memset(many + 5, 0xC0, count);
    CHECK(refused(many, count + 5, EG_PS_BOLT_5, false, "passes the limit of 1048576 values"));
    count--;
    many[1] = (uint8_t)(count >> 24), many[2] = (uint8_t)(count >> 16), many[3] = (uint8_t)(count >> 8);
    many[4] = (uint8_t)count;
    CHECK_OK(eg_ps_decode(many, count + 5, EG_PS_BOLT_5, false, &v, &err), &err);
    CHECK(v.kind == EG_PS_LIST && v.as.list.count == count);
    eg_ps_value_free(&v);
    free(many);
    /* a message larger than the bound is refused whatever it holds */
    uint8_t *huge = calloc(EG_PS_MAX_MESSAGE_BYTES + 1, 1);
    REQUIRE(huge);
    CHECK(refused(huge, EG_PS_MAX_MESSAGE_BYTES + 1, EG_PS_BOLT_5, false, "message of 16777217 bytes exceeds"));
    free(huge);
}

TEST(value_structures_have_their_field_counts_per_version) {
    CHECK(refused_hex("B3 4E 01 90 A0", "structure 0x4E has 3 fields, Bolt 5 defines 4"));
    uint8_t node44[8];
    size_t n = hex("B3 4E 01 90 A0", node44);
    eg_ps_value v;
    eg_error err;
    CHECK_OK(eg_ps_decode(node44, n, EG_PS_BOLT_4_4, false, &v, &err), &err);
    eg_ps_value_free(&v);
    CHECK(refused(node44, n, EG_PS_BOLT_5, false, "at byte 0: structure 0x4E has 3 fields"));
    /* the legacy DateTime of 4.4 is no 5.x structure; both DateTime forms are 4.4's */
    uint8_t legacy[8];
    n = hex("B3 46 01 02 03", legacy);
    CHECK_OK(eg_ps_decode(legacy, n, EG_PS_BOLT_4_4, false, &v, &err), &err);
    eg_ps_value_free(&v);
    CHECK(refused(legacy, n, EG_PS_BOLT_5, false, "structure tag 0x46 is no value structure of Bolt 5"));
    legacy[1] = 0x49;
    CHECK_OK(eg_ps_decode(legacy, n, EG_PS_BOLT_4_4, false, &v, &err), &err);
    eg_ps_value_free(&v);
    /* a message's own tag is free, its fields are checked */
    CHECK(refused_hex("B1 10 C0", "structure tag 0x10 is no value structure"));
    uint8_t hello[16];
    n = hex("B1 01 A1 81 61 B1 44 01", hello);
    CHECK_OK(eg_ps_decode(hello, n, EG_PS_BOLT_5, true, &v, &err), &err);
    CHECK(v.kind == EG_PS_STRUCT && v.as.list.tag == 0x01);
    eg_ps_value_free(&v);
    hello[6] = 0x45; /* Duration needs 4 fields */
    CHECK(refused(hello, n, EG_PS_BOLT_5, true, "at byte 5: structure 0x45 has 1 fields, Bolt 5 defines 4"));
    CHECK(eg_ps_struct_fields(EG_PS_BOLT_5, 0x52) == 8 && eg_ps_struct_fields(EG_PS_BOLT_4_4, 0x52) == 5);
    CHECK(eg_ps_struct_fields(EG_PS_BOLT_5, 0x72) == 4 && eg_ps_struct_fields(EG_PS_BOLT_4_4, 0x72) == 3);
}

/* ---- chunking ---- */

TEST(messages_are_cut_into_chunks_of_at_most_65535_bytes) {
    size_t sizes[] = {1, 65534, 65535, 65536, 65535 * 2 + 7};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        uint8_t *msg = malloc(len);
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)(k * 7);
        eg_byte_buffer out = {0};
        REQUIRE(eg_bolt_chunk_message(msg, len, &out, SIZE_MAX));
        const uint8_t *p = (const uint8_t *)out.data;
        size_t at = 0, got = 0;
        bool ok = true;
        for (;;) {
            size_t chunk = (size_t)p[at] << 8 | p[at + 1];
            at += 2;
            if (chunk == 0) break;
            ok = ok && chunk <= EG_BOLT_MAX_CHUNK && memcmp(p + at, msg + got, chunk) == 0;
            ok = ok && (chunk == EG_BOLT_MAX_CHUNK || got + chunk == len); /* only the last chunk is short */
            at += chunk, got += chunk;
        }
        CHECK(ok && got == len && at == out.len);
        eg_bolt_dechunker d = {.max_message = len};
        size_t used;
        eg_error err;
        CHECK_OK(eg_bolt_dechunker_feed(&d, p, out.len, &used, &err), &err);
        CHECK(d.complete && used == out.len && d.message.len == len && memcmp(d.message.data, msg, len) == 0);
        eg_bolt_dechunker_free(&d);
        free(out.data);
        free(msg);
    }
    eg_byte_buffer out = {0};
    CHECK(!eg_bolt_chunk_message((const uint8_t *)"x", 0, &out, SIZE_MAX));
    CHECK(!eg_bolt_chunk_message((const uint8_t *)"xyz", 3, &out, 6)); /* 2 + 3 + 2 bytes passes 6 */
    free(out.data);
}

/* Feeds stream[0..len) in two pieces split at `split` and collects every complete message, one after another. */
static size_t reassemble(const uint8_t *stream, size_t len, size_t split, char collected[][8], size_t max_messages) {
    eg_bolt_dechunker d = {.max_message = 64};
    size_t found = 0;
    size_t pieces[2][2] = {{0, split}, {split, len}};
    for (int piece = 0; piece < 2; piece++) {
        size_t at = pieces[piece][0], end = pieces[piece][1];
        while (at < end) {
            size_t used;
            eg_error err;
            if (eg_bolt_dechunker_feed(&d, stream + at, end - at, &used, &err) != EG_OK) abort();
            at += used;
            if (d.complete) {
                if (found < max_messages && d.message.len < 8) {
                    memcpy(collected[found], d.message.data, d.message.len);
                    collected[found][d.message.len] = '\0';
                }
                found++;
                eg_bolt_dechunker_next(&d);
            }
        }
    }
    eg_bolt_dechunker_free(&d);
    return found;
}

TEST(reassembly_works_at_every_split_point_and_skips_noops) {
    /* NOOP, "abc" in chunks "ab" + "c", NOOP, NOOP, "de", NOOP */
    uint8_t stream[64];
    size_t len = hex("0000 0002 6162 0001 63 0000 0000 0000 0002 6465 0000 0000", stream);
    for (size_t split = 0; split <= len; split++) {
        char got[4][8];
        size_t found = reassemble(stream, len, split, got, 4);
        CHECK(found == 2);
        CHECK(found == 2 && strcmp(got[0], "abc") == 0 && strcmp(got[1], "de") == 0);
    }
}

TEST(an_oversized_message_is_refused_for_good) {
    uint8_t stream[32];
    size_t len = hex("0004 61626364 0003 656667 0000", stream);
    eg_bolt_dechunker d = {.max_message = 6};
    size_t used;
    eg_error err;
    CHECK_STATUS(eg_bolt_dechunker_feed(&d, stream, len, &used, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "larger than 6 bytes") != NULL && !d.complete);
    CHECK_STATUS(eg_bolt_dechunker_feed(&d, stream + used, len - used, &used, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(used == 0);
    eg_bolt_dechunker_free(&d);
    /* exactly at the bound it is taken */
    len = hex("0004 61626364 0002 6566 0000", stream);
    d = (eg_bolt_dechunker){.max_message = 6};
    CHECK_OK(eg_bolt_dechunker_feed(&d, stream, len, &used, &err), &err);
    CHECK(d.complete && d.message.len == 6 && used == len);
    eg_bolt_dechunker_free(&d);
}

TEST(the_writer_refuses_a_message_past_the_bound) {
    uint8_t *big = calloc(EG_PS_MAX_MESSAGE_BYTES, 1);
    REQUIRE(big);
    eg_ps_writer w = {0};
    eg_ps_write_bytes(&w, big, EG_PS_MAX_MESSAGE_BYTES - 5); /* CE and a 4-byte size: exactly the bound */
    eg_error err;
    CHECK_OK(eg_ps_writer_status(&w, &err), &err);
    CHECK(w.out.len == EG_PS_MAX_MESSAGE_BYTES);
    eg_ps_write_null(&w);
    CHECK_STATUS(eg_ps_writer_status(&w, &err), EG_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "message larger than 16777216 bytes") != NULL);
    CHECK(w.out.len == EG_PS_MAX_MESSAGE_BYTES);
    free(w.out.data);
    free(big);
}

int main(void) {
    RUN(scalars_encode_as_the_specification_shows);
    RUN(integers_take_the_smallest_marker);
    RUN(integers_decode_from_wider_markers_than_needed);
    RUN(containers_encode_as_the_specification_shows);
    RUN(strings_and_bytes_round_trip_at_every_size_boundary);
    RUN(lists_dicts_and_structs_round_trip_at_every_size_boundary);
    RUN(floats_round_trip_bit_for_bit);
    RUN(strings_keep_embedded_nul_and_every_plane);
    RUN(every_reserved_marker_is_refused);
    RUN(truncation_at_every_byte_is_refused);
    RUN(invalid_utf8_is_refused_in_strings_and_keys);
    RUN(dictionary_keys_must_be_strings_and_the_last_repeat_wins);
    RUN(bombs_are_refused_before_they_cost_memory);
    RUN(value_structures_have_their_field_counts_per_version);
    RUN(the_writer_refuses_a_message_past_the_bound);
    RUN(messages_are_cut_into_chunks_of_at_most_65535_bytes);
    RUN(reassembly_works_at_every_split_point_and_skips_noops);
    RUN(an_oversized_message_is_refused_for_good);
    return test_summary();
}
