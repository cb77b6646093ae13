// The streaming protocol end to end: a Monitor over the real ConnectionChecker and Connection,
// against a scripted server on loopback that answers awaitable hellos and streams replies
// flagged moreToCome. What is proven: awaitable hellos only after a topologyVersion (and never
// in poll mode), streamed replies published without a new request and without waiting for the
// heartbeat, close() ending a read the server still holds, a hang-up during streaming dropping
// the connection for a fresh handshake, and the awaited read's own timeout.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "driver/connection_checker.hpp"
#include "monitor/monitor.hpp"
#include "support/loopback_peer.hpp"
#include "support/streaming_replies.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackPeer;
using testing::LoopbackServer;
using testing::PeerStream;
using testing::RequestLog;

class Recorder : public MonitorListener {
 public:
  void on_heartbeat_started(const HostAndPort&, bool awaited) override {
    std::lock_guard lock(mutex_);
    started_awaited_.push_back(awaited);
    changed_.notify_all();
  }
  void on_heartbeat_succeeded(const HostAndPort&, std::chrono::nanoseconds, bson::View,
                              bool awaited) override {
    std::lock_guard lock(mutex_);
    succeeded_awaited_.push_back(awaited);
  }
  void on_heartbeat_failed(const HostAndPort&, std::chrono::nanoseconds, std::string_view error,
                           bool awaited) override {
    std::lock_guard lock(mutex_);
    failures_.emplace_back(error);
    failed_awaited_.push_back(awaited);
  }
  void on_server_description(ServerDescription description) override {
    std::lock_guard lock(mutex_);
    descriptions_.push_back(std::move(description));
    changed_.notify_all();
  }

