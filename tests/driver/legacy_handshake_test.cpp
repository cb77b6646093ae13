// The handshake and heartbeats against scripted loopback servers, through the production
// checker (ConnectionChecker) and the Topology:
//   - a server like MongoDB 4.2: it answers the legacy hello over OP_QUERY without helloOk and
//     `hello` over OP_MSG with CommandNotFound. The monitor must send it `isMaster` on every
//     heartbeat, and it stays Standalone;
//   - a server whose handshake reply says helloOk: true gets `hello`;
//   - a heartbeat answered ok: 0 is a failed check: a heartbeat-failed event, the server
//     Unknown with the server's message, its pool cleared, the monitoring connection closed,
//     and no immediate retry.
// The intervals are short so the tests run quickly; nothing asserts how long anything took.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "driver/connection_checker.hpp"
#include "driver/topology.hpp"
#include "support/loopback_peer.hpp"
#include "wire/op_query.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using ::testing::Each;
using ::testing::HasSubstr;
using testing::LoopbackServer;
using testing::PeerStream;

// One message as the scripted server saw it.
struct Received {
  int connection = 0;
  std::int32_t opcode = 0;
  std::string command;
  bool hello_ok = false;  // the request carried helloOk: true
};

// What a scripted server received, in order, and a way to wait for it (bounded).
class Log {
 public:
  void add(Received r) {
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(r));
    changed_.notify_all();
  }
  std::vector<Received> all() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  bool wait_for(std::size_t count) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return received_.size() >= count; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Received> received_;
};

