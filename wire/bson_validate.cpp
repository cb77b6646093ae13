#include "wire/bson_validate.hpp"

#include <bit>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "wire/bson.hpp"
#include "wire/error.hpp"
#include "wire/little_endian.hpp"
#include "wire/utf8.hpp"

namespace mongoslice::bson {
namespace {

using wire::read_u32;

// The zero byte that ends the C string at q (a key or a regex part), which is at the latest
// *limit, itself zero; sets `high` when a byte before it has its high bit set (the string then
// needs the full UTF-8 check). Reads nothing past limit: a 16- or 8-byte step is taken only
// while it ends at or before limit. Keys are scanned 16 bytes a step because they are most of
// what a document's structure costs to check (one byte a step was half of the validator's time
// on the DriverBench tweet).
[[gnu::always_inline]] inline const std::uint8_t* cstring_end(const std::uint8_t* q,
                                                              const std::uint8_t* limit,
                                                              bool& high) noexcept {
  std::uint32_t high_bytes = 0;  // a set bit for each byte seen with its high bit set
#if defined(__SSE2__)
  while (limit - q >= 15) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const auto zeros =
        static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_setzero_si128())));
    const auto highs = static_cast<std::uint32_t>(_mm_movemask_epi8(block));
    if (zeros != 0) {
      const std::uint32_t before_zero = (zeros & (0u - zeros)) - 1;
      high = (high_bytes | (highs & before_zero)) != 0;
      return q + std::countr_zero(zeros);
    }
    high_bytes |= highs;
    q += 16;
  }
#endif
  while (limit - q >= 7) {
    std::uint64_t word;
    std::memcpy(&word, q, 8);
    if constexpr (std::endian::native == std::endian::little) {
      // The lowest byte flagged here is the first zero byte (higher flags may be false).
      const std::uint64_t zeros = (word - 0x0101010101010101ull) & ~word & 0x8080808080808080ull;
      if (zeros != 0) {
        const std::uint64_t before_zero = (zeros & (0 - zeros)) - 1;
        high = high_bytes != 0 || (word & before_zero & 0x8080808080808080ull) != 0;
        return q + std::countr_zero(zeros) / 8;
      }
      high_bytes |= (word & 0x8080808080808080ull) != 0;
      q += 8;
    } else {
      break;
    }
  }
  std::uint8_t bits = 0;
  while (*q != 0) bits |= *q++;
  high = high_bytes != 0 || (bits & 0x80) != 0;
  return q;
}

// Walks one document. Every pointer stays inside [base, base + size): each length is compared
// with the bytes remaining before it is used, and cstring scans stop at the document's own
// terminator, which is checked to be zero first.
class Validator {
 public:
  Validator(const std::uint8_t* base, ValidationError& error) noexcept
      : base_(base), error_(error) {}

  // The document at p, with `available` bytes readable from p; on success sets `length`.
  bool document(const std::uint8_t* p, std::size_t available, int depth,
                std::size_t& length) noexcept {
    if (available < 5) return fail(p, "document shorter than 5 bytes");
    const std::uint32_t declared = read_u32(p);
    if (declared < 5) return fail(p, "document length below 5");
    if (declared > available) return fail(p, "document length runs past the end");
    const std::uint8_t* const end = p + declared - 1;  // the terminating zero
    if (*end != 0) return fail(end, "document not terminated by a zero byte");

    const std::uint8_t* q = p + 4;
    while (q < end) {
      const std::uint8_t* const element = q;
      const std::uint8_t type = *q++;
      if (type == 0) return fail(element, "zero type byte before the end of the document");
      // The key: the scan stops at the latest at *end, which is zero.
      const std::uint8_t* const key = q;
      bool high = false;
      q = cstring_end(q, end, high);
      if (q == end) return fail(key, "key runs past the end of the document");
      if (high && !wire::valid_utf8_without_nul(key, static_cast<std::size_t>(q - key))) {
        return fail(key, "key is not valid UTF-8");
      }
      ++q;
      if (!value(type, element, q, static_cast<std::size_t>(end - q), depth)) return false;
    }
    length = declared;
    return true;
  }

 private:
  // The value of an element of `type` at q, with `remaining` bytes before the document's
  // terminator; advances q past it.
  bool value(std::uint8_t type, const std::uint8_t* element, const std::uint8_t*& q,
             std::size_t remaining, int depth) noexcept {
    switch (static_cast<Type>(type)) {
      case Type::kDouble:
      case Type::kDateTime:
      case Type::kTimestamp:
      case Type::kInt64:
        return fixed(q, remaining, 8);
      case Type::kInt32:
        return fixed(q, remaining, 4);
      case Type::kDecimal128:
        return fixed(q, remaining, 16);
      case Type::kOid:
        return fixed(q, remaining, 12);
      case Type::kUndefined:
      case Type::kNull:
      case Type::kMaxKey:
      case Type::kMinKey:
        return true;
      case Type::kBool:
        if (remaining < 1) return fail(q, "value runs past the end of the document");
        if (*q > 1) return fail(q, "boolean other than 0 or 1");
        ++q;
        return true;
      case Type::kString:
      case Type::kCode:
      case Type::kSymbol:
        return string(q, remaining);
      case Type::kDocument:
      case Type::kArray: {
        if (depth + 1 >= kMaxBsonDepth) return fail(q, "documents nested too deeply");
        std::size_t length = 0;
        if (!document(q, remaining, depth + 1, length)) return false;
        q += length;
        return true;
      }
      case Type::kBinary: {
        if (remaining < 5) return fail(q, "binary runs past the end of the document");
        const std::uint32_t length = read_u32(q);
        if (length > remaining - 5) return fail(q, "binary length runs past the end");
        if (q[4] == 0x02) {  // old binary: an inner length, 4 less than the outer one
          if (length < 4 || read_u32(q + 5) != length - 4)
            return fail(q, "old binary (subtype 2) with a wrong inner length");
        }
        q += 5 + static_cast<std::size_t>(length);
        return true;
      }
      case Type::kRegex: {
        const std::uint8_t* const limit = q + remaining;  // the document's zero terminator
        return cstring(q, limit, "regex pattern runs past the end of the document") &&
               cstring(q, limit, "regex options run past the end of the document");
      }
      case Type::kDbPointer: {
        const std::uint8_t* const start = q;
        if (!string(q, remaining)) return false;
        return fixed(q, remaining - static_cast<std::size_t>(q - start), 12);
      }
      case Type::kCodeWithScope:
        return code_with_scope(q, remaining, depth);
    }
    return fail(element, "unknown element type");
  }

