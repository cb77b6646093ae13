#pragma once
// Text helpers of the connection-string parser: percent-decoding, ASCII case folding, and the
// error it throws. Internal to driver/.

#include <string>
#include <string_view>

namespace mongoslice::uri_detail {

// Throws mongoslice::Error(errc::invalid_uri, detail).
[[noreturn]] void throw_invalid_uri(const std::string& detail);

// Decodes %XX escapes. A '%' not followed by two hex digits is an error naming `what` (for
// example "the user name"); the text itself is not quoted, since it may be a password.
std::string percent_decode(std::string_view text, std::string_view what);

// `text` between single quotes, control bytes written as \xNN so that a message never holds a
// NUL or a terminal escape taken from the input.
std::string quoted(std::string_view text);

// The same without the quotes.
std::string printable(std::string_view text);

// Folds A-Z to a-z and leaves every other byte (UTF-8 included) as it is.
std::string ascii_lower(std::string_view text);

}  // namespace mongoslice::uri_detail
