/* crc32c.c — CRC32C, portable and SSE4.2 (see crc32c.h).
 *
 * Both work on the bit-inverted register, as the standard defines it (initial value and final xor 0xFFFFFFFF);
 * the public functions invert on entry and exit, which is what lets a checksum be extended piece by piece. */
#include "util/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define POLY 0x82F63B78u /* x^32 + x^28 + ... reflected */

/* table[0][b] is the register change for one byte b; table[k][b] the change of b followed by k zero bytes, which
 * lets eight table look-ups, independent of each other, consume eight bytes at once ("slicing by 8"). */
static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t r = b;
        for (int bit = 0; bit < 8; bit++) r = (r >> 1) ^ (POLY & (0u - (r & 1u)));
        table[0][b] = r;
    }
    for (int k = 1; k < 8; k++)
        for (uint32_t b = 0; b < 256; b++) table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xFF];
}

/* Byte-wise composition keeps the result independent of the machine's byte order and of alignment. */
static uint32_t load_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t eg_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&table_once, build_table);
    const unsigned char *p = data;
    uint32_t r = ~crc;
    for (; length >= 8; p += 8, length -= 8) {
        uint32_t lo = r ^ load_le32(p), hi = load_le32(p + 4);
        r = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
            table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^ table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
    }
    for (; length > 0; p++, length--) r = (r >> 8) ^ table[0][(r ^ *p) & 0xFF];
    return ~r;
}

#if defined(__x86_64__)

bool eg_crc32c_hardware_available(void) { return __builtin_cpu_supports("sse4.2"); }

/* The instruction takes up to eight bytes; the head loop brings p to an 8-byte boundary so the wide loads never
 * straddle a cache line. */
__attribute__((target("sse4.2"))) uint32_t eg_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = data;
    uint32_t r = ~crc;
    for (; length > 0 && ((uintptr_t)p & 7u) != 0; p++, length--) r = _mm_crc32_u8(r, *p);
    uint64_t wide = r;
    for (; length >= 8; p += 8, length -= 8) {
        uint64_t word;
        memcpy(&word, p, sizeof word);
        wide = _mm_crc32_u64(wide, word);
    }
    r = (uint32_t)wide;
    for (; length > 0; p++, length--) r = _mm_crc32_u8(r, *p);
    return ~r;
}

#else

bool eg_crc32c_hardware_available(void) { return false; }

uint32_t eg_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    return eg_crc32c_portable(crc, data, length);
}

#endif

uint32_t eg_crc32c(uint32_t crc, const void *data, size_t length) {
    return eg_crc32c_hardware_available() ? eg_crc32c_hardware(crc, data, length)
                                          : eg_crc32c_portable(crc, data, length);
}