  bool wait_descriptions(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return descriptions_.size() >= n; });
  }
  bool wait_started(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return started_awaited_.size() >= n; });
  }
  std::vector<ServerDescription> descriptions() {
    std::lock_guard lock(mutex_);
    return descriptions_;
  }
  std::vector<bool> started_awaited() {
    std::lock_guard lock(mutex_);
    return started_awaited_;
  }
  std::vector<bool> succeeded_awaited() {
    std::lock_guard lock(mutex_);
    return succeeded_awaited_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  std::vector<bool> failed_awaited() {
    std::lock_guard lock(mutex_);
    return failed_awaited_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<bool> started_awaited_, succeeded_awaited_, failed_awaited_;
  std::vector<std::string> failures_;
  std::vector<ServerDescription> descriptions_;
};

// A heartbeat no test waits for: whatever arrives, arrives because of the protocol.
constexpr auto kLongHeartbeat = 60'000ms;

std::unique_ptr<Monitor> make_monitor(const HostAndPort& address,
                                      std::shared_ptr<Recorder> recorder, bool streaming,
                                      std::chrono::milliseconds connect_timeout = 10'000ms,
                                      std::chrono::milliseconds heartbeat = kLongHeartbeat) {
  ConnectionOptions connection;
  connection.connect_timeout = connect_timeout;
  auto checker = std::make_unique<ConnectionChecker>(
      address, connection,
      CheckerOptions{.streaming = streaming, .heartbeat_frequency = heartbeat});
  return std::make_unique<Monitor>(
      address, std::move(checker), recorder,
      MonitorOptions{.heartbeat_frequency = heartbeat, .min_heartbeat_frequency = 1ms});
}

bson::Document hello_with_version(std::int64_t counter) {
  return testing::with_topology_version(testing::standard_hello_reply().view(), counter);
}

// Reads the handshake, records it and answers it as a standalone with topologyVersion
// `counter`, so that the monitor's next check is an awaitable hello.
void answer_handshake(PeerStream& s, RequestLog& log, std::int64_t counter) {
  auto handshake = s.read_message();
  log.record(handshake);
  s.write(testing::reply_to(handshake, hello_with_version(counter)));
}

std::int64_t counter_of(const bson::Document& body) {
  auto version = body.find("topologyVersion");
  if (!version || version->type() != bson::Type::kDocument) return -1;
  auto counter = version->get_document().find("counter");
  return counter ? counter->as_int64() : -1;
}

TEST(MonitorStreaming, AwaitableHelloOnlyAfterAReplyWithTopologyVersion) {
  RequestLog log;
  LoopbackPeer peer([&](PeerStream& s) {
    auto handshake = s.read_message();
    log.record(handshake);
    s.write(testing::reply_to(handshake, testing::standard_hello_reply()));  // no topologyVersion
    auto plain = s.read_message();
    log.record(plain);
    s.write(testing::reply_to(plain, hello_with_version(7)));
    log.record(s.read_message());  // the awaitable hello; never answered
    s.wait_for_close();
  });
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(peer.address(), recorder, /*streaming=*/true);
  monitor->open();
  ASSERT_TRUE(recorder->wait_descriptions(1));
  monitor->request_check();  // without a topologyVersion the monitor waits for the heartbeat
  ASSERT_TRUE(log.wait_for(3))
      << "after the reply with topologyVersion the next check came at once";

  const auto plain = log.at(1);
  EXPECT_FALSE(plain.body.view().contains("topologyVersion"));
  EXPECT_FALSE(plain.body.view().contains("maxAwaitTimeMS"));
  EXPECT_EQ(plain.flags & wire::kExhaustAllowed, 0u);

  const auto awaitable = log.at(2);
  EXPECT_TRUE(awaitable.body.view().contains("hello"));
  EXPECT_EQ(counter_of(awaitable.body), 7) << "the topologyVersion of the last reply goes back";
  ASSERT_TRUE(awaitable.body.view().contains("maxAwaitTimeMS"));
  EXPECT_EQ(awaitable.body.find("maxAwaitTimeMS")->as_int64(), kLongHeartbeat.count());
  EXPECT_NE(awaitable.flags & wire::kExhaustAllowed, 0u);

  ASSERT_TRUE(recorder->wait_started(3));
  EXPECT_EQ(recorder->started_awaited(), (std::vector<bool>{false, false, true}));
  monitor->close();
  EXPECT_TRUE(monitor->join(5s));
}

TEST(MonitorStreaming, StreamedRepliesArePublishedWithoutANewRequestOrTheHeartbeat) {
  RequestLog log;
  HostAndPort self;
  std::mutex self_mutex;
  LoopbackPeer peer([&](PeerStream& s) {
    HostAndPort me;
    {
      std::lock_guard lock(self_mutex);
      me = self;
    }
    auto handshake = s.read_message();
    log.record(handshake);
    s.write(testing::reply_to(
        handshake, testing::with_topology_version(testing::member_hello(true, me).view(), 1)));
    auto awaitable = s.read_message();
    const std::int32_t request = log.record(awaitable);
    // Three announcements, each answering the reply before it: primary, then stepped down.
    std::int32_t previous = request;
    const bool primary[] = {true, false, false};
    for (int i = 0; i < 3; ++i) {
      const std::int32_t id = 5000 + i;
      auto body =
          testing::with_topology_version(testing::member_hello(primary[i], me).view(), 2 + i);
      s.write(testing::op_msg_reply(id, previous, body.view(), wire::kMoreToCome));
      previous = id;
    }
    s.wait_for_close();  // anything the client sent would show up in the log: it sends nothing
  });
  {
    std::lock_guard lock(self_mutex);
    self = peer.address();
  }
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(peer.address(), recorder, /*streaming=*/true);
  monitor->open();
  ASSERT_TRUE(recorder->wait_descriptions(4))
      << "the streamed change arrives without waiting for the 60 s heartbeat";
  ASSERT_TRUE(recorder->wait_started(5)) << "and the monitor reads on at once";

  const auto d = recorder->descriptions();
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].type, ServerType::kRSPrimary);
  EXPECT_EQ(d[1].type, ServerType::kRSPrimary);
  EXPECT_EQ(d[2].type, ServerType::kRSSecondary);
  EXPECT_EQ(d[3].type, ServerType::kRSSecondary);
  for (std::size_t i = 0; i < d.size(); ++i) {
    ASSERT_TRUE(d[i].topology_version.has_value());
    EXPECT_EQ(d[i].topology_version->counter, static_cast<std::int64_t>(i) + 1) << "in order";
    // Streamed replies are no RTT samples: the handshake's stays the server's RTT.
    EXPECT_EQ(d[i].round_trip_time, d[0].round_trip_time);
  }
  EXPECT_EQ(log.size(), 2u) << "the handshake and one awaitable hello; the rest was streamed";
  EXPECT_EQ(recorder->succeeded_awaited(), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(recorder->started_awaited(), (std::vector<bool>{false, true, true, true, true}));
  monitor->close();
  EXPECT_TRUE(monitor->join(5s));
  EXPECT_EQ(log.size(), 2u);
}

