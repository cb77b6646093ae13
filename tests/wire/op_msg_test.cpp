#include "wire/op_msg.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "wire/crc32c.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

// {ping: 1}: length 15, int32 element "ping", terminator.
const Bytes kPingBody = {0x0f, 0x00, 0x00, 0x00, 0x10, 'p',  'i', 'n',
                         'g',  0x00, 0x01, 0x00, 0x00, 0x00, 0x00};

// {ping: 1} as request 7, no flags, written out byte by byte.
const Bytes kPingMessage = {
    0x24, 0x00, 0x00, 0x00,  // messageLength 36
    0x07, 0x00, 0x00, 0x00,  // requestID 7
    0x00, 0x00, 0x00, 0x00,  // responseTo 0
    0xdd, 0x07, 0x00, 0x00,  // opCode 2013
    0x00, 0x00, 0x00, 0x00,  // flagBits
    0x00,                    // section kind 0: body
    0x0f, 0x00, 0x00, 0x00, 0x10, 'p', 'i', 'n', 'g', 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
};

// The same with checksumPresent; the CRC-32C was computed independently (bit by bit).
const Bytes kPingMessageWithChecksum = {
    0x28, 0x00, 0x00, 0x00,  // messageLength 40
    0x07, 0x00, 0x00, 0x00,  // requestID 7
    0x00, 0x00, 0x00, 0x00,  // responseTo 0
    0xdd, 0x07, 0x00, 0x00,  // opCode 2013
    0x01, 0x00, 0x00, 0x00,  // flagBits: checksumPresent
    0x00,                    // section kind 0: body
    0x0f, 0x00, 0x00, 0x00, 0x10, 'p',  'i',  'n',  'g',  0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x17, 0x72, 0x7c, 0xf4,  // CRC-32C 0xf47c7217
};

