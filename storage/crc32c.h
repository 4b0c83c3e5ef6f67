/*
 * storage/crc32c.h - CRC-32C (Castagnoli), the checksum of the files of an
 * on-disk brain.
 *
 * Reflected polynomial 0x82F63B78, initial value and final xor ~0: the CRC
 * of iSCSI, ext4 and SSE4.2, whose check value crc32c("123456789") is
 * 0xE3069283.
 */
#ifndef BRAIN_STORAGE_CRC32C_H
#define BRAIN_STORAGE_CRC32C_H

#include "base/base.h"

/* CRC-32C of data[0..len), continuing from `crc`: start with 0, then pass
 * the result of the previous piece, so that
 *   brain__crc32c(brain__crc32c(0, a, n), b, m) == crc32c(a || b).
 * Uses the SSE4.2 crc32 instruction when the CPU has it (unless the
 * environment variable BRAINCORE_SIMD=scalar, read once, says not to),
 * a portable slicing-by-8 table otherwise. Thread-safe. data may be NULL
 * when len is 0. */
uint32_t brain__crc32c(uint32_t crc, const void *data, size_t len);

/* The portable version, for tests: always the same result as
 * brain__crc32c(). */
uint32_t brain__crc32c_portable(uint32_t crc, const void *data, size_t len);

/* The version brain__crc32c() uses in this process, "sse4.2" or
 * "portable" (making the choice if no call has yet), for tests and
 * diagnostics. */
const char *brain__crc32c_impl(void);

#endif /* BRAIN_STORAGE_CRC32C_H */