bson::Document legacy_reply(bool hello_ok) {
  bson::Builder b;
  b.append("ismaster", true);
  if (hello_ok) b.append("helloOk", true);
  return b.append("maxBsonObjectSize", 16 * 1024 * 1024)
      .append("maxMessageSizeBytes", 48'000'000)
      .append("maxWriteBatchSize", 100'000)
      .append("minWireVersion", 0)
      .append("maxWireVersion", 8)
      .append("ok", 1.0)
      .build();
}

bson::Document command_not_found(std::string_view name) {
  return bson::Builder{}
      .append("ok", 0.0)
      .append("errmsg", "no such command: '" + std::string(name) + "'")
      .append("code", 59)
      .append("codeName", "CommandNotFound")
      .build();
}

// Records each message, then lets `answer` reply to it (OP_REPLY for the OP_QUERY handshake,
// OP_MSG otherwise, through reply_to).
LoopbackServer::Script recording(Log& log,
                                 std::function<bson::Document(const Received&, int index)> answer) {
  return [&log, answer](PeerStream& s, int connection) {
    for (int index = 0;; ++index) {
      auto request = s.read_message();
      auto body = testing::body_of(request);
      Received r{connection, testing::opcode_of(request), testing::command_name_of(request)};
      if (auto ok = body.find("helloOk")) r.hello_ok = ok->as_bool();
      log.add(r);
      s.write(testing::reply_to(request, answer(r, index)));
    }
  };
}

// MongoDB 4.2 (and 4.4.0-4.4.1): the legacy hello in any form; `hello` is unknown. Like mongod,
// it says helloOk only when asked and when it knows hello, which it does not.
bson::Document answer_like_mongodb_42(const Received& r, int) {
  if (r.command == "isMaster" || r.command == "ismaster") return legacy_reply(false);
  if (r.command == "hello") return command_not_found("hello");
  return bson::Builder{}.append("ok", 1.0).build();
}

// A server that knows hello: helloOk: true answers a legacy hello that asks for it.
bson::Document answer_knowing_hello(const Received& r, int) {
  if (r.command == "isMaster" || r.command == "ismaster" || r.command == "hello") {
    return legacy_reply(r.hello_ok);
  }
  return bson::Builder{}.append("ok", 1.0).build();
}

// Counts heartbeats and records the server's description changes.
class Heartbeats : public EventListener {
 public:
  void on(const ServerHeartbeatSucceededEvent&) override {
    add([&] { ++succeeded_; });
  }
  void on(const ServerHeartbeatFailedEvent& e) override {
    add([&] { failures_.emplace_back(e.error); });
  }
  // Emitted after the topology applied the description (and cleared the pool if it had to).
  void on(const ServerDescriptionChangedEvent& e) override {
    add([&] { types_.push_back(e.current.type); });
  }
  // Waits (bounded) until `n` heartbeats have ended, succeeded or failed.
  bool wait_heartbeats(std::size_t n) {
    return wait([&] { return succeeded_ + failures_.size() >= n; });
  }
  // Waits (bounded) until the server's description has changed `n` times.
  bool wait_changes(std::size_t n) {
    return wait([&] { return types_.size() >= n; });
  }
  std::size_t succeeded() {
    std::lock_guard lock(mutex_);
    return succeeded_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  std::vector<ServerType> types() {
    std::lock_guard lock(mutex_);
    return types_;
  }

 private:
  template <typename F>
  void add(F f) {
    std::lock_guard lock(mutex_);
    f();
    changed_.notify_all();
  }
  template <typename P>
  bool wait(P predicate) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, predicate);
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t succeeded_ = 0;
  std::vector<std::string> failures_;
  std::vector<ServerType> types_;
};

std::shared_ptr<Topology> topology_of(const LoopbackServer& server,
                                      std::shared_ptr<Heartbeats> heartbeats,
                                      MonitorOptions options) {
  auto uri = ConnectionString::parse("mongodb://" + server.address().to_string() +
                                     "/?heartbeatFrequencyMS=500");
  CheckerFactory checkers = [](const HostAndPort& address) {
    ConnectionOptions connection;
    connection.connect_timeout = 10s;
    return std::make_unique<ConnectionChecker>(address, connection);
  };
  auto events = std::make_shared<const EventDispatcher>(
      std::vector<std::shared_ptr<EventListener>>{std::move(heartbeats)});
  return Topology::create(uri, std::move(events), std::move(checkers), options);
}

// Heartbeats come one after another (the URI's 500 ms shortened to 20 ms for the test).
MonitorOptions brisk() {
  return {.heartbeat_frequency = 20ms, .min_heartbeat_frequency = 1ms};
}

TEST(LegacyHandshake, ServerWithoutHelloGetsIsMasterAndStaysStandalone) {
  Log log;
  LoopbackServer server(recording(log, answer_like_mongodb_42));
  auto heartbeats = std::make_shared<Heartbeats>();
  auto topology = topology_of(server, heartbeats, brisk());
  topology->open();
  // The handshake, then four heartbeats on the same connection.
  ASSERT_TRUE(heartbeats->wait_heartbeats(5));
  topology->close();
  EXPECT_THAT(heartbeats->failures(), ::testing::IsEmpty());
  EXPECT_EQ(heartbeats->types(), std::vector<ServerType>{ServerType::kStandalone})
      << "the server was found once and never lost";
  server.stop();

  const auto received = log.all();
  ASSERT_GE(received.size(), 5u);
  EXPECT_EQ(received[0].opcode, wire::kOpQuery) << "the handshake is OP_QUERY";
  EXPECT_EQ(received[0].command, "isMaster");
  EXPECT_TRUE(received[0].hello_ok) << "the handshake asks for helloOk";
  for (std::size_t i = 1; i < received.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(received[i].connection, 0) << "the monitor never had to reconnect";
    EXPECT_EQ(received[i].opcode, wire::kOpMsg);
    EXPECT_EQ(received[i].command, "isMaster") << "no hello to a server without it";
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_THAT(server.script_errors(), ::testing::IsEmpty());
}

TEST(LegacyHandshake, ServerSayingHelloOkGetsHello) {
  Log log;
  LoopbackServer server(recording(log, answer_knowing_hello));
  auto heartbeats = std::make_shared<Heartbeats>();
  auto topology = topology_of(server, heartbeats, brisk());
  topology->open();
  ASSERT_TRUE(heartbeats->wait_heartbeats(4));
  topology->close();
  EXPECT_THAT(heartbeats->failures(), ::testing::IsEmpty());
  EXPECT_EQ(heartbeats->types(), std::vector<ServerType>{ServerType::kStandalone});
  server.stop();

  const auto received = log.all();
  ASSERT_GE(received.size(), 4u);
  EXPECT_EQ(received[0].opcode, wire::kOpQuery);
  EXPECT_EQ(received[0].command, "isMaster");
  for (std::size_t i = 1; i < received.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(received[i].opcode, wire::kOpMsg);
    EXPECT_EQ(received[i].command, "hello");
    EXPECT_TRUE(received[i].hello_ok);
  }
}

// The first heartbeat after the handshake is answered ok: 0 (a server shutting down). The
// monitor's interval is an hour, so every check after the handshake is one the test asked for,
// and a check the monitor did of its own accord (an immediate retry) would show as a second
// connection.
TEST(LegacyHandshake, OkZeroHeartbeatIsAFailedCheckThatClearsThePool) {
  Log log;
  LoopbackServer server(recording(log, [](const Received& r, int index) {
    if (r.connection == 0 && index == 1) {
      return bson::Builder{}
          .append("ok", 0.0)
          .append("errmsg", "the server is shutting down")
          .append("code", 91)
          .append("codeName", "ShutdownInProgress")
          .build();
    }
    return answer_knowing_hello(r, index);
  }));
  auto heartbeats = std::make_shared<Heartbeats>();
  auto topology =
      topology_of(server, heartbeats, {.heartbeat_frequency = 1h, .min_heartbeat_frequency = 1ms});
  topology->open();
  ASSERT_TRUE(heartbeats->wait_changes(1));  // the handshake found it
  ASSERT_EQ(heartbeats->types().back(), ServerType::kStandalone);
  auto pool = topology->pool(server.address());
  ASSERT_TRUE(pool);
  const auto generation = pool->generation();

  topology->request_checks();
  ASSERT_TRUE(heartbeats->wait_changes(2));
  EXPECT_EQ(heartbeats->types().back(), ServerType::kUnknown);
  const auto failures = heartbeats->failures();
  ASSERT_EQ(failures.size(), 1u) << "ok: 0 must be reported as a failed heartbeat";
  EXPECT_THAT(failures[0], HasSubstr("the server is shutting down"));
  EXPECT_EQ(heartbeats->succeeded(), 1u);
  const auto snapshot = topology->description();
  const ServerDescription* described = snapshot->find(server.address());
  ASSERT_TRUE(described);
  EXPECT_EQ(described->type, ServerType::kUnknown);
  EXPECT_THAT(described->error, HasSubstr("the server is shutting down"));
  EXPECT_EQ(pool->generation(), generation + 1) << "the pool is cleared";

  // The monitoring connection was closed (the server's script ended with it), and no immediate
  // retry followed: given the chance to show, it would have connected again.
  EXPECT_TRUE(server.wait_ended(1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(server.connections(), 1) << "an immediate retry reconnected";
  EXPECT_EQ(log.all().size(), 2u);

  // The next check (asked for) connects afresh and finds the server again.
  topology->request_checks();
  ASSERT_TRUE(heartbeats->wait_changes(3));
  EXPECT_EQ(heartbeats->types().back(), ServerType::kStandalone);
  EXPECT_EQ(server.connections(), 2);
  topology->close();
}

}  // namespace
}  // namespace mongoslice
