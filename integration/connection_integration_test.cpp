// Connection against real servers: the FerretDB the ctest fixture started (or MONGODB_URI's
// mongod), and scripted mock servers for the faults a real server will not produce on demand.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "driver/connection.hpp"
#include "support/expect_error.hpp"
#include "support/test_servers.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using integration::MockServer;
using ::testing::AnyOf;
using ::testing::HasSubstr;

ConnectionOptions bounded(std::chrono::milliseconds socket_timeout = 10s) {
  ConnectionOptions options;
  options.connect_timeout = 10s;
  options.socket_timeout = socket_timeout;
  options.app_name = "connection_integration_test";
  return options;
}

bson::Document ping() {
  return bson::Builder{}.append("ping", 1).build();
}

using testing::expect_error;

// --- FerretDB (or a real mongod) ------------------------------------------------------------

TEST(ConnectionFerretDB, HandshakeReportsServerLimits) {
  Connection conn(integration::ferretdb_address(), bounded());
  conn.connect();
  EXPECT_TRUE(conn.is_open());
  EXPECT_GE(conn.max_wire_version(), 8) << conn.hello_reply().to_json();
  EXPECT_GE(conn.max_bson_object_size(), 16 * 1024 * 1024) << conn.hello_reply().to_json();
  EXPECT_GE(conn.max_message_size_bytes(), conn.max_bson_object_size());
  EXPECT_GT(conn.max_write_batch_size(), 0);
  EXPECT_TRUE(conn.hello_reply()["ok"].as_bool());
  EXPECT_GT(conn.handshake_rtt().count(), 0);
}

TEST(ConnectionFerretDB, Ping) {
  Connection conn(integration::ferretdb_address(), bounded());
  conn.connect();
  auto reply = conn.run_command("admin", ping());
  EXPECT_EQ(reply["ok"].as_int64(), 1) << reply.to_json();
}

TEST(ConnectionFerretDB, InsertThenFindAsRawCommands) {
  Connection conn(integration::ferretdb_address(), bounded());
  conn.connect();
  const std::string coll = "connection_it_" + std::to_string(::getpid());
  try {
    conn.run_command("mongoslice_test", bson::Builder{}.append("drop", coll).build());
  } catch (const ServerError&) {
    // NamespaceNotFound on a fresh database: nothing to drop.
  }

  // Documents in the body (an array)...
  auto insert = bson::Document::from_json(R"({"insert": ")" + coll + R"(", "documents": [
      {"_id": 1, "name": "ada"}, {"_id": 2, "name": "grace"}]})");
  auto inserted = conn.run_command("mongoslice_test", insert);
  EXPECT_EQ(inserted["n"].as_int64(), 2) << inserted.to_json();

  // ...and in a kind-1 document sequence, as drivers send them.
  auto third = bson::Document::from_json(R"({"_id": 3, "name": "barbara"})");
  bson::View docs[] = {third};
  wire::DocumentSequence sequence{"documents", docs};
  auto sequenced = conn.run_command(
      "mongoslice_test", bson::Builder{}.append("insert", coll).build(), std::span(&sequence, 1));
  EXPECT_EQ(sequenced["n"].as_int64(), 1) << sequenced.to_json();

  auto found = conn.run_command(
      "mongoslice_test",
      bson::Document::from_json(R"({"find": ")" + coll + R"(", "filter": {"_id": {"$gte": 2}},
                                   "sort": {"_id": 1}})"));
  auto cursor = found["cursor"].get_document();
  EXPECT_EQ(cursor["id"].as_int64(), 0);
  EXPECT_EQ(cursor["ns"].get_string(), "mongoslice_test." + coll);
  std::vector<std::string> names;
  for (auto doc : cursor["firstBatch"].get_array()) {
    names.emplace_back(doc.get_document()["name"].get_string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"grace", "barbara"}));

  conn.run_command("mongoslice_test", bson::Builder{}.append("drop", coll).build());
}

TEST(ConnectionFerretDB, UnknownCommandIsServerErrorAndConnectionSurvives) {
  Connection conn(integration::ferretdb_address(), bounded());
  conn.connect();
  try {
    conn.run_command("admin", bson::Builder{}.append("noSuchCommandAtAll", 1).build());
    ADD_FAILURE() << "no ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 59) << e.what();
    EXPECT_EQ(e.code_name(), "CommandNotFound");
    EXPECT_FALSE(e.errmsg().empty());
  }
  EXPECT_TRUE(conn.is_open());
  EXPECT_EQ(conn.run_command("admin", ping())["ok"].as_int64(), 1);
}

// --- scripted faults -------------------------------------------------------------------------

TEST(ConnectionMock, ServerThatNeverRepliesTimesOutNamingAddress) {
  MockServer server("hang.py");
  Connection conn(server.address(), bounded(200ms));
  conn.connect();
  EXPECT_EQ(conn.max_wire_version(), 21);
  auto error = expect_error([&] { conn.run_command("admin", ping()); });
  EXPECT_EQ(error.code(), errc::timeout) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(server.address().to_string()));
  EXPECT_THAT(error.what(), HasSubstr("200 ms (socketTimeoutMS)"));
  EXPECT_FALSE(conn.is_open());
}

TEST(ConnectionMock, CloseMidReplyIsAConnectionError) {
  MockServer server("close_mid_reply.py");
  Connection conn(server.address(), bounded());
  conn.connect();
  auto error = expect_error([&] { conn.run_command("admin", ping()); });
  EXPECT_THAT(error.code(),
              AnyOf(std::error_code(errc::connection_closed), std::error_code(errc::network_error)))
      << error.what();
  EXPECT_THAT(error.what(), HasSubstr(server.address().to_string()));
  EXPECT_FALSE(conn.is_open());
}

TEST(ConnectionMock, GarbageReplyIsAWireError) {
  MockServer server("garbage.py");
  Connection conn(server.address(), bounded());
  conn.connect();
  auto error = expect_error([&] { conn.run_command("admin", ping()); });
  EXPECT_EQ(error.code().category(), client_category()) << error.what();
  EXPECT_LT(error.code().value(), 100) << "not a wire errc: " << error.what();
  EXPECT_THAT(error.what(), HasSubstr(server.address().to_string()));
  EXPECT_FALSE(conn.is_open());
}

TEST(ConnectionMock, ErrorReplyIsServerErrorWithItsFields) {
  MockServer server("error_reply.py");
  Connection conn(server.address(), bounded());
  conn.connect();
  try {
    conn.run_command("admin", ping());
    ADD_FAILURE() << "no ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 2);
    EXPECT_EQ(e.code_name(), "BadValue");
    EXPECT_EQ(e.errmsg(), "mock error_reply.py refuses every command");
  }
  EXPECT_TRUE(conn.is_open());
}

}  // namespace
}  // namespace mongoslice
