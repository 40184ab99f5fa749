// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every model-file
// section. Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastintent {

// Extends `crc` (0 for a fresh checksum) over `n` bytes at `data`. Chaining calls over
// consecutive pieces gives the checksum of their concatenation.
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

}  // namespace fastintent
