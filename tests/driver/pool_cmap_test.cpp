// The CMAP pool through the client (its events reach a ClientOptions listener; SDAM pauses the
// pool and a check readies it again) and the cases the spec's files leave to prose: a failed
// handshake is a checkout's connectionError, and clear(interruptInUseConnections) breaks an
// operation in flight while a plain clear() leaves it alone.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "driver/mongo_client.hpp"
#include "driver/pool_maintainer.hpp"
#include "net/async_connection_pool.hpp"
#include "net/connection_pool.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

// CMAP events as "Kind" or "Kind:reason", in order.
class CmapRecorder final : public EventListener, public PoolEventListener {
 public:
  void on(const PoolCreatedEvent&) override { add("PoolCreated"); }
  void on(const PoolReadyEvent&) override { add("PoolReady"); }
  void on(const PoolClearedEvent&) override { add("PoolCleared"); }
  void on(const PoolClosedEvent&) override { add("PoolClosed"); }
  void on(const ConnectionCreatedEvent&) override { add("ConnectionCreated"); }
  void on(const ConnectionReadyEvent&) override { add("ConnectionReady"); }
  void on(const ConnectionClosedEvent& e) override {
    add(std::string("ConnectionClosed:") + to_string(e.reason));
  }
  void on(const ConnectionCheckOutStartedEvent&) override { add("CheckOutStarted"); }
  void on(const ConnectionCheckOutFailedEvent& e) override {
    add(std::string("CheckOutFailed:") + to_string(e.reason));
  }
  void on(const ConnectionCheckedOutEvent&) override { add("CheckedOut"); }
  void on(const ConnectionCheckedInEvent&) override { add("CheckedIn"); }
  void on_pool_event(const PoolEvent& e) noexcept override {
    std::string text = to_string(e.kind);
    if (e.kind == PoolEventKind::kConnectionClosed)
      text += std::string(":") + to_string(e.closed_reason);
    if (e.kind == PoolEventKind::kCheckOutFailed)
      text += std::string(":") + to_string(e.failed_reason);
    add(text);
  }

  bool wait_for(const std::string& event, std::size_t count = 1) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] {
      return static_cast<std::size_t>(std::count(events_.begin(), events_.end(), event)) >= count;
    });
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  void add(std::string event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
};

// `expected` appears in `events` in this order (other events may come between).
::testing::AssertionResult in_order(const std::vector<std::string>& events,
                                    const std::vector<std::string>& expected) {
  auto at = events.begin();
  for (const auto& e : expected) {
    at = std::find(at, events.end(), e);
    if (at == events.end()) {
      std::string all;
      for (const auto& x : events) all += x + " ";
      return ::testing::AssertionFailure() << e << " missing (in order) from: " << all;
    }
    ++at;
  }
  return ::testing::AssertionSuccess();
}

// A standalone whose first find is answered with `find_reply`; everything else succeeds.
struct Standalone {
  explicit Standalone(bson::Document find_reply)
      : reply(std::move(find_reply)), server([this](testing::PeerStream& s, int) { serve(s); }) {}
  void serve(testing::PeerStream& s) {
    for (;;) {
      auto request = s.read_message();
      const std::string name = testing::command_name_of(request);
      if (name == "find" && !failed.exchange(true)) {
        s.write(testing::reply_to(request, reply));
      } else if (name == "hello" || name == "isMaster" || name == "ismaster") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
      } else {
        s.write(testing::reply_to(request, bson::Builder{}.append("ok", 1.0).build()));
      }
    }
  }
  bson::Document reply;
  std::atomic<bool> failed{false};
  testing::LoopbackServer server;
};

TEST(PoolCmap, AClientsListenerSeesItsPoolsEventsAndAShutdownErrorPausesThePoolUntilACheck) {
  Standalone scripted(bson::Document::from_json(
      R"({"ok": 0, "code": 91, "codeName": "ShutdownInProgress", "errmsg": "shutting down"})"));
  auto recorder = std::make_shared<CmapRecorder>();
  {
    MongoClient client("mongodb://" + scripted.server.address().to_string() +
                           "/?directConnection=true&serverSelectionTimeoutMS=5000"
                           "&heartbeatFrequencyMS=60000&retryReads=false",
                       {.listeners = {recorder}});
    EXPECT_THROW(client["db"]["c"].find(bson::Document::from_json("{}")), ServerError);
    // The error cleared (paused) the pool; the check it requested readied it again, long
    // before the one-minute heartbeat.
    ASSERT_TRUE(recorder->wait_for("PoolReady", 2));
    client["db"].run_command(bson::Builder{}.append("ping", 1).build());
  }
  EXPECT_TRUE(
      in_order(recorder->events(),
               {"PoolCreated", "PoolReady", "CheckOutStarted", "ConnectionCreated",
                "ConnectionReady", "CheckedOut", "PoolCleared", "CheckedIn",
                "ConnectionClosed:stale", "PoolReady", "CheckOutStarted", "ConnectionCreated",
                "CheckedOut", "CheckedIn", "ConnectionClosed:poolClosed", "PoolClosed"}));
}

