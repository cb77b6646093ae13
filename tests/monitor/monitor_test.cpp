// Monitor: what it reports, its network-error retry (and none after a timeout or an ok: 0
// reply), request_check, and its lifetime rules (weak listener, prompt close while a check
// blocks, destruction on its own thread).

#include "monitor/monitor.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "support/fake_server_checker.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::Script;
using testing::Step;

// Records what a monitor reports.
class RecordingListener : public MonitorListener {
 public:
  void on_heartbeat_started(const HostAndPort&, bool awaited) override {
    add([&] {
      ++started;
      started_awaited.push_back(awaited);
    });
  }
  void on_heartbeat_succeeded(const HostAndPort&, std::chrono::nanoseconds, bson::View,
                              bool awaited) override {
    add([&] {
      ++succeeded;
      succeeded_awaited.push_back(awaited);
    });
  }
  void on_heartbeat_failed(const HostAndPort&, std::chrono::nanoseconds, std::string_view error,
                           bool) override {
    add([&] { failures.emplace_back(error); });
  }
  void on_server_description(ServerDescription description) override {
    add([&] { descriptions.push_back(description); });
    if (after_description) after_description();
  }

  bool wait_descriptions(std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [&] { return descriptions.size() >= n; });
  }
  std::size_t description_count() {
    std::lock_guard lock(mutex);
    return descriptions.size();
  }
  ServerDescription description(std::size_t i) {
    std::lock_guard lock(mutex);
    return descriptions.at(i);
  }

  std::mutex mutex;
  std::condition_variable cv;
  int started = 0, succeeded = 0;
  std::vector<bool> started_awaited, succeeded_awaited;  // each heartbeat's `awaited`, in order
  std::vector<std::string> failures;
  std::vector<ServerDescription> descriptions;
  std::function<void()> after_description;  // set before open()

 private:
  template <typename F>
  void add(F f) {
    std::lock_guard lock(mutex);
    f();
    cv.notify_all();
  }
};

const HostAndPort kAddress{"127.0.0.1", 1};

// A long interval, so every check after the first is one the test caused; a short minimum, so
// requested checks come at once.
MonitorOptions quiet_options() {
  return {.heartbeat_frequency = 1h, .min_heartbeat_frequency = 1ms};
}

struct MonitorFixture : ::testing::Test {
  std::shared_ptr<Script> script = std::make_shared<Script>();
  std::shared_ptr<RecordingListener> listener = std::make_shared<RecordingListener>();
  std::unique_ptr<Monitor> make(MonitorOptions options = quiet_options()) {
    return std::make_unique<Monitor>(kAddress, std::make_unique<testing::FakeChecker>(script),
                                     listener, options);
  }
  // Proves "nothing more happened" without sleeping long: a later request_check is answered,
  // so if an extra check had been pending it would show up in the count before the requested
  // one. Here we simply give the thread a moment (no assertion on how long anything took).
  static void settle() { std::this_thread::sleep_for(100ms); }

  // With an RTT monitor checking through rtt_script.
  std::shared_ptr<Script> rtt_script = std::make_shared<Script>();
  std::unique_ptr<Monitor> make_with_rtt(MonitorOptions options = quiet_options()) {
    return std::make_unique<Monitor>(kAddress, std::make_unique<testing::FakeChecker>(script),
                                     listener, options,
                                     std::make_unique<testing::FakeChecker>(rtt_script));
  }
};

TEST_F(MonitorFixture, MonitorReportsStandaloneWithRtt) {
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  auto d = listener->description(0);
  EXPECT_EQ(d.type, ServerType::kStandalone);
  EXPECT_EQ(d.address, kAddress);
  ASSERT_TRUE(d.round_trip_time.has_value());
  EXPECT_EQ(*d.round_trip_time, std::chrono::nanoseconds(1ms));
  std::lock_guard lock(listener->mutex);
  EXPECT_EQ(listener->started, 1);
  EXPECT_EQ(listener->succeeded, 1);
}

