// TLS against a real server: FerretDB listening in TLS only, started by the ctest fixtures
// ferretdb_tls (no client certificate asked) and ferretdb_tls_client_cert (a client certificate
// required), both with the certificates of tests/support/make_test_certs.sh in STATE/certs
// (integration/ferretdb.sh start-tls). Connection by host name and by IP literal, each
// verification failure the real server can show, and CRUD through a Topology built from the TLS
// URI (its monitor and its pool both over TLS). MongoClient refuses TLS URIs until
// driver/uri_support.hpp's kTls says both engines speak TLS; the client test checks whichever
// holds.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>

#include "driver/topology.hpp"
#include "driver/uri_support.hpp"
#include "mongoslice.hpp"
#include "net/connection.hpp"
#include "support/expect_error.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::expect_error;
using ::testing::HasSubstr;
using ::testing::Not;

// One of the TLS fixtures: its STATE_DIR holds `uri` and `certs/`.
struct TlsServer {
  std::string state;

  std::string uri() const {
    std::ifstream in(state + "/uri");
    std::string uri;
    std::getline(in, uri);
    if (uri.empty()) {
      throw std::runtime_error("no URI in " + state +
                               "/uri: run the suite through ctest (its ferretdb_tls fixtures "
                               "start FerretDB with TLS), e.g. `ctest --test-dir <build> -L "
                               "integration`; if FerretDB is missing, run scripts/setup.sh");
    }
    return uri;
  }
  // ferretdb.sh writes mongodb://localhost:PORT/?tls=true&...
  std::uint16_t port() const {
    const std::string u = uri();
    const auto colon = u.find(':', std::string("mongodb://").size());
    return static_cast<std::uint16_t>(std::stoi(u.substr(colon + 1)));
  }
  std::string cert(const std::string& name) const { return state + "/certs/" + name; }
  std::string log() const {
    std::ifstream in(state + "/ferretdb.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
};

TlsServer tls_server() {
  return {MONGOSLICE_FERRETDB_TLS_STATE};
}
TlsServer client_cert_server() {
  return {MONGOSLICE_FERRETDB_TLS_CLIENT_CERT_STATE};
}

ConnectionOptions options_for(const TlsServer& server) {
  ConnectionOptions options;
  options.connect_timeout = 10s;
  options.socket_timeout = 10s;
  options.app_name = "tls_test";
  options.tls = TlsOptions{};
  options.tls->ca_file = server.cert("ca.pem");
  return options;
}

bson::Document ping() {
  return bson::Builder{}.append("ping", 1).build();
}

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

// Builds the topology from the fixture's TLS URI (tls=true, tlsCAFile, and tlsCertificateKeyFile
// for the client-certificate server): selecting a server needs its monitor's hello over TLS, and
// the commands run on a pooled TLS connection.
void crud_through_topology(const TlsServer& server, const std::string& collection) {
  const auto uri = ConnectionString::parse(server.uri() + "&serverSelectionTimeoutMS=10000");
  ASSERT_TRUE(uri.tls);
  auto topology = Topology::create(uri, std::make_shared<const EventDispatcher>());
  topology->open();
  auto selected = topology->select_server_for_writes();
  EXPECT_EQ(selected.address.host, "localhost");
  auto lease = selected.pool->acquire();
  auto run = [&](const std::string& command) {
    return lease->run_command("tls_it", json(command).view());
  };
  run(R"({"delete": ")" + collection + R"(", "deletes": [{"q": {}, "limit": 0}]})");
  auto inserted = run(R"({"insert": ")" + collection +
                      R"(", "documents": [{"_id": 1, "x": "over TLS"}, {"_id": 2}]})");
  EXPECT_EQ(inserted["n"].as_int64(), 2) << inserted.to_json();
  auto updated = run(R"({"update": ")" + collection +
                     R"(", "updates": [{"q": {"_id": 2}, "u": {"$set": {"y": 3}}}]})");
  EXPECT_EQ(updated["nModified"].as_int64(), 1) << updated.to_json();
  auto found = run(R"({"find": ")" + collection + R"(", "filter": {"_id": 1}})");
  const bson::View batch = found["cursor"].get_document()["firstBatch"].get_array();
  ASSERT_FALSE(batch.begin() == batch.end()) << found.to_json();
  EXPECT_EQ(bson::View((*batch.begin()).get_document())["x"].get_string(), "over TLS");
  auto deleted = run(R"({"delete": ")" + collection + R"(", "deletes": [{"q": {}, "limit": 0}]})");
  EXPECT_EQ(deleted["n"].as_int64(), 2) << deleted.to_json();
  lease = {};
  topology->close();
  // FerretDB listens in TLS only: these commands came through it.
  EXPECT_THAT(server.log(), HasSubstr("\"over TLS\""));
}

