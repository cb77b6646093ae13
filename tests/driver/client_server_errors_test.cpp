// Server errors that operations meet reach SDAM, from the blocking and the async engine alike (the
// issue's finding: a find answered with 10107 left the server Standalone until the next heartbeat).
// A MongoClient talks to a scripted server on loopback whose finds fail as each test says; its
// monitor and pool connect to the same server, for real.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "driver/mongo_client.hpp"
#include "monitor/server_description.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

// The types the server went through, as ServerDescriptionChangedEvents said.
class TypeRecorder final : public EventListener {
 public:
  void on(const ServerDescriptionChangedEvent& e) override {
    std::lock_guard lock(mutex_);
    changes_.push_back(std::string(to_string(e.current.type)) +
                       (e.current.error.empty() ? "" : " (" + e.current.error + ")"));
    changed_.notify_all();
  }
  // Waits (bounded) until some change starts with `prefix` and contains `text`.
  bool wait_for(const std::string& prefix, const std::string& text = "") {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] {
      for (const auto& c : changes_) {
        if (c.rfind(prefix, 0) == 0 && c.find(text) != std::string::npos) return true;
      }
      return false;
    });
  }
  // Waits (bounded) until there were at least `n` changes.
  bool wait_count(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return changes_.size() >= n; });
  }
  std::vector<std::string> changes() {
    std::lock_guard lock(mutex_);
    return changes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> changes_;
};

// A standalone server whose first `failing` command gets `find_reply` (empty: the connection
// is closed instead); later finds succeed with an empty cursor.
struct ScriptedStandalone {
  explicit ScriptedStandalone(std::optional<bson::Document> find_reply,
                              std::string failing_command = "find")
      : reply(std::move(find_reply)),
        failing(std::move(failing_command)),
        server([this](testing::PeerStream& s, int) { serve(s); }) {}

  void serve(testing::PeerStream& s) {
    for (;;) {
      auto request = s.read_message();
      const std::string name = testing::command_name_of(request);
      if (name == failing && !failed.exchange(true)) {
        if (!reply) return;  // hang up: a network error after the handshake
        s.write(testing::reply_to(request, *reply));
      } else if (name == "find") {
        s.write(testing::reply_to(request, bson::Document::from_json(
                                               R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"},
                                                   "ns": "db.c", "firstBatch": []}})")));
      } else if (name == "hello" || name == "isMaster" || name == "ismaster") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
      } else {
        s.write(testing::reply_to(request, bson::Builder{}.append("ok", 1.0).build()));
      }
    }
  }

  std::optional<bson::Document> reply;
  std::string failing;
  std::atomic<bool> failed{false};
  testing::LoopbackServer server;
};

// heartbeatFrequencyMS is a minute: a check within the tests' bounded waits (10 s) is one
// that something requested.
std::string uri_of(const ScriptedStandalone& s) {
  return "mongodb://" + s.server.address().to_string() +
         "/?directConnection=true&serverSelectionTimeoutMS=5000&heartbeatFrequencyMS=60000"
         // No retries: each test counts what one failed command does to SDAM.
         "&retryReads=false&retryWrites=false";
}

void expect_find_fails(MongoClient& client, std::int32_t code) {
  try {
    client["db"]["c"].find(bson::Document::from_json("{}"));
    ADD_FAILURE() << "find succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), code);
  }
}

TEST(ClientServerErrors, NotWritablePrimaryFromAFindMarksTheServerUnknownAndRechecksIt) {
  ScriptedStandalone scripted(bson::Document::from_json(
      R"({"ok": 0, "code": 10107, "codeName": "NotWritablePrimary", "errmsg": "not primary"})"));
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  expect_find_fails(client, 10107);
  EXPECT_TRUE(recorder->wait_for("Unknown", "not primary"));
  // The immediate check the error requested finds the server again, with no operation asking
  // (selection would request checks too) and long before the one-minute heartbeat.
  ASSERT_TRUE(recorder->wait_count(3));
  const auto changes = recorder->changes();
  EXPECT_EQ(changes.back().rfind("Standalone", 0), 0u) << changes.back();
  client["db"]["c"].find(bson::Document::from_json("{}"));
  // Not a shutdown error on a 4.2+ server: the pool was kept, the second find reused the
  // connection of the first (one monitor connection and one pooled connection in all).
  EXPECT_EQ(scripted.server.connections(), 2);
}

TEST(ClientServerErrors, ShutdownInProgressFromAFindAlsoClearsThePool) {
  ScriptedStandalone scripted(bson::Document::from_json(
      R"({"ok": 0, "code": 91, "codeName": "ShutdownInProgress", "errmsg": "shutting down"})"));
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  expect_find_fails(client, 91);
  EXPECT_TRUE(recorder->wait_for("Unknown", "shutting down"));
  client["db"]["c"].find(bson::Document::from_json("{}"));
  // The pool was cleared: the second find needed a connection of its own.
  EXPECT_EQ(scripted.server.connections(), 3);
}

