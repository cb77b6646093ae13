#pragma once
// The BSON validator behind bson::validate, with the detail of what was wrong and where.
//
// One pass over the bytes checks: the document length and terminator; every element type
// known; keys terminated inside their document and valid UTF-8; string lengths (at least the
// terminating NUL, inside their document, NUL-terminated, valid UTF-8; embedded NUL bytes are
// allowed in string, code, symbol and DBPointer values, which are length-prefixed, but not in
// keys or regex parts, which are NUL-terminated);
// nested documents and arrays (recursively, at most kMaxBsonDepth deep); binary lengths (and the
// inner length of the old subtype 2); regex and code-with-scope layouts; booleans 0 or 1.
// Our own rather than libbson's bson_validate (1.23): that one, with BSON_VALIDATE_UTF8, checks
// the UTF-8 of each string twice and does not descend into code-with-scope.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace mongoslice::bson {

inline constexpr int kMaxBsonDepth = 100;

struct ValidationError {
  std::size_t offset = 0;        // byte offset (from the start of the bytes given) of the problem
  const char* reason = "";       // static text, e.g. "string is not valid UTF-8"
  std::string describe() const;  // "<reason> at byte <offset>"
};

// Like validate(bytes), filling `error` when the bytes are not one well-formed document.
std::error_code validate(std::span<const std::uint8_t> bytes, ValidationError& error) noexcept;

}  // namespace mongoslice::bson
