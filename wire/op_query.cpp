#include "wire/op_query.hpp"

#include <cstring>
#include <string>

#include "wire/bson_validate.hpp"
#include "wire/error.hpp"
#include "wire/little_endian.hpp"

namespace mongoslice::wire {
namespace {

// Records where and why decoding failed, and returns the error. `describe` builds the text
// (it may allocate; if that fails the error code alone goes back).
template <typename Describe>
std::error_code fail(DecodeDiagnostics* diagnostics, errc code, std::size_t offset,
                     Describe describe) noexcept {
  if (diagnostics != nullptr) {
    try {
      diagnostics->offset = offset;
      diagnostics->detail = describe();
    } catch (...) {
      diagnostics->detail.clear();
    }
  }
  return make_error_code(code);
}

std::string number(std::int64_t value) {
  return std::to_string(value);
}

std::int64_t read_i64(const std::uint8_t* p) noexcept {
  const std::uint64_t low = read_u32(p);
  const std::uint64_t high = read_u32(p + 4);
  return static_cast<std::int64_t>(low | (high << 32));
}

// Offsets of the OP_REPLY fields.
constexpr std::size_t kFlagsAt = kHeaderSize;
constexpr std::size_t kCursorIdAt = kFlagsAt + 4;
constexpr std::size_t kStartingFromAt = kCursorIdAt + 8;
constexpr std::size_t kNumberReturnedAt = kStartingFromAt + 4;
constexpr std::size_t kDocumentAt = kNumberReturnedAt + 4;

// The server's reason for a QueryFailure, from its {$err, code} document (already validated).
std::string query_failure_reason(bson::View document) {
  std::string reason;
  if (auto err = document.find("$err"); err && err->type() == bson::Type::kString) {
    reason = ": " + std::string(err->get_string());
  }
  if (auto code = document.find("code"); code && code->is_number()) {
    try {
      reason += " (code " + number(code->as_int64()) + ")";
    } catch (const Error&) {  // a code out of range adds nothing
    }
  }
  return reason;
}

}  // namespace

std::vector<std::uint8_t> encode_op_query_command(std::int32_t request_id,
                                                  std::string_view database, bson::View command) {
  if (database.find('\0') != std::string_view::npos) {
    throw Error(errc::invalid_argument, "database name contains a NUL byte");
  }
  constexpr std::string_view kCommandCollection = ".$cmd";
  const std::size_t name_size = database.size() + kCommandCollection.size() + 1;
  const std::size_t size = kHeaderSize + 4 + name_size + 4 + 4 + command.size();
  if (size > static_cast<std::size_t>(INT32_MAX)) {
    throw Error(errc::invalid_argument,
                "OP_QUERY of " + std::to_string(size) + " bytes exceeds the int32 length");
  }
  std::vector<std::uint8_t> out(size);
  std::uint8_t* p = out.data();
  write_u32(p, static_cast<std::uint32_t>(size));
  write_u32(p + 4, static_cast<std::uint32_t>(request_id));
  write_u32(p + 8, 0);
  write_u32(p + 12, static_cast<std::uint32_t>(kOpQuery));
  write_u32(p + 16, 0);  // flags
  p += 20;
  std::memcpy(p, database.data(), database.size());
  p += database.size();
  std::memcpy(p, kCommandCollection.data(), kCommandCollection.size());
  p += kCommandCollection.size();
  *p++ = 0;
  write_u32(p, 0);                                   // numberToSkip
  write_u32(p + 4, static_cast<std::uint32_t>(-1));  // numberToReturn: one document, no cursor
  p += 8;
  std::memcpy(p, command.data(), command.size());
  return out;
}

std::error_code parse_op_reply_header(std::span<const std::uint8_t, kHeaderSize> bytes,
                                      std::size_t max_message_size, MessageHeader& out,
                                      DecodeDiagnostics* diagnostics) noexcept {
  out.message_length = read_i32(bytes.data());
  out.request_id = read_i32(bytes.data() + 4);
  out.response_to = read_i32(bytes.data() + 8);
  out.op_code = read_i32(bytes.data() + 12);
  const std::int32_t length = out.message_length;
  if (length < static_cast<std::int32_t>(kMinOpReplySize)) {
    return fail(diagnostics, errc::message_too_short, 0, [&] {
      return "messageLength " + number(length) + " below the OP_REPLY minimum of " +
             number(kMinOpReplySize) + " bytes";
    });
  }
  if (static_cast<std::size_t>(length) > max_message_size) {
    return fail(diagnostics, errc::message_too_large, 0, [&] {
      return "messageLength " + number(length) + " above maxMessageSizeBytes " +
             number(static_cast<std::int64_t>(max_message_size));
    });
  }
  if (out.op_code != kOpReply) {
    return fail(diagnostics, errc::unexpected_opcode, 12, [&] {
      return "opCode " + number(out.op_code) + " is not OP_REPLY (1), the answer to OP_QUERY";
    });
  }
  return {};
}

std::error_code decode_op_reply(std::vector<std::uint8_t> message,
                                std::int32_t expected_response_to, std::size_t max_message_size,
                                OpReply& out, DecodeDiagnostics* diagnostics) noexcept {
  out = OpReply();
  if (message.size() < kHeaderSize) {
    return fail(diagnostics, errc::message_too_short, message.size(), [&] {
      return "message of " + number(message.size()) + " bytes is shorter than the 16-byte header";
    });
  }
  MessageHeader header;
  if (auto ec = parse_op_reply_header(
          std::span<const std::uint8_t, kHeaderSize>(message.data(), kHeaderSize), max_message_size,
          header, diagnostics)) {
    return ec;
  }
  const auto length = static_cast<std::size_t>(header.message_length);
  if (message.size() < length) {
    return fail(diagnostics, errc::message_too_short, message.size(), [&] {
      return "message truncated: " + number(message.size()) + " bytes of the " + number(length) +
             " that messageLength announces";
    });
  }
  if (message.size() > length) {
    return fail(diagnostics, errc::invalid_argument, length, [&] {
      return "buffer holds " + number(message.size()) + " bytes but messageLength is " +
             number(length);
    });
  }
  if (header.response_to != expected_response_to) {
    return fail(diagnostics, errc::response_to_mismatch, 8, [&] {
      return "responseTo " + number(header.response_to) + " does not match the request id " +
             number(expected_response_to);
    });
  }

  const std::uint8_t* const data = message.data();
  const std::uint32_t flags = read_u32(data + kFlagsAt);
  const std::int64_t cursor_id = read_i64(data + kCursorIdAt);
  const std::int32_t starting_from = read_i32(data + kStartingFromAt);
  const std::int32_t number_returned = read_i32(data + kNumberReturnedAt);
  // A command's reply is one document and never a cursor.
  if (cursor_id != 0) {
    return fail(diagnostics, errc::op_reply_malformed, kCursorIdAt, [&] {
      return "cursorID " + number(cursor_id) + " on a command reply (must be 0)";
    });
  }
  if (starting_from != 0) {
    return fail(diagnostics, errc::op_reply_malformed, kStartingFromAt, [&] {
      return "startingFrom " + number(starting_from) + " on a command reply (must be 0)";
    });
  }
  if (number_returned != 1) {
    return fail(diagnostics, errc::op_reply_malformed, kNumberReturnedAt, [&] {
      return "numberReturned " + number(number_returned) + " (a command reply has 1 document)";
    });
  }
  // The header check guarantees room for the length and the smallest document.
  const std::size_t left = length - kDocumentAt;
  const std::uint32_t declared = read_u32(data + kDocumentAt);
  if (declared > left) {
    return fail(diagnostics, errc::op_reply_malformed, kDocumentAt, [&] {
      return "document of " + number(declared) + " bytes runs past the end of the message (" +
             number(left) + " left)";
    });
  }
  if (declared < left) {
    return fail(diagnostics, errc::op_reply_malformed, kDocumentAt + declared, [&] {
      return number(left - declared) + " bytes after the one document numberReturned announces";
    });
  }
  bson::ValidationError error;
  if (bson::validate({data + kDocumentAt, declared}, error)) {
    return fail(diagnostics, errc::invalid_bson, kDocumentAt + error.offset,
                [&] { return std::string("document is not valid BSON: ") + error.reason; });
  }
  const bson::View document(data + kDocumentAt, declared);
  if ((flags & kReplyQueryFailure) != 0) {
    return fail(diagnostics, errc::op_reply_error_flags, kFlagsAt,
                [&] { return "QueryFailure set" + query_failure_reason(document); });
  }
  if ((flags & kReplyCursorNotFound) != 0) {
    return fail(diagnostics, errc::op_reply_error_flags, kFlagsAt,
                [&] { return std::string("CursorNotFound set on a command reply"); });
  }

  OpReply result;
  result.header_ = header;
  result.response_flags_ = flags;
  result.document_ = document;
  result.bytes_ = std::move(message);  // the buffer moves, so the view into it stays valid
  out = std::move(result);
  return {};
}

}  // namespace mongoslice::wire
