/* test_crc32c.c — CRC32C: the standard check value and the iSCSI test vectors (RFC 3720, B.4), the portable and
 * the hardware implementations agreeing with a bit-at-a-time reference on random buffers of every small length
 * and alignment, and checksums extended piece by piece equal to the whole. */
#include "test.h"
#include "util/crc32c.h"

#include <stdint.h>

/* The definition itself, one bit at a time: slow, obviously right. */
static uint32_t reference(uint32_t crc, const unsigned char *p, size_t n) {
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static uint64_t rng = 0x243F6A8885A308D3ULL;
static uint32_t next_random(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void check_vectors(crc_fn crc) {
    CHECK(crc(0, "123456789", 9) == 0xE3069283u);
    CHECK(crc(0, "", 0) == 0);
    unsigned char buf[32];
    memset(buf, 0, sizeof buf);
    CHECK(crc(0, buf, sizeof buf) == 0x8A9136AAu);
    memset(buf, 0xFF, sizeof buf);
    CHECK(crc(0, buf, sizeof buf) == 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
    CHECK(crc(0, buf, sizeof buf) == 0x46DD794Eu);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)(31 - i);
    CHECK(crc(0, buf, sizeof buf) == 0x113FDB5Cu);
}

TEST(portable_matches_the_standard_vectors) { check_vectors(eg_crc32c_portable); }

TEST(hardware_matches_the_standard_vectors) {
    if (!eg_crc32c_hardware_available()) {
        printf("  (no CRC32C instruction on this CPU: skipped)\n");
        return;
    }
    check_vectors(eg_crc32c_hardware);
}

TEST(dispatch_matches_the_standard_vectors) { check_vectors(eg_crc32c); }

/* Every length up to 600 at every alignment 0..15, then a few long buffers, each against the reference. */
TEST(implementations_agree_on_random_buffers) {
    enum { MAX = 1 << 20 };
    unsigned char *buf = malloc(MAX + 16);
    REQUIRE(buf);
    for (size_t i = 0; i < MAX + 16; i++) buf[i] = (unsigned char)next_random();
    bool hardware = eg_crc32c_hardware_available();
    int mismatches = 0;
    for (size_t align = 0; align < 16; align++)
        for (size_t len = 0; len <= 600; len++) {
            uint32_t seed = len % 3 == 0 ? 0 : next_random();
            uint32_t want = reference(seed, buf + align, len);
            mismatches += eg_crc32c_portable(seed, buf + align, len) != want;
            mismatches += eg_crc32c(seed, buf + align, len) != want;
            if (hardware) mismatches += eg_crc32c_hardware(seed, buf + align, len) != want;
        }
    for (int round = 0; round < 20; round++) {
        size_t align = next_random() % 16, len = next_random() % MAX;
        uint32_t want = reference(0, buf + align, len);
        mismatches += eg_crc32c_portable(0, buf + align, len) != want;
        if (hardware) mismatches += eg_crc32c_hardware(0, buf + align, len) != want;
    }
    CHECK(mismatches == 0);
    free(buf);
}

TEST(checksums_extend_piece_by_piece) {
    unsigned char buf[4096];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)next_random();
    uint32_t whole = eg_crc32c(0, buf, sizeof buf);
    for (int round = 0; round < 200; round++) {
        size_t a = next_random() % sizeof buf, b = next_random() % sizeof buf;
        if (a > b) {
            size_t t = a;
            a = b, b = t;
        }
        uint32_t c = eg_crc32c_portable(0, buf, a);
        c = eg_crc32c(c, buf + a, b - a);
        c = eg_crc32c_hardware_available() ? eg_crc32c_hardware(c, buf + b, sizeof buf - b)
                                           : eg_crc32c_portable(c, buf + b, sizeof buf - b);
        CHECK(c == whole);
    }
}

int main(void) {
    RUN(portable_matches_the_standard_vectors);
    RUN(hardware_matches_the_standard_vectors);
    RUN(dispatch_matches_the_standard_vectors);
    RUN(implementations_agree_on_random_buffers);
    RUN(checksums_extend_piece_by_piece);
    return test_summary();
}
