// Connection against real servers: the FerretDB the ctest fixture started (or MONGODB_URI's
// mongod), and scripted mock servers for the faults a real server will not produce on demand.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "driver/connection_checker.hpp"
#include "net/connection.hpp"
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

// FerretDB's debug log shows each request: a "Request header: ... opcode: OP_QUERY" line, the
// message (its command as JSON), and on every line the connection's name. These find, for a
// connection whose handshake named `app_name`, the opcode and command of each request on it.
struct LoggedRequest {
  std::string opcode;   // "OP_QUERY", "OP_MSG"
  std::string message;  // the request as the log renders it
};

std::string read_ferretdb_log() {
  std::ifstream in(std::string(MONGOSLICE_FERRETDB_STATE) + "/ferretdb.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The requests of the connection whose handshake carried `app_name`, in order, once at least
// `count` of them are in the log (the log is polled for up to 10 s); fewer if they never came.
std::vector<LoggedRequest> logged_requests(const std::string& app_name, std::size_t count) {
  std::vector<LoggedRequest> requests;
  for (int attempt = 0; attempt < 100; ++attempt) {
    requests.clear();
    const std::string log = read_ferretdb_log();
    const auto named = log.find("\"" + app_name + "\"");
    const auto header = named == std::string::npos ? named : log.rfind("Request header:", named);
    if (header != std::string::npos) {
      const auto line_end = log.find('\n', header);
      const std::string line = log.substr(header, line_end - header);
      const auto tag_at = line.find("{\"name\":");
      const std::string tag = tag_at == std::string::npos ? "" : line.substr(tag_at);
      for (auto at = header; !tag.empty() && at != std::string::npos;
           at = log.find("Request header:", at + 1)) {
        const auto end = log.find('\n', at);
        const std::string this_line = log.substr(at, end - at);
        if (this_line.find(tag) == std::string::npos) continue;  // another connection
        const auto opcode_at = this_line.find("opcode: ");
        const auto tab = this_line.find('\t', opcode_at);
        const auto response = log.find("Response header:", end);
        requests.push_back(
            {this_line.substr(opcode_at + 8, tab - opcode_at - 8),
             log.substr(end, response == std::string::npos ? std::string::npos : response - end)});
      }
    }
    if (requests.size() >= count) break;
    std::this_thread::sleep_for(100ms);
  }
  return requests;
}

// The handshake goes over OP_QUERY (the legacy hello), FerretDB's reply says helloOk: true, and
// so the monitor's later checks on that connection are `hello` over OP_MSG.
TEST(ConnectionFerretDB, HandshakeIsOpQueryAndLaterChecksUseHello) {
  if (std::getenv("MONGODB_URI") != nullptr) {
    GTEST_SKIP() << "reads FerretDB's request log; a mongod given by MONGODB_URI has none";
  }
  const std::string app_name = "handshake_it_" + std::to_string(::getpid());
  ConnectionOptions options = bounded();
  options.app_name = app_name;
  {
    Connection conn(integration::ferretdb_address(), options);
    conn.connect();
    EXPECT_TRUE(conn.hello_ok()) << conn.hello_reply().to_json();
  }
  const std::string checker_app = app_name + "_monitor";
  options.app_name = checker_app;
  ConnectionChecker checker(integration::ferretdb_address(), options);
  for (int i = 0; i < 3; ++i) {
    auto result = checker.check();
    EXPECT_TRUE(result.reply["ok"].as_bool()) << result.reply.to_json();
  }

  auto connection = logged_requests(app_name, 1);
  ASSERT_EQ(connection.size(), 1u) << "the handshake of " << app_name << " is not in the log";
  EXPECT_EQ(connection[0].opcode, "OP_QUERY");
  EXPECT_THAT(connection[0].message, HasSubstr("\"isMaster\": 1"));
  EXPECT_THAT(connection[0].message, HasSubstr("\"helloOk\": true"));

  auto monitoring = logged_requests(checker_app, 3);
  ASSERT_EQ(monitoring.size(), 3u) << "the monitor's handshake and two checks, one connection";
  EXPECT_EQ(monitoring[0].opcode, "OP_QUERY");
  EXPECT_THAT(monitoring[0].message, HasSubstr("\"isMaster\": 1"));
  for (std::size_t i = 1; i < monitoring.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(monitoring[i].opcode, "OP_MSG");
    EXPECT_THAT(monitoring[i].message, HasSubstr("\"hello\": 1"));
  }
}

// mongo-java-server (wire version 8, MongoDB 4.2) has no `hello`: its handshake reply has no
// helloOk, and a monitor must keep to isMaster, check after check. (The suite is parameterized
// only so that its name ends in /JavaServer, which gives it the javaserver fixture.)
class ConnectionLegacyServer : public ::testing::TestWithParam<std::string> {};

TEST_P(ConnectionLegacyServer, HandshakeWithoutHelloOkAndChecksThatKeepToIsMaster) {
  const HostAndPort address = integration::javaserver_address();
  {
    Connection conn(address, bounded());
    conn.connect();
    EXPECT_FALSE(conn.hello_ok()) << conn.hello_reply().to_json();
    EXPECT_EQ(conn.max_wire_version(), 8) << conn.hello_reply().to_json();
    // What the monitor would get if it sent `hello` anyway.
    try {
      conn.run_command("admin", bson::Builder{}.append("hello", 1).build());
      ADD_FAILURE() << "mongo-java-server learned hello: this test no longer covers the case";
    } catch (const ServerError& e) {
      EXPECT_EQ(e.server_code(), 59) << e.what();
    }
  }
  ConnectionChecker checker(address, bounded());
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    auto result = checker.check();  // a failed check throws
    EXPECT_TRUE(result.reply["ok"].as_bool()) << result.reply.to_json();
    EXPECT_TRUE(result.reply["ismaster"].as_bool()) << result.reply.to_json();
  }
}

INSTANTIATE_TEST_SUITE_P(, ConnectionLegacyServer, ::testing::Values(std::string("JavaServer")),
                         [](const auto& info) { return info.param; });

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
