#include "wire/op_compressed.hpp"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>

#include "wire/error.hpp"
#include "wire/little_endian.hpp"

namespace mongoslice::wire {
namespace {

// Deflate's largest possible expansion: a 258-byte match coded in as little as 2 bits.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

std::error_code fail(DecodeDiagnostics* diagnostics, errc code, std::size_t offset,
                     const char* detail, std::int64_t a = 0, std::int64_t b = 0) noexcept {
  if (diagnostics != nullptr) {
    try {
      diagnostics->offset = offset;
      std::string text = detail;
      for (const std::int64_t value : {a, b}) {
        const auto mark = text.find("{}");
        if (mark == std::string::npos) break;
        text.replace(mark, 2, std::to_string(value));
      }
      diagnostics->detail = std::move(text);
    } catch (...) {
      diagnostics->detail.clear();
    }
  }
  return make_error_code(code);
}

constexpr std::size_t kCompressorOffset = kHeaderSize + 8;
constexpr std::size_t kDataOffset = kOpCompressedPrefixSize;

// Inflates `in` into exactly out.size() bytes. Never writes past `out`: a stream that would
// inflate further is found by asking for one more byte into a scratch byte.
std::error_code inflate_exactly(std::span<const std::uint8_t> in, std::span<std::uint8_t> out,
                                DecodeDiagnostics* diagnostics) noexcept {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) {
    return fail(diagnostics, errc::decompression_failed, kDataOffset,
                "zlib could not start inflating");
  }
  std::uint8_t scratch = 0;
  stream.next_in = const_cast<Bytef*>(in.data());
  stream.avail_in = static_cast<uInt>(in.size());
  stream.next_out = out.empty() ? &scratch : out.data();
  stream.avail_out = out.empty() ? 0 : static_cast<uInt>(out.size());
  int rc = inflate(&stream, Z_FINISH);
  std::error_code result;
  if (rc == Z_STREAM_END) {
    if (stream.total_out != out.size()) {
      result =
          fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
               "zlib data inflates to {} bytes, not the uncompressedSize of {}",
               static_cast<std::int64_t>(stream.total_out), static_cast<std::int64_t>(out.size()));
    } else if (stream.avail_in != 0) {
      result =
          fail(diagnostics, errc::decompression_failed, kDataOffset + in.size() - stream.avail_in,
               "{} bytes follow the end of the zlib stream", stream.avail_in);
    }
  } else if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR) {
    result = fail(diagnostics, errc::decompression_failed, kDataOffset + stream.total_in,
                  "corrupt zlib data");
  } else {
    // The output is full (or the input ran out) before the stream's end.
    const uLong before = stream.total_out;
    stream.next_out = &scratch;
    stream.avail_out = 1;
    rc = inflate(&stream, Z_FINISH);
    if (stream.total_out > before) {
      result = fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
                    "zlib data inflates to more than the uncompressedSize of {}",
                    static_cast<std::int64_t>(out.size()));
    } else {
      result = fail(diagnostics, errc::decompression_failed, kDataOffset + stream.total_in,
                    "zlib data is truncated or corrupt (it ends after {} of {} bytes of output)",
                    static_cast<std::int64_t>(before), static_cast<std::int64_t>(out.size()));
    }
  }
  inflateEnd(&stream);
  return result;
}

}  // namespace

std::optional<Compressor> compressor_named(std::string_view name) noexcept {
  if (name == "snappy") return Compressor::kSnappy;
  if (name == "zlib") return Compressor::kZlib;
  if (name == "zstd") return Compressor::kZstd;
  return std::nullopt;
}

std::string_view name_of(Compressor compressor) noexcept {
  switch (compressor) {
    case Compressor::kNoop:
      return "noop";
    case Compressor::kSnappy:
      return "snappy";
    case Compressor::kZlib:
      return "zlib";
    case Compressor::kZstd:
      return "zstd";
  }
  return "unknown";
}