TEST_F(MonitorFixture, MonitorNetworkErrorOnKnownServerGivesUnknownAndOneImmediateRetry) {
  script->push(Step::reply_json(testing::standalone_hello()));
  script->push(Step::fail("connection reset by fake"));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->request_check();  // the 2nd check fails; the retry (3rd) follows without a request
  ASSERT_TRUE(listener->wait_descriptions(3));
  settle();
  EXPECT_EQ(listener->description_count(), 3u) << "one retry only, then the 1 h interval";
  auto failed = listener->description(1);
  EXPECT_EQ(failed.type, ServerType::kUnknown);
  EXPECT_NE(failed.error.find("connection reset by fake"), std::string::npos);
  EXPECT_EQ(listener->description(2).type, ServerType::kUnknown);
  EXPECT_EQ(script->resets(), 2);  // the connection is dropped after each failure
  std::lock_guard lock(listener->mutex);
  EXPECT_EQ(listener->failures.size(), 2u);
}

TEST_F(MonitorFixture, MonitorRetryThatSucceedsMakesServerKnownAgain) {
  script->push(Step::reply_json(testing::standalone_hello()));
  script->push(Step::fail("reset"));
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->request_check();
  ASSERT_TRUE(listener->wait_descriptions(3));
  EXPECT_EQ(listener->description(2).type, ServerType::kStandalone);
  // RTT started over after the failure: the retry's sample is the whole average.
  EXPECT_EQ(*listener->description(2).round_trip_time, std::chrono::nanoseconds(1ms));
}

TEST_F(MonitorFixture, MonitorFailureOfUnknownServerWaitsForTheInterval) {
  script->push(Step::fail("connection refused"));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  settle();
  EXPECT_EQ(listener->description_count(), 1u) << "no immediate retry for a server never known";
  EXPECT_EQ(script->checks(), 1);
}

// An ok: 0 heartbeat (the checker throws it as a ServerError) is a failed check: a failed
// heartbeat, the server Unknown with the server's message, the connection reset, and no
// immediate retry: the spec retries at once after a network error only.
TEST_F(MonitorFixture, MonitorOkZeroOnKnownServerIsAFailedCheckWithoutImmediateRetry) {
  script->push(Step::reply_json(testing::standalone_hello()));
  script->push(Step::server_error(
      R"({"ok": 0, "code": 91, "codeName": "ShutdownInProgress", "errmsg": "going away"})"));
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->request_check();
  ASSERT_TRUE(listener->wait_descriptions(2));
  settle();
  EXPECT_EQ(listener->description_count(), 2u) << "no retry after a command error";
  EXPECT_EQ(script->checks(), 2);
  auto failed = listener->description(1);
  EXPECT_EQ(failed.type, ServerType::kUnknown);
  EXPECT_NE(failed.error.find("going away"), std::string::npos) << failed.error;
  EXPECT_EQ(script->resets(), 1);
  {
    std::lock_guard lock(listener->mutex);
    EXPECT_EQ(listener->succeeded, 1);
    ASSERT_EQ(listener->failures.size(), 1u);
    EXPECT_NE(listener->failures[0].find("going away"), std::string::npos);
  }
  monitor->request_check();  // the next check is the regular one, and it finds the server
  ASSERT_TRUE(listener->wait_descriptions(3));
  EXPECT_EQ(listener->description(2).type, ServerType::kStandalone);
}

// A timeout is not the network glitch the immediate retry is for.
TEST_F(MonitorFixture, MonitorTimeoutOnKnownServerRetriesOnceAtOnce) {
  // The spec's "network error (including a network timeout)": the retry follows a timeout too.
  script->push(Step::reply_json(testing::standalone_hello()));
  script->push(Step::timeout("hello timed out after 10 ms (connectTimeoutMS)"));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->request_check();
  ASSERT_TRUE(listener->wait_descriptions(3)) << "the timeout on a known server is retried";
  settle();
  EXPECT_EQ(listener->description_count(), 3u) << "once: the retry found the server Unknown";
  EXPECT_EQ(listener->description(1).type, ServerType::kUnknown);
  EXPECT_EQ(script->resets(), 2);
}

TEST_F(MonitorFixture, MonitorRequestCheckWakesSleepingMonitor) {
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->request_check();
  ASSERT_TRUE(listener->wait_descriptions(2));
  EXPECT_EQ(script->checks(), 2);
}

TEST_F(MonitorFixture, MonitorRequestCheckDuringCheckIsIgnored) {
  script->push(Step::gate(testing::standalone_hello()));
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  monitor->request_check();  // during the check: ignored (the spec's rule)
  monitor->request_check();
  script->open_gate();
  ASSERT_TRUE(listener->wait_descriptions(1));
  settle();
  EXPECT_EQ(script->checks(), 1);
  // Once the check is over, a request is honoured again.
  monitor->request_check();
  ASSERT_TRUE(listener->wait_descriptions(2));
}

