#pragma once
// OP_QUERY (opcode 2004) and OP_REPLY (opcode 1), sans-I/O, for one use only: the first message
// on a connection, the legacy hello (`isMaster` with helloOk and the client metadata) that the
// MongoDB handshake specification sends as OP_QUERY on `admin.$cmd`, so that a server of any
// version answers it. Every later message is OP_MSG (wire/op_msg.hpp).
//
// The reply is decoded as strictly as OP_MSG: the header's length and opcode, responseTo, the
// responseFlags, cursorID, startingFrom and numberReturned of a single command reply, and the
// one document, which must fill the rest of the message exactly and be valid BSON. Each
// violation is an errc (wire/error.hpp) with a DecodeDiagnostics saying what and where.
//
// OP_QUERY layout: header, int32 flags, cstring fullCollectionName, int32 numberToSkip, int32
// numberToReturn, the query document. OP_REPLY layout: header, int32 responseFlags, int64
// cursorID, int32 startingFrom, int32 numberReturned, then numberReturned documents.

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "wire/bson.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::wire {

inline constexpr std::int32_t kOpQuery = 2004;
inline constexpr std::int32_t kOpReply = 1;

// responseFlags of OP_REPLY. Bits 4-31 are reserved, and the legacy protocol says to ignore
// them; AwaitCapable (set by every server since 1.6) and ShardConfigStale are accepted too.
inline constexpr std::uint32_t kReplyCursorNotFound = 1u << 0;
inline constexpr std::uint32_t kReplyQueryFailure = 1u << 1;
inline constexpr std::uint32_t kReplyShardConfigStale = 1u << 2;
inline constexpr std::uint32_t kReplyAwaitCapable = 1u << 3;

// responseFlags, cursorID, startingFrom, numberReturned.
inline constexpr std::size_t kOpReplyFixedSize = 4 + 8 + 4 + 4;
// The header, the fixed fields and the smallest document ({} is 5 bytes).
inline constexpr std::size_t kMinOpReplySize = kHeaderSize + kOpReplyFixedSize + 5;

// Encodes an OP_QUERY that runs `command` on `database` (fullCollectionName "<database>.$cmd"):
// flags 0, numberToSkip 0, numberToReturn -1 (one reply document, no cursor). responseTo is 0.
// Throws Error(errc::invalid_argument) for a database name with a NUL byte or a message beyond
// the int32 length.
std::vector<std::uint8_t> encode_op_query_command(std::int32_t request_id,
                                                  std::string_view database, bson::View command);

// Reads the 16-byte header of what must be an OP_REPLY: the length within [kMinOpReplySize,
// max_message_size] and the opcode. `out` is filled even on error.
std::error_code parse_op_reply_header(std::span<const std::uint8_t, kHeaderSize> bytes,
                                      std::size_t max_message_size, MessageHeader& out,
                                      DecodeDiagnostics* diagnostics = nullptr) noexcept;

// A decoded reply. It owns the message bytes and document() points into them, so it is
// move-only (moving keeps the bytes where they are).
class OpReply {
 public:
  OpReply() = default;
  OpReply(OpReply&&) noexcept = default;
  OpReply& operator=(OpReply&&) noexcept = default;
  OpReply(const OpReply&) = delete;
  OpReply& operator=(const OpReply&) = delete;

  const MessageHeader& header() const noexcept { return header_; }
  std::uint32_t response_flags() const noexcept { return response_flags_; }
  bson::View document() const noexcept { return document_; }
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

 private:
  friend std::error_code decode_op_reply(std::vector<std::uint8_t>, std::int32_t, std::size_t,
                                         OpReply&, DecodeDiagnostics*) noexcept;
  std::vector<std::uint8_t> bytes_;
  MessageHeader header_;
  std::uint32_t response_flags_ = 0;
  bson::View document_;
};

// Decodes a whole message (header included, exactly messageLength bytes) that answers the
// OP_QUERY `expected_response_to`. On error `out` is left empty. Errors: message_too_short,
// message_too_large, unexpected_opcode, response_to_mismatch, op_reply_malformed (cursorID or
// startingFrom not 0, numberReturned not 1, a document that runs past the message or leaves
// bytes after it), invalid_bson, op_reply_error_flags (QueryFailure, whose $err the diagnostics
// quote, or CursorNotFound); invalid_argument when `message` does not hold exactly
// messageLength bytes (a caller error, not the peer's).
std::error_code decode_op_reply(std::vector<std::uint8_t> message,
                                std::int32_t expected_response_to, std::size_t max_message_size,
                                OpReply& out, DecodeDiagnostics* diagnostics = nullptr) noexcept;

}  // namespace mongoslice::wire
