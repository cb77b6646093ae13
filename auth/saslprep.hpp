#pragma once
// SASLprep (RFC 4013), the stringprep profile SCRAM-SHA-256 applies to passwords, computed by
// libidn's stringprep (its tables are Unicode 3.2's, as RFC 3454 fixes them).

#include <string>
#include <string_view>

namespace mongoslice::auth {

// RFC 3454 section 7: a "query" lets unassigned code points through, a "stored string" refuses
// them. RFC 5802 (SCRAM) prepares passwords as queries.
enum class SaslprepMode { kQuery, kStoredString };

// The prepared form of `text` (UTF-8). Throws mongoslice::Error(errc::invalid_credential) when
// `text` is not UTF-8, holds a prohibited character (controls such as U+0007 or NUL, private
// use, non-characters, ...), breaks the bidirectional rules, or (kStoredString) holds an
// unassigned code point. `what` names the string in that message ("password"); the message
// never quotes the string itself.
std::string saslprep(std::string_view text, std::string_view what,
                     SaslprepMode mode = SaslprepMode::kQuery);

}  // namespace mongoslice::auth
