#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of OP_MSG's
// checksumPresent flag. Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// run time), otherwise a slicing-by-8 table.

#include <cstddef>
#include <cstdint>
#include <span>

namespace mongoslice::wire {

// The CRC-32C of `bytes`. To checksum data in pieces, pass the previous result as `crc`:
// crc32c(b, crc32c(a)) == crc32c(a followed by b).
std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0) noexcept;

// The portable table implementation, whatever the CPU (exposed so tests can compare both).
std::uint32_t crc32c_portable(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0) noexcept;

// Whether crc32c() uses the hardware instruction on this machine.
bool crc32c_hardware_available() noexcept;

}  // namespace mongoslice::wire
