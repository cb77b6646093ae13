// OP_QUERY encoding (the handshake's legacy hello) byte by byte, and the strict OP_REPLY
// decoder: a valid reply, then every malformation, each its own error naming what and where.

#include "wire/op_query.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

// {ok: 1} as an int32 element: 13 bytes.
const Bytes kOkDoc = {0x0d, 0x00, 0x00, 0x00, 0x10, 'o', 'k', 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};

bson::View view_of(const Bytes& bytes) {
  return bson::View(bytes.data(), bytes.size());
}

TEST(OpQuery, EncodesTheLegacyHelloOnAdminCmd) {
  const Bytes expected = {
      0x34, 0x00, 0x00, 0x00,  // messageLength 52 = 16 + 4 + 11 + 4 + 4 + 13
      0x07, 0x00, 0x00, 0x00,  // requestID 7
      0x00, 0x00, 0x00, 0x00,  // responseTo 0
      0xd4, 0x07, 0x00, 0x00,  // opCode 2004
      0x00, 0x00, 0x00, 0x00,  // flags
      'a',  'd',  'm',  'i',  'n',  '.', '$', 'c',  'm',  'd',  0x00,  // fullCollectionName
      0x00, 0x00, 0x00, 0x00,                                          // numberToSkip 0
      0xff, 0xff, 0xff, 0xff,                                          // numberToReturn -1
      0x0d, 0x00, 0x00, 0x00, 0x10, 'o', 'k', 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // query
  };
  ASSERT_EQ(expected.size(), 16u + 4 + 11 + 4 + 4 + 13);
  auto bytes = encode_op_query_command(7, "admin", view_of(kOkDoc));
  EXPECT_EQ(bytes, Bytes(expected.begin(), expected.end()));
}

TEST(OpQuery, RefusesADatabaseNameWithANul) {
  try {
    (void)encode_op_query_command(1, std::string_view("ad\0min", 6), view_of(kOkDoc));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
  }
}

// An OP_REPLY assembled field by field; each test changes one field.
struct RawReply {
  std::int32_t request_id = 100;
  std::int32_t response_to = 7;
  std::int32_t op_code = kOpReply;
  std::uint32_t flags = 0;
  std::int64_t cursor_id = 0;
  std::int32_t starting_from = 0;
  std::int32_t number_returned = 1;
  Bytes documents = kOkDoc;
  std::optional<std::int32_t> length;  // messageLength when it must lie

  Bytes bytes() const {
    Bytes out;
    auto put32 = [&](std::uint32_t v) {
      for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    put32(0);
    put32(static_cast<std::uint32_t>(request_id));
    put32(static_cast<std::uint32_t>(response_to));
    put32(static_cast<std::uint32_t>(op_code));
    put32(flags);
    put32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(cursor_id)));
    put32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(cursor_id) >> 32));
    put32(static_cast<std::uint32_t>(starting_from));
    put32(static_cast<std::uint32_t>(number_returned));
    out.insert(out.end(), documents.begin(), documents.end());
    const auto size = static_cast<std::uint32_t>(length ? *length : out.size());
    for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(size >> (8 * i));
    return out;
  }
};

struct Decoded {
  std::error_code ec;
  DecodeDiagnostics diagnostics;
  OpReply reply;
};

Decoded decode(const Bytes& bytes, std::int32_t expected_response_to = 7,
               std::size_t max = kDefaultMaxMessageSize) {
  Decoded d;
  d.ec = decode_op_reply(bytes, expected_response_to, max, d.reply, &d.diagnostics);
  return d;
}

