// The credential ConnectionString::parse builds, beyond the auth spec's JSON tests: the
// mechanisms not built refused by name, the missing pieces named, the defaults of the source,
// authMechanismProperties refused for the mechanisms built, and the password in no message.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "driver/connection_string.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using auth::Mechanism;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The credential, or an exception (which fails the test) when there is none.
const auth::Credential& credential_of(const ConnectionString& cs) {
  if (!cs.credential) throw std::runtime_error("no credential");
  return *cs.credential;
}

std::string error_of(std::string_view uri) {
  try {
    ConnectionString::parse(uri);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_uri)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "parsed without error: " << uri;
  return "";
}

TEST(ConnectionStringCredential, NoneWithoutUserInfoOrMechanism) {
  EXPECT_FALSE(ConnectionString::parse("mongodb://h/db").credential);
  ConnectionString source = ConnectionString::parse("mongodb://h/?authSource=users");
  EXPECT_FALSE(source.credential);
  EXPECT_EQ(source.auth_source, "users");
  EXPECT_THAT(source.warnings, IsEmpty());
}

TEST(ConnectionStringCredential, DefaultMechanismIsNegotiatedAgainstTheSourceRules) {
  ConnectionString admin = ConnectionString::parse("mongodb://alice:pw@h");
  ASSERT_TRUE(admin.credential);
  EXPECT_EQ(credential_of(admin).mechanism, Mechanism::kNegotiate);
  EXPECT_EQ(credential_of(admin).username, "alice");
  EXPECT_EQ(credential_of(admin).password, "pw");
  EXPECT_EQ(credential_of(admin).source, "admin");
  EXPECT_THAT(credential_of(admin).mechanism_properties, IsEmpty());
  EXPECT_EQ(credential_of(ConnectionString::parse("mongodb://alice:pw@h/app")).source, "app");
  EXPECT_EQ(
      credential_of(ConnectionString::parse("mongodb://alice:pw@h/app?authSource=users")).source,
      "users");
}

TEST(ConnectionStringCredential, NamedMechanismsAndTheirSources) {
  struct Case {
    std::string_view query;
    Mechanism mechanism;
    std::string_view source_without_db;
  };
  for (const Case& c : {Case{"authMechanism=SCRAM-SHA-1", Mechanism::kScramSha1, "admin"},
                        Case{"authMechanism=SCRAM-SHA-256", Mechanism::kScramSha256, "admin"},
                        Case{"authMechanism=scram-sha-256", Mechanism::kScramSha256, "admin"},
                        Case{"authMechanism=PLAIN", Mechanism::kPlain, "$external"}}) {
    SCOPED_TRACE(c.query);
    ConnectionString cs = ConnectionString::parse("mongodb://u:p@h/?" + std::string(c.query));
    ASSERT_TRUE(cs.credential);
    EXPECT_EQ(credential_of(cs).mechanism, c.mechanism);
    EXPECT_EQ(credential_of(cs).source, c.source_without_db);
    EXPECT_EQ(
        credential_of(ConnectionString::parse("mongodb://u:p@h/db?" + std::string(c.query))).source,
        "db");
  }
}

TEST(ConnectionStringCredential, MechanismsNotBuiltAreRefusedByName) {
  for (std::string_view name :
       {"GSSAPI", "MONGODB-X509", "MONGODB-AWS", "MONGODB-OIDC", "MONGODB-CR", "gssapi"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(error_of("mongodb://u:p@h/?authMechanism=" + std::string(name)),
                AllOf(HasSubstr("is not supported by mongoslice"),
                      HasSubstr("SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN")));
  }
  EXPECT_THAT(error_of("mongodb://h/?authMechanism=MONGODB-X509"),
              HasSubstr("mechanism MONGODB-X509 is not supported"));
  EXPECT_THAT(error_of("mongodb://u:p@h/?authMechanism=SCRAM-SHA-512"),
              HasSubstr("authMechanism=SCRAM-SHA-512 is not a known mechanism"));
  EXPECT_THAT(error_of("mongodb://u:p@h/?authMechanism="), HasSubstr("authMechanism is empty"));
}

TEST(ConnectionStringCredential, MissingPiecesAreNamed) {
  EXPECT_THAT(error_of("mongodb://h/?authMechanism=PLAIN"),
              HasSubstr("authMechanism=PLAIN needs a user name"));
  EXPECT_THAT(error_of("mongodb://h/?authMechanism=SCRAM-SHA-1"),
              HasSubstr("SCRAM-SHA-1 needs a user name"));
  EXPECT_THAT(error_of("mongodb://bob@h/?authMechanism=PLAIN"),
              HasSubstr("user 'bob' has no password, which PLAIN needs"));
  EXPECT_THAT(error_of("mongodb://bob@h"), HasSubstr("user 'bob' has no password"));
  EXPECT_THAT(error_of("mongodb://@h"), HasSubstr("user name before '@' is empty"));
  EXPECT_THAT(error_of("mongodb://h/?authSource="), HasSubstr("authSource is empty"));
  // An empty password is given: the server judges it.
  EXPECT_EQ(
      credential_of(ConnectionString::parse("mongodb://bob:@h/?authMechanism=PLAIN")).password, "");
}

TEST(ConnectionStringCredential, PropertiesDoNotApplyToTheMechanismsBuilt) {
  EXPECT_THAT(error_of("mongodb://u:p@h/?authMechanism=SCRAM-SHA-256"
                       "&authMechanismProperties=SERVICE_NAME:other"),
              HasSubstr("authMechanismProperties do not apply to SCRAM-SHA-256"));
  EXPECT_THAT(error_of("mongodb://u:p@h/?authMechanismProperties=A:b"),
              HasSubstr("do not apply to the default mechanism"));
  EXPECT_THAT(error_of("mongodb://u:p@h/?authMechanismProperties=A"),
              HasSubstr("expected KEY:value pairs"));
  EXPECT_THAT(error_of("mongodb://u:p@h/?authMechanismProperties=A:1,A:2"),
              HasSubstr("gives 'A' more than once"));
}

TEST(ConnectionStringCredential, ThePasswordIsInNoMessage) {
  const std::string secret = "s3cr3t-Pw";
  for (std::string query : {"authMechanism=GSSAPI", "authMechanism=NOPE",
                            "authMechanismProperties=X:y", "authSource="}) {
    SCOPED_TRACE(query);
    EXPECT_THAT(error_of("mongodb://alice:" + secret + "@h/?" + query), Not(HasSubstr(secret)));
  }
  // A '?' in the password ends the user info early: refused, quoting none of it.
  EXPECT_THAT(error_of("mongodb://alice:xq?zw@h/?w=1"),
              AllOf(HasSubstr("write '?' in a user name or password as %3F"), Not(HasSubstr("xq")),
                    Not(HasSubstr("zw"))));
  EXPECT_EQ(ConnectionString::parse("mongodb://alice:pa%3Fss@h").password, "pa?ss");
  ConnectionString cs =
      ConnectionString::parse("mongodb://alice:" + secret + "@h/?authMechanism=PLAIN&x=1");
  for (const auto& w : cs.warnings) EXPECT_THAT(w, Not(HasSubstr(secret)));
}

}  // namespace
}  // namespace mongoslice
