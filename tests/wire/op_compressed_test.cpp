#include "wire/op_compressed.hpp"

#include <gtest/gtest.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wire/error.hpp"
#include "wire/little_endian.hpp"

namespace mongoslice::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr Compressor kAll[] = {Compressor::kNoop, Compressor::kSnappy, Compressor::kZlib,
                               Compressor::kZstd};

// An OP_MSG reply of `padding` repeated bytes in a string field: compressible, and large
// enough that every compressor really compresses it.
Bytes reply_message(std::int32_t request_id, std::int32_t response_to, std::size_t padding) {
  const auto body =
      bson::Builder{}.append("ok", 1).append("pad", std::string(padding, 'x')).build();
  Bytes message = encode_op_msg(request_id, body.view());
  write_u32(message.data() + 8, static_cast<std::uint32_t>(response_to));
  return message;
}

// An OP_COMPRESSED put together by hand around `data` (the compressed bytes).
Bytes hand_made(std::int32_t original_opcode, std::int32_t uncompressed_size, std::uint8_t id,
                const Bytes& data) {
  Bytes out(kOpCompressedPrefixSize);
  write_u32(out.data() + 4, 9);
  write_u32(out.data() + 8, 5);
  write_u32(out.data() + 12, kOpCompressed);
  write_u32(out.data() + 16, static_cast<std::uint32_t>(original_opcode));
  write_u32(out.data() + 20, static_cast<std::uint32_t>(uncompressed_size));
  out[24] = id;
  out.insert(out.end(), data.begin(), data.end());
  write_u32(out.data(), static_cast<std::uint32_t>(out.size()));
  return out;
}

Bytes zlib_of(const Bytes& in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  Bytes out(size);
  EXPECT_EQ(compress2(out.data(), &size, in.data(), static_cast<uLong>(in.size()), 9), Z_OK);
  out.resize(size);
  return out;
}

Bytes snappy_of(const Bytes& in) {
  std::size_t size = snappy_max_compressed_length(in.size());
  Bytes out(size);
  EXPECT_EQ(snappy_compress(reinterpret_cast<const char*>(in.data()), in.size(),
                            reinterpret_cast<char*>(out.data()), &size),
            SNAPPY_OK);
  out.resize(size);
  return out;
}

Bytes zstd_of(const Bytes& in) {
  Bytes out(ZSTD_compressBound(in.size()));
  const std::size_t size = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(size);
  return out;
}