// CRUD through MongoClient once driver/uri_support.hpp says TLS is supported (kTls); until then
// the client must refuse the URI with a clear error, never connect in plaintext.
void mongo_client_crud(const TlsServer& server, const std::string& collection) {
  if constexpr (!uri_support::kTls) {
    auto error = expect_error([&] { MongoClient client(server.uri()); });
    EXPECT_EQ(error.code(), errc::invalid_uri) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("TLS"));
  } else {
    MongoClient client(server.uri());
    auto coll = client["tls_it"][collection];
    coll.drop();
    coll.insert_one(json(R"({"_id": 1, "x": "through MongoClient over TLS"})"));
    coll.insert_one(json(R"({"_id": 2})"));
    auto found = coll.find_one(json(R"({"_id": 1})"));
    ASSERT_TRUE(found);
    EXPECT_EQ((*found)["x"].get_string(), "through MongoClient over TLS");
    EXPECT_EQ(coll.update_one(json(R"({"_id": 2})"), json(R"({"$set": {"y": 3}})")).modified_count,
              1);
    EXPECT_EQ(coll.count_documents(json(R"({"y": 3})")), 1);
    EXPECT_EQ(coll.delete_many(json("{}")).deleted_count, 2);
    coll.drop();
  }
}

// --- ferretdb_tls: TLS, no client certificate asked for ---------------------------------------

TEST(TlsFerretDB, HandshakeAndPingByHostNameAndByIpLiteral) {
  const auto server = tls_server();
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    Connection conn({host, server.port()}, options_for(server));
    conn.connect();
    EXPECT_GE(conn.max_wire_version(), 8) << conn.hello_reply().to_json();
    EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
  }
}

TEST(TlsFerretDB, PlaintextToTheTlsPortIsRefused) {
  const auto server = tls_server();
  auto options = options_for(server);
  options.tls.reset();
  Connection conn({"127.0.0.1", server.port()}, options);
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_NE(error.code(), errc::timeout) << error.what();
  EXPECT_FALSE(conn.is_open());
}

TEST(TlsFerretDB, UnknownCaIsAClearError) {
  const auto server = tls_server();
  auto options = options_for(server);
  options.tls->ca_file = server.cert("other-ca.pem");
  Connection conn({"localhost", server.port()}, options);
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(),
              HasSubstr("TLS handshake with localhost:" + std::to_string(server.port())));
  EXPECT_THAT(error.what(), HasSubstr("is not trusted"));
  EXPECT_THAT(error.what(), HasSubstr("tlsCAFile " + server.cert("other-ca.pem")));
}

// The server's certificate names localhost, 127.0.0.1 and ::1. The IPv4-mapped IPv6 address of
// 127.0.0.1 reaches the same listener under an address the certificate does not name.
TEST(TlsFerretDB, IpMismatchIsAClearErrorAndAllowInvalidHostnamesAcceptsIt) {
  const auto server = tls_server();
  const HostAndPort mapped{"::ffff:127.0.0.1", server.port()};
  {
    Connection conn(mapped, options_for(server));
    auto error = expect_error([&] { conn.connect(); });
    EXPECT_EQ(error.code(), errc::network_error) << error.what();
    EXPECT_THAT(error.what(), HasSubstr(mapped.to_string()));
    EXPECT_THAT(error.what(), HasSubstr("does not name the IP address ::ffff:127.0.0.1"));
    EXPECT_THAT(error.what(), HasSubstr("DNS:localhost, IP:127.0.0.1, IP:::1"));
  }
  auto options = options_for(server);
  options.tls->allow_invalid_hostnames = true;
  Connection conn(mapped, options);
  conn.connect();
  EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
}

TEST(TlsFerretDB, CrudThroughTheTopologysMonitorAndPool) {
  crud_through_topology(tls_server(), "crud");
}

TEST(TlsFerretDB, MongoClientCrudOrAClearRefusal) {
  mongo_client_crud(tls_server(), "client_crud");
}

// --- ferretdb_tls_client_cert: a client certificate required ----------------------------------

TEST(TlsClientCertFerretDB, NoClientCertificateIsAClearError) {
  const auto server = client_cert_server();
  Connection conn({"localhost", server.port()}, options_for(server));
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(), HasSubstr("localhost:" + std::to_string(server.port())));
  EXPECT_THAT(error.what(), HasSubstr("the server requires a client certificate"));
  EXPECT_FALSE(conn.is_open());
}

TEST(TlsClientCertFerretDB, ClientCertificatePlainAndEncryptedAreAccepted) {
  const auto server = client_cert_server();
  for (bool encrypted : {false, true}) {
    SCOPED_TRACE(encrypted ? "encrypted key" : "plain key");
    auto options = options_for(server);
    options.tls->certificate_key_file =
        server.cert(encrypted ? "client-encrypted.pem" : "client.pem");
    if (encrypted) options.tls->certificate_key_password = "test-key-password";
    Connection conn({"localhost", server.port()}, options);
    conn.connect();
    EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
  }
}

TEST(TlsClientCertFerretDB, WrongKeyPasswordIsAClearError) {
  const auto server = client_cert_server();
  auto options = options_for(server);
  options.tls->certificate_key_file = server.cert("client-encrypted.pem");
  options.tls->certificate_key_password = "wrong-password";
  Connection conn({"localhost", server.port()}, options);
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::invalid_argument) << error.what();
  EXPECT_THAT(error.what(), HasSubstr("cannot be decrypted"));
  EXPECT_THAT(error.what(), Not(HasSubstr("wrong-password")));
}

TEST(TlsClientCertFerretDB, CrudThroughTheTopologysMonitorAndPool) {
  crud_through_topology(client_cert_server(), "crud_client_cert");
}

TEST(TlsClientCertFerretDB, MongoClientCrudOrAClearRefusal) {
  mongo_client_crud(client_cert_server(), "client_crud_client_cert");
}

}  // namespace
}  // namespace mongoslice