TEST(PoolCmap, AFailedHandshakeIsAConnectionErrorOfTheCheckout) {
  testing::LoopbackPeer peer([](testing::PeerStream& s) {
    auto hello = s.read_message();
    s.write(testing::reply_to(
        hello, bson::Document::from_json(R"({"ok": 0, "code": 18, "errmsg": "no"})")));
    s.wait_for_close();
  });
  auto recorder = std::make_shared<CmapRecorder>();
  auto pool = ConnectionPool::create(peer.address(), {.events = recorder});
  std::atomic<int> reported{0};
  pool->set_establishment_error_handler(
      [&](std::uint64_t, const std::exception&) { reported.fetch_add(1); });
  pool->ready();
  EXPECT_THROW(pool->acquire(), ServerError);
  EXPECT_EQ(reported.load(), 1) << "SDAM is told of the failed establishment";
  EXPECT_EQ(pool->total_count(), 0u);
  EXPECT_TRUE(in_order(
      recorder->events(),
      {"ConnectionPoolCreated", "ConnectionPoolReady", "ConnectionCheckOutStarted",
       "ConnectionCreated", "ConnectionClosed:error", "ConnectionCheckOutFailed:connectionError"}));
}

// A server that answers the handshake, then reads commands and never answers them.
testing::LoopbackServer::Script answers_hello_then_hangs() {
  return [](testing::PeerStream& s, int) {
    auto hello = s.read_message();
    s.write(testing::reply_to(hello, testing::standard_hello_reply()));
    s.read_message();
    s.wait_for_close();
  };
}

std::error_code code_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.code();
  }
  return {};
}

TEST(PoolCmap, ClearInterruptingInUseConnectionsBreaksAnOperationInFlight) {
  testing::LoopbackServer server(answers_hello_then_hangs());
  auto recorder = std::make_shared<CmapRecorder>();
  auto pool = ConnectionPool::create(server.address(), {.events = recorder});
  pool->ready();
  const bson::Document ping = bson::Builder{}.append("ping", 1).build();
  std::atomic<bool> sent{false};
  auto in_flight = std::async(std::launch::async, [&] {
    return code_of([&] {
      auto lease = pool->acquire();
      sent = true;
      lease->run_command("admin", ping.view());  // never answered
    });
  });
  ASSERT_TRUE(recorder->wait_for("ConnectionCheckedOut"));
  std::this_thread::sleep_for(100ms);  // the command is sent and its read blocks
  pool->clear(/*interrupt_in_use_connections=*/false);
  EXPECT_EQ(in_flight.wait_for(200ms), std::future_status::timeout)
      << "a plain clear() leaves operations in flight alone";
  pool->ready();
  pool->clear(/*interrupt_in_use_connections=*/true);
  ASSERT_EQ(in_flight.wait_for(5s), std::future_status::ready) << "the read was not broken";
  EXPECT_EQ(in_flight.get(), make_error_code(errc::interrupted));
  // Given back after a clear: stale.
  EXPECT_TRUE(recorder->wait_for("ConnectionClosed:stale"));
  // Paused now: a checkout fails at once, as the retry rules expect.
  EXPECT_EQ(code_of([&] { pool->acquire(); }), make_error_code(errc::pool_cleared));
}

boost::asio::awaitable<std::uint64_t> checkout_generation(std::shared_ptr<AsyncConnectionPool> pool,
                                                          boost::asio::any_io_executor executor) {
  auto lease = co_await pool->checkout(executor);
  co_return lease.generation();
}