TEST(MonitorStreaming, CloseEndsAStreamingReadTheServerStillHolds) {
  RequestLog log;
  LoopbackPeer peer([&](PeerStream& s) {
    answer_handshake(s, log, 1);
    log.record(s.read_message());
    s.wait_for_close();  // holds the awaitable hello for good (well, the peer's 10 s bound)
  });
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(peer.address(), recorder, /*streaming=*/true);
  monitor->open();
  ASSERT_TRUE(log.wait_for(2));
  ASSERT_TRUE(recorder->wait_started(2));
  monitor->close();
  // A functional bound: without the interrupt the read would last 70 s (connect + heartbeat).
  EXPECT_TRUE(monitor->join(5s)) << "close() must break the awaited read";
  EXPECT_EQ(recorder->descriptions().size(), 1u) << "the interrupted check reports nothing";
  EXPECT_TRUE(recorder->failures().empty());
  peer.join();
  EXPECT_EQ(peer.script_error(), "");
}

TEST(MonitorStreaming, HangUpDuringStreamingDropsTheConnectionAndTheNextCheckReconnects) {
  RequestLog log;
  LoopbackServer server([&](PeerStream& s, int connection) {
    answer_handshake(s, log, 10 * connection + 1);
    auto awaitable = s.read_message();
    const std::int32_t request = log.record(awaitable);
    if (connection == 0) {
      auto body = hello_with_version(2);
      s.write(testing::op_msg_reply(4000, request, body.view(), wire::kMoreToCome));
      return;  // hangs up while the client waits for the next streamed reply
    }
    s.wait_for_close();
  });
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(server.address(), recorder, /*streaming=*/true);
  monitor->open();
  ASSERT_TRUE(recorder->wait_descriptions(4));
  ASSERT_TRUE(log.wait_for(4));

  const auto d = recorder->descriptions();
  EXPECT_EQ(d[0].type, ServerType::kStandalone);
  EXPECT_EQ(d[1].type, ServerType::kStandalone);
  EXPECT_EQ(d[2].type, ServerType::kUnknown) << "the hang-up marks the server Unknown";
  EXPECT_EQ(d[3].type, ServerType::kStandalone) << "the one immediate retry reconnected";
  ASSERT_TRUE(d[3].topology_version.has_value());
  EXPECT_EQ(d[3].topology_version->counter, 11);
  EXPECT_EQ(server.connections(), 2) << "the broken connection was not reused";
  EXPECT_TRUE(log.at(2).op_query) << "a handshake on the new connection";
  EXPECT_EQ(counter_of(log.at(3).body), 11) << "then streaming again, from the new reply";
  EXPECT_EQ(recorder->failed_awaited(), std::vector<bool>{true});
  monitor->close();
  EXPECT_TRUE(monitor->join(5s));
  EXPECT_TRUE(server.script_errors().empty());
}