std::vector<std::uint8_t> encode_op_compressed(std::span<const std::uint8_t> message,
                                               Compressor compressor, int zlib_level) {
  const std::span<const std::uint8_t> body = message.subspan(kHeaderSize);
  std::size_t bound = body.size();
  switch (compressor) {
    case Compressor::kNoop:
      break;
    case Compressor::kSnappy:
      bound = snappy_max_compressed_length(body.size());
      break;
    case Compressor::kZlib:
      bound = compressBound(static_cast<uLong>(body.size()));
      break;
    case Compressor::kZstd:
      bound = ZSTD_compressBound(body.size());
      break;
  }
  std::vector<std::uint8_t> out(kDataOffset + bound);
  std::uint8_t* data = out.data() + kDataOffset;
  std::size_t size = bound;
  switch (compressor) {
    case Compressor::kNoop:
      std::copy(body.begin(), body.end(), data);
      break;
    case Compressor::kSnappy:
      // Only SNAPPY_BUFFER_TOO_SMALL can fail, and the bound rules it out.
      snappy_compress(reinterpret_cast<const char*>(body.data()), body.size(),
                      reinterpret_cast<char*>(data), &size);
      break;
    case Compressor::kZlib: {
      uLongf zsize = static_cast<uLongf>(bound);
      if (compress2(data, &zsize, body.data(), static_cast<uLong>(body.size()),
                    std::clamp(zlib_level, -1, 9)) != Z_OK) {
        throw std::bad_alloc();  // Z_MEM_ERROR; the bound rules out Z_BUF_ERROR
      }
      size = zsize;
      break;
    }
    case Compressor::kZstd:
      size = ZSTD_compress(data, bound, body.data(), body.size(), ZSTD_CLEVEL_DEFAULT);
      if (ZSTD_isError(size)) throw std::bad_alloc();  // only allocation can fail within bound
      break;
  }
  out.resize(kDataOffset + size);
  write_u32(out.data(), static_cast<std::uint32_t>(out.size()));
  std::copy_n(message.data() + 4, 8, out.data() + 4);  // requestID, responseTo
  write_u32(out.data() + 12, static_cast<std::uint32_t>(kOpCompressed));
  std::copy_n(message.data() + 12, 4, out.data() + kHeaderSize);  // originalOpcode
  write_u32(out.data() + kHeaderSize + 4, static_cast<std::uint32_t>(body.size()));
  out[kCompressorOffset] = static_cast<std::uint8_t>(compressor);
  return out;
}

std::error_code parse_reply_header(std::span<const std::uint8_t, kHeaderSize> bytes,
                                   std::size_t max_message_size, MessageHeader& out,
                                   DecodeDiagnostics* diagnostics) noexcept {
  if (read_i32(bytes.data() + 12) != kOpCompressed) {
    return parse_header(bytes, max_message_size, out, diagnostics);
  }
  out.message_length = read_i32(bytes.data());
  out.request_id = read_i32(bytes.data() + 4);
  out.response_to = read_i32(bytes.data() + 8);
  out.op_code = kOpCompressed;
  if (out.message_length < static_cast<std::int32_t>(kOpCompressedPrefixSize)) {
    return fail(diagnostics, errc::message_too_short, 0,
                "messageLength {} below the OP_COMPRESSED minimum of {} bytes", out.message_length,
                kOpCompressedPrefixSize);
  }
  if (static_cast<std::size_t>(out.message_length) > max_message_size) {
    return fail(diagnostics, errc::message_too_large, 0,
                "messageLength {} above maxMessageSizeBytes {}", out.message_length,
                static_cast<std::int64_t>(max_message_size));
  }
  return {};
}

