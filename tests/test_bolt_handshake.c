/* test_bolt_handshake.c — Bolt's version negotiation, server side: plain proposals with and without minor
 * ranges (5.8 the highest answered, 5.6 kept for a client that stops there), 4.4, the 5.7+ manifest exchange,
 * refusals, and bytes arriving in every split. */
#include "bolt/handshake.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t MAGIC[4] = {0x60, 0x60, 0xB0, 0x17};

/* The 20 opening bytes: the magic and four proposals, each given as {range, minor, major}. */
static void opening(uint8_t out[20], const uint8_t proposals[4][3]) {
    memcpy(out, MAGIC, 4);
    for (int i = 0; i < 4; i++) {
        out[4 + 4 * i] = 0;
        out[5 + 4 * i] = proposals[i][0];
        out[6 + 4 * i] = proposals[i][1];
        out[7 + 4 * i] = proposals[i][2];
    }
}

TEST(exact_5_0_is_agreed) {
    const uint8_t proposals[4][3] = {{0, 0, 5}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    uint8_t bytes[20];
    opening(bytes, proposals);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, 20, &used, &reply) == EG_BOLT_HANDSHAKE_AGREED);
    CHECK(used == 20);
    CHECK(h.version.major == 5 && h.version.minor == 0);
    REQUIRE(reply.len == 4);
    CHECK(memcmp(reply.data, "\x00\x00\x00\x05", 4) == 0);
    free(reply.data);
}

/* The version agreed for four plain proposals, each {range, minor, major}; 0.0 when refused. */
static eg_bolt_version agreed_for(const uint8_t proposals[4][3]) {
    uint8_t bytes[20];
    opening(bytes, proposals);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    eg_bolt_handshake_state state = eg_bolt_handshake_feed(&h, bytes, 20, &used, &reply);
    eg_bolt_version agreed = {0, 0};
    if (state == EG_BOLT_HANDSHAKE_AGREED && reply.len == 4 && (uint8_t)reply.data[2] == h.version.minor &&
        (uint8_t)reply.data[3] == h.version.major)
        agreed = h.version;
    free(reply.data);
    return agreed;
}

TEST(range_picks_the_highest_supported_minor) {
    /* 5.8 down to 5.0 (what neo4j-driver 6 proposes beside the manifest): 5.8, the highest this server speaks */
    const uint8_t proposals[4][3] = {{8, 8, 5}, {2, 4, 4}, {0, 0, 0}, {0, 0, 0}};
    uint8_t bytes[20];
    opening(bytes, proposals);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, 20, &used, &reply) == EG_BOLT_HANDSHAKE_AGREED);
    CHECK(h.version.major == 5 && h.version.minor == 8);
    CHECK(EG_BOLT_MAX_5_MINOR == 8);
    REQUIRE(reply.len == 4);
    CHECK(memcmp(reply.data, "\x00\x00\x08\x05", 4) == 0);
    free(reply.data);
}

TEST(proposals_of_5_8_5_7_and_5_6_get_those_versions) {
    const uint8_t exact_5_8[4][3] = {{0, 8, 5}, {0, 4, 4}, {0, 0, 0}, {0, 0, 0}};
    eg_bolt_version v = agreed_for(exact_5_8);
    CHECK(v.major == 5 && v.minor == 8);
    const uint8_t exact_5_7[4][3] = {{0, 7, 5}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    v = agreed_for(exact_5_7);
    CHECK(v.major == 5 && v.minor == 7);
    /* a client that stops at 5.6 (drivers 5.23-5.25) keeps 5.6 and its FAILURE with `code` */
    const uint8_t up_to_5_6[4][3] = {{6, 6, 5}, {2, 4, 4}, {0, 0, 0}, {0, 0, 0}};
    v = agreed_for(up_to_5_6);
    CHECK(v.major == 5 && v.minor == 6);
    /* a range reaching past the server: 5.10 down to 5.4 is answered with 5.8 */
    const uint8_t past_the_server[4][3] = {{6, 10, 5}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    v = agreed_for(past_the_server);
    CHECK(v.major == 5 && v.minor == 8);
    /* a range 5.9 down to 5.7 that another proposal precedes: the first proposal with a match wins */
    const uint8_t first_wins[4][3] = {{0, 4, 4}, {2, 9, 5}, {0, 0, 0}, {0, 0, 0}};
    v = agreed_for(first_wins);
    CHECK(v.major == 4 && v.minor == 4);
}

TEST(a_range_entirely_above_the_server_falls_to_the_next_proposal) {
    const uint8_t proposals[4][3] = {{1, 10, 5}, {2, 4, 4}, {0, 0, 0}, {0, 0, 0}};
    uint8_t bytes[20];
    opening(bytes, proposals);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, 20, &used, &reply) == EG_BOLT_HANDSHAKE_AGREED);
    CHECK(h.version.major == 4 && h.version.minor == 4);
    REQUIRE(reply.len == 4);
    CHECK(memcmp(reply.data, "\x00\x00\x04\x04", 4) == 0);
    free(reply.data);
}

