#include "wire/op_msg.hpp"

#include <bit>
#include <cstring>

#include "wire/bson_validate.hpp"
#include "wire/crc32c.hpp"
#include "wire/error.hpp"
#include "wire/little_endian.hpp"

namespace mongoslice::wire {
namespace {

// Records where and why decoding failed, and returns the error. The text is `subject` then
// `what`, whose "{}" marks take the numbers a and b in turn ("{x}" in hexadecimal). The numbers
// are signed, so that a negative int32 of the header reads as negative; every size and
// unsigned field passed here is far below 2^63. Building the text may allocate; if that fails
// the error code alone still goes back.
std::error_code fail(DecodeDiagnostics* diagnostics, errc code, std::size_t offset,
                     const char* subject, std::string_view what, std::int64_t a = 0,
                     std::int64_t b = 0, const char* suffix = "") noexcept {
  if (diagnostics != nullptr) {
    try {
      diagnostics->offset = offset;
      std::string text = subject;
      const std::int64_t values[2] = {a, b};
      std::size_t next = 0;
      for (std::size_t i = 0; i < what.size(); ++i) {
        const auto rest = what.substr(i);
        if (next < 2 && rest.starts_with("{}")) {
          text += std::to_string(values[next++]);
          i += 1;
        } else if (next < 2 && rest.starts_with("{x}")) {
          static constexpr char kDigits[] = "0123456789abcdef";
          std::string hex;
          for (auto v = static_cast<std::uint64_t>(values[next++]); v != 0 || hex.empty();
               v >>= 4) {
            hex.insert(hex.begin(), kDigits[v & 0xF]);
          }
          text += "0x" + hex;
          i += 2;
        } else {
          text += what[i];
        }
      }
      text += suffix;
      diagnostics->detail = std::move(text);
    } catch (...) {
      diagnostics->detail.clear();
    }
  }
  return make_error_code(code);
}

std::error_code check_length(std::int32_t length, std::size_t max_message_size,
                             DecodeDiagnostics* diagnostics) noexcept {
  if (length < static_cast<std::int32_t>(kMinOpMsgSize)) {
    return fail(diagnostics, errc::message_too_short, 0, "",
                "messageLength {} below the OP_MSG minimum of {} bytes", length, kMinOpMsgSize);
  }
  if (static_cast<std::size_t>(length) > max_message_size) {
    return fail(diagnostics, errc::message_too_large, 0, "",
                "messageLength {} above maxMessageSizeBytes {}", length,
                static_cast<std::int64_t>(max_message_size));
  }
  return {};
}

// Validates the BSON document at `offset` that must end by `limit`; returns its length.
std::error_code document_at(const std::uint8_t* message, std::size_t offset, std::size_t limit,
                            const char* subject, DecodeDiagnostics* diagnostics,
                            std::size_t& length) noexcept {
  if (limit - offset < 4) {
    return fail(diagnostics, errc::section_overrun, offset, subject,
                " length runs past the end of its section");
  }
  const std::uint32_t declared = read_u32(message + offset);
  if (declared > limit - offset) {
    return fail(diagnostics, errc::section_overrun, offset, subject,
                " of {} bytes runs past the end of its section ({} left)", declared,
                limit - offset);
  }
  bson::ValidationError error;
  if (auto ec = bson::validate({message + offset, declared}, error)) {
    return fail(diagnostics, errc::invalid_bson, offset + error.offset, subject,
                " is not valid BSON: ", 0, 0, error.reason);
  }
  length = declared;
  return {};
}

}  // namespace

std::string DecodeDiagnostics::describe() const {
  return detail + " (at byte " + std::to_string(offset) + ")";
}

std::error_code parse_header(std::span<const std::uint8_t, kHeaderSize> bytes,
                             std::size_t max_message_size, MessageHeader& out,
                             DecodeDiagnostics* diagnostics) noexcept {
  out.message_length = read_i32(bytes.data());
  out.request_id = read_i32(bytes.data() + 4);
  out.response_to = read_i32(bytes.data() + 8);
  out.op_code = read_i32(bytes.data() + 12);
  if (auto ec = check_length(out.message_length, max_message_size, diagnostics)) return ec;
  if (out.op_code != kOpMsg) {
    return fail(diagnostics, errc::unexpected_opcode, 12, "", "opCode {} is not OP_MSG (2013)",
                out.op_code);
  }
  return {};
}

std::vector<std::uint8_t> encode_op_msg(std::int32_t request_id, bson::View body,
                                        std::uint32_t flags,
                                        std::span<const DocumentSequence> sequences) {
  std::size_t size = kHeaderSize + 4 + 1 + body.size();
  for (const auto& sequence : sequences) {
    size += 1 + 4 + sequence.identifier.size() + 1;
    for (const auto& document : sequence.documents) size += document.size();
  }
  const bool checksum = (flags & kChecksumPresent) != 0;
  if (checksum) size += 4;
  if (size > static_cast<std::size_t>(INT32_MAX)) {
    throw Error(errc::invalid_argument,
                "OP_MSG of " + std::to_string(size) + " bytes exceeds the int32 length");
  }

  std::vector<std::uint8_t> out(size);
  std::uint8_t* p = out.data();
  write_u32(p, static_cast<std::uint32_t>(size));
  write_u32(p + 4, static_cast<std::uint32_t>(request_id));
  write_u32(p + 8, 0);
  write_u32(p + 12, static_cast<std::uint32_t>(kOpMsg));
  write_u32(p + 16, flags);
  p += 20;
  *p++ = 0;
  std::memcpy(p, body.data(), body.size());
  p += body.size();
  for (const auto& sequence : sequences) {
    *p++ = 1;
    std::uint8_t* const section_start = p;
    p += 4;
    std::memcpy(p, sequence.identifier.data(), sequence.identifier.size());
    p += sequence.identifier.size();
    *p++ = 0;
    for (const auto& document : sequence.documents) {
      std::memcpy(p, document.data(), document.size());
      p += document.size();
    }
    write_u32(section_start, static_cast<std::uint32_t>(p - section_start));
  }
  if (checksum) {
    write_u32(p, crc32c({out.data(), static_cast<std::size_t>(p - out.data())}));
  }
  return out;
}

std::error_code decode_op_msg(std::vector<std::uint8_t> message, std::int32_t expected_response_to,
                              std::size_t max_message_size, OpMsg& out,
                              DecodeDiagnostics* diagnostics, MoreToCome more_to_come) noexcept {
  out = OpMsg();
  if (message.size() < kHeaderSize) {
    return fail(diagnostics, errc::message_too_short, message.size(), "",
                "message of {} bytes is shorter than the {}-byte header", message.size(),
                kHeaderSize);
  }
  MessageHeader header;
  if (auto ec =
          parse_header(std::span<const std::uint8_t, kHeaderSize>(message.data(), kHeaderSize),
                       max_message_size, header, diagnostics)) {
    return ec;
  }
  const auto length = static_cast<std::size_t>(header.message_length);
  if (message.size() < length) {
    return fail(diagnostics, errc::message_too_short, message.size(), "",
                "message truncated: {} bytes of the {} that messageLength announces",
                message.size(), length);
  }
  if (message.size() > length) {
    return fail(diagnostics, errc::invalid_argument, length, "",
                "buffer holds {} bytes but messageLength is {}", message.size(), length);
  }
  if (header.response_to != expected_response_to) {
    return fail(diagnostics, errc::response_to_mismatch, 8, "",
                "responseTo {} does not match the request id {}", header.response_to,
                expected_response_to);
  }

  const std::uint8_t* const data = message.data();
  const std::uint32_t flags = read_u32(data + kHeaderSize);
  const std::uint32_t unknown = flags & kRequiredFlagsMask & ~kKnownRequiredFlags;
  if (unknown != 0) {
    return fail(diagnostics, errc::unknown_required_flags, kHeaderSize, "",
                "unknown required flag bits {x} set (flagBits {x})", unknown, flags);
  }
  if ((flags & kMoreToCome) != 0 && more_to_come == MoreToCome::kRefused) {
    return fail(diagnostics, errc::unexpected_more_to_come, kHeaderSize, "",
                "moreToCome set (flagBits {x}) on a reply to a request without exhaustAllowed",
                flags);
  }

  std::size_t end = length;  // where sections stop
  if ((flags & kChecksumPresent) != 0) {
    if (length < kMinOpMsgSize + 4) {
      return fail(diagnostics, errc::message_too_short, 0, "",
                  "messageLength {} too short for sections and a checksum", length);
    }
    end = length - 4;
    const std::uint32_t expected = read_u32(data + end);
    const std::uint32_t actual = crc32c({data, end});
    if (expected != actual) {
      return fail(diagnostics, errc::checksum_mismatch, end, "",
                  "CRC-32C {x} in the message, {x} computed", expected, actual);
    }
  }

  OpMsg result;
  bool have_body = false;
  std::size_t pos = kHeaderSize + 4;
  try {
    while (pos < end) {
      const std::size_t section = pos;
      const std::uint8_t kind = data[pos++];
      if (kind == 0) {
        std::size_t size = 0;
        if (auto ec = document_at(data, pos, end, "body", diagnostics, size)) return ec;
        if (have_body) {
          return fail(diagnostics, errc::duplicate_body_section, section, "",
                      "second body (kind 0) section");
        }
        have_body = true;
        result.body_ = bson::View(data + pos, size);
        pos += size;
      } else if (kind == 1) {
        if (end - pos < 4) {
          return fail(diagnostics, errc::section_overrun, pos, "",
                      "document sequence size runs past the end of the message");
        }
        const std::uint32_t size = read_u32(data + pos);
        if (size > end - pos) {
          return fail(diagnostics, errc::section_overrun, pos, "",
                      "document sequence of {} bytes runs past the end of the message ({} left)",
                      size, end - pos);
        }
        const std::size_t section_end = pos + size;
        const std::size_t identifier = pos + 4;
        const void* nul = identifier < section_end
                              ? std::memchr(data + identifier, 0, section_end - identifier)
                              : nullptr;
        if (nul == nullptr) {
          return fail(diagnostics, errc::section_overrun, identifier, "",
                      "document sequence identifier runs past the end of its section");
        }
        const auto nul_at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - data);
        OpMsg::Sequence sequence;
        sequence.identifier =
            std::string_view(reinterpret_cast<const char*>(data + identifier), nul_at - identifier);
        std::size_t at = nul_at + 1;
        while (at < section_end) {
          std::size_t document = 0;
          if (auto ec =
                  document_at(data, at, section_end, "sequence document", diagnostics, document)) {
            return ec;
          }
          sequence.documents.emplace_back(data + at, document);
          at += document;
        }
        result.sequences_.push_back(std::move(sequence));
        pos = section_end;
      } else {
        return fail(diagnostics, errc::unknown_section_kind, section, "", "section kind {}", kind);
      }
    }
  } catch (const std::bad_alloc&) {
    return fail(diagnostics, errc::invalid_argument, pos, "",
                "out of memory decoding the sections");
  }
  if (!have_body) {
    return fail(diagnostics, errc::missing_body_section, kHeaderSize + 4, "",
                "no body (kind 0) section");
  }

  result.header_ = header;
  result.flags_ = flags;
  result.bytes_ = std::move(message);  // the buffer moves, so the views into it stay valid
  out = std::move(result);
  return {};
}

}  // namespace mongoslice::wire