// cancel_check() (an operation's network error on this server) while the server holds an
// awaitable hello: the check's connection is shut down at once, instead of the awaited read
// lasting until the server answers (here never: the peer holds it to its 10 s bound); the check
// is reported as cancelled, nothing is published from it, and the next check connects afresh.
TEST(MonitorStreaming, CancelCheckBreaksAnAwaitedReadTheServerStillHolds) {
  RequestLog log;
  LoopbackServer server([&](PeerStream& s, int connection) {
    answer_handshake(s, log, 10 * connection + 1);
    log.record(s.read_message());  // the awaitable hello, never answered
    s.wait_for_close();
  });
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(server.address(), recorder, /*streaming=*/true);
  monitor->open();
  ASSERT_TRUE(log.wait_for(2));
  ASSERT_TRUE(recorder->wait_started(2));
  const auto cancelled_at = std::chrono::steady_clock::now();
  monitor->cancel_check();
  // A functional bound: without the break the read lasts until the peer's 10 s bound.
  const auto deadline = cancelled_at + 5s;
  while (recorder->failures().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(recorder->failures().size(), 1u) << "cancel_check() must break the awaited read";
  EXPECT_NE(recorder->failures()[0].find("check cancelled"), std::string::npos)
      << recorder->failures()[0];
  EXPECT_EQ(recorder->failed_awaited(), std::vector<bool>{true});
  // The next check starts at once, without a request (those made while the cancelled check
  // ran were ignored): a handshake on a new connection, then streaming again.
  ASSERT_TRUE(log.wait_for(4));
  ASSERT_TRUE(recorder->wait_descriptions(2));
  EXPECT_EQ(recorder->descriptions().size(), 2u) << "the cancelled check published nothing";
  EXPECT_EQ(server.connections(), 2) << "the cancelled check's connection was not reused";
  EXPECT_TRUE(log.at(2).op_query) << "a handshake on the new connection";
  EXPECT_EQ(counter_of(log.at(3).body), 11) << "streaming again, from the new reply";
  monitor->close();
  EXPECT_TRUE(monitor->join(5s));
  EXPECT_TRUE(server.script_errors().empty());
}

TEST(MonitorStreaming, PollModeNeverSendsAnAwaitableHello) {
  RequestLog log;
  LoopbackPeer peer([&](PeerStream& s) {
    answer_handshake(s, log, 1);
    for (int i = 0; i < 2; ++i) {
      auto hello = s.read_message();
      log.record(hello);
      s.write(testing::reply_to(hello, hello_with_version(2 + i)));
    }
    s.wait_for_close();
  });
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(peer.address(), recorder, /*streaming=*/false);
  monitor->open();
  for (std::size_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(recorder->wait_descriptions(n));
    if (n < 3) monitor->request_check();  // polling: only a request (or the heartbeat) checks
  }
  ASSERT_EQ(log.size(), 3u);
  for (std::size_t i = 1; i < 3; ++i) {
    const auto hello = log.at(i);
    EXPECT_FALSE(hello.body.view().contains("topologyVersion"));
    EXPECT_FALSE(hello.body.view().contains("maxAwaitTimeMS"));
    EXPECT_EQ(hello.flags & wire::kExhaustAllowed, 0u);
  }
  EXPECT_EQ(recorder->started_awaited(), (std::vector<bool>{false, false, false}));
  monitor->close();
  EXPECT_TRUE(monitor->join(5s));
}

TEST(MonitorStreaming, AnAwaitedReplyMayTakeLongerThanConnectTimeout) {
  // The awaited read waits connectTimeoutMS + heartbeatFrequencyMS (here 100 + 2000 ms): a
  // reply the server holds for 500 ms is a success, where a plain hello would have timed out.
  RequestLog log;
  LoopbackPeer peer([&](PeerStream& s) {
    answer_handshake(s, log, 1);
    auto awaitable = s.read_message();
    log.record(awaitable);
    std::this_thread::sleep_for(500ms);
    s.write(testing::reply_to(awaitable, hello_with_version(2)));
    log.record(s.read_message());
    s.wait_for_close();
  });
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(peer.address(), recorder, /*streaming=*/true, 100ms, 2000ms);
  monitor->open();
  ASSERT_TRUE(recorder->wait_descriptions(2));
  const auto d = recorder->descriptions();
  EXPECT_EQ(d[1].type, ServerType::kStandalone) << recorder->failures().size();
  EXPECT_TRUE(recorder->failures().empty());
  monitor->close();
  EXPECT_TRUE(monitor->join(5s));
}

TEST(MonitorStreaming, AStreamedReplyAnsweringTheWrongMessageFailsTheCheck) {
  LoopbackServer server([&](PeerStream& s, int connection) {
    auto handshake = s.read_message();
    s.write(testing::reply_to(handshake, hello_with_version(1)));
    auto awaitable = s.read_message();
    if (connection == 0) {
      const std::int32_t request = testing::request_id_of(awaitable);
      auto body = hello_with_version(2);
      s.write(testing::op_msg_reply(4000, request, body.view(), wire::kMoreToCome));
      auto next = hello_with_version(3);
      s.write(testing::op_msg_reply(4001, request, next.view()));  // answers the request again
    }
    s.wait_for_close();
  });
  auto recorder = std::make_shared<Recorder>();
  auto monitor = make_monitor(server.address(), recorder, /*streaming=*/true);
  monitor->open();
  ASSERT_TRUE(recorder->wait_descriptions(3));
  const auto d = recorder->descriptions();
  EXPECT_EQ(d[2].type, ServerType::kUnknown);
  ASSERT_EQ(recorder->failures().size(), 1u);
  EXPECT_NE(recorder->failures()[0].find("4000"), std::string::npos)
      << "names what it expected: " << recorder->failures()[0];
  monitor->close();
  EXPECT_TRUE(monitor->join(5s));
}

TEST(MonitorStreaming, TheRttMonitorSendsPlainHellosOnItsOwnConnection) {
  RequestLog monitoring, rtt;
  LoopbackServer server([&](PeerStream& s, int connection) {
    RequestLog& log = connection == 0 ? monitoring : rtt;
    answer_handshake(s, log, 1);
    if (connection == 0) {
      log.record(s.read_message());  // the awaitable hello, held
    } else {
      for (int i = 0; i < 2; ++i) {
        auto hello = s.read_message();
        log.record(hello);
        s.write(testing::reply_to(hello, hello_with_version(1)));
      }
    }
    s.wait_for_close();
  });
  ConnectionOptions connection;
  const auto heartbeat = 20ms;  // the RTT monitor's interval: three checks come soon
  auto make_checker = [&](bool streaming) {
    return std::make_unique<ConnectionChecker>(
        server.address(), connection,
        CheckerOptions{.streaming = streaming, .heartbeat_frequency = heartbeat});
  };
  auto recorder = std::make_shared<Recorder>();
  Monitor monitor(server.address(), make_checker(true), recorder,
                  MonitorOptions{.heartbeat_frequency = heartbeat, .min_heartbeat_frequency = 1ms},
                  make_checker(false));
  monitor.open();
  ASSERT_TRUE(rtt.wait_for(3));
  ASSERT_TRUE(monitoring.wait_for(2));
  EXPECT_EQ(server.connections(), 2) << "the RTT monitor has its own connection";
  EXPECT_TRUE(rtt.at(0).op_query);
  for (std::size_t i = 1; i < 3; ++i) {
    const auto hello = rtt.at(i);
    EXPECT_TRUE(hello.body.view().contains("hello"));
    EXPECT_FALSE(hello.body.view().contains("topologyVersion"));
    EXPECT_EQ(hello.flags & wire::kExhaustAllowed, 0u);
  }
  EXPECT_NE(monitoring.at(1).flags & wire::kExhaustAllowed, 0u);
  EXPECT_EQ(recorder->descriptions().size(), 1u) << "RTT checks publish nothing";
  monitor.close();
  EXPECT_TRUE(monitor.join(5s));
  EXPECT_TRUE(server.script_errors().empty());
}

}  // namespace
}  // namespace mongoslice
