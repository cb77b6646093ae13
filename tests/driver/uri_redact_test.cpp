// redact_uri: the printable form of a connection string masks every secret and keeps the rest.

#include "driver/uri_redact.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mongoslice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConnectionStringRedact, MasksThePasswordAndKeepsTheRest) {
  EXPECT_EQ(redact_uri("mongodb://alice:s3cret@h1:27017,h2/db?replicaSet=rs&tls=true"),
            "mongodb://alice:****@h1:27017,h2/db?replicaSet=rs&tls=true");
  EXPECT_EQ(redact_uri("mongodb+srv://alice:p%40ss@cluster0.example.net/"),
            "mongodb+srv://alice:****@cluster0.example.net/");
  EXPECT_EQ(redact_uri("mongodb://alice:@h"), "mongodb://alice:****@h");  // even an empty one
  EXPECT_EQ(redact_uri("mongodb://alice@h/?authMechanism=PLAIN"),
            "mongodb://alice@h/?authMechanism=PLAIN");
  EXPECT_EQ(redact_uri("mongodb://h/?replicaSet=my@set"), "mongodb://h/?replicaSet=my@set");
}

TEST(ConnectionStringRedact, MasksSecretOptions) {
  EXPECT_EQ(redact_uri("mongodb://h/?tlsCertificateKeyFilePassword=k3y&TLSCAFILE=ca.pem"
                       "&proxyPassword=px&authMechanismProperties=AWS_SESSION_TOKEN:tok"),
            "mongodb://h/?tlsCertificateKeyFilePassword=****&TLSCAFILE=ca.pem"
            "&proxyPassword=****&authMechanismProperties=****");
  EXPECT_EQ(redact_uri("mongodb://h/?tlsCertificateKeyFile%50assword=k3y"),
            "mongodb://h/?tlsCertificateKeyFile%50assword=****");
  EXPECT_EQ(redact_uri("mongodb://h/?bad%zzkey=v"), "mongodb://h/?bad%zzkey=****");
}

TEST(ConnectionStringRedact, MalformedUserInfoIsMaskedToo) {
  for (std::string_view uri : {"mongodb://alice/x:pw0rd@h/db", "mongodb://alice:pw0rd:x@h",
                               "mongodb://alice:pw0rd@x@h", "alice:pw0rd@h"}) {
    EXPECT_THAT(redact_uri(uri), Not(HasSubstr("pw0rd"))) << uri;
  }
}

}  // namespace
}  // namespace mongoslice