std::error_code decode_op_compressed(std::span<const std::uint8_t> message,
                                     std::int32_t expected_original_opcode,
                                     std::size_t max_message_size, std::vector<std::uint8_t>& out,
                                     DecodeDiagnostics* diagnostics) noexcept {
  out.clear();
  if (message.size() < kOpCompressedPrefixSize) {
    return fail(diagnostics, errc::message_too_short, message.size(),
                "OP_COMPRESSED of {} bytes is shorter than its {}-byte prefix",
                static_cast<std::int64_t>(message.size()), kOpCompressedPrefixSize);
  }
  const std::int32_t length = read_i32(message.data());
  if (length < 0 || static_cast<std::size_t>(length) != message.size()) {
    return fail(diagnostics, errc::invalid_argument, 0, "messageLength {} but {} bytes were given",
                length, static_cast<std::int64_t>(message.size()));
  }
  if (const std::int32_t op = read_i32(message.data() + 12); op != kOpCompressed) {
    return fail(diagnostics, errc::unexpected_opcode, 12, "opCode {} is not OP_COMPRESSED (2012)",
                op);
  }
  const std::int32_t original = read_i32(message.data() + kHeaderSize);
  if (original == kOpCompressed) {
    return fail(diagnostics, errc::nested_compression, kHeaderSize,
                "OP_COMPRESSED whose originalOpcode is OP_COMPRESSED (2012) again");
  }
  if (original != expected_original_opcode) {
    return fail(diagnostics, errc::unexpected_opcode, kHeaderSize,
                "OP_COMPRESSED whose originalOpcode {} is not the expected {}", original,
                expected_original_opcode);
  }
  const std::int32_t declared = read_i32(message.data() + kHeaderSize + 4);
  if (declared < 0) {
    return fail(diagnostics, errc::uncompressed_size_mismatch, kHeaderSize + 4,
                "negative uncompressedSize {}", declared);
  }
  const auto size = static_cast<std::size_t>(declared);
  if (size > max_message_size - std::min(max_message_size, kHeaderSize)) {
    return fail(diagnostics, errc::message_too_large, kHeaderSize + 4,
                "uncompressedSize {} makes a message above maxMessageSizeBytes {}", declared,
                static_cast<std::int64_t>(max_message_size));
  }
  const std::uint8_t id = message[kCompressorOffset];
  const std::span<const std::uint8_t> data = message.subspan(kDataOffset);
  const char* const in = reinterpret_cast<const char*>(data.data());

  // What the compressed data says of itself, checked before the output is allocated.
  switch (id) {
    case static_cast<std::uint8_t>(Compressor::kNoop):
      if (data.size() != size) {
        return fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
                    "noop OP_COMPRESSED carries {} bytes, not the uncompressedSize of {}",
                    static_cast<std::int64_t>(data.size()), declared);
      }
      break;
    case static_cast<std::uint8_t>(Compressor::kSnappy): {
      std::size_t announced = 0;
      if (snappy_uncompressed_length(in, data.size(), &announced) != SNAPPY_OK ||
          snappy_validate_compressed_buffer(in, data.size()) != SNAPPY_OK) {
        return fail(diagnostics, errc::decompression_failed, kDataOffset,
                    "corrupt or truncated snappy data");
      }
      if (announced != size) {
        return fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
                    "snappy data of {} bytes, not the uncompressedSize of {}",
                    static_cast<std::int64_t>(std::min<std::size_t>(announced, INT64_MAX)),
                    declared);
      }
      break;
    }
    case static_cast<std::uint8_t>(Compressor::kZlib):
      if (static_cast<std::uint64_t>(data.size()) * kMaxDeflateRatio < size) {
        return fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
                    "{} bytes of zlib data cannot inflate to the uncompressedSize of {}",
                    static_cast<std::int64_t>(data.size()), declared);
      }
      break;
    case static_cast<std::uint8_t>(Compressor::kZstd): {
      // The first frame's size: a frame may leave it out (streaming compressors), and further
      // frames may follow, so only a first frame larger than the whole is refused here; the
      // output bound and the final count still hold.
      const unsigned long long announced = ZSTD_getFrameContentSize(data.data(), data.size());
      if (announced == ZSTD_CONTENTSIZE_ERROR) {
        return fail(diagnostics, errc::decompression_failed, kDataOffset,
                    "corrupt or truncated zstd data");
      }
      if (announced != ZSTD_CONTENTSIZE_UNKNOWN && announced > size) {
        return fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
                    "a zstd frame of {} bytes, above the uncompressedSize of {}",
                    static_cast<std::int64_t>(std::min<unsigned long long>(announced, INT64_MAX)),
                    declared);
      }
      break;
    }
    default:
      return fail(diagnostics, errc::unknown_compressor, kCompressorOffset,
                  "unknown compressorId {}", id);
  }

  std::vector<std::uint8_t> result;
  try {
    result.resize(kHeaderSize + size);
  } catch (...) {
    return fail(diagnostics, errc::message_too_large, kHeaderSize + 4,
                "no memory for an uncompressedSize of {}", declared);
  }
  const std::span<std::uint8_t> body = std::span(result).subspan(kHeaderSize);
  switch (static_cast<Compressor>(id)) {
    case Compressor::kNoop:
      std::copy(data.begin(), data.end(), body.begin());
      break;
    case Compressor::kSnappy: {
      std::size_t produced = body.size();
      if (snappy_uncompress(in, data.size(), reinterpret_cast<char*>(body.data()), &produced) !=
              SNAPPY_OK ||
          produced != size) {
        return fail(diagnostics, errc::decompression_failed, kDataOffset, "corrupt snappy data");
      }
      break;
    }
    case Compressor::kZlib:
      if (auto ec = inflate_exactly(data, body, diagnostics)) return ec;
      break;
    case Compressor::kZstd: {
      // ZSTD_decompress writes at most body.size() bytes: more is dstSize_tooSmall.
      const std::size_t produced =
          ZSTD_decompress(body.data(), body.size(), data.data(), data.size());
      if (ZSTD_isError(produced)) {
        if (ZSTD_getErrorCode(produced) == ZSTD_error_dstSize_tooSmall) {
          return fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
                      "zstd data decompresses to more than the uncompressedSize of {}", declared);
        }
        return fail(diagnostics, errc::decompression_failed, kDataOffset,
                    "corrupt or truncated zstd data");
      }
      if (produced != size) {
        return fail(diagnostics, errc::uncompressed_size_mismatch, kDataOffset,
                    "zstd data decompresses to {} bytes, not the uncompressedSize of {}",
                    static_cast<std::int64_t>(produced), declared);
      }
      break;
    }
  }
  write_u32(result.data(), static_cast<std::uint32_t>(result.size()));
  std::copy_n(message.data() + 4, 8, result.data() + 4);
  write_u32(result.data() + 12, static_cast<std::uint32_t>(original));
  out = std::move(result);
  return {};
}

bool may_compress_command(std::string_view command_name) noexcept {
  static constexpr std::array<std::string_view, 11> kNever = {
      "hello",        "isMaster",   "ismaster",   "saslStart",       "saslContinue",  "getnonce",
      "authenticate", "createUser", "updateUser", "copydbSaslStart", "copydbgetnonce"};
  return command_name != "copydb" &&
         std::find(kNever.begin(), kNever.end(), command_name) == kNever.end();
}

std::optional<Compressor> choose_compressor(std::span<const Compressor> client,
                                            std::span<const std::string_view> server) noexcept {
  for (const Compressor c : client) {
    if (std::find(server.begin(), server.end(), name_of(c)) != server.end()) return c;
  }
  return std::nullopt;
}

}  // namespace mongoslice::wire
