#include "auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <atomic>
#include <climits>

#include "wire/error.hpp"

namespace mongoslice::auth::crypto {
namespace {

std::atomic<std::uint64_t> g_pbkdf2_calls{0};

const EVP_MD* md(Hash hash) noexcept {
  return hash == Hash::kSha1 ? EVP_sha1() : EVP_sha256();
}

[[noreturn]] void fail(const char* what) {
  throw Error(errc::authentication_failed, std::string("OpenSSL ") + what + " failed");
}

int int_size(std::size_t size, const char* what) {
  if (size > static_cast<std::size_t>(INT_MAX)) fail(what);
  return static_cast<int>(size);
}

}  // namespace

std::size_t digest_size(Hash hash) noexcept {
  return hash == Hash::kSha1 ? 20 : 32;
}

Bytes digest(Hash hash, std::span<const std::uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, md(hash), nullptr) != 1) {
    fail("EVP_Digest");
  }
  out.resize(size);
  return out;
}

Bytes hmac(Hash hash, std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  if (HMAC(md(hash), key.data(), int_size(key.size(), "HMAC"), data.data(), data.size(), out.data(),
           &size) == nullptr) {
    fail("HMAC");
  }
  out.resize(size);
  return out;
}

Bytes pbkdf2(Hash hash, std::string_view password, std::span<const std::uint8_t> salt,
             std::uint32_t iterations) {
  g_pbkdf2_calls.fetch_add(1, std::memory_order_relaxed);
  Bytes out(digest_size(hash));
  if (iterations == 0 || iterations > static_cast<std::uint32_t>(INT_MAX) ||
      PKCS5_PBKDF2_HMAC(password.data(), int_size(password.size(), "PBKDF2"), salt.data(),
                        int_size(salt.size(), "PBKDF2"), static_cast<int>(iterations), md(hash),
                        static_cast<int>(out.size()), out.data()) != 1) {
    fail("PKCS5_PBKDF2_HMAC");
  }
  return out;
}

std::uint64_t pbkdf2_calls() noexcept {
  return g_pbkdf2_calls.load(std::memory_order_relaxed);
}

std::string md5_hex(std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), out, &size, EVP_md5(), nullptr) != 1) {
    fail("EVP_Digest (MD5)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 0xf];
  }
  OPENSSL_cleanse(out, sizeof out);
  return hex;
}

Bytes random_bytes(std::size_t count) {
  Bytes out(count);
  if (RAND_bytes(out.data(), int_size(count, "RAND_bytes")) != 1) fail("RAND_bytes");
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + EVP_EncodeBlock's NUL
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                      int_size(bytes.size(), "EVP_EncodeBlock"));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<Bytes> base64_decode(std::string_view text) {
  // EVP_DecodeBlock skips leading and trailing whitespace and returns padding as zero bytes, so
  // the shape is checked here and the padding taken off its result.
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return std::nullopt;
  }
  if (text.empty()) return Bytes{};
  Bytes out(text.size() / 4 * 3);
  const int written =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0 || static_cast<std::size_t>(written) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);
  // Only the one canonical spelling of these bytes (padding bits zero), as RFC 4648 section 3.5
  // lets a decoder require.
  if (base64_encode(out) != text) return std::nullopt;
  return out;
}

bool equal_constant_time(std::span<const std::uint8_t> a,
                         std::span<const std::uint8_t> b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mongoslice::auth::crypto
