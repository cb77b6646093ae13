#pragma once
// UTF-8 validation for BSON strings and keys (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF). Inline because the BSON validator calls it for every string and its
// cost is most of decoding a reply.

#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mongoslice::wire {

namespace utf8_detail {

inline constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
inline constexpr std::uint64_t kLowBits = 0x0101010101010101ull;

// True when none of the 8 bytes has its high bit set and none is zero: the common case of
// plain ASCII text, checked with two operations instead of eight branches.
inline bool ascii_without_nul(std::uint64_t word) noexcept {
  return ((word & kHighBits) | ((word - kLowBits) & ~word & kHighBits)) == 0;
}

// True when none of the 8 bytes has its high bit set (NUL bytes included).
inline bool ascii(std::uint64_t word) noexcept {
  return (word & kHighBits) == 0;
}

template <bool kAllowNul>
inline bool ascii_word(std::uint64_t word) noexcept {
  if constexpr (kAllowNul) {
    return ascii(word);
  } else {
    return ascii_without_nul(word);
  }
}

// True when the 16 bytes at p are plain ASCII (and, unless kAllowNul, hold no zero byte).
template <bool kAllowNul>
inline bool ascii_block(const std::uint8_t* p) noexcept {
#if defined(__SSE2__)
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (kAllowNul) {
    return _mm_movemask_epi8(bytes) == 0;
  } else {
    const __m128i zeros = _mm_cmpeq_epi8(bytes, _mm_setzero_si128());
    return _mm_movemask_epi8(_mm_or_si128(bytes, zeros)) == 0;
  }
#else
  std::uint64_t a, b;
  std::memcpy(&a, p, 8);
  std::memcpy(&b, p + 8, 8);
  return ascii_word<kAllowNul>(a) && ascii_word<kAllowNul>(b);
#endif
}

inline bool is_continuation(std::uint8_t byte) noexcept {
  return (byte & 0xC0) == 0x80;
}

// Checks the one character at p (n > 0 bytes remain) and returns its length, or 0 when it is
// not valid UTF-8. A NUL byte counts as invalid unless kAllowNul: keys and C strings cannot
// hold one, length-prefixed string values can.
template <bool kAllowNul>
inline std::size_t character_length(const std::uint8_t* p, std::size_t n) noexcept {
  const std::uint8_t lead = p[0];
  if (lead < 0x80) return (kAllowNul || lead != 0) ? 1 : 0;
  if (lead < 0xC2) return 0;  // a continuation byte, or an overlong 2-byte form
  if (lead < 0xE0) return (n >= 2 && is_continuation(p[1])) ? 2 : 0;
  if (lead < 0xF0) {
    if (n < 3) return 0;
    const std::uint8_t low = lead == 0xE0 ? 0xA0 : 0x80;   // no overlong 3-byte form
    const std::uint8_t high = lead == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
    return (p[1] >= low && p[1] <= high && is_continuation(p[2])) ? 3 : 0;
  }
  if (lead < 0xF5) {
    if (n < 4) return 0;
    const std::uint8_t low = lead == 0xF0 ? 0x90 : 0x80;   // no overlong 4-byte form
    const std::uint8_t high = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return (p[1] >= low && p[1] <= high && is_continuation(p[2]) && is_continuation(p[3])) ? 4 : 0;
  }
  return 0;
}

// Whether the n bytes at p are valid UTF-8, and (unless kAllowNul) hold no NUL byte.
template <bool kAllowNul>
inline bool valid_utf8_checked(const std::uint8_t* p, std::size_t n) noexcept {
  const std::uint8_t* const end = p + n;
  while (end - p >= 16) {
    if (ascii_block<kAllowNul>(p)) {
      p += 16;
      continue;
    }
    // Not plain ASCII: check these 16 bytes character by character (the last character may
    // reach up to 3 bytes further), then try the fast path again.
    const std::uint8_t* const stop = p + 16;
    while (p < stop) {
      const std::size_t length = character_length<kAllowNul>(p, static_cast<std::size_t>(end - p));
      if (length == 0) return false;
      p += length;
    }
  }
  // Fewer than 16 bytes are left, the tail of most strings. One more 8-byte step; then, when
  // fewer than 8 remain and the string has at least 8, its last 8 bytes (overlapping complete
  // characters already checked) settle the rest in one step when they are plain ASCII.
  if (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    if (ascii_word<kAllowNul>(word)) p += 8;
  }
  if (p < end && end - p < 8 && n >= 8) {
    std::uint64_t last;
    std::memcpy(&last, end - 8, 8);
    if (ascii_word<kAllowNul>(last)) return true;
  }
  while (p < end) {
    const std::size_t length = character_length<kAllowNul>(p, static_cast<std::size_t>(end - p));
    if (length == 0) return false;
    p += length;
  }
  return true;
}

}  // namespace utf8_detail

// Whether the n bytes at p are valid UTF-8 without any NUL byte (keys, C strings).
inline bool valid_utf8_without_nul(const std::uint8_t* p, std::size_t n) noexcept {
  return utf8_detail::valid_utf8_checked<false>(p, n);
}

// Whether the n bytes at p are valid UTF-8; NUL bytes are allowed (BSON string values, whose
// length prefix, not a terminator, says where they end).
inline bool valid_utf8(const std::uint8_t* p, std::size_t n) noexcept {
  return utf8_detail::valid_utf8_checked<true>(p, n);
}

}  // namespace mongoslice::wire
