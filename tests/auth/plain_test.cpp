#include "auth/plain.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "auth/crypto.hpp"
#include "auth/mechanism.hpp"
#include "auth_test_support.hpp"
#include "support/expect_error.hpp"

namespace mongoslice::auth {
namespace {

using test::expect_command;
using test::payload_text;
using test::sasl_reply;
using testing::expect_error;

Credential plain_user() {
  Credential c;
  c.mechanism = Mechanism::kPlain;
  c.username = "user";
  c.password = "pencil";
  c.source = "$external";
  return c;
}

TEST(Plain, PayloadIsNulUserNulPasswordAsTheSpecShows) {
  PlainClient client("user", "pencil");
  const auto payload = client.start();
  EXPECT_EQ(std::string(payload.begin(), payload.end()), std::string("\0user\0pencil", 12));
  // The auth spec's conversation: BinData(0, "AHVzZXIAcGVuY2ls").
  EXPECT_EQ(crypto::base64_encode(payload), "AHVzZXIAcGVuY2ls");
}

TEST(Plain, OneSaslStartToTheSourceThenDone) {
  auto conversation = make_conversation(plain_user(), Mechanism::kPlain);
  const auto first = conversation.first_command();
  EXPECT_EQ(first.db, "$external");
  EXPECT_EQ(first.body["saslStart"].get_int32(), 1);
  EXPECT_EQ(first.body["mechanism"].get_string(), "PLAIN");
  EXPECT_EQ(first.body["autoAuthorize"].get_int32(), 1);
  EXPECT_EQ(payload_text(first.body), std::string("\0user\0pencil", 12));
  EXPECT_FALSE(first.body.find("options"));
  EXPECT_TRUE(std::holds_alternative<Done>(conversation.feed(sasl_reply(1, true, ""))));
  EXPECT_TRUE(conversation.done());
}

TEST(Plain, DoesNotSpeculate) {
  auto conversation = make_conversation(plain_user(), Mechanism::kPlain);
  EXPECT_FALSE(conversation.speculative_document());
}

TEST(Plain, ServerPayloadAfterTheOneMessageIsRefused) {
  auto conversation = make_conversation(plain_user(), Mechanism::kPlain);
  conversation.first_command();
  auto e = expect_error([&] { conversation.feed(sasl_reply(1, false, "more?")); });
  EXPECT_EQ(e.code(), make_error_code(errc::authentication_failed));
  EXPECT_EQ(std::string(e.what()).find("pencil"), std::string::npos) << e.what();
}

TEST(Plain, ServerRefusalIsAServerErrorNamingUserNotPassword) {
  auto conversation = make_conversation(plain_user(), Mechanism::kPlain);
  conversation.first_command();
  try {
    conversation.feed(bson::Document::from_json(
        R"({"ok": 0, "code": 18, "codeName": "AuthenticationFailed", "errmsg": "Authentication failed."})"));
    ADD_FAILURE() << "no ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 18);
    EXPECT_EQ(e.code_name(), "AuthenticationFailed");
    const std::string what = e.what();
    EXPECT_NE(what.find("\"user\""), std::string::npos) << what;
    EXPECT_NE(what.find("PLAIN"), std::string::npos) << what;
    EXPECT_EQ(what.find("pencil"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace mongoslice::auth
