// Wire compression end to end, in both engines: against integration/mock/compressing_server.py
// (which negotiates, compresses its replies with Python's zlib, zstandard and cramjam's snappy,
// and records whether what it received was compressed as the spec says), and against FerretDB,
// which compresses nothing (the plain path must negotiate nothing and keep working).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "driver/mongo_client.hpp"
#include "net/async_connection.hpp"
#include "net/connection.hpp"
#include "run_awaitable.hpp"
#include "support/test_servers.hpp"
#include "wire/error.hpp"
#include "wire/op_compressed.hpp"

namespace mongoslice {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using integration::MockServer;
using ::testing::HasSubstr;
using wire::Compressor;

constexpr Compressor kCompressors[] = {Compressor::kZstd, Compressor::kSnappy, Compressor::kZlib};

using testing::run;

ConnectionOptions offering(std::vector<Compressor> compressors) {
  ConnectionOptions options;
  options.connect_timeout = 10s;
  options.socket_timeout = 20s;
  options.compressors = std::move(compressors);
  options.zlib_compression_level = 9;
  return options;
}

bson::Document doc(std::string_view json) {
  return bson::Document::from_json(json);
}

bson::Document big_find(int n, int size) {
  return bson::Builder{}.append("bigFind", 1).append("n", n).append("size", size).build();
}

// A command the mock echoes, large enough that compressing it matters.
bson::Document big_echo() {
  return bson::Builder{}.append("echoThis", 1).append("payload", std::string(200'000, 'e')).build();
}

// What the mock saw, and the check that it saw only what the spec allows.
struct MockStats {
  bson::Document reply;
  int compressed_with(Compressor c) const {
    auto n = reply["compressed"].get_document().find(std::to_string(static_cast<int>(c)));
    return n ? static_cast<int>(n->as_int64()) : 0;
  }
  int plain() const { return static_cast<int>(reply["plain"].as_int64()); }
  std::string violations() const { return reply["violations"].get_array().to_json(); }
  std::vector<std::string> offered() const {
    std::vector<std::string> names;
    for (const auto& name : reply["offered"].get_array()) names.emplace_back(name.get_string());
    return names;
  }
};

MockStats stats_of(bson::Document reply) {
  return MockStats{std::move(reply)};
}

const bson::Document kStats = doc(R"({"mockStats": 1})");

void expect_big_replies(const bson::Document& found, const bson::Document& echoed) {
  const auto batch = found["cursor"].get_document()["firstBatch"].get_array();
  int count = 0;
  for (const auto& d : batch) {
    EXPECT_EQ(d.get_document()["pad"].get_string().size(), 2 * 2500u + (count >= 10) * 2500u)
        << count;
    ++count;
  }
  EXPECT_EQ(count, 50);
  EXPECT_EQ(echoed["echo"].get_document()["payload"].get_string().size(), 200'000u);
}

// ---- the blocking engine ---------------------------------------------------------------------

TEST(CompressionMock, ConnectionNegotiatesAndCompressesWithEachCompressor) {
  for (const Compressor c : kCompressors) {
    SCOPED_TRACE(std::string(wire::name_of(c)));
    MockServer server("compressing_server.py", {"zstd,snappy,zlib"});
    Connection conn(server.address(), offering({c}));
    conn.connect();
    ASSERT_EQ(conn.compressor(), c);
    const auto found = conn.run_command("db", big_find(50, 10'000).view());
    const auto echoed = conn.run_command("db", big_echo().view());
    // A hello after the handshake (as a monitor sends) must go uncompressed.
    conn.run_command("admin", doc(R"({"hello": 1})").view());
    const auto stats = stats_of(conn.run_command("admin", kStats.view()));
    expect_big_replies(found, echoed);
    EXPECT_TRUE(stats.reply["violations"].get_array().empty()) << stats.violations();
    EXPECT_EQ(stats.compressed_with(c), 3);  // bigFind, echoThis, mockStats
    EXPECT_EQ(stats.plain(), 1);             // the hello
    EXPECT_EQ(stats.offered(), std::vector<std::string>{std::string(wire::name_of(c))});
  }
}

TEST(CompressionMock, TheClientsFirstChoiceThatTheServerHasWins) {
  MockServer server("compressing_server.py", {"zlib,snappy"});
  Connection conn(server.address(),
                  offering({Compressor::kZstd, Compressor::kSnappy, Compressor::kZlib}));
  conn.connect();
  EXPECT_EQ(conn.compressor(), Compressor::kSnappy);
  const auto stats = stats_of(conn.run_command("admin", kStats.view()));
  EXPECT_TRUE(stats.reply["violations"].get_array().empty()) << stats.violations();
  EXPECT_EQ(stats.compressed_with(Compressor::kSnappy), 1);
}

TEST(CompressionMock, AServerWithoutACommonCompressorGetsPlainMessages) {
  MockServer server("compressing_server.py", {"none"});
  Connection conn(server.address(), offering({Compressor::kZstd}));
  conn.connect();
  EXPECT_EQ(conn.compressor(), std::nullopt);
  conn.run_command("db", big_echo().view());
  const auto stats = stats_of(conn.run_command("admin", kStats.view()));
  EXPECT_TRUE(stats.reply["violations"].get_array().empty()) << stats.violations();
  EXPECT_EQ(stats.plain(), 2);
}

// Each hostile reply: the right wire error, naming the server, and the connection closed.
struct Hostile {
  const char* mode;
  errc expected;
};
constexpr Hostile kHostile[] = {{"bomb", errc::uncompressed_size_mismatch},
                                {"nested", errc::nested_compression},
                                {"unknown-id", errc::unknown_compressor},
                                {"truncated", errc::decompression_failed}};

TEST(CompressionMock, ConnectionClosesOnAHostileCompressedReply) {
  for (const auto& [mode, expected] : kHostile) {
    SCOPED_TRACE(mode);
    MockServer server("compressing_server.py", {"zstd", mode});
    Connection conn(server.address(), offering({Compressor::kZstd}));
    conn.connect();
    try {
      conn.run_command("admin", doc(R"({"ping": 1})").view());
      ADD_FAILURE() << "a hostile reply was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(expected)) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(server.address().to_string()));
    }
    EXPECT_FALSE(conn.is_open());
  }
}

// ---- the asynchronous engine -----------------------------------------------------------------

struct AsyncResults {
  std::optional<Compressor> chosen;
  bson::Document found, echoed, stats;
};

asio::awaitable<AsyncResults> async_session(std::shared_ptr<AsyncConnection> conn) {
  co_await conn->connect();
  AsyncResults results;
  results.chosen = conn->compressor();
  const auto find = big_find(50, 10'000);
  const auto echo = big_echo();
  const auto hello = doc(R"({"hello": 1})");
  results.found = co_await conn->run_command("db", find.view(), {});
  results.echoed = co_await conn->run_command("db", echo.view(), {});
  co_await conn->run_command("admin", hello.view(), {});
  results.stats = co_await conn->run_command("admin", kStats.view(), {});
  co_return results;
}

TEST(CompressionMock, AsyncConnectionNegotiatesAndCompressesWithEachCompressor) {
  for (const Compressor c : kCompressors) {
    SCOPED_TRACE(std::string(wire::name_of(c)));
    MockServer server("compressing_server.py", {"zstd,snappy,zlib"});
    asio::io_context io;
    auto options = std::make_shared<ConnectionOptions>(offering({c}));
    auto conn = std::make_shared<AsyncConnection>(io.get_executor(), server.address(), options);
    auto results = run(io, async_session(conn));
    ASSERT_EQ(results.chosen, c);
    expect_big_replies(results.found, results.echoed);
    const auto stats = stats_of(std::move(results.stats));
    EXPECT_TRUE(stats.reply["violations"].get_array().empty()) << stats.violations();
    EXPECT_EQ(stats.compressed_with(c), 3);
    EXPECT_EQ(stats.plain(), 1);
  }
}

asio::awaitable<void> async_ping(std::shared_ptr<AsyncConnection> conn) {
  co_await conn->connect();
  const auto ping = doc(R"({"ping": 1})");
  co_await conn->run_command("admin", ping.view(), {});
}

TEST(CompressionMock, AsyncConnectionClosesOnAHostileCompressedReply) {
  for (const auto& [mode, expected] : kHostile) {
    SCOPED_TRACE(mode);
    MockServer server("compressing_server.py", {"zstd", mode});
    asio::io_context io;
    auto options = std::make_shared<ConnectionOptions>(offering({Compressor::kZstd}));
    auto conn = std::make_shared<AsyncConnection>(io.get_executor(), server.address(), options);
    try {
      run(io, async_ping(conn));
      ADD_FAILURE() << "a hostile reply was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(expected)) << e.what();
    }
    EXPECT_FALSE(conn->is_open());
  }
}

// ---- the client: the URI option reaches pooled connections and monitors, both engines ---------

std::string mock_uri(const MockServer& server, std::string_view compressors) {
  return "mongodb://" + server.address().to_string() +
         "/?directConnection=true&compressors=" + std::string(compressors) +
         "&zlibCompressionLevel=1&serverSelectionTimeoutMS=10000";
}

TEST(CompressionMock, ClientCompressesWithTheUrisCompressors) {
  for (const Compressor c : kCompressors) {
    SCOPED_TRACE(std::string(wire::name_of(c)));
    MockServer server("compressing_server.py", {"zstd,snappy,zlib"});
    MongoClient client(mock_uri(server, "lz4," + std::string(wire::name_of(c))));
    const auto echoed = client["db"].run_command(big_echo().view());
    EXPECT_EQ(echoed["echo"].get_document()["payload"].get_string().size(), 200'000u);
    const auto stats = stats_of(client["admin"].run_command(kStats.view()));
    EXPECT_TRUE(stats.reply["violations"].get_array().empty()) << stats.violations();
    EXPECT_EQ(stats.compressed_with(c), 2);
    // The monitor's and the pool's handshakes both offered the compressor (lz4 was dropped).
    EXPECT_GE(stats.reply["handshakes"].as_int64(), 2);
    EXPECT_EQ(stats.offered(), std::vector<std::string>{std::string(wire::name_of(c))});
  }
}

asio::awaitable<bson::Document> async_echo_and_stats(Database db, Database admin) {
  const auto echo = big_echo();
  auto echoed = co_await db.async_run_command(echo.view(), asio::use_awaitable);
  if (echoed["echo"].get_document()["payload"].get_string().size() != 200'000u)
    co_return bson::Document{};
  co_return co_await admin.async_run_command(kStats.view(), asio::use_awaitable);
}

TEST(CompressionMock, AsyncClientCompressesWithClientOptionsCompressors) {
  MockServer server("compressing_server.py", {"zstd,snappy,zlib"});
  asio::io_context io;
  ClientOptions options;
  options.executor = io.get_executor();
  options.compressors = std::vector{Compressor::kZlib};  // replaces the URI's zstd
  options.zlib_compression_level = 9;
  MongoClient client(mock_uri(server, "zstd"), std::move(options));
  const auto stats = stats_of(run(io, async_echo_and_stats(client["db"], client["admin"])));
  ASSERT_FALSE(stats.reply.view().empty()) << "the echo came back wrong";
  EXPECT_TRUE(stats.reply["violations"].get_array().empty()) << stats.violations();
  EXPECT_EQ(stats.compressed_with(Compressor::kZlib), 2);
}

TEST(CompressionMock, ClientOptionsRefuseAZlibLevelOutOfRange) {
  ClientOptions options;
  options.zlib_compression_level = 10;
  try {
    MongoClient client("mongodb://127.0.0.1:1/", std::move(options));
    ADD_FAILURE() << "zlib level 10 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
  }
}

// ---- FerretDB: no compression, nothing negotiated, everything works -------------------------

TEST(CompressionFerretDB, NothingIsNegotiatedAndCommandsWork) {
  Connection conn(integration::ferretdb_address(),
                  offering({Compressor::kZstd, Compressor::kSnappy, Compressor::kZlib}));
  conn.connect();
  EXPECT_EQ(conn.compressor(), std::nullopt) << conn.hello_reply().to_json();
  EXPECT_TRUE(conn.run_command("admin", doc(R"({"ping": 1})").view())["ok"].as_bool());

  asio::io_context io;
  auto options = std::make_shared<ConnectionOptions>(
      offering({Compressor::kZstd, Compressor::kSnappy, Compressor::kZlib}));
  auto async_conn = std::make_shared<AsyncConnection>(io.get_executor(),
                                                      integration::ferretdb_address(), options);
  run(io, async_ping(async_conn));
  EXPECT_EQ(async_conn->compressor(), std::nullopt);
}

TEST(CompressionFerretDB, ClientWithAllCompressorsInTheUriWorks) {
  std::string uri = integration::ferretdb_uri();
  uri += (uri.find('?') == std::string::npos ? "?" : "&");
  uri += "compressors=zstd,snappy,zlib";
  MongoClient client(uri);
  auto coll = client["compression_it"]["plain"];
  coll.drop();
  coll.insert_one(doc(R"({"_id": 1, "x": "plain"})").view());
  auto found = coll.find_one(doc(R"({"_id": 1})").view());
  ASSERT_TRUE(found);
  EXPECT_EQ((*found)["x"].get_string(), "plain");
  coll.drop();
}

}  // namespace
}  // namespace mongoslice