TEST(ClientServerErrors, AShutdownInAWriteConcernErrorOfAnAcknowledgedWriteClearsThePool) {
  ScriptedStandalone scripted(bson::Document::from_json(R"({"ok": 1, "n": 1, "writeConcernError":
                                    {"code": 91, "errmsg": "shutting down"}})"),
                              "insert");
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  try {
    client["db"]["c"].insert_one(bson::Document::from_json(R"({"_id": 1})"));
  } catch (const Error&) {  // the write-concern error itself, reported to the caller
  }
  EXPECT_TRUE(recorder->wait_for("Unknown", "shutting down"));
  client["db"]["c"].find(bson::Document::from_json("{}"));
  EXPECT_EQ(scripted.server.connections(), 3) << "the pool was cleared";
}

TEST(ClientServerErrors, AMessageWithoutACodeCountsForOldServers) {
  ScriptedStandalone scripted(
      bson::Document::from_json(R"({"ok": 0, "errmsg": "node is recovering"})"));
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  expect_find_fails(client, 0);
  EXPECT_TRUE(recorder->wait_for("Unknown", "node is recovering"));
}

TEST(ClientServerErrors, AnOrdinaryCommandErrorChangesNothing) {
  ScriptedStandalone scripted(bson::Document::from_json(
      R"({"ok": 0, "code": 2, "codeName": "BadValue", "errmsg": "not master of my fate"})"));
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  expect_find_fails(client, 2);
  client["db"]["c"].find(bson::Document::from_json("{}"));
  for (const auto& change : recorder->changes()) {
    EXPECT_EQ(change.rfind("Unknown", 0), std::string::npos) << change;
  }
  EXPECT_EQ(scripted.server.connections(), 2);
}

TEST(ClientServerErrors, ANetworkErrorAfterTheHandshakeMarksUnknownAndClearsThePool) {
  ScriptedStandalone scripted(std::nullopt);
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  try {
    client["db"]["c"].find(bson::Document::from_json("{}"));
    ADD_FAILURE() << "find succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::connection_closed) << e.what();
  }
  EXPECT_TRUE(recorder->wait_for("Unknown"));
}

// The async engine hands its operations' errors to SDAM the same way.

// Runs an async find on `io` (one io_context per test: the async pool reuses a connection only
// on the context it was opened on); returns the error it threw (none: succeeded).
std::optional<Error> async_find(MongoClient& client, boost::asio::io_context& io) {
  io.restart();
  auto done = boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        const auto filter = bson::Document::from_json("{}");
        co_await client["db"]["c"].async_find(filter.view(), boost::asio::use_awaitable);
      },
      boost::asio::use_future);
  io.run();
  try {
    done.get();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

TEST(ClientServerErrors, AsyncNotWritablePrimaryMarksTheServerUnknownAndKeepsThePool) {
  ScriptedStandalone scripted(bson::Document::from_json(
      R"({"ok": 0, "code": 10107, "codeName": "NotWritablePrimary", "errmsg": "not primary"})"));
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  boost::asio::io_context io;
  // The very type the sync find throws (not sliced: caught as ServerError).
  bool server_error = false;
  try {
    auto done = boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          const auto filter = bson::Document::from_json("{}");
          co_await client["db"]["c"].async_find(filter.view(), boost::asio::use_awaitable);
        },
        boost::asio::use_future);
    io.run();
    done.get();
  } catch (const ServerError& e) {
    server_error = true;
    EXPECT_EQ(e.server_code(), 10107);
  }
  EXPECT_TRUE(server_error);
  EXPECT_TRUE(recorder->wait_for("Unknown", "not primary"));
  ASSERT_TRUE(recorder->wait_count(3));  // found again by the check the error requested
  EXPECT_FALSE(async_find(client, io));
  // The async pool was kept: its one connection served both finds (plus the monitor's).
  EXPECT_EQ(scripted.server.connections(), 2);
}

TEST(ClientServerErrors, AsyncShutdownInProgressClearsThePool) {
  ScriptedStandalone scripted(bson::Document::from_json(
      R"({"ok": 0, "code": 91, "codeName": "ShutdownInProgress", "errmsg": "shutting down"})"));
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  boost::asio::io_context io;
  ASSERT_TRUE(async_find(client, io));
  EXPECT_TRUE(recorder->wait_for("Unknown", "shutting down"));
  EXPECT_FALSE(async_find(client, io));
  // The clear reached the async pool (its generation is the blocking pool's): the connection
  // of the first find was not reused.
  EXPECT_EQ(scripted.server.connections(), 3);
}

TEST(ClientServerErrors, AsyncNetworkErrorMarksUnknown) {
  ScriptedStandalone scripted(std::nullopt);
  auto recorder = std::make_shared<TypeRecorder>();
  MongoClient client(uri_of(scripted), {.listeners = {recorder}});
  ASSERT_TRUE(recorder->wait_for("Standalone"));
  boost::asio::io_context io;
  auto error = async_find(client, io);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), errc::connection_closed) << error->what();
  EXPECT_TRUE(recorder->wait_for("Unknown"));
}

}  // namespace
}  // namespace mongoslice
