#include "auth/saslprep.hpp"

#include <openssl/crypto.h>
#include <stringprep.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "wire/error.hpp"
#include "wire/utf8.hpp"

namespace mongoslice::auth {
namespace {

// The strings are passwords: wiped before their memory goes back.
struct FreeString {
  void operator()(char* p) const noexcept {
    OPENSSL_cleanse(p, std::strlen(p));
    std::free(p);
  }
};

struct WipedString {
  std::string text;
  ~WipedString() { OPENSSL_cleanse(text.data(), text.size()); }
};

std::string reason(int rc) {
  switch (rc) {
    case STRINGPREP_CONTAINS_UNASSIGNED:
      return "holds a code point unassigned in Unicode 3.2";
    case STRINGPREP_CONTAINS_PROHIBITED:
      return "holds a character SASLprep prohibits";
    case STRINGPREP_BIDI_BOTH_L_AND_RAL:
      return "mixes left-to-right and right-to-left characters";
    case STRINGPREP_BIDI_LEADTRAIL_NOT_RAL:
      return "holds right-to-left characters but does not start and end with one";
    case STRINGPREP_BIDI_CONTAINS_PROHIBITED:
      return "holds a character the bidirectional rules prohibit";
    default:
      return std::string("could not be prepared (libidn: ") +
             stringprep_strerror(static_cast<Stringprep_rc>(rc)) + ")";
  }
}

}  // namespace

std::string saslprep(std::string_view text, std::string_view what, SaslprepMode mode) {
  const std::string prefix = "SASLprep refused the " + std::string(what) + ": it ";
  // libidn reads a C string: a NUL would end it early instead of being refused (U+0000 is a
  // prohibited control character).
  if (text.find('\0') != std::string_view::npos) {
    throw Error(errc::invalid_credential, prefix + "holds a character SASLprep prohibits");
  }
  if (!wire::valid_utf8(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())) {
    throw Error(errc::invalid_credential, prefix + "is not valid UTF-8");
  }
  const WipedString input{std::string(text)};
  char* raw = nullptr;
  const auto flags = mode == SaslprepMode::kStoredString ? STRINGPREP_NO_UNASSIGNED
                                                         : static_cast<Stringprep_profile_flags>(0);
  const int rc = stringprep_profile(input.text.c_str(), &raw, "SASLprep", flags);
  std::unique_ptr<char, FreeString> out(raw);
  if (rc != STRINGPREP_OK || out == nullptr) {
    throw Error(errc::invalid_credential, prefix + reason(rc));
  }
  return std::string(out.get());
}

}  // namespace mongoslice::auth