  bool fixed(const std::uint8_t*& q, std::size_t remaining, std::size_t size) noexcept {
    if (remaining < size) return fail(q, "value runs past the end of the document");
    q += size;
    return true;
  }

  // int32 length (counting the terminating NUL), UTF-8 bytes, NUL. The length says where the
  // text ends, so the text itself may hold NUL bytes (valid BSON, e.g. "a\0b").
  bool string(const std::uint8_t*& q, std::size_t remaining) noexcept {
    if (remaining < 4) return fail(q, "string length runs past the end of the document");
    const std::uint32_t length = read_u32(q);
    if (length < 1) return fail(q, "string length below 1");
    if (length > remaining - 4) return fail(q, "string runs past the end of the document");
    const std::uint8_t* const text = q + 4;
    if (text[length - 1] != 0) return fail(text + length - 1, "string not terminated by NUL");
    if (!short_ascii(text, length) && !wire::valid_utf8(text, length - 1))
      return fail(text, "string is not valid UTF-8");
    q = text + length;
    return true;
  }

  // Whether the string of `length` bytes (its NUL included) at text, 4 to 8 bytes long, is plain
  // ASCII: one load of the 8 bytes that end with its NUL, which start at the latest at its
  // length prefix (inside the document, already checked), with the prefix's bytes shifted out.
  // Most strings of a document are this short; byte by byte they cost the most per byte.
  static bool short_ascii(const std::uint8_t* text, std::uint32_t length) noexcept {
    if constexpr (std::endian::native != std::endian::little) return false;
    if (length < 4 || length > 8) return false;
    std::uint64_t word;
    std::memcpy(&word, text + length - 8, 8);
    word >>= 8 * (8 - length);
    return (word & 0x8080808080808080ull) == 0;
  }

  // A NUL-terminated string (regex parts) ending before `limit`, the document's terminator.
  // That terminator is zero, so the scan cannot leave the document; reaching it is an overrun.
  bool cstring(const std::uint8_t*& q, const std::uint8_t* limit, const char* overrun) noexcept {
    const std::uint8_t* const start = q;
    bool high = false;
    q = cstring_end(q, limit, high);
    if (q == limit) return fail(start, overrun);
    if (high && !wire::valid_utf8_without_nul(start, static_cast<std::size_t>(q - start))) {
      return fail(start, "regex is not valid UTF-8");
    }
    ++q;
    return true;
  }

  bool code_with_scope(const std::uint8_t*& q, std::size_t remaining, int depth) noexcept {
    // int32 total, string, document; the parts fill the total exactly.
    if (remaining < 4) return fail(q, "code with scope runs past the end of the document");
    const std::uint32_t total = read_u32(q);
    if (total < 14) return fail(q, "code with scope shorter than 14 bytes");
    if (total > remaining) return fail(q, "code with scope runs past the end of the document");
    const std::uint8_t* const start = q;
    const std::uint8_t* p = q + 4;
    if (!string(p, total - 4)) return false;
    const std::size_t scope_available = total - static_cast<std::size_t>(p - start);
    if (depth + 1 >= kMaxBsonDepth) return fail(p, "documents nested too deeply");
    std::size_t scope_length = 0;
    if (!document(p, scope_available, depth + 1, scope_length)) return false;
    if (scope_length != scope_available)
      return fail(start, "code with scope length does not match its parts");
    q = start + total;
    return true;
  }

  bool fail(const std::uint8_t* at, const char* reason) noexcept {
    error_.offset = static_cast<std::size_t>(at - base_);
    error_.reason = reason;
    return false;
  }

  const std::uint8_t* base_;
  ValidationError& error_;
};

}  // namespace

std::string ValidationError::describe() const {
  return std::string(reason) + " at byte " + std::to_string(offset);
}

std::error_code validate(std::span<const std::uint8_t> bytes, ValidationError& error) noexcept {
  Validator validator(bytes.data(), error);
  std::size_t length = 0;
  if (!validator.document(bytes.data(), bytes.size(), 0, length)) {
    return make_error_code(errc::invalid_bson);
  }
  if (length != bytes.size()) {
    error.offset = length;
    error.reason = "bytes left after the document";
    return make_error_code(errc::invalid_bson);
  }
  return {};
}

std::error_code validate(std::span<const std::uint8_t> bytes) noexcept {
  ValidationError ignored;
  return validate(bytes, ignored);
}

}  // namespace mongoslice::bson
