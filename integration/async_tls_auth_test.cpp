// The async engine over TLS and with authentication, against the real FerretDB fixtures of
// tls_test.cpp (ferretdb_tls, ferretdb_tls_client_cert: TLS only) and auth_test.cpp
// (ferretdb_auth: authentication required). Through MongoClient's async_ operations, whose
// connections are the async pool's AsyncConnections, and AsyncConnection itself for the
// failures that must show on that connection (an unknown CA, a missing client certificate, a
// wrong password).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "auth_server.hpp"
#include "mongoslice.hpp"
#include "net/async_connection.hpp"
#include "run_awaitable.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;
using ::testing::Not;

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (line.empty()) throw std::runtime_error("nothing in " + path + ": run through ctest");
  return line;
}

using testing::run;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

// insert, find, update, count, delete through the async twins; returns the document found.
asio::awaitable<std::string> async_crud(Collection coll) {
  co_await coll.async_drop(asio::use_awaitable);
  co_await coll.async_insert_one(json(R"({"_id": 1, "x": "async"})"), asio::use_awaitable);
  co_await coll.async_insert_one(json(R"({"_id": 2})"), asio::use_awaitable);
  auto found = co_await coll.async_find_one(json(R"({"_id": 1})"), asio::use_awaitable);
  auto updated = co_await coll.async_update_one(json(R"({"_id": 2})"),
                                                json(R"({"$set": {"y": 3}})"), asio::use_awaitable);
  auto counted = co_await coll.async_count_documents(json(R"({"y": 3})"), asio::use_awaitable);
  auto deleted = co_await coll.async_delete_many(json("{}"), asio::use_awaitable);
  co_await coll.async_drop(asio::use_awaitable);
  co_return (found ? std::string((*found)["x"].get_string()) : std::string("none")) + " " +
      std::to_string(updated.modified_count) + " " + std::to_string(counted) + " " +
      std::to_string(deleted.deleted_count);
}

// ---- TLS -------------------------------------------------------------------------------------

std::string tls_state() {
  return MONGOSLICE_FERRETDB_TLS_STATE;
}
std::uint16_t port_of(const std::string& uri) {
  const auto colon = uri.find(':', std::string("mongodb://").size());
  return static_cast<std::uint16_t>(std::stoi(uri.substr(colon + 1)));
}

TEST(TlsFerretDB, AsyncCrudOverTls) {
  asio::io_context io;
  MongoClient client(read_line(tls_state() + "/uri"));
  EXPECT_EQ(run(io, async_crud(client["tls_it"]["async_crud"])), "async 1 1 2");
}

// An AsyncConnection of the given TLS options to the fixture's server, connected on `io`.
asio::awaitable<void> connect_async(std::shared_ptr<AsyncConnection> conn) {
  co_await conn->connect();
}

std::shared_ptr<AsyncConnection> tls_connection(asio::io_context& io, const std::string& state,
                                                TlsOptions tls) {
  auto options = std::make_shared<ConnectionOptions>();
  options->connect_timeout = std::chrono::milliseconds(10'000);
  options->tls = std::move(tls);
  return std::make_shared<AsyncConnection>(
      io.get_executor(), HostAndPort{"localhost", port_of(read_line(state + "/uri"))}, options);
}

TEST(TlsFerretDB, AsyncConnectionNamesAnUnknownCa) {
  asio::io_context io;
  TlsOptions tls;
  tls.ca_file = tls_state() + "/certs/other-ca.pem";
  auto conn = tls_connection(io, tls_state(), tls);
  try {
    run(io, connect_async(conn));
    ADD_FAILURE() << "connected with an untrusted certificate";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::network_error)) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("TLS handshake with localhost:"));
    EXPECT_THAT(e.what(), HasSubstr("not trusted"));
  }
  EXPECT_FALSE(conn->is_open());
}

TEST(TlsClientCertFerretDB, AsyncConnectionNamesAMissingClientCertificate) {
  asio::io_context io;
  const std::string state = MONGOSLICE_FERRETDB_TLS_CLIENT_CERT_STATE;
  TlsOptions tls;
  tls.ca_file = state + "/certs/ca.pem";
  auto conn = tls_connection(io, state, tls);
  try {
    run(io, connect_async(conn));
    ADD_FAILURE() << "connected without the client certificate the server requires";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("client certificate")) << e.what();
  }
  EXPECT_FALSE(conn->is_open());
}

TEST(TlsClientCertFerretDB, AWrongKeyPasswordFailsAtClientConstruction) {
  const std::string state = MONGOSLICE_FERRETDB_TLS_CLIENT_CERT_STATE;
  const std::string uri =
      "mongodb://localhost:" + std::to_string(port_of(read_line(state + "/uri"))) +
      "/?tls=true&tlsCAFile=" + state + "/certs/ca.pem&tlsCertificateKeyFile=" + state +
      "/certs/client-encrypted.pem&tlsCertificateKeyFilePassword=nope-42";
  try {
    MongoClient client(uri);
    ADD_FAILURE() << "a client was made with a key it cannot decrypt";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("client-encrypted.pem"));
    EXPECT_THAT(e.what(), Not(HasSubstr("nope-42")));
  }
}

TEST(TlsClientCertFerretDB, AsyncCrudWithAClientCertificate) {
  asio::io_context io;
  const std::string state = MONGOSLICE_FERRETDB_TLS_CLIENT_CERT_STATE;
  MongoClient client(read_line(state + "/uri"));  // names tlsCertificateKeyFile
  EXPECT_EQ(run(io, async_crud(client["tls_it"]["async_crud_cert"])), "async 1 1 2");
}

// ---- authentication --------------------------------------------------------------------------

// The credential's URI of the authentication fixture (auth_server.hpp).
std::string auth_uri(const std::string& password, const std::string& query) {
  return testing::AuthServer().uri_as(password, query);
}
std::string auth_password() {
  return testing::AuthServer().password();
}

TEST(AuthFerretDB, AsyncCrudAuthenticatedWithEachMechanism) {
  for (const char* mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    SCOPED_TRACE(mechanism);
    asio::io_context io;
    MongoClient client(auth_uri(auth_password(), std::string("?authMechanism=") + mechanism));
    EXPECT_EQ(run(io, async_crud(client["auth_it"]["async_crud"])), "async 1 1 2");
  }
}

TEST(AuthFerretDB, AsyncConnectionRefusesAWrongPasswordWithoutShowingIt) {
  asio::io_context io;
  const std::string wrong = "wrong-" + auth_password();
  const auto uri = ConnectionString::parse(auth_uri(wrong, ""));
  ASSERT_TRUE(uri.credential);
  auto options = std::make_shared<ConnectionOptions>();
  options->credential = uri.credential;
  auto conn = std::make_shared<AsyncConnection>(io.get_executor(), uri.hosts.front(), options);
  try {
    run(io, connect_async(conn));
    ADD_FAILURE() << "authenticated with a wrong password";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 18) << e.what();  // AuthenticationFailed
    EXPECT_THAT(e.what(), Not(HasSubstr(wrong)));
  }
  EXPECT_FALSE(conn->is_open());
}

}  // namespace
}  // namespace mongoslice
