// Authentication against a real server: FerretDB with authentication required (ctest fixture
// ferretdb_auth, integration/ferretdb.sh start-auth), its one user's name and password in
// STATE/user and STATE/password. The password holds URI-reserved and non-ASCII characters, so
// the URI carries it percent-encoded. SCRAM-SHA-256 and SCRAM-SHA-1, named and negotiated; a
// wrong password and no credential refused by the server with the error the user should see;
// the key cache sparing PBKDF2 on the client's later connections. PLAIN is not tested here:
// FerretDB's new authentication refuses it ("Unsupported authentication mechanism").

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/crypto.hpp"
#include "auth_server.hpp"
#include "mongoslice.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using testing::AuthServer;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::percent_encoded;

void crud_round_trip(MongoClient& client, const std::string& collection) {
  Collection coll = client.database("auth_it").collection(collection);
  coll.drop();
  coll.insert_one(bson::Builder{}.append("_id", 1).append("who", "authenticated").build());
  auto doc = coll.find_one(bson::Builder{}.append("_id", 1).build());
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ((*doc)["who"].get_string(), "authenticated");
  coll.drop();
}

TEST(AuthFerretDB, ScramSha256Named) {
  AuthServer server;
  MongoClient client(server.uri_as(server.password(), "?authMechanism=SCRAM-SHA-256"));
  crud_round_trip(client, "sha256");
}

TEST(AuthFerretDB, ScramSha1Named) {
  AuthServer server;
  MongoClient client(server.uri_as(server.password(), "?authMechanism=SCRAM-SHA-1"));
  crud_round_trip(client, "sha1");
}

TEST(AuthFerretDB, MechanismNegotiatedWhenTheUriNamesNone) {
  AuthServer server;
  MongoClient client(server.uri_as(server.password(), "?authSource=admin"));
  crud_round_trip(client, "negotiated");
}

TEST(AuthFerretDB, AWrongPasswordIsAnAuthenticationErrorWithoutThePassword) {
  AuthServer server;
  const std::string wrong = "not-the-Passw0rd-" + server.password();
  MongoClient client(server.uri_as(wrong, "?serverSelectionTimeoutMS=2000"));
  try {
    client.database("auth_it").collection("wrong").find_one(bson::Document());
    ADD_FAILURE() << "the operation succeeded with a wrong password";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("uthentication")) << what;  // "Authentication failed"
    EXPECT_THAT(what, Not(HasSubstr(wrong)));
    EXPECT_THAT(what, Not(HasSubstr(percent_encoded(wrong))));
  }
}

TEST(AuthFerretDB, NoCredentialIsRefusedByTheServer) {
  AuthServer server;
  MongoClient client(server.base());
  try {
    client.database("auth_it").collection("none").find_one(bson::Document());
    ADD_FAILURE() << "the server answered an unauthenticated find";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 13) << e.what();  // Unauthorized
  }
}

TEST(AuthFerretDB, LaterConnectionsReuseTheDerivedKeys) {
  AuthServer server;
  MongoClient client(server.uri_as(server.password(), "?authMechanism=SCRAM-SHA-256"));
  Collection coll = client.database("auth_it").collection("cache");
  const std::uint64_t before_first = auth::crypto::pbkdf2_calls();
  coll.drop();  // the client's first operation: its first pooled connection
  coll.insert_one(bson::Builder{}.append("_id", 0).build());
  const std::uint64_t after_first = auth::crypto::pbkdf2_calls();
  EXPECT_EQ(after_first - before_first, 1u) << "the first connection derives the keys once";
  // Eight threads at once make the pool open more connections, each authenticating.
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&coll, t] {
      for (int i = 0; i < 5; ++i) {
        coll.insert_one(bson::Builder{}.append("_id", 1 + t * 10 + i).build());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(coll.count_documents(bson::Document()), 41);
  EXPECT_EQ(auth::crypto::pbkdf2_calls(), after_first) << "a later connection ran PBKDF2 again";
  coll.drop();
}

}  // namespace
}  // namespace mongoslice
