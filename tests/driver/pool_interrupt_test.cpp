// Every wait of a pooled operation can be broken from another thread without a lock (DESIGN.md
// invariant 2): the wait for a free connection, a new connection's handshake, a read on a
// checked-out connection. And the event gate that keeps listeners quiet after close().

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "driver/events.hpp"
#include "net/connection_pool.hpp"
#include "net/operation_interrupt.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackPeer;
using testing::PeerStream;

bson::Document ping() {
  return bson::Builder{}.append("ping", 1).build();
}

// A server that answers the handshake and then never answers again.
LoopbackPeer::Script answers_hello_then_hangs() {
  return [](PeerStream& s) {
    auto hello = s.read_message();
    s.write(testing::reply_to(hello, testing::standard_hello_reply()));
    s.wait_for_close();
  };
}

template <typename Pred>
bool eventually(Pred done) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::error_code code_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.code();
  }
  return {};
}

TEST(PoolInterrupt, AWaitForAFreeConnectionEndsOnInterrupt) {
  LoopbackPeer peer(testing::healthy_server(0));
  auto pool = ConnectionPool::create(peer.address(), {.max_size = 1, .wait_timeout = 30s});
  pool->ready();                // a pool starts paused (CMAP); its monitor would ready it
  auto held = pool->acquire();  // the only connection
  OperationInterrupt interrupt;
  auto waiting =
      std::async(std::launch::async, [&] { return code_of([&] { pool->acquire(&interrupt); }); });
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout) << "it should be waiting";
  const auto started = std::chrono::steady_clock::now();
  interrupt.interrupt();
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready) << "the wait was not broken";
  EXPECT_EQ(waiting.get(), make_error_code(errc::interrupted));
  std::cout << "[ wait broken after "
            << std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " us ]\n";
}

TEST(PoolInterrupt, AnInterruptBeforeTheWaitIsNotLost) {
  LoopbackPeer peer(testing::healthy_server(0));
  auto pool = ConnectionPool::create(peer.address(), {.max_size = 1, .wait_timeout = 30s});
  pool->ready();  // a pool starts paused (CMAP); its monitor would ready it
  auto held = pool->acquire();
  OperationInterrupt interrupt;
  interrupt.interrupt();
  EXPECT_EQ(code_of([&] { pool->acquire(&interrupt); }), make_error_code(errc::interrupted));
}

TEST(PoolInterrupt, AHandshakeThatNeverAnswersEndsOnInterrupt) {
  LoopbackPeer peer([](PeerStream& s) { s.wait_for_close(); });  // reads nothing, says nothing
  auto pool = ConnectionPool::create(peer.address(), {.max_size = 1, .wait_timeout = 30s});
  pool->ready();  // a pool starts paused (CMAP); its monitor would ready it
  OperationInterrupt interrupt;
  auto connecting =
      std::async(std::launch::async, [&] { return code_of([&] { pool->acquire(&interrupt); }); });
  EXPECT_EQ(connecting.wait_for(200ms), std::future_status::timeout);
  interrupt.interrupt();
  ASSERT_EQ(connecting.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(connecting.get(), make_error_code(errc::interrupted));
  EXPECT_EQ(pool->total_count(), 0u) << "the slot is given back";
}

TEST(PoolInterrupt, ALimitBoundsTheWaitAndNamesItself) {
  LoopbackPeer peer(testing::healthy_server(0));
  auto pool = ConnectionPool::create(peer.address(), {.max_size = 1, .wait_timeout = 30s});
  pool->ready();  // a pool starts paused (CMAP); its monitor would ready it
  auto held = pool->acquire();
  try {
    pool->acquire(nullptr, Deadline::after(100ms, "the caller's limit"));
    FAIL() << "acquire should time out";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::timeout));
    EXPECT_NE(std::string(e.what()).find("the caller's limit"), std::string::npos) << e.what();
  }
}

TEST(PoolInterrupt, CloseBreaksAnOperationInFlightAndWakesWaiters) {
  LoopbackPeer peer(answers_hello_then_hangs());
  auto pool = ConnectionPool::create(peer.address(), {.max_size = 1, .wait_timeout = 30s});
  pool->ready();  // a pool starts paused (CMAP); its monitor would ready it
  auto in_flight = std::async(std::launch::async, [&] {
    return code_of([&] {
      auto lease = pool->acquire();
      lease->run_command("admin", ping().view());  // never answered
    });
  });
  ASSERT_TRUE(eventually([&] { return pool->total_count() == 1; }));
  std::this_thread::sleep_for(100ms);  // the command is sent and its read blocks
  auto waiter = std::async(std::launch::async, [&] { return code_of([&] { pool->acquire(); }); });
  EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout);
  pool->close();
  ASSERT_EQ(in_flight.wait_for(5s), std::future_status::ready) << "the read was not broken";
  EXPECT_EQ(in_flight.get(), make_error_code(errc::interrupted));
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready) << "the waiter was not woken";
  EXPECT_EQ(waiter.get(), make_error_code(errc::client_closed));
}

struct CountingListener : EventListener {
  std::atomic<int> calls{0};
  std::atomic<bool> inside{false};
  std::atomic<bool> release{false};
  void on(const ServerOpeningEvent&) override {
    ++calls;
    inside.store(true);
    while (!release.load()) std::this_thread::sleep_for(1ms);
  }
  void on(const TopologyOpeningEvent&) override { ++calls; }
};

TEST(EventDispatcherGate, CloseWaitsForACallInProgressAndSilencesLaterOnes) {
  auto listener = std::make_shared<CountingListener>();
  EventDispatcher events({listener});
  const HostAndPort address{"h", 1};
  std::thread emitter([&] { events.emit(ServerOpeningEvent{address}); });
  while (!listener->inside.load()) std::this_thread::yield();
  auto closing = std::async(std::launch::async, [&] { events.close(); });
  EXPECT_EQ(closing.wait_for(200ms), std::future_status::timeout)
      << "close() returned while a listener call was in progress";
  listener->release.store(true);
  ASSERT_EQ(closing.wait_for(5s), std::future_status::ready);
  emitter.join();
  events.emit(TopologyOpeningEvent{});
  EXPECT_EQ(listener->calls.load(), 1) << "a listener was called after close()";
}

struct SelfClosingListener : EventListener {
  const EventDispatcher* events = nullptr;
  void on(const TopologyOpeningEvent&) override { events->close(); }
};

TEST(EventDispatcherGate, CloseFromInsideAListenerDoesNotWaitForItself) {
  auto listener = std::make_shared<SelfClosingListener>();
  EventDispatcher events({listener});
  listener->events = &events;
  auto emitting = std::async(std::launch::async, [&] { events.emit(TopologyOpeningEvent{}); });
  EXPECT_EQ(emitting.wait_for(5s), std::future_status::ready) << "close() waited for itself";
}

}  // namespace
}  // namespace mongoslice