TEST(no_common_version_is_refused_with_zeros) {
    const uint8_t proposals[4][3] = {{0, 3, 4}, {0, 0, 3}, {0, 0, 6}, {0, 0, 0}};
    uint8_t bytes[20];
    opening(bytes, proposals);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, 20, &used, &reply) == EG_BOLT_HANDSHAKE_REFUSED);
    REQUIRE(reply.len == 4);
    CHECK(memcmp(reply.data, "\x00\x00\x00\x00", 4) == 0);
    free(reply.data);
}

TEST(wrong_magic_is_refused_without_reply) {
    uint8_t bytes[20] = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', '\r', '\n'};
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, 20, &used, &reply) == EG_BOLT_HANDSHAKE_REFUSED);
    CHECK(reply.len == 0);
    free(reply.data);
}

/* What the server must send for the manifest: 255.1, two ranges (5.8 down to 5.0, and 4.4), no capabilities. */
static const uint8_t EXPECTED_MANIFEST[] = {0x00, 0x00, 0x01, 0xFF, 0x02, 0x00, 0x08, 0x08,
                                            0x05, 0x00, 0x00, 0x04, 0x04, 0x00};

TEST(manifest_is_offered_and_the_choice_read) {
    const uint8_t proposals[4][3] = {{0, 1, 255}, {8, 8, 5}, {2, 4, 4}, {0, 0, 0}};
    uint8_t bytes[20 + 5 + 3];
    opening(bytes, proposals);
    /* the client's choice, 5.4, with capabilities 0, then the first bytes of a chunked HELLO */
    memcpy(bytes + 20, "\x00\x00\x04\x05\x00", 5);
    memcpy(bytes + 25, "\x00\x01\xB1", 3);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, sizeof bytes, &used, &reply) == EG_BOLT_HANDSHAKE_AGREED);
    CHECK(used == 25);
    CHECK(h.version.major == 5 && h.version.minor == 4);
    REQUIRE(reply.len == sizeof EXPECTED_MANIFEST);
    CHECK(memcmp(reply.data, EXPECTED_MANIFEST, sizeof EXPECTED_MANIFEST) == 0);
    free(reply.data);
}

TEST(manifest_choice_of_5_8_is_agreed) {
    /* what neo4j-driver 6 sends: the manifest request, 5.8 down to 5.0, 4.4 down to 4.2, 3.0; then it picks 5.8 */
    const uint8_t proposals[4][3] = {{0, 1, 255}, {8, 8, 5}, {2, 4, 4}, {0, 0, 3}};
    uint8_t bytes[20 + 5];
    opening(bytes, proposals);
    memcpy(bytes + 20, "\x00\x00\x08\x05\x00", 5);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, sizeof bytes, &used, &reply) == EG_BOLT_HANDSHAKE_AGREED);
    CHECK(h.manifest_sent);
    CHECK(h.version.major == 5 && h.version.minor == 8);
    REQUIRE(reply.len == sizeof EXPECTED_MANIFEST);
    CHECK(memcmp(reply.data, EXPECTED_MANIFEST, sizeof EXPECTED_MANIFEST) == 0);
    free(reply.data);
}

