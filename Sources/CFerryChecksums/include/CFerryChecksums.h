// Checksums on the hot path of record batches: CRC-32C (Castagnoli) for record batches v2, with the SSE4.2
// instruction where the CPU has it, and XXH32 for the LZ4 frame header checksum of old magic-0 data.
#ifndef FERRY_CHECKSUMS_H
#define FERRY_CHECKSUMS_H
#include <stddef.h>
#include <stdint.h>

/// Extends `crc` (0 to start) over `length` bytes at `data`. Same results as Java's `java.util.zip.CRC32C`.
uint32_t ferry_crc32c(uint32_t crc, const void *data, size_t length);

/// The software (table) implementation, for tests that compare it with the hardware path.
uint32_t ferry_crc32c_software(uint32_t crc, const void *data, size_t length);

/// 1 when ferry_crc32c uses the SSE4.2 crc32 instruction.
int ferry_crc32c_is_hardware(void);

/// XXH32 of `length` bytes with `seed`.
uint32_t ferry_xxh32(const void *data, size_t length, uint32_t seed);
#endif