TEST(PoolCmap, TheAsyncPoolHandsOutNothingWhileItsTwinIsPaused) {
  testing::LoopbackServer server(answers_hello_then_hangs());
  auto twin = ConnectionPool::create(server.address(), {});
  auto pool = AsyncConnectionPool::create(twin);
  boost::asio::io_context io;
  auto attempt = [&] {
    return code_of([&] {
      auto future = boost::asio::co_spawn(io, checkout_generation(pool, io.get_executor()),
                                          boost::asio::use_future);
      io.run();
      io.restart();
      future.get();
    });
  };
  EXPECT_EQ(attempt(), make_error_code(errc::pool_cleared)) << "created paused";
  twin->ready();
  EXPECT_EQ(attempt(), std::error_code()) << "ready: a connection is made";
  twin->clear();
  EXPECT_EQ(attempt(), make_error_code(errc::pool_cleared)) << "cleared: paused again";
  // The engine's fast path (no checkout operation) refuses too, rather than saying "no idle
  // connection" and leaving the refusal to the checkout that follows.
  EXPECT_EQ(code_of([&] { (void)pool->try_checkout(io.get_executor()); }),
            make_error_code(errc::pool_cleared));
  pool->close();
}

// ---- the async pool's wait queue: a wake and a cancellation ending the same wait ------------

// How one async_checkout ended: its error (none when it got a connection) and the connection,
// kept so that it goes back only when the test ends.
struct CheckoutOutcome {
  bool done = false;
  std::error_code code;
  AsyncConnectionPool::Lease lease;
};

// A pool of one connection (maxPoolSize=1) whose connection `held` has, on a single-threaded
// io_context that runs only when the test says, so that a wake and a cancellation can be made
// to land between the same two turns of the queued checkout.
struct OneConnectionPool {
  OneConnectionPool()
      : server(standard_server()),
        twin(ConnectionPool::create(server.address(),
                                    {.max_size = 1, .wait_timeout = std::chrono::seconds(5)})),
        pool(AsyncConnectionPool::create(twin)) {
    twin->ready();
    pool->async_checkout(io.get_executor(),
                         [this](std::exception_ptr failure, AsyncConnectionPool::Lease lease) {
                           if (!failure) held = std::move(lease);
                         });
    io.run();
    io.restart();
  }
  ~OneConnectionPool() {
    held = {};
    pool->close();
  }
  static testing::LoopbackServer::Script standard_server() {
    return [](testing::PeerStream& s, int) {
      for (;;) {
        auto request = s.read_message();
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
      }
    };
  }
  // Queues a checkout (the connection is held, so it waits), cancellable through `slot`.
  void queue(CheckoutOutcome& outcome, boost::asio::cancellation_slot slot = {}) {
    pool->async_checkout(io.get_executor(), boost::asio::bind_cancellation_slot(
                                                slot, [&outcome](std::exception_ptr failure,
                                                                 AsyncConnectionPool::Lease lease) {
                                                  outcome.done = true;
                                                  outcome.lease = std::move(lease);
                                                  outcome.code = code_of([&] {
                                                    if (failure) std::rethrow_exception(failure);
                                                  });
                                                }));
  }

  testing::LoopbackServer server;
  std::shared_ptr<ConnectionPool> twin;
  std::shared_ptr<AsyncConnectionPool> pool;
  boost::asio::io_context io;  // destroyed first: its guard frees the idle connection
  AsyncConnectionPool::Lease held;
};

// The connection comes back (waking the first in line) and that checkout is cancelled before it
// runs: it completes with the cancellation, not the connection, and the wake it did not use
// goes to the next in line, which gets the connection (not waitQueueTimeoutMS's pool_timeout).
TEST(AsyncPoolQueue, ACheckoutWokenAndCancelledAtOnceIsCancelledAndPassesTheWakeOn) {
  OneConnectionPool fixture;
  ASSERT_TRUE(fixture.held);
  boost::asio::cancellation_signal signal;
  CheckoutOutcome first, second;
  fixture.queue(first, signal.slot());
  fixture.queue(second);
  ASSERT_EQ(fixture.pool->waiter_count(), 2u);
  fixture.held = {};                                      // back: wakes `first`
  signal.emit(boost::asio::cancellation_type::terminal);  // and `first` is cancelled
  fixture.io.run();
  ASSERT_TRUE(first.done && second.done);
  // ECANCELED, as every cancelled step of the engine (== asio::error::operation_aborted).
  EXPECT_TRUE(first.code == std::errc::operation_canceled) << first.code.message();
  EXPECT_FALSE(first.lease);
  EXPECT_EQ(second.code, std::error_code()) << second.code.message();
  EXPECT_TRUE(second.lease);
}