TEST(manifest_choice_with_a_multibyte_capabilities_varint) {
    const uint8_t proposals[4][3] = {{0, 1, 255}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    uint8_t bytes[20 + 7];
    opening(bytes, proposals);
    memcpy(bytes + 20, "\x00\x00\x04\x04\x81\x80\x01", 7);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, sizeof bytes, &used, &reply) == EG_BOLT_HANDSHAKE_AGREED);
    CHECK(used == sizeof bytes);
    CHECK(h.version.major == 4 && h.version.minor == 4);
    free(reply.data);
}

TEST(manifest_choice_outside_the_offer_is_refused) {
    const uint8_t proposals[4][3] = {{0, 1, 255}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    const char *choices[] = {"\x00\x00\x09\x05\x00", "\x00\x00\x00\x00\x00", "\x00\x00\x03\x04\x00"};
    for (size_t i = 0; i < 3; i++) {
        uint8_t bytes[25];
        opening(bytes, proposals);
        memcpy(bytes + 20, choices[i], 5);
        eg_bolt_handshake h = {0};
        eg_byte_buffer reply = {0};
        size_t used;
        CHECK(eg_bolt_handshake_feed(&h, bytes, sizeof bytes, &used, &reply) == EG_BOLT_HANDSHAKE_REFUSED);
        CHECK(reply.len == sizeof EXPECTED_MANIFEST);
        free(reply.data);
    }
}

TEST(manifest_capabilities_varint_too_long_is_refused) {
    const uint8_t proposals[4][3] = {{0, 1, 255}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    uint8_t bytes[20 + 4 + 11];
    opening(bytes, proposals);
    memcpy(bytes + 20, "\x00\x00\x00\x05", 4);
    memset(bytes + 24, 0x80, 11);
    eg_bolt_handshake h = {0};
    eg_byte_buffer reply = {0};
    size_t used;
    CHECK(eg_bolt_handshake_feed(&h, bytes, sizeof bytes, &used, &reply) == EG_BOLT_HANDSHAKE_REFUSED);
    free(reply.data);
}

TEST(bytes_split_anywhere_give_the_same_result) {
    const uint8_t proposals[4][3] = {{0, 1, 255}, {8, 8, 5}, {0, 0, 0}, {0, 0, 0}};
    uint8_t bytes[25];
    opening(bytes, proposals);
    memcpy(bytes + 20, "\x00\x00\x02\x05\x00", 5);
    for (size_t split = 0; split <= sizeof bytes; split++) {
        eg_bolt_handshake h = {0};
        eg_byte_buffer reply = {0};
        size_t used_first, used_second;
        eg_bolt_handshake_feed(&h, bytes, split, &used_first, &reply);
        CHECK(used_first == split);
        CHECK(eg_bolt_handshake_feed(&h, bytes + split, sizeof bytes - split, &used_second, &reply) ==
              EG_BOLT_HANDSHAKE_AGREED);
        CHECK(used_first + used_second == sizeof bytes);
        CHECK(h.version.major == 5 && h.version.minor == 2);
        CHECK(reply.len == sizeof EXPECTED_MANIFEST);
        free(reply.data);
    }
}

int main(void) {
    RUN(exact_5_0_is_agreed);
    RUN(range_picks_the_highest_supported_minor);
    RUN(proposals_of_5_8_5_7_and_5_6_get_those_versions);
    RUN(a_range_entirely_above_the_server_falls_to_the_next_proposal);
    RUN(no_common_version_is_refused_with_zeros);
    RUN(wrong_magic_is_refused_without_reply);
    RUN(manifest_is_offered_and_the_choice_read);
    RUN(manifest_choice_of_5_8_is_agreed);
    RUN(manifest_choice_with_a_multibyte_capabilities_varint);
    RUN(manifest_choice_outside_the_offer_is_refused);
    RUN(manifest_capabilities_varint_too_long_is_refused);
    RUN(bytes_split_anywhere_give_the_same_result);
    return test_summary();
}
