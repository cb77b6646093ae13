#pragma once
// The cryptography SCRAM needs, each a thin call into OpenSSL's libcrypto (no hand-written
// cryptography here): digests, HMAC, PBKDF2, random bytes, base64 and a constant-time compare.
// Only auth/ uses these; they are not part of the driver's API.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mongoslice::auth::crypto {

using Bytes = std::vector<std::uint8_t>;

enum class Hash { kSha1, kSha256 };

std::size_t digest_size(Hash hash) noexcept;  // 20 or 32

Bytes digest(Hash hash, std::span<const std::uint8_t> data);
Bytes hmac(Hash hash, std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
// PBKDF2-HMAC with a derived key as long as the digest (SCRAM's Hi()). Every call counts in
// pbkdf2_calls(), so tests can tell that a cached key skipped it.
Bytes pbkdf2(Hash hash, std::string_view password, std::span<const std::uint8_t> salt,
             std::uint32_t iterations);
// How many times pbkdf2() ran in this process.
std::uint64_t pbkdf2_calls() noexcept;

// Lower-case hex of MD5(text): MongoDB's SCRAM-SHA-1 password digest.
std::string md5_hex(std::string_view text);

// `count` bytes from OpenSSL's CSPRNG; throws mongoslice::Error when it has no entropy.
Bytes random_bytes(std::size_t count);

std::string base64_encode(std::span<const std::uint8_t> bytes);
// Strict standard base64 (RFC 4648 alphabet, padded to a multiple of 4, no whitespace); nothing
// for anything else.
std::optional<Bytes> base64_decode(std::string_view text);

// Equal sizes and equal bytes, in time that does not depend on where they differ.
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

inline std::span<const std::uint8_t> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace mongoslice::auth::crypto