// {a: 1} and {a: 2}: 12 bytes each.
const Bytes kDocA1 = {0x0c, 0x00, 0x00, 0x00, 0x10, 'a', 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
const Bytes kDocA2 = {0x0c, 0x00, 0x00, 0x00, 0x10, 'a', 0x00, 0x02, 0x00, 0x00, 0x00, 0x00};

// {ping: 1} then a "documents" sequence of {a: 1}, {a: 2}.
const Bytes kMessageWithSequence = {
    0x4b, 0x00, 0x00, 0x00,  // messageLength 75 = 16 + 4 + 16 + 39
    0x07, 0x00, 0x00, 0x00,  // requestID 7
    0x00, 0x00, 0x00, 0x00,  // responseTo 0
    0xdd, 0x07, 0x00, 0x00,  // opCode 2013
    0x00, 0x00, 0x00, 0x00,  // flagBits
    0x00,                    // kind 0
    0x0f, 0x00, 0x00, 0x00, 0x10, 'p', 'i',  'n',  'g',  0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x01,                                                       // kind 1
    0x26, 0x00, 0x00, 0x00,                                     // size 38 = 4 + 10 + 12 + 12
    'd',  'o',  'c',  'u',  'm',  'e', 'n',  't',  's',  0x00,  //
    0x0c, 0x00, 0x00, 0x00, 0x10, 'a', 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // {a: 1}
    0x0c, 0x00, 0x00, 0x00, 0x10, 'a', 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // {a: 2}
};

bson::View view_of(const Bytes& bytes) {
  return bson::View(bytes.data(), bytes.size());
}

// Assembles a message piece by piece for the error cases; finish() writes messageLength.
class RawMessage {
 public:
  RawMessage(std::int32_t request_id = 1, std::int32_t response_to = 42,
             std::int32_t op_code = kOpMsg, std::uint32_t flags = 0) {
    int32(0)
        .int32(request_id)
        .int32(response_to)
        .int32(op_code)
        .int32(static_cast<std::int32_t>(flags));
  }
  RawMessage& int32(std::int32_t value) {
    for (int i = 0; i < 4; ++i)
      bytes_.push_back(static_cast<std::uint8_t>(static_cast<std::uint32_t>(value) >> (8 * i)));
    return *this;
  }
  RawMessage& byte(std::uint8_t value) {
    bytes_.push_back(value);
    return *this;
  }
  RawMessage& raw(const Bytes& bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  RawMessage& cstring(std::string_view text) {
    bytes_.insert(bytes_.end(), text.begin(), text.end());
    bytes_.push_back(0);
    return *this;
  }
  RawMessage& body(const Bytes& document = kPingBody) { return byte(0).raw(document); }
  // A kind-1 section whose size field says `size` (default: the true size).
  RawMessage& sequence(std::string_view identifier, std::initializer_list<Bytes> documents,
                       std::optional<std::int32_t> size = std::nullopt) {
    std::int32_t actual = 4 + static_cast<std::int32_t>(identifier.size()) + 1;
    for (const auto& document : documents) actual += static_cast<std::int32_t>(document.size());
    byte(1).int32(size.value_or(actual)).cstring(identifier);
    for (const auto& document : documents) raw(document);
    return *this;
  }
  Bytes finish(std::optional<std::int32_t> length = std::nullopt) const {
    Bytes out = bytes_;
    auto value = static_cast<std::uint32_t>(length.value_or(static_cast<std::int32_t>(out.size())));
    for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
    return out;
  }
  // Appends the CRC-32C of everything so far (length fixed first, as it is covered).
  Bytes finish_with_checksum() const {
    Bytes out = RawMessage(*this).int32(0).finish();
    std::uint32_t crc = crc32c({out.data(), out.size() - 4});
    for (int i = 0; i < 4; ++i) out[out.size() - 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
    return out;
  }

 private:
  Bytes bytes_;
};

std::error_code decode(Bytes bytes, std::int32_t response_to = 42,
                       std::size_t max_size = kDefaultMaxMessageSize,
                       DecodeDiagnostics* diagnostics = nullptr,
                       MoreToCome more_to_come = MoreToCome::kRefused) {
  OpMsg out;
  auto ec = decode_op_msg(std::move(bytes), response_to, max_size, out, diagnostics, more_to_come);
  if (ec) EXPECT_TRUE(out.body().empty()) << "a failed decode must leave the output empty";
  return ec;
}

// ---- Encoding ---------------------------------------------------------------------------------

TEST(OpMsgEncode, BodyOnlyMatchesHandWrittenBytes) {
  EXPECT_EQ(encode_op_msg(7, view_of(kPingBody)), kPingMessage);
}

TEST(OpMsgEncode, ChecksumMatchesHandWrittenBytes) {
  EXPECT_EQ(encode_op_msg(7, view_of(kPingBody), kChecksumPresent), kPingMessageWithChecksum);
}

TEST(OpMsgEncode, DocumentSequenceMatchesHandWrittenBytes) {
  const bson::View documents[] = {view_of(kDocA1), view_of(kDocA2)};
  const DocumentSequence sequence{"documents", documents};
  EXPECT_EQ(encode_op_msg(7, view_of(kPingBody), 0, {&sequence, 1}), kMessageWithSequence);
}

// ---- Decoding ---------------------------------------------------------------------------------

TEST(OpMsgDecode, HandWrittenMessage) {
  Bytes reply = kPingMessage;
  reply[8] = 5;  // responseTo 5
  OpMsg out;
  ASSERT_FALSE(decode_op_msg(reply, 5, kDefaultMaxMessageSize, out));
  EXPECT_EQ(out.header().message_length, 36);
  EXPECT_EQ(out.header().request_id, 7);
  EXPECT_EQ(out.header().response_to, 5);
  EXPECT_EQ(out.header().op_code, kOpMsg);
  EXPECT_EQ(out.flags(), 0u);
  EXPECT_FALSE(out.more_to_come());
  EXPECT_EQ(out.body(), view_of(kPingBody));
  EXPECT_EQ(out.body()["ping"].get_int32(), 1);
  EXPECT_TRUE(out.sequences().empty());
  EXPECT_EQ(Bytes(out.bytes().begin(), out.bytes().end()), reply);
}

TEST(OpMsgDecode, HandWrittenSequenceAndChecksum) {
  OpMsg out;
  ASSERT_FALSE(decode_op_msg(kMessageWithSequence, 0, kDefaultMaxMessageSize, out));
  ASSERT_EQ(out.sequences().size(), 1u);
  EXPECT_EQ(out.sequences()[0].identifier, "documents");
  ASSERT_EQ(out.sequences()[0].documents.size(), 2u);
  EXPECT_EQ(out.sequences()[0].documents[0], view_of(kDocA1));
  EXPECT_EQ(out.sequences()[0].documents[1]["a"].get_int32(), 2);

  OpMsg checked;
  ASSERT_FALSE(decode_op_msg(kPingMessageWithChecksum, 0, kDefaultMaxMessageSize, checked));
  EXPECT_TRUE(checked.checksum_present());
  EXPECT_EQ(checked.body(), view_of(kPingBody));
}

TEST(OpMsgDecode, RoundTripsWithAndWithoutSequencesAndChecksum) {
  auto body = bson::Document::from_json(R"({"insert": "c", "ordered": true, "$db": "test"})");
  auto d1 = bson::Document::from_json(R"({"_id": 1, "name": "héllo", "tags": ["x", "y"]})");
  auto d2 = bson::Document::from_json(R"({"_id": 2, "nested": {"deep": {"n": 1.5}}})");
  const bson::View docs[] = {d1, d2};
  const bson::View updates[] = {d2};
  const DocumentSequence sequences[] = {{"documents", docs}, {"updates", updates}, {"empty", {}}};

  for (std::uint32_t flags :
       {0u, kChecksumPresent, kMoreToCome, kChecksumPresent | kExhaustAllowed}) {
    for (std::size_t count = 0; count <= 3; ++count) {
      auto bytes = encode_op_msg(99, body, flags, {sequences, count});
      OpMsg out;
      ASSERT_FALSE(
          decode_op_msg(bytes, 0, kDefaultMaxMessageSize, out, nullptr, MoreToCome::kAllowed))
          << "flags " << flags << " sequences " << count;
      EXPECT_EQ(out.header().request_id, 99);
      EXPECT_EQ(out.flags(), flags);
      EXPECT_EQ(out.body(), body.view());
      ASSERT_EQ(out.sequences().size(), count);
      for (std::size_t i = 0; i < count; ++i) {
        EXPECT_EQ(out.sequences()[i].identifier, sequences[i].identifier);
        ASSERT_EQ(out.sequences()[i].documents.size(), sequences[i].documents.size());
        for (std::size_t j = 0; j < sequences[i].documents.size(); ++j)
          EXPECT_EQ(out.sequences()[i].documents[j], sequences[i].documents[j]);
      }
    }
  }
}

TEST(OpMsgDecode, ViewsSurviveMovingTheMessage) {
  OpMsg first;
  ASSERT_FALSE(decode_op_msg(kMessageWithSequence, 0, kDefaultMaxMessageSize, first));
  OpMsg moved = std::move(first);
  EXPECT_EQ(moved.body()["ping"].get_int32(), 1);
  EXPECT_EQ(moved.sequences()[0].identifier, "documents");
  EXPECT_EQ(moved.sequences()[0].documents[1]["a"].get_int32(), 2);
}

TEST(OpMsgHeader, ParsesAndChecks) {
  MessageHeader header;
  std::span<const std::uint8_t, kHeaderSize> first16(kPingMessage.data(), kHeaderSize);
  ASSERT_FALSE(parse_header(first16, kDefaultMaxMessageSize, header));
  EXPECT_EQ(header.message_length, 36);
  EXPECT_EQ(header.request_id, 7);
  EXPECT_EQ(parse_header(first16, 35, header), errc::message_too_large);
  EXPECT_FALSE(parse_header(first16, 36, header));
}

// ---- Every decode error -----------------------------------------------------------------------

TEST(OpMsgErrors, MessageTooShort) {
  DecodeDiagnostics diagnostics;
  // A header claiming 25 bytes: less than header + flags + kind + the smallest document.
  EXPECT_EQ(decode(RawMessage().body().finish(25), 42, kDefaultMaxMessageSize, &diagnostics),
            errc::message_too_short);
  EXPECT_NE(diagnostics.describe().find("below the OP_MSG minimum"), std::string::npos)
      << diagnostics.describe();
  EXPECT_EQ(decode(RawMessage().body().finish(-1)), errc::message_too_short);
  EXPECT_EQ(decode(Bytes(15, 0)), errc::message_too_short);
  EXPECT_EQ(decode({}), errc::message_too_short);
  // Fewer bytes than messageLength announces.
  EXPECT_EQ(decode(RawMessage().body().finish(1000)), errc::message_too_short);
}

// messageLength is a signed int32: a negative one is reported as negative, not as the unsigned
// number its bits would make.
TEST(OpMsgErrors, NegativeLengthIsReportedAsNegative) {
  DecodeDiagnostics diagnostics;
  EXPECT_EQ(decode(RawMessage().body().finish(-5), 42, kDefaultMaxMessageSize, &diagnostics),
            errc::message_too_short);
  EXPECT_NE(diagnostics.detail.find("messageLength -5 "), std::string::npos) << diagnostics.detail;
  EXPECT_EQ(diagnostics.detail.find("4294967291"), std::string::npos) << diagnostics.detail;

  Bytes header = RawMessage().finish(INT32_MIN);
  MessageHeader parsed;
  DecodeDiagnostics header_diagnostics;
  EXPECT_EQ(parse_header(std::span<const std::uint8_t, kHeaderSize>(header.data(), kHeaderSize),
                         kDefaultMaxMessageSize, parsed, &header_diagnostics),
            errc::message_too_short);
  EXPECT_NE(header_diagnostics.detail.find("messageLength -2147483648 "), std::string::npos)
      << header_diagnostics.detail;

  // The other signed header fields likewise.
  EXPECT_EQ(decode(RawMessage(1, 42, -1).body().finish(), 42, kDefaultMaxMessageSize, &diagnostics),
            errc::unexpected_opcode);
  EXPECT_NE(diagnostics.detail.find("opCode -1 "), std::string::npos) << diagnostics.detail;
  EXPECT_EQ(decode(RawMessage(1, -3).body().finish(), 42, kDefaultMaxMessageSize, &diagnostics),
            errc::response_to_mismatch);
  EXPECT_EQ(diagnostics.detail, "responseTo -3 does not match the request id 42");
}

TEST(OpMsgErrors, MessageTooLarge) {
  auto message = RawMessage().body().finish();
  EXPECT_EQ(decode(message, 42, message.size() - 1), errc::message_too_large);
  EXPECT_FALSE(decode(message, 42, message.size()));
  Bytes header = RawMessage().finish(48'000'001);
  MessageHeader parsed;
  EXPECT_EQ(parse_header(std::span<const std::uint8_t, kHeaderSize>(header.data(), kHeaderSize),
                         kDefaultMaxMessageSize, parsed),
            errc::message_too_large);
  EXPECT_EQ(parsed.message_length, 48'000'001);
}

TEST(OpMsgErrors, ResponseToMismatch) {
  DecodeDiagnostics diagnostics;
  EXPECT_EQ(decode(RawMessage(1, 41).body().finish(), 42, kDefaultMaxMessageSize, &diagnostics),
            errc::response_to_mismatch);
  EXPECT_EQ(diagnostics.detail, "responseTo 41 does not match the request id 42");
}

TEST(OpMsgErrors, UnexpectedOpcode) {
  EXPECT_EQ(decode(RawMessage(1, 42, 1).body().finish()), errc::unexpected_opcode);  // OP_REPLY
  EXPECT_EQ(decode(RawMessage(1, 42, 2012).body().finish()), errc::unexpected_opcode);
}

TEST(OpMsgErrors, UnknownRequiredFlags) {
  DecodeDiagnostics diagnostics;
  EXPECT_EQ(decode(RawMessage(1, 42, kOpMsg, 1u << 2).body().finish(), 42, kDefaultMaxMessageSize,
                   &diagnostics),
            errc::unknown_required_flags);
  EXPECT_NE(diagnostics.detail.find("0x4"), std::string::npos) << diagnostics.detail;
  EXPECT_EQ(decode(RawMessage(1, 42, kOpMsg, 1u << 15).body().finish()),
            errc::unknown_required_flags);
  // Known required bits and any optional (high 16) bits are accepted.
  EXPECT_FALSE(
      decode(RawMessage(1, 42, kOpMsg, kMoreToCome | kExhaustAllowed | (1u << 31)).body().finish(),
             42, kDefaultMaxMessageSize, nullptr, MoreToCome::kAllowed));
  EXPECT_FALSE(decode(RawMessage(1, 42, kOpMsg, kExhaustAllowed | (1u << 31)).body().finish()));
}

// moreToCome on a reply means "more replies follow without a request": only an exhaustAllowed
// request may get one. Anywhere else the replies that follow would answer nothing we sent.
TEST(OpMsgErrors, UnexpectedMoreToCome) {
  const Bytes message = RawMessage(1, 42, kOpMsg, kMoreToCome).body().finish();
  DecodeDiagnostics diagnostics;
  EXPECT_EQ(decode(message, 42, kDefaultMaxMessageSize, &diagnostics),
            errc::unexpected_more_to_come);
  EXPECT_EQ(diagnostics.offset, kHeaderSize);
  EXPECT_NE(diagnostics.detail.find("moreToCome"), std::string::npos) << diagnostics.detail;
  EXPECT_EQ(
      decode(
          RawMessage(1, 42, kOpMsg, kMoreToCome | kChecksumPresent).body().finish_with_checksum()),
      errc::unexpected_more_to_come);

  OpMsg out;
  ASSERT_FALSE(
      decode_op_msg(message, 42, kDefaultMaxMessageSize, out, nullptr, MoreToCome::kAllowed));
  EXPECT_TRUE(out.more_to_come());
  EXPECT_FALSE(make_error_code(errc::unexpected_more_to_come).message().empty());
}

TEST(OpMsgErrors, UnknownSectionKind) {
  EXPECT_EQ(decode(RawMessage().body().byte(2).raw(kDocA1).finish()), errc::unknown_section_kind);
  EXPECT_EQ(decode(RawMessage().byte(0xff).raw(kPingBody).finish()), errc::unknown_section_kind);
}

TEST(OpMsgErrors, MissingBodySection) {
  EXPECT_EQ(decode(RawMessage().sequence("documents", {kDocA1}).finish()),
            errc::missing_body_section);
}

TEST(OpMsgErrors, DuplicateBodySection) {
  EXPECT_EQ(decode(RawMessage().body().body(kDocA1).finish()), errc::duplicate_body_section);
  EXPECT_EQ(decode(RawMessage().body().sequence("d", {kDocA1}).body().finish()),
            errc::duplicate_body_section);
}

TEST(OpMsgErrors, BodyRunsPastTheMessage) {
  Bytes long_body = kPingBody;
  long_body[0] = 16;  // one byte more than there is
  EXPECT_EQ(decode(RawMessage().body(long_body).finish()), errc::section_overrun);
  // A kind byte at the very end with no document after it.
  EXPECT_EQ(decode(RawMessage().body().byte(0).finish()), errc::section_overrun);
}

TEST(OpMsgErrors, SequenceRunsPastTheMessage) {
  EXPECT_EQ(decode(RawMessage().body().sequence("documents", {kDocA1}, 1000).finish()),
            errc::section_overrun);
  // Only part of the size field is present.
  EXPECT_EQ(decode(RawMessage().body().byte(1).byte(4).byte(0).finish()), errc::section_overrun);
}

TEST(OpMsgErrors, SequenceDocumentRunsPastItsSection) {
  // The section size stops 4 bytes into the second document; the message goes on.
  DecodeDiagnostics diagnostics;
  EXPECT_EQ(
      decode(RawMessage().body().sequence("documents", {kDocA1, kDocA2}, 4 + 10 + 12 + 4).finish(),
             42, kDefaultMaxMessageSize, &diagnostics),
      errc::section_overrun);
  EXPECT_EQ(diagnostics.offset, 20u + 16u + 5u + 10u + 12u);
  // A partial document length at the end of the section.
  EXPECT_EQ(decode(RawMessage().body().sequence("documents", {kDocA1, {0x05, 0x00}}).finish()),
            errc::section_overrun);
}

TEST(OpMsgErrors, SequenceIdentifierRunsPastItsSection) {
  // size 6 covers the size field and "do", with no NUL inside the section.
  EXPECT_EQ(decode(RawMessage().body().sequence("documents", {}, 6).finish()),
            errc::section_overrun);
  EXPECT_EQ(decode(RawMessage().body().sequence("documents", {}, 4).finish()),
            errc::section_overrun);
}

TEST(OpMsgErrors, InvalidBson) {
  Bytes bad_utf8 = kPingBody;
  bad_utf8[5] = 0xff;  // inside the key "ping"
  DecodeDiagnostics diagnostics;
  EXPECT_EQ(decode(RawMessage().body(bad_utf8).finish(), 42, kDefaultMaxMessageSize, &diagnostics),
            errc::invalid_bson);
  EXPECT_EQ(diagnostics.offset, 21u + 5u);
  EXPECT_NE(diagnostics.detail.find("not valid UTF-8"), std::string::npos) << diagnostics.detail;

  Bytes bad_type = kDocA1;
  bad_type[4] = 0x42;
  EXPECT_EQ(decode(RawMessage().body().sequence("documents", {kDocA1, bad_type}).finish()),
            errc::invalid_bson);
  Bytes too_small = {0x04, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(decode(RawMessage().body(too_small).finish()), errc::invalid_bson);
}

TEST(OpMsgErrors, ChecksumMismatch) {
  Bytes message = kPingMessageWithChecksum;
  message[8] = 42;  // responseTo 42, so the CRC no longer matches
  EXPECT_EQ(decode(message), errc::checksum_mismatch);
  auto good = RawMessage(1, 42, kOpMsg, kChecksumPresent).body().finish_with_checksum();
  EXPECT_FALSE(decode(good));
  for (std::size_t i = kHeaderSize; i < good.size(); ++i) {
    Bytes flipped = good;
    flipped[i] ^= 0x10;
    auto ec = decode(flipped);
    // Flipping a flag bit may make it an unknown flag first; every other change is caught by the
    // checksum before the sections are read.
    if (i >= kHeaderSize + 4)
      EXPECT_EQ(ec, errc::checksum_mismatch) << "byte " << i;
    else
      EXPECT_TRUE(ec) << "byte " << i;
  }
}

TEST(OpMsgErrors, BufferLongerThanMessageLength) {
  Bytes message = kPingMessage;
  message.push_back(0);
  EXPECT_EQ(decode(message, 0), errc::invalid_argument);
}

TEST(OpMsgErrors, DiagnosticsDescribeIncludesOffset) {
  DecodeDiagnostics diagnostics;
  EXPECT_EQ(decode(RawMessage().body().byte(7).finish(), 42, kDefaultMaxMessageSize, &diagnostics),
            errc::unknown_section_kind);
  EXPECT_EQ(diagnostics.describe(), "section kind 7 (at byte 36)");
}

// Every prefix of a valid message is an error, and (each prefix in its own exact-size buffer,
// checked under ASan) none is read past its end.
TEST(OpMsgErrors, EveryTruncationIsAnErrorWithoutOverRead) {
  const Bytes messages[] = {kPingMessage, kMessageWithSequence, kPingMessageWithChecksum};
  for (const Bytes& message : messages) {
    for (std::size_t size = 0; size < message.size(); ++size) {
      Bytes prefix(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(size));
      EXPECT_EQ(decode(prefix, 0), errc::message_too_short) << "prefix of " << size;
      // The same prefix with messageLength rewritten to match it: the sections themselves are
      // cut short. The one exception is the sequence message cut right after its body (36
      // bytes), which is a complete message.
      if (size >= kHeaderSize) {
        Bytes relabelled = prefix;
        relabelled[0] = static_cast<std::uint8_t>(size);
        auto ec = decode(relabelled, 0);
        if (!ec) EXPECT_TRUE(&message == &messages[1] && size == 36) << "prefix of " << size;
      }
    }
  }
}

}  // namespace
}  // namespace mongoslice::wire
