#pragma once
// Reading and writing the little-endian 32-bit integers of the wire format (message headers,
// BSON lengths) from unaligned bytes.

#include <bit>
#include <cstdint>
#include <cstring>

namespace mongoslice::wire {

inline std::uint32_t read_u32(const std::uint8_t* p) noexcept {
  std::uint32_t value;
  std::memcpy(&value, p, sizeof value);
  if constexpr (std::endian::native == std::endian::big) value = __builtin_bswap32(value);
  return value;
}

inline std::int32_t read_i32(const std::uint8_t* p) noexcept {
  return static_cast<std::int32_t>(read_u32(p));
}

inline void write_u32(std::uint8_t* p, std::uint32_t value) noexcept {
  if constexpr (std::endian::native == std::endian::big) value = __builtin_bswap32(value);
  std::memcpy(p, &value, sizeof value);
}

}  // namespace mongoslice::wire