TEST(OpReply, DecodesAValidReply) {
  RawReply raw;
  raw.flags = kReplyAwaitCapable;  // what mongod sets on every reply
  auto d = decode(raw.bytes());
  ASSERT_FALSE(d.ec) << d.diagnostics.describe();
  EXPECT_EQ(d.reply.header().request_id, 100);
  EXPECT_EQ(d.reply.header().response_to, 7);
  EXPECT_EQ(d.reply.header().op_code, kOpReply);
  EXPECT_EQ(d.reply.response_flags(), kReplyAwaitCapable);
  EXPECT_EQ(d.reply.document()["ok"].as_int64(), 1);
  EXPECT_EQ(d.reply.bytes().size(), 36u + kOkDoc.size());
}

TEST(OpReply, ReservedAndShardConfigStaleBitsAreIgnored) {
  RawReply raw;
  raw.flags = kReplyShardConfigStale | (1u << 4) | (1u << 31);
  auto d = decode(raw.bytes());
  EXPECT_FALSE(d.ec) << d.diagnostics.describe();
}

struct Malformation {
  const char* name;
  RawReply raw;
  errc expected;
  std::string detail;  // a part of the diagnostics text
  std::size_t offset;  // where the diagnostics point
};

RawReply with(std::function<void(RawReply&)> change) {
  RawReply raw;
  change(raw);
  return raw;
}

