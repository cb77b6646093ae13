#include "auth/saslprep.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/expect_error.hpp"
#include "wire/error.hpp"

namespace mongoslice::auth {
namespace {

using testing::expect_error;

// RFC 4013, section 3's examples.
TEST(Saslprep, Rfc4013Examples) {
  EXPECT_EQ(saslprep("I\u00ADX", "password"), "IX");  // SOFT HYPHEN mapped to nothing
  EXPECT_EQ(saslprep("user", "password"), "user");
  EXPECT_EQ(saslprep("USER", "password"), "USER");  // case is kept
  EXPECT_EQ(saslprep("\u00AA", "password"), "a");   // NFKC
  EXPECT_EQ(saslprep("\u2168", "password"), "IX");  // ROMAN NUMERAL NINE, NFKC
}

TEST(Saslprep, MapsNonAsciiSpaceToSpaceAndKeepsPrintableAscii) {
  EXPECT_EQ(saslprep("a\u00A0b", "password"), "a b");
  EXPECT_EQ(saslprep("pencil 1!~", "password"), "pencil 1!~");
  EXPECT_EQ(saslprep("", "password"), "");
}

TEST(Saslprep, ProhibitedCharacterIsAnInvalidCredentialWithoutTheText) {
  auto e = expect_error([] { saslprep("sec\u0007ret", "password"); });
  EXPECT_EQ(e.code(), make_error_code(errc::invalid_credential));
  EXPECT_NE(std::string(e.what()).find("password"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("prohibit"), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("sec"), std::string::npos) << e.what();
}

TEST(Saslprep, BidiRuleViolationIsRefused) {
  // RFC 4013's example 7: ARABIC LETTER ALEF then DIGIT ONE.
  auto e = expect_error([] { saslprep("\u0627\u0031", "password"); });
  EXPECT_EQ(e.code(), make_error_code(errc::invalid_credential));
  EXPECT_NE(std::string(e.what()).find("right-to-left"), std::string::npos) << e.what();
}

TEST(Saslprep, NulAndInvalidUtf8AreRefused) {
  auto nul = expect_error([] { saslprep(std::string("pen\0cil", 7), "password"); });
  EXPECT_EQ(nul.code(), make_error_code(errc::invalid_credential));
  auto bad = expect_error([] { saslprep("pen\xC3(cil", "password"); });
  EXPECT_EQ(bad.code(), make_error_code(errc::invalid_credential));
  EXPECT_NE(std::string(bad.what()).find("UTF-8"), std::string::npos) << bad.what();
}

TEST(Saslprep, UnassignedCodePointPassesAQueryButNotAStoredString) {
  // U+0221 was unassigned in Unicode 3.2, the version stringprep's tables fix.
  EXPECT_EQ(saslprep("a\u0221", "password"), "a\u0221");
  auto e = expect_error([] { saslprep("a\u0221", "password", SaslprepMode::kStoredString); });
  EXPECT_EQ(e.code(), make_error_code(errc::invalid_credential));
}

}  // namespace
}  // namespace mongoslice::auth