// The same, with the connection taken again (the engine's fast path) before the woken checkout
// runs, so that looking again it would have to wait once more: it completes with the
// cancellation now, not at waitQueueTimeoutMS with pool_timeout.
TEST(AsyncPoolQueue, ACheckoutWokenAndCancelledAtOnceDoesNotWaitAgain) {
  OneConnectionPool fixture;
  ASSERT_TRUE(fixture.held);
  boost::asio::cancellation_signal signal;
  CheckoutOutcome queued;
  fixture.queue(queued, signal.slot());
  ASSERT_EQ(fixture.pool->waiter_count(), 1u);
  fixture.held = {};
  signal.emit(boost::asio::cancellation_type::terminal);
  std::optional<AsyncConnectionPool::Lease> taken =
      fixture.pool->try_checkout(fixture.io.get_executor());
  ASSERT_TRUE(taken && *taken) << "the connection that came back is idle until the wake runs";
  fixture.io.run();
  ASSERT_TRUE(queued.done);
  EXPECT_TRUE(queued.code == std::errc::operation_canceled) << queued.code.message();
  EXPECT_EQ(fixture.pool->waiter_count(), 0u);
}

// ---- background maintenance (driver/pool_maintainer.hpp) -------------------------------------

// Waits (bounded) until `done` holds; the condition, not the time, is what is asserted.
bool eventually(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(PoolMaintenance, AConnectionIdlePastMaxIdleTimeIsClosedWithoutACheckout) {
  testing::LoopbackServer server(answers_hello_then_hangs());
  auto maintainer = PoolMaintainer::create();
  PoolOptions options;
  options.max_idle_time = std::chrono::milliseconds(50);
  options.maintenance = maintainer;
  auto pool = ConnectionPool::create(server.address(), options);
  maintainer->add(pool);
  maintainer->open();
  pool->ready();
  { auto lease = pool->acquire(); }  // returned: idle, its deadline 50 ms away
  ASSERT_EQ(pool->idle_count(), 1u);
  // Nothing checks out again: only the maintenance can close it.
  EXPECT_TRUE(eventually([&] { return pool->total_count() == 0; }));
  pool->close();
  maintainer->close();
  EXPECT_TRUE(maintainer->join(std::chrono::seconds(10)));
}

TEST(PoolMaintenance, MinPoolSizeIsRefilledAfterAConnectionIsDiscarded) {
  testing::LoopbackServer server([](testing::PeerStream& s, int) {
    auto hello = s.read_message();
    s.write(testing::reply_to(hello, testing::standard_hello_reply()));
    s.wait_for_close();
  });
  auto maintainer = PoolMaintainer::create();
  PoolOptions options;
  options.min_size = 3;
  options.maintenance = maintainer;
  auto pool = ConnectionPool::create(server.address(), options);
  maintainer->add(pool);
  maintainer->open();
  EXPECT_EQ(pool->total_count(), 0u) << "paused: nothing is established";
  pool->ready();
  ASSERT_TRUE(eventually([&] { return pool->idle_count() == 3; }));
  {
    auto lease = pool->acquire();
    lease.discard();  // 2 left: the maintenance makes a third
  }
  EXPECT_TRUE(eventually([&] { return pool->idle_count() == 3; }));
  EXPECT_EQ(pool->total_count(), 3u);
  pool->close();
  maintainer->close();
  EXPECT_TRUE(maintainer->join(std::chrono::seconds(10)));
}

TEST(PoolMaintenance, CloseEndsEstablishmentsBlockedInTheirHandshakes) {
  std::atomic<int> handshakes{0};
  testing::LoopbackServer server([&](testing::PeerStream& s, int) {
    s.read_message();  // the hello, never answered
    ++handshakes;
    s.wait_for_close();
  });
  auto maintainer = PoolMaintainer::create();
  PoolOptions options;
  options.min_size = 2;
  options.connection.connect_timeout = std::chrono::seconds(60);  // only the interrupt ends it
  options.maintenance = maintainer;
  auto pool = ConnectionPool::create(server.address(), options);
  maintainer->add(pool);
  maintainer->open();
  pool->ready();
  ASSERT_TRUE(eventually([&] { return handshakes.load() == 2; })) << "both establish at once";
  maintainer->close();  // the interrupt hook alone (the pool stays open)
  EXPECT_TRUE(maintainer->join(std::chrono::seconds(10)));
  EXPECT_EQ(pool->idle_count(), 0u);
  EXPECT_EQ(pool->total_count(), 0u) << "the interrupted slots were released";
  pool->close();
}

}  // namespace
}  // namespace mongoslice