TEST_F(MonitorFixture, MonitorCancelledCheckIsDroppedWithItsConnection) {
  script->push(Step::reply_json(testing::standalone_hello()));
  script->push(Step::gate(testing::standalone_hello()));
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->request_check();
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  // An operation's network error marked the server Unknown while this check was in flight.
  monitor->cancel_check();
  script->open_gate();
  {
    std::unique_lock lock(listener->mutex);
    ASSERT_TRUE(listener->cv.wait_for(lock, 10s, [&] { return listener->failures.size() == 1; }));
    EXPECT_NE(listener->failures[0].find("cancelled"), std::string::npos) << listener->failures[0];
  }
  // The next check starts at once, without a request (those made during the cancelled check
  // were ignored, and selections wait on it; the fixture's interval is far longer than the
  // bounded wait), on a fresh connection; only its reply is published.
  ASSERT_TRUE(listener->wait_descriptions(2));
  EXPECT_EQ(script->checks(), 3);
  EXPECT_EQ(listener->description(1).type, ServerType::kStandalone);
  EXPECT_EQ(script->resets(), 1) << "the cancelled check's connection was dropped";
}

TEST_F(MonitorFixture, MonitorCancelBetweenChecksDropsTheConnectionBeforeTheNext) {
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->cancel_check();
  monitor->request_check();
  ASSERT_TRUE(listener->wait_descriptions(2));
  EXPECT_EQ(script->resets(), 1) << "the connection used before the cancel is not reused";
  EXPECT_EQ(listener->description(1).type, ServerType::kStandalone);
}

TEST_F(MonitorFixture, MonitorStopsWhenListenerIsGone) {
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  std::weak_ptr<RecordingListener> weak = listener;
  listener.reset();
  // The monitor holds the listener only during a callback; the one in progress ends shortly.
  for (int i = 0; i < 10'000 && !weak.expired(); ++i) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(weak.expired()) << "the monitor must not keep its listener alive";
  monitor->request_check();  // wakes it; the target sees no listener and stops the executor
  EXPECT_TRUE(monitor->join(10s));
  EXPECT_FALSE(monitor->is_running());
  EXPECT_EQ(script->checks(), 1) << "no check without a listener";
}

TEST_F(MonitorFixture, MonitorCloseWhileCheckBlocksEndsTheThread) {
  script->push(Step::block());
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  monitor->close();
  EXPECT_EQ(script->interrupts(), 1);
  EXPECT_TRUE(monitor->join(10s)) << "close() must interrupt the blocked check";
  EXPECT_EQ(listener->description_count(), 0u) << "an interrupted check reports nothing";
}

TEST_F(MonitorFixture, MonitorDestroyedOnItsOwnThreadFromACallback) {
  // What happens when the topology's last reference drops inside a monitor callback: the
  // Monitor is destroyed on its own thread. It must neither join itself nor touch freed state.
  script->push(Step::reply_json(testing::standalone_hello()));
  std::unique_ptr<Monitor> monitor = make();
  std::mutex m;
  listener->after_description = [&] {
    std::lock_guard lock(m);
    monitor.reset();
  };
  {
    std::lock_guard lock(m);
    monitor->open();
  }
  ASSERT_TRUE(script->wait_for([&] { return script->checker_destroyed(); }))
      << "the thread ended and released the checker";
  EXPECT_EQ(script->checks(), 1);
}

TEST_F(MonitorFixture, MonitorAwaitedChecksFollowEachOtherWithoutTheHeartbeat) {
  // The heartbeat is an hour: every check after the first comes from the streaming rule.
  script->push(Step::reply_json(testing::standalone_hello()));
  Step streamed = Step::reply_json(testing::standalone_hello()).as_awaited();
  streamed.rtt = 500ms;  // what an awaited check lasts says nothing of the network
  script->push(streamed);
  script->push(streamed);
  script->push(Step::block().as_awaited());
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(3));
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(listener->description(i).round_trip_time, std::chrono::nanoseconds(1ms))
        << "awaited replies are no RTT samples";
  }
  {
    std::lock_guard lock(listener->mutex);
    EXPECT_EQ(listener->started_awaited, (std::vector<bool>{false, true, true, true}));
    EXPECT_EQ(listener->succeeded_awaited, (std::vector<bool>{false, true, true}));
  }
  monitor->close();
  EXPECT_TRUE(monitor->join(10s)) << "close() interrupts the awaited check";
}

