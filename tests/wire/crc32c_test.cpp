#include "wire/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace mongoslice::wire {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Bit-at-a-time CRC-32C straight from the definition, to check the fast versions against.
std::uint32_t reference_crc32c(std::span<const std::uint8_t> bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

TEST(Crc32c, KnownVectors) {
  // The check value of CRC-32C (and RFC 3720's iSCSI test patterns).
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(bytes_of("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(bytes_of("")), 0u);
  std::vector<std::uint8_t> zeros(32, 0x00), ones(32, 0xFF), ascending(32);
  for (std::size_t i = 0; i < ascending.size(); ++i) ascending[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c_portable(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c_portable(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c_portable(ascending), 0x46DD794Eu);
}

TEST(Crc32c, FastVersionsAgreeWithTheDefinitionAtEveryLengthAndAlignment) {
  std::vector<std::uint8_t> data(300);
  std::uint32_t state = 12345;
  for (auto& byte : data) {
    state = state * 1103515245u + 12345u;
    byte = static_cast<std::uint8_t>(state >> 16);
  }
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t length = 0; start + length <= data.size(); length += 7) {
      std::span<const std::uint8_t> piece(data.data() + start, length);
      const std::uint32_t expected = reference_crc32c(piece);
      ASSERT_EQ(crc32c(piece), expected) << "start " << start << " length " << length;
      ASSERT_EQ(crc32c_portable(piece), expected) << "start " << start << " length " << length;
    }
  }
}

TEST(Crc32c, ChainsAcrossPieces) {
  auto whole = bytes_of("The quick brown fox jumps over the lazy dog");
  for (std::size_t split = 0; split <= whole.size(); ++split) {
    EXPECT_EQ(crc32c(whole.subspan(split), crc32c(whole.first(split))), crc32c(whole));
    EXPECT_EQ(crc32c_portable(whole.subspan(split), crc32c_portable(whole.first(split))),
              crc32c(whole));
  }
}

}  // namespace
}  // namespace mongoslice::wire
