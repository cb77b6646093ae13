// The TLS options of ConnectionString::parse beyond the spec's JSON tests: what TlsOptions they
// fill, when TLS is on implicitly, the conflicts' wording, and that no value of a TLS option
// (a key file's password) reaches an error or a warning.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "driver/connection_string.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// The TLS options, or an exception (which fails the test) when TLS is off.
const TlsOptions& tls_of(const ConnectionString& cs) {
  if (!cs.tls) throw std::runtime_error("TLS is off");
  return *cs.tls;
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

TEST(ConnectionStringTls, OffUnlessAsked) {
  EXPECT_FALSE(ConnectionString::parse("mongodb://h").tls);
  EXPECT_FALSE(ConnectionString::parse("mongodb://h/?tls=false").tls);
  EXPECT_FALSE(ConnectionString::parse("mongodb://h/?ssl=false&tls=FALSE").tls);
}

TEST(ConnectionStringTls, TlsTrueGivesDefaultsThatVerifyEverything) {
  for (std::string_view uri :
       {"mongodb://h/?tls=true", "mongodb://h/?SSL=TRUE", "mongodb://h/?tls=true&ssl=true"}) {
    SCOPED_TRACE(uri);
    ConnectionString cs = ConnectionString::parse(uri);
    ASSERT_TRUE(cs.tls);
    EXPECT_FALSE(tls_of(cs).ca_file);  // the system trust store
    EXPECT_FALSE(tls_of(cs).certificate_key_file);
    EXPECT_FALSE(tls_of(cs).certificate_key_password);
    EXPECT_FALSE(tls_of(cs).allow_invalid_certificates);
    EXPECT_FALSE(tls_of(cs).allow_invalid_hostnames);
    EXPECT_THAT(cs.warnings, IsEmpty());
  }
}

TEST(ConnectionStringTls, FilesAndPasswordAreDecoded) {
  ConnectionString cs = ConnectionString::parse(
      "mongodb://h/?tls=true&tlsCAFile=%2Fetc%2Fca%20file.pem&tlsCertificateKeyFile=client.pem"
      "&tlsCertificateKeyFilePassword=p%26ss");
  ASSERT_TRUE(cs.tls);
  EXPECT_EQ(tls_of(cs).ca_file, "/etc/ca file.pem");
  EXPECT_EQ(tls_of(cs).certificate_key_file, "client.pem");
  EXPECT_EQ(tls_of(cs).certificate_key_password, "p&ss");
}

// Any other TLS option without tls/ssl turns TLS on: the user who names a CA file or relaxes a
// certificate check expects TLS, never plaintext.
TEST(ConnectionStringTls, OtherTlsOptionsTurnItOnImplicitly) {
  for (std::string_view option :
       {"tlsCAFile=ca.pem", "tlsCertificateKeyFile=c.pem", "tlsCertificateKeyFilePassword=x",
        "tlsAllowInvalidCertificates=false", "tlsAllowInvalidHostnames=true", "tlsInsecure=false",
        "tlsDisableOCSPEndpointCheck=true", "tlsDisableCertificateRevocationCheck=false",
        "tlsInsecure=maybe"}) {
    SCOPED_TRACE(option);
    EXPECT_TRUE(ConnectionString::parse("mongodb://h/?" + std::string(option)).tls);
  }
}

TEST(ConnectionStringTls, InsecureRelaxesBothChecks) {
  ConnectionString cs = ConnectionString::parse("mongodb://h/?tls=true&tlsInsecure=true");
  ASSERT_TRUE(cs.tls);
  EXPECT_TRUE(tls_of(cs).allow_invalid_certificates);
  EXPECT_TRUE(tls_of(cs).allow_invalid_hostnames);
  ConnectionString hosts = ConnectionString::parse("mongodb://h/?tlsAllowInvalidHostnames=true");
  EXPECT_FALSE(tls_of(hosts).allow_invalid_certificates);
  EXPECT_TRUE(tls_of(hosts).allow_invalid_hostnames);
}

// A value that is not a boolean is ignored with a warning (the URI-options spec), so the check
// stays on; the warning names the option.
TEST(ConnectionStringTls, NonBooleanRelaxationsWarnAndKeepTheCheck) {
  ConnectionString cs =
      ConnectionString::parse("mongodb://h/?tls=true&tlsAllowInvalidCertificates=yes");
  ASSERT_TRUE(cs.tls);
  EXPECT_FALSE(tls_of(cs).allow_invalid_certificates);
  ASSERT_THAT(cs.warnings, SizeIs(1));
  EXPECT_THAT(cs.warnings[0], HasSubstr("tlsAllowInvalidCertificates=yes ignored"));
}

TEST(ConnectionStringTls, RevocationOptionsAreRecordedOnly) {
  ConnectionString cs =
      ConnectionString::parse("mongodb://h/?tls=true&tlsDisableOCSPEndpointCheck=true");
  EXPECT_EQ(cs.tls_disable_ocsp_endpoint_check, true);
  EXPECT_FALSE(cs.tls_disable_certificate_revocation_check);
  EXPECT_THAT(cs.warnings, IsEmpty());
  EXPECT_EQ(ConnectionString::parse("mongodb://h/?tlsDisableCertificateRevocationCheck=false")
                .tls_disable_certificate_revocation_check,
            false);
}

TEST(ConnectionStringTls, ConflictsNameBothOptionsWhateverTheirValues) {
  EXPECT_THAT(error_of("mongodb://h/?tlsInsecure=false&tlsAllowInvalidCertificates=false"),
              HasSubstr("tlsInsecure and tlsAllowInvalidCertificates cannot be combined"));
  EXPECT_THAT(error_of("mongodb://h/?tlsAllowInvalidHostnames=true&TLSINSECURE=true"),
              HasSubstr("TLSINSECURE and tlsAllowInvalidHostnames cannot be combined"));
  EXPECT_THAT(error_of("mongodb://h/?tlsDisableOCSPEndpointCheck=true&"
                       "tlsDisableCertificateRevocationCheck=true"),
              HasSubstr("tlsDisableOCSPEndpointCheck and tlsDisableCertificateRevocationCheck"));
  // A value that is not a boolean still counts as given.
  EXPECT_THAT(error_of("mongodb://h/?tlsInsecure=maybe&tlsAllowInvalidCertificates=true"),
              HasSubstr("cannot be combined"));
  // tlsAllowInvalidHostnames with tlsAllowInvalidCertificates is no conflict.
  ConnectionString both = ConnectionString::parse(
      "mongodb://h/?tlsAllowInvalidHostnames=true&tlsAllowInvalidCertificates=true");
  EXPECT_TRUE(tls_of(both).allow_invalid_certificates && tls_of(both).allow_invalid_hostnames);
}

TEST(ConnectionStringTls, ARelaxationRepeatedWithAnotherValueIsAnError) {
  EXPECT_THAT(error_of("mongodb://h/?tlsInsecure=true&tlsInsecure=false"),
              HasSubstr("more than once with different values"));
  EXPECT_TRUE(tls_of(ConnectionString::parse("mongodb://h/?tlsInsecure=true&tlsInsecure=TRUE"))
                  .allow_invalid_hostnames);
}

TEST(ConnectionStringTls, TlsAndSslMustAgree) {
  EXPECT_THAT(error_of("mongodb://h/?tls=true&ssl=false"),
              HasSubstr("tls=true and ssl=false contradict each other"));
  EXPECT_THAT(error_of("mongodb://h/?ssl=false&tls=true"),
              HasSubstr("ssl=false and tls=true contradict each other"));
}

TEST(ConnectionStringTls, NoValueOfAStringOptionReachesAMessage) {
  const std::string secret = "hunter2";
  for (std::string uri : {"mongodb://h/?tls=false&tlsCertificateKeyFilePassword=" + secret,
                          "mongodb://h/?tlsCertificateKeyFilePassword=" + secret +
                              "&tlsInsecure=true&tlsAllowInvalidHostnames=true"}) {
    EXPECT_THAT(error_of(uri), Not(HasSubstr(secret))) << uri;
  }
  ConnectionString cs = ConnectionString::parse(
      "mongodb://h/?tlsCertificateKeyFilePassword=" + secret + "&tlsCertificateKeyFilePassword=x");
  for (const auto& w : cs.warnings) EXPECT_THAT(w, Not(HasSubstr(secret)));
  EXPECT_EQ(tls_of(cs).certificate_key_password, "x");  // the last one wins
}

TEST(ConnectionStringTls, EmptyPathsWarnAndAreIgnored) {
  ConnectionString cs = ConnectionString::parse("mongodb://h/?tls=true&tlsCAFile=");
  EXPECT_FALSE(tls_of(cs).ca_file);
  EXPECT_THAT(cs.warnings, ElementsAre(HasSubstr("tlsCAFile ignored: its value is empty")));
}

}  // namespace
}  // namespace mongoslice
