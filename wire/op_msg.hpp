#pragma once
// OP_MSG (opcode 2013), sans-I/O: encoding a command into bytes and decoding a reply from bytes.
// Nothing here touches a socket; driver/Connection moves the bytes.
//
// Decoding never trusts the peer: every length is checked against the bytes actually present,
// every document is validated, and each violation is its own errc (see wire/error.hpp). An
// error_code carries no text, so the decoder also fills a DecodeDiagnostics (what and at which
// byte) for the exception the Connection throws:
//
//   wire::DecodeDiagnostics diag;
//   if (auto ec = wire::decode_op_msg(std::move(bytes), request_id, max_size, reply, &diag))
//     throw Error(ec, diag.describe());
//
// Layout: header (int32 messageLength, requestID, responseTo, opCode; little-endian), uint32
// flagBits, sections (kind 0: one BSON document; kind 1: int32 size, cstring identifier, BSON
// documents filling the size), then a CRC-32C of everything before it when checksumPresent.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wire/bson.hpp"

namespace mongoslice::wire {

inline constexpr std::int32_t kOpMsg = 2013;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kDefaultMaxMessageSize = 48'000'000;
// Header, flagBits, the kind byte and the smallest document ({} is 5 bytes).
inline constexpr std::size_t kMinOpMsgSize = kHeaderSize + 4 + 1 + 5;

// OP_MSG flag bits.
inline constexpr std::uint32_t kChecksumPresent = 1u << 0;
inline constexpr std::uint32_t kMoreToCome = 1u << 1;
inline constexpr std::uint32_t kExhaustAllowed = 1u << 16;
// The low 16 bits are "required": a peer setting one we do not know must be refused.
inline constexpr std::uint32_t kRequiredFlagsMask = 0xFFFFu;
inline constexpr std::uint32_t kKnownRequiredFlags = kChecksumPresent | kMoreToCome;

struct MessageHeader {
  std::int32_t message_length = 0;
  std::int32_t request_id = 0;
  std::int32_t response_to = 0;
  std::int32_t op_code = 0;
};

// What a decode error was about, for a human: the byte offset in the message and a sentence.
struct DecodeDiagnostics {
  std::size_t offset = 0;
  std::string detail;
  // "<detail> (at byte <offset>)".
  std::string describe() const;
};

// Reads the 16-byte header and checks the length against [kMinOpMsgSize, max_message_size] and
// the opcode. The caller then reads message_length - 16 more bytes. `out` is filled even on
// error (the ids help a log line).
std::error_code parse_header(std::span<const std::uint8_t, kHeaderSize> bytes,
                             std::size_t max_message_size, MessageHeader& out,
                             DecodeDiagnostics* diagnostics = nullptr) noexcept;

// A kind-1 section: a named sequence of documents (e.g. "documents" for insert).
struct DocumentSequence {
  std::string_view identifier;
  std::span<const bson::View> documents;
};

// Encodes one OP_MSG: header, flags, the body (kind 0) and any document sequences (kind 1).
// With kChecksumPresent in flags a CRC-32C is appended. responseTo is 0 (we only send requests).
std::vector<std::uint8_t> encode_op_msg(std::int32_t request_id, bson::View body,
                                        std::uint32_t flags = 0,
                                        std::span<const DocumentSequence> sequences = {});

// Whether the request a reply answers set exhaustAllowed, so that the reply may carry
// moreToCome (further replies follow, each without a request of its own). Only a monitor's
// awaitable hello sets exhaustAllowed (net/connection.hpp's run_exhaust_command); every other
// reply is decoded with kRefused.
enum class MoreToCome : bool { kRefused, kAllowed };

// A decoded reply. It owns the message bytes; body() and the sequences' views point into them,
// so it is move-only (moving keeps the bytes where they are; a copy would dangle).
class OpMsg {
 public:
  OpMsg() = default;
  OpMsg(OpMsg&&) noexcept = default;
  OpMsg& operator=(OpMsg&&) noexcept = default;
  OpMsg(const OpMsg&) = delete;
  OpMsg& operator=(const OpMsg&) = delete;

  const MessageHeader& header() const noexcept { return header_; }
  std::uint32_t flags() const noexcept { return flags_; }
  bool more_to_come() const noexcept { return (flags_ & kMoreToCome) != 0; }
  bool checksum_present() const noexcept { return (flags_ & kChecksumPresent) != 0; }
  bson::View body() const noexcept { return body_; }
  struct Sequence {
    std::string_view identifier;
    std::vector<bson::View> documents;
  };
  const std::vector<Sequence>& sequences() const noexcept { return sequences_; }
  // The whole message as received.
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  // Gives the message buffer back (to reuse it for the next read) and leaves this empty.
  std::vector<std::uint8_t> take_bytes() && noexcept {
    std::vector<std::uint8_t> bytes = std::move(bytes_);
    *this = OpMsg();
    return bytes;
  }

 private:
  friend std::error_code decode_op_msg(std::vector<std::uint8_t>, std::int32_t, std::size_t, OpMsg&,
                                       DecodeDiagnostics*, MoreToCome) noexcept;
  std::vector<std::uint8_t> bytes_;
  MessageHeader header_;
  std::uint32_t flags_ = 0;
  bson::View body_;
  std::vector<Sequence> sequences_;
};

// Decodes a whole message (header included, exactly messageLength bytes) that answers request
// `expected_response_to`. On error `out` is left empty, the error says what was wrong, and
// `diagnostics` (when given) says where. Errors: message_too_short, message_too_large,
// unexpected_opcode, response_to_mismatch, unknown_required_flags, unexpected_more_to_come
// (moreToCome set while `more_to_come` is kRefused), unknown_section_kind,
// missing_body_section, duplicate_body_section, section_overrun, invalid_bson,
// checksum_mismatch; invalid_argument when `message` does not hold exactly messageLength bytes
// (a caller error, not the peer's).
std::error_code decode_op_msg(std::vector<std::uint8_t> message, std::int32_t expected_response_to,
                              std::size_t max_message_size, OpMsg& out,
                              DecodeDiagnostics* diagnostics = nullptr,
                              MoreToCome more_to_come = MoreToCome::kRefused) noexcept;

}  // namespace mongoslice::wire