TEST(OpReply, EveryMalformationIsItsOwnClearError) {
  // {$err: "bad", code: 2}, the document of a QueryFailure: the length (4), a string element
  // (1 + 5 + 4 + 4), an int32 element (1 + 5 + 4) and the terminator.
  const Bytes err = {0x1d, 0x00, 0x00, 0x00, 0x02, '$',  'e',  'r',  'r',  0x00,
                     0x04, 0x00, 0x00, 0x00, 'b',  'a',  'd',  0x00, 0x10, 'c',
                     'o',  'd',  'e',  0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
  ASSERT_EQ(err.size(), 0x1du);

  // {s: "\xff"}: a string that is not UTF-8.
  const Bytes bad_utf8 = {0x0e, 0x00, 0x00, 0x00, 0x02, 's',  0x00,
                          0x02, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00};
  Bytes two_docs = kOkDoc;
  two_docs.insert(two_docs.end(), kOkDoc.begin(), kOkDoc.end());
  Bytes long_doc = kOkDoc;
  long_doc[0] = 0x20;  // announces 32 bytes, 13 present
  Bytes trailing = kOkDoc;
  trailing.push_back(0x00);

  const Malformation cases[] = {
      {"length below the OP_REPLY minimum", with([](auto& r) { r.length = 40; }),
       errc::message_too_short, "below the OP_REPLY minimum", 0},
      {"negative length", with([](auto& r) { r.length = -5; }), errc::message_too_short,
       "messageLength -5", 0},
      {"length above the maximum", with([](auto& r) { r.length = 0x7fffffff; }),
       errc::message_too_large, "above maxMessageSizeBytes", 0},
      {"length beyond the bytes", with([](auto& r) { r.length = 49 + 10; }),
       errc::message_too_short, "truncated", 49},
      {"OP_MSG instead of OP_REPLY", with([](auto& r) { r.op_code = kOpMsg; }),
       errc::unexpected_opcode, "opCode 2013 is not OP_REPLY", 12},
      {"responseTo of another request", with([](auto& r) { r.response_to = 8; }),
       errc::response_to_mismatch, "responseTo 8 does not match the request id 7", 8},
      {"QueryFailure", with([&](auto& r) {
         r.flags = kReplyQueryFailure;
         r.documents = err;
       }),
       errc::op_reply_error_flags, "QueryFailure set: bad (code 2)", 16},
      {"CursorNotFound", with([](auto& r) { r.flags = kReplyCursorNotFound; }),
       errc::op_reply_error_flags, "CursorNotFound", 16},
      {"a cursor", with([](auto& r) { r.cursor_id = 1234567890123LL; }), errc::op_reply_malformed,
       "cursorID 1234567890123", 20},
      {"startingFrom", with([](auto& r) { r.starting_from = 3; }), errc::op_reply_malformed,
       "startingFrom 3", 28},
      {"no document announced", with([](auto& r) { r.number_returned = 0; }),
       errc::op_reply_malformed, "numberReturned 0", 32},
      {"negative numberReturned", with([](auto& r) { r.number_returned = -1; }),
       errc::op_reply_malformed, "numberReturned -1", 32},
      {"two documents", with([&](auto& r) {
         r.number_returned = 2;
         r.documents = two_docs;
       }),
       errc::op_reply_malformed, "numberReturned 2", 32},
      {"two documents, one announced", with([&](auto& r) { r.documents = two_docs; }),
       errc::op_reply_malformed, "13 bytes after the one document", 36 + 13},
      {"trailing byte", with([&](auto& r) { r.documents = trailing; }), errc::op_reply_malformed,
       "1 bytes after", 36 + 13},
      {"document longer than the message", with([&](auto& r) { r.documents = long_doc; }),
       errc::op_reply_malformed, "document of 32 bytes runs past the end of the message (13 left)",
       36},
      {"document that is not BSON", with([&](auto& r) { r.documents = bad_utf8; }),
       errc::invalid_bson, "not valid BSON", 36 + 11},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto d = decode(c.raw.bytes());
    EXPECT_EQ(d.ec, c.expected) << d.diagnostics.describe();
    EXPECT_NE(d.diagnostics.detail.find(c.detail), std::string::npos) << d.diagnostics.describe();
    EXPECT_EQ(d.diagnostics.offset, c.offset) << d.diagnostics.describe();
    EXPECT_TRUE(d.reply.bytes().empty());
    EXPECT_FALSE(d.ec.message().empty());
  }
}

TEST(OpReply, EveryTruncationIsRefused) {
  const Bytes whole = RawReply{}.bytes();
  for (std::size_t n = 0; n < whole.size(); ++n) {
    SCOPED_TRACE(n);
    Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    auto d = decode(cut);
    EXPECT_EQ(d.ec, errc::message_too_short) << d.diagnostics.describe();
  }
}

TEST(OpReply, ABufferLongerThanTheMessageIsTheCallersError) {
  Bytes bytes = RawReply{}.bytes();
  bytes.push_back(0);
  EXPECT_EQ(decode(bytes).ec, errc::invalid_argument);
}

TEST(OpReply, HeaderCheckRefusesOtherOpcodesAndLengths) {
  const Bytes whole = RawReply{}.bytes();
  MessageHeader header;
  EXPECT_FALSE(parse_op_reply_header(std::span<const std::uint8_t, kHeaderSize>(whole.data(), 16),
                                     kDefaultMaxMessageSize, header));
  EXPECT_EQ(header.message_length, static_cast<std::int32_t>(whole.size()));
  EXPECT_EQ(header.op_code, kOpReply);
  EXPECT_EQ(parse_op_reply_header(std::span<const std::uint8_t, kHeaderSize>(whole.data(), 16),
                                  whole.size() - 1, header),
            errc::message_too_large);
  const Bytes op_msg = with([](auto& r) { r.op_code = kOpMsg; }).bytes();
  EXPECT_EQ(parse_op_reply_header(std::span<const std::uint8_t, kHeaderSize>(op_msg.data(), 16),
                                  kDefaultMaxMessageSize, header),
            errc::unexpected_opcode);
}

// The round trip the handshake makes: what the encoder writes, a peer answers with the request
// id as responseTo, and the decoder accepts exactly that id.
TEST(OpReply, AnswersOnlyTheRequestItNames) {
  auto request = encode_op_query_command(41, "admin", view_of(kOkDoc));
  RawReply raw;
  raw.response_to = 41;
  EXPECT_FALSE(decode(raw.bytes(), 41).ec);
  EXPECT_EQ(decode(raw.bytes(), 42).ec, errc::response_to_mismatch);
  EXPECT_EQ(request[4], 41);
}

}  // namespace
}  // namespace mongoslice::wire
