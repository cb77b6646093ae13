#include "auth/mechanism.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "auth/crypto.hpp"
#include "auth_test_support.hpp"
#include "support/expect_error.hpp"
#include "wire/error.hpp"

namespace mongoslice::auth {
namespace {

using bson::Document;
using test::expect_command;
using test::fixed_nonces;
using test::payload_text;
using test::sasl_reply;
using testing::expect_error;

// The auth spec's examples (see scram_test.cpp): SCRAM-SHA-256's and SCRAM-SHA-1's messages.
constexpr const char* kSha256Nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr const char* kSha256ServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kSha256ClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kSha256ServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
constexpr const char* kSha1Nonce = "fyko+d2lbbFgONRv9qkxdawL";
constexpr const char* kSha1ServerFirst =
    "r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000";
constexpr const char* kSha1ClientFinal =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/"
    "9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=";
constexpr const char* kSha1ServerFinal = "v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=";

Credential user_pencil(Mechanism mechanism = Mechanism::kNegotiate) {
  Credential c;
  c.mechanism = mechanism;
  c.username = "user";
  c.password = "pencil";
  c.source = "admin";
  return c;
}

Document hello_reply(const char* mechs_json) {
  return Document::from_json(std::string(R"({"isWritablePrimary": true, "ok": 1)") + mechs_json +
                             "}");
}

TEST(SelectMechanism, Sha256WhenListedElseSha1NeverPlain) {
  const auto c = user_pencil();
  EXPECT_EQ(select_mechanism(
                c, hello_reply(R"(, "saslSupportedMechs": ["SCRAM-SHA-1", "SCRAM-SHA-256"])")),
            Mechanism::kScramSha256);
  EXPECT_EQ(select_mechanism(c, hello_reply(R"(, "saslSupportedMechs": ["SCRAM-SHA-1"])")),
            Mechanism::kScramSha1);
  EXPECT_EQ(select_mechanism(c, hello_reply(R"(, "saslSupportedMechs": ["PLAIN"])")),
            Mechanism::kScramSha1);
  EXPECT_EQ(select_mechanism(c, hello_reply(R"(, "saslSupportedMechs": [])")),
            Mechanism::kScramSha1);
  EXPECT_EQ(select_mechanism(c, hello_reply("")), Mechanism::kScramSha1);
  // A mechanism the user named is kept, whatever the server lists.
  EXPECT_EQ(select_mechanism(user_pencil(Mechanism::kPlain),
                             hello_reply(R"(, "saslSupportedMechs": ["SCRAM-SHA-256"])")),
            Mechanism::kPlain);
  EXPECT_EQ(select_mechanism(user_pencil(Mechanism::kScramSha1),
                             hello_reply(R"(, "saslSupportedMechs": ["SCRAM-SHA-256"])")),
            Mechanism::kScramSha1);
}

TEST(SelectMechanism, HelloAsksForSourceDotUserAsGiven) {
  Credential c = user_pencil();
  c.source = "app";
  c.username = "I\u00ADX";
  EXPECT_EQ(sasl_supported_mechs_request(c), "app.I\u00ADX");
}

TEST(MechanismNames, RoundTripAndUnknownOnesAreRefused) {
  for (auto m : {Mechanism::kScramSha1, Mechanism::kScramSha256, Mechanism::kPlain}) {
    EXPECT_EQ(parse_mechanism(mechanism_name(m)), m);
  }
  EXPECT_FALSE(parse_mechanism("GSSAPI"));
  EXPECT_FALSE(parse_mechanism("MONGODB-X509"));
  EXPECT_FALSE(parse_mechanism("scram-sha-256"));
}

TEST(ValidateCredential, EmptyUserNoPasswordOrPropertiesAreRefused) {
  Credential c = user_pencil();
  EXPECT_NO_THROW(validate_credential(c));
  c.username.clear();
  EXPECT_EQ(expect_error([&] { validate_credential(c); }).code(),
            make_error_code(errc::invalid_credential));
  c = user_pencil();
  c.password.reset();
  EXPECT_EQ(expect_error([&] { validate_credential(c); }).code(),
            make_error_code(errc::invalid_credential));
  c = user_pencil();
  c.mechanism_properties["SERVICE_NAME"] = "x";
  auto e = expect_error([&] { validate_credential(c); });
  EXPECT_EQ(e.code(), make_error_code(errc::invalid_credential));
  EXPECT_EQ(std::string(e.what()).find("pencil"), std::string::npos) << e.what();
}

TEST(SpeculativeAuthentication, DocumentIsSaslStartWithDbAndResumes) {
  auto conversation = make_conversation(user_pencil(), Mechanism::kScramSha256,
                                        {.nonce = fixed_nonces({kSha256Nonce})});
  const auto document = conversation.speculative_document();
  ASSERT_TRUE(document);
  EXPECT_EQ((*document)["saslStart"].get_int32(), 1);
  EXPECT_EQ((*document)["mechanism"].get_string(), "SCRAM-SHA-256");
  EXPECT_EQ((*document)["db"].get_string(), "admin");
  EXPECT_EQ((*document)["autoAuthorize"].get_int32(), 1);
  EXPECT_TRUE((*document)["options"].get_document()["skipEmptyExchange"].get_bool());
  EXPECT_EQ(payload_text(*document), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

  // The hello reply's speculativeAuthenticate has no ok field of its own.
  bson::Builder answer;
  answer.append("conversationId", 1).append("done", false);
  answer.append_binary("payload", 0, crypto::as_bytes(kSha256ServerFirst));
  const auto next = expect_command(conversation.resume(answer.build()));
  EXPECT_EQ(payload_text(next.body), kSha256ClientFinal);
  EXPECT_TRUE(
      std::holds_alternative<Done>(conversation.feed(sasl_reply(1, true, kSha256ServerFinal))));
}

TEST(Authenticator, NegotiatedHelloCarriesMechsRequestAndSpeculativeSha256) {
  Authenticator auth(user_pencil(), {.nonce = fixed_nonces({kSha256Nonce})});
  bson::Builder hello;
  hello.append("hello", 1);
  auth.add_to_hello(hello);
  const auto body = hello.build();
  EXPECT_EQ(body["saslSupportedMechs"].get_string(), "admin.user");
  const auto speculative = body["speculativeAuthenticate"].get_document();
  EXPECT_EQ(speculative["mechanism"].get_string(), "SCRAM-SHA-256");
  EXPECT_EQ(speculative["db"].get_string(), "admin");
}

TEST(Authenticator, SpeculativeAnswerInTheHelloSavesTheSaslStart) {
  Authenticator auth(user_pencil(), {.nonce = fixed_nonces({kSha256Nonce})});
  bson::Builder hello;
  auth.add_to_hello(hello);
  hello.build();

  bson::Builder reply;
  reply.append("isWritablePrimary", true);
  reply.open_array("saslSupportedMechs")
      .append_value("SCRAM-SHA-1")
      .append_value("SCRAM-SHA-256")
      .close();
  reply.open_document("speculativeAuthenticate").append("conversationId", 1).append("done", false);
  reply.append_binary("payload", 0, crypto::as_bytes(kSha256ServerFirst)).close();
  reply.append("ok", 1.0);

  const auto cont = expect_command(auth.on_hello_reply(reply.build()));
  EXPECT_TRUE(cont.body.find("saslContinue"));
  EXPECT_EQ(payload_text(cont.body), kSha256ClientFinal);
  EXPECT_TRUE(std::holds_alternative<Done>(auth.feed(sasl_reply(1, true, kSha256ServerFinal))));
  EXPECT_TRUE(auth.done());
  EXPECT_EQ(auth.mechanism(), Mechanism::kScramSha256);
}

TEST(Authenticator, NoSpeculativeAnswerRunsTheNegotiatedSha1FromAFreshStart) {
  // First nonce for the speculative SCRAM-SHA-256 start, the second for SCRAM-SHA-1.
  Authenticator auth(user_pencil(), {.nonce = fixed_nonces({kSha256Nonce, kSha1Nonce})});
  bson::Builder hello;
  auth.add_to_hello(hello);
  hello.build();

  const auto start = expect_command(
      auth.on_hello_reply(hello_reply(R"(, "saslSupportedMechs": ["SCRAM-SHA-1"])")));
  EXPECT_EQ(start.db, "admin");
  EXPECT_EQ(start.body["mechanism"].get_string(), "SCRAM-SHA-1");
  EXPECT_EQ(payload_text(start.body), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  const auto cont = expect_command(auth.feed(sasl_reply(1, false, kSha1ServerFirst)));
  EXPECT_EQ(payload_text(cont.body), kSha1ClientFinal);
  EXPECT_TRUE(std::holds_alternative<Done>(auth.feed(sasl_reply(1, true, kSha1ServerFinal))));
  EXPECT_EQ(auth.mechanism(), Mechanism::kScramSha1);
}

TEST(Authenticator, NamedPlainNeitherNegotiatesNorSpeculates) {
  Credential c = user_pencil(Mechanism::kPlain);
  c.source = "$external";
  Authenticator auth(c);
  bson::Builder hello;
  hello.append("hello", 1);
  auth.add_to_hello(hello);
  const auto body = hello.build();
  EXPECT_FALSE(body.find("saslSupportedMechs"));
  EXPECT_FALSE(body.find("speculativeAuthenticate"));
  const auto start = expect_command(auth.on_hello_reply(hello_reply("")));
  EXPECT_EQ(start.db, "$external");
  EXPECT_EQ(start.body["mechanism"].get_string(), "PLAIN");
  EXPECT_TRUE(std::holds_alternative<Done>(auth.feed(sasl_reply(1, true, ""))));
}

TEST(Authenticator, NegotiatedPasswordThatOnlySha1CanUseSkipsSpeculation) {
  Credential c = user_pencil();
  c.password = "pen\u0007cil";  // SASLprep refuses it; SCRAM-SHA-1 does not SASLprep
  Authenticator auth(c, {.nonce = fixed_nonces({kSha1Nonce})});
  bson::Builder hello;
  auth.add_to_hello(hello);
  const auto body = hello.build();
  EXPECT_TRUE(body.find("saslSupportedMechs"));
  EXPECT_FALSE(body.find("speculativeAuthenticate"));
  const auto start = expect_command(
      auth.on_hello_reply(hello_reply(R"(, "saslSupportedMechs": ["SCRAM-SHA-1"])")));
  EXPECT_EQ(start.body["mechanism"].get_string(), "SCRAM-SHA-1");
  // Where the server picks SCRAM-SHA-256, the refusal comes then.
  Authenticator auth256(c, {.nonce = fixed_nonces({kSha1Nonce})});
  bson::Builder hello256;
  auth256.add_to_hello(hello256);
  hello256.build();
  auto e = expect_error(
      [&] { auth256.on_hello_reply(hello_reply(R"(, "saslSupportedMechs": ["SCRAM-SHA-256"])")); });
  EXPECT_EQ(e.code(), make_error_code(errc::invalid_credential));
}

}  // namespace
}  // namespace mongoslice::auth
