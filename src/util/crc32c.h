/* crc32c.h — CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of write-ahead log records.
 *
 * Two implementations with identical results: portable C (table-driven, eight bytes per step) and the SSE4.2
 * crc32 instruction on x86-64 CPUs that have it. eg_crc32c picks the hardware one whenever the CPU supports it.
 *
 * All functions extend a running checksum: start from 0, and eg_crc32c(eg_crc32c(0, a), b) equals the checksum
 * of a followed by b. The standard check value holds: eg_crc32c(0, "123456789", 9) == 0xE3069283.
 * Every function is thread-safe. */
#ifndef ENGRAM_UTIL_CRC32C_H
#define ENGRAM_UTIL_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fastest implementation this CPU runs. */
uint32_t eg_crc32c(uint32_t crc, const void *data, size_t length);

uint32_t eg_crc32c_portable(uint32_t crc, const void *data, size_t length);

/* True when this CPU has the CRC32C instruction. */
bool eg_crc32c_hardware_available(void);

/* The instruction-based implementation; call it only when eg_crc32c_hardware_available(). On CPUs other than
 * x86-64 it is the portable one, so that callers (the tests) need no conditional compilation. */
uint32_t eg_crc32c_hardware(uint32_t crc, const void *data, size_t length);

#endif
