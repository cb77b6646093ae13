#pragma once
// OP_COMPRESSED (opcode 2012), sans-I/O: wrapping a whole message (OP_MSG) in a compressed one
// and unwrapping a peer's, with zstd (libzstd), snappy (libsnappy) or zlib, or the noop
// compressor (the wire compression spec). Nothing here touches a socket.
//
// Layout: header (opCode 2012), int32 originalOpcode, int32 uncompressedSize (the original
// message's length without its 16-byte header), uint8 compressorId, then the compressed bytes of
// the original message after its header.
//
// Decompression never trusts the peer (DESIGN.md invariant 7). Before any output buffer is
// allocated: the compressor id must be known, the original opcode must be the one the caller
// expects (never 2012 itself: no OP_COMPRESSED inside an OP_COMPRESSED), and uncompressedSize
// must be non-negative, with its header at most max_message_size; snappy data must validate and
// announce exactly uncompressedSize, a zstd frame that announces its size may not announce more,
// and for zlib uncompressedSize must be reachable from the compressed length (deflate expands by
// at most 1032:1). The output buffer then holds uncompressedSize bytes and the decompressor may
// write no more (a "bomb" that would inflate further is an error), and the real output must fill
// it exactly. So a peer can make us allocate at most max_message_size bytes for one message (a
// zstd frame may honestly expand by far more than 1000:1, so no ratio bounds it below that).
// Each violation is its own errc (wire/error.hpp); the caller closes the connection.
//
//   std::vector<std::uint8_t> original;
//   if (auto ec = wire::decode_op_compressed(bytes, kOpMsg, max_size, original, &diag)) ...
//   // `original` is now the OP_MSG as if it had been sent uncompressed: decode_op_msg it.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "wire/op_msg.hpp"

namespace mongoslice::wire {

inline constexpr std::int32_t kOpCompressed = 2012;
// Header, originalOpcode, uncompressedSize, compressorId.
inline constexpr std::size_t kOpCompressedPrefixSize = kHeaderSize + 4 + 4 + 1;

// The spec's compressor ids.
enum class Compressor : std::uint8_t { kNoop = 0, kSnappy = 1, kZlib = 2, kZstd = 3 };

// "snappy", "zlib", "zstd" (the names of the `compressors` URI option and of the handshake's
// `compression` array); "noop" is not negotiable and has no name here.
std::optional<Compressor> compressor_named(std::string_view name) noexcept;
std::string_view name_of(Compressor compressor) noexcept;

// zlibCompressionLevel: -1 (zlib's default, 6) to 9.
inline constexpr int kDefaultZlibLevel = -1;

// What a connection compresses its requests with, once the handshake has chosen.
struct Compression {
  Compressor compressor = Compressor::kNoop;
  int zlib_level = kDefaultZlibLevel;
};

// Wraps `message` (a whole message, header included, at least 16 bytes) in an OP_COMPRESSED
// with the same requestID and responseTo. `zlib_level` is used by kZlib only (-1..9; others
// are clamped into that range). Throws std::bad_alloc only.
std::vector<std::uint8_t> encode_op_compressed(std::span<const std::uint8_t> message,
                                               Compressor compressor,
                                               int zlib_level = kDefaultZlibLevel);

// Unwraps a whole OP_COMPRESSED (header included, exactly messageLength bytes) into `out`: the
// original message with its header rebuilt (messageLength 16 + uncompressedSize, the same
// requestID and responseTo, opCode originalOpcode). On error `out` is left empty. Errors:
// message_too_short (shorter than the 25-byte prefix), invalid_argument (a messageLength other
// than the bytes given: the caller's framing, not the peer's data, is then wrong),
// unexpected_opcode (the header is not 2012, or the original opcode is not
// `expected_original_opcode`), nested_compression (the original opcode is 2012),
// unknown_compressor, message_too_large (uncompressedSize beyond max_message_size),
// uncompressed_size_mismatch (negative, or other than what the data announces or inflates to),
// decompression_failed (corrupt or truncated compressed data); invalid_argument when `message`
// does not hold exactly messageLength bytes (a caller error).
std::error_code decode_op_compressed(std::span<const std::uint8_t> message,
                                     std::int32_t expected_original_opcode,
                                     std::size_t max_message_size, std::vector<std::uint8_t>& out,
                                     DecodeDiagnostics* diagnostics = nullptr) noexcept;

// The header check for a reply that may be compressed: OP_MSG (wire::parse_header's rules) or
// OP_COMPRESSED (at least its 25-byte prefix, at most max_message_size). The caller then reads
// messageLength - 16 more bytes and, for 2012, calls decode_op_compressed.
std::error_code parse_reply_header(std::span<const std::uint8_t, kHeaderSize> bytes,
                                   std::size_t max_message_size, MessageHeader& out,
                                   DecodeDiagnostics* diagnostics = nullptr) noexcept;

// The commands the compression spec never compresses (hello and legacy hello, and the
// authentication commands), compared case-sensitively as the server does; `command_name` is the
// first key of the command document.
bool may_compress_command(std::string_view command_name) noexcept;

// The compressor a connection uses: the first of the client's list that the server's hello
// reply also lists (`server` holds the reply's `compression` names); none when they share none.
std::optional<Compressor> choose_compressor(std::span<const Compressor> client,
                                            std::span<const std::string_view> server) noexcept;

}  // namespace mongoslice::wire