// zstd through its streaming API, which leaves the frame's content size out.
Bytes zstd_streamed_of(const Bytes& in) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  Bytes out(ZSTD_compressBound(in.size()) + 64);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  EXPECT_EQ(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue), 0u);
  EXPECT_EQ(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  out.resize(output.pos);
  EXPECT_EQ(ZSTD_getFrameContentSize(out.data(), out.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  return out;
}

std::error_code decode(const Bytes& message, Bytes& out, std::string* detail = nullptr,
                       std::size_t max = kDefaultMaxMessageSize) {
  DecodeDiagnostics diagnostics;
  auto ec = decode_op_compressed(message, kOpMsg, max, out, &diagnostics);
  if (detail) *detail = diagnostics.detail;
  return ec;
}

TEST(OpCompressed, RoundTripsEveryCompressorAndTheResultDecodesAsOpMsg) {
  const Bytes original = reply_message(42, 7, 10'000);
  for (const Compressor c : kAll) {
    SCOPED_TRACE(std::string(name_of(c)));
    const Bytes compressed = encode_op_compressed(original, c, 6);
    EXPECT_EQ(read_i32(compressed.data()), static_cast<std::int32_t>(compressed.size()));
    EXPECT_EQ(read_i32(compressed.data() + 4), 42);
    EXPECT_EQ(read_i32(compressed.data() + 8), 7);
    EXPECT_EQ(read_i32(compressed.data() + 12), kOpCompressed);
    EXPECT_EQ(read_i32(compressed.data() + 16), kOpMsg);
    EXPECT_EQ(read_i32(compressed.data() + 20), static_cast<std::int32_t>(original.size() - 16));
    EXPECT_EQ(compressed[24], static_cast<std::uint8_t>(c));
    if (c != Compressor::kNoop) EXPECT_LT(compressed.size(), original.size() / 4);
    Bytes back;
    ASSERT_FALSE(decode(compressed, back));
    EXPECT_EQ(back, original);
    OpMsg reply;
    ASSERT_FALSE(decode_op_msg(back, 7, kDefaultMaxMessageSize, reply));
    EXPECT_EQ(reply.body()["pad"].get_string().size(), 10'000u);
  }
}

TEST(OpCompressed, EveryZlibLevelRoundTrips) {
  const Bytes original = reply_message(1, 2, 3'000);
  for (int level = -1; level <= 9; ++level) {
    Bytes back;
    ASSERT_FALSE(decode(encode_op_compressed(original, Compressor::kZlib, level), back)) << level;
    EXPECT_EQ(back, original) << level;
  }
}

TEST(OpCompressed, DecodesWhatTheLibrariesProduceDirectly) {
  const Bytes original = reply_message(9, 5, 5'000);
  const Bytes body(original.begin() + 16, original.end());
  const auto size = static_cast<std::int32_t>(body.size());
  const std::pair<std::uint8_t, Bytes> cases[] = {
      {1, snappy_of(body)}, {2, zlib_of(body)}, {3, zstd_of(body)}, {3, zstd_streamed_of(body)}};
  for (const auto& [id, data] : cases) {
    Bytes back;
    ASSERT_FALSE(decode(hand_made(kOpMsg, size, id, data), back)) << int(id);
    EXPECT_EQ(back, original);
  }
}

TEST(OpCompressed, RefusesAnUnknownCompressorId) {
  const Bytes body(100, 'a');
  for (std::uint8_t id : {4, 5, 0x80, 0xff}) {
    Bytes out{1, 2, 3};
    EXPECT_EQ(decode(hand_made(kOpMsg, 100, id, body), out), errc::unknown_compressor);
    EXPECT_TRUE(out.empty());
  }
}

TEST(OpCompressed, RefusesACompressedOpCompressed) {
  const Bytes inner = encode_op_compressed(reply_message(1, 1, 100), Compressor::kNoop);
  const Bytes body(inner.begin() + 16, inner.end());
  Bytes out;
  std::string detail;
  EXPECT_EQ(decode(hand_made(kOpCompressed, static_cast<std::int32_t>(body.size()), 0, body), out,
                   &detail),
            errc::nested_compression);
  EXPECT_NE(detail.find("2012"), std::string::npos) << detail;
}

TEST(OpCompressed, RefusesAnOriginalOpcodeOtherThanTheExpectedOne) {
  const Bytes body(100, 'a');
  for (std::int32_t op : {1, 2004, 2013, 0, -1}) {
    Bytes out;
    DecodeDiagnostics diagnostics;
    const std::int32_t expected = op == kOpMsg ? 1 : kOpMsg;
    EXPECT_EQ(decode_op_compressed(hand_made(op, 100, 0, body), expected, kDefaultMaxMessageSize,
                                   out, &diagnostics),
              errc::unexpected_opcode)
        << op;
  }
}

TEST(OpCompressed, RefusesAnUncompressedSizeAboveTheMaximumBeforeAllocating) {
  // Each compressor's data honestly announces 2 MB, but the connection allows 1 MB; the
  // refusal comes before any output buffer (and before decompression).
  const Bytes big(2'000'000, 'z');
  const std::pair<std::uint8_t, Bytes> cases[] = {
      {0, big}, {1, snappy_of(big)}, {2, zlib_of(big)}, {3, zstd_of(big)}};
  for (const auto& [id, data] : cases) {
    Bytes out;
    EXPECT_EQ(decode(hand_made(kOpMsg, 2'000'000, id, data), out, nullptr, 1'000'000),
              errc::message_too_large)
        << int(id);
  }
  // The header counts: uncompressedSize = max - 16 is the largest accepted.
  Bytes out;
  EXPECT_EQ(
      decode(hand_made(kOpMsg, 1'000'000 - 15, 0, Bytes(1'000'000 - 15)), out, nullptr, 1'000'000),
      errc::message_too_large);
  EXPECT_FALSE(
      decode(hand_made(kOpMsg, 1'000'000 - 16, 0, Bytes(1'000'000 - 16)), out, nullptr, 1'000'000));
  EXPECT_EQ(decode(hand_made(kOpMsg, INT32_MAX, 3, zstd_of(big)), out), errc::message_too_large);
  EXPECT_EQ(decode(hand_made(kOpMsg, -1, 0, Bytes{}), out), errc::uncompressed_size_mismatch);
}

TEST(OpCompressed, ADecompressionBombInflatesNoFurtherThanTheDeclaredSize) {
  // 8 MB of zeros compresses to a few kilobytes; the peer declares 1000 bytes.
  const Bytes zeros(8'000'000, 0);
  const std::pair<std::uint8_t, Bytes> cases[] = {{1, snappy_of(zeros)},
                                                  {2, zlib_of(zeros)},
                                                  {3, zstd_of(zeros)},
                                                  {3, zstd_streamed_of(zeros)}};
  for (const auto& [id, data] : cases) {
    Bytes out;
    std::string detail;
    EXPECT_EQ(decode(hand_made(kOpMsg, 1000, id, data), out, &detail),
              errc::uncompressed_size_mismatch)
        << int(id) << ": " << detail;
    EXPECT_TRUE(out.empty());
  }
}

TEST(OpCompressed, RefusesDataThatHoldsLessThanTheDeclaredSize) {
  const Bytes body(5'000, 'q');
  const std::pair<std::uint8_t, Bytes> cases[] = {{0, Bytes(4'999, 'q')},
                                                  {1, snappy_of(body)},
                                                  {2, zlib_of(body)},
                                                  {3, zstd_of(body)},
                                                  {3, zstd_streamed_of(body)}};
  for (const auto& [id, data] : cases) {
    Bytes out;
    EXPECT_EQ(decode(hand_made(kOpMsg, 5'001, id, data), out), errc::uncompressed_size_mismatch)
        << int(id);
  }
  // zlib cannot reach 5 MB from 20 bytes (deflate expands at most 1032 times).
  Bytes out;
  EXPECT_EQ(decode(hand_made(kOpMsg, 5'000'000, 2, Bytes(20, 0)), out),
            errc::uncompressed_size_mismatch);
}

TEST(OpCompressed, RefusesTruncatedAndCorruptDataOfEveryCompressor) {
  Bytes body;
  for (int i = 0; i < 20'000; ++i) body.push_back(static_cast<std::uint8_t>(i * 7 % 251));
  const auto size = static_cast<std::int32_t>(body.size());
  const std::pair<std::uint8_t, Bytes> cases[] = {
      {1, snappy_of(body)}, {2, zlib_of(body)}, {3, zstd_of(body)}, {3, zstd_streamed_of(body)}};
  for (const auto& [id, data] : cases) {
    SCOPED_TRACE(int(id));
    for (std::size_t keep : {std::size_t{0}, std::size_t{1}, data.size() / 2, data.size() - 1}) {
      Bytes out;
      const auto ec =
          decode(hand_made(kOpMsg, size, id, Bytes(data.begin(), data.begin() + keep)), out);
      EXPECT_TRUE(ec == errc::decompression_failed || ec == errc::uncompressed_size_mismatch)
          << keep << ": " << ec.message();
    }
    // A sample of bytes flipped in turn: an error, or (snappy and zstd carry no checksum here)
    // other content of exactly the declared size, which the OP_MSG decoder then judges; never a
    // crash, never more output (ASan runs this too).
    for (std::size_t at = 0; at < data.size(); at += 1 + data.size() / 97) {
      Bytes corrupt = data;
      corrupt[at] ^= 0x5a;
      Bytes out;
      if (!decode(hand_made(kOpMsg, size, id, corrupt), out)) {
        EXPECT_EQ(out.size(), 16 + body.size()) << "flip at " << at;
        if (id == 2) EXPECT_EQ(Bytes(out.begin() + 16, out.end()), body) << "zlib: adler-32";
      }
    }
  }
  // zlib: trailing bytes after the stream's end, and a checksum that does not match.
  Bytes trailing = zlib_of(body);
  trailing.push_back(0);
  Bytes out;
  EXPECT_EQ(decode(hand_made(kOpMsg, size, 2, trailing), out), errc::decompression_failed);
  Bytes bad_adler = zlib_of(body);
  bad_adler.back() ^= 1;
  EXPECT_EQ(decode(hand_made(kOpMsg, size, 2, bad_adler), out), errc::decompression_failed);
}

TEST(OpCompressed, RefusesAShortOrMislabelledMessage) {
  Bytes out;
  const Bytes good = encode_op_compressed(reply_message(1, 1, 10), Compressor::kZstd);
  EXPECT_EQ(decode(Bytes(good.begin(), good.begin() + 24), out), errc::message_too_short);
  Bytes lying = good;
  write_u32(lying.data(), static_cast<std::uint32_t>(good.size() + 1));
  EXPECT_EQ(decode(lying, out), errc::invalid_argument);
  Bytes not_compressed = good;
  write_u32(not_compressed.data() + 12, kOpMsg);
  EXPECT_EQ(decode(not_compressed, out), errc::unexpected_opcode);
}

TEST(OpCompressed, ReplyHeaderAcceptsOpMsgAndOpCompressedWithinLimits) {
  MessageHeader header;
  std::array<std::uint8_t, kHeaderSize> bytes{};
  write_u32(bytes.data() + 12, kOpCompressed);
  write_u32(bytes.data(), 25);
  EXPECT_FALSE(parse_reply_header(bytes, 1000, header));
  EXPECT_EQ(header.op_code, kOpCompressed);
  write_u32(bytes.data(), 24);
  EXPECT_EQ(parse_reply_header(bytes, 1000, header), errc::message_too_short);
  write_u32(bytes.data(), 1001);
  EXPECT_EQ(parse_reply_header(bytes, 1000, header), errc::message_too_large);
  write_u32(bytes.data(), 0x80000000u);
  EXPECT_EQ(parse_reply_header(bytes, 1000, header), errc::message_too_short);
  write_u32(bytes.data() + 12, kOpMsg);
  write_u32(bytes.data(), 100);
  EXPECT_FALSE(parse_reply_header(bytes, 1000, header));
  write_u32(bytes.data() + 12, 1);
  EXPECT_EQ(parse_reply_header(bytes, 1000, header), errc::unexpected_opcode);
}

TEST(OpCompressed, NeverCompressesHelloOrAuthenticationCommands) {
  for (const char* name :
       {"hello", "isMaster", "ismaster", "saslStart", "saslContinue", "getnonce", "authenticate",
        "createUser", "updateUser", "copydbSaslStart", "copydbgetnonce", "copydb"}) {
    EXPECT_FALSE(may_compress_command(name)) << name;
  }
  for (const char* name : {"find", "insert", "getMore", "ping", "endSessions", "copydbx"}) {
    EXPECT_TRUE(may_compress_command(name)) << name;
  }
}

TEST(OpCompressed, ChoosesTheClientsFirstCompressorTheServerAlsoHas) {
  const Compressor client[] = {Compressor::kZstd, Compressor::kSnappy, Compressor::kZlib};
  const std::string_view server[] = {"zlib", "snappy"};
  EXPECT_EQ(choose_compressor(client, server), Compressor::kSnappy);
  const std::string_view none[] = {"lz4"};
  EXPECT_EQ(choose_compressor(client, none), std::nullopt);
  EXPECT_EQ(choose_compressor({}, server), std::nullopt);
  EXPECT_EQ(compressor_named("zstd"), Compressor::kZstd);
  EXPECT_EQ(compressor_named("noop"), std::nullopt);
  EXPECT_EQ(compressor_named("ZSTD"), std::nullopt);
}

}  // namespace
}  // namespace mongoslice::wire
