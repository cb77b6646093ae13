#include "auth/scram.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "auth/crypto.hpp"
#include "auth/mechanism.hpp"
#include "auth_test_support.hpp"
#include "support/expect_error.hpp"
#include "wire/error.hpp"

namespace mongoslice::auth {
namespace {

using test::expect_command;
using test::fixed_nonces;
using test::payload_text;
using test::sasl_reply;
using testing::expect_error;

// The auth spec's worked examples (user "user", password "pencil"). SCRAM-SHA-256's is RFC
// 7677's; SCRAM-SHA-1's uses MongoDB's password digest, so it is not RFC 5802's (that one is
// checked on the primitives below). Each payload as the spec prints it, in base64.
struct SpecExample {
  Mechanism mechanism;
  const char* nonce;
  const char* client_first;
  const char* server_first;
  const char* client_final;
  const char* server_final;
  const char* client_first_b64;
  const char* server_first_b64;
  const char* client_final_b64;
  const char* server_final_b64;
};

const SpecExample kSha256{
    Mechanism::kScramSha256,
    "rOprNGfwEbeRWgbNEkqO",
    "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
    "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=",
    "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29F"
    "c1VFamI2Z1E9PSxpPTQwOTY=",
    "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFw"
    "V0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==",
    "dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==",
};

const SpecExample kSha1{
    Mechanism::kScramSha1,
    "fyko+d2lbbFgONRv9qkxdawL",
    "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    "r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000",
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/"
    "9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=",
    "v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=",
    "biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM",
    "cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0xIbytWZ2s3cXZVT0tVd3VXTElXZzRsLzlTcmFHTUhFRSxzPXJROVpZM01u"
    "dEJldVAzRTFURFZDNHc9PSxpPTEwMDAw",
    "Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMSG8rVmdrN3F2VU9LVXd1V0xJV2c0bC85U3JhR01IRUUscD1N"
    "QzJUOEJ2Ym1XUmNrRHc4b1dsNUlWZ2h3Q1k9",
    "dj1VTVdlSTI1SkQxeU5ZWlJNcFo0Vkh2aFo5ZTA9",
};

std::string decoded(const char* b64) {
  auto bytes = crypto::base64_decode(b64);
  EXPECT_TRUE(bytes) << b64;
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

Credential user_pencil(Mechanism mechanism = Mechanism::kNegotiate) {
  Credential c;
  c.mechanism = mechanism;
  c.username = "user";
  c.password = "pencil";
  c.source = "admin";
  return c;
}

AuthOptions with_nonce(std::string nonce, std::shared_ptr<KeyCache> cache = nullptr) {
  AuthOptions options;
  options.nonce = fixed_nonces({std::move(nonce)});
  options.key_cache = std::move(cache);
  return options;
}

std::string b64_of(const std::string& text) {
  return crypto::base64_encode(crypto::as_bytes(text));
}

class ScramSpecExample : public ::testing::TestWithParam<const SpecExample*> {};

// The whole conversation over the SASL commands, as the spec prints it.
TEST_P(ScramSpecExample, ConversationMatchesTheSpec) {
  const SpecExample& ex = *GetParam();
  // The example's plain-text messages are the base64 payloads it shows, decoded.
  ASSERT_EQ(decoded(ex.client_first_b64), ex.client_first);
  ASSERT_EQ(decoded(ex.server_first_b64), ex.server_first);
  ASSERT_EQ(decoded(ex.client_final_b64), ex.client_final);
  ASSERT_EQ(decoded(ex.server_final_b64), ex.server_final);

  auto conversation =
      make_conversation(user_pencil(ex.mechanism), ex.mechanism, with_nonce(ex.nonce));
  const auto start = conversation.first_command();
  EXPECT_EQ(start.db, "admin");
  EXPECT_EQ(start.body["saslStart"].get_int32(), 1);
  EXPECT_EQ(start.body["mechanism"].get_string(), mechanism_name(ex.mechanism));
  EXPECT_EQ(start.body["autoAuthorize"].get_int32(), 1);
  EXPECT_TRUE(start.body["options"].get_document()["skipEmptyExchange"].get_bool());
  EXPECT_EQ(b64_of(payload_text(start.body)), ex.client_first_b64);

  const auto step = conversation.feed(sasl_reply(1, false, decoded(ex.server_first_b64)));
  const auto cont = expect_command(step);
  EXPECT_EQ(cont.db, "admin");
  EXPECT_EQ(cont.body["saslContinue"].get_int32(), 1);
  EXPECT_EQ(cont.body["conversationId"].get_int32(), 1);
  EXPECT_EQ(b64_of(payload_text(cont.body)), ex.client_final_b64);

  EXPECT_TRUE(std::holds_alternative<Done>(
      conversation.feed(sasl_reply(1, true, decoded(ex.server_final_b64)))));
  EXPECT_TRUE(conversation.done());
}

INSTANTIATE_TEST_SUITE_P(Auth, ScramSpecExample, ::testing::Values(&kSha256, &kSha1),
                         [](const auto& info) {
                           return info.param->mechanism == Mechanism::kScramSha1 ? "Sha1"
                                                                                 : "Sha256";
                         });

// RFC 5802's own SCRAM-SHA-1 example (the password "pencil" used as is), on the primitives the
// client composes: PBKDF2, HMAC, SHA-1.
TEST(ScramPrimitives, Rfc5802ExampleProofAndServerSignature) {
  using crypto::as_bytes;
  const auto hash = crypto::Hash::kSha1;
  const auto salt = crypto::base64_decode("QSXCR+Q6sek8bf92");
  ASSERT_TRUE(salt);
  const auto salted = crypto::pbkdf2(hash, "pencil", *salt, 4096);
  const auto client_key = crypto::hmac(hash, salted, as_bytes("Client Key"));
  const auto server_key = crypto::hmac(hash, salted, as_bytes("Server Key"));
  const std::string auth_message =
      "n=user,r=fyko+d2lbbFgONRv9qkxdawL,"
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,"
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
  auto proof = crypto::hmac(hash, crypto::digest(hash, client_key), as_bytes(auth_message));
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] ^= client_key[i];
  EXPECT_EQ(crypto::base64_encode(proof), "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  EXPECT_EQ(crypto::base64_encode(crypto::hmac(hash, server_key, as_bytes(auth_message))),
            "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

TEST(ScramPrimitives, Sha1PasswordIsMongoDbsDigest) {
  // hex(MD5("user:mongo:pencil")), as Python's hashlib.md5 gives it.
  EXPECT_EQ(crypto::md5_hex("user:mongo:pencil"), "1c33006ec1ffd90f9cadcbcc0e118200");
}

TEST(ScramPrimitives, Base64IsStrict) {
  EXPECT_EQ(crypto::base64_decode("cGVuY2ls"), crypto::Bytes({'p', 'e', 'n', 'c', 'i', 'l'}));
  EXPECT_EQ(crypto::base64_decode("cGVuY2k="), crypto::Bytes({'p', 'e', 'n', 'c', 'i'}));
  EXPECT_EQ(crypto::base64_decode(""), crypto::Bytes());
  EXPECT_FALSE(crypto::base64_decode("cGVuY2k"));    // not padded
  EXPECT_FALSE(crypto::base64_decode(" cGVuY2k="));  // whitespace
  EXPECT_FALSE(crypto::base64_decode("cG=uY2k="));   // '=' inside
  EXPECT_FALSE(crypto::base64_decode("cGVu*2k="));   // outside the alphabet
  EXPECT_FALSE(crypto::base64_decode("cGVuY2l="));   // padding bits not zero: not canonical
}

// --- the client's checks of the server --------------------------------------------------------

// A SCRAM-SHA-256 conversation up to the point where the client has sent client-final.
Conversation sha256_after_client_final(std::shared_ptr<KeyCache> cache = nullptr) {
  auto conversation = make_conversation(user_pencil(), Mechanism::kScramSha256,
                                        with_nonce(kSha256.nonce, std::move(cache)));
  conversation.first_command();
  expect_command(conversation.feed(sasl_reply(1, false, kSha256.server_first)));
  return conversation;
}

Error sha256_error_for_server_first(const std::string& server_first) {
  auto conversation =
      make_conversation(user_pencil(), Mechanism::kScramSha256, with_nonce(kSha256.nonce));
  conversation.first_command();
  return expect_error([&] { conversation.feed(sasl_reply(1, false, server_first)); });
}

void expect_auth_failure(const Error& e, const std::string& says) {
  EXPECT_EQ(e.code(), make_error_code(errc::authentication_failed)) << e.what();
  const std::string what = e.what();
  EXPECT_NE(what.find(says), std::string::npos) << what;
  EXPECT_NE(what.find("SCRAM-SHA-256"), std::string::npos) << what;
  EXPECT_NE(what.find("\"user\""), std::string::npos) << what;
  EXPECT_EQ(what.find("pencil"), std::string::npos) << what;
}

TEST(Scram, ServerSignatureThatDoesNotVerifyIsRefused) {
  auto conversation = sha256_after_client_final();
  // A well-formed signature of the right length, but not the server's (its first byte off).
  auto e = expect_error([&] {
    conversation.feed(sasl_reply(1, true, "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
  });
  expect_auth_failure(e, "signature does not verify");
  EXPECT_FALSE(conversation.done());
}

TEST(Scram, ServerSignatureOfAnotherLengthIsRefused) {
  auto conversation = sha256_after_client_final();
  auto e = expect_error([&] { conversation.feed(sasl_reply(1, true, kSha1.server_final)); });
  expect_auth_failure(e, "signature does not verify");
}

TEST(Scram, ServerErrorAttributeIsRefusedWithItsText) {
  auto conversation = sha256_after_client_final();
  auto e = expect_error([&] { conversation.feed(sasl_reply(1, true, "e=invalid-proof")); });
  expect_auth_failure(e, "invalid-proof");
}

TEST(Scram, DoneBeforeTheServerProvesItselfIsRefused) {
  auto conversation = sha256_after_client_final();
  auto e = expect_error([&] { conversation.feed(sasl_reply(1, true, "")); });
  expect_auth_failure(e, "before proving itself");

  // Done on the first reply, even with a valid server-first.
  auto early = make_conversation(user_pencil(), Mechanism::kScramSha256, with_nonce(kSha256.nonce));
  early.first_command();
  auto e2 = expect_error([&] { early.feed(sasl_reply(1, true, kSha256.server_first)); });
  EXPECT_EQ(e2.code(), make_error_code(errc::authentication_failed));
}

TEST(Scram, IterationCountBelow4096IsRefused) {
  expect_auth_failure(
      sha256_error_for_server_first("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095"),
      "iteration count 4095 is below the minimum 4096");
}

TEST(Scram, ServerNonceThatDoesNotExtendTheClientsIsRefused) {
  // Another prefix.
  expect_auth_failure(sha256_error_for_server_first(
                          "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
                      "nonce does not extend");
  // The client's nonce alone, nothing of the server's.
  expect_auth_failure(
      sha256_error_for_server_first("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
      "nonce does not extend");
}

TEST(Scram, MalformedServerFirstIsRefused) {
  const std::string r = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  for (const std::string& bad : std::vector<std::string>{
           r + ",i=4096",                                    // no salt
           r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==",                // no iteration count
           r + ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",          // salt not base64
           r + ",s=,i=4096",                                 // empty salt
           r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=40x6",         // count not a number
           r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",  // count too large
           r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096",
           "m=ext," + r + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  // mandatory extension
           "garbage",
           "",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(sha256_error_for_server_first(bad).code(),
              make_error_code(errc::authentication_failed));
  }
}

TEST(Scram, ServerRefusalKeepsTheServerCodeAndNamesUserAndMechanism) {
  auto conversation =
      make_conversation(user_pencil(), Mechanism::kScramSha256, with_nonce(kSha256.nonce));
  conversation.first_command();
  try {
    conversation.feed(bson::Document::from_json(
        R"({"ok": 0, "code": 18, "codeName": "AuthenticationFailed", "errmsg": "Authentication failed."})"));
    ADD_FAILURE() << "no ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 18);
    const std::string what = e.what();
    EXPECT_NE(what.find("Authentication failed."), std::string::npos) << what;
    EXPECT_NE(what.find("SCRAM-SHA-256"), std::string::npos) << what;
    EXPECT_NE(what.find("\"user\""), std::string::npos) << what;
    EXPECT_EQ(what.find("pencil"), std::string::npos) << what;
  }
}

TEST(Scram, OlderServerWithoutSkipEmptyExchangeGetsAnEmptyThirdMessage) {
  auto conversation = sha256_after_client_final();
  const auto step = conversation.feed(sasl_reply(1, false, kSha256.server_final));
  const auto empty = expect_command(step);
  EXPECT_EQ(empty.body["saslContinue"].get_int32(), 1);
  EXPECT_EQ(payload_text(empty.body), "");
  EXPECT_FALSE(conversation.done());
  EXPECT_TRUE(std::holds_alternative<Done>(conversation.feed(sasl_reply(1, true, ""))));
  EXPECT_TRUE(conversation.done());
}

TEST(Scram, ReplyOfAnotherConversationOrWithoutPayloadIsRefused) {
  auto conversation =
      make_conversation(user_pencil(), Mechanism::kScramSha256, with_nonce(kSha256.nonce));
  conversation.first_command();
  expect_command(conversation.feed(sasl_reply(7, false, kSha256.server_first)));
  auto other = expect_error([&] { conversation.feed(sasl_reply(8, true, kSha256.server_final)); });
  EXPECT_EQ(other.code(), make_error_code(errc::authentication_failed));

  auto again = make_conversation(user_pencil(), Mechanism::kScramSha256, with_nonce(kSha256.nonce));
  again.first_command();
  auto no_payload = expect_error([&] {
    again.feed(bson::Document::from_json(R"({"conversationId": 1, "done": false, "ok": 1})"));
  });
  EXPECT_EQ(no_payload.code(), make_error_code(errc::authentication_failed));
}

TEST(Scram, ServerThatNeverEndsTheConversationIsCutOff) {
  auto conversation = sha256_after_client_final();
  expect_command(conversation.feed(sasl_reply(1, false, kSha256.server_final)));
  auto e = expect_error([&] {
    for (int i = 0; i < Conversation::kMaxReplies + 1; ++i)
      conversation.feed(sasl_reply(1, false, ""));
  });
  EXPECT_EQ(e.code(), make_error_code(errc::authentication_failed));
}

// --- the client's own messages ----------------------------------------------------------------

TEST(Scram, UserNameCommaAndEqualsAreEscaped) {
  EXPECT_EQ(scram_escape_username("a,b=c"), "a=2Cb=3Dc");
  EXPECT_EQ(scram_escape_username("=,"), "=3D=2C");
  EXPECT_EQ(scram_escape_username("plain"), "plain");
  ScramClient client(Mechanism::kScramSha256, "a,b=c", "pencil", with_nonce("abc"));
  EXPECT_EQ(client.client_first(), "n,,n=a=2Cb=3Dc,r=abc");
}

TEST(Scram, UserNameIsNotSaslpreppedButTheSha256PasswordIs) {
  // The soft hyphen in the user name stays (U+00AD is C2 AD in UTF-8).
  ScramClient client(Mechanism::kScramSha256, "I\u00ADX", "pencil", with_nonce("abc"));
  EXPECT_EQ(client.client_first(), "n,,n=I\u00ADX,r=abc");

  // SCRAM-SHA-256: "I\u00ADX" and "\u2168" prepare to "IX", so their proofs are IX's.
  auto final_for = [](Mechanism mechanism, const char* password) {
    ScramClient c(mechanism, "user", password, with_nonce(kSha256.nonce));
    c.client_first();
    return c.client_final(kSha256.server_first);
  };
  const auto ix = final_for(Mechanism::kScramSha256, "IX");
  EXPECT_EQ(final_for(Mechanism::kScramSha256, "I\u00ADX"), ix);
  EXPECT_EQ(final_for(Mechanism::kScramSha256, "\u2168"), ix);
  // SCRAM-SHA-1 digests the password as given: no SASLprep.
  EXPECT_NE(final_for(Mechanism::kScramSha1, "I\u00ADX"), final_for(Mechanism::kScramSha1, "IX"));
}

TEST(Scram, Sha256PasswordThatSaslprepRefusesIsAnInvalidCredential) {
  Credential c = user_pencil();
  c.password = "pen\u0007cil";
  auto e = expect_error([&] { make_conversation(c, Mechanism::kScramSha256); });
  EXPECT_EQ(e.code(), make_error_code(errc::invalid_credential));
  EXPECT_EQ(std::string(e.what()).find("pen"), std::string::npos) << e.what();
  // SCRAM-SHA-1 does not SASLprep, so the same password starts.
  EXPECT_NO_THROW(make_conversation(c, Mechanism::kScramSha1).first_command());
}

TEST(Scram, DefaultNonceIs24RandomBytesInBase64) {
  const auto a = random_scram_nonce();
  const auto b = random_scram_nonce();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  const auto bytes = crypto::base64_decode(a);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 24u);
  EXPECT_EQ(a.find(','), std::string::npos);

  auto conversation = make_conversation(user_pencil(), Mechanism::kScramSha256);
  const auto first = payload_text(conversation.first_command().body);
  ASSERT_EQ(first.rfind("n,,n=user,r=", 0), 0u) << first;
  EXPECT_EQ(first.size(), std::string("n,,n=user,r=").size() + 32);
}

TEST(Scram, NonceWithACommaIsRefused) {
  ScramClient client(Mechanism::kScramSha256, "user", "pencil", with_nonce("a,b"));
  EXPECT_EQ(expect_error([&] { client.client_first(); }).code(),
            make_error_code(errc::invalid_argument));
}

// --- the key cache ----------------------------------------------------------------------------

TEST(ScramKeyCache, SecondConversationWithTheSameSaltSkipsPbkdf2) {
  auto cache = std::make_shared<KeyCache>();
  const auto before = crypto::pbkdf2_calls();
  sha256_after_client_final(cache);
  EXPECT_EQ(crypto::pbkdf2_calls(), before + 1);
  EXPECT_EQ(cache->size(), 1u);

  // Same cache, same salt and count: the keys come from the cache, and they are right (the
  // server's signature verifies).
  auto second = sha256_after_client_final(cache);
  EXPECT_EQ(crypto::pbkdf2_calls(), before + 1);
  EXPECT_TRUE(std::holds_alternative<Done>(second.feed(sasl_reply(1, true, kSha256.server_final))));

  // Another salt: derived again.
  auto other_salt =
      make_conversation(user_pencil(), Mechanism::kScramSha256, with_nonce(kSha256.nonce, cache));
  other_salt.first_command();
  expect_command(other_salt.feed(sasl_reply(
      1, false,
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=AAAAAAAAAAAAAAAAAAAAAA==,i=4096")));
  EXPECT_EQ(crypto::pbkdf2_calls(), before + 2);
  EXPECT_EQ(cache->size(), 2u);
}

TEST(ScramKeyCache, WithoutACacheEveryConversationDerives) {
  const auto before = crypto::pbkdf2_calls();
  sha256_after_client_final();
  sha256_after_client_final();
  EXPECT_EQ(crypto::pbkdf2_calls(), before + 2);
}

TEST(ScramKeyCache, KeyedByMechanismPasswordSaltAndCount) {
  KeyCache cache;
  KeyCache::Key key{Mechanism::kScramSha256, "pencil", {1, 2, 3}, 4096};
  cache.insert(key, ScramKeys{{1}, {2}});
  ASSERT_TRUE(cache.find(key));
  EXPECT_EQ(cache.find(key)->client_key, std::vector<std::uint8_t>{1});
  auto other = key;
  other.mechanism = Mechanism::kScramSha1;
  EXPECT_FALSE(cache.find(other));
  other = key;
  other.password = "pencil2";
  EXPECT_FALSE(cache.find(other));
  other = key;
  other.salt = {1, 2, 4};
  EXPECT_FALSE(cache.find(other));
  other = key;
  other.iterations = 4097;
  EXPECT_FALSE(cache.find(other));
  // Inserting the same key again replaces it.
  cache.insert(key, ScramKeys{{9}, {9}});
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find(key)->client_key, std::vector<std::uint8_t>{9});
}

TEST(ScramKeyCache, BoundedOldestEntryGoesFirst) {
  KeyCache cache;
  auto key_of = [](std::uint32_t i) {
    return KeyCache::Key{Mechanism::kScramSha256, "pencil", {1}, 4096 + i};
  };
  for (std::uint32_t i = 0; i <= KeyCache::kMaxEntries; ++i) cache.insert(key_of(i), {{1}, {2}});
  EXPECT_EQ(cache.size(), KeyCache::kMaxEntries);
  EXPECT_FALSE(cache.find(key_of(0)));
  EXPECT_TRUE(cache.find(key_of(1)));
  EXPECT_TRUE(cache.find(key_of(KeyCache::kMaxEntries)));
}

TEST(ScramKeyCache, SharedByConnectionsOnManyThreads) {
  // The test's threads stand for connections; auth/ itself has none.
  KeyCache cache;
  std::vector<std::thread> threads;
  for (std::uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (std::uint32_t i = 0; i < 200; ++i) {
        KeyCache::Key key{
            Mechanism::kScramSha256, "pencil", {static_cast<std::uint8_t>(t)}, 4096 + i};
        cache.insert(key, ScramKeys{{static_cast<std::uint8_t>(t)}, {2}});
        auto found = cache.find(key);
        // It may have been pushed out by the others already; when found it is this thread's.
        if (found)
          EXPECT_EQ(found->client_key, std::vector<std::uint8_t>{static_cast<std::uint8_t>(t)});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(cache.size(), KeyCache::kMaxEntries);
}

}  // namespace
}  // namespace mongoslice::auth
