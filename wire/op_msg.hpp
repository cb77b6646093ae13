#pragma once
// OP_MSG (opcode 2013), sans-I/O: encoding a command into bytes and decoding a reply from bytes.
// Nothing here touches a socket; driver/Connection moves the bytes.
//
// Decoding never trusts the peer: every length is checked against the bytes actually present,
// every document is validated, and each violation is its own errc (see wire/error.hpp).

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "wire/bson.hpp"

namespace mongoslice::wire {

inline constexpr std::int32_t kOpMsg = 2013;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kDefaultMaxMessageSize = 48'000'000;

// OP_MSG flag bits.
inline constexpr std::uint32_t kChecksumPresent = 1u << 0;
inline constexpr std::uint32_t kMoreToCome = 1u << 1;
inline constexpr std::uint32_t kExhaustAllowed = 1u << 16;

struct MessageHeader {
  std::int32_t message_length = 0;
  std::int32_t request_id = 0;
  std::int32_t response_to = 0;
  std::int32_t op_code = 0;
};

// Reads the 16-byte header and checks the length against [minimum, max_message_size] and the
// opcode. The caller then reads message_length - 16 more bytes.
std::error_code parse_header(std::span<const std::uint8_t, kHeaderSize> bytes,
                             std::size_t max_message_size, MessageHeader& out) noexcept;

// A kind-1 section: a named sequence of documents (e.g. "documents" for insert).
struct DocumentSequence {
  std::string_view identifier;
  std::span<const bson::View> documents;
};

// Encodes one OP_MSG: header, flags, the body (kind 0) and any document sequences (kind 1).
// With kChecksumPresent in flags a CRC-32C is appended.
std::vector<std::uint8_t> encode_op_msg(std::int32_t request_id, bson::View body,
                                        std::uint32_t flags = 0,
                                        std::span<const DocumentSequence> sequences = {});

// A decoded reply. It owns the message bytes; body() and the sequences' views point into them.
class OpMsg {
 public:
  OpMsg() = default;
  const MessageHeader& header() const noexcept { return header_; }
  std::uint32_t flags() const noexcept { return flags_; }
  bool more_to_come() const noexcept { return (flags_ & kMoreToCome) != 0; }
  bson::View body() const noexcept { return body_; }
  struct Sequence {
    std::string_view identifier;
    std::vector<bson::View> documents;
  };
  const std::vector<Sequence>& sequences() const noexcept { return sequences_; }

 private:
  friend std::error_code decode_op_msg(std::vector<std::uint8_t>, std::int32_t, std::size_t,
                                       OpMsg&) noexcept;
  std::vector<std::uint8_t> bytes_;
  MessageHeader header_;
  std::uint32_t flags_ = 0;
  bson::View body_;
  std::vector<Sequence> sequences_;
};

// Decodes a whole message (header included) that answers request `expected_response_to`.
// On error `out` is left empty and the error says what was wrong.
std::error_code decode_op_msg(std::vector<std::uint8_t> message, std::int32_t expected_response_to,
                              std::size_t max_message_size, OpMsg& out) noexcept;

}  // namespace mongoslice::wire