TEST_F(MonitorFixture, MonitorFailedAwaitedCheckGivesUnknownThenOneRetryThatIsNotAwaited) {
  script->push(Step::reply_json(testing::standalone_hello()));
  script->push(Step::fail("stream broken by fake").as_awaited());
  script->push(Step::reply_json(testing::standalone_hello()));  // the retry: a new handshake
  script->push(Step::block());
  auto monitor = make();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(3));
  EXPECT_EQ(listener->description(1).type, ServerType::kUnknown);
  EXPECT_EQ(listener->description(2).type, ServerType::kStandalone);
  EXPECT_GE(script->resets(), 1) << "the streaming connection is discarded";
  std::lock_guard lock(listener->mutex);
  EXPECT_EQ(listener->started_awaited[1], true);
  EXPECT_EQ(listener->started_awaited[2], false);
}

TEST_F(MonitorFixture, MonitorRttMonitorStartsWithStreamingAndItsSamplesReachTheDescription) {
  script->push(Step::reply_json(testing::standalone_hello()));  // 1 ms, then streaming
  script->push(Step::gate(testing::standalone_hello()).as_awaited());
  script->push(Step::block().as_awaited());
  Step sample = Step::reply_json(testing::standalone_hello());
  sample.rtt = 41ms;
  rtt_script->push(sample);
  rtt_script->push(Step::block());  // the second RTT check: proves the first one was recorded
  // A short heartbeat, so the RTT monitor's second check comes; the monitor's own checks are
  // awaited (gate, block) and never wait for it.
  auto monitor = make_with_rtt({.heartbeat_frequency = 1ms, .min_heartbeat_frequency = 1ms});
  monitor->open();
  ASSERT_TRUE(rtt_script->wait_for([&] { return rtt_script->blocked(); }));
  EXPECT_TRUE(monitor->rtt_monitor_running());
  script->open_gate();
  ASSERT_TRUE(listener->wait_descriptions(2));
  EXPECT_EQ(listener->description(0).round_trip_time, std::chrono::nanoseconds(1ms));
  // The moving average of 1 ms (the handshake) and 41 ms (the RTT monitor): 1 + 0.2 * 40 ms.
  EXPECT_EQ(listener->description(1).round_trip_time, std::chrono::nanoseconds(9ms));
  // The monitor's third check (the block) has begun, so its heartbeat-started is counted: any
  // count above 3 would be the RTT monitor's.
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  {
    std::lock_guard lock(listener->mutex);
    EXPECT_EQ(listener->started, 3) << "the RTT monitor's checks publish no heartbeat";
  }
  monitor->close();
  EXPECT_TRUE(monitor->join(10s)) << "both threads end: their checks are interrupted";
  EXPECT_EQ(rtt_script->interrupts(), 1);
  EXPECT_FALSE(monitor->rtt_monitor_running());
}

TEST_F(MonitorFixture, MonitorRttMonitorIsNotStartedWhilePolling) {
  script->push(Step::reply_json(testing::standalone_hello()));
  auto monitor = make_with_rtt();
  monitor->open();
  ASSERT_TRUE(listener->wait_descriptions(1));
  monitor->request_check();
  ASSERT_TRUE(listener->wait_descriptions(2));
  settle();
  EXPECT_FALSE(monitor->rtt_monitor_running());
  EXPECT_EQ(rtt_script->checks(), 0);
}

TEST_F(MonitorFixture, MonitorDestroyedWhileBothItsChecksBlock) {
  script->push(Step::reply_json(testing::standalone_hello()));
  script->push(Step::block().as_awaited());
  rtt_script->push(Step::block());
  auto monitor = make_with_rtt();
  monitor->open();
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  ASSERT_TRUE(rtt_script->wait_for([&] { return rtt_script->blocked(); }));
  monitor.reset();  // closes, interrupts and joins both
  EXPECT_GE(script->interrupts(), 1);
  EXPECT_GE(rtt_script->interrupts(), 1);
  EXPECT_TRUE(rtt_script->checker_destroyed());
}

TEST_F(MonitorFixture, MonitorCloseBeforeOpenIsHarmless) {
  auto monitor = make();
  monitor->close();
  EXPECT_FALSE(monitor->is_running());
  EXPECT_EQ(script->checks(), 0);
}

}  // namespace
}  // namespace mongoslice
